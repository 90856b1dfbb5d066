"""Dask DataFrames as data: fit, score, EM and sampling where the partitions live.

Every verb that reads data is a sum over rows, so on a Dask DataFrame it is
a map over the partitions and a sum of small results:

- :func:`fit` and :func:`statistics`: each partition becomes
  :class:`~pgm.learning.mle.Statistics` (count tables, Gaussian moments) on
  the worker that holds it, and only the statistics travel, combined by a
  tree reduction (``split_every`` at a time); rows are never collected.
- EM (:func:`fit` with missing values or latent nodes): each iteration is one
  such map-reduce of *expected* statistics.  The current parameters are sent
  once per iteration -- scattered to every worker when a
  :class:`distributed.Client` is active, one shared graph key otherwise --
  not pickled into every task.  The fit report is the in-memory one.
- :func:`log_likelihood` is lazy: a Dask Series with the partitions (and
  index) of the data; :func:`score` reduces it to the mean.
- :func:`sample` builds a lazy DataFrame whose partitions are drawn where they
  are computed, each from its own seed spawned off the caller's
  (:meth:`numpy.random.SeedSequence.spawn`): the same seed and partitions
  give the same rows on any cluster.

Categorical partitions whose categories are the node's states are used
through their codes, without a copy.  The network's methods
(``net.fit(ddf)``, ``net.log_likelihood(ddf)``, ``net.sample(n,
npartitions=k)``, ...) call these functions.  Whatever the scheduler -- the
default local one or a :class:`distributed.Client` made current -- the
code is the same.

Needs the ``dask`` extra: ``pip install 'pgm-engine[dask]'``.

Examples
--------
>>> import pgm, pgm.dask
>>> net = pgm.load("asia")
>>> rows = pgm.dask.sample(net, 20_000, seed=0, npartitions=4)     # lazy: nothing drawn yet
>>> rows.npartitions
4
>>> fitted = net.fit(rows)                                         # statistics per partition, summed
>>> fitted == net.fit(rows.compute())
True
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

try:
    import dask
    import dask.dataframe as dd
    from dask.delayed import delayed
except ImportError:  # one line that says what to do, instead of a traceback into dask
    raise ImportError(
        "pgm.dask needs Dask, which is not installed: pip install 'pgm-engine[dask]' "
        "(dask[dataframe], distributed, pyarrow)"
    ) from None

from pgm import _partitions
from pgm.errors import DataError

__all__ = ["fit", "is_dask_collection", "log_likelihood", "sample", "score", "statistics"]

#: Partial results combined per node of the reduction tree.
SPLIT_EVERY = 8

_UNKNOWN_CATEGORIES = "__UNKNOWN_CATEGORIES__"  # the category Dask puts in the meta of unknown categoricals


def is_dask_collection(data) -> bool:
    """Whether ``data`` is a Dask collection (DataFrame, Series, Delayed, ...).

    Examples
    --------
    >>> import pandas as pd, dask.dataframe as dd
    >>> is_dask_collection(dd.from_pandas(pd.DataFrame({"x": [1, 2]}), npartitions=1)), is_dask_collection([1])
    (True, False)
    """
    return dask.is_dask_collection(data)


# ---------------------------------------------------------------------------- the map-reduce
def _client():
    """The distributed Client that ``dask.compute`` would use now, if any."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        client = default_client()
    except ValueError:  # no client
        return None
    scheduler = dask.base.get_scheduler()
    return client if getattr(scheduler, "__self__", None) is client else None


def _shared(network):
    """The network as one object every task can reach: scattered to all workers, or one graph key.

    Either way it is serialised once per call, not once per partition.
    """
    network = _partitions.portable(network)
    client = _client()
    if client is not None:
        return client.scatter(network, broadcast=True, hash=False)
    return delayed(network, pure=False)


def _reference(frame) -> tuple:
    """The columns of a Dask DataFrame and, for categorical columns, their categories (None when unknown)."""
    categories = {}
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            known = list(dtype.categories) != [_UNKNOWN_CATEGORIES]
            categories[name] = tuple(dtype.categories) if known else None
    return tuple(frame.columns), categories


def _check_partition(frame: pd.DataFrame, number: int, reference: tuple) -> None:
    """A partition whose columns or categories are not the DataFrame's is an error naming both."""
    columns, categories = reference
    if tuple(frame.columns) != columns:
        absent = [c for c in columns if c not in frame.columns]
        if absent:
            raise DataError(f"partition {number}: column {absent[0]!r} is missing, but the other partitions have it")
        extra = [c for c in frame.columns if c not in columns]
        if extra:
            raise DataError(f"partition {number}: column {extra[0]!r} is not in the other partitions")
    for name, expected in categories.items():
        dtype = frame[name].dtype
        if not isinstance(dtype, pd.CategoricalDtype):
            raise DataError(f"partition {number}, column {name!r}: dtype {dtype} differs from the other partitions' "
                            "category dtype")
        if expected is not None and tuple(dtype.categories) != expected:
            raise DataError(f"partition {number}, column {name!r}: categories {list(dtype.categories)} differ from "
                            f"the other partitions' {list(expected)}")


def _on_partition(function, network, frame, weights, number, reference, options):
    _check_partition(frame, number, reference)
    return function(network, frame, weights, f"partition {number}", number, **options)


def _tree_sum(results: list):
    """One Delayed summing ``results`` by a tree of :func:`pgm._partitions.add_all` nodes."""
    if not results:
        return delayed(_partitions.Totals, pure=False)()
    while len(results) > 1:
        results = [delayed(_partitions.add_all, pure=False)(*results[i:i + SPLIT_EVERY])
                   for i in range(0, len(results), SPLIT_EVERY)]
    return results[0]


class _Partitions(_partitions.Source):
    """The partitions of a Dask DataFrame as a source of pieces for :mod:`pgm._partitions`."""

    def __init__(self, frame, weights=None):
        if not isinstance(frame, dd.DataFrame):
            raise TypeError(f"pgm.dask needs a dask.dataframe.DataFrame, not {type(frame).__name__}")
        self.frame = frame
        self.parts = frame.to_delayed()
        self.reference = _reference(frame)
        self.weight_parts = None
        if isinstance(weights, dd.Series):
            if weights.npartitions != frame.npartitions:
                raise DataError(f"weights have {weights.npartitions} partitions and the data {frame.npartitions}; "
                                "give weights partitioned like the data (e.g. a column: weights='w')")
            self.weight_parts = weights.to_delayed()
        elif isinstance(weights, str):
            if weights not in frame.columns:
                raise DataError(f"the weights column {weights!r} is not in the data")
        elif weights is not None:
            raise TypeError("weights for a Dask DataFrame must be a column name or a Dask Series partitioned like "
                            f"the data, not {type(weights).__name__}")

    def map_reduce(self, function, network, weights, **options):
        shared = _shared(network)
        results = [
            delayed(_on_partition, pure=False)(
                function, shared, part, weights if self.weight_parts is None else self.weight_parts[k], k,
                self.reference, options)
            for k, part in enumerate(self.parts)
        ]
        (total,) = dask.compute(_tree_sum(results))
        return total

    def first(self):
        for k in range(self.frame.npartitions):
            frame = self.frame.get_partition(k).compute()
            _check_partition(frame, k, self.reference)
            if len(frame):
                return frame, f"partition {k}"
        raise DataError(f"fitting needs at least one row, and {self.describe()} has none")

    def describe(self) -> str:
        return f"the Dask DataFrame ({self.frame.npartitions} partitions)"


# ---------------------------------------------------------------------------- the verbs
def statistics(network, data, *, weights=None):
    """Additive sufficient statistics of a Dask DataFrame, summed over its partitions.

    Parameters
    ----------
    network : BayesianNetwork
    data : dask.dataframe.DataFrame
        Complete rows, one column per node.
    weights : str or dask.dataframe.Series, optional
        A column of non-negative row weights, or a Series partitioned like ``data``.

    Returns
    -------
    Statistics
        The statistics of all rows, as :meth:`BayesianNetwork.statistics` gives them in memory.

    Examples
    --------
    >>> import pgm, pgm.dask, dask.dataframe as dd
    >>> net = pgm.load("cancer")
    >>> rows = net.sample(1_000, seed=0)
    >>> stats = pgm.dask.statistics(net, dd.from_pandas(rows, npartitions=3))
    >>> bool((stats["Cancer"] == net.statistics(rows)["Cancer"]).all())
    True
    """
    return _partitions.statistics(network, _Partitions(data, weights), weights=weights)


def fit(network, data, *, prior=None, weights=None, max_iter: int = 100, tol: float = 1e-6, n_init: int = 1,
        init="random", seed=None, progress: bool = False, callback=None, memory_budget=None,
        accelerate: bool = True, variance_floor: float = 1e-6, split_moves: bool = True):
    """Fit ``network`` to a Dask DataFrame; returns a new network.

    Complete data: one map-reduce of statistics, then the closed form.
    Missing values or latent nodes: EM, one map-reduce of expected
    statistics per iteration, with the options and the ``fit_report_`` of
    :meth:`BayesianNetwork.fit`.  A random start is one more map-reduce:
    every partition completed at random from its own seed, then one M-step
    (``init="kmeans++"`` picks its centres from a sample of every partition).  From a given start
    (``init=network``) the iterations equal those of EM on the same rows in
    memory, to rounding.

    Parameters
    ----------
    network : BayesianNetwork
    data : dask.dataframe.DataFrame
    prior, max_iter, tol, n_init, init, seed, progress, callback, memory_budget, accelerate, variance_floor, split_moves
        As for :meth:`BayesianNetwork.fit`.
    weights : str or dask.dataframe.Series, optional
        A column of non-negative row weights, or a Series partitioned like ``data``.

    Raises
    ------
    DataError
        No rows; a partition whose columns or categories differ from the
        others (names the partition and column); a value that is not a state
        (names the partition, column, row within the partition, and value).

    Examples
    --------
    >>> import numpy as np, pgm, pgm.dask, dask.dataframe as dd
    >>> truth = pgm.load("cancer")
    >>> rows = truth.sample(2_000, seed=0)
    >>> rows.loc[rows.index % 4 == 0, "Smoker"] = np.nan
    >>> fitted = pgm.dask.fit(truth, dd.from_pandas(rows, npartitions=4), init="current")
    >>> fitted.fit_report_.converged
    True
    """
    return _partitions.fit(network, _Partitions(data, weights), prior=prior, weights=weights, max_iter=max_iter,
                           tol=tol, n_init=n_init, init=init, seed=seed, progress=progress, callback=callback,
                           memory_budget=memory_budget, accelerate=accelerate, variance_floor=variance_floor, split_moves=split_moves)


def _partition_log_likelihood(network, frame, number, reference):
    _check_partition(frame, number, reference)
    values = _partitions.log_likelihood(network, frame, f"partition {number}")
    return pd.Series(values, index=frame.index, name="log_likelihood")


def log_likelihood(network, data):
    """log p(row) for every row, lazily: a Dask Series partitioned and indexed like ``data``.

    Rows with missing values score their observed part, as in memory.

    Examples
    --------
    >>> import numpy as np, pgm, pgm.dask, dask.dataframe as dd
    >>> net = pgm.load("cancer")
    >>> rows = net.sample(1_000, seed=0)
    >>> lazy = pgm.dask.log_likelihood(net, dd.from_pandas(rows, npartitions=3))
    >>> lazy.npartitions, bool(np.array_equal(lazy.compute().to_numpy(), net.log_likelihood(rows)))
    (3, True)
    """
    if not isinstance(data, dd.DataFrame):
        raise TypeError(f"pgm.dask needs a dask.dataframe.DataFrame, not {type(data).__name__}")
    shared, reference = delayed(_partitions.portable(network), pure=False), _reference(data)
    parts = [delayed(_partition_log_likelihood, pure=False)(shared, part, k, reference)
             for k, part in enumerate(data.to_delayed())]
    return dd.from_delayed(parts, meta=pd.Series(dtype=np.float64, name="log_likelihood"),
                           divisions=data.divisions, verify_meta=False)


def score(network, data) -> float:
    """Mean log-likelihood per row of a Dask DataFrame, in nats (one reduction over the partitions).

    Examples
    --------
    >>> import math, pgm, pgm.dask, dask.dataframe as dd
    >>> net = pgm.load("cancer")
    >>> rows = net.sample(1_000, seed=0)
    >>> math.isclose(pgm.dask.score(net, dd.from_pandas(rows, npartitions=3)), net.score(rows))
    True
    """
    values = log_likelihood(network, data)
    total, count = dask.compute(values.sum(), values.size)
    if count == 0:
        raise DataError("score needs at least one row, and the Dask DataFrame has none")
    return float(total) / int(count)


# ---------------------------------------------------------------------------- sampling
def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator.seed_seq
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        return np.random.SeedSequence(seed)
    raise TypeError(f"seed must be None, an int, a SeedSequence or a numpy.random.Generator, not {type(seed).__name__}")


def _sample_partition(network, size: int, seed: tuple, offset: int) -> pd.DataFrame:
    from pgm.sampling import sample as sample_rows

    # A fresh SeedSequence on every computation: drawing spawns children off it, which would change
    # the rows of a second computation in the same process.
    entropy, spawn_key, pool_size = seed
    generator = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=spawn_key, pool_size=pool_size))
    frame = sample_rows(network, size, seed=generator)
    frame.index = pd.RangeIndex(offset, offset + size)
    return frame


def sample(network, n: int, *, seed=None, npartitions: int | None = None, partition_rows: int = 1_000_000):
    """``n`` rows drawn from the network, as a lazy Dask DataFrame.

    Partition ``k`` is drawn where it is computed, from the ``k``-th child
    of ``SeedSequence(seed)``, so the same seed and the same partitions give
    the same rows whatever the cluster; the rows are never all in one
    process (write them with ``.to_parquet(...)``).  The index runs from 0
    to ``n - 1``, and the divisions are known.

    Parameters
    ----------
    network : BayesianNetwork
    n : int
        Number of rows.
    seed : None, int, numpy.random.SeedSequence or numpy.random.Generator
    npartitions : int, optional
        Number of partitions (their sizes differ by at most one row);
        by default enough for at most ``partition_rows`` rows each.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns as :meth:`BayesianNetwork.sample` gives them: categoricals of
        the states for discrete nodes, float64 for continuous ones.

    Examples
    --------
    >>> import pgm, pgm.dask
    >>> rows = pgm.dask.sample(pgm.load("asia"), 10, seed=1, npartitions=2)
    >>> rows.divisions
    (0, 5, 9)
    >>> rows.compute().equals(pgm.dask.sample(pgm.load("asia"), 10, seed=1, npartitions=2).compute())
    True
    """
    from pgm.data import code_dtype, to_frame

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"the number of rows must be a non-negative integer, got {n!r}")
    n = int(n)
    network._require_fitted("sampled")
    if npartitions is None:
        if isinstance(partition_rows, bool) or not isinstance(partition_rows, (int, np.integer)) or partition_rows < 1:
            raise ValueError(f"partition_rows must be a positive integer, got {partition_rows!r}")
        npartitions = max(1, -(-n // int(partition_rows)))
    if isinstance(npartitions, bool) or not isinstance(npartitions, (int, np.integer)) or npartitions < 1:
        raise ValueError(f"npartitions must be a positive integer, got {npartitions!r}")
    npartitions = int(npartitions)
    if npartitions > max(n, 1):
        raise ValueError(f"{npartitions} partitions for {n} rows would leave some empty; use at most {max(n, 1)}")
    sizes = np.full(npartitions, n // npartitions, dtype=np.int64)
    sizes[: n % npartitions] += 1
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    seeds = [(child.entropy, child.spawn_key, child.pool_size) for child in _seed_sequence(seed).spawn(npartitions)]
    shared = delayed(_partitions.portable(network), pure=False)
    parts = [delayed(_sample_partition, pure=False)(shared, int(sizes[k]), seeds[k], int(offsets[k]))
             for k in range(npartitions)]
    domains = network.domains
    empty = {node: np.empty(0, dtype=np.float64 if states is None else code_dtype(len(states)))
             for node, states in domains.items()}
    meta = to_frame(empty, domains, 0)
    divisions = tuple(int(o) for o in offsets[:-1]) + (max(n - 1, 0),) if n else None
    return dd.from_delayed(parts, meta=meta, divisions=divisions, verify_meta=False)
