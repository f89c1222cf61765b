r"""Speed only: train the same MLP from many seeds at once, one network per seed, stacked.

One of the three ``bpkit/fast_*.py`` modules, which exist only for speed; a reader of the
book can skip them (the API page says so).  Importable as ``bpkit.sweep`` too.

A seed sweep ("how often does this recipe solve XOR?") trains a tiny network
100 times.  Looping over :func:`bpkit.train.train_mlp` pays Python's per-call
overhead 100 times per epoch; :func:`train_mlp_seeds` instead stacks the S
networks along a leading axis, ``W_i`` of shape ``(S, H_{i-1}, H_i)``, and runs
every step of forward, loss gradient, backward and update on the whole stack:

.. math::
    z_i^{(s)} = a_{i-1}^{(s)} W_i^{(s)} + b_i^{(s)},\qquad
    dW_i^{(s)} = a_{i-1}^{(s)\top} dz_i^{(s)},\qquad s = 1 \dots S

The arithmetic is that of :func:`bpkit.mlp.mlp_forward`, :func:`bpkit.mlp.mlp_backward`,
the losses of :mod:`bpkit.losses` and :func:`bpkit.optim.sgd_step`, performed in the
same order (``np.matmul`` multiplies a stack matrix by matrix with the same kernel
as a single product), and each network starts from ``init_mlp(sizes, seed, init, bias)``.
So network ``s`` follows ``train_mlp(..., seed=seeds[s])`` exactly: the same
parameters, outputs and accuracies, bit for bit (``tests/test_sweep.py`` checks
this); the recorded loss values agree to rounding (the sums are taken in a
different order).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import as_array, check_option, check_positive, check_shape, check_targets
from .datasets import xor
from .layers import ACTIVATIONS, sigmoid
from .losses import BCE_EPS
from .mlp import init_mlp
from .train import check_loss_output

__all__ = ["train_mlp_seeds", "xor_seed_sweep"]


def _loss_and_grad(loss, out, Y, reduction, value=True):
    """Per-network loss (S,) and gradient (S, N, K): the arithmetic of bpkit.losses, stacked.

    With ``value=False`` only the gradient is computed (the loss is returned as None).
    """
    scale = 1.0 / out.shape[1] if reduction == "mean" else 1.0
    if loss == "mse":                       # as losses.mse_loss
        diff = out - Y
        return (0.5 * scale * np.einsum("snk,snk->s", diff, diff) if value else None), scale * diff
    if loss == "bce":                       # as losses.bce_loss
        pc = np.clip(out, BCE_EPS, 1.0 - BCE_EPS)
        q = 1.0 - pc
        total = None
        if value:
            total = -scale * ((Y * np.log(pc)).sum(axis=(1, 2)) + ((1.0 - Y) * np.log(q)).sum(axis=(1, 2)))
        q *= pc
        dp = pc - Y
        dp /= q
        if scale != 1.0:
            dp *= scale
        return total, dp
    # "bce_logits", as losses.bce_logits_loss
    total = (scale * (np.logaddexp(0.0, out).sum(axis=(1, 2)) - (Y * out).sum(axis=(1, 2)))
             if value else None)
    return total, scale * (sigmoid(out) - Y)


#: Entries (floats) of the buffer of outputs whose losses are computed together.
_BUFFER_ENTRIES = 1 << 18


def train_mlp_seeds(X: np.ndarray, Y: np.ndarray, sizes: Sequence[int], seeds: Sequence[int], *,
                    epochs: int = 2000, lr: float = 1.0, hidden: str = "sigmoid",
                    output: str = "sigmoid", loss: str = "bce", momentum: float = 0.0,
                    init: str = "xavier", bias: bool = True, reduction: str = "mean"
                    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    r"""Train one MLP per seed, all at once; network ``s`` equals ``train_mlp(..., seed=seeds[s])``.

    Parameters
    ----------
    X : ndarray, shape (N, D)
        Inputs, shared by every network.
    Y : ndarray, shape (N, K)
        Targets; in [0, 1] for the BCE losses.
    sizes : sequence of int
        Layer widths ``[D, H1, ..., K]``, as for :func:`bpkit.mlp.init_mlp`.
    seeds : sequence of int, length S >= 1
        One network per seed.
    epochs, lr, hidden, output, loss, momentum, init, bias, reduction
        As for :func:`bpkit.train.train_mlp`.

    Returns
    -------
    params : dict of str to ndarray
        The trained parameters, stacked: ``"W1"`` of shape (S, sizes[0], sizes[1]),
        ``"b1"`` of shape (S, sizes[1]), ...; ``{k: v[s] for k, v in params.items()}``
        is network ``s``.
    history : dict of str to ndarray
        ``"loss"`` and ``"accuracy"`` of shape (S, epochs), measured before each
        epoch's update (as in ``train_mlp``); ``"final_loss"``, ``"final_accuracy"``
        of shape (S,) and ``"final_output"`` of shape (S, N, K) (probabilities for
        ``loss="bce_logits"``) after the last update.
    """
    X = as_array("X", X, 2)
    Y = as_array("Y", Y, 2)
    check_shape("Y", Y, (X.shape[0], None), "one row per row of X")
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__"):
        raise TypeError(f"seeds must be a sequence of ints, got {type(seeds).__name__}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    check_positive("epochs", epochs, integer=True)
    check_positive("lr", lr)
    check_option("hidden", hidden, ACTIVATIONS)
    check_option("output", output, ACTIVATIONS)
    check_loss_output(loss, output)
    check_option("reduction", reduction, ("mean", "sum"))
    if momentum != 0.0:
        check_positive("momentum", momentum)
        if momentum >= 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if loss != "mse":
        check_targets("Y", Y)
    nets = [init_mlp(sizes, seed=s, init=init, bias=bias) for s in seeds]  # validates sizes, seeds
    if nets[0]["W1"].shape[0] != X.shape[1]:
        raise ValueError(f"sizes[0] must equal the {X.shape[1]} columns of X, got {sizes[0]}")
    if nets[0][f"W{len(sizes) - 1}"].shape[1] != Y.shape[1]:
        raise ValueError(f"sizes[-1] must equal the {Y.shape[1]} columns of Y, got {sizes[-1]}")
    S, L = len(seeds), len(sizes) - 1
    Ws = [np.stack([net[f"W{i}"] for net in nets]) for i in range(1, L + 1)]
    bs = [np.stack([net[f"b{i}"] for net in nets])[:, None, :] for i in range(1, L + 1)] if bias else None
    params = Ws + (bs or [])
    velocity = [np.zeros_like(p) for p in params] if momentum != 0.0 else None
    Xs = np.broadcast_to(X, (S,) + X.shape)
    threshold = 0.0 if Y.min() < 0 else 0.5
    Yb = Y > threshold
    to_prob = sigmoid if loss == "bce_logits" else (lambda a: a)
    acts = [(forward.unchecked, backward.unchecked)   # the maths of bpkit.layers, no re-checks
            for forward, backward in [ACTIVATIONS[hidden]] * (L - 1) + [ACTIVATIONS[output]]]
    lr = float(lr)

    def forward():
        a, steps = Xs, []
        for i in range(L):
            z = a @ Ws[i]
            if bias:
                z += bs[i]
            a_prev = a
            a, act_cache = acts[i][0](z)
            steps.append((a_prev, act_cache))
        return a, steps

    losses = np.empty((S, epochs))
    accs = np.empty((S, epochs))
    # The outputs of up to `chunk` epochs are buffered and their losses and accuracies
    # computed in one vectorised call: the per-epoch work stays forward, backward, update.
    chunk = max(1, min(epochs, _BUFFER_ENTRIES // (S * X.shape[0] * Y.shape[1])))
    buffer = np.empty((chunk, S) + (X.shape[0], Y.shape[1]))

    def flush(stop, n):
        outs = buffer[:n]
        value, _ = _loss_and_grad(loss, outs.reshape((n * S,) + outs.shape[2:]), Y, reduction)
        losses[:, stop - n:stop] = value.reshape(n, S).T
        accs[:, stop - n:stop] = ((to_prob(outs) > threshold) == Yb).mean(axis=(2, 3)).T

    for epoch in range(epochs):
        out, steps = forward()
        buffer[epoch % chunk] = out
        if epoch % chunk == chunk - 1 or epoch == epochs - 1:
            flush(epoch + 1, epoch % chunk + 1)
        _, da = _loss_and_grad(loss, out, Y, reduction, value=False)
        dWs, dbs = [None] * L, [None] * L
        for i in range(L - 1, -1, -1):
            a_prev, act_cache = steps[i]
            dz = acts[i][1](da, act_cache)
            if bias:
                dbs[i] = dz.sum(axis=1, keepdims=True)
            dWs[i] = a_prev.swapaxes(1, 2) @ dz
            if i > 0:
                da = dz @ Ws[i].swapaxes(1, 2)
        grads = dWs + (dbs if bias else [])
        if velocity is None:
            for p, g in zip(params, grads):
                p -= lr * g
        else:
            for p, g, v in zip(params, grads, velocity):
                v *= momentum
                v -= lr * g
                p += v
    out, _ = forward()
    final_loss, _ = _loss_and_grad(loss, out, Y, reduction)
    prob = to_prob(out)
    trained = {f"W{i + 1}": Ws[i] for i in range(L)}
    if bias:
        trained.update({f"b{i + 1}": bs[i][:, 0, :] for i in range(L)})
    trained = {k: trained[k] for k in sorted(trained, key=lambda k: (int(k[1:]), k[0] != "W"))}
    history = {"loss": losses, "accuracy": accs, "final_loss": final_loss,
               "final_accuracy": ((prob > threshold) == Yb).mean(axis=(1, 2)),
               "final_output": prob}
    return trained, history


def xor_seed_sweep(seeds: Sequence[int], sizes: Sequence[int] = (2, 4, 1), **train_kwargs
                   ) -> dict[str, np.ndarray]:
    r"""How often, and how fast, a recipe solves XOR: :func:`train_mlp_seeds` on :func:`bpkit.datasets.xor`.

    "Solved" means all four outputs are on the correct side of 0.5.

    Parameters
    ----------
    seeds : sequence of int, length S
    sizes : sequence of int
        Layer widths, ``[2, ..., 1]``; default ``(2, 4, 1)``.
    **train_kwargs
        Any keyword of :func:`train_mlp_seeds` (``epochs``, ``lr``, ``loss``, ...).

    Returns
    -------
    dict of str to ndarray
        ``"seeds"`` (S,); ``"solved"`` (S,) bool, solved after the last epoch;
        ``"first_solved"`` (S,) int, the first epoch whose (pre-update) outputs were
        all correct, -1 if never; ``"final_output"`` (S, 4); ``"final_loss"`` (S,);
        ``"loss"`` and ``"accuracy"`` (S, epochs); ``"params"``, the stacked
        trained parameters.
    """
    X, Y = xor()
    params, hist = train_mlp_seeds(X, Y, sizes, seeds, **train_kwargs)
    all_right = hist["accuracy"] == 1.0
    first = np.where(all_right.any(axis=1), all_right.argmax(axis=1), -1)
    return {"seeds": np.asarray(list(seeds)), "solved": hist["final_accuracy"] == 1.0,
            "first_solved": first, "final_output": hist["final_output"][:, :, 0],
            "final_loss": hist["final_loss"], "loss": hist["loss"],
            "accuracy": hist["accuracy"], "params": params}
