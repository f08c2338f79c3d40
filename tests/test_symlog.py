"""What only symlog and symexp do: values against mpmath, inverse, symmetry, overflow."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import exact


def mp_symlog(x):
    with mpmath.workdps(50):
        return float(mpmath.sign(x) * mpmath.log1p(abs(mpmath.mpf(x))))


def mp_symexp(x):
    with mpmath.workdps(50):
        return float(mpmath.sign(x) * mpmath.expm1(abs(mpmath.mpf(x))))


@pytest.mark.parametrize("x", [0.0, 1e-300, 1e-17, -3e-9, 0.5, -1.0, 7.25, -1e6, 1e300])
def test_symlog_against_mpmath(x):
    assert exact.ulp_distance(xentref.symlog(x), mp_symlog(x)) <= 1


@pytest.mark.parametrize("x", [0.0, 1e-300, -1e-17, 3e-9, 0.5, -1.0, 7.25, -300.0, 709.78])
def test_symexp_against_mpmath(x):
    assert exact.ulp_distance(xentref.symexp(x), mp_symexp(x)) <= 1


def test_tiny_values_keep_their_digits():
    # log(1 + x) and exp(x) - 1 would give 0 and 0 here.
    assert xentref.symlog(1e-20) == 1e-20 and xentref.symexp(-1e-20) == -1e-20


def test_symexp_overflows_to_infinity_without_a_warning():
    with np.errstate(all="raise"):
        result = xentref.symexp(np.array([709.0, 710.0, -710.0, np.inf, -np.inf]))
        assert np.isfinite(result[0])
        np.testing.assert_array_equal(result[1:], [np.inf, -np.inf, np.inf, -np.inf])
        np.testing.assert_array_equal(xentref.symlog(np.array([np.inf, -np.inf])), [np.inf, -np.inf])
    assert xentref.symexp(np.float32(89.0)) == np.inf and xentref.symexp(np.float32(88.0)) < np.inf


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_symlog_is_odd_and_symexp_inverts_it(x):
    assert xentref.symlog(-x) == -xentref.symlog(x)
    back = xentref.symexp(xentref.symlog(x))
    # Two results of at most 1 ulp each; symexp magnifies a relative error
    # of its argument y = symlog(x) by y e^y / (e^y - 1) <= 1 + |y|.
    y = abs(float(xentref.symlog(x)))
    assert abs(back - x) <= (2 + 2 * (1 + y)) * np.finfo(float).eps * abs(x) + 5e-324


def test_dtype_is_kept():
    x = np.float32([0.5, -2.0])
    assert xentref.symlog(x).dtype == np.float32 and xentref.symexp(x).dtype == np.float32
    assert xentref.symlog(3).dtype == np.float64


@pytest.mark.parametrize("function", [xentref.symlog, xentref.symexp])
def test_nan_and_non_real_input_are_refused(function):
    with pytest.raises(ValueError, match=r"^`x` must not contain NaN; found NaN at index \(1,\)$"):
        function([0.0, np.nan])
    message = r"^`x` must hold real numbers of dtype float32 or float64; got dtype complex128$"
    with pytest.raises(TypeError, match=message):
        function([1j])
