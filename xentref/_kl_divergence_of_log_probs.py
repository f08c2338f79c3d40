"""KL divergence between distributions given by their log-probabilities."""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._information import _sum_to_shape, in_unit
from xentref._typing import ArrayLike, Result


def _checked(log_p, log_q, axis, base):
    log_p, _ = check.log_distribution(log_p, axis, "log_p")
    log_q, _ = check.log_distribution(log_q, axis, "log_q")
    q_shape = log_q.shape
    log_p, log_q, index = check.same_classes(
        check.in_dtype(log_p, log_q.dtype), log_q, axis, "log_p", "log_q"
    )
    return log_p, log_q, index, q_shape, check.base(base)


def log_terms(log_p, log_q):
    r""":math:`e^{l_p} (l_p - l_q)` elementwise: 0 where :math:`l_p = -\infty`,
    +inf where only :math:`l_q` is.
    """
    present = log_p > -np.inf
    impossible = present & (log_q == -np.inf)
    finite = present & ~impossible
    with np.errstate(under="ignore", over="ignore"):
        # exp(l_p) below the float range is 0, a product beyond it inf.
        # Near l_p == l_q the difference is exact (Sterbenz), so a term
        # between nearly equal distributions keeps its digits.
        difference = np.where(finite, log_p, 0) - np.where(finite, log_q, 0)
        terms = np.exp(np.where(finite, log_p, 0)) * difference
    return np.where(impossible, np.inf, np.where(finite, terms, 0))


@fill()
def kl_divergence_of_log_probs(
    log_p: ArrayLike,
    log_q: ArrayLike,
    *,
    axis: int = -1,
    base: float | None = None,
) -> Result:
    r"""Kullback-Leibler divergence of `q` from `p`, both given as
    log-probabilities.

    Parameters
    ----------
    log_p : array_like, shape (..., K)
        Log-probabilities of the reference distribution :math:`p` along
        `axis`, such as :func:`log_softmax` of a teacher's logits: finite or
        -inf, with each slice's logsumexp 0 within the square root of
        machine epsilon.
    log_q : array_like, shape (..., K)
        Log-probabilities of the approximating distribution, likewise.
        Batch dimensions broadcast; the class axis must have the same
        length.
    %(axis)s
    %(base)s

    Returns
    -------
    d : ndarray, shape (...)
        :math:`D_{KL}(p \,\|\, q)` for each pair of distributions, in the
        dtype of `log_q`.

    Raises
    ------
    TypeError
        If `log_p` or `log_q` is not real-valued float32/float64 data.
    ValueError
        If either contains NaN or +inf, is not normalised (raw logits, say),
        their shapes do not fit, the class axis is empty, or `base` is
        invalid.

    See Also
    --------
    kl_divergence : the same divergence from probabilities.
    distillation_loss : the divergence between softened softmaxes of logits.
    xentref.grad.kl_divergence_of_log_probs : its gradient.

    Notes
    -----
    .. math:: D_{KL}(p \,\|\, q) = \sum_k e^{l_{p,k}} (l_{p,k} - l_{q,k})

    with :math:`l_p = \log p` and :math:`l_q = \log q`: PyTorch's
    ``kl_div(log_q, log_p, log_target=True)`` summed over classes, Optax's
    ``kl_divergence_with_log_targets(log_q, log_p)``. Where
    :math:`p_k \approx q_k` the difference :math:`l_{p,k} - l_{q,k}` is
    exact, so each term keeps its digits, and nothing underflows for
    probabilities below the float range. A term with :math:`l_{p,k} =
    -\infty` is 0 whatever :math:`l_{q,k}` is (the convention
    :math:`0 \log 0 = 0`); :math:`l_{q,k} = -\infty < l_{p,k}` makes the
    divergence :math:`+\infty`. The terms have both signs; between nearly
    equal distributions the divergence is second order in their difference
    and its absolute error is a few ulps of the sum of the terms'
    magnitudes.

    References
    ----------
    .. [1] %(kullback)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    >>> d = xentref.kl_divergence_of_log_probs(np.log(p), np.log(q))
    >>> bool(np.isclose(d, xentref.kl_divergence(p, q)))
    True

    Probabilities below the float range are no obstacle in log space:

    >>> log_p = np.array([0.0, -2000.0])  # p = (1, e^-2000)
    >>> float(
    ...     xentref.kl_divergence_of_log_probs(log_p, np.array([0.0, -3000.0]))
    ... )
    0.0
    >>> float(
    ...     xentref.kl_divergence_of_log_probs(log_p, np.array([0.0, -np.inf]))
    ... )
    inf
    """
    log_p, log_q, index, _, log_base = _checked(log_p, log_q, axis, base)
    with np.errstate(over="ignore"):
        # A divergence beyond the float range, in nats or in the unit, is inf.
        return in_unit(np.sum(log_terms(log_p, log_q), axis=index), log_base)


@fill(of=kl_divergence_of_log_probs)
def kl_divergence_of_log_probs_grad(
    log_p: ArrayLike,
    log_q: ArrayLike,
    *,
    axis: int = -1,
    base: float | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to `log_q`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray
        The shape and dtype of `log_q`: the derivative of the sum of the
        returned divergences with respect to each entry of `log_q`, summed
        over the dimensions along which `log_q` was broadcast.

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.kl_divergence_of_log_probs
    xentref.grad.distillation_loss : the gradient with respect to logits.

    Notes
    -----
    .. math:: \frac{\partial D_{KL}}{\partial l_{q,k}} = -e^{l_{p,k}} = -p_k
              \quad (\div \log b \text{ for } \texttt{base} = b)

    with every entry of `log_q` an independent variable.

    References
    ----------
    .. [1] %(kullback)s

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(
    ...     grad.kl_divergence_of_log_probs(
    ...         np.log([0.25, 0.75]), np.log([0.5, 0.5])
    ...     )
    ... )
    [-0.25 -0.75]
    """
    log_p, _, _, q_shape, log_base = _checked(log_p, log_q, axis, base)
    with np.errstate(under="ignore"):
        # A probability below the float range is 0.
        grad = in_unit(-np.exp(log_p), log_base)
    return _sum_to_shape(grad, q_shape)
