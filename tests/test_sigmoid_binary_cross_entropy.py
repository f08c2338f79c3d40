"""What is special to sigmoid_binary_cross_entropy.

The contract it shares with every loss (accuracy against xentref.exact on
the registry's corpora, the textbook formula, reductions, dtypes, NaN
logits, unknown reductions, no warning for any finite logit and weight) is
in test_contract.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import exact
from helpers import logits, ulps

SEED = 20261121

LOGITS = [1e-10, 30.0, 40.0, 700.0, 1e10]


def targets(shape, dtype=np.float64):
    width = np.finfo(dtype).bits
    return hnp.arrays(dtype, shape, elements=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1, width=width)))


# Known values --------------------------------------------------------------


def test_small_example():
    # softplus(-2) = log(1 + e^-2) and softplus(-1) = log(1 + e^-1).
    losses = xentref.sigmoid_binary_cross_entropy([2.0, -1.0], [1, 0], reduction="none")
    assert np.all(exact.ulp_distance(losses, exact.softplus([-2.0, -1.0])) <= 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_confident_correct_prediction_keeps_relative_precision(dtype):
    # z = 30, y = 1: log1p(e^-30) = 9.3576e-14; log(1 + e^-30) keeps only
    # the digits of 1 + e^-30.
    z = np.array(30.0, dtype=dtype)
    loss = xentref.sigmoid_binary_cross_entropy(z, 1.0)
    assert loss.dtype == dtype
    assert exact.ulp_distance(loss, exact.softplus(-z)) <= 1
    assert f"{loss:.4e}" == "9.3576e-14"


@pytest.mark.parametrize("scale", [1e300, 1.7e308])
def test_huge_logits_give_finite_exact_losses(scale):
    z = np.array([scale, scale, -scale, -scale])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    losses = xentref.sigmoid_binary_cross_entropy(z, y, reduction="none")
    np.testing.assert_array_equal(losses, [0, scale, scale, 0])
    # Soft targets: each class's share of the huge term.
    assert xentref.sigmoid_binary_cross_entropy(scale, 0.25) == 0.75 * scale


def test_infinite_logits_are_certain_predictions():
    # A zero coefficient contributes 0 even against softplus(inf) = inf.
    z = np.array([np.inf, np.inf, -np.inf, -np.inf, np.inf])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.5])
    losses = xentref.sigmoid_binary_cross_entropy(z, y, reduction="none")
    np.testing.assert_array_equal(losses, [0, np.inf, 0, np.inf, np.inf])


# Hard cases against xentref.exact ---------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits(dtype):
    # The loss, and its gradient with pos_weight 2, from |z| = 1e-10 to 1e10.
    z = np.repeat([s * v for v in LOGITS for s in (1, -1)], 3).astype(dtype)
    y = np.tile([0.0, 1.0, 0.3], 2 * len(LOGITS))
    losses = xentref.sigmoid_binary_cross_entropy(z, y, reduction="none")
    gradients = xentref.grad.sigmoid_binary_cross_entropy(z, y, pos_weight=2.0, reduction="none")
    assert losses.dtype == dtype and gradients.dtype == dtype
    expected = exact.sigmoid_binary_cross_entropy(z, y, reduction="none")
    assert np.max(exact.ulp_distance(losses, expected)) <= 4
    expected = exact.grad.sigmoid_binary_cross_entropy(z, y, pos_weight=2.0, reduction="none")
    assert np.max(exact.ulp_distance(gradients, expected)) <= 4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logits_between_a_thousandth_and_300_with_pos_weight(dtype):
    # Magnitudes spread evenly in log scale, where the registry's moderate
    # logits rarely pass 10 and its whole-range ones rarely fall.
    rng = np.random.default_rng(SEED)
    z = (rng.choice([-1, 1], 100) * 10 ** rng.uniform(-3, 2.5, 100)).astype(dtype)
    y = np.concatenate([rng.uniform(size=50), rng.integers(0, 2, 50)]).astype(dtype)
    pw = rng.uniform(0, 5, 100).astype(dtype)
    losses = xentref.sigmoid_binary_cross_entropy(z, y, pos_weight=pw, reduction="none")
    expected = exact.sigmoid_binary_cross_entropy(z, y, pos_weight=pw, reduction="none")
    assert np.max(exact.ulp_distance(losses, expected)) <= 4


# Reductions to simpler cases ---------------------------------------------------


@given(logits(6, bound=1e300), hnp.arrays(np.int64, 6, elements=st.integers(0, 1)))
def test_hard_labels_are_softplus_of_the_signed_logit(z, y):
    # y = 1: softplus(-z); y = 0: softplus(z).
    np.testing.assert_array_equal(
        xentref.sigmoid_binary_cross_entropy(z, y, reduction="none"),
        xentref.softplus((1 - 2 * y) * z),
    )


@given(logits(6, bound=15), targets(6))
def test_equals_binary_cross_entropy_of_the_sigmoid(z, y):
    # For |z| <= 15, rounding sigma(z) changes the loss by less than 1e-9 of itself.
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(
        xentref.sigmoid_binary_cross_entropy(z, y, reduction="none"),
        xentref.binary_cross_entropy(p, y, reduction="none"),
        rtol=1e-8,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(z=logits(2, batch=(5,), bound=1e30))
def test_two_class_softmax_is_the_sigmoid_of_the_logit_gap(dtype, z):
    # softmax([z0, z1])_1 = sigma(z1 - z0), so the losses of label 1 agree up
    # to the rounding of z1 - z0.
    z = z.astype(dtype)
    gap = z[:, 1] - z[:, 0]
    by_softmax = xentref.softmax_cross_entropy(z, np.ones(5, dtype=int), reduction="none")
    by_sigmoid = xentref.sigmoid_binary_cross_entropy(gap, np.ones(5), reduction="none")
    tolerance = 4 * ulps(dtype) * (np.abs(by_sigmoid) + np.abs(gap))
    assert np.all(np.abs(by_softmax - by_sigmoid) <= tolerance)


def test_pos_weight_one_changes_nothing():
    rng = np.random.default_rng(SEED)
    z, y = rng.normal(size=8), rng.uniform(size=8)
    np.testing.assert_array_equal(
        xentref.sigmoid_binary_cross_entropy(z, y, pos_weight=1.0, reduction="none"),
        xentref.sigmoid_binary_cross_entropy(z, y, reduction="none"),
    )


def test_pos_weight_scales_only_the_positive_term():
    rng = np.random.default_rng(SEED)
    z, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    pw = np.array([0.5, 2.0, 3.0])  # one per class, along the last axis
    expected = pw * y * xentref.softplus(-z) + (1 - y) * xentref.softplus(z)
    np.testing.assert_allclose(
        xentref.sigmoid_binary_cross_entropy(z, y, pos_weight=pw, reduction="none"), expected, rtol=1e-15
    )


@given(logits(4, bound=1.7e308), targets(4))
def test_loss_is_non_negative_up_to_the_largest_float(z, y):
    assert np.all(xentref.sigmoid_binary_cross_entropy(z, y, reduction="none") >= 0)


# Weights ----------------------------------------------------------------------


def test_weight_rescales_each_element_and_zero_removes_it():
    z = np.array([[1.0, -np.inf], [2.0, 0.0]])
    y = np.ones((2, 2))
    w = np.array([2.0, 0.0])
    losses = xentref.sigmoid_binary_cross_entropy(z, y, weight=w, reduction="none")
    np.testing.assert_array_equal(losses, [[2 * xentref.softplus(-1.0), 0], [2 * xentref.softplus(-2.0), 0]])
    assert xentref.sigmoid_binary_cross_entropy(z, y, weight=w) == np.sum(losses) / 4


# Bad input ------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, -0.5, np.nan])
def test_bad_targets_are_refused(value):
    message = "must not contain NaN" if math.isnan(value) else rf"must be in \[0, 1\]; got {value} at index \(1,\)"
    with pytest.raises(ValueError, match=rf"`targets` {message}"):
        xentref.sigmoid_binary_cross_entropy([0.0, 0.0], [1, value])


def test_targets_of_another_shape_are_refused():
    with pytest.raises(ValueError, match=r"`targets` must have the shape of `logits` \(2, 3\); got \(2,\)"):
        xentref.sigmoid_binary_cross_entropy(np.zeros((2, 3)), [1, 0])


def test_integer_class_labels_are_not_binary_targets():
    # A label 2 is a class index for softmax_cross_entropy, not a probability.
    with pytest.raises(ValueError, match=r"`targets` must be in \[0, 1\]; got 2.0 at index \(0,\)"):
        xentref.sigmoid_binary_cross_entropy([0.0], [2])


@pytest.mark.parametrize("name", ["pos_weight", "weight"])
@pytest.mark.parametrize("value", [-2.0, np.inf])
def test_bad_weights_are_refused(name, value):
    with pytest.raises(ValueError, match=rf"`{name}` must be finite and non-negative; got {value} at index \(0,\)"):
        xentref.sigmoid_binary_cross_entropy(np.zeros((2, 2)), np.ones((2, 2)), **{name: [value, 1.0]})


@pytest.mark.parametrize("name", ["pos_weight", "weight"])
def test_weights_that_do_not_broadcast_are_refused(name):
    with pytest.raises(ValueError, match=rf"`{name}` of shape \(3,\) must broadcast to the shape of `logits` \(2, 2\)"):
        xentref.sigmoid_binary_cross_entropy(np.zeros((2, 2)), np.ones((2, 2)), **{name: np.ones(3)})


def test_string_logits_are_refused():
    with pytest.raises(TypeError, match=r"`logits` must hold real numbers"):
        xentref.sigmoid_binary_cross_entropy(["1"], [1.0])
