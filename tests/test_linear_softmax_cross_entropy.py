"""The fused classifier head: what is special to linear_softmax_cross_entropy.

The contract battery covers its accuracy against xentref.exact, its
reductions and its refusals of NaN and +inf in `hidden`; here: agreement
with the unfused path and with PyTorch's autograd (a live call), the blocks
it works in, and each refusal of its own arguments.
"""

import tracemalloc

import numpy as np
import pytest
import sympy as sp
import torch

import xentref
from xentref import exact, grad, symbolic

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


def test_float32_results_do_not_depend_on_the_block_size():
    # Its products and sums are formed in float64, far below float32's last bit.
    hidden, weight, labels, bias = layer(np.float32, n=30, v=50)
    reference = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction="none")
    reference_grad = grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias)
    for block_size in (1, 3, 77, 500):
        loss = xentref.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias, reduction="none",
                                                    block_size=block_size)
        np.testing.assert_array_equal(loss, reference)
        for ours, expected in zip(grad.linear_softmax_cross_entropy(hidden, weight, labels, bias=bias,
                                                                    block_size=block_size), reference_grad):
            np.testing.assert_array_equal(ours, expected)


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
