"""Iterative join-graph propagation, checked against brute-force enumeration of the joint.

With a cluster cap at least as large as bucket elimination's largest cluster
the join graph is a junction tree, and the marginals must equal the
posteriors of the enumerated joint (built from the CPD tables alone) to
rounding.  Below that cap IJGP approximates; the tests pin that the error is
real at the smallest caps and vanishes as the cap grows, and that clusters
beat loopy belief propagation's Bethe error where they can.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import ImpossibleEvidenceError, InferenceTooLarge, StructureError
from pgm.inference.ijgp import iterative_join_graph_propagation as ijgp
from pgm.inference.join_graph import build_join_graph
from test_loopy_bp import enumerated_marginals, sampled_evidence


def random_network(seed: int, zeros: bool = True) -> pgm.BayesianNetwork:
    """A random DAG with many loops: 6-9 nodes, 2-3 states, up to 3 parents, sometimes structural zeros."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 10))
    cpds = {}
    for i in range(n):
        size = min(i, int(rng.integers(1, 4)))
        parents = [f"v{p}" for p in sorted(rng.choice(i, size=size, replace=False))]
        k = int(rng.integers(2, 4))
        shape = [len(cpds[p].states) for p in parents] + [k]
        table = rng.dirichlet(np.full(k, float(rng.choice([0.5, 1.0, 3.0]))), size=math.prod(shape[:-1]))
        if zeros and rng.random() < 0.3:  # structural zeros, one positive entry kept per row
            zero = rng.random(table.shape) < 0.3
            zero[np.arange(len(table)), rng.integers(0, k, size=len(table))] = False
            table[zero] = 0.0
            table /= table.sum(axis=1, keepdims=True)
        cpds[f"v{i}"] = pgm.Categorical([f"s{j}" for j in range(k)], parents=parents, table=table.reshape(shape))
    return pgm.BayesianNetwork(cpds, name=f"random{seed}")


def largest_error(marginals: dict, exact: dict, nodes) -> float:
    return max(float(np.abs(marginals[n][:, 0] - exact[n]).max()) for n in nodes)


# ============================================================== exact once the cap holds every bucket
@pytest.mark.parametrize("seed", range(20))
def test_with_a_cap_above_the_largest_bucket_the_marginals_are_exact(seed):
    net = random_network(seed)
    rng = np.random.default_rng(seed)
    evidence = sampled_evidence(net, rng)
    free = [n for n in net.nodes if n not in evidence]
    if free and rng.random() < 0.5:  # soft evidence on one more node
        node = free[int(rng.integers(len(free)))]
        evidence[node] = {s: float(w) for s, w in zip(net.states(node), rng.uniform(0.1, 1.0, len(net.states(node))))}
    marginals, report = ijgp(net, evidence, cluster_entries=10**9)
    assert report.exact and report.converged
    expected = enumerated_marginals(net, evidence)
    for node in marginals:
        np.testing.assert_allclose(marginals[node][:, 0], expected[node], rtol=0, atol=1e-10, err_msg=node)


def test_the_error_is_real_at_small_caps_and_vanishes_as_the_cap_grows():
    approximated = 0
    for seed in range(20):
        net = random_network(seed, zeros=False)
        evidence = sampled_evidence(net, np.random.default_rng(seed))
        expected = enumerated_marginals(net, evidence)
        free = [n for n in net.nodes if n not in evidence]
        errors, exact_flags = [], []
        for cap in (2, 8, 32, 128, 512, 10**9):
            marginals, report = ijgp(net, evidence, cluster_entries=cap, exact_entries=0, max_iter=500, tol=1e-12)
            errors.append(largest_error(marginals, expected, free))
            exact_flags.append(report.exact)
        assert exact_flags[-1] and errors[-1] < 1e-10
        for error, exact in zip(errors, exact_flags):  # the report's claim of exactness is never wrong
            assert error < 1e-10 or not exact
        approximated += errors[0] > 1e-4
    assert approximated >= 10  # the small caps really approximate: the test above is not trivially exact


@pytest.mark.parametrize("name, cap", [("insurance", 4096), ("alarm", 64)])
def test_clusters_beat_the_bethe_error(name, cap):
    # without evidence loopy BP's fixed point is off by 0.086 (insurance) and 0.24 (alarm); capped clusters
    # too small for exactness cut that tenfold (measured 0.0028 and 0.0039), and 65,536 entries are exact
    net = pgm.load(name)
    exact = {n: d.probabilities for n, d in net.posteriors({}).items()}
    bp = net.posteriors({}, method="loopy_bp")
    bethe = max(float(np.abs(bp[n].probabilities - exact[n]).max()) for n in exact)
    assert bethe > 0.05
    middle, report = ijgp(net, {}, cluster_entries=cap, exact_entries=0)
    assert not report.exact and report.converged
    assert largest_error(middle, exact, exact) < 0.1 * bethe
    full, report = ijgp(net, {}, cluster_entries=2**16)
    assert report.exact and largest_error(full, exact, exact) < 1e-10


# ============================================================== batched rows
def test_batched_rows_equal_one_row_at_a_time():
    # a budget that holds the cluster tables and nothing more: every row runs alone, through the same join graph
    net = pgm.load("child")
    rows = net.sample(12, seed=3)
    rows = rows.mask(np.random.default_rng(3).random(rows.shape) < 0.6)
    rows["Age"] = "0-3_days"  # observed alike in every row: conditioned on before the graph is built
    batched, report = ijgp(net, rows, cluster_entries=64, exact_entries=0, tol=1e-12, max_iter=500)
    assert report.converged and not report.exact and len(report.row_converged) == 12
    alone, _ = ijgp(net, rows, cluster_entries=64, exact_entries=0, tol=1e-12, max_iter=500,
                    memory_budget=8 * report.table_entries + 1)
    for node in net.nodes:
        np.testing.assert_allclose(alone[node], batched[node], rtol=0, atol=1e-10, err_msg=node)


def test_batched_rows_with_a_full_cap_equal_enumeration_per_row():
    net = random_network(7)
    rows = net.sample(8, seed=1)
    rows = rows.mask(np.random.default_rng(1).random(rows.shape) < 0.5)
    marginals, report = ijgp(net, rows, cluster_entries=10**9)
    assert report.exact
    for i in range(len(rows)):
        case = {k: v for k, v in rows.iloc[i].items() if isinstance(v, str)}
        expected = enumerated_marginals(net, case)
        for node in net.nodes:
            np.testing.assert_allclose(marginals[node][:, i], expected[node], rtol=0, atol=1e-10)


# ============================================================== the report and refusals
def test_the_report_says_when_the_iterations_ran_out():
    net = pgm.load("alarm")
    _, report = ijgp(net, {"BP": "LOW"}, cluster_entries=16, exact_entries=0, max_iter=1)
    assert not report.converged and not report.row_converged[0] and report.iterations == 1
    assert "NOT converged" in str(report)
    _, report = ijgp(net, {"BP": "LOW"}, cluster_entries=16)
    assert report.converged and "converged" in str(report) and report.largest_cluster >= 16


def test_contradictory_evidence_names_the_row():
    net = pgm.load("asia")  # either = tub or lung, deterministically
    rows = pd.DataFrame({"either": ["yes", "no"], "lung": ["yes", "yes"]})
    with pytest.raises(ImpossibleEvidenceError, match="row 1"):
        ijgp(net, rows)


def test_contradiction_among_constant_evidence_is_refused():
    net = pgm.load("asia")
    with pytest.raises(ImpossibleEvidenceError, match="either"):
        ijgp(net, {"either": "no", "lung": "yes", "tub": "no"})


@pytest.mark.parametrize("options, message", [({"cluster_entries": 0}, "cluster_entries"),
                                              ({"damping": 1.0}, "damping"), ({"max_iter": 0}, "max_iter"),
                                              ({"tol": 0}, "tol")])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        ijgp(pgm.load("asia"), {}, **options)


def test_cluster_tables_above_the_budget_are_refused_before_propagation():
    with pytest.raises(InferenceTooLarge, match="cluster_entries"):
        ijgp(pgm.load("alarm"), {}, memory_budget=1_000)


def test_continuous_nodes_are_refused_by_name():
    net = pgm.load("ecoli70")
    with pytest.raises(StructureError, match=repr(net.nodes[0])):
        ijgp(net, {}, targets=[net.nodes[0]])


# ============================================================== the join graph itself
def test_every_variable_s_clusters_and_edges_form_a_tree():
    # the condition for join-graph propagation (running intersection): checked with networkx
    import networkx as nx

    rng = np.random.default_rng(0)
    for seed in range(10):
        n = 12
        scopes = [tuple(sorted(rng.choice(n, size=int(rng.integers(1, 5)), replace=False))) for _ in range(18)]
        scopes += [(v,) for v in range(n)]
        cards = rng.integers(2, 4, size=n).tolist()
        graph = build_join_graph(cards, scopes, list(rng.permutation(n)), max_entries=int(rng.choice([8, 16, 64])))
        for v in range(n):
            holders = [c for c, cluster in enumerate(graph.clusters) if v in cluster.variables]
            sub = nx.Graph()
            sub.add_nodes_from(holders)
            sub.add_edges_from((a, b) for a, b, sep in graph.edges if v in sep)
            assert nx.is_tree(sub), (seed, v)
        covered = sorted(f for cluster in graph.clusters for f in cluster.factors)
        assert covered == list(range(len(scopes)))  # every factor in exactly one cluster
        for cluster in graph.clusters:
            assert all(set(scopes[f]) <= set(cluster.variables) for f in cluster.factors)


# ============================================================== through query / posteriors
def test_query_and_posteriors_by_ijgp_are_flagged_and_match_exact_with_a_full_cap():
    net = pgm.load("alarm")
    evidence = {"HRBP": "HIGH", "BP": "LOW"}
    result = net.query("HR", evidence, method="ijgp")
    exact = net.query("HR", evidence)
    assert (result.method, result.approximate, result.report.exact) == ("ijgp", True, True)
    np.testing.assert_allclose(result.probabilities, exact.probabilities, rtol=0, atol=1e-10)
    assert np.isnan(result.log_evidence)
    every = net.posteriors(evidence, method="ijgp", cluster_entries=16, exact_entries=0)
    assert set(every) == set(net.posteriors(evidence)) and not every["HR"].report.exact
    with pytest.raises(ValueError, match="one node's marginal"):
        net.query(["HR", "CO"], evidence, method="ijgp")
    with pytest.raises(TypeError, match="n_chains"):
        net.query("HR", evidence, method="ijgp", n_chains=3)


def grid_network(side: int, seed: int = 0) -> pgm.BayesianNetwork:
    """Binary nodes on a side x side grid, each with its upper and left neighbours as parents: treewidth ~ side."""
    rng = np.random.default_rng(seed)
    cpds = {}
    for r in range(side):
        for c in range(side):
            parents = ([f"x{r - 1}_{c}"] if r else []) + ([f"x{r}_{c - 1}"] if c else [])
            table = rng.dirichlet([1.0, 1.0], size=2 ** len(parents)).reshape([2] * len(parents) + [2])
            cpds[f"x{r}_{c}"] = pgm.Categorical(["a", "b"], parents=parents, table=table)
    return pgm.BayesianNetwork(cpds, name=f"grid{side}")


def test_auto_answers_by_ijgp_when_exact_does_not_fit_and_lowers_the_cap_to_fit():
    net = grid_network(7)
    evidence = {"x6_6": "a", "x0_6": "b"}
    plan = net.inference_plan("x3_3", evidence)
    full = ijgp(net, evidence, targets=["x3_3"])[1]
    small = ijgp(net, evidence, targets=["x3_3"], cluster_entries=64, exact_entries=0)[1]
    assert full.exact and not small.exact and small.table_entries < full.table_entries
    budget = 4 * (small.table_entries + full.table_entries)  # between the two join graphs' tables
    assert budget < 8 * plan.total_table_entries + plan.bytes_per_row  # and below what exact needs
    result = net.query("x3_3", evidence, method="auto", memory_budget=budget)
    assert result.method == "ijgp" and result.approximate and result.report.converged
    assert "above the memory budget" in result.choice
    assert result.report.cluster_entries < 2 ** 16  # the default cap did not fit; a smaller one did
    exact = net.query("x3_3", evidence)
    assert np.abs(result.probabilities - exact.probabilities).max() < 0.05
    every = net.posteriors(evidence, method="auto", memory_budget=budget)
    assert {d.method for d in every.values()} == {"ijgp"}


def test_auto_settles_for_loopy_bp_when_even_small_clusters_do_not_fit():
    net = pgm.load("alarm")
    result = net.query("HR", {"BP": "LOW"}, method="auto", memory_budget=3_000)
    assert result.method == "loopy_bp" and "join-graph propagation was refused too" in result.choice


def test_parts_within_exact_entries_are_solved_exactly_whatever_the_cap():
    # a 5x5 grid needs cliques of 2**6 entries: a cap of 8 splits its buckets, but the whole bucket tree
    # (a few thousand entries) is within the default exact_entries, so the answer is the enumerated one
    net = grid_network(5, seed=2)
    evidence = {"x4_4": "a", "x0_4": "b"}
    expected = enumerated_marginals(net, evidence)
    marginals, report = ijgp(net, evidence, cluster_entries=8)
    assert report.exact
    for node in expected:
        np.testing.assert_allclose(marginals[node][:, 0], expected[node], rtol=0, atol=1e-12, err_msg=node)
    capped, capped_report = ijgp(net, evidence, cluster_entries=8, exact_entries=0)
    assert not capped_report.exact and largest_error(capped, expected, expected) > 1e-6
    # the exact tree's tables must also fit the memory budget; a budget below them keeps the capped graph
    tight = 8 * (capped_report.table_entries + 1)
    _, budget_report = ijgp(net, evidence, cluster_entries=8, memory_budget=tight)
    assert not budget_report.exact and budget_report.table_entries <= capped_report.table_entries
