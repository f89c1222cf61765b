r"""Gradient-descent updates.

:func:`sgd_step` applies :math:`\theta \leftarrow \theta - \eta\, \nabla_\theta L` to every
array of a parameter dict, in place; with momentum :math:`\mu`,
:math:`v \leftarrow \mu v - \eta \nabla_\theta L,\ \theta \leftarrow \theta + v`.
"""

from __future__ import annotations

import numpy as np

from ._validate import _F64, all_finite, check_positive, raise_nonfinite

__all__ = ["sgd_step"]


def sgd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float,
             momentum: float = 0.0, velocity: dict[str, np.ndarray] | None = None
             ) -> dict[str, np.ndarray] | None:
    r"""One step of (momentum) gradient descent, updating ``params`` in place.

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
    if not isinstance(params, dict) or not isinstance(grads, dict):
        bad = "params" if not isinstance(params, dict) else "grads"
        raise TypeError(f"{bad} must be a dict of arrays, got {type(params if bad == 'params' else grads).__name__}")
    if type(lr) is not float:
        check_positive("lr", lr)
    elif not 0.0 < lr < np.inf:
        raise ValueError(f"lr must be finite and > 0, got {lr!r}")
    if momentum != 0.0:
        check_positive("momentum", momentum)
        if momentum >= 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if params.keys() != grads.keys():
        raise ValueError(f"grads must have the same keys as params: params has {sorted(params)}, "
                         f"grads has {sorted(grads)}")
    for k, p in params.items():
        g = grads[k]
        if type(p) is not np.ndarray or p.dtype is not _F64:
            raise TypeError(f"params[{k!r}] must be a float64 ndarray (updated in place), "
                            f"got {type(p).__name__}" + (f" of dtype {p.dtype}" if hasattr(p, "dtype") else ""))
        if type(g) is not np.ndarray or g.shape != p.shape:
            raise ValueError(f"grads[{k!r}] must be an ndarray of shape {p.shape} like params[{k!r}], "
                             f"got {getattr(g, 'shape', type(g).__name__)}")
        if not all_finite(g):
            raise_nonfinite(f"grads[{k!r}]", g)
    if momentum != 0.0 and velocity is not None and (
            not isinstance(velocity, dict) or velocity.keys() != params.keys()):
        raise ValueError("velocity must be the dict returned by the previous sgd_step call "
                         "(same keys as params)")
    return _sgd_update(params, grads, lr, momentum, velocity)


def _sgd_update(params, grads, lr, momentum=0.0, velocity=None):
    if momentum == 0.0:
        for k, p in params.items():
            p -= lr * grads[k]
        return None
    if velocity is None:
        velocity = {k: np.zeros_like(p) for k, p in params.items()}
    for k, p in params.items():
        v = velocity[k]
        v *= momentum
        v -= lr * grads[k]
        p += v
    return velocity
