"""Which plan answers a batch of rows, and which trees answer many targets: chosen by cost.

Rows.  One junction tree can serve every row at once (*shared*): evidence
enters as per-row likelihood vectors, so the tree must span every node some
row observes, and each row pays for all of its tables.  A single case
instead slices its observed states into the CPD tables and drops what its
evidence makes irrelevant, so its tree can be far smaller -- on networks
with large cliques, thousands of times smaller.  Rows with the same
*pattern* (the same set of observed discrete nodes) share that small tree:
the *per-pattern* strategy plans each pattern once and runs its rows
together (*per-row* when every row has its own pattern).  The cost model
weighs the shared tree's entries times the rows against, per pattern, a
fixed cost of planning and calling plus the pattern tree's entries times
its rows (estimated from the most frequent patterns' trees), and picks the
cheaper; a shared tree above the memory budget is never chosen.

A batched query needs p(e) only to flag impossible rows, so its rows can go
*by relevance*: grouped by the requisite part of their query -- the target's
component given the row's evidence, and that component's observed boundary
(:mod:`pgm.inference.requisite`) -- which rows with different evidence
share; rows that observe a target keep their pattern's plan.

Targets.  The posterior of a node needs only the node, the evidence and
their ancestors (every other node is barren).  For all posteriors of a large
network, one tree over every node can be far larger than the trees of these
relevant parts: :func:`target_groups` covers the targets by relevant parts,
deepest target first (its part holds the parts of all its ancestors, whose
posteriors it answers too), and keeps the cover when its trees are smaller
in total than the one tree.

Both choices are reported by ``net.inference_plan(...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgm.inference.evidence import Evidence

__all__ = ["Strategy", "choose_rows", "evidence_patterns", "relevant_cover", "requisite_evidence", "sub_evidence",
           "target_groups"]

#: Seconds per table entry per row in the vectorised passes, while a clique's table fits the CPU cache
#: (measured on alarm and insurance, two loaded cores) ...
SECONDS_PER_ENTRY = 10e-9
#: ... and when the largest clique's table (more than :data:`CACHE_ENTRIES`) does not (water, barley).
SECONDS_PER_ENTRY_OUT_OF_CACHE = 25e-9
CACHE_ENTRIES = 1 << 18
#: Seconds of planning and calling per pattern beyond its tables: a fixed part, one per network node kept
#: (slicing its table by the evidence, placing it in a clique) and one per clique and pass (NumPy calls).
SECONDS_PER_PATTERN = 0.5e-3
SECONDS_PER_NODE = 60e-6
SECONDS_PER_CLIQUE = 60e-6
#: Patterns whose trees are compiled to estimate the per-pattern cost.
SAMPLED_PATTERNS = 3
#: A tree this small is answered whole: covering its targets by parts would cost more in planning.
COVER_MIN_ENTRIES = 1 << 16
#: Table entries one more tree is worth, in the cover's comparison (its planning and calls).
ENTRIES_PER_TREE = 4096


@dataclass(frozen=True)
class Strategy:
    """How a batch of rows is answered.

    ``kind`` is ``"shared"``, ``"per-pattern"``, ``"per-row"`` or
    ``"by-relevance"``; ``groups`` holds the row indices of each pattern
    (or requisite part) and ``parts`` each by-relevance group's (families,
    boundary), None for a pattern; the costs are the model's estimates in
    seconds.
    """

    kind: str
    n_patterns: int
    shared_seconds: float
    pattern_seconds: float
    groups: tuple = ()
    parts: tuple = ()   # by-relevance: per group, (families, boundary) of its requisite part, or None


def requisite_evidence(evidence: Evidence, rows: np.ndarray, boundary) -> Evidence:
    """The rows ``rows`` of ``evidence`` with only the ``boundary`` columns: a requisite part's evidence."""
    return Evidence(len(rows), evidence.batched, {b: evidence.codes[b][rows] for b in boundary}, {}, {}, None)


def evidence_patterns(evidence: Evidence) -> list[np.ndarray]:
    """Row indices of each pattern of observed discrete nodes, patterns in order of first row."""
    n = evidence.n_rows
    columns = [codes >= 0 for codes in evidence.codes.values()]
    if not columns or n == 0:
        return [np.arange(n)]
    observed = np.stack(columns, axis=1)
    packed = np.packbits(observed, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # renumber patterns by their first row, so that the groups come in row order
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    labels = rank[inverse]
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return np.split(order, bounds)


def sub_evidence(evidence: Evidence, rows: np.ndarray) -> Evidence:
    """The rows ``rows`` (indices) of batched ``evidence``, as evidence of their own.

    Discrete columns that none of these rows observes are left out: they
    change no answer, and every pass over the evidence skips them.
    """
    codes = {}
    for node, column in evidence.codes.items():
        part = column[rows]
        if (part >= 0).any():
            codes[node] = part
    return Evidence(len(rows), evidence.batched, codes, {k: v[rows] for k, v in evidence.values.items()},
                    evidence.soft, None)


def _entry_seconds(tree) -> float:
    return SECONDS_PER_ENTRY if tree.largest_table_entries <= CACHE_ENTRIES else SECONDS_PER_ENTRY_OUT_OF_CACHE


def _seconds(problem, n_rows: int) -> float:
    """The model's time for ``n_rows`` rows through one compiled problem (tables and per-chunk calls)."""
    tree = problem.tree
    if tree is None:
        return SECONDS_PER_ENTRY * n_rows
    chunks = -(-n_rows // max(1, problem.chunk_rows))
    return _entry_seconds(tree) * tree.entries_per_row() * n_rows + SECONDS_PER_CLIQUE * len(tree.cliques) * chunks


def choose_rows(network, evidence: Evidence, plan, budget: int, targets=None) -> Strategy:
    """Shared, per-pattern, per-row or by-relevance, for ``evidence`` answered by ``plan``.

    ``plan(evidence, plan_only, estimate, families=None)`` returns the
    compiled problem of some evidence (with ``plan_only=True`` it builds no
    tables and is never refused; ``estimate=True`` triangulates by one
    heuristic only and caches nothing: the shared tree is only looked at;
    ``families``: a requisite part's CPDs only).  With ``targets`` (a query
    whose p(e) is needed only to flag impossible rows) rows may be grouped
    by the requisite part of their query (:mod:`pgm.inference.requisite`),
    the rows left over by their pattern: *by-relevance*.
    """
    if evidence.n_rows <= 1 or not all(network[n].is_discrete for n in network.nodes):
        return Strategy("shared", 1, 0.0, 0.0)
    shared = plan(evidence, True, True)
    shared_fits = shared.static_bytes + shared.bytes_per_row <= budget
    shared_seconds = _seconds(shared, evidence.n_rows) if shared_fits else float("inf")
    groups = evidence_patterns(evidence)
    floor = len(groups) * SECONDS_PER_PATTERN
    if shared_fits and shared_seconds <= floor:
        return Strategy("shared", len(groups), shared_seconds, floor)
    parts: list = [None] * len(groups)
    kind = "per-row" if len(groups) == evidence.n_rows else "per-pattern"
    if targets is not None and not evidence.soft:
        from pgm.inference.requisite import requisite_parts

        requisite = requisite_parts(network, evidence, targets)
        if requisite.groups:
            rest = [requisite.rest[g] for g in evidence_patterns(sub_evidence(evidence, requisite.rest))] \
                if requisite.rest.size else []
            groups = list(requisite.groups) + rest
            parts = list(zip(requisite.families, requisite.boundary)) + [None] * len(rest)
            kind = "by-relevance"
            floor = len(groups) * SECONDS_PER_PATTERN
    # estimate a group's tree from the most frequent groups (their plans are cached for the run)
    sizes = np.array([len(g) for g in groups])
    sample = np.argsort(-sizes, kind="stable")[:SAMPLED_PATTERNS]
    per_row, per_call = [], []
    for k in sample:
        if parts[k] is None:
            problem = plan(sub_evidence(evidence, groups[k]), True, False)
        else:
            problem = plan(requisite_evidence(evidence, groups[k], parts[k][1]), True, False, parts[k][0])
        tree = problem.tree
        kept = len(network.nodes) - len(problem.pruned)
        per_row.append(_entry_seconds(tree) * tree.entries_per_row() if tree else SECONDS_PER_ENTRY)
        per_call.append(SECONDS_PER_NODE * kept + SECONDS_PER_CLIQUE * (len(tree.cliques) if tree else 0))
    pattern_seconds = floor + len(groups) * float(np.mean(per_call)) + evidence.n_rows * float(np.mean(per_row))
    if shared_fits and shared_seconds <= pattern_seconds:
        return Strategy("shared", len(groups), shared_seconds, pattern_seconds)
    return Strategy(kind, len(groups), shared_seconds, pattern_seconds, tuple(groups),
                    tuple(parts) if kind == "by-relevance" else ())


def relevant_cover(network, evidence: Evidence, targets) -> list[tuple]:
    """``targets`` covered by relevant parts, deepest first: each group is the not yet covered targets
    among one target's relevant part (itself, the nodes observed in some row, and their ancestors).

    Examples
    --------
    >>> import pgm
    >>> from pgm.inference.evidence import as_evidence
    >>> asia = pgm.load("asia")
    >>> relevant_cover(asia, as_evidence(asia, None), ["asia", "tub", "smoke"])
    [('smoke',), ('asia', 'tub')]
    """
    observed = evidence.observed_somewhere()
    wanted = set(targets)
    position = {n: i for i, n in enumerate(network.topological_order())}
    covered: set = set()
    groups = []
    for target in sorted(wanted, key=position.__getitem__, reverse=True):
        if target in covered:
            continue
        relevant = {target} | observed
        relevant |= network.ancestors(relevant)
        group = tuple(n for n in targets if n in relevant and n not in covered)
        covered.update(group)
        groups.append(group)
    return groups


def target_groups(network, evidence: Evidence, targets, plan) -> list[tuple]:
    """Groups of ``targets`` each answered by the tree of its relevant part; one group when one tree is cheaper.

    ``plan(targets, plan_only, estimate)`` returns the compiled problem for
    a group (``targets=None``: every node; ``estimate``: see :func:`choose_rows`).  Targets are covered deepest first:
    a target's relevant part (itself, the evidence and their ancestors)
    holds the parts of every node in it.
    """
    whole = plan(None, True, True)  # a quick look (one elimination heuristic) at the one tree
    if whole.tree is None or whole.tree.total_table_entries <= COVER_MIN_ENTRIES:
        return [tuple(targets)]
    groups = relevant_cover(network, evidence, targets)
    cost = 0
    for group in groups:
        problem = plan(group, True)
        cost += (problem.tree.total_table_entries if problem.tree else 1) + ENTRIES_PER_TREE
        if cost >= whole.tree.total_table_entries:
            return [tuple(targets)]
    return groups
