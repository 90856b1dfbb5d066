"""A scikit-learn classifier backed by a Bayesian network with a class node.

:class:`BayesianNetworkClassifier` fits a network to ``(X, y)`` -- the
features as evidence, the labels as the class node's column -- and answers
``predict_proba`` with the posterior of the class given each row, so it can
sit in a :class:`~sklearn.pipeline.Pipeline`, be cloned, and be scored by
:func:`~sklearn.model_selection.cross_val_score`.

This module needs scikit-learn, which ``import pgm`` does not import.

How X and y are read
--------------------
The *features* are the network's nodes other than the class node and latent
nodes, in the network's order (``net.nodes``).

- A DataFrame's columns are matched to features by name; a feature without
  a column is unobserved in every row.
- An array's columns are the features in order (after fitting:
  ``feature_names_in_``).
- A discrete feature's states are strings.  Entries that are strings (or
  categoricals of strings) must equal a state.  *Numeric* entries follow one
  convention of this adapter, made for scikit-learn's numeric arrays: an
  integer-valued number ``v`` matches the state written ``str(int(v))`` --
  ``1`` and ``1.0`` match ``"1"``, never ``"01"`` or ``"1.0"`` -- and any
  other number (``0.5``, ``inf``, an integer with no such state) is an error
  naming the column, the value and the row.  Booleans are refused: pass
  integers.
- A continuous feature takes numbers.
- NaN (or None) is a missing value.  When fitting, rows with missing values
  are kept and the network is fitted by EM; when predicting, missing values
  are marginalised out.
- ``y`` holds the class node's states, strings or numbers under the same
  convention; ``classes_`` then holds the states in that form.
"""

from __future__ import annotations

import difflib
import functools
import re

import numpy as np
import pandas as pd

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.validation import check_is_fitted, column_or_1d
except ImportError as error:  # pragma: no cover - scikit-learn is a test extra, not a dependency
    raise ImportError("pgm.sklearn needs scikit-learn: pip install 'pgm-engine[sklearn]'") from error

from pgm.data import Dataset, code_dtype, to_dataset
from pgm.errors import DataError, ImpossibleEvidenceError, NodeError, StructureError

__all__ = ["BayesianNetworkClassifier"]

#: The decimal form ``str(int(v))`` gives: a numeric entry ``v`` matches the state with this text.
_INTEGER_TEXT = re.compile(r"-?(0|[1-9][0-9]*)")

_SKLEARN_VERSION = tuple(int(part) for part in re.findall(r"\d+", sklearn.__version__)[:2])


class BayesianNetworkClassifier(ClassifierMixin, BaseEstimator):
    """Any Bayesian network with a discrete class node, as a scikit-learn classifier.

    ``fit`` fits every CPD of ``network`` to the rows of ``X`` with the
    labels ``y`` as the class node's column (closed form on complete data,
    EM when values are missing or nodes are latent); ``predict_proba`` is
    the posterior ``p(class | row)``, from exact inference.  See the module
    docstring for how ``X`` and ``y`` are matched to nodes and states.

    Parameters
    ----------
    network : BayesianNetwork
        The structure (fitted or not; only its structure and states are used).
    target : str
        The class node: discrete and not latent.
    prior : Prior, list or dict, optional
        Passed to :meth:`pgm.BayesianNetwork.fit`, e.g.
        ``pgm.Dirichlet({feature: 1.0 for feature in features})`` for Laplace
        smoothing of the feature tables only.
    fit_options : dict, optional
        Further keyword arguments of :meth:`pgm.BayesianNetwork.fit`, such as
        ``{"seed": 0, "max_iter": 200}`` for EM.

    Attributes
    ----------
    network_ : BayesianNetwork
        The fitted network.
    classes_ : ndarray
        The class node's states in the network's order (all of them, also
        those absent from ``y``): strings, or integers when ``y`` was numeric.
        ``predict_proba``'s columns follow this order.
    feature_names_in_ : ndarray of str
        The feature nodes that ``X``'s columns hold, in column order.
    n_features_in_ : int
        Number of columns of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm.classifiers import naive_bayes
    >>> from pgm.sklearn import BayesianNetworkClassifier
    >>> net = naive_bayes("y", ["0", "1"], discrete={"a": ["0", "1"], "b": ["0", "1"]})
    >>> X = np.array([[0, 0], [0, 1], [1, 1], [1, 1], [1, 0], [0, 0]])
    >>> y = np.array([0, 0, 1, 1, 1, 0])
    >>> model = BayesianNetworkClassifier(net, "y").fit(X, y)
    >>> model.classes_.tolist(), model.feature_names_in_.tolist()
    ([0, 1], ['a', 'b'])
    >>> model.predict(np.array([[1, 1], [0, np.nan]])).tolist()   # NaN: b unobserved
    [1, 0]
    >>> model.predict_proba(np.array([[0, np.nan]])).round(4).tolist()   # p(y | a=0) = 1 (MLE)
    [[1.0, 0.0]]
    """

    def __init__(self, network, target, *, prior=None, fit_options=None):
        self.network = network
        self.target = target
        self.prior = prior
        self.fit_options = fit_options

    # ------------------------------------------------------------------ scikit-learn's verbs
    def fit(self, X, y, sample_weight=None):
        """Fit the network's CPDs to the rows of ``X`` labelled by ``y``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_rows, n_features)
        y : array-like of shape (n_rows,)
        sample_weight : array-like of shape (n_rows,), optional
            A non-negative weight per row.

        Returns
        -------
        self
        """
        network, target = self._structure(X, y)
        features = tuple(n for n in network.nodes if n != target and not network[n].latent)
        names, columns, labels, n_rows = _read_X(X, network, target, features, fitting=True)
        codes, classes = _read_y(y, network, target, n_rows)
        options = dict(self.fit_options or {})
        for reserved in ("prior", "weights"):
            if reserved in options:
                raise ValueError(f"fit_options must not set {reserved!r}; use the classifier's "
                                 f"{'prior' if reserved == 'prior' else 'sample_weight'} instead")
        if sample_weight is not None and not isinstance(sample_weight, pd.Series):
            weights = np.asarray(sample_weight)
            if weights.shape == (n_rows,) and weights.dtype.kind in "iuf" and not weights.any():
                raise DataError("every sample weight is zero, so there is nothing to fit")
        columns[target] = codes
        fitted = network.fit(Dataset(columns, n_rows, labels), prior=self.prior, weights=sample_weight, **options)
        self.network_ = fitted
        self.classes_ = classes
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self._plan = _BlanketPlan(fitted, target)
        return self

    def predict_log_proba(self, X):
        """log p(class | row) for every row of ``X``, one column per entry of ``classes_``.

        Rows whose class node's Markov blanket is fully observed are answered
        from the blanket's CPDs alone (the rest of the row is then irrelevant);
        the others by the network's exact inference, missing values
        marginalised.
        """
        check_is_fitted(self, "network_")
        network, target = self.network_, self.target
        names = list(self.feature_names_in_)
        _, columns, labels, n_rows = _read_X(X, network, target, names, fitting=False)
        out = np.empty((n_rows, len(self.classes_)))
        complete = self._plan.complete_rows(columns, n_rows)
        if complete.all():
            out[:] = self._plan.log_posterior(columns, n_rows, labels)
        else:
            if complete.any():
                chosen = {node: column[complete] for node, column in columns.items()}
                out[complete] = self._plan.log_posterior(chosen, int(complete.sum()), _subset_labels(labels, complete))
            rest = ~complete
            frame = _evidence_frame(network, {node: column[rest] for node, column in columns.items()},
                                    _subset_labels(labels, rest), int(rest.sum()))
            probabilities = network.query(target, evidence=frame).to_numpy()
            with np.errstate(divide="ignore"):
                out[rest] = np.log(probabilities)
        return out

    def predict_proba(self, X):
        """p(class | row) for every row of ``X``, one column per entry of ``classes_``."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        """The most probable class of every row (ties go to the first state)."""
        check_is_fitted(self, "network_")
        return self.classes_[np.argmax(self.predict_log_proba(X), axis=1)]

    # ------------------------------------------------------------------ helpers
    def _structure(self, X, y):
        """The network to fit and its class node (a subclass may build them from the data)."""
        return self._checked_network()

    def _checked_network(self):
        from pgm.network import BayesianNetwork

        network, target = self.network, self.target
        if not isinstance(network, BayesianNetwork):
            raise TypeError(f"network must be a pgm.BayesianNetwork, not {type(network).__name__}")
        if not isinstance(target, str) or target not in network:
            close = ([n for n in network.nodes if n.lower() == str(target).lower()]
                     or difflib.get_close_matches(str(target), list(network.nodes), n=3))
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise NodeError(f"the target {target!r} is not a node of the network{hint}")
        if not network[target].is_discrete:
            raise StructureError(f"the target {target!r} is continuous; a classifier's target must be a discrete node")
        if network[target].latent:
            raise StructureError(f"the target {target!r} is latent; a classifier's target must be an observed node")
        return network, target

    if _SKLEARN_VERSION >= (1, 6):
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.input_tags.allow_nan = True
            tags.input_tags.categorical = True
            tags.input_tags.string = True
            return tags
    else:  # pragma: no cover - scikit-learn before 1.6 reads tags from _more_tags
        def _more_tags(self):
            # not X_types "categorical": these versions' checks then make X integer and cannot insert NaN
            return {"allow_nan": True}


# ---------------------------------------------------------------------------- exact posterior from the blanket
class _BlanketPlan:
    """p(target | row) from the CPDs that mention the target, for rows that observe its whole Markov blanket.

    Given its Markov blanket the target is independent of every other node,
    and ``p(target, blanket)`` is proportional (in the target) to the product
    of the target's CPD and its children's CPDs.  Each factor's log values
    for every class come from one gather per factor, or, for children whose
    only parent is the target, from one matrix product over all of them
    together (the indicator of each non-first state times the log-ratio to
    the first state), so the cost is that of scikit-learn's naive Bayes.
    """

    def __init__(self, network, target: str):
        self.target = target
        self.n_classes = len(network.states(target))
        self.blanket = tuple(sorted(network.markov_blanket(target)))
        self.gathers, self.densities = [], []
        by_shape = {}  # children whose only parent is the target, grouped by table shape, to stack their tables
        for node in [target] + list(network.children(target)):
            cpd = network[node]
            if not cpd.is_discrete or getattr(cpd, "table_shape", ()) is None:  # no table: score by log_prob
                self.densities.append((node, cpd))
            elif node != target and tuple(cpd.parents) == (target,):
                by_shape.setdefault(cpd.table.shape, []).append(node)
            else:
                self.gathers.append(_Gather(network, node, target))
        simple, ratios, child_of, state_of, self.base = [], [], [], [], 0.0
        for (_, r), nodes in by_shape.items():
            with np.errstate(divide="ignore"):
                logs = np.log(np.stack([network[node].table for node in nodes]))  # (children, classes, states)
            finite = np.isfinite(logs).all(axis=(1, 2))
            # a zero probability would make the log-ratios infinite: such children are gathered instead
            self.gathers += [_Gather(network, node, target) for node, ok in zip(nodes, finite) if not ok]
            logs = logs[finite]
            first = len(simple)
            simple += [node for node, ok in zip(nodes, finite) if ok]
            self.base = self.base + logs[:, :, 0].sum(axis=0)
            ratios.append((logs[:, :, 1:] - logs[:, :, :1]).transpose(0, 2, 1).reshape(-1, self.n_classes))
            child_of.append(np.repeat(np.arange(first, len(simple)), r - 1))
            state_of.append(np.tile(np.arange(1, r), len(simple) - first))
        self.simple_nodes = tuple(simple)
        if simple:
            self.ratios = np.concatenate(ratios)  # one row per (child, state other than the first)
            self.child_of, self.state_of = np.concatenate(child_of), np.concatenate(state_of)
            self.all_binary = bool((self.state_of == 1).all())

    def complete_rows(self, columns: dict, n_rows: int) -> np.ndarray:
        complete = np.ones(n_rows, dtype=bool)
        known = getattr(columns, "complete", ())
        for node in self.blanket:
            if node in known:
                continue
            column = columns.get(node)
            if column is None:
                complete[:] = False
                break
            complete &= ~np.isnan(column) if column.dtype.kind == "f" else column >= 0
        return complete

    def log_posterior(self, columns: dict, n_rows: int, labels) -> np.ndarray:
        joint = np.zeros((n_rows, self.n_classes))
        if self.simple_nodes:
            codes = (columns.matrix(self.simple_nodes) if isinstance(columns, _Columns)
                     else np.column_stack([columns[node] for node in self.simple_nodes]))
            indicators = codes if self.all_binary else codes[:, self.child_of] == self.state_of
            joint += indicators.astype(np.float64) @ self.ratios
            joint += self.base
        for gather in self.gathers:
            joint += gather(columns, n_rows)
        for node, cpd in self.densities:
            parents = {p: columns[p] for p in cpd.parents if p != self.target}
            for state in range(self.n_classes):
                varied = np.full(n_rows, state, dtype=np.intp)
                if self.target in cpd.parents:
                    parents[self.target] = varied
                # the target's own CPD when it has no table (a softmax of continuous features)
                joint[:, state] += cpd.log_prob(varied if node == self.target else columns[node], parents)
        best = joint.max(axis=1, keepdims=True)
        impossible = np.isneginf(best[:, 0])
        if impossible.any():
            first = int(np.argmax(impossible))
            raise ImpossibleEvidenceError(
                f"{Dataset({}, n_rows, labels).describe_row(first)} has probability zero under the network for every "
                f"state of {self.target!r}, so its class posterior is undefined ({int(impossible.sum())} such row(s))"
            )
        joint -= best
        joint -= np.log(np.exp(joint).sum(axis=1, keepdims=True))
        return joint


class _Gather:
    """One discrete CPD's log values for every target state: ``log p(node | parents)`` with the target varied."""

    def __init__(self, network, node, target):
        cpd = network[node]
        axes = tuple(cpd.parents) + (node,)
        with np.errstate(divide="ignore"):
            log_table = np.log(np.asarray(cpd.table))
        self.flat = log_table.ravel()
        strides = np.cumprod((log_table.shape[1:] + (1,))[::-1])[::-1]
        self.observed = [(name, int(stride)) for name, stride in zip(axes, strides) if name != target]
        self.target_offsets = np.arange(log_table.shape[axes.index(target)]) * int(strides[axes.index(target)])

    def __call__(self, columns, n_rows):
        offset = np.zeros(n_rows, dtype=np.intp)
        for name, stride in self.observed:
            offset += columns[name].astype(np.intp) * stride
        return self.flat[offset[:, None] + self.target_offsets[None, :]]


# ---------------------------------------------------------------------------- reading X and y
def _subset_labels(labels, mask):
    return None if labels is None else labels[mask]


def _unknown_column(name, network, target, allowed) -> DataError:
    if name == target:
        return DataError(f"X has a column for the target {target!r}; pass the labels as y, not in X")
    if name in network and network[name].latent:
        return DataError(f"X has a column for {name!r}, which is declared latent and has no data")
    close = difflib.get_close_matches(str(name), [str(a) for a in allowed], n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return DataError(f"X has a column {name!r}, which is not a feature node of the network{hint}")


def _read_X(X, network, target, features, *, fitting: bool):
    """``(column names, {node: codes or values}, row labels, number of rows)`` for the features ``X`` holds."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError("X is a sparse matrix; BayesianNetworkClassifier takes dense data (X.toarray())")
    expected = list(features)
    if isinstance(X, pd.DataFrame) and all(isinstance(name, str) for name in X.columns):
        names = list(X.columns)
        for name in names:
            if name not in expected:
                raise _unknown_column(name, network, target, expected)
        if len(set(names)) != len(names):
            raise DataError(f"X has more than one column named {next(n for n in names if names.count(n) > 1)!r}")
        if not fitting and set(names) != set(expected):
            absent = [n for n in expected if n not in names]
            raise DataError(f"X has no column {absent[0]!r}, which the classifier was fitted with; "
                            f"its columns must be {expected}")
        _require_rows(len(X))
        return names, _frame_columns(X, network, names), X.index, len(X)
    if isinstance(X, pd.DataFrame):  # columns without names: by position, as an array's
        _require_shape(X.shape, expected)
        frame = X.set_axis(expected, axis=1)
        return expected, _frame_columns(frame, network, expected), X.index, len(X)
    array = np.asarray(X)
    _require_shape(array.shape, expected)
    return expected, _array_columns(array, network, expected), None, array.shape[0]


class _Columns(dict):
    """Each feature's codes or values, by node; ``blocks`` keeps the 2-D arrays that columns are views of.

    A block of codes serves the posterior's matrix product as it is, without
    stacking its columns again.
    """

    def __init__(self):
        super().__init__()
        self.blocks: list[tuple[tuple, np.ndarray]] = []
        self.complete: set = set()  # nodes known to have no missing value

    def add_block(self, names, block: np.ndarray) -> None:
        self.blocks.append((tuple(names), block))
        self.update({name: block[:, i] for i, name in enumerate(names)})
        if not block.size or (not np.isnan(block.min()) if block.dtype.kind == "f" else block.min() >= 0):
            self.complete.update(names)

    def matrix(self, names: tuple) -> np.ndarray:
        """The columns of ``names`` side by side (rows x names)."""
        for block_names, block in self.blocks:
            if block_names == names:
                return block
        return np.column_stack([self[name] for name in names])


def _require_rows(n_rows: int) -> None:
    if n_rows == 0:
        raise ValueError("X has no rows (0 samples)")


def _require_shape(shape, expected) -> None:
    if len(shape) != 2:
        raise ValueError(f"X must be 2-D (rows x features), got an array of shape {shape}; Reshape your data: "
                         "X.reshape(1, -1) for one row, X.reshape(-1, 1) for one feature")
    _require_rows(shape[0])
    if shape[1] != len(expected):
        shown = expected if len(expected) <= 8 else expected[:8] + ["..."]
        raise ValueError(f"X has {shape[1]} columns, but the {len(expected)} features are {shown}")


def _array_columns(array: np.ndarray, network, names) -> _Columns:
    columns = _Columns()
    kind = array.dtype.kind
    if kind == "b":
        raise DataError(f"X holds booleans, which match no state; pass integers (X.astype(int)) to match states "
                        f"such as '0' and '1' (column {names[0]!r})")
    if kind in "iuf":
        groups = {}
        for j, name in enumerate(names):
            states = network[name].domain
            groups.setdefault(states, []).append(j)
        for states, positions in groups.items():
            block = array if positions == list(range(array.shape[1])) else array[:, positions]
            labels = [names[j] for j in positions]
            if states is None:
                values = block.astype(np.float64)
                _refuse_infinite(values, labels, positions, None)
                columns.add_block(labels, np.asfortranarray(values))
            else:
                columns.add_block(labels, _numeric_codes(block, states, labels, positions, None))
        return columns
    for j, name in enumerate(names):
        columns[name] = _column(array[:, j], network[name].domain, name, None)
    return columns


def _frame_columns(frame: pd.DataFrame, network, names) -> _Columns:
    columns, numeric = _Columns(), {}
    for name in names:
        series = frame[name]
        states = network[name].domain
        if series.dtype.kind in "iuf" and not isinstance(series.dtype, pd.CategoricalDtype):
            numeric.setdefault(states, []).append(name)
        else:
            columns[name] = _column(series, states, name, frame.index)
    for states, group in numeric.items():
        part = frame[group]
        if states is not None and all(isinstance(dtype, np.dtype) for dtype in part.dtypes):
            block = part.to_numpy()  # integers stay integers, so that a message shows the value as given
        else:  # values, and pandas' nullable numbers, whose <NA> becomes NaN
            block = part.to_numpy(dtype=np.float64, na_value=np.nan)
        if states is None:
            _refuse_infinite(block, group, None, frame.index)
            columns.add_block(group, np.asfortranarray(block))
        else:
            columns.add_block(group, _numeric_codes(block, states, group, None, frame.index))
    return columns


def _refuse_infinite(values: np.ndarray, labels, positions, row_labels) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        row, col = np.argwhere(infinite)[0]
        where = Dataset({}, values.shape[0], row_labels).describe_row(int(row))
        raise DataError(f"X {_where(labels, positions, col)}, {where}: {values[row, col]} is not a finite value")


def _where(labels, positions, col) -> str:
    return f"column {labels[col]!r}" if positions is None else f"column {positions[col]} ({labels[col]!r})"


def _column(values, states, name: str, row_labels) -> np.ndarray:
    """One column that is not a plain numeric array: categorical, object, strings."""
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object if
                                                                    np.asarray(values).dtype.kind == "O" else None)
    if states is None:
        return to_dataset({name: series.to_numpy(dtype=object) if series.dtype == object else series},
                          {name: None}).columns[name]
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = series.cat.categories
        if list(categories) == list(states):
            return series.cat.codes.to_numpy().astype(code_dtype(len(states)))
        table = _column(pd.Series(np.asarray(categories, dtype=object), dtype=object), states, name, None)
        codes = series.cat.codes.to_numpy()
        return np.where(codes >= 0, table[codes], -1).astype(code_dtype(len(states)))
    if series.dtype.kind == "b":
        raise DataError(f"X column {name!r} holds booleans, which match no state; pass integers to match states "
                        "such as '0' and '1'")
    objects = series.to_numpy(dtype=object)
    kind = pd.api.types.infer_dtype(objects, skipna=True)
    if kind in ("integer", "floating", "mixed-integer-float"):
        numbers = pd.Series(objects, dtype=object).where(pd.notna(objects), np.nan).astype(np.float64).to_numpy()
        return _numeric_codes(numbers[:, None], states, [name], None, row_labels)[:, 0]
    if kind == "boolean":
        raise DataError(f"X column {name!r} holds booleans, which match no state; pass integers to match states "
                        "such as '0' and '1'")
    # strings: matched to the states exactly, as everywhere in pgm (pgm.data names the first bad value)
    return to_dataset({name: pd.Series(objects, index=row_labels, dtype=object)}, {name: states}).columns[name]


@functools.lru_cache(maxsize=256)
def _numbered(states: tuple) -> bool:
    """Whether the states are "0", "1", ..., "k-1", so that a number is its own code."""
    return states == tuple(str(i) for i in range(len(states)))


def _integer_states(states) -> dict:
    """state code of each state written as a decimal integer, keyed by that integer."""
    return {int(s): code for code, s in enumerate(states) if _INTEGER_TEXT.fullmatch(s)}


def _numeric_codes(block: np.ndarray, states, labels, positions, row_labels, source: str = "X") -> np.ndarray:
    """Codes of numeric entries under the adapter's convention: ``v`` matches the state ``str(int(v))``.

    The codes come column-major, so that each column (a node's data) is contiguous.
    """
    k = len(states)
    dtype = code_dtype(k)
    numbered = _numbered(tuple(states))
    if numbered:
        # states "0", "1", ..., "k-1": the value is the code.  One cast and two comparisons accept every
        # block without missing values or strays; a value out of the type's range casts to some number that
        # differs from it.  Anything else takes the checked path below, which also words the error.
        with np.errstate(invalid="ignore"):
            codes = block.astype(dtype)
        fine = codes == block
        fine &= codes.view(f"u{codes.itemsize}") < k
        if fine.all():
            return np.asfortranarray(codes)
    missing = not_integer = None
    if block.dtype.kind == "f":
        missing = np.isnan(block)
        if missing.any():
            filled = np.where(missing, 0.0, block)
        else:
            filled, missing = block, None
        with np.errstate(invalid="ignore"):  # inf and huge values convert to garbage, caught just below
            integers = filled.astype(np.int64, order="F")
        not_integer = integers != filled
    else:
        integers = block.astype(np.int64, order="F")
    if numbered:
        unmatched = integers.view(np.uint64) >= k  # negative values wrap around to huge ones
        codes = integers.astype(dtype, order="F")
    else:
        lookup = _integer_states(states)
        keys = np.array(sorted(lookup), dtype=np.int64)
        by_key = np.array([lookup[key] for key in keys.tolist()] or [0], dtype=dtype)
        at = np.clip(np.searchsorted(keys, integers), 0, max(len(keys) - 1, 0))
        unmatched = keys[at] != integers if len(keys) else np.ones(integers.shape, dtype=bool)
        codes = np.asfortranarray(by_key[at])
    bad = unmatched
    if missing is not None:
        bad &= ~missing
    if not_integer is not None:
        bad |= not_integer
    if bad.any():
        row, col = np.argwhere(bad)[0]
        value = block[row, col].item()
        where = Dataset({}, block.shape[0], row_labels).describe_row(int(row))
        name = labels[col]
        written = [s for s in states if _INTEGER_TEXT.fullmatch(s)]
        rule = (f"a number matches the state written as that integer ({', '.join(map(repr, written[:4]))}"
                f"{', ...' if len(written) > 4 else ''})" if written else
                "a number matches only states written as decimal integers, and it has none")
        place = "y" if source == "y" else f"X {_where(labels, positions, col)}"
        raise DataError(f"{place}, {where}: {value!r} is not a state of {name!r}; {rule}; its states are {list(states)}")
    if missing is not None:
        codes[missing] = -1
    return codes


def _read_y(y, network, target: str, n_rows: int):
    """The labels as codes of the target's states, and ``classes_`` in the form of ``y``."""
    states = network.states(target)
    values = column_or_1d(y, warn=True)
    if len(values) != n_rows:
        raise ValueError(f"y has {len(values)} labels but X has {n_rows} rows")
    kind = values.dtype.kind
    if kind == "O" and pd.api.types.infer_dtype(values, skipna=True) in ("integer", "floating", "mixed-integer-float"):
        values = pd.Series(values, dtype=object).where(pd.notna(values), np.nan).astype(np.float64).to_numpy()
        kind = "f"
    if kind == "b" or (kind == "O" and pd.api.types.infer_dtype(values, skipna=True) == "boolean"):
        raise DataError(f"y holds booleans, which match no state of {target!r}; pass the states {list(states)} "
                        "or integers")
    if kind in "iuf":
        if kind == "f":
            missing = np.isnan(values)
            if missing.any():
                raise DataError(f"y has a missing label at row {int(np.argmax(missing))}; every row needs its class")
            fractional = ~np.isfinite(values) | (values != np.floor(np.where(np.isfinite(values), values, 0.0)))
            if fractional.any():
                row = int(np.argmax(fractional))
                # scikit-learn's checks recognise a regression target by "Unknown label type"
                raise DataError(f"Unknown label type: continuous; y, row {row}: {values[row].item()!r} is not an "
                                f"integer, so it names no state of {target!r} ({list(states)})")
        not_written = [s for s in states if not _INTEGER_TEXT.fullmatch(s)]
        if not_written:
            raise DataError(f"y is numeric, but the state {not_written[0]!r} of {target!r} is not written as a "
                            f"decimal integer, so numbers cannot name the classes; pass y as the states {list(states)}")
        codes = _numeric_codes(values[:, None], states, [target], None, None, source="y")[:, 0]
        return codes, np.array([int(s) for s in states], dtype=np.int64)
    objects = values.astype(object)
    missing = pd.isna(objects)
    if missing.any():
        raise DataError(f"y has a missing label at row {int(np.argmax(missing))}; every row needs its class")
    codes = pd.Index(list(states), dtype=object).get_indexer(objects)
    if (codes < 0).any():
        row = int(np.argmax(codes < 0))
        raise DataError(f"y, row {row}: {objects[row]!r} is not a state of {target!r}; its states are {list(states)}")
    return codes.astype(code_dtype(len(states))), np.array(states, dtype=object)


def _evidence_frame(network, columns: dict, labels, n_rows: int) -> pd.DataFrame:
    """The rows as a DataFrame pgm's inference reads without conversion: categoricals of the states, floats."""
    data = {}
    for node, column in columns.items():
        states = network[node].domain
        data[node] = column if states is None else pd.Categorical.from_codes(
            column, dtype=pd.CategoricalDtype(list(states)), validate=False)
    return pd.DataFrame(data, index=labels if labels is not None else pd.RangeIndex(n_rows), copy=False)
