"""Exact softmax cross-entropy of a linear layer, and its gradient.

The logits :math:`h \\cdot w_k + b_k` are formed exactly, as fractions (a
product and sum of floats is a dyadic rational), and the loss of those
exact logits is certified as :func:`xentref.exact.softmax_cross_entropy`
certifies it, with the options too. The gradients are sums of products
of the exact logit gradient with the given floats, certified entry by
entry.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import arb, fmpq

import xentref
from xentref import grad as float_grad
from xentref._linear_softmax_cross_entropy import LinearGradient
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import in_dtype
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._reduction import divisor, mask, reduced
from xentref.exact._softmax_cross_entropy import (
    Examples,
    _gradient,
    _has_options,
    _loss,
    gradient_rows,
    losses_with_options,
)
from xentref.exact._split import Rational, Split


def _inputs(hidden, weight, labels, bias, dtype):
    """The exact logits of each token (lists of Fractions), the labels, and the inputs as Fractions."""
    hidden = np.asarray(hidden)
    rows = [[Fraction(float(v)) for v in row] for row in hidden.reshape(-1, hidden.shape[-1]).tolist()]
    weight = [[Fraction(float(v)) for v in row] for row in in_dtype(weight, dtype).tolist()]
    bias = [Fraction(0)] * len(weight) if bias is None else [Fraction(float(v)) for v in in_dtype(bias, dtype).tolist()]
    logits = [[sum((h * w for h, w in zip(row, w_k)), b_k) for w_k, b_k in zip(weight, bias)] for row in rows]
    return logits, np.ravel(labels).astype(int).tolist(), rows, weight


def _beyond_where(options):
    """Whether an option other than `where` is given: then the exact machinery of the options applies."""
    return _has_options({**options, "where": None})


@mirrors(
    "xentref.linear_softmax_cross_entropy", "Exact softmax cross-entropy of a linear layer.",
    r"\ell_n = \operatorname{logsumexp}_k(h_n \cdot w_k + b_k) - (h_n \cdot w_{y_n} + b_{y_n})", "loss",
)
def linear_softmax_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    labels: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    reduction: Reduction = "mean",
    block_size: int | None = None,
    where: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
) -> Result:
    options = {"class_weight": class_weight, "ignore_index": ignore_index, "where": where,
               "label_smoothing": label_smoothing, "smoothing": smoothing, "z_loss": z_loss}
    template = xentref.linear_softmax_cross_entropy(
        hidden, weight, labels, bias=bias, reduction=reduction, block_size=block_size, **options,
    )
    dtype = np.asarray(template).dtype
    logits, labels, _, weight_rows = _inputs(hidden, weight, labels, bias, dtype)
    if _beyond_where(options):
        examples = Examples(logits, labels, len(weight_rows), dtype, options)
        return losses_with_options(examples, reduction, template, "linear_softmax_cross_entropy")
    return reduced(
        [lambda row=row, label=label: _loss(row, label) for row, label in zip(logits, labels)],
        reduction, template, "linear_softmax_cross_entropy", mask(where),
    )


def _float(value):
    """A float of the input (a Fraction) as an exact arb."""
    return arb(fmpq(value.numerator, value.denominator))


def _dot(values, factors):
    r""":math:`\sum_k g_k c_k` of exact logit-gradient entries `values` and floats `factors`.

    The exact parts and the corrections of :class:`Split` entries are summed
    apart, so that a sum whose exact part is a midpoint between two floats
    keeps the correction that decides its rounding, however small. A sum
    whose correction has no certain sign (or holds a :class:`Rational`) is
    one ball, made narrower by the next working precision.
    """
    main, small, balls = arb(0), arb(0), arb(0)
    for value, factor in zip(values, factors):
        c = _float(factor)
        if isinstance(value, Split):
            main += value.main * c
            small += value.small * c
        elif isinstance(value, Rational):
            balls += _float(value.value) * c
        else:
            balls += value * c
    if balls.is_zero() and (small > 0 or small < 0):
        return Split(main, small, 1 if small > 0 else -1)
    return main + small + balls


@mirrors(
    "xentref.grad.linear_softmax_cross_entropy",
    "Exact gradient of the softmax cross-entropy of a linear layer.",
    r"\partial \ell / \partial h = G W, \quad \partial \ell / \partial W = G^\top H, "
    r"\quad \partial \ell / \partial b = \sum_n G_n",
    "grad",
)
def linear_softmax_cross_entropy_grad(
    hidden: ArrayLike,
    weight: ArrayLike,
    labels: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    reduction: Reduction = "mean",
    block_size: int | None = None,
    where: ArrayLike | None = None,
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
) -> LinearGradient:
    options = {"class_weight": class_weight, "ignore_index": ignore_index, "where": where,
               "label_smoothing": label_smoothing, "smoothing": smoothing, "z_loss": z_loss}
    template = float_grad.linear_softmax_cross_entropy(
        hidden, weight, labels, bias=bias, reduction=reduction, block_size=block_size, **options,
    )
    dtype = template.hidden.dtype
    logits, labels, rows, weight_rows = _inputs(hidden, weight, labels, bias, dtype)
    features = len(weight_rows[0])
    classes = range(len(weight_rows))
    if _beyond_where(options):
        row_values = gradient_rows(Examples(logits, labels, len(weight_rows), dtype, options), reduction)
    else:
        keep = mask(where) or [True] * len(rows)
        count = divisor(sum(keep), reduction)

        def row_values(index):
            return _gradient(logits[index], labels[index], count) if keep[index] else [arb(0)] * len(classes)

    def values():
        # Formed again at each working precision.
        g = [row_values(index) for index in range(len(logits))]
        exact_hidden = [[_dot(g_n, [w_k[i] for w_k in weight_rows]) for i in range(features)] for g_n in g]
        exact_weight = [[_dot([g_n[k] for g_n in g], [row[i] for row in rows]) for i in range(features)]
                        for k in classes]
        exact_bias = [_dot([g_n[k] for g_n in g], [Fraction(1)] * len(g)) for k in classes]
        return [v for row in exact_hidden for v in row] + [v for row in exact_weight for v in row] + exact_bias

    certified = certify(values, dtype, "grad.linear_softmax_cross_entropy")
    n_hidden, n_weight = len(rows) * features, len(weight_rows) * features
    hidden_values = np.array(certified[:n_hidden], dtype=dtype).reshape(template.hidden.shape)
    weight_values = np.array(certified[n_hidden:n_hidden + n_weight], dtype=dtype).reshape(template.weight.shape)
    bias_values = None if template.bias is None else np.array(certified[n_hidden + n_weight:], dtype=dtype)
    return type(template)(hidden_values, weight_values, bias_values)
