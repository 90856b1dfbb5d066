"""Chow--Liu and TAN trees equal brute-force maximum spanning trees of independently computed informations."""

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.classifiers import naive_bayes
from pgm.errors import NodeError, StructureError
from pgm.structure import chow_liu, tree_augmented_naive_bayes


def pruefer_trees(names):
    """Every spanning tree of the complete graph on ``names`` (Pruefer sequences), as sets of frozenset edges."""
    n = len(names)
    for sequence in itertools.product(range(n), repeat=n - 2):
        degree = [1] * n
        for v in sequence:
            degree[v] += 1
        edges = set()
        for v in sequence:
            leaf = min(i for i in range(n) if degree[i] == 1)
            edges.add(frozenset((names[leaf], names[v])))
            degree[leaf] -= 1
            degree[v] -= 1
        last = [i for i in range(n) if degree[i] == 1]
        edges.add(frozenset((names[last[0]], names[last[1]])))
        yield edges


def best_tree(names, weight):
    return max(pruefer_trees(names), key=lambda edges: sum(weight[e] for e in edges))


def discrete_mi(frame, a, b, given=None):
    """Mutual information from empirical frequencies (pandas), conditional on ``given`` if named."""
    if given is None:
        joint = pd.crosstab(frame[a], frame[b]).to_numpy() / len(frame)
        pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
        nz = joint > 0
        return float(np.sum(joint[nz] * np.log((joint / (pa * pb))[nz])))
    return sum(len(part) / len(frame) * discrete_mi(part, a, b) for _, part in frame.groupby(given))


def test_chow_liu_is_the_maximum_spanning_tree_of_discrete_mutual_information():
    rows = pgm.load("survey").sample(4000, seed=0)
    names = list(rows.columns)
    assert len(list(pruefer_trees(names))) == 6 ** 4
    weight = {frozenset((a, b)): discrete_mi(rows, a, b) for a, b in itertools.combinations(names, 2)}
    tree = chow_liu(rows, root="E")
    assert tree.skeleton() == best_tree(names, weight)
    assert all(len(tree.parents(v)) == (0 if v == "E" else 1) for v in names)


def test_chow_liu_is_the_maximum_spanning_tree_of_gaussian_mutual_information():
    rows = pgm.load("ecoli70").sample(3000, seed=1).iloc[:, :6]
    names = list(rows.columns)
    rho = np.corrcoef(rows.to_numpy(), rowvar=False)
    weight = {frozenset((names[a], names[b])): -0.5 * np.log(1 - rho[a, b] ** 2)
              for a, b in itertools.combinations(range(6), 2)}
    tree = chow_liu(rows)
    assert tree.skeleton() == best_tree(names, weight)
    np.testing.assert_allclose(tree.mutual_information_[0, 1], weight[frozenset(names[:2])], rtol=1e-9)


def test_tan_is_the_maximum_spanning_tree_of_conditional_mutual_information():
    rows = pgm.load("survey").sample(4000, seed=2)
    target = "T"
    features = [c for c in rows.columns if c != target]
    weight = {frozenset((a, b)): discrete_mi(rows, a, b, given=target) for a, b in itertools.combinations(features, 2)}
    dag = tree_augmented_naive_bayes(rows, target)
    among_features = {e for e in dag.skeleton() if target not in e}
    assert among_features == best_tree(features, weight)
    assert all(target in dag.parents(f) for f in features) and not dag.parents(target)


def test_tan_with_gaussian_features_uses_within_class_correlations():
    rng = np.random.default_rng(0)
    n = 3000
    c = rng.choice(["a", "b"], n)
    x = rng.normal(size=n) + (c == "b")
    y = 0.8 * x + rng.normal(size=n)
    z = rng.normal(size=n) - 0.5 * y
    w = rng.normal(size=n)
    rows = pd.DataFrame({"c": c, "x": x, "y": y, "z": z, "w": w})
    features = ["x", "y", "z", "w"]
    weight = {}
    for a, b in itertools.combinations(features, 2):
        total = 0.0
        for _, part in rows.groupby("c"):
            r = np.corrcoef(part[a], part[b])[0, 1]
            total += len(part) / n * -0.5 * np.log(1 - r ** 2)
        weight[frozenset((a, b))] = total
    dag = tree_augmented_naive_bayes(rows, "c")
    assert {e for e in dag.skeleton() if "c" not in e} == best_tree(features, weight)


def test_tan_classifier_fits_the_learned_tree():
    pytest.importorskip("sklearn")
    from sklearn.model_selection import cross_val_score

    from pgm.structure.classifier import TANClassifier

    rows = pgm.load("asia").sample(3000, seed=0)
    features = [c for c in rows.columns if c != "either"]
    declared = naive_bayes("either", ["no", "yes"], discrete={f: ["no", "yes"] for f in features})
    model = TANClassifier(declared, "either", prior=pgm.Dirichlet(1)).fit(rows[features], rows["either"])
    expected = tree_augmented_naive_bayes(rows, "either")
    assert set(model.network_.edges) == set(expected.edges)
    assert cross_val_score(TANClassifier(declared, "either", prior=pgm.Dirichlet(1)), rows[features],
                           rows["either"], cv=3).min() > 0.95


def test_tree_errors_name_the_culprit():
    rows = pgm.load("asia").sample(500, seed=0)
    with pytest.raises(NodeError, match="root 'nope'"):
        chow_liu(rows, root="nope")
    with pytest.raises(NodeError, match="class 'nope'"):
        tree_augmented_naive_bayes(rows, "nope")
    mixed = pd.DataFrame({"a": ["x", "y"] * 50, "b": np.arange(100) * 0.5, "c": ["u", "v", "v", "u"] * 25})
    with pytest.raises(StructureError, match="all discrete or all continuous"):
        tree_augmented_naive_bayes(mixed, "c")
    with pytest.raises(StructureError, match="root 'b' is continuous"):
        chow_liu(mixed, root="b")


def mixed_rows(n_rows, seed):
    """Conditional Gaussian rows drawn with numpy: d1 -> d2, d1 -> x1 (mean and spread per state), x1 -> x2,
    d2 -> x3, and d3 weakly tied to d2 -- so the discrete nodes are not all neighbours of each other."""
    rng = np.random.default_rng(seed)
    d1 = rng.integers(0, 3, n_rows)
    d2 = np.where(rng.random(n_rows) < 0.8, d1 % 2, 1 - d1 % 2)
    d3 = np.where(rng.random(n_rows) < 0.6, d2, rng.integers(0, 2, n_rows))
    x1 = np.array([-1.0, 0.5, 2.0])[d1] + np.array([0.5, 1.0, 2.0])[d1] * rng.normal(size=n_rows)
    x2 = 0.8 * x1 + rng.normal(size=n_rows)
    x3 = np.array([0.0, 1.5])[d2] + rng.normal(size=n_rows)
    return pd.DataFrame({"d1": [f"s{v}" for v in d1], "d2": [f"s{v}" for v in d2], "d3": [f"s{v}" for v in d3],
                         "x1": x1, "x2": x2, "x3": x3})


def node_log_likelihood(frame, child, parent):
    """Maximised log-likelihood of one node given at most one parent, by numpy formulas (no pgm)."""
    y = frame[child]
    n = len(frame)
    if not pd.api.types.is_numeric_dtype(y):
        if parent is None:
            counts = y.value_counts().to_numpy()
            return float(np.sum(counts * np.log(counts / n)))
        table = pd.crosstab(frame[parent], y).to_numpy()
        table = table[table.sum(axis=1) > 0]
        nz = table > 0
        return float(np.sum(table[nz] * np.log((table / table.sum(axis=1, keepdims=True))[nz])))
    gaussian = lambda values: -0.5 * len(values) * (np.log(2 * np.pi * np.var(values)) + 1)  # noqa: E731
    if parent is None:
        return gaussian(y.to_numpy())
    if not pd.api.types.is_numeric_dtype(frame[parent]):
        return float(sum(gaussian(part.to_numpy()) for _, part in y.groupby(frame[parent])))
    slope, intercept = np.polyfit(frame[parent], y, 1)
    return gaussian((y - slope * frame[parent] - intercept).to_numpy() + 0.0)


def test_mixed_chow_liu_is_the_best_conditional_gaussian_tree_by_brute_force():
    frame = mixed_rows(3000, seed=5)
    names = list(frame.columns)
    discrete = {"d1", "d2", "d3"}
    best, best_value = None, -np.inf
    for edges in pruefer_trees(names):
        graph = nx.Graph(list(map(tuple, edges)))
        if not nx.is_connected(graph.subgraph(discrete)):
            continue  # no orientation without a continuous parent of a discrete node
        parent = {child: p for p, child in nx.bfs_edges(graph, "d1")}
        value = sum(node_log_likelihood(frame, v, parent.get(v)) for v in names)
        if value > best_value:
            best, best_value = edges, value
    tree = chow_liu(frame)
    assert tree.skeleton() == best
    assert all(not (u.startswith("x") and v.startswith("d")) for u, v in tree.edges)
    assert tree.parents("d1") == [] or set(tree.parents("d1")) <= discrete


def test_mixed_mutual_information_is_the_conditional_gaussian_gain():
    from pgm.structure import FamilyStatistics, sufficient_table
    from pgm.structure.trees import mutual_information

    frame = mixed_rows(2000, seed=1)
    stats = FamilyStatistics(sufficient_table(frame))
    information = mutual_information(stats)
    d1, x1 = stats.index["d1"], stats.index["x1"]
    x = frame["x1"].to_numpy()
    expected = 0.5 * np.log(np.var(x)) - sum(len(part) / len(x) * 0.5 * np.log(np.var(part))
                                             for _, part in frame["x1"].groupby(frame["d1"]))
    assert information[d1, x1] == pytest.approx(expected, rel=1e-9)
    assert information[x1, d1] == information[d1, x1]
