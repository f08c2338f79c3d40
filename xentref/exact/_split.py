"""Values that are an exact number plus a correction of known sign.

Some results are a dyadic number plus a correction as small as
:math:`e^{-10^{300}}`: ``softplus(z)`` is :math:`z + \\log(1 + e^{-z})`, a
loss at a far-off logit is the gap plus :math:`\\log(1 + s)`. When the exact
part lies halfway between two floats, no ball narrower than the correction
can be formed, yet the rounding is decided by the correction's sign alone.
:class:`Split` keeps the two parts apart, so that
:func:`xentref.exact._certify.certify` can use that sign.
"""

from flint import arb


class Split:
    """``main + small``, where `small` is either exactly 0 or of sign `sign`.

    `main` is an arb ball that is exact (radius 0) whenever the working
    precision holds it; `small` is any ball. Sums, negation, and products
    and quotients by positive numbers keep the form.
    """

    __slots__ = ("main", "sign", "small")

    def __init__(self, main, small, sign):
        self.main, self.small, self.sign = main, small, sign

    def ball(self):
        return self.main + self.small

    def __neg__(self):
        return Split(-self.main, -self.small, -self.sign)

    def __mul__(self, factor):
        """A product with a positive number (an arb or an int)."""
        return Split(factor * self.main, factor * self.small, self.sign)

    __rmul__ = __mul__

    def __truediv__(self, divisor):
        """A quotient by a positive number."""
        return Split(self.main / divisor, self.small / divisor, self.sign)


class Rational:
    """An exact rational `value` (a Fraction) plus a sliver of sign `sign` (0: no sliver).

    For results that are exact rationals but not dyadic, such as
    :math:`T/5 - t_k` at five tied logits, which a ball cannot certify when
    they are exactly a midpoint between two floats. Divisible by a
    positive integer.
    """

    __slots__ = ("sign", "value")

    def __init__(self, value, sign=0):
        self.value, self.sign = value, sign

    def __truediv__(self, divisor):
        return Rational(self.value / divisor, self.sign)


def total(values):
    """The sum of arb balls and Splits: a Split if every Split has the same
    sign.
    """
    splits = [value for value in values if isinstance(value, Split)]
    signs = {split.sign for split in splits}
    if len(signs) != 1:
        result = arb(0)
        for value in values:
            result += value.ball() if isinstance(value, Split) else value
        return result
    main, small = arb(0), arb(0)
    for value in values:
        if isinstance(value, Split):
            main += value.main
            small += value.small
        else:
            main += value
    return Split(main, small, signs.pop())
