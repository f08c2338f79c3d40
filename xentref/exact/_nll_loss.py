"""Exact negative log-likelihood and its gradient."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact import _options as options_
from xentref.exact._arrays import exact, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._logsumexp import logits_rows, per_class
from xentref.exact._reduction import add, divisor, reduced


def _selected(log_probs, labels, axis, class_weight, ignore_index, where):
    """Rows, labels, each example's weight (a Fraction, 0 where left out) and the mean's divisor."""
    log_probs, axis, rows = logits_rows(log_probs, axis)
    labels = np.ravel(labels).tolist()
    keep = options_.selection(rows, labels, ignore_index, where)
    weights, weighted = options_.read_weights(class_weight, log_probs.shape[axis], log_probs.dtype)
    per_example = [weights[label] if k else Fraction(0) for label, k in zip(labels, keep)]
    total = sum(per_example, Fraction(0)) if weighted else Fraction(sum(keep))
    return rows, labels, per_example, total, axis


@mirrors(
    "xentref.nll_loss",
    "Exact negative log-likelihood.",
    r"\ell(\log p, y) = -w_y \log p_y",
    "loss",
)
def nll_loss(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
) -> Result:
    options = {"class_weight": class_weight, "ignore_index": ignore_index, "where": where}
    template = xentref.nll_loss(log_probs, labels, axis=axis, reduction=reduction, **options)
    if all(v is None for v in options.values()):
        _, _, rows = logits_rows(log_probs, axis)
        picked = [row[label] for row, label in zip(rows, np.ravel(labels).tolist())]
        return reduced(
            [lambda v=v: math.inf if v == -math.inf else -exact(v) for v in picked],
            reduction, template, "nll_loss",
        )
    rows, labels, weights, total, _ = _selected(log_probs, labels, axis, **options)

    def loss(index):
        weight = weights[index]
        if weight == 0:
            return arb(0)  # a zero weight, or an example left out, even at -inf
        value = rows[index][labels[index]]
        return math.inf if value == -math.inf else -exact(value) * options_.ball(weight)

    if reduction == "none":
        return like(template, [certify(lambda i=i: [loss(i)], template.dtype, "nll_loss")[0] for i in range(len(rows))])

    def value():
        summed = add([loss(i) for i in range(len(rows))])
        if reduction == "mean" and not isinstance(summed, float):
            summed = summed / options_.ball(total)
        return [summed]

    return like(template, certify(value, template.dtype, "nll_loss"))


@mirrors(
    "xentref.grad.nll_loss",
    "Exact gradient of the negative log-likelihood.",
    r"\frac{\partial \ell}{\partial \log p_k} = -w_y [k = y]",
    "grad",
)
def nll_loss_grad(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
) -> Result:
    options = {"class_weight": class_weight, "ignore_index": ignore_index, "where": where}
    template = float_grad.nll_loss(log_probs, labels, axis=axis, reduction=reduction, **options)
    rows, labels, weights, total, axis = _selected(log_probs, labels, axis, **options)
    count = total if reduction == "mean" else Fraction(1)
    if all(v is None for v in options.values()):
        count = Fraction(divisor(len(rows), reduction))

    def row_values(index):
        row, label = rows[index], labels[index]
        value = options_.ball(-weights[index] / count)
        return [value if k == label else arb(0) for k in range(len(row))]

    return per_class(template, axis, range(len(rows)), row_values, "grad.nll_loss")
