r"""Loss functions: each returns ``(loss, d<prediction>)``.

Shapes follow the batch-first convention: predictions and targets are both
``(N, K)`` and must have *exactly* the same shape.  (A target of shape ``(N,)``
against predictions ``(N, 1)`` would broadcast to ``(N, N)`` and give a silently
wrong loss, so it is rejected.)

With ``reduction="mean"`` (the default) the loss is averaged over the N rows
of the batch and summed over the K outputs; with ``reduction="sum"`` it is
summed over both.  The gradient returned is exactly the derivative of the
number returned.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_array, check_option, check_shape, in_unit_interval, is_f64
from .layers import sigmoid

__all__ = ["mse_loss", "bce_loss", "bce_logits_loss", "BCE_EPS"]

#: Probabilities are clipped to ``[BCE_EPS, 1 - BCE_EPS]`` inside :func:`bce_loss`.
BCE_EPS = 1e-12

_REDUCTIONS = ("mean", "sum")


def _pair(pred_name, pred, y, ndim=2):
    pred = as_array(pred_name, pred, ndim)
    y = as_array("y", y, ndim)
    check_shape("y", y, pred.shape, f"the shape of {pred_name}")
    return pred, y


def mse_loss(y_pred: np.ndarray, y: np.ndarray, reduction: str = "mean"
             ) -> tuple[float, np.ndarray]:
    r"""Squared error with a factor ½.

    .. math::
        L = \frac{1}{2N}\sum_{n=1}^{N}\sum_{k=1}^{K} (\hat y_{nk} - y_{nk})^2
        \quad(\text{mean}),\qquad
        L = \frac12\sum_{n,k} (\hat y_{nk} - y_{nk})^2 \quad(\text{sum})

    .. math::
        \frac{\partial L}{\partial \hat y} = \frac{\hat y - y}{N}\ (\text{mean}),\qquad
        \hat y - y\ (\text{sum})

    Parameters
    ----------
    y_pred : ndarray, shape (N, K)
        Predictions.
    y : ndarray, shape (N, K)
        Targets, the same shape as ``y_pred``.
    reduction : {"mean", "sum"}
        Average over the batch (default) or sum.  ``"sum"`` is what the source
        article's update rule implicitly uses.

    Returns
    -------
    loss : float
    dy_pred : ndarray, shape (N, K)
    """
    check_option("reduction", reduction, _REDUCTIONS)
    y_pred, y = _pair("y_pred", y_pred, y)
    return _mse_loss(y_pred, y, reduction)


def _mse_loss(y_pred, y, reduction="mean"):
    diff = y_pred - y
    scale = 1.0 / y_pred.shape[0] if reduction == "mean" else 1.0
    return 0.5 * scale * float(np.vdot(diff, diff)), scale * diff


def bce_loss(p: np.ndarray, y: np.ndarray, reduction: str = "mean"
             ) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of probabilities.

    With :math:`\tilde p = \operatorname{clip}(p, \varepsilon, 1 - \varepsilon)`,
    :math:`\varepsilon =` :data:`BCE_EPS` (``1e-12``), so that ``p = 0`` or ``1`` stays finite:

    .. math::
        L = -\frac{1}{N}\sum_{n,k}\Big[y_{nk}\log\tilde p_{nk} + (1-y_{nk})\log(1-\tilde p_{nk})\Big]

    .. math::
        \frac{\partial L}{\partial p} = \frac{1}{N}\,\frac{\tilde p - y}{\tilde p(1-\tilde p)}

    The gradient is the exact derivative for :math:`\varepsilon < p < 1-\varepsilon`;
    outside, the clip is treated as the identity (a straight-through gradient), so
    the gradient still points the right way.  ``reduction="sum"`` drops the
    :math:`1/N`.  After a sigmoid, prefer :func:`bce_logits_loss`: the
    :math:`\tilde p(1-\tilde p)` here cancels against the sigmoid's derivative.

    Parameters
    ----------
    p : ndarray, shape (N, K)
        Probabilities in [0, 1].
    y : ndarray, shape (N, K)
        Targets in [0, 1] (usually 0 or 1), the same shape as ``p``.
    reduction : {"mean", "sum"}

    Returns
    -------
    loss : float
    dp : ndarray, shape (N, K)
    """
    if reduction not in _REDUCTIONS:
        check_option("reduction", reduction, _REDUCTIONS)
    # fast path: the range checks also reject NaN (every comparison with NaN is False)
    if not (is_f64(p, 2) and is_f64(y, 2) and p.shape == y.shape and p.shape[0]
            and in_unit_interval(p) and in_unit_interval(y)):
        p, y = _pair("p", p, y)
        if p.min() < 0.0 or p.max() > 1.0:
            raise ValueError(f"p must hold probabilities in [0, 1], got values in "
                             f"[{p.min():.6g}, {p.max():.6g}]")
        _check_targets(y)
    return _bce_loss(p, y, reduction)


def _check_targets(y, name="y"):
    if y.min() < 0.0 or y.max() > 1.0:
        raise ValueError(f"{name} must hold targets in [0, 1], got values in "
                         f"[{y.min():.6g}, {y.max():.6g}]")


def _bce_loss(p, y, reduction="mean"):
    pc = np.clip(p, BCE_EPS, 1.0 - BCE_EPS)
    q = 1.0 - pc
    scale = 1.0 / p.shape[0] if reduction == "mean" else 1.0
    loss = -scale * float(np.vdot(y, np.log(pc)) + np.vdot(1.0 - y, np.log(q)))
    q *= pc                      # q is now p(1 - p)
    dp = pc - y
    dp /= q
    if scale != 1.0:
        dp *= scale
    return loss, dp


def bce_logits_loss(z: np.ndarray, y: np.ndarray, reduction: str = "mean"
                    ) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of a sigmoid applied to logits ``z``, computed stably.

    .. math::
        L = \frac{1}{N}\sum_{n,k}\Big[\log(1 + e^{z_{nk}}) - y_{nk} z_{nk}\Big]
        \;=\; \text{BCE}(\sigma(z), y),
        \qquad
        \frac{\partial L}{\partial z} = \frac{\sigma(z) - y}{N}

    The sigmoid's derivative has cancelled: the "output delta" is simply
    :math:`\sigma(z) - y`.  Finite for any finite ``z`` (``np.logaddexp``).

    Parameters
    ----------
    z : ndarray, shape (N, K)
        Logits (pre-activations of the output layer).
    y : ndarray, shape (N, K)
        Targets in [0, 1].
    reduction : {"mean", "sum"}

    Returns
    -------
    loss : float
    dz : ndarray, shape (N, K)
    """
    check_option("reduction", reduction, _REDUCTIONS)
    z, y = _pair("z", z, y)
    _check_targets(y)
    return _bce_logits_loss(z, y, reduction)


def _bce_logits_loss(z, y, reduction="mean"):
    scale = 1.0 / z.shape[0] if reduction == "mean" else 1.0
    loss = scale * float(np.logaddexp(0.0, z).sum() - np.vdot(y, z))
    return loss, scale * (sigmoid(z) - y)


#: name -> unchecked loss, used by :mod:`bpkit.train`.
LOSSES = {"mse": _mse_loss, "bce": _bce_loss, "bce_logits": _bce_logits_loss}
