r"""The options of softmax cross-entropy, computed inside the blocked kernel.

With class weights :math:`w`, a (smoothed) target :math:`\tilde q` and a
z-loss scale :math:`\lambda`, the loss of an example is

.. math::

    \ell = \sum_k c_k (-\log p_k) + \lambda \operatorname{lse}(z)^2, \qquad
    c_k = w_k \tilde q_k,

and in the shifted form of :mod:`xentref._shift`, with :math:`C = \sum_k c_k`,

.. math:: \ell = C L + \sum_k c_k (-g_k) + \lambda (a + L)^2,

every term non-negative. Its gradient has the cross-entropy's form with the
targets replaced by :math:`c` and their sum by :math:`C + 2 \lambda
\operatorname{lse}(z)`:

.. math:: \frac{\partial \ell}{\partial z_k} = p_k \big(C + 2 \lambda (a + L)\big) - c_k.

The coefficients are formed per block of rows, as pairs of floats exact to
order :math:`u^2` (TwoSum and TwoProduct), so that the loss is formed as the
loss of probability targets is, with the same error, and the z-loss joins
it as a pair. The examples left out by ``where`` or ``ignore_index`` are
computed on a stand-in target and set to 0.

Error bounds for float64
------------------------
With the assumptions and the notation of :mod:`xentref._shift`
(:math:`L` within :math:`3.2u` of itself), and coefficients that are 0 or
above :math:`2^{-969}` (so that TwoProduct is exact; operands of any size
are scaled by powers of two for it, :func:`xentref._error_free.multiply_wide`):

- The coefficients :math:`(1 - \epsilon) t_k + \epsilon / K` (or
  :math:`\ldots + \epsilon (1 - t_k)/(K - 1)`) times :math:`w_k`, and
  their sum :math:`C`, are pairs within order :math:`u^2` of their values.
- The cross-entropy :math:`C L + \sum_k c_k (-g_k)`: each product
  :math:`c_k h_k` is rounded once (:math:`u`), :math:`C L` is within
  :math:`3.2u`, every term is non-negative, and the pair is rounded once:
  **4 ulps**, as without options.
- With z-loss, :math:`\operatorname{lse} = a + L` has the error of
  :math:`L` alone (:math:`a` is exact), and the loss multiplies it: with
  NumPy's exponentials (:math:`L` within :math:`3.2u`) its square would be
  within :math:`6.4u (|a| + L)^2`, 7.4 ulps in all. So with z-loss the
  exponentials, :math:`L` and the softmax are formed accurately
  (:mod:`xentref._shift`, "Accurate exponentials"): :math:`L` within
  :math:`3u/32`, its square within :math:`3u/16` of :math:`(|a| + L)^2`,
  and the cross-entropy's terms within :math:`u`; the loss is within
  **2 ulps** (1, the rounding, and the correct rounding's half ulp) of
  :math:`S = \ell_{CE} + \lambda (|a| + L)^2`, which is the loss itself
  when :math:`a \ge 0`.
- A gradient entry :math:`p_k T - c_k`: :math:`p_k T` as in
  :mod:`xentref._shift` (4.2 ulps of itself), :math:`c_k` divided as the
  reduction asks and rounded, and the difference rounded: **5.7 ulps** of
  :math:`p_k T + c_k`. With z-loss, :math:`T = C + 2 \lambda \operatorname{lse}`
  is within :math:`3u/32` of :math:`C + 2 \lambda (|a| + L)`, and
  :math:`p_k T` (accurate exponentials, :math:`u/16`, two roundings) within
  :math:`1.16u`: **2.16 ulps** of
  :math:`p_k (C + 2 \lambda (|a| + L)) + c_k` (the fused linear head,
  whose logits carry larger errors of their own, keeps NumPy's
  exponentials: 7.4 and 8.9 ulps there). The entries at the largest
  logit and at the largest coefficient are pairs rounded once. With class
  weights alone on labels the coefficients are :math:`w_y` at the label
  and 0 elsewhere, and the argument of the unweighted gradient gives
  **4 ulps**.

Input narrower than float64 is computed in float64 and rounded once: within
1 ulp (of the same scales).
"""

import numpy as np

from xentref import _blocks as blocks
from xentref import _error_free as ef
from xentref._blocks import scratch
from xentref._half import round_to
from xentref._reduction import apply_reduction, empty_mean, mean_of
from xentref._shift import exp_at, shifted_chunks
from xentref._softmax_rows import Problem, _weighted_distance, write_gradient


def as_pair(pair):
    """A pair whose low part may be None (input narrower than float64) with zeros there."""
    high, low = pair
    return high, np.zeros_like(high) if low is None else low


def negative(pair):
    return -pair[0], -pair[1]


def smoothed(t, epsilon, smoothing, n_classes=None):
    r"""The smoothed targets :math:`\tilde q` of rows `t` (float64), as a pair of arrays.

    Elementwise in `t`, which may also be any array of targets of a row of
    `n_classes` (by default ``t.shape[1]``).

    ``"uniform"``: :math:`(1 - \epsilon) t + \epsilon / K`; ``"others"``:
    :math:`(1 - \epsilon) t + \epsilon (1 - t) / (K - 1)`. Every term is
    non-negative and formed exactly to order :math:`u^2`. `t` may be a
    chunk of the classes: then `n_classes` is :math:`K` (by default, the
    length of its rows).
    """
    zeros = np.zeros_like(t)
    if epsilon == 0:
        return t, zeros
    n_classes = t.shape[1] if n_classes is None else n_classes
    kept = ef.two_sum(1.0, -epsilon)
    if smoothing == "uniform":
        return ef.add(ef.multiply(kept, (t, zeros)), ef.divide((epsilon, 0.0), (float(n_classes), 0.0)))
    share = ef.divide((epsilon, 0.0), (float(n_classes - 1), 0.0))
    return ef.add(ef.multiply(kept, (t, zeros)), ef.multiply(share, ef.two_sum(1.0, -t)))


def label_coefficients(labels, columns, n_classes, weight, epsilon, smoothing):
    r"""The coefficients :math:`c = w \tilde q` of the one-hot rows at `labels`, at classes `columns`, as a pair.

    `columns` broadcasts against ``labels[:, None]``: a row of classes
    (a chunk of them) or a column of one class per row.
    """
    t = (labels[:, None] == columns).astype(np.float64)
    return weighted(smoothed(t, epsilon, smoothing, n_classes), None if weight is None else weight[columns])


def weighted(q, weight):
    """The pair ``q * weight``, `weight` one float per class; exact to order u^2 for any finite weight."""
    if weight is None:
        return q
    return ef.multiply_wide(q, (weight, np.zeros_like(weight)))


def coefficient_sum(c):
    """:math:`C = \\sum_k c_k` per row, as a pair."""
    high, low = ef.sum_wide(c[0], scratch("coefficient rests", c[0].shape))
    return high, low + np.sum(c[1], axis=1)


def _coefficient_distance(part, c, first, last, z):
    """:math:`\\sum_k c_k (-g_k)` over a chunk as a pair: the targets' distance with the pairs' low parts."""
    high, low = _weighted_distance(part, c[0][:, first:last], z)
    c_low = c[1][:, first:last]
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        # Only finite gaps carry a correction; an infinite one makes the
        # row's distance inf. Corrections below the normal range are far
        # below the distance's last bit.
        correction = -np.sum(np.multiply(c_low, part.hi, out=scratch("low terms", c_low.shape)), axis=1)
        broken = ~np.isfinite(correction)
        if broken.any():
            # Rows with an infinite gap: 0 * inf is NaN where it should be nothing.
            hi = part.hi[broken]
            correction[broken] = np.sum(np.where((c_low[broken] != 0) & np.isfinite(hi), c_low[broken] * -hi, 0.0),
                                        axis=1)
        return high, np.where(np.isfinite(high), low + correction, 0.0)


def _rounded(pair):
    """The pair rounded once; +inf where its high part is inf (a loss beyond the float range)."""
    with np.errstate(invalid="ignore", over="ignore"):
        # An infinite high part makes NaN inside the pair.
        return np.where(np.isinf(pair[0]), pair[0], ef.rounded(pair)) + 0.0


def merged_distance(chunks, shift):
    r""":math:`C = \sum_k c_k` and :math:`\sum_k c_k (a - z_k)` per row, as pairs, from chunks of classes.

    `chunks` holds ``(m_c, C_c, D_c)`` per chunk: its maximum, the sum of
    its coefficients and its distance :math:`\sum_{k \in c} c_k (m_c - z_k)`
    (:func:`_coefficient_distance` of the chunk shifted by its own maximum);
    `shift` is the row's maximum :math:`a`. Then

    .. math:: \sum_k c_k (a - z_k) = \sum_c \big[C_c (a - m_c) + D_c\big],

    every term non-negative, :math:`a - m_c` an exact pair (TwoSum) and its
    product with :math:`C_c` exact to order :math:`u^2`: the distance keeps
    the error of the terms of :math:`D_c`, as if formed in one pass.
    """
    zeros = np.zeros_like(shift)
    total, distance = (zeros, zeros), (zeros, zeros)
    for chunk_max, chunk_total, chunk_distance in chunks:
        with np.errstate(invalid="ignore", over="ignore"):
            # A distance beyond the float range is +inf, with NaN in its low
            # part: the loss is +inf.
            distance = ef.add(distance, ef.add(chunk_distance, _offset(chunk_total, shift, chunk_max)))
        total = ef.add(total, chunk_total)
    return total, distance


def _offset(total, shift, chunk_max):
    """:math:`C_c (a - m_c)` as a pair, the gap exact; a gap beyond the float range is formed halved."""
    with np.errstate(over="ignore", invalid="ignore"):
        # a - m_c beyond the float range rounds to inf (its low part NaN): redone below.
        gap = ef.two_sum(shift, -chunk_max)
    far = np.isinf(gap[0])
    if not far.any():
        return ef.multiply_wide(total, gap)
    # Halving is exact: a gap beyond the float range is between maxima far
    # above the subnormals.
    half = ef.two_sum(shift * 0.5, -chunk_max * 0.5)
    gap = (np.where(far, half[0], gap[0]), np.where(far, half[1], gap[1]))
    product = ef.multiply_wide(total, gap)
    with np.errstate(over="ignore"):
        # Doubled back: exact, or inf beyond the float range.
        high = np.where(far, 2 * product[0], product[0])
    return high, np.where(np.isinf(high), 0.0, np.where(far, 2 * product[1], product[1]))


def weighted_loss(total, distance, log):
    r""":math:`C L + \sum_k c_k (-g_k)` as a pair, from pairs `total`, `distance` and `log`; +inf with the distance."""
    with np.errstate(invalid="ignore", over="ignore"):
        # As in _softmax_rows._loss: an infinite distance gives +inf.
        value = ef.add(ef.multiply_wide(total, log), distance)
    infinite = np.isinf(distance[0])
    return np.where(infinite, np.inf, value[0]), np.where(infinite, 0.0, value[1])


def option_losses(total, distance, normaliser, z_loss):
    r"""Per row: the loss, its cross-entropy and its z-loss, each in float64 rounded once.

    From the coefficients' sum `total`, the `distance` and the row's
    :class:`~xentref._shift.Normaliser`; `z_loss` is :math:`\lambda`.
    """
    log = as_pair(normaliser.log())
    cross_entropy = weighted_loss(total, distance, log)
    if z_loss == 0:
        return _rounded(cross_entropy), _rounded(cross_entropy), np.zeros_like(total[0])
    z_part = z_term(normaliser, log, z_loss)
    with np.errstate(invalid="ignore", over="ignore"):
        # Beyond the float range the sum is +inf.
        value = ef.add(cross_entropy, z_part)
        value = (np.where(np.isinf(cross_entropy[0]) | np.isinf(z_part[0]), np.inf, value[0]), value[1])
    return _rounded(value), _rounded(cross_entropy), _rounded(z_part)


def lse(normaliser, log):
    r""":math:`\operatorname{lse}(z) = a + L` as a pair: the shift is exact."""
    shift = normaliser.shift[:, 0]
    return ef.add((shift, np.zeros_like(shift)), log)


def z_term(normaliser, log, scale):
    r""":math:`\lambda' \operatorname{lse}(z)^2` as a pair, inf beyond the float range."""
    value = lse(normaliser, log)
    with np.errstate(invalid="ignore", over="ignore"):
        # Beyond the float range the square is inf.
        return ef.multiply_wide((scale, 0.0), ef.multiply_wide(value, value))


def gradient_total(total, z_scale, normaliser):
    r""":math:`T = C + 2 \lambda' \operatorname{lse}(z)`, the factor of the softmax in the gradient, as a pair.

    `total` and `z_scale` (:math:`2 \lambda`) already divided as the
    reduction asks; `z_scale` None without z-loss.
    """
    if z_scale is None:
        return total
    return ef.add(total, ef.multiply_wide(z_scale, lse(normaliser, as_pair(normaliser.log()))))


def divided(pair, inverse):
    """`pair` times the pair `inverse` (None: unchanged), exact to order u^2."""
    return pair if inverse is None else ef.multiply_wide(pair, inverse)


# The reductions ------------------------------------------------------------------


def selected_count(n_kept, n_rows, selection="`where` and `ignore_index` leave", unit="examples"):
    """`n_kept`, the number of selected examples; refuses a mean of none."""
    if n_kept == 0:
        raise empty_mean(n_rows, selection, unit)
    return n_kept


def label_weight_total(weight, labels, keep):
    r""":math:`D = \sum_n w_{y_n}` over the selected `labels` (flat), as a pair."""
    picked = weight[labels]
    return ef.sum_wide(picked if keep is None else picked[keep])


def checked_weight_total(total):
    """The mean's total class weight `total` (a pair), refused if it is 0."""
    if not ef.rounded(total) > 0:
        raise ValueError(
            "`reduction='mean'` divides by the total class weight of the selected targets, "
            "which is 0; use 'sum' or 'none'"
        )
    return total


def option_mean(parts, count, weight_total, z_loss):
    """The mean loss from ``(losses, cross_entropy, z_loss)``.

    `losses` in the prediction's dtype, the parts float64 per example;
    `count` the selected examples, `weight_total` their total class weight
    (a checked pair, or None without class weights). The cross-entropy's
    sum is divided by the total weight and the z-loss's by the count.
    """
    losses, cross_entropy, z_part = parts
    dtype = losses.dtype
    if weight_total is None:
        return mean_of(losses, float(count), dtype)
    if z_loss == 0:
        return mean_of(losses, float(ef.rounded(weight_total)), dtype)
    # The cross-entropy's mean and the z-loss's, added: in float64, rounded once.
    with np.errstate(over="ignore"):
        # A mean beyond the float range is inf.
        value = (mean_of(cross_entropy, float(ef.rounded(weight_total)), np.float64)
                 + mean_of(z_part, float(count), np.float64))
    return round_to(np.asarray(value), dtype)[()]


def mean_scales(count, weight_total, z_loss):
    r"""The factors of the coefficients and of the z-loss's gradient under ``"mean"``, as pairs.

    :math:`1/D` (:math:`1/N` without class weights, `weight_total` None)
    and :math:`2 \lambda / N`.
    """
    total = (float(count), 0.0) if weight_total is None else weight_total
    return ef.divide_wide((1.0, 0.0), total), ef.divide((2 * z_loss, 0.0), (float(count), 0.0))


class OptionProblem(Problem):
    """A :class:`xentref._softmax_rows.Problem` with class weights, label smoothing and z-loss.

    Parameters
    ----------
    logits, axis, probabilities, labels, keep
        As for :class:`~xentref._softmax_rows.Problem`.
    weight : ndarray (K,) of float64 or None
        Class weights, as read in the logits' dtype.
    epsilon : float
        Label smoothing.
    smoothing : {"uniform", "others"}
    z_loss : float
        The scale :math:`\\lambda` of the z-loss.
    """

    def __init__(self, logits, axis, probabilities, labels, keep, weight, epsilon, smoothing, z_loss):
        super().__init__(logits, axis, probabilities, labels, keep)
        self.weight, self.epsilon, self.smoothing, self.z_loss = weight, epsilon, smoothing, z_loss
        self.plain = weight is None and epsilon == 0 and z_loss == 0
        # The z-loss's bound multiplies the error of L (see above).
        self.accurate = z_loss != 0
        self._backgrounds = {}

    def _run(self, block, n_results=1):
        if self.plain:
            return super()._run(block, n_results)
        # A quarter of the usual block: the coefficients and their sums add
        # about ten temporaries of a block's size.
        return blocks.run(block, self.n_rows, self.n_classes, n_results, check=self.check,
                          budget=blocks.budget_for(self.logits.dtype) // 4)

    # Coefficients ----------------------------------------------------------------

    def _coefficients(self, start, stop, scale=None):
        """The coefficients :math:`c = w \\tilde q` of rows start:stop, pairs of (R, K) arrays.

        With `scale` (a pair of floats), also :math:`c` times it.

        Each coefficient is a function of its target and its class alone, so
        it is formed once per class for a target of 0 and again only where a
        target is not 0: for labels, a row's one entry. The values are those
        of the formula on the whole block, bit for bit.
        """
        shape = (stop - start, self.n_classes)
        if self.labels is not None:
            rows, columns = np.arange(shape[0]), self.labels[start:stop]
            targets = np.ones(shape[0])
        else:
            t, _ = self._targets(start, stop)
            rows, columns = np.nonzero(t)
            targets = t[rows, columns]

        def coefficients(values, classes):
            q = smoothed(values, self.epsilon, self.smoothing, self.n_classes)
            c = q if self.weight is None else ef.multiply_wide(q, (self.weight[classes], np.zeros(len(classes))))
            return (c,) if scale is None else (c, ef.multiply_wide(c, scale))

        every_class = np.arange(self.n_classes)
        if self.labels is None and len(rows) > shape[0] * shape[1] // 4:
            # Mostly non-zero targets: the whole block at once is faster.
            results = coefficients(t, every_class)
            return results[0] if scale is None else results
        # The coefficients of a target of 0, the same for every block.
        key = None if scale is None else tuple(float(part) for part in scale)
        if key not in self._backgrounds:
            self._backgrounds[key] = coefficients(np.zeros(self.n_classes), every_class)
        results = []
        for name, background, entries in zip(("coefficients", "scaled coefficients"), self._backgrounds[key],
                                             coefficients(targets, columns)):
            pair = tuple(scratch(f"{name} {part}", shape) for part in ("high", "low"))
            for part, row, values in zip(pair, background, entries):
                part[...] = row
                part[rows, columns] = values
            results.append(pair)
        return results[0] if scale is None else tuple(results)

    def weight_total(self):
        r""":math:`D = \sum_n \sum_c w_c t_{nc}` over the selected examples, as a pair (a pair of floats)."""
        if self.labels is not None:
            return label_weight_total(self.weight, self.labels, self.keep)

        def block(start, stop):
            t, _ = self._targets(start, stop)
            high, low = coefficient_sum(weighted((t, np.zeros_like(t)), self.weight))
            return high, low

        high, low = self._run(self.zeroing(block), n_results=2)
        total = ef.sum_wide(high)
        return total[0], total[1] + np.sum(low)

    # Losses ---------------------------------------------------------------------

    def losses(self, parts=False):
        """Each example's loss in the logits' dtype (0 where left out), batch-shaped.

        With `parts`, also its cross-entropy and its z-loss apart, in float64
        rows, for a mean that divides them by different totals.
        """
        if self.plain:
            losses = super().losses()
            return (losses, None, None) if parts else losses
        results = self._run(self.zeroing(self._option_losses), n_results=3)
        losses = blocks.from_rows(round_to(results[0], self.logits.dtype), self.logits, self.axis)
        return (losses, *results[1:]) if parts else losses

    def _option_losses(self, start, stop, first=None, c=None):
        c = self._coefficients(start, stop) if c is None else c
        total = coefficient_sum(c)
        z, source, normaliser, shifted = first or self._first_pass(start, stop, keep_gaps=True)
        zeros = np.zeros(len(z))
        distance = (zeros, zeros)
        for first, last, part in shifted_chunks(source, self.n_classes, normaliser, shifted):
            with np.errstate(invalid="ignore"):
                # An infinite distance makes NaN in the low part: the loss is +inf.
                distance = ef.add(distance, _coefficient_distance(part, c, first, last, z[:, first:last]))
        return option_losses(total, distance, normaliser, self.z_loss)

    def reduced(self, reduction, parts=None):
        """The loss under `reduction` (validated), from the result of ``losses(parts=True)`` if given."""
        if reduction != "mean":
            losses = self.losses() if parts is None else parts[0]
            if reduction == "none":
                return losses
            return apply_reduction(losses, "sum")
        count = self.selected_count()
        weight_total = None if self.weight is None else checked_weight_total(self.weight_total())
        return option_mean(self.losses(parts=True) if parts is None else parts, count, weight_total, self.z_loss)

    def selected_count(self):
        """The number of selected examples; refuses a mean of none."""
        return selected_count(self.n_kept, self.n_rows)

    # Gradient -------------------------------------------------------------------

    def gradient_for(self, reduction):
        """The gradient of the loss under `reduction` (validated), in the layout of the logits."""
        if self.plain:
            return self.gradient(self._divisor(reduction))
        inverse, z_scale = self._scales(reduction)
        out = np.empty(self.rows.shape, dtype=self.logits.dtype)
        self._run(lambda start, stop: self._option_gradient(start, stop, inverse, z_scale, out), n_results=0)
        return blocks.from_rows(out, self.logits, self.axis)

    def value_and_gradient(self, reduction):
        """``(reduced(reduction), gradient_for(reduction))`` in one pass over the logits, equal bit for bit."""
        if self.plain:
            losses, gradient = self.losses_and_gradient(self._divisor(reduction))
            return self.reduced(reduction, (losses, None, None)), gradient
        inverse, z_scale = self._scales(reduction)
        out = np.empty(self.rows.shape, dtype=self.logits.dtype)

        def both(start, stop):
            c = self._coefficients(start, stop, inverse)
            first = self._first_pass(start, stop, keep_gaps=True)
            results = self._option_losses(start, stop, first, c if inverse is None else c[0])
            # As in Problem._both: narrow input repeats the first pass.
            self._option_gradient(start, stop, inverse, z_scale, out, first if self.precise else None, c)
            return results

        results = self._run(self.zeroing(both), n_results=3)
        losses = blocks.from_rows(round_to(results[0], self.logits.dtype), self.logits, self.axis)
        return self.reduced(reduction, (losses, *results[1:])), blocks.from_rows(out, self.logits, self.axis)

    def _divisor(self, reduction):
        """What the plain gradient divides by: the selected count for ``"mean"``, else 1."""
        return self.selected_count() if reduction == "mean" else 1

    def _scales(self, reduction):
        """The factors of the coefficients and of the z-loss's gradient under `reduction`, as pairs.

        None for the coefficients when nothing divides them.
        """
        if reduction != "mean":
            return None, (2 * self.z_loss, 0.0)
        count = self.selected_count()
        return mean_scales(count, None if self.weight is None else checked_weight_total(self.weight_total()),
                           self.z_loss)

    def _option_gradient(self, start, stop, inverse, z_scale, out, first=None, c=None):
        c = self._coefficients(start, stop, inverse) if c is None else c
        if inverse is not None:
            c, scaled = c
        total = coefficient_sum(c)
        z, source, normaliser, shifted = first or self._first_pass(start, stop, keep_gaps=False)
        if inverse is not None:
            c = scaled
        total = gradient_total(divided(total, inverse), z_scale if self.z_loss else None, normaliser)
        rows = np.arange(len(z))
        special = np.argmax(c[0], axis=1)
        top = normaliser.top
        values = special_values(
            z[rows, special].astype(np.float64), normaliser, total,
            (c[0][rows, top], c[1][rows, top]), special, (c[0][rows, special], c[1][rows, special]),
        )
        factor = ef.multiply_wide(as_pair(normaliser.reciprocal()), total)
        # The pairs rounded once, in place of _rounded: a coefficient is
        # finite or, divided by a tiny total weight, inf with a low part of 0.
        coefficients = np.add(c[0], c[1], out=scratch("rounded coefficients", c[0].shape))
        coefficients += 0.0
        block_out = out[start:stop]
        write_gradient(block_out, source, self.n_classes, normaliser, shifted, factor, values,
                       lambda first, last: coefficients[:, first:last])
        dropped = self.dropped(start, stop)
        if dropped is not None:
            block_out[dropped] = 0


def special_values(picked, normaliser, total, at_top, special, at_special):
    """The gradient at the largest logit and at `special` (the largest coefficient), each a pair rounded once.

    At the largest logit :math:`((T - c_m) - c_m s)\\, r`, at `special`
    :math:`e^{g_j} r T - c_j`, with `total` :math:`T` and the coefficients
    already divided as the reduction asks. Returns ``[(columns, values), ...]``
    for :func:`xentref._softmax_rows.put`.
    """
    rest, reciprocal = as_pair(normaliser.rest), as_pair(normaliser.reciprocal())
    top = normaliser.top
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        # Gradients below the normal range round toward 0; beyond the float
        # range (coefficients divided by a tiny total weight) they are inf.
        difference = ef.add(ef.add(total, negative(at_top)), negative(ef.multiply_wide(at_top, rest)))
        top_value = _rounded(ef.multiply_wide(difference, reciprocal))
        probability = ef.multiply(exp_at(picked, normaliser.shift, normaliser.precise, normaliser.accurate),
                                  reciprocal)
        special_value = _rounded(ef.add(ef.multiply_wide(probability, total), negative(at_special)))
    return [(top, top_value), (np.where(special == top, -1, special), special_value)]

