"""Cross-entropy between targets and the softmax of logits."""

from __future__ import annotations

from xentref import _check as check
from xentref._docs import fill
from xentref._reduction import apply_reduction, reduction_divisor
from xentref._softmax_rows import Problem
from xentref._typing import ArrayLike, Reduction, Result


def _problem(logits, targets, axis, reduction):
    logits, axis = check.logits_array(logits, axis)
    check.reduction(reduction)
    probabilities, labels = check.targets(targets, logits, axis, entries=False)
    return Problem(logits, axis, probabilities, labels)


@fill()
def softmax_cross_entropy(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
) -> Result:
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
    %(family_type_error)s
    ValueError
        If `logits` contains NaN or +inf or an all -inf slice, the class axis
        is empty, a label is out of range, probability targets are not
        distributions, the shapes do not fit, `reduction` is unknown, or the
        mean of an empty batch is asked for.

    See Also
    --------
    cross_entropy : the same quantity from probabilities.
    log_softmax
    linear_softmax_cross_entropy : the loss of a linear layer's output, fused.

    Notes
    -----
    For a label :math:`y` and for probability targets :math:`t`,

    .. math::

        \ell(z, y) = \operatorname{logsumexp}(z) - z_y, \qquad
        \ell(z, t) = -\sum_k t_k \log \operatorname{softmax}(z)_k,

    computed from the shifted form of :func:`log_softmax`, as
    :math:`\operatorname{log1p}(s) - (z_y - a)` and
    :math:`T \operatorname{log1p}(s) + \sum_k t_k (a - z_k)` with
    :math:`T = \sum_k t_k`: sums of non-negative terms. Tiny losses keep
    their relative precision: logits ``[30, 0]`` with label 0 give
    :math:`\operatorname{log1p}(e^{-30}) \approx 9.35762 \times 10^{-14}`.
    Logits as large as :math:`\pm 10^{300}` give finite losses, and so do
    gaps beyond the float range under probability targets (their sum is
    formed halved). A target of exactly 0 contributes 0 even where the logit
    is -inf; a positive target on a -inf logit gives :math:`+\infty`.
    Integer labels and the equivalent one-hot targets give identical
    results.

    %(exact_shift)s

    Accuracy: each float64 loss is within 4 ulps of the correctly rounded
    value, for labels and for probability targets. ``"sum"`` and
    ``"mean"`` add the rounded losses in their dtype (half precision: in
    float64, rounded once).

    %(narrow)s

    %(blocks)s

    Probability targets are read, converted to the dtype of `logits` and
    checked block by block.

    References
    ----------
    .. [1] %(goodfellow)s, section 6.2.2.3.
    .. [2] %(bhh)s
    .. [3] %(milakov)s

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
    problem = _problem(logits, targets, axis, reduction)
    return apply_reduction(problem.losses(), reduction)


@fill(of=softmax_cross_entropy)
def softmax_cross_entropy_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
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
    xentref.softmax_cross_entropy
    xentref.grad.nll_loss : the gradient with respect to log-probabilities.

    Notes
    -----
    With :math:`\operatorname{softmax}(z)_k = e^{z_k} / \sum_j e^{z_j}`,

    .. math:: \frac{\partial \ell}{\partial z_k}
              = \operatorname{softmax}(z)_k \sum_j t_j - t_k,

    which for a label :math:`y` (or a one-hot target) is
    :math:`\operatorname{softmax}(z) - \operatorname{onehot}(y)`; divided by
    the number of examples for ``"mean"`` (the divisor joins the per-row
    factor before the one rounding). At the largest logit, index
    :math:`m`, the softmax is :math:`1/(1 + s)` with
    :math:`s = \sum_{j \ne m} e^{z_j - z_m}`, within rounding of 1 when the
    prediction is confident, so that entry is formed as

    .. math:: \frac{\sum_{j \ne m} t_j - t_m s}{1 + s},

    which for a label at :math:`m` is :math:`-s/(1 + s)`, minus the sum of
    the other probabilities, with all its digits. A -inf logit has softmax
    0, so its entry is :math:`-t_k`. Labels and the equivalent one-hot
    targets give identical gradients.

    Accuracy, float64: with labels, every entry is within 4 ulps of the
    correctly rounded value (the entries at the label and at the largest
    logit are formed as pairs and rounded once: at the label
    :math:`p_y \le 1/2`, so :math:`p_y - 1` does not cancel). With
    probability targets an entry :math:`(p_k T - t_k)/N` is a difference
    that may cancel to 0 while its terms do not: the rounding of
    :math:`p_k` alone (at least half an ulp of it) is then unbounded
    relative to the entry, so the bound is 5.7 ulps of the larger of
    :math:`p_k T / N` and :math:`t_k / N` (4.2 for the product, half an ulp
    each for :math:`t_k / N`, the difference and the correct rounding);
    the entries at the largest logit and at the largest target are formed
    as pairs and rounded once. float32, float16 and bfloat16: within 1 ulp
    (of the larger term, with probability targets), computed in float64.

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
    problem = _problem(logits, targets, axis, reduction)
    return problem.gradient(reduction_divisor(problem.n_rows, reduction))
