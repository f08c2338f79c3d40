r"""Analytic gradients of the losses: one function per loss, under its name.

``xentref.grad.f`` takes exactly the arguments of ``xentref.f``, checks them
with the same code (so it refuses the same input with the same message), and
returns the derivative of the loss's result with respect to the prediction,
in the prediction's shape and dtype. The prediction is the first argument
(`logits`, `probs`, `log_probs`), except for :func:`cross_entropy` and
:func:`kl_divergence`, whose prediction is their second argument, `q`.

- ``reduction="sum"``: the gradient of the summed loss.
- ``reduction="mean"``: that, divided by the count the loss's mean divides
  by (the number of examples, or of elements for the binary losses).
- ``reduction="none"``: the gradient of each loss with respect to its own
  inputs. No loss depends on another's inputs, so this is the same array as
  the gradient of the sum.
- :func:`cross_entropy` and :func:`kl_divergence` have no `reduction`: they
  return one value per pair of distributions, and the gradient is that of
  their sum (summed over the dimensions along which `q` was broadcast).

The entries are partial derivatives with every input an independent
variable: probabilities are not constrained to the simplex, nor
log-probabilities to normalise. Targets and weights are constants.

The formulas are arranged for accuracy: a tiny gradient such as
:math:`\sigma(40) - 1` is formed as :math:`-\sigma(-40)` and keeps its
digits, and gradients with respect to logits are finite for every valid
logit, up to :math:`\pm 10^{300}` and beyond. With respect to
probabilities the gradient is infinite where the loss is; each function's
Notes give its values at the edges.

For example, the gradient of the mean binary cross-entropy from logits is
:math:`(\sigma(z) - y) / n`:

>>> import numpy as np
>>> import xentref
>>> from xentref import grad
>>> z, y = np.array([0.0, 2.0]), np.array([1.0, 0.0])
>>> g = grad.sigmoid_binary_cross_entropy(z, y)
>>> bool(np.allclose(g, (1 / (1 + np.exp(-z)) - y) / 2))
True

Through ``log_softmax`` the gradient of :func:`nll_loss` becomes that of
:func:`softmax_cross_entropy` (the Jacobian of ``log_softmax`` maps
:math:`g` to :math:`g - \operatorname{softmax}(z) \sum_k g_k`):

>>> z, labels = np.array([[2.0, 1.0, -1.0]]), [1]
>>> g = grad.nll_loss(xentref.log_softmax(z), labels)
>>> through = g - xentref.softmax(z) * g.sum(axis=-1, keepdims=True)
>>> bool(np.allclose(through, grad.softmax_cross_entropy(z, labels)))
True
"""

import sys

import xentref

__all__ = []

# The gradient of a public loss ``f`` is ``f_grad`` in the module that
# defines ``f``; every loss is listed here under its own name.
for _name in xentref.__all__:
    _gradient = getattr(
        sys.modules[getattr(xentref, _name).__module__], f"{_name}_grad", None
    )
    if _gradient is not None:
        globals()[_name] = _gradient
        __all__.append(_name)
