"""Ziv's strategy with a proof: recompute at doubled precision until certified.

A value is computed as an Arb ball that is guaranteed to contain it. Rounding
is monotone, so when both ends of the ball round to the same float, that float
is the correctly rounded value; otherwise the ball is too wide and the value
is recomputed with twice the working precision, up to :data:`MAX_PRECISION`.
"""

from flint import ctx

from xentref.exact._rounding import (
    round_dyadic,
    round_fraction,
    tie_neighbours,
)
from xentref.exact._split import Rational, Split

START_PRECISION = 128
MAX_PRECISION = 2**16


def _rounded(value, dtype):
    """The float `value` certainly rounds to, or None if the ball is too wide.

    `value` is an arb ball, a :class:`Split`, or a Python float that is the
    exact value (an infinity decided before any ball arithmetic).
    """
    if isinstance(value, float):
        return value
    if isinstance(value, Rational):
        rounded, tie = round_fraction(value.value, dtype)
        if tie is None or value.sign == 0:
            return rounded
        # Past the midpoint by the sliver, on the side of its sign.
        return tie[1] if value.sign > 0 else tie[0]
    if isinstance(value, Split):
        return _rounded_split(value, dtype)
    if value.is_nan():
        raise ArithmeticError(
            "a ball computed as NaN: a formula left its domain"
        )
    if not value.is_finite():
        return None
    low = round_dyadic(*value.lower().man_exp(), dtype)
    high = round_dyadic(*value.upper().man_exp(), dtype)
    if low != high:
        return None
    # Two zeros of different sign are the same value; the sum is +0.0 then.
    return low + high if low == 0 else low


def _rounded_split(value, dtype):
    """Round ``main + small``; at a tie, `main` exact, let the sign of `small`
    decide.
    """
    rounded = _rounded(value.ball(), dtype)
    if (
        rounded is not None
        or not value.main.is_exact()
        or value.small.is_zero()
    ):
        return rounded
    tie = tie_neighbours(*value.main.man_exp(), dtype)
    if tie is None:
        return None
    ball = value.ball()
    if not ball.is_finite():
        return None
    ends = {
        round_dyadic(*end.man_exp(), dtype)
        for end in (ball.lower(), ball.upper())
    }
    if not ends <= set(tie):
        return None
    # small is not exactly 0, so it has its sign: the value is past the tie.
    return tie[1] if value.sign > 0 else tie[0]


def certify(compute, dtype, name):
    """Correctly rounded values of the balls that ``compute()`` returns.

    Parameters
    ----------
    compute : callable
        Returns a list of arb balls (or exact Python floats) computed at the
        current working precision of ``flint.ctx``.
    dtype : numpy dtype
        float64, float32, float16 or bfloat16.
    name : str
        The function asked for, named in the error.

    Returns
    -------
    list of float

    Raises
    ------
    ArithmeticError
        If some value is still uncertain at :data:`MAX_PRECISION` bits.
    """
    precision = START_PRECISION
    while precision <= MAX_PRECISION:
        with ctx.workprec(precision):
            try:
                rounded = [_rounded(value, dtype) for value in compute()]
            except ArithmeticError as error:
                raise ArithmeticError(
                    f"xentref.exact.{name}: {error}"
                ) from None
        if None not in rounded:
            return rounded
        precision *= 2
    raise ArithmeticError(
        f"xentref.exact.{name}: a value could not be certified to be "
        "correctly "
        f"rounded with {MAX_PRECISION} bits of working precision"
    )
