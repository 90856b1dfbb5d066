"""Elimination orders for junction trees: several greedy heuristics, the cheapest kept.

Eliminating a variable from an undirected graph joins all its neighbours
into a clique (the *fill* edges are the missing links among them); the
cliques of a whole elimination order are the junction tree's cliques, and the
sum of their table sizes (products of the variables' cardinalities) is what
calibration costs per row.  Finding the order that minimises it is NP-hard,
and the usual greedy rules win on some graphs and lose on others:

- *min-fill* eliminates the variable that adds the fewest fill edges;
- *weighted min-fill* breaks its ties by the smallest clique table;
- *min-weight* eliminates the variable whose clique table is smallest;
- *weighted fill* counts each fill edge by the table it creates (the product
  of its two endpoints' cardinalities);
- *randomized* min-fill breaks ties at random (seeded, so reproducible).

:func:`triangulate` runs weighted min-fill first and, when its tree is large
enough for the ordering to matter (more than :data:`TRY_OTHERS_ENTRIES`
entries, by default), the others too, keeping the order whose tree has the fewest
entries; small trees, compiled per evidence pattern, stay cheap to plan.

References: Kjaerulff (1990), "Triangulation of graphs -- algorithms giving
small total state space"; Koller & Friedman (2009), section 9.4.3.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["HEURISTICS", "TRY_OTHERS_ENTRIES", "effort_threshold", "greedy_order", "heuristics_for", "total_entries",
           "triangulate"]

#: Trees with more entries than this may be worth a few more orderings ...
TRY_OTHERS_ENTRIES = 1 << 16
#: ... but each ordering costs a greedy pass, about this many table entries' worth of calibration per
#: variable of the graph (~0.2 ms per variable), so a tree must save that on the rows it serves
#: (:func:`effort_threshold`).
ENTRIES_PER_VARIABLE_PER_PASS = 8000


def effort_threshold(n_variables: int, n_rows: int) -> int:
    """Tree entries above which :func:`triangulate` tries the other heuristics, for a tree serving ``n_rows``.

    Examples
    --------
    >>> effort_threshold(30, 1), effort_threshold(30, 10_000)
    (240000, 65536)
    """
    return max(TRY_OTHERS_ENTRIES, ENTRIES_PER_VARIABLE_PER_PASS * n_variables // max(1, n_rows))


#: Heuristics known by name, in order; the first is the default and wins ties.  The first four are tried on
#: every large tree, random tie-breaks (``"randomized-min-fill-<seed>"``) as the tree's rows repay them
#: (:func:`heuristics_for`).
HEURISTICS = ("weighted-min-fill", "min-fill", "min-weight", "weighted-fill",
              "randomized-min-fill-1", "randomized-min-fill-2", "randomized-min-fill-3")
#: Most random tie-breaks tried.
MAX_RANDOM_TRIES = 32


def heuristics_for(total: int, n_variables: int, n_rows: int = 1) -> tuple[str, ...]:
    """The heuristics :func:`triangulate` tries for a tree of ``total`` entries serving ``n_rows`` rows.

    Weighted min-fill and the other fixed heuristics, then random
    tie-breaks of min-fill while the passes cost less than one calibration
    of the tree for its rows (a pass costs about
    :data:`ENTRIES_PER_VARIABLE_PER_PASS` entries per variable), at most
    :data:`MAX_RANDOM_TRIES`.

    Examples
    --------
    >>> len(heuristics_for(10_000, 100)), len(heuristics_for(10**9, 100, 1000))
    (4, 36)
    """
    passes = total * max(1, n_rows) // max(1, ENTRIES_PER_VARIABLE_PER_PASS * n_variables)
    random_tries = min(MAX_RANDOM_TRIES, max(0, passes - 4))
    return HEURISTICS[:4] + tuple(f"randomized-min-fill-{seed}" for seed in range(1, random_tries + 1))


def _scorer(heuristic: str, adj: dict, log_cards: dict, cards: Sequence[int]):
    """A function v -> sortable score (lowest is eliminated first; the last item is always v's tie-break)."""
    if heuristic.startswith("randomized"):
        seed = int(heuristic.rsplit("-", 1)[1])
        draws = np.random.default_rng(seed).permutation(len(cards))
        tie = {v: int(draws[v]) for v in adj}
    else:
        tie = {v: v for v in adj}

    def fill_of(v, weighted: bool):
        nb = list(adj[v])
        fill = 0
        for i, a in enumerate(nb):
            neighbours_of_a = adj[a]
            for b in nb[i + 1:]:
                if b not in neighbours_of_a:
                    fill += cards[a] * cards[b] if weighted else 1
        return fill

    def weight(v) -> float:
        return round(log_cards[v] + sum(log_cards[u] for u in adj[v]), 9)

    if heuristic == "weighted-min-fill":
        return lambda v: (fill_of(v, False), weight(v), tie[v])
    if heuristic == "min-weight":
        return lambda v: (weight(v), fill_of(v, False), tie[v])
    if heuristic == "weighted-fill":
        return lambda v: (fill_of(v, True), weight(v), tie[v])
    # min-fill and its randomized versions: ties broken by the tie key alone
    return lambda v: (fill_of(v, False), tie[v])


def greedy_order(adjacency: Mapping[int, set[int]], cards: Sequence[int],
                 heuristic: str = "weighted-min-fill") -> tuple[list[int], list[frozenset]]:
    """One greedy elimination order by ``heuristic`` (one of :data:`HEURISTICS`).

    Returns the order and, per eliminated variable, its elimination clique
    (itself and its neighbours at that moment).  Scores live in a heap and are
    recomputed only around the variables whose neighbourhood changed, so
    sparse graphs are ordered in near-linear time.

    Examples
    --------
    >>> order, cliques = greedy_order({0: {1}, 1: {0, 2}, 2: {1}}, [2, 2, 2], "min-fill")
    >>> order, max(len(c) for c in cliques)
    ([0, 1, 2], 2)
    """
    seed = heuristic.rsplit("-", 1)[1] if heuristic.startswith("randomized-min-fill-") else ""
    if heuristic not in HEURISTICS[:4] and not (seed.isdigit() and int(seed) > 0):
        raise ValueError(f"heuristic must be one of {list(HEURISTICS)} (or randomized-min-fill-<seed>), "
                         f"got {heuristic!r}")
    adj = {v: set(nb) for v, nb in adjacency.items()}
    log_cards = {v: float(np.log(cards[v])) for v in adj}
    score = _scorer(heuristic, adj, log_cards, cards)
    current = {v: (score(v), v) for v in adj}
    heap = list(current.values())
    heapq.heapify(heap)
    order: list[int] = []
    cliques: list[frozenset] = []
    while heap:
        entry = heapq.heappop(heap)
        v = entry[1]
        if v not in adj or current.get(v) != entry:
            continue  # stale
        nb = adj.pop(v)
        del current[v]
        order.append(v)
        cliques.append(frozenset(nb | {v}))
        touched = set(nb)
        for a in nb:
            adj[a].discard(v)
            adj[a].update(nb - {a})
        for a in nb:
            touched.update(adj[a])
        for u in touched:
            if u in adj:
                s = (score(u), u)
                if s != current[u]:
                    current[u] = s
                    heapq.heappush(heap, s)
    return order, cliques


def total_entries(order: Sequence[int], cliques: Sequence[frozenset], cards: Sequence[int]) -> int:
    """Entries of the junction tree an elimination order gives: its maximal cliques' table sizes, summed.

    An elimination clique is dropped when it lies inside one of its children
    in the elimination tree (it is merged into it when the tree is built).
    """
    position = {v: k for k, v in enumerate(order)}
    children: list[list[int]] = [[] for _ in order]
    for k, members in enumerate(cliques):
        later = [position[u] for u in members if u != order[k]]
        if later:
            children[min(later)].append(k)  # the elimination tree: k hangs below its earliest-eliminated neighbour
    contained = [any(members <= cliques[j] for j in children[k]) for k, members in enumerate(cliques)]
    return sum(math.prod(cards[v] for v in members) for k, members in enumerate(cliques) if not contained[k])


def triangulate(adjacency: Mapping[int, set[int]], cards: Sequence[int], *, n_rows: int = 1,
                try_others_above: float | None = None) -> tuple[list[int], list[frozenset], str, int]:
    """The cheapest elimination order found: ``(order, cliques, heuristic, total_entries)``.

    Weighted min-fill always runs; when its tree has more than
    ``try_others_above`` entries (default :func:`effort_threshold` for a tree
    serving ``n_rows`` rows) the other heuristics of :func:`heuristics_for`
    run too and the order with the fewest total entries is kept (the earlier
    heuristic on a tie).

    Examples
    --------
    >>> ring = {v: {(v - 1) % 6, (v + 1) % 6} for v in range(6)}
    >>> order, cliques, heuristic, total = triangulate(ring, [3] * 6)
    >>> heuristic, total, max(len(c) for c in cliques)
    ('weighted-min-fill', 108, 3)
    """
    if try_others_above is None:
        try_others_above = effort_threshold(len(cards), n_rows)
    order, cliques = greedy_order(adjacency, cards, HEURISTICS[0])
    best = (total_entries(order, cliques, cards), 0, order, cliques, HEURISTICS[0])
    if best[0] > try_others_above:
        for rank, heuristic in enumerate(heuristics_for(best[0], len(cards), n_rows)[1:], start=1):
            order, cliques = greedy_order(adjacency, cards, heuristic)
            candidate = (total_entries(order, cliques, cards), rank, order, cliques, heuristic)
            if candidate[:2] < best[:2]:
                best = candidate
    total, _, order, cliques, heuristic = best
    return order, cliques, heuristic, total
