"""What only the bin and two-hot targets and their decoder do.

The contract (accuracy against xentref.exact, the SymPy formula, dtypes, NaN
and +inf refused) runs on them from tests/cases.py. Here: the bins against
``numpy.histogram``, the two-hot weights against exact rational arithmetic,
the decoded values against the encoded ones, and each way bad input is
refused.
"""

import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import exact

EPS = float(np.finfo(np.float64).eps)
SEED = 20261126


@st.composite
def points_and_values(draw, max_points=12, size=8):
    """Strictly increasing points (at least 2) and values between the first and the last."""
    raw = draw(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=max_points, unique=True))
    points = np.array(sorted(raw))
    fractions = draw(st.lists(st.floats(0, 1), min_size=size, max_size=size))
    low, high = points[0], points[-1]
    values = np.array([min(low + (high - low) * f, high) for f in fractions])
    # Values on the points themselves, the edge cases of every search.
    on = draw(st.lists(st.integers(0, len(points) - 1), min_size=2, max_size=2))
    return points, np.concatenate([values, points[on]])


def refuses(error, message, function, *args, **kwargs):
    with pytest.raises(error, match=message):
        function(*args, **kwargs)


# Bins ------------------------------------------------------------------------------


@given(points_and_values())
def test_the_bin_is_the_one_numpy_histogram_counts_the_value_in(case):
    edges, values = case
    targets = xentref.binned_targets(values, edges)
    for value, target in zip(values, targets):
        counts, _ = np.histogram([value], bins=edges)
        np.testing.assert_array_equal(target, counts)


@given(points_and_values())
def test_a_bin_centre_is_within_half_a_bin_of_the_value(case):
    edges, values = case
    centres = (edges[:-1] + edges[1:]) / 2
    decoded = xentref.expected_value(xentref.binned_targets(values, edges), centres)
    index = np.argmax(xentref.binned_targets(values, edges), axis=-1)
    half_width = (edges[index + 1] - edges[index]) / 2
    # The centre and the half width are each rounded once.
    slack = 2 * EPS * np.maximum(np.abs(edges[index]), np.abs(edges[index + 1]))
    assert np.all(np.abs(decoded - values) <= half_width + slack)


def test_the_last_bin_holds_its_right_edge_and_the_others_their_left_edge():
    edges = [0.0, 1.0, 2.0]
    np.testing.assert_array_equal(xentref.binned_targets([0.0, 1.0, 2.0], edges), [[1, 0], [0, 1], [0, 1]])


def test_bins_of_a_scalar_and_of_integers():
    targets = xentref.binned_targets(3, [0, 2, 4, 6])
    assert targets.shape == (3,) and targets.dtype == np.float64
    np.testing.assert_array_equal(targets, [0, 1, 0])
    assert xentref.binned_targets(np.float32([1.0, 5.0]), [0, 2, 4, 6]).dtype == np.float32


# Two-hot ---------------------------------------------------------------------------


def fraction_weights(value, support):
    """The two-hot weights of the float inputs in exact rational arithmetic."""
    s = [Fraction(float(v)) for v in support]
    y = Fraction(float(value))
    i = max(j for j in range(len(s) - 1) if s[j] <= y)
    weights = [Fraction(0)] * len(s)
    weights[i] = (s[i + 1] - y) / (s[i + 1] - s[i])
    weights[i + 1] = (y - s[i]) / (s[i + 1] - s[i])
    return weights


@given(points_and_values())
def test_two_hot_weights_average_the_support_to_the_value_exactly(case):
    # In exact arithmetic the expectation is the value itself, not an approximation.
    support, values = case
    for value in values:
        weights = fraction_weights(value, support)
        assert sum(weights) == 1
        assert sum(w * Fraction(float(s)) for w, s in zip(weights, support)) == Fraction(float(value))
        assert sum(w != 0 for w in weights) <= 2


@given(points_and_values())
def test_two_hot_weights_are_within_2_ulps_of_the_exact_rationals(case):
    # float(Fraction) rounds correctly; each weight is two roundings from it.
    support, values = case
    targets = xentref.two_hot_targets(values, support)
    for value, row in zip(values, targets):
        expected = np.array([float(w) for w in fraction_weights(value, support)])
        assert np.max(exact.ulp_distance(row, expected)) <= 2


@given(points_and_values())
def test_two_hot_decodes_to_the_value_within_rounding(case):
    # Each weight within 2 ulps, two products and a sum rounded once each:
    # at most 3 eps of the larger support point around the value.
    support, values = case
    targets = xentref.two_hot_targets(values, support)
    decoded = xentref.expected_value(targets, support)
    index = np.minimum(np.searchsorted(support, values, side="right") - 1, support.size - 2)
    size = np.maximum(np.abs(support[index]), np.abs(support[index + 1]))
    assert np.all(np.abs(decoded - values) <= 3 * EPS * size)


def test_two_hot_of_a_value_on_the_integers():
    # The example of a value between two integer supports, 3.7: 0.3 and 0.7,
    # within the rounding of 3.7 itself.
    t = xentref.two_hot_targets(3.7, np.arange(-5.0, 6.0))
    assert np.flatnonzero(t).tolist() == [8, 9]
    np.testing.assert_allclose(t[8:10], [0.3, 0.7], rtol=1e-15)
    np.testing.assert_array_equal(xentref.two_hot_targets(4.0, np.arange(6.0)), [0, 0, 0, 0, 1, 0])
    np.testing.assert_array_equal(xentref.two_hot_targets(5.0, np.arange(6.0)), [0, 0, 0, 0, 0, 1])


def test_a_small_two_hot_weight_keeps_its_digits():
    # 1 - w would leave 1.1e-16 of a weight of 1e-20 with no correct digit.
    support = np.array([0.0, 1.0])
    t = xentref.two_hot_targets(1e-20, support)
    assert t[1] == 1e-20 and t[0] == 1.0


def test_two_hot_on_the_symlog_scale_decodes_through_symexp():
    # DreamerV3's use: encode symlog(y) on an even support, decode with symexp.
    rng = np.random.default_rng(SEED)
    values = rng.choice([-1, 1], 200) * 10.0 ** rng.uniform(-3, 6, 200)
    support = np.linspace(-20.0, 20.0, 255)
    decoded = xentref.symexp(xentref.expected_value(xentref.two_hot_targets(xentref.symlog(values), support), support))
    np.testing.assert_allclose(decoded, values, rtol=1e-12, atol=0)


# The decoder ---------------------------------------------------------------------


def test_expected_value_is_the_correctly_rounded_rational_sum_within_its_terms():
    rng = np.random.default_rng(SEED)
    probs = rng.dirichlet(np.ones(5), 40)
    support = np.sort(rng.normal(scale=10, size=5))
    actual = xentref.expected_value(probs, support)
    for row, value in zip(probs, actual):
        exact_sum = sum(Fraction(float(p)) * Fraction(float(s)) for p, s in zip(row, support))
        size = float(np.sum(row * np.abs(support)))
        assert abs(value - float(exact_sum)) <= 2 * EPS * size


def test_expected_value_along_another_axis():
    rng = np.random.default_rng(SEED)
    probs = rng.dirichlet(np.ones(4), (3, 2))
    support = [-1.0, 0.0, 2.5, 7.0]
    np.testing.assert_array_equal(
        xentref.expected_value(np.moveaxis(probs, -1, 1), support, axis=1),
        xentref.expected_value(probs, support),
    )


# Refusals --------------------------------------------------------------------------

ENCODERS = [
    (xentref.binned_targets, "edges", "bin edges"),
    (xentref.two_hot_targets, "support", "support points"),
]


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_points_that_are_not_strictly_increasing_are_refused(function, name, kind):
    refuses(ValueError, rf"^`{name}` must be strictly increasing; got 1\.0 at index 2 after 1\.0 at index 1$",
            function, 0.5, [0.0, 1.0, 1.0, 2.0])
    refuses(ValueError, rf"^`{name}` must be strictly increasing; got 0\.0 at index 1 after 2\.0 at index 0$",
            function, 0.5, [2.0, 0.0])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_fewer_than_two_points_are_refused(function, name, kind):
    refuses(ValueError, rf"^`{name}` must hold at least 2 {kind}; got 1$", function, 0.0, [0.0])
    refuses(ValueError, rf"^`{name}` must hold at least 2 {kind}; got 0$", function, 0.0, [])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_points_that_are_not_one_dimensional_are_refused(function, name, kind):
    refuses(ValueError, rf"^`{name}` must be a 1-D array of {kind}; got shape \(2, 2\)$",
            function, 0.5, [[0.0, 1.0], [2.0, 3.0]])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_nan_or_infinite_points_are_refused(function, name, kind):
    refuses(ValueError, rf"^`{name}` must not contain NaN; found NaN at index \(1,\)$", function, 0.5, [0.0, np.nan])
    refuses(ValueError, rf"^`{name}` must be finite; got inf at index \(2,\)$", function, 0.5, [0.0, 1.0, np.inf])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_points_are_read_in_the_dtype_of_the_values(function, name, kind):
    # 1 and 1 + 2^-30 are distinct in float64 but one number in float32.
    points = [0.0, 1.0, 1.0 + 2.0**-30, 2.0]
    assert function(np.float64(0.5), points).shape == (len(points) - 1 if name == "edges" else len(points),)
    refuses(ValueError, rf"^`{name}` must be strictly increasing; got 1\.0000000009313226 at index 2 after 1\.0 "
                        rf"at index 1 once read in float32$", function, np.float32(0.5), points)
    refuses(ValueError, rf"^`{name}` must be finite; got 1e\+300 at index \(1,\), which overflows float32$",
            function, np.float32(0.5), [0.0, 1e300])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_points_spanning_more_than_the_float_range_are_refused(function, name, kind):
    refuses(ValueError, rf"^`{name}` must span a finite width in float64; got -1e\+308 to 1e\+308, whose "
                        rf"difference overflows$", function, 0.0, [-1e308, 1e308])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
@pytest.mark.parametrize("value", [-0.5, 3.5, -np.inf, np.inf])
def test_values_outside_the_points_are_refused_not_clipped(function, name, kind, value):
    refuses(ValueError, rf"^`values` must lie in \[0\.0, 3\.0\], the range of `{name}`; got "
                        rf"{re.escape(repr(value))} at index \(1,\)$", function, [1.0, value], [0.0, 1.0, 3.0])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_nan_values_are_refused(function, name, kind):
    refuses(ValueError, r"^`values` must not contain NaN; found NaN at index \(0,\)$", function, [np.nan], [0.0, 1.0])


@pytest.mark.parametrize("function, name, kind", ENCODERS)
def test_values_and_points_that_are_not_real_numbers_are_refused(function, name, kind):
    refuses(TypeError, r"^`values` must hold real numbers of dtype float32 or float64; got dtype complex128$",
            function, [0.5 + 0j], [0.0, 1.0])
    refuses(TypeError, rf"^`{name}` must hold real numbers of dtype float32 or float64; got dtype <U1$",
            function, [0.5], ["a", "b"])


def test_expected_value_refuses_probabilities_that_are_not_a_distribution():
    refuses(ValueError, r"^`probs` must sum to 1 along axis 1", xentref.expected_value, [[0.5, 0.4]], [0.0, 1.0])
    refuses(ValueError, r"^`probs` must be non-negative; got -0\.5 at index \(0, 0\)$",
            xentref.expected_value, [[-0.5, 1.5]], [0.0, 1.0])


def test_expected_value_refuses_a_support_of_another_length():
    refuses(ValueError, r"^`support` must have one point per class, 3 along axis 1 of `probs`; got 2$",
            xentref.expected_value, [[0.2, 0.3, 0.5]], [0.0, 1.0])


def test_expected_value_refuses_a_support_that_is_not_strictly_increasing():
    refuses(ValueError, r"^`support` must be strictly increasing; got 0\.0 at index 2 after 1\.0 at index 1$",
            xentref.expected_value, [[0.2, 0.3, 0.5]], [0.0, 1.0, 0.0])


def test_expected_value_of_one_class_is_its_point():
    # One bin, from two edges, is a valid encoding; its decoding is its centre.
    targets = xentref.binned_targets([0.2, 0.9], [0.0, 1.0])
    np.testing.assert_array_equal(xentref.expected_value(targets, [0.5]), [0.5, 0.5])
