"""Expected calibration error of a classifier's confidences, by equal-width
bins.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._typing import ArrayLike, Result


def _n_bins(n_bins):
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)):
        raise TypeError(f"`n_bins` must be an integer; got {n_bins!r}")
    if n_bins < 1:
        raise ValueError(f"`n_bins` must be at least 1; got {n_bins}")
    return int(n_bins)


def _checked(probs, labels, axis, n_bins):
    probs, axis = check.distribution(probs, axis, "probs")
    labels = check.labels(labels, probs, axis, "labels")
    n_bins = _n_bins(n_bins)
    if labels.size == 0:
        raise ValueError(
            "the expected calibration error of an empty batch (0 examples) is "
            "undefined"
        )
    return probs, axis, labels, n_bins


def bin_edges(n_bins):
    """The float64 edges ``fl(m / n_bins)``, m = 0, ..., n_bins, each correctly
    rounded.
    """
    return np.arange(n_bins + 1) / n_bins


def confidence_bins(probs, labels, *, axis=-1, n_bins=15):
    """Each example's confidence, whether it is right, and its bin.

    The confidence is the largest probability along `axis`, the prediction
    is the first class that has it, and the bin of a confidence c is the m
    in [0, n_bins) with ``fl(m / n_bins) < c <= fl((m + 1) / n_bins)``; the
    last bin also holds a confidence above 1 that the tolerance on a sum
    admits. Arguments as for :func:`expected_calibration_error`, which
    checks them. Returns three flat arrays: confidences (in the dtype of
    `probs`), correctness (bool) and bins (int).
    """
    probs, axis, labels, n_bins = _checked(probs, labels, axis, n_bins)
    confidence = np.max(probs, axis=axis).ravel()
    prediction = np.argmax(probs, axis=axis).ravel()
    correct = prediction == np.squeeze(labels, axis=axis).ravel()
    # searchsorted compares exactly (a float32 confidence is widened to
    # float64), so a confidence equal to an edge goes to the bin below it.
    bins = np.searchsorted(bin_edges(n_bins), confidence, side="left") - 1
    return confidence, correct, np.minimum(bins, n_bins - 1)


def expected_calibration_error(
    probs: ArrayLike, labels: ArrayLike, *, axis: int = -1, n_bins: int = 15
) -> Result:
    r"""Expected calibration error: the mean gap between confidence and
    accuracy.

    Parameters
    ----------
    probs : array_like, shape (..., K)
        Predicted probabilities along `axis`: non-negative and finite, each
        slice summing to 1 within the square root of machine epsilon.
    labels : array_like of int, shape (...)
        The true class of each example, in [0, K).
    axis : int, optional
        The class axis. Default -1.
    n_bins : int, optional
        The number of equal-width confidence bins on (0, 1]. Default 15,
        as in Guo et al. [1]_.

    Returns
    -------
    ece : float32 or float64 scalar
        In the dtype of `probs`, in [0, 1].

    Raises
    ------
    TypeError
        If `probs` is not real-valued float32/float64 data, `labels` are
        not integers, or `n_bins` is not an integer.
    ValueError
        If `probs` is not a distribution along `axis`, a label is out of
        range or the labels' shape does not fit, `n_bins` is below 1, or
        the batch is empty.

    See Also
    --------
    brier_score : a proper scoring rule, which rewards calibration and
        sharpness together.

    Notes
    -----
    Each example i has a confidence :math:`c_i = \max_k q_{ik}`, a
    prediction :math:`\hat y_i`, the first class with that probability,
    and a bin :math:`B_m` with :math:`e_{m-1} < c_i \le e_m`, where the
    edges :math:`e_m` are the float64 numbers nearest to :math:`m / M`
    (the last bin also holds a confidence above 1 that the sum tolerance
    admits). Over N examples,

    .. math::

        \mathrm{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{N}
            \left| \mathrm{acc}(B_m) - \mathrm{conf}(B_m) \right|
        = \frac{1}{N} \sum_{m=1}^{M}
            \Big| \sum_{i \in B_m} \big([\hat y_i = y_i] - c_i\big) \Big|,

    with the accuracy and mean confidence of each bin; empty bins
    contribute nothing. All examples of the batch are pooled: the result is
    one number, not one per example.

    It has no gradient: as a function of `probs` it is piecewise linear
    with jumps where a confidence crosses an edge or the predicted class
    changes, and it is not a proper scoring rule (a classifier that always
    predicts the class frequencies has ECE near 0 however little it knows).
    Its value depends on `n_bins` and, for small bins, on sampling noise.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On calibration
       of modern neural networks", ICML 2017. https://arxiv.org/abs/1706.04599
    .. [2] M. P. Naeini, G. F. Cooper and M. Hauskrecht, "Obtaining well
       calibrated probabilities using Bayesian binning", AAAI 2015.
       https://doi.org/10.1609/aaai.v29i1.9602

    Examples
    --------
    Four predictions with confidence 0.75, three of them right: calibrated.

    >>> import xentref
    >>> q = [[0.75, 0.25], [0.75, 0.25], [0.25, 0.75], [0.25, 0.75]]
    >>> float(xentref.expected_calibration_error(q, [0, 0, 1, 0]))
    0.0

    Confidence 0.9 and half of them right: a gap of 0.4.

    >>> float(
    ...     xentref.expected_calibration_error(
    ...         [[0.9, 0.1], [0.1, 0.9]], [0, 0]
    ...     )
    ... )
    0.4
    """
    probs = check.floats(probs, "probs")
    confidence, correct, bins = confidence_bins(
        probs, labels, axis=axis, n_bins=n_bins
    )
    n_bins = _n_bins(n_bins)
    gaps = np.bincount(
        bins, weights=correct - confidence.astype(np.float64), minlength=n_bins
    )
    return probs.dtype.type(np.sum(np.abs(gaps)) / confidence.size)
