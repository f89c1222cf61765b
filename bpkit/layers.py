r"""One forward/backward pair per chain-rule step (batch-first, CS231n style).

Every ``*_forward`` returns ``(out, cache)``; the matching ``*_backward`` takes the
upstream gradient ``dout`` (same shape as ``out``) and the cache, and returns the
gradient with respect to each input, named ``d<input>``.

A batch has ``N`` rows.  With ``x`` of shape ``(N, D)`` and ``W`` of shape ``(D, H)``:

=====================  ===========================================  =========================
step                   forward                                      backward
=====================  ===========================================  =========================
dense                  :math:`z = xW + b`                            :math:`dx = dz\,W^\top,\ dW = x^\top dz,\ db = \sum_n dz_n`
sigmoid                :math:`a = \sigma(z)`                         :math:`dz = da \odot a \odot (1 - a)`
tanh                   :math:`a = \tanh z`                           :math:`dz = da \odot (1 - a^2)`
relu                   :math:`a = \max(z, 0)`                        :math:`dz = da \odot [z > 0]`
identity               :math:`a = z`                                 :math:`dz = da`
=====================  ===========================================  =========================

The derivative of ReLU at exactly 0 is taken as 0 (SymPy's ``Heaviside(z, 0)``).

The public functions validate their inputs; the underscored twins do the same
arithmetic without checks and are what :mod:`bpkit.mlp` chains together after it
has validated the whole batch once.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_array, check_shape

__all__ = [
    "dense_forward", "dense_backward",
    "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward",
    "relu_forward", "relu_backward",
    "identity_forward", "identity_backward",
    "sigmoid",
]


# ----------------------------------------------------------------------------- dense
def _dense_forward(x, W, b):
    z = x @ W
    if b is not None:
        z += b
    return z, (x, W)


def _dense_backward(dz, cache):
    x, W = cache
    return dz @ W.T, x.T @ dz, dz.sum(axis=0)


def dense_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray | None
                  ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    r"""Affine step :math:`z = xW + b`.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        A batch of N inputs (rows).
    W : ndarray, shape (D, H)
        Weights.
    b : ndarray, shape (H,), or None
        Bias, broadcast over the batch; ``None`` for a layer without bias.

    Returns
    -------
    z : ndarray, shape (N, H)
    cache : tuple ``(x, W)``
        What :func:`dense_backward` needs.
    """
    x = as_array("x", x, 2)
    W = as_array("W", W, 2)
    check_shape("W", W, (x.shape[1], None), f"rows must match x's {x.shape[1]} columns")
    if b is not None:
        b = as_array("b", b, 1)
        check_shape("b", b, (W.shape[1],), "one entry per column of W")
    return _dense_forward(x, W, b)


def dense_backward(dz: np.ndarray, cache: tuple[np.ndarray, np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of :math:`z = xW + b`.

    .. math:: dx = dz\,W^\top,\qquad dW = x^\top dz,\qquad db = \textstyle\sum_{n} dz_{n,:}

    The bias gradient is *summed* over the batch (the bias is added to every row).

    Parameters
    ----------
    dz : ndarray, shape (N, H)
        Upstream gradient :math:`\partial L/\partial z`.
    cache : tuple
        From :func:`dense_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dW : ndarray, shape (D, H)
    db : ndarray, shape (H,)
        Returned even when the forward pass had no bias.
    """
    x, W = _unpack(cache, 2, "dense_forward")
    dz = as_array("dz", dz, 2)
    check_shape("dz", dz, (x.shape[0], W.shape[1]), "the shape of z = x @ W + b")
    return _dense_backward(dz, cache)


# ----------------------------------------------------------------------- activations
def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""Logistic function :math:`\sigma(z) = 1/(1 + e^{-z})`, computed as
    :math:`\exp(-\log(1 + e^{-z}))` with ``np.logaddexp`` so that it never overflows
    (finite and warning-free at ``z = ±1e4``).  No input checks; any shape."""
    t = np.negative(np.asarray(z, dtype=np.float64))
    if t.ndim == 0:  # scalars: ufuncs return numpy scalars, which cannot take out=
        return np.exp(-np.logaddexp(0.0, t))
    np.logaddexp(0.0, t, out=t)
    np.negative(t, out=t)
    return np.exp(t, out=t)


def _sigmoid_forward(z):
    a = np.negative(z)
    np.logaddexp(0.0, a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    return a, a


def _sigmoid_backward(da, a):
    dz = 1.0 - a
    dz *= a
    dz *= da
    return dz


def _tanh_forward(z):
    a = np.tanh(z)
    return a, a


def _tanh_backward(da, a):
    dz = a * a
    np.subtract(1.0, dz, out=dz)
    dz *= da
    return dz


def _relu_forward(z):
    return np.maximum(z, 0.0), z


def _relu_backward(da, z):
    return da * (z > 0)


def _identity_forward(z):
    return z, z


def _identity_backward(da, z):
    return da


def _activation_forward(z, fn):
    z = as_array("z", z)
    return fn(z)


def _activation_backward(da, cache, fn, forward_name):
    if type(cache) is not np.ndarray:
        raise TypeError(f"cache must be the ndarray returned by {forward_name}, "
                        f"got {type(cache).__name__}")
    da = as_array("da", da)
    check_shape("da", da, cache.shape, f"the shape of {forward_name}'s output")
    return fn(da, cache)


def sigmoid_forward(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Sigmoid step :math:`a = \sigma(z)`.

    Parameters
    ----------
    z : ndarray, any shape (typically (N, H))

    Returns
    -------
    a : ndarray, same shape as z, values in [0, 1]
    cache : ndarray
        The *output* ``a``: the derivative is written in terms of it,
        :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z)) = a(1 - a)`.  It is the same
        array object as ``a``: modify a copy of ``a``, not ``a`` itself, before calling
        :func:`sigmoid_backward`.
    """
    return _activation_forward(z, _sigmoid_forward)


def sigmoid_backward(da: np.ndarray, cache: np.ndarray) -> np.ndarray:
    r""":math:`dz = da \odot a \odot (1 - a)` where ``a = cache`` is the sigmoid's *output*.

    Parameters
    ----------
    da : ndarray, same shape as a
        Upstream gradient :math:`\partial L/\partial a`.
    cache : ndarray
        From :func:`sigmoid_forward` (the activation ``a``, not the pre-activation ``z``).

    Returns
    -------
    dz : ndarray, same shape as a
    """
    return _activation_backward(da, cache, _sigmoid_backward, "sigmoid_forward")


def tanh_forward(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Tanh step :math:`a = \tanh z`.

    Parameters
    ----------
    z : ndarray, any shape

    Returns
    -------
    a : ndarray, same shape as z, values in [-1, 1]
    cache : ndarray
        The output ``a``; :math:`\tanh'(z) = 1 - a^2`.
    """
    return _activation_forward(z, _tanh_forward)


def tanh_backward(da: np.ndarray, cache: np.ndarray) -> np.ndarray:
    r""":math:`dz = da \odot (1 - a^2)` where ``a = cache`` is the tanh output.

    Parameters
    ----------
    da : ndarray, same shape as a
    cache : ndarray
        From :func:`tanh_forward`.

    Returns
    -------
    dz : ndarray, same shape as a
    """
    return _activation_backward(da, cache, _tanh_backward, "tanh_forward")


def relu_forward(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""ReLU step :math:`a = \max(z, 0)`.

    Parameters
    ----------
    z : ndarray, any shape

    Returns
    -------
    a : ndarray, same shape as z
    cache : ndarray
        The *input* ``z`` (the derivative depends on its sign).
    """
    return _activation_forward(z, _relu_forward)


def relu_backward(da: np.ndarray, cache: np.ndarray) -> np.ndarray:
    r""":math:`dz = da \odot [z > 0]`, with derivative 0 at ``z == 0``.

    Parameters
    ----------
    da : ndarray, same shape as z
    cache : ndarray
        From :func:`relu_forward` (the pre-activation ``z``).

    Returns
    -------
    dz : ndarray, same shape as z
    """
    return _activation_backward(da, cache, _relu_backward, "relu_forward")


def identity_forward(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Identity step :math:`a = z` (a linear output layer).

    Parameters
    ----------
    z : ndarray, any shape

    Returns
    -------
    a : ndarray, same as z
    cache : ndarray
    """
    return _activation_forward(z, _identity_forward)


def identity_backward(da: np.ndarray, cache: np.ndarray) -> np.ndarray:
    r""":math:`dz = da`.

    Parameters
    ----------
    da : ndarray, same shape as z
    cache : ndarray
        From :func:`identity_forward`.

    Returns
    -------
    dz : ndarray
    """
    return _activation_backward(da, cache, _identity_backward, "identity_forward")


#: name -> (forward, backward) without checks, used by :mod:`bpkit.mlp`.
ACTIVATIONS = {
    "sigmoid": (_sigmoid_forward, _sigmoid_backward),
    "tanh": (_tanh_forward, _tanh_backward),
    "relu": (_relu_forward, _relu_backward),
    "identity": (_identity_forward, _identity_backward),
}


def _unpack(cache, n, forward_name):
    if type(cache) is not tuple or len(cache) != n:
        raise TypeError(f"cache must be the tuple returned by {forward_name}, "
                        f"got {type(cache).__name__}")
    return cache
