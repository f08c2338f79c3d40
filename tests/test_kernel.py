"""The numerical kernel of the softmax family: its assumptions, its blocks and its hard cases.

The contract battery (tests/test_contract.py) bounds every function against
:mod:`xentref.exact` on the registry's corpora; this file adds the inputs
that the exact shift exists for, checks that results do not depend on how
the work is cut into blocks and threads, and re-measures the accuracy of
NumPy's ``exp`` and ``log1p`` that the error bounds assume.
"""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from cases import CASES, Draw, hard_logits
from test_contract import ulps_of

import xentref
from xentref import _blocks as blocks
from xentref import _check as check
from xentref import exact
from xentref._half import BFLOAT16, round_to
from xentref.exact._rounding import round_dyadic

SEED = 20261124


def test_exact_gradient_at_tied_maxima_beside_gaps_beyond_any_precision():
    # The probabilities at the tied maxima are 1/2 minus e^(-1.7e308): the
    # entries T/2 - t_k were a tie to round, which no ball could resolve.
    logits = np.array([[0.5, 0.5, -1e300, -1.7e308, -1.7e308]])
    targets = np.array([[0.1259658506796495, 0.1107892065360485, 0.08944592328669482,
                         0.01082143558559924, 0.662977583912008]])
    gradient = exact.grad.softmax_cross_entropy(logits, targets, reduction="none")
    t = [Fraction(v) for v in targets[0]]
    # T/2 - t_k lowered by a sliver far below an ulp: within an ulp of T/2 - t_k.
    expected = [float(sum(t) / 2 - t[0]), float(sum(t) / 2 - t[1]), *(-targets[0, 2:])]
    assert np.max(exact.ulp_distance(gradient[0], np.array(expected))) <= 1


# The platform assumption of the error bounds -------------------------------------


def _ulp_errors(function, exact_function, x):
    """|function(x) - exact| in ulps of the exact value, from mpmath at 40 digits."""
    mpmath.mp.dps = 40
    computed = function(x)
    errors = []
    for argument, value in zip(x.tolist(), computed.tolist()):
        reference = exact_function(mpmath.mpf(argument))
        unit = np.spacing(np.float64(abs(float(reference))))
        errors.append(float(abs(mpmath.mpf(value) - reference) / mpmath.mpf(float(unit))))
    return np.array(errors)


def test_numpy_exp_and_log1p_are_as_accurate_as_the_bounds_assume():
    # xentref/_shift.py assumes exp (normal results) and log1p within 0.8
    # ulps; a sample can refute this, not prove it.
    rng = np.random.default_rng(SEED)
    gaps = np.concatenate([-rng.uniform(0, 708, 3000), -rng.uniform(0, 1, 1000)])
    assert np.max(_ulp_errors(np.exp, mpmath.exp, gaps)) <= 0.8
    rests = np.concatenate([10.0 ** rng.uniform(-300, 5, 3000), rng.uniform(0, 3, 1000)])
    assert np.max(_ulp_errors(np.log1p, mpmath.log1p, rests)) <= 0.8


# The exact shift ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("gap", [5.3, 37.9, 300.7, 699.9])
def test_a_wide_non_integer_gap_costs_no_digits(gap, dtype):
    # Rounding z_k - max z cost |gap| u after exp: about 300 ulps of the loss
    # at logits [300.8, 0.1] before the shift was kept exact.
    if dtype == np.float32 and gap > 90:
        gap = gap / 8
    z = np.array([[gap + 0.1, 0.1], [0.1, gap + 0.1]], dtype=dtype)
    labels = np.array([0, 0])
    for function, reference in (
        (xentref.softmax_cross_entropy, exact.softmax_cross_entropy),
        (xentref.grad.softmax_cross_entropy, exact.grad.softmax_cross_entropy),
    ):
        actual = function(z, labels, reduction="none")
        assert np.max(exact.ulp_distance(actual, reference(z, labels, reduction="none"))) <= 4
    assert np.max(exact.ulp_distance(xentref.softmax(z), exact.softmax(z))) <= 4


@pytest.mark.parametrize("k", [2, 17, 1000])
def test_float32_is_within_one_ulp_on_the_hard_corpus(k):
    # Computed in float64 and rounded once (xentref/_shift.py).
    for case in (c for c in CASES if c.hard is not None):
        args, kwargs = case.hard(np.random.default_rng(SEED + k), 4 if k < 1000 else 2, k, np.float32)
        options = {"reduction": "none"} if case.kind == "examples" else {}
        actual = case.function(*args, **kwargs, **options)
        expected = getattr(exact, case.name)(*args, **kwargs, **options)
        scale = case.scale and case.scale(args, kwargs)
        assert np.max(ulps_of(actual, expected, scale)) <= 1, case.id
        if case.gradient is not None:
            actual = case.gradient(*args, **kwargs)
            expected = getattr(exact.grad, case.name)(*args, **kwargs)
            scale = case.grad_scale and case.grad_scale(args, kwargs) / case.count(args, kwargs)
            assert np.max(ulps_of(actual, expected, scale)) <= 1, case.id


def test_subnormal_exponentials_are_summed_without_their_rounding_errors():
    # 999 exponentials of gaps near -740 each carry up to one unit of the
    # subnormals; summed plainly, the loss at the maximum (their sum) would
    # be off by up to that many units.
    rng = np.random.default_rng(SEED)
    z = np.concatenate([[0.0], -rng.uniform(735, 745, 999)])[None]
    loss = xentref.softmax_cross_entropy(z, [0], reduction="none")
    assert 0 < loss[0] < np.finfo(np.float64).tiny
    assert np.max(exact.ulp_distance(loss, exact.softmax_cross_entropy(z, [0], reduction="none"))) <= 1


@pytest.mark.parametrize("options", [{"z_loss": 0.5}, {"class_weight": [3e4, 1.0, 1.0]}])
def test_a_subnormal_exponential_times_a_factor_above_1_keeps_its_digits(options):
    # p_1 T with T = 1 + 2 lambda lse = 601 (or the weight 3e4): the
    # exponential e^-720.3 held in the subnormals lost up to half a unit
    # there, which the factor magnified to hundreds of units of the entry.
    z = np.array([[600.0, 600.0 - 720.3, 0.0]])
    actual = xentref.grad.softmax_cross_entropy(z, [0], **options, reduction="sum")
    expected = exact.grad.softmax_cross_entropy(z, [0], **options, reduction="sum")
    assert 0 < actual[0, 1] < np.finfo(np.float64).tiny
    assert np.max(exact.ulp_distance(actual, expected)) <= 1


# Blocks, threads and chunks ---------------------------------------------------------

FAMILY = [
    lambda z, y, t: xentref.logsumexp(z),
    lambda z, y, t: xentref.log_softmax(z),
    lambda z, y, t: xentref.softmax(z),
    lambda z, y, t: xentref.softmax_cross_entropy(z, y, reduction="none"),
    lambda z, y, t: xentref.softmax_cross_entropy(z, t, reduction="none"),
    lambda z, y, t: xentref.grad.softmax_cross_entropy(z, y),
    lambda z, y, t: xentref.grad.softmax_cross_entropy(z, t),
    lambda z, y, t: xentref.nll_loss(xentref.log_softmax(z), y, reduction="none"),
]


def _batch(dtype, n=50, k=33):
    rng = np.random.default_rng(SEED)
    z = np.concatenate([hard_logits(rng, n // 2, k, dtype), (3 * rng.standard_normal((n - n // 2, k))).astype(dtype)])
    labels = rng.integers(0, k, n)
    labels = np.where(np.isfinite(z[np.arange(n), labels]), labels, np.argmax(z, axis=1))
    t = rng.dirichlet(np.ones(k), n) * np.isfinite(z)
    return z, labels, (t / t.sum(axis=1, keepdims=True)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_results_do_not_depend_on_the_block_size_nor_the_threads(dtype):
    z, labels, t = _batch(dtype)
    with blocks.configured(budget=10**6, threads=1):
        reference = [f(z, labels, t) for f in FAMILY]
    for budget, threads in ((33, 1), (33 * 7, 2), (33 * 16, 3)):
        with blocks.configured(budget=budget, threads=threads, min_parallel=0):
            for f, expected in zip(FAMILY, reference):
                np.testing.assert_array_equal(f(z, labels, t), expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("budget", [1, 5, 16])
def test_rows_in_chunks_of_classes_keep_the_bounds(budget, dtype):
    # The online rule merges chunk-wise (maximum, sum) pairs with rescaling
    # factors accurate to 2^-58: the same bounds as one chunk.
    # Chunks of one class are the slowest: half the rows there.
    z, labels, t = _batch(dtype, n=6 if budget == 1 else 12, k=40)
    with blocks.configured(budget=10**6):
        plain = xentref.softmax_cross_entropy(z, labels, reduction="none")
    with blocks.configured(budget=budget):
        # Both within 4 ulps of the correctly rounded loss (1 in float32).
        chunked = xentref.softmax_cross_entropy(z, labels, reduction="none")
        assert np.max(exact.ulp_distance(chunked, plain)) <= (2 if dtype == np.float32 else 8)
        for case in (c for c in CASES if c.hard is not None):
            args = (z,) if case.kind == "rows" else (z, labels if case.variant.startswith("labels") else t)
            # The case's options (class weights, a selection, smoothing) for these rows.
            kwargs = case.hard(np.random.default_rng(SEED), *z.shape, dtype)[1]
            bound = 1 if dtype == np.float32 else case.ulps
            options = {"reduction": "none"} if case.kind == "examples" else {}
            actual = case.function(*args, **kwargs, **options)
            expected = getattr(exact, case.name)(*args, **kwargs, **options)
            assert np.max(ulps_of(actual, expected, case.scale and case.scale(args, kwargs))) <= bound, case.id
            if case.gradient is not None:
                actual = case.gradient(*args, **kwargs)
                expected = getattr(exact.grad, case.name)(*args, **kwargs)
                scale = case.grad_scale and case.grad_scale(args, kwargs) / case.count(args, kwargs)
                bound = 1 if dtype == np.float32 else case.grad_ulps
                assert np.max(ulps_of(actual, expected, scale)) <= bound, case.id
            one_hot = np.eye(z.shape[1], dtype=dtype)[labels]
            np.testing.assert_array_equal(
                xentref.grad.softmax_cross_entropy(z, labels), xentref.grad.softmax_cross_entropy(z, one_hot),
            )


@pytest.mark.parametrize("threads", [1, 2])
def test_a_bad_row_deep_in_the_batch_is_named_as_by_the_checks(threads):
    z, labels, t = _batch(np.float64, n=40)
    z[37, 3] = np.nan
    with blocks.configured(budget=33 * 2, threads=threads, min_parallel=0):
        with pytest.raises(ValueError, match=r"^`logits` must not contain NaN; found NaN at index \(37, 3\)$"):
            xentref.softmax_cross_entropy(z, labels)
        t[30] = t[30] * 2
        z[37, 3] = 0.0
        with pytest.raises(ValueError, match=r"^`targets` must sum to 1 along axis 1 .* at batch index \(30,\)$"):
            xentref.grad.softmax_cross_entropy(z, t)


# Half precision ---------------------------------------------------------------------

HALF = [np.float16, *([] if BFLOAT16 is None else [BFLOAT16])]


def _into_half_range(z):
    """Logits scaled so that the largest finite magnitude is 60; -inf stays."""
    finite = np.isfinite(z)
    return np.where(finite, z / np.max(np.abs(np.where(finite, z, 0))) * 60, -np.inf)


@pytest.mark.parametrize("dtype", HALF, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("hard", [False, True], ids=["moderate", "hard"])
def test_half_precision_is_computed_wide_and_rounded_once(dtype, hard):
    # Within 1 ulp of the exact value, in the input's dtype.
    rng = np.random.default_rng(SEED)
    for case in (c for c in CASES if c.hard is not None):
        if hard:
            args, kwargs = case.hard(rng, 6, 9, np.float32)
            # The logits (distillation's teacher's too) rescaled into the
            # half-precision range (float16 ends at 65504).
            n_logits = 2 if case.name == "distillation_loss" else 1
            args = tuple(_into_half_range(a) for a in args[:n_logits]) + args[n_logits:]
        else:
            args, kwargs = case.make(Draw(rng, dtype=np.float64), (6,), False)
        args = (check.in_dtype(np.asarray(args[0], dtype=np.float64), dtype),) + tuple(
            check.in_dtype(np.asarray(a, dtype=np.float64), dtype) if np.ndim(a) == 2 else a for a in args[1:]
        )
        if "class_weight" in kwargs:
            # The weights as the function reads them, in the logits' dtype (for the scales below).
            kwargs["class_weight"] = check.in_dtype(np.asarray(kwargs["class_weight"]), dtype).astype(np.float64)
        options = {"reduction": "none"} if case.kind == "examples" else {}
        actual = case.function(*args, **kwargs, **options)
        assert actual.dtype == dtype, case.id
        expected = getattr(exact, case.name)(*args, **kwargs, **options)
        assert np.max(ulps_of(actual, expected, case.scale and case.scale(args, kwargs))) <= 1, case.id
        if case.gradient is not None:
            actual = case.gradient(*args, **kwargs)
            assert actual.dtype == dtype
            expected = getattr(exact.grad, case.name)(*args, **kwargs)
            scale = case.grad_scale and case.grad_scale(args, kwargs) / case.count(args, kwargs)
            assert np.max(ulps_of(actual, expected, scale)) <= 1, case.id


def test_exact_rounds_once_to_half_precision():
    # 1 + 2^-11 + 2^-40 is above the float16 midpoint 1 + 2^-11: it rounds up.
    assert round_dyadic(2**40 + 2**29 + 1, -40, np.float16) == 1 + 2**-10
    assert round_dyadic(2**11 + 1, -11, np.float16) == 1.0  # the midpoint, to even
    assert round_dyadic(65520, 0, np.float16) == np.inf  # past the largest, 65504, by half an ulp
    assert round_dyadic(3, -26, np.float16) == 2**-24  # 1.5 units of the subnormals, to even: 2
    if BFLOAT16 is not None:
        # Through float32 this would round twice, to 1.
        assert round_dyadic(2**30 + 2**22 + 1, -30, BFLOAT16) == 1 + 2**-7
        assert float(round_to(np.array([1 + 2**-8 + 2**-30]), BFLOAT16)[0]) == 1 + 2**-7


def test_other_functions_still_refuse_half_precision():
    with pytest.raises(TypeError, match=r"^`p` must hold real numbers of dtype float32 or float64; got dtype float16$"):
        xentref.entropy(np.array([0.5, 0.5], np.float16))


@pytest.mark.parametrize("k", [2, 17, 1000])
def test_logsumexp_of_a_non_negative_maximum_is_within_2_ulps_of_itself(k):
    # Its two terms, the maximum and log1p(s), then have one sign.
    rng = np.random.default_rng(SEED + k)
    z = hard_logits(rng, 12, k, np.float64)
    z = z[np.max(z, axis=1) >= 0]
    assert len(z) > 3
    assert np.max(exact.ulp_distance(xentref.logsumexp(z), exact.logsumexp(z))) <= 2
