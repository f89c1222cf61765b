r"""The sequence model of the book: the recurrence, a logit per step, and its masked loss.

.. math::
    h_t = \tanh(x_t W_x + h_{t-1} W_h + b_h),\qquad z_t = h_t W_y + b_y,
    \qquad t = 1 \dots T

:func:`rnn_model_forward` runs :func:`~bpkit.recurrence.rnn_forward` and applies the
output layer at every step; :func:`rnn_model_backward` differentiates the output layer
and hands the direct gradients :math:`\partial L/\partial h_t = dz_t W_y^\top` to
:func:`~bpkit.recurrence.rnn_backward`.  :func:`sequence_bce_logits_loss` is the
binary cross-entropy of the logits over the steps that have a target (a mask), and
:func:`sequence_accuracy` the fraction of those steps classified right.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, NamedTuple

import numpy as np

from ._validate import (as_array, check_cache, check_int, check_mask, check_positive,
                        check_seed, check_shape, check_targets, check_truncate, checked)
from .layers import sigmoid
from .recurrence import RNNCache, rnn_backward, rnn_forward

__all__ = ["PARAM_NAMES", "ModelCache", "init_rnn", "rnn_model_forward", "rnn_model_backward",
           "sequence_bce_logits_loss", "sequence_accuracy"]

#: Keys of the sequence model's parameter dict, in the order :func:`init_rnn` draws them.
PARAM_NAMES = ("Wx", "Wh", "bh", "Wy", "by")


class ModelCache(NamedTuple):
    """What :func:`rnn_model_forward` remembers for :func:`rnn_model_backward`."""
    rnn: RNNCache       #: the recurrence's cache; ``rnn.Hs`` (N, T, H) are the states
    Wy: np.ndarray      #: (H, K) output weights


def init_rnn(D: int, H: int, K: int, seed: int = 0, scale: float | None = None
             ) -> dict[str, np.ndarray]:
    r"""Parameters of the sequence model :math:`h_t = \tanh(x_t W_x + h_{t-1}W_h + b_h)`,
    :math:`z_t = h_t W_y + b_y`.

    Drawn in the order ``Wx, Wh, Wy`` from ``np.random.default_rng(seed)``:

    * ``Wx`` (D, H) and ``Wy`` (H, K): Glorot-uniform, :math:`U(-r, r)` with
      :math:`r = \sqrt{6/(\text{fan-in} + \text{fan-out})}`.
    * ``Wh`` (H, H): a random orthogonal matrix :math:`Q` (QR of a standard normal
      matrix, signs fixed so that :math:`Q` is Haar-distributed) times ``scale``.  All
      eigenvalues *and* singular values of :math:`sQ` have modulus :math:`s`, so the
      spectral radius of ``Wh`` is exactly ``scale`` (1 by default): a step of the
      linearised recurrence neither shrinks nor grows any direction, the natural
      starting point; ``scale < 1`` makes gradients vanish, ``scale > 1`` lets them
      grow (the vanishing/exploding-gradient experiments).
    * ``bh``, ``by``: zeros.

    Parameters
    ----------
    D, H, K : int >= 1
        Input features, hidden units, outputs per step.
    seed : int
    scale : float >= 0 or None
        Spectral radius of ``Wh``; ``None`` means 1.

    Returns
    -------
    params : dict of str to ndarray
        ``"Wx"`` (D, H), ``"Wh"`` (H, H), ``"bh"`` (H,), ``"Wy"`` (H, K), ``"by"`` (K,).
    """
    _check_init_rnn(D, H, K, seed, scale)
    s = 1.0 if scale is None else float(scale)
    rng = np.random.default_rng(seed)
    Wx = rng.uniform(-1.0, 1.0, (D, H)) * math.sqrt(6.0 / (D + H))
    Q, R = np.linalg.qr(rng.standard_normal((H, H)))
    Q *= np.where(np.diag(R) < 0, -1.0, 1.0)      # Haar measure (Mezzadri 2007)
    Wy = rng.uniform(-1.0, 1.0, (H, K)) * math.sqrt(6.0 / (H + K))
    return {"Wx": Wx, "Wh": s * Q, "bh": np.zeros(H), "Wy": Wy, "by": np.zeros(K)}


# ----------------------------------------------------------------- validation (boundary)
def _check_init_rnn(D, H, K, seed, scale):
    for name, value in (("D", D), ("H", H), ("K", K)):
        check_int(name, value, 1)
    check_seed(seed)
    if scale is not None:
        check_positive("scale", scale, allow_zero=True)


def check_params(params: Any) -> dict[str, np.ndarray]:
    """Validate the model's parameter dict (keys, shapes, finite values); return float64 arrays."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays with keys {PARAM_NAMES}, "
                        f"got {type(params).__name__}")
    if set(params) != set(PARAM_NAMES):
        raise ValueError(f"params must have exactly the keys {PARAM_NAMES}; missing "
                         f"{sorted(set(PARAM_NAMES) - set(params))}, unexpected "
                         f"{sorted(set(params) - set(PARAM_NAMES))}")
    Wx = as_array("params['Wx']", params["Wx"], 2)
    H = Wx.shape[1]
    Wh = as_array("params['Wh']", params["Wh"], 2)
    check_shape("params['Wh']", Wh, (H, H), f"square, H = {H} = the columns of Wx")
    bh = as_array("params['bh']", params["bh"], 1)
    check_shape("params['bh']", bh, (H,), f"one entry per hidden unit, H = {H}")
    Wy = as_array("params['Wy']", params["Wy"], 2)
    check_shape("params['Wy']", Wy, (H, None), f"rows must match the H = {H} hidden units")
    by = as_array("params['by']", params["by"], 1)
    check_shape("params['by']", by, (Wy.shape[1],), f"one entry per output, K = {Wy.shape[1]}")
    return {"Wx": Wx, "Wh": Wh, "bh": bh, "Wy": Wy, "by": by}


def _check_model_forward(params, X, h0=None):
    params = check_params(params)
    D, H = params["Wx"].shape
    X = as_array("X", X, 3)
    check_shape("X", X, (None, None, D), f"the last axis must match the {D} rows of Wx")
    if h0 is None:
        h0 = np.zeros((X.shape[0], H))
    h0 = as_array("h0", h0, 2)
    check_shape("h0", h0, (X.shape[0], H), f"N = {X.shape[0]} rows like X, H = {H} columns")
    return params, X, h0


def _check_model_backward(dZ, cache, truncate=None):
    check_cache(cache, ModelCache, "rnn_model_forward")
    N, T, _ = cache.rnn.X.shape
    dZ = as_array("dZ", dZ, 3)
    check_shape("dZ", dZ, (N, T, cache.Wy.shape[1]), "the shape (N, T, K) of the logits Z")
    return dZ, cache, check_truncate(truncate)


def _check_logits_targets_mask(Z, Y, mask):
    Z = as_array("Z", Z, 3)
    Y = as_array("Y", Y, 3)
    check_shape("Y", Y, Z.shape, "the shape (N, T, K) of Z")
    check_targets("Y", Y)
    return Z, Y, check_mask(mask, Z.shape[0], Z.shape[1])


# -------------------------------------------------------------------------- the model
@checked(_check_model_forward)
def rnn_model_forward(params: dict[str, np.ndarray], X: np.ndarray, h0: np.ndarray | None = None
                      ) -> tuple[np.ndarray, ModelCache]:
    r"""Sequence model: the recurrence plus a per-step linear output layer (logits).

    .. math::
        h_t = \tanh(x_t W_x + h_{t-1} W_h + b_h),\qquad z_t = h_t W_y + b_y,
        \qquad t = 1 \dots T

    Parameters
    ----------
    params : dict of str to ndarray
        ``"Wx"`` (D, H), ``"Wh"`` (H, H), ``"bh"`` (H,), ``"Wy"`` (H, K), ``"by"`` (K,),
        e.g. from :func:`init_rnn`.
    X : ndarray, shape (N, T, D)
    h0 : ndarray, shape (N, H), optional
        Initial state; ``None`` (default) means zeros.

    Returns
    -------
    Z : ndarray, shape (N, T, K)
        Logits, ``Z[:, t - 1]`` :math:`= z_t = h_t W_y + b_y` (apply a sigmoid for
        probabilities, or feed to :func:`sequence_bce_logits_loss`).
    cache : ModelCache
        For :func:`rnn_model_backward`; ``cache.rnn.Hs`` are the states (N, T, H).
    """
    Hs, rnn_cache = rnn_forward.unchecked(X, h0, params["Wx"], params["Wh"], params["bh"])
    Z = Hs @ params["Wy"] + params["by"]
    return Z, ModelCache(rnn_cache, params["Wy"])


@checked(_check_model_backward)
def rnn_model_backward(dZ: np.ndarray, cache: ModelCache, truncate: int | None = None
                       ) -> dict[str, np.ndarray]:
    r"""Gradients of the sequence model's parameters by (truncated) BPTT.

    The output layer is used at every step, so its gradients are sums over the steps,
    :math:`dL/dW_y = \sum_t h_t^\top dz_t` and :math:`dL/db_y = \sum_{t,n} dz_{t,n}`; it
    also gives the direct gradient at each state, :math:`\partial L/\partial h_t = dz_t
    W_y^\top`, which goes into :func:`~bpkit.recurrence.rnn_backward` (see there for
    ``truncate``).

    Parameters
    ----------
    dZ : ndarray, shape (N, T, K)
        :math:`dL/dZ`, e.g. from :func:`sequence_bce_logits_loss`.
    cache : ModelCache
        From :func:`rnn_model_forward`.
    truncate : int >= 1 or None
        Chunk length for truncated BPTT; ``None`` for full BPTT.

    Returns
    -------
    grads : dict of str to ndarray
        Keys and shapes of ``params``: ``"Wx"``, ``"Wh"``, ``"bh"``, ``"Wy"``, ``"by"``.
    """
    rnn_cache, Wy = cache
    Hs = rnn_cache.Hs
    dWy = np.einsum("nth,ntk->hk", Hs, dZ)       # sum over n and t of h_t^T dz_t
    dby = dZ.sum(axis=(0, 1))
    dHs = np.einsum("ntk,hk->nth", dZ, Wy)       # dz_t W_y^T: the direct gradients at h_t
    _, _, dWx, dWh, dbh = rnn_backward.unchecked(dHs, rnn_cache, truncate)
    return {"Wx": dWx, "Wh": dWh, "bh": dbh, "Wy": dWy, "by": dby}


# ---------------------------------------------------------------- loss and accuracy
@checked(_check_logits_targets_mask)
def sequence_bce_logits_loss(Z: np.ndarray, Y: np.ndarray, mask: np.ndarray
                             ) -> tuple[float, np.ndarray]:
    r"""Masked mean binary cross-entropy of per-step logits, computed stably.

    With :math:`m_{nt} \in \{0, 1\}` the mask, :math:`M = \sum_{n,t} m_{nt}` the number of
    masked-in steps and K the outputs per step:

    .. math::
        L = \frac{1}{M K}\sum_{n,t} m_{nt} \sum_{k}
            \Big[\log(1 + e^{z_{ntk}}) - y_{ntk}\, z_{ntk}\Big],
        \qquad
        \frac{dL}{dz_{ntk}} = \frac{m_{nt}}{M K}\big(\sigma(z_{ntk}) - y_{ntk}\big)

    i.e. the sum over the masked-in ``(n, t, k)`` entries divided by their number; the
    gradient is exactly 0 at masked-out steps, whatever Z and Y hold there.
    :math:`\log(1 + e^{z})` is computed as ``np.logaddexp(0, z)``, which never overflows,
    so the loss is finite for any finite Z.

    Parameters
    ----------
    Z : ndarray, shape (N, T, K)
        Logits, e.g. from :func:`rnn_model_forward`.
    Y : ndarray, shape (N, T, K)
        Targets in [0, 1].
    mask : ndarray of bool (or 0/1), shape (N, T)
        Which steps have a target; at least one must be True.

    Returns
    -------
    loss : float
    dZ : ndarray, shape (N, T, K)
    """
    K = Z.shape[2]
    w = mask[:, :, None] * (1.0 / (np.count_nonzero(mask) * K))   # m_nt / (M K)
    loss = float(np.sum((np.logaddexp(0.0, Z) - Y * Z) * w))
    dZ = (sigmoid(Z) - Y) * w
    return loss, dZ


@checked(_check_logits_targets_mask)
def sequence_accuracy(Z: np.ndarray, Y: np.ndarray, mask: np.ndarray) -> float:
    r"""Fraction of masked-in entries classified right, :math:`[\sigma(z) > 0.5] = [y > 0.5]`.

    :math:`\sigma(z) > 0.5` is decided as :math:`z > 0` (exact; no rounding of
    :math:`\sigma` near 0.5).  Averaged over the masked-in ``(n, t, k)`` entries, like
    :func:`sequence_bce_logits_loss`.

    Parameters
    ----------
    Z : ndarray, shape (N, T, K)
        Logits.
    Y : ndarray, shape (N, T, K)
        Targets in [0, 1] (0/1 labels).
    mask : ndarray of bool (or 0/1), shape (N, T)

    Returns
    -------
    float in [0, 1]
    """
    right = (Z > 0) == (Y > 0.5)
    return float(np.count_nonzero(right & mask[:, :, None]) / (np.count_nonzero(mask) * Z.shape[2]))
