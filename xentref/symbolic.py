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

from __future__ import annotations

try:
    import sympy as sp
except ImportError as error:  # the core of xentref needs only NumPy
    raise ImportError(
        'xentref.symbolic needs SymPy, an optional dependency: pip install "xentref[symbolic]"'
    ) from error

import itertools
from collections.abc import Sequence
from itertools import pairwise
from typing import TypeAlias

import xentref

# A SymPy expression or a Python number; a sequence of them, one per class.
Scalar: TypeAlias = sp.Expr | float
Vector: TypeAlias = Sequence[Scalar]

# The textbook formula of every public function, under its name, and the
# helpers that build the symbols.
__all__ = [
    "probabilities", "surprisal", "binary_entropy", "ctc_collapse", "smoothed_target", "normal_cdf", *xentref.__all__,
]


def _in_unit(expression, base):
    return expression if base is None else expression / sp.log(base)


def probabilities(name: str, k: int) -> list[sp.Symbol]:
    """``k`` positive SymPy symbols ``name1, ..., namek``."""
    return list(sp.symbols(f"{name}1:{k + 1}", positive=True))


def surprisal(p: Scalar, base: Scalar | None = None) -> sp.Expr:
    r"""Information content :math:`-\log p` of an outcome of probability `p`."""
    return _in_unit(-sp.log(p), base)


def entropy(p: Vector, base: Scalar | None = None) -> sp.Expr:
    r""":math:`H(p) = -\sum_k p_k \log p_k`."""
    return _in_unit(-sp.Add(*[pk * sp.log(pk) for pk in p]), base)


def binary_entropy(p: Scalar, base: Scalar | None = None) -> sp.Expr:
    r""":math:`h(p) = -p \log p - (1 - p) \log(1 - p)`."""
    return entropy([p, 1 - p], base)


def cross_entropy(p: Vector, q: Vector, base: Scalar | None = None) -> sp.Expr:
    r""":math:`H(p, q) = -\sum_k p_k \log q_k`."""
    return _in_unit(-sp.Add(*[pk * sp.log(qk) for pk, qk in zip(p, q, strict=True)]), base)


def kl_divergence(p: Vector, q: Vector, base: Scalar | None = None) -> sp.Expr:
    r""":math:`D_{KL}(p \| q) = \sum_k p_k \log(p_k / q_k)`."""
    return _in_unit(sp.Add(*[pk * sp.log(pk / qk) for pk, qk in zip(p, q, strict=True)]), base)


def logsumexp(z: Vector) -> sp.Expr:
    r""":math:`\log \sum_k e^{z_k}`."""
    return sp.log(sp.Add(*[sp.exp(zk) for zk in z]))


def softmax(z: Vector) -> list[sp.Expr]:
    r""":math:`e^{z_k} / \sum_j e^{z_j}` for each class k."""
    total = sp.Add(*[sp.exp(zk) for zk in z])
    return [sp.exp(zk) / total for zk in z]


def log_softmax(z: Vector) -> list[sp.Expr]:
    r""":math:`z_k - \operatorname{logsumexp}(z)` for each class k."""
    lse = logsumexp(z)
    return [zk - lse for zk in z]


def smoothed_target(
    target: int | Vector,
    k: int,
    label_smoothing: Scalar = 0,
    smoothing: str = "uniform",
) -> list[sp.Expr]:
    r"""The target of `k` classes (a class index or probabilities) smoothed by :math:`\epsilon`.

    ``"uniform"``: :math:`(1 - \epsilon) t + \epsilon / K`; ``"others"``:
    :math:`(1 - \epsilon) t + \epsilon (1 - t) / (K - 1)`.
    """
    t = [sp.Integer(int(j == target)) for j in range(k)] if isinstance(target, int) else list(target)
    epsilon = sp.sympify(label_smoothing)
    if smoothing == "uniform":
        return [(1 - epsilon) * v + epsilon / k for v in t]
    return [(1 - epsilon) * v + epsilon * (1 - v) / (k - 1) for v in t]


def softmax_cross_entropy(
    z: Vector,
    target: int | Vector,
    class_weight: Vector | None = None,
    label_smoothing: Scalar = 0,
    smoothing: str = "uniform",
    z_loss: Scalar = 0,
) -> sp.Expr:
    r"""Cross-entropy of a target under :math:`\operatorname{softmax}(z)`.

    `target` is a class index `y`, giving :math:`\operatorname{logsumexp}(z)
    - z_y`, or a sequence of target probabilities `t`, giving
    :math:`-\sum_k t_k \log\operatorname{softmax}(z)_k`. With the options,
    :math:`-\sum_k w_k \tilde q_k \log\operatorname{softmax}(z)_k + \lambda
    \operatorname{logsumexp}(z)^2`, :math:`\tilde q` from :func:`smoothed_target`.
    """
    if class_weight is None and label_smoothing == 0 and z_loss == 0:
        if isinstance(target, int):
            return logsumexp(z) - z[target]
        return -sp.Add(*[tk * lk for tk, lk in zip(target, log_softmax(z), strict=True)])
    weight = [1] * len(z) if class_weight is None else class_weight
    q = smoothed_target(target, len(z), label_smoothing, smoothing)
    terms = zip(weight, q, log_softmax(z), strict=True)
    return -sp.Add(*[w * qk * lk for w, qk, lk in terms]) + z_loss * logsumexp(z) ** 2


def sigmoid(z: Scalar) -> sp.Expr:
    r"""The logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`."""
    return 1 / (1 + sp.exp(-z))


def log_sigmoid(z: Scalar) -> sp.Expr:
    r""":math:`\log \sigma(z)`."""
    return sp.log(sigmoid(z))


def softplus(z: Scalar) -> sp.Expr:
    r""":math:`\log(1 + e^z)`."""
    return sp.log(1 + sp.exp(z))


def binary_cross_entropy(p: Scalar, y: Scalar) -> sp.Expr:
    r""":math:`-[y \log p + (1 - y) \log(1 - p)]` for a prediction `p` of target `y`."""
    return -(y * sp.log(p) + (1 - y) * sp.log(1 - p))


def sigmoid_binary_cross_entropy(
    z: Scalar,
    y: Scalar,
    pos_weight: Scalar = 1,
) -> sp.Expr:
    r""":math:`-[w_+ y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))]`, with :math:`w_+`
    = `pos_weight`."""
    return -(pos_weight * y * sp.log(sigmoid(z)) + (1 - y) * sp.log(1 - sigmoid(z)))


def nll_loss(log_probs: Vector, label: int, class_weight: Vector | None = None) -> Scalar:
    r""":math:`-w_y \log p_y`, the entry of `log_probs` at class index `label`, negated and weighted."""
    return -(1 if class_weight is None else class_weight[label]) * log_probs[label]


def _wrong(z, y):
    r""":math:`1 - p_t` with :math:`p_t = y \sigma(z) + (1 - y)(1 - \sigma(z))`."""
    p_t = y * sigmoid(z) + (1 - y) * (1 - sigmoid(z))
    return 1 - p_t


def sigmoid_focal_loss(
    z: Scalar,
    y: Scalar,
    gamma: Scalar = 2,
    alpha: Scalar | None = None,
) -> sp.Expr:
    r""":math:`\alpha_t (1 - p_t)^\gamma` times the binary cross-entropy of :math:`\sigma(z)`,
    :math:`\alpha_t = \alpha y + (1 - \alpha)(1 - y)` (1 for `alpha` None)."""
    alpha_t = 1 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return alpha_t * _wrong(z, y) ** gamma * sigmoid_binary_cross_entropy(z, y)


def softmax_focal_loss(
    z: Vector,
    target: int | Vector,
    gamma: Scalar = 2,
    alpha: Vector | None = None,
) -> sp.Expr:
    r""":math:`-\sum_k \alpha_k t_k (1 - p_k)^\gamma \log p_k` with :math:`p = \operatorname{softmax}(z)`.

    `target` is a class index or a sequence of probabilities; `alpha` a
    sequence of class weights, or None for 1.
    """
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(z))]
    alpha = [1] * len(z) if alpha is None else alpha
    terms = zip(alpha, target, softmax(z), log_softmax(z), strict=True)
    return -sp.Add(*[a * t * (1 - p) ** gamma * log_p for a, t, p, log_p in terms])


def softmax_poly1_loss(
    z: Vector,
    target: int | Vector,
    epsilon: Scalar,
) -> sp.Expr:
    r""":math:`-\sum_k t_k \log p_k + \epsilon \sum_k t_k (1 - p_k)` with :math:`p = \operatorname{softmax}(z)`."""
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(z))]
    wrong = sp.Add(*[t * (1 - p) for t, p in zip(target, softmax(z), strict=True)])
    return softmax_cross_entropy(z, target) + epsilon * wrong


def sigmoid_poly1_loss(z: Scalar, y: Scalar, epsilon: Scalar) -> sp.Expr:
    r"""The binary cross-entropy of :math:`\sigma(z)` plus :math:`\epsilon (1 - p_t)`."""
    return sigmoid_binary_cross_entropy(z, y) + epsilon * _wrong(z, y)


def class_balanced_weights(
    counts: Sequence[int],
    beta: Scalar,
) -> list[sp.Expr]:
    r""":math:`K (1/E_{n_c}) / \sum_j (1/E_{n_j})` with :math:`E_n = (1 - \beta^n)/(1 - \beta)`, for each class c."""
    inverse = [(1 - beta) / (1 - beta**n) for n in counts]
    total = sp.Add(*inverse)
    return [len(counts) * v / total for v in inverse]


def kl_divergence_of_log_probs(
    log_p: Vector,
    log_q: Vector,
    base: Scalar | None = None,
) -> sp.Expr:
    r""":math:`\sum_k e^{l_{p,k}} (l_{p,k} - l_{q,k})`."""
    terms = [sp.exp(lp) * (lp - lq) for lp, lq in zip(log_p, log_q, strict=True)]
    return _in_unit(sp.Add(*terms), base)


def distillation_loss(s: Vector, t: Vector, temperature: Scalar) -> sp.Expr:
    r""":math:`T^2 D_{KL}(\operatorname{softmax}(t/T) \| \operatorname{softmax}(s/T))`."""
    softened = [[v / temperature for v in logits] for logits in (t, s)]
    return temperature**2 * kl_divergence(softmax(softened[0]), softmax(softened[1]))


def brier_score(q: Vector, target: int | Vector) -> sp.Expr:
    r""":math:`\sum_k (q_k - t_k)^2` for a class index `target` (one-hot t) or target probabilities."""
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(q))]
    return sp.Add(*[(qk - tk) ** 2 for qk, tk in zip(q, target, strict=True)])


def expected_calibration_error(
    rows: Sequence[Vector],
    labels: Sequence[int],
    n_bins: int = 15,
) -> sp.Expr:
    r""":math:`\frac{1}{N} \sum_m |\sum_{i \in B_m} ([\hat y_i = y_i] - c_i)|` over `rows` of probabilities.

    :math:`c_i = \max_k q_{ik}`; :math:`\hat y_i` is the first class with that
    probability; :math:`B_m` holds the confidences with
    :math:`e_{m-1} < c_i \le e_m`, where :math:`e_m` is the float64 number
    nearest to :math:`m / M` (taken exactly as a rational), and the last bin
    also holds confidences above 1. Each indicator is a ``Piecewise``, so the
    expression is exact once the probabilities are numbers.
    """
    edges = [sp.Rational(m / n_bins) for m in range(n_bins + 1)]
    gaps = [0] * n_bins
    for row, y in zip(rows, labels, strict=True):
        confidence = sp.Max(*row)
        first_max = [row[y] > row[j] for j in range(y)] + [row[y] >= row[j] for j in range(y + 1, len(row))]
        right = sp.Piecewise((1, sp.And(*first_max)), (0, True))
        for m in range(n_bins):
            inside = [confidence > edges[m]] + ([confidence <= edges[m + 1]] if m < n_bins - 1 else [])
            gaps[m] += sp.Piecewise((right - confidence, sp.And(*inside)), (0, True))
    return sp.Add(*[sp.Abs(gap) for gap in gaps]) / len(rows)


def ctc_collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    r"""The collapse map :math:`\mathcal{B}` of CTC: merge repeated classes, then remove blanks."""
    merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
    return [k for k in merged if k != blank]


def ctc_loss(log_probs: Sequence[Vector], target: Sequence[int], blank: int = 0) -> sp.Expr:
    r""":math:`-\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_t e^{\log y^t_{\pi_t}}`, by enumerating every path.

    `log_probs` holds one row of C expressions per frame, `target` the
    labels :math:`l`. Every one of the :math:`C^T` paths is collapsed and
    kept if it gives the target: the definition, not the recursion, so only
    for a few frames. With no alignment the sum is empty and the loss is
    :math:`+\infty`.
    """
    rows = [list(row) for row in log_probs]
    classes = len(rows[0]) if rows else 0
    target = list(target)
    terms = [
        sp.exp(sp.Add(*[row[k] for row, k in zip(rows, path)]))
        for path in itertools.product(range(classes), repeat=len(rows))
        if ctc_collapse(list(path), blank) == target
    ]
    if not rows and not target:
        return sp.Integer(0)
    return -sp.log(sp.Add(*terms)) if terms else sp.oo


def linear_softmax_cross_entropy(
    hidden: Vector,
    weight: Sequence[Vector],
    label: int,
    bias: Vector | None = None,
    class_weight: Vector | None = None,
    label_smoothing: Scalar = 0,
    smoothing: str = "uniform",
    z_loss: Scalar = 0,
) -> sp.Expr:
    r""":math:`\operatorname{logsumexp}_k(h \cdot w_k + b_k) - (h \cdot w_y + b_y)` for one token.

    `hidden` holds its d features, `weight` one sequence of d entries per
    class, `bias` one entry per class (or None), `label` a class index. With
    the options, :func:`softmax_cross_entropy` of the logits with them.
    """
    bias = [0] * len(weight) if bias is None else bias
    logits = [
        sp.Add(*[h * w for h, w in zip(hidden, row, strict=True)]) + b
        for row, b in zip(weight, bias, strict=True)
    ]
    return softmax_cross_entropy(logits, label, class_weight=class_weight, label_smoothing=label_smoothing,
                                 smoothing=smoothing, z_loss=z_loss)


def binned_targets(y: Scalar, edges: Vector) -> list[sp.Expr]:
    r""":math:`t_k = [e_k \le y < e_{k+1}]`, the last bin closed on the right, for each bin k."""
    last = len(edges) - 2
    return [
        sp.Piecewise((1, sp.And(edges[k] <= y, y <= edges[k + 1] if k == last else y < edges[k + 1])), (0, True))
        for k in range(last + 1)
    ]


def two_hot_targets(y: Scalar, support: Vector) -> list[sp.Expr]:
    r"""The hat functions of linear interpolation on `support`, at `y`, for each point k.

    :math:`t_k = (y - s_{k-1})/(s_k - s_{k-1})` on :math:`[s_{k-1}, s_k)`,
    :math:`(s_{k+1} - y)/(s_{k+1} - s_k)` on :math:`[s_k, s_{k+1}]`, 0
    elsewhere; the last point's rising side includes :math:`s_{K-1}`.
    """
    s, last = support, len(support) - 1
    hats = []
    for k in range(last + 1):
        pieces = []
        if k > 0:
            inside = y <= s[k] if k == last else y < s[k]
            pieces.append(((y - s[k - 1]) / (s[k] - s[k - 1]), sp.And(s[k - 1] <= y, inside)))
        if k < last:
            pieces.append(((s[k + 1] - y) / (s[k + 1] - s[k]), sp.And(s[k] <= y, y <= s[k + 1])))
        hats.append(sp.Piecewise(*pieces, (0, True)))
    return hats


def normal_cdf(z: Scalar) -> sp.Expr:
    r""":math:`\Phi(z) = (1 + \operatorname{erf}(z / \sqrt 2)) / 2`."""
    return (1 + sp.erf(z / sp.sqrt(2))) / 2


def hl_gauss_targets(y: Scalar, edges: Vector, sigma: Scalar, normalize: bool = True) -> list[sp.Expr]:
    r""":math:`m_k = \Phi((e_{k+1} - y)/\sigma) - \Phi((e_k - y)/\sigma)`, divided by
    :math:`\sum_k m_k` if `normalize`, for each bin k."""
    cdf = [normal_cdf((e - y) / sigma) for e in edges]
    masses = [high - low for low, high in pairwise(cdf)]
    if not normalize:
        return masses
    captured = cdf[-1] - cdf[0]
    return [m / captured for m in masses]


def expected_value(q: Vector, support: Vector) -> sp.Expr:
    r""":math:`\sum_k q_k s_k`."""
    return sp.Add(*[qk * sk for qk, sk in zip(q, support, strict=True)])


def symlog(x: Scalar) -> sp.Expr:
    r""":math:`\operatorname{sign}(x) \log(1 + |x|)`."""
    return sp.sign(x) * sp.log(1 + sp.Abs(x))


def symexp(x: Scalar) -> sp.Expr:
    r""":math:`\operatorname{sign}(x) (e^{|x|} - 1)`."""
    return sp.sign(x) * (sp.exp(sp.Abs(x)) - 1)


def sequence_softmax_cross_entropy(
    z: Sequence[Sequence[Vector]],
    labels: Sequence[Sequence[int]],
    lengths: Sequence[int] | None = None,
    mask: Sequence[Sequence[bool]] | None = None,
    reduction: str = "mean",
) -> sp.Expr | list[list[sp.Expr]]:
    r"""Token losses :math:`m_{bt} (\operatorname{logsumexp}(z_{bt}) - z_{bt, y_{bt}})`, reduced.

    `z` is a list of sequences, each a list of time steps, each a list of K
    logits; `labels` a list of lists of ints. A token counts where `mask` is
    true, or before ``lengths[b]``, or everywhere with neither; the others
    contribute 0 and their labels are not read. ``"mean"`` divides the sum
    by the number of tokens that count, ``"sequence_mean"`` averages each
    sequence's mean, ``"none"`` returns the list of lists of token losses.
    """
    if mask is None:
        mask = [[lengths is None or t < lengths[b] for t in range(len(row))] for b, row in enumerate(z)]
    losses = [
        [
            softmax_cross_entropy(zt, int(y)) if counts else sp.Integer(0)
            for zt, y, counts in zip(zb, yb, mb, strict=True)
        ]
        for zb, yb, mb in zip(z, labels, mask, strict=True)
    ]
    if reduction == "none":
        return losses
    if reduction == "sequence_mean":
        means = [sp.Add(*row) / sum(bool(c) for c in mb) for row, mb in zip(losses, mask)]
        return sp.Add(*means) / len(means)
    total = sp.Add(*[loss for row in losses for loss in row])
    return total if reduction == "sum" else total / sum(bool(c) for mb in mask for c in mb)


def micro_batch_token_mean(losses: Vector, counts: Sequence[int]) -> sp.Expr:
    r""":math:`\sum_i S_i / \sum_i N_i` for summed losses :math:`S_i` over :math:`N_i` tokens."""
    return sp.Add(*losses) / sp.Add(*counts)


def perplexity(loss: Scalar, base: Scalar | None = None) -> sp.Expr:
    r""":math:`e^L`, or :math:`b^L` for a loss in the unit of base :math:`b`."""
    return sp.exp(loss) if base is None else sp.sympify(base) ** loss


def bits_per_token(loss: Scalar) -> sp.Expr:
    r""":math:`L / \ln 2` for a mean token loss :math:`L` in nats."""
    return loss / sp.log(2)


def bits_per_byte(loss: Scalar, n_tokens: int, n_bytes: int) -> sp.Expr:
    r""":math:`N L / (n \ln 2)`: the text's :math:`N L` nats, in bits, over its `n_bytes` bytes."""
    return n_tokens * loss / (n_bytes * sp.log(2))


def bits_per_character(loss: Scalar, n_tokens: int, n_characters: int) -> sp.Expr:
    r""":math:`N L / (n \ln 2)`: the text's :math:`N L` nats, in bits, over its `n_characters` characters."""
    return n_tokens * loss / (n_characters * sp.log(2))
