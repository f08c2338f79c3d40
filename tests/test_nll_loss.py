import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import xentref
from xentref import symbolic
from helpers import logits, mp_log_softmax, ulp_error

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
    log_p = np.log([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    losses = xentref.nll_loss(log_p, [0, 0], reduction="none")
    assert ulp_error(losses[0], -mpmath.log(mpmath.mpf(0.7)), np.float64) <= 1
    assert ulp_error(losses[1], -mpmath.log(mpmath.mpf(0.2)), np.float64) <= 1


def test_probability_zero():
    log_p = np.array([[0.0, -np.inf], [0.0, -np.inf]])
    losses = xentref.nll_loss(log_p, [0, 1], reduction="none")
    np.testing.assert_array_equal(losses, [0, np.inf])
    assert math.copysign(1, losses[0]) == 1  # +0, not -0


def test_tiny_loss_of_log_softmax_matches_mpmath():
    z = np.array([40.0, 0.0, -40.0])
    loss = xentref.nll_loss(xentref.log_softmax(z), 0)
    assert ulp_error(loss, -mp_log_softmax(z)[0], np.float64) <= 2


# Agreement with xentref.symbolic and softmax_cross_entropy --------------------


def test_agrees_with_symbolic_definition_on_log_softmax():
    rng = np.random.default_rng(SEED)
    z = sp.symbols("z1:5", real=True)
    references = [sp.lambdify([z], symbolic.nll_loss(symbolic.log_softmax(z), k)) for k in range(4)]
    x = 3 * rng.standard_normal((50, 4))
    labels = rng.integers(0, 4, 50)
    expected = [references[k](row) for row, k in zip(x, labels)]
    # log(sum(exp)) - z_y cancels for small losses: atol, as for softmax_cross_entropy.
    losses = xentref.nll_loss(xentref.log_softmax(x), labels, reduction="none")
    np.testing.assert_allclose(losses, expected, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("dtype, bound", [(np.float64, 1e300), (np.float32, 2.0**126)])
@given(data=st.data())
def test_on_log_softmax_equals_softmax_cross_entropy_exactly(dtype, bound, data):
    z, labels = data.draw(cases(bound=bound, dtype=dtype))
    np.testing.assert_array_equal(
        xentref.nll_loss(xentref.log_softmax(z), labels, reduction="none"),
        xentref.softmax_cross_entropy(z, labels, reduction="none"),
    )


@given(case=cases(bound=1.7e308))
def test_no_floating_point_warning_on_log_softmax(case):
    z, labels = case
    log_p = xentref.log_softmax(z)
    previous = np.seterr(all="raise")
    try:
        xentref.nll_loss(log_p, labels)
    finally:
        np.seterr(**previous)


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


# Reductions, shapes and axes -----------------------------------------------


def test_reductions():
    rng = np.random.default_rng(SEED)
    log_p = xentref.log_softmax(rng.normal(size=(6, 4)))
    labels = rng.integers(0, 4, 6)
    none = xentref.nll_loss(log_p, labels, reduction="none")
    assert none.shape == (6,)
    np.testing.assert_array_equal(none, -log_p[np.arange(6), labels])
    assert xentref.nll_loss(log_p, labels, reduction="sum") == np.sum(none)
    assert xentref.nll_loss(log_p, labels) == np.sum(none) / 6


def test_axis_equals_moving_the_class_axis_last():
    rng = np.random.default_rng(SEED)
    log_p = xentref.log_softmax(rng.normal(size=(2, 4, 3)), axis=1)
    labels = rng.integers(0, 4, (2, 3))
    np.testing.assert_array_equal(
        xentref.nll_loss(log_p, labels, axis=1, reduction="none"),
        xentref.nll_loss(np.moveaxis(log_p, 1, -1), labels, reduction="none"),
    )


def test_empty_batch():
    log_p = np.zeros((0, 3))
    labels = np.zeros(0, dtype=int)
    assert xentref.nll_loss(log_p, labels, reduction="sum") == 0
    with pytest.raises(ValueError, match=r"`reduction='mean'` is undefined for an empty batch"):
        xentref.nll_loss(log_p, labels)


@pytest.mark.parametrize("label_dtype", [np.int8, np.uint8, np.int64])
def test_any_integer_label_dtype(label_dtype):
    log_p = np.log([[0.5, 0.25, 0.25]])
    assert xentref.nll_loss(log_p, np.array([1], dtype=label_dtype)) == math.log(4)


# Bad input ------------------------------------------------------------------


def test_nan_is_refused():
    with pytest.raises(ValueError, match=r"`log_probs` must not contain NaN; found NaN at index \(0, 1\)"):
        xentref.nll_loss([[0.0, np.nan]], [0])


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


def test_unknown_reduction_is_refused():
    with pytest.raises(ValueError, match=r"`reduction` must be one of 'mean', 'sum' or 'none'; got 'batchmean'"):
        xentref.nll_loss(np.log([0.5, 0.5]), 0, reduction="batchmean")
