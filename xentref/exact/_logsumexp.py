r"""Exact logsumexp, log_softmax and softmax.

Every row is shifted by its largest finite entry :math:`a = z_m`, so no
exponential of a large positive number is ever formed (``exp(1e300)`` has
no useful ball), and :math:`s = \sum_{k \ne m} e^{z_k - a}` enters through
``log1p``, whose ball stays narrow for a tiny :math:`s`.
"""

from __future__ import annotations

import math

from flint import arb

import xentref
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import class_rows, exact, floats, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._reduction import add, reduced
from xentref.exact._split import Split

# Gaps below this have exponentials under 2^-57700: a result is split into
# the part without them, exact when the nearer gaps are ties, and their
# correction, of known sign. Nearer terms are resolved by the working
# precision (at most 2^16 bits).
FAR = -40000


class Shifted:
    """A row of logits with a finite maximum, shifted by it.

    ``gaps[k]`` is :math:`z_k - a` (None for a -inf logit), ``exps[k]`` is
    :math:`e^{z_k - a}` (an exact 0 for a -inf logit), ``top`` is the index
    :math:`m` of the first largest entry and ``rest`` is :math:`s`.
    ``near_rest`` is the part of :math:`s` from gaps above :data:`FAR`:
    an exact integer when those are ties at the maximum, which lets a
    result be split into an exact part and a correction of known sign.
    """

    def __init__(self, row):
        top_value = max(row)
        self.top = row.index(top_value)
        self.gaps = [None if z == -math.inf else exact(z) - exact(top_value) for z in row]
        self.exps = [arb(0) if gap is None else gap.exp() for gap in self.gaps]
        self.exps[self.top] = arb(1)
        others = [k for k in range(len(row)) if k != self.top]
        self.rest = add([self.exps[k] for k in others])
        self.near = [gap is not None and gap > FAR for gap in self.gaps]
        # The maximum's own gap is 0, near by definition: for exact rationals
        # (the logits of a linear layer) it is a ball around 0 whose
        # comparison with FAR may be undecided.
        self.near[self.top] = True
        self.near_rest = add([self.exps[k] for k in others if self.near[k]])
        # Every near entry ties with the maximum: softmax values are rationals.
        self.ties = all(gap.is_zero() for gap, near in zip(self.gaps, self.near) if near)

    def log_normaliser(self):
        """:math:`\\log \\sum_k e^{z_k - a} = \\operatorname{log1p}(s)`."""
        return self.rest.log1p()


def logits_rows(logits, axis):
    logits = floats(logits)
    axis = axis % logits.ndim
    return logits, axis, class_rows(logits, axis)


@mirrors("xentref.logsumexp", "Exact log-sum-exp.", r"\log \sum_k e^{x_k}", "lse")
def logsumexp(x: ArrayLike, *, axis: int = -1) -> Result:
    template = xentref.logsumexp(x, axis=axis)
    _, _, rows = logits_rows(x, axis)

    def value(row):
        if math.inf in row:
            return math.inf
        if all(v == -math.inf for v in row):
            return -math.inf
        shifted = Shifted(row)
        return exact(row[shifted.top]) + shifted.log_normaliser()

    return reduced([lambda row=row: value(row) for row in rows], "none", template, "logsumexp")


def per_class(template, axis, rows, row_values, name):
    """Certify a row's values together; the rows are certified one by one."""
    values = []
    for row in rows:
        values += certify(lambda row=row: row_values(row), template.dtype, name)
    return like(template, values, axis)


@mirrors(
    "xentref.log_softmax", "Exact log-softmax.",
    r"\log \operatorname{softmax}(z)_k = z_k - \log \sum_j e^{z_j}", "log_p",
)
def log_softmax(logits: ArrayLike, *, axis: int = -1) -> Result:
    template = xentref.log_softmax(logits, axis=axis)
    _, axis, rows = logits_rows(logits, axis)

    def row_values(row):
        shifted = Shifted(row)
        log_normaliser = shifted.log_normaliser()
        return [-math.inf if gap is None else Split(gap, -log_normaliser, -1) for gap in shifted.gaps]

    return per_class(template, axis, rows, row_values, "log_softmax")


@mirrors(
    "xentref.softmax", "Exact softmax.",
    r"\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}", "p",
)
def softmax(logits: ArrayLike, *, axis: int = -1) -> Result:
    template = xentref.softmax(logits, axis=axis)
    _, axis, rows = logits_rows(logits, axis)

    def row_values(row):
        shifted = Shifted(row)
        return [e / (1 + shifted.rest) for e in shifted.exps]

    return per_class(template, axis, rows, row_values, "softmax")
