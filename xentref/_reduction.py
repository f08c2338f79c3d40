"""The ``reduction`` and ``weight`` options shared by every loss."""

import numpy as np

from xentref._half import HALF, round_to


def _empty_mean(what="an empty batch"):
    return ValueError(
        f"`reduction='mean'` is undefined for {what} (0 losses); use 'sum' or 'none'"
    )


def apply_reduction(losses, reduction):
    """Apply a validated ``reduction`` to per-example losses.

    ``"none"`` returns `losses` unchanged, ``"sum"`` their sum and ``"mean"``
    their sum divided by their count. The mean of no losses is undefined, so
    an empty batch with ``"mean"`` is an error rather than a NaN.
    """
    if reduction == "none":
        return losses
    if losses.dtype in HALF:
        # Half precision: summed and divided in float64, rounded once.
        with np.errstate(over="ignore"):
            # Beyond the float64 range only if the half-precision losses are infinite.
            total = np.sum(losses, dtype=np.float64)
        if reduction == "mean":
            if losses.size == 0:
                raise _empty_mean()
            total = total / losses.size
        return round_to(np.asarray(total), losses.dtype)[()]
    if reduction == "sum":
        with np.errstate(over="ignore"):
            # A sum beyond the float range rounds to inf, as IEEE overflow
            # does.
            return np.sum(losses)
    return mean_of(losses, losses.size)


def mean_of(losses, count, empty="an empty batch"):
    """The sum of `losses` divided by `count`, the number of them that count.

    The others, if any, are 0. With `count` 0 the mean is undefined, and the
    error names what was empty.
    """
    count = int(count)
    if count == 0:
        raise _empty_mean(empty)
    with np.errstate(under="ignore", over="ignore"):
        # A mean below the normal range rounds to a subnormal or 0, as it must.
        total = np.sum(losses)
        if np.isinf(total) and np.isfinite(losses).all():
            # Finite losses whose sum leaves the float range have a finite
            # mean: sum them scaled down by a power of two above their number
            # (exactly, but for losses too small to change the sum) and
            # scale the mean back up.
            scale = 2.0 ** losses.size.bit_length()
            return np.sum(losses / scale) / count * scale
        return total / count


def reduction_divisor(n_losses, reduction, empty="an empty batch"):
    """What the gradient of the summed losses is divided by under
    ``reduction``.

    The count of losses for ``"mean"``, 1 otherwise: ``"none"`` asks for the
    gradient of each loss with respect to its own inputs, which is the
    gradient of the sum. A mean of no losses is refused, as in
    :func:`mean_of`.
    """
    if reduction != "mean":
        return 1
    if n_losses == 0:
        raise _empty_mean(empty)
    return int(n_losses)


def apply_weight(values, weight):
    """``weight * values``, with a zero weight giving 0 even where a value is
    inf.

    A zero weight removes an element from the loss, so an infinite loss or
    gradient there must not turn into NaN.
    """
    if weight is None:
        return values
    with np.errstate(over="ignore", under="ignore"):
        # A product beyond the float range rounds to inf, one below it to 0,
        # as IEEE arithmetic should.
        return weight * np.where(weight == 0, 0, values)


def scale_gradient(grad, weight, divisor):
    """``weight * grad / divisor``, as in :func:`apply_weight` and
    :func:`reduction_divisor`.
    """
    with np.errstate(under="ignore"):
        # A gradient below the normal range rounds to a subnormal or 0.
        return apply_weight(grad, weight) / divisor
