"""bpkit.rnn: every backward against central finite differences (truncated BPTT against its
own objective), bad input, extreme values, and learning delayed XOR."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bpkit import rnn
from bpkit.datasets import delayed_xor
from bpkit.gradcheck import numerical_gradient, rel_error

#: Relative error below which an analytic gradient counts as correct (float64, central
#: differences); the value of tests/conftest.py's GRAD_TOL, not imported from it because
#: another conftest module (tests/site/) can shadow the name ``conftest``.
GRAD_TOL = 1e-7

seeds = st.integers(0, 2**32 - 1)
# small shapes: batch N, steps T, features D, hidden H, outputs K
Ns, Ts, Ds = st.integers(1, 3), st.integers(1, 5), st.integers(1, 3)
Hs_, Ks = st.integers(1, 4), st.integers(1, 2)
FAST = settings(deadline=None)   # the profile's max_examples (conftest.py)


def check(analytic, f, x):
    numeric = numerical_gradient(lambda _: f(), x)
    err = rel_error(analytic, numeric)
    assert err < GRAD_TOL, f"relative error {err:.2e}"


def random_rnn(rng, N, T, D, H, wh_scale=0.8):
    X = rng.normal(size=(N, T, D))
    h0 = rng.normal(scale=0.5, size=(N, H))
    Wx = rng.normal(scale=0.8, size=(D, H))
    Wh = rng.normal(scale=wh_scale / np.sqrt(H), size=(H, H))
    b = rng.normal(scale=0.3, size=H)
    return X, h0, Wx, Wh, b


def random_params(rng, D, H, K):
    p = rnn.init_rnn(D, H, K, seed=int(rng.integers(1000)))
    p["bh"] = rng.normal(scale=0.3, size=H)   # nonzero biases so every path is exercised
    p["by"] = rng.normal(scale=0.3, size=K)
    return p


# ------------------------------------------------------------------- one step
@FAST
@given(N=Ns, D=Ds, H=Hs_, seed=seeds)
def test_rnn_step_backward_matches_finite_differences(N, D, H, seed):
    rng = np.random.default_rng(seed)
    X, h_prev, Wx, Wh, b = random_rnn(rng, N, 1, D, H)
    x = X[:, 0].copy()
    G = rng.normal(size=(N, H))
    h, cache = rnn.rnn_step_forward(x, h_prev, Wx, Wh, b)
    np.testing.assert_allclose(h, np.tanh(x @ Wx + h_prev @ Wh + b), rtol=1e-14)
    grads = rnn.rnn_step_backward(G, cache)
    loss = lambda: float(np.sum(G * rnn.rnn_step_forward(x, h_prev, Wx, Wh, b)[0]))  # noqa: E731
    for g, v in zip(grads, (x, h_prev, Wx, Wh, b)):
        assert g.shape == v.shape
        check(g, loss, v)


# --------------------------------------------------------------- full BPTT
@FAST
@given(N=Ns, T=Ts, D=Ds, H=Hs_, seed=seeds)
def test_rnn_backward_full_matches_finite_differences(N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    X, h0, Wx, Wh, b = random_rnn(rng, N, T, D, H)
    G = rng.normal(size=(N, T, H))
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    assert Hs.shape == (N, T, H)
    grads = rnn.rnn_backward(G, cache)
    loss = lambda: float(np.sum(G * rnn.rnn_forward(X, h0, Wx, Wh, b)[0]))  # noqa: E731
    for g, v in zip(grads, (X, h0, Wx, Wh, b)):
        assert g.shape == v.shape
        check(g, loss, v)


@FAST
@given(N=Ns, T=Ts, D=Ds, H=Hs_, seed=seeds)
def test_rnn_forward_and_backward_equal_a_loop_of_steps(N, T, D, H, seed):
    """Index convention: Hs[:, t] is the state after reading X[:, t]; h0 is not in Hs."""
    rng = np.random.default_rng(seed)
    X, h0, Wx, Wh, b = random_rnn(rng, N, T, D, H)
    G = rng.normal(size=(N, T, H))
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    h, caches = h0, []
    for t in range(T):
        h, c = rnn.rnn_step_forward(X[:, t], h, Wx, Wh, b)
        caches.append(c)
        np.testing.assert_allclose(Hs[:, t], h, rtol=1e-13, atol=1e-15)
    dX, dh0, dWx, dWh, db = rnn.rnn_backward(G, cache)
    dnext = np.zeros((N, H))
    sums = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
    for t in reversed(range(T)):
        dx, dnext, *dparams = rnn.rnn_step_backward(G[:, t] + dnext, caches[t])
        np.testing.assert_allclose(dX[:, t], dx, rtol=1e-12, atol=1e-14)
        sums = [s + d for s, d in zip(sums, dparams)]
    np.testing.assert_allclose(dh0, dnext, rtol=1e-12, atol=1e-14)
    for mine, ref in zip((dWx, dWh, db), sums):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------- truncated BPTT
def truncated_objective(X, h0, Wx, Wh, b, G, k, starts):
    """Sum over chunks of sum_t G_t . h_t, each chunk started from a *constant* state.

    ``starts[c]`` is the initial state of chunk c >= 1 (held fixed); chunk 0 starts from
    h0 (a variable, so that dh0 can be checked).  Written with plain numpy, independently
    of bpkit.rnn.
    """
    T = X.shape[1]
    total = 0.0
    for c, s in enumerate(range(0, T, k)):
        h = h0 if c == 0 else starts[c]
        for t in range(s, min(s + k, T)):
            h = np.tanh(X[:, t] @ Wx + h @ Wh + b)
            total += float(np.sum(G[:, t] * h))
    return total


@settings(max_examples=20, deadline=None)
@given(N=Ns, T=st.integers(2, 6), D=Ds, H=Hs_, seed=seeds, data=st.data())
def test_rnn_backward_truncated_matches_finite_differences_of_truncated_objective(
        N, T, D, H, seed, data):
    k = data.draw(st.integers(1, T + 1), label="truncate")
    rng = np.random.default_rng(seed)
    X, h0, Wx, Wh, b = random_rnn(rng, N, T, D, H)
    G = rng.normal(size=(N, T, H))
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    # chunk c's initial state is the previous chunk's final state, frozen (a copy)
    starts = {c: Hs[:, s - 1].copy() for c, s in enumerate(range(0, T, k)) if c > 0}
    loss = lambda: truncated_objective(X, h0, Wx, Wh, b, G, k, starts)  # noqa: E731
    assert loss() == pytest.approx(float(np.sum(G * Hs)), rel=1e-12)  # same forward values
    grads = rnn.rnn_backward(G, cache, truncate=k)
    for g, v in zip(grads, (X, h0, Wx, Wh, b)):
        check(g, loss, v)


@FAST
@given(N=Ns, T=Ts, D=Ds, H=Hs_, seed=seeds, extra=st.integers(0, 3))
def test_truncate_at_least_T_is_full_bptt_exactly(N, T, D, H, seed, extra):
    rng = np.random.default_rng(seed)
    X, h0, Wx, Wh, b = random_rnn(rng, N, T, D, H)
    G = rng.normal(size=(N, T, H))
    _, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    full = rnn.rnn_backward(G, cache)
    for mine, ref in zip(rnn.rnn_backward(G, cache, truncate=T + extra), full):
        np.testing.assert_array_equal(mine, ref)
    np.testing.assert_array_equal(rnn.rnn_backward_states(G, cache, truncate=T + extra),
                                  rnn.rnn_backward_states(G, cache))


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_truncate_below_T_differs_from_full_bptt(k):
    rng = np.random.default_rng(7)
    X, h0, Wx, Wh, b = random_rnn(rng, 2, 6, 2, 3, wh_scale=1.2)
    G = rng.normal(size=(2, 6, 3))
    _, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    full = rnn.rnn_backward(G, cache)
    trunc = rnn.rnn_backward(G, cache, truncate=k)
    for name, mine, ref in zip(("dX", "dWx", "dWh", "db"), trunc[:1] + trunc[2:], full[:1] + full[2:]):
        assert rel_error(mine, ref) > 1e-3, name
    # the last chunk sees the same gradients either way: dX agrees there
    last = (6 - 1) // k * k
    np.testing.assert_allclose(trunc[0][:, last:], full[0][:, last:], rtol=1e-13)
    # dh0 is the gradient from the first chunk only
    G0 = G.copy()
    G0[:, k:] = 0.0
    np.testing.assert_allclose(trunc[1], rnn.rnn_backward(G0, cache)[1], rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------ total state gradients
def perturbed_loss(X, h0, Wx, Wh, b, G, U):
    """L = sum_t G_t . h_t with h_t replaced by h_t + U_t (used by later steps too)."""
    h, total = h0, 0.0
    for t in range(X.shape[1]):
        h = np.tanh(X[:, t] @ Wx + h @ Wh + b) + U[:, t]
        total += float(np.sum(G[:, t] * h))
    return total


@FAST
@given(N=Ns, T=Ts, D=Ds, H=Hs_, seed=seeds)
def test_rnn_backward_states_is_the_total_gradient(N, T, D, H, seed):
    """dL/dU_t at U = 0 is the total gradient dL/dh_t: checked by finite differences."""
    rng = np.random.default_rng(seed)
    X, h0, Wx, Wh, b = random_rnn(rng, N, T, D, H)
    G = rng.normal(size=(N, T, H))
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    dH = rnn.rnn_backward_states(G, cache)
    U = np.zeros((N, T, H))
    check(dH, lambda: perturbed_loss(X, h0, Wx, Wh, b, G, U), U)


@FAST
@given(N=Ns, T=Ts, D=Ds, H=Hs_, seed=seeds, data=st.data())
def test_rnn_backward_states_agrees_with_rnn_backward(N, T, D, H, seed, data):
    k = data.draw(st.one_of(st.none(), st.integers(1, T + 1)), label="truncate")
    rng = np.random.default_rng(seed)
    X, h0, Wx, Wh, b = random_rnn(rng, N, T, D, H)
    G = rng.normal(size=(N, T, H))
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    dH = rnn.rnn_backward_states(G, cache, truncate=k)
    dX, dh0, dWx, dWh, db = rnn.rnn_backward(G, cache, truncate=k)
    assert dH.shape == (N, T, H)
    np.testing.assert_array_equal(dH[:, -1], G[:, -1])
    delta = dH * (1.0 - Hs**2)
    np.testing.assert_allclose(dh0, delta[:, 0] @ Wh.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dX, delta @ Wx.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(db, delta.sum(axis=(0, 1)), rtol=1e-12, atol=1e-14)
    if k is not None:  # at chunk ends only the direct gradient remains
        for t in range(k - 1, T, k):
            np.testing.assert_array_equal(dH[:, t], G[:, t])


# ------------------------------------------------------------------ the model
@FAST
@given(N=Ns, T=Ts, D=Ds, H=Hs_, K=Ks, seed=seeds, with_h0=st.booleans())
def test_rnn_model_backward_matches_finite_differences(N, T, D, H, K, seed, with_h0):
    rng = np.random.default_rng(seed)
    params = random_params(rng, D, H, K)
    X = rng.normal(size=(N, T, D))
    h0 = rng.normal(size=(N, H)) if with_h0 else None
    G = rng.normal(size=(N, T, K))
    Z, cache = rnn.rnn_model_forward(params, X, h0)
    assert Z.shape == (N, T, K)
    Hs, _ = rnn.rnn_forward(X, np.zeros((N, H)) if h0 is None else h0,
                            params["Wx"], params["Wh"], params["bh"])
    np.testing.assert_allclose(Z, Hs @ params["Wy"] + params["by"], rtol=1e-13, atol=1e-14)
    grads = rnn.rnn_model_backward(G, cache)
    assert grads.keys() == params.keys()
    loss = lambda: float(np.sum(G * rnn.rnn_model_forward(params, X, h0)[0]))  # noqa: E731
    for name in params:
        assert grads[name].shape == params[name].shape
        check(grads[name], loss, params[name])


@FAST
@given(N=Ns, T=Ts, D=Ds, H=Hs_, K=Ks, seed=seeds, data=st.data())
def test_rnn_model_backward_truncated_is_output_layer_plus_rnn_backward(N, T, D, H, K, seed, data):
    k = data.draw(st.integers(1, T + 1), label="truncate")
    rng = np.random.default_rng(seed)
    params = random_params(rng, D, H, K)
    X = rng.normal(size=(N, T, D))
    G = rng.normal(size=(N, T, K))
    _, cache = rnn.rnn_model_forward(params, X)
    grads = rnn.rnn_model_backward(G, cache, truncate=k)
    Hs, rcache = rnn.rnn_forward(X, np.zeros((N, H)), params["Wx"], params["Wh"], params["bh"])
    _, _, dWx, dWh, db = rnn.rnn_backward(G @ params["Wy"].T, rcache, truncate=k)
    for name, ref in (("Wx", dWx), ("Wh", dWh), ("bh", db),
                      ("Wy", np.einsum("nth,ntk->hk", Hs, G)), ("by", G.sum(axis=(0, 1)))):
        np.testing.assert_allclose(grads[name], ref, rtol=1e-12, atol=1e-13)


@FAST
@given(N=Ns, T=Ts, K=Ks, seed=seeds, as_int=st.booleans())
def test_sequence_bce_logits_loss_gradient_and_definition(N, T, K, seed, as_int):
    rng = np.random.default_rng(seed)
    Z = rng.normal(scale=3.0, size=(N, T, K))
    Y = rng.uniform(size=(N, T, K))
    mask = rng.uniform(size=(N, T)) < 0.6
    mask[rng.integers(N), rng.integers(T)] = True
    m = mask.astype(int) if as_int else mask
    loss, dZ = rnn.sequence_bce_logits_loss(Z, Y, m)
    p = 1.0 / (1.0 + np.exp(-Z))
    bce = -(Y * np.log(p) + (1 - Y) * np.log(1 - p))
    assert loss == pytest.approx(bce[mask].sum() / (mask.sum() * K), rel=1e-12)
    assert np.all(dZ[~mask] == 0.0)
    check(dZ, lambda: rnn.sequence_bce_logits_loss(Z, Y, m)[0], Z)
    # what Z and Y hold at masked-out steps does not matter
    Z2, Y2 = Z.copy(), Y.copy()
    Z2[~mask], Y2[~mask] = 1e4, 1.0
    loss2, dZ2 = rnn.sequence_bce_logits_loss(Z2, Y2, m)
    assert loss2 == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(dZ2, dZ, rtol=1e-12, atol=0)


@settings(max_examples=15, deadline=None)
@given(N=Ns, T=Ts, D=Ds, H=Hs_, K=Ks, seed=seeds, k=st.one_of(st.none(), st.integers(1, 6)))
def test_model_with_loss_end_to_end(N, T, D, H, K, seed, k):
    """loss -> model backward chained, against finite differences (full BPTT), and the
    truncated model gradient against the truncated objective built independently."""
    rng = np.random.default_rng(seed)
    params = random_params(rng, D, H, K)
    X = rng.normal(size=(N, T, D))
    Y = (rng.uniform(size=(N, T, K)) < 0.5).astype(float)
    mask = np.ones((N, T), dtype=bool)
    mask[:, 0] = rng.uniform(size=N) < 0.5
    mask[0, -1] = True
    Z, cache = rnn.rnn_model_forward(params, X)
    _, dZ = rnn.sequence_bce_logits_loss(Z, Y, mask)
    grads = rnn.rnn_model_backward(dZ, cache, truncate=k)
    if k is None or k >= T:
        def loss():
            return rnn.sequence_bce_logits_loss(rnn.rnn_model_forward(params, X)[0], Y, mask)[0]
        for name in params:
            check(grads[name], loss, params[name])
    else:  # the output layer's gradients do not depend on truncation
        full = rnn.rnn_model_backward(dZ, cache)
        np.testing.assert_array_equal(grads["Wy"], full["Wy"])
        np.testing.assert_array_equal(grads["by"], full["by"])


# -------------------------------------------------------------- accuracy, clipping, init
def test_sequence_accuracy_counts_masked_entries_only():
    Z = np.array([[[2.0], [-1.0], [0.5]], [[-3.0], [1.0], [-0.1]]])
    Y = np.array([[[1.0], [1.0], [1.0]], [[0.0], [0.0], [0.0]]])
    mask = np.array([[False, True, True], [True, True, False]])
    # masked-in: (0,1) wrong, (0,2) right, (1,0) right, (1,1) wrong
    assert rnn.sequence_accuracy(Z, Y, mask) == 0.5
    assert rnn.sequence_accuracy(Z, Y, np.ones((2, 3))) == pytest.approx(4 / 6)


def test_clip_grads_scales_to_max_norm_and_is_pure():
    g = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    before = {k: v.copy() for k, v in g.items()}
    clipped, norm = rnn.clip_grads(g, 1.0)
    assert norm == 5.0
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.8]])
    total = np.sqrt(sum(np.sum(v**2) for v in clipped.values()))
    assert total == pytest.approx(1.0)
    for k in g:  # inputs untouched, outputs are new arrays
        np.testing.assert_array_equal(g[k], before[k])
        assert not np.shares_memory(clipped[k], g[k])
    same, norm2 = rnn.clip_grads(g, 10.0)
    assert norm2 == 5.0
    for k in g:
        np.testing.assert_array_equal(same[k], g[k])
        assert not np.shares_memory(same[k], g[k])
    tup, n3 = rnn.clip_grads((g["a"], g["b"]), 2.5)
    assert n3 == 5.0 and isinstance(tup, tuple)
    np.testing.assert_allclose(tup[0], [1.5, 0.0])


def test_clip_grads_huge_values_do_not_overflow():
    g = {"a": np.array([3e200, 4e200])}
    clipped, norm = rnn.clip_grads(g, 1.0)
    assert norm == pytest.approx(5e200)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.8])


@pytest.mark.parametrize("scale", [None, 0.0, 0.5, 1.0, 1.7])
def test_init_rnn_shapes_seed_and_spectral_radius(scale):
    p = rnn.init_rnn(3, 5, 2, seed=4, scale=scale)
    assert list(p) == ["Wx", "Wh", "bh", "Wy", "by"]
    assert {k: v.shape for k, v in p.items()} == {"Wx": (3, 5), "Wh": (5, 5), "bh": (5,),
                                                  "Wy": (5, 2), "by": (2,)}
    s = 1.0 if scale is None else scale
    assert np.max(np.abs(np.linalg.eigvals(p["Wh"]))) == pytest.approx(s, abs=1e-12)
    np.testing.assert_allclose(p["Wh"].T @ p["Wh"], s * s * np.eye(5), atol=1e-12)
    assert np.all(np.abs(p["Wx"]) <= np.sqrt(6 / 8)) and np.all(np.abs(p["Wy"]) <= np.sqrt(6 / 7))
    assert not p["bh"].any() and not p["by"].any()
    q = rnn.init_rnn(3, 5, 2, seed=4, scale=scale)
    for k in p:
        np.testing.assert_array_equal(p[k], q[k])
    assert not np.array_equal(rnn.init_rnn(3, 5, 2, seed=5)["Wx"], p["Wx"])


# --------------------------------------------------------------- extreme values
def test_extreme_values_are_finite_and_warning_free():
    """tanh saturates at +/-1e4 pre-activations; the logit loss stays finite (warnings are errors)."""
    N, T, D, H, K = 2, 4, 1, 3, 1
    X = np.full((N, T, D), 1.0)
    X[1] = -1.0
    Wx, Wh, b = np.full((D, H), 1e4), np.eye(H) * 1e4, np.zeros(H)
    Hs, cache = rnn.rnn_forward(X, np.zeros((N, H)), Wx, Wh, b)
    np.testing.assert_array_equal(np.abs(Hs), 1.0)
    grads = rnn.rnn_backward(np.ones((N, T, H)), cache, truncate=2)
    assert all(np.isfinite(g).all() for g in grads)
    assert np.isfinite(rnn.rnn_backward_states(np.ones((N, T, H)), cache)).all()
    params = {"Wx": Wx, "Wh": Wh, "bh": b, "Wy": np.full((H, K), 1e4), "by": np.zeros(K)}
    Z, mcache = rnn.rnn_model_forward(params, X)
    assert np.abs(Z).max() == 3e4
    Y = np.zeros((N, T, K))
    loss, dZ = rnn.sequence_bce_logits_loss(Z, Y, np.ones((N, T), dtype=bool))
    assert np.isfinite(loss) and loss == pytest.approx(3e4 / 2)
    assert np.isfinite(dZ).all()
    grads = rnn.rnn_model_backward(dZ, mcache)
    assert all(np.isfinite(g).all() for g in grads.values())
    assert rnn.sequence_accuracy(Z, Y, np.ones((N, T))) == 0.5


# ----------------------------------------------------------------------- bad input
def good_rnn():
    rng = np.random.default_rng(0)
    return random_rnn(rng, 2, 3, 2, 4)


@pytest.mark.parametrize("i, bad, exc, match", [
    (0, np.zeros((2, 3)), ValueError, "X must be 3-D"),
    (0, np.zeros((0, 3, 2)), ValueError, "X must not be empty"),
    (0, np.zeros((2, 0, 2)), ValueError, "X must not be empty"),
    (0, [["a"]], TypeError, "X must hold real numbers"),
    (0, "abc", TypeError, "X must be a numeric array"),
    (0, np.full((2, 3, 2), np.nan), ValueError, "X must be finite.*NaN"),
    (0, np.full((2, 3, 2), np.inf), ValueError, "X must be finite.*inf"),
    (0, np.zeros((2, 3, 5)), ValueError, r"Wx must have shape \(5, any\)"),
    (1, np.zeros((3, 4)), ValueError, r"h0 must have shape \(2, 4\)"),
    (1, np.zeros((2, 5)), ValueError, r"h0 must have shape \(2, 4\)"),
    (1, np.zeros(4), ValueError, "h0 must be 2-D"),
    (1, np.full((2, 4), np.inf), ValueError, "h0 must be finite"),
    (2, np.zeros((3, 4)), ValueError, r"Wx must have shape \(2, any\)"),
    (2, np.zeros((2, 4, 1)), ValueError, "Wx must be 2-D"),
    (3, np.zeros((4, 5)), ValueError, r"Wh must have shape \(4, 4\)"),
    (3, np.full((4, 4), np.nan), ValueError, "Wh must be finite"),
    (4, np.zeros(5), ValueError, r"b must have shape \(4,\)"),
    (4, np.zeros((1, 4)), ValueError, "b must be 1-D"),
    (4, None, TypeError, "b must be a numeric array"),
])
def test_rnn_forward_rejects_bad_input(i, bad, exc, match):
    args = list(good_rnn())
    args[i] = bad
    with pytest.raises(exc, match=match):
        rnn.rnn_forward(*args)


@pytest.mark.parametrize("i, bad, exc, match", [
    (0, np.zeros((2, 3, 2)), ValueError, "x_t must be 2-D"),
    (1, np.zeros((3, 4)), ValueError, r"h_prev must have shape \(2, 4\)"),
    (2, np.zeros((3, 4)), ValueError, r"Wx must have shape \(2, any\)"),
    (3, np.zeros((4, 3)), ValueError, r"Wh must have shape \(4, 4\)"),
    (4, np.zeros(3), ValueError, r"b must have shape \(4,\)"),
    (0, np.full((2, 2), np.nan), ValueError, "x_t must be finite"),
])
def test_rnn_step_forward_rejects_bad_input(i, bad, exc, match):
    X, h0, Wx, Wh, b = good_rnn()
    args = [X[:, 0], h0, Wx, Wh, b]
    args[i] = bad
    with pytest.raises(exc, match=match):
        rnn.rnn_step_forward(*args)


def test_backward_functions_reject_bad_gradients_and_caches():
    X, h0, Wx, Wh, b = good_rnn()
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    h, scache = rnn.rnn_step_forward(X[:, 0], h0, Wx, Wh, b)
    for fn in (rnn.rnn_backward, rnn.rnn_backward_states):
        with pytest.raises(ValueError, match=r"dHs must have shape \(2, 3, 4\)"):
            fn(np.zeros((2, 4, 4)), cache)
        with pytest.raises(ValueError, match="dHs must be 3-D"):
            fn(np.zeros((2, 4)), cache)
        with pytest.raises(ValueError, match="dHs must be finite"):
            fn(np.full(Hs.shape, np.nan), cache)
        with pytest.raises(TypeError, match="cache must be the tuple returned by rnn_forward"):
            fn(np.zeros(Hs.shape), scache)
    with pytest.raises(ValueError, match=r"dh_t must have shape \(2, 4\)"):
        rnn.rnn_step_backward(np.zeros((2, 3)), scache)
    with pytest.raises(TypeError, match="cache must be the tuple returned by rnn_step_forward"):
        rnn.rnn_step_backward(np.zeros((2, 4)), cache)
    with pytest.raises(TypeError, match="dh_t must hold real numbers"):
        rnn.rnn_step_backward(np.full((2, 4), "x"), scache)


@pytest.mark.parametrize("truncate, exc", [
    (0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError), ("2", TypeError),
])
def test_truncate_must_be_a_positive_int(truncate, exc):
    X, h0, Wx, Wh, b = good_rnn()
    Hs, cache = rnn.rnn_forward(X, h0, Wx, Wh, b)
    params = rnn.init_rnn(2, 4, 1)
    Z, mcache = rnn.rnn_model_forward(params, X)
    for call in (lambda: rnn.rnn_backward(np.zeros(Hs.shape), cache, truncate=truncate),
                 lambda: rnn.rnn_backward_states(np.zeros(Hs.shape), cache, truncate=truncate),
                 lambda: rnn.rnn_model_backward(np.zeros(Z.shape), mcache, truncate=truncate)):
        with pytest.raises(exc, match="truncate must be None .* or an int >= 1"):
            call()


def test_model_rejects_bad_params_and_inputs():
    params = rnn.init_rnn(2, 4, 1)
    X = np.zeros((2, 3, 2))
    with pytest.raises(TypeError, match="params must be a dict"):
        rnn.rnn_model_forward([1, 2], X)
    with pytest.raises(ValueError, match=r"params must have exactly the keys.*missing \['by'\]"):
        rnn.rnn_model_forward({k: v for k, v in params.items() if k != "by"}, X)
    with pytest.raises(ValueError, match=r"unexpected \['W3'\]"):
        rnn.rnn_model_forward({**params, "W3": np.zeros(1)}, X)
    for key, bad, match in [("Wh", np.zeros((4, 3)), r"params\['Wh'\] must have shape \(4, 4\)"),
                            ("bh", np.zeros(3), r"params\['bh'\] must have shape \(4,\)"),
                            ("Wy", np.zeros((3, 1)), r"params\['Wy'\] must have shape \(4, any\)"),
                            ("by", np.zeros(2), r"params\['by'\] must have shape \(1,\)"),
                            ("Wx", np.full((2, 4), np.nan), r"params\['Wx'\] must be finite")]:
        with pytest.raises(ValueError, match=match):
            rnn.rnn_model_forward({**params, key: bad}, X)
    with pytest.raises(ValueError, match=r"X must have shape \(any, any, 2\)"):
        rnn.rnn_model_forward(params, np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match="X must not be empty"):
        rnn.rnn_model_forward(params, np.zeros((0, 3, 2)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 4\)"):
        rnn.rnn_model_forward(params, X, np.zeros((2, 3)))
    Z, cache = rnn.rnn_model_forward(params, X)
    with pytest.raises(ValueError, match=r"dZ must have shape \(2, 3, 1\)"):
        rnn.rnn_model_backward(np.zeros((2, 3, 2)), cache)
    with pytest.raises(TypeError, match="cache must be the tuple returned by rnn_model_forward"):
        rnn.rnn_model_backward(np.zeros((2, 3, 1)), ("rnn",))


def test_loss_and_accuracy_reject_bad_input():
    Z, Y, mask = np.zeros((2, 3, 1)), np.ones((2, 3, 1)), np.ones((2, 3), dtype=bool)
    for fn in (rnn.sequence_bce_logits_loss, rnn.sequence_accuracy):
        with pytest.raises(ValueError, match="mask must select at least one step"):
            fn(Z, Y, np.zeros((2, 3), dtype=bool))
        with pytest.raises(ValueError, match="mask must select at least one step"):
            fn(Z, Y, np.zeros((2, 3)))
        with pytest.raises(ValueError, match="mask must hold only True/False or 0/1"):
            fn(Z, Y, np.full((2, 3), 0.5))
        with pytest.raises(ValueError, match=r"mask must have shape \(2, 3\)"):
            fn(Z, Y, np.ones((3, 2), dtype=bool))
        with pytest.raises(ValueError, match="mask must be 2-D"):
            fn(Z, Y, np.ones((2, 3, 1), dtype=bool))
        with pytest.raises(TypeError, match="mask must be a bool"):
            fn(Z, Y, "yes")
        with pytest.raises(ValueError, match=r"Y must hold targets in \[0, 1\]"):
            fn(Z, Y * 2.0, mask)
        with pytest.raises(ValueError, match=r"Y must hold targets in \[0, 1\]"):
            fn(Z, -Y, mask)
        with pytest.raises(ValueError, match=r"Y must have shape \(2, 3, 1\)"):
            fn(Z, np.ones((2, 3, 2)), mask)
        with pytest.raises(ValueError, match="Z must be 3-D"):
            fn(Z[:, :, 0], Y, mask)
        with pytest.raises(ValueError, match="Z must be finite"):
            fn(np.full(Z.shape, np.inf), Y, mask)
        with pytest.raises(ValueError, match="Y must be finite"):
            fn(Z, np.full(Y.shape, np.nan), mask)
        with pytest.raises(TypeError, match="Z must hold real numbers"):
            fn(np.full(Z.shape, "a"), Y, mask)


def test_clip_grads_and_init_reject_bad_input():
    g = {"a": np.ones(2)}
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="max_norm must be finite and > 0"):
            rnn.clip_grads(g, bad)
    with pytest.raises(ValueError, match="max_norm must be finite and > 0"):
        rnn.clip_grads(g, np.inf)
    with pytest.raises(TypeError, match="max_norm must be a real number"):
        rnn.clip_grads(g, "1")
    with pytest.raises(TypeError, match="grads must be a dict"):
        rnn.clip_grads(np.ones(2), 1.0)
    with pytest.raises(ValueError, match="grads must hold at least one array"):
        rnn.clip_grads({}, 1.0)
    with pytest.raises(ValueError, match=r"grads\['a'\] must be finite"):
        rnn.clip_grads({"a": np.array([np.nan])}, 1.0)
    with pytest.raises(ValueError, match="H must be >= 1"):
        rnn.init_rnn(1, 0, 1)
    with pytest.raises(TypeError, match="D must be an int"):
        rnn.init_rnn(1.5, 2, 1)
    with pytest.raises(TypeError, match="seed must be an int"):
        rnn.init_rnn(1, 2, 1, seed="0")
    with pytest.raises(ValueError, match="scale must be finite and >= 0"):
        rnn.init_rnn(1, 2, 1, scale=-1.0)


def test_train_rnn_rejects_bad_input():
    X, Y, mask = delayed_xor(4, 5, 1, seed=0)
    cases = [
        (dict(X=X[:, :, 0]), ValueError, "X must be 3-D"),
        (dict(Y=Y[:, :4]), ValueError, r"Y must have shape \(4, 5, any\)"),
        (dict(Y=Y + 1.0), ValueError, r"Y must hold targets in \[0, 1\]"),
        (dict(mask=np.zeros((4, 5), dtype=bool)), ValueError, "mask must select at least one step"),
        (dict(H=0), ValueError, "H must be >= 1"),
        (dict(epochs=0), ValueError, "epochs must be >= 1"),
        (dict(epochs=2.0), TypeError, "epochs must be an int"),
        (dict(lr=-1.0), ValueError, "lr must be finite and > 0"),
        (dict(truncate=0), ValueError, "truncate must be None"),
        (dict(clip=0.0), ValueError, "clip must be finite and > 0"),
        (dict(momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
        (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
        (dict(eval_every=True), TypeError, "eval_every must be an int"),
        (dict(stop_at=1.5), ValueError, r"stop_at must be in \(0, 1\]"),
        (dict(params={"Wx": np.zeros((1, 3))}), ValueError, "params must have exactly the keys"),
        (dict(params=rnn.init_rnn(1, 3, 1)), ValueError, "params must fit D=1, H=4, K=1"),
    ]
    for change, exc, match in cases:
        kw = dict(X=X, Y=Y, mask=mask, H=4, epochs=2)
        kw.update(change)
        with pytest.raises(exc, match=match):
            rnn.train_rnn(kw.pop("X"), kw.pop("Y"), kw.pop("mask"), kw.pop("H"), **kw)


# ------------------------------------------------------------------------ learning
def test_full_bptt_learns_delayed_xor_delay_1():
    X, Y, mask = delayed_xor(64, 20, 1, seed=0)
    params, hist = rnn.train_rnn(X, Y, mask, 16, epochs=150, seed=0)
    assert hist["final_accuracy"] >= 0.99
    assert hist["loss"][-1] < 0.1 * hist["loss"][0]
    Xt, Yt, mt = delayed_xor(256, 30, 1, seed=1)   # held-out, longer sequences
    assert rnn.sequence_accuracy(rnn.rnn_model_forward(params, Xt)[0], Yt, mt) >= 0.99


def test_truncation_shorter_than_delay_cannot_learn_but_long_enough_can():
    """delay 5: chunks of k < 5 steps never hold the path x_{t-5} -> h_t; k >= 5 do."""
    X, Y, mask = delayed_xor(128, 20, 5, seed=0)
    _, short = rnn.train_rnn(X, Y, mask, 16, epochs=150, seed=0, truncate=4)
    _, enough = rnn.train_rnn(X, Y, mask, 16, epochs=150, seed=0, truncate=10)
    assert short["final_accuracy"] < 0.75
    assert enough["final_accuracy"] >= 0.99


def test_train_rnn_is_deterministic_and_records_history():
    X, Y, mask = delayed_xor(20, 8, 2, seed=0)
    runs = [rnn.train_rnn(X, Y, mask, 5, epochs=5, seed=3, batch_size=6, truncate=3, eval_every=2)
            for _ in range(2)]
    (p1, h1), (p2, h2) = runs
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    for k in h1:
        np.testing.assert_array_equal(h1[k], h2[k])
    assert h1["loss"].shape == h1["accuracy"].shape == h1["grad_norm"].shape == (5,)
    np.testing.assert_array_equal(h1["eval_epoch"], [0, 2, 4, 5])
    assert h1["eval_loss"][-1] == h1["final_loss"]
    # full batch: the history is the loss at the parameters before each update
    p, h = rnn.train_rnn(X, Y, mask, 5, epochs=3, seed=1, clip=None, momentum=0.0, lr=0.5)
    q = rnn.init_rnn(1, 5, 1, seed=1)
    for e in range(3):
        Z, cache = rnn.rnn_model_forward(q, X)
        loss, dZ = rnn.sequence_bce_logits_loss(Z, Y, mask)
        grads = rnn.rnn_model_backward(dZ, cache)
        assert h["loss"][e] == pytest.approx(loss, rel=1e-12)
        assert h["accuracy"][e] == rnn.sequence_accuracy(Z, Y, mask)
        assert h["grad_norm"][e] == pytest.approx(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
        for k in q:
            q[k] = q[k] - 0.5 * grads[k]
    for k in q:
        np.testing.assert_allclose(p[k], q[k], rtol=1e-12, atol=1e-14)


def test_train_rnn_stop_at_and_params_copy():
    X, Y, mask = delayed_xor(64, 12, 1, seed=2)
    start = rnn.init_rnn(1, 8, 1, seed=0)
    keep = {k: v.copy() for k, v in start.items()}
    _, h = rnn.train_rnn(X, Y, mask, 8, epochs=400, params=start, stop_at=0.99)
    assert len(h["loss"]) < 400 and h["accuracy"][-1] >= 0.99
    for k in start:
        np.testing.assert_array_equal(start[k], keep[k])


def test_stop_at_returns_weights_that_reach_it():
    from bpkit.datasets import delayed_xor
    from bpkit.rnn import train_rnn
    X, Y, mask = delayed_xor(64, 12, 2, seed=3)
    _, h = train_rnn(X, Y, mask, 16, epochs=300, seed=3, stop_at=0.99)
    assert len(h["accuracy"]) < 300
    assert h["final_accuracy"] >= 0.99
