"""What is special to the variants of cross-entropy: focal, Poly-1, class-balanced
weights, KL divergence of log-probabilities and distillation.

The contract every loss keeps (accuracy against xentref.exact, SymPy, finite
differences, reductions, axes, dtypes) runs on them from tests/cases.py.
Here: their reductions to simpler losses, their limits, values against
mpmath, and each way bad input is refused.
"""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import exact, grad, symbolic
from cases import _distillation_grad_scale, _distillation_scale
from helpers import distributions, logits, ulps_of

def ulp_distance_to(actual, expected):
    """Floats between `actual` and the float64 nearest the mpmath value `expected`."""
    return exact.ulp_distance(np.float64(actual), np.float64(float(expected)))


SEED = 20261125
RNG = np.random.default_rng(SEED)
Z = RNG.normal(scale=3, size=(6, 4))
LABELS = RNG.integers(0, 4, 6)
PROBABILITIES = RNG.dirichlet(np.ones(4), 6)
SOFT = RNG.uniform(size=(6, 4))
HARD = RNG.integers(0, 2, (6, 4)).astype(float)


def equal(a, b):
    np.testing.assert_array_equal(a, b)


def close(a, b, ulps=4):
    # The variants shift by the rounded maximum; softmax_cross_entropy and
    # log_softmax by the exact one: both are within a few ulps of the value.
    assert np.max(ulps_of(a, b, np.abs(b))) <= ulps


# Reductions to cross-entropy, bit for bit ----------------------------------------


@pytest.mark.parametrize("targets", [HARD, SOFT], ids=["hard", "soft"])
def test_sigmoid_focal_with_gamma_0_is_binary_cross_entropy(targets):
    for f in (xentref, grad):
        equal(f.sigmoid_focal_loss(Z, targets, gamma=0, reduction="none"),
              f.sigmoid_binary_cross_entropy(Z, targets, reduction="none"))
    # With alpha it is the cross-entropy weighted by alpha_t.
    alpha_t = 0.25 * targets + 0.75 * (1 - targets)
    equal(xentref.sigmoid_focal_loss(Z, targets, gamma=0, alpha=0.25, reduction="none"),
          xentref.sigmoid_binary_cross_entropy(Z, targets, weight=alpha_t, reduction="none"))


@pytest.mark.parametrize("targets", [LABELS, PROBABILITIES], ids=["labels", "probabilities"])
def test_softmax_focal_with_gamma_0_and_poly1_with_epsilon_0_are_cross_entropy(targets):
    for f in (xentref, grad):
        expected = f.softmax_cross_entropy(Z, targets, reduction="none")
        close(f.softmax_focal_loss(Z, targets, gamma=0, reduction="none"), expected)
        close(f.softmax_poly1_loss(Z, targets, epsilon=0, reduction="none"), expected)


@pytest.mark.parametrize("targets", [HARD, SOFT], ids=["hard", "soft"])
def test_sigmoid_poly1_with_epsilon_0_is_binary_cross_entropy(targets):
    for f in (xentref, grad):
        equal(f.sigmoid_poly1_loss(Z, targets, epsilon=0, reduction="none"),
              f.sigmoid_binary_cross_entropy(Z, targets, reduction="none"))


@given(z=logits(2, batch=(5,), bound=30), y=hnp.arrays(np.int64, 5, elements=st.integers(0, 1)),
       gamma=st.floats(0, 5), alpha=st.floats(0, 1))
def test_two_class_softmax_focal_is_sigmoid_focal_of_the_gap(z, y, gamma, alpha):
    # softmax([z0, z1])_1 = sigma(z1 - z0); class 1 weighted alpha, class 0 1 - alpha.
    by_softmax = xentref.softmax_focal_loss(z, y, gamma=gamma, alpha=[1 - alpha, alpha], reduction="none")
    by_sigmoid = xentref.sigmoid_focal_loss(z[:, 1] - z[:, 0], y.astype(float), gamma=gamma, alpha=alpha,
                                            reduction="none")
    np.testing.assert_allclose(by_softmax, by_sigmoid, rtol=1e-12, atol=1e-300)


@given(z=logits(2, batch=(5,), bound=30), y=hnp.arrays(np.int64, 5, elements=st.integers(0, 1)),
       epsilon=st.floats(-1, 5))
def test_two_class_softmax_poly1_is_sigmoid_poly1_of_the_gap(z, y, epsilon):
    by_softmax = xentref.softmax_poly1_loss(z, y, epsilon=epsilon, reduction="none")
    by_sigmoid = xentref.sigmoid_poly1_loss(z[:, 1] - z[:, 0], y.astype(float), epsilon=epsilon, reduction="none")
    np.testing.assert_allclose(by_softmax, by_sigmoid, rtol=1e-12, atol=1e-15)


@given(z=logits(4, batch=(3,), bound=50), p=distributions(4, batch=(3,)), gamma=st.floats(0, 5))
def test_focal_loss_never_exceeds_cross_entropy(z, p, gamma):
    # (1 - p_k)^gamma <= 1 (Lin et al.), up to rounding.
    ce = xentref.softmax_cross_entropy(z, p, reduction="none")
    assert np.all(xentref.softmax_focal_loss(z, p, gamma=gamma, reduction="none") <= ce * (1 + 1e-15))


@given(z=logits(4, batch=(3,), bound=50), y=hnp.arrays(np.int64, 3, elements=st.integers(0, 3)))
def test_poly1_with_epsilon_minus_1_is_non_negative(z, y):
    # Every coefficient of (1 - p_t)^j is then >= 0 (Leng et al.).
    assert np.all(xentref.softmax_poly1_loss(z, y, epsilon=-1, reduction="none") >= 0)


# Tiny losses keep their digits ----------------------------------------------------


@pytest.mark.parametrize("z", [10.0, 20.0, 30.0, 100.0])
def test_confident_focal_losses_match_mpmath_where_the_naive_form_fails(z):
    # y = 1: (1 - p_t)^2 log1p(e^-z) with 1 - p_t = sigma(-z) = 1 / (1 + e^z).
    with mpmath.workdps(60):
        tail = 1 / (1 + mpmath.exp(z))
        expected = tail**2 * mpmath.log1p(mpmath.exp(-z))
    assert ulp_distance_to(xentref.sigmoid_focal_loss(z, 1.0), expected) <= 3
    assert ulp_distance_to(xentref.softmax_focal_loss([z, 0.0], 0), expected) <= 3
    # 1 - sigmoid(z) formed by subtraction loses the tail.
    naive = (1 - 1 / (1 + np.exp(-z))) ** 2 * np.log1p(np.exp(-z))
    assert ulp_distance_to(naive, expected) > 1e3


def test_focal_gradient_of_a_confident_prediction_keeps_its_digits():
    # y = 1, z = 40: -sigma(-40)^2 [sigma(-40) + 2 log1p(e^-40) sigma(40)].
    with mpmath.workdps(60):
        s = 1 / (1 + mpmath.exp(40))
        expected = -s**2 * (s + 2 * mpmath.log1p(mpmath.exp(-40)) * (1 - s))
    assert ulp_distance_to(grad.sigmoid_focal_loss(40.0, 1.0), expected) <= 4
    assert ulp_distance_to(grad.softmax_focal_loss([40.0, 0.0], 0)[1], -expected) <= 4


def test_focal_alpha_weighs_positives_by_alpha_and_negatives_by_one_minus_alpha():
    z, y = np.array([0.3, 0.3]), np.array([1.0, 0.0])
    plain = xentref.sigmoid_focal_loss(z, y, reduction="none")
    weighted = xentref.sigmoid_focal_loss(z, y, alpha=0.25, reduction="none")
    equal(weighted, [0.25 * plain[0], 0.75 * plain[1]])


def test_focal_zero_alpha_removes_an_infinite_loss():
    # alpha = 1 gives negatives weight 0, even where their loss is infinite.
    assert xentref.sigmoid_focal_loss(np.inf, 0.0, alpha=1.0) == 0
    assert grad.sigmoid_focal_loss(np.inf, 0.0, alpha=1.0) == 0
    assert xentref.softmax_focal_loss([[0.0, -np.inf]], [1], alpha=[1.0, 0.0]) == 0


# Gaps that the rounded shift got wrong --------------------------------------------

# A row of the hard corpus (tests/cases.py, K = 17): 1.7e308 and -1.7e308 are
# 3.4e308 apart, beyond the float range, yet a target of 0.013 on the lower
# one makes a finite loss near 1e308.
_FAR = np.array([3.3, 3.3, 1e300, -0.5, -1e300, 1.7078084781191998e308, -0.5, -1e300, -1.7078084781191998e308,
                 -1e300, 1.7078084781191998e308, 0.5, -3.3, -0.5, -1e300, -1e300, 1e300])
_FAR_TARGETS = np.array([0.01598039281467014, 0.01784264218384134, 0.02079470269878322, 0.16113180340659292,
                         0.05024477956149658, 0.4341681848837802, 0.02514122224869528, 0.04132808807168633,
                         0.01334579043504938, 0.04712292170253519, 0.0, 0.06880425380944173, 0.01863678858758865,
                         0.00750612458520756, 0.04048586342635465, 0.00902982237564784, 0.02843661920862902])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("function, options", [
    ("softmax_focal_loss", {"gamma": 2.0}), ("softmax_poly1_loss", {"epsilon": 2.0}),
])
def test_a_gap_beyond_the_float_range_under_a_small_target_gives_a_finite_loss(function, options, dtype):
    # The rounded shift made the gap -inf, and 0.013 * inf = inf: the loss was inf.
    z = _FAR
    if dtype == np.float32:
        # The same row in float32's range, as the corpus draws it.
        z = np.where(np.abs(z) > 1e301, np.sign(z) * 3.2326822e38, np.where(np.abs(z) > 1e3, np.sign(z) * 1e37, z))
    z, t = z.astype(dtype), (_FAR_TARGETS / _FAR_TARGETS.sum()).astype(dtype)
    expected = getattr(exact, function)(z, t, **options)
    assert np.isfinite(expected) and expected > np.finfo(dtype).max / 4
    assert ulps_of(getattr(xentref, function)(z, t, **options), expected) <= 1


def test_a_label_beyond_the_float_range_under_a_small_alpha_gives_a_finite_focal_loss():
    # The surprisal 3.4e308 overflowed before alpha_y = 0.06 brought it back:
    # the loss was inf. Such rows are now formed from half the surprisal.
    z = np.array([[-1.7078084781191998e308, 1.7078084781191998e308]])
    alpha = np.array([0.061597, 0.35572361])
    expected = exact.softmax_focal_loss(z, [0], alpha=alpha)
    assert np.isfinite(expected) and expected > 1e307
    assert ulps_of(xentref.softmax_focal_loss(z, [0], alpha=alpha), expected) <= 1
    assert xentref.softmax_focal_loss(z * 1.05, [0], alpha=[0.9, 0.1]) == np.inf  # beyond the range after all


_GAMMA_RNG = np.random.default_rng(SEED + 1)
_GAMMA_Z = np.concatenate([_GAMMA_RNG.normal(scale=3, size=(40, 5)), _GAMMA_RNG.normal(scale=40, size=(40, 5))])
_GAMMA_LABELS = _GAMMA_RNG.integers(0, 5, 80)
_GAMMA_TARGETS = _GAMMA_RNG.dirichlet(np.full(5, 0.5), 80)


def _focal_power_ulps(gamma):
    """The error bound of the power in ulps (xentref/_coefficient_rows.py): gamma/16, (5 gamma + 2)/64."""
    return gamma / 16 if float(gamma).is_integer() else (5 * gamma + 2) / 64


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.5, 3.0, 7.0, 11.0])
def test_focal_loss_is_within_its_bound_for_each_gamma(gamma):
    # Labels: pi + 3/32 + 1/2 ulps from the exact value, so 1 ulp up to
    # gamma = 11; probability targets: pi + 3/2, 2 ulps up to gamma = 12.
    pi = _focal_power_ulps(gamma)
    for targets, bound in ((_GAMMA_LABELS, pi + 3 / 32 + 1), (_GAMMA_TARGETS, pi + 2)):
        actual = xentref.softmax_focal_loss(_GAMMA_Z, targets, gamma=gamma, reduction="none")
        expected = exact.softmax_focal_loss(_GAMMA_Z, targets, gamma=gamma, reduction="none")
        assert np.max(ulps_of(actual, expected)) <= np.floor(bound)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.5, 3.0, 7.0, 11.0])
def test_focal_gradient_is_within_its_bound_for_each_gamma(gamma):
    # Labels: delta_c + 1/16 + 1 of each entry (delta_c = pi + 7/32);
    # probability targets: pi + 2.28 ulps of (1 + gamma)(p_j max alpha + t_j).
    pi = _focal_power_ulps(gamma)
    actual = grad.softmax_focal_loss(_GAMMA_Z, _GAMMA_LABELS, gamma=gamma, reduction="sum")
    expected = exact.grad.softmax_focal_loss(_GAMMA_Z, _GAMMA_LABELS, gamma=gamma, reduction="sum")
    assert np.max(ulps_of(actual, expected)) <= np.floor(pi + 7 / 32 + 1 / 16 + 3 / 2)
    actual = grad.softmax_focal_loss(_GAMMA_Z, _GAMMA_TARGETS, gamma=gamma, reduction="sum")
    expected = exact.grad.softmax_focal_loss(_GAMMA_Z, _GAMMA_TARGETS, gamma=gamma, reduction="sum")
    scale = (1 + gamma) * (xentref.softmax(_GAMMA_Z) + _GAMMA_TARGETS)
    assert np.max(ulps_of(actual, expected, scale)) <= pi + 2.28125


@pytest.mark.parametrize("epsilon", [-1.0, -0.5])
def test_poly1_with_negative_epsilon_is_within_its_bound_of_the_terms(epsilon):
    # The two sums cancel; the bounds (1 and 2 ulps) hold in ulps of their sizes.
    for targets, bound in ((_GAMMA_LABELS, 1.1), (_GAMMA_TARGETS, 2)):
        actual = xentref.softmax_poly1_loss(_GAMMA_Z, targets, epsilon=epsilon, reduction="none")
        expected = exact.softmax_poly1_loss(_GAMMA_Z, targets, epsilon=epsilon, reduction="none")
        terms = exact.softmax_poly1_loss(_GAMMA_Z, targets, epsilon=-epsilon, reduction="none")
        assert np.max(ulps_of(actual, expected, terms)) <= bound


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("gap", [5.3, 37.9, 300.7, 699.9])
def test_a_wide_non_integer_gap_costs_the_variants_no_digits(gap, dtype):
    # Rounding z_k - max z cost |gap| u after exp: up to 250 ulps of the
    # focal and Poly-1 gradients before the variants used the exact shift.
    if dtype == np.float32 and gap > 90:
        gap = gap / 8
    z = np.array([[gap + 0.1, 0.1, -0.3], [0.1, gap + 0.1, -0.7]], dtype=dtype)
    t = np.array([[0.25, 0.5, 0.25], [0.5, 0.25, 0.25]], dtype=dtype)
    for targets in ([0, 0], t):
        for name, options in (("softmax_focal_loss", {"gamma": 2.0}), ("softmax_poly1_loss", {"epsilon": 2.0})):
            for module, reference in ((xentref, exact), (grad, exact.grad)):
                actual = getattr(module, name)(z, targets, **options, reduction="none")
                expected = getattr(reference, name)(z, targets, **options, reduction="none")
                assert np.max(exact.ulp_distance(actual, expected)) <= 4, name


def test_exact_focal_loss_at_a_tie_beside_a_sliver_is_certified():
    # The gap 3.77e196 is a midpoint between two floats and the focal factor
    # lowers the loss by e^(-3.77e196): the exact module raised
    # ArithmeticError at 65536 bits until the sliver was split off.
    z = np.array([-1.854154503331701e196, 1.916565637810344e196])
    gap = Fraction(z[1]) - Fraction(z[0])
    below = np.float64(float(gap))
    above = np.nextafter(below, np.inf)
    assert Fraction(below) < gap and (Fraction(below) + Fraction(above)) / 2 == gap
    # The loss (1 - p)^2 (gap + log1p(p)) is below the gap: p (1 - 2 gap) < 0 to first order.
    loss = exact.softmax_focal_loss(z, 0)
    assert loss == below
    assert xentref.softmax_focal_loss(z, 0) == loss


def test_exact_poly1_gradient_at_tied_maxima_beside_a_sliver_is_certified():
    # Two tied maxima and a logit 60000 below: the tied entries are rationals
    # such as t_1 - t_0 + t_2 / 2, midpoints in float16, moved by e^(-60000).
    # The exact module raised ArithmeticError at 65536 bits until the sliver's
    # sign was formed apart from the rational.
    z = np.array([[0.0, 0.0, -6e4], [0.0, 0.0, 0.0]], dtype=np.float16)
    t = np.array([[0.3086, 0.1921, 0.4993], [0.4236, 0.2957, 0.2805]], dtype=np.float16)
    expected = exact.grad.softmax_poly1_loss(z, t, epsilon=2.0)
    scale = 3 * (xentref.softmax(z) + t)  # (1 + epsilon)(p + t), the contract's scale
    assert np.max(ulps_of(grad.softmax_poly1_loss(z, t, epsilon=2.0), expected, scale)) <= 8.9


# Class-balanced weights -----------------------------------------------------------


def test_class_balanced_weights_at_beta_0_are_uniform():
    equal(xentref.class_balanced_weights([5, 50, 5000], beta=0), [1.0, 1.0, 1.0])


def test_class_balanced_weights_near_1_are_inverse_frequency():
    counts = np.array([7.0, 70.0, 700.0, 7000.0])
    inverse = 4 * (1 / counts) / np.sum(1 / counts)
    beta = 1 - 1e-12
    # 1 - beta^n = n (1 - beta) (1 - (n - 1)(1 - beta)/2 + ...): relative
    # departure below n (1 - beta).
    np.testing.assert_allclose(xentref.class_balanced_weights(counts, beta=beta), inverse, rtol=7000 * 1e-12)


def test_class_balanced_weights_tend_to_inverse_frequency_symbolically():
    beta, n = sp.symbols("beta n", positive=True)
    assert sp.limit((1 - beta) / (1 - beta**n), beta, 1) == 1 / n
    counts = [sp.Integer(3), sp.Integer(30)]
    weights = [sp.limit(w, beta, 1) for w in symbolic.class_balanced_weights(counts, beta)]
    assert weights == [sp.Rational(20, 11), sp.Rational(2, 11)]


def test_class_balanced_weights_sum_to_k_and_fall_with_the_count():
    w = xentref.class_balanced_weights([[1, 10, 100], [100, 10, 1]], beta=0.99)
    np.testing.assert_allclose(w.sum(axis=-1), 3, rtol=1e-15)
    assert np.all(np.diff(w[0]) < 0) and np.all(np.diff(w[1]) > 0)


def test_class_balanced_weights_keep_their_digits_near_1():
    # 1 - beta**n cancels for beta near 1; -expm1(n log1p(beta - 1)) does not.
    counts, beta = np.array([1.0, 2.0, 3.0]), 1 - 2.0**-40
    assert np.max(exact.ulp_distance(xentref.class_balanced_weights(counts, beta=beta),
                                     exact.class_balanced_weights(counts, beta=beta))) <= 2
    naive = (1 - beta) / (1 - beta**counts)
    naive = 3 * naive / naive.sum()
    assert np.max(exact.ulp_distance(naive, exact.class_balanced_weights(counts, beta=beta))) > 100


# KL divergence of log-probabilities ------------------------------------------------


@given(p=distributions(4, batch=(3,)), q=distributions(4, batch=(3,)))
def test_kl_of_log_probs_is_kl_of_probs(p, q):
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(p), np.log(q)
    expected = xentref.kl_divergence(p, q)
    actual = xentref.kl_divergence_of_log_probs(log_p, log_q)
    finite = np.isfinite(expected)
    equal(np.isinf(actual), ~finite)
    np.testing.assert_allclose(actual[finite], expected[finite], rtol=1e-9, atol=1e-14)


def test_kl_of_log_probs_of_a_distribution_with_itself_is_exactly_0():
    log_p = xentref.log_softmax(Z)
    equal(xentref.kl_divergence_of_log_probs(log_p, log_p), np.zeros(6))
    equal(exact.kl_divergence_of_log_probs(log_p, log_p), np.zeros(6))


def test_kl_of_nearly_equal_log_probs_keeps_its_digits():
    # l_p - l_q is exact here, so each term is; the terms' sum is what rounds.
    log_p = xentref.log_softmax(Z)
    log_q = xentref.log_softmax(Z + RNG.normal(scale=1e-6, size=Z.shape))
    actual = xentref.kl_divergence_of_log_probs(log_p, log_q)
    expected = exact.kl_divergence_of_log_probs(log_p, log_q)
    terms = np.sum(np.abs(np.exp(log_p) * (log_p - log_q)), axis=-1)
    assert np.all(np.abs(actual - expected) <= 4 * np.spacing(terms))


def test_kl_of_log_probs_conventions_at_minus_infinity():
    half = np.log(0.5)
    assert xentref.kl_divergence_of_log_probs([0.0, -np.inf], [0.0, -np.inf]) == 0
    assert xentref.kl_divergence_of_log_probs([half, half], [0.0, -np.inf]) == np.inf
    assert xentref.kl_divergence_of_log_probs([0.0, -np.inf], [half, half]) == pytest.approx(np.log(2), rel=1e-15)


# Distillation ----------------------------------------------------------------------


def test_temperature_squared_keeps_the_gradient_scale():
    # d/ds_i of KL(softmax(t/T) || softmax(s/T)) is (q_i - p_i)/T; its
    # expansion in 1/T starts at (s_i - t_i)/(K T^2) for zero-mean logits,
    # so T^2 times it tends to (s_i - t_i)/K (Hinton et al., section 2.1).
    s, t = sp.symbols("s1:4", real=True), sp.symbols("t1:4", real=True)
    u = sp.symbols("u", positive=True)  # u = 1/T
    temperature = 1 / u
    kl = symbolic.distillation_loss(s, t, temperature) / temperature**2
    zero_mean = {s[2]: -s[0] - s[1], t[2]: -t[0] - t[1]}
    for i in range(2):
        gradient = sp.diff(kl, s[i]).subs(zero_mean)
        assert sp.simplify(sp.limit(gradient, u, 0)) == 0  # unscaled: vanishes
        limit = sp.limit(gradient / u**2, u, 0)  # times T^2
        assert sp.simplify(limit - (s[i] - t[i]).subs(zero_mean) / 3) == 0


def test_high_temperature_gradient_is_the_logit_difference_over_k():
    s = RNG.normal(size=(4, 5))
    t = RNG.normal(size=(4, 5))
    s, t = s - s.mean(axis=-1, keepdims=True), t - t.mean(axis=-1, keepdims=True)
    for temperature in (1e3, 1e6):
        g = grad.distillation_loss(s, t, temperature=temperature, reduction="sum")
        # The next term of the expansion is O(|z|^2 / T).
        np.testing.assert_allclose(g, (s - t) / 5, atol=10 / temperature)


def test_distillation_at_temperature_1_is_the_kl_of_the_softmaxes():
    t = RNG.normal(size=(4, 5))
    loss = xentref.distillation_loss(Z[:4, :4], t[:, :4], temperature=1.0, reduction="none")
    expected = xentref.kl_divergence_of_log_probs(xentref.log_softmax(t[:, :4]), xentref.log_softmax(Z[:4, :4]))
    close(loss, expected)


def test_distillation_of_a_matching_student_is_exactly_0():
    # Logits on a grid of 1/8, so that adding 2 is exact: the softmaxes agree.
    z = np.round(Z * 8) / 8
    for temperature in (0.5, 1.0, 3.0):
        equal(xentref.distillation_loss(z + 2.0, z, temperature=temperature, reduction="none"), np.zeros(6))
        equal(grad.distillation_loss(z + 2.0, z, temperature=temperature), np.zeros_like(z))
    equal(exact.distillation_loss(z + 2.0, z, temperature=3.0, reduction="none"), np.zeros(6))
    equal(exact.grad.distillation_loss(z + 2.0, z, temperature=3.0), np.zeros_like(z))


def test_distillation_at_a_low_temperature_does_not_overflow():
    z = np.array([[1e308, -1e308], [0.0, 1.0]])
    loss = xentref.distillation_loss(z, z[::-1], temperature=0.5, reduction="none")
    assert np.all(np.isfinite(loss) | np.isinf(loss)) and not np.any(np.isnan(loss))
    assert loss[1] > 0



def test_distillation_keeps_the_digits_of_a_wide_non_integer_gap():
    # The student's gap of -1143.31... divided by T = 4: the rounded shift
    # (logits - top) / T was 93.5 ulps from the exact loss and 187 ulps from
    # the exact gradient (of their cases.py scales); from the exact gaps, 0 and 0.
    student = np.array([[16.364213131701383, -1126.9497262757288]])
    teacher = np.array([[-1e300, -1.7078084781191998e308]])
    options = {"temperature": 4.0}
    loss = xentref.distillation_loss(student, teacher, reduction="none", **options)
    expected = exact.distillation_loss(student, teacher, reduction="none", **options)
    assert ulps_of(loss, expected, _distillation_scale((student, teacher), options))[0] <= 1
    gradient = grad.distillation_loss(student, teacher, **options)
    expected = exact.grad.distillation_loss(student, teacher, **options)
    assert np.max(ulps_of(gradient, expected, _distillation_grad_scale((student, teacher), options))) <= 1


# Rows of the hard corpus (tests/cases.py, K = 2 and 3) whose loss is T (max s - s_m),
# m the teacher's maximum, exactly a midpoint between two floats, lowered by a sliver
# of the order of the teacher's other probabilities, e^(-5e298) and e^(-1.2e40 / T).
_SLIVERS = [
    ([9.518203265645779e303, -7.721265422827323e303], [-1e300, -3.3], 20.0),
    *(([-1.492850451587194e83, 3.563068482335503e83, -1.8757077721724387e83],
       [-7.079962504228686e39, -1.1736560588471407e39, 1.0779935811654524e40], temperature)
      for temperature in (0.5, 1.0, 4.0)),
]


@pytest.mark.parametrize("student, teacher, temperature", _SLIVERS)
def test_exact_distillation_at_a_tie_beside_a_sliver_is_certified(student, teacher, temperature):
    # The loss is T (max s - s_m) + T sum_{k != m} p_k (a_k - b_k + b_m) + T^2 (L_q - L_p),
    # with the gaps a = t - max t, b = s - max s: here every a_k - b_k + b_m is below -1e39
    # and L_q < L_p, so the sliver is negative and the loss rounds to the float below the
    # midpoint. The exact module raised ArithmeticError at 65536 bits until it split it off.
    student, teacher = np.array([student]), np.array([teacher])
    options = {"temperature": temperature}
    m = int(np.argmax(teacher))
    midpoint = Fraction(temperature) * (Fraction(float(np.max(student))) - Fraction(float(student[0, m])))
    below = np.float64(float(midpoint))
    below = np.nextafter(below, -np.inf) if Fraction(float(below)) > midpoint else below
    assert (Fraction(float(below)) + Fraction(float(np.nextafter(below, np.inf)))) / 2 == midpoint
    expected = exact.distillation_loss(student, teacher, reduction="none", **options)
    assert expected[0] == below
    loss = xentref.distillation_loss(student, teacher, reduction="none", **options)
    assert ulps_of(loss, expected, _distillation_scale((student, teacher), options))[0] <= 4


# Refusals, one by one ----------------------------------------------------------------


def refuses(error, message, function, *args, **kwargs):
    with pytest.raises(error, match=message):
        function(*args, **kwargs)
    if getattr(grad, function.__name__, None) is not None:
        with pytest.raises(error, match=message):
            getattr(grad, function.__name__)(*args, **kwargs)


@pytest.mark.parametrize("function, args", [
    (xentref.sigmoid_focal_loss, ([0.0], [1.0])),
    (xentref.softmax_focal_loss, ([[0.0, 1.0]], [1])),
])
@pytest.mark.parametrize("gamma", [-0.5, np.nan, np.inf])
def test_focal_refuses_a_bad_gamma(function, args, gamma):
    refuses(ValueError, rf"^`gamma` must be a real number in \[0, inf\); got {gamma}$", function, *args, gamma=gamma)


@pytest.mark.parametrize("gamma", ["2", True, None])
def test_focal_refuses_a_gamma_that_is_not_a_number(gamma):
    refuses(TypeError, r"^`gamma` must be a real number; got", xentref.sigmoid_focal_loss, [0.0], [1.0], gamma=gamma)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, np.nan])
def test_sigmoid_focal_refuses_alpha_outside_0_1(alpha):
    refuses(ValueError, rf"^`alpha` must be a real number in \[0, 1\]; got {alpha}$", xentref.sigmoid_focal_loss,
            [0.0], [1.0], alpha=alpha)


def test_sigmoid_focal_refuses_an_array_alpha():
    refuses(TypeError, r"^`alpha` must be a real number; got", xentref.sigmoid_focal_loss, [0.0], [1.0],
            alpha=[0.25])


def test_softmax_focal_refuses_alpha_of_another_shape():
    refuses(ValueError, r"^`alpha` must be one weight per class, shape \(3,\), or a scalar; got shape \(2,\)$",
            xentref.softmax_focal_loss, [[0.0, 1.0, 2.0]], [1], alpha=[1.0, 2.0])


@pytest.mark.parametrize("value", [-1.0, np.inf])
def test_softmax_focal_refuses_a_negative_or_infinite_class_weight(value):
    refuses(ValueError, rf"^`alpha` must be finite and non-negative; got {value} at index \(1,\)$",
            xentref.softmax_focal_loss, [[0.0, 1.0, 2.0]], [1], alpha=[1.0, value, 1.0])


def test_softmax_focal_refuses_a_nan_class_weight():
    refuses(ValueError, r"^`alpha` must not contain NaN; found NaN at index \(0,\)$",
            xentref.softmax_focal_loss, [[0.0, 1.0]], [1], alpha=[np.nan, 1.0])


@pytest.mark.parametrize("function, args", [
    (xentref.softmax_poly1_loss, ([[0.0, 1.0]], [1])),
    (xentref.sigmoid_poly1_loss, ([0.0], [1.0])),
])
@pytest.mark.parametrize("epsilon", [-1.5, np.nan, np.inf])
def test_poly1_refuses_epsilon_below_minus_1_or_not_finite(function, args, epsilon):
    refuses(ValueError, rf"^`epsilon` must be a real number in \[-1, inf\); got {epsilon}$", function, *args,
            epsilon=epsilon)


def test_poly1_refuses_an_epsilon_that_is_not_a_number():
    refuses(TypeError, r"^`epsilon` must be a real number; got '1'$", xentref.sigmoid_poly1_loss, [0.0], [1.0],
            epsilon="1")


@pytest.mark.parametrize("count", [0, 0.5, -3, np.inf])
def test_class_balanced_weights_refuse_a_count_below_1_or_infinite(count):
    refuses(ValueError, r"^`counts` must be numbers of samples, finite and at least 1; got .* at index \(1,\)$",
            xentref.class_balanced_weights, [10, count], beta=0.9)


@pytest.mark.parametrize("beta", [1.0, -0.1, np.nan, 2.0])
def test_class_balanced_weights_refuse_beta_outside_0_1(beta):
    refuses(ValueError, rf"^`beta` must be a real number in \[0, 1\); got {beta}$",
            xentref.class_balanced_weights, [10, 5], beta=beta)


def test_class_balanced_weights_refuse_a_beta_that_is_not_a_number():
    refuses(TypeError, r"^`beta` must be a real number; got True$", xentref.class_balanced_weights, [10, 5],
            beta=True)


def test_kl_of_log_probs_refuses_unnormalised_log_p():
    refuses(ValueError, r"^`log_p` must hold log-probabilities", xentref.kl_divergence_of_log_probs,
            [0.0, 0.0], np.log([0.5, 0.5]))


def test_kl_of_log_probs_refuses_a_different_number_of_classes():
    refuses(ValueError, r"^`log_p` and `log_q` must have the same number of classes along axis -1; got 2 and 3$",
            xentref.kl_divergence_of_log_probs, np.log([0.5, 0.5]), np.log([0.25, 0.25, 0.5]))


@pytest.mark.parametrize("temperature", [0.0, -1.0, np.inf, np.nan])
def test_distillation_refuses_a_temperature_that_is_not_positive_and_finite(temperature):
    refuses(ValueError, rf"^`temperature` must be a real number in \(0, inf\); got {temperature}$",
            xentref.distillation_loss, [[0.0, 1.0]], [[1.0, 0.0]], temperature=temperature)


def test_distillation_refuses_a_temperature_that_is_not_a_number():
    refuses(TypeError, r"^`temperature` must be a real number; got '2'$", xentref.distillation_loss,
            [[0.0, 1.0]], [[1.0, 0.0]], temperature="2")


def test_distillation_refuses_logits_of_different_shapes():
    refuses(ValueError, r"^`teacher_logits` must have the shape of `student_logits` \(2, 2\); got \(1, 2\)$",
            xentref.distillation_loss, np.zeros((2, 2)), np.zeros((1, 2)), temperature=2.0)


def test_distillation_refuses_bad_teacher_logits_by_name():
    refuses(ValueError, r"^`teacher_logits` must not contain NaN; found NaN at index \(0, 1\)$",
            xentref.distillation_loss, [[0.0, 1.0]], [[1.0, np.nan]], temperature=2.0)


@pytest.mark.parametrize("dtype, teacher, got", [
    (np.float16, [[1e5, 0.0]], r"float16; got 100000.0 at index \(0, 0\)"),
    (np.float32, [[0.0, -1e300]], r"float32; got -1e\+300 at index \(0, 1\)"),
], ids=["float16", "float32"])
def test_distillation_refuses_a_teacher_beyond_the_range_of_the_student_dtype(dtype, teacher, got):
    # The teacher is read in the student's dtype: 1e5 would become inf there, -1e300 -inf.
    refuses(ValueError, rf"^`teacher_logits` must lie within the range of the dtype of `student_logits`, {got}$",
            xentref.distillation_loss, np.array([[0.0, 1.0]], dtype), np.array(teacher), temperature=2.0)


def test_distillation_reads_a_wider_teacher_in_the_half_precision_of_the_student():
    # Rounded once to float16, as targets and weights are: 0.1 becomes 0.0999755859375.
    student, teacher = np.array([[0.5, -1.0]], np.float16), np.array([[0.1, 0.3]])
    loss = xentref.distillation_loss(student, teacher, temperature=2.0)
    assert loss.dtype == np.float16
    assert loss == xentref.distillation_loss(student, teacher.astype(np.float16), temperature=2.0)
    assert loss == exact.distillation_loss(student, teacher.astype(np.float16), temperature=2.0)
