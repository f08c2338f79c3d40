r"""The logistic sigmoid, its logarithm and softplus, accurate for every input.

The sigmoid is formed as a quotient of terms that cannot overflow. The other
two rest on one form that never overflows and keeps a tiny result's digits:

.. math::

    \operatorname{softplus}(x) = \log(1 + e^x)
        = \max(x, 0) + \operatorname{log1p}(e^{-|x|}), \qquad
    \log\sigma(x) = -\operatorname{softplus}(-x).

The two terms on the right are never of opposite sign, so nothing cancels.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._typing import ArrayLike, Result


def softplus_unchecked(x):
    """softplus of a float array without NaN; +-inf give inf and 0."""
    with np.errstate(under="ignore"):
        # exp(-|x|) below the float range is 0, and log1p(0) = 0 is then the
        # correctly rounded correction.
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid_unchecked(x):
    r""":math:`\sigma(x) = 1 / (1 + e^{-x})` to a few ulps, for the gradients.

    With :math:`e = e^{-|x|} \le 1` it is :math:`1/(1 + e)` for
    :math:`x \ge 0` and :math:`e/(1 + e)` below, so a tiny :math:`\sigma(x)`
    is formed by a quotient, never by a difference.
    """
    with np.errstate(under="ignore"):
        # e^{-|x|} and e/(1 + e) below the float range round to 0.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@fill()
def sigmoid(x: ArrayLike) -> Result:
    r"""The logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`.

    Parameters
    ----------
    %(values_x)s

    Returns
    -------
    p : ndarray or scalar
        :math:`\sigma(x)` elementwise, in the dtype of `x`: the probability of
        the positive class for the logit `x`. Exactly 0 and 1 only where the
        true value rounds to them.

    Raises
    ------
    %(values_raises)s

    See Also
    --------
    log_sigmoid : :math:`\log \sigma(x)`, which keeps its digits where
        :math:`\sigma(x)` rounds to 1.
    softmax : the multi-class generalisation;
        :math:`\operatorname{softmax}(0, x)_1 = \sigma(x)`.

    Notes
    -----
    With :math:`e = e^{-|x|} \le 1`,

    .. math:: \sigma(x) = \begin{cases} 1 / (1 + e), & x \ge 0, \\
              e / (1 + e), & x < 0, \end{cases}

    so :math:`e^{-x}` never overflows and a tiny :math:`\sigma(x)` is a
    quotient, with full relative precision, rather than a difference. The
    identity :math:`1 - \sigma(x) = \sigma(-x)` is the accurate way to get
    the probability of the negative class.

    References
    ----------
    .. [1] %(goodfellow)s, section 3.10.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> print(xentref.sigmoid(np.array([-1e300, 0.0, 1e300])))
    [0.  0.5 1. ]
    >>> print(f"{xentref.sigmoid(-40.0):.6e}")  # e^-40 / (1 + e^-40)
    4.248354e-18
    """
    return sigmoid_unchecked(check.values(x, "x"))[()]


@fill()
def softplus(x: ArrayLike) -> Result:
    r"""The softplus :math:`\log(1 + e^x)`, a smooth :math:`\max(x, 0)`.

    Parameters
    ----------
    x : array_like
        Real values of any shape; -inf and +inf are allowed, NaN is not.

    Returns
    -------
    y : ndarray or scalar
        :math:`\log(1 + e^x)` elementwise, in the dtype of `x`: positive, 0
        only where :math:`e^x` is below the smallest float (``x < -745`` in
        float64), and ``inf`` only for ``x = inf``.

    Raises
    ------
    %(values_raises)s

    See Also
    --------
    log_sigmoid : :math:`-\operatorname{softplus}(-x)`.
    sigmoid_binary_cross_entropy

    Notes
    -----
    .. math:: \operatorname{softplus}(x) = \max(x, 0) +
              \operatorname{log1p}\big(e^{-|x|}\big)

    Both terms are non-negative, so their sum is accurate to a few ulps, and
    :math:`e^{-|x|} \le 1` cannot overflow: ``softplus(1e300)`` is ``1e300``
    and ``softplus(-30)`` is :math:`\operatorname{log1p}(e^{-30})` with all
    its digits, where ``log(1 + exp(-30))`` would lose about three.
    Mächler [1]_ analyses the rounding of :math:`\log(1 + e^x)` in detail.

    References
    ----------
    .. [1] %(machler)s
    .. [2] %(goodfellow)s, section 3.10.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> print(xentref.softplus(np.array([-1e300, 0.0, 1e300])))
    [0.00000000e+000 6.93147181e-001 1.00000000e+300]
    >>> print(f"{xentref.softplus(-30.0):.6e}")  # e^-30 - e^-60/2 + ...
    9.357623e-14
    """
    return softplus_unchecked(check.values(x, "x"))[()]


@fill()
def log_sigmoid(x: ArrayLike) -> Result:
    r"""The log-sigmoid, :math:`\log \sigma(x) = -\log(1 + e^{-x})`.

    Parameters
    ----------
    %(values_x)s

    Returns
    -------
    y : ndarray or scalar
        :math:`\log \sigma(x)` elementwise, in the dtype of `x`: negative,
        ``-inf`` only for ``x = -inf``. Where :math:`e^{-x}` is below the
        smallest float (``x > 745`` in float64) it rounds to ``-0.0``.

    Raises
    ------
    %(values_raises)s

    See Also
    --------
    softplus
    sigmoid_binary_cross_entropy : the loss built from it.

    Notes
    -----
    .. math:: \log \sigma(x) = -\operatorname{softplus}(-x)
              = \min(x, 0) - \operatorname{log1p}\big(e^{-|x|}\big)

    :math:`\log(1 - \sigma(x)) = \log \sigma(-x)`, so the log-probabilities of
    both classes of a binary prediction come from this one function without
    forming :math:`1 - \sigma(x)`. ``log(sigmoid(40))`` rounds to 0;
    ``log_sigmoid(40)`` is :math:`-4.248 \times 10^{-18}` with all its digits,
    and ``log_sigmoid(-1e300)`` is ``-1e300`` rather than ``-inf``. SciPy
    calls this function ``special.log_expit``.

    References
    ----------
    .. [1] %(machler)s
    .. [2] %(goodfellow)s, section 3.10.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> print(f"{xentref.log_sigmoid(40.0):.6e}")
    -4.248354e-18
    >>> print(xentref.log_sigmoid(np.array([-1e300, 0.0])))
    [-1.00000000e+300 -6.93147181e-001]

    The two classes' log-probabilities are log_sigmoid(x) and log_sigmoid(-x):

    >>> x = np.array([-2.0, 0.5, 3.0])
    >>> bool(
    ...     np.allclose(
    ...         np.exp(xentref.log_sigmoid(x))
    ...         + np.exp(xentref.log_sigmoid(-x)),
    ...         1,
    ...     )
    ... )
    True
    """
    return (-softplus_unchecked(-check.values(x, "x")))[()]
