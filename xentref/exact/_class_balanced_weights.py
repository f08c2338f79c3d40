"""Exact class-balanced weights."""

from __future__ import annotations

from flint import arb

import xentref
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import class_rows, exact, floats
from xentref.exact._doc import mirrors
from xentref.exact._logsumexp import per_class
from xentref.exact._reduction import add


def _row(counts, beta):
    if beta == 0:
        # 1 - 0^n = 1 for every n >= 1: equal weights, exactly.
        return [arb(1)] * len(counts)
    log_beta = exact(beta).log()
    inverse = [1 / -(exact(n) * log_beta).expm1() for n in counts]
    total = add(inverse)
    return [len(counts) * v / total for v in inverse]


@mirrors(
    "xentref.class_balanced_weights",
    "Exact class-balanced weights.",
    r"w_c = K \frac{(1 - \beta)/(1 - \beta^{n_c})}{\sum_j (1 - \beta)/(1 - "
    r"\beta^{n_j})}",
    "weights",
)
def class_balanced_weights(
    counts: ArrayLike, *, beta: float, axis: int = -1
) -> Result:
    template = xentref.class_balanced_weights(counts, beta=beta, axis=axis)
    counts = floats(counts)
    axis = axis % counts.ndim
    return per_class(
        template,
        axis,
        class_rows(counts, axis),
        lambda row: _row(row, beta),
        "class_balanced_weights",
    )
