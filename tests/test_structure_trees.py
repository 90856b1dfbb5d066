"""Chow--Liu and TAN trees equal brute-force maximum spanning trees of independently computed informations."""

import itertools

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
    mixed = pd.DataFrame({"a": ["x", "y"] * 50, "b": np.arange(100) * 0.5})
    with pytest.raises(StructureError, match="all discrete or all continuous"):
        chow_liu(mixed)
