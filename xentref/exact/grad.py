"""Exact gradients: :mod:`xentref.grad`'s functions, each value certified and
correctly rounded.

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

from xentref import grad as _float_grad
from xentref.exact import mirror

__all__ = list(_float_grad.__all__)

for _name in __all__:
    globals()[_name] = mirror(_name, "_grad")
