r"""Loss functions: each returns ``(loss, d<prediction>)``.

Shapes follow the batch-first convention: predictions and targets are both
``(N, K)`` and must have *exactly* the same shape.  (A target of shape ``(N,)``
against predictions ``(N, 1)`` would broadcast to ``(N, N)`` and give a silently
wrong loss, so it is rejected.)

With ``reduction="mean"`` (the default) the loss is averaged over the N rows
of the batch and summed over the K outputs; with ``reduction="sum"`` it is
summed over both.  The gradient returned is exactly the derivative of the
number returned.  In the code, ``scale`` is :math:`1/N` for the mean and 1 for the sum.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_array, check_option, check_shape, check_targets, checked, in_unit_interval
from . import fast_shortcuts as fast
from .layers import sigmoid

__all__ = ["mse_loss", "bce_loss", "bce_logits_loss", "BCE_EPS", "LOSS_OUTPUTS"]

#: Probabilities are clipped to ``[BCE_EPS, 1 - BCE_EPS]`` inside :func:`bce_loss`.
BCE_EPS = 1e-12


# ----------------------------------------------------------------- validation (boundary)
def _check_loss(pred_name, pred, y, reduction, *, targets=False):
    if fast.loss_ok(pred, y, reduction, targets):        # speed only (bpkit/fast_shortcuts.py)
        return pred, y, reduction
    check_option("reduction", reduction, ("mean", "sum"))
    pred = as_array(pred_name, pred, 2)
    y = as_array("y", y, 2)
    check_shape("y", y, pred.shape, f"the shape of {pred_name}")
    if targets:
        check_targets("y", y)
    return pred, y, reduction


def _check_mse(y_pred, y, reduction="mean"):
    return _check_loss("y_pred", y_pred, y, reduction)


def _check_bce(p, y, reduction="mean"):
    if fast.loss_ok(p, y, reduction, True, probabilities=True):   # speed only (bpkit/fast_shortcuts.py)
        return p, y, reduction
    p, y, reduction = _check_loss("p", p, y, reduction, targets=True)
    if not in_unit_interval(p):
        raise ValueError(f"p must hold probabilities in [0, 1], got values in "
                         f"[{p.min():.6g}, {p.max():.6g}]")
    return p, y, reduction


def _check_bce_logits(z, y, reduction="mean"):
    return _check_loss("z", z, y, reduction, targets=True)


# ------------------------------------------------------------------------------ losses
@checked(_check_mse)
def mse_loss(y_pred: np.ndarray, y: np.ndarray, reduction: str = "mean"
             ) -> tuple[float, np.ndarray]:
    r"""Squared error with a factor ½.

    .. math::
        L = \frac{1}{2N}\sum_{n=1}^{N}\sum_{k=1}^{K} (\hat y_{nk} - y_{nk})^2
        \quad(\text{mean}),\qquad
        L = \frac12\sum_{n,k} (\hat y_{nk} - y_{nk})^2 \quad(\text{sum})

    .. math::
        \frac{dL}{d\hat y} = \frac{\hat y - y}{N}\ (\text{mean}),\qquad
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
    scale = 1.0 / y_pred.shape[0] if reduction == "mean" else 1.0
    diff = y_pred - y
    return 0.5 * scale * float(np.vdot(diff, diff)), scale * diff


@checked(_check_bce)
def bce_loss(p: np.ndarray, y: np.ndarray, reduction: str = "mean"
             ) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of probabilities.

    With :math:`\tilde p = \operatorname{clip}(p, \varepsilon, 1 - \varepsilon)`,
    :math:`\varepsilon =` :data:`BCE_EPS` (``1e-12``):

    .. math::
        L = -\frac{1}{N}\sum_{n,k}\Big[y_{nk}\log\tilde p_{nk} + (1-y_{nk})\log(1-\tilde p_{nk})\Big]

    .. math::
        \frac{dL}{dp} = \frac{1}{N}\,\frac{\tilde p - y}{\tilde p(1-\tilde p)}

    Why the clip: a sigmoid output can round to exactly 0 or 1, where :math:`\log 0 =
    -\infty` and the gradient divides by zero.  Clipped, the loss of a confident wrong
    answer is large (about 27.6 per entry) but finite.  The gradient is the exact
    derivative for :math:`\varepsilon < p < 1-\varepsilon`; outside, the clip is treated
    as the identity (a straight-through gradient), so the gradient still points the
    right way.  ``reduction="sum"`` drops the :math:`1/N`.  After a sigmoid, prefer
    :func:`bce_logits_loss`: the :math:`\tilde p(1-\tilde p)` here cancels against the
    sigmoid's derivative.

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
    scale = 1.0 / p.shape[0] if reduction == "mean" else 1.0
    pc = p.clip(BCE_EPS, 1.0 - BCE_EPS)         # keep log(pc) and log(1 - pc) finite
    loss = -scale * float(np.vdot(y, np.log(pc)) + np.vdot(1.0 - y, np.log(1.0 - pc)))
    dp = (pc - y) / (pc * (1.0 - pc)) * scale
    return loss, dp


@checked(_check_bce_logits)
def bce_logits_loss(z: np.ndarray, y: np.ndarray, reduction: str = "mean"
                    ) -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of a sigmoid applied to logits ``z``, computed stably.

    .. math::
        L = \frac{1}{N}\sum_{n,k}\Big[\log(1 + e^{z_{nk}}) - y_{nk} z_{nk}\Big]
        \;=\; \text{BCE}(\sigma(z), y),
        \qquad
        \frac{dL}{dz} = \frac{\sigma(z) - y}{N}

    The sigmoid's derivative has cancelled: the output :math:`\delta` is simply
    :math:`\sigma(z) - y`.  :math:`\log(1 + e^{z})` is computed as ``np.logaddexp(0, z)``,
    which never forms :math:`e^{z}`: finite for any finite ``z``.

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
    scale = 1.0 / z.shape[0] if reduction == "mean" else 1.0
    loss = scale * float(np.logaddexp(0.0, z).sum() - np.vdot(y, z))
    return loss, scale * (sigmoid(z) - y)


#: Loss name -> function, as :func:`bpkit.train.train_mlp` names them.
LOSSES = {"mse": mse_loss, "bce": bce_loss, "bce_logits": bce_logits_loss}

#: Loss name -> the output activations it accepts (``train_mlp``'s ``loss`` and ``output``).
LOSS_OUTPUTS = {"bce": ("sigmoid",), "bce_logits": ("identity",),
                "mse": ("sigmoid", "tanh", "relu", "identity")}
