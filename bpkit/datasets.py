"""Small data sets generated in code (no downloads)."""

from __future__ import annotations

import numpy as np

__all__ = ["xor"]


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR examples.

    Returns
    -------
    X : ndarray, shape (4, 2)
        Rows (0, 0), (0, 1), (1, 0), (1, 1), as float64.
    Y : ndarray, shape (4, 1)
        Targets 0, 1, 1, 0.
    """
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return X, Y
