"""bpkit.fast_shortcuts: a shortcut says "valid" only when the full boundary check agrees.

Every ``*_ok`` predicate lets a check skip its work for the common, valid case.  It must
never accept what the full check rejects (the error message would be lost), and it must
accept the ordinary valid case (or it is useless).  Each case below changes one argument
of a valid call; whenever the shortcut says True, the full check must pass.

The one exception: the MLP shortcuts leave NaN/inf in ``params`` and ``X`` to the test
of the pre-activations after the forward pass.  There, when the shortcut says True but
the full check fails, the public function must raise exactly the full check's error.
"""

from __future__ import annotations

import numpy as np
import pytest

from bpkit import init_mlp, mlp_forward, train_step, xor
from bpkit import fast_shortcuts as fast
from bpkit.fast_checks import in_unit_interval
from bpkit.losses import _check_bce, _check_bce_logits, _check_mse
from bpkit.mlp import _check_forward
from bpkit.optim import _check_sgd
from bpkit.train import _check_train_step

NAN, INF = np.nan, np.inf


def variants(params, X, Y):
    """(params, X, Y) triples: the valid one first, then one thing wrong in each."""
    out = [(params, X, Y)]
    for key in params:
        for bad in (params[key].astype(np.float32), params[key].astype(int), params[key][..., :0],
                    np.full_like(params[key], NAN), np.full_like(params[key], INF),
                    params[key].T.copy(), params[key].tolist(), params[key][None]):
            out.append(({**params, key: bad}, X, Y))
        out.append(({k: v for k, v in params.items() if k != key}, X, Y))
    out.append(({**params, "W9": np.ones((1, 1))}, X, Y))
    out.append((dict(reversed(params.items())), X, Y))
    out.append((list(params.values()), X, Y))
    for bad in (X.astype(int), X[:, :1], X[:0], X.T.copy(), np.full_like(X, NAN), X[:, :, None]):
        out.append((params, bad, Y))
    for bad in (Y * 2, -Y, Y.astype(int), Y[:1], Y[:, 0], np.full_like(Y, NAN), np.hstack([Y, Y])):
        out.append((params, X, bad))
    return out


def accepted(check, *args):
    try:
        check(*args)
    except (TypeError, ValueError):
        return False
    return True


def error_of(call, *args):
    """The (type, message) of the error ``call(*args)`` raises, or None."""
    try:
        call(*args)
    except (TypeError, ValueError) as exc:
        return type(exc), str(exc)
    return None


@pytest.mark.parametrize("bias", [True, False])
def test_mlp_shortcuts_accept_only_what_the_full_checks_accept(bias):
    X, Y = xor()
    params = init_mlp([2, 3, 1], seed=0, bias=bias)
    assert fast.mlp_forward_ok(params, X, "sigmoid", "sigmoid")
    assert fast.train_step_ok(params, X, Y, 0.5, "sigmoid", "sigmoid", "bce", "mean", 0.0)
    seen_false = 0
    for p, x, y in variants(params, X, Y):
        for hidden, output, loss in [("sigmoid", "sigmoid", "bce"), ("tanh", "identity", "mse"),
                                     ("softmax", "sigmoid", "bce"), ("relu", "tanh", "bce"),
                                     (1, "sigmoid", "bce")]:
            if fast.mlp_forward_ok(p, x, hidden, output):
                full = error_of(_check_forward, p, x, hidden, output)
                assert full is None or error_of(mlp_forward, p, x, hidden, output) == full
            else:
                seen_false += 1
            for lr, momentum, reduction in [(0.5, 0.0, "mean"), (0.5, 0.9, "sum"), (-1.0, 0.0, "mean"),
                                            (np.inf, 0.0, "mean"), (0.5, 1.0, "mean"), (0.5, 0.0, "avg"),
                                            (True, 0.0, "mean"), (1, 0, "mean")]:
                args = (p, x, y, lr, hidden, output, loss, reduction, momentum)
                if fast.train_step_ok(*args):
                    full = error_of(_check_train_step, *args)
                    assert full is None or error_of(train_step, *(a.copy() if k == 0 else a
                                                                  for k, a in enumerate(args))) == full
    assert seen_false > 0


def test_loss_and_sgd_shortcuts_accept_only_what_the_full_checks_accept():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(4, 2))
    y = (rng.uniform(size=(4, 2)) < 0.5).astype(float)
    assert fast.loss_ok(p, y, "mean", True)
    for a in (p, p * 3, -p, p.astype(int), p[:, :1], p.ravel(), np.full_like(p, NAN), p.tolist()):
        for b in (y, y * 2, y.astype(int), y[:3], np.full_like(y, INF)):
            for reduction in ("mean", "sum", "none", 0):
                for check, targets in ((_check_mse, False), (_check_bce_logits, True)):
                    if fast.loss_ok(a, b, reduction, targets):
                        assert accepted(check, a, b, reduction)
                if fast.loss_ok(a, b, reduction, True) and in_unit_interval(a):
                    assert accepted(_check_bce, a, b, reduction)
    params = init_mlp([2, 3, 1], seed=0)
    grads = {k: np.ones_like(v) for k, v in params.items()}
    assert fast.sgd_ok(params, grads, 0.1, 0.0, None)
    cases = [(params, grads), ({**params, "W1": params["W1"].astype(np.float32)}, grads),
             (params, {**grads, "W1": grads["W1"][:1]}), (params, {**grads, "b1": np.full(3, NAN)}),
             (params, {k: v for k, v in grads.items() if k != "b2"}), (params, list(grads.values())),
             (params, {**grads, "W2": grads["W2"].tolist()})]
    for ps, gs in cases:
        for lr, momentum, velocity in [(0.1, 0.0, None), (0.1, 0.5, None), (0.0, 0.0, None),
                                       (0.1, 0.5, {"W1": 1}), (0.1, 0.5, dict(grads)), (0.1, -0.5, None)]:
            if fast.sgd_ok(ps, gs, lr, momentum, velocity):
                assert accepted(_check_sgd, ps, gs, lr, momentum, velocity)
