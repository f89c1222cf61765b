"""bpkit.losses: formulas, exact derivatives, bad input, extremes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpkit import losses
from bpkit.gradcheck import numerical_gradient, rel_error
from bpkit.layers import sigmoid_backward, sigmoid_forward

#: relative error below which an analytic gradient counts as correct (float64, central differences)
GRAD_TOL = 1e-7

dims = st.integers(1, 5)
seeds = st.integers(0, 2**32 - 1)
reductions = st.sampled_from(["mean", "sum"])


@given(N=dims, K=dims, seed=seeds, reduction=reductions)
def test_mse_gradient(N, K, seed, reduction):
    rng = np.random.default_rng(seed)
    yp, y = rng.normal(size=(N, K)), rng.normal(size=(N, K))
    loss, dyp = losses.mse_loss(yp, y, reduction)
    scale = 1 / N if reduction == "mean" else 1.0
    np.testing.assert_allclose(loss, 0.5 * scale * np.sum((yp - y) ** 2))
    num = numerical_gradient(lambda _: losses.mse_loss(yp, y, reduction)[0], yp)
    assert rel_error(dyp, num) < GRAD_TOL


@given(N=dims, K=dims, seed=seeds, reduction=reductions, hard=st.booleans())
def test_bce_gradient(N, K, seed, reduction, hard):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, size=(N, K))
    y = (rng.random((N, K)) < 0.5).astype(float) if hard else rng.random((N, K))
    loss, dp = losses.bce_loss(p, y, reduction)
    scale = 1 / N if reduction == "mean" else 1.0
    np.testing.assert_allclose(loss, -scale * np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
    num = numerical_gradient(lambda _: losses.bce_loss(p, y, reduction)[0], p)
    assert rel_error(dp, num) < GRAD_TOL


@given(N=dims, K=dims, seed=seeds, reduction=reductions)
def test_bce_logits_gradient_and_agreement_with_bce(N, K, seed, reduction):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=(N, K))
    y = (rng.random((N, K)) < 0.5).astype(float)
    loss, dz = losses.bce_logits_loss(z, y, reduction)
    num = numerical_gradient(lambda _: losses.bce_logits_loss(z, y, reduction)[0], z)
    assert rel_error(dz, num) < GRAD_TOL
    # same number as BCE of the sigmoid, and the sigma' factor cancels: dz = sigma(z) - y (over N)
    p, cache = sigmoid_forward(z)
    loss2, dp = losses.bce_loss(p, y, reduction)
    np.testing.assert_allclose(loss, loss2, rtol=1e-10)
    np.testing.assert_allclose(dz, sigmoid_backward(dp, cache), rtol=1e-9, atol=1e-15)


def test_bce_extremes_are_finite():
    p = np.array([[0.0], [1.0], [0.0], [1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    loss, dp = losses.bce_loss(p, y)
    assert np.isfinite(loss) and np.isfinite(dp).all()
    assert loss == pytest.approx(-2 * np.log(losses.BCE_EPS) / 4, rel=1e-6)
    z = np.array([[-1e4], [1e4], [-1e4], [1e4]])
    loss, dz = losses.bce_logits_loss(z, y)
    assert np.isfinite(loss) and np.isfinite(dz).all()
    assert loss == pytest.approx(2e4 / 4)


@pytest.mark.parametrize("fn, pred_name", [(losses.mse_loss, "y_pred"), (losses.bce_loss, "p"),
                                           (losses.bce_logits_loss, "z")])
def test_loss_rejects_bad_input(fn, pred_name):
    p = np.full((4, 1), 0.5)
    y = np.ones((4, 1))
    with pytest.raises(ValueError, match=r"y must have shape \(4, 1\).*got \(4,\)|y must be 2-D"):
        fn(p, np.ones(4))  # the (n,) vs (n, 1) broadcasting trap
    with pytest.raises(ValueError, match=r"y must have shape \(4, 1\).*got \(3, 1\)"):
        fn(p, np.ones((3, 1)))
    with pytest.raises(ValueError, match=rf"{pred_name} must be 2-D"):
        fn(np.full(4, 0.5), y)
    with pytest.raises(ValueError, match=rf"{pred_name} must be finite|{pred_name} must hold probabilities"):
        fn(np.full((4, 1), np.nan), y)
    with pytest.raises(ValueError, match=r"y must be finite|y must hold targets"):
        fn(p, np.full((4, 1), np.inf))
    with pytest.raises(TypeError, match=rf"{pred_name} must hold real numbers"):
        fn(np.array([["a"]] * 4), y)
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'sum'\), got 'avg'"):
        fn(p, y, "avg")
    with pytest.raises(TypeError, match=r"reduction must be a str"):
        fn(p, y, None)
    with pytest.raises(ValueError, match=rf"{pred_name} must not be empty"):
        fn(np.ones((0, 1)), np.ones((0, 1)))


def test_bce_rejects_out_of_range():
    y = np.ones((2, 1))
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\], got values in \[-0.1, 0.5\]"):
        losses.bce_loss(np.array([[-0.1], [0.5]]), y)
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\], got values in \[0, 2\]"):
        losses.bce_loss(np.full((2, 1), 0.5), np.array([[0.0], [2.0]]))
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\]"):
        losses.bce_logits_loss(np.zeros((2, 1)), np.array([[-1.0], [1.0]]))
