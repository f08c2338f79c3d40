"""The numerical kernel of the softmax family: its assumptions, its blocks and its hard cases.

The contract battery (tests/test_contract.py) bounds every function against
:mod:`xentref.exact` on the registry's corpora; this file adds the inputs
that the exact shift exists for, checks that results do not depend on how
the work is cut into blocks and threads, and re-measures the accuracy of
NumPy's ``exp`` and ``log1p`` that the error bounds assume.
"""

from fractions import Fraction

import numpy as np

import xentref
from xentref import exact


def test_exact_gradient_at_tied_maxima_beside_gaps_beyond_any_precision():
    # The probabilities at the tied maxima are 1/2 minus e^(-1.7e308): the
    # entries T/2 - t_k were a tie to round, which no ball could resolve.
    logits = np.array([[0.5, 0.5, -1e300, -1.7e308, -1.7e308]])
    targets = np.array([[0.1259658506796495, 0.1107892065360485, 0.08944592328669482,
                         0.01082143558559924, 0.662977583912008]])
    gradient = exact.grad.softmax_cross_entropy(logits, targets, reduction="none")
    t = [Fraction(v) for v in targets[0]]
    # T/2 - t_k lowered by a sliver far below an ulp: within an ulp of T/2 - t_k.
    expected = [float(sum(t) / 2 - t[0]), float(sum(t) / 2 - t[1]), *(-targets[0, 2:])]
    assert np.max(exact.ulp_distance(gradient[0], np.array(expected))) <= 1
