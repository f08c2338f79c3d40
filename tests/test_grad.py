"""What is special to the gradients in xentref.grad.

The contract every gradient keeps (its loss's signature, within its ulps of
xentref.exact.grad on both corpora, SymPy's derivative of the textbook
formula, finite differences, the reductions, axes, dtypes, the empty batch,
and refusing what the loss refuses with the same message) is in
test_contract.py. Here: values at the edges of the domain, where the loss is
infinite or the derivative one-sided, the chain rule, tiny entries that must
keep their digits, and huge logits.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import exact, grad
from helpers import distributions, logits, weights

SEED = 20261121


# Softmax cross-entropy ------------------------------------------------------


def test_softmax_cross_entropy_is_nll_loss_through_log_softmax():
    # Chain rule: the Jacobian of log_softmax maps g to g - softmax * sum(g).
    rng = np.random.default_rng(SEED)
    x, labels = rng.normal(0, 3, (3, 5)), rng.integers(0, 5, 3)
    g = grad.nll_loss(xentref.log_softmax(x), labels)
    through = g - xentref.softmax(x) * np.sum(g, axis=-1, keepdims=True)
    np.testing.assert_allclose(grad.softmax_cross_entropy(x, labels), through, rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("gap", [10.0, 30.0, 40.0, 100.0, 700.0])
@pytest.mark.parametrize("label", [0, 1])
def test_softmax_cross_entropy_tiny_gradients_keep_their_digits(dtype, gap, label):
    # Label 0 is the confident class: its entry softmax - 1 is minus the
    # (tiny) sum of the others and must keep its digits.
    z = np.array([gap, 0.0, -gap], dtype=dtype)
    g = grad.softmax_cross_entropy(z, label)
    assert g.dtype == dtype
    assert np.max(exact.ulp_distance(g, exact.grad.softmax_cross_entropy(z, label))) <= 4


def test_softmax_cross_entropy_gradients_of_long_rows_keep_their_digits():
    # Every entry within ulps of itself, the label's too, where the
    # registry's measure allows ulps of 1 + softmax there.
    rng = np.random.default_rng(SEED)
    for k in [2, 10, 100]:
        z = 5 * rng.standard_normal(k)
        for label in [0, int(np.argmax(z))]:
            g = grad.softmax_cross_entropy(z, label)
            # Each softmax entry is within (k + 4 + 2 (max z - min z)) ulps
            # (Blanchard, Higham and Higham, Thm 4.3 plus the final rounding).
            bound = k + 4 + 2 * (z.max() - z.min())
            assert np.max(exact.ulp_distance(g, exact.grad.softmax_cross_entropy(z, label))) <= bound


@pytest.mark.parametrize("scale", [1e10, 1e300, 1.7e308])
def test_softmax_cross_entropy_huge_logits_give_exact_gradients(scale):
    z = np.array([scale, -scale, 0.0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, 0), [0, 0, 0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, 1), [1, -1, 0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, [0.25, 0.25, 0.5]), [0.75, -0.25, -0.5])


def test_softmax_cross_entropy_minus_infinity_logits():
    z = np.array([0.0, -np.inf, 0.0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, 0), [-0.5, 0, 0.5])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, [0.5, 0.5, 0.0]), [0, -0.5, 0.5])


# Binary cross-entropy from probabilities -------------------------------------


def test_binary_cross_entropy_edges():
    # Infinite where the loss is infinite; the one-sided derivative of the
    # surviving term where p = y is 0 or 1; nothing raises a warning.
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.25])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.3, 0.25])
    with np.errstate(all="raise"):
        g = grad.binary_cross_entropy(p, y, reduction="none")
        masked = grad.binary_cross_entropy(p, y, weight=np.zeros(7), reduction="none")
    np.testing.assert_array_equal(g, [-np.inf, np.inf, 1, -1, -np.inf, np.inf, 0])
    np.testing.assert_array_equal(masked, np.zeros(7))


# Binary cross-entropy from logits ---------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_minus_one_keeps_its_digits(dtype):
    # sigma(40) - 1 = -sigma(-40) = -4.2484e-18, not the 0 that subtracting gives.
    z = np.array(40.0, dtype=dtype)
    g = grad.sigmoid_binary_cross_entropy(z, 1.0)
    assert exact.ulp_distance(g, -exact.sigmoid(-z)) <= 2
    assert f"{g:.4e}" == "-4.2484e-18"


@pytest.mark.parametrize("scale", [1e300, 1.7e308, np.inf])
def test_sigmoid_binary_cross_entropy_huge_logits_give_exact_gradients(scale):
    # sigma(z) - y with sigma(+big) = 1 and sigma(-big) = 0.
    z = np.array([scale, scale, -scale, -scale])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad.sigmoid_binary_cross_entropy(z, y, reduction="none"), [0, 1, -1, 0])


@given(
    logits(3, batch=(2,), bound=1.7e308),
    hnp.arrays(np.float64, (2, 3), elements=st.floats(0, 1)),
    weights(3),
)
def test_sigmoid_binary_cross_entropy_gradient_is_finite_for_finite_logits(z, y, w):
    # Bounded by the weights, whatever the logits.
    assert np.all(np.isfinite(grad.sigmoid_binary_cross_entropy(z, y, pos_weight=w, weight=w)))


# Cross-entropy and KL divergence of distributions, with respect to q ----------

INFORMATION = ["cross_entropy", "kl_divergence"]


def _distribution_pair(rng, n=3, k=4):
    p = rng.dirichlet(np.ones(k), n)
    p[0, 1] = 0  # a zero of p, whose entry of the gradient must be 0
    p /= p.sum(axis=-1, keepdims=True)
    return p, rng.dirichlet(np.ones(k), n)


@pytest.mark.parametrize("name", INFORMATION)
def test_information_gradients_are_of_the_sum_of_rows(name):
    # Each row's gradient alone; with q broadcast against p, the rows' sum.
    gradient = getattr(grad, name)
    p, q = _distribution_pair(np.random.default_rng(SEED))
    rows = np.array([gradient(a, b) for a, b in zip(p, q)])
    np.testing.assert_array_equal(gradient(p, q), rows)
    shared = q[0]
    assert gradient(p, shared).shape == (4,)
    np.testing.assert_allclose(gradient(p, shared), sum(gradient(a, shared) for a in p), rtol=1e-15)
    np.testing.assert_allclose(gradient(p, shared[None]), gradient(p, shared)[None], rtol=1e-15)
    np.testing.assert_array_equal(gradient(p[0], q), np.array([gradient(p[0], b) for b in q]))


@pytest.mark.parametrize("name", INFORMATION)
def test_information_gradient_edges(name):
    # 0 where p = 0, even at q = 0; -inf where p > 0 = q; no warnings.
    p = np.array([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])
    q = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    with np.errstate(all="raise"):
        g = getattr(grad, name)(p, q)
    np.testing.assert_array_equal(g, [[-0.5, 0, -np.inf], [-2, 0, 0]])


def positive_distributions(k):
    raw = hnp.arrays(np.float64, (3, k), elements=st.floats(2.0**-20, 1.0))
    return raw.map(lambda a: a / a.sum(axis=-1, keepdims=True))


@given(st.integers(2, 6).flatmap(lambda k: st.tuples(distributions(k, batch=(3,)), positive_distributions(k))))
def test_q_times_the_gradient_is_minus_one(pair):
    # H(p, c q) = H(p, q) - log c, so the derivative along q itself,
    # d/dc H(p, c q) at c = 1, is -sum(p) = -1.
    p, q = pair
    with np.errstate(all="raise"):
        g = grad.cross_entropy(p, q)
    np.testing.assert_allclose(np.sum(q * g, axis=-1), -1, rtol=0, atol=1e-13)
