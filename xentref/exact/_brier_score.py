"""Exact Brier score and its gradient."""

from __future__ import annotations

import numpy as np

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import class_rows, exact, floats, in_dtype
from xentref.exact._doc import mirrors
from xentref.exact._focal_loss import selected_row
from xentref.exact._logsumexp import per_class
from xentref.exact._reduction import add, divisor, mask, reduced


def _examples(probs, targets, axis):
    """Each example's probabilities and targets, as lists of K Python floats.
    """
    probs = floats(probs)
    axis = axis % probs.ndim
    targets = np.asarray(targets)
    if targets.ndim == probs.ndim:
        target_rows = class_rows(in_dtype(targets, probs.dtype), axis)
    else:
        k = probs.shape[axis]
        target_rows = [
            [1.0 if j == label else 0.0 for j in range(k)]
            for label in targets.ravel().tolist()
        ]
    return axis, list(zip(class_rows(probs, axis), target_rows))


@mirrors(
    "xentref.brier_score",
    "Exact Brier score.",
    r"\ell(q, t) = \sum_k (q_k - t_k)^2",
    "loss",
)
def brier_score(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = xentref.brier_score(
        probs, targets, axis=axis, reduction=reduction, where=where
    )
    _, examples = _examples(probs, targets, axis)
    return reduced(
        [
            lambda q=q, t=t: add(
                [(exact(a) - exact(b)) ** 2 for a, b in zip(q, t)]
            )
            for q, t in examples
        ],
        reduction,
        template,
        "brier_score",
        mask(where),
    )


@mirrors(
    "xentref.grad.brier_score",
    "Exact gradient of the Brier score.",
    r"\frac{\partial \ell}{\partial q_k} = 2 (q_k - t_k)",
    "grad",
)
def brier_score_grad(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    template = float_grad.brier_score(
        probs, targets, axis=axis, reduction=reduction, where=where
    )
    axis, examples = _examples(probs, targets, axis)
    keep = mask(where) or [True] * len(examples)
    count = divisor(sum(keep), reduction)
    return per_class(
        template,
        axis,
        [(q, t, k) for (q, t), k in zip(examples, keep)],
        lambda example: selected_row(
            example,
            lambda q, t: [2 * (exact(a) - exact(b)) / count for a, b in zip(q, t)],
        ),
        "grad.brier_score",
    )
