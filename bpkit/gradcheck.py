r"""Numerical gradients by central differences, and the relative error used to compare them.

.. math::
    \frac{\partial f}{\partial x_i} \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon e_i)}{2\varepsilon},
    \qquad
    \operatorname{rel\_error}(a, b) = \frac{\lVert a - b\rVert_2}{\max(\lVert a\rVert_2 + \lVert b\rVert_2,\ \tau)}

The truncation error of the central difference is :math:`O(\varepsilon^2)`, the
rounding error :math:`O(\epsilon_\text{mach}/\varepsilon)`; in float64 with
:math:`\varepsilon = 10^{-6}` both are around :math:`10^{-10}` for smooth functions.

The relative error compares whole gradient arrays (the norm-wise form used in Andrew Ng's
and CS231n's gradient-check advice), so a single entry that happens to be nearly zero
does not turn rounding noise into a large error.  :func:`max_rel_error` gives the
entry-wise maximum when you want to find *which* entry is wrong.

Rule of thumb (CS231n): below ``1e-7`` the analytic gradient is right; ``1e-7 .. 1e-4``
look closer (fine only near a kink such as ReLU at 0); ``1e-4 .. 1e-2`` suspicious;
above ``1e-2`` wrong.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validate import as_array, check_positive

__all__ = ["numerical_gradient", "rel_error", "max_rel_error", "verdict", "check_gradients"]

#: (upper bound, verdict) pairs used by :func:`verdict`.
THRESHOLDS = ((1e-7, "correct"), (1e-4, "look closer"), (1e-2, "suspicious"), (np.inf, "wrong"))


def _check_numerical_gradient(f, x, eps):
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if type(x) is not np.ndarray or x.dtype != np.float64:
        raise TypeError(f"x must be a float64 ndarray (it is perturbed in place), got "
                        f"{type(x).__name__}" + (f" of dtype {x.dtype}" if hasattr(x, 'dtype') else ""))
    as_array("x", x, allow_empty=True)
    check_positive("eps", eps)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6
                       ) -> np.ndarray:
    r"""Central-difference gradient of a scalar function ``f`` at ``x``.

    ``x`` is perturbed *in place* one entry at a time and restored afterwards, so
    ``f`` may close over ``x`` (e.g. ``x`` is ``params["W1"]`` and ``f`` runs the
    whole network).  ``x`` must be a float64 array for that to work.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; called twice per entry of ``x``.
    x : ndarray of float64, any shape
        The point; unchanged on return.
    eps : float
        Step :math:`\varepsilon > 0`; ``1e-6`` suits float64.

    Returns
    -------
    grad : ndarray, same shape as x
    """
    _check_numerical_gradient(f, x, eps)
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        fp = float(f(x))
        x[i] = old - eps
        fm = float(f(x))
        x[i] = old
        grad[i] = (fp - fm) / (2 * eps)
    return grad


def _check_pair(a, b, floor):
    a = as_array("a", a, allow_empty=True)
    b = as_array("b", b, allow_empty=True)
    if a.shape != b.shape:
        raise ValueError(f"b must have the shape of a {a.shape}, got {b.shape}")
    check_positive("floor", floor)
    return a, b


def rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-12) -> float:
    r"""Relative error of two arrays, :math:`\lVert a-b\rVert_2 / \max(\lVert a\rVert_2+\lVert b\rVert_2, \tau)`.

    Parameters
    ----------
    a, b : ndarray, the same shape
        Typically an analytic and a numerical gradient.
    floor : float
        :math:`\tau > 0`, guards against 0/0 where both gradients vanish.

    Returns
    -------
    float
        0 for identical arrays; at most 1.
    """
    a, b = _check_pair(a, b, floor)
    if a.size == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), floor))


def max_rel_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-12) -> float:
    r"""Largest entry-wise relative error :math:`\max_i |a_i-b_i| / \max(|a_i|+|b_i|, \tau)`.

    Stricter than :func:`rel_error`: an entry whose true value is nearly zero shows the
    finite-difference rounding noise as a large relative error.  Use it to locate a
    wrong entry, not as a pass/fail criterion.

    Parameters
    ----------
    a, b : ndarray, the same shape
    floor : float
        :math:`\tau > 0`.

    Returns
    -------
    float in [0, 1]
    """
    a, b = _check_pair(a, b, floor)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), floor)))


def verdict(err: float) -> str:
    """Translate a relative error into "correct", "look closer", "suspicious" or "wrong"."""
    check_positive("err", err, allow_zero=True)
    for bound, word in THRESHOLDS:
        if err < bound:
            return word
    return "wrong"


def _check_gradients_args(params, grads):
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise TypeError("params and grads must be dicts of arrays")
    if params.keys() != grads.keys():
        raise ValueError(f"grads must have the keys of params {sorted(params)}, got {sorted(grads)}")


def check_gradients(loss_fn: Callable[[], float], params: dict[str, np.ndarray],
                    grads: dict[str, np.ndarray], eps: float = 1e-6) -> dict[str, float]:
    """Relative error of every analytic gradient in ``grads`` against central differences.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn() -> float`` recomputing the loss from ``params`` (which are perturbed in place).
    params : dict of str to ndarray
    grads : dict of str to ndarray
        Analytic gradients, same keys and shapes as ``params``.
    eps : float

    Returns
    -------
    dict of str to float
        ``{name: rel_error(grads[name], numerical)}`` for every parameter, biases included.
    """
    _check_gradients_args(params, grads)
    return {k: rel_error(grads[k], numerical_gradient(lambda _: loss_fn(), params[k], eps))
            for k in params}
