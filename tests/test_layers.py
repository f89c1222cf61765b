"""bpkit.layers: every backward against central finite differences, plus bad input and extremes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpkit import layers
from bpkit.gradcheck import numerical_gradient, rel_error

#: relative error below which an analytic gradient counts as correct (float64, central differences)
GRAD_TOL = 1e-7

dims = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)


def check(analytic, f, x):
    numeric = numerical_gradient(lambda _: f(), x)
    err = rel_error(analytic, numeric)
    assert err < GRAD_TOL, f"relative error {err:.2e}"


@given(N=dims, D=dims, H=dims, seed=seeds, bias=st.booleans())
def test_dense_backward_matches_finite_differences(N, D, H, seed, bias):
    rng = np.random.default_rng(seed)
    x, W = rng.normal(size=(N, D)), rng.normal(size=(D, H))
    b = rng.normal(size=H) if bias else None
    G = rng.normal(size=(N, H))
    z, cache = layers.dense_forward(x, W, b)
    dx, dW, db = layers.dense_backward(G, cache)
    loss = lambda: float(np.sum(G * layers.dense_forward(x, W, b)[0]))  # noqa: E731
    check(dx, loss, x)
    check(dW, loss, W)
    if bias:
        check(db, loss, b)
    else:
        np.testing.assert_allclose(db, G.sum(axis=0))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
@given(N=dims, H=dims, seed=seeds)
def test_activation_backward_matches_finite_differences(name, N, H, seed):
    fwd = getattr(layers, f"{name}_forward")
    bwd = getattr(layers, f"{name}_backward")
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=2.0, size=(N, H))
    if name == "relu":  # stay away from the kink at 0, where the derivative is a convention
        z = np.where(np.abs(z) < 1e-3, 0.5, z)
    G = rng.normal(size=(N, H))
    a, cache = fwd(z)
    dz = bwd(G, cache)
    check(dz, lambda: float(np.sum(G * fwd(z)[0])), z)


def test_activation_values():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(layers.sigmoid_forward(z)[0], 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_allclose(layers.tanh_forward(z)[0], np.tanh(z))
    np.testing.assert_array_equal(layers.relu_forward(z)[0], [[0.0, 0.0, 3.0]])
    # ReLU's derivative at exactly 0 is 0 (SymPy's Heaviside(z, 0))
    np.testing.assert_array_equal(layers.relu_backward(np.ones((1, 3)), layers.relu_forward(z)[1]),
                                  [[0.0, 0.0, 1.0]])


def test_sigmoid_cache_is_the_output():
    a, cache = layers.sigmoid_forward(np.array([[0.3]]))
    assert cache is a
    np.testing.assert_allclose(layers.sigmoid_backward(np.ones((1, 1)), cache), a * (1 - a))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_extreme_values_stay_finite_without_warnings(name):
    z = np.array([[-1e4, -745.0, -40.0, 0.0, 40.0, 745.0, 1e4]])
    a, cache = getattr(layers, f"{name}_forward")(z)
    dz = getattr(layers, f"{name}_backward")(np.ones_like(z), cache)
    assert np.isfinite(a).all() and np.isfinite(dz).all()
    if name == "sigmoid":
        assert a[0, 0] == 0.0 and a[0, -1] == 1.0 and a[0, 3] == 0.5
        assert 0 < a[0, 2] < 1e-17  # relative precision kept deep in the tail


# ---------------------------------------------------------------------------- bad input
X2 = np.ones((3, 2))
W2 = np.ones((2, 4))
B4 = np.zeros(4)


@pytest.mark.parametrize("args, exc, match", [
    ((np.ones(3), W2, B4), ValueError, r"x must be 2-D, got 1-D"),
    ((X2, np.ones((3, 4)), B4), ValueError, r"W must have shape \(2, any\).*got \(3, 4\)"),
    ((X2, W2, np.zeros(3)), ValueError, r"b must have shape \(4,\).*got \(3,\)"),
    ((X2, W2, np.zeros((1, 4))), ValueError, r"b must be 1-D"),
    ((np.full((3, 2), np.nan), W2, B4), ValueError, r"x must be finite.*NaN"),
    ((X2, np.full((2, 4), np.inf), B4), ValueError, r"W must be finite.*inf"),
    ((np.array([["a", "b"]]), W2, B4), TypeError, r"x must hold real numbers.*dtype <U1"),
    (("abc", W2, B4), TypeError, r"x must be a numeric array, got str"),
    ((None, W2, B4), TypeError, r"x must be a numeric array, got NoneType"),
    (([[1, 2], [3]], W2, B4), TypeError, r"x must be a numeric array"),
    ((np.ones((0, 2)), W2, B4), ValueError, r"x must not be empty"),
    ((X2 + 1j, W2, B4), TypeError, r"x must hold real numbers.*complex"),
])
def test_dense_forward_rejects_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        layers.dense_forward(*args)


def test_dense_backward_rejects_bad_input():
    _, cache = layers.dense_forward(X2, W2, B4)
    with pytest.raises(ValueError, match=r"dz must have shape \(3, 4\).*got \(4, 3\)"):
        layers.dense_backward(np.ones((4, 3)), cache)
    with pytest.raises(ValueError, match=r"dz must be finite"):
        layers.dense_backward(np.full((3, 4), np.nan), cache)
    with pytest.raises(TypeError, match=r"cache must be the tuple returned by dense_forward, got list"):
        layers.dense_backward(np.ones((3, 4)), [X2, W2])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
def test_activation_rejects_bad_input(name):
    fwd = getattr(layers, f"{name}_forward")
    bwd = getattr(layers, f"{name}_backward")
    with pytest.raises(ValueError, match=r"z must be finite.*NaN"):
        fwd(np.array([[np.nan]]))
    with pytest.raises(TypeError, match=r"z must hold real numbers"):
        fwd(np.array([["x"]]))
    _, cache = fwd(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"da must have shape \(2, 3\).*{name}_forward"):
        bwd(np.ones((3, 2)), cache)
    with pytest.raises(ValueError, match=r"da must be finite.*inf"):
        bwd(np.full((2, 3), np.inf), cache)
    with pytest.raises(TypeError, match=rf"cache must be the ndarray returned by {name}_forward, got tuple"):
        bwd(np.ones((2, 3)), (cache,))


def test_integer_and_bool_inputs_are_converted():
    z, _ = layers.dense_forward([[1, 0]], [[1], [2]], [True])
    assert z.dtype == np.float64 and z.tolist() == [[2.0]]


def test_sigmoid_accepts_scalars():
    assert layers.sigmoid(0.0) == 0.5
    assert layers.sigmoid(-1e4) == 0.0 and layers.sigmoid(1e4) == 1.0
    np.testing.assert_allclose(layers.sigmoid(np.array(2.0)), 1 / (1 + np.exp(-2.0)))
