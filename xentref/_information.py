"""Entropy, cross-entropy and KL divergence of discrete distributions."""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._typing import ArrayLike, Result


def distribution_pair(p, q, axis):
    """Validate two distributions and broadcast them against each other.

    Returns them with the class axis index and the shape `q` arrived in;
    `p`, the target, is read in the dtype of `q`, the prediction.
    """
    p, _ = check.distribution(p, axis, "p")
    q, _ = check.distribution(q, axis, "q")
    q_shape = q.shape
    p, q, index = check.same_classes(
        check.in_dtype(p, q.dtype), q, axis, "p", "q"
    )
    return p, q, index, q_shape


def _subnormal_terms():
    # A term p * log(...) of a subnormal p may round below the smallest normal
    # float; it is far too small to change the sum, so underflow is expected.
    return np.errstate(under="ignore")


def in_unit(total, log_base):
    # Adding 0.0 turns a -0.0 total into +0.0 and changes nothing else.
    total = total + 0.0
    return total if log_base is None else total / log_base


def _log_ratio(p, q):
    """log(p / q) for p > 0, accurate to a few ulps; +inf where q == 0."""
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        ratio = p / q
        # Near p == q, p - q is exact (Sterbenz) and log1p keeps the digits
        # that log(ratio) would lose to the rounding of ratio.
        near = np.log1p((p - q) / q)
        # Where the ratio overflows or underflows, subtract the logs instead.
        far = np.log(p) - np.log(q)
        direct = np.log(ratio)
    out = np.where((ratio >= 0.5) & (ratio <= 2), near, direct)
    out = np.where(
        np.isinf(ratio) | (ratio < np.finfo(ratio.dtype).tiny), far, out
    )
    return np.where(q == 0, np.inf, out)


@fill()
def entropy(
    p: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    r"""Shannon entropy of a discrete distribution.

    Parameters
    ----------
    %(distribution_p)s
    axis : int, optional
        The class axis. Default -1 (SciPy's ``stats.entropy`` uses 0).
    %(base)s

    Returns
    -------
    h : ndarray, shape (...)
        The entropy of each distribution, in the dtype of `p`.

    Raises
    ------
    TypeError
        If `p` is not real-valued float32/float64 data.
    ValueError
        If `p` is NaN, negative, above 1, infinite, does not sum to 1, has an
        empty class axis, or `base` is not a positive number other than 1.

    See Also
    --------
    cross_entropy, kl_divergence

    Notes
    -----
    .. math:: H(p) = -\sum_k p_k \log p_k

    with the convention :math:`0 \log 0 = 0`, the limit of
    :math:`x \log x` as :math:`x \to 0^+`. Zero entries contribute exactly
    zero; no ``eps`` is added. :math:`0 \le H(p) \le \log K`.

    References
    ----------
    .. [1] %(shannon)s
    .. [2] %(cover_thomas)s, section 2.1.

    Examples
    --------
    A fair coin carries one bit, and a certain outcome carries none:

    >>> import xentref
    >>> float(xentref.entropy([0.5, 0.5], base=2))
    1.0
    >>> float(xentref.entropy([1.0, 0.0, 0.0]))
    0.0

    The uniform distribution on K outcomes has entropy log K:

    >>> import numpy as np
    >>> bool(np.isclose(xentref.entropy(np.full(4, 0.25)), np.log(4)))
    True
    """
    p, p_axis = check.distribution(p, axis, "p")
    log_base = check.base(base)
    positive = p > 0
    # log is taken only where p > 0; the other terms are 0 by convention.
    with _subnormal_terms():
        terms = np.where(positive, p * np.log(np.where(positive, p, 1)), 0)
    return in_unit(-np.sum(terms, axis=p_axis), log_base)


@fill()
def cross_entropy(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    r"""Cross-entropy of a distribution `q` relative to a distribution `p`.

    Parameters
    ----------
    %(distribution_p)s
    q : array_like, shape (..., K)
        The model (predicted) distribution along `axis`. Batch dimensions of
        `p` and `q` broadcast, so one `p` of shape (K,) can be compared with a
        batch of predictions; the class axis must have the same length.
    %(axis)s
    %(base)s

    Returns
    -------
    h : ndarray, shape (...)
        :math:`H(p, q)` for each pair of distributions.

    Raises
    ------
    TypeError
        If `p` or `q` is not real-valued float32/float64 data.
    ValueError
        If `p` or `q` is not a distribution (NaN, negative, above 1,
        infinite, or not summing to 1 within the square root of machine
        epsilon), if their shapes do not fit, if the class axis is empty, or
        if `base` is invalid.

    See Also
    --------
    entropy, kl_divergence
    softmax_cross_entropy : the same loss computed from logits.

    Notes
    -----
    .. math:: H(p, q) = -\sum_k p_k \log q_k = H(p) + D_{KL}(p \,\|\, q)

    Terms with :math:`p_k = 0` are 0 whatever :math:`q_k` is. Where
    :math:`p_k > 0` and :math:`q_k = 0` the result is :math:`+\infty`; nothing
    is clipped. The function is not symmetric in `p` and `q`.

    References
    ----------
    .. [1] %(cover_thomas)s, sections 2.3 and 5.4.
    .. [2] %(goodfellow)s, section 3.13.

    Examples
    --------
    The true class is the first of three, predicted with probability 0.7:

    >>> import xentref
    >>> round(float(xentref.cross_entropy([1, 0, 0], [0.7, 0.2, 0.1])), 4)
    0.3567

    It equals the entropy plus the KL divergence:

    >>> import numpy as np
    >>> p, q = [0.5, 0.3, 0.2], [0.2, 0.5, 0.3]
    >>> h = xentref.entropy(p) + xentref.kl_divergence(p, q)
    >>> bool(np.isclose(xentref.cross_entropy(p, q), h))
    True
    """
    p, q, p_axis, _ = distribution_pair(p, q, axis)
    log_base = check.base(base)
    positive = p > 0
    with np.errstate(divide="ignore"):
        # log(0) = -inf is the intended value where p > 0 and q == 0.
        log_q = np.log(np.where(positive, q, 1))
    with _subnormal_terms():
        terms = np.where(positive, p * log_q, 0)
    return in_unit(-np.sum(terms, axis=p_axis), log_base)


@fill()
def kl_divergence(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    r"""Kullback-Leibler divergence of `q` from `p`.

    Parameters
    ----------
    %(distribution_p)s
    q : array_like, shape (..., K)
        The approximating distribution along `axis`. Batch dimensions
        broadcast; the class axis must have the same length.
    %(axis)s
    %(base)s

    Returns
    -------
    d : ndarray, shape (...)
        :math:`D_{KL}(p \,\|\, q)` for each pair of distributions.

    Raises
    ------
    TypeError
        If `p` or `q` is not real-valued float32/float64 data.
    ValueError
        If `p` or `q` is not a distribution, if their shapes do not fit, if
        the class axis is empty, or if `base` is invalid.

    See Also
    --------
    entropy, cross_entropy

    Notes
    -----
    .. math:: D_{KL}(p \,\|\, q) = \sum_k p_k \log \frac{p_k}{q_k}

    Terms with :math:`p_k = 0` are 0; a term with :math:`p_k > 0` and
    :math:`q_k = 0` makes the divergence :math:`+\infty`. Each log-ratio is
    computed with ``log1p`` when :math:`p_k/q_k \in [1/2, 2]`, so that each
    term is accurate to a few ulps even when :math:`p_k` and :math:`q_k` are
    close. The terms have both signs, so the error of their sum is bounded
    relative to :math:`\sum_k p_k |\log(p_k / q_k)|`, not relative to the
    divergence: between nearby distributions the divergence is far smaller
    than its terms, and only its leading digits are reliable. By Gibbs'
    inequality the divergence of two distributions is non-negative and is
    zero only when :math:`p = q`; inputs that sum to 1 only within rounding
    can give a value a few ulps of its terms below zero. It is not
    symmetric.

    References
    ----------
    .. [1] %(kullback)s
    .. [2] %(cover_thomas)s, sections 2.3 and 2.6.

    Examples
    --------
    >>> import xentref
    >>> p, q = [0.5, 0.5], [0.9, 0.1]
    >>> round(float(xentref.kl_divergence(p, q)), 4)
    0.5108
    >>> round(float(xentref.kl_divergence(q, p)), 4)
    0.3681
    >>> float(xentref.kl_divergence([0.5, 0.5], [1.0, 0.0]))
    inf
    """
    p, q, p_axis, _ = distribution_pair(p, q, axis)
    log_base = check.base(base)
    positive = p > 0
    log_ratio = _log_ratio(np.where(positive, p, 1), np.where(positive, q, 1))
    with _subnormal_terms():
        terms = np.where(positive, p * log_ratio, 0)
    return in_unit(np.sum(terms, axis=p_axis), log_base)


def _sum_to_shape(grad, shape):
    """Sum `grad` over the dimensions that broadcasting added to `shape`."""
    grad = np.sum(grad, axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(
        i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1
    )
    return np.sum(grad, axis=stretched, keepdims=True)


def _minus_p_over_q(p, q, axis, base):
    """-p/q (divided by log base) for validated arguments; 0 where p = 0."""
    p, q, _, q_shape = distribution_pair(p, q, axis)
    log_base = check.base(base)
    positive = p > 0
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        # -p/q is -inf where q = 0 < p (the loss is +inf there); a quotient
        # beyond (below) the float range rounds to -inf (0), as it should.
        grad = np.where(positive, -p / np.where(positive, q, 1), 0)
        grad = in_unit(grad, log_base)
    return _sum_to_shape(grad, q_shape)


@fill(of=cross_entropy)
def cross_entropy_grad(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    r"""Gradient of %(loss)s with respect to `q`.

    %(gradient_parameters)s

    Returns
    -------
    grad : ndarray
        The shape and dtype of `q`: the derivative of the sum of the
        returned cross-entropies (one per pair of distributions) with
        respect to each entry of `q`. Where `q` was broadcast against `p`,
        the contributions are summed.

    %(gradient_raises)s

    See Also
    --------
    xentref.cross_entropy
    xentref.grad.kl_divergence : the same gradient.

    Notes
    -----
    .. math:: \frac{\partial H(p, q)}{\partial q_k} = -\frac{p_k}{q_k}
              \quad (\div \log b \text{ for } \texttt{base} = b)

    with each :math:`q_k` an independent variable, not constrained to the
    simplex. It is 0 where :math:`p_k = 0`, whatever :math:`q_k`, and
    :math:`-\infty` where :math:`p_k > 0 = q_k`, the entries that make the
    cross-entropy infinite; a quotient beyond the float range (a subnormal
    :math:`q_k`) rounds to :math:`-\infty` too.

    References
    ----------
    .. [1] %(cover_thomas)s, section 2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(
    ...     np.round(grad.cross_entropy([0.5, 0.5, 0.0], [0.25, 0.5, 0.25]), 4)
    ... )
    [-2. -1.  0.]
    >>> print(grad.cross_entropy([0.5, 0.5], [1.0, 0.0]))
    [-0.5 -inf]
    """
    return _minus_p_over_q(p, q, axis, base)


@fill(of=kl_divergence)
def kl_divergence_grad(
    p: ArrayLike, q: ArrayLike, *, axis: int = -1, base: float | None = None
) -> Result:
    r"""Gradient of %(loss)s with respect to `q`.

    %(gradient_parameters)s

    Returns
    -------
    grad : ndarray
        The shape and dtype of `q`: the derivative of the sum of the
        returned divergences with respect to each entry of `q`, summed over
        the dimensions along which `q` was broadcast.

    %(gradient_raises)s

    See Also
    --------
    xentref.kl_divergence
    xentref.grad.cross_entropy : the same gradient.

    Notes
    -----
    .. math:: \frac{\partial D_{KL}(p \,\|\, q)}{\partial q_k}
              = -\frac{p_k}{q_k}
              \quad (\div \log b \text{ for } \texttt{base} = b)

    the gradient of the cross-entropy, since
    :math:`D_{KL}(p \| q) = H(p, q) - H(p)` and :math:`H(p)` does not
    depend on :math:`q`. Each :math:`q_k` is an independent variable; the
    entry is 0 where :math:`p_k = 0` and :math:`-\infty` where
    :math:`p_k > 0 = q_k`.

    References
    ----------
    .. [1] %(cover_thomas)s, section 2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(grad.kl_divergence([0.5, 0.5], [0.5, 0.5], base=2))  # -1/ln 2
    [-1.44269504 -1.44269504]
    """
    return _minus_p_over_q(p, q, axis, base)
