r"""Knowledge distillation (Hinton, Vinyals and Dean 2015) from logits, from the exact gaps.

Each row of logits :math:`z` at temperature :math:`T` is shifted by its
first maximum :math:`a` as the kernel of :mod:`xentref._shift` shifts it:
the gap :math:`g_k = z_k - a` is the exact pair :math:`h_k + l_k` (TwoSum),
and the softened gap :math:`g_k / T` the pair :math:`x_k + y_k` with
:math:`x_k = \operatorname{fl}(h_k / T)` and :math:`y_k` the rest, formed
from the exact remainder :math:`h_k - T x_k` (Dekker's product,
:func:`xentref._error_free.divide_wide`) plus :math:`l_k`, divided by
:math:`T`. A gap beyond the float range (a finite logit, an infinite
:math:`h_k`) is formed from the halved logits, whose gap is finite, and
doubled. Then, as in the kernel, :math:`s = \sum_{k \ne m} e^{x_k}(1 + y_k)`
by extraction, :math:`L = \operatorname{log1p}(s)` and :math:`r = 1/(1 + s)`
as pairs; the log-softmax :math:`\log p_k = (x_k + y_k) - L` and the softmax
:math:`p_k = e^{x_k}(1 + y_k)\, r` are pairs. The student's give
:math:`\log q_k` and :math:`q_k` alike.

The loss :math:`T^2 \sum_k p_k (\log p_k - \log q_k)` is a sum of terms of
both signs, each a product of pairs; the positive and the negative terms
are summed by extraction, the two sums subtracted as pairs and multiplied by
:math:`T` twice, and the result rounded once. The gradient
:math:`T (q_k - p_k) / N` is the difference of the two pairs times the pair
:math:`T/N`, rounded once.

Error bounds for float64
------------------------
With :math:`u = 2^{-53}` and the platform assumption of :mod:`xentref._shift`
(NumPy's ``exp`` and ``log1p`` within :math:`\alpha_e = \alpha_l = 1.6u` of
the exact value, ``tests/test_kernel.py`` samples them):

- The softened gap pair is :math:`g_k / T` up to :math:`2u^2 |g_k / T|`:
  the remainder :math:`h_k - T x_k` is exact, and only its sum with
  :math:`l_k` and the quotient by :math:`T` round, each by :math:`u` of a
  value below :math:`2u |x_k|`. As in :mod:`xentref._shift`, every other
  :math:`O(u^2)` term below is left out of the bounds.
- :math:`s` is within :math:`\alpha_e` of itself, :math:`L` within
  :math:`\alpha_e + \alpha_l = 3.2u` of itself, :math:`r` within
  :math:`\alpha_e`, so :math:`p_k` is within :math:`3.2u` of itself
  (:mod:`xentref._shift`), and :math:`\log p_k` within :math:`3.2u L_p` of
  itself, absolutely; :math:`\log q_k` within :math:`3.2u L_q`.
- The difference :math:`d_k = \log p_k - \log q_k` of the two pairs is then
  within :math:`3.2u (L_p + L_q)` of the exact one: this error is common to
  every class and does not shrink with :math:`d_k`. The term
  :math:`p_k d_k` is within :math:`3.2u |p_k d_k| + 3.2u\, p_k (L_p + L_q)`,
  and since :math:`\sum_k p_k = 1` the sum within
  :math:`3.2u (\sum_k |p_k d_k| + L_p + L_q)`. The extraction sums, their
  difference and the products with :math:`T` add :math:`O(u^2)` of that;
  the final rounding half an ulp of the value, which is at most
  :math:`\sum_k |p_k d_k|`.

So the loss is within **3.7 ulps** of the exact value, measured against
:math:`S = T^2 (\sum_k |p_k (\log p_k - \log q_k)| + L_p + L_q)`, with
:math:`L_p = \log \sum_k e^{(t_k - \max t)/T} \in [0, \log K]` and
:math:`L_q` likewise for the student (``tests/cases.py`` tests 4). The
terms :math:`L_p + L_q` cannot be left out of the scale by any formula that
normalises the two rows separately: when the student is within a few ulps
of the teacher, :math:`\sum_k |p_k d_k|` is of the order of that difference
while the errors of the two ``exp``/``log1p`` evaluations are not
correlated: the hard corpus at :math:`T = 20` has rows 70 ulps of
:math:`T^2 \sum_k |p_k d_k|` from the exact value and within 1 of :math:`S`.

The gradient entry :math:`T (q_k - p_k)/N` is within :math:`3.2u (p_k + q_k)`
times :math:`T/N` before its one rounding: **3.7 ulps** of
:math:`T (p_k + q_k) / N`, rounded to 4 in ``tests/cases.py``.

Input narrower than float64 is computed in plain float64 and rounded once
(:class:`Plain`, no pairs). The gaps of float32 logits are exact in float64
unless two logits differ by more than a factor :math:`2^{28}`, and then
within :math:`u |g_k|`; softened, exponentiated and normalised, every
:math:`p_k` above float64's smallest normal number (so
:math:`|x_k| < 746`) is within :math:`1500u` of itself and every
:math:`\log p_k` within :math:`3u (|x_k| + L_p) + 2u \sum_j p_j |x_j|`.
Summed with the weights :math:`p_k`, and with :math:`\sum_k p_k |x_k| =
L_p + H(p) \le 747 L_p` (the terms other than the maximum's have
:math:`|x_k| < 746` and weigh :math:`s/(1 + s) \le L_p` in all), likewise
for the student with :math:`\sum_k p_k |x^s_k| = L_q + H(p) + \mathrm{KL}`,
the loss is within :math:`10^4 u\, S < 2^{-39} S` of the exact value: far
below half an ulp of :math:`S` in float32 (:math:`2^{-25} S` at least), so
within 1 ulp of the same scales, and the gradient within 1 ulp of
:math:`T (p_k + q_k)/N` likewise. A block whose softened gaps leave
float64's range (a temperature below about :math:`10^{-270}`) is computed
with the pairs instead.
"""

from __future__ import annotations

import numpy as np

from xentref import _blocks as blocks
from xentref import _check as check
from xentref import _error_free as ef
from xentref._docs import fill
from xentref._focal_loss import dropped_rows
from xentref._half import round_to
from xentref._reduction import apply_reduction, selected_divisor
from xentref._shift import (
    TINY,
    Normaliser,
    _scaled_rest,
    _sum_with_corrections,
    _unscaled,
    finite_lows,
    gap_pair,
)
from xentref._typing import ArrayLike, Reduction, Result


def _checked(student_logits, teacher_logits, temperature, axis, reduction, where):
    student, axis = check.logits(student_logits, axis, "student_logits")
    keep = check.where(where, student.shape[:axis] + student.shape[axis + 1:])
    teacher = check.floats(teacher_logits, "teacher_logits", half=True)
    if keep is not None and teacher.shape == student.shape:
        # The teachers of the examples left out are not read.
        teacher = check.selected_rows(teacher, axis, keep, 0.0)
    teacher, _ = check.logits(teacher, axis, "teacher_logits")
    teacher = check.read_like(
        check.same_shape(teacher, student, "teacher_logits", "student_logits"),
        student, "teacher_logits", "student_logits",
    )
    temperature = check.number(temperature, "temperature", "(0, inf)")
    check.reduction(reduction)
    return student, teacher, temperature, axis, keep


def _negative(pair):
    return -pair[0], -pair[1]


def _divided(pair, temperature):
    """The pair ``pair / T`` for finite pairs of any size: beyond the float range it is -inf."""
    high, low = ef.divide_by_float(pair, temperature)
    return high, np.where(np.isfinite(high), low, 0.0)


class Softened:
    r"""A block of rows `z` (float64, (R, K)) at temperature :math:`T`, from the exact gaps.

    Attributes
    ----------
    absent : ndarray (R, K) of bool
        The -inf logits.
    overflowed : ndarray (R,) of bool
        Rows with a gap beyond the float range.
    gaps, half_gaps : pairs of ndarray (R, K)
        :math:`z_k - a` (-inf where it leaves the float range) and
        :math:`(z_k - a)/2` (finite wherever the logit is), exactly.
    log_normaliser : pair of ndarray (R, 1)
        :math:`L = \operatorname{log1p}(s)`.
    log_probability, probability : pairs of ndarray (R, K)
        The softened log-softmax and softmax.
    """

    def __init__(self, z, temperature):
        rows = np.arange(len(z))
        top = np.argmax(z, axis=1)
        shift = z[rows, top][:, None]
        self.absent = np.isneginf(z)
        with np.errstate(over="ignore", invalid="ignore"):
            # A gap beyond the float range, or at a -inf logit, rounds to -inf
            # and its low part is NaN: repaired here and below.
            hi, lo = gap_pair(z, shift)
        lo = finite_lows(hi, lo)
        self.gaps = hi, lo
        beyond = np.isneginf(hi) & ~self.absent
        self.overflowed = np.any(beyond, axis=1)
        with np.errstate(under="ignore"):
            # Halving a subnormal gap may lose its last bit, 2^-1075: only
            # in rows whose other row holds a gap beyond the float range,
            # whose terms dwarf it.
            half = hi * 0.5, lo * 0.5
        if beyond.any():
            # Halving these huge logits is exact, and their gap is then finite.
            half_hi, half_lo = gap_pair(z[beyond] * 0.5, np.broadcast_to(shift, z.shape)[beyond] * 0.5)
            half[0][beyond], half[1][beyond] = half_hi, half_lo
        self.half_gaps = half
        x, y = self._softened(temperature, beyond)
        with np.errstate(under="ignore"):
            # Exponentials far below the maximum, and their corrections,
            # underflow toward 0; the row's sum is then formed again scaled.
            exps = np.exp(x)
            exps[rows, top] = 0
            rest = _sum_with_corrections(exps, y)
            tiny = (rest[0] < TINY) & (z.shape[1] > 1)
            if tiny.any():
                scaled = _scaled_rest(x[tiny], y[tiny], top[tiny])
                rest[0][tiny], rest[1][tiny] = scaled
        exps[rows, top] = 1
        normaliser = Normaliser(None, top, rest, True)
        self.log_normaliser = tuple(part[:, None] for part in normaliser.log())
        present = x > -np.inf
        with np.errstate(invalid="ignore"):
            # A -inf gap makes NaN inside the pair: its entry is -inf.
            log_probability = ef.add((x, y), _negative(self.log_normaliser))
        self.log_probability = (np.where(present, log_probability[0], -np.inf),
                                np.where(present, log_probability[1], 0.0))
        self.softened, self.reciprocal = (x, y), tuple(part[:, None] for part in normaliser.reciprocal())
        with np.errstate(under="ignore"):
            # Probabilities below the normal range round toward 0.
            self.probability = ef.multiply((exps, exps * y), self.reciprocal)

    def scaled_probability(self, rows):
        """The probabilities of `rows` (bool) times 2^600, accurate where the plain ones are subnormal."""
        x, y = (part[rows] for part in self.softened)
        return ef.multiply(ef.exp((x, y), scale=600), tuple(part[rows] for part in self.reciprocal))

    def _softened(self, temperature, beyond):
        """The gaps divided by T as pairs: -inf at -inf logits and where the quotient leaves the float range."""
        hi, lo = self.gaps
        finite = np.isfinite(hi)
        with np.errstate(over="ignore", under="ignore"):
            # A quotient beyond the float range is -inf (probability 0), one
            # below it rounds into the subnormals.
            x, y = _divided((np.where(finite, hi, 0.0), lo), temperature)
            if beyond.any():
                half = _divided((self.half_gaps[0][beyond], self.half_gaps[1][beyond]), temperature)
                doubled = np.ldexp(half[0], 1)
                x[beyond] = doubled
                y[beyond] = np.where(np.isfinite(doubled), np.ldexp(half[1], 1), 0.0)
        x[self.absent], y[self.absent] = -np.inf, 0.0
        return x, y


def _summed(probability, scaled, both, factor):
    r""":math:`\text{factor} \sum_k p_k \, \text{scaled}_k` per row as a pair, and the sum of the terms' sizes.

    Terms of both signs: the positive and the negative ones are summed
    apart by extraction, then subtracted as pairs. An infinite sum gives an
    infinite value.
    """
    with np.errstate(invalid="ignore", under="ignore"):
        # Products with the zeroed entries of -inf logits; tiny ones round toward 0.
        terms = ef.multiply_wide(probability, scaled)
    high, low = (np.where(both, part, 0.0) for part in terms)
    positive = ef.sum_wide(np.maximum(high, 0.0))
    negative = ef.sum_wide(np.maximum(-high, 0.0))
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        # A sum beyond the float range is inf (then NaN inside the pair,
        # repaired below), and so is its product with T; a tiny one rounds.
        value = ef.add(ef.add(positive, _negative(negative)), (np.sum(low, axis=1), 0.0))
        value = ef.multiply_wide(value, (factor, np.zeros_like(factor)))
        infinite = np.isinf(positive[0]) | np.isinf(negative[0])
        value = np.where(infinite, positive[0] - negative[0], value[0]), np.where(infinite, 0.0, value[1])
        return value, positive[0] + negative[0]


class Plain:
    r"""A block of rows `z` (float64 from narrower input, (R, K)) at temperature :math:`T`, in plain float64.

    Attributes
    ----------
    gaps : ndarray (R, K)
        :math:`z_k - a`, -inf at the -inf logits.
    log_normaliser : ndarray (R, 1)
        :math:`L = \operatorname{log1p}(s)`, :math:`s = \sum_{k \ne m} e^{g_k / T}`.
    probability : ndarray (R, K)
        The softened softmax.
    valid : bool
        False when a softened gap or :math:`T L` leaves float64's range:
        then the block takes :class:`Softened` instead.
    """

    def __init__(self, z, temperature):
        self.gaps = z - np.max(z, axis=1, keepdims=True)
        with np.errstate(over="ignore", under="ignore"):
            # Quotients beyond the range are the signal to take the pairs.
            x = self.gaps / temperature
            exps = np.exp(x)
        # L = log1p(s), s the sum without the maximum's 1: a tiny L keeps its digits.
        rows, top = np.arange(len(z)), np.argmax(z, axis=1)
        exps[rows, top] = 0
        rest = np.sum(exps, axis=1, keepdims=True)
        exps[rows, top] = 1
        self.log_normaliser = np.log1p(rest)
        with np.errstate(over="ignore"):
            # As above.
            scaled = temperature * self.log_normaliser
        self.valid = bool(np.all(np.isfinite(x) | np.isneginf(z)) and np.all(np.isfinite(scaled)))
        with np.errstate(under="ignore"):
            # Probabilities below the normal range round toward 0.
            self.probability = exps / (1 + rest)


def _softened(student_rows, teacher_rows, start, stop, temperature):
    """The softened student (q) and teacher (p) of rows start:stop: :class:`Plain` for narrow input if valid."""
    rows = tuple(part[start:stop].astype(np.float64) for part in (student_rows, teacher_rows))
    if student_rows.dtype != np.float64:
        plain = tuple(Plain(z, temperature) for z in rows)
        if all(part.valid for part in plain):
            return plain
    return tuple(Softened(z, temperature) for z in rows)


def _plain_divergences(q, p, temperature):
    r""":math:`T \sum_k p_k \, T d_k` per row in plain float64, :math:`T d_k = (g^t_k - g^s_k) - T (L_p - L_q)`."""
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        # A -inf student logit under a teacher's finite one makes the term
        # +inf, and NaN under a -inf one, where it is nothing; tiny terms
        # round toward 0.
        scaled = (p.gaps - q.gaps) - temperature * (p.log_normaliser - q.log_normaliser)
        terms = np.where(p.probability > 0, p.probability * scaled, 0.0)
        losses = temperature * np.sum(terms, axis=1)
    # A teacher's finite logit over a student's -inf one is an infinite
    # loss, even where the teacher's probability underflows to 0.
    impossible = np.any(np.isfinite(p.gaps) & np.isneginf(q.gaps), axis=1)
    return np.where(impossible, np.inf, losses)


def _divergences(q, p, temperature):
    r""":math:`T^2 \sum_k p_k (\log p_k - \log q_k)` per row, float64, rounded once.

    From the :class:`Softened` student `q` and teacher `p`. Formed as
    :math:`T \sum_k p_k \, T d_k` with :math:`T d_k = (g^t_k - g^s_k)
    - T (L_p - L_q)`, from the unsoftened gaps (no quotient to overflow), in
    halves in rows where a gap leaves the float range.
    """
    if isinstance(q, Plain):
        return _plain_divergences(q, p, temperature)
    halved = (q.overflowed | p.overflowed)[:, None]
    unit = np.where(halved, 0.5, 1.0)
    both = ~p.absent & ~q.absent
    impossible = np.any(~p.absent & q.absent, axis=1)
    gap_p, gap_q = ((np.where(halved, part.half_gaps[0], part.gaps[0]),
                     np.where(halved, part.half_gaps[1], part.gaps[1])) for part in (p, q))
    with np.errstate(invalid="ignore", over="ignore", under="ignore"):
        # Entries at -inf logits make NaN in the pairs: their terms are 0
        # (below), or the row's loss +inf. Tiny products round toward 0.
        logs = ef.multiply_wide(ef.add(p.log_normaliser, _negative(q.log_normaliser)), (unit * temperature, 0.0))
        scaled = ef.add(ef.add(gap_p, _negative(gap_q)), _negative(logs))
    scaled = np.where(both, scaled[0], 0.0), np.where(both, scaled[1], 0.0)
    value, size = _summed(p.probability, scaled, both, temperature / unit[:, 0])
    losses = ef.rounded(value)
    # Rows whose terms are below 2^-960 may hold subnormal probabilities:
    # again with the probabilities scaled by 2^600 (exact), rounded once on the way back.
    tiny = (size < TINY) & ~impossible
    if tiny.any():
        again, _ = _summed(p.scaled_probability(tiny), tuple(part[tiny] for part in scaled), both[tiny],
                           temperature / unit[tiny, 0])
        losses[tiny] = ef.rounded(_unscaled(again))
    return np.where(impossible, np.inf, losses) + 0.0


def _rows_of(student, teacher, axis):
    return blocks.as_rows(student, axis), blocks.as_rows(teacher, axis)


def _budget(dtype):
    # The two rows' Softened and the sums hold some forty float64 arrays of
    # the block: a sixteenth of the usual block keeps them near its memory.
    # Narrow input's Plain rows hold about ten: an eighth.
    return blocks.budget_for(dtype) // (16 if np.dtype(dtype) == np.float64 else 8)


@fill()
def distillation_loss(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Distillation loss: the KL divergence between softened softmaxes, times
    :math:`T^2`.

    Parameters
    ----------
    student_logits : array_like, shape (..., K)
        The student's logits :math:`s`: finite or -inf, with at least one
        entry above -inf along `axis`.
    teacher_logits : array_like, shape (..., K)
        The teacher's logits :math:`t`, likewise, with the shape of
        `student_logits`; read in its dtype, within whose range they must lie.
    temperature : float
        :math:`T > 0`, finite. Hinton et al. use values from 1 to 20.
    %(axis)s
    %(reduction)s
    %(where_examples)s

    Returns
    -------
    %(loss_returns)s

    Raises
    ------
    TypeError
        If the logits are not real-valued float16, bfloat16, float32 or
        float64 data or `temperature` is not a real number.
    ValueError
        If either logits contain NaN or +inf or an all -inf slice, their
        shapes differ, a finite teacher logit overflows the dtype of
        `student_logits`, `temperature` is not positive and finite,
        `reduction` is unknown, or the mean of an empty batch is asked for.

    See Also
    --------
    kl_divergence_of_log_probs : the divergence it computes.
    xentref.grad.distillation_loss : its gradient.

    Notes
    -----
    With :math:`p = \operatorname{softmax}(t / T)` and
    :math:`q = \operatorname{softmax}(s / T)`,

    .. math:: \ell(s, t) = T^2 \, D_{KL}(p \,\|\, q)
              = T^2 \sum_k p_k (\log p_k - \log q_k).

    Its gradient with respect to :math:`s` is :math:`T (q - p)`. Without
    the factor :math:`T^2` it would be :math:`(q - p)/T`, which for large
    :math:`T` shrinks like :math:`1/T^2` (Hinton et al., section 2.1): the
    factor keeps the gradient's scale as the temperature changes, and the
    gradient tends to :math:`(s - t)/K` for zero-mean logits. The
    cross-entropy :math:`-\sum p_k \log q_k` has the same gradient; the KL
    divergence also vanishes when the student matches the teacher.
    ``"mean"`` divides by the number of examples (PyTorch's
    ``reduction="batchmean"``; its ``"mean"`` divides by the number of
    elements, K times more).

    Both softmaxes are formed from the exact gaps :math:`z_k - \max z`
    divided by :math:`T` as pairs of floats, so that wide gaps keep their
    digits at any temperature.

    Accuracy, float64: within 4 ulps of the exact value, measured against
    :math:`T^2 (\sum_k |p_k (\log p_k - \log q_k)| + L_p + L_q)`, where
    :math:`L_p = \log \sum_k e^{(t_k - \max t)/T} \le \log K` and
    :math:`L_q` likewise (the terms have both signs), for any logits, gaps
    beyond the float range included; float32, float16 and bfloat16 are
    computed in float64 and rounded once: within 1 ulp. The :math:`L`
    terms make this an absolute bound for a student close to its teacher:
    the roundings of the two normalisers do not shrink with the divergence.

    References
    ----------
    .. [1] %(hinton)s

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> s, t = np.array([[1.0, 2.0, 0.0]]), np.array([[2.0, 1.0, 0.0]])
    >>> T = 4.0
    >>> kl = xentref.kl_divergence(
    ...     xentref.softmax(t / T), xentref.softmax(s / T)
    ... )
    >>> bool(
    ...     np.isclose(
    ...         xentref.distillation_loss(s, t, temperature=T), T**2 * kl[0]
    ...     )
    ... )
    True

    A student that matches the teacher up to a constant costs nothing:

    >>> float(xentref.distillation_loss(t + 3, t, temperature=T))
    0.0
    """
    student, teacher, temperature, axis, keep = _checked(
        student_logits, teacher_logits, temperature, axis, reduction, where
    )
    student_rows, teacher_rows = _rows_of(student, teacher, axis)

    def block(start, stop):
        return (_divergences(*_softened(student_rows, teacher_rows, start, stop, temperature), temperature),)

    (losses,) = blocks.run(block, *student_rows.shape, budget=_budget(student.dtype))
    return _reduced(losses, student, axis, keep, reduction)


def _reduced(losses, student, axis, keep, reduction):
    """The float64 per-row `losses` rounded to the dtype of `student`, batch-shaped, and reduced."""
    losses = blocks.from_rows(round_to(losses, student.dtype), student, axis)
    divisor = selected_divisor(losses.size, keep, reduction)
    return apply_reduction(dropped_rows(losses, keep), reduction, divisor)


def _gradient_factor(temperature, divisor):
    """:math:`T/N` as a pair, so that the gradient is rounded once."""
    return ef.divide_wide((np.float64(temperature), np.float64(0.0)), (np.float64(divisor), np.float64(0.0)))


def _write_gradient(q, p, factor, out):
    """Write :math:`T (q_k - p_k) / N` into `out`, rounded once."""
    with np.errstate(under="ignore"):
        # A gradient below the normal range rounds toward 0.
        if isinstance(q, Plain):
            grad = (q.probability - p.probability) * ef.rounded(factor)
        else:
            grad = ef.rounded(ef.multiply_wide(ef.add(q.probability, _negative(p.probability)), factor))
        out[...] = round_to(grad, out.dtype)


@fill(of=distillation_loss)
def distillation_loss_grad(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> Result:
    r"""Gradient of %(loss)s with respect to `student_logits`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray, shape (..., K)
        The shape and dtype of `student_logits`: the derivative of the
        reduced loss with respect to each student logit (of each example's
        own loss for ``"none"``).

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.distillation_loss

    Notes
    -----
    .. math:: \frac{\partial \ell}{\partial s_k} = T (q_k - p_k),

    divided by the number of examples for ``"mean"``, with :math:`q_k` and
    :math:`p_k` formed from the exact gaps as pairs of floats and their
    difference rounded once: a student that matches its teacher up to a
    constant gets exactly 0.

    Accuracy, float64: each entry within 4 ulps of the exact value,
    measured against :math:`T (q_k + p_k)`, divided by the number of
    examples for ``"mean"``; float32, float16 and bfloat16 are computed
    in float64 and rounded once: within 1 ulp.

    References
    ----------
    .. [1] %(hinton)s

    Examples
    --------
    At a high temperature the gradient is :math:`(s - t)/K` for zero-mean
    logits (Hinton et al., section 2.1):

    >>> import numpy as np
    >>> from xentref import grad
    >>> s, t = np.array([0.5, -1.0, 0.5]), np.array([-0.25, 0.5, -0.25])
    >>> g = grad.distillation_loss(s, t, temperature=1e6)
    >>> print(np.round(g, 6), (s - t) / 3)
    [ 0.25 -0.5   0.25] [ 0.25 -0.5   0.25]
    """
    checked = _checked(student_logits, teacher_logits, temperature, axis, reduction, where)
    _, gradient = _gradient_pass(*checked, reduction, with_losses=False)
    return gradient


def _gradient_pass(student, teacher, temperature, axis, keep, reduction, with_losses):
    """The gradient, and with `with_losses` each example's loss, from one softening per block of rows."""
    divisor = selected_divisor(student.size // student.shape[axis], keep, reduction)
    student_rows, teacher_rows = _rows_of(student, teacher, axis)
    out = np.empty(student_rows.shape, dtype=student.dtype)
    factor = _gradient_factor(temperature, divisor)

    def block(start, stop):
        q, p = _softened(student_rows, teacher_rows, start, stop, temperature)
        losses = _divergences(q, p, temperature) if with_losses else None
        _write_gradient(q, p, factor, out[start:stop])
        return (losses,) if with_losses else None

    results = blocks.run(block, *student_rows.shape, n_results=int(with_losses), budget=_budget(student.dtype))
    gradient = dropped_rows(blocks.from_rows(out, student, axis), keep, axis)
    return (results[0] if with_losses else None), gradient


@fill(of=distillation_loss)
def distillation_loss_value_and_grad(
    student_logits: ArrayLike,
    teacher_logits: ArrayLike,
    *,
    temperature: float,
    axis: int = -1,
    reduction: Reduction = "mean",
    where: ArrayLike | None = None,
) -> tuple[Result, Result]:
    r"""%(loss)s and its gradient, from one pass over the logits.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    %(together_returns)s

    Raises
    ------
    %(same_raises)s

    Notes
    -----
    Both results equal those of the two functions bit for bit. The loss and
    the gradient start from the same softened student and teacher, formed
    here once per block of rows instead of twice, which is most of the work.

    Examples
    --------
    >>> import numpy as np
    >>> import xentref
    >>> s, t = np.array([[0.5, -1.0, 0.5]]), np.array([[-0.25, 0.5, -0.25]])
    >>> loss, g = xentref.value_and_grad.distillation_loss(s, t, temperature=2.0)
    >>> bool(loss == xentref.distillation_loss(s, t, temperature=2.0))
    True
    """
    student, teacher, temperature, axis, keep = _checked(
        student_logits, teacher_logits, temperature, axis, reduction, where
    )
    losses, gradient = _gradient_pass(student, teacher, temperature, axis, keep, reduction, with_losses=True)
    return _reduced(losses, student, axis, keep, reduction), gradient
