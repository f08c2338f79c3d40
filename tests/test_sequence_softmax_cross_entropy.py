"""What is special to sequence_softmax_cross_entropy and micro_batch_token_mean.

The contract they share with every loss (accuracy against xentref.exact, the
textbook formula, finite differences, reductions, the class axis, dtypes, an
empty batch, NaN logits, unknown reductions) is in test_contract.py. Here:
known values worked out by hand, the reductions to softmax_cross_entropy,
what padding means (labels never read, logits still checked, the mean over
no token refused), the token and sequence means, gradient accumulation over
micro-batches, and one test for each way an input is refused.
"""

import math
import re
from fractions import Fraction

import numpy as np
import pytest

import xentref
from xentref import exact, grad
from helpers import ulps_of

SEED = 20261201
LN2 = math.log(2)

# Three sequences of up to 4 tokens over 3 classes. Every row is a
# distribution of powers of two, so each token's loss is a whole number of
# bits: -log2 of the probability its label gets.
P = np.array([
    [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5], [0.5, 0.25, 0.25]],
    [[0.25, 0.25, 0.5], [0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]],
    [[0.125, 0.375, 0.5], [0.5, 0.25, 0.25], [0.5, 0.25, 0.25], [0.25, 0.5, 0.25]],
])
LOGITS = np.log(P)
LENGTHS = np.array([4, 1, 2])
LABELS = np.array([[0, 1, 0, 1], [0, -100, -100, -100], [0, 1, -100, -100]])
# Bits of each token that counts, read off P by hand: 1 1 2 2 | 2 | 3 2.
BITS = [[1, 1, 2, 2], [2], [3, 2]]


def loss(reduction, **options):
    options = {"lengths": LENGTHS, **options}
    return xentref.sequence_softmax_cross_entropy(LOGITS, LABELS, reduction=reduction, **options)


# Known values -------------------------------------------------------------------


def test_token_losses_in_bits():
    in_bits = loss("none") / LN2
    expected = [[1, 1, 2, 2], [2, 0, 0, 0], [3, 2, 0, 0]]
    np.testing.assert_allclose(in_bits, expected, rtol=1e-15, atol=0)
    assert np.all(loss("none")[LABELS == -100] == 0)


@pytest.mark.parametrize(
    "reduction, bits",
    [
        ("sum", Fraction(sum(map(sum, BITS)))),  # 13
        ("mean", Fraction(13, 7)),  # 13 bits over 7 tokens
        ("sequence_mean", (Fraction(6, 4) + Fraction(2) + Fraction(5, 2)) / 3),  # 2 bits
    ],
)
def test_reductions_in_bits(reduction, bits):
    assert loss(reduction) / LN2 == pytest.approx(float(bits), rel=1e-15)
    assert exact.ulp_distance(loss(reduction), exact.sequence_softmax_cross_entropy(
        LOGITS, LABELS, lengths=LENGTHS, reduction=reduction)) <= 1


def test_token_mean_and_sequence_mean_differ_unless_the_lengths_are_equal():
    assert loss("mean") / LN2 == pytest.approx(13 / 7, rel=1e-15)
    assert loss("sequence_mean") / LN2 == pytest.approx(2.0, rel=1e-15)
    same = np.array([2, 2, 2])
    tokens = np.where(np.arange(4) < 2, np.zeros((3, 4), int), -100)
    means = [
        xentref.sequence_softmax_cross_entropy(LOGITS, tokens, lengths=same, reduction=r)
        for r in ("mean", "sequence_mean")
    ]
    assert means[0] == pytest.approx(means[1], rel=1e-15)


def test_gradient_is_softmax_minus_onehot_over_the_count():
    g = grad.sequence_softmax_cross_entropy(LOGITS, LABELS, lengths=LENGTHS)
    onehot = np.eye(3)[np.where(LABELS >= 0, LABELS, 0)]
    counts = np.arange(4) < LENGTHS[:, np.newaxis]
    expected = np.where(counts[..., np.newaxis], P - onehot, 0) / 7
    np.testing.assert_allclose(g, expected, rtol=0, atol=1e-16)
    by_sequence = grad.sequence_softmax_cross_entropy(LOGITS, LABELS, lengths=LENGTHS, reduction="sequence_mean")
    per_sequence = (3 * LENGTHS)[:, np.newaxis, np.newaxis]
    np.testing.assert_allclose(by_sequence, np.where(counts[..., np.newaxis], P - onehot, 0) / per_sequence,
                               rtol=0, atol=1e-16)


@pytest.mark.parametrize("axis", [-1, 1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sequence_mean", "sum"])
def test_gradient_is_within_4_ulps_under_every_reduction(reduction, dtype, axis):
    # B n_b joins the kernel's one rounding: before, "sequence_mean" divided
    # the rounded gradient again, half an ulp more than softmax's bound.
    rng = np.random.default_rng(20261124)
    logits = (3 * rng.standard_normal((3, 5, 7))).astype(dtype)
    labels = rng.integers(0, 7, (3, 5))
    lengths = [5, 2, 3]
    if axis == 1:
        logits = np.moveaxis(logits, -1, 1)
    actual = grad.sequence_softmax_cross_entropy(logits, labels, lengths=lengths, axis=axis, reduction=reduction)
    expected = exact.grad.sequence_softmax_cross_entropy(logits, labels, lengths=lengths, axis=axis,
                                                         reduction=reduction)
    assert np.max(exact.ulp_distance(actual, expected)) <= (4 if dtype == np.float64 else 1)


# Reductions to softmax_cross_entropy ---------------------------------------------


def random_batch(rng, shape=(4, 6), k=7, dtype=np.float64):
    logits = (3 * rng.standard_normal((*shape, k))).astype(dtype)
    labels = rng.integers(0, k, shape)
    return logits, labels


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_without_padding_it_is_softmax_cross_entropy(reduction):
    logits, labels = random_batch(np.random.default_rng(SEED))
    expected = xentref.softmax_cross_entropy(logits, labels, reduction=reduction)
    np.testing.assert_array_equal(xentref.sequence_softmax_cross_entropy(logits, labels, reduction=reduction), expected)
    g = grad.sequence_softmax_cross_entropy(logits, labels, reduction=reduction)
    if reduction != "mean":
        # The gradient of each token's own loss: the kernel's, bit for bit.
        np.testing.assert_array_equal(g, grad.softmax_cross_entropy(logits, labels, reduction=reduction))
        return
    # "mean" divides each token's rounded gradient by N, where
    # softmax_cross_entropy joins 1/N to the kernel's one rounding, so the
    # two may differ in the last bits: each is held to its stated bound
    # against the correctly rounded gradient (tests/cases.py for the
    # sequence loss, the docstring of grad.softmax_cross_entropy for labels).
    correct = exact.grad.softmax_cross_entropy(logits, labels)
    assert exact.ulp_distance(grad.softmax_cross_entropy(logits, labels), correct).max() <= 4
    scale = (xentref.softmax(logits) + np.eye(logits.shape[-1])[labels]) / labels.size
    assert ulps_of(g, correct, scale).max() <= 14


def test_masked_equals_the_boolean_indexed_tokens():
    rng = np.random.default_rng(SEED)
    logits, labels = random_batch(rng)
    mask = rng.uniform(size=labels.shape) < 0.6
    labels = np.where(mask, labels, -100)
    none = xentref.sequence_softmax_cross_entropy(logits, labels, mask=mask, reduction="none")
    np.testing.assert_array_equal(none[mask], xentref.softmax_cross_entropy(logits[mask], labels[mask], reduction="none"))
    assert np.all(none[~mask] == 0)
    mean = xentref.sequence_softmax_cross_entropy(logits, labels, mask=mask)
    assert exact.ulp_distance(mean, xentref.softmax_cross_entropy(logits[mask], labels[mask])) <= 2
    g = grad.sequence_softmax_cross_entropy(logits, labels, mask=mask, reduction="sum")
    np.testing.assert_array_equal(g[mask], grad.softmax_cross_entropy(logits[mask], labels[mask], reduction="sum"))
    assert np.all(g[~mask] == 0)


def test_lengths_are_the_prefix_mask():
    logits, labels = random_batch(np.random.default_rng(SEED))
    lengths = np.array([6, 0, 3, 1])
    mask = np.arange(6) < lengths[:, np.newaxis]
    for reduction in ("none", "sum", "mean"):
        by_lengths = xentref.sequence_softmax_cross_entropy(logits, labels, lengths=lengths, reduction=reduction)
        by_mask = xentref.sequence_softmax_cross_entropy(logits, labels, mask=mask, reduction=reduction)
        np.testing.assert_array_equal(by_lengths, by_mask)
        np.testing.assert_array_equal(
            grad.sequence_softmax_cross_entropy(logits, labels, lengths=lengths, reduction=reduction),
            grad.sequence_softmax_cross_entropy(logits, labels, mask=mask, reduction=reduction),
        )


def test_axis_one_is_pytorchs_layout():
    logits, labels = random_batch(np.random.default_rng(SEED))
    lengths = np.array([6, 2, 3, 1])
    moved = np.moveaxis(logits, -1, 1)  # (batch, classes, time)
    for reduction in ("none", "mean", "sequence_mean"):
        np.testing.assert_array_equal(
            xentref.sequence_softmax_cross_entropy(moved, labels, lengths=lengths, axis=1, reduction=reduction),
            xentref.sequence_softmax_cross_entropy(logits, labels, lengths=lengths, reduction=reduction),
        )
    g = grad.sequence_softmax_cross_entropy(moved, labels, lengths=lengths, axis=1, reduction="sequence_mean")
    np.testing.assert_array_equal(
        np.moveaxis(g, 1, -1),
        grad.sequence_softmax_cross_entropy(logits, labels, lengths=lengths, reduction="sequence_mean"),
    )


# Padding -------------------------------------------------------------------------


@pytest.mark.parametrize("filler", [-100, -1, 3, 10**9, np.iinfo(np.int64).min])
def test_labels_where_no_token_counts_are_never_read(filler):
    padded = np.where(LABELS == -100, filler, LABELS)
    for reduction in ("none", "sum", "mean", "sequence_mean"):
        np.testing.assert_array_equal(
            xentref.sequence_softmax_cross_entropy(LOGITS, padded, lengths=LENGTHS, reduction=reduction),
            loss(reduction),
        )
        np.testing.assert_array_equal(
            grad.sequence_softmax_cross_entropy(LOGITS, padded, lengths=LENGTHS, reduction=reduction),
            grad.sequence_softmax_cross_entropy(LOGITS, LABELS, lengths=LENGTHS, reduction=reduction),
        )


def test_unsigned_labels_are_read_too():
    labels = np.where(LABELS >= 0, LABELS, 2**32 - 1).astype(np.uint32)
    np.testing.assert_array_equal(
        xentref.sequence_softmax_cross_entropy(LOGITS, labels, lengths=LENGTHS, reduction="none"), loss("none")
    )


def test_logits_where_no_token_counts_are_still_checked():
    # The mask says which tokens count, not which logits may be broken: NaN
    # there is a fault upstream, and would make a framework's gradient NaN.
    broken = LOGITS.copy()
    broken[1, 3, 0] = np.nan
    with pytest.raises(ValueError, match=re.escape("`logits` must not contain NaN; found NaN at index (1, 3, 0)")):
        xentref.sequence_softmax_cross_entropy(broken, LABELS, lengths=LENGTHS)


def test_a_token_whose_label_has_probability_zero_costs_infinity_only_if_it_counts():
    logits = LOGITS.copy()
    logits[1, 1, 1] = -np.inf  # the padding label -100 would not be it; label 1 is
    labels = LABELS.copy()
    labels[1, 1] = 1
    assert xentref.sequence_softmax_cross_entropy(logits, labels, lengths=LENGTHS) == loss("mean")
    assert xentref.sequence_softmax_cross_entropy(logits, labels, lengths=[4, 2, 2]) == np.inf
    assert np.all(np.isfinite(grad.sequence_softmax_cross_entropy(logits, labels, lengths=[4, 2, 2])))


def test_every_token_masked():
    none = np.zeros((3, 4), bool)
    assert xentref.sequence_softmax_cross_entropy(LOGITS, LABELS, mask=none, reduction="sum") == 0
    assert np.all(xentref.sequence_softmax_cross_entropy(LOGITS, LABELS, mask=none, reduction="none") == 0)
    assert np.all(grad.sequence_softmax_cross_entropy(LOGITS, LABELS, mask=none, reduction="sum") == 0)
    message = "`reduction='mean'` is undefined for a batch whose every token is masked (0 losses); use 'sum' or 'none'"
    for function in (xentref.sequence_softmax_cross_entropy, grad.sequence_softmax_cross_entropy):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            function(LOGITS, LABELS, mask=none)
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            function(LOGITS, LABELS, lengths=[0, 0, 0])


def test_sequence_mean_of_a_sequence_without_tokens_is_refused():
    message = (
        "`reduction='sequence_mean'` is undefined for a sequence with no tokens; sequence 1 has none: "
        "use 'mean', 'sum' or 'none', or leave it out of the batch"
    )
    for function in (xentref.sequence_softmax_cross_entropy, grad.sequence_softmax_cross_entropy):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            function(LOGITS, LABELS, lengths=[4, 0, 2], reduction="sequence_mean")
    # The token mean of the same batch is defined.
    assert np.isfinite(xentref.sequence_softmax_cross_entropy(LOGITS, LABELS, lengths=[4, 0, 2]))


def test_sequence_mean_of_an_empty_batch_is_refused():
    message = "`reduction='sequence_mean'` is undefined for an empty batch (0 sequences); use 'sum' or 'none'"
    for function in (xentref.sequence_softmax_cross_entropy, grad.sequence_softmax_cross_entropy):
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            function(np.zeros((0, 4, 3)), np.zeros((0, 4), int), reduction="sequence_mean")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_stays_float32_for_every_reduction(dtype):
    for reduction in ("none", "sum", "mean", "sequence_mean"):
        value = xentref.sequence_softmax_cross_entropy(LOGITS.astype(dtype), LABELS, lengths=LENGTHS, reduction=reduction)
        gradient = grad.sequence_softmax_cross_entropy(LOGITS.astype(dtype), LABELS, lengths=LENGTHS, reduction=reduction)
        assert value.dtype == dtype and gradient.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequence_mean_of_losses_whose_sum_overflows(dtype):
    # Each sequence's losses are finite, their sum is not: the mean still is.
    huge = float(np.finfo(dtype).max) / 2
    logits = np.array([[[huge, -huge]] * 3, [[0.0, 0.0]] * 3], dtype=dtype)
    labels = np.ones((2, 3), int)
    value = xentref.sequence_softmax_cross_entropy(logits, labels, reduction="sequence_mean")
    expected = exact.sequence_softmax_cross_entropy(logits, labels, reduction="sequence_mean")
    assert np.isfinite(expected) and exact.ulp_distance(value, expected) <= 2


# Micro-batches and gradient accumulation -----------------------------------------


def test_micro_batch_token_mean_against_hand_counts():
    # Micro-batch 1: three tokens of 1 bit each; micro-batch 2: one token of 3 bits.
    sums, counts = np.array([3 * LN2, 3 * LN2]), [3, 1]
    mean = xentref.micro_batch_token_mean(sums, counts)
    assert mean / LN2 == pytest.approx(6 / 4, rel=1e-15)
    naive = np.mean(sums / counts)
    assert naive / LN2 == pytest.approx((1 + 3) / 2, rel=1e-15)
    # Equal counts: the naive average is the token mean.
    assert xentref.micro_batch_token_mean([2.0, 6.0], [2, 2]) == np.mean(np.array([2.0, 6.0]) / 2) == 2.0


def split(logits, labels, lengths, cuts):
    """The batch cut into micro-batches of whole sequences, each padded only to its own longest."""
    parts = []
    for start, stop in zip((0, *cuts), (*cuts, len(lengths))):
        time = max(int(lengths[start:stop].max()), 1)
        parts.append((logits[start:stop, :time], labels[start:stop, :time], lengths[start:stop]))
    return parts


def test_gradient_accumulation_needs_the_total_token_count():
    rng = np.random.default_rng(SEED)
    logits, labels = random_batch(rng, shape=(6, 9))
    lengths = np.array([9, 8, 9, 2, 1, 3])  # 26 tokens, then 6
    parts = split(logits, labels, lengths, cuts=(3,))
    sums = [xentref.sequence_softmax_cross_entropy(z, y, lengths=n, reduction="sum") for z, y, n in parts]
    counts = [int(n.sum()) for _, _, n in parts]
    assert counts == [26, 6]
    whole = xentref.sequence_softmax_cross_entropy(logits, labels, lengths=lengths)
    accumulated = xentref.micro_batch_token_mean(sums, counts)
    assert exact.ulp_distance(accumulated, exact.sequence_softmax_cross_entropy(logits, labels, lengths=lengths)) <= 2
    assert abs(accumulated - whole) <= 4 * np.spacing(whole)
    # Gradients: each micro-batch's summed gradient over the total count.
    total = sum(counts)
    gradient = np.zeros_like(logits)
    naive = np.zeros_like(logits)
    start = 0
    for (z, y, n), count in zip(parts, counts):
        stop = start + len(n)
        gradient[start:stop, :z.shape[1]] = grad.sequence_softmax_cross_entropy(z, y, lengths=n, reduction="sum") / total
        naive[start:stop, :z.shape[1]] = grad.sequence_softmax_cross_entropy(z, y, lengths=n) / len(parts)
        start = stop
    expected = grad.sequence_softmax_cross_entropy(logits, labels, lengths=lengths)
    # The same token gradients, divided by the same 32: identical to the last bit.
    np.testing.assert_array_equal(gradient, expected)
    # The naive average of the micro-batch means weighs the 6 short tokens
    # as much as the 26 long ones: each of them by (1/2)/6 = 1/12 instead of 1/32.
    counted = np.arange(9) < lengths[:, np.newaxis]
    ratio = naive[counted] / expected[counted]
    weights = np.where(np.arange(6) < 3, Fraction(1, 2 * 26) / Fraction(1, 32), Fraction(1, 2 * 6) / Fraction(1, 32))
    per_token = np.repeat(weights, lengths).astype(float)[:, np.newaxis]
    np.testing.assert_allclose(ratio, np.broadcast_to(per_token, ratio.shape), rtol=1e-12)


# Refusals ---------------------------------------------------------------------------


def refused(error, message, *args, **kwargs):
    for function in (xentref.sequence_softmax_cross_entropy, grad.sequence_softmax_cross_entropy):
        with pytest.raises(error, match=f"^{re.escape(message)}$"):
            function(*args, **kwargs)


def test_lengths_longer_than_the_sequences_are_refused():
    refused(ValueError, "`lengths` must be at most 4, the number of time steps of `logits`; got 5 at index (2,)",
            LOGITS, LABELS, lengths=[4, 1, 5])


def test_negative_lengths_are_refused():
    refused(ValueError, "`lengths` must be non-negative; got -1 at index (1,)", LOGITS, LABELS, lengths=[4, -1, 2])


def test_lengths_of_the_wrong_shape_are_refused():
    refused(ValueError, "`lengths` must have shape (3,), one length per sequence of `logits`; got (2,)",
            LOGITS, LABELS, lengths=[4, 1])


@pytest.mark.parametrize("lengths", [[4.0, 1.0, 2.0], [True, True, False]])
def test_lengths_that_are_not_integers_are_refused(lengths):
    dtype = np.asarray(lengths).dtype
    refused(TypeError, f"`lengths` must hold integers, the number of tokens of each sequence; got dtype {dtype}",
            LOGITS, LABELS, lengths=lengths)


def test_a_mask_of_the_wrong_shape_is_refused():
    refused(ValueError, "`mask` must have shape (3, 4), (batch, time) as `logits` without its class axis; got (3, 3)",
            LOGITS, LABELS, mask=np.ones((3, 3), bool))


@pytest.mark.parametrize("mask", [np.ones((3, 4), int), np.ones((3, 4))])
def test_a_mask_that_is_not_boolean_is_refused(mask):
    refused(TypeError, f"`mask` must be boolean, True where a token counts; got dtype {mask.dtype}",
            LOGITS, LABELS, mask=mask)


def test_lengths_and_mask_together_are_refused():
    refused(ValueError, "give the padding as `lengths` or as `mask`, not both; got both",
            LOGITS, LABELS, lengths=LENGTHS, mask=np.ones((3, 4), bool))


def test_a_label_out_of_range_where_a_token_counts_is_refused():
    labels = LABELS.copy()
    labels[2, 1] = 3
    refused(ValueError, "`labels` must be class labels in [0, 3); got 3 at index (2, 1), a position that counts "
            "(only masked positions may hold other integers)", LOGITS, labels, lengths=LENGTHS)
    # Without padding every position counts, so -100 is refused too.
    refused(ValueError, "`labels` must be class labels in [0, 3); got -100 at index (1, 1), a position that counts "
            "(only masked positions may hold other integers)", LOGITS, LABELS)


def test_labels_that_are_not_integers_or_of_the_wrong_shape_are_refused():
    refused(TypeError, "`labels` of shape (3, 4) holds class labels and must have an integer dtype; got float64",
            LOGITS, LABELS.astype(float), lengths=LENGTHS)
    refused(ValueError, "`labels` as class labels must have shape (3, 4); got (3, 3)",
            LOGITS, LABELS[:, :3], lengths=LENGTHS)


def test_logits_that_are_not_three_dimensional_are_refused():
    refused(ValueError, "`logits` must have 3 dimensions, batch, time and classes; got shape (4, 3)",
            LOGITS[0], LABELS[0])


def test_an_unknown_reduction_lists_the_four():
    refused(ValueError, "`reduction` must be one of 'mean', 'sequence_mean', 'sum' or 'none'; got 'token_mean'",
            LOGITS, LABELS, lengths=LENGTHS, reduction="token_mean")


def test_micro_batch_refusals():
    cases = [
        (ValueError, "`losses` must be summed cross-entropies, at least 0; got -1.0 at index (1,)", [1.0, -1.0], [1, 2]),
        (ValueError, ("`losses` must be 0 where `counts` is 0, since a micro-batch without tokens has no loss; "
                      "got 2.0 at index (1,)"), [1.0, 2.0], [1, 0]),
        (ValueError, "the token mean is undefined without tokens: `counts` sums to 0", [0.0, 0.0], [0, 0]),
        (ValueError, "the token mean is undefined without tokens: `counts` sums to 0", [], np.zeros(0, int)),
        (TypeError, "`counts` must hold integers (a count); got dtype float64", [1.0, 2.0], [1.0, 2.0]),
        (ValueError, "`counts` must be at least 0; got -2 at index (1,)", [1.0, 2.0], [1, -2]),
        (ValueError, "`counts` of shape (3,) must broadcast to the shape of `losses` (2,)", [1.0, 2.0], [1, 2, 3]),
        (ValueError, "`counts` must have the shape of `losses` (2,); got ()", [1.0, 2.0], 3),
        (ValueError, "`losses` must have 1 dimension, one summed loss per micro-batch; got shape (2, 2)",
         np.ones((2, 2)), np.ones((2, 2), int)),
        (ValueError, "`losses` must not contain NaN; found NaN at index (0,)", [np.nan], [1]),
    ]
    for error, message, losses, counts in cases:
        with pytest.raises(error, match=f"^{re.escape(message)}$"):
            xentref.micro_batch_token_mean(losses, counts)


def test_micro_batch_with_an_infinite_loss():
    assert xentref.micro_batch_token_mean([np.inf, 1.0], [1, 1]) == np.inf
