"""Exact perplexity, and bits per token, byte and character."""

from __future__ import annotations

import math

import numpy as np
from flint import arb

import xentref
from xentref._typing import ArrayLike, Result
from xentref.exact._arrays import exact, floats
from xentref.exact._doc import mirrors
from xentref.exact._reduction import reduced

# e^x for x above this overflows float32 and float64 alike; the ball of
# e^x would be too wide to say so.
_BEYOND_EVERY_FLOAT = 1000


def _elementwise(template, values, name):
    return reduced([lambda v=v: v() for v in values], "none", template, name)


def _losses(loss):
    return floats(loss).ravel().tolist()


@mirrors("xentref.perplexity", "Exact perplexity.", r"\operatorname{PPL} = b^L = e^{L \ln b}", "perplexity")
def perplexity(loss: ArrayLike, *, base: float | None = None) -> Result:
    template = xentref.perplexity(loss, base=base)

    def value(v):
        # ln(base) at the working precision of each attempt.
        log_base = arb(1) if base is None else arb(float(base)).log()
        if v == math.inf:
            return math.inf if log_base > 0 else arb(0)
        power = exact(v) * log_base
        if power > _BEYOND_EVERY_FLOAT:
            return math.inf
        return power.exp()

    return _elementwise(template, [lambda v=v: value(v) for v in _losses(loss)], "perplexity")


def _bits(v, ratio=(1, 1)):
    if v == math.inf:
        return math.inf
    return exact(v) * ratio[0] / (ratio[1] * arb(2).log())


@mirrors("xentref.bits_per_token", "Exact bits per token.", r"L / \ln 2", "bits")
def bits_per_token(loss: ArrayLike) -> Result:
    template = xentref.bits_per_token(loss)
    return _elementwise(template, [lambda v=v: _bits(v) for v in _losses(loss)], "bits_per_token")


def _per_unit(template, loss, n_tokens, n_units, name):
    loss, n_tokens, n_units = np.broadcast_arrays(floats(loss), np.asarray(n_tokens), np.asarray(n_units))
    examples = zip(loss.ravel().tolist(), n_tokens.ravel().tolist(), n_units.ravel().tolist())
    return _elementwise(template, [lambda e=e: _bits(e[0], (e[1], e[2])) for e in examples], name)


@mirrors("xentref.bits_per_byte", "Exact bits per byte.", r"\frac{N L}{n \ln 2}", "bits")
def bits_per_byte(loss: ArrayLike, n_tokens: ArrayLike, n_bytes: ArrayLike) -> Result:
    template = xentref.bits_per_byte(loss, n_tokens, n_bytes)
    return _per_unit(template, loss, n_tokens, n_bytes, "bits_per_byte")


@mirrors("xentref.bits_per_character", "Exact bits per character.", r"\frac{N L}{n \ln 2}", "bits")
def bits_per_character(loss: ArrayLike, n_tokens: ArrayLike, n_characters: ArrayLike) -> Result:
    template = xentref.bits_per_character(loss, n_tokens, n_characters)
    return _per_unit(template, loss, n_tokens, n_characters, "bits_per_character")
