"""Data in pieces -- Dask partitions, chunks of files -- fitted and scored as a sum over the pieces.

Every verb that reads data reduces to a sum: complete-data fitting is
``from_statistics(sum of each piece's statistics)``, EM's E-step is the sum
of each piece's expected statistics and log-likelihood, and the score is a
sum of log-likelihoods.  This module holds what the pieces compute
(:func:`survey`, :func:`complete_statistics`, :func:`expected`) and the
drivers that combine them (:func:`fit`, :func:`em`).  *Where* the pieces are
and how their results travel is a :class:`Source`'s business:
:mod:`pgm.dask` builds a Dask graph with a tree reduction, :mod:`pgm.io.chunked`
reads files chunk after chunk.  Nothing here imports Dask.

Errors inside a piece name it (``partition 3: column 'X', row 5: ...``);
rows are counted from 0 within the piece.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field

import numpy as np

from pgm.errors import DataError, ImpossibleEvidenceError

__all__ = ["Pieces", "Source", "Totals", "complete_statistics", "em", "expected", "fit", "survey"]


@dataclass
class Totals:
    """What pieces of data add up to: statistics, summed log-likelihood, weight, rows, incomplete rows, observed nodes.

    ``statistics`` is a :class:`~pgm.learning.mle.Statistics` or None (no
    rows, or a survey of incomplete rows); ``observed`` holds the nodes with
    at least one value; ``sample`` rows drawn from every piece (EM's
    k-means++ centres), concatenated.
    """

    statistics: object = None
    log_likelihood: float = 0.0
    weight: float = 0.0
    n_rows: int = 0
    incomplete: int = 0
    observed: frozenset = field(default_factory=frozenset)
    sample: object = None

    def __add__(self, other: Totals) -> Totals:
        if self.statistics is None:
            stats = other.statistics
        elif other.statistics is None:
            stats = self.statistics
        else:
            stats = self.statistics + other.statistics
        samples = [s for s in (self.sample, other.sample) if s is not None]
        sample = np.concatenate(samples) if len(samples) == 2 else (samples[0] if samples else None)
        return Totals(stats, self.log_likelihood + other.log_likelihood, self.weight + other.weight,
                      self.n_rows + other.n_rows, self.incomplete + other.incomplete, self.observed | other.observed,
                      sample)


def add_all(*totals: Totals) -> Totals:
    """The sum of ``totals`` (one node of a reduction tree)."""
    return functools.reduce(Totals.__add__, totals, Totals())


class Source:
    """Where the pieces are: a :class:`Source` applies a piece function to every piece and sums the results.

    ``map_reduce(function, network, weights, **options)`` returns the
    :class:`Totals` of ``function(network, frame, weights_of_frame, where,
    number, **options)`` over all pieces, where ``where`` names the piece in
    messages and ``number`` counts the pieces from 0; ``first()`` returns
    ``(frame, where)`` of the first non-empty piece.
    """

    def map_reduce(self, function, network, weights, **options) -> Totals:  # pragma: no cover - interface
        raise NotImplementedError

    def first(self):  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


def portable(network):
    """``network`` without its caches (compiled inference plans, the graph's query buffers), which hold locks.

    What is shipped to workers: it pickles, and the caches are rebuilt there when needed.
    """
    import copy

    twin = copy.copy(network)
    twin._inference_cache = None
    twin._dag = None  # rebuilt from the CPDs on first use
    return twin


@contextlib.contextmanager
def naming(where: str):
    """Errors about the data raised inside the block name the piece first."""
    try:
        yield
    except (DataError, ImpossibleEvidenceError) as error:
        raise type(error)(f"{where}: {error}") from None


# ---------------------------------------------------------------------------- what a piece computes
def _dataset(network, frame, where: str):
    from pgm.learning.mle import _observed_dataset

    with naming(where):
        return _observed_dataset(network, frame)


def _weights(weights, frame, n_rows: int, where: str):
    """A piece's weights: ``None``, the values of the named column, or a pandas Series matched by index."""
    from pgm.learning.mle import _check_weights

    if weights is None:
        return None
    with naming(where):
        if isinstance(weights, str):
            if weights not in frame.columns:
                raise DataError(f"the weights column {weights!r} is not in the data")
            weights = frame[weights].to_numpy(dtype=np.float64, na_value=np.nan)
            return _check_weights(weights, n_rows)
        return _check_weights(weights, n_rows, frame.index)


def survey(network, frame, weights, where: str, number: int) -> Totals:
    """A first look at a piece: its rows, weight, incomplete rows, observed nodes, and statistics if it is complete."""
    from pgm.learning.em import _split
    from pgm.learning.mle import statistics

    dataset = _dataset(network, frame, where)
    if dataset.n_rows == 0:
        return Totals()
    w = _weights(weights, frame, dataset.n_rows, where)
    complete, incomplete = _split(dataset, network.nodes)
    observed = frozenset(n for n in dataset.columns if not dataset.missing(n).all())
    stats = None if incomplete else statistics(network, dataset, weights=w)
    weight = float(dataset.n_rows if w is None else w.sum())
    return Totals(stats, 0.0, weight, dataset.n_rows, int(dataset.n_rows - complete.sum()), observed)


def complete_statistics(network, frame, weights, where: str, number: int) -> Totals:
    """A piece's complete-data statistics; a missing value is an error naming the piece, column and row."""
    from pgm.learning.mle import statistics

    w = _weights(weights, frame, len(frame), where)
    with naming(where):
        stats = statistics(network, frame, weights=w)
    return Totals(stats, 0.0, stats.total_weight, len(frame))


def expected(network, frame, weights, where: str, number: int, memory_budget=None) -> Totals:
    """A piece's share of one E-step: expected statistics and summed log-likelihood under ``network``."""
    from pgm.learning.em import e_step

    dataset = _dataset(network, frame, where)
    if dataset.n_rows == 0:
        return Totals()
    w = _weights(weights, frame, dataset.n_rows, where)
    with naming(where):
        stats, log_likelihood = e_step(network, dataset, w, memory_budget=memory_budget)
    return Totals(stats, log_likelihood, stats.total_weight, dataset.n_rows)


def random_completion(network, frame, weights, where: str, number: int, seed: int, centres=None) -> Totals:
    """Statistics of a piece with its hidden and missing values filled in (the base of an EM start).

    Piece ``number`` draws from its own generator, a child of ``seed``, so a
    start does not depend on where or in which order the pieces are done.  A
    column with no value in this piece is filled like a latent node's (see
    :func:`pgm.learning.em.completion`).
    """
    from pgm.learning.em import completion
    from pgm.learning.mle import statistics

    dataset = _dataset(network, frame, where)
    if dataset.n_rows == 0:
        return Totals()
    w = _weights(weights, frame, dataset.n_rows, where)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(number,)))
    with naming(where):
        completed = completion(network, dataset, rng, centres or {}, strict=False)
        stats = statistics(network, completed, weights=w)
    return Totals(stats, 0.0, stats.total_weight, dataset.n_rows)


#: Rows each piece gives to the sample from which EM's k-means++ centres are chosen.
SAMPLE_PER_PIECE = 2_000


def sample_rows(network, frame, weights, where: str, number: int, seed: int, columns=()) -> Totals:
    """A uniform sample of up to SAMPLE_PER_PIECE rows of ``columns`` (NaN where missing) from one piece."""
    dataset = _dataset(network, frame, where)
    if dataset.n_rows == 0:
        return Totals()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(number,)))
    keep = np.sort(rng.choice(dataset.n_rows, min(SAMPLE_PER_PIECE, dataset.n_rows), replace=False))
    values = np.column_stack([np.asarray(dataset.columns[c], dtype=np.float64)[keep] if c in dataset.columns
                              else np.full(len(keep), np.nan) for c in columns])
    return Totals(sample=values)


def log_likelihood(network, frame, where: str) -> np.ndarray:
    """log p(row) for every row of one piece."""
    from pgm.likelihood import log_likelihood as rows_log_likelihood

    with naming(where):
        return rows_log_likelihood(network, frame)


# ---------------------------------------------------------------------------- drivers
def statistics(network, source: Source, *, weights=None):
    """Complete-data statistics of all pieces, summed."""
    total = source.map_reduce(complete_statistics, network, weights)
    if total.statistics is None:
        from pgm.learning.mle import statistics as frame_statistics

        return frame_statistics(network, {n: [] for n in network.nodes})  # no rows: zero statistics
    return total.statistics


def fit(network, source: Source, *, prior=None, weights=None, max_iter: int = 100, tol: float = 1e-6,
        n_init: int = 1, init="random", seed=None, progress: bool = False, callback=None, memory_budget=None,
        accelerate: bool = True, variance_floor: float = 1e-6, split_moves: bool = True):
    """Fit ``network`` to all pieces: one pass for complete data, EM (one pass per iteration) otherwise."""
    from pgm.learning.mle import from_statistics

    first = source.map_reduce(survey, network, weights)
    if first.n_rows == 0:
        raise DataError(f"fitting needs at least one row, and {source.describe()} has none")
    if not first.weight > 0:
        raise DataError("every row has weight zero, so there is nothing to fit; give some rows a positive weight")
    if first.incomplete == 0:
        return from_statistics(network, first.statistics, prior=prior)
    return em(network, source, first, weights=weights, prior=prior, max_iter=max_iter, tol=tol, n_init=n_init,
              init=init, seed=seed, progress=progress, callback=callback, memory_budget=memory_budget,
              accelerate=accelerate, variance_floor=variance_floor, split_moves=split_moves)


class Pieces:
    """Data in pieces as a source for EM's driver (:func:`pgm.learning.em.run`): every call is one map-reduce.

    The same questions as :class:`pgm.learning.em.InMemory` answers about
    rows in memory: one E-step (``expected``), the statistics of a random
    completion (``completed``), and a sample of some columns drawn from
    every piece (``sample``, for k-means++ centres).
    """

    def __init__(self, network, source: Source, first: Totals, weights, memory_budget):
        self.network, self.source, self.weights, self.memory_budget = network, source, weights, memory_budget
        self.total_weight, self.n_rows, self.observed = first.weight, first.n_rows, first.observed

    def expected(self, network):
        total = self.source.map_reduce(expected, network, self.weights, memory_budget=self.memory_budget)
        return total.statistics, total.log_likelihood / self.total_weight

    def completed(self, network, rng, centres: dict):
        seed = int(rng.integers(2**63))
        return self.source.map_reduce(random_completion, network, self.weights, seed=seed, centres=centres).statistics

    def sample(self, columns, rng, limit: int | None = None) -> np.ndarray:
        seed = int(rng.integers(2**63))
        total = self.source.map_reduce(sample_rows, self.network, None, seed=seed, columns=tuple(columns))
        values = total.sample if total.sample is not None else np.zeros((0, len(columns)))
        if limit is not None and len(values) > limit:
            values = values[np.sort(rng.choice(len(values), limit, replace=False))]
        return values


def em(network, source: Source, first: Totals, *, weights=None, prior=None, max_iter: int = 100, tol: float = 1e-6,
       n_init: int = 1, init="random", seed=None, progress: bool = False, callback=None, memory_budget=None,
       accelerate: bool = True, variance_floor: float = 1e-6, split_moves: bool = True):
    """EM over all pieces: :func:`pgm.learning.em.run`, the driver in-memory data goes through, on :class:`Pieces`.

    Every E-step is one pass over the pieces.  A start's completion is one
    pass too, every piece completed from a generator that is a child of one
    seed drawn from ``seed``; ``init="kmeans++"`` picks its centres from a
    sample of every piece.  From a given start (``init=network`` or
    ``"current"``) the iterations are those of EM on all the rows in one
    process, up to rounding in the sums.
    """
    from pgm.learning.em import _check_options, _warn_unidentifiable, run

    _check_options(max_iter, tol, n_init, init, variance_floor)
    _warn_unidentifiable(network, _observed_only(network, first.observed))
    pieces = Pieces(network, source, first, weights, memory_budget)
    return run(network, pieces, prior=prior, max_iter=max_iter, tol=tol, n_init=n_init, init=init, seed=seed,
               progress=progress, callback=callback, accelerate=accelerate, variance_floor=variance_floor,
               split_moves=split_moves)


def _observed_only(network, observed: frozenset):
    """A one-row stand-in data set in which exactly the ``observed`` nodes have a value."""
    from pgm.data import Dataset

    columns = {n: (np.zeros(1, dtype=np.int8) if network[n].is_discrete else np.zeros(1)) for n in observed}
    return Dataset(columns, 1)
