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
from helpers import mp_binary_cross_entropy, mp_sigmoid, ulp_error, weights

SEED = 20261121

# Logits whose sigmoid, rounded, is the prediction: from p = 1/2 to p = 0 and 1.
LOGITS = [1e-10, 30.0, 40.0, 700.0, 1e10]


def unit_floats(dtype=np.float64):
    """Probabilities in [0, 1], hitting 0, 1 and subnormals."""
    width = np.finfo(dtype).bits
    return st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1, width=width))


# Known values --------------------------------------------------------------


def test_seed_examples():
    losses = xentref.binary_cross_entropy([0.9, 0.2], [1, 0], reduction="none")
    assert ulp_error(losses[0], -mpmath.log(mpmath.mpf(0.9)), np.float64) <= 1
    assert ulp_error(losses[1], -mpmath.log(1 - mpmath.mpf(0.2)), np.float64) <= 1


def test_certain_predictions():
    # 0 log 0 = 0: a certain, correct prediction costs exactly +0; a certain,
    # wrong one costs +inf, and neither raises a floating-point warning.
    p = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.5, 0.5])
    previous = np.seterr(all="raise")
    try:
        losses = xentref.binary_cross_entropy(p, y, reduction="none")
    finally:
        np.seterr(**previous)
    np.testing.assert_array_equal(losses, [0, 0, np.inf, np.inf, np.inf, np.inf])
    assert math.copysign(1, losses[0]) == 1 and math.copysign(1, losses[1]) == 1


def test_soft_target_at_its_own_value_is_its_entropy():
    # BCE(p, p) = -p log p - (1 - p) log(1 - p), the binary entropy.
    loss = xentref.binary_cross_entropy(0.3, 0.3)
    assert ulp_error(loss, xentref.entropy([0.3, 0.7]), np.float64) <= 4


# Accuracy against mpmath (50 digits) --------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("z", [s * v for v in LOGITS for s in (1, -1)])
def test_at_the_sigmoid_of_extreme_logits(dtype, y, z):
    # p = sigma(z) rounded to dtype; the reference is the loss at that exact p.
    p = dtype(float(mp_sigmoid(z)))
    loss = xentref.binary_cross_entropy(np.array(p), y)
    assert loss.dtype == dtype
    assert ulp_error(loss, mp_binary_cross_entropy(p, y), dtype) <= 4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_random_values_match_mpmath(dtype):
    rng = np.random.default_rng(SEED)
    p = rng.uniform(size=200).astype(dtype)
    y = np.concatenate([rng.uniform(size=100), rng.integers(0, 2, 100)]).astype(dtype)
    losses = xentref.binary_cross_entropy(p, y, reduction="none")
    errors = [ulp_error(l, mp_binary_cross_entropy(a, b), dtype) for l, a, b in zip(losses, p, y)]
    assert max(errors) <= 4


# Agreement with xentref.symbolic and the multi-class functions ---------------


def test_agrees_with_symbolic_definition():
    rng = np.random.default_rng(SEED)
    p, y = sp.symbols("p y", positive=True)
    reference = sp.lambdify([p, y], symbolic.binary_cross_entropy(p, y))
    probs = rng.uniform(0.01, 0.99, 100)
    targets = rng.uniform(size=100)
    # log(1 - p) rounds 1 - p, an error of about eps / (1 - p) <= 1e-14 here.
    np.testing.assert_allclose(
        xentref.binary_cross_entropy(probs, targets, reduction="none"),
        reference(probs, targets),
        rtol=1e-13,
    )


def test_equals_two_class_cross_entropy():
    rng = np.random.default_rng(SEED)
    p = rng.uniform(0.01, 0.99, 50)
    y = rng.uniform(size=50)
    np.testing.assert_allclose(
        xentref.binary_cross_entropy(p, y, reduction="none"),
        xentref.cross_entropy(np.stack([y, 1 - y], -1), np.stack([p, 1 - p], -1)),
        rtol=1e-13,
    )


# Properties -----------------------------------------------------------------


@given(hnp.arrays(np.float64, 4, elements=unit_floats()), hnp.arrays(np.float64, 4, elements=unit_floats()))
def test_loss_is_at_least_the_target_entropy(p, y):
    # Gibbs' inequality for the two-class distributions (y, 1 - y) and (p, 1 - p).
    losses = xentref.binary_cross_entropy(p, y, reduction="none")
    entropy = xentref.entropy(np.stack([y, 1 - y], -1))
    assert np.all(losses >= entropy * (1 - 1e-14) - 1e-300)


@given(
    hnp.arrays(np.float64, (2, 3), elements=unit_floats()),
    hnp.arrays(np.float64, (2, 3), elements=unit_floats()),
    weights(3),
)
def test_no_floating_point_warning_for_valid_input(p, y, w):
    previous = np.seterr(all="raise")
    try:
        for reduction in ["mean", "sum", "none"]:
            xentref.binary_cross_entropy(p, y, weight=w, reduction=reduction)
    finally:
        np.seterr(**previous)


# Weights, reductions, shapes and dtypes ---------------------------------------


def test_weight_rescales_each_element_and_broadcasts():
    rng = np.random.default_rng(SEED)
    p = rng.uniform(size=(4, 3))
    y = rng.uniform(size=(4, 3))
    w = np.array([0.5, 2.0, 3.0])
    plain = xentref.binary_cross_entropy(p, y, reduction="none")
    weighted = xentref.binary_cross_entropy(p, y, weight=w, reduction="none")
    np.testing.assert_array_equal(weighted, w * plain)


def test_mean_divides_by_the_number_of_elements_not_the_weights():
    p, y, w = [0.25, 0.5], [1.0, 1.0], [3.0, 1.0]
    mean = xentref.binary_cross_entropy(p, y, weight=w)
    assert mean == pytest.approx((3 * math.log(4) + math.log(2)) / 2, rel=1e-15)


def test_zero_weight_removes_an_infinite_loss():
    losses = xentref.binary_cross_entropy([0.0, 0.5], [1.0, 1.0], weight=[0.0, 1.0], reduction="none")
    np.testing.assert_array_equal(losses, [0.0, math.log(2)])


def test_reductions():
    rng = np.random.default_rng(SEED)
    p = rng.uniform(size=(3, 4))
    y = rng.uniform(size=(3, 4))
    none = xentref.binary_cross_entropy(p, y, reduction="none")
    assert none.shape == (3, 4)
    assert xentref.binary_cross_entropy(p, y, reduction="sum") == np.sum(none)
    assert xentref.binary_cross_entropy(p, y) == np.sum(none) / 12


def test_empty_input():
    assert xentref.binary_cross_entropy(np.zeros(0), np.zeros(0), reduction="sum") == 0
    with pytest.raises(ValueError, match=r"`reduction='mean'` is undefined for an empty batch"):
        xentref.binary_cross_entropy(np.zeros(0), np.zeros(0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_dtype_of_probs_is_kept(dtype, reduction):
    # Targets and weights given as Python numbers (float64) do not promote.
    p = np.full(3, 0.25, dtype=dtype)
    assert xentref.binary_cross_entropy(p, [1, 0, 0.5], weight=[1.0, 2.0, 3.0], reduction=reduction).dtype == dtype


# Bad input ------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, -0.5])
def test_probs_outside_the_unit_interval_are_refused(value):
    with pytest.raises(ValueError, match=rf"`probs` must be in \[0, 1\]; got {value} at index \(2,\)"):
        xentref.binary_cross_entropy([0.5, 0.5, value], [1, 1, 1])


def test_nan_probs_are_refused():
    with pytest.raises(ValueError, match=r"`probs` must not contain NaN; found NaN at index \(1,\)"):
        xentref.binary_cross_entropy([0.5, np.nan], [1, 1])


@pytest.mark.parametrize("value", [2.0, -1.0])
def test_targets_outside_the_unit_interval_are_refused(value):
    with pytest.raises(ValueError, match=rf"`targets` must be in \[0, 1\]; got {value} at index \(0,\)"):
        xentref.binary_cross_entropy([0.5, 0.5], [value, 1])


def test_nan_targets_are_refused():
    with pytest.raises(ValueError, match=r"`targets` must not contain NaN; found NaN at index \(0,\)"):
        xentref.binary_cross_entropy([0.5], [np.nan])


def test_targets_of_another_shape_are_refused():
    with pytest.raises(ValueError, match=r"`targets` must have the shape of `probs` \(2, 3\); got \(3,\)"):
        xentref.binary_cross_entropy(np.full((2, 3), 0.5), [1, 0, 1])


@pytest.mark.parametrize("value", [-1.0, np.inf])
def test_negative_or_infinite_weights_are_refused(value):
    with pytest.raises(ValueError, match=rf"`weight` must be finite and non-negative; got {value} at index \(1,\)"):
        xentref.binary_cross_entropy([0.5, 0.5], [1, 1], weight=[1.0, value])


def test_nan_weights_are_refused():
    with pytest.raises(ValueError, match=r"`weight` must not contain NaN; found NaN at index \(0,\)"):
        xentref.binary_cross_entropy([0.5, 0.5], [1, 1], weight=[np.nan, 1.0])


def test_a_weight_beyond_the_dtype_is_refused():
    p = np.array([0.5], dtype=np.float32)
    with pytest.raises(ValueError, match=r"got 1e\+300 at index \(0,\), which overflows float32"):
        xentref.binary_cross_entropy(p, [1], weight=[1e300])


def test_weights_that_do_not_broadcast_are_refused():
    with pytest.raises(ValueError, match=r"`weight` of shape \(2,\) must broadcast to the shape of `probs` \(2, 3\)"):
        xentref.binary_cross_entropy(np.full((2, 3), 0.5), np.ones((2, 3)), weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"`weight` of shape \(2, 1\) must broadcast to the shape of `probs` \(3,\)"):
        xentref.binary_cross_entropy(np.full(3, 0.5), np.ones(3), weight=np.ones((2, 1)))


@pytest.mark.parametrize("reduction", ["avg", None])
def test_unknown_reduction_is_refused(reduction):
    with pytest.raises(ValueError, match=rf"`reduction` must be one of 'mean', 'sum' or 'none'; got {reduction!r}"):
        xentref.binary_cross_entropy([0.5], [1], reduction=reduction)


def test_complex_probs_are_refused():
    with pytest.raises(TypeError, match=r"`probs` must hold real numbers of dtype float32 or float64; got dtype complex128"):
        xentref.binary_cross_entropy(np.array([0.5j]), [1])
