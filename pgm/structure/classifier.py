"""The tree-augmented naive Bayes classifier, as a scikit-learn estimator.

:class:`TANClassifier` is a :class:`pgm.sklearn.BayesianNetworkClassifier`
whose structure is learned at ``fit``: it takes a network that declares the
class and the features (e.g. :func:`pgm.classifiers.naive_bayes`), learns
the features' tree given the class from ``(X, y)``
(:func:`pgm.structure.tree_augmented_naive_bayes`), and fits that network.
This module needs scikit-learn.
"""

from __future__ import annotations

from pgm.sklearn import BayesianNetworkClassifier, _read_X, _read_y

__all__ = ["TANClassifier"]


class TANClassifier(BayesianNetworkClassifier):
    """Tree-augmented naive Bayes: each feature has the class and at most one other feature as parents.

    Parameters
    ----------
    network : BayesianNetwork
        Declares the class node and the features with their states (its edges
        are ignored); :func:`pgm.classifiers.naive_bayes` makes one.
    target : str
        The class node.
    root : str, optional
        The feature the tree points away from.
    prior, fit_options
        As for :class:`pgm.sklearn.BayesianNetworkClassifier`.

    Attributes
    ----------
    network_ : BayesianNetwork
        The learned and fitted TAN network.

    Examples
    --------
    >>> import pgm
    >>> from pgm.classifiers import naive_bayes
    >>> from pgm.structure.classifier import TANClassifier
    >>> rows = pgm.load("asia").sample(3000, seed=0)
    >>> features = [c for c in rows.columns if c != "lung"]
    >>> declared = naive_bayes("lung", ["no", "yes"], discrete={f: ["no", "yes"] for f in features})
    >>> model = TANClassifier(declared, "lung", prior=pgm.Dirichlet(1)).fit(rows[features], rows["lung"])
    >>> bool(model.score(rows[features], rows["lung"]) > 0.9)
    True
    """

    def __init__(self, network, target, *, root=None, prior=None, fit_options=None):
        super().__init__(network, target, prior=prior, fit_options=fit_options)
        self.root = root

    def _structure(self, X, y):
        from pgm.cpds import Categorical, LinearGaussian
        from pgm.data import Dataset
        from pgm.network import BayesianNetwork
        from pgm.structure.table import sufficient_table
        from pgm.structure.trees import tree_augmented_naive_bayes

        network, target = self._checked_network()
        features = tuple(n for n in network.nodes if n != target and not network[n].latent)
        names, columns, labels, n_rows = _read_X(X, network, target, features, fitting=True)
        columns[target], _ = _read_y(y, network, target, n_rows)
        domains = {n: network.domains[n] for n in [target, *names]}
        table = sufficient_table(Dataset({n: columns[n] for n in domains}, n_rows, labels), domains=domains)
        dag = tree_augmented_naive_bayes(table, target, root=self.root)
        cpds = {}
        for node in network.nodes:
            parents = list(dag.parents(node)) if node in dag else [target]
            if node == target:
                parents = []
            cpd = network[node]
            cpds[node] = (Categorical(network.states(node), parents=parents) if cpd.is_discrete
                          else LinearGaussian.unfitted(parents=parents))
        return BayesianNetwork(cpds, name=f"TAN for {target}"), target
