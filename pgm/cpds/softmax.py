"""Softmax (multinomial logistic) CPDs: a discrete child of continuous and discrete parents.

A restricted parameterisation of a discrete node: instead of one row of
probabilities per parent configuration, the log-odds are linear in a design
vector ``phi`` built from the parents,

    p(y = j | parents) = exp(b_j + w_j . phi) / sum_l exp(b_l + w_l . phi)

where ``phi`` holds the node's *features* of its continuous parents (the
parents themselves by default, or any :mod:`pgm.cpds.features` basis such as
``polynomial("x", 2)``) followed by a one-hot code of each discrete parent
that drops the parent's first state (treatment coding, so the intercept is
identified).  With two states this is logistic regression; see
:func:`Logistic`.

Free parameters: ``(k - 1) (1 + d)`` for ``k`` states and ``d`` design
columns -- linear, not exponential, in the number of parents.

Fitting maximises the (weighted) log-likelihood, optionally minus the L2
penalty ``l2 / 2 * |W|^2`` on the weights (a zero-mean Gaussian prior of
precision ``l2``; intercepts are not penalised).  That is scikit-learn's
``LogisticRegression(C=1 / l2)`` with the multinomial loss.  The objective is
convex; it is minimised by L-BFGS (scipy) with its analytic gradient on
internally standardised columns.  The fitted parameters are stored centred
(every column of ``weights`` and the intercepts sum to zero over the states),
which is the penalised optimum itself and a canonical form without one.

Sufficient statistics:

- parents all discrete (and a table of at most ``TABLE_LIMIT`` entries): the count table ``(*parent_cardinalities, k)``, as for
  :class:`~pgm.cpds.Categorical` -- the likelihood depends on the data only
  through it, and EM's expected counts have the same shape, so EM with a
  softmax node is generalised EM with no change to the driver;
- a continuous parent (or too many discrete ones): there is no small summary, so the statistics are the
  weighted family data itself, one row per data row: ``k`` columns of
  (expected) weighted counts of the child's states, then the parents' values
  (discrete parents as codes).  Merging concatenates, so chunked and Dask
  fitting still work.

Examples
--------
>>> import numpy as np, pgm
>>> net = pgm.BayesianNetwork({
...     "x": pgm.Gaussian(0.0, 1.0),
...     "y": pgm.Logistic(parents=["x"], intercept=-1.0, weights=[2.0], states=["no", "yes"])})
>>> p = net["y"].probabilities({"x": np.array([0.5])})
>>> bool(np.isclose(p[0, 1], 1 / (1 + np.exp(-(-1.0 + 2.0 * 0.5)))))
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from pgm.cpds.base import CPD, discrete_configuration_index, family_count_table
from pgm.cpds.categorical import Categorical, _as_names, _as_states, bound_table
from pgm.cpds.features import Feature, as_feature, bind_features, feature_from_dict
from pgm.cpds.softmax_fitting import TOLERANCE, _separated, fit_softmax, objective  # noqa: F401 (re-exported)
from pgm.data import code_dtype
from pgm.errors import CPDError, PGMWarning, StructureError

__all__ = ["Softmax", "Logistic", "SeparationWarning", "TOLERANCE"]

#: A softmax of discrete parents only is seen as its full table (for statistics and exact
#: inference) while the table has at most this many entries; beyond, it keeps family rows.
TABLE_LIMIT = 1 << 16



class SeparationWarning(PGMWarning):
    """A softmax node's classes are (nearly) separable, so maximum-likelihood coefficients diverge."""


class Softmax(CPD):
    """A discrete node whose log-odds are linear in features of its parents (multinomial logistic regression).

    Parameters
    ----------
    states : sequence of str, int or bool
        The node's states; at least two.
    parents : sequence of str, optional
        Parent names, continuous and discrete in any order.
    intercept : array-like of shape (k,), optional
        ``b``, one per state.  Omitted together with ``weights``: the node is
        declared without parameters and must be fitted.
    weights : array-like of shape (k, d), optional
        ``W``, one row per state and one column per design column
        (:attr:`design_names`: the features, then ``parent=state`` for each
        discrete parent's states after its first).  Omitted: zero.
    features : sequence of Feature or str, optional
        Basis functions of the continuous parents; default: each continuous
        parent itself.
    l2 : float, default 0
        Precision of a zero-mean Gaussian prior on the weights (not the
        intercepts), used when fitting: ``l2 = 1 / C`` of scikit-learn's
        ``LogisticRegression``.  0 is maximum likelihood.
    intercept_l2 : float, default 0
        Precision of a zero-mean Gaussian prior on the intercepts (0: none,
        as in scikit-learn).  It keeps a state never seen in the data from
        getting probability zero.

    Examples
    --------
    >>> import pgm
    >>> net = pgm.BayesianNetwork({
    ...     "x": pgm.Gaussian(0.0, 1.0),
    ...     "a": pgm.Categorical(["lo", "hi"], table=[0.5, 0.5]),
    ...     "y": pgm.Softmax(["r", "g", "b"], parents=["x", "a"], intercept=[0, 1, -1],
    ...                      weights=[[0, 0], [1, 2], [-1, 0.5]])})
    >>> net["y"].design_names
    ('x', 'a=hi')
    >>> net["y"].n_free_parameters
    6
    """

    family = "softmax"
    is_discrete = True
    #: Exact inference sees this CPD through its equivalent table (all parents discrete).
    expands_to_table = True

    def __init__(self, states: Sequence, *, parents: Sequence[str] = (), intercept=None, weights=None,
                 features: Sequence[Feature | str] | None = None, l2: float = 0.0, intercept_l2: float = 0.0):
        self.states = _as_states(states)
        if len(self.states) < 2:
            raise CPDError(
                f"a softmax over {len(self.states)} state(s) {list(self.states)} has nothing to choose between; "
                "give at least two states (a single state is a constant)"
            )
        self.parents = _as_names(parents, "parents")
        self.variable = None
        self.latent = False
        self._given_features = None if features is None else tuple(as_feature(f) for f in features)
        self.l2 = _check_l2(l2)
        self.intercept_l2 = _check_l2(intercept_l2, "intercept_l2")
        self._spec = None if intercept is None and weights is None else (intercept, weights)

    @classmethod
    def unfitted(cls, states: Sequence, *, parents: Sequence[str] = (), features=None, l2: float = 0.0,
                 intercept_l2: float = 0.0) -> "Softmax":
        """A softmax node with its states, parents and features but no parameters yet (fit it to data).

        Examples
        --------
        >>> import pgm
        >>> pgm.Softmax.unfitted(["a", "b"], parents=["x"]).is_fitted
        False
        """
        return cls(states, parents=parents, features=features, l2=l2, intercept_l2=intercept_l2)

    @classmethod
    def latent(cls, states: Sequence, *, parents: Sequence[str] = (), l2: float = 0.0,
               intercept_l2: float = 0.0) -> "Softmax":
        """A latent (never observed) softmax node of discrete parents, no parameters yet; EM estimates them.

        Examples
        --------
        >>> import pgm
        >>> z = pgm.Softmax.latent(["a", "b"], parents=["age"])
        >>> z.latent, z.is_fitted
        (True, False)
        """
        cpd = cls(states, parents=parents, l2=l2, intercept_l2=intercept_l2)
        cpd.latent = True
        return cpd

    @property
    def is_fitted(self) -> bool:
        return self._spec is not None if self.variable is None else self._b is not None

    @property
    def domain(self) -> tuple:
        return self.states

    # ------------------------------------------------------------------ binding
    def bind(self, variable: str, parent_domains: Mapping[str, tuple | None]) -> "Softmax":
        discrete, continuous, domains, features = bind_features(
            variable, self.parents, self._given_features, parent_domains, "discrete parents enter one-hot by themselves")
        bound = object.__new__(type(self))
        bound.states, bound.parents, bound.variable, bound.latent, bound.l2, bound.intercept_l2 = (
            self.states, self.parents, variable, self.latent, self.l2, self.intercept_l2)
        bound._given_features = bound.features = tuple(features)
        bound.discrete_parents, bound.continuous_parents, bound.parent_states = discrete, continuous, domains
        entries = int(np.prod([len(d) for d in domains], dtype=np.float64)) * len(self.states) if not continuous else 0
        # all parents discrete and a table of reasonable size: counts are the statistics, the table the view
        bound._tabular = not continuous and entries <= TABLE_LIMIT
        bound.design_names = tuple(str(f) for f in features) + tuple(
            f"{p}={s}" for p, states in zip(discrete, domains) for s in states[1:])
        intercept = weights = None
        if self._spec is not None:
            intercept, weights = bound._parameters_from_spec(*self._spec)
        return bound._with_parameters(intercept, weights)

    def _parameters_from_spec(self, intercept, weights):
        k, d = len(self.states), len(self.design_names)
        b = _array(self.variable, "intercept", np.zeros(k) if intercept is None else intercept)
        w = _array(self.variable, "weights", np.zeros((k, d)) if weights is None else weights)
        if b.shape != (k,):
            raise CPDError(f"intercept of {self.variable!r} has shape {b.shape}; with {k} states it must be ({k},)")
        if w.shape != (k, d):
            columns = ", ".join(self.design_names) or "none"
            raise CPDError(
                f"weights of {self.variable!r} have shape {w.shape}, but with {k} states and {d} design "
                f"column(s) ({columns}) they must have shape ({k}, {d})"
            )
        return b, w

    def _with_parameters(self, intercept, weights) -> "Softmax":
        """This bound CPD with new parameters (None: unfitted)."""
        if intercept is None:
            self._b = self._w = self._spec = self.intercept = self.weights = None
        else:
            self._b, self._w = np.array(intercept, dtype=np.float64), np.array(weights, dtype=np.float64)
            self._b.setflags(write=False)
            self._w.setflags(write=False)
            self.intercept, self.weights = self._b, self._w
            self._spec = (self._b, self._w)  # a bound CPD can be bound again, e.g. in another network
        self._table_cache = None
        return self

    def _copy_with(self, intercept, weights) -> "Softmax":
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new._with_parameters(intercept, weights)

    # ------------------------------------------------------------------ the model
    @property
    def n_design_columns(self) -> int:
        """``d``: the number of columns of the design (features and one-hot columns of discrete parents)."""
        self._require_bound("n_design_columns")
        return len(self.design_names)

    @property
    def n_feature_columns(self) -> int:
        """Number of design columns that are features of continuous parents (they come first)."""
        self._require_bound("n_feature_columns")
        return len(self.features)

    def _logits(self, parents: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """``b + W phi(row)`` for every row, shape (n, k), without building the one-hot columns."""
        k, f = len(self.states), len(self.features)
        if f:
            columns = np.empty((n, f), order="F")  # column-major: each feature is written contiguously
            for j, feature in enumerate(self.features):
                columns[:, j] = feature.evaluate(parents)
            logits = columns @ self._w[:, :f].T
            logits += self._b
        else:
            logits = np.empty((n, k))
            logits[:] = self._b
        start = f
        for p, states in zip(self.discrete_parents, self.parent_states):
            # row 0 of the lookup is the parent's first (reference) state, whose columns are absent
            lookup = np.zeros((len(states), k))
            lookup[1:] = self._w[:, start:start + len(states) - 1].T
            logits += lookup[np.asarray(parents[p], dtype=np.intp)]
            start += len(states) - 1
        return logits

    def design(self, parents: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """The design matrix ``phi`` of ``n`` rows, shape ``(n, d)``, columns named by :attr:`design_names`.

        Examples
        --------
        >>> import numpy as np, pgm
        >>> net = pgm.BayesianNetwork({"a": pgm.Categorical(["x", "y", "z"], table=[0.2, 0.3, 0.5]),
        ...                            "c": pgm.Softmax.unfitted(["no", "yes"], parents=["a"])})
        >>> net["c"].design({"a": np.array([0, 2])}, 2)
        array([[0., 0.],
               [0., 1.]])
        """
        self._require_bound("design")
        out = np.zeros((n, len(self.design_names)))
        for j, feature in enumerate(self.features):
            out[:, j] = feature.evaluate(parents)
        start = len(self.features)
        for p, states in zip(self.discrete_parents, self.parent_states):
            codes = np.asarray(parents[p], dtype=np.intp)
            hot = codes > 0
            out[np.flatnonzero(hot), start + codes[hot] - 1] = 1.0
            start += len(states) - 1
        return out

    def probabilities(self, parents: Mapping[str, np.ndarray], n: int | None = None) -> np.ndarray:
        """p(state | parents) for every row, shape ``(n, k)``: the exact answer when all parents are observed.

        This is the classifier's ``predict_proba``: with the class as the
        softmax node and the features as its parents, it is logistic regression.
        """
        self._require_bound("probabilities")
        self._require_fitted("computing probabilities")
        if n is None:
            n = len(next(iter(parents.values()))) if self.parents else 1
        logits = self._logits(parents, n)
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits

    def log_prob(self, values, parents):
        self._require_bound("log_prob")
        self._require_fitted("scoring")
        if self._tabular:
            return self.to_categorical().log_prob(values, parents)
        n = len(values)
        logits = self._logits(parents, n)
        top = logits.max(axis=1)
        chosen = np.take_along_axis(logits, np.asarray(values, dtype=np.intp)[:, None], axis=1)[:, 0]
        logits -= top[:, None]
        np.exp(logits, out=logits)
        return chosen - top - np.log(logits.sum(axis=1))

    def sample(self, parents, n, rng, *, out=None):
        if out is not None:
            out[...] = self.sample(parents, n, rng)
            return out
        self._require_bound("sample")
        self._require_fitted("sampling")
        if self._tabular:
            return self.to_categorical().sample(parents, n, rng)
        weights = self._logits(parents, n)
        weights -= weights.max(axis=1, keepdims=True)
        np.exp(weights, out=weights)  # unnormalised: u is scaled by each row's total instead
        cumulative = np.cumsum(weights, axis=1, out=weights)
        u = rng.random(n) * cumulative[:, -1]
        k = len(self.states)
        codes = np.zeros(n, dtype=code_dtype(k))
        for j in range(k - 1):  # the state is the number of cumulative sums at or below u
            codes += u >= cumulative[:, j]
        return codes

    # ------------------------------------------------------------------ the table view (exact inference)
    @property
    def table_shape(self) -> tuple[int, ...] | None:
        """``(*parent_cardinalities, k)`` with all parents discrete; None with a continuous parent."""
        self._require_bound("table_shape")
        if not self._tabular:
            return None
        return tuple(len(d) for d in self.parent_states) + (len(self.states),)

    def to_categorical(self) -> Categorical:
        """The equivalent full table as a bound :class:`~pgm.cpds.Categorical` (all parents discrete).

        Exact inference uses it: the softmax restricts the parameters, not
        the distributions a table can express.

        Raises
        ------
        StructureError
            A continuous parent: there is no finite table.
        """
        self._require_bound("to_categorical")
        self._require_fitted("expanding it to a table")
        if self.continuous_parents:
            raise StructureError(
                f"node {self.variable!r} is a softmax of the continuous parent(s) {list(self.continuous_parents)}, "
                "so it has no finite table and exact inference (queries; scoring or EM with missing values) "
                "cannot include it; query with method='likelihood_weighting' (approximate, with standard "
                "errors), fit it from complete rows, or, when its parents are observed, read "
                f"p({self.variable} | parents) exactly from net[{self.variable!r}].probabilities(...)"
            )
        if not self._tabular:
            from pgm.errors import InferenceTooLarge

            size = float(np.prod([len(d) for d in self.parent_states], dtype=np.float64)) * len(self.states)
            raise InferenceTooLarge(
                f"node {self.variable!r} is a softmax of {len(self.parents)} discrete parents whose equivalent table "
                f"would have {size:.3g} entries (the limit is {TABLE_LIMIT:,}), so exact inference cannot expand "
                "it; query with method='likelihood_weighting', or read p(node | parents) from .probabilities(...)"
            )
        if self._table_cache is None:
            cards = [len(d) for d in self.parent_states]
            n = int(np.prod(cards, dtype=np.int64)) if cards else 1
            codes = np.unravel_index(np.arange(n), cards) if cards else ()
            parents = {p: c for p, c in zip(self.discrete_parents, codes)}
            table = self.probabilities(parents, n).reshape(tuple(cards) + (len(self.states),))
            self._table_cache = bound_table(self.variable, self.states, self.discrete_parents, self.parent_states,
                                            table)
        return self._table_cache

    @property
    def table(self) -> np.ndarray:
        """The equivalent probability table ``(*parent_cardinalities, k)`` (all parents discrete)."""
        return self.to_categorical().table

    # ------------------------------------------------------------------ statistics and fitting
    def statistics(self, values, parents, weights=None):
        """Count table (parents discrete, table of at most ``TABLE_LIMIT`` entries) or weighted family rows."""
        self._require_bound("statistics")
        k = len(self.states)
        values = np.asarray(values, dtype=np.intp)
        if self._tabular:
            configs = discrete_configuration_index(parents, self.discrete_parents,
                                                   [len(d) for d in self.parent_states])
            return family_count_table(values, configs, self.table_shape, weights)
        n = len(values)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        keep = w > 0  # rows of no weight carry no information
        out = np.zeros((int(keep.sum()), k + len(self.parents)))
        out[np.arange(len(out)), values[keep]] = w[keep]
        for j, p in enumerate(self.parents):
            out[:, k + j] = np.asarray(parents[p])[keep]
        return out

    @property
    def statistics_are_rows(self) -> bool:
        """Whether the statistics are family rows (a continuous parent), which grow with the data."""
        return not self._tabular

    def merge_statistics(self, first, second):
        if self._tabular:
            return np.asarray(first) + np.asarray(second)
        a, b = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
        width = len(self.states) + len(self.parents)
        for part in (a, b):
            if part.ndim != 2 or part.shape[1] != width:
                raise CPDError(
                    f"statistics of {self.variable!r} must be family rows of {width} columns, got shape {part.shape}"
                )
        return np.concatenate([a, b])

    def _fitting_problem(self, statistics):
        """(design X, counts C) with one row per configuration or data row of positive weight."""
        stats = np.asarray(statistics, dtype=np.float64)
        k = len(self.states)
        if self._tabular:
            if stats.shape != self.table_shape:
                raise CPDError(f"statistics of {self.variable!r} have shape {stats.shape}, expected {self.table_shape}")
            counts = stats.reshape(-1, k)
            seen = np.flatnonzero(counts.sum(axis=1) > 0)  # only configurations with data shape the fit
            cards = [len(d) for d in self.parent_states]
            codes = np.unravel_index(seen, cards) if cards else ()
            return self.design(dict(zip(self.discrete_parents, codes)), len(seen)), counts[seen]
        else:
            width = k + len(self.parents)
            if stats.ndim != 2 or stats.shape[1] != width:
                raise CPDError(
                    f"statistics of {self.variable!r} must be family rows of {width} columns, got shape {stats.shape}"
                )
            counts = stats[:, :k]
            columns = {p: stats[:, k + j] for j, p in enumerate(self.parents)}
            for p in self.discrete_parents:
                columns[p] = columns[p].astype(np.intp)
            design = self.design(columns, len(counts))
        seen = counts.sum(axis=1) > 0
        return design[seen], counts[seen]

    def from_statistics(self, statistics, *, tol: float = TOLERANCE):
        """Maximum-likelihood (``l2 = 0``) or MAP (``l2 > 0``) parameters, by L-BFGS; warm-started when fitted.

        Starting from the current parameters, L-BFGS's line search only
        descends, and the result is kept only if it is no worse: an M-step
        never lowers the penalised likelihood, so EM stays monotone.
        """
        self._require_bound("from_statistics")
        design, counts = self._fitting_problem(statistics)
        start = (self._b, self._w) if self.is_fitted else None
        intercept, weights, converged = fit_softmax(design, counts, self.l2, start=start, tol=tol,
                                                    intercept_l2=self.intercept_l2)
        absent = [state for state, total in zip(self.states, counts.sum(axis=0)) if not total > 0]
        if absent and self.intercept_l2 == 0 and len(counts):
            warnings.warn(
                f"node {self.variable!r}: state(s) {absent} never occur in the data, so their intercepts diverge "
                "(probability zero at the limit); declare a prior on the intercepts, e.g. "
                "Softmax(..., intercept_l2=1.0)",
                SeparationWarning,
                stacklevel=2,
            )
        elif self.l2 == 0 and len(counts) and _separated(design, counts, intercept, weights, converged):
            warnings.warn(
                f"node {self.variable!r}: its states are (nearly) separable by its design columns "
                f"{list(self.design_names)}, so maximum-likelihood coefficients diverge (largest |weight| "
                f"{float(np.abs(weights).max(initial=0)):.3g}); declare an L2 prior, e.g. "
                f"Softmax(..., l2=1.0)",
                SeparationWarning,
                stacklevel=2,
            )
        return self._copy_with(intercept, weights)

    def empty_configurations(self, statistics):
        return []  # the parameters are shared across configurations: none is left unestimated

    def log_penalty(self) -> float:
        """``-(l2 |W|^2 + intercept_l2 |b|^2) / 2``: the log density of the Gaussian priors, up to a constant."""
        if not self.is_fitted:
            return 0.0
        return -0.5 * (self.l2 * float(np.sum(self._w * self._w)) + self.intercept_l2 * float(self._b @ self._b))

    @property
    def n_free_parameters(self) -> int:
        self._require_bound("n_free_parameters")
        return (len(self.states) - 1) * (1 + len(self.design_names))

    # ------------------------------------------------------------------ presentation
    def to_dict(self) -> dict:
        self._require_bound("to_dict")
        out = {
            "type": self.family,
            "states": list(self.states),
            "parents": list(self.parents),
            "features": [f.to_dict() for f in self.features],
            "intercept": self._b.tolist() if self.is_fitted else None,
            "weights": self._w.tolist() if self.is_fitted else None,
            "l2": self.l2,
            "intercept_l2": self.intercept_l2,
        }
        if self.latent:
            out["latent"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Softmax":
        """Inverse of :meth:`to_dict` (unbound; bind by adding to a network)."""
        features = [feature_from_dict(f) for f in data.get("features", ())]
        cpd = cls(data["states"], parents=data.get("parents", ()), intercept=data.get("intercept"),
                  weights=data.get("weights"), features=features, l2=data.get("l2", 0.0),
                  intercept_l2=data.get("intercept_l2", 0.0))
        cpd.latent = bool(data.get("latent", False))
        return cpd

    def to_frame(self):
        """The parameters as a DataFrame: one row per state, columns ``intercept`` and the design columns.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Logistic(parents=["x"], intercept=0.5,
        ...                                                                    weights=[2.0])})
        >>> print(net["y"].to_frame())
        y      intercept    x
        false        0.0  0.0
        true         0.5  2.0
        """
        import pandas as pd

        self._require_bound("to_frame")
        self._require_fitted("reading its parameters")
        values = np.column_stack([self._b, self._w])
        return pd.DataFrame(values, index=pd.Index(self.states),
                            columns=pd.Index(["intercept", *self.design_names], name=self.variable))

    def _logit_text(self, latex: bool) -> str:
        """The log-odds of the second state against the first (two states)."""
        b = self._b[1] - self._b[0]
        w = self._w[1] - self._w[0]
        terms = [f"{b:.4g}"]
        names = [f.latex() for f in self.features] if latex else [str(f) for f in self.features]
        names += [n.replace("=", "{=}") if latex else n for n in self.design_names[len(self.features):]]
        for coefficient, name in zip(w, names):
            terms.append(f"{'-' if coefficient < 0 else '+'} {abs(coefficient):.4g} {'[' + name + ']' if '=' in name else name}")
        return " ".join(terms)

    def describe(self) -> str:
        self._require_bound("describe")
        given = ", ".join(self.parents) or "no parents"
        if not self.is_fitted:
            return f"softmax over {len(self.states)} states of {given}, not fitted yet"
        if len(self.states) == 2:
            return f"logistic: P({self.states[1]}) = sigmoid({self._logit_text(False)})"
        return f"softmax over {len(self.states)} states, linear in {len(self.design_names)} design column(s) of {given}"

    def describe_latex(self) -> str:
        self._require_bound("describe_latex")
        if not self.is_fitted:
            return "\\text{not fitted}"
        if len(self.states) == 2:
            return f"\\sigma({self._logit_text(True)})"
        return f"\\mathrm{{softmax}}(b + W\\phi),\\ {len(self.states)} \\times {len(self.design_names)}"

    def __str__(self) -> str:
        if not self.is_bound:
            return repr(self)
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        if not self.is_fitted:
            return f"p({self.variable}{given}): {self.describe()}"
        return (f"p({self.variable}{given}) = softmax(intercept + weights . [{', '.join(self.design_names)}])\n"
                f"{self.to_frame().to_string()}")

    def _repr_html_(self) -> str:
        import html

        if not (self.is_bound and self.is_fitted):
            return f"<pre>{html.escape(str(self))}</pre>"
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        return (f"<b>p({html.escape(str(self.variable))}{html.escape(given)}) = softmax(b + W &phi;)</b>"
                + self.to_frame().to_html())

    def __eq__(self, other) -> bool:
        if not isinstance(other, Softmax):
            return NotImplemented
        if (self.states, self.parents, self.variable, self.latent, self.l2, self.intercept_l2) != (
                other.states, other.parents, other.variable, other.latent, other.l2, other.intercept_l2):
            return False
        if self.is_bound != other.is_bound or self.is_fitted != other.is_fitted:
            return False
        if not self.is_bound:
            return self is other
        return self.features == other.features and (not self.is_fitted or (
            np.array_equal(self._b, other._b) and np.array_equal(self._w, other._w)))

    __hash__ = None

    def __repr__(self) -> str:
        head = f"{self.variable!r}, " if self.variable else ""
        parents = f", parents={list(self.parents)}" if self.parents else ""
        status = f", l2={self.l2:g}" if self.l2 else ""
        status += f", intercept_l2={self.intercept_l2:g}" if self.intercept_l2 else ""
        status += "" if self.is_fitted else ", not fitted"
        return f"Softmax({head}states={list(self.states)}{parents}{status})"


def Logistic(*, parents: Sequence[str] = (), intercept=None, weights=None, states: Sequence = ("false", "true"),
             features=None, l2: float = 0.0, intercept_l2: float = 0.0) -> Softmax:
    """A two-state :class:`Softmax`: ``P(states[1] | parents) = sigmoid(intercept + weights . phi)``.

    ``intercept`` is a scalar and ``weights`` has one entry per design
    column; the first state gets logit 0.  Omit both to fit the node.

    Parameters
    ----------
    parents : sequence of str, optional
        Parent names, continuous and discrete in any order.
    intercept : float, optional
        The log-odds of ``states[1]`` at zero features.
    weights : array-like of shape (d,), optional
        One coefficient per design column (see :class:`Softmax`).
    states : sequence of two str, int or bool, default ("false", "true")
        The node's two states; the second is the one whose log-odds are modelled.
    features : sequence of Feature or str, optional
        Basis functions of the continuous parents; default: each continuous parent.
    l2, intercept_l2 : float, default 0
        Precisions of zero-mean Gaussian priors on the weights and the
        intercept, used when fitting (``l2 = 1 / C`` of scikit-learn).

    Returns
    -------
    Softmax
        The two-state softmax node.

    Examples
    --------
    >>> import pgm
    >>> net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Logistic(parents=["x"], intercept=1.0, weights=[-2.0])})
    >>> net["y"].describe()
    'logistic: P(true) = sigmoid(1 - 2 x)'
    """
    if intercept is None and weights is None:
        return Softmax(states, parents=parents, features=features, l2=l2, intercept_l2=intercept_l2)
    b = float(0.0 if intercept is None else intercept)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if w is not None and w.ndim != 1:
        raise CPDError(f"a logistic node's weights are one per design column (a 1-d array), got shape {w.shape}")
    full_weights = None if w is None else np.vstack([np.zeros_like(w), w])
    return Softmax(states, parents=parents, intercept=[0.0, b], weights=full_weights, features=features, l2=l2,
                   intercept_l2=intercept_l2)


def _check_l2(l2, name: str = "l2") -> float:
    try:
        value = float(l2)
    except (TypeError, ValueError):
        raise CPDError(f"{name} must be a non-negative number, got {l2!r}") from None
    if not (np.isfinite(value) and value >= 0):
        raise CPDError(f"{name} must be a non-negative finite number, got {l2!r}")
    return value


def _array(variable, what, value) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CPDError(f"{what} of {variable!r} is not numeric: {exc}") from None
    if not np.isfinite(array).all():
        raise CPDError(f"{what} of {variable!r} has a value that is not finite")
    return array
