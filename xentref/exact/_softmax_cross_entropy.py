"""Exact softmax cross-entropy and its gradient."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact import _options as options_
from xentref.exact._arrays import class_rows, exact, in_dtype, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._logsumexp import Shifted, logits_rows, per_class
from xentref.exact._reduction import add, divisor, reduced, scale
from xentref.exact._split import Rational, Split


def _targets(logits, axis, targets):
    """Each example's targets as a list of K probabilities, or its integer label.

    Targets with the rank of `logits` are probabilities, read in the dtype
    of `logits`; otherwise they are labels, as in the float function.
    """
    targets = np.asarray(targets)
    if targets.ndim == logits.ndim:
        return class_rows(in_dtype(targets, logits.dtype), axis)
    return targets.ravel().tolist()


def _loss(row, target):
    shifted = Shifted(row)
    log_normaliser = shifted.log_normaliser()

    def term(k):
        gap = shifted.gaps[k]
        return math.inf if gap is None else Split(-gap, log_normaliser, 1)

    if isinstance(target, int):
        return term(target)
    # A zero target contributes 0, even against a -inf logit.
    return add([scale(term(k), exact(t)) for k, t in enumerate(target) if t > 0])


@mirrors(
    "xentref.softmax_cross_entropy", "Exact softmax cross-entropy.",
    r"\ell(z, t) = -\sum_k t_k \log \operatorname{softmax}(z)_k", "loss",
)
def softmax_cross_entropy(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
) -> Result:
    options = {"class_weight": class_weight, "ignore_index": ignore_index, "where": where,
               "label_smoothing": label_smoothing, "smoothing": smoothing, "z_loss": z_loss}
    template = xentref.softmax_cross_entropy(logits, targets, axis=axis, reduction=reduction, **options)
    if _has_options(options):
        return _losses_with_options(logits, targets, axis, reduction, template, options)
    logits, axis, rows = logits_rows(logits, axis)
    examples = zip(rows, _targets(logits, axis, targets))
    return reduced(
        [lambda row=row, target=target: _loss(row, target) for row, target in examples],
        reduction, template, "softmax_cross_entropy",
    )


def _gradient(row, target, count):
    r"""softmax_k T - t_k for one example, divided by `count`.

    At the top index the difference is formed as
    :math:`\sum_{k \ne m} t_k - T s / (1 + s)`, its exact value without
    the cancellation of :math:`T/(1 + s) - t_m`, which no precision could
    resolve for logits such as :math:`(10^{300}, 0)`.
    """
    shifted = Shifted(row)
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(row))]
    if shifted.ties:
        return _gradient_at_ties(shifted, target, count)
    t = [exact(v) for v in target]
    total = add(t)
    others = add(t[:shifted.top] + t[shifted.top + 1:])
    denominator = 1 + shifted.rest
    # With ties at the maximum and gaps below FAR, the near part is exact
    # (T/2 - t_k, say) and the far terms lower every entry by a sliver.
    near_denominator = 1 + shifted.near_rest
    values = [
        Split(-t_k + e * total / near_denominator, e * total * (1 / denominator - 1 / near_denominator), -1)
        if near else Split(-t_k, e * total / denominator, 1)
        for e, t_k, near in zip(shifted.exps, t, shifted.near)
    ]
    # softmax_m T - t_m = T / (1 + s) - t_m = others - T s / (1 + s)
    near_fraction = shifted.near_rest / near_denominator
    values[shifted.top] = Split(
        others - total * near_fraction, -total * (shifted.rest / denominator - near_fraction), -1,
    )
    return [value / count for value in values]


def _gradient_at_ties(shifted, target, count):
    r"""The gradient when every near gap is 0: :math:`n` tied maxima and far entries.

    The tied entries are the rationals :math:`T/n - t_k` lowered by the far
    terms' sliver; the far entries are :math:`-t_k` plus their own tiny
    probability.
    """
    t = [Fraction(v) for v in target]
    far = shifted.rest.is_zero() is False and any(
        not near and gap is not None for near, gap in zip(shifted.near, shifted.gaps)
    )
    sliver = -1 if far else 0
    denominator = 1 + shifted.rest
    return [
        Rational(rational, sliver) / count if rational is not None
        else Split(-exact(float(t_k)), e * exact_sum(t) / denominator, 1) / count
        for e, t_k, rational in zip(shifted.exps, t, tied_rationals(shifted, t))
    ]


def tie_count(shifted):
    """The number :math:`n` of entries tied at the maximum, the top one included."""
    return 1 + sum(1 for k, near in enumerate(shifted.near) if near and k != shifted.top)


def tied_rationals(shifted, targets):
    r"""At :math:`n` tied maxima, :math:`\operatorname{softmax}_k T - t_k` without the far terms.

    That is the rational :math:`T/n - t_k` at each tied entry (None at the
    others), with :math:`T = \sum_j t_j` over every entry; `targets` are
    Fractions. The far terms change each of these by a sliver only.
    """
    share = sum(targets, Fraction(0)) / tie_count(shifted)
    return [share - t_k if near else None for t_k, near in zip(targets, shifted.near)]


def exact_sum(values):
    """The sum of Fractions as an exact arb (they are floats, so the sum is dyadic)."""
    return add([exact(float(v)) for v in values])


@mirrors(
    "xentref.grad.softmax_cross_entropy", "Exact gradient of the softmax cross-entropy.",
    r"\frac{\partial \ell}{\partial z_k} = \operatorname{softmax}(z)_k \sum_j t_j - t_k", "grad",
)
def softmax_cross_entropy_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
) -> Result:
    options = {"class_weight": class_weight, "ignore_index": ignore_index, "where": where,
               "label_smoothing": label_smoothing, "smoothing": smoothing, "z_loss": z_loss}
    template = float_grad.softmax_cross_entropy(logits, targets, axis=axis, reduction=reduction, **options)
    if _has_options(options):
        return _gradient_with_options(logits, targets, axis, reduction, template, options)
    logits, axis, rows = logits_rows(logits, axis)
    count = divisor(len(rows), reduction)
    examples = list(zip(rows, _targets(logits, axis, targets)))
    return per_class(
        template, axis, examples, lambda example: _gradient(*example, count),
        "grad.softmax_cross_entropy",
    )


# With class weights, a selection, label smoothing or z-loss ------------------------------


def _has_options(options):
    return any(options[name] is not None for name in ("class_weight", "ignore_index", "where")) or bool(
        options["label_smoothing"] or options["z_loss"]
    )


class Examples:
    """The rows, targets, selection and coefficients of a call with options, exactly.

    `rows` are the examples' logits (lists of floats or Fractions),
    `targets` their labels or probability lists, `dtype` that of the
    prediction, in which the class weights are read.
    """

    def __init__(self, rows, targets, n_classes, dtype, options):
        self.rows, self.n_classes, self.targets = rows, n_classes, targets
        self.weights, self.weighted = options_.read_weights(options["class_weight"], self.n_classes, dtype)
        self.keep = options_.selection(self.rows, self.targets, options["ignore_index"], options["where"])
        # The float function reads both as Python floats.
        self.z_loss = Fraction(float(options["z_loss"]))
        epsilon, smoothing = Fraction(float(options["label_smoothing"])), options["smoothing"]
        self.coefficients = [
            options_.coefficients(target, self.n_classes, self.weights, epsilon, smoothing) if keep else None
            for target, keep in zip(self.targets, self.keep)
        ]
        self.count = sum(self.keep)

    def weight_total(self):
        """The mean's divisor of the cross-entropy: the targets' total weight, or the count."""
        if not self.weighted:
            return Fraction(self.count)
        return sum((options_.target_weight(t, self.n_classes, self.weights)
                    for t, keep in zip(self.targets, self.keep) if keep), Fraction(0))

    def parts(self, index):
        """The exact cross-entropy and z-loss of example `index` (0 and 0 if left out)."""
        if not self.keep[index]:
            return arb(0), arb(0)
        row = self.rows[index]
        return options_.cross_entropy_part(row, self.coefficients[index]), options_.z_part(row, self.z_loss)


def _examples(logits, targets, axis, options):
    """The :class:`Examples` of a call of softmax_cross_entropy."""
    logits, axis, rows = logits_rows(logits, axis)
    return Examples(rows, _targets(logits, axis, targets), logits.shape[axis], logits.dtype, options)


def _losses_with_options(logits, targets, axis, reduction, template, options):
    return losses_with_options(_examples(logits, targets, axis, options), reduction, template, "softmax_cross_entropy")


def losses_with_options(examples, reduction, template, name):
    """The certified losses of `examples` under `reduction`, shaped as `template`."""
    indices = range(len(examples.rows))
    if reduction == "none":
        return like(template, [certify(lambda i=i: [add(examples.parts(i))], template.dtype, name)[0] for i in indices])

    def value():
        parts = [examples.parts(i) for i in indices]
        cross_entropy, z = add([p[0] for p in parts]), add([p[1] for p in parts])
        if reduction == "mean":
            cross_entropy = _divided(cross_entropy, examples.weight_total())
            z = _divided(z, Fraction(examples.count))
        return [add([cross_entropy, z])]

    return like(template, certify(value, template.dtype, name))


def _divided(value, divisor):
    """`value` (an exact value or an infinity) over a positive Fraction."""
    return value if isinstance(value, float) else value / options_.ball(divisor)


def _gradient_with_options(logits, targets, axis, reduction, template, options):
    examples = _examples(logits, targets, axis, options)
    return per_class(template, axis, range(len(examples.rows)), gradient_rows(examples, reduction),
                     "grad.softmax_cross_entropy")


def gradient_rows(examples, reduction):
    """A function of an example's index: its exact gradient row under `reduction` (zeros if left out)."""
    ce_divisor = examples.weight_total() if reduction == "mean" else Fraction(1)
    z_scale = 2 * examples.z_loss / (examples.count if reduction == "mean" else 1)

    def row_values(index):
        if not examples.keep[index]:
            return [arb(0)] * examples.n_classes
        c = [c_k / ce_divisor for c_k in examples.coefficients[index]]
        return options_.gradient_row(examples.rows[index], c, z_scale)

    return row_values
