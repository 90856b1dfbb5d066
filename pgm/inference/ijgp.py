"""Iterative join-graph propagation (IJGP): belief propagation between clusters, batched over rows of evidence.

Loopy belief propagation passes messages between single CPDs and single
variables; its error is that of the Bethe approximation, which on alarm is
0.2 however long it runs.  IJGP passes them between *clusters* of a join
graph (:mod:`pgm.inference.join_graph`): mini-buckets of bucket elimination,
each holding at most ``cluster_entries`` table entries.  A message from one
cluster to a neighbour is the cluster's potential (its CPDs and evidence)
times the messages from its other neighbours, summed onto the variables
they share.  With a cap at least the size of the elimination's largest
cluster the join graph is a junction tree and one forward and one backward
pass give the exact posteriors; below that, the messages are iterated to a
fixed point whose beliefs approximate the marginals, and the larger the
cap, the closer they get (Mateescu, Kask, Gogate & Dechter 2010).

Every message is an array over (separator states..., row): one schedule of
einsum calls answers all rows of a batch.  Each iteration sends every
message once in elimination order and once back (the schedule that makes a
tree exact in one iteration), mixing each new message with the old one by
``damping``.  A row has converged when no normalised message moved by more
than ``tol``; it then leaves the working arrays.  Messages are normalised to
sum to 1 per row, so products stay in range; exact zeros (deterministic
CPDs, hard evidence) are kept as zeros.

Variables observed with the same state in every row are conditioned on
before the join graph is built (their CPDs are restricted), which makes its
clusters smaller; other evidence enters as likelihood vectors per row.  For
every node's posterior the network is answered in *parts*, each holding some
nodes with their ancestors and the evidence's, grouped while the part is
solved exactly -- its buckets fit the cap, or its whole bucket tree fits
``exact_entries`` (the rest of the network is barren for those nodes) -- so
that most parts are solved exactly.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from pgm._chunks import row_chunks
from pgm.errors import ImpossibleEvidenceError, InferenceTooLarge, StructureError
from pgm.inference.approximate import budget_bytes
from pgm.inference.evidence import Evidence, as_evidence, likelihood_vectors, restricted_table
from pgm.inference.join_graph import JoinGraph, build_join_graph
from pgm.inference.junction_tree import format_bytes

__all__ = ["DEFAULT_CLUSTER_ENTRIES", "DEFAULT_EXACT_ENTRIES", "IJGPReport", "iterative_join_graph_propagation"]

#: Default cap on a cluster's table entries.  Chosen by measurement on bnlearn networks
#: (benchmarks/approximate.py): alarm, hailfinder and pathfinder fit it exactly, and munin's
#: approximated parts stay well under a second per iteration.
DEFAULT_CLUSTER_ENTRIES = 2 ** 16

#: Default table entries (all clusters together) under which a part is solved exactly, whatever its
#: largest cluster: 128 MiB of tables.  On munin1 the parts the cap would approximate need 0.5-15 million
#: entries exactly, and one exact pass over them costs about what the capped iterations did (benchmarks/approximate.py).
DEFAULT_EXACT_ENTRIES = 2 ** 24

_LETTERS = "abcdefghijklmopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # einsum axes; "n" is the row axis


@dataclass(frozen=True)
class IJGPReport:
    """How iterative join-graph propagation ended.

    Attributes
    ----------
    iterations : int
        Iterations run (one forward and one backward pass each; the largest over chunks of rows).
    max_residual : float
        The largest change of a normalised message in the last iteration, over all rows.
    converged : bool
        Whether every row's residual fell below ``tol``.
    row_residuals : ndarray (n_rows,)
    row_converged : ndarray of bool (n_rows,)
    row_iterations : ndarray of int (n_rows,)
        The iteration at which each row first fell below ``tol`` (``max_iter`` if never).
    damping, tol : float
    max_iter : int
    cluster_entries : int
        The cap on a cluster's table entries.
    n_clusters : int
    largest_cluster : int
        Table entries of the largest cluster (a CPD larger than the cap keeps a cluster of its own).
    table_entries : int
        Table entries of all clusters together (8 bytes each).
    exact : bool
        True when no bucket had to be split: the join graph is a junction tree and the answer exact.
    log_evidence : None
        IJGP gives no estimate of p(evidence) here (answers report NaN).
    n_parts : int
        Parts solved one after another (:func:`iterative_join_graph_propagation` explains them);
        ``n_clusters`` counts the clusters of all parts, ``table_entries`` those of the largest.
    """

    iterations: int
    max_residual: float
    converged: bool
    row_residuals: np.ndarray
    row_converged: np.ndarray
    row_iterations: np.ndarray
    damping: float
    tol: float
    max_iter: int
    cluster_entries: int
    n_clusters: int
    largest_cluster: int
    table_entries: int
    exact: bool
    log_evidence: None = None
    n_parts: int = 1

    def __str__(self) -> str:
        rows = len(self.row_converged)
        settled = int(self.row_converged.sum())
        verdict = "converged" if self.converged else f"NOT converged ({rows - settled} of {rows} row(s) did not)"
        parts = f"{self.n_parts} parts, " if self.n_parts > 1 else ""
        if self.exact:
            graph = "every part a junction tree: exact" if self.n_parts > 1 else "a junction tree: exact"
        else:
            graph = f"{parts}{self.n_clusters} clusters of at most {self.cluster_entries:,} entries"
        return (f"join-graph propagation ({graph}) {verdict} after {self.iterations} iteration(s): largest "
                f"residual {self.max_residual:.3g} (tol {self.tol:g}, damping {self.damping:g}, "
                f"max_iter {self.max_iter})")

    def __repr__(self) -> str:
        return str(self)


def _check_options(cluster_entries, exact_entries, damping, max_iter, tol) -> None:
    if isinstance(cluster_entries, bool) or not isinstance(cluster_entries, (int, np.integer)) or cluster_entries < 1:
        raise ValueError(f"cluster_entries must be a positive integer, got {cluster_entries!r}")
    if isinstance(exact_entries, bool) or not isinstance(exact_entries, (int, np.integer)) or exact_entries < 0:
        raise ValueError(f"exact_entries must be an integer >= 0, got {exact_entries!r}")
    if isinstance(damping, bool) or not isinstance(damping, (int, float, np.floating)) or not 0 <= damping < 1:
        raise ValueError(f"damping must be a number in [0, 1), got {damping!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not tol > 0:
        raise ValueError(f"tol must be a positive number, got {tol!r}")


class _Schedule:
    """The join graph laid out for batched propagation: potentials, directed messages and einsum specs."""

    def __init__(self, graph: JoinGraph, tables: list[np.ndarray], scopes: list[tuple[int, ...]], unary_vars):
        self.graph = graph
        cards = graph.cards
        self.potentials = []
        for cluster in graph.clusters:
            if len(cluster.variables) > len(_LETTERS):
                raise InferenceTooLarge(f"a cluster of {len(cluster.variables)} variables is more than join-graph "
                                        f"propagation handles ({len(_LETTERS)})")
            potential = np.ones([cards[v] for v in cluster.variables])
            for f in cluster.factors:
                potential = potential * _aligned(tables[f], scopes[f], cluster.variables)
            self.potentials.append(potential)
        # directed messages: (sender, receiver, separator); edge k gives messages 2k (forward) and 2k+1 (back)
        self.messages = []
        for a, b, sep in graph.edges:
            self.messages += [(a, b, sep), (b, a, sep)]
        self.incoming = [[] for _ in graph.clusters]
        for m, (_, receiver, _) in enumerate(self.messages):
            self.incoming[receiver].append(m)
        self.unary_at = [[] for _ in graph.clusters]
        for v in unary_vars:
            self.unary_at[graph.home[v]].append(v)
        self.forward = [m for m in range(len(self.messages)) if m % 2 == 0]
        self.forward.sort(key=lambda m: self.messages[m][0])
        self.backward = [m for m in range(len(self.messages)) if m % 2 == 1]
        self.backward.sort(key=lambda m: -self.messages[m][0])
        self.specs = [self._spec(m) for m in range(len(self.messages))]

    def _letters(self, c: int) -> dict[int, str]:
        return {v: _LETTERS[k] for k, v in enumerate(self.graph.clusters[c].variables)}

    def _inputs(self, c: int, skip: int | None):
        """einsum input terms of cluster ``c``'s product, leaving out message ``skip``: (terms, operand keys)."""
        letters = self._letters(c)
        terms = ["".join(letters[v] for v in self.graph.clusters[c].variables)]
        keys = [("potential", c)]
        for v in self.unary_at[c]:
            terms.append(letters[v] + "n")
            keys.append(("unary", v))
        for m in self.incoming[c]:
            if m != skip:
                terms.append("".join(letters[v] for v in self.messages[m][2]) + "n")
                keys.append(("message", m))
        return terms, keys

    def _spec(self, m: int):
        sender, receiver, sep = self.messages[m]
        terms, keys = self._inputs(sender, skip=m ^ 1)  # all but the receiver's message back
        letters = self._letters(sender)
        row = "n" if len(terms) > 1 else ""  # a cluster with no evidence and no messages in: the same for all rows
        return ",".join(terms) + "->" + "".join(letters[v] for v in sep) + row, keys

    def belief_spec(self, v: int):
        c = self.graph.home[v]
        terms, keys = self._inputs(c, skip=None)
        row = "n" if len(terms) > 1 else ""
        return ",".join(terms) + "->" + self._letters(c)[v] + row, keys

    def bytes_per_row(self) -> int:
        cards = self.graph.cards
        message_entries = sum(int(np.prod([cards[v] for v in sep])) for _, _, sep in self.messages)
        return 8 * (3 * message_entries + sum(cards) + 2 * self.graph.largest_entries())


def _aligned(table: np.ndarray, scope: tuple[int, ...], variables: tuple[int, ...]) -> np.ndarray:
    """``table`` over ``scope`` with its axes in ``variables``' order and size-1 axes for the others."""
    order = sorted(range(len(scope)), key=lambda k: variables.index(scope[k]))
    moved = np.transpose(table, order)
    shape = [table.shape[scope.index(v)] if v in scope else 1 for v in variables]
    return moved.reshape(shape)


def _contract(spec: str, operands, n: int) -> np.ndarray:
    out = np.einsum(spec, *operands)
    return out if spec.endswith("n") else np.broadcast_to(out[..., None], out.shape + (n,))


def _operands(schedule: _Schedule, keys, unary: dict, messages: list):
    out = []
    for kind, k in keys:
        if kind == "potential":
            out.append(schedule.potentials[k])
        elif kind == "unary":
            out.append(unary[k])
        else:
            out.append(messages[k])
    return out


def _normalised(message: np.ndarray) -> np.ndarray:
    total = message.reshape(-1, message.shape[-1]).sum(axis=0)
    return message / np.where(total > 0, total, 1.0)


def _propagate(schedule: _Schedule, unary: dict, n: int, wanted: list[int], *, damping: float, max_iter: int,
               tol: float):
    """Iterate the schedule for one chunk of rows: (beliefs {v: (card, n)}, residual, iterations, first)."""
    cards = schedule.graph.cards
    messages = [np.full([cards[v] for v in sep] + [n], 1.0 / np.prod([cards[v] for v in sep]))
                for _, _, sep in schedule.messages]
    beliefs = {v: np.empty((cards[v], n)) for v in wanted}
    residual = np.full(n, np.inf)
    first = np.full(n, max_iter)
    active = np.arange(n)
    iterations = 0
    exact_tree = not schedule.graph.split
    for iteration in range(1, max_iter + 1):
        iterations = iteration
        step = np.zeros(len(active))
        for m in schedule.forward + schedule.backward:
            spec, keys = schedule.specs[m]
            new = _normalised(_contract(spec, _operands(schedule, keys, unary, messages), len(active)))
            if damping and not exact_tree:
                new = (1.0 - damping) * new + damping * messages[m]
            step = np.maximum(step, np.abs(new - messages[m]).reshape(-1, len(active)).max(axis=0))
            messages[m] = new
        residual[active] = step
        settled = step < tol
        if exact_tree:  # one forward and one backward pass are exact on a tree
            settled[:] = True
        if settled.any():
            done = active[settled]
            first[done] = iteration
            sub_unary = {v: u[:, settled] for v, u in unary.items()}
            sub_messages = [msg[..., settled] for msg in messages]
            for v in wanted:
                spec, keys = schedule.belief_spec(v)
                beliefs[v][:, done] = _contract(spec, _operands(schedule, keys, sub_unary, sub_messages), len(done))
            keep = ~settled
            active = active[keep]
            unary = {v: u[:, keep] for v, u in unary.items()}
            messages = [msg[..., keep] for msg in messages]
            if not len(active):
                break
    if len(active):
        for v in wanted:
            spec, keys = schedule.belief_spec(v)
            beliefs[v][:, active] = _contract(spec, _operands(schedule, keys, unary, messages), len(active))
    if exact_tree:
        residual[:] = 0.0
    return beliefs, residual, iterations, first


def _min_fill_order(adjacency: dict, cards, limit: float = np.inf, cap: float = np.inf, total: float = np.inf):
    """A greedy elimination order (fewest fill edges, then smallest clique table, then lowest index) and its
    cliques; None as soon as a clique would have more than ``limit`` entries, or once some clique has more
    than ``cap`` entries and all of them together more than ``total`` (a part neither within the cap nor
    within the exact budget).

    The same rule as :func:`pgm.inference.triangulation.greedy_order`'s weighted min-fill, written here
    so that the test of whether a part fits the cap can stop at the first clique that does not.
    """
    adj = {v: set(nb) for v, nb in adjacency.items()}
    logs = {v: float(np.log(cards[v])) for v in adj}
    log_limit = float(np.log(limit)) if np.isfinite(limit) else np.inf

    def score(v):
        nb = adj[v]
        # pairs of neighbours not yet adjacent: each counted from both ends, and a counts itself once
        fill = (sum(len(nb - adj[a]) for a in nb) - len(nb)) // 2
        return (fill, round(logs[v] + sum(logs[u] for u in nb), 9), v)

    current = {v: score(v) for v in adj}
    heap = list(current.values())
    heapq.heapify(heap)
    order, cliques = [], []
    entries, above_cap = 0.0, False
    while heap:
        entry = heapq.heappop(heap)
        v = entry[2]
        if v not in adj or current.get(v) != entry:
            continue  # stale
        if entry[1] > log_limit + 1e-9:
            return None
        size = float(np.exp(entry[1]))
        entries += size
        above_cap = above_cap or size > cap * (1 + 1e-9)
        if above_cap and entries > total * (1 + 1e-9):
            return None
        nb = adj.pop(v)
        del current[v]
        order.append(v)
        cliques.append(frozenset(nb | {v}))
        for a in nb:
            adj[a].discard(v)
            adj[a].update(nb - {a})
        touched = set(nb)
        for a in nb:
            touched.update(adj[a])
        for u in touched:
            if u in adj:
                new = score(u)
                if new != current[u]:
                    current[u] = new
                    heapq.heappush(heap, new)
    return order, cliques


def iterative_join_graph_propagation(network, evidence=None, *, targets=None,
                                     cluster_entries: int = DEFAULT_CLUSTER_ENTRIES,
                                     exact_entries: int = DEFAULT_EXACT_ENTRIES, damping: float = 0.0,
                                     max_iter: int = 100, tol: float = 1e-8, memory_budget=None):
    """Approximate posterior marginals of discrete nodes by iterative join-graph propagation.

    Parameters
    ----------
    network : BayesianNetwork
        A fitted network whose relevant nodes are discrete.
    evidence : dict, DataFrame or Evidence, optional
        One case or many rows, as :meth:`pgm.BayesianNetwork.query` takes it
        (soft evidence as ``{node: {state: weight}}`` for one case).
    targets : sequence of str, optional
        The nodes wanted, propagated over together; None for every node,
        answered in parts (see Notes).  Nodes that are neither targets,
        observed, nor ancestors of those are left out (they do not change
        the answer).
    cluster_entries : int
        The most table entries in a cluster of the join graph.  Larger is
        closer to exact and slower; at or above the largest cluster of
        bucket elimination along the order used, the answer is exact.
    exact_entries : int
        A part whose bucket elimination needs at most this many table
        entries in all (and whose tables fit ``memory_budget``) is solved
        exactly, however large its largest cluster; 0 leaves exactness to
        ``cluster_entries`` alone.
    damping : float in [0, 1)
        Weight of the previous message in each update.
    max_iter : int
        Most iterations (each a forward and a backward pass).
    tol : float
        A row has converged when no normalised message moved by more than this.
    memory_budget : int, optional
        Bytes for the cluster tables and messages; rows are processed in chunks that fit.

    Returns
    -------
    marginals : dict of str to ndarray (states, n_rows)
    report : IJGPReport

    Notes
    -----
    A node that is no ancestor of the evidence depends only on its own
    ancestors and the evidence's: the rest of the network is barren for it.
    With ``targets=None`` such nodes are taken deepest first and gathered
    into parts (the nodes' ancestors and the evidence's) for as long as
    bucket elimination over the part stays within ``cluster_entries`` per
    bucket or ``exact_entries`` in all, so each such part is solved exactly;
    a node whose part alone exceeds both is answered approximately in a part
    of its own.  On large networks
    most posteriors are then exact although the whole network is far beyond
    the cap.

    Examples
    --------
    >>> import pgm
    >>> from pgm.inference.ijgp import iterative_join_graph_propagation
    >>> asia = pgm.load("asia")
    >>> marginals, report = iterative_join_graph_propagation(asia, {"xray": "yes", "smoke": "no"},
    ...                                                      targets=["lung"], cluster_entries=4, exact_entries=0)
    >>> report.exact, report.converged
    (False, True)
    >>> marginals["lung"][:, 0].round(4).tolist()
    [0.1423, 0.8577]
    >>> iterative_join_graph_propagation(asia, {"xray": "yes"}, targets=["lung"])[1].exact
    True
    """
    _check_options(cluster_entries, exact_entries, damping, max_iter, tol)
    network._require_fitted("queried")
    ev = evidence if isinstance(evidence, Evidence) else as_evidence(network, evidence)
    observed = ev.observed_somewhere()
    above = observed | network.ancestors(observed)
    wanted = list(network.nodes) if targets is None else list(targets)
    relevant = set(wanted) | above | network.ancestors(set(wanted))
    continuous = [n for n in network.nodes if n in relevant and not network[n].is_discrete]
    if continuous:
        raise StructureError(
            f"join-graph propagation here handles discrete networks; {continuous[0]!r} is continuous "
            "(use method='exact', or 'likelihood_weighting' for discrete targets)"
        )
    # condition on what every row observes alike; the rest of the evidence is per-row likelihoods
    fixed = {n: c for n, c in ev.constant_codes().items() if n in relevant and n not in ev.soft}
    problem = _Problem(network, ev, fixed, int(cluster_entries), int(exact_entries), memory_budget)
    options = dict(damping=float(damping), max_iter=int(max_iter), tol=float(tol), memory_budget=memory_budget)
    result = {}
    residuals = np.zeros(ev.n_rows)
    firsts = np.ones(ev.n_rows, dtype=np.int64)
    iterations, n_clusters, largest, entries, exact, n_parts = 0, 0, 0, 0, True, 0
    for part_targets, part_nodes in problem.parts(wanted, above, whole=targets is not None):
        beliefs, graph, r, f, s = problem.solve(part_nodes, part_targets, **options)
        result.update(beliefs)
        residuals, firsts, iterations = np.maximum(residuals, r), np.maximum(firsts, f), max(iterations, s)
        n_clusters += len(graph.clusters)
        largest, entries = max(largest, graph.largest_entries()), max(entries, graph.total_entries())
        exact &= not graph.split
        n_parts += 1
    for t in wanted:
        if t in fixed:
            result[t] = np.zeros((len(network.states(t)), ev.n_rows))
            result[t][fixed[t]] = 1.0
    converged = residuals < tol
    report = IJGPReport(iterations, float(residuals.max()) if ev.n_rows else 0.0, bool(converged.all()),
                        residuals, converged, firsts, float(damping), float(tol), int(max_iter),
                        int(cluster_entries), n_clusters, largest, entries, exact, None, n_parts)
    return {t: result[t] for t in wanted}, report


class _Problem:
    """One query's CPDs conditioned on the evidence every row shares, split into parts and solved part by part."""

    def __init__(self, network, ev: Evidence, fixed: dict, cap: int, exact_entries: int = 0, memory_budget=None):
        self.network, self.ev, self.fixed, self.cap = network, ev, fixed, cap
        # a part is solved exactly when its bucket tree's tables together fit this (and the memory budget)
        self.exact_entries = min(exact_entries, budget_bytes(memory_budget) // 8)
        self.tables = {}
        for node in network.nodes:
            if not network[node].is_discrete:
                continue
            scope, table = restricted_table(network[node], node, fixed)
            if not scope and not float(table) > 0:
                raise ImpossibleEvidenceError(f"{ev.describe_row(0)} is impossible: {node!r} = "
                                              f"{network.states(node)[fixed[node]]!r} has probability zero given "
                                              "its observed parents")
            self.tables[node] = (scope, np.asarray(table, dtype=np.float64))

    def _connected(self, nodes: set, keep) -> set:
        """The free nodes of ``nodes`` linked to ``keep`` through the conditioned CPDs (the rest are constants)."""
        links: dict = {}
        for node in nodes:
            scope = self.tables[node][0]
            for v in scope:
                links.setdefault(v, set()).update(scope)
        seen = {k for k in keep if k in links}
        frontier = list(seen)
        while frontier:
            for u in links[frontier.pop()]:
                if u not in seen:
                    seen.add(u)
                    frontier.append(u)
        return seen

    def _layout(self, nodes: set, keep, limit: float = np.inf, cap: float = np.inf, total: float = np.inf):
        """(free nodes, their index, cards, scopes, tables, elimination order, its cliques) of the part of
        ``nodes`` that is linked to the nodes ``keep``."""
        linked = self._connected(nodes, keep)
        free = [n for n in self.network.nodes if n in linked]
        index = {n: i for i, n in enumerate(free)}
        cards = [len(self.network.states(n)) for n in free]
        scopes, tables = [], []
        for node in self.network.nodes:
            if node in nodes and self.tables[node][0] and self.tables[node][0][0] in linked:
                scopes.append(tuple(index[v] for v in self.tables[node][0]))
                tables.append(self.tables[node][1])
        adjacency = {v: set() for v in range(len(free))}
        for scope in scopes:
            for v in scope:
                adjacency[v].update(u for u in scope if u != v)
        found = _min_fill_order(adjacency, cards, limit, cap, total)
        order, cliques = found if found is not None else (None, None)
        return free, index, cards, scopes, tables, order, cliques

    def _exact(self, cards, cliques) -> bool:
        """Whether a part with these elimination cliques is solved exactly: each within the cap, or all
        together within ``exact_entries``."""
        if cliques is None:
            return False
        sizes = [float(np.prod([cards[v] for v in c], dtype=np.float64)) for c in cliques]
        return max(sizes, default=0.0) <= self.cap or sum(sizes) <= self.exact_entries

    def _fits(self, nodes: set, keep) -> bool:
        """Whether bucket elimination over ``nodes`` is solved exactly (the join graph is then a tree)."""
        layout = self._layout(nodes, keep, limit=max(self.cap, self.exact_entries), cap=self.cap,
                              total=self.exact_entries)
        return self._exact(layout[2], layout[6])

    def parts(self, wanted: list, above: set, *, whole: bool):
        """(targets, nodes) to solve one after another: the targets' ancestors and the evidence's, in groups.

        A node below no evidence depends only on its ancestors and the
        evidence's (the rest are barren), so every posterior can be read from
        a part holding just those.  Such nodes are taken deepest first and
        added to the current part (in runs that double while they fit) while
        its bucket elimination stays within the cap; past that a new part starts (unless the whole fits, which is
        then one part).  A node whose part alone
        exceeds the cap gets an (approximate) part of its own.  With
        ``whole`` (a query of given targets) there is one part.
        """
        network = self.network
        free_wanted = [t for t in wanted if t not in self.fixed]
        below = [t for t in free_wanted if t not in above]
        if whole or not below:
            nodes = set(free_wanted) | above | network.ancestors(set(free_wanted))
            return [(free_wanted, nodes)] if free_wanted else []
        wanted_set = set(free_wanted)
        everything = set(free_wanted) | above | network.ancestors(set(free_wanted))
        if self._fits(everything, wanted_set):  # one join graph, a junction tree: nothing to split
            return [(free_wanted, everything)]
        position = {n: k for k, n in enumerate(network.topological_order())}
        groups, covered, current = [], set(), None

        def close(nodes, only=None):
            targets = [only] if only else [t for t in free_wanted if t in nodes and t not in covered]
            covered.update(targets)
            if targets:
                groups.append((targets, nodes))

        def need_of(node):
            return {node} | network.ancestors({node}) | above

        # deepest first; nodes are added in runs that double while the part fits and halve when it does
        # not, so a part of k nodes costs about 2 log2(k) tests instead of k
        order = sorted(below, key=position.__getitem__, reverse=True)
        i, step = 0, 1
        while i < len(order):
            node = order[i]
            if node in covered or (current is not None and node in current):
                i += 1
                continue
            if current is None:
                need = need_of(node)
                if self._fits(need, wanted_set):
                    current, step = need, 1
                else:  # approximate for this node; its ancestors may still fit in parts of their own
                    close(need, only=node)
                i += 1
                continue
            batch, j = [], i
            while j < len(order) and len(batch) < step:
                if order[j] not in covered and order[j] not in current:
                    batch.append(order[j])
                j += 1
            candidate = current.union(*(need_of(n) for n in batch))
            if self._fits(candidate, wanted_set):
                current, i, step = candidate, j, 2 * step
            elif step > 1:
                step //= 2
            else:
                close(current)
                current = None
        if current is not None:
            close(current)
        rest = [t for t in free_wanted if t not in covered]  # evidence ancestors no exact part held
        if rest:
            close(set(rest) | above | network.ancestors(set(rest)))
        return groups

    def solve(self, nodes: set, targets: list, *, damping, max_iter, tol, memory_budget):
        """Propagate over the part ``nodes``: (beliefs of ``targets``, join graph, residuals, firsts, iterations)."""
        ev = self.ev
        free, index, cards, scopes, tables, order, cliques = self._layout(nodes, targets)
        # a part whose whole bucket tree fits exact_entries keeps it unsplit: one exact pass
        graph = build_join_graph(cards, scopes, order, np.inf if self._exact(cards, cliques) else self.cap)
        budget = budget_bytes(memory_budget)
        static = 8 * graph.total_entries()
        if static > budget:
            raise InferenceTooLarge(
                f"join-graph propagation with cluster_entries={self.cap:,} needs {format_bytes(static)} for "
                f"its cluster tables, above the memory budget of {format_bytes(budget)}; lower cluster_entries")
        unary_vars = [index[n] for n in free if n in ev.soft or (n in ev.codes and (ev.codes[n] >= 0).any())]
        schedule = _Schedule(graph, tables, scopes, unary_vars)
        chunk = max(1, (budget - static) // schedule.bytes_per_row())
        beliefs = {index[t]: np.empty((cards[index[t]], ev.n_rows)) for t in targets}
        residuals = np.empty(ev.n_rows)
        firsts = np.empty(ev.n_rows, dtype=np.int64)
        iterations = 0
        for rows in row_chunks(ev.n_rows, chunk):
            n = len(range(*rows.indices(ev.n_rows)))
            unary = {}
            for v in unary_vars:
                node = free[v]
                u = np.ones((cards[v], n))
                if node in ev.codes:
                    u = likelihood_vectors(ev.codes[node][rows], cards[v])
                if node in ev.soft:
                    u = u * ev.soft[node][:, None]
                unary[v] = u
            b, r, s, f = _propagate(schedule, unary, n, [index[t] for t in targets], damping=damping,
                                    max_iter=max_iter, tol=tol)
            for v, values in b.items():
                beliefs[v][:, rows] = values
            residuals[rows], firsts[rows] = r, f
            iterations = max(iterations, s)
        out = {}
        for t in targets:
            table = beliefs[index[t]]
            total = table.sum(axis=0)
            if (total <= 0).any():
                row = int(np.argmax(total <= 0))
                raise ImpossibleEvidenceError(
                    f"join-graph propagation found {ev.describe_row(row)} contradictory: every state of {t!r} "
                    "has probability zero (p(e) = 0, or the messages ruled out every state)")
            out[t] = table / total
        return out, graph, residuals, firsts, iterations
