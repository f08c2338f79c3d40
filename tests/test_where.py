"""`where` on every loss with a batch and a reduction: one test per property, run over the losses.

The contract battery runs on the ``[selected]`` cases of tests/cases.py
(accuracy against xentref.exact, SymPy, finite differences, reductions).
Here: a selection is the boolean-indexed subset, the targets left out are
not read, and the refusals with their messages.
"""

import re

import numpy as np
import pytest

import xentref
from xentref import exact, grad

SEED = 20261128
RNG = np.random.default_rng(SEED)
LOGITS = RNG.normal(scale=3, size=(6, 4))
BINARY = RNG.uniform(size=(6, 4))
LABELS = RNG.integers(0, 4, 6)
TARGETS = RNG.dirichlet(np.ones(4), 6)
ELEMENTS = RNG.uniform(size=(6, 4)) < 0.7
EXAMPLES = np.array([True, False, True, True, False, True])
HIDDEN, WEIGHT = RNG.normal(size=(6, 3)), RNG.uniform(-0.5, 0.5, (4, 3))

# name, arguments, options, which kind of selection, the argument whose entries are targets
CALLS = [
    ("binary_cross_entropy", (xentref.sigmoid(LOGITS), BINARY), {"weight": RNG.uniform(0, 2, 4)}, "elements", 1),
    ("sigmoid_binary_cross_entropy", (LOGITS, BINARY), {"pos_weight": RNG.uniform(0, 2, 4)}, "elements", 1),
    ("sigmoid_focal_loss", (LOGITS, BINARY), {"alpha": 0.25}, "elements", 1),
    ("sigmoid_poly1_loss", (LOGITS, BINARY), {"epsilon": 2.0}, "elements", 1),
    ("softmax_focal_loss", (LOGITS, LABELS), {"gamma": 2.0}, "examples", 1),
    ("softmax_focal_loss", (LOGITS, TARGETS), {"alpha": [1.0, 2.0, 0.5, 1.0]}, "examples", 1),
    ("softmax_poly1_loss", (LOGITS, LABELS), {"epsilon": 2.0}, "examples", 1),
    ("softmax_poly1_loss", (LOGITS, TARGETS), {"epsilon": -0.5}, "examples", 1),
    ("distillation_loss", (LOGITS, LOGITS[::-1]), {"temperature": 2.0}, "examples", 1),
    ("brier_score", (xentref.softmax(LOGITS), LABELS), {}, "examples", 1),
    ("brier_score", (xentref.softmax(LOGITS), TARGETS), {}, "examples", 1),
    ("linear_softmax_cross_entropy", (HIDDEN, WEIGHT, LABELS), {"bias": RNG.uniform(size=4)}, "tokens", 2),
]
IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(CALLS)]


def mask_of(kind):
    return ELEMENTS if kind == "elements" else EXAMPLES


def subset(args, keep, target):
    """The arguments of the selected examples (all the elements, for an elementwise mask)."""
    return tuple(np.asarray(a)[keep] if i in (0, target) else a for i, a in enumerate(args))


def with_invalid_targets(args, keep, target):
    """`args` with the targets left out replaced by values no check would accept."""
    values = np.array(args[target])
    if values.dtype.kind in "iu":
        values = np.where(keep, values, -100)
    elif values.ndim > keep.ndim:
        values[~keep] = np.nan
    else:
        values = np.where(keep, values, np.nan)
    return (*args[:target], values, *args[target + 1:])


@pytest.mark.parametrize("name, args, options, kind, target", CALLS, ids=IDS)
def test_a_selection_is_the_indexed_subset(name, args, options, kind, target):
    keep = mask_of(kind)
    f, g = getattr(xentref, name), getattr(grad, name)
    losses = f(*args, **options, where=keep, reduction="none")
    assert np.all(losses[~keep] == 0)
    # Left-out entries cost 0; the others are what they are on their own.
    whole = f(*args, **options, reduction="none")
    np.testing.assert_array_equal(losses[keep], whole[keep])
    if kind != "elements":
        alone = f(*subset(args, keep, target), **options, reduction="none")
        if name == "linear_softmax_cross_entropy":
            # A matrix product of other rows: equal within rounding.
            assert np.max(exact.ulp_distance(losses[keep], alone)) <= 2
        else:
            np.testing.assert_array_equal(losses[keep], alone)
    # The mean divides by the number selected.
    mean = f(*args, **options, where=keep)
    assert mean == np.sum(losses) / np.count_nonzero(keep)
    assert np.max(exact.ulp_distance(mean, getattr(exact, name)(*args, **options, where=keep))) <= 3
    gradient = g(*args, **options, where=keep, reduction="sum")
    first = gradient[0] if isinstance(gradient, tuple) else gradient
    zero = ~keep if kind == "elements" else ~keep[:, None] & np.ones(first.shape, bool)
    assert np.all(first[zero] == 0)


@pytest.mark.parametrize("name, args, options, kind, target", CALLS, ids=IDS)
def test_targets_left_out_are_not_read(name, args, options, kind, target):
    keep = mask_of(kind)
    f, g = getattr(xentref, name), getattr(grad, name)
    garbled = with_invalid_targets(args, keep, target)
    np.testing.assert_array_equal(f(*garbled, **options, where=keep, reduction="none"),
                                  f(*args, **options, where=keep, reduction="none"))
    expected, actual = g(*args, **options, where=keep), g(*garbled, **options, where=keep)
    for e, a in zip(*(x if isinstance(x, tuple) else (x,) for x in (expected, actual))):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("name, args, options, kind, target", CALLS, ids=IDS)
def test_the_mean_of_nothing_selected_is_refused(name, args, options, kind, target):
    keep = np.zeros_like(mask_of(kind))
    unit = "elements" if kind == "elements" else ("tokens" if kind == "tokens" else "examples")
    message = (rf"^`reduction='mean'` is undefined for an empty selection: `where` leaves none of the "
               rf"{keep.size} {unit}; use 'sum' or 'none'$")
    for f in (getattr(xentref, name), getattr(grad, name), getattr(exact, name)):
        with pytest.raises(ValueError, match=message):
            f(*args, **options, where=keep)
    assert getattr(xentref, name)(*args, **options, where=keep, reduction="sum") == 0


@pytest.mark.parametrize("name, args, options, kind, target", CALLS, ids=IDS)
def test_a_where_of_another_shape_or_dtype_is_refused(name, args, options, kind, target):
    keep = mask_of(kind)
    if kind == "elements":
        shape_message = f"`where` must have the shape of the prediction {keep.shape}, one entry per element; got (6,)"
        bad_shape, one = keep[:, 0], "an element"
    else:
        shape_message = f"`where` must have the batch shape {keep.shape}, one entry per {kind[:-1]}; got (6, 1)"
        bad_shape, one = keep[:, None], "a token" if kind == "tokens" else "an example"
    for f in (getattr(xentref, name), getattr(grad, name), getattr(exact, name)):
        with pytest.raises(ValueError, match="^" + re.escape(shape_message) + "$"):
            f(*args, **options, where=bad_shape)
        with pytest.raises(TypeError, match=re.escape(f"`where` must be a boolean mask (True keeps {one}); "
                                                      f"got dtype int64")):
            f(*args, **options, where=keep.astype(np.int64))


def test_predictions_are_checked_where_left_out():
    logits = LOGITS.copy()
    logits[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"^`logits` must not contain NaN; found NaN at index \(1, 2\)$"):
        xentref.softmax_focal_loss(logits, LABELS, where=EXAMPLES)
    with pytest.raises(ValueError, match=r"^`logits` must not contain NaN; found NaN at index \(1, 2\)$"):
        xentref.sigmoid_binary_cross_entropy(logits, BINARY, where=~np.isnan(logits))


def test_a_left_out_teacher_is_not_read():
    teacher = LOGITS[::-1].copy()
    teacher[1] = np.nan
    losses = xentref.distillation_loss(LOGITS, teacher, temperature=2.0, where=EXAMPLES, reduction="none")
    np.testing.assert_array_equal(losses, xentref.distillation_loss(LOGITS, LOGITS[::-1], temperature=2.0,
                                                                    where=EXAMPLES, reduction="none"))
