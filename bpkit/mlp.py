r"""A multi-layer perceptron built from :mod:`bpkit.layers`.

For layer :math:`l = 1 \dots L` with :math:`A_0 = X`:

.. math::
    Z_l = A_{l-1} W_l + b_l,\qquad A_l = f_l(Z_l),\qquad \hat Y = A_L

where :math:`f_l` is the ``hidden`` activation for :math:`l < L` and the ``output``
activation for :math:`l = L`.  :func:`mlp_forward` calls
:func:`~bpkit.layers.dense_forward` and the activation's ``*_forward`` for every layer;
:func:`mlp_backward` calls their ``*_backward`` in reverse, last layer first:

.. math::
    \delta_l = dA_l \odot f_l'(Z_l),\quad dW_l = A_{l-1}^\top \delta_l,\quad
    db_l = \textstyle\sum_n \delta_l,\quad dA_{l-1} = \delta_l W_l^\top
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np

from ._validate import all_finite, as_array, check_cache, check_option, check_seed, check_shape, checked
from . import fast_shortcuts as fast
from .layers import ACTIVATIONS, dense_backward, dense_forward

__all__ = ["init_mlp", "mlp_forward", "mlp_backward", "MLPCache", "Params", "INITS"]

Params = dict  # dict[str, np.ndarray]: "W1", "b1", "W2", "b2", ...

#: Weight initialisations understood by :func:`init_mlp`.
INITS = ("xavier", "uniform")


class MLPCache(NamedTuple):
    """What :func:`mlp_forward` remembers: per layer, the caches of its two steps."""
    layers: list        #: per layer ``(dense_cache, activation name, activation cache)``
    has_bias: bool      #: whether the net has biases (``mlp_backward`` returns their gradients)


def init_mlp(sizes: Sequence[int], seed: int = 0, init: str = "xavier", bias: bool = True
             ) -> dict[str, np.ndarray]:
    r"""Create the parameters of an MLP with layer widths ``sizes``.

    Parameters
    ----------
    sizes : sequence of int, length L + 1 >= 2
        ``[D, H1, ..., K]``: input width, hidden widths, output width; all >= 1.
    seed : int
        Seed for the random generator; the same seed gives the same parameters.
    init : {"xavier", "uniform"}
        ``"xavier"``: Glorot-uniform, :math:`W_l \sim U(-r, r)` with
        :math:`r = \sqrt{6/(\text{fan-in} + \text{fan-out})}`, from
        ``np.random.default_rng(seed)``.
        ``"uniform"``: :math:`W_l \sim U(-1, 1)` drawn in layer order from the legacy
        ``np.random.RandomState(seed)``, i.e. exactly the numbers
        ``np.random.seed(seed); 2 * np.random.random(shape) - 1`` gives (the source
        article's initialisation).
    bias : bool
        Include bias vectors ``b_l`` (initialised to zero).  ``False`` gives a
        network without biases, like the source article's.

    Returns
    -------
    params : dict of str to ndarray
        ``"W1"`` of shape (sizes[0], sizes[1]), ``"b1"`` of shape (sizes[1],),
        ``"W2"`` ... up to ``"WL"``, ``"bL"``.
    """
    sizes = _check_init(sizes, seed, init, bias)
    if init == "uniform":
        rs = np.random.RandomState(seed)
        draw = lambda fan_in, fan_out: 2 * rs.random_sample((fan_in, fan_out)) - 1  # noqa: E731
    else:
        rng = np.random.default_rng(seed)
        draw = lambda fan_in, fan_out: rng.uniform(  # noqa: E731
            -1.0, 1.0, (fan_in, fan_out)) * np.sqrt(6.0 / (fan_in + fan_out))
    params = {}
    for l in range(1, len(sizes)):  # noqa: E741
        params[f"W{l}"] = draw(sizes[l - 1], sizes[l])
        if bias:
            params[f"b{l}"] = np.zeros(sizes[l])
    return params


# ----------------------------------------------------------------- validation (boundary)
def _check_init(sizes: Any, seed: Any, init: Any, bias: Any) -> list[int]:
    sizes = _check_sizes(sizes)
    check_seed(seed)
    check_option("init", init, INITS)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    return sizes


def _check_sizes(sizes: Any) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"sizes must be a sequence of ints, got {type(sizes).__name__}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least two layer widths (input and output), "
                         f"got {len(sizes)}: {sizes}")
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"sizes[{i}] must be an int, got {type(s).__name__} ({s!r})")
        if s < 1:
            raise ValueError(f"sizes[{i}] must be >= 1 (a layer needs at least one unit), got {s}")
    return sizes


def check_params(params: Any) -> dict[str, np.ndarray]:
    """Validate an MLP's parameter dict: keys W1.., b1.., finite arrays, chained shapes."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays ('W1', 'b1', ...), got {type(params).__name__}")
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0:
        raise ValueError(f"params must contain 'W1', got keys {sorted(params)}")
    has_bias = "b1" in params
    expected = {f"{p}{l}" for l in range(1, L + 1) for p in ("Wb" if has_bias else "W")}  # noqa: E741
    if params.keys() != expected:
        extra, missing = sorted(set(params) - expected), sorted(expected - set(params))
        raise ValueError(f"params must hold 'W1'..'W{L}'" + (f" and 'b1'..'b{L}'" if has_bias else "")
                         + f"; unexpected keys {extra}, missing keys {missing}")
    checked_params = {}
    for l in range(1, L + 1):  # noqa: E741
        W = checked_params[f"W{l}"] = as_array(f"params['W{l}']", params[f"W{l}"], 2)
        if l > 1:
            rows = checked_params[f"W{l - 1}"].shape[1]
            check_shape(f"params['W{l}']", W, (rows, None), f"rows must match W{l - 1}'s {rows} columns")
        if has_bias:
            b = checked_params[f"b{l}"] = as_array(f"params['b{l}']", params[f"b{l}"], 1)
            check_shape(f"params['b{l}']", b, (W.shape[1],), f"one entry per column of W{l}")
    return checked_params


def _check_forward(params, X, hidden="sigmoid", output="sigmoid"):
    if fast.mlp_forward_ok(params, X, hidden, output):   # speed only (bpkit/fast_shortcuts.py)
        return params, X, hidden, output
    check_option("hidden", hidden, ACTIVATIONS)
    check_option("output", output, ACTIVATIONS)
    params = check_params(params)
    X = as_array("X", X, 2)
    check_shape("X", X, (None, params["W1"].shape[0]), "columns must match the rows of W1")
    return params, X, hidden, output


def _check_backward(dY, cache):
    check_cache(cache, MLPCache, "mlp_forward")
    dY = as_array("dY", dY, 2)
    check_shape("dY", dY, cache.layers[-1][2].shape, "the shape of mlp_forward's output Y")
    return dY, cache


def _check_finite(Z: np.ndarray, l: int, params: dict, X: np.ndarray) -> None:
    """Z_l must be finite.  NaN/inf in X, W_l or b_l always reaches Z_l, so this names them
    (the fast path, bpkit/fast_shortcuts.py, leaves them to this test); with finite inputs,
    a non-finite Z_l is an overflow."""
    if not all_finite(Z):
        check_params(params)                         # e.g. "params['W2'] must be finite"
        as_array("X", X, 2)
        raise ValueError(f"the pre-activation of layer {l} overflowed to inf/NaN with finite "
                         f"inputs; the weights have diverged (lower the learning rate)")


# ------------------------------------------------------------------- forward, backward
@checked(_check_forward)
def mlp_forward(params: dict[str, np.ndarray], X: np.ndarray,
                hidden: str = "sigmoid", output: str = "sigmoid"
                ) -> tuple[np.ndarray, MLPCache]:
    r"""Forward pass :math:`A_l = f_l(A_{l-1} W_l + b_l)`, :math:`\hat Y = A_L`.

    Parameters
    ----------
    params : dict of str to ndarray
        As made by :func:`init_mlp`: ``W_l`` of shape (H_{l-1}, H_l) and, if the net
        has biases, ``b_l`` of shape (H_l,).
    X : ndarray, shape (N, D)
        A batch of N inputs; D must equal the rows of ``W1``.
    hidden : {"sigmoid", "tanh", "relu", "identity"}
        Activation of the hidden layers.
    output : {"sigmoid", "tanh", "relu", "identity"}
        Activation of the output layer (``"identity"`` for logits).

    Returns
    -------
    Y : ndarray, shape (N, K)
        The output activations, K the columns of ``WL``.
    cache : MLPCache
        Everything :func:`mlp_backward` needs.

    Raises
    ------
    ValueError
        Also when a pre-activation overflows although the inputs are finite (weights that
        have diverged during training).
    """
    has_bias = "b1" in params
    L = len(params) // 2 if has_bias else len(params)
    A, layers = X, []
    for l in range(1, L + 1):  # noqa: E741
        f = hidden if l < L else output
        activation_forward = ACTIVATIONS[f][0].unchecked
        Z, dense_cache = dense_forward.unchecked(A, params[f"W{l}"], params.get(f"b{l}"))
        _check_finite(Z, l, params, X)                   # NaN/inf in the inputs, or overflow
        A, act_cache = activation_forward(Z)
        layers.append((dense_cache, f, act_cache))
    return A, MLPCache(layers, has_bias)


@checked(_check_backward)
def mlp_backward(dY: np.ndarray, cache: MLPCache) -> dict[str, np.ndarray]:
    r"""Backward pass through every step of :func:`mlp_forward`, last layer first.

    Parameters
    ----------
    dY : ndarray, shape (N, K)
        :math:`dL/d\hat Y`, e.g. the second return value of a loss.
    cache : MLPCache
        From :func:`mlp_forward`.

    Returns
    -------
    grads : dict of str to ndarray
        ``"W1"``, ``"b1"``, ... with the same keys and shapes as ``params``
        (no ``b`` keys for a net without biases).
    """
    grads = {}
    dA = dY
    for l in reversed(range(1, len(cache.layers) + 1)):  # noqa: E741
        dense_cache, f, act_cache = cache.layers[l - 1]
        activation_backward = ACTIVATIONS[f][1].unchecked
        dZ = activation_backward(dA, act_cache)          # delta_l
        dA, dW, db = dense_backward.unchecked(dZ, dense_cache)
        if cache.has_bias:
            grads[f"b{l}"] = db
        grads[f"W{l}"] = dW
    return dict(reversed(grads.items()))                # W1, b1, W2, b2, ...


# The problem sets' graders (assignments/) forbid a student's answer to refer to this old
# private name of the function they ask for; it is the public function.
_mlp_backward = mlp_backward
