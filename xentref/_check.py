"""Input checks: one named step per argument, each returning it validated.

A loss opens with a short list of these steps. Each raises ``TypeError`` or
``ValueError`` with a message that names the argument, says what was expected
and shows what arrived. A step makes at most one cheap pass over its argument
and locates the offending entry only once it knows there is one.
"""

import numpy as np

from xentref import _blocks as blocks
from xentref._half import HALF, eps, round_to

REDUCTIONS = ("mean", "sum", "none")


def sum_tolerance(dtype):
    """Tolerance on ``|sum(p) - 1|`` for a distribution of the given dtype.

    The square root of machine epsilon: about 1.5e-8 for float64 and 3.5e-4
    for float32. Rounding in a K-class vector that was normalised in that
    dtype stays far below it, while a vector that is not a distribution at all
    (unnormalised scores, a forgotten softmax) is caught.
    """
    return float(np.sqrt(eps(dtype)))


def first_index(mask):
    """The index of the first True entry of `mask`, as a tuple of ints."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def at_batch_index(index):
    """Where in the batch a per-slice problem is: nothing for a single slice."""
    return f" at batch index {index}" if index else ""


def array(x, name):
    """``np.asarray(x)``, refusing a ragged nested sequence by name."""
    try:
        return np.asarray(x)
    except ValueError:
        raise ValueError(
            f"`{name}` must be a rectangular array; got a nested sequence "
            f"whose rows have different lengths"
        ) from None


def floats(x, name, half=False):
    """``x`` as a float32 or float64 array (or float16 or bfloat16, with `half`).

    Python numbers, booleans and integer arrays become float64, as in NumPy.
    Other dtypes (float16 unless `half`, longdouble, complex, object,
    strings) are refused rather than converted, so that no precision is
    lost or invented silently. The softmax family takes `half`: it computes
    in float64 and rounds once to the input's dtype.
    """
    x = array(x, name)
    if x.dtype.kind in "biu":
        return x.astype(np.float64)
    allowed = ((np.float32, np.float64, *HALF)) if half else (np.float32, np.float64)
    if x.dtype not in allowed:
        names = f"{', '.join(str(np.dtype(d)) for d in HALF)}, float32 or float64" if half else "float32 or float64"
        raise TypeError(f"`{name}` must hold real numbers of dtype {names}; got dtype {x.dtype}")
    return x


def in_dtype(x, dtype):
    """`x` in `dtype`, the dtype of the predictions it is combined with.

    A result keeps the dtype of the predictions even when targets or weights
    arrive as Python numbers (float64).
    """
    if np.dtype(dtype) in HALF and x.dtype != dtype:
        # Rounded once, also to bfloat16 (see xentref._half).
        return round_to(np.asarray(x, dtype=np.float64), dtype)
    with np.errstate(under="ignore", over="ignore"):
        # A float64 value below the float32 range becomes 0, one beyond it inf
        # (which the weight check then refuses).
        return x.astype(dtype, copy=False)


def read_like(x, like, name, like_name):
    """`x` in the dtype of `like`, refusing a finite entry that overflows it.

    For a second array of the same kind as the first (a teacher's logits
    beside a student's): read in a narrower dtype, a finite value beyond its
    range would become an infinity, which is not what was given.
    """
    converted = in_dtype(x, like.dtype)
    if converted.dtype == x.dtype:
        return converted
    overflowed = np.isinf(converted) & np.isfinite(x)
    if overflowed.any():
        at = first_index(overflowed)
        raise ValueError(
            f"`{name}` must lie within the range of the dtype of `{like_name}`, {like.dtype}; "
            f"got {x[at].item()!r} at index {at}"
        )
    return converted


def class_axis(x, axis, name):
    """Validate ``axis`` for ``x`` and return it as a non-negative index."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"`axis` must be an integer; got {axis!r}")
    if x.ndim == 0:
        raise ValueError(
            f"`{name}` must have at least one dimension (the class axis); "
            f"got a scalar"
        )
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"`axis` {axis} is out of range for `{name}` with {x.ndim} dimension(s)"
        )
    index = int(axis) % x.ndim
    if x.shape[index] == 0:
        raise ValueError(
            f"`{name}` has an empty class axis: axis {axis} of shape {x.shape} "
            f"has size 0"
        )
    return index


def no_nan(x, name):
    """Refuse NaN anywhere in ``x``."""
    nan = np.isnan(x)
    if nan.any():
        raise ValueError(
            f"`{name}` must not contain NaN; found NaN at index {first_index(nan)}"
        )


def finite(x, name, where=""):
    """Refuse NaN and infinities anywhere in ``x``; `where` qualifies the message."""
    no_nan(x, name)
    infinite = np.isinf(x)
    if infinite.any():
        at = first_index(infinite)
        raise ValueError(f"`{name}` must be finite{where}; got {x[at].item()!r} at index {at}")


def finite_or_minus_inf(x, name):
    """Refuse NaN and +inf anywhere in ``x``; -inf encodes probability zero."""
    no_nan(x, name)
    plus_inf = np.isposinf(x)
    if plus_inf.any():
        raise ValueError(
            f"`{name}` must be finite or -inf; found +inf at index {first_index(plus_inf)}"
        )


def values(x, name):
    """Real values of any shape: float data without NaN; +-inf allowed."""
    x = floats(x, name)
    no_nan(x, name)
    return x


def logits_array(x, axis, name="logits"):
    """Logits' dtype and class axis, without reading the entries; return them with the axis index.

    For the functions that read every entry anyway, block by block: their
    blocks refuse a row whose maximum is NaN, +inf or -inf
    (:class:`xentref._blocks.Refused`), and :func:`logits` then finds the
    entry and says what is wrong. Half precision is accepted.
    """
    x = floats(x, name, half=True)
    return x, class_axis(x, axis, name)


def logits(x, axis, name="logits"):
    """Logits along a class axis; return them with the axis index.

    Entries must be finite or -inf (probability zero), with at least one
    entry above -inf in every slice along the axis. The slices' maxima show
    all three faults (NaN propagates, +inf and an all -inf slice are
    extreme), so the entries are searched only when one is there.
    """
    x = floats(x, name, half=True)
    index = class_axis(x, axis, name)
    top = np.max(x, axis=index)
    if np.all(np.isfinite(top)):
        return x, index
    finite_or_minus_inf(x, name)
    raise ValueError(
        f"`{name}` must have at least one entry above -inf along axis {index}; "
        f"every entry is -inf{at_batch_index(first_index(np.isneginf(top)))}"
    )


def distribution(p, axis, name, half=False):
    """Probability vectors along a class axis; return them with the axis index.

    Entries must be probabilities, in [0, 1], and each slice along ``axis``
    must sum to one within :func:`sum_tolerance`. Nothing is renormalised.
    An entry above 1 is refused even when its slice sums to 1 within the
    tolerance: it is not a probability, and it would make an entropy or a
    cross-entropy negative.
    With `half`, float16 and bfloat16 are accepted (summed in float64).
    """
    p = floats(p, name, half=half)
    index = class_axis(p, axis, name)
    no_nan(p, name)
    negative = p < 0
    if negative.any():
        at = first_index(negative)
        raise ValueError(f"`{name}` must be non-negative; got {p[at].item()!r} at index {at}")
    infinite = np.isinf(p)
    if infinite.any():
        at = first_index(infinite)
        raise ValueError(f"`{name}` must be finite; got {p[at].item()!r} at index {at}")
    above_one = p > 1
    if above_one.any():
        at = first_index(above_one)
        raise ValueError(
            f"`{name}` must hold probabilities, at most 1; got {p[at].item()!r} at index {at}"
        )
    tolerance = sum_tolerance(p.dtype)
    totals = probability_sums(p, index)
    off = np.abs(totals - 1) > tolerance
    if np.any(off):
        at = first_index(off)
        total = np.asarray(totals)[at].item()
        raise ValueError(
            f"`{name}` must sum to 1 along axis {index} (tolerance "
            f"{tolerance:.2g} for {p.dtype}); got a sum of "
            f"{total!r}{at_batch_index(at)}{_computed_in_float32(p.dtype, total)}"
        )
    return p, index


def probability_sums(p, axis):
    """Sums along `axis` for the test of :func:`distribution`: in the dtype, float64 for half precision."""
    return np.sum(p, axis=axis, dtype=np.float64 if p.dtype in HALF else None)


def _computed_in_float32(dtype, total):
    """A hint for float64 sums that are off by what float32 rounding leaves."""
    if dtype != np.float64 or abs(total - 1) > sum_tolerance(np.float32):
        return ""
    return (
        f". A sum this close to 1 is what rounding leaves in probabilities "
        f"computed in float32: pass them as float32 (tolerance "
        f"{sum_tolerance(np.float32):.2g}), or divide them by their sum in float64"
    )


LOGITS_HINT = "Pass log_softmax(logits), or use softmax_cross_entropy on logits"


def log_distribution(log_p, axis, name, hint=LOGITS_HINT):
    """Log-probabilities along a class axis; return them with the axis index.

    Entries must be finite or -inf and at most 0 (a probability of at most
    1), and each slice's logsumexp must be 0 within :func:`sum_tolerance`,
    the tolerance on a probability sum; unnormalised logits fail this, and
    the message ends with `hint`, what to pass instead. One pass, block by
    block: the sum of the exponentials of each slice, whose logarithm is
    tested (NaN and +inf fail the test too, and are then looked for to be
    named).
    """
    log_p = floats(log_p, name, half=True)
    index = class_axis(log_p, axis, name)
    tolerance = sum_tolerance(log_p.dtype)
    rows = blocks.as_rows(log_p, index)

    def block(start, stop):
        z = rows[start:stop]
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            # Entries of log-probabilities are at most about 0, so exp cannot
            # overflow on valid input; logits may overflow to inf, NaN stays
            # NaN, and an all -inf slice sums to 0: each fails the test.
            exps = np.exp(z, out=blocks.scratch("exps", z.shape, z.dtype))
            largest = np.max(z, axis=1) if z.shape[1] else np.zeros(len(z), z.dtype)
            return np.log(np.sum(exps, axis=1, dtype=np.float64)), largest

    totals, largest = blocks.run(block, *rows.shape, n_results=2)
    off = ~(np.abs(totals) <= tolerance)
    if np.any(off):
        no_nan(log_p, name)
        plus_inf = np.isposinf(log_p)
        if plus_inf.any():
            raise ValueError(
                f"`{name}` must be finite or -inf; found +inf at index "
                f"{first_index(plus_inf)}"
            )
        totals = blocks.from_rows(totals, log_p, index)
        at = first_index(np.asarray(blocks.from_rows(off, log_p, index)))
        raise ValueError(
            f"`{name}` must hold log-probabilities: their logsumexp along axis "
            f"{index} must be 0 (tolerance {tolerance:.2g} for {log_p.dtype}); "
            f"got {np.asarray(totals)[at].item()!r}{at_batch_index(at)}. {hint}"
        )
    if np.any(largest > 0):
        at = first_index(log_p > 0)
        raise ValueError(
            f"`{name}` must hold log-probabilities, at most 0; got "
            f"{log_p[at].item()!r} at index {at}"
        )
    return log_p, index


def same_classes(p, q, axis, p_name, q_name):
    """Broadcast two class-axis arrays; return them with the class axis index.

    Batch dimensions broadcast as in NumPy, so ``p`` of shape (K,) pairs with
    ``q`` of shape (N, K). The class axis must be the same dimension of both
    arrays, counted from the end, and have the same length in both: stretching
    a distribution over more classes is never meant.
    """
    p_axis = class_axis(p, axis, p_name)
    q_axis = class_axis(q, axis, q_name)
    if p.ndim - p_axis != q.ndim - q_axis:
        raise ValueError(
            f"`axis` {axis} names different dimensions of `{p_name}` {p.shape} "
            f"and `{q_name}` {q.shape} once they broadcast; count it from the "
            f"end (a negative axis) when their ranks differ"
        )
    if p.shape[p_axis] != q.shape[q_axis]:
        raise ValueError(
            f"`{p_name}` and `{q_name}` must have the same number of classes "
            f"along axis {axis}; got {p.shape[p_axis]} and {q.shape[q_axis]}"
        )
    from_end = q.ndim - q_axis
    try:
        p, q = np.broadcast_arrays(p, q)
    except ValueError:
        raise ValueError(
            f"the shapes of `{p_name}` {p.shape} and `{q_name}` {q.shape} "
            f"do not broadcast"
        ) from None
    return p, q, p.ndim - from_end


def unit_interval(x, name, like=None, like_name=None, keep=None):
    """Values in [0, 1] (probabilities, binary targets), float, without NaN.

    With `like`, `x` must have its shape and is returned in its dtype. With
    `keep` (a checked `where`), only the selected entries are read; the
    others become 0.
    """
    x = floats(x, name)
    if like is not None and x.shape != like.shape:
        raise ValueError(
            f"`{name}` must have the shape of `{like_name}` {like.shape}; got {x.shape}"
        )
    if keep is not None:
        x = np.where(keep, x, np.zeros((), x.dtype))
    no_nan(x, name)
    outside = (x < 0) | (x > 1)
    if outside.any():
        at = first_index(outside)
        raise ValueError(f"`{name}` must be in [0, 1]; got {x[at].item()!r} at index {at}")
    return x if like is None else in_dtype(x, like.dtype)


def weights(weight, like, name, like_name):
    """Non-negative finite weights that broadcast to `like`, in its dtype.

    None stays None. `weight` must broadcast to the shape of `like` without
    enlarging it, and be finite and non-negative once in the dtype of `like`.
    """
    if weight is None:
        return None
    original = floats(weight, name)
    try:
        fits = np.broadcast_shapes(original.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"`{name}` of shape {original.shape} must broadcast to the shape "
            f"of `{like_name}` {like.shape}"
        )
    no_nan(original, name)
    converted = in_dtype(original, like.dtype)
    bad = (converted < 0) | np.isinf(converted)
    if bad.any():
        at = first_index(bad)
        value = original[at].item()
        overflow = ""
        if np.isfinite(value) and value > 0:
            overflow = f", which overflows {like.dtype}"
        raise ValueError(
            f"`{name}` must be finite and non-negative; got {value!r} at index "
            f"{at}{overflow}"
        )
    return converted


def labels(labels, like, axis, name, where=None):
    """Integer class labels for `like`, whose class axis is `axis` (an index).

    The labels have the shape of `like` without its class axis and lie in
    [0, K). They are returned with that axis kept at size 1, ready for
    ``take_along_axis``. With `where`, a boolean array of the labels' shape,
    only the labels where it is True must lie in [0, K): the others may be
    any integer (padding such as -100) and are returned as 0.
    """
    labels = array(labels, name)
    batch_shape = like.shape[:axis] + like.shape[axis + 1:]
    n_classes = like.shape[axis]
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"`{name}` of shape {labels.shape} holds class labels and must "
            f"have an integer dtype; got {labels.dtype}"
        )
    if labels.shape != batch_shape:
        raise ValueError(
            f"`{name}` as class labels must have shape {batch_shape}; got {labels.shape}"
        )
    outside = (labels < 0) | (labels >= n_classes)
    if where is not None:
        outside &= where
    if np.any(outside):
        at = first_index(outside)
        padding = "" if where is None else (
            ", a position that counts (only masked positions may hold other integers)"
        )
        raise ValueError(
            f"`{name}` must be class labels in [0, {n_classes}); got "
            f"{labels[at].item()!r} at index {at}{padding}"
        )
    if where is not None:
        labels = np.where(where, labels, 0)
    return np.expand_dims(labels, axis)


def targets(targets, logits, axis, like_name="logits", entries=True):
    """Labels or probability targets for `logits` with class axis `axis`.

    `like_name` is the name of the prediction in messages (`probs` for a
    loss on probabilities).

    Returns ``(probabilities, None)`` for probability vectors with the shape
    of `logits`, in its dtype, or ``(None, labels)`` for integer labels with
    the class axis kept at size 1. With ``entries=False`` probability
    targets keep their dtype and their entries are not read: the caller
    checks them block by block, converted to the dtype of `logits`, and
    calls :func:`distribution` on a failure for the message.
    """
    targets = array(targets, "targets")
    if targets.ndim == logits.ndim:
        targets = floats(targets, "targets", half=True)
        if targets.shape != logits.shape:
            raise ValueError(
                f"`targets` as probabilities must have the shape of `{like_name}` "
                f"{logits.shape}; got {targets.shape}"
            )
        if not entries:
            return targets, None
        probabilities, _ = distribution(in_dtype(targets, logits.dtype), axis, "targets", half=True)
        return probabilities, None
    if targets.ndim == logits.ndim - 1:
        return None, labels(targets, logits, axis, "targets")
    batch_shape = logits.shape[:axis] + logits.shape[axis + 1:]
    raise ValueError(
        f"`targets` must be class labels of shape {batch_shape} or "
        f"probabilities of shape {logits.shape}; got shape {targets.shape}"
    )


def base(base):
    """Natural log of ``base``, the divisor that converts nats to that unit."""
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
        raise TypeError(f"`base` must be a real number or None; got {base!r}")
    if not (np.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"`base` must be a finite positive number other than 1; got {base!r}")
    return float(np.log(base))


def reduction(reduction, choices=REDUCTIONS):
    """Refuse anything but one of `choices`: ``"mean"``, ``"sum"`` or ``"none"`` by default."""
    if not isinstance(reduction, str) or reduction not in choices:
        listed = ", ".join(repr(choice) for choice in choices[:-1])
        raise ValueError(
            f"`reduction` must be one of {listed} or {choices[-1]!r}; got {reduction!r}"
        )
    return reduction


def number(value, name, interval):
    """A real scalar (Python or NumPy, not a bool) in `interval`, as a float.

    `interval` is written as in the message, such as ``"[0, 1]"``,
    ``"(0, inf)"`` or ``"[-1, inf)"``: a bracket includes its end, a
    parenthesis excludes it. NaN lies in no interval, and inf only in one
    that includes it.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a real number; got {value!r}")
    value = value.item() if isinstance(value, np.generic) else value
    low, high = (float(end) for end in interval[1:-1].split(","))
    above = value >= low if interval[0] == "[" else value > low
    below = value <= high if interval[-1] == "]" else value < high
    if not (above and below):
        raise ValueError(f"`{name}` must be a real number in {interval}; got {value!r}")
    return float(value)


def class_weights(weight, like, axis, name):
    """One non-negative finite weight per class, or one for all; None stays None.

    `weight` has shape (K,) for the K classes along `axis` of `like`, or is
    a scalar. It is returned in the dtype of `like`, shaped to broadcast
    against it (K along `axis`, 1 elsewhere).
    """
    if weight is None:
        return None
    original = floats(weight, name)
    n_classes = like.shape[axis]
    if original.shape not in ((), (n_classes,)):
        raise ValueError(
            f"`{name}` must be one weight per class, shape ({n_classes},), or a "
            f"scalar; got shape {original.shape}"
        )
    no_nan(original, name)
    converted = in_dtype(original, like.dtype)
    bad = (converted < 0) | np.isinf(converted)
    if bad.any():
        at = first_index(bad) if bad.ndim else ()
        raise ValueError(
            f"`{name}` must be finite and non-negative; got {original[at].item()!r}"
            + (f" at index {at}" if at else "")
        )
    shape = [1] * like.ndim
    shape[axis] = converted.size
    return converted.reshape(shape)


def counts(x, axis, name):
    """Numbers of samples per class along a class axis; return them with the axis index.

    Float data (integers become float64), finite and at least 1: a class
    with no samples has no finite weight.
    """
    x = floats(x, name)
    index = class_axis(x, axis, name)
    no_nan(x, name)
    bad = ~(x >= 1) | np.isinf(x)
    if bad.any():
        at = first_index(bad)
        raise ValueError(
            f"`{name}` must be numbers of samples, finite and at least 1; got "
            f"{x[at].item()!r} at index {at}"
        )
    return x, index


def same_shape(x, like, name, like_name):
    """Refuse `x` unless it has the shape of `like`."""
    if x.shape != like.shape:
        raise ValueError(
            f"`{name}` must have the shape of `{like_name}` {like.shape}; got {x.shape}"
        )
    return x


def at_index(index):
    """Where in an array an entry is: nothing for a scalar."""
    return f" at index {index}" if index else ""


def integers(x, name, what):
    """`x` as an array of integers; `what` says what they count or name, for the message.

    Booleans and floats are refused, except in an empty array, which holds
    no numbers to misread (``np.asarray([])`` is float64) and is read as
    int64.
    """
    x = array(x, name)
    if x.size == 0 and x.dtype.kind in "biuf":
        return x.astype(np.int64)
    if x.dtype.kind not in "iu":
        raise TypeError(f"`{name}` holds {what} and must have an integer dtype; got {x.dtype}")
    return x


def shape_of(x, shape, name, described):
    """Refuse `x` unless it has `shape`; `described` says what that shape is."""
    if x.shape != shape:
        raise ValueError(f"`{name}` must have shape {described}; got shape {x.shape}")
    return x


def counts_up_to(x, most, name, what):
    """Integers in [0, `most`]; `what` says where the bound comes from."""
    outside = (x < 0) | (x > most)
    if np.any(outside):
        at = first_index(outside)
        raise ValueError(
            f"`{name}` must be integers in [0, {most}], {what}; got "
            f"{x[at].item()!r}{at_index(at)}"
        )
    return x


SMOOTHINGS = ("uniform", "others")


def class_weight(weight, n_classes, dtype, name="class_weight"):
    """One finite, non-negative weight per class, shape (K,), as read in `dtype`; None stays None.

    Returned as float64 holding the values of the weights once converted to
    `dtype` (the dtype of the prediction), which is how they are used.
    """
    if weight is None:
        return None
    original = floats(weight, name)
    if original.shape != (n_classes,):
        raise ValueError(
            f"`{name}` must be one weight per class, shape ({n_classes},); got shape {original.shape}"
        )
    no_nan(original, name)
    converted = in_dtype(original, dtype)
    bad = (converted < 0) | np.isinf(converted)
    if bad.any():
        at = first_index(bad)
        value = original[at].item()
        overflow = f", which overflows {np.dtype(dtype)}" if np.isfinite(value) and value > 0 else ""
        raise ValueError(
            f"`{name}` must be finite and non-negative; got {value!r} at index {at}{overflow}"
        )
    return converted.astype(np.float64)


def ignore_index(value):
    """An integer label that marks examples to leave out, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`ignore_index` must be an integer or None; got {value!r}")
    return int(value)


def where(mask, batch_shape, unit="examples"):
    """A boolean mask of the batch shape (True keeps an example), or None.

    With ``unit="elements"`` (the losses of each element), `batch_shape` is
    the shape of the prediction; ``unit="tokens"`` names the examples of a
    linear head.
    """
    if mask is None:
        return None
    mask = array(mask, "where")
    one = {"elements": "an element", "tokens": "a token"}.get(unit, "an example")
    shape = "the shape of the prediction" if unit == "elements" else "the batch shape"
    if mask.dtype != np.bool_:
        raise TypeError(f"`where` must be a boolean mask (True keeps {one}); got dtype {mask.dtype}")
    if mask.shape != batch_shape:
        raise ValueError(
            f"`where` must have {shape} {batch_shape}, one entry per {unit[:-1]}; got {mask.shape}"
        )
    return mask


def smoothing(kind):
    """Refuse any label-smoothing scheme but ``"uniform"`` and ``"others"``."""
    if not isinstance(kind, str) or kind not in SMOOTHINGS:
        raise ValueError(f"`smoothing` must be 'uniform' or 'others'; got {kind!r}")
    return kind



def softmax_options(weights, ignored, label_smoothing, kind, z_loss, n_classes, dtype, name="logits"):
    """The options of softmax cross-entropy, checked in order, for `n_classes` classes of the prediction `name`.

    The arguments are `class_weight`, `ignore_index`, `label_smoothing`,
    `smoothing` and `z_loss`. Returns ``(weight, ignore_index, epsilon,
    smoothing, z_loss)``: the class weights as :func:`class_weight` reads
    them in `dtype` (or None), and the others as numbers.
    """
    weight = class_weight(weights, n_classes, dtype)
    ignored = ignore_index(ignored)
    epsilon = number(label_smoothing, "label_smoothing", "[0, 1]")
    kind = smoothing(kind)
    if kind == "others" and epsilon > 0 and n_classes == 1:
        raise ValueError(
            "`smoothing='others'` moves `label_smoothing` to the other classes, and there "
            f"are none: `{name}` has 1 class"
        )
    return weight, ignored, epsilon, kind, number(z_loss, "z_loss", "[0, inf)")


def selected_labels(values, like, axis, name, ignore_index=None, mask=None):
    """Class labels for `like` (class axis `axis`), checked only where selected.

    An example is selected where `mask` (a checked `where`, or None) is True
    and its label is not `ignore_index`. The labels of the others may be any
    integer (-100, say) and are replaced by 0. Returns the labels with the
    class axis kept at size 1, and the selection as a boolean array of the
    batch shape, or None when neither `mask` nor `ignore_index` is given.
    """
    if mask is None and ignore_index is None:
        return labels(values, like, axis, name), None
    values = array(values, name)
    batch_shape = like.shape[:axis] + like.shape[axis + 1:]
    if values.dtype.kind not in "iu":
        raise TypeError(
            f"`{name}` of shape {values.shape} holds class labels and must "
            f"have an integer dtype; got {values.dtype}"
        )
    if values.shape != batch_shape:
        raise ValueError(f"`{name}` as class labels must have shape {batch_shape}; got {values.shape}")
    keep = np.ones(batch_shape, dtype=bool) if mask is None else mask
    if ignore_index is not None:
        keep = keep & (values != ignore_index)
    n_classes = like.shape[axis]
    outside = keep & ((values < 0) | (values >= n_classes))
    if np.any(outside):
        at = first_index(outside)
        raise ValueError(
            f"`{name}` must be class labels in [0, {n_classes}) where selected; got "
            f"{values[at].item()!r} at index {at}"
        )
    return np.expand_dims(np.where(keep, values, 0), axis), keep


def selected_targets(given, logits, axis, ignore_index=None, mask=None):
    """Labels or probability targets for `logits`, and the examples selected.

    As :func:`targets` with ``entries=False``, and :func:`selected_labels`
    for labels; `mask` is the unchecked `where`. `ignore_index` applies to
    labels only: with probability targets it is refused (select the
    examples with `where`). Returns ``(probabilities, labels, keep)``.
    """
    given = array(given, "targets")
    batch_shape = logits.shape[:axis] + logits.shape[axis + 1:]
    keep = where(mask, batch_shape)
    if given.ndim == logits.ndim:
        if ignore_index is not None:
            raise ValueError(
                "`ignore_index` applies to class labels; with probability targets, "
                "leave examples out with `where`"
            )
        probabilities, _ = targets(given, logits, axis, entries=False)
        return probabilities, None, keep
    if given.ndim == logits.ndim - 1:
        checked, keep = selected_labels(given, logits, axis, "targets", ignore_index, keep)
        return None, checked, keep
    raise ValueError(
        f"`targets` must be class labels of shape {batch_shape} or "
        f"probabilities of shape {logits.shape}; got shape {given.shape}"
    )


def selected_rows(x, axis, keep, fill):
    """`x` with every slice along `axis` that `keep` leaves out set to `fill` (a copy, if any is)."""
    if keep is None or keep.all():
        return x
    moved = np.moveaxis(np.array(x), axis, -1)
    moved[~keep] = fill
    return np.moveaxis(moved, -1, axis)


def selected_targets_checked(given, logits, axis, mask, like_name="logits"):
    """As :func:`targets` (entries checked) for the examples `mask` selects; and the selection.

    The targets of the examples left out are not read: a one-hot stands in
    for probabilities, and labels there may be any integer. Returns
    ``(probabilities, labels, keep)``, `keep` None without `mask`.
    """
    keep = where(mask, logits.shape[:axis] + logits.shape[axis + 1:])
    given = array(given, "targets")
    if keep is not None and given.ndim == logits.ndim - 1:
        checked, keep = selected_labels(given, logits, axis, "targets", None, keep)
        return None, checked, keep
    if keep is not None and given.ndim == logits.ndim:
        given = floats(given, "targets", half=True)
        if given.shape == logits.shape:
            given = selected_rows(given, axis, keep, np.eye(1, logits.shape[axis], dtype=given.dtype)[0])
    probabilities, checked = targets(given, logits, axis, like_name)
    return probabilities, checked, keep


def increasing(points, name, dtype, kind, minimum=2):
    """Bin edges or support points: 1-D, finite and strictly increasing in `dtype`.

    `kind` names what they are in messages ("bin edges", "support points");
    there must be at least `minimum` of them.
    They are read in `dtype`, the dtype of the values they encode, and must
    stay finite and strictly increasing there; their span, last minus first,
    must be finite too, since the encodings subtract and divide by gaps
    between them and the values.
    """
    original = floats(points, name)
    if original.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D array of {kind}; got shape {original.shape}")
    if original.size < minimum:
        raise ValueError(f"`{name}` must hold at least {minimum} {kind}; got {original.size}")
    no_nan(original, name)
    converted = in_dtype(original, dtype)
    infinite = np.isinf(converted)
    if infinite.any():
        at = first_index(infinite)
        value = original[at].item()
        overflow = f", which overflows {converted.dtype}" if np.isfinite(value) else ""
        raise ValueError(f"`{name}` must be finite; got {value!r} at index {at}{overflow}")
    with np.errstate(over="ignore"):
        # A gap beyond the float range is +-inf, whose sign is all that counts here.
        flat = ~(np.diff(converted) > 0)
    if flat.any():
        i = int(np.argmax(flat))
        merged = f" once read in {converted.dtype}" if original[i] < original[i + 1] else ""
        raise ValueError(
            f"`{name}` must be strictly increasing; got {original[i + 1].item()!r} at "
            f"index {i + 1} after {original[i].item()!r} at index {i}{merged}"
        )
    with np.errstate(over="ignore"):
        # A span beyond the float range is refused just below.
        span = converted[-1] - converted[0]
    if np.isinf(span):
        raise ValueError(
            f"`{name}` must span a finite width in {converted.dtype}; got "
            f"{converted[0].item()!r} to {converted[-1].item()!r}, whose difference overflows"
        )
    return converted


def within(values, points, name, points_name):
    """Refuse NaN and any value outside ``[points[0], points[-1]]``."""
    no_nan(values, name)
    low, high = points[0].item(), points[-1].item()
    outside = ~((values >= low) & (values <= high))
    if outside.any():
        at = first_index(outside)
        raise ValueError(
            f"`{name}` must lie in [{low!r}, {high!r}], the range of `{points_name}`; "
            f"got {values[at].item()!r} at index {at}"
        )
    return values


def one_per_class(points, like, axis, name, like_name):
    """Refuse `points` unless it has one entry per class along `axis` of `like`."""
    if points.size != like.shape[axis]:
        raise ValueError(
            f"`{name}` must have one point per class, {like.shape[axis]} along axis "
            f"{axis} of `{like_name}`; got {points.size}"
        )
    return points


def dimensions(x, ndim, name, meaning):
    """Refuse `x` unless it has `ndim` dimensions, whose `meaning` the message gives."""
    if x.ndim != ndim:
        raise ValueError(
            f"`{name}` must have {ndim} dimension{'s' if ndim != 1 else ''}, {meaning}; "
            f"got shape {x.shape}"
        )
    return x


def index(value, name, size):
    """A Python or NumPy integer (not a bool) in [0, `size`), as an int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"`{name}` must be an integer; got {value!r}")
    if not 0 <= value < size:
        raise ValueError(f"`{name}` must be a class index in [0, {size}); got {value!r}")
    return int(value)


def flag(value, name):
    """True or False (Python or NumPy booleans), as a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be True or False; got {value!r}")
    return bool(value)


def padding(lengths, mask, shape):
    """Which tokens of sequences of `shape` (batch, time) count: a boolean array of that shape.

    The padding is given by `lengths` (the tokens before that time step
    count), by a boolean `mask` (True where a token counts), or by neither
    (every token counts); not by both.
    """
    if lengths is not None and mask is not None:
        raise ValueError(
            "give the padding as `lengths` or as `mask`, not both; got both"
        )
    if mask is not None:
        return _mask(mask, shape)
    if lengths is not None:
        return _lengths(lengths, shape)
    return np.ones(shape, dtype=bool)


def _mask(mask, shape):
    mask = array(mask, "mask")
    if mask.dtype != np.bool_:
        raise TypeError(
            f"`mask` must be boolean, True where a token counts; got dtype {mask.dtype}"
        )
    if mask.shape != shape:
        raise ValueError(
            f"`mask` must have shape {shape}, (batch, time) as `logits` without "
            f"its class axis; got {mask.shape}"
        )
    return mask


def _lengths(lengths, shape):
    lengths = array(lengths, "lengths")
    batch, time = shape
    if lengths.dtype.kind not in "iu":
        raise TypeError(
            f"`lengths` must hold integers, the number of tokens of each "
            f"sequence; got dtype {lengths.dtype}"
        )
    if lengths.shape != (batch,):
        raise ValueError(
            f"`lengths` must have shape ({batch},), one length per sequence "
            f"of `logits`; got {lengths.shape}"
        )
    negative = lengths < 0
    if negative.any():
        at = first_index(negative)
        raise ValueError(
            f"`lengths` must be non-negative; got {lengths[at].item()!r} at index {at}"
        )
    too_long = lengths > time
    if too_long.any():
        at = first_index(too_long)
        raise ValueError(
            f"`lengths` must be at most {time}, the number of time steps of "
            f"`logits`; got {lengths[at].item()!r} at index {at}"
        )
    return np.arange(time) < lengths[:, np.newaxis]


def whole_numbers(x, name, least, like, like_name):
    """Numbers of things (tokens, bytes), integers of at least `least`, that broadcast to `like`.

    `x` must broadcast to the shape of `like` without enlarging it. Returned
    as an integer array.
    """
    x = array(x, name)
    if x.dtype.kind not in "iu":
        raise TypeError(f"`{name}` must hold integers (a count); got dtype {x.dtype}")
    try:
        fits = np.broadcast_shapes(x.shape, like.shape) == like.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"`{name}` of shape {x.shape} must broadcast to the shape of "
            f"`{like_name}` {like.shape}"
        )
    below = x < least
    if below.any():
        at = first_index(below) if below.ndim else ()
        raise ValueError(
            f"`{name}` must be at least {least}; got {x[at].item()!r}"
            + (f" at index {at}" if at else "")
        )
    return x
