"""Tied CPDs: several nodes that share one conditional distribution.

A Markov chain's transitions ``p(x_t | x_{t-1})``, the emissions of a hidden
Markov model, the repeated units of a plate: the same parameters serve many
nodes.  A *tie group* is a tuple of nodes whose CPDs have the same shape --
the same family, the same states (for tables) and the same parent
cardinalities and feature count -- and the same parameters.  The network
stores its groups; the shared CPD is

- counted once in :attr:`~pgm.BayesianNetwork.n_free_parameters`;
- fitted once, from the statistics of every member merged (so a tied chain is
  fitted from its pooled transitions; EM's M-step does the same with expected
  statistics);
- written once to JSON (``"tied"``), which reads back tied.

Each member keeps its own bound CPD (with its own parent names) so that
sampling, scoring and inference need not know about ties.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from pgm.errors import CPDError, NodeError

__all__ = ["check_ties", "shared_parameters"]


def _shape(cpd) -> tuple:
    """What two CPDs must agree on to share parameters."""
    if cpd.is_discrete:
        shape = cpd.table_shape  # None for a softmax without a table (continuous parents)
        return ("table", cpd.family, tuple(cpd.domain), None if shape is None else tuple(shape),
                getattr(cpd, "design_names", None))
    cards = tuple(len(states) for states in cpd.parent_states)
    return ("gaussian", cards, len(cpd.features), cpd.is_linear)


def shared_parameters(cpd) -> tuple[np.ndarray, ...] | None:
    """The CPD's parameter arrays (None when it is not fitted); tied CPDs must have equal ones."""
    if not cpd.is_fitted:
        return None
    if cpd.is_discrete:
        if cpd.table_shape is None:  # a softmax of continuous parents: its coefficients
            return (np.asarray(cpd.intercept), np.asarray(cpd.weights))
        return (np.asarray(cpd.table),)
    return (np.asarray(cpd.intercept), np.asarray(cpd.weights), np.asarray(cpd.variance))


def _describe_shape(node, cpd) -> str:
    if cpd.is_discrete:
        shape = cpd.table_shape
        return (f"{node!r} is a {cpd.family} CPD with states {list(cpd.domain)} and "
                + (f"table shape {tuple(shape)}" if shape is not None else f"design {list(cpd.design_names)}"))
    cards = tuple(len(states) for states in cpd.parent_states)
    return f"{node!r} has {len(cpd.features)} feature(s) and discrete-parent cardinalities {cards}"


def check_ties(cpds: Mapping, groups: Iterable[Iterable[str]] | None) -> tuple[tuple[str, ...], ...]:
    """Validated tie groups over the bound ``cpds``, as tuples of node names.

    Raises
    ------
    NodeError
        A group names an unknown node, a node twice, or a node that is in
        another group; or has fewer than two nodes.
    CPDError
        Members whose CPDs differ in shape, or in parameters (or of which
        only some are fitted).
    """
    if groups is None:
        return ()
    if isinstance(groups, (str, bytes)):
        raise TypeError("tied must be a list of groups of node names, e.g. [['x2', 'x3', 'x4']]")
    seen: dict[str, int] = {}
    result = []
    for number, group in enumerate(groups):
        if isinstance(group, (str, bytes)):
            raise TypeError(f"each tie group must be a list of node names, not the string {group!r}")
        members = tuple(group)
        if len(members) < 2:
            raise NodeError(f"a tie group needs at least two nodes, got {list(members)}")
        for node in members:
            if node not in cpds:
                raise NodeError(f"the tie group {list(members)} names {node!r}, which is not a node of the network")
            if node in seen:
                where = "twice in that group" if seen[node] == number else "in two tie groups"
                raise NodeError(f"node {node!r} appears {where}; a node shares at most one CPD")
            seen[node] = number
        first = cpds[members[0]]
        for node in members[1:]:
            cpd = cpds[node]
            if cpd.is_discrete != first.is_discrete or _shape(cpd) != _shape(first):
                raise CPDError(
                    f"nodes {members[0]!r} and {node!r} cannot share a CPD: {_describe_shape(members[0], first)}, "
                    f"while {_describe_shape(node, cpd)}"
                )
            mine, theirs = shared_parameters(first), shared_parameters(cpd)
            if (mine is None) != (theirs is None):
                fitted, unfitted = (members[0], node) if theirs is None else (node, members[0])
                raise CPDError(
                    f"tied nodes {fitted!r} and {unfitted!r} must be both fitted or both unfitted, but only "
                    f"{fitted!r} has parameters"
                )
            if mine is not None and not all(np.array_equal(a, b) for a, b in zip(mine, theirs)):
                raise CPDError(
                    f"tied nodes {members[0]!r} and {node!r} have different parameters; give them the same "
                    "table (or declare them without one and fit the network)"
                )
        result.append(members)
    return tuple(result)
