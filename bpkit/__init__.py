"""bpkit — backpropagation, derived and tested.

A small numpy library whose every function is one step of the chain rule,
written to be read next to its derivation in the book.  Batch-first shapes:
a batch is ``N`` rows, ``X (N, D) @ W (D, H)``.

Modules
-------
layers     forward/backward pairs: dense, sigmoid, tanh, relu, identity
losses     mse_loss, bce_loss, bce_logits_loss -> (loss, gradient)
mlp        init_mlp, mlp_forward, mlp_backward
optim      sgd_step, clip_grads, global_norm
train      train_step, train_mlp, accuracy, train_rnn
gradcheck  numerical_gradient, rel_error, check_gradients
recurrence rnn_step_forward/backward, rnn_forward, rnn_backward (full and truncated
           BPTT), rnn_backward_states
seqmodel   init_rnn, rnn_model_forward/backward, sequence_bce_logits_loss,
           sequence_accuracy
rnn        all the recurrent names above in one namespace (``from bpkit import rnn``)
datasets   xor, delayed_xor
symbolic   SymPy helpers for the chapters (imports SymPy; not imported here)
fast_*     speed-only code a reader can skip: fast_sweep (stacked seed sweeps),
           fast_checks and fast_shortcuts (quick acceptance of valid inputs)
sweep      train_mlp_seeds, xor_seed_sweep (the names of bpkit.fast_sweep)
"""

from . import (datasets, gradcheck, layers, losses, mlp, optim, recurrence, rnn,  # noqa: F401
               seqmodel, sweep, train)
from .datasets import delayed_xor, xor  # noqa: F401
from .gradcheck import check_gradients, max_rel_error, numerical_gradient, rel_error, verdict  # noqa: F401
from .layers import (dense_backward, dense_forward, relu_backward, relu_forward,  # noqa: F401
                     sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward)
from .losses import bce_logits_loss, bce_loss, mse_loss  # noqa: F401
from .mlp import init_mlp, mlp_backward, mlp_forward  # noqa: F401
from .optim import sgd_step  # noqa: F401
from .train import accuracy, train_mlp, train_step  # noqa: F401

__version__ = "0.1.0"
