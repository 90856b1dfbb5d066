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

import itertools

import numpy as np

from pgm.errors import NodeError, StructureError

__all__ = ["align_to", "permute_states", "permuted_nodes"]


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


def permuted_nodes(network, node: str) -> list[str]:
    """Every node whose states must be permuted with ``node``'s to keep the network's ties.

    Tied CPDs share one table, so permuting a member's states permutes the
    shared table's last axis for every member; and where a tied member's
    parent is permuted, the same parent position of every other member is
    too (a tied HMM transition ``p(h_t | h_{t-1})`` carries the states of
    ``h_{t-1}`` along one axis and of ``h_t`` along the other, so every
    ``h_t`` moves together).  The closure of those two rules.
    """
    from pgm.learning.mle import fitting_groups

    groups = fitting_groups(network)
    chosen = {node}
    changed = True
    while changed:
        changed = False
        for group in groups:
            if any(m in chosen for m in group) and not set(group) <= chosen:
                chosen.update(group)
                changed = True
            width = len(network[group[0]].parents)
            for position in range(width):
                at = {network[m].parents[position] for m in group}
                if at & chosen and not at <= chosen:
                    chosen.update(at)
                    changed = True
    return [n for n in network.nodes if n in chosen]


def permute_states(network, node: str, order) -> "object":
    """A network in which state ``j`` of ``node`` carries the parameters of its former state ``order[j]``.

    The same permutation applies to every node tied to ``node`` through its
    CPD or its parents (:func:`permuted_nodes`), in their own tables and
    their children's, so ties and latent flags are kept.
    """
    from pgm.learning.em_parameters import with_cpd_parameters
    from pgm.network import BayesianNetwork

    order = np.asarray(order, dtype=np.intp)
    moved = permuted_nodes(network, node)
    k = len(network.states(node))
    for other in moved:
        if not network[other].is_discrete or len(network.states(other)) != k:
            raise StructureError(
                f"permuting {node!r} permutes {other!r} too (they are tied), but {other!r} does not have "
                f"{k} states"
            )
    cpds = dict(network.cpds)
    for name in network.nodes:
        cpd = network[name]
        if cpd.is_discrete:
            axes = [i for i, p in enumerate(cpd.parents) if p in moved] + ([cpd.table.ndim - 1] if name in moved else [])
            if not axes:
                continue
            table = np.asarray(cpd.table)
            for axis in axes:
                table = np.take(table, order, axis=axis)
            cpds[name] = with_cpd_parameters(cpd, (table,))
        else:
            axes = [i for i, p in enumerate(cpd.discrete_parents) if p in moved]
            if not axes:
                continue
            arrays = [np.asarray(a) for a in (cpd.intercept, cpd.weights, cpd.variance)]
            for axis in axes:
                arrays = [np.take(a, order, axis=axis) for a in arrays]
            cpds[name] = with_cpd_parameters(cpd, arrays)
    aligned = BayesianNetwork._from_bound(cpds, name=network.name, tied=network.tied_groups)
    if hasattr(network, "fit_report_"):
        aligned.fit_report_ = network.fit_report_
    return aligned


def align_to(network, reference, node: str):
    """``network`` with ``node``'s states permuted to best match ``reference`` (same structure and states).

    Returns ``(aligned_network, order)`` where ``order[j]`` is the former
    state whose parameters state ``j`` now carries.  Nodes tied to ``node``
    (e.g. every hidden state of a tied HMM) are permuted with it
    (:func:`permute_states`); ``node`` and they must be latent.

    Examples
    --------
    >>> import pgm
    >>> hmm = pgm.BayesianNetwork(
    ...     {**{f"h{t}": pgm.Categorical.latent(["a", "b"], parents=[f"h{t - 1}"] if t > 1 else []) for t in (1, 2, 3)},
    ...      **{f"o{t}": pgm.Categorical(["u", "v"], parents=[f"h{t}"]) for t in (1, 2, 3)}},
    ...     tied=[["h2", "h3"], ["o1", "o2", "o3"]])
    >>> truth = hmm.fit({"o1": ["u", "v", "u", "u"], "o2": ["u", "v", "v", "u"], "o3": ["u", "v", "v", "v"]}, seed=0)
    >>> swapped = permute_states(truth, "h1", [1, 0])
    >>> aligned, order = align_to(swapped, truth, "h1")
    >>> order.tolist(), aligned.n_free_parameters == truth.n_free_parameters
    ([1, 0], True)
    """
    for net in (network, reference):
        if node not in net:
            raise NodeError(f"{node!r} is not a node of both networks")
        if not net[node].is_discrete:
            raise StructureError(f"{node!r} is continuous; only a discrete node's states can be permuted")
        net._require_fitted("aligned")
    observed = [n for n in permuted_nodes(network, node) if not network[n].latent]
    if observed:
        raise StructureError(
            f"{node!r} cannot be aligned: its states would be permuted together with the observed node "
            f"{observed[0]!r}, whose state names mean something; only latent nodes' states are arbitrary"
        )
    if network.states(node) != reference.states(node) or set(network.children(node)) != set(reference.children(node)):
        raise StructureError(f"{node!r} must have the same states and children in both networks to be aligned")
    k = len(network.states(node))
    if len(permuted_nodes(network, node)) > 1 and k <= EXHAUSTIVE_STATES:
        # tied states move together along several axes at once (an HMM's transition rows *and* columns), which
        # a per-state profile cannot see: try every permutation on all the parameters that move
        target = _moving_parameters(reference, node)
        orders = [np.array(p) for p in itertools.permutations(range(k))]
        costs = [float(((_moving_parameters(permute_states(network, node, o), node) - target) ** 2).sum())
                 for o in orders]
        order = orders[int(np.argmin(costs))]
        return permute_states(network, node, order), order
    mine, theirs = _profiles(network, node), _profiles(reference, node)
    cost = ((theirs[:, None, :] - mine[None, :, :]) ** 2).sum(axis=2)  # reference state x fitted state
    from scipy.optimize import linear_sum_assignment  # lazily: scipy.optimize is slow to import

    rows, columns = linear_sum_assignment(cost)
    order = columns[np.argsort(rows)]
    return permute_states(network, node, order), order


#: Up to this many states, a tied latent node is aligned by trying every permutation (7! = 5,040).
EXHAUSTIVE_STATES = 7


def _moving_parameters(network, node: str) -> np.ndarray:
    """Every parameter of the nodes permuted with ``node`` and of their children, flattened."""
    moved = permuted_nodes(network, node)
    touched = set(moved) | {c for m in moved for c in network.children(m)}
    parts = []
    for name in network.nodes:
        if name not in touched:
            continue
        cpd = network[name]
        arrays = (cpd.table,) if cpd.is_discrete else (cpd.intercept, cpd.weights, cpd.variance)
        parts += [np.asarray(a, dtype=np.float64).ravel() for a in arrays]
    return np.concatenate(parts)
