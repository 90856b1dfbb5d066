"""Gibbs sampling, checked against brute-force enumeration with the standard errors it reports.

The posteriors it estimates must lie within four of its own standard errors
of the enumerated ones; the standard errors must be honest (their size
matches the spread of estimates from independent runs); split R-hat must
be near 1 when the chains mix and far from 1 when a deterministic CPD
traps them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import InferenceTooLarge, StructureError
from pgm.inference.gibbs import gibbs_sampling


def enumerated_joint(net) -> np.ndarray:
    nodes = list(net.nodes)
    shape = [len(net.states(n)) for n in nodes]
    joint = np.ones(shape)
    for node in nodes:
        family = [nodes.index(p) for p in net[node].parents] + [nodes.index(node)]
        table = np.transpose(np.asarray(net[node].table), np.argsort(family))
        joint = joint * table.reshape([shape[a] if a in family else 1 for a in range(len(nodes))])
    return joint


def enumerated_posterior(net, evidence: dict, targets) -> np.ndarray:
    """The joint posterior of ``targets`` (axes in their order); soft evidence as weights."""
    nodes = list(net.nodes)
    joint = enumerated_joint(net)
    for node, value in evidence.items():
        axis = nodes.index(node)
        states = list(net.states(node))
        weights = (np.array([float(value[s]) for s in states]) if isinstance(value, dict)
                   else (np.arange(len(states)) == states.index(value)).astype(float))
        joint = joint * weights.reshape([-1 if a == axis else 1 for a in range(len(nodes))])
    axes = [nodes.index(t) for t in targets]
    table = joint.sum(axis=tuple(a for a in range(len(nodes)) if a not in axes))
    table = np.transpose(table, np.argsort(np.argsort(axes)))
    return table / table.sum()


def assert_within_standard_errors(estimate, errors, expected, what=""):
    z = np.abs(estimate - expected) / np.maximum(errors, 1e-12)
    assert (np.abs(estimate - expected) <= 4 * errors + 1e-9).all(), f"{what}: largest |z| = {z.max():.2f}"


# Networks without structural zeros: the chains mix.
CASES = [
    ("cancer", {"Dyspnoea": "True", "Xray": "positive"}),
    ("earthquake", {"MaryCalls": "True"}),
    ("survey", {"T": "train", "A": "young"}),
    ("sachs", {"Akt": "LOW", "PKA": "HIGH"}),
]


@pytest.mark.parametrize("name, evidence", CASES, ids=[c[0] for c in CASES])
def test_marginals_are_within_four_standard_errors_and_chains_agree(name, evidence):
    net = pgm.load(name)
    free = [n for n in net.nodes if n not in evidence]
    estimates, errors, report = gibbs_sampling(net, evidence, [(n,) for n in free], n_samples=40_000, n_chains=8,
                                               seed=7)
    for node in free:
        assert_within_standard_errors(estimates[(node,)][:, 0], errors[(node,)][:, 0],
                                      enumerated_posterior(net, evidence, [node]), node)
    assert report.converged and (report.r_hat < 1.01).all() and (report.r_hat >= 0.99).all()
    assert set(report.ess.index) == set(free) and (report.ess > 500).all()


def test_a_joint_table_and_soft_evidence():
    net = pgm.load("survey")
    evidence = {"T": "car", "S": {"M": 0.2, "F": 0.9}}
    estimates, errors, report = gibbs_sampling(net, evidence, [("E", "O")], n_samples=40_000, seed=3)
    assert estimates[("E", "O")].shape == (2, 2, 1)
    assert_within_standard_errors(estimates[("E", "O")][..., 0], errors[("E", "O")][..., 0],
                                  enumerated_posterior(net, evidence, ["E", "O"]), "E, O")
    assert list(report.r_hat.index) == ["E, O"]


def test_batched_rows_each_within_four_standard_errors():
    net = pgm.load("sachs")
    rows = net.sample(6, seed=2)
    rows = rows.mask(np.random.default_rng(2).random(rows.shape) < 0.6)
    estimates, errors, report = gibbs_sampling(net, rows, [("Erk",), ("PKC",)], n_samples=8_000, seed=5)
    assert report.n_chains == 4 and estimates[("Erk",)].shape == (3, 6)
    for r in range(len(rows)):
        evidence = {n: v for n, v in rows.iloc[r].items() if isinstance(v, str)}
        for node in ("Erk", "PKC"):
            assert_within_standard_errors(estimates[(node,)][:, r], errors[(node,)][:, r],
                                          enumerated_posterior(net, evidence, [node]), f"row {r} {node}")


def test_standard_errors_match_the_spread_of_independent_runs():
    # 200 identical rows are 200 independent runs (each row has its own chains): the spread of their
    # estimates is what the standard error claims to be.  Fewer draws than elsewhere, so errors are visible.
    net = pgm.load("earthquake")
    rows = pd.DataFrame({"JohnCalls": ["True"] * 200})
    estimates, errors, _ = gibbs_sampling(net, rows, [("Alarm",)], n_samples=2_000, n_chains=4, seed=11)
    spread = estimates[("Alarm",)][0].std(ddof=1)
    claimed = errors[("Alarm",)][0].mean()
    assert 0.75 < claimed / spread < 1.33, (claimed, spread)


def test_split_r_hat_flags_chains_trapped_by_a_deterministic_node():
    # In asia, "either" is tub OR lung exactly: a chain at (tub, lung, either) = (no, no, no) can never
    # move one of them alone, so chains started apart stay apart.
    net = pgm.load("asia")
    _, _, report = gibbs_sampling(net, None, [("lung",), ("either",)], n_samples=20_000, seed=0, blocked=False)
    assert not report.converged
    assert report.r_hat["lung"] > 1.1
    assert "DISAGREE" in str(report)


def test_a_seed_gives_the_same_draws():
    net = pgm.load("cancer")
    first = gibbs_sampling(net, {"Xray": "positive"}, [("Cancer",)], n_samples=2_000, seed=42)[0]
    second = gibbs_sampling(net, {"Xray": "positive"}, [("Cancer",)], n_samples=2_000, seed=42)[0]
    np.testing.assert_array_equal(first[("Cancer",)], second[("Cancer",)])


def test_burn_in_and_thinning_are_reported():
    net = pgm.load("cancer")
    _, _, report = gibbs_sampling(net, None, [("Cancer",)], n_samples=4_000, n_chains=8, burn_in=10, thin=3, seed=0,
                                  blocked=False)
    assert (report.n_chains, report.n_draws, report.burn_in, report.thin) == (8, 500, 10, 3)
    # blocked: cancer's nodes above the evidence form one block, whose draws are exact: one sweep of burn-in;
    # Dyspnoea, below no evidence, is drawn from its CPD
    _, _, report = gibbs_sampling(net, {"Xray": "positive"}, [("Cancer",), ("Dyspnoea",)], n_samples=4_000,
                                  n_chains=8, burn_in=10, seed=0)
    assert (report.n_blocks, report.burn_in, report.n_barren) == (1, 1, 1) and "1 block(s)" in str(report)


@pytest.mark.parametrize("options, message", [
    ({"n_samples": 2}, "n_samples"), ({"burn_in": -1}, "burn_in"), ({"thin": 0}, "thin"),
    ({"n_chains": 0}, "n_chains"), ({"n_chains": 2.5}, "n_chains"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        gibbs_sampling(pgm.load("cancer"), None, [("Cancer",)], **options)


def test_memory_budget_is_checked_before_sampling():
    with pytest.raises(InferenceTooLarge, match="n_chains"):
        gibbs_sampling(pgm.load("alarm"), None, n_samples=100_000, memory_budget=1_000_000)


def test_continuous_nodes_are_refused():
    with pytest.raises(StructureError, match="continuous"):
        gibbs_sampling(pgm.load("ecoli70"), None)


def test_impossible_evidence_is_refused_with_the_row():
    net = pgm.load("asia")  # either = tub or lung, exactly
    rows = pd.DataFrame({"lung": ["no", "yes"], "either": ["no", "no"]})
    with pytest.raises(pgm.errors.ImpossibleEvidenceError, match="row 1"):
        gibbs_sampling(net, rows, [("tub",)], n_samples=400, burn_in=5, seed=0)


def xor_network():
    """z = x XOR y exactly; a = x and b = y exactly: a state with x = y and z = 1 needs two moves to leave."""
    copy = np.array([[1.0, 0.0], [0.0, 1.0]])
    xor = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])
    return pgm.BayesianNetwork({
        "x": pgm.Categorical(["0", "1"], table=[0.5, 0.5]),
        "y": pgm.Categorical(["0", "1"], table=[0.5, 0.5]),
        "a": pgm.Categorical(["0", "1"], parents=["x"], table=copy),
        "b": pgm.Categorical(["0", "1"], parents=["y"], table=copy),
        "z": pgm.Categorical(["0", "1"], parents=["x", "y"], table=xor),
    })


def test_chains_started_outside_the_support_are_restarted_inside_it():
    # Without a burn-in, the chains whose ancestral start has x = y (probability zero given z = 1) would
    # count impossible states; they are moved onto a chain of their row that is in the support.
    net = xor_network()
    estimates, _, report = gibbs_sampling(net, {"z": "1"}, [("x", "y")], n_samples=6_400, burn_in=0, seed=0)
    table = estimates[("x", "y")][..., 0]
    assert report.rescued > 0 and "restarted" in str(report)
    assert table[0, 0] == 0 and table[1, 1] == 0 and table.sum() == pytest.approx(1.0)


def test_a_loopy_bundled_network_against_the_exact_engine():
    # child is too large to enumerate (the exact engine, itself checked against enumeration, is the
    # reference); it has undirected cycles and a CPD with zeros.
    net = pgm.load("child")
    evidence = {"LowerBodyO2": "<5", "CO2Report": ">=7.5"}
    exact = net.posteriors(evidence)
    estimates, errors, report = gibbs_sampling(net, evidence, [(n,) for n in exact], n_samples=40_000,
                                               n_chains=8, seed=0)
    for node, posterior in exact.items():
        assert_within_standard_errors(estimates[(node,)][:, 0], errors[(node,)][:, 0], posterior.probabilities, node)
    assert report.converged


# ============================================================== blocked Gibbs on deterministic tables
def random_deterministic_network(seed: int) -> pgm.BayesianNetwork:
    """A random loopy DAG of 7-9 nodes, 2-3 states, up to 3 parents; about half the CPDs have structural
    zeros and a quarter are deterministic functions of their parents (one state per parent configuration)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(7, 10))
    cpds = {}
    for i in range(n):
        size = min(i, int(rng.integers(1, 4)))
        parents = [f"v{p}" for p in sorted(rng.choice(i, size=size, replace=False))]
        k = int(rng.integers(2, 4))
        shape = [len(cpds[p].states) for p in parents] + [k]
        rows = int(np.prod(shape[:-1]))
        table = rng.dirichlet(np.ones(k), size=rows)
        kind = rng.random()
        if parents and kind < 0.25:
            table = np.eye(k)[rng.integers(0, k, size=rows)]
        elif kind < 0.5:
            zero = rng.random(table.shape) < 0.4
            zero[np.arange(rows), rng.integers(0, k, size=rows)] = False
            table[zero] = 0.0
            table /= table.sum(axis=1, keepdims=True)
        cpds[f"v{i}"] = pgm.Categorical([f"s{j}" for j in range(k)], parents=parents, table=table.reshape(shape))
    return pgm.BayesianNetwork(cpds, name=f"deterministic{seed}")


def _z_scores(seed: int, **options) -> list:
    net = random_deterministic_network(seed)
    nodes = list(net.nodes)
    row = net.sample(1, seed=seed).iloc[0]
    leaves = [n for n in nodes if not any(n in net[c].parents for c in nodes)]
    evidence = {n: str(row[n]) for n in leaves[:2]}  # sampled, so possible
    free = [n for n in nodes if n not in evidence]
    estimates, errors, report = gibbs_sampling(net, evidence, [(n,) for n in free], n_samples=4_000, n_chains=8,
                                               burn_in=100, seed=seed, **options)
    z = []
    for n in free:
        exact = enumerated_posterior(net, evidence, [n])
        z.extend((np.abs(estimates[(n,)][:, 0] - exact) / errors[(n,)][:, 0]).tolist())
    return z, report


def _assert_calibrated(z):
    # honest standard errors put about 68% of the states within 1 SE, 95% within 2 and all but a few within 4
    assert len(z) > 200
    assert (z <= 4).mean() >= 0.995, np.sort(z)[-5:]
    assert 0.85 <= (z <= 2).mean() <= 0.995 and 0.5 <= (z <= 1).mean() <= 0.9, ((z <= 1).mean(), (z <= 2).mean())


def test_blocked_gibbs_standard_errors_are_calibrated_on_deterministic_networks():
    # 40 random networks with deterministic and zero-laden CPDs, every state of every unobserved node
    # against enumeration, at the default settings
    _assert_calibrated(np.concatenate([_z_scores(seed)[0] for seed in range(40)]))


def test_with_small_blocks_the_chains_still_mix_or_say_they_do_not():
    # blocks of at most 16 entries split these networks into several blocks (a real Markov chain); where
    # the chains agree (split R-hat < 1.01) the standard errors are calibrated, and every network with a
    # state beyond 4 SE is one whose report says the chains disagree
    kept, several = [], 0
    for seed in range(40):
        z, report = _z_scores(seed, block_entries=16)
        several += report.n_blocks > 2
        if report.converged:
            kept.append(z)
        else:
            assert "DISAGREE" in str(report)
    assert several >= 20 and len(kept) >= 20
    _assert_calibrated(np.concatenate(kept))


def test_blocks_mix_where_single_site_gibbs_is_trapped():
    # asia's "either" is tub OR lung exactly; with dysp observed, "either" is no longer barren and a
    # single-site chain at (tub, lung, either) = (no, no, no) can never move; blocks move them together
    net = pgm.load("asia")
    evidence = {"dysp": "yes"}
    groups = [("lung",), ("either",), ("tub",)]
    _, _, single = gibbs_sampling(net, evidence, groups, n_samples=20_000, seed=0, blocked=False)
    estimates, errors, blocked = gibbs_sampling(net, evidence, groups, n_samples=20_000, seed=0)
    assert not single.converged and blocked.converged
    for (node,) in groups:
        assert_within_standard_errors(estimates[(node,)][:, 0], errors[(node,)][:, 0],
                                      enumerated_posterior(net, evidence, [node]), node)


def test_blocked_batched_rows_each_within_four_standard_errors():
    net = xor_network()
    rows = pd.DataFrame({"z": ["1", "0", None], "a": [None, "1", "0"]})
    estimates, errors, report = gibbs_sampling(net, rows, [("x", "y")], n_samples=8_000, seed=3)
    for r in range(len(rows)):
        evidence = {n: v for n, v in rows.iloc[r].items() if isinstance(v, str)}
        assert_within_standard_errors(estimates[("x", "y")][..., r], errors[("x", "y")][..., r],
                                      enumerated_posterior(net, evidence, ["x", "y"]), f"row {r}")
    assert report.converged
