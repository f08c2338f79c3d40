"""Softmax cross-entropy of a linear layer's output, without forming its logits."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from xentref import _check as check
from xentref._blocks import scratch
from xentref._docs import fill
from xentref._focal_loss import dropped_rows
from xentref._half import round_to
from xentref._reduction import apply_reduction, selected_divisor
from xentref._shift import Shifted, normalise, scaled_exps
from xentref._softmax_rows import (
    gradient_factor,
    label_losses,
    put,
    special_values,
)
from xentref._typing import ArrayLike, Reduction, Result

LinearGradient = namedtuple("LinearGradient", ["hidden", "weight", "bias"])
LinearGradient.__doc__ = """\
The gradient of :func:`xentref.linear_softmax_cross_entropy`.

Attributes
----------
hidden : ndarray, shape (..., d)
weight : ndarray, shape (V, d)
bias : ndarray, shape (V,), or None when no bias was given
    Each in the dtype of `hidden`."""

DEFAULT_BLOCK_SIZE = 2**19


def _checked(hidden, weight, labels, bias, reduction, block_size, where):
    """Validate the arguments; return them as arrays in the dtype of `hidden`, rows flattened."""
    hidden = check.floats(hidden, "hidden", half=True)
    if hidden.ndim == 0:
        raise ValueError("`hidden` must have at least one dimension (the features); got a scalar")
    weight = check.floats(weight, "weight", half=True)
    if weight.ndim != 2 or weight.shape[1] != hidden.shape[-1] or weight.shape[0] == 0:
        raise ValueError(
            f"`weight` must have shape (V, d) with V >= 1 classes and d = {hidden.shape[-1]}, "
            f"the features of `hidden` {hidden.shape}; got shape {weight.shape}"
        )
    if bias is not None:
        bias = check.floats(bias, "bias", half=True)
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"`bias` must have shape ({weight.shape[0]},), one entry per class; got {bias.shape}")
    check.reduction(reduction)
    block_size = _block_size(block_size)
    for value, name in ((hidden, "hidden"), (weight, "weight"), (bias, "bias")):
        if value is not None:
            check.finite(value, name)
    # A view of no memory with the shape of the logits, for the labels' check.
    logits_shape = np.broadcast_to(np.empty((), dtype=np.bool_), (*hidden.shape[:-1], weight.shape[0]))
    keep = check.where(where, hidden.shape[:-1], "tokens")
    labels, keep = check.selected_labels(labels, logits_shape, hidden.ndim - 1, "labels", mask=keep)
    dtype = hidden.dtype
    weight = check.in_dtype(weight, dtype)
    bias = None if bias is None else check.in_dtype(bias, dtype)
    for value, name in ((weight, "weight"), (bias, "bias")):
        if value is not None:
            check.finite(value, name, f" once in the dtype of `hidden`, {dtype}")
    return hidden, weight, labels.reshape(-1), bias, block_size, None if keep is None else keep.reshape(-1)


def _block_size(block_size):
    if block_size is None:
        return DEFAULT_BLOCK_SIZE
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)):
        raise TypeError(f"`block_size` must be a positive integer or None; got {block_size!r}")
    if block_size < 1:
        raise ValueError(f"`block_size` must be a positive integer (logits formed at once); got {block_size}")
    return int(block_size)


class _Linear:
    """The logits ``hidden @ weight.T + bias``, formed a block of tokens and classes at a time.

    float64 input is multiplied as it is; other dtypes are converted to
    float64 block by block, and their products and sums are then exact to
    far below their own last bit.
    """

    def __init__(self, hidden, weight, bias, block_size):
        self.shape = hidden.shape
        self.hidden = hidden.reshape(-1, hidden.shape[-1])
        self.weight, self.bias = weight, bias
        self.n_rows, self.n_classes = self.hidden.shape[0], weight.shape[0]
        self.dtype = hidden.dtype
        # Logits formed in float64 from narrower input are exact far below
        # its last bit: they need no exact shift.
        self.precise = hidden.dtype == np.float64
        width = 2 ** (max(int(block_size).bit_length() - 1, 0) // 2)
        self.width = max(1, min(self.n_classes, width))
        self.height = max(1, min(max(self.n_rows, 1), block_size // self.width))
        self.spans = [
            (first, min(first + self.width, self.n_classes)) for first in range(0, self.n_classes, self.width)
        ]

    def row_spans(self):
        return [(start, min(start + self.height, self.n_rows)) for start in range(0, self.n_rows, self.height)]

    def rows(self, start, stop):
        return self.hidden[start:stop].astype(np.float64, copy=False)

    def columns(self, first, last):
        weight = self.weight[first:last].astype(np.float64, copy=False)
        bias = None if self.bias is None else self.bias[first:last].astype(np.float64, copy=False)
        return weight, bias

    def logits(self, rows, start, first, last, columns=None):
        """The logits of tokens `rows` (float64, from token `start`) at classes first:last."""
        weight, bias = self.columns(first, last) if columns is None else columns
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            # A product beyond the float range is caught just below; those
            # below the normal range round to subnormals, as they should.
            z = np.matmul(rows, weight.T, out=scratch("logits", (len(rows), last - first)))
            if bias is not None:
                z += bias
        if not np.isfinite(z).all():
            row, column = np.argwhere(~np.isfinite(z))[0]
            raise ValueError(
                f"the logits `hidden @ weight.T + bias` must be finite: at token {start + int(row)} "
                f"and class {first + int(column)} the product leaves the float64 range"
            )
        return z


def _token_losses(linear, labels):
    """Per-token losses in float64 and each block's normaliser, the first pass."""
    losses = np.empty(linear.n_rows)
    normalisers = []
    for start, stop in linear.row_spans():
        rows = linear.rows(start, stop)
        cache = {}

        def source(first, last, rows=rows, start=start, cache=cache):
            if (first, last) not in cache:
                cache.clear()
                cache[first, last] = linear.logits(rows, start, first, last)
            return cache[first, last]

        normaliser, _, picked = normalise(source, linear.n_classes, linear.spans, gather=labels[start:stop],
                                          keep_gaps=False, precise=linear.precise)
        losses[start:stop] = label_losses(normaliser, picked)
        normalisers.append((start, stop, normaliser, picked))
    return losses, normalisers


@fill()
def linear_softmax_cross_entropy(
    hidden: ArrayLike,
    weight: ArrayLike,
    labels: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    reduction: Reduction = "mean",
    block_size: int | None = None,
    where: ArrayLike | None = None,
) -> Result:
    r"""Softmax cross-entropy of the logits ``hidden @ weight.T + bias``, never formed whole.

    The classifier head of a language model: a hidden state per token, a
    row of `weight` (and an entry of `bias`) per class. The logits are
    formed one block of tokens and classes at a time, each block's maximum
    and sum merged by the online rule of Milakov and Gimelshein, so memory
    grows with `block_size`, not with tokens times classes.

    Parameters
    ----------
    hidden : array_like, shape (..., d)
        Hidden states, one per token: finite floats (float16, bfloat16,
        float32 or float64).
    weight : array_like, shape (V, d)
        One row per class, finite; used in the dtype of `hidden`.
    labels : array_like of int, shape (...)
        Class labels in [0, V), one per token.
    bias : array_like, shape (V,), optional
        One entry per class, finite; used in the dtype of `hidden`.
    %(reduction)s
    block_size : int, optional
        How many logits (tokens times classes) are formed at once; default
        2**19, about 4 MiB of float64. A positive integer.
    where : array_like of bool, shape (...), optional
        Which tokens to keep (True), one per hidden state: the others have
        loss 0 (under ``"none"``), contribute nothing to any gradient, are
        not counted by ``"mean"``, and their labels are not read (padding
        such as -100 is fine). Default None: every token.

    Returns
    -------
    loss : ndarray
        A scalar for ``"mean"`` and ``"sum"``, shape (...) for ``"none"``,
        in the dtype of `hidden`.

    Raises
    ------
    TypeError
        If an array is not real-valued floating-point data, labels are not
        integers, or `block_size` is not an integer.
    ValueError
        If an entry of `hidden`, `weight` or `bias` is NaN or infinite, the
        shapes do not fit, a label is out of range, `reduction` is unknown,
        `block_size` is not positive, the logits leave the float64 range, or
        the mean of an empty batch is asked for.

    See Also
    --------
    softmax_cross_entropy : the same loss from logits.
    xentref.grad.linear_softmax_cross_entropy

    Notes
    -----
    .. math:: \ell_n = \operatorname{logsumexp}_k(h_n \cdot w_k + b_k)
              - (h_n \cdot w_{y_n} + b_{y_n})

    The logits are computed in float64 by the matrix product (float32 and
    half-precision input converted to float64 first, so their products and
    sums are exact to well below the input's last bit); each is then within
    :math:`\gamma_d \sum_i |h_i w_{ki}| + u |b_k|` of its exact value
    (:math:`\gamma_d = d u / (1 - d u)`, :math:`u = 2^{-53}`; Higham,
    *Accuracy and Stability of Numerical Algorithms*, section 3.1), and the
    loss of those logits is computed as :func:`softmax_cross_entropy`
    computes it. The loss is therefore within a few ulps of the exact value
    relative to the size of the logits' terms, not relative to itself: a
    tiny loss from large logits carries their rounding. Rounded once to the
    dtype of `hidden`.

    References
    ----------
    .. [1] M. Milakov and N. Gimelshein, "Online normalizer calculation for
       softmax", 2018. https://arxiv.org/abs/1805.02867
    .. [2] E. Wijmans, B. Huval, A. Hertzberg, V. Koltun and P. Krähenbühl,
       "Cut your losses in large-vocabulary language models", ICLR 2025.
       https://arxiv.org/abs/2411.09009

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> rng = np.random.default_rng(0)
    >>> hidden, weight = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    >>> labels = np.array([0, 4, 2, 2])
    >>> fused = xentref.linear_softmax_cross_entropy(hidden, weight, labels)
    >>> plain = xentref.softmax_cross_entropy(hidden @ weight.T, labels)
    >>> bool(np.isclose(fused, plain, rtol=1e-15))
    True
    """
    hidden, weight, labels, bias, block_size, keep = _checked(hidden, weight, labels, bias, reduction, block_size,
                                                              where)
    linear = _Linear(hidden, weight, bias, block_size)
    losses, _ = _token_losses(linear, labels)
    return _reduced(losses, hidden, labels, keep, reduction)


def _reduced(losses, hidden, labels, keep, reduction):
    """The float64 per-token `losses` rounded to the dtype of `hidden` and reduced."""
    losses = round_to(dropped_rows(losses, keep), hidden.dtype).reshape(hidden.shape[:-1])
    return apply_reduction(losses, reduction, selected_divisor(labels.size, keep, reduction, "tokens"))


@fill(of=linear_softmax_cross_entropy)
def linear_softmax_cross_entropy_grad(
    hidden: ArrayLike,
    weight: ArrayLike,
    labels: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    reduction: Reduction = "mean",
    block_size: int | None = None,
    where: ArrayLike | None = None,
) -> LinearGradient:
    r"""Gradient of %(loss)s with respect to `hidden`, `weight` and `bias`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : LinearGradient
        A named tuple ``(hidden, weight, bias)`` of the derivatives of the
        reduced loss with respect to each (``bias`` None when no bias was
        given), in the shapes of those arguments and the dtype of `hidden`.
        ``"none"`` gives the gradient of the sum, as for every loss.

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.linear_softmax_cross_entropy
    xentref.grad.softmax_cross_entropy : the gradient with respect to logits.

    Notes
    -----
    With :math:`G = (\operatorname{softmax}(z) - \operatorname{onehot}(y)) / N`
    the gradient of the loss with respect to the logits (computed as
    :func:`xentref.grad.softmax_cross_entropy` computes it, block by block),

    .. math:: \frac{\partial \ell}{\partial h} = G W, \qquad
              \frac{\partial \ell}{\partial W} = G^\top H, \qquad
              \frac{\partial \ell}{\partial b} = \sum_n G_n,

    each accumulated in float64 over the blocks of classes and of tokens
    and rounded once. The logits are recomputed in a second pass. The sums
    over tokens and classes make each entry accurate relative to the size
    of its terms; their order, and so the last bits of a float64 result,
    depend on `block_size`.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> rng = np.random.default_rng(0)
    >>> hidden, weight = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    >>> g = grad.linear_softmax_cross_entropy(hidden, weight, [0, 4, 2, 2])
    >>> g.hidden.shape, g.weight.shape, g.bias is None
    ((4, 3), (5, 3), True)
    >>> by_logits = grad.softmax_cross_entropy(hidden @ weight.T, [0, 4, 2, 2])
    >>> bool(np.allclose(g.hidden, by_logits @ weight) and np.allclose(g.weight, by_logits.T @ hidden))
    True
    """
    hidden, weight, labels, bias, block_size, keep = _checked(hidden, weight, labels, bias, reduction, block_size,
                                                              where)
    linear = _Linear(hidden, weight, bias, block_size)
    _, normalisers = _token_losses(linear, labels)
    return _gradient(linear, labels, keep, selected_divisor(labels.size, keep, reduction, "tokens"), normalisers)


def _gradient(linear, labels, keep, divisor, normalisers):
    """The :class:`LinearGradient`, the second pass, from the first pass's `normalisers`."""
    hidden, weight, bias = linear.hidden, linear.weight, linear.bias
    blocks = []
    for start, stop, normaliser, picked in normalisers:
        ones = (np.ones(stop - start), np.zeros(stop - start))
        at_top = (labels[start:stop] == normaliser.top).astype(np.float64)
        values = special_values(picked, normaliser, ones, at_top, labels[start:stop], ones[0], divisor)
        blocks.append((start, stop, normaliser, values, gradient_factor(normaliser, ones, divisor)))
    grad_hidden = np.zeros(linear.hidden.shape)
    grad_weight = np.empty(weight.shape, dtype=hidden.dtype)
    grad_bias = None if bias is None else np.empty(bias.shape, dtype=hidden.dtype)
    for first, last in linear.spans:
        columns = linear.columns(first, last)
        weight_sum = np.zeros((last - first, weight.shape[1]))
        bias_sum = np.zeros(last - first)
        for start, stop, normaliser, values, factor in blocks:
            rows = linear.rows(start, stop)
            z = linear.logits(rows, start, first, last, columns)
            part = Shifted(z, shift=normaliser.shift, keep_gaps=False, precise=linear.precise)
            g = scratch("logit gradient", z.shape)
            with np.errstate(under="ignore"):
                # Probabilities below the normal range round toward 0.
                scaled_exps(part, factor, g)
                put(g, first, last, values)
                if keep is not None:
                    # The tokens left out have no gradient.
                    g[~keep[start:stop]] = 0
            with np.errstate(under="ignore"):
                # Products below the normal range round to subnormals.
                grad_hidden[start:stop] += g @ columns[0]
                weight_sum += g.T @ rows
                bias_sum += np.sum(g, axis=0)
        round_to(weight_sum, hidden.dtype, out=grad_weight[first:last])
        if grad_bias is not None:
            round_to(bias_sum, hidden.dtype, out=grad_bias[first:last])
    grad_hidden = round_to(grad_hidden, hidden.dtype).reshape(linear.shape)
    return LinearGradient(grad_hidden, grad_weight, grad_bias)



@fill(of=linear_softmax_cross_entropy)
def linear_softmax_cross_entropy_value_and_grad(
    hidden: ArrayLike,
    weight: ArrayLike,
    labels: ArrayLike,
    *,
    bias: ArrayLike | None = None,
    reduction: Reduction = "mean",
    block_size: int | None = None,
    where: ArrayLike | None = None,
) -> tuple[Result, LinearGradient]:
    r"""%(loss)s and its gradient, from one first pass over the logits.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    %(together_returns)s

    Raises
    ------
    %(same_raises)s

    Notes
    -----
    Both results equal those of the two functions bit for bit. The two
    calls make five matrix products of the size of the logits: ``hidden @
    weight.T`` in each one's first pass, again in the gradient's second
    pass, and ``G @ weight`` and ``G.T @ hidden``. The gradient's first
    pass is the loss's: here it is made once, which saves one product and
    the exponentials of one pass.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> rng = np.random.default_rng(0)
    >>> hidden, weight = rng.normal(size=(4, 3)), rng.normal(size=(5, 3))
    >>> loss, g = xentref.value_and_grad.linear_softmax_cross_entropy(hidden, weight, [0, 4, 2, 2])
    >>> bool(loss == xentref.linear_softmax_cross_entropy(hidden, weight, [0, 4, 2, 2]))
    True
    >>> g.hidden.shape, g.weight.shape
    ((4, 3), (5, 3))
    """
    hidden, weight, labels, bias, block_size, keep = _checked(hidden, weight, labels, bias, reduction, block_size,
                                                              where)
    linear = _Linear(hidden, weight, bias, block_size)
    losses, normalisers = _token_losses(linear, labels)
    divisor = selected_divisor(labels.size, keep, reduction, "tokens")
    return _reduced(losses, hidden, labels, keep, reduction), _gradient(linear, labels, keep, divisor, normalisers)
