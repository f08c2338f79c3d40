r"""Cross-entropy of padded sequences, token by token, and its mean over micro-batches.

A batch of sequences of different lengths is padded to a common number of
time steps; `lengths` or a boolean `mask` says which tokens count. A token
that does not count contributes nothing, whatever its label: padding labels
such as -100 are never read. Each token's loss is that of
:func:`softmax_cross_entropy`, computed by the same code.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._reduction import mean_of, reduction_divisor
from xentref._softmax_rows import Problem
from xentref._typing import ArrayLike, Result

REDUCTIONS = ("mean", "sequence_mean", "sum", "none")


def _tokens(logits, axis, labels, counts):
    """The tokens as rows of the softmax kernel; those that do not count have loss and gradient 0."""
    return Problem(logits, axis, None, labels, keep=counts)


def _checked(logits, labels, lengths, mask, axis, reduction):
    logits, axis = check.logits(logits, axis)
    check.dimensions(logits, 3, "logits", "batch, time and classes")
    check.reduction(reduction, REDUCTIONS)
    counts = check.padding(lengths, mask, logits.shape[:axis] + logits.shape[axis + 1:])
    labels = check.labels(labels, logits, axis, "labels", where=counts)
    return logits, axis, labels, counts


def _no_tokens(counts):
    """What the error of a mean over no tokens calls the batch."""
    return "an empty batch" if counts.size == 0 else "a batch whose every token is masked"


def _tokens_per_sequence(counts):
    """The number of tokens of each sequence; refused where ``"sequence_mean"`` is undefined."""
    if counts.shape[0] == 0:
        raise ValueError(
            "`reduction='sequence_mean'` is undefined for an empty batch (0 sequences); "
            "use 'sum' or 'none'"
        )
    tokens = np.count_nonzero(counts, axis=1)
    empty = tokens == 0
    if empty.any():
        (at,) = check.first_index(empty)
        raise ValueError(
            f"`reduction='sequence_mean'` is undefined for a sequence with no tokens; "
            f"sequence {at} has none: use 'mean', 'sum' or 'none', or leave it out of the batch"
        )
    return tokens


def _sequence_means(losses, tokens):
    """Each sequence's summed loss over its number of tokens, as :func:`mean_of` forms a mean."""
    tokens = tokens.astype(losses.dtype)
    with np.errstate(over="ignore", under="ignore"):
        # A mean below the normal range rounds toward 0; a sum beyond the
        # float range is handled below.
        totals = np.sum(losses, axis=1)
        means = totals / tokens
        overflowed = np.isinf(totals) & np.isfinite(losses).all(axis=1)
        if overflowed.any():
            # Finite losses whose sum leaves the float range: summed scaled
            # down by a power of two above their number, as in mean_of.
            scale = 2.0 ** losses.shape[1].bit_length()
            scaled = np.sum(losses / scale, axis=1) / tokens * scale
            means = np.where(overflowed, scaled, means)
    return means


@fill()
def sequence_softmax_cross_entropy(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    lengths: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    axis: int = -1,
    reduction: str = "mean",
) -> Result:
    r"""Token-level cross-entropy of padded sequences of class labels under the softmax of logits.

    Parameters
    ----------
    logits : array_like, shape (B, T, K)
        Unnormalised log-probabilities of the next token for B sequences of
        T time steps over K classes, with the classes along `axis` and batch
        and time in that order along the other two axes: finite or -inf,
        with at least one entry above -inf for every token, padding
        included.
    labels : array_like of int, shape (B, T)
        The observed token at each position: a class in [0, K) wherever a
        token counts; any integer (-100, a padding id) where it does not.
    lengths : array_like of int, shape (B,), optional
        The number of tokens of each sequence, in [0, T]: the first
        ``lengths[b]`` time steps of sequence b count, the rest are padding.
    mask : array_like of bool, shape (B, T), optional
        True where a token counts. Give `lengths` or `mask`, not both;
        with neither, every token counts.
    %(axis)s
    reduction : {"mean", "sequence_mean", "sum", "none"}, optional
        ``"mean"`` (default): the summed loss divided by the number of tokens
        that count, in the whole batch (the token mean). ``"sequence_mean"``:
        each sequence's mean over its own tokens, averaged over the
        sequences. ``"sum"``: the summed loss. ``"none"``: each token's loss,
        shape (B, T), 0 where a token does not count.

    Returns
    -------
    loss : ndarray
        A scalar, or shape (B, T) for ``"none"``, in the dtype of `logits`.

    Raises
    ------
    TypeError
        If `logits` is not real-valued float32/float64 data, `labels` or
        `lengths` are not integers, or `mask` is not boolean.
    ValueError
        If `logits` contains NaN or +inf or a token whose logits are all
        -inf, is not three-dimensional or has an empty class axis; `labels`
        or `mask` do not have the shape (B, T), `lengths` the shape (B,); a
        length is negative or above T; both `lengths` and `mask` are given;
        a label of a token that counts is outside [0, K); `reduction` is
        unknown; or a mean over nothing is asked for: ``"mean"`` when no
        token counts, ``"sequence_mean"`` for an empty batch or a sequence
        with no tokens.

    See Also
    --------
    softmax_cross_entropy : the loss of each token.
    micro_batch_token_mean : the token mean of a batch split into micro-batches.
    perplexity : :math:`e^{\text{loss}}` of the token mean.

    Notes
    -----
    With :math:`m_{bt} = 1` where token :math:`t` of sequence :math:`b`
    counts and 0 elsewhere, :math:`n_b = \sum_t m_{bt}` and
    :math:`N = \sum_b n_b`, each token's loss is
    :math:`\ell_{bt} = \operatorname{logsumexp}(z_{bt}) - z_{bt, y_{bt}}` and

    .. math::

        L_{\text{mean}} = \frac{1}{N} \sum_{b, t} m_{bt} \ell_{bt},

        L_{\text{sequence\_mean}} = \frac{1}{B} \sum_b \frac{1}{n_b}
            \sum_t m_{bt} \ell_{bt},

        L_{\text{sum}} = \sum_{b, t} m_{bt} \ell_{bt}.

    The token mean weighs every token alike; the sequence mean weighs every
    sequence alike, so a token of a short sequence counts more. They agree
    when all sequences have the same number of tokens. A token that does
    not count contributes exactly 0 to the loss and to the gradient, even
    where its label is out of range; its logits must still be valid,
    because NaN there is a fault upstream. The mean over no tokens is
    undefined and refused, as for an empty batch everywhere in xentref;
    ``"sum"`` gives 0.

    PyTorch's ``cross_entropy`` with ``ignore_index=-100`` and its default
    reduction computes the token mean, on logits of shape (B, K, T): pass
    those with ``axis=1``. The labels are predicted from the tokens before
    them, so for next-token prediction shift them by one step (the logits
    of time t score the token at t + 1).

    References
    ----------
    .. [1] %(goodfellow)s, section 10.2.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> logits = np.log([[[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.6, 0.2, 0.2]],
    ...                  [[0.25, 0.25, 0.5], [0.2, 0.2, 0.6], [0.2, 0.6, 0.2]]])
    >>> labels = [[0, 1, -100], [2, -100, -100]]  # -100 marks padding
    >>> losses = xentref.sequence_softmax_cross_entropy(logits, labels, lengths=[2, 1],
    ...                                                 reduction="none")
    >>> print(np.round(losses / np.log(2), 6))  # in bits; padding costs 0
    [[1. 1. 0.]
     [1. 0. 0.]]

    Losses of 1 and 1 bit in one sequence and of 2 bits in the other: the
    token mean is 4/3 bits, the mean of the sequences' means (1 and 2) is
    1.5 bits:

    >>> labels = [[0, 1, -100], [0, -100, -100]]
    >>> for reduction in ("mean", "sequence_mean"):
    ...     loss = xentref.sequence_softmax_cross_entropy(
    ...         logits, labels, lengths=[2, 1], reduction=reduction)
    ...     print(reduction, round(float(loss / np.log(2)), 6))
    mean 1.333333
    sequence_mean 1.5
    """
    logits, axis, labels, counts = _checked(logits, labels, lengths, mask, axis, reduction)
    return _reduced(_tokens(logits, axis, labels, counts).losses(), counts, reduction)


def _reduced(losses, counts, reduction):
    """The tokens' `losses` (0 where a token does not count) under `reduction`."""
    if reduction == "none":
        return losses
    if reduction == "sum":
        with np.errstate(over="ignore"):
            # A sum beyond the float range rounds to inf, as IEEE overflow does.
            return np.sum(losses)
    if reduction == "mean":
        return mean_of(losses, np.count_nonzero(counts), empty=_no_tokens(counts))
    tokens = _tokens_per_sequence(counts)
    return mean_of(_sequence_means(losses, tokens), tokens.size)


@fill(of=sequence_softmax_cross_entropy)
def sequence_softmax_cross_entropy_grad(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    lengths: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    axis: int = -1,
    reduction: str = "mean",
) -> Result:
    r"""Gradient of %(loss)s with respect to `logits`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray, shape (B, T, K)
        The shape and dtype of `logits`: the derivative of the reduced loss
        with respect to each logit (of each token's own loss for
        ``"none"``), exactly 0 for every token that does not count.

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.sequence_softmax_cross_entropy
    xentref.grad.softmax_cross_entropy : the gradient of each token's loss.

    Notes
    -----
    Each token that counts has the gradient of its own loss,
    :math:`\operatorname{softmax}(z_{bt}) - \operatorname{onehot}(y_{bt})`,
    formed as :func:`xentref.grad.softmax_cross_entropy` forms it; it is
    divided by :math:`N` for ``"mean"`` and by :math:`B n_b` for
    ``"sequence_mean"``, inside its one rounding: in float64 each entry is
    within 4 ulps of the exact value, as for
    :func:`xentref.grad.softmax_cross_entropy`. In gradient accumulation over micro-batches, the
    gradient of the token mean of the whole batch is the sum of each
    micro-batch's ``"sum"`` gradient divided by the total :math:`N` (see
    :func:`xentref.micro_batch_token_mean`), not the average of their ``"mean"``
    gradients.

    References
    ----------
    .. [1] %(goodfellow)s, section 10.2.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> logits = np.log([[[0.5, 0.25, 0.25], [0.6, 0.2, 0.2]]])
    >>> print(np.round(grad.sequence_softmax_cross_entropy(logits, [[0, -100]], lengths=[1]), 4))
    [[[-0.5   0.25  0.25]
      [ 0.    0.    0.  ]]]
    """
    logits, axis, labels, counts = _checked(logits, labels, lengths, mask, axis, reduction)
    return _tokens(logits, axis, labels, counts).gradient(_divisors(counts, reduction))


def _divisors(counts, reduction):
    """What the kernel divides the gradient by, before its one rounding.

    A count, or for ``"sequence_mean"`` one divisor per token row:
    :math:`B n_b`, the number of sequences times the tokens of its own.
    """
    if reduction != "sequence_mean":
        return reduction_divisor(np.count_nonzero(counts), reduction, _no_tokens(counts))
    tokens = _tokens_per_sequence(counts)
    per_sequence = (tokens * tokens.size).astype(np.float64)
    return np.broadcast_to(per_sequence[:, np.newaxis], counts.shape).reshape(-1)


@fill(of=sequence_softmax_cross_entropy)
def sequence_softmax_cross_entropy_value_and_grad(
    logits: ArrayLike,
    labels: ArrayLike,
    *,
    lengths: ArrayLike | None = None,
    mask: ArrayLike | None = None,
    axis: int = -1,
    reduction: str = "mean",
) -> tuple[Result, Result]:
    r"""%(loss)s and its gradient, from one pass over the logits.

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
    Both results equal those of the two functions bit for bit: each block
    of tokens is normalised once and gives its losses and its rows of the
    gradient, as :func:`xentref.value_and_grad.softmax_cross_entropy` does.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> logits = np.log([[[0.5, 0.25, 0.25], [0.6, 0.2, 0.2]]])
    >>> loss, g = xentref.value_and_grad.sequence_softmax_cross_entropy(
    ...     logits, [[0, -100]], lengths=[1])
    >>> print(round(float(loss), 6), np.round(g[0, 0], 4))
    0.693147 [-0.5   0.25  0.25]
    """
    logits, axis, labels, counts = _checked(logits, labels, lengths, mask, axis, reduction)
    losses, grad = _tokens(logits, axis, labels, counts).losses_and_gradient(_divisors(counts, reduction))
    return _reduced(losses, counts, reduction), grad


@fill()
def micro_batch_token_mean(losses: ArrayLike, counts: ArrayLike) -> Result:
    r"""The token mean of a batch from the summed losses and token counts of its micro-batches.

    Parameters
    ----------
    losses : array_like, shape (M,)
        Each micro-batch's summed token loss, such as
        ``sequence_softmax_cross_entropy(..., reduction="sum")``: at least 0,
        +inf allowed; 0 for a micro-batch without tokens.
    counts : array_like of int, shape (M,)
        The number of tokens that count in each micro-batch, at least 0.

    Returns
    -------
    mean : ndarray
        A scalar in the dtype of `losses`: ``sum(losses) / sum(counts)``.

    Raises
    ------
    TypeError
        If `losses` is not real-valued float32/float64 data or `counts` are
        not integers.
    ValueError
        If `losses` contains NaN or a negative entry or is not
        one-dimensional, `counts` has another shape or a negative entry, a
        micro-batch without tokens has a loss other than 0, or no
        micro-batch has a token.

    See Also
    --------
    sequence_softmax_cross_entropy

    Notes
    -----
    For micro-batches :math:`i` with summed losses :math:`S_i` over
    :math:`N_i` tokens,

    .. math::

        L = \frac{\sum_i S_i}{\sum_i N_i}
          = \sum_i \frac{N_i}{\sum_j N_j} \frac{S_i}{N_i},

    the token mean of the whole batch: each micro-batch's mean weighted by
    its share of the tokens. The plain average of the micro-batch means,
    :math:`\frac{1}{M} \sum_i S_i / N_i`, differs whenever the counts do.
    Gradient accumulation must compute :math:`L`: each micro-batch
    contributes the gradient of :math:`S_i / \sum_j N_j`, so the total
    count is needed before the first backward pass.

    References
    ----------
    .. [1] %(goodfellow)s, section 8.1.3.

    Examples
    --------
    >>> import xentref
    >>> losses, counts = [6.0, 1.0], [3, 1]  # means 2 and 1
    >>> float(xentref.micro_batch_token_mean(losses, counts))  # 7 / 4, not (2 + 1) / 2
    1.75
    """
    losses = check.dimensions(check.values(losses, "losses"), 1, "losses", "one summed loss per micro-batch")
    negative = losses < 0
    if negative.any():
        at = check.first_index(negative)
        raise ValueError(
            f"`losses` must be summed cross-entropies, at least 0; got "
            f"{losses[at].item()!r} at index {at}"
        )
    counts = check.same_shape(
        check.whole_numbers(counts, "counts", 0, losses, "losses"), losses, "counts", "losses"
    )
    stray = (counts == 0) & (losses != 0)
    if stray.any():
        at = check.first_index(stray)
        raise ValueError(
            f"`losses` must be 0 where `counts` is 0, since a micro-batch without "
            f"tokens has no loss; got {losses[at].item()!r} at index {at}"
        )
    total = int(np.sum(counts))
    if total == 0:
        raise ValueError(
            "the token mean is undefined without tokens: `counts` sums to 0"
        )
    return mean_of(losses, total)
