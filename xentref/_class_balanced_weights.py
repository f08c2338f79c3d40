r"""Class weights from the effective number of samples (Cui et al. 2019)."""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._typing import ArrayLike, Result


def log_beta(beta):
    """:math:`\\log \\beta` as a float, -inf for 0.

    Above 1/2, :math:`1 - \\beta` is exact (Sterbenz), so log1p of its
    negative keeps the digits that ``log(beta)`` would lose near 1.
    """
    if beta == 0:
        return -np.inf
    return float(np.log1p(-(1 - beta))) if beta >= 0.5 else float(np.log(beta))


@fill()
def class_balanced_weights(
    counts: ArrayLike, *, beta: float, axis: int = -1
) -> Result:
    r"""Class weights inversely proportional to the effective number of
    samples.

    Parameters
    ----------
    counts : array_like, shape (..., K)
        The number of samples of each class along `axis`: finite and at
        least 1. Integers become float64.
    beta : float
        :math:`\beta \in [0, 1)`. 0 gives equal weights; as
        :math:`\beta \to 1` the weights tend to inverse frequency. Cui et al.
        use 0.9, 0.99, 0.999 and 0.9999.
    %(axis)s

    Returns
    -------
    weights : ndarray, shape (..., K)
        Positive weights summing to K along `axis`, in the dtype of
        `counts`; use them as the per-class :math:`\alpha` of
        :func:`softmax_focal_loss`.

    Raises
    ------
    TypeError
        If `counts` is not real-valued float32/float64 or integer data, or
        `beta` is not a real number.
    ValueError
        If `counts` contains NaN, an infinite count or one below 1, the
        class axis is empty, or `beta` is outside [0, 1).

    See Also
    --------
    softmax_focal_loss, sigmoid_focal_loss

    Notes
    -----
    The effective number of :math:`n` samples is
    :math:`E_n = (1 - \beta^n)/(1 - \beta)`, and

    .. math:: w_c = K \, \frac{1 / E_{n_c}}{\sum_j 1 / E_{n_j}}.

    :math:`1 - \beta^n` is computed as :math:`-\operatorname{expm1}(n \log
    \beta)`, which keeps its digits where :math:`\beta^n` is close to 1
    (:math:`\beta` near 1 and :math:`n` small) and ``1 - beta**n`` would
    cancel; the common factor :math:`1 - \beta` cancels in the ratio. No
    framework ships this function; scikit-learn's
    ``compute_class_weight("balanced")`` is proportional to its
    :math:`\beta \to 1` limit.

    References
    ----------
    .. [1] %(cui)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> counts = np.array([1000, 100, 10])
    >>> print(xentref.class_balanced_weights(counts, beta=0))
    [1. 1. 1.]
    >>> print(np.round(xentref.class_balanced_weights(counts, beta=0.99), 4))
    [0.2301 0.363  2.4068]

    Close to 1 the weights are inverse frequency, normalised:

    >>> w = xentref.class_balanced_weights(counts, beta=1 - 1e-12)
    >>> inverse = 3 * (1 / counts) / np.sum(1 / counts)
    >>> bool(np.allclose(w, inverse, rtol=1e-8))
    True
    """
    counts, index = check.counts(counts, axis, "counts")
    beta = check.number(beta, "beta", "[0, 1)")
    with np.errstate(under="ignore"):
        # beta^n below the float range leaves 1 - beta^n = 1, as it should.
        effective = -np.expm1(counts * counts.dtype.type(log_beta(beta)))
    inverse = 1 / effective
    return counts.shape[index] * (
        inverse / np.sum(inverse, axis=index, keepdims=True)
    )
