"""The ``reduction`` and ``weight`` options shared by every loss."""

import numpy as np

from xentref._half import HALF, round_to


def empty_mean(n_examples=0, selection="`where` and `ignore_index` leave", unit="examples", what="an empty batch"):
    """The error for a mean of no losses: `what` (an empty batch), or a selection of none of its examples."""
    if n_examples == 0:
        return ValueError(
            f"`reduction='mean'` is undefined for {what} (0 losses); use 'sum' or 'none'"
        )
    return ValueError(
        f"`reduction='mean'` is undefined for an empty selection: {selection} "
        f"none of the {n_examples} {unit}; use 'sum' or 'none'"
    )


def kept(keep, weight, dtype):
    """`weight` (or 1) with 0 where `keep` is False, in `dtype`: the weight that leaves those out.

    None if neither is given.
    """
    if keep is None:
        return weight
    return np.where(keep, 1.0 if weight is None else weight, 0.0).astype(dtype)


def selected_divisor(size, keep, reduction, unit="examples", selection="`where` leaves"):
    """What ``"mean"`` divides by when `keep` (None: all of `size`) selects the losses; 1 otherwise.

    `selection` names what made the selection, for the error of a mean of none.
    """
    if reduction != "mean":
        return 1
    count = size if keep is None else int(np.count_nonzero(keep))
    if count == 0:
        raise empty_mean(size, selection, unit)
    return count


def apply_reduction(losses, reduction, count=None):
    """Apply a validated ``reduction`` to per-example losses.

    ``"none"`` returns `losses` unchanged, ``"sum"`` their sum and ``"mean"``
    their sum divided by their count (or by `count`, the number of examples
    selected, when some were left out with loss 0). The mean of no losses is
    undefined, so an empty batch, or an empty selection, with ``"mean"`` is
    an error rather than a NaN.
    """
    if reduction == "none":
        return losses
    if reduction == "sum":
        if losses.dtype in HALF:
            # Half precision: summed in float64, rounded once.
            with np.errstate(over="ignore"):
                # Beyond the float64 range only if the half-precision losses are infinite.
                total = np.sum(losses, dtype=np.float64)
            return round_to(np.asarray(total), losses.dtype)[()]
        with np.errstate(over="ignore"):
            # A sum beyond the float range rounds to inf, as IEEE overflow does.
            return np.sum(losses)
    count = losses.size if count is None else count
    if count == 0:
        raise empty_mean(losses.size)
    return mean_of(losses, count)


def mean_of(losses, divisor, dtype=None, empty="an empty batch"):
    """The sum of `losses` divided by `divisor`, the number (or total weight) of those that count, in `dtype`.

    The others, if any, are 0. The losses are added in their dtype (in
    float64 for half precision, and for a `dtype` wider than theirs) and the
    quotient rounded once to `dtype` (by default theirs). With `divisor` 0
    the mean is undefined, and the error names what was `empty`.
    """
    if divisor == 0:
        raise empty_mean(what=empty)
    divisor = float(divisor)
    losses = np.asarray(losses)
    dtype = losses.dtype if dtype is None else dtype
    wide = losses.dtype in HALF or np.dtype(dtype) != losses.dtype
    if wide:
        losses = losses.astype(np.float64)
    with np.errstate(under="ignore", over="ignore"):
        # A mean below the normal range rounds to a subnormal or 0, as it
        # must; beyond the float range it is inf.
        total = np.sum(losses)
        if np.isinf(total) and np.isfinite(losses).all():
            # Finite losses whose sum leaves the float range may have a
            # finite mean: sum them scaled down by a power of two above
            # their count (exactly, but for losses too small to change the
            # sum) and scale the mean back up.
            scale = 2.0 ** losses.size.bit_length()
            mean = np.sum(losses / scale) / divisor * scale
        else:
            mean = total / divisor
    if wide:
        return round_to(np.asarray(mean), dtype)[()]
    return mean


def reduction_divisor(n_losses, reduction, empty="an empty batch"):
    """What the gradient of the summed losses is divided by under ``reduction``.

    The count of losses for ``"mean"``, 1 otherwise: ``"none"`` asks for the
    gradient of each loss with respect to its own inputs, which is the
    gradient of the sum. A mean of no losses is refused, as in
    :func:`mean_of`.
    """
    if reduction != "mean":
        return 1
    if n_losses == 0:
        raise empty_mean(what=empty)
    return int(n_losses)


def apply_weight(values, weight):
    """``weight * values``, with a zero weight giving 0 even where a value is inf.

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
    """``weight * grad / divisor``, as in :func:`apply_weight` and :func:`reduction_divisor`."""
    with np.errstate(under="ignore"):
        # A gradient below the normal range rounds to a subnormal or 0.
        return apply_weight(grad, weight) / divisor
