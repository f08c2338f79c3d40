"""Knowledge distillation (Hinton, Vinyals and Dean 2015) from logits."""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._focal_loss import dropped_rows
from xentref._kl_divergence_of_log_probs import log_terms
from xentref._reduction import (
    apply_reduction,
    scale_gradient,
    selected_divisor,
)
from xentref._typing import ArrayLike, Reduction, Result


def _checked(student_logits, teacher_logits, temperature, axis, reduction, where):
    student, axis = check.logits(student_logits, axis, "student_logits")
    keep = check.where(where, student.shape[:axis] + student.shape[axis + 1:])
    teacher = check.floats(teacher_logits, "teacher_logits")
    if keep is not None and teacher.shape == student.shape:
        # The teachers of the examples left out are not read.
        teacher = check.selected_rows(teacher, axis, keep, 0.0)
    teacher, _ = check.logits(teacher, axis, "teacher_logits")
    teacher = check.in_dtype(
        check.same_shape(teacher, student, "teacher_logits", "student_logits"),
        student.dtype,
    )
    temperature = check.number(temperature, "temperature", "(0, inf)")
    check.reduction(reduction)
    return student, teacher, temperature, axis, keep


def softened_log_softmax(logits, temperature, axis):
    r""":math:`\log \operatorname{softmax}(z / T)` for validated logits,
    without overflow.

    The gaps :math:`z_k - \max z \le 0` are divided by :math:`T`, so logits
    that differ by a constant give the same result. A gap beyond the float
    range is -inf; for :math:`T \ge 1` its quotient may still be finite and
    is then formed as :math:`z_k / T - \max z / T`; below 1 it is -inf, as
    its probability is 0.
    """
    top = np.take_along_axis(
        logits, np.argmax(logits, axis=axis, keepdims=True), axis=axis
    )
    with np.errstate(over="ignore", under="ignore"):
        # Gaps below the float range round to -inf (probability 0), tiny
        # quotients to 0, and their exponentials underflow to 0.
        shifted = (logits - top) / temperature
        if temperature >= 1:
            overflowed = np.isneginf(shifted) & np.isfinite(logits)
            shifted = np.where(
                overflowed, logits / temperature - top / temperature, shifted
            )
        exps = np.exp(shifted)
    top = np.argmax(logits, axis=axis, keepdims=True)
    np.put_along_axis(exps, top, 0, axis=axis)
    return shifted - np.log1p(np.sum(exps, axis=axis, keepdims=True))


@fill()
def distillation_loss(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Distillation loss: the KL divergence between softened softmaxes, times
    :math:`T^2`.

    Parameters
    ----------
    student_logits : array_like, shape (..., K)
        The student's logits :math:`s`: finite or -inf, with at least one
        entry above -inf along `axis`.
    teacher_logits : array_like, shape (..., K)
        The teacher's logits :math:`t`, likewise, with the shape of
        `student_logits`; read in its dtype.
    temperature : float
        :math:`T > 0`, finite. Hinton et al. use values from 1 to 20.
    %(axis)s
    %(reduction)s
    %(where_examples)s

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    TypeError
        If the logits are not real-valued float32/float64 data or
        `temperature` is not a real number.
    ValueError
        If either logits contain NaN or +inf or an all -inf slice, their
        shapes differ, `temperature` is not positive and finite,
        `reduction` is unknown, or the mean of an empty batch is asked for.

    See Also
    --------
    kl_divergence_of_log_probs : the divergence it computes.
    xentref.grad.distillation_loss : its gradient.

    Notes
    -----
    With :math:`p = \operatorname{softmax}(t / T)` and
    :math:`q = \operatorname{softmax}(s / T)`,

    .. math:: \ell(s, t) = T^2 \, D_{KL}(p \,\|\, q)
              = T^2 \sum_k p_k (\log p_k - \log q_k).

    Its gradient with respect to :math:`s` is :math:`T (q - p)`. Without
    the factor :math:`T^2` it would be :math:`(q - p)/T`, which for large
    :math:`T` shrinks like :math:`1/T^2` (Hinton et al., section 2.1): the
    factor keeps the gradient's scale as the temperature changes, and the
    gradient tends to :math:`(s - t)/K` for zero-mean logits. The
    cross-entropy :math:`-\sum p_k \log q_k` has the same gradient; the KL
    divergence also vanishes when the student matches the teacher.
    ``"mean"`` divides by the number of examples (PyTorch's
    ``reduction="batchmean"``; its ``"mean"`` divides by the number of
    elements, K times more).

    References
    ----------
    .. [1] %(hinton)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> s, t = np.array([[1.0, 2.0, 0.0]]), np.array([[2.0, 1.0, 0.0]])
    >>> T = 4.0
    >>> kl = xentref.kl_divergence(
    ...     xentref.softmax(t / T), xentref.softmax(s / T)
    ... )
    >>> bool(
    ...     np.isclose(
    ...         xentref.distillation_loss(s, t, temperature=T), T**2 * kl[0]
    ...     )
    ... )
    True

    A student that matches the teacher up to a constant costs nothing:

    >>> float(xentref.distillation_loss(t + 3, t, temperature=T))
    0.0
    """
    student, teacher, temperature, axis, keep = _checked(
        student_logits, teacher_logits, temperature, axis, reduction, where
    )
    log_q = softened_log_softmax(student, temperature, axis)
    log_p = softened_log_softmax(teacher, temperature, axis)
    with np.errstate(over="ignore", under="ignore"):
        # A loss beyond the float range is inf. T (T D) rather than T^2 D,
        # so that a huge T meets a zero divergence without making NaN.
        losses = temperature * (
            temperature * np.sum(log_terms(log_p, log_q), axis=axis)
        )
    divisor = selected_divisor(losses.size, keep, reduction)
    return apply_reduction(dropped_rows(losses + 0.0, keep), reduction, divisor)


def probability_difference(log_q, log_p):
    r""":math:`q - p = e^{l_q} - e^{l_p}`, as the larger one times an
    ``expm1``.

    :math:`q - p = -q \operatorname{expm1}(l_p - l_q)` where :math:`q \ge p`
    and :math:`p \operatorname{expm1}(l_q - l_p)` elsewhere: the argument is
    never positive, the difference of logs is exact when they are close,
    so nearly equal probabilities keep the digits of their difference.
    """
    larger, smaller = np.maximum(log_q, log_p), np.minimum(log_q, log_p)
    present = larger > -np.inf
    with np.errstate(under="ignore"):
        # A probability below the float range is 0.
        magnitude = -np.exp(np.where(present, larger, 0)) * np.expm1(
            np.where(present, smaller - np.where(present, larger, 0), 0)
        )
    return np.where(
        present, np.where(log_q >= log_p, magnitude, -magnitude), 0
    )


@fill(of=distillation_loss)
def distillation_loss_grad(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to `student_logits`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray, shape (..., K)
        The shape and dtype of `student_logits`: the derivative of the
        reduced loss with respect to each student logit (of each example's
        own loss for ``"none"``).

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.distillation_loss

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial s_k} = T (q_k - p_k),

    divided by the number of examples for ``"mean"``, with :math:`q_k - p_k`
    formed from the log-probabilities so that a student close to its
    teacher gets a small gradient with all its digits.

    References
    ----------
    .. [1] %(hinton)s

    Examples
    --------
    At a high temperature the gradient is :math:`(s - t)/K` for zero-mean
    logits (Hinton et al., section 2.1):

    >>> import numpy as np
    >>> from xentref import grad
    >>> s, t = np.array([0.5, -1.0, 0.5]), np.array([-0.25, 0.5, -0.25])
    >>> g = grad.distillation_loss(s, t, temperature=1e6)
    >>> print(np.round(g, 6), (s - t) / 3)
    [ 0.25 -0.5   0.25] [ 0.25 -0.5   0.25]
    """
    student, teacher, temperature, axis, keep = _checked(
        student_logits, teacher_logits, temperature, axis, reduction, where
    )
    divisor = selected_divisor(student.size // student.shape[axis], keep, reduction)
    difference = probability_difference(
        softened_log_softmax(student, temperature, axis),
        softened_log_softmax(teacher, temperature, axis),
    )
    with np.errstate(under="ignore"):
        # A product below the float range rounds toward 0.
        grad = temperature * difference
    return dropped_rows(scale_gradient(grad, None, divisor), keep, axis)
