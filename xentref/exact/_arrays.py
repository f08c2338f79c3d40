"""Reading inputs as the float functions read them, and shaping the results."""

from fractions import Fraction

import numpy as np
from flint import arb, fmpq

from xentref import _check


def floats(x):
    """`x` as an array, with booleans and integers as float64 (as xentref reads
    them).
    """
    array = np.asarray(x)
    return array.astype(np.float64) if array.dtype.kind in "biu" else array


def in_dtype(x, dtype):
    """`x` converted to `dtype`, as xentref converts targets and weights: this is its input."""
    return _check.in_dtype(floats(x), dtype)


def exact(value):
    """A float as an exact arb (a ball of radius 0); a Fraction as a ball around it."""
    if isinstance(value, Fraction):
        return arb(fmpq(value.numerator, value.denominator))
    return arb(float(value))


def class_rows(array, axis):
    """The slices of `array` along `axis`, as lists of Python numbers."""
    moved = np.moveaxis(array, axis, -1)
    return moved.reshape(-1, moved.shape[-1]).tolist()


def like(template, values, axis=None):
    """`values`, in C order, shaped and typed as the float function's
    `template`.

    With `axis`, the values are in the order of ``np.moveaxis(template, axis,
    -1)`` and are moved back.
    """
    dtype = template.dtype
    if not isinstance(template, np.ndarray):
        (value,) = values
        return dtype.type(value)
    if axis is None:
        return np.array(values, dtype=dtype).reshape(template.shape)
    moved_shape = np.moveaxis(template, axis, -1).shape
    return np.moveaxis(
        np.array(values, dtype=dtype).reshape(moved_shape), -1, axis
    )
