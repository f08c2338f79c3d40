"""Exact binary cross-entropy from logits, and its gradient."""

from __future__ import annotations

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import exact
from xentref.exact._doc import mirrors
from xentref.exact._elements import elementwise_gradient, read_elements
from xentref.exact._reduction import add, mask, reduced, scale, weighted
from xentref.exact._sigmoid import sigmoid_of, softplus_of
from xentref.exact._split import Split


def _sigmoid_binary_cross_entropy_of(z, y, pos_weight):
    terms = []
    # A term enters only with a positive coefficient, so 0 * softplus(inf) is
    # 0.
    if y > 0 and pos_weight > 0:
        terms.append(scale(softplus_of(-z), exact(pos_weight) * exact(y)))
    if y < 1:
        terms.append(scale(softplus_of(z), 1 - exact(y)))
    return add(terms)


@mirrors(
    "xentref.sigmoid_binary_cross_entropy",
    "Exact binary cross-entropy from logits.",
    r"\ell(z, y) = w \big[ w_+ y \log(1 + e^{-z}) + (1 - y) \log(1 + e^{z}) "
    r"\big]",
    "loss",
)
def sigmoid_binary_cross_entropy(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    pos_weight: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.sigmoid_binary_cross_entropy(
        logits,
        targets,
        pos_weight=pos_weight,
        weight=weight,
        reduction=reduction,
        where=where,
    )
    _, elements = read_elements(logits, targets, pos_weight, weight)
    return reduced(
        [
            lambda z=z, y=y, a=a, w=w: weighted(
                _sigmoid_binary_cross_entropy_of(z, y, a), w
            )
            for z, y, a, w in elements
        ],
        reduction,
        template,
        "sigmoid_binary_cross_entropy",
        mask(where),
    )


def _sigmoid_binary_cross_entropy_grad_of(z, y, pos_weight):
    r""":math:`(1 - y) \sigma(z) - w_+ y \sigma(-z)` as an exact part and a
    small one.

    With :math:`c = 1 - y + w_+ y` it is :math:`(1 - y) - c \sigma(-z)` for
    :math:`z \ge 0` and :math:`-w_+ y + c \sigma(z)` below, since
    :math:`\sigma(z) + \sigma(-z) = 1`.
    """
    negative, positive = 1 - exact(y), exact(pos_weight) * exact(y)
    both = negative + positive
    if z >= 0:
        return Split(negative, -both * sigmoid_of(-z), -1)
    return Split(-positive, both * sigmoid_of(z), 1)


@mirrors(
    "xentref.grad.sigmoid_binary_cross_entropy",
    "Exact gradient of the binary cross-entropy from logits.",
    r"\frac{\partial \ell}{\partial z} = w \big[ (1 - y) \sigma(z) - w_+ y \, "
    r"\sigma(-z) \big]",
    "grad",
)
def sigmoid_binary_cross_entropy_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    pos_weight: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.sigmoid_binary_cross_entropy(
        logits,
        targets,
        pos_weight=pos_weight,
        weight=weight,
        reduction=reduction,
        where=where,
    )
    _, elements = read_elements(logits, targets, pos_weight, weight)
    return elementwise_gradient(
        template,
        elements,
        _sigmoid_binary_cross_entropy_grad_of,
        reduction,
        "grad.sigmoid_binary_cross_entropy",
        mask(where),
    )
