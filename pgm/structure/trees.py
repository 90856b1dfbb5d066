"""Trees: the Chow--Liu tree and the tree-augmented naive Bayes (TAN) structure.

Among all graphs in which every node has at most one parent, the one with
the highest likelihood is the *maximum spanning tree* of the pairwise
mutual informations (Chow & Liu, 1968): a tree distribution's
log-likelihood is ``N * sum of I(parent; child)`` over its edges minus the
entropies, which do not depend on the tree.  Any root gives the same
likelihood; the edges are directed away from it.

TAN (Friedman, Geiger & Goldszmidt, 1997) does the same among the
features with *conditional* mutual informations given the class, and adds
the class as a parent of every feature.

Mutual information is read from the sufficient table: for discrete
variables from joint counts (all pairs from one sparse product), for
continuous ones from the correlation, ``I = -log(1 - rho^2) / 2``
(a Gaussian's), and conditionally on a discrete class from the correlation
within each class.

Mixed data (discrete and continuous columns) is read as a conditional
Gaussian tree: a continuous node with a discrete parent ``D`` is Gaussian
with a mean and a variance per state of ``D``, so the edge's information is
the log-likelihood it adds per row, ``I = log(s^2) / 2 - sum_d p_d log(s_d^2) / 2``
(``s^2`` the variance, ``s_d^2`` the variance within state ``d``).  A
conditional linear Gaussian network has no continuous parent of a discrete
node, so the discrete nodes must hang together from a discrete root: the
tree is the maximum spanning tree under that constraint -- Kruskal's
algorithm taking the discrete-discrete edges first (their maximum tree),
then the others, which is optimal because the discrete part's weight does
not depend on how the continuous nodes attach.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from pgm.errors import NodeError, StructureError
from pgm.structure.statistics import FamilyStatistics
from pgm.structure.table import sufficient_table

__all__ = ["chow_liu", "mutual_information", "tree_augmented_naive_bayes"]


def _entropy_terms(counts: np.ndarray) -> float:
    positive = counts[counts > 0]
    return float(np.sum(positive * np.log(positive)))


def _discrete_mi(joint: np.ndarray) -> float:
    """Mutual information (nats) of a (k_a, k_b) count table."""
    total = joint.sum()
    return (_entropy_terms(joint) - _entropy_terms(joint.sum(axis=1)) - _entropy_terms(joint.sum(axis=0))
            + total * np.log(total)) / total


def _gaussian_mi(comoments: np.ndarray) -> np.ndarray:
    """Pairwise Gaussian mutual information from one co-moment matrix."""
    scale = np.sqrt(np.diag(comoments))
    rho = comoments / np.outer(scale, scale)
    with np.errstate(divide="ignore"):
        information = -0.5 * np.log1p(-np.minimum(rho ** 2, 1.0))
    np.fill_diagonal(information, 0.0)
    return information


def mutual_information(stats: FamilyStatistics, variables=None, *, given: int | None = None) -> np.ndarray:
    """The matrix of pairwise (conditional) mutual informations, nats, between ``variables`` (indices).

    Variables must be all discrete or all continuous; ``given`` is a
    discrete variable to condition on.

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import FamilyStatistics, sufficient_table
    >>> from pgm.structure.trees import mutual_information
    >>> stats = FamilyStatistics(sufficient_table(pgm.load("cancer").sample(2000, seed=0)))
    >>> information = mutual_information(stats)
    >>> bool((information == information.T).all()), information.shape
    (True, (5, 5))
    """
    variables = list(range(len(stats.names))) if variables is None else list(variables)
    kinds = {bool(stats.is_discrete[v]) for v in variables}
    if len(kinds) > 1:
        if given is not None:
            raise StructureError("conditional mutual information (TAN) needs features that are all discrete or all "
                                 "continuous")
        return _mixed_information(stats, variables)
    if given is not None and not stats.is_discrete[given]:
        raise StructureError(f"the class {stats.names[given]!r} must be discrete")
    n = len(variables)
    information = np.zeros((n, n))
    if kinds == {True}:
        if given is None:
            pairs = stats.pairwise_counts()
            for a in range(n):
                for b in range(a + 1, n):
                    information[a, b] = information[b, a] = _discrete_mi(pairs[variables[a], variables[b]])
        else:
            # I(A; B | C) = sum_c p(c) I(A; B | C = c), from the counts of (C, A, B) of one batch per A.
            kc = int(stats.cardinality[given])
            for a in range(n):
                others = variables[a + 1:]
                for b, table in zip(range(a + 1, n), stats.counts_adding(variables[a], (given,), others)):
                    kb = int(stats.cardinality[variables[b]])
                    per_class = table.reshape(kc, kb, -1)  # (class, b, a)
                    totals = per_class.sum(axis=(1, 2))
                    value = sum(totals[c] * _discrete_mi(per_class[c]) for c in range(kc) if totals[c] > 0)
                    information[a, b] = information[b, a] = value / totals.sum()
        return information
    weight, _, comoments = stats.moments(variables, () if given is None else (given,))
    seen = weight > 0
    return np.tensordot(weight[seen] / weight[seen].sum(), np.stack([_gaussian_mi(m) for m in comoments[seen]]), 1)


def _mixed_information(stats: FamilyStatistics, variables: list) -> np.ndarray:
    """Pairwise information of mixed variables: discrete and Gaussian blocks, conditional Gaussian between them."""
    discrete = [a for a, v in enumerate(variables) if stats.is_discrete[v]]
    continuous = [a for a, v in enumerate(variables) if not stats.is_discrete[v]]
    information = np.zeros((len(variables),) * 2)
    for block in (discrete, continuous):
        information[np.ix_(block, block)] = mutual_information(stats, [variables[a] for a in block])
    columns = [variables[a] for a in continuous]
    weight, _, comoments = stats.moments(columns)
    log_variance = np.log(np.diagonal(comoments[0]) / weight[0])
    for a in discrete:
        weight_d, _, comoments_d = stats.moments(columns, (variables[a],))
        seen = weight_d > 0
        within = np.diagonal(comoments_d[seen], axis1=1, axis2=2) / weight_d[seen, None]
        with np.errstate(divide="ignore"):
            value = 0.5 * log_variance - 0.5 * (weight_d[seen] / weight_d.sum()) @ np.log(within)
        information[a, continuous] = information[continuous, a] = value
    return information


def _maximum_tree(information: np.ndarray, names: list, root: str, discrete=None) -> list[tuple[str, str]]:
    """The maximum spanning tree's edges directed away from ``root``; with ``discrete`` (mixed data), the
    discrete nodes' own maximum tree first, so that no edge leads from a continuous node to a discrete one."""
    graph = nx.Graph()
    graph.add_nodes_from(names)
    graph.add_weighted_edges_from((names[a], names[b], information[a, b])
                                  for a in range(len(names)) for b in range(a + 1, len(names)))
    if not discrete or len(discrete) == len(names):
        tree = nx.maximum_spanning_tree(graph, algorithm="kruskal")
        return list(nx.bfs_edges(tree, root))
    tree = nx.maximum_spanning_tree(graph.subgraph(discrete), algorithm="kruskal")
    # Kruskal over the rest with the discrete tree already in: union-find over components.
    component = {v: (discrete[0] if v in discrete else v) for v in names}

    def find(v):
        while component[v] != v:
            component[v] = component[component[v]]
            v = component[v]
        return v

    component[discrete[0]] = discrete[0]
    rest = sorted(((d["weight"], u, v) for u, v, d in graph.edges(data=True) if not (u in discrete and v in discrete)),
                  key=lambda e: -e[0])
    tree = nx.Graph(tree)
    tree.add_nodes_from(names)
    for _, u, v in rest:
        ru, rv = find(u), find(v)
        if ru != rv:
            component[ru] = rv
            tree.add_edge(u, v)
    return list(nx.bfs_edges(tree, root))


def _stats_and_root(data, root, data_options):
    stats = data if isinstance(data, FamilyStatistics) else FamilyStatistics(sufficient_table(data, **data_options))
    if root is not None and root not in stats.index:
        raise NodeError(f"the root {root!r} is not a variable of the data")
    return stats


def chow_liu(data, *, root: str | None = None, **data_options):
    """The Chow--Liu tree: the maximum-likelihood DAG in which every node has at most one parent.

    Parameters
    ----------
    data : DataFrame, mapping, :func:`pgm.io.scan`, Dask DataFrame or SufficientTable
        Discrete, continuous or mixed columns (mixed: a conditional Gaussian
        tree, see the module docstring).
    root : str, optional
        The node the edges point away from (default: the first column; with
        mixed data, the first discrete column).
    **data_options
        As for :func:`pgm.structure.sufficient_table`.

    Returns
    -------
    DAG
        With ``mutual_information_`` (the matrix, in column order).

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import chow_liu
    >>> truth = pgm.load("cancer")       # itself a tree-shaped polytree
    >>> tree = chow_liu(truth.sample(20_000, seed=0), root="Cancer")
    >>> sorted(tree.children("Cancer"))
    ['Dyspnoea', 'Pollution', 'Smoker', 'Xray']
    """
    stats = _stats_and_root(data, root, data_options)
    from pgm.graph import DAG

    names = list(stats.names)
    information = mutual_information(stats)
    discrete = [v for v in names if stats.is_discrete[stats.index[v]]]
    if discrete and len(discrete) < len(names):
        if root is not None and root not in discrete:
            raise StructureError(f"the root {root!r} is continuous; with discrete variables in the data the root "
                                 "must be discrete (a continuous node cannot be a discrete node's parent)")
        root = root or discrete[0]
    edges = _maximum_tree(information, names, root or names[0], discrete)
    dag = DAG.from_edges(edges, nodes=names)
    dag.mutual_information_ = information
    return dag


def tree_augmented_naive_bayes(data, target: str, *, root: str | None = None, **data_options):
    """The TAN structure: the class is a parent of every feature, the features form a Chow--Liu tree given the class.

    Parameters
    ----------
    data : DataFrame, mapping, scan, Dask DataFrame or SufficientTable
        The features (all discrete or all continuous) and the discrete class column.
    target : str
        The class.
    root : str, optional
        The feature the tree's edges point away from (default: the first feature).

    Returns
    -------
    DAG
        With ``conditional_mutual_information_`` (between the features, in column order).

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import tree_augmented_naive_bayes
    >>> dag = tree_augmented_naive_bayes(pgm.load("asia").sample(5000, seed=0), "either")
    >>> all("either" in dag.parents(v) for v in dag.nodes if v != "either")
    True
    """
    stats = _stats_and_root(data, root, data_options)
    from pgm.graph import DAG

    if target not in stats.index:
        raise NodeError(f"the class {target!r} is not a variable of the data")
    if root == target:
        raise NodeError(f"the root must be a feature, not the class {target!r}")
    features = [v for v in stats.names if v != target]
    if not features:
        raise NodeError(f"TAN needs at least one feature besides the class {target!r}")
    information = mutual_information(stats, [stats.index[v] for v in features], given=stats.index[target])
    tree = _maximum_tree(information, features, root or features[0])
    parent = {child: p for p, child in tree}
    dag = DAG({v: ([] if v == target else [target] + ([parent[v]] if v in parent else [])) for v in stats.names})
    dag.conditional_mutual_information_ = information
    return dag
