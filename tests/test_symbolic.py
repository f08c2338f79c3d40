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
