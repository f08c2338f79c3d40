"""Input checks shared by every public function.

Each check raises ``TypeError`` or ``ValueError`` with a message that names the
argument, says what was expected and shows what arrived.
"""

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def sum_tolerance(dtype):
    """Tolerance on ``|sum(p) - 1|`` for a distribution of the given dtype.

    The square root of machine epsilon: about 1.5e-8 for float64 and 3.5e-4
    for float32. Rounding in a K-class vector that was normalised in that
    dtype stays far below it, while a vector that is not a distribution at all
    (unnormalised scores, a forgotten softmax) is caught.
    """
    return float(np.sqrt(np.finfo(dtype).eps))


def float_array(x, name):
    """``x`` as a float32 or float64 array.

    Python numbers, booleans and integer arrays become float64, as in NumPy.
    Other dtypes (float16, longdouble, complex, object, strings) are refused
    rather than converted, so that no precision is lost or invented silently.
    """
    array = np.asarray(x)
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"`{name}` must hold real numbers of dtype float32 or float64; "
            f"got dtype {array.dtype}"
        )
    return array


def class_axis(array, axis, name):
    """Validate ``axis`` for ``array`` and return it as a non-negative index."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"`axis` must be an integer; got {axis!r}")
    if array.ndim == 0:
        raise ValueError(
            f"`{name}` must have at least one dimension (the class axis); "
            f"got a scalar"
        )
    if not -array.ndim <= axis < array.ndim:
        raise ValueError(
            f"`axis` {axis} is out of range for `{name}` with "
            f"{array.ndim} dimension(s)"
        )
    index = int(axis) % array.ndim
    if array.shape[index] == 0:
        raise ValueError(
            f"`{name}` has an empty class axis: axis {axis} of shape "
            f"{array.shape} has size 0"
        )
    return index


def _first_index(mask):
    return tuple(int(i) for i in np.argwhere(mask)[0])


def at_batch_index(index):
    """Where in the batch a per-slice problem is: nothing for a single slice."""
    return f" at batch index {index}" if index else ""


def no_nan(array, name):
    """Refuse NaN anywhere in ``array``."""
    nan = np.isnan(array)
    if nan.any():
        raise ValueError(
            f"`{name}` must not contain NaN; found NaN at index "
            f"{_first_index(nan)}"
        )


def finite_or_minus_inf(logits, name):
    """Refuse NaN and +inf; -inf is allowed (it encodes probability zero)."""
    no_nan(logits, name)
    plus_inf = np.isposinf(logits)
    if plus_inf.any():
        raise ValueError(
            f"`{name}` must be finite or -inf; found +inf at index "
            f"{_first_index(plus_inf)}"
        )


def some_finite(logits, axis, name):
    """Refuse a slice along the class axis whose entries are all -inf.

    Such a slice assigns probability zero to every class, so it has no
    softmax.
    """
    empty = np.all(np.isneginf(logits), axis=axis)
    if np.any(empty):
        raise ValueError(
            f"`{name}` must have at least one entry above -inf along axis "
            f"{axis}; every entry is -inf{at_batch_index(_first_index(empty))}"
        )


def distribution(p, axis, name):
    """Refuse ``p`` unless it is a probability distribution along ``axis``.

    Entries must be non-negative and finite, and each slice along ``axis``
    must sum to one within :func:`sum_tolerance`. Nothing is renormalised.
    """
    no_nan(p, name)
    negative = p < 0
    if negative.any():
        index = _first_index(negative)
        raise ValueError(
            f"`{name}` must be non-negative; got {p[index].item()!r} at index {index}"
        )
    infinite = np.isinf(p)
    if infinite.any():
        index = _first_index(infinite)
        raise ValueError(
            f"`{name}` must be finite; got {p[index].item()!r} at index {index}"
        )
    tolerance = sum_tolerance(p.dtype)
    totals = np.sum(p, axis=axis)
    off = np.abs(totals - 1) > tolerance
    if np.any(off):
        index = _first_index(off)
        raise ValueError(
            f"`{name}` must sum to 1 along axis {axis} (tolerance "
            f"{tolerance:.2g} for {p.dtype}); got a sum of "
            f"{np.asarray(totals)[index].item()!r}{at_batch_index(index)}"
        )


def same_classes(p, q, axis, p_name, q_name):
    """Broadcast ``p`` and ``q``; return them with the class axis index.

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


def unit_interval(array, name):
    """Refuse NaN and values outside [0, 1] (probabilities, binary targets)."""
    no_nan(array, name)
    outside = (array < 0) | (array > 1)
    if outside.any():
        index = _first_index(outside)
        raise ValueError(
            f"`{name}` must be in [0, 1]; got {array[index].item()!r} at index {index}"
        )


def same_shape(array, shape, name, other):
    """Refuse `array` unless it has exactly `shape`, the shape of `other`."""
    if array.shape != shape:
        raise ValueError(
            f"`{name}` must have the shape of `{other}` {shape}; got {array.shape}"
        )


def in_dtype(array, dtype):
    """`array` in `dtype`, the dtype of the predictions it is combined with.

    A result keeps the dtype of the predictions even when targets or weights
    arrive as Python numbers (float64).
    """
    with np.errstate(under="ignore", over="ignore"):
        # A float64 value below the float32 range becomes 0, one beyond it inf
        # (which the weight check then refuses).
        return array.astype(dtype, copy=False)


def weights(weight, shape, dtype, name, other):
    """Validate per-element weights; return them in `dtype`.

    `weight` must broadcast to `shape` (the shape of `other`) without
    enlarging it, and be finite and non-negative in `dtype`.
    """
    original = float_array(weight, name)
    try:
        fits = np.broadcast_shapes(original.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"`{name}` of shape {original.shape} must broadcast to the shape "
            f"of `{other}` {shape}"
        )
    no_nan(original, name)
    converted = in_dtype(original, dtype)
    bad = (converted < 0) | np.isinf(converted)
    if bad.any():
        index = _first_index(bad)
        value = original[index].item()
        overflow = ""
        if np.isfinite(value) and value > 0:
            overflow = f", which overflows {np.dtype(dtype)}"
        raise ValueError(
            f"`{name}` must be finite and non-negative; got {value!r} at index "
            f"{index}{overflow}"
        )
    return converted


def class_labels(labels, batch_shape, n_classes, name):
    """Validate integer class labels of shape `batch_shape` in [0, n_classes)."""
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"`{name}` of shape {labels.shape} holds class labels and must "
            f"have an integer dtype; got {labels.dtype}"
        )
    if labels.shape != batch_shape:
        raise ValueError(
            f"`{name}` as class labels must have shape {batch_shape}; got "
            f"{labels.shape}"
        )
    outside = (labels < 0) | (labels >= n_classes)
    if np.any(outside):
        index = _first_index(outside)
        raise ValueError(
            f"`{name}` must be class labels in [0, {n_classes}); got "
            f"{labels[index].item()!r} at index {index}"
        )
    return labels


def base_log(base):
    """Natural log of ``base``, the divisor that converts nats to that unit."""
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)):
        raise TypeError(f"`base` must be a real number or None; got {base!r}")
    if not (np.isfinite(base) and base > 0 and base != 1):
        raise ValueError(
            f"`base` must be a finite positive number other than 1; got {base!r}"
        )
    return float(np.log(base))


def reduction_name(reduction):
    """Refuse anything but ``"mean"``, ``"sum"`` or ``"none"``."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        raise ValueError(
            f"`reduction` must be one of 'mean', 'sum' or 'none'; "
            f"got {reduction!r}"
        )
    return reduction
