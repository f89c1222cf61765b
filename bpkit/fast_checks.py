"""Speed only: finiteness and range tests with a shortcut for small arrays.

One of the three ``bpkit/fast_*.py`` modules, which exist only for speed; a reader of the
book can skip them (the API page says so).

``np.isfinite(arr).all()`` costs two numpy calls, which for the 4-row XOR batch is a
noticeable part of a whole training step.  For a few entries, summing a Python list (one
C call) is cheaper: the sum is finite when every entry is, so only a non-finite sum (NaN,
inf, or finite values whose sum overflows) needs the exact test.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["all_finite", "in_unit_interval"]

#: Arrays with at most this many entries take the list shortcut.
SMALL = 64


def all_finite(arr: np.ndarray) -> bool:
    """``np.isfinite(arr).all()``, faster on small arrays."""
    if arr.size <= SMALL:
        return math.isfinite(sum(arr.ravel().tolist())) or bool(np.isfinite(arr).all())
    return bool(np.isfinite(arr).all())


def in_unit_interval(arr: np.ndarray) -> bool:
    """True when every entry is in [0, 1]; NaN fails, so this also tests finiteness."""
    if arr.size <= SMALL:
        values = arr.ravel().tolist()
        return min(values) >= 0.0 and max(values) <= 1.0 and not math.isnan(sum(values))
    return bool(np.min(arr) >= 0.0) and bool(np.max(arr) <= 1.0)
