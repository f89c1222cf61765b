r"""Gradient-descent updates and gradient clipping.

:func:`sgd_step` applies :math:`\theta \leftarrow \theta - \eta\, dL/d\theta` to every
array of a parameter dict, in place; with momentum :math:`\mu`,
:math:`v \leftarrow \mu v - \eta\, dL/d\theta,\ \theta \leftarrow \theta + v`.
:func:`clip_grads` caps the length of the whole gradient before such a step.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ._validate import all_finite, as_array, check_momentum, check_positive, checked, raise_nonfinite
from . import fast_shortcuts as fast

__all__ = ["sgd_step", "clip_grads", "global_norm"]


# ----------------------------------------------------------------- validation (boundary)
def _check_sgd(params, grads, lr, momentum=0.0, velocity=None):
    if fast.sgd_ok(params, grads, lr, momentum, velocity):   # speed only (bpkit/fast_shortcuts.py)
        return params, grads, lr, momentum, velocity
    for name, d in (("params", params), ("grads", grads)):
        if not isinstance(d, dict):
            raise TypeError(f"{name} must be a dict of arrays, got {type(d).__name__}")
    check_positive("lr", lr)
    check_momentum(momentum)
    if params.keys() != grads.keys():
        raise ValueError(f"grads must have the same keys as params: params has {sorted(params)}, "
                         f"grads has {sorted(grads)}")
    for k, p in params.items():
        g = grads[k]
        if type(p) is not np.ndarray or p.dtype != np.float64:
            raise TypeError(f"params[{k!r}] must be a float64 ndarray (updated in place), "
                            f"got {type(p).__name__}" + (f" of dtype {p.dtype}" if hasattr(p, "dtype") else ""))
        if type(g) is not np.ndarray or g.shape != p.shape:
            raise ValueError(f"grads[{k!r}] must be an ndarray of shape {p.shape} like params[{k!r}], "
                             f"got {getattr(g, 'shape', type(g).__name__)}")
        if not all_finite(g):
            raise_nonfinite(f"grads[{k!r}]", g)
    if momentum and velocity is not None and (
            not isinstance(velocity, dict) or velocity.keys() != params.keys()):
        raise ValueError("velocity must be the dict returned by the previous sgd_step call "
                         "(same keys as params)")
    return params, grads, lr, momentum, velocity


def _check_clip(grads, max_norm):
    if isinstance(grads, Mapping):
        items = list(grads.items())
    elif isinstance(grads, (tuple, list)):
        items = list(enumerate(grads))
    else:
        raise TypeError(f"grads must be a dict (or tuple/list) of arrays, got {type(grads).__name__}")
    if not items:
        raise ValueError("grads must hold at least one array, got an empty collection")
    arrays = {k: as_array(f"grads[{k!r}]", g, allow_empty=True) for k, g in items}
    return arrays, float(check_positive("max_norm", max_norm))


# -------------------------------------------------------------------------- updates
@checked(_check_sgd)
def sgd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float,
             momentum: float = 0.0, velocity: dict[str, np.ndarray] | None = None
             ) -> dict[str, np.ndarray] | None:
    r"""One step of (momentum) gradient descent, updating ``params`` in place.

    .. math::
        \theta \leftarrow \theta - \eta\,\frac{dL}{d\theta}\quad(\mu = 0),\qquad
        v \leftarrow \mu v - \eta\,\frac{dL}{d\theta},\ \ \theta \leftarrow \theta + v

    Parameters
    ----------
    params : dict of str to ndarray
        Parameters, e.g. from :func:`bpkit.mlp.init_mlp`; float64 arrays, changed in place.
    grads : dict of str to ndarray
        Same keys and shapes as ``params`` (e.g. from :func:`bpkit.mlp.mlp_backward`).
    lr : float
        Learning rate :math:`\eta > 0`.
    momentum : float
        :math:`\mu \in [0, 1)`; 0 (default) is plain gradient descent.
    velocity : dict of str to ndarray, optional
        The velocity returned by the previous call (momentum only); ``None`` starts at zero.

    Returns
    -------
    velocity : dict of str to ndarray, or None
        The new velocity when ``momentum > 0`` (pass it to the next call), else ``None``.
    """
    if not momentum:
        for k, p in params.items():
            p -= lr * grads[k]
        return None
    if velocity is None:
        velocity = {k: np.zeros_like(p) for k, p in params.items()}
    for k, p in params.items():
        velocity[k] = momentum * velocity[k] - lr * grads[k]
        p += velocity[k]
    return velocity


# ------------------------------------------------------------------------- clipping
def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    r"""The length of all gradients together, :math:`\|g\| = (\sum_{\text{arrays}}\sum_i g_i^2)^{1/2}`.

    If the squares overflow (entries above about 1e154), every entry is first divided by
    the largest magnitude, and the norm multiplied back.  No input checks.
    """
    total = math.fsum(float(np.vdot(g, g)) for g in grads.values())
    if math.isfinite(total):
        return math.sqrt(total)
    big = max(float(np.max(np.abs(g))) for g in grads.values())
    return big * math.sqrt(math.fsum(float(np.vdot(g / big, g / big)) for g in grads.values()))


def clip_grads(grads: dict[str, np.ndarray] | tuple | list, max_norm: float
               ) -> tuple[dict[str, np.ndarray] | tuple, float]:
    r"""Clip gradients by their global norm (Pascanu, Mikolov & Bengio 2013).

    .. math::
        \|g\| = \Big(\sum_{\text{arrays } a}\ \sum_i a_i^2\Big)^{1/2},\qquad
        g \leftarrow g \cdot \frac{c}{\|g\|}\ \text{ if } \|g\| > c

    All arrays are scaled by the same factor, so the direction of the whole update is
    kept and only its length is capped at ``max_norm`` (:math:`c`).  Pure: the inputs are
    not modified; new arrays are returned (copies when no clipping is needed).

    Parameters
    ----------
    grads : dict of str to ndarray, or tuple/list of ndarray
        E.g. from :func:`bpkit.seqmodel.rnn_model_backward` (or the tuple of
        :func:`bpkit.recurrence.rnn_backward`).
    max_norm : float > 0

    Returns
    -------
    clipped : dict (same keys) or tuple of ndarray
    total_norm : float
        The global norm *before* clipping (worth logging: spikes signal exploding gradients).
    """
    arrays, c = _check_clip(grads, max_norm)
    norm = global_norm(arrays)
    scale = c / norm if norm > c else 1.0
    clipped = {k: g * scale if scale != 1.0 else g.copy() for k, g in arrays.items()}
    if not isinstance(grads, Mapping):
        return tuple(clipped.values()), norm
    return clipped, norm
