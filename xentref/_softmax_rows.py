r"""Softmax cross-entropy and its gradient, row block by row block.

:class:`Problem` holds validated logits (as rows, class axis last) and
labels or probability targets, and computes the per-example losses and the
gradient with :mod:`xentref._blocks`, so that no temporary has the size of
the logits. The formulas, and the error of each, are those of
:mod:`xentref._shift`:

- loss at a label :math:`y`: :math:`L - g_y`, with
  :math:`L = \operatorname{log1p}(s)` and :math:`g_y = z_y - a \le 0`, a sum
  of non-negative terms rounded once;
- loss for probability targets :math:`t`: :math:`T L + \sum_k t_k (-g_k)`
  with :math:`T = \sum_k t_k`, every term non-negative, the sums formed as
  pairs (extraction) and the result rounded once;
- gradient :math:`(p_k T - t_k)/N` with :math:`p_k = e^{g_k} r`,
  :math:`r = 1/(1 + s)`: elementwise for most classes, and as a pair
  rounded once at the largest logit, where it is
  :math:`((T - t_m) - t_m s) r / N` (no cancellation of :math:`p_m T` with
  :math:`t_m`), and at the label (or the largest target), where
  :math:`p_y \le 1/2` keeps the difference well conditioned.

The label path and the one-hot target path perform the same operations on
the same values, so integer labels and the equivalent one-hot targets give
identical losses and gradients.
"""

import numpy as np

from xentref import _blocks as blocks
from xentref import _check as check
from xentref import _error_free as ef
from xentref._blocks import scratch
from xentref._half import round_to, working
from xentref._shift import (
    columns_of,
    exp_at,
    finite_lows,
    gap_pair,
    is_precise,
    normalise,
    scaled_exps,
    shifted_chunks,
)


class Problem:
    """Softmax cross-entropy of rows of logits against labels or probability targets.

    Parameters
    ----------
    logits : ndarray
        Logits whose dtype and class axis are checked, not their entries.
    axis : int
        The class axis, as a non-negative index.
    probabilities : ndarray or None
        Probability targets of the shape of `logits`, any float dtype,
        entries not yet checked.
    labels : ndarray or None
        Checked labels, with the class axis kept at size 1 (any class, such
        as 0, at the examples left out).
    keep : ndarray of bool or None
        The examples selected (the batch shape); None selects all. The
        others have loss 0 and gradient 0, and their targets are not read.
    """

    # Exponentials accurate to 2^-58 for float64 (xentref._shift), where a
    # subclass's bounds need them.
    accurate = False

    def __init__(self, logits, axis, probabilities, labels, keep=None):
        self.logits, self.axis = logits, axis
        self.rows = blocks.as_rows(logits, axis)
        self.n_rows, self.n_classes = self.rows.shape
        self.probabilities = probabilities
        self.targets = None if probabilities is None else blocks.as_rows(probabilities, axis)
        self.labels = None if labels is None else np.squeeze(labels, axis).reshape(-1)
        self.keep = None if keep is None else np.asarray(keep, dtype=bool).reshape(-1)
        self.n_kept = self.n_rows if keep is None else int(np.count_nonzero(self.keep))
        self.precise = is_precise(logits.dtype)
        self.tolerance = check.sum_tolerance(logits.dtype)

    def check(self):
        """Raise the error that names the first bad entry of the logits, then of the selected targets."""
        check.logits(self.logits, self.axis)
        if self.probabilities is not None:
            probabilities = check.in_dtype(self.probabilities, self.logits.dtype)
            if self.keep is not None:
                # Left-out examples' targets are not read: a one-hot stands in.
                moved = np.moveaxis(probabilities, self.axis, -1).copy()
                moved.reshape(-1, self.n_classes)[~self.keep] = np.eye(1, self.n_classes, dtype=moved.dtype)
                probabilities = np.moveaxis(moved, -1, self.axis)
            check.distribution(probabilities, self.axis, "targets", half=True)

    def dropped(self, start, stop):
        """The rows start:stop left out (bool), or None when every one is selected."""
        if self.keep is None:
            return None
        dropped = ~self.keep[start:stop]
        return dropped if dropped.any() else None

    def _run(self, block, n_results=1):
        return blocks.run(block, self.n_rows, self.n_classes, n_results, check=self.check,
                          budget=blocks.budget_for(self.logits.dtype))

    def _targets(self, start, stop):
        """The targets of rows start:stop in the logits' dtype, as float64, with their sum T (a pair).

        A left-out row's targets are replaced by a one-hot at class 0, its
        loss and gradient by 0 later. Raises Refused unless every selected
        row is a distribution within the tolerance.
        """
        t = check.in_dtype(self.targets[start:stop], self.logits.dtype)
        dropped = self.dropped(start, stop)
        if dropped is not None:
            t = np.array(t)
            t[dropped] = np.eye(1, self.n_classes, dtype=t.dtype)
        # The test of check.distribution, on the same sums: NaN and inf fail it.
        if t.shape[1] and ((np.min(t, axis=1) < 0) | (np.max(t, axis=1) > 1)).any():
            raise blocks.Refused
        if not (np.abs(check.probability_sums(t, 1) - 1) <= self.tolerance).all():
            raise blocks.Refused
        t = t.astype(np.float64)
        if not self.precise:
            total = np.sum(t, axis=1)
            return t, (total, np.zeros_like(total))
        tau, rests = ef.sum_nonnegative(t, scratch("target rests", t.shape))
        return t, ef.two_sum(tau, np.sum(rests, axis=1))

    def _labels(self, start, stop):
        """Labels of rows start:stop with the target arrays of the equivalent one-hot rows."""
        labels = self.labels[start:stop]
        ones = np.ones(len(labels))
        return labels, (ones, np.zeros(len(labels)))

    # Losses ----------------------------------------------------------------------

    def losses(self):
        """The loss of each example, shape of the batch, in the logits' dtype; 0 where left out."""
        block = self._label_losses if self.labels is not None else self._target_losses
        (losses,) = self._run(self.zeroing(block))
        return blocks.from_rows(round_to(losses, self.logits.dtype), self.logits, self.axis)

    def zeroing(self, block):
        """`block`, with its per-row results set to 0 at the rows left out."""
        if self.keep is None:
            return block

        def zeroed(start, stop):
            results = block(start, stop)
            dropped = self.dropped(start, stop)
            if dropped is None:
                return results
            return tuple(np.where(dropped, 0.0, result) for result in results)

        return zeroed

    def _first_pass(self, start, stop, keep_gaps):
        """The rows start:stop, as logits and their normaliser: the pass the loss and the gradient share.

        Returns ``(z, source, normaliser, shifted)`` (see :func:`normalise`).
        """
        z = self.rows[start:stop]
        source = columns_of(z)
        normaliser, shifted, _ = normalise(source, self.n_classes, keep_gaps=keep_gaps, accurate=self.accurate)
        return z, source, normaliser, shifted

    def _label_losses(self, start, stop, first=None):
        z, _, normaliser, _ = first or self._first_pass(start, stop, keep_gaps=False)
        picked = z[np.arange(len(z)), self.labels[start:stop]].astype(np.float64)
        return (label_losses(normaliser, picked),)

    def _target_losses(self, start, stop, first=None, targets=None):
        t, total = targets or self._targets(start, stop)
        z, source, normaliser, shifted = first or self._first_pass(start, stop, keep_gaps=True)
        distance = (np.zeros(len(z)), np.zeros(len(z)))
        for first_class, last, part in shifted_chunks(source, self.n_classes, normaliser, shifted):
            with np.errstate(invalid="ignore"):
                # An infinite distance makes NaN in the low part; _loss gives +inf.
                distance = ef.add(distance, _weighted_distance(part, t[:, first_class:last],
                                                               z[:, first_class:last]))
        if not self.precise:
            return (total[0] * normaliser.log()[0] + distance[0] + 0.0,)
        return (_loss(ef.multiply(total, normaliser.log()), distance, self.precise),)

    # Gradient -------------------------------------------------------------------

    def gradient(self, divisor):
        """The gradient of the summed losses divided by `divisor` (a number, or one per row), in the logits' layout."""
        out = np.empty(self.rows.shape, dtype=self.logits.dtype)
        self._run(lambda start, stop: self._gradient(start, stop, divisor, out), n_results=0)
        return blocks.from_rows(out, self.logits, self.axis)

    def losses_and_gradient(self, divisor):
        """:meth:`losses` and :meth:`gradient` in one pass over the logits, equal to them bit for bit."""
        out = np.empty(self.rows.shape, dtype=self.logits.dtype)
        (losses,) = self._run(self.zeroing(lambda start, stop: self._both(start, stop, divisor, out)))
        losses = blocks.from_rows(round_to(losses, self.logits.dtype), self.logits, self.axis)
        return losses, blocks.from_rows(out, self.logits, self.axis)

    def _both(self, start, stop, divisor, out):
        """The losses of rows start:stop, and their gradient written to `out`, from one first pass."""
        if self.labels is not None:
            first = self._first_pass(start, stop, keep_gaps=False)
            losses = self._label_losses(start, stop, first)
            self._gradient(start, stop, divisor, out, first)
            return losses
        targets = self._targets(start, stop)
        first = self._first_pass(start, stop, keep_gaps=True)
        losses = self._target_losses(start, stop, first, targets)
        # Narrow input's gradient alone takes a faster first pass without
        # the gaps, whose sums round differently in float64: repeat it.
        self._gradient(start, stop, divisor, out, first if self.precise else None, targets)
        return losses

    def _gradient(self, start, stop, divisor, out, first=None, targets=None):
        if np.ndim(divisor):
            # One divisor per row.
            divisor = divisor[start:stop]
        if self.labels is not None:
            t = None
            special, total = self._labels(start, stop)
        else:
            t, total = targets or self._targets(start, stop)
            special = np.argmax(t, axis=1)
        z, source, normaliser, shifted = first or self._first_pass(start, stop, keep_gaps=False)
        rows = np.arange(len(z))
        top = normaliser.top
        at_top = (special == top).astype(np.float64) if t is None else t[rows, top]
        at_special = np.ones(len(z)) if t is None else t[rows, special]
        picked = z[rows, special].astype(np.float64)
        values = special_values(picked, normaliser, total, at_top, special, at_special, divisor)
        factor = gradient_factor(normaliser, total, divisor)
        block_out = out[start:stop]
        subtracted = None if t is None else (lambda first, last: t[:, first:last] / _column(divisor))
        write_gradient(block_out, source, self.n_classes, normaliser, shifted, factor, values, subtracted)
        dropped = self.dropped(start, stop)
        if dropped is not None:
            block_out[dropped] = 0


def write_gradient(block_out, source, n_classes, normaliser, shifted, factor, values, subtracted=None):
    """Write the rows :math:`p_j G - c_j` into `block_out`, a chunk of classes at a time.

    `factor` turns the exponentials of the gaps into :math:`p_j G`;
    ``subtracted(first, last)`` gives the :math:`c_j` of those classes (None:
    none off the entries that the pairs `values` put in place, see
    :func:`put`).
    """
    for first, last, part in shifted_chunks(source, n_classes, normaliser, shifted, keep_gaps=False):
        chunk_out, finish = working(block_out[:, first:last])
        gradient_chunk(chunk_out, part, factor, first, last, values, subtracted)
        finish()


def gradient_chunk(chunk_out, part, factor, first, last, values, subtracted=None):
    """Write :math:`p_j G - c_j` of the classes first:last, shifted in `part`, into `chunk_out`.

    As :func:`write_gradient` does for each chunk of a row block. Consumes
    `part`'s arrays.
    """
    with np.errstate(under="ignore"):
        # Probabilities and their products below the normal range
        # round toward 0, as they should.
        if subtracted is None:
            scaled_exps(part, factor, chunk_out)
        else:
            scaled = scratch("scaled", chunk_out.shape)
            scaled_exps(part, factor, scaled)
            scaled -= subtracted(first, last)
            chunk_out[...] = scaled
        put(chunk_out, first, last, values)


def label_losses(normaliser, picked):
    """:math:`\\operatorname{log1p}(s) - g_y` per row, from the logits `picked` at the labels.

    +inf at a -inf logit, or a gap beyond the float range. The one-hot path
    (:func:`_loss` with :math:`T = 1`) performs the same operations.
    """
    if not normaliser.precise:
        return np.log1p(normaliser.rest[0]) - (picked - normaliser.shift[:, 0]) + 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        # An infinite gap has a NaN low part: the loss is +inf (in _loss).
        gap = gap_pair(picked, normaliser.shift[:, 0])
    # T log1p(s) with T = 1: the product of the one-hot path is exactly log1p(s).
    return _loss(normaliser.log(), (-gap[0], -gap[1]), True)


def gradient_factor(normaliser, total, divisor):
    """The per-row factor :math:`r T / N` of the gradient's elementwise part (a pair, or ``(value, None)``)."""
    if normaliser.precise:
        return ef.divide(ef.multiply(normaliser.reciprocal(), total), (_float(divisor), 0.0))
    return normaliser.reciprocal()[0] * total[0] / divisor, None


def _loss(weighted_log, distance, precise):
    """``T log1p(s) + sum_k t_k (-g_k)`` as pairs, rounded once; +inf where a distance is infinite."""
    with np.errstate(invalid="ignore", over="ignore"):
        # An infinite distance (a target on a -inf logit, or a gap beyond
        # the float range) makes NaN inside the pair: the loss is +inf.
        value = ef.rounded(ef.add(weighted_log, distance))
    value = np.where(np.isinf(distance[0]), np.inf, value)
    # Adding 0.0 turns a -0.0 loss into +0.0 and changes nothing else.
    return value + 0.0


def _weighted_distance(part, t, z):
    """:math:`\\sum_k t_k (-g_k)` over a chunk, as a pair: non-negative terms, extraction.

    A zero target contributes 0, even against a -inf logit (whose gap is
    -inf). A positive target on a -inf logit gives +inf. Gaps beyond the
    float range (finite logits, infinite `hi`) are formed from halved
    logits, whose gaps are finite, and the sum doubled.
    """
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        # 0 * inf where a target is 0 on an infinite gap: repaired below.
        terms = np.multiply(t, part.hi, out=scratch("terms", t.shape))
        np.negative(terms, out=terms)
        sums = np.sum(terms, axis=1)
        broken = ~np.isfinite(sums)
        if broken.any():
            terms[broken] = np.where(t[broken] > 0, terms[broken], 0.0)
            sums[broken] = np.sum(terms[broken], axis=1)
        if not part.precise:
            return sums, np.zeros_like(sums)
        # Rows whose targets meet a gap beyond the float range (a finite
        # logit, an infinite gap): halve.
        overflowing = np.zeros(len(terms), dtype=bool)
        if broken.any():
            overflowing[broken] = np.any((t[broken] > 0) & np.isinf(part.hi[broken]) & np.isfinite(z[broken]), axis=1)
        high, low = _distance_pair(terms, t, part.lo)
        if overflowing.any():
            half = _halved_distance(z[overflowing], part.shift[overflowing], t[overflowing])
            high[overflowing], low[overflowing] = half
        return high, low


def _distance_pair(terms, t, lo):
    r""":math:`\sum_k (\mathrm{terms}_k - t_k l_k)` per row, as a pair; rows with an infinite term give +inf.

    Sums above :math:`2^{1000}` are formed scaled by :math:`2^{-64}` (exact
    for every term above :math:`2^{-958}`; smaller ones are far below the
    last bit of such a sum) and scaled back, overflowing to +inf as IEEE
    arithmetic does.
    """
    sums = np.sum(terms, axis=1)
    high = np.full(len(terms), np.inf)
    low = np.zeros(len(terms))
    finite = np.isfinite(sums)
    big = finite & (sums >= 2.0**1000)
    for rows, scale in ((finite & ~big, 0), (big, 64)):
        if not rows.any():
            continue
        every = rows.all()
        chosen = [a if every else a[rows] for a in (terms, t, lo)]
        with np.errstate(under="ignore"):
            # Scaled-down terms below the normal range lose digits far below the sum's last bit.
            scaled_terms = np.ldexp(chosen[0], -scale) if scale else chosen[0]
            tau, rests = ef.sum_nonnegative(scaled_terms, scratch("distance rests", scaled_terms.shape))
            correction = np.multiply(chosen[1], chosen[2], out=scratch("distance corrections", scaled_terms.shape))
            rests -= np.ldexp(correction, -scale) if scale else correction
        pair = ef.two_sum(tau, np.sum(rests, axis=1))
        with np.errstate(over="ignore"):
            # Beyond the float range is +inf.
            high[rows], low[rows] = (np.ldexp(part, scale) for part in pair)
    return high, low


def _halved_distance(z, shift, t):
    """:math:`2 \\sum_k t_k (a/2 - z_k/2)`: halving is exact for these huge values."""
    with np.errstate(under="ignore", invalid="ignore"):
        # Halving may lose the last bit of subnormal logits, whose share of
        # a sum above 2^1000 is far below its last bit.
        hi, lo = gap_pair(z * 0.5, shift * 0.5)
        lo = finite_lows(hi, lo)
        terms = np.where(t > 0, t * -hi, 0.0)
    high, low = _distance_pair(terms, t, lo)
    with np.errstate(over="ignore", invalid="ignore"):
        # A sum beyond the float range is +inf, as IEEE overflow gives.
        return 2 * high, np.where(np.isinf(high), 0.0, 2 * low)


def _float(divisor):
    """A divisor as float64: one number, or one per row."""
    return float(divisor) if not np.ndim(divisor) else np.asarray(divisor, dtype=np.float64)


def _column(divisor):
    """A divisor that divides rows of entries: one number, or a column of one per row."""
    return divisor if not np.ndim(divisor) else np.asarray(divisor)[:, None]


def special_values(picked, normaliser, total, at_top, special, at_special, divisor):
    """The gradient at the largest logit and at `special` (the label, or the largest target).

    At the largest logit, :math:`((T - t_m) - t_m s)\\, r / N`; at `special`
    (where it is not the largest logit), :math:`(e^{g_j} r T - t_j)/N`, with
    `picked` the logits at `special`; each formed as a pair and rounded once.
    Returns ``[(columns, values), ...]`` for :func:`put`.
    """
    rest, shift, top, precise = normaliser.rest, normaliser.shift, normaliser.top, normaliser.precise
    reciprocal = normaliser.reciprocal()
    count = (_float(divisor), 0.0)
    zeros = np.zeros(len(top))
    with np.errstate(under="ignore"):
        # Gradients below the normal range round toward 0.
        if precise:
            others = ef.add(total, (-at_top, zeros))
            at_top_rest = ef.multiply((at_top, zeros), rest)
            difference = ef.add(others, (-at_top_rest[0], -at_top_rest[1]))
            top_value = ef.rounded(ef.multiply(difference, ef.divide(reciprocal, count)))
            probability = ef.multiply(exp_at(picked, shift, precise, normaliser.accurate), reciprocal)
            special_value = ef.rounded(ef.divide(
                ef.add(ef.multiply(probability, total), (-at_special, zeros)), count,
            ))
        else:
            r = reciprocal[0]
            top_value = ((total[0] - at_top) - at_top * rest[0]) * r / divisor
            special_value = (exp_at(picked, shift, precise)[0] * r * total[0] - at_special) / divisor
    return [(top, top_value), (np.where(special == top, -1, special), special_value)]


def put(chunk_out, first, last, values):
    """Write per-row values at their classes, for the classes that fall in first:last."""
    for columns, value in values:
        inside = (columns >= first) & (columns < last)
        if inside.any():
            rows = np.flatnonzero(inside)
            chunk_out[rows, columns[rows] - first] = value[rows]
