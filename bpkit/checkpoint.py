r"""Gradient checkpointing for BPTT: keep every c-th state, recompute the rest.

Full BPTT (:func:`bpkit.recurrence.rnn_forward` / :func:`bpkit.recurrence.rnn_backward`)
stores every state :math:`h_0, h_1, \dots, h_T` for the backward sweep: memory
:math:`O(TNH)`.  Checkpointing (Chen et al. 2016; for RNNs Gruslys et al. 2016) stores only
the *checkpoints* :math:`h_0, h_c, h_{2c}, \dots`.  The backward sweep visits the segments
:math:`(jc, (j+1)c]` from the last to the first; for each it re-runs the forward steps from
the checkpoint :math:`h_{jc}` (keeping that segment's step caches), then walks back through
them with the usual recursion

.. math::
    \frac{dL}{dh_t} = \frac{\partial L}{\partial h_t} + \delta_{t+1} W_h^\top,\qquad
    \delta_t = \frac{dL}{dh_t} \odot (1 - h_t \odot h_t),

so it computes the same gradients as :func:`bpkit.recurrence.rnn_backward`: bit for bit, as
both run the same step functions and add the steps' contributions last step first.  Stored
states: :math:`\lceil T/c \rceil`
checkpoints plus the at most :math:`c` states of the segment being walked back, least at
:math:`c \approx \sqrt T` (about :math:`2\sqrt T` instead of :math:`T + 1`); extra work: one
more forward pass (every step is run twice).

Built only from the public single-step functions
:func:`bpkit.recurrence.rnn_step_forward` and :func:`bpkit.recurrence.rnn_step_backward`.
"""

from __future__ import annotations

import math

import numpy as np

from .recurrence import rnn_step_backward, rnn_step_forward

__all__ = ["rnn_checkpoint_forward", "rnn_checkpoint_backward", "checkpoint_every"]


def checkpoint_every(T: int) -> int:
    r"""The segment length :math:`c = \lceil \sqrt T \rceil` that (nearly) minimises the
    stored states :math:`\lceil T/c \rceil + 1 + c`.

    Parameters
    ----------
    T : int >= 1
        Sequence length.

    Returns
    -------
    int >= 1
    """
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, (int, np.integer)):
        raise TypeError(f"T must be an int >= 1, got {type(T).__name__} ({T!r})")
    if T < 1:
        raise ValueError(f"T must be an int >= 1, got {T}")
    return max(1, math.isqrt(int(T) - 1) + 1)


def _as_f64(name, value, ndim):
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a float array, got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a float array, got {type(value).__name__} ({exc})") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got a {arr.ndim}-D array of shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return arr


def _check_every(every, T):
    if isinstance(every, (bool, np.bool_)) or not isinstance(every, (int, np.integer)):
        raise TypeError(f"every must be an int >= 1, got {type(every).__name__} ({every!r})")
    if every < 1:
        raise ValueError(f"every must be an int >= 1, got {every}")
    return int(every)


def rnn_checkpoint_forward(X: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray,
                           b: np.ndarray, every: int) -> tuple[np.ndarray, tuple]:
    r"""Run :math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + b)` for :math:`t = 1 \dots T`,
    keeping only the checkpoints :math:`h_0, h_c, h_{2c}, \dots` (c = ``every``).

    Parameters
    ----------
    X : ndarray, shape (N, T, D)
    h0 : ndarray, shape (N, H)
    Wx : ndarray, shape (D, H)
    Wh : ndarray, shape (H, H)
    b : ndarray, shape (H,)
    every : int >= 1
        Segment length c; ``every=1`` keeps every state (no recomputation),
        ``every >= T`` keeps only :math:`h_0`.  :func:`checkpoint_every` gives
        :math:`\lceil\sqrt T\rceil`.

    Returns
    -------
    h_T : ndarray, shape (N, H)
        The final state.
    cache : tuple
        For :func:`rnn_checkpoint_backward`: the inputs, the parameters and the
        checkpoints ``{t: h_t}`` for t = 0, c, 2c, … < T.
    """
    X = _as_f64("X", X, 3)
    h0 = _as_f64("h0", h0, 2)
    N, T, _ = X.shape
    if T < 1 or N < 1:
        raise ValueError(f"X must hold at least one sequence of at least one step, got shape {X.shape}")
    if h0.shape[0] != N:
        raise ValueError(f"h0 must have N = {N} rows like X, got shape {h0.shape}")
    c = _check_every(every, T)
    h = h0
    checkpoints = {}
    for t in range(1, T + 1):            # maths index: X[:, t-1] is x_t
        if (t - 1) % c == 0:
            checkpoints[t - 1] = h       # h_{t-1} starts a segment
        h, _ = rnn_step_forward(X[:, t - 1], h, Wx, Wh, b)   # the step cache is dropped
    return h, ("rnn_checkpoint", X, Wx, Wh, b, c, checkpoints)


def rnn_checkpoint_backward(dHs: np.ndarray, cache: tuple
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Full BPTT for :func:`rnn_checkpoint_forward`, recomputing each segment's states.

    For the segments from last to first: re-run the forward steps from the segment's
    checkpoint, then for its steps t from last to first

    .. math::
        \frac{dL}{dh_t} = \frac{\partial L}{\partial h_t} + dh_{\text{next}},\quad
        (dx_t,\ dh_{\text{next}},\ dW_x^{(t)},\ dW_h^{(t)},\ db^{(t)})
        = \text{rnn\_step\_backward}\Big(\frac{dL}{dh_t}\Big),

    summing the per-step weight gradients, last step first.  The result is
    :func:`bpkit.recurrence.rnn_backward`'s (full BPTT), bit for bit.

    Parameters
    ----------
    dHs : ndarray, shape (N, T, H)
        Direct gradients :math:`\partial L/\partial h_t` (``dHs[:, t - 1]``), as for
        :func:`bpkit.recurrence.rnn_backward`.
    cache : tuple
        From :func:`rnn_checkpoint_forward`.

    Returns
    -------
    dX : ndarray, shape (N, T, D)
    dh0 : ndarray, shape (N, H)
    dWx : ndarray, shape (D, H)
    dWh : ndarray, shape (H, H)
    db : ndarray, shape (H,)
    """
    if type(cache) is not tuple or len(cache) != 7 or cache[0] != "rnn_checkpoint":
        raise TypeError(f"cache must be the tuple returned by rnn_checkpoint_forward, "
                        f"got {type(cache).__name__}")
    _, X, Wx, Wh, b, c, checkpoints = cache
    N, T, D = X.shape
    H = Wh.shape[0]
    dHs = _as_f64("dHs", dHs, 3)
    if dHs.shape != (N, T, H):
        raise ValueError(f"dHs must have the shape (N, T, H) = ({N}, {T}, {H}) of the states, "
                         f"got {dHs.shape}")
    dX = np.empty((N, T, D))
    dWx, dWh, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dh_next = np.zeros((N, H))                       # nothing comes back from beyond step T
    for start in sorted(checkpoints, reverse=True):  # segment (start, start + c], last first
        stop = min(start + c, T)
        h, caches = checkpoints[start], []
        for t in range(start + 1, stop + 1):         # recompute h_{start+1} .. h_stop
            h, step_cache = rnn_step_forward(X[:, t - 1], h, Wx, Wh, b)
            caches.append(step_cache)
        for t in range(stop, start, -1):             # and walk back through them
            dh = dHs[:, t - 1] + dh_next              # total gradient dL/dh_t
            dx_t, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dh, caches.pop())
            dX[:, t - 1] = dx_t
            dWx += dWx_t
            dWh += dWh_t
            db += db_t
    return dX, dh_next, dWx, dWh, db
