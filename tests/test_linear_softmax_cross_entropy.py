"""The fused classifier head: what is special to linear_softmax_cross_entropy.

The contract battery covers its accuracy against xentref.exact, its
reductions and its refusals of NaN and +inf in `hidden`, with and without
the options; here: agreement with the unfused path and with PyTorch's
autograd (a live call), the blocks it works in, and each refusal of its own
arguments and of the options.
"""

import re
import tracemalloc

import numpy as np
import pytest
import sympy as sp
import torch

import xentref
from xentref import exact, grad, symbolic, value_and_grad
from cases import linear_options_divisor, linear_options_grad_scale, linear_options_scale
from helpers import ulps_of

SEED = 20261125


def layer(dtype=np.float64, n=12, d=6, v=40, seed=SEED):
    rng = np.random.default_rng(seed)
    hidden = rng.normal(size=(n, d)).astype(dtype)
    weight = (rng.normal(size=(v, d)) / np.sqrt(d)).astype(dtype)
    bias = rng.normal(size=v).astype(dtype)
    return hidden, weight, rng.integers(0, v, n), bias


@pytest.mark.parametrize("block_size", [None, 1, 7, 64, 10**6])
def test_agrees_with_the_unfused_path(block_size):
    hidden, weight, labels, bias = layer()
    logits = hidden @ weight.T + bias
    loss = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, block_size=block_size)
    np.testing.assert_allclose(loss, xentref.softmax_cross_entropy(logits, labels), rtol=1e-14)
    g = grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, block_size=block_size)
    by_logits = grad.softmax_cross_entropy(logits, labels)
    np.testing.assert_allclose(g.hidden, by_logits @ weight, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(g.weight, by_logits.T @ hidden, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(g.bias, by_logits.sum(axis=0), rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_agrees_with_pytorch_autograd(dtype, rtol, reduction):
    hidden, weight, labels, bias = layer(dtype)
    h, w, b = (torch.tensor(a, requires_grad=True) for a in (hidden, weight, bias))
    loss = torch.nn.functional.cross_entropy(h @ w.T + b, torch.tensor(labels), reduction=reduction)
    loss.sum().backward()
    ours = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction=reduction)
    np.testing.assert_allclose(ours, loss.detach().numpy(), rtol=rtol)
    g = grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction=reduction)
    for ours, theirs in zip(g, (h.grad, w.grad, b.grad)):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=rtol, atol=rtol * np.max(np.abs(theirs.numpy())))


@pytest.mark.parametrize("smoothed", [False, True], ids=["plain", "options"])
def test_float32_results_do_not_depend_on_the_block_size(smoothed):
    # Its products and sums are formed in float64, far below float32's last bit.
    hidden, weight, labels, bias = layer(np.float32, n=30, v=50)
    options = {"class_weight": np.linspace(0.5, 2, 50), "label_smoothing": 0.1} if smoothed else {}
    reference = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction="none", **options)
    reference_grad = grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, **options)
    for block_size in (1, 3, 77, 500):
        loss = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction="none",
                                                    block_size=block_size, **options)
        np.testing.assert_array_equal(loss, reference)
        for ours, expected in zip(grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias,
                                                                    block_size=block_size, **options),
                                  reference_grad):
            np.testing.assert_array_equal(ours, expected)


# The options of softmax_cross_entropy ------------------------------------------------

PADDED = np.array([3, -100, 17, 17, 0, 39, -100, 8, 22, 5, 31, 12])  # tokens 1 and 6 are padding
WHERE = np.array([True] * 9 + [False, True, True])  # and token 9 is left out
WEIGHTS = np.random.default_rng(SEED + 1).uniform(0.2, 3, 40)
OPTIONS = {
    "weighted": {"class_weight": WEIGHTS},
    "ignored": {"ignore_index": -100, "where": WHERE},
    "smoothed": {"label_smoothing": 0.1},
    "weighted, ignored, smoothed": {"class_weight": WEIGHTS, "ignore_index": -100, "where": WHERE,
                                    "label_smoothing": 0.2},
    "others": {"ignore_index": -100, "label_smoothing": 0.3, "smoothing": "others"},
    "z-loss": {"class_weight": WEIGHTS, "ignore_index": -100, "label_smoothing": 0.1, "z_loss": 1e-3},
}
# The extra ulps of the logit gradient beyond the plain 4.2 (tests/cases.py):
# 4.2 with class weights alone, 5.7 with smoothing, 8.9 with z-loss (the
# fused head's exponentials are NumPy's); in u,
# twice that, and the plain head's (d + 1) + M + 2.
LOGIT_GRADIENT_U = {"weighted": 8.4, "ignored": 8.4, "z-loss": 17.8}


def labels_for(options):
    """The labels of `layer` with padding where `ignore_index` is given."""
    _, _, labels, _ = layer()
    return PADDED if "ignore_index" in options else labels


@pytest.mark.parametrize("block_size", [None, 5, 64], ids=["one block", "blocks of 2x2", "blocks of 8x8"])
@pytest.mark.parametrize("name", list(OPTIONS))
def test_each_option_agrees_with_the_unfused_path(name, block_size):
    # Both compute the loss of float64 logits within (d + 1) u S of the
    # exact ones (any order of a dot product's sum) with the bounds of the
    # options: each is within the contract's bound (14 ulps of the scale of
    # tests/cases.py, 17.4 with z-loss) of the exact value, so the two are
    # within twice that of each other. Likewise the gradients, whose bound is
    # M + d + 2 + the logit gradient's u, M the terms of each product.
    options = OPTIONS[name]
    hidden, weight, _, bias = layer()
    labels = labels_for(options)
    n, d = hidden.shape
    v = weight.shape[0]
    logits = hidden @ weight.T + bias
    args, kwargs = (hidden, weight, labels), {"bias": bias, **options}
    loss_bound = 2 * (17.4 if "z_loss" in options else 14)
    extra = LOGIT_GRADIENT_U.get(name, 11.4) + d + 2
    for reduction in ("none", "sum", "mean"):
        fused = xentref.linear_softmax_cross_entropy(*args, **kwargs, reduction=reduction, block_size=block_size)
        plain = xentref.softmax_cross_entropy(logits, labels, **options, reduction=reduction)
        divisor = linear_options_divisor(args, kwargs) if reduction == "mean" else 1
        scale = linear_options_scale(args, kwargs)
        scale = scale if reduction == "none" else np.sum(scale) / divisor
        assert np.max(ulps_of(fused, plain, scale)) <= loss_bound
        g = grad.linear_softmax_cross_entropy(*args, **kwargs, reduction=reduction, block_size=block_size)
        by_logits = grad.softmax_cross_entropy(logits, labels, **options, reduction=reduction)
        unfused = (by_logits @ weight, by_logits.T @ hidden, by_logits.sum(axis=0))
        scales = linear_options_grad_scale(args, kwargs)
        for ours, theirs, size, terms in zip(g, unfused, scales, (v, n, n)):
            assert np.max(ulps_of(ours, theirs, size / divisor)) <= 2 * (terms + extra)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_options_agree_with_pytorch_autograd(reduction):
    # PyTorch's cross_entropy with class weights, ignore_index and label
    # smoothing (its convention: each class's smoothing term carries its own
    # weight, "mean" divides by the weight of the labels), in float64:
    # within a few ulps of the logits' terms, as without options.
    hidden, weight, _, bias = layer()
    h, w, b = (torch.tensor(a, requires_grad=True) for a in (hidden, weight, bias))
    loss = torch.nn.functional.cross_entropy(h @ w.T + b, torch.tensor(PADDED), weight=torch.tensor(WEIGHTS),
                                             ignore_index=-100, label_smoothing=0.2, reduction=reduction)
    loss.sum().backward()
    options = {"bias": bias, "class_weight": WEIGHTS, "ignore_index": -100, "label_smoothing": 0.2,
               "reduction": reduction, "block_size": 64}
    ours = xentref.linear_softmax_cross_entropy(hidden, weight, PADDED, **options)
    np.testing.assert_allclose(ours, loss.detach().numpy(), rtol=1e-13)
    g = grad.linear_softmax_cross_entropy(hidden, weight, PADDED, **options)
    for ours, theirs in zip(g, (h.grad, w.grad, b.grad)):
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-13, atol=1e-13 * np.max(np.abs(theirs.numpy())))


def test_a_gap_beyond_the_float_range_between_chunks_of_classes():
    # Logits 1.5e308, 0.75e308, -1.5e308 and -0.75e308, in chunks of one or
    # two classes: a - m_c leaves the float range, C_c (a - m_c) does not
    # (each c_k is 0.1 / 4 off the label), and is formed halved. At labels 2
    # and 3 the loss itself leaves it: 0.9 (a - z_y) > 1.8e308.
    hidden = np.array([[1.5e308, 0.0]])
    weight = np.array([[1.0, 0.0], [0.5, 0.0], [-1.0, 0.0], [-0.5, 0.0]])
    for label, finite in ((0, True), (1, True), (2, False), (3, False)):
        expected = exact.linear_softmax_cross_entropy(hidden, weight, [label], label_smoothing=0.1)
        assert np.isfinite(expected) == finite
        for block_size in (None, 1, 4):
            loss = xentref.linear_softmax_cross_entropy(hidden, weight, [label], label_smoothing=0.1,
                                                        block_size=block_size)
            assert exact.ulp_distance(loss, expected) <= 4


def test_value_and_grad_with_options_is_the_loss_and_its_gradient():
    hidden, weight, _, bias = layer()
    options = {"bias": bias, **OPTIONS["z-loss"], "block_size": 7}
    loss, g = value_and_grad.linear_softmax_cross_entropy(hidden, weight, PADDED, **options)
    np.testing.assert_array_equal(loss, xentref.linear_softmax_cross_entropy(hidden, weight, PADDED, **options))
    for ours, expected in zip(g, grad.linear_softmax_cross_entropy(hidden, weight, PADDED, **options)):
        np.testing.assert_array_equal(ours, expected)


def test_a_class_named_by_ignore_index_stays_in_the_softmax():
    hidden, weight, labels, bias = layer()
    padded = labels.copy()
    padded[:3] = 7
    kept = padded != 7
    fused = xentref.linear_softmax_cross_entropy(hidden, weight, padded, bias=bias, ignore_index=7, reduction="none")
    assert np.all(fused[~kept] == 0)
    whole = xentref.softmax_cross_entropy(hidden @ weight.T + bias, padded, reduction="none", where=kept)
    np.testing.assert_allclose(fused, whole, rtol=1e-14)
    # Dropping class 7 from the head changes the others' losses.
    without = np.delete(np.arange(weight.shape[0]), 7)
    shrunk = xentref.linear_softmax_cross_entropy(hidden[kept], weight[without], np.searchsorted(without, padded[kept]),
                                                  bias=bias[without], reduction="none")
    assert np.all(shrunk < fused[kept])


# Refusals of the options: softmax_cross_entropy's messages --------------------------

H3, W3 = np.zeros((2, 3)), np.eye(3)
SAME_AS_SOFTMAX = {
    "class_weight of the wrong shape": ([0, 1], {"class_weight": [1.0, 2.0]}),
    "a negative class weight": ([0, 1], {"class_weight": [1.0, -2.0, 1.0]}),
    "a NaN class weight": ([0, 1], {"class_weight": [1.0, np.nan, 1.0]}),
    "an infinite class weight": ([0, 1], {"class_weight": [1.0, np.inf, 1.0]}),
    "a class weight that is not a float": ([0, 1], {"class_weight": ["a", "b", "c"]}),
    "an ignore_index that is not an integer": ([0, 1], {"ignore_index": 1.0}),
    "label_smoothing above 1": ([0, 1], {"label_smoothing": 1.5}),
    "a negative label_smoothing": ([0, 1], {"label_smoothing": -0.1}),
    "a label_smoothing that is not a number": ([0, 1], {"label_smoothing": "0.1"}),
    "an unknown smoothing": ([0, 1], {"smoothing": "fairseq"}),
    "a negative z_loss": ([0, 1], {"z_loss": -1.0}),
    "an infinite z_loss": ([0, 1], {"z_loss": np.inf}),
    "a mean of total weight 0": ([0, 1], {"class_weight": [0.0, 0.0, 1.0]}),
}


@pytest.mark.parametrize("labels, options", SAME_AS_SOFTMAX.values(), ids=list(SAME_AS_SOFTMAX))
def test_a_bad_option_is_refused_as_softmax_cross_entropy_refuses_it(labels, options):
    with pytest.raises((TypeError, ValueError)) as refused:
        xentref.softmax_cross_entropy(H3 @ W3.T, labels, **options)
    message = f"^{re.escape(str(refused.value))}$"
    for f in (xentref.linear_softmax_cross_entropy, grad.linear_softmax_cross_entropy,
              value_and_grad.linear_softmax_cross_entropy, exact.linear_softmax_cross_entropy,
              exact.grad.linear_softmax_cross_entropy):
        with pytest.raises(refused.type, match=message):
            f(H3, W3, labels, **options)


def test_a_class_weight_beyond_the_range_of_hidden_dtype_is_refused():
    with pytest.raises(ValueError, match=r"^`class_weight` must be finite and non-negative; got 1e\+39 at index "
                                         r"\(1,\), which overflows float32$"):
        grad.linear_softmax_cross_entropy(H3.astype(np.float32), W3, [0, 1], class_weight=[1.0, 1e39, 1.0])


def test_others_with_a_single_class_is_refused():
    with pytest.raises(ValueError, match=r"^`smoothing='others'` moves `label_smoothing` to the other classes, and "
                                         r"there are none: `weight` has 1 class$"):
        xentref.linear_softmax_cross_entropy(H3, W3[:1], [0, 0], label_smoothing=0.1, smoothing="others")


def test_a_mean_of_no_token_selected_names_both_selections():
    message = (r"^`reduction='mean'` is undefined for an empty selection: `where` and `ignore_index` leave none "
               r"of the 2 tokens; use 'sum' or 'none'$")
    for f in (xentref.linear_softmax_cross_entropy, grad.linear_softmax_cross_entropy):
        with pytest.raises(ValueError, match=message):
            f(H3, W3, [0, -100], ignore_index=-100, where=np.array([False, True]))
    assert xentref.linear_softmax_cross_entropy(H3, W3, [-100, -100], ignore_index=-100, reduction="sum") == 0


def test_a_selected_label_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"^`labels` must be class labels in \[0, 3\) where selected; got 5 at "
                                         r"index \(1,\)$"):
        xentref.linear_softmax_cross_entropy(H3, W3, [-100, 5], ignore_index=-100, label_smoothing=0.1)


def test_the_logits_are_never_formed_whole():
    hidden, weight, labels, bias = layer(n=64, d=8, v=4096)
    logits_bytes = 64 * 4096 * 8
    tracemalloc.start()
    try:
        xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, block_size=2048)
        grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, block_size=2048)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The gradient of the weight itself is half the logits here.
    assert peak < logits_bytes * 3 / 4


def test_without_bias_the_bias_gradient_is_none():
    hidden, weight, labels, _ = layer()
    g = grad.linear_softmax_cross_entropy(hidden, weight, labels)
    assert g.bias is None and g.hidden.shape == hidden.shape and g.weight.shape == weight.shape
    np.testing.assert_allclose(
        xentref.linear_softmax_cross_entropy(hidden, weight, labels),
        xentref.softmax_cross_entropy(hidden @ weight.T, labels), rtol=1e-14,
    )


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_narrow_inputs_are_within_an_ulp_of_the_size_of_the_logits(dtype):
    hidden, weight, labels, bias = layer(dtype, n=5, v=7)
    loss = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction="none")
    expected = exact.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction="none")
    assert loss.dtype == dtype
    size = np.max(np.abs(hidden.astype(float))[:, None, :] * np.abs(weight.astype(float)), axis=(1, 2)) * 6
    assert np.all(np.abs(loss.astype(float) - expected.astype(float)) <= np.spacing(np.maximum(size, np.abs(expected)).astype(dtype)))


def test_batches_of_any_shape():
    hidden, weight, labels, bias = layer(n=12)
    flat = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction="none")
    shaped = xentref.linear_softmax_cross_entropy(hidden.reshape(3, 4, -1), weight, labels.reshape(3, 4), bias=bias,
                                                  reduction="none")
    assert shaped.shape == (3, 4)
    np.testing.assert_allclose(shaped.ravel(), flat, rtol=1e-15)
    one = xentref.linear_softmax_cross_entropy(hidden[0], weight, labels[0], bias=bias, reduction="none")
    assert np.shape(one) == ()


# Refusals, each with its own test ------------------------------------------------


def test_weight_whose_features_do_not_fit_is_refused():
    hidden, weight, labels, _ = layer(d=6)
    with pytest.raises(ValueError, match=r"^`weight` must have shape \(V, d\) with V >= 1 classes and d = 6, the features of `hidden` \(12, 6\); got shape \(40, 5\)$"):
        xentref.linear_softmax_cross_entropy(hidden, weight[:, :5], labels)


def test_weight_that_is_not_a_matrix_is_refused():
    hidden, weight, labels, _ = layer()
    with pytest.raises(ValueError, match=r"^`weight` must have shape \(V, d\) .* got shape \(240,\)$"):
        grad.linear_softmax_cross_entropy(hidden, weight.ravel(), labels)


def test_bias_of_the_wrong_length_is_refused():
    hidden, weight, labels, bias = layer()
    with pytest.raises(ValueError, match=r"^`bias` must have shape \(40,\), one entry per class; got \(39,\)$"):
        xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias[:-1])


def test_labels_of_the_wrong_shape_are_refused():
    hidden, weight, labels, _ = layer()
    with pytest.raises(ValueError, match=r"^`labels` as class labels must have shape \(12,\); got \(11,\)$"):
        xentref.linear_softmax_cross_entropy(hidden, weight, labels[:-1])


def test_labels_out_of_range_are_refused():
    hidden, weight, labels, _ = layer()
    labels[5] = 40
    with pytest.raises(ValueError, match=r"^`labels` must be class labels in \[0, 40\); got 40 at index \(5,\)$"):
        grad.linear_softmax_cross_entropy(hidden, weight, labels)


def test_nan_in_hidden_is_refused():
    hidden, weight, labels, _ = layer()
    hidden[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"^`hidden` must not contain NaN; found NaN at index \(2, 3\)$"):
        xentref.linear_softmax_cross_entropy(hidden, weight, labels)


def test_infinite_weight_is_refused():
    hidden, weight, labels, _ = layer()
    weight[7, 1] = -np.inf
    with pytest.raises(ValueError, match=r"^`weight` must be finite; got -inf at index \(7, 1\)$"):
        xentref.linear_softmax_cross_entropy(hidden, weight, labels)


def test_nan_in_bias_is_refused():
    hidden, weight, labels, bias = layer()
    bias[3] = np.nan
    with pytest.raises(ValueError, match=r"^`bias` must not contain NaN; found NaN at index \(3,\)$"):
        grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias)


def test_weight_beyond_the_range_of_hidden_dtype_is_refused():
    hidden, weight, labels, _ = layer(np.float16)
    weight = weight.astype(np.float64)
    weight[0, 0] = 1e6
    with pytest.raises(ValueError, match=r"^`weight` must be finite once in the dtype of `hidden`, float16; got inf at index \(0, 0\)$"):
        xentref.linear_softmax_cross_entropy(hidden, weight, labels)


def test_logits_beyond_the_float_range_are_refused():
    hidden, weight, labels, _ = layer()
    hidden[4] = 1e300
    weight[9] = 1e300
    with pytest.raises(ValueError, match=r"^the logits `hidden @ weight.T \+ bias` must be finite: at token 4 and class 9 the product leaves the float64 range$"):
        xentref.linear_softmax_cross_entropy(hidden, weight, labels)


@pytest.mark.parametrize("block_size", [0, -3])
def test_block_size_below_one_is_refused(block_size):
    hidden, weight, labels, _ = layer()
    with pytest.raises(ValueError, match=rf"^`block_size` must be a positive integer \(logits formed at once\); got {block_size}$"):
        xentref.linear_softmax_cross_entropy(hidden, weight, labels, block_size=block_size)


@pytest.mark.parametrize("block_size", [2.5, True, "64"])
def test_block_size_that_is_not_an_integer_is_refused(block_size):
    hidden, weight, labels, _ = layer()
    with pytest.raises(TypeError, match=r"^`block_size` must be a positive integer or None; got "):
        grad.linear_softmax_cross_entropy(hidden, weight, labels, block_size=block_size)


def test_is_the_symbolic_definition():
    hidden, weight, labels, bias = layer(n=4, d=3, v=5)
    h = sp.symbols("h0:3", real=True)
    for row, label in zip(hidden, labels):
        formula = symbolic.linear_softmax_cross_entropy(h, weight.tolist(), int(label), bias=bias.tolist())
        value = float(formula.subs(dict(zip(h, row.tolist()))).evalf(30))
        loss = xentref.linear_softmax_cross_entropy(row, weight, label, bias=bias)
        np.testing.assert_allclose(loss, value, rtol=1e-14)
