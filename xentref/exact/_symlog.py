"""Exact symlog and symexp."""

from __future__ import annotations

import math

from flint import arb

import xentref
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import exact, floats
from xentref.exact._doc import mirrors
from xentref.exact._reduction import reduced

# e^1000 is far beyond the largest float64 (about e^709.8) and float32.
_OVERFLOWS = 1000.0


def _signed(x, magnitude):
    """``sign(x) * magnitude``, where `magnitude` is that of |x|: 0 at 0."""
    if x == 0:
        return arb(0)
    return magnitude if x > 0 else -magnitude


def _symlog_of(x):
    if math.isinf(x):
        return x
    return _signed(x, exact(abs(x)).log1p())


def _symexp_of(x):
    if abs(x) > _OVERFLOWS:
        # Decided before any ball arithmetic: e^|x| has no useful ball there.
        return math.copysign(math.inf, x)
    return _signed(x, exact(abs(x)).expm1())


def _elementwise(template, x, value, name):
    return reduced([lambda v=v: value(v) for v in floats(x).ravel().tolist()], "none", template, name)


@mirrors("xentref.symlog", "Exact symmetric logarithm.", r"\operatorname{sign}(x) \log(1 + |x|)", "y")
def symlog(x: ArrayLike) -> Result:
    return _elementwise(xentref.symlog(x), x, _symlog_of, "symlog")


@mirrors("xentref.symexp", "Exact symmetric exponential.", r"\operatorname{sign}(x) (e^{|x|} - 1)", "y")
def symexp(x: ArrayLike) -> Result:
    return _elementwise(xentref.symexp(x), x, _symexp_of, "symexp")
