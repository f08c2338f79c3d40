"""What is special to ctc_loss.

The contract it shares with every loss (within its ulps of xentref.exact on
the registry's corpora, xentref.exact against SymPy's enumeration of the
alignments and its derivative, finite differences, the reductions, dtypes,
the empty batch, NaN and +inf refused, no floating-point warning) is in
test_contract.py. Here: the loss and its gradient against a brute-force sum
over every alignment in ball arithmetic, which shares no code with the
recursions; the cases where no alignment exists; reductions to simpler
losses; properties of the distribution CTC defines; long sequences and tiny
losses; and each way bad input is refused.
"""

import itertools
import math

import numpy as np
import pytest
from flint import arb
from hypothesis import given, settings
from hypothesis import strategies as st

import xentref
from xentref import exact, grad
from xentref.exact._certify import certify
from xentref.exact._split import Split
from helpers import ulps_of

SEED = 20261127
RNG = np.random.default_rng(SEED)


def log_probs(shape, scale=3.0, rng=RNG, dtype=np.float64):
    return xentref.log_softmax(scale * rng.standard_normal(shape)).astype(dtype)


def collapse(path, blank):
    """Merge repeated classes, then drop blanks: written here, apart from the package."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return tuple(k for k in merged if k != blank)


def alignments(frames, classes, target, blank):
    return [p for p in itertools.product(range(classes), repeat=frames) if collapse(p, blank) == tuple(target)]


def path_log_probability(rows, path):
    """The sum of the path's log-probabilities, an exact Arb ball (None if one is -inf)."""
    if any(rows[t][k] == -math.inf for t, k in enumerate(path)):
        return None
    return sum((arb(rows[t][k]) for t, k in enumerate(path)), arb(0))


def path_probability(rows, path):
    """exp of the sum of the path's log-probabilities, as an Arb ball (0 if one is -inf)."""
    if any(rows[t][k] == -math.inf for t, k in enumerate(path)):
        return arb(0)
    return sum((arb(rows[t][k]) for t, k in enumerate(path)), arb(0)).exp()


def enumerated(rows, target, blank, dtype=np.float64):
    """The loss and the gradient by summing over every alignment, certified and correctly rounded."""
    frames, classes = np.shape(rows)
    rows = np.asarray(rows).tolist()
    paths = alignments(frames, classes, target, blank) if frames else ([()] if not target else [])

    def loss():
        # -log of the sum, as -(log p(first) + log R) with R = sum p(pi) / p(first):
        # the first term is an exact sum of the inputs, which may be a float or
        # a midpoint between two, and log R > 0 decides the rounding then.
        logs = [path_log_probability(rows, p) for p in paths]
        logs = [value for value in logs if value is not None]
        if not logs:
            return [math.inf]
        if len(logs) == 1:
            return [-logs[0]]
        ratio = sum(((value - logs[0]).exp() for value in logs), arb(0))
        return [Split(-logs[0], -ratio.log(), -1)]

    def gradient():
        weights = [path_probability(rows, p) for p in paths]
        total = sum(weights, arb(0))
        if total.is_zero():
            return [math.nan] * (frames * classes)
        return [-sum((w for w, p in zip(weights, paths) if p[t] == k), arb(0)) / total
                for t in range(frames) for k in range(classes)]

    value = np.dtype(dtype).type(certify(loss, dtype, "enumerated")[0])
    return value, np.array(certify(gradient, dtype, "enumerated"), dtype=dtype).reshape(frames, classes)


def cost(gradient, rows):
    """E[-log p(pi)] over the alignments' posterior, from gamma = -gradient: the loss's scale."""
    gamma = -np.asarray(gradient, dtype=np.float64)
    visited = gamma > 0
    return np.sum(np.where(visited, gamma * -np.where(visited, rows, 0), 0))


def gradient_scale(gradient, rows):
    """gamma (1 + cost + |log gamma|), what the registry's case measures the gradient against (tests/cases.py)."""
    gamma = -np.asarray(gradient, dtype=np.float64)
    size = -np.log(np.where(gamma > 0, gamma, 1))
    return gamma * (1 + cost(gradient, rows) + size)


def small_cases(count, rng):
    """Random sequences of 0 to 6 frames over 2 to 4 classes, some -inf entries, any blank."""
    for _ in range(count):
        frames, classes = int(rng.integers(0, 7)), int(rng.integers(2, 5))
        blank = int(rng.integers(classes))
        logits = 3 * rng.standard_normal((frames, classes))
        logits[rng.uniform(size=logits.shape) < 0.1] = -np.inf
        logits[:, blank] = np.maximum(logits[:, blank], -5)  # every frame keeps a finite entry
        rows = xentref.log_softmax(logits) if frames else np.zeros((0, classes))
        labels = [k for k in range(classes) if k != blank]
        target = [int(k) for k in rng.choice(labels, size=int(rng.integers(0, 4)))]
        yield rows, target, blank


# Against every alignment, summed one by one ----------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_loss_and_gradient_are_the_sum_over_every_alignment(dtype):
    rng = np.random.default_rng(SEED)
    infinite = 0
    for rows, target, blank in small_cases(40, rng):
        rows = rows.astype(dtype)
        frames = len(rows)
        args = (rows, np.array(target, dtype=int), frames, len(target))
        expected_loss, expected_grad = enumerated(rows, target, blank, dtype)
        # The certified recursion is the certified sum, to the last bit.
        assert exact.ctc_loss(*args, blank=blank) == expected_loss
        np.testing.assert_array_equal(exact.grad.ctc_loss(*args, blank=blank), expected_grad)
        loss, gradient = xentref.ctc_loss(*args, blank=blank), grad.ctc_loss(*args, blank=blank)
        assert loss.dtype == gradient.dtype == dtype
        infinite += loss == np.inf
        assert ulps_of(loss, expected_loss, cost(expected_grad, rows)) <= 2
        if gradient.size:
            assert np.max(ulps_of(gradient, expected_grad, gradient_scale(expected_grad, rows))) <= 2
    assert infinite >= 3  # targets too long for their frames, or blocked by -inf


def test_the_three_alignments_of_one_label_in_two_frames():
    # (1, 1), (1, blank), (blank, 1): P = 3 y^2 with y = e^(log 1/2 rounded).
    half = math.log(0.5)
    rows = np.full((2, 2), half)
    with_mpmath = -math.log(3) - 2 * half  # log(4/3) to within rounding of the log 0.5
    assert abs(xentref.ctc_loss(rows, [1], 2, 1) - with_mpmath) <= 2e-16
    assert [list(p) for p in alignments(2, 2, [1], 0)] == [[0, 1], [1, 0], [1, 1]]
    np.testing.assert_allclose(grad.ctc_loss(rows, [1], 2, 1, reduction="sum"), [[-1 / 3, -2 / 3]] * 2, rtol=1e-15)


def test_a_single_alignment_is_the_sum_of_its_log_probabilities():
    # T = U + repeats: (1, blank, 1, 2) is the only alignment of (1, 1, 2) in 4 frames.
    rows = log_probs((4, 3))
    path = [1, 0, 1, 2]
    expected = -math.fsum(rows[t, k] for t, k in enumerate(path))
    assert alignments(4, 3, [1, 1, 2], 0) == [tuple(path)]
    assert ulps_of(xentref.ctc_loss(rows, [1, 1, 2], 4, 3), expected) <= 1
    np.testing.assert_array_equal(grad.ctc_loss(rows, [1, 1, 2], 4, 3, reduction="sum"), -np.eye(3)[path])


# No alignment: +inf, not an error --------------------------------------------------


@pytest.mark.parametrize("target, frames", [([1, 1], 2), ([1, 2, 1], 2), ([1, 1, 1], 4), ([1], 0)])
def test_a_target_longer_than_its_frames_allow_costs_infinity(target, frames):
    rows = log_probs((5, 3))
    assert xentref.ctc_loss(rows, target, frames, len(target)) == np.inf
    assert exact.ctc_loss(rows, target, frames, len(target)) == np.inf
    gradient = grad.ctc_loss(rows, target, frames, len(target), reduction="sum")
    # No derivative on its frames; 0 on the padding, which it does not read.
    assert np.all(np.isnan(gradient[:frames])) and np.all(gradient[frames:] == 0)
    # One frame more (for [1, 1, 1], two) and it fits.
    needed = len(target) + sum(a == b for a, b in zip(target, target[1:]))
    assert np.isfinite(xentref.ctc_loss(rows, target, needed, len(target)))


def test_alignments_blocked_by_zero_probabilities_cost_infinity():
    # Label 2 has probability 0 in every frame.
    rows = xentref.log_softmax(np.array([[0.0, 1.0, -np.inf]] * 4))
    assert xentref.ctc_loss(rows, [2], 4, 1) == exact.ctc_loss(rows, [2], 4, 1) == np.inf
    # Zero-probability entries off every alignment change nothing.
    assert np.isfinite(xentref.ctc_loss(rows, [1], 4, 1))
    assert grad.ctc_loss(rows, [1], 4, 1, reduction="sum")[0, 2] == 0


def test_zero_infinity_replaces_infinite_losses_and_their_gradients_by_zero():
    rows = log_probs((3, 5, 4))
    targets, input_lengths, target_lengths = [[1, 1, 2], [1, 2, 3], [2, 2, 0]], [5, 2, 5], [3, 3, 2]
    losses = xentref.ctc_loss(rows, targets, input_lengths, target_lengths, reduction="none")
    assert np.isfinite(losses[[0, 2]]).all() and losses[1] == np.inf
    zeroed = xentref.ctc_loss(rows, targets, input_lengths, target_lengths, reduction="none", zero_infinity=True)
    np.testing.assert_array_equal(zeroed, [losses[0], 0, losses[2]])
    # The mean still counts the zeroed sequence.
    mean = xentref.ctc_loss(rows, targets, input_lengths, target_lengths, zero_infinity=True)
    assert mean == (losses[0] + losses[2]) / 3
    assert exact.ctc_loss(rows, targets, input_lengths, target_lengths, reduction="sum", zero_infinity=True) == (
        exact.ctc_loss(rows[[0, 2]], [targets[0], targets[2]], [5, 5], [3, 2], reduction="sum"))
    gradient = grad.ctc_loss(rows, targets, input_lengths, target_lengths, reduction="sum", zero_infinity=True)
    assert np.all(gradient[1] == 0)
    np.testing.assert_array_equal(gradient[[0, 2]], grad.ctc_loss(rows, targets, input_lengths, target_lengths,
                                                                  reduction="sum")[[0, 2]])


def test_an_empty_target_on_no_frames_has_loss_plus_zero():
    loss = xentref.ctc_loss(np.zeros((0, 3)), [], 0, 0)
    assert loss == 0 and math.copysign(1, loss) == 1
    assert exact.ctc_loss(np.zeros((0, 3)), [], 0, 0) == 0


# Reductions to simpler losses ---------------------------------------------------------


def test_an_empty_target_is_the_negative_log_likelihood_of_the_blank_in_every_frame():
    rows = log_probs((7, 4))
    expected = xentref.nll_loss(rows, np.full(7, 2), reduction="sum")
    assert ulps_of(xentref.ctc_loss(rows, [], 7, 0, blank=2), expected) <= 2
    np.testing.assert_array_equal(grad.ctc_loss(rows, [], 7, 0, blank=2, reduction="sum"),
                                  grad.nll_loss(rows, np.full(7, 2), reduction="sum"))


def test_a_target_as_long_as_its_frames_is_nll_loss_of_the_target():
    # No repeats and T = U: the target itself, frame by frame, is the only alignment.
    rows = log_probs((5, 6))
    target = np.array([3, 1, 4, 5, 2])
    assert ulps_of(xentref.ctc_loss(rows, target, 5, 5), xentref.nll_loss(rows, target, reduction="sum")) <= 2
    np.testing.assert_array_equal(grad.ctc_loss(rows, target, 5, 5, reduction="sum"),
                                  grad.nll_loss(rows, target, reduction="sum"))


def test_padding_is_never_read():
    rows = log_probs((2, 6, 4))
    targets, input_lengths, target_lengths = np.array([[1, 2, 0], [3, 3, 0]]), np.array([4, 6]), np.array([2, 2])
    losses = xentref.ctc_loss(rows, targets, input_lengths, target_lengths, reduction="none")
    gradient = grad.ctc_loss(rows, targets, input_lengths, target_lengths, reduction="sum")
    changed_rows, changed_targets = rows.copy(), targets.copy()
    changed_rows[0, 4:] = log_probs((2, 4))
    changed_targets[:, 2] = [7, -1]  # padding may hold anything, even the blank or a label out of range
    np.testing.assert_array_equal(
        xentref.ctc_loss(changed_rows, changed_targets, input_lengths, target_lengths, reduction="none"), losses)
    np.testing.assert_array_equal(
        grad.ctc_loss(changed_rows, changed_targets, input_lengths, target_lengths, reduction="sum"), gradient)
    assert np.all(gradient[0, 4:] == 0)
    # Cut to their lengths, one by one, they give the same values.
    assert xentref.ctc_loss(rows[0, :4], targets[0, :2], 4, 2) == losses[0]


def test_batch_dimensions_of_any_number_and_none():
    rows = log_probs((2, 3, 5, 4))
    targets = RNG.integers(1, 4, (2, 3, 2))
    input_lengths, target_lengths = np.full((2, 3), 5), RNG.integers(0, 3, (2, 3))
    losses = xentref.ctc_loss(rows, targets, input_lengths, target_lengths, reduction="none")
    assert losses.shape == (2, 3)
    for index in np.ndindex(2, 3):
        assert xentref.ctc_loss(rows[index], targets[index], input_lengths[index], target_lengths[index]) == losses[index]


# The distribution CTC defines ---------------------------------------------------------


def test_the_probabilities_of_every_label_sequence_sum_to_one():
    # Every path collapses to exactly one label sequence, so exp(-loss) summed
    # over all label sequences of at most T labels is the total probability, 1.
    rng = np.random.default_rng(SEED)
    for frames, classes, blank in [(4, 3, 0), (5, 3, 2), (3, 4, 1)]:
        rows = log_probs((frames, classes), rng=rng)
        sequences = {collapse(p, blank) for p in itertools.product(range(classes), repeat=frames)}
        probabilities = [math.exp(-xentref.ctc_loss(rows, list(s), frames, len(s), blank=blank)) for s in sequences]
        assert math.fsum(probabilities) == pytest.approx(1, abs=1e-14)


def test_relabelling_the_classes_changes_nothing():
    rows = log_probs((6, 4))
    permutation = np.array([2, 0, 3, 1])  # class k becomes permutation[k]
    moved = np.empty_like(rows)
    moved[:, permutation] = rows
    loss = xentref.ctc_loss(rows, [1, 3, 3], 6, 3, blank=0)
    assert xentref.ctc_loss(moved, permutation[[1, 3, 3]], 6, 3, blank=int(permutation[0])) == loss


@settings(max_examples=60)
@given(seed=st.integers(0, 2**32 - 1), frames=st.integers(1, 12), width=st.integers(0, 5), classes=st.integers(2, 6))
def test_gradient_is_minus_a_distribution_over_classes_in_every_frame(seed, frames, width, classes):
    rng = np.random.default_rng(seed)
    rows = log_probs((frames, classes), scale=5.0, rng=rng)
    target = rng.integers(1, classes, width)
    needed = width + int(np.sum(target[1:] == target[:-1]))
    if needed > frames:
        return
    gradient = grad.ctc_loss(rows, target, frames, width, reduction="sum")
    assert np.all((gradient <= 0) & (gradient >= -1))
    np.testing.assert_allclose(gradient.sum(axis=-1), -1, rtol=0, atol=1e-14)
    # At least -log 1 (all paths together have probability 1), and at most
    # the cost of one alignment: the labels, a blank between repeats, then blanks.
    path = [k for i, label in enumerate(target) for k in ([0] if i and label == target[i - 1] else []) + [label]]
    path += [0] * (frames - len(path))
    assert collapse(path, 0) == tuple(target)
    loss = xentref.ctc_loss(rows, target, frames, width)
    assert -1e-14 <= loss <= -math.fsum(rows[t, k] for t, k in enumerate(path)) * (1 + 1e-14)


@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1))
def test_through_log_softmax_the_gradient_is_softmax_minus_gamma(seed):
    # The chain rule of log_softmax, checked by central differences on the logits.
    rng = np.random.default_rng(seed)
    logits = 2 * rng.standard_normal((4, 3))
    target = [1, 2]

    def loss(z):
        return xentref.ctc_loss(xentref.log_softmax(z), target, 4, 2)

    gamma = -grad.ctc_loss(xentref.log_softmax(logits), target, 4, 2, reduction="sum")
    expected = xentref.softmax(logits) - gamma
    step = 1e-6
    for index in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += step
        down[index] -= step
        assert (loss(up) - loss(down)) / (2 * step) == pytest.approx(expected[index], abs=1e-8)


# Long sequences and tiny losses -----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_long_sequence_neither_underflows_nor_loses_its_gradient(dtype):
    # 1000 frames: the likelihood, about e^-1400, is far below the smallest float.
    rows = log_probs((1000, 5), scale=1.0, rng=np.random.default_rng(SEED), dtype=dtype)
    target = np.random.default_rng(SEED).integers(1, 5, 30)
    loss = xentref.ctc_loss(rows, target, 1000, 30)
    assert 1000 < loss < 2000 and loss.dtype == dtype
    assert ulps_of(loss, exact.ctc_loss(rows, target, 1000, 30)) <= 4
    gradient = grad.ctc_loss(rows, target, 1000, 30, reduction="sum")
    np.testing.assert_allclose(gradient.sum(axis=-1), -1, rtol=0, atol=200 * np.finfo(dtype).eps)


@pytest.mark.parametrize("gap", [10.0, 20.0, 30.0, 40.0, 300.0])
def test_a_confident_correct_prediction_has_a_tiny_loss_with_its_digits(gap):
    # Each frame gives its class a logit `gap` above the others: the loss is
    # about T e^-gap, far below the rounding of log-probabilities near 0.
    path = [0, 1, 1, 0, 2, 0]
    logits = np.zeros((6, 3))
    logits[np.arange(6), path] = gap
    rows = xentref.log_softmax(logits)
    loss = xentref.ctc_loss(rows, [1, 2], 6, 2)
    expected = exact.ctc_loss(rows, [1, 2], 6, 2)
    assert 0 < expected < 10 * math.exp(-gap)
    # Within 2 ulps of the size of its terms, the loss plus the alignments'
    # posterior entropy, here about `gap` times the loss: 12 digits or more.
    expected_grad = exact.grad.ctc_loss(rows, [1, 2], 6, 2, reduction="sum")
    scale = cost(expected_grad, rows)
    assert expected <= scale <= (gap + 3) * expected
    assert ulps_of(loss, expected, scale) <= 2
    assert abs(loss - expected) <= 1e-12 * expected
    gradient = grad.ctc_loss(rows, [1, 2], 6, 2, reduction="sum")
    assert np.max(ulps_of(gradient, expected_grad, gradient_scale(expected_grad, rows))) <= 2


def test_a_tiny_loss_spread_over_alignments_is_accurate_to_the_size_of_its_terms():
    # Two alignments of probability near 1/2 each: the loss, about 1e-12, is
    # -log of their sum and is known to about eps log 2, not eps 1e-12.
    rows = np.log(np.array([[1e-12, 1 - 1e-12], [0.5, 0.5]]))
    loss, expected = xentref.ctc_loss(rows, [1], 2, 1), exact.ctc_loss(rows, [1], 2, 1)
    assert 0 < expected < 1e-11
    assert abs(loss - expected) <= 2 * np.spacing(math.log(2))


# Refusals, one way each ----------------------------------------------------------------------


HALVES = np.log(np.full((2, 3, 2), 0.5))
VALID = (HALVES, [[1], [1]], [3, 3], [1, 1])


def refused(error, message, *args, **kwargs):
    for function in (xentref.ctc_loss, grad.ctc_loss):
        with pytest.raises(error, match=message):
            function(*args, **kwargs)


def test_valid_arguments_are_accepted():
    assert np.isfinite(xentref.ctc_loss(*VALID))


def test_log_probs_of_one_dimension_are_refused():
    refused(ValueError, r"^`log_probs` must have shape \(\.\.\., T, C\), frames by classes; got shape \(2,\)$",
            np.log([0.5, 0.5]), [1], 1, 1)


def test_logits_are_not_log_probabilities():
    refused(ValueError, r"`log_probs` must hold log-probabilities: .* Pass log_softmax\(logits\) over the class axis",
            np.zeros((2, 3, 2)), *VALID[1:])


def test_padding_frames_must_be_log_probabilities_too():
    rows = HALVES.copy()
    rows[0, 2] = [0.0, 0.0]  # past input_lengths[0] = 2, but not a distribution
    refused(ValueError, r"`log_probs` must hold log-probabilities: .* got 0\.69314718055994\d* at batch index \(0, 2\)",
            rows, [[1], [1]], [2, 3], [1, 1])


def test_a_positive_log_probability_is_refused():
    rows = HALVES.copy()
    rows[0, 0] = [1e-9, -np.inf]
    refused(ValueError, r"^`log_probs` must hold log-probabilities, at most 0; got 1e-09 at index \(0, 0, 0\)$",
            rows, *VALID[1:])


def test_float_targets_are_refused():
    refused(TypeError, r"^`targets` holds label sequences and must have an integer dtype; got float64$",
            HALVES, [[1.0], [1.0]], [3, 3], [1, 1])


def test_targets_without_a_row_per_sequence_are_refused():
    refused(ValueError, r"^`targets` must have shape \(2, S\), a row of S labels \(padded\) for each sequence of "
            r"frames in `log_probs` \(2, 3, 2\); got shape \(2,\)$", HALVES, [1, 1], [3, 3], [1, 1])


def test_float_lengths_are_refused():
    refused(TypeError, r"^`input_lengths` holds numbers of frames and must have an integer dtype; got float64$",
            HALVES, [[1], [1]], [3.0, 3.0], [1, 1])
    refused(TypeError, r"^`target_lengths` holds numbers of labels and must have an integer dtype; got bool$",
            HALVES, [[1], [1]], [3, 3], [True, True])


def test_lengths_of_the_wrong_shape_are_refused():
    refused(ValueError, r"^`input_lengths` must have shape \(2,\), the batch shape of `log_probs` \(2, 3, 2\); "
            r"got shape \(\)$", HALVES, [[1], [1]], 3, [1, 1])


def test_an_input_length_beyond_the_frames_is_refused():
    refused(ValueError, r"^`input_lengths` must be integers in \[0, 3\], at most T = 3, the frames of `log_probs`; "
            r"got 4 at index \(1,\)$", HALVES, [[1], [1]], [3, 4], [1, 1])


def test_a_negative_length_is_refused():
    refused(ValueError, r"^`target_lengths` must be integers in \[0, 1\], at most S = 1, the width of `targets`; "
            r"got -1 at index \(0,\)$", HALVES, [[1], [1]], [3, 3], [-1, 1])


def test_a_target_length_beyond_the_width_of_targets_is_refused():
    refused(ValueError, r"^`target_lengths` must be integers in \[0, 1\], at most S = 1, the width of `targets`; got 2$",
            HALVES[0], [1], 3, 2)


def test_a_label_out_of_range_is_refused():
    refused(ValueError, r"^`targets` must hold labels in \[0, 2\) within `target_lengths`; got 2 at index \(1, 0\)$",
            HALVES, [[1], [2]], [3, 3], [1, 1])


def test_the_blank_in_a_target_is_refused():
    refused(ValueError, r"^`targets` must not contain the blank label 1 within `target_lengths`; found it at index "
            r"\(0, 0\)$", HALVES, [[1], [0]], [3, 3], [1, 1], blank=1)


@pytest.mark.parametrize("blank, error, message", [
    (2, ValueError, r"^`blank` must be a class index in \[0, 2\); got 2$"),
    (-1, ValueError, r"^`blank` must be a class index in \[0, 2\); got -1$"),
    (0.0, TypeError, r"^`blank` must be an integer; got 0\.0$"),
    (False, TypeError, r"^`blank` must be an integer; got False$"),
])
def test_a_blank_that_is_not_a_class_index_is_refused(blank, error, message):
    refused(error, message, *VALID, blank=blank)


def test_zero_infinity_must_be_a_bool():
    refused(TypeError, r"^`zero_infinity` must be True or False; got 1$", *VALID, zero_infinity=1)


def test_an_empty_target_may_be_an_empty_list():
    # np.asarray([]) is float64, but holds no label to misread.
    assert xentref.ctc_loss(HALVES[0], [], 3, 0) == -3 * math.log(0.5)
