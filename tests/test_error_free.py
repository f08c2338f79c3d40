"""The error-free building blocks of xentref._error_free, against mpmath at 200 bits."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from xentref import _error_free as ef
from xentref._coefficient_rows import power

SEED = 20261124
mpmath.mp.prec = 200


def relative_errors(pair, expected):
    """|high + low - expected| / |expected| for each entry (expected: mpmath numbers, none 0)."""
    high, low = (np.ravel(part) for part in pair)
    return np.array([float(abs((mpmath.mpf(h) + mpmath.mpf(l)) - e) / abs(e))
                     for h, l, e in zip(high, low, expected)])


def gaps(rng, n):
    """Non-positive pairs: gaps of every size down to -745, with low parts below half an ulp."""
    high = np.concatenate([-rng.uniform(0, 1, n), -rng.uniform(0, 745, n), -10.0 ** rng.uniform(-300, 0, n)])
    low = high * rng.uniform(-1, 1, high.shape) * 2.0**-54
    return high, low


def test_two_sum_and_two_product_are_exact():
    rng = np.random.default_rng(SEED)
    a = rng.normal(size=500) * 10.0 ** rng.uniform(-20, 20, 500)
    b = rng.normal(size=500) * 10.0 ** rng.uniform(-20, 20, 500)
    for (s, e), exact in ((ef.two_sum(a, b), lambda x, y: x + y), (ef.two_product(a, b), lambda x, y: x * y)):
        for x, y, high, low in zip(a, b, s, e):
            assert Fraction(high) + Fraction(low) == exact(Fraction(x), Fraction(y))


@pytest.mark.parametrize("scale", [0, 600])
def test_exp_of_a_pair_is_within_2_to_the_minus_58(scale):
    rng = np.random.default_rng(SEED + scale)
    high, low = gaps(rng, 300)
    value = ef.exp((high, low), scale=scale)
    expected = [mpmath.exp(mpmath.mpf(h) + mpmath.mpf(l)) * mpmath.mpf(2) ** scale for h, l in zip(high, low)]
    # The bound holds for results above 2^-960; below, the low part meets the subnormals.
    normal = np.array([e > mpmath.mpf(2) ** -960 for e in expected])
    errors = relative_errors((value[0][normal], value[1][normal]), [e for e, n in zip(expected, normal) if n])
    assert np.max(errors) <= 2.0**-58
    # Normalised: the high part is the float nearest to the pair.
    assert np.array_equal(value[0], value[0] + value[1])


def test_exp_into_buffers_equals_exp_and_gives_0_below_the_range():
    rng = np.random.default_rng(SEED)
    high, low = gaps(rng, 100)
    high = np.concatenate([high, [-np.inf, -800.0, -1e300]])
    low = np.concatenate([low, [np.nan, 0.0, -1e284]])
    out = np.empty(high.shape), np.empty(high.shape)
    work = tuple(np.empty(high.shape) for _ in range(3))
    with np.errstate(invalid="ignore"):
        # The low part of a -inf gap is NaN, as the kernel makes it.
        into = ef.exp_into(high, low, out, work)
        pair = ef.exp((high, low))
    assert np.array_equal(into[0], pair[0]) and np.array_equal(into[1], pair[1])
    assert np.all(into[0][-3:] == 0) and np.all(into[1][-3:] == 0)


def test_log1p_of_a_pair_is_within_2_to_the_minus_57():
    rng = np.random.default_rng(SEED)
    high = np.concatenate([10.0 ** rng.uniform(-320, 6, 400), rng.uniform(0.3, 0.5, 100),
                           [5e-324, 2.0**-53, np.sqrt(2) - 1, 1.0, 1e300]])
    low = high * rng.uniform(-1, 1, high.shape) * 2.0**-54
    with np.errstate(under="ignore"):
        # Low parts of subnormal values round to 0.
        low = np.where(high < 1e-290, 0.0, low)
    expected = [mpmath.log1p(mpmath.mpf(h) + mpmath.mpf(l)) for h, l in zip(high, low)]
    assert np.max(relative_errors(ef.log1p((high, low)), expected)) <= 2.0**-57
    assert ef.log1p((np.zeros(1), np.zeros(1)))[0][0] == 0


@pytest.mark.parametrize("gamma", [0.5, 2.5, 7.3])
def test_power_of_a_pair_is_within_gamma_plus_2_times_2_to_the_minus_59(gamma):
    rng = np.random.default_rng(SEED)
    high = np.concatenate([rng.uniform(0, 1, 300), 10.0 ** rng.uniform(-min(250 / gamma, 300), 0, 300), [1.0, 0.5]])
    low = high * rng.uniform(-1, 1, high.shape) * 2.0**-54
    low[-2:] = 0
    expected = [(mpmath.mpf(h) + mpmath.mpf(l)) ** gamma for h, l in zip(high, low)]
    assert np.max(relative_errors(ef.power((high, low), gamma), expected)) <= (gamma + 2) * 2.0**-59
    assert ef.power((np.zeros(1), np.zeros(1)), gamma)[0][0] == 0


@pytest.mark.parametrize("gamma", [1.0, 2.0, 5.0, 13.0])
def test_an_integral_power_is_a_product_of_pairs(gamma):
    # Order gamma u^2: far below 2^-90 for these exponents.
    rng = np.random.default_rng(SEED)
    high = np.concatenate([rng.uniform(0.01, 1, 300), [1.0]])
    low = high * rng.uniform(-1, 1, high.shape) * 2.0**-54
    expected = [(mpmath.mpf(h) + mpmath.mpf(l)) ** int(gamma) for h, l in zip(high, low)]
    assert np.max(relative_errors(power((high, low), gamma, accurate=True), expected)) <= 2.0**-90
