import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import symbolic
from helpers import mp_log_sigmoid, mp_sigmoid, mp_softplus, ulp_error

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
    assert ulp_error(value, -mpmath.log1p(mpmath.exp(-40)), np.float64) <= 1
    assert f"{value:.4g}" == "-4.248e-18"


def test_softplus_of_minus_thirty_keeps_its_digits():
    # log1p(e^-30) = e^-30 (1 - e^-30 / 2 + ...); log(1 + e^-30) keeps only
    # the digits of 1 + e^-30, about three fewer.
    value = xentref.softplus(-30.0)
    assert ulp_error(value, mpmath.log1p(mpmath.exp(-30)), np.float64) <= 1
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
    assert ulp_error(xentref.sigmoid(-40.0), mp_sigmoid(-40.0), np.float64) <= 2
    assert xentref.sigmoid(-1e300) == 0 and xentref.sigmoid(1e300) == 1


# Accuracy against mpmath (50 digits) --------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_matches_mpmath_at_every_magnitude(dtype, sign):
    x = np.array([sign * m for m in MAGNITUDES if m < float(np.finfo(dtype).max)], dtype=dtype)
    softplus = xentref.softplus(x)
    log_sigmoid = xentref.log_sigmoid(x)
    assert softplus.dtype == dtype and log_sigmoid.dtype == dtype
    sigmoid = xentref.sigmoid(x)
    assert sigmoid.dtype == dtype
    for v, s, l, g in zip(x, softplus, log_sigmoid, sigmoid):
        assert ulp_error(s, mp_softplus(v), dtype) <= 2
        assert ulp_error(l, mp_log_sigmoid(v), dtype) <= 2
        assert ulp_error(g, mp_sigmoid(v), dtype) <= 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_inputs_match_mpmath(dtype):
    rng = np.random.default_rng(SEED)
    x = (rng.choice([-1, 1], 300) * 10 ** rng.uniform(-12, 3, 300)).astype(dtype)
    errors = [ulp_error(s, mp_softplus(v), dtype) for v, s in zip(x, xentref.softplus(x))]
    errors += [ulp_error(g, mp_sigmoid(v), dtype) for v, g in zip(x, xentref.sigmoid(x))]
    assert max(errors) <= 2


# Agreement with xentref.symbolic ------------------------------------------


def test_agrees_with_symbolic_definitions():
    z = sp.symbols("z", real=True)
    softplus = sp.lambdify(z, symbolic.softplus(z))
    log_sigmoid = sp.lambdify(z, symbolic.log_sigmoid(z))
    sigmoid = sp.lambdify(z, symbolic.sigmoid(z))
    # The textbook formulas overflow beyond moderate |z|, and they round
    # 1 + e^z, so their own error is about eps in absolute terms: hence atol.
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(xentref.softplus(x), softplus(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(xentref.log_sigmoid(x), log_sigmoid(x), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(xentref.sigmoid(x), sigmoid(x), rtol=1e-14, atol=0)


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


@given(hnp.arrays(np.float64, 4, elements=st.floats(-1.7e308, 1.7e308)))
def test_no_floating_point_warning_for_finite_input(x):
    previous = np.seterr(all="raise")
    try:
        xentref.softplus(x)
        xentref.log_sigmoid(x)
        xentref.sigmoid(x)
    finally:
        np.seterr(**previous)


# Shapes and dtypes -----------------------------------------------------------


@pytest.mark.parametrize("function", [xentref.sigmoid, xentref.softplus, xentref.log_sigmoid])
def test_shape_and_dtype_are_kept(function):
    x = np.zeros((2, 3), dtype=np.float32)
    assert function(x).shape == (2, 3) and function(x).dtype == np.float32
    assert function(1).dtype == np.float64
    assert np.ndim(function(1.0)) == 0


# Bad input ------------------------------------------------------------------


@pytest.mark.parametrize("function", [xentref.sigmoid, xentref.softplus, xentref.log_sigmoid])
def test_nan_is_refused(function):
    with pytest.raises(ValueError, match=r"`x` must not contain NaN; found NaN at index \(1,\)"):
        function([0.0, np.nan])


@pytest.mark.parametrize("function", [xentref.sigmoid, xentref.softplus, xentref.log_sigmoid])
def test_complex_is_refused(function):
    with pytest.raises(TypeError, match=r"`x` must hold real numbers of dtype float32 or float64; got dtype complex128"):
        function(np.array([1j]))
