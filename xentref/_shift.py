r"""The kernel of the softmax family: rows shifted by their maximum, the shift kept exact.

Every function of the family is built from a row :math:`z` of logits, its
first maximum :math:`a = z_m`, the gaps :math:`g_k = z_k - a \le 0` and

.. math:: s = \sum_{k \ne m} e^{g_k}, \qquad
          L = \operatorname{log1p}(s), \qquad
          \operatorname{logsumexp}(z) = a + L

(Blanchard, Higham and Higham). Rows are processed in blocks
(:mod:`xentref._blocks`); a row too long for one block is read in chunks of
classes whose (maximum, sum) pairs are merged by the online rule of
Milakov and Gimelshein.

How each quantity is formed
---------------------------
``u`` is the unit roundoff of float64, :math:`2^{-53}`.

- **float32 input** (and the half-precision types) is computed in float64
  and each result rounded once to the input's dtype. The float64 gap is
  exact unless the two logits differ by more than a factor :math:`2^{28}`,
  and then wrong by at most :math:`u |g_k|`; with the exponentials, a plain
  sum of up to :math:`2^{20}` terms and the logarithm, the float64 value is
  within :math:`2^{-40}` of the exact result relative to its size, so the
  rounded result is the correctly rounded one or its neighbour: **1 ulp**.
- **float64 input**: the gap is an exact pair :math:`g_k = h_k + l_k`
  (TwoSum) and :math:`e^{g_k} = e^{h_k}(1 + l_k)` up to :math:`l_k^2/2 <
  2^{-87}` (:math:`|l_k| \le u |h_k|`, and only gaps above -746 have a
  non-zero exponential). Rounding the gap instead would cost
  :math:`|g_k| u` relative error after ``exp``: hundreds of ulps at gaps of
  hundreds. :math:`s` is summed by extraction
  (:func:`xentref._error_free.sum_nonnegative`), the corrections
  :math:`e^{h_k} l_k` joining its small part, into a pair whose only error
  is that of ``exp`` on each term. :math:`L` is the pair ``log1p(s_high)``,
  ``s_low / (1 + s_high)``, and every result is a pair rounded once.

Error bounds for float64
------------------------
They rest on one assumption about the platform's NumPy: ``exp`` is within
0.8 ulps of the exact value for results in the normal range, and so is
``log1p``; that is, relative errors below :math:`\alpha_e = \alpha_l =
1.6u`. (Measured on 4 million arguments on x86-64 with AVX-512, NumPy 2.4:
at most 0.70 and 0.61 ulps; with NumPy's AVX2 and SSE4.2 code, ``log1p``
reaches 0.75;
``tests/test_kernel.py`` samples them again.) An error of :math:`\epsilon`
relative to a value is below :math:`\epsilon / u` of its ulps, and the
correctly rounded value is half an ulp from the exact one, so a result
within :math:`c` ulps of the exact value is within :math:`\lfloor c + 1/2
\rfloor` ulps of the correctly rounded one. Then:

- :math:`s` has relative error at most :math:`\alpha_e` (a weighted mean
  of its terms' errors), and the pair for :math:`L` at most
  :math:`\alpha_e + \alpha_l = 3.2u`, since
  :math:`s/((1 + s) \log(1 + s)) \le 1`.
- A loss at a label :math:`L - g_y` and a log-softmax entry :math:`g_k - L`
  are sums of terms of one sign, each within :math:`3.2u` of itself, rounded
  once: at most :math:`3.2 + 0.5` ulps from the exact value, **4 ulps**
  from the correctly rounded one. Likewise the loss for probability targets
  :math:`T L + \sum_k t_k (-g_k)` (each product :math:`t_k h_k` rounded,
  relative error :math:`u`): **4 ulps**.
- :math:`\operatorname{logsumexp} = a + L` may cancel, so
  :func:`xentref.logsumexp` takes :math:`L` from
  :func:`xentref._error_free.log1p` (within :math:`2^{-57}`, once for the
  whole batch): :math:`L` within :math:`1.6u + u/16` and :math:`a + L`
  within :math:`1.66 + 0.5 + 0.5 = 2.7` ulps of the size of its terms,
  :math:`|a| + \log K`; within 2 ulps of itself when :math:`a \ge 0`.
- A softmax entry :math:`e^{h_k}(1 + l_k)\,r`, :math:`r = 1/(1 + s)` a
  pair: the exponential (:math:`\alpha_e`), :math:`r`
  (:math:`\alpha_e s / (1 + s)`), the product with ``r_high`` and the
  correction (half an ulp each): 4.2 ulps from the exact value, **4 ulps**
  from the correctly rounded one. So is a gradient entry :math:`p_k / N`
  (the divisor is folded into the pair :math:`r/N`). The gradient at the
  largest logit and at the label is formed as a pair and rounded once: at
  the label :math:`p_y \le 1/2`, so :math:`|p_y - 1| \ge p_y` and the
  error is at most :math:`3.2 + 0.5` ulps.
- With probability targets a gradient entry :math:`(p_k T - t_k)/N` is a
  difference: :math:`p_k T/N` as above (4.2 ulps of itself), :math:`t_k/N`
  and the difference rounded (half an ulp each): **5.7 ulps** of the larger
  of :math:`p_k T/N` and :math:`t_k/N`, not of the entry, which may cancel
  to nothing.

Rows whose :math:`s` is below :math:`2^{-960}` would collect the errors of
many exponentials in the subnormals (up to one unit there each, which is
many ulps of a sum near the bottom of the normal range): their :math:`s` is
recomputed from exponentials accurate to :math:`2^{-58}` scaled by
:math:`2^{600}` into the normal range (:func:`xentref._error_free.exp`), and
rounded once on the way back.

Accurate exponentials
---------------------
The losses whose bounds multiply the error of the exponentials (the focal
loss through its power, Poly-1, z-loss through the square of
:math:`\operatorname{lse}`) ask for ``accurate`` float64 rows: every
exponential of a gap from :func:`xentref._error_free.exp_into`, within
:math:`2^{-58} = u/32` (about three times the cost of ``exp``), and
:math:`L` from :func:`xentref._error_free.log1p`, within :math:`2^{-57}`.
Then :math:`s` and :math:`r` are within :math:`u/32`, :math:`L` within
:math:`3u/32`, and a softmax entry or a gradient entry :math:`p_k T/N`
within :math:`u/16 + u` (two roundings) of its value.

A gradient entry whose exponential is below the normal range lost digits
to the subnormals; where the row's factor :math:`r T/N` exceeds 1 it would
magnify that loss beyond the entry's last bit, so such entries are formed
again from exponentials scaled by :math:`2^{600}` and rounded once.

Rows in chunks: each chunk's sum is rescaled by :math:`e^{m_c - a}`,
formed from the exact gap between the chunk's and the row's maxima with
the same accurate exponential; the pairs then add as before, and the bounds
above hold unchanged (to :math:`2^{-57}`).
"""

import numpy as np

from xentref import _error_free as ef
from xentref._blocks import Refused, column_spans, scratch

TINY = 2.0**-960


def is_precise(dtype):
    """True for float64, whose results need the exact-shift machinery; others compute in float64."""
    return np.dtype(dtype) == np.float64


def gap_pair(z, shift):
    """``(hi, lo)`` with ``hi = fl(z - shift)`` and ``hi + lo = z - shift`` exactly.

    `lo` is NaN where `hi` is infinite; see :func:`finite_lows`.
    """
    return ef.two_sum(z, -shift)


def finite_lows(hi, lo):
    """`lo` with 0 where the gap is infinite (a -inf logit, or a gap beyond the float range)."""
    return np.where(np.isinf(hi), 0.0, lo)


class Shifted:
    """A block of rows (R, C) of logits shifted by their maxima, or by a given shift.

    Parameters
    ----------
    z : ndarray, shape (R, C)
        Rows of logits (or a chunk of classes of each row), float32 or
        float64, any strides.
    shift : ndarray (R, 1) of float64, optional
        Shift by these values instead of the rows' maxima (the second pass
        over a row processed in chunks); no sum is then formed.
    chunk : bool
        `z` is a chunk of longer rows: a row whose chunk is all -inf gets
        maximum -inf and an empty sum instead of being refused.
    keep_gaps : bool
        Keep `hi` (log-softmax and the loss of probability targets need
        it); otherwise the exponentials overwrite it, which saves a pass
        of memory traffic and a buffer.
    precise : bool, optional
        Use the exact-shift machinery; by default for float64 `z`. Logits
        formed in float64 from narrower input do not need it.
    accurate : bool
        With `precise`, form the exponentials accurate to :math:`2^{-58}`
        (:func:`xentref._error_free.exp`) instead of NumPy's ``exp``: for
        the losses whose error bounds multiply the exponentials' error
        (see "Accurate exponentials" above).

    Attributes
    ----------
    top : ndarray (R,) of int
        The first index of each row's maximum (with `shift`: -1).
    shift : ndarray (R, 1) of float64
    hi, lo : ndarray (R, C) of float64
        The gaps as exact pairs; `lo` is None for input other than float64,
        `hi` None unless `keep_gaps`.
    exps : ndarray (R, C) of float64
        ``exp(hi)``.
    exp_lo : ndarray (R, C) of float64 or None
        The exponential of the gap is ``exps * (1 + exp_lo)``: `lo` itself,
        or with `accurate` the relative low part of the accurate exponential.
    rest : pair of ndarray (R,)
        :math:`s = \\sum_{k \\ne m} e^{g_k}` (not with `shift`).
    infinite : ndarray (R,) of bool or None
        Rows that hold an infinite gap (float64 only).
    scale : ndarray (R,) or None
        When not None, `exps` holds :math:`e^{z_k}` and the exponentials of
        the gaps are ``exps * scale`` (narrow input only, see above).

    The arrays live in the thread's workspace (:func:`xentref._blocks.scratch`):
    they are valid until the next :class:`Shifted` of the same thread, and
    the functions that consume them may overwrite them.

    Raises
    ------
    Refused
        If a row's maximum is NaN or +inf, or -inf outside a chunk.
    """

    def __init__(self, z, shift=None, chunk=False, keep_gaps=True, precise=None, accurate=False):
        self.precise = z.dtype == np.float64 if precise is None else precise
        self.accurate = accurate and self.precise
        self.z = z
        n_rows = z.shape[0]
        self.rows = np.arange(n_rows)
        self.empty = None
        self.first = shift is None
        if self.first:
            self.top = np.argmax(z, axis=1)
            top_value = z[self.rows, self.top].astype(np.float64)
            if not np.isfinite(top_value).all():
                self.empty = np.isneginf(top_value)
                if np.isnan(top_value).any() or np.isposinf(top_value).any() or not chunk:
                    raise Refused
                top_value[self.empty] = 0.0
            shift = top_value[:, None]
        else:
            self.top = np.full(n_rows, -1)
        self.shift = shift
        self.hi = scratch("hi", z.shape)
        self.exps = scratch("exps", z.shape) if keep_gaps or self.accurate else self.hi
        self.lo = self.exp_lo = None
        self.infinite = None
        # Rows of narrow input whose maxima lie in [-600, 700] need no
        # subtraction: exp(z_k) stays in float64's normal range for every
        # term that can reach the result (gaps above -108), and the row's
        # factor e^-a joins the per-row quantities (see scale).
        self.scale = None
        moderate = not self.precise and not keep_gaps and self.first and self.empty is None
        if moderate and np.all((shift >= -600) & (shift <= 700)):
            # Widened first: faster than exp's own casting of its input.
            np.copyto(self.exps, z)
            with np.errstate(under="ignore"):
                # Terms far below the maximum underflow, as they may.
                np.exp(self.exps, out=self.exps)
            self.scale = np.exp(-shift[:, 0])
            self.hi = None
            self.rest = self._rest()
            return
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            # A gap beyond the float range rounds to -inf, as IEEE overflow
            # does, and so does a -inf logit; their pairs' low parts are NaN
            # until repaired, and their exponentials underflow to 0.
            np.subtract(z, shift, out=self.hi)
            if self.precise:
                self.lo = self.exp_lo = scratch("lo", z.shape)
                gap_pair_low(z, shift, self.hi, self.lo, scratch("spare", z.shape))
            if self.accurate:
                self.exp_lo = _accurate_exps(self.hi, self.lo, self.exps)
            else:
                np.exp(self.hi, out=self.exps)
            if not keep_gaps:
                self.hi = None
            if self.first:
                self.rest = self._rest()
            if self.precise and (self.accurate or not self.first):
                self._repair(np.isnan(np.sum(self.lo, axis=1)))

    def _repair(self, rows):
        """Zero the NaN low parts of infinite gaps in `rows` (bool): they are NaN nowhere else."""
        self.infinite = rows
        if rows.any():
            lows = self.lo[rows]
            self.lo[rows] = np.where(np.isnan(lows), 0.0, lows)

    def gaps(self, rows):
        """The rounded gaps `hi` of `rows`, recomputed if they were not kept."""
        if self.hi is not None:
            return self.hi[rows]
        return np.subtract(self.z[rows], self.shift[rows], dtype=np.float64)

    def _rest(self):
        """:math:`s`, excluding each row's maximum; under the caller's errstate."""
        exps, rows, top = self.exps, self.rows, self.top
        exps[rows, top] = 0
        if self.precise:
            rest = _sum_with_corrections(exps, self.exp_lo)
            broken = np.isnan(rest[0])
            self._repair(broken)
            if broken.any():
                fixed = _sum_with_corrections(exps[broken], self.lo[broken], "again")
                for part, value in zip(rest, fixed):
                    part[broken] = value
            tiny = (rest[0] < TINY) & (exps.shape[1] > 1)
            if tiny.any():
                scaled = _scaled_rest(self.gaps(tiny), self.lo[tiny], top[tiny])
                for part, value in zip(rest, scaled):
                    part[tiny] = value
        else:
            total = np.sum(exps, axis=1)
            rest = (total if self.scale is None else total * self.scale, None)
        exps[rows, top] = 1 if self.scale is None else 1 / self.scale
        if self.empty is not None:
            exps[self.empty, :] = 0
        return rest


def _accurate_exps(hi, lo, out):
    """Write into `out` the accurate exponentials of the gaps `hi` + `lo`; return their relative low parts.

    An exponential of 0 (a gap below -746, or -inf) has a low part of 0.
    """
    low = scratch("exp lo", hi.shape)
    ef.exp_into(hi, lo, (out, low), tuple(scratch(f"exp work {i}", hi.shape) for i in range(3)))
    positive = np.maximum(out, np.finfo(np.float64).smallest_subnormal, out=scratch("exp work 0", hi.shape))
    return np.divide(low, positive, out=low)


def gap_pair_low(z, shift, hi, out, spare):
    """Write into `out` the low part of ``z - shift`` given its rounded value `hi`.

    The last four steps of TwoSum(z, -shift); `spare` is overwritten.
    """
    b_virtual = np.subtract(hi, z, out=spare)
    a_virtual = np.subtract(hi, b_virtual, out=out)
    low = np.subtract(z, a_virtual, out=out)
    b_virtual += shift
    low -= b_virtual
    return low


def _sum_with_corrections(exps, lo, name="rests"):
    """:math:`\\sum_k e_k (1 + l_k)` along rows as a pair: extraction plus the small terms.

    The corrections :math:`e_k l_k` (below :math:`746 u e_k`) join the
    rests of the extraction in one plain sum.
    """
    tau, small = ef.sum_nonnegative(exps, scratch(name, exps.shape))
    corrections = np.multiply(exps, lo, out=scratch("spare", exps.shape))
    small += corrections
    return ef.two_sum(tau, np.sum(small, axis=1))


def _scaled_rest(hi, lo, top):
    """The rest of rows with a tiny sum, from exponentials accurate to 2^-58 scaled into the normal range."""
    high, low = _scaled_exps(hi, lo)
    high[np.arange(len(top)), top] = 0
    low[np.arange(len(top)), top] = 0
    return _unscaled(_sum_of_pairs(high, low))


def _scaled_exps(hi, lo):
    """:math:`e^{h + l} 2^{600}` as pairs (:func:`xentref._error_free.exp`)."""
    return ef.exp((hi, lo), scale=600)


def _sum_of_pairs(high, low):
    """The sum along rows of non-negative pairs, as a pair (extraction on the high parts)."""
    tau, small = ef.sum_nonnegative(high)
    small += low
    return ef.two_sum(tau, np.sum(small, axis=1))


class Normaliser:
    """Per-row results of the first pass: the shift, the first maximum and the rest ``s``.

    The log of the normaliser :math:`\\sum_k e^{g_k} = 1 + s` is the pair
    :meth:`log`, and its reciprocal (the softmax at the maximum) :meth:`reciprocal`.
    """

    def __init__(self, shift, top, rest, precise, accurate=False):
        self.shift, self.top, self.rest, self.precise = shift, top, rest, precise
        self.accurate = accurate and precise

    def log(self):
        """:math:`\\operatorname{log1p}(s)` as a pair (float64 input) or ``(value, None)``.

        With `accurate`, within :math:`2^{-57}` (:func:`xentref._error_free.log1p`).
        """
        high, low = self.rest
        if not self.precise:
            return np.log1p(high), None
        if self.accurate:
            return ef.log1p(self.rest)
        with np.errstate(under="ignore"):
            # A low part below the normal range is negligible.
            return np.log1p(high), low / (1 + high)

    def reciprocal(self):
        """:math:`1/(1 + s)` as a pair (float64 input) or ``(value, None)``."""
        if not self.precise:
            return 1 / (1 + self.rest[0]), None
        return ef.divide((1.0, 0.0), ef.add((1.0, 0.0), self.rest))


def columns_of(z):
    """The `source` of :func:`normalise` for rows `z` held in memory: views of their classes."""
    return lambda first, last: z[:, first:last]


def normalise(source, n_columns, spans=None, gather=None, keep_gaps=True, precise=None, visit=None,
              accurate=False):
    """The :class:`Normaliser` of a block of rows, read chunk by chunk from `source`.

    Parameters
    ----------
    source : callable
        ``source(first, last)`` returns the rows' logits of classes
        ``first`` to ``last`` (exclusive), shape (R, last - first).
    n_columns : int
        The number of classes.
    spans : list of (int, int), optional
        The chunks of classes; by default one chunk if the row fits the
        block budget (:func:`xentref._blocks.column_spans`).
    gather : ndarray (R,) of int, optional
        A class per row whose logit to return as well (the label's).
    keep_gaps, precise, accurate : bool
        As for :class:`Shifted` (`keep_gaps` when one chunk holds the rows).
    visit : callable, optional
        ``visit(first, last, part, z)`` is called with each chunk's logits
        `z` shifted by the chunk's own maxima (`part`, a :class:`Shifted`
        that keeps its gaps), before the next chunk is read.

    Returns
    -------
    normaliser : Normaliser
    shifted : Shifted or None
        The rows shifted by their maxima, when one chunk held them.
    gathered : ndarray (R,) of float64 or None
        The logits at `gather`.

    Rows in several chunks: each chunk's maximum and rest are merged by the
    online rule of Milakov and Gimelshein, each chunk's sum rescaled by
    :math:`e^{m_c - a}` formed from the exact gap
    (:func:`xentref._error_free.exp`, relative error below :math:`2^{-58}`).
    """
    spans = column_spans(n_columns) if spans is None else spans
    if len(spans) == 1:
        z = source(0, n_columns)
        shifted = Shifted(z, keep_gaps=keep_gaps or visit is not None, precise=precise, accurate=accurate)
        gathered = None if gather is None else z[shifted.rows, gather].astype(np.float64)
        if visit is not None:
            visit(0, n_columns, shifted, z)
        normaliser = Normaliser(shifted.shift, shifted.top, shifted.rest, shifted.precise, accurate)
        return normaliser, shifted, gathered
    chunks, gathered = [], None
    for first, last in spans:
        z = source(first, last)
        precise = is_precise(z.dtype) if precise is None else precise
        if gather is not None:
            if gathered is None:
                gathered = np.zeros(len(gather))
            inside = (gather >= first) & (gather < last)
            gathered[inside] = z[inside, gather[inside] - first]
        part = Shifted(z, chunk=True, keep_gaps=visit is not None, precise=precise, accurate=accurate)
        if visit is not None:
            visit(first, last, part, z)
        chunk_max = part.shift[:, 0] if part.empty is None else np.where(part.empty, -np.inf, part.shift[:, 0])
        chunks.append((chunk_max, part.top + first, part.rest))
        del part
    normaliser = _merge(chunks, precise)
    normaliser.accurate = accurate and precise
    tiny = normaliser.rest[0] < TINY
    if precise and tiny.any():
        rest = tuple(part.copy() for part in normaliser.rest)
        for row in np.flatnonzero(tiny):
            high, low = _chunked_scaled_rest(source, spans, row, normaliser)
            rest[0][row], rest[1][row] = high[0], low[0]
        normaliser.rest = rest
    return normaliser, None, gathered


def _merge(chunks, precise):
    """Merge chunk-wise (maximum, first index, rest) into the row's: the online normaliser rule."""
    maxima = np.stack([chunk_max for chunk_max, _, _ in chunks])
    best = np.argmax(maxima, axis=0)
    rows = np.arange(maxima.shape[1])
    shift = maxima[best, rows]
    if np.isneginf(shift).any():
        raise Refused
    top = np.stack([top for _, top, _ in chunks])[best, rows]
    zeros = np.zeros(len(rows))
    total = (zeros, zeros)
    for index, (chunk_max, _, rest) in enumerate(chunks):
        mine = best == index
        if precise:
            with np.errstate(invalid="ignore", over="ignore"):
                # An empty chunk's gap is -inf, and so is one beyond the
                # float range; its low part is repaired, its scale is 0.
                high, low = gap_pair(chunk_max, shift)
            scale = ef.exp((high, finite_lows(high, low)))
            # The chunk's own maximum counts 1, unless it is the row's.
            term = ef.multiply(scale, ef.add((np.where(mine, 0.0, 1.0), zeros), rest))
            term = (np.where(mine, rest[0], term[0]), np.where(mine, rest[1], term[1]))
            total = ef.add(total, term)
        else:
            with np.errstate(under="ignore"):
                # Chunks far below the maximum contribute nothing.
                scale = np.exp(chunk_max - shift)
            total = (total[0] + np.where(mine, rest[0], scale * (1 + rest[0])), None)
    if precise:
        total = ef.normalised(total)
    return Normaliser(shift[:, None], top, total, precise)


def _chunked_scaled_rest(source, spans, row, normaliser):
    """:func:`_scaled_rest` of one row held in chunks, relative to its maximum."""
    total = (np.zeros(1), np.zeros(1))
    top = normaliser.top[row]
    for first, last in spans:
        part = Shifted(source(first, last)[row:row + 1], shift=normaliser.shift[row:row + 1])
        high, low = _scaled_exps(part.hi, part.lo)
        if first <= top < last:
            high[0, top - first] = low[0, top - first] = 0
        total = ef.add(total, _sum_of_pairs(high, low))
    return _unscaled(total)


def _unscaled(pair):
    """A pair scaled by 2^600 brought back: exactly, or rounded once into the subnormals."""
    total = ef.rounded(pair)
    with np.errstate(under="ignore"):
        # Into the subnormals: one rounding of the whole value.
        subnormal = np.ldexp(total, -600) < np.finfo(np.float64).tiny
        high = np.where(subnormal, np.ldexp(total, -600), np.ldexp(pair[0], -600))
        low = np.where(subnormal, 0.0, np.ldexp(pair[1], -600))
    return high, low


def shifted_chunks(source, n_columns, normaliser, shifted=None, spans=None, keep_gaps=True):
    """Yield ``(first, last, Shifted)`` over the classes, every chunk shifted by the rows' maxima.

    With `shifted` (one chunk held the rows), yields it; otherwise each chunk
    is read again from `source` and shifted by the normaliser's shift.
    """
    if shifted is not None:
        yield 0, n_columns, shifted
        return
    spans = column_spans(n_columns) if spans is None else spans
    for first, last in spans:
        yield first, last, Shifted(source(first, last), shift=normaliser.shift, keep_gaps=keep_gaps,
                                   precise=normaliser.precise, accurate=normaliser.accurate)


# Per-element results ------------------------------------------------------------


def log_softmax_values(part, log_normaliser, out):
    """Write :math:`g_k - \\operatorname{log1p}(s)` of chunk `part` into `out`, rounded once.

    Consumes `part`'s arrays.
    """
    log_high, log_low = log_normaliser
    if not part.precise:
        with np.errstate(over="ignore", under="ignore"):
            # Rounding once to float32: beyond its range is -inf, below it
            # a subnormal or 0.
            np.subtract(part.hi, log_high[:, None], out=out, casting="unsafe")
        return
    # TwoSum(hi, -log_high) in place, then the low parts: one rounding at the end.
    hi, spare, exps, lo = part.hi, scratch("spare", part.hi.shape), part.exps, part.lo
    with np.errstate(invalid="ignore"):
        # An infinite gap makes NaN inside the pair; its entry is -inf (below).
        total = np.subtract(hi, log_high[:, None], out=out)
        b_virtual = np.subtract(total, hi, out=spare)
        a_virtual = np.subtract(total, b_virtual, out=exps)
        error = np.subtract(hi, a_virtual, out=exps)
        b_virtual += log_high[:, None]
        error -= b_virtual
        lo -= log_low[:, None]
        error += lo
        total += error
    if part.infinite is not None and part.infinite.any():
        rows = part.infinite
        out[rows] = np.where(np.isneginf(hi[rows]), -np.inf, out[rows])


def scaled_exps(part, factor, out):
    """Write :math:`e^{g_k}` times the per-row pair `factor` into `out`, rounded once.

    ``e^{h_k} f_1 (1 + l_k + f_2 / f_1)``: the product with ``f_1`` and the
    correction are the two roundings (float64); in float32 one. Consumes
    `part`'s arrays.
    """
    high, low = factor
    if not part.precise:
        if part.scale is not None:
            high = high * part.scale
        with np.errstate(under="ignore"):
            # Rounding once to float32: values below its range go to 0.
            np.multiply(part.exps, high[:, None], out=out, casting="unsafe")
        return
    magnified = _magnified_subnormals(part, high)
    with np.errstate(under="ignore"):
        # Products and corrections below the normal range round toward 0:
        # a correction there is far below the entry's last bit.
        product = np.multiply(part.exps, high[:, None], out=part.exps)
        correction = part.exp_lo
        # A zero factor (a row whose every coefficient is 0) has a zero low part.
        correction += np.divide(low, high, out=np.zeros_like(low), where=high != 0)[:, None]
        correction *= product
        np.add(product, correction, out=out)
    if magnified is not None:
        rows, columns = magnified
        out[rows, columns] = _scaled_products(part, rows, columns, (high[rows], low[rows]))


def _magnified_subnormals(part, factor):
    """The entries whose exponential is below the normal range (or 0) in rows whose `factor` exceeds 1.

    Such an exponential lost digits to the subnormals, and the factor would
    magnify that absolute error beyond the product's last bit.
    """
    big = factor > 1
    if not big.any():
        return None
    rows = np.flatnonzero(big)
    small = part.exps[rows] < np.finfo(np.float64).tiny
    if not small.any():
        return None
    inner, columns = np.nonzero(small)
    return rows[inner], columns


def _scaled_products(part, rows, columns, factor):
    """:math:`e^{g} f` at the entries `rows`, `columns` of `part`, from exponentials scaled by :math:`2^{600}`."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        # As in Shifted: an infinite gap has exponential 0.
        high, low = gap_pair(part.z[rows, columns].astype(np.float64), part.shift[rows, 0])
        scaled = _scaled_exps(high, finite_lows(high, low))
        return ef.rounded(_unscaled(ef.multiply_wide(scaled, factor)))


def exp_at(chosen, shift, precise, accurate=False):
    """:math:`e^{g}` of one logit per row (float64 `chosen`), as a pair (float64 input) or ``(value, 0)``.

    With `accurate`, the pair is :func:`xentref._error_free.exp`'s.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        # As in Shifted: infinite gaps have exponential 0.
        high, low = gap_pair(chosen, shift[:, 0])
        if accurate and precise:
            return ef.exp((high, low))
        exps = np.exp(high)
        if not precise:
            return exps, np.zeros_like(exps)
        return exps, exps * finite_lows(high, low)
