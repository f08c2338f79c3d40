"""JAX and Optax (CPU, float64), called live: values and ``jax.grad`` gradients
against xentref.exact where the semantics match, the differences asserted
where they do not. Optax's losses return one value per example, unreduced,
so they are compared with ``reduction="none"`` (and gradients of their sum
with ``reduction="sum"``).
"""

import numpy as np
import pytest

import frameworks  # noqa: F401  (sets the platform before JAX is imported)
import jax
import jax.numpy as jnp
import optax

import xentref
from xentref import exact
from frameworks import rng, ulps, ulps_of_scale

jax.config.update("jax_enable_x64", True)

R = rng()
LOGITS = R.normal(scale=3, size=(8, 5))
LABELS = R.integers(0, 5, 8)
ONE_HOT = np.eye(5)[LABELS]
TARGETS = R.dirichlet(np.ones(5), 8)
SOFT = R.uniform(size=(8, 5))
HARD = (SOFT > 0.5).astype(float)


def gradient(loss, x):
    return np.asarray(jax.grad(lambda v: jnp.sum(loss(v)))(jnp.asarray(x)))


# Log-sum-exp, softmax, sigmoid, softplus ---------------------------------------------


def test_logsumexp_log_softmax_softmax_sigmoid_and_softplus_agree():
    assert ulps(jax.nn.logsumexp(LOGITS, axis=-1), exact.logsumexp(LOGITS)) <= 1
    assert ulps(jax.nn.log_softmax(LOGITS), exact.log_softmax(LOGITS)) <= 4
    assert ulps(jax.nn.softmax(LOGITS), exact.softmax(LOGITS)) <= 6
    x = np.array([-700.0, -50.0, -21.0, -5.0, 0.1, 5.0, 21.0, 50.0, 700.0])
    assert ulps(jax.nn.sigmoid(x), exact.sigmoid(x)) <= 1
    assert ulps(jax.nn.log_sigmoid(x), exact.log_sigmoid(x)) <= 1
    assert ulps(jax.nn.softplus(x), exact.softplus(x)) <= 1


def test_logsumexp_drops_a_correction_below_the_rounding_of_the_maximum(finding):
    assert float(jax.nn.logsumexp(jnp.array([0.0, -40.0]))) == 0.0
    loss = float(optax.losses.softmax_cross_entropy_with_integer_labels(jnp.array([40.0, 0.0]), 0))
    assert loss == 0.0 and exact.softmax_cross_entropy([40.0, 0.0], 0) == 4.248354255291589e-18
    finding("jax.nn.logsumexp([0, -40]) = 0 and optax softmax_cross_entropy_with_integer_labels([40, 0], 0) = 0; "
            "exact 4.248e-18")


# Cross-entropy -----------------------------------------------------------------------


def test_softmax_cross_entropy_agrees_for_labels_and_probabilities():
    by_labels = optax.losses.softmax_cross_entropy_with_integer_labels(LOGITS, LABELS)
    assert ulps(by_labels, exact.softmax_cross_entropy(LOGITS, LABELS, reduction="none")) <= 3
    g = gradient(lambda z: optax.losses.softmax_cross_entropy_with_integer_labels(z, LABELS), LOGITS)
    assert ulps(g, exact.grad.softmax_cross_entropy(LOGITS, LABELS, reduction="sum")) <= 6
    by_targets = optax.losses.softmax_cross_entropy(LOGITS, TARGETS)
    assert ulps(by_targets, exact.softmax_cross_entropy(LOGITS, TARGETS, reduction="none")) <= 4
    g = gradient(lambda z: optax.losses.softmax_cross_entropy(z, TARGETS), LOGITS)
    expected = exact.grad.softmax_cross_entropy(LOGITS, TARGETS, reduction="sum")
    assert ulps_of_scale(g, expected, xentref.softmax(LOGITS) + TARGETS) <= 4


def test_softmax_cross_entropy_of_a_zero_label_on_a_minus_inf_logit_is_nan():
    # The plain function multiplies 0 by -inf; the safe one, and xentref, do not.
    z, t = jnp.array([[0.0, -jnp.inf, 1.0]]), jnp.array([[0.5, 0.0, 0.5]])
    assert np.isnan(optax.losses.softmax_cross_entropy(z, t)[0])
    safe = optax.losses.safe_softmax_cross_entropy(z, t)[0]
    assert ulps(safe, exact.softmax_cross_entropy(np.asarray(z), np.asarray(t))) <= 1


def test_sigmoid_binary_cross_entropy_agrees():
    for targets in (SOFT, HARD):
        loss = optax.losses.sigmoid_binary_cross_entropy(LOGITS, targets)
        assert ulps(loss, exact.sigmoid_binary_cross_entropy(LOGITS, targets, reduction="none")) <= 2
        g = gradient(lambda z, targets=targets: optax.losses.sigmoid_binary_cross_entropy(z, targets), LOGITS)
        expected = exact.grad.sigmoid_binary_cross_entropy(LOGITS, targets, reduction="sum")
        scale = (1 - targets) * xentref.sigmoid(LOGITS) + targets * xentref.sigmoid(-LOGITS)
        assert ulps_of_scale(g, expected, scale) <= 4


# Focal and Poly-1 ------------------------------------------------------------------------


@pytest.mark.parametrize("gamma, alpha", [(2.0, None), (2.0, 0.25), (0.5, 0.75)])
def test_sigmoid_focal_loss_agrees_including_alpha(gamma, alpha):
    # Optax's alpha is Lin et al.'s and torchvision's: alpha on positives,
    # 1 - alpha on negatives; default None, as in xentref.
    for targets in (SOFT, HARD):
        loss = optax.losses.sigmoid_focal_loss(LOGITS, targets, gamma=gamma, alpha=alpha)
        expected = exact.sigmoid_focal_loss(LOGITS, targets, gamma=gamma, alpha=alpha, reduction="none")
        # exp(gamma log(1 - p_t)) costs about gamma |log(1 - p_t)| ulps.
        assert ulps(loss, expected) <= 12
        g = gradient(lambda z, targets=targets: optax.losses.sigmoid_focal_loss(z, targets, gamma=gamma, alpha=alpha),
                     LOGITS)
        expected = exact.grad.sigmoid_focal_loss(LOGITS, targets, gamma=gamma, alpha=alpha, reduction="sum")
        assert ulps(g, expected) <= 20
    assert ulps(xentref.sigmoid_focal_loss(LOGITS, HARD, gamma=gamma, alpha=alpha, reduction="none"),
                exact.sigmoid_focal_loss(LOGITS, HARD, gamma=gamma, alpha=alpha, reduction="none")) <= 4


def test_sigmoid_focal_loss_keeps_tiny_losses_in_log_space():
    z, y = np.array([30.0, 100.0, -40.0]), np.array([1.0, 1.0, 0.0])
    loss = optax.losses.sigmoid_focal_loss(z, y, gamma=0.5)
    assert ulps(loss, exact.sigmoid_focal_loss(z, y, gamma=0.5, reduction="none")) <= 4


def test_sigmoid_focal_gradient_is_nan_at_an_infinite_logit(finding):
    g = gradient(lambda z: optax.losses.sigmoid_focal_loss(z, jnp.array([1.0])), np.array([-np.inf]))
    assert np.isnan(g[0])
    assert xentref.grad.sigmoid_focal_loss([-np.inf], [1.0], reduction="sum")[0] == -1.0
    finding("jax.grad of optax sigmoid_focal_loss at logit -inf, label 1: NaN; the limit is -1")


def test_poly_loss_cross_entropy_agrees():
    loss = optax.losses.poly_loss_cross_entropy(LOGITS, ONE_HOT, epsilon=2.0)
    assert ulps(loss, exact.softmax_poly1_loss(LOGITS, LABELS, epsilon=2.0, reduction="none")) <= 4
    loss = optax.losses.poly_loss_cross_entropy(LOGITS, TARGETS, epsilon=-1.0)
    expected = exact.softmax_poly1_loss(LOGITS, TARGETS, epsilon=-1.0, reduction="none")
    assert ulps_of_scale(loss, expected, xentref.softmax_cross_entropy(LOGITS, TARGETS, reduction="none")) <= 4
    g = gradient(lambda z: optax.losses.poly_loss_cross_entropy(z, TARGETS, epsilon=2.0), LOGITS)
    expected = exact.grad.softmax_poly1_loss(LOGITS, TARGETS, epsilon=2.0, reduction="sum")
    assert ulps_of_scale(g, expected, 3 * (xentref.softmax(LOGITS) + TARGETS)) <= 8


def test_poly_loss_of_a_confident_prediction_is_0(finding):
    # 1 - softmax rounds to 0 where 1 - p = e^-40; -expm1(log p) does not.
    loss = float(optax.losses.poly_loss_cross_entropy(jnp.array([40.0, 0.0]), jnp.array([1.0, 0.0]), epsilon=2.0))
    expected = exact.softmax_poly1_loss([40.0, 0.0], 0, epsilon=2.0)
    assert loss == 0.0 and expected == pytest.approx(3 * 4.248354255291589e-18, rel=1e-15)
    assert xentref.softmax_poly1_loss([40.0, 0.0], 0, epsilon=2.0) == expected
    finding(f"optax poly_loss_cross_entropy([40, 0], [1, 0], epsilon=2) = 0; exact {expected:.4e}")


# KL divergence --------------------------------------------------------------------------


def test_kl_divergences_agree():
    q = R.dirichlet(np.ones(5), 8)
    scale = np.sum(np.abs(TARGETS * np.log(TARGETS / q)), axis=-1)
    assert ulps_of_scale(optax.losses.kl_divergence(np.log(q), TARGETS), exact.kl_divergence(TARGETS, q), scale) <= 4
    log_p, log_q = xentref.log_softmax(LOGITS), xentref.log_softmax(LOGITS + R.normal(scale=1e-6, size=LOGITS.shape))
    loss = optax.losses.kl_divergence_with_log_targets(log_q, log_p)
    scale = np.sum(np.abs(np.exp(log_p) * (log_p - log_q)), axis=-1)
    assert ulps_of_scale(loss, exact.kl_divergence_of_log_probs(log_p, log_q), scale) <= 8
    g = gradient(lambda v: optax.losses.kl_divergence_with_log_targets(v, log_p), log_q)
    assert ulps(g, exact.grad.kl_divergence_of_log_probs(log_p, log_q)) <= 1


def test_kl_divergence_of_a_zero_probability_is_nan_against_minus_inf():
    log_p = jnp.array([0.0, -jnp.inf])
    assert np.isnan(optax.losses.kl_divergence_with_log_targets(log_p, log_p))
    assert np.isnan(optax.losses.kl_divergence(log_p, jnp.array([1.0, 0.0])))
    assert xentref.kl_divergence_of_log_probs(log_p, log_p) == 0
    assert xentref.kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0


# The options: where and label smoothing ------------------------------------------------
#
# Optax's `where` masks entries of the logits (classes); a mask of whole
# rows, where[:, None], leaves examples out as xentref's `where` does. Optax
# has no class weights, no ignore_index and no reduction.

WHERE = np.array([True, True, False, True, True, False, True, True])


def test_where_of_whole_rows_agrees_and_gives_zero_at_left_out_examples():
    by_labels = optax.losses.softmax_cross_entropy_with_integer_labels(LOGITS, LABELS, where=WHERE[:, None])
    expected = exact.softmax_cross_entropy(LOGITS, LABELS, where=WHERE, reduction="none")
    assert ulps(by_labels, expected) <= 3 and np.all(np.asarray(by_labels)[~WHERE] == 0)
    g = gradient(lambda z: optax.losses.softmax_cross_entropy_with_integer_labels(z, LABELS, where=WHERE[:, None]),
                 LOGITS)
    assert ulps(g, exact.grad.softmax_cross_entropy(LOGITS, LABELS, where=WHERE, reduction="sum")) <= 6
    assert np.all(g[~WHERE] == 0)
    by_targets = optax.losses.softmax_cross_entropy(LOGITS, TARGETS, where=WHERE[:, None])
    assert ulps(by_targets, exact.softmax_cross_entropy(LOGITS, TARGETS, where=WHERE, reduction="none")) <= 4
    # The probability version's left-out examples are -0.0.
    assert np.all(np.signbit(np.asarray(by_targets)[~WHERE]))
    assert not np.any(np.signbit(xentref.softmax_cross_entropy(LOGITS, TARGETS, where=WHERE, reduction="none")))


def test_a_mean_over_no_example_is_nan_with_jax_and_an_error_here():
    # Optax returns 0 for each left-out example and leaves the mean to the
    # caller; jnp.mean over an empty selection is NaN.
    nothing = np.zeros(8, dtype=bool)
    losses = optax.losses.softmax_cross_entropy_with_integer_labels(LOGITS, LABELS, where=nothing[:, None])
    assert np.all(np.asarray(losses) == 0)
    assert np.isnan(float(jnp.mean(losses, where=nothing)))
    with pytest.raises(ValueError, match="undefined for an empty selection"):
        xentref.softmax_cross_entropy(LOGITS, LABELS, where=nothing)
    assert xentref.softmax_cross_entropy(LOGITS, LABELS, where=nothing, reduction="sum") == 0


def test_where_of_some_classes_is_not_a_selection_of_examples():
    # A False entry in a row removes that class from the softmax; xentref's
    # `where` has the batch shape and removes whole examples only.
    mask = np.ones((8, 5), dtype=bool)
    mask[0, (LABELS[0] + 1) % 5] = False
    partial = float(optax.losses.softmax_cross_entropy_with_integer_labels(LOGITS, LABELS, where=mask)[0])
    assert partial < xentref.softmax_cross_entropy(LOGITS[0], LABELS[0])
    with pytest.raises(ValueError, match=r"`where` must have the batch shape \(8,\)"):
        xentref.softmax_cross_entropy(LOGITS, LABELS, where=mask)


@pytest.mark.parametrize("epsilon", [0.1, 1.0])
def test_smooth_labels_then_cross_entropy_is_uniform_label_smoothing(epsilon):
    for targets, ours in ((ONE_HOT, LABELS), (TARGETS, TARGETS)):
        smoothed = optax.losses.smooth_labels(targets, epsilon)
        loss = optax.losses.softmax_cross_entropy(LOGITS, smoothed)
        assert ulps(loss, exact.softmax_cross_entropy(LOGITS, ours, label_smoothing=epsilon, reduction="none")) <= 4
        g = gradient(lambda z, smoothed=smoothed: optax.losses.softmax_cross_entropy(z, smoothed), LOGITS)
        expected = exact.grad.softmax_cross_entropy(LOGITS, ours, label_smoothing=epsilon, reduction="sum")
        q = (1 - epsilon) * np.asarray(targets) + epsilon / 5
        assert ulps_of_scale(g, expected, xentref.softmax(LOGITS) + q) <= 4
