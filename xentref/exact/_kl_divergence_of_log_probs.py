"""Exact KL divergence of log-probabilities, and its gradient."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from flint import arb, fmpq

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import exact, floats, in_dtype
from xentref.exact._doc import mirrors
from xentref.exact._information import _infinity, _pairs
from xentref.exact._reduction import add, reduced


def rational(fraction):
    """A ball around a Fraction; exact when the working precision holds it."""
    return arb(fmpq(fraction.numerator, fraction.denominator))


def grouped_sum(exponents, coefficients, scale=1):
    r""":math:`\sum_k e^{a_k / T} c_k` for rational :math:`a_k, c_k` and
    :math:`T` = `scale`, with equal exponents combined first.

    The exponentials of distinct rationals are linearly independent over
    the rationals (Lindemann-Weierstrass), so the sum is exactly 0 only
    when every combined coefficient is: that case is decided exactly, and
    every other sum is a ball that excludes 0.
    """
    combined = {}
    for a, c in zip(exponents, coefficients):
        combined[a] = combined.get(a, Fraction(0)) + c
    return add(
        [
            (rational(a) / exact(scale)).exp() * rational(c)
            for a, c in combined.items()
            if c != 0
        ]
    )


def _kl_of(p_row, q_row, base):
    exponents, coefficients = [], []
    for lp, lq in zip(p_row, q_row):
        # A term with l_p = -inf is 0, whatever l_q is.
        if lp == -math.inf:
            continue
        if lq == -math.inf:
            return _infinity(base)
        exponents.append(Fraction(lp))
        coefficients.append(Fraction(lp) - Fraction(lq))
    nats = grouped_sum(exponents, coefficients)
    return nats if base is None else nats / exact(base).log()


@mirrors(
    "xentref.kl_divergence_of_log_probs",
    "Exact KL divergence of log-probabilities.",
    r"D_{KL}(p \,\|\, q) = \sum_k e^{l_{p,k}} (l_{p,k} - l_{q,k})",
    "d",
)
def kl_divergence_of_log_probs(
    log_p: ArrayLike,
    log_q: ArrayLike,
    *,
    axis: int = -1,
    base: float | None = None,
) -> Result:
    template = xentref.kl_divergence_of_log_probs(
        log_p, log_q, axis=axis, base=base
    )
    return reduced(
        [
            lambda p=p, q=q: _kl_of(p, q, base)
            for p, q in _pairs(log_p, log_q, axis)
        ],
        "none",
        template,
        "kl_divergence_of_log_probs",
    )


@mirrors(
    "xentref.grad.kl_divergence_of_log_probs",
    "Exact gradient of the KL divergence of log-probabilities.",
    r"\frac{\partial}{\partial l_{q,k}} \sum D_{KL} = -\sum e^{l_{p,k}}",
    "grad",
)
def kl_divergence_of_log_probs_grad(
    log_p: ArrayLike,
    log_q: ArrayLike,
    *,
    axis: int = -1,
    base: float | None = None,
) -> Result:
    template = float_grad.kl_divergence_of_log_probs(
        log_p, log_q, axis=axis, base=base
    )
    log_q = floats(log_q)
    log_p, broadcast_q = np.broadcast_arrays(floats(log_p), log_q)
    # The float gradient reads log_p in the dtype of log_q.
    log_p = in_dtype(log_p, log_q.dtype)
    owner = np.broadcast_to(
        np.arange(log_q.size).reshape(log_q.shape), broadcast_q.shape
    )
    meeting = [[] for _ in range(log_q.size)]
    for k, value in zip(owner.ravel().tolist(), log_p.ravel().tolist()):
        if value > -math.inf:
            meeting[k].append(value)

    def gradient(values):
        nats = -add([exact(v).exp() for v in values]) if values else arb(0)
        return nats if base is None else nats / exact(base).log()

    return reduced(
        [lambda values=values: gradient(values) for values in meeting],
        "none",
        template,
        "grad.kl_divergence_of_log_probs",
    )
