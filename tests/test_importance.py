"""Importance sampling with a loopy-BP proposal, checked against brute-force enumeration of the joint.

Every estimate must lie within 4 of its reported standard errors of the
enumerated posterior -- on networks with deterministic CPDs too, where
single-site Gibbs sampling is trapped -- and the reported standard errors
must match the spread of independent runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import ImpossibleEvidenceError, InferenceTooLarge, StructureError
from pgm.inference.importance import importance_sampling
from test_ijgp import random_network
from test_loopy_bp import enumerated_joint, enumerated_marginals, sampled_evidence


def assert_within_4_se(estimates, errors, expected, nodes, column=0):
    for node in nodes:
        est, se = estimates[(node,)][:, column], errors[(node,)][:, column]
        assert (np.abs(est - expected[node]) <= 4 * se).all(), (node, est, expected[node], se)


@pytest.mark.parametrize("evidence", [{"dysp": "yes"}, {"either": "yes", "xray": "no"}, {"dysp": "no", "asia": "yes"}])
def test_asia_with_its_deterministic_node_is_within_4_se(evidence):
    # either = tub or lung exactly: Gibbs sampling's chains stay where they start here (tests/test_gibbs.py)
    net = pgm.load("asia")
    nodes = [n for n in net.nodes if n not in evidence]
    est, se, report = importance_sampling(net, evidence, [(n,) for n in nodes], n_samples=20_000, seed=1)
    assert_within_4_se(est, se, enumerated_marginals(net, evidence), nodes)
    assert report.converged and report.ess[0] > 5_000
    assert max(float(se[(n,)].max()) for n in nodes) < 0.01


def test_random_networks_with_structural_zeros_are_within_4_se():
    for seed in range(12):
        net = random_network(seed)
        evidence = sampled_evidence(net, np.random.default_rng(seed), most=4)
        nodes = [n for n in net.nodes if n not in evidence]
        est, se, report = importance_sampling(net, evidence, [(n,) for n in nodes], n_samples=4_000, seed=seed)
        assert_within_4_se(est, se, enumerated_marginals(net, evidence), nodes)
        assert report.converged


def test_a_joint_table_and_soft_evidence_are_within_4_se():
    net = pgm.load("survey")
    evidence = {"T": "car", "E": {"high": 0.2, "uni": 0.9}}
    est, se, _ = importance_sampling(net, evidence, [("A", "S")], n_samples=20_000, seed=2)
    nodes = list(net.nodes)
    joint = enumerated_joint(net)
    t, e = nodes.index("T"), nodes.index("E")
    joint = joint.take([list(net.states("T")).index("car")], axis=t)
    weights = np.array([evidence["E"][s] for s in net.states("E")])
    joint = joint * weights.reshape([-1 if a == e else 1 for a in range(len(nodes))])
    a, s = nodes.index("A"), nodes.index("S")
    expected = joint.sum(axis=tuple(k for k in range(len(nodes)) if k not in (a, s)))
    expected = expected / expected.sum()
    if a > s:
        expected = expected.T
    assert (np.abs(est[("A", "S")][..., 0] - expected) <= 4 * se[("A", "S")][..., 0]).all()


def test_batched_rows_are_each_within_4_se():
    net = pgm.load("asia")
    rows = pd.DataFrame({"dysp": ["yes", None, "no", "yes"], "xray": [None, "yes", "no", "no"],
                         "smoke": ["no", "yes", None, "yes"]})
    est, se, report = importance_sampling(net, rows, [("lung",), ("tub",)], n_samples=10_000, seed=3)
    assert len(report.ess) == 4
    for i in range(len(rows)):
        case = {k: v for k, v in rows.iloc[i].items() if isinstance(v, str)}
        assert_within_4_se(est, se, enumerated_marginals(net, case), ["lung", "tub"], column=i)


def test_standard_errors_match_the_spread_of_independent_runs():
    # 200 identical rows are 200 independent runs: the reported SE must match their empirical spread
    net = pgm.load("asia")
    rows = pd.DataFrame({"dysp": ["yes"] * 200, "xray": ["no"] * 200})
    est, se, _ = importance_sampling(net, rows, [("lung",), ("bronc",)], n_samples=2_000, seed=4)
    for node in ("lung", "bronc"):
        spread = est[(node,)][0].std(ddof=1)
        ratio = float(se[(node,)][0].mean()) / spread
        assert 0.75 < ratio < 1.5, (node, ratio)


def test_seeds_reproduce_and_batches_do_not_change_the_answer():
    net = pgm.load("asia")
    a = importance_sampling(net, {"dysp": "yes"}, [("lung",)], n_samples=4_000, seed=5)[0][("lung",)]
    b = importance_sampling(net, {"dysp": "yes"}, [("lung",)], n_samples=4_000, seed=5)[0][("lung",)]
    np.testing.assert_array_equal(a, b)
    small = importance_sampling(net, {"dysp": "yes"}, [("lung",)], n_samples=4_000, seed=5,
                                memory_budget=50_000)  # many batches: the running sums are rescaled
    np.testing.assert_allclose(small[0][("lung",)].sum(axis=0), 1.0, rtol=0, atol=1e-12)
    assert (np.abs(small[0][("lung",)] - a) <= 4 * (small[1][("lung",)] + 1e-12)).all()


def test_impossible_evidence_names_the_row():
    net = pgm.load("asia")
    rows = pd.DataFrame({"either": ["yes", "no"], "lung": ["yes", "yes"]})
    with pytest.raises(ImpossibleEvidenceError, match="row 1"):
        importance_sampling(net, rows, [("tub",)], n_samples=200)


@pytest.mark.parametrize("options, message", [({"n_samples": 1}, "n_samples"), ({"n_chains": 1}, "n_chains"),
                                              ({"defensive": 0.0}, "defensive"),
                                              ({"n_samples": 10, "n_chains": 8}, "twice")])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        importance_sampling(pgm.load("asia"), {}, [("lung",)], **options)


def test_memory_and_continuous_nodes_are_refused():
    with pytest.raises(InferenceTooLarge, match="memory budget"):
        importance_sampling(pgm.load("alarm"), {}, [("HR",)], memory_budget=100)
    net = pgm.load("ecoli70")
    with pytest.raises(StructureError, match=r"'\w+' is continuous"):
        importance_sampling(net, {}, [(net.nodes[0],)])


def test_through_query_and_posteriors():
    net = pgm.load("asia")
    result = net.query("lung", {"dysp": "yes"}, method="importance", n_samples=10_000, seed=0)
    exact = net.query("lung", {"dysp": "yes"})
    assert (result.method, result.approximate) == ("importance", True)
    assert (np.abs(result.probabilities - exact.probabilities) <= 4 * result.standard_errors).all()
    rows = pd.DataFrame({"dysp": ["yes", "no"]})
    frames = net.posteriors(rows, method="importance", n_samples=4_000, seed=0, n_chains=4)
    assert frames["lung"].attrs["method"] == "importance"
    assert frames["lung"].attrs["standard_errors"].shape == frames["lung"].shape
    with pytest.raises(TypeError, match="burn_in"):
        net.query("lung", {"dysp": "yes"}, method="importance", burn_in=3)
