"""Cross-entropy between targets and the softmax of logits."""

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._logsumexp import neg_log_softmax, shift
from xentref._reduction import apply_reduction, reduction_divisor, scale_gradient


def _checked(logits, targets, axis, reduction):
    logits, axis = check.logits(logits, axis)
    check.reduction(reduction)
    probabilities, labels = check.targets(targets, logits, axis)
    return logits, axis, probabilities, labels


def losses_unchecked(logits, axis, probabilities, labels):
    """Each example's loss, for checked logits and targets as :func:`check.targets` returns them."""
    losses_per_class = neg_log_softmax(logits, axis)
    if labels is None:
        with np.errstate(under="ignore"):
            # A zero target contributes 0, even against a -inf logit; a
            # product with a subnormal target rounds toward 0, as it should.
            terms = probabilities * np.where(probabilities > 0, losses_per_class, 0)
        return np.sum(terms, axis=axis)
    return np.squeeze(np.take_along_axis(losses_per_class, labels, axis=axis), axis=axis)


def gradient_unchecked(logits, axis, targets, labels):
    """The gradient of each example's loss, for checked logits and targets."""
    if labels is not None:
        targets = np.zeros_like(logits)
        np.put_along_axis(targets, labels, 1, axis=axis)
    top = np.argmax(logits, axis=axis, keepdims=True)
    _, exps, rest = shift(logits, axis)
    total = np.sum(targets, axis=axis, keepdims=True)
    others = targets.copy()
    np.put_along_axis(others, top, 0, axis=axis)
    others = np.sum(others, axis=axis, keepdims=True)
    at_top = np.take_along_axis(targets, top, axis=axis)
    with np.errstate(under="ignore"):
        # Softmax entries, and their products with targets, below the normal
        # range round toward 0, as they should.
        grad = exps / (1 + rest) * total - targets
        # softmax_m T - t_m, with the difference taken before dividing.
        np.put_along_axis(grad, top, (others - at_top * rest) / (1 + rest), axis=axis)
    return grad


@fill()
def softmax_cross_entropy(logits, targets, *, axis=-1, reduction="mean"):
    r"""Cross-entropy loss of targets under the softmax of logits.

    Parameters
    ----------
    %(logits)s
    targets : array_like, shape (...) or (..., K)
        Either integer class labels in [0, K), with the shape of `logits`
        without the class axis, or probability vectors with the shape of
        `logits` (entries in [0, 1], each vector summing to 1 along `axis`
        within the square root of machine epsilon), used in the dtype of
        `logits`.
    %(axis)s
    %(reduction)s

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    %(type_error)s
    ValueError
        If `logits` contains NaN or +inf or an all -inf slice, the class axis
        is empty, a label is out of range, probability targets are not
        distributions, the shapes do not fit, `reduction` is unknown, or the
        mean of an empty batch is asked for.

    See Also
    --------
    cross_entropy : the same quantity from probabilities.
    log_softmax

    Notes
    -----
    For a label :math:`y` and for probability targets :math:`t`,

    .. math::

        \ell(z, y) = \operatorname{logsumexp}(z) - z_y, \qquad
        \ell(z, t) = -\sum_k t_k \log \operatorname{softmax}(z)_k,

    computed from the shifted form of :func:`log_softmax`. Tiny losses keep
    their relative precision: logits ``[30, 0]`` with label 0 give
    :math:`\operatorname{log1p}(e^{-30}) \approx 9.35762 \times 10^{-14}`.
    Logits as large as :math:`\pm 10^{300}` give finite losses. A target of
    exactly 0 contributes 0 even where the logit is -inf; a positive target
    on a -inf logit gives :math:`+\infty`. Integer labels and the equivalent
    one-hot targets give identical results.

    References
    ----------
    .. [1] %(goodfellow)s, section 6.2.2.3.
    .. [2] %(bhh)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> logits = np.log([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]])
    >>> print(np.round(xentref.softmax_cross_entropy(logits, [0, 0],
    ...                                              reduction="none"), 4))
    [0.3567 1.6094]

    A confident, correct prediction has a tiny loss that keeps its digits:

    >>> float(xentref.softmax_cross_entropy([30.0, 0.0], 0))
    9.357622968839737e-14
    """
    logits, axis, probabilities, labels = _checked(logits, targets, axis, reduction)
    return apply_reduction(losses_unchecked(logits, axis, probabilities, labels), reduction)


@fill(of=softmax_cross_entropy)
def softmax_cross_entropy_grad(logits, targets, *, axis=-1, reduction="mean"):
    r"""Gradient of %(loss)s with respect to `logits`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray, shape (..., K)
        The shape and dtype of `logits`: the derivative of the reduced loss
        with respect to each logit (of each example's own loss for
        ``"none"``). Finite for all valid logits.

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.softmax_cross_entropy
    xentref.grad.nll_loss : the gradient with respect to log-probabilities.

    Notes
    -----
    With :math:`\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}`,

    .. math:: \frac{\partial \ell}{\partial z_k}
              = \operatorname{softmax}(z)_k \sum_j t_j - t_k,

    which for a label :math:`y` (or a one-hot target) is
    :math:`\operatorname{softmax}(z) - \operatorname{onehot}(y)`; divided by
    the number of examples for ``"mean"``. At the largest logit, index
    :math:`m`, the softmax is :math:`1/(1 + s)` with
    :math:`s = \sum_{j \ne m} e^{z_j - z_m}`, within rounding of 1 when the
    prediction is confident, so that entry is formed as

    .. math:: \frac{\sum_{j \ne m} t_j - t_m s}{1 + s},

    which for a label at :math:`m` is :math:`-s/(1 + s)`, minus the sum of
    the other probabilities, with all its digits. A -inf logit has softmax
    0, so its entry is :math:`-t_k`. Labels and the equivalent one-hot
    targets give identical gradients.

    References
    ----------
    .. [1] %(goodfellow)s, section 6.2.2.3.
    .. [2] %(bishop)s, section 4.3.4.
    .. [3] %(bhh)s

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> g = grad.softmax_cross_entropy(np.log([[0.7, 0.2, 0.1]]), [0])
    >>> print(np.round(g, 4))  # softmax - onehot
    [[-0.3  0.2  0.1]]

    A confident, correct prediction has a tiny gradient that keeps its digits:

    >>> g = grad.softmax_cross_entropy([40.0, 0.0], 0)
    >>> print(f"{g[0]:.4e} {g[1]:.4e}")
    -4.2484e-18 4.2484e-18
    """
    logits, axis, targets, labels = _checked(logits, targets, axis, reduction)
    divisor = reduction_divisor(logits.size // logits.shape[axis], reduction)
    return scale_gradient(gradient_unchecked(logits, axis, targets, labels), None, divisor)
