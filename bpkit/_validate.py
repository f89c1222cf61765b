"""Input checks at the boundary of every public bpkit function (a reader can skip this file).

Each check raises ``TypeError`` (wrong kind of object or non-numeric data) or
``ValueError`` (wrong shape, empty, NaN/inf, out of range, unknown option) with a message
that names the argument, says what was expected and what came.

A public function is validated in one visible place, either its first line
(``x, W, b = _check_dense(x, W, b)``) or the decorator :func:`checked`, which keeps the
maths of the function body free of checks:

.. code-block:: python

    @checked(_check_sigmoid_backward)
    def sigmoid_backward(da, cache):
        a = cache
        return da * (a * (1 - a))

Code that has validated its inputs once (``mlp_forward`` calling the layers in a loop,
``rnn_backward`` calling ``rnn_step_backward`` at every step) calls the same maths
without re-checking as ``sigmoid_backward.unchecked(da, a)``.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Iterable

import numpy as np

from .fast_checks import all_finite, in_unit_interval

__all__ = ["checked", "as_array", "check_shape", "check_option", "check_positive", "check_int",
           "check_seed", "check_targets", "check_cache", "check_truncate", "check_momentum",
           "check_mask", "is_f64", "all_finite", "raise_nonfinite", "in_unit_interval", "shape_str"]

_NUMERIC_KINDS = frozenset("biuf")
_F64 = np.dtype(np.float64)


def checked(check: Callable[..., tuple]) -> Callable:
    """Decorator: validate the arguments with ``check``, then run the function's maths.

    ``check`` takes the function's arguments and returns them, validated and converted
    (float64 arrays), as a tuple in the function's positional order.  The undecorated
    function stays available as ``.unchecked`` for callers that have validated already.
    """
    def decorate(maths: Callable) -> Callable:
        @functools.wraps(maths)
        def public(*args, **kwargs):
            return maths(*check(*args, **kwargs))
        public.unchecked = maths
        return public
    return decorate


def is_f64(value: Any, ndim: int) -> bool:
    """True for a float64 ndarray with ``ndim`` dimensions."""
    return type(value) is np.ndarray and value.dtype is _F64 and value.ndim == ndim


def shape_str(shape: tuple) -> str:
    """``(2, 3)``, ``(4,)``: a shape as numpy prints it."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def raise_nonfinite(name: str, arr: np.ndarray) -> None:
    """Raise the ValueError for an array that holds NaN or inf."""
    bad = "NaN" if np.isnan(arr).any() else "inf"
    raise ValueError(f"{name} must be finite, got an array containing {bad}")


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
        arr = value                  # already what we need: no conversion, no copy
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
    if ndim is not None and arr.ndim != ndim:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got {arr.ndim}-D array "
                             f"of shape {shape_str(arr.shape)}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {shape_str(arr.shape)}")
    if finite and not all_finite(arr):
        raise_nonfinite(name, arr)
    return arr


def check_shape(name: str, arr: np.ndarray, expected: tuple, why: str = "") -> None:
    """Raise ValueError unless ``arr.shape == expected`` (``None`` entries match anything)."""
    shape = arr.shape
    if shape == expected or (len(shape) == len(expected)
                             and all(e is None or e == s for e, s in zip(expected, shape))):
        return
    want = "(" + ", ".join("any" if e is None else str(e) for e in expected) + \
           ("," if len(expected) == 1 else "") + ")"
    extra = f" ({why})" if why else ""
    raise ValueError(f"{name} must have shape {want}{extra}, got {shape_str(shape)}")


def check_option(name: str, value: Any, allowed: Iterable[str]) -> str:
    """Raise ValueError unless ``value`` is one of ``allowed`` (TypeError if not a str)."""
    if type(value) is str and value in allowed:
        return value
    allowed = tuple(allowed)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, one of {allowed}, got {type(value).__name__}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_positive(name: str, value: Any, *, integer: bool = False, allow_zero: bool = False) -> float:
    """Check a scalar hyper-parameter (learning rate, epochs, eps...): finite and > 0 (>= 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        kind = "an int" if integer else "a real number"
        raise TypeError(f"{name} must be {kind}, got {type(value).__name__}")
    if integer and not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return value


def check_int(name: str, value: Any, low: int) -> int:
    """Return ``value`` as an int after checking that it is one (not a bool) and >= ``low``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_seed(seed: Any) -> None:
    """A random seed must be an int (not a bool)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")


def check_momentum(momentum: Any) -> float:
    """Momentum must be a real number in [0, 1)."""
    if momentum != 0.0:
        check_positive("momentum", momentum)
    if momentum >= 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    return momentum


def check_targets(name: str, y: np.ndarray) -> None:
    """Targets of a cross-entropy must lie in [0, 1]."""
    if not in_unit_interval(y):
        raise ValueError(f"{name} must hold targets in [0, 1], got values in "
                         f"[{y.min():.6g}, {y.max():.6g}]")


def check_cache(cache: Any, kind: type, forward_name: str) -> None:
    """A backward function's cache must be what its forward function returned."""
    if type(cache) is not kind:
        raise TypeError(f"cache must be the tuple returned by {forward_name}, "
                        f"got {type(cache).__name__}")


def check_truncate(truncate: Any) -> int | None:
    """``truncate`` is None (full BPTT) or an int >= 1 (the chunk length)."""
    if truncate is None:
        return None
    if isinstance(truncate, (bool, np.bool_)) or not isinstance(truncate, (int, np.integer)):
        raise TypeError(f"truncate must be None (full BPTT) or an int >= 1, "
                        f"got {type(truncate).__name__} ({truncate!r})")
    if truncate < 1:
        raise ValueError(f"truncate must be None (full BPTT) or an int >= 1, got {truncate}")
    return int(truncate)


def check_mask(mask: Any, N: int, T: int) -> np.ndarray:
    """A mask of steps: bool (or 0/1) of shape (N, T) with at least one True; returned as bool."""
    if type(mask) is np.ndarray and mask.dtype == np.bool_ and mask.shape == (N, T):
        m = mask
    else:
        if isinstance(mask, (str, bytes)) or mask is None:
            raise TypeError(f"mask must be a bool (or 0/1) array of shape ({N}, {T}), "
                            f"got {type(mask).__name__}")
        try:
            m = np.asarray(mask)
        except Exception as exc:
            raise TypeError(f"mask must be a bool (or 0/1) array, got {type(mask).__name__} "
                            f"that numpy cannot convert ({exc})") from None
        if m.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"mask must be a bool (or 0/1) array, got dtype {m.dtype}")
        if m.ndim != 2:
            raise ValueError(f"mask must be 2-D (N, T), got {m.ndim}-D array of shape "
                             f"{shape_str(m.shape)}")
        check_shape("mask", m, (N, T), "one entry per sequence and step")
        if m.dtype != np.bool_:
            if not np.isin(m, (0, 1)).all():
                raise ValueError("mask must hold only True/False or 0/1, got other values "
                                 f"(e.g. {m[~np.isin(m, (0, 1))].ravel()[0]!r})")
            m = m.astype(bool)
    if not m.any():
        raise ValueError("mask must select at least one step, got a mask with no True entry")
    return m
