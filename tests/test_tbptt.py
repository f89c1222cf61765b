"""Truncated BPTT in its two training forms, and gradient checkpointing.

* ``train_rnn(truncate=k)`` (accumulated: one forward pass, chunk gradients summed, one
  update) and ``train_rnn(truncate=k, chunk_updates=True)`` (online: state carried, one
  update per chunk) against independent loops over the public API;
* ``bpkit.checkpoint`` against ``rnn_backward`` and central differences, on
  hypothesis-drawn shapes and every segment length; bad input.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpkit import checkpoint, rnn
from bpkit.datasets import delayed_xor
from bpkit.gradcheck import numerical_gradient, rel_error
from bpkit.optim import sgd_step

GRAD_TOL = 1e-7          # float64 central differences (see tests/test_rnn.py)
FAST = settings(deadline=None)
seeds = st.integers(0, 2**32 - 1)


# --------------------------------------------------------------- independent loops
def online_reference(X, Y, mask, H, k, epochs, lr, momentum, clip, seed):
    """Online TBPTT(k, k) written with public calls only: per chunk, forward from the
    carried state, the chunk's masked mean loss, backward inside the chunk, clip, step."""
    p = rnn.init_rnn(X.shape[2], H, Y.shape[2], seed=seed)
    velocity = None
    for _ in range(epochs):
        h = np.zeros((X.shape[0], H))
        for start in range(0, X.shape[1], k):
            Xc, Yc, mc = X[:, start:start + k], Y[:, start:start + k], mask[:, start:start + k]
            Z, cache = rnn.rnn_model_forward(p, Xc, h)
            h_end = cache.rnn.Hs[:, -1].copy()   # the chunk's last state, carried over
            if mc.any():
                _, dZ = rnn.sequence_bce_logits_loss(Z, Yc, mc)
                g = rnn.rnn_model_backward(dZ, cache)       # full BPTT inside the chunk
                if clip is not None:
                    g, _ = rnn.clip_grads(g, clip)
                velocity = sgd_step(p, g, lr, momentum, velocity)
            h = h_end
    return p


def truncated_gradient_reference(params, X, Y, mask, k):
    """The accumulated truncated gradient: one forward pass with fixed weights; each chunk
    re-run from a *constant* copy of the state entering it, full BPTT inside the chunk,
    loss weighted like the whole sequence's masked mean; chunk gradients summed."""
    Hs, _ = rnn.rnn_forward(X, np.zeros((X.shape[0], params["Wh"].shape[0])),
                            params["Wx"], params["Wh"], params["bh"])
    M = np.count_nonzero(mask)
    total = {name: np.zeros_like(v) for name, v in params.items()}
    for start in range(0, X.shape[1], k):
        c = slice(start, start + k)
        if not mask[:, c].any():
            continue
        h_in = np.zeros_like(Hs[:, 0]) if start == 0 else Hs[:, start - 1].copy()
        Z, cache = rnn.rnn_model_forward(params, X[:, c], h_in)
        _, dZ = rnn.sequence_bce_logits_loss(Z, Y[:, c], mask[:, c])
        g = rnn.rnn_model_backward(dZ * (np.count_nonzero(mask[:, c]) / M), cache)
        for name in total:
            total[name] += g[name]
    return total


# ---------------------------------------------------------------- online form
@pytest.mark.parametrize("k", [1, 2, 3, 5, 7])
@pytest.mark.parametrize("momentum,clip", [(0.0, None), (0.9, 1.0), (0.5, 0.05)])
def test_online_tbptt_matches_independent_loop(k, momentum, clip):
    X, Y, m = delayed_xor(n=6, T=11, delay=2, seed=3)
    ours, hist = rnn.train_rnn(X, Y, m, 5, epochs=4, lr=0.5, seed=2, truncate=k, clip=clip,
                               momentum=momentum, chunk_updates=True)
    ref = online_reference(X, Y, m, 5, k, 4, 0.5, momentum, clip, seed=2)
    for name in ref:
        np.testing.assert_allclose(ours[name], ref[name], rtol=1e-10, atol=1e-12)
    assert hist["loss"].shape == (4,) and np.isfinite(hist["grad_norm"]).all()


def test_online_tbptt_one_chunk_is_full_bptt():
    X, Y, m = delayed_xor(n=8, T=9, delay=2, seed=0)
    full, h_full = rnn.train_rnn(X, Y, m, 4, epochs=5, seed=1)
    for k in (9, 20):
        one, h_one = rnn.train_rnn(X, Y, m, 4, epochs=5, seed=1, truncate=k, chunk_updates=True)
        for name in full:
            np.testing.assert_array_equal(one[name], full[name])
        np.testing.assert_allclose(h_one["loss"], h_full["loss"], rtol=1e-14)  # w * l / w


def test_online_tbptt_history_weights_chunks_by_targets():
    """One epoch, lr tiny: the history's loss is the masked-count-weighted mean of the
    chunks' losses at (almost) the initial weights, i.e. the full-sequence loss."""
    X, Y, m = delayed_xor(n=5, T=10, delay=3, seed=1)
    _, hist = rnn.train_rnn(X, Y, m, 3, epochs=1, lr=1e-12, momentum=0.0, clip=None, seed=0,
                            truncate=4, chunk_updates=True)
    p0 = rnn.init_rnn(1, 3, 1, seed=0)
    loss0, _ = rnn.sequence_bce_logits_loss(rnn.rnn_model_forward(p0, X)[0], Y, m)
    np.testing.assert_allclose(hist["loss"][0], loss0, rtol=1e-9)


def test_online_tbptt_first_order_equals_accumulated_with_reweighting():
    """To first order in lr, one epoch of online updates moves the weights by
    -lr * sum_c g_c, g_c the chunk's gradient with its own mean: the accumulated truncated
    gradient with chunk c reweighted by M / M_c."""
    X, Y, m = delayed_xor(n=6, T=12, delay=2, seed=4)
    lr, k = 1e-6, 4
    p0 = rnn.init_rnn(1, 4, 1, seed=5)
    p1, _ = rnn.train_rnn(X, Y, m, 4, epochs=1, lr=lr, momentum=0.0, clip=None, seed=5,
                          truncate=k, chunk_updates=True)
    M = np.count_nonzero(m)
    expected = {name: np.zeros_like(v) for name, v in p0.items()}
    for start in range(0, 12, k):
        mc = np.zeros_like(m)
        mc[:, start:start + k] = m[:, start:start + k]
        g = truncated_gradient_reference(p0, X, Y, mc, k)     # weighted by M_c / M_c = 1
        for name in expected:
            expected[name] += g[name]
    for name in p0:
        step = (p0[name] - p1[name]) / lr
        np.testing.assert_allclose(step, expected[name], rtol=1e-4, atol=1e-7)
    del M


def test_chunk_updates_needs_truncate_and_a_bool():
    X, Y, m = delayed_xor(n=2, T=4, delay=1, seed=0)
    with pytest.raises(ValueError, match="chunk_updates=True needs truncate"):
        rnn.train_rnn(X, Y, m, 2, epochs=1, chunk_updates=True)
    with pytest.raises(TypeError, match="chunk_updates must be True or False"):
        rnn.train_rnn(X, Y, m, 2, epochs=1, truncate=2, chunk_updates="yes")
    # default unchanged: chunk_updates=False is the accumulated form
    a, _ = rnn.train_rnn(X, Y, m, 2, epochs=2, truncate=2)
    b, _ = rnn.train_rnn(X, Y, m, 2, epochs=2, truncate=2, chunk_updates=False)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_online_tbptt_with_minibatches_runs_and_is_deterministic():
    X, Y, m = delayed_xor(n=10, T=8, delay=2, seed=0)
    a, ha = rnn.train_rnn(X, Y, m, 3, epochs=3, batch_size=4, truncate=3, chunk_updates=True)
    b, hb = rnn.train_rnn(X, Y, m, 3, epochs=3, batch_size=4, truncate=3, chunk_updates=True)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert np.isfinite(ha["loss"]).all()


# ----------------------------------------------------------- accumulated form
@pytest.mark.parametrize("k", [1, 2, 3, 4, 12])
def test_accumulated_tbptt_update_is_the_truncated_gradient(k):
    X, Y, m = delayed_xor(n=5, T=12, delay=3, seed=2)
    lr = 0.25
    p0 = rnn.init_rnn(1, 4, 1, seed=7)
    p1, _ = rnn.train_rnn(X, Y, m, 4, epochs=1, lr=lr, momentum=0.0, clip=None, seed=7, truncate=k)
    ref = truncated_gradient_reference(p0, X, Y, m, k)
    for name in p0:
        np.testing.assert_allclose((p0[name] - p1[name]) / lr, ref[name], rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------- checkpointing
@FAST
@given(N=st.integers(1, 3), T=st.integers(1, 9), D=st.integers(1, 3), H=st.integers(1, 4),
       every=st.integers(1, 11), seed=seeds)
def test_checkpoint_backward_equals_rnn_backward(N, T, D, H, every, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.5, size=(N, H))
    Wx = rng.normal(scale=0.8, size=(D, H))
    Wh = rng.normal(scale=0.9 / np.sqrt(H), size=(H, H))
    b = rng.normal(scale=0.3, size=H)
    dHs = rng.normal(size=(N, T, H))
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    h_T, ck = checkpoint.rnn_checkpoint_forward(X, h0, Wx, Wh, b, every)
    np.testing.assert_array_equal(h_T, Hs[:, -1])
    assert sorted(ck[-1]) == list(range(0, T, every))          # the checkpoints kept
    ours = checkpoint.rnn_checkpoint_backward(dHs, ck)
    for a, r in zip(ours, rnn.rnn_backward(dHs, cache)):
        np.testing.assert_array_equal(a, r)    # same step functions, same order: identical
    # and against central differences of L = sum dHs * Hs, for every input
    loss = lambda: float(np.sum(dHs * rnn.rnn_forward(X, h0, Wx, Wh, b)[0]))  # noqa: E731
    for g, x in zip(ours, (X, h0, Wx, Wh, b)):
        err = rel_error(g, numerical_gradient(lambda _: loss(), x))
        assert err < GRAD_TOL, err


def test_checkpoint_every_is_ceil_sqrt():
    assert [checkpoint.checkpoint_every(T) for T in (1, 2, 4, 5, 16, 17, 100, 101)] == \
        [1, 2, 2, 3, 4, 5, 10, 11]
    with pytest.raises(ValueError, match="T must be an int >= 1"):
        checkpoint.checkpoint_every(0)
    with pytest.raises(TypeError, match="T must be an int >= 1"):
        checkpoint.checkpoint_every(2.0)


def test_checkpoint_bad_input():
    rng = np.random.default_rng(0)
    X, h0 = rng.normal(size=(2, 5, 3)), np.zeros((2, 4))
    Wx, Wh, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), np.zeros(4)
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        checkpoint.rnn_checkpoint_forward(X, h0, Wx, Wh, b, 0)
    with pytest.raises(TypeError, match="every must be an int >= 1"):
        checkpoint.rnn_checkpoint_forward(X, h0, Wx, Wh, b, 2.5)
    with pytest.raises(ValueError, match="X must be 3-D"):
        checkpoint.rnn_checkpoint_forward(X[0], h0, Wx, Wh, b, 2)
    with pytest.raises(ValueError, match="X must be finite"):
        checkpoint.rnn_checkpoint_forward(X * np.nan, h0, Wx, Wh, b, 2)
    with pytest.raises(TypeError, match="X must be a float array"):
        checkpoint.rnn_checkpoint_forward("X", h0, Wx, Wh, b, 2)
    with pytest.raises(ValueError, match="h0 must have N = 2 rows"):
        checkpoint.rnn_checkpoint_forward(X, h0[:1], Wx, Wh, b, 2)
    with pytest.raises(ValueError, match="Wh"):
        checkpoint.rnn_checkpoint_forward(X, h0, Wx, Wh[:3], b, 2)
    _, ck = checkpoint.rnn_checkpoint_forward(X, h0, Wx, Wh, b, 2)
    with pytest.raises(ValueError, match=r"dHs must have the shape \(N, T, H\) = \(2, 5, 4\)"):
        checkpoint.rnn_checkpoint_backward(np.zeros((2, 4, 4)), ck)
    with pytest.raises(ValueError, match="dHs must be finite"):
        checkpoint.rnn_checkpoint_backward(np.full((2, 5, 4), np.inf), ck)
    with pytest.raises(TypeError, match="cache must be the tuple returned by rnn_checkpoint_forward"):
        checkpoint.rnn_checkpoint_backward(np.zeros((2, 5, 4)), ("rnn", 1))


# ------------------------------------------------------------- symbolic unroll
def test_symbolic_unroll_rnn_matches_rnn_forward():
    sp = pytest.importorskip("sympy")
    from bpkit.symbolic import evaluate, matrix, unroll_rnn
    N, T, D, H = 2, 3, 1, 2
    xs = [matrix(f"x{t}", N, D) for t in range(T)]
    Wx, Wh, b = matrix("Wx", D, H), matrix("Wh", H, H), matrix("b", 1, H)
    h0 = matrix("h0", N, H)
    states = unroll_rnn(xs, h0, Wx, Wh, b)
    rng = np.random.default_rng(0)
    X, h0_v = rng.normal(size=(N, T, D)), rng.normal(scale=0.5, size=(N, H))
    Wx_v, Wh_v, b_v = rng.normal(size=(D, H)), np.array([[0.5, -0.9], [0.3, 0.7]]), rng.normal(size=H)
    values = {**{xs[t]: X[:, t] for t in range(T)}, h0: h0_v, Wx: Wx_v, Wh: Wh_v, b: b_v.reshape(1, H)}
    Hs, _ = rnn.rnn_forward(X, h0_v, Wx_v, Wh_v, b_v)
    for t in range(T):
        np.testing.assert_allclose(evaluate(states[t], values), Hs[:, t], rtol=1e-12)
    with pytest.raises(ValueError, match="xs must hold at least one input"):
        unroll_rnn([], h0, Wx, Wh, b)
    assert isinstance(states[0], sp.MatrixBase)


def test_checkpoint_benchmark_results_are_complete():
    """Chapter 8b reads benchmarks/results/checkpoint.json (timings are not tested)."""
    import json
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "checkpoint.json"
    R = json.loads(path.read_text())
    n = len(R["T"])
    assert n >= 3 and R["every"] == [checkpoint.checkpoint_every(T) for T in R["T"]]
    for name in ("full", "steps", "checkpoint"):
        assert len(R["time_ms"][name]) == len(R["peak_states"][name]) == n
        assert all(q1 <= med <= q3 for med, q1, q3 in R["time_ms"][name])
    assert len(R["ratio_checkpoint_over_steps"]) == n
