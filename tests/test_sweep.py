"""bpkit.sweep (bpkit.fast_sweep): the stacked networks follow train_mlp bit for bit, seed by seed."""

from __future__ import annotations

import numpy as np
import pytest

from bpkit.datasets import xor
from bpkit.sweep import train_mlp_seeds, xor_seed_sweep
from bpkit.train import train_mlp

ARTICLE = dict(hidden="sigmoid", loss="mse", reduction="sum", lr=0.1, init="uniform", bias=False)

RECIPES = [
    ([2, 2, 1], dict(ARTICLE, epochs=400)),
    ([2, 4, 1], dict(epochs=300)),                                    # the book's recipe
    ([2, 3, 1], dict(hidden="tanh", momentum=0.9, epochs=200)),
    ([2, 3, 2, 1], dict(hidden="relu", output="identity", loss="bce_logits", epochs=150)),
    ([2, 3, 1], dict(hidden="tanh", output="identity", loss="mse", init="uniform", lr=0.05,
                     epochs=100)),
]


@pytest.mark.parametrize("sizes, kwargs", RECIPES)
def test_each_network_equals_train_mlp_exactly(sizes, kwargs):
    X, Y = xor()
    seeds = [0, 3, 25]
    params, hist = train_mlp_seeds(X, Y, sizes, seeds, **kwargs)
    for s, seed in enumerate(seeds):
        p, h = train_mlp(X, Y, sizes, seed=seed, **kwargs)
        assert params.keys() == p.keys()
        for k in p:
            np.testing.assert_array_equal(params[k][s], p[k], err_msg=f"{k}, seed {seed}")
        np.testing.assert_array_equal(hist["accuracy"][s], h["accuracy"])
        np.testing.assert_allclose(hist["loss"][s], h["loss"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(hist["final_loss"][s], h["final_loss"], rtol=1e-12, atol=1e-15)
        assert hist["final_accuracy"][s] == h["final_accuracy"]


def test_article_recipe_seed_1_reproduces_the_measured_outputs():
    result = xor_seed_sweep([1], sizes=[2, 2, 1], epochs=10_000, **ARTICLE)
    np.testing.assert_allclose(result["final_output"][0], [0.116, 0.750, 0.752, 0.580], atol=5e-4)
    assert not result["solved"][0]


def test_xor_seed_sweep_first_solved_and_shapes():
    result = xor_seed_sweep(range(5), epochs=300)
    assert result["final_output"].shape == (5, 4)
    assert result["loss"].shape == result["accuracy"].shape == (5, 300)
    for s in range(5):
        acc = result["accuracy"][s]
        first = result["first_solved"][s]
        if first >= 0:
            assert acc[first] == 1.0 and (acc[:first] < 1.0).all()
        else:
            assert (acc < 1.0).all()


def test_bad_input_is_rejected():
    X, Y = xor()
    with pytest.raises(ValueError, match="seeds"):
        train_mlp_seeds(X, Y, [2, 2, 1], [])
    with pytest.raises(TypeError, match="seeds"):
        train_mlp_seeds(X, Y, [2, 2, 1], 3)
    with pytest.raises(ValueError, match="sizes\\[0\\]"):
        train_mlp_seeds(X, Y, [3, 2, 1], [0])
    with pytest.raises(ValueError, match="sizes\\[-1\\]"):
        train_mlp_seeds(X, Y, [2, 2, 2], [0])
    with pytest.raises(ValueError, match="momentum"):
        train_mlp_seeds(X, Y, [2, 2, 1], [0], momentum=1.0)
    with pytest.raises(ValueError, match="loss"):
        train_mlp_seeds(X, Y, [2, 2, 1], [0], loss="bce", output="identity")
    with pytest.raises(ValueError, match="Y"):
        train_mlp_seeds(X, Y[:3], [2, 2, 1], [0])


def test_history_is_the_same_whatever_the_buffer_size(monkeypatch):
    X, Y = xor()
    kwargs = dict(epochs=97, loss="bce", seeds=[0, 1])
    _, big = train_mlp_seeds(X, Y, [2, 3, 1], **kwargs)
    import bpkit.fast_sweep
    monkeypatch.setattr(bpkit.fast_sweep, "_BUFFER_ENTRIES", 8 * 10)   # 10 epochs per chunk
    _, small = train_mlp_seeds(X, Y, [2, 3, 1], **kwargs)
    for key in ("loss", "accuracy", "final_loss", "final_output"):
        np.testing.assert_array_equal(small[key], big[key], err_msg=key)
    p, h = train_mlp(X, Y, [2, 3, 1], seed=1, epochs=97)
    np.testing.assert_allclose(small["loss"][1], h["loss"], rtol=1e-12)
    np.testing.assert_array_equal(small["accuracy"][1], h["accuracy"])
