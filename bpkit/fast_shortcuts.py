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

One exception, the MLP's parameters and input: :func:`mlp_forward_ok` and
:func:`train_step_ok` do not test them for NaN/inf.  NaN or inf in ``X``, a ``W_l`` or
a ``b_l`` always reaches the pre-activation ``Z_l``, which ``mlp_forward`` tests after
the forward pass anyway (an overflow test); only when one is non-finite does it look for
the culprit and raise the full check's error (``bpkit.mlp._check_finite``).
"""

from __future__ import annotations

import math

import numpy as np

from . import losses  # a module object: bpkit.losses itself imports this module
from .fast_checks import SMALL, all_finite, in_unit_interval
from .layers import ACTIVATIONS

__all__ = ["f64_ok", "mlp_params_ok", "mlp_forward_ok", "train_step_ok", "loss_ok", "sgd_ok"]

_F64 = np.dtype(np.float64)
# Key names built once: an f-string per key and call is a measurable part of a tiny step.
_W = tuple(f"W{l}" for l in range(64))
_B = tuple(f"b{l}" for l in range(64))


def f64_ok(arr, ndim: int, finite: bool = True) -> bool:
    """A non-empty float64 ndarray with ``ndim`` dimensions, finite (unless ``finite=False``)."""
    return (type(arr) is np.ndarray and arr.dtype is _F64 and arr.ndim == ndim and arr.size > 0
            and (not finite or all_finite(arr)))


def _lr_ok(lr) -> bool:
    return type(lr) is float and 0.0 < lr < math.inf


def _momentum_ok(momentum) -> bool:
    return momentum == 0.0 or (type(momentum) is float and 0.0 < momentum < 1.0)


def mlp_params_ok(params) -> bool:
    """``bpkit.mlp.check_params`` but for NaN/inf: W1, b1, ... (or W1, ...) float64, chained shapes."""
    if type(params) is not dict:
        return False
    has_bias = "b1" in params
    L = len(params) // 2 if has_bias else len(params)
    if not 0 < L < len(_W) or len(params) != (2 * L if has_bias else L):
        return False
    rows = None
    for l in range(1, L + 1):  # noqa: E741
        W = params.get(_W[l])
        if (type(W) is not np.ndarray or W.dtype is not _F64 or W.ndim != 2 or not W.size
                or (rows is not None and W.shape[0] != rows)):
            return False
        rows = W.shape[1]
        if has_bias:
            b = params.get(_B[l])
            if type(b) is not np.ndarray or b.dtype is not _F64 or b.shape != (rows,):
                return False
    return True


def mlp_forward_ok(params, X, hidden, output) -> bool:
    """``bpkit.mlp.mlp_forward``'s check but for NaN/inf (tested on Z after the forward pass)."""
    return (type(hidden) is str and type(output) is str and hidden in ACTIVATIONS
            and output in ACTIVATIONS and mlp_params_ok(params) and f64_ok(X, 2, finite=False)
            and X.shape[1] == params["W1"].shape[0])


def train_step_ok(params, X, Y, lr, hidden, output, loss, reduction, momentum) -> bool:
    """``bpkit.train.train_step``'s check but for NaN/inf in ``params`` and ``X`` (as above).

    The work of :func:`mlp_forward_ok` and :func:`bpkit.fast_checks.in_unit_interval`, written out in one
    function: at the XOR size, each Python call saved is measurable."""
    outputs = losses.LOSS_OUTPUTS
    if not (type(loss) is str and loss in outputs and output in outputs[loss]
            and type(hidden) is str and hidden in ACTIVATIONS and type(reduction) is str
            and reduction in ("mean", "sum") and type(lr) is float and 0.0 < lr < math.inf
            and (momentum == 0.0 or (type(momentum) is float and 0.0 < momentum < 1.0))
            and type(X) is np.ndarray and X.dtype is _F64 and X.ndim == 2 and X.size
            and type(Y) is np.ndarray and Y.dtype is _F64 and Y.ndim == 2
            and mlp_params_ok(params)):
        return False
    K = params[_W[len(params) // 2 if "b1" in params else len(params)]].shape[1]
    if not (X.shape[1] == params["W1"].shape[0] and Y.shape == (X.shape[0], K)):
        return False
    if loss == "mse":
        return all_finite(Y)
    if Y.size > SMALL:
        return in_unit_interval(Y)
    values = Y.ravel().tolist()                 # in [0, 1]; NaN fails (see in_unit_interval)
    return min(values) >= 0.0 and max(values) <= 1.0 and not math.isnan(sum(values))


def loss_ok(pred, y, reduction, targets: bool, probabilities: bool = False) -> bool:
    """The checks of ``bpkit.losses``: same-shape finite 2-D float64 arrays; targets (and,
    with ``probabilities``, ``pred``) in [0, 1], a test that also rejects NaN/inf."""
    return (type(reduction) is str and reduction in ("mean", "sum") and f64_ok(pred, 2, False)
            and f64_ok(y, 2, False) and pred.shape == y.shape
            and (in_unit_interval(pred) if probabilities else all_finite(pred))
            and (in_unit_interval(y) if targets else all_finite(y)))


def sgd_ok(params, grads, lr, momentum, velocity) -> bool:
    """``bpkit.optim.sgd_step``'s check."""
    if not (type(params) is dict and type(grads) is dict and _lr_ok(lr) and _momentum_ok(momentum)
            and params.keys() == grads.keys()
            and (velocity is None or (type(velocity) is dict and velocity.keys() == params.keys()))):
        return False
    total = 0.0
    for k, p in params.items():
        g = grads[k]
        if not (type(p) is np.ndarray and p.dtype is _F64 and type(g) is np.ndarray
                and g.shape == p.shape and g.dtype is _F64):
            return False
        if g.size > SMALL:
            if not all_finite(g):
                return False
        else:
            total += sum(g.ravel().tolist())
    return math.isfinite(total)     # finite when every entry is (see fast_checks.all_finite)
