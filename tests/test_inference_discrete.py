"""Exact inference on discrete networks, checked against brute-force enumeration.

The reference never calls the engine: the full joint of a small network is
built from the CPD tables alone (the chain rule, ``p(x) = prod_i p(xi | pa_i)``)
and every expected value -- posteriors, p(e), joint posteriors, MPE,
log-likelihoods of incomplete rows -- is a sum, slice or argmax of that array.

Two versions of the joint are built: a plain ``itertools.product`` loop and a
vectorised one (each CPD table broadcast into the full joint shape); a test
checks they agree, and the vectorised one is used everywhere else (it also
handles sachs, 3**11 configurations).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

import pgm
import pgm.errors

SMALL = ["asia", "cancer", "earthquake", "survey"]
NAMED = SMALL + ["sachs"]
ATOL = 1e-12  # absolute tolerance on probabilities
N_RANDOM = 40


# ============================================================== the reference


def joint_by_chain_rule(net) -> np.ndarray:
    """The joint as an ndarray (one axis per node, in net.nodes order), one configuration at a time."""
    nodes = list(net.nodes)
    shape = tuple(len(net.states(n)) for n in nodes)
    joint = np.empty(shape)
    for codes in itertools.product(*(range(k) for k in shape)):
        assignment = {node: net.states(node)[c] for node, c in zip(nodes, codes)}
        p = 1.0
        for node in nodes:
            cpd = net[node]
            index = tuple(cpd.parent_states[j].index(assignment[parent]) for j, parent in enumerate(cpd.parents))
            p *= float(cpd.table[index + (cpd.states.index(assignment[node]),)])
        joint[codes] = p
    return joint


def joint_by_broadcasting(net) -> np.ndarray:
    """The same joint, each CPD table transposed and broadcast into the full shape and multiplied in."""
    nodes = list(net.nodes)
    axis = {n: i for i, n in enumerate(nodes)}
    shape = tuple(len(net.states(n)) for n in nodes)
    joint = np.ones(shape)
    for node in nodes:
        cpd = net[node]
        assert tuple(cpd.states) == tuple(net.states(node))
        for parent, parent_states in zip(cpd.parents, cpd.parent_states):
            assert tuple(parent_states) == tuple(net.states(parent))
        family = [axis[p] for p in cpd.parents] + [axis[node]]
        table = np.asarray(cpd.table, dtype=np.float64)
        assert table.shape == tuple(shape[a] for a in family)
        order = np.argsort(family)
        table = np.transpose(table, order)
        expanded = [1] * len(nodes)
        for a in family:
            expanded[a] = shape[a]
        joint = joint * table.reshape(expanded)
    return joint


class Reference:
    """Brute-force answers from the enumerated joint of ``net``."""

    def __init__(self, net):
        self.net = net
        self.nodes = list(net.nodes)
        self.axis = {n: i for i, n in enumerate(self.nodes)}
        self.states = {n: tuple(net.states(n)) for n in self.nodes}
        self.joint = joint_by_broadcasting(net)

    # ---------------------------------------------------------- evidence handling
    def codes(self, frame: pd.DataFrame) -> np.ndarray:
        """(rows, nodes) integer codes, -1 where missing or the column is absent."""
        codes = np.full((len(frame), len(self.nodes)), -1, dtype=np.int64)
        for column in frame.columns:
            i = self.axis[column]
            mapping = {s: j for j, s in enumerate(self.states[column])}
            values = pd.Series(frame[column].astype(object).to_numpy())
            for r, v in enumerate(values):
                if not is_missing(v):
                    codes[r, i] = mapping[v]
        return codes

    def split(self, evidence: Mapping):
        """Hard evidence as one row of codes; soft evidence multiplied into a copy of the joint."""
        codes = np.full((1, len(self.nodes)), -1, dtype=np.int64)
        joint = self.joint
        for node, value in evidence.items():
            if isinstance(value, Mapping):
                weights = np.array([float(value[s]) for s in self.states[node]])
                shape = [1] * len(self.nodes)
                shape[self.axis[node]] = len(weights)
                joint = joint * weights.reshape(shape)
            elif not is_missing(value):
                codes[0, self.axis[node]] = self.states[node].index(value)
        return codes, joint

    # ---------------------------------------------------------- queries
    def batch(self, codes: np.ndarray, targets=(), joint=None):
        """Posteriors of ``targets`` (shape (rows, *cards)) and p(observed) (rows,), per row of codes."""
        joint = self.joint if joint is None else joint
        n = len(self.nodes)
        target_axes = [self.axis[t] for t in targets]
        cards = [len(self.states[t]) for t in targets]
        posterior = np.zeros((len(codes), *cards))
        p_observed = np.zeros(len(codes))
        observed = codes >= 0
        if len(codes) == 0:
            return posterior, p_observed
        patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        for k, pattern in enumerate(patterns):
            rows = np.nonzero(inverse == k)[0]
            obs_axes = [a for a in range(n) if pattern[a]]
            free_targets = [a for a in target_axes if not pattern[a]]
            keep = sorted(set(obs_axes) | set(free_targets))
            marginal = joint.sum(axis=tuple(a for a in range(n) if a not in keep))
            if marginal.ndim == 0:
                marginal = np.asarray(marginal)
            wanted = obs_axes + free_targets
            marginal = np.transpose(marginal, [keep.index(a) for a in wanted]) if keep else marginal
            values = marginal[tuple(codes[rows, a] for a in obs_axes)] if obs_axes else np.broadcast_to(
                marginal, (len(rows), *marginal.shape))
            p = values.reshape(len(rows), -1).sum(axis=1)
            p_observed[rows] = p
            with np.errstate(invalid="ignore", divide="ignore"):
                normalised = values / p.reshape((-1,) + (1,) * (values.ndim - 1))
            index = (rows,) + tuple(
                codes[rows, a] if pattern[a] else slice(None) for a in target_axes
            )
            posterior[index] = normalised
        return posterior, p_observed

    def posterior(self, targets, evidence: Mapping):
        """(posterior array over targets, p(e)) for one case (hard and/or soft evidence)."""
        targets = [targets] if isinstance(targets, str) else list(targets)
        codes, joint = self.split(evidence)
        posterior, p = self.batch(codes, targets, joint)
        return posterior[0], float(p[0])

    def p_evidence(self, evidence: Mapping) -> float:
        return self.posterior([], evidence)[1]

    def mpe(self, evidence: Mapping):
        """(assignment dict over all nodes, max probability, unique?) of the joint restricted to hard evidence."""
        codes, _ = self.split(evidence)
        return self.mpe_codes(codes[0])

    def mpe_codes(self, row_codes):
        index = tuple(int(c) if c >= 0 else slice(None) for c in row_codes)
        restricted = self.joint[index]
        free = [a for a, c in enumerate(row_codes) if c < 0]
        flat = np.asarray(restricted).ravel()
        best = int(np.argmax(flat))
        top = float(flat[best])
        second = float(np.partition(flat, -2)[-2]) if flat.size > 1 else -1.0
        unique = second < top * (1 - 1e-9)
        chosen = np.unravel_index(best, np.asarray(restricted).shape) if free else ()
        codes = [int(c) for c in row_codes]
        for a, c in zip(free, chosen):
            codes[a] = int(c)
        assignment = {node: self.states[node][codes[self.axis[node]]] for node in self.nodes}
        return assignment, top, unique

    def probability_of(self, assignment: Mapping) -> float:
        return float(self.joint[tuple(self.states[n].index(assignment[n]) for n in self.nodes)])


def is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def with_exact_rows(net):
    """The network with every table row divided by its sum.

    sachs.bif rounds its tables (rows sum to 1 +- 1e-7), so its "joint" sums to 1 + 4e-9 and a 1e-12
    comparison would depend on implementation choices (pruning barren nodes assumes rows sum to one).
    Exact checks use the re-normalised network; test_raw_sachs_within_the_rounding_of_its_tables covers
    the file as loaded, with a tolerance that reflects the rounding.
    """
    cpds = {}
    for node in net.nodes:
        cpd = net[node]
        table = np.asarray(cpd.table, dtype=np.float64)
        cpds[node] = pgm.Categorical(cpd.states, parents=cpd.parents, table=table / table.sum(axis=-1, keepdims=True))
    return pgm.BayesianNetwork(cpds, name=net.name)


@functools.lru_cache(maxsize=None)
def named(name):
    net = pgm.load(name)
    if max(np.abs(net[n].table.sum(axis=-1) - 1).max() for n in net.nodes) > 1e-14:
        net = with_exact_rows(net)
    return net, Reference(net)


def log(p):
    with np.errstate(divide="ignore"):
        return np.log(p)


# ============================================================== random networks and data


def random_network(seed: int, *, max_nodes: int = 12, max_configurations: int = 1 << 16):
    """A random discrete DAG: 2..max_nodes nodes, 2-4 states, <= 3 parents, Dirichlet tables, some zeros."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, max_nodes + 1))
    cards = [int(c) for c in rng.integers(2, 5, size=n)]
    while math.prod(cards) > max_configurations:
        cards[int(np.argmax(cards))] -= 1
    names = [f"n{i}" for i in range(n)]
    state_style = rng.integers(0, 3, size=n)
    cpds = {}
    for i in range(n):
        k = int(rng.integers(0, min(3, i) + 1))
        parents = [int(p) for p in rng.choice(i, size=k, replace=False)] if k else []
        if state_style[i] == 0:
            states = [f"s{j}" for j in range(cards[i])]
        elif state_style[i] == 1:
            states = [f"{names[i]}={j}" for j in range(cards[i])]
        else:
            states = ["low", "mid", "high", "max"][: cards[i]][::-1]
        rows = math.prod(cards[p] for p in parents)
        alpha = float(rng.choice([0.3, 1.0, 5.0]))
        table = rng.dirichlet(np.full(cards[i], alpha), size=rows)
        if rng.random() < 0.4:  # structural zeros, at least one positive entry per row
            zero = rng.random(table.shape) < 0.3
            zero[np.arange(rows), rng.integers(0, cards[i], size=rows)] = False
            table[zero] = 0.0
            table /= table.sum(axis=1, keepdims=True)
        table = table.reshape([cards[p] for p in parents] + [cards[i]])
        cpds[names[i]] = pgm.Categorical(states, parents=[names[p] for p in parents], table=table)
    order = rng.permutation(n)  # declaration order differs from the topological one
    return pgm.BayesianNetwork({names[i]: cpds[names[i]] for i in order}, name=f"random{seed}")


@functools.lru_cache(maxsize=None)
def random_case(seed):
    net = random_network(seed)
    return net, Reference(net)


def random_evidence(net, rng, max_nodes=4):
    """Hard evidence on 0..max_nodes nodes, taken from a sampled row (so p(e) > 0)."""
    row = net.sample(1, seed=int(rng.integers(2**31)))
    m = int(rng.integers(0, min(max_nodes, len(net.nodes)) + 1))
    chosen = sorted(int(i) for i in rng.choice(len(net.nodes), size=m, replace=False))
    return {net.nodes[i]: str(row[net.nodes[i]].iloc[0]) for i in chosen}


def hide(frame: pd.DataFrame, rng, fraction=0.3, drop=()) -> pd.DataFrame:
    """A copy with ``fraction`` of the cells missing (NaN in categorical columns, None/NaN in object ones)."""
    out = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        if column in drop:
            continue
        mask = rng.random(len(frame)) < fraction
        if rng.random() < 0.5:
            out[column] = frame[column].where(~mask)
        else:
            values = frame[column].astype(object).to_numpy().copy()
            filler = np.where(rng.random(len(frame)) < 0.5, None, np.nan)
            values[mask] = filler[mask]
            out[column] = pd.Series(values, index=frame.index, dtype=object)
    return out


def row_evidence(frame: pd.DataFrame, label) -> dict:
    row = frame.loc[label]
    return {column: row[column] for column in frame.columns if not is_missing(row[column])}


def check_distribution(dist, net, targets, expected, log_pe=None):
    targets = [targets] if isinstance(targets, str) else list(targets)
    assert isinstance(dist, pgm.DiscreteDistribution)
    assert tuple(dist.variables) == tuple(targets)
    assert {v: tuple(dist.states[v]) for v in targets} == {v: tuple(net.states(v)) for v in targets}
    probabilities = np.asarray(dist.probabilities)
    assert probabilities.shape == expected.shape
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=ATOL, err_msg=f"targets {targets}")
    assert probabilities.sum() == pytest.approx(1.0, abs=ATOL)
    if log_pe is not None:
        assert float(dist.log_evidence) == pytest.approx(log_pe, rel=1e-12, abs=1e-12)


# ============================================================== the reference itself


@pytest.mark.parametrize("name", SMALL)
def test_vectorised_reference_equals_the_chain_rule_loop(name):
    net, ref = named(name)
    np.testing.assert_allclose(ref.joint, joint_by_chain_rule(net), rtol=1e-15, atol=0)
    assert math.fsum(ref.joint.ravel()) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(0, N_RANDOM, 8))
def test_vectorised_reference_equals_the_chain_rule_loop_on_random_networks(seed):
    net = random_network(seed, max_nodes=7)
    np.testing.assert_allclose(joint_by_broadcasting(net), joint_by_chain_rule(net), rtol=1e-15, atol=0)


def test_sachs_reference_is_a_distribution():
    _, ref = named("sachs")
    assert ref.joint.shape == (3,) * 11
    assert math.fsum(ref.joint.ravel()) == pytest.approx(1.0, abs=1e-12)


# ============================================================== 1. single-variable posteriors


@pytest.mark.parametrize("case", range(6))
@pytest.mark.parametrize("name", NAMED)
def test_single_variable_posteriors_match_enumeration(name, case):
    net, ref = named(name)
    rng = np.random.default_rng([NAMED.index(name), case])
    evidence = random_evidence(net, rng)
    p_e = ref.p_evidence(evidence)
    assert p_e > 0
    for node in net.nodes:
        expected, _ = ref.posterior(node, evidence)
        dist = net.query(node, evidence=evidence)
        check_distribution(dist, net, node, expected, log_pe=math.log(p_e))
    assert float(net.log_evidence(evidence)) == pytest.approx(math.log(p_e), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", NAMED)
def test_no_evidence_gives_the_prior_marginals_and_log_evidence_near_zero(name):
    net, ref = named(name)
    for node in net.nodes:
        expected, _ = ref.posterior(node, {})
        check_distribution(net.query(node), net, node, expected)
        assert net.query(node).log_evidence == pytest.approx(0.0, abs=1e-12)
        check_distribution(net.query(node, evidence=None, method="exact"), net, node, expected)


def test_missing_values_in_a_single_case_are_unobserved():
    net, ref = named("asia")
    evidence = {"xray": None, "smoke": np.nan, "bronc": pd.NA, "asia": "yes"}
    expected, p_e = ref.posterior("dysp", {"asia": "yes"})
    check_distribution(net.query("dysp", evidence=evidence), net, "dysp", expected, log_pe=math.log(p_e))


def test_a_series_is_a_single_case():
    net, ref = named("survey")
    evidence = pd.Series({"A": "adult", "E": np.nan, "T": "train"})
    expected, p_e = ref.posterior("O", {"A": "adult", "T": "train"})
    check_distribution(net.query("O", evidence=evidence), net, "O", expected, log_pe=math.log(p_e))


@pytest.mark.parametrize("case", range(3))
def test_raw_sachs_within_the_rounding_of_its_tables(case):
    net = pgm.load("sachs")
    ref = Reference(net)
    rng = np.random.default_rng([50, case])
    evidence = random_evidence(net, rng)
    p_e = ref.p_evidence(evidence) / ref.p_evidence({})
    for node in net.nodes:
        expected, _ = ref.posterior(node, evidence)
        dist = net.query(node, evidence=evidence)
        np.testing.assert_allclose(np.asarray(dist.probabilities), expected, rtol=0, atol=1e-6)
        assert float(dist.log_evidence) == pytest.approx(math.log(p_e), abs=1e-6)


# ============================================================== 2. joint queries


@pytest.mark.parametrize("case", range(4))
@pytest.mark.parametrize("name", NAMED)
def test_joint_query_of_two_nodes_matches_enumeration(name, case):
    net, ref = named(name)
    rng = np.random.default_rng([100 + NAMED.index(name), case])
    evidence = random_evidence(net, rng, max_nodes=3)
    a, b = (net.nodes[i] for i in rng.choice(len(net.nodes), size=2, replace=False))
    expected, p_e = ref.posterior([a, b], evidence)
    dist = net.query([a, b], evidence=evidence)
    check_distribution(dist, net, [a, b], expected, log_pe=math.log(p_e))

    # marginal
    check_distribution(dist.marginal([a]), net, [a], expected.sum(axis=1))
    check_distribution(dist.marginal([b]), net, [b], expected.sum(axis=0))

    # condition on b's most probable state (positive probability)
    j = int(np.argmax(expected.sum(axis=0)))
    b_state = net.states(b)[j]
    conditioned = dist.condition({b: b_state})
    check_distribution(conditioned, net, [a], expected[:, j] / expected[:, j].sum())

    # to_frame: one row per configuration, column "probability", MultiIndex of states
    frame = dist.to_frame()
    ka, kb = len(net.states(a)), len(net.states(b))
    assert frame.shape == (ka * kb, 1)
    assert list(frame.columns) == ["probability"]
    assert isinstance(frame.index, pd.MultiIndex) and frame.index.nlevels == 2
    assert set(frame.index.tolist()) == set(itertools.product(net.states(a), net.states(b)))
    for (sa, sb), p in frame["probability"].items():
        assert p == pytest.approx(expected[net.states(a).index(sa), net.states(b).index(sb)], abs=ATOL)

    # to_series of a one-variable distribution: index = states
    series = dist.marginal([a]).to_series()
    assert tuple(series.index) == tuple(net.states(a))
    np.testing.assert_allclose(series.to_numpy(dtype=float), expected.sum(axis=1), rtol=0, atol=ATOL)

    # mode (when unique)
    flat = np.sort(expected.ravel())
    if flat[-1] - flat[-2] > 1e-9:
        i, k = np.unravel_index(int(np.argmax(expected)), expected.shape)
        assert tuple(dist.mode()) == (net.states(a)[i], net.states(b)[k])
    marginal_a = np.sort(expected.sum(axis=1))
    if marginal_a[-1] - marginal_a[-2] > 1e-9:
        mode = dist.marginal([a]).mode()
        assert isinstance(mode, str)
        assert mode == net.states(a)[int(np.argmax(expected.sum(axis=1)))]


def test_joint_query_of_three_nodes_on_survey():
    net, ref = named("survey")
    evidence = {"T": "other"}
    expected, p_e = ref.posterior(["E", "A", "R"], evidence)
    dist = net.query(["E", "A", "R"], evidence=evidence)
    check_distribution(dist, net, ["E", "A", "R"], expected, log_pe=math.log(p_e))
    check_distribution(dist.marginal(["E", "R"]), net, ["E", "R"], expected.sum(axis=1))
    cond = dist.condition({"A": "old"})
    sub = expected[:, net.states("A").index("old"), :]
    check_distribution(cond, net, ["E", "R"], sub / sub.sum())
    assert len(dist.to_frame()) == expected.size


def test_str_of_a_distribution_shows_states_and_probabilities():
    net, ref = named("asia")
    dist = net.query("lung", evidence={"smoke": "yes"})  # p(lung | smoke=yes) = (0.1, 0.9) in asia.bif
    np.testing.assert_allclose(ref.posterior("lung", {"smoke": "yes"})[0], [0.1, 0.9], atol=1e-15)
    text = str(dist)
    for state in net.states("lung"):
        assert state in text
    assert "0.1" in text and "0.9" in text


# ============================================================== 3. posteriors, single case


@pytest.mark.parametrize("case", range(3))
@pytest.mark.parametrize("name", NAMED)
def test_posteriors_single_case_match_enumeration(name, case):
    net, ref = named(name)
    rng = np.random.default_rng([200 + NAMED.index(name), case])
    evidence = random_evidence(net, rng)
    posteriors = net.posteriors(evidence)
    assert set(posteriors) == set(net.nodes) - set(evidence)
    for node, dist in posteriors.items():
        expected, p_e = ref.posterior(node, evidence)
        check_distribution(dist, net, node, expected)


# ============================================================== 4. random networks


@pytest.mark.parametrize("seed", range(N_RANDOM))
def test_random_network_against_enumeration(seed):
    net, ref = random_case(seed)
    rng = np.random.default_rng([300, seed])
    evidence = random_evidence(net, rng)
    p_e = ref.p_evidence(evidence)
    assert p_e > 0

    # every posterior
    posteriors = net.posteriors(evidence)
    assert set(posteriors) == set(net.nodes) - set(evidence)
    for node, dist in posteriors.items():
        expected, _ = ref.posterior(node, evidence)
        check_distribution(dist, net, node, expected)

    # p(e)
    assert float(net.log_evidence(evidence)) == pytest.approx(math.log(p_e), rel=1e-12, abs=1e-12)

    # a joint query of two nodes
    a, b = (net.nodes[i] for i in rng.choice(len(net.nodes), size=2, replace=False))
    expected, _ = ref.posterior([a, b], evidence)
    check_distribution(net.query([a, b], evidence=evidence), net, [a, b], expected, log_pe=math.log(p_e))

    # MPE
    check_mpe(net, ref, evidence)

    # log-likelihood of incomplete rows
    rows = hide(net.sample(20, seed=int(rng.integers(2**31))), rng)
    codes = ref.codes(rows)
    _, p_rows = ref.batch(codes)
    np.testing.assert_allclose(net.log_likelihood(rows), log(p_rows), rtol=1e-12, atol=1e-12)


def check_mpe(net, ref, evidence):
    mpe = net.mpe(evidence)
    assert isinstance(mpe, pgm.MPE)
    assignment, top, unique = ref.mpe(evidence)
    assert set(mpe.assignment) == set(net.nodes)
    for node, state in evidence.items():
        assert mpe.assignment[node] == state
    if unique:
        assert dict(mpe.assignment) == assignment
    else:  # a tie: the returned assignment must reach the maximum
        assert ref.probability_of(mpe.assignment) == pytest.approx(top, rel=1e-12)
    assert float(mpe.log_probability) == pytest.approx(math.log(top), rel=1e-12, abs=1e-12)


# ============================================================== 5. MPE


@pytest.mark.parametrize("case", range(4))
@pytest.mark.parametrize("name", NAMED)
def test_mpe_single_case_is_the_enumerated_argmax(name, case):
    net, ref = named(name)
    rng = np.random.default_rng([400 + NAMED.index(name), case])
    evidence = random_evidence(net, rng) if case else {}
    check_mpe(net, ref, evidence)


@pytest.mark.parametrize("source", ["asia", "survey", "random"])
def test_batched_mpe_equals_single_case_mpe_row_by_row(source):
    net, ref = random_case(7) if source == "random" else named(source)
    rng = np.random.default_rng([500, len(source)])
    frame = hide(net.sample(120, seed=11), rng, fraction=0.4)
    frame.index = [f"r{i}" for i in rng.permutation(len(frame))]
    batched = net.mpe(frame)
    assert isinstance(batched, pgm.MPE)
    assignment = batched.assignment
    assert isinstance(assignment, pd.DataFrame)
    assert set(assignment.columns) == set(net.nodes)
    assert len(assignment) == len(frame)
    log_probability = np.asarray(batched.log_probability, dtype=float)
    assert log_probability.shape == (len(frame),)
    codes = ref.codes(frame)
    for position, label in enumerate(frame.index):
        single = net.mpe(row_evidence(frame, label))
        row = {node: str(assignment[node].iloc[position]) for node in net.nodes}
        assert row == dict(single.assignment), label
        assert log_probability[position] == pytest.approx(float(single.log_probability), rel=1e-12, abs=1e-12)
        expected, top, unique = ref.mpe_codes(codes[position])
        if unique:
            assert row == expected, label
        assert log_probability[position] == pytest.approx(math.log(top), rel=1e-12, abs=1e-12)


# ============================================================== 6. incomplete rows


@pytest.mark.parametrize("drop_column", [False, True])
@pytest.mark.parametrize("name", NAMED)
def test_log_likelihood_of_incomplete_rows_is_the_log_marginal_of_the_observed_part(name, drop_column):
    net, ref = named(name)
    rng = np.random.default_rng([600 + NAMED.index(name), drop_column])
    complete = net.sample(60, seed=13)
    drop = (net.nodes[int(rng.integers(len(net.nodes)))],) if drop_column else ()
    frame = hide(complete, rng, drop=drop)
    for column in frame.columns:  # a few complete rows (complete when nothing is dropped)
        frame[column] = frame[column].astype(object)
        frame.loc[frame.index[:5], column] = complete[column].iloc[:5].astype(object).to_numpy()
    _, p = ref.batch(ref.codes(frame))
    result = net.log_likelihood(frame)
    assert result.shape == (len(frame),)
    np.testing.assert_allclose(result, log(p), rtol=1e-12, atol=1e-12)
    if not drop_column:  # complete rows: the chain rule, as before
        chain = [ref.probability_of(complete.iloc[i].astype(str).to_dict()) for i in range(5)]
        np.testing.assert_allclose(result[:5], np.log(chain), rtol=1e-13, atol=0)


def test_log_likelihood_of_complete_rows_is_unchanged():
    net, ref = named("survey")
    rows = net.sample(200, seed=3)
    expected = [math.log(ref.probability_of(rows.iloc[i].astype(str).to_dict())) for i in range(len(rows))]
    np.testing.assert_allclose(net.log_likelihood(rows), expected, rtol=1e-13, atol=0)


def test_impossible_incomplete_rows_score_minus_infinity():
    net, ref = named("asia")
    rng = np.random.default_rng(77)
    frame = hide(net.sample(40, seed=5), rng)
    frame = frame.astype(object)
    impossible = np.arange(len(frame)) % 3 == 0
    frame.loc[impossible, "tub"] = "yes"
    frame.loc[impossible, "either"] = "no"
    result = net.log_likelihood(frame)
    assert np.all(np.isneginf(result[impossible]))
    _, p = ref.batch(ref.codes(frame))
    assert np.all(p[impossible] == 0)
    np.testing.assert_allclose(result[~impossible], np.log(p[~impossible]), rtol=1e-12, atol=1e-12)
    # with only tub and either observed
    only = pd.DataFrame({"tub": ["yes", "yes", None], "either": ["no", "yes", "no"]})
    result = net.log_likelihood(only)
    assert np.isneginf(result[0])
    assert result[1] == pytest.approx(math.log(ref.p_evidence({"tub": "yes", "either": "yes"})), rel=1e-12)
    assert result[2] == pytest.approx(math.log(ref.p_evidence({"either": "no"})), rel=1e-12)


def test_pd_na_is_missing_in_batched_data():
    net, ref = named("cancer")
    frame = pd.DataFrame({"Smoker": pd.array(["True", pd.NA, "False"], dtype="string"),
                          "Xray": ["positive", "negative", None]})
    _, p = ref.batch(ref.codes(frame.astype(object)))
    np.testing.assert_allclose(net.log_likelihood(frame), np.log(p), rtol=1e-12, atol=1e-12)


# ============================================================== 7. batched vs one at a time


@functools.lru_cache(maxsize=None)
def batch_case(source):
    if source == "random":
        net, ref = random_case(7)  # 12 nodes
        assert len(net.nodes) >= 10
    else:
        net, ref = named(source)
    rng = np.random.default_rng([700, len(source)])
    complete = net.sample(1200, seed=17)
    frame = hide(complete, rng)
    if source == "asia":
        frame.index = pd.Index([f"case-{i:04d}" for i in rng.permutation(len(frame))])
    else:
        frame.index = pd.Index(rng.permutation(len(frame)) + 1000)
    return net, ref, frame, ref.codes(frame)


BATCH_SOURCES = ["asia", "survey", "random"]


@functools.lru_cache(maxsize=None)
def batch_reference(source, targets: tuple):
    """Enumerated posteriors of ``targets`` and p(observed) for every row of the batch (cached: the
    enumeration is the slow part of these tests, not the engine)."""
    _, ref, _, codes = batch_case(source)
    return ref.batch(codes, list(targets))


@pytest.mark.parametrize("source", BATCH_SOURCES)
def test_batched_query_equals_enumeration_and_single_case_queries(source):
    net, ref, frame, codes = batch_case(source)
    rng = np.random.default_rng([710, len(source)])
    subset = rng.choice(len(frame), size=50, replace=False)
    for target in net.nodes:
        result = net.query(target, evidence=frame)
        assert isinstance(result, pd.DataFrame)
        assert result.index.equals(frame.index)
        assert list(result.columns) == list(net.states(target))
        expected, p = batch_reference(source, (target,))
        assert np.all(p > 0)
        np.testing.assert_allclose(result.to_numpy(dtype=float), expected, rtol=1e-12, atol=1e-14,
                                   err_msg=f"target {target}")
        for k, position in enumerate(subset):
            label = frame.index[position]
            evidence = row_evidence(frame, label) if k % 2 else frame.loc[label]  # dict or Series
            single = net.query(target, evidence=evidence)
            np.testing.assert_allclose(result.loc[label].to_numpy(dtype=float), np.asarray(single.probabilities),
                                       rtol=1e-12, atol=1e-14, err_msg=f"target {target}, row {label}")


@pytest.mark.parametrize("source", BATCH_SOURCES)
def test_batched_log_evidence_equals_log_likelihood_and_enumeration(source):
    net, ref, frame, codes = batch_case(source)
    _, p = batch_reference(source, ())
    log_evidence = np.asarray(net.log_evidence(frame), dtype=float)
    assert log_evidence.shape == (len(frame),)
    np.testing.assert_allclose(log_evidence, np.log(p), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.log_likelihood(frame), np.log(p), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("source", BATCH_SOURCES)
def test_batched_posteriors_cover_every_node(source):
    net, ref, frame, codes = batch_case(source)
    posteriors = net.posteriors(frame)
    assert set(posteriors) == set(net.nodes)
    for node, result in posteriors.items():
        assert result.index.equals(frame.index)
        assert list(result.columns) == list(net.states(node))
        expected, _ = batch_reference(source, (node,))
        np.testing.assert_allclose(result.to_numpy(dtype=float), expected, rtol=1e-12, atol=1e-14,
                                   err_msg=f"node {node}")


@pytest.mark.parametrize("source", BATCH_SOURCES)
def test_predict_is_the_argmax_of_the_posteriors(source):
    net, ref, frame, codes = batch_case(source)
    for target in net.nodes:
        predicted = net.predict(frame, target)
        assert isinstance(predicted, pd.Series)
        assert predicted.index.equals(frame.index)
        expected, _ = batch_reference(source, (target,))
        ordered = np.sort(expected, axis=1)
        clear = ordered[:, -1] - ordered[:, -2] > 1e-9
        argmax = np.array(net.states(target), dtype=object)[np.argmax(expected, axis=1)]
        got = predicted.astype(object).to_numpy()
        assert np.all(got[clear] == argmax[clear]), target
    several = net.predict(frame, list(net.nodes[:2]))
    assert isinstance(several, pd.DataFrame)
    assert list(several.columns) == list(net.nodes[:2])
    assert several.index.equals(frame.index)


@pytest.mark.parametrize("source", BATCH_SOURCES)
def test_impute_fills_only_the_missing_cells(source):
    net, ref, frame, codes = batch_case(source)
    dropped = frame.drop(columns=[net.nodes[-1]])
    before = dropped.copy()
    imputed = net.impute(dropped)
    pd.testing.assert_frame_equal(dropped, before)  # the input is not modified
    assert set(imputed.columns) == set(net.nodes)
    assert imputed.index.equals(frame.index)
    codes = ref.codes(dropped)
    checked = 300  # enumerated argmax for the first rows (the slow part is the reference, not the engine)
    for node in net.nodes:
        values = imputed[node].astype(object).to_numpy()
        assert not any(is_missing(v) for v in values), node
        assert set(values) <= set(net.states(node))
        axis = ref.axis[node]
        observed = codes[:, axis] >= 0
        original = np.array(net.states(node), dtype=object)[codes[observed, axis]]
        assert np.all(values[observed] == original), node
        expected, _ = ref.batch(codes[:checked], [node])
        ordered = np.sort(expected, axis=1)
        clear = (~observed[:checked]) & (ordered[:, -1] - ordered[:, -2] > 1e-9)
        argmax = np.array(net.states(node), dtype=object)[np.argmax(expected, axis=1)]
        assert np.all(values[:checked][clear] == argmax[clear]), node


def test_batched_joint_query_has_one_column_level_per_target():
    net, ref, frame, codes = batch_case("survey")
    frame = frame.iloc[:300]
    codes = codes[:300]
    result = net.query(["E", "T"], evidence=frame)
    assert isinstance(result, pd.DataFrame)
    assert result.index.equals(frame.index)
    assert isinstance(result.columns, pd.MultiIndex) and result.columns.nlevels == 2
    expected, _ = ref.batch(codes, ["E", "T"])
    for i, e in enumerate(net.states("E")):
        for j, t in enumerate(net.states("T")):
            np.testing.assert_allclose(result[(e, t)].to_numpy(dtype=float), expected[:, i, j],
                                       rtol=1e-12, atol=1e-14)


def test_batched_evidence_as_a_dict_of_columns():
    net, ref = named("asia")
    columns = {"smoke": ["yes", "no", None, "yes"], "xray": ["no", None, "yes", "yes"]}
    result = net.query("lung", evidence=columns)
    assert isinstance(result, pd.DataFrame) and len(result) == 4
    expected, _ = ref.batch(ref.codes(pd.DataFrame(columns)), ["lung"])
    np.testing.assert_allclose(result.to_numpy(dtype=float), expected, rtol=1e-12, atol=1e-14)


# ============================================================== 8. soft evidence


SOFT_CASES = [
    {"xray": {"yes": 0.9, "no": 0.2}},
    {"xray": {"no": 0.2, "yes": 0.9}},  # listed in another order
    {"xray": {"yes": 0.9, "no": 0.2}, "smoke": "yes"},
    {"xray": {"yes": 0.9, "no": 0.2}, "dysp": {"yes": 0.3, "no": 0.6}, "asia": "yes"},
    {"either": {"yes": 1.0, "no": 0.0}, "bronc": "no"},
]


@pytest.mark.parametrize("case", range(len(SOFT_CASES)))
def test_soft_evidence_matches_enumeration_with_the_likelihood_multiplied_in(case):
    net, ref = named("asia")
    evidence = SOFT_CASES[case]
    hard = {n for n, v in evidence.items() if not isinstance(v, Mapping)}
    posteriors = net.posteriors(evidence)
    assert set(posteriors) == set(net.nodes) - hard  # soft-evidence nodes are included
    for node in net.nodes:
        expected, _ = ref.posterior(node, evidence)
        check_distribution(net.query(node, evidence=evidence), net, node, expected)
        if node not in hard:
            check_distribution(posteriors[node], net, node, expected)
    expected, _ = ref.posterior(["lung", "tub"], evidence)
    check_distribution(net.query(["lung", "tub"], evidence=evidence), net, ["lung", "tub"], expected)


def test_soft_evidence_log_evidence_is_the_log_of_the_weighted_sum():
    net, ref = named("asia")
    evidence = {"xray": {"yes": 0.9, "no": 0.2}, "smoke": "yes"}
    _, p = ref.posterior("dysp", evidence)
    assert float(net.query("dysp", evidence=evidence).log_evidence) == pytest.approx(math.log(p), rel=1e-12)


def test_zero_one_soft_evidence_equals_hard_evidence():
    net, ref = named("asia")
    soft = net.posteriors({"xray": {"yes": 0.0, "no": 1.0}})
    hard = net.posteriors({"xray": "no"})
    for node in hard:
        np.testing.assert_allclose(soft[node].probabilities, hard[node].probabilities, rtol=0, atol=ATOL)


# ============================================================== 9. errors


def test_unknown_evidence_node_is_named():
    net, _ = named("asia")
    with pytest.raises(pgm.errors.NodeError, match="nonexistent"):
        net.query("dysp", evidence={"nonexistent": "yes"})


def test_unknown_target_is_named():
    net, _ = named("asia")
    with pytest.raises(pgm.errors.NodeError, match="nonexistent"):
        net.query("nonexistent", evidence={"smoke": "yes"})
    with pytest.raises(pgm.errors.NodeError, match="ghost"):
        net.query(["dysp", "ghost"])


def test_a_value_that_is_not_a_state_names_node_value_and_states():
    net, _ = named("asia")
    with pytest.raises(pgm.errors.DataError) as info:
        net.query("dysp", evidence={"smoke": "sometimes"})
    message = str(info.value)
    assert "smoke" in message and "sometimes" in message
    assert "yes" in message and "no" in message


@pytest.mark.parametrize("weights", [
    {"yes": -0.1, "no": 1.0},         # negative
    {"yes": 0.9},                     # a state missing
    {"yes": 0.5, "no": 0.5, "maybe": 0.1},  # an unknown state
    {"yes": 0.0, "no": 0.0},          # all zero
], ids=["negative", "missing-state", "unknown-state", "all-zero"])
def test_bad_soft_evidence_is_refused_naming_the_node(weights):
    net, _ = named("asia")
    with pytest.raises(pgm.errors.DataError, match="xray"):
        net.query("dysp", evidence={"xray": weights})


@pytest.mark.parametrize("evidence", [
    {"tub": "yes", "either": "no"},
    {"tub": "yes", "either": {"yes": 0.0, "no": 1.0}},
], ids=["hard", "soft"])
def test_impossible_single_case_evidence(evidence):
    net, _ = named("asia")
    error = pgm.errors.ImpossibleEvidenceError
    assert issubclass(error, pgm.errors.PGMError) and issubclass(error, ValueError)
    with pytest.raises(error, match=r"p\(e\) = 0"):
        net.query("dysp", evidence=evidence)
    with pytest.raises(error, match=r"p\(e\) = 0"):
        net.posteriors(evidence)
    with pytest.raises(error, match=r"p\(e\) = 0"):
        net.query(["dysp", "lung"], evidence=evidence)


def test_impossible_row_in_a_batch_is_named_but_scores_minus_infinity():
    net, ref = named("asia")
    frame = pd.DataFrame({"tub": ["no", "yes", "yes"], "either": ["no", "yes", "no"]},
                         index=["first", "second", "bad-row"])
    with pytest.raises(pgm.errors.ImpossibleEvidenceError, match="bad-row"):
        net.query("dysp", evidence=frame)
    with pytest.raises(pgm.errors.ImpossibleEvidenceError, match="bad-row"):
        net.posteriors(frame)
    result = net.log_likelihood(frame)
    assert np.isneginf(result[2])
    assert result[0] == pytest.approx(math.log(ref.p_evidence({"tub": "no", "either": "no"})), rel=1e-12)
    assert result[1] == pytest.approx(math.log(ref.p_evidence({"tub": "yes", "either": "yes"})), rel=1e-12)


def test_evidence_on_the_query_node_gives_a_point_mass():
    net, ref = named("asia")
    dist = net.query("xray", evidence={"xray": "no", "smoke": "yes"})
    np.testing.assert_array_equal(np.asarray(dist.probabilities), [0.0, 1.0])
    assert dist.log_evidence == pytest.approx(math.log(ref.p_evidence({"xray": "no", "smoke": "yes"})), rel=1e-12)
    joint = net.query(["xray", "dysp"], evidence={"xray": "no"})
    expected, _ = ref.posterior(["xray", "dysp"], {"xray": "no"})
    check_distribution(joint, net, ["xray", "dysp"], expected)
    assert np.all(np.asarray(joint.probabilities)[0] == 0.0)


# ============================================================== 10. memory budget and plans


BUDGET = 1 << 20


@functools.lru_cache(maxsize=None)
def banded_network():
    """26 four-state roots; binary children with 3 roots each, chosen so that every two roots at most 10
    apart share a child.  The moral graph contains 11 consecutive roots as a clique, so every junction
    tree has a clique of >= 11 four-state nodes: >= 4**11 entries (32 MiB in float64)."""
    rng = np.random.default_rng(99)
    roots = [f"R{i:02d}" for i in range(26)]
    cpds = {r: pgm.Categorical(["a", "b", "c", "d"], table=rng.dirichlet(np.ones(4))) for r in roots}
    children = []
    for i in range(26):
        for d in (1, 3, 5, 7, 9):  # covers (i, i+d) and (i, i+d+1) for d+1 <= 10
            if i + d >= 26:
                continue
            parents = [roots[i], roots[i + d]] + ([roots[i + d + 1]] if i + d + 1 < 26 else [])
            name = f"C{i:02d}_{d}"
            shape = [4] * len(parents) + [2]
            cpds[name] = pgm.Categorical(["s0", "s1"], parents=parents,
                                         table=rng.dirichlet(np.ones(2), size=4 ** len(parents)).reshape(shape))
            children.append(name)
    net = pgm.BayesianNetwork(cpds, name="banded")
    # the claimed clique is really there
    moral = net.moral_graph()
    for i in range(26):
        for j in range(i + 1, min(i + 11, 26)):
            assert moral.has_edge(roots[i], roots[j])
    return net, children


def budget_in(message: str) -> bool:
    return any(form in message for form in ("1048576", "1,048,576", "1.0 MiB", "1 MiB", "1.00 MiB", "1024 KiB",
                                            "1024.0 KiB"))


def test_a_query_needing_a_huge_clique_is_refused():
    net, children = banded_network()
    evidence = {c: "s0" for c in children}
    assert issubclass(pgm.errors.InferenceTooLarge, MemoryError)
    with pytest.raises(pgm.errors.InferenceTooLarge) as info:
        net.query("R12", evidence=evidence, memory_budget=BUDGET)
    message = str(info.value)
    assert "bytes" in message or "GiB" in message or "MiB" in message
    assert budget_in(message), message
    with pytest.raises(pgm.errors.InferenceTooLarge):
        net.posteriors(evidence, memory_budget=BUDGET)


def test_the_plan_of_the_banded_network_exceeds_the_budget():
    net, children = banded_network()
    plan = net.inference_plan(["R12"], {c: "s0" for c in children})
    assert isinstance(plan, pgm.InferencePlan)
    assert plan.largest_table_entries >= 4 ** 11
    assert plan.largest_table_bytes > BUDGET
    assert plan.largest_table_bytes >= plan.largest_table_entries
    # without evidence each posterior needs only its node's ancestors: the relevant parts are small
    full = net.inference_plan()
    assert full.trees > 1 and full.largest_table_bytes < BUDGET


def test_a_tiny_budget_refuses_even_asia_and_a_fair_one_does_not():
    net, ref = named("asia")
    with pytest.raises(pgm.errors.InferenceTooLarge):
        net.query("dysp", evidence={"smoke": "yes"}, memory_budget=16)
    expected, _ = ref.posterior("dysp", {"smoke": "yes"})
    check_distribution(net.query("dysp", evidence={"smoke": "yes"}, memory_budget=BUDGET), net, "dysp", expected)
    assert pgm.inference.DEFAULT_MEMORY_BUDGET == 1 << 30


def test_asia_plan_cliques_cover_every_family():
    net, _ = named("asia")
    plan = net.inference_plan()
    assert isinstance(plan, pgm.InferencePlan)
    cliques = [set(c) for c in plan.cliques]
    assert all(set(c) <= set(net.nodes) for c in cliques)
    for node in net.nodes:
        family = {node, *net.parents(node)}
        assert any(family <= c for c in cliques), f"no clique holds the family of {node}: {sorted(family)}"
    assert set(plan.order) <= set(net.nodes)
    biggest = max(math.prod(len(net.states(n)) for n in c) for c in cliques)
    assert plan.largest_table_entries >= biggest
    assert plan.largest_table_bytes >= plan.largest_table_entries
    assert isinstance(repr(plan), str) and repr(plan)
