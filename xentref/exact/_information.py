"""Exact entropy, cross-entropy and KL divergence, and the gradients with
respect to q.
"""

from __future__ import annotations

import math

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import class_rows, exact, floats, in_dtype
from xentref.exact._doc import mirrors
from xentref.exact._reduction import add, reduced


def _binary_parts(x):
    """``(m, e)`` with ``x = m * 2**e`` and `m` odd, for a positive float `x`.
    """
    mantissa, exponent = exact(x).man_exp()
    return int(mantissa), int(exponent)


class _LogSum:
    r"""A sum :math:`\sum_k c_k \log x_k` held as :math:`A + E \log 2`.

    With :math:`x_k = m_k 2^{e_k}`, :math:`m_k` odd, :math:`A = \sum_k c_k
    \log m_k` and :math:`E = \sum_k c_k e_k`. A power of two adds nothing to
    :math:`A`, so in a base that is a power of two a sum of logs of powers
    of two is the exact rational :math:`E / j`; its ball then has radius 0,
    and an exact tie between two floats is decided rather than never
    certified.
    """

    def __init__(self):
        self.odd = arb(0)
        self.twos = arb(0)

    def add(self, c, x, y=1.0):
        """Add ``c * log(x / y)`` for positive floats `x` and `y`."""
        m_x, e_x = _binary_parts(x)
        m_y, e_y = _binary_parts(y)
        if m_x != m_y:
            self.odd += exact(c) * (arb(m_x).log() - arb(m_y).log())
        self.twos += exact(c) * (e_x - e_y)

    def in_unit(self, base):
        """The sum divided by ``log(base)``; natural logs for None."""
        log2 = arb.const_log2()
        if base is None:
            return self.odd + self.twos * log2
        m_base, j = _binary_parts(base)
        if m_base == 1:
            return self.odd / (j * log2) + self.twos / j
        return (self.odd + self.twos * log2) / exact(base).log()


def _infinity(base):
    """+inf in nats, in the unit of `base` (-inf for a base below 1)."""
    return math.inf if base is None or base > 1 else -math.inf


def _pairs(p, q, axis):
    """Rows of `p` and `q` along the class axis, after broadcasting them.

    `p` is read in the dtype of `q`, as the float functions read it.
    """
    q = floats(q)
    p = in_dtype(p, q.dtype)
    from_end = q.ndim - axis % q.ndim
    p, q = np.broadcast_arrays(p, q)
    class_axis = p.ndim - from_end
    return zip(class_rows(p, class_axis), class_rows(q, class_axis))


def _entropy_of(row, base):
    total = _LogSum()
    for p in row:
        # 0 log 0 = 0: only positive entries contribute.
        if p > 0:
            total.add(-p, p)
    return total.in_unit(base)


def _of_pair(p_row, q_row, base, divergence):
    r""":math:`-\sum_k p_k \log q_k`, or with `divergence` :math:`\sum_k p_k
    \log(p_k / q_k)`.
    """
    total = _LogSum()
    for p, q in zip(p_row, q_row):
        # 0 log 0 = 0: only positive entries of p contribute.
        if p > 0:
            if q == 0:
                return _infinity(base)
            if divergence:
                # Equal entries add an exact 0, so KL(p, p) is exactly 0.
                total.add(p, p, q)
            else:
                total.add(-p, q)
    return total.in_unit(base)


@mirrors(
    "xentref.entropy",
    "Exact Shannon entropy.",
    r"H(p) = -\sum_k p_k \log p_k",
    "h",
)
def entropy(
    p: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    template = xentref.entropy(p, axis=axis, base=base)
    p = floats(p)
    rows = class_rows(p, axis % p.ndim)
    return reduced(
        [lambda row=row: _entropy_of(row, base) for row in rows],
        "none",
        template,
        "entropy",
    )


@mirrors(
    "xentref.cross_entropy",
    "Exact cross-entropy.",
    r"H(p, q) = -\sum_k p_k \log q_k",
    "h",
)
def cross_entropy(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    template = xentref.cross_entropy(p, q, axis=axis, base=base)
    return reduced(
        [
            lambda a=a, b=b: _of_pair(a, b, base, divergence=False)
            for a, b in _pairs(p, q, axis)
        ],
        "none",
        template,
        "cross_entropy",
    )


@mirrors(
    "xentref.kl_divergence",
    "Exact Kullback-Leibler divergence.",
    r"D_{KL}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k}",
    "d",
)
def kl_divergence(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    template = xentref.kl_divergence(p, q, axis=axis, base=base)
    return reduced(
        [
            lambda a=a, b=b: _of_pair(a, b, base, divergence=True)
            for a, b in _pairs(p, q, axis)
        ],
        "none",
        template,
        "kl_divergence",
    )


def _minus_p_over_q(p, q, base, template, name):
    """-P_k / q_k (in the unit of `base`), P_k the sum of the p that meet q_k.
    """
    q = floats(q)
    p, broadcast_q = np.broadcast_arrays(floats(p), q)
    # The float gradient reads p in the dtype of q.
    p = in_dtype(p, q.dtype)
    owner = np.broadcast_to(
        np.arange(q.size).reshape(q.shape), broadcast_q.shape
    )
    meeting = [[] for _ in range(q.size)]
    for k, value in zip(owner.ravel().tolist(), p.ravel().tolist()):
        if value > 0:
            meeting[k].append(value)

    def gradient(ps, q_k):
        if not ps:
            return arb(0)
        if q_k == 0:
            return -_infinity(base)
        nats = -add([exact(v) for v in ps]) / exact(q_k)
        return nats if base is None else nats / exact(base).log()

    return reduced(
        [
            lambda ps=ps, q_k=q_k: gradient(ps, q_k)
            for ps, q_k in zip(meeting, q.ravel().tolist())
        ],
        "none",
        template,
        name,
    )


@mirrors(
    "xentref.grad.cross_entropy",
    "Exact gradient of the cross-entropy with respect to q.",
    r"\frac{\partial}{\partial q_k} \sum H(p, q) = -\frac{\sum p_k}{q_k}",
    "grad",
)
def cross_entropy_grad(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    template = float_grad.cross_entropy(p, q, axis=axis, base=base)
    return _minus_p_over_q(p, q, base, template, "grad.cross_entropy")


@mirrors(
    "xentref.grad.kl_divergence",
    "Exact gradient of the KL divergence with respect to q.",
    r"\frac{\partial}{\partial q_k} \sum D_{KL}(p \,\|\, q) = -\frac{\sum "
    r"p_k}{q_k}",
    "grad",
)
def kl_divergence_grad(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    template = float_grad.kl_divergence(p, q, axis=axis, base=base)
    return _minus_p_over_q(p, q, base, template, "grad.kl_divergence")
