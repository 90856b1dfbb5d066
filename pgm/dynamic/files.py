"""Sequences in files too long for memory: :func:`pgm.io.scan` chunks regrouped into whole sequences.

``pgm.io.scan`` reads CSV or Parquet files a chunk of rows at a time, and a
chunk boundary may fall inside a sequence.  :func:`whole_sequences` mends
that: the rows of the last sequence of each chunk are carried over to the
next chunk, so every piece it yields holds whole sequences, and a piece is
in memory only while it is used.  The rows of a sequence must be contiguous
(across files too); a sequence id that comes back after another sequence
began is an error, as for in-memory data.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from pgm.errors import DataError

__all__ = ["whole_sequences"]


def whole_sequences(rows, network, *, sequence: str, time: str | None = None) -> Iterator[pd.DataFrame]:
    """Pieces of whole sequences from scanned files (:class:`pgm.io.Scan`).

    Parameters
    ----------
    rows : pgm.io.Scan
        The files, as :func:`pgm.io.scan` gives them.
    network : DynamicBayesianNetwork
        Its nodes' states convert the columns.
    sequence : str
        The sequence-id column (kept as read: text in a CSV).
    time : str, optional
        A numeric column ordering the rows within each sequence.

    Yields
    ------
    pandas.DataFrame
        Long frames, each holding whole sequences.

    Examples
    --------
    >>> import os, tempfile, pgm
    >>> from pgm.dynamic.files import whole_sequences
    >>> model = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
    ...                         transmat=[[0.9, 0.1], [0.1, 0.9]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
    >>> path = os.path.join(tempfile.mkdtemp(), "steps.csv")
    >>> model.sample([5, 7, 3], seed=0).drop(columns="z").to_csv(path, index=False)
    >>> [sorted(set(piece["sequence"])) for piece in whole_sequences(pgm.io.scan(path, chunk_rows=4), model,
    ...                                                              sequence="sequence")]
    [['0'], ['1'], ['2']]
    """
    domains = {n: network.domains[n] for n in network.observed_nodes}
    carried = None
    finished = set()
    for chunk, path in rows.frames(domains, numbers=[time] if time else (), text=[sequence]):
        if sequence not in chunk.columns:
            raise DataError(f"{path}: there is no sequence-id column {sequence!r}")
        frame = chunk if carried is None else pd.concat([carried, chunk], ignore_index=True)
        if not len(frame):
            continue
        ids = frame[sequence].to_numpy(dtype=object)
        last = ids[-1]
        start_of_last = len(ids) - int(np.argmax(ids[::-1] != last)) if (ids != last).any() else 0
        piece, carried = frame.iloc[:start_of_last], frame.iloc[start_of_last:].reset_index(drop=True)
        if len(piece):
            _check_new(piece, sequence, finished, path)
            yield piece.reset_index(drop=True)
    if carried is not None and len(carried):
        _check_new(carried, sequence, finished, rows.files[-1])
        yield carried


def _check_new(piece, sequence, finished, path):
    ids = set(pd.unique(piece[sequence].to_numpy(dtype=object)))
    again = ids & finished
    if again:
        raise DataError(f"{path}: the rows of sequence {sorted(again, key=str)[0]!r} are not contiguous (it comes "
                        f"back after other sequences); sort the file by {sequence!r} first")
    finished |= ids
