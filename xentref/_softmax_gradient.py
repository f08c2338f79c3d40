r"""The gradient shape shared by the softmax losses:
:math:`\operatorname{softmax}(z) \sum_k g_k - g`.

Every loss of the form :math:`-\sum_k g_k \log \operatorname{softmax}(z)_k`,
with each :math:`g_k` held constant, has this gradient; so do the focal and
Poly-1 losses, with :math:`g` their own non-negative coefficients.
"""

import numpy as np


def shift(x, axis):
    """Return ``x - a``, ``exp(x - a)`` and ``s``, keeping `axis`.

    The plain shift by the maximum :math:`a`, with :math:`s` the sum of the
    exponentials but the largest. `x` must have a finite maximum along `axis`.
    """
    top = np.argmax(x, axis=axis, keepdims=True)
    with np.errstate(over="ignore", under="ignore"):
        # A gap wider than the float range rounds to -inf, as IEEE overflow
        # does; exp of a very negative gap underflows to 0 as it should.
        shifted = x - np.take_along_axis(x, top, axis=axis)
        exps = np.exp(shifted)
    rest = exps.copy()
    np.put_along_axis(rest, top, 0, axis=axis)
    return shifted, exps, np.sum(rest, axis=axis, keepdims=True)


def as_coefficients(values, labels, like, axis):
    """`values` (one per example, class axis kept) placed at the labels, 0
    elsewhere.

    With `labels` None, `values` already has the shape of `like`.
    """
    if labels is None:
        return values
    coefficients = np.zeros_like(like)
    np.put_along_axis(coefficients, labels, values, axis=axis)
    return coefficients


def softmax_times_total_minus(logits, coefficients, axis):
    r""":math:`\operatorname{softmax}(z)_k G - g_k` with :math:`G = \sum_j
    g_j`, for validated logits.

    At the largest logit, index :math:`m`, the softmax is :math:`1/(1 + s)`,
    within rounding of 1 for a confident prediction, so that entry is formed
    as :math:`(\sum_{j \ne m} g_j - g_m s)/(1 + s)`, whose digits survive.
    """
    top = np.argmax(logits, axis=axis, keepdims=True)
    _, exps, rest = shift(logits, axis)
    total = np.sum(coefficients, axis=axis, keepdims=True)
    others = coefficients.copy()
    np.put_along_axis(others, top, 0, axis=axis)
    others = np.sum(others, axis=axis, keepdims=True)
    at_top = np.take_along_axis(coefficients, top, axis=axis)
    with np.errstate(under="ignore"):
        # Softmax entries, and their products with the coefficients, below
        # the normal range round toward 0, as they should.
        grad = exps / (1 + rest) * total - coefficients
        np.put_along_axis(
            grad, top, (others - at_top * rest) / (1 + rest), axis=axis
        )
    return grad
