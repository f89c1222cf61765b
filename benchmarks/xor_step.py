"""Time one XOR training step (2-4-1, sigmoid, BCE, SGD): bpkit vs the same step in plain numpy.

Run: ``python benchmarks/xor_step.py`` (prints medians over repeated blocks and the ratio).
The targets: ``train_step`` <= 1.5x plain numpy, the four public calls <= 2x.  ``--cpu``
times CPU time instead of wall time (steadier on a shared machine).  Not a test: timings
never decide pass/fail.
"""

from __future__ import annotations

import argparse
import platform
import time
import timeit

import numpy as np

import bpkit
from bpkit import bce_loss, init_mlp, mlp_backward, mlp_forward, sgd_step, train_step, xor


def bpkit_train_step(params, X, Y, lr=1.0):
    """bpkit.train_step: the step train_mlp runs, validated once at its boundary."""
    train_step(params, X, Y, lr)


def bpkit_step(params, X, Y, lr=1.0):
    """Four public calls, each validating its own inputs."""
    Yhat, cache = mlp_forward(params, X)
    _, dY = bce_loss(Yhat, Y)
    grads = mlp_backward(dY, cache)
    sgd_step(params, grads, lr)


def numpy_step(p, X, Y, lr=1.0):
    """The same arithmetic, hand-written: no checks, no caches, no dicts of grads."""
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
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    da1 = dz2 @ p["W2"].T
    dz1 = da1 * a1 * (1.0 - a1)
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    p["W1"] -= lr * dW1
    p["b1"] -= lr * db1
    p["W2"] -= lr * dW2
    p["b2"] -= lr * db2


#: The clock: wall time (default) or, with ``--cpu``, this process's CPU time, which other
#: processes on a shared machine disturb much less.
TIMER = {"wall": time.perf_counter, "cpu": time.process_time}


def measure(step, number, repeat, timer="wall"):
    X, Y = xor()
    params = init_mlp([2, 4, 1], seed=0)
    times = timeit.repeat(lambda: step(params, X, Y), number=number, repeat=repeat, timer=TIMER[timer])
    return np.array(times) / number * 1e6  # microseconds per step


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--number", type=int, default=2000, help="steps per timed block")
    ap.add_argument("--repeat", type=int, default=15, help="timed blocks")
    ap.add_argument("--cpu", action="store_true",
                    help="time this process's CPU time instead of wall time (shared machines)")
    args = ap.parse_args(argv)
    timer = "cpu" if args.cpu else "wall"
    # the two steps must compute the same thing
    X, Y = xor()
    p1, p2 = init_mlp([2, 4, 1], seed=3), init_mlp([2, 4, 1], seed=3)
    p3 = init_mlp([2, 4, 1], seed=3)
    for _ in range(50):
        bpkit_step(p1, X, Y)
        numpy_step(p2, X, Y)
        bpkit_train_step(p3, X, Y)
    for k in p1:
        np.testing.assert_allclose(p1[k], p2[k], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(p3[k], p2[k], rtol=1e-12, atol=1e-14)
    steps = {"bpkit.train_step": bpkit_train_step, "bpkit, 4 public calls": bpkit_step,
             "plain numpy": numpy_step}
    times = {name: [] for name in steps}
    # interleave blocks so that machine noise hits all alike; per-block ratios pair them
    for _ in range(args.repeat):
        for name, step in steps.items():
            times[name].extend(measure(step, args.number, 1, timer))
    times = {k: np.array(v) for k, v in times.items()}
    print(f"python {platform.python_version()}, numpy {np.__version__}, bpkit {bpkit.__version__}, "
          f"{platform.machine()}; {args.repeat} blocks of {args.number} steps, {timer} time")
    for name, t in times.items():
        print(f"{name:24s}: median {np.median(t):7.2f} us/step "
              f"(IQR {np.percentile(t, 25):.2f}-{np.percentile(t, 75):.2f})")
    ratios = {}
    for name, target in (("bpkit.train_step", 1.5), ("bpkit, 4 public calls", 2.0)):
        r = times[name] / times["plain numpy"]
        ratios[name] = float(np.median(r))
        print(f"ratio {name} / plain numpy: median {np.median(r):.2f} "
              f"(IQR {np.percentile(r, 25):.2f}-{np.percentile(r, 75):.2f}; target <= {target})")
    return ratios


if __name__ == "__main__":
    main()
