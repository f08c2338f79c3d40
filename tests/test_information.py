"""What is special to entropy, cross-entropy and KL divergence.

The contract they share with every function (accuracy against
xentref.exact on the registry's corpora, the textbook formulas, axes,
dtypes, NaN and ragged input) is in test_contract.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import exact
from cases import _kl_scale
from helpers import distributions, ulps, ulps_of

SEED = 20261121


def dirichlet(rng, k, size=None, dtype=np.float64):
    return rng.dirichlet(np.ones(k), size=size).astype(dtype)


# Known values -------------------------------------------------------------


def test_fair_coin_is_one_bit():
    assert xentref.entropy([0.5, 0.5], base=2) == 1.0


@pytest.mark.parametrize("k", [2, 3, 10, 1000])
def test_uniform_entropy_is_log_k(k):
    # log k, correctly rounded, is the log-sum-exp of k zeros.
    h = xentref.entropy(np.full(k, 1 / k))
    assert exact.ulp_distance(h, exact.logsumexp(np.zeros(k))) <= 4


def test_single_class_has_zero_entropy():
    assert xentref.entropy([1.0]) == 0


def test_certain_outcome_has_zero_entropy_with_a_positive_sign():
    h = xentref.entropy([0.0, 1.0, 0.0])
    assert h == 0 and math.copysign(1, h) == 1


def test_seed_examples_of_cross_entropy():
    # A one-hot target [1, 0, 0] against two predictions from the seed article.
    first = xentref.cross_entropy([1, 0, 0], [0.7, 0.2, 0.1])
    second = xentref.cross_entropy([1, 0, 0], [0.2, 0.4, 0.4])
    assert exact.ulp_distance(first, exact.cross_entropy([1, 0, 0], [0.7, 0.2, 0.1])) <= 1
    assert exact.ulp_distance(second, exact.cross_entropy([1, 0, 0], [0.2, 0.4, 0.4])) <= 1
    assert round(float(first), 4) == 0.3567
    assert round(float(second), 3) == 1.609


def test_kl_of_a_concrete_pair_in_both_directions():
    p, q = [0.5, 0.5], [0.9, 0.1]
    forward = xentref.kl_divergence(p, q)
    backward = xentref.kl_divergence(q, p)
    # Exact values: 0.5 log(25/9) and 0.9 log 1.8 + 0.1 log 0.2.
    assert exact.ulp_distance(forward, exact.kl_divergence(p, q)) <= 4
    assert exact.ulp_distance(backward, exact.kl_divergence(q, p)) <= 4
    assert forward != backward


def test_zero_probabilities_contribute_nothing():
    assert xentref.entropy([0.5, 0.5, 0.0]) == xentref.entropy([0.5, 0.5])
    assert xentref.cross_entropy([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == math.log(4)
    assert xentref.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-15)


def test_zero_target_against_zero_prediction_is_zero():
    assert xentref.cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0
    assert xentref.kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0


def test_prediction_zero_where_target_positive_is_infinite():
    assert xentref.cross_entropy([1, 0, 0], [0, 0.5, 0.5]) == np.inf
    assert xentref.kl_divergence([0.5, 0.5, 0], [1.0, 0, 0]) == np.inf


def test_kl_with_mismatched_support_is_finite_one_way_only():
    p = [0.5, 0.5, 0.0]
    q = [0.5, 0.25, 0.25]
    assert xentref.kl_divergence(p, q) == pytest.approx(0.5 * math.log(2), rel=1e-15)
    assert xentref.kl_divergence(q, p) == np.inf


@pytest.mark.parametrize("base, unit", [(2, math.log(2)), (10, math.log(10)), (math.e, 1.0)])
def test_base_divides_by_log_base(base, unit):
    p, q = [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]
    for function, args in [
        (xentref.entropy, (p,)),
        (xentref.cross_entropy, (p, q)),
        (xentref.kl_divergence, (p, q)),
    ]:
        assert function(*args, base=base) == pytest.approx(function(*args) / unit, rel=1e-15)


# Hard cases against xentref.exact ---------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_long_rows_stay_within_two_ulps(dtype):
    # The registry's rows have 4 classes; here up to 100 terms are summed.
    # KL sums terms of both signs: its error is counted in ulps of sum |terms|.
    rng = np.random.default_rng(SEED)
    for k in [2, 3, 10, 100]:
        p = dirichlet(rng, k, dtype=dtype)
        q = dirichlet(rng, k, dtype=dtype)
        assert exact.ulp_distance(xentref.entropy(p), exact.entropy(p)) <= 2
        assert exact.ulp_distance(xentref.cross_entropy(p, q), exact.cross_entropy(p, q)) <= 2
        kl = xentref.kl_divergence(p, q)
        assert ulps_of(kl, exact.kl_divergence(p, q), _kl_scale((p, q), {})) <= 2


@pytest.mark.parametrize("gap", [1e-3, 1e-6, 1e-9])
def test_kl_between_nearby_distributions_keeps_its_digits(gap):
    # Each term is about +-gap; log(p/q) would carry an error of about eps
    # from the rounding of p/q, far more than eps * gap, which log1p avoids.
    q = np.array([0.3, 0.7])
    p = np.array([0.3 + gap, 0.7 - gap])
    error = abs(float(xentref.kl_divergence(p, q)) - float(exact.kl_divergence(p, q)))
    assert error <= 4 * ulps(np.float64) * gap


def test_kl_with_a_subnormal_prediction_does_not_overflow():
    p = np.array([1.0, 0.0])
    q = np.array([5e-324, 1.0])
    assert exact.ulp_distance(xentref.kl_divergence(p, q), exact.kl_divergence(p, q)) <= 4
    assert exact.ulp_distance(xentref.cross_entropy(p, q), exact.cross_entropy(p, q)) <= 4


# Broadcasting -----------------------------------------------------------------


def test_batch_dimensions_broadcast():
    rng = np.random.default_rng(SEED)
    p = dirichlet(rng, 3, size=1)
    q = dirichlet(rng, 3, size=4)
    together = xentref.cross_entropy(p, q)
    assert together.shape == (4,)
    np.testing.assert_array_equal(together, [xentref.cross_entropy(p[0], row) for row in q])


# Properties -----------------------------------------------------------------


@given(st.integers(1, 8).flatmap(lambda k: st.tuples(distributions(k), distributions(k))))
def test_kl_is_non_negative_and_zero_on_the_diagonal(pair):
    p, q = pair
    k = p.size
    # Inputs sum to 1 only within rounding, so allow a few ulps below zero.
    assert xentref.kl_divergence(p, q) >= -4 * k * ulps(np.float64)
    assert xentref.kl_divergence(p, p) == 0


@given(st.integers(1, 8).flatmap(lambda k: st.tuples(distributions(k), distributions(k))))
def test_cross_entropy_is_at_least_entropy(pair):
    p, q = pair
    k = p.size
    assert xentref.cross_entropy(p, q) >= xentref.entropy(p) - 4 * k * ulps(np.float64)


@given(st.integers(1, 8).flatmap(lambda k: st.tuples(distributions(k), distributions(k))))
def test_cross_entropy_is_entropy_plus_kl(pair):
    p, q = pair
    ce = xentref.cross_entropy(p, q)
    h_plus_kl = xentref.entropy(p) + xentref.kl_divergence(p, q)
    if np.isinf(ce):
        assert np.isinf(h_plus_kl)
    else:
        assert ce == pytest.approx(h_plus_kl, rel=1e-13, abs=1e-13)


@given(st.integers(1, 8).flatmap(distributions))
def test_entropy_lies_between_zero_and_log_k(p):
    h = xentref.entropy(p)
    assert 0 <= h <= math.log(p.size) + 4 * p.size * ulps(np.float64)


# Bad input ------------------------------------------------------------------

FUNCTIONS = [
    (xentref.entropy, 1),
    (xentref.cross_entropy, 2),
    (xentref.kl_divergence, 2),
]


def call(function, arity, bad, good=(0.5, 0.5), position=0):
    args = [good] * arity
    args[position] = bad
    return function(*args)


@pytest.mark.parametrize(
    "function, arity, position",
    [(function, arity, position) for function, arity in FUNCTIONS for position in range(arity)],
)
def test_negative_probability_is_refused(function, arity, position):
    name = "pq"[position]
    with pytest.raises(ValueError, match=rf"`{name}` must be non-negative; got -0.5 at index \(1,\)"):
        call(function, arity, [1.5, -0.5], position=position)


@pytest.mark.parametrize("function, arity", FUNCTIONS)
def test_distribution_not_summing_to_one_is_refused(function, arity):
    with pytest.raises(ValueError, match=r"`p` must sum to 1 along axis 0 \(tolerance 1.5e-08 for float64\); got a sum of 0.9"):
        call(function, arity, [0.5, 0.4])


@pytest.mark.parametrize(
    "function, arity, position",
    [(function, arity, position) for function, arity in FUNCTIONS for position in range(arity)],
)
def test_probability_above_one_within_the_sum_tolerance_is_refused(function, arity, position):
    # [1 + 1e-9, 0] sums to 1 within the tolerance; accepted, it made entropy
    # and cross-entropy negative, contradicting H >= 0 and H(p, q) >= 0.
    name = "pq"[position]
    with pytest.raises(ValueError, match=rf"`{name}` must hold probabilities, at most 1; got 1.000000001 at index \(0,\)"):
        call(function, arity, [1 + 1e-9, 0.0], good=[1.0, 0.0], position=position)


@given(st.integers(1, 8).flatmap(distributions))
def test_accepted_input_gives_non_negative_entropy_and_cross_entropy(p):
    # Every accepted entry is in [0, 1], so every term -p log q is >= 0.
    assert xentref.entropy(p) >= 0
    assert xentref.cross_entropy(p, p[::-1]) >= 0


def test_float64_sum_off_by_float32_rounding_says_how_to_pass_it():
    # 1/1000 in float32 is 1.0000000475e-3: the float64 sum is 1 + 4.7e-8.
    p32 = np.full(1000, 1 / 1000, dtype=np.float32)
    assert np.isfinite(xentref.entropy(p32))
    message = (
        r"`p` must sum to 1 along axis 0 \(tolerance 1.5e-08 for float64\); got a sum of .*\. "
        r"A sum this close to 1 is what rounding leaves in probabilities computed in float32: "
        r"pass them as float32 \(tolerance 0.00035\), or divide them by their sum in float64"
    )
    with pytest.raises(ValueError, match=message):
        xentref.entropy(p32.astype(np.float64))
    as_float64 = p32.astype(np.float64)
    assert np.isfinite(xentref.entropy(as_float64 / as_float64.sum()))


def test_float64_sum_far_from_one_gets_no_float32_hint():
    with pytest.raises(ValueError, match=r"got a sum of 0.9$"):
        xentref.entropy([0.5, 0.4])


def test_sum_tolerance_is_looser_for_float32():
    p = np.array([0.5, 0.5001], dtype=np.float32)
    assert np.isfinite(xentref.entropy(p))
    with pytest.raises(ValueError, match=r"tolerance 0.00035 for float32"):
        xentref.entropy(np.array([0.5, 0.501], dtype=np.float32))


@pytest.mark.parametrize("function, arity", FUNCTIONS)
def test_nan_is_refused(function, arity):
    with pytest.raises(ValueError, match=r"`p` must not contain NaN; found NaN at index \(0, 1\)"):
        call(function, arity, [[0.5, np.nan]], good=[[0.5, 0.5]])


@pytest.mark.parametrize("function, arity", FUNCTIONS)
def test_infinite_probability_is_refused(function, arity):
    with pytest.raises(ValueError, match=r"`p` must be finite; got inf at index \(0,\)"):
        call(function, arity, [np.inf, 0.0])


@pytest.mark.parametrize("function, arity", FUNCTIONS)
def test_empty_class_axis_is_refused(function, arity):
    with pytest.raises(ValueError, match=r"`p` has an empty class axis: axis -1 of shape \(3, 0\) has size 0"):
        call(function, arity, np.zeros((3, 0)), good=np.zeros((3, 0)))


@pytest.mark.parametrize("function, arity", FUNCTIONS)
def test_scalar_is_refused(function, arity):
    with pytest.raises(ValueError, match=r"`p` must have at least one dimension \(the class axis\); got a scalar"):
        call(function, arity, 1.0)


@pytest.mark.parametrize("function, arity", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float16, np.complex128, object])
def test_unsupported_dtype_is_refused(function, arity, dtype):
    with pytest.raises(TypeError, match=r"`p` must hold real numbers of dtype float32 or float64; got dtype"):
        call(function, arity, np.array([0.5, 0.5], dtype=dtype))


def test_strings_are_refused():
    with pytest.raises(TypeError, match=r"`p` must hold real numbers .* got dtype <U3"):
        xentref.entropy(["0.5", "0.5"])


@pytest.mark.parametrize("function", [xentref.cross_entropy, xentref.kl_divergence])
def test_different_class_counts_are_refused(function):
    with pytest.raises(ValueError, match=r"`p` and `q` must have the same number of classes along axis -1; got 2 and 3"):
        function([0.5, 0.5], [0.2, 0.3, 0.5])


@pytest.mark.parametrize("function", [xentref.cross_entropy, xentref.kl_divergence])
def test_different_ranks_need_an_axis_counted_from_the_end(function):
    p = [0.25, 0.75]
    q = [[0.5, 0.5], [0.9, 0.1], [0.2, 0.8]]
    np.testing.assert_array_equal(function(p, q), [function(p, row) for row in q])
    np.testing.assert_array_equal(function(q, p, axis=-1), [function(row, p) for row in q])
    with pytest.raises(ValueError, match=r"`axis` 0 names different dimensions of `p` \(2,\) and `q` \(2, 3\) once they broadcast"):
        function(p, np.transpose(q), axis=0)


@pytest.mark.parametrize("function", [xentref.cross_entropy, xentref.kl_divergence])
def test_batch_shapes_that_do_not_broadcast_are_refused(function):
    p = np.full((2, 2), 0.5)
    q = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=r"the shapes of `p` \(2, 2\) and `q` \(3, 2\) do not broadcast"):
        function(p, q)


@pytest.mark.parametrize("base", [1, 0, -2, np.inf, np.nan])
def test_invalid_base_value_is_refused(base):
    with pytest.raises(ValueError, match=r"`base` must be a finite positive number other than 1; got"):
        xentref.entropy([0.5, 0.5], base=base)


@pytest.mark.parametrize("base", ["2", True, [2]])
def test_invalid_base_type_is_refused(base):
    with pytest.raises(TypeError, match=r"`base` must be a real number or None; got"):
        xentref.entropy([0.5, 0.5], base=base)


@pytest.mark.parametrize("axis", [1, -2])
def test_axis_out_of_range_is_refused(axis):
    with pytest.raises(ValueError, match=rf"`axis` {axis} is out of range for `p` with 1 dimension"):
        xentref.entropy([0.5, 0.5], axis=axis)


@pytest.mark.parametrize("axis", [0.0, None, True])
def test_non_integer_axis_is_refused(axis):
    with pytest.raises(TypeError, match=r"`axis` must be an integer; got"):
        xentref.entropy([0.5, 0.5], axis=axis)


@pytest.mark.parametrize(
    "p, q",
    [
        ([1.0, 0.0], [0.0, 1.0]),
        ([0.0, 1.0], [0.0, 1.0]),
        ([1.0, 0.0], [5e-324, 1.0]),
        ([5e-324, 1.0], [1.0, 0.0]),
        ([0.5, 0.5], [1.0, 0.0]),
    ],
)
def test_no_floating_point_warning_at_the_edges(p, q):
    # The registry's distributions have no subnormal entries.
    with np.errstate(all="raise"):
        xentref.entropy(p)
        xentref.cross_entropy(p, q)
        xentref.kl_divergence(p, q)


def test_a_single_distribution_has_no_batch_index_in_its_message():
    with pytest.raises(ValueError, match=r"got a sum of 0.9$"):
        xentref.entropy([0.5, 0.4])
    with pytest.raises(ValueError, match=r"got a sum of 0.9 at batch index \(1,\)$"):
        xentref.entropy([[0.5, 0.5], [0.5, 0.4]])
