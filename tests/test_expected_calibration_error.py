"""What only the expected calibration error does: its bins, its definition, its refusals."""

from fractions import Fraction

import numpy as np
import pytest

import xentref

SEED = 20261124


def textbook_ece(probs, labels, n_bins):
    """sum_m |B_m| / N |acc(B_m) - conf(B_m)| in exact rational arithmetic.

    A confidence c is in bin m (1-based) when (m - 1) / M < c <= m / M,
    compared exactly with the rationals m / M; the test data keep away from
    edges, where the package uses the nearest float64 to m / M instead.
    """
    bins = {}
    for row, y in zip(np.asarray(probs).tolist(), labels):
        c = Fraction(max(row))
        m = next(m for m in range(1, n_bins + 1) if c <= Fraction(m, n_bins))
        bins.setdefault(m, []).append((c, int(row.index(max(row)) == y)))
    total = len(labels)
    ece = Fraction(0)
    for members in bins.values():
        accuracy = Fraction(sum(r for _, r in members), len(members))
        confidence = sum(c for c, _ in members) / len(members)
        ece += Fraction(len(members), total) * abs(accuracy - confidence)
    return float(ece)


@pytest.mark.parametrize("n_bins", [1, 10, 15])
def test_the_weighted_gaps_of_the_bins(n_bins):
    rng = np.random.default_rng(SEED)
    probs = rng.dirichlet(np.full(4, 0.5), 500)
    labels = rng.integers(0, 4, 500)
    expected = textbook_ece(probs, labels.tolist(), n_bins)
    actual = xentref.expected_calibration_error(probs, labels, n_bins=n_bins)
    assert abs(actual - expected) <= 4 * np.spacing(expected)


def test_one_bin_is_the_gap_between_accuracy_and_mean_confidence():
    rng = np.random.default_rng(SEED)
    probs = rng.dirichlet(np.ones(3), 100)
    labels = rng.integers(0, 3, 100)
    accuracy = np.mean(probs.argmax(axis=-1) == labels)
    gap = abs(accuracy - probs.max(axis=-1).mean())
    assert np.isclose(xentref.expected_calibration_error(probs, labels, n_bins=1), gap, rtol=1e-13)


def test_hand_values():
    calibrated = [[0.75, 0.25], [0.75, 0.25], [0.25, 0.75], [0.25, 0.75]]
    assert xentref.expected_calibration_error(calibrated, [0, 0, 1, 0]) == 0
    # Confidence 0.9, half right: |0.5 - 0.9|.
    assert xentref.expected_calibration_error([[0.9, 0.1], [0.1, 0.9]], [0, 0]) == 0.4


def test_a_confidence_on_an_edge_belongs_to_the_bin_below():
    # With 5 bins, 0.6 is the upper edge of (0.4, 0.6]: both examples share
    # that bin and their gaps cancel. In (0.6, 0.8] they would not meet.
    probs = [[0.6, 0.4], [0.55, 0.45]]
    gap = abs((1 - 0.6) + (0 - 0.55)) / 2
    assert xentref.expected_calibration_error(probs, [0, 1], n_bins=5) == gap


def test_ties_predict_the_first_class():
    assert xentref.expected_calibration_error([[0.5, 0.5]], [0]) == 0.5
    assert xentref.expected_calibration_error([[0.5, 0.5]], [1]) == 0.5
    assert xentref.expected_calibration_error([[0.5, 0.5], [0.5, 0.5]], [0, 1], n_bins=2) == 0


def test_batch_dimensions_are_pooled_and_axis_is_the_class_axis():
    rng = np.random.default_rng(SEED)
    probs = rng.dirichlet(np.ones(3), (4, 5))
    labels = rng.integers(0, 3, (4, 5))
    flat = xentref.expected_calibration_error(probs.reshape(-1, 3), labels.ravel())
    assert xentref.expected_calibration_error(probs, labels) == flat
    assert xentref.expected_calibration_error(np.moveaxis(probs, -1, 0), labels, axis=0) == flat


def test_has_no_gradient():
    # Piecewise linear with jumps in the probabilities: nothing to descend on.
    assert not hasattr(xentref.grad, "expected_calibration_error")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"n_bins": 0}, ValueError, r"^`n_bins` must be at least 1; got 0$"),
    ({"n_bins": 2.0}, TypeError, r"^`n_bins` must be an integer; got 2.0$"),
    ({"n_bins": True}, TypeError, r"^`n_bins` must be an integer; got True$"),
])
def test_n_bins_is_a_positive_integer(kwargs, error, message):
    with pytest.raises(error, match=message):
        xentref.expected_calibration_error([[0.5, 0.5]], [0], **kwargs)


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match=r"^the expected calibration error of an empty batch \(0 examples\) is undefined$"):
        xentref.expected_calibration_error(np.zeros((0, 2)), np.zeros(0, int))


@pytest.mark.parametrize("probs, labels, error, message", [
    ([[0.5, 0.6]], [0], ValueError, r"^`probs` must sum to 1 along axis 1"),
    ([[0.5, 0.5]], [2], ValueError, r"^`labels` must be class labels in \[0, 2\); got 2 at index \(0,\)$"),
    ([[0.5, 0.5]], [0.0], TypeError, r"^`labels` of shape \(1,\) holds class labels and must have an integer dtype"),
    ([[0.5, 0.5]], [[0]], ValueError, r"^`labels` as class labels must have shape \(1,\); got \(1, 1\)$"),
])
def test_bad_probabilities_and_labels(probs, labels, error, message):
    with pytest.raises(error, match=message):
        xentref.expected_calibration_error(probs, labels)


def test_symbolic_formula_on_hand_values_and_on_the_package():
    import sympy as sp

    from xentref import symbolic

    half = sp.Rational(1, 2)
    rows = [[sp.Rational(9, 10), sp.Rational(1, 10)], [sp.Rational(1, 10), sp.Rational(9, 10)]]
    assert symbolic.expected_calibration_error(rows, [0, 0]) == sp.Rational(2, 5)
    assert symbolic.expected_calibration_error([[half, half]], [1]) == half  # ties predict class 0
    # 0.6 is fl(9/15) rounded down, so it is in bin 9 of (8/15, 9/15]: both share it.
    rows = [[sp.Rational(0.6), sp.Rational(0.4)], [sp.Rational(0.55), sp.Rational(0.45)]]
    expected = abs((1 - sp.Rational(0.6)) + (0 - sp.Rational(0.55))) / 2
    assert symbolic.expected_calibration_error(rows, [0, 1]) == expected
    rng = np.random.default_rng(SEED)
    probs = rng.dirichlet(np.ones(3), 40)
    labels = rng.integers(0, 3, 40)
    exact_rows = [[sp.Rational(float(v)) for v in row] for row in probs]
    value = float(symbolic.expected_calibration_error(exact_rows, labels.tolist()))
    assert abs(xentref.expected_calibration_error(probs, labels) - value) <= 4 * np.spacing(value)
