"""Exact answers for a softmax node of continuous parents when its parents are observed: classification.

The junction tree cannot hold a discrete node whose parents are continuous
(a softmax, :mod:`pgm.cpds.softmax`): it has no finite table.  One question
about it is nevertheless exact and common -- the posterior of such a node
when every one of its parents is observed and nothing below it is.  Then

    p(y | evidence) = p(y | parents)

because the evidence is all on non-descendants of ``y``, and its parents
separate it from them (the local Markov property).  That is the
classifier's ``predict_proba``: with the class as the softmax node and the
features as its parents, logistic regression.  ``log p(evidence)`` for one
case comes from the network without ``y`` and its descendants, which are
barren (unobserved leaves sum to one) and can be dropped.

Other questions about such networks are refused by exact inference with a
message that names likelihood weighting (:mod:`pgm.inference.likelihood_weighting`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgm.inference.evidence import Evidence
from pgm.inference.results import DiscreteDistribution

__all__ = ["softmax_given_parents"]


def _observed_anywhere(ev: Evidence, node: str) -> bool:
    if node in ev.soft:
        return True
    if node in ev.codes:
        return bool((np.asarray(ev.codes[node]) >= 0).any())
    if node in ev.values:
        return bool((~np.isnan(ev.values[node])).any())
    return False


def _parent_columns(network, cpd, ev: Evidence):
    """Each parent's column when every parent is observed in every row (hard evidence), else None."""
    columns = {}
    for parent in cpd.parents:
        if parent in ev.soft:
            return None
        if network[parent].is_discrete:
            column = ev.codes.get(parent)
            if column is None or (np.asarray(column) < 0).any():
                return None
        else:
            column = ev.values.get(parent)
            if column is None or np.isnan(column).any():
                return None
        columns[parent] = np.asarray(column)
    return columns


def softmax_given_parents(network, names, ev: Evidence, memory_budget=None, index=None):
    """The exact posterior of one softmax target whose parents are all observed and descendants not; else None.

    Returns what :func:`pgm.inference.api.query` would: a
    :class:`~pgm.inference.DiscreteDistribution` for one case, a DataFrame
    (one row per case, one column per state) for many.  None when the
    question is not of this kind (the caller goes on to the junction tree).
    """
    if len(names) != 1:
        return None
    target = names[0]
    cpd = network[target]
    # only a softmax the junction tree cannot expand (a continuous parent) needs this path
    if not hasattr(cpd, "probabilities") or not cpd.is_discrete or getattr(cpd, "table_shape", None) is not None:
        return None
    below = network.descendants(target)
    if _observed_anywhere(ev, target) or any(_observed_anywhere(ev, node) for node in below):
        return None
    columns = _parent_columns(network, cpd, ev)
    if columns is None:
        return None
    network._require_fitted("queried")
    probabilities = cpd.probabilities(columns, ev.n_rows)
    states = network.states(target)
    if ev.batched:
        rows = index if index is not None else pd.RangeIndex(ev.n_rows)
        return pd.DataFrame(probabilities, index=rows, columns=pd.Index(states, name=target))
    from pgm.inference.engine import log_evidence
    from pgm.network import BayesianNetwork

    dropped = below | {target}
    rest = BayesianNetwork._from_bound({n: network[n] for n in network.nodes if n not in dropped}, name=network.name)
    log_ev = float(log_evidence(rest, ev, memory_budget=memory_budget)[0]) if len(rest) else 0.0
    return DiscreteDistribution((target,), {target: states}, probabilities[0], log_evidence=log_ev)


def condition_on_observed_parents(network, ev: Evidence):
    """For one case: the network with each softmax of continuous parents replaced by its table at the observed values.

    When the continuous parents of every softmax node that has them are
    observed, each such factor ``p(y | discrete parents, x = observed)`` is a
    table over ``y`` and its discrete parents; with it in place of the
    softmax (and the edges from the observed continuous parents dropped),
    the joint of everything else, evaluated at the evidence, is unchanged --
    so exact inference on the result answers exactly.  Returns None when
    there is nothing to replace, the evidence is batched (each row would need
    its own tables), or a continuous parent is not observed.
    """
    from pgm.cpds.categorical import Categorical
    from pgm.network import BayesianNetwork

    if ev.batched:
        return None
    restricted = [n for n in network.nodes if network[n].is_discrete and getattr(network[n], "continuous_parents", ())
                  and hasattr(network[n], "probabilities")]
    if not restricted:
        return None
    cpds = dict(network.cpds)
    for node in restricted:
        cpd = network[node]
        if any(p not in ev.values or np.isnan(ev.values[p]).any() for p in cpd.continuous_parents):
            return None
        cards = [len(states) for states in cpd.parent_states]
        n = int(np.prod(cards, dtype=np.int64)) if cards else 1
        codes = np.unravel_index(np.arange(n), cards) if cards else ()
        columns = {p: np.repeat(np.asarray(ev.values[p], dtype=np.float64)[:1], n) for p in cpd.continuous_parents}
        columns.update(zip(cpd.discrete_parents, codes))
        table = cpd.probabilities(columns, n).reshape(tuple(cards) + (len(cpd.states),))
        cpds[node] = Categorical(cpd.states, parents=cpd.discrete_parents, table=table)
    return BayesianNetwork(cpds, name=network.name)
