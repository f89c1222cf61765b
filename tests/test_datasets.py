"""bpkit.datasets: xor and delayed_xor (definition, determinism, bad sizes)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpkit.datasets import delayed_xor, xor


def test_xor_table():
    X, Y = xor()
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(Y, [[0], [1], [1], [0]])
    assert X.dtype == Y.dtype == np.float64


@given(n=st.integers(1, 5), T=st.integers(2, 12), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_delayed_xor_definition(n, T, data, seed):
    delay = data.draw(st.integers(1, T - 1), label="delay")
    X, Y, mask = delayed_xor(n, T, delay, seed)
    assert X.shape == Y.shape == (n, T, 1) and mask.shape == (n, T)
    assert X.dtype == Y.dtype == np.float64 and mask.dtype == np.bool_
    assert set(np.unique(X)) <= {0.0, 1.0} and set(np.unique(Y)) <= {0.0, 1.0}
    for t in range(T):
        if t < delay:   # no defined target: Y is 0 and the mask is False
            assert not mask[:, t].any() and not Y[:, t].any()
        else:
            assert mask[:, t].all()
            np.testing.assert_array_equal(Y[:, t, 0], np.logical_xor(X[:, t, 0], X[:, t - delay, 0]))
    bits = np.random.default_rng(seed).integers(0, 2, (n, T, 1))
    np.testing.assert_array_equal(X, bits)


def test_delayed_xor_is_seeded():
    a, b, c = delayed_xor(8, 10, 2, seed=3), delayed_xor(8, 10, 2, seed=3), delayed_xor(8, 10, 2, seed=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    X, Y, mask = delayed_xor(2000, 10, 1, seed=0)   # balanced bits and targets
    assert abs(X.mean() - 0.5) < 0.02 and abs(Y[mask].mean() - 0.5) < 0.02


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n=0), ValueError, "n must be >= 1"),
    (dict(n=2.0), TypeError, "n must be an int"),
    (dict(n=True), TypeError, "n must be an int"),
    (dict(T=5, delay=5), ValueError, "T must be > delay"),
    (dict(T=3, delay=5), ValueError, "T must be > delay"),
    (dict(delay=0), ValueError, "delay must be >= 1"),
    (dict(delay=-2), ValueError, "delay must be >= 1"),
    (dict(delay=1.5), TypeError, "delay must be an int"),
    (dict(T="10"), TypeError, "T must be an int"),
    (dict(T=0), ValueError, "T must be >= 1"),
    (dict(seed=1.0), TypeError, "seed must be an int"),
    (dict(seed=None), TypeError, "seed must be an int"),
])
def test_delayed_xor_rejects_bad_sizes(kwargs, exc, match):
    args = dict(n=4, T=10, delay=2, seed=0)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        delayed_xor(**args)
