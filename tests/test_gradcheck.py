"""bpkit.gradcheck itself: exactness on known functions, the thresholds, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from bpkit.gradcheck import check_gradients, max_rel_error, numerical_gradient, rel_error, verdict


def test_numerical_gradient_of_a_known_function_and_x_is_restored():
    x = np.array([[0.5, -1.0, 2.0]])
    x0 = x.copy()
    g = numerical_gradient(lambda v: float(np.sum(np.sin(v) * v)), x)
    np.testing.assert_allclose(g, np.cos(x0) * x0 + np.sin(x0), rtol=1e-8)
    np.testing.assert_array_equal(x, x0)


def test_rel_error_and_verdicts():
    a = np.array([1.0, 2.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(a, -a) == 1.0
    assert rel_error(a, a / 4) == pytest.approx(0.6)   # a bias gradient averaged over N=4
    assert max_rel_error(np.array([1.0, 1e-12]), np.array([1.0, 2e-12])) == pytest.approx(1 / 3)
    assert [verdict(e) for e in (1e-9, 1e-6, 1e-3, 0.5)] == ["correct", "look closer", "suspicious", "wrong"]


def test_check_gradients_reports_every_parameter():
    p = {"w": np.array([1.0, 2.0]), "b": np.array([0.5])}
    loss = lambda: float(np.sum(p["w"] ** 2) + 3 * p["b"][0])  # noqa: E731
    errs = check_gradients(loss, p, {"w": 2 * p["w"], "b": np.array([3.0])})
    assert set(errs) == {"w", "b"} and max(errs.values()) < 1e-9
    errs = check_gradients(loss, p, {"w": 2 * p["w"], "b": np.array([0.75])})
    assert errs["b"] == pytest.approx(0.6)


def test_gradcheck_rejects_bad_input():
    with pytest.raises(TypeError, match=r"f must be callable, got int"):
        numerical_gradient(3, np.ones(2))
    with pytest.raises(TypeError, match=r"x must be a float64 ndarray.*float32"):
        numerical_gradient(np.sum, np.ones(2, dtype=np.float32))
    with pytest.raises(TypeError, match=r"x must be a float64 ndarray.*list"):
        numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"x must be finite"):
        numerical_gradient(np.sum, np.array([np.nan]))
    with pytest.raises(ValueError, match=r"eps must be finite and > 0"):
        numerical_gradient(np.sum, np.ones(2), eps=0.0)
    with pytest.raises(ValueError, match=r"b must have the shape of a \(2,\), got \(3,\)"):
        rel_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match=r"a must be finite"):
        rel_error(np.array([np.inf]), np.ones(1))
    with pytest.raises(ValueError, match=r"err must be finite and >= 0"):
        verdict(-1.0)
    with pytest.raises(ValueError, match=r"grads must have the keys of params"):
        check_gradients(lambda: 0.0, {"a": np.ones(1)}, {"b": np.ones(1)})
