"""bpkit against its peers: plain numpy, PyTorch eager (CPU, float64), micrograd and the book's engine.

Run: ``make bench-peers`` (creates ``benchmarks/.venv`` from ``benchmarks/requirements.txt``
and runs this file), or ``python benchmarks/peers.py`` in an environment that has
those packages and bpkit.  Writes ``benchmarks/results/peers.json``, which the book's
Performance page (``chapters/11_performance.ipynb``) reads; prints a summary.

What is timed is one full training step, forward, loss, backward, parameter update:

* ``xor``: the 2-4-1 net on the four XOR points, sigmoid hidden and output layers,
  binary cross-entropy (mean), plain gradient descent with lr 1.0;
* ``rnn``: delayed XOR (N=64 sequences, T=20 steps, D=1, H=16, K=1), tanh recurrence,
  per-step logits, masked BCE-with-logits, full BPTT, plain gradient descent (lr 0.5);

for every contender: bpkit's public functions (and, for XOR, ``bpkit.train_step``); the
same step hand-written in plain numpy twice, as one usually writes it ("numpy": textbook
sigmoid / batch-first loop) and with bpkit's exact arithmetic and algorithm but no checks
("numpy_same"); PyTorch eager in float64 with 1 thread and with its default number of
threads (for the RNN both a Python loop of tensor ops and ``torch.nn.RNN``); and
micrograd (XOR only).  Then the same for growing sizes (MLP hidden width, RNN sequence
length, RNN hidden width; PyTorch with 1 thread there, plus default threads for the MLP),
and seed sweeps of the two XOR recipes and of the delayed-XOR recipe (convergence).

Method.  Before anything is timed, every contender's gradients are compared with
bpkit's at the same parameters (norm-wise relative error, see ``GRAD_TOL``) and after
three update steps its parameters are compared too.  Timing runs in *rounds*: in every
round each contender runs one block of calls (sized to last about ``--block-ms``; the
order of the contenders rotates from round to round), so that a burst of load from
other processes hits all contenders alike.  Reported are the median and the
interquartile range (IQR) over rounds of the time per step, and ratios taken *within*
each round (contender A's block time per step over contender B's in the same round),
again as median and IQR.  The garbage collector stays on (micrograd's graphs are
cyclic garbage; collecting it is part of its cost).  numpy's BLAS is limited to one
thread (threadpoolctl) so that the numpy-based contenders meet PyTorch's 1-thread mode
on equal terms.  Not a test: timings never decide pass/fail.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.metadata as _md
import json
import math
import os
import pathlib
import platform
import subprocess
import sys
import time

import numpy as np

import bpkit
from bpkit.autodiff import Tensor, stack
from bpkit import (bce_loss, init_mlp, mlp_backward, mlp_forward, rel_error, sgd_step,
                   train_step, xor)
from bpkit.datasets import delayed_xor
from bpkit.rnn import (RECIPE as RNN_RECIPE, init_rnn, rnn_model_backward, rnn_model_forward,
                       sequence_accuracy, sequence_bce_logits_loss, train_rnn)

try:
    import torch
    import torch.nn.functional as F
    from micrograd.engine import Value
    from micrograd.nn import Layer
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError as exc:  # pragma: no cover - a message, not a test
    sys.exit(f"peers.py needs torch, micrograd and threadpoolctl ({exc}); run `make bench-peers`, which "
             f"installs benchmarks/requirements.txt into benchmarks/.venv")

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results" / "peers.json"

#: The project's performance targets, stored with the results so the book can quote them.
TARGETS = {
    "bpkit_over_numpy_max": 1.5,   # bpkit's step at most 1.5x the hand-written numpy step
    "torch_over_bpkit_min": 1.0,   # PyTorch eager slower than bpkit at the book's sizes
}
#: Largest norm-wise relative error allowed between a contender's gradients and bpkit's.
GRAD_TOL = 1e-10

XOR_LR = 1.0
RNN_LR = 0.5
RNN_SHAPE = dict(N=64, T=20, D=1, H=16, K=1, delay=1)
MLP_WIDTHS = (4, 16, 64, 256, 1024)
MLP_BATCH = 64
RNN_LENGTHS = (5, 20, 50, 100, 200)
RNN_WIDTHS = (16, 64, 256)

LABELS = {
    "bpkit": "bpkit (public functions)",
    "bpkit_train_step": "bpkit.train_step",
    "numpy": "plain numpy",
    "numpy_same": "plain numpy, bpkit's arithmetic",
    "torch_1t": "PyTorch eager, 1 thread",
    "torch_default": "PyTorch eager, default threads",
    "torch_rnn_1t": "PyTorch nn.RNN, 1 thread",
    "torch_rnn_default": "PyTorch nn.RNN, default threads",
    "micrograd": "micrograd",
    "autodiff": "bpkit.autodiff (the book's engine)",
}
#: Ratios are stored for every contender over each of these that ran in the same round.
REFERENCES = ("bpkit", "bpkit_train_step", "numpy", "numpy_same")
TORCH_DEFAULT_THREADS = torch.get_num_threads()


# ============================================================================ contenders
class Contender:
    """A training step bound to its own copy of the parameters.

    ``step()`` runs one step in place; ``grads()`` returns the gradients at the current
    parameters (bpkit's names and shapes) without updating; ``params()`` returns the
    current parameters as numpy arrays.  ``threads`` is set with torch.set_num_threads
    before every block of calls (outside the timed region).
    """

    def __init__(self, key, step, grads, params, threads=None):
        self.key, self.label = key, LABELS[key]
        self.step, self.grads, self.params, self.threads = step, grads, params, threads

    def prepare(self):
        if self.threads is not None and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)


def _copy(params):
    return {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}


# ----------------------------------------------------------------------------- MLP
def mlp_bpkit(p0, X, Y, lr):
    p = _copy(p0)

    def grads():
        out, cache = mlp_forward(p, X)
        return mlp_backward(bce_loss(out, Y)[1], cache)

    def step():
        out, cache = mlp_forward(p, X)
        _, dY = bce_loss(out, Y)
        sgd_step(p, mlp_backward(dY, cache), lr)

    return Contender("bpkit", step, grads, lambda: p)


def mlp_bpkit_train_step(p0, X, Y, lr):
    p = _copy(p0)

    def grads():  # train_step returns no gradients: recover them from one update
        q = _copy(p)
        train_step(q, X, Y, lr)
        return {k: (p[k] - q[k]) / lr for k in p}

    return Contender("bpkit_train_step", lambda: train_step(p, X, Y, lr), grads, lambda: p)


def _mlp_numpy_grads(p, X, Y):
    """The step as usually hand-written: textbook sigmoid, the sigmoid-BCE gradient
    simplified to (a2 - Y) / N by hand, no checks."""
    z1 = X @ p["W1"] + p["b1"]
    a1 = 1.0 / (1.0 + np.exp(-z1))
    z2 = a1 @ p["W2"] + p["b2"]
    a2 = 1.0 / (1.0 + np.exp(-z2))
    n = X.shape[0]
    _ = -np.mean(Y * np.log(a2) + (1.0 - Y) * np.log(1.0 - a2)) * Y.shape[1]
    dz2 = (a2 - Y) / n          # d(BCE)/da2 * sigmoid'(z2), simplified by hand
    da1 = dz2 @ p["W2"].T
    dz1 = da1 * a1 * (1.0 - a1)
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dz2, "b2": dz2.sum(axis=0)}


def _mlp_numpy_same_grads(p, X, Y):
    """bpkit's arithmetic, hand-written without checks, caches or layer functions (as in
    benchmarks/xor_step.py): overflow-free sigmoid, clipped BCE and its gradient, then
    the sigmoid's derivative."""
    z1 = X @ p["W1"] + p["b1"]
    a1 = np.exp(-np.logaddexp(0.0, -z1))
    z2 = a1 @ p["W2"] + p["b2"]
    a2 = np.exp(-np.logaddexp(0.0, -z2))
    pc = np.clip(a2, 1e-12, 1 - 1e-12)
    q = 1.0 - pc
    n = X.shape[0]
    _ = -(np.vdot(Y, np.log(pc)) + np.vdot(1.0 - Y, np.log(q))) / n
    da2 = (pc - Y) / (pc * q) / n
    dz2 = da2 * a2 * (1.0 - a2)
    da1 = dz2 @ p["W2"].T
    dz1 = da1 * a1 * (1.0 - a1)
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dz2, "b2": dz2.sum(axis=0)}


def mlp_numpy(p0, X, Y, lr, key="numpy"):
    p = _copy(p0)
    grads_of = _mlp_numpy_grads if key == "numpy" else _mlp_numpy_same_grads

    def step():
        g = grads_of(p, X, Y)
        for k in p:
            p[k] -= lr * g[k]

    return Contender(key, step, lambda: grads_of(p, X, Y), lambda: p)


def _torch_params(p0, names):
    return {k: torch.tensor(p0[k], dtype=torch.float64, requires_grad=True) for k in names}


def _torch_update(params, lr):
    with torch.no_grad():
        for t in params:
            t.sub_(t.grad, alpha=lr)
            t.grad = None


def mlp_torch(p0, X, Y, lr, threads, key):
    P = _torch_params(p0, ("W1", "b1", "W2", "b2"))
    plist = list(P.values())
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    W1, b1, W2, b2 = plist

    def loss():
        a1 = torch.sigmoid(torch.addmm(b1, Xt, W1))
        a2 = torch.sigmoid(torch.addmm(b2, a1, W2))
        return F.binary_cross_entropy(a2, Yt) * Yt.shape[1]  # mean over rows, sum over K

    def step():
        loss().backward()
        _torch_update(plist, lr)

    def grads():
        loss().backward()
        g = {k: t.grad.numpy().copy() for k, t in P.items()}
        for t in plist:
            t.grad = None
        return g

    return Contender(key, step, grads, lambda: {k: t.detach().numpy() for k, t in P.items()},
                     threads)


# micrograd 0.1.0's Value has +, *, ** (constant powers) and relu, but no exp or log,
# so a sigmoid and a log cannot be composed from its operations.  They are added here as
# nodes written exactly the way micrograd writes its own relu: a Value holding the result,
# with a closure that adds local derivative x upstream gradient to the input's grad.
def mg_sigmoid(v):
    s = 1.0 / (1.0 + math.exp(-v.data))
    out = Value(s, (v,), "sigmoid")

    def _backward():
        v.grad += s * (1.0 - s) * out.grad
    out._backward = _backward
    return out


def mg_log(v):
    out = Value(math.log(v.data), (v,), "log")

    def _backward():
        v.grad += out.grad / v.data
    out._backward = _backward
    return out


def mlp_micrograd(p0, X, Y, lr):
    """micrograd's Layer of linear neurons (``nonlin=False``: w.x + b), then mg_sigmoid."""
    D, H = p0["W1"].shape
    layers = [Layer(D, H, nonlin=False), Layer(H, 1, nonlin=False)]
    for layer, (W, b) in zip(layers, ((p0["W1"], p0["b1"]), (p0["W2"], p0["b2"]))):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])
    params = [q for layer in layers for q in layer.parameters()]
    xs = X.tolist()
    ys = Y[:, 0].tolist()
    n = len(xs)

    def loss():
        total = Value(0.0)
        for x, y in zip(xs, ys):
            h = [mg_sigmoid(v) for v in layers[0](x)]
            p = mg_sigmoid(layers[1](h))
            total = total - (y * mg_log(p) + (1.0 - y) * mg_log(1.0 - p))
        return total * (1.0 / n)

    def step():
        L = loss()
        for q in params:
            q.grad = 0.0
        L.backward()
        for q in params:
            q.data -= lr * q.grad

    def as_arrays(attr):
        out = {}
        for i, layer in enumerate(layers, start=1):
            out[f"W{i}"] = np.array([[getattr(w, attr) for w in nr.w] for nr in layer.neurons]).T
            out[f"b{i}"] = np.array([getattr(nr.b, attr) for nr in layer.neurons], dtype=float)
        return out

    def grads():
        L = loss()
        for q in params:
            q.grad = 0.0
        L.backward()
        return as_arrays("grad")

    return Contender("micrograd", step, grads, lambda: as_arrays("data"))


def _tensors(p0):
    return {k: Tensor(v) for k, v in p0.items()}


def _engine_update(P, lr):
    for t in P.values():
        t.data -= lr * t.grad
        t.zero_grad()


def _engine_contender(P, loss, lr):
    """The engine's training step and its gradients, for the loss closure over the tensors P."""
    def step():
        loss().backward()
        _engine_update(P, lr)

    def grads():
        loss().backward()
        g = {k: t.grad.copy() for k, t in P.items()}
        for t in P.values():
            t.zero_grad()
        return g

    return Contender("autodiff", step, grads, lambda: {k: t.data for k, t in P.items()})


def mlp_autodiff(p0, X, Y, lr):
    """The book's engine (chapter 12): the forward pass in Tensor operations, loss.backward()."""
    P = _tensors(p0)
    Xt, Yt, n = Tensor(X), Tensor(Y), X.shape[0]

    def loss():
        a = Xt
        for i in range(1, len(P) // 2 + 1):
            a = (a @ P[f"W{i}"] + P[f"b{i}"]).sigmoid()
        return -(Yt * a.log() + (1.0 - Yt) * (1.0 - a).log()).sum() * (1.0 / n)

    return _engine_contender(P, loss, lr)


# ----------------------------------------------------------------------------- RNN
def rnn_bpkit(p0, X, Y, mask, lr):
    p = _copy(p0)

    def grads():
        Z, cache = rnn_model_forward(p, X)
        return rnn_model_backward(sequence_bce_logits_loss(Z, Y, mask)[1], cache)

    def step():
        Z, cache = rnn_model_forward(p, X)
        _, dZ = sequence_bce_logits_loss(Z, Y, mask)
        sgd_step(p, rnn_model_backward(dZ, cache), lr)

    return Contender("bpkit", step, grads, lambda: p)


def _rnn_numpy_grads(p, X, Y, mask):
    """Hand-written BPTT as usually written: batch-first, one step at a time."""
    n, steps, _ = X.shape
    Wx, Wh, bh, Wy, by = p["Wx"], p["Wh"], p["bh"], p["Wy"], p["by"]
    Hs = np.empty((n, steps, Wh.shape[0]))
    h = np.zeros((n, Wh.shape[0]))
    for t in range(steps):
        h = np.tanh(X[:, t] @ Wx + h @ Wh + bh)
        Hs[:, t] = h
    Z = Hs @ Wy + by
    w = mask[:, :, None] / (mask.sum() * Y.shape[2])
    _ = np.sum(w * (np.logaddexp(0.0, Z) - Y * Z))
    dZ = w * (1.0 / (1.0 + np.exp(-Z)) - Y)
    dWy = np.einsum("nth,ntk->hk", Hs, dZ)
    dby = dZ.sum(axis=(0, 1))
    dHs = dZ @ Wy.T
    dWx, dWh, dbh = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(bh)
    dnext = np.zeros((n, Wh.shape[0]))
    for t in range(steps - 1, -1, -1):
        h_prev = Hs[:, t - 1] if t else np.zeros_like(dnext)
        da = (dHs[:, t] + dnext) * (1.0 - Hs[:, t] ** 2)
        dWx += X[:, t].T @ da
        dWh += h_prev.T @ da
        dbh += da.sum(axis=0)
        dnext = da @ Wh.T
    return {"Wx": dWx, "Wh": dWh, "bh": dbh, "Wy": dWy, "by": dby}


def _rnn_numpy_same_grads(p, X, Y, mask):
    """bpkit's algorithm without checks: the same batch-first inputs, run time-major, the
    big products outside the loops, the same overflow-free sigmoid."""
    Xtm, Ytm = X.transpose(1, 0, 2), Y.transpose(1, 0, 2)   # views, as in bpkit
    steps, n, d = Xtm.shape
    Wx, Wh, bh, Wy, by = p["Wx"], p["Wh"], p["bh"], p["Wy"], p["by"]
    hdim, k = Wh.shape[0], Wy.shape[1]
    Hall = np.empty((steps + 1, n, hdim))
    Hall[0] = 0.0
    A = Hall[1:]
    np.matmul(Xtm.reshape(steps * n, d), Wx, out=A.reshape(steps * n, hdim))
    A += bh
    h = Hall[0]
    for t in range(steps):
        a = A[t]
        a += h @ Wh
        h = np.tanh(a, out=a)
    H2 = A.reshape(steps * n, hdim)
    Z = (H2 @ Wy + by).reshape(steps, n, k)
    w = mask.T[:, :, None] * (1.0 / (np.count_nonzero(mask) * k))
    _ = np.sum(w * (np.logaddexp(0.0, Z) - Ytm * Z))
    dZ = (w * (np.exp(-np.logaddexp(0.0, -Z)) - Ytm)).reshape(steps * n, k)
    dWy = H2.T @ dZ
    dby = dZ.sum(axis=0)
    delta = 1.0 - A * A
    dHs = (dZ @ Wy.T).reshape(steps, n, hdim)
    dnext = None
    for t in range(steps - 1, -1, -1):
        if dnext is None:
            delta[t] *= dHs[t]
        else:
            dnext += dHs[t]
            delta[t] *= dnext
        dnext = delta[t] @ Wh.T
    D2 = delta.reshape(steps * n, hdim)
    return {"Wx": Xtm.reshape(steps * n, d).T @ D2,
            "Wh": Hall[:-1].reshape(steps * n, hdim).T @ D2,
            "bh": D2.sum(axis=0), "Wy": dWy, "by": dby}


def rnn_numpy(p0, X, Y, mask, lr):
    p = _copy(p0)

    def step():
        g = _rnn_numpy_grads(p, X, Y, mask)
        for k in p:
            p[k] -= lr * g[k]

    return Contender("numpy", step, lambda: _rnn_numpy_grads(p, X, Y, mask), lambda: p)


def rnn_numpy_same(p0, X, Y, mask, lr):
    p = _copy(p0)

    def step():
        g = _rnn_numpy_same_grads(p, X, Y, mask)
        for k in p:
            p[k] -= lr * g[k]

    return Contender("numpy_same", step, lambda: _rnn_numpy_same_grads(p, X, Y, mask), lambda: p)


def _rnn_torch_data(X, Y, mask):
    Xtm = torch.tensor(np.ascontiguousarray(X.transpose(1, 0, 2)))
    Ytm = torch.tensor(np.ascontiguousarray(Y.transpose(1, 0, 2)))
    wtm = torch.tensor(np.ascontiguousarray(mask.T[:, :, None] / (mask.sum() * Y.shape[2])))
    return Xtm, Ytm, wtm


def rnn_torch(p0, X, Y, mask, lr, threads, key):
    """The recurrence as a Python loop of tensor ops, autograd for the backward pass."""
    P = _torch_params(p0, ("Wx", "Wh", "bh", "Wy", "by"))
    plist = list(P.values())
    Wx, Wh, bh, Wy, by = plist
    Xtm, Ytm, wtm = _rnn_torch_data(X, Y, mask)
    T, N, _ = Xtm.shape
    h0 = torch.zeros(N, Wh.shape[0], dtype=torch.float64)

    def loss():
        A = torch.matmul(Xtm, Wx) + bh          # every x_t Wx + b at once
        h, hs = h0, []
        for t in range(T):
            h = torch.tanh(torch.addmm(A[t], h, Wh))
            hs.append(h)
        Z = torch.matmul(torch.stack(hs), Wy) + by
        return F.binary_cross_entropy_with_logits(Z, Ytm, weight=wtm, reduction="sum")

    def step():
        loss().backward()
        _torch_update(plist, lr)

    def grads():
        loss().backward()
        g = {k: t.grad.numpy().copy() for k, t in P.items()}
        for t in plist:
            t.grad = None
        return g

    return Contender(key, step, grads, lambda: {k: t.detach().numpy() for k, t in P.items()},
                     threads)


def rnn_torch_nnrnn(p0, X, Y, mask, lr, threads, key):
    """torch.nn.RNN (its C++ loop) for the recurrence; its second bias is frozen at zero."""
    D, H = p0["Wx"].shape
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(p0["Wx"].T))
        rnn.weight_hh_l0.copy_(torch.tensor(p0["Wh"].T))
        rnn.bias_ih_l0.copy_(torch.tensor(p0["bh"]))
        rnn.bias_hh_l0.zero_()
    rnn.bias_hh_l0.requires_grad_(False)
    out_layer = _torch_params(p0, ("Wy", "by"))
    Wy, by = out_layer["Wy"], out_layer["by"]
    plist = [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, Wy, by]
    Xtm, Ytm, wtm = _rnn_torch_data(X, Y, mask)

    def loss():
        Hs, _ = rnn(Xtm)
        Z = torch.matmul(Hs, Wy) + by
        return F.binary_cross_entropy_with_logits(Z, Ytm, weight=wtm, reduction="sum")

    def step():
        loss().backward()
        _torch_update(plist, lr)

    def as_dict(ts):
        Wx_, Wh_, bh_, Wy_, by_ = (t.detach().numpy().copy() for t in ts)
        return {"Wx": Wx_.T, "Wh": Wh_.T, "bh": bh_, "Wy": Wy_, "by": by_}

    def grads():
        loss().backward()
        g = as_dict([t.grad for t in plist])
        for t in plist:
            t.grad = None
        return g

    return Contender(key, step, grads, lambda: as_dict(plist), threads)


def rnn_autodiff(p0, X, Y, mask, lr):
    """The book's engine (chapter 12): the recurrence as a Python loop over time steps."""
    P = _tensors(p0)
    Xt, Yt = Tensor(X), Tensor(Y)
    w = Tensor(mask[:, :, None] / (mask.sum() * Y.shape[2]))
    N, T, _ = X.shape
    h0 = Tensor(np.zeros((N, p0["Wh"].shape[0])))

    def loss():
        h, hs = h0, []
        for t in range(T):
            h = (Xt[:, t] @ P["Wx"] + h @ P["Wh"] + P["bh"]).tanh()
            hs.append(h)
        p = (stack(hs, axis=1) @ P["Wy"] + P["by"]).sigmoid()
        return -((Yt * p.log() + (1.0 - Yt) * (1.0 - p).log()) * w).sum()

    return _engine_contender(P, loss, lr)


# ============================================================================ measuring
def check_agreement(contenders, ref_grads, steps=3, tol=GRAD_TOL):
    """Assert every contender's gradients (and parameters after `steps` updates) match
    the first contender's; return the largest relative errors seen, per contender."""
    errors = {}
    for c in contenders:
        c.prepare()
        g = c.grads()
        assert set(g) == set(ref_grads), (c.key, sorted(g))
        errors[c.key] = max(rel_error(g[k], ref_grads[k]) for k in ref_grads)
        assert errors[c.key] <= tol, f"{c.label}: gradients differ from bpkit's: {errors[c.key]:.2e}"
    for _ in range(steps):
        for c in contenders:
            c.prepare()
            c.step()
    ref = contenders[0].params()
    for c in contenders[1:]:
        p = c.params()
        err = max(rel_error(np.asarray(p[k]), ref[k]) for k in ref)
        assert err <= tol, f"{c.label}: parameters after {steps} steps differ: {err:.2e}"
        errors[c.key] = max(errors[c.key], err)
    return errors


def block(c, number):
    """Seconds per call over one block of `number` calls."""
    c.prepare()
    step = c.step
    t0 = time.perf_counter()
    for _ in range(number):
        step()
    return (time.perf_counter() - t0) / number


def quartiles(values):
    q25, med, q75 = np.percentile(np.asarray(values, dtype=float), [25, 50, 75])
    return {"median": float(med), "q25": float(q25), "q75": float(q75)}


def time_contenders(contenders, budget_s, block_s, min_rounds=7, max_rounds=25):
    """Interleaved rounds until the time budget is spent (at least min_rounds, at most
    max_rounds); each contender's block sized to about block_s.  Returns a result dict."""
    assert len({c.key for c in contenders}) == len(contenders), [c.key for c in contenders]
    per_call = {}
    for c in contenders:                       # warm up, then a rough per-call time
        block(c, 2)
        per_call[c.key] = float(np.median([block(c, 1) for _ in range(3)]))
    number = {k: max(1, round(block_s / t)) for k, t in per_call.items()}
    times = {c.key: [] for c in contenders}
    start = time.perf_counter()
    rounds = 0
    while rounds < max_rounds:
        shift = rounds % len(contenders)       # rotate the order from round to round
        for c in contenders[shift:] + contenders[:shift]:
            times[c.key].append(block(c, number[c.key]))
        rounds += 1
        elapsed = time.perf_counter() - start
        if rounds == 1 and elapsed * min_rounds > 3 * budget_s:  # very slow point
            min_rounds = 5
        if rounds >= min_rounds and elapsed >= budget_s:
            break
    times = {k: np.array(v) * 1e6 for k, v in times.items()}   # microseconds per step
    result = {
        "rounds": rounds,
        "seconds": time.perf_counter() - start,
        "contenders": {k: {"label": LABELS[k], "steps_per_block": number[k],
                           "us_per_step": {**quartiles(v), "min": float(v.min())}}
                       for k, v in times.items()},
        "ratios": {},
    }
    for a in times:
        for b in REFERENCES:
            if b in times and a != b:
                result["ratios"][f"{a}/{b}"] = {**quartiles(times[a] / times[b]),
                                                "ratio_of_min": float(times[a].min() / times[b].min())}
    return result


# ============================================================================ the tasks
def mlp_contenders(p0, X, Y, lr, micrograd=False):
    cs = [mlp_bpkit(p0, X, Y, lr), mlp_bpkit_train_step(p0, X, Y, lr), mlp_numpy(p0, X, Y, lr),
          mlp_numpy(p0, X, Y, lr, "numpy_same"), mlp_torch(p0, X, Y, lr, 1, "torch_1t"),
          mlp_torch(p0, X, Y, lr, TORCH_DEFAULT_THREADS, "torch_default"), mlp_autodiff(p0, X, Y, lr)]
    if micrograd:
        cs.append(mlp_micrograd(p0, X, Y, lr))
    return cs


def rnn_contenders(p0, X, Y, mask, lr, default_threads=True):
    cs = [rnn_bpkit(p0, X, Y, mask, lr), rnn_numpy(p0, X, Y, mask, lr),
          rnn_numpy_same(p0, X, Y, mask, lr),
          rnn_torch(p0, X, Y, mask, lr, 1, "torch_1t"),
          rnn_torch_nnrnn(p0, X, Y, mask, lr, 1, "torch_rnn_1t"), rnn_autodiff(p0, X, Y, mask, lr)]
    if default_threads:
        cs += [rnn_torch(p0, X, Y, mask, lr, TORCH_DEFAULT_THREADS, "torch_default"),
               rnn_torch_nnrnn(p0, X, Y, mask, lr, TORCH_DEFAULT_THREADS, "torch_rnn_default")]
    return cs


def run_point(contenders, budget_s, block_s, max_rounds=40):
    errors = check_agreement(contenders, contenders[0].grads())
    res = time_contenders(contenders, budget_s, block_s, max_rounds=max_rounds)
    for k, e in errors.items():
        res["contenders"][k]["max_rel_error"] = float(e)
    return res


def mlp_data(width, batch, seed=0):
    """`batch` random points in [-1, 1]^2, labelled by the XOR of their signs."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, (batch, 2))
    Y = ((X[:, :1] > 0) != (X[:, 1:] > 0)).astype(np.float64)
    return X, Y, init_mlp([2, width, 1], seed=seed)


def rnn_data(T, H, N=RNN_SHAPE["N"], delay=RNN_SHAPE["delay"], seed=0):
    X, Y, mask = delayed_xor(N, T, delay, seed=seed)
    return X, Y, mask, init_rnn(RNN_SHAPE["D"], H, RNN_SHAPE["K"], seed=seed)


def fit_linear(sizes, medians):
    """t = a + b * size, least squares on relative error (every size weighs alike)."""
    s, t = np.asarray(sizes, float), np.asarray(medians, float)
    A = np.column_stack([1.0 / t, s / t])
    (a, b), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
    return {"intercept_us": float(a), "slope_us_per_unit": float(b)}


def crossover(sizes, ratio_medians):
    """Where a torch/bpkit ratio falls below 1 and stays there, over the measured sizes."""
    r = np.asarray(ratio_medians, float)
    below = r < 1.0
    if not below[-1]:
        return {"status": "none", "first_size": None, "estimate": None}
    i = len(r) - 1
    while i > 0 and below[i - 1]:
        i -= 1
    if i == 0:
        return {"status": "at_or_below_smallest", "first_size": sizes[0], "estimate": None}
    # interpolate log(ratio) linearly in log(size) between sizes[i - 1] and sizes[i]
    x0, x1 = math.log(sizes[i - 1]), math.log(sizes[i])
    y0, y1 = math.log(r[i - 1]), math.log(r[i])
    est = math.exp(x0 + (0.0 - y0) * (x1 - x0) / (y1 - y0))
    return {"status": "between", "first_size": sizes[i], "previous_size": sizes[i - 1],
            "estimate": float(est)}


def scaling(name, param, sizes, make, budget, block_s, note, fixed, log):
    points = []
    for s in sizes:
        t0 = time.perf_counter()
        res = run_point(make(s), budget(s), block_s)
        res["size"] = s
        points.append(res)
        meds = {k: v["us_per_step"]["median"] for k, v in res["contenders"].items()}
        log(f"  {param}={s:<5} " + "  ".join(f"{k} {v:,.0f}" for k, v in meds.items())
            + f"  us/step ({res['rounds']} rounds, {time.perf_counter() - t0:.1f} s)")
    keys = list(points[0]["contenders"])
    fits = {k: fit_linear(sizes, [p["contenders"][k]["us_per_step"]["median"] for p in points])
            for k in keys}
    cross = {}
    for k in keys:
        if k.startswith("torch"):
            for b in ("bpkit", "bpkit_train_step"):
                if b in keys:
                    cross[f"{k}/{b}"] = crossover(
                        list(sizes), [p["ratios"][f"{k}/{b}"]["median"] for p in points])
    return {"name": name, "param": param, "sizes": list(sizes), "note": note, "fixed": fixed,
            "points": points,
            "linear_fit": fits, "crossover": cross}


# ============================================================================ sweeps
def epochs_to_stay_solved(acc, final_acc):
    """First epoch e with accuracy 1 at e and at every later epoch and after training, else -1.

    ``acc[s, e]`` is measured before epoch e's update, i.e. after e updates.
    """
    ok = np.concatenate([acc == 1.0, (np.asarray(final_acc) == 1.0)[:, None]], axis=1)
    bad_after = ok.shape[1] - np.argmax(~ok[:, ::-1], axis=1)  # 1 + last index that is False
    bad_after[ok.all(axis=1)] = 0
    return np.where(ok[:, -1], bad_after, -1)


def summarize_epochs(e):
    e = np.asarray(e)
    solved = e[e >= 0]
    out = {"n": int(e.size), "n_solved": int(solved.size), "success_rate": float(solved.size / e.size),
           "epochs_to_solve": [int(v) for v in e]}
    if solved.size:
        out.update(epochs_quartiles=quartiles(solved), epochs_min=int(solved.min()),
                   epochs_max=int(solved.max()))
    return out


def xor_sweeps(seeds, log):
    from bpkit.sweep import train_mlp_seeds
    X, Y = xor()
    recipes = {
        "article": dict(sizes=[2, 2, 1], hidden="sigmoid", loss="mse", reduction="sum", lr=0.1,
                        epochs=10_000, init="uniform", bias=False),
        "book": dict(sizes=[2, 4, 1], epochs=2000),
    }
    notes = {"article": "the source article's recipe: 2-2-1 sigmoid net without biases, summed "
                        "squared error, lr 0.1, U(-1, 1) init, 10,000 epochs",
             "book": "the book's recipe, train_mlp's defaults: 2-4-1 with biases, sigmoid, "
                     "mean BCE, lr 1.0, Glorot init, 2,000 epochs"}
    out = {}
    for name, recipe in recipes.items():
        t0 = time.perf_counter()
        kw = dict(recipe)
        sizes = kw.pop("sizes")
        _, hist = train_mlp_seeds(X, Y, sizes, list(seeds), **kw)
        e = epochs_to_stay_solved(hist["accuracy"], hist["final_accuracy"])
        out[name] = {"recipe": recipe, "note": notes[name], "seeds": [min(seeds), max(seeds)],
                     "runtime_s": time.perf_counter() - t0,
                     "solved_after_training": int((hist["final_accuracy"] == 1.0).sum()),
                     **summarize_epochs(e)}
        log(f"  XOR, {name} recipe: solved {out[name]['n_solved']}/{len(seeds)} "
            f"({time.perf_counter() - t0:.1f} s)")
    return out


def rnn_sweep(seeds, delays, log, n=128, T=20, H=16, n_test=512):
    """train_rnn's documented recipe, one seed at a time (there is no stacked RNN trainer)."""
    out = {"recipe": {"N": n, "T": T, "H": H, **RNN_RECIPE, "full_batch": True,
                      "truncate": None},
           "success": "training accuracy 1.0 on every masked-in step, reached within the "
                      "epochs (train_rnn stop_at=1.0); held-out accuracy on "
                      f"delayed_xor({n_test}, {T}, delay, seed=10_000 + seed)",
           "seeds": [min(seeds), max(seeds)], "delays": {}}
    for d in delays:
        t0 = time.perf_counter()
        epochs, held = [], []
        for s in seeds:
            X, Y, mask = delayed_xor(n, T, d, seed=s)
            params, hist = train_rnn(X, Y, mask, H, seed=s, stop_at=1.0)
            solved = hist["accuracy"][-1] == 1.0
            epochs.append(len(hist["accuracy"]) - 1 if solved else -1)
            Xt, Yt, mt = delayed_xor(n_test, T, d, seed=10_000 + s)
            held.append(sequence_accuracy(rnn_model_forward(params, Xt)[0], Yt, mt))
        res = summarize_epochs(epochs)
        res["heldout_accuracy"] = [float(a) for a in held]
        res["heldout_accuracy_quartiles"] = quartiles(held)
        res["runtime_s"] = time.perf_counter() - t0
        out["delays"][str(d)] = res
        log(f"  delayed XOR, delay {d}: solved {res['n_solved']}/{len(seeds)} "
            f"({res['runtime_s']:.1f} s)")
    return out


# ============================================================================ metadata
def machine_info():
    info = {"platform": platform.platform(), "machine": platform.machine(),
            "python": platform.python_version(), "cpu_count": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "cpu_model": None, "torch_default_threads": TORCH_DEFAULT_THREADS,
            "env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS",
                                               "OMP_NUM_THREADS", "MKL_NUM_THREADS")
                    if k in os.environ}}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in lscpu.splitlines():
            if line.startswith("Model name:"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001 - informational only
        info["numpy_blas"] = None
    return info


def versions():
    v = {"bpkit": bpkit.__version__, "numpy": np.__version__, "torch": torch.__version__}
    for pkg in ("micrograd", "matplotlib"):
        try:
            v[pkg] = _md.version(pkg)
        except _md.PackageNotFoundError:
            v[pkg] = None
    return v


# ============================================================================ main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=pathlib.Path, default=RESULTS, help="results file (JSON)")
    ap.add_argument("--block-ms", type=float, default=15.0, help="length of one timed block")
    ap.add_argument("--quick", action="store_true", help="tiny budgets (checks the script only)")
    ap.add_argument("--rnn-seeds", type=int, default=50, help="seeds per delay, delayed XOR")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    started = _dt.datetime.now(_dt.timezone.utc)
    load_start = os.getloadavg()
    # numpy's BLAS (OpenBLAS) runs on one thread for every numpy-based contender, so that
    # bpkit and plain numpy meet PyTorch's 1-thread mode on equal terms; PyTorch's own
    # threads are set per contender.  Recorded in the results' machine info.
    pools_default = [{k: d.get(k) for k in ("user_api", "internal_api", "num_threads")}
                     for d in threadpool_info()]
    blas_limit = threadpool_limits(limits=1, user_api="blas")
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    q = 0.15 if args.quick else 1.0
    block_s = args.block_ms / 1000 * (0.3 if args.quick else 1.0)
    log(f"bpkit {bpkit.__version__}, numpy {np.__version__}, torch {torch.__version__} "
        f"(default {TORCH_DEFAULT_THREADS} threads), python {platform.python_version()}")
    if TORCH_DEFAULT_THREADS == 1 and (os.cpu_count() or 1) > 1:
        log(f"note: PyTorch's default is 1 thread here (OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS')!r}); 'default threads' then means 1 thread")

    tasks = {}
    log("XOR 2-4-1, full batch (4 points)")
    X, Y = xor()
    p0 = init_mlp([2, 4, 1], seed=0)
    tasks["xor"] = run_point(mlp_contenders(p0, X, Y, XOR_LR, micrograd=True), 25 * q, block_s,
                             max_rounds=60)
    tasks["xor"]["config"] = {"sizes": [2, 4, 1], "N": 4, "hidden": "sigmoid", "output": "sigmoid",
                              "loss": "bce (mean)", "lr": XOR_LR, "init": "init_mlp(seed=0)"}
    log("RNN on delayed XOR")
    Xr, Yr, mr, pr = rnn_data(RNN_SHAPE["T"], RNN_SHAPE["H"])
    tasks["rnn"] = run_point(rnn_contenders(pr, Xr, Yr, mr, RNN_LR), 30 * q, block_s,
                             max_rounds=60)
    tasks["rnn"]["config"] = {**RNN_SHAPE, "loss": "masked mean BCE with logits", "lr": RNN_LR,
                              "bptt": "full", "init": "init_rnn(seed=0)"}
    for name, t in tasks.items():
        for k, v in t["contenders"].items():
            log(f"  {name}: {v['label']:34s} {v['us_per_step']['median']:10.1f} us/step "
                f"(IQR {v['us_per_step']['q25']:.1f}-{v['us_per_step']['q75']:.1f})")

    log("Scaling")
    sc = {}
    N, T0, H0 = RNN_SHAPE["N"], RNN_SHAPE["T"], RNN_SHAPE["H"]
    sc["mlp_width"] = scaling(
        f"MLP 2-H-1, batch of {MLP_BATCH} random points", "H", MLP_WIDTHS, _mlp_point,
        lambda h: 6.0 * q, block_s,
        f"XOR has only 4 points, so the widths are timed on a batch of {MLP_BATCH} random points "
        "in [-1, 1]^2 labelled by the XOR of their signs; same net, loss and update as the XOR "
        f"task, with lr = 4/H ({mlp_lr(4):g} at H = 4) so that large widths do not saturate",
        {"N": MLP_BATCH, "lr": "4/H"}, log)
    sc["rnn_length"] = scaling(
        f"RNN on delayed XOR, N={N}, H={H0}", "T", RNN_LENGTHS, lambda T: _rnn_point(T, H0),
        lambda T: 6.0 * q, block_s,
        f"the sequence length T grows with N = {N}, D = 1, H = {H0}, K = 1; PyTorch with one "
        "thread only, to keep the run short", {"N": N, "D": 1, "H": H0, "K": 1, "lr": RNN_LR}, log)
    sc["rnn_width"] = scaling(
        f"RNN on delayed XOR, N={N}, T={T0}", "H", RNN_WIDTHS, lambda h: _rnn_point(T0, h),
        lambda h: 8.0 * q, block_s,
        f"the hidden width H grows with N = {N}, T = {T0}, D = 1, K = 1; PyTorch with one thread "
        "only, to keep the run short", {"N": N, "T": T0, "D": 1, "K": 1, "lr": RNN_LR}, log)

    log("Seed sweeps")
    sweeps = {"xor": xor_sweeps(range(100), log),
              "delayed_xor": rnn_sweep(range(args.rnn_seeds if not args.quick else 3), (1, 2, 3), log)}

    result = {
        "schema_version": 1,
        "created": started.isoformat(timespec="seconds"),
        "command": "make bench-peers" if os.environ.get("BENCH_VIA_MAKE") else
                   "python " + " ".join([os.path.relpath(__file__)] + sys.argv[1:]),
        "quick": bool(args.quick),
        "runtime_s": None,
        "loadavg_start": list(load_start),
        "loadavg_end": None,
        "machine": {**machine_info(), "threadpools_at_start": pools_default, "threadpools": [
            {k: d.get(k) for k in ("user_api", "internal_api", "prefix", "version", "num_threads")}
            for d in threadpool_info()]},
        "versions": versions(),
        "targets": TARGETS,
        "method": {"statistic": "median over rounds", "spread": "interquartile range (q25-q75)",
                   "ratios": "per round, A's time per step / B's in the same round; "
                             "ratio_of_min: A's fastest block / B's fastest block",
                   "block_ms": args.block_ms, "grad_tolerance": GRAD_TOL, "gc": "enabled",
                   "rounds": "adaptive by a time budget per point: 7-60 for the two tasks, "
                             "7-40 for scaling points (5 for very slow points)",
                   "numpy_blas_threads": 1, "torch_threads": {"1t": 1,
                                                             "default": TORCH_DEFAULT_THREADS}},
        "labels": LABELS,
        "tasks": tasks,
        "scaling": sc,
        "sweeps": sweeps,
    }
    blas_limit.restore_original_limits()
    result["runtime_s"] = time.perf_counter() - start
    result["loadavg_end"] = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(args.out)
    summary(result, log)
    log(f"wrote {args.out} in {result['runtime_s']:.0f} s")
    return result


def mlp_lr(h):
    """lr 1.0 scaled by 4/H: the first update then moves the output logit about as much as
    in the 2-4-1 net (lr 1.0 at H=1024 saturates the output after one step)."""
    return XOR_LR * min(1.0, 4.0 / h)


def _mlp_point(h):
    X, Y, p0 = mlp_data(h, MLP_BATCH)
    return mlp_contenders(p0, X, Y, mlp_lr(h))


def _rnn_point(T, H):
    X, Y, mask, p0 = rnn_data(T, H)
    return rnn_contenders(p0, X, Y, mask, RNN_LR, default_threads=False)


def summary(r, log):
    def ratio(task, key):
        x = r["tasks"][task]["ratios"].get(key)
        return "-" if x is None else f"{x['median']:.2f} (IQR {x['q25']:.2f}-{x['q75']:.2f})"

    log("Ratios (median over rounds, same run)")
    for task, keys in (("xor", ("bpkit/numpy", "bpkit/numpy_same", "bpkit_train_step/numpy",
                                "bpkit_train_step/numpy_same", "torch_1t/bpkit",
                                "torch_default/bpkit", "torch_1t/bpkit_train_step",
                                "micrograd/bpkit", "autodiff/bpkit", "autodiff/numpy_same")),
                       ("rnn", ("bpkit/numpy", "bpkit/numpy_same", "torch_1t/bpkit",
                                "torch_default/bpkit", "torch_rnn_1t/bpkit",
                                "torch_rnn_default/bpkit", "autodiff/bpkit",
                                "autodiff/numpy_same"))):
        for k in keys:
            log(f"  {task:4s} {k:28s} {ratio(task, k)}")
    for name, s in r["scaling"].items():
        for k, c in s["crossover"].items():
            log(f"  crossover {name} {k}: {c}")


if __name__ == "__main__":
    main()
