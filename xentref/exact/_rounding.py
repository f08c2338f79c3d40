"""Correct rounding of an exact dyadic number to float64, float32, float16 or bfloat16.

IEEE 754 round-to-nearest, ties-to-even, with gradual underflow to the
subnormals and overflow to infinity. Written on integers so that a narrow
format is rounded once, never through float64 (which would round twice).
"""

import math

import numpy as np

from xentref._half import BFLOAT16

# significand bits (with the hidden one), smallest and largest normal exponent
FORMATS = {
    np.dtype(np.float64): (53, -1022, 1023),
    np.dtype(np.float32): (24, -126, 127),
    np.dtype(np.float16): (11, -14, 15),
}
if BFLOAT16 is not None:
    FORMATS[BFLOAT16] = (8, -126, 127)


def round_dyadic(mantissa, exponent, dtype):
    """``mantissa * 2**exponent`` rounded to the nearest `dtype` value.

    Parameters
    ----------
    mantissa, exponent : int
        The exact number; any size.
    dtype : numpy dtype
        float64, float32, float16 or bfloat16.

    Returns
    -------
    float
        The correctly rounded value as a Python float, which holds every
        value of these formats exactly: ``±inf`` beyond the largest
        finite value plus half an ulp, a signed zero below half the
        smallest subnormal, ties to the even significand.
    """
    precision, emin, emax = FORMATS[np.dtype(dtype)]
    sign = -1.0 if mantissa < 0 else 1.0
    magnitude = abs(int(mantissa))
    exponent = int(exponent)
    if magnitude == 0:
        return 0.0
    top = exponent + magnitude.bit_length() - 1  # 2**top <= |x| < 2**(top + 1)
    if top > emax:
        return sign * math.inf
    if top < emin - precision:
        # |x| < 2**(emin - precision), half the smallest subnormal.
        return sign * 0.0
    quantum = max(top, emin) - (precision - 1)  # the ulp's exponent at |x|
    shift = quantum - exponent
    if shift <= 0:
        units = magnitude << -shift
    else:
        units = magnitude >> shift
        rest = magnitude - (units << shift)
        half = 1 << (shift - 1)
        if rest > half or (rest == half and units & 1):
            units += 1
    # Rounding up may carry into the next binade, possibly beyond emax.
    if units.bit_length() - 1 + quantum > emax:
        return sign * math.inf
    return sign * math.ldexp(units, quantum)


def tie_neighbours(mantissa, exponent, dtype):
    """The two `dtype` values around ``mantissa * 2**exponent`` if it lies
    exactly halfway.

    Returns
    -------
    tuple of float or None
        ``(lower, upper)`` when the number is a tie (``upper`` may be inf,
        above the largest finite value plus half an ulp), None otherwise.
    """
    precision, emin, emax = FORMATS[np.dtype(dtype)]
    magnitude, exponent = abs(int(mantissa)), int(exponent)
    if magnitude == 0:
        return None
    top = exponent + magnitude.bit_length() - 1
    if top > emax or top < emin - precision:
        return None
    quantum = max(top, emin) - (precision - 1)
    shift = quantum - exponent
    if shift <= 0 or magnitude & ((1 << shift) - 1) != 1 << (shift - 1):
        return None
    units = magnitude >> shift
    toward_zero = math.ldexp(units, quantum)
    away = round_dyadic(2 * units + 2, quantum - 1, dtype)
    if mantissa < 0:
        return -away, -toward_zero
    return toward_zero, away


def round_fraction(value, dtype):
    """A :class:`fractions.Fraction` rounded to the nearest `dtype` value, and whether it was a tie.

    Returns ``(rounded, tie)``: the correctly rounded value (ties to even)
    as a Python float, and ``(lower, upper)`` if `value` lies exactly
    halfway between those two `dtype` values, else None. The quotient is
    taken to two bits beyond the precision with a sticky bit for the
    remainder, which rounds exactly as the fraction does.
    """
    precision, _, _ = FORMATS[np.dtype(dtype)]
    numerator, denominator = value.numerator, value.denominator
    if numerator == 0:
        return 0.0, None
    magnitude = abs(numerator)
    shift = precision + 3 - (magnitude.bit_length() - denominator.bit_length())
    if shift >= 0:
        quotient, remainder = divmod(magnitude << shift, denominator)
    else:
        quotient, remainder = divmod(magnitude, denominator << -shift)
    sign = -1 if numerator < 0 else 1
    mantissa = sign * (2 * quotient + (remainder != 0))
    rounded = round_dyadic(mantissa, -shift - 1, dtype)
    tie = None if remainder else tie_neighbours(sign * quotient, -shift, dtype)
    return rounded, tie
