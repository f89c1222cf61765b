r"""A vanilla (Elman) recurrent network and backpropagation through time (BPTT).

Index convention (NOTES item 8).  In the maths, inputs and states are numbered from 1,
and :math:`h_0` is the initial state:

.. math::
    h_t = \tanh(x_t W_x + h_{t-1} W_h + b),\qquad t = 1, \dots, T,
    \qquad z_t = h_t W_y + b_y \ \text{(per-step output layer)}.

In the code the time axis is axis 1 (batch-first) and 0-based, so with ``X`` of shape
``(N, T, D)`` and the returned ``Hs`` of shape ``(N, T, H)``:

==================  ==========================  ==============================
maths               code                        meaning
==================  ==========================  ==============================
:math:`h_0`         ``h0``                      initial state (not in ``Hs``)
:math:`x_t`         ``X[:, t - 1]``             input of step t
:math:`h_t`         ``Hs[:, t - 1]``            state after reading :math:`x_t`
:math:`h_{t-1}`     ``Hs[:, t - 2]`` (``h0``)   the state step t reads
==================  ==========================  ==============================

so ``Hs[:, 0]`` is the state after the first input and ``Hs[:, -1]`` the final state.

Backward.  Let :math:`\bar h_t = \partial L/\partial h_t` be the *total* gradient at step
t and :math:`g_t` (``dHs[:, t - 1]``) only the part from the loss terms that read
:math:`h_t` *directly* (the output layer of step t).  Walking back from :math:`t = T`:

.. math::
    \bar h_T = g_T,\qquad
    \bar h_t = g_t + \delta_{t+1} W_h^\top,\qquad
    \delta_t = \bar h_t \odot (1 - h_t^2),

.. math::
    \frac{\partial L}{\partial W_x} = \sum_{t=1}^{T} x_t^\top \delta_t,\quad
    \frac{\partial L}{\partial W_h} = \sum_{t=1}^{T} h_{t-1}^\top \delta_t,\quad
    \frac{\partial L}{\partial b} = \sum_{t=1}^{T}\sum_{n} \delta_{t,n},\quad
    \frac{\partial L}{\partial x_t} = \delta_t W_x^\top,\quad
    \frac{\partial L}{\partial h_0} = \delta_1 W_h^\top.

The weight gradients are sums over time because the same :math:`W_x, W_h, b` are used at
every step (give each step its own copy :math:`W_h^{(t)}`, differentiate, then set the
copies equal: :math:`\partial L/\partial W_h = \sum_t \partial L/\partial W_h^{(t)}`);
the term :math:`\delta_{t+1} W_h^\top` is the gradient that arrives from step t + 1
(NOTES items 6 and 7), and :math:`W_h`'s gradient pairs :math:`\delta_t` with the
*previous* state :math:`h_{t-1}` (item 8).

Like :mod:`bpkit.layers`, every ``*_forward`` returns ``(out, cache)`` and every
``*_backward`` returns gradients named ``d<input>``; the public functions validate their
inputs once and call unchecked underscored twins.  Internally the recurrence runs
time-major (``(T, N, H)``, one contiguous block per step); the arrays returned are
batch-first views of it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ._validate import (all_finite, as_array, check_positive, check_shape, in_unit_interval,
                        is_f64, raise_nonfinite)
from .layers import sigmoid
from .optim import _sgd_update

__all__ = [
    "rnn_step_forward", "rnn_step_backward",
    "rnn_forward", "rnn_backward", "rnn_backward_states",
    "init_rnn", "rnn_model_forward", "rnn_model_backward",
    "sequence_bce_logits_loss", "sequence_accuracy", "clip_grads", "train_rnn",
    "PARAM_NAMES", "RECIPE",
]

#: Keys of the sequence model's parameter dict, in the order :func:`init_rnn` draws them.
PARAM_NAMES = ("Wx", "Wh", "bh", "Wy", "by")

#: Default hyper-parameters of :func:`train_rnn` (the delayed-XOR recipe, see its docstring).
RECIPE = {"epochs": 300, "lr": 0.3, "momentum": 0.9, "clip": 1.0}


# ============================================================================ helpers
def _fmt(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_truncate(truncate: Any) -> int:
    """Return truncate as an int >= 1, or 0 for None (full BPTT)."""
    if truncate is None:
        return 0
    if isinstance(truncate, (bool, np.bool_)) or not isinstance(truncate, (int, np.integer)):
        raise TypeError(f"truncate must be None (full BPTT) or an int >= 1, "
                        f"got {type(truncate).__name__} ({truncate!r})")
    if truncate < 1:
        raise ValueError(f"truncate must be None (full BPTT) or an int >= 1, got {truncate}")
    return int(truncate)


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_rnn_arrays(X, h0, Wx, Wh, b, names=("X", "h0", "Wx", "Wh", "b")):
    """Validate the recurrence's inputs; return them as float64 arrays.

    ``X`` is (N, T, D) for the sequence functions and (N, D) for a single step.
    """
    nx = 3 if names[0] == "X" else 2
    if (is_f64(X, nx) and is_f64(h0, 2) and is_f64(Wx, 2) and is_f64(Wh, 2) and is_f64(b, 1)
            and X.size and Wh.size and X.shape[0] == h0.shape[0] and X.shape[-1] == Wx.shape[0]
            and Wh.shape[0] == Wh.shape[1] == Wx.shape[1] == h0.shape[1] == b.shape[0]
            and all_finite(X) and all_finite(h0) and all_finite(Wx) and all_finite(Wh)
            and all_finite(b)):
        return X, h0, Wx, Wh, b
    nX, nh0, nWx, nWh, nb = names
    X = as_array(nX, X, nx)
    Wx = as_array(nWx, Wx, 2)
    D = X.shape[-1]
    check_shape(nWx, Wx, (D, None), f"rows must match the {D} features of {nX}")
    H = Wx.shape[1]
    Wh = as_array(nWh, Wh, 2)
    check_shape(nWh, Wh, (H, H), f"square, H = {H} = the columns of {nWx}")
    b = as_array(nb, b, 1)
    check_shape(nb, b, (H,), f"one entry per hidden unit, H = {H}")
    h0 = as_array(nh0, h0, 2)
    check_shape(nh0, h0, (X.shape[0], H), f"N = {X.shape[0]} rows like {nX}, H = {H} columns")
    return X, h0, Wx, Wh, b


def _check_grad_in(name, arr, shape, what):
    if not (is_f64(arr, len(shape)) and arr.shape == shape and all_finite(arr)):
        arr = as_array(name, arr, len(shape))
        check_shape(name, arr, shape, what)
    return arr


def _cache_check(cache, n, tag, forward_name):
    if type(cache) is not tuple or len(cache) != n or type(cache[0]) is not str or cache[0] != tag:
        raise TypeError(f"cache must be the tuple returned by {forward_name}, "
                        f"got {type(cache).__name__}")


# ====================================================================== single step
def _rnn_step_forward(x, h_prev, Wx, Wh, b):
    a = x @ Wx
    a += h_prev @ Wh
    a += b
    h = np.tanh(a, out=a)
    return h, ("rnn_step", x, h_prev, Wx, Wh, h)


def _rnn_step_backward(dh, cache):
    _, x, h_prev, Wx, Wh, h = cache
    da = h * h
    np.subtract(1.0, da, out=da)
    da *= dh
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)


def rnn_step_forward(x_t: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, tuple]:
    r"""One step of the recurrence, :math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)`.

    Parameters
    ----------
    x_t : ndarray, shape (N, D)
        The batch's inputs at this step.
    h_prev : ndarray, shape (N, H)
        The previous state :math:`h_{t-1}`.
    Wx : ndarray, shape (D, H)
        Input-to-hidden weights.
    Wh : ndarray, shape (H, H)
        Hidden-to-hidden (recurrent) weights.
    b : ndarray, shape (H,)
        Hidden bias.

    Returns
    -------
    h_t : ndarray, shape (N, H)
        The new state, in [-1, 1]; finite for any finite input (``np.tanh`` saturates).
    cache : tuple
        What :func:`rnn_step_backward` needs (inputs and the *output* :math:`h_t`:
        :math:`\tanh'(a) = 1 - h_t^2`).
    """
    x_t, h_prev, Wx, Wh, b = _check_rnn_arrays(x_t, h_prev, Wx, Wh, b,
                                               ("x_t", "h_prev", "Wx", "Wh", "b"))
    return _rnn_step_forward(x_t, h_prev, Wx, Wh, b)


def rnn_step_backward(dh_t: np.ndarray, cache: tuple
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of one step :math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)`.

    With :math:`\delta = dh_t \odot (1 - h_t^2)`:

    .. math::
        dx_t = \delta W_x^\top,\quad dh_{t-1} = \delta W_h^\top,\quad
        dW_x = x_t^\top \delta,\quad dW_h = h_{t-1}^\top \delta,\quad
        db = \textstyle\sum_n \delta_n

    Parameters
    ----------
    dh_t : ndarray, shape (N, H)
        The *total* gradient :math:`\partial L/\partial h_t`: the output layer's part at
        this step **plus** the ``dh_prev`` that came back from step t + 1.
    cache : tuple
        From :func:`rnn_step_forward`.

    Returns
    -------
    dx_t : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
        The part of :math:`\partial L/\partial h_{t-1}` that flows through this step; add it
        to step t − 1's own output gradient.
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
        This step's contributions; over a sequence they are summed.
    """
    _cache_check(cache, 6, "rnn_step", "rnn_step_forward")
    dh_t = _check_grad_in("dh_t", dh_t, cache[5].shape, "the shape of h_t")
    return _rnn_step_backward(dh_t, cache)


# ========================================================================= sequences
def _forward_tm(Xtm, h0, Wx, Wh, b):
    """Time-major recurrence.  Xtm (T, N, D) -> Hall (T + 1, N, H), Hall[0] = h0."""
    T, N, D = Xtm.shape
    H = Wh.shape[0]
    Hall = np.empty((T + 1, N, H))
    Hall[0] = h0
    A = Hall[1:]
    np.matmul(Xtm.reshape(T * N, D), Wx, out=A.reshape(T * N, H))  # every x_t W_x at once
    A += b
    h = h0
    for t in range(T):
        a = A[t]
        a += h @ Wh
        h = np.tanh(a, out=a)
    return Hall


def _bptt(dHs_tm, Xtm, Hall, Wx, Wh, k, want_dX=True, want_states=False):
    """The one BPTT core behind rnn_backward, rnn_backward_states and the model.

    dHs_tm (T, N, H) direct gradients (may be a strided view); k = chunk length, 0 for
    full BPTT.  Returns dX_tm or None, dh0, dWx, dWh, db, dH_tm or None.
    """
    T, N, H = dHs_tm.shape
    Hs = Hall[1:]
    delta = Hs * Hs                      # becomes delta_t = dH_t * (1 - h_t^2), step by step
    np.subtract(1.0, delta, out=delta)
    dH = np.empty((T, N, H)) if want_states else None
    WhT = Wh.T
    dnext = None                         # delta_{t+1} W_h^T: what step t+1 sends back
    for t in range(T - 1, -1, -1):
        d = delta[t]
        if dnext is None or (k and (t + 1) % k == 0):  # last step, or chunk end: detached
            d *= dHs_tm[t]
            if want_states:
                dH[t] = dHs_tm[t]
        else:
            dnext += dHs_tm[t]           # total gradient at step t
            if want_states:
                dH[t] = dnext
            d *= dnext
        dnext = d @ WhT
    D2 = delta.reshape(T * N, H)
    D = Xtm.shape[2]
    dWx = Xtm.reshape(T * N, D).T @ D2
    dWh = Hall[:-1].reshape(T * N, H).T @ D2
    db = D2.sum(axis=0)
    dX = (D2 @ Wx.T).reshape(T, N, D) if want_dX else None
    return dX, dnext, dWx, dWh, db, dH


def rnn_forward(X: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
                ) -> tuple[np.ndarray, tuple]:
    r"""Run the recurrence over whole sequences,
    :math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)` for :math:`t = 1 \dots T`.

    Parameters
    ----------
    X : ndarray, shape (N, T, D)
        N sequences of T steps with D features; ``X[:, t - 1]`` is :math:`x_t`.
    h0 : ndarray, shape (N, H)
        Initial state :math:`h_0` (use zeros for a fresh start).
    Wx : ndarray, shape (D, H)
    Wh : ndarray, shape (H, H)
    b : ndarray, shape (H,)

    Returns
    -------
    Hs : ndarray, shape (N, T, H)
        The state after every step: ``Hs[:, t - 1]`` is :math:`h_t`, so ``Hs[:, 0]`` is
        the state after the first input and ``Hs[:, -1]`` the final state; :math:`h_0`
        is not included.  A batch-first view of a time-major array.
    cache : tuple
        For :func:`rnn_backward` / :func:`rnn_backward_states`.
    """
    X, h0, Wx, Wh, b = _check_rnn_arrays(X, h0, Wx, Wh, b)
    Xtm = X.transpose(1, 0, 2)
    Hall = _forward_tm(Xtm, h0, Wx, Wh, b)
    return Hall[1:].transpose(1, 0, 2), ("rnn", Xtm, Hall, Wx, Wh)


def _check_rnn_backward(dHs, cache, truncate):
    _cache_check(cache, 5, "rnn", "rnn_forward")
    k = _check_truncate(truncate)
    Hall = cache[2]
    T1, N, H = Hall.shape
    if not (is_f64(dHs, 3) and dHs.shape == (N, T1 - 1, H) and all_finite(dHs)):
        dHs = as_array("dHs", dHs, 3)
        check_shape("dHs", dHs, (N, T1 - 1, H), "the shape (N, T, H) of rnn_forward's Hs")
    return dHs, k


def rnn_backward(dHs: np.ndarray, cache: tuple, truncate: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Backpropagation through time for :func:`rnn_forward` (full or truncated).

    Implements the recursion in the module docstring: walking back from the last step,
    the total gradient at step t is the direct one plus what step t + 1 sends back,
    :math:`\bar h_t = g_t + \delta_{t+1} W_h^\top`, and the weight gradients are sums
    over all steps.

    Truncated BPTT (``truncate=k``), the chunked form of Williams & Peng (1990): the
    sequence is cut into consecutive chunks of k steps, code steps ``[0, k)``,
    ``[k, 2k)``, … (maths steps :math:`1..k,\ k+1..2k, \dots`; the last chunk may be
    shorter).  The gradient that would flow from a chunk into the last state of the
    previous chunk is dropped — :math:`\bar h_t = g_t` when :math:`t` is a multiple of k
    — which is exactly what detaching (treating as a constant) the hidden state at every
    chunk boundary does in chunked TBPTT training, with the forward pass still carried
    across the boundary.  The parameter gradients are the sums of the per-chunk
    gradients; ``dh0`` is the gradient reaching :math:`h_0` from the first chunk (later
    chunks contribute nothing).  ``truncate >= T`` is one chunk: full BPTT, bit for bit.
    This is the gradient of the *truncated objective*, not of the loss; gradient-check
    it against a forward pass whose chunk-initial states are constants.

    Which dependencies can it learn?  The loss at a step in position p of its chunk
    (``p = t mod k``, 0-based) is differentiated through that step and the p steps
    before it, down to the chunk's initial state, which enters as a constant *input*.
    A target that needs the input from d steps back (delayed XOR with ``delay=d``)
    therefore gets a gradient along the path "state holding :math:`x_{t-d}` → … →
    :math:`h_t`" only when :math:`p \ge d - 1`: for :math:`p = d - 1` the constant
    initial state is the state that has just read :math:`x_{t-d}`.  So chunks of
    :math:`k \ge d` steps can teach the memory (a fraction :math:`(k-d+1)/k` of the
    targets carries the signal), chunks of :math:`k < d` cannot: measured on delay 5
    (``train_rnn`` defaults, 10 seeds) k = 1, 2, 4 learn 0/10 (final accuracy median
    0.52-0.56), k = 5, 6, 10 learn 10/10.  For short delays the truncated gradient
    can still stumble on a solution, because the same :math:`W_h` that it trains to
    *read* the previous state also *carries* the older input: k = 1 learns delay 2 on
    9/10 seeds and delay 3 on 3/10 (k = 2: 1/10).

    Parameters
    ----------
    dHs : ndarray, shape (N, T, H)
        :math:`g_t = \partial L/\partial h_t` from the loss terms that read :math:`h_t`
        *directly* (e.g. the per-step output layer), ``dHs[:, t - 1]`` for :math:`h_t` —
        not the total gradient.
    cache : tuple
        From :func:`rnn_forward`.
    truncate : int >= 1 or None
        Chunk length k for truncated BPTT; ``None`` (default) for full BPTT.

    Returns
    -------
    dX : ndarray, shape (N, T, D)
    dh0 : ndarray, shape (N, H)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    """
    dHs, k = _check_rnn_backward(dHs, cache, truncate)
    _, Xtm, Hall, Wx, Wh = cache
    dX, dh0, dWx, dWh, db, _ = _bptt(dHs.transpose(1, 0, 2), Xtm, Hall, Wx, Wh, k)
    return dX.transpose(1, 0, 2), dh0, dWx, dWh, db


def rnn_backward_states(dHs: np.ndarray, cache: tuple, truncate: int | None = None
                        ) -> np.ndarray:
    r"""The *total* gradient :math:`\bar h_t = \partial L/\partial h_t` at every step.

    Same recursion (and same code) as :func:`rnn_backward`,
    :math:`\bar h_T = g_T,\ \bar h_t = g_t + \delta_{t+1} W_h^\top`,
    with :math:`\delta_t = \bar h_t \odot (1 - h_t^2)`; with ``truncate=k`` the term from
    step t + 1 is dropped at chunk ends (t a multiple of k), so the result is the total
    gradient of the truncated objective.  Useful to watch gradients vanish or explode
    as they travel back in time: plot ``np.linalg.norm(dH, axis=2)`` against t.

    Relations: ``dH[:, -1] == dHs[:, -1]``, and ``rnn_backward``'s
    :math:`dh_0 = \big(\bar h_1 \odot (1 - h_1^2)\big) W_h^\top` =
    ``(dH[:, 0] * (1 - Hs[:, 0]**2)) @ Wh.T``.

    Parameters
    ----------
    dHs : ndarray, shape (N, T, H)
        Direct gradients, as for :func:`rnn_backward`.
    cache : tuple
        From :func:`rnn_forward`.
    truncate : int >= 1 or None

    Returns
    -------
    dH : ndarray, shape (N, T, H)
        ``dH[:, t - 1]`` is :math:`\bar h_t`.
    """
    dHs, k = _check_rnn_backward(dHs, cache, truncate)
    _, Xtm, Hall, Wx, Wh = cache
    *_, dH = _bptt(dHs.transpose(1, 0, 2), Xtm, Hall, Wx, Wh, k, want_dX=False, want_states=True)
    return dH.transpose(1, 0, 2)


# ==================================================================== sequence model
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
    D, H, K = _check_int("D", D, 1), _check_int("H", H, 1), _check_int("K", K, 1)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    s = 1.0 if scale is None else float(check_positive("scale", scale, allow_zero=True))
    rng = np.random.default_rng(seed)
    Wx = rng.uniform(-1.0, 1.0, (D, H)) * math.sqrt(6.0 / (D + H))
    Q, R = np.linalg.qr(rng.standard_normal((H, H)))
    Q *= np.where(np.diag(R) < 0, -1.0, 1.0)      # Haar measure (Mezzadri 2007)
    Wy = rng.uniform(-1.0, 1.0, (H, K)) * math.sqrt(6.0 / (H + K))
    return {"Wx": Wx, "Wh": s * Q, "bh": np.zeros(H), "Wy": Wy, "by": np.zeros(K)}


def _check_params(params):
    """Return (Wx, Wh, bh, Wy, by) after checking keys, shapes and values."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays with keys {PARAM_NAMES}, "
                        f"got {type(params).__name__}")
    try:
        Wx, Wh, bh, Wy, by = (params[k] for k in PARAM_NAMES)
        if (len(params) == 5 and is_f64(Wx, 2) and is_f64(Wh, 2) and is_f64(bh, 1)
                and is_f64(Wy, 2) and is_f64(by, 1) and Wx.size and Wy.size
                and Wx.shape[1] == Wh.shape[0] == Wh.shape[1] == bh.shape[0] == Wy.shape[0]
                and Wy.shape[1] == by.shape[0]
                and all_finite(Wx) and all_finite(Wh) and all_finite(bh) and all_finite(Wy)
                and all_finite(by)):
            return Wx, Wh, bh, Wy, by
    except KeyError:
        pass
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
    return Wx, Wh, bh, Wy, by


def _check_X_h0(X, h0, Wx):
    D, H = Wx.shape
    if not (is_f64(X, 3) and X.shape[2] == D and X.shape[0] and X.shape[1] and all_finite(X)):
        X = as_array("X", X, 3)
        check_shape("X", X, (None, None, D), f"the last axis must match the {D} rows of Wx")
    N = X.shape[0]
    if h0 is None:
        h0 = np.zeros((N, H))
    elif not (is_f64(h0, 2) and h0.shape == (N, H) and all_finite(h0)):
        h0 = as_array("h0", h0, 2)
        check_shape("h0", h0, (N, H), f"N = {N} rows like X, H = {H} columns")
    return X, h0


def _model_forward_tm(Xtm, h0, Wx, Wh, bh, Wy, by):
    """Time-major model forward: Z_tm (T, N, K) and what the backward needs."""
    Hall = _forward_tm(Xtm, h0, Wx, Wh, bh)
    T, N, H = Hall.shape[0] - 1, Hall.shape[1], Hall.shape[2]
    Z = Hall[1:].reshape(T * N, H) @ Wy
    Z += by
    return Z.reshape(T, N, -1), Hall


def _model_backward_tm(dZ_tm, Xtm, Hall, Wx, Wh, Wy, k, want_dX=False):
    T, N, K = dZ_tm.shape
    H = Wh.shape[0]
    dZ2 = dZ_tm.reshape(T * N, K)
    dWy = Hall[1:].reshape(T * N, H).T @ dZ2
    dby = dZ2.sum(axis=0)
    dHs = (dZ2 @ Wy.T).reshape(T, N, H)
    dX, dh0, dWx, dWh, dbh, _ = _bptt(dHs, Xtm, Hall, Wx, Wh, k, want_dX=want_dX)
    return {"Wx": dWx, "Wh": dWh, "bh": dbh, "Wy": dWy, "by": dby}, dX, dh0


def rnn_model_forward(params: dict[str, np.ndarray], X: np.ndarray, h0: np.ndarray | None = None
                      ) -> tuple[np.ndarray, tuple]:
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
    cache : tuple
        For :func:`rnn_model_backward`; ``cache[2][1:].transpose(1, 0, 2)`` are the
        states ``Hs`` (N, T, H).
    """
    Wx, Wh, bh, Wy, by = _check_params(params)
    X, h0 = _check_X_h0(X, h0, Wx)
    Xtm = X.transpose(1, 0, 2)
    Z, Hall = _model_forward_tm(Xtm, h0, Wx, Wh, bh, Wy, by)
    return Z.transpose(1, 0, 2), ("rnn_model", Xtm, Hall, Wx, Wh, Wy)


def rnn_model_backward(dZ: np.ndarray, cache: tuple, truncate: int | None = None
                       ) -> dict[str, np.ndarray]:
    r"""Gradients of the sequence model's parameters by (truncated) BPTT.

    The output layer at step t gives :math:`dW_y = \sum_t h_t^\top dz_t`,
    :math:`db_y = \sum_{t,n} dz_{t,n}` and the direct state gradient
    :math:`g_t = dz_t W_y^\top`, which goes into :func:`rnn_backward`'s recursion (see
    there for ``truncate``).

    Parameters
    ----------
    dZ : ndarray, shape (N, T, K)
        :math:`\partial L/\partial Z`, e.g. from :func:`sequence_bce_logits_loss`.
    cache : tuple
        From :func:`rnn_model_forward`.
    truncate : int >= 1 or None
        Chunk length for truncated BPTT; ``None`` for full BPTT.

    Returns
    -------
    grads : dict of str to ndarray
        Keys and shapes of ``params``: ``"Wx"``, ``"Wh"``, ``"bh"``, ``"Wy"``, ``"by"``.
    """
    _cache_check(cache, 6, "rnn_model", "rnn_model_forward")
    k = _check_truncate(truncate)
    _, Xtm, Hall, Wx, Wh, Wy = cache
    T, N = Xtm.shape[:2]
    dZ = _check_grad_in("dZ", dZ, (N, T, Wy.shape[1]), "the shape (N, T, K) of the logits Z")
    return _model_backward_tm(dZ.transpose(1, 0, 2), Xtm, Hall, Wx, Wh, Wy, k)[0]


# ============================================================================ losses
def _check_mask(mask, N, T):
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
        if m.dtype.kind not in "biuf":
            raise TypeError(f"mask must be a bool (or 0/1) array, got dtype {m.dtype}")
        if m.ndim != 2:
            raise ValueError(f"mask must be 2-D (N, T), got {m.ndim}-D array of shape {_fmt(m.shape)}")
        check_shape("mask", m, (N, T), "one entry per sequence and step of Z")
        if m.dtype != np.bool_:
            if not np.isin(m, (0, 1)).all():
                raise ValueError("mask must hold only True/False or 0/1, got other values "
                                 f"(e.g. {m[~np.isin(m, (0, 1))].ravel()[0]!r})")
            m = m.astype(bool)
    if not m.any():
        raise ValueError("mask must select at least one step, got a mask with no True entry")
    return m


def _check_ZY(Z, Y, ZY=("Z", "Y")):
    if not (is_f64(Z, 3) and is_f64(Y, 3) and Z.shape == Y.shape and Z.size
            and all_finite(Z) and in_unit_interval(Y)):
        Z = as_array(ZY[0], Z, 3)
        Y = as_array(ZY[1], Y, 3, finite=False)
        check_shape(ZY[1], Y, Z.shape, f"the shape (N, T, K) of {ZY[0]}")
        if not all_finite(Y):
            raise_nonfinite(ZY[1], Y)
        if Y.min() < 0.0 or Y.max() > 1.0:
            raise ValueError(f"{ZY[1]} must hold targets in [0, 1], got values in "
                             f"[{Y.min():.6g}, {Y.max():.6g}]")
    return Z, Y


def _seq_bce(Z, Y, m):
    """Masked mean BCE with logits; m (N, T) bool.  Any memory layout of Z, Y."""
    K = Z.shape[2]
    w = m[:, :, None] * (1.0 / (np.count_nonzero(m) * K))   # (N, T, 1) weights
    sp = np.logaddexp(0.0, Z)            # log(1 + e^z) = -log(1 - sigma(z))
    sp -= Y * Z
    sp *= w
    loss = float(sp.sum())
    dZ = sigmoid(Z)
    dZ -= Y
    dZ *= w
    return loss, dZ


def sequence_bce_logits_loss(Z: np.ndarray, Y: np.ndarray, mask: np.ndarray
                             ) -> tuple[float, np.ndarray]:
    r"""Masked mean binary cross-entropy of per-step logits, computed stably.

    With :math:`m_{nt} \in \{0, 1\}` the mask, :math:`M = \sum_{n,t} m_{nt}` the number of
    masked-in steps and K the outputs per step:

    .. math::
        L = \frac{1}{M K}\sum_{n,t} m_{nt} \sum_{k}
            \Big[\log(1 + e^{z_{ntk}}) - y_{ntk}\, z_{ntk}\Big],
        \qquad
        \frac{\partial L}{\partial z_{ntk}} = \frac{m_{nt}}{M K}\big(\sigma(z_{ntk}) - y_{ntk}\big)

    i.e. the sum over the masked-in ``(n, t, k)`` entries divided by their number; the
    gradient is exactly 0 at masked-out steps, whatever Z and Y hold there.  Finite for
    any finite Z (``np.logaddexp``).

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
    Z, Y = _check_ZY(Z, Y)
    m = _check_mask(mask, Z.shape[0], Z.shape[1])
    return _seq_bce(Z, Y, m)


def _seq_acc(Z, Yb, m):
    """Masked accuracy: Yb = Y > 0.5 (bool), m (N, T) bool."""
    right = (Z > 0.0) == Yb
    return float(np.count_nonzero(right & m[:, :, None]) / (np.count_nonzero(m) * Z.shape[2]))


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
    Z, Y = _check_ZY(Z, Y)
    m = _check_mask(mask, Z.shape[0], Z.shape[1])
    return _seq_acc(Z, Y > 0.5, m)


# ========================================================================== clipping
def _global_norm(arrays):
    total = math.fsum(float(np.vdot(g, g)) for g in arrays)
    if math.isfinite(total):
        return math.sqrt(total)
    big = max(float(np.max(np.abs(g))) for g in arrays)  # overflow of the squares: rescale
    return big * math.sqrt(math.fsum(float(np.vdot(g / big, g / big)) for g in arrays))


def _clip(grads, max_norm):
    norm = _global_norm(grads.values())
    if norm > max_norm:
        s = max_norm / norm
        return {k: g * s for k, g in grads.items()}, norm
    return grads, norm


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
        E.g. from :func:`rnn_model_backward` (or the tuple of :func:`rnn_backward`).
    max_norm : float > 0

    Returns
    -------
    clipped : dict (same keys) or tuple of ndarray
    total_norm : float
        The global norm *before* clipping (worth logging: spikes signal exploding gradients).
    """
    if isinstance(grads, Mapping):
        items = list(grads.items())
    elif isinstance(grads, (tuple, list)):
        items = list(enumerate(grads))
    else:
        raise TypeError(f"grads must be a dict (or tuple/list) of arrays, got {type(grads).__name__}")
    if not items:
        raise ValueError("grads must hold at least one array, got an empty collection")
    c = float(check_positive("max_norm", max_norm))
    arrays = {}
    for k, g in items:
        arrays[k] = as_array(f"grads[{k!r}]", g, allow_empty=True)
    clipped, norm = _clip(arrays, c)
    out = {k: (g if clipped is not arrays else np.array(g, dtype=np.float64, copy=True))
           for k, g in clipped.items()}
    if not isinstance(grads, Mapping):
        return tuple(out[i] for i in range(len(items))), norm
    return out, norm


# ========================================================================== training
def train_rnn(X: np.ndarray, Y: np.ndarray, mask: np.ndarray, H: int, *,
              epochs: int = RECIPE["epochs"], lr: float = RECIPE["lr"], seed: int = 0,
              truncate: int | None = None, clip: float | None = RECIPE["clip"],
              momentum: float = RECIPE["momentum"], batch_size: int | None = None,
              eval_every: int | None = None, scale: float | None = None,
              stop_at: float | None = None, params: dict | None = None,
              chunk_updates: bool = False
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r"""Train the sequence model with (truncated) BPTT and gradient descent.

    Every update: :func:`rnn_model_forward` → :func:`sequence_bce_logits_loss` →
    :func:`rnn_model_backward` → :func:`clip_grads` (if ``clip``) →
    :func:`~bpkit.optim.sgd_step`; inputs are validated once, here, and the unchecked
    internals are called in the loop.  Deterministic: the randomness is the
    initialisation ``init_rnn(D, H, K, seed, scale)`` and, with ``batch_size``, the
    order of the minibatches (reshuffled every epoch from a generator seeded by
    ``seed``).

    The defaults are the book's delayed-XOR recipe (:data:`bpkit.rnn.RECIPE`): full batch,
    ``lr=0.3``, ``momentum=0.9``, ``clip=1.0``, ``epochs=300``, with ``H=16`` on
    ``delayed_xor(128, 20, delay, seed=s)`` and ``seed=s``.  Measured with full BPTT
    (numpy 2.4): delays 1, 2 and 3 each reach >= 99% masked training accuracy on
    20/20 seeds (0-19), first after a median of 25, 28 and 32 epochs (at most 33, 35,
    37); n=64 at delay 3 also 20/20 (at most 41 epochs).  Longer memories: delay 5
    10/10 seeds (at most 64 epochs), delay 8 10/10 within 600 epochs (at most 90; 8/10
    without clipping), delay 12 0/10 within 600 epochs — the gradient must travel
    back 12 steps.  With ``lr=1`` delays 1-3 are learned faster (median 14-19 epochs)
    but delay 5 only on 4/10 seeds.

    Parameters
    ----------
    X : ndarray, shape (N, T, D)
    Y : ndarray, shape (N, T, K)
        Targets in [0, 1].
    mask : ndarray of bool (or 0/1), shape (N, T)
        Steps that have a target.
    H : int >= 1
        Hidden units.
    epochs : int >= 1
        Passes over the data (one update per epoch full-batch, ``ceil(N / batch_size)``
        with minibatches).
    lr : float > 0
    seed : int
    truncate : int >= 1 or None
        Chunk length of truncated BPTT (see :func:`rnn_backward`); ``None`` = full BPTT.
    clip : float > 0 or None
        Global-norm gradient clipping threshold (:func:`clip_grads`); ``None`` = off.
    momentum : float in [0, 1)
    batch_size : int >= 1 or None
        Minibatch size; ``None`` (default) = full batch.
    eval_every : int >= 1 or None
        Also evaluate loss and accuracy on the whole training set with the current
        parameters every ``eval_every`` epochs and after the last one (history keys
        ``"eval_epoch"``, ``"eval_loss"``, ``"eval_accuracy"``).  Mostly useful with
        minibatches.
    scale : float >= 0 or None
        Spectral radius of the initial ``Wh`` (see :func:`init_rnn`).
    stop_at : float in (0, 1] or None
        Stop early after the first epoch whose updated parameters reach accuracy
        ``>= stop_at`` on the whole data (checked whenever the epoch's pre-update accuracy
        reached it), so the returned ``final_accuracy`` is ``>= stop_at``; the history
        arrays then end at that epoch.
    params : dict, optional
        Start from these parameters (copied) instead of :func:`init_rnn`'s.
    chunk_updates : bool
        Only with ``truncate=k``.  ``False`` (default): *accumulated* truncated BPTT — one
        forward pass over the whole sequence, the chunk gradients of :func:`rnn_backward`
        summed, one update per (mini)batch.  ``True``: *online* truncated BPTT as
        frameworks run it (Williams & Peng's TBPTT(k, k)) — for each chunk of k steps in
        turn: forward from the state the previous chunk ended in (carried over, treated as
        a constant), masked mean loss of the chunk's own targets, backward within the
        chunk, clip, update; the next chunk runs with the updated parameters.  Chunks
        without a target are run forward but cause no update.  The velocity of momentum
        is carried across chunks.  History entries are then means over the chunk updates
        (loss and accuracy weighted by the chunks' masked-in steps, taken before each
        chunk's update).

    Returns
    -------
    params : dict of str to ndarray
        Trained parameters (fresh arrays).
    history : dict of str to ndarray
        ``"loss"``, ``"accuracy"``, ``"grad_norm"``: shape (epochs run,).  Full batch:
        the loss, masked accuracy and global gradient norm (before clipping) at the
        parameters *before* that epoch's update.  Minibatches: their means over the
        epoch's minibatches (loss and accuracy weighted by masked-in steps).
        ``"final_loss"``, ``"final_accuracy"`` (shape ()): after the last update.
    """
    X = as_array("X", X, 3)
    N, T, D = X.shape
    Y = as_array("Y", Y, 3)
    if Y.shape[:2] != (N, T):
        check_shape("Y", Y, (N, T, None), "the same N sequences and T steps as X")
    if Y.min() < 0.0 or Y.max() > 1.0:
        raise ValueError(f"Y must hold targets in [0, 1], got values in [{Y.min():.6g}, {Y.max():.6g}]")
    m = _check_mask(mask, N, T)
    K = Y.shape[2]
    H = _check_int("H", H, 1)
    epochs = _check_int("epochs", epochs, 1)
    lr = float(check_positive("lr", lr))
    k = _check_truncate(truncate)
    if not isinstance(chunk_updates, (bool, np.bool_)):
        raise TypeError(f"chunk_updates must be True or False, got {type(chunk_updates).__name__} "
                        f"({chunk_updates!r})")
    if chunk_updates and not k:
        raise ValueError("chunk_updates=True needs truncate=k (an int >= 1): it updates after "
                         "every chunk of k steps; got truncate=None")
    if clip is not None:
        clip = float(check_positive("clip", clip))
    check_positive("momentum", momentum, allow_zero=True)
    if momentum >= 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if batch_size is not None:
        batch_size = _check_int("batch_size", batch_size, 1)
    if eval_every is not None:
        eval_every = _check_int("eval_every", eval_every, 1)
    if stop_at is not None:
        check_positive("stop_at", stop_at)
        if stop_at > 1.0:
            raise ValueError(f"stop_at must be in (0, 1], got {stop_at!r}")
    if params is None:
        params = init_rnn(D, H, K, seed=seed, scale=scale)
    else:
        Wx, Wh, bh, Wy, by = _check_params(params)
        if Wx.shape != (D, H) or Wy.shape[1] != K:
            raise ValueError(f"params must fit D={D}, H={H}, K={K}: got Wx {_fmt(Wx.shape)}, "
                             f"Wy {_fmt(Wy.shape)}")
        params = {k_: np.array(params[k_], dtype=np.float64) for k_ in PARAM_NAMES}

    # time-major copies once; every minibatch is then a slice along axis 1
    Xtm = np.ascontiguousarray(X.transpose(1, 0, 2))
    Ytm = np.ascontiguousarray(Y.transpose(1, 0, 2))
    Mtm = np.ascontiguousarray(m.T)
    Ybtm = Ytm > 0.5
    h0 = np.zeros((N, H))
    shuffle = np.random.default_rng((seed, 1)) if batch_size is not None else None
    p = params
    velocity = None

    def evaluate():
        Z, _ = _model_forward_tm(Xtm, h0, p["Wx"], p["Wh"], p["bh"], p["Wy"], p["by"])
        return _seq_bce(Z, Ytm, Mtm)[0], _seq_acc(Z, Ybtm, Mtm)

    def update(Xb, Yb, Ybb, Mb, h0b, window):
        """Forward, loss, backward (window: 0 full, k truncated), clip, one SGD step.

        Returns loss, accuracy, norm (before the update) and the last state."""
        nonlocal velocity
        Z, Hall = _model_forward_tm(Xb, h0b, p["Wx"], p["Wh"], p["bh"], p["Wy"], p["by"])
        loss, dZ = _seq_bce(Z, Yb, Mb)
        acc = _seq_acc(Z, Ybb, Mb)
        grads = _model_backward_tm(dZ, Xb, Hall, p["Wx"], p["Wh"], p["Wy"], window)[0]
        if clip is not None:
            grads, norm = _clip(grads, clip)
        else:
            norm = _global_norm(grads.values())
        if not math.isfinite(loss) or not math.isfinite(norm):
            raise FloatingPointError("training diverged (non-finite loss or gradient); "
                                     "lower lr or set clip")
        velocity = _sgd_update(p, grads, lr, momentum, velocity)
        return loss, acc, norm, Hall[-1]

    def step(Xb, Yb, Ybb, Mb, h0b):
        if not chunk_updates:                        # one update for the whole sequence
            return update(Xb, Yb, Ybb, Mb, h0b, k)[:3]
        h = h0b                                      # online TBPTT: one update per chunk
        tot_l = tot_a = tot_n = 0.0
        tot_w = count = 0
        for start in range(0, Xb.shape[0], k):
            c = slice(start, start + k)
            w = np.count_nonzero(Mb[c])
            if w == 0:                               # no target in this chunk: carry the state
                h = _forward_tm(Xb[c], h, p["Wx"], p["Wh"], p["bh"])[-1]
                continue
            l_, a_, n_, h = update(Xb[c], Yb[c], Ybb[c], Mb[c], h, 0)   # h: a constant input
            tot_l += w * l_
            tot_a += w * a_
            tot_w += w
            tot_n += n_
            count += 1
        return tot_l / tot_w, tot_a / tot_w, tot_n / count

    losses, accs, norms = np.empty(epochs), np.empty(epochs), np.empty(epochs)
    ev_epoch, ev_loss, ev_acc = [], [], []
    run = epochs
    for epoch in range(epochs):
        if eval_every is not None and epoch % eval_every == 0:
            ev_epoch.append(epoch)
            el, ea = evaluate()
            ev_loss.append(el)
            ev_acc.append(ea)
        if batch_size is None or batch_size >= N:
            losses[epoch], accs[epoch], norms[epoch] = step(Xtm, Ytm, Ybtm, Mtm, h0)
        else:
            order = shuffle.permutation(N)
            tot_l = tot_a = tot_n = tot_w = 0.0
            count = 0
            for start in range(0, N, batch_size):
                idx = order[start:start + batch_size]
                Mb = Mtm[:, idx]
                w = np.count_nonzero(Mb)
                if w == 0:       # a minibatch without any target: nothing to learn from
                    continue
                l_, a_, n_ = step(Xtm[:, idx], Ytm[:, idx], Ybtm[:, idx], Mb, h0[:len(idx)])
                tot_l += w * l_
                tot_a += w * a_
                tot_w += w
                tot_n += n_
                count += 1
            losses[epoch], accs[epoch] = tot_l / tot_w, tot_a / tot_w
            norms[epoch] = tot_n / count
        # the history holds pre-update accuracies; stop only if the *updated* weights
        # (what is returned) also reach stop_at on the whole data
        if stop_at is not None and accs[epoch] >= stop_at and evaluate()[1] >= stop_at:
            run = epoch + 1
            break
    final_loss, final_acc = evaluate()
    history = {"loss": losses[:run], "accuracy": accs[:run], "grad_norm": norms[:run],
               "final_loss": np.array(final_loss), "final_accuracy": np.array(final_acc)}
    if eval_every is not None:
        ev_epoch.append(run)
        ev_loss.append(final_loss)
        ev_acc.append(final_acc)
        history.update(eval_epoch=np.array(ev_epoch), eval_loss=np.array(ev_loss),
                       eval_accuracy=np.array(ev_acc))
    return params, history
