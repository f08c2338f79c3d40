r"""Softmax losses whose coefficients depend on the prediction: focal and Poly-1, in the blocked kernel.

Both losses are sums over classes of :math:`t_k` times a function of
:math:`p_k = \operatorname{softmax}(z)_k`, built from three per-class
quantities that the kernel of :mod:`xentref._shift` forms from the exact
gaps :math:`g_k = h_k + l_k` and the row's :math:`s`, :math:`r = 1/(1 + s)`
and :math:`L = \operatorname{log1p}(s)`, each as a pair of floats:

- :math:`p_k = e^{g_k} r`;
- :math:`1 - p_k`, never by subtracting a probability from 1: at the largest
  logit it is :math:`s r` and elsewhere :math:`(1 + s - e^{g_k}) r`, where
  :math:`p_k \le 1/2` (since :math:`s \ge e^{g_k}`), so nothing cancels;
- :math:`-\log p_k = L - g_k`, a sum of non-negative terms.

Their gradients have the cross-entropy's form :math:`p_j G - c_j` with
coefficients :math:`c_k \ge 0` of their own and :math:`G = \sum_k c_k`,
formed as the kernel forms the gradient
of weighted targets (:mod:`xentref._softmax_options`).

Error bounds for float64
------------------------
Both losses (but at :math:`\gamma = 0` and :math:`\epsilon = 0`, where
they are the cross-entropy bit for bit, with its bounds) form their
exponentials, :math:`L` and the powers accurately
(:mod:`xentref._shift`, "Accurate exponentials"; :func:`power`), because
their bounds multiply those errors: the power :math:`(1 - p_k)^\gamma` has
condition number :math:`\gamma`, and with NumPy's ``exp`` (0.8 ulps) the
focal loss could only be bounded by :math:`1.6 \gamma + 5.3` ulps. With the
exponentials within :math:`u/32` (:math:`2^{-58}`):

- :math:`s` and :math:`r` are within :math:`u/32` of themselves, and
  :math:`L` within :math:`3u/32` (:math:`u/16` from the logarithm);
- :math:`p_k = e^{g_k} r` is within :math:`u/16`;
- :math:`1 - p_k` is within :math:`u/16`: with :math:`e_k` perturbed by
  relative errors :math:`|\delta_k| \le u/32`, the logarithm of
  :math:`s r` moves by :math:`\sum_k e_k \delta_k / (s (1 + s)) \le u/32`,
  and that of :math:`(1 + s - e_y) r` by at most :math:`2 p_y u/32`. This
  is what forming it directly buys: from a rounded :math:`p_y` the error of
  :math:`1 - p_y` would be amplified by :math:`p_y / (1 - p_y)`, without
  bound near :math:`p_y = 1`;
- :math:`-\log p_k = L - g_k`, a sum of terms of one sign, is within
  :math:`3u/32`;
- :math:`(1 - p_k)^\gamma` is within :math:`\pi = \gamma u/16` (the
  condition number times the error of :math:`1 - p_k`) for an integral
  :math:`\gamma`, whose power is a product of pairs, and within
  :math:`\pi = (5\gamma + 2) u/64` otherwise
  (:func:`xentref._error_free.power` adds :math:`(\gamma + 2) u/64`).

A result within :math:`c` ulps of the exact value is within
:math:`\lfloor c + 1/2 \rfloor` ulps of the correctly rounded one, which
is what the tests measure. Then, in ulps, with :math:`\pi` in units of
:math:`u`:

- **focal loss, labels**: :math:`\alpha_y (1 - p_y)^\gamma (-\log p_y)`, a
  product of pairs rounded once: :math:`\pi + 3/32 + 1/2` of the exact
  value, so **1 ulp** for :math:`\gamma \le 11` and 4 for
  :math:`\gamma \le 49`;
- **focal loss, probability targets**: :math:`C L + \sum_k c_k (-g_k)`
  with :math:`c_k = \alpha_k t_k (1 - p_k)^\gamma` (pairs within
  :math:`\pi`), each :math:`c_k g_k` rounded once, every term
  non-negative, rounded once: :math:`\pi + 3/2`, so **2 ulps** for
  integral :math:`\gamma \le 15` and other :math:`\gamma \le 12`, 4 for
  :math:`\gamma \le 37`;
- **Poly-1 loss**, :math:`\sum_k t_k (-\log p_k) + \epsilon \sum_k t_k
  (1 - p_k)`: for labels :math:`3/32 + 1/2` (**1 ulp**), for probability
  targets :math:`3/2` (**2 ulps**), for :math:`\epsilon \ge 0`; for
  :math:`\epsilon < 0` the two sums cancel (to :math:`(1 - p)^2/2` at
  :math:`\epsilon = -1`) and the same bounds hold in ulps of
  :math:`\sum_k t_k (-\log p_k) + |\epsilon| \sum_k t_k (1 - p_k)`.

A gradient entry :math:`p_j G - c_j` is formed as the weighted targets'
(:mod:`xentref._softmax_options`): :math:`e^{g_j}` (:math:`1/32`) times
the row's pair :math:`r G / N` (:math:`1/32` and the error
:math:`\delta_c` of the coefficients), rounded twice (1), minus
:math:`c_j / N` rounded (1/2), the difference rounded (1/2); the entries
at the label and at the largest logit are pairs rounded once. The
coefficients:

- Poly-1: :math:`c_k = t_k (1 + \epsilon p_k)` for :math:`\epsilon \ge 0`
  and :math:`t_k ((1 + \epsilon) + |\epsilon| (1 - p_k))` below, terms of
  one sign: :math:`\delta_c \le 1/16`.
- focal: :math:`c_k = \alpha_k t_k (1 - p_k)^\gamma [1 + \gamma f_k]` with
  :math:`f_k = p_k (-\log p_k) / (1 - p_k) \in [0, 1]` formed from the
  three pairs (:math:`1/16 + 3/32 + 1/16`):
  :math:`\delta_c \le \pi + 7/32`.

For labels an entry is within :math:`\delta_c + 1/16 + 1` of itself:
**1 ulp** for Poly-1 and for focal with :math:`\pi < 7/32` (integral
:math:`\gamma \le 3`), 4 ulps for :math:`\gamma \le 40`. For probability
targets it is within :math:`\delta_c + 1/16 + 3/2` of :math:`p_j G + c_j`,
then half an ulp more from the correctly rounded value: **2.13 ulps** for
Poly-1 and :math:`\pi + 2.28` for focal (2.41 at :math:`\gamma = 2`; 4 for
integral :math:`\gamma \le 27` and other :math:`\gamma \le 21`). The scale
:math:`p_j G + c_j` is that of the terms, since the entry itself may cancel
to nothing, as the cross-entropy's does.

Input narrower than float64 is computed in float64 (gaps rounded, as in
:mod:`xentref._shift`, within :math:`2^{-40}` of their effect) and rounded
once: within 1 ulp of the same scales.
"""

import numpy as np

from xentref import _blocks as blocks
from xentref import _error_free as ef
from xentref._half import round_to
from xentref._shift import TINY, _unscaled, columns_of, exp_at, gap_pair, normalise, shifted_chunks
from xentref._softmax_options import (
    _coefficient_distance,
    _rounded,
    as_pair,
    coefficient_sum,
    negative,
    special_values,
    weighted_loss,
)
from xentref._softmax_rows import Problem, write_gradient

ZERO = (0.0, 0.0)
ONE = (1.0, 0.0)


def _where(condition, a, b):
    return np.where(condition, a[0], b[0]), np.where(condition, a[1], b[1])


class Parts:
    r""":math:`p_k`, :math:`1 - p_k` and :math:`-\log p_k` as pairs, at gaps `hi` + `lo` with exponentials `e` (a pair).

    `top` (bool, the shape of the gaps) marks the row's first maximum; the
    row's pairs `rest` (:math:`s`), `reciprocal` (:math:`r`) and `log`
    (:math:`L`) broadcast against the gaps. `accurate` asks for accurate
    powers of :math:`1 - p_k` (:func:`power`).
    """

    def __init__(self, hi, lo, e, top, rest, reciprocal, log, accurate=False):
        self.accurate = accurate
        infinite = np.isinf(hi)
        lo = np.zeros_like(hi) if lo is None else np.where(infinite, 0.0, lo)
        self.probability = ef.multiply(e, reciprocal)
        # 1 - p_k without cancellation: s r at the maximum, (1 + s - e_k) r elsewhere.
        others = ef.multiply(ef.add(ef.add(ONE, rest), negative(e)), reciprocal)
        self.wrong = _where(top, ef.multiply(rest, reciprocal), others)
        with np.errstate(invalid="ignore", over="ignore"):
            # An infinite gap (a -inf logit, or one beyond the float range)
            # makes NaN inside the pair: its surprisal is +inf.
            surprisal = ef.add(log, (-hi, -lo))
        self.surprisal = np.where(infinite, np.inf, surprisal[0]), np.where(infinite, 0.0, surprisal[1])


def row_pairs(normaliser, column=False):
    """The normaliser's :math:`s`, :math:`r` and :math:`L` as pairs, per row or as columns."""
    pairs = as_pair(normaliser.rest), as_pair(normaliser.reciprocal()), as_pair(normaliser.log())
    if not column:
        return pairs
    return tuple((high[:, None], low[:, None]) for high, low in pairs)


def chunk_parts(part, normaliser, first, last):
    """The :class:`Parts` of a chunk of classes first:last (`part` from :func:`xentref._shift.shifted_chunks`)."""
    top = np.arange(first, last)[None, :] == normaliser.top[:, None]
    with np.errstate(under="ignore"):
        # Corrections of exponentials below the normal range vanish.
        e = part.exps, part.exps * (0.0 if part.exp_lo is None else np.where(np.isinf(part.hi), 0.0, part.exp_lo))
    return Parts(part.hi, part.lo, e, top, *row_pairs(normaliser, column=True), accurate=normaliser.accurate)


def label_parts(picked, labels, normaliser):
    """The :class:`Parts` at each row's label, from the logits `picked` there (float64)."""
    with np.errstate(invalid="ignore", over="ignore"):
        # A gap beyond the float range or at -inf: its low part is repaired in Parts.
        hi, lo = gap_pair(picked, normaliser.shift[:, 0])
    e = exp_at(picked, normaliser.shift, normaliser.precise, normaliser.accurate)
    parts = Parts(hi, lo if normaliser.precise else None, e, labels == normaliser.top, *row_pairs(normaliser),
                  accurate=normaliser.accurate)
    # A finite logit whose gap lies beyond the float range has a surprisal
    # beyond it too, which a weight or factor below 1 may bring back: those
    # rows also get half their surprisal, L/2 + (a/2 - z/2), from the halves.
    far = np.isinf(hi) & np.isfinite(picked)
    parts.far = far if far.any() else None
    if parts.far is not None:
        with np.errstate(under="ignore", invalid="ignore", over="ignore"):
            # Only the far rows are used: others may halve a subnormal or
            # hold a -inf logit.
            half_hi, half_lo = gap_pair(picked * 0.5, normaliser.shift[:, 0] * 0.5)
        log = as_pair(normaliser.log())
        parts.half_surprisal = ef.add((log[0] * 0.5, log[1] * 0.5), (-half_hi, -half_lo))
    return parts


def power(pair, gamma, accurate=False):
    r"""``pair ** gamma`` as a pair, for a pair in [0, 1]; anything to the power 0 is 1, and 0 to a positive power 0.

    With `accurate` (float64 input), an integral :math:`\gamma` multiplies
    pairs (repeated squaring: relative error of order :math:`\gamma u^2`)
    and any other :math:`\gamma` is :func:`xentref._error_free.power`
    (within :math:`(\gamma + 2) 2^{-59}`). Otherwise it is ``power`` of the
    high part times the correction
    :math:`\operatorname{expm1}(\gamma \operatorname{log1p}(l/h))`: within
    NumPy's ``power``.
    """
    high, low = pair
    if gamma == 0:
        return np.ones_like(high), np.zeros_like(high)
    if accurate and float(gamma).is_integer() and gamma < 2**20:
        return _integer_power(pair, int(gamma))
    if accurate:
        return ef.power(pair, gamma)
    with np.errstate(under="ignore", divide="ignore", invalid="ignore"):
        # A power below the normal range rounds toward 0; a zero base has no correction.
        value = np.power(high, gamma)
        relative = np.divide(low, high, out=np.zeros_like(low), where=high > 0)
        return value, value * np.expm1(gamma * np.log1p(relative))


def _integer_power(pair, n):
    """``pair ** n`` for a positive integer `n`, by repeated squaring of pairs."""
    result = None
    with np.errstate(under="ignore"):
        # Powers below the normal range round toward 0.
        while True:
            if n & 1:
                result = pair if result is None else ef.multiply(result, pair)
            n >>= 1
            if not n:
                return result
            pair = ef.multiply(pair, pair)


def times(pair, weight):
    """``pair * weight`` for non-negative float weights of any size: 0 where the weight is 0, even against inf."""
    if weight is None:
        return pair
    weight = np.broadcast_to(np.asarray(weight, dtype=np.float64), np.shape(pair[0]))
    with np.errstate(invalid="ignore"):
        # inf * 0 is repaired: a zero weight removes the term.
        product = ef.multiply_wide(pair, (weight, np.zeros_like(weight)))
    return np.where(weight == 0, 0.0, product[0]), np.where(weight == 0, 0.0, product[1])


class CoefficientProblem(Problem):
    """A loss :math:`\\sum_k t_k F(p_k)` whose gradient is :math:`p_j G - c_j`, row block by row block.

    A subclass gives :meth:`label_losses` and :meth:`target_losses` (pairs
    per row) and :meth:`coefficients`, the coefficient per unit target of
    each class of a :class:`Parts` (pairs of its shape); `class_weight`
    (one float64 per class, or None) multiplies them. It sets `accurate`
    to False where its loss is the cross-entropy (gamma or epsilon 0), so
    that it equals :func:`xentref.softmax_cross_entropy` bit for bit.
    """

    class_weight = None
    accurate = True

    def weighted(self, pair, t, first=0, last=None):
        """`pair` times the class weights of classes first:last and the targets `t` (None: labels, at `first`)."""
        if self.class_weight is not None:
            pair = times(pair, self.class_weight[first] if t is None else self.class_weight[first:last])
        return pair if t is None else times(pair, t)

    # Losses ----------------------------------------------------------------------

    def losses(self):
        """Each example's loss in the logits' dtype, batch-shaped; 0 where left out."""
        (losses,) = self._run(self.zeroing(self._losses))
        return blocks.from_rows(round_to(losses, self.logits.dtype), self.logits, self.axis)

    def _losses(self, start, stop):
        z = self.rows[start:stop]
        source = columns_of(z)
        if self.labels is not None:
            labels = self.labels[start:stop]
            normaliser, _, picked = normalise(source, self.n_classes, gather=labels, keep_gaps=False,
                                              accurate=self.accurate)
            return (_rounded(self.label_losses(label_parts(picked, labels, normaliser), labels)),)
        t, total = self._targets(start, stop)
        value = self.target_losses(z, t, total)
        # A loss below 2^-960 may gather the roundings of subnormal products
        # of tiny targets: such rows again with the targets scaled by 2^600
        # (exact; the loss is linear in them), rounded once on the way back.
        tiny = value[0] < TINY
        if tiny.any():
            with np.errstate(under="ignore"):
                scaled = _unscaled(self.target_losses(z[tiny], np.ldexp(t[tiny], 600), None))
            value = tuple(np.where(tiny, 0.0, part) for part in value)
            value[0][tiny], value[1][tiny] = scaled
        return (_rounded(value),)

    # Gradient -------------------------------------------------------------------

    def gradient(self, divisor):
        """The gradient of the summed losses divided by `divisor`, in the layout of the logits."""
        out = np.empty(self.rows.shape, dtype=self.logits.dtype)
        inverse = ef.divide(ONE, (float(divisor), 0.0))
        self._run(lambda start, stop: self._gradient(start, stop, inverse, out), n_results=0)
        return blocks.from_rows(out, self.logits, self.axis)

    def _gradient(self, start, stop, inverse, out):
        z = self.rows[start:stop]
        source = columns_of(z)
        rows = np.arange(len(z))
        if self.labels is not None:
            special = self.labels[start:stop]
            normaliser, shifted, picked = normalise(source, self.n_classes, gather=special, keep_gaps=False,
                                                     accurate=self.accurate)
            at_special = self.weighted(self.coefficients(label_parts(picked, special, normaliser)), None, special)
            c = None
            total = at_special
            at_top = _where(special == normaliser.top, at_special, (np.zeros(len(z)), np.zeros(len(z))))
        else:
            t, _ = self._targets(start, stop)
            normaliser, shifted, _ = normalise(source, self.n_classes, accurate=self.accurate)
            c = (np.zeros(t.shape), np.zeros(t.shape))
            for first, last, part in shifted_chunks(source, self.n_classes, normaliser, shifted):
                chunk = self.weighted(self.coefficients(chunk_parts(part, normaliser, first, last)),
                                      t[:, first:last], first, last)
                c[0][:, first:last], c[1][:, first:last] = chunk
            total = coefficient_sum(c)
            special = np.argmax(c[0], axis=1)
            at_top = (c[0][rows, normaliser.top], c[1][rows, normaliser.top])
            at_special = (c[0][rows, special], c[1][rows, special])
            picked = z[rows, special].astype(np.float64)
        total, at_top, at_special = (ef.multiply_wide(pair, inverse) for pair in (total, at_top, at_special))
        values = special_values(picked, normaliser, total, at_top, special, at_special)
        factor = ef.multiply_wide(as_pair(normaliser.reciprocal()), total)
        rounded = None if c is None else _rounded(ef.multiply_wide(c, inverse))
        block_out = out[start:stop]
        subtracted = None if rounded is None else (lambda first, last: rounded[:, first:last])
        write_gradient(block_out, source, self.n_classes, normaliser, shifted, factor, values, subtracted)
        dropped = self.dropped(start, stop)
        if dropped is not None:
            block_out[dropped] = 0


def weighted_cross_entropy(problem, z, coefficients_of, extra=None):
    r""":math:`C L + \sum_k c_k (-g_k)` per row as a pair, the coefficients from each chunk's :class:`Parts`.

    ``coefficients_of(parts, first, last)`` returns the chunk's coefficients
    (a pair); ``extra(parts, first, last)``, if given, a per-row pair to
    add up over the chunks, returned as well.
    """
    source = columns_of(z)
    normaliser, shifted, _ = normalise(source, problem.n_classes, accurate=problem.accurate)
    zeros = np.zeros(len(z))
    total, distance, added = (zeros, zeros), (zeros, zeros), (zeros, zeros)
    for first, last, part in shifted_chunks(source, problem.n_classes, normaliser, shifted):
        parts = chunk_parts(part, normaliser, first, last)
        c = coefficients_of(parts, first, last)
        if extra is not None:
            added = ef.add(added, extra(parts, first, last))
        total = ef.add(total, coefficient_sum(c))
        with np.errstate(invalid="ignore"):
            # An infinite distance makes NaN in the low part: the loss is +inf.
            distance = ef.add(distance, _coefficient_distance(part, c, 0, last - first, z[:, first:last]))
    return weighted_loss(total, distance, as_pair(normaliser.log())), added
