"""Distances between floats counted in units in the last place."""

from __future__ import annotations

import numpy as np

from xentref._half import BFLOAT16
from xentref._typing import ArrayLike, Result

_INTEGERS = {np.dtype(np.float64): np.int64, np.dtype(np.float32): np.int32, np.dtype(np.float16): np.int16}
if BFLOAT16 is not None:
    _INTEGERS[BFLOAT16] = np.int16
_NAMES = "float16, bfloat16, float32 or float64" if BFLOAT16 is not None else "float16, float32 or float64"


def _as_floats(x, name):
    array = np.asarray(x)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype not in _INTEGERS:
        raise TypeError(
            f"`{name}` must hold real numbers of dtype {_NAMES}; got dtype {array.dtype}"
        )
    return array


def _ordinal(x):
    """The position of each float on the number line, +0 and -0 both at 0."""
    bits = x.view(_INTEGERS[x.dtype]).astype(np.int64)
    magnitude = bits & np.int64(np.iinfo(_INTEGERS[x.dtype]).max)
    return np.where(bits < 0, -magnitude, magnitude)


def ulp_distance(actual: ArrayLike, expected: ArrayLike) -> Result:
    """How many representable floats lie between `actual` and `expected`.

    Parameters
    ----------
    actual, expected : array_like
        Values of dtype float16, bfloat16, float32 or float64 (Python
        numbers and integers read as float64), of shapes that broadcast.

    Returns
    -------
    distance : ndarray or numpy.float64
        Elementwise, the number of steps from one value to the other through
        the floats of their common dtype (a narrower one only if both have it):
        0 for equal values (and for +0 against -0), 1 for neighbours, also
        across zero and through the subnormals. Infinite where exactly one
        value is infinite, where they are opposite infinities, or where
        either is NaN. Exact below :math:`2^{53}`.

    Raises
    ------
    TypeError
        If an argument is not float32, float64 or integer data.

    Examples
    --------
    >>> import numpy as np
    >>> from xentref.exact import ulp_distance
    >>> float(ulp_distance(1.0, np.nextafter(1.0, 2.0)))
    1.0
    >>> tiny = np.float32(1e-45)  # the smallest float32 subnormal
    >>> float(ulp_distance(-tiny, tiny))
    2.0
    >>> print(ulp_distance([np.inf, np.inf, 0.0], [np.inf, 1e308, -0.0]))
    [ 0. inf  0.]
    """
    actual, expected = _as_floats(actual, "actual"), _as_floats(expected, "expected")
    dtype = actual.dtype if actual.dtype == expected.dtype else np.result_type(actual, expected)
    shape = np.broadcast_shapes(actual.shape, expected.shape)
    actual, expected = (np.broadcast_to(x.astype(dtype), shape).ravel() for x in (actual, expected))
    a, b = _ordinal(actual), _ordinal(expected)
    # The difference can exceed the int64 range but not 2**64: take it modulo 2**64.
    steps = (np.maximum(a, b).astype(np.uint64) - np.minimum(a, b).astype(np.uint64)).astype(np.float64)
    with np.errstate(invalid="ignore"):
        equal = actual == expected
    finite = np.isfinite(actual) & np.isfinite(expected)
    distance = np.where(finite, steps, np.where(equal, 0.0, np.inf))
    return distance.reshape(shape)[()]
