"""Completed partially directed acyclic graphs: a Markov equivalence class of DAGs as one graph.

DAGs that encode the same independencies (Markov equivalent) share their
skeleton and their *v-structures* (``a -> c <- b`` with ``a`` and ``b`` not
adjacent; Verma & Pearl, 1990).  The class is drawn as its CPDAG: an edge
is directed when every DAG of the class has it that way (it is
*compelled*), undirected otherwise.  From a DAG's skeleton and v-structures
the compelled edges follow by Meek's (1995) rules, applied until none fires:

- R1: ``a -> b - c``, ``a`` and ``c`` not adjacent: ``b -> c`` (else a new v-structure);
- R2: ``a -> b -> c`` and ``a - c``: ``a -> c`` (else a cycle);
- R3: ``a - b``, ``a - c -> b``, ``a - d -> b``, ``c`` and ``d`` not adjacent: ``a -> b``.

Data can only tell a structure up to its class, so constraint-based
learning (:func:`pgm.structure.pc`) returns a CPDAG, and learned graphs are
best compared with the truth as CPDAGs (:func:`structural_hamming_distance`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import networkx as nx

from pgm.errors import NodeError, StructureError

__all__ = ["CPDAG", "structural_hamming_distance"]


class CPDAG:
    """A partially directed graph: directed edges and undirected edges over named nodes.

    Parameters
    ----------
    nodes : iterable of str
    directed : iterable of (str, str)
    undirected : iterable of (str, str)

    Attributes
    ----------
    conflicts : list of (str, str)
        Edges that the data oriented both ways (neither orientation applied); see :func:`pgm.structure.pc`.

    Examples
    --------
    >>> from pgm.graph import DAG
    >>> from pgm.structure import CPDAG
    >>> collider = CPDAG.from_dag(DAG.from_edges([("a", "c"), ("b", "c"), ("c", "d")]))
    >>> sorted(collider.directed), sorted(collider.undirected)
    ([('a', 'c'), ('b', 'c'), ('c', 'd')], [])
    >>> chain = CPDAG.from_dag(DAG.from_edges([("a", "b"), ("b", "c")]))
    >>> sorted(tuple(sorted(e)) for e in chain.undirected)
    [('a', 'b'), ('b', 'c')]
    """

    def __init__(self, nodes: Iterable[str], directed: Iterable = (), undirected: Iterable = ()):
        self.nodes = tuple(nodes)
        known = set(self.nodes)
        self.directed = {(u, v) for u, v in directed}
        self.undirected = {frozenset((u, v)) for u, v in undirected}
        for u, v in list(self.directed) + [tuple(e) for e in self.undirected]:
            for node in (u, v):
                if node not in known:
                    raise NodeError(f"edge {u!r} - {v!r} names {node!r}, which is not a node")
        both = {frozenset(e) for e in self.directed} & self.undirected
        if both:
            raise StructureError(f"the edge {sorted(next(iter(both)))} is both directed and undirected")
        self.conflicts: list = []

    @classmethod
    def from_dag(cls, dag) -> "CPDAG":
        """The CPDAG of a DAG's Markov equivalence class (v-structures, then Meek's rules)."""
        if hasattr(dag, "dag") and not hasattr(dag, "v_structures"):
            dag = dag.dag
        directed = set()
        for a, c, b in dag.v_structures():
            directed |= {(a, c), (b, c)}
        undirected = {frozenset(e) for e in dag.edges} - {frozenset(e) for e in directed}
        return cls(dag.nodes, *meek(directed, undirected))

    # ------------------------------------------------------------------ views
    def adjacent(self, u: str, v: str) -> bool:
        """Whether ``u`` and ``v`` share an edge of either kind."""
        return (u, v) in self.directed or (v, u) in self.directed or frozenset((u, v)) in self.undirected

    def mark(self, u: str, v: str) -> str:
        """``"->"``, ``"<-"``, ``"-"`` or ``""`` (no edge) between ``u`` and ``v``."""
        if (u, v) in self.directed:
            return "->"
        if (v, u) in self.directed:
            return "<-"
        return "-" if frozenset((u, v)) in self.undirected else ""

    def __eq__(self, other) -> bool:
        if not isinstance(other, CPDAG):
            return NotImplemented
        return set(self.nodes) == set(other.nodes) and self.directed == other.directed and \
            self.undirected == other.undirected

    __hash__ = None

    def __repr__(self) -> str:
        return (f"CPDAG({len(self.nodes)} nodes, {len(self.directed)} directed and "
                f"{len(self.undirected)} undirected edges)")

    def to_networkx(self) -> nx.DiGraph:
        """A DiGraph with an edge each way for an undirected edge (attribute ``undirected=True``)."""
        graph = nx.DiGraph()
        graph.add_nodes_from(self.nodes)
        graph.add_edges_from(self.directed, undirected=False)
        for u, v in map(tuple, self.undirected):
            graph.add_edge(u, v, undirected=True)
            graph.add_edge(v, u, undirected=True)
        return graph

    def to_dag(self, *, strict: bool = True):
        """A DAG of the class: the undirected edges oriented without new v-structures or cycles (Dor & Tarsi, 1992).

        Parameters
        ----------
        strict : bool, default True
            A CPDAG learned from data may have no such orientation (after
            orientation conflicts); then ``strict=True`` raises, and
            ``strict=False`` orients the remaining undirected edges along a
            topological order of the directed ones (acyclic, possibly with
            new v-structures); directed edges that close a cycle are then
            oriented the same way.

        Raises
        ------
        StructureError
            No extension exists, and ``strict``.

        Examples
        --------
        >>> from pgm.graph import DAG
        >>> from pgm.structure import CPDAG
        >>> chain = DAG.from_edges([("a", "b"), ("b", "c")])
        >>> CPDAG.from_dag(CPDAG.from_dag(chain).to_dag()) == CPDAG.from_dag(chain)
        True
        """
        from pgm.graph import DAG

        directed = set(self.directed)
        undirected = {frozenset(e) for e in self.undirected}
        remaining = set(self.nodes)
        oriented = set()
        while remaining:
            for x in sorted(remaining):
                if any(u == x and v in remaining for u, v in directed):
                    continue  # x has an outgoing edge: not a sink
                neighbours = {next(iter(e - {x})) for e in undirected if x in e and not (e - {x}) - remaining}
                adjacent = {u for u, v in directed if v == x and u in remaining} | neighbours
                if all(a == b or self.adjacent(a, b) for a in neighbours for b in adjacent):
                    oriented |= {(y, x) for y in neighbours}
                    oriented |= {(u, v) for u, v in directed if v == x}
                    undirected = {e for e in undirected if x not in e}
                    directed = {(u, v) for u, v in directed if v != x}
                    remaining.discard(x)
                    break
            else:
                if strict:
                    raise StructureError("the partially directed graph has no DAG extension (its orientations "
                                         "conflict); to_dag(strict=False) orients it along a topological order")
                return self._along_topological_order()
        oriented |= directed
        return DAG({v: sorted(u for u, w in oriented if w == v) for v in self.nodes})

    def _along_topological_order(self):
        """Directed edges kept unless they close a cycle (then treated as undirected); the rest along a topological order."""
        from pgm.graph import DAG

        graph = nx.DiGraph()
        graph.add_nodes_from(self.nodes)
        loose = {frozenset(e) for e in self.undirected}
        for u, v in sorted(self.directed, key=lambda e: (self.nodes.index(e[0]), self.nodes.index(e[1]))):
            if nx.has_path(graph, v, u):
                loose.add(frozenset((u, v)))  # finite-sample orientations can close a cycle
            else:
                graph.add_edge(u, v)
        order = {v: k for k, v in enumerate(nx.lexicographical_topological_sort(graph, key=self.nodes.index))}
        edges = set(graph.edges) | {tuple(sorted(e, key=order.get)) for e in loose}
        return DAG({v: sorted(u for u, w in edges if w == v) for v in self.nodes})


def meek(directed: set, undirected: set) -> tuple[set, set]:
    """Orient undirected edges by Meek's rules R1--R3 until none applies; returns ``(directed, undirected)``."""
    directed, undirected = set(directed), set(undirected)

    def adjacent(a, b):
        return (a, b) in directed or (b, a) in directed or frozenset((a, b)) in undirected

    changed = True
    while changed:
        changed = False
        for edge in sorted(undirected, key=sorted):
            a, b = sorted(edge)
            for x, y in ((a, b), (b, a)):
                parents_x = {u for u, v in directed if v == x}
                # R1: some u -> x with u not adjacent to y.
                r1 = any(not adjacent(u, y) for u in parents_x if u != y)
                # R2: x -> w -> y.
                r2 = any((x, w) in directed and (w, y) in directed for w in {v for u, v in directed if u == x})
                # R3: x - c -> y and x - d -> y with c, d not adjacent.
                r3 = False
                if not (r1 or r2):
                    into_y = [c for c, v in directed if v == y and frozenset((x, c)) in undirected]
                    r3 = any(not adjacent(c, d) for c, d in itertools.combinations(into_y, 2))
                if r1 or r2 or r3:
                    undirected.discard(edge)
                    directed.add((x, y))
                    changed = True
                    break
            if changed:
                break
    return directed, undirected


def _marks(graph) -> tuple[dict, tuple]:
    if isinstance(graph, CPDAG):
        marks = {frozenset(e): ("->", tuple(e)) for e in graph.directed}
        marks.update({e: ("-", None) for e in graph.undirected})
        return marks, graph.nodes
    if hasattr(graph, "dag") and not hasattr(graph, "v_structures"):
        graph = graph.dag
    return {frozenset(e): ("->", tuple(e)) for e in graph.edges}, graph.nodes


def structural_hamming_distance(learned, truth) -> dict:
    """Edges missing, extra and differently oriented between two graphs (DAGs, networks or CPDAGs).

    Each pair of nodes counts once: ``missing`` (an edge of ``truth`` absent
    from ``learned``), ``extra`` (the reverse), ``reversed`` (present in both
    with a different mark: the other direction, or directed in one and
    undirected in the other).  ``total`` is their sum.  Compare CPDAGs
    (:meth:`CPDAG.from_dag`) to ignore directions the data cannot tell.

    Examples
    --------
    >>> from pgm.graph import DAG
    >>> from pgm.structure import structural_hamming_distance
    >>> truth = DAG.from_edges([("a", "b"), ("b", "c")])
    >>> structural_hamming_distance(DAG.from_edges([("b", "a"), ("a", "c")], nodes=["a", "b", "c"]), truth)
    {'missing': 1, 'extra': 1, 'reversed': 1, 'total': 3}
    """
    mine, nodes = _marks(learned)
    theirs, other_nodes = _marks(truth)
    if set(nodes) != set(other_nodes):
        differ = sorted(set(nodes) ^ set(other_nodes))
        raise NodeError(f"the graphs have different nodes: {differ[:5]}")
    missing = sum(1 for e in theirs if e not in mine)
    extra = sum(1 for e in mine if e not in theirs)
    flipped = sum(1 for e in theirs if e in mine and mine[e] != theirs[e])
    return {"missing": missing, "extra": extra, "reversed": flipped, "total": missing + extra + flipped}
