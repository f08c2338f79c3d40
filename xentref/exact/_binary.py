"""Exact binary cross-entropy, from probabilities and from logits, and the gradients."""

import math

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref.exact._arrays import exact, floats, in_dtype, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._reduction import add, divisor, reduced, scale, weighted
from xentref.exact._sigmoid import sigmoid_of, softplus_of
from xentref.exact._split import Split


def _elements(first, *others):
    """Python floats of `first` and of each other argument, read in its dtype and broadcast to its shape.

    An argument that is None (an absent weight) reads as 1.
    """
    first = floats(first)
    columns = [first.ravel().tolist()]
    for other in others:
        other = 1.0 if other is None else in_dtype(other, first.dtype)
        columns.append(np.broadcast_to(other, first.shape).ravel().tolist())
    return first, list(zip(*columns))


def _binary_cross_entropy_of(p, y):
    terms = []
    # 0 log 0 = 0: a term enters only with a positive coefficient.
    if y > 0:
        terms.append(math.inf if p == 0 else -exact(y) * exact(p).log())
    if y < 1:
        terms.append(math.inf if p == 1 else -(1 - exact(y)) * (-exact(p)).log1p())
    return add(terms)


@mirrors(
    "xentref.binary_cross_entropy", "Exact binary cross-entropy.",
    r"\ell(p, y) = -w \big[ y \log p + (1 - y) \log(1 - p) \big]", "loss",
)
def binary_cross_entropy(probs, targets, *, weight=None, reduction="mean"):
    template = xentref.binary_cross_entropy(probs, targets, weight=weight, reduction=reduction)
    _, elements = _elements(probs, targets, weight)
    return reduced(
        [lambda p=p, y=y, w=w: weighted(_binary_cross_entropy_of(p, y), w) for p, y, w in elements],
        reduction, template, "binary_cross_entropy",
    )


def _binary_cross_entropy_grad_of(p, y):
    if p == 0:
        # The one-sided derivative of -log(1 - p) where y = 0; else the loss is infinite.
        return arb(1) if y == 0 else -math.inf
    if p == 1:
        return arb(-1) if y == 1 else math.inf
    return (exact(p) - exact(y)) / (exact(p) * (1 - exact(p)))


def _elementwise_gradient(template, elements, value, reduction, name):
    count = divisor(len(elements), reduction)
    return like(template, [
        certify(lambda element=element: [weighted(value(*element[:-1]), element[-1], count)],
                template.dtype, name)[0]
        for element in elements
    ])


@mirrors(
    "xentref.grad.binary_cross_entropy", "Exact gradient of the binary cross-entropy.",
    r"\frac{\partial \ell}{\partial p} = w \, \frac{p - y}{p (1 - p)}", "grad",
)
def binary_cross_entropy_grad(probs, targets, *, weight=None, reduction="mean"):
    template = float_grad.binary_cross_entropy(probs, targets, weight=weight, reduction=reduction)
    _, elements = _elements(probs, targets, weight)
    return _elementwise_gradient(
        template, elements, _binary_cross_entropy_grad_of, reduction, "grad.binary_cross_entropy"
    )


def _sigmoid_binary_cross_entropy_of(z, y, pos_weight):
    terms = []
    # A term enters only with a positive coefficient, so 0 * softplus(inf) is 0.
    if y > 0 and pos_weight > 0:
        terms.append(scale(softplus_of(-z), exact(pos_weight) * exact(y)))
    if y < 1:
        terms.append(scale(softplus_of(z), 1 - exact(y)))
    return add(terms)


@mirrors(
    "xentref.sigmoid_binary_cross_entropy", "Exact binary cross-entropy from logits.",
    r"\ell(z, y) = w \big[ w_+ y \log(1 + e^{-z}) + (1 - y) \log(1 + e^{z}) \big]", "loss",
)
def sigmoid_binary_cross_entropy(logits, targets, *, pos_weight=None, weight=None, reduction="mean"):
    template = xentref.sigmoid_binary_cross_entropy(
        logits, targets, pos_weight=pos_weight, weight=weight, reduction=reduction
    )
    _, elements = _elements(logits, targets, pos_weight, weight)
    return reduced(
        [lambda z=z, y=y, a=a, w=w: weighted(_sigmoid_binary_cross_entropy_of(z, y, a), w)
         for z, y, a, w in elements],
        reduction, template, "sigmoid_binary_cross_entropy",
    )


def _sigmoid_binary_cross_entropy_grad_of(z, y, pos_weight):
    r""":math:`(1 - y) \sigma(z) - w_+ y \sigma(-z)` as an exact part and a small one.

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
    r"\frac{\partial \ell}{\partial z} = w \big[ (1 - y) \sigma(z) - w_+ y \, \sigma(-z) \big]",
    "grad",
)
def sigmoid_binary_cross_entropy_grad(
    logits, targets, *, pos_weight=None, weight=None, reduction="mean"
):
    template = float_grad.sigmoid_binary_cross_entropy(
        logits, targets, pos_weight=pos_weight, weight=weight, reduction=reduction
    )
    _, elements = _elements(logits, targets, pos_weight, weight)
    return _elementwise_gradient(
        template, elements, _sigmoid_binary_cross_entropy_grad_of, reduction,
        "grad.sigmoid_binary_cross_entropy",
    )
