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


# Connectionist temporal classification ------------------------------------------------
#
# F.ctc_loss takes log_probs as (T, N, C); xentref takes them batch first,
# (N, T, C), so each call moves the axis. Targets are padded (N, S).

CTC = np.random.default_rng(20261128)
CTC_LOG_PROBS = xentref.log_softmax(CTC.normal(scale=2, size=(4, 7, 5)))
CTC_TARGETS = np.array([[1, 2, 2], [3, 4, 0], [4, 4, 4], [2, 0, 0]])
CTC_INPUT_LENGTHS = np.array([7, 5, 7, 3])
CTC_TARGET_LENGTHS = np.array([3, 2, 3, 0])
CTC_ARGS = (CTC_LOG_PROBS, CTC_TARGETS, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
CTC_FRAMES = np.arange(7)[:, None] < CTC_INPUT_LENGTHS[:, None, None]


def torch_ctc(log_probs, targets, input_lengths, target_lengths, **options):
    """F.ctc_loss on batch-first input, and the gradient of its sum with respect to `log_probs`, batch first."""
    x = tensor(np.moveaxis(log_probs, 0, 1), requires_grad=True)
    loss = F.ctc_loss(x, torch.tensor(targets), torch.tensor(input_lengths), torch.tensor(target_lengths), **options)
    loss.sum().backward()
    return loss.detach().numpy(), np.moveaxis(x.grad.numpy(), 1, 0)


@pytest.mark.parametrize("blank, targets", [(0, CTC_TARGETS), (4, np.array([[1, 2, 2], [3, 0, 0], [0, 0, 0], [2, 0, 0]]))])
def test_ctc_loss_agrees_and_its_backward_is_the_gradient_through_log_softmax(blank, targets):
    args = (CTC_LOG_PROBS, targets, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    loss, g = torch_ctc(*args, blank=blank, reduction="none")
    assert ulps(loss, exact.ctc_loss(*args, blank=blank, reduction="none")) <= 2
    assert ulps(xentref.ctc_loss(*args, blank=blank, reduction="none"), exact.ctc_loss(*args, blank=blank, reduction="none")) <= 2
    # PyTorch's backward returns y - gamma for log_probs, not the partial
    # derivatives -gamma: each frame of it sums to 0, not to -1.
    gamma = -exact.grad.ctc_loss(*args, blank=blank, reduction="sum")
    y = np.exp(CTC_LOG_PROBS) * CTC_FRAMES
    assert ulps_of_scale(g, y - gamma, y + gamma) <= 32
    np.testing.assert_allclose(g.sum(axis=-1), 0, atol=1e-14)
    np.testing.assert_allclose(grad.ctc_loss(*args, blank=blank, reduction="sum").sum(axis=-1), -1.0 * CTC_FRAMES[..., 0],
                               atol=1e-14)
    # Through log_softmax of logits both give softmax - gamma.
    logits = tensor(CTC_LOG_PROBS + CTC.normal(size=(4, 7, 1)), requires_grad=True)
    F.ctc_loss(F.log_softmax(logits, dim=-1).transpose(0, 1), torch.tensor(targets), torch.tensor(CTC_INPUT_LENGTHS),
               torch.tensor(CTC_TARGET_LENGTHS), blank=blank, reduction="sum").backward()
    ours = grad.ctc_loss(*args, blank=blank, reduction="sum")
    through = ours - xentref.softmax(CTC_LOG_PROBS) * ours.sum(axis=-1, keepdims=True)
    assert ulps_of_scale(logits.grad.numpy(), y - gamma, y + gamma) <= 32
    assert ulps_of_scale(through, y - gamma, y + gamma) <= 8


def test_ctc_loss_sum_agrees_and_torch_mean_divides_by_the_target_lengths():
    total, _ = torch_ctc(*CTC_ARGS, reduction="sum")
    assert ulps(total, exact.ctc_loss(*CTC_ARGS, reduction="sum")) <= 2
    mean, g = torch_ctc(*CTC_ARGS, reduction="mean")
    losses = exact.ctc_loss(*CTC_ARGS, reduction="none")
    # An empty target (the last) divides by 1.
    per_label = losses / np.maximum(CTC_TARGET_LENGTHS, 1)
    assert ulps(mean, np.mean(per_label)) <= 2
    assert abs(mean - xentref.ctc_loss(*CTC_ARGS)) > 0.1  # xentref's mean is the plain mean
    gamma = -exact.grad.ctc_loss(*CTC_ARGS, reduction="sum")
    scale = (np.maximum(CTC_TARGET_LENGTHS, 1) * 4)[:, None, None]
    y = np.exp(CTC_LOG_PROBS) * CTC_FRAMES
    assert ulps_of_scale(g, (y - gamma) / scale, (y + gamma) / scale) <= 32


def test_ctc_loss_docstring_example_is_torch_mean():
    log_probs = xentref.log_softmax(np.random.default_rng(0).normal(size=(2, 6, 4)))
    mean, _ = torch_ctc(log_probs, [[1, 2, 2], [3, 0, 0]], [6, 4], [3, 1])
    assert round(float(mean), 4) == 2.6772


def test_ctc_loss_without_an_alignment_is_inf_with_nan_gradients_unless_zero_infinity():
    # (4, 4, 4) needs 5 frames; it gets 4. (2, 2) gets 2 and needs 3.
    args = (CTC_LOG_PROBS, CTC_TARGETS, np.array([7, 5, 4, 3]), np.array([3, 2, 3, 0]))
    args_short = (CTC_LOG_PROBS, np.array([[2, 2]] * 4), np.array([2, 7, 3, 7]), np.array([2, 2, 2, 2]))
    for arguments in (args, args_short):
        loss, g = torch_ctc(*arguments, reduction="none")
        ours = xentref.ctc_loss(*arguments, reduction="none")
        np.testing.assert_array_equal(np.isinf(loss), np.isinf(ours))
        assert np.isinf(ours).sum() == 1
        gradient = grad.ctc_loss(*arguments, reduction="sum")
        # NaN on the frames of the sequence without an alignment, in both.
        np.testing.assert_array_equal(np.isnan(g), np.isnan(gradient))
        assert np.isnan(gradient).any()
        zeroed, g = torch_ctc(*arguments, reduction="none", zero_infinity=True)
        np.testing.assert_array_equal(zeroed == 0, np.isinf(ours))
        assert ulps(zeroed, xentref.ctc_loss(*arguments, reduction="none", zero_infinity=True)) <= 2
        assert not np.isnan(g).any()
        gradient = grad.ctc_loss(*arguments, reduction="sum", zero_infinity=True)
        np.testing.assert_array_equal(g[np.isinf(ours)], gradient[np.isinf(ours)])
        mean, _ = torch_ctc(*arguments, zero_infinity=True)
        assert ulps(mean, np.mean(exact.ctc_loss(*arguments, reduction="none", zero_infinity=True)
                                  / np.maximum(arguments[3], 1))) <= 2


def test_ctc_loss_of_an_empty_target_on_no_frames_is_minus_zero_in_torch():
    loss, _ = torch_ctc(CTC_LOG_PROBS[:1], [[1]], [0], [0], reduction="none")
    assert loss[0] == 0 and np.signbit(loss[0])
    ours = xentref.ctc_loss(CTC_LOG_PROBS[:1], [[1]], [0], [0], reduction="none")
    assert ours[0] == 0 and not np.signbit(ours[0])


def test_ctc_loss_accepts_a_blank_in_the_target_and_scores_that_xentref_refuses():
    # A target holding the blank, and logits passed as log_probs: PyTorch
    # returns numbers for both.
    loss, _ = torch_ctc(CTC_LOG_PROBS, [[0, 1, 2]] * 4, CTC_INPUT_LENGTHS, [3, 3, 3, 3], reduction="none")
    assert np.all(np.isfinite(loss))
    with pytest.raises(ValueError, match="must not contain the blank label 0"):
        xentref.ctc_loss(CTC_LOG_PROBS, [[0, 1, 2]] * 4, CTC_INPUT_LENGTHS, [3, 3, 3, 3])
    scores = CTC_LOG_PROBS + 3.0
    loss, _ = torch_ctc(scores, *CTC_ARGS[1:], reduction="none")
    assert np.all(loss < 0)  # a "probability" above 1
    with pytest.raises(ValueError, match="must hold log-probabilities"):
        xentref.ctc_loss(scores, *CTC_ARGS[1:])


@pytest.mark.parametrize("gap", [30.0, 40.0])
def test_ctc_loss_loses_the_digits_of_a_tiny_loss(gap, finding):
    # Confident frames along (blank, 1, 1, blank, 2, blank): the loss is
    # about 10 e^-gap less the other alignments' share; PyTorch sums its
    # log-space terms without log1p and drops that share where it is below
    # the rounding of 1.
    path = [0, 1, 1, 0, 2, 0]
    logits = np.zeros((1, 6, 3))
    logits[0, np.arange(6), path] = gap
    rows = xentref.log_softmax(logits)
    loss, _ = torch_ctc(rows, [[1, 2]], [6], [2], reduction="none")
    expected = exact.ctc_loss(rows, [[1, 2]], [6], [2], reduction="none")
    error = abs(loss[0] - expected[0]) / expected[0]
    assert error > 1e-4
    assert abs(xentref.ctc_loss(rows, [[1, 2]], [6], [2]) - expected[0]) <= 1e-13 * expected[0]
    finding(f"F.ctc_loss of a confident prediction (logit gap {gap:g}): relative error {error:.2g}, "
            f"loss {loss[0]:.6g} against exact {expected[0]:.6g}")


# The options: weight, ignore_index, label_smoothing, reductions ---------------------

# A generator of its own, so that these draws leave the later sections' data as it was.
WEIGHT = rng().uniform(0.1, 3, 5)
PADDED = np.where(np.arange(8) % 3 == 2, -100, LABELS)  # examples 2 and 5 are padding


def coefficients(targets, weight, epsilon):
    """w_k q_k (float64), 0 at ignored labels: with the softmax, the size of each gradient entry's terms."""
    k = len(weight)
    t = np.eye(k)[np.where(targets >= 0, targets, 0)] * (targets >= 0)[:, None] if targets.ndim == 1 else targets
    q = (1 - epsilon) * t + epsilon / k * (t.sum(axis=-1, keepdims=True) > 0)
    return weight * q


def grad_scale(logits, targets, weight, epsilon, divisor=1.0):
    c = coefficients(targets, weight, epsilon)
    return (xentref.softmax(logits) * c.sum(axis=-1, keepdims=True) + c) / divisor


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_cross_entropy_agrees_with_weight_ignore_index_and_label_smoothing(reduction, epsilon):
    # PyTorch's weight is xentref's class_weight; its mean divides by the
    # total weight of the labels not ignored; its smoothing weights each
    # class's term by that class's weight.
    loss, g = value_and_grad(F.cross_entropy, LOGITS, torch.tensor(PADDED), weight=tensor(WEIGHT),
                             ignore_index=-100, label_smoothing=epsilon, reduction=reduction)
    options = {"class_weight": WEIGHT, "ignore_index": -100, "label_smoothing": epsilon, "reduction": reduction}
    assert ulps(loss, exact.softmax_cross_entropy(LOGITS, PADDED, **options)) <= 2
    assert ulps(xentref.softmax_cross_entropy(LOGITS, PADDED, **options), loss) <= 3
    expected = exact.grad.softmax_cross_entropy(LOGITS, PADDED, **options)
    divisor = WEIGHT[PADDED[PADDED >= 0]].sum() if reduction == "mean" else 1.0
    # softmax - q without forming the largest entry from the others: up to 10 ulps of the terms.
    assert ulps_of_scale(g, expected, grad_scale(LOGITS, PADDED, WEIGHT, epsilon, divisor)) <= 10
    assert np.all(g[PADDED < 0] == 0) and np.all(expected[PADDED < 0] == 0)


@pytest.mark.parametrize("epsilon", [0.0, 0.2])
def test_cross_entropy_of_weighted_probability_targets_agrees_until_the_mean(epsilon):
    options = {"class_weight": WEIGHT, "label_smoothing": epsilon}
    for reduction in ("none", "sum"):
        loss, g = value_and_grad(F.cross_entropy, LOGITS, tensor(TARGETS), weight=tensor(WEIGHT),
                                 label_smoothing=epsilon, reduction=reduction)
        assert ulps(loss, exact.softmax_cross_entropy(LOGITS, TARGETS, **options, reduction=reduction)) <= 2
        expected = exact.grad.softmax_cross_entropy(LOGITS, TARGETS, **options, reduction="sum")
        assert ulps_of_scale(g, expected, grad_scale(LOGITS, TARGETS, WEIGHT, epsilon)) <= 10


def test_cross_entropy_mean_of_weighted_probability_targets_divides_by_the_count_in_pytorch():
    # PyTorch: sum / N. xentref: sum / sum_n sum_c w_c t_nc, as for labels,
    # which are one-hot targets. Documented difference.
    total = F.cross_entropy(tensor(LOGITS), tensor(TARGETS), weight=tensor(WEIGHT), reduction="sum").item()
    mean = F.cross_entropy(tensor(LOGITS), tensor(TARGETS), weight=tensor(WEIGHT)).item()
    assert mean == pytest.approx(total / 8, rel=1e-15)
    ours = xentref.softmax_cross_entropy(LOGITS, TARGETS, class_weight=WEIGHT)
    assert ours == pytest.approx(total / np.sum(TARGETS @ WEIGHT), rel=1e-14)
    assert abs(ours - mean) > 0.1 * mean
    # One-hot targets: PyTorch's two paths disagree with each other; xentref's agree.
    one_hot = np.eye(5)[LABELS]
    by_targets = F.cross_entropy(tensor(LOGITS), tensor(one_hot), weight=tensor(WEIGHT)).item()
    by_labels = F.cross_entropy(tensor(LOGITS), torch.tensor(LABELS), weight=tensor(WEIGHT)).item()
    assert abs(by_targets - by_labels) > 0.01 * by_labels
    assert xentref.softmax_cross_entropy(LOGITS, one_hot, class_weight=WEIGHT) == \
        xentref.softmax_cross_entropy(LOGITS, LABELS, class_weight=WEIGHT)
    assert ulps(by_labels, xentref.softmax_cross_entropy(LOGITS, LABELS, class_weight=WEIGHT)) <= 2


def test_label_smoothing_with_weights_is_not_the_label_weight_times_the_cross_entropy():
    # pytorch/pytorch#104776: the smoothing term of class c is weighted by w_c.
    epsilon = 0.2
    torch_losses = F.cross_entropy(tensor(LOGITS), torch.tensor(LABELS), weight=tensor(WEIGHT),
                                   label_smoothing=epsilon, reduction="none").numpy()
    smoothed = (1 - epsilon) * np.eye(5)[LABELS] + epsilon / 5
    label_weighted = WEIGHT[LABELS] * exact.softmax_cross_entropy(LOGITS, smoothed, reduction="none")
    assert np.min(np.abs(torch_losses - label_weighted) / torch_losses) > 1e-3
    ours = exact.softmax_cross_entropy(LOGITS, LABELS, class_weight=WEIGHT, label_smoothing=epsilon, reduction="none")
    assert ulps(torch_losses, ours) <= 2


@pytest.mark.parametrize("function", ["cross_entropy", "nll_loss"])
def test_the_mean_of_no_selected_example_is_nan_in_pytorch_and_an_error_here(function):
    prediction = LOGITS if function == "cross_entropy" else xentref.log_softmax(LOGITS)
    ignored = np.full(8, -100)
    x = tensor(prediction, requires_grad=True)
    mean = getattr(F, function)(x, torch.tensor(ignored))
    mean.backward()
    assert np.isnan(mean.item()) and np.all(x.grad.numpy() == 0)
    assert getattr(F, function)(tensor(prediction), torch.tensor(ignored), reduction="sum").item() == 0
    ours = getattr(xentref, "softmax_cross_entropy" if function == "cross_entropy" else function)
    with pytest.raises(ValueError, match="undefined for an empty selection"):
        ours(prediction, ignored, ignore_index=-100)
    assert ours(prediction, ignored, ignore_index=-100, reduction="sum") == 0
    # An empty batch too: NaN there, an error here.
    assert np.isnan(getattr(F, function)(tensor(prediction[:0]), torch.tensor(LABELS[:0])).item())
    with pytest.raises(ValueError, match="undefined for an empty batch"):
        ours(prediction[:0], LABELS[:0])


def test_an_ignore_index_inside_the_classes_agrees():
    losses = F.cross_entropy(tensor(LOGITS), torch.tensor(LABELS), ignore_index=2, reduction="none").numpy()
    ours = xentref.softmax_cross_entropy(LOGITS, LABELS, ignore_index=2, reduction="none")
    assert np.all(losses[LABELS == 2] == 0) and np.all(ours[LABELS == 2] == 0)
    assert ulps(losses, ours) <= 2


def test_smoothing_a_minus_inf_logit_costs_inf_and_a_zero_weight_makes_pytorch_nan(finding):
    # Uniform smoothing puts eps/K on every class: a -inf logit costs +inf in both.
    z, y = np.array([[0.0, -np.inf, 1.0, 2.0]]), np.array([2])
    assert F.cross_entropy(tensor(z), torch.tensor(y), label_smoothing=0.1).item() == np.inf
    assert xentref.softmax_cross_entropy(z, y, label_smoothing=0.1) == np.inf
    # A zero weight on that class removes its term here; PyTorch forms 0 * inf.
    weight = np.array([1.0, 0.0, 1.0, 1.0])
    loss, g = value_and_grad(F.cross_entropy, z, torch.tensor(y), weight=tensor(weight), label_smoothing=0.1)
    assert np.isnan(loss)
    ours = xentref.softmax_cross_entropy(z, y, class_weight=weight, label_smoothing=0.1)
    assert ulps(ours, exact.softmax_cross_entropy(z, y, class_weight=weight, label_smoothing=0.1)) <= 1
    # Its gradient is finite in both, and agrees.
    expected = exact.grad.softmax_cross_entropy(z, y, class_weight=weight, label_smoothing=0.1)
    assert ulps_of_scale(g, expected, grad_scale(z, y, weight, 0.1)) <= 10
    finding(f"F.cross_entropy({z.tolist()}, [2], weight={weight.tolist()}, label_smoothing=0.1) = NaN "
            f"(0 * inf); exact {float(ours)!r}, the gradient finite")


def test_nll_loss_agrees_with_weight_and_ignore_index():
    log_p = xentref.log_softmax(LOGITS)
    options = {"class_weight": WEIGHT, "ignore_index": -100}
    for reduction in ("none", "sum", "mean"):
        loss, g = value_and_grad(F.nll_loss, log_p, torch.tensor(PADDED), weight=tensor(WEIGHT), reduction=reduction)
        # -w_y log p_y, rounded once in both.
        if reduction == "none":
            np.testing.assert_array_equal(loss, xentref.nll_loss(log_p, PADDED, **options, reduction="none"))
        assert ulps(loss, exact.nll_loss(log_p, PADDED, **options, reduction=reduction)) <= 2
        assert ulps(g, exact.grad.nll_loss(log_p, PADDED, **options, reduction=reduction)) <= 1


def test_nll_loss_of_a_zero_weight_at_minus_inf_is_nan_in_pytorch(finding):
    log_p, labels, weight = np.array([[0.0, -np.inf]]), np.array([1]), np.array([1.0, 0.0])
    assert np.isnan(F.nll_loss(tensor(log_p), torch.tensor(labels), weight=tensor(weight), reduction="none").numpy()[0])
    assert xentref.nll_loss(log_p, labels, class_weight=weight, reduction="none")[0] == 0
    finding("F.nll_loss([[0, -inf]], [1], weight=[1, 0], reduction='none') = NaN (0 * inf); xentref 0")
