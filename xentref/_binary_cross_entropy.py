"""Binary cross-entropy of targets in [0, 1] under predicted probabilities."""

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
from xentref._typing import ArrayLike, Reduction, Result


def _checked(probs, targets, weight, reduction, where):
    probs = check.unit_interval(probs, "probs")
    check.reduction(reduction)
    keep = check.where(where, probs.shape, "elements")
    targets = check.unit_interval(targets, "targets", like=probs, like_name="probs", keep=keep)
    weight = check.weights(weight, probs, "weight", "probs")
    return probs, targets, kept(keep, weight, probs.dtype), keep


@fill()
def binary_cross_entropy(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Binary cross-entropy of targets under predicted probabilities.

    Parameters
    ----------
    probs : array_like
        Predicted probabilities of the positive outcome, in [0, 1], any
        shape. There is no class axis: each element is its own loss.
    targets : array_like
        Target probabilities in [0, 1] with the shape of `probs`: 0 or 1 for
        hard labels, anything between for soft ones.
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
        If `probs` or `targets` (where selected) is NaN or outside [0, 1],
        their shapes or that of `where` differ, `weight` is NaN, negative,
        infinite or does not broadcast, `reduction` is unknown, or the mean
        of no elements is asked for.

    See Also
    --------
    sigmoid_binary_cross_entropy : the same loss from logits, more accurate
        near 0 and 1.
    cross_entropy : the loss for more than two classes.
    xentref.grad.binary_cross_entropy : its gradient.

    Notes
    -----
    .. math:: \ell(p, y) = -w \big[\, y \log p + (1 - y) \log(1 - p) \,\big]

    with :math:`\log(1 - p)` computed as :math:`\operatorname{log1p}(-p)`
    and the convention :math:`0 \log 0 = 0`: ``p = y = 1`` and ``p = y = 0``
    both cost exactly 0, and a target on a prediction of exactly 0 or 1 that
    denies it costs :math:`+\infty`. Nothing is clipped.

    ``"mean"`` divides by the number of elements, not by the sum of the
    weights. A probability carries no digits beyond its rounding,
    so a loss near 0 or 1 is only as accurate as `probs`: use
    :func:`sigmoid_binary_cross_entropy` when logits are available.

    References
    ----------
    .. [1] %(cox)s
    .. [2] %(goodfellow)s, section 6.2.2.2.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> loss = xentref.binary_cross_entropy(
    ...     [0.9, 0.2], [1, 0], reduction="none"
    ... )
    >>> print(np.round(loss, 4))  # -log 0.9, -log 0.8
    [0.1054 0.2231]

    A certain, correct prediction costs nothing; a certain, wrong one costs
    infinitely much:

    >>> print(
    ...     xentref.binary_cross_entropy(
    ...         [1.0, 0.0, 0.0], [1, 0, 1], reduction="none"
    ...     )
    ... )
    [ 0.  0. inf]
    """
    probs, targets, weight, keep = _checked(probs, targets, weight, reduction, where)
    with np.errstate(divide="ignore", under="ignore"):
        # log(0) = -inf is the intended value where a positive target meets
        # p = 0 (or 1 - y > 0 meets p = 1); a product with a subnormal
        # target may round to 0. Where a coefficient is 0 the log is taken
        # of a harmless stand-in, so 0 * log 0 is 0, not NaN.
        positive = targets * np.log(np.where(targets > 0, probs, 1))
        negative = (1 - targets) * np.log1p(-np.where(targets < 1, probs, 0))
    # Adding 0.0 turns a -0.0 loss into +0.0 and changes nothing else.
    losses = -(positive + negative) + 0.0
    return apply_reduction(apply_weight(losses, weight), reduction, selected_divisor(probs.size, keep, reduction,
                                                                                     "elements"))


@fill(of=binary_cross_entropy)
def binary_cross_entropy_grad(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to `probs`.

    %(gradient_parameters)s

    Returns
    -------
    grad : ndarray
        The shape and dtype of `probs`: the derivative of the reduced loss
        with respect to each probability (of each element's own loss for
        ``"none"``).

    %(gradient_raises)s

    See Also
    --------
    xentref.binary_cross_entropy
    xentref.grad.sigmoid_binary_cross_entropy : the gradient with respect to
        logits, finite everywhere.

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial p}
              = -w \left[\frac{y}{p} - \frac{1 - y}{1 - p}\right]
              = w \, \frac{p - y}{p (1 - p)}

    divided by the number of elements for ``"mean"``. The second form is
    used for soft targets (:math:`p - y` is exact when :math:`p \approx y`,
    so a small gradient keeps its digits); hard targets use
    :math:`-w / p` for :math:`y = 1` and :math:`w / (1 - p)` for
    :math:`y = 0`. At the edges:

    - :math:`-\infty` where :math:`p = 0 < y` and :math:`+\infty` where
      :math:`p = 1 > y`, the points where the loss is infinite;
    - :math:`w` at :math:`p = y = 0` and :math:`-w` at :math:`p = y = 1`,
      the one-sided derivatives of :math:`-\log(1 - p)` and
      :math:`-\log p` there (the other term is identically 0);
    - 0 where the weight is 0.

    References
    ----------
    .. [1] %(bishop)s, section 4.3.2.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> g = grad.binary_cross_entropy(
    ...     [0.8, 0.0, 0.0], [1, 0, 1], reduction="sum"
    ... )
    >>> print(np.round(g, 4))  # -1/0.8, then 1/(1 - 0) and -1/0
    [-1.25  1.    -inf]
    """
    probs, targets, weight, keep = _checked(probs, targets, weight, reduction, where)
    divisor = selected_divisor(probs.size, keep, reduction, "elements")
    one, zero = targets == 1, targets == 0
    soft_probs = np.where(one | zero, 0.5, probs)
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        # Division by p = 0 or by 1 - p = 0 gives the intended infinities,
        # and a quotient beyond the float range rounds to them.
        soft = (soft_probs - targets) / (soft_probs * (1 - soft_probs))
        hard_one = -1 / np.where(one, probs, 1)
        hard_zero = 1 / (1 - np.where(zero, probs, 0))
    grad = np.where(one, hard_one, np.where(zero, hard_zero, soft))
    return scale_gradient(grad, weight, divisor)
