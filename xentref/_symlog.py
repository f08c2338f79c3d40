r"""The symmetric logarithm and its inverse, for values of any magnitude.

.. math::

    \operatorname{symlog}(x) = \operatorname{sign}(x) \log(1 + |x|), \qquad
    \operatorname{symexp}(y) = \operatorname{sign}(y) (e^{|y|} - 1).

Both are computed with ``log1p`` and ``expm1``, so a small argument keeps
its relative precision: near 0 both functions are the identity to first
order.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._typing import ArrayLike, Result


@fill()
def symlog(x: ArrayLike) -> Result:
    r"""The symmetric logarithm :math:`\operatorname{sign}(x) \log(1 + |x|)`.

    Parameters
    ----------
    %(values_x)s

    Returns
    -------
    y : ndarray or scalar
        :math:`\operatorname{symlog}(x)` elementwise, in the dtype of `x`;
        :math:`\pm\infty` at :math:`\pm\infty`.

    Raises
    ------
    %(values_raises)s

    See Also
    --------
    symexp : its inverse.
    two_hot_targets : DreamerV3 encodes ``symlog(values)`` on an evenly
        spaced support.

    Notes
    -----
    The function is odd, increasing, equal to :math:`x - x^2/2 + O(x^3)`
    near 0 and to :math:`\log |x|` plus a vanishing term for large
    :math:`|x|`: it compresses values that span many orders of magnitude
    onto a range where evenly spaced bins suit them. It is computed as
    ``sign(x) * log1p(|x|)``; ``log(1 + |x|)`` would lose every digit for
    :math:`|x|` below the machine epsilon.

    References
    ----------
    .. [1] %(hafner)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> print(np.round(xentref.symlog([-999.0, -1.0, 0.0, 1e-20, 1e6]), 4))
    [-6.9078 -0.6931  0.      0.     13.8155]
    >>> float(xentref.symlog(1e-20))  # log1p keeps it; log(1 + x) gives 0.0
    1e-20
    """
    x = check.values(x, "x")
    return (np.sign(x) * np.log1p(np.abs(x)))[()]


@fill()
def symexp(x: ArrayLike) -> Result:
    r"""The inverse of :func:`symlog`, :math:`\operatorname{sign}(x) (e^{|x|} - 1)`.

    Parameters
    ----------
    %(values_x)s

    Returns
    -------
    y : ndarray or scalar
        :math:`\operatorname{symexp}(x)` elementwise, in the dtype of `x`;
        :math:`\pm\infty` where the value is beyond the float range
        (:math:`|x| > 709.78` in float64, :math:`|x| > 88.72` in float32).

    Raises
    ------
    %(values_raises)s

    See Also
    --------
    symlog : its inverse.

    Notes
    -----
    Computed as ``sign(x) * expm1(|x|)``, which keeps the digits of a small
    result that ``exp(|x|) - 1`` would cancel. ``symexp(symlog(x))`` equals
    `x` up to the rounding of the two functions.

    References
    ----------
    .. [1] %(hafner)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> x = np.array([-1e6, -2.5, 0.0, 3e-300, 42.0])
    >>> bool(np.allclose(xentref.symexp(xentref.symlog(x)), x, rtol=1e-14, atol=0))
    True
    >>> print(xentref.symexp(np.array([800.0, -800.0])))
    [ inf -inf]
    """
    x = check.values(x, "x")
    with np.errstate(over="ignore"):
        # A value beyond the float range rounds to +-inf, as IEEE overflow does.
        return (np.sign(x) * np.expm1(np.abs(x)))[()]
