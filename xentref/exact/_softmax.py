r"""Exact logsumexp, log_softmax, softmax, softmax cross-entropy and its gradient.

Every row is shifted by its largest finite entry :math:`a = z_m`, so no
exponential of a large positive number is ever formed (``exp(1e300)`` has
no useful ball), and :math:`s = \sum_{k \ne m} e^{z_k - a}` enters through
``log1p``, whose ball stays narrow for a tiny :math:`s`.
"""

import math

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref.exact._arrays import class_rows, exact, floats, in_dtype, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._reduction import add, divisor, reduced, scale
from xentref.exact._split import Split


class _Shifted:
    """A row of logits with a finite maximum, shifted by it.

    ``gaps[k]`` is :math:`z_k - a` (None for a -inf logit), ``exps[k]`` is
    :math:`e^{z_k - a}` (an exact 0 for a -inf logit), ``top`` is the index
    :math:`m` of the first largest entry and ``rest`` is :math:`s`.
    """

    def __init__(self, row):
        top_value = max(row)
        self.top = row.index(top_value)
        self.gaps = [None if z == -math.inf else exact(z) - exact(top_value) for z in row]
        self.exps = [arb(0) if gap is None else gap.exp() for gap in self.gaps]
        self.exps[self.top] = arb(1)
        self.rest = add(self.exps[:self.top] + self.exps[self.top + 1:])

    def log_normaliser(self):
        """:math:`\\log \\sum_k e^{z_k - a} = \\operatorname{log1p}(s)`."""
        return self.rest.log1p()


def _logits_rows(logits, axis):
    logits = floats(logits)
    axis = axis % logits.ndim
    return logits, axis, class_rows(logits, axis)


@mirrors("xentref.logsumexp", "Exact log-sum-exp.", r"\log \sum_k e^{x_k}", "lse")
def logsumexp(x, *, axis=-1):
    template = xentref.logsumexp(x, axis=axis)
    _, _, rows = _logits_rows(x, axis)

    def value(row):
        if math.inf in row:
            return math.inf
        if all(v == -math.inf for v in row):
            return -math.inf
        shifted = _Shifted(row)
        return exact(row[shifted.top]) + shifted.log_normaliser()

    return reduced([lambda row=row: value(row) for row in rows], "none", template, "logsumexp")


def _per_class(template, axis, rows, row_values, name):
    """Certify a row's values together; the rows are certified one by one."""
    values = []
    for row in rows:
        values += certify(lambda row=row: row_values(row), template.dtype, name)
    return like(template, values, axis)


@mirrors(
    "xentref.log_softmax", "Exact log-softmax.",
    r"\log \operatorname{softmax}(z)_k = z_k - \log \sum_j e^{z_j}", "log_p",
)
def log_softmax(logits, *, axis=-1):
    template = xentref.log_softmax(logits, axis=axis)
    _, axis, rows = _logits_rows(logits, axis)

    def row_values(row):
        shifted = _Shifted(row)
        log_normaliser = shifted.log_normaliser()
        return [-math.inf if gap is None else Split(gap, -log_normaliser, -1) for gap in shifted.gaps]

    return _per_class(template, axis, rows, row_values, "log_softmax")


@mirrors(
    "xentref.softmax", "Exact softmax.",
    r"\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}", "p",
)
def softmax(logits, *, axis=-1):
    template = xentref.softmax(logits, axis=axis)
    _, axis, rows = _logits_rows(logits, axis)

    def row_values(row):
        shifted = _Shifted(row)
        return [e / (1 + shifted.rest) for e in shifted.exps]

    return _per_class(template, axis, rows, row_values, "softmax")


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
    shifted = _Shifted(row)
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
def softmax_cross_entropy(logits, targets, *, axis=-1, reduction="mean"):
    template = xentref.softmax_cross_entropy(logits, targets, axis=axis, reduction=reduction)
    logits, axis, rows = _logits_rows(logits, axis)
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
    shifted = _Shifted(row)
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(row))]
    t = [exact(v) for v in target]
    total = add(t)
    others = add(t[:shifted.top] + t[shifted.top + 1:])
    denominator = 1 + shifted.rest
    values = [Split(-t_k, e * total / denominator, 1) for e, t_k in zip(shifted.exps, t)]
    # softmax_m T - t_m = T / (1 + s) - t_m = others - T s / (1 + s)
    values[shifted.top] = Split(others, -total * shifted.rest / denominator, -1)
    return [value / count for value in values]


@mirrors(
    "xentref.grad.softmax_cross_entropy", "Exact gradient of the softmax cross-entropy.",
    r"\frac{\partial \ell}{\partial z_k} = \operatorname{softmax}(z)_k \sum_j t_j - t_k", "grad",
)
def softmax_cross_entropy_grad(logits, targets, *, axis=-1, reduction="mean"):
    template = float_grad.softmax_cross_entropy(logits, targets, axis=axis, reduction=reduction)
    logits, axis, rows = _logits_rows(logits, axis)
    count = divisor(len(rows), reduction)
    examples = list(zip(rows, _targets(logits, axis, targets)))
    return _per_class(
        template, axis, examples, lambda example: _gradient(*example, count),
        "grad.softmax_cross_entropy",
    )


@mirrors("xentref.nll_loss", "Exact negative log-likelihood.", r"\ell(\log p, y) = -\log p_y", "loss")
def nll_loss(log_probs, labels, *, axis=-1, reduction="mean"):
    template = xentref.nll_loss(log_probs, labels, axis=axis, reduction=reduction)
    _, _, rows = _logits_rows(log_probs, axis)
    picked = [row[label] for row, label in zip(rows, np.ravel(labels).tolist())]
    return reduced(
        [lambda v=v: math.inf if v == -math.inf else -exact(v) for v in picked],
        reduction, template, "nll_loss",
    )


@mirrors(
    "xentref.grad.nll_loss", "Exact gradient of the negative log-likelihood.",
    r"\frac{\partial \ell}{\partial \log p_k} = -[k = y]", "grad",
)
def nll_loss_grad(log_probs, labels, *, axis=-1, reduction="mean"):
    template = float_grad.nll_loss(log_probs, labels, axis=axis, reduction=reduction)
    _, axis, rows = _logits_rows(log_probs, axis)
    count = divisor(len(rows), reduction)
    examples = list(zip(rows, np.ravel(labels).tolist()))

    def row_values(example):
        row, label = example
        return [arb(-1) / count if k == label else arb(0) for k in range(len(row))]

    return _per_class(template, axis, examples, row_values, "grad.nll_loss")
