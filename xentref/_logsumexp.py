r"""Log-sum-exp, log-softmax and softmax, accurate for tiny and huge logits.

All three share one shifted form (Blanchard, Higham and Higham 2021). With
:math:`a = \max_k x_k` attained at index :math:`m` and
:math:`s = \sum_{k \ne m} e^{x_k - a}`,

.. math::

    \operatorname{logsumexp}(x) = a + \operatorname{log1p}(s), \qquad
    \log\operatorname{softmax}(x)_k = (x_k - a) - \operatorname{log1p}(s).

Leaving the largest term out of :math:`s` is what keeps a tiny
:math:`\operatorname{log1p}(s)` accurate: ``log(1 + s)`` would round it away.
"""

from __future__ import annotations

import numpy as np

from xentref import _blocks as blocks
from xentref import _check as check
from xentref import _error_free as ef
from xentref._docs import fill
from xentref._half import round_to, working
from xentref._shift import (
    columns_of,
    log_softmax_values,
    normalise,
    scaled_exps,
    shifted_chunks,
)
from xentref._typing import ArrayLike, Result


@fill()
def logsumexp(x: ArrayLike, *, axis: int = -1) -> Result:
    r"""Logarithm of the sum of exponentials, without overflow or underflow.

    Parameters
    ----------
    x : array_like, shape (..., K)
        Real values; -inf and +inf are allowed, NaN is not.
    axis : int, optional
        The axis to reduce. Default -1 (SciPy's ``special.logsumexp`` reduces
        all axes by default).

    Returns
    -------
    lse : ndarray, shape (...)
        :math:`\log \sum_k e^{x_k}` along `axis`: -inf when every entry is
        -inf, +inf when any entry is +inf.

    Raises
    ------
    TypeError
        If `x` is not real-valued float16, bfloat16, float32 or float64
        data.
    ValueError
        If `x` contains NaN, is a scalar, or `axis` is empty or out of range.

    See Also
    --------
    log_softmax, softmax

    Notes
    -----
    .. math:: \operatorname{logsumexp}(x) = a + \operatorname{log1p}\Big(
              \sum_{k \ne m} e^{x_k - a}\Big), \quad a = x_m = \max_k x_k

    This shifted form (Blanchard, Higham and Higham, Algorithm 4.1) never
    overflows, and keeps full relative precision for the small correction
    term, which matters when the result is used to form a tiny loss.

    %(exact_shift)s

    Accuracy: :math:`\operatorname{log1p}(s)` is formed as a pair within
    :math:`2^{-57}`, and a float64 result is within 2.7 ulps of
    :math:`|a| + \log K` (K classes), the size of its two terms, not of
    itself. Near 0, where :math:`a \approx -\operatorname{log1p}(s)`, no
    bound relative to the result is possible with NumPy's exponentials:
    they give :math:`s`, and so :math:`\operatorname{log1p}(s)`, only to a
    fraction of its own ulp, and that error is unbounded relative to a
    difference that cancels. With :math:`a \ge 0` the terms have one sign:
    within 2 ulps of the correctly rounded result.

    %(narrow)s

    %(blocks)s

    References
    ----------
    .. [1] %(bhh)s
    .. [2] %(milakov)s

    Examples
    --------
    >>> import xentref
    >>> float(xentref.logsumexp([1000.0, 1000.0]))  # 1000 + log 2
    1000.6931471805599
    >>> float(xentref.logsumexp([0.0, -40.0]))  # log1p(exp(-40))
    4.248354255291589e-18
    """
    x = check.floats(x, "x", half=True)
    x_axis = check.class_axis(x, axis, "x")
    rows = blocks.as_rows(x, x_axis)

    def block(start, stop):
        z = rows[start:stop]
        top = np.max(z, axis=1).astype(np.float64)
        if np.isnan(top).any():
            raise blocks.Refused
        # Rows whose maximum is infinite are answered by it.
        finite = np.isfinite(top)
        if not finite.all():
            z = z[finite]
        normaliser, _, _ = normalise(columns_of(z), z.shape[1], keep_gaps=False)
        high, low = np.zeros(len(top)), np.zeros(len(top))
        high[finite] = normaliser.rest[0]
        if normaliser.precise:
            low[finite] = normaliser.rest[1]
        return top, high, low

    top, high, low = blocks.run(block, *rows.shape, n_results=3, check=lambda: check.no_nan(x, "x"),
                                budget=blocks.budget_for(x.dtype))
    finite = np.isfinite(top)
    if x.dtype != np.float64:
        lse = np.where(finite, top + np.log1p(high), top)
    else:
        # log1p(s) of every row at once, as a pair within 2^-57: a + L rounded once.
        with np.errstate(invalid="ignore"):
            # An infinite maximum answers its row; its pair is not used.
            lse = np.where(finite, ef.rounded(ef.add((top, np.zeros_like(top)), ef.log1p((high, low)))), top)
    return blocks.from_rows(round_to(lse, x.dtype), x, x_axis)[()]


@fill()
def log_softmax(logits: ArrayLike, *, axis: int = -1) -> Result:
    r"""Logarithm of the softmax, computed without forming the softmax.

    Parameters
    ----------
    %(logits)s
    axis : int, optional
        The class axis. Default -1 (SciPy's ``special.log_softmax`` uses all
        axes by default).

    Returns
    -------
    log_p : ndarray, shape (..., K)
        :math:`z_k - \operatorname{logsumexp}(z)`.

    Raises
    ------
    TypeError
        If `logits` is not real-valued float16, bfloat16, float32 or
        float64 data.
    ValueError
        If `logits` contains NaN or +inf, a slice along `axis` is all -inf,
        or the class axis is empty.

    See Also
    --------
    softmax, logsumexp, softmax_cross_entropy

    Notes
    -----
    .. math:: \log \operatorname{softmax}(z)_k = (z_k - a) -
              \operatorname{log1p}\Big(\sum_{j \ne m} e^{z_j - a}\Big),
              \quad a = z_m = \max_j z_j

    Unlike ``log(softmax(z))`` this never returns -inf for a finite logit
    whose probability underflows, and the entry of the largest logit keeps
    its relative precision when it is tiny. It is invariant to adding a
    constant to every logit.

    %(exact_shift)s

    Accuracy: every float64 entry is within 4 ulps of the correctly
    rounded value (its two terms have one sign).

    %(narrow)s

    %(blocks)s

    References
    ----------
    .. [1] %(bhh)s
    .. [2] %(milakov)s

    Examples
    --------
    The naive formula underflows to -inf; the log-space one does not:

    >>> import numpy as np
    >>> import xentref
    >>> z = np.array([1000.0, 1.0])
    >>> print(xentref.log_softmax(z))
    [   0. -999.]
    >>> with np.errstate(divide="ignore"):
    ...     print(np.log(xentref.softmax(z)))
    [  0. -inf]
    """
    return _per_class(logits, axis, log_softmax_values, "log", keep_gaps=True)


def _per_class(logits, axis, values, what, keep_gaps=False):
    """Run `values(part, factor, out)` over every chunk of every row of `logits`.

    `factor` is the normaliser's ``log`` or ``reciprocal``, per row.
    """
    logits, logits_axis = check.logits_array(logits, axis)
    rows = blocks.as_rows(logits, logits_axis)
    out = np.empty(rows.shape, dtype=logits.dtype)

    def block(start, stop):
        z = rows[start:stop]
        source = columns_of(z)
        normaliser, shifted, _ = normalise(source, z.shape[1], keep_gaps=keep_gaps)
        factor = getattr(normaliser, what)()
        for first, last, part in shifted_chunks(source, z.shape[1], normaliser, shifted, keep_gaps=keep_gaps):
            target, finish = working(out[start:stop, first:last])
            values(part, factor, target)
            finish()

    blocks.run(block, *rows.shape, check=lambda: check.logits(logits, axis), budget=blocks.budget_for(logits.dtype))
    return blocks.from_rows(out, logits, logits_axis)


@fill()
def softmax(logits: ArrayLike, *, axis: int = -1) -> Result:
    r"""Normalised exponentials of the logits: a probability distribution.

    Parameters
    ----------
    %(logits)s
    axis : int, optional
        The class axis. Default -1 (SciPy's ``special.softmax`` uses all
        axes by default).

    Returns
    -------
    p : ndarray, shape (..., K)
        :math:`e^{z_k} / \sum_j e^{z_j}`; non-negative, summing to 1.

    Raises
    ------
    TypeError
        If `logits` is not real-valued float16, bfloat16, float32 or
        float64 data.
    ValueError
        If `logits` contains NaN or +inf, a slice along `axis` is all -inf,
        or the class axis is empty.

    See Also
    --------
    log_softmax, logsumexp

    Notes
    -----
    .. math:: \operatorname{softmax}(z)_k = \frac{e^{z_k - a}}{1 + \sum_{j \ne m}
              e^{z_j - a}}, \quad a = z_m = \max_j z_j

    the shifted form of Blanchard, Higham and Higham (their Theorem 4.3
    bounds its error by :math:`n + 2 + 2(\max z - \min z)` units of
    roundoff; with the gaps kept exactly it is far smaller). Entries whose
    probability is below the smallest float underflow to 0, or to a
    subnormal; use :func:`log_softmax` when their logarithm is needed.

    %(exact_shift)s

    Accuracy: every float64 entry is within 4 ulps of the correctly
    rounded value: the exponential (0.8 ulp), :math:`1/(1 + s)` (0.8 ulp
    through :math:`s`) and two roundings.

    %(narrow)s

    %(blocks)s

    References
    ----------
    .. [1] %(bhh)s
    .. [2] %(milakov)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> p = xentref.softmax(np.array([1000.0, 1000.0, -np.inf]))
    >>> print(p)
    [0.5 0.5 0. ]
    """
    return _per_class(logits, axis, scaled_exps, "reciprocal")
