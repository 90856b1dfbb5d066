"""The PC algorithm, order-independent ("stable") variant: a CPDAG from conditional independence tests.

PC (Spirtes, Glymour & Scheines, 2000) learns the equivalence class of a
DAG from the independencies it implies, assuming every independence in the
data comes from the graph (faithfulness) and no common cause is unmeasured:

1. *Skeleton.*  Start from the complete undirected graph.  For conditioning
   sets of size ``l = 0, 1, 2, ...``, remove the edge ``x - y`` when ``x`` is
   independent of ``y`` given some ``l`` of ``x``'s other neighbours, and
   remember that separating set.  The *stable* variant (Colombo &
   Maathuis, 2014) takes the neighbours from a snapshot made at the start
   of each level, so the result does not depend on the order of the
   variables.
2. *V-structures.*  For non-adjacent ``x`` and ``y`` with a common neighbour
   ``z`` not in their separating set: ``x -> z <- y``.
3. *Meek's rules* orient what else is compelled (:mod:`pgm.structure.cpdag`).

With finite data, two v-structures can orient one edge both ways.  Such
conflicts are not hidden: neither v-structure's arrowhead is applied to the
edge (Meek's rules may still orient it from the rest of the graph), it is
listed in the result's ``conflicts``, and a
:class:`OrientationConflictWarning` names it.
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from pgm.errors import StructureError
from pgm.structure.cpdag import CPDAG, meek
from pgm.structure.independence import IndependenceTest
from pgm.structure.statistics import FamilyStatistics
from pgm.structure.table import sufficient_table

__all__ = ["OrientationConflictWarning", "PCReport", "pc"]


class OrientationConflictWarning(UserWarning):
    """Two v-structures of a PC run orient one edge in opposite directions."""


@dataclass
class PCReport:
    """What a PC run did: tests, the largest conditioning set used, separating sets, conflicts, time."""

    tests: int = 0
    max_conditioning_used: int = 0
    separating_sets: dict = field(default_factory=dict)
    conflicts: list = field(default_factory=list)
    seconds: float = 0.0


def pc(data=None, *, test="auto", alpha: float = 0.05, max_conditioning: int | None = None, nodes=None,
       max_tests: int | None = None, progress: bool = False, **data_options) -> CPDAG:
    """Learn a CPDAG with the PC-stable algorithm.

    Parameters
    ----------
    data : DataFrame, mapping, :func:`pgm.io.scan`, Dask DataFrame or SufficientTable, optional
        Complete rows, all discrete or all continuous.  Omit it when ``test``
        is a function.
    test : {"auto", "g", "chi2", "fisher-z", "cg"} or callable
        The conditional independence test (see
        :mod:`pgm.structure.independence`), or ``test(x, y, given) -> p-value``
        -- e.g. a d-separation oracle returning 1 or 0.
    alpha : float, default 0.05
        Independence is accepted when the p-value exceeds ``alpha``.
    max_conditioning : int, optional
        The largest conditioning set tried.
    nodes : list of str
        The variables, when ``test`` is a function and there is no data.
    max_tests : int, optional
        A budget: before each level of the skeleton search, if the level's
        tests could bring the total above it, stop with a StructureError
        (the default search uses this to give up PC's start on wide, dense
        data).
    progress : bool
        Print one line per level of the skeleton search.

    Returns
    -------
    CPDAG
        With ``conflicts`` and ``pc_report_`` (:class:`PCReport`).

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import CPDAG, pc
    >>> truth = pgm.load("asia")
    >>> oracle = lambda x, y, given: float(truth.dag.is_d_separated(x, y, given))
    >>> pc(test=oracle, nodes=truth.nodes) == CPDAG.from_dag(truth.dag)
    True
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    if callable(test):
        if nodes is None:
            if data is None:
                raise ValueError("pc with a test function needs nodes= (or data)")
            nodes = list(FamilyStatistics(sufficient_table(data, **data_options)).names)
        independence, names = test, list(nodes)
    else:
        if data is None:
            raise ValueError("pc needs data (or a test function and nodes=)")
        stats = data if isinstance(data, FamilyStatistics) else FamilyStatistics(sufficient_table(data, **data_options))
        independence, names = IndependenceTest(stats, test), list(stats.names)
    began = time.perf_counter()
    report = PCReport()
    adjacent, separating = _skeleton(names, independence, alpha, max_conditioning, report, progress, max_tests)
    directed, undirected, conflicts = _orient(names, adjacent, separating)
    report.separating_sets, report.conflicts = separating, conflicts
    report.seconds = time.perf_counter() - began
    result = CPDAG(names, directed, [tuple(e) for e in undirected])
    result.conflicts = conflicts
    result.pc_report_ = report
    if conflicts:
        shown = ", ".join(f"{u} - {v}" for u, v in conflicts[:5])
        warnings.warn(f"{len(conflicts)} edge(s) were oriented both ways by different v-structures, so neither "
                      f"orientation was applied: {shown}", OrientationConflictWarning, stacklevel=2)
    return result


def _skeleton(names, independence, alpha, max_conditioning, report, progress, max_tests=None):
    adjacent = {v: set(names) - {v} for v in names}
    separating: dict = {}
    level = 0
    while True:
        snapshot = {v: sorted(adjacent[v], key=names.index) for v in names}
        if max(len(s) for s in snapshot.values()) - 1 < level if names else True:
            break
        if max_conditioning is not None and level > max_conditioning:
            break
        if max_tests is not None:
            # At most this many tests at this level (fewer: an edge's tests stop at its first separating set).
            bound = sum(math.comb(len(snapshot[x]) - 1, level) for x in names for _ in snapshot[x])
            if report.tests + bound > max_tests:
                raise StructureError(f"PC stopped before level {level}: its up to {bound:,} tests would bring the "
                                     f"total above max_tests={max_tests:,} ({report.tests:,} done)")
        focus = getattr(independence, "focus", None)
        for x in names:
            if focus is not None and level and len(snapshot[x]) > level:
                focus([x] + snapshot[x])  # every test of x's edges at this level reads only these variables
            for y in snapshot[x]:
                if y not in adjacent[x]:
                    continue
                others = [v for v in snapshot[x] if v != y]
                if level >= 1 and hasattr(independence, "p_values_given_each"):
                    given = _first_separating_set(independence, x, y, others, level, alpha, report)
                    if given is not None:
                        adjacent[x].discard(y)
                        adjacent[y].discard(x)
                        separating[frozenset((x, y))] = set(given)
                        report.max_conditioning_used = max(report.max_conditioning_used, level)
                    continue
                for given in itertools.combinations(others, level):
                    report.tests += 1
                    if independence(x, y, given) > alpha:
                        adjacent[x].discard(y)
                        adjacent[y].discard(x)
                        separating[frozenset((x, y))] = set(given)
                        report.max_conditioning_used = max(report.max_conditioning_used, level)
                        break
        if progress:
            edges = sum(len(a) for a in adjacent.values()) // 2
            print(f"PC level {level}: {edges} edges left after {report.tests} tests", flush=True)
        level += 1
    return adjacent, separating


def _first_separating_set(independence, x, y, others, level, alpha, report):
    """The first conditioning set of ``level`` of ``others`` (in ``itertools.combinations`` order) that separates.

    Sets sharing their first ``level - 1`` members are consecutive in that
    order and differ in the last member only, so each such run is tested in
    one batch (one counting pass); the first p-value above ``alpha`` is the
    set the one-at-a-time loop would have stopped at.  Returns None if none
    separates.
    """
    for head in itertools.combinations(range(len(others) - 1), level - 1):
        after = head[-1] + 1 if head else 0
        tails = others[after:]
        if not tails:
            continue
        p_values = independence.p_values_given_each(x, y, tails, given=[others[h] for h in head])
        separated = np.flatnonzero(p_values > alpha)
        report.tests += int(separated[0]) + 1 if separated.size else len(tails)
        if separated.size:
            return [others[h] for h in head] + [tails[int(separated[0])]]
    return None


def _orient(names, adjacent, separating):
    arrows = set()
    for z in names:
        for x, y in itertools.combinations(sorted(adjacent[z], key=names.index), 2):
            if y not in adjacent[x] and z not in separating.get(frozenset((x, y)), set()):
                arrows |= {(x, z), (y, z)}
    conflicts = sorted({tuple(sorted((u, v), key=names.index)) for u, v in arrows if (v, u) in arrows},
                       key=lambda e: (names.index(e[0]), names.index(e[1])))
    clashing = {frozenset(e) for e in conflicts}
    directed = {(u, v) for u, v in arrows if frozenset((u, v)) not in clashing}
    undirected = {frozenset((x, y)) for x in names for y in adjacent[x]} - {frozenset(e) for e in directed}
    directed, undirected = meek(directed, undirected)
    return directed, undirected, conflicts
