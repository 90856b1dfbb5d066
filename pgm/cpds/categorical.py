"""Tabular conditional distributions of discrete nodes: :class:`Categorical` and :func:`Bernoulli`.

The table has one axis per parent, in the order the parents are listed, and a
last axis over the node's own states; every row (fixing all parent states)
sums to one.  A parent configuration's *row index* is the row-major position
of its parent codes, so the table viewed as ``(n_configurations, k)`` is a
plain reshape.

Sufficient statistics are the count table of the same shape: the (weighted)
number of rows with each parent configuration and child state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pgm.cpds.base import (
    CPD,
    configuration_label,
    discrete_configuration_index,
    family_count_table,
)
from pgm.data import code_dtype, state_kind
from pgm.errors import CPDError, StructureError

__all__ = ["Categorical", "Bernoulli", "ROW_SUM_TOLERANCE"]

#: How far a row of probabilities may stray from summing to one.  Published
#: networks round their tables (alarm.bif rows sum to 1 +- 1e-7).
ROW_SUM_TOLERANCE = 1e-6


def _as_names(values, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of names, not the single string {values!r}")
    names = tuple(values)
    for name in names:
        if not isinstance(name, str) or not name:
            raise CPDError(f"{what} must be non-empty strings, got {name!r}")
    if len(set(names)) != len(names):
        dup = next(s for s in names if names.count(s) > 1)
        raise CPDError(f"{what} contain {dup!r} more than once")
    return names


def _as_states(values) -> tuple:
    """A node's states: all non-empty strings, all integers or all booleans (NumPy scalars become Python ones)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"states must be a sequence of states, not the single string {values!r}")
    states = []
    for value in values:
        if isinstance(value, (bool, np.bool_)):
            states.append(bool(value))
        elif isinstance(value, (int, np.integer)):
            states.append(int(value))
        elif isinstance(value, str) and value:
            states.append(value)
        else:
            raise CPDError(f"states must be non-empty strings, integers or booleans, got {value!r}")
    kinds = {state_kind(s) for s in states}
    if len(kinds) > 1:
        raise CPDError(
            f"the states {states!r} mix {' and '.join(sorted(kinds))}; a node's states must all be of one kind, "
            "so that data values match them unambiguously"
        )
    # True == 1 in Python, but a node's states are of one kind, so equality is safe here
    if len(set(states)) != len(states):
        dup = next(s for s in states if states.count(s) > 1)
        raise CPDError(f"states contain {dup!r} more than once")
    return tuple(states)


class Categorical(CPD):
    """A discrete node's distribution given discrete parents, as a table.

    Parameters
    ----------
    states : sequence of str, int or bool
        The node's states, in order: all strings, all integers or all
        booleans.  Data must hold the same values (``1`` matches the state
        ``1``; the text ``"1"`` does not, unless converted with
        :meth:`pgm.BayesianNetwork.coerce`).
    parents : sequence of str, optional
        Parent node names; their order is the order of the table's axes.
    table : array-like or dict, optional
        Omitted: the node has no parameters yet and must be fitted (see
        :meth:`pgm.BayesianNetwork.fit`); :meth:`latent` declares a node that
        is never observed.  Otherwise either an array of shape ``(*parent_cardinalities, len(states))`` (or
        ``(n_configurations, len(states))``, configurations in row-major order),
        or a dict mapping each parent configuration -- a tuple of parent states,
        or one state when there is a single parent -- to the probabilities of
        ``states``.  Every row must sum to one.

    Examples
    --------
    >>> from pgm import BayesianNetwork, Categorical
    >>> net = BayesianNetwork()
    >>> net.add("cloudy", Categorical(["no", "yes"], table=[0.5, 0.5]))
    >>> net.add("rain", Categorical(["no", "yes"], parents=["cloudy"],
    ...                             table={"no": [0.8, 0.2], "yes": [0.2, 0.8]}))
    >>> net["rain"].table
    array([[0.8, 0.2],
           [0.2, 0.8]])
    """

    family = "categorical"
    is_discrete = True

    def __init__(self, states: Sequence, *, parents: Sequence[str] = (), table=None):
        self.states = _as_states(states)
        if not self.states:
            raise CPDError("a categorical node needs at least one state")
        self.parents = _as_names(parents, "parents")
        self.variable = None
        self.latent = False
        self._spec = table
        self._table = None  # checked and set when the CPD is bound to a node

    @classmethod
    def latent(cls, states: Sequence[str], *, parents: Sequence[str] = ()) -> "Categorical":
        """A latent (never observed) discrete node with these states and no table yet.

        Fitting the network runs EM to estimate its table and its children's.

        Examples
        --------
        >>> import pgm
        >>> z = pgm.Categorical.latent(["a", "b"])
        >>> z.latent, z.is_fitted
        (True, False)
        """
        cpd = cls(states, parents=parents)
        cpd.latent = True
        return cpd

    @property
    def is_fitted(self) -> bool:
        return self._spec is not None if self.variable is None else self._table is not None

    @property
    def table_shape(self) -> tuple[int, ...]:
        """``(*parent_cardinalities, n_states)``: the shape of the table and of the count statistics."""
        self._require_bound("table_shape")
        return self._table_shape

    # ------------------------------------------------------------------ binding
    @property
    def domain(self) -> tuple[str, ...]:
        return self.states

    @property
    def table(self) -> np.ndarray:
        """The probabilities, shape ``(*parent_cardinalities, n_states)``, read-only."""
        self._require_bound("table")
        self._require_fitted("reading its table")
        return self._table

    def bind(self, variable: str, parent_domains: Mapping[str, tuple | None]) -> "Categorical":
        domains = []
        for p in self.parents:
            if parent_domains[p] is None:
                raise StructureError(
                    f"node {variable!r} is discrete but its parent {p!r} is continuous; pgm supports "
                    "discrete tables with discrete parents, and continuous nodes with any parents; for a discrete "
                    "node of continuous parents declare it as a Softmax (or Logistic) CPD"
                )
            domains.append(tuple(parent_domains[p]))
        table = None if self._spec is None else self._table_from_spec(variable, domains)
        return self._bound_copy(variable, domains, table)

    def _bound_copy(self, variable: str, domains, table: np.ndarray, *, normalised: bool = False) -> "Categorical":
        bound = object.__new__(type(self))
        bound.states, bound.parents, bound.variable = self.states, self.parents, variable
        bound.parent_states = tuple(domains)
        bound._table_shape = tuple(len(d) for d in bound.parent_states) + (len(self.states),)
        bound.latent = self.latent
        if table is None:  # declared without parameters: structure only, until fitted
            bound._table = bound._spec = None
            return bound
        table = table if normalised else np.array(table, dtype=np.float64)  # private copy
        # Published networks round their rows (sums 1 +- 1e-7).  Such rows are
        # stored divided by their sum, so that the network is a distribution
        # and marginals computed by summing out nodes agree with the joint;
        # rows that already sum to 1 up to rounding are kept bit for bit.
        sums = None if normalised else table.sum(axis=-1, keepdims=True)
        if sums is not None and table.size and np.any(np.abs(sums - 1.0) > 1e-12):
            table = np.where(np.abs(sums - 1.0) > 1e-12, table / np.where(sums > 0, sums, 1.0), table)
        table.setflags(write=False)
        bound._table = table
        bound._spec = table  # so that a bound CPD can be bound again, e.g. in another network
        bound._log_flat_cache = bound._thresholds_cache = None  # derived on first use: fitting many tables stays cheap
        return bound

    @property
    def _log_flat(self) -> np.ndarray:
        """The log table, flattened: scoring looks rows up in it by ``configuration * k + state``."""
        if self._log_flat_cache is None:
            with np.errstate(divide="ignore"):
                self._log_flat_cache = np.log(self._table.reshape(-1, len(self.states))).ravel()
        return self._log_flat_cache

    @property
    def _thresholds(self) -> np.ndarray:
        """Thresholds for inverse-CDF sampling, shape ``(n_configurations, k - 1)``.

        Each row is drawn from its normalised row.  A state after which no
        mass remains gets threshold 1 so that u in [0, 1) never passes it:
        zero-probability states stay impossible despite rounding.
        """
        if self._thresholds_cache is None:
            flat = self._table.reshape(-1, len(self.states))
            cumulative = np.cumsum(flat, axis=1)
            cumulative /= cumulative[:, -1:]
            remaining = flat[:, ::-1].cumsum(axis=1)[:, ::-1]  # mass at or after each state
            self._thresholds_cache = np.ascontiguousarray(np.where(remaining[:, 1:] > 0, cumulative[:, :-1], 1.0))
        return self._thresholds_cache

    def _table_from_spec(self, variable: str, domains) -> np.ndarray:
        k = len(self.states)
        cards = tuple(len(d) for d in domains)
        expected = cards + (k,)
        spec = self._spec
        if isinstance(spec, Mapping):
            table = self._table_from_mapping(variable, spec, domains, expected)
        else:
            try:
                table = np.asarray(spec, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise CPDError(f"table of {variable!r} is not an array of numbers: {exc}") from None
            n_configs = int(np.prod(cards)) if cards else 1
            if table.shape != expected and table.shape == (n_configs, k) and len(cards) > 1:
                table = table.reshape(expected)
            if table.shape != expected:
                parents = ", ".join(f"{p} ({c} states)" for p, c in zip(self.parents, cards)) or "no parents"
                raise CPDError(
                    f"table of {variable!r} has shape {table.shape}, but with {parents} and {k} states "
                    f"of its own it must have shape {expected}"
                )
        self._check_probabilities(variable, table, domains)
        return table

    def _table_from_mapping(self, variable, spec, domains, expected) -> np.ndarray:
        if not domains:
            raise CPDError(
                f"table of {variable!r}: a node without parents takes its probabilities as a list, "
                f"one per state {list(self.states)}, not a dict"
            )
        table = np.zeros(expected)
        assigned = np.zeros(expected[:-1], dtype=bool)
        index = [{s: i for i, s in enumerate(d)} for d in domains]
        for key, row in spec.items():
            key_tuple = key if isinstance(key, tuple) else (key,)
            if len(key_tuple) != len(domains):
                raise CPDError(
                    f"table of {variable!r}: key {key!r} must give one state for each parent {list(self.parents)}"
                )
            position = []
            for parent, state, lookup in zip(self.parents, key_tuple, index):
                if state not in lookup:
                    raise CPDError(
                        f"table of {variable!r}: {state!r} is not a state of parent {parent!r} "
                        f"(states {list(lookup)})"
                    )
                position.append(lookup[state])
            row = np.asarray(row, dtype=np.float64)
            if row.shape != (len(self.states),):
                raise CPDError(
                    f"table of {variable!r}: row {key!r} has {row.size} probabilities for {len(self.states)} states"
                )
            if assigned[tuple(position)]:
                raise CPDError(f"table of {variable!r} gives the row {key!r} twice")
            table[tuple(position)] = row
            assigned[tuple(position)] = True
        if not assigned.all():
            config = int(np.flatnonzero(~assigned.ravel())[0])
            raise CPDError(
                f"table of {variable!r} has no row for parent configuration "
                f"{configuration_label(self.parents, domains, config)}"
            )
        return table

    def _check_probabilities(self, variable, table, domains) -> None:
        k = len(self.states)
        flat = table.reshape(-1, k)
        bad = ~np.isfinite(flat) | (flat < 0)
        if bad.any():
            config, state = divmod(int(np.flatnonzero(bad.ravel())[0]), k)
            where = configuration_label(self.parents, domains, config)
            raise CPDError(
                f"table of {variable!r} has probability {float(flat[config, state])!r} for state "
                f"{self.states[state]!r} at {where}; probabilities must be finite and non-negative"
            )
        sums = flat.sum(axis=1)
        off = np.abs(sums - 1.0) > ROW_SUM_TOLERANCE
        if off.any():
            config = int(np.argmax(off))
            where = configuration_label(self.parents, domains, config)
            raise CPDError(
                f"row {where} of the table of {variable!r} sums to {float(sums[config])!r}, not 1"
            )

    # ------------------------------------------------------------------ the protocol
    def _configurations(self, parents: Mapping[str, np.ndarray]):
        return discrete_configuration_index(parents, self.parents, [len(d) for d in self.parent_states])

    @property
    def n_configurations(self) -> int:
        """Number of parent configurations (rows of the table)."""
        self._require_bound("n_configurations")
        return int(np.prod(self.table_shape[:-1], dtype=np.int64))

    def log_prob(self, values, parents):
        self._require_bound("log_prob")
        self._require_fitted("scoring")
        configs = self._configurations(parents)
        if configs is None:
            return self._log_flat.take(values)
        flat = configs * len(self.states)
        flat += values
        return self._log_flat.take(flat)

    def sample(self, parents, n, rng, *, out=None):
        if out is not None:
            out[...] = self.sample(parents, n, rng)
            return out
        self._require_bound("sample")
        self._require_fitted("sampling")
        u = rng.random(n)
        configs = self._configurations(parents)
        thresholds = self._thresholds  # (n_configurations, k - 1), increasing along each row
        k = len(self.states)
        if configs is None:
            return np.searchsorted(thresholds[0], u, side="right").astype(code_dtype(k))
        if k <= 8:
            # the state is the number of thresholds at or below u: one pass per threshold
            codes = np.zeros(n, dtype=code_dtype(k))
            for j in range(k - 1):
                codes += u >= thresholds[:, j].take(configs)
            return codes
        # many states: bisection over each row's thresholds, log2(k) passes
        flat, low, high = thresholds.ravel(), np.zeros(n, dtype=np.intp), np.full(n, k - 1, dtype=np.intp)
        offset = configs * (k - 1)
        for _ in range(int(np.ceil(np.log2(k)))):
            middle = (low + high) // 2
            right = u >= flat.take(offset + np.minimum(middle, k - 2))
            right &= middle < high
            low = np.where(right, middle + 1, low)
            high = np.where(right, high, middle)
        return low.astype(code_dtype(k))

    def statistics(self, values, parents, weights=None):
        self._require_bound("statistics")
        return family_count_table(values, self._configurations(parents), self.table_shape, weights)

    def from_statistics(self, statistics):
        self._require_bound("from_statistics")
        counts = np.asarray(statistics, dtype=np.float64)
        if counts.shape != self.table_shape:
            raise CPDError(
                f"statistics of {self.variable!r} have shape {counts.shape}, expected {self.table_shape}"
            )
        totals = counts.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            table = np.where(totals > 0, counts / totals, 1.0 / len(self.states))
        # a fresh array whose rows are counts over their own sum: no copy, no renormalisation
        return self._bound_copy(self.variable, self.parent_states, table, normalised=True)

    def empty_configurations(self, statistics):
        totals = np.asarray(statistics).reshape(-1, len(self.states)).sum(axis=1)
        return [
            configuration_label(self.parents, self.parent_states, int(c)) for c in np.flatnonzero(totals <= 0)
        ]

    @property
    def n_free_parameters(self) -> int:
        self._require_bound("n_free_parameters")
        return self.n_configurations * (len(self.states) - 1)

    # ------------------------------------------------------------------ presentation
    def to_dict(self) -> dict:
        self._require_bound("to_dict")
        out = {
            "type": self.family,
            "states": list(self.states),
            "parents": list(self.parents),
            "table": self._table.tolist() if self.is_fitted else None,
        }
        if self.latent:
            out["latent"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Categorical":
        """Inverse of :meth:`to_dict` (unbound; bind by adding to a network)."""
        cpd = cls(data["states"], parents=data.get("parents", ()), table=data.get("table"))
        cpd.latent = bool(data.get("latent", False))
        return cpd

    def to_frame(self):
        """The table as a DataFrame: one row per parent configuration (labelled by parent states), one column per state.

        Examples
        --------
        >>> import pgm
        >>> print(pgm.load("cancer")["Xray"].to_frame())
        Xray    positive  negative
        Cancer                    
        True         0.9       0.1
        False        0.2       0.8
        """
        import pandas as pd

        self._require_bound("to_frame")
        k = len(self.states)
        if len(self.parents) > 1:
            index = pd.MultiIndex.from_product(self.parent_states, names=list(self.parents))
        elif self.parents:
            index = pd.Index(self.parent_states[0], name=self.parents[0])
        else:
            index = pd.Index([""], name="(no parents)")
        columns = pd.Index(self.states, name=self.variable)
        return pd.DataFrame(self.table.reshape(-1, k), index=index, columns=columns)

    def __str__(self) -> str:
        if not self.is_bound:
            return repr(self)
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        if not self.is_fitted:
            return f"p({self.variable}{given}): {len(self.states)} states {list(self.states)}, not fitted yet"
        return f"p({self.variable}{given})\n{self.to_frame().to_string()}"

    def _repr_html_(self) -> str:
        if not (self.is_bound and self.is_fitted):
            return f"<pre>{self}</pre>"
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        import html

        return f"<b>p({html.escape(str(self.variable))}{html.escape(given)})</b>" + self.to_frame().to_html()

    def describe(self) -> str:
        self._require_bound("describe")
        if not self.is_fitted:
            return f"Categorical over {len(self.states)} states, {'latent, ' if self.latent else ''}not fitted yet"
        if not self.parents:
            probs = ", ".join(f"{s}: {p:.4g}" for s, p in zip(self.states, self.table))
            return f"Categorical({probs})"
        return f"Categorical table, {self.n_configurations} rows x {len(self.states)} states"

    def describe_latex(self) -> str:
        self._require_bound("describe_latex")
        if not self.is_fitted:
            return "\\text{not fitted}"
        if not self.parents:
            probs = ", ".join(f"{p:.4g}" for p in self.table)
            return f"\\mathrm{{Cat}}({probs})"
        return f"\\text{{table: {self.n_configurations} rows}} \\times {len(self.states)}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Categorical):
            return NotImplemented
        same = (self.states, self.parents, self.variable, self.latent) == (
            other.states, other.parents, other.variable, other.latent)
        if not same or self.is_bound != other.is_bound or self.is_fitted != other.is_fitted:
            return False
        if not self.is_fitted:
            return True
        if self.is_bound:
            return np.array_equal(self._table, other._table)
        return _same_spec(self._spec, other._spec)

    __hash__ = None

    def __repr__(self) -> str:
        head = f"{self.variable!r}, " if self.variable else ""
        parents = f", parents={list(self.parents)}" if self.parents else ""
        status = ", latent" if self.latent else ""
        status += "" if self.is_fitted else ", not fitted"
        return f"Categorical({head}states={list(self.states)}{parents}{status})"


class Bernoulli(Categorical):
    """A two-state :class:`Categorical`; ``p`` is the probability of the SECOND state (``"true"`` by default).

    Parameters
    ----------
    p : float or array-like or dict
        P(second state); with parents, an array of shape ``(*parent_cardinalities,)``
        or a dict from parent configuration to a probability.
    states : pair of states, default ``("false", "true")``
        ``p`` is the probability of ``states[1]``; the repr says so.
    parents : sequence of str, optional

    Examples
    --------
    >>> from pgm import Bernoulli
    >>> coin = Bernoulli(0.3, states=["tails", "heads"])
    >>> coin
    Bernoulli(p('heads')=0.3, states=['tails', 'heads'])
    >>> coin.states
    ('tails', 'heads')
    """

    def __init__(self, p, *, states: Sequence = ("false", "true"), parents: Sequence[str] = ()):
        if isinstance(states, (str, bytes)) or len(tuple(states)) != 2:
            raise CPDError(f"a Bernoulli node has exactly two states, got {states!r}")
        if isinstance(p, Mapping):
            table = {key: _bernoulli_row(value) for key, value in p.items()}
        else:
            p = np.asarray(p, dtype=np.float64)
            table = np.stack([1.0 - p, p], axis=-1)
            bad = ~((p >= 0) & (p <= 1))
            if bad.any():
                raise CPDError(f"Bernoulli probability {float(p.ravel()[np.argmax(bad.ravel())])!r} is not in [0, 1]")
        super().__init__(states, parents=parents, table=table)

    def __repr__(self) -> str:
        head = f"{self.variable!r}, " if self.variable else ""
        second = self.states[1]
        if self.parents:
            return f"Bernoulli({head}p({second!r} | {', '.join(self.parents)}), states={list(self.states)})"
        p = float(self.table[1]) if self.is_bound else float(np.asarray(self._spec, dtype=np.float64)[1])
        return f"Bernoulli({head}p({second!r})={p:.4g}, states={list(self.states)})"


def _bernoulli_row(p) -> list[float]:
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise CPDError(f"Bernoulli probability {p!r} is not in [0, 1]")
    return [1.0 - p, p]


def _same_spec(first, second) -> bool:
    """Whether two table specifications (arrays or dicts of rows) hold the same numbers."""
    if isinstance(first, Mapping) or isinstance(second, Mapping):
        if not (isinstance(first, Mapping) and isinstance(second, Mapping)) or first.keys() != second.keys():
            return False
        return all(np.array_equal(np.asarray(first[key]), np.asarray(second[key])) for key in first)
    try:
        return np.array_equal(np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64))
    except (TypeError, ValueError):
        return False


def bound_table(variable, states, parents, parent_states, table) -> Categorical:
    """A bound Categorical holding ``table`` (normalised rows): the table view of a restricted CPD."""
    bound = Categorical(states, parents=parents).bind(variable, dict(zip(parents, parent_states)))
    return bound._bound_copy(variable, parent_states, table, normalised=True)
