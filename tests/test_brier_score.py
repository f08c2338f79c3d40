"""What only the Brier score does: its range, its binary form, its refusals."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

import xentref
from xentref import grad

SEED = 20261124


def test_hand_values_and_range():
    q = np.array([[0.7, 0.2, 0.1], [0.2, 0.4, 0.4], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    # (0.3^2 + 0.2^2 + 0.1^2, 0.8^2 + 0.4^2 + 0.4^2, a certain miss, a certain hit)
    expected = [0.14, 0.96, 2.0, 0.0]
    np.testing.assert_allclose(xentref.brier_score(q, [0, 0, 0, 0], reduction="none"), expected, rtol=1e-15)


def test_binary_case_is_twice_scikit_learns_brier_score_loss():
    # scikit-learn scores one probability per example, (p - y)^2; the sum over
    # both classes counts the same error twice.
    rng = np.random.default_rng(SEED)
    p = rng.uniform(size=200)
    y = rng.integers(0, 2, 200)
    ours = xentref.brier_score(np.stack([1 - p, p], axis=-1), y)
    assert np.isclose(ours, 2 * brier_score_loss(y, p), rtol=1e-13, atol=0)


def test_labels_equal_one_hot_targets():
    rng = np.random.default_rng(SEED)
    q = rng.dirichlet(np.ones(4), 30)
    labels = rng.integers(0, 4, 30)
    for function in (xentref.brier_score, grad.brier_score):
        np.testing.assert_array_equal(function(q, labels), function(q, np.eye(4)[labels]))


def test_expected_score_is_smallest_at_the_true_distribution():
    # E_y~p [BS(q, y)] = sum_k (q_k - p_k)^2 + 1 - sum_k p_k^2: proper, and strictly.
    rng = np.random.default_rng(SEED)
    p = rng.dirichlet(np.ones(5))
    expected = lambda q: sum(p[y] * xentref.brier_score(q, y) for y in range(5))
    for q in rng.dirichlet(np.ones(5), 100):
        assert expected(q) > expected(p)
        assert np.isclose(expected(q) - expected(p), np.sum((q - p) ** 2), rtol=1e-12, atol=1e-15)


def test_refusal_names_probs_not_logits():
    # The shared check of targets was written for logits; here the prediction is `probs`.
    with pytest.raises(ValueError, match=r"^`targets` as probabilities must have the shape of `probs` \(1, 2\); got \(1, 3\)$"):
        xentref.brier_score([[0.5, 0.5]], [[0.2, 0.3, 0.5]])


@pytest.mark.parametrize("probs, targets, message", [
    ([[0.5, 0.6]], [0], r"^`probs` must sum to 1 along axis 1"),
    ([[-0.5, 1.5]], [0], r"^`probs` must be non-negative; got -0.5 at index \(0, 0\)$"),
    ([[0.5, 0.5]], [2], r"^`targets` must be class labels in \[0, 2\); got 2 at index \(0,\)$"),
    ([[0.5, 0.5]], [[0.5, 0.6]], r"^`targets` must sum to 1 along axis 1"),
    ([[2.0, -1.0]], [0], r"^`probs` must be non-negative"),
])
def test_each_refusal(probs, targets, message):
    for function in (xentref.brier_score, grad.brier_score):
        with pytest.raises(ValueError, match=message):
            function(probs, targets)


def test_float_labels_are_refused_as_labels():
    with pytest.raises(TypeError, match=r"^`targets` of shape \(1,\) holds class labels and must have an integer dtype; got float64$"):
        xentref.brier_score([[0.5, 0.5]], [0.0])


def test_symbolic_expected_score_is_the_squared_distance_plus_a_constant():
    import sympy as sp

    from xentref import symbolic

    p = symbolic.probabilities("p", 3)
    q = symbolic.probabilities("q", 3)
    expected = sum(pk * symbolic.brier_score(q, y) for y, pk in enumerate(p))
    closed = sum((qk - pk) ** 2 for qk, pk in zip(q, p)) + 1 - sum(pk**2 for pk in p)
    assert sp.expand((expected - closed).subs(p[2], 1 - p[0] - p[1])) == 0
    assert sp.expand(symbolic.brier_score(q, 1) - symbolic.brier_score(q, [0, 1, 0])) == 0
