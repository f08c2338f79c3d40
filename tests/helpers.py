"""Independent references and strategies shared by the tests.

The references evaluate the textbook formulas in mpmath at 50 significant
digits, far beyond float64, so their error is negligible next to the
tolerances used.
"""

import math

import mpmath
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

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
