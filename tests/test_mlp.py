"""bpkit.mlp: init, forward, backward (finite differences on random architectures), bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpkit import layers
from bpkit.gradcheck import check_gradients, numerical_gradient, rel_error
from bpkit.mlp import init_mlp, mlp_backward, mlp_forward

#: relative error below which an analytic gradient counts as correct (float64, central differences)
GRAD_TOL = 1e-7

acts = st.sampled_from(["sigmoid", "tanh", "identity"])


@given(sizes=st.lists(st.integers(1, 4), min_size=2, max_size=5), N=st.integers(1, 5),
       seed=st.integers(0, 2**32 - 1), hidden=acts, output=acts, bias=st.booleans())
def test_mlp_backward_matches_finite_differences_for_every_parameter(sizes, N, seed, hidden, output, bias):
    rng = np.random.default_rng(seed)
    params = init_mlp(sizes, seed=seed % 1000, bias=bias)
    for k in params:  # nonzero biases so their gradient is exercised in general position
        params[k] += rng.normal(scale=0.3, size=params[k].shape)
    X = rng.normal(size=(N, sizes[0]))
    G = rng.normal(size=(N, sizes[-1]))
    Y, cache = mlp_forward(params, X, hidden, output)
    grads = mlp_backward(G, cache)
    assert grads.keys() == params.keys()
    assert all(grads[k].shape == params[k].shape for k in params)
    errs = check_gradients(lambda: float(np.sum(G * mlp_forward(params, X, hidden, output)[0])),
                           params, grads)
    assert max(errs.values()) < GRAD_TOL, errs


@given(N=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_relu_mlp_matches_finite_differences_away_from_kinks(N, seed):
    rng = np.random.default_rng(seed)
    params = init_mlp([3, 4, 2], seed=seed % 1000)
    params["b1"] += 0.1
    X = rng.normal(size=(N, 3))
    z1 = X @ params["W1"] + params["b1"]
    if np.min(np.abs(z1)) < 1e-3:  # a kink within eps: derivative is a convention there
        return
    G = rng.normal(size=(N, 2))
    _, cache = mlp_forward(params, X, "relu", "identity")
    grads = mlp_backward(G, cache)
    errs = check_gradients(lambda: float(np.sum(G * mlp_forward(params, X, "relu", "identity")[0])),
                           params, grads)
    assert max(errs.values()) < GRAD_TOL, errs


def test_mlp_is_the_composition_of_layers():
    rng = np.random.default_rng(0)
    params = init_mlp([2, 3, 1], seed=4)
    params["b1"] += 0.2
    X = rng.normal(size=(5, 2))
    z1, c1 = layers.dense_forward(X, params["W1"], params["b1"])
    a1, s1 = layers.tanh_forward(z1)
    z2, c2 = layers.dense_forward(a1, params["W2"], params["b2"])
    a2, s2 = layers.sigmoid_forward(z2)
    Y, cache = mlp_forward(params, X, "tanh", "sigmoid")
    np.testing.assert_array_equal(Y, a2)
    dY = rng.normal(size=Y.shape)
    grads = mlp_backward(dY, cache)
    da1, dW2, db2 = layers.dense_backward(layers.sigmoid_backward(dY, s2), c2)
    _, dW1, db1 = layers.dense_backward(layers.tanh_backward(da1, s1), c1)
    for k, v in {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}.items():
        np.testing.assert_allclose(grads[k], v, rtol=1e-14, atol=1e-16)


def test_numerical_gradient_wrt_input():
    params = init_mlp([2, 3, 1], seed=1)
    X = np.array([[0.3, -0.2], [1.0, 0.5]])
    G = np.array([[1.0], [-2.0]])
    # dX is not returned by mlp_backward; recover it from dense_backward and compare
    Y, cache = mlp_forward(params, X)
    z1, c1 = layers.dense_forward(X, params["W1"], params["b1"])
    a1, s1 = layers.sigmoid_forward(z1)
    z2, c2 = layers.dense_forward(a1, params["W2"], params["b2"])
    a2, s2 = layers.sigmoid_forward(z2)
    da1, _, _ = layers.dense_backward(layers.sigmoid_backward(G, s2), c2)
    dX, _, _ = layers.dense_backward(layers.sigmoid_backward(da1, s1), c1)
    num = numerical_gradient(lambda _: float(np.sum(G * mlp_forward(params, X)[0])), X)
    assert rel_error(dX, num) < GRAD_TOL


def test_init_shapes_seeding_and_article_init():
    p = init_mlp([2, 4, 3, 1], seed=7)
    assert list(p) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert [p[k].shape for k in p] == [(2, 4), (4,), (4, 3), (3,), (3, 1), (1,)]
    q = init_mlp([2, 4, 3, 1], seed=7)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert not np.array_equal(p["W1"], init_mlp([2, 4, 3, 1], seed=8)["W1"])
    r = np.sqrt(6 / (2 + 4))
    assert np.abs(p["W1"]).max() <= r
    # "uniform" is exactly np.random.seed(s); 2 * np.random.random(shape) - 1, layer by layer
    a = init_mlp([2, 2, 1], seed=1, init="uniform", bias=False)
    assert list(a) == ["W1", "W2"]
    rs = np.random.RandomState(1)
    np.testing.assert_array_equal(a["W1"], 2 * rs.random_sample((2, 2)) - 1)
    np.testing.assert_array_equal(a["W2"], 2 * rs.random_sample((2, 1)) - 1)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(sizes=[3]), ValueError, r"sizes must list at least two layer widths.*got 1"),
    (dict(sizes=[]), ValueError, r"sizes must list at least two"),
    (dict(sizes=[2, 0, 1]), ValueError, r"sizes\[1\] must be >= 1.*got 0"),
    (dict(sizes=[2, -3, 1]), ValueError, r"sizes\[1\] must be >= 1.*got -3"),
    (dict(sizes=[2, 2.5, 1]), TypeError, r"sizes\[1\] must be an int, got float"),
    (dict(sizes=[2, True, 1]), TypeError, r"sizes\[1\] must be an int, got bool"),
    (dict(sizes="21"), TypeError, r"sizes must be a sequence of ints, got str"),
    (dict(sizes=5), TypeError, r"sizes must be a sequence of ints, got int"),
    (dict(sizes=[2, 1], init="he"), ValueError, r"init must be one of \('xavier', 'uniform'\), got 'he'"),
    (dict(sizes=[2, 1], seed=1.5), TypeError, r"seed must be an int, got float"),
    (dict(sizes=[2, 1], bias="yes"), TypeError, r"bias must be a bool, got str"),
])
def test_init_rejects_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        init_mlp(**kwargs)


def test_forward_rejects_bad_input():
    p = init_mlp([2, 3, 1])
    X = np.ones((4, 2))
    cases = [
        (lambda: mlp_forward(p, np.ones((4, 3))), ValueError, r"X must have shape \(any, 2\).*rows of W1.*got \(4, 3\)"),
        (lambda: mlp_forward(p, np.ones(2)), ValueError, r"X must be 2-D, got 1-D"),
        (lambda: mlp_forward(p, np.ones((0, 2))), ValueError, r"X must not be empty"),
        (lambda: mlp_forward(p, np.array([[np.nan, 1.0]])), ValueError, r"X must be finite.*NaN"),
        (lambda: mlp_forward(p, np.array([[np.inf, 1.0]])), ValueError, r"X must be finite.*inf"),
        (lambda: mlp_forward(p, [["a", "b"]]), TypeError, r"X must hold real numbers"),
        (lambda: mlp_forward(p, X, hidden="softmax"), ValueError,
         r"hidden must be one of \('sigmoid', 'tanh', 'relu', 'identity'\), got 'softmax'"),
        (lambda: mlp_forward(p, X, output="Sigmoid"), ValueError, r"output must be one of .*got 'Sigmoid'"),
        (lambda: mlp_forward(p, X, hidden=1), TypeError, r"hidden must be a str"),
        (lambda: mlp_forward([p["W1"]], X), TypeError, r"params must be a dict of arrays.*got list"),
        (lambda: mlp_forward({}, X), ValueError, r"params must contain 'W1'"),
        (lambda: mlp_forward({**p, "W3": np.ones((1, 1))}, X), ValueError, r"unexpected keys \['W3'\]|missing keys \['b3'\]"),
        (lambda: mlp_forward({**p, "extra": 1}, X), ValueError, r"unexpected keys \['extra'\]"),
        (lambda: mlp_forward({**p, "W2": np.ones((4, 1))}, X), ValueError, r"params\['W2'\] must have shape \(3, any\)"),
        (lambda: mlp_forward({**p, "b1": np.ones(2)}, X), ValueError, r"params\['b1'\] must have shape \(3,\)"),
        (lambda: mlp_forward({**p, "W1": np.ones(6)}, X), ValueError, r"params\['W1'\] must be 2-D"),
        (lambda: mlp_forward({**p, "W1": np.full((2, 3), np.nan)}, X), ValueError, r"params\['W1'\] must be finite.*NaN"),
        (lambda: mlp_forward({**p, "b2": np.array([np.inf])}, X), ValueError, r"params\['b2'\] must be finite.*inf"),
        (lambda: mlp_forward({**p, "W2": np.array([["x"], ["y"], ["z"]])}, X), TypeError, r"params\['W2'\] must hold real numbers"),
    ]
    for fn, exc, match in cases:
        with pytest.raises(exc, match=match):
            fn()


def test_overflow_raises_a_clear_error():
    p = init_mlp([2, 3, 1])
    with np.errstate(over="ignore"):  # numpy's matmul warns before bpkit can say what happened
        with pytest.raises(ValueError, match=r"pre-activation of layer 1 overflowed.*diverged"):
            mlp_forward({**p, "W1": np.full((2, 3), 1e300)}, np.full((4, 2), 1e300))


def test_backward_rejects_bad_input():
    p = init_mlp([2, 3, 1])
    Y, cache = mlp_forward(p, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"dY must have shape \(4, 1\).*got \(4,\)|dY must be 2-D"):
        mlp_backward(np.ones(4), cache)
    with pytest.raises(ValueError, match=r"dY must have shape \(4, 1\).*got \(1, 4\)"):
        mlp_backward(np.ones((1, 4)), cache)
    with pytest.raises(ValueError, match=r"dY must be finite.*NaN"):
        mlp_backward(np.full((4, 1), np.nan), cache)
    with pytest.raises(TypeError, match=r"cache must be the tuple returned by mlp_forward, got dict"):
        mlp_backward(np.ones((4, 1)), {})


def test_ints_and_lists_are_accepted_for_X():
    p = init_mlp([2, 2, 1], seed=0)
    Y1, _ = mlp_forward(p, [[0, 1], [1, 0]])
    Y2, _ = mlp_forward(p, np.array([[0.0, 1.0], [1.0, 0.0]]))
    np.testing.assert_array_equal(Y1, Y2)
