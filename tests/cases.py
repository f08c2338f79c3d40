"""The case registry: one entry per public function, read by tests/test_contract.py.

A case says how to draw valid arguments for a function and what its contract
needs to know: which kind of function it is (what it reduces over, which
argument has the class axis, which argument its gradient is taken with
respect to), its textbook formula for one example as a SymPy expression, and
how far from :mod:`xentref.exact` it may be, in ulps.

Kinds:

- ``"map"``: elementwise, no reduction (``sigmoid``);
- ``"rows"``: along a class axis, no reduction (``softmax``, ``entropy``);
- ``"pairs"``: two distributions along a class axis, broadcast against each
  other, gradient with respect to the second (``cross_entropy``);
- ``"examples"``: a loss per example along a class axis, then ``reduction``;
- ``"elements"``: a loss per element, then ``reduction``;
- ``"encode"``: each element of the first argument becomes a vector along a
  new last axis (``two_hot_targets``);
- ``"sequences"``: a loss per token of sequences (batch, time) along a
  class axis, some tokens masked, then ``reduction``; an example is a
  sequence;
- ``"tokens"``: a loss per row of the prediction (a token's features),
  then ``reduction``; the classes come from another argument and there is
  no `axis` (``linear_softmax_cross_entropy``);
- ``"alignments"``: a loss per sequence of frames (shape (..., T, C)),
  summed over the alignments of its target, then ``reduction``
  (``ctc_loss``).

A gradient may have several outputs (a tuple, the prediction's first):
then ``grad_scale`` returns one scale per output and ``grad_ulps`` may be
a tuple of bounds, one per output.
"""

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import numpy as np
import sympy as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import symbolic
from xentref._hl_gauss import gaussian_masses

REDUCED = ("examples", "elements", "tokens", "sequences", "alignments")
CLASS_AXIS = ("rows", "pairs", "examples", "sequences")
REDUCTIONS = ("mean", "sum", "none")


class Draw:
    """Random arrays in `dtype`, from a seeded NumPy generator or from hypothesis's `data`.

    The same case generators serve the seeded corpora and the property tests.
    """

    def __init__(self, rng=None, data=None, dtype=np.float64, interior=False):
        # `interior`: no probability exactly 0 or 1, where textbook formulas
        # meet 0 log 0 and finite differences leave the domain.
        self.rng, self.data, self.dtype = rng, data, np.dtype(dtype)
        self.interior = interior

    def _floats(self, shape, **bounds):
        elements = st.floats(**bounds, width=8 * self.dtype.itemsize)
        return self.data.draw(hnp.arrays(self.dtype, shape, elements=elements))

    def uniform(self, shape, low, high):
        if self.data is not None:
            return self._floats(shape, min_value=low, max_value=high)
        return self.rng.uniform(low, high, shape).astype(self.dtype)

    def normal(self, shape, scale):
        if self.data is not None:
            return self._floats(shape, min_value=-4 * scale, max_value=4 * scale)
        return (scale * self.rng.standard_normal(shape)).astype(self.dtype)

    def weights(self, shape, high):
        """Non-negative weights up to `high`; hypothesis also tries 0, the smallest subnormal and 1."""
        if self.data is not None:
            edges = [0.0, float(np.finfo(self.dtype).smallest_subnormal), 1.0]
            elements = st.one_of(st.sampled_from(edges), st.floats(0, high, width=8 * self.dtype.itemsize))
            return self.data.draw(hnp.arrays(self.dtype, shape, elements=elements))
        return self.rng.uniform(0, high, shape).astype(self.dtype)

    def integers(self, shape, high):
        if self.data is not None:
            return self.data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, high - 1)))
        return self.rng.integers(0, high, shape)

    def real(self, shape):
        """Any finite float, from subnormals to the largest, of either sign."""
        if self.data is not None:
            return self._floats(shape, allow_nan=False, allow_infinity=False)
        info = np.finfo(self.dtype)
        exponents = self.rng.uniform(np.log10(info.smallest_subnormal), np.log10(info.max), shape)
        magnitude = np.minimum(10.0**exponents, float(info.max)).astype(self.dtype)
        return np.where(self.rng.uniform(size=shape) < 0.5, -magnitude, magnitude)

    def unit(self, shape):
        """Probabilities in [0, 1], often exactly 0 or 1."""
        if self.data is not None:
            choices = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1, width=8 * self.dtype.itemsize))
            return self.data.draw(hnp.arrays(self.dtype, shape, elements=choices))
        values = self.rng.uniform(0, 1, shape)
        edge = self.rng.uniform(0.2 if self.interior else 0, 1, shape)
        return np.where(edge < 0.1, 0.0, np.where(edge < 0.2, 1.0, values)).astype(self.dtype)

    def distributions(self, shape):
        """Distributions along the last axis, normalised in `dtype`, some entries 0."""
        if self.data is not None:
            tiny = float(np.finfo(self.dtype).tiny)
            raw = self._floats(shape, min_value=0.0, max_value=1.0).astype(np.float64)
            raw = np.where(raw < tiny, 0.0, raw)
        else:
            raw = self.rng.gamma(1.0, size=shape) * (self.rng.uniform(size=shape) > 0.2)
            raw = raw + self.interior
        raw[..., 0] += raw.sum(axis=-1) == 0
        return (raw / raw.sum(axis=-1, keepdims=True)).astype(self.dtype)


@dataclass(frozen=True)
class Case:
    """How to call one public function, and what its contract needs to know."""

    name: str
    kind: str
    make: Callable  # make(draw, batch, extreme) -> (args, kwargs), float64 arrays
    formula: Callable  # formula(symbols, args, kwargs) -> SymPy expression of one example
    ulps: float  # largest error on the seeded corpora, in ulps of max(|exact|, scale)
    variant: str = ""
    differentiate: int = 0  # the argument the gradient is taken with respect to
    axis_args: tuple = (0,)  # the arguments whose class axis `axis` names
    refuses_plus_inf: bool = True
    scale: Callable | None = None  # the size of the terms a value is formed from
    grad_ulps: float | tuple = 4  # largest distance of the gradient (each output) to xentref.exact.grad
    grad_scale: Callable | None = None  # the size of the terms a gradient entry is formed from
    bad: list = field(default_factory=list)  # (args, kwargs) the function must refuse
    hard: Callable | None = None  # hard(rng, n, k, dtype) -> (args, kwargs): the hard corpus
    batched: tuple | None = None  # the arguments with one entry per example (None: all)
    per_example: tuple = ()  # the keyword arguments with one entry per example (`where`)
    divisor: Callable | None = None  # divisor(args, kwargs): what "mean" divides by, if not the count
    reductions: tuple = REDUCTIONS  # the values of `reduction`, as its error lists them

    @property
    def id(self):
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    @property
    def function(self):
        return getattr(xentref, self.name)

    @property
    def gradient(self):
        return getattr(xentref.grad, self.name, None)

    @property
    def prediction(self):
        return self.function.__code__.co_varnames[self.differentiate]

    def count(self, args, kwargs):
        """What ``"mean"`` divides by: the case's divisor, or the number of examples, elements or tokens that count."""
        if self.divisor is not None:
            return self.divisor(args, kwargs)
        prediction = np.asarray(args[self.differentiate])
        if self.kind == "elements":
            return prediction.size
        if self.kind == "sequences":
            return int(np.sum(counting_tokens(args, kwargs)))
        if self.kind == "alignments":
            return int(np.prod(prediction.shape[:-2]))
        return prediction.size // prediction.shape[-1]


def _numbers(values):
    return [sp.Float(float(v), 30) for v in np.ravel(values)]


# Generators ----------------------------------------------------------------


def _logits(draw, shape, extreme):
    return draw.real(shape) if extreme else draw.normal(shape, 3.0)


def _map(draw, batch, extreme):
    return (_logits(draw, (*batch, 3), extreme),), {}


def _rows_of_logits(draw, batch, extreme):
    return (_logits(draw, (*batch, 4), extreme),), {}


def _entropy(draw, batch, extreme, base=None):
    return (draw.distributions((*batch, 4)),), {"base": base}


def _pair(draw, batch, extreme, base=None):
    p = draw.distributions((*batch, 4))
    q = draw.distributions((*batch, 4)) if extreme else draw.uniform((*batch, 4), 0.05, 1.0)
    if not extreme:
        q = q / q.sum(axis=-1, keepdims=True)
    return (p, q), {"base": base}


def _labels(draw, batch, extreme):
    return (_logits(draw, (*batch, 5), extreme), draw.integers(batch, 5)), {}


def _probability_targets(draw, batch, extreme):
    return (_logits(draw, (*batch, 5), extreme), draw.distributions((*batch, 5))), {}


def _log_probs(draw, batch, extreme):
    logits = _logits(draw, (*batch, 5), extreme)
    return (xentref.log_softmax(logits), draw.integers(batch, 5)), {}


def _weight_bound(extreme, moderate):
    """Weights up to 1000 at the extremes: a weight times a huge loss may overflow."""
    return 1e3 if extreme else moderate


def _binary(draw, batch, extreme):
    shape = (*batch, 3)
    probs = draw.unit(shape) if extreme else draw.uniform(shape, 0.05, 0.95)
    targets = draw.unit(shape)
    return (probs, targets), {"weight": draw.weights((3,), _weight_bound(extreme, 2))}


def _linear(draw, batch, extreme):
    """Hidden states of 4 features, 5 classes; each weight row has absolute sum below 1,
    so that the logits of the largest hidden states stay in the float range."""
    hidden = _logits(draw, (*batch, 4), extreme)
    weight = draw.uniform((5, 4), -0.25, 0.25)
    return (hidden, weight, draw.integers(batch, 5)), {"bias": draw.uniform((5,), -1, 1)}


def _sigmoid_binary(draw, batch, extreme):
    shape = (*batch, 3)
    weights = {
        "pos_weight": draw.weights((3,), _weight_bound(extreme, 3)),
        "weight": draw.weights(shape, _weight_bound(extreme, 2)),
    }
    return (_logits(draw, shape, extreme), draw.unit(shape)), weights


# Formulas of one example ------------------------------------------------------


def _class_formula(f):
    def formula(symbols, args, kwargs):
        return f(symbols, *args[1:], **kwargs)
    return formula


def _softmax_cross_entropy(symbols, targets):
    if np.ndim(targets) == 0:
        return symbolic.softmax_cross_entropy(symbols, int(targets))
    return symbolic.softmax_cross_entropy(symbols, _numbers(targets))


def _pair_formula(f):
    def formula(symbols, args, kwargs):
        return f(_numbers(args[0]), symbols, base=kwargs.get("base"))
    return formula


def _binary_formula(symbols, args, kwargs):
    (p,), (y,), (w,) = symbols, _numbers(args[1]), _numbers(kwargs["weight"])
    return w * symbolic.binary_cross_entropy(p, y)


def _sigmoid_binary_formula(symbols, args, kwargs):
    (z,), (y,) = symbols, _numbers(args[1])
    (pos_weight,), (w,) = _numbers(kwargs["pos_weight"]), _numbers(kwargs["weight"])
    return w * symbolic.sigmoid_binary_cross_entropy(z, y, pos_weight=pos_weight)


def _kl_scale(args, kwargs):
    """Sum of |p_k log(p_k / q_k)|: the terms of a KL divergence have both signs."""
    p, q = (np.asarray(a, dtype=np.float64) for a in args)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p / q), 0)
    unit = 1 if kwargs.get("base") is None else np.log(kwargs["base"])
    return np.sum(np.abs(terms), axis=-1) / unit


def _logsumexp_scale(args, kwargs):
    """|max x| + log K: log-sum-exp is that maximum plus log1p(s) <= log K, which may cancel it."""
    x = np.asarray(args[0], dtype=np.float64)
    top = np.max(x, axis=-1)
    return np.where(np.isfinite(top), np.abs(top) + np.log(x.shape[-1]), 0.0)


def _softmax_grad_scale(args, kwargs):
    """softmax_k sum(t) + t_k: a gradient entry is their difference."""
    logits, targets = args
    if np.ndim(targets) == np.ndim(logits) - 1:
        targets = np.eye(logits.shape[-1])[targets]
    return xentref.softmax(logits) * targets.sum(axis=-1, keepdims=True) + targets


def _linear_logits(args, kwargs):
    hidden, weight = (np.asarray(a, dtype=np.float64) for a in args[:2])
    bias = np.asarray(kwargs["bias"], dtype=np.float64)
    terms = np.abs(hidden)[..., None, :] * np.abs(weight)
    return hidden @ weight.T + bias, np.max(np.sum(terms, axis=-1) + np.abs(bias), axis=-1)


def _linear_scale(args, kwargs):
    """max_k sum_i |h_i w_ki| + |b_k|: the size of the logits' terms, whose rounding the loss carries."""
    return _linear_logits(args, kwargs)[1]


def _linear_grad_scale(args, kwargs):
    """The size of each gradient entry's terms, with the logits' rounding: p_k (1 + 2 S) + [k = y] per logit."""
    logits, size = _linear_logits(args, kwargs)
    with np.errstate(over="ignore"):
        # Terms beyond the float range are measured in ulps of the largest
        # binade (helpers.ulps_of).
        terms = xentref.softmax(logits) * (1 + 2 * size[..., None]) + np.eye(logits.shape[-1])[args[2]]
    return _linear_products(args, terms)


def _linear_products(args, terms):
    """The sizes of the gradients of hidden, weight and bias from the sizes `terms` of the logits' gradient."""
    hidden, weight = (np.abs(np.asarray(a, dtype=np.float64)) for a in args[:2])
    with np.errstate(over="ignore"):
        # As above: beyond the float range is inf.
        terms = terms.reshape(-1, weight.shape[0])
        rows = hidden.reshape(-1, hidden.shape[-1])
        return (terms @ weight).reshape(hidden.shape), terms.T @ rows, terms.sum(axis=0)


def _linear_formula(symbols, args, kwargs):
    _, weight, label = args
    rows = [_numbers(row) for row in np.asarray(weight)]
    return symbolic.linear_softmax_cross_entropy(symbols, rows, int(label), bias=_numbers(kwargs["bias"]))


def _sigmoid_grad_scale(args, kwargs):
    """(1 - y) sigma(z) + w+ y sigma(-z), times the weight."""
    logits, targets = args
    terms = (1 - targets) * xentref.sigmoid(logits) + kwargs["pos_weight"] * targets * xentref.sigmoid(-logits)
    return kwargs["weight"] * terms


# The hard corpus of the softmax family -------------------------------------------


def hard_logits(rng, n, k, dtype):
    """`n` rows of `k` logits that a rounded shift, a plain sum or underflow would get wrong.

    Each row is one of: the largest logit a wide non-integer gap above the
    others (5 to 700, or to 90 in float32); gaps beyond that, up to
    the float range and past it (the gap overflows); magnitudes near the
    largest float; exponentials in the subnormals (tiny losses and
    subnormal probabilities, many of them for large k); moderate logits at
    scales from 1e-3 to 1e3; and rows with -inf entries.
    """
    info = np.finfo(dtype)
    wide = 700.0 if dtype == np.float64 else 90.0
    underflow = (700.0, 745.0) if dtype == np.float64 else (80.0, 104.0)
    huge = [float(info.max) * 0.95, 1e300 if dtype == np.float64 else 1e37, 0.5, -3.3]
    rows = []
    for pattern in rng.integers(0, 6, n):
        if pattern == 0:
            row = np.concatenate([[rng.uniform(5, wide) + 0.1], rng.uniform(-1, 1, k - 1) + 0.1])
        elif pattern == 1:
            scale = 10.0 ** rng.uniform(3, np.log10(float(info.max)))
            row = np.concatenate([[scale], -scale * rng.uniform(0, 1, k - 1)])
        elif pattern == 2:
            row = rng.choice(huge, k) * rng.choice([-1.0, 1.0], k)
        elif pattern == 3:
            row = np.concatenate([[0.0], -rng.uniform(*underflow, k - 1)])
        elif pattern == 4:
            row = rng.normal(0, 3, k) * 10.0 ** rng.uniform(-3, 3)
        else:
            row = rng.normal(0, 3, k)
            row[rng.uniform(size=k) < 0.3] = -np.inf
            row[rng.integers(k)] = rng.normal(0, 3)
        rows.append(rng.permutation(row))
    return np.array(rows).astype(dtype)


def _hard_rows(rng, n, k, dtype):
    return (hard_logits(rng, n, k, dtype),), {}


def _hard_labels(rng, n, k, dtype):
    logits = hard_logits(rng, n, k, dtype)
    labels = np.where(rng.uniform(size=n) < 0.5, np.argmax(logits, axis=-1), rng.integers(0, k, n))
    finite = np.isfinite(np.take_along_axis(logits, labels[:, None], -1)[:, 0])
    return (logits, np.where(finite, labels, np.argmax(logits, axis=-1))), {}


def _hard_targets(rng, n, k, dtype):
    logits = hard_logits(rng, n, k, dtype)
    targets = rng.dirichlet(np.ones(k), n) * (rng.uniform(size=(n, k)) < 0.8)
    targets[np.arange(n), np.argmax(logits, axis=-1)] += 0.5
    targets = np.where(np.isfinite(logits), targets, 0.0)
    return (logits, (targets / targets.sum(axis=-1, keepdims=True)).astype(dtype)), {}


# Bad arguments, beyond NaN and +inf in the prediction -----------------------------

_ROWS = np.zeros((2, 3))
_HALVES = np.log([[0.5, 0.5]])

_BAD = {
    "cross_entropy": [
        (([0.5, 0.5], [0.5, 0.6]), {}), (([0.5, 0.5], [0.5, 0.5]), {"base": 1}),
        (([1.0, 0.0], [1 + 1e-9, 0.0]), {}),  # sums to 1 within the tolerance, but above 1
    ],
    "kl_divergence": [
        (([0.5, 0.5], [[0.25, 0.25, 0.5]]), {}), (([-0.5, 1.5], [0.5, 0.5]), {}),
        (([1 + 1e-9, 0.0], [0.5, 0.5]), {}),
    ],
    "labels": [(([[0.0, np.nan]], [0]), {}), ((_ROWS, [0, 3]), {}), ((_ROWS, [0, 1]), {"reduction": "avg"})],
    "probabilities": [((_ROWS, [[0.5, 0.4, 0.0]] * 2), {})],
    "binary_cross_entropy": [(([0.5, 1.5], [1, 1]), {}), (([0.5, 0.5], [1]), {}), (([0.5], [1]), {"weight": [-1.0]})],
    "sigmoid_binary_cross_entropy": [
        (([0.0], [2.0]), {}), (([np.nan], [1.0]), {}),
        ((np.zeros((2, 2)), np.ones((2, 2))), {"pos_weight": np.ones(3)}),
    ],
    "nll_loss": [
        (([[1.0, 2.0]], [0]), {}), ((_HALVES, [0.0]), {}), ((_HALVES, [2]), {}),
        (([[1e-9, -np.inf]], [0]), {}),  # a log-probability above 0 within the tolerance
    ],
}


# The registry -------------------------------------------------------------------

CASES = [
    Case("entropy", "rows", _entropy, lambda s, a, k: symbolic.entropy(s, base=k["base"]), ulps=2),
    Case("entropy", "rows", lambda d, b, e: _entropy(d, b, e, base=2), variant="bits",
         formula=lambda s, a, k: symbolic.entropy(s, base=k["base"]), ulps=2),
    Case("cross_entropy", "pairs", _pair, _pair_formula(symbolic.cross_entropy), ulps=2,
         differentiate=1, axis_args=(0, 1), grad_ulps=1, bad=_BAD["cross_entropy"]),
    Case("cross_entropy", "pairs", lambda d, b, e: _pair(d, b, e, base=2), variant="bits",
         formula=_pair_formula(symbolic.cross_entropy), ulps=2, differentiate=1, axis_args=(0, 1),
         grad_ulps=1),
    Case("kl_divergence", "pairs", _pair, _pair_formula(symbolic.kl_divergence), ulps=2,
         differentiate=1, axis_args=(0, 1), scale=_kl_scale, grad_ulps=1, bad=_BAD["kl_divergence"]),
    Case("kl_divergence", "pairs", lambda d, b, e: _pair(d, b, e, base=2), variant="bits",
         formula=_pair_formula(symbolic.kl_divergence), ulps=2, differentiate=1, axis_args=(0, 1),
         scale=_kl_scale, grad_ulps=1),
    # The softmax family: the bounds proved in xentref/_shift.py for float64
    # (float32 is within 1 ulp, tests/test_kernel.py).
    Case("logsumexp", "rows", _rows_of_logits, lambda s, a, k: symbolic.logsumexp(s), ulps=2.7,
         refuses_plus_inf=False, scale=_logsumexp_scale, hard=_hard_rows),
    Case("log_softmax", "rows", _rows_of_logits, lambda s, a, k: symbolic.log_softmax(s), ulps=4,
         hard=_hard_rows),
    Case("softmax", "rows", _rows_of_logits, lambda s, a, k: symbolic.softmax(s), ulps=4, hard=_hard_rows),
    Case("softmax_cross_entropy", "examples", _labels, _class_formula(_softmax_cross_entropy),
         variant="labels", ulps=4, grad_ulps=4, hard=_hard_labels, bad=_BAD["labels"]),
    Case("softmax_cross_entropy", "examples", _probability_targets, _class_formula(_softmax_cross_entropy),
         variant="probabilities", axis_args=(0, 1), ulps=4, grad_ulps=5.7, grad_scale=_softmax_grad_scale,
         hard=_hard_targets, bad=_BAD["probabilities"]),
    Case("sigmoid", "map", _map, lambda s, a, k: symbolic.sigmoid(s[0]), ulps=2, refuses_plus_inf=False),
    Case("log_sigmoid", "map", _map, lambda s, a, k: symbolic.log_sigmoid(s[0]), ulps=2, refuses_plus_inf=False),
    Case("softplus", "map", _map, lambda s, a, k: symbolic.softplus(s[0]), ulps=2, refuses_plus_inf=False),
    Case("binary_cross_entropy", "elements", _binary, _binary_formula, ulps=2, grad_ulps=2,
         bad=_BAD["binary_cross_entropy"]),
    Case("sigmoid_binary_cross_entropy", "elements", _sigmoid_binary, _sigmoid_binary_formula, ulps=3,
         refuses_plus_inf=False, grad_ulps=3, grad_scale=_sigmoid_grad_scale,
         bad=_BAD["sigmoid_binary_cross_entropy"]),
    Case("nll_loss", "examples", _log_probs, _class_formula(lambda s, y: symbolic.nll_loss(s, int(y))),
         ulps=0, grad_ulps=0, bad=_BAD["nll_loss"]),
    # Bounds of float64, with d = 4 features, V = 5 classes and N = 8 tokens:
    # the logits are within (d + 1) u of their terms' size S, the loss moves
    # by at most twice that, plus its own 3.4 + 0.5 ulps; a gradient entry
    # adds the logit gradient's 8.4 u, the logits' d + 1 and the M terms of
    # its matrix product (M = V for hidden, N for weight and bias) plus one
    # rounding: M + d + 10.4. float32 is within 1 ulp (tests/test_kernel.py).
    Case("linear_softmax_cross_entropy", "tokens", _linear, _linear_formula, ulps=14,
         refuses_plus_inf=True, scale=_linear_scale, grad_ulps=(19.4, 22.4, 22.4),
         grad_scale=_linear_grad_scale, batched=(0, 2)),
]


# Variants of cross-entropy ------------------------------------------------------


def _focal_softmax(targets):
    def make(draw, batch, extreme):
        (logits, target), _ = targets(draw, batch, extreme)
        return (logits, target), {"gamma": 2.0, "alpha": draw.uniform((5,), 0, 2)}
    return make


def _poly_softmax(targets, epsilon):
    def make(draw, batch, extreme):
        args, _ = targets(draw, batch, extreme)
        return args, {"epsilon": epsilon}
    return make


def _hard_variant(targets, **options):
    """The hard corpus of `targets` with the variant's `options` (class weights `alpha` drawn per class)."""
    def hard(rng, n, k, dtype):
        args, _ = targets(rng, n, k, dtype)
        drawn = {name: rng.uniform(0, 2, k) if value == "per class" else value for name, value in options.items()}
        return args, drawn
    return hard


def _softmax_focal_grad_scale(args, kwargs):
    """(1 + gamma)(p_j max alpha + alpha_j t_j): bounds p_j G + c_j, c_k = alpha_k t_k (1 - p_k)^gamma [1 + gamma f_k]."""
    logits, targets = args
    alpha = np.broadcast_to(np.asarray(kwargs.get("alpha", 1.0), dtype=np.float64), logits.shape[-1:])
    return (1 + kwargs["gamma"]) * (xentref.softmax(logits) * np.max(alpha) + alpha * targets)


def _softmax_poly1_grad_scale(args, kwargs):
    """p_j sum_k g_k + g_j with g_k = t_k (1 + epsilon p_k) at most (1 + epsilon) t_k."""
    return (1 + kwargs["epsilon"]) * (xentref.softmax(args[0]) + args[1])


def _sigmoid_variant(**options):
    def make(draw, batch, extreme):
        shape = (*batch, 3)
        return (_logits(draw, shape, extreme), draw.unit(shape)), dict(options)
    return make


def _sigmoid_poly1_grad_scale(args, kwargs):
    """(1 - y) sigma(z) + y sigma(-z) + epsilon |1 - 2y| sigma(z) sigma(-z): the gradient's terms."""
    logits, targets = args
    a, b = xentref.sigmoid(logits), xentref.sigmoid(-logits)
    return (1 - targets) * a + targets * b + kwargs["epsilon"] * np.abs(1 - 2 * targets) * a * b


def _sigmoid_focal_grad_scale(args, kwargs):
    """alpha_t q^gamma [|sigma(z) - y| terms + gamma c sigma(z) sigma(-z) / q], q = 1 - p_t."""
    logits, targets = args
    gamma, alpha = kwargs.get("gamma", 2.0), kwargs.get("alpha")
    a, b = xentref.sigmoid(logits), xentref.sigmoid(-logits)
    wrong = (1 - targets) * a + targets * b
    loss = xentref.sigmoid_binary_cross_entropy(logits, targets, reduction="none")
    with np.errstate(divide="ignore", invalid="ignore", under="ignore"):
        focusing = np.where(wrong > 0, gamma * loss * a * b / wrong, 0)
    alpha_t = 1 if alpha is None else alpha * targets + (1 - alpha) * (1 - targets)
    return alpha_t * wrong**gamma * ((1 - targets) * a + targets * b + focusing)


def _target_formula(f):
    def formula(symbols, args, kwargs):
        targets = args[1]
        target = int(targets) if np.ndim(targets) == 0 else _numbers(targets)
        options = {k: _numbers(v) if np.ndim(v) else v for k, v in kwargs.items()}
        return f(symbols, target, **options)
    return formula


def _sigmoid_formula(f):
    def formula(symbols, args, kwargs):
        (z,), (y,) = symbols, _numbers(args[1])
        return f(z, y, **kwargs)
    return formula


def _counts(draw, batch, extreme, beta=0.999):
    shape = (*batch, 4)
    if extreme:
        # From 1 up to a tenth of the largest float.
        counts = 10.0 ** draw.uniform(shape, 0, int(np.log10(float(np.finfo(draw.dtype).max))) - 1)
    else:
        counts = (1.0 + draw.integers(shape, 1000)).astype(draw.dtype)
    return (counts,), {"beta": beta}


def _log_pair(draw, batch, extreme, base=None):
    shape = (*batch, 4)
    if extreme and not draw.interior:
        with np.errstate(divide="ignore"):
            # Zero probabilities are -inf log-probabilities.
            log_p = np.log(draw.distributions(shape))
        log_q = xentref.log_softmax(_logits(draw, shape, extreme))
    else:
        log_p = xentref.log_softmax(_logits(draw, shape, extreme))
        log_q = xentref.log_softmax(_logits(draw, shape, extreme))
    return (log_p, log_q), {"base": base}


def _log_kl_scale(args, kwargs):
    """Sum of |p_k (l_p,k - l_q,k)|: the terms have both signs."""
    log_p, log_q = (np.asarray(a, dtype=np.float64) for a in args)
    with np.errstate(invalid="ignore", over="ignore"):
        terms = np.where(log_p > -np.inf, np.exp(log_p) * (log_p - log_q), 0)
    unit = 1 if kwargs.get("base") is None else np.log(kwargs["base"])
    return np.sum(np.abs(terms), axis=-1) / unit


def _distillation(draw, batch, extreme, temperature=4.0):
    shape = (*batch, 5)
    return (_logits(draw, shape, extreme), _logits(draw, shape, extreme)), {"temperature": temperature}


def _softened_log_softmax(logits, temperature):
    """log softmax(z / T) in float64, its gaps formed from halves so that none overflows before the division."""
    z = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        # A quotient beyond the float range is -inf: probability 0.
        gaps = 2 * ((z / 2 - np.max(z, axis=-1, keepdims=True) / 2) / temperature)
    return xentref.log_softmax(gaps)


def _distillation_scale(args, kwargs):
    """T^2 (sum |p_k (log p_k - log q_k)| + L_p + L_q): the terms have both signs, and the
    logarithms L of the two normalisers are formed apart (xentref/_distillation_loss.py)."""
    student, teacher = args
    temperature = kwargs["temperature"]
    log_p, log_q = _softened_log_softmax(teacher, temperature), _softened_log_softmax(student, temperature)
    # The log-softmax at the largest logit is -L.
    normalisers = -np.max(log_p, axis=-1) - np.max(log_q, axis=-1)
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        # A p_k that underflows to 0 counts 0 (a smaller scale, a stricter test), even where log q_k is -inf.
        p = np.exp(log_p)
        terms = np.where(p > 0, p * np.abs(log_p - log_q), 0.0)
    return temperature**2 * (np.sum(terms, axis=-1) + normalisers)


def _distillation_grad_scale(args, kwargs):
    """T (q + p): a gradient entry is T times their difference."""
    student, teacher = args
    temperature = kwargs["temperature"]
    softmaxes = np.exp(_softened_log_softmax(student, temperature)) + np.exp(_softened_log_softmax(teacher, temperature))
    return temperature * softmaxes


def _hard_distillation(rng, n, k, dtype):
    """Student and teacher both from the hard rows, at a temperature from Hinton et al.'s range and below it."""
    student, teacher = hard_logits(rng, n, k, dtype), hard_logits(rng, n, k, dtype)
    return (student, teacher), {"temperature": float(rng.choice([0.5, 1.0, 4.0, 20.0]))}


def _distillation_formula(symbols, args, kwargs):
    # The teacher's logits as exact rationals: the derivative cancels digits
    # that 30-digit Floats would not carry.
    teacher = [sp.Rational(float(v)) for v in np.ravel(args[1])]
    return symbolic.distillation_loss(symbols, teacher, sp.Rational(kwargs["temperature"]))


CASES += [
    Case("sigmoid_focal_loss", "elements", _sigmoid_variant(gamma=2.0, alpha=0.25),
         _sigmoid_formula(symbolic.sigmoid_focal_loss), ulps=4, refuses_plus_inf=False, grad_ulps=4,
         grad_scale=_sigmoid_focal_grad_scale),
    Case("sigmoid_focal_loss", "elements", _sigmoid_variant(gamma=0.5), _sigmoid_formula(symbolic.sigmoid_focal_loss),
         variant="gamma 0.5", ulps=2, refuses_plus_inf=False, grad_ulps=2, grad_scale=_sigmoid_focal_grad_scale),
    # The bounds proved in xentref/_coefficient_rows.py for float64, at
    # gamma = 2 and epsilon = 2 (float32 is within 1 ulp, tests/test_kernel.py).
    Case("softmax_focal_loss", "examples", _focal_softmax(_labels), _target_formula(symbolic.softmax_focal_loss),
         variant="labels", ulps=1, grad_ulps=1, hard=_hard_variant(_hard_labels, gamma=2.0, alpha="per class")),
    Case("softmax_focal_loss", "examples", _focal_softmax(_probability_targets),
         _target_formula(symbolic.softmax_focal_loss), variant="probabilities", axis_args=(0, 1), ulps=2,
         grad_ulps=2.41, grad_scale=_softmax_focal_grad_scale,
         hard=_hard_variant(_hard_targets, gamma=2.0, alpha="per class")),
    Case("softmax_poly1_loss", "examples", _poly_softmax(_labels, 2.0), _target_formula(symbolic.softmax_poly1_loss),
         variant="labels", ulps=1, grad_ulps=1, hard=_hard_variant(_hard_labels, epsilon=2.0)),
    Case("softmax_poly1_loss", "examples", _poly_softmax(_probability_targets, 2.0),
         _target_formula(symbolic.softmax_poly1_loss), variant="probabilities", axis_args=(0, 1), ulps=2,
         grad_ulps=2.13, grad_scale=_softmax_poly1_grad_scale, hard=_hard_variant(_hard_targets, epsilon=2.0)),
    Case("sigmoid_poly1_loss", "elements", _sigmoid_variant(epsilon=2.0), _sigmoid_formula(symbolic.sigmoid_poly1_loss),
         ulps=1, refuses_plus_inf=False, grad_ulps=1.125, grad_scale=_sigmoid_poly1_grad_scale),
    Case("class_balanced_weights", "rows", _counts,
         lambda s, a, k: symbolic.class_balanced_weights(s, sp.Float(k["beta"], 30)), ulps=2),
    Case("class_balanced_weights", "rows", lambda d, b, e: _counts(d, b, e, beta=0.0), variant="beta 0",
         formula=lambda s, a, k: [sp.Integer(1)] * len(s), ulps=0),
    Case("kl_divergence_of_log_probs", "pairs", _log_pair, _pair_formula(symbolic.kl_divergence_of_log_probs),
         ulps=2, differentiate=1, axis_args=(0, 1), scale=_log_kl_scale, grad_ulps=2),
    Case("kl_divergence_of_log_probs", "pairs", lambda d, b, e: _log_pair(d, b, e, base=2), variant="bits",
         formula=_pair_formula(symbolic.kl_divergence_of_log_probs), ulps=2, differentiate=1, axis_args=(0, 1),
         scale=_log_kl_scale, grad_ulps=2),
    # The bounds proved in xentref/_distillation_loss.py for float64 (float32 is computed in float64, rounded once).
    Case("distillation_loss", "examples", _distillation, _distillation_formula, axis_args=(0, 1), ulps=4,
         scale=_distillation_scale, grad_ulps=4, grad_scale=_distillation_grad_scale, hard=_hard_distillation),
]


# Scoring rules on probabilities ----------------------------------------------------


def _brier(draw, batch, extreme, labels=True):
    probs = draw.distributions((*batch, 5))
    targets = draw.integers(batch, 5) if labels else draw.distributions((*batch, 5))
    return (probs, targets), {}


def _brier_formula(symbols, args, kwargs):
    targets = args[1]
    target = int(targets) if np.ndim(targets) == 0 else _numbers(targets)
    return symbolic.brier_score(symbols, target)


def _calibration(draw, batch, extreme):
    # Confidences on edges (0.6 = 9/15 rounds up, 0.2 rounds down) and away from them.
    n = int(np.prod(batch))
    probs = draw.distributions((*batch, 3))
    edges = np.array([[0.6, 0.3, 0.1], [0.2, 0.4, 0.4], [0.4, 0.2, 0.4]])
    flat = probs.reshape(-1, 3)
    flat[: min(n, 3)] = edges[: min(n, 3)].astype(flat.dtype)
    return (flat.reshape(probs.shape), draw.integers(batch, 3)), {"n_bins": 15}


def _calibration_formula(symbols, args, kwargs):
    k = np.shape(args[0])[-1]
    rows = [list(symbols[i:i + k]) for i in range(0, len(symbols), k)]
    return symbolic.expected_calibration_error(rows, np.ravel(args[1]).tolist(), kwargs["n_bins"])


def _calibration_scale(args, kwargs):
    """Mean confidence: the ECE is a difference of sums of confidences and counts."""
    return np.mean(np.max(args[0], axis=-1))


CASES += [
    Case("brier_score", "examples", _brier, _brier_formula, variant="labels", ulps=2, grad_ulps=1),
    Case("brier_score", "examples", lambda d, b, e: _brier(d, b, e, labels=False), _brier_formula,
         variant="probabilities", axis_args=(0, 1), ulps=2, grad_ulps=1),
    # Kind "dataset": one value from a whole batch of examples along a class
    # axis, with no reduction and no formula per example.
    Case("expected_calibration_error", "dataset", _calibration, _calibration_formula, ulps=2,
         scale=_calibration_scale),
]


# The options of softmax_cross_entropy and nll_loss ------------------------------------
#
# Class weights, examples left out by `where` and by `ignore_index` (labels
# -100), label smoothing and z-loss. The first example is always selected,
# with a positive weight, so that "mean" has something to divide by.


def _select(draw, labels, batch, weights=None, ignore=True, where=True):
    """Options that leave out about a quarter of the examples each way; `labels` gets -100 where ignored."""
    kwargs = {}
    n = int(np.prod(batch))
    first = (0,) * len(batch)
    if where:
        kwargs["where"] = draw.integers(batch, 4) != 0
        if n:
            kwargs["where"][first] = True
    if ignore:
        labels = np.where(draw.integers(batch, 4) == 0, -100, labels)
        if n:
            labels[first] = abs(labels[first]) % 5
        kwargs["ignore_index"] = -100
    if weights is not None:
        if n:
            label = labels[first] if labels.ndim == len(batch) else int(np.argmax(labels[first]))
            weights[label] = max(weights[label], 1.0)
        kwargs["class_weight"] = weights
    return labels, kwargs


def _options_labels(ignore=True, where=True, weighted=True, **fixed):
    def make(draw, batch, extreme):
        (logits, labels), _ = _labels(draw, batch, extreme)
        weights = draw.weights((5,), _weight_bound(extreme, 2)) if weighted else None
        labels, kwargs = _select(draw, labels, batch, weights, ignore, where)
        return (logits, labels), {**kwargs, **fixed}
    return make


def _options_targets(weighted=True, **fixed):
    def make(draw, batch, extreme):
        (logits, targets), _ = _probability_targets(draw, batch, extreme)
        weights = draw.weights((5,), _weight_bound(extreme, 2)) if weighted else None
        _, kwargs = _select(draw, targets, batch, weights, ignore=False)
        return (logits, targets), {**kwargs, **fixed}
    return make


def _options_log_probs(draw, batch, extreme):
    (log_probs, labels), _ = _log_probs(draw, batch, extreme)
    labels, kwargs = _select(draw, labels, batch, draw.weights((5,), _weight_bound(extreme, 2)))
    return (log_probs, labels), kwargs


def _hard_options(hard, weighted=True, ignore=True, **fixed):
    """The hard corpus with class weights (some 0), a quarter of the examples left out, and `fixed`."""
    def make(rng, n, k, dtype):
        (logits, targets), _ = hard(rng, n, k, dtype)
        kwargs = {"where": rng.uniform(size=n) < 0.75, **fixed}
        kwargs["where"][0] = True
        if weighted:
            kwargs["class_weight"] = np.where(rng.uniform(size=k) < 0.2, 0.0, rng.uniform(0.1, 3, k))
            kwargs["class_weight"][np.argmax(targets[0]) if targets.ndim == 2 else targets[0]] = 1.0
        if ignore and targets.ndim == 1:
            targets = np.where(rng.uniform(size=n) < 0.2, -100, targets)
            targets[0] = np.argmax(logits[0])
            kwargs["ignore_index"] = -100
        return (logits, targets), kwargs
    return make


def selected(targets, kwargs):
    """Which examples the options select: a boolean array of the batch shape."""
    targets = np.asarray(targets)
    batch = targets.shape if targets.dtype.kind in "iu" else targets.shape[:-1]
    keep = np.ones(batch, dtype=bool) if kwargs.get("where") is None else np.asarray(kwargs["where"])
    if kwargs.get("ignore_index") is not None:
        keep = keep & (targets != kwargs["ignore_index"])
    return keep


def _mean_divisor(args, kwargs):
    """The total weight of the selected examples' targets (their count without class weights), exactly."""
    targets = np.asarray(args[1])
    keep = selected(targets, kwargs)
    weights = kwargs.get("class_weight")
    if weights is None:
        return int(np.count_nonzero(keep))
    weights = [Fraction(float(w)) for w in weights]
    if targets.dtype.kind in "iu":
        return float(sum((weights[y] for y in targets[keep].tolist()), Fraction(0)))
    rows = targets[keep].astype(np.float64).tolist()
    return float(sum((w * Fraction(t) for row in rows for w, t in zip(weights, row)), Fraction(0)))


def _options_formula(symbols, args, kwargs):
    """One example's loss with the options: 0 if it is left out."""
    target = args[1]
    if not np.all(selected(np.asarray(target), kwargs)):
        return sp.Integer(0)
    target = int(target) if np.ndim(target) == 0 else _numbers(target)
    weights = kwargs.get("class_weight")
    return symbolic.softmax_cross_entropy(
        symbols, target, class_weight=None if weights is None else _numbers(weights),
        label_smoothing=sp.Rational(float(kwargs.get("label_smoothing", 0))),
        smoothing=kwargs.get("smoothing", "uniform"), z_loss=sp.Rational(float(kwargs.get("z_loss", 0))),
    )


def _nll_options_formula(symbols, args, kwargs):
    if not np.all(selected(np.asarray(args[1]), kwargs)):
        return sp.Integer(0)
    return symbolic.nll_loss(symbols, int(args[1]), class_weight=_numbers(kwargs["class_weight"]))


def _coefficients(args, kwargs):
    """w_k q~_k per example (float64), 0 where left out."""
    logits, targets = (np.asarray(a) for a in args)
    k = logits.shape[-1]
    t = np.eye(k)[np.where(selected(targets, kwargs), targets, 0)] if targets.dtype.kind in "iu" else targets
    epsilon = kwargs.get("label_smoothing", 0.0)
    if kwargs.get("smoothing", "uniform") == "uniform":
        q = (1 - epsilon) * t + epsilon / k
    else:
        q = (1 - epsilon) * t + epsilon * (1 - t) / (k - 1)
    weights = kwargs.get("class_weight")
    c = q if weights is None else q * weights
    return np.where(selected(targets, kwargs)[..., None], c, 0.0)


def _lse_size(args):
    """|max z| + log K: the size of logsumexp's terms."""
    return _logsumexp_scale(args[:1], {})


def _options_grad_scale(args, kwargs):
    """p_k (sum_j c_j + 2 lambda (|a| + log K)) + c_k: a gradient entry is the difference of two of its terms."""
    c = _coefficients(args, kwargs)
    factor = c.sum(axis=-1, keepdims=True) + 2 * kwargs.get("z_loss", 0.0) * _lse_size(args)[..., None]
    return xentref.softmax(args[0]) * factor + c


def _z_loss_scale(args, kwargs):
    """The cross-entropy plus lambda (|a| + log K)^2, at the selected examples."""
    options = {key: value for key, value in kwargs.items() if key != "z_loss"}
    cross_entropy = xentref.softmax_cross_entropy(*args, **options, reduction="none")
    with np.errstate(over="ignore"):
        # Beyond the float range the loss is inf too.
        return np.where(selected(args[1], kwargs), cross_entropy + kwargs["z_loss"] * _lse_size(args) ** 2, 0.0)


_OPTIONS_BAD = [
    ((_ROWS, [0, 1]), {"class_weight": [1.0, 2.0]}),
    ((_ROWS, [0, 1]), {"class_weight": [1.0, -2.0, 1.0]}),
    ((_ROWS, [0, 1]), {"where": [True, False, True]}),
    ((_ROWS, [0, 1]), {"where": [1, 0]}),
    ((_ROWS, [0, 1]), {"label_smoothing": 1.5}),
    ((_ROWS, [0, 1]), {"smoothing": "fairseq"}),
    ((_ROWS, [0, 1]), {"z_loss": -1.0}),
    ((_ROWS, [[0.5, 0.5, 0.0]] * 2), {"ignore_index": -100}),
    ((_ROWS, [0, -100]), {"ignore_index": -100, "where": np.array([False, True])}),
]

CASES += [
    Case("softmax_cross_entropy", "examples", _options_labels(), _options_formula, variant="labels, weighted",
         ulps=4, grad_ulps=4, hard=_hard_options(_hard_labels), bad=_OPTIONS_BAD, per_example=("where",),
         divisor=_mean_divisor),
    Case("softmax_cross_entropy", "examples", _options_labels(label_smoothing=0.1), _options_formula,
         variant="labels, weighted, smoothed", ulps=4, grad_ulps=5.7, grad_scale=_options_grad_scale,
         hard=_hard_options(_hard_labels, label_smoothing=0.1), per_example=("where",), divisor=_mean_divisor),
    Case("softmax_cross_entropy", "examples", _options_labels(weighted=False, label_smoothing=0.3, smoothing="others"),
         _options_formula, variant="labels, others", ulps=4, grad_ulps=5.7, grad_scale=_options_grad_scale,
         hard=_hard_options(_hard_labels, weighted=False, label_smoothing=0.3, smoothing="others"),
         per_example=("where",), divisor=_mean_divisor),
    Case("softmax_cross_entropy", "examples", _options_targets(label_smoothing=0.2), _options_formula,
         variant="probabilities, weighted, smoothed", axis_args=(0, 1), ulps=4, grad_ulps=5.7,
         grad_scale=_options_grad_scale, hard=_hard_options(_hard_targets, label_smoothing=0.2),
         per_example=("where",), divisor=_mean_divisor),
    Case("softmax_cross_entropy", "examples", _options_labels(weighted=False, label_smoothing=0.1, z_loss=0.01),
         _options_formula, variant="labels, z-loss", ulps=2, scale=_z_loss_scale, grad_ulps=2.16,
         grad_scale=_options_grad_scale,
         hard=_hard_options(_hard_labels, weighted=False, label_smoothing=0.1, z_loss=0.01),
         per_example=("where",), divisor=_mean_divisor),
    Case("softmax_cross_entropy", "examples", _options_targets(weighted=False, z_loss=0.5), _options_formula,
         variant="probabilities, z-loss", axis_args=(0, 1), ulps=2, scale=_z_loss_scale, grad_ulps=2.16,
         grad_scale=_options_grad_scale, hard=_hard_options(_hard_targets, weighted=False, z_loss=0.5),
         per_example=("where",), divisor=_mean_divisor),
    Case("nll_loss", "examples", _options_log_probs, _nll_options_formula, variant="weighted", ulps=0, grad_ulps=1,
         bad=[((_HALVES, [0]), {"class_weight": [1.0]}), ((_HALVES, [5]), {"ignore_index": 5, "where": [[True]]})],
         per_example=("where",), divisor=_mean_divisor),
]


# `where` on the other losses with a batch and a reduction -----------------------------
#
# A quarter of the elements (or examples, or tokens) left out, their targets
# made invalid (outside [0, 1], label -100, a row of zeros) to show they are
# not read; the first is always kept.


def _left_out(make, unit="elements", invalid=None):
    """`make` with a `where` that leaves out about a quarter, and `invalid` targets there."""
    def wrapped(draw, batch, extreme):
        args, kwargs = make(draw, batch, extreme)
        shape = np.shape(args[0]) if unit == "elements" else (np.shape(args[0])[:-1] if unit == "tokens" else batch)
        keep = draw.integers(shape, 4) != 0
        if keep.size:
            keep.flat[0] = True
        if invalid is not None:
            target = 2 if unit == "tokens" else 1
            values = np.array(args[target])
            if values.ndim > keep.ndim:
                values[~keep] = invalid
            else:
                values = np.where(keep, values, invalid).astype(values.dtype)
            args = (*args[:target], values, *args[target + 1:])
        return args, {**kwargs, "where": keep}
    return wrapped


def _kept_count(args, kwargs):
    return int(np.count_nonzero(kwargs["where"]))


def _selected_formula(formula):
    """One example's (or element's) formula, 0 where it is left out."""
    def wrapped(symbols, args, kwargs):
        if not np.all(kwargs["where"]):
            return sp.Integer(0)
        return formula(symbols, args, {k: v for k, v in kwargs.items() if k != "where"})
    return wrapped


def _with_valid_targets(scale, target=1, fill=0.5):
    """A scale function computed with the left-out targets replaced by `fill` (they are not read)."""
    def wrapped(args, kwargs):
        keep = np.asarray(kwargs["where"])
        values = np.array(args[target])
        if values.ndim > keep.ndim:
            values[~keep] = fill
        else:
            values = np.where(keep, values, fill).astype(values.dtype)
        options = {k: v for k, v in kwargs.items() if k != "where"}
        return scale((*args[:target], values, *args[target + 1:]), options)
    return wrapped


def _linear_fill(args, kwargs):
    """The linear head's labels with 0 where left out, for its scales."""
    labels = np.where(np.asarray(kwargs["where"]), args[2], 0)
    return (*args[:2], labels), {k: v for k, v in kwargs.items() if k != "where"}


CASES += [
    Case("binary_cross_entropy", "elements", _left_out(_binary, invalid=-1.0), _selected_formula(_binary_formula),
         variant="selected", ulps=2, grad_ulps=2, divisor=_kept_count),
    Case("sigmoid_binary_cross_entropy", "elements", _left_out(_sigmoid_binary, invalid=2.0),
         _selected_formula(_sigmoid_binary_formula), variant="selected", ulps=3, refuses_plus_inf=False, grad_ulps=3,
         grad_scale=_with_valid_targets(_sigmoid_grad_scale), divisor=_kept_count),
    Case("sigmoid_focal_loss", "elements", _left_out(_sigmoid_variant(gamma=2.0, alpha=0.25), invalid=-1.0),
         _selected_formula(_sigmoid_formula(symbolic.sigmoid_focal_loss)), variant="selected", ulps=4,
         refuses_plus_inf=False, grad_ulps=4, grad_scale=_with_valid_targets(_sigmoid_focal_grad_scale),
         divisor=_kept_count),
    Case("sigmoid_poly1_loss", "elements", _left_out(_sigmoid_variant(epsilon=2.0), invalid=-1.0),
         _selected_formula(_sigmoid_formula(symbolic.sigmoid_poly1_loss)), variant="selected", ulps=1,
         refuses_plus_inf=False, grad_ulps=1.125, grad_scale=_with_valid_targets(_sigmoid_poly1_grad_scale),
         divisor=_kept_count),
    Case("softmax_focal_loss", "examples", _left_out(_focal_softmax(_labels), "examples", invalid=-100),
         _selected_formula(_target_formula(symbolic.softmax_focal_loss)), variant="labels, selected", ulps=1,
         grad_ulps=1, per_example=("where",), divisor=_kept_count),
    Case("softmax_poly1_loss", "examples", _left_out(_poly_softmax(_probability_targets, 2.0), "examples", invalid=0.0),
         _selected_formula(_target_formula(symbolic.softmax_poly1_loss)), variant="probabilities, selected",
         axis_args=(0, 1), ulps=2, grad_ulps=2.13, grad_scale=_softmax_poly1_grad_scale, per_example=("where",),
         divisor=_kept_count),
    Case("distillation_loss", "examples", _left_out(_distillation, "examples"), _selected_formula(_distillation_formula),
         variant="selected", axis_args=(0, 1), ulps=4, scale=lambda a, k: _distillation_scale(a, k),
         grad_ulps=4, grad_scale=lambda a, k: _distillation_grad_scale(a, k), per_example=("where",),
         divisor=_kept_count),
    Case("brier_score", "examples", _left_out(lambda d, b, e: _brier(d, b, e, labels=False), "examples", invalid=0.0),
         _selected_formula(_brier_formula), variant="probabilities, selected", axis_args=(0, 1), ulps=2, grad_ulps=1,
         per_example=("where",), divisor=_kept_count),
    Case("linear_softmax_cross_entropy", "tokens", _left_out(_linear, "tokens", invalid=-100),
         _selected_formula(_linear_formula), variant="selected", ulps=14, refuses_plus_inf=True,
         scale=lambda a, k: _linear_scale(*_linear_fill(a, k)), grad_ulps=(19.4, 22.4, 22.4),
         grad_scale=lambda a, k: _linear_grad_scale(*_linear_fill(a, k)), batched=(0, 2), per_example=("where",),
         divisor=_kept_count),
]


# The options of the fused classifier head -------------------------------------------
#
# Class weights, tokens left out by `where` and by `ignore_index` (labels
# -100), label smoothing and z-loss, as for softmax_cross_entropy, on the
# head of _linear (d = 4 features, V = 5 classes). Two of the cases form
# the logits in blocks of two classes (`block_size`), so that each token's
# distance is merged from chunks of classes shifted by their own maxima.


def _linear_options(weighted=True, **fixed):
    """The head of _linear with the options; class weights up to 1 at the extremes, and with z-loss no hidden
    state of float64 above 2^500.

    The gradient's products G_nk h_ni must stay in the float range, as in the
    plain head, where |G_nk| <= 1: weights above 1 (or a z-loss of a huge
    log-sum-exp) times hidden states near the largest float overflow.
    """
    def make(draw, batch, extreme):
        (hidden, weight, labels), kwargs = _linear(draw, batch, extreme)
        if extreme and fixed.get("z_loss") and hidden.dtype == np.float64:
            with np.errstate(under="ignore"):
                # Subnormal hidden states become 0 or lose their last bits: they stay valid input.
                hidden = np.ldexp(hidden, -524)
        weights = draw.weights((5,), 1.0 if extreme else 2.0) if weighted else None
        labels, options = _select(draw, labels, batch, weights)
        return (hidden, weight, labels), {**kwargs, **options, **fixed}
    return make


def _linear_options_formula(symbols, args, kwargs):
    """One token's loss with the options: 0 if it is left out."""
    _, weight, label = args
    if not np.all(selected(np.asarray(label), kwargs)):
        return sp.Integer(0)
    weights = kwargs.get("class_weight")
    return symbolic.linear_softmax_cross_entropy(
        symbols, [_numbers(row) for row in np.asarray(weight)], int(label), bias=_numbers(kwargs["bias"]),
        class_weight=None if weights is None else _numbers(weights),
        label_smoothing=sp.Rational(float(kwargs.get("label_smoothing", 0))),
        smoothing=kwargs.get("smoothing", "uniform"), z_loss=sp.Rational(float(kwargs.get("z_loss", 0))),
    )


def _linear_option_terms(args, kwargs):
    """Per token: the formed logits, their terms' size S, the coefficients c and lambda (|a| + log V)."""
    logits, size = _linear_logits(args, kwargs)
    c = _coefficients((logits, args[2]), kwargs)
    return logits, size, c, kwargs.get("z_loss", 0.0) * _lse_size((logits,))


def linear_options_scale(args, kwargs):
    """(C + lambda (|a| + log V)) S, and with z-loss the cross-entropy plus lambda (|a| + log V)^2.

    The logits' rounding, within (d + 1) u S each, moves the loss by at
    most twice that times sum_k |p_k T - c_k| <= 2 (C + lambda |lse|).
    """
    logits, size, c, z = _linear_option_terms(args, kwargs)
    with np.errstate(over="ignore"):
        # A scale beyond the float range is measured in ulps of the largest binade.
        scale = (c.sum(axis=-1) + z) * size
    if not kwargs.get("z_loss"):
        return scale
    options = {key: value for key, value in kwargs.items() if key not in ("z_loss", "bias", "block_size")}
    cross_entropy = xentref.softmax_cross_entropy(logits, args[2], **options, reduction="none")
    with np.errstate(over="ignore"):
        # Beyond the float range the loss is inf too.
        z_size = np.where(selected(args[2], kwargs), cross_entropy + z * _lse_size((logits,)), 0.0)
    return np.maximum(scale, z_size)


def linear_options_grad_scale(args, kwargs):
    """p_k (T + (2 T + 2 lambda) S) + c_k per logit, T = C + 2 lambda (|a| + log V), through the products.

    A logit gradient p_k T - c_k moves by at most p_k (2 T + 2 lambda) times
    the logits' error (d + 1) u S.
    """
    logits, size, c, z = _linear_option_terms(args, kwargs)
    total = c.sum(axis=-1) + 2 * z
    z_scale = 2 * kwargs.get("z_loss", 0.0)
    p = xentref.softmax(logits)
    with np.errstate(over="ignore", invalid="ignore"):
        # Terms beyond the float range are measured in ulps of the largest
        # binade (helpers.ulps_of); a zero probability contributes 0.
        terms = np.where(p > 0, p * (total + (2 * total + z_scale) * size)[..., None], 0.0) + c
    return _linear_products(args, terms)


def linear_options_divisor(args, kwargs):
    return _mean_divisor((None, args[2]), kwargs)


def _linear_bad(labels=(0, 1), **options):
    """A head of 3 features and 3 classes, two tokens with `labels`, and `options`."""
    return (np.zeros((2, 3)), np.eye(3), list(labels)), options


_LINEAR_OPTIONS_BAD = [
    _linear_bad(class_weight=[1.0, 2.0]),
    _linear_bad(class_weight=[1.0, -2.0, 1.0]),
    _linear_bad(label_smoothing=1.5),
    _linear_bad(smoothing="fairseq"),
    _linear_bad(z_loss=-1.0),
    _linear_bad(ignore_index=1.0),
    # "mean" of no token, and of a total weight of 0.
    _linear_bad((0, -100), ignore_index=-100, where=np.array([False, True])),
    _linear_bad(class_weight=[0.0, 0.0, 1.0]),
]

CASES += [
    # The loss: 10 ulps of its scale for the logits' rounding (2 (d + 1)),
    # and the 4 of softmax_cross_entropy's options (7.4 with z-loss, whose
    # exponentials the fused head takes from NumPy). The gradient: the
    # bounds of the plain head with the logit gradient's 4.2 ulps replaced
    # by those of the options, 5.7 with smoothing (+ 3) and 8.9 with z-loss
    # (+ 9.4).
    Case("linear_softmax_cross_entropy", "tokens", _linear_options(), _linear_options_formula,
         variant="weighted", ulps=14, scale=linear_options_scale, grad_ulps=(19.4, 22.4, 22.4),
         grad_scale=linear_options_grad_scale, bad=_LINEAR_OPTIONS_BAD, batched=(0, 2), per_example=("where",),
         divisor=linear_options_divisor),
    Case("linear_softmax_cross_entropy", "tokens", _linear_options(label_smoothing=0.1, block_size=4),
         _linear_options_formula, variant="weighted, smoothed, chunked", ulps=14, scale=linear_options_scale,
         grad_ulps=(22.4, 25.4, 25.4), grad_scale=linear_options_grad_scale, batched=(0, 2),
         per_example=("where",), divisor=linear_options_divisor),
    Case("linear_softmax_cross_entropy", "tokens",
         _linear_options(weighted=False, label_smoothing=0.3, smoothing="others", z_loss=0.01, block_size=6),
         _linear_options_formula, variant="others, z-loss, chunked", ulps=17.4, scale=linear_options_scale,
         grad_ulps=(28.8, 31.8, 31.8), grad_scale=linear_options_grad_scale, batched=(0, 2),
         per_example=("where",), divisor=linear_options_divisor),
]


# Regression as classification ---------------------------------------------------


def _points(draw, extreme, count):
    """`count` strictly increasing points: gaps of at least half a unit, on a scale.

    At the extremes the scale runs from near the smallest normal float of the
    dtype to near its largest, so that differences stay finite.
    """
    base = np.arange(count) + draw.uniform((count,), 0, 0.5).astype(np.float64)
    if not extreme:
        return (base - count / 2).astype(draw.dtype)
    info = np.finfo(draw.dtype)
    (exponent,) = draw.uniform((1,), float(np.log10(info.tiny)) + 2, float(np.log10(info.max)) - 3)
    (offset,) = draw.uniform((1,), -count, 0)
    return ((base + float(offset)) * 10.0 ** float(exponent)).astype(draw.dtype)


def _inside(draw, points, batch, extreme):
    """Values in [points[0], points[-1]]; at the extremes often on a point."""
    low, high = float(points[0]), float(points[-1])
    values = draw.uniform(batch, 0, 1).astype(np.float64)
    values = np.minimum(low + (high - low) * values, high)
    if extreme:
        on_point = points[draw.integers(batch, points.size)].astype(np.float64)
        values = np.where(draw.unit(batch) > 0.5, on_point, values)
    return values.astype(draw.dtype)


def _encode(draw, batch, extreme, count=7):
    points = _points(draw, extreme, count)
    return (_inside(draw, points, batch, extreme), points), {}


def _hl_gauss(draw, batch, extreme, normalize=True):
    (values, edges), _ = _encode(draw, batch, extreme)
    span = float(edges[-1]) - float(edges[0])
    if not extreme:
        # From a thousandth of a bin to a hundred bins.
        (ratio,) = draw.uniform((1,), -3, 2)
        return (values, edges), {"sigma": span / (edges.size - 1) * 10.0 ** float(ratio), "normalize": normalize}
    # From 10^-20 of the support, where the tails underflow, to 10^3 supports,
    # but no narrower than 10^-300, a normal float64.
    (ratio,) = draw.uniform((1,), min(max(-20.0, -300.0 - math.log10(span)), 0.0), 3)
    return (values, edges), {"sigma": span * 10.0 ** float(ratio), "normalize": normalize}


def _encode_formula(f):
    def formula(symbols, args, kwargs):
        (y,), points = symbols, [sp.Rational(float(v)) for v in args[1]]
        options = {"sigma": sp.Rational(kwargs["sigma"]), "normalize": kwargs["normalize"]} if kwargs else {}
        return f(y, points, **options)
    return formula


def _hl_gauss_scale(args, kwargs):
    """m_k + [T_k (1 + u_k^2) + T_k+1 (1 + u_k+1^2)] / Z, with u = (e - y) / sigma and T its tail.

    A mass is a difference of the tails T = erfc(|u|/sqrt 2)/2 beyond its
    two edges, and a relative rounding of u changes T by u^2 times as much.
    """
    values, edges = (np.asarray(a, dtype=np.float64) for a in args)
    with np.errstate(over="ignore", under="ignore"):
        u = (edges - values[..., np.newaxis]) / kwargs["sigma"]
        tails = np.vectorize(math.erfc)(np.abs(u) / np.sqrt(2)) / 2 * (1 + np.minimum(u**2, 1e300))
    masses, captured = gaussian_masses(values, edges, kwargs["sigma"])
    captured = captured[..., np.newaxis] if kwargs["normalize"] else 1
    with np.errstate(under="ignore"):
        return (masses + tails[..., :-1] + tails[..., 1:]) / captured


def _distributions_on_points(draw, batch, extreme):
    points = _points(draw, extreme, 6)
    return (draw.distributions((*batch, 6)), points), {}


def _expected_value_scale(args, kwargs):
    """sum_k q_k |s_k|: the terms have both signs."""
    probs, support = (np.asarray(a, dtype=np.float64) for a in args)
    with np.errstate(under="ignore"):
        return np.sum(probs * np.abs(support), axis=-1)


CASES += [
    Case("binned_targets", "encode", _encode, _encode_formula(symbolic.binned_targets), ulps=0, batched=(0,)),
    Case("two_hot_targets", "encode", _encode, _encode_formula(symbolic.two_hot_targets), ulps=2, batched=(0,)),
    Case("hl_gauss_targets", "encode", _hl_gauss, _encode_formula(symbolic.hl_gauss_targets), ulps=3,
         scale=_hl_gauss_scale, batched=(0,)),
    Case("hl_gauss_targets", "encode", lambda d, b, e: _hl_gauss(d, b, e, normalize=False), variant="unnormalised",
         formula=_encode_formula(symbolic.hl_gauss_targets), ulps=3, scale=_hl_gauss_scale, batched=(0,)),
    Case("expected_value", "rows", _distributions_on_points,
         lambda s, a, k: symbolic.expected_value(s, [sp.Rational(float(v)) for v in a[1]]), ulps=2,
         scale=_expected_value_scale, batched=(0,)),
    Case("symlog", "map", _map, lambda s, a, k: symbolic.symlog(s[0]), ulps=2, refuses_plus_inf=False),
    Case("symexp", "map", _map, lambda s, a, k: symbolic.symexp(s[0]), ulps=2, refuses_plus_inf=False),
]


# Sequences, and the units of language models ------------------------------------


def counting_tokens(args, kwargs):
    """Where a token counts, shape (batch, time), for logits with the class axis last."""
    batch, time = np.shape(args[0])[:2]
    if kwargs.get("mask") is not None:
        return np.asarray(kwargs["mask"], dtype=bool)
    if kwargs.get("lengths") is not None:
        return np.arange(time) < np.asarray(kwargs["lengths"])[:, np.newaxis]
    return np.ones((batch, time), dtype=bool)


def _sequences(padding):
    """Logits of shape (batch, time, 5): `batch` is (batch, time), or (batch,) with 3 time steps.

    Every sequence keeps at least one token, so that ``"sequence_mean"`` is
    defined; the labels where a token does not count are out of range
    (-100 for `lengths`, 5 to 9 for `mask`), since they must never be read.
    """
    def make(draw, batch, extreme):
        shape = tuple(batch) if len(batch) == 2 else (*batch, 3)
        logits = _logits(draw, (*shape, 5), extreme)
        labels = draw.integers(shape, 5)
        if padding == "lengths":
            lengths = draw.integers(shape[:1], shape[1]) + 1
            counts = counting_tokens((logits,), {"lengths": lengths})
            return (logits, np.where(counts, labels, -100)), {"lengths": lengths}
        mask = draw.integers(shape, 2).astype(bool)
        mask[:, 0] = True
        return (logits, np.where(mask, labels, labels + 5)), {"mask": mask}
    return make


def _sequence_formula(symbols, args, kwargs):
    """The token losses of one sequence, args of shape (1, T, K) and (1, T)."""
    _, time, k = np.shape(args[0])
    z = [[list(symbols[t * k:(t + 1) * k]) for t in range(time)]]
    options = {key: np.asarray(value).tolist() for key, value in kwargs.items()}
    labels = np.asarray(args[1]).tolist()
    return symbolic.sequence_softmax_cross_entropy(z, labels, **options, reduction="none")[0]


def _sequence_grad_scale(args, kwargs):
    """softmax + onehot where a token counts, 0 elsewhere: a gradient entry is their difference."""
    logits, labels = args
    counts = counting_tokens(args, kwargs)
    onehot = np.eye(logits.shape[-1])[np.where(counts, labels, 0)]
    return np.where(counts[..., np.newaxis], xentref.softmax(logits) + onehot, 0)


def _micro_batches(draw, batch, extreme):
    """Summed losses of micro-batches with 0 to 49 tokens, the first with at least one."""
    shape = (int(np.prod(batch)),)
    counts = draw.integers(shape, 50)
    if shape[0]:
        counts[0] += counts[0] == 0
    values = np.abs(draw.real(shape)) if extreme else draw.uniform(shape, 0, 3) * counts.astype(draw.dtype)
    return (np.where(counts > 0, values, 0).astype(draw.dtype), counts), {}


def _mean_losses(draw, shape, extreme):
    """Mean token losses in nats, at least 0."""
    return np.abs(draw.real(shape)) if extreme else draw.uniform(shape, 0, 8)


def _perplexity(base=None):
    def make(draw, batch, extreme):
        return (_mean_losses(draw, (*batch, 3), extreme),), {} if base is None else {"base": base}
    return make


def _per_unit(draw, batch, extreme):
    shape = (*batch, 3)
    high = 10**6 if extreme else 1000
    return (_mean_losses(draw, shape, extreme), draw.integers(shape, high) + 1, draw.integers(shape, high) + 1), {}


def _per_unit_formula(f):
    def formula(symbols, args, kwargs):
        (loss,), (n_tokens,), (n_units,) = symbols, np.ravel(args[1]), np.ravel(args[2])
        return f(loss, int(n_tokens), int(n_units))
    return formula


_SEQUENCES = np.zeros((2, 3, 4))
_SEQUENCE_REDUCTIONS = ("mean", "sequence_mean", "sum", "none")
_BAD["sequences"] = [
    ((_SEQUENCES, [[0, 1, 4], [0, 0, 0]]), {}),  # a label out of range where every token counts
    ((_SEQUENCES, [[0, 1, 4], [0, 0, 0]]), {"lengths": [3, 1]}),  # one beyond the length still counts
    ((_SEQUENCES, np.zeros((2, 3), int)), {"lengths": [1, 4]}),
    ((_SEQUENCES, np.zeros((2, 3), int)), {"lengths": [-1, 2]}),
    ((_SEQUENCES, np.zeros((2, 3), int)), {"lengths": [1, 2], "mask": np.ones((2, 3), bool)}),
    ((_SEQUENCES, np.zeros((2, 3), int)), {"mask": np.ones((2, 2), bool)}),
    ((_SEQUENCES, np.zeros((2, 3), int)), {"mask": np.ones((2, 3))}),
    ((_SEQUENCES, np.zeros((2, 3), int)), {"lengths": [1.0, 2.0]}),
    ((_SEQUENCES[0], np.zeros(3, int)), {}),
    ((_SEQUENCES, np.zeros((2, 3), int)), {"lengths": [0, 0]}),  # the mean of no tokens
    ((_SEQUENCES, np.zeros((2, 3), int)), {"lengths": [0, 2], "reduction": "sequence_mean"}),
]

CASES += [
    Case("sequence_softmax_cross_entropy", "sequences", _sequences("lengths"), _sequence_formula, variant="lengths",
         ulps=2, grad_ulps=4, grad_scale=_sequence_grad_scale, bad=_BAD["sequences"],
         reductions=_SEQUENCE_REDUCTIONS),
    Case("sequence_softmax_cross_entropy", "sequences", _sequences("mask"), _sequence_formula, variant="mask",
         ulps=2, grad_ulps=4, grad_scale=_sequence_grad_scale, reductions=_SEQUENCE_REDUCTIONS),
    Case("micro_batch_token_mean", "dataset", _micro_batches,
         lambda s, a, k: symbolic.micro_batch_token_mean(s, [int(c) for c in np.ravel(a[1])]), ulps=2,
         refuses_plus_inf=False),
    Case("perplexity", "map", _perplexity(), lambda s, a, k: symbolic.perplexity(s[0]), ulps=1,
         refuses_plus_inf=False),
    Case("perplexity", "map", _perplexity(base=2), lambda s, a, k: symbolic.perplexity(s[0], base=2),
         variant="bits", ulps=1, refuses_plus_inf=False),
    Case("perplexity", "map", _perplexity(base=10), lambda s, a, k: symbolic.perplexity(s[0], base=10),
         variant="base 10", ulps=2, refuses_plus_inf=False),
    Case("bits_per_token", "map", _perplexity(), lambda s, a, k: symbolic.bits_per_token(s[0]), ulps=1,
         refuses_plus_inf=False),
    Case("bits_per_byte", "map", _per_unit, _per_unit_formula(symbolic.bits_per_byte), ulps=2,
         refuses_plus_inf=False),
    Case("bits_per_character", "map", _per_unit, _per_unit_formula(symbolic.bits_per_character), ulps=2,
         refuses_plus_inf=False),
]


# Alignments: a loss per sequence of frames, then ``reduction`` -----------------------


def _ctc(draw, batch, extreme, frames=5, classes=4, width=2, blank=0):
    """Log-softmax frames, padded targets without the blank, and input lengths that fit them.

    A target of U labels with r repeated neighbours needs U + r frames; the
    input lengths are drawn at least that long. At the extremes the
    log-probabilities span the float range and include -inf, so some
    sequences have no alignment of positive probability (loss +inf).
    """
    log_probs = xentref.log_softmax(_logits(draw, (*batch, frames, classes), extreme))
    labels = draw.integers((*batch, width), classes - 1)
    labels = labels + (labels >= blank)
    target_lengths = draw.integers(batch, width + 1)
    within = np.arange(1, width) < target_lengths[..., None]
    needed = target_lengths + np.sum(within & (labels[..., 1:] == labels[..., :-1]), axis=-1)
    input_lengths = np.maximum(needed, draw.integers(batch, frames + 1))
    return (log_probs, labels, input_lengths, target_lengths), {"blank": blank}


def _ctc_formula(symbols, args, kwargs):
    log_probs, targets, input_length, target_length = args
    classes = np.shape(log_probs)[-1]
    rows = [symbols[t * classes:(t + 1) * classes] for t in range(int(input_length))]
    target = [int(k) for k in np.ravel(targets)[:int(target_length)]]
    return symbolic.ctc_loss(rows, target, blank=kwargs["blank"])


def _ctc_occupancies(args, kwargs):
    """gamma_t(k), each frame's expected visits to each class under the alignments' posterior."""
    return -xentref.grad.ctc_loss(*args, **kwargs, reduction="none")


def _ctc_scale(args, kwargs):
    """E[-log p(pi)] over the alignments' posterior: the loss plus that posterior's entropy.

    The loss is -log of a sum of path probabilities; its terms are the
    paths' log-probabilities, and a relative change of the inputs by u moves
    it by u times this much.
    """
    occupancies = _ctc_occupancies(args, kwargs)
    with np.errstate(invalid="ignore"):
        # 0 * -inf where no alignment visits a -inf log-probability.
        terms = np.where(occupancies > 0, -occupancies * args[0], 0)
    return np.sum(terms, axis=(-2, -1))


def _ctc_grad_scale(args, kwargs):
    """gamma (1 + the loss's scale + |log gamma|).

    gamma is exp(log alpha + log beta - log P), a difference of sums of the
    paths' log-probabilities: it is known to about eps times their size,
    the loss's scale for the paths that carry the posterior and |log gamma|
    more for the improbable ones that give a tiny gamma.
    """
    gamma = _ctc_occupancies(args, kwargs)
    with np.errstate(divide="ignore"):
        # log 0 = -inf is masked: a zero occupancy needs no scale.
        size = np.where(gamma > 0, -np.log(np.where(gamma > 0, gamma, 1)), 0)
    return gamma * (1 + _ctc_scale(args, kwargs)[..., None, None] + size)


_BAD["ctc_loss"] = [
    ((np.log(np.full((2, 3, 2), 0.5)), [[1, 1], [0, 1]], [3, 3], [2, 1]), {}),  # the blank in a target
    ((np.log(np.full((2, 3, 2), 0.5)), [[1, 2], [1, 1]], [3, 3], [2, 1]), {}),  # a label out of range
    ((np.log(np.full((1, 3, 2), 0.5)), [[1]], [4], [1]), {}),  # more frames than log_probs has
    ((np.log(np.full((1, 3, 2), 0.5)), [[1]], [-1], [1]), {}),  # a negative length
    ((np.log(np.full((1, 3, 2), 0.5)), [[1]], [3], [1]), {"blank": 2}),
]

CASES += [
    Case("ctc_loss", "alignments", _ctc, _ctc_formula, ulps=2, scale=_ctc_scale, grad_ulps=2,
         grad_scale=_ctc_grad_scale, bad=_BAD["ctc_loss"]),
]
