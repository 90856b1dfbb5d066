"""General laws checked on random networks: the Markov properties, additivity
of statistics, per-row scoring against a plain-Python reference, exact round
trips through files."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgm
from pgm import BayesianNetwork, Categorical


def random_specs(seed: int, n_nodes: int = 12, max_parents: int = 3, state_names=None) -> dict:
    """Each node's (states, parents, table) exactly as declared: the raw numbers, before pgm sees them."""
    rng = np.random.default_rng(seed)
    specs = {}
    names = [f"n{i}" for i in range(n_nodes)]
    cards = {}
    for i, name in enumerate(names):
        k = int(rng.integers(2, 5))
        cards[name] = k
        parents = [names[j] for j in rng.choice(i, size=min(i, int(rng.integers(0, max_parents + 1))), replace=False)]
        shape = tuple(cards[p] for p in parents) + (k,)
        table = rng.dirichlet(np.full(k, 0.7), size=int(np.prod(shape[:-1], dtype=int))).reshape(shape)
        states = [state_names(name, s) if state_names else f"s{s}" for s in range(k)]
        specs[name] = (states, parents, table)
    order = rng.permutation(n_nodes)  # declaration order need not be topological
    return {names[i]: specs[names[i]] for i in order}


def random_network(seed: int, n_nodes: int = 12, max_parents: int = 3, state_names=None) -> BayesianNetwork:
    specs = random_specs(seed, n_nodes, max_parents, state_names)
    cpds = {name: Categorical(states, parents=parents, table=table) for name, (states, parents, table) in specs.items()}
    return BayesianNetwork(cpds, name=f"random{seed}")


@pytest.mark.parametrize("seed", range(10))
def test_local_markov_property_holds_by_d_separation(seed):
    net = random_network(seed)
    for node in net.nodes:
        parents = set(net.parents(node))
        others = set(net.nodes) - net.descendants(node) - parents - {node}
        if others:
            assert net.is_d_separated(node, others, given=parents)


@pytest.mark.parametrize("seed", range(10))
def test_markov_blanket_separates_a_node_from_everything_else(seed):
    net = random_network(seed)
    for node in net.nodes:
        blanket = net.markov_blanket(node)
        rest = set(net.nodes) - blanket - {node}
        if rest:
            assert net.is_d_separated(node, rest, given=blanket)
        # and it is minimal: every blanket member is dependent on the node given the others
        for member in blanket:
            assert not net.is_d_separated(node, member, given=blanket - {member})


def reference_log_likelihood(specs: dict, row: dict) -> float:
    """Plain Python over the declared numbers: table[parent states..., state], indexed by position in the
    declared state lists -- so a transposed or reordered table inside pgm would not match."""
    total = 0.0
    for node, (states, parents, table) in specs.items():
        index = tuple(specs[p][0].index(row[p]) for p in parents) + (states.index(row[node]),)
        total += math.log(float(table[index]))
    return total


@pytest.mark.parametrize("seed", range(5))
def test_log_likelihood_matches_a_plain_python_reference(seed):
    specs = random_specs(seed)
    net = random_network(seed)
    rows = net.sample(50, seed=seed)
    expected = [reference_log_likelihood(specs, row) for row in rows.astype(str).to_dict("records")]
    np.testing.assert_allclose(net.log_likelihood(rows), expected, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.floats(0.0, 1.0))
def test_statistics_are_additive_over_any_split(seed, cut):
    net = random_network(seed % 7, n_nodes=6)
    rows = net.sample(300, seed=seed)
    k = int(cut * len(rows))
    parts = net.statistics(rows.iloc[:k]) + net.statistics(rows.iloc[k:])
    whole = net.statistics(rows)
    for node in net.nodes:
        np.testing.assert_allclose(parts[node], whole[node], rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(weights=st.lists(st.integers(0, 4), min_size=40, max_size=40))
def test_integer_weights_equal_repeated_rows(weights):
    net = random_network(3, n_nodes=5)
    rows = net.sample(40, seed=1)
    weights = np.array(weights, dtype=float)
    if weights.sum() == 0:
        return
    repeated = rows.loc[rows.index.repeat(weights.astype(int))].reset_index(drop=True)
    weighted = net.statistics(rows, weights=weights)
    expanded = net.statistics(repeated)
    for node in net.nodes:
        np.testing.assert_allclose(weighted[node], expanded[node], rtol=1e-12)
    assert weighted.total_weight == expanded.total_weight


TRICKY = ["Asy/Patch", "0-3_days", "<5", ">=7.5", "Transp.", "a b", "x,y", "(paren)", "semi;colon", "pipe|d", "12+"]


@pytest.mark.parametrize("seed", range(4))
def test_random_networks_with_tricky_state_names_round_trip_through_bif_and_json(seed, tmp_path):
    net = random_network(seed, state_names=lambda node, s: TRICKY[(s + len(node)) % len(TRICKY)] + str(s))
    for suffix in ("bif", "json"):
        path = tmp_path / f"net.{suffix}"
        net.write(path)
        again = pgm.read(path)
        assert again == net and again.name == net.name, suffix


@pytest.mark.parametrize("seed", range(3))
def test_log_likelihood_of_samples_averages_to_minus_the_entropy(seed):
    # E[log p(X)] = -H(X); with many samples the mean is within a few standard errors of it.
    net = random_network(seed, n_nodes=5)
    states = [net.states(n) for n in net.nodes]
    import itertools

    grid = pd.DataFrame(list(itertools.product(*states)), columns=list(net.nodes))
    log_p = net.log_likelihood(grid)
    p = np.exp(log_p)
    entropy = -np.sum(p[p > 0] * log_p[p > 0])
    variance = np.sum(p[p > 0] * log_p[p > 0] ** 2) - entropy**2
    n = 100_000
    mean = net.log_likelihood(net.sample(n, seed=seed)).mean()
    assert abs(mean + entropy) <= 4 * math.sqrt(variance / n)
