r"""Exact softmax cross-entropy with class weights, a selection, label smoothing and z-loss.

The coefficients :math:`c_k = w_k \tilde q_k` of an example are exact
rationals (Fractions: the inputs are binary numbers and :math:`\epsilon / K`
a quotient of them), and so are the mean's totals. The loss

.. math:: \ell = \sum_k c_k (-\log p_k) + \lambda (a + L)^2

is a sum of :class:`~xentref.exact._split.Split` values, the gaps exact and
:math:`L = \operatorname{log1p}(s)` the small part, and its gradient
:math:`p_k (C + 2 \lambda (a + L)) - c_k` keeps each rational part apart from
the transcendental one where the latter is a sliver of known sign (gaps
beyond the reach of any precision, see :mod:`xentref.exact._logsumexp`).
"""

import math
from fractions import Fraction

import numpy as np
from flint import arb, fmpq

from xentref.exact._arrays import exact, in_dtype
from xentref.exact._logsumexp import Shifted
from xentref.exact._reduction import add
from xentref.exact._split import Rational, Split


def ball(value):
    """A Fraction as an arb: exact if it is dyadic, otherwise a ball around it."""
    return arb(fmpq(value.numerator, value.denominator))


def selection(rows, labels, ignore_index, where):
    """Per example: selected or not, from `where` and `ignore_index`."""
    keep = [True] * len(rows) if where is None else np.asarray(where).reshape(-1).tolist()
    if ignore_index is not None:
        keep = [k and label != ignore_index for k, label in zip(keep, labels)]
    return keep


def read_weights(class_weight, n_classes, dtype):
    """The class weights as xentref reads them (in `dtype`), as Fractions; 1 without them."""
    if class_weight is None:
        return [Fraction(1)] * n_classes, False
    return [Fraction(v) for v in np.asarray(in_dtype(class_weight, dtype), dtype=np.float64).tolist()], True


def coefficients(target, n_classes, weights, epsilon, smoothing):
    r""":math:`w_k \tilde q_k` for a label (int) or probability targets (a list), as Fractions."""
    t = [Fraction(int(k == target)) for k in range(n_classes)] if isinstance(target, int) \
        else [Fraction(v) for v in target]
    if epsilon:
        if smoothing == "uniform":
            t = [(1 - epsilon) * v + epsilon / n_classes for v in t]
        else:
            t = [(1 - epsilon) * v + epsilon * (1 - v) / (n_classes - 1) for v in t]
    return [w * v for w, v in zip(weights, t)]


def target_weight(target, n_classes, weights):
    r""":math:`W = \sum_c w_c t_c` of the unsmoothed target."""
    if isinstance(target, int):
        return weights[target]
    return sum((w * Fraction(v) for w, v in zip(weights, target)), Fraction(0))


def _sign(value):
    """+1 or -1 if the ball excludes 0, 0 if it is exactly 0, None if undecided."""
    if value.is_zero():
        return 0
    if value > 0:
        return 1
    if value < 0:
        return -1
    return None


def _split(main, small):
    """``main + small`` (main an arb): a Split when the sign of `small` is decided, else one ball."""
    sign = _sign(small)
    if sign is None:
        return main + small
    return Split(main, small, sign or 1)


def cross_entropy_part(row, c):
    r""":math:`\sum_k c_k (-\log p_k)`: a Split with small part :math:`C L`, or +inf."""
    shifted = Shifted(row)
    log_normaliser = shifted.log_normaliser()
    terms = []
    for gap, c_k in zip(shifted.gaps, c):
        if c_k == 0:
            continue  # a zero coefficient contributes 0, even against a -inf logit
        if gap is None:
            return math.inf
        terms.append(Split(-gap * ball(c_k), log_normaliser * ball(c_k), 1))
    return add(terms) if terms else arb(0)


def z_part(row, scale):
    r""":math:`\lambda (a + L)^2 = \lambda a^2 + \lambda L (2a + L)`, the square's exact part kept apart."""
    if scale == 0:
        return arb(0)
    shifted = Shifted(row)
    log_normaliser = shifted.log_normaliser()
    top = exact(row[shifted.top])
    return _split(ball(scale) * top * top, ball(scale) * log_normaliser * (2 * top + log_normaliser))


def gradient_row(row, c, z_scale):
    r"""The gradient of one example, :math:`p_k T - c_k` with :math:`T = \sum_j c_j + z (a + L)`.

    `c` are the coefficients already divided as the reduction asks, and
    `z_scale` is :math:`2 \lambda` divided likewise (Fractions).
    """
    shifted = Shifted(row)
    top = shifted.top
    log_normaliser = shifted.log_normaliser()
    rational = sum(c, Fraction(0)) + z_scale * Fraction(row[top])
    total = ball(rational) + ball(z_scale) * log_normaliser
    denominator = 1 + shifted.rest
    sign = _sign(total)
    n_ties = 1 + sum(1 for k, near in enumerate(shifted.near) if near and k != top)
    values = []
    for k, (gap, e, near, c_k) in enumerate(zip(shifted.gaps, shifted.exps, shifted.near, c)):
        if gap is None:
            values.append(Rational(-c_k))
        elif not near:
            # A sliver e^gap T / (1 + s) beside -c_k: it decides only a tie or a zero.
            sliver = e * total / denominator
            if c_k == 0:
                values.append(sliver)
            else:
                values.append(ball(-c_k) + sliver if sign is None else Rational(-c_k, sign))
        elif shifted.ties and (z_scale == 0 or n_ties == 1):
            values.append(_tied(n_ties, rational, c_k, z_scale, shifted, total, log_normaliser))
        elif k == top:
            values.append((total - ball(c_k)) - total * shifted.rest / denominator)
        else:
            values.append(e * total / denominator - ball(c_k))
    return values


def _tied(n_ties, rational, c_k, z_scale, shifted, total, log_normaliser):
    r"""An entry at one of `n_ties` tied maxima, every other gap beyond any precision.

    Without z-loss it is the rational :math:`T/n - c_k` lowered by a sliver
    of the far terms; with z-loss and one maximum, :math:`(T_0 - c_m) +
    [z L - T s/(1 + s)]`, with :math:`T_0 = C + z a` and a tiny bracket.
    """
    if z_scale == 0:
        has_far = (shifted.rest - (n_ties - 1)).is_zero() is False
        return Rational(rational / n_ties - c_k, -1 if has_far and rational > 0 else 0)
    small = ball(z_scale) * log_normaliser - total * shifted.rest / (1 + shifted.rest)
    return _split(ball(rational - c_k), small)

