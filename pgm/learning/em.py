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
the log posterior that never decreases.  Iteration stops when the mean
log-likelihood per row changes by less than ``tol``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from pgm._random import as_generator
from pgm.data import Dataset
from pgm.errors import DataError, PGMWarning, SingularDesignError, caller_stacklevel

__all__ = ["FitReport", "ConvergenceWarning", "UnidentifiableWarning", "em", "e_step"]


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

    def __repr__(self) -> str:
        state = "converged" if self.converged else "did not converge"
        trace = self.log_likelihood
        head = f"EM on {self.n_rows:,} rows: {state} after {self.n_iter} iteration(s)"
        if trace:
            head += f"; mean log-likelihood per row {trace[0]:.6f} -> {trace[-1]:.6f}"
        if len(self.restarts) > 1:
            head += f"; best of {len(self.restarts)} starts ({self.init}): #{self.best_init}"
        if self.seconds_per_iteration:
            head += f"; {1000 * float(np.mean(self.seconds_per_iteration)):.1f} ms per iteration"
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
        self.nodes = network.nodes
        complete, _ = _split(dataset, self.nodes)
        self.complete = _subset(dataset, complete) if complete.any() else None
        self.incomplete = _evidence(network, _subset(dataset, ~complete)) if (~complete).any() else None
        self.w_complete = None if weights is None else weights[complete]
        self.w_incomplete = None if weights is None else weights[~complete]
        self.total_weight = float(dataset.n_rows if weights is None else weights.sum())
        self.memory_budget = memory_budget
        self.moments = _SharedPattern.build(network, self.incomplete, self.w_incomplete)

    def __call__(self, network):
        stats, log_likelihood = self.totals(network)
        return stats, log_likelihood / self.total_weight

    def totals(self, network):
        """Expected statistics and the *summed* log-likelihood: what partitions of a larger data set add up."""
        from pgm.inference.expectations import expected_statistics
        from pgm.learning.mle import Statistics, statistics

        if self.moments is not None and self.complete is None:
            arrays, log_likelihood = self.moments.expected_statistics(network)
            stats = Statistics(arrays, self.total_weight, {n: network[n].merge_statistics for n in self.nodes})
            return stats, log_likelihood
        parts = []
        log_likelihood = 0.0
        if self.complete is not None:
            parts.append(statistics(network, self.complete, weights=self.w_complete))
            scores = network.log_likelihood(self.complete)
            log_likelihood += float(scores @ self.w_complete if self.w_complete is not None else scores.sum())
        if self.incomplete is not None:
            arrays, log_ev = expected_statistics(network, self.incomplete, self.w_incomplete,
                                                 memory_budget=self.memory_budget)
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


# ---------------------------------------------------------------------------- starting points
def _random_start(network, dataset: Dataset, rng, *, kmeans: bool, prior):
    """Parameters from one M-step on a random completion of the data.

    Latent discrete nodes get uniformly random states (or, with ``kmeans``,
    the nearest of k centres chosen by k-means++ among their continuous
    children), latent continuous nodes standard normal values, and missing
    observed values a random draw from the values observed in their column.
    """
    from pgm.learning.mle import from_statistics, statistics

    completed = _random_completion(network, dataset, rng, kmeans=kmeans)
    return from_statistics(network, statistics(network, completed), prior=prior, quiet=True)


def _random_completion(network, dataset: Dataset, rng, *, kmeans: bool) -> Dataset:
    """``dataset`` with every hidden or missing value filled at random, as :func:`_random_start` describes."""
    n = dataset.n_rows
    columns = {}
    for node in network.nodes:
        cpd = network[node]
        column = dataset.columns.get(node)
        if column is None or cpd.latent:
            if cpd.is_discrete:
                codes = None
                if kmeans:
                    codes = _kmeans_plus_plus(network, node, dataset, rng)
                columns[node] = rng.integers(len(cpd.domain), size=n) if codes is None else codes
            else:
                columns[node] = rng.standard_normal(n)
            continue
        missing = dataset.missing(node)
        column = column.copy() if cpd.is_discrete else column.astype(np.float64, copy=True)
        if missing.any():
            seen = column[~missing]
            if len(seen) == 0:
                raise DataError(
                    f"column {node!r} has no observed value at all; declare {node!r} latent "
                    "(Categorical.latent / LinearGaussian.latent) or drop the column"
                )
            column[missing] = rng.choice(seen, size=int(missing.sum()))
        columns[node] = column
    return Dataset(columns, n, dataset.row_labels)


def _kmeans_plus_plus(network, node, dataset: Dataset, rng):
    """k-means++ centres (Arthur & Vassilvitskii, 2007) on the continuous children of ``node``; nearest-centre codes."""
    children = [c for c in network.children(node) if not network[c].is_discrete and c in dataset.columns]
    if not children:
        return None
    points = np.column_stack([dataset.columns[c] for c in children])
    points = np.where(np.isnan(points), np.nanmean(points, axis=0), points)
    scale = points.std(axis=0)
    # centred as well as scaled (issue 16): the expanded distances below cancel catastrophically
    # for data far from zero, e.g. timestamps near 1.7e9
    points = (points - points.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    k = len(network.states(node))
    centres = [points[rng.integers(len(points))]]
    distance = ((points - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = distance.sum()
        pick = rng.integers(len(points)) if not total > 0 else rng.choice(len(points), p=distance / total)
        centres.append(points[pick])
        distance = np.minimum(distance, ((points - centres[-1]) ** 2).sum(axis=1))
    centres = np.array(centres)
    squared = (points**2).sum(axis=1)[:, None] - 2 * points @ centres.T + (centres**2).sum(axis=1)[None, :]
    return np.argmin(squared, axis=1)


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


# ---------------------------------------------------------------------------- the loop
def em(network, dataset: Dataset, *, weights=None, prior=None, max_iter: int = 100, tol: float = 1e-6,
       n_init: int = 1, init="random", seed=None, progress: bool = False, callback=None, memory_budget=None):
    """Fit ``network`` to incomplete ``dataset`` by EM; returns the fitted network with ``fit_report_``.

    See :meth:`pgm.BayesianNetwork.fit` for the options.
    """
    from pgm.learning.mle import from_statistics
    from pgm.network import BayesianNetwork

    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ValueError(f"n_init must be a positive integer, got {n_init!r}")
    if isinstance(tol, (bool, np.bool_)) or not (isinstance(tol, (int, float, np.integer, np.floating)) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    if dataset.n_rows == 0:
        raise DataError("fitting needs at least one row")
    _warn_unidentifiable(network, dataset)
    starts = []
    if isinstance(init, BayesianNetwork):
        if init.nodes != network.nodes and set(init.nodes) != set(network.nodes):
            raise ValueError("init= network must have the same nodes as the network being fitted")
        init._require_fitted("used as a starting point")
        starts, label = [init], "given"
    elif init == "current":
        network._require_fitted("started from its current parameters (init='current')")
        starts, label = [network], "current"
    elif init in ("random", "kmeans++"):
        label = init
    else:
        raise ValueError(f"init must be 'random', 'kmeans++', 'current' or a BayesianNetwork, got {init!r}")
    rng = as_generator(seed)
    objective = _Objective(network, dataset, weights, memory_budget)
    runs = []
    bar = _progress(progress, max_iter * (n_init if not starts else 1))
    try:
        for restart in range(n_init if not starts else 1):
            start = starts[0] if starts else _random_start(network, dataset, rng, kmeans=label == "kmeans++", prior=prior)
            runs.append(_run(start, objective, prior, max_iter, tol, callback, bar, from_statistics))
    finally:
        if bar is not None:
            bar.close()
    finals = [run[1].objective[-1] for run in runs]
    best = int(np.argmax(finals))
    fitted, report = runs[best]
    report.best_init, report.restarts, report.init, report.n_rows = best, finals, label, dataset.n_rows
    if not report.converged and max_iter > 0:
        warnings.warn(
            f"EM did not converge in {max_iter} iterations (last change in mean log-likelihood per row "
            f"{report.objective[-1] - report.objective[-2]:.3g} > tol={tol:g}); raise max_iter or tol",
            ConvergenceWarning,
            stacklevel=caller_stacklevel(),
        )
    fitted.fit_report_ = report
    return fitted


def _run(network, objective, prior, max_iter, tol, callback, bar, from_statistics):
    from pgm.learning.priors import log_prior

    report = FitReport()
    current = network
    previous = None
    for iteration in range(max_iter + 1):
        started = time.perf_counter()
        stats, log_likelihood = objective(current)
        target = log_likelihood + log_prior(current, prior) / objective.total_weight
        report.log_likelihood.append(log_likelihood)
        report.objective.append(target)
        if callback is not None:
            callback(iteration, log_likelihood, current)
        if previous is not None and target - previous < tol:
            report.converged = True
            break
        if iteration == max_iter:
            break
        try:
            current = from_statistics(current, stats, prior=prior, quiet=True)
        except SingularDesignError as error:
            raise SingularDesignError(
                f"EM's M-step {iteration + 1} failed: {error}. In EM this usually means a component "
                "collapsed onto too few rows; a prior keeps it alive (e.g. prior=[pgm.Dirichlet(1), "
                "pgm.InverseGamma(scale=...)]), or try another init/seed"
            ) from None
        report.n_iter = iteration + 1
        report.seconds_per_iteration.append(time.perf_counter() - started)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loglik=f"{log_likelihood:.6f}")
        previous = target
    return current, report
