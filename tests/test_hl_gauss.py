"""What only the HL-Gauss targets do: tails, normalisation, decoding bias, refusals.

The contract (accuracy against xentref.exact within the size of the tails a
mass is formed from, the SymPy formula, dtypes, no floating-point warning)
runs on them from tests/cases.py. Here: masses against mpmath, the tails
where a difference of erf values loses its digits, the captured mass and
what normalisation does with it, the decoded value against the encoded one,
and each way bad input is refused.
"""

import math
import re

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import exact

SEED = 20261127
EDGES = np.linspace(0.0, 10.0, 11)
CENTRES = (EDGES[:-1] + EDGES[1:]) / 2


def mp_masses(value, edges, sigma, dps=400):
    """Phi((e_k+1 - y)/sigma) - Phi((e_k - y)/sigma) for each bin, and their sum, at `dps` digits.

    The differences of values near 1 cost as many digits as the masses are
    small: 400 digits leave 200 for a mass of 10^-200.
    """
    with mpmath.workdps(dps):
        cdf = [mpmath.ncdf((mpmath.mpf(float(e)) - mpmath.mpf(float(value))) / mpmath.mpf(sigma)) for e in edges]
        masses = [high - low for low, high in zip(cdf[:-1], cdf[1:])]
        return masses, cdf[-1] - cdf[0]


def recipe(value, edges, sigma):
    """The usual implementation: erf at every edge, differences, divided by the captured mass."""
    cdf = np.array([math.erf((e - value) / (math.sqrt(2) * sigma)) for e in edges])
    return (cdf[1:] - cdf[:-1]) / (cdf[-1] - cdf[0])


# Accuracy -------------------------------------------------------------------------


@pytest.mark.parametrize("value, sigma", [(5.5, 0.75), (0.0, 0.75), (3.2, 0.2), (9.99, 2.0), (5.0, 30.0)])
def test_masses_match_mpmath(value, sigma):
    masses, captured = mp_masses(value, EDGES, sigma)
    unnormalised = xentref.hl_gauss_targets(value, EDGES, sigma=sigma, normalize=False)
    normalised = xentref.hl_gauss_targets(value, EDGES, sigma=sigma)
    expected = np.array([float(m) for m in masses])
    # Relative to each mass, however small: the arguments here are within
    # 60 sigma, where their rounding costs at most 60^2 eps relatively.
    np.testing.assert_allclose(unnormalised, expected, rtol=4e3 * np.finfo(float).eps, atol=0)
    np.testing.assert_allclose(normalised, [float(m / captured) for m in masses], rtol=4e3 * np.finfo(float).eps,
                               atol=0)


def test_far_bins_keep_their_digits_where_erf_differences_lose_them():
    # Bins 6 to 9 sigma from the value: masses from 1e-9 down to 1e-19.
    edges = np.array([-1.0, 0.0, 6.0, 7.0, 8.0, 9.0])
    value, sigma = -0.5, 1.0
    masses, _ = mp_masses(value, edges, sigma)
    expected = np.array([float(m) for m in masses])
    ours = xentref.hl_gauss_targets(value, edges, sigma=sigma, normalize=False)
    cdf = np.array([math.erf((e - value) / math.sqrt(2)) for e in edges]) / 2
    naive = cdf[1:] - cdf[:-1]
    relative = lambda actual: np.abs(actual[2:] - expected[2:]) / expected[2:]  # noqa: E731
    assert np.all(relative(ours) < 1e-13)
    assert relative(naive)[0] > 1e-8 and np.all(relative(naive)[2:] == 1)  # beyond 8.3 sigma: 0


def test_float32_is_rounded_once_from_float64():
    rng = np.random.default_rng(SEED)
    values = rng.uniform(0, 10, 40).astype(np.float32)
    actual = xentref.hl_gauss_targets(values, EDGES, sigma=0.75)
    assert actual.dtype == np.float32
    assert np.max(exact.ulp_distance(actual, exact.hl_gauss_targets(values, EDGES, sigma=0.75))) <= 1


def test_interior_matches_the_usual_recipe_where_it_does_not_cancel():
    # Near the mean the erf differences of the recipe keep their digits.
    for value in (4.3, 5.5, 6.1):
        ours = xentref.hl_gauss_targets(value, EDGES, sigma=0.75)
        near = np.abs(CENTRES - value) < 2
        np.testing.assert_allclose(ours[near], recipe(value, EDGES, 0.75)[near], rtol=1e-13)


def test_infinitely_many_sigmas_away_is_exactly_one_hot_without_a_warning():
    # (e - y) / sigma overflows to +-inf for the outer edges: their tails are 0.
    edges = np.array([-1e300, 0.0, 1.0, 1e300])
    with np.errstate(all="raise"):
        targets = xentref.hl_gauss_targets(0.5, edges, sigma=1e-10)
    np.testing.assert_array_equal(targets, [0.0, 1.0, 0.0])


# The captured mass and normalisation ----------------------------------------------


@given(st.floats(0, 10), st.floats(0.05, 20))
def test_normalised_targets_are_the_masses_divided_by_their_sum(value, sigma):
    masses = xentref.hl_gauss_targets(value, EDGES, sigma=sigma, normalize=False)
    normalised = xentref.hl_gauss_targets(value, EDGES, sigma=sigma)
    np.testing.assert_allclose(normalised, masses / masses.sum(), rtol=1e-14, atol=1e-300)
    assert abs(normalised.sum() - 1) <= 4 * np.finfo(float).eps


@given(st.floats(0, 10), st.floats(0.05, 20))
def test_the_captured_mass_is_the_gaussians_mass_between_the_outer_edges(value, sigma):
    _, captured = mp_masses(value, EDGES, sigma, dps=40)
    masses = xentref.hl_gauss_targets(value, EDGES, sigma=sigma, normalize=False)
    assert abs(masses.sum() - float(captured)) <= 1e-15
    # The least is lost for a value in the middle of the support.
    lost_in_the_middle = math.erfc(10 / (2 * math.sqrt(2) * sigma))
    assert 1 - masses.sum() >= lost_in_the_middle - 1e-15


def test_a_value_on_an_edge_loses_half_the_mass_and_the_far_tail():
    for sigma in (0.1, 0.75, 5.0):
        lost = 1 - xentref.hl_gauss_targets(0.0, EDGES, sigma=sigma, normalize=False).sum()
        expected = 0.5 + 0.5 * math.erfc(10 / (math.sqrt(2) * sigma))
        assert lost >= 0.5 and math.isclose(lost, expected, rel_tol=1e-14)


def test_unnormalised_targets_are_refused_as_probabilities_unless_nearly_all_mass_is_inside():
    logits = np.zeros(10)
    on_edge = xentref.hl_gauss_targets(0.0, EDGES, sigma=0.75, normalize=False)
    with pytest.raises(ValueError, match=r"^`targets` must sum to 1"):
        xentref.softmax_cross_entropy(logits, on_edge)
    inside = xentref.hl_gauss_targets(5.5, EDGES, sigma=0.75, normalize=False)
    assert 1 - inside.sum() < 1e-8
    assert np.isfinite(xentref.softmax_cross_entropy(logits, inside))


# Decoding --------------------------------------------------------------------------


def poisson_bound(width, sigma):
    """(h / pi) sum_n e^(-2 pi^2 n^2 sigma^2 / h^2) / n: the sawtooth's Fourier series, term by term."""
    return width / math.pi * sum(math.exp(-2 * math.pi**2 * n**2 * sigma**2 / width**2) / n for n in range(1, 50))


@given(st.floats(0.3, 1.5), st.floats(0, 1))
def test_far_from_the_edges_the_decoded_value_is_off_by_at_most_the_bin_centre_bias(ratio, position):
    edges = np.linspace(-20.0, 20.0, 41)  # width 1
    sigma = ratio
    value = -20 + 6 * sigma + (40 - 12 * sigma) * position  # at least 6 sigma inside
    decoded = xentref.expected_value(xentref.hl_gauss_targets(value, edges, sigma=sigma), (edges[:-1] + edges[1:]) / 2)
    # The truncation moves the mean by at most sigma phi(6) / Z on each side.
    truncation = 2 * sigma * math.exp(-18) / math.sqrt(2 * math.pi) / 0.99
    assert abs(decoded - value) <= poisson_bound(1.0, sigma) + truncation + 1e-13


def test_the_bias_bound_is_reached_between_bins_and_vanishes_at_a_centre():
    edges = np.linspace(-20.0, 20.0, 41)
    centres = (edges[:-1] + edges[1:]) / 2
    sigma = 0.5
    decode = lambda y: float(xentref.expected_value(xentref.hl_gauss_targets(y, edges, sigma=sigma), centres))  # noqa: E731
    assert abs(decode(0.5) - 0.5) < 1e-13  # a centre
    assert abs(decode(0.0)) < 1e-13  # an edge, by symmetry
    worst = max(abs(decode(y) - y) for y in np.linspace(0, 1, 41))
    assert 0.9 * poisson_bound(1.0, sigma) < worst <= poisson_bound(1.0, sigma) + 1e-13


def test_near_an_edge_the_decoded_value_is_pulled_inside():
    targets = xentref.hl_gauss_targets([0.0, 10.0], EDGES, sigma=0.75)
    decoded = xentref.expected_value(targets, CENTRES)
    assert decoded[0] > 0.6 and decoded[1] < 9.4
    np.testing.assert_allclose(decoded[0], 10 - decoded[1], rtol=1e-14)


# Refusals --------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.0, -1.0, np.nan, np.inf])
def test_sigma_must_be_positive_and_finite(sigma):
    with pytest.raises(ValueError, match=rf"^`sigma` must be a real number in \(0, inf\); got {sigma}$"):
        xentref.hl_gauss_targets(5.0, EDGES, sigma=sigma)


@pytest.mark.parametrize("sigma", [True, "1", None, [1.0]])
def test_sigma_must_be_a_number(sigma):
    with pytest.raises(TypeError, match=rf"^`sigma` must be a real number; got {re.escape(repr(sigma))}$"):
        xentref.hl_gauss_targets(5.0, EDGES, sigma=sigma)


@pytest.mark.parametrize("normalize", [1, "yes", None])
def test_normalize_must_be_a_bool(normalize):
    with pytest.raises(TypeError, match=rf"^`normalize` must be True or False; got {re.escape(repr(normalize))}$"):
        xentref.hl_gauss_targets(5.0, EDGES, sigma=1.0, normalize=normalize)


@pytest.mark.parametrize("value", [-0.1, 10.5, np.inf])
def test_values_outside_the_edges_are_refused_not_clipped(value):
    message = (rf"^`values` must lie in \[0\.0, 10\.0\], the range of `edges`; got {re.escape(repr(value))} "
               rf"at index \(0,\)$")
    with pytest.raises(ValueError, match=message):
        xentref.hl_gauss_targets([value], EDGES, sigma=1.0)


def test_edges_not_strictly_increasing_or_too_few_are_refused():
    message = r"^`edges` must be strictly increasing; got 1\.0 at index 2 after 2\.0 at index 1$"
    with pytest.raises(ValueError, match=message):
        xentref.hl_gauss_targets(0.5, [0.0, 2.0, 1.0], sigma=1.0)
    with pytest.raises(ValueError, match=r"^`edges` must hold at least 2 bin edges; got 1$"):
        xentref.hl_gauss_targets(0.0, [0.0], sigma=1.0)


def test_a_sigma_so_wide_that_the_captured_mass_underflows_is_refused_when_normalising():
    edges = np.array([0.0, 1e-300, 2e-300])
    message = (r"^`sigma` 1e\+300 is too wide for the support of width 2e-300: the mass it leaves inside is "
               r"\S+, below the normal float64 range$")
    with pytest.raises(ValueError, match=message):
        xentref.hl_gauss_targets(1e-300, edges, sigma=1e300)
    masses = xentref.hl_gauss_targets(1e-300, edges, sigma=1e300, normalize=False)
    assert np.all(masses >= 0) and masses.sum() < 1e-300
