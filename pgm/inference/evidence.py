"""Evidence for inference: one case or many, hard or soft, as columns.

Two forms are accepted.

*One case* -- a dict (or a pandas Series, one row) whose values are single
values: a state of a discrete node, a number for a continuous node, ``None`` or
NaN for "not observed", or a dict ``{state: weight}`` giving *soft* (virtual)
evidence, a likelihood vector over the node's states.

*Many cases* -- a DataFrame, or a dict of equal-length columns, one case per
row.  Missing values (NaN, None, ``pd.NA``) and absent columns are unobserved;
every row may miss different values.

Either way, evidence becomes columns -- integer codes with ``-1`` for missing,
float64 with NaN for missing -- through :func:`pgm.data.to_dataset`, the one
data boundary, so the same values are accepted and refused as everywhere else.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pgm.data import Dataset, code_dtype, state_index, to_dataset
from pgm.errors import DataError, NodeError

__all__ = ["Evidence", "as_evidence"]


@dataclass
class Evidence:
    """Evidence as columns over the network's nodes.

    Attributes
    ----------
    n_rows : int
        Number of cases (1 for one case).
    batched : bool
        Whether the caller gave many cases (results then come back per row).
    codes : dict of str to ndarray
        Discrete nodes with a column: codes, -1 where unobserved.
    values : dict of str to ndarray
        Continuous nodes with a column: float64, NaN where unobserved.
    soft : dict of str to ndarray
        One case only: a likelihood vector over the node's states.
    index : pandas.Index or None
        The caller's row labels (batched DataFrame input).
    """

    n_rows: int
    batched: bool
    codes: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    soft: dict = field(default_factory=dict)
    index: pd.Index | None = None

    def observed_somewhere(self) -> set[str]:
        """Nodes observed (or softly observed) in at least one row."""
        nodes = {n for n, c in self.codes.items() if (c >= 0).any()}
        nodes |= {n for n, v in self.values.items() if (~np.isnan(v)).any()}
        return nodes | set(self.soft)

    def constant_codes(self) -> dict[str, int]:
        """Discrete nodes observed in every row with the same state: node -> code."""
        out = {}
        for node, codes in self.codes.items():
            if len(codes) and codes[0] >= 0 and (codes == codes[0]).all():
                out[node] = int(codes[0])
        return out

    def rows(self, rows: slice) -> "Evidence":
        return Evidence(
            len(range(*rows.indices(self.n_rows))), self.batched,
            {k: v[rows] for k, v in self.codes.items()}, {k: v[rows] for k, v in self.values.items()},
            self.soft, None if self.index is None else self.index[rows],
        )

    def describe_row(self, position: int) -> str:
        if not self.batched:
            return "the evidence"
        return Dataset({}, self.n_rows, self.index).describe_row(position)

    def hard_assignment(self, network) -> dict[str, object]:
        """One case: node -> observed state or value (soft evidence excluded)."""
        out = {}
        for node, codes in self.codes.items():
            if codes[0] >= 0:
                out[node] = network.states(node)[int(codes[0])]
        for node, values in self.values.items():
            if not np.isnan(values[0]):
                out[node] = float(values[0])
        return out


def _is_single_value(value) -> bool:
    return (
        value is None
        or isinstance(value, (str, numbers.Number, np.generic, Mapping))
        or value is pd.NA
        or (np.ndim(value) == 0 and not isinstance(value, (list, tuple)))
    )


def is_single_case(evidence) -> bool:
    """Whether ``evidence`` is one case (see the module docstring)."""
    if evidence is None or isinstance(evidence, pd.Series):
        return True
    if isinstance(evidence, pd.DataFrame):
        return False
    if isinstance(evidence, Mapping):
        return all(_is_single_value(v) for v in evidence.values())
    raise TypeError(
        "evidence must be a dict (one case), a pandas Series (one case) or a DataFrame / dict of columns "
        f"(many cases), not {type(evidence).__name__}"
    )


def _unknown_node(network, node) -> NodeError:
    close = difflib.get_close_matches(str(node), list(network.nodes), n=3)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return NodeError(f"evidence names {node!r}, which is not a node of the network{hint}")


def _soft_vector(network, node: str, weights: Mapping) -> np.ndarray:
    cpd = network[node]
    if not cpd.is_discrete:
        raise DataError(f"soft evidence on {node!r}: only discrete nodes take a likelihood vector over states")
    states = cpd.domain
    for state in weights:
        if state_index(state, states) < 0:
            raise DataError(
                f"soft evidence on {node!r} names {state!r}, which is not one of its states {list(states)}"
            )
    missing = [s for s in states if s not in weights]
    if missing:
        raise DataError(
            f"soft evidence on {node!r} gives no weight for state {missing[0]!r}; give one weight per state "
            f"{list(states)} (0 rules a state out)"
        )
    vector = np.array([weights[s] for s in states], dtype=np.float64)
    bad = ~np.isfinite(vector) | (vector < 0)
    if bad.any():
        state = states[int(np.argmax(bad))]
        raise DataError(
            f"soft evidence on {node!r} gives state {state!r} the weight {float(vector[np.argmax(bad)])!r}; "
            "weights must be finite and non-negative"
        )
    if not (vector > 0).any():
        raise DataError(f"soft evidence on {node!r} gives every state weight 0, so p(evidence) = 0")
    return vector


def _warn_misspelled_columns(network, columns) -> None:
    """A column that is not a node but looks like one that has no column is probably misspelled: say so.

    Other columns (an id, the label being predicted) are ignored silently, as the single-case dict cannot
    do (there every key must be a node).
    """
    import warnings

    from pgm.errors import PGMWarning

    unmatched = [n for n in network.nodes if n not in columns]
    for column in columns:
        if column in network or not isinstance(column, str):
            continue
        close = difflib.get_close_matches(column, unmatched, n=1, cutoff=0.7)
        if close:
            warnings.warn(f"the evidence's column {column!r} is not a node and is ignored; did you mean "
                          f"{close[0]!r}?", PGMWarning, stacklevel=6)


def as_evidence(network, evidence) -> Evidence:
    """Turn the caller's evidence into :class:`Evidence` (see the module docstring)."""
    if evidence is None:
        return Evidence(1, False)
    if is_single_case(evidence):
        return _single_case(network, evidence)
    return _many_cases(network, evidence)


def _same_but_for_case(value, states) -> str:
    """``; did you mean 'yes'?`` when exactly one state differs from the value only in case (``YES``)."""
    close = [state for state in states if str(state).casefold() == str(value).casefold()]
    return f"; did you mean {close[0]!r}?" if len(close) == 1 else ""


def _single_case(network, evidence) -> Evidence:
    if isinstance(evidence, pd.Series):
        evidence = evidence.to_dict()
    result = Evidence(1, False)
    for node, value in evidence.items():
        if node not in network:
            raise _unknown_node(network, node)
        cpd = network[node]
        if isinstance(value, Mapping):
            result.soft[node] = _soft_vector(network, node, value)
            continue
        if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and np.isnan(value)):
            continue
        if cpd.is_discrete:
            position = state_index(value, cpd.domain)
            if position < 0:
                raise DataError(
                    f"evidence {node}={value!r}: {value!r} is not a state of {node!r}; its states are {list(cpd.domain)}"
                    + _same_but_for_case(value, cpd.domain))
            result.codes[node] = np.array([position], dtype=code_dtype(len(cpd.domain)))
        else:
            if not isinstance(value, (numbers.Real, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
                raise DataError(f"evidence {node}={value!r}: {node!r} is continuous, so its value must be a number")
            if not np.isfinite(value):
                raise DataError(f"evidence {node}={value!r}: the value must be finite")
            result.values[node] = np.array([float(value)])
    return result


def _many_cases(network, evidence) -> Evidence:
    if isinstance(evidence, Mapping) and any(isinstance(v, pd.Series) for v in evidence.values()):
        evidence = pd.DataFrame(dict(evidence))  # Series are matched by their index, as pandas does
    if isinstance(evidence, pd.DataFrame) or isinstance(evidence, Mapping):
        _warn_misspelled_columns(network, list(evidence.keys() if isinstance(evidence, Mapping) else evidence.columns))
    if isinstance(evidence, pd.DataFrame):
        present = [c for c in evidence.columns if c in network]
        index = evidence.index
    else:
        present = [c for c in evidence if c in network]
        index = None
    dataset = to_dataset(evidence, {node: network[node].domain for node in present})
    result = Evidence(dataset.n_rows, True, index=index)
    for node in present:
        column = dataset.columns[node]
        if network[node].is_discrete:
            result.codes[node] = column
        else:
            result.values[node] = column
    return result


def restricted_table(cpd, node: str, observed: dict) -> tuple[list, np.ndarray]:
    """A discrete CPD as a factor with the ``observed`` variables (node -> code) fixed: (scope, table)."""
    scope = list(cpd.parents) + [node]
    table = np.asarray(cpd.table)
    for axis in range(len(scope) - 1, -1, -1):
        if scope[axis] in observed:
            table = table.take(observed[scope[axis]], axis=axis)
            del scope[axis]
    return scope, table


def likelihood_vectors(codes: np.ndarray, n_states: int) -> np.ndarray:
    """Per-row likelihood vectors, shape (n_states, n_rows): one-hot where observed, ones where missing."""
    states = np.arange(n_states, dtype=code_dtype(n_states))[:, None]
    return ((codes[None, :] == states) | (codes[None, :] < 0)).astype(np.float64)
