"""bpkit.symbolic: the SymPy helpers the chapters use agree with bpkit's numpy functions."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from bpkit import layers
from bpkit.symbolic import (broadcast_rows, derivative_matrix, equation, evaluate, matrix,
                            row_vector, sigmoid)


def test_matrix_gradient_of_a_dense_layer_is_xT_dz():
    X, W, b = matrix("x", 3, 2), matrix("w", 2, 2), row_vector("b", 2)
    Z = X * W + broadcast_rows(b, 3)
    G = np.arange(6.0).reshape(3, 2) / 7
    L = sum(G[i, j] * Z[i, j] for i in range(3) for j in range(2))
    rng = np.random.default_rng(0)
    vals = {X: rng.normal(size=(3, 2)), W: rng.normal(size=(2, 2)), b: rng.normal(size=(1, 2))}
    _, cache = layers.dense_forward(vals[X], vals[W], vals[b][0])
    dx, dW, db = layers.dense_backward(G, cache)
    np.testing.assert_allclose(evaluate(derivative_matrix(L, W), vals), dW, rtol=1e-12)
    np.testing.assert_allclose(evaluate(derivative_matrix(L, X), vals), dx, rtol=1e-12)
    np.testing.assert_allclose(evaluate(derivative_matrix(L, b), vals)[0], db, rtol=1e-12)


def test_sigmoid_derivative_identity():
    z = sp.Symbol("z", real=True)
    assert sp.simplify(sp.diff(sigmoid(z), z) - sigmoid(z) * (1 - sigmoid(z))) == 0
    assert float(evaluate(sigmoid(z), {z: 0.3})) == pytest.approx(float(layers.sigmoid(0.3)))


def test_equation_is_unevaluated():
    x = sp.Symbol("x")
    assert isinstance(equation(x, x), sp.Eq)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: matrix("", 2, 2), TypeError, r"name must be a non-empty str"),
    (lambda: matrix("x", 0, 2), ValueError, r"rows must be >= 1, got 0"),
    (lambda: matrix("x", 2, 2.0), TypeError, r"cols must be an int, got float"),
    (lambda: row_vector("b", 0), ValueError, r"n must be >= 1, got 0"),
    (lambda: row_vector(3, 2), TypeError, r"name must be a non-empty str"),
    (lambda: broadcast_rows(matrix("x", 2, 2), 3), ValueError, r"v must be a 1 x n SymPy matrix, got \(2, 2\)"),
    (lambda: broadcast_rows(row_vector("b", 2), 0), ValueError, r"rows must be >= 1"),
    (lambda: evaluate(matrix("x", 2, 1), {matrix("x", 2, 1): np.ones(3)}), ValueError,
     r"values for a \(2, 1\) matrix must have that shape, got \(3,\)"),
    (lambda: evaluate(sp.Symbol("q") + 1, {}), ValueError, r"values leave symbols without a number: \['q'\]"),
])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_compose_puts_the_forward_pass_back_last_step_first():
    from bpkit.symbolic import compose
    x, w, b, z, a, y = sp.symbols("x w b z a y", real=True)
    steps = [(z, w * x + b), (a, sigmoid(z))]
    chain = (a - y) * a * (1 - a) * x                       # dL/dw written with a
    L_full = compose(sp.Rational(1, 2) * (a - y) ** 2, steps)
    assert L_full.free_symbols == {x, w, b, y}
    assert sp.simplify(compose(chain, steps) - sp.diff(L_full, w)) == 0
    Z, A = matrix("z", 1, 2), matrix("a", 1, 2)
    X, W = matrix("x", 1, 2), matrix("w", 2, 2)
    out = compose(A * sp.ones(2, 1), [(Z, X * W), (A, Z.applyfunc(sigmoid))])
    assert out.free_symbols == set(X) | set(W)


@pytest.mark.parametrize("steps, exc, match", [
    ("z", TypeError, r"steps must be a list of \(symbol, definition\) pairs, got str"),
    ([(sp.Symbol("z"),)], ValueError, r"steps\[0\] must be a \(symbol, definition\) pair"),
    ([(matrix("z", 1, 2), sp.zeros(2, 1))], ValueError,
     r"steps\[0\]: the definition of a \(1, 2\) matrix must have that shape, got \(2, 1\)"),
])
def test_compose_rejects_bad_steps(steps, exc, match):
    from bpkit.symbolic import compose
    with pytest.raises(exc, match=match):
        compose(sp.Symbol("z"), steps)
