import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import symbolic
from helpers import logits, mp_sigmoid_binary_cross_entropy, ulp_error, ulps, weights

SEED = 20261121

LOGITS = [1e-10, 30.0, 40.0, 700.0, 1e10]


def targets(shape, dtype=np.float64):
    width = np.finfo(dtype).bits
    return hnp.arrays(dtype, shape, elements=st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0, 1, width=width)))


# Known values --------------------------------------------------------------


def test_small_example():
    # softplus(-2) = log(1 + e^-2) and softplus(-1) = log(1 + e^-1).
    losses = xentref.sigmoid_binary_cross_entropy([2.0, -1.0], [1, 0], reduction="none")
    assert ulp_error(losses[0], mpmath.log(1 + mpmath.exp(-2)), np.float64) <= 1
    assert ulp_error(losses[1], mpmath.log(1 + mpmath.exp(-1)), np.float64) <= 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_confident_correct_prediction_keeps_relative_precision(dtype):
    # z = 30, y = 1: log1p(e^-30) = 9.3576e-14; log(1 + e^-30) keeps only
    # the digits of 1 + e^-30.
    loss = xentref.sigmoid_binary_cross_entropy(np.array(30.0, dtype=dtype), 1.0)
    assert loss.dtype == dtype
    assert ulp_error(loss, mpmath.log1p(mpmath.exp(-30)), dtype) <= 1
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


# Accuracy against mpmath (50 digits) --------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("z", [s * v for v in LOGITS for s in (1, -1)])
def test_extreme_logits_match_mpmath(dtype, y, z):
    z = np.array(z, dtype=dtype)
    loss = xentref.sigmoid_binary_cross_entropy(z, y)
    assert loss.dtype == dtype
    assert ulp_error(loss, mp_sigmoid_binary_cross_entropy(z, y), dtype) <= 4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_values_with_pos_weight_match_mpmath(dtype):
    rng = np.random.default_rng(SEED)
    z = (rng.choice([-1, 1], 100) * 10 ** rng.uniform(-3, 2.5, 100)).astype(dtype)
    y = np.concatenate([rng.uniform(size=50), rng.integers(0, 2, 50)]).astype(dtype)
    pw = rng.uniform(0, 5, 100).astype(dtype)
    losses = xentref.sigmoid_binary_cross_entropy(z, y, pos_weight=pw, reduction="none")
    errors = [ulp_error(l, mp_sigmoid_binary_cross_entropy(*args), dtype) for l, *args in zip(losses, z, y, pw)]
    assert max(errors) <= 4


# Agreement with xentref.symbolic and the other losses ------------------------


def test_agrees_with_symbolic_definition():
    rng = np.random.default_rng(SEED)
    z, y, w = sp.symbols("z y w", real=True)
    reference = sp.lambdify([z, y, w], symbolic.sigmoid_binary_cross_entropy(z, y, pos_weight=w))
    x = rng.uniform(-20, 20, 100)
    t = rng.uniform(size=100)
    pw = rng.uniform(0, 3, 100)
    # The textbook log(1 - sigma(z)) rounds 1 - sigma(z): its own error is
    # about eps / sigma(-z) relative, up to 1e-7 at |z| = 20. Hence the loose rtol.
    np.testing.assert_allclose(
        xentref.sigmoid_binary_cross_entropy(x, t, pos_weight=pw, reduction="none"),
        reference(x, t, pw),
        rtol=1e-6,
    )
    moderate = np.abs(x) < 5
    np.testing.assert_allclose(
        xentref.sigmoid_binary_cross_entropy(x[moderate], t[moderate], pos_weight=pw[moderate], reduction="none"),
        reference(x[moderate], t[moderate], pw[moderate]),
        rtol=1e-13,
    )


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


@given(
    logits(3, batch=(2,), bound=1e300),
    targets((2, 3)),
    weights(3),
    weights(3),
)
def test_no_floating_point_warning_for_finite_logits(z, y, pw, w):
    previous = np.seterr(all="raise")
    try:
        for reduction in ["mean", "sum", "none"]:
            xentref.sigmoid_binary_cross_entropy(z, y, pos_weight=pw, weight=w, reduction=reduction)
    finally:
        np.seterr(**previous)


@given(logits(4, bound=1.7e308), targets(4))
def test_no_floating_point_warning_up_to_the_largest_float(z, y):
    previous = np.seterr(all="raise")
    try:
        losses = xentref.sigmoid_binary_cross_entropy(z, y, reduction="none")
    finally:
        np.seterr(**previous)
    assert np.all(losses >= 0)


# Weights, reductions, shapes and dtypes ---------------------------------------


def test_weight_rescales_each_element_and_zero_removes_it():
    z = np.array([[1.0, -np.inf], [2.0, 0.0]])
    y = np.ones((2, 2))
    w = np.array([2.0, 0.0])
    losses = xentref.sigmoid_binary_cross_entropy(z, y, weight=w, reduction="none")
    np.testing.assert_array_equal(losses, [[2 * xentref.softplus(-1.0), 0], [2 * xentref.softplus(-2.0), 0]])
    assert xentref.sigmoid_binary_cross_entropy(z, y, weight=w) == np.sum(losses) / 4


def test_reductions():
    rng = np.random.default_rng(SEED)
    z, y = rng.normal(size=(3, 4)), rng.uniform(size=(3, 4))
    none = xentref.sigmoid_binary_cross_entropy(z, y, reduction="none")
    assert none.shape == (3, 4)
    assert xentref.sigmoid_binary_cross_entropy(z, y, reduction="sum") == np.sum(none)
    assert xentref.sigmoid_binary_cross_entropy(z, y) == np.sum(none) / 12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_dtype_of_logits_is_kept(dtype, reduction):
    z = np.zeros(3, dtype=dtype)
    loss = xentref.sigmoid_binary_cross_entropy(z, [1, 0, 0.5], pos_weight=2.0, weight=[1.0, 2.0, 3.0], reduction=reduction)
    assert loss.dtype == dtype


# Bad input ------------------------------------------------------------------


def test_nan_logits_are_refused():
    with pytest.raises(ValueError, match=r"`logits` must not contain NaN; found NaN at index \(1,\)"):
        xentref.sigmoid_binary_cross_entropy([0.0, np.nan], [1, 1])


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


def test_unknown_reduction_is_refused():
    with pytest.raises(ValueError, match=r"`reduction` must be one of 'mean', 'sum' or 'none'; got 'batchmean'"):
        xentref.sigmoid_binary_cross_entropy([0.0], [1.0], reduction="batchmean")


def test_string_logits_are_refused():
    with pytest.raises(TypeError, match=r"`logits` must hold real numbers"):
        xentref.sigmoid_binary_cross_entropy(["1"], [1.0])
