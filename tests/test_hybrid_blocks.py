"""Hybrid networks factored by relevance: Gaussian blocks keyed on their own discrete parents (issue 16, item 2).

Twenty independent pairs ``d_i -> c_i`` used to key one Gaussian on all
twenty discrete parents jointly (2^20 Gaussians per row) and were refused.
Each pair is now its own block, keyed on ``d_i`` alone.  Expected values:

- for the pairs networks, each pair's answer in closed form (Bayes' rule
  with scipy.stats.norm densities, the law of total variance), computed
  here with no pgm inference;
- for blocks that share a discrete parent, or targets in several blocks,
  brute-force enumeration of the discrete configurations with each
  configuration's Gaussian written out from the CPD parameters;
- for EM's expected statistics, the E-step of each pair as a network of its
  own (the one-block path that tests/test_em.py checks against closed forms).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import pgm
from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.data import to_dataset
from pgm.learning.em import e_step


def pairs_network(k: int, seed: int = 0) -> BayesianNetwork:
    """``k`` independent pairs ``d_i -> c_i``: d_i has two or three states, c_i one Gaussian per state."""
    rng = np.random.default_rng(seed)
    cpds = {}
    for i in range(k):
        states = ["a", "b", "c"][: 2 + i % 2]
        cpds[f"d{i}"] = Categorical(states, table=rng.dirichlet(np.full(len(states), 2.0)))
        cpds[f"c{i}"] = LinearGaussian(parents=[f"d{i}"], intercept=rng.normal(0, 2, len(states)),
                                       variance=rng.uniform(0.5, 2.0, len(states)))
    return BayesianNetwork(cpds)


def knocked_out(net: BayesianNetwork, n: int, fraction: float, seed: int) -> pd.DataFrame:
    rows = net.sample(n, seed=seed)
    hide = np.random.default_rng(seed + 1).random(rows.shape) < fraction
    out = rows.mask(hide)
    for node in net.nodes:
        if net[node].is_discrete:
            out[node] = pd.Categorical(out[node], categories=list(net.states(node)))
    return out


def pair_by_hand(net: BayesianNetwork, i: int, rows: pd.DataFrame):
    """Closed form for pair i: p(d_i | row), the mean and sd of c_i | row, and log p(observed part of row)."""
    d, c = net[f"d{i}"], net[f"c{i}"]
    prior = np.asarray(d.table, dtype=float)
    means, variances = np.asarray(c.intercept, dtype=float), np.asarray(c.variance, dtype=float)
    codes = rows[f"d{i}"].cat.codes.to_numpy()
    values = rows[f"c{i}"].to_numpy(dtype=float)
    seen_c = ~np.isnan(values)
    joint = np.tile(prior, (len(rows), 1))                                          # p(d) ...
    density = scipy.stats.norm.pdf(np.where(seen_c, values, 0.0)[:, None], means[None, :], np.sqrt(variances)[None, :])
    joint = np.where(seen_c[:, None], joint * density, joint)                       # ... p(c | d) where seen
    joint = np.where((codes >= 0)[:, None], joint * (np.arange(len(prior))[None, :] == codes[:, None]), joint)
    evidence = joint.sum(axis=1)
    posterior = joint / evidence[:, None]
    mean = np.where(seen_c, values, posterior @ means)
    spread = means[None, :] - (posterior @ means)[:, None]
    variance = np.where(seen_c, 0.0, np.sum(posterior * (variances[None, :] + spread**2), axis=1))
    return posterior, mean, np.sqrt(variance), np.log(evidence)


@pytest.mark.parametrize("k", [5, 10, 20, 40])
def test_pairs_posteriors_and_log_likelihood_are_the_per_pair_answers(k):
    net = pairs_network(k)
    rows = knocked_out(net, 300, 0.3, seed=k)
    posteriors = net.posteriors(rows)
    log_likelihood = net.log_likelihood(rows)
    expected_ll = np.zeros(len(rows))
    for i in range(k):
        posterior, mean, sd, log_evidence = pair_by_hand(net, i, rows)
        np.testing.assert_allclose(posteriors[f"d{i}"].to_numpy(), posterior, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(posteriors[f"c{i}"]["mean"], mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(posteriors[f"c{i}"]["std"], sd, rtol=1e-12, atol=1e-12)
        expected_ll += log_evidence
    np.testing.assert_allclose(log_likelihood, expected_ll, rtol=1e-12)
    # the Gaussians per row add up over the pairs instead of multiplying
    assert net.inference_plan(evidence=rows).gaussian_configurations == sum(len(net.states(f"d{i}")) for i in range(k))


@pytest.mark.parametrize("k", [20, 40])
def test_single_case_query_of_one_parent_depends_on_its_own_child_only(k):
    net = pairs_network(k)
    evidence = {f"c{i}": 0.25 * i - 1.0 for i in range(k)}
    answer = net.query("d0", evidence)
    posterior, _, _, log_evidence = pair_by_hand(net, 0, pd.DataFrame({
        "d0": pd.Categorical([None], categories=list(net.states("d0"))), "c0": [evidence["c0"]]}))
    np.testing.assert_allclose(answer.probabilities, posterior[0], rtol=1e-12)
    batched = net.query("d0", pd.DataFrame({name: [value] * 3 for name, value in evidence.items()}))
    np.testing.assert_allclose(batched.to_numpy(), np.tile(posterior[0], (3, 1)), rtol=1e-12)
    c_answer = net.query("c3", {"c0": 1.0})  # another block's evidence says nothing about c3
    _, mean, sd, _ = pair_by_hand(net, 3, pd.DataFrame({
        "d3": pd.Categorical([None], categories=list(net.states("d3"))), "c3": [np.nan]}))
    np.testing.assert_allclose([c_answer.mean[0], c_answer.std()[0]], [mean[0], sd[0]], rtol=1e-12)


def test_e_step_statistics_of_twenty_pairs_are_each_pairs_own():
    net = pairs_network(20)
    rows = knocked_out(net, 200, 0.3, seed=3)
    stats, log_likelihood = e_step(net, to_dataset(rows, net.domains))
    total = 0.0
    for i in range(20):
        pair = BayesianNetwork({f"d{i}": net[f"d{i}"], f"c{i}": net[f"c{i}"]})
        columns = rows[[f"d{i}", f"c{i}"]]
        own, own_ll = e_step(pair, to_dataset(columns, pair.domains))
        for node in (f"d{i}", f"c{i}"):
            np.testing.assert_allclose(stats[node], own[node], rtol=1e-10, atol=1e-10, err_msg=node)
        total += own_ll
    assert log_likelihood == pytest.approx(total, rel=1e-12)


# ====================================================================== blocks sharing keys, targets across blocks
def shared_parent_network() -> BayesianNetwork:
    """d -> x1, d -> y1 <- x1 (one block keyed on d), e -> z (a second block), d -> e; w with no discrete parent."""
    return BayesianNetwork({
        "d": Categorical(["u", "v"], table=[0.3, 0.7]),
        "e": Categorical(["p", "q", "r"], parents=["d"], table=[[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]),
        "x1": LinearGaussian(parents=["d"], intercept=[1.0, -2.0], variance=[1.0, 0.5]),
        "y1": LinearGaussian(parents=["d", "x1"], intercept=[0.5, 0.0], weights={"x1": [1.5, -0.5]},
                             variance=[0.25, 2.0]),
        "z": LinearGaussian(parents=["e"], intercept=[0.0, 3.0, -3.0], variance=[1.0, 2.0, 0.5]),
        "w": pgm.Gaussian(10.0, 4.0),
    })


def enumerate_joint(net: BayesianNetwork, evidence: dict):
    """Brute force: for every (d, e), its posterior weight and the Gaussian of (x1, y1, z, w) given the evidence."""
    names = ["x1", "y1", "z", "w"]
    out = []
    for d, e in itertools.product(range(2), range(3)):
        prior = net["d"].table[d] * net["e"].table[d, e]
        x1 = net["x1"]
        b1, v1 = x1.intercept[d], x1.variance[d]
        y1 = net["y1"]
        w1, by, vy = y1.weights[d, 0], y1.intercept[d], y1.variance[d]
        mean = np.array([b1, by + w1 * b1, net["z"].intercept[e], 10.0])
        cov = np.zeros((4, 4))
        cov[0, 0], cov[0, 1] = v1, w1 * v1
        cov[1, 0], cov[1, 1] = w1 * v1, w1**2 * v1 + vy
        cov[2, 2], cov[3, 3] = net["z"].variance[e], 4.0
        seen = [names.index(n) for n in evidence]
        rest = [i for i in range(4) if i not in seen]
        weight = prior
        if seen:
            values = np.array(list(evidence.values()))
            weight *= scipy.stats.multivariate_normal(mean[seen], cov[np.ix_(seen, seen)]).pdf(values)
            gain = cov[np.ix_(rest, seen)] @ np.linalg.inv(cov[np.ix_(seen, seen)])
            mean_rest = mean[rest] + gain @ (values - mean[seen])
            cov_rest = cov[np.ix_(rest, rest)] - gain @ cov[np.ix_(seen, rest)]
        else:
            mean_rest, cov_rest = mean, cov
        out.append((weight, dict(zip([names[i] for i in rest], mean_rest)), [names[i] for i in rest], cov_rest))
    total = sum(o[0] for o in out)
    return [(w / total, m, r, c) for w, m, r, c in out], total


def test_targets_in_two_blocks_sharing_a_discrete_ancestor_match_enumeration():
    net = shared_parent_network()
    evidence = {"y1": 0.7, "w": 11.0}
    answer = net.query(["x1", "z"], evidence)
    components, total = enumerate_joint(net, evidence)
    mean = sum(w * np.array([m["x1"], m["z"]]) for w, m, _, _ in components)
    second = np.zeros((2, 2))
    for w, m, rest, cov in components:
        idx = [rest.index("x1"), rest.index("z")]
        mu = np.array([m["x1"], m["z"]])
        second += w * (cov[np.ix_(idx, idx)] + np.outer(mu - mean, mu - mean))
    np.testing.assert_allclose(answer.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(answer.covariance, second, rtol=1e-12, atol=1e-14)
    assert net.log_evidence(evidence) == pytest.approx(np.log(total), rel=1e-12)
    posterior_d = net.query("d", evidence).probabilities
    expected_d = [sum(w for (w, *_), (d, _) in zip(components, itertools.product(range(2), range(3))) if d == s)
                  for s in range(2)]
    np.testing.assert_allclose(posterior_d, expected_d, rtol=1e-12)


def test_blocks_of_a_network_follow_its_continuous_edges():
    from pgm.inference.gaussian_blocks import continuous_blocks

    net = shared_parent_network()
    blocks = continuous_blocks(net, ("x1", "y1", "z", "w"), ("d", "e"))
    assert blocks == [(("x1", "y1"), ("d",)), (("z",), ("e",)), (("w",), ())]
    plan = net.inference_plan(evidence={"y1": 0.7})
    assert plan.gaussian_configurations == 2 + 3 + 1  # one Gaussian per configuration of each block's keys


def test_components_with_the_same_discrete_parents_share_a_block():
    """Naive Bayes features are independent given the class and all keyed on it: one block, one tree factor."""
    from pgm.classifiers import naive_bayes
    from pgm.inference.gaussian_blocks import continuous_blocks

    features = [f"f{j}" for j in range(5)]
    net = naive_bayes("c", ["a", "b", "c"], continuous=features)
    assert continuous_blocks(net, tuple(features), ("c",)) == [(tuple(features), ("c",))]
    pairs = pairs_network(3)
    assert [keys for _, keys in continuous_blocks(pairs, ("c0", "c1", "c2"), ("d0", "d1", "d2"))] == [
        ("d0",), ("d1",), ("d2",)]


def test_refusal_names_the_widest_block_and_its_discrete_parents():
    parents = [f"d{k}" for k in range(10)]
    cpds = {p: pgm.Bernoulli(0.5) for p in parents + ["e"]}
    cpds["x"] = LinearGaussian(parents=parents[:5], intercept=np.zeros((2,) * 5), variance=np.ones((2,) * 5))
    cpds["y"] = LinearGaussian(parents=parents[5:] + ["x"], intercept=np.zeros((2,) * 5), weights={"x": 1.0},
                               variance=np.ones((2,) * 5))
    cpds["z"] = LinearGaussian(parents=["e"], intercept=[0.0, 1.0])  # a block of its own, not the culprit
    net = BayesianNetwork(cpds)
    with pytest.raises(pgm.errors.InferenceTooLarge,
                       match=r"continuous nodes x, y are joined .* 10 discrete nodes \(d0, .*d9\) with 1,024 joint"):
        net.query("y", {"z": 0.5}, memory_budget=1 << 16)
    assert net.query("z", {}, memory_budget=1 << 16).weights.shape == (2,)  # z alone (x, y barren) fits


# ====================================================================== observed continuous nodes cut the blocks
def switching_chain(k: int, seed: int = 0) -> BayesianNetwork:
    """``d_i -> c_i`` and ``c_{i-1} -> c_i``: a chain of regressions, each switched by its own discrete parent."""
    rng = np.random.default_rng(seed)
    cpds = {}
    for i in range(k):
        cpds[f"d{i}"] = Categorical(["a", "b"], table=rng.dirichlet([2.0, 2.0]))
        weights = {f"c{i - 1}": rng.uniform(-0.9, 0.9, 2)} if i else None
        cpds[f"c{i}"] = LinearGaussian(parents=[f"d{i}"] + ([f"c{i - 1}"] if i else []),
                                       intercept=rng.normal(0, 2, 2), weights=weights,
                                       variance=rng.uniform(0.5, 2.0, 2))
    return BayesianNetwork(cpds)


def chain_link_by_hand(net, i, rows):
    """p(d_i | row) and the log of the link's contribution, when c_i and c_{i-1} are observed in every row."""
    cpd = net[f"c{i}"]
    prior = np.asarray(net[f"d{i}"].table, dtype=float)
    mean = np.asarray(cpd.intercept, dtype=float)[None, :] + (
        np.asarray(cpd.weights, dtype=float)[:, 0][None, :] * rows[f"c{i - 1}"].to_numpy()[:, None] if i else 0.0)
    joint = prior[None, :] * scipy.stats.norm.pdf(rows[f"c{i}"].to_numpy()[:, None], mean,
                                                  np.sqrt(np.asarray(cpd.variance, dtype=float))[None, :])
    codes = rows[f"d{i}"].cat.codes.to_numpy()
    joint = np.where((codes >= 0)[:, None], joint * (np.arange(2)[None, :] == codes[:, None]), joint)
    return joint / joint.sum(axis=1, keepdims=True), np.log(joint.sum(axis=1))


def test_a_fully_observed_switching_chain_is_one_block_per_link():
    net = switching_chain(20)
    rows = net.sample(200, seed=4)
    hide = np.random.default_rng(5).random(len(rows)) < 0.5
    for i in range(20):  # discrete parents half missing, every continuous value seen
        rows[f"d{i}"] = pd.Categorical(rows[f"d{i}"].mask(np.roll(hide, i)), categories=["a", "b"])
    posteriors = net.posteriors(rows)
    expected_ll = np.zeros(len(rows))
    for i in range(20):
        posterior, log_link = chain_link_by_hand(net, i, rows)
        np.testing.assert_allclose(posteriors[f"d{i}"].to_numpy(), posterior, rtol=1e-11, atol=1e-14)
        expected_ll += log_link
    np.testing.assert_allclose(net.log_likelihood(rows), expected_ll, rtol=1e-12)
    assert net.inference_plan(evidence=rows).gaussian_configurations == 40
    single = {f"c{i}": float(rows[f"c{i}"].iloc[0]) for i in range(20)}
    posterior, _ = chain_link_by_hand(net, 7, rows.iloc[:1].assign(d7=pd.Categorical([None], categories=["a", "b"])))
    np.testing.assert_allclose(net.query("d7", single).probabilities, posterior[0], rtol=1e-11)


def test_a_chain_with_a_sometimes_missing_link_matches_enumeration():
    net = switching_chain(5, seed=2)
    rows = net.sample(60, seed=6)
    rows.loc[rows.index % 3 == 0, "c2"] = np.nan  # c2 hidden in a third of the rows: c1, c2, c3 join
    for i in (0, 2, 4):
        rows[f"d{i}"] = pd.Categorical(rows[f"d{i}"].mask(rows.index % 2 == i % 2), categories=["a", "b"])
    posteriors = net.posteriors(rows)
    log_likelihood = net.log_likelihood(rows)
    names = [f"c{i}" for i in range(5)]
    for r in range(len(rows)):
        row = rows.iloc[r]
        weights, c2_means, c2_vars = [], [], []
        configs = list(itertools.product(range(2), repeat=5))
        for config in configs:
            prior = np.prod([net[f"d{i}"].table[s] for i, s in enumerate(config)])
            seen_d = all(pd.isna(row[f"d{i}"]) or net.states(f"d{i}").index(row[f"d{i}"]) == s
                         for i, s in enumerate(config))
            mean, cov = np.zeros(5), np.zeros((5, 5))
            for i, s in enumerate(config):  # the joint of c0..c4 given the switches, forward
                cpd = net[f"c{i}"]
                w = float(cpd.weights[s, 0]) if i else 0.0
                mean[i] = cpd.intercept[s] + (w * mean[i - 1] if i else 0.0)
                cov[i, :i] = w * cov[i - 1, :i] if i else 0.0
                cov[:i, i] = cov[i, :i]
                cov[i, i] = cpd.variance[s] + (w * w * cov[i - 1, i - 1] if i else 0.0)
            seen = [j for j, n in enumerate(names) if not pd.isna(row[n])]
            values = row[[names[j] for j in seen]].to_numpy(dtype=float)
            density = scipy.stats.multivariate_normal(mean[seen], cov[np.ix_(seen, seen)]).pdf(values)
            weights.append(prior * density * seen_d)
            if pd.isna(row["c2"]):
                gain = cov[2, seen] @ np.linalg.inv(cov[np.ix_(seen, seen)])
                c2_means.append(mean[2] + gain @ (values - mean[seen]))
                c2_vars.append(cov[2, 2] - gain @ cov[seen, 2])
        weights = np.array(weights)
        assert log_likelihood[r] == pytest.approx(np.log(weights.sum()), rel=1e-11)
        weights /= weights.sum()
        for i in range(5):
            expected = [weights[[c[i] == s for c in configs]].sum() for s in range(2)]
            np.testing.assert_allclose(posteriors[f"d{i}"].iloc[r].to_numpy(), expected, rtol=1e-10, atol=1e-14)
        if pd.isna(row["c2"]):
            m = weights @ np.array(c2_means)
            sd = np.sqrt(weights @ (np.array(c2_vars) + (np.array(c2_means) - m) ** 2))
            assert posteriors["c2"]["mean"].iloc[r] == pytest.approx(m, rel=1e-10, abs=1e-12)
            assert posteriors["c2"]["std"].iloc[r] == pytest.approx(sd, rel=1e-10)


def test_e_step_of_a_fully_observed_switching_chain_weighs_each_link_by_its_switch():
    net = switching_chain(8, seed=3)
    rows = net.sample(150, seed=8)
    for i in range(8):
        rows[f"d{i}"] = pd.Categorical(rows[f"d{i}"].mask(rows.index % 2 == i % 2), categories=["a", "b"])
    stats, _ = e_step(net, to_dataset(rows, net.domains))
    for i in range(1, 8):
        cpd = net[f"c{i}"]
        posterior, _ = chain_link_by_hand(net, i, rows)
        values = rows[f"c{i}"].to_numpy()
        expected = None
        for s in range(2):  # complete-data statistics with d_i = s, weighted by p(d_i = s | row)
            parents = {f"d{i}": np.full(len(rows), s), f"c{i - 1}": rows[f"c{i - 1}"].to_numpy()}
            part = cpd.statistics(values, parents, weights=posterior[:, s])
            expected = part if expected is None else cpd.merge_statistics(expected, part)
        np.testing.assert_allclose(stats[f"c{i}"], expected, rtol=1e-9, atol=1e-9, err_msg=f"c{i}")
