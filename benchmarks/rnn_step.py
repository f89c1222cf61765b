"""Time BPTT: bpkit.rnn against the same computation hand-written in plain numpy.

Two measurements, on delayed XOR with N=64 sequences, T=20 steps, D=1, H=16, K=1:

1. the recurrence alone: ``rnn_forward`` + ``rnn_backward`` (public, validated calls)
   against two hand-written loops, "plain numpy" (batch-first, one step at a time,
   gradients accumulated step by step, the way the loop is usually written, which is
   also bpkit's algorithm: a reversed loop over the step backward) and "plain numpy,
   batched" (a faster algorithm bpkit used before it was rewritten to read like the
   book: time-major, weight gradients as one matrix product after the loop);
2. one training step: forward, masked BCE-with-logits loss, backward, SGD update, as
   four public bpkit calls and as ``train_rnn`` (validated once, per epoch), against
   the step hand-written in plain numpy.

Run: ``python benchmarks/rnn_step.py`` (prints medians and IQRs over interleaved
blocks, and per-block ratios).  The target is bpkit <= 1.5x plain numpy.  Not a test:
timings never decide pass/fail.  Before timing, every variant is checked to compute
the same numbers.
"""

from __future__ import annotations

import argparse
import platform
import time
import timeit

import numpy as np

import bpkit
from bpkit import delayed_xor, sgd_step
from bpkit.rnn import (init_rnn, rnn_backward, rnn_forward, rnn_model_backward, rnn_model_forward,
                       sequence_bce_logits_loss, train_rnn)

N, T, D, H, K = 64, 20, 1, 16, 1


# ------------------------------------------------------------------ 1. the recurrence
def bpkit_recurrence(X, h0, Wx, Wh, b, dHs):
    Hs, cache = rnn_forward(X, h0, Wx, Wh, b)
    return Hs, rnn_backward(dHs, cache)


def numpy_recurrence(X, h0, Wx, Wh, b, dHs):
    """Batch-first, step by step, as usually hand-written (CS231n style)."""
    n, steps, _ = X.shape
    Hs = np.empty((n, steps, Wh.shape[0]))
    h = h0
    for t in range(steps):
        h = np.tanh(X[:, t] @ Wx + h @ Wh + b)
        Hs[:, t] = h
    dX = np.empty_like(X)
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dnext = np.zeros_like(h0)
    for t in range(steps - 1, -1, -1):
        h_prev = Hs[:, t - 1] if t else h0
        da = (dHs[:, t] + dnext) * (1.0 - Hs[:, t] ** 2)
        dX[:, t] = da @ Wx.T
        dWx += X[:, t].T @ da
        dWh += h_prev.T @ da
        db += da.sum(axis=0)
        dnext = da @ Wh.T
    return Hs, (dX, dnext, dWx, dWh, db)


def numpy_recurrence_batched(X, h0, Wx, Wh, b, dHs):
    """The fused algorithm (bpkit's before the readable rewrite): time-major, weight gradients after the loop."""
    n, steps, d = X.shape
    hdim = Wh.shape[0]
    Xtm = X.transpose(1, 0, 2)
    Hall = np.empty((steps + 1, n, hdim))
    Hall[0] = h0
    A = Hall[1:]
    np.matmul(Xtm.reshape(steps * n, d), Wx, out=A.reshape(steps * n, hdim))
    A += b
    h = h0
    for t in range(steps):
        a = A[t]
        a += h @ Wh
        h = np.tanh(a, out=a)
    delta = 1.0 - A * A
    dHtm = dHs.transpose(1, 0, 2)
    dnext = None
    for t in range(steps - 1, -1, -1):
        if dnext is None:
            delta[t] *= dHtm[t]
        else:
            dnext += dHtm[t]
            delta[t] *= dnext
        dnext = delta[t] @ Wh.T
    D2 = delta.reshape(steps * n, hdim)
    dWx = Xtm.reshape(steps * n, d).T @ D2
    dWh = Hall[:-1].reshape(steps * n, hdim).T @ D2
    dX = (D2 @ Wx.T).reshape(steps, n, d).transpose(1, 0, 2)
    return A.transpose(1, 0, 2), (dX, dnext, dWx, dWh, D2.sum(axis=0))


# --------------------------------------------------------------- 2. a training step
def bpkit_train_step(params, X, Y, mask, lr=0.5):
    """Four public calls, each validating its own inputs."""
    Z, cache = rnn_model_forward(params, X)
    _, dZ = sequence_bce_logits_loss(Z, Y, mask)
    grads = rnn_model_backward(dZ, cache)
    sgd_step(params, grads, lr)


def numpy_train_step(p, X, Y, mask, lr=0.5):
    """The same step hand-written: batch-first, step-by-step BPTT, no checks."""
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
    dZ = w * (np.exp(-np.logaddexp(0.0, -Z)) - Y)
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
    for k, g in (("Wx", dWx), ("Wh", dWh), ("bh", dbh), ("Wy", dWy), ("by", dby)):
        p[k] -= lr * g


def train_rnn_epochs(params, X, Y, mask, epochs):
    """train_rnn: validated once, then the unchecked step, `epochs` times (plain SGD)."""
    return train_rnn(X, Y, mask, H, epochs=epochs, lr=0.5, clip=None, momentum=0.0, params=params)


# ---------------------------------------------------------------------------- driver
#: The clock: wall time (default) or, with ``--cpu``, this process's CPU time, which other
#: processes on a shared machine disturb much less.
TIMER = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = ["wall"]


def block(fn, number):
    return timeit.timeit(fn, number=number, timer=TIMER[CLOCK[0]]) / number * 1e6  # us per call


def report(title, steps, number, repeat, baselines):
    times = {name: [] for name in steps}
    for _ in range(repeat):  # interleave blocks so that machine noise hits all alike
        for name, fn in steps.items():
            times[name].append(fn(number))
    times = {k: np.array(v) for k, v in times.items()}
    print(f"\n{title}: {repeat} blocks of {number}")
    for name, t in times.items():
        print(f"  {name:34s}: median {np.median(t):8.1f} us "
              f"(IQR {np.percentile(t, 25):.1f}-{np.percentile(t, 75):.1f})")
    ratios = {}
    for name, base in baselines:
        r = times[name] / times[base]
        ratios[f"{name} / {base}"] = float(np.median(r))
        print(f"  ratio {name} / {base}: median {np.median(r):.2f} "
              f"(IQR {np.percentile(r, 25):.2f}-{np.percentile(r, 75):.2f}; target <= 1.5)")
    return ratios


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--number", type=int, default=200, help="calls per timed block")
    ap.add_argument("--repeat", type=int, default=15, help="timed blocks per variant")
    ap.add_argument("--cpu", action="store_true",
                    help="time this process's CPU time instead of wall time (shared machines)")
    args = ap.parse_args(argv)
    CLOCK[0] = "cpu" if args.cpu else "wall"

    X, Y, mask = delayed_xor(N, T, 1, seed=0)
    rng = np.random.default_rng(0)
    p0 = init_rnn(D, H, K, seed=0)
    h0 = rng.normal(scale=0.5, size=(N, H))
    bh = rng.normal(scale=0.1, size=H)
    dHs = rng.normal(size=(N, T, H))
    rec_args = (X, h0, p0["Wx"], p0["Wh"], bh, dHs)

    # 1. all three recurrences compute the same numbers
    ref_H, ref_g = numpy_recurrence(*rec_args)
    for fn in (bpkit_recurrence, numpy_recurrence_batched):
        Hs, g = fn(*rec_args)
        np.testing.assert_allclose(Hs, ref_H, rtol=1e-12, atol=1e-14)
        for a, b in zip(g, ref_g):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    # 2. all three training loops compute the same parameters
    ps = [init_rnn(D, H, K, seed=3) for _ in range(3)]
    for _ in range(20):
        bpkit_train_step(ps[0], X, Y, mask)
        numpy_train_step(ps[1], X, Y, mask)
    ps[2], _ = train_rnn_epochs(ps[2], X, Y, mask, 20)
    for k in ps[0]:
        np.testing.assert_allclose(ps[0][k], ps[1][k], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ps[2][k], ps[1][k], rtol=1e-10, atol=1e-12)

    print(f"python {platform.python_version()}, numpy {np.__version__}, bpkit {bpkit.__version__}, "
          f"{platform.machine()}; N={N}, T={T}, D={D}, H={H}, K={K}; {CLOCK[0]} time")
    n = args.number
    rec = {
        "bpkit rnn_forward + rnn_backward": lambda m: block(lambda: bpkit_recurrence(*rec_args), m),
        "plain numpy": lambda m: block(lambda: numpy_recurrence(*rec_args), m),
        "plain numpy, batched": lambda m: block(lambda: numpy_recurrence_batched(*rec_args), m),
    }
    ratios = report("recurrence forward + backward (per call)", rec, n, args.repeat,
                    [("bpkit rnn_forward + rnn_backward", "plain numpy"),
                     ("bpkit rnn_forward + rnn_backward", "plain numpy, batched")])
    pb, pn, pt = (init_rnn(D, H, K, seed=1) for _ in range(3))
    train = {
        "bpkit, 4 public calls": lambda m: block(lambda: bpkit_train_step(pb, X, Y, mask), m),
        "bpkit train_rnn (per epoch)": lambda m: block(lambda: train_rnn_epochs(pt, X, Y, mask, m), 1) / m,
        "plain numpy": lambda m: block(lambda: numpy_train_step(pn, X, Y, mask), m),
    }
    ratios.update(report("training step: forward, loss, backward, update (per step)", train, n,
                         args.repeat, [("bpkit, 4 public calls", "plain numpy"),
                                       ("bpkit train_rnn (per epoch)", "plain numpy")]))
    return ratios


if __name__ == "__main__":
    main()
