"""Exact distillation loss and its gradient."""

from __future__ import annotations

import math
from fractions import Fraction

from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import class_rows, exact, floats, in_dtype
from xentref.exact._doc import mirrors
from xentref.exact._focal_loss import selected_row
from xentref.exact._kl_divergence_of_log_probs import grouped_sum, rational
from xentref.exact._logsumexp import per_class
from xentref.exact._reduction import add, divisor, mask, reduced
from xentref.exact._split import Split


class Softened:
    r"""A row of logits :math:`z` at temperature :math:`T`: the exact gaps
    :math:`z_k - \max z`.

    ``gaps[k]`` is a Fraction (None for -inf); ``exps[k]`` is
    :math:`e^{(z_k - \max z)/T}`, ``top`` the index of the first maximum,
    ``rest`` the sum of the other exponentials, ``normaliser`` is
    :math:`1 + \text{rest}` and ``log_normaliser`` its logarithm, formed
    by ``log1p`` so that it keeps its digits however tiny the rest is.
    """

    def __init__(self, row, temperature):
        top = max(row)
        self.top = row.index(top)
        self.gaps = [
            None if z == -math.inf else Fraction(z) - Fraction(top) for z in row
        ]
        self.temperature = temperature
        self.exps = [
            arb(0) if g is None else (rational(g) / exact(temperature)).exp()
            for g in self.gaps
        ]
        self.exps[self.top] = arb(1)
        self.rest = add(self.exps[: self.top] + self.exps[self.top + 1 :])
        self.normaliser = 1 + self.rest
        self.log_normaliser = self.rest.log1p()

    def same_normaliser(self, other):
        # Sums of exponentials of distinct rationals differ unless the
        # multisets of exponents agree (Lindemann-Weierstrass).
        key = [-math.inf if g is None else g for g in self.gaps]
        other_key = [-math.inf if g is None else g for g in other.gaps]
        return sorted(key) == sorted(other_key)


def _rows(student_logits, teacher_logits, axis):
    student = floats(student_logits)
    teacher = in_dtype(teacher_logits, student.dtype)
    axis = axis % student.ndim
    return (
        student,
        axis,
        list(zip(class_rows(student, axis), class_rows(teacher, axis))),
    )


def _split(main, small):
    """``main + small`` as a Split once the ball of `small` has a sign; a ball until then."""
    if small.is_zero():
        return main
    if small > 0:
        return Split(main, small, 1)
    if small < 0:
        return Split(main, small, -1)
    return main + small


def _loss(student_row, teacher_row, temperature):
    r"""The loss of one example, split at the teacher's maximum :math:`m`.

    With the gaps :math:`a_k = t_k - \max t` and :math:`b_k = s_k - \max s`
    and :math:`\sum_k p_k = 1`, the loss
    :math:`T \sum_k p_k (a_k - b_k) + T^2 (L_q - L_p)` is the exact
    :math:`-T b_m` plus

    .. math:: T \sum_{k \ne m} p_k (a_k - b_k + b_m) + T^2 (L_q - L_p),

    formed from the other classes' probabilities and the two ``log1p``:
    it keeps its digits when it is as small as :math:`e^{-10^{300}}`, and
    its sign decides a tie of :math:`-T b_m` (an exact dyadic).
    """
    student, teacher = (
        Softened(student_row, temperature),
        Softened(teacher_row, temperature),
    )
    T = exact(temperature)
    present = [k for k, g in enumerate(teacher.gaps) if g is not None]
    if any(student.gaps[k] is None for k in present):
        return math.inf
    m = teacher.top
    main = -T * rational(student.gaps[m])
    others = [k for k in present if k != m]
    coefficients = [
        teacher.gaps[k] - student.gaps[k] + student.gaps[m] for k in others
    ]
    if student.same_normaliser(teacher):
        # L_q = L_p, and the sum's exact zero is decided on rationals.
        small = (
            T
            * grouped_sum([teacher.gaps[k] for k in others], coefficients, temperature)
            / teacher.normaliser
        )
    else:
        p = [teacher.exps[k] / teacher.normaliser for k in others]
        small = T * add([p_k * rational(c) for p_k, c in zip(p, coefficients)]) + T * T * (
            student.log_normaliser - teacher.log_normaliser
        )
    return _split(main, small)


@mirrors(
    "xentref.distillation_loss",
    "Exact distillation loss.",
    r"\ell(s, t) = T^2 \sum_k p_k (\log p_k - \log q_k), \\"
    r" p = \operatorname{softmax}(t/T), \quad q = \operatorname{softmax}(s/T)",
    "loss",
)
def distillation_loss(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.distillation_loss(
        student_logits,
        teacher_logits,
        temperature=temperature,
        axis=axis,
        reduction=reduction,
        where=where,
    )
    _, _, pairs = _rows(student_logits, teacher_logits, axis)
    return reduced(
        [lambda s=s, t=t: _loss(s, t, temperature) for s, t in pairs],
        reduction,
        template,
        "distillation_loss",
        mask(where),
    )


def _gradient(pair, temperature, count):
    student, teacher = (Softened(row, temperature) for row in pair)
    same = student.same_normaliser(teacher)
    values = []
    for k in range(len(student.gaps)):
        if same and student.gaps[k] == teacher.gaps[k]:
            values.append(arb(0))
        else:
            difference = (
                student.exps[k] / student.normaliser
                - teacher.exps[k] / teacher.normaliser
            )
            values.append(exact(temperature) * difference / count)
    return values


@mirrors(
    "xentref.grad.distillation_loss",
    "Exact gradient of the distillation loss.",
    r"\frac{\partial \ell}{\partial s_k} = T (q_k - p_k)",
    "grad",
)
def distillation_loss_grad(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.distillation_loss(
        student_logits,
        teacher_logits,
        temperature=temperature,
        axis=axis,
        reduction=reduction,
        where=where,
    )
    _, axis, pairs = _rows(student_logits, teacher_logits, axis)
    keep = mask(where) or [True] * len(pairs)
    count = divisor(sum(keep), reduction)
    return per_class(
        template,
        axis,
        [(s, t, k) for (s, t), k in zip(pairs, keep)],
        lambda example: selected_row(
            example, lambda s, t: _gradient((s, t), temperature, count)
        ),
        "grad.distillation_loss",
    )
