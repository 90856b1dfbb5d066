"""The data, compressed once into what every family score needs: distinct discrete rows and their moments.

A decomposable score of a family (a node and its parents) depends on the
data only through the family's sufficient statistics: counts of the
family's discrete configurations, and for a continuous node the weight,
means and centred co-moments of the continuous family members within each
configuration of its discrete parents.  All of these are sums over rows, so
they can be read off a single summary of the data:

- the *distinct* rows of the discrete columns (integer codes), each with its
  weight (how many rows it stands for); and
- for the continuous columns, the mean and centred co-moment matrix of the
  rows behind each distinct discrete row.

That summary (:class:`SufficientTable`) is built in one pass, is additive
over pieces of data (two tables merge exactly, co-moments by the pairwise
rule of Chan, Golub & LeVeque), and is usually far smaller than the data:
10,000 rows of the 37-node alarm network are a few thousand distinct rows,
and a search that counts families on it does not look at the rows again.
It is built from a pandas DataFrame, a mapping of columns, a
:func:`pgm.io.scan` of CSV or Parquet files (chunk by chunk, in bounded
memory) or a Dask DataFrame (partition by partition, summed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pgm.errors import DataError

__all__ = ["SufficientTable", "sufficient_table"]


@dataclass(frozen=True)
class SufficientTable:
    """Distinct discrete rows with their weights, and per-row-group moments of the continuous columns.

    Attributes
    ----------
    names : tuple of str
        Every variable, in the data's column order.
    states : dict of str to tuple
        The states of each discrete variable (codes index them).
    codes : ndarray of shape (groups, discrete variables)
        The distinct rows of the discrete columns (in ``discrete`` order).
    weight : ndarray of shape (groups,)
        How many rows (or how much weight) each distinct row stands for.
    means : ndarray of shape (groups, continuous variables)
    comoments : ndarray of shape (groups, continuous, continuous)
        Centred sums of products ``sum w (x - mean)(x - mean)^T`` within each group.

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import sufficient_table
    >>> rows = pgm.load("cancer").sample(1000, seed=0)
    >>> whole, halves = sufficient_table(rows), sufficient_table(rows[:500]) + sufficient_table(rows[500:])
    >>> whole.n_groups == halves.n_groups, halves.n_rows
    (True, 1000.0)
    """

    names: tuple
    states: dict
    codes: np.ndarray
    weight: np.ndarray
    means: np.ndarray
    comoments: np.ndarray

    @property
    def discrete(self) -> tuple:
        """The discrete variables, in column order."""
        return tuple(n for n in self.names if n in self.states)

    @property
    def continuous(self) -> tuple:
        """The continuous variables, in column order."""
        return tuple(n for n in self.names if n not in self.states)

    @property
    def n_rows(self) -> float:
        """Rows (total weight) summarised."""
        return float(self.weight.sum())

    @property
    def n_groups(self) -> int:
        """Distinct discrete rows."""
        return int(self.weight.shape[0])

    def cardinality(self, name: str) -> int:
        """The number of states of a discrete variable."""
        return len(self.states[name])

    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return self.codes.nbytes + self.weight.nbytes + self.means.nbytes + self.comoments.nbytes

    def __add__(self, other: "SufficientTable") -> "SufficientTable":
        if self.names != other.names or self.states != other.states:
            raise DataError("tables of different variables or states cannot be added")
        return _merge([self, other])

    def resampled(self, rng: np.random.Generator) -> "SufficientTable":
        """A bootstrap replicate: as many rows as the data, drawn with replacement (multinomial on the groups).

        Only for data without continuous columns, where a group's rows are
        identical; continuous data must be resampled from its rows.
        """
        if self.continuous:
            raise DataError("bootstrapping continuous data needs its rows: pass a DataFrame, not a summary")
        total = int(round(self.n_rows))
        drawn = rng.multinomial(total, self.weight / self.weight.sum()).astype(np.float64)
        keep = drawn > 0
        return SufficientTable(self.names, self.states, self.codes[keep], drawn[keep],
                               self.means[keep], self.comoments[keep])


# ---------------------------------------------------------------------------- building
def _group_rows(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of an integer matrix and, for every row, the index of its distinct row."""
    if codes.shape[1] == 0:
        return codes[:1], np.zeros(codes.shape[0], dtype=np.intp)
    contiguous = np.ascontiguousarray(codes)
    # One opaque byte string per row: np.unique then sorts rows without a Python loop.
    keys = contiguous.view(np.dtype((np.void, contiguous.dtype.itemsize * contiguous.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return contiguous[first], inverse.ravel()


def _pool(inverse: np.ndarray, n_groups: int, weight: np.ndarray, means: np.ndarray,
          comoments: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights, means and centred co-moments of groups of rows (or of groups of groups).

    ``comoments`` is None for raw rows.  The pooled co-moment is the sum of
    the parts' co-moments plus each part's weight times the outer product of
    its mean's offset from the pooled mean -- exact, with no large sums of
    squares that could cancel.
    """
    total = np.bincount(inverse, weights=weight, minlength=n_groups)
    c = means.shape[1]
    if c == 0:
        return total, np.zeros((n_groups, 0)), np.zeros((n_groups, 0, 0))
    safe = np.where(total > 0, total, 1.0)
    pooled_means = np.stack([np.bincount(inverse, weights=weight * means[:, j], minlength=n_groups)
                             for j in range(c)], axis=1) / safe[:, None]
    offset = means - pooled_means[inverse]
    spread = (weight[:, None, None] * offset[:, :, None] * offset[:, None, :]).reshape(len(inverse), c * c)
    if comoments is not None:
        spread = spread + comoments.reshape(len(inverse), c * c)
    pooled = np.stack([np.bincount(inverse, weights=spread[:, j], minlength=n_groups) for j in range(c * c)], axis=1)
    return total, pooled_means, pooled.reshape(n_groups, c, c)


def _merge(tables: list[SufficientTable]) -> SufficientTable:
    first = tables[0]
    codes = np.concatenate([t.codes for t in tables])
    unique, inverse = _group_rows(codes)
    weight, means, comoments = _pool(inverse, len(unique), np.concatenate([t.weight for t in tables]),
                                     np.concatenate([t.means for t in tables]),
                                     np.concatenate([t.comoments for t in tables]))
    return SufficientTable(first.names, first.states, unique, weight, means, comoments)


def _code_type(states: Mapping) -> np.dtype:
    largest = max((len(s) for s in states.values()), default=1)
    return np.dtype(np.uint8 if largest <= 255 else np.uint16 if largest <= 65535 else np.int64)


def _table_of_frame(frame, domains: dict, where: str = "") -> SufficientTable:
    """The table of one in-memory piece, its columns already declared in ``domains``."""
    from pgm.data import to_dataset

    prefix = f"{where}: " if where else ""
    try:
        dataset = to_dataset(frame, domains)
        dataset.require_complete(list(domains), "structure learning")
    except DataError as error:
        raise DataError(f"{prefix}{error}") from None
    states = {n: s for n, s in domains.items() if s is not None}
    discrete = [n for n in domains if _is_discrete_domain(domains[n])]
    continuous = [n for n in domains if not _is_discrete_domain(domains[n])]
    n = dataset.n_rows
    codes = (np.column_stack([dataset[c] for c in discrete]) if discrete else np.zeros((n, 0))).astype(
        _code_type(states))
    values = np.column_stack([dataset[c] for c in continuous]) if continuous else np.zeros((n, 0))
    unique, inverse = _group_rows(codes)
    if n == 0:
        unique = codes
    weight, means, comoments = _pool(inverse, len(unique), np.ones(n), values, None)
    return SufficientTable(tuple(domains), states, unique, weight, means, comoments)


def _is_discrete_domain(states) -> bool:
    """Whether a domain entry is discrete (a tuple of states) rather than continuous (None)."""
    return states is not None


def declare_domains(frame, *, states: Mapping | None = None, continuous=(), max_states: int = 10) -> dict:
    """Every column's domain read from the data: its states (discrete) or None (continuous).

    The rules are those of :meth:`pgm.BayesianNetwork.from_data`
    (:mod:`pgm.from_data`); a discrete column with a single state, or a
    continuous column whose values are all equal, carries no information
    about structure and is refused with its name.
    """
    from pgm.from_data import _column, _kind_and_states

    states = dict(states or {})
    continuous = set(continuous)
    names = list(frame.columns) if isinstance(frame, pd.DataFrame) else list(frame)
    domains = {}
    for name in names:
        if not isinstance(name, str) or not name:
            raise DataError(f"column names must be non-empty strings, got {name!r}")
        if name in states:
            domains[name] = tuple(states[name])
        elif name in continuous:
            domains[name] = None
        else:
            is_discrete, found = _kind_and_states(name, _column(frame, name), max_states)
            domains[name] = tuple(found) if is_discrete else None
            if is_discrete and len(found) == 1:
                raise DataError(f"column {name!r} is constant (every row is {found[0]!r}); drop it before learning")
        if domains[name] is not None and len(domains[name]) < 2:
            raise DataError(f"variable {name!r} has a single state {list(domains[name])}; "
                            "it cannot depend on anything -- drop the column")
    return domains


def _refuse_constant(table: SufficientTable) -> None:
    for j, name in enumerate(table.discrete):
        if table.n_groups and np.unique(table.codes[:, j]).size < 2:
            state = table.states[name][int(table.codes[0, j])]
            raise DataError(f"column {name!r} is constant (every row is {state!r}); drop it before learning")
    if table.continuous:
        _, _, scatter = _pool(np.zeros(table.n_groups, dtype=np.intp), 1, table.weight, table.means, table.comoments)
        for j, name in enumerate(table.continuous):
            if not scatter[0, j, j] > 0:
                raise DataError(f"column {name!r} is constant (all values equal); drop it before learning")


def sufficient_table(data, *, states: Mapping | None = None, continuous=(), max_states: int = 10,
                     domains: Mapping | None = None) -> SufficientTable:
    """Summarise ``data`` for structure learning (see the module docstring).

    Parameters
    ----------
    data : DataFrame, mapping of str to array-like, :class:`pgm.io.Scan`, Dask DataFrame or SufficientTable
        Complete rows; every column is a variable.
    states, continuous, max_states
        Override how columns are read (as in :meth:`pgm.BayesianNetwork.from_data`).
    domains : mapping of str to tuple or None, optional
        Every variable's states (None for continuous); needed for a scan of
        files, whose states cannot be read from the first chunk alone
        (``network.domains`` of a network over the same variables will do).

    Returns
    -------
    SufficientTable

    Raises
    ------
    DataError
        A missing value (named by column and row), a single-state or constant column.

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import sufficient_table
    >>> rows = pgm.load("asia").sample(10_000, seed=0)
    >>> table = sufficient_table(rows)
    >>> table.n_rows, table.n_groups < 100
    (10000.0, True)
    """
    if isinstance(data, SufficientTable):
        return data
    from pgm.dask import is_dask_collection
    from pgm.io.chunked import Scan

    if isinstance(data, Scan):
        if domains is None:
            raise DataError("learning from a scan of files needs domains= (each variable's states, or None "
                            "for continuous), e.g. domains=network.domains")
        domains = dict(domains)
        pieces = [_table_of_frame(frame, domains, where) for frame, where in
                  data.frames({n: s for n, s in domains.items() if s is not None},
                              numbers=[n for n, s in domains.items() if s is None])]
        table = _merge_pieces(pieces, domains)
    elif is_dask_collection(data):
        table = _dask_table(data, domains, states, continuous, max_states)
    else:
        from pgm.data import Dataset

        if isinstance(data, Dataset) and domains is None:
            raise DataError("a Dataset carries codes, not states: pass domains=")
        if not isinstance(data, (pd.DataFrame, Mapping, Dataset)):
            raise TypeError(f"data must be a DataFrame, a mapping of columns, a pgm.io.scan or a Dask DataFrame, "
                            f"not {type(data).__name__}")
        domains = dict(domains) if domains is not None else declare_domains(
            data, states=states, continuous=continuous, max_states=max_states)
        table = _table_of_frame(data, domains)
    if table.n_rows == 0:
        raise DataError("structure learning needs at least one row, and the data has none")
    _refuse_constant(table)
    return table


def _merge_pieces(pieces: list, domains: dict) -> SufficientTable:
    pieces = [p for p in pieces if p.n_groups and p.n_rows > 0]
    if not pieces:
        states = {n: s for n, s in domains.items() if s is not None}
        c = sum(s is None for s in domains.values())
        return SufficientTable(tuple(domains), states, np.zeros((0, len(states)), dtype=np.uint8), np.zeros(0),
                               np.zeros((0, c)), np.zeros((0, c, c)))
    # Merge pairwise so that no step holds more than two pieces' distinct rows at once.
    table = pieces[0]
    for piece in pieces[1:]:
        table = _merge([table, piece])
    return table


def _dask_table(frame, domains, states, continuous, max_states) -> SufficientTable:
    """One table per partition (computed where the partition is), merged by a tree of additions."""
    import dask

    if domains is None:
        head = frame.head(1000, npartitions=-1)
        for name in head.columns:
            if isinstance(head[name].dtype, pd.CategoricalDtype) and not head[name].cat.known:
                raise DataError(f"column {name!r} of the Dask DataFrame has unknown categories; "
                                "call .categorize() first or pass domains=")
        domains = declare_domains(head, states=states, continuous=continuous, max_states=max_states)
        for name in frame.columns:
            if isinstance(frame[name].dtype, pd.CategoricalDtype):
                domains[name] = tuple(frame[name].cat.categories)
    domains = dict(domains)
    parts = [dask.delayed(_table_of_frame)(part, domains, f"partition {k}")
             for k, part in enumerate(frame.to_delayed())]
    while len(parts) > 1:
        parts = [dask.delayed(_merge)([parts[k], parts[k + 1]]) if k + 1 < len(parts) else parts[k]
                 for k in range(0, len(parts), 2)]
    (table,) = dask.compute(parts[0])
    return table
