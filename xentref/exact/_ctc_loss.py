r"""Exact CTC loss and its gradient: the forward and backward recursions in ball arithmetic.

The recursions run on logarithms, as balls, with -inf (probability zero)
kept apart as None, so that log-probabilities as large as :math:`-10^{300}`
are numbers like any other: Arb's ``exp`` of such an argument is a ball
around 0 whose logarithm is undefined. A sequence that no alignment fits
(every path through the lattice meets a -inf) has a loss of +inf, decided
before any arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from flint import arb

import xentref
from xentref import grad as float_grad
from xentref._typing import ArrayLike, Reduction, Result
from xentref.exact._arrays import exact, floats, like
from xentref.exact._certify import certify
from xentref.exact._doc import mirrors
from xentref.exact._reduction import reduced
from xentref.exact._split import Split

# A ball of infinite radius: a value not known at the working precision.
UNKNOWN = arb(0, math.inf)


def log_add(values):
    r""":math:`\log \sum_i e^{v_i}` for balls `values`, None standing for -inf; None if all are.

    The ball with the largest midpoint is taken out, so every other
    exponential is of a number no larger than the balls' radii. Where those
    radii are too wide for ``exp`` (a gap of :math:`10^{163}` known to
    :math:`10^{125}`), the sum is unknown at this precision: the result is
    the ball of infinite radius, which certify answers with more precision.
    """
    finite = [v for v in values if v is not None]
    if not finite:
        return None
    top = max(range(len(finite)), key=lambda i: finite[i].mid())
    rest = sum(((v - finite[top]).exp() for i, v in enumerate(finite) if i != top), arb(0))
    if not rest.is_finite():
        return UNKNOWN
    return finite[top] + rest.log1p()


def plus(a, b):
    """``a + b`` for balls, None standing for -inf."""
    return None if a is None or b is None else a + b


class Lattice:
    r"""One sequence: its states, a most probable alignment, and the recursions.

    `frames` holds the log-probabilities of its ``input_length`` frames (the
    padding is never read), `target` its labels. The recursions run on the
    log-probabilities less those of a most probable alignment
    :math:`\pi^*` at each frame, :math:`\log y^t_k - \log y^t_{\pi^*_t}`, so
    their likelihood is :math:`R = P / p(\pi^*) \ge 1`. The loss splits as
    :math:`-\log p(\pi^*)`, an exact sum of the inputs, plus
    :math:`-\log R \le 0`, which is exactly 0 when no other alignment has
    positive probability: a loss that is a float midpoint, or lies next to
    one, is then rounded by that sign (:class:`~xentref.exact._split.Split`).
    """

    def __init__(self, frames, target, blank):
        self.frames = frames
        self.states = [blank] + [state for label in target for state in (label, blank)]
        self.skip = [
            s >= 2 and label != blank and label != self.states[s - 2]
            for s, label in enumerate(self.states)
        ]
        self.path = self._most_probable()
        self.alignments = self._count()

    def _ends(self):
        n_states = len(self.states)
        return {n_states - 1, n_states - 2} if n_states > 1 else {0}

    def _sources(self, s):
        return [s] + [s - 1] * (s >= 1) + [s - 2] * self.skip[s]

    def _most_probable(self):
        """The classes of a most probable alignment (Viterbi, in floats), or None if none has positive probability.

        The log-probabilities are scaled by 2**-64, so that no sum of them
        overflows; which alignment is chosen only affects how wide the
        balls are, not the values.
        """
        score = [0.0] + [-math.inf] * (len(self.states) - 1)
        back = []
        for row in self.frames:
            pointers = [max(self._sources(s), key=lambda r: score[r]) for s in range(len(self.states))]
            score = [score[r] + row[label] * 2.0**-64 for r, label in zip(pointers, self.states)]
            back.append(pointers)
        end = max(self._ends(), key=lambda s: score[s])
        if score[end] == -math.inf:
            return None
        path = []
        for pointers in reversed(back):
            path.append(self.states[end])
            end = pointers[end]
        return path[::-1]

    def _count(self):
        """How many alignments have positive probability (no -inf log-probability on them)."""
        count = [1] + [0] * (len(self.states) - 1)
        for row in self.frames:
            count = [
                (row[label] > -math.inf) * sum(count[r] for r in self._sources(s))
                for s, label in enumerate(self.states)
            ]
        return sum(count[s] for s in self._ends())

    def emissions(self):
        r""":math:`\log y^t_{l'_s} - \log y^t_{\pi^*_t}` for each frame and state; None at a -inf log-probability."""
        return [
            [None if row[label] == -math.inf else exact(row[label]) - exact(row[k]) for label in self.states]
            for row, k in zip(self.frames, self.path)
        ]

    def forward(self):
        r""":math:`\log \alpha_t(s)` for every frame, and :math:`\log R`, of the end states."""
        alpha = [arb(0)] + [None] * (len(self.states) - 1)
        alphas = []
        for emissions in self.emissions():
            alpha = [plus(log_add([alpha[r] for r in self._sources(s)]), e) for s, e in enumerate(emissions)]
            alphas.append(alpha)
        return alphas, log_add([alpha[s] for s in self._ends()])

    def backward(self):
        r""":math:`\log \beta_t(s)`, the weight of the frames after :math:`t` given state :math:`s` at :math:`t`."""
        n_states, emissions = len(self.states), self.emissions()
        beta = [arb(0) if s in self._ends() else None for s in range(n_states)]
        betas = [beta]
        for t in range(len(emissions) - 2, -1, -1):
            after = [plus(b, e) for b, e in zip(beta, emissions[t + 1])]
            beta = [
                log_add([after[r] for r in range(n_states) if s in self._sources(r)])
                for s in range(n_states)
            ]
            betas.append(beta)
        return betas[::-1]

    def loss(self):
        r"""The loss: :math:`+\infty`, or a Split of :math:`-\log p(\pi^*)` and :math:`-\log R`."""
        if self.path is None:
            return math.inf
        main = -sum((exact(row[k]) for row, k in zip(self.frames, self.path)), arb(0))
        if self.alignments == 1:
            return Split(main, arb(0), -1)
        _, log_ratio = self.forward()
        return Split(main, -log_ratio, -1)


def _sequences(log_probs, targets, input_lengths, target_lengths, blank):
    """A :class:`Lattice` for each sequence, in C order of the batch."""
    log_probs = floats(log_probs)
    *batch, frames, classes = log_probs.shape
    n = int(np.prod(batch, dtype=np.int64))
    rows = log_probs.reshape(n, frames, classes).tolist()
    targets = np.asarray(targets).reshape(n, -1).astype(np.int64).tolist() if n else []
    input_lengths = np.ravel(input_lengths).tolist()
    target_lengths = np.ravel(target_lengths).tolist()
    return [
        Lattice(row[:t_n], target[:u_n], blank)
        for row, target, t_n, u_n in zip(rows, targets, input_lengths, target_lengths)
    ]


def _overflows(lattices, dtype):
    """Whether each sequence's loss rounds to +inf in `dtype`: what `zero_infinity` removes."""
    return [
        certify(lambda lattice=lattice: [lattice.loss()], dtype, "ctc_loss")[0] == math.inf
        for lattice in lattices
    ]


@mirrors(
    "xentref.ctc_loss", "Exact connectionist temporal classification loss.",
    r"\ell = -\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_t y^t_{\pi_t}", "loss",
)
def ctc_loss(
    log_probs: ArrayLike,
    targets: ArrayLike,
    input_lengths: ArrayLike,
    target_lengths: ArrayLike,
    *,
    blank: int = 0,
    reduction: Reduction = "mean",
    zero_infinity: bool = False,
) -> Result:
    template = xentref.ctc_loss(
        log_probs, targets, input_lengths, target_lengths,
        blank=blank, reduction=reduction, zero_infinity=zero_infinity,
    )
    lattices = _sequences(log_probs, targets, input_lengths, target_lengths, blank)
    removed = _overflows(lattices, template.dtype) if zero_infinity else [False] * len(lattices)
    return reduced(
        [lambda lattice=lattice, gone=gone: arb(0) if gone else lattice.loss()
         for lattice, gone in zip(lattices, removed)],
        reduction, template, "ctc_loss",
    )


def _gradient(lattice, classes, padding, count):
    r"""-gamma_t(k) / count for one sequence's frames, then 0 on its padding frames."""
    frames = len(lattice.frames)
    if lattice.path is None:
        return [math.nan] * (frames * classes) + [0.0] * (padding * classes)
    alphas, log_ratio = lattice.forward()
    values = []
    for alpha, beta in zip(alphas, lattice.backward()):
        visits = [arb(0)] * classes
        for label, a, b in zip(lattice.states, alpha, beta):
            joint = plus(a, b)
            if joint is None:
                continue
            if not (joint - log_ratio).is_finite():
                return [UNKNOWN] * ((frames + padding) * classes)
            visits[label] += (joint - log_ratio).exp()
        values += [-v / count for v in visits]
    return values + [0.0] * (padding * classes)


@mirrors(
    "xentref.grad.ctc_loss", "Exact gradient of the connectionist temporal classification loss.",
    r"\frac{\partial \ell}{\partial \log y^t_k} = -\frac{1}{P} \sum_{s:\, l'_s = k} \alpha_t(s) \beta_t(s)",
    "grad",
)
def ctc_loss_grad(
    log_probs: ArrayLike,
    targets: ArrayLike,
    input_lengths: ArrayLike,
    target_lengths: ArrayLike,
    *,
    blank: int = 0,
    reduction: Reduction = "mean",
    zero_infinity: bool = False,
) -> Result:
    template = float_grad.ctc_loss(
        log_probs, targets, input_lengths, target_lengths,
        blank=blank, reduction=reduction, zero_infinity=zero_infinity,
    )
    *_, frames, classes = template.shape
    lattices = _sequences(log_probs, targets, input_lengths, target_lengths, blank)
    removed = _overflows(lattices, template.dtype) if zero_infinity else [False] * len(lattices)
    count = len(lattices) if reduction == "mean" else 1
    values = []
    for lattice, gone in zip(lattices, removed):
        if gone:
            values += [0.0] * (frames * classes)
            continue
        padding = frames - len(lattice.frames)
        values += certify(
            lambda lattice=lattice, padding=padding: _gradient(lattice, classes, padding, count),
            template.dtype, "grad.ctc_loss",
        )
    return like(template, values)
