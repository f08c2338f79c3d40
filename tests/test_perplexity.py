"""What is special to perplexity, bits_per_token, bits_per_byte and bits_per_character.

The contract they share with every function (accuracy against xentref.exact
on moderate and whole-range losses, the SymPy formula, dtypes, NaN refused,
no floating-point warning) is in test_contract.py; the conversions between
the units are derived in test_symbolic.py. Here: values known by hand, the
units on a text read with two tokenisers, and each way an input is refused.
"""

import math
import re

import numpy as np
import pytest

import xentref
from xentref import exact

LN2 = math.log(2)


# Known values ---------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 50, 50257])
def test_a_uniform_model_over_k_tokens_has_perplexity_k(k):
    loss = xentref.softmax_cross_entropy(np.zeros(k), 0)  # log k, from the package's own loss
    assert xentref.perplexity(loss) == pytest.approx(k, rel=1e-14)
    assert xentref.bits_per_token(loss) == pytest.approx(math.log2(k), rel=1e-14, abs=0)


def test_powers_of_two():
    assert xentref.perplexity(3.0, base=2) == 8.0
    assert xentref.perplexity(0.0) == 1.0
    assert xentref.bits_per_token(3 * LN2) == pytest.approx(3.0, rel=1e-15)
    # 4 characters of 2 bits each, in 6 bytes (two of them take two bytes in UTF-8).
    text = "ñaña"
    assert len(text) == 4 and len(text.encode("utf-8")) == 6
    assert xentref.bits_per_character(2 * LN2, 4, len(text)) == pytest.approx(2.0, rel=1e-15)
    assert xentref.bits_per_byte(2 * LN2, 4, len(text.encode("utf-8"))) == pytest.approx(8 / 6, rel=1e-15)


def test_perplexity_is_the_inverse_geometric_mean_of_the_probabilities():
    q = np.array([0.5, 0.25, 0.125, 0.5])  # product 2^-7 over 4 tokens
    loss = xentref.nll_loss(np.log(np.stack([q, 1 - q], axis=-1)), np.zeros(4, int))
    assert xentref.perplexity(loss) == pytest.approx(2 ** (7 / 4), rel=1e-15)


def test_infinite_loss_and_overflow():
    assert xentref.perplexity(np.inf) == np.inf
    assert xentref.bits_per_byte(np.inf, 3, 4) == np.inf
    with np.errstate(all="raise"):
        assert xentref.perplexity(np.float32(100.0)) == np.inf  # e^100 is beyond float32
        assert exact.perplexity(np.float32(100.0)) == np.inf
        assert xentref.perplexity(710.0) == np.inf and xentref.perplexity(709.0) < np.inf


def test_a_base_below_one():
    # Perplexity is base ** loss whatever the base; a loss in a unit of base 1/2 is not negative here.
    assert xentref.perplexity(3.0, base=0.5) == 0.125
    assert xentref.perplexity(np.inf, base=0.5) == 0 == exact.perplexity(np.inf, base=0.5)


# The units on one text, read with two tokenisers ----------------------------------


def test_tokenisers_change_perplexity_but_not_bits_per_character():
    # A model gives each character of a 12-character text a probability;
    # read in pairs of characters, each pair token gets the product of its
    # two. The text's total bits are the same, its per-token numbers are not.
    rng = np.random.default_rng(20261202)
    per_character = rng.uniform(0.05, 0.9, 12)
    text = "crossentropy"
    chars = xentref.nll_loss(np.log(np.stack([per_character, 1 - per_character], -1)), np.zeros(12, int))
    pairs_probability = per_character[0::2] * per_character[1::2]
    pairs = xentref.nll_loss(np.log(np.stack([pairs_probability, 1 - pairs_probability], -1)), np.zeros(6, int))
    assert pairs == pytest.approx(2 * chars, rel=1e-14)
    assert xentref.perplexity(pairs) == pytest.approx(xentref.perplexity(chars) ** 2, rel=1e-13)
    by_characters = xentref.bits_per_character(chars, 12, len(text))
    by_pairs = xentref.bits_per_character(pairs, 6, len(text))
    assert by_pairs == pytest.approx(by_characters, rel=1e-14)
    assert by_characters == pytest.approx(xentref.bits_per_token(chars), rel=1e-15)


def test_arrays_broadcast_and_float32_is_kept():
    loss = np.float32([[1.0, 2.0], [3.0, 4.0]])
    for value in (
        xentref.perplexity(loss), xentref.perplexity(loss, base=2), xentref.bits_per_token(loss),
        xentref.bits_per_byte(loss, 7, [9, 11]), xentref.bits_per_character(loss, [[7], [8]], 10),
    ):
        assert value.dtype == np.float32 and value.shape == (2, 2)
    expected = loss * (np.array([7, 7]) / np.array([9, 11])) / LN2
    np.testing.assert_allclose(xentref.bits_per_byte(loss, 7, [9, 11]), expected, rtol=1e-6)


def test_counts_beyond_float32_precision_are_divided_in_float64():
    # 2^24 + 1 tokens over 2^24 + 1 bytes: the ratio is exactly 1.
    n = 2**24 + 1
    assert xentref.bits_per_byte(np.float32(LN2), n, n) == np.float32(1)


# Refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize("function", [xentref.perplexity, xentref.bits_per_token])
def test_a_negative_loss_is_refused(function):
    with pytest.raises(ValueError, match=r"^`loss` must be a mean cross-entropy, at least 0; got -0\.5 at index \(1,\)$"):
        function([1.0, -0.5])
    with pytest.raises(ValueError, match=r"^`loss` must be a mean cross-entropy, at least 0; got -0\.5$"):
        function(-0.5)


def test_a_nan_or_non_float_loss_is_refused():
    with pytest.raises(ValueError, match=r"^`loss` must not contain NaN; found NaN at index \(0,\)$"):
        xentref.perplexity([np.nan])
    with pytest.raises(TypeError, match=r"^`loss` must hold real numbers of dtype float32 or float64; got dtype <U1$"):
        xentref.bits_per_token(["1"])


@pytest.mark.parametrize("base", [1, 0, -2.0, np.inf])
def test_a_bad_base_is_refused(base):
    with pytest.raises(ValueError, match=rf"^`base` must be a finite positive number other than 1; got {re.escape(repr(base))}$"):
        xentref.perplexity(1.0, base=base)


@pytest.mark.parametrize("function, units", [(xentref.bits_per_byte, "n_bytes"), (xentref.bits_per_character, "n_characters")])
def test_counts_are_refused_unless_whole_and_at_least_one(function, units):
    with pytest.raises(ValueError, match=r"^`n_tokens` must be at least 1; got 0$"):
        function(1.0, 0, 5)
    with pytest.raises(ValueError, match=rf"^`{units}` must be at least 1; got 0 at index \(1,\)$"):
        function([1.0, 1.0], 5, [3, 0])
    with pytest.raises(TypeError, match=rf"^`{units}` must hold integers \(a count\); got dtype float64$"):
        function(1.0, 5, 3.0)
    with pytest.raises(TypeError, match=r"^`n_tokens` must hold integers \(a count\); got dtype bool$"):
        function(1.0, True, 3)
    with pytest.raises(ValueError, match=r"^`n_tokens` of shape \(3,\) must broadcast to the shape of `loss` \(2,\)$"):
        function([1.0, 2.0], [1, 2, 3], 4)
