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


class Softened:
    r"""A row of logits :math:`z` at temperature :math:`T`: the exact gaps
    :math:`z_k - \max z`.

    ``gaps[k]`` is a Fraction (None for -inf); ``exps[k]`` is
    :math:`e^{(z_k - \max z)/T}` and ``normaliser`` their sum.
    """

    def __init__(self, row, temperature):
        top = Fraction(max(row))
        self.gaps = [
            None if z == -math.inf else Fraction(z) - top for z in row
        ]
        self.temperature = temperature
        self.exps = [
            arb(0) if g is None else (rational(g) / exact(temperature)).exp()
            for g in self.gaps
        ]
        self.normaliser = add(self.exps)

    def log_probability(self, k):
        return (
            rational(self.gaps[k]) / exact(self.temperature)
            - self.normaliser.log()
        )

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


def _loss(student_row, teacher_row, temperature):
    student, teacher = (
        Softened(student_row, temperature),
        Softened(teacher_row, temperature),
    )
    T = exact(temperature)
    present = [k for k, g in enumerate(teacher.gaps) if g is not None]
    if any(student.gaps[k] is None for k in present):
        return math.inf
    if student.same_normaliser(teacher):
        # T^2 sum_k p_k (g_k - h_k) / T, whose exact zero is decided on
        # rationals.
        differences = [teacher.gaps[k] - student.gaps[k] for k in present]
        return (
            T
            * grouped_sum(
                [teacher.gaps[k] for k in present], differences, temperature
            )
            / teacher.normaliser
        )
    terms = [
        teacher.exps[k]
        / teacher.normaliser
        * (teacher.log_probability(k) - student.log_probability(k))
        for k in present
    ]
    return T * T * add(terms)


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
