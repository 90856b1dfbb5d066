"""Expectation-maximisation: fitting with latent nodes and missing values.

Maximum likelihood for the parameters, Bayes for the unobserved values.  Each
iteration

- **E-step**: exact inference gives every row's posterior over what it does
  not observe, and every CPD's *expected* sufficient statistics under it
  (:mod:`pgm.inference.expectations`); complete rows contribute their plain
  statistics, merged in exactly;
- **M-step**: the complete-data ``from_statistics``, priors included --
  the same code as maximum likelihood, chunked and distributed fitting.

The observed-data log-likelihood ``sum_rows log p(observed part of the
row)`` never decreases (Dempster, Laird & Rubin, 1977); with a prior it is
the log posterior that never decreases.  Iteration stops when one EM step
gains less than ``tol * max(1, |objective|)`` per row -- but never at a
point where a latent node's states are interchangeable, which is a saddle
(:mod:`pgm.learning.em_starts`).

One driver serves every data location: :func:`run` takes a *source*
(:class:`InMemory` here, :class:`pgm._partitions.Pieces` for Dask partitions
and file chunks) and holds the one restart loop; :func:`iterate` is one run,
with SQUAREM acceleration (Varadhan & Roland, 2008) kept monotone.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from pgm._random import as_generator
from pgm.data import Dataset
from pgm.errors import DataError, ImpossibleEvidenceError, PGMWarning, SingularDesignError, caller_stacklevel
from pgm.learning.em_floor import DEFAULT as DEFAULT_VARIANCE_FLOOR

__all__ = ["FitReport", "ConvergenceWarning", "FailedStartWarning", "DegenerateComponentWarning",
           "UnidentifiableWarning", "em", "e_step"]


class ConvergenceWarning(PGMWarning):
    """EM stopped at ``max_iter`` before the log-likelihood settled."""


@dataclass
class FitReport:
    """What EM did: the log-likelihood trace, iterations, convergence, restarts.

    Attributes
    ----------
    log_likelihood : list of float
        Mean observed-data log-likelihood per row (nats), for the starting
        parameters and after every iteration of the winning run.
    objective : list of float
        What EM maximises, per row: the log-likelihood plus, with a prior,
        the log prior density of the parameters
        (:func:`pgm.learning.priors.log_prior`) divided by the total weight.
        It never decreases; without a prior it equals ``log_likelihood``.
    n_iter : int
        Iterations (M-steps) of the winning run.
    converged : bool
    best_init : int
        Which restart won (0-based).
    restarts : list of float
        Final mean log-likelihood of every restart.
    seconds_per_iteration : list of float
    init : str
    n_rows : int
    n_passes : int
        E-steps (passes over the data) of the winning run, counting the
        starting point and rejected extrapolations: the cost of the fit.
    n_extrapolations, n_rejected : int
        Accelerated (SQUAREM) steps kept, and those refused because they
        lowered the objective.
    failed : list of (int, str)
        Starts that failed (e.g. a Gaussian component collapsed), with the
        error, skipped; ``restarts`` holds NaN for them.
    saddle : list of str
        Latent nodes found with interchangeable states when the stopping
        rule held (EM then moved off that saddle, at most
        ``SADDLE_ESCAPES`` times; ``n_saddles`` counts them).
    n_moves : int
        Split moves kept after the run converged (:mod:`pgm.learning.em_moves`):
        each left a local optimum for a higher one.
    variance_floor : float
        The relative floor under latent Gaussian components' variances
        (:mod:`pgm.learning.em_floor`); 0 when off.
    floored : list of str
        Components of the result whose variance sits at its floor, as
        ``"node at parent=state"``: they have collapsed onto (nearly) a
        single value, where the unconstrained likelihood is unbounded.
    """

    log_likelihood: list = field(default_factory=list)
    objective: list = field(default_factory=list)
    n_iter: int = 0
    converged: bool = False
    best_init: int = 0
    restarts: list = field(default_factory=list)
    seconds_per_iteration: list = field(default_factory=list)
    init: str = "random"
    n_rows: int = 0
    n_passes: int = 0
    n_extrapolations: int = 0
    n_rejected: int = 0
    failed: list = field(default_factory=list)
    saddle: list = field(default_factory=list)
    n_saddles: int = 0
    variance_floor: float = 0.0
    floored: list = field(default_factory=list)
    n_moves: int = 0

    def __repr__(self) -> str:
        state = "converged" if self.converged else "did not converge"
        trace = self.log_likelihood
        head = f"EM on {self.n_rows:,} rows: {state} after {self.n_iter} iteration(s)"
        if self.converged and self.n_iter <= 1:
            head += " (its start was already a fixed point, e.g. k-means++ clusters or an earlier fit)"
        if trace:
            head += f"; mean log-likelihood per row {trace[0]:.6f} -> {trace[-1]:.6f}"
        if len(self.restarts) > 1:
            head += f"; best of {len(self.restarts)} starts ({self.init}): #{self.best_init}"
        if self.seconds_per_iteration:
            head += f"; {1000 * float(np.mean(self.seconds_per_iteration)):.1f} ms per iteration"
        if self.floored:
            head += f"; at the variance floor (collapsed): {', '.join(self.floored)}"
        return head

    def _repr_html_(self) -> str:  # Jupyter: the table and the log-likelihood curve (no matplotlib needed)
        from pgm.inference.display import fit_report_html

        return fit_report_html(self)

    def plot(self, ax=None):
        """Draw the log-likelihood trace with matplotlib (an optional extra); returns the axes."""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("plotting needs matplotlib: pip install 'pgm-engine[plot]'") from None
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(range(len(self.log_likelihood)), self.log_likelihood, marker="o", markersize=3)
        ax.set_xlabel("iteration")
        ax.set_ylabel("mean log-likelihood per row (nats)")
        ax.set_title("EM" + (" (converged)" if self.converged else ""))
        return ax


def _progress(enabled: bool, total: int):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm: pip install 'pgm-engine[progress]'") from None
    return tqdm(total=total, desc="EM", unit="it")


def _split(dataset: Dataset, nodes) -> tuple[np.ndarray, bool]:
    """Mask of complete rows, and whether any row is incomplete."""
    complete = np.ones(dataset.n_rows, dtype=bool)
    for node in nodes:
        if node not in dataset.columns:
            complete[:] = False
            break
        complete &= ~dataset.missing(node)
    return complete, not complete.all()


def _subset(dataset: Dataset, mask: np.ndarray) -> Dataset:
    labels = None if dataset.row_labels is None else dataset.row_labels[mask]
    return Dataset({k: v[mask] for k, v in dataset.columns.items()}, int(mask.sum()), labels)


def _evidence(network, dataset: Dataset):
    from pgm.inference.evidence import Evidence

    evidence = Evidence(dataset.n_rows, True, index=dataset.row_labels)
    for node, column in dataset.columns.items():
        (evidence.codes if network[node].is_discrete else evidence.values)[node] = column
    return evidence


class _Objective:
    """One E-step over the data: expected statistics and the mean observed-data log-likelihood."""

    def __init__(self, network, dataset: Dataset, weights, memory_budget):
        from pgm.learning.responsibilities import missing_one_node

        self.nodes = network.nodes
        complete, _ = _split(dataset, self.nodes)
        self.complete = _subset(dataset, complete) if complete.any() else None
        # rows that miss one table node only (a mixture's class): responsibilities, not the inference engine
        self.single, taken = missing_one_node(network, dataset, ~complete, weights)
        incomplete = ~complete & ~taken
        self.incomplete = _evidence(network, _subset(dataset, incomplete)) if incomplete.any() else None
        self.w_complete = None if weights is None else weights[complete]
        self.w_incomplete = None if weights is None else weights[incomplete]
        self.total_weight = float(dataset.n_rows if weights is None else weights.sum())
        self.memory_budget = memory_budget
        self.rows = None  # the incomplete rows' RowPlan, made at the first E-step
        self.moments = _SharedPattern.build(network, self.incomplete, self.w_incomplete)

    def __call__(self, network):
        stats, log_likelihood = self.totals(network)
        return stats, log_likelihood / self.total_weight

    def totals(self, network):
        """Expected statistics and the *summed* log-likelihood: what partitions of a larger data set add up."""
        from pgm.inference.expectations import expected_statistics, plan_rows
        from pgm.learning.mle import Statistics, statistics

        if self.moments is not None and self.complete is None and not self.single:
            arrays, log_likelihood = self.moments.expected_statistics(network)
            stats = Statistics(arrays, self.total_weight, {n: network[n].merge_statistics for n in self.nodes})
            return stats, log_likelihood
        parts = []
        log_likelihood = 0.0
        if self.complete is not None:
            parts.append(statistics(network, self.complete, weights=self.w_complete))
            scores = network.log_likelihood(self.complete)
            log_likelihood += float(scores @ self.w_complete if self.w_complete is not None else scores.sum())
        for group in self.single:
            arrays, group_log_likelihood = group.totals(network)
            parts.append(Statistics(arrays, group.total_weight, {n: network[n].merge_statistics for n in self.nodes}))
            log_likelihood += group_log_likelihood
        if self.incomplete is not None:
            if self.rows is None:  # decided once: it depends on the structure and the data, not the parameters
                self.rows = plan_rows(network, self.incomplete, memory_budget=self.memory_budget)
            arrays, log_ev = expected_statistics(network, self.incomplete, self.w_incomplete,
                                                 memory_budget=self.memory_budget, rows=self.rows)
            weight = float(self.incomplete.n_rows if self.w_incomplete is None else self.w_incomplete.sum())
            parts.append(Statistics(arrays, weight, {n: network[n].merge_statistics for n in self.nodes}))
            log_likelihood += float(log_ev @ self.w_incomplete if self.w_incomplete is not None else log_ev.sum())
        return sum(parts), log_likelihood


def e_step(network, dataset: Dataset, weights=None, *, memory_budget=None):
    """One E-step over one chunk of rows: its expected :class:`~pgm.learning.mle.Statistics` and summed log-likelihood.

    Complete rows contribute their plain statistics, incomplete rows the
    expectation under ``network``'s parameters.  Chunks' results add up
    (``Statistics`` by ``+``, log-likelihoods as floats) to the E-step of
    all rows together, which is how EM runs on partitioned data
    (:mod:`pgm.dask`, :mod:`pgm.io.chunked`).

    Examples
    --------
    >>> import numpy as np, pgm
    >>> from pgm.data import to_dataset
    >>> net = pgm.load("cancer")
    >>> rows = net.sample(200, seed=0)
    >>> rows.loc[::4, "Smoker"] = np.nan
    >>> whole = to_dataset(rows, net.domains)
    >>> halves = [e_step(net, whole.rows(s)) for s in (slice(0, 100), slice(100, 200))]
    >>> stats, log_likelihood = e_step(net, whole)
    >>> bool(np.isclose(halves[0][1] + halves[1][1], log_likelihood))
    True
    >>> bool(np.allclose((halves[0][0] + halves[1][0])["Smoker"], stats["Smoker"]))
    True
    """
    return _Objective(network, dataset, weights, memory_budget).totals(network)


class _SharedPattern:
    """Linear Gaussian networks whose incomplete rows all observe the same nodes (factor analysis, PPCA).

    The posterior of the hidden nodes is then the same Gaussian for every
    row up to a mean that is linear in the row's observed values, so the
    expected statistics depend on the data only through the weighted mean
    ``xbar`` and centred scatter ``S`` of the observed columns: with ``K =
    Sigma_HO Sigma_OO^-1`` and ``P = Sigma_HH - K Sigma_OH``, the hidden
    means are ``mu_H + K (xbar - mu_O)``, and the co-moments are ``S``,
    ``K S`` and ``K S K^T + W P``.  Each iteration costs O(d^3), whatever
    the number of rows.
    """

    def __init__(self, observed: list[str], weight: float, mean: np.ndarray, scatter: np.ndarray):
        self.observed, self.weight, self.mean, self.scatter = observed, weight, mean, scatter

    @classmethod
    def build(cls, network, evidence, weights):
        if evidence is None or evidence.codes:
            return None
        if any(network[n].is_discrete for n in network.nodes):
            return None
        for node in network.nodes:
            cpd = network[node]
            if cpd.discrete_parents or not all(f.is_identity for f in cpd.features):
                return None
        observed = []
        for node in network.nodes:
            column = evidence.values.get(node)
            if column is None:
                continue
            seen = ~np.isnan(column)
            if seen.all():
                observed.append(node)
            elif seen.any():
                return None  # rows differ in what they observe
        x = np.column_stack([evidence.values[n] for n in observed]) if observed else np.zeros((evidence.n_rows, 0))
        w = np.ones(evidence.n_rows) if weights is None else weights
        weight = float(w.sum())
        mean = (w @ x) / weight
        centred = x - mean
        scatter = centred.T @ (centred * w[:, None])
        return cls(observed, weight, mean, scatter)

    def expected_statistics(self, network):
        from pgm.inference.gaussian import joint_gaussian

        joint = joint_gaussian(network)
        names = list(joint.names)
        o = np.array([names.index(n) for n in self.observed], dtype=np.intp)
        h = np.array([i for i in range(len(names)) if i not in set(o.tolist())], dtype=np.intp)
        mu, sigma = joint.mean, joint.covariance
        s_oo = sigma[np.ix_(o, o)]
        gain = np.linalg.solve(s_oo, sigma[np.ix_(o, h)]).T if len(o) else np.zeros((len(h), 0))
        posterior = sigma[np.ix_(h, h)] - gain @ sigma[np.ix_(o, h)]
        mean = np.empty(len(names))
        mean[o] = self.mean
        mean[h] = mu[h] + gain @ (self.mean - mu[o])
        comoment = np.empty((len(names), len(names)))
        comoment[np.ix_(o, o)] = self.scatter
        cross = gain @ self.scatter
        comoment[np.ix_(h, o)] = cross
        comoment[np.ix_(o, h)] = cross.T
        comoment[np.ix_(h, h)] = cross @ gain.T + self.weight * posterior
        arrays = {}
        for node in network.nodes:
            cpd = network[node]
            members = [names.index(f.parents[0]) for f in cpd.features] + [names.index(node)]
            d1 = len(members)
            out = np.zeros((1, d1 + 1, d1 + 1))
            out[0, 0, 0] = self.weight
            out[0, 0, 1:] = out[0, 1:, 0] = mean[members]
            out[0, 1:, 1:] = comoment[np.ix_(members, members)]
            arrays[node] = out.reshape(cpd.statistics(np.zeros(0), {p: np.zeros(0) for p in cpd.parents}).shape)
        if len(o):
            factor = np.linalg.cholesky(s_oo)
            log_det = 2.0 * np.log(np.diag(factor)).sum()
            centred = self.mean - mu[o]
            inverse = np.linalg.inv(s_oo)
            quadratic = np.sum(inverse * self.scatter) + self.weight * centred @ inverse @ centred
            log_likelihood = -0.5 * (self.weight * (len(o) * np.log(2 * np.pi) + log_det) + quadratic)
        else:
            log_likelihood = 0.0
        return arrays, float(log_likelihood)


# ---------------------------------------------------------------------------- the data EM reads
class InMemory:
    """Rows in memory as a source for EM's driver: the whole data set is one piece.

    A source answers what the driver asks of the data, wherever it is
    (:class:`pgm._partitions.Pieces` is the other one): ``expected(network)``
    -- one E-step, the expected statistics and mean log-likelihood;
    ``completed(network, rng, centres)`` -- the statistics of a random
    completion (EM's starting base); ``sample(columns, rng, limit=None)`` -- rows of some
    columns (at most ``limit``) for k-means++ and for ranking split moves; and ``total_weight``, ``n_rows``, ``observed``
    (the nodes with at least one value).
    """

    def __init__(self, network, dataset: Dataset, weights=None, memory_budget=None):
        self.dataset, self.weights = dataset, weights
        self.objective = _Objective(network, dataset, weights, memory_budget)
        self.total_weight = self.objective.total_weight
        self.n_rows = dataset.n_rows
        self.observed = frozenset(n for n in dataset.columns if (~dataset.missing(n)).any())

    def expected(self, network):
        return self.objective(network)

    def completed(self, network, rng, centres: dict):
        from pgm.learning.mle import statistics

        return statistics(network, completion(network, self.dataset, rng, centres), weights=self.weights)

    def sample(self, columns, rng, limit: int | None = None) -> np.ndarray:
        rows = slice(None)
        if limit is not None and self.n_rows > limit:
            rows = np.sort(rng.choice(self.n_rows, limit, replace=False))
        return np.column_stack([np.asarray(self.dataset.columns[c], dtype=np.float64)[rows] for c in columns])


def completion(network, dataset: Dataset, rng, centres: dict, *, strict: bool = True) -> Dataset:
    """``dataset`` with every hidden or missing value filled in: the data of a start's first M-step.

    A latent discrete node takes, per row, the state of the nearest of its
    ``centres`` (k-means++ centres over its continuous children) or, without
    centres, a uniformly random state; a latent continuous node standard
    normal values; a missing observed value a random draw from the values
    observed in its column.  A column with no value at all is an error with
    ``strict`` (it should be declared latent), and filled like a latent
    node's otherwise (a piece of partitioned data may lack a column's values).
    """
    from pgm.learning.em_starts import nearest_centre

    n = dataset.n_rows
    columns = {}
    for node in network.nodes:
        cpd = network[node]
        column = dataset.columns.get(node)
        missing = None if column is None else dataset.missing(node)
        if column is not None and not cpd.latent and strict and missing.all() and n:
            raise DataError(
                f"column {node!r} has no observed value at all; declare {node!r} latent "
                "(Categorical.latent / LinearGaussian.latent) or drop the column"
            )
        if column is None or cpd.latent or missing.all():
            if cpd.is_discrete and node in centres:
                names, points = centres[node]
                values = np.column_stack([np.asarray(dataset.columns[c], dtype=np.float64) for c in names])
                columns[node] = nearest_centre(values, points)
            elif cpd.is_discrete:
                columns[node] = rng.integers(len(cpd.domain), size=n)
            else:
                columns[node] = rng.standard_normal(n)
            continue
        column = column.copy() if cpd.is_discrete else column.astype(np.float64, copy=True)
        if missing.any():
            seen = column[~missing]
            column[missing] = rng.choice(seen, size=int(missing.sum()))
        columns[node] = column
    return Dataset(columns, n, dataset.row_labels)


# ---------------------------------------------------------------------------- starting points
INITS = ("random", "kmeans++")


def draw_start(network, data, rng, *, init: str, prior, variance_floor: float = 0.0):
    """One starting network for EM (see :mod:`pgm.learning.em_starts`), and the k-means++ centres it used."""
    from pgm.learning.em_floor import variance_floors
    from pgm.learning.em_starts import kmeans_plus_plus, seed_columns, spread
    from pgm.learning.mle import from_statistics

    centres = {}
    for node in network.latent_nodes:
        if not network[node].is_discrete:
            continue
        columns = seed_columns(network, node, data.observed)
        if columns:
            points = kmeans_plus_plus(data.sample(columns, rng), len(network.states(node)), rng)
            if points is not None:
                centres[node] = (columns, points)
    hard = centres if init == "kmeans++" else {}
    completed = data.completed(network, rng, hard)
    floors = variance_floors(network, completed, variance_floor, data.observed)
    base = from_statistics(network, completed, prior=prior, quiet=True, variance_floors=floors)
    if init == "kmeans++":  # the clusters' own parameters, with every cell of a latent family kept above zero
        return spread(base, _NoNoise(), {}), centres
    return spread(base, rng, centres), centres


#: Candidate starts drawn for each of EM's starts, and the EM passes each is given before the best is kept.
CANDIDATES, SCREEN_PASSES = 4, 5


def screened_start(network, data, rng, *, init: str, prior, max_iter: int, variance_floor: float = 0.0):
    """The best of CANDIDATES drawn starts after SCREEN_PASSES (at most ``max_iter``) plain EM passes each.

    Which basin a start falls into shows after a few iterations, far sooner
    than convergence, so a few cheap short runs buy much of what full
    restarts buy (Biernacki, Celeux & Govaert, 2003).  A candidate whose
    M-step fails is dropped; if all fail, the last error is raised.
    Returns ``(start, centres, passes spent)``.
    """
    if max_iter == 0:
        start, centres = draw_start(network, data, rng, init=init, prior=prior, variance_floor=variance_floor)
        return start, centres, 0
    best, spent, error = None, 0, None
    for _ in range(CANDIDATES):
        try:
            start, centres = draw_start(network, data, rng, init=init, prior=prior, variance_floor=variance_floor)
            moved, report = iterate(start, data, prior=prior, max_iter=min(SCREEN_PASSES, max_iter), tol=0.0,
                                    accelerate=False, rng=rng, centres=centres, variance_floor=variance_floor)
        except SingularDesignError as failure:
            error = failure
            spent += min(SCREEN_PASSES, max_iter)
            continue
        spent += report.n_passes
        if best is None or report.objective[-1] > best[0]:
            best = (report.objective[-1], moved, centres)
    if best is None:
        raise error
    return best[1], best[2], spent


#: Split moves screened per round after a run converges (0: none), and the passes they may spend in all:
#: at most MOVE_BUDGET times the run's own passes, and at most MOVE_CELLS (rows x nodes) of work, so that
#: the moves are thorough on cheap problems and brief on large ones (see :mod:`pgm.learning.em_moves`).
MOVE_CANDIDATES, MOVE_BUDGET, MOVE_CELLS = 6, 6.0, 5e7
#: Screened moves run to convergence per round, best first, until one ends higher.
MOVE_TRIES = 3


def moved_on(fitted, report, data, *, prior, max_iter: int, tol: float, accelerate: bool, rng, variance_floor):
    """From a converged run, split moves (:mod:`pgm.learning.em_moves`) while they reach a higher optimum.

    Each round scores MOVE_CANDIDATES moves by SCREEN_PASSES plain EM passes
    each, runs the best screened ones to convergence (at most MOVE_TRIES,
    best first), and keeps the first whose objective beats the current one
    by more than the stopping rule's tolerance; rounds go on while they
    improve and the passes spent stay within the budget (MOVE_BUDGET times
    the run's passes, and MOVE_CELLS rows x nodes of work).  A move whose
    M-step fails or whose rows become impossible is skipped.  The kept
    run's trace replaces the report's (the move itself lowers the
    objective, so each trace stays monotone); ``n_passes`` counts every
    pass spent, ``n_moves`` the moves kept.
    """
    from pgm.learning.em_moves import candidate_moves, movable_nodes, row_posteriors, split_move

    nodes = movable_nodes(fitted) if MOVE_CANDIDATES and report.converged else []
    if not nodes:
        return fitted, report
    base_passes = report.n_passes
    budget = min(MOVE_BUDGET * base_passes, MOVE_CELLS / max(1, data.n_rows * len(fitted.nodes)))
    spent, moves = 0, 0
    while spent + MOVE_CANDIDATES * SCREEN_PASSES + 1 <= budget:
        stats, _ = data.expected(fitted)
        spent += 1
        screened = []
        for node in nodes:
            rows = row_posteriors(fitted, node, data, rng)
            for j, k in candidate_moves(fitted, node, stats, limit=MOVE_CANDIDATES, rows=rows):
                try:
                    short, short_report = iterate(split_move(fitted, node, j, k, rng), data, prior=prior,
                                                  max_iter=SCREEN_PASSES, tol=0.0, accelerate=False, rng=rng,
                                                  variance_floor=variance_floor)
                except (SingularDesignError, ImpossibleEvidenceError):
                    spent += SCREEN_PASSES
                    continue
                spent += short_report.n_passes
                screened.append((short_report.objective[-1], len(screened), short))
        screened.sort(key=lambda item: (-item[0], item[1]))
        current, kept = report.objective[-1], None
        for _, _, short in screened[:MOVE_TRIES]:  # the best screened first, until one ends higher
            if spent >= budget:
                break
            try:
                candidate, candidate_report = iterate(short, data, prior=prior, max_iter=max_iter, tol=tol,
                                                      accelerate=accelerate, rng=rng, variance_floor=variance_floor)
            except (SingularDesignError, ImpossibleEvidenceError):
                continue
            spent += candidate_report.n_passes
            if candidate_report.objective[-1] > current + tol * max(1.0, abs(current)):
                kept = candidate, candidate_report
                break
        if kept is None:
            break
        candidate, candidate_report = kept
        candidate_report.seconds_per_iteration = report.seconds_per_iteration + candidate_report.seconds_per_iteration
        candidate_report.n_saddles += report.n_saddles
        fitted, report, moves = candidate, candidate_report, moves + 1
    report.n_passes = base_passes + spent
    report.n_moves = moves
    return fitted, report


class _NoNoise:
    """A stand-in generator whose Gamma draws are all 1: :func:`spread` then only floors the tables."""

    @staticmethod
    def gamma(shape, size):
        return np.ones(size)

    @staticmethod
    def standard_normal(size):
        return np.zeros(size)


def _check_options(max_iter, tol, n_init, init, variance_floor=0.0):
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ValueError(f"n_init must be a positive integer, got {n_init!r}")
    if isinstance(tol, (bool, np.bool_)) or not (isinstance(tol, (int, float, np.integer, np.floating)) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    from pgm.learning.em_floor import check_variance_floor
    from pgm.network import BayesianNetwork

    check_variance_floor(variance_floor)

    if not (isinstance(init, BayesianNetwork) or (isinstance(init, str) and init in (*INITS, "current"))):
        raise ValueError(f"init must be 'random', 'kmeans++', 'current' or a BayesianNetwork, got {init!r}")


def _check_latent_sizes(network, data) -> None:
    """A latent node with more states than rows leaves some state without data: say so before EM does."""
    for node in network.latent_nodes:
        cpd = network[node]
        if cpd.is_discrete and any(not network[c].is_discrete for c in network.children(node)):
            k = len(cpd.domain)
            if data.n_rows < k:
                raise DataError(
                    f"latent node {node!r} has {k} states but the data have only {data.n_rows} row(s), so some "
                    f"state would get no rows to fit its continuous children {list(network.children(node))}; "
                    "give the latent node fewer states than there are rows"
                )


# ---------------------------------------------------------------------------- the driver
def em(network, dataset: Dataset, *, weights=None, prior=None, max_iter: int = 100, tol: float = 1e-6,
       n_init: int = 1, init="random", seed=None, progress: bool = False, callback=None, memory_budget=None,
       accelerate: bool = True, variance_floor: float = DEFAULT_VARIANCE_FLOOR, split_moves: bool = True):
    """Fit ``network`` to incomplete in-memory ``dataset`` by EM; returns the fitted network with ``fit_report_``.

    See :meth:`pgm.BayesianNetwork.fit` for the options and :func:`run` for what happens.
    """
    _check_options(max_iter, tol, n_init, init, variance_floor)
    if dataset.n_rows == 0:
        raise DataError("fitting needs at least one row")
    _warn_unidentifiable(network, dataset)
    # continuous columns moved to a reference location of their own: fits that do not depend on it
    from pgm.learning.em_location import centred

    located = centred(network, dataset, prior=prior, init=init, callback=callback)
    if located is not None:
        start, moved, init, callback, restore = located
        data = InMemory(start, moved, weights, memory_budget)
        return restore(run(start, data, prior=prior, max_iter=max_iter, tol=tol, n_init=n_init, init=init,
                           seed=seed, progress=progress, callback=callback, accelerate=accelerate,
                           variance_floor=variance_floor, split_moves=split_moves))
    data = InMemory(network, dataset, weights, memory_budget)
    return run(network, data, prior=prior, max_iter=max_iter, tol=tol, n_init=n_init, init=init, seed=seed,
               progress=progress, callback=callback, accelerate=accelerate, variance_floor=variance_floor,
               split_moves=split_moves)


def run(network, data, *, prior=None, max_iter: int = 100, tol: float = 1e-6, n_init: int = 1, init="random",
        seed=None, progress: bool = False, callback=None, accelerate: bool = True,
        variance_floor: float = DEFAULT_VARIANCE_FLOOR, split_moves: bool = True):
    """EM over any source of data (:class:`InMemory`, or pieces of partitioned data): the one restart loop.

    Each of ``n_init`` starts (one with ``init="current"`` or a network) is
    iterated by :func:`iterate`; a start whose M-step fails (a Gaussian
    component collapsing onto too few rows) is skipped and recorded in
    ``fit_report_.failed``, and only if every start fails is the error
    raised.  The run with the highest final objective wins.  Latent
    Gaussian components' variances are kept above ``variance_floor`` times
    their node's variance in the data (:mod:`pgm.learning.em_floor`); a
    result with a component at its floor warns
    (:class:`DegenerateComponentWarning`).
    """
    from pgm.learning.em_starts import parameters_from
    from pgm.network import BayesianNetwork

    _check_options(max_iter, tol, n_init, init, variance_floor)
    if not data.total_weight > 0:
        raise DataError("every row has weight zero, so there is nothing to fit; give some rows a positive weight")
    _check_latent_sizes(network, data)
    given = None
    if isinstance(init, BayesianNetwork):
        given, label = parameters_from(network, init), "given"
    elif init == "current":
        network._require_fitted("started from its current parameters (init='current')")
        given, label = network, "current"
    else:
        label = init
    rng = as_generator(seed)
    starts = 1 if given is not None else n_init
    runs, finals, failed = [], [], []
    bar = _progress(progress, max_iter * starts)
    try:
        for number in range(starts):
            try:
                if given is not None:
                    start, centres = given, {}
                    screening = 0
                else:
                    start, centres, screening = screened_start(network, data, rng, init=label, prior=prior,
                                                               max_iter=max_iter, variance_floor=variance_floor)
                fitted, report = iterate(start, data, prior=prior, max_iter=max_iter, tol=tol, callback=callback,
                                         bar=bar, accelerate=accelerate, rng=rng, centres=centres,
                                         variance_floor=variance_floor)
                if given is None and split_moves:
                    fitted, report = moved_on(fitted, report, data, prior=prior, max_iter=max_iter, tol=tol,
                                              accelerate=accelerate, rng=rng, variance_floor=variance_floor)
                report.n_passes += screening
            except SingularDesignError as error:
                failed.append((number, str(error)))
                finals.append(float("nan"))
                continue
            runs.append((number, fitted, report))
            finals.append(report.objective[-1])
    finally:
        if bar is not None:
            bar.close()
    if not runs:
        first = failed[0][1]
        raise SingularDesignError(
            f"all {starts} EM start(s) failed; the first: {first}" if starts > 1 else first
        )
    best, fitted, report = max(runs, key=lambda item: item[2].objective[-1])
    report.best_init, report.restarts, report.init, report.n_rows = best, finals, label, data.n_rows
    report.failed = failed
    if report.floored:
        warnings.warn(
            f"the fit's component(s) {report.floored} sit at the variance floor ({variance_floor:g} times the "
            "node's variance in the data): each has collapsed onto (nearly) a single value, where the likelihood "
            "without a floor is unbounded; check the data for repeated values, or use fewer latent states or a "
            "prior (variance_floor=0 refuses such fits)",
            DegenerateComponentWarning,
            stacklevel=caller_stacklevel(),
        )
    if failed:
        warnings.warn(
            f"{len(failed)} of {starts} EM starts failed and were skipped (see fit_report_.failed); "
            f"the first: {failed[0][1]}",
            FailedStartWarning,
            stacklevel=caller_stacklevel(),
        )
    if report.saddle and not report.converged:
        warnings.warn(
            f"EM kept returning to a point where latent node(s) {report.saddle} have interchangeable states "
            "(a saddle of the likelihood); try more starts (n_init) or fewer states",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )
    elif not report.converged and max_iter > 0:
        warnings.warn(
            f"EM did not converge in {max_iter} iterations (last change in mean log-likelihood per row "
            f"{report.objective[-1] - report.objective[-2]:.3g} > tol={tol:g} relative); raise max_iter or tol",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )
    fitted.fit_report_ = report
    return fitted


class FailedStartWarning(PGMWarning):
    """Some of EM's starts failed (e.g. a Gaussian component collapsed) and were skipped."""


class DegenerateComponentWarning(PGMWarning):
    """EM's result has a latent Gaussian component at its variance floor: it collapsed onto (nearly) one value."""


#: Times EM may leave a saddle (a point with interchangeable latent states) in one run before it gives up.
SADDLE_ESCAPES = 3


def converged(gain: float, objective: float, tol: float) -> bool:
    """EM's stopping rule: the gain of one EM step is below ``tol`` relative to the objective's size.

    ``tol * max(1, |objective|)``: relative for objectives of several nats
    per row, absolute below one.
    """
    return gain < tol * max(1.0, abs(objective))


def iterate(start, data, *, prior=None, max_iter: int = 100, tol: float = 1e-6, callback=None, bar=None,
            accelerate: bool = True, rng=None, centres=None, variance_floor: float = 0.0):
    """EM iterations from ``start`` until the stopping rule, ``max_iter`` passes, or a saddle it cannot leave.

    With ``accelerate``, every two EM steps ``x0 -> x1 -> x2`` are followed
    by a SQUAREM extrapolation (Varadhan & Roland, 2008; the SqS3 step
    length ``-|r|/|v|`` in :mod:`pgm.learning.em_parameters`'s
    unconstrained coordinates, where ``r = x1 - x0`` and ``v = x2 - 2 x1 +
    x0``), which is kept only if its objective is at least that of ``x2``:
    the objective stays monotone.  Each E-step -- including one at a
    rejected extrapolation -- is one pass over the data, counted in
    ``n_passes``.  When the stopping rule holds at a point where a latent
    node's states are interchangeable (:func:`~pgm.learning.em_starts.interchangeable_states`),
    that is a saddle, not an optimum: the parameters of its family are drawn
    afresh around the point and EM goes on, with a new trace.  Every
    M-step keeps latent Gaussian components' variances at or above their
    floors (``variance_floor`` times the node's variance, read from the
    start's first E-step; :mod:`pgm.learning.em_floor`).
    """
    from pgm.learning.em_floor import at_floor, raised_to_floors, variance_floors
    from pgm.learning.em_parameters import parameter_vector, with_parameters
    from pgm.learning.em_starts import interchangeable_states, spread
    from pgm.learning.mle import from_statistics
    from pgm.learning.priors import log_prior

    rng = as_generator(rng)
    report = FitReport()
    clock = [time.perf_counter()]

    def evaluate(network):
        stats, log_likelihood = data.expected(network)
        report.n_passes += 1
        return stats, log_likelihood, log_likelihood + log_prior(network, prior) / data.total_weight

    def record(network, log_likelihood, target):
        report.log_likelihood.append(log_likelihood)
        report.objective.append(target)
        if callback is not None:
            callback(len(report.log_likelihood) - 1, log_likelihood, network)
        now = time.perf_counter()
        if len(report.log_likelihood) > 1:
            report.seconds_per_iteration.append(now - clock[0])
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loglik=f"{log_likelihood:.6f}")
        clock[0] = now

    def m_step(stats, network):
        try:
            return from_statistics(network, stats, prior=prior, quiet=True, variance_floors=floors)
        except SingularDesignError as error:
            raise SingularDesignError(
                f"EM's M-step {report.n_passes} failed: {error}. In EM this means a latent state's component "
                "collapsed onto too few rows; a variance floor (variance_floor > 0, the default) or a prior keeps "
                "every component alive (e.g. prior=[pgm.Dirichlet(1), "
                "pgm.InverseGamma(shape=1, scale=...)] with scale of the order of the data's variance), or try "
                "another start (n_init, seed), or fewer latent states"
            ) from None

    current = start
    stats, log_likelihood, target = evaluate(current)
    record(current, log_likelihood, target)
    floors = variance_floors(current, stats, variance_floor, data.observed)
    report.variance_floor = variance_floor
    anchor, middle = current, None  # SQUAREM's x0 and x1
    longest = 1.0  # SQUAREM's largest step length (grows by 4 while the steps want to be longer)
    while report.n_passes <= max_iter:
        following = m_step(stats, current)
        new_stats, new_log_likelihood, new_target = evaluate(following)
        gain = new_target - target
        current, stats, log_likelihood, target = following, new_stats, new_log_likelihood, new_target
        record(current, log_likelihood, target)
        if converged(gain, target, tol):
            symmetric = interchangeable_states(current)
            if not symmetric:
                report.converged = True
                break
            report.saddle = symmetric
            if report.n_saddles >= SADDLE_ESCAPES or report.n_passes > max_iter:
                break
            report.n_saddles += 1
            current = spread(current, rng, centres or {}, only=symmetric)
            stats, log_likelihood, target = evaluate(current)
            report.log_likelihood, report.objective = [], []  # a new, monotone, trace from the escaped point
            record(current, log_likelihood, target)
            anchor, middle = current, None
            continue
        if not accelerate:
            continue
        if middle is None:
            anchor, middle = (anchor, current)
            continue
        x0, x1, x2 = anchor, middle, current
        anchor, middle = current, None
        if report.n_passes > max_iter:
            break
        extrapolated, step, longest = _squarem(x0, x1, x2, longest, parameter_vector, with_parameters)
        if extrapolated is None:
            continue
        extrapolated = raised_to_floors(extrapolated, floors)  # stay in the constrained parameter space
        e_stats, e_log_likelihood, e_target = evaluate(extrapolated)
        if np.isfinite(e_target) and e_target >= target:
            current, stats, log_likelihood, target = extrapolated, e_stats, e_log_likelihood, e_target
            record(current, log_likelihood, target)
            report.n_extrapolations += 1
            anchor = current
        else:
            report.n_rejected += 1
            longest = max(1.0, step / 4.0)
    report.n_iter = len(report.log_likelihood) - 1
    report.floored = at_floor(current, floors)
    return current, report


def _squarem(x0, x1, x2, longest, parameter_vector, with_parameters):
    """SQUAREM's extrapolated network from three EM iterates, its step length, and the new longest step.

    Returns ``(None, step, longest)`` when the step would be 1 (that is,
    ``x2`` itself) or the iterates do not move.
    """
    from pgm.learning.em_parameters import has_vector_form

    if not all(has_vector_form(x0[node]) for node in x0.nodes):
        return None, 1.0, longest  # softmax / noisy-OR parameters have no coordinates: plain EM steps
    v0, z0 = parameter_vector(x0)
    v1, z1 = parameter_vector(x1)
    v2, z2 = parameter_vector(x2)
    zeros = z0 | z1 | z2
    r = np.where(zeros, 0.0, v1 - v0)
    v = np.where(zeros, 0.0, v2 - 2.0 * v1 + v0)
    from pgm.learning.em_parameters import parameter_weights

    counted = parameter_weights(x0)  # step lengths free of the data's location (intercepts left out)
    r_norm, v_norm = float(np.linalg.norm(r * counted)), float(np.linalg.norm(v * counted))
    if not (v_norm > 0 and np.isfinite(v_norm) and np.isfinite(r_norm)):
        return None, 1.0, longest
    wanted = r_norm / v_norm
    step = min(wanted, longest)
    if wanted >= longest:
        longest *= 4.0
    if step <= 1.0:
        return None, step, longest
    # x' = x0 - 2 alpha r + alpha^2 v with alpha = -step
    point = v0 + 2.0 * step * r + step * step * v
    if not np.isfinite(point).all():
        return None, step, longest
    return with_parameters(x0, point, zeros), step, longest


class UnidentifiableWarning(PGMWarning):
    """A latent node that no observed value depends on: the data say nothing about it."""


def _warn_unidentifiable(network, dataset: Dataset) -> None:
    observed = {n for n, column in dataset.columns.items() if (~dataset.missing(n)).any()}
    for node in network.latent_nodes:
        if not (network.descendants(node) & observed):
            warnings.warn(
                f"latent node {node!r} has no observed descendant, so the data carry no information about it "
                "and EM leaves it where it starts (unidentifiable); give it observed children or drop it",
                UnidentifiableWarning,
                stacklevel=caller_stacklevel(),
            )
