"""Exact negative log-likelihood and its gradient."""

from __future__ import annotations

import math

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import exact
from xentref.exact._doc import mirrors
from xentref.exact._logsumexp import logits_rows, per_class
from xentref.exact._reduction import divisor, reduced


@mirrors(
    "xentref.nll_loss",
    "Exact negative log-likelihood.",
    r"\ell(\log p, y) = -\log p_y",
    "loss",
)
def nll_loss(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
) -> Result:
    template = xentref.nll_loss(
        log_probs, labels, axis=axis, reduction=reduction
    )
    _, _, rows = logits_rows(log_probs, axis)
    picked = [
        row[label] for row, label in zip(rows, np.ravel(labels).tolist())
    ]
    return reduced(
        [
            lambda v=v: math.inf if v == -math.inf else -exact(v)
            for v in picked
        ],
        reduction,
        template,
        "nll_loss",
    )


@mirrors(
    "xentref.grad.nll_loss",
    "Exact gradient of the negative log-likelihood.",
    r"\frac{\partial \ell}{\partial \log p_k} = -[k = y]",
    "grad",
)
def nll_loss_grad(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
) -> Result:
    template = float_grad.nll_loss(
        log_probs, labels, axis=axis, reduction=reduction
    )
    _, axis, rows = logits_rows(log_probs, axis)
    count = divisor(len(rows), reduction)
    examples = list(zip(rows, np.ravel(labels).tolist()))

    def row_values(example):
        row, label = example
        return [
            arb(-1) / count if k == label else arb(0) for k in range(len(row))
        ]

    return per_class(template, axis, examples, row_values, "grad.nll_loss")
