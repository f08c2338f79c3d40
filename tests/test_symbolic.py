"""The SymPy definitions satisfy the identities the chapters rely on."""

import sympy as sp

from xentref import symbolic


def test_cross_entropy_is_entropy_plus_kl():
    p = symbolic.probabilities("p", 4)
    q = symbolic.probabilities("q", 4)
    gap = symbolic.cross_entropy(p, q) - symbolic.entropy(p) - symbolic.kl_divergence(p, q)
    assert sp.simplify(sp.expand_log(gap)) == 0


def test_uniform_entropy_is_log_k():
    k = 5
    uniform = [sp.Rational(1, k)] * k
    assert sp.simplify(symbolic.entropy(uniform) - sp.log(k)) == 0
    assert sp.simplify(symbolic.entropy(uniform, base=2) - sp.log(k, 2)) == 0


def test_fair_coin_is_one_bit():
    p = symbolic.probabilities("p", 2)
    bits = symbolic.entropy(p, base=2).subs({p[0]: sp.Rational(1, 2), p[1]: sp.Rational(1, 2)})
    assert sp.simplify(bits) == 1


def test_binary_entropy_is_symmetric():
    p = sp.symbols("p", positive=True)
    assert sp.simplify(symbolic.binary_entropy(p) - symbolic.binary_entropy(1 - p)) == 0


def test_softmax_sums_to_one_and_log_softmax_is_its_log():
    z = sp.symbols("z1:4", real=True)
    assert sp.simplify(sp.Add(*symbolic.softmax(z))) == 1
    for log_p, p in zip(symbolic.log_softmax(z), symbolic.softmax(z)):
        assert sp.simplify(sp.exp(log_p) - p) == 0


def test_logsumexp_shifts_with_its_arguments():
    # The identity behind computing it from the largest logit.
    z = sp.symbols("z1:4", real=True)
    c = sp.symbols("c", real=True)
    gap = symbolic.logsumexp([v + c for v in z]) - symbolic.logsumexp(z) - c
    assert sp.simplify(gap) == 0


def test_softmax_cross_entropy_forms_agree():
    z = sp.symbols("z1:4", real=True)
    one_hot = [0, 1, 0]
    by_label = symbolic.softmax_cross_entropy(z, 1)
    by_vector = symbolic.softmax_cross_entropy(z, one_hot)
    assert sp.simplify(by_label - by_vector) == 0
    as_cross_entropy = symbolic.cross_entropy(one_hot, symbolic.softmax(z))
    assert sp.simplify(sp.expand_log(by_label - as_cross_entropy, force=True)) == 0


def test_surprisal_adds_over_independent_events():
    a, b = sp.symbols("a b", positive=True)
    total = symbolic.surprisal(a * b) - symbolic.surprisal(a) - symbolic.surprisal(b)
    assert sp.expand_log(total) == 0


def test_sigmoid_identities():
    z = sp.symbols("z", real=True)
    assert sp.simplify(1 - symbolic.sigmoid(z) - symbolic.sigmoid(-z)) == 0
    assert sp.simplify(sp.diff(symbolic.softplus(z), z) - symbolic.sigmoid(z)) == 0
    assert sp.simplify(symbolic.log_sigmoid(z) + symbolic.softplus(-z)) == 0


def test_binary_losses_agree():
    p, y, w = sp.symbols("p y w", positive=True)
    z = sp.symbols("z", real=True)
    two_class = symbolic.cross_entropy([y, 1 - y], [p, 1 - p])
    assert sp.simplify(symbolic.binary_cross_entropy(p, y) - two_class) == 0
    on_sigmoid = symbolic.binary_cross_entropy(symbolic.sigmoid(z), y)
    assert sp.simplify(symbolic.sigmoid_binary_cross_entropy(z, y) - on_sigmoid) == 0
    # pos_weight multiplies the positive term only.
    gap = symbolic.sigmoid_binary_cross_entropy(z, y, w) - symbolic.sigmoid_binary_cross_entropy(z, y)
    assert sp.simplify(gap - (w - 1) * y * symbolic.softplus(-z)) == 0


def test_nll_loss_of_log_softmax_is_softmax_cross_entropy():
    z = sp.symbols("z1:4", real=True)
    for k in range(3):
        gap = symbolic.nll_loss(symbolic.log_softmax(z), k) - symbolic.softmax_cross_entropy(z, k)
        assert sp.simplify(gap) == 0


def test_focal_and_poly1_reduce_to_cross_entropy():
    z = sp.symbols("z1:4", real=True)
    x, y = sp.symbols("x", real=True), sp.symbols("y", positive=True)
    for target in (1, [sp.Rational(1, 2), sp.Rational(1, 3), sp.Rational(1, 6)]):
        cross_entropy = symbolic.softmax_cross_entropy(z, target)
        assert sp.simplify(symbolic.softmax_focal_loss(z, target, gamma=0) - cross_entropy) == 0
        assert sp.simplify(symbolic.softmax_poly1_loss(z, target, epsilon=0) - cross_entropy) == 0
    binary = symbolic.sigmoid_binary_cross_entropy(x, y)
    assert sp.simplify(symbolic.sigmoid_focal_loss(x, y, gamma=0) - binary) == 0
    assert sp.simplify(symbolic.sigmoid_poly1_loss(x, y, epsilon=0) - binary) == 0


def test_two_class_softmax_focal_and_poly1_are_the_sigmoid_ones_of_the_gap():
    a, b = sp.symbols("a b", real=True)
    gamma, alpha, epsilon = sp.Integer(2), sp.Rational(1, 4), sp.Integer(2)
    focal = (symbolic.softmax_focal_loss([a, b], 1, gamma=gamma, alpha=[1 - alpha, alpha])
             - symbolic.sigmoid_focal_loss(b - a, 1, gamma=gamma, alpha=alpha))
    poly1 = symbolic.softmax_poly1_loss([a, b], 1, epsilon) - symbolic.sigmoid_poly1_loss(b - a, 1, epsilon)
    for gap in (focal, poly1):
        # Zero at the origin with zero partial derivatives: zero everywhere.
        assert sp.simplify(gap.subs({a: 0, b: 0})) == 0
        assert sp.simplify(sp.diff(gap, a)) == 0 and sp.simplify(sp.diff(gap, b)) == 0


def test_kl_of_log_probs_is_kl_of_probs():
    p = symbolic.probabilities("p", 3)
    q = symbolic.probabilities("q", 3)
    by_logs = symbolic.kl_divergence_of_log_probs([sp.log(v) for v in p], [sp.log(v) for v in q])
    assert sp.simplify(sp.expand_log(by_logs - symbolic.kl_divergence(p, q), force=True)) == 0


def test_smoothed_target_keeps_the_share_each_convention_promises():
    # eps = 1/10 over 4 classes: "uniform" gives the label 1 - eps + eps/4 and
    # every class eps/4; "others" gives the label 1 - eps and the rest eps/3.
    eps = sp.Rational(1, 10)
    assert symbolic.smoothed_target(2, 4, eps) == [sp.Rational(1, 40)] * 2 + [sp.Rational(37, 40), sp.Rational(1, 40)]
    assert symbolic.smoothed_target(2, 4, eps, "others") == [sp.Rational(1, 30)] * 2 + [sp.Rational(9, 10), sp.Rational(1, 30)]
    soft = [sp.Rational(1, 2), sp.Rational(1, 2), 0, 0]
    assert symbolic.smoothed_target(soft, 4, eps) == [sp.Rational(19, 40)] * 2 + [sp.Rational(1, 40)] * 2
    assert sum(symbolic.smoothed_target(soft, 4, eps, "others")) == 1
    assert symbolic.smoothed_target(0, 3) == [1, 0, 0]


def test_ctc_collapse_merges_repeats_then_drops_blanks():
    assert symbolic.ctc_collapse([1, 1, 0, 1, 2, 2, 0]) == [1, 1, 2]
    assert symbolic.ctc_collapse([0, 0]) == [] and symbolic.ctc_collapse([2, 0], blank=2) == [0]


def test_ctc_loss_of_one_label_in_two_uniform_frames_is_log_four_thirds():
    # Three of the four paths, (1, 1), (1, b) and (b, 1), collapse to (1,).
    half = [[sp.log(sp.Rational(1, 2))] * 2] * 2
    assert sp.simplify(symbolic.ctc_loss(half, [1]) - sp.log(sp.Rational(4, 3))) == 0
    # (1, 1) needs a blank between its labels: no path of two frames.
    assert symbolic.ctc_loss(half, [1, 1]) == sp.oo


def test_ctc_loss_sums_exactly_the_paths_that_collapse_to_the_target():
    # In symbols: for two frames the loss is -log of the three products.
    y = sp.symbols("y0:2_0:2", positive=True)
    rows = [[sp.log(y[0]), sp.log(y[1])], [sp.log(y[2]), sp.log(y[3])]]
    expected = -sp.log(y[1] * y[3] + y[1] * y[2] + y[0] * y[3])
    assert sp.simplify(symbolic.ctc_loss(rows, [1]) - expected) == 0


def test_two_hot_weights_average_the_support_to_the_value():
    # On each interval the hats are linear interpolation: mean y, total 1.
    y = sp.symbols("y", real=True)
    support = [sp.Integer(-2), sp.Rational(1, 2), sp.Integer(3), sp.Integer(7)]
    weights = symbolic.two_hot_targets(y, support)
    for low, high in zip(support[:-1], support[1:]):
        inside = {y: low + (high - low) * sp.Rational(1, 3)}
        on_interval = [sp.piecewise_fold(w).subs(inside) for w in weights]
        assert sp.simplify(sp.Add(*on_interval) - 1) == 0
        assert sp.simplify(symbolic.expected_value(on_interval, support) - inside[y]) == 0
    t = sp.symbols("t", positive=True)  # a point of the second interval, as a symbol
    y_t = support[1] + (support[2] - support[1]) * t / (1 + t)
    at = [w.subs(y, y_t) for w in weights]
    assert sp.simplify(symbolic.expected_value(at, support) - y_t) == 0


def test_hl_gauss_masses_telescope_to_the_captured_mass():
    y = sp.symbols("y", real=True)
    sigma = sp.symbols("sigma", positive=True)
    edges = [sp.Integer(k) for k in range(5)]
    masses = symbolic.hl_gauss_targets(y, edges, sigma, normalize=False)
    captured = symbolic.normal_cdf((edges[-1] - y) / sigma) - symbolic.normal_cdf((edges[0] - y) / sigma)
    assert sp.simplify(sp.Add(*masses) - captured) == 0
    assert sp.simplify(sp.Add(*symbolic.hl_gauss_targets(y, edges, sigma)) - 1) == 0


def test_normal_cdf_is_the_integral_of_the_normal_density():
    z = sp.symbols("z", real=True)
    density = sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi)
    assert sp.simplify(sp.diff(symbolic.normal_cdf(z), z) - density) == 0
    assert sp.limit(symbolic.normal_cdf(z), z, -sp.oo) == 0


def test_symexp_inverts_symlog_and_both_have_slope_1_at_0():
    x = sp.symbols("x", positive=True)
    assert sp.simplify(symbolic.symexp(symbolic.symlog(x)) - x) == 0
    assert sp.simplify(symbolic.symexp(symbolic.symlog(-x)) + x) == 0
    assert sp.limit(symbolic.symlog(x) / x, x, 0) == 1 and sp.limit(symbolic.symexp(x) / x, x, 0) == 1


def test_hl_gauss_masses_tend_to_the_one_hot_bin_as_sigma_goes_to_0():
    sigma = sp.symbols("sigma", positive=True)
    edges = [sp.Integer(0), sp.Integer(1), sp.Integer(2), sp.Integer(3)]
    for y in (sp.Rational(1, 2), sp.Rational(7, 4), sp.Integer(1)):
        limits = [sp.limit(m, sigma, 0, "+") for m in symbolic.hl_gauss_targets(y, edges, sigma, normalize=False)]
        bins = symbolic.binned_targets(y, edges)
        if y == 1:  # on an edge, half of the mass on each side
            assert limits == [sp.Rational(1, 2), sp.Rational(1, 2), 0] and bins == [0, 1, 0]
        else:
            assert limits == bins and sp.Add(*bins) == 1


def test_sequence_reductions_agree_when_every_sequence_has_as_many_tokens():
    z = [[list(sp.symbols(f"z{b}{t}_0:3", real=True)) for t in range(2)] for b in range(2)]
    labels = [[0, 2], [1, 1]]
    token_mean = symbolic.sequence_softmax_cross_entropy(z, labels)
    sequence_mean = symbolic.sequence_softmax_cross_entropy(z, labels, reduction="sequence_mean")
    assert sp.simplify(token_mean - sequence_mean) == 0
    # With lengths 2 and 1 they differ: the token mean weighs the sequences 2 : 1.
    losses = symbolic.sequence_softmax_cross_entropy(z, labels, lengths=[2, 1], reduction="none")
    assert losses[1][1] == 0
    padded = symbolic.sequence_softmax_cross_entropy(z, labels, lengths=[2, 1])
    assert sp.simplify(padded - (losses[0][0] + losses[0][1] + losses[1][0]) / 3) == 0
    by_sequence = symbolic.sequence_softmax_cross_entropy(z, labels, lengths=[2, 1], reduction="sequence_mean")
    assert sp.simplify(by_sequence - ((losses[0][0] + losses[0][1]) / 2 + losses[1][0]) / 2) == 0


def test_micro_batch_token_mean_weighs_each_mean_by_its_share_of_the_tokens():
    s1, s2 = sp.symbols("S1 S2", nonnegative=True)
    n1, n2 = sp.symbols("N1 N2", positive=True)
    weighted = n1 / (n1 + n2) * (s1 / n1) + n2 / (n1 + n2) * (s2 / n2)
    assert sp.simplify(symbolic.micro_batch_token_mean([s1, s2], [n1, n2]) - weighted) == 0
    naive = (s1 / n1 + s2 / n2) / 2
    # The naive average of the means is the token mean only when N1 = N2 or
    # S1/N1 = S2/N2 (checked by hand at N = (1, 2), S = (1, 0): 1/2 - 1/3 = 1/6).
    gap = sp.factor(naive - symbolic.micro_batch_token_mean([s1, s2], [n1, n2]))
    assert sp.simplify(gap - (n1 - n2) * (n1 * s2 - n2 * s1) / (2 * n1 * n2 * (n1 + n2))) == 0


def test_perplexity_and_bits_convert_into_each_other():
    loss = sp.symbols("L", nonnegative=True)
    n_tokens, n_bytes, n_characters, k = sp.symbols("N n m k", positive=True)
    bits = symbolic.bits_per_token(loss)
    assert sp.simplify(symbolic.perplexity(loss) - 2**bits) == 0
    assert sp.simplify(symbolic.perplexity(bits, base=2) - symbolic.perplexity(loss)) == 0
    assert sp.simplify(symbolic.bits_per_byte(loss, n_tokens, n_bytes) - bits * n_tokens / n_bytes) == 0
    # The text's total bits do not depend on the unit it is divided by.
    per_character = symbolic.bits_per_character(loss, n_tokens, n_characters)
    assert sp.simplify(per_character * n_characters - symbolic.bits_per_byte(loss, n_tokens, n_bytes) * n_bytes) == 0
    # A model as unsure as k equally likely tokens has perplexity k.
    assert sp.simplify(symbolic.perplexity(sp.log(k)) - k) == 0
