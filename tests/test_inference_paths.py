"""Exact inference on networks too large to enumerate: independent paths must agree.

On alarm, child and insurance the junction tree (all marginals from one
calibration, and batched over rows) is checked against variable elimination
(one query at a time, einsum products, no message passing) and against
likelihood weighting (sampling, within its standard errors).  The junction
tree's structure is checked on random graphs: every factor lands in a
clique and every variable's cliques are connected (running intersection).
"""

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.inference.junction_tree import compile_junction_tree, elimination_order

LARGE = ["alarm", "child", "insurance"]


def evidence_sets(net, count, size, seed):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        row = net.sample(1, seed=int(rng.integers(2**31)))
        nodes = rng.choice(net.nodes, size=size, replace=False)
        out.append({n: str(row[n].iloc[0]) for n in nodes})
    return out


@pytest.mark.parametrize("name", LARGE)
def test_junction_tree_agrees_with_variable_elimination(name):
    net = pgm.load(name)
    for evidence in evidence_sets(net, 3, 5, seed=len(name)):
        marginals = net.posteriors(evidence)
        assert set(marginals) == set(net.nodes) - set(evidence)
        for node, posterior in marginals.items():
            ve = net.query(node, evidence=evidence, method="variable_elimination")
            np.testing.assert_allclose(posterior.probabilities, ve.probabilities, atol=1e-10, rtol=0)
            assert posterior.log_evidence == pytest.approx(ve.log_evidence, abs=1e-10)


@pytest.mark.parametrize("name", LARGE)
def test_joint_query_agrees_with_variable_elimination(name):
    net = pgm.load(name)
    rng = np.random.default_rng(7)
    evidence = evidence_sets(net, 1, 4, seed=11)[0]
    hidden = [n for n in net.nodes if n not in evidence]
    for _ in range(3):
        pair = list(rng.choice(hidden, size=2, replace=False))
        jt = net.query(pair, evidence=evidence)
        ve = net.query(pair, evidence=evidence, method="variable_elimination")
        np.testing.assert_allclose(jt.probabilities, ve.probabilities, atol=1e-10, rtol=0)


@pytest.mark.parametrize("name", LARGE)
def test_likelihood_weighting_is_within_four_standard_errors(name):
    net = pgm.load(name)
    evidence = evidence_sets(net, 1, 3, seed=3)[0]
    exact = net.posteriors(evidence)
    targets = [n for n in net.nodes if n not in evidence][:6]
    for target in targets:
        estimate = net.query(target, evidence=evidence, method="likelihood_weighting", n_samples=60_000, seed=5)
        # a cell whose estimate has no spread can still miss by a few rare samples
        tolerance = 4 * estimate.standard_errors + 5e-4
        assert np.all(np.abs(estimate.probabilities - exact[target].probabilities) <= tolerance), target


def test_batched_alarm_equals_one_case_at_a_time():
    net = pgm.load("alarm")
    rows = net.sample(1_000, seed=2)
    rng = np.random.default_rng(3)
    frame = rows.astype(object).mask(rng.random(rows.shape) < 0.3)
    frame.index = pd.Index([f"case{k}" for k in rng.permutation(len(frame))])
    batched = net.posteriors(frame)
    log_likelihood = net.log_likelihood(frame)
    for position in rng.choice(len(frame), size=25, replace=False):
        row = frame.iloc[position]
        case = {k: v for k, v in row.items() if isinstance(v, str)}
        single = net.posteriors(case)
        for node, posterior in single.items():
            np.testing.assert_allclose(batched[node].iloc[position].to_numpy(), posterior.probabilities,
                                       atol=1e-12, rtol=0)
        assert log_likelihood[position] == pytest.approx(net.log_evidence(case), abs=1e-10)
    # the one-target path (collect only) agrees with the all-marginals path (collect and distribute)
    one = net.query("HYPOVOLEMIA", evidence=frame)
    np.testing.assert_allclose(one.to_numpy(), batched["HYPOVOLEMIA"].to_numpy(), atol=1e-12)
    assert one.index.equals(frame.index)


def test_mpe_of_alarm_is_at_least_as_probable_as_any_posterior_mode_completion():
    net = pgm.load("alarm")
    evidence = evidence_sets(net, 1, 4, seed=9)[0]
    best = net.mpe(evidence)
    # its log-probability is that of a complete row, scored by the complete-data path
    row = {n: [s] for n, s in best.assignment.items()}
    assert best.log_probability == pytest.approx(float(net.log_likelihood(row)[0]), abs=1e-10)
    assert {n: best.assignment[n] for n in evidence} == evidence
    # and no single change of one hidden node makes the row more probable
    for node in [n for n in net.nodes if n not in evidence]:
        for state in net.states(node):
            changed = dict(row)
            changed[node] = [state]
            assert net.log_likelihood(changed)[0] <= best.log_probability + 1e-12


def test_memory_refusal_is_immediate_and_names_sizes():
    net = pgm.load("alarm")
    with pytest.raises(pgm.errors.InferenceTooLarge, match=r"1\.1 KiB.*budget of 1000 bytes"):
        net.posteriors({}, memory_budget=1000)
    plan = net.inference_plan(memory_budget=1000)  # planning is never refused
    assert plan.largest_table_bytes == 8 * plan.largest_table_entries > 1000


def random_graph(rng, n, density):
    adjacency = {v: set() for v in range(n)}
    for a in range(n):
        for b in range(a + 1, n):
            if rng.random() < density:
                adjacency[a].add(b)
                adjacency[b].add(a)
    return adjacency


@pytest.mark.parametrize("seed", range(30))
def test_junction_tree_has_running_intersection_and_holds_every_factor(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 25))
    cards = list(rng.integers(2, 4, size=n))
    scopes = []
    for v in range(n):
        parents = [int(p) for p in rng.choice(n, size=min(n - 1, int(rng.integers(0, 4))), replace=False) if p != v]
        scopes.append(tuple(parents + [v]))
    forced = [tuple(int(x) for x in rng.choice(n, size=min(n, 2), replace=False))]
    tree = compile_junction_tree(cards, scopes, [(v,) for v in range(n)], forced)
    sets = [set(c.variables) for c in tree.cliques]
    for scope in scopes + forced:
        assert any(set(scope) <= s for s in sets)
    # every variable's cliques form a connected subtree
    for v in range(n):
        holding = {i for i, s in enumerate(sets) if v in s}
        edges = [(i, c.parent) for i, c in enumerate(tree.cliques) if c.parent is not None
                 and i in holding and c.parent in holding]
        assert len(edges) == len(holding) - 1, f"variable {v}"
    # separators are the intersections with the parent
    for clique in tree.cliques:
        if clique.parent is not None:
            assert set(clique.separator) == set(clique.variables) & set(tree.cliques[clique.parent].variables)
    # the first forced set is in a root clique
    assert any(set(forced[0]) <= sets[r] for r in tree.roots)


def test_min_fill_finds_no_fill_on_a_chordal_graph():
    # a chain of triangles is chordal: a perfect elimination order adds no edge
    adjacency = {0: {1, 2}, 1: {0, 2, 3}, 2: {0, 1, 3}, 3: {1, 2, 4}, 4: {3}}
    order, cliques = elimination_order(adjacency, [2] * 5)
    assert max(len(c) for c in cliques) == 3
    assert sorted(order) == [0, 1, 2, 3, 4]


def test_hybrid_refusal_names_the_number_of_gaussians():
    parents = [f"d{k}" for k in range(12)]
    cpds = {p: pgm.Bernoulli(0.5) for p in parents}
    cpds["y"] = pgm.LinearGaussian(parents=parents, intercept=np.zeros((2,) * 12), variance=np.ones((2,) * 12))
    net = pgm.BayesianNetwork(cpds)
    with pytest.raises(pgm.errors.InferenceTooLarge, match=r"12 discrete nodes .* 4,096 joint configurations"):
        net.query("y", evidence={}, memory_budget=1 << 16)
    # within the budget the same query is exact: a mixture of 4,096 equal Gaussians N(0, 1)
    mixture = net.query("y", evidence={})
    assert len(mixture.weights) == 4096
    assert float(mixture.mean[0]) == pytest.approx(0.0, abs=1e-12)
    assert float(mixture.covariance[0, 0]) == pytest.approx(1.0, rel=1e-12)
