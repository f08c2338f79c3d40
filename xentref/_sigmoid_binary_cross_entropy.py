"""Binary cross-entropy of targets in [0, 1] under the sigmoid of logits."""

import numpy as np

from xentref import _validation as check
from xentref._reduction import apply_reduction, apply_weight, reduction_divisor, scale_gradient
from xentref._sigmoid import _sigmoid, _softplus


def _checked(logits, targets, pos_weight, weight, reduction):
    """Validate the loss's arguments; the others take the dtype of `logits`."""
    logits = check.float_array(logits, "logits")
    check.no_nan(logits, "logits")
    check.reduction_name(reduction)
    targets = check.float_array(targets, "targets")
    check.same_shape(targets, logits.shape, "targets", "logits")
    check.unit_interval(targets, "targets")
    targets = check.in_dtype(targets, logits.dtype)
    if pos_weight is not None:
        pos_weight = check.weights(
            pos_weight, logits.shape, logits.dtype, "pos_weight", "logits"
        )
    if weight is not None:
        weight = check.weights(weight, logits.shape, logits.dtype, "weight", "logits")
    return logits, targets, pos_weight, weight


def _coefficients(targets, pos_weight):
    """The weights :math:`w_+ y` and :math:`1 - y` of the two log-probabilities."""
    if pos_weight is None:
        return targets, 1 - targets
    with np.errstate(under="ignore"):
        # A product below the float range rounds to 0; none can overflow,
        # since y <= 1.
        return pos_weight * targets, 1 - targets


def sigmoid_binary_cross_entropy(
    logits, targets, *, pos_weight=None, weight=None, reduction="mean"
):
    r"""Binary cross-entropy of targets under the sigmoid of logits.

    Parameters
    ----------
    logits : array_like
        Logits :math:`z = \log(p / (1 - p))` of the positive outcome, any
        shape; -inf and +inf (probabilities 0 and 1) are allowed, NaN is not.
    targets : array_like
        Target probabilities in [0, 1] with the shape of `logits`.
    pos_weight : array_like, optional
        A weight on the positive term, broadcast to the shape of `logits`;
        shape (C,) gives one per class along the last axis, as in PyTorch.
        Finite and non-negative; default 1.
    weight : array_like, optional
        A rescaling weight for each element, broadcast to the shape of
        `logits`: finite and non-negative. A zero weight removes an element.
    reduction : {"mean", "sum", "none"}, optional
        ``"none"`` returns one loss per element; ``"sum"`` their sum;
        ``"mean"`` (default) their sum divided by the number of elements.

    Returns
    -------
    loss : ndarray
        A scalar for ``"mean"`` and ``"sum"``, the shape of `logits` for
        ``"none"``, in the dtype of `logits`.

    Raises
    ------
    TypeError
        If an argument is not real-valued float32/float64 data.
    ValueError
        If `logits` contains NaN, `targets` is NaN, outside [0, 1] or of
        another shape, a weight is NaN, negative, infinite or does not
        broadcast, `reduction` is unknown, or the mean of no elements is
        asked for.

    See Also
    --------
    binary_cross_entropy : the same loss from probabilities.
    log_sigmoid, softplus
    xentref.grad.sigmoid_binary_cross_entropy : its gradient.

    Notes
    -----
    With :math:`w_+` = `pos_weight` and :math:`w` = `weight`,

    .. math::

        \ell(z, y) = -w \big[\, w_+ y \log\sigma(z) + (1 - y) \log\sigma(-z) \,\big]
                   = w \big[\, w_+ y \operatorname{softplus}(-z)
                     + (1 - y) \operatorname{softplus}(z) \,\big],

    since :math:`1 - \sigma(z) = \sigma(-z)`. Both terms are non-negative
    and :func:`softplus` keeps its digits, so tiny losses keep theirs:
    :math:`z = 30, y = 1` gives :math:`\operatorname{log1p}(e^{-30})
    \approx 9.3576 \times 10^{-14}`; logits up to :math:`\pm 10^{300}` give
    finite losses. A zero coefficient contributes 0 even where the other
    factor is infinite, so :math:`z = +\infty, y = 1` costs 0.

    These are the semantics of PyTorch's ``binary_cross_entropy_with_logits``
    (and TensorFlow's ``weighted_cross_entropy_with_logits`` for
    `pos_weight`). `pos_weight` scales only the positive term, so with soft
    targets it is not a rescaling of the whole loss. ``"mean"`` divides by
    the number of elements, not by a sum of weights. Optax's function of
    the same name has no weights and returns the unreduced losses; Keras's
    ``BinaryCrossentropy`` also averages over the last axis.

    References
    ----------
    .. [1] D. R. Cox, "The regression analysis of binary sequences", Journal
       of the Royal Statistical Society B 20 (1958), 215-242.
       https://doi.org/10.1111/j.2517-6161.1958.tb00292.x
    .. [2] I. Goodfellow, Y. Bengio and A. Courville, *Deep Learning*, MIT
       Press, 2016, section 6.2.2.2.
    .. [3] PyTorch, ``torch.nn.BCEWithLogitsLoss``.
       https://docs.pytorch.org/docs/stable/generated/torch.nn.BCEWithLogitsLoss.html

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> z = np.array([2.0, -1.0])
    >>> print(np.round(xentref.sigmoid_binary_cross_entropy(z, [1, 0], reduction="none"), 4))
    [0.1269 0.3133]

    A confident, correct prediction has a tiny loss that keeps its digits,
    and a huge logit gives a finite loss:

    >>> print(f"{xentref.sigmoid_binary_cross_entropy(30.0, 1.0):.5e}")
    9.35762e-14
    >>> float(xentref.sigmoid_binary_cross_entropy(1e300, 0.0))
    1e+300
    """
    logits, targets, pos_weight, weight = _checked(logits, targets, pos_weight, weight, reduction)
    positive, negative = _coefficients(targets, pos_weight)
    with np.errstate(over="ignore", under="ignore"):
        # A loss beyond the float range rounds to inf, a tiny product to 0.
        # Where a coefficient is 0 the softplus is taken at a harmless
        # stand-in, so 0 * softplus(+-inf) is 0, not NaN.
        positive_term = positive * _softplus(-np.where(positive > 0, logits, 0))
        negative_term = negative * _softplus(np.where(negative > 0, logits, 0))
        losses = positive_term + negative_term
    return apply_reduction(apply_weight(losses, weight), reduction)


def sigmoid_binary_cross_entropy_grad(
    logits, targets, *, pos_weight=None, weight=None, reduction="mean"
):
    r"""Gradient of :func:`xentref.sigmoid_binary_cross_entropy` with respect to the logits.

    Parameters
    ----------
    logits, targets, pos_weight, weight, reduction
        As for :func:`xentref.sigmoid_binary_cross_entropy`, with the same
        checks.

    Returns
    -------
    grad : ndarray
        The shape and dtype of `logits`: the derivative of the reduced loss
        with respect to each logit (of each element's own loss for
        ``"none"``). Finite for every finite or infinite logit.

    Raises
    ------
    TypeError, ValueError
        As :func:`xentref.sigmoid_binary_cross_entropy`.

    See Also
    --------
    xentref.sigmoid_binary_cross_entropy
    xentref.grad.binary_cross_entropy

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial z}
              = w \big[ (1 + (w_+ - 1) y) \sigma(z) - w_+ y \big]
              = w \big[ (1 - y) \sigma(z) - w_+ y \, \sigma(-z) \big]

    divided by the number of elements for ``"mean"``; with
    :math:`w = w_+ = 1` it is :math:`\sigma(z) - y`. The second form is the
    one computed: for a hard target one term vanishes and the other is a
    product of accurate factors, so :math:`\sigma(z) - 1` at
    :math:`z = 40` comes out as :math:`-\sigma(-40) \approx -4.248 \times
    10^{-18}` rather than 0.

    References
    ----------
    .. [1] C. M. Bishop, *Pattern Recognition and Machine Learning*,
       Springer, 2006, section 4.3.2.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(grad.sigmoid_binary_cross_entropy([0.0, 0.0], [1, 0], reduction="sum"))
    [-0.5  0.5]
    >>> print(f"{grad.sigmoid_binary_cross_entropy(40.0, 1.0):.4e}")  # sigma(40) - 1
    -4.2484e-18
    """
    logits, targets, pos_weight, weight = _checked(logits, targets, pos_weight, weight, reduction)
    divisor = reduction_divisor(logits.size, reduction)
    positive, negative = _coefficients(targets, pos_weight)
    with np.errstate(under="ignore"):
        # Products with a tiny sigmoid round toward 0, as they should.
        grad = negative * _sigmoid(logits) - positive * _sigmoid(-logits)
    return scale_gradient(grad, weight, divisor)
