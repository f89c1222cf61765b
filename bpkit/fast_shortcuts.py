"""Speed only: shortcuts for the common, valid case of the boundary checks.

One of the three ``bpkit/fast_*.py`` modules, which exist only for speed; a reader of the
book can skip them (the API page says so).

Every public function checks its arguments in full (the ``_check_*`` functions of its
module) and explains in its error message what is wrong.  For the tiny arrays of the
book, those checks can cost as much as the arithmetic, so the checks of the functions
that the XOR benchmark times start with one of these predicates: each returns ``True``
only when the full check would accept the arguments *unchanged* (float64 arrays of the
right shapes, finite, options known), and ``False`` means "run the full check".
``tests/test_fast.py`` checks that agreement on valid and invalid arguments.
"""

from __future__ import annotations

import math

import numpy as np

from . import losses  # a module object: bpkit.losses itself imports this module
from .fast_checks import all_finite, in_unit_interval
from .layers import ACTIVATIONS

__all__ = ["f64_ok", "mlp_params_ok", "mlp_forward_ok", "train_step_ok", "loss_ok", "sgd_ok"]

_F64 = np.dtype(np.float64)
# Key names built once: an f-string per key and call is a measurable part of a tiny step.
_W = tuple(f"W{l}" for l in range(64))
_B = tuple(f"b{l}" for l in range(64))


def f64_ok(arr, ndim: int) -> bool:
    """A non-empty, finite float64 ndarray with ``ndim`` dimensions."""
    return (type(arr) is np.ndarray and arr.dtype is _F64 and arr.ndim == ndim and arr.size > 0
            and all_finite(arr))


def _lr_ok(lr) -> bool:
    return type(lr) is float and 0.0 < lr < math.inf


def _momentum_ok(momentum) -> bool:
    return momentum == 0.0 or (type(momentum) is float and 0.0 < momentum < 1.0)


def mlp_params_ok(params) -> bool:
    """``bpkit.mlp.check_params``: W1, b1, ... (or W1, ...) finite float64, chained shapes."""
    if type(params) is not dict or len(params) >= 2 * len(_W) - 2:
        return False
    has_bias = "b1" in params
    L = len(params) // 2 if has_bias else len(params)
    rows, total = None, 0.0
    for l in range(1, L + 1):  # noqa: E741
        W = params.get(_W[l])
        if not (type(W) is np.ndarray and W.dtype is _F64 and W.ndim == 2 and W.size
                and (rows is None or W.shape[0] == rows)):
            return False
        rows = W.shape[1]
        total += sum(W.ravel().tolist())
        if has_bias:
            b = params.get(_B[l])
            if not (type(b) is np.ndarray and b.dtype is _F64 and b.shape == (rows,)):
                return False
            total += sum(b.tolist())
    # finite when every entry is (see checks.all_finite); otherwise the full check decides
    return L > 0 and len(params) == (2 * L if has_bias else L) and math.isfinite(total)


def mlp_forward_ok(params, X, hidden, output) -> bool:
    """``bpkit.mlp.mlp_forward``'s check."""
    return (type(hidden) is str and type(output) is str and hidden in ACTIVATIONS
            and output in ACTIVATIONS and mlp_params_ok(params) and f64_ok(X, 2)
            and X.shape[1] == params["W1"].shape[0])


def train_step_ok(params, X, Y, lr, hidden, output, loss, reduction, momentum) -> bool:
    """``bpkit.train.train_step``'s check."""
    if not (type(loss) is str and loss in losses.LOSS_OUTPUTS and output in losses.LOSS_OUTPUTS[loss]
            and type(reduction) is str and reduction in ("mean", "sum") and _lr_ok(lr)
            and _momentum_ok(momentum) and mlp_forward_ok(params, X, hidden, output)
            and f64_ok(Y, 2)):
        return False
    K = params[_W[len(params) // 2 if "b1" in params else len(params)]].shape[1]
    return Y.shape == (X.shape[0], K) and (loss == "mse" or in_unit_interval(Y))


def loss_ok(pred, y, reduction, targets: bool) -> bool:
    """The checks of ``bpkit.losses``: same-shape 2-D float64 arrays; targets in [0, 1]."""
    return (type(reduction) is str and reduction in ("mean", "sum") and f64_ok(pred, 2)
            and f64_ok(y, 2) and pred.shape == y.shape and (not targets or in_unit_interval(y)))


def sgd_ok(params, grads, lr, momentum, velocity) -> bool:
    """``bpkit.optim.sgd_step``'s check."""
    if not (type(params) is dict and type(grads) is dict and _lr_ok(lr) and _momentum_ok(momentum)
            and params.keys() == grads.keys()
            and (velocity is None or (type(velocity) is dict and velocity.keys() == params.keys()))):
        return False
    for k, p in params.items():
        g = grads[k]
        if not (type(p) is np.ndarray and p.dtype is _F64 and type(g) is np.ndarray
                and g.shape == p.shape and all_finite(g)):
            return False
    return True
