r"""Regression targets as distributions over bins, and their decoding.

A real value :math:`y` becomes a probability vector over :math:`K` classes,
which a classifier learns with cross-entropy; a predicted vector :math:`q`
is turned back into a value by its expectation over the classes' positions.
:func:`binned_targets` puts all the mass on the bin that holds :math:`y`,
:func:`two_hot_targets` splits it between the two support points around
:math:`y` so that the expectation is :math:`y` itself, and
:func:`hl_gauss_targets` spreads it as a Gaussian's mass on each bin.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._typing import ArrayLike, Result


def encoded(values, points, name, kind):
    """`values` as floats, and `points` (bin edges or support points) read in their dtype.

    Values must lie in ``[points[0], points[-1]]``: nothing is clipped.
    """
    values = check.floats(values, "values")
    points = check.increasing(points, name, values.dtype, kind)
    return check.within(values, points, "values", name), points


@fill()
def binned_targets(values: ArrayLike, edges: ArrayLike) -> Result:
    r"""One-hot targets: the bin of each value, among bins given by their edges.

    Parameters
    ----------
    values : array_like, shape (...)
        Real values, each in ``[edges[0], edges[-1]]``. Integers become
        float64.
    edges : array_like, shape (K + 1,)
        Strictly increasing, finite bin edges, at least 2, read in the dtype
        of `values`.

    Returns
    -------
    targets : ndarray, shape (..., K)
        1 at the bin of each value and 0 elsewhere, in the dtype of
        `values`: probability targets for :func:`softmax_cross_entropy`.

    Raises
    ------
    TypeError
        If `values` or `edges` is not real-valued float32/float64 or integer
        data.
    ValueError
        If `edges` is not 1-D, has fewer than 2 entries, contains NaN or an
        infinity (also one that appears when it is read in the dtype of
        `values`), is not strictly increasing, or spans more than the float
        range; or if a value is NaN or lies outside the edges.

    See Also
    --------
    expected_value : decodes a predicted distribution; pass the bin centres.
    two_hot_targets, hl_gauss_targets

    Notes
    -----
    Bin :math:`k` (from 0) holds the values with :math:`e_k \le y < e_{k+1}`;
    the last bin also holds its right edge :math:`e_K`, as in
    ``numpy.histogram``:

    .. math:: t_k = [\,e_k \le y < e_{k+1}\,], \qquad k = 0, \dots, K - 1.

    The bin is all the target says about :math:`y`: decoded by its centre
    :math:`c_k = (e_k + e_{k+1})/2`, the value comes back within half a bin
    width, and the cross-entropy charges a prediction on the next bin as
    much as one on the farthest. Values outside the edges are refused
    rather than put in the end bins; clip them yourself if that is what you
    mean.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> edges = np.array([0.0, 1.0, 2.0, 4.0])
    >>> print(xentref.binned_targets([0.5, 1.0, 3.9, 4.0], edges))
    [[1. 0. 0.]
     [0. 1. 0.]
     [0. 0. 1.]
     [0. 0. 1.]]

    Decoded by the bin centres, a value comes back within half its bin:

    >>> centres = (edges[:-1] + edges[1:]) / 2
    >>> float(xentref.expected_value(xentref.binned_targets(3.9, edges), centres))
    3.0
    """
    values, edges = encoded(values, edges, "edges", "bin edges")
    n_bins = edges.size - 1
    index = np.minimum(np.searchsorted(edges, values, side="right") - 1, n_bins - 1)
    return (index[..., np.newaxis] == np.arange(n_bins)).astype(values.dtype)


@fill()
def two_hot_targets(values: ArrayLike, support: ArrayLike) -> Result:
    r"""Two-hot targets: each value split between the two support points around it.

    Parameters
    ----------
    values : array_like, shape (...)
        Real values, each in ``[support[0], support[-1]]``. Integers become
        float64.
    support : array_like, shape (K,)
        Strictly increasing, finite support points, at least 2, read in the
        dtype of `values`.

    Returns
    -------
    targets : ndarray, shape (..., K)
        In the dtype of `values`: at most two adjacent non-zero entries per
        value, summing to 1 within two rounding errors.

    Raises
    ------
    TypeError
        If `values` or `support` is not real-valued float32/float64 or
        integer data.
    ValueError
        If `support` is not 1-D, has fewer than 2 entries, contains NaN or an
        infinity, is not strictly increasing, or spans more than the float
        range; or if a value is NaN or lies outside the support.

    See Also
    --------
    expected_value : its expectation over `support` is the value itself.
    symlog : DreamerV3 encodes ``symlog(values)`` and decodes with
        :func:`symexp`.
    binned_targets, hl_gauss_targets

    Notes
    -----
    For :math:`s_i \le y \le s_{i+1}`,

    .. math::

        t_i = \frac{s_{i+1} - y}{s_{i+1} - s_i}, \qquad
        t_{i+1} = \frac{y - s_i}{s_{i+1} - s_i},

    and :math:`t_k = 0` elsewhere: linear interpolation, so that
    :math:`\sum_k t_k s_k = y` exactly in real arithmetic. It is the one
    distribution on two neighbouring support points with mean :math:`y`.
    Both weights are formed from differences with `y`, never as
    :math:`1 - t_{i+1}`, so a small weight keeps its relative precision. A
    value on a support point gets weight 1 there. MuZero [1]_ (on Atari,
    after a transform that compresses large values) and DreamerV3 [2]_
    (after :func:`symlog`) train their value and reward predictions on
    these targets.

    References
    ----------
    .. [1] %(schrittwieser)s
    .. [2] %(hafner)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> support = np.arange(6.0)
    >>> t = xentref.two_hot_targets(3.75, support)
    >>> print(t)
    [0.   0.   0.   0.25 0.75 0.  ]
    >>> float(xentref.expected_value(t, support))
    3.75
    """
    values, support = encoded(values, support, "support", "support points")
    lower = np.minimum(np.searchsorted(support, values, side="right") - 1, support.size - 2)
    below, above = support[lower], support[lower + 1]
    with np.errstate(under="ignore"):
        # A weight below the normal range rounds to a subnormal or 0.
        width = above - below
        weights_below = (above - values) / width
        weights_above = (values - below) / width
    targets = np.zeros((*values.shape, support.size), dtype=values.dtype)
    index = lower[..., np.newaxis]
    np.put_along_axis(targets, index, weights_below[..., np.newaxis], axis=-1)
    np.put_along_axis(targets, index + 1, weights_above[..., np.newaxis], axis=-1)
    return targets


@fill()
def expected_value(probs: ArrayLike, support: ArrayLike, *, axis: int = -1) -> Result:
    r"""The expectation :math:`\sum_k q_k s_k` of support points under predicted probabilities.

    Parameters
    ----------
    probs : array_like, shape (..., K)
        Probabilities along `axis`: each in [0, 1], summing to 1 within the
        square root of machine epsilon. Nothing is renormalised.
    support : array_like, shape (K,)
        The value each class stands for, strictly increasing and finite,
        read in the dtype of `probs`; one class is allowed. The support
        points of :func:`two_hot_targets`, or the bin centres
        ``(edges[:-1] + edges[1:]) / 2`` for :func:`binned_targets` and
        :func:`hl_gauss_targets`.
    %(axis)s

    Returns
    -------
    value : ndarray or scalar, shape (...)
        The expectation for each distribution, in the dtype of `probs`.

    Raises
    ------
    TypeError
        If `probs` or `support` is not real-valued float32/float64 data.
    ValueError
        If `probs` is not a distribution along `axis` (NaN, a negative
        entry, an entry above 1, a sum off 1), if `support` is not 1-D,
        finite and strictly increasing, or if it does not have one point
        per class.

    See Also
    --------
    two_hot_targets : whose expectation is the encoded value.
    binned_targets, hl_gauss_targets

    Notes
    -----
    .. math:: \hat y = \sum_{k=0}^{K-1} q_k s_k

    The decoders of MuZero, DreamerV3 and HL-Gauss. The mode,
    ``support[argmax(probs)]``, is the other common choice; it moves in
    whole steps of the support. Terms of opposite sign may cancel, so the
    result is accurate to a few ulps of :math:`\sum_k q_k |s_k|`.

    References
    ----------
    .. [1] %(farebrother)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> probs = np.array([[0.1, 0.6, 0.3], [0.0, 0.0, 1.0]])
    >>> print(xentref.expected_value(probs, [-1.0, 0.0, 2.0]))
    [0.5 2. ]
    """
    probs, axis = check.distribution(probs, axis, "probs")
    support = check.increasing(support, "support", probs.dtype, "support points", minimum=1)
    check.one_per_class(support, probs, axis, "support", "probs")
    shape = [1] * probs.ndim
    shape[axis] = support.size
    with np.errstate(under="ignore", over="ignore"):
        # Products below the normal range round toward 0; an expectation past
        # the largest float (probabilities summing to just above 1 on points
        # near it) rounds to +-inf, as IEEE overflow does.
        return np.sum(probs * support.reshape(shape), axis=axis)[()]
