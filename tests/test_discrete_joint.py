"""The joint distribution of discrete networks, checked by brute-force enumeration.

For small networks every joint configuration is enumerated and its
probability computed directly as the product of the numbers in the BIF file
(read by a regular expression; pure Python, no pgm code on the scoring path).  That joint is the reference for the
log-likelihood and for the frequencies of samples.
"""

import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest

import pgm

SMALL_NETWORKS = ["asia", "cancer", "earthquake", "survey"]


def declared_tables(name):
    """Each node's parents and rows straight from the bnlearn BIF text, by regular expression.

    Returns ``{node: (states, parents, {parent states: probabilities})}``; each row is divided
    by its sum (files round their numbers; pgm stores such rows normalised, as documented).
    """
    text = pgm.datasets.path(name).read_text()
    states = {m.group(1): [s.strip() for s in m.group(2).split(",")]
              for m in re.finditer(r"variable (\S+) \{\s*type discrete \[ \d+ \] \{ ([^}]*) \};", text)}
    tables = {}
    for block in re.finditer(r"probability \( (\S+?)(?: \| ([^)]*))? \) \{(.*?)\}", text, flags=re.DOTALL):
        child, parents, body = block.group(1), block.group(2), block.group(3)
        parents = [p.strip() for p in parents.split(",")] if parents else []
        rows = {tuple(s.strip() for s in row.group(1).split(",")): row.group(2)
                for row in re.finditer(r"\(([^)]*)\) ([^;]*);", body)}
        table = re.search(r"table ([^;]*);", body)
        if table:
            rows[()] = table.group(1)
        tables[child] = (states[child], parents, {
            config: [float(v) / math.fsum(map(float, numbers.split(","))) for v in numbers.split(",")]
            for config, numbers in rows.items()
        })
    assert set(tables) == set(states)
    return tables


def enumerate_joint(net):
    """Every configuration (as a dict of state names) with its probability, by the chain rule.

    The probabilities come from the file's own numbers (:func:`declared_tables`), not from pgm's
    tables, so a table that pgm bound in the wrong order would not agree.
    """
    tables = declared_tables(net.name)
    nodes = net.nodes
    configurations, probabilities = [], []
    for states in itertools.product(*(tables[n][0] for n in nodes)):
        assignment = dict(zip(nodes, states))
        p = 1.0
        for node in nodes:
            node_states, parents, rows = tables[node]
            p *= rows[tuple(assignment[parent] for parent in parents)][node_states.index(assignment[node])]
        configurations.append(assignment)
        probabilities.append(p)
    return pd.DataFrame(configurations, columns=list(nodes)), np.array(probabilities)


@pytest.mark.parametrize("name", SMALL_NETWORKS)
def test_product_of_cpds_sums_to_one(name):
    _, probabilities = enumerate_joint(pgm.load(name))
    assert math.fsum(probabilities) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", SMALL_NETWORKS)
def test_log_likelihood_equals_log_of_the_enumerated_joint_row_by_row(name):
    net = pgm.load(name)
    configurations, probabilities = enumerate_joint(net)
    log_likelihood = net.log_likelihood(configurations)
    possible = probabilities > 0
    np.testing.assert_allclose(log_likelihood[possible], np.log(probabilities[possible]), rtol=1e-13, atol=0)
    assert np.all(np.isneginf(log_likelihood[~possible]))


def test_asia_has_impossible_configurations_and_they_score_minus_infinity():
    net = pgm.load("asia")
    row = {"asia": ["no"], "tub": ["yes"], "smoke": ["no"], "lung": ["no"], "bronc": ["no"],
           "either": ["no"], "xray": ["no"], "dysp": ["no"]}  # either must be yes when tub is yes
    assert np.isneginf(net.log_likelihood(row)[0])


def test_mean_score_and_bits_per_variable():
    net = pgm.load("survey")
    configurations, probabilities = enumerate_joint(net)
    log_p = np.log(probabilities)
    assert net.score(configurations) == pytest.approx(log_p.mean(), rel=1e-13)
    assert net.bits_per_variable(configurations) == pytest.approx(-log_p.mean() / math.log(2) / 6, rel=1e-13)


# ---------------------------------------------------------------- sampling


def marginals_from_joint(configurations, probabilities):
    return {
        node: pd.Series(probabilities).groupby(configurations[node].to_numpy()).sum()
        for node in configurations.columns
    }


def test_sample_frequencies_match_brute_force_marginals_within_four_standard_errors():
    net = pgm.load("asia")
    n = 200_000
    rows = net.sample(n, seed=2024)
    marginals = marginals_from_joint(*enumerate_joint(net))
    for node in net.nodes:
        counts = rows[node].value_counts()
        for state in net.states(node):
            p = marginals[node].get(state, 0.0)
            frequency = counts.get(state, 0) / n
            standard_error = math.sqrt(p * (1 - p) / n)
            if p == 0.0:
                assert frequency == 0.0, f"{node}={state} has probability 0 but was sampled"
            else:
                assert abs(frequency - p) <= 4 * standard_error, (node, state, frequency, p)


def test_sample_pairwise_frequencies_match_the_joint():
    net = pgm.load("survey")
    n = 200_000
    rows = net.sample(n, seed=7)
    configurations, probabilities = enumerate_joint(net)
    for a, b in [("A", "E"), ("E", "T"), ("O", "R")]:
        expected = pd.Series(probabilities).groupby([configurations[a].to_numpy(), configurations[b].to_numpy()]).sum()
        observed = rows.groupby([a, b], observed=False).size() / n
        for key, p in expected.items():
            assert abs(observed[key] - p) <= 4 * math.sqrt(p * (1 - p) / n), (a, b, key)


def test_samples_are_categorical_in_state_order_and_reproducible():
    net = pgm.load("child")
    rows = net.sample(1000, seed=5)
    assert list(rows.columns) == list(net.nodes)
    for node in net.nodes:
        assert isinstance(rows[node].dtype, pd.CategoricalDtype)
        assert tuple(rows[node].cat.categories) == net.states(node)
    pd.testing.assert_frame_equal(rows, net.sample(1000, seed=5))
    assert not rows.equals(net.sample(1000, seed=6))


def test_a_generator_seed_advances_between_calls():
    net = pgm.load("cancer")
    generator = np.random.default_rng(1)
    first, second = net.sample(500, seed=generator), net.sample(500, seed=generator)
    assert not first.equals(second)
    again = np.random.default_rng(1)
    pd.testing.assert_frame_equal(first, net.sample(500, seed=again))


def test_large_samples_span_several_chunks_and_stay_reproducible():
    from pgm._chunks import CHUNK_ROWS

    net = pgm.load("earthquake")
    n = 2 * CHUNK_ROWS + 17
    rows = net.sample(n, seed=3)
    assert len(rows) == n
    pd.testing.assert_frame_equal(rows, net.sample(n, seed=3))


def test_zero_rows():
    rows = pgm.load("asia").sample(0, seed=1)
    assert rows.shape == (0, 8)


def test_bad_sample_sizes_are_refused():
    with pytest.raises(ValueError, match="non-negative integer"):
        pgm.load("asia").sample(-1)
    with pytest.raises(TypeError, match="seed must be"):
        pgm.load("asia").sample(3, seed="abc")


def test_nodes_with_many_states_sample_their_rows_by_bisection():
    rng = np.random.default_rng(4)
    k = 40
    table = rng.dirichlet(np.ones(k) * 0.5, size=3)
    table[1, 5:] = 0.0  # a row with trailing impossible states
    table[1, :5] /= table[1, :5].sum()
    net = pgm.BayesianNetwork({
        "parent": pgm.Categorical(["p0", "p1", "p2"], table=[0.3, 0.4, 0.3]),
        "many": pgm.Categorical([f"s{i}" for i in range(k)], parents=["parent"], table=table),
    })
    n = 300_000
    rows = net.sample(n, seed=8)
    for p, parent_state in enumerate(["p0", "p1", "p2"]):
        block = rows.loc[rows["parent"] == parent_state, "many"]
        counts = block.value_counts().reindex(net.states("many"), fill_value=0).to_numpy()
        m = len(block)
        expected = table[p]
        assert np.all(counts[expected == 0] == 0)
        assert np.all(np.abs(counts / m - expected) <= 4 * np.sqrt(expected * (1 - expected) / m) + 1e-12)
