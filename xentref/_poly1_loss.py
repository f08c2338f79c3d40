r"""Poly-1 loss (Leng et al. 2022): cross-entropy plus :math:`\epsilon (1 - p_t)`.

Cross-entropy is :math:`\sum_{j \ge 1} (1 - p_t)^j / j`; Poly-1 changes the
coefficient of the first term from 1 to :math:`1 + \epsilon`. The term
:math:`1 - p_t` is formed without subtracting :math:`p_t` from 1.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref import _error_free as ef
from xentref._coefficient_rows import CoefficientProblem, coefficient_sum, times, weighted_cross_entropy
from xentref._docs import fill
from xentref._focal_loss import _wrong, dropped_rows
from xentref._half import round_to
from xentref._reduction import (
    apply_reduction,
    kept,
    scale_gradient,
    selected_divisor,
)
from xentref._sigmoid_binary_cross_entropy import (
    gradients_unchecked,
    losses_unchecked,
)
from xentref._typing import ArrayLike, Reduction, Result

# Leng et al. require every coefficient of (1 - p_t)^j to be non-negative;
# the first is 1 + epsilon.
EPSILON = "[-1, inf)"


class Poly1Problem(CoefficientProblem):
    """The softmax Poly-1 loss in the blocked kernel (:mod:`xentref._coefficient_rows`)."""

    def __init__(self, logits, axis, probabilities, labels, keep, epsilon):
        super().__init__(logits, axis, probabilities, labels, keep)
        self.epsilon = epsilon
        self.accurate = epsilon != 0

    def _plus_epsilon_times(self, pair, wrong):
        return ef.add(pair, ef.multiply_wide((self.epsilon, 0.0), wrong))

    def label_losses(self, parts, labels):
        with np.errstate(invalid="ignore"):
            # An infinite surprisal makes NaN in the low part; the loss is +inf.
            return self._plus_epsilon_times(parts.surprisal, parts.wrong)

    def target_losses(self, z, t, total):
        # The cross-entropy, and sum_k t_k (1 - p_k): non-negative terms each.
        value, wrong = weighted_cross_entropy(
            self, z, lambda parts, first, last: (t[:, first:last], np.zeros((len(t), last - first))),
            extra=lambda parts, first, last: coefficient_sum(times(parts.wrong, t[:, first:last])),
        )
        with np.errstate(invalid="ignore"):
            # As for labels.
            return self._plus_epsilon_times(value, wrong)

    def coefficients(self, parts):
        r""":math:`1 + \epsilon p`, or :math:`(1 + \epsilon) + |\epsilon| (1 - p)` for negative epsilon.

        Either way the terms have one sign.
        """
        if self.epsilon >= 0:
            return ef.add((1.0, 0.0), ef.multiply_wide((self.epsilon, 0.0), parts.probability))
        return ef.add(ef.two_sum(1.0, self.epsilon), ef.multiply_wide((-self.epsilon, 0.0), parts.wrong))


def _checked_softmax(logits, targets, epsilon, axis, reduction, where):
    logits, axis = check.logits(logits, axis)
    check.reduction(reduction)
    probabilities, labels, keep = check.selected_targets_checked(targets, logits, axis, where)
    epsilon = check.number(epsilon, "epsilon", EPSILON)
    return logits, axis, probabilities, labels, epsilon, keep


@fill()
def softmax_poly1_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Poly-1 loss of targets under the softmax of logits.

    Parameters
    ----------
    %(logits)s
    %(targets)s
    epsilon : float
        The change :math:`\epsilon \ge -1` to the coefficient of
        :math:`1 - p_t`; 0 gives :func:`softmax_cross_entropy` exactly.
        Leng et al. report :math:`\epsilon = 2` for ImageNet classification
        and :math:`-1` for COCO detection; Optax's default is 2.
    %(axis)s
    %(reduction)s
    %(where_examples)s

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    %(type_error)s
    ValueError
        If `logits` contains NaN or +inf or an all -inf slice, the targets
        are neither labels in range nor distributions of the right shape,
        `epsilon` is below -1, infinite or NaN, `reduction` is unknown, or
        the mean of an empty batch is asked for.

    See Also
    --------
    softmax_cross_entropy : the loss with :math:`\epsilon = 0`.
    sigmoid_poly1_loss : the binary version.
    xentref.grad.softmax_poly1_loss : its gradient.

    Notes
    -----
    With :math:`p = \operatorname{softmax}(z)`,

    .. math::

        \ell(z, t) = -\sum_k t_k \log p_k + \epsilon \sum_k t_k (1 - p_k),

        \ell(z, y) = -\log p_y + \epsilon (1 - p_y),

    Optax's ``poly_loss_cross_entropy``. Since :math:`-\log p = \sum_{j \ge 1}
    (1 - p)^j / j`, the loss is a series in :math:`1 - p_t` whose first
    coefficient is :math:`1 + \epsilon`; Leng et al. keep every coefficient
    non-negative, so :math:`\epsilon < -1` is refused (the loss would be
    negative for confident predictions). :math:`1 - p_k` is formed from the
    exact gaps to the largest logit, never as a difference with 1, so it
    keeps all its digits. Accuracy, float64: within 1 ulp of the exact value
    for labels and 2 for probability targets when :math:`\epsilon \ge 0`,
    and within as many ulps of
    :math:`-\sum_k t_k \log p_k + |\epsilon| \sum_k t_k (1 - p_k)` for
    :math:`\epsilon < 0`, where the two sums cancel; :math:`\epsilon = 0`
    is :func:`softmax_cross_entropy` bit for bit, within its 4 ulps.

    References
    ----------
    .. [1] %(leng)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> z = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> poly = xentref.softmax_poly1_loss(z, [0, 0], epsilon=0, reduction="none")
    >>> bool(np.all(poly == xentref.softmax_cross_entropy(z, [0, 0], reduction="none")))
    True

    With :math:`\epsilon = 2` the loss grows by :math:`2 (1 - p_y)`:

    >>> extra = xentref.softmax_poly1_loss(z, [0, 0], epsilon=2, reduction="none") - poly
    >>> print(np.round(extra / 2, 4), np.round(1 - xentref.softmax(z)[:, 0], 4))
    [0.1562 0.7881] [0.1562 0.7881]
    """
    logits, axis, probabilities, labels, epsilon, keep = _checked_softmax(
        logits, targets, epsilon, axis, reduction, where
    )
    problem = Poly1Problem(logits, axis, probabilities, labels, keep, epsilon)
    return apply_reduction(problem.losses(), reduction, selected_divisor(problem.n_rows, keep, reduction))


@fill(of=softmax_poly1_loss)
def softmax_poly1_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
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
    xentref.softmax_poly1_loss
    xentref.grad.softmax_cross_entropy : the gradient for :math:`\epsilon = 0`.

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial z_j} = p_j \sum_k g_k - g_j,
              \qquad g_k = t_k (1 + \epsilon p_k) \ge 0,

    the cross-entropy's gradient with :math:`t` replaced by :math:`g`; for a
    label :math:`y` it is :math:`(1 + \epsilon p_y)(\operatorname{softmax}(z)
    - \operatorname{onehot}(y))`. Divided by the number of examples for
    ``"mean"``. Accuracy, float64 (from exponentials accurate to
    :math:`2^{-58}`): each entry within 1 ulp of itself for labels, and
    within 2.13 ulps of :math:`p_j \sum_k g_k + g_j` for probability
    targets, which is at most :math:`(1 + |\epsilon|)(p_j + t_j)`, the
    scale the tests measure in: the entry itself may cancel to nothing.

    References
    ----------
    .. [1] %(leng)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> from xentref import grad
    >>> z = np.array([[2.0, 0.0, -1.0]])
    >>> g = grad.softmax_poly1_loss(z, [0], epsilon=2)
    >>> g0 = grad.softmax_cross_entropy(z, [0])
    >>> print(np.round(g / g0, 4), np.round(1 + 2 * xentref.softmax(z)[:, 0], 4))
    [[2.6876 2.6876 2.6876]] [2.6876]
    """
    logits, axis, probabilities, labels, epsilon, keep = _checked_softmax(logits, targets, epsilon, axis, reduction,
                                                                          where)
    problem = Poly1Problem(logits, axis, probabilities, labels, keep, epsilon)
    return problem.gradient(selected_divisor(problem.n_rows, keep, reduction))


def _checked_sigmoid(logits, targets, epsilon, reduction, where):
    logits = check.values(logits, "logits")
    check.reduction(reduction)
    keep = check.where(where, logits.shape, "elements")
    targets = check.unit_interval(targets, "targets", like=logits, like_name="logits", keep=keep)
    epsilon = check.number(epsilon, "epsilon", EPSILON)
    return logits, targets, epsilon, keep


@fill()
def sigmoid_poly1_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Poly-1 loss of binary targets under the sigmoid of logits.

    Parameters
    ----------
    %(binary_logits)s
    %(binary_targets)s
    epsilon : float
        The change :math:`\epsilon \ge -1` to the coefficient of
        :math:`1 - p_t`; 0 gives :func:`sigmoid_binary_cross_entropy`
        exactly.
    %(reduction_elements)s
    %(where_elements)s

    Returns
    -------
    loss : ndarray
        A scalar for ``"mean"`` and ``"sum"``, the shape of `logits` for
        ``"none"``, in the dtype of `logits`.

    Raises
    ------
    TypeError
        If `logits` or `targets` is not real-valued float32/float64 data,
        or `epsilon` is not a real number.
    ValueError
        If `logits` contains NaN, `targets` is NaN, outside [0, 1] or of
        another shape, `epsilon` is below -1, infinite or NaN, `reduction`
        is unknown, or the mean of no elements is asked for.

    See Also
    --------
    sigmoid_binary_cross_entropy : the loss with :math:`\epsilon = 0`.
    softmax_poly1_loss : the multi-class version.
    xentref.grad.sigmoid_poly1_loss : its gradient.

    Notes
    -----
    With :math:`p_t = y \sigma(z) + (1 - y) \sigma(-z)`,

    .. math::

        \ell(z, y) = y \operatorname{softplus}(-z) + (1 - y) \operatorname{softplus}(z)
            + \epsilon (1 - p_t),

    Leng et al.'s Poly-1 for binary and multi-label classification, with
    :math:`1 - p_t = (1 - y) \sigma(z) + y \sigma(-z)` formed from terms of
    one sign. None of PyTorch, Keras or Optax has this loss.

    References
    ----------
    .. [1] %(leng)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> z, y = np.array([2.0, -1.0]), np.array([1.0, 1.0])
    >>> poly = xentref.sigmoid_poly1_loss(z, y, epsilon=1, reduction="none")
    >>> print(np.round(poly - xentref.sigmoid_binary_cross_entropy(z, y, reduction="none"), 4))
    [0.1192 0.7311]
    """
    logits, targets, epsilon, keep = _checked_sigmoid(logits, targets, epsilon, reduction, where)
    cross_entropy = losses_unchecked(logits, targets, 1 - targets)
    with np.errstate(over="ignore"):
        # A huge loss plus a term of at most epsilon may round to inf.
        losses = cross_entropy + epsilon * _wrong(logits, targets)
    divisor = selected_divisor(logits.size, keep, reduction, "elements")
    return apply_reduction(dropped_rows(losses, keep), reduction, divisor)


def _sigmoid_pairs(logits):
    r""":math:`\sigma(z)` and :math:`\sigma(-z)` as pairs within :math:`2^{-57}`, from :math:`e = e^{-|z|}`.

    :math:`1/(1 + e)` and :math:`e/(1 + e)`, with the exponential of
    :func:`xentref._error_free.exp` and pair arithmetic: quotients of
    positive terms, 0 and 1 at infinite logits.
    """
    with np.errstate(under="ignore"):
        # e below the float range is 0, and so are its quotients.
        e = ef.exp((-np.abs(logits), np.zeros_like(logits)))
        whole = ef.add((1.0, 0.0), e)
        near_one, small = ef.divide((1.0, 0.0), whole), ef.divide_wide(e, whole)
    positive = logits >= 0
    a = tuple(np.where(positive, one, tiny) for one, tiny in zip(near_one, small))
    b = tuple(np.where(positive, tiny, one) for one, tiny in zip(near_one, small))
    return a, b


def _poly1_sigmoid_slope(logits, targets, epsilon):
    r"""The unreduced gradient :math:`(1 - y)\, a (1 + \epsilon b) - y\, b (1 + \epsilon a)` as a pair.

    Here :math:`a = \sigma(z)` and :math:`b = \sigma(-z)`, and the two
    products are non-negative: for :math:`\epsilon < 0`,
    :math:`1 + \epsilon b = (1 + \epsilon) + |\epsilon| a` since
    :math:`a + b = 1`, a sum of terms of one sign.
    """
    logits, targets = (np.asarray(x, dtype=np.float64) for x in (logits, targets))
    a, b = _sigmoid_pairs(logits)

    def plus_epsilon(other, own):
        # 1 + epsilon * other, where other = 1 - own.
        if epsilon >= 0:
            return ef.add((1.0, 0.0), ef.multiply((epsilon, 0.0), other))
        return ef.add(ef.two_sum(1.0, epsilon), ef.multiply((-epsilon, 0.0), own))

    with np.errstate(under="ignore"):
        # Products of tiny sigmoids round toward 0.
        negative = ef.two_sum(1.0, -targets)
        first = ef.multiply_wide(ef.multiply_wide(negative, a), plus_epsilon(b, a))
        second = ef.multiply_wide(ef.multiply_wide((targets, np.zeros_like(targets)), b), plus_epsilon(a, b))
    return ef.add(first, (-second[0], -second[1]))


@fill(of=sigmoid_poly1_loss)
def sigmoid_poly1_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    epsilon: float,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to the logits.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray
        The shape and dtype of `logits`: the derivative of the reduced loss
        with respect to each logit (of each element's own loss for
        ``"none"``). Finite for every finite or infinite logit.

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.sigmoid_poly1_loss
    xentref.grad.sigmoid_binary_cross_entropy : the gradient for :math:`\epsilon = 0`.

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial z} = \sigma(z) - y
              + \epsilon (1 - 2y) \sigma(z) \sigma(-z),

    divided by the number of elements for ``"mean"``. It is formed as
    :math:`(1 - y) \sigma(z) (1 + \epsilon \sigma(-z)) - y \sigma(-z)
    (1 + \epsilon \sigma(z))`, two products of one sign for
    :math:`\epsilon \ge -1` (for a hard target, one of them), from
    sigmoids within :math:`2^{-58}` in pairs of floats, and rounded once:
    each product is within :math:`u/16` of itself, and their sum is at most
    :math:`1 + \max(\epsilon, 0)/2` times the size of the formula's terms,
    :math:`S = (1 - y) \sigma(z) + y \sigma(-z) + \epsilon |1 - 2y| \sigma(z)
    \sigma(-z)`. So the gradient is within :math:`1 + (2 + \max(\epsilon,
    0))/32` ulps of :math:`S` (1.125 at :math:`\epsilon = 2`), in float64 and
    float32 alike. :math:`\epsilon = 0` is the cross-entropy's gradient bit
    for bit.

    References
    ----------
    .. [1] %(leng)s

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(grad.sigmoid_poly1_loss([0.0, 0.0], [1.0, 0.0], epsilon=2, reduction="sum"))
    [-1.  1.]
    """
    logits, targets, epsilon, keep = _checked_sigmoid(logits, targets, epsilon, reduction, where)
    divisor = selected_divisor(logits.size, keep, reduction, "elements")
    if epsilon == 0:
        # The cross-entropy's gradient, bit for bit.
        return scale_gradient(gradients_unchecked(logits, targets, 1 - targets), kept(keep, None, logits.dtype),
                              divisor)
    with np.errstate(under="ignore"):
        # A gradient below the normal range rounds to a subnormal or 0.
        slope = ef.rounded(ef.divide_by_float(_poly1_sigmoid_slope(logits, targets, epsilon), divisor))
    return scale_gradient(round_to(slope, logits.dtype), kept(keep, None, logits.dtype), 1)
