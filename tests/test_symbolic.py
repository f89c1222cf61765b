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
