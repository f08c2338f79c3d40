"""Negative log-likelihood of class labels under given log-probabilities."""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref import _error_free as ef
from xentref._docs import fill
from xentref._half import round_to
from xentref._reduction import (
    apply_reduction,
    empty_mean,
    mean_of,
    reduction_divisor,
)
from xentref._typing import ArrayLike, Reduction, Result


def _checked(log_probs, labels, axis, reduction, class_weight, ignore_index, where):
    log_probs, axis = check.log_distribution(log_probs, axis, "log_probs")
    check.reduction(reduction)
    weight = check.class_weight(class_weight, log_probs.shape[axis], log_probs.dtype)
    ignore_index = check.ignore_index(ignore_index)
    keep = check.where(where, log_probs.shape[:axis] + log_probs.shape[axis + 1:])
    labels, keep = check.selected_labels(labels, log_probs, axis, "labels", ignore_index, keep)
    return log_probs, labels, axis, weight, keep


def _label_weights(labels, axis, weight, keep):
    """Each example's weight :math:`w_{y_n}` (1 without `class_weight`), 0 where left out; float64, batch shape."""
    labels = np.squeeze(labels, axis)
    weights = np.ones(labels.shape) if weight is None else weight[labels]
    return weights if keep is None else np.where(keep, weights, 0.0)


def _divisor(weights, weight, keep, reduction):
    """What ``"mean"`` divides by, as a pair: the total weight of the selected labels, or their count."""
    if reduction != "mean":
        return 1.0, 0.0
    count = weights.size if keep is None else int(np.count_nonzero(keep))
    if count == 0:
        raise empty_mean(weights.size)
    if weight is None:
        return float(count), 0.0
    total = ef.sum_wide(weights.reshape(-1))
    if not ef.rounded(total) > 0:
        raise ValueError(
            "`reduction='mean'` divides by the total class weight of the selected labels, "
            "which is 0; use 'sum' or 'none'"
        )
    return tuple(float(part) for part in total)


@fill()
def nll_loss(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
) -> Result:
    r"""Negative log-likelihood of class labels under log-probabilities.

    Parameters
    ----------
    log_probs : array_like, shape (..., K)
        Log-probabilities along `axis`, such as the output of
        :func:`log_softmax`: at most 0, finite or -inf (probability zero),
        with each slice's logsumexp equal to 0 within the square root of
        machine epsilon.
    labels : array_like of int, shape (...)
        Class labels in [0, K), with the shape of `log_probs` without the
        class axis.
    %(axis)s
    %(reduction)s
    %(class_weight)s
    %(ignore_index)s
    %(where)s

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    %(family_type_error)s
        Also if `where` is not boolean or `ignore_index` not an integer.
    ValueError
        If `log_probs` contains NaN, +inf or a positive entry, a slice is
        not a log-distribution (raw logits, say), the class axis is empty, a
        selected label is out of range, the shapes of the labels, `where` or
        `class_weight` do not fit, `class_weight` holds a negative, infinite
        or NaN weight, `reduction` is unknown, or ``"mean"`` is asked of an
        empty batch, an empty selection or a total weight of 0.

    See Also
    --------
    softmax_cross_entropy : the same loss from logits.
    log_softmax

    Notes
    -----
    .. math:: \ell(\log p, y) = -\log p_y

    the negative log-likelihood of the label, which is the cross-entropy of
    a one-hot target. On ``log_softmax(z)`` it equals
    ``softmax_cross_entropy(z, labels)`` to the last bit. An entry of -inf at
    the label costs :math:`+\infty`. The input is refused unless it is
    normalised, so logits passed by mistake raise an error instead of giving
    a meaningless, possibly negative, loss. That check is one pass over
    `log_probs`, block by block: the sum of the exponentials of each slice,
    whose logarithm must be 0 within the tolerance, over every example,
    those left out included. float16 and bfloat16 are accepted, as by
    :func:`log_softmax`.

    With `class_weight` the loss of an example is :math:`-w_y \log p_y`,
    rounded once (so correctly rounded), and ``"mean"`` divides the sum by
    the total weight :math:`\sum_n w_{y_n}` of the selected labels: a
    weighted mean, PyTorch's ``nll_loss``. A zero weight removes an example
    even where its log-probability is -inf. An empty selection has no
    mean: an error here, NaN in PyTorch.

    References
    ----------
    .. [1] %(goodfellow)s, section 6.2.1.1.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> log_p = np.log([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    >>> print(np.round(xentref.nll_loss(log_p, [0, 0], reduction="none"), 4))
    [0.3567 1.6094]

    Logits are not log-probabilities:

    >>> xentref.nll_loss([[2.0, 1.0]], [0])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `log_probs` must hold log-probabilities: ... got 2.3132... at batch index (0,). ...
    """
    log_probs, labels, axis, weight, keep = _checked(log_probs, labels, axis, reduction, class_weight, ignore_index,
                                                     where)
    picked = np.squeeze(np.take_along_axis(log_probs, labels, axis=axis), axis=axis)
    if weight is None and keep is None:
        # Adding 0 turns a -0.0 loss into +0.0 and changes nothing else (a zero
        # of the dtype: bfloat16 plus a Python float would become float32).
        return apply_reduction(-picked + np.zeros((), picked.dtype), reduction)
    weights = _label_weights(labels, axis, weight, keep)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        # One product, correctly rounded in float64; for a narrower dtype it
        # is exact in float64 and rounded once to the dtype. Beyond the range
        # it is inf, below it a subnormal or 0. A zero weight gives 0, even at -inf
        # (where the product is NaN, and replaced).
        losses = np.where(weights == 0, 0.0, weights * -picked.astype(np.float64)) + 0.0
    losses = round_to(losses, log_probs.dtype)
    if reduction != "mean":
        return apply_reduction(losses, reduction)
    return mean_of(losses, ef.rounded(_divisor(weights, weight, keep, reduction)), losses.dtype)


@fill(of=nll_loss)
def nll_loss_grad(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to `log_probs`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray, shape (..., K)
        The shape and dtype of `log_probs`: :math:`-1` at each label, 0
        elsewhere, divided by the number of examples for ``"mean"``.

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.nll_loss
    xentref.grad.softmax_cross_entropy : the gradient with respect to logits.

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial \log p_k} = -[k = y]

    with every entry of `log_probs` an independent variable; times
    :math:`w_y` with `class_weight`, divided by the total weight of the
    selected labels for ``"mean"`` (rounded once), and 0 at the examples
    left out. Through
    :math:`\log p = \operatorname{log\_softmax}(z)` the chain rule turns it
    into :math:`\operatorname{softmax}(z) - \operatorname{onehot}(y)`.

    References
    ----------
    .. [1] %(goodfellow)s, section 6.2.1.1.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> log_p = np.log([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    >>> print(grad.nll_loss(log_p, [0, 2]))
    [[-0.5  0.   0. ]
     [ 0.   0.  -0.5]]
    """
    log_probs, labels, axis, weight, keep = _checked(log_probs, labels, axis, reduction, class_weight, ignore_index,
                                                     where)
    grad = np.zeros_like(log_probs)
    if weight is None and keep is None:
        divisor = reduction_divisor(log_probs.size // log_probs.shape[axis], reduction)
        np.put_along_axis(grad, labels, -1, axis=axis)
        with np.errstate(under="ignore"):
            # In place, the division of scale_gradient: -1/N below the normal range
            # rounds to a subnormal or 0.
            grad /= divisor
        return grad
    weights = _label_weights(labels, axis, weight, keep)
    divisor = _divisor(weights, weight, keep, reduction)
    # -w_y / D as a pair rounded once: D is the exact total (a pair).
    values = ef.rounded(ef.divide_wide((-weights, np.zeros_like(weights)), divisor)) + 0.0
    np.put_along_axis(grad, labels, np.expand_dims(round_to(values, log_probs.dtype), axis), axis=axis)
    return grad
