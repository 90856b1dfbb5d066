"""Where users' sequences become packed arrays, and packed results become DataFrames.

Sequences arrive as

- a long DataFrame with a sequence-id column (``sequence="id"``): the rows of
  a sequence are contiguous and in time order, or ordered by a ``time``
  column within each sequence;
- a list of DataFrames (or mappings of column to array), one per sequence;
- hmmlearn's ``X`` (2-D array, one column per observed node) plus ``lengths``;
- one DataFrame without ``sequence``: a single sequence.

Inside, a :class:`SequenceData` holds one ``(n_sequences, longest)`` array per
node, sequences sorted longest first so that the sequences still running at
step ``t`` are a prefix ``[:n_active[t]]``: the recursions of
:mod:`pgm.dynamic.forward_backward` then touch only live rows, with no masks
multiplied in.  Padding is the missing value (code -1 or NaN).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pgm.data import to_dataset
from pgm.errors import DataError

__all__ = ["SequenceData", "to_sequences"]


@dataclass(frozen=True)
class SequenceData:
    """Sequences packed longest first.

    Attributes
    ----------
    columns : dict of str to ndarray
        ``(n_sequences, longest)`` codes (discrete, -1 missing or padding) or floats (NaN).
    lengths : ndarray of int
        Length of each packed sequence, non-increasing.
    ids : list
        The user's id of each packed sequence.
    position : ndarray of int
        ``position[i]`` is the packed row of the user's ``i``-th sequence.
    soft : dict of str to ndarray
        Soft evidence: ``(n_sequences, longest, n_states)`` likelihoods per
        node (ones in padding).
    """

    columns: dict
    lengths: np.ndarray
    ids: list
    position: np.ndarray
    soft: dict = field(default_factory=dict)

    @property
    def n_sequences(self) -> int:
        return len(self.lengths)

    @property
    def longest(self) -> int:
        return int(self.lengths[0]) if len(self.lengths) else 0

    @property
    def n_active(self) -> np.ndarray:
        """Number of sequences still running at each step ``t``."""
        return np.searchsorted(-self.lengths, -np.arange(self.longest), side="left").astype(np.int64)

    @property
    def valid(self) -> np.ndarray:
        """``(n_sequences, longest)``: True where a sequence has a step."""
        return np.arange(self.longest)[None, :] < self.lengths[:, None]

    def long_index(self) -> np.ndarray:
        """Flat packed positions of every step, sequences in the user's order, time ascending."""
        lengths = self.lengths[self.position]
        rows = np.repeat(self.position, lengths)
        starts = np.cumsum(lengths) - lengths
        t = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
        return rows * self.longest + t

    def frame_index(self, name: str = "sequence") -> pd.MultiIndex:
        """The (sequence, t) index of long results, in the user's order."""
        lengths = self.lengths[self.position]
        starts = np.cumsum(lengths) - lengths
        t = np.arange(int(lengths.sum())) - np.repeat(starts, lengths)
        ids = pd.Index([self.ids[p] for p in self.position])
        if ids.is_unique:  # built from codes: no per-step Python objects for a million steps
            return pd.MultiIndex(levels=[ids, pd.RangeIndex(self.longest)],
                                 codes=[np.repeat(np.arange(len(ids)), lengths), t], names=[name, "t"],
                                 verify_integrity=False)  # codes in range by construction
        return pd.MultiIndex.from_arrays([np.repeat(ids.to_numpy(), lengths), t], names=[name, "t"])

    def to_long(self, packed: np.ndarray) -> np.ndarray:
        """A ``(n_sequences, longest, ...)`` array as ``(total steps, ...)`` rows in the user's order."""
        flat = packed.reshape((self.n_sequences * self.longest,) + packed.shape[2:])
        return flat[self.long_index()]

    def in_user_order(self, per_sequence: np.ndarray) -> np.ndarray:
        """A per-packed-sequence array in the user's order of sequences."""
        return per_sequence[self.position]

    def subset(self, rows: np.ndarray) -> "SequenceData":
        """The packed sequences ``rows`` (ascending) alone, still longest first and in the user's order."""
        rows = np.asarray(rows, dtype=np.int64)
        longest = int(self.lengths[rows].max()) if len(rows) else 0
        new_row = np.full(self.n_sequences, -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows))
        mapped = new_row[self.position]
        return SequenceData({n: v[rows, :longest] for n, v in self.columns.items()}, self.lengths[rows],
                            [self.ids[r] for r in rows], mapped[mapped >= 0],
                            {n: v[rows, :longest] for n, v in self.soft.items()})


def to_sequences(data, domains: Mapping[str, tuple | None], *, sequence: str | None = None,
                 time: str | None = None, lengths=None) -> SequenceData:
    """Pack user data (see the module docstring) for the nodes in ``domains`` that have columns.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"id": ["a", "a", "b"], "y": [0, 1, 1]})
    >>> packed = to_sequences(frame, {"y": (0, 1)}, sequence="id")
    >>> packed.lengths.tolist(), packed.columns["y"].tolist()
    ([2, 1], [[0, 1], [1, -1]])
    """
    if lengths is not None or isinstance(data, np.ndarray):
        direct = _array_columns(data, lengths, domains)
        if direct is not None:  # codes straight from the array, no DataFrame in between
            columns, sizes = direct
            return pack(columns, sizes, list(range(len(sizes))))
    frame, ids, lengths = _long_frame(data, sequence=sequence, time=time, lengths=lengths, domains=domains)
    present = {n: d for n, d in domains.items() if n in frame.columns}
    dataset = to_dataset(frame, present)
    return pack(dataset.columns, lengths, ids)


def pack(columns: Mapping[str, np.ndarray], lengths: np.ndarray, ids: list) -> SequenceData:
    """Concatenated per-step columns (sequences one after another) packed longest first."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    sorted_lengths = lengths[order]
    longest = int(sorted_lengths[0]) if len(lengths) else 0
    starts = np.cumsum(lengths) - lengths
    rows = np.repeat(np.arange(len(order)), sorted_lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(sorted_lengths) - sorted_lengths, sorted_lengths)
    source = np.repeat(starts[order], sorted_lengths) + offsets
    packed = {}
    for node, column in columns.items():
        fill = np.nan if column.dtype.kind == "f" else -1
        out = np.full((len(order), longest), fill, dtype=column.dtype)
        out[rows, offsets] = column[source]
        packed[node] = out
    return SequenceData(packed, sorted_lengths, [ids[i] for i in order], position)


def _long_frame(data, *, sequence, time, lengths, domains):
    """One long DataFrame with the sequences one after another, their ids and lengths."""
    if isinstance(data, SequenceData):
        raise TypeError("data is already packed")
    if lengths is not None or isinstance(data, np.ndarray):
        return _from_array(data, lengths, domains)
    if isinstance(data, (list, tuple)):
        if not data:
            raise DataError("no sequences: the list is empty")
        frames = []
        for i, item in enumerate(data):
            frame = item if isinstance(item, pd.DataFrame) else pd.DataFrame(dict(item))
            if len(frame) == 0:
                raise DataError(f"sequence {i} has length 0; every sequence needs at least one step")
            frames.append(frame)
        sizes = np.array([len(f) for f in frames])
        return pd.concat(frames, ignore_index=True), list(range(len(frames))), sizes
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    if len(frame) == 0:
        raise DataError("the data has no rows; every sequence needs at least one step")
    if sequence is None:
        if time is not None:
            frame = _sorted_by_time(frame, time, None)
        return frame.reset_index(drop=True), [0], np.array([len(frame)])
    if sequence not in frame.columns:
        raise DataError(f"the data has no sequence-id column {sequence!r}")
    idcol = frame[sequence]
    if idcol.isna().any():
        first = int(np.argmax(idcol.isna().to_numpy()))
        raise DataError(f"the sequence id is missing at row {first}")
    codes, uniques = pd.factorize(idcol, sort=False)
    change = np.flatnonzero(np.diff(codes)) + 1
    run_codes = codes[np.r_[0, change]]
    if len(run_codes) != len(uniques):  # some id has two separate runs of rows
        counts = np.bincount(run_codes, minlength=len(uniques))
        bad = int(np.argmax(counts > 1))
        rows = np.flatnonzero(codes == bad)
        gap = rows[int(np.argmax(np.diff(rows) > 1)) + 1]
        raise DataError(
            f"rows of sequence {_plain(uniques[bad])!r} are interleaved with other sequences (it starts again at row {gap}); "
            f"the rows of each sequence must be contiguous: sort by {sequence!r} (stable) first")
    sizes = np.bincount(codes, minlength=len(uniques))
    if time is not None:
        frame = _sorted_by_time(frame, time, sequence)
    return frame.reset_index(drop=True), [_plain(u) for u in uniques], sizes


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _sorted_by_time(frame, time, sequence):
    if time not in frame.columns:
        raise DataError(f"the data has no time column {time!r}")
    keys = [time] if sequence is None else [sequence, time]
    if frame.duplicated(keys).any():
        first = int(np.argmax(frame.duplicated(keys).to_numpy()))
        raise DataError(f"row {first} repeats the time {frame[time].iloc[first]!r} of an earlier row of its sequence")
    if sequence is None:
        return frame.sort_values(time, kind="stable")
    order = pd.factorize(frame[sequence])[0]
    return frame.assign(_order=order).sort_values(["_order", time], kind="stable").drop(columns="_order")


def _array_columns(X, lengths, domains):
    """hmmlearn's ``X`` as columns directly, when every node is continuous or has the states ``0..k-1``
    (hmmlearn's symbols); ``None`` when some node needs the general conversion of :func:`pgm.data.to_dataset`."""
    from pgm.data import code_dtype

    names = list(domains)
    if not all(domains[n] is None or tuple(domains[n]) == tuple(range(len(domains[n]))) for n in names):
        return None
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        return None
    frame_shape_checked = _from_array_checks(X, lengths, names)
    X, lengths = frame_shape_checked
    columns = {}
    for j, name in enumerate(names):
        column = X[:, j]
        states = domains[name]
        if states is None:
            columns[name] = column.astype(np.float64)
            continue
        values = column.astype(np.float64) if column.dtype.kind == "f" else column
        missing = np.isnan(values) if values.dtype.kind == "f" else np.zeros(len(values), dtype=bool)
        bad = ~missing & ((values < 0) | (values >= len(states)) | (values != np.floor(values)))
        if bad.any():
            row = int(np.argmax(bad))
            value = values[row].item()
            raise DataError(f"column {name!r} has the value {value!r} at row {row}, which is not one of its states "
                            f"{list(states)}")
        codes = np.where(missing, -1, np.nan_to_num(values, nan=-1)).astype(code_dtype(len(states)))
        columns[name] = codes
    return columns, lengths


def _from_array_checks(X, lengths, names):
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DataError(f"X must be 2-D (steps, observed nodes), got shape {X.shape}")
    if X.shape[1] != len(names):
        raise DataError(f"X has {X.shape[1]} column(s) but the network observes {len(names)} node(s): {names}")
    lengths = np.full(1, len(X)) if lengths is None else np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise DataError("lengths must be a 1-D array of integers")
    if (lengths <= 0).any():
        raise DataError(f"sequence {int(np.argmax(lengths <= 0))} has length {int(lengths[lengths <= 0][0])}; "
                        "every sequence needs at least one step")
    if lengths.sum() != len(X):
        raise DataError(f"lengths sum to {int(lengths.sum())} but X has {len(X)} rows")
    return X, lengths


def _from_array(X, lengths, domains):
    """hmmlearn's convention: ``X`` of shape (n_steps, n_observed) and the sequences' lengths."""
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DataError(f"X must be 2-D (steps, observed nodes), got shape {X.shape}")
    names = list(domains)
    if X.shape[1] != len(names):
        raise DataError(f"X has {X.shape[1]} column(s) but the network observes {len(names)} node(s): {names}")
    lengths = np.full(1, len(X)) if lengths is None else np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise DataError("lengths must be a 1-D array of integers")
    if (lengths <= 0).any():
        raise DataError(f"sequence {int(np.argmax(lengths <= 0))} has length {int(lengths[lengths <= 0][0])}; "
                        "every sequence needs at least one step")
    if lengths.sum() != len(X):
        raise DataError(f"lengths sum to {int(lengths.sum())} but X has {len(X)} rows")
    columns = {}
    for j, name in enumerate(names):
        states = domains[name]
        column = X[:, j]
        if states is not None and all(isinstance(s, (int, np.integer)) for s in states) and column.dtype.kind == "f":
            if np.isfinite(column).all() and (column == np.round(column)).all():
                column = column.astype(np.int64)
        columns[name] = column
    return pd.DataFrame(columns), list(range(len(lengths))), lengths


def require_sequences(lengths: Sequence[int]) -> np.ndarray:
    """Lengths for sampling: positive integers."""
    lengths = np.atleast_1d(np.asarray(lengths))
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer) or (lengths <= 0).any():
        raise ValueError(f"lengths must be positive integers, got {lengths!r}")
    return lengths.astype(np.int64)
