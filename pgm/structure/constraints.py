"""What a learned graph must and must not contain: required and forbidden edges, tiers, a parent limit.

:class:`Constraints` is given in node names and resolved once against the
data's variables into two boolean matrices -- ``allowed[x, j]`` (may the
edge ``x -> j`` exist) and ``required[x, j]`` -- that the searches apply to
whole arrays of candidate moves at a time.  Contradictions (a required edge
that is also forbidden, against the tiers, or closing a cycle with other
required edges; more required parents than the limit) are refused up front
with a one-line error naming them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from pgm.errors import NodeError, StructureError

__all__ = ["Constraints"]


@dataclass(frozen=True)
class Constraints:
    """Background knowledge for structure learning.

    Parameters
    ----------
    required : iterable of (parent, child)
        Edges every learned graph has (a search never removes or reverses them).
    forbidden : iterable of (parent, child)
        Edges no learned graph has (the reverse edge stays possible).
    max_parents : int, optional
        At most this many parents per node.
    tiers : sequence of sequences of node names, optional
        A temporal order: an edge may not point from a later tier into an
        earlier one.  Nodes in no tier are unconstrained.

    Examples
    --------
    >>> from pgm.structure import Constraints
    >>> Constraints(required=[("smoke", "lung")], tiers=[["asia", "smoke"], ["lung", "tub"]]).max_parents is None
    True
    """

    required: tuple = ()
    forbidden: tuple = ()
    max_parents: int | None = None
    tiers: tuple = ()

    def __post_init__(self):
        object.__setattr__(self, "required", _edges(self.required, "required"))
        object.__setattr__(self, "forbidden", _edges(self.forbidden, "forbidden"))
        object.__setattr__(self, "tiers", tuple(tuple(t) for t in (self.tiers or ())))
        if self.max_parents is not None and (isinstance(self.max_parents, bool) or not isinstance(
                self.max_parents, (int, np.integer)) or self.max_parents < 0):
            raise ValueError(f"max_parents must be a non-negative integer, got {self.max_parents!r}")

    def resolve(self, names: Sequence[str], is_discrete: np.ndarray | None = None):
        """``(allowed, required, max_parents)`` over variable indices; raises on contradictions."""
        n = len(names)
        index = {name: i for i, name in enumerate(names)}

        def position(node, what):
            if node not in index:
                raise NodeError(f"{what} names {node!r}, which is not a variable of the data")
            return index[node]

        if self.max_parents is not None and self.max_parents > max(n - 1, 0):
            raise StructureError(f"max_parents={self.max_parents} asks for more parents than there are other "
                                 f"variables ({n - 1})")
        allowed = ~np.eye(n, dtype=bool)
        required = np.zeros((n, n), dtype=bool)
        for u, v in self.forbidden:
            allowed[position(u, "a forbidden edge"), position(v, "a forbidden edge")] = False
        tier_of = {}
        for t, tier in enumerate(self.tiers):
            for node in tier:
                if node in tier_of:
                    raise StructureError(f"node {node!r} is in two tiers ({tier_of[node]} and {t})")
                tier_of[position(node, "a tier")] = t
        for u in tier_of:
            for v in tier_of:
                if tier_of[u] > tier_of[v]:
                    allowed[u, v] = False
        if is_discrete is not None:
            # A discrete node cannot have a continuous parent (conditional linear Gaussian networks).
            allowed &= ~(~is_discrete[:, None] & is_discrete[None, :])
        for u, v in self.required:
            i, j = position(u, "a required edge"), position(v, "a required edge")
            if i == j:
                raise StructureError(f"the required edge {u!r} -> {v!r} is a self-loop")
            if (u, v) in self.forbidden:
                raise StructureError(f"the edge {u!r} -> {v!r} is both required and forbidden")
            if not allowed[i, j]:
                why = ("it points from a later tier into an earlier one" if i in tier_of and j in tier_of
                       else f"{v!r} is discrete and {u!r} continuous")
                raise StructureError(f"the required edge {u!r} -> {v!r} is not allowed: {why}")
            required[i, j] = True
        check_acyclic(required, names, "the required edges")
        if self.max_parents is not None:
            counts = required.sum(axis=0)
            if counts.max(initial=0) > self.max_parents:
                j = int(np.argmax(counts))
                raise StructureError(f"node {names[j]!r} has {int(counts[j])} required parents, more than "
                                     f"max_parents={self.max_parents}")
        return allowed, required, (n if self.max_parents is None else int(self.max_parents))


def _edges(edges: Iterable, what: str) -> tuple:
    out = []
    for edge in edges or ():
        if isinstance(edge, str) or len(edge) != 2:
            raise ValueError(f"each {what} edge must be a (parent, child) pair, got {edge!r}")
        out.append((edge[0], edge[1]))
    return tuple(out)


def check_acyclic(adjacency: np.ndarray, names: Sequence[str], what: str) -> None:
    """Raise :class:`StructureError` naming a cycle of ``adjacency`` (``adjacency[x, j]``: edge x -> j)."""
    graph = nx.DiGraph()
    graph.add_edges_from((names[i], names[j]) for i, j in zip(*np.nonzero(adjacency)))
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([u for u, _ in cycle] + [cycle[0][0]])
    raise StructureError(f"{what} form a cycle: {path}")
