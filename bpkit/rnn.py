"""Recurrent networks, as one import: the names of :mod:`bpkit.recurrence`,
:mod:`bpkit.seqmodel`, :func:`bpkit.train.train_rnn` and :func:`bpkit.optim.clip_grads`.

``from bpkit import rnn`` then ``rnn.rnn_forward``, ``rnn.train_rnn``, … keeps working as
before the library was split by concept.  Where each name lives:

===================================================  ===========================
names                                                module
===================================================  ===========================
``rnn_step_forward``, ``rnn_step_backward``,         :mod:`bpkit.recurrence`
``rnn_forward``, ``rnn_backward``,                   (the recurrence and BPTT)
``rnn_backward_states``
``init_rnn``, ``rnn_model_forward``,                 :mod:`bpkit.seqmodel`
``rnn_model_backward``, ``sequence_bce_logits_loss``, (the sequence model and its loss)
``sequence_accuracy``, ``PARAM_NAMES``
``train_rnn``, ``RECIPE``                            :mod:`bpkit.train`
``clip_grads``                                       :mod:`bpkit.optim`
===================================================  ===========================
"""

from .optim import clip_grads
from .recurrence import (RNNCache, StepCache, rnn_backward, rnn_backward_states, rnn_forward,
                         rnn_step_backward, rnn_step_forward)
from .seqmodel import (PARAM_NAMES, ModelCache, init_rnn, rnn_model_backward, rnn_model_forward,
                       sequence_accuracy, sequence_bce_logits_loss)
from .train import RNN_RECIPE as RECIPE
from .train import train_rnn

__all__ = [
    "rnn_step_forward", "rnn_step_backward",
    "rnn_forward", "rnn_backward", "rnn_backward_states",
    "init_rnn", "rnn_model_forward", "rnn_model_backward",
    "sequence_bce_logits_loss", "sequence_accuracy", "clip_grads", "train_rnn",
    "PARAM_NAMES", "RECIPE", "StepCache", "RNNCache", "ModelCache",
]

# The problem sets' graders (assignments/) forbid a student's answer to refer to these
# old private names of the functions they ask for; they are the public functions.
_rnn_step_backward = rnn_step_backward
_bptt = rnn_backward
