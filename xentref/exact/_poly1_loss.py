"""Exact Poly-1 losses and their gradients."""

from __future__ import annotations

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import exact
from xentref.exact._doc import mirrors
from xentref.exact._elements import elementwise_gradient, read_elements
from xentref.exact._focal_loss import (
    ClassParts,
    _binary_parts,
    coefficient_gradient,
    selected_row,
)
from xentref.exact._logsumexp import logits_rows, per_class
from xentref.exact._reduction import add, divisor, mask, reduced, scale
from xentref.exact._softmax_cross_entropy import _targets


def _softmax_poly1_of(row, target, epsilon):
    parts = ClassParts(row)
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(row))]
    # A zero target contributes 0, even against a -inf logit.
    cross_entropy = add(
        [
            scale(parts.surprisal[k], exact(t))
            for k, t in enumerate(target)
            if t > 0
        ]
    )
    wrong = add(
        [exact(t) * parts.wrong[k] for k, t in enumerate(target) if t > 0]
    )
    if isinstance(cross_entropy, float) or epsilon == 0:
        return cross_entropy
    return add([cross_entropy, exact(epsilon) * wrong])


@mirrors(
    "xentref.softmax_poly1_loss",
    "Exact softmax Poly-1 loss.",
    r"\ell(z, t) = -\sum_k t_k \log p_k + \epsilon \sum_k t_k (1 - p_k)",
    "loss",
)
def softmax_poly1_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.softmax_poly1_loss(
        logits, targets, epsilon=epsilon, axis=axis, reduction=reduction, where=where
    )
    logits, axis, rows = logits_rows(logits, axis)
    examples = zip(rows, _targets(logits, axis, targets))
    return reduced(
        [
            lambda row=row, target=target: _softmax_poly1_of(
                row, target, epsilon
            )
            for row, target in examples
        ],
        reduction,
        template,
        "softmax_poly1_loss",
        mask(where),
    )


def _softmax_poly1_grad_row(row, target, epsilon, count):
    parts = ClassParts(row)
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(row))]
    coefficients = [
        exact(t) * (1 + exact(epsilon) * parts.probability[k])
        for k, t in enumerate(target)
    ]
    return coefficient_gradient(parts.shifted, coefficients, count)


@mirrors(
    "xentref.grad.softmax_poly1_loss",
    "Exact gradient of the softmax Poly-1 loss.",
    r"\frac{\partial \ell}{\partial z_j} = p_j \sum_k g_k - g_j, \quad g_k = "
    r"t_k (1 + \epsilon p_k)",
    "grad",
)
def softmax_poly1_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.softmax_poly1_loss(
        logits, targets, epsilon=epsilon, axis=axis, reduction=reduction, where=where
    )
    logits, axis, rows = logits_rows(logits, axis)
    keep = mask(where) or [True] * len(rows)
    count = divisor(sum(keep), reduction)
    examples = list(zip(rows, _targets(logits, axis, targets), keep))
    return per_class(
        template,
        axis,
        examples,
        lambda example: selected_row(
            example,
            lambda row, target: _softmax_poly1_grad_row(row, target, epsilon, count),
        ),
        "grad.softmax_poly1_loss",
    )


def _sigmoid_poly1_of(z, y, epsilon):
    _, _, wrong, cross_entropy = _binary_parts(z, y)
    if isinstance(cross_entropy, float) or epsilon == 0:
        return cross_entropy
    return add([cross_entropy, exact(epsilon) * wrong])


@mirrors(
    "xentref.sigmoid_poly1_loss",
    "Exact sigmoid Poly-1 loss.",
    r"\ell(z, y) = y \log(1 + e^{-z}) + (1 - y) \log(1 + e^{z}) + \epsilon (1 "
    r"- p_t)",
    "loss",
)
def sigmoid_poly1_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.sigmoid_poly1_loss(
        logits, targets, epsilon=epsilon, reduction=reduction, where=where
    )
    _, elements = read_elements(logits, targets)
    return reduced(
        [
            lambda z=z, y=y: _sigmoid_poly1_of(z, y, epsilon)
            for z, y in elements
        ],
        reduction,
        template,
        "sigmoid_poly1_loss",
        mask(where),
    )


def _sigmoid_poly1_grad_of(z, y, epsilon):
    a, b, _, _ = _binary_parts(z, y)
    return (
        (1 - exact(y)) * a
        - exact(y) * b
        + exact(epsilon) * (1 - 2 * exact(y)) * a * b
    )


@mirrors(
    "xentref.grad.sigmoid_poly1_loss",
    "Exact gradient of the sigmoid Poly-1 loss.",
    r"\frac{\partial \ell}{\partial z} = \sigma(z) - y + \epsilon (1 - 2y) "
    r"\sigma(z) \sigma(-z)",
    "grad",
)
def sigmoid_poly1_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.sigmoid_poly1_loss(
        logits, targets, epsilon=epsilon, reduction=reduction, where=where
    )
    _, elements = read_elements(logits, targets, None)
    return elementwise_gradient(
        template,
        elements,
        lambda z, y: _sigmoid_poly1_grad_of(z, y, epsilon),
        reduction,
        "grad.sigmoid_poly1_loss",
        mask(where),
    )
