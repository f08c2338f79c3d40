"""Exact focal losses and their gradients."""

from __future__ import annotations

import math

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import exact
from xentref.exact._doc import mirrors
from xentref.exact._elements import elementwise_gradient, read_elements
from xentref.exact._logsumexp import Shifted, logits_rows, per_class
from xentref.exact._reduction import add, divisor, mask, reduced, scale
from xentref.exact._sigmoid import sigmoid_of, softplus_of
from xentref.exact._softmax_cross_entropy import _targets
from xentref.exact._split import Split

# The ball [0, 1]: what is known of a quantity in [0, 1] whose ball is too
# wide to say more at the working precision (certify then asks for more).
UNIT = arb(0.5, 0.5)


def power(base, gamma):
    """``base ** gamma`` for an arb ``base`` in [0, 1]: 1 for gamma = 0, 0 for
    an exact zero base.
    """
    if gamma == 0:
        return arb(1)
    if base.is_zero():
        return arb(0)
    if not base > 0:
        return UNIT
    return base ** exact(gamma)


def ratio(numerator, denominator):
    """A quotient known to lie in [0, 1]; UNIT while the denominator's ball
    holds 0.
    """
    return numerator / denominator if denominator > 0 else UNIT


def _alpha_t(alpha, y):
    """alpha y + (1 - alpha)(1 - y), exactly; None for no weighting."""
    if alpha is None:
        return None
    return exact(alpha) * exact(y) + (1 - exact(alpha)) * (1 - exact(y))


def _times(value, weight):
    """``weight * value``; 0 where an exact weight is 0, even against an
    infinity.
    """
    if weight is None:
        return value
    if weight.is_zero():
        return arb(0)
    return scale(value, weight)


def _binary_parts(z, y):
    """sigma(z), sigma(-z), 1 - p_t and the cross-entropy of one element."""
    a, b = sigmoid_of(z), sigmoid_of(-z)
    wrong = (1 - exact(y)) * a + exact(y) * b
    terms = []
    # A term enters only with a positive coefficient, so 0 * softplus(inf) is
    # 0.
    if y > 0:
        terms.append(scale(softplus_of(-z), exact(y)))
    if y < 1:
        terms.append(scale(softplus_of(z), 1 - exact(y)))
    return a, b, wrong, add(terms)


def _sigmoid_focal_of(z, y, gamma, alpha):
    _, _, wrong, cross_entropy = _binary_parts(z, y)
    return _times(
        scale(cross_entropy, power(wrong, gamma)), _alpha_t(alpha, y)
    )


@mirrors(
    "xentref.sigmoid_focal_loss",
    "Exact sigmoid focal loss.",
    r"\ell(z, y) = \alpha_t (1 - p_t)^\gamma \big[ y \log(1 + e^{-z}) + (1 - "
    r"y) \log(1 + e^{z}) \big]",
    "loss",
)
def sigmoid_focal_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.sigmoid_focal_loss(
        logits, targets, gamma=gamma, alpha=alpha, reduction=reduction, where=where
    )
    _, elements = read_elements(logits, targets)
    return reduced(
        [
            lambda z=z, y=y: _sigmoid_focal_of(z, y, gamma, alpha)
            for z, y in elements
        ],
        reduction,
        template,
        "sigmoid_focal_loss",
        mask(where),
    )


def _sigmoid_focal_grad_of(z, y, gamma, alpha):
    a, b, wrong, cross_entropy = _binary_parts(z, y)
    slope = (1 - exact(y)) * a - exact(y) * b
    if math.isinf(z) or gamma == 0:
        # sigma(z) sigma(-z) = 0 at an infinite logit: the focusing term's
        # limit is 0.
        bracket = slope
    else:
        # sigma(z) sigma(-z) / (1 - p_t) lies in [0, 1].
        bracket = slope + exact(gamma) * cross_entropy.ball() * (
            1 - 2 * exact(y)
        ) * ratio(a * b, wrong)
    return _times(power(wrong, gamma) * bracket, _alpha_t(alpha, y))


@mirrors(
    "xentref.grad.sigmoid_focal_loss",
    "Exact gradient of the sigmoid focal loss.",
    r"\frac{\partial \ell}{\partial z} = \alpha_t q^\gamma \Big[ \sigma(z) - y"
    r" + \gamma c (1 - 2y) \frac{\sigma(z) \sigma(-z)}{q} \Big]",
    "grad",
)
def sigmoid_focal_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.sigmoid_focal_loss(
        logits, targets, gamma=gamma, alpha=alpha, reduction=reduction, where=where
    )
    _, elements = read_elements(logits, targets, None)
    return elementwise_gradient(
        template,
        elements,
        lambda z, y: _sigmoid_focal_grad_of(z, y, gamma, alpha),
        reduction,
        "grad.sigmoid_focal_loss",
        mask(where),
    )


class ClassParts:
    """A row's -log p_k (Splits, inf at -inf), 1 - p_k and p_k, exactly.

    ``1 - p_k`` is the sum of the other classes' exponentials over the
    normaliser: positive terms only, and an exact 0 when no other class has
    a finite logit.
    """

    def __init__(self, row):
        self.shifted = shifted = Shifted(row)
        log_normaliser = shifted.log_normaliser()
        denominator = 1 + shifted.rest
        exps = shifted.exps
        self.surprisal = [
            math.inf if gap is None else Split(-gap, log_normaliser, 1)
            for gap in shifted.gaps
        ]
        self.probability = [e / denominator for e in exps]
        self.wrong = [
            add(exps[:k] + exps[k + 1 :]) / denominator
            for k in range(len(exps))
        ]


def _softmax_focal_of(row, target, gamma, alphas):
    parts = ClassParts(row)

    def term(k):
        return _times(
            scale(parts.surprisal[k], power(parts.wrong[k], gamma)), alphas[k]
        )

    if isinstance(target, int):
        return term(target)
    # A zero target contributes 0, even against a -inf logit.
    return add(
        [scale(term(k), exact(t)) for k, t in enumerate(target) if t > 0]
    )


def _alpha_list(alpha, logits, axis):
    if alpha is None:
        return [None] * logits.shape[axis]
    alpha = np.broadcast_to(
        np.asarray(alpha, dtype=np.float64), (logits.shape[axis],)
    )
    with np.errstate(under="ignore"):
        # Read in the dtype of the logits, as the float function reads it.
        alpha = alpha.astype(logits.dtype).tolist()
    return [exact(v) for v in alpha]


@mirrors(
    "xentref.softmax_focal_loss",
    "Exact softmax focal loss.",
    r"\ell(z, t) = -\sum_k \alpha_k t_k (1 - p_k)^\gamma \log p_k",
    "loss",
)
def softmax_focal_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.softmax_focal_loss(
        logits,
        targets,
        gamma=gamma,
        alpha=alpha,
        axis=axis,
        reduction=reduction,
        where=where,
    )
    logits, axis, rows = logits_rows(logits, axis)
    alphas = _alpha_list(alpha, logits, axis)
    examples = zip(rows, _targets(logits, axis, targets))
    return reduced(
        [
            lambda row=row, target=target: _softmax_focal_of(
                row, target, gamma, alphas
            )
            for row, target in examples
        ],
        reduction,
        template,
        "softmax_focal_loss",
        mask(where),
    )


def coefficient_gradient(shifted, coefficients, count):
    r""":math:`p_j \sum_k g_k - g_j` for one row, divided by `count`, as the
    cross-entropy's is formed.
    """
    total = add(coefficients)
    others = add(coefficients[: shifted.top] + coefficients[shifted.top + 1 :])
    denominator = 1 + shifted.rest
    values = [
        Split(-g, e * total / denominator, 1)
        for e, g in zip(shifted.exps, coefficients)
    ]
    # p_m G - g_m = G / (1 + s) - g_m = others - G s / (1 + s)
    values[shifted.top] = Split(
        others, -total * shifted.rest / denominator, -1
    )
    return [value / count for value in values]


def _focal_coefficient(parts, k, gamma, alpha):
    wrong, probability = parts.wrong[k], parts.probability[k]
    if parts.shifted.gaps[k] is None or gamma == 0:
        focusing = arb(1)
    elif wrong.is_zero():
        focusing = 1 + exact(gamma)  # p (-log p) / (1 - p) -> 1 as p -> 1
    else:
        # p (-log p) / (1 - p) lies in [0, 1].
        focusing = 1 + exact(gamma) * ratio(
            probability * parts.surprisal[k].ball(), wrong
        )
    value = power(wrong, gamma) * focusing
    return (
        value
        if alpha is None
        else (arb(0) if alpha.is_zero() else value * alpha)
    )


def _softmax_focal_grad_row(row, target, gamma, alphas, count):
    parts = ClassParts(row)
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(row))]
    coefficients = [
        arb(0)
        if t == 0
        else exact(t) * _focal_coefficient(parts, k, gamma, alphas[k])
        for k, t in enumerate(target)
    ]
    return coefficient_gradient(parts.shifted, coefficients, count)


@mirrors(
    "xentref.grad.softmax_focal_loss",
    "Exact gradient of the softmax focal loss.",
    r"\frac{\partial \ell}{\partial z_j} = p_j \sum_k g_k - g_j, \quad g_k = "
    r"\alpha_k t_k (1 - p_k)^\gamma"
    r" \Big[ 1 + \gamma \frac{p_k (-\log p_k)}{1 - p_k} \Big]",
    "grad",
)
def softmax_focal_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.softmax_focal_loss(
        logits,
        targets,
        gamma=gamma,
        alpha=alpha,
        axis=axis,
        reduction=reduction,
        where=where,
    )
    logits, axis, rows = logits_rows(logits, axis)
    alphas = _alpha_list(alpha, logits, axis)
    keep = mask(where) or [True] * len(rows)
    count = divisor(sum(keep), reduction)
    examples = list(zip(rows, _targets(logits, axis, targets), keep))
    return per_class(
        template,
        axis,
        examples,
        lambda example: selected_row(
            example,
            lambda row, target: _softmax_focal_grad_row(
                row, target, gamma, alphas, count
            ),
        ),
        "grad.softmax_focal_loss",
    )


def selected_row(example, row_values):
    """The gradient of one example ``(row, target, keep)``: exact zeros if it is left out."""
    row, target, keep = example
    return row_values(row, target) if keep else [arb(0)] * len(row)
