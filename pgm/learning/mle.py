"""Fitting CPDs from data through mergeable sufficient statistics.

``fit = from_statistics(statistics(data) + prior pseudo-statistics)``.

Because the statistics of two data sets combine into the statistics of their
union (``+`` on :class:`Statistics`), the same two functions give

- maximum likelihood: ``net.fit(data)``;
- MAP / posterior-mean fitting: ``net.fit(data, prior=Dirichlet(1))``;
- weighted fitting (EM's M-step): ``net.fit(data, weights=w)``;
- chunked or distributed fitting: ``net.from_statistics(sum(net.statistics(chunk) for chunk in chunks))``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator, Mapping

import numpy as np

from pgm._chunks import map_chunks, row_chunks
from pgm.data import to_dataset
from pgm.errors import DataError, UnseenConfigurationWarning, caller_stacklevel
from pgm.learning.priors import check_prior_nodes, pseudo_statistics, variance_prior

__all__ = ["Statistics", "statistics", "from_statistics", "fit"]

_LISTED_CONFIGURATIONS = 10


class Statistics(Mapping):
    """Sufficient statistics of a data set for each node of a network.

    A read-only mapping from node to its statistics array (counts for a
    table; weight, means and centred co-moments for a linear Gaussian node).
    ``a + b`` gives the statistics of both data sets together, and
    ``sum(...)`` of several works too.

    Parameters
    ----------
    arrays : mapping of str to ndarray
        Each node's statistics array, as its CPD family computes them.
    total_weight : float
        Number of rows (or the sum of their weights) that went in.
    mergers : mapping, optional
        For a node whose statistics do not simply add, the function that
        merges two of its arrays; addition for the others.

    Attributes
    ----------
    total_weight : float
        Number of rows (or the sum of their weights) that went in.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], total_weight: float, mergers: Mapping | None = None):
        self._arrays = dict(arrays)
        self.total_weight = float(total_weight)
        self._mergers = dict(mergers or {})

    def __getitem__(self, node: str) -> np.ndarray:
        return self._arrays[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays)

    def __len__(self) -> int:
        return len(self._arrays)

    def __add__(self, other) -> "Statistics":
        if isinstance(other, int) and other == 0:  # lets sum() start from 0
            return self
        if not isinstance(other, Statistics):
            return NotImplemented
        if set(self._arrays) != set(other._arrays):
            differ = sorted(set(self._arrays) ^ set(other._arrays))
            raise DataError(f"statistics of different networks cannot be added: only one has {differ[:5]}")
        for node, array in self._arrays.items():
            # family rows (a softmax of continuous parents) grow with the data: their merge checks them
            rows = getattr(getattr(self._mergers.get(node), "__self__", None), "statistics_are_rows", False)
            if np.shape(array) != np.shape(other._arrays[node]) and not rows:
                raise DataError(
                    f"statistics of node {node!r} have shapes {np.shape(array)} and {np.shape(other._arrays[node])}"
                )
        merged = {}
        for node, array in self._arrays.items():
            merge = self._mergers.get(node)
            merged[node] = array + other._arrays[node] if merge is None else merge(array, other._arrays[node])
        return Statistics(merged, self.total_weight + other.total_weight, self._mergers)

    __radd__ = __add__

    def __repr__(self) -> str:
        return f"Statistics({len(self)} nodes, total weight {self.total_weight:g})"


def _check_weights(weights, n_rows: int, row_labels=None) -> np.ndarray | None:
    if weights is None:
        return None
    weights = _align_weights(weights, n_rows, row_labels)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (n_rows,):
        raise DataError(f"weights must have one value per row: shape ({n_rows},), got {weights.shape}")
    bad = ~(np.isfinite(weights) & (weights >= 0))
    if bad.any():
        first = int(np.argmax(bad))
        raise DataError(f"weight {float(weights[first])!r} of row {first} is not a finite non-negative number")
    return weights


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _align_weights(weights, n_rows: int, row_labels):
    """A pandas Series of weights is matched to the data's rows by index label, never by position."""
    import pandas as pd

    if not isinstance(weights, pd.Series):
        return weights
    labels = row_labels if row_labels is not None else pd.RangeIndex(n_rows)
    if weights.index.equals(labels):
        return weights.to_numpy()
    if not weights.index.is_unique:
        raise DataError("the weights' index has repeated labels, so they cannot be matched to rows")
    missing = labels.difference(weights.index, sort=False)
    if len(missing):
        raise DataError(
            f"weights have no entry for the data's row labelled {_plain(missing[0])!r} (weights are matched by index)"
        )
    extra = weights.index.difference(labels, sort=False)
    if len(extra):
        raise DataError(f"weights have an entry for row label {_plain(extra[0])!r}, which is not in the data")
    return weights.reindex(labels).to_numpy()


def statistics(network, data, *, weights=None, progress: bool = False) -> Statistics:
    """Sufficient statistics of ``data`` for every node of ``network``.

    Parameters
    ----------
    network : BayesianNetwork
    data : pandas.DataFrame or mapping of str to array-like
        Complete rows (one column per node).
    weights : array-like, optional
        A non-negative weight per row.
    progress : bool, default False
        Show a progress bar over the rows (tqdm).

    Examples
    --------
    >>> import pgm
    >>> net = pgm.load("cancer")
    >>> data = net.sample(1000, seed=0)
    >>> halves = net.statistics(data[:500]) + net.statistics(data[500:])
    >>> net.from_statistics(halves) == net.fit(data)
    True
    """
    dataset = to_dataset(data, network.domains)
    dataset.require_complete(
        network.nodes,
        "fitting (drop incomplete rows explicitly, e.g. with DataFrame.dropna(), if that is intended)",
    )
    weights = _check_weights(weights, dataset.n_rows, dataset.row_labels)
    cpds = [(network[node], node) for node in network.nodes]

    def chunk_statistics(_, rows: slice) -> list[np.ndarray]:
        columns = dataset.rows(rows).columns
        w = None if weights is None else weights[rows]
        return [cpd.statistics(columns[node], {p: columns[p] for p in cpd.parents}, w) for cpd, node in cpds]

    per_chunk = (map_chunks(chunk_statistics, row_chunks(dataset.n_rows), progress="fitting" if progress else None)
                 or [chunk_statistics(0, slice(0, 0))])
    arrays = {node: functools.reduce(cpd.merge_statistics, [chunk[k] for chunk in per_chunk])
              for k, (cpd, node) in enumerate(cpds)}
    total = dataset.n_rows if weights is None else float(weights.sum())
    return Statistics(arrays, total, {node: cpd.merge_statistics for cpd, node in cpds})


def from_statistics(network, stats: Mapping[str, np.ndarray], *, prior=None, quiet: bool = False,
                    variance_floors: Mapping[str, float] | None = None):
    """A network with ``network``'s structure and CPDs fitted to ``stats``.

    Table rows whose parent configuration has no weight (no data and no
    prior pseudo-counts) are set uniform, with an
    :class:`~pgm.errors.UnseenConfigurationWarning` that lists them.
    ``variance_floors`` maps a continuous node (a tied group's first member)
    to the least residual variance its fit may take (EM's floor for latent
    Gaussian components, :mod:`pgm.learning.em_floor`).
    """
    from pgm.network import BayesianNetwork

    check_prior_nodes(prior, network.nodes)
    for node in network.nodes:
        if node not in stats:
            raise DataError(f"the statistics have no entry for node {node!r}")
    fitted, unseen = {}, []
    for group in fitting_groups(network):
        head = network[group[0]]
        # Tied nodes share one CPD: their statistics merge as if they were rows of one node,
        # and the prior (the group's first node's) is added once.
        node_stats = functools.reduce(
            head.merge_statistics, [np.asarray(stats[node], dtype=np.float64) for node in group])
        pseudo = pseudo_statistics(prior, head)
        if pseudo is not None:
            node_stats = head.merge_statistics(node_stats, pseudo)
        if head.is_discrete:
            unseen += [f"{group[0]} | {label}" for label in head.empty_configurations(node_stats)]
        shape_scale = variance_prior(prior, head)
        options = {} if shape_scale is None else {"variance_prior": shape_scale}
        if variance_floors and group[0] in variance_floors:
            options["variance_floor"] = variance_floors[group[0]]
        for node in group:
            fitted[node] = network[node].from_statistics(node_stats, **options)
    fitted = {node: fitted[node] for node in network.nodes}
    if unseen and not quiet:
        listed = "; ".join(unseen[:_LISTED_CONFIGURATIONS])
        more = f"; and {len(unseen) - _LISTED_CONFIGURATIONS} more" if len(unseen) > _LISTED_CONFIGURATIONS else ""
        warnings.warn(
            f"{len(unseen)} parent configuration(s) never occur in the data, so their rows were set "
            f"uniform: {listed}{more}. A prior (e.g. prior=Dirichlet(1)) gives them pseudo-counts instead.",
            UnseenConfigurationWarning,
            stacklevel=caller_stacklevel(),
        )
    return BayesianNetwork._from_bound(fitted, name=network.name, tied=network.tied_groups)


def fitting_groups(network) -> list[tuple[str, ...]]:
    """The nodes in order, each alone or with the nodes it is tied to (listed once, at its first member)."""
    group_of = {node: group for group in network.tied_groups for node in group}
    groups, done = [], set()
    for node in network.nodes:
        if node not in done:
            group = group_of.get(node, (node,))
            groups.append(group)
            done.update(group)
    return groups


def fit(network, data, *, prior=None, weights=None, max_iter: int = 100, tol: float = 1e-6, n_init: int = 1,
        init="random", seed=None, progress: bool = False, callback=None, memory_budget=None, accelerate: bool = True,
        variance_floor: float = 1e-6, split_moves: bool = True):
    """Fit every CPD of ``network`` to ``data``; the structure and states are kept.

    Complete data gives the closed form (counts; least squares).  Missing
    values -- NaN or None in a cell, or no column at all for a node, as for a
    latent node -- are handled by EM (:mod:`pgm.learning.em`): nothing is
    dropped, every observed value is used.

    Parameters
    ----------
    network : BayesianNetwork
        Supplies the structure, the states of discrete nodes and the features
        of continuous ones; its current parameters are used only with
        ``init="current"``.
    data : pandas.DataFrame or mapping of str to array-like
        One column per observed node.
    prior : Prior, list of Prior, or dict of node to Prior, optional
        Pseudo-statistics added to the data's (see :mod:`pgm.learning.priors`).
        Without one, the fit is maximum likelihood.
    weights : array-like, optional
        A non-negative weight per row.
    max_iter, tol, n_init, init, seed, progress, callback, memory_budget, accelerate, variance_floor, split_moves
        EM's options (ignored for complete data): at most ``max_iter``
        passes over the data (E-steps), stopping when an EM step gains less
        than ``tol * max(1, |objective|)`` in mean log-likelihood per row
        (never at a point where a latent node's states are interchangeable:
        that saddle is left); ``n_init`` starts, keeping the best (a start
        that fails is skipped and recorded); ``init`` is ``"random"``
        (parameters drawn around a random completion, see
        :mod:`pgm.learning.em_starts`), ``"kmeans++"`` (clusters of the
        latent nodes' continuous children) -- both drawn starts followed,
        once converged, by split moves (:mod:`pgm.learning.em_moves`; off
        with ``split_moves=False``) --
        ``"current"`` (this network's parameters) or a fitted network with the same structure and states
        (it supplies parameters only); ``accelerate`` extrapolates every two
        EM steps (SQUAREM), keeping a step only if it raises the objective;
        ``variance_floor`` keeps every latent Gaussian component's variance
        at least that fraction of its node's variance in the data (a bounded
        likelihood, :mod:`pgm.learning.em_floor`; 0 for none);
        ``progress=True`` shows a progress bar (tqdm) over EM's iterations,
        or over the rows for complete data; ``callback(iteration,
        log_likelihood, network)`` is called at every point of the trace.

    Returns
    -------
    BayesianNetwork
        A new network; ``network`` is unchanged.  After EM it carries
        ``fit_report_`` (:class:`pgm.learning.em.FitReport`).

    Examples
    --------
    >>> import pgm
    >>> truth = pgm.load("asia")
    >>> fitted = truth.fit(truth.sample(50_000, seed=1))
    >>> round(float(fitted["smoke"].table[0]), 2)
    0.5
    """
    dataset = _observed_dataset(network, data)
    if dataset.n_rows == 0:
        raise DataError("fitting needs at least one row, and the data has none")
    weights = _check_weights(weights, dataset.n_rows, dataset.row_labels)
    if weights is not None and not weights.sum() > 0:
        raise DataError("every row has weight zero, so there is nothing to fit; give some rows a positive weight")
    from pgm.learning.em import _split, em

    _, incomplete = _split(dataset, network.nodes)
    if not incomplete:
        return from_statistics(network, statistics(network, dataset, weights=weights, progress=progress), prior=prior)
    return em(network, dataset, weights=weights, prior=prior, max_iter=max_iter, tol=tol, n_init=n_init,
              init=init, seed=seed, progress=progress, callback=callback, memory_budget=memory_budget,
              accelerate=accelerate, variance_floor=variance_floor, split_moves=split_moves)


def _observed_dataset(network, data):
    """The data's columns for the network's nodes; latent nodes must not carry values."""
    from pgm.data import Dataset

    if isinstance(data, Dataset):
        dataset = data
    else:
        names = list(data.columns) if hasattr(data, "columns") else list(data.keys()) if hasattr(data, "keys") else None
        if names is None:
            return to_dataset(data, network.domains)  # raises the usual TypeError
        present = [n for n in network.nodes if n in names]
        if not present and len(network):
            return to_dataset(data, network.domains)  # names the first node without a column
        dataset = to_dataset(data, {n: network[n].domain for n in present})
    for node in network.latent_nodes:
        if node in dataset.columns and (~dataset.missing(node)).any():
            first = int(np.argmax(~dataset.missing(node)))
            raise DataError(
                f"node {node!r} is declared latent but the data has values for it (first at "
                f"{dataset.describe_row(first)}); declare it observed (without .latent) or drop the column"
            )
    return dataset
