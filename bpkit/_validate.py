"""Cheap input checks shared by every public bpkit function.

Each check raises ``TypeError`` (wrong kind of object or non-numeric data) or
``ValueError`` (wrong shape, empty, NaN/inf, unknown option) with a message that
names the argument, says what was expected and what came.  The checks are
written for small arrays: a handful of attribute look-ups and one reduction,
so that validating a 4-sample XOR batch costs far less than the step itself.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

__all__ = ["as_array", "check_shape", "check_option", "check_positive", "is_f64", "all_finite",
           "raise_nonfinite", "in_unit_interval"]

_NUMERIC_KINDS = frozenset("biuf")
_F64 = np.dtype(np.float64)
_SMALL = 64
_MIN, _MAX = np.minimum.reduce, np.maximum.reduce


def is_f64(value: Any, ndim: int) -> bool:
    """True for a native float64 ndarray with ``ndim`` dimensions (the fast path)."""
    return type(value) is np.ndarray and value.dtype is _F64 and value.ndim == ndim


def all_finite(arr: np.ndarray) -> bool:
    """``np.isfinite(arr).all()``, with a fast path for small arrays.

    For a few entries, the sum of a Python list (one C call) is cheaper than two numpy
    calls; it is finite when every entry is, and only when it is not (NaN, inf, or an
    overflowing sum of huge values) is the exact test run.
    """
    if arr.size <= _SMALL:  # a C-level list sum beats a numpy reduction on a few entries
        return math.isfinite(sum(arr.ravel().tolist())) or bool(np.isfinite(arr).all())
    return bool(np.isfinite(arr).all())


def in_unit_interval(arr: np.ndarray) -> bool:
    """True when every entry is in [0, 1] (NaN fails, so this also checks finiteness)."""
    if arr.size <= _SMALL:
        values = arr.ravel().tolist()
        return min(values) >= 0.0 and max(values) <= 1.0 and not math.isnan(sum(values))
    return bool(_MIN(arr, None) >= 0.0) and bool(_MAX(arr, None) <= 1.0)


def raise_nonfinite(name: str, arr: np.ndarray) -> None:
    """Raise the ValueError for an array that holds NaN or inf."""
    bad = "NaN" if np.isnan(arr).any() else "inf"
    raise ValueError(f"{name} must be finite, got an array containing {bad}")


def _shape_str(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(name: str, value: Any, ndim: int | tuple[int, ...] | None = None,
             *, finite: bool = True, allow_empty: bool = False) -> np.ndarray:
    """Return ``value`` as a float64 array after checking it.

    Parameters
    ----------
    name
        The argument's name, used in error messages.
    value
        Anything ``np.asarray`` accepts; bools and integers are converted to float64.
    ndim
        Required number of dimensions (or a tuple of allowed ones); ``None`` for any.
    finite
        Reject NaN and +/-inf.
    allow_empty
        Accept arrays with a zero-length axis.
    """
    if type(value) is np.ndarray and value.dtype is _F64:
        arr = value
    else:
        if isinstance(value, (str, bytes)) or value is None:
            raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} must be a numeric array, got {type(value).__name__} "
                            f"that numpy cannot convert ({exc})") from None
        if arr.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"{name} must hold real numbers (bool, int or float), "
                            f"got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D array "
                             f"of shape {_shape_str(arr.shape)}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {_shape_str(arr.shape)}")
    if finite and not all_finite(arr):
        raise_nonfinite(name, arr)
    return arr


def check_shape(name: str, arr: np.ndarray, expected: tuple, why: str = "") -> None:
    """Raise ValueError unless ``arr.shape == expected`` (``None`` entries match anything)."""
    shape = arr.shape
    if len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape)):
        return
    want = "(" + ", ".join("any" if e is None else str(e) for e in expected) + \
           ("," if len(expected) == 1 else "") + ")"
    extra = f" ({why})" if why else ""
    raise ValueError(f"{name} must have shape {want}{extra}, got {_shape_str(shape)}")


def check_option(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Raise ValueError unless ``value`` is one of ``allowed`` (TypeError if not a str)."""
    allowed = tuple(allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {allowed}, got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> float:
    """Check a scalar hyper-parameter (learning rate, epochs, eps...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        kind = "an int" if integer else "a real number"
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__}")
    if integer and not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return value
