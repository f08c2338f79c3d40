"""Exact token-level cross-entropy of padded sequences, its gradient, and the token mean of micro-batches."""

from __future__ import annotations

import math

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import exact, floats, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._logsumexp import logits_rows, per_class
from xentref.exact._reduction import add, reduced
from xentref.exact._softmax_cross_entropy import _gradient, _loss


def _tokens(logits, labels, lengths, mask, axis):
    """``(row, label, counts, sequence)`` for each token, in the order of the float function's (B, T) losses."""
    logits, axis, rows = logits_rows(logits, axis)
    batch, time = np.delete(np.array(logits.shape), axis).tolist()
    if mask is not None:
        counts = np.asarray(mask).ravel().tolist()
    else:
        counts = [lengths is None or t < int(lengths[b]) for b in range(batch) for t in range(time)]
    labels = np.asarray(labels).ravel().tolist()
    sequences = [b for b in range(batch) for _ in range(time)]
    return list(zip(rows, labels, counts, sequences)), batch


def _token_loss(row, label, counts):
    # A token that does not count costs exactly 0; its label is not read.
    return _loss(row, label) if counts else arb(0)


def _divide(value, count):
    """An exact value over a positive count; an infinity stays."""
    return value if isinstance(value, float) else value / count


def _reduced_value(tokens, batch, reduction):
    """The exact loss of the batch under ``"mean"``, ``"sum"`` or ``"sequence_mean"``."""
    losses = [_token_loss(row, label, counts) for row, label, counts, _ in tokens]
    if reduction == "sum":
        return add(losses)
    if reduction == "mean":
        return _divide(add(losses), sum(counts for _, _, counts, _ in tokens))
    means = []
    for b in range(batch):
        own = [(loss, token[2]) for loss, token in zip(losses, tokens) if token[3] == b]
        means.append(_divide(add([loss for loss, _ in own]), sum(counts for _, counts in own)))
    return _divide(add(means), batch)


@mirrors(
    "xentref.sequence_softmax_cross_entropy", "Exact token-level cross-entropy of padded sequences.",
    r"L = \frac{1}{N} \sum_{b, t} m_{bt} \big(\operatorname{logsumexp}(z_{bt}) - z_{bt, y_{bt}}\big)", "loss",
)
def sequence_softmax_cross_entropy(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    lengths: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    axis: int = -1,
    reduction: str = "mean",
) -> Result:
    template = xentref.sequence_softmax_cross_entropy(
        logits, labels, lengths=lengths, mask=mask, axis=axis, reduction=reduction
    )
    tokens, batch = _tokens(logits, labels, lengths, mask, axis)
    name = "sequence_softmax_cross_entropy"
    if reduction == "none":
        return reduced(
            [lambda token=token: _token_loss(*token[:3]) for token in tokens], "none", template, name
        )
    return like(template, certify(lambda: [_reduced_value(tokens, batch, reduction)], template.dtype, name))


@mirrors(
    "xentref.grad.sequence_softmax_cross_entropy",
    "Exact gradient of the token-level cross-entropy of padded sequences.",
    r"\frac{\partial L}{\partial z_{bt}} = \frac{m_{bt}}{N} \big(\operatorname{softmax}(z_{bt}) - e_{y_{bt}}\big)",
    "grad",
)
def sequence_softmax_cross_entropy_grad(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    lengths: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    axis: int = -1,
    reduction: str = "mean",
) -> Result:
    template = float_grad.sequence_softmax_cross_entropy(
        logits, labels, lengths=lengths, mask=mask, axis=axis, reduction=reduction
    )
    tokens, batch = _tokens(logits, labels, lengths, mask, axis)
    per_sequence = [0] * batch
    for _, _, counts, b in tokens:
        per_sequence[b] += counts
    total = sum(per_sequence)

    def divisor(b):
        if reduction == "mean":
            return total
        return batch * per_sequence[b] if reduction == "sequence_mean" else 1

    def values(token):
        row, label, counts, b = token
        if not counts:
            return [arb(0)] * len(row)
        return _gradient(row, label, divisor(b))

    return per_class(template, axis % np.ndim(template), tokens, values, "grad.sequence_softmax_cross_entropy")


@mirrors(
    "xentref.micro_batch_token_mean", "Exact token mean of micro-batches.",
    r"L = \sum_i S_i \Big/ \sum_i N_i", "mean",
)
def micro_batch_token_mean(losses: ArrayLike, counts: ArrayLike) -> Result:
    template = xentref.micro_batch_token_mean(losses, counts)
    values = [math.inf if v == math.inf else exact(v) for v in floats(losses).ravel().tolist()]
    total = int(np.sum(counts))
    return like(template, certify(lambda: [_divide(add(values), total)], template.dtype, "micro_batch_token_mean"))
