"""Exact expected calibration error."""

from __future__ import annotations

from flint import arb

import xentref
from xentref._expected_calibration_error import confidence_bins
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import exact, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors


@mirrors(
    "xentref.expected_calibration_error",
    "Exact expected calibration error.",
    r"\mathrm{ECE} = \frac{1}{N} \sum_m \Big| \sum_{i \in B_m} ([\hat y_i = "
    r"y_i] - c_i) \Big|",
    "ece",
)
def expected_calibration_error(
    probs: ArrayLike, labels: ArrayLike, *, axis: int = -1, n_bins: int = 15
) -> Result:
    template = xentref.expected_calibration_error(
        probs, labels, axis=axis, n_bins=n_bins
    )
    # The bins and the correctness are decided by exact comparisons of
    # floats, so they are shared with the float function; the sums are not.
    confidence, correct, bins = confidence_bins(
        probs, labels, axis=axis, n_bins=n_bins
    )
    members = {}
    for c, right, m in zip(
        confidence.tolist(), correct.tolist(), bins.tolist()
    ):
        members.setdefault(m, []).append((c, right))

    def value():
        total = arb(0)
        for examples in members.values():
            gap = arb(0)
            for c, right in examples:
                gap += int(right) - exact(c)
            total += abs(gap)
        return [total / len(confidence)]

    return like(
        template, certify(value, template.dtype, "expected_calibration_error")
    )
