"""Small data sets generated in code (no downloads)."""

from __future__ import annotations

import numpy as np

from ._validate import check_int

__all__ = ["xor", "delayed_xor"]


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


def _check_delayed_xor(n, T, delay, seed):
    check_int("n", n, 1)
    check_int("delay", delay, 1)
    check_int("T", T, 1)
    if T <= delay:
        raise ValueError(f"T must be > delay (at least one step with a target), "
                         f"got T={T}, delay={delay}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} ({seed!r})")


def delayed_xor(n: int, T: int, delay: int, seed: int = 0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Delayed XOR: a stream of random bits, target :math:`y_t = x_t \oplus x_{t-d}`.

    The static XOR of the first chapters, spread over time: to answer at step t the
    network must remember the bit it read ``delay`` (:math:`d`) steps earlier, so
    ``delay`` sets the memory length (for the truncation and vanishing-gradient
    experiments).  0-based code indices: ``Y[:, t] = X[:, t] XOR X[:, t - delay]`` for
    ``t >= delay``.

    The first ``delay`` steps have no defined target: ``Y`` is 0 there and ``mask`` is
    False, so loss and accuracy ignore them.

    Parameters
    ----------
    n : int >= 1
        Number of sequences.
    T : int > delay
        Steps per sequence.
    delay : int >= 1
        How far back the second operand of the XOR lies.
    seed : int
        Seed of ``np.random.default_rng``; the bits are ``rng.integers(0, 2, (n, T, 1))``.

    Returns
    -------
    X : ndarray of float64, shape (n, T, 1)
        Random bits 0.0/1.0.
    Y : ndarray of float64, shape (n, T, 1)
        Targets 0.0/1.0 (0.0 at the first ``delay`` steps).
    mask : ndarray of bool, shape (n, T)
        False for the first ``delay`` steps, True after.
    """
    _check_delayed_xor(n, T, delay, seed)
    bits = np.random.default_rng(seed).integers(0, 2, (n, T, 1))
    X = bits.astype(np.float64)
    Y = np.zeros((n, T, 1))
    Y[:, delay:] = bits[:, delay:] ^ bits[:, :-delay]
    mask = np.zeros((n, T), dtype=bool)
    mask[:, delay:] = True
    return X, Y, mask
