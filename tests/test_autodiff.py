"""bpkit.autodiff: every operation against central finite differences on hypothesis-drawn
shapes (broadcasting, fan-out, indexing, stacking), the engine against bpkit's hand-written
backward passes (mlp_backward, rnn_backward, rnn_model_backward, full and truncated), and
every bad-input case."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bpkit
from bpkit import autodiff
from bpkit.autodiff import Tensor, stack, zero_grad
from bpkit.gradcheck import numerical_gradient, rel_error

GRAD_TOL = 1e-7      # analytic vs central differences (float64, eps = 1e-6)
EXACT_TOL = 1e-12    # engine vs bpkit's hand-written backward: the same arithmetic

seeds = st.integers(0, 2**32 - 1)
dims = st.integers(1, 4)
FAST = settings(deadline=None)


def gradcheck(f, arrays):
    """Run f on Tensors of ``arrays``, backprop, compare every .grad with central differences."""
    tensors = [Tensor(a) for a in arrays]
    f(*tensors).backward()
    for a, t in zip(arrays, tensors):
        numeric = numerical_gradient(lambda _: f(*[Tensor(b) for b in arrays]).item(), a)
        assert t.grad.shape == a.shape
        err = rel_error(t.grad, numeric)
        assert err < GRAD_TOL, f"relative error {err:.2e}"


def broadcast_pair(draw_shape, rng, mode):
    """Two shapes that numpy broadcasts: equal, a trailing suffix, or with ones."""
    shape = draw_shape
    if mode == "same":
        other = shape
    elif mode == "suffix":
        other = shape[1:]
    else:
        other = tuple(1 if rng.random() < 0.5 else s for s in shape)
    return shape, other


shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)
modes = st.sampled_from(["same", "suffix", "ones"])


# ------------------------------------------------------------------- elementwise binary ops
@FAST
@given(shape=shapes, mode=modes, swap=st.booleans(), seed=seeds,
       op=st.sampled_from(["+", "-", "*", "/"]))
def test_binary_ops_with_broadcasting(shape, mode, swap, seed, op):
    rng = np.random.default_rng(seed)
    s1, s2 = broadcast_pair(shape, rng, mode)
    if swap:
        s1, s2 = s2, s1
    a = rng.normal(size=s1)
    b = rng.uniform(0.5, 2.0, size=s2) * rng.choice([-1.0, 1.0], size=s2)   # no zero divisors
    G = rng.normal(size=np.broadcast_shapes(s1, s2))
    ops = {"+": lambda x, y: x + y, "-": lambda x, y: x - y,
           "*": lambda x, y: x * y, "/": lambda x, y: x / y}
    gradcheck(lambda x, y: (ops[op](x, y) * G).sum(), [a, b])


@FAST
@given(shape=shapes, seed=seeds, c=st.floats(0.5, 3.0))
def test_operators_with_numbers_and_arrays(shape, seed, c):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, size=shape)
    arr = rng.normal(size=shape[-1:])         # a plain ndarray, broadcast along the last axis
    G = rng.normal(size=shape)
    f = lambda x: ((c + x) * G + (c - x) * 2 + c * x - x * c + c / x + x / c  # noqa: E731
                   + arr * x + x * arr + (arr - x) + x ** 3 + x ** -0.5 - (-x)).sum()
    gradcheck(f, [a])


# ------------------------------------------------------------------- matmul
@FAST
@given(N=dims, D=dims, H=dims, batch=st.sampled_from([(), (2,), (3, 1)]), seed=seeds)
def test_matmul_including_batched_broadcast(N, D, H, batch, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=batch + (N, D))
    B = rng.normal(size=(D, H))               # broadcast over A's batch axes
    G = rng.normal(size=batch + (N, H))
    gradcheck(lambda x, y: ((x @ y) * G).sum(), [A, B])
    gradcheck(lambda x, y: ((y.T @ x.T if not batch else x @ y) * 1.0).sum(), [A, B])


# ------------------------------------------------------------------- unary functions
@FAST
@given(shape=shapes, seed=seeds, fn=st.sampled_from(["tanh", "sigmoid", "relu", "exp", "log"]))
def test_unary_functions(shape, seed, fn):
    rng = np.random.default_rng(seed)
    if fn == "log":
        x = rng.uniform(0.2, 3.0, size=shape)
    elif fn == "relu":   # keep away from the kink, where central differences straddle it
        x = rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    else:
        x = rng.normal(scale=2.0, size=shape)
    G = rng.normal(size=shape)
    gradcheck(lambda t: (getattr(t, fn)() * G).sum(), [x])


def test_ndarray_on_the_left_defers_to_the_tensor():
    rng = np.random.default_rng(0)
    A, W = rng.normal(size=(3, 2)), rng.normal(size=(2, 4))
    gradcheck(lambda w: (A @ w).tanh().sum() + (A[:2, :1] / (w * w + 1.0)).sum() + (A[0, 0] - w).sum(), [W])
    assert isinstance(np.ones((3, 2)) @ Tensor(W), Tensor)
    assert Tensor(10**3).data == 1000.0 and Tensor(np.float32(0.5)).data.dtype == np.float64


def test_unary_values_and_extremes():
    x = np.array([-1e4, -3.0, 0.0, 2.0, 1e4])
    t = Tensor(x)
    np.testing.assert_allclose(t.sigmoid().data, bpkit.layers.sigmoid(x), rtol=1e-15, atol=1e-300)
    np.testing.assert_array_equal(t.relu().data, np.maximum(x, 0))
    np.testing.assert_array_equal(t.tanh().data, np.tanh(x))
    with np.errstate(over="raise", divide="raise", invalid="raise"):   # warning-free at extremes
        y = (t.sigmoid() + t.tanh() + t.relu()).sum()
        y.backward()
    assert np.isfinite(t.grad).all()
    assert t.grad[2] == pytest.approx(0.25 + 1.0 + 0.0)    # relu'(0) = 0, as bpkit.layers


# ------------------------------------------------------------------- reductions, .T, indexing
axes_st = st.sampled_from([None, 0, -1, (0, -1)])


@FAST
@given(shape=shapes, axis=axes_st, seed=seeds, mean=st.booleans())
def test_sum_and_mean(shape, axis, seed, mean):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    if isinstance(axis, tuple) and len(shape) < 2:
        axis = 0
    out = x.mean(axis=axis) if mean else x.sum(axis=axis)
    G = rng.normal(size=np.shape(out))
    f = lambda t: ((t.mean(axis) if mean else t.sum(axis)) * G).sum()  # noqa: E731
    np.testing.assert_allclose((Tensor(x).mean(axis) if mean else Tensor(x).sum(axis)).data, out)
    gradcheck(f, [x])


@FAST
@given(N=dims, M=dims, seed=seeds)
def test_transpose(N, M, seed):
    rng = np.random.default_rng(seed)
    x, G = rng.normal(size=(N, M)), rng.normal(size=(M, N))
    gradcheck(lambda t: (t.T * G).sum(), [x])


@FAST
@given(N=dims, T=dims, D=dims, seed=seeds, data=st.data())
def test_indexing_basic_slices_and_integers(N, T, D, seed, data):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, D))
    t = data.draw(st.integers(-T, T - 1))
    index = data.draw(st.sampled_from([(slice(None), t), (0,), (slice(None), slice(0, None, 2)),
                                       (Ellipsis, -1), (slice(None), t, None)]))
    G = rng.normal(size=x[index].shape)
    gradcheck(lambda v: (v[index] * G).sum(), [x])


@FAST
@given(shape=shapes, n=st.integers(1, 4), seed=seeds, data=st.data())
def test_stack(shape, n, seed, data):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [rng.normal(size=shape) for _ in range(n)]
    np.testing.assert_array_equal(stack([Tensor(x) for x in xs], axis=axis).data, np.stack(xs, axis=axis))
    G = rng.normal(size=np.stack(xs, axis=axis).shape)
    gradcheck(lambda *ts: (stack(list(ts), axis=axis) * G).sum(), xs)


# ------------------------------------------------------------------- forks and reuse
@FAST
@given(shape=shapes, seed=seeds)
def test_fan_out_adds_at_forks(shape, seed):
    """x feeds several operations, and one intermediate feeds several more: gradients add."""
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=shape), rng.normal(size=shape)

    def f(x, w):
        h = (x * w).tanh()
        return (h * h + h.sigmoid() * x + h[..., :1] * h + stack([h, x]).sum(0) * w).sum()
    gradcheck(f, [x, w])


def test_topological_order_when_one_input_feeds_another():
    """L = a + tanh(a): a's closure must wait for tanh's share (a regression of a DFS that
    marked nodes as seen when pushed, not when visited)."""
    x = Tensor(0.3)
    a = x * 2.0
    (a + a.tanh()).backward()
    assert x.grad == pytest.approx(2.0 * (1.0 + (1.0 - np.tanh(0.6) ** 2)), rel=1e-15)


def test_fork_on_a_scalar_graph():
    a = Tensor(3.0)
    b = a * a + a            # db/da = 2a + 1 = 7
    b.backward()
    assert a.grad == 7.0


def test_repeated_backward_accumulates_on_leaves_only_and_zero_grad_clears():
    rng = np.random.default_rng(0)
    W = Tensor(rng.normal(size=(3, 2)))
    x = Tensor(rng.normal(size=(4, 3)))
    loss = (x @ W).tanh().sum()
    loss.backward()
    g1 = W.grad.copy()
    loss.backward()           # intermediate grads restart from zero, leaves accumulate
    np.testing.assert_allclose(W.grad, 2 * g1, rtol=1e-15)
    W.zero_grad()
    assert not W.grad.any()
    loss.backward()
    np.testing.assert_allclose(W.grad, g1, rtol=1e-15)
    zero_grad([W, x])
    zero_grad({"W": W})
    assert not W.grad.any() and not x.grad.any()


def test_detach_cuts_the_graph():
    x = Tensor(2.0)
    y = x * x
    z = y.detach() * x + y       # through the detached copy only the factor x gets a gradient
    z.backward()
    assert x.grad == pytest.approx(4.0 + 4.0)   # y (=4) from the product, 2x (=4) from y


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Tensor(0.5)
    h = x
    for _ in range(3000):
        h = (h * 0.9).tanh()
    h.backward()
    assert np.isfinite(x.grad)


def test_new_tensors_start_with_zero_grads_and_float64():
    t = Tensor([[1, 2], [3, 4]])
    assert t.data.dtype == np.float64 and t.grad.shape == (2, 2) and not t.grad.any()
    assert Tensor(True).data == 1.0 and Tensor(np.int32(3)).shape == ()
    assert "shape=(2, 2)" in repr(t)
    assert np.ndarray.__add__ is not None and isinstance(np.ones(2) + t[0], Tensor)


# ------------------------------------------------------------------- against bpkit's backward
@FAST
@given(N=dims, sizes=st.lists(dims, min_size=2, max_size=4),
       hidden=st.sampled_from(["sigmoid", "tanh"]), seed=seeds)
def test_mlp_matches_mlp_backward(N, sizes, hidden, seed):
    rng = np.random.default_rng(seed)
    params = bpkit.init_mlp(sizes, seed=seed % 1000)
    params = {k: v + rng.normal(scale=0.1, size=v.shape) for k, v in params.items()}
    X = rng.normal(size=(N, sizes[0]))
    Y = rng.integers(0, 2, size=(N, sizes[-1])).astype(float)
    Yhat, cache = bpkit.mlp_forward(params, X, hidden=hidden, output="sigmoid")
    loss, dY = bpkit.bce_loss(Yhat, Y)
    ref = bpkit.mlp_backward(dY, cache)

    P = {k: Tensor(v) for k, v in params.items()}
    a = Tensor(X)
    L = len(sizes) - 1
    for i in range(1, L + 1):
        z = a @ P[f"W{i}"] + P[f"b{i}"]
        a = z.sigmoid() if i == L else getattr(z, hidden)()
    engine_loss = -(Y * a.log() + (1 - Y) * (1 - a).log()).sum() / N
    engine_loss.backward()
    assert engine_loss.item() == pytest.approx(loss, rel=1e-12)
    for k in params:
        assert rel_error(P[k].grad, ref[k]) < EXACT_TOL, k


def engine_rnn(X, h0, Wx, Wh, b, truncate=None):
    """The recurrence as a Python loop over Tensors; states detached at chunk ends."""
    T = X.shape[1]
    h, Hs = h0, []
    for t in range(T):
        if truncate and t and t % truncate == 0:
            h = h.detach()
        h = (X[:, t] @ Wx + h @ Wh + b).tanh()
        Hs.append(h)
    return stack(Hs, axis=1)


@FAST
@given(N=dims, T=st.integers(1, 6), D=dims, H=dims, seed=seeds,
       truncate=st.sampled_from([None, 1, 2, 3, 10]))
def test_rnn_matches_rnn_backward_full_and_truncated(N, T, D, H, seed, truncate):
    rng = np.random.default_rng(seed)
    X, h0 = rng.normal(size=(N, T, D)), rng.normal(scale=0.5, size=(N, H))
    Wx, Wh = rng.normal(scale=0.8, size=(D, H)), rng.normal(scale=0.8 / np.sqrt(H), size=(H, H))
    b, G = rng.normal(scale=0.3, size=H), rng.normal(size=(N, T, H))
    Hs, cache = bpkit.rnn.rnn_forward(X, h0, Wx, Wh, b)
    ref = bpkit.rnn.rnn_backward(G, cache, truncate=truncate)

    ts = [Tensor(v) for v in (X, h0, Wx, Wh, b)]
    Hs_engine = engine_rnn(*ts, truncate=truncate)
    np.testing.assert_allclose(Hs_engine.data, Hs, rtol=1e-14, atol=1e-15)
    (Hs_engine * G).sum().backward()
    for name, t, r in zip(["dX", "dh0", "dWx", "dWh", "db"], ts, ref):
        assert rel_error(t.grad, r) < EXACT_TOL, name


@FAST
@given(N=st.integers(1, 4), T=st.integers(2, 6), H=dims, seed=seeds,
       truncate=st.sampled_from([None, 2]))
def test_rnn_model_matches_rnn_model_backward(N, T, H, seed, truncate):
    X, Y, mask = bpkit.delayed_xor(N, T, delay=1, seed=seed % 1000)
    params = bpkit.rnn.init_rnn(1, H, 1, seed=seed % 1000)
    Z, cache = bpkit.rnn.rnn_model_forward(params, X)
    loss, dZ = bpkit.rnn.sequence_bce_logits_loss(Z, Y, mask)
    ref = bpkit.rnn.rnn_model_backward(dZ, cache, truncate=truncate)

    P = {k: Tensor(v) for k, v in params.items()}
    Hs = engine_rnn(Tensor(X), Tensor(np.zeros((N, H))), P["Wx"], P["Wh"], P["bh"], truncate)
    Zt = Hs @ P["Wy"] + P["by"]
    w = mask[:, :, None] / mask.sum()              # masked mean over the steps (K = 1)
    p = Zt.sigmoid()
    engine_loss = -((Y * p.log() + (1 - Y) * (1 - p).log()) * w).sum()
    engine_loss.backward()
    assert engine_loss.item() == pytest.approx(loss, rel=1e-9)
    for k in params:
        assert rel_error(P[k].grad, ref[k]) < 1e-10, k


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("data, err, words", [
    ("abc", TypeError, "data must be a number or a numeric array, got str"),
    (None, TypeError, "got NoneType"),
    ([[1, 2], [3]], TypeError, "numpy cannot convert"),
    (np.array(["a"]), TypeError, "real numbers"),
    (np.array([1 + 2j]), TypeError, "complex"),
    ([1.0, np.nan], ValueError, "finite, got an array containing NaN"),
    ([np.inf], ValueError, "containing inf"),
])
def test_bad_data(data, err, words):
    with pytest.raises(err, match=words.replace("(", r"\(").replace("[", r"\[")):
        Tensor(data)


def test_tensor_of_a_tensor_is_refused():
    with pytest.raises(TypeError, match="got a Tensor"):
        Tensor(Tensor(1.0))


def test_bad_operands_and_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    for op in (lambda: a + b, lambda: a - b, lambda: a * b, lambda: a / b):
        with pytest.raises(ValueError, match=r"must have shapes numpy can broadcast, got \(2, 3\) and \(4,\)"):
            op()
    with pytest.raises(TypeError, match="the operand of \\+ must be a number or a numeric array, got str"):
        a + "x"
    with pytest.raises(TypeError, match="operand of \\*"):
        a * None
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        a @ a
    with pytest.raises(ValueError, match="at least 2-D"):
        a @ Tensor(np.ones(3))
    with pytest.raises(ValueError, match="divisor of / must have no zero entries, got 1 zero"):
        a / Tensor([1.0, 0.0, 2.0])
    with pytest.raises(TypeError, match="exponent of \\*\\* must be a real number, got Tensor"):
        a ** Tensor(2.0)
    with pytest.raises(ValueError, match="needs x > 0"):
        Tensor([-1.0, 2.0]) ** 0.5
    with pytest.raises(ValueError, match="needs x > 0"):
        Tensor([0.0, 2.0]) ** -1


def test_bad_unary_inputs():
    with pytest.raises(ValueError, match="log\\(\\) needs positive entries, got an entry 0"):
        Tensor([1.0, 0.0]).log()
    with pytest.raises(ValueError, match="exp\\(\\) overflows"):
        Tensor([1000.0]).exp()


def test_bad_axes_and_indices():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"axis must be in \[-2, 2\) for shape \(2, 3\), got 2"):
        t.sum(axis=2)
    with pytest.raises(TypeError, match="axis must be None, an int or a tuple of ints, got 1.0"):
        t.mean(axis=1.0)
    with pytest.raises(ValueError, match="must not repeat"):
        t.sum(axis=(0, -2))
    with pytest.raises(TypeError, match="basic indexing.*got list"):
        t[[0, 1]]
    with pytest.raises(TypeError, match="got Tensor"):
        t[Tensor(0.0)]
    with pytest.raises(TypeError, match="got bool"):
        t[True]
    with pytest.raises(ValueError, match=r"does not fit shape \(2, 3\)"):
        t[5]


def test_backward_needs_a_scalar():
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"backward\(\) needs a scalar loss \(one entry\), got shape \(2, 3\)"):
        (t * 2).backward()
    with pytest.raises(ValueError, match=r"item\(\) needs a tensor with one entry"):
        t.item()


def test_bad_stack_and_zero_grad_inputs():
    a = Tensor(np.ones(3))
    with pytest.raises(TypeError, match="list or tuple of Tensors, got Tensor"):
        stack(a)
    with pytest.raises(ValueError, match="must not be empty"):
        stack([])
    with pytest.raises(TypeError, match=r"tensors\[1\] must be a Tensor, got ndarray"):
        stack([a, np.ones(3)])
    with pytest.raises(ValueError, match=r"tensors\[1\] must have the shape of tensors\[0\] \(3,\), got \(2,\)"):
        stack([a, Tensor(np.ones(2))])
    with pytest.raises(ValueError, match="axis must be in"):
        stack([a, a], axis=3)
    with pytest.raises(TypeError, match="axis must be an int"):
        stack([a, a], axis="0")
    with pytest.raises(TypeError, match="list or dict of Tensors, got Tensor"):
        zero_grad(a)
    with pytest.raises(TypeError, match=r"tensors\[0\] must be a Tensor, got int"):
        zero_grad([1])


def test_module_exports():
    assert set(autodiff.__all__) == {"Tensor", "stack", "zero_grad"}
