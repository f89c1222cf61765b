"""Recurrent networks, as one import: the names of :mod:`bpkit.recurrence`,
:mod:`bpkit.seqmodel`, :func:`bpkit.train.train_rnn` and :func:`bpkit.optim.clip_grads`.

``from bpkit import rnn`` then ``rnn.rnn_forward``, ``rnn.train_rnn``, … keeps working as
before the library was split by concept.  Where each name lives:

* :mod:`bpkit.recurrence` (the recurrence and BPTT): ``rnn_step_forward``,
  ``rnn_step_backward``, ``rnn_forward``, ``rnn_backward``, ``rnn_backward_states``,
  ``StepCache``, ``RNNCache``;
* :mod:`bpkit.seqmodel` (the sequence model and its loss): ``init_rnn``,
  ``rnn_model_forward``, ``rnn_model_backward``, ``sequence_bce_logits_loss``,
  ``sequence_accuracy``, ``PARAM_NAMES``, ``ModelCache``;
* :mod:`bpkit.train`: ``train_rnn`` and its defaults ``RECIPE`` (``RNN_RECIPE`` there);
* :mod:`bpkit.optim`: ``clip_grads``.
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
