r"""Connectionist temporal classification (Graves et al. 2006): a label sequence over all its alignments.

An alignment gives each frame a label or the blank and collapses to the
target once repeated labels are merged and blanks removed. The loss is minus
the log of the total probability of the target's alignments, summed by the
forward recursion over a lattice of :math:`2U + 1` states (the labels with a
blank before, between and after them). Here it runs in log space with each
frame's values shifted to a maximum of 0, so nothing underflows however long
the sequence, and every log-sum uses ``log1p``, so a tiny loss that one
alignment carries keeps its digits.
"""

from __future__ import annotations

import numpy as np

from xentref import _check as check
from xentref._docs import fill
from xentref._reduction import apply_reduction, reduction_divisor, scale_gradient
from xentref._typing import ArrayLike, Reduction, Result

_HINT = "Pass log_softmax(logits) over the class axis, the last one"


def _frames(log_probs):
    """Log-probabilities of shape (..., T, C): a log-distribution in every frame."""
    log_probs = check.floats(log_probs, "log_probs")
    if log_probs.ndim < 2:
        raise ValueError(
            f"`log_probs` must have shape (..., T, C), frames by classes; got shape {log_probs.shape}"
        )
    log_probs, _ = check.log_distribution(log_probs, -1, "log_probs", hint=_HINT)
    return log_probs


def _padded(targets, like):
    """Integer targets of shape (..., S), one row per sequence of frames in `like`."""
    targets = check.integers(targets, "targets", "label sequences")
    batch = like.shape[:-2]
    if targets.ndim != len(batch) + 1 or targets.shape[:-1] != batch:
        expected = "(" + "".join(f"{size}, " for size in batch) + "S)"
        raise ValueError(
            f"`targets` must have shape {expected}, a row of S labels (padded) for each "
            f"sequence of frames in `log_probs` {like.shape}; got shape {targets.shape}"
        )
    return targets


def _lengths(lengths, name, what, like, most, bound):
    """Integer lengths, one per sequence of frames in `like`, each in [0, `most`]."""
    lengths = check.integers(lengths, name, what)
    check.shape_of(lengths, like.shape[:-2], name, f"{like.shape[:-2]}, the batch shape of `log_probs` {like.shape}")
    return check.counts_up_to(lengths, most, name, bound)


def _labels(targets, target_lengths, classes, blank):
    """Refuse a label out of range, or the blank, among the first `target_lengths` of each row."""
    within = np.arange(targets.shape[-1]) < target_lengths[..., None]
    outside = within & ((targets < 0) | (targets >= classes))
    if outside.any():
        at = check.first_index(outside)
        raise ValueError(
            f"`targets` must hold labels in [0, {classes}) within `target_lengths`; "
            f"got {targets[at].item()!r} at index {at}"
        )
    blanks = within & (targets == blank)
    if blanks.any():
        raise ValueError(
            f"`targets` must not contain the blank label {blank} within "
            f"`target_lengths`; found it at index {check.first_index(blanks)}"
        )
    return targets


def _checked(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    log_probs = _frames(log_probs)
    check.reduction(reduction)
    *_, frames, classes = log_probs.shape
    blank = check.index(blank, "blank", classes)
    targets = _padded(targets, log_probs)
    width = targets.shape[-1]
    input_lengths = _lengths(input_lengths, "input_lengths", "numbers of frames", log_probs, frames,
                             f"at most T = {frames}, the frames of `log_probs`")
    target_lengths = _lengths(target_lengths, "target_lengths", "numbers of labels", log_probs, width,
                              f"at most S = {width}, the width of `targets`")
    targets = _labels(targets, target_lengths, classes, blank)
    zero_infinity = check.flag(zero_infinity, "zero_infinity")
    return log_probs, targets, input_lengths, target_lengths, blank, zero_infinity


# The lattice -----------------------------------------------------------------------


def _lattice(log_probs, targets, target_lengths, blank):
    r"""The states, where a state may be reached by skipping one, and each frame's emissions.

    State :math:`s` of the :math:`2S + 1` carries the label :math:`l'_s`:
    the blank at even :math:`s`, the target's labels at odd :math:`s`, and
    the blank again past the target's length (those states never reach the
    end and add nothing). A path may skip from :math:`s - 2` to :math:`s`
    when :math:`l'_s` is a label other than :math:`l'_{s-2}`.

    The emissions :math:`\log y^t_{l'_s}` are returned less their largest
    over the states, with those largest values (the offsets): a difference
    between two states' log-probabilities of :math:`-10^{100}` is then
    kept whole, not rounded away next to the value it is added to.
    """
    width = targets.shape[-1]
    within = np.arange(width) < target_lengths[..., None]
    states = np.full((*targets.shape[:-1], 2 * width + 1), blank, dtype=np.intp)
    states[..., 1::2] = np.where(within, targets, blank)
    skip = np.zeros(states.shape, dtype=bool)
    skip[..., 2:] = (states[..., 2:] != blank) & (states[..., 2:] != states[..., :-2])
    emissions, offsets = _shifted_to_zero(np.take_along_axis(log_probs, states[..., None, :], axis=-1))
    return states, skip, emissions, offsets


def _log_add(a, b, c):
    r""":math:`\log(e^a + e^b + e^c)` for arguments at most 0; -inf where all three are -inf.

    As Blanchard, Higham and Higham's log-sum-exp: the largest term, shifted
    to 1, is left out of the sum that enters ``log1p``, so a tiny sum of the
    others keeps its digits.
    """
    top = np.maximum(np.maximum(a, b), c)
    finite = top > -np.inf
    shift = np.where(finite, top, 0)
    with np.errstate(under="ignore"):
        # exp of a very negative gap underflows to 0, as it should.
        ea, eb, ec = np.exp(a - shift), np.exp(b - shift), np.exp(c - shift)
    rest = np.where(a == top, eb + ec, np.where(b == top, ea + ec, ea + eb))
    return np.where(finite, shift + np.log1p(rest), -np.inf)


def _right(x, by):
    """`x` moved `by` states up the lattice, -inf entering at the start."""
    moved = np.full_like(x, -np.inf)
    moved[..., by:] = x[..., :-by]
    return moved


def _left(x, by):
    """`x` moved `by` states down the lattice, -inf entering at the end."""
    moved = np.full_like(x, -np.inf)
    moved[..., :-by] = x[..., by:]
    return moved


def _shifted_to_zero(candidate):
    """`candidate` less its largest entry over the states, and that entry (-inf rows stay -inf)."""
    top = np.max(candidate, axis=-1, keepdims=True)
    finite = top > -np.inf
    return np.where(finite, candidate - np.where(finite, top, 0), -np.inf), top[..., 0]


def _forward(emissions, offsets, skip, input_lengths):
    r"""Each frame's forward log-variables, shifted to a maximum of 0, and the log-likelihood.

    :math:`\alpha_t(s) = y^t_{l'_s} \big(\alpha_{t-1}(s) + \alpha_{t-1}(s-1)
    + [\text{skip}_s]\, \alpha_{t-1}(s-2)\big)`, starting from the empty
    prefix, :math:`\alpha_{-1} = (1, 0, \ldots, 0)`. The shifts and the
    emissions' offsets add up to the log-likelihood, but for the log of the
    end states' sum. Also returns the last frame's variables, and whether
    any alignment may still have positive probability: False where every
    path meets a -inf log-probability.
    """
    *batch, frames, n_states = emissions.shape
    alpha = np.full((*batch, n_states), -np.inf, dtype=emissions.dtype)
    alpha[..., 0] = 0
    alphas = np.empty_like(emissions)
    increments = np.zeros(emissions.shape[:-1], dtype=emissions.dtype)
    possible = np.ones(batch, dtype=bool)
    for t in range(frames):
        running = t < input_lengths
        skipped = np.where(skip, _right(alpha, 2), -np.inf)
        with np.errstate(over="ignore"):
            # A log-probability below the float range rounds to -inf: that
            # state's weight, next to the frame's largest, rounds to 0.
            candidate = _log_add(alpha, _right(alpha, 1), skipped) + emissions[..., t, :]
        shifted, top = _shifted_to_zero(candidate)
        alpha = np.where(running[..., None], shifted, alpha)
        alphas[..., t, :] = alpha
        possible &= ~running | (top > -np.inf)
        increments[..., t] = np.where(running, offsets[..., t] + top, 0)
    with np.errstate(over="ignore"):
        # Summed pairwise, so that thousands of frames cost only a few
        # roundings; below the float range the sum is -inf (the loss +inf).
        log_likelihood = np.sum(increments, axis=-1)
    return alphas, alpha, log_likelihood, possible


def _ends(alpha, target_lengths):
    """Log of the sum over the states a complete alignment ends in: the last label and the blank after it."""
    last = 2 * target_lengths[..., None]
    blank_after = np.take_along_axis(alpha, last, axis=-1)[..., 0]
    label = np.take_along_axis(alpha, np.maximum(last - 1, 0), axis=-1)[..., 0]
    label = np.where(target_lengths > 0, label, -np.inf)
    return _log_add(blank_after, label, np.full_like(label, -np.inf))


def _backward(emissions, skip, target_lengths, input_lengths):
    r"""Each frame's backward log-variables, shifted to a maximum of 0.

    :math:`\beta_t(s)` is the probability of the frames after :math:`t`
    given state :math:`s` at :math:`t`: 1 at the end states on the last
    frame, and :math:`\sum_{s'} y^{t+1}_{l'_{s'}} \beta_{t+1}(s')` over
    :math:`s' \in \{s, s + 1, s + 2\}`, the last where it may be reached by
    a skip.
    """
    frames, n_states = emissions.shape[-2:]
    state = np.arange(n_states)
    last = 2 * target_lengths[..., None]
    finals = (state == last) | ((state == last - 1) & (last > 0))
    end = np.where(finals, 0, -np.inf).astype(emissions.dtype)
    skip_next = np.zeros_like(skip)
    skip_next[..., :-2] = skip[..., 2:]
    betas = np.empty_like(emissions)
    beta = end
    for t in reversed(range(frames - 1)):
        betas[..., t + 1, :] = beta
        with np.errstate(over="ignore"):
            # As in the forward pass: below the float range is -inf.
            after = beta + emissions[..., t + 1, :]
        skipped = np.where(skip_next, _left(after, 2), -np.inf)
        shifted, _ = _shifted_to_zero(_log_add(after, _left(after, 1), skipped))
        # A sequence's last frame, and the padding after it, start from the end states.
        beta = np.where((t < input_lengths - 1)[..., None], shifted, end)
    if frames:
        betas[..., 0, :] = beta
    return betas


def _forward_pass(log_probs, targets, input_lengths, target_lengths, blank):
    """The lattice, the forward variables, each sequence's log-likelihood and whether it is possible."""
    states, skip, emissions, offsets = _lattice(log_probs, targets, target_lengths, blank)
    alphas, alpha, log_likelihood, possible = _forward(emissions, offsets, skip, input_lengths)
    ends = _ends(alpha, target_lengths)
    possible &= ends > -np.inf
    with np.errstate(over="ignore"):
        # As in the forward pass: below the float range is -inf.
        log_likelihood = log_likelihood + ends
    return states, skip, emissions, alphas, log_likelihood, possible


def _losses(log_likelihood, zero_infinity):
    # 0 - log P: a log-likelihood of 0 gives the loss +0, not -0.
    losses = 0 - log_likelihood
    if zero_infinity:
        losses = np.where(losses == np.inf, 0, losses)
    return losses


def _occupancies(alphas, betas):
    r"""The posterior probability of each state at each frame, :math:`\alpha_t(s) \beta_t(s) / P`.

    Every alignment is in one state at each frame, so the products sum to
    :math:`P` over the states: the occupancies are a softmax of
    :math:`\log \alpha_t + \log \beta_t` over the states, computed in the
    shifted form of :func:`softmax` from the shifted variables, whatever
    :math:`P` is.
    """
    with np.errstate(over="ignore"):
        # As in the forward pass: below the float range is -inf.
        joint = alphas + betas
    top = np.argmax(joint, axis=-1)[..., None]
    highest = np.take_along_axis(joint, top, axis=-1)
    finite = highest > -np.inf
    with np.errstate(under="ignore"):
        # exp of a very negative gap underflows to 0, as it should.
        exps = np.exp(joint - np.where(finite, highest, 0))
    rest = exps.copy()
    np.put_along_axis(rest, top, 0, axis=-1)
    with np.errstate(under="ignore"):
        # An occupancy below the float range rounds toward 0.
        return exps / (1 + np.sum(rest, axis=-1, keepdims=True))


def _gradients(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    r"""Minus each frame's expected label counts, :math:`-\gamma_t(k)`, for each sequence."""
    states, skip, emissions, alphas, log_likelihood, possible = _forward_pass(
        log_probs, targets, input_lengths, target_lengths, blank
    )
    occupancies = _occupancies(alphas, _backward(emissions, skip, target_lengths, input_lengths))
    classes = log_probs.shape[-1]
    labelled = states[..., :, None] == np.arange(classes)
    counts = np.zeros(log_probs.shape, dtype=log_probs.dtype)
    with np.errstate(under="ignore"):
        # A product with a tiny occupancy is exact (the other factor is 0 or 1).
        for s in range(states.shape[-1]):
            counts = counts + occupancies[..., :, s, None] * labelled[..., None, s, :]
    frames = np.arange(log_probs.shape[-2])[:, None] < input_lengths[..., None, None]
    # 0 - gamma: an expected count of 0 gives +0.
    grad = np.where(frames, 0 - counts, 0)
    # No alignment: the loss is +inf on a neighbourhood and has no derivative.
    grad = np.where(possible[..., None, None] | ~frames, grad, np.nan)
    if zero_infinity:
        grad = np.where((log_likelihood == -np.inf)[..., None, None], 0, grad)
    return grad.astype(log_probs.dtype, copy=False)


@fill()
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
    r"""Connectionist temporal classification loss of label sequences under per-frame log-probabilities.

    Parameters
    ----------
    log_probs : array_like, shape (..., T, C)
        For each sequence, T frames of log-probabilities over the C classes
        (the labels and the blank), such as ``log_softmax(logits)``: at most
        0, finite or -inf (probability zero), each frame's logsumexp 0
        within the square root of machine epsilon. Every frame is checked,
        padding frames too. Batch first; PyTorch's (T, N, C) is
        ``np.moveaxis(log_probs, 0, 1)``.
    targets : array_like of int, shape (..., S)
        For each sequence a row of labels, padded to S: the first
        ``target_lengths`` entries are the target, each in [0, C) and not
        `blank`; the entries after them are padding, never read.
    input_lengths : array_like of int, shape (...)
        The number of frames of each sequence, in [0, T]; frames after it
        are padding, never read.
    target_lengths : array_like of int, shape (...)
        The number of labels of each target, in [0, S].
    blank : int, optional
        The class index of the blank, in [0, C). Default 0, as in PyTorch.
    reduction : {"mean", "sum", "none"}, optional
        ``"none"`` returns one loss per sequence, shape (...); ``"sum"``
        their sum; ``"mean"`` (default) their sum divided by their count.
        PyTorch's ``"mean"`` is different; see Notes.
    zero_infinity : bool, optional
        If True, an infinite loss, and its gradient, count as 0, as in
        PyTorch; the mean still counts that sequence. Default False.

    Returns
    -------
    loss : ndarray
        A scalar for ``"mean"`` and ``"sum"``, shape (...) for ``"none"``,
        in the dtype of `log_probs`. +inf where no alignment of the target
        has positive probability.

    Raises
    ------
    TypeError
        If `log_probs` is not real-valued float32/float64 data, `targets` or
        a length is not integer data, `blank` is not an integer or
        `zero_infinity` is not a bool.
    ValueError
        If `log_probs` contains NaN, +inf or a positive entry, has fewer
        than two dimensions or an empty class axis, or a frame is not a
        log-distribution; the shapes do not fit; a length is negative or
        longer than its array; a target holds a label out of range or the
        blank; `blank` is out of range; `reduction` is unknown; or the mean
        of an empty batch is asked for.

    See Also
    --------
    nll_loss : the loss of one label per frame, when the alignment is known.
    xentref.grad.ctc_loss : its gradient.

    Notes
    -----
    Let :math:`y^t_k = e^{\text{log\_probs}[t, k]}`. An alignment
    :math:`\pi \in \{0, \ldots, C - 1\}^{T}` of a target :math:`l` of
    length :math:`U` is a sequence of classes that the collapse map
    :math:`\mathcal{B}` (merge repeated classes, then remove blanks) takes
    to :math:`l`. The loss is

    .. math::

        \ell = -\log \sum_{\pi \in \mathcal{B}^{-1}(l)} \prod_{t=1}^{T} y^t_{\pi_t},

    computed by the forward recursion over the states :math:`l' = (b, l_1,
    b, l_2, \ldots, l_U, b)`:

    .. math::

        \alpha_t(s) &= y^t_{l'_s} \big(\alpha_{t-1}(s) + \alpha_{t-1}(s-1) \\
        &\qquad + [l'_s \ne b,\ l'_s \ne l'_{s-2}]\ \alpha_{t-1}(s-2)\big), \\
        \ell &= -\log\big(\alpha_T(2U) + \alpha_T(2U - 1)\big),

    from :math:`\alpha_0 = (1, 0, \ldots)`. Between two equal labels the
    alignment must pass through a blank, so a target with :math:`r`
    repeated neighbours needs at least :math:`U + r` frames.

    With fewer frames, or when every alignment meets a log-probability of
    -inf, no alignment has positive probability and the loss is
    :math:`-\log 0 = +\infty`: the correct value, not an error, as in
    PyTorch. ``zero_infinity=True`` replaces it, and its gradient, by 0, as
    PyTorch's does, for batches in which a few sequences cannot be aligned.
    An empty target on no frames has probability 1 and loss 0.

    The recursion runs on logarithms, each frame shifted to a maximum of 0,
    so a likelihood far below the smallest float (a thousand frames give
    about :math:`e^{-1400}`) is no trouble, and every log-sum uses
    ``log1p``. The loss is within a few ulps of the size of the terms it is
    formed from, the expected :math:`-\log p(\pi)` of the alignments under
    their posterior (the loss plus that posterior's entropy): when one
    alignment carries the probability, of the loss itself, however tiny.
    A state whose log-probability falls further below its frame's largest
    than the float range reaches (about 1.8e308) counts as impossible.

    The mapping to ``torch.nn.functional.ctc_loss(log_probs, targets,
    input_lengths, target_lengths, blank, reduction, zero_infinity)``:
    the same arguments with ``np.moveaxis(log_probs, 0, 1)`` and padded
    (N, S) targets. Where they differ:

    - PyTorch's ``"mean"`` divides each loss by its target length (1 for an
      empty target) before it averages over the batch. Here ``"mean"``
      means what it means for every loss of this package, the plain mean;
      PyTorch's is
      ``np.mean(losses / np.maximum(target_lengths, 1))`` with
      ``losses = ctc_loss(..., reduction="none")``.
    - PyTorch accepts a target that contains the blank, and any scores as
      log-probabilities, and returns a number; here both are refused.
    - PyTorch adds the terms of its log-sums without ``log1p``, so a tiny
      loss loses digits there.
    - PyTorch's backward returns :math:`y^t_k - \gamma_t(k)`, the gradient
      with respect to the logits before a ``log_softmax``, as the gradient
      with respect to `log_probs`; :func:`xentref.grad.ctc_loss` returns
      the partial derivatives, :math:`-\gamma_t(k)`. Through
      ``log_softmax`` both give the same gradient of the logits.

    References
    ----------
    .. [1] %(graves)s
    .. [2] %(graves_book)s

    Examples
    --------
    Two frames, each the blank or label 1 with probability 1/2: the target
    (1,) has the three alignments (1, 1), (1, blank) and (blank, 1), of
    total probability 3/4.

    >>> import numpy as np
    >>> import xentref
    >>> log_probs = np.log(np.full((2, 2), 0.5))
    >>> loss = xentref.ctc_loss(log_probs, [1], 2, 1)
    >>> bool(np.isclose(loss, np.log(4 / 3), rtol=1e-15, atol=0))
    True

    The target (1, 1) needs a blank between its labels, so three frames:

    >>> print(xentref.ctc_loss(log_probs, [1, 1], 2, 2))
    inf

    A batch of two sequences, batch first, padded: the second has 4 frames
    and the target (3,). PyTorch's ``"mean"`` (2.6772 here) divides each
    loss by its target's length first:

    >>> log_probs = xentref.log_softmax(np.random.default_rng(0).normal(size=(2, 6, 4)))
    >>> targets, input_lengths, target_lengths = [[1, 2, 2], [3, 0, 0]], [6, 4], [3, 1]
    >>> losses = xentref.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="none")
    >>> print(np.round(losses, 4))
    [7.6563 2.8024]
    >>> print(np.round(np.mean(losses / np.maximum(target_lengths, 1)), 4))
    2.6772
    """
    log_probs, targets, input_lengths, target_lengths, blank, zero_infinity = _checked(
        log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity
    )
    *_, log_likelihood, _ = _forward_pass(log_probs, targets, input_lengths, target_lengths, blank)
    return apply_reduction(_losses(log_likelihood, zero_infinity), reduction)


@fill(of=ctc_loss)
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
    r"""Gradient of %(loss)s with respect to `log_probs`.

    Parameters
    ----------
    %(same_parameters)s

    Returns
    -------
    grad : ndarray, shape (..., T, C)
        The shape and dtype of `log_probs`: the derivative of the reduced
        loss with respect to each log-probability (of each sequence's own
        loss for ``"none"``), :math:`-\gamma_t(k)`, between -1 and 0. 0 on
        the padding frames. NaN on the frames of a sequence that no
        alignment fits (its loss is +inf on a whole neighbourhood, and has
        no derivative), unless `zero_infinity` makes it 0.

    Raises
    ------
    %(same_raises)s

    See Also
    --------
    xentref.ctc_loss
    xentref.grad.nll_loss : the gradient when the alignment is known.

    Notes
    -----
    With every log-probability an independent variable,

    .. math:: \frac{\partial \ell}{\partial \log y^t_k} = -\gamma_t(k),
              \qquad \gamma_t(k) = \frac{1}{P}
              \sum_{s:\, l'_s = k} \alpha_t(s)\, \beta_t(s),

    where :math:`\beta_t(s)` is the probability of the frames after
    :math:`t` given state :math:`s` at :math:`t` (the backward recursion)
    and :math:`P = \sum_s \alpha_t(s) \beta_t(s)` for every :math:`t`:
    :math:`\gamma_t(k)` is the expected number of alignments' visits to
    class :math:`k` at frame :math:`t`, under their posterior, so each
    frame's entries sum to -1. They are computed as a softmax over the
    states of :math:`\log \alpha_t + \log \beta_t`, from the shifted
    variables, so :math:`P` never enters; an entry is known to a few ulps
    of :math:`\gamma_t(k)(1 + L + |\log \gamma_t(k)|)`, with :math:`L`
    the size of the loss's terms (see :func:`xentref.ctc_loss`). Divided by
    the number of sequences for ``"mean"``.

    Through ``log_probs = log_softmax(z)`` the gradient with respect to the
    logits is :math:`y^t_k - \gamma_t(k)`, which is what PyTorch's backward
    returns for `log_probs` itself.

    References
    ----------
    .. [1] %(graves)s

    Examples
    --------
    >>> import numpy as np
    >>> from xentref import grad
    >>> log_probs = np.log(np.full((2, 2), 0.5))
    >>> print(grad.ctc_loss(log_probs, [1], 2, 1, reduction="sum") * 3)
    [[-1. -2.]
     [-1. -2.]]

    Of the three alignments of (1,), one visits the blank at each frame and
    two visit the label: :math:`\gamma = (1/3, 2/3)` on both frames.
    """
    log_probs, targets, input_lengths, target_lengths, blank, zero_infinity = _checked(
        log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity
    )
    divisor = reduction_divisor(input_lengths.size, reduction)
    grad = _gradients(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)
    return scale_gradient(grad, None, divisor)
