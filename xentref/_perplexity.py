r"""Perplexity, and bits per token, byte and character, from a mean token cross-entropy.

A language model's mean token cross-entropy :math:`L` (in nats) is
reported in several units. Perplexity, :math:`e^L`, is the number of
equally likely tokens that would be as surprising. Bits per token are
:math:`L / \ln 2`. Bits per byte and per character divide the text's total
bits by its length in bytes or characters instead of tokens, which makes
models with different tokenisers comparable.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._typing import ArrayLike, Result

_LN2 = float(np.log(2))

def _loss(loss):
    loss = check.values(loss, "loss")
    negative = loss < 0
    if negative.any():
        at = check.first_index(negative) if negative.ndim else ()
        raise ValueError(
            f"`loss` must be a mean cross-entropy, at least 0; got {loss[at].item()!r}"
            + (f" at index {at}" if at else "")
        )
    return loss


@fill()
def perplexity(loss: ArrayLike, *, base: float | None = None) -> Result:
    r"""Perplexity of a mean token cross-entropy: :math:`e^L`.

    Parameters
    ----------
    %(mean_token_loss)s
    base : float, optional
        The logarithm base of the unit of `loss`: None for nats, 2 for bits.
        Perplexity is :math:`\text{base}^L`, the same number in any unit.

    Returns
    -------
    perplexity : ndarray
        The shape and dtype of `loss`: at least 1 (for a base above 1);
        +inf where the loss is +inf or the power is beyond the float range.

    Raises
    ------
    %(mean_token_loss_raises)s
    TypeError, ValueError
        If `base` is not a finite positive number other than 1.

    See Also
    --------
    bits_per_token, bits_per_byte, bits_per_character

    Notes
    -----
    For a model that gives the :math:`N` tokens of a text probabilities
    :math:`q_1, \dots, q_N` (each given the tokens before it),

    .. math::

        \operatorname{PPL} = e^{L} = \Big( \prod_{t=1}^N q_t \Big)^{-1/N},
        \qquad L = -\frac{1}{N} \sum_{t=1}^N \ln q_t,

    the inverse geometric mean of the probabilities. A model that spreads
    its probability evenly over :math:`k` tokens has perplexity :math:`k`.
    Perplexity is per token: for the same probability of a text, a
    tokeniser that cuts it into fewer tokens gives a higher perplexity,
    while the bits per byte and per character depend on that probability
    alone.

    References
    ----------
    .. [1] %(jelinek)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> print(round(float(xentref.perplexity(np.log(50.0))), 9))  # as unsure as 50 equal choices
    50.0
    >>> float(xentref.perplexity(2.0, base=2))  # 2 bits per token
    4.0
    """
    loss = _loss(loss)
    unit = check.base(base)
    with np.errstate(over="ignore", under="ignore"):
        # e^L beyond the float range is +inf, as IEEE overflow gives; a
        # subnormal L raises the underflow flag on its way to e^L = 1.
        if unit is None:
            return np.exp(loss)
        if base == 2:
            return np.exp2(loss)
        return np.power(float(base), loss)


@fill()
def bits_per_token(loss: ArrayLike) -> Result:
    r"""Bits per token of a mean token cross-entropy in nats: :math:`L / \ln 2`.

    Parameters
    ----------
    %(mean_token_loss)s

    Returns
    -------
    bits : ndarray
        The shape and dtype of `loss`.

    Raises
    ------
    %(mean_token_loss_raises)s

    See Also
    --------
    perplexity : :math:`2^{\text{bits}}`.
    bits_per_byte, bits_per_character

    Notes
    -----
    .. math:: \text{bits per token} = \frac{L}{\ln 2} = \log_2 \operatorname{PPL}.

    It is the number of bits per token that a code built from the model's
    probabilities spends on the text.

    References
    ----------
    .. [1] %(cover_thomas)s, section 5.4.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> float(xentref.bits_per_token(np.log(8.0)))  # perplexity 8 is 3 bits
    3.0
    """
    loss = _loss(loss)
    with np.errstate(over="ignore", under="ignore"):
        # A loss near the largest float may exceed it in bits (+inf); a
        # subnormal one stays subnormal.
        return loss / _LN2


def _bits_per_unit(loss, n_tokens, n_units, units_name):
    loss = _loss(loss)
    n_tokens = check.whole_numbers(n_tokens, "n_tokens", 1, loss, "loss")
    n_units = check.whole_numbers(n_units, units_name, 1, loss, "loss")
    # The ratio of two counts in float64, rounded once to the dtype of loss.
    ratio = check.in_dtype(n_tokens / n_units, loss.dtype)
    with np.errstate(over="ignore", under="ignore"):
        # A result beyond the float range is +inf, one below it rounds toward 0.
        return loss * ratio / _LN2


@fill()
def bits_per_byte(loss: ArrayLike, n_tokens: ArrayLike, n_bytes: ArrayLike) -> Result:
    r"""Bits per byte of a text from its mean token cross-entropy in nats.

    Parameters
    ----------
    %(mean_token_loss)s
    n_tokens : int or array_like of int
        The number of tokens the mean was taken over, at least 1.
    n_bytes : int or array_like of int
        The length of the same text in bytes (of its UTF-8 encoding, say),
        at least 1.

    Returns
    -------
    bits : ndarray
        The shape and dtype of `loss`.

    Raises
    ------
    %(mean_token_loss_raises)s
    TypeError, ValueError
        If `n_tokens` or `n_bytes` is not an integer of at least 1, or does
        not broadcast to the shape of `loss`.

    See Also
    --------
    bits_per_character, bits_per_token, perplexity

    Notes
    -----
    The text's total cost is :math:`N L` nats for :math:`N` tokens, so over
    its :math:`n` bytes

    .. math:: \text{bits per byte} = \frac{N L}{n \ln 2}
              = \text{bits per token} \cdot \frac{N}{n},

    a measure that does not depend on how the text was cut into tokens.
    The ratio :math:`N / n` is formed once, in float64.

    References
    ----------
    .. [1] %(cover_thomas)s, section 5.4.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> text = "naïve café"  # 10 characters, 12 bytes in UTF-8
    >>> loss = np.log(4.0)  # 2 bits per token, one token per character
    >>> float(xentref.bits_per_byte(loss, len(text), len(text.encode("utf-8"))))
    1.6666666666666667
    """
    return _bits_per_unit(loss, n_tokens, n_bytes, "n_bytes")


@fill()
def bits_per_character(loss: ArrayLike, n_tokens: ArrayLike, n_characters: ArrayLike) -> Result:
    r"""Bits per character of a text from its mean token cross-entropy in nats.

    Parameters
    ----------
    %(mean_token_loss)s
    n_tokens : int or array_like of int
        The number of tokens the mean was taken over, at least 1.
    n_characters : int or array_like of int
        The length of the same text in characters (Unicode code points,
        ``len(text)`` in Python), at least 1.

    Returns
    -------
    bits : ndarray
        The shape and dtype of `loss`.

    Raises
    ------
    %(mean_token_loss_raises)s
    TypeError, ValueError
        If `n_tokens` or `n_characters` is not an integer of at least 1, or
        does not broadcast to the shape of `loss`.

    See Also
    --------
    bits_per_byte, bits_per_token, perplexity

    Notes
    -----
    .. math:: \text{bits per character} = \frac{N L}{n \ln 2}
              = \text{bits per token} \cdot \frac{N}{n}

    for :math:`N` tokens and :math:`n` characters. For a character-level
    model, :math:`N = n` and it is the bits per token. Shannon estimated
    that printed English carries about one bit per character.

    References
    ----------
    .. [1] %(shannon1951)s
    .. [2] %(cover_thomas)s, section 6.6.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> # A word-level model: 2 tokens, 11 characters, 5.5 bits per word.
    >>> float(xentref.bits_per_character(5.5 * np.log(2), 2, 11))
    1.0
    """
    return _bits_per_unit(loss, n_tokens, n_characters, "n_characters")
