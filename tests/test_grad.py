"""The gradients in xentref.grad, each checked three ways and at the extremes.

(a) against SymPy's derivative of the xentref.symbolic definition, lambdified;
(b) against central finite differences of the loss itself, in float64 at
    moderate inputs;
(c) the reductions: "mean" is "sum" divided by the count the loss's mean
    divides by, and "none" is, example by example, the gradient of that
    example's loss alone (which is also the gradient of the sum).
"""

import inspect
import re

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import xentref
from xentref import grad, symbolic
from helpers import (
    central_difference,
    distributions,
    logits,
    mp_binary_cross_entropy_grad,
    mp_log_softmax,
    mp_sigmoid,
    mp_sigmoid_binary_cross_entropy_grad,
    ulp_error,
    weights,
)

SEED = 20261121
LOGITS = [1e-10, 30.0, 40.0, 700.0, 1e10]
EXTREME_LOGITS = [s * v for v in LOGITS for s in (1, -1)]


class raise_on_warning:
    """Turn every floating-point warning into an exception inside the block."""

    def __enter__(self):
        self.previous = np.seterr(all="raise")

    def __exit__(self, *exc):
        np.seterr(**self.previous)


# One convention for every loss -------------------------------------------------

LOSSES = [
    "cross_entropy",
    "kl_divergence",
    "softmax_cross_entropy",
    "binary_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "nll_loss",
    "linear_softmax_cross_entropy",
]


def test_every_loss_has_a_gradient_with_its_signature():
    assert sorted(grad.__all__) == sorted(LOSSES)
    for name in LOSSES:
        assert inspect.signature(getattr(grad, name)) == inspect.signature(getattr(xentref, name))


BAD_INPUTS = [
    ("softmax_cross_entropy", ([[0.0, np.nan]], [0]), {}),
    ("softmax_cross_entropy", (np.zeros((2, 3)), [0, 3]), {}),
    ("softmax_cross_entropy", (np.zeros((2, 3)), [[0.5, 0.4, 0.0]] * 2), {}),
    ("softmax_cross_entropy", (np.zeros((2, 3)), [0, 1]), {"reduction": "avg"}),
    ("binary_cross_entropy", ([0.5, 1.5], [1, 1]), {}),
    ("binary_cross_entropy", ([0.5, 0.5], [1]), {}),
    ("binary_cross_entropy", ([0.5], [1]), {"weight": [-1.0]}),
    ("sigmoid_binary_cross_entropy", ([0.0], [2.0]), {}),
    ("sigmoid_binary_cross_entropy", ([np.nan], [1.0]), {}),
    ("sigmoid_binary_cross_entropy", (np.zeros((2, 2)), np.ones((2, 2))), {"pos_weight": np.ones(3)}),
    ("nll_loss", ([[1.0, 2.0]], [0]), {}),
    ("nll_loss", (np.log([[0.5, 0.5]]), [0.0]), {}),
    ("cross_entropy", ([0.5, 0.5], [0.5, 0.6]), {}),
    ("cross_entropy", ([0.5, 0.5], [0.5, 0.5]), {"base": 1}),
    ("kl_divergence", ([0.5, 0.5], [[0.25, 0.25, 0.5]]), {}),
    ("kl_divergence", ([-0.5, 1.5], [0.5, 0.5]), {}),
]


@pytest.mark.parametrize("name, args, kwargs", BAD_INPUTS)
def test_gradients_refuse_what_the_losses_refuse(name, args, kwargs):
    with pytest.raises((TypeError, ValueError)) as refused:
        getattr(xentref, name)(*args, **kwargs)
    with pytest.raises(refused.type, match=f"^{re.escape(str(refused.value))}$"):
        getattr(grad, name)(*args, **kwargs)


# (c) Reductions, for every gradient with a `reduction` ------------------------
#
# Each case: the arguments with a leading batch axis of 3 examples, keyword
# arguments (per example, or shared along the last axis), and the number of
# losses the loss's "mean" divides by.


def _binary_case(rng):
    probs = rng.uniform(0.05, 0.95, (3, 4))
    targets = np.where(rng.uniform(size=(3, 4)) < 0.5, rng.integers(0, 2, (3, 4)), rng.uniform(size=(3, 4)))
    return (probs, targets), {"weight": rng.uniform(0, 2, (3, 4))}, 12


def _sigmoid_case(rng):
    (_, targets), kwargs, n = _binary_case(rng)
    kwargs["pos_weight"] = rng.uniform(0, 3, 4)
    return (rng.normal(0, 3, (3, 4)), targets), kwargs, n


def _nll_case(rng):
    log_probs = xentref.log_softmax(rng.normal(0, 3, (3, 5)))
    return (log_probs, rng.integers(0, 5, 3)), {}, 3


def _softmax_labels_case(rng):
    return (rng.normal(0, 3, (3, 5)), rng.integers(0, 5, 3)), {}, 3


def _softmax_probabilities_case(rng):
    return (rng.normal(0, 3, (3, 5)), rng.dirichlet(np.ones(5), 3)), {}, 3


REDUCTION_CASES = {
    "softmax_cross_entropy": _softmax_labels_case,
    "softmax_cross_entropy-probabilities": _softmax_probabilities_case,
    "binary_cross_entropy": _binary_case,
    "sigmoid_binary_cross_entropy": _sigmoid_case,
    "nll_loss": _nll_case,
}


@pytest.mark.parametrize("case", sorted(REDUCTION_CASES))
def test_mean_is_sum_over_the_count_and_none_is_each_loss_alone(case):
    name = case.split("-")[0]
    gradient, loss = getattr(grad, name), getattr(xentref, name)
    args, kwargs, count = REDUCTION_CASES[case](np.random.default_rng(SEED))
    total = gradient(*args, **kwargs, reduction="sum")
    assert total.shape == args[0].shape
    # The count is the one the loss's own mean divides by.
    assert loss(*args, **kwargs) == loss(*args, **kwargs, reduction="sum") / count
    # "mean" divides the exact gradient by the count before its one rounding,
    # so it may differ from the rounded sum divided by the count in the last bits.
    scale = 4 * np.finfo(total.dtype).eps * np.max(np.abs(total)) / count
    np.testing.assert_allclose(gradient(*args, **kwargs, reduction="mean"), total / count, rtol=0, atol=scale)
    none = gradient(*args, **kwargs, reduction="none")
    np.testing.assert_array_equal(none, total)
    for i in range(3):
        alone = {key: value[i] if np.ndim(value) == 2 else value for key, value in kwargs.items()}
        np.testing.assert_array_equal(gradient(*(a[i] for a in args), **alone, reduction="sum"), none[i])


@pytest.mark.parametrize("case", sorted(REDUCTION_CASES))
def test_gradient_of_an_empty_mean_is_refused(case):
    name = case.split("-")[0]
    args, kwargs, _ = REDUCTION_CASES[case](np.random.default_rng(SEED))
    empty = [a[:0] for a in args]
    kwargs = {key: value[:0] if np.ndim(value) == 2 else value for key, value in kwargs.items()}
    assert getattr(grad, name)(*empty, **kwargs, reduction="sum").shape == empty[0].shape
    with pytest.raises(ValueError, match=r"`reduction='mean'` is undefined for an empty batch"):
        getattr(grad, name)(*empty, **kwargs)


# Softmax cross-entropy ------------------------------------------------------


def test_softmax_cross_entropy_matches_sympy():
    z = sp.symbols("z1:6", real=True)
    t = symbolic.probabilities("t", 5)
    (x, labels), _, _ = _softmax_labels_case(np.random.default_rng(SEED))
    (_, targets), _, _ = _softmax_probabilities_case(np.random.default_rng(SEED))
    by_probabilities = symbolic.softmax_cross_entropy(z, t)
    derivative = sp.lambdify([z, t], [sp.diff(by_probabilities, v) for v in z])
    expected = np.array([derivative(row, target) for row, target in zip(x, targets)])
    # The textbook derivative subtracts terms below 1: atol.
    np.testing.assert_allclose(
        grad.softmax_cross_entropy(x, targets, reduction="sum"), expected, rtol=1e-13, atol=1e-15
    )
    for row, label in zip(x, labels):
        by_label = symbolic.softmax_cross_entropy(z, int(label))
        expected = sp.lambdify([z], [sp.diff(by_label, v) for v in z])(row)
        np.testing.assert_allclose(grad.softmax_cross_entropy(row, label), expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("case", [_softmax_labels_case, _softmax_probabilities_case])
def test_softmax_cross_entropy_matches_finite_differences(case):
    (x, targets), _, _ = case(np.random.default_rng(SEED))

    def loss(z):
        return float(xentref.softmax_cross_entropy(z, targets, reduction="sum"))

    # Step 1e-5 relative: truncation error below 1e-10, rounding below 1e-9.
    expected = central_difference(loss, x, 1e-5 * np.maximum(1, np.abs(x)))
    actual = grad.softmax_cross_entropy(x, targets, reduction="sum")
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


def test_softmax_cross_entropy_is_nll_loss_through_log_softmax():
    # Chain rule: the Jacobian of log_softmax maps g to g - softmax * sum(g).
    (x, labels), _, _ = _softmax_labels_case(np.random.default_rng(SEED))
    g = grad.nll_loss(xentref.log_softmax(x), labels)
    through = g - xentref.softmax(x) * np.sum(g, axis=-1, keepdims=True)
    np.testing.assert_allclose(grad.softmax_cross_entropy(x, labels), through, rtol=1e-14, atol=1e-17)


def _mp_softmax_cross_entropy_grad(z, label):
    """softmax - onehot at 50 digits, the label's entry as minus the other probabilities."""
    p = [mpmath.exp(v) for v in mp_log_softmax(z)]
    return [-mpmath.fsum(p[:k] + p[k + 1:]) if k == label else p[k] for k in range(len(p))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("gap", [10.0, 30.0, 40.0, 100.0, 700.0])
@pytest.mark.parametrize("label", [0, 1])
def test_softmax_cross_entropy_tiny_gradients_match_mpmath(dtype, gap, label):
    # Label 0 is the confident class: its entry softmax - 1 is minus the
    # (tiny) sum of the others and must keep its digits.
    z = np.array([gap, 0.0, -gap], dtype=dtype)
    g = grad.softmax_cross_entropy(z, label)
    assert g.dtype == dtype
    for actual, exact in zip(g, _mp_softmax_cross_entropy_grad(z, label)):
        assert ulp_error(actual, exact, dtype) <= 4


def test_softmax_cross_entropy_random_gradients_match_mpmath():
    rng = np.random.default_rng(SEED)
    for k in [2, 10, 100]:
        z = 5 * rng.standard_normal(k)
        for label in [0, int(np.argmax(z))]:
            g = grad.softmax_cross_entropy(z, label)
            # Each softmax entry is within (k + 4 + 2 (max z - min z)) ulps
            # (Blanchard, Higham and Higham, Thm 4.3 plus the final rounding).
            bound = k + 4 + 2 * (z.max() - z.min())
            for actual, exact in zip(g, _mp_softmax_cross_entropy_grad(z, label)):
                assert ulp_error(actual, exact, np.float64) <= bound


@pytest.mark.parametrize("scale", [1e10, 1e300, 1.7e308])
def test_softmax_cross_entropy_huge_logits_give_exact_gradients(scale):
    z = np.array([scale, -scale, 0.0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, 0), [0, 0, 0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, 1), [1, -1, 0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, [0.25, 0.25, 0.5]), [0.75, -0.25, -0.5])


def test_softmax_cross_entropy_minus_infinity_logits():
    z = np.array([0.0, -np.inf, 0.0])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, 0), [-0.5, 0, 0.5])
    np.testing.assert_array_equal(grad.softmax_cross_entropy(z, [0.5, 0.5, 0.0]), [0, -0.5, 0.5])


@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(logits(k, batch=(4,), bound=1.7e308), st.lists(st.integers(0, k - 1), min_size=4, max_size=4))
    )
)
def test_softmax_cross_entropy_labels_equal_one_hot_and_stay_finite(case):
    z, labels = case
    with raise_on_warning():
        by_label = grad.softmax_cross_entropy(z, labels)
        by_one_hot = grad.softmax_cross_entropy(z, np.eye(z.shape[-1])[labels])
    np.testing.assert_array_equal(by_label, by_one_hot)
    assert np.all(np.isfinite(by_label))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_gradient_keeps_dtype_and_axis(dtype):
    rng = np.random.default_rng(SEED)
    z = rng.normal(size=(2, 4, 3)).astype(dtype)
    t = rng.dirichlet(np.ones(4), size=(2, 3))  # float64 targets, float32 logits
    g = grad.softmax_cross_entropy(z, np.moveaxis(t, -1, 1), axis=1)
    assert g.dtype == dtype
    np.testing.assert_array_equal(g, np.moveaxis(grad.softmax_cross_entropy(np.moveaxis(z, 1, -1), t), -1, 1))


# Binary cross-entropy from probabilities -------------------------------------


def test_binary_cross_entropy_matches_sympy():
    p, y, w = sp.symbols("p y w", positive=True)
    derivative = sp.lambdify([p, y, w], sp.diff(w * symbolic.binary_cross_entropy(p, y), p))
    (probs, targets), kwargs, _ = _binary_case(np.random.default_rng(SEED))
    weight = kwargs["weight"]
    # The textbook form -w[y/p - (1 - y)/(1 - p)] cancels where p is near y,
    # so its own error is a few eps of its terms (at most 20 here): atol.
    np.testing.assert_allclose(
        grad.binary_cross_entropy(probs, targets, weight=weight, reduction="sum"),
        derivative(probs, targets, weight),
        rtol=1e-13,
        atol=1e-13,
    )


def test_binary_cross_entropy_matches_finite_differences():
    (probs, targets), kwargs, _ = _binary_case(np.random.default_rng(SEED))

    def loss(p):
        return float(xentref.binary_cross_entropy(p, targets, **kwargs, reduction="sum"))

    # Step 1e-6: truncation error h^2 |f'''| / 6 < 1e-9 for p in [0.05, 0.95],
    # rounding error eps |f| / h < 1e-8.
    expected = central_difference(loss, probs, np.full(probs.shape, 1e-6))
    actual = grad.binary_cross_entropy(probs, targets, **kwargs, reduction="sum")
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-7)


def test_binary_cross_entropy_edges():
    # Infinite where the loss is infinite; the one-sided derivative of the
    # surviving term where p = y is 0 or 1; nothing raises a warning.
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.25])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.3, 0.25])
    with raise_on_warning():
        g = grad.binary_cross_entropy(p, y, reduction="none")
        masked = grad.binary_cross_entropy(p, y, weight=np.zeros(7), reduction="none")
    np.testing.assert_array_equal(g, [-np.inf, np.inf, 1, -1, -np.inf, np.inf, 0])
    np.testing.assert_array_equal(masked, np.zeros(7))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("z", EXTREME_LOGITS)
def test_binary_cross_entropy_at_the_sigmoid_of_extreme_logits(dtype, y, z):
    p = np.array(float(mp_sigmoid(z)), dtype=dtype)
    g = grad.binary_cross_entropy(p, y)
    assert g.dtype == dtype
    assert ulp_error(g, mp_binary_cross_entropy_grad(p, y), dtype) <= 4


def test_binary_cross_entropy_random_values_match_mpmath():
    rng = np.random.default_rng(SEED)
    p = rng.uniform(size=100)
    y = np.concatenate([rng.uniform(size=50), rng.integers(0, 2, 50)])
    g = grad.binary_cross_entropy(p, y, reduction="none")
    assert max(ulp_error(*args, np.float64) for args in zip(g, map(mp_binary_cross_entropy_grad, p, y))) <= 4


# Binary cross-entropy from logits ---------------------------------------------


def test_sigmoid_binary_cross_entropy_matches_sympy():
    z, y, pw, w = sp.symbols("z y pw w", real=True)
    expression = w * symbolic.sigmoid_binary_cross_entropy(z, y, pos_weight=pw)
    derivative = sp.lambdify([z, y, pw, w], sp.diff(expression, z))
    (x, targets), kwargs, _ = _sigmoid_case(np.random.default_rng(SEED))
    # The textbook derivative subtracts terms of size up to w * pw: atol.
    np.testing.assert_allclose(
        grad.sigmoid_binary_cross_entropy(x, targets, **kwargs, reduction="sum"),
        derivative(x, targets, kwargs["pos_weight"], kwargs["weight"]),
        rtol=1e-12,
        atol=1e-14,
    )


def test_sigmoid_binary_cross_entropy_matches_finite_differences():
    (x, targets), kwargs, _ = _sigmoid_case(np.random.default_rng(SEED))

    def loss(z):
        return float(xentref.sigmoid_binary_cross_entropy(z, targets, **kwargs, reduction="sum"))

    # Step 1e-5 relative: truncation error below 1e-10, rounding below 1e-9.
    expected = central_difference(loss, x, 1e-5 * np.maximum(1, np.abs(x)))
    actual = grad.sigmoid_binary_cross_entropy(x, targets, **kwargs, reduction="sum")
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("z", EXTREME_LOGITS)
def test_sigmoid_binary_cross_entropy_extreme_logits_match_mpmath(dtype, y, z):
    z = np.array(z, dtype=dtype)
    g = grad.sigmoid_binary_cross_entropy(z, y, pos_weight=2.0)
    assert g.dtype == dtype
    assert ulp_error(g, mp_sigmoid_binary_cross_entropy_grad(z, y, 2.0), dtype) <= 4


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_minus_one_keeps_its_digits(dtype):
    # sigma(40) - 1 = -sigma(-40) = -4.2484e-18, not the 0 that subtracting gives.
    g = grad.sigmoid_binary_cross_entropy(np.array(40.0, dtype=dtype), 1.0)
    assert ulp_error(g, -1 / (1 + mpmath.exp(40)), dtype) <= 2
    assert f"{g:.4e}" == "-4.2484e-18"


@pytest.mark.parametrize("scale", [1e300, 1.7e308, np.inf])
def test_sigmoid_binary_cross_entropy_huge_logits_give_exact_gradients(scale):
    # sigma(z) - y with sigma(+big) = 1 and sigma(-big) = 0.
    z = np.array([scale, scale, -scale, -scale])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(grad.sigmoid_binary_cross_entropy(z, y, reduction="none"), [0, 1, -1, 0])


@given(
    logits(3, batch=(2,), bound=1.7e308),
    hnp.arrays(np.float64, (2, 3), elements=st.floats(0, 1)),
    weights(3),
)
def test_no_floating_point_warning_for_binary_gradients(z, y, w):
    with raise_on_warning():
        g = grad.sigmoid_binary_cross_entropy(z, y, pos_weight=w, weight=w)
        grad.binary_cross_entropy(y, y[::-1], weight=w)
    assert np.all(np.isfinite(g))


# Negative log-likelihood -----------------------------------------------------


def test_nll_loss_matches_sympy():
    log_p = sp.symbols("l1:6", real=True)
    (log_probs, labels), _, _ = _nll_case(np.random.default_rng(SEED))
    for row, label in zip(log_probs, labels):
        derivative = [sp.diff(symbolic.nll_loss(log_p, int(label)), v) for v in log_p]
        expected = sp.lambdify([log_p], derivative)(row)
        np.testing.assert_array_equal(grad.nll_loss(row, label, reduction="sum"), expected)


def test_nll_loss_matches_finite_differences():
    (log_probs, labels), _, _ = _nll_case(np.random.default_rng(SEED))

    def loss(log_p):
        return float(xentref.nll_loss(log_p, labels, reduction="sum"))

    # The loss is linear, so only rounding matters: eps |f| / h < 1e-6. The
    # step keeps each slice normalised within sqrt(eps), as the loss demands.
    expected = central_difference(loss, log_probs, np.full(log_probs.shape, 4e-9))
    np.testing.assert_allclose(grad.nll_loss(log_probs, labels, reduction="sum"), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nll_loss_gradient_keeps_shape_dtype_and_axis(dtype):
    rng = np.random.default_rng(SEED)
    log_p = xentref.log_softmax(rng.normal(size=(2, 4, 3)).astype(dtype), axis=1)
    labels = rng.integers(0, 4, (2, 3))
    g = grad.nll_loss(log_p, labels, axis=1)
    assert g.shape == (2, 4, 3) and g.dtype == dtype
    np.testing.assert_array_equal(g, np.moveaxis(grad.nll_loss(np.moveaxis(log_p, 1, -1), labels), -1, 1))
    # -1/6 at each label (6 examples), in dtype.
    np.testing.assert_array_equal(np.sort(g, axis=None)[:6], np.full(6, dtype(-1) / dtype(6)))


def test_nll_loss_gradient_refuses_what_the_loss_refuses():
    with pytest.raises(ValueError, match=r"`log_probs` must hold log-probabilities"):
        grad.nll_loss([[1.0, 2.0]], [0])
    with pytest.raises(ValueError, match=r"`labels` must be class labels in \[0, 2\); got 2"):
        grad.nll_loss(np.log([[0.5, 0.5]]), [2])


# Cross-entropy and KL divergence of distributions, with respect to q ----------

INFORMATION = ["cross_entropy", "kl_divergence"]


def _distribution_pair(rng, n=3, k=4):
    p = rng.dirichlet(np.ones(k), n)
    p[0, 1] = 0  # a zero of p, whose entry of the gradient must be 0
    p /= p.sum(axis=-1, keepdims=True)
    return p, rng.dirichlet(np.ones(k), n)


@pytest.mark.parametrize("name", INFORMATION)
@pytest.mark.parametrize("base", [None, 2])
def test_information_gradients_match_sympy(name, base):
    p_symbols = symbolic.probabilities("p", 4)
    q_symbols = symbolic.probabilities("q", 4)
    expression = getattr(symbolic, name)(p_symbols, q_symbols, base=base)
    derivative = sp.lambdify([p_symbols, q_symbols], [sp.diff(expression, v) for v in q_symbols])
    p, q = _distribution_pair(np.random.default_rng(SEED))
    # The symbolic formulas give NaN at p = 0 (0 log 0), but their derivative
    # in q is -p/q there too: 0.
    expected = np.array([derivative(a, b) for a, b in zip(p, q)], dtype=float)
    np.testing.assert_allclose(getattr(grad, name)(p, q, base=base), expected, rtol=1e-14)


@pytest.mark.parametrize("name", INFORMATION)
def test_information_gradients_match_finite_differences(name):
    p, q = _distribution_pair(np.random.default_rng(SEED))

    def total(q):
        return float(np.sum(getattr(xentref, name)(p, q)))

    # Step 4e-9 keeps each row of q a distribution within sqrt(eps) = 1.5e-8,
    # as the functions demand; rounding then costs eps |f| / h < 1e-6.
    expected = central_difference(total, q, np.full(q.shape, 4e-9))
    np.testing.assert_allclose(getattr(grad, name)(p, q), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", INFORMATION)
def test_information_gradients_are_of_the_sum_of_rows(name):
    # Each row's gradient alone; with q broadcast against p, the rows' sum.
    gradient = getattr(grad, name)
    p, q = _distribution_pair(np.random.default_rng(SEED))
    rows = np.array([gradient(a, b) for a, b in zip(p, q)])
    np.testing.assert_array_equal(gradient(p, q), rows)
    shared = q[0]
    assert gradient(p, shared).shape == (4,)
    np.testing.assert_allclose(gradient(p, shared), sum(gradient(a, shared) for a in p), rtol=1e-15)
    np.testing.assert_allclose(gradient(p, shared[None]), gradient(p, shared)[None], rtol=1e-15)
    np.testing.assert_array_equal(gradient(p[0], q), np.array([gradient(p[0], b) for b in q]))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("base", [None, 2])
def test_information_gradients_match_mpmath(dtype, base):
    p, q = (a.astype(dtype) for a in _distribution_pair(np.random.default_rng(SEED)))
    g = grad.cross_entropy(p, q, base=base)
    assert g.dtype == dtype
    unit = 1 if base is None else mpmath.log(base)
    for actual, a, b in zip(g.ravel(), p.ravel(), q.ravel()):
        exact = -mpmath.mpf(float(a)) / mpmath.mpf(float(b)) / unit
        assert ulp_error(actual, exact, dtype) <= 2


@pytest.mark.parametrize("name", INFORMATION)
def test_information_gradient_edges(name):
    # 0 where p = 0, even at q = 0; -inf where p > 0 = q; no warnings.
    p = np.array([[0.5, 0.0, 0.5], [1.0, 0.0, 0.0]])
    q = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    with raise_on_warning():
        g = getattr(grad, name)(p, q)
    np.testing.assert_array_equal(g, [[-0.5, 0, -np.inf], [-2, 0, 0]])


def positive_distributions(k):
    raw = hnp.arrays(np.float64, (3, k), elements=st.floats(2.0**-20, 1.0))
    return raw.map(lambda a: a / a.sum(axis=-1, keepdims=True))


@given(st.integers(2, 6).flatmap(lambda k: st.tuples(distributions(k, batch=(3,)), positive_distributions(k))))
def test_q_times_the_gradient_is_minus_one(pair):
    # H(p, c q) = H(p, q) - log c, so the derivative along q itself,
    # d/dc H(p, c q) at c = 1, is -sum(p) = -1.
    p, q = pair
    with raise_on_warning():
        g = grad.cross_entropy(p, q)
    np.testing.assert_allclose(np.sum(q * g, axis=-1), -1, rtol=0, atol=1e-13)
