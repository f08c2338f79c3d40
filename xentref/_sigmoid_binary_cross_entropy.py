"""Binary cross-entropy of targets in [0, 1] under the sigmoid of logits."""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._reduction import (
    apply_reduction,
    apply_weight,
    kept,
    scale_gradient,
    selected_divisor,
)
from xentref._sigmoid import sigmoid_unchecked, softplus_unchecked
from xentref._typing import ArrayLike, Reduction, Result


def _checked(logits, targets, pos_weight, weight, reduction, where):
    logits = check.values(logits, "logits")
    check.reduction(reduction)
    keep = check.where(where, logits.shape, "elements")
    targets = check.unit_interval(targets, "targets", like=logits, like_name="logits", keep=keep)
    pos_weight = check.weights(pos_weight, logits, "pos_weight", "logits")
    weight = check.weights(weight, logits, "weight", "logits")
    return logits, targets, pos_weight, kept(keep, weight, logits.dtype), keep


def _coefficients(targets, pos_weight):
    """The weights :math:`w_+ y` and :math:`1 - y` of the two
    log-probabilities.
    """
    if pos_weight is None:
        return targets, 1 - targets
    with np.errstate(under="ignore"):
        # A product below the float range rounds to 0; none can overflow,
        # since y <= 1.
        return pos_weight * targets, 1 - targets


def losses_unchecked(logits, positive, negative):
    """``positive * softplus(-z) + negative * softplus(z)``, elementwise,
    unreduced.
    """
    with np.errstate(over="ignore", under="ignore"):
        # A loss beyond the float range rounds to inf, a tiny product to 0.
        # Where a coefficient is 0 the softplus is taken at a harmless
        # stand-in, so 0 * softplus(+-inf) is 0, not NaN.
        positive_term = positive * softplus_unchecked(
            -np.where(positive > 0, logits, 0)
        )
        negative_term = negative * softplus_unchecked(
            np.where(negative > 0, logits, 0)
        )
        return positive_term + negative_term


def gradients_unchecked(logits, positive, negative):
    """``negative * sigmoid(z) - positive * sigmoid(-z)``: the derivative of
    :func:`losses_unchecked`.
    """
    with np.errstate(under="ignore"):
        # Products with a tiny sigmoid round toward 0, as they should.
        return negative * sigmoid_unchecked(
            logits
        ) - positive * sigmoid_unchecked(-logits)


@fill()
def sigmoid_binary_cross_entropy(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    pos_weight: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
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
        shape (C,) gives one per class along the last axis.
        Finite and non-negative; default 1.
    %(weight_elements)s
    %(reduction_elements)s
    %(where_elements)s

    Returns
    -------
    %(elements_returns)s

    Raises
    ------
    %(float_type_error)s
    ValueError
        If `logits` contains NaN, `targets` (where selected) is NaN,
        outside [0, 1] or of another shape, `where` is of another shape, a
        weight is NaN, negative, infinite or does not broadcast,
        `reduction` is unknown, or the mean of no elements is asked for.

    See Also
    --------
    binary_cross_entropy : the same loss from probabilities.
    log_sigmoid, softplus
    xentref.grad.sigmoid_binary_cross_entropy : its gradient.

    Notes
    -----
    With :math:`w_+` = `pos_weight` and :math:`w` = `weight`,

    .. math::

        \ell(z, y) &= -w \big[\, w_+ y \log\sigma(z)
                      + (1 - y) \log\sigma(-z) \,\big] \\
                   &= w \big[\, w_+ y \operatorname{softplus}(-z)
                      + (1 - y) \operatorname{softplus}(z) \,\big],

    since :math:`1 - \sigma(z) = \sigma(-z)`. Both terms are non-negative
    and :func:`softplus` keeps its digits, so tiny losses keep theirs:
    :math:`z = 30, y = 1` gives :math:`\operatorname{log1p}(e^{-30})
    \approx 9.3576 \times 10^{-14}`; logits up to :math:`\pm 10^{300}` give
    finite losses. A zero coefficient contributes 0 even where the other
    factor is infinite, so :math:`z = +\infty, y = 1` costs 0.

    `pos_weight` scales only the positive term, so with soft targets it is
    not a rescaling of the whole loss. ``"mean"`` divides by the number of
    elements, not by a sum of weights.

    References
    ----------
    .. [1] %(cox)s
    .. [2] %(goodfellow)s, section 6.2.2.2.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> z = np.array([2.0, -1.0])
    >>> print(
    ...     np.round(
    ...         xentref.sigmoid_binary_cross_entropy(
    ...             z, [1, 0], reduction="none"
    ...         ),
    ...         4,
    ...     )
    ... )
    [0.1269 0.3133]

    A confident, correct prediction has a tiny loss that keeps its digits,
    and a huge logit gives a finite loss:

    >>> print(f"{xentref.sigmoid_binary_cross_entropy(30.0, 1.0):.5e}")
    9.35762e-14
    >>> float(xentref.sigmoid_binary_cross_entropy(1e300, 0.0))
    1e+300
    """
    logits, targets, pos_weight, weight, keep = _checked(
        logits, targets, pos_weight, weight, reduction, where
    )
    losses = losses_unchecked(logits, *_coefficients(targets, pos_weight))
    return apply_reduction(apply_weight(losses, weight), reduction, selected_divisor(logits.size, keep, reduction,
                                                                                      "elements"))


@fill(of=sigmoid_binary_cross_entropy)
def sigmoid_binary_cross_entropy_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    pos_weight: ArrayLike | None = None,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to the logits.

    %(gradient_parameters)s

    Returns
    -------
    grad : ndarray
        The shape and dtype of `logits`: the derivative of the reduced loss
        with respect to each logit (of each element's own loss for
        ``"none"``). Finite for every finite or infinite logit.

    %(gradient_raises)s

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
    .. [1] %(bishop)s, section 4.3.2.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(
    ...     grad.sigmoid_binary_cross_entropy(
    ...         [0.0, 0.0], [1, 0], reduction="sum"
    ...     )
    ... )
    [-0.5  0.5]
    >>> print(
    ...     f"{grad.sigmoid_binary_cross_entropy(40.0, 1.0):.4e}"
    ... )  # sigma(40) - 1
    -4.2484e-18
    """
    logits, targets, pos_weight, weight, keep = _checked(
        logits, targets, pos_weight, weight, reduction, where
    )
    divisor = selected_divisor(logits.size, keep, reduction, "elements")
    grad = gradients_unchecked(logits, *_coefficients(targets, pos_weight))
    return scale_gradient(grad, weight, divisor)
