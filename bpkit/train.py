"""Full-batch training of an MLP: the loop every chapter uses.

:func:`train_mlp` repeats forward → loss → backward → :func:`~bpkit.optim.sgd_step`
and records the loss and accuracy of every epoch.  It is deterministic: the
only randomness is the initialisation, which comes from ``init_mlp(seed=...)``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import (all_finite, as_array, check_option, check_positive, check_shape,
                        in_unit_interval, is_f64)
from .layers import ACTIVATIONS, sigmoid
from .losses import LOSSES, _check_targets
from .mlp import _mlp_backward, init_mlp, mlp_forward
from .optim import _sgd_update

__all__ = ["train_step", "train_mlp", "accuracy"]

#: The output activations each loss accepts.
LOSS_OUTPUTS = {"bce": ("sigmoid",), "bce_logits": ("identity",), "mse": tuple(ACTIVATIONS)}


def _check_loss_output(loss, output):
    if loss not in LOSSES:
        check_option("loss", loss, LOSSES)
    if output not in LOSS_OUTPUTS[loss]:
        raise ValueError(f"loss={loss!r} needs output in {LOSS_OUTPUTS[loss]}, got output={output!r}"
                         + (" (use loss='bce_logits' with output='identity' for logits)"
                            if loss == "bce" else ""))


def train_step(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, lr: float,
               hidden: str = "sigmoid", output: str = "sigmoid", loss: str = "bce",
               reduction: str = "mean", momentum: float = 0.0,
               velocity: dict[str, np.ndarray] | None = None
               ) -> tuple[float, np.ndarray, dict[str, np.ndarray] | None]:
    r"""One full-batch gradient step: forward, loss, backward, update (``params`` in place).

    The same as calling :func:`~bpkit.mlp.mlp_forward`, a loss from :mod:`bpkit.losses`,
    :func:`~bpkit.mlp.mlp_backward` and :func:`~bpkit.optim.sgd_step` in turn, but the
    inputs are validated once, at this boundary, instead of at every call; the
    intermediate arrays are bpkit's own.

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
    _check_loss_output(loss, output)
    if reduction not in ("mean", "sum"):
        check_option("reduction", reduction, ("mean", "sum"))
    if type(lr) is not float or not 0.0 < lr < np.inf:
        check_positive("lr", lr)
    if momentum != 0.0:
        check_positive("momentum", momentum)
        if momentum >= 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    out, cache = mlp_forward(params, X, hidden, output)
    if not (is_f64(Y, 2) and Y.shape == out.shape
            and (in_unit_interval(Y) if loss != "mse" else all_finite(Y))):
        Y = as_array("Y", Y, 2)
        check_shape("Y", Y, out.shape, "the shape of the network's output")
        if loss != "mse":
            _check_targets(Y, "Y")
    value, dout = LOSSES[loss](out, Y, reduction)
    velocity = _sgd_update(params, _mlp_backward(dout, cache), lr, momentum, velocity)
    return value, out, velocity


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
    r"""Train an MLP full-batch with gradient descent.

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
    X = as_array("X", X, 2)
    Y = as_array("Y", Y, 2)
    check_shape("Y", Y, (X.shape[0], None), "one row per row of X")
    check_positive("epochs", epochs, integer=True)
    check_positive("lr", lr)
    check_option("hidden", hidden, ACTIVATIONS)
    check_option("output", output, ACTIVATIONS)
    _check_loss_output(loss, output)
    if loss != "mse":
        _check_targets(Y, "Y")
    if params is None:
        params = init_mlp(sizes, seed=seed, init=init, bias=bias)
    else:
        params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    to_prob = sigmoid if loss == "bce_logits" else (lambda a: a)
    threshold = 0.0 if Y.min() < 0 else 0.5   # targets in {-1, 1} or in {0, 1}
    Yb = Y > threshold
    losses = np.empty(epochs)
    accs = np.empty(epochs)
    velocity = None
    float_lr = float(lr)
    # a diverging run raises ValueError from mlp_forward; keep numpy's overflow warnings out of it
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(epochs):
            losses[epoch], out, velocity = train_step(params, X, Y, float_lr, hidden, output, loss,
                                                      reduction, momentum, velocity)
            accs[epoch] = np.mean((to_prob(out) > threshold) == Yb)
        out, cache = mlp_forward(params, X, hidden, output)
    final_loss = LOSSES[loss](out, Y, reduction)[0]
    final_acc = np.mean((to_prob(out) > threshold) == Yb)
    history = {"loss": losses, "accuracy": accs,
               "final_loss": np.array(final_loss), "final_accuracy": np.array(final_acc)}
    return params, history
