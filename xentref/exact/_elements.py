"""Elementwise arguments and gradients of the binary losses."""

import numpy as np

from xentref.exact._arrays import floats, in_dtype, like
from xentref.exact._certify import certify
from xentref.exact._reduction import divisor, weighted


def read_elements(first, *others):
    """Python floats of `first` and of each other argument, read in its dtype
    and broadcast to its shape.

    An argument that is None (an absent weight) reads as 1.
    """
    first = floats(first)
    columns = [first.ravel().tolist()]
    for other in others:
        other = 1.0 if other is None else in_dtype(other, first.dtype)
        columns.append(np.broadcast_to(other, first.shape).ravel().tolist())
    return first, list(zip(*columns))


def elementwise_gradient(template, elements, value, reduction, name, keep=None):
    """Each element's certified gradient, divided by the count ``"mean"``
    divides by; 0 where `keep` is False.
    """
    count = divisor(len(elements) if keep is None else sum(keep), reduction)
    keep = [True] * len(elements) if keep is None else keep
    return like(
        template,
        [
            certify(
                lambda element=element: [
                    weighted(value(*element[:-1]), element[-1], count)
                ],
                template.dtype,
                name,
            )[0]
            if k
            else 0.0
            for element, k in zip(elements, keep)
        ],
    )
