"""xentref.exact, checked against arithmetic that shares nothing with it.

- The rounding against Python's exact rationals (``float(Fraction)`` is
  correctly rounded to float64) and against a brute-force nearest float32
  found by comparing exact distances.
- ``ulp_distance`` on hand-counted cases.
- Every function and gradient against the textbook formula evaluated in
  mpmath, at a working precision stated beside each reference: 60 digits
  plus the digits a cancellation costs. Agreement means that the mpmath
  value, correctly rounded, is the exact result; one ulp is allowed only
  where the mpmath value lies within a relative 1e-40 of a rounding tie,
  closer than the reference can tell apart (no case below comes that close).
"""

import inspect
import math
import re
import subprocess
import sys
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import xentref
from xentref import exact, grad
from xentref.exact import _certify
from xentref.exact._rounding import round_dyadic, tie_neighbours

SEED = 20261124
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
TIE_TOLERANCE = Fraction(1, 10**40)


# References for rounding ----------------------------------------------------


def fraction_of(mantissa, exponent):
    return Fraction(mantissa) * Fraction(2) ** exponent


def sign(x):
    return 1.0 if x > 0 else -1.0


def nearest_float64(x):
    """``float(Fraction)`` rounds correctly and raises where the result overflows."""
    try:
        value = float(x)
    except OverflowError:
        return sign(x) * math.inf
    return sign(x) * 0.0 if value == 0 else value


def nearest_float32(x):
    """The float32 nearest `x`, ties to even, by exact comparison of distances.

    The float64 rounding is at most one float32 away from the answer, so the
    answer is among it and its two neighbours.
    """
    largest = np.finfo(np.float32).max
    if abs(x) >= Fraction(float(largest)) + Fraction(2) ** (127 - 24):
        return sign(x) * math.inf
    guess = np.float32(float(x))
    candidates = [
        c for c in (guess, np.nextafter(guess, np.float32(-np.inf)), np.nextafter(guess, np.float32(np.inf)))
        if np.isfinite(c)
    ]
    best = min(candidates, key=lambda c: (abs(Fraction(float(c)) - x), int(c.view(np.int32)) & 1))
    return sign(x) * 0.0 if best == 0 else float(best)


NEAREST = {F64: nearest_float64, F32: nearest_float32}


def same_float(a, b):
    return a == b and math.copysign(1, a) == math.copysign(1, b) if a == 0 else a == b


# The rounding ---------------------------------------------------------------


def _dyadics_near_boundaries(rng, dtype, count):
    """Random m * 2**e across the whole range, half of them within a few units of a tie."""
    precision, emin, emax = {F64: (53, -1022, 1023), F32: (24, -126, 127)}[dtype]
    cases = []
    for _ in range(count):
        bits = int(rng.integers(1, 3 * precision))
        top = int(rng.integers(emin - precision - 3, emax + 3))
        mantissa = int.from_bytes(rng.bytes(bits // 8 + 1), "little") % (1 << bits) | (1 << (bits - 1))
        if rng.uniform() < 0.5 and bits > precision + 1:
            # Put the bits below the last kept one at exactly half, then nudge.
            keep = bits - precision
            mantissa = ((mantissa >> keep) << keep) | (1 << (keep - 1))
            mantissa += int(rng.integers(-2, 3))
        mantissa *= 1 if rng.uniform() < 0.5 else -1
        cases.append((mantissa, top - (abs(mantissa).bit_length() - 1)))
    return cases


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_rounding_matches_exact_rationals_across_the_range(dtype):
    rng = np.random.default_rng(SEED)
    for mantissa, exponent in _dyadics_near_boundaries(rng, dtype, 3000):
        expected = NEAREST[dtype](fraction_of(mantissa, exponent))
        actual = round_dyadic(mantissa, exponent, dtype)
        assert same_float(actual, expected), (mantissa, exponent, actual, expected)


def test_float32_ties_go_to_even():
    one = 2**60  # 1.0 as mantissa * 2**-60
    assert round_dyadic(one + 2**36, -60, F32) == 1.0  # 1 + 2**-24: down to the even 1
    assert round_dyadic(one + 3 * 2**36, -60, F32) == 1 + 2**-22  # 1 + 3*2**-24: up to even
    assert round_dyadic(one + 2**36 + 1, -60, F32) == 1 + 2**-23  # just above the tie
    assert round_dyadic(-(one + 2**36), -60, F32) == -1.0


def test_float32_subnormals_and_underflow():
    smallest = 2.0**-149
    assert round_dyadic(1, -150, F32) == 0.0  # half the smallest subnormal ties to 0
    assert round_dyadic(2**40 + 1, -190, F32) == smallest  # just above half of it
    assert round_dyadic(3, -150, F32) == 2 * smallest  # 1.5 ulp ties to the even 2
    assert round_dyadic(5, -150, F32) == 2 * smallest  # 2.5 ulp ties to the even 2
    below_normal = fraction_of(2**24 - 1, -150)  # between the largest subnormal and 2**-126
    assert round_dyadic(2**24 - 1, -150, F32) == 2.0**-126 == nearest_float32(below_normal)
    negative = round_dyadic(-1, -151, F32)
    assert negative == 0 and math.copysign(1, negative) == -1
    assert round_dyadic(1, -10**6, F32) == 0.0 and round_dyadic(1, -10**6, F64) == 0.0


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_overflow_threshold(dtype):
    largest = float(np.finfo(dtype).max)
    precision = np.finfo(dtype).nmant + 1
    mantissa, exponent = (Fraction(largest).numerator, 0)
    # max + half an ulp, as an integer: ulp(max) = 2**(emax - precision + 1).
    emax = np.finfo(dtype).maxexp - 1
    tie = 2 * mantissa + 2 ** (emax - precision + 1)  # twice (max + ulp/2)
    assert round_dyadic(tie, -1, dtype) == math.inf
    assert round_dyadic(-tie, -1, dtype) == -math.inf
    assert round_dyadic(2**200 * tie - 1, -201, dtype) == largest
    assert round_dyadic(mantissa, exponent, dtype) == largest
    assert round_dyadic(1, 10**6, dtype) == math.inf


def test_zero_rounds_to_plus_zero():
    for dtype in (F64, F32):
        zero = round_dyadic(0, 12, dtype)
        assert zero == 0 and math.copysign(1, zero) == 1


def test_float32_is_rounded_once_not_through_float64():
    # 1 + 2**-24 + 2**-60 lies just above the float32 tie 1 + 2**-24; float64
    # rounds it onto the tie, and float32 then rounds the tie to the even 1.
    mantissa, exponent = 2**60 + 2**36 + 1, -60
    assert np.float32(nearest_float64(fraction_of(mantissa, exponent))) == 1.0
    assert round_dyadic(mantissa, exponent, F32) == 1 + 2**-23


def test_tie_neighbours():
    assert tie_neighbours(2**24 + 1, -24, F32) == (1.0, 1 + 2**-23)
    assert tie_neighbours(-(2**24 + 1), -24, F32) == (-1 - 2**-23, -1.0)
    assert tie_neighbours(2**24 + 2, -24, F32) is None  # representable: 1 + 2**-23
    assert tie_neighbours(2**25 + 1, -25, F32) is None  # a quarter ulp above 1
    assert tie_neighbours(1, -150, F32) == (0.0, 2.0**-149)
    largest = Fraction(float(np.finfo(np.float64).max)).numerator
    assert tie_neighbours(2 * largest + 2**971, -1, F64) == (float(largest), math.inf)


# ulp_distance ---------------------------------------------------------------


def test_ulp_distance_counts_floats_between():
    one = 1.0
    assert exact.ulp_distance(one, np.nextafter(one, 2)) == 1
    assert exact.ulp_distance(np.nextafter(one, 2), one) == 1
    assert exact.ulp_distance(one, one + 4 * 2**-52) == 4
    assert exact.ulp_distance(1.0, 2.0) == 2**52
    assert exact.ulp_distance(-5e-324, 5e-324) == 2  # across zero: -tiny, 0, tiny
    assert exact.ulp_distance(0.0, -0.0) == 0
    assert exact.ulp_distance(2.0**-1022, 2.0**-1022 - 5e-324) == 1  # into the subnormals
    assert exact.ulp_distance(-np.finfo(float).max, np.finfo(float).max) == 2.0 * (2**63 - 2**52 - 1)


def test_ulp_distance_of_infinities_and_nan():
    d = exact.ulp_distance([np.inf, -np.inf, np.inf, np.inf, np.nan, 1.0], [np.inf, -np.inf, -np.inf, 1e308, np.nan, np.nan])
    np.testing.assert_array_equal(d, [0, 0, np.inf, np.inf, np.inf, np.inf])


def test_ulp_distance_in_float32_and_shapes():
    tiny = np.float32(2**-149)
    assert exact.ulp_distance(-tiny, tiny) == 2
    assert exact.ulp_distance(np.float32(1), np.float32(2)) == 2**23
    # A float64 argument makes the common dtype float64.
    assert exact.ulp_distance(np.float32(1), 2.0) == 2**52
    assert exact.ulp_distance(np.float32(1), np.float64(np.nextafter(np.float32(1), np.float32(2)))) == 2**29
    d = exact.ulp_distance(np.ones((2, 3), np.float32), np.float32(1))
    assert d.shape == (2, 3) and d.dtype == np.float64 and not d.any()
    assert isinstance(exact.ulp_distance(1.0, 1.0), np.float64)
    with pytest.raises(TypeError, match=r"`actual` must hold real numbers of dtype float16, bfloat16, float32 or float64; got dtype complex128"):
        exact.ulp_distance(1j, 1.0)


# Signatures, types and the absence of python-flint -------------------------


FUNCTIONS = list(xentref.__all__)


def test_exact_has_every_function_and_gradient_with_its_signature():
    assert set(exact.__all__) == set(xentref.__all__) | {"ulp_distance"}
    assert exact.grad.__all__ == grad.__all__
    for name in FUNCTIONS:
        assert inspect.signature(getattr(exact, name)) == inspect.signature(getattr(xentref, name))
    for name in grad.__all__:
        assert inspect.signature(getattr(exact.grad, name)) == inspect.signature(getattr(grad, name))


def test_core_imports_without_flint_and_exact_names_the_install_command():
    blocked = "import sys; sys.modules['flint'] = None; "
    core = subprocess.run([sys.executable, "-c", blocked + "import xentref"], capture_output=True, text=True, check=False)
    assert core.returncode == 0, core.stderr
    result = subprocess.run([sys.executable, "-c", blocked + "import xentref.exact"], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert 'ImportError: xentref.exact needs python-flint; install it with: pip install "xentref[exact]"' in result.stderr


# mpmath references ----------------------------------------------------------
#
# Textbook formulas on the exact values of the inputs. Each evaluates at 60
# digits plus what its cancellation costs: log(1 + e^-d) and 1 - softmax lose
# d / ln 10 digits for a gap d, capped at 2000 (a gap beyond that leaves a
# value below e^-2000, which rounds to 0 next to anything of order 1).


def mpf(x):
    return mpmath.mpf(float(x))


def digits(n):
    """Work with at least `n` significant digits (more if the caller set more)."""
    return mpmath.workdps(max(n, mpmath.mp.dps))


def _digits(gap):
    return 60 + int(min(gap, 2000) / 2.302585092994046) + 1


def gap_digits(values):
    """Digits for a row whose finite entries spread over a gap.

    Also the digits of the largest magnitude: log_softmax(z) subtracts
    logsumexp(z) from z, which cancels them.
    """
    finite = [float(v) for v in values if np.isfinite(v)]
    with np.errstate(over="ignore"):
        spread = max(finite) - min(finite)
    return _digits(spread) + int(math.log10(max(abs(v) for v in finite) + 1))


def size_digits(x):
    """Digits for log(1 + e^-|x|) beside max(x, 0)."""
    return _digits(abs(float(x)))


def mp_unit(value, base):
    return value if base is None else value / mpmath.log(mpf(base))


def mp_entropy(p, base=None):
    with digits(150):
        return mp_unit(-mpmath.fsum(mpf(x) * mpmath.log(mpf(x)) for x in p if x > 0), base)


def mp_cross_entropy(p, q, base=None):
    if any(a > 0 and b == 0 for a, b in zip(p, q)):
        return mp_unit(mpmath.inf, base)
    with digits(150):
        return mp_unit(-mpmath.fsum(mpf(a) * mpmath.log(mpf(b)) for a, b in zip(p, q) if a > 0), base)


def mp_kl_divergence(p, q, base=None):
    if any(a > 0 and b == 0 for a, b in zip(p, q)):
        return mp_unit(mpmath.inf, base)
    # 150 digits: nearly equal distributions cancel about 35 of them.
    with digits(150):
        return mp_unit(mpmath.fsum(mpf(a) * mpmath.log(mpf(a) / mpf(b)) for a, b in zip(p, q) if a > 0), base)


def mp_logsumexp(x):
    if np.inf in x:
        return mpmath.inf
    if all(v == -np.inf for v in x):
        return -mpmath.inf
    with digits(gap_digits(x)):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpf(v)) for v in x))


def mp_log_softmax(x):
    with digits(gap_digits(x)):
        lse = mp_logsumexp(x)
        return [mpf(v) - lse for v in x]


def mp_softmax(x):
    with digits(gap_digits(x)):
        total = mpmath.fsum(mpmath.exp(mpf(v)) for v in x)
        return [mpmath.exp(mpf(v)) / total for v in x]


def mp_softmax_cross_entropy(z, target):
    t = np.eye(len(z))[target] if np.ndim(target) == 0 else target
    with digits(gap_digits(z)):
        log_p = mp_log_softmax(z)
        if any(a > 0 and v == -np.inf for a, v in zip(t, z)):
            return mpmath.inf
        return -mpmath.fsum(mpf(a) * b for a, b in zip(t, log_p) if a > 0)


def mp_softmax_cross_entropy_grad(z, target):
    t = np.eye(len(z))[target] if np.ndim(target) == 0 else target
    with digits(gap_digits(z) + 40):
        total = mpmath.fsum(mpf(a) for a in t)
        return [p * total - mpf(a) for p, a in zip(mp_softmax(z), t)]


def mp_sigmoid(x):
    with digits(60):
        return 1 / (1 + mpmath.exp(-mpf(x)))


def mp_softplus(x):
    with digits(size_digits(x)):
        return mpmath.log(1 + mpmath.exp(mpf(x)))


def mp_log_sigmoid(x):
    return -mp_softplus(-x)


def mp_binary_cross_entropy(p, y, w=1.0):
    if w == 0:
        return mpmath.mpf(0)
    if (y > 0 and p == 0) or (y < 1 and p == 1):
        return mpmath.inf
    # 400 digits: 1 - p keeps a p as small as 1e-324.
    with digits(400):
        p, y, w = mpf(p), mpf(y), mpf(w)
        loss = (y * mpmath.log(p) if y > 0 else 0) + ((1 - y) * mpmath.log(1 - p) if y < 1 else 0)
        return -w * loss


def mp_binary_cross_entropy_grad(p, y, w=1.0):
    """-w [y/p - (1 - y)/(1 - p)], with the documented one-sided values at p = y in {0, 1}."""
    if w == 0:
        return mpmath.mpf(0)
    if p == 0:
        return mpf(w) if y == 0 else -mpmath.inf
    if p == 1:
        return -mpf(w) if y == 1 else mpmath.inf
    with digits(400):
        p, y = mpf(p), mpf(y)
        return -mpf(w) * (y / p - (1 - y) / (1 - p))


def mp_sigmoid_binary_cross_entropy(z, y, pos_weight=1.0, w=1.0):
    if w == 0:
        return mpmath.mpf(0)
    if (pos_weight * y > 0 and z == -np.inf) or (y < 1 and z == np.inf):
        return mpmath.inf
    with digits(size_digits(z)):
        positive, negative = mpf(pos_weight) * mpf(y), 1 - mpf(y)
        loss = 0
        if positive > 0:
            loss += positive * mpmath.log(1 + mpmath.exp(-mpf(z)))
        if negative > 0:
            loss += negative * mpmath.log(1 + mpmath.exp(mpf(z)))
        return mpf(w) * loss


def mp_sigmoid_binary_cross_entropy_grad(z, y, pos_weight=1.0, w=1.0):
    """w [(1 + (w+ - 1) y) sigma(z) - w+ y], the first form in xentref.grad's Notes."""
    with digits(size_digits(z) + 20):
        y, pos_weight = mpf(y), mpf(pos_weight)
        return mpf(w) * ((1 + (pos_weight - 1) * y) * mp_sigmoid(z) - pos_weight * y)


# Agreement ------------------------------------------------------------------


def rounded_reference(value, dtype):
    """The floats an exact result may be: the correct rounding of `value`, and
    its neighbour across a tie when `value` is within TIE_TOLERANCE of one."""
    if mpmath.isinf(value) or value == 0:
        return {float(value)}
    if mpmath.mag(value) > 1100:
        return {math.copysign(math.inf, value)}
    if mpmath.mag(value) < -1200:
        return {math.copysign(0.0, value)}
    negative, mantissa, exponent, _ = value._mpf_  # mpf(value) would round it to the current precision
    x = fraction_of(-mantissa if negative else mantissa, exponent)
    nearest = NEAREST[dtype](x)
    if not math.isfinite(nearest):
        return {nearest}
    other = float(np.nextafter(dtype.type(nearest), dtype.type(math.copysign(math.inf, x - Fraction(nearest)))))
    tie = (Fraction(nearest) + Fraction(other)) / 2
    return {nearest, other} if abs(x - tie) <= abs(x) * TIE_TOLERANCE else {nearest}


def assert_correctly_rounded(result, references, template):
    """`result` has the type, dtype and shape of the float function's result,
    and each value is the correct rounding of its mpmath reference."""
    assert type(result) is type(template)
    assert result.dtype == template.dtype and np.shape(result) == np.shape(template)
    flat = np.ravel(result).tolist()
    assert len(flat) == len(references)
    for index, (value, reference) in enumerate(zip(flat, references)):
        allowed = rounded_reference(reference, result.dtype)
        assert any(value == a for a in allowed), (
            f"at flat index {index}: exact gives {value!r}, mpmath {mpmath.nstr(reference, 25)} "
            f"rounds to {allowed}"
        )


def reduce_references(values, reduction):
    if reduction == "none":
        return values
    with digits(100):
        total = mpmath.fsum(values)
        return [total if reduction == "sum" else total / len(values)]


# Every function on seeded random input, in float64 and float32 -------------


def _rows(a):
    return np.asarray(a).reshape(-1, np.shape(a)[-1]).tolist()


def _probability_case(rng, dtype):
    p = rng.dirichlet(np.full(5, 0.7), 6).astype(dtype)
    q = rng.dirichlet(np.full(5, 0.7), 6).astype(dtype)
    p[0, 1] = 0  # a 0 log 0 term
    p[0] /= p[0].sum()
    return p, q


def _logits(rng, dtype):
    z = rng.normal(0, 4, (6, 5)).astype(dtype)
    z[1, 2] = -np.inf
    return z


def _binary(rng, dtype, n=24):
    probs = rng.uniform(0, 1, n).astype(dtype)
    targets = rng.uniform(0, 1, n).astype(dtype)
    targets[:8] = rng.integers(0, 2, 8)
    probs[:2] = [0, 1]
    targets[:4] = [0, 1, 0, 1]
    weight = rng.uniform(0, 2, n).astype(dtype)
    weight[5] = 0
    return probs, targets, weight


def _check(name, args, kwargs, references, gradient=False):
    module, exact_module = (grad, exact.grad) if gradient else (xentref, exact)
    template = getattr(module, name)(*args, **kwargs)
    result = getattr(exact_module, name)(*args, **kwargs)
    assert_correctly_rounded(result, references, template)
    return result


DTYPES = pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])


@DTYPES
@pytest.mark.parametrize("base", [None, 2, 10])
def test_information_measures(dtype, base):
    p, q = _probability_case(np.random.default_rng(SEED), dtype)
    _check("entropy", (p,), {"base": base}, [mp_entropy(r, base) for r in _rows(p)])
    _check("cross_entropy", (p, q), {"base": base}, [mp_cross_entropy(a, b, base) for a, b in zip(_rows(p), _rows(q))])
    _check("kl_divergence", (p, q), {"base": base}, [mp_kl_divergence(a, b, base) for a, b in zip(_rows(p), _rows(q))])


@DTYPES
def test_information_gradients_sum_over_broadcast_dimensions(dtype):
    p, q = _probability_case(np.random.default_rng(SEED), dtype)
    q0 = q[:1]  # shape (1, 5), broadcast against the 6 rows of p
    for name in ("cross_entropy", "kl_divergence"):
        with digits(60):
            references = [-mpmath.fsum(mpf(a) / mpf(b) for a in p[:, k]) for k, b in enumerate(q0[0])]
        _check(name, (p, q0), {}, references, gradient=True)
        with digits(60):
            references = [-mpf(a) / mpf(b) / mpmath.log(2) for a, b in zip(p.ravel(), q.ravel())]
        _check(name, (p, q), {"base": 2}, references, gradient=True)


@DTYPES
def test_logsumexp_log_softmax_softmax(dtype):
    z = _logits(np.random.default_rng(SEED), dtype)
    _check("logsumexp", (z,), {}, [mp_logsumexp(r) for r in _rows(z)])
    _check("log_softmax", (z,), {}, [v for r in _rows(z) for v in mp_log_softmax(r)])
    _check("softmax", (z,), {}, [v for r in _rows(z) for v in mp_softmax(r)])
    # Along another axis: the same values, transposed.
    by_row = [mp_softmax(r) for r in _rows(z)]
    _check("softmax", (z.T,), {"axis": 0}, [row[k] for k in range(5) for row in by_row])


@DTYPES
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_softmax_cross_entropy(dtype, reduction):
    rng = np.random.default_rng(SEED)
    z = _logits(rng, dtype)
    labels = rng.integers(0, 5, 6)
    labels[1] = 0  # not the -inf logit
    targets = rng.dirichlet(np.ones(5), 6).astype(dtype)
    targets[1, 2] = 0  # a zero target on the -inf logit contributes 0
    targets[1] /= targets[1].sum()
    for t in (labels, targets):
        losses = [mp_softmax_cross_entropy(r, a) for r, a in zip(_rows(z), t)]
        _check("softmax_cross_entropy", (z, t), {"reduction": reduction}, reduce_references(losses, reduction))
        scale = len(losses) if reduction == "mean" else 1
        gradient = [v / scale for r, a in zip(_rows(z), t) for v in mp_softmax_cross_entropy_grad(r, a)]
        _check("softmax_cross_entropy", (z, t), {"reduction": reduction}, gradient, gradient=True)


@DTYPES
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_nll_loss(dtype, reduction):
    rng = np.random.default_rng(SEED)
    log_p = xentref.log_softmax(rng.normal(0, 4, (6, 5)).astype(dtype))
    labels = rng.integers(0, 5, 6)
    losses = [-mpf(r[y]) for r, y in zip(_rows(log_p), labels)]
    _check("nll_loss", (log_p, labels), {"reduction": reduction}, reduce_references(losses, reduction))
    scale = 6 if reduction == "mean" else 1
    gradient = [mpmath.mpf(-1) / scale if k == y else mpmath.mpf(0) for y in labels for k in range(5)]
    _check("nll_loss", (log_p, labels), {"reduction": reduction}, gradient, gradient=True)


@DTYPES
@pytest.mark.parametrize("padding", ["lengths", "mask"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "sequence_mean"])
def test_sequence_softmax_cross_entropy(dtype, padding, reduction):
    rng = np.random.default_rng(SEED)
    z = rng.normal(0, 4, (3, 4, 5)).astype(dtype)
    z[1, 0, 2] = -np.inf
    lengths = np.array([4, 1, 2])
    counts = np.arange(4) < lengths[:, np.newaxis]
    if padding == "mask":
        counts[0, 1] = False  # a gap inside the first sequence
    labels = np.where(counts, rng.integers(0, 5, (3, 4)), -100)
    labels[1, 0] = 0  # not the -inf logit
    options = {"lengths": lengths} if padding == "lengths" else {"mask": counts}
    zero = mpmath.mpf(0)
    losses = [[mp_softmax_cross_entropy(z[b, t], labels[b, t]) if counts[b, t] else zero for t in range(4)] for b in range(3)]
    with digits(100):
        if reduction == "none":
            references = [loss for row in losses for loss in row]
        elif reduction == "sequence_mean":
            references = [mpmath.fsum(mpmath.fsum(row) / int(n) for row, n in zip(losses, counts.sum(axis=1))) / 3]
        else:
            total = mpmath.fsum(loss for row in losses for loss in row)
            references = [total if reduction == "sum" else total / int(counts.sum())]
    arguments = (z, labels)
    _check("sequence_softmax_cross_entropy", arguments, {**options, "reduction": reduction}, references)
    divisor = {"mean": np.full(3, counts.sum()), "sequence_mean": 3 * counts.sum(axis=1)}.get(reduction, np.ones(3))
    gradient = [
        v / int(divisor[b]) if counts[b, t] else zero
        for b in range(3) for t in range(4)
        for v in (mp_softmax_cross_entropy_grad(z[b, t], labels[b, t]) if counts[b, t] else [zero] * 5)
    ]
    _check("sequence_softmax_cross_entropy", arguments, {**options, "reduction": reduction}, gradient, gradient=True)


@DTYPES
def test_micro_batch_token_mean(dtype):
    losses = np.random.default_rng(SEED).uniform(0, 30, 5).astype(dtype)
    losses[2] = 0
    counts = np.array([7, 3, 0, 12, 1])
    with digits(60):
        reference = mpmath.fsum(mpf(v) for v in losses) / 23
    _check("micro_batch_token_mean", (losses, counts), {}, [reference])


@DTYPES
def test_perplexity_and_bits(dtype):
    loss = np.concatenate([np.random.default_rng(SEED).uniform(0, 12, 12), [0.0, 5e-300, 700.0, np.inf]]).astype(dtype)
    n_tokens = np.arange(1, 17) * 1000
    n_units = np.arange(1, 17) * 4321
    infinity = mpmath.inf

    def each(f):
        with digits(60):
            return [infinity if v == np.inf else f(mpf(v), k) for k, v in enumerate(loss)]

    _check("perplexity", (loss,), {}, each(lambda v, k: mpmath.exp(v)))
    _check("perplexity", (loss,), {"base": 2}, each(lambda v, k: mpmath.power(2, v)))
    _check("perplexity", (loss,), {"base": 10}, each(lambda v, k: mpmath.power(10, v)))
    _check("bits_per_token", (loss,), {}, each(lambda v, k: v / mpmath.log(2)))
    per_unit = each(lambda v, k: v * int(n_tokens[k]) / (int(n_units[k]) * mpmath.log(2)))
    _check("bits_per_byte", (loss, n_tokens, n_units), {}, per_unit)
    _check("bits_per_character", (loss, n_tokens, n_units), {}, per_unit)


@DTYPES
def test_sigmoid_log_sigmoid_softplus(dtype):
    x = np.concatenate([np.random.default_rng(SEED).normal(0, 20, 40), [0, -np.inf, np.inf]]).astype(dtype)
    _check("sigmoid", (x,), {}, [mp_sigmoid(v) for v in x])
    _check("log_sigmoid", (x,), {}, [mp_log_sigmoid(v) for v in x])
    _check("softplus", (x,), {}, [mp_softplus(v) for v in x])
    # A scalar in, a NumPy scalar out, as from the float functions.
    _check("sigmoid", (dtype.type(-3.5),), {}, [mp_sigmoid(-3.5)])


@DTYPES
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_binary_cross_entropy(dtype, reduction):
    probs, targets, weight = _binary(np.random.default_rng(SEED), dtype)
    losses = [mp_binary_cross_entropy(*a) for a in zip(probs, targets, weight)]
    _check("binary_cross_entropy", (probs, targets), {"weight": weight, "reduction": reduction},
           reduce_references(losses, reduction))
    scale = len(probs) if reduction == "mean" else 1
    gradient = [mp_binary_cross_entropy_grad(*a) / scale for a in zip(probs, targets, weight)]
    _check("binary_cross_entropy", (probs, targets), {"weight": weight, "reduction": reduction}, gradient, gradient=True)


@DTYPES
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_sigmoid_binary_cross_entropy(dtype, reduction):
    rng = np.random.default_rng(SEED)
    _, targets, weight = _binary(rng, dtype)
    logits = rng.normal(0, 20, targets.size).astype(dtype)
    logits[:3] = [np.inf, -np.inf, np.inf]  # with targets 0, 1, 0: infinite losses
    logits[3] = np.inf  # with target 1: loss 0
    pos_weight = rng.uniform(0, 3, targets.size).astype(dtype)
    if reduction != "none":
        logits[:3] = [30, -30, 30]
    args = list(zip(logits, targets, pos_weight, weight))
    losses = [mp_sigmoid_binary_cross_entropy(*a) for a in args]
    kwargs = {"pos_weight": pos_weight, "weight": weight, "reduction": reduction}
    _check("sigmoid_binary_cross_entropy", (logits, targets), kwargs, reduce_references(losses, reduction))
    scale = len(args) if reduction == "mean" else 1
    gradient = [mp_sigmoid_binary_cross_entropy_grad(*a) / scale for a in args]
    _check("sigmoid_binary_cross_entropy", (logits, targets), kwargs, gradient, gradient=True)


def test_targets_and_weights_are_read_in_the_dtype_of_the_prediction():
    # As in the float functions: 0.1 and 0.3 become the float32 numbers
    # nearest them, and those are the inputs whose exact loss is returned.
    logits, targets = np.float32([2.5, -1.25]), [0.1, 1.0]
    kwargs = {"pos_weight": [0.3, 3.0], "weight": [0.3, 1.0], "reduction": "none"}
    read = [np.float32(v) for v in (0.1, 0.3, 0.3)]
    references = [
        mp_sigmoid_binary_cross_entropy(logits[0], read[0], read[1], read[2]),
        mp_sigmoid_binary_cross_entropy(logits[1], 1.0, 3.0, 1.0),
    ]
    _check("sigmoid_binary_cross_entropy", (logits, targets), kwargs, references)
    z, t = np.float32([[1.5, -2.0, 0.25]]), [[0.1, 0.2, 0.7]]
    _check("softmax_cross_entropy", (z, t), {}, [mp_softmax_cross_entropy(z[0], np.float32(t[0]))])


# The hard cases -------------------------------------------------------------

HUGE = [40.0, 700.0, 1e300, 1.7e308]


@pytest.mark.parametrize("z", [*HUGE, *(-v for v in HUGE)])
def test_sigmoid_at_extreme_logits(z):
    _check("sigmoid", (np.array([z]),), {}, [mp_sigmoid(z)])
    _check("log_sigmoid", (np.array([z]),), {}, [mp_log_sigmoid(z)])
    _check("softplus", (np.array([z]),), {}, [mp_softplus(z)])
    for y in (0.0, 1.0, 0.25):
        _check("sigmoid_binary_cross_entropy", ([z], [y]), {"reduction": "none"},
               [mp_sigmoid_binary_cross_entropy(z, y)])
        _check("sigmoid_binary_cross_entropy", ([z], [y]), {}, [mp_sigmoid_binary_cross_entropy_grad(z, y)],
               gradient=True)


def test_sigma_40_minus_1_keeps_its_digits():
    # sigma(40) - 1 = -sigma(-40) = -e^-40 / (1 + e^-40), the value in xentref.grad's docstring
    assert exact.grad.sigmoid_binary_cross_entropy(40.0, 1.0) == -4.248354255291589e-18


GAPS = [5.3, 30.7, 40.1, 100.9, 700.3, 745.1]


@pytest.mark.parametrize("gap", GAPS)
def test_one_minus_softmax_when_the_others_are_far_below(gap):
    z = np.array([[0.25, 0.25 - gap, 0.25 - gap - 1.5, -np.inf]])
    references = mp_softmax_cross_entropy_grad(z[0], 0)
    _check("softmax_cross_entropy", (z, [0]), {}, references, gradient=True)
    _check("softmax_cross_entropy", (z, [0]), {}, [mp_softmax_cross_entropy(z[0], 0)])
    _check("softmax", (z,), {}, mp_softmax(z[0]))
    _check("log_softmax", (z,), {}, mp_log_softmax(z[0]))
    _check("logsumexp", (z,), {}, [mp_logsumexp(z[0])])


@pytest.mark.parametrize("g", [5.0, 30.0, 40.0, 700.0])
@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_logits_g_plus_a_tenth(g, dtype):
    # g + 0.1 and 0.1 are rounded differently, so the gap is not exactly g.
    z = np.array([g + 0.1, 0.1], dtype=dtype)
    _check("softmax_cross_entropy", (z, 0), {}, [mp_softmax_cross_entropy(z, 0)])
    _check("softmax_cross_entropy", (z, 1), {}, [mp_softmax_cross_entropy(z, 1)])
    _check("softmax_cross_entropy", (z, 0), {}, mp_softmax_cross_entropy_grad(z, 0), gradient=True)


def past_the_tie(tie, sign, dtype=F64):
    """The rounding of `tie` moved by a positive or negative amount far below an ulp.

    Any such amount rounds the same way, so 2**-3000 stands in for an
    e^(-huge) the references cannot represent beside the tie.
    """
    return NEAREST[dtype](tie + sign * Fraction(1, 2**3000))


def test_a_tie_plus_a_tiny_correction_rounds_away_from_the_tie():
    # Logits (2**53, -1): the gap 2**53 + 1 lies halfway between 2**53 and
    # 2**53 + 2, and the loss of label 1 is the gap plus log(1 + e^-gap).
    z = np.array([2.0**53, -1.0])
    gap = Fraction(2**53 + 1)
    assert exact.softmax_cross_entropy(z, 1) == past_the_tie(gap, 1) == 2**53 + 2
    assert exact.log_softmax(z)[1] == past_the_tie(-gap, -1) == -(2**53 + 2)
    # softplus(1.7e308) = 1.7e308 + log(1 + e^-1.7e308); three quarters of it
    # are a tie plus a positive amount.
    loss = exact.sigmoid_binary_cross_entropy(1.7e308, 0.25)
    assert loss == past_the_tie(Fraction(3, 4) * Fraction(1.7e308), 1) != 0.75 * 1.7e308
    # sigma(z) - y for y = 2**-54: the tie 1 - 2**-54 minus sigma(-z)
    for dtype, y in ((F64, 2.0**-54), (F32, 2.0**-25)):
        g = exact.grad.sigmoid_binary_cross_entropy(dtype.type(1e5), dtype.type(y))
        assert g == past_the_tie(1 - Fraction(y), -1, dtype) and g.dtype == dtype
    # Softmax cross-entropy gradient at the top logit: the sum of the other
    # targets, 0.5 + 2**-25 (a float32 tie), minus a tiny amount.
    z = np.array([0.0, -1e5, -1e5], np.float32)
    t = np.array([0.5 - 2**-25, 0.5, 2**-25], np.float32)
    g = exact.grad.softmax_cross_entropy(z, t)
    assert g[0] == past_the_tie(Fraction(1, 2) + Fraction(1, 2**25), -1, F32) == 0.5


def test_tiny_loss_is_log1p_of_e_to_the_minus_30():
    assert exact.softmax_cross_entropy([30.0, 0.0], 0) == 9.357622968839737e-14
    assert exact.sigmoid_binary_cross_entropy(30.0, 1.0) == 9.357622968839737e-14
    assert exact.softplus(-30.0) == 9.357622968839737e-14


@pytest.mark.parametrize("logits", [[1e300, -1e300], [1.7e308, -1.7e308, 0.0], [-1e300, 1e300], [1e300, 1e300]])
def test_huge_logits(logits):
    z = np.array(logits)
    _check("logsumexp", (z,), {}, [mp_logsumexp(z)])
    _check("log_softmax", (z,), {}, mp_log_softmax(z))
    _check("softmax", (z,), {}, mp_softmax(z))
    for label in range(len(z)):
        _check("softmax_cross_entropy", (z, label), {}, [mp_softmax_cross_entropy(z, label)])
        # 1 - softmax_y cancels beyond any precision here; the textbook
        # identity 1 - softmax_y = sum of the other softmax entries does not.
        p = mp_softmax(z)
        references = [p[k] if k != label else -mpmath.fsum(p[:k] + p[k + 1:]) for k in range(len(z))]
        _check("softmax_cross_entropy", (z, label), {}, references, gradient=True)


def test_subnormal_results():
    # e^-740 and e^-745.1 are below the smallest normal float64, above and
    # near the smallest subnormal.
    for z in ([0.0, -740.0], [0.0, -745.1], [0.0, -745.2]):
        _check("softmax_cross_entropy", (np.array(z), 0), {}, [mp_softmax_cross_entropy(z, 0)])
        _check("softmax", (np.array(z),), {}, mp_softmax(z))
    result = _check("sigmoid", (np.array([-740.0, -745.0, -745.2]),), {}, [mp_sigmoid(v) for v in (-740, -745, -745.2)])
    assert 0 < result[0] < np.finfo(np.float64).tiny and result[1] == 5e-324 and result[2] == 0
    single = np.array([-100.0, -103.0, -104.0], np.float32)
    result = _check("sigmoid", (single,), {}, [mp_sigmoid(v) for v in single])
    assert 0 < result[0] < np.finfo(np.float32).tiny


def test_kl_of_nearly_equal_distributions():
    rng = np.random.default_rng(SEED)
    # Rounding leaves sum(q) - sum(p) of order 1e-16, and KL is about that:
    p = rng.dirichlet(np.ones(4), 5)
    q = p * (1 + rng.uniform(-4e-16, 4e-16, p.shape))
    _check("kl_divergence", (p, q), {}, [mp_kl_divergence(a, b) for a, b in zip(p, q)])
    # With equal sums, KL is of second order: about sum (p - q)^2 / 2q ~ 1e-30.
    p = rng.integers(1, 2**20, (5, 4)).astype(float)
    p[:, -1] = 2**22 - p[:, :-1].sum(axis=1)
    p /= 2**22
    step = rng.integers(1, 2**4, 5) * 2.0**-50
    q = p.copy()
    q[:, 0] += step
    q[:, 1] -= step
    assert (p.sum(axis=1) == 1).all() and (q.sum(axis=1) == 1).all()
    result = _check("kl_divergence", (p, q), {}, [mp_kl_divergence(a, b) for a, b in zip(p, q)])
    assert (0 < result).all() and (result < 1e-27).all()
    _check("kl_divergence", ([0.5, 0.5], [0.5 + 2**-53, 0.5 - 2**-53]), {},
           [mp_kl_divergence([0.5, 0.5], [0.5 + 2**-53, 0.5 - 2**-53])])


@pytest.mark.parametrize("k", [2, 3, 4, 7, 10, 1000])
def test_entropy_of_the_uniform_distribution(k):
    p = np.full(k, 1 / k)
    _check("entropy", (p,), {}, [mp_entropy(p)])
    with digits(60):
        _check("entropy", (p,), {"base": 2}, [mp_entropy(p) / mpmath.log(2)])
    if k & (k - 1) == 0:
        # 1/k is exact, so the entropy is log2 k bits exactly.
        assert exact.entropy(p, base=2) == math.log2(k)


def test_exact_zeros():
    assert exact.softmax_cross_entropy([[3.5]], [0], reduction="none")[0] == 0
    assert not exact.grad.softmax_cross_entropy([[3.5]], [0]).any()
    assert exact.softmax_cross_entropy([0.0, -np.inf], 0) == 0
    p = np.array([0.2, 0.3, 0.5])
    assert exact.kl_divergence(p, p) == 0
    assert exact.kl_divergence(p, p, base=2) == 0
    assert exact.entropy([0.0, 1.0, 0.0]) == 0
    assert exact.cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0
    assert exact.binary_cross_entropy([0.0, 1.0], [0.0, 1.0]) == 0
    assert exact.sigmoid_binary_cross_entropy([np.inf, -np.inf], [1.0, 0.0]) == 0
    assert exact.grad.sigmoid_binary_cross_entropy(0.0, 0.5) == 0  # sigma(0)/2 - 1/2 * 1/2
    assert exact.logsumexp([2.5, -np.inf]) == 2.5
    assert exact.log_softmax([[7.0]])[0, 0] == 0


def test_infinities():
    assert exact.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert exact.kl_divergence([0.5, 0.5], [1.0, 0.0], base=0.5) == -np.inf  # log base < 0
    np.testing.assert_array_equal(exact.grad.cross_entropy([0.5, 0.5], [1.0, 0.0]), [-0.5, -np.inf])
    np.testing.assert_array_equal(exact.log_softmax([0.0, -np.inf]), [0.0, -np.inf])
    assert exact.logsumexp([np.inf, 1.0]) == np.inf and exact.logsumexp([-np.inf, -np.inf]) == -np.inf
    assert exact.softmax_cross_entropy([0.0, -np.inf], 1) == np.inf
    assert exact.nll_loss([[0.0, -np.inf]], [1]) == np.inf
    np.testing.assert_array_equal(
        exact.binary_cross_entropy([0.0, 1.0, 0.0], [1.0, 0.5, 1.0], weight=[1.0, 2.0, 0.0], reduction="none"),
        [np.inf, np.inf, 0.0])
    np.testing.assert_array_equal(
        exact.grad.binary_cross_entropy([0.0, 1.0, 0.0, 1.0, 0.0], [1.0, 0.5, 0.0, 1.0, 1.0],
                                        weight=[1.0, 1.0, 3.0, 3.0, 0.0], reduction="sum"),
        [-np.inf, np.inf, 3.0, -3.0, 0.0])
    np.testing.assert_array_equal(
        exact.sigmoid_binary_cross_entropy([np.inf, -np.inf], [0.5, 0.5], reduction="none"), [np.inf, np.inf])


def test_power_of_two_probabilities_in_bits_are_exact_even_at_a_tie():
    # H(p, q) in bits is 2**-24 * 1 + 0.5 * 2 + (0.5 - 2**-24) * 2 = 2 - 2**-24,
    # the float32 tie between 2 - 2**-23 and 2: the even one is 2.
    p = np.array([2**-24, 0.5, 0.5 - 2**-24], np.float32)
    q = np.array([0.5, 0.25, 0.25], np.float32)
    assert exact.cross_entropy(p, q, base=2) == np.float32(2.0)
    # The same in float64, at the tie between 2 - 2**-52 and 2.
    p = np.array([2**-53, 0.5, 0.5 - 2**-53])
    assert exact.cross_entropy(p, q.astype(np.float64), base=2) == 2.0
    # 0.5 log4(2) + 0.25 log4(1/2) = 1/4 - 1/8
    assert exact.kl_divergence([0.5, 0.25, 0.25], [0.25, 0.5, 0.25], base=4) == 0.125


def test_float32_mean_is_rounded_once():
    # Three float32 losses whose exact mean lies 2**-80 / 3 above a float32
    # tie t: correctly rounded it goes up; through float64 it lands on t and
    # then goes to the even float below.
    ulp = Fraction(2) ** -37
    below = (2**23 + 2) * ulp  # even significand
    tie = below + ulp / 2
    # 3 * tie has 27 bits: split it in two non-negative float32 losses (a
    # negative one would be a log-probability above 0, which is refused).
    first = np.float32(float(3 * tie))
    if Fraction(float(first)) > 3 * tie:
        first = np.nextafter(first, np.float32(0))
    second = np.float32(float(3 * tie - Fraction(float(first))))
    assert Fraction(float(second)) == 3 * tie - Fraction(float(first)) >= 0
    third = np.float32(2.0**-80)
    total = Fraction(float(first)) + Fraction(float(second)) + Fraction(float(third))
    assert total == 3 * tie + Fraction(2) ** -80
    mean = total / 3
    correct = nearest_float32(mean)
    assert correct == float(below + ulp)
    assert np.float32(float(mean)) == np.float32(float(below))  # double rounding goes wrong
    log_probs = -np.array([[first], [second], [third]], np.float32)
    result = exact.nll_loss(log_probs, [0, 0, 0])
    assert result.dtype == np.float32 and result == correct


@pytest.mark.parametrize("dtype", [F64, F32], ids=["float64", "float32"])
def test_float_mean_of_losses_whose_sum_overflows(dtype):
    # Two losses of 2**(emax) sum beyond the float range; their mean over
    # four examples, 2**(emax - 1), does not, and xentref's float mean must
    # agree with the exact one rather than overflow.
    huge = float(2.0 ** (np.finfo(dtype).maxexp - 1))
    log_probs = np.array([[-huge, 0.0], [-huge, 0.0], [0.0, -huge], [0.0, -huge]], dtype)
    expected = exact.nll_loss(log_probs, [0, 0, 0, 0])
    assert expected == huge / 2
    with np.errstate(all="raise"):
        assert exact.ulp_distance(xentref.nll_loss(log_probs, [0, 0, 0, 0]), expected) == 0


# Refusals -------------------------------------------------------------------

LOGITS_2x3 = np.zeros((2, 3))
BAD = {
    "entropy": [
        (([0.5, np.nan],), {}), (([0.5, 0.6],), {}), (([-0.5, 1.5],), {}), (([np.inf, 0.0],), {}),
        ((np.array([0.5, 0.5], np.float16),), {}), ((0.5,), {}), ((np.zeros((2, 0)),), {}),
        (([0.5, 0.5],), {"axis": 1}), (([0.5, 0.5],), {"axis": 0.0}), (([0.5, 0.5],), {"base": 1}),
        (([0.5, 0.5],), {"base": -2.0}), (([0.5, 0.5],), {"base": "2"}),
    ],
    "cross_entropy": [
        (([0.5, 0.5], [0.5, 0.6]), {}), (([0.5, 0.5], [[0.25, 0.25, 0.5]]), {}),
        ((np.full((2, 2), 0.5), np.full((3, 2), 0.5)), {}), (([0.5, 0.5], [0.5, 0.5]), {"base": 0}),
        (([0.5, 0.5], np.full((2, 2), 0.5)), {"axis": 0}),
    ],
    "logsumexp": [(([np.nan, 1.0],), {}), ((1.0,), {}), ((np.array([1j]),), {}), (([1.0],), {"axis": 2})],
    "log_softmax": [(([np.inf, 1.0],), {}), (([-np.inf, -np.inf],), {}), (([np.nan],), {})],
    "softmax_cross_entropy": [
        (([[0.0, np.nan]], [0]), {}), ((LOGITS_2x3, [0, 3]), {}), ((LOGITS_2x3, [0.0, 1.0]), {}),
        ((LOGITS_2x3, [[0.5, 0.4, 0.0]] * 2), {}), ((LOGITS_2x3, [0, 1]), {"reduction": "avg"}),
        ((LOGITS_2x3, [0]), {}), ((LOGITS_2x3[:0], np.zeros(0, int)), {}), ((LOGITS_2x3, [[[0]]]), {}),
        (([[np.inf, 0.0]], [0]), {}),
    ],
    "sigmoid": [(([np.nan],), {}), ((np.array(["a"]),), {})],
    "linear_softmax_cross_entropy": [
        ((np.zeros((2, 3)), np.zeros((4, 2)), [0, 1]), {}), ((np.zeros((2, 3)), np.zeros((4, 3)), [0, 4]), {}),
        (([[np.nan, 0.0, 0.0]], np.zeros((4, 3)), [0]), {}), ((np.zeros((2, 3)), np.zeros((4, 3)), [0, 1]), {"block_size": 0}),
    ],
    "binary_cross_entropy": [
        (([0.5, 1.5], [1, 1]), {}), (([0.5, 0.5], [1]), {}), (([0.5], [1]), {"weight": [-1.0]}),
        (([0.5], [1.2]), {}), (([0.5], [1]), {"weight": [np.nan]}), (([0.5], [1]), {"weight": [1.0, 2.0]}),
        ((np.float32([0.5]), [1]), {"weight": [1e39]}), (([0.5], [1]), {"reduction": None}),
        ((np.zeros(0), np.zeros(0)), {}),
    ],
    "sigmoid_binary_cross_entropy": [
        (([0.0], [2.0]), {}), (([np.nan], [1.0]), {}), (([0.0], [np.nan]), {}),
        ((np.zeros((2, 2)), np.ones((2, 2))), {"pos_weight": np.ones(3)}),
        (([0.0], [1.0]), {"pos_weight": [np.inf]}), (([0.0], [1.0]), {"weight": [-2.0]}),
    ],
    "nll_loss": [
        (([[1.0, 2.0]], [0]), {}), ((np.log([[0.5, 0.5]]), [0.0]), {}), ((np.log([[0.5, 0.5]]), [2]), {}),
        ((np.log([[0.5, 0.5]]), [[0]]), {}), (([[0.0, np.inf]], [0]), {}),
    ],
}
BAD.update({
    "sigmoid_focal_loss": [
        (([0.0], [2.0]), {}), (([0.0], [1.0]), {"gamma": -1.0}), (([0.0], [1.0]), {"alpha": 1.5}),
        (([0.0], [1.0]), {"gamma": "2"}),
    ],
    "softmax_focal_loss": [
        ((LOGITS_2x3, [0, 3]), {}), ((LOGITS_2x3, [0, 1]), {"gamma": np.nan}),
        ((LOGITS_2x3, [0, 1]), {"alpha": [1.0, 2.0]}), ((LOGITS_2x3, [0, 1]), {"alpha": [1.0, -1.0, 1.0]}),
    ],
    "softmax_poly1_loss": [((LOGITS_2x3, [0, 1]), {"epsilon": -2.0}), ((LOGITS_2x3, [0, 3]), {"epsilon": 1.0})],
    "sigmoid_poly1_loss": [(([0.0], [1.0]), {"epsilon": np.inf}), (([np.nan], [1.0]), {"epsilon": 1.0})],
    "class_balanced_weights": [(([10, 0],), {"beta": 0.9}), (([10, 5],), {"beta": 1.0}), (([10, 5],), {"beta": True})],
    "kl_divergence_of_log_probs": [
        (([0.0, 0.0], np.log([0.5, 0.5])), {}), ((np.log([0.5, 0.5]), [np.nan, 0.0]), {}),
        ((np.log([0.5, 0.5]), np.log([0.25, 0.25, 0.5])), {}),
    ],
    "distillation_loss": [
        ((LOGITS_2x3, LOGITS_2x3), {"temperature": 0.0}), ((LOGITS_2x3, LOGITS_2x3[:1]), {"temperature": 1.0}),
        (([[np.inf, 0.0]], [[0.0, 0.0]]), {"temperature": 1.0}),
    ],
})
BAD["brier_score"] = [
    (([[0.5, 0.6]], [0]), {}), (([[0.5, 0.5]], [2]), {}), (([[0.5, 0.5]], [[0.5, 0.6]]), {}),
    (([[0.5, 0.5]], [0.0]), {}), (([[0.5, 0.5]], [0]), {"reduction": "avg"}), ((np.zeros((0, 2)), np.zeros(0, int)), {}),
]
BAD["expected_calibration_error"] = [
    (([[0.5, 0.6]], [0]), {}), (([[0.5, 0.5]], [2]), {}), (([[0.5, 0.5]], [0.0]), {}),
    (([[0.5, 0.5]], [0]), {"n_bins": 0}), (([[0.5, 0.5]], [0]), {"n_bins": 2.0}),
    ((np.zeros((0, 2)), np.zeros(0, int)), {}),
]
HALVES = np.log(np.full((1, 3, 2), 0.5))
BAD["ctc_loss"] = [
    ((HALVES, [[1, 0]], [3], [2]), {}), ((HALVES, [[2]], [3], [1]), {}), ((HALVES, [[1]], [4], [1]), {}),
    ((HALVES, [[1]], [3], [-1]), {}), ((HALVES, [[1]], [3], [1]), {"blank": 2}), ((HALVES, [[1.0]], [3], [1]), {}),
    ((HALVES, [[1]], [3], [1]), {"zero_infinity": 1}), ((np.zeros((1, 3, 2)), [[1]], [3], [1]), {}),
    ((HALVES[:0], np.zeros((0, 1), int), np.zeros(0, int), np.zeros(0, int)), {}),
]

BAD["binned_targets"] = [
    (([0.5], [0.0, 1.0, 1.0]), {}), (([0.5], [0.0]), {}), (([1.5], [0.0, 1.0]), {}), (([np.nan], [0.0, 1.0]), {}),
    ((np.float32([0.5]), [0.0, 1e300]), {}),
]
BAD["two_hot_targets"] = BAD["binned_targets"]
BAD["hl_gauss_targets"] = [
    (([0.5], [0.0, 1.0]), {"sigma": 0.0}), (([0.5], [0.0, 1.0]), {"sigma": True}),
    (([0.5], [0.0, 1.0]), {"sigma": 1.0, "normalize": 1}), (([1.5], [0.0, 1.0]), {"sigma": 1.0}),
    (([1e-300], [0.0, 1e-300, 2e-300]), {"sigma": 1e300}),
]
BAD["expected_value"] = [
    (([[0.5, 0.4]], [0.0, 1.0]), {}), (([[0.5, 0.5]], [0.0, 1.0, 2.0]), {}), (([[0.5, 0.5]], [1.0, 0.0]), {}),
]
BAD["symlog"] = BAD["symexp"] = [(([0.0, np.nan],), {}), (([1j],), {})]


SEQUENCES = np.zeros((2, 3, 4))
LABELS_2x3 = np.zeros((2, 3), int)
BAD["sequence_softmax_cross_entropy"] = [
    ((SEQUENCES, [[0, 1, 4], [0, 0, 0]]), {"lengths": [3, 1]}), ((SEQUENCES, LABELS_2x3), {"lengths": [1, 4]}),
    ((SEQUENCES, LABELS_2x3), {"lengths": [-1, 2]}), ((SEQUENCES, LABELS_2x3), {"mask": np.ones((2, 3))}),
    ((SEQUENCES, LABELS_2x3), {"lengths": [1, 2], "mask": np.ones((2, 3), bool)}),
    ((SEQUENCES, LABELS_2x3), {"mask": np.zeros((2, 3), bool)}),
    ((SEQUENCES, LABELS_2x3), {"lengths": [2, 0], "reduction": "sequence_mean"}),
    ((SEQUENCES[:0], LABELS_2x3[:0]), {"reduction": "sequence_mean"}), ((SEQUENCES[0], LABELS_2x3[0]), {}),
]
BAD["micro_batch_token_mean"] = [
    (([1.0, np.nan], [1, 2]), {}), (([1.0, -1.0], [1, 2]), {}), (([1.0, 2.0], [1, 0]), {}),
    (([0.0, 0.0], [0, 0]), {}), (([1.0, 2.0], [1.0, 2.0]), {}), (([1.0, 2.0], [1, 2, 3]), {}),
    (([1.0, 2.0], [1, -2]), {}), ((np.ones((2, 2)), np.ones((2, 2), int)), {}),
]
BAD["perplexity"] = [(([np.nan],), {}), (([-1.0],), {}), (([1.0],), {"base": 1}), ((["1"],), {})]
BAD["bits_per_token"] = [(([np.nan],), {}), (([-1e-300],), {}), ((np.array([1], np.float16),), {})]
BAD["bits_per_byte"] = [
    (([1.0], [0], [1]), {}), (([1.0], [1], [0]), {}), (([1.0], [1.0], [1]), {}), (([1.0], [1, 2], [1]), {}),
    (([-1.0], [1], [1]), {}),
]
BAD["bits_per_character"] = BAD["bits_per_byte"]
BAD["kl_divergence"] = BAD["cross_entropy"] + [(([-0.5, 1.5], [0.5, 0.5]), {})]
BAD["softmax"] = BAD["log_softmax"]
BAD["log_sigmoid"] = BAD["softplus"] = BAD["sigmoid"]
REFUSALS = [
    (gradient, name, args, kwargs)
    for name, cases in BAD.items()
    for args, kwargs in cases
    for gradient in ((False, True) if name in grad.__all__ else (False,))
]


@pytest.mark.parametrize("gradient, name, args, kwargs", REFUSALS)
def test_refuses_what_the_float_function_refuses_with_its_message(gradient, name, args, kwargs):
    module, exact_module = (grad, exact.grad) if gradient else (xentref, exact)
    with pytest.raises((TypeError, ValueError)) as refused:
        getattr(module, name)(*args, **kwargs)
    with pytest.raises(refused.type, match=f"^{re.escape(str(refused.value))}$"):
        getattr(exact_module, name)(*args, **kwargs)


def test_every_function_has_refusal_cases():
    assert set(BAD) == set(FUNCTIONS)


# The certification cap --------------------------------------------------------


def test_a_value_not_certified_within_the_cap_raises(monkeypatch):
    # KL of two distributions 2**-53 apart is about 2**-105: 128 bits leave
    # its ball too wide to round; 256 bits certify it.
    p, q = [0.5, 0.5], [0.5 + 2**-53, 0.5 - 2**-53]
    assert exact.kl_divergence(p, q) > 0
    monkeypatch.setattr(_certify, "MAX_PRECISION", _certify.START_PRECISION)
    message = r"^xentref\.exact\.kl_divergence: a value could not be certified to be correctly rounded with 128 bits"
    with pytest.raises(ArithmeticError, match=message):
        exact.kl_divergence(p, q)
