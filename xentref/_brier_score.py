"""The Brier score: squared error between predicted probabilities and targets.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._focal_loss import dropped_rows
from xentref._reduction import (
    apply_reduction,
    scale_gradient,
    selected_divisor,
)
from xentref._typing import ArrayLike, Reduction, Result


def _checked(probs, targets, axis, reduction, where):
    probs, axis = check.distribution(probs, axis, "probs")
    check.reduction(reduction)
    probabilities, labels, keep = check.selected_targets_checked(targets, probs, axis, where, like_name="probs")
    if labels is not None:
        probabilities = np.zeros_like(probs)
        np.put_along_axis(probabilities, labels, 1, axis=axis)
    return probs, axis, probabilities, keep


@fill()
def brier_score(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Brier score: the squared distance between predicted and target
    probabilities.

    Parameters
    ----------
    probs : array_like, shape (..., K)
        Predicted probabilities along `axis`: non-negative and finite, each
        slice summing to 1 within the square root of machine epsilon.
    targets : array_like, shape (...) or (..., K)
        Either integer class labels in [0, K), with the shape of `probs`
        without the class axis, or probability vectors with the shape of
        `probs`, used in the dtype of `probs`.
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
        If `probs` contains NaN, a negative or infinite entry, or a slice
        that is not a distribution, the class axis is empty, a label is out
        of range, probability targets are not distributions, the shapes do
        not fit, `reduction` is unknown, or the mean of an empty batch is
        asked for.

    See Also
    --------
    cross_entropy : the logarithmic score, the other strictly proper
        scoring rule the book compares it with.
    expected_calibration_error
    xentref.grad.brier_score : its gradient.

    Notes
    -----
    .. math:: \ell(q, t) = \sum_{k=1}^{K} (q_k - t_k)^2

    summed over the K classes, as in Brier's definition [1]_, so it lies in
    [0, 2]; divide by K for the per-class mean that some libraries report.
    Scikit-learn's ``brier_score_loss`` is the binary case with one
    probability per example, half of this sum for K = 2. It is a strictly
    proper scoring rule: its expectation under labels drawn from p is
    smallest exactly at q = p, like that of the cross-entropy, but it stays
    finite (at most 2) where the cross-entropy is infinite.

    References
    ----------
    .. [1] G. W. Brier, "Verification of forecasts expressed in terms of
       probability", Monthly Weather Review 78 (1950), 1-3.
       https://doi.org/10.1175/1520-0493(1950)078<0001:VOFEIT>2.0.CO;2
    .. [2] T. Gneiting and A. E. Raftery, "Strictly proper scoring rules,
       prediction, and estimation", Journal of the American Statistical
       Association 102 (2007), 359-378.
       https://doi.org/10.1198/016214506000001437

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> q = [[0.7, 0.2, 0.1], [0.2, 0.4, 0.4]]
    >>> print(np.round(xentref.brier_score(q, [0, 0], reduction="none"), 4))
    [0.14 0.96]

    A certain, wrong prediction costs 2, where the cross-entropy is infinite:

    >>> float(xentref.brier_score([[0.0, 1.0]], [0]))
    2.0
    """
    probs, axis, targets, keep = _checked(probs, targets, axis, reduction, where)
    with np.errstate(under="ignore"):
        # The square of a difference below about 1e-154 underflows towards 0,
        # as it should.
        losses = np.sum((probs - targets) ** 2, axis=axis)
    return apply_reduction(dropped_rows(losses, keep), reduction, selected_divisor(losses.size, keep, reduction))


@fill(of=brier_score)
def brier_score_grad(
    probs: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to `probs`.

    %(gradient_parameters)s

    Returns
    -------
    grad : ndarray, shape (..., K)
        The shape and dtype of `probs`.

    %(gradient_raises)s

    See Also
    --------
    xentref.brier_score

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial q_k} = 2 (q_k - t_k)

    with every probability an independent variable (no simplex
    constraint), divided by the number of examples for ``"mean"``.
    Through :math:`q = \operatorname{softmax}(z)` the chain rule multiplies
    it by the softmax Jacobian :math:`\operatorname{diag}(q) - q q^\top`,
    whose entries vanish as the prediction saturates.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(np.round(grad.brier_score([[0.7, 0.2, 0.1]], [0]), 4))
    [[-0.6  0.4  0.2]]
    """
    probs, axis, targets, keep = _checked(probs, targets, axis, reduction, where)
    divisor = selected_divisor(probs.size // probs.shape[axis], keep, reduction)
    return dropped_rows(scale_gradient(2 * (probs - targets), None, divisor), keep, axis)
