"""Gradients of cross-entropy and KL divergence with respect to the prediction `q`."""

import numpy as np

from xentref import _validation as check
from xentref._information import _distributions, _in_unit


def _sum_to_shape(grad, shape):
    """Sum `grad` over the dimensions that broadcasting added to `shape`."""
    grad = np.sum(grad, axis=tuple(range(grad.ndim - len(shape))))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return np.sum(grad, axis=stretched, keepdims=True)


def _minus_p_over_q(p, q, axis, base):
    """-p/q (divided by log base) for validated arguments; 0 where p = 0."""
    q_shape = np.shape(q)
    p, q, _ = _distributions(p, q, axis)
    log_base = check.base_log(base)
    p = check.in_dtype(p, q.dtype)
    positive = p > 0
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        # -p/q is -inf where q = 0 < p (the loss is +inf there); a quotient
        # beyond (below) the float range rounds to -inf (0), as it should.
        grad = np.where(positive, -p / np.where(positive, q, 1), 0)
        grad = _in_unit(grad, log_base)
    return _sum_to_shape(grad, q_shape)


def cross_entropy_grad(p, q, *, axis=-1, base=None):
    r"""Gradient of :func:`xentref.cross_entropy` with respect to `q`.

    Parameters
    ----------
    p, q, axis, base
        As for :func:`xentref.cross_entropy`, with the same checks.

    Returns
    -------
    grad : ndarray
        The shape and dtype of `q`: the derivative of the sum of the
        returned cross-entropies (one per pair of distributions) with
        respect to each entry of `q`. Where `q` was broadcast against `p`,
        the contributions are summed.

    Raises
    ------
    TypeError, ValueError
        As :func:`xentref.cross_entropy`.

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
    .. [1] T. M. Cover and J. A. Thomas, *Elements of Information Theory*,
       2nd ed., Wiley, 2006, section 2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(np.round(grad.cross_entropy([0.5, 0.5, 0.0], [0.25, 0.5, 0.25]), 4))
    [-2. -1.  0.]
    >>> print(grad.cross_entropy([0.5, 0.5], [1.0, 0.0]))
    [-0.5 -inf]
    """
    return _minus_p_over_q(p, q, axis, base)


def kl_divergence_grad(p, q, *, axis=-1, base=None):
    r"""Gradient of :func:`xentref.kl_divergence` with respect to `q`.

    Parameters
    ----------
    p, q, axis, base
        As for :func:`xentref.kl_divergence`, with the same checks.

    Returns
    -------
    grad : ndarray
        The shape and dtype of `q`: the derivative of the sum of the
        returned divergences with respect to each entry of `q`, summed over
        the dimensions along which `q` was broadcast.

    Raises
    ------
    TypeError, ValueError
        As :func:`xentref.kl_divergence`.

    See Also
    --------
    xentref.kl_divergence
    xentref.grad.cross_entropy : the same gradient.

    Notes
    -----
    .. math:: \frac{\partial D_{KL}(p \,\|\, q)}{\partial q_k}
              = -\frac{p_k}{q_k} \quad (\div \log b \text{ for } \texttt{base} = b)

    the gradient of the cross-entropy, since
    :math:`D_{KL}(p \| q) = H(p, q) - H(p)` and :math:`H(p)` does not
    depend on :math:`q`. Each :math:`q_k` is an independent variable; the
    entry is 0 where :math:`p_k = 0` and :math:`-\infty` where
    :math:`p_k > 0 = q_k`.

    References
    ----------
    .. [1] T. M. Cover and J. A. Thomas, *Elements of Information Theory*,
       2nd ed., Wiley, 2006, section 2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> print(grad.kl_divergence([0.5, 0.5], [0.5, 0.5], base=2))  # -1/ln 2
    [-1.44269504 -1.44269504]
    """
    return _minus_p_over_q(p, q, axis, base)
