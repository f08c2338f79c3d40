"""Independent references and strategies shared by the tests.

The references evaluate the textbook formulas in mpmath at 50 significant
digits, far beyond float64, so their error is negligible next to the
tolerances used.
"""

import importlib.util
import math
from pathlib import Path

import mpmath
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from xentref import exact

ROOT = Path(__file__).resolve().parent.parent
DIGITS = 50
mpmath.mp.dps = DIGITS


def mp(values):
    """Float values as exact mpmath numbers."""
    return [mpmath.mpf(float(v)) for v in np.ravel(values)]


def mp_entropy(p):
    return -mpmath.fsum(x * mpmath.log(x) for x in mp(p) if x > 0)


def mp_kl_terms(p, q):
    return [
        a * mpmath.log(a / b) if b > 0 else mpmath.inf
        for a, b in zip(mp(p), mp(q)) if a > 0
    ]


def mp_cross_entropy(p, q):
    return -mpmath.fsum(
        a * mpmath.log(b) if b > 0 else -mpmath.inf
        for a, b in zip(mp(p), mp(q)) if a > 0
    )


def mp_kl_divergence(p, q):
    return mpmath.fsum(mp_kl_terms(p, q))


def _digits_to_resolve(x):
    """Working digits that keep DIGITS of log_softmax for the spread of `x`.

    log(sum(exp(x))) is close to max(x); the part that matters for a tiny
    loss sits about (max - min) / ln(10) digits further down.
    """
    finite = [v for v in mp(x) if mpmath.isfinite(v)]
    spread = max(finite) - min(finite)
    return DIGITS + int(spread / mpmath.log(10)) + 1


def mp_logsumexp(x):
    with mpmath.workdps(_digits_to_resolve(x)):
        return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in mp(x)))


def mp_log_softmax(x):
    with mpmath.workdps(_digits_to_resolve(x)):
        lse = mp_logsumexp(x)
        return [v - lse for v in mp(x)]


def mp_softplus(x):
    """log(1 + e^x) of the exact value of the float `x`."""
    return mpmath.log1p(mpmath.exp(mpmath.mpf(float(x))))


def mp_log_sigmoid(x):
    return -mp_softplus(-float(x))


def mp_sigmoid(x):
    return 1 / (1 + mpmath.exp(-mpmath.mpf(float(x))))


def mp_binary_cross_entropy(p, y):
    """-[y log p + (1 - y) log(1 - p)] at the exact float values, 0 log 0 = 0.

    log(1 - p) is taken as log1p(-p): at 50 digits 1 - p would lose a p
    below 1e-50.
    """
    p, y = mpmath.mpf(float(p)), mpmath.mpf(float(y))
    total = mpmath.mpf(0)
    if y > 0:
        total += y * (mpmath.log(p) if p > 0 else -mpmath.inf)
    if y < 1:
        total += (1 - y) * (mpmath.log1p(-p) if p < 1 else -mpmath.inf)
    return -total


def mp_sigmoid_binary_cross_entropy(z, y, pos_weight=1):
    """-[w+ y log sigma(z) + (1 - y) log sigma(-z)] at the exact float values."""
    y, pos_weight = mpmath.mpf(float(y)), mpmath.mpf(float(pos_weight))
    return -(pos_weight * y * mp_log_sigmoid(z) + (1 - y) * mp_log_sigmoid(-float(z)))


def mp_binary_cross_entropy_grad(p, y):
    """d/dp of -[y log p + (1 - y) log(1 - p)], term by term, at the exact floats.

    A term whose coefficient is 0 is identically 0 and contributes nothing.
    """
    p, y = mpmath.mpf(float(p)), mpmath.mpf(float(y))
    total = mpmath.mpf(0)
    if y > 0:
        total -= y / p if p > 0 else mpmath.inf
    if y < 1:
        total += (1 - y) / (1 - p) if p < 1 else mpmath.inf
    return total


def mp_sigmoid_binary_cross_entropy_grad(z, y, pos_weight=1):
    """(1 + (w+ - 1) y) sigma(z) - w+ y, written (1 - y) sigma(z) - w+ y sigma(-z).

    The two forms are equal since 1 - sigma(z) = sigma(-z); the second needs
    no digits beyond 50 to resolve sigma(z) - 1 for large z.
    """
    y, pos_weight = mpmath.mpf(float(y)), mpmath.mpf(float(pos_weight))
    return (1 - y) * mp_sigmoid(z) - pos_weight * y * mp_sigmoid(-float(z))


def ulps_of(actual, expected, scale=None):
    """|actual - expected| in ulps of max(|expected|, scale), in their dtype.

    Without a scale this is :func:`xentref.exact.ulp_distance`. A value formed
    from terms of opposite sign is measured against the size of its terms.
    """
    if scale is None:
        return exact.ulp_distance(actual, expected)
    actual, expected = np.asarray(actual), np.asarray(expected)
    dtype = expected.dtype
    size = np.maximum(np.abs(expected.astype(np.float64)), np.abs(scale))
    with np.errstate(invalid="ignore"):
        # An infinite value, or an infinite term, makes NaN here; an entry
        # whose expected value is infinite counts 0 if matched exactly.
        error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
        errors = error / np.spacing(size.astype(dtype)).astype(np.float64)
    matched = np.isinf(expected) & (actual == expected)
    return np.where(matched, 0, errors)


def central_difference(f, x, step):
    """Central finite-difference gradient of the scalar function `f` at `x`.

    `step` is an array of steps, one per entry of `x`. The difference is
    divided by the distance actually stepped, (x + h) - (x - h), which is
    exact in floating point, rather than by 2h.
    """
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += step[index]
        down[index] -= step[index]
        grad[index] = (f(up) - f(down)) / (up[index] - down[index])
    return grad


def relative_error(actual, exact):
    """|actual - exact| / |exact|, computed in mpmath."""
    return float(abs(mpmath.mpf(float(actual)) - exact) / abs(exact))


def ulp_error(actual, exact, dtype):
    """|actual - exact| in units of the last place of `exact` in `dtype`.

    Below the smallest normal float the unit is that of the subnormals, so a
    value that underflows to 0 has an error below one unit when the exact
    value is below the smallest subnormal. Infinite `exact` values must be
    matched exactly.
    """
    if mpmath.isinf(exact):
        return 0.0 if float(actual) == exact else math.inf
    info = np.finfo(dtype)
    unit = max(abs(exact), mpmath.mpf(float(info.tiny))) * mpmath.mpf(float(info.eps))
    return float(abs(mpmath.mpf(float(actual)) - exact) / unit)


def ulps(dtype):
    return float(np.finfo(dtype).eps)


def distributions(k, dtype=np.float64, batch=()):
    """Probability vectors of `k` classes that sum to 1 within rounding.

    Entries are drawn from [0, 1] and normalised; some are exactly 0.
    """
    raw = hnp.arrays(
        dtype,
        (*batch, k),
        elements=st.one_of(st.just(0.0), st.floats(2.0**-20, 1.0, width=np.finfo(dtype).bits)),
    ).filter(lambda a: np.all(a.sum(axis=-1) > 0))
    return raw.map(lambda a: a / a.sum(axis=-1, keepdims=True))


def logits(k, batch=(), bound=1e3, dtype=np.float64):
    return hnp.arrays(
        dtype,
        (*batch, k),
        elements=st.floats(-bound, bound, width=np.finfo(dtype).bits),
    )


def weights(shape, bound=1e3):
    """Non-negative weights, including 0 and the smallest subnormal."""
    return hnp.arrays(
        np.float64,
        shape,
        elements=st.one_of(st.sampled_from([0.0, 5e-324, 1.0]), st.floats(0, bound)),
    )


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The build's own reader, loaded by its path: book/_ext is not a package.
_table_of_contents = _load(ROOT / "book" / "_ext" / "table_of_contents.py")


def toc_documents():
    """Every document of _toc.yml, root first, in reading order."""
    return _table_of_contents.toc_documents(ROOT)
