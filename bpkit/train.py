r"""Training loops: :func:`train_mlp` for the MLP, :func:`train_rnn` for the sequence model.

Both are the loop a student would write, with the options around it: every epoch runs
forward → loss → backward → update (:func:`~bpkit.optim.sgd_step`) and records the loss
and accuracy measured *before* the update.  Both are deterministic: the only randomness
is the initialisation (and, for minibatches, the shuffling), seeded by ``seed``.
:func:`train_step` is one such update of an MLP, validated once at its boundary.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ._validate import (as_array, check_int, check_mask, check_momentum, check_option,
                        check_positive, check_shape, check_targets, check_truncate, checked,
                        shape_str)
from . import fast_shortcuts as fast
from .layers import ACTIVATIONS, sigmoid
from .losses import LOSS_OUTPUTS, LOSSES
from .mlp import _check_forward, init_mlp, mlp_backward, mlp_forward
from .optim import clip_grads, global_norm, sgd_step
from .seqmodel import (check_params, init_rnn, rnn_model_backward, rnn_model_forward,
                       sequence_accuracy, sequence_bce_logits_loss)

__all__ = ["train_step", "train_mlp", "accuracy", "train_rnn", "RNN_RECIPE"]

# ----------------------------------------------------------------- validation (boundary)
def check_loss_output(loss: str, output: str) -> None:
    """``loss`` is one of :data:`LOSS_OUTPUTS` and accepts the ``output`` activation."""
    check_option("loss", loss, LOSSES)
    if output not in LOSS_OUTPUTS[loss]:
        raise ValueError(f"loss={loss!r} needs output in {LOSS_OUTPUTS[loss]}, got output={output!r}"
                         + (" (use loss='bce_logits' with output='identity' for logits)"
                            if loss == "bce" else ""))


def _check_targets_of(loss, Y):
    if loss != "mse":
        check_targets("Y", Y)


def _check_train_step(params, X, Y, lr, hidden="sigmoid", output="sigmoid", loss="bce",
                      reduction="mean", momentum=0.0, velocity=None):
    if fast.train_step_ok(params, X, Y, lr, hidden, output, loss, reduction, momentum):  # speed only
        return params, X, Y, lr, hidden, output, loss, reduction, momentum, velocity
    check_loss_output(loss, output)
    check_option("reduction", reduction, ("mean", "sum"))
    check_positive("lr", lr)
    check_momentum(momentum)
    params, X, hidden, output = _check_forward(params, X, hidden, output)
    K = params[f"W{len([k for k in params if k[0] == 'W'])}"].shape[1]   # outputs of the last layer
    Y = as_array("Y", Y, 2)
    check_shape("Y", Y, (X.shape[0], K), "the shape of the network's output")
    _check_targets_of(loss, Y)
    return params, X, Y, lr, hidden, output, loss, reduction, momentum, velocity


def _check_train_mlp(X, Y, lr, epochs, hidden, output, loss):
    X = as_array("X", X, 2)
    Y = as_array("Y", Y, 2)
    check_shape("Y", Y, (X.shape[0], None), "one row per row of X")
    check_positive("epochs", epochs, integer=True)
    check_positive("lr", lr)
    check_option("hidden", hidden, ACTIVATIONS)
    check_option("output", output, ACTIVATIONS)
    check_loss_output(loss, output)
    _check_targets_of(loss, Y)
    return X, Y


# ======================================================================= the MLP
@checked(_check_train_step)
def train_step(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, lr: float,
               hidden: str = "sigmoid", output: str = "sigmoid", loss: str = "bce",
               reduction: str = "mean", momentum: float = 0.0,
               velocity: dict[str, np.ndarray] | None = None
               ) -> tuple[float, np.ndarray, dict[str, np.ndarray] | None]:
    r"""One full-batch gradient step: forward, loss, backward, update (``params`` in place).

    Exactly :func:`~bpkit.mlp.mlp_forward`, a loss from :mod:`bpkit.losses`,
    :func:`~bpkit.mlp.mlp_backward` and :func:`~bpkit.optim.sgd_step` in turn, with the
    inputs validated once, here, instead of at every call.

    Parameters
    ----------
    params : dict of str to ndarray
        As from :func:`~bpkit.mlp.init_mlp`; updated in place.
    X : ndarray, shape (N, D)
    Y : ndarray, shape (N, K)
        Targets; in [0, 1] for the BCE losses.
    lr : float
        Learning rate > 0.
    hidden, output : str
        Activations; ``loss="bce"`` needs ``output="sigmoid"``, ``loss="bce_logits"``
        needs ``output="identity"``.
    loss : {"bce", "mse", "bce_logits"}
    reduction : {"mean", "sum"}
    momentum : float
        In [0, 1).
    velocity : dict, optional
        From the previous call, with momentum.

    Returns
    -------
    loss : float
        The loss *before* the update.
    Y_hat : ndarray, shape (N, K)
        The network's output before the update.
    velocity : dict or None
        Pass to the next call when using momentum.
    """
    Y_hat, cache = mlp_forward.unchecked(params, X, hidden, output)
    value, dY = LOSSES[loss].unchecked(Y_hat, Y, reduction)
    grads = mlp_backward.unchecked(dY, cache)
    velocity = sgd_step.unchecked(params, grads, lr, momentum, velocity)
    return value, Y_hat, velocity


def accuracy(Y_pred: np.ndarray, Y: np.ndarray, threshold: float = 0.5) -> float:
    """Fraction of entries on the right side of ``threshold``.

    Parameters
    ----------
    Y_pred : ndarray, shape (N, K)
        Predicted probabilities (or scores).
    Y : ndarray, shape (N, K)
        0/1 targets.
    threshold : float

    Returns
    -------
    float in [0, 1]
    """
    Y_pred = as_array("Y_pred", Y_pred, 2)
    Y = as_array("Y", Y, 2)
    check_shape("Y", Y, Y_pred.shape, "the shape of Y_pred")
    return float(np.mean((Y_pred > threshold) == (Y > 0.5)))


def train_mlp(X: np.ndarray, Y: np.ndarray, sizes: Sequence[int], *, epochs: int = 2000,
              lr: float = 1.0, hidden: str = "sigmoid", output: str = "sigmoid", loss: str = "bce",
              momentum: float = 0.0, seed: int = 0, init: str = "xavier", bias: bool = True,
              reduction: str = "mean", params: dict | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r"""Train an MLP full-batch with gradient descent: :func:`train_step`, ``epochs`` times.

    The defaults are the book's XOR recipe (sigmoid hidden and output layers,
    binary cross-entropy, biases, Glorot init, learning rate 1).  The source
    article's recipe is ``sizes=[2, 2, 1], hidden="sigmoid", loss="mse",
    reduction="sum", lr=0.1, epochs=10_000, init="uniform", bias=False, seed=1``.

    Parameters
    ----------
    X : ndarray, shape (N, D)
    Y : ndarray, shape (N, K)
        Targets; in [0, 1] for the BCE losses.
    sizes : sequence of int
        Layer widths ``[D, H1, ..., K]`` (see :func:`~bpkit.mlp.init_mlp`).
    epochs : int
        Number of full-batch steps, >= 1.
    lr : float
        Learning rate > 0.
    hidden, output : str
        Activations (see :func:`~bpkit.mlp.mlp_forward`).
    loss : {"bce", "mse", "bce_logits"}
        ``"bce_logits"`` applies :func:`~bpkit.losses.bce_logits_loss` to the output
        layer's pre-activation and needs ``output="identity"``; accuracy is then
        measured on :math:`\sigma(z)`.
    momentum : float
        Momentum in [0, 1).
    seed, init, bias
        Passed to :func:`~bpkit.mlp.init_mlp`.
    reduction : {"mean", "sum"}
        Passed to the loss.
    params : dict, optional
        Start from these parameters (copied) instead of ``init_mlp(sizes, seed, init, bias)``.

    Returns
    -------
    params : dict of str to ndarray
        The trained parameters (fresh arrays).
    history : dict of str to ndarray
        ``"loss"`` and ``"accuracy"``, each of shape (epochs,), measured at every
        epoch *before* that epoch's update; ``"final_loss"``, ``"final_accuracy"``
        (shape ()) after the last update.
    """
    X, Y = _check_train_mlp(X, Y, lr, epochs, hidden, output, loss)
    if params is None:
        params = init_mlp(sizes, seed=seed, init=init, bias=bias)
    else:
        params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    threshold = 0.0 if Y.min() < 0 else 0.5        # targets in {-1, 1} or in {0, 1}

    def accuracy_of(Y_hat):
        prob = sigmoid(Y_hat) if loss == "bce_logits" else Y_hat
        return np.mean((prob > threshold) == (Y > threshold))

    history = {"loss": [], "accuracy": []}
    velocity = None
    # a diverging run raises ValueError (mlp_forward, sgd_step); keep numpy's overflow
    # warnings out of the way of that message
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            value, Y_hat, velocity = train_step(params, X, Y, float(lr), hidden, output, loss,
                                                reduction, momentum, velocity)
            history["loss"].append(value)
            history["accuracy"].append(accuracy_of(Y_hat))
        Y_hat, _ = mlp_forward(params, X, hidden, output)
    history = {k: np.array(v) for k, v in history.items()}
    history["final_loss"] = np.array(LOSSES[loss](Y_hat, Y, reduction)[0])
    history["final_accuracy"] = np.array(accuracy_of(Y_hat))
    return params, history


# ======================================================= the sequence model
#: Default hyper-parameters of :func:`train_rnn` (the delayed-XOR recipe, see its docstring).
RNN_RECIPE = {"epochs": 300, "lr": 0.3, "momentum": 0.9, "clip": 1.0}


def _check_train_rnn(X, Y, mask, H, epochs, lr, seed, truncate, clip, momentum, batch_size,
                     eval_every, scale, stop_at, params):
    X = as_array("X", X, 3)
    N, T, D = X.shape
    Y = as_array("Y", Y, 3)
    check_shape("Y", Y, (N, T, None), "the same N sequences and T steps as X")
    check_targets("Y", Y)
    mask = check_mask(mask, N, T)
    H = check_int("H", H, 1)
    check_int("epochs", epochs, 1)
    check_positive("lr", lr)
    check_truncate(truncate)
    if clip is not None:
        check_positive("clip", clip)
    check_momentum(momentum)
    if batch_size is not None:
        check_int("batch_size", batch_size, 1)
    if eval_every is not None:
        check_int("eval_every", eval_every, 1)
    if stop_at is not None and not 0.0 < check_positive("stop_at", stop_at) <= 1.0:
        raise ValueError(f"stop_at must be in (0, 1], got {stop_at!r}")
    if params is None:
        params = init_rnn(D, H, Y.shape[2], seed=seed, scale=scale)
    else:
        params = {k: v.copy() for k, v in check_params(params).items()}
        if params["Wx"].shape != (D, H) or params["Wy"].shape[1] != Y.shape[2]:
            raise ValueError(f"params must fit D={D}, H={H}, K={Y.shape[2]}: got Wx "
                             f"{shape_str(params['Wx'].shape)}, Wy {shape_str(params['Wy'].shape)}")
    return X, Y, mask, params


def _minibatches(N, batch_size, rng):
    """Index arrays of the epoch's minibatches: everything, or a fresh shuffle cut in pieces."""
    if batch_size is None or batch_size >= N:
        return [slice(None)]
    order = rng.permutation(N)
    return [order[start:start + batch_size] for start in range(0, N, batch_size)]


def train_rnn(X: np.ndarray, Y: np.ndarray, mask: np.ndarray, H: int, *,
              epochs: int = RNN_RECIPE["epochs"], lr: float = RNN_RECIPE["lr"], seed: int = 0,
              truncate: int | None = None, clip: float | None = RNN_RECIPE["clip"],
              momentum: float = RNN_RECIPE["momentum"], batch_size: int | None = None,
              eval_every: int | None = None, scale: float | None = None,
              stop_at: float | None = None, params: dict | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r"""Train the sequence model with (truncated) BPTT and gradient descent.

    Every update: :func:`~bpkit.seqmodel.rnn_model_forward` →
    :func:`~bpkit.seqmodel.sequence_bce_logits_loss` →
    :func:`~bpkit.seqmodel.rnn_model_backward` → :func:`~bpkit.optim.clip_grads` (if
    ``clip``) → :func:`~bpkit.optim.sgd_step`.  Deterministic: the randomness is the
    initialisation ``init_rnn(D, H, K, seed, scale)`` and, with ``batch_size``, the order
    of the minibatches (reshuffled every epoch from a generator seeded by ``seed``).

    The defaults are the book's delayed-XOR recipe (:data:`RNN_RECIPE`, also
    ``bpkit.rnn.RECIPE``): full batch, ``lr=0.3``, ``momentum=0.9``, ``clip=1.0``,
    ``epochs=300``, used with ``H=16`` on ``delayed_xor(128, 20, delay, seed=s)`` and
    ``seed=s``.  Chapter 9 measures what it learns.

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
        Chunk length of truncated BPTT (see :func:`~bpkit.recurrence.rnn_backward`);
        ``None`` = full BPTT.
    clip : float > 0 or None
        Global-norm gradient clipping threshold (:func:`~bpkit.optim.clip_grads`);
        ``None`` = off.
    momentum : float in [0, 1)
    batch_size : int >= 1 or None
        Minibatch size; ``None`` (default) = full batch.  A minibatch without any masked-in
        step is skipped.
    eval_every : int >= 1 or None
        Also evaluate loss and accuracy on the whole training set with the current
        parameters every ``eval_every`` epochs and after the last one (history keys
        ``"eval_epoch"``, ``"eval_loss"``, ``"eval_accuracy"``).  Mostly useful with
        minibatches.
    scale : float >= 0 or None
        Spectral radius of the initial ``Wh`` (see :func:`~bpkit.seqmodel.init_rnn`).
    stop_at : float in (0, 1] or None
        Stop early after the first epoch whose updated parameters reach accuracy
        ``>= stop_at`` on the whole data (checked whenever the epoch's pre-update accuracy
        reached it), so the returned ``final_accuracy`` is ``>= stop_at``; the history
        arrays then end at that epoch.
    params : dict, optional
        Start from these parameters (copied) instead of :func:`~bpkit.seqmodel.init_rnn`'s.

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
    X, Y, mask, params = _check_train_rnn(X, Y, mask, H, epochs, lr, seed, truncate, clip,
                                          momentum, batch_size, eval_every, scale, stop_at, params)
    shuffle = np.random.default_rng((seed, 1))
    velocity = None
    history = {"loss": [], "accuracy": [], "grad_norm": []}
    evals = []                                   # (epoch, loss, accuracy) on the whole data

    def evaluate():
        Z, _ = rnn_model_forward(params, X)
        return sequence_bce_logits_loss(Z, Y, mask)[0], sequence_accuracy(Z, Y, mask)

    for epoch in range(epochs):
        if eval_every is not None and epoch % eval_every == 0:
            evals.append((epoch, *evaluate()))
        steps = []                               # (loss, accuracy, grad norm, weight) per update
        for batch in _minibatches(X.shape[0], batch_size, shuffle):
            Xb, Yb, mb = X[batch], Y[batch], mask[batch]
            if not mb.any():                     # no target in this minibatch: nothing to learn
                continue
            Z, cache = rnn_model_forward(params, Xb)
            loss, dZ = sequence_bce_logits_loss(Z, Yb, mb)
            grads = rnn_model_backward(dZ, cache, truncate)
            norm = global_norm(grads)
            if not (math.isfinite(loss) and math.isfinite(norm)):
                raise FloatingPointError("training diverged (non-finite loss or gradient); "
                                         "lower lr or set clip")
            if clip is not None:
                grads, _ = clip_grads(grads, clip)
            velocity = sgd_step(params, grads, lr, momentum, velocity)
            steps.append((loss, sequence_accuracy(Z, Yb, mb), norm, np.count_nonzero(mb)))
        losses, accs, norms, weights = np.array(steps).T
        weights /= weights.sum()                 # loss and accuracy: weighted by targets
        history["loss"].append(losses @ weights)
        history["accuracy"].append(accs @ weights)
        history["grad_norm"].append(norms.mean())
        # the history holds pre-update accuracies; stop only if the *updated* weights
        # (what is returned) also reach stop_at on the whole data
        if stop_at is not None and history["accuracy"][-1] >= stop_at and evaluate()[1] >= stop_at:
            break
    final_loss, final_accuracy = evaluate()
    history = {k: np.array(v) for k, v in history.items()}
    history.update(final_loss=np.array(final_loss), final_accuracy=np.array(final_accuracy))
    if eval_every is not None:
        evals.append((len(history["loss"]), final_loss, final_accuracy))
        history.update(zip(("eval_epoch", "eval_loss", "eval_accuracy"), map(np.array, zip(*evals))))
    return params, history
