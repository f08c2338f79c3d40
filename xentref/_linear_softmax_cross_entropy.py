"""Softmax cross-entropy of a linear layer's output, without forming its logits."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from xentref import _check as check
from xentref import _error_free as ef
from xentref._blocks import scratch
from xentref._docs import fill
from xentref._focal_loss import dropped_rows
from xentref._half import round_to
from xentref._reduction import apply_reduction, selected_divisor
from xentref._shift import Shifted, normalise
from xentref._softmax_options import (
    _coefficient_distance,
    _rounded,
    as_pair,
    checked_weight_total,
    coefficient_sum,
    divided,
    gradient_total,
    label_coefficients,
    label_weight_total,
    mean_scales,
    merged_distance,
    option_losses,
    option_mean,
)
from xentref._softmax_options import special_values as option_special_values
from xentref._softmax_rows import (
    gradient_chunk,
    gradient_factor,
    label_losses,
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


class _Options:
    """The options of softmax cross-entropy for a head of `n_classes` classes, as checked."""

    def __init__(self, n_classes, weight, ignore_index, epsilon, smoothing, z_loss):
        self.n_classes, self.weight, self.ignore_index = n_classes, weight, ignore_index
        self.epsilon, self.smoothing, self.z_loss = epsilon, smoothing, z_loss
        # Without class weights, smoothing and z-loss, the loss is the plain one of the labels.
        self.plain = weight is None and epsilon == 0 and z_loss == 0
        self.selection = "`where` leaves" if ignore_index is None else "`where` and `ignore_index` leave"

    def coefficients(self, labels, columns):
        """:math:`c = w \\tilde q` of tokens with `labels` at `columns`, as in :func:`label_coefficients`."""
        return label_coefficients(labels, columns, self.n_classes, self.weight, self.epsilon, self.smoothing)

    def coefficient_at(self, labels, columns):
        """:math:`c` of tokens with `labels` at one class each, `columns`: a pair of arrays of their shape."""
        high, low = self.coefficients(labels, columns[:, None])
        return high[:, 0], low[:, 0]


def _checked(hidden, weight, labels, bias, reduction, block_size, where, class_weight, ignore_index, label_smoothing,
             smoothing, z_loss):
    """Validate the arguments; return them as arrays in the dtype of `hidden`, rows flattened, and the options."""
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
    options = _Options(weight.shape[0], *check.softmax_options(
        class_weight, ignore_index, label_smoothing, smoothing, z_loss, weight.shape[0], hidden.dtype, "weight",
    ))
    for value, name in ((hidden, "hidden"), (weight, "weight"), (bias, "bias")):
        if value is not None:
            check.finite(value, name)
    # A view of no memory with the shape of the logits, for the labels' check.
    logits_shape = np.broadcast_to(np.empty((), dtype=np.bool_), (*hidden.shape[:-1], weight.shape[0]))
    keep = check.where(where, hidden.shape[:-1], "tokens")
    labels, keep = check.selected_labels(labels, logits_shape, hidden.ndim - 1, "labels",
                                         ignore_index=options.ignore_index, mask=keep)
    dtype = hidden.dtype
    weight = check.in_dtype(weight, dtype)
    bias = None if bias is None else check.in_dtype(bias, dtype)
    for value, name in ((weight, "weight"), (bias, "bias")):
        if value is not None:
            check.finite(value, name, f" once in the dtype of `hidden`, {dtype}")
    keep = None if keep is None else keep.reshape(-1)
    return hidden, weight, labels.reshape(-1), bias, block_size, keep, options


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


def _token_losses(linear, labels, options):
    """Per-token losses in float64 and each block's first-pass results: the pass shared by loss and gradient.

    Returns ``(losses, parts, blocks)``: `parts` the cross-entropy and the
    z-loss of each token apart (None without options), `blocks` a list of
    ``(start, stop, normaliser, picked, total)`` with the logits `picked`
    at the labels and the coefficients' sum `total` (None without options).
    """
    losses = np.empty(linear.n_rows)
    parts = None if options.plain else (np.empty(linear.n_rows), np.empty(linear.n_rows))
    blocks = []
    for start, stop in linear.row_spans():
        rows = linear.rows(start, stop)
        cache = {}

        def source(first, last, rows=rows, start=start, cache=cache):
            if (first, last) not in cache:
                cache.clear()
                cache[first, last] = linear.logits(rows, start, first, last)
            return cache[first, last]

        block_labels = labels[start:stop]
        if options.plain:
            normaliser, _, picked = normalise(source, linear.n_classes, linear.spans, gather=block_labels,
                                              keep_gaps=False, precise=linear.precise)
            losses[start:stop] = label_losses(normaliser, picked)
            blocks.append((start, stop, normaliser, picked, None))
            continue
        chunks = []

        def visit(first, last, part, z, labels=block_labels, chunks=chunks):
            # Each chunk's distance to its own maximum: the row's is known
            # only after the last chunk (merged_distance).
            c = options.coefficients(labels, np.arange(first, last)[None, :])
            chunks.append((part.shift[:, 0], coefficient_sum(c), _coefficient_distance(part, c, 0, last - first, z)))

        normaliser, _, picked = normalise(source, linear.n_classes, linear.spans, gather=block_labels,
                                          keep_gaps=True, precise=linear.precise, visit=visit)
        total, distance = merged_distance(chunks, normaliser.shift[:, 0])
        losses[start:stop], parts[0][start:stop], parts[1][start:stop] = option_losses(
            total, distance, normaliser, options.z_loss)
        blocks.append((start, stop, normaliser, picked, total))
    return losses, parts, blocks


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
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
) -> Result:
    r"""Softmax cross-entropy of the logits ``hidden @ weight.T + bias``, never formed whole.

    The classifier head of a language model: a hidden state per token, a
    row of `weight` (and an entry of `bias`) per class. The logits are
    formed one block of tokens and classes at a time, each block's maximum
    and sum merged by the online rule of Milakov and Gimelshein, so memory
    grows with `block_size`, not with tokens times classes. The options
    are those of :func:`softmax_cross_entropy`, with the same meaning:
    class weights, ignore_index, label smoothing and z-loss, as in Liger
    Kernel's fused head [3]_.

    Parameters
    ----------
    hidden : array_like, shape (..., d)
        Hidden states, one per token: finite floats (float16, bfloat16,
        float32 or float64).
    weight : array_like, shape (V, d)
        One row per class, finite; used in the dtype of `hidden`. The
        :math:`K` classes of the options below are its :math:`V` rows.
    labels : array_like of int, shape (...)
        Class labels in [0, V), one per token (any integer at the tokens
        that `where` or `ignore_index` leaves out).
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
    %(class_weight)s
    %(ignore_index)s
    %(label_smoothing)s
    %(smoothing)s
    %(z_loss)s

    Returns
    -------
    loss : ndarray
        A scalar for ``"mean"`` and ``"sum"``, shape (...) for ``"none"``,
        in the dtype of `hidden`.

    Raises
    ------
    TypeError
        If an array is not real-valued floating-point data, labels are not
        integers, `where` is not boolean, or `block_size` or `ignore_index`
        is not an integer.
    ValueError
        If an entry of `hidden`, `weight` or `bias` is NaN or infinite, the
        shapes do not fit (`where` and `class_weight` included), a selected
        label is out of range, `reduction` or `smoothing` is unknown,
        `block_size` is not positive, `class_weight` holds a negative,
        infinite or NaN weight, `label_smoothing` is outside [0, 1],
        `z_loss` is negative, infinite or NaN, ``smoothing="others"`` meets
        a single class, the logits leave the float64 range, or ``"mean"`` is
        asked of an empty batch, an empty selection or a total weight of 0.

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

    With the options, a selected token's loss is that of
    :func:`softmax_cross_entropy` of its logits with the same options,

    .. math:: \ell_n = \sum_k c_k (-\log \operatorname{softmax}(z_n)_k)
              + \lambda \operatorname{logsumexp}(z_n)^2, \qquad
              c_k = w_k \tilde q_k,

    :math:`\tilde q` the smoothed one-hot target of :math:`y_n` (PyTorch's
    convention with class weights: the smoothing term of class :math:`k`
    is weighted by :math:`w_k`); ``"mean"`` divides by the total weight
    :math:`\sum_n w_{y_n}` of the selected labels (the count without class
    weights; the z-loss by the count). `where` and `ignore_index` select
    together: a token is left out if either leaves it out, and the class
    `ignore_index` names, if it is one, stays in the softmax.

    In the shifted form :math:`C L + \sum_k c_k (a - z_k)`, with
    :math:`C = \sum_k c_k`, every class has a coefficient once smoothing is
    on, and the row's maximum :math:`a` is known only after its last chunk
    of classes. Each chunk :math:`c` is therefore shifted by its own
    maximum :math:`m_c`, its distance :math:`D_c = \sum_{k \in c} c_k
    (m_c - z_k)` and its sum :math:`C_c` formed as for probability targets,
    and the chunks merged as

    .. math:: \sum_k c_k (a - z_k) = \sum_c \big[C_c (a - m_c) + D_c\big],

    every term non-negative and :math:`a - m_c` an exact pair: the loss of
    the logits keeps the bound of :func:`softmax_cross_entropy`, and the
    logits are formed once, as without options. Their rounding then moves
    the loss by at most :math:`(d + 1) u S` times :math:`\sum_k
    |\partial \ell / \partial z_k| \le 2 (C + \lambda |\operatorname{lse}|)`,
    :math:`S` the size of the logits' terms.

    References
    ----------
    .. [1] M. Milakov and N. Gimelshein, "Online normalizer calculation for
       softmax", 2018. https://arxiv.org/abs/1805.02867
    .. [2] E. Wijmans, B. Huval, A. Hertzberg, V. Koltun and P. Krähenbühl,
       "Cut your losses in large-vocabulary language models", ICLR 2025.
       https://arxiv.org/abs/2411.09009
    .. [3] %(liger)s

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

    With class weights, padding left out and label smoothing, in blocks of
    six logits:

    >>> options = {"class_weight": [1.0, 2.0, 0.5, 1.0, 3.0], "ignore_index": -100,
    ...            "label_smoothing": 0.1}
    >>> padded = np.array([0, 4, -100, 2])
    >>> fused = xentref.linear_softmax_cross_entropy(hidden, weight, padded, block_size=6, **options)
    >>> plain = xentref.softmax_cross_entropy(hidden @ weight.T, padded, **options)
    >>> bool(np.isclose(fused, plain, rtol=1e-15))
    True
    """
    call = _checked(hidden, weight, labels, bias, reduction, block_size, where, class_weight, ignore_index,
                    label_smoothing, smoothing, z_loss)
    hidden, weight, labels, bias, block_size, keep, options = call
    linear = _Linear(hidden, weight, bias, block_size)
    losses, parts, _ = _token_losses(linear, labels, options)
    return _reduced(losses, parts, hidden, labels, keep, reduction, options)


def _reduced(losses, parts, hidden, labels, keep, reduction, options):
    """The float64 per-token `losses` (and their `parts`) rounded to the dtype of `hidden` and reduced."""
    losses = round_to(dropped_rows(losses, keep), hidden.dtype).reshape(hidden.shape[:-1])
    if options.plain or reduction != "mean":
        count = selected_divisor(labels.size, keep, reduction, "tokens", options.selection)
        return apply_reduction(losses, reduction, count)
    count, weight_total = _mean_divisors(labels, keep, options)
    parts = tuple(dropped_rows(part, keep) for part in parts)
    return option_mean((losses, *parts), count, weight_total, options.z_loss)


def _mean_divisors(labels, keep, options):
    """What ``"mean"`` divides by: the selected tokens' count and their labels' total weight (None without)."""
    count = selected_divisor(labels.size, keep, "mean", "tokens", options.selection)
    if options.weight is None:
        return count, None
    return count, checked_weight_total(label_weight_total(options.weight, labels, keep))


def _gradient_of(linear, labels, keep, reduction, options, blocks):
    """The :class:`LinearGradient` of the loss under `reduction`, from the first pass's `blocks`."""
    if options.plain:
        divisor = selected_divisor(labels.size, keep, reduction, "tokens", options.selection)
        return _gradient(linear, labels, keep, blocks, _plain_rows(labels, divisor))
    inverse, z_scale = None, (2 * options.z_loss, 0.0)
    if reduction == "mean":
        inverse, z_scale = mean_scales(*_mean_divisors(labels, keep, options), options.z_loss)
    return _gradient(linear, labels, keep, blocks, _option_rows(labels, options, inverse, z_scale))


def _plain_rows(labels, divisor):
    """The per-block factor and special entries of :math:`(p - e_y)/N`, and nothing to subtract."""
    def rows(start, stop, normaliser, picked, total):
        ones = (np.ones(stop - start), np.zeros(stop - start))
        at_top = (labels[start:stop] == normaliser.top).astype(np.float64)
        values = special_values(picked, normaliser, ones, at_top, labels[start:stop], ones[0], divisor)
        return gradient_factor(normaliser, ones, divisor), values, None
    return rows


def _option_rows(labels, options, inverse, z_scale):
    """The per-block factor, special entries and coefficients of :math:`p T - c`, divided by `inverse`'s total."""
    def rows(start, stop, normaliser, picked, total):
        block_labels = labels[start:stop]
        total = gradient_total(divided(total, inverse), None if options.z_loss == 0 else z_scale, normaliser)
        at_top, at_label = (divided(options.coefficient_at(block_labels, columns), inverse)
                            for columns in (normaliser.top, block_labels))
        values = option_special_values(picked, normaliser, total, at_top, block_labels, at_label)

        def subtracted(first, last):
            return _rounded(divided(options.coefficients(block_labels, np.arange(first, last)[None, :]), inverse))

        return ef.multiply_wide(as_pair(normaliser.reciprocal()), total), values, subtracted
    return rows


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
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
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

    With the options, a selected token's row of :math:`G` is

    .. math:: G_{nk} = \big(p_{nk} (C + 2 \lambda \operatorname{lse}(z_n))
              - c_{nk}\big) / D, \qquad C = \sum_k c_{nk},

    :math:`D` the total weight of the selected labels for ``"mean"`` (the
    z-loss's part divided by the count instead) and 1 otherwise, as
    :func:`xentref.grad.softmax_cross_entropy` has it; the tokens left out
    have a row of zeros. The coefficients of each chunk of classes are
    formed again from the labels in the second pass. The first pass is the
    loss's, the distance included, so that the gradient alone and
    :func:`xentref.value_and_grad.linear_softmax_cross_entropy` agree bit
    for bit. The entries at the largest logit and at the label are pairs
    rounded once. With class weights above 1, or a z-loss, an entry of
    :math:`G` may exceed 1 in size, and its products with hidden states
    near the largest float may leave the float range: they overflow to
    infinity, and NumPy warns.

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

    With class weights and label smoothing:

    >>> options = {"class_weight": [1.0, 2.0, 0.5, 1.0, 3.0], "label_smoothing": 0.1}
    >>> g = grad.linear_softmax_cross_entropy(hidden, weight, [0, 4, 2, 2], block_size=6, **options)
    >>> by_logits = grad.softmax_cross_entropy(hidden @ weight.T, [0, 4, 2, 2], **options)
    >>> bool(np.allclose(g.hidden, by_logits @ weight) and np.allclose(g.weight, by_logits.T @ hidden))
    True
    """
    call = _checked(hidden, weight, labels, bias, reduction, block_size, where, class_weight, ignore_index,
                    label_smoothing, smoothing, z_loss)
    hidden, weight, labels, bias, block_size, keep, options = call
    linear = _Linear(hidden, weight, bias, block_size)
    _, _, blocks = _token_losses(linear, labels, options)
    return _gradient_of(linear, labels, keep, reduction, options, blocks)


def _gradient(linear, labels, keep, blocks, block_rows):
    """The :class:`LinearGradient`, the second pass, from the first pass's `blocks`.

    ``block_rows(start, stop, normaliser, picked, total)`` gives a block's
    factor of the exponentials, its special entries (pairs rounded once)
    and ``subtracted(first, last)``, the coefficients taken off (or None).
    """
    hidden, weight, bias = linear.hidden, linear.weight, linear.bias
    prepared = [(start, stop, normaliser, *block_rows(start, stop, normaliser, picked, total))
                for start, stop, normaliser, picked, total in blocks]
    grad_hidden = np.zeros(linear.hidden.shape)
    grad_weight = np.empty(weight.shape, dtype=hidden.dtype)
    grad_bias = None if bias is None else np.empty(bias.shape, dtype=hidden.dtype)
    for first, last in linear.spans:
        columns = linear.columns(first, last)
        weight_sum = np.zeros((last - first, weight.shape[1]))
        bias_sum = np.zeros(last - first)
        for start, stop, normaliser, factor, values, subtracted in prepared:
            rows = linear.rows(start, stop)
            z = linear.logits(rows, start, first, last, columns)
            part = Shifted(z, shift=normaliser.shift, keep_gaps=False, precise=linear.precise)
            g = scratch("logit gradient", z.shape)
            gradient_chunk(g, part, factor, first, last, values, subtracted)
            if keep is not None:
                # The tokens left out have no gradient.
                g[~keep[start:stop]] = 0
            with np.errstate(under="ignore", over="ignore"):
                # Products below the normal range round to subnormals; a sum
                # at the edge of the float range may round beyond it, to inf
                # as IEEE overflow gives.
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
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
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
    pass is the loss's, with the options too: here it is made once, which
    saves one product and the exponentials of one pass.

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
    >>> options = {"ignore_index": -100, "label_smoothing": 0.1, "smoothing": "others"}
    >>> loss, g = xentref.value_and_grad.linear_softmax_cross_entropy(hidden, weight, [0, -100, 2, 2], **options)
    >>> bool(loss == xentref.linear_softmax_cross_entropy(hidden, weight, [0, -100, 2, 2], **options))
    True
    """
    call = _checked(hidden, weight, labels, bias, reduction, block_size, where, class_weight, ignore_index,
                    label_smoothing, smoothing, z_loss)
    hidden, weight, labels, bias, block_size, keep, options = call
    linear = _Linear(hidden, weight, bias, block_size)
    losses, parts, blocks = _token_losses(linear, labels, options)
    loss = _reduced(losses, parts, hidden, labels, keep, reduction, options)
    return loss, _gradient_of(linear, labels, keep, reduction, options, blocks)
