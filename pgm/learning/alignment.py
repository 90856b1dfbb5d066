"""Label switching: a latent node's states are only defined up to a permutation.

EM (or any fit) may find the same model with a latent node's states in
another order.  To compare fits, :func:`align_to` permutes the parameters of
the latent node and of its children so that each state best matches a
reference network's: each state gets a profile (its probability and its
children's parameters given it), and the permutation minimising the total
squared distance between profiles is found by the Hungarian method
(:func:`scipy.optimize.linear_sum_assignment`).
"""

from __future__ import annotations

import numpy as np

from pgm.errors import NodeError, StructureError

__all__ = ["align_to", "permute_states"]


def _profiles(network, node: str) -> np.ndarray:
    """One row per state of ``node``: its probability and its children's parameters given it."""
    cpd = network[node]
    k = len(cpd.states)
    parts = [np.moveaxis(np.asarray(cpd.table), -1, 0).reshape(k, -1)]
    for child in network.children(node):
        child_cpd = network[child]
        if child_cpd.is_discrete:
            axis = child_cpd.parents.index(node)
            parts.append(np.moveaxis(np.asarray(child_cpd.table), axis, 0).reshape(k, -1))
        else:
            axis = child_cpd.discrete_parents.index(node)
            for array in (child_cpd.intercept, child_cpd.weights, child_cpd.variance):
                parts.append(np.moveaxis(np.asarray(array), axis, 0).reshape(k, -1))
    return np.hstack(parts)


def permute_states(network, node: str, order) -> "object":
    """A network in which state ``j`` of ``node`` carries the parameters of its former state ``order[j]``."""
    from pgm.cpds.categorical import Categorical
    from pgm.cpds.gaussian import LinearGaussian

    order = np.asarray(order, dtype=np.intp)
    cpds = dict(network.cpds)
    cpd = cpds[node]
    cpds[node] = Categorical(cpd.states, parents=cpd.parents, table=np.asarray(cpd.table)[..., order])
    cpds[node].latent = cpd.latent
    for child in network.children(node):
        child_cpd = cpds[child]
        if child_cpd.is_discrete:
            axis = child_cpd.parents.index(node)
            table = np.take(np.asarray(child_cpd.table), order, axis=axis)
            cpds[child] = Categorical(child_cpd.states, parents=child_cpd.parents, table=table)
        else:
            axis = child_cpd.discrete_parents.index(node)
            cpds[child] = LinearGaussian(
                parents=child_cpd.parents, features=child_cpd.features,
                intercept=np.take(child_cpd.intercept, order, axis=axis),
                weights=np.take(child_cpd.weights, order, axis=axis),
                variance=np.take(child_cpd.variance, order, axis=axis),
            )
        cpds[child].latent = child_cpd.latent
    from pgm.network import BayesianNetwork

    aligned = BayesianNetwork(cpds, name=network.name)
    if hasattr(network, "fit_report_"):
        aligned.fit_report_ = network.fit_report_
    return aligned


def align_to(network, reference, node: str):
    """``network`` with ``node``'s states permuted to best match ``reference`` (same structure and states).

    Returns ``(aligned_network, order)`` where ``order[j]`` is the former
    state whose parameters state ``j`` now carries.
    """
    for net in (network, reference):
        if node not in net:
            raise NodeError(f"{node!r} is not a node of both networks")
        if not net[node].is_discrete:
            raise StructureError(f"{node!r} is continuous; only a discrete node's states can be permuted")
        net._require_fitted("aligned")
    if network.states(node) != reference.states(node) or set(network.children(node)) != set(reference.children(node)):
        raise StructureError(f"{node!r} must have the same states and children in both networks to be aligned")
    mine, theirs = _profiles(network, node), _profiles(reference, node)
    cost = ((theirs[:, None, :] - mine[None, :, :]) ** 2).sum(axis=2)  # reference state x fitted state
    from scipy.optimize import linear_sum_assignment  # lazily: scipy.optimize is slow to import

    rows, columns = linear_sum_assignment(cost)
    order = columns[np.argsort(rows)]
    return permute_states(network, node, order), order
