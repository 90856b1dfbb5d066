"""Score-based search over DAGs: hill climbing and tabu search with add, remove and reverse moves.

The search keeps, for every ordered pair ``(x, j)``, the change of node
``j``'s local score if ``x`` were added to or removed from its parents.  A
move changes one family (two for a reversal), so after it only the columns
of those nodes are recomputed -- one batch of families, counted in one
pass over the data's distinct rows (:meth:`LocalScores.adding`) -- and the
best legal move is then picked by array operations over all pairs:

- legality: an addition ``x -> j`` must not close a cycle (``j`` is not an
  ancestor of ``x``); a reversal of ``x -> j`` must not either (no other
  directed path from ``x`` to ``j``); ancestors are kept as a boolean
  reachability matrix;
- constraints (:class:`~pgm.structure.constraints.Constraints`) are masks:
  allowed and required edges, the parent limit.

By default (``start="auto"``) a search climbs twice and keeps the better
graph: once from the empty graph, once from the PC algorithm's CPDAG
(:func:`pgm.structure.pc`, extended to a DAG).  Greedy moves from the
empty graph orient the first edges arbitrarily (a score-equivalent score
cannot tell ``x -> y`` from ``y -> x``), and later v-structures then sit
in a local optimum that single moves cannot leave; PC orients edges by
its independence tests, so its graph starts the climb in the right basin.
On the benchmark networks (asia, child, insurance, alarm) the greedy climb
from the empty graph alone ends below the true network's BIC, the
two-start search does not (``benchmarks/structure.py``).

Hill climbing takes the best improving move until none improves the score;
``restarts`` then perturb the best graph with random moves and climb again,
keeping the best graph found; every other restart perturbs the starting
graph instead, a fresh random start.  Tabu search also takes the best move when it
does not improve, but may not touch an edge changed in the last
``tabu_length`` moves (unless that finds a new best), and stops after
``patience`` moves without a new best.
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from pgm._random import as_generator
from pgm.errors import StructureError
from pgm.structure.constraints import Constraints, check_acyclic
from pgm.structure.scores import LocalScores
from pgm.structure.statistics import FamilyStatistics
from pgm.structure.table import sufficient_table

__all__ = ["SearchReport", "hill_climb", "tabu_search"]

_ADD, _REMOVE, _REVERSE = 0, 1, 2


@dataclass
class SearchReport:
    """What a search did.

    Attributes
    ----------
    method : str
    score : float
        The learned graph's score.
    score_name : str
    steps : int
        Moves taken, over all restarts.
    restart_scores : list of float
        The best score of each climb: from the start graph (with
        ``start="auto"``, from the empty graph and then from PC's graph),
        then one per restart.
    starts : list of str
        Where the first climbs began: ``"empty"``, ``"pc"`` or ``"given"``.
    families_scored : int
        Local scores computed (cache misses).
    cache_entries : int
        Families in the bounded score cache at the end.
    counting_passes : int
        Passes over the data's distinct rows.
    n_rows : float
    distinct_rows : int
    seconds : float
        Wall time of the search (after the data was summarised).
    """

    method: str
    score: float = -np.inf
    score_name: str = "bic"
    steps: int = 0
    restart_scores: list = field(default_factory=list)
    starts: list = field(default_factory=list)
    families_scored: int = 0
    cache_entries: int = 0
    counting_passes: int = 0
    n_rows: float = 0.0
    distinct_rows: int = 0
    seconds: float = 0.0


def _closure(adjacency: np.ndarray) -> np.ndarray:
    """``reach[a, b]``: a directed path of one edge or more leads from ``a`` to ``b`` (Warshall)."""
    reach = adjacency.copy()
    for k in range(len(reach)):
        reach |= reach[:, k:k + 1] & reach[k:k + 1, :]
    return reach


class _State:
    """The current graph, its local scores and the score change of every single-edge move."""

    def __init__(self, scores: LocalScores, allowed, required, max_parents, adjacency, columns: dict):
        self.scores, self.allowed, self.required, self.max_parents = scores, allowed, required, max_parents
        # (node, parents) -> that node's gain columns: restarts revisit families, and then reuse them.
        self.columns = columns
        n = len(allowed)
        self.n = n
        self.adjacency = adjacency.copy()
        self.reach = _closure(self.adjacency)
        self.local = np.zeros(n)
        self.add_gain = np.full((n, n), -np.inf)
        self.remove_gain = np.full((n, n), -np.inf)
        for j in range(n):
            self.refresh(j)

    def parents(self, j: int) -> tuple:
        return tuple(np.flatnonzero(self.adjacency[:, j]).tolist())

    @property
    def total(self) -> float:
        return float(self.local.sum())

    def refresh(self, j: int) -> None:
        """Recompute node ``j``'s local score and the gains of every move that changes its parents."""
        parents = self.parents(j)
        key = (j, parents)
        column = self.columns.get(key)
        if column is None:
            column = self.columns[key] = self._column(j, parents)
            if len(self.columns) > self.scores.cache_size:
                self.columns.pop(next(iter(self.columns)))
        self.local[j], self.add_gain[:, j], self.remove_gain[:, j] = column

    def _column(self, j: int, parents: tuple):
        """Node ``j``'s local score with ``parents``, and the gains of adding or removing each other node."""
        local = self.scores.local(j, parents)
        add, remove = np.full(self.n, -np.inf), np.full(self.n, -np.inf)
        if len(parents) < self.max_parents:
            candidates = np.flatnonzero(self.allowed[:, j] & ~self.adjacency[:, j]).tolist()
            if candidates:
                add[candidates] = self.scores.adding(j, parents, candidates) - local
        for x in parents:
            remove[x] = self.scores.local(j, tuple(p for p in parents if p != x)) - local
        return local, add, remove

    def move_gains(self) -> np.ndarray:
        """Gains of every legal move, shape (3, n, n) (add, remove, reverse of ``x -> j``), ``-inf`` where illegal."""
        a, reach = self.adjacency, self.reach
        full = a.sum(axis=0) >= self.max_parents  # nodes that may not gain a parent
        gains = np.full((3, self.n, self.n), -np.inf)
        add = ~a & self.allowed & ~reach.T
        gains[_ADD][add] = self.add_gain[add]
        removable = a & ~self.required
        gains[_REMOVE][removable] = self.remove_gain[removable]
        # x -> j may turn round unless another directed path leads from x to j.
        other_path = (a.astype(np.int32) @ reach.astype(np.int32)) > 0
        reversible = removable & self.allowed.T & ~other_path & ~full[:, None]
        gains[_REVERSE][reversible] = (self.remove_gain + self.add_gain.T)[reversible]
        return gains

    def apply(self, kind: int, x: int, j: int) -> None:
        if kind == _ADD:
            self.adjacency[x, j] = True
            # Everything that reached x (and x) now reaches j and what j reaches.
            sources = self.reach[:, x].copy()
            sources[x] = True
            targets = self.reach[j].copy()
            targets[j] = True
            self.reach |= sources[:, None] & targets[None, :]
            self.refresh(j)
        elif kind == _REMOVE:
            self.adjacency[x, j] = False
            self.reach = _closure(self.adjacency)
            self.refresh(j)
        else:
            self.adjacency[x, j] = False
            self.adjacency[j, x] = True
            self.reach = _closure(self.adjacency)
            self.refresh(j)
            self.refresh(x)


def _climb(state: _State, *, tol: float, max_iter: int, tabu_length: int, patience: int, report, bar) -> tuple:
    """Hill climbing (``tabu_length == 0``) or tabu search from ``state``; returns the best (score, adjacency)."""
    best_score, best = state.total, state.adjacency.copy()
    recent: deque = deque(maxlen=max(tabu_length, 1))
    without_gain = 0
    for _ in range(max_iter):
        gains = state.move_gains()
        if tabu_length:
            tabu = np.zeros((state.n, state.n), dtype=bool)
            for x, j in recent:
                tabu[x, j] = tabu[j, x] = True
            # Aspiration: a tabu move that reaches a new best is allowed.
            blocked = tabu[None] & (state.total + gains <= best_score + tol)
            gains[blocked] = -np.inf
        flat = int(np.argmax(gains))
        gain = gains.flat[flat]
        if not np.isfinite(gain) or (not tabu_length and gain <= tol):
            break
        kind, x, j = np.unravel_index(flat, gains.shape)
        state.apply(int(kind), int(x), int(j))
        report.steps += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(score=f"{state.total:.1f}")
        if tabu_length:
            recent.append((int(x), int(j)))
            if state.total > best_score + tol:
                best_score, best = state.total, state.adjacency.copy()
                without_gain = 0
            else:
                without_gain += 1
                if without_gain >= patience:
                    break
    if not tabu_length or state.total > best_score:
        best_score, best = state.total, state.adjacency.copy()
    return best_score, best


def _perturb(adjacency: np.ndarray, moves: int, allowed, required, max_parents, rng) -> np.ndarray:
    """``moves`` random legal moves (any gain) from ``adjacency`` -- a restart's jump away from the last optimum.

    Only the graph changes here; the restart's climb then scores it once.
    """
    adjacency = adjacency.copy()
    n = len(adjacency)
    for _ in range(moves):
        reach = _closure(adjacency)
        full = adjacency.sum(axis=0) >= max_parents
        removable = adjacency & ~required
        other_path = (adjacency.astype(np.int32) @ reach.astype(np.int32)) > 0
        legal = np.stack([~adjacency & allowed & ~reach.T & ~full[None, :], removable,
                          removable & allowed.T & ~other_path & ~full[:, None]])
        choices = np.flatnonzero(legal)
        if choices.size == 0:
            break
        kind, x, j = np.unravel_index(int(rng.choice(choices)), (3, n, n))
        adjacency[x, j] = kind == _ADD
        if kind == _REVERSE:
            adjacency[j, x] = True
    return adjacency


#: A starting graph's family may have at most this many count cells (parent configurations times states).
_LARGEST_START_FAMILY = 100_000


#: PC's start is given up when its tests could exceed this many per pair of variables (about 15-35 on the
#: benchmark networks; image pixels, densely dependent, need more than 70).
_START_TESTS_PER_PAIR = 50

#: PC's start tests conditioning sets of at most this many variables.  The start only has to put the climb in
#: the right basin (the climb removes what larger sets would have); on the benchmark networks the climb from
#: this start ends at least as high as from the full PC, at a fraction of PC's larger-set tests.
_START_MAX_CONDITIONING = 2

#: Above this many distinct rows (all-discrete data), PC's start is learned from a subsample of _START_ROWS rows.
_START_DISTINCT_ROWS = 20_000
_START_ROWS = 20_000


def _start_statistics(stats: FamilyStatistics, seed) -> FamilyStatistics:
    """The statistics PC's start is learned from: the data's, or a multinomial subsample of a large discrete table.

    PC's tests cost a pass over the distinct rows each; the start only has
    to put the climb in a good basin (the climb itself scores the whole
    data), so a large table is thinned to ``_START_ROWS`` rows.  The draw
    uses ``seed``, or a fixed generator when it is None, so that the
    default search stays deterministic.
    """
    from pgm.structure.table import SufficientTable

    table = stats.table
    if table.n_groups <= _START_DISTINCT_ROWS or not stats.is_discrete.all():
        return stats
    rng = np.random.default_rng(0) if seed is None else as_generator(seed)
    drawn = rng.multinomial(_START_ROWS, table.weight / table.weight.sum()).astype(np.float64)
    kept = drawn > 0
    return FamilyStatistics(SufficientTable(table.names, table.states, table.codes[kept], drawn[kept],
                                            table.means[kept], table.comoments[kept]))


def _pc_start(stats: FamilyStatistics, allowed, required, max_parents) -> np.ndarray | None:
    """PC-stable's CPDAG extended to a DAG, fitted to the constraints: the default search's second start.

    Returns None when PC has no test for the data, or when its tests could
    exceed ``_START_TESTS_PER_PAIR`` per pair of variables (see
    ``max_tests`` of :func:`pgm.structure.pc`).  Required edges come
    first; then each PC edge is added in its PC direction if the constraints
    allow it, else reversed, else left out -- as is any edge that would close
    a cycle, exceed ``max_parents`` or make a family's count table huge (the
    climb adds what is missing).
    """
    from pgm.structure.independence import IndependenceTest
    from pgm.structure.pc import OrientationConflictWarning, pc

    try:
        IndependenceTest(stats)
    except StructureError:
        return None
    n = len(stats.names)
    with warnings.catch_warnings():
        # Conflicts only leave edges unoriented; the climb decides them.
        warnings.simplefilter("ignore", OrientationConflictWarning)
        try:
            dag = pc(stats, alpha=0.05, max_conditioning=_START_MAX_CONDITIONING,
                     max_tests=_START_TESTS_PER_PAIR * n * (n - 1) // 2).to_dag(strict=False)
        except StructureError:
            return None  # wide, densely dependent data (image pixels): PC would cost far more than the climb
    adjacency = required.copy()
    reach = _closure(adjacency)
    cells = np.where(stats.is_discrete, stats.cardinality, 1).astype(np.float64)
    family_cells = cells.copy()
    for u, v in dag.edges:
        i, j = stats.index[u], stats.index[v]
        if adjacency[i, j] or adjacency[j, i]:
            continue
        for a, b in ((i, j), (j, i)):
            if (allowed[a, b] and not reach[b, a] and adjacency[:, b].sum() < max_parents
                    and family_cells[b] * cells[a] <= _LARGEST_START_FAMILY):
                adjacency[a, b] = True
                family_cells[b] *= cells[a]
                sources = reach[:, a].copy()
                sources[a] = True
                targets = reach[b].copy()
                targets[b] = True
                reach |= sources[:, None] & targets[None, :]
                break
    return adjacency


def _start_adjacency(start, names, allowed, required, max_parents) -> np.ndarray:
    n = len(names)
    adjacency = required.copy()
    if start is None or (isinstance(start, str) and start in ("empty", "auto")):
        return adjacency
    if isinstance(start, str):
        raise ValueError(f"start must be 'auto', 'empty', a DAG, a network or a list of edges, got {start!r}")
    from pgm.graph import DAG

    if hasattr(start, "dag") and not isinstance(start, DAG):
        start = start.dag
    edges = start.edges if isinstance(start, DAG) else list(start)
    index = {name: i for i, name in enumerate(names)}
    for u, v in edges:
        for node in (u, v):
            if node not in index:
                from pgm.errors import NodeError

                raise NodeError(f"the starting graph has node {node!r}, which is not a variable of the data")
        i, j = index[u], index[v]
        if not allowed[i, j]:
            raise StructureError(f"the starting graph has the edge {u!r} -> {v!r}, which the constraints forbid")
        adjacency[i, j] = True
    check_acyclic(adjacency, names, "the starting graph and the required edges")
    counts = adjacency.sum(axis=0)
    if counts.max(initial=0) > max_parents:
        k = int(np.argmax(counts))
        raise StructureError(f"node {names[k]!r} has {int(counts[k])} parents in the starting graph, more than "
                             f"max_parents={max_parents}")
    return adjacency


def _as_dag(names, adjacency):
    from pgm.graph import DAG

    return DAG({name: [names[i] for i in np.flatnonzero(adjacency[:, j])] for j, name in enumerate(names)})


def _search(method: str, data, *, score, constraints, start, restarts, perturb, tabu_length, patience, max_iter,
            tol, seed, cache_size, progress, data_options):
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 0:
        raise ValueError(f"restarts must be a non-negative integer, got {restarts!r}")
    stats = data if isinstance(data, FamilyStatistics) else FamilyStatistics(sufficient_table(data, **data_options))
    scores = data_scores = LocalScores(stats, score, cache_size=cache_size)
    constraints = constraints if constraints is not None else Constraints()
    allowed, required, max_parents = constraints.resolve(stats.names, stats.is_discrete)
    adjacency = _start_adjacency(start, stats.names, allowed, required, max_parents)
    report = SearchReport(method, score_name=data_scores.score.name, n_rows=stats.n_rows,
                          distinct_rows=stats.table.n_groups)
    rng = as_generator(seed)
    began = time.perf_counter()
    bar = None
    if progress:
        from pgm.learning.em import _progress

        bar = _progress(True, None)
        bar.set_description(method)
    try:
        columns: dict = {}
        starts = [("given" if start is not None and not isinstance(start, str) else "empty", adjacency)]
        if isinstance(start, str) and start == "auto":
            from_pc = _pc_start(_start_statistics(stats, seed), allowed, required, max_parents)
            if from_pc is not None:
                starts.append(("pc", from_pc))
        best_score, best = -np.inf, adjacency
        for label, origin in starts:
            state = _State(scores, allowed, required, max_parents, origin, columns)
            found, graph = _climb(state, tol=tol, max_iter=max_iter, tabu_length=tabu_length, patience=patience,
                                  report=report, bar=bar)
            report.restart_scores.append(found)
            report.starts.append(label)
            if found > best_score + tol:
                best_score, best = found, graph
        n_perturb = perturb if perturb is not None else max(1, len(stats.names) // 2)
        for restart in range(restarts):
            # Alternate: jump from the best graph so far (a local search around it), or from the starting
            # graph (a fresh random start, which escapes basins the best graph's neighbourhood cannot).
            origin = adjacency if restart % 2 else best
            state = _State(scores, allowed, required, max_parents,
                           _perturb(origin, n_perturb, allowed, required, max_parents, rng), columns)
            found, graph = _climb(state, tol=tol, max_iter=max_iter, tabu_length=tabu_length, patience=patience,
                                  report=report, bar=bar)
            report.restart_scores.append(found)
            if found > best_score + tol:
                best_score, best = found, graph
    finally:
        if bar is not None:
            bar.close()
    report.score = scores.total({j: tuple(np.flatnonzero(best[:, j])) for j in range(len(stats.names))})
    report.seconds = time.perf_counter() - began
    report.families_scored, report.cache_entries, report.counting_passes = scores.misses, len(scores), stats.passes
    dag = _as_dag(stats.names, best)
    dag.search_report_ = report
    return dag


_DATA_OPTIONS = ("states", "continuous", "max_states", "domains")


def _data_options(options: dict) -> dict:
    unknown = set(options) - set(_DATA_OPTIONS)
    if unknown:
        raise TypeError(f"unexpected keyword argument {sorted(unknown)[0]!r}")
    return options


def hill_climb(data, *, score="bic", constraints=None, start="auto", restarts: int = 0, perturb: int | None = None,
               max_iter: int = 100_000, tol: float = 1e-8, seed=None, cache_size: int = 1_000_000,
               progress: bool = False, **data_options):
    """Greedy hill climbing over DAGs with add, remove and reverse moves.

    Parameters
    ----------
    data : DataFrame, mapping, :func:`pgm.io.scan`, Dask DataFrame or SufficientTable
        Complete rows, one column per variable (see :func:`sufficient_table`).
    score : {"bic", "aic", "bdeu", "k2", "bge"} or Score, default "bic"
    constraints : Constraints, optional
        Required and forbidden edges, tiers, ``max_parents``.
    start : "auto", "empty", DAG, BayesianNetwork or list of edges, default "auto"
        Where the climb begins (the required edges are always in).
        ``"auto"``: climb from the empty graph and from the PC algorithm's
        graph (:func:`pgm.structure.pc`, alpha 0.05, conditioning sets of
        at most two variables), keeping the better
        result -- single greedy climbs from the empty graph often stop below
        the true network's score.  PC is given up (the empty start alone)
        when its tests could exceed 50 per pair of variables, as on wide,
        densely dependent data; ``search_report_.starts`` says which ran.
        ``"empty"`` (or None): the required edges alone.  A graph: that graph.
    restarts : int, default 0
        Climbs after the first, each from a graph perturbed by ``perturb``
        random moves (default: half the number of variables): the best graph
        so far, and every other time the empty (or given) starting graph.
    max_iter : int
        At most this many moves per climb.
    tol : float
        A move must raise the score by more than this.
    seed : None, int or numpy.random.Generator
        For the restarts' perturbations.
    cache_size : int
        Local scores kept (least recently used evicted).
    progress : bool
        Show a progress bar of the moves (tqdm).
    **data_options
        ``states``, ``continuous``, ``max_states``, ``domains`` (see :func:`sufficient_table`).

    Returns
    -------
    DAG
        Over the data's columns; ``search_report_`` (:class:`SearchReport`) says what was done.

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import hill_climb
    >>> truth = pgm.load("asia")
    >>> dag = hill_climb(truth.sample(20_000, seed=0))
    >>> dag.skeleton() == truth.dag.skeleton()       # the edges, up to direction
    True
    >>> net = pgm.BayesianNetwork.from_data(dag, truth.sample(1000, seed=1), prior=pgm.Dirichlet(1))  # fit it
    """
    return _search("hill climbing", data, score=score, constraints=constraints, start=start, restarts=restarts,
                   perturb=perturb, tabu_length=0, patience=0, max_iter=max_iter, tol=tol, seed=seed,
                   cache_size=cache_size, progress=progress, data_options=_data_options(data_options))


def tabu_search(data, *, score="bic", constraints=None, start="auto", tabu_length: int = 10, patience: int = 10,
                restarts: int = 0, perturb: int | None = None, max_iter: int = 100_000, tol: float = 1e-8,
                seed=None, cache_size: int = 1_000_000, progress: bool = False, **data_options):
    """Tabu search: hill climbing that goes on through moves that do not improve, to escape local optima.

    Every step takes the best legal move, improving or not, except moves on
    an edge changed in the last ``tabu_length`` steps (unless such a move
    finds a new best graph); the search stops after ``patience`` steps
    without a new best and returns the best graph seen.  Other parameters
    as for :func:`hill_climb`.

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import hill_climb, tabu_search
    >>> rows = pgm.load("asia").sample(5000, seed=0)
    >>> tabu_search(rows).search_report_.score >= hill_climb(rows).search_report_.score
    True
    """
    if isinstance(tabu_length, bool) or not isinstance(tabu_length, (int, np.integer)) or tabu_length < 1:
        raise ValueError(f"tabu_length must be a positive integer, got {tabu_length!r}")
    if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) or patience < 1:
        raise ValueError(f"patience must be a positive integer, got {patience!r}")
    return _search("tabu search", data, score=score, constraints=constraints, start=start, restarts=restarts,
                   perturb=perturb, tabu_length=tabu_length, patience=patience, max_iter=max_iter, tol=tol,
                   seed=seed, cache_size=cache_size, progress=progress, data_options=_data_options(data_options))
