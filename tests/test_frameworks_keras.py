"""Keras 3 (JAX backend, CPU), called live, in float32, Keras's default: values
against xentref.exact on the same float32 inputs where the semantics match,
the differences asserted where they do not.

Keras's ``ops.mean`` computes in float32 even for float64 input (its
``result_type("float64", "float32")`` is float32), so every Keras loss that
averages over an axis is float32-accurate at best; float32 is therefore the
precision compared here.
"""

import numpy as np
import pytest

import frameworks  # noqa: F401  (selects the JAX backend before Keras is imported)
import jax

jax.config.update("jax_enable_x64", True)  # so that float64 input stays float64

import keras
from keras import losses, ops

import xentref
from xentref import exact
from frameworks import rng, ulps, ulps_of_scale

F32 = np.float32
R = rng()
LOGITS = R.normal(scale=3, size=(8, 5)).astype(F32)
LABELS = R.integers(0, 5, 8)
ONE_HOT = np.eye(5, dtype=F32)[LABELS]
TARGETS = R.dirichlet(np.ones(5), 8).astype(F32)
SOFT = R.uniform(size=(8, 5)).astype(F32)
HARD = (SOFT > 0.5).astype(F32)
EPSILON = keras.config.epsilon()


def value(loss, y_true, y_pred):
    return np.asarray(loss(y_true, y_pred))


def test_float64_means_are_computed_in_float32(finding):
    x = np.array([0.1, 0.2, 0.7000000000000001])
    mean = float(np.asarray(ops.mean(x)))
    assert mean != np.mean(x) and mean == float(np.float32(np.mean(x)))
    finding(f"keras.ops.mean({x.tolist()}) in float64 = {mean!r}, the float32 rounding of the mean")


def test_ops_agree():
    assert ulps(ops.logsumexp(LOGITS, axis=-1), exact.logsumexp(LOGITS)) <= 1
    assert ulps(ops.log_softmax(LOGITS), exact.log_softmax(LOGITS)) <= 9
    assert ulps(ops.softmax(LOGITS), exact.softmax(LOGITS)) <= 6
    x = np.array([-50.0, -21.0, -5.0, 0.1, 5.0, 21.0, 50.0], dtype=F32)
    assert ulps(ops.sigmoid(x), exact.sigmoid(x)) <= 1
    assert ulps(ops.log_sigmoid(x), exact.log_sigmoid(x)) <= 1
    assert ulps(ops.softplus(x), exact.softplus(x)) <= 1


# Categorical cross-entropy ---------------------------------------------------------------


def test_categorical_crossentropy_from_logits_agrees():
    by_targets = value(losses.CategoricalCrossentropy(from_logits=True, reduction=None), TARGETS, LOGITS)
    assert ulps(by_targets, exact.softmax_cross_entropy(LOGITS, TARGETS, reduction="none")) <= 4
    by_labels = value(losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None), LABELS, LOGITS)
    assert ulps(by_labels, exact.softmax_cross_entropy(LOGITS, LABELS, reduction="none")) <= 4
    mean = value(losses.SparseCategoricalCrossentropy(from_logits=True), LABELS, LOGITS)
    assert ulps(mean, exact.softmax_cross_entropy(LOGITS, LABELS)) <= 4


def test_ignore_class_leaves_examples_out_and_a_mean_of_none_is_zero():
    # Keras's ignore_class is xentref's ignore_index: 0 per left-out example,
    # the mean over the others. With every label ignored Keras's mean is 0;
    # PyTorch's is NaN and xentref refuses it.
    padded = np.where(np.arange(8) % 3 == 2, -100, LABELS)
    each = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100, reduction=None)
    expected = exact.softmax_cross_entropy(LOGITS, padded, ignore_index=-100, reduction="none")
    assert ulps(value(each, padded, LOGITS), expected) <= 4 and np.all(value(each, padded, LOGITS)[padded < 0] == 0)
    mean = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)
    assert ulps(value(mean, padded, LOGITS), exact.softmax_cross_entropy(LOGITS, padded, ignore_index=-100)) <= 4
    assert value(mean, np.full(8, -100), LOGITS) == 0
    with pytest.raises(ValueError, match="undefined for an empty selection"):
        xentref.softmax_cross_entropy(LOGITS, np.full(8, -100), ignore_index=-100)


def test_label_smoothing_agrees_with_uniform_smoothing():
    smoothed = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, reduction=None)
    expected = exact.softmax_cross_entropy(LOGITS, LABELS, label_smoothing=0.1, reduction="none")
    assert ulps(value(smoothed, ONE_HOT, LOGITS), expected) <= 4


def test_categorical_crossentropy_of_probabilities_renormalises_and_clips():
    cce = losses.CategoricalCrossentropy(reduction=None)
    # [0.2, 0.3] is read as [0.4, 0.6]; xentref refuses it.
    assert value(cce, [[0.0, 1.0]], [[0.2, 0.3]])[0] == pytest.approx(-np.log(0.6), rel=1e-6)
    with pytest.raises(ValueError, match="`q` must sum to 1"):
        xentref.cross_entropy([0.0, 1.0], [0.2, 0.3])
    # A zero probability on the target costs -log(1e-7), not inf.
    assert value(cce, [[0.0, 1.0]], [[1.0, 0.0]])[0] == pytest.approx(-np.log(EPSILON), rel=1e-6)
    assert xentref.cross_entropy([0.0, 1.0], [1.0, 0.0]) == np.inf
    p = xentref.softmax(LOGITS)
    assert ulps(value(cce, TARGETS, p), exact.cross_entropy(TARGETS, p)) <= 4


# Binary cross-entropy and focal loss -------------------------------------------------------


def test_binary_crossentropy_averages_over_the_last_axis():
    loss = value(losses.BinaryCrossentropy(from_logits=True, reduction=None), SOFT, LOGITS)
    expected = exact.sigmoid_binary_cross_entropy(LOGITS, SOFT, reduction="none").astype(np.float64).mean(-1)
    assert loss.shape == (8,) and ulps(loss, expected.astype(F32)) <= 4


def test_binary_crossentropy_of_probabilities_clips_at_1e_7():
    bce = losses.BinaryCrossentropy(reduction=None)
    y, p = np.array([[1.0], [1.0]], F32), np.array([[0.0], [1.0]], F32)
    loss = value(bce, y, p)
    assert loss[0] == pytest.approx(-np.log(EPSILON), rel=1e-6) and loss[1] > 0
    np.testing.assert_array_equal(xentref.binary_cross_entropy(p, y, reduction="none"), [[np.inf], [0.0]])


def test_binary_focal_crossentropy_ignores_alpha_without_class_balancing():
    focal = [value(losses.BinaryFocalCrossentropy(alpha=a, from_logits=True, reduction=None), HARD, LOGITS)
             for a in (0.1, 0.9)]
    np.testing.assert_array_equal(focal[0], focal[1])


@pytest.mark.parametrize("balancing", [False, True])
def test_binary_focal_crossentropy_agrees_at_moderate_logits(balancing):
    # Keras applies the sigmoid, clips to [1e-7, 1 - 1e-7] and takes logs of
    # probabilities: float32-accurate for moderate logits.
    loss = value(losses.BinaryFocalCrossentropy(apply_class_balancing=balancing, alpha=0.25, from_logits=True,
                                                reduction=None), HARD, LOGITS)
    alpha = 0.25 if balancing else None
    expected = exact.sigmoid_focal_loss(LOGITS.astype(np.float64), HARD, alpha=alpha, reduction="none").mean(-1)
    np.testing.assert_allclose(loss, expected, rtol=2e-5)


def test_binary_focal_crossentropy_of_a_confident_prediction(finding):
    # Keras forms 1 - p_t by subtracting a rounded sigmoid from 1, after
    # clipping p to [1e-7, 1 - 1e-7].
    focal = losses.BinaryFocalCrossentropy(from_logits=True, reduction=None)
    z = np.array([[10.0], [30.0]], F32)
    loss = value(focal, np.ones_like(z), z)
    expected = exact.sigmoid_focal_loss(z, np.ones_like(z), reduction="none")[:, 0]
    error = abs(float(loss[0]) / float(expected[0]) - 1)
    assert error > 1e-4 and loss[1] == 0 and expected[1] == pytest.approx(8.194013e-40, rel=1e-6)
    assert ulps(xentref.sigmoid_focal_loss(z, np.ones_like(z), reduction="none")[:, 0], expected) <= 8
    finding(f"keras BinaryFocalCrossentropy(from_logits=True), y = 1, float32: z = 10 relative error {error:.1e}; "
            f"z = 30 gives 0, exact {float(expected[1]):.4e}")


def test_categorical_focal_crossentropy_alpha_is_a_per_class_weight():
    alpha = [0.1, 0.5, 1.0, 2.0, 0.3]
    loss = value(losses.CategoricalFocalCrossentropy(alpha=alpha, from_logits=True, reduction=None), ONE_HOT, LOGITS)
    expected = exact.softmax_focal_loss(LOGITS.astype(np.float64), LABELS, alpha=alpha, reduction="none")
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    # The default scalar alpha = 0.25 rescales every class.
    scaled = value(losses.CategoricalFocalCrossentropy(from_logits=True, reduction=None), ONE_HOT, LOGITS)
    unweighted = exact.softmax_focal_loss(LOGITS.astype(np.float64), LABELS, reduction="none")
    np.testing.assert_allclose(scaled, 0.25 * unweighted, rtol=1e-5)


# KL divergence and distillation ------------------------------------------------------------


def test_kl_divergence_clips_a_zero_target():
    kld = losses.KLDivergence(reduction=None)
    # y_true = 0 contributes 1e-7 log(1e-7 / q) instead of 0.
    loss = float(value(kld, [[1.0, 0.0]], [[0.5, 0.5]])[0])
    assert loss != pytest.approx(np.log(2), rel=1e-7) and loss == pytest.approx(np.log(2), rel=1e-5)
    assert xentref.kl_divergence([1.0, 0.0], [0.5, 0.5]) == np.log(2)
    q = R.dirichlet(np.ones(5), 8).astype(F32)
    scale = np.sum(np.abs(TARGETS * np.log(TARGETS / q)), axis=-1)
    assert ulps_of_scale(value(kld, TARGETS, q), exact.kl_divergence(TARGETS, q), scale.astype(F32)) <= 8


def test_logits_distillation_by_default_skips_the_softmax_and_the_temperature_squared(finding):
    # loss="kl_divergence" becomes the function, not a KLDivergence
    # instance, so compute_loss applies it to the scaled logits themselves.
    teacher = R.normal(scale=3, size=LOGITS.shape).astype(F32)
    T = 4.0
    by_default = float(np.asarray(keras.distillation.LogitsDistillation(temperature=T).compute_loss(teacher, LOGITS)))
    on_logits = float(np.mean(np.asarray(losses.kl_divergence(teacher / T, LOGITS / T))))
    assert by_default == pytest.approx(on_logits, rel=1e-6)
    expected = float(exact.distillation_loss(LOGITS.astype(np.float64), teacher.astype(np.float64), temperature=T))
    assert by_default != pytest.approx(expected, rel=1e-2)
    # With a KLDivergence instance it is T^2 times the mean KL of the softmaxes.
    with_instance = keras.distillation.LogitsDistillation(temperature=T, loss=losses.KLDivergence())
    assert float(np.asarray(with_instance.compute_loss(teacher, LOGITS))) == pytest.approx(expected, rel=1e-5)
    finding(f"keras.distillation.LogitsDistillation(temperature=4) default: {by_default:.6f} = mean KL of the "
            f"clipped scaled logits; T^2 KL of the softmaxes is {expected:.6f}")
