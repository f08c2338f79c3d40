"""Exact gradients: :mod:`xentref.grad`'s functions, each value certified and correctly rounded.

Same names, signatures, checks and conventions as :mod:`xentref.grad`
(``"mean"`` divides by the same count, ``"none"`` is the gradient of the
sum, the gradients of :func:`cross_entropy` and :func:`kl_divergence` are
with respect to `q` and summed over the dimensions along which `q` was
broadcast), with the same values at the edges: infinite where the loss is,
one-sided at ``p = y`` in {0, 1} for :func:`binary_cross_entropy`, 0 where
a weight is 0.

>>> import numpy as np
>>> from xentref.exact import grad
>>> float(grad.sigmoid_binary_cross_entropy(40.0, 1.0))  # -sigma(-40)
-4.248354255291589e-18
"""

from xentref.exact._binary import binary_cross_entropy_grad as binary_cross_entropy
from xentref.exact._binary import (
    sigmoid_binary_cross_entropy_grad as sigmoid_binary_cross_entropy,
)
from xentref.exact._information import cross_entropy_grad as cross_entropy
from xentref.exact._information import kl_divergence_grad as kl_divergence
from xentref.exact._softmax import nll_loss_grad as nll_loss
from xentref.exact._softmax import softmax_cross_entropy_grad as softmax_cross_entropy

__all__ = [
    "cross_entropy",
    "kl_divergence",
    "softmax_cross_entropy",
    "binary_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "nll_loss",
]
