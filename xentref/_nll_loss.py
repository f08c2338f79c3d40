"""Negative log-likelihood of class labels under given log-probabilities."""

import numpy as np

from xentref import _validation as check
from xentref._logsumexp import logsumexp
from xentref._reduction import apply_reduction, reduction_divisor, scale_gradient


def _log_distribution(log_p, axis, name):
    """Refuse `log_p` unless each slice along `axis` is a log-distribution.

    Its logsumexp must be 0 within :func:`_validation.sum_tolerance`, the
    tolerance on a probability sum; unnormalised logits fail this.
    """
    tolerance = check.sum_tolerance(log_p.dtype)
    totals = np.asarray(logsumexp(log_p, axis=axis))
    off = np.abs(totals) > tolerance
    if np.any(off):
        index = tuple(int(i) for i in np.argwhere(off)[0])
        raise ValueError(
            f"`{name}` must hold log-probabilities: their logsumexp along axis "
            f"{axis} must be 0 (tolerance {tolerance:.2g} for {log_p.dtype}); "
            f"got {totals[index].item()!r}{check.at_batch_index(index)}. Pass "
            f"log_softmax(logits), or use softmax_cross_entropy on logits"
        )


def _checked(log_probs, labels, axis, reduction):
    """Validate the loss's arguments; return them with the class axis index."""
    log_probs = check.float_array(log_probs, "log_probs")
    log_probs_axis = check.class_axis(log_probs, axis, "log_probs")
    check.finite_or_minus_inf(log_probs, "log_probs")
    check.reduction_name(reduction)
    _log_distribution(log_probs, log_probs_axis, "log_probs")
    shape = log_probs.shape
    batch_shape = shape[:log_probs_axis] + shape[log_probs_axis + 1:]
    labels = check.class_labels(np.asarray(labels), batch_shape, shape[log_probs_axis], "labels")
    return log_probs, np.expand_dims(labels, log_probs_axis), log_probs_axis


def nll_loss(log_probs, labels, *, axis=-1, reduction="mean"):
    r"""Negative log-likelihood of class labels under log-probabilities.

    Parameters
    ----------
    log_probs : array_like, shape (..., K)
        Log-probabilities along `axis`, such as the output of
        :func:`log_softmax`: finite or -inf (probability zero), with each
        slice's logsumexp equal to 0 within the square root of machine
        epsilon.
    labels : array_like of int, shape (...)
        Class labels in [0, K), with the shape of `log_probs` without the
        class axis.
    axis : int, optional
        The class axis. Default -1 (PyTorch uses 1).
    reduction : {"mean", "sum", "none"}, optional
        ``"none"`` returns one loss per example, shape (...); ``"sum"`` their
        sum; ``"mean"`` (default) their sum divided by their count.

    Returns
    -------
    loss : ndarray
        A scalar for ``"mean"`` and ``"sum"``, shape (...) for ``"none"``, in
        the dtype of `log_probs`.

    Raises
    ------
    TypeError
        If `log_probs` is not float data, or `labels` are not integers.
    ValueError
        If `log_probs` contains NaN or +inf, a slice is not a
        log-distribution (raw logits, say), the class axis is empty, a label
        is out of range or the labels' shape does not fit, `reduction` is
        unknown, or the mean of an empty batch is asked for.

    See Also
    --------
    softmax_cross_entropy : the same loss from logits.
    log_softmax
    xentref.grad.nll_loss : its gradient.

    Notes
    -----
    .. math:: \ell(\log p, y) = -\log p_y

    the negative log-likelihood of the label, which is the cross-entropy of
    a one-hot target. On ``log_softmax(z)`` it equals
    ``softmax_cross_entropy(z, labels)`` to the last bit. An entry of -inf at
    the label costs :math:`+\infty`.

    This is PyTorch's ``nll_loss`` without its ``weight`` and
    ``ignore_index`` options. PyTorch accepts any scores; here the input is
    refused unless it is normalised, so logits passed by mistake raise an
    error instead of giving a meaningless, possibly negative, loss.

    References
    ----------
    .. [1] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT
       Press, 2016, section 6.2.1.1.

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
    log_probs, labels, log_probs_axis = _checked(log_probs, labels, axis, reduction)
    picked = np.take_along_axis(log_probs, labels, axis=log_probs_axis)
    picked = np.squeeze(picked, axis=log_probs_axis)
    # Adding 0.0 turns a -0.0 loss into +0.0 and changes nothing else.
    losses = -picked + 0.0
    return apply_reduction(losses, reduction)


def nll_loss_grad(log_probs, labels, *, axis=-1, reduction="mean"):
    r"""Gradient of :func:`xentref.nll_loss` with respect to `log_probs`.

    Parameters
    ----------
    log_probs, labels, axis, reduction
        As for :func:`xentref.nll_loss`, with the same checks.

    Returns
    -------
    grad : ndarray, shape (..., K)
        The shape and dtype of `log_probs`: :math:`-1` at each label, 0
        elsewhere, divided by the number of examples for ``"mean"``.

    Raises
    ------
    TypeError, ValueError
        As :func:`xentref.nll_loss`.

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
    .. [1] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT
       Press, 2016, section 6.2.1.1.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> log_p = np.log([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    >>> print(grad.nll_loss(log_p, [0, 2]))
    [[-0.5  0.   0. ]
     [ 0.   0.  -0.5]]
    """
    log_probs, labels, log_probs_axis = _checked(log_probs, labels, axis, reduction)
    divisor = reduction_divisor(log_probs.size // log_probs.shape[log_probs_axis], reduction)
    grad = np.zeros_like(log_probs)
    np.put_along_axis(grad, labels, -1, axis=log_probs_axis)
    return scale_gradient(grad, None, divisor)
