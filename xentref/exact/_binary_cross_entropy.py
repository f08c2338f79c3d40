"""Exact binary cross-entropy from probabilities, and its gradient."""

from __future__ import annotations

import math

from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import exact
from xentref.exact._doc import mirrors
from xentref.exact._elements import elementwise_gradient, read_elements
from xentref.exact._reduction import add, mask, reduced, weighted


def _binary_cross_entropy_of(p, y):
    terms = []
    # 0 log 0 = 0: a term enters only with a positive coefficient.
    if y > 0:
        terms.append(math.inf if p == 0 else -exact(y) * exact(p).log())
    if y < 1:
        terms.append(
            math.inf if p == 1 else -(1 - exact(y)) * (-exact(p)).log1p()
        )
    return add(terms)


@mirrors(
    "xentref.binary_cross_entropy",
    "Exact binary cross-entropy.",
    r"\ell(p, y) = -w \big[ y \log p + (1 - y) \log(1 - p) \big]",
    "loss",
)
def binary_cross_entropy(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.binary_cross_entropy(
        probs, targets, weight=weight, reduction=reduction, where=where
    )
    _, elements = read_elements(probs, targets, weight)
    return reduced(
        [
            lambda p=p, y=y, w=w: weighted(_binary_cross_entropy_of(p, y), w)
            for p, y, w in elements
        ],
        reduction,
        template,
        "binary_cross_entropy",
        mask(where),
    )


def _binary_cross_entropy_grad_of(p, y):
    if p == 0:
        # The one-sided derivative of -log(1 - p) where y = 0; else the loss is
        # infinite.
        return arb(1) if y == 0 else -math.inf
    if p == 1:
        return arb(-1) if y == 1 else math.inf
    return (exact(p) - exact(y)) / (exact(p) * (1 - exact(p)))


@mirrors(
    "xentref.grad.binary_cross_entropy",
    "Exact gradient of the binary cross-entropy.",
    r"\frac{\partial \ell}{\partial p} = w \, \frac{p - y}{p (1 - p)}",
    "grad",
)
def binary_cross_entropy_grad(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.binary_cross_entropy(
        probs, targets, weight=weight, reduction=reduction, where=where
    )
    _, elements = read_elements(probs, targets, weight)
    return elementwise_gradient(
        template,
        elements,
        _binary_cross_entropy_grad_of,
        reduction,
        "grad.binary_cross_entropy",
        mask(where),
    )
