"""CSV and Parquet files read in chunks of rows: fitting and scoring data larger than memory, on one machine.

:func:`scan` names the files; nothing is read until a verb needs the rows.
``net.fit(scan(...))``, ``net.statistics``, ``net.log_likelihood`` and
``net.score`` then read the files one chunk of ``chunk_rows`` rows at a
time, turn each chunk into statistics (or expected statistics, for EM: one
pass over the files per iteration) and add them up, so memory depends on
the chunk size, not on the size of the files.  The result is the in-memory
one: fitting a file in chunks gives the tables of fitting it whole.

- **CSV** is read by :func:`pandas.read_csv` in chunks, discrete columns
  straight into categoricals; values follow the rules of
  :func:`pgm.data.read_csv` (text is never guessed at; an empty field is
  missing; a value that is not a state is an error naming the file, line,
  column and value).
- **Parquet** is read by pyarrow, a batch at a time (the ``dask`` extra
  installs it); dictionary-encoded columns keep their codes.  An error
  names the file, the row (from 0) and the column.

A directory stands for the CSV or Parquet files in it (as Dask writes them:
``part.0.parquet``, ``part.1.parquet``, ...), a pattern (``data/*.csv``)
for the files it matches, in natural order.  All files must have the same
node columns.

Examples
--------
>>> import os, tempfile, pgm
>>> net = pgm.load("cancer")
>>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
>>> net.sample(5_000, seed=0).to_csv(path, index=False)
>>> rows = pgm.io.scan(path, chunk_rows=1_000)
>>> net.fit(rows) == net.fit(pgm.data.read_csv(path, net.domains))
True
"""

from __future__ import annotations

import codecs
import errno
import glob
import itertools
import os
import re
import sys
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from pgm import _partitions
from pgm.errors import DataError

__all__ = ["DEFAULT_CHUNK_ROWS", "Scan", "log_likelihood_chunks", "scan", "write_csv_chunks"]

#: Rows per chunk unless told otherwise: tens of MB for a network of a few dozen nodes.
DEFAULT_CHUNK_ROWS = 1_000_000

_PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zst", ".csv.zip")
_MISSING_EXTRA = "reading Parquet needs pyarrow, which is not installed: pip install 'pgm-engine[dask]' (or pyarrow)"


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ImportError(_MISSING_EXTRA) from None
    return pyarrow


#: Prefix marking, among the converters' ``numbers``, a column to keep as read (see :meth:`Scan.frames`).
_AS_READ = "\0as-read:"


def _format_of(path: str) -> str | None:
    name = path.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    return None


def _natural(path: str):
    """``part.2`` before ``part.10``."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path)]


class Scan:
    """CSV or Parquet files to be read in chunks of rows; made by :func:`scan`.

    Attributes
    ----------
    files : tuple of str
    format : {"csv", "parquet"}
    chunk_rows : int
    """

    def __init__(self, files, format: str, chunk_rows: int, source: str):
        self.files, self.format, self.chunk_rows, self.source = tuple(files), format, chunk_rows, source

    def __repr__(self) -> str:
        return f"Scan({self.source!r}: {len(self.files)} {self.format} file(s), {self.chunk_rows:,} rows per chunk)"

    def frames(self, domains: Mapping[str, tuple | None],
               numbers: Iterable[str] = (), text: Iterable[str] = ()) -> Iterator[tuple[pd.DataFrame, str]]:
        """``(chunk, file)`` for every chunk of every file.

        A chunk has the file's columns for the nodes of ``domains`` --
        categoricals of the states for discrete nodes, float64 for continuous
        ones -- the columns named in ``numbers`` as float64, and those named
        in ``text`` (e.g. a sequence id) as they are read (text in a CSV).
        A node column present in some files and not others is an error.

        Examples
        --------
        >>> import os, tempfile, pgm
        >>> net = pgm.load("cancer")
        >>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
        >>> net.sample(2_500, seed=0).to_csv(path, index=False)
        >>> [len(chunk) for chunk, _ in pgm.io.scan(path, chunk_rows=1_000).frames(net.domains)]
        [1000, 1000, 500]
        """
        wanted = dict(domains)
        for name in [*numbers, *text]:
            wanted.setdefault(name, None)
        numbers = set(numbers) | {_AS_READ + name for name in text}  # a marker the converters recognise
        reader = _csv_frames if self.format == "csv" else _parquet_frames
        first_columns = None
        for path in self.files:
            columns, chunks = reader(path, wanted, numbers, self.chunk_rows)
            present = [c for c in columns if c in wanted]
            if first_columns is None:
                first_columns = present
            elif set(present) != set(first_columns):
                absent = [c for c in first_columns if c not in present]
                if absent:
                    raise DataError(f"{path}: column {absent[0]!r} is missing, but {self.files[0]} has it")
                extra = next(c for c in present if c not in first_columns)
                raise DataError(f"{path}: column {extra!r} is not in {self.files[0]}")
            for frame in chunks:
                yield frame, path


def scan(source, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, format: str | None = None) -> Scan:
    """CSV or Parquet files, to be fitted or scored a chunk of rows at a time.

    Parameters
    ----------
    source : str, path, or list of them
        A file, a directory (its CSV or Parquet files, recursively), or a
        glob pattern such as ``"data/*.parquet"``.
    chunk_rows : int
        Rows read at a time; memory grows with it, not with the files.
    format : {"csv", "parquet"}, optional
        By default from the file names (``.csv``, ``.csv.gz``, ...,
        ``.parquet``, ``.pq``).

    Returns
    -------
    Scan
        Pass it where data goes: ``net.fit``, ``net.statistics``,
        ``net.log_likelihood``, ``net.score``.

    Raises
    ------
    FileNotFoundError
        A file that does not exist, or a pattern or directory without files.
    DataError
        A file that is neither CSV nor Parquet, or files of both kinds.
    ImportError
        Parquet without pyarrow installed (the message says what to install).

    Examples
    --------
    >>> import os, tempfile, pgm
    >>> net = pgm.load("asia")
    >>> folder = tempfile.mkdtemp()
    >>> for k in range(3):
    ...     net.sample(1_000, seed=k).to_csv(os.path.join(folder, f"part.{k}.csv"), index=False)
    >>> rows = pgm.io.scan(os.path.join(folder, "*.csv"), chunk_rows=400)
    >>> len(rows.files), rows.format
    (3, 'csv')
    >>> import math, pandas as pd
    >>> whole = pd.concat([pgm.data.read_csv(f, net.domains) for f in rows.files])
    >>> math.isclose(net.score(rows), net.score(whole))
    True
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer)) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    if format is not None and format not in ("csv", "parquet"):
        raise ValueError(f"format must be 'csv' or 'parquet', got {format!r}")
    sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    if not sources:
        raise ValueError("scan needs at least one file")
    files: list[str] = []
    for item in map(os.fspath, sources):
        if any(ch in item for ch in "*?["):
            matches = sorted((m for m in glob.glob(item, recursive=True) if os.path.isfile(m)), key=_natural)
            if not matches:
                raise FileNotFoundError(errno.ENOENT, "cannot read (no file matches the pattern)", item)
            files += matches
        elif os.path.isdir(item):
            found = sorted((str(p) for p in Path(item).rglob("*") if p.is_file() and _format_of(str(p))),
                           key=_natural)
            if not found:
                raise FileNotFoundError(errno.ENOENT, "cannot read (the directory has no CSV or Parquet file)", item)
            files += found
        elif os.path.exists(item):
            files.append(item)
        else:
            raise FileNotFoundError(errno.ENOENT, "cannot read (no such file)", item)
    kinds = {path: format or _format_of(path) for path in files}
    for path, kind in kinds.items():
        if kind is None:
            raise DataError(f"{path}: not a CSV or Parquet file (judging by its name); "
                            "pass format='csv' or format='parquet' if it is one")
    if len(set(kinds.values())) > 1:
        csv_file = next(p for p, k in kinds.items() if k == "csv")
        parquet_file = next(p for p, k in kinds.items() if k == "parquet")
        raise DataError(f"the files mix CSV ({csv_file}) and Parquet ({parquet_file}); scan one kind at a time")
    kind = next(iter(kinds.values()))
    if kind == "parquet":
        _pyarrow()  # say now, not at the first chunk, that pyarrow is missing
    label = os.fspath(source) if isinstance(source, (str, os.PathLike)) else f"{len(files)} files"
    return Scan(files, kind, int(chunk_rows), label)


# ---------------------------------------------------------------------------- CSV
def _csv_options(path: str) -> dict:
    try:
        from pgm.data import open_binary

        with open_binary(path) as stream:
            start = stream.read(2)
    except OSError as error:
        from pgm.io._files import _reworded

        raise _reworded(error, path, "read") from None
    # a byte-order mark is not part of the first column's name
    return {"encoding": "utf-16" if start in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"}


def _line_of(path: str, options: dict, row: int) -> int | str:
    """The line on which data row ``row`` (from 0) starts; the file is read only up to it (error messages only)."""
    from pgm.data import _records

    for k, (line, _) in enumerate(_records(path, options)):
        if k == row + 1:  # record 0 is the header
            return line
    return "?"


def _not_a_state(path: str, options: dict, wanted: dict, chunk_rows: int, number: int) -> DataError | None:
    """The error for the first text that is not a state in chunk ``number``, found by reading it again as text.

    Only on the error path: the fast path parses states straight into categoricals and learns only that
    some text did not fit.
    """
    reader = pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows, index_col=False, **options)
    with reader:
        for k, chunk in enumerate(reader):
            if k < number:
                continue
            for name in chunk.columns:
                states = wanted.get(name)
                if states is None:
                    continue
                text = chunk[name]
                bad = (pd.Index([str(s) for s in states], dtype=object).get_indexer(text.to_numpy(dtype=object)) < 0) & (
                    text != "").to_numpy()
                if bad.any():
                    first = int(np.argmax(bad))
                    return DataError(f"{path}, line {_line_of(path, options, k * chunk_rows + first)}, column "
                                     f"{name!r}: {text.iloc[first]!r} is not a state of {name!r}; its states are "
                                     f"{list(states)}")
            return None
    return None


def _undecodable(path: str, encoding: str, reason: str) -> DataError:
    """Where the first byte that does not decode is, found by decoding the file a block at a time."""
    decoder = codecs.getincrementaldecoder("utf-16" if encoding == "utf-16" else "utf-8")()
    line, pending = 1, b""
    from pgm.data import open_binary

    with open_binary(path) as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            data = pending + block
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                offset = max(0, min(len(data) - 1, len(pending) + error.start))
                before = data[:offset]
                line += before.count(b"\n")
                column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", errors="replace")) + 1
                return DataError(
                    f"{path}, line {line}, column {column}: the file is not UTF-8 text: "
                    f"byte 0x{data[offset]:02x} cannot be decoded (a binary file? save the file as UTF-8)")
            cut = data.rfind(b"\n") + 1
            line += data[:cut].count(b"\n")
            pending = data[cut:]
    return DataError(f"{path}: the file is not {encoding} text ({reason})")


def _csv_frames(path: str, wanted: dict, numbers: set, chunk_rows: int):
    """The header's columns, and a generator of converted chunks."""
    from pgm.data import _records

    options = _csv_options(path)
    try:
        header = next(_records(path, options, fields=True), None)
    except UnicodeDecodeError as error:
        raise _undecodable(path, options["encoding"], error.reason) from None
    except OSError as error:
        from pgm.io._files import _reworded

        raise _reworded(error, path, "read") from None
    if header is None:
        raise DataError(f"{path}: the file is empty; a CSV needs a header line naming its columns")
    names = header[1]
    seen = set()
    for name in names:
        if name in seen:
            raise DataError(f"{path}, line {header[0]}: the header names the column {name!r} twice")
        seen.add(name)
    # Every column is read: with usecols, pandas would drop the extra fields of a long row without a word.
    # A discrete column is parsed straight into the node's states, plus "" for an empty field; any other
    # text becomes NaN, which is then reported (dtype="category" would turn the state "TRUE" into True).
    # A state is matched by its text, str(state), as pgm.data.read_csv does: 1 is "1", True is "True".
    dtypes = {c: str if wanted.get(c) is None else pd.CategoricalDtype([str(s) for s in wanted[c]] + [""])
              for c in names}
    return names, _csv_chunks(path, options, names, dtypes, wanted, numbers, chunk_rows)


def _csv_chunks(path, options, names, dtypes, wanted, numbers, chunk_rows):
    from pgm.data import _ragged_row_error

    try:
        reader = pd.read_csv(path, dtype=dtypes, keep_default_na=False, chunksize=chunk_rows, index_col=False,
                             **options)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; a CSV needs a header line naming its columns") from None
    offset, short_rows_checked = 0, False
    with reader:
        for number in itertools.count():
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    chunk = next(reader)
            except StopIteration:
                return
            except pd.errors.ParserError as error:
                raise _ragged_row_error(path, options, error) from None
            except UnicodeDecodeError as error:
                raise _undecodable(path, options["encoding"], error.reason) from None
            except ValueError:  # pandas versions that refuse text outside a categorical dtype's categories
                raise _not_a_state(path, options, wanted, chunk_rows, number) or sys.exc_info()[1] from None
            if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
                raise _ragged_row_error(path, options, Exception("a row has more fields than the header"))
            # text that is not a state: NaN codes (and, in some pandas versions, a warning)
            if any(chunk[c].cat.codes.to_numpy().min(initial=0) < 0 for c in chunk.columns if wanted.get(c)):
                raise _not_a_state(path, options, wanted, chunk_rows, number) or DataError(
                    f"{path}: a value in rows {offset} to {offset + len(chunk) - 1} is not a state")
            for warning in caught:  # any other warning is the caller's to see
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
            if not short_rows_checked and len(names) > 1 and (chunk[names[-1]] == "").any():
                _refuse_short_rows(path, options)
                short_rows_checked = True  # the whole file was checked
            yield _convert_csv(chunk, path, offset, wanted, numbers, options)
            offset += len(chunk)


def _refuse_short_rows(path: str, options: dict) -> None:
    """A row with fewer fields than the header is an error; pandas would fill it with empty fields.

    Called once per file, and only when its last column has empty fields.
    """
    from pgm.data import _records

    records = iter(_records(path, options))
    _, expected = next(records)
    for line, count in records:
        if count < expected:
            raise DataError(f"{path}, line {line}: {count} field(s), but the header has {expected}; "
                            "leave a field empty (a,,c) to mark a missing value")


def _convert_csv(chunk: pd.DataFrame, path, offset: int, wanted: dict, numbers: set, options) -> pd.DataFrame:
    from pgm.data import CONTINUOUS_MISSING_TEXT

    out = {}
    for name in chunk.columns:
        if name not in wanted:
            continue
        states = wanted[name]
        if _AS_READ + name in numbers:
            out[name] = chunk[name].to_numpy(dtype=object)
            continue
        if states is not None:
            codes = chunk[name].cat.codes.to_numpy()  # every text was a state or "" (checked by the caller)
            codes = np.where(codes == len(states), -1, codes)  # the empty field: missing
            out[name] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(list(states)), validate=False)
            continue
        text = chunk[name]
        missing = text.str.strip().isin(CONTINUOUS_MISSING_TEXT)
        values = pd.to_numeric(text.where(~missing, None), errors="coerce").to_numpy(dtype=np.float64,
                                                                                       na_value=np.nan)
        bad = (np.isnan(values) & ~missing.to_numpy()) | np.isinf(values)
        if bad.any():
            first = int(np.argmax(bad))
            reason = "is not a finite number" if np.isinf(values[first]) else "is not a number"
            role = "holds weights" if name in numbers else "is a continuous node"
            raise DataError(f"{path}, line {_line_of(path, options, offset + first)}, column {name!r}: "
                            f"{text.iloc[first]!r} {reason}, but {name!r} {role}")
        out[name] = values
    return pd.DataFrame(out, index=pd.RangeIndex(len(chunk)), copy=False)


# ---------------------------------------------------------------------------- Parquet
def _parquet_frames(path: str, wanted: dict, numbers: set, chunk_rows: int):
    pa = _pyarrow()
    try:
        file = pa.parquet.ParquetFile(path)
    except OSError as error:
        if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError)):
            from pgm.io._files import _reworded

            raise _reworded(error, path, "read") from None
        raise DataError(f"{path}: not a Parquet file ({str(error).strip().splitlines()[0]})") from None
    except pa.ArrowException as error:
        raise DataError(f"{path}: not a Parquet file ({str(error).strip().splitlines()[0]})") from None
    names = file.schema_arrow.names
    read = [c for c in names if c in wanted]
    if not read:  # no node's column: rows without values (the fit will name the first node without a column)
        return names, iter([pd.DataFrame(index=pd.RangeIndex(file.metadata.num_rows))])
    return names, _parquet_chunks(file, path, read, wanted, numbers, chunk_rows)


def _parquet_chunks(file, path, read, wanted, numbers, chunk_rows):
    pa = _pyarrow()
    import pyarrow.compute as pc

    from pgm.data import code_dtype, state_index

    dtypes = {name: pd.CategoricalDtype(list(wanted[name])) for name in read if wanted[name] is not None}
    offset = 0
    for batch in file.iter_batches(batch_size=chunk_rows, columns=read):
        n = batch.num_rows
        out = {}
        for name in read:
            column = batch.column(name)
            states = wanted[name]
            if _AS_READ + name in numbers:
                out[name] = np.asarray(column.to_pylist(), dtype=object)
                continue
            if states is not None:
                encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
                values = encoded.dictionary.to_pylist()  # one entry per distinct value, not per row
                # the rule of in-memory data: a value is a state by value *and* kind (0 is not False)
                positions = [state_index(v, states) if v is not None else -2 for v in values]
                if positions == list(range(len(values))) and encoded.indices.null_count == 0:
                    codes = encoded.indices.to_numpy(zero_copy_only=False)  # the file's codes are the node's
                    codes = codes.astype(code_dtype(len(states)), copy=False)
                else:
                    table = np.array([p if p >= 0 else -2 for p in positions] + [-1],
                                     dtype=code_dtype(len(states) + 1))
                    indices = pc.fill_null(encoded.indices, len(values)).to_numpy(zero_copy_only=False)
                    codes = table[indices]
                    bad = codes == -2
                    if bad.any():
                        first = int(np.argmax(bad))
                        raise DataError(f"{path}, row {offset + first}, column {name!r}: {values[indices[first]]!r} "
                                        f"is not a state of {name!r}; its states are {list(states)}")
                out[name] = pd.Categorical.from_codes(codes, dtype=dtypes[name], validate=False)
                continue
            role = "holds weights" if name in numbers else "is a continuous node"
            if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
                    or pa.types.is_decimal(column.type) or pa.types.is_null(column.type)):
                valid = column.is_valid().to_numpy(zero_copy_only=False)
                first = int(np.argmax(valid)) if valid.any() else 0
                raise DataError(f"{path}, row {offset + first}, column {name!r}: {column[first].as_py()!r} is not "
                                f"a number ({column.type}), but {name!r} {role}")
            values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
            values = np.where(column.is_valid().to_numpy(zero_copy_only=False), values, np.nan)
            infinite = np.isinf(values)
            if infinite.any():
                first = int(np.argmax(infinite))
                raise DataError(f"{path}, row {offset + first}, column {name!r}: {values[first]} is not a finite "
                                f"value, but {name!r} {role}")
            out[name] = values
        yield pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)
        offset += n


# ---------------------------------------------------------------------------- the verbs
class _Chunks(_partitions.Source):
    """The chunks of a :class:`Scan` as a source of pieces for :mod:`pgm._partitions`."""

    def __init__(self, data: Scan, network, weights=None):
        if weights is not None and not isinstance(weights, str):
            raise TypeError(f"weights for scanned files must be the name of a column, not {type(weights).__name__}")
        self.data, self.domains, self.numbers = data, network.domains, () if weights is None else (weights,)

    def map_reduce(self, function, network, weights, **options):
        total = _partitions.Totals()
        for number, (frame, where) in enumerate(self.data.frames(self.domains, self.numbers)):
            total = total + function(network, frame, weights, where, number, **options)
        return total

    def first(self):
        for frame, where in self.data.frames(self.domains, self.numbers):
            if len(frame):
                return frame, where
        raise DataError(f"fitting needs at least one row, and {self.describe()} has none")

    def describe(self) -> str:
        return self.data.source if len(self.data.files) == 1 else f"{self.data.source} ({len(self.data.files)} files)"


def statistics(network, data: Scan, *, weights=None):
    """Statistics of scanned files, summed chunk by chunk; ``weights`` names a column."""
    return _partitions.statistics(network, _Chunks(data, network, weights), weights=weights)


def fit(network, data: Scan, *, prior=None, weights=None, max_iter: int = 100, tol: float = 1e-6, n_init: int = 1,
        init="random", seed=None, progress: bool = False, callback=None, memory_budget=None,
        accelerate: bool = True, variance_floor: float = 1e-6, split_moves: bool = True):
    """Fit ``network`` to scanned files: one pass for complete data, one pass per EM iteration otherwise.

    The options are those of :meth:`BayesianNetwork.fit`; ``weights`` names
    a column of the files.  EM's starts complete every chunk, and
    ``init="kmeans++"`` picks its centres from a sample of every chunk (see
    :func:`pgm._partitions.em`).
    """
    return _partitions.fit(network, _Chunks(data, network, weights), prior=prior, weights=weights, max_iter=max_iter,
                           tol=tol, n_init=n_init, init=init, seed=seed, progress=progress, callback=callback,
                           memory_budget=memory_budget, accelerate=accelerate, variance_floor=variance_floor, split_moves=split_moves)


def log_likelihood_chunks(network, data: Scan) -> Iterator[np.ndarray]:
    """log p(row) of every row, one array per chunk, in file order: scores in bounded memory.

    Examples
    --------
    >>> import os, tempfile, pgm
    >>> net = pgm.load("cancer")
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
    >>> net.sample(2_500, seed=0).to_csv(path, index=False)
    >>> [len(chunk) for chunk in log_likelihood_chunks(net, pgm.io.scan(path, chunk_rows=1_000))]
    [1000, 1000, 500]
    """
    for frame, where in data.frames(network.domains):
        yield _partitions.log_likelihood(network, frame, where)


def log_likelihood(network, data: Scan) -> np.ndarray:
    """log p(row) of every row of scanned files, as one array (8 bytes per row; see :func:`log_likelihood_chunks`)."""
    chunks = list(log_likelihood_chunks(network, data))
    return np.concatenate(chunks) if chunks else np.zeros(0)


def score(network, data: Scan) -> float:
    """Mean log-likelihood per row of scanned files, in nats, in bounded memory."""
    total, count = 0.0, 0
    for values in log_likelihood_chunks(network, data):
        total += float(values.sum())
        count += len(values)
    if count == 0:
        raise DataError(f"score needs at least one row, and {_Chunks(data, network).describe()} has none")
    return total / count


# ---------------------------------------------------------------------------- writing, chunk by chunk
def write_csv_chunks(path, frames: Iterable[pd.DataFrame]) -> int:
    """Write ``frames`` one after another as one CSV file, atomically; returns the number of rows.

    The rows go to a temporary file beside ``path`` that replaces it only
    once the last frame is written (as :mod:`pgm.io._files` does for whole
    files), so an error half-way leaves no partial file.  Only one frame is
    in memory at a time.

    Examples
    --------
    >>> import os, tempfile, pandas as pd
    >>> path = os.path.join(tempfile.mkdtemp(), "out.csv")
    >>> write_csv_chunks(path, (pd.DataFrame({"x": [k, k + 1]}) for k in (0, 2)))
    4
    >>> open(path).read().split()
    ['x', '0', '1', '2', '3']
    """
    from pgm.io._files import write_atomically

    def fill(stream) -> int:
        rows = 0
        for k, frame in enumerate(frames):
            frame.to_csv(stream, index=False, header=k == 0)
            rows += len(frame)
        return rows

    return write_atomically(path, fill, text=True)
