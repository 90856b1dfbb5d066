"""Gaussian blocks against a strong junction tree (Lauritzen & Jensen 2001), computed independently here.

A strong junction tree of a CLG network comes from a *strong* elimination
order: every continuous variable before any discrete one.  Continuous
evidence is conditioned on: an observed continuous node is not eliminated,
but its family (without it) stays a clique of the moral graph.  The
reference below builds that graph, eliminates the hidden continuous nodes
first (min-fill among them), then the discrete ones (min-fill), and keeps
every elimination clique.

The claim checked: each Gaussian block's keys lie inside one discrete
clique of that tree, so the Gaussians per row of a block never exceed the
tree's largest discrete clique.  (The converse -- that the blocks are not
split more finely than exactness allows -- is checked by the answers:
``tests/test_clg_exact.py`` and ``tests/test_hybrid_blocks.py`` compare
them with enumeration.)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.inference.engine import prepare
from pgm.inference.evidence import as_evidence


def random_hybrid(seed: int) -> BayesianNetwork:
    rng = np.random.default_rng(seed)
    cpds, discrete, continuous = {}, [], []
    for k in range(int(rng.integers(3, 6))):
        name, states = f"d{k}", [f"s{j}" for j in range(int(rng.integers(2, 4)))]
        parents = [d for d in discrete if rng.random() < 0.3][-2:]
        cards = tuple(len(cpds[d].states) for d in parents)
        cpds[name] = Categorical(states, parents=parents, table=rng.dirichlet(np.ones(len(states)), size=cards or None))
        discrete.append(name)
    for i in range(int(rng.integers(5, 10))):
        name = f"x{i}"
        parents = [c for c in continuous if rng.random() < 0.3][-2:]
        keys = [d for d in discrete if rng.random() < 0.3]
        cards = tuple(len(cpds[d].states) for d in keys)
        cpds[name] = LinearGaussian(parents=keys + parents, intercept=rng.normal(size=cards),
                                    weights={p: rng.normal(size=cards) for p in parents} or None,
                                    variance=rng.uniform(0.5, 2.0, size=cards))
        continuous.append(name)
    return BayesianNetwork(cpds)


def strong_elimination_cliques(net: BayesianNetwork, observed: set) -> list[frozenset]:
    """Elimination cliques of a strong order (hidden continuous first, then discrete; min-fill within each)."""
    discrete = [n for n in net.nodes if net[n].is_discrete]
    hidden = [n for n in net.nodes if not net[n].is_discrete and n not in observed]
    adjacency = {n: set() for n in discrete + hidden}
    for node in net.nodes:
        family = [v for v in (node, *net[node].parents) if v in adjacency]
        for a in family:
            adjacency[a].update(b for b in family if b != a)

    def fill(v):
        neighbours = list(adjacency[v])
        return sum(1 for i, a in enumerate(neighbours) for b in neighbours[i + 1:] if b not in adjacency[a])

    cliques = []
    for group in (hidden, discrete):
        remaining = set(group)
        while remaining:
            v = min(sorted(remaining), key=fill)
            neighbours = adjacency.pop(v)
            cliques.append(frozenset(neighbours | {v}))
            for a in neighbours:
                adjacency[a].discard(v)
                adjacency[a].update(neighbours - {a})
            remaining.remove(v)
    return cliques


def engine_blocks(net: BayesianNetwork, rows: pd.DataFrame) -> list[tuple[tuple, tuple]]:
    problem = prepare(net, as_evidence(net, rows))
    return [(block.nodes, block.keys) for block in problem.gauss.blocks]


def rows_with_pattern(net: BayesianNetwork, seed: int) -> tuple[pd.DataFrame, set]:
    """Continuous columns observed in every row (40%), in some rows (30%) or in none; discrete columns absent."""
    rng = np.random.default_rng(seed + 100)
    sample = net.sample(20, seed=seed)
    columns, always = {}, set()
    for node in net.nodes:
        if net[node].is_discrete:
            continue
        u = rng.random()
        if u < 0.4:
            columns[node] = sample[node].to_numpy(float)
            always.add(node)
        elif u < 0.7:
            values = sample[node].to_numpy(float).copy()
            values[rng.random(len(values)) < 0.5] = np.nan
            values[0] = np.nan  # at least one row misses it
            columns[node] = values
    return pd.DataFrame(columns, index=sample.index), always


@pytest.mark.parametrize("seed", range(40))
def test_every_block_is_inside_a_discrete_clique_of_the_strong_junction_tree(seed):
    net = random_hybrid(seed)
    rows, always = rows_with_pattern(net, seed)
    cliques = strong_elimination_cliques(net, always)
    card = {n: len(net.states(n)) for n in net.nodes if net[n].is_discrete}
    largest = max(math.prod(card[v] for v in c if v in card) for c in cliques)
    for nodes, keys in engine_blocks(net, rows):
        assert any(set(keys) <= c for c in cliques), (nodes, keys, cliques)
        assert math.prod(card[k] for k in keys) <= largest


def test_an_observed_parent_cuts_its_edges_and_an_observed_child_of_a_hidden_node_joins():
    """c1 -> c2 -> c3 with c1 and c3 observed in every row, c2 hidden: c1 is keyed on d1 alone, {c2, c3} on
    {d2, d3} (a strong tree's clique after eliminating c2); d1 joins nothing (before: one block on d1, d2, d3)."""
    net = BayesianNetwork({
        "d1": Categorical(["a", "b"], table=[0.5, 0.5]), "d2": Categorical(["a", "b"], table=[0.5, 0.5]),
        "d3": Categorical(["a", "b", "c"], table=[0.2, 0.3, 0.5]),
        "c1": LinearGaussian(parents=["d1"], intercept=[0.0, 1.0]),
        "c2": LinearGaussian(parents=["d2", "c1"], intercept=[0.0, 1.0], weights={"c1": [1.0, -1.0]}),
        "c3": LinearGaussian(parents=["d3", "c2"], intercept=[0.0, 1.0, 2.0], weights={"c2": [0.5, 1.0, 2.0]}),
    })
    rows = pd.DataFrame({"c1": [0.3, -1.0], "c3": [1.5, 0.2]})
    assert sorted(engine_blocks(net, rows)) == [(("c1",), ("d1",)), (("c2", "c3"), ("d2", "d3"))]
    cliques = strong_elimination_cliques(net, {"c1", "c3"})
    assert frozenset({"c2", "d2", "d3"}) in cliques
    assert not any({"d1", "d2", "d3"} <= c for c in cliques)
    # c2 hidden in one row only: the plan must serve that row, so c1 -> c2 joins (c1 is not always observed)
    rows = pd.DataFrame({"c1": [0.3, np.nan], "c3": [1.5, 0.2]})
    assert engine_blocks(net, rows) == [(("c1", "c2", "c3"), ("d1", "d2", "d3"))]
