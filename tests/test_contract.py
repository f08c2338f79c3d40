"""The contract every public function keeps, run over the case registry.

Each test below runs on every case of tests/cases.py that it applies to.
What is special to one function (known values, reductions to simpler cases,
its own semantics) lives in that function's own test file.
"""

import inspect
import re
import typing

import ml_dtypes
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import _blocks as blocks
from xentref import exact, symbolic
from xentref._typing import Result
from cases import CASES, CLASS_AXIS, REDUCED, Draw
from helpers import ulps_of

SEED = 20261123
DTYPES = [np.float64, np.float32]
BATCH = (4, 3)

LOSSES = [case for case in CASES if case.gradient is not None]
TOGETHER = [case for case in LOSSES if case.name in xentref.value_and_grad.__all__]
WITH_REDUCTION = [case for case in CASES if case.kind in REDUCED]


def ids(cases):
    return [case.id for case in cases]


def draw(case, extreme=False, batch=BATCH, dtype=np.float64, interior=False):
    return case.make(Draw(np.random.default_rng(SEED), dtype=dtype, interior=interior), batch, extreme)


def one_example(case, args, kwargs, index):
    """The arguments of example `index` alone: an element, or a row along the class axis.

    A "dataset" function has one value for the whole batch, its only example.
    """
    if case.kind == "dataset":
        return args, kwargs
    if case.kind == "sequences":
        # One sequence, as a batch of one.
        def sequence(value):
            return value if value is None else np.asarray(value)[index:index + 1]
        return tuple(sequence(a) for a in args), {k: sequence(v) for k, v in kwargs.items()}
    shape = np.shape(args[case.differentiate])
    elementwise = case.kind in ("map", "elements", "encode")
    if case.kind == "alignments":
        # The batch is one dimension here; each array argument is indexed along it.
        return tuple(np.asarray(a)[index] for a in args), kwargs

    def pick(value):
        if value is None or np.ndim(value) == 0:
            return value
        value = np.asarray(value)
        if elementwise:
            return np.broadcast_to(value, shape).reshape(-1)[index:index + 1]
        if value.ndim == len(shape):
            return value.reshape(-1, shape[-1])[index]
        return value.reshape(-1)[index]

    batched = range(len(args)) if case.batched is None else case.batched
    picked = tuple(pick(a) if i in batched else a for i, a in enumerate(args))
    return picked, {k: pick(v) if elementwise or k in case.per_example else v for k, v in kwargs.items()}


def outputs(gradient):
    """The outputs of a gradient: a tuple of one array, or of several (None for an absent argument)."""
    return tuple(gradient) if isinstance(gradient, tuple) else (gradient,)


def bounds(case):
    """The gradient's bound for each output."""
    return case.grad_ulps if isinstance(case.grad_ulps, tuple) else (case.grad_ulps,)


def grad_scales(case, args, kwargs, count):
    """The gradient's scale for each output, divided by the count "mean" divides by (None: no scale)."""
    if case.grad_scale is None:
        return (None,) * len(bounds(case))
    scales = case.grad_scale(args, kwargs)
    return tuple(s / count for s in outputs(scales))


def examples(case, values):
    """`values` split into one row per example, in the order of :func:`one_example`."""
    values = np.asarray(values)
    shape = np.shape(values)
    return values.reshape(-1, 1) if case.kind in ("map", "elements") or len(shape) < 2 else values.reshape(-1, shape[-1])


def test_every_public_function_has_a_case():
    assert {case.name for case in CASES} == set(xentref.__all__)


def test_every_loss_has_a_gradient_and_an_exact_form_with_its_signature():
    for case in CASES:
        signature = inspect.signature(case.function)
        assert inspect.signature(getattr(exact, case.name)) == signature
        if case.gradient is not None:
            # Same parameters; a gradient may return another type (the fused
            # head's is a named tuple).
            gradient = inspect.signature(case.gradient)
            assert gradient.parameters == signature.parameters
            assert inspect.signature(getattr(exact.grad, case.name)) == gradient
    assert set(xentref.grad.__all__) == {case.name for case in LOSSES}
    for name in xentref.value_and_grad.__all__:
        together = inspect.signature(getattr(xentref.value_and_grad, name))
        assert together.parameters == inspect.signature(getattr(xentref, name)).parameters


@pytest.mark.parametrize("module", [xentref, xentref.grad, xentref.value_and_grad, exact, exact.grad],
                         ids=lambda m: m.__name__)
def test_every_public_function_has_type_hints(module):
    for name in module.__all__:
        function = getattr(module, name)
        hints = typing.get_type_hints(function)  # resolves each hint, or raises
        expected = {*inspect.signature(function).parameters, "return"}
        assert set(hints) == expected, f"{module.__name__}.{name} lacks hints for {expected - set(hints)}"


def test_options_are_keyword_only():
    for name in xentref.__all__:
        parameters = inspect.signature(getattr(xentref, name)).parameters.values()
        defaults = [p for p in parameters if p.default is not inspect.Parameter.empty]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in defaults), name


# Accuracy against xentref.exact -------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("extreme", [False, True], ids=["moderate", "extreme"])
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_within_its_ulps_of_exact(case, extreme, dtype):
    args, kwargs = draw(case, extreme, batch=(8,), dtype=dtype)
    options = {"reduction": "none"} if case.kind in REDUCED else {}
    actual = case.function(*args, **kwargs, **options)
    expected = getattr(exact, case.name)(*args, **kwargs, **options)
    assert actual.dtype == dtype and expected.dtype == dtype
    assert isinstance(actual, Result) and isinstance(expected, Result)  # as the hints say
    errors = ulps_of(actual, expected, case.scale and case.scale(args, kwargs))
    assert np.max(errors) <= case.ulps, f"{np.max(errors)} ulps at {np.argmax(errors)}"


HARD = [case for case in CASES if case.hard is not None]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k", [2, 3, 17, 1000])
@pytest.mark.parametrize("case", HARD, ids=ids(HARD))
def test_within_its_ulps_of_exact_on_the_hard_corpus(case, k, dtype):
    # Wide non-integer gaps, gaps beyond the float range, huge magnitudes,
    # subnormal exponentials, -inf entries (cases.hard_logits). The one
    # proved bound above 4 ulps here, 5.7 ulps of the terms of a gradient
    # entry for probability targets (or smoothed labels), holds for
    # exponentials that all err by 0.8 ulps in one direction; on this corpus
    # every value and gradient is within 4.
    args, kwargs = case.hard(np.random.default_rng(SEED + k), 8 if k < 1000 else 3, k, dtype)
    within_bounds(case, args, kwargs, dtype, at_most=4)


def within_bounds(case, args, kwargs, dtype, at_most=np.inf):
    """Assert `case`'s value, and gradient, within its ulps (and `at_most` ulps) of xentref.exact at `args`."""
    options = {"reduction": "none"} if case.kind in REDUCED else {}
    actual = case.function(*args, **kwargs, **options)
    expected = getattr(exact, case.name)(*args, **kwargs, **options)
    assert actual.dtype == dtype and expected.dtype == dtype
    errors = ulps_of(actual, expected, case.scale and case.scale(args, kwargs))
    assert np.max(errors) <= min(case.ulps, at_most), f"{np.max(errors)} ulps at {np.argmax(errors)}"
    if case.gradient is None:
        return
    actual = case.gradient(*args, **kwargs)
    expected = getattr(exact.grad, case.name)(*args, **kwargs)
    assert_gradient_within(case, actual, expected, grad_scales(case, args, kwargs, _mean_count(case, args, kwargs)),
                           at_most)
    if case in TOGETHER:
        assert_together_is_both(case, args, kwargs)


def assert_together_is_both(case, args, kwargs):
    """Assert ``value_and_grad.f`` equal to ``f`` and ``grad.f``, bit for bit, under every reduction."""
    together = getattr(xentref.value_and_grad, case.name)
    for reduction in case.reductions:
        value, gradient = together(*args, **kwargs, reduction=reduction)
        expected = case.function(*args, **kwargs, reduction=reduction)
        assert type(value) is type(expected) and value.dtype == expected.dtype
        np.testing.assert_array_equal(value, expected, strict=True)
        for a, e in zip(outputs(gradient), outputs(case.gradient(*args, **kwargs, reduction=reduction)), strict=True):
            if e is None:
                assert a is None
            else:
                np.testing.assert_array_equal(a, e, strict=True)


def assert_gradient_within(case, actual, expected, scales, at_most=np.inf):
    for output, (a, e, scale, bound) in enumerate(zip(outputs(actual), outputs(expected), scales, bounds(case))):
        if a is None:
            assert e is None
            continue
        errors = ulps_of(a, e, scale)
        assert np.max(errors) <= min(bound, at_most), f"gradient {output}: {np.max(errors)} ulps at {np.argmax(errors)}"


@pytest.mark.parametrize("case", HARD, ids=ids(HARD))
@given(data=st.data())
def test_within_its_ulps_of_exact_for_any_floats(case, data):
    # Logits drawn by hypothesis across the whole float range, -inf included.
    dtype = data.draw(st.sampled_from(DTYPES))
    k = data.draw(st.integers(1, 6))
    elements = st.one_of(
        st.floats(allow_nan=False, allow_infinity=False, width=8 * np.dtype(dtype).itemsize),
        st.just(-np.inf),
    )
    logits = data.draw(hnp.arrays(dtype, (2, k), elements=elements))
    logits[:, 0] = np.where(np.isneginf(logits[:, 0]), 0, logits[:, 0])
    args = (logits,)
    if case.name == "distillation_loss":
        # The teacher's logits, drawn alike.
        teacher = data.draw(hnp.arrays(dtype, (2, k), elements=elements))
        teacher[:, 0] = np.where(np.isneginf(teacher[:, 0]), 0, teacher[:, 0])
        args = (logits, teacher)
    if case.variant.startswith("labels"):
        labels = data.draw(hnp.arrays(np.int64, (2,), elements=st.integers(0, k - 1)))
        finite = np.isfinite(logits[np.arange(2), labels])
        args = (logits, np.where(finite, labels, 0))
    elif case.variant.startswith("probabilities"):
        weights = data.draw(hnp.arrays(np.float64, (2, k), elements=st.floats(0, 1)))
        weights = np.where(np.isfinite(logits), weights, 0.0)
        weights[:, 0] += 1e-3
        args = (logits, (weights / weights.sum(axis=-1, keepdims=True)).astype(dtype))
    # The case's options (class weights, a selection, smoothing) for two rows of k classes.
    _, kwargs = case.hard(np.random.default_rng(SEED + k), 2, k, dtype)
    kwargs.pop("ignore_index", None)
    # "others" moves mass to the other classes: it needs two.
    assume(k > 1 or kwargs.get("smoothing") != "others")
    if "class_weight" in kwargs:
        # No zero weight, so that the mean's total weight is positive whatever the targets.
        kwargs["class_weight"] = np.maximum(kwargs["class_weight"], 0.25)
    within_bounds(case, args, kwargs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("extreme", [False, True], ids=["moderate", "extreme"])
@pytest.mark.parametrize("case", LOSSES, ids=ids(LOSSES))
def test_gradient_within_its_ulps_of_exact(case, extreme, dtype):
    args, kwargs = draw(case, extreme, batch=(8,), dtype=dtype)
    actual = case.gradient(*args, **kwargs)
    expected = getattr(exact.grad, case.name)(*args, **kwargs)
    first = outputs(actual)[0]
    assert isinstance(first, Result) and isinstance(outputs(expected)[0], Result)  # as the hints say
    assert first.dtype == dtype and first.shape == np.shape(args[case.differentiate])
    assert_gradient_within(case, actual, expected, grad_scales(case, args, kwargs, _mean_count(case, args, kwargs)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("extreme", [False, True], ids=["moderate", "extreme"])
@pytest.mark.parametrize("case", TOGETHER, ids=ids(TOGETHER))
def test_value_and_grad_is_the_loss_and_its_gradient(case, extreme, dtype):
    args, kwargs = draw(case, extreme, batch=(8,), dtype=dtype)
    assert_together_is_both(case, args, kwargs)


@pytest.mark.parametrize("dtype", [np.float16, ml_dtypes.bfloat16], ids=["float16", "bfloat16"])
@pytest.mark.parametrize("case", TOGETHER, ids=ids(TOGETHER))
def test_value_and_grad_is_the_loss_and_its_gradient_in_half_precision(case, dtype):
    args, kwargs = draw(case, batch=(8,), dtype=np.float32)
    prediction = np.asarray(args[case.differentiate]).astype(dtype)
    assert_together_is_both(case, (*args[:case.differentiate], prediction, *args[case.differentiate + 1:]), kwargs)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [c for c in TOGETHER if c.hard is not None], ids=ids([c for c in TOGETHER if c.hard]))
def test_value_and_grad_is_the_loss_and_its_gradient_in_any_blocks(case, dtype):
    # Rows in chunks of classes (a budget below the row), several blocks,
    # two threads: the first pass the two share is then made chunk by chunk.
    args, kwargs = case.hard(np.random.default_rng(SEED), 24, 40, dtype)
    for budget, threads in ((7, 1), (33 * 7, 2), (10**6, 1)):
        with blocks.configured(budget=budget, threads=threads, min_parallel=0):
            assert_together_is_both(case, args, kwargs)


@pytest.mark.parametrize("case", TOGETHER, ids=ids(TOGETHER))
def test_value_and_grad_refuses_what_the_loss_refuses(case):
    args, kwargs = draw(case)
    calls = _refusals(case, args, kwargs) + [(args, {**kwargs, "reduction": "avg"}, "reduction")]
    calls += [(bad_args, bad_kwargs, "the case's own") for bad_args, bad_kwargs in case.bad]
    for bad_args, bad_kwargs, _ in calls:
        with pytest.raises((TypeError, ValueError)) as refused:
            case.function(*bad_args, **bad_kwargs)
        with pytest.raises(refused.type, match=f"^{re.escape(str(refused.value))}$"):
            getattr(xentref.value_and_grad, case.name)(*bad_args, **bad_kwargs)


def _mean_count(case, args, kwargs):
    return case.count(args, kwargs) if case.kind in REDUCED else 1


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_exact_is_the_textbook_formula(case):
    # The certified value against SymPy's formula evaluated at 40 digits,
    # on three examples: the oracle itself is checked here.
    args, kwargs = draw(case, batch=(3,), interior=True)
    options = {"reduction": "none"} if case.kind in REDUCED else {}
    values = np.asarray(getattr(exact, case.name)(*args, **kwargs, **options))
    for index in range(1 if case.kind == "dataset" else 3):
        example, example_kwargs = one_example(case, args, kwargs, index)
        prediction = np.ravel(example[case.differentiate])
        symbols = sp.symbols(f"x0:{prediction.size}", real=True)
        formula = case.formula(symbols, example, example_kwargs)
        at = {s: sp.Rational(float(v)) for s, v in zip(symbols, prediction)}
        formulas = formula if isinstance(formula, list) else [formula]
        expected = [float(sp.N(f.subs(at), 40)) for f in formulas]
        actual = examples(case, values)[index]
        assert np.max(exact.ulp_distance(np.ravel(actual), np.array(expected))) <= 1


@pytest.mark.parametrize("case", LOSSES, ids=ids(LOSSES))
def test_exact_gradient_is_the_derivative_of_the_textbook_formula(case):
    args, kwargs = draw(case, batch=(3,), interior=True)
    for index in range(3):
        example, example_kwargs = one_example(case, args, kwargs, index)
        prediction = np.asarray(example[case.differentiate])
        symbols = sp.symbols(f"x0:{prediction.size}", real=True)
        formula = case.formula(symbols, example, example_kwargs)
        if isinstance(formula, list):  # the losses of a sequence's tokens: their sum
            formula = sp.Add(*formula)
        at = {s: sp.Rational(float(v)) for s, v in zip(symbols, np.ravel(prediction))}
        expected = [float(sp.N(sp.diff(formula, s).subs(at), 40)) for s in symbols]
        options = {"reduction": "sum"} if case.kind in REDUCED else {}
        actual = outputs(getattr(exact.grad, case.name)(*example, **example_kwargs, **options))[0]
        assert np.max(exact.ulp_distance(np.ravel(actual), np.array(expected))) <= 1


@pytest.mark.parametrize("case", LOSSES, ids=ids(LOSSES))
def test_gradient_matches_finite_differences(case):
    args, kwargs = draw(case, batch=(3,), interior=True)
    options = {"reduction": "sum"} if case.kind in REDUCED else {}
    x = np.asarray(args[case.differentiate], dtype=np.float64)

    def total(value):
        changed = (*args[:case.differentiate], value, *args[case.differentiate + 1:])
        return float(np.sum(case.function(*changed, **kwargs, **options)))

    # Distributions (the second argument of a pair, the probabilities of the
    # Brier score) and log-probabilities must stay normalised within
    # sqrt(eps) = 1.5e-8, so their step is 4e-9; rounding then costs
    # eps |f| / h < 1e-6. Elsewhere a relative step of 1e-5 has truncation
    # error below 1e-10 and rounding error below 1e-9.
    constrained = case.kind == "pairs" or case.name in ("nll_loss", "brier_score", "ctc_loss")
    step = np.full(x.shape, 4e-9) if constrained else 1e-5 * np.maximum(1, np.abs(x))
    expected = np.empty_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += step[index]
        down[index] -= step[index]
        expected[index] = (total(up) - total(down)) / (up[index] - down[index])
    actual = outputs(case.gradient(*args, **kwargs, **options))[0]
    if constrained:  # only the rounding above, an absolute error
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)
    else:
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


# Reductions, axes and dtypes -----------------------------------------------------


@pytest.mark.parametrize("case", WITH_REDUCTION, ids=ids(WITH_REDUCTION))
def test_reductions_agree(case):
    args, kwargs = draw(case)
    count = case.count(args, kwargs)
    none = case.function(*args, **kwargs, reduction="none")
    total = case.function(*args, **kwargs, reduction="sum")
    assert none.shape == (np.shape(args[0]) if case.kind == "elements" else BATCH)
    assert total == np.sum(none)
    assert case.function(*args, **kwargs) == total / count
    if case.gradient is None:
        return
    gradient_total = case.gradient(*args, **kwargs, reduction="sum")
    # "mean" may divide the exact gradient by the count before rounding it
    # once: then it is within the bound of exact, not equal to the rounded
    # sum divided by the count; each of the two is within grad_ulps of its
    # exact value, and dividing by the count can double an error in ulps.
    gradient_mean = case.gradient(*args, **kwargs, reduction="mean")
    gradient_none = case.gradient(*args, **kwargs, reduction="none")
    outputs_total = outputs(gradient_total)
    for mean, total, none, scale, bound in zip(
        outputs(gradient_mean), outputs_total, outputs(gradient_none), grad_scales(case, args, kwargs, count), bounds(case),
    ):
        if total is None:
            continue
        assert np.max(ulps_of(mean, total / count, scale)) <= 3 * bound + 1
        np.testing.assert_array_equal(none, total)


@pytest.mark.parametrize("case", WITH_REDUCTION, ids=ids(WITH_REDUCTION))
def test_none_is_each_example_alone(case):
    args, kwargs = draw(case, batch=(3,))
    none = case.function(*args, **kwargs, reduction="none")
    gradient = outputs(case.gradient(*args, **kwargs, reduction="none"))[0]
    batched = range(len(args)) if case.batched is None else case.batched
    for index in range(3):
        if case.kind == "sequences":
            # A sequence alone is a batch of one.
            alone = tuple(a[index:index + 1] for a in args)
            alone_kwargs = {k: v[index:index + 1] for k, v in kwargs.items()}
            np.testing.assert_array_equal(case.function(*alone, **alone_kwargs, reduction="sum"), np.sum(none[index]))
            np.testing.assert_array_equal(case.gradient(*alone, **alone_kwargs, reduction="sum"),
                                          gradient[index:index + 1])
            continue
        alone = tuple(a[index] if i in batched else a for i, a in enumerate(args))
        alone_kwargs = {
            k: v[index] if k in case.per_example or (case.batched is None and np.ndim(v) == len(np.shape(args[0])))
            else v
            for k, v in kwargs.items()
        }
        alone_loss = case.function(*alone, **alone_kwargs, reduction="sum")
        alone_gradient = outputs(case.gradient(*alone, **alone_kwargs, reduction="sum"))[0]
        if case.kind == "tokens":
            # Logits from a matrix product: BLAS rounds a row's products in an
            # order that depends on how many rows it multiplies at once, so
            # alone and in the batch agree within the bounds, not bitwise.
            alone_losses = case.function(*alone, **alone_kwargs, reduction="none")
            scale = case.scale(alone, alone_kwargs)
            assert np.max(ulps_of(alone_losses, none[index], scale)) <= 2 * case.ulps
            scale = grad_scales(case, alone, alone_kwargs, 1)[0]
            assert np.max(ulps_of(alone_gradient, gradient[index], scale)) <= 2 * bounds(case)[0]
            continue
        np.testing.assert_array_equal(alone_loss, np.sum(none[index]))
        np.testing.assert_array_equal(alone_gradient, gradient[index])


@pytest.mark.parametrize("case", WITH_REDUCTION, ids=ids(WITH_REDUCTION))
def test_empty_batch(case):
    args, kwargs = draw(case, batch=(0,))
    assert case.function(*args, **kwargs, reduction="sum") == 0
    assert case.function(*args, **kwargs, reduction="none").size == 0
    for function in (case.function, case.gradient):
        with pytest.raises(ValueError, match=r"^`reduction='mean'` is undefined for an empty batch \(0 losses\); use 'sum' or 'none'$"):
            function(*args, **kwargs)
    assert outputs(case.gradient(*args, **kwargs, reduction="sum"))[0].shape == np.shape(args[case.differentiate])


@pytest.mark.parametrize("case", WITH_REDUCTION, ids=ids(WITH_REDUCTION))
@pytest.mark.parametrize("reduction", ["avg", "MEAN", "batchmean", None, 1])
def test_unknown_reduction_is_refused(case, reduction):
    args, kwargs = draw(case)
    listed = ", ".join(repr(choice) for choice in case.reductions[:-1])
    expected = f"`reduction` must be one of {listed} or {case.reductions[-1]!r}; got {reduction!r}"
    message = f"^{re.escape(expected)}$"
    for function in (case.function, case.gradient):
        with pytest.raises(ValueError, match=message):
            function(*args, **kwargs, reduction=reduction)


CLASS_CASES = [case for case in CASES if case.kind in CLASS_AXIS]


@pytest.mark.parametrize("case", CLASS_CASES, ids=ids(CLASS_CASES))
def test_axis_equals_moving_the_class_axis_last(case):
    args, kwargs = draw(case)
    moved = tuple(np.moveaxis(a, -1, 0) if i in case.axis_args else a for i, a in enumerate(args))
    options = {"reduction": "none"} if case.kind in REDUCED else {}
    expected = case.function(*args, **kwargs, **options)
    actual = case.function(*moved, **kwargs, **options, axis=0)
    if case.name in ("log_softmax", "softmax", "class_balanced_weights"):
        actual = np.moveaxis(actual, 0, -1)
    np.testing.assert_array_equal(actual, expected)
    if case.gradient is not None:
        gradient = case.gradient(*moved, **kwargs, axis=0)
        np.testing.assert_array_equal(np.moveaxis(gradient, 0, -1), case.gradient(*args, **kwargs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_dtype_is_kept_whatever_the_other_arguments_are(case, dtype):
    # Only the prediction is in `dtype`; targets and weights stay float64.
    args, kwargs = draw(case)
    prediction = np.asarray(args[case.differentiate])
    if case.kind == "pairs" and np.all(prediction >= 0):
        # Probabilities are renormalised in `dtype`; log-probabilities stay valid.
        prediction = (prediction / prediction.sum(axis=-1, keepdims=True)).astype(dtype)
    args = (*args[:case.differentiate], prediction.astype(dtype), *args[case.differentiate + 1:])
    for reduction in (case.reductions if case.kind in REDUCED else [None]):
        options = {} if reduction is None else {"reduction": reduction}
        assert np.asarray(case.function(*args, **kwargs, **options)).dtype == dtype
        if case.gradient is not None:
            assert all(g.dtype == dtype for g in outputs(case.gradient(*args, **kwargs, **options)) if g is not None)


# Refusals ------------------------------------------------------------------------


def _with(case, args, index, value, at):
    changed = np.array(args[index], dtype=np.float64)
    changed[at] = value
    return (*args[:index], changed, *args[index + 1:])


def _refusals(case, args, kwargs):
    """The calls `case` must refuse, NaN in its prediction and +inf where refused, with their messages.

    The bad value goes in the last entry, so that the index the message
    reports is not the first.
    """
    index = case.differentiate
    at = tuple(size - 1 for size in np.shape(args[index]))
    where = rf"at index {re.escape(str(at))}$"
    calls = [(_with(case, args, index, np.nan, at), kwargs, rf"^`{case.prediction}` must not contain NaN; found NaN {where}")]
    if case.refuses_plus_inf:
        message = rf"^`{case.prediction}` must [^;]*; (got|found) \+?inf {where}"
        calls.append((_with(case, args, index, np.inf, at), kwargs, message))
    return calls


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_nan_and_plus_inf_are_refused_with_the_argument_and_the_index_named(case):
    args, kwargs = draw(case)
    for bad_args, bad_kwargs, message in _refusals(case, args, kwargs):
        for function in (case.function, case.gradient, getattr(exact, case.name)):
            if function is None:
                continue
            with pytest.raises(ValueError, match=message):
                function(*bad_args, **bad_kwargs)


@pytest.mark.parametrize("case", LOSSES, ids=ids(LOSSES))
def test_gradient_refuses_what_the_loss_refuses(case):
    args, kwargs = draw(case)
    ragged = [[0.5, 0.5], [1.0]]
    calls = _refusals(case, args, kwargs) + [
        ((*args[:case.differentiate], ragged, *args[case.differentiate + 1:]), kwargs, "ragged"),
    ]
    if case.kind in REDUCED:
        calls.append((args, {**kwargs, "reduction": "avg"}, "reduction"))
    calls += [(bad_args, bad_kwargs, "the case's own") for bad_args, bad_kwargs in case.bad]
    for bad_args, bad_kwargs, _ in calls:
        with pytest.raises((TypeError, ValueError)) as refused:
            case.function(*bad_args, **bad_kwargs)
        with pytest.raises(refused.type, match=f"^{re.escape(str(refused.value))}$"):
            case.gradient(*bad_args, **bad_kwargs)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_ragged_input_is_refused_by_name(case):
    args, kwargs = draw(case)
    ragged = (*args[:case.differentiate], [[0.5, 0.5], [1.0]], *args[case.differentiate + 1:])
    with pytest.raises(ValueError, match=rf"^`{case.prediction}` must be a rectangular array; got a nested sequence whose rows have different lengths$"):
        case.function(*ragged, **kwargs)


# No floating-point warning -------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
@given(data=st.data(), extreme=st.booleans())
def test_no_floating_point_warning_for_any_valid_input(case, data, extreme):
    # Half the examples are drawn value by value by hypothesis, half from a
    # seed it chooses, across the whole float range.
    dtype = data.draw(st.sampled_from(DTYPES))
    if extreme:
        source = Draw(data=data, dtype=dtype)
    else:
        source = Draw(np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))), dtype=dtype)
    args, kwargs = case.make(source, (2,), True)
    options = [{"reduction": r} for r in case.reductions] if case.kind in REDUCED else [{}]
    with np.errstate(all="raise"):
        for option in options:
            case.function(*args, **kwargs, **option)
            if case.gradient is not None:
                case.gradient(*args, **kwargs, **option)
