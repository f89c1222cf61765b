r"""A multi-layer perceptron built from :mod:`bpkit.layers`.

For layer :math:`i = 1 \dots L` with :math:`a_0 = X`:

.. math::
    z_i = a_{i-1} W_i + b_i,\qquad a_i = f_i(z_i),\qquad \hat Y = a_L

where :math:`f_i` is the ``hidden`` activation for :math:`i < L` and the ``output``
activation for :math:`i = L`.  :func:`mlp_backward` walks the same steps in
reverse, one ``*_backward`` call per forward step:

.. math::
    dz_i = f_i'(z_i) \odot da_i,\quad dW_i = a_{i-1}^\top dz_i,\quad
    db_i = \textstyle\sum_n dz_i,\quad da_{i-1} = dz_i W_i^\top
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._validate import all_finite, as_array, check_option, check_shape, is_f64
from .layers import ACTIVATIONS

__all__ = ["init_mlp", "mlp_forward", "mlp_backward", "Params", "INITS"]

Params = dict  # dict[str, np.ndarray]: "W1", "b1", "W2", "b2", ...

#: Weight initialisations understood by :func:`init_mlp`.
INITS = ("xavier", "uniform")


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
        ``"xavier"``: Glorot-uniform, :math:`W_i \sim U(-r, r)` with
        :math:`r = \sqrt{6/(\text{fan-in} + \text{fan-out})}`, from
        ``np.random.default_rng(seed)``.
        ``"uniform"``: :math:`W_i \sim U(-1, 1)` drawn in layer order from the legacy
        ``np.random.RandomState(seed)``, i.e. exactly the numbers
        ``np.random.seed(seed); 2 * np.random.random(shape) - 1`` gives (the source
        article's initialisation).
    bias : bool
        Include bias vectors ``b_i`` (initialised to zero).  ``False`` gives a
        network without biases, like the source article's.

    Returns
    -------
    params : dict of str to ndarray
        ``"W1"`` of shape (sizes[0], sizes[1]), ``"b1"`` of shape (sizes[1],),
        ``"W2"`` ... up to ``"WL"``, ``"bL"``.
    """
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
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    check_option("init", init, INITS)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias must be a bool, got {type(bias).__name__}")
    params: dict[str, np.ndarray] = {}
    if init == "uniform":
        rs = np.random.RandomState(seed)
        draw = lambda fan_in, fan_out: 2 * rs.random_sample((fan_in, fan_out)) - 1  # noqa: E731
    else:
        rng = np.random.default_rng(seed)
        draw = lambda fan_in, fan_out: rng.uniform(  # noqa: E731
            -1.0, 1.0, (fan_in, fan_out)) * np.sqrt(6.0 / (fan_in + fan_out))
    for i in range(1, len(sizes)):
        params[f"W{i}"] = draw(sizes[i - 1], sizes[i])
        if bias:
            params[f"b{i}"] = np.zeros(sizes[i])
    return params


def _check_params(params):
    """Return (layers, has_bias) after checking keys and shapes (values: see mlp_forward)."""
    if type(params) is not dict:
        if not isinstance(params, dict):
            raise TypeError(f"params must be a dict of arrays ('W1', 'b1', ...), "
                            f"got {type(params).__name__}")
    has_bias = "b1" in params
    L = len(params) // 2 if has_bias else len(params)
    layers = []
    prev = None
    try:  # fast path: float64 arrays of consistent shapes under the expected keys
        for i in range(1, L + 1):
            W = params[_W[i]]
            b = params[_B[i]] if has_bias else None
            if not (is_f64(W, 2) and (prev is None or W.shape[0] == prev)
                    and (b is None or (is_f64(b, 1) and b.shape[0] == W.shape[1]))):
                raise LookupError
            prev = W.shape[1]
            layers.append((W, b))
        if L == 0 or (has_bias and len(params) % 2):
            raise LookupError
        return layers, has_bias
    except (LookupError, IndexError):
        return _check_params_slow(params)


_W = [f"W{i}" for i in range(64)]
_B = [f"b{i}" for i in range(64)]


def _check_params_slow(params):
    L = 0
    while f"W{L + 1}" in params:
        L += 1
    if L == 0:
        raise ValueError(f"params must contain 'W1', got keys {sorted(params)}")
    has_bias = "b1" in params
    if len(params) != (2 * L if has_bias else L):
        expected = {f"{p}{i}" for i in range(1, L + 1) for p in ("Wb" if has_bias else "W")}
        extra, missing = sorted(set(params) - expected), sorted(expected - set(params))
        raise ValueError(f"params must hold 'W1'..'W{L}'" + (f" and 'b1'..'b{L}'" if has_bias else "")
                         + f"; unexpected keys {extra}, missing keys {missing}")
    layers = []
    prev = None
    for i in range(1, L + 1):
        W = as_array(f"params['W{i}']", params[f"W{i}"], 2, finite=False)
        if prev is not None:
            check_shape(f"params['W{i}']", W, (prev, None), f"rows must match W{i - 1}'s {prev} columns")
        prev = W.shape[1]
        b = None
        if has_bias:
            b = as_array(f"params['b{i}']", params[f"b{i}"], 1, finite=False)
            check_shape(f"params['b{i}']", b, (prev,), f"one entry per column of W{i}")
        layers.append((W, b))
    return layers, has_bias


def _nonfinite(X, params, i):
    """Name the culprit when layer i's pre-activation is not finite."""
    for name, arr in [("X", X)] + [(f"params[{k!r}]", v) for k, v in params.items()]:
        arr = np.asarray(arr)
        if not np.isfinite(arr).all():
            bad = "NaN" if np.isnan(arr).any() else "inf"
            return ValueError(f"{name} must be finite, got an array containing {bad}")
    return ValueError(f"the pre-activation of layer {i} overflowed to inf/NaN with finite inputs; "
                      f"the weights have diverged (lower the learning rate)")


def mlp_forward(params: dict[str, np.ndarray], X: np.ndarray,
                hidden: str = "sigmoid", output: str = "sigmoid"
                ) -> tuple[np.ndarray, tuple]:
    r"""Forward pass :math:`a_i = f_i(a_{i-1} W_i + b_i)`, :math:`\hat Y = a_L`.

    Parameters
    ----------
    params : dict of str to ndarray
        As made by :func:`init_mlp`: ``W_i`` of shape (H_{i-1}, H_i) and, if the net
        has biases, ``b_i`` of shape (H_i,).
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
    cache : tuple
        Everything :func:`mlp_backward` needs.
    """
    if hidden not in ACTIVATIONS:
        check_option("hidden", hidden, ACTIVATIONS)
    if output not in ACTIVATIONS:
        check_option("output", output, ACTIVATIONS)
    layers, has_bias = _check_params(params)
    if not is_f64(X, 2):
        X = as_array("X", X, 2, finite=False)
    if X.shape[1] != layers[0][0].shape[0] or X.shape[0] == 0:
        as_array("X", X, 2, finite=False)  # names an empty batch
        check_shape("X", X, (None, layers[0][0].shape[0]), "columns must match the rows of W1")
    a = X
    steps = []
    last = len(layers) - 1
    hidden_fb, output_fb = ACTIVATIONS[hidden], ACTIVATIONS[output]
    for i, (W, b) in enumerate(layers):
        z = a @ W                     # dense step, as layers.dense_forward
        if b is not None:
            z += b
        # NaN/inf anywhere in X, W_i or b_i makes z_i non-finite: one check per layer
        if not all_finite(z):
            raise _nonfinite(X, params, i + 1)
        fwd, bwd = output_fb if i == last else hidden_fb
        a_prev = a
        a, act_cache = fwd(z)
        steps.append((a_prev, W, bwd, act_cache))
    return a, (steps, has_bias, a.shape)


def mlp_backward(dY: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    r"""Backward pass through every step of :func:`mlp_forward`, last layer first.

    Parameters
    ----------
    dY : ndarray, shape (N, K)
        :math:`\partial L/\partial \hat Y`, e.g. the second return value of a loss.
    cache : tuple
        From :func:`mlp_forward`.

    Returns
    -------
    grads : dict of str to ndarray
        ``"W1"``, ``"b1"``, ... with the same keys and shapes as ``params``
        (no ``b`` keys for a net without biases).
    """
    if type(cache) is not tuple or len(cache) != 3 or type(cache[0]) is not list:
        raise TypeError(f"cache must be the tuple returned by mlp_forward, got {type(cache).__name__}")
    steps, has_bias, out_shape = cache
    if not (is_f64(dY, 2) and dY.shape == out_shape and all_finite(dY)):
        dY = as_array("dY", dY, 2)
        check_shape("dY", dY, out_shape, "the shape of mlp_forward's output Y")
    return _mlp_backward(dY, cache)


def _mlp_backward(dY, cache):
    steps, has_bias, _ = cache
    pairs = []
    da = dY
    for i in range(len(steps), 0, -1):
        a_prev, W, bwd, act_cache = steps[i - 1]
        dz = bwd(da, act_cache)       # activation step, as layers.*_backward
        if has_bias:
            pairs.append((_B[i], dz.sum(axis=0)))
        pairs.append((_W[i], a_prev.T @ dz))   # dense step, as layers.dense_backward
        if i > 1:  # dX of the input layer is not needed
            da = dz @ W.T
    return dict(reversed(pairs))
