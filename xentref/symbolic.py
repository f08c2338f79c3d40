r"""SymPy definitions of the quantities that :mod:`xentref` computes.

These are the textbook formulas, written once. The chapters derive identities
from them and the tests evaluate them, with ``lambdify`` or at high precision
with mpmath, as an independent reference for the numerical code. They take
sequences of SymPy expressions (one per class) and return an expression, or a
list of expressions for the vector-valued maps; the binary and elementwise
ones take single expressions.

They are the plain formulas: :math:`0 \log 0` evaluates to NaN here, not to
the limit 0 that the numerical functions use, so evaluate them at positive
probabilities.

For example, cross-entropy is entropy plus KL divergence:

>>> import sympy as sp
>>> from xentref import symbolic
>>> p = symbolic.probabilities("p", 2)
>>> q = symbolic.probabilities("q", 2)
>>> gap = symbolic.cross_entropy(p, q) - symbolic.entropy(p) - symbolic.kl_divergence(p, q)
>>> sp.simplify(sp.expand_log(gap))
0
"""

import sympy as sp

import xentref

# The textbook formula of every public function, under its name, and the
# helpers that build the symbols.
__all__ = ["probabilities", "surprisal", "binary_entropy", *xentref.__all__]


def _in_unit(expression, base):
    return expression if base is None else expression / sp.log(base)


def probabilities(name, k):
    """``k`` positive SymPy symbols ``name1, ..., namek``."""
    return list(sp.symbols(f"{name}1:{k + 1}", positive=True))


def surprisal(p, base=None):
    r"""Information content :math:`-\log p` of an outcome of probability `p`."""
    return _in_unit(-sp.log(p), base)


def entropy(p, base=None):
    r""":math:`H(p) = -\sum_k p_k \log p_k`."""
    return _in_unit(-sp.Add(*[pk * sp.log(pk) for pk in p]), base)


def binary_entropy(p, base=None):
    r""":math:`h(p) = -p \log p - (1 - p) \log(1 - p)`."""
    return entropy([p, 1 - p], base)


def cross_entropy(p, q, base=None):
    r""":math:`H(p, q) = -\sum_k p_k \log q_k`."""
    return _in_unit(-sp.Add(*[pk * sp.log(qk) for pk, qk in zip(p, q, strict=True)]), base)


def kl_divergence(p, q, base=None):
    r""":math:`D_{KL}(p \| q) = \sum_k p_k \log(p_k / q_k)`."""
    return _in_unit(sp.Add(*[pk * sp.log(pk / qk) for pk, qk in zip(p, q, strict=True)]), base)


def logsumexp(z):
    r""":math:`\log \sum_k e^{z_k}`."""
    return sp.log(sp.Add(*[sp.exp(zk) for zk in z]))


def softmax(z):
    r""":math:`e^{z_k} / \sum_j e^{z_j}` for each class k."""
    total = sp.Add(*[sp.exp(zk) for zk in z])
    return [sp.exp(zk) / total for zk in z]


def log_softmax(z):
    r""":math:`z_k - \operatorname{logsumexp}(z)` for each class k."""
    lse = logsumexp(z)
    return [zk - lse for zk in z]


def softmax_cross_entropy(z, target):
    r"""Cross-entropy of a target under :math:`\operatorname{softmax}(z)`.

    `target` is a class index `y`, giving :math:`\operatorname{logsumexp}(z)
    - z_y`, or a sequence of target probabilities `t`, giving
    :math:`-\sum_k t_k \log\operatorname{softmax}(z)_k`.
    """
    if isinstance(target, int):
        return logsumexp(z) - z[target]
    return -sp.Add(*[tk * lk for tk, lk in zip(target, log_softmax(z), strict=True)])


def sigmoid(z):
    r"""The logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`."""
    return 1 / (1 + sp.exp(-z))


def log_sigmoid(z):
    r""":math:`\log \sigma(z)`."""
    return sp.log(sigmoid(z))


def softplus(z):
    r""":math:`\log(1 + e^z)`."""
    return sp.log(1 + sp.exp(z))


def binary_cross_entropy(p, y):
    r""":math:`-[y \log p + (1 - y) \log(1 - p)]` for a prediction `p` of target `y`."""
    return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def sigmoid_binary_cross_entropy(z, y, pos_weight=1):
    r""":math:`-[w_+ y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))]`, with :math:`w_+`
    = `pos_weight`."""
    return -(pos_weight * y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z)))


def nll_loss(log_probs, label):
    r""":math:`-\log p_y`, the entry of `log_probs` at class index `label`, negated."""
    return -log_probs[label]


def linear_softmax_cross_entropy(hidden, weight, label, bias=None):
    r""":math:`\operatorname{logsumexp}_k(h \cdot w_k + b_k) - (h \cdot w_y + b_y)` for one token.

    `hidden` holds its d features, `weight` one sequence of d entries per
    class, `bias` one entry per class (or None), `label` a class index.
    """
    bias = [0] * len(weight) if bias is None else bias
    logits = [sp.Add(*[h * w for h, w in zip(hidden, row, strict=True)]) + b for row, b in zip(weight, bias, strict=True)]
    return softmax_cross_entropy(logits, label)
