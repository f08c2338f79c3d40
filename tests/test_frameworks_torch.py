"""PyTorch (CPU, float64), called live: where its semantics match xentref's the
values and autograd gradients agree within the stated ulps of xentref.exact;
where they differ, the difference itself is asserted.

torchvision's ``sigmoid_focal_loss`` is not among these: no torchvision
wheel imports beside the pinned torch 2.13.0 CPU build, so the focal
convention it shares with Optax is checked against Optax.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import xentref
from xentref import exact, grad
from frameworks import rng, ulps, ulps_of_scale

R = rng()
LOGITS = R.normal(scale=3, size=(8, 5))
LABELS = R.integers(0, 5, 8)
TARGETS = R.dirichlet(np.ones(5), 8)
BINARY = R.uniform(size=(8, 5))
HARD = (BINARY > 0.5).astype(float)
PROBS = R.uniform(0.01, 0.99, size=(8, 5))


def tensor(x, requires_grad=False):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=requires_grad)


def value_and_grad(function, x, *args, **kwargs):
    """A torch loss's value and the gradient of its sum with respect to `x`."""
    x = tensor(x, requires_grad=True)
    out = function(x, *args, **kwargs)
    out.sum().backward()
    return out.detach().numpy(), x.grad.numpy()


# Log-sum-exp, softmax, sigmoid, softplus ---------------------------------------------


def test_logsumexp_log_softmax_and_softmax_agree():
    x = tensor(LOGITS)
    assert ulps(torch.logsumexp(x, dim=-1), exact.logsumexp(LOGITS)) <= 1
    assert ulps(F.log_softmax(x, dim=-1), exact.log_softmax(LOGITS)) <= 4
    assert ulps(F.softmax(x, dim=-1), exact.softmax(LOGITS)) <= 6


def test_logsumexp_drops_a_correction_below_the_rounding_of_the_maximum(finding):
    # log(sum(exp(x - max))) + max rounds 1 + e^-40 to 1; log1p keeps it.
    x = [0.0, -40.0]
    assert torch.logsumexp(tensor(x), dim=-1).item() == 0.0
    assert xentref.logsumexp(x) == exact.logsumexp(x) == 4.248354255291589e-18
    loss = F.cross_entropy(tensor([[40.0, 0.0]]), torch.tensor([0])).item()
    assert loss == 0.0 and exact.softmax_cross_entropy([[40.0, 0.0]], [0]) == 4.248354255291589e-18
    finding("torch.logsumexp([0, -40]) = 0 and F.cross_entropy([[40, 0]], [0]) = 0; exact 4.248e-18")


def test_sigmoid_and_logsigmoid_agree():
    x = np.array([-700.0, -50.0, -21.0, -5.0, 0.1, 5.0, 21.0, 50.0, 700.0])
    assert ulps(torch.sigmoid(tensor(x)), exact.sigmoid(x)) <= 1
    assert ulps(F.logsigmoid(tensor(x)), exact.log_sigmoid(x)) <= 1


def test_softplus_returns_x_above_its_threshold(finding):
    # F.softplus(x) = x for x > threshold = 20, dropping log1p(e^-x).
    x = np.array([-30.0, 0.5, 19.0])
    assert ulps(F.softplus(tensor(x)), exact.softplus(x)) <= 1
    assert F.softplus(tensor([21.0])).item() == 21.0
    error = ulps(F.softplus(tensor([21.0])), exact.softplus([21.0]))
    assert error > 2e5
    assert ulps(xentref.softplus([21.0]), exact.softplus([21.0])) == 0
    finding(f"F.softplus(21.0) = 21.0, {error:.0f} ulps from exact 21 + 7.6e-10")


# Binary cross-entropy -------------------------------------------------------------


def test_binary_cross_entropy_agrees_inside_the_unit_interval():
    for target in (BINARY, HARD):
        loss, g = value_and_grad(F.binary_cross_entropy, PROBS, tensor(target), reduction="sum")
        assert ulps(loss, exact.binary_cross_entropy(PROBS, target, reduction="sum")) <= 2
        assert ulps(g, exact.grad.binary_cross_entropy(PROBS, target, reduction="sum")) <= 2
    # "mean" divides by the number of elements in both.
    mean = F.binary_cross_entropy(tensor(PROBS), tensor(BINARY)).item()
    assert ulps(mean, exact.binary_cross_entropy(PROBS, BINARY)) <= 2


def test_binary_cross_entropy_clamps_each_log_at_minus_100():
    # A certain, wrong prediction costs 100 in PyTorch and inf in xentref;
    # p = 1e-50 costs 100 where -log(1e-50) = 115.13.
    p, y = [0.0, 1e-50, 1.0], [1.0, 1.0, 0.0]
    losses = F.binary_cross_entropy(tensor(p), tensor(y), reduction="none").numpy()
    np.testing.assert_array_equal(losses, [100.0, 100.0, 100.0])
    np.testing.assert_array_equal(xentref.binary_cross_entropy(p, y, reduction="none"), [np.inf, 115.12925464970229, np.inf])


def test_binary_cross_entropy_backward_is_finite_where_the_loss_is_clamped():
    # The backward divides by max(p (1 - p), 1e-12): -1e12 at p = 0, y = 1.
    _, g = value_and_grad(F.binary_cross_entropy, [0.0], tensor([1.0]), reduction="sum")
    assert g[0] == pytest.approx(-1e12, rel=1e-8)
    assert grad.binary_cross_entropy([0.0], [1.0], reduction="sum")[0] == -np.inf


def test_binary_cross_entropy_of_a_sigmoid_loses_the_gradient_of_a_saturated_logit():
    z = tensor([-50.0], requires_grad=True)
    F.binary_cross_entropy(torch.sigmoid(z), tensor([1.0])).backward()
    assert abs(z.grad.item()) < 1e-9
    assert grad.sigmoid_binary_cross_entropy([-50.0], [1.0])[0] == -1.0


def test_binary_cross_entropy_with_logits_agrees_with_pos_weight_and_weight():
    pos_weight, weight = R.uniform(0, 3, 5), R.uniform(0, 2, (8, 5))
    for target in (BINARY, HARD):
        loss, g = value_and_grad(F.binary_cross_entropy_with_logits, LOGITS, tensor(target),
                                 weight=tensor(weight), pos_weight=tensor(pos_weight), reduction="none")
        options = {"pos_weight": pos_weight, "weight": weight}
        # PyTorch forms (1 - y) z - (1 + (w+ - 1) y) log sigma(z), terms that
        # cancel where y < 1 and z < 0: agreement is in ulps of their size.
        terms = weight * ((1 - target) * np.abs(LOGITS) + (1 + (pos_weight - 1) * target) * xentref.softplus(-LOGITS))
        expected = exact.sigmoid_binary_cross_entropy(LOGITS, target, **options, reduction="none")
        assert ulps_of_scale(loss, expected, terms) <= 4
        expected = exact.grad.sigmoid_binary_cross_entropy(LOGITS, target, **options, reduction="sum")
        assert ulps_of_scale(g, expected, np.maximum(np.abs(expected), weight * (1 + pos_weight))) <= 4
    # Huge logits stay finite in both.
    z, y = [1e300, -1e300], [0.0, 1.0]
    np.testing.assert_array_equal(
        F.binary_cross_entropy_with_logits(tensor(z), tensor(y), reduction="none").numpy(),
        xentref.sigmoid_binary_cross_entropy(z, y, reduction="none"))


def test_binary_cross_entropy_with_logits_cancels_for_a_confident_negative(finding):
    # y = 0, z < 0: z - log sigma(z) cancels; softplus(z) keeps every digit.
    z = np.array([-5.0, -20.0, -40.0])
    losses = F.binary_cross_entropy_with_logits(tensor(z), tensor(np.zeros(3)), reduction="none").numpy()
    expected = exact.sigmoid_binary_cross_entropy(z, np.zeros(3), reduction="none")
    errors = exact.ulp_distance(losses, expected)
    assert errors[0] > 100 and errors[1] > 1e8 and losses[2] == 0 and expected[2] == 4.248354255291589e-18
    assert ulps(xentref.sigmoid_binary_cross_entropy(z, np.zeros(3), reduction="none"), expected) == 0
    # The mirrored input (z > 0, y = 1) has no such loss.
    assert ulps(F.binary_cross_entropy_with_logits(tensor(-z), tensor(np.ones(3)), reduction="none"), expected) == 0
    finding(f"F.binary_cross_entropy_with_logits(z, 0) at z = {z.tolist()}: {errors.tolist()} ulps "
            f"(z = -40 gives 0, exact 4.248e-18); the mirrored (-z, 1) is exact")


def test_multilabel_soft_margin_loss_is_the_mean_binary_cross_entropy():
    loss = F.multilabel_soft_margin_loss(tensor(LOGITS), tensor(HARD)).item()
    assert ulps(loss, exact.sigmoid_binary_cross_entropy(LOGITS, HARD)) <= 2


# Softmax cross-entropy and NLL -----------------------------------------------------


def test_cross_entropy_agrees_for_labels_and_probabilities():
    loss, g = value_and_grad(F.cross_entropy, LOGITS, torch.tensor(LABELS), reduction="sum")
    assert ulps(loss, exact.softmax_cross_entropy(LOGITS, LABELS, reduction="sum")) <= 2
    # softmax - onehot, without forming the largest entry from the others: 10 ulps.
    assert ulps(g, exact.grad.softmax_cross_entropy(LOGITS, LABELS, reduction="sum")) <= 10
    loss, g = value_and_grad(F.cross_entropy, LOGITS, tensor(TARGETS), reduction="none")
    assert ulps(loss, exact.softmax_cross_entropy(LOGITS, TARGETS, reduction="none")) <= 4
    expected = exact.grad.softmax_cross_entropy(LOGITS, TARGETS, reduction="sum")
    assert ulps_of_scale(g, expected, xentref.softmax(LOGITS) + TARGETS) <= 4


def test_cross_entropy_and_nll_loss_class_axis_is_1():
    # (N, C, d): PyTorch's class dim is 1, xentref's default axis -1.
    x, y = R.normal(size=(4, 5, 3)), R.integers(0, 5, (4, 3))
    torch_loss = F.cross_entropy(tensor(x), torch.tensor(y), reduction="none").numpy()
    np.testing.assert_allclose(torch_loss, xentref.softmax_cross_entropy(x, y, axis=1, reduction="none"), rtol=1e-14)
    log_p = xentref.log_softmax(x, axis=1)
    torch_nll = F.nll_loss(tensor(log_p), torch.tensor(y), reduction="none").numpy()
    np.testing.assert_array_equal(torch_nll, xentref.nll_loss(log_p, y, axis=1, reduction="none"))


def test_cross_entropy_of_a_zero_target_on_a_minus_inf_logit_is_nan():
    z, t = [[0.0, -np.inf, 1.0]], [[0.5, 0.0, 0.5]]
    assert np.isnan(F.cross_entropy(tensor(z), tensor(t)).item())
    assert np.isfinite(xentref.softmax_cross_entropy(z, t))


def test_nll_loss_agrees_on_log_probabilities_and_accepts_logits():
    log_p = xentref.log_softmax(LOGITS)
    loss, g = value_and_grad(F.nll_loss, log_p, torch.tensor(LABELS), reduction="none")
    np.testing.assert_array_equal(loss, xentref.nll_loss(log_p, LABELS, reduction="none"))
    np.testing.assert_array_equal(g, grad.nll_loss(log_p, LABELS, reduction="sum"))
    # Unnormalised scores give a negative "loss" in PyTorch; xentref refuses them.
    assert F.nll_loss(tensor([[2.0, 1.0]]), torch.tensor([0])).item() == -2.0
    with pytest.raises(ValueError, match="must hold log-probabilities"):
        xentref.nll_loss([[2.0, 1.0]], [0])


# Sequences with padding ------------------------------------------------------------

SEQUENCE_LOGITS = R.normal(scale=3, size=(3, 5, 4))  # (batch, time, classes)
SEQUENCE_LENGTHS = np.array([5, 2, 3])
SEQUENCE_COUNTS = np.arange(5) < SEQUENCE_LENGTHS[:, np.newaxis]
SEQUENCE_LABELS = np.where(SEQUENCE_COUNTS, R.integers(0, 4, (3, 5)), -100)


def torch_sequence_loss(logits, reduction):
    """F.cross_entropy over (batch, classes, time), padding labelled -100 and ignored."""
    x = tensor(np.moveaxis(logits, -1, 1), requires_grad=True)
    loss = F.cross_entropy(x, torch.tensor(SEQUENCE_LABELS), ignore_index=-100, reduction=reduction)
    loss.sum().backward()
    return loss.detach().numpy(), np.moveaxis(x.grad.numpy(), 1, -1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_ignore_index_is_the_token_mean(reduction):
    loss, g = torch_sequence_loss(SEQUENCE_LOGITS, reduction)
    options = {"lengths": SEQUENCE_LENGTHS, "reduction": reduction}
    # log_softmax, then the entry picked: a small loss such as 0.055 loses a few ulps.
    assert ulps(loss, exact.sequence_softmax_cross_entropy(SEQUENCE_LOGITS, SEQUENCE_LABELS, **options)) <= 4
    assert ulps(xentref.sequence_softmax_cross_entropy(SEQUENCE_LOGITS, SEQUENCE_LABELS, **options),
                exact.sequence_softmax_cross_entropy(SEQUENCE_LOGITS, SEQUENCE_LABELS, **options)) <= 2
    sum_options = {**options, "reduction": "sum" if reduction == "none" else reduction}
    expected = exact.grad.sequence_softmax_cross_entropy(SEQUENCE_LOGITS, SEQUENCE_LABELS, **sum_options)
    assert np.all(g[~SEQUENCE_COUNTS] == 0)
    scale = xentref.softmax(SEQUENCE_LOGITS) + 1
    assert ulps_of_scale(g, expected, scale / (SEQUENCE_COUNTS.sum() if reduction == "mean" else 1)) <= 10


def test_cross_entropy_with_every_token_ignored_is_nan_for_the_mean():
    labels = torch.full((3, 5), -100)
    assert np.isnan(F.cross_entropy(tensor(np.moveaxis(SEQUENCE_LOGITS, -1, 1)), labels, ignore_index=-100).item())
    with pytest.raises(ValueError, match="every token is masked"):
        xentref.sequence_softmax_cross_entropy(SEQUENCE_LOGITS, SEQUENCE_LABELS, lengths=[0, 0, 0])


def test_a_nan_logit_at_an_ignored_token_leaves_the_loss_but_not_the_gradient():
    # The loss skips the ignored token; the gradient of its log-softmax is
    # NaN times 0, which is NaN. xentref refuses NaN logits anywhere.
    broken = SEQUENCE_LOGITS.copy()
    broken[1, 4, 0] = np.nan
    loss, g = torch_sequence_loss(broken, "mean")
    assert np.isfinite(loss) and np.isnan(g[1, 4]).all()
    with pytest.raises(ValueError, match=r"`logits` must not contain NaN; found NaN at index \(1, 4, 0\)"):
        xentref.sequence_softmax_cross_entropy(broken, SEQUENCE_LABELS, lengths=SEQUENCE_LENGTHS)


# Entropy and KL divergence ------------------------------------------------------------


def test_categorical_entropy_and_kl_agree():
    p, q = TARGETS, R.dirichlet(np.ones(5), 8)
    assert ulps(torch.distributions.Categorical(probs=tensor(p)).entropy(), exact.entropy(p)) <= 4
    kl = torch.distributions.kl_divergence(torch.distributions.Categorical(probs=tensor(p)),
                                           torch.distributions.Categorical(probs=tensor(q)))
    assert ulps_of_scale(kl, exact.kl_divergence(p, q), np.sum(np.abs(p * np.log(p / q)), axis=-1)) <= 4


def test_kl_div_of_probability_targets_is_kl_divergence():
    p, q = TARGETS, R.dirichlet(np.ones(5), 8)
    loss = F.kl_div(tensor(np.log(q)), tensor(p), reduction="none").sum(-1)
    assert ulps_of_scale(loss, exact.kl_divergence(p, q), np.sum(np.abs(p * np.log(p / q)), axis=-1)) <= 4


def test_kl_div_with_log_targets_agrees_with_kl_divergence_of_log_probs():
    log_p, log_q = xentref.log_softmax(LOGITS), xentref.log_softmax(LOGITS + R.normal(scale=1e-6, size=LOGITS.shape))
    loss, g = value_and_grad(lambda x: F.kl_div(x, tensor(log_p), log_target=True, reduction="none").sum(-1), log_q)
    scale = np.sum(np.abs(np.exp(log_p) * (log_p - log_q)), axis=-1)
    assert ulps_of_scale(loss, exact.kl_divergence_of_log_probs(log_p, log_q), scale) <= 8
    assert ulps(g, exact.grad.kl_divergence_of_log_probs(log_p, log_q)) <= 1


def test_kl_div_mean_divides_by_elements_and_batchmean_by_examples():
    log_p, log_q = xentref.log_softmax(LOGITS), xentref.log_softmax(LOGITS[::-1])
    total = F.kl_div(tensor(log_q), tensor(log_p), log_target=True, reduction="sum").item()
    with pytest.warns(UserWarning, match="batchmean"):
        mean = F.kl_div(tensor(log_q), tensor(log_p), log_target=True, reduction="mean").item()
    batchmean = F.kl_div(tensor(log_q), tensor(log_p), log_target=True, reduction="batchmean").item()
    assert mean == total / LOGITS.size and batchmean == total / 8
    ours = np.mean(xentref.kl_divergence_of_log_probs(log_p, log_q))
    assert batchmean == pytest.approx(ours, rel=1e-14)


def test_kl_div_of_a_zero_probability_against_a_zero_probability_is_nan():
    # exp(-inf) (-inf - -inf) = 0 * NaN; xentref uses 0 log 0 = 0.
    log_p = [0.0, -np.inf]
    assert np.isnan(F.kl_div(tensor(log_p), tensor(log_p), log_target=True, reduction="sum").item())
    assert xentref.kl_divergence_of_log_probs(log_p, log_p) == 0


# Distillation ------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [1.0, 4.0, 3.0])
def test_distillation_by_kl_div_batchmean_agrees(temperature):
    teacher = R.normal(scale=3, size=LOGITS.shape)
    student = tensor(LOGITS, requires_grad=True)
    log_q = F.log_softmax(student / temperature, dim=-1)
    log_p = F.log_softmax(tensor(teacher) / temperature, dim=-1)
    loss = temperature**2 * F.kl_div(log_q, log_p, log_target=True, reduction="batchmean")
    loss.backward()
    options = {"temperature": temperature}
    expected = exact.distillation_loss(LOGITS, teacher, **options)
    terms = np.sum(np.abs(np.exp(log_p.detach().numpy()) * (log_p - log_q).detach().numpy()))
    assert ulps_of_scale(loss.item(), expected, temperature**2 * terms / 8) <= 16
    expected = exact.grad.distillation_loss(LOGITS, teacher, **options)
    scale = temperature * (xentref.softmax(LOGITS / temperature) + xentref.softmax(teacher / temperature)) / 8
    assert ulps_of_scale(student.grad.numpy(), expected, scale) <= 8
