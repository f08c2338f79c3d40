r"""Analytic gradients of the losses, one function per loss, under the same name.

Each function here takes exactly the arguments of the loss it is named after,
checks them with the same code (so it refuses the same input with the same
message), and returns the derivative of the loss's result with respect to
its first argument (the prediction), in that argument's shape and dtype:

- ``reduction="sum"``: the gradient of the summed loss;
- ``reduction="mean"``: that, divided by the number of losses the mean
  divides by (the same count, so ``"mean"`` is ``"sum"`` divided by it);
- ``reduction="none"``: the gradient of each loss with respect to its own
  inputs, which is the gradient of the sum, since no loss depends on
  another's inputs.

The entries are partial derivatives with every input an independent
variable: probabilities are not constrained to the simplex, and
log-probabilities are not constrained to normalise. Weights and targets are
constants.

Formulas are chosen for accuracy, not transcribed from the textbook: a tiny
gradient such as :math:`\sigma(40) - 1` is formed as :math:`-\sigma(-40)`,
keeping its digits, and gradients with respect to logits are finite for
logits up to :math:`\pm 10^{300}`. Where a loss is infinite the gradient
with respect to probabilities is infinite too; each function's Notes give
its edge values.

Examples
--------
The gradient of the mean binary cross-entropy from logits is
:math:`(\sigma(z) - y) / n`:

>>> import numpy as np
>>> import xentref
>>> from xentref import grad
>>> z, y = np.array([0.0, 2.0]), np.array([1.0, 0.0])
>>> g = grad.sigmoid_binary_cross_entropy(z, y)
>>> bool(np.allclose(g, (1 / (1 + np.exp(-z)) - y) / 2))
True
"""

from xentref._binary_cross_entropy import binary_cross_entropy_grad as binary_cross_entropy
from xentref._nll_loss import nll_loss_grad as nll_loss
from xentref._sigmoid_binary_cross_entropy import (
    sigmoid_binary_cross_entropy_grad as sigmoid_binary_cross_entropy,
)

__all__ = [
    "binary_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "nll_loss",
]
