"""SciPy and scikit-learn, called live: values against xentref.exact where the
semantics match, the differences (default axes, normalisation, clipping)
asserted where they do not. Neither ships focal, Poly-1, distillation or
class-balanced losses; scikit-learn's "balanced" class weights are the
limit of the class-balanced weights as beta tends to 1.
"""

import numpy as np
import pytest
from scipy import special, stats
from sklearn.metrics import log_loss
from sklearn.utils.class_weight import compute_class_weight

import xentref
from xentref import exact
from frameworks import rng, ulps, ulps_of_scale

R = rng()
LOGITS = R.normal(scale=3, size=(8, 5))
P = R.dirichlet(np.ones(5), 8)
Q = R.dirichlet(np.ones(5), 8)
LABELS = R.integers(0, 5, 8)


def test_logsumexp_log_softmax_and_softmax_agree_along_an_axis():
    assert ulps(special.logsumexp(LOGITS, axis=-1), exact.logsumexp(LOGITS)) <= 1
    assert ulps(special.log_softmax(LOGITS, axis=-1), exact.log_softmax(LOGITS)) <= 4
    assert ulps(special.softmax(LOGITS, axis=-1), exact.softmax(LOGITS)) <= 6
    # SciPy keeps the correction that log(sum(exp)) loses.
    assert special.logsumexp([0.0, -40.0]) == exact.logsumexp([0.0, -40.0])


def test_scipy_reduces_every_axis_by_default():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert special.softmax(x).sum() == pytest.approx(1.0)
    np.testing.assert_allclose(xentref.softmax(x).sum(axis=-1), [1.0, 1.0])
    assert np.ndim(special.logsumexp(x)) == 0 and xentref.logsumexp(x).shape == (2,)


def test_expit_log_expit_and_logaddexp_are_sigmoid_log_sigmoid_and_softplus():
    x = np.array([-700.0, -50.0, -21.0, -5.0, 0.1, 5.0, 21.0, 50.0, 700.0])
    assert ulps(special.expit(x), exact.sigmoid(x)) <= 1
    assert ulps(special.log_expit(x), exact.log_sigmoid(x)) <= 1
    assert ulps(np.logaddexp(0, x), exact.softplus(x)) <= 1


def test_entr_and_rel_entr_sum_to_entropy_and_kl_divergence():
    scale = np.sum(np.abs(special.rel_entr(P, Q)), axis=-1)
    assert ulps(np.sum(special.entr(P), axis=-1), exact.entropy(P)) <= 2
    assert ulps_of_scale(np.sum(special.rel_entr(P, Q), axis=-1), exact.kl_divergence(P, Q), scale) <= 2
    cross = -np.sum(special.xlogy(P, Q), axis=-1)
    assert ulps(cross, exact.cross_entropy(P, Q)) <= 2


def test_stats_entropy_reduces_axis_0_and_normalises():
    assert ulps(stats.entropy(P.T), exact.entropy(P)) <= 2
    scale = np.sum(np.abs(special.rel_entr(P, Q)), axis=-1)
    assert ulps_of_scale(stats.entropy(P, Q, axis=-1), exact.kl_divergence(P, Q), scale) <= 4
    assert stats.entropy([1, 1]) == pytest.approx(np.log(2), rel=1e-15)
    with pytest.raises(ValueError, match="`p` must sum to 1"):
        xentref.entropy([1, 1])


def test_log_loss_is_the_mean_cross_entropy_of_the_labels():
    loss = log_loss(LABELS, P, labels=np.arange(5))
    assert ulps(loss, exact.cross_entropy(np.eye(5)[LABELS], P).mean()) <= 4
    probs, y = np.array([0.9, 0.8, 0.3]), np.array([1, 1, 0])
    assert ulps(log_loss(y, probs), exact.binary_cross_entropy(probs, y)) <= 2


def test_log_loss_clips_at_machine_epsilon():
    # A zero probability on the label costs -log(eps) = 36.04, not inf.
    loss = log_loss([0, 1], [[0.0, 1.0], [1.0, 0.0]])
    assert loss == pytest.approx(-np.log(np.finfo(float).eps), rel=1e-14)
    assert xentref.cross_entropy(np.eye(2)[[0, 1]], [[0.0, 1.0], [1.0, 0.0]]).mean() == np.inf


def test_log_loss_warns_and_does_not_renormalise():
    with pytest.warns(UserWarning, match="do not sum to one"):
        loss = log_loss([1], [[0.2, 0.3]], labels=[0, 1])
    assert loss == pytest.approx(-np.log(0.3), rel=1e-14)


def test_balanced_class_weights_are_the_limit_of_class_balanced_weights():
    # n / (K n_c): inverse frequency, normalised differently (to the mean
    # weight of a sample, not to a sum of K).
    y = np.repeat(np.arange(4), [400, 40, 4, 1])
    balanced = compute_class_weight("balanced", classes=np.arange(4), y=y)
    limit = xentref.class_balanced_weights(np.bincount(y), beta=1 - 1e-12)
    np.testing.assert_allclose(limit, 4 * balanced / balanced.sum(), rtol=1e-9)
    assert balanced.sum() != pytest.approx(4)
