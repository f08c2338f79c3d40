"""Negative log-likelihood of class labels under given log-probabilities."""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._reduction import (
    apply_reduction,
    reduction_divisor,
    scale_gradient,
)
from xentref._typing import ArrayLike, Reduction, Result


def _checked(log_probs, labels, axis, reduction):
    log_probs, axis = check.log_distribution(log_probs, axis, "log_probs")
    check.reduction(reduction)
    labels = check.labels(labels, log_probs, axis, "labels")
    return log_probs, labels, axis


@fill()
def nll_loss(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
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

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    %(family_type_error)s
    ValueError
        If `log_probs` contains NaN, +inf or a positive entry, a slice is
        not a log-distribution (raw logits, say), the class axis is empty, a
        label is out of range or the labels' shape does not fit, `reduction`
        is unknown, or the mean of an empty batch is asked for.

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
    whose logarithm must be 0 within the tolerance. float16 and bfloat16
    are accepted, as by :func:`log_softmax`.

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
    log_probs, labels, axis = _checked(log_probs, labels, axis, reduction)
    picked = np.squeeze(np.take_along_axis(log_probs, labels, axis=axis), axis=axis)
    # Adding 0 turns a -0.0 loss into +0.0 and changes nothing else (a zero
    # of the dtype: bfloat16 plus a Python float would become float32).
    return apply_reduction(-picked + np.zeros((), picked.dtype), reduction)


@fill(of=nll_loss)
def nll_loss_grad(
    log_probs: ArrayLike,
    labels: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
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

    with every entry of `log_probs` an independent variable. Through
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
    log_probs, labels, axis = _checked(log_probs, labels, axis, reduction)
    divisor = reduction_divisor(log_probs.size // log_probs.shape[axis], reduction)
    grad = np.zeros_like(log_probs)
    np.put_along_axis(grad, labels, -1, axis=axis)
    return scale_gradient(grad, None, divisor)
