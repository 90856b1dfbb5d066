"""The one place where user data becomes columnar NumPy arrays, and back.

Inside pgm a data set is a :class:`Dataset`: one array per node, all of the
same length.

- A discrete node's column holds integer *codes*: the position of the value in
  the node's ``states``; ``-1`` marks a missing value.
- A continuous node's column holds float64 values; ``NaN`` marks a missing value.

Users hand in a :class:`pandas.DataFrame` (categorical columns keep state
order and convert without copying when their categories are the node's
states) or a mapping of column name to array.  Values are matched to states
by equality and nothing is coerced: the integer ``0`` is not the state ``"0"``.
A value that is not a state is an error naming the column, the value and the
row.  Columns that are not nodes of the network are ignored.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pgm.errors import DataError

__all__ = ["Dataset", "to_dataset", "to_frame", "coerce", "state_kind", "state_index"]

def code_dtype(n_states: int) -> np.dtype:
    """The smallest signed integer type that holds codes 0..n_states-1 and -1."""
    for dtype in (np.int8, np.int16, np.int32):
        if n_states <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


@dataclass(frozen=True)
class Dataset:
    """Columnar data for the nodes of a network.

    Attributes
    ----------
    columns : dict of str to ndarray
        Integer codes (-1 missing) for discrete nodes, float64 (NaN missing) for continuous ones.
    n_rows : int
    row_labels : pandas.Index or None
        The user's row labels, used only to name rows in error messages.
    """

    columns: dict
    n_rows: int
    row_labels: pd.Index | None = None

    def __getitem__(self, node: str) -> np.ndarray:
        return self.columns[node]

    def rows(self, rows: slice) -> "Dataset":
        """The rows in ``rows`` (a slice), as views of the same arrays."""
        labels = None if self.row_labels is None else self.row_labels[rows]
        n = len(range(*rows.indices(self.n_rows)))
        return Dataset({k: v[rows] for k, v in self.columns.items()}, n, labels)

    def missing(self, node: str) -> np.ndarray:
        """Boolean mask of the rows where ``node`` is missing."""
        col = self.columns[node]
        return np.isnan(col) if col.dtype.kind == "f" else col < 0

    def describe_row(self, position: int) -> str:
        """``'row 5'``, with the user's index label when it is not the default range."""
        text = f"row {position}"
        labels = self.row_labels
        if labels is not None and not (
            isinstance(labels, pd.RangeIndex) and labels.start == 0 and labels.step == 1
        ):
            text += f" (index {_plain(labels[position])!r})"
        return text

    def require_complete(self, nodes: Sequence[str], purpose: str) -> None:
        """Raise :class:`DataError` naming the first node with a missing value."""
        for node in nodes:
            missing = self.missing(node)
            if missing.any():
                first = int(np.argmax(missing))
                raise DataError(
                    f"column {node!r} has {int(missing.sum())} missing value(s), the first at "
                    f"{self.describe_row(first)}; {purpose} needs complete rows"
                )


def _plain(value):
    """A NumPy scalar as the Python value it holds, so messages read ``0``, not ``np.int64(0)``."""
    return value.item() if isinstance(value, np.generic) else value


def _missing_column_error(name: str, available) -> DataError:
    close = difflib.get_close_matches(name, [str(c) for c in available], n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return DataError(f"the data has no column for node {name!r}{hint}")


def state_kind(state) -> str:
    """``"strings"``, ``"integers"`` or ``"booleans"``: the kind of a state (a node's states share one kind)."""
    if isinstance(state, (bool, np.bool_)):
        return "booleans"
    return "integers" if isinstance(state, (int, np.integer)) else "strings"


def state_index(value, states: tuple) -> int:
    """The position of ``value`` among ``states`` (matched by value and kind, so ``True`` is not ``1``), or -1.

    A whole float is an integer state (``2.0`` is ``2``), as in a float column of data.
    """
    if isinstance(value, (float, np.floating)) and state_kind(states[0]) == "integers" and float(value).is_integer():
        value = int(value)
    if not isinstance(value, (str, int, bool, np.integer, np.bool_)) or state_kind(value) != state_kind(states[0]):
        return -1
    try:
        return states.index(value)
    except ValueError:
        return -1


_is_boolean = np.frompyfunc(lambda value: isinstance(value, (bool, np.bool_)), 1, 1)


def _wrong_kind(raw: np.ndarray, kind: str) -> np.ndarray | None:
    """Values that equality would match to a state of another kind (``True == 1`` in Python); None if none can."""
    if kind == "strings":
        return None  # a non-string never equals a string
    if raw.dtype.kind == "b":
        return np.ones(len(raw), dtype=bool) if kind == "integers" else None
    if raw.dtype.kind in "iuf":
        return np.ones(len(raw), dtype=bool) if kind == "booleans" else None
    booleans = _is_boolean(raw).astype(bool)  # object column: one C-level pass over the values
    return booleans if kind == "integers" else ~booleans


def _discrete_codes(values, states: tuple, name: str, labels) -> np.ndarray:
    dtype = code_dtype(len(states))
    kind = state_kind(states[0])
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = list(series.cat.categories)
        codes = series.cat.codes.to_numpy()
        if categories == list(states) and all(state_kind(c) == kind for c in categories):
            return codes.astype(dtype, copy=False)
        lookup = {s: i for i, s in enumerate(states)}
        table = np.array([lookup.get(c, -2) if state_kind(c) == kind else -2 for c in categories] + [-1], dtype=dtype)
        converted = table[codes]  # code -1 (missing) picks the trailing -1
    elif kind == "strings":
        # Hash every cell once (pd.factorize), then match only the column's distinct values to the states:
        # ~25 ns a cell against ~115 ns for looking each cell up among the states.  Safe for strings only,
        # where no value of another kind can equal a state (for numbers, factorize would merge True and 1).
        codes, uniques = pd.factorize(series.to_numpy(), use_na_sentinel=True)
        table = pd.Index(list(states), dtype=object).get_indexer(np.asarray(uniques, dtype=object))
        table = np.append(np.where(table < 0, -2, table), -1).astype(dtype, copy=False)  # -1: missing
        converted = table[codes]
    else:
        raw = series.to_numpy()
        converted = pd.Index(list(states), dtype=object).get_indexer(raw).astype(dtype, copy=False)
        unknown = (converted < 0) & ~pd.isna(raw)
        wrong = _wrong_kind(raw, kind)
        if wrong is not None:
            unknown |= wrong & ~pd.isna(raw)
        converted[unknown] = -2
    bad = converted == -2
    if bad.any():
        first = int(np.argmax(bad))
        value = _plain(series.iloc[first])
        ds = Dataset({}, len(series), labels)
        hint = ""
        if state_kind(value) != kind or not isinstance(value, (str, int, bool, np.integer, np.bool_)):
            hint = f" ({kind}; the data holds {type(value).__name__} values"
            if _text_match(value, states) is not None:
                hint += ("; pandas.read_csv guesses types (TRUE becomes True, 1 becomes 1.0): read the file with "
                         "pgm.read_csv(path, net), which reads the network's states, or convert the data with "
                         "net.coerce(data)")
            hint += ")"
        raise DataError(
            f"column {name!r}, {ds.describe_row(first)}: {value!r} is not a state of {name!r}; "
            f"its states are {list(states)}{hint}"
        )
    return converted


def _texts(value) -> list[str]:
    """The texts a value may stand for: its str(), and a whole float's integer text (1.0 -> "1")."""
    texts = [str(value)]
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        texts.insert(0, str(int(value)))
    return texts


def _text_match(value, states: tuple) -> int | None:
    """The state whose text is ``value``'s: exactly, else ignoring case when only one state matches."""
    exact = {str(s): i for i, s in enumerate(states)}
    folded: dict[str, list[int]] = {}
    for i, s in enumerate(states):
        folded.setdefault(str(s).casefold(), []).append(i)
    for text in _texts(value):
        if text in exact:
            return exact[text]
    for text in _texts(value):
        matches = folded.get(text.casefold(), [])
        if len(matches) == 1:
            return matches[0]
    return None


def coerce(data, domains: Mapping[str, tuple | None]) -> pd.DataFrame:
    """A copy of ``data`` whose discrete columns hold the nodes' states, matched by their text.

    The value ``"1"`` becomes the state ``1``, ``"True"`` the state ``True``,
    ``1`` (or ``1.0``) the state ``"1"``: each value is matched to the state
    with the same ``str()`` -- or, when no state has exactly that text, to
    the one state whose text differs only in case (so pandas' ``True``, read
    from ``TRUE``, becomes the state ``"TRUE"``).  Missing values stay
    missing; a value whose text matches no state, or two states that differ
    only in case, is an error naming the column, row and value.  Continuous
    columns and other columns are returned unchanged.  This is the only place
    where pgm converts between kinds of values, and only when asked.

    Parameters
    ----------
    data : pandas.DataFrame or mapping of str to array-like
    domains : mapping of node name to its states (None for continuous nodes)

    Returns
    -------
    pandas.DataFrame
        Discrete columns as categoricals of the nodes' states.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"history": [True, False, None], "count": [1.0, 2.0, 1.0]})
    >>> fixed = coerce(frame, {"history": ("TRUE", "FALSE"), "count": (1, 2)})
    >>> fixed["history"].tolist(), fixed["count"].tolist()
    (['TRUE', 'FALSE', nan], [1, 2, 1])
    """
    frame = data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    for name, states in domains.items():
        if states is None or name not in frame.columns:
            continue
        column = frame[name]
        values = column.to_numpy(dtype=object)
        missing = pd.isna(values)
        if _mixes_booleans_and_numbers(values[~missing]):
            # factorize would merge True with 1: match such a column value by value
            codes = np.array([-1 if m else _code_or_bad(v, states) for v, m in zip(values, missing)], dtype=np.int64)
        else:
            # one match per distinct value, not per cell
            positions, uniques = pd.factorize(values, use_na_sentinel=True)
            table = np.array([_code_or_bad(u, states) for u in uniques] + [-1], dtype=np.int64)
            codes = table[positions]
        bad = codes == -2
        if bad.any():
            first = int(np.argmax(bad))
            value = _plain(column.iloc[first])
            folded = [s for s in states if str(s).casefold() in {x.casefold() for x in _texts(value)}]
            reason = (f"matches {len(folded)} states of {name!r} when case is ignored ({folded})" if len(folded) > 1
                      else f"matches no state of {name!r} by its text")
            raise DataError(
                f"column {name!r}, {Dataset({}, len(frame), frame.index).describe_row(first)}: "
                f"{value!r} {reason}; its states are {list(states)}"
            )
        frame[name] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(list(states)))
    return frame


def _code_or_bad(value, states: tuple) -> int:
    position = _text_match(value, states)
    return -2 if position is None else position


def _mixes_booleans_and_numbers(values: np.ndarray) -> bool:
    booleans = _is_boolean(values).astype(bool) if len(values) else np.zeros(0, dtype=bool)
    return bool(booleans.any() and not booleans.all())


_NUMERIC_KINDS = {"floating", "integer", "mixed-integer-float", "empty"}


def _continuous_values(values, name: str, labels) -> np.ndarray:
    if isinstance(values, pd.Series):
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object or values.dtype.kind not in "iuf":
            return _continuous_from_objects(values.to_numpy(dtype=object, na_value=np.nan), name, labels)
        array = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        if not isinstance(values, np.ndarray) and pd.api.types.infer_dtype(values, skipna=True) not in _NUMERIC_KINDS:
            # keep the user's objects: numpy would turn [True, 1.0] into floats and [1.0, "big"] into strings
            objects = np.empty(len(values), dtype=object)
            objects[:] = list(values)
            return _continuous_from_objects(objects, name, labels)
        array = np.asarray(values)
        if array.dtype.kind not in "iuf":
            return _continuous_from_objects(array.astype(object), name, labels)
        array = array.astype(np.float64, copy=False)
    if array.ndim != 1:
        raise DataError(f"column {name!r} must be one-dimensional, got shape {array.shape}")
    infinite = np.isinf(array)
    if infinite.any():
        first = int(np.argmax(infinite))
        raise DataError(
            f"column {name!r}, {Dataset({}, len(array), labels).describe_row(first)}: "
            f"{float(array[first])} is not a finite value"
        )
    return array


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _continuous_from_objects(objects: np.ndarray, name: str, labels) -> np.ndarray:
    # One pass in C decides whether every non-missing value is a number ...
    if pd.api.types.infer_dtype(objects, skipna=True) in _NUMERIC_KINDS:
        series = pd.Series(objects, dtype=object)
        return _continuous_values(series.where(series.notna(), np.nan).astype(np.float64).to_numpy(), name, labels)
    # ... and only when one is not do we look for the first offender, to name it.
    offender = next(k for k, value in enumerate(objects) if not (_is_number(value) or pd.isna(value)))
    raise DataError(
        f"column {name!r}, {Dataset({}, len(objects), labels).describe_row(offender)}: "
        f"{_plain(objects[offender])!r} is not a number, but {name!r} is a continuous node"
    )


def to_dataset(data, domains: Mapping[str, tuple | None]) -> Dataset:
    """Convert user data to a :class:`Dataset` for the nodes in ``domains``.

    Parameters
    ----------
    data : pandas.DataFrame, Dataset, or mapping of str to array-like
    domains : mapping of node name to its states (discrete) or None (continuous)

    Raises
    ------
    DataError
        A node without a column, columns of different lengths, or a value
        that is not a state (the message names column, value and row).
    """
    if isinstance(data, Dataset):
        missing = [n for n in domains if n not in data.columns]
        if missing:
            raise _missing_column_error(missing[0], data.columns)
        return data
    if isinstance(data, pd.DataFrame):
        if not data.columns.is_unique:
            dup = data.columns[data.columns.duplicated()][0]
            raise DataError(f"the data has more than one column named {dup!r}")
        available, n_rows, labels = data.columns, len(data), data.index
    elif isinstance(data, Mapping):
        available, labels = list(data.keys()), None
        for key, value in data.items():
            if key in domains and (isinstance(value, (str, bytes)) or np.ndim(value) == 0):
                raise DataError(f"column {key!r} must be a sequence of values, not the single value {value!r}")
        lengths = {k: len(v) for k, v in data.items() if k in domains}
        if len(set(lengths.values())) > 1:
            raise DataError(f"columns have different lengths: {lengths}")
        n_rows = next(iter(lengths.values()), 0)
    else:
        raise TypeError(f"data must be a pandas DataFrame or a mapping of column name to array, not {type(data).__name__}")

    columns = {}
    for name, states in domains.items():
        if name not in available:
            raise _missing_column_error(name, available)
        values = data[name]
        if states is None:
            columns[name] = _continuous_values(values, name, labels)
        else:
            columns[name] = _discrete_codes(values, states, name, labels)
        if len(columns[name]) != n_rows:
            raise DataError(f"column {name!r} has {len(columns[name])} rows, expected {n_rows}")
    return Dataset(columns, n_rows, labels)


#: Text that means "missing" in a continuous CSV column.  Discrete columns
#: treat only the empty field as missing: "None" and "NA" can be states
#: (child.bif has a state called None).
CONTINUOUS_MISSING_TEXT = ("", "NA", "NaN", "nan")


def read_csv(path, domains, **options) -> pd.DataFrame:
    """Read a CSV for the nodes in ``domains`` (or of a network): discrete columns as categoricals of the
    node's states, continuous ones as numbers; ``pgm.read_csv(path, net)``.

    Values are not guessed from their look: a state named ``"1"`` stays the
    string ``"1"``.  An empty field is a missing value (and, in a continuous
    column, ``NA`` and ``NaN``).  The file is UTF-8, with or without a
    byte-order mark (or UTF-16 with one).  Blank lines are skipped.

    Every problem is a :class:`~pgm.errors.DataError` that names the file, the
    line as a text editor counts it, the column and the value: a value that is
    not a state or not a number, a row with more or fewer fields than the
    header, bytes that are not UTF-8, an empty file.

    Parameters
    ----------
    path : str or path
        The CSV file (``.csv.gz`` and other compressed files too).
    domains : BayesianNetwork, or mapping of node name to its states (None for continuous nodes)
        Whose states the discrete columns hold.
    **options
        Passed to :func:`pandas.read_csv` (``sep``, ``encoding``, ...).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import pgm, tempfile, os
    >>> net = pgm.load("child")
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.csv")
    >>> net.sample(100, seed=0).to_csv(path, index=False)
    >>> rows = read_csv(path, net.domains)
    >>> net.log_likelihood(rows).shape  # "None", a state of DuctFlow, was not read as missing
    (100,)
    """
    domains = getattr(domains, "domains", domains)  # a network stands for its nodes' states
    options.setdefault("encoding", "utf-8-sig")  # a byte-order mark is not part of the first column's name
    frame = _read_csv_text(path, options)
    lines = _LineNumbers(path, options)
    _refuse_short_rows(frame, path, lines)
    for name, states in domains.items():
        if name not in frame.columns:
            continue  # to_dataset will name the missing column
        text = frame[name]
        if states is not None:
            # A CSV holds text: a state is written as, and matched by, its str() (1 as "1", True as "True").
            codes = pd.Index([str(state) for state in states], dtype=object).get_indexer(text.to_numpy())
            bad = (codes < 0) & (text != "").to_numpy()
            if bad.any():
                first = int(np.argmax(bad))
                raise DataError(
                    f"{path}, line {lines[first]}, column {name!r}: {text.iloc[first]!r} is not a state of "
                    f"{name!r}; its states are {list(states)}"
                )
            frame[name] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(list(states)))
            continue
        missing = text.str.strip().isin(CONTINUOUS_MISSING_TEXT)
        numbers = pd.to_numeric(text.where(~missing, None), errors="coerce")
        bad = (numbers.isna() & ~missing).to_numpy() | np.isinf(numbers.to_numpy(dtype=np.float64, na_value=np.nan))
        if bad.any():
            first = int(np.argmax(bad))
            reason = "is not a finite number" if np.isinf(numbers.iloc[first]) else "is not a number"
            raise DataError(
                f"{path}, line {lines[first]}, column {name!r}: {text.iloc[first]!r} {reason}, "
                f"but {name!r} is a continuous node"
            )
        frame[name] = numbers.astype(np.float64)
    return frame


def _read_csv_text(path, options: dict) -> pd.DataFrame:
    """Every field as text; pandas' and the file system's errors reworded to name the file and line."""
    from pgm.io._files import _reworded, decode_error_position

    import warnings

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, **options)
        # pandas turns the first column into row labels when the first row has an extra field
        # (and, in some versions, drops a trailing extra field with a warning): both are errors here
        implicit_index = "index_col" not in options and not (
            isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1)
        if implicit_index or any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
            raise _ragged_row_error(path, options, Exception("a row has more fields than the header"))
        _refuse_repeated_columns(frame, path, options)
        return frame
    except UnicodeDecodeError as error:
        data = _raw_bytes(path)
        if data.startswith((b"\xff\xfe", b"\xfe\xff")) and options.get("encoding") == "utf-8-sig":
            return _read_csv_text(path, {**options, "encoding": "utf-16"})
        if data is None or error.start >= len(data):
            raise DataError(f"{path}: the file is not UTF-8 text ({error.reason})") from None
        line, column = decode_error_position(data, error.start)
        raise DataError(
            f"{path}, line {line}, column {column}: the file is not UTF-8 text: byte 0x{data[error.start]:02x} "
            "cannot be decoded (a binary file? save the file as UTF-8)"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; a CSV needs a header line naming its columns") from None
    except pd.errors.ParserError as error:
        raise _ragged_row_error(path, options, error) from None
    except OSError as error:
        raise _reworded(error, path, "read") from None


def _refuse_repeated_columns(frame: pd.DataFrame, path, options: dict) -> None:
    """pandas renames a repeated column ``x`` to ``x.1``; a repeated name is an error instead."""
    import re

    columns = set(map(str, frame.columns))
    if not any(re.fullmatch(r".+\.[0-9]+", c) and c.rsplit(".", 1)[0] in columns for c in columns):
        return
    header = next(_records(path, options, fields=True))[1]
    seen = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path}, line 1: the header names the column {name!r} twice")
        seen.add(name)


def open_binary(path):
    """``path`` opened for reading bytes, decompressed as its name says (``.gz``, ``.bz2``, ``.xz``,
    ``.zip``, ``.zst``), as :func:`pandas.read_csv` does, so that the line an error names is a line of
    the text the user sees."""
    name = str(path).lower()
    if name.endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    if name.endswith(".bz2"):
        import bz2

        return bz2.open(path, "rb")
    if name.endswith(".xz"):
        import lzma

        return lzma.open(path, "rb")
    if name.endswith(".zip"):
        import zipfile

        archive = zipfile.ZipFile(path)
        members = [m for m in archive.namelist() if not m.endswith("/")]
        if len(members) != 1:
            raise DataError(f"{path}: a zipped CSV must hold exactly one file, not {len(members)}")
        return archive.open(members[0])
    if name.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            raise ImportError(f"{path}: reading .zst files needs zstandard: pip install zstandard") from None
        return zstandard.open(path, "rb")
    return open(path, "rb")


def _raw_bytes(path) -> bytes | None:
    try:
        with open_binary(path) as stream:
            return stream.read()
    except OSError:
        return None


class _LineNumbers:
    """The line on which each data row of a CSV starts, as a text editor counts lines.

    Worked out only when asked (for an error message): quoted fields may span
    lines, and blank lines are skipped by the reader but counted by editors.
    """

    def __init__(self, path, options: dict):
        self.path, self.options = path, options
        self._starts = None

    def __getitem__(self, row: int) -> int | str:
        if self._starts is None:
            self._starts = [start for start, _ in _records(self.path, self.options)][1:]  # after the header
        return self._starts[row] if row < len(self._starts) else "?"


def _records(path, options: dict, *, fields: bool = False):
    """``(first line, number of fields)`` of every non-blank record of the CSV, header included
    (``(first line, fields)`` with ``fields=True``)."""
    import csv

    import io

    with io.TextIOWrapper(open_binary(path), encoding=options.get("encoding", "utf-8-sig"), newline="") as stream:
        lines = (line.replace("\x00", "\ufffd") for line in stream)  # the csv module of Python 3.10 stops at NUL
        reader = csv.reader(lines, delimiter=options.get("sep", options.get("delimiter", ",")) or ",")
        previous = 0
        for values in reader:
            start, previous = previous + 1, reader.line_num
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # a blank line: pandas skips it too
            yield start, (values if fields else len(values))


def _ragged_row_error(path, options: dict, error: Exception) -> DataError:
    if "EOF inside string" in str(error):  # pandas' words for a quote that opens a field and never closes
        try:
            start = None
            for start, _ in _records(path, options):
                pass  # the last record is the one the open quote swallows, to the end of the file
            return DataError(f"{path}, line {start}: a quote (\") opens a field that is never closed; "
                             "close it, or double a quote inside a quoted field (\"\")")
        except Exception:  # noqa: BLE001 - fall back to the general message below
            pass
    try:
        records = iter(_records(path, options))
        _, expected = next(records)
        for line, count in records:
            if count != expected:
                return DataError(f"{path}, line {line}: {count} fields, but the header has {expected}")
    except Exception:  # noqa: BLE001 - fall back to pandas' own words below
        pass
    return DataError(f"{path}: cannot read the CSV: {str(error).strip().splitlines()[-1]}")


def _refuse_short_rows(frame: pd.DataFrame, path, lines: _LineNumbers) -> None:
    """A row with fewer fields than the header is an error, not missing values.

    pandas fills a short row's last fields with empty text.  A short row
    shows up as an empty last column, so the file is re-read to count
    fields only when that column has empty fields.
    """
    if frame.empty or not len(frame.columns) > 1 or not (frame.iloc[:, -1] == "").any():
        return
    records = iter(_records(lines.path, lines.options))
    _, expected = next(records)
    for line, count in records:
        if count < expected:
            raise DataError(f"{path}, line {line}: {count} field(s), but the header has {expected}; "
                            "leave a field empty (a,,c) to mark a missing value")


def to_frame(columns: Mapping[str, np.ndarray], domains: Mapping[str, tuple | None], n_rows: int) -> pd.DataFrame:
    """A DataFrame from columns of codes/values: categorical columns in state order, float64 otherwise."""
    out = {}
    for name, states in domains.items():
        col = columns[name]
        if states is None:
            out[name] = col
        else:
            dtype = pd.CategoricalDtype(list(states), ordered=False)
            out[name] = pd.Categorical.from_codes(col, dtype=dtype, validate=False)
    return pd.DataFrame(out, index=pd.RangeIndex(n_rows), copy=False)
