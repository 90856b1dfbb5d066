"""Entropy, KL divergence and cross-entropy of networks; the Gaussian algebra behind them.

References are computed here, independently of pgm.information:

- discrete networks: the full joint table, built by broadcasting every CPD
  over one axis per node and multiplying, then summed by brute force;
- linear Gaussian networks: the joint mean and covariance propagated node
  by node, then the closed forms (log det with ``slogdet``, KL with explicit
  inverses) or scipy.stats;
- hybrid networks: closed forms that hold for the particular structures
  used (the chain rule of KL), or Monte Carlo with a log density written
  with scipy.stats.norm.

Statistical comparisons allow K standard errors, computed from the sample.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats

import pgm
from pgm import BayesianNetwork, Categorical, Gaussian, LinearGaussian
from pgm.errors import InferenceTooLarge, NodeError, NotFittedError, StructureError
from pgm.inference.gaussian import MultivariateNormal
from pgm.information import Nats, cross_entropy, entropy, expected_log_likelihood, kl_divergence

K = 4.0  # standard errors allowed in Monte Carlo comparisons


# ---------------------------------------------------------------------- independent references
def random_network(seed: int, n_nodes: int = 6, max_parents: int = 3, cards=None, zeros: bool = False,
                   order=None) -> BayesianNetwork:
    """A random discrete network: a random DAG over x0..x{n-1}, random tables (optionally with exact zeros)."""
    rng = np.random.default_rng(seed)
    cards = cards or {f"x{i}": int(rng.integers(2, 4)) for i in range(n_nodes)}
    names = list(cards)
    order = order or [names[i] for i in rng.permutation(len(names))]
    cpds = {}
    for position, node in enumerate(order):
        earlier = order[:position]
        k = int(rng.integers(0, min(max_parents, len(earlier)) + 1))
        parents = [earlier[i] for i in rng.choice(len(earlier), size=k, replace=False)] if k else []
        shape = tuple(cards[p] for p in parents) + (cards[node],)
        table = rng.dirichlet(np.full(cards[node], 0.7), size=int(np.prod(shape[:-1]))).reshape(shape)
        if zeros:  # knock out one entry per row, renormalise: exact zeros exercise 0 log 0
            flat = table.reshape(-1, cards[node])
            flat[np.arange(len(flat)), rng.integers(0, cards[node], len(flat))] = 0.0
            flat /= flat.sum(axis=1, keepdims=True)
        cpds[node] = Categorical([f"s{j}" for j in range(cards[node])], parents=parents, table=table)
    return BayesianNetwork({n: cpds[n] for n in names})


def brute_joint(net: BayesianNetwork, nodes, states=None) -> np.ndarray:
    """p(x) for every configuration, one axis per node in ``nodes``, states in ``states`` order (default net's)."""
    axis = {n: i for i, n in enumerate(nodes)}
    states = states or {n: net.states(n) for n in nodes}
    joint = np.ones(tuple(len(states[n]) for n in nodes))
    for node in net.nodes:
        family = list(net[node].parents) + [node]
        table = net[node].table
        for a, v in enumerate(family):  # reorder each axis's states to the reference order
            table = np.take(table, [net.states(v).index(s) for s in states[v]], axis=a)
        ordered = sorted(range(len(family)), key=lambda a: axis[family[a]])
        shape = [1] * len(nodes)
        for a in ordered:
            shape[axis[family[a]]] = len(states[family[a]])
        joint = joint * np.transpose(table, ordered).reshape(shape)
    return joint


def brute_entropy(joint: np.ndarray) -> float:
    positive = joint[joint > 0]
    return float(-np.sum(positive * np.log(positive)))


def brute_kl(p_joint: np.ndarray, q_joint: np.ndarray) -> float:
    mask = p_joint > 0
    if (q_joint[mask] == 0).any():
        return math.inf
    return float(np.sum(p_joint[mask] * (np.log(p_joint[mask]) - np.log(q_joint[mask]))))


def propagated_gaussian(net: BayesianNetwork):
    """Mean and covariance in net.nodes order, propagated node by node in topological order."""
    order = list(net.topological_order())
    mean, cov = {}, {}
    for i, node in enumerate(order):
        cpd = net[node]
        w = {p: 0.0 for p in cpd.parents}
        for feature, weight in zip(cpd.features, cpd.weights):
            w[feature.parents[0]] += float(weight)
        mean[node] = float(cpd.intercept) + sum(c * mean[p] for p, c in w.items())
        for other in order[:i]:
            cov[node, other] = cov[other, node] = sum(c * cov[p, other] for p, c in w.items())
        cov[node, node] = float(cpd.variance) + sum(a * b * cov[p, q] for p, a in w.items() for q, b in w.items())
    nodes = list(net.nodes)
    return np.array([mean[n] for n in nodes]), np.array([[cov[a, b] for b in nodes] for a in nodes])


def gaussian_kl_closed_form(m0, s0, m1, s1) -> float:
    inverse = np.linalg.inv(s1)
    d = m1 - m0
    return 0.5 * (np.trace(inverse @ s0) + d @ inverse @ d - len(m0) + np.linalg.slogdet(s1)[1]
                  - np.linalg.slogdet(s0)[1])


def chain(weights, variances, intercepts=None) -> BayesianNetwork:
    """x0 -> x1 -> ... linear Gaussian chain."""
    intercepts = intercepts or [0.0] * len(variances)
    cpds = {"x0": Gaussian(intercepts[0], variances[0])}
    for i in range(1, len(variances)):
        cpds[f"x{i}"] = LinearGaussian(parents=[f"x{i - 1}"], intercept=intercepts[i],
                                       weights={f"x{i - 1}": weights[i - 1]}, variance=variances[i])
    return BayesianNetwork(cpds)


def within(estimate: Nats, exact: float, k: float = K) -> bool:
    return abs(float(estimate) - exact) <= k * estimate.standard_error


# ---------------------------------------------------------------------- discrete: exact vs brute force
@pytest.mark.parametrize("seed", range(6))
def test_discrete_entropy_equals_brute_force_enumeration(seed):
    net = random_network(seed, zeros=seed % 2 == 1)
    h = entropy(net)
    assert h.method == "exact" and h.standard_error == 0.0 and h.n_samples is None
    assert abs(h - brute_entropy(brute_joint(net, net.nodes))) < 1e-12


@pytest.mark.parametrize("name", ["asia", "cancer", "earthquake", "survey", "sachs"])
def test_entropy_of_bundled_networks_equals_brute_force(name):
    net = pgm.load(name)
    assert abs(entropy(net) - brute_entropy(brute_joint(net, net.nodes))) < 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_discrete_kl_between_different_structures_equals_brute_force(seed):
    p = random_network(seed, zeros=seed % 2 == 1)
    q = random_network(1000 + seed, cards={n: len(p.states(n)) for n in p.nodes})  # another DAG, no zeros
    assert any(set(p[n].parents) != set(q[n].parents) for n in p.nodes)
    p_joint, q_joint = brute_joint(p, p.nodes), brute_joint(q, p.nodes)
    kl = kl_divergence(p, q)
    assert kl.method == "exact"
    assert abs(kl - brute_kl(p_joint, q_joint)) < 1e-12
    backwards, expected = kl_divergence(q, p), brute_kl(q_joint, p_joint)
    assert (backwards == expected == math.inf) if seed % 2 else abs(backwards - expected) < 1e-12  # p's zeros
    assert abs(cross_entropy(p, q) - (brute_entropy(p_joint) + brute_kl(p_joint, q_joint))) < 1e-12
    assert abs(expected_log_likelihood(p, q) + brute_entropy(p_joint) + brute_kl(p_joint, q_joint)) < 1e-12


def test_kl_where_q_needs_marginals_over_nodes_in_no_clique_of_p():
    # p is a chain a -> b -> c -> d (cliques {a,b}, {b,c}, {c,d}); q's family {a, d} lies in none of them.
    chain_cpds = {
        "a": Categorical(["0", "1"], table=[0.3, 0.7]),
        "b": Categorical(["0", "1"], parents=["a"], table=[[0.9, 0.1], [0.2, 0.8]]),
        "c": Categorical(["0", "1"], parents=["b"], table=[[0.6, 0.4], [0.25, 0.75]]),
        "d": Categorical(["0", "1"], parents=["c"], table=[[0.95, 0.05], [0.3, 0.7]]),
    }
    p = BayesianNetwork(chain_cpds)
    q = BayesianNetwork({
        "a": Categorical(["0", "1"], table=[0.5, 0.5]),
        "d": Categorical(["0", "1"], parents=["a"], table=[[0.7, 0.3], [0.4, 0.6]]),
        "b": Categorical(["0", "1"], parents=["d", "a"], table=np.full((2, 2, 2), 0.5)),
        "c": Categorical(["0", "1"], table=[0.1, 0.9]),
    })
    nodes = p.nodes
    assert abs(kl_divergence(p, q) - brute_kl(brute_joint(p, nodes), brute_joint(q, nodes))) < 1e-12


def test_kl_of_a_network_with_itself_is_zero_and_with_an_equivalent_structure_too():
    p = pgm.load("cancer")
    assert kl_divergence(p, p) == 0.0
    # Reverse the edge Smoker -> Cancer's neighbour pair in a two-node network by Bayes' rule: same joint.
    ab = BayesianNetwork({"a": Categorical(["0", "1"], table=[0.3, 0.7]),
                          "b": Categorical(["0", "1"], parents=["a"], table=[[0.9, 0.1], [0.2, 0.8]])})
    joint = brute_joint(ab, ["a", "b"])
    b_marginal = joint.sum(axis=0)
    ba = BayesianNetwork({"b": Categorical(["0", "1"], table=b_marginal),
                          "a": Categorical(["0", "1"], parents=["b"], table=(joint / b_marginal).T)})
    assert abs(kl_divergence(ab, ba)) < 1e-15 and abs(kl_divergence(ba, ab)) < 1e-15


def test_kl_aligns_states_listed_in_another_order():
    p = random_network(3)
    # q: the same distribution with every node's states listed in reverse.
    cpds = {}
    for node in p.nodes:
        cpd = p[node]
        table = cpd.table
        for axis in range(table.ndim):
            table = np.flip(table, axis=axis)
        cpds[node] = Categorical(list(reversed(cpd.states)), parents=list(cpd.parents), table=table)
    q = BayesianNetwork(cpds)
    assert abs(kl_divergence(p, q)) < 1e-14
    other = random_network(77, cards={n: len(p.states(n)) for n in p.nodes})
    expected = brute_kl(brute_joint(other, other.nodes), brute_joint(q, other.nodes, states={n: other.states(n)
                                                                                           for n in other.nodes}))
    assert abs(kl_divergence(other, q) - expected) < 1e-12
    mc = kl_divergence(other, q, method="monte_carlo", n_samples=50_000, seed=0)
    assert within(mc, expected)


def test_kl_is_infinite_when_q_rules_out_what_p_allows():
    p = BayesianNetwork({"a": Categorical(["0", "1"], table=[0.5, 0.5])})
    q = BayesianNetwork({"a": Categorical(["0", "1"], table=[1.0, 0.0])})
    assert kl_divergence(p, q) == math.inf
    assert kl_divergence(q, p) == pytest.approx(math.log(2), abs=1e-15)
    assert kl_divergence(p, q, method="monte_carlo", n_samples=1000, seed=0) == math.inf


def test_alarm_refitted_kl_is_exact_and_monte_carlo_agrees():
    alarm = pgm.load("alarm")
    refit = alarm.fit(alarm.sample(10_000, seed=1), prior=pgm.Dirichlet(1))
    exact = kl_divergence(alarm, refit)
    mc = kl_divergence(alarm, refit, method="monte_carlo", n_samples=200_000, seed=2)
    assert exact.method == "exact" and mc.method == "monte_carlo" and mc.n_samples == 200_000
    assert 0 < exact < 0.1 and within(mc, exact)
    h = entropy(alarm)
    mc_h = entropy(alarm, method="monte_carlo", n_samples=200_000, seed=3)
    assert within(mc_h, h)
    assert math.isclose(cross_entropy(alarm, refit), h + exact, rel_tol=1e-14)


def test_monte_carlo_is_reproducible_with_a_seed():
    p = random_network(1)
    q = random_network(2, cards={n: len(p.states(n)) for n in p.nodes})
    a = kl_divergence(p, q, method="monte_carlo", n_samples=1000, seed=5)
    b = kl_divergence(p, q, method="monte_carlo", n_samples=1000, seed=5)
    assert float(a) == float(b) and a.standard_error == b.standard_error > 0


# ---------------------------------------------------------------------- exact refused: Monte Carlo instead
def test_auto_falls_back_to_monte_carlo_when_exact_inference_is_refused():
    alarm = pgm.load("alarm")
    refit = alarm.fit(alarm.sample(2_000, seed=1), prior=pgm.Dirichlet(1))
    h = entropy(alarm, memory_budget=512, n_samples=20_000, seed=0)
    assert h.method == "monte_carlo" and "refused" in h.detail and h.standard_error > 0
    assert within(h, entropy(alarm))
    kl = kl_divergence(alarm, refit, memory_budget=512, n_samples=50_000, seed=0)
    assert kl.method == "monte_carlo" and "refused" in kl.detail
    assert within(kl, kl_divergence(alarm, refit))
    with pytest.raises(InferenceTooLarge, match="memory budget"):
        kl_divergence(alarm, refit, method="exact", memory_budget=512)
    with pytest.raises(InferenceTooLarge):
        entropy(alarm, method="exact", memory_budget=512)


# ---------------------------------------------------------------------- linear Gaussian
def ecoli_pair():
    ecoli = pgm.load("ecoli70")
    return ecoli, ecoli.fit(ecoli.sample(2_000, seed=0))


def test_linear_gaussian_entropy_equals_log_det_of_the_propagated_joint_and_scipy():
    ecoli, _ = ecoli_pair()
    mean, cov = propagated_gaussian(ecoli)
    expected = 0.5 * (len(mean) * math.log(2 * math.pi * math.e) + np.linalg.slogdet(cov)[1])
    h = entropy(ecoli)
    assert h.method == "exact"
    assert abs(h - expected) < 1e-9
    assert abs(ecoli.joint_gaussian().entropy() - expected) < 1e-9
    assert abs(h - scipy.stats.multivariate_normal(mean, cov).entropy()) < 1e-9


def test_linear_gaussian_kl_equals_the_closed_form_also_between_different_structures():
    ecoli, refit = ecoli_pair()
    m0, s0 = propagated_gaussian(ecoli)
    m1, s1 = propagated_gaussian(refit)
    kl = kl_divergence(ecoli, refit)
    assert kl.method == "exact" and abs(kl - gaussian_kl_closed_form(m0, s0, m1, s1)) < 1e-8
    # q: independent nodes with p's marginal variances and shifted means, another structure entirely.
    marginals = BayesianNetwork({n: Gaussian(m0[i] + 0.1, s0[i, i]) for i, n in enumerate(ecoli.nodes)})
    expected = gaussian_kl_closed_form(m0, s0, m0 + 0.1, np.diag(np.diag(s0)))
    assert abs(kl_divergence(ecoli, marginals) - expected) < 1e-8 * max(1.0, expected)
    mc = kl_divergence(ecoli, refit, method="monte_carlo", n_samples=100_000, seed=1)
    assert within(mc, float(kl))
    assert math.isclose(cross_entropy(ecoli, refit), entropy(ecoli) + kl, rel_tol=1e-12)


# ---------------------------------------------------------------------- hybrid
def hybrid(z_table, means, variances, y_weight=1.5, y_variance=0.5):
    """z (discrete) -> x | z ~ N(means[z], variances[z]); y | x, z = x * y_weight + z-specific intercept."""
    return BayesianNetwork({
        "z": Categorical(["a", "b"], table=z_table),
        "x": LinearGaussian(parents=["z"], intercept=means, variance=variances),
        "y": LinearGaussian(parents=["x", "z"], intercept=[0.0, 1.0], weights=[[y_weight], [y_weight]],
                            variance=[y_variance, 2 * y_variance]),
    })


def hybrid_log_density(net_args, rows) -> np.ndarray:
    z_table, means, variances = net_args
    z = (rows["z"].astype(str) == "b").to_numpy().astype(int)
    x, y = rows["x"].to_numpy(), rows["y"].to_numpy()
    means, sds = np.asarray(means)[z], np.sqrt(np.asarray(variances)[z])
    return (np.log(np.asarray(z_table)[z]) + scipy.stats.norm.logpdf(x, means, sds)
            + scipy.stats.norm.logpdf(y, 1.5 * x + z, np.sqrt(np.array([0.5, 1.0])[z])))


def test_hybrid_entropy_is_exact_and_agrees_with_monte_carlo_from_scipy_densities():
    args = ([0.3, 0.7], [0.0, 3.0], [1.0, 0.25])
    net = hybrid(*args)
    h = entropy(net)
    assert h.method == "exact"
    # Closed form for this structure: H(z) + E_z[H(x|z)] + E_z[H(y|x,z)].
    def half_log(v):
        return 0.5 * math.log(2 * math.pi * math.e * v)

    expected = (-(0.3 * math.log(0.3) + 0.7 * math.log(0.7)) + 0.3 * half_log(1.0) + 0.7 * half_log(0.25)
                + 0.3 * half_log(0.5) + 0.7 * half_log(1.0))
    assert abs(h - expected) < 1e-12
    rows = net.sample(200_000, seed=0)
    minus_log = -hybrid_log_density(args, rows)
    se = minus_log.std(ddof=1) / math.sqrt(len(minus_log))
    assert abs(minus_log.mean() - h) < K * se


def test_hybrid_kl_is_monte_carlo_within_standard_errors_of_the_chain_rule():
    p = hybrid([0.3, 0.7], [0.0, 3.0], [1.0, 0.25])
    q = hybrid([0.6, 0.4], [0.5, 2.0], [2.0, 0.25])
    # Chain rule: y | x, z is the same in both, so KL = KL(z) + E_z KL(x | z).
    def gauss(m0, v0, m1, v1):  # KL(N(m0, v0) || N(m1, v1))
        return 0.5 * (v0 / v1 + (m1 - m0) ** 2 / v1 - 1 + math.log(v1 / v0))

    expected = (0.3 * math.log(0.3 / 0.6) + 0.7 * math.log(0.7 / 0.4)
                + 0.3 * gauss(0.0, 1.0, 0.5, 2.0) + 0.7 * gauss(3.0, 0.25, 2.0, 0.25))
    kl = kl_divergence(p, q, n_samples=200_000, seed=0)
    assert kl.method == "monte_carlo" and "hybrid" in kl.detail and kl.n_samples == 200_000
    assert within(kl, expected)
    ce = cross_entropy(p, q, n_samples=200_000, seed=1)
    assert ce.method == "monte_carlo" and within(ce, float(entropy(p)) + expected)
    with pytest.raises(StructureError, match="method='monte_carlo'"):
        kl_divergence(p, q, method="exact")


# ---------------------------------------------------------------------- bad input
def test_networks_over_different_variables_are_refused_naming_them():
    p = pgm.load("asia")
    without_xray = BayesianNetwork({n: Categorical(list(p.states(n)), table=[0.5, 0.5])
                                    for n in p.nodes if n != "xray"})
    with pytest.raises(NodeError, match=r"^p and q must be over the same variables: 'xray' only in p$"):
        kl_divergence(p, without_xray)


def test_networks_over_different_states_or_kinds_are_refused_naming_the_node():
    p = BayesianNetwork({"a": Categorical(["0", "1"], table=[0.5, 0.5])})
    with pytest.raises(StructureError, match=r"node 'a' has states \['0', '1'\] in p but \['0', '2'\] in q"):
        kl_divergence(p, BayesianNetwork({"a": Categorical(["0", "2"], table=[0.5, 0.5])}))
    with pytest.raises(StructureError, match="node 'a' is discrete in p but continuous in q"):
        kl_divergence(p, BayesianNetwork({"a": Gaussian()}))
    with pytest.raises(NodeError, match=r"'b' only in q"):
        kl_divergence(p, BayesianNetwork({"a": Categorical(["0", "1"], table=[0.5, 0.5]), "b": Gaussian()}))


def test_unfitted_networks_and_bad_arguments_are_refused():
    fitted = BayesianNetwork({"a": Categorical(["0", "1"], table=[0.5, 0.5])})
    unfitted = BayesianNetwork({"a": Categorical(["0", "1"])})
    with pytest.raises(NotFittedError, match=r"^q has 1 node\(s\) without parameters \('a'\)"):
        kl_divergence(fitted, unfitted)
    with pytest.raises(NotFittedError, match="^network has"):
        entropy(unfitted)
    with pytest.raises(TypeError, match="p must be a BayesianNetwork, not dict"):
        kl_divergence({}, fitted)
    with pytest.raises(ValueError, match="method must be one of"):
        entropy(fitted, method="exactly")
    with pytest.raises(ValueError, match="n_samples must be an integer of at least 2"):
        kl_divergence(fitted, fitted, method="monte_carlo", n_samples=1)
    with pytest.raises(ValueError, match="memory_budget"):
        entropy(fitted, memory_budget=-1)


# ---------------------------------------------------------------------- the result type
def test_nats_is_a_float_that_says_how_it_was_computed():
    exact = Nats(1.5, detail="by hand")
    assert exact == 1.5 and exact + 1 == 2.5 and type(exact + 1) is float and f"{exact:.2f}" == "1.50"
    assert repr(exact) == "Nats(1.5, method='exact')" and str(exact) == "1.5"
    mc = Nats(0.25, method="monte_carlo", standard_error=0.01, n_samples=100)
    assert repr(mc) == "Nats(0.25, standard_error=0.01, method='monte_carlo', n_samples=100)"
    assert mc.bits == pytest.approx(0.25 / math.log(2)) and mc.value == 0.25
    copy = pickle.loads(pickle.dumps(mc))
    assert copy == mc and copy.standard_error == 0.01 and copy.method == "monte_carlo"


def test_empty_network_has_zero_entropy_and_divergence():
    empty = BayesianNetwork()
    assert entropy(empty) == 0.0 and kl_divergence(empty, empty) == 0.0


# ---------------------------------------------------------------------- MultivariateNormal algebra
def mvn3() -> MultivariateNormal:
    return MultivariateNormal(["a", "b", "c"], [1.0, -2.0, 0.5],
                              [[2.0, 0.6, -0.4], [0.6, 1.0, 0.3], [-0.4, 0.3, 1.5]])


def test_affine_map_matches_the_closed_form_scipy_and_monte_carlo():
    mvn = mvn3()
    a = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])
    b = np.array([0.3, -0.7])
    y = mvn.affine(a, b, names=["u", "v"])
    assert y.names == ("u", "v")
    np.testing.assert_allclose(y.mean, a @ mvn.mean + b, rtol=1e-14)
    np.testing.assert_allclose(y.covariance, a @ mvn.covariance @ a.T, rtol=1e-14)
    points = np.random.default_rng(0).normal(size=(5, 2))
    reference = scipy.stats.multivariate_normal(a @ mvn.mean + b, a @ mvn.covariance @ a.T)
    np.testing.assert_allclose(y.logpdf(points), reference.logpdf(points), rtol=1e-12)
    n = 200_000
    draws = mvn.sample(n, seed=1) @ a.T + b
    se = draws.std(axis=0, ddof=1) / math.sqrt(n)
    assert np.all(np.abs(draws.mean(axis=0) - y.mean) < K * se)
    # Var of a sample variance of a normal is 2 s^4 / (n - 1).
    variances = draws.var(axis=0, ddof=1)
    assert np.all(np.abs(variances - np.diag(y.covariance)) < K * np.sqrt(2 / (n - 1)) * np.diag(y.covariance))


def test_affine_defaults_and_refusals():
    mvn = mvn3()
    y = mvn.affine([1.0, 1.0, 1.0])
    assert y.names == ("y0",) and y.mean.tolist() == [-0.5]
    assert mvn.affine(np.eye(3)).names == ("y0", "y1", "y2")
    assert mvn.affine([[1.0, 0.0, 0.0]], 2.0).mean.tolist() == [3.0]
    with pytest.raises(ValueError, match=r"A must have one column per variable \(3: a, b, c\), got shape \(2, 2\)"):
        mvn.affine(np.eye(2))
    with pytest.raises(ValueError, match=r"b must have one entry per row of A \(2\)"):
        mvn.affine(np.ones((2, 3)), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="names must be a sequence of one name per row of A"):
        mvn.affine(np.ones((2, 3)), names=["u"])
    with pytest.raises(ValueError, match="A has an entry that is not finite"):
        mvn.affine([[np.nan, 0.0, 0.0]])


def test_entropy_of_a_multivariate_normal_equals_scipy():
    mvn = mvn3()
    assert abs(mvn.entropy() - scipy.stats.multivariate_normal(mvn.mean, mvn.covariance).entropy()) < 1e-12
    assert MultivariateNormal([], np.empty(0), np.empty((0, 0))).entropy() == 0.0


def test_mahalanobis_is_the_distance_and_the_squared_form_is_chi_square():
    mvn = mvn3()
    rows = mvn.sample(100_000, seed=3)
    inverse = np.linalg.inv(mvn.covariance)
    expected = np.array([scipy.spatial.distance.mahalanobis(r, mvn.mean, inverse) for r in rows[:50]])
    np.testing.assert_allclose(mvn.mahalanobis(rows[:50]), expected, rtol=1e-10)
    np.testing.assert_allclose(mvn.mahalanobis_squared(rows[:50]), expected**2, rtol=1e-10)
    delta = mvn.mahalanobis_squared(rows)
    # Delta ~ chi-square(3): mean 3, and 95% of draws below its 0.95 quantile.
    assert abs(delta.mean() - 3.0) < K * delta.std(ddof=1) / math.sqrt(len(delta))
    below = np.mean(delta <= scipy.stats.chi2.ppf(0.95, 3))
    assert abs(below - 0.95) < K * math.sqrt(0.95 * 0.05 / len(delta))
    np.testing.assert_allclose(mvn.logpdf(rows[:50]),
                               scipy.stats.multivariate_normal(mvn.mean, mvn.covariance).logpdf(rows[:50]), rtol=1e-12)
