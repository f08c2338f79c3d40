"""Half-precision input: float16 (NumPy) and bfloat16 (ml_dtypes, if installed).

The softmax family accepts them, computes in float64 (as for float32) and
rounds each result once to the input's dtype, so that a result keeps the
prediction's dtype and is within 1 ulp of the exact value. NumPy rounds
float64 to float16 correctly; ml_dtypes converts float64 to bfloat16
through float32, rounding twice, so :func:`round_to` rounds to float32 *to
odd* first (toward zero, then the last bit set if that was inexact), which
makes the second rounding the correct one, float32 having 16 more bits
than bfloat16 (Boldo and Melquiond 2008).

References
----------
.. [1] S. Boldo and G. Melquiond, "Emulation of FMA and correctly rounded
   sums: proved algorithms using rounding to odd", IEEE Transactions on
   Computers 57 (2008), 462-471. https://doi.org/10.1109/TC.2007.70819
"""

import numpy as np

try:
    import ml_dtypes
except ImportError:  # bfloat16 is optional: without ml_dtypes it is simply not offered
    ml_dtypes = None

BFLOAT16 = None if ml_dtypes is None else np.dtype(ml_dtypes.bfloat16)
HALF = tuple(dtype for dtype in (np.dtype(np.float16), BFLOAT16) if dtype is not None)


def is_half(dtype):
    return np.dtype(dtype) in HALF


def eps(dtype):
    """Machine epsilon of any supported float dtype."""
    if BFLOAT16 is not None and np.dtype(dtype) == BFLOAT16:
        return float(ml_dtypes.finfo(BFLOAT16).eps)
    return float(np.finfo(dtype).eps)


def working(out):
    """Where to write results meant for `out`: `out` itself, or a float64 array for bfloat16.

    Returns ``(array, finish)``; call ``finish()`` once the values are written.
    """
    if BFLOAT16 is None or out.dtype != BFLOAT16:
        return out, lambda: None
    values = np.empty(out.shape)
    return values, lambda: round_to(values, BFLOAT16, out=out)


def round_to(values, dtype, out=None):
    """float64 `values` rounded once to `dtype` (into `out` if given)."""
    dtype = np.dtype(dtype)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        # Rounding once: beyond the range is inf, below it a subnormal or 0.
        # np.dtype(None) is float64: without ml_dtypes, compare with None first.
        if BFLOAT16 is None or dtype != BFLOAT16:
            if out is None:
                return values.astype(dtype)
            out[...] = values
            return out
        values = np.asarray(values, dtype=np.float64)
        single = np.array(values, dtype=np.float32)
        # Toward zero, then odd if inexact.
        beyond = np.abs(single.astype(np.float64)) > np.abs(values)
        single = np.where(beyond, np.nextafter(single, np.float32(0)), single)
        inexact = single.astype(np.float64) != values
        single.view(np.uint32)[...] |= inexact.astype(np.uint32)
    result = single.astype(BFLOAT16)
    if out is None:
        return result
    out[...] = result
    return out
