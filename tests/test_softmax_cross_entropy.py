"""What is special to softmax_cross_entropy.

The contract it shares with every loss (accuracy against xentref.exact on
the registry's corpora, the textbook formula, reductions, axes, dtypes, the
empty batch, NaN logits and unknown reductions) is in test_contract.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import exact
from helpers import distributions, logits, ulps

SEED = 20261121


# Known values --------------------------------------------------------------


def test_seed_examples_from_logits():
    # Logits whose softmax is the seed article's predictions.
    z = np.log([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    losses = xentref.softmax_cross_entropy(z, [0, 0], reduction="none")
    np.testing.assert_allclose(losses, [-math.log(0.7), -math.log(0.2)], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_confident_correct_prediction_keeps_relative_precision(dtype):
    # logits [30, 0], label 0: loss = log1p(e^-30) = 9.3576e-14, not 0 and
    # not the 9.33e-14 or 9.35e-14 that -log(softmax) gives.
    z = np.array([30.0, 0.0], dtype=dtype)
    loss = xentref.softmax_cross_entropy(z, 0)
    assert loss.dtype == dtype
    assert exact.ulp_distance(loss, exact.softmax_cross_entropy(z, 0)) <= 1
    assert f"{loss:.4g}" == "9.358e-14"


@pytest.mark.parametrize("gap", [10.0, 30.0, 40.0, 100.0, 700.0])
def test_tiny_losses_keep_their_digits(gap):
    z = np.array([gap, 0.0, -gap])
    assert exact.ulp_distance(xentref.softmax_cross_entropy(z, 0), exact.softmax_cross_entropy(z, 0)) <= 2


@pytest.mark.parametrize("scale", [1e10, 1e300])
def test_huge_logits_give_finite_exact_losses(scale):
    z = np.array([scale, -scale])
    assert xentref.softmax_cross_entropy(z, 0) == 0.0
    assert xentref.softmax_cross_entropy(z, 1) == 2 * scale
    assert xentref.softmax_cross_entropy(z, [0.5, 0.5]) == scale
    assert xentref.softmax_cross_entropy(-z, [0.5, 0.5]) == scale


def test_minus_infinity_logits():
    z = np.array([[0.0, -np.inf, 0.0]])
    # A -inf logit off the target is harmless; on the target the loss is +inf.
    assert xentref.softmax_cross_entropy(z, [0]) == math.log(2)
    assert xentref.softmax_cross_entropy(z, [1]) == np.inf
    # A zero target probability on a -inf logit contributes 0, not NaN.
    assert xentref.softmax_cross_entropy(z, [[0.5, 0.0, 0.5]]) == math.log(2)
    assert xentref.softmax_cross_entropy(z, [[0.5, 0.5, 0.0]]) == np.inf


# Long rows against xentref.exact -------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_long_rows(dtype):
    # Up to 1000 classes, where the registry's rows have 5.
    rng = np.random.default_rng(SEED)
    for n_classes in [2, 10, 1000]:
        z = (5 * rng.standard_normal(n_classes)).astype(dtype)
        for label in [0, n_classes - 1, int(np.argmax(z))]:
            loss = xentref.softmax_cross_entropy(z, label)
            expected = exact.softmax_cross_entropy(z, label)
            assert exact.ulp_distance(loss, expected) <= 2
            # Error of log1p(s) - (z_y - a): a few ulps of max(|z_y - a|, log1p(s)).
            scale = max(abs(float(z[label]) - float(z.max())), math.log(2))
            assert abs(float(loss) - float(expected)) <= 4 * ulps(dtype) * scale


# Reductions to simpler cases and inequalities ---------------------------------


def test_equals_cross_entropy_of_the_softmax():
    rng = np.random.default_rng(SEED)
    z = 3 * rng.standard_normal((20, 5))
    t = rng.dirichlet(np.ones(5), size=20)
    np.testing.assert_allclose(
        xentref.softmax_cross_entropy(z, t, reduction="none"),
        xentref.cross_entropy(t, xentref.softmax(z)),
        rtol=1e-13,
    )


@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(logits(k, batch=(4,), bound=1.7e308), st.lists(st.integers(0, k - 1), min_size=4, max_size=4))
    )
)
def test_integer_labels_equal_one_hot_targets_exactly(case):
    # The loss and its gradient, up to the largest floats, where the
    # gradient stays finite and nothing raises a warning.
    z, labels = case
    one_hot = np.eye(z.shape[-1])[labels]
    with np.errstate(all="raise"):
        losses = [xentref.softmax_cross_entropy(z, t, reduction="none") for t in (labels, one_hot)]
        gradients = [xentref.grad.softmax_cross_entropy(z, t) for t in (labels, one_hot)]
    np.testing.assert_array_equal(*losses)
    np.testing.assert_array_equal(*gradients)
    assert np.all(np.isfinite(gradients[0]))


@given(st.integers(2, 6).flatmap(lambda k: st.tuples(logits(k, batch=(3,)), distributions(k, batch=(3,)))))
def test_loss_is_at_least_the_target_entropy(case):
    z, t = case
    losses = xentref.softmax_cross_entropy(z, t, reduction="none")
    bound = xentref.entropy(t) - 8 * ulps(np.float64) * (1 + np.abs(z).max())
    assert np.all(losses >= bound)


# Labels -------------------------------------------------------------------------


@pytest.mark.parametrize("label_dtype", [np.int8, np.uint8, np.int32, np.int64])
def test_any_integer_label_dtype(label_dtype):
    z = np.array([[1.0, 2.0, 3.0]])
    expected = xentref.softmax_cross_entropy(z, [2])
    assert xentref.softmax_cross_entropy(z, np.array([2], dtype=label_dtype)) == expected


# Bad input ------------------------------------------------------------------


@pytest.mark.parametrize("label", [3, -1])
def test_label_out_of_range_is_refused(label):
    with pytest.raises(ValueError, match=rf"`targets` must be class labels in \[0, 3\); got {label} at index \(1,\)"):
        xentref.softmax_cross_entropy(np.zeros((2, 3)), [0, label])


@pytest.mark.parametrize("labels", [[0.0, 1.0], [True, False]])
def test_non_integer_labels_are_refused(labels):
    with pytest.raises(TypeError, match=r"`targets` of shape \(2,\) holds class labels and must have an integer dtype; got"):
        xentref.softmax_cross_entropy(np.zeros((2, 3)), labels)


def test_labels_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"`targets` as class labels must have shape \(2,\); got \(3,\)"):
        xentref.softmax_cross_entropy(np.zeros((2, 3)), [0, 1, 2])


def test_targets_of_the_wrong_rank_are_refused():
    with pytest.raises(ValueError, match=r"`targets` must be class labels of shape \(2,\) or probabilities of shape \(2, 3\); got shape \(\)"):
        xentref.softmax_cross_entropy(np.zeros((2, 3)), 1)


def test_probability_targets_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"`targets` as probabilities must have the shape of `logits` \(2, 3\); got \(2, 4\)"):
        xentref.softmax_cross_entropy(np.zeros((2, 3)), np.full((2, 4), 0.25))


def test_probability_targets_must_sum_to_one():
    with pytest.raises(ValueError, match=r"`targets` must sum to 1 along axis 1 .* got a sum of 0.9 at batch index \(0,\)"):
        xentref.softmax_cross_entropy(np.zeros((1, 2)), [[0.5, 0.4]])


def test_negative_probability_targets_are_refused():
    with pytest.raises(ValueError, match=r"`targets` must be non-negative; got -0.5 at index \(0, 1\)"):
        xentref.softmax_cross_entropy(np.zeros((1, 2)), [[1.5, -0.5]])


def test_probability_targets_above_one_are_refused():
    with pytest.raises(ValueError, match=r"`targets` must hold probabilities, at most 1; got 1.000000001 at index \(0, 0\)"):
        xentref.softmax_cross_entropy(np.zeros((1, 2)), [[1 + 1e-9, 0.0]])


def test_nan_targets_are_refused():
    with pytest.raises(ValueError, match=r"`targets` must not contain NaN"):
        xentref.softmax_cross_entropy(np.zeros((1, 2)), [[np.nan, 1.0]])


def test_empty_class_axis_is_refused():
    with pytest.raises(ValueError, match=r"`logits` has an empty class axis"):
        xentref.softmax_cross_entropy(np.zeros((2, 0)), [0, 0])


def test_integer_logits_are_converted_but_strings_are_not():
    assert xentref.softmax_cross_entropy([1, 1], 0) == math.log(2)
    with pytest.raises(TypeError, match=r"`logits` must hold real numbers"):
        xentref.softmax_cross_entropy(["1", "1"], 0)


@given(
    logits(4, batch=(2,), bound=1.7e308).map(lambda z: np.where(z > 1e307, -np.inf, z)),
    distributions(4, batch=(2,)),
)
def test_no_floating_point_warning_with_minus_infinite_logits(z, t):
    # The registry's logits are finite; here some are -inf.
    z[:, 0] = 0.0  # keep one finite logit per row
    with np.errstate(all="raise"):
        xentref.softmax_cross_entropy(z, t)
        xentref.softmax_cross_entropy(z, [0, 3])


def test_probability_targets_take_the_dtype_of_the_logits():
    z = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    t = np.array([[0.2, 0.3, 0.5]])  # float64
    loss = xentref.softmax_cross_entropy(z, t)
    assert loss.dtype == np.float32
    assert xentref.grad.softmax_cross_entropy(z, t).dtype == np.float32
    assert loss == pytest.approx(xentref.softmax_cross_entropy(z.astype(np.float64), t), rel=1e-6)


def test_subnormal_probability_target_raises_no_underflow():
    # A target of 2.5e-309 times its loss log 5 is subnormal; the product
    # used to raise the underflow flag (found by the registry's hypothesis
    # test). The term rounds toward 0 and the loss is log 5.
    t = np.array([[2.22507386e-308, 1, 1, 1, 1]]) / 9
    t[0, 1:] = (1 - t[0, 0]) / 4
    with np.errstate(all="raise"):
        loss = xentref.softmax_cross_entropy(np.zeros((1, 5)), t)
    assert exact.ulp_distance(loss, exact.softmax_cross_entropy(np.zeros((1, 5)), t)) <= 1
    assert loss == pytest.approx(math.log(5), rel=1e-15)
