"""What the options of softmax_cross_entropy and nll_loss mean: class weights,
``ignore_index``, ``where``, label smoothing and z-loss.

The contract battery (tests/test_contract.py) runs on their registry cases
in tests/cases.py: accuracy against xentref.exact, the textbook formula in
SymPy, finite differences, reductions, axes, dtypes. Here: each option's
semantics, the identities between calls, and each refusal with its message.
PyTorch's and Optax's answers are in tests/test_frameworks_*.py.
"""

import math
import re
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import xentref
from xentref import _blocks as blocks
from xentref import exact, grad, symbolic

SEED = 20261127
RNG = np.random.default_rng(SEED)
Z = RNG.normal(scale=3, size=(9, 5))
LABELS = RNG.integers(0, 5, 9)
TARGETS = RNG.dirichlet(np.ones(5), 9)
WEIGHTS = RNG.uniform(0.2, 3, 5)
WHERE = np.array([True, True, False, True, True, False, True, True, True])
PADDED = np.where(np.arange(9) % 4 == 3, -100, LABELS)  # examples 3 and 7 are padding
KEPT = PADDED != -100


def ulps(a, b):
    return float(np.max(exact.ulp_distance(np.asarray(a), np.asarray(b))))


# Class weights --------------------------------------------------------------------


def test_a_weighted_label_loss_is_its_weight_times_the_loss():
    weighted = xentref.softmax_cross_entropy(Z, LABELS, class_weight=WEIGHTS, reduction="none")
    assert ulps(weighted, exact.softmax_cross_entropy(Z, LABELS, class_weight=WEIGHTS, reduction="none")) <= 1
    # Each is w_y (-log p_y), rounded once: within an ulp of the product of the rounded values.
    plain = exact.softmax_cross_entropy(Z, LABELS, reduction="none")
    assert ulps(weighted, WEIGHTS[LABELS] * plain) <= 1


def test_the_weighted_mean_divides_by_the_total_weight_of_the_labels():
    total = sum(Fraction(w) for w in WEIGHTS[LABELS])
    summed = xentref.softmax_cross_entropy(Z, LABELS, class_weight=WEIGHTS, reduction="sum")
    mean = xentref.softmax_cross_entropy(Z, LABELS, class_weight=WEIGHTS)
    assert mean == summed / float(total)
    assert ulps(mean, exact.softmax_cross_entropy(Z, LABELS, class_weight=WEIGHTS)) <= 1


@pytest.mark.parametrize("targets", [LABELS, TARGETS], ids=["labels", "probabilities"])
def test_weights_of_one_change_nothing(targets):
    # The losses to the last bit; the gradients are formed from the
    # coefficients divided first, so to the last bit only without "mean".
    for reduction in ("none", "sum", "mean"):
        np.testing.assert_array_equal(xentref.softmax_cross_entropy(Z, targets, class_weight=np.ones(5),
                                                                    reduction=reduction),
                                      xentref.softmax_cross_entropy(Z, targets, reduction=reduction))
        weighted = grad.softmax_cross_entropy(Z, targets, class_weight=np.ones(5), reduction=reduction)
        plain = grad.softmax_cross_entropy(Z, targets, reduction=reduction)
        if reduction == "mean":
            assert ulps(weighted, plain) <= 1
        else:
            np.testing.assert_array_equal(weighted, plain)


@pytest.mark.parametrize("targets", [LABELS, TARGETS], ids=["labels", "probabilities"])
def test_scaling_every_weight_scales_each_loss_and_no_mean(targets):
    options = {"label_smoothing": 0.1, "z_loss": 1e-3, "where": WHERE}
    for f in (xentref.softmax_cross_entropy, grad.softmax_cross_entropy):
        mean = f(Z, targets, class_weight=WEIGHTS, **options)
        np.testing.assert_array_equal(f(Z, targets, class_weight=4 * WEIGHTS, **options), mean)
    # Without z-loss, each loss scales exactly by the power of two.
    none = xentref.softmax_cross_entropy(Z, targets, class_weight=WEIGHTS, label_smoothing=0.1, reduction="none")
    np.testing.assert_array_equal(
        xentref.softmax_cross_entropy(Z, targets, class_weight=4 * WEIGHTS, label_smoothing=0.1, reduction="none"),
        4 * none,
    )


def test_probability_targets_mean_divides_by_their_total_weight():
    # sum_n sum_c w_c t_nc: labels are the one-hot case. PyTorch divides by N
    # (tests/test_frameworks_torch.py).
    total = sum(Fraction(w) * Fraction(t) for row in TARGETS for w, t in zip(WEIGHTS, row))
    summed = xentref.softmax_cross_entropy(Z, TARGETS, class_weight=WEIGHTS, reduction="sum")
    assert xentref.softmax_cross_entropy(Z, TARGETS, class_weight=WEIGHTS) == summed / float(total)
    assert ulps(xentref.softmax_cross_entropy(Z, TARGETS, class_weight=WEIGHTS),
                exact.softmax_cross_entropy(Z, TARGETS, class_weight=WEIGHTS)) <= 1


OPTIONS = [
    {"class_weight": WEIGHTS},
    {"class_weight": WEIGHTS, "label_smoothing": 0.2},
    {"label_smoothing": 0.3, "smoothing": "others"},
    {"class_weight": WEIGHTS, "label_smoothing": 0.1, "z_loss": 1e-2, "where": WHERE},
]


@pytest.mark.parametrize("options", OPTIONS, ids=["weights", "smoothing", "others", "all"])
def test_labels_and_one_hot_targets_give_identical_results(options):
    one_hot = np.eye(5)[LABELS]
    for f in (xentref.softmax_cross_entropy, grad.softmax_cross_entropy):
        for reduction in ("none", "sum", "mean"):
            np.testing.assert_array_equal(f(Z, LABELS, **options, reduction=reduction),
                                          f(Z, one_hot, **options, reduction=reduction))


def test_a_zero_weight_removes_a_class_even_at_minus_inf():
    z = np.array([[0.0, -np.inf, 1.0], [0.5, 0.0, -np.inf]])
    weights = np.array([1.0, 0.0, 2.0])
    losses = xentref.softmax_cross_entropy(z, [1, 2], class_weight=weights, reduction="none")
    assert losses[0] == 0 and losses[1] == np.inf
    # With smoothing, class 1 still gets no share: its -inf logit costs nothing.
    smoothed = xentref.softmax_cross_entropy(z[:1], [2], class_weight=weights, label_smoothing=0.1)
    assert np.isfinite(smoothed)
    assert ulps(smoothed, exact.softmax_cross_entropy(z[:1], [2], class_weight=weights, label_smoothing=0.1)) <= 1


# Leaving examples out: ignore_index and where ------------------------------------


def test_ignored_examples_cost_nothing_and_are_not_counted():
    options = {"class_weight": WEIGHTS, "ignore_index": -100}
    losses = xentref.softmax_cross_entropy(Z, PADDED, **options, reduction="none")
    gradient = grad.softmax_cross_entropy(Z, PADDED, **options)
    assert np.all(losses[~KEPT] == 0) and np.all(gradient[~KEPT] == 0)
    # The kept ones are computed as if alone, bit for bit.
    alone = {"class_weight": WEIGHTS}
    np.testing.assert_array_equal(losses[KEPT], xentref.softmax_cross_entropy(Z[KEPT], PADDED[KEPT], **alone,
                                                                              reduction="none"))
    np.testing.assert_array_equal(gradient[KEPT], grad.softmax_cross_entropy(Z[KEPT], PADDED[KEPT], **alone))
    total = sum(Fraction(w) for w in WEIGHTS[PADDED[KEPT]])
    assert xentref.softmax_cross_entropy(Z, PADDED, **options) == np.sum(losses) / float(total)


@pytest.mark.parametrize("targets", [LABELS, TARGETS], ids=["labels", "probabilities"])
def test_where_is_the_boolean_indexed_subset(targets):
    options = {"class_weight": WEIGHTS, "label_smoothing": 0.1, "z_loss": 1e-3}
    for f in (xentref.softmax_cross_entropy, grad.softmax_cross_entropy):
        masked = f(Z, targets, **options, where=WHERE, reduction="none")
        np.testing.assert_array_equal(masked[WHERE], f(Z[WHERE], targets[WHERE], **options, reduction="none"))
        assert np.all(masked[~WHERE] == 0)
    # The means agree to rounding: the zeros change the order of the sum.
    mean = xentref.softmax_cross_entropy(Z, targets, **options, where=WHERE)
    assert ulps(mean, xentref.softmax_cross_entropy(Z[WHERE], targets[WHERE], **options)) <= 1


def test_targets_left_out_are_not_read_but_logits_are():
    # Padding: a label of any integer, a target row of zeros.
    labels = LABELS.copy()
    labels[2] = 12345
    assert np.isfinite(xentref.softmax_cross_entropy(Z, labels, where=WHERE))
    targets = TARGETS.copy()
    targets[5] = 0.0
    assert np.isfinite(xentref.softmax_cross_entropy(Z, targets, where=WHERE))
    z = Z.copy()
    z[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"^`logits` must not contain NaN; found NaN at index \(2, 1\)$"):
        xentref.softmax_cross_entropy(z, LABELS, where=WHERE)


def test_a_bad_target_of_a_selected_example_is_named_at_its_index():
    targets = TARGETS.copy()
    targets[6] *= 2
    with pytest.raises(ValueError, match=r"^`targets` must sum to 1 along axis 1 .* at batch index \(6,\)$"):
        xentref.softmax_cross_entropy(Z, targets, where=WHERE)
    labels = LABELS.copy()
    labels[6] = 5
    message = r"^`targets` must be class labels in \[0, 5\) where selected; got 5 at index \(6,\)$"
    with pytest.raises(ValueError, match=message):
        xentref.softmax_cross_entropy(Z, labels, where=WHERE)


def test_an_ignore_index_inside_the_classes_leaves_out_those_examples_only():
    # PyTorch allows it too: class 2 stays a class of the softmax.
    losses = xentref.softmax_cross_entropy(Z, LABELS, ignore_index=2, reduction="none")
    plain = xentref.softmax_cross_entropy(Z, LABELS, reduction="none")
    np.testing.assert_array_equal(losses, np.where(LABELS == 2, 0.0, plain))


def test_where_and_ignore_index_select_together():
    options = {"ignore_index": -100, "where": WHERE}
    kept = KEPT & WHERE
    losses = xentref.softmax_cross_entropy(Z, PADDED, **options, reduction="none")
    np.testing.assert_array_equal(losses, np.where(kept, xentref.softmax_cross_entropy(
        Z, np.where(kept, PADDED, 0), reduction="none"), 0.0))
    assert ulps(xentref.softmax_cross_entropy(Z, PADDED, **options),
                xentref.softmax_cross_entropy(Z[kept], PADDED[kept])) <= 1


@pytest.mark.parametrize("function", [xentref.softmax_cross_entropy, grad.softmax_cross_entropy,
                                      xentref.nll_loss, grad.nll_loss])
def test_the_mean_of_an_empty_selection_is_refused(function):
    # PyTorch returns NaN here, Keras 0, and Optax 0 per example (it has no mean).
    prediction = xentref.log_softmax(Z) if function in (xentref.nll_loss, grad.nll_loss) else Z
    message = (r"^`reduction='mean'` is undefined for an empty selection: `where` and `ignore_index` "
               r"leave none of the 9 examples; use 'sum' or 'none'$")
    for options in ({"where": np.zeros(9, bool)}, {"ignore_index": -100}):
        labels = np.full(9, -100) if "ignore_index" in options else LABELS
        with pytest.raises(ValueError, match=message):
            function(prediction, labels, **options)
        summed = function(prediction, labels, **options, reduction="sum")
        assert np.all(summed == 0)


def test_the_mean_of_a_total_weight_of_zero_is_refused():
    weights = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    message = (r"^`reduction='mean'` divides by the total class weight of the selected (targets|labels), "
               r"which is 0; use 'sum' or 'none'$")
    for function in (xentref.softmax_cross_entropy, grad.softmax_cross_entropy):
        with pytest.raises(ValueError, match=message):
            function(Z, np.zeros(9, int), class_weight=weights, label_smoothing=0.1)
    for function in (xentref.nll_loss, grad.nll_loss):
        with pytest.raises(ValueError, match=message):
            function(xentref.log_softmax(Z), np.zeros(9, int), class_weight=weights)


# Label smoothing ------------------------------------------------------------------


def test_smoothing_zero_changes_nothing():
    for targets in (LABELS, TARGETS):
        for f in (xentref.softmax_cross_entropy, grad.softmax_cross_entropy):
            for smoothing in ("uniform", "others"):
                np.testing.assert_array_equal(f(Z, targets, label_smoothing=0.0, smoothing=smoothing),
                                              f(Z, targets))


def test_uniform_smoothing_is_the_cross_entropy_of_the_smoothed_target():
    # (1 - eps) onehot + eps / K, as probability targets formed exactly (eps = 1/4, K = 4).
    z, labels = Z[:, :4], LABELS % 4
    smoothed = 0.75 * np.eye(4)[labels] + 0.0625
    np.testing.assert_array_equal(
        xentref.softmax_cross_entropy(z, labels, label_smoothing=0.25, reduction="none"),
        xentref.softmax_cross_entropy(z, smoothed, reduction="none"),
    )
    # eps = 1 gives the uniform target whatever the label.
    uniform = xentref.softmax_cross_entropy(z, labels, label_smoothing=1.0, reduction="none")
    np.testing.assert_array_equal(uniform, xentref.softmax_cross_entropy(z, np.full((9, 4), 0.25), reduction="none"))


def test_others_keeps_one_minus_epsilon_on_the_label():
    # fairseq: 1 - eps on the label and eps / (K - 1) on each other class;
    # eps = 0.5, K = 5 gives the exact target [0.5, 0.125, ...].
    targets = 0.5 * np.eye(5)[LABELS] + 0.125 * (1 - np.eye(5)[LABELS])
    np.testing.assert_array_equal(
        xentref.softmax_cross_entropy(Z, LABELS, label_smoothing=0.5, smoothing="others", reduction="none"),
        xentref.softmax_cross_entropy(Z, targets, reduction="none"),
    )


@pytest.mark.parametrize("targets", [LABELS, TARGETS], ids=["labels", "probabilities"])
def test_others_is_uniform_with_a_larger_epsilon(targets):
    # eps K / (K - 1): 0.4 * 5 / 4 = 0.5 exactly.
    others = exact.softmax_cross_entropy(Z, targets, label_smoothing=0.4, smoothing="others", reduction="none")
    uniform = exact.softmax_cross_entropy(Z, targets, label_smoothing=0.5, reduction="none")
    assert ulps(others, uniform) <= 1
    assert ulps(xentref.softmax_cross_entropy(Z, targets, label_smoothing=0.4, smoothing="others", reduction="none"),
                others) <= 3


def test_smoothing_with_class_weights_is_pytorchs_and_not_the_weighted_cross_entropy():
    # Each class's smoothing term is weighted by its own weight (pytorch/pytorch#104776):
    # sum_c w_c q_c (-log p_c), not w_y H(q, p).
    epsilon = 0.2
    losses = exact.softmax_cross_entropy(Z, LABELS, class_weight=WEIGHTS, label_smoothing=epsilon, reduction="none")
    log_p = exact.log_softmax(Z)
    q = (1 - epsilon) * np.eye(5)[LABELS] + epsilon / 5
    per_class = -np.sum(WEIGHTS * q * log_p, axis=1)
    assert np.max(np.abs(losses - per_class) / losses) < 1e-14
    label_weighted = WEIGHTS[LABELS] * -np.sum(q * log_p, axis=1)
    assert np.min(np.abs(losses - label_weighted) / losses) > 1e-3


def test_smoothing_others_needs_two_classes():
    with pytest.raises(ValueError, match=r"^`smoothing='others'` moves `label_smoothing` to the other classes, "
                                         r"and there are none: `logits` has 1 class$"):
        xentref.softmax_cross_entropy(np.zeros((2, 1)), [0, 0], label_smoothing=0.1, smoothing="others")
    assert xentref.softmax_cross_entropy(np.zeros((2, 1)), [0, 0], smoothing="others") == 0


# z-loss --------------------------------------------------------------------------


def test_z_loss_adds_the_squared_logsumexp():
    lam = 0.25
    with_z = xentref.softmax_cross_entropy(Z, LABELS, z_loss=lam, reduction="none")
    plain = exact.softmax_cross_entropy(Z, LABELS, reduction="none")
    lse = exact.logsumexp(Z)
    assert np.max(np.abs(with_z - (plain + lam * lse**2)) / with_z) < 4e-16
    assert ulps(with_z, exact.softmax_cross_entropy(Z, LABELS, z_loss=lam, reduction="none")) <= 1


def test_z_loss_gradient_adds_twice_lambda_logsumexp_times_softmax():
    lam = 0.25
    g = exact.grad.softmax_cross_entropy(Z, LABELS, z_loss=lam, reduction="sum")
    expected = exact.grad.softmax_cross_entropy(Z, LABELS, reduction="sum") + \
        2 * lam * exact.logsumexp(Z)[:, None] * exact.softmax(Z)
    assert np.max(np.abs(g - expected)) < 1e-14
    assert ulps(grad.softmax_cross_entropy(Z, LABELS, z_loss=lam, reduction="sum"), g) <= 4


def test_z_loss_is_not_weighted_and_its_mean_divides_by_the_count():
    # Liger-Kernel's convention: the cross-entropy's mean divides by the
    # total weight, the z-loss's by the number of selected examples.
    lam = 0.25
    options = {"class_weight": WEIGHTS, "where": WHERE}
    none = xentref.softmax_cross_entropy(Z, LABELS, **options, z_loss=lam, reduction="none")
    cross_entropy = exact.softmax_cross_entropy(Z, LABELS, **options, reduction="none")
    z = np.where(WHERE, lam * exact.logsumexp(Z) ** 2, 0.0)
    assert np.max(np.abs(none - (cross_entropy + z)) / np.maximum(none, 1)) < 4e-16
    mean = exact.softmax_cross_entropy(Z, LABELS, **options, z_loss=lam)
    total = sum(Fraction(w) for w in WEIGHTS[LABELS[WHERE]])
    expected = math.fsum(cross_entropy) / float(total) + math.fsum(z) / np.count_nonzero(WHERE)
    assert abs(mean - expected) <= 4e-16 * mean
    assert ulps(xentref.softmax_cross_entropy(Z, LABELS, **options, z_loss=lam), mean) <= 1


def test_z_loss_of_huge_logits_overflows_to_inf_and_keeps_a_finite_gradient():
    z = np.array([[1e200, 0.0, -1e200]])
    assert xentref.softmax_cross_entropy(z, [0], z_loss=1e-4) == np.inf
    g = grad.softmax_cross_entropy(z, [0], z_loss=1e-4)
    assert ulps(g, exact.grad.softmax_cross_entropy(z, [0], z_loss=1e-4)) <= 1
    assert g[0, 0] == 2e196


# nll_loss ----------------------------------------------------------------------------


def test_weighted_nll_loss_is_correctly_rounded():
    # Each loss and each gradient entry is rounded once; the sum and the
    # mean add the rounded losses.
    log_p = xentref.log_softmax(Z)
    options = {"class_weight": WEIGHTS, "ignore_index": -100, "where": WHERE}
    assert ulps(xentref.nll_loss(log_p, PADDED, **options, reduction="none"),
                exact.nll_loss(log_p, PADDED, **options, reduction="none")) == 0
    for reduction in ("sum", "mean"):
        assert ulps(xentref.nll_loss(log_p, PADDED, **options, reduction=reduction),
                    exact.nll_loss(log_p, PADDED, **options, reduction=reduction)) <= 2
        assert ulps(grad.nll_loss(log_p, PADDED, **options, reduction=reduction),
                    exact.grad.nll_loss(log_p, PADDED, **options, reduction=reduction)) == 0


def test_nll_loss_of_log_softmax_is_softmax_cross_entropy_with_the_same_options():
    options = {"class_weight": WEIGHTS, "ignore_index": -100, "where": WHERE}
    by_nll = xentref.nll_loss(xentref.log_softmax(Z), PADDED, **options, reduction="none")
    by_logits = xentref.softmax_cross_entropy(Z, PADDED, **options, reduction="none")
    # Both round w_y (-log p_y) once, nll_loss from the rounded log p_y.
    assert ulps(by_nll, by_logits) <= 1
    assert np.all(by_nll[~(KEPT & WHERE)] == 0)


def test_weighted_nll_loss_gives_zero_at_a_zero_weight_even_at_minus_inf():
    log_p = np.array([[0.0, -np.inf], [0.0, -np.inf]])
    losses = xentref.nll_loss(log_p, [1, 1], class_weight=[1.0, 0.0], reduction="none")
    np.testing.assert_array_equal(losses, [0.0, 0.0])
    assert xentref.nll_loss(log_p, [1, 0], class_weight=[1.0, 1.0], reduction="none")[0] == np.inf


# Results do not depend on blocks or threads ------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_options_do_not_depend_on_the_block_size_nor_the_threads(dtype):
    z = (3 * RNG.standard_normal((40, 33))).astype(dtype)
    labels = RNG.integers(0, 33, 40)
    targets = RNG.dirichlet(np.ones(33), 40).astype(dtype)
    options = {"class_weight": RNG.uniform(0, 2, 33), "where": RNG.uniform(size=40) < 0.8,
               "label_smoothing": 0.1, "z_loss": 1e-3}
    calls = [
        lambda: xentref.softmax_cross_entropy(z, labels, **options, reduction="none"),
        lambda: xentref.softmax_cross_entropy(z, targets, **options, reduction="none"),
        lambda: xentref.softmax_cross_entropy(z, targets, **options),
        lambda: grad.softmax_cross_entropy(z, labels, **options),
        lambda: grad.softmax_cross_entropy(z, targets, **options, smoothing="others"),
    ]
    with blocks.configured(budget=10**6, threads=1):
        reference = [call() for call in calls]
    for budget, threads in ((33, 1), (33 * 7, 2), (33 * 16, 3)):
        with blocks.configured(budget=budget, threads=threads, min_parallel=0):
            for call, expected in zip(calls, reference):
                np.testing.assert_array_equal(call(), expected)


# Bad input: each refusal with its message ------------------------------------------


def refused(error, message, *args, **kwargs):
    for f in (xentref.softmax_cross_entropy, grad.softmax_cross_entropy, exact.softmax_cross_entropy):
        with pytest.raises(error, match="^" + re.escape(message) + "$"):
            f(*args, **kwargs)


@pytest.mark.parametrize("weights, message", [
    ([1.0, 2.0], "`class_weight` must be one weight per class, shape (5,); got shape (2,)"),
    (1.0, "`class_weight` must be one weight per class, shape (5,); got shape ()"),
    ([1.0, 1.0, -0.5, 1.0, 1.0], "`class_weight` must be finite and non-negative; got -0.5 at index (2,)"),
    ([1.0, 1.0, 1.0, np.inf, 1.0], "`class_weight` must be finite and non-negative; got inf at index (3,)"),
    ([1.0, np.nan, 1.0, 1.0, 1.0], "`class_weight` must not contain NaN; found NaN at index (1,)"),
])
def test_bad_class_weights_are_refused(weights, message):
    refused(ValueError, message, Z, LABELS, class_weight=weights)


def test_class_weights_that_overflow_float32_are_refused():
    weights = np.array([1.0, 1e39, 1.0, 1.0, 1.0])
    refused(ValueError, "`class_weight` must be finite and non-negative; got 1e+39 at index (1,), "
            "which overflows float32", Z.astype(np.float32), LABELS, class_weight=weights)


def test_string_class_weights_are_refused():
    refused(TypeError, "`class_weight` must hold real numbers of dtype float32 or float64; got dtype <U1",
            Z, LABELS, class_weight=list("abcde"))


@pytest.mark.parametrize("epsilon", [-0.1, 1.5, np.nan, np.inf])
def test_label_smoothing_outside_the_unit_interval_is_refused(epsilon):
    refused(ValueError, f"`label_smoothing` must be a real number in [0, 1]; got {epsilon!r}",
            Z, LABELS, label_smoothing=epsilon)


def test_non_numeric_label_smoothing_is_refused():
    refused(TypeError, "`label_smoothing` must be a real number; got '0.1'", Z, LABELS, label_smoothing="0.1")


@pytest.mark.parametrize("smoothing", ["fairseq", "Uniform", None])
def test_unknown_smoothing_is_refused(smoothing):
    refused(ValueError, f"`smoothing` must be 'uniform' or 'others'; got {smoothing!r}", Z, LABELS,
            label_smoothing=0.1, smoothing=smoothing)


@pytest.mark.parametrize("z_loss", [-1e-4, np.nan, np.inf])
def test_bad_z_loss_is_refused(z_loss):
    refused(ValueError, f"`z_loss` must be a real number in [0, inf); got {z_loss!r}", Z, LABELS, z_loss=z_loss)


def test_where_of_the_wrong_shape_is_refused():
    refused(ValueError, "`where` must have the batch shape (9,), one entry per example; got (9, 1)",
            Z, LABELS, where=WHERE[:, None])
    refused(ValueError, "`where` must have the batch shape (9,), one entry per example; got (8,)",
            Z, LABELS, where=WHERE[:8])


@pytest.mark.parametrize("mask", [WHERE.astype(int), WHERE.astype(float)], ids=["int", "float"])
def test_a_where_that_is_not_boolean_is_refused(mask):
    refused(TypeError, f"`where` must be a boolean mask (True keeps an example); got dtype {mask.dtype}",
            Z, LABELS, where=mask)


def test_ignore_index_with_probability_targets_is_refused():
    refused(ValueError, "`ignore_index` applies to class labels; with probability targets, leave examples "
            "out with `where`", Z, TARGETS, ignore_index=-100)


@pytest.mark.parametrize("index", [1.0, True, "-100"])
def test_an_ignore_index_that_is_not_an_integer_is_refused(index):
    refused(TypeError, f"`ignore_index` must be an integer or None; got {index!r}", Z, LABELS, ignore_index=index)


def test_nll_loss_refuses_the_same_options_with_the_same_messages():
    log_p = xentref.log_softmax(Z)
    for f in (xentref.nll_loss, grad.nll_loss, exact.nll_loss):
        with pytest.raises(ValueError, match=r"^`class_weight` must be one weight per class, shape \(5,\); "
                                             r"got shape \(4,\)$"):
            f(log_p, LABELS, class_weight=np.ones(4))
        with pytest.raises(TypeError, match=r"^`where` must be a boolean mask"):
            f(log_p, LABELS, where=np.ones(9))
        with pytest.raises(ValueError, match=r"^`labels` must be class labels in \[0, 5\) where selected; "
                                             r"got -100 at index \(3,\)$"):
            f(log_p, PADDED, ignore_index=-1)


# The identities, in SymPy -------------------------------------------------------------


def test_symbolic_identities_of_the_options():
    z = sp.symbols("z1:5", real=True)
    epsilon, lam = sp.symbols("epsilon lambda", positive=True)
    w = sp.symbols("w1:5", positive=True)
    k = len(z)
    t = [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 8), sp.Rational(1, 8)]
    # Both schemes give distributions; "others" keeps 1 - eps on the label.
    for smoothing in ("uniform", "others"):
        for target in (1, t):
            assert sp.simplify(sp.Add(*symbolic.smoothed_target(target, k, epsilon, smoothing)) - 1) == 0
    assert sp.simplify(symbolic.smoothed_target(1, k, epsilon, "others")[1] - (1 - epsilon)) == 0
    # "others" is "uniform" with eps K / (K - 1), for labels and for probability targets.
    for target in (1, t):
        gap = (symbolic.softmax_cross_entropy(z, target, label_smoothing=epsilon, smoothing="others")
               - symbolic.softmax_cross_entropy(z, target, label_smoothing=epsilon * k / (k - 1)))
        assert sp.simplify(gap) == 0
    # Smoothing mixes the cross-entropy of the target with that of the uniform distribution.
    uniform = [sp.Rational(1, k)] * k
    gap = (symbolic.softmax_cross_entropy(z, 2, label_smoothing=epsilon)
           - (1 - epsilon) * symbolic.softmax_cross_entropy(z, 2) - epsilon * symbolic.softmax_cross_entropy(z, uniform))
    assert sp.simplify(gap) == 0
    # PyTorch's smoothing with weights: (1 - eps) w_y NLL + eps / K sum_c w_c (-log p_c) ...
    log_p = symbolic.log_softmax(z)
    torch_form = -(1 - epsilon) * w[2] * log_p[2] - epsilon / k * sp.Add(*[wc * lc for wc, lc in zip(w, log_p)])
    ours = symbolic.softmax_cross_entropy(z, 2, class_weight=list(w), label_smoothing=epsilon)
    assert sp.simplify(ours - torch_form) == 0
    # ... which is not w_y H(q, p): they differ unless every weight is w_y.
    label_weighted = w[2] * symbolic.softmax_cross_entropy(z, 2, label_smoothing=epsilon)
    assert sp.simplify((ours - label_weighted).subs(dict.fromkeys(w, w[2]))) == 0
    assert sp.simplify(ours - label_weighted) != 0
    # The z-loss's gradient is 2 lambda lse softmax.
    with_z = symbolic.softmax_cross_entropy(z, 2, z_loss=lam) - symbolic.softmax_cross_entropy(z, 2)
    for zk, pk in zip(z, symbolic.softmax(z)):
        assert sp.simplify(sp.diff(with_z, zk) - 2 * lam * symbolic.logsumexp(z) * pk) == 0
    print("verified: smoothed targets sum to 1; others = uniform with eps K/(K-1); smoothing mixes in the uniform target; "
          "weights multiply each class's term (PyTorch), not w_y H(q, p); d(lambda lse^2) = 2 lambda lse p")
