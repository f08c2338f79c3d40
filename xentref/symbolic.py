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

try:
    import sympy as sp
except ImportError as error:  # the core of xentref needs only NumPy
    raise ImportError(
        'xentref.symbolic needs SymPy, an optional dependency: pip install "xentref[symbolic]"'
    ) from error

import xentref

# The textbook formula of every public function, under its name, and the
# helpers that build the symbols.
__all__ = ["probabilities", "surprisal", "binary_entropy", "smoothed_target", *xentref.__all__]


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


def smoothed_target(target, k, label_smoothing=0, smoothing="uniform"):
    r"""The target of `k` classes (a class index or probabilities) smoothed by :math:`\epsilon`.

    ``"uniform"``: :math:`(1 - \epsilon) t + \epsilon / K`; ``"others"``:
    :math:`(1 - \epsilon) t + \epsilon (1 - t) / (K - 1)`.
    """
    t = [sp.Integer(int(j == target)) for j in range(k)] if isinstance(target, int) else list(target)
    epsilon = sp.sympify(label_smoothing)
    if smoothing == "uniform":
        return [(1 - epsilon) * v + epsilon / k for v in t]
    return [(1 - epsilon) * v + epsilon * (1 - v) / (k - 1) for v in t]


def softmax_cross_entropy(z, target, class_weight=None, label_smoothing=0, smoothing="uniform", z_loss=0):
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


def nll_loss(log_probs, label, class_weight=None):
    r""":math:`-w_y \log p_y`, the entry of `log_probs` at class index `label`, negated and weighted."""
    return -(1 if class_weight is None else class_weight[label]) * log_probs[label]


def _wrong(z, y):
    r""":math:`1 - p_t` with :math:`p_t = y \sigma(z) + (1 - y)(1 - \sigma(z))`."""
    p_t = y * sigmoid(z) + (1 - y) * (1 - sigmoid(z))
    return 1 - p_t


def sigmoid_focal_loss(z, y, gamma=2, alpha=None):
    r""":math:`\alpha_t (1 - p_t)^\gamma` times the binary cross-entropy of :math:`\sigma(z)`,
    :math:`\alpha_t = \alpha y + (1 - \alpha)(1 - y)` (1 for `alpha` None)."""
    alpha_t = 1 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return alpha_t * _wrong(z, y) ** gamma * sigmoid_binary_cross_entropy(z, y)


def softmax_focal_loss(z, target, gamma=2, alpha=None):
    r""":math:`-\sum_k \alpha_k t_k (1 - p_k)^\gamma \log p_k` with :math:`p = \operatorname{softmax}(z)`.

    `target` is a class index or a sequence of probabilities; `alpha` a
    sequence of class weights, or None for 1.
    """
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(z))]
    alpha = [1] * len(z) if alpha is None else alpha
    terms = zip(alpha, target, softmax(z), log_softmax(z), strict=True)
    return -sp.Add(*[a * t * (1 - p) ** gamma * log_p for a, t, p, log_p in terms])


def softmax_poly1_loss(z, target, epsilon):
    r""":math:`-\sum_k t_k \log p_k + \epsilon \sum_k t_k (1 - p_k)` with :math:`p = \operatorname{softmax}(z)`."""
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(z))]
    wrong = sp.Add(*[t * (1 - p) for t, p in zip(target, softmax(z), strict=True)])
    return softmax_cross_entropy(z, target) + epsilon * wrong


def sigmoid_poly1_loss(z, y, epsilon):
    r"""The binary cross-entropy of :math:`\sigma(z)` plus :math:`\epsilon (1 - p_t)`."""
    return sigmoid_binary_cross_entropy(z, y) + epsilon * _wrong(z, y)


def class_balanced_weights(counts, beta):
    r""":math:`K (1/E_{n_c}) / \sum_j (1/E_{n_j})` with :math:`E_n = (1 - \beta^n)/(1 - \beta)`, for each class c."""
    inverse = [(1 - beta) / (1 - beta**n) for n in counts]
    total = sp.Add(*inverse)
    return [len(counts) * v / total for v in inverse]


def kl_divergence_of_log_probs(log_p, log_q, base=None):
    r""":math:`\sum_k e^{l_{p,k}} (l_{p,k} - l_{q,k})`."""
    terms = [sp.exp(lp) * (lp - lq) for lp, lq in zip(log_p, log_q, strict=True)]
    return _in_unit(sp.Add(*terms), base)


def distillation_loss(s, t, temperature):
    r""":math:`T^2 D_{KL}(\operatorname{softmax}(t/T) \| \operatorname{softmax}(s/T))`."""
    softened = [[v / temperature for v in logits] for logits in (t, s)]
    return temperature**2 * kl_divergence(softmax(softened[0]), softmax(softened[1]))


def brier_score(q, target):
    r""":math:`\sum_k (q_k - t_k)^2` for a class index `target` (one-hot t) or target probabilities."""
    if isinstance(target, int):
        target = [1 if k == target else 0 for k in range(len(q))]
    return sp.Add(*[(qk - tk) ** 2 for qk, tk in zip(q, target, strict=True)])


def expected_calibration_error(rows, labels, n_bins=15):
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


def linear_softmax_cross_entropy(hidden, weight, label, bias=None):
    r""":math:`\operatorname{logsumexp}_k(h \cdot w_k + b_k) - (h \cdot w_y + b_y)` for one token.

    `hidden` holds its d features, `weight` one sequence of d entries per
    class, `bias` one entry per class (or None), `label` a class index.
    """
    bias = [0] * len(weight) if bias is None else bias
    logits = [sp.Add(*[h * w for h, w in zip(hidden, row, strict=True)]) + b for row, b in zip(weight, bias, strict=True)]
    return softmax_cross_entropy(logits, label)
