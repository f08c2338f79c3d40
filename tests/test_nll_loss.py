"""What is special to nll_loss.

The contract it shares with every loss (accuracy against xentref.exact, the
textbook formula, reductions, axes, dtypes, the empty batch, NaN, unknown
reductions, no warning for the log-softmax of any finite logits) is in
test_contract.py.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import exact
from helpers import logits

SEED = 20261121


def cases(k_max=6, batch=4, bound=1e300, dtype=np.float64):
    """Logits of shape (batch, k) with one label per row."""
    return st.integers(1, k_max).flatmap(
        lambda k: st.tuples(
            logits(k, batch=(batch,), bound=bound, dtype=dtype),
            st.lists(st.integers(0, k - 1), min_size=batch, max_size=batch),
        )
    )


# Known values --------------------------------------------------------------


def test_seed_examples():
    # -log 0.7 and -log 0.2, correctly rounded, are cross-entropies against one-hot targets.
    log_p = np.log([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    losses = xentref.nll_loss(log_p, [0, 0], reduction="none")
    assert exact.ulp_distance(losses[0], exact.cross_entropy([1, 0, 0], [0.7, 0.2, 0.1])) <= 1
    assert exact.ulp_distance(losses[1], exact.cross_entropy([1, 0, 0], [0.2, 0.4, 0.4])) <= 1


def test_probability_zero():
    log_p = np.array([[0.0, -np.inf], [0.0, -np.inf]])
    losses = xentref.nll_loss(log_p, [0, 1], reduction="none")
    np.testing.assert_array_equal(losses, [0, np.inf])
    assert math.copysign(1, losses[0]) == 1  # +0, not -0


def test_tiny_loss_of_log_softmax_keeps_its_digits():
    z = np.array([40.0, 0.0, -40.0])
    loss = xentref.nll_loss(xentref.log_softmax(z), 0)
    assert exact.ulp_distance(loss, exact.softmax_cross_entropy(z, 0)) <= 2


# On log_softmax it is softmax_cross_entropy -----------------------------------


@pytest.mark.parametrize("dtype, bound", [(np.float64, 1e300), (np.float32, 2.0**126)])
@given(data=st.data())
def test_on_log_softmax_equals_softmax_cross_entropy_exactly(dtype, bound, data):
    # From one class to six (the registry's rows have five), without a warning.
    z, labels = data.draw(cases(bound=bound, dtype=dtype))
    with np.errstate(all="raise"):
        by_nll_loss = xentref.nll_loss(xentref.log_softmax(z), labels, reduction="none")
        by_logits = xentref.softmax_cross_entropy(z, labels, reduction="none")
    np.testing.assert_array_equal(by_nll_loss, by_logits)


# The normalisation check -----------------------------------------------------


def test_log_distribution_within_the_tolerance_is_accepted():
    # logsumexp(log p + c) = c: 1e-9 is inside sqrt(eps) = 1.5e-8, 1e-7 is not.
    log_p = np.log([0.25, 0.75]) + 1e-9
    assert xentref.nll_loss(log_p, 0) == pytest.approx(math.log(4), rel=1e-8)
    with pytest.raises(ValueError, match=r"got 1\.0000\d*e-07\. Pass log_softmax"):
        xentref.nll_loss(np.log([0.25, 0.75]) + 1e-7, 0)


def test_float32_log_softmax_is_accepted():
    z = np.random.default_rng(SEED).normal(0, 5, (10, 50)).astype(np.float32)
    loss = xentref.nll_loss(xentref.log_softmax(z), np.zeros(10, dtype=int))
    assert loss.dtype == np.float32


def test_raw_logits_are_refused():
    message = (
        r"`log_probs` must hold log-probabilities: their logsumexp along axis 1 must be 0 "
        r"\(tolerance 1.5e-08 for float64\); got .* at batch index \(1,\). Pass log_softmax\(logits\)"
    )
    with pytest.raises(ValueError, match=message):
        xentref.nll_loss([[0.0, -np.inf], [1.0, 2.0]], [0, 1])


def test_positive_log_probability_within_the_tolerance_is_refused():
    # logsumexp([1e-9, -inf]) = 1e-9 passes the tolerance; the probability
    # e^(1e-9) > 1 would make the loss negative.
    with pytest.raises(ValueError, match=r"`log_probs` must hold log-probabilities, at most 0; got 1e-09 at index \(0, 0\)"):
        xentref.nll_loss([[1e-9, -np.inf]], [0])


def test_all_minus_infinity_is_refused():
    with pytest.raises(ValueError, match=r"got -inf at batch index \(0,\)"):
        xentref.nll_loss([[-np.inf, -np.inf]], [0])


# Labels -------------------------------------------------------------------------


@pytest.mark.parametrize("label_dtype", [np.int8, np.uint8, np.int64])
def test_any_integer_label_dtype(label_dtype):
    log_p = np.log([[0.5, 0.25, 0.25]])
    assert xentref.nll_loss(log_p, np.array([1], dtype=label_dtype)) == math.log(4)


# Bad input ------------------------------------------------------------------


def test_plus_infinity_is_refused():
    with pytest.raises(ValueError, match=r"`log_probs` must be finite or -inf; found \+inf at index \(1,\)"):
        xentref.nll_loss([0.0, np.inf], 0)


@pytest.mark.parametrize("label", [2, -1])
def test_label_out_of_range_is_refused(label):
    with pytest.raises(ValueError, match=rf"`labels` must be class labels in \[0, 2\); got {label} at index \(0,\)"):
        xentref.nll_loss(np.log([[0.5, 0.5]]), [label])


def test_float_labels_are_refused():
    with pytest.raises(TypeError, match=r"`labels` of shape \(1,\) holds class labels and must have an integer dtype; got float64"):
        xentref.nll_loss(np.log([[0.5, 0.5]]), [1.0])


def test_labels_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match=r"`labels` as class labels must have shape \(1,\); got \(2,\)"):
        xentref.nll_loss(np.log([[0.5, 0.5]]), [0, 1])


def test_empty_class_axis_is_refused():
    with pytest.raises(ValueError, match=r"`log_probs` has an empty class axis"):
        xentref.nll_loss(np.zeros((2, 0)), [0, 0])


def test_scalar_is_refused():
    with pytest.raises(ValueError, match=r"`log_probs` must have at least one dimension"):
        xentref.nll_loss(0.0, 0)
