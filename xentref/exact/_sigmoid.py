"""Exact sigmoid, log-sigmoid and softplus, and their values as balls for the
losses.
"""

from __future__ import annotations

import math

from flint import arb

import xentref
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import exact, floats
from xentref.exact._doc import mirrors
from xentref.exact._reduction import reduced
from xentref.exact._split import Split


def softplus_of(x):
    """:math:`\\log(1 + e^x)` of a float, as ``max(x, 0)`` plus a positive
    Split part.

    inf at inf, an exact 0 at -inf.
    """
    if x == math.inf:
        return math.inf
    if x == -math.inf:
        return arb(0)
    # max(x, 0) + log(1 + e^-|x|): never the exponential of a positive number.
    return Split(exact(max(x, 0.0)), exact(-abs(x)).exp().log1p(), 1)


def sigmoid_of(x):
    """:math:`1 / (1 + e^{-x})` of a float, exactly 0 and 1 at -inf and inf."""
    if x == math.inf:
        return arb(1)
    if x == -math.inf:
        return arb(0)
    if x >= 0:
        return 1 / (1 + (-exact(x)).exp())
    # e^x / (1 + e^x): never the exponential of a positive number.
    e = exact(x).exp()
    return e / (1 + e)


def _elementwise(template, x, value, name):
    return reduced(
        [lambda v=v: value(v) for v in floats(x).ravel().tolist()],
        "none",
        template,
        name,
    )


@mirrors(
    "xentref.sigmoid",
    "Exact logistic sigmoid.",
    r"\sigma(x) = 1 / (1 + e^{-x})",
    "p",
)
def sigmoid(x: ArrayLike) -> Result:
    return _elementwise(xentref.sigmoid(x), x, sigmoid_of, "sigmoid")


def _log_sigmoid_of(x):
    return -softplus_of(-x)


@mirrors(
    "xentref.log_sigmoid",
    "Exact logarithm of the sigmoid.",
    r"\log \sigma(x) = -\log(1 + e^{-x})",
    "y",
)
def log_sigmoid(x: ArrayLike) -> Result:
    return _elementwise(
        xentref.log_sigmoid(x), x, _log_sigmoid_of, "log_sigmoid"
    )


@mirrors(
    "xentref.softplus",
    "Exact softplus.",
    r"\operatorname{softplus}(x) = \log(1 + e^x)",
    "y",
)
def softplus(x: ArrayLike) -> Result:
    return _elementwise(xentref.softplus(x), x, softplus_of, "softplus")
