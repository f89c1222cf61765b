r"""The recurrence of a vanilla (Elman) RNN and backpropagation through time (BPTT).

.. math::
    a_t = x_t W_x + h_{t-1} W_h + b,\qquad h_t = \tanh(a_t),\qquad t = 1, \dots, T

Index convention.  In the maths, inputs and states are numbered from 1 and :math:`h_0` is
the initial state.  In the code the time axis is axis 1 (batch-first) and 0-based: with
``X`` of shape ``(N, T, D)`` and the returned ``Hs`` of shape ``(N, T, H)``,

==================  ==========================  ==============================
maths               code                        meaning
==================  ==========================  ==============================
:math:`h_0`         ``h0``                      initial state (not in ``Hs``)
:math:`x_t`         ``X[:, t - 1]``             input of step t
:math:`h_t`         ``Hs[:, t - 1]``            state after reading :math:`x_t`
:math:`h_{t-1}`     ``Hs[:, t - 2]`` (``h0``)   the state step t reads
==================  ==========================  ==============================

so ``Hs[:, 0]`` is the state after the first input and ``Hs[:, -1]`` the final state.

Backward (notation of the book's Notation page).  The *direct* gradient
:math:`\partial L/\partial h_t` (``dHs[:, t - 1]``) comes from the loss terms that read
:math:`h_t` itself (the output layer of step t); the *total* gradient :math:`dL/dh_t`
(``dh``) adds what step t + 1 sends back (``dh_next``).  Walking back from :math:`t = T`,
with nothing arriving from beyond the last step:

.. math::
    \frac{dL}{dh_t} = \frac{\partial L}{\partial h_t} + \delta_{t+1} W_h^\top,\qquad
    \delta_t = \frac{dL}{da_t} = \frac{dL}{dh_t} \odot (1 - h_t \odot h_t)

.. math::
    \frac{dL}{dW_x} = \sum_{t=1}^{T} x_t^\top \delta_t,\quad
    \frac{dL}{dW_h} = \sum_{t=1}^{T} h_{t-1}^\top \delta_t,\quad
    \frac{dL}{db} = \sum_{t=1}^{T}\sum_{n} \delta_{t,n},\quad
    \frac{dL}{dx_t} = \delta_t W_x^\top,\quad
    \frac{dL}{dh_0} = \delta_1 W_h^\top.

The weight gradients are sums over time because the same :math:`W_x, W_h, b` are used at
every step: give each step its own copy :math:`W_h^{(t)}`, differentiate, then set the
copies equal, :math:`dL/dW_h = \sum_t dL/dW_h^{(t)}` (gradients add where a value is used
more than once).  The term :math:`\delta_{t+1} W_h^\top` is the gradient that arrives from
step t + 1, and :math:`W_h`'s gradient pairs :math:`\delta_t` with the *previous* state
:math:`h_{t-1}`.

In code, :func:`rnn_backward` is exactly that: a reversed loop over
:func:`rnn_step_backward`,

.. code-block:: python

    for t in reversed(range(T)):
        dh = dHs[:, t] + dh_next                      # total gradient at h_t
        dX[:, t], dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh, cache.step(t))
        dWx += dWx_t; dWh += dWh_t; db += db_t        # the weights are shared: sum

Like :mod:`bpkit.layers`, every ``*_forward`` returns ``(out, cache)`` and every
``*_backward`` returns gradients named ``d<input>``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import as_array, check_cache, check_shape, check_truncate, checked

__all__ = ["StepCache", "RNNCache", "rnn_step_forward", "rnn_step_backward",
           "rnn_forward", "rnn_backward", "rnn_backward_states"]


class StepCache(NamedTuple):
    """What :func:`rnn_step_forward` remembers for :func:`rnn_step_backward`."""
    x_t: np.ndarray     #: (N, D) input of the step
    h_prev: np.ndarray  #: (N, H) state the step read, :math:`h_{t-1}`
    Wx: np.ndarray      #: (D, H)
    Wh: np.ndarray      #: (H, H)
    h_t: np.ndarray     #: (N, H) the step's output: :math:`\tanh'(a_t) = 1 - h_t^2`


class RNNCache(NamedTuple):
    """What :func:`rnn_forward` remembers: the inputs and every state."""
    X: np.ndarray       #: (N, T, D) inputs
    h0: np.ndarray      #: (N, H) initial state
    Hs: np.ndarray      #: (N, T, H) every state, ``Hs[:, t - 1]`` is :math:`h_t`
    Wx: np.ndarray      #: (D, H)
    Wh: np.ndarray      #: (H, H)
    b: np.ndarray       #: (H,)

    def step(self, t: int) -> StepCache:
        """The :class:`StepCache` of code step ``t`` (0-based), as :func:`rnn_step_forward` made it."""
        h_prev = self.Hs[:, t - 1] if t > 0 else self.h0
        return StepCache(self.X[:, t], h_prev, self.Wx, self.Wh, self.Hs[:, t])


# ----------------------------------------------------------------- validation (boundary)
def _check_recurrence(X, h0, Wx, Wh, b, names=("X", "h0", "Wx", "Wh", "b"), x_ndim=3):
    """Validate the inputs of the recurrence; return them as float64 arrays."""
    nX, nh0, nWx, nWh, nb = names
    X = as_array(nX, X, x_ndim)
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


def _check_step_forward(x_t, h_prev, Wx, Wh, b):
    return _check_recurrence(x_t, h_prev, Wx, Wh, b, ("x_t", "h_prev", "Wx", "Wh", "b"), x_ndim=2)


def _check_step_backward(dh_t, cache):
    check_cache(cache, StepCache, "rnn_step_forward")
    dh_t = as_array("dh_t", dh_t, 2)
    check_shape("dh_t", dh_t, cache.h_t.shape, "the shape of h_t")
    return dh_t, cache


def _check_backward(dHs, cache, truncate=None):
    check_cache(cache, RNNCache, "rnn_forward")
    dHs = as_array("dHs", dHs, 3)
    check_shape("dHs", dHs, cache.Hs.shape, "the shape (N, T, H) of rnn_forward's Hs")
    return dHs, cache, check_truncate(truncate)


# ------------------------------------------------------------------------- one step
@checked(_check_step_forward)
def rnn_step_forward(x_t: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                     b: np.ndarray) -> tuple[np.ndarray, StepCache]:
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
    cache : StepCache
        What :func:`rnn_step_backward` needs: the inputs and the *output* :math:`h_t`,
        since :math:`\tanh'(a_t) = 1 - h_t^2`.
    """
    h_t = np.tanh(x_t @ Wx + h_prev @ Wh + b)
    return h_t, StepCache(x_t, h_prev, Wx, Wh, h_t)


@checked(_check_step_backward)
def rnn_step_backward(dh_t: np.ndarray, cache: StepCache
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Gradients of one step :math:`h_t = \tanh(a_t)`, :math:`a_t = x_t W_x + h_{t-1} W_h + b`.

    With :math:`\delta_t = dL/da_t = dh_t \odot (1 - h_t \odot h_t)` (``da``):

    .. math::
        dx_t = \delta_t W_x^\top,\quad dh_{t-1} = \delta_t W_h^\top,\quad
        dW_x = x_t^\top \delta_t,\quad dW_h = h_{t-1}^\top \delta_t,\quad
        db = \textstyle\sum_n \delta_{t,n}

    Parameters
    ----------
    dh_t : ndarray, shape (N, H)
        The *total* gradient :math:`dL/dh_t`: the output layer's part at this step
        **plus** the ``dh_prev`` that came back from step t + 1.
    cache : StepCache
        From :func:`rnn_step_forward`.

    Returns
    -------
    dx_t : ndarray, shape (N, D)
    dh_prev : ndarray, shape (N, H)
        The part of :math:`dL/dh_{t-1}` that flows through this step; step t − 1 adds it
        to its own direct gradient.
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
        This step's contributions; over a sequence they are summed.
    """
    x_t, h_prev, Wx, Wh, h_t = cache
    da = dh_t * (1 - h_t**2)             # delta_t = dL/da_t
    return da @ Wx.T, da @ Wh.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)


# ------------------------------------------------------------------------ sequences
@checked(_check_recurrence)
def rnn_forward(X: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
                ) -> tuple[np.ndarray, RNNCache]:
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
        is not included.
    cache : RNNCache
        For :func:`rnn_backward` / :func:`rnn_backward_states`: the inputs and ``Hs``.
    """
    N, T, _ = X.shape
    Hs = np.empty((N, T, Wh.shape[0]))
    h = h0
    for t in range(T):
        h, _ = rnn_step_forward.unchecked(X[:, t], h, Wx, Wh, b)
        Hs[:, t] = h
    return Hs, RNNCache(X, h0, Hs, Wx, Wh, b)


@checked(_check_backward)
def rnn_backward(dHs: np.ndarray, cache: RNNCache, truncate: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Backpropagation through time for :func:`rnn_forward` (full or truncated).

    A reversed loop over :func:`rnn_step_backward`: walking back from the last step, the
    total gradient at step t is the direct one plus what step t + 1 sends back,
    :math:`dL/dh_t = \partial L/\partial h_t + \delta_{t+1} W_h^\top` (``dh = dHs[:, t] +
    dh_next``), and the weight gradients are the sums of every step's contributions.

    Truncated BPTT (``truncate=k``), the chunked form of Williams & Peng (1990): the
    sequence is cut into consecutive chunks of k steps, code steps ``[0, k)``,
    ``[k, 2k)``, … (maths steps :math:`1..k,\ k+1..2k, \dots`; the last chunk may be
    shorter).  The gradient that would flow from a chunk into the last state of the
    previous chunk is dropped — :math:`dL/dh_t = \partial L/\partial h_t` when :math:`t`
    is a multiple of k — which is what detaching (treating as a constant) the hidden
    state at every chunk boundary does, with the forward pass still carried across the
    boundary and one update for the whole sequence.  The parameter gradients are the sums
    of the per-chunk gradients; ``dh0`` is the gradient reaching :math:`h_0` from the
    first chunk (later chunks contribute nothing).  ``truncate >= T`` is one chunk: full
    BPTT, bit for bit.  This is the gradient of the *truncated objective*, not of the
    loss; gradient-check it against a forward pass whose chunk-initial states are
    constants.

    Which dependencies can it learn?  The loss at a step in position p of its chunk
    (``p = t mod k``, 0-based) is differentiated through that step and the p steps
    before it, down to the chunk's initial state, which enters as a constant *input*.
    A target that needs the input from d steps back (delayed XOR with ``delay=d``)
    therefore gets a gradient along the path "state holding :math:`x_{t-d}` → … →
    :math:`h_t`" only when :math:`p \ge d - 1`: for :math:`p = d - 1` the constant
    initial state is the state that has just read :math:`x_{t-d}`.  So chunks of
    :math:`k \ge d` steps can teach the memory (a fraction :math:`(k-d+1)/k` of the
    targets carries the signal), chunks of :math:`k < d` cannot.  For short delays the
    truncated gradient can still stumble on a solution, because the same :math:`W_h`
    that it trains to *read* the previous state also *carries* the older input.

    Parameters
    ----------
    dHs : ndarray, shape (N, T, H)
        The direct gradients :math:`\partial L/\partial h_t` from the loss terms that read
        :math:`h_t` itself (e.g. the per-step output layer), ``dHs[:, t - 1]`` for
        :math:`h_t` — not the total gradient.
    cache : RNNCache
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
    X, h0, Hs, Wx, Wh, b = cache
    T = X.shape[1]
    dX = np.empty_like(X)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh_next = np.zeros_like(h0)                  # nothing arrives from beyond the last step
    for t in reversed(range(T)):
        if truncate and (t + 1) % truncate == 0:  # a chunk ends at step t: detach
            dh_next = np.zeros_like(h0)
        dh = dHs[:, t] + dh_next                 # total gradient dL/dh_t
        dX[:, t], dh_next, dWx_t, dWh_t, db_t = rnn_step_backward.unchecked(dh, cache.step(t))
        dWx += dWx_t                             # the same weights at every step:
        dWh += dWh_t                             # their gradients add up
        db += db_t
    return dX, dh_next, dWx, dWh, db             # dh_next is now dL/dh_0


@checked(_check_backward)
def rnn_backward_states(dHs: np.ndarray, cache: RNNCache, truncate: int | None = None
                        ) -> np.ndarray:
    r"""The *total* gradient :math:`dL/dh_t` at every step (``dh`` of :func:`rnn_backward`'s loop).

    Same recursion as :func:`rnn_backward`,
    :math:`dL/dh_T = \partial L/\partial h_T,\ dL/dh_t = \partial L/\partial h_t +
    \delta_{t+1} W_h^\top` with :math:`\delta_t = dL/dh_t \odot (1 - h_t \odot h_t)`;
    with ``truncate=k`` the term from step t + 1 is dropped at chunk ends (t a multiple
    of k), so the result is the total gradient of the truncated objective.  Useful to
    watch gradients vanish or explode as they travel back in time: plot
    ``np.linalg.norm(dH, axis=2)`` against t.

    Relations: ``dH[:, -1] == dHs[:, -1]``, and ``rnn_backward``'s
    :math:`dL/dh_0 = \delta_1 W_h^\top` = ``(dH[:, 0] * (1 - Hs[:, 0]**2)) @ Wh.T``.

    Parameters
    ----------
    dHs : ndarray, shape (N, T, H)
        Direct gradients, as for :func:`rnn_backward`.
    cache : RNNCache
        From :func:`rnn_forward`.
    truncate : int >= 1 or None

    Returns
    -------
    dH : ndarray, shape (N, T, H)
        ``dH[:, t - 1]`` is :math:`dL/dh_t`.
    """
    Hs, Wh = cache.Hs, cache.Wh
    T = Hs.shape[1]
    dH = np.empty_like(Hs)
    dh_next = np.zeros_like(cache.h0)
    for t in reversed(range(T)):
        if truncate and (t + 1) % truncate == 0:
            dh_next = np.zeros_like(cache.h0)
        dH[:, t] = dHs[:, t] + dh_next
        dh_next = (dH[:, t] * (1 - Hs[:, t]**2)) @ Wh.T   # delta_t W_h^T, as rnn_step_backward
    return dH
