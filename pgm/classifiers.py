"""Generative classifiers: networks built around a class node.

A generative classifier models the joint ``p(class, x)`` and classifies by
Bayes' rule, ``p(class | x) = p(class) p(x | class) / p(x)``.  Any network
with a discrete class node is one: fit it with :meth:`pgm.BayesianNetwork.fit`
and ask :meth:`~pgm.BayesianNetwork.query` (one posterior per row) or
:meth:`~pgm.BayesianNetwork.predict`.  :func:`naive_bayes` builds the
simplest, where the features are independent given the class; the
scikit-learn wrapper :class:`pgm.sklearn.BayesianNetworkClassifier` takes any
such network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pgm.cpds import Categorical, LinearGaussian
from pgm.errors import NodeError
from pgm.network import BayesianNetwork

__all__ = ["naive_bayes"]


def naive_bayes(target: str, classes: Sequence[str], discrete: Mapping[str, Sequence[str]] | None = None,
                continuous: Sequence[str] = (), *, name: str = "naive Bayes") -> BayesianNetwork:
    """An unfitted naive Bayes network: the class is the only parent of every feature.

    ``p(class, x1..xn) = p(class) prod_i p(xi | class)``.  A discrete feature
    gets one table row per class (Bernoulli or categorical naive Bayes); a
    continuous feature is Gaussian with one mean and one variance per class
    (Gaussian naive Bayes: a conditional linear Gaussian node whose only
    parent is the class).  Fit the network to labelled data; a
    ``pgm.Dirichlet({feature: alpha, ...})`` prior smooths the feature tables
    only, the class prior staying the empirical frequency.

    Parameters
    ----------
    target : str
        The class node.
    classes : sequence of str
        Its states.
    discrete : mapping of str to sequence of str, optional
        Each discrete feature and its states.
    continuous : sequence of str, optional
        The continuous (Gaussian) features.
    name : str, default 'naive Bayes'
        The network's name.

    Returns
    -------
    BayesianNetwork
        Nodes in the order ``target``, the discrete features, the continuous
        ones; no parameters yet.

    Raises
    ------
    NodeError
        No features, a feature named twice (or in both groups), or the class
        among its own features.
    CPDError
        Invalid states (empty, repeated, not strings).

    Examples
    --------
    >>> import pgm
    >>> from pgm.classifiers import naive_bayes
    >>> net = naive_bayes("spam", ["no", "yes"], discrete={"offer": ["0", "1"]}, continuous=["length"])
    >>> print(net.factorization())
    p(spam, offer, length) = p(spam) p(offer | spam) p(length | spam)
    >>> rows = {"spam": ["no", "no", "yes", "yes"], "offer": ["0", "1", "1", "1"],
    ...         "length": [10.0, 12.0, 3.0, 5.0]}
    >>> fitted = net.fit(rows, prior=pgm.Dirichlet({"offer": 1.0}))
    >>> fitted["offer"].table.tolist()      # (count + 1) / (class count + 2)
    [[0.5, 0.5], [0.25, 0.75]]
    >>> fitted["length"].intercept.tolist(), fitted["length"].variance.tolist()
    ([11.0, 4.0], [1.0, 1.0])
    """
    if not isinstance(target, str) or not target:
        raise NodeError(f"the class node's name must be a non-empty string, got {target!r}")
    discrete = dict(discrete or {})
    if isinstance(continuous, str):
        raise TypeError(f"continuous must be a sequence of feature names, not the single string {continuous!r}")
    continuous = list(continuous)
    features = list(discrete) + continuous
    if not features:
        raise NodeError(f"naive Bayes for {target!r} needs at least one feature (discrete= or continuous=)")
    seen = set()
    for feature in features:
        if not isinstance(feature, str) or not feature:
            raise NodeError(f"feature names must be non-empty strings, got {feature!r}")
        if feature == target:
            raise NodeError(f"{target!r} is the class node and cannot also be one of its features")
        if feature in seen:
            where = "both discrete and continuous" if feature in discrete else "more than once"
            raise NodeError(f"feature {feature!r} is named {where}")
        seen.add(feature)
    cpds = {target: Categorical(_plain(classes, f"the classes of {target!r}"))}
    for feature, states in discrete.items():
        cpds[feature] = Categorical(_plain(states, f"the states of {feature!r}"), parents=[target])
    for feature in continuous:
        cpds[feature] = LinearGaussian.unfitted(parents=[target])
    return BayesianNetwork(cpds, name=name)


def _plain(states, what: str) -> list:
    """States as plain ``str`` (NumPy's ``str_`` would show in every repr); other objects are left for the CPD to refuse."""
    if isinstance(states, str):
        raise TypeError(f"{what} must be a sequence of names, not the single string {states!r}")
    return [str(s) if isinstance(s, str) else s for s in states]
