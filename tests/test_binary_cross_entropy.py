"""What is special to binary_cross_entropy.

The contract it shares with every loss (accuracy against xentref.exact on
the registry's corpora, from p = 0 to 1, the textbook formula, reductions,
dtypes, the empty batch, NaN probabilities, unknown reductions, no warning
for any valid input and weight) is in test_contract.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import exact

SEED = 20261121

# Logits whose sigmoid, rounded, is the prediction: from p = 1/2 to p = 0 and 1.
LOGITS = [1e-10, 30.0, 40.0, 700.0, 1e10]


def unit_floats(dtype=np.float64):
    """Probabilities in [0, 1], hitting 0, 1 and subnormals."""
    width = np.finfo(dtype).bits
    return st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1, width=width))


# Known values --------------------------------------------------------------


def test_seed_examples():
    # -log 0.9 and -log(1 - 0.2), correctly rounded.
    losses = xentref.binary_cross_entropy([0.9, 0.2], [1, 0], reduction="none")
    expected = exact.binary_cross_entropy([0.9, 0.2], [1, 0], reduction="none")
    assert np.all(exact.ulp_distance(losses, expected) <= 1)


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
    assert exact.ulp_distance(loss, xentref.entropy([0.3, 0.7])) <= 4


# Predictions next to 0 and 1, against xentref.exact ----------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_at_the_sigmoid_of_extreme_logits(dtype):
    # p = sigma(z) rounded to dtype: 1/2 + 2.5e-11, 1 - 9.4e-14, 4.2e-18,
    # 9.9e-305 (0 in float32), 0 and 1. The loss and its gradient at that p.
    z = np.repeat([s * v for v in LOGITS for s in (1, -1)], 3)
    y = np.tile([0.0, 1.0, 0.3], 2 * len(LOGITS))
    p = exact.sigmoid(z).astype(dtype)
    losses = xentref.binary_cross_entropy(p, y, reduction="none")
    gradients = xentref.grad.binary_cross_entropy(p, y, reduction="none")
    assert losses.dtype == dtype and gradients.dtype == dtype
    assert np.max(exact.ulp_distance(losses, exact.binary_cross_entropy(p, y, reduction="none"))) <= 4
    assert np.max(exact.ulp_distance(gradients, exact.grad.binary_cross_entropy(p, y, reduction="none"))) <= 4


# Reductions to simpler cases ---------------------------------------------------


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


# Weights ----------------------------------------------------------------------


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


# Bad input ------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, -0.5])
def test_probs_outside_the_unit_interval_are_refused(value):
    with pytest.raises(ValueError, match=rf"`probs` must be in \[0, 1\]; got {value} at index \(2,\)"):
        xentref.binary_cross_entropy([0.5, 0.5, value], [1, 1, 1])


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


def test_complex_probs_are_refused():
    with pytest.raises(TypeError, match=r"`probs` must hold real numbers of dtype float32 or float64; got dtype complex128"):
        xentref.binary_cross_entropy(np.array([0.5j]), [1])
