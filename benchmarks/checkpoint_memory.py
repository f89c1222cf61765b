"""Memory and time of BPTT with and without gradient checkpointing (chapter 8b).

For sequences of T steps (N=64 sequences, D=1 feature, H=16 hidden units) this measures

1. the peak memory traced by :mod:`tracemalloc` during one forward + backward pass, in
   units of one state (N * H float64 = 8 KiB), for
   * ``full``: :func:`bpkit.recurrence.rnn_forward` + :func:`~bpkit.recurrence.rnn_backward`
     (stores every state);
   * ``steps``: the same algorithm as a loop over ``rnn_step_forward`` /
     ``rnn_step_backward`` keeping every step's cache (chapter 8's loop, no recomputation);
   * ``checkpoint``: :func:`bpkit.checkpoint.rnn_checkpoint_forward` /
     :func:`~bpkit.checkpoint.rnn_checkpoint_backward` with ``every = ceil(sqrt(T))``;
2. the time of one forward + backward pass of each (median and interquartile range over
   interleaved repeats), and the per-repeat ratio checkpoint / steps (the price of
   recomputing: the two run the same step functions, checkpointing runs every forward step
   twice).

Run: ``python benchmarks/checkpoint_memory.py`` (about a minute; writes
``benchmarks/results/checkpoint.json``, read by chapter 8b).  Not a test: timings never
decide pass/fail.  Every variant is first checked to compute the same gradients.
"""

from __future__ import annotations

import json
import pathlib
import platform
import time
import tracemalloc

import numpy as np

import bpkit
from bpkit.checkpoint import checkpoint_every, rnn_checkpoint_backward, rnn_checkpoint_forward
from bpkit.recurrence import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward

N, D, H = 64, 1, 16
T_VALUES = (16, 64, 256, 1024)
STATE_BYTES = N * H * 8
OUT = pathlib.Path(__file__).parent / "results" / "checkpoint.json"


def problem(T, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, size=(N, T, D)).astype(float)
    Wx = rng.normal(scale=0.5, size=(D, H))
    Q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    return X, np.zeros((N, H)), Wx, Q, np.zeros(H), rng.normal(size=(N, T, H))


def full(X, h0, Wx, Wh, b, dHs):
    _, cache = rnn_forward(X, h0, Wx, Wh, b)
    return rnn_backward(dHs, cache)


def steps(X, h0, Wx, Wh, b, dHs):
    caches, h = [], h0
    for t in range(X.shape[1]):
        h, c = rnn_step_forward(X[:, t], h, Wx, Wh, b)
        caches.append(c)
    dX = np.empty_like(X)
    dWx, dWh, db, dh_next = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b), np.zeros_like(h0)
    for t in range(X.shape[1] - 1, -1, -1):
        dx, dh_next, dWx_t, dWh_t, db_t = rnn_step_backward(dHs[:, t] + dh_next, caches.pop())
        dX[:, t] = dx
        dWx += dWx_t
        dWh += dWh_t
        db += db_t
    return dX, dh_next, dWx, dWh, db


def checkpointed(X, h0, Wx, Wh, b, dHs):
    _, cache = rnn_checkpoint_forward(X, h0, Wx, Wh, b, checkpoint_every(X.shape[1]))
    return rnn_checkpoint_backward(dHs, cache)


VARIANTS = {"full": full, "steps": steps, "checkpoint": checkpointed}


def peak_states(fn, args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / STATE_BYTES


def main() -> None:
    results = {"N": N, "D": D, "H": H, "state_bytes": STATE_BYTES, "T": list(T_VALUES),
               "every": [checkpoint_every(T) for T in T_VALUES],
               "machine": {"python": platform.python_version(), "numpy": np.__version__,
                           "bpkit": bpkit.__version__, "processor": platform.machine()},
               "peak_states": {}, "time_ms": {}, "ratio_checkpoint_over_steps": []}
    for T in T_VALUES:
        args = problem(T)
        ref = full(*args)
        for name, fn in VARIANTS.items():
            for a, r in zip(fn(*args), ref):
                np.testing.assert_allclose(a, r, rtol=1e-10, atol=1e-12)
        for name, fn in VARIANTS.items():
            results["peak_states"].setdefault(name, []).append(round(peak_states(fn, args), 2))
        repeats = max(5, 2000 // T)
        times = {name: [] for name in VARIANTS}
        for _ in range(repeats):                       # interleaved: the machine's noise hits all
            for name, fn in VARIANTS.items():
                start = time.perf_counter()
                fn(*args)
                times[name].append(time.perf_counter() - start)
        for name in VARIANTS:
            q1, med, q3 = np.percentile(np.array(times[name]) * 1e3, [25, 50, 75])
            results["time_ms"].setdefault(name, []).append([round(med, 3), round(q1, 3), round(q3, 3)])
        ratios = np.array(times["checkpoint"]) / np.array(times["steps"])
        results["ratio_checkpoint_over_steps"].append(
            [round(float(np.median(ratios)), 3), *(round(float(q), 3) for q in np.percentile(ratios, [25, 75]))])
        print(f"T={T:5d}: peak states {[results['peak_states'][n][-1] for n in VARIANTS]}, "
              f"time ms {[results['time_ms'][n][-1][0] for n in VARIANTS]}, "
              f"checkpoint/steps {results['ratio_checkpoint_over_steps'][-1][0]:.2f}", flush=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
