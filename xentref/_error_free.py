r"""Error-free transformations: sums and products of floats kept as exact pairs.

A float64 sum or product rounds; these functions return the rounded result
together with its rounding error, so that the pair ``(high, low)`` is the
exact value (Knuth's TwoSum, Dekker's TwoProduct), and build on them a sum
of non-negative numbers whose only rounding is far below the last bit
(Rump, Ogita and Oishi's extraction) and an exponential accurate to about
:math:`2^{-60}` for the few values where that matters. A pair is used
unnormalised: ``low`` is at most a few ulps of ``high``, and every pair is
finally rounded once, by :func:`rounded`.

Names: ``u`` is the unit roundoff :math:`2^{-53}` of float64.

References
----------
.. [1] D. E. Knuth, *The Art of Computer Programming*, vol. 2, 3rd ed.,
   Addison-Wesley, 1998, section 4.2.2 (TwoSum).
.. [2] T. J. Dekker, "A floating-point technique for extending the available
   precision", Numerische Mathematik 18 (1971), 224-242.
   https://doi.org/10.1007/BF01397083
.. [3] S. M. Rump, T. Ogita and S. Oishi, "Accurate floating-point summation
   part I: faithful rounding", SIAM Journal on Scientific Computing 31
   (2008), 189-224. https://doi.org/10.1137/050645671
"""

from decimal import Decimal, localcontext

import numpy as np

# Veltkamp's constant 2^27 + 1 splits a float64 into two 26-bit halves.
_SPLITTER = 134217729.0


def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly, for finite `a`, `b`.

    Six operations and no comparison (Knuth). Symmetric in `a` and `b`.
    """
    s = a + b
    b_virtual = s - a
    a_virtual = s - b_virtual
    return s, (a - a_virtual) + (b - b_virtual)


def _split(a):
    scaled = _SPLITTER * a
    high = scaled - (scaled - a)
    return high, a - high


def two_product(a, b):
    """``(p, e)`` with ``p = fl(a b)`` and ``p + e = a b`` exactly (Dekker).

    Exact for ``|a|, |b| < 2^995`` whose product and error stay normal;
    the callers multiply per-row quantities of moderate size.
    """
    with np.errstate(under="ignore"):
        # The error of a tiny product is below the subnormals' last bit.
        p = a * b
        a_high, a_low = _split(a)
        b_high, b_low = _split(b)
        return p, ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low


def add(a, b):
    """The pair ``a + b`` of two pairs, with a relative error of order u^2."""
    s, e = two_sum(a[0], b[0])
    return s, e + (a[1] + b[1])


def multiply(a, b):
    """The pair ``a b`` of two pairs (products of moderate size, see :func:`two_product`)."""
    p, e = two_product(a[0], b[0])
    with np.errstate(under="ignore"):
        # Products of low parts may fall below the normal range: negligible.
        return p, e + (a[0] * b[1] + a[1] * b[0])


def divide(a, b):
    """The pair ``a / b`` for pairs `a` and `b` (b non-zero, moderate size)."""
    with np.errstate(under="ignore"):
        # As in multiply: low parts below the normal range are negligible.
        q = a[0] / b[0]
        p, e = two_product(q, b[0])
        # a - q b, exactly up to the products with the low parts.
        remainder = ((a[0] - p) - e) + (a[1] - q * b[1])
        return q, remainder / b[0]


def rounded(pair):
    """The float nearest to ``high + low``, up to an error of order u^2 of it."""
    return pair[0] + pair[1]


def normalised(pair):
    """The pair with ``high`` the float nearest to its value and ``low`` the rest."""
    return two_sum(pair[0], pair[1])


def sum_nonnegative(x, out=None):
    r"""The sum of non-negative finite `x` along the last axis, as a pair.

    Extraction (Rump, Ogita and Oishi): with :math:`\sigma` a power of two
    above twice the sum, every :math:`q_j = (\sigma + x_j) - \sigma` is a
    multiple of :math:`2u\sigma` and every partial sum of the :math:`q_j` is
    below :math:`2\sigma`, so :math:`\tau = \sum_j q_j` is exact in any order;
    :math:`r_j = x_j - q_j` is exact (Sterbenz) and :math:`|\sum_j r_j| \le
    K u \sigma`. The pair is ``TwoSum(tau, sum(r))``: its error is that of
    the small sum, at most :math:`(\log_2 K + 20)\,u \cdot 4 K u` of the
    total, below :math:`2^{-70}` of it for :math:`K \le 2^{20}`.

    Returns ``(tau, r)``: the exact sum of the :math:`q_j` and the rests
    :math:`r_j` (in `out` if given, same shape as `x`), for a caller that
    adds further small terms to them before summing them; `x` must stay
    below :math:`2^{1021}` in sum.
    """
    estimate = np.sum(x, axis=-1, keepdims=True)
    _, exponent = np.frexp(estimate)
    sigma = np.ldexp(1.0, exponent + 1)
    q = np.add(x, sigma, out=out)
    q -= sigma
    tau = np.sum(q, axis=-1)
    np.subtract(x, q, out=q)
    return tau, q


# exp of a pair, accurate to about 2^-60 ---------------------------------------

# 2^(j/64) for j = 0..63 as pairs, from 40-digit decimals.
with localcontext() as _context:
    _context.prec = 40
    _POWERS = [Decimal(2) ** (Decimal(j) / 64) for j in range(64)]
_TABLE_HIGH = np.array([float(p) for p in _POWERS])
_TABLE_LOW = np.array([float(p - Decimal(float(p))) for p in _POWERS])
# ln(2)/64 in three parts; the first has 21 trailing zero bits, so n times it
# is exact for the |n| < 2^17 used here.
with localcontext() as _context:
    _context.prec = 60
    _LN2_64 = Decimal(2).ln() / 64
_LN2_64_1 = float(np.ldexp(np.round(np.ldexp(float(_LN2_64), 38)), -38))
_LN2_64_2 = float(_LN2_64 - Decimal(_LN2_64_1))
_LN2_64_3 = float(_LN2_64 - Decimal(_LN2_64_1) - Decimal(_LN2_64_2))
_64_LN2 = float(1 / _LN2_64)
_LN2 = float(_LN2_64 * 64)
# Below this the exponential is under 2^-1110: 0 in float64 and in any pair.
_EXP_FLOOR = -770.0


def exp(pair, scale=0):
    r"""``e^(high + low) * 2^scale`` as a pair, for ``high + low <= 0``.

    The relative error is below :math:`2^{-58}` for results above
    :math:`2^{-960}`; below that the low part loses digits to the
    subnormals, and results below the normal range are rounded to them.
    A positive `scale` (an exact power of two) brings tiny exponentials
    into the normal range.

    :math:`x = n \ln 2 / 64 + r` with :math:`|r| \le \ln 2 / 128`, and
    :math:`e^x = 2^{\lfloor n/64 \rfloor} \, 2^{(n \bmod 64)/64} (1 + p(r))`
    with the table entry as a pair and :math:`p` the degree-6 Taylor
    polynomial of :math:`e^r - 1`. Since :math:`|r| < 2^{-7.5}`, each rounding
    in forming :math:`r` and :math:`p` is below :math:`2^{-60}` (the product
    ``n * ln2/64`` of the first part is exact, ``high - n * ln2/64`` exact by
    Sterbenz's lemma) and the truncation below :math:`2^{-65}`. Results
    below :math:`2^{-1110}` give 0, and so does ``-inf``.
    """
    high, low = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in pair))
    shape = high.shape
    high, low = high.reshape(-1), low.reshape(-1)
    out = np.empty(high.shape), np.empty(high.shape)
    exp_into(high, low, out, tuple(np.empty(high.shape) for _ in range(3)), scale)
    return out[0].reshape(shape)[()], out[1].reshape(shape)[()]


def exp_into(high, low, out, work, scale=0):
    """:func:`exp` of the arrays `high` and `low` into the pair of arrays `out`.

    `work` is three float64 arrays of their shape, overwritten; `low` may be
    NaN where `high` is -inf. The operations are in place, for blocks that
    stay in cache.
    """
    x, n, spare = work
    out_high, out_low = out
    floor = _EXP_FLOOR - scale * _LN2
    np.maximum(high, floor, out=x)
    np.multiply(x, _64_LN2, out=n)
    np.rint(n, out=n)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        # Only entries below the floor (set to 0 below) can have a huge or
        # NaN low part; the powers of a tiny r round toward 0.
        # r = (x - n ln2/64_1) - n ln2/64_2 + (low - n ln2/64_3)
        r = np.multiply(n, _LN2_64_1, out=out_high)
        np.subtract(x, r, out=r)
        r -= np.multiply(n, _LN2_64_2, out=spare)
        np.multiply(n, _LN2_64_3, out=spare)
        r += np.subtract(low, spare, out=spare)
        # p = r (1 + r (1/2 + r (1/6 + r (1/24 + r (1/120 + r/720)))))
        p = np.divide(r, 720, out=out_low)
        for coefficient in (1 / 120, 1 / 24, 1 / 6, 1 / 2, 1.0):
            p += coefficient
            p *= r
    # n = 64 q + j: the table entry j and the power of two q (+ scale).
    whole = n.astype(np.int64)
    index = whole & 63
    t_high = np.take(_TABLE_HIGH, index, out=spare)
    p *= t_high
    p += np.take(_TABLE_LOW, index)
    whole >>= 6
    whole += scale
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        # Results below the normal range round to subnormals or 0; the
        # entries below the floor are set to 0 next.
        if np.min(whole, initial=0) >= -1022:
            # 2^q is a normal float: one exact product (for the low part,
            # one rounding where it falls below the normal range).
            factor = _power_of_two(whole, out=r)
            t_high *= factor
            p *= factor
        else:
            # 2^q as two factors in the normal range: exact products, and
            # one rounding where the result falls below the normal range.
            half = whole >> 1
            for k in (half, whole - half):
                factor = _power_of_two(k, out=r)
                t_high *= factor
                p *= factor
    if np.min(high, initial=0.0) <= floor:
        dead = high <= floor
        t_high[dead] = 0
        p[dead] = 0
    # Normalised (TwoSum): the high part the nearest float, the low part below its ulp.
    s = np.add(t_high, p, out=out_high)
    b_virtual = np.subtract(s, t_high, out=x)
    a_virtual = np.subtract(s, b_virtual, out=n)
    np.subtract(t_high, a_virtual, out=n)
    p -= b_virtual
    p += n
    return out


def _power_of_two(k, out):
    """``2.0 ** k`` for int64 `k` in [-1022, 1023], into `out`: the exponent field set directly."""
    bits = k + 1023
    bits <<= 52
    np.copyto(out, bits.view(np.float64))
    return out


# log of a pair, accurate to about 2^-58 ---------------------------------------

_SQRT_HALF = float(np.sqrt(0.5))
# 1/(2j + 1) for j = 12, ..., 2, 1: the series of atanh(w)/w - 1 in w^2, to w^24.
_ATANH_COEFFICIENTS = [1 / (2 * j + 1) for j in range(12, 0, -1)]


def log1p(pair):
    r"""``log(1 + high + low)`` as a pair, for a non-negative finite pair.

    With :math:`1 + s = 2^e m`, :math:`m \in [1/\sqrt 2, \sqrt 2)`,
    :math:`\log(1 + s) = e \ln 2 + 2 \operatorname{atanh}(w)`,
    :math:`w = (m - 1)/(m + 1) \in [-0.172, 0.172]`, and
    :math:`\operatorname{atanh}(w) = w (1 + T)`, :math:`T = \sum_{j \ge 1}
    w^{2j}/(2j + 1) \le 0.0102`. The quotient :math:`w` and the first term
    :math:`w^2/3` are pairs, and the rest of :math:`T` (to :math:`w^{24}`,
    truncated below :math:`2^{-70}`) a float below :math:`1.8 \cdot 10^{-4}`
    whose roundings are below :math:`2^{-62}` of :math:`1 + T`; :math:`e \ln 2`
    is a pair from the three parts of :math:`\ln 2`, and the two terms
    cancel by at most a factor 3 (when :math:`e = 1`). The relative error
    is below :math:`2^{-57}`. Where :math:`e = 0` the numerator and
    denominator are formed from :math:`s` itself, so a tiny :math:`s` keeps
    all its digits.
    """
    s = tuple(np.asarray(part, dtype=np.float64) for part in pair)
    one_plus = add((1.0, 0.0), s)
    scaled = s[0] >= 1 / _SQRT_HALF - 1
    return _log_of(one_plus, scaled, s)


def log(pair):
    r"""``log(high + low)`` as a pair, for a positive finite pair: :func:`log1p`'s method on the pair itself."""
    pair = tuple(np.asarray(part, dtype=np.float64) for part in pair)
    return _log_of(pair, np.ones(np.shape(pair[0]), dtype=bool), None)


def _log_of(x, scaled, s):
    """``log(x)``; where not `scaled`, x = 1 + s lies in [1, sqrt(2)) and s gives m - 1 exactly."""
    mantissa, exponent = np.frexp(x[0])
    exponent = np.where(scaled, exponent - (mantissa < _SQRT_HALF), 0)
    m = _times_power(x, -exponent)
    # m - 1 is exact by Sterbenz's lemma (m in [1/2, 2]).
    below = (m[0] - 1, m[1])
    above = add((1.0, 0.0), m)
    if s is not None:
        below = tuple(np.where(scaled, b, part) for b, part in zip(below, s))
        above = tuple(np.where(scaled, a, part) for a, part in zip(above, add((2.0, 0.0), s)))
    with np.errstate(under="ignore"):
        # A tiny s makes tiny powers of w: far below the last bit.
        # 2w, so that a subnormal s keeps its last bit.
        twice = divide((2 * below[0], 2 * below[1]), above)
        square = multiply(twice, twice)
        w2 = (square[0] * 0.25, square[1] * 0.25)
        # T = w^2/3 (a pair) + w^4 (1/5 + w^2 (1/7 + ...)) (a float).
        rest = np.zeros_like(w2[0])
        for coefficient in _ATANH_COEFFICIENTS[:-1]:
            rest = (rest + coefficient) * w2[0]
        third = divide(w2, (3.0, 0.0))
        atanh = multiply(twice, add((1.0, 0.0), (third[0], third[1] + rest * w2[0])))
    e = 64.0 * exponent
    power = (e * _LN2_64_1, e * _LN2_64_2 + e * _LN2_64_3)
    return normalised(add(power, atanh))


def power(pair, gamma):
    r"""``(high + low) ** gamma`` as a pair, for a pair in [0, 1] and ``gamma > 0``: :func:`exp` of ``gamma * log``.

    :func:`log` is within :math:`2^{-59}` of :math:`\log q` absolutely (its
    :math:`e \ln 2` is exact to far below that), the product with
    :math:`\gamma` is exact, and :func:`exp` adds :math:`2^{-58}`: the
    relative error is below :math:`(\gamma + 2) 2^{-59}`. 0 to the power
    :math:`\gamma` is 0.
    """
    high, low = (np.asarray(part, dtype=np.float64) for part in pair)
    zero = high <= 0
    logarithm = log((np.where(zero, 1.0, high), np.where(zero, 0.0, low)))
    exponent = multiply((np.full(high.shape, float(gamma)), np.zeros(high.shape)), logarithm)
    with np.errstate(under="ignore"):
        # A power below the normal range rounds to subnormals or 0.
        value = exp(normalised(exponent))
    return np.where(zero, 0.0, value[0]), np.where(zero, 0.0, value[1])


# Pairs of any size ------------------------------------------------------------


def _exponents(high):
    """The power of two that brings each finite, non-zero `high` into [1/2, 1); 0 elsewhere."""
    _, exponent = np.frexp(np.where(np.isfinite(high), high, 0.0))
    return exponent


def _times_power(pair, exponent):
    """``pair * 2^exponent``: exact unless it leaves the float range (inf) or the normal range (rounded)."""
    with np.errstate(over="ignore", under="ignore"):
        # Beyond the float range is inf, as IEEE overflow gives; below the
        # normal range the pair rounds into the subnormals.
        high = np.ldexp(pair[0], exponent)
        low = np.ldexp(pair[1], exponent)
    return high, np.where(np.isfinite(high), low, 0.0)


def multiply_wide(a, b):
    """The pair ``a b`` for pairs of any finite size: :func:`multiply` of the operands brought into [1/2, 1).

    Scaling by powers of two is exact, so the product keeps its relative
    error of order u^2 wherever it stays in the normal range; beyond the
    float range it is inf.
    """
    a_plain, b_plain = a[0], b[0]
    finite = np.isfinite(a[0]) & np.isfinite(b[0])
    a, b = ((np.where(finite, pair[0], 1.0), np.where(finite, pair[1], 0.0)) for pair in (a, b))
    a_exponent, b_exponent = _exponents(a[0]), _exponents(b[0])
    product = _times_power(multiply(_times_power(a, -a_exponent), _times_power(b, -b_exponent)),
                           a_exponent + b_exponent)
    if np.all(finite):
        return product
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        # An infinite operand (a sum beyond the float range) gives an
        # infinite product, or NaN against 0, as IEEE arithmetic does.
        plain = a_plain * b_plain
    return np.where(finite, product[0], plain), np.where(finite, product[1], 0.0)


def divide_wide(a, b):
    """The pair ``a / b`` for pairs of any finite size, `b` non-zero (as :func:`multiply_wide`)."""
    a_exponent, b_exponent = _exponents(a[0]), _exponents(b[0])
    quotient = divide(_times_power(a, -a_exponent), _times_power(b, -b_exponent))
    return _times_power(quotient, a_exponent - b_exponent)


def divide_by_float(a, divisor):
    """:func:`divide_wide` of the pair `a` by ``(divisor, 0)``, `divisor` one positive finite float.

    The same operations on the same values, bit for bit, with the
    divisor's scaling done once instead of once per entry.
    """
    mantissa, exponent = np.frexp(float(divisor))
    a_exponent = _exponents(a[0])
    quotient = divide(_times_power(a, -a_exponent), (mantissa, 0.0))
    return _times_power(quotient, a_exponent - exponent)


def sum_wide(x, out=None):
    """The sum of non-negative finite `x` along the last axis as a pair, for sums of any size.

    :func:`sum_nonnegative`, on `x` scaled by :math:`2^{-64}` where a sum
    reaches :math:`2^{1000}` (exact for every term above :math:`2^{-958}`;
    smaller ones are far below the last bit of such a sum) and scaled back:
    inf beyond the float range. `out`, an array of the shape of `x`, may
    hold the rests when no sum needs the scaling.
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        # A plain sum beyond the float range is only the signal to scale.
        big = ~(np.sum(x, axis=-1) < 2.0**1000)
    high, low = np.zeros(big.shape), np.zeros(big.shape)
    for rows, scale in ((~big, 0), (big, 64)):
        if not np.any(rows):
            continue
        if not scale and np.all(rows):
            tau, rests = sum_nonnegative(x, out)
            return two_sum(tau, np.sum(rests, axis=-1))
        with np.errstate(under="ignore"):
            # Scaled-down terms below the normal range lose digits far below the sum's last bit.
            part = np.ldexp(x[rows], -scale) if scale else x[rows]
        tau, rests = sum_nonnegative(part)
        high[rows], low[rows] = _times_power(two_sum(tau, np.sum(rests, axis=-1)), scale)
    return high, low
