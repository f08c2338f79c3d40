"""Exact Poly-1 losses and their gradients."""

from __future__ import annotations

import math
from fractions import Fraction

from flint import arb, ctx

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import exact
from xentref.exact._doc import mirrors
from xentref.exact._elements import elementwise_gradient, read_elements
from xentref.exact._focal_loss import (
    ClassParts,
    _binary_parts,
    selected_row,
)
from xentref.exact._logsumexp import logits_rows, per_class
from xentref.exact._options import _sign
from xentref.exact._reduction import add, divisor, mask, reduced, scale
from xentref.exact._softmax_cross_entropy import _targets, tie_count, tied_rationals
from xentref.exact._split import Rational, Split


def poly1_term(parts, k, epsilon):
    r""":math:`-\log p_k + \epsilon (1 - p_k)`, split as the cross-entropy's is.

    Away from the maximum it is :math:`-g_k + \epsilon` (exact) plus
    :math:`L - \epsilon p_k`, whose sign the ball decides once it excludes
    0 (for a far class both are slivers such as :math:`e^{-10^{16}}`); until
    then the sum is returned as a ball, refined at a higher precision.
    """
    shifted = parts.shifted
    gap = shifted.gaps[k]
    if gap is None:
        return math.inf
    log_normaliser = shifted.log_normaliser()
    if k == shifted.top:
        return log_normaliser + exact(epsilon) * parts.wrong[k]
    # L - eps p_k = e_k [(S - eps) + S (phi(s) - 1) + eps s / (1 + s)], with
    # S = s / e_k from the exact differences of gaps (ties count exactly 1)
    # and phi(s) = log1p(s) / s, whose difference from 1 lies in [-s/2, 0].
    rest = shifted.rest
    relative = add([arb(0) if other is None else (other - gap).exp()
                    for j, other in enumerate(shifted.gaps) if j != shifted.top])
    if rest < arb(2) ** -ctx.prec:
        curvature = arb(0).union(-rest / 2)
    else:
        curvature = (log_normaliser - rest) / rest
    bracket = (relative - exact(epsilon)) + relative * curvature + exact(epsilon) * rest / (1 + rest)
    small = shifted.exps[k] * bracket
    if bracket > 0:
        return Split(exact(epsilon) - gap, small, 1)
    if bracket < 0:
        return Split(exact(epsilon) - gap, small, -1)
    return exact(epsilon) - gap + small


def _softmax_poly1_of(row, target, epsilon):
    parts = ClassParts(row)
    if isinstance(target, int):
        return poly1_term(parts, target, epsilon)
    # A zero target contributes 0, even against a -inf logit.
    return add([scale(poly1_term(parts, k, epsilon), exact(t)) for k, t in enumerate(target) if t > 0])


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
    shifted, p = parts.shifted, parts.probability
    t = [exact(v) for v in target]
    # g_k = t_k + t_k eps p_k: the targets exact, the rest a correction.
    corrections = [t_k * exact(epsilon) * p_k for t_k, p_k in zip(t, p)]
    total = add(t) + add(corrections)
    values = [_signed(-t_k, p_k * total - c_k) for t_k, p_k, c_k in zip(t, p, corrections)]
    if shifted.ties:
        # The far entries keep their Splits: -t_k beside a sliver.
        tied = _tied_gradient(shifted, target, epsilon)
        values = [value if entry is None else entry for value, entry in zip(values, tied)]
        return [value / count for value in values]
    # p_m G - g_m = sum_{k != m} g_k - G s / (1 + s)
    top = shifted.top
    others = [k for k in range(len(t)) if k != top]
    values[top] = _signed(add([t[k] for k in others]),
                          add([corrections[k] for k in others]) - total * shifted.rest / (1 + shifted.rest))
    return [value / count for value in values]


def _tied_gradient(shifted, target, epsilon):
    r"""The entries at :math:`n` tied maxima (None at the others), far entries aside.

    Without the far terms, :math:`p_k = 1/n` and :math:`g_k = t_k (1 +
    \epsilon/n)`, so the entry is the cross-entropy's rational at ties
    with targets :math:`g`. The far terms, with :math:`r = \sum e_j` and
    :math:`B = \sum t_j e_j` over them and :math:`D = n + r`, add

    .. math::
        \delta_k = -\frac{r (T - \epsilon t_k)}{n D}
        - \frac{\epsilon A r (2n + r)}{n^2 D^2} + \frac{\epsilon B}{D^2},

    :math:`A` the tied targets' sum: a sliver whose sign decides the
    rounding when the rational is a midpoint between two floats.
    """
    n = tie_count(shifted)
    eps = Fraction(epsilon)
    t = [Fraction(v) for v in target]
    g = [t_k * (1 + eps / n) if near else t_k for t_k, near in zip(t, shifted.near)]
    far = [not near for near in shifted.near]
    # r and B from the far exponentials alone, so that they keep their relative accuracy.
    r = add([e for e, is_far in zip(shifted.exps, far) if is_far])
    b = add([exact(t_k) * e for t_k, e, is_far in zip(t, shifted.exps, far) if is_far])
    a = exact(sum((t_k for t_k, near in zip(t, shifted.near) if near), Fraction(0)))
    total, d = exact(sum(t, Fraction(0))), n + r
    values = []
    for t_k, rational in zip(t, tied_rationals(shifted, g)):
        if rational is None:
            values.append(None)
            continue
        delta = (-r * (total - exact(eps * t_k)) / (n * d) - exact(eps) * a * r * (2 * n + r) / (n * n * d * d)
                 + exact(eps) * b / (d * d))
        sign = _sign(delta)
        values.append(exact(rational) + delta if sign is None else Rational(rational, sign))
    return values


def _signed(main, small):
    """``main + small`` as a Split once the ball of `small` has a sign; until then a ball."""
    if small > 0:
        return Split(main, small, 1)
    if small < 0:
        return Split(main, small, -1)
    if small.is_zero():
        return main
    return main + small


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
