"""Sums, reductions and weights of exact values.

An exact value is an arb ball, a :class:`~xentref.exact._split.Split`, or a
Python float for an infinity that is known before any arithmetic (a log of
zero, an infinite logit).
"""

import numpy as np
from flint import arb

from xentref.exact._arrays import exact, like
from xentref.exact._certify import certify
from xentref.exact._split import total


def add(values):
    """The exact sum of `values` (balls or Splits): an infinity if there is
    one.

    The callers never mix infinities of opposite signs: every loss is
    non-negative and every infinite gradient entry of one function has the
    same sign.
    """
    infinities = {value for value in values if isinstance(value, float)}
    if infinities:
        (infinity,) = infinities
        return infinity
    return total(values)


def scale(value, factor):
    """``factor * value`` for a positive exact `factor` (an arb); an infinity
    stays.
    """
    return value if isinstance(value, float) else value * factor


def weighted(value, weight, count=1):
    """``weight * value / count`` for a float weight >= 0: 0 where the weight
    is 0, even against an infinity.

    A zero weight removes an element from the loss, so its infinite loss or
    gradient does not count.
    """
    if weight == 0:
        return arb(0)
    if isinstance(value, float):
        return value
    return value * exact(weight) / count


def selected(values, keep):
    """`values` (callables), with those that `keep` leaves out returning an exact 0 without being evaluated."""
    if keep is None:
        return values
    return [value if k else (lambda: arb(0)) for value, k in zip(values, keep)]


def reduced(losses, reduction, template, name, keep=None):
    """Certified ``"none"``, ``"sum"`` or ``"mean"`` of the losses.

    `losses` holds one callable per loss, which returns its exact value at
    the working precision. With `keep` (one bool per loss), those left out
    are 0. The mean divides the exact sum by the number of losses selected,
    and is rounded once.
    """
    losses = selected(losses, keep)
    count = len(losses) if keep is None else sum(keep)
    dtype = template.dtype
    if reduction == "none":
        return like(
            template,
            [
                certify(lambda loss=loss: [loss()], dtype, name)[0]
                for loss in losses
            ],
        )

    def reduced_value():
        value = add([loss() for loss in losses])
        if reduction == "mean" and not isinstance(value, float):
            value = value / count
        return [value]

    return like(template, certify(reduced_value, dtype, name))


def mask(where):
    """`where` as a flat list of bools, in C order (None stays None)."""
    return None if where is None else np.asarray(where, dtype=bool).ravel().tolist()


def divisor(count, reduction):
    """What a gradient of the summed losses is divided by: the count for
    ``"mean"``.
    """
    return count if reduction == "mean" else 1

