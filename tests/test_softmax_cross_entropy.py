import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import symbolic
from helpers import distributions, logits, mp, mp_log_softmax, relative_error, ulps

SEED = 20261121


def mp_loss(z, label):
    return -mp_log_softmax(z)[label]


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
    assert relative_error(loss, mp_loss(z, 0)) <= ulps(dtype)
    assert f"{loss:.4g}" == "9.358e-14"


@pytest.mark.parametrize("gap", [10.0, 30.0, 40.0, 100.0, 700.0])
def test_tiny_losses_match_mpmath(gap):
    z = np.array([gap, 0.0, -gap])
    assert relative_error(xentref.softmax_cross_entropy(z, 0), mp_loss(z, 0)) <= 2 * ulps(np.float64)


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


# Accuracy against mpmath (50 digits) --------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_losses_match_mpmath(dtype):
    rng = np.random.default_rng(SEED)
    for n_classes in [2, 10, 1000]:
        z = (5 * rng.standard_normal(n_classes)).astype(dtype)
        for label in [0, n_classes - 1, int(np.argmax(z))]:
            exact = mp_loss(z, label)
            # Error of log1p(s) - (z_y - a): a few ulps of max(|z_y - a|, log1p(s)).
            scale = max(abs(mp(z)[label] - max(mp(z))), mpmath.log1p(mpmath.mpf(1)))
            error = abs(mpmath.mpf(float(xentref.softmax_cross_entropy(z, label))) - exact)
            assert error <= 4 * ulps(dtype) * scale


def test_probability_targets_match_mpmath():
    rng = np.random.default_rng(SEED)
    z = 5 * rng.standard_normal(8)
    t = rng.dirichlet(np.ones(8))
    exact = -mpmath.fsum(a * b for a, b in zip(mp(t), mp_log_softmax(z)))
    assert relative_error(xentref.softmax_cross_entropy(z, t), exact) <= 32 * ulps(np.float64)


# Agreement with xentref.symbolic and the probability functions -------------


def test_agrees_with_symbolic_definitions():
    rng = np.random.default_rng(SEED)
    z = sp.symbols("z1:5", real=True)
    t = symbolic.probabilities("t", 4)
    by_label = [sp.lambdify([z], symbolic.softmax_cross_entropy(z, k)) for k in range(4)]
    by_probabilities = sp.lambdify([z, t], symbolic.softmax_cross_entropy(z, t))
    x = 3 * rng.standard_normal((50, 4))
    labels = rng.integers(0, 4, size=50)
    targets = rng.dirichlet(np.ones(4), size=50)
    expected = [by_label[y](row) for row, y in zip(x, labels)]
    # The lambdified formula log(sum(exp)) - z_y cancels for small losses, so
    # its own error is about eps * |logsumexp|: hence the absolute tolerance.
    losses = xentref.softmax_cross_entropy(x, labels, reduction="none")
    np.testing.assert_allclose(losses, expected, rtol=1e-13, atol=1e-14)
    losses = xentref.softmax_cross_entropy(x, targets, reduction="none")
    np.testing.assert_allclose(losses, by_probabilities(x.T, targets.T), rtol=1e-13, atol=1e-14)


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
        lambda k: st.tuples(logits(k, batch=(4,), bound=1e300), st.lists(st.integers(0, k - 1), min_size=4, max_size=4))
    )
)
def test_integer_labels_equal_one_hot_targets_exactly(case):
    z, labels = case
    one_hot = np.eye(z.shape[-1])[labels]
    np.testing.assert_array_equal(
        xentref.softmax_cross_entropy(z, labels, reduction="none"),
        xentref.softmax_cross_entropy(z, one_hot, reduction="none"),
    )


@given(st.integers(2, 6).flatmap(lambda k: st.tuples(logits(k, batch=(3,)), distributions(k, batch=(3,)))))
def test_loss_is_at_least_the_target_entropy(case):
    z, t = case
    losses = xentref.softmax_cross_entropy(z, t, reduction="none")
    bound = xentref.entropy(t) - 8 * ulps(np.float64) * (1 + np.abs(z).max())
    assert np.all(losses >= bound)


# Reductions, shapes and axes -----------------------------------------------


def test_reductions():
    rng = np.random.default_rng(SEED)
    z = rng.standard_normal((6, 4))
    y = rng.integers(0, 4, size=6)
    none = xentref.softmax_cross_entropy(z, y, reduction="none")
    assert none.shape == (6,)
    np.testing.assert_array_equal(none, [xentref.softmax_cross_entropy(row, label) for row, label in zip(z, y)])
    assert xentref.softmax_cross_entropy(z, y, reduction="sum") == np.sum(none)
    assert xentref.softmax_cross_entropy(z, y) == np.sum(none) / 6


def test_mean_over_batch_and_spatial_dimensions():
    # Shape (N, d, C): the mean runs over all N * d losses, as in PyTorch.
    rng = np.random.default_rng(SEED)
    z = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 4, size=(2, 3))
    none = xentref.softmax_cross_entropy(z, y, reduction="none")
    assert none.shape == (2, 3)
    assert xentref.softmax_cross_entropy(z, y) == pytest.approx(none.mean(), rel=1e-15)


def test_axis_equals_moving_the_class_axis_last():
    rng = np.random.default_rng(SEED)
    z = rng.standard_normal((2, 4, 3))  # class axis 1
    y = rng.integers(0, 4, size=(2, 3))
    t = rng.dirichlet(np.ones(4), size=(2, 3))
    moved = np.moveaxis(z, 1, -1)
    np.testing.assert_array_equal(
        xentref.softmax_cross_entropy(z, y, axis=1, reduction="none"),
        xentref.softmax_cross_entropy(moved, y, reduction="none"),
    )
    np.testing.assert_array_equal(
        xentref.softmax_cross_entropy(z, np.moveaxis(t, -1, 1), axis=1, reduction="none"),
        xentref.softmax_cross_entropy(moved, t, reduction="none"),
    )


def test_empty_batch():
    z = np.zeros((0, 3))
    y = np.zeros(0, dtype=int)
    assert xentref.softmax_cross_entropy(z, y, reduction="none").shape == (0,)
    assert xentref.softmax_cross_entropy(z, y, reduction="sum") == 0
    with pytest.raises(ValueError, match=r"`reduction='mean'` is undefined for an empty batch"):
        xentref.softmax_cross_entropy(z, y)


@pytest.mark.parametrize("label_dtype", [np.int8, np.uint8, np.int32, np.int64])
def test_any_integer_label_dtype(label_dtype):
    z = np.array([[1.0, 2.0, 3.0]])
    expected = xentref.softmax_cross_entropy(z, [2])
    assert xentref.softmax_cross_entropy(z, np.array([2], dtype=label_dtype)) == expected


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_dtype_is_kept(dtype, reduction):
    z = np.ones((3, 2), dtype=dtype)
    assert xentref.softmax_cross_entropy(z, [0, 1, 0], reduction=reduction).dtype == dtype


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


def test_nan_logits_are_refused():
    with pytest.raises(ValueError, match=r"`logits` must not contain NaN; found NaN at index \(0, 1\)"):
        xentref.softmax_cross_entropy([[0.0, np.nan]], [0])


def test_empty_class_axis_is_refused():
    with pytest.raises(ValueError, match=r"`logits` has an empty class axis"):
        xentref.softmax_cross_entropy(np.zeros((2, 0)), [0, 0])


@pytest.mark.parametrize("reduction", ["avg", "Mean", None, 0])
def test_unknown_reduction_is_refused(reduction):
    with pytest.raises(ValueError, match=rf"`reduction` must be one of 'mean', 'sum' or 'none'; got {reduction!r}"):
        xentref.softmax_cross_entropy(np.zeros((2, 3)), [0, 1], reduction=reduction)


def test_integer_logits_are_converted_but_strings_are_not():
    assert xentref.softmax_cross_entropy([1, 1], 0) == math.log(2)
    with pytest.raises(TypeError, match=r"`logits` must hold real numbers"):
        xentref.softmax_cross_entropy(["1", "1"], 0)


@given(
    logits(4, batch=(2,), bound=1.7e308).map(lambda z: np.where(z > 1e307, -np.inf, z)),
    distributions(4, batch=(2,)),
)
def test_no_floating_point_warning_for_valid_input(z, t):
    z[:, 0] = 0.0  # keep one finite logit per row
    previous = np.seterr(all="raise")
    try:
        xentref.softmax_cross_entropy(z, t)
        xentref.softmax_cross_entropy(z, [0, 3])
    finally:
        np.seterr(**previous)


def test_probability_targets_take_the_dtype_of_the_logits():
    z = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    t = np.array([[0.2, 0.3, 0.5]])  # float64
    loss = xentref.softmax_cross_entropy(z, t)
    assert loss.dtype == np.float32
    assert xentref.grad.softmax_cross_entropy(z, t).dtype == np.float32
    assert loss == pytest.approx(xentref.softmax_cross_entropy(z.astype(np.float64), t), rel=1e-6)
