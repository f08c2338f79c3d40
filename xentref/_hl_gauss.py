r"""Histogram targets from a Gaussian's mass on each bin (HL-Gauss).

The mass of :math:`N(y, \sigma^2)` on a bin is a difference of two values
of the normal distribution function :math:`\Phi`. Far from :math:`y` both
values are within rounding of 0 or of 1, and a difference of two numbers
near 1 keeps only the digits below 1: at :math:`6\sigma` from the mean the
mass, about :math:`10^{-9}`, keeps seven digits, and beyond :math:`8.3\sigma`
none, since :math:`\Phi` rounds to 1 there. So each mass is taken between
the tails on the side of the mean where its bin lies,

.. math::

    \Phi(b) - \Phi(a) = \tfrac12\big[\operatorname{erfc}(a/\sqrt2)
        - \operatorname{erfc}(b/\sqrt2)\big] \quad (0 \le a < b),

small numbers that keep their relative precision down to the smallest
float; the bin that holds :math:`y` adds the two positive values
:math:`\operatorname{erf}(b/\sqrt2)` and :math:`\operatorname{erf}(-a/\sqrt2)`.
"""

from __future__ import annotations

import math

import numpy as np

from xentref import _check as check
from xentref._binning import encoded
from xentref._docs import fill
from xentref._typing import ArrayLike, Result

SQRT_HALF = math.sqrt(0.5)
_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _normalize(normalize):
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"`normalize` must be True or False; got {normalize!r}")
    return bool(normalize)


def gaussian_masses(values, edges, sigma):
    """The Gaussian's mass on each bin, and inside all of them, in float64.

    `values` have shape (...) and lie within `edges`, of shape (K + 1,);
    the masses have shape (..., K) and the captured mass shape (...).
    """
    with np.errstate(over="ignore", under="ignore"):
        # A distance of more than the float range in units of sigma is an
        # infinite argument, whose tails are exactly 0 and 2; one below the
        # normal range is as good as 0 to erf and erfc.
        t = (edges.astype(np.float64) - values.astype(np.float64)[..., np.newaxis]) / sigma * SQRT_HALF
    low, high = t[..., :-1], t[..., 1:]
    holds_mean = (low < 0) & (high > 0)
    with np.errstate(under="ignore"):
        # A tail below the float range is 0, and erf of an argument near
        # the smallest float is a subnormal: both as they should be.
        # The tail beyond each edge on its own side of the mean, erfc(|t|).
        tails = _erfc(np.abs(t))
        tail_low, tail_high = tails[..., :-1], tails[..., 1:]
        masses = np.where(low >= 0, tail_low - tail_high, tail_high - tail_low)
        masses[holds_mean] = _erf(-low[holds_mean]) + _erf(high[holds_mean])
        # The support holds the mean: erf of its two ends' distances, both >= 0.
        captured = _erf(-t[..., 0]) + _erf(t[..., -1])
        return masses / 2, captured / 2


@fill()
def hl_gauss_targets(values: ArrayLike, edges: ArrayLike, *, sigma: float, normalize: bool = True) -> Result:
    r"""Histogram targets: the mass of a Gaussian around each value on each bin.

    Parameters
    ----------
    values : array_like, shape (...)
        Real values, the means of the Gaussians, each in
        ``[edges[0], edges[-1]]``. Integers become float64.
    edges : array_like, shape (K + 1,)
        Strictly increasing, finite bin edges, at least 2, read in the dtype
        of `values`.
    sigma : float
        The standard deviation :math:`\sigma > 0`, in the units of
        `values`. Farebrother et al. tie it to the bin width.
    normalize : bool, optional
        True (default): divide the masses by the mass inside the support, so
        that they sum to 1, as Farebrother et al. do. False: return the
        masses themselves, which sum to the captured mass :math:`Z < 1`.

    Returns
    -------
    targets : ndarray, shape (..., K)
        The (normalised) mass of :math:`N(y, \sigma^2)` on each bin, in the
        dtype of `values`.

    Raises
    ------
    TypeError
        If `values` or `edges` is not real-valued float32/float64 or integer
        data, `sigma` is not a real number, or `normalize` is not a bool.
    ValueError
        If `edges` is not 1-D, has fewer than 2 entries, contains NaN or an
        infinity, is not strictly increasing, or spans more than the float
        range; if a value is NaN or lies outside the edges; if `sigma` is not
        positive and finite; or, with `normalize`, if `sigma` is so large
        against the support that the mass inside it is below the smallest
        normal float64 and no longer has its digits.

    See Also
    --------
    expected_value : decodes a predicted distribution; pass the bin centres.
    binned_targets, two_hot_targets

    Notes
    -----
    With :math:`\Phi` the standard normal distribution function and
    :math:`e_0 < \dots < e_K` the edges, the mass on bin :math:`k` and the
    mass inside the support are

    .. math::

        m_k &= \Phi\Big(\frac{e_{k+1} - y}{\sigma}\Big)
            - \Phi\Big(\frac{e_k - y}{\sigma}\Big), \\
        Z &= \sum_k m_k = \Phi\Big(\frac{e_K - y}{\sigma}\Big)
            - \Phi\Big(\frac{e_0 - y}{\sigma}\Big).

    The mass :math:`1 - Z` that lies beyond the edges is lost: it is at
    least :math:`1 - \operatorname{erf}(w / (2\sqrt2\,\sigma))` for a
    support of width :math:`w` and is largest for a value on an edge, where
    it is at least one half. With `normalize` (the default, as in Farebrother
    et al. [2]_) the targets are :math:`m_k / Z`, the Gaussian truncated to
    the support; without, they are :math:`m_k`, which sum to :math:`Z`, and
    are not probability targets for :func:`softmax_cross_entropy` unless
    :math:`Z` is within its tolerance of 1. Nothing else is renormalised.

    The truncation pulls the decoded value :math:`\sum_k (m_k/Z)\, c_k`
    towards the middle of the support: for a value on an edge the
    normalised targets are half a Gaussian, whose mean lies
    :math:`\sigma\sqrt{2/\pi} \approx 0.8\,\sigma` inside, and the bin
    centres move it further (the example below). Far from the edges the only bias
    is that of replacing each point of a bin by its centre, which for bins
    of width :math:`h` is at most
    :math:`(h/\pi) \sum_{n \ge 1} e^{-2\pi^2 n^2 \sigma^2/h^2} / n`
    (the Fourier series of the rounding error, a sawtooth), about
    :math:`4.8 \times 10^{-6} h` for :math:`\sigma = 0.75 h`.

    Each mass is computed in float64 from ``math.erfc`` (or ``math.erf``
    for the bin that holds the mean) as the module docstring explains, and
    then rounded to the dtype of `values`. A relative rounding
    :math:`\varepsilon` of the argument :math:`t = (e - y)/\sigma` changes a
    tail :math:`\operatorname{erfc}(t/\sqrt2)` by about :math:`t^2
    \varepsilon` relatively: far tails carry that amplified error, which is
    the conditioning of the mass in its inputs, and masses of bins much
    narrower than :math:`\sigma` are differences of nearby tails.

    References
    ----------
    .. [1] %(imani)s
    .. [2] %(farebrother)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> edges = np.linspace(0.0, 10.0, 11)
    >>> t = xentref.hl_gauss_targets(5.5, edges, sigma=0.75)
    >>> print(np.round(t, 4).tolist())
    [0.0, 0.0, 0.0004, 0.0223, 0.2297, 0.495, 0.2297, 0.0223, 0.0004, 0.0]

    A value on an edge loses half of the Gaussian's mass beyond it; the
    normalised targets decode to a value inside the support:

    >>> m = xentref.hl_gauss_targets(0.0, edges, sigma=0.75, normalize=False)
    >>> print(f"{m.sum():.6f}")
    0.500000
    >>> centres = (edges[:-1] + edges[1:]) / 2
    >>> t = xentref.hl_gauss_targets(0.0, edges, sigma=0.75)
    >>> print(f"{xentref.expected_value(t, centres):.4f}")
    0.6901
    """
    values, edges = encoded(values, edges, "edges", "bin edges")
    sigma = check.number(sigma, "sigma", "(0, inf)")
    normalize = _normalize(normalize)
    masses, captured = gaussian_masses(values, edges, sigma)
    if not normalize:
        with np.errstate(under="ignore"):
            # A float32 mass below the normal range rounds to a subnormal or 0.
            return masses.astype(values.dtype)
    tiny = np.finfo(np.float64).tiny
    short = captured < tiny
    if np.any(short):
        at = check.first_index(short) if short.ndim else ()
        raise ValueError(
            f"`sigma` {sigma!r} is too wide for the support of width "
            f"{float(edges[-1]) - float(edges[0])!r}: the mass it leaves inside is "
            f"{np.asarray(captured)[at].item()!r}, below the normal float64 range"
            + (f", for the value at index {at}" if at else "")
        )
    with np.errstate(under="ignore"):
        # A normalised mass below the normal range rounds to a subnormal or 0.
        return (masses / captured[..., np.newaxis]).astype(values.dtype)
