"""Directed acyclic graphs and the independence statements they encode.

A Bayesian network's graph says which conditional independencies hold in every
distribution that factorises over it.  This module answers those questions
from the graph alone.

Vocabulary
----------
A *trail* is a path that ignores edge directions.  On a trail, a node ``b``
between neighbours ``a`` and ``c`` is a *collider* when both edges point into
it (``a -> b <- c``).  Given an observed set ``Z``, a trail is *active* when
every collider on it is in ``Z`` or has a descendant in ``Z``, and no other node
on it is in ``Z``.  Sets ``X`` and ``Y`` are *d-separated* by ``Z`` when no
active trail joins them; d-separation implies ``X`` is independent of ``Y``
given ``Z`` in every distribution that factorises over the graph.

Algorithm
---------
d-separation uses the *reachable* procedure of Koller & Friedman,
*Probabilistic Graphical Models* (2009), Algorithm 3.1 -- the same idea as
Shachter's Bayes-ball (1998).  A ball travels over (node, direction) states:
"up" when it arrived from a child, "down" when it arrived from a parent.  It
passes through unobserved nodes, and bounces at an observed node or at a
collider whose descendants include an observed node.  Every state is visited at
most once, so one query costs O(nodes + edges).  The search here is level-
synchronous over integer-indexed arrays (compressed sparse rows), so each level
is a handful of NumPy operations; level-synchronous breadth-first search also
means the predecessor links give a shortest, hence simple, active trail.

That pays a fixed cost per level, which is cheap on wide, shallow graphs but
not on deep ones (a 100,000-node DAG whose parents lie among the previous 200
nodes needs hundreds of levels).  So the level-synchronous search is given a
budget of levels; a question that needs more is answered by one breadth-first
search in compiled code (:func:`scipy.sparse.csgraph.breadth_first_order`)
over the ball's states, using Shachter's rules, which need no ancestor sets:
an observed node reached from a parent sends the ball back up to its parents,
so a collider with an observed descendant is passed by going down to that
descendant and back.  Ancestor sets beyond the level budget are finished the
same way.  Once a graph has needed the compiled search, its yes/no questions
go there directly.  A witness trail (:meth:`DAG.active_trail`) always comes
from the level-synchronous search, which gives a shortest one.

Functions of one DAG are methods of :class:`DAG`; a Bayesian network answers
the same questions by delegating to its DAG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # networkx is imported where it is used: it is slow to import
    import networkx as nx

import contextlib
import heapq
import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pgm.errors import CycleError, NodeError

__all__ = ["DAG", "Independence"]

_UP, _DOWN = 0, 1
_UNVISITED, _SOURCE = -2, -1

# Levels the level-synchronous searches may take before handing over to one
# breadth-first search in compiled code (see the module docstring).
_CLOSURE_LEVELS = 16
_BALL_LEVELS = 48


@dataclass(frozen=True)
class Independence:
    """The statement ``left`` is independent of ``right`` given ``given``.

    Parameters
    ----------
    left, right : frozenset of str
        The two sets of nodes said to be independent.
    given : frozenset of str
        The conditioning set (empty for a marginal independence).

    Examples
    --------
    >>> str(Independence(frozenset({"a"}), frozenset({"c"}), frozenset({"b"})))
    'a ⊥ c | b'
    """

    left: frozenset
    right: frozenset
    given: frozenset

    def __str__(self) -> str:
        def names(s):
            return ", ".join(sorted(s))

        text = f"{names(self.left)} ⊥ {names(self.right)}"
        return text + (f" | {names(self.given)}" if self.given else "")

    def latex(self) -> str:
        """The statement in LaTeX, e.g. ``a \\perp c \\mid b``."""

        def names(s):
            return ", ".join(_latex_name(n) for n in sorted(s))

        text = f"{names(self.left)} \\perp {names(self.right)}"
        return text + (f" \\mid {names(self.given)}" if self.given else "")


_LATEX_ESCAPES = str.maketrans({
    "\\": r"\backslash{}", "_": r"\_", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "{": r"\{", "}": r"\}", "^": r"\hat{}", "~": r"\sim{}",
})


def _latex_name(name: str) -> str:
    """A node name for LaTeX math mode: characters with a meaning in LaTeX are escaped."""
    escaped = name.translate(_LATEX_ESCAPES)
    return escaped if len(name) == 1 and escaped == name else f"\\mathrm{{{escaped}}}"


def _check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise NodeError(f"node names must be non-empty strings, got {name!r}")
    return name


def _csr(lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    counts = np.fromiter(map(len, lists), dtype=np.intp, count=len(lists))
    indptr = np.zeros(len(lists) + 1, dtype=np.intp)
    np.cumsum(counts, out=indptr[1:])
    flat = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.intp, count=int(indptr[-1]))
    return indptr, flat


def _transpose_csr(indptr: np.ndarray, indices: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The CSR of the reversed edges (children from parents), rows kept in ascending order."""
    owner = np.repeat(np.arange(n, dtype=np.intp), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    transposed_indptr = np.zeros(n + 1, dtype=np.intp)
    np.cumsum(np.bincount(indices, minlength=n), out=transposed_indptr[1:])
    return transposed_indptr, owner[order]


def _expand_positions(indptr: np.ndarray, indices: np.ndarray, frontier: np.ndarray):
    """Neighbours of every frontier node, and for each the position in ``frontier`` it came from."""
    starts = indptr[frontier]
    counts = indptr[frontier + 1] - starts
    ends = np.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    if total == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    # edge k of frontier node i sits at starts[i] + (k - first output slot of i)
    origin = np.repeat(np.arange(frontier.size, dtype=np.intp), counts)
    edges = np.arange(total, dtype=np.intp)
    edges += (starts - (ends - counts))[origin]
    return indices[edges], origin


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(start, end)`` for each pair, without a Python loop."""
    starts, ends = np.asarray(starts, dtype=np.intp), np.asarray(ends, dtype=np.intp)
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.intp)
    offsets = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.intp) + np.repeat(starts - offsets, counts)


_ONES = np.ones(0)


def _ones(size: int) -> np.ndarray:
    """A read-only array of ``size`` ones (edge weights the compiled search ignores), shared between calls."""
    global _ONES
    if len(_ONES) < size:
        ones = np.ones(max(size, 2 * len(_ONES)))
        ones.setflags(write=False)
        _ONES = ones
    return _ONES[:size]


def _compiled_reach(indptr: np.ndarray, indices: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The nodes reachable from ``start`` along the CSR graph, by one breadth-first search in compiled code."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    n = len(indptr) - 1
    size = len(indices) + len(start)
    all_indices = np.concatenate((indices, start)).astype(np.int32, copy=False)
    all_indptr = np.concatenate((indptr, [size])).astype(np.int32, copy=False)  # row n: a source to ``start``
    graph = csr_matrix((_ones(size), all_indices, all_indptr), shape=(n + 1, n + 1))
    order = breadth_first_order(graph, n, directed=True, return_predecessors=False)
    return order[order < n]


def _expand(indptr: np.ndarray, indices: np.ndarray, frontier: np.ndarray):
    """Neighbours of every frontier node, and for each the frontier node it came from."""
    nodes, origin = _expand_positions(indptr, indices, frontier)
    return nodes, frontier[origin]


class DAG:
    """A directed acyclic graph over named nodes, with parents kept in order.

    The order of each node's parents is significant (it is the axis order of
    the node's conditional probability table) and is preserved.

    Parameters
    ----------
    parents : mapping of str to sequence of str
        Each node's parents, in order.  Every node must be a key; the mapping's
        order is the node order.

    Raises
    ------
    NodeError
        A parent that is not a node, a duplicated parent, or an invalid name.
    CycleError
        The edges contain a directed cycle; the error names the nodes on it.

    Examples
    --------
    >>> dag = DAG.from_edges([("a", "b"), ("b", "c")])
    >>> dag.topological_order()
    ('a', 'b', 'c')
    >>> dag.is_d_separated("a", "c", given="b")
    True
    """

    def __init__(self, parents: Mapping[str, Sequence[str]]):
        nodes = tuple(_check_name(n) for n in parents)
        index = {n: i for i, n in enumerate(nodes)}
        if len(index) != len(nodes):
            seen = set()
            dup = next(n for n in nodes if n in seen or seen.add(n))
            raise NodeError(f"node {dup!r} is declared twice")
        parent_lists = []
        for node in nodes:
            if isinstance(parents[node], str):
                raise NodeError(f"the parents of {node!r} must be a sequence of names, not the string {parents[node]!r}")
            ps = tuple(parents[node])
            for p in ps:
                if p not in index:
                    raise NodeError(f"parent {p!r} of node {node!r} is not a node of the graph")
            if len(set(ps)) != len(ps):
                dup = next(p for p in ps if ps.count(p) > 1)
                raise NodeError(f"node {node!r} lists parent {dup!r} more than once")
            if node in ps:
                raise CycleError([node, node])
            parent_lists.append([index[p] for p in ps])
        self._nodes = nodes
        self._index = index
        self._parents = {n: tuple(parents[n]) for n in nodes}
        self._parent_idx = parent_lists
        self._order = self._topological_sort()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]], nodes: Iterable[str] = ()) -> "DAG":
        """A DAG from ``(parent, child)`` pairs; parents are ordered as the edges list them.

        ``nodes`` adds isolated nodes and fixes the node order (nodes first met
        in ``edges`` follow).
        """
        if isinstance(nodes, str):
            raise TypeError(f"nodes must be a collection of node names, not the single string {nodes!r}")
        parents: dict[str, list[str]] = {n: [] for n in nodes}
        for edge in edges:
            if isinstance(edge, str) or len(edge) != 2:
                raise NodeError(f"an edge must be a (parent, child) pair, got {edge!r}")
            u, v = edge
            parents.setdefault(_check_name(u), [])
            parents.setdefault(_check_name(v), []).append(u)
        return cls(parents)

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph) -> "DAG":
        """A DAG from a :class:`networkx.DiGraph`; parents in predecessor order."""
        if not graph.is_directed():
            raise TypeError("from_networkx needs a directed graph (networkx.DiGraph)")
        return cls({n: list(graph.predecessors(n)) for n in graph.nodes})

    def _topological_sort(self) -> tuple[str, ...]:
        # Kahn's algorithm with a heap keyed by declaration index: among the
        # nodes that are ready, the earliest declared goes first, so a network
        # declared parents-first keeps its order exactly.
        n = len(self._nodes)
        indptr, parents = self._parent_csr
        owners = np.repeat(np.arange(n, dtype=np.intp), np.diff(indptr))
        if np.all(parents < owners):  # declared parents-first: that order is the answer
            return self._nodes
        indegree = [len(p) for p in self._parent_idx]
        children = self._children_lists
        ready = [i for i in range(n) if indegree[i] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            i = heapq.heappop(ready)
            order.append(i)
            for c in children[i]:
                indegree[c] -= 1
                if indegree[c] == 0:
                    heapq.heappush(ready, c)
        if len(order) < n:
            raise CycleError(self._find_cycle(set(range(n)) - set(order)))
        return tuple(self._nodes[i] for i in order)

    def _find_cycle(self, candidates: set[int]) -> list[str]:
        # Every node left after Kahn's algorithm lies on or downstream of a cycle;
        # walking parents inside that set must revisit a node.
        start = min(candidates)
        path, position = [], {}
        node = start
        while node not in position:
            position[node] = len(path)
            path.append(node)
            node = next(p for p in self._parent_idx[node] if p in candidates)
        cycle = path[position[node]:]
        cycle.reverse()  # we walked parent links; report the edge direction
        names = [self._nodes[i] for i in cycle]
        return names + [names[0]]

    @cached_property
    def _children_lists(self) -> list[list[int]]:
        children: list[list[int]] = [[] for _ in self._nodes]
        for child, ps in enumerate(self._parent_idx):
            for p in ps:
                children[p].append(child)
        return children

    @cached_property
    def _parent_csr(self):
        return _csr(self._parent_idx)

    @cached_property
    def _child_csr(self):
        return _transpose_csr(*self._parent_csr, len(self._nodes))

    # ------------------------------------------------------------------ basic queries
    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes, in declaration order."""
        return self._nodes

    @property
    def edges(self) -> list[tuple[str, str]]:
        """``(parent, child)`` pairs, grouped by child in node order."""
        return [(p, c) for c in self._nodes for p in self._parents[c]]

    def __contains__(self, node) -> bool:
        return node in self._index

    def __len__(self) -> int:
        return len(self._nodes)

    def __eq__(self, other) -> bool:
        return isinstance(other, DAG) and self._parents == other._parents

    def __repr__(self) -> str:
        return f"DAG({len(self._nodes)} nodes, {sum(map(len, self._parent_idx))} edges)"

    def _idx(self, node) -> int:
        try:
            return self._index[node]
        except (KeyError, TypeError):
            raise NodeError(self._unknown_node_message(node)) from None

    def _unknown_node_message(self, node) -> str:
        import difflib

        close = difflib.get_close_matches(str(node), self._nodes, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        return f"{node!r} is not a node of the graph{hint}"

    def _node_set(self, nodes, what: str) -> np.ndarray:
        """Indices of ``nodes``: one name (a str), an iterable of names, or None for none."""
        if nodes is None:
            nodes = ()
        elif isinstance(nodes, str):
            nodes = (nodes,)
        elif not isinstance(nodes, Iterable):
            raise TypeError(f"{what} must be a node name or a collection of node names, not {nodes!r}")
        return np.unique(np.fromiter((self._idx(n) for n in nodes), dtype=np.intp))

    def _names(self, mask_or_idx) -> set[str]:
        idx = np.flatnonzero(mask_or_idx) if mask_or_idx.dtype == bool else mask_or_idx
        return {self._nodes[i] for i in idx}

    def parents(self, node: str) -> tuple[str, ...]:
        """The parents of ``node``, in CPD axis order.

        Parameters
        ----------
        node : str
            A node of the graph.
        """
        self._idx(node)
        return self._parents[node]

    def children(self, node: str) -> tuple[str, ...]:
        """The children of ``node``, in node order.

        Parameters
        ----------
        node : str
            A node of the graph.
        """
        return tuple(self._nodes[c] for c in self._children_lists[self._idx(node)])

    def topological_order(self) -> tuple[str, ...]:
        """Nodes ordered so that every parent comes before its children.

        Ties keep declaration order, so the order is deterministic.
        """
        return self._order

    def _closure(self, start: np.ndarray, csr, within: np.ndarray | None = None) -> np.ndarray:
        """Mask of ``start`` and everything reachable from it along ``csr``, added to ``within``."""
        mask = np.zeros(len(self._nodes), dtype=bool) if within is None else within.copy()
        start = start[~mask[start]]
        mask[start] = True
        frontier = start
        for _ in range(_CLOSURE_LEVELS):
            if not frontier.size:
                return mask
            nbrs, _ = _expand(*csr, frontier)
            nbrs = nbrs[~mask[nbrs]]
            mask[nbrs] = True
            frontier = np.unique(nbrs) if nbrs.size < 64 else np.flatnonzero(np.bincount(nbrs, minlength=1))
        if frontier.size:  # a deep graph: finish in compiled code
            mask[_compiled_reach(*csr, frontier)] = True
        return mask

    def ancestors(self, nodes) -> set[str]:
        """Nodes with a directed path into ``nodes`` (the nodes themselves excluded).

        Parameters
        ----------
        nodes : str or iterable of str
            One node or several.

        Examples
        --------
        >>> sorted(DAG.from_edges([("a", "b"), ("b", "c"), ("d", "c")]).ancestors("c"))
        ['a', 'b', 'd']
        """
        start = self._node_set(nodes, "nodes")
        mask = self._closure(start, self._parent_csr)
        mask[start] = False
        return self._names(mask)

    def descendants(self, nodes) -> set[str]:
        """Nodes reachable from ``nodes`` by directed paths (the nodes themselves excluded).

        Parameters
        ----------
        nodes : str or iterable of str
            One node or several.

        Examples
        --------
        >>> sorted(DAG.from_edges([("a", "b"), ("b", "c"), ("d", "c")]).descendants("a"))
        ['b', 'c']
        """
        start = self._node_set(nodes, "nodes")
        mask = self._closure(start, self._child_csr)
        mask[start] = False
        return self._names(mask)

    def markov_blanket(self, node: str) -> set[str]:
        """Parents, children and the children's other parents of ``node``.

        Given its Markov blanket, a node is independent of every other node.

        Parameters
        ----------
        node : str
            A node of the graph.

        Examples
        --------
        >>> sorted(DAG.from_edges([("a", "c"), ("b", "c"), ("c", "d")]).markov_blanket("a"))
        ['b', 'c']
        """
        i = self._idx(node)
        blanket = set(self._parents[node])
        for c in self._children_lists[i]:
            blanket.add(self._nodes[c])
            blanket.update(self._parents[self._nodes[c]])
        blanket.discard(node)
        return blanket

    def to_networkx(self) -> nx.DiGraph:
        """The graph as a new :class:`networkx.DiGraph` (nodes in declaration order)."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from(self._nodes)
        g.add_edges_from(self.edges)
        return g

    def moral_graph(self) -> nx.Graph:
        """The undirected graph that links each node's parents ("marries" them) and drops directions.

        Examples
        --------
        >>> sorted(map(sorted, DAG.from_edges([("a", "c"), ("b", "c")]).moral_graph().edges))
        [['a', 'b'], ['a', 'c'], ['b', 'c']]
        """
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(self._nodes)
        for child, ps in self._parents.items():
            g.add_edges_from((p, child) for p in ps)
            g.add_edges_from((a, b) for k, a in enumerate(ps) for b in ps[k + 1:])
        return g

    def skeleton(self) -> set[frozenset]:
        """The edges as unordered pairs."""
        return {frozenset(e) for e in self.edges}

    def v_structures(self) -> set[tuple[str, str, str]]:
        """Immoralities ``a -> c <- b`` with ``a`` and ``b`` not adjacent, as ``(a, c, b)``, a < b.

        Examples
        --------
        >>> DAG.from_edges([("rain", "wet"), ("sprinkler", "wet")]).v_structures()
        {('rain', 'wet', 'sprinkler')}
        """
        skeleton = self.skeleton()
        found = set()
        for c, ps in self._parents.items():
            for k, a in enumerate(ps):
                for b in ps[k + 1:]:
                    if frozenset((a, b)) not in skeleton:
                        found.add((min(a, b), c, max(a, b)))
        return found

    def is_i_equivalent(self, other: "DAG") -> bool:
        """Whether ``other`` encodes the same independencies: same skeleton and v-structures.

        (Verma & Pearl, 1990.)

        Parameters
        ----------
        other : DAG or BayesianNetwork
            The graph to compare with.

        Examples
        --------
        >>> chain = DAG.from_edges([("a", "b"), ("b", "c")])
        >>> chain.is_i_equivalent(DAG.from_edges([("c", "b"), ("b", "a")]))
        True
        >>> chain.is_i_equivalent(DAG.from_edges([("a", "b"), ("c", "b")]))
        False
        """
        other = getattr(other, "dag", other)
        if not isinstance(other, DAG):
            raise TypeError(f"is_i_equivalent needs a DAG or a BayesianNetwork, not {type(other).__name__}")
        return (
            set(self._nodes) == set(other.nodes)
            and self.skeleton() == other.skeleton()
            and self.v_structures() == other.v_structures()
        )

    def local_independencies(self) -> list[Independence]:
        """For each node: independent of its non-descendants given its parents.

        These are the local Markov assumptions the factorisation encodes.
        Nodes with nothing to be independent of are left out.

        Examples
        --------
        >>> [str(s) for s in DAG.from_edges([("a", "b"), ("b", "c")]).local_independencies()]
        ['c ⊥ a | b']
        """
        statements = []
        everything = set(self._nodes)
        for node in self._order:
            ps = set(self._parents[node])
            rest = everything - self.descendants(node) - ps - {node}
            if rest:
                statements.append(Independence(frozenset({node}), frozenset(rest), frozenset(ps)))
        return statements

    # ------------------------------------------------------------------ d-separation
    def _reach(self, sources: np.ndarray, given: np.ndarray, targets: np.ndarray | None = None,
               max_levels: int | None = None):
        """Bayes-ball from ``sources`` given ``given``; stop early once a target is reached.

        With ``max_levels``, give up (return None) when the search needs more levels.

        With ``targets``, the ball is confined to the ancestors of sources,
        targets and observed nodes: a trail that leaves that set can never come
        back to a target (it could only go on down, and nothing below it is a
        source, target or observed node), so the answer is the same and the
        search touches a small part of a large graph.

        States are encoded ``direction * n + node``.  Returns ``(reached,
        predecessor, hit)``: a boolean mask of nodes at the end of an active
        trail from a source, the predecessor state of every state (``_SOURCE``
        at sources, ``_UNVISITED`` where the ball never went), and the first
        target state reached (or -1).
        """
        n = len(self._nodes)
        observed = np.zeros(n, dtype=bool)
        observed[given] = True
        # A collider passes the ball when it or one of its descendants is
        # observed, i.e. when it is an ancestor of (or in) the observed set.
        opens_collider = self._closure(given, self._parent_csr) if given.size else observed
        is_target = allowed = None
        if targets is not None:
            is_target = np.zeros(n, dtype=bool)
            is_target[targets] = True
            allowed = self._closure(np.concatenate((sources, targets)), self._parent_csr, within=opens_collider)
        predecessor = np.full(2 * n, _UNVISITED, dtype=np.intp)
        predecessor[_UP * n + sources] = _SOURCE
        up, down = sources, np.empty(0, dtype=np.intp)
        hit, levels = -1, 0
        while up.size or down.size:
            levels += 1
            if max_levels is not None and levels > max_levels:
                return None
            up_open = up[~observed[up]]
            down_open = down[~observed[down]]
            down_bounce = down[opens_collider[down]]
            # balls going up (to parents) come from open "up" states and bouncing "down" states;
            # balls going down (to children) from every open state
            to_parents = np.concatenate((up_open, down_bounce))
            to_parents_state = np.concatenate((up_open + _UP * n, down_bounce + _DOWN * n))
            to_children = np.concatenate((up_open, down_open))
            to_children_state = np.concatenate((up_open + _UP * n, down_open + _DOWN * n))
            up = self._advance(self._parent_csr, to_parents, to_parents_state, predecessor, _UP * n, allowed)
            down = self._advance(self._child_csr, to_children, to_children_state, predecessor, _DOWN * n, allowed)
            if is_target is not None:
                for offset, nodes in ((_UP * n, up), (_DOWN * n, down)):
                    found = nodes[is_target[nodes]]
                    if found.size:
                        hit = offset + int(found[0])
                        break
                if hit >= 0:
                    break
        visited = predecessor != _UNVISITED
        reached = (visited[:n] | visited[n:]) & ~observed
        return reached, predecessor, hit

    @staticmethod
    def _advance(csr, frontier, frontier_states, predecessor, offset, allowed):
        """Move the ball from ``frontier`` along ``csr``; record and return the newly visited nodes."""
        nodes, positions = _expand_positions(*csr, frontier)
        if nodes.size == 0:
            return nodes
        states = nodes + offset
        new = predecessor[states] == _UNVISITED
        if allowed is not None:
            new &= allowed[nodes]
        states, sources = states[new], frontier_states[positions[new]]
        predecessor[states] = sources
        # several sources may reach a node in the same level: the last write won,
        # and any of them lies on a shortest trail
        states = states[predecessor[states] == sources]
        return states - offset

    def _prepare(self, x, y, given):
        xs = self._node_set(x, "x")
        ys = self._node_set(y, "y") if y is not None else None
        zs = self._node_set(given, "given")
        sets = [("x", xs), ("given", zs)] + ([("y", ys)] if ys is not None else [])
        for k, (name_a, a) in enumerate(sets):
            for name_b, b in sets[k + 1:]:
                common = np.intersect1d(a, b)
                if common.size:
                    raise NodeError(
                        f"{name_a} and {name_b} must be disjoint, but both contain "
                        f"{sorted(self._names(common))}"
                    )
        for name, nodes in (("x", xs), ("y", ys)):
            if nodes is not None and nodes.size == 0:
                raise NodeError(f"{name} must contain at least one node")
        return xs, ys, zs

    def d_connected(self, x, given=()) -> set[str]:
        """Every node joined to ``x`` by an active trail given ``given``.

        One linear-time pass answers this for all nodes at once; nodes in ``x``
        and ``given`` are not included.

        Parameters
        ----------
        x : str or iterable of str
            The node (or nodes) to start from.
        given : str or iterable of str, optional
            The observed nodes.

        Examples
        --------
        >>> dag = DAG.from_edges([("a", "c"), ("b", "c")])
        >>> sorted(dag.d_connected("a"))
        ['c']
        >>> sorted(dag.d_connected("a", given="c"))
        ['b']
        """
        xs, _, zs = self._prepare(x, None, given)
        reached = None if self._deep else self._reach(xs, zs, max_levels=_BALL_LEVELS)
        if reached is None:
            self._deep = True
            reached = self._compiled_ball(xs, zs)
        else:
            reached = reached[0]
        reached[xs] = False
        return self._names(reached)

    def active_trail(self, x, y, given=()) -> list[str] | None:
        """A shortest active trail from ``x`` to ``y`` given ``given``, or None if d-separated.

        ``x`` and ``y`` may be single nodes or collections; the trail starts in
        ``x`` and ends in ``y``.

        Parameters
        ----------
        x, y : str or sequence of str
            The two nodes (or node sets) whose connection is asked about.
        given : str or sequence of str, optional
            The observed nodes.

        Examples
        --------
        >>> dag = DAG.from_edges([("rain", "wet"), ("sprinkler", "wet")])
        >>> dag.active_trail("rain", "sprinkler") is None
        True
        >>> dag.active_trail("rain", "sprinkler", given="wet")
        ['rain', 'wet', 'sprinkler']
        """
        xs, ys, zs = self._prepare(x, y, given)
        _, predecessor, hit = self._reach(xs, zs, targets=ys)
        if hit < 0:
            return None
        n = len(self._nodes)
        trail = []
        state = hit
        while state != _SOURCE:
            trail.append(self._nodes[state % n])
            state = predecessor[state]
        trail.reverse()
        return trail

    def is_d_separated(self, x, y, given=()) -> bool:
        """Whether ``given`` d-separates ``x`` from ``y``.

        Parameters
        ----------
        x, y : str or collection of str
            A node or a set of nodes; must be disjoint from each other and from ``given``.
        given : str or collection of str, optional
            The observed nodes.

        Returns
        -------
        bool
            True when no active trail joins ``x`` and ``y``; see
            :meth:`active_trail` for a witness when the answer is False.

        Examples
        --------
        >>> dag = DAG.from_edges([("smoke", "lung"), ("lung", "xray")])
        >>> dag.is_d_separated("smoke", "xray")
        False
        >>> dag.is_d_separated("smoke", "xray", given="lung")
        True
        """
        xs, ys, zs = self._prepare(x, y, given)
        if not self._deep:
            found = self._reach(xs, zs, targets=ys, max_levels=_BALL_LEVELS)
            if found is not None:
                return found[2] < 0
            self._deep = True  # this graph needs many levels: ask the compiled search from now on
        return not self._compiled_ball(xs, zs, targets=ys)

    # A graph's yes/no questions go to the compiled search once one has needed it.
    _deep = False

    @cached_property
    def _ball_graph(self):
        """The ball's moves as compressed sparse rows over states, for no observed node.

        State ``v`` is "arrived at v from a child" (up), state ``n + v`` "arrived
        from a parent" (down).  Up moves to every parent (up) and to the node's
        own down state; down moves to every child (down).  A node without children keeps one
        slot in its down row, so that observing it can turn the row into a
        bounce (see :meth:`_compiled_ball`).
        """
        n = len(self._nodes)
        parent_ptr, parent_idx = self._parent_csr
        child_ptr, child_idx = self._child_csr
        n_parents, n_children = np.diff(parent_ptr), np.diff(child_ptr)
        # An unobserved node reached from a child moves on to its parents and to its children; the
        # second is exactly what it does when reached from a parent, so "up" lists its own "down"
        # state once instead of every child.
        lengths = np.concatenate((n_parents + 1, np.maximum(n_children, 1)))
        indptr = np.zeros(2 * n + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        indices = np.full(int(indptr[-1]), 2 * n, dtype=np.int32)  # 2n: a dead end
        indices[_ranges(indptr[:n], indptr[:n] + n_parents)] = parent_idx  # up: to each parent, up
        indices[indptr[1:n + 1] - 1] = n + np.arange(n)  # up: and on down, as from a parent
        indices[_ranges(indptr[n:2 * n], indptr[n:2 * n] + n_children)] = n + child_idx  # down: to each child
        return indptr.astype(np.int32), indices

    def _compiled_ball(self, sources: np.ndarray, given: np.ndarray, targets: np.ndarray | None = None):
        """The nodes d-connected to ``sources`` given ``given``: a mask (observed nodes excluded), or with
        ``targets``, whether any target is d-connected.

        One breadth-first search in compiled code over the ball's states with
        Shachter's rules: the rows of each observed node are changed (up: no
        move; down: back up to its parents, through one extra row) and a
        source row points at the sources.
        """
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import breadth_first_order

        n = len(self._nodes)
        indptr, static = self._ball_graph
        parent_ptr, parent_idx = self._parent_csr
        dead, source = 2 * n, 2 * n + 1
        bounce_targets = parent_idx[_ranges(parent_ptr[given], parent_ptr[given + 1])]
        blocked = np.concatenate((_ranges(indptr[given], indptr[given + 1]),
                                  _ranges(indptr[n + given], indptr[n + given + 1])))
        extra = np.concatenate((sources, bounce_targets)).astype(np.int32)
        size = len(static) + len(extra)
        with self._ball_buffer(size) as indices:
            indices[blocked] = dead  # observed, reached from a child: blocked
            indices[indptr[n + given]] = 2 * n + 2 + np.arange(len(given))  # from a parent: back up to the parents
            indices[len(static):size] = extra
            row_ends = len(static) + np.concatenate(([0, len(sources)], len(sources) + np.cumsum(np.diff(parent_ptr)[given])))
            full_indptr = np.concatenate((indptr, row_ends.astype(np.int32)))
            states = len(full_indptr) - 1
            try:
                graph = csr_matrix((_ones(size), indices[:size], full_indptr), shape=(states, states))
                order = breadth_first_order(graph, source, directed=True, return_predecessors=False)
            finally:
                indices[blocked] = static[blocked]  # leave the buffer as it was
        if targets is not None and len(targets) <= 8:  # a few comparisons beat building a mask
            return any(bool((order == t).any() or (order == n + t).any()) for t in targets.tolist())
        visited = np.zeros(states, dtype=bool)
        visited[order] = True
        reached = visited[:n] | visited[n:2 * n]
        reached[given] = False
        return reached if targets is None else bool(reached[targets].any())

    @contextlib.contextmanager
    def _ball_buffer(self, size: int):
        """A copy of the ball's static moves with room for ``size`` entries, reused between queries.

        Reuse saves copying every move on every query; a query that finds the
        buffer in use (another thread) works on a fresh copy instead.
        """
        static = self._ball_graph[1]
        lock = self.__dict__.setdefault("_ball_lock", threading.Lock())
        if not lock.acquire(blocking=False):
            fresh = np.empty(size, dtype=np.int32)
            fresh[:len(static)] = static
            yield fresh
            return
        try:
            buffer = self.__dict__.get("_ball_buffer_array")
            if buffer is None or len(buffer) < size:
                buffer = np.empty(max(size, len(static) + 64), dtype=np.int32)
                buffer[:len(static)] = static
                self.__dict__["_ball_buffer_array"] = buffer
            yield buffer
        finally:
            lock.release()
