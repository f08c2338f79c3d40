"""What is special to logsumexp, log_softmax and softmax.

The contract they share with every function is in test_contract.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import exact
from helpers import logits, ulps, ulps_of

SEED = 20261121


# Known values --------------------------------------------------------------


def test_logsumexp_of_two_zeros_is_log_two():
    assert xentref.logsumexp([0.0, 0.0]) == math.log(2)


def test_logsumexp_keeps_a_tiny_correction():
    # log(e^0 + e^-40) = log1p(e^-40) = 4.248...e-18; log(1 + e^-40) would be 0.
    value = xentref.logsumexp([0.0, -40.0])
    assert exact.ulp_distance(value, exact.logsumexp([0.0, -40.0])) <= 1


def test_tiny_log_softmax_entry_keeps_its_digits():
    # Logits [30, 0] give log p_0 = -log1p(e^-30) = -9.3576e-14.
    value = xentref.log_softmax([30.0, 0.0])[0]
    assert exact.ulp_distance(value, exact.log_softmax([30.0, 0.0])[0]) <= 1
    assert f"{-value:.4g}" == "9.358e-14"


@pytest.mark.parametrize("scale", [1e300, 1.7e308])
def test_huge_logits_stay_finite(scale):
    x = np.array([scale, -scale / 2, 0.0])
    assert xentref.logsumexp(x) == scale
    log_p = xentref.log_softmax(x)
    np.testing.assert_array_equal(log_p, [0.0, -1.5 * scale, -scale])
    np.testing.assert_array_equal(xentref.softmax(x), [1.0, 0.0, 0.0])


def test_gap_beyond_the_float_range_rounds_to_minus_infinity_silently():
    # The exact value -3.4e308 is not representable: IEEE overflow gives -inf.
    with np.errstate(all="raise"):
        log_p = xentref.log_softmax([1.7e308, -1.7e308])
    np.testing.assert_array_equal(log_p, [0.0, -np.inf])


def test_ties_at_the_maximum():
    x = np.full(4, 7.0)
    assert exact.ulp_distance(xentref.logsumexp(x), exact.logsumexp(x)) <= 1  # 7 + log 4
    np.testing.assert_array_equal(xentref.softmax(x), np.full(4, 0.25))


def test_minus_infinity_is_probability_zero():
    x = np.array([0.0, -np.inf, 0.0])
    assert xentref.logsumexp(x) == math.log(2)
    np.testing.assert_array_equal(xentref.softmax(x), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(xentref.log_softmax(x), [-math.log(2), -np.inf, -math.log(2)])


def test_logsumexp_with_infinities():
    x = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [np.inf, -np.inf]])
    np.testing.assert_array_equal(xentref.logsumexp(x), [-np.inf, np.inf, np.inf])


def test_softmax_underflows_to_zero_not_nan():
    p = xentref.softmax([0.0, -800.0])
    np.testing.assert_array_equal(p, [1.0, 0.0])
    assert xentref.log_softmax([0.0, -800.0])[1] == -800.0


# Long rows against xentref.exact -------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("spread", [1.0, 30.0, 1e3])
def test_logsumexp_of_long_rows(dtype, spread):
    # Within one ulp of max(|logsumexp(x)|, max |x|), the size of the terms
    # it is formed from: tighter than the bound of Blanchard, Higham and
    # Higham (Thm 4.2), (|y| + n - min x) / |y| units of roundoff.
    rng = np.random.default_rng(SEED)
    for n in [2, 5, 100]:
        x = (spread * rng.standard_normal(n)).astype(dtype)
        assert ulps_of(xentref.logsumexp(x), exact.logsumexp(x), np.max(np.abs(x))) <= 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_softmax_and_softmax_of_long_rows(dtype):
    rng = np.random.default_rng(SEED)
    for n in [2, 5, 100]:
        x = (10 * rng.standard_normal(n)).astype(dtype)
        # The error of x_k - a - log1p(s) is a few ulps of the largest of
        # |x_k - a| and log1p(s); softmax adds one ulp per class.
        scale = np.maximum(np.abs(x.astype(np.float64) - x.max()), 1)
        error = np.abs(xentref.log_softmax(x).astype(np.float64) - exact.log_softmax(x))
        assert np.all(error <= 4 * ulps(dtype) * scale)
        assert np.all(exact.ulp_distance(xentref.softmax(x), exact.softmax(x)) <= n + 4 + 2 * scale)


# Properties -----------------------------------------------------------------


@given(logits(6, batch=(2,)), st.floats(-1e3, 1e3))
def test_log_softmax_is_shift_invariant(x, shift):
    # Adding a constant changes only the rounding of x + c.
    tolerance = 8 * ulps(np.float64) * (np.max(np.abs(x)) + abs(shift) + 1)
    np.testing.assert_allclose(xentref.log_softmax(x + shift), xentref.log_softmax(x), rtol=0, atol=tolerance)


@given(logits(6, batch=(3,), dtype=np.float32))
def test_softmax_is_a_distribution(x):
    p = xentref.softmax(x)
    assert p.dtype == np.float32
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1, rtol=0, atol=8 * ulps(np.float32))


@given(logits(5, bound=1e300))
def test_logsumexp_bounds(x):
    # max x <= logsumexp(x) <= max x + log n
    lse = xentref.logsumexp(x)
    assert np.max(x) <= lse <= np.max(x) + math.log(x.size) * (1 + 4 * ulps(np.float64))


# Bad input ------------------------------------------------------------------

SOFTMAXES = [xentref.log_softmax, xentref.softmax]


@pytest.mark.parametrize("function", SOFTMAXES)
def test_plus_infinity_is_refused(function):
    with pytest.raises(ValueError, match=r"`logits` must be finite or -inf; found \+inf at index \(2,\)"):
        function([0.0, 1.0, np.inf])


@pytest.mark.parametrize("function", SOFTMAXES)
def test_all_minus_infinity_is_refused(function):
    with pytest.raises(ValueError, match=r"every entry is -inf at batch index \(1,\)"):
        function([[0.0, 1.0], [-np.inf, -np.inf]])


@pytest.mark.parametrize("function", [xentref.logsumexp, *SOFTMAXES])
def test_empty_class_axis_is_refused(function):
    with pytest.raises(ValueError, match=r"has an empty class axis: axis -1 of shape \(2, 0\) has size 0"):
        function(np.zeros((2, 0)))


@pytest.mark.parametrize("function", [xentref.logsumexp, *SOFTMAXES])
def test_scalar_is_refused(function):
    with pytest.raises(ValueError, match=r"must have at least one dimension"):
        function(3.0)


@pytest.mark.parametrize("function", [xentref.logsumexp, *SOFTMAXES])
def test_complex_is_refused(function):
    # The softmax family also takes float16 and bfloat16 (tests/test_kernel.py).
    with pytest.raises(TypeError, match=r"must hold real numbers of dtype float16, bfloat16, float32 or float64; got dtype complex128"):
        function(np.array([1j, 0]))


@pytest.mark.parametrize("function", [xentref.logsumexp, *SOFTMAXES])
def test_axis_out_of_range_is_refused(function):
    with pytest.raises(ValueError, match=r"`axis` 2 is out of range"):
        function(np.zeros((2, 3)), axis=2)
