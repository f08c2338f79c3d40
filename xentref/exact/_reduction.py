"""Sums, reductions and weights of exact values.

An exact value is an arb ball, a :class:`~xentref.exact._split.Split`, or a
Python float for an infinity that is known before any arithmetic (a log of
zero, an infinite logit).
"""

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


def reduced(losses, reduction, template, name):
    """Certified ``"none"``, ``"sum"`` or ``"mean"`` of the losses.

    `losses` holds one callable per loss, which returns its exact value at
    the working precision. The mean divides the exact sum by the number of
    losses, and is rounded once.
    """
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
            value = value / len(losses)
        return [value]

    return like(template, certify(reduced_value, dtype, name))


def divisor(count, reduction):
    """What a gradient of the summed losses is divided by: the count for
    ``"mean"``.
    """
    return count if reduction == "mean" else 1
