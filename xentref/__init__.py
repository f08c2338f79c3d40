"""xentref: a verified reference implementation of cross-entropy losses.

Probabilities or logits, along a class axis that defaults to the last one.
Every function checks its input and raises ``TypeError`` or ``ValueError``
with the argument's name rather than clipping or renormalising.
:mod:`xentref.grad` holds the analytic gradient of each loss, and
:mod:`xentref.value_and_grad` a loss with its gradient from one pass.
"""

from xentref._binary_cross_entropy import binary_cross_entropy
from xentref._binning import binned_targets, expected_value, two_hot_targets
from xentref._brier_score import brier_score
from xentref._class_balanced_weights import class_balanced_weights
from xentref._ctc_loss import ctc_loss
from xentref._distillation_loss import distillation_loss
from xentref._expected_calibration_error import expected_calibration_error
from xentref._focal_loss import sigmoid_focal_loss, softmax_focal_loss
from xentref._hl_gauss import hl_gauss_targets
from xentref._information import cross_entropy, entropy, kl_divergence
from xentref._kl_divergence_of_log_probs import kl_divergence_of_log_probs
from xentref._linear_softmax_cross_entropy import linear_softmax_cross_entropy
from xentref._logsumexp import log_softmax, logsumexp, softmax
from xentref._nll_loss import nll_loss
from xentref._perplexity import bits_per_byte, bits_per_character, bits_per_token, perplexity
from xentref._poly1_loss import sigmoid_poly1_loss, softmax_poly1_loss
from xentref._sequence_softmax_cross_entropy import micro_batch_token_mean, sequence_softmax_cross_entropy
from xentref._sigmoid import log_sigmoid, sigmoid, softplus
from xentref._sigmoid_binary_cross_entropy import sigmoid_binary_cross_entropy
from xentref._softmax_cross_entropy import softmax_cross_entropy
from xentref._symlog import symexp, symlog

__version__ = "0.1.0"

__all__ = [
    "entropy",
    "cross_entropy",
    "kl_divergence",
    "logsumexp",
    "log_softmax",
    "softmax",
    "softmax_cross_entropy",
    "sigmoid",
    "log_sigmoid",
    "softplus",
    "binary_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "nll_loss",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "softmax_poly1_loss",
    "sigmoid_poly1_loss",
    "class_balanced_weights",
    "kl_divergence_of_log_probs",
    "distillation_loss",
    "brier_score",
    "expected_calibration_error",
    "linear_softmax_cross_entropy",
    "binned_targets",
    "two_hot_targets",
    "hl_gauss_targets",
    "expected_value",
    "symlog",
    "symexp",
    "sequence_softmax_cross_entropy",
    "micro_batch_token_mean",
    "perplexity",
    "bits_per_token",
    "bits_per_byte",
    "bits_per_character",
    "ctc_loss",
]

# Imported last: they list the gradients of the names above.
from xentref import grad as grad
from xentref import value_and_grad as value_and_grad

