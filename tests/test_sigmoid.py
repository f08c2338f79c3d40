"""What is special to sigmoid, log_sigmoid and softplus.

The contract they share with every function (accuracy against xentref.exact
on the registry's corpora, the textbook formulas, NaN, no warning for any
finite input) is in test_contract.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import exact

SEED = 20261121

# Logits spread over every magnitude from 1e-12 to 2000, both signs.
MAGNITUDES = [1e-12, 1e-10, 1e-3, 0.5, 1.0, 2.0, 18.0, 30.0, 33.3, 36.0, 40.0, 100.0, 700.0, 1e3, 1e10, 1e300]


# Known values --------------------------------------------------------------


def test_softplus_of_zero_is_log_two():
    assert xentref.softplus(0.0) == math.log(2)
    assert xentref.log_sigmoid(0.0) == -math.log(2)


def test_log_sigmoid_of_forty_keeps_its_digits():
    # log sigma(40) = -log1p(e^-40) = -(e^-40 - e^-80/2 + ...) = -4.2483542552915889e-18;
    # log(1 / (1 + e^-40)) rounds to 0.
    value = xentref.log_sigmoid(40.0)
    assert exact.ulp_distance(value, exact.log_sigmoid(40.0)) <= 1
    assert f"{value:.4g}" == "-4.248e-18"


def test_softplus_of_minus_thirty_keeps_its_digits():
    # log1p(e^-30) = e^-30 (1 - e^-30 / 2 + ...); log(1 + e^-30) keeps only
    # the digits of 1 + e^-30, about three fewer.
    value = xentref.softplus(-30.0)
    assert exact.ulp_distance(value, exact.softplus(-30.0)) <= 1
    assert f"{value:.6g}" == "9.35762e-14"


@pytest.mark.parametrize("x", [1e300, 1.7e308])
def test_huge_inputs_are_finite_and_exact(x):
    # softplus(x) = x + log1p(e^-x) and the correction is far below half an ulp of x.
    assert xentref.softplus(x) == x
    assert xentref.softplus(-x) == 0
    assert xentref.log_sigmoid(-x) == -x
    assert xentref.log_sigmoid(x) == 0


def test_below_the_float_range_softplus_underflows_to_zero():
    # softplus(-1000) = e^-1000 (1 - ...) < 5e-324, the smallest subnormal.
    assert xentref.softplus(-1000.0) == 0
    assert xentref.softplus(-740.0) > 0  # e^-740 is a subnormal


def test_infinities():
    np.testing.assert_array_equal(xentref.softplus([-np.inf, np.inf]), [0, np.inf])
    np.testing.assert_array_equal(xentref.log_sigmoid([-np.inf, np.inf]), [-np.inf, 0])
    np.testing.assert_array_equal(xentref.sigmoid([-np.inf, np.inf]), [0, 1])


def test_sigmoid_of_zero_is_one_half_and_tiny_values_keep_their_digits():
    assert xentref.sigmoid(0.0) == 0.5
    # sigma(-40) = e^-40 / (1 + e^-40); 1 - sigma(40) would be exactly 0.
    assert exact.ulp_distance(xentref.sigmoid(-40.0), exact.sigmoid(-40.0)) <= 2
    assert xentref.sigmoid(-1e300) == 0 and xentref.sigmoid(1e300) == 1


# Every magnitude, against xentref.exact -----------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_at_every_magnitude_and_where_the_formulas_switch(dtype):
    # The registry spreads its logits over the whole float range, a few per
    # decade at best; here 300 more between 1e-12 and 1000, and the
    # magnitudes where implementations change formula (18, 33.3, 36, ...).
    rng = np.random.default_rng(SEED)
    listed = [m for m in MAGNITUDES if m < float(np.finfo(dtype).max)]
    x = np.concatenate([listed, np.negative(listed), rng.choice([-1, 1], 300) * 10 ** rng.uniform(-12, 3, 300)])
    x = x.astype(dtype)
    for name in ["softplus", "log_sigmoid", "sigmoid"]:
        values = getattr(xentref, name)(x)
        assert values.dtype == dtype
        assert np.max(exact.ulp_distance(values, getattr(exact, name)(x))) <= 2, name


# Properties -----------------------------------------------------------------


@given(hnp.arrays(np.float64, 5, elements=st.floats(-1e300, 1e300)))
def test_log_sigmoid_is_minus_softplus_of_minus_x(x):
    np.testing.assert_array_equal(xentref.log_sigmoid(x), -xentref.softplus(-x))


@given(hnp.arrays(np.float64, 5, elements=st.floats(-1e300, 1e300)))
def test_sigmoid_is_exp_of_log_sigmoid_and_symmetric(x):
    np.testing.assert_allclose(xentref.sigmoid(x), np.exp(xentref.log_sigmoid(x)), rtol=4e-16, atol=0)
    np.testing.assert_allclose(xentref.sigmoid(x) + xentref.sigmoid(-x), 1, rtol=0, atol=2.3e-16)


@given(hnp.arrays(np.float64, 5, elements=st.floats(-700, 700)))
def test_sigmoid_is_the_two_class_softmax(x):
    pairs = np.stack([np.zeros_like(x), x], axis=-1)
    np.testing.assert_allclose(xentref.sigmoid(x), xentref.softmax(pairs)[:, 1], rtol=4e-16, atol=0)


@given(st.floats(-700, 700))
def test_softplus_difference_is_the_identity(x):
    # softplus(x) - softplus(-x) = x (Goodfellow et al., section 3.10).
    difference = xentref.softplus(x) - xentref.softplus(-x)
    assert abs(difference - x) <= 4 * np.finfo(float).eps * max(abs(x), 1)


@given(hnp.arrays(np.float64, 4, elements=st.floats(-1.7e308, 1.7e308)))
def test_bounds(x):
    # max(x, 0) <= softplus(x) <= max(x, 0) + log 2
    softplus = xentref.softplus(x)
    assert np.all(softplus >= np.maximum(x, 0))
    assert np.all(softplus <= np.maximum(x, 0) + math.log(2) * (1 + 1e-15))


# Shapes and dtypes -----------------------------------------------------------


@pytest.mark.parametrize("function", [xentref.sigmoid, xentref.softplus, xentref.log_sigmoid])
def test_shape_and_dtype_are_kept(function):
    x = np.zeros((2, 3), dtype=np.float32)
    assert function(x).shape == (2, 3) and function(x).dtype == np.float32
    assert function(1).dtype == np.float64
    assert np.ndim(function(1.0)) == 0


# Bad input ------------------------------------------------------------------


@pytest.mark.parametrize("function", [xentref.sigmoid, xentref.softplus, xentref.log_sigmoid])
def test_complex_is_refused(function):
    with pytest.raises(TypeError, match=r"`x` must hold real numbers of dtype float32 or float64; got dtype complex128"):
        function(np.array([1j]))
