"""Join graphs by schematic mini-bucket elimination: the clusters of iterative join-graph propagation.

Bucket elimination along an order puts each factor in the bucket of its
first eliminated variable; eliminating a variable multiplies its bucket into
one function over the bucket's other variables, which moves on to the bucket
of its own first variable.  Written down without computing anything, the
buckets are the clusters of a junction tree (a *bucket tree*), and the
largest has the induced width's size.

The mini-bucket scheme caps that: a bucket whose union of scopes would hold
more than ``max_entries`` table entries is split into mini-buckets that each
fit (first fit, largest scope first), and each mini-bucket sends its own
function on.  The clusters are the mini-buckets; edges join a mini-bucket to
the one that receives its function (labelled with that function's scope),
and the mini-buckets of one bucket to each other in a chain (labelled with
the bucket's variable).  Every variable's clusters and edges then form a
tree, which is what iterative join-graph propagation needs (Mateescu, Kask,
Gogate & Dechter 2010, *Join-graph propagation algorithms*, JAIR 37).  When
no bucket is split the join graph is the bucket tree and propagation is
exact; the smaller the cap, the closer it gets to the factor graph of loopy
belief propagation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Cluster", "JoinGraph", "build_join_graph"]


@dataclass
class Cluster:
    """One mini-bucket: its variables (in order), the factors it holds, and the bucket's variable."""

    variables: tuple[int, ...]
    bucket: int
    factors: list[int] = field(default_factory=list)

    def entries(self, cards: Sequence[int]) -> int:
        return int(np.prod([cards[v] for v in self.variables], dtype=np.float64))


@dataclass
class JoinGraph:
    """Clusters in elimination order and undirected edges ``(earlier, later, separator variables)``.

    ``home[v]`` is the first cluster of ``v``'s own bucket, where its evidence
    enters and its marginal is read.  ``split`` is whether any bucket was
    split into mini-buckets (if not, the graph is a tree and propagation exact).
    """

    cards: tuple[int, ...]
    clusters: list[Cluster]
    edges: list[tuple[int, int, tuple[int, ...]]]
    home: dict[int, int]
    split: bool

    def total_entries(self) -> int:
        return sum(c.entries(self.cards) for c in self.clusters)

    def largest_entries(self) -> int:
        return max(c.entries(self.cards) for c in self.clusters)

    def separator_entries(self) -> int:
        return sum(int(np.prod([self.cards[v] for v in s], dtype=np.float64)) for _, _, s in self.edges)


def _entries(variables, cards) -> float:
    return float(np.prod([cards[v] for v in variables], dtype=np.float64))


def build_join_graph(cards: Sequence[int], scopes: Sequence[Sequence[int]], order: Sequence[int],
                     max_entries: float) -> JoinGraph:
    """The mini-bucket join graph of factors with ``scopes`` over variables with ``cards``.

    Parameters
    ----------
    cards : sequence of int
        Each variable's number of states.
    scopes : sequence of sequences of int
        Each factor's variables.
    order : sequence of int
        An elimination order of every variable.
    max_entries : float
        The most table entries in a cluster; a factor larger than that keeps a cluster of its own.

    Returns
    -------
    JoinGraph

    Examples
    --------
    A chain a - b - c is a tree: one cluster per bucket, never split.

    >>> g = build_join_graph([2, 2, 2], [(0,), (0, 1), (1, 2)], [0, 1, 2], max_entries=4)
    >>> [c.variables for c in g.clusters], g.split
    ([(0, 1), (1, 2), (2,)], False)

    A 4-cycle needs a cluster of three binary variables; capped at 4 entries the bucket is split.

    >>> ring = [(0, 1), (1, 2), (2, 3), (0, 3)]
    >>> build_join_graph([2] * 4, ring, [0, 1, 2, 3], max_entries=8).split
    False
    >>> build_join_graph([2] * 4, ring, [0, 1, 2, 3], max_entries=4).split
    True
    """
    position = {v: k for k, v in enumerate(order)}
    if len(position) != len(cards):
        raise ValueError("the elimination order must list every variable once")
    # bucket items: (scope as a frozenset, factor index or None, sending cluster or None)
    buckets: dict[int, list] = {v: [] for v in order}
    for f, scope in enumerate(scopes):
        if scope:
            buckets[min(scope, key=position.__getitem__)].append((frozenset(scope), f, None))
    clusters: list[Cluster] = []
    edges: list[tuple[int, int, tuple[int, ...]]] = []
    home: dict[int, int] = {}
    split = False
    for v in order:
        items = sorted(buckets[v], key=lambda item: (-_entries(item[0], cards), sorted(item[0])))
        minis: list[list] = []  # [union scope, items]
        for item in items:
            # the mini-bucket sharing most variables with the item among those it fits in (scope-based
            # partitioning: functions over the same variables stay together, so less is approximated)
            best, best_key = None, None
            for mini in minis:
                union = mini[0] | item[0]
                if _entries(union, cards) <= max_entries:
                    key = (len(mini[0] & item[0]), -_entries(union, cards))
                    if best_key is None or key > best_key:
                        best, best_key = mini, key
            if best is None:
                minis.append([item[0] | {v}, [item]])
            else:
                best[0] = best[0] | item[0]
                best[1].append(item)
        if not minis:  # a variable no factor mentions: a cluster of its own
            minis = [[frozenset({v}), []]]
        split |= len(minis) > 1
        first = len(clusters)
        home[v] = first
        for k, (scope, members) in enumerate(minis):
            c = len(clusters)
            variables = tuple(sorted(scope, key=position.__getitem__))
            clusters.append(Cluster(variables, v, [f for _, f, _ in members if f is not None]))
            for item_scope, _, sender in members:
                if sender is not None:
                    edges.append((sender, c, tuple(sorted(item_scope, key=position.__getitem__))))
            if k:
                edges.append((c - 1, c, (v,)))
            rest = scope - {v}
            if rest:
                buckets[min(rest, key=position.__getitem__)].append((rest, None, c))
    return JoinGraph(tuple(int(c) for c in cards), clusters, edges, home, split)
