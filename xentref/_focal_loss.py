r"""Focal loss (Lin et al. 2017): cross-entropy scaled by :math:`(1 - p_t)^\gamma`.

The modulating factor is the small probability of being wrong raised to a
power, so :math:`1 - p_t` is never formed by subtracting :math:`p_t` from 1,
which would round a confident prediction's tiny :math:`1 - p_t` to 0.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref import _error_free as ef
from xentref._coefficient_rows import CoefficientProblem, power, weighted_cross_entropy
from xentref._docs import fill
from xentref._reduction import (
    apply_reduction,
    apply_weight,
    kept,
    scale_gradient,
    selected_divisor,
)
from xentref._sigmoid import sigmoid_unchecked
from xentref._sigmoid_binary_cross_entropy import (
    gradients_unchecked,
    losses_unchecked,
)
from xentref._typing import ArrayLike, Reduction, Result


def _checked_sigmoid(logits, targets, gamma, alpha, reduction, where):
    logits = check.values(logits, "logits")
    check.reduction(reduction)
    keep = check.where(where, logits.shape, "elements")
    targets = check.unit_interval(targets, "targets", like=logits, like_name="logits", keep=keep)
    gamma = check.number(gamma, "gamma", "[0, inf)")
    alpha = None if alpha is None else check.number(alpha, "alpha", "[0, 1]")
    return logits, targets, gamma, alpha, keep


def _wrong(logits, targets):
    r""":math:`1 - p_t = (1 - y) \sigma(z) + y \sigma(-z)`: a sum of non-negative terms.

    For a hard target it is one sigmoid, exactly as :func:`sigmoid` forms it.
    """
    with np.errstate(under="ignore"):
        # A product with a tiny sigmoid rounds toward 0, as it should.
        return (1 - targets) * sigmoid_unchecked(logits) + targets * sigmoid_unchecked(-logits)


def _alpha_t(alpha, targets):
    """Lin et al.'s balance: alpha on the positive class, 1 - alpha on the negative."""
    if alpha is None:
        return None
    with np.errstate(under="ignore"):
        # A product with a tiny target rounds toward 0.
        return alpha * targets + (1 - alpha) * (1 - targets)


@fill()
def sigmoid_focal_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Focal loss of binary targets under the sigmoid of logits.

    Parameters
    ----------
    %(binary_logits)s
    %(binary_targets)s
    gamma : float, optional
        The focusing exponent :math:`\gamma \ge 0`. Default 2, as in Lin et
        al.; 0 gives :func:`sigmoid_binary_cross_entropy` exactly.
    alpha : float or None, optional
        The class balance :math:`\alpha \in [0, 1]`: the positive term is
        weighted by :math:`\alpha`, the negative one by :math:`1 - \alpha`.
        Default None: no weighting.
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
        If `logits` or `targets` is not real-valued float32/float64 data, or
        `gamma` or `alpha` is not a real number.
    ValueError
        If `logits` contains NaN, `targets` is NaN, outside [0, 1] or of
        another shape, `gamma` is negative, infinite or NaN, `alpha` is
        outside [0, 1], `reduction` is unknown, or the mean of no elements
        is asked for.

    See Also
    --------
    sigmoid_binary_cross_entropy : the loss with :math:`\gamma = 0`.
    softmax_focal_loss : the multi-class version.
    xentref.grad.sigmoid_focal_loss : its gradient.

    Notes
    -----
    With :math:`p = \sigma(z)`, :math:`p_t = y p + (1 - y)(1 - p)` and
    :math:`\alpha_t = \alpha y + (1 - \alpha)(1 - y)`,

    .. math::

        \ell(z, y) = \alpha_t (1 - p_t)^\gamma \,
            \big[ y \operatorname{softplus}(-z) + (1 - y) \operatorname{softplus}(z) \big],

    the binary cross-entropy scaled down where the prediction is already
    good. This is the definition of torchvision's ``sigmoid_focal_loss`` and
    Optax's, soft targets included. :math:`1 - p_t` is computed as
    :math:`(1 - y) \sigma(z) + y \sigma(-z)`, terms that are never of
    opposite sign: for a hard target it is :math:`\sigma(\mp z)` with all
    its digits, so a confident, correct prediction's tiny loss keeps them.

    The defaults differ between libraries: torchvision uses
    :math:`\alpha = 0.25` and ``reduction="none"``, Optax no :math:`\alpha`
    and no reduction, Keras's ``BinaryFocalCrossentropy`` applies its
    :math:`\alpha` only with ``apply_class_balancing=True``. Lin et al.
    pair :math:`\alpha = 0.25` with :math:`\gamma = 2` for dense detection;
    here no :math:`\alpha` is applied unless it is given, so that
    :math:`\gamma = 0` is the cross-entropy. ``"mean"`` divides by the
    number of elements.

    References
    ----------
    .. [1] %(lin)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> z, y = np.array([3.0, -1.0, 0.5]), np.array([1.0, 1.0, 0.0])
    >>> focal = xentref.sigmoid_focal_loss(z, y, gamma=0, reduction="none")
    >>> bool(np.all(focal == xentref.sigmoid_binary_cross_entropy(z, y, reduction="none")))
    True

    An easy example (z = 3, y = 1) loses far more of its weight than a hard
    one (z = -1, y = 1):

    >>> ratio = xentref.sigmoid_focal_loss(z, y, reduction="none") / focal
    >>> print(np.round(ratio, 4))  # (1 - p_t)^2
    [0.0022 0.5344 0.3875]

    A confident, correct prediction's tiny loss keeps its digits,
    :math:`\sigma(-30)^2 \log(1 + e^{-30})`:

    >>> print(f"{xentref.sigmoid_focal_loss(30.0, 1.0):.6e}")
    8.194013e-40
    """
    logits, targets, gamma, alpha, keep = _checked_sigmoid(logits, targets, gamma, alpha, reduction, where)
    cross_entropy = losses_unchecked(logits, targets, 1 - targets)
    with np.errstate(under="ignore"):
        # A tiny (1 - p_t)^gamma, or its product with the loss, rounds
        # toward 0; 1 - p_t <= 1, so nothing overflows.
        losses = _wrong(logits, targets) ** gamma * cross_entropy
    divisor = selected_divisor(logits.size, keep, reduction, "elements")
    return apply_reduction(apply_weight(losses, kept(keep, _alpha_t(alpha, targets), logits.dtype)), reduction, divisor)


def _sigmoid_ratio(logits, targets):
    r""":math:`\sigma(z) \sigma(-z) / (1 - p_t)`, the derivative of :math:`\log(1 - p_t)` over :math:`1 - 2y`.

    With :math:`e = e^{-|z|}` it is :math:`1 / ((1 + e) D)`, where :math:`D`
    is :math:`(1 - y)/e + y` for :math:`z \ge 0` and :math:`(1 - y) + y/e`
    below: positive terms only, 1 over infinity where :math:`e` underflows.
    """
    with np.errstate(under="ignore", divide="ignore", over="ignore"):
        # e underflows to 0 for large |z|; then a coefficient over e is
        # inf (or a quotient beyond the float range is), and the ratio 0.
        e = np.exp(-np.abs(logits))
        over = np.where(logits >= 0, 1 - targets, targets)
        plain = np.where(logits >= 0, targets, 1 - targets)
        divided = over / np.where(over > 0, e, 1)
        return 1 / ((1 + e) * (divided + plain))


@fill(of=sigmoid_focal_loss)
def sigmoid_focal_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
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
    xentref.sigmoid_focal_loss
    xentref.grad.sigmoid_binary_cross_entropy : the gradient for :math:`\gamma = 0`.

    Notes
    -----
    With :math:`c` the cross-entropy and :math:`q = 1 - p_t`,

    .. math:: \frac{\partial \ell}{\partial z}
              = \alpha_t q^\gamma \Big[ \sigma(z) - y
                + \gamma \, c \, (1 - 2y) \frac{\sigma(z) \sigma(-z)}{q} \Big],

    divided by the number of elements for ``"mean"``. For :math:`y = 1` the
    bracket is :math:`-\sigma(-z) - \gamma c \sigma(z)` and for :math:`y = 0`
    it is :math:`\sigma(z) + \gamma c \sigma(-z)`: two terms of one sign, so
    the gradient keeps its digits. The ratio :math:`\sigma(z)\sigma(-z)/q`
    is formed without dividing by a :math:`q` that may underflow.

    References
    ----------
    .. [1] %(lin)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> from xentref import grad
    >>> z, y = np.array([3.0, -1.0]), np.array([1.0, 0.0])
    >>> g0 = grad.sigmoid_focal_loss(z, y, gamma=0, reduction="sum")
    >>> bool(np.all(g0 == grad.sigmoid_binary_cross_entropy(z, y, reduction="sum")))
    True
    >>> print(np.round(grad.sigmoid_focal_loss(z, y, reduction="sum"), 6))
    [-0.000315  0.052581]
    """
    logits, targets, gamma, alpha, keep = _checked_sigmoid(logits, targets, gamma, alpha, reduction, where)
    divisor = selected_divisor(logits.size, keep, reduction, "elements")
    cross_entropy = losses_unchecked(logits, targets, 1 - targets)
    slope = gradients_unchecked(logits, targets, 1 - targets)
    ratio = (1 - 2 * targets) * _sigmoid_ratio(logits, targets)
    with np.errstate(under="ignore", over="ignore"):
        # A tiny factor or product rounds toward 0, a huge one to inf. The
        # ratio is 0 exactly where the logit is infinite, where the loss may
        # be too: the term is then 0, its limit.
        focusing = gamma * (np.where(ratio == 0, 0, cross_entropy) * ratio)
        grad = _wrong(logits, targets) ** gamma * (slope + focusing)
    return scale_gradient(grad, kept(keep, _alpha_t(alpha, targets), logits.dtype), divisor)


def _checked_softmax(logits, targets, gamma, alpha, axis, reduction, where):
    logits, axis = check.logits(logits, axis)
    check.reduction(reduction)
    probabilities, labels, keep = check.selected_targets_checked(targets, logits, axis, where)
    gamma = check.number(gamma, "gamma", "[0, inf)")
    alpha = check.class_weights(alpha, logits, axis, "alpha")
    return logits, axis, probabilities, labels, gamma, alpha, keep


def dropped_rows(values, keep, axis=None):
    """`values` (per example, or per class along `axis`) with 0 at the examples `keep` leaves out."""
    if keep is None:
        return values
    return np.where(keep if axis is None else np.expand_dims(keep, axis), values, 0.0).astype(values.dtype)


class FocalProblem(CoefficientProblem):
    """The softmax focal loss in the blocked kernel (:mod:`xentref._coefficient_rows`)."""

    def __init__(self, logits, axis, probabilities, labels, keep, gamma, alpha):
        super().__init__(logits, axis, probabilities, labels, keep)
        self.gamma = gamma
        self.accurate = gamma != 0
        if alpha is not None:
            self.class_weight = np.broadcast_to(alpha.reshape(-1), (self.n_classes,)).astype(np.float64)

    def label_losses(self, parts, labels):
        # alpha_y (1 - p_y)^gamma (-log p_y): non-negative factors, as pairs.
        factor = power(parts.wrong, self.gamma, parts.accurate)
        value = self.weighted(ef.multiply_wide(factor, parts.surprisal), None, labels)
        if parts.far is None:
            return value
        half = self.weighted(ef.multiply_wide(factor, parts.half_surprisal), None, labels)
        with np.errstate(over="ignore"):
            # Twice a value beyond the float range is inf.
            high = 2 * half[0]
        doubled = high, np.where(np.isinf(high), 0.0, 2 * half[1])
        return tuple(np.where(parts.far, twice, part) for twice, part in zip(doubled, value))

    def target_losses(self, z, t, total):
        # The cross-entropy with coefficients alpha_k t_k (1 - p_k)^gamma.
        def coefficients_of(parts, first, last):
            return self.weighted(power(parts.wrong, self.gamma, parts.accurate), t[:, first:last], first, last)

        value, _ = weighted_cross_entropy(self, z, coefficients_of)
        return value

    def coefficients(self, parts):
        r""":math:`(1 - p)^\gamma [1 + \gamma f]`, :math:`f = p (-\log p) / (1 - p) \in [0, 1]`.

        :math:`f` is 1 at :math:`p = 1` (its limit) and 0 where :math:`p = 0`.
        """
        factor = power(parts.wrong, self.gamma, parts.accurate)
        if self.gamma == 0:
            return factor
        p, wrong, surprisal = parts.probability, parts.wrong, parts.surprisal
        with np.errstate(invalid="ignore", over="ignore", under="ignore", divide="ignore"):
            # 0 * inf at a zero probability, and 0 / 0 at a certain one, are
            # replaced by their limits below; tiny products round toward 0.
            held = (np.where(wrong[0] > 0, wrong[0], 1.0), np.where(wrong[0] > 0, wrong[1], 0.0))
            ratio = ef.divide_wide(ef.multiply_wide(p, surprisal), held)
        vanishing = (p[0] == 0) | np.isinf(surprisal[0])
        ratio = (np.where(wrong[0] > 0, np.where(vanishing, 0.0, ratio[0]), 1.0),
                 np.where((wrong[0] > 0) & ~vanishing, ratio[1], 0.0))
        return ef.multiply_wide(factor, ef.add((1.0, 0.0), ef.multiply_wide((self.gamma, 0.0), ratio)))


@fill()
def softmax_focal_loss(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Focal loss of targets under the softmax of logits.

    Parameters
    ----------
    %(logits)s
    %(targets)s
    gamma : float, optional
        The focusing exponent :math:`\gamma \ge 0`. Default 2; 0 gives
        :func:`softmax_cross_entropy` exactly.
    alpha : array_like, shape (K,), or float, optional
        A weight :math:`\alpha_k` for each class: finite and non-negative.
        A scalar weighs every class alike, which only rescales the loss.
        Default None: no weighting.
    %(axis)s
    %(reduction)s
    %(where_examples)s

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    TypeError
        If `logits`, `targets` or `alpha` is not real-valued float32/float64
        data, labels are not integers, or `gamma` is not a real number.
    ValueError
        If `logits` contains NaN or +inf or an all -inf slice, the targets
        are neither labels in range nor distributions of the right shape,
        `gamma` is negative, infinite or NaN, `alpha` has another shape or
        holds a negative, infinite or NaN weight, `reduction` is unknown, or
        the mean of an empty batch is asked for.

    See Also
    --------
    softmax_cross_entropy : the loss with :math:`\gamma = 0`.
    sigmoid_focal_loss : the binary version.
    class_balanced_weights : a choice of :math:`\alpha`.
    xentref.grad.softmax_focal_loss : its gradient.

    Notes
    -----
    With :math:`p = \operatorname{softmax}(z)`,

    .. math::

        \ell(z, t) = -\sum_k \alpha_k t_k (1 - p_k)^\gamma \log p_k,
        \qquad \ell(z, y) = -\alpha_y (1 - p_y)^\gamma \log p_y,

    Lin et al.'s multi-class form, in which :math:`\alpha` is a weight per
    class; Keras's ``CategoricalFocalCrossentropy`` computes the same sum
    (its scalar ``alpha``, default 0.25, rescales every class). Here
    :math:`\alpha` is not restricted to [0, 1]: class weights such as
    :func:`class_balanced_weights` may exceed 1. :math:`1 - p_k` is never a
    difference with 1: from the exact gaps :math:`g_k` to the largest logit
    and :math:`s = \sum_{k \ne m} e^{g_k}` it is :math:`s / (1 + s)` at the
    largest logit :math:`m` and :math:`(1 + s - e^{g_k}) / (1 + s)` elsewhere,
    so a confident prediction's tiny loss keeps its digits. A zero target
    contributes 0, even against a -inf logit.

    Accuracy, float64: within 1 ulp of the exact value for labels and
    :math:`\gamma \le 11`, and 2 ulps for probability targets and
    :math:`\gamma \le 12` (integral :math:`\gamma \le 15`). The power has
    condition number :math:`\gamma`, so its base :math:`1 - p_k` and the
    exponentials are formed accurate to :math:`2^{-58}`, and the power of
    an integral :math:`\gamma` as products of pairs: the bounds grow by
    :math:`\gamma/16` ulps (by :math:`(5\gamma + 2)/64` for other
    :math:`\gamma`), and stay within 4 ulps up to :math:`\gamma = 37`; the
    proof is in ``xentref/_coefficient_rows.py``. :math:`\gamma = 0` is
    :func:`softmax_cross_entropy` bit for bit, within its 4 ulps. float32
    is computed in float64 and rounded once: within 1 ulp.

    References
    ----------
    .. [1] %(lin)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> z = np.array([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    >>> focal = xentref.softmax_focal_loss(z, [0, 0], gamma=0, reduction="none")
    >>> bool(np.all(focal == xentref.softmax_cross_entropy(z, [0, 0], reduction="none")))
    True
    >>> print(np.round(xentref.softmax_focal_loss(z, [0, 0], reduction="none"), 4))
    [0.0041 0.9635]

    The loss of a confident, correct prediction keeps its digits:
    :math:`(1 - p)^2 (-\log p)` with :math:`1 - p \approx e^{-30}`:

    >>> print(f"{xentref.softmax_focal_loss([30.0, 0.0], 0):.6e}")
    8.194013e-40
    """
    logits, axis, probabilities, labels, gamma, alpha, keep = _checked_softmax(
        logits, targets, gamma, alpha, axis, reduction, where
    )
    problem = FocalProblem(logits, axis, probabilities, labels, keep, gamma, alpha)
    divisor = selected_divisor(problem.n_rows, keep, reduction)
    return apply_reduction(problem.losses(), reduction, divisor)


@fill(of=softmax_focal_loss)
def softmax_focal_loss_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    gamma: float = 2.0,
    alpha: ArrayLike | None = None,
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
    xentref.softmax_focal_loss
    xentref.grad.softmax_cross_entropy : the gradient for :math:`\gamma = 0`.

    Notes
    -----
    The loss is :math:`-\sum_k g_k \log p_k` in which the coefficients
    depend on :math:`z`; its gradient has the form of the cross-entropy's,

    .. math:: \frac{\partial \ell}{\partial z_j} = p_j \sum_k g_k - g_j,
              \qquad g_k = \alpha_k t_k (1 - p_k)^\gamma
              \Big[ 1 + \gamma \, \frac{p_k (-\log p_k)}{1 - p_k} \Big],

    all :math:`g_k \ge 0`; for a label :math:`y` it is
    :math:`g_y (\operatorname{softmax}(z) - \operatorname{onehot}(y))`. The
    ratio :math:`-\log p / (1 - p)` lies between 1 (at :math:`p = 1`) and
    :math:`-\log p`, so nothing overflows. Divided by the number of examples
    for ``"mean"``.

    Accuracy, float64: for labels each entry is within 1 ulp of itself
    for :math:`\gamma \le 3`, and within 4 ulps for :math:`\gamma \le
    40`; for probability targets within :math:`2.28 + \pi` ulps, with
    :math:`\pi` :math:`\gamma/16` for an integral :math:`\gamma` and
    :math:`(5\gamma + 2)/64` otherwise (2.41 at :math:`\gamma = 2`), of
    :math:`p_j \sum_k g_k + g_j`, which is at most
    :math:`(1 + \gamma)(p_j \max_k \alpha_k + \alpha_j t_j)`, the scale
    the tests measure in: the entry itself may cancel to nothing.
    :math:`\gamma = 0` is the cross-entropy's gradient bit for bit.

    References
    ----------
    .. [1] %(lin)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> from xentref import grad
    >>> z = np.array([[2.0, 0.0, -1.0]])
    >>> g0 = grad.softmax_focal_loss(z, [1], gamma=0)
    >>> bool(np.all(g0 == grad.softmax_cross_entropy(z, [1])))
    True
    >>> g = grad.softmax_focal_loss(z, [1])
    >>> print(np.round(g / g0, 4))  # one factor g_y for the whole row
    [[1.2236 1.2236 1.2236]]
    """
    logits, axis, probabilities, labels, gamma, alpha, keep = _checked_softmax(
        logits, targets, gamma, alpha, axis, reduction, where
    )
    problem = FocalProblem(logits, axis, probabilities, labels, keep, gamma, alpha)
    return problem.gradient(selected_divisor(problem.n_rows, keep, reduction))
