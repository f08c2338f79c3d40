"""Exact bin, two-hot and expected-value computations."""

from __future__ import annotations

from flint import arb

import xentref
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import class_rows, exact, floats, in_dtype, like
from xentref.exact._doc import mirrors
from xentref.exact._logsumexp import per_class
from xentref.exact._reduction import add, reduced


def encoded(values, points):
    """The values as Python floats, and the points read in their dtype, as the float functions read them."""
    values = floats(values)
    return values.ravel().tolist(), in_dtype(points, values.dtype).tolist()


def last_at_or_below(points, value, count):
    """The largest index j < `count` with ``points[j] <= value``, by exact comparison."""
    return max(j for j in range(count) if points[j] <= value)


@mirrors(
    "xentref.binned_targets", "Exact one-hot bin targets.",
    r"t_k = [\,e_k \le y < e_{k+1}\,]", "targets",
)
def binned_targets(values: ArrayLike, edges: ArrayLike) -> Result:
    template = xentref.binned_targets(values, edges)
    values, edges = encoded(values, edges)
    n_bins = len(edges) - 1
    # Among the first K edges, the last one at or below the value: e_K itself
    # falls in the last bin.
    bins = [last_at_or_below(edges, v, n_bins) for v in values]
    return like(template, [float(k == b) for b in bins for k in range(n_bins)])


def _two_hot(support, value):
    i = last_at_or_below(support, value, len(support) - 1)
    below, above, y = exact(support[i]), exact(support[i + 1]), exact(value)
    row = [arb(0)] * len(support)
    row[i] = (above - y) / (above - below)
    row[i + 1] = (y - below) / (above - below)
    return row


@mirrors(
    "xentref.two_hot_targets", "Exact two-hot targets.",
    r"t_i = \frac{s_{i+1} - y}{s_{i+1} - s_i}, \; t_{i+1} = \frac{y - s_i}{s_{i+1} - s_i}",
    "targets",
)
def two_hot_targets(values: ArrayLike, support: ArrayLike) -> Result:
    template = xentref.two_hot_targets(values, support)
    values, support = encoded(values, support)
    return per_class(template, template.ndim - 1, values, lambda v: _two_hot(support, v), "two_hot_targets")


@mirrors(
    "xentref.expected_value", "Exact expectation of the support points.",
    r"\hat y = \sum_k q_k s_k", "value",
)
def expected_value(probs: ArrayLike, support: ArrayLike, *, axis: int = -1) -> Result:
    template = xentref.expected_value(probs, support, axis=axis)
    probs = floats(probs)
    points = [exact(s) for s in in_dtype(support, probs.dtype).tolist()]
    rows = class_rows(probs, axis % probs.ndim)
    return reduced(
        [lambda row=row: add([exact(q) * s for q, s in zip(row, points)]) for row in rows],
        "none", template, "expected_value",
    )
