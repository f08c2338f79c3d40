"""Cross-entropy between targets and the softmax of logits."""

from __future__ import annotations

from xentref import _check as check
from xentref._docs import fill
from xentref._softmax_options import OptionProblem
from xentref._typing import ArrayLike, Reduction, Result


def _problem(logits, targets, axis, reduction, class_weight, ignore_index, where, label_smoothing,
             smoothing, z_loss):
    logits, axis = check.logits_array(logits, axis)
    check.reduction(reduction)
    weight, ignore_index, epsilon, smoothing, z_loss = check.softmax_options(
        class_weight, ignore_index, label_smoothing, smoothing, z_loss, logits.shape[axis], logits.dtype,
    )
    probabilities, labels, keep = check.selected_targets(targets, logits, axis, ignore_index, where)
    return OptionProblem(logits, axis, probabilities, labels, keep, weight, epsilon, smoothing, z_loss)


@fill()
def softmax_cross_entropy(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
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
    %(class_weight)s
    %(ignore_index)s
    %(where)s
    %(label_smoothing)s
    %(smoothing)s
    %(z_loss)s

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    %(family_type_error)s
        Also if `where` is not boolean or `ignore_index` not an integer.
    ValueError
        If `logits` contains NaN or +inf or an all -inf slice, the class axis
        is empty, a selected label is out of range, selected probability
        targets are not distributions, the shapes do not fit (`where`,
        `class_weight` included), `reduction` or `smoothing` is unknown,
        `class_weight` holds a negative, infinite or NaN weight,
        `label_smoothing` is outside [0, 1], `z_loss` is negative, infinite
        or NaN, `ignore_index` comes with probability targets,
        ``smoothing="others"`` meets a single class, or ``"mean"`` is asked
        of an empty batch, an empty selection or a total weight of 0.

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
    :math:`T = \sum_k t_k`: sums of non-negative terms.

    With the options, the loss of a selected example is

    .. math::

        \ell(z, t) = \sum_k w_k \tilde q_k (-\log \operatorname{softmax}(z)_k)
            + \lambda \operatorname{logsumexp}(z)^2,

    :math:`\tilde q` the smoothed target (the target itself for
    :math:`\epsilon = 0`, a one-hot for a label) and :math:`w = 1` without
    `class_weight`; for a label without smoothing it is
    :math:`w_y (-\log p_y)`. ``"mean"`` divides the sum over the selected
    examples by :math:`\sum_n W_n`, with :math:`W_n = \sum_c w_c t_{nc}`
    the weight of the unsmoothed target (:math:`w_{y_n}` for a label; 1
    without `class_weight`, so the count). With both `class_weight` and
    `z_loss` the z-loss's sum is divided by the count instead, so that
    scaling every weight by one factor changes no mean (Liger-Kernel's
    convention [5]_). Label smoothing with class weights is PyTorch's
    ``cross_entropy``: the smoothing term of class :math:`c` is weighted by
    :math:`w_c`, not by the label's weight, so the loss is not
    :math:`w_y H(\tilde q, p)` (pytorch/pytorch#104776). ``"others"`` is
    ``"uniform"`` with :math:`\epsilon K/(K - 1)`. An `ignore_index` in
    [0, K) leaves out the examples with that label only: the class stays in
    the softmax and its weight still applies to its smoothing terms, so
    nothing about it conflicts with `class_weight`.

    Where the peers differ: PyTorch divides the mean of weighted
    probability targets by the number of examples, not by their total
    weight; a mean over no selected example is NaN in PyTorch and 0 in
    Keras, Optax returns 0 per left-out example and leaves the mean to
    the caller, and here it is an error, as for an empty batch. Tiny losses keep
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
    value, for labels and for probability targets, with class weights and
    label smoothing too (every term is non-negative, and the coefficients
    :math:`w_k \tilde q_k` are formed exactly to order :math:`u^2`). With
    `z_loss` the error of :math:`\operatorname{log1p}(s)` is doubled in
    the square, so the exponentials and :math:`\operatorname{log1p}(s)`
    are formed accurate to :math:`2^{-57}`: within 2 ulps of
    :math:`\ell_{CE} + \lambda (|a| + \operatorname{log1p}(s))^2`, the loss
    itself when the largest logit :math:`a` is not negative. ``"sum"`` and ``"mean"`` add the rounded
    losses in their dtype (half precision: in float64, rounded once).

    %(narrow)s

    %(blocks)s

    Probability targets are read, converted to the dtype of `logits` and
    checked block by block.

    References
    ----------
    .. [1] %(goodfellow)s, section 6.2.2.3.
    .. [2] %(bhh)s
    .. [3] %(milakov)s
    .. [4] %(szegedy)s
    .. [5] %(liger)s
    .. [6] %(palm)s
    .. [7] %(fairseq)s

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

    Padding labelled -100 is left out of the mean, which divides by the
    weight of the labels that remain:

    >>> weights = np.array([1.0, 2.0, 4.0])
    >>> mean = xentref.softmax_cross_entropy(logits, [0, -100], class_weight=weights, ignore_index=-100)
    >>> bool(mean == xentref.softmax_cross_entropy(logits[:1], [0]))
    True
    """
    problem = _problem(logits, targets, axis, reduction, class_weight, ignore_index, where, label_smoothing,
                       smoothing, z_loss)
    return problem.reduced(reduction)


@fill(of=softmax_cross_entropy)
def softmax_cross_entropy_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
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

    With the options the gradient of a selected example is

    .. math:: \frac{\partial \ell}{\partial z_k} = p_k \Big(\sum_j c_j
              + 2 \lambda \operatorname{logsumexp}(z)\Big) - c_k,
              \qquad c_k = w_k \tilde q_k,

    the cross-entropy's with the targets replaced by the coefficients
    :math:`c` (exactly 0 at the examples left out); ``"mean"`` divides the
    cross-entropy's part by the total weight and the z-loss's by the count,
    as for the loss. The entries at the largest logit and at the largest
    coefficient are pairs rounded once, the others within 5.7 ulps of the
    larger of :math:`p_k \sum_j c_j` and :math:`c_k` (divided as the
    reduction says), as for probability targets; with class weights alone
    on labels, within 4 ulps. With `z_loss` (accurate exponentials),
    within 2.16 ulps of
    :math:`p_k (\sum_j c_j + 2 \lambda (|a| + \operatorname{log1p}(s))) + c_k`.

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
    problem = _problem(logits, targets, axis, reduction, class_weight, ignore_index, where, label_smoothing,
                       smoothing, z_loss)
    return problem.gradient_for(reduction)


@fill(of=softmax_cross_entropy)
def softmax_cross_entropy_value_and_grad(
    logits: ArrayLike,
    targets: ArrayLike,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    class_weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    where: ArrayLike | None = None,
    label_smoothing: float = 0.0,
    smoothing: str = "uniform",
    z_loss: float = 0.0,
) -> tuple[Result, Result]:
    r"""%(loss)s and its gradient, from one pass over the logits.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    %(together_returns)s

    Raises
    ------
    %(same_raises)s

    Notes
    -----
    Both results equal those of the two functions bit for bit. The two
    calls would each find every row's maximum and normaliser; here each
    block of rows is normalised once and gives its losses and its gradient
    rows, which saves that pass, about a third of the time of the loss and
    the gradient. (float32 and the half-precision types with probability
    targets repeat the normaliser, which the gradient alone forms by a
    faster route: it costs little there.)

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> from xentref import value_and_grad
    >>> logits = np.log([[0.7, 0.2, 0.1]])
    >>> loss, g = value_and_grad.softmax_cross_entropy(logits, [0])
    >>> print(f"{loss:.4f}", np.round(g, 4))
    0.3567 [[-0.3  0.2  0.1]]
    >>> bool(loss == xentref.softmax_cross_entropy(logits, [0]))
    True
    """
    problem = _problem(logits, targets, axis, reduction, class_weight, ignore_index, where, label_smoothing,
                       smoothing, z_loss)
    return problem.value_and_gradient(reduction)
