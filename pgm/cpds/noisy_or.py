"""Noisy-OR and noisy-MAX CPDs: one small set of parameters per parent instead of a table row per configuration.

Each parent acts on the child independently.  A parent in its first state is
*absent* and does nothing; in any other state ``s`` it alone would push the
child to level ``y`` with probability ``effects[parent][s, y]``.  A *leak*
stands for every cause not in the model.  The child is the **maximum** of the
levels these independent causes produce (Henrion 1989; Díez 1993), so its
cumulative distribution is a product::

    P(Y <= y | x) = L(y) * prod_i E_i(y | x_i)

with ``L`` and ``E_i`` the cumulative sums of the leak's and parent ``i``'s
distributions over the child's levels (an absent parent has ``E_i = 1``).
The child's states are ordered levels, the first the lowest (absent).

With a two-state child this is the **noisy-OR**: ``P(Y = on | x) = 1 - (1 -
leak) prod_{i active} (1 - p_i)``, one activation probability ``p_i`` per
parent (per non-absent parent state) plus the leak.  Free parameters:
``(k - 1) (1 + sum_i (|X_i| - 1))`` for ``k`` child levels, against
``(k - 1) prod_i |X_i|`` for the full table.

The equivalent full table (:meth:`NoisyMax.to_categorical`) is what exact
inference uses.  Sufficient statistics are the family's count table, like a
:class:`~pgm.cpds.Categorical`'s, so EM's expected counts feed the M-step,
which maximises the multinomial likelihood of the counts under the noisy-MAX
restriction by L-BFGS with the analytic gradient.

Examples
--------
>>> import pgm
>>> net = pgm.BayesianNetwork({
...     "flu": pgm.Bernoulli(0.1), "cold": pgm.Bernoulli(0.2),
...     "fever": pgm.NoisyOr(parents=["flu", "cold"], activation={"flu": 0.8, "cold": 0.3}, leak=0.05)})
>>> net["fever"].table[1, 1].round(4).tolist()   # both active: 1 - 0.95 * 0.2 * 0.7
[0.133, 0.867]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pgm.cpds.base import CPD, discrete_configuration_index, family_count_table
from pgm.cpds.categorical import Categorical, _as_names, _as_states, bound_table
from pgm.data import code_dtype
from pgm.errors import CPDError, StructureError

__all__ = ["NoisyMax", "NoisyOr"]

#: Logits of the fitted distributions are kept within +-LOGIT_BOUND, so that
#: fitted probabilities stay positive (a zero would make later data impossible).
LOGIT_BOUND = 30.0


class NoisyMax(CPD):
    """A discrete node that is the maximum of independent causes: one per parent, plus a leak.

    Parameters
    ----------
    states : sequence of str, int or bool
        The child's levels, lowest (absent) first; at least two.
    parents : sequence of str
        Discrete parents; each one's first state is its absent state.
    leak : array-like of shape (k,), optional
        The distribution over the child's levels caused by everything not
        modelled.  Default: the lowest level surely (no leak).
    effects : dict of parent to array-like, optional
        For each parent, the distribution over the child's levels that each
        of its *non-absent* states causes alone: shape ``(|X_i| - 1, k)``
        (or ``(|X_i|, k)`` whose first row is ``[1, 0, ..., 0]``).  Omit
        ``leak`` and ``effects`` to declare the node unfitted.

    Examples
    --------
    >>> import pgm
    >>> net = pgm.BayesianNetwork({
    ...     "a": pgm.Categorical(["no", "yes"], table=[0.5, 0.5]),
    ...     "pain": pgm.NoisyMax(["none", "mild", "severe"], parents=["a"],
    ...                          leak=[0.9, 0.1, 0.0], effects={"a": [[0.2, 0.5, 0.3]]})})
    >>> net["pain"].table[1].round(3).tolist()      # P(Y <= y) = [0.9 * 0.2, 1 * 0.7, 1]
    [0.18, 0.52, 0.3]
    >>> net["pain"].n_free_parameters
    4
    """

    family = "noisy_max"
    is_discrete = True
    #: Exact inference sees this CPD through its equivalent table.
    expands_to_table = True

    def __init__(self, states: Sequence, *, parents: Sequence[str] = (), leak=None, effects: Mapping | None = None):
        self.states = _as_states(states)
        if len(self.states) < 2:
            raise CPDError(f"a noisy-MAX node needs at least two levels, got {list(self.states)}")
        self.parents = _as_names(parents, "parents")
        self.variable = None
        self.latent = False
        if effects is not None and not isinstance(effects, Mapping):
            raise CPDError("effects must be a dict from each parent to its rows of probabilities")
        self._spec = None if leak is None and effects is None else (leak, dict(effects or {}))

    @classmethod
    def unfitted(cls, states: Sequence, *, parents: Sequence[str] = ()) -> "NoisyMax":
        """A noisy-MAX node with its levels and parents but no parameters yet (fit it to data)."""
        return cls(states, parents=parents)

    @property
    def is_fitted(self) -> bool:
        return self._spec is not None if self.variable is None else self._leak is not None

    @property
    def domain(self) -> tuple:
        return self.states

    # ------------------------------------------------------------------ binding
    def bind(self, variable: str, parent_domains: Mapping[str, tuple | None]) -> "NoisyMax":
        for p in self.parents:
            if parent_domains[p] is None:
                raise StructureError(
                    f"node {variable!r} is noisy-MAX but its parent {p!r} is continuous; noisy-OR/MAX parents "
                    "are discrete (a Softmax / Logistic node takes continuous parents)"
                )
            if len(parent_domains[p]) < 2:
                raise CPDError(f"parent {p!r} of noisy-MAX node {variable!r} has a single state, so it never acts")
        bound = object.__new__(type(self))
        bound.__dict__.update(self.__dict__)
        bound.variable = variable
        bound.parent_states = tuple(tuple(parent_domains[p]) for p in self.parents)
        if self._spec is None:
            return bound._with_parameters(None, None)
        leak, effects = self._spec
        return bound._with_parameters(*bound._parameters_from_spec(leak, effects))

    def _parameters_from_spec(self, leak, effects):
        k = len(self.states)
        lowest = np.eye(k)[0]
        leak = lowest if leak is None else self._distribution(np.asarray(leak, dtype=np.float64), (k,), "leak")
        unknown = [p for p in effects if p not in self.parents]
        if unknown:
            raise CPDError(f"effects of {self.variable!r} name {unknown[0]!r}, which is not one of its parents "
                           f"{list(self.parents)}")
        rows = []
        for p, states in zip(self.parents, self.parent_states):
            if p not in effects:
                raise CPDError(f"effects of {self.variable!r} give nothing for parent {p!r}")
            array = np.asarray(effects[p], dtype=np.float64)
            if array.shape == (len(states), k):
                if not np.allclose(array[0], lowest):
                    raise CPDError(
                        f"effects of {self.variable!r}: parent {p!r} in its first (absent) state {states[0]!r} "
                        f"must leave the child at its lowest level, i.e. row {lowest.tolist()}; give only the "
                        f"{len(states) - 1} rows of its other states")
                array = array[1:]
            rows.append(self._distribution(array, (len(states) - 1, k), f"effects of parent {p!r}"))
        return leak, rows

    def _distribution(self, array, shape, what) -> np.ndarray:
        if array.shape != shape:
            raise CPDError(f"{what} of {self.variable!r} has shape {array.shape}, expected {shape} "
                           f"(one probability per level {list(self.states)})")
        flat = array.reshape(-1, shape[-1])
        if not (np.isfinite(flat).all() and (flat >= 0).all()):
            raise CPDError(f"{what} of {self.variable!r} has a probability that is negative or not finite")
        sums = flat.sum(axis=1)
        if np.any(np.abs(sums - 1) > 1e-6):
            raise CPDError(f"{what} of {self.variable!r}: a row sums to {float(sums[np.argmax(np.abs(sums - 1))])!r}, "
                           "not 1")
        return (flat / sums[:, None]).reshape(shape)

    def _with_parameters(self, leak, effects) -> "NoisyMax":
        if leak is None:
            self._leak = self._effects = self._spec = None
        else:
            self._leak = np.array(leak, dtype=np.float64)
            self._effects = [np.array(e, dtype=np.float64) for e in effects]
            for array in [self._leak, *self._effects]:
                array.setflags(write=False)
            self._spec = (self._leak, {p: e for p, e in zip(self.parents, self._effects)})
        self._table_cache = None
        return self

    @property
    def leak(self) -> np.ndarray:
        """The leak's distribution over the child's levels, shape ``(k,)``."""
        self._require_fitted("reading its leak")
        return self._leak

    @property
    def effects(self) -> dict:
        """Each parent's rows of level probabilities for its non-absent states, shape ``(|X_i| - 1, k)``."""
        self._require_fitted("reading its effects")
        return dict(zip(self.parents, self._effects))

    # ------------------------------------------------------------------ the model
    def _cumulative(self, parents: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """P(Y <= y | parents) for every row, shape (n, k); the last column is exactly 1."""
        cdf = np.empty((n, len(self.states)))
        cdf[:] = np.cumsum(self._leak)
        for p, effect in zip(self.parents, self._effects):
            lookup = np.vstack([np.ones(len(self.states)), np.cumsum(effect, axis=1)])  # absent state: no effect
            cdf *= lookup[np.asarray(parents[p], dtype=np.intp)]
        cdf[:, -1] = 1.0
        return cdf

    def probabilities(self, parents: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """p(level | parents) for every row, shape ``(n, k)``."""
        self._require_bound("probabilities")
        self._require_fitted("computing probabilities")
        cdf = self._cumulative(parents, n)
        return np.maximum(np.diff(cdf, axis=1, prepend=0.0), 0.0)  # the CDF is monotone; clip rounding

    def log_prob(self, values, parents):
        self._require_bound("log_prob")
        self._require_fitted("scoring")
        values = np.asarray(values, dtype=np.intp)
        cdf = self._cumulative(parents, len(values))
        upper = np.take_along_axis(cdf, values[:, None], axis=1)[:, 0]
        lower = np.where(values > 0, np.take_along_axis(cdf, np.maximum(values - 1, 0)[:, None], axis=1)[:, 0], 0.0)
        with np.errstate(divide="ignore"):
            return np.log(np.maximum(upper - lower, 0.0))

    def sample(self, parents, n, rng, *, out=None):
        if out is not None:
            out[...] = self.sample(parents, n, rng)
            return out
        self._require_bound("sample")
        self._require_fitted("sampling")
        cdf = self._cumulative(parents, n)
        u = rng.random(n)
        k = len(self.states)
        codes = np.zeros(n, dtype=code_dtype(k))
        for j in range(k - 1):  # the level is the number of CDF values at or below u
            codes += u >= cdf[:, j]
        return codes

    # ------------------------------------------------------------------ the table view
    @property
    def table_shape(self) -> tuple[int, ...]:
        """``(*parent_cardinalities, k)``: the shape of the equivalent table and of the count statistics."""
        self._require_bound("table_shape")
        return tuple(len(d) for d in self.parent_states) + (len(self.states),)

    def to_categorical(self) -> Categorical:
        """The equivalent full table as a bound :class:`~pgm.cpds.Categorical` (what exact inference uses)."""
        self._require_bound("to_categorical")
        self._require_fitted("expanding it to a table")
        if self._table_cache is None:
            cards = [len(d) for d in self.parent_states]
            n = int(np.prod(cards, dtype=np.int64)) if cards else 1
            codes = np.unravel_index(np.arange(n), cards) if cards else ()
            table = self.probabilities(dict(zip(self.parents, codes)), n).reshape(self.table_shape)
            table /= table.sum(axis=-1, keepdims=True)
            self._table_cache = bound_table(self.variable, self.states, self.parents, self.parent_states, table)
        return self._table_cache

    @property
    def table(self) -> np.ndarray:
        """The equivalent probability table ``(*parent_cardinalities, k)``."""
        return self.to_categorical().table

    # ------------------------------------------------------------------ statistics and fitting
    def statistics(self, values, parents, weights=None):
        """The family's count table ``(*parent_cardinalities, k)``, as for a Categorical."""
        self._require_bound("statistics")
        configs = discrete_configuration_index(parents, self.parents, [len(d) for d in self.parent_states])
        return family_count_table(values, configs, self.table_shape, weights)

    def _unpack(self, x):
        """Logit vector -> (leak (k,), [effects (|X_i| - 1, k)]); each distribution's first logit is 0."""
        k = len(self.states)
        sizes = [1] + [len(d) - 1 for d in self.parent_states]
        logits = np.zeros((sum(sizes), k))
        logits[:, 1:] = x.reshape(-1, k - 1)
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        bounds = np.cumsum(sizes)[:-1]
        parts = np.split(probs, bounds)
        return parts[0][0], parts[1:]

    def _pack(self, leak, effects) -> np.ndarray:
        rows = np.vstack([leak[None, :], *effects])
        with np.errstate(divide="ignore"):
            logits = np.log(rows)
        logits = logits[:, 1:] - logits[:, :1]
        return np.clip(np.nan_to_num(logits, nan=0.0, posinf=LOGIT_BOUND, neginf=-LOGIT_BOUND),
                       -LOGIT_BOUND, LOGIT_BOUND).ravel()

    def negative_log_likelihood(self, x: np.ndarray, counts: np.ndarray):
        """``-sum n[c, y] log P(y | c)`` for parameter logits ``x``, and its gradient (for L-BFGS)."""
        k = len(self.states)
        cards = [len(d) for d in self.parent_states]
        leak, effects = self._unpack(x)
        sources = [np.cumsum(leak)[None, :]] + [
            np.vstack([np.ones(k), np.cumsum(e, axis=1)]) for e in effects]  # per source, CDF rows by state
        cdf = np.ones(tuple(cards) + (k,))
        for axis, g in enumerate(sources[1:]):
            shape = [1] * len(cards) + [k]
            shape[axis] = cards[axis]
            cdf = cdf * g.reshape(shape)
        cdf = cdf * sources[0][0]
        cdf[..., -1] = 1.0
        prob = np.diff(cdf, axis=-1, prepend=0.0)
        positive = counts > 0
        safe = np.where(positive, np.maximum(prob, 1e-300), 1.0)
        value = -float(np.sum(np.where(positive, counts * np.log(safe), 0.0)))
        ratio = np.where(positive, counts / safe, 0.0)               # dL/dP
        d_cdf = ratio - np.concatenate([ratio[..., 1:], np.zeros(ratio.shape[:-1] + (1,))], axis=-1)
        d_cdf[..., -1] = 0.0                                           # F(k-1) = 1 is not a parameter
        weighted = d_cdf * cdf                                         # dL/dG_j = sum over c of this / G_j
        gradients = []
        all_axes = tuple(range(len(cards)))
        for j, g in enumerate(sources):
            if j == 0:
                dg = weighted.sum(axis=all_axes)[None, :] / g
            else:
                axis = j - 1
                others = tuple(a for a in all_axes if a != axis)
                summed = weighted.sum(axis=others) if others else weighted
                dg = (summed / g)[1:]                                  # the absent state has no parameters
            probs = leak[None, :] if j == 0 else effects[j - 1]
            # G = cumsum(p): dL/dp_y = sum_{y' >= y} dL/dG_y'; then through the softmax of the logits
            dp = np.cumsum(dg[:, ::-1], axis=1)[:, ::-1]
            dlogit = probs * (dp - np.sum(probs * dp, axis=1, keepdims=True))
            gradients.append(dlogit[:, 1:])
        return value, -np.concatenate([g.ravel() for g in gradients])

    def from_statistics(self, statistics):
        """Maximum-likelihood noisy-MAX parameters for a count table, by L-BFGS (warm-started when fitted)."""
        self._require_bound("from_statistics")
        counts = np.asarray(statistics, dtype=np.float64)
        if counts.shape != self.table_shape:
            raise CPDError(f"statistics of {self.variable!r} have shape {counts.shape}, expected {self.table_shape}")
        total = float(counts.sum())
        size = (len(self.states) - 1) * (1 + sum(len(d) - 1 for d in self.parent_states))
        x0 = self._pack(self._leak, self._effects) if self.is_fitted else np.zeros(size)
        if total <= 0:
            leak, effects = self._unpack(x0)
        else:
            def fun(x):
                value, grad = self.negative_log_likelihood(x, counts)
                return value / total, grad / total

            import scipy.optimize  # lazily: import pgm stays light
            result = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                             bounds=[(-LOGIT_BOUND, LOGIT_BOUND)] * size,
                                             options={"maxiter": 2000, "gtol": 1e-10, "ftol": 1e-15})
            x = result.x
            if self.is_fitted:
                current = self._current_objective(counts)
                if fun(x)[0] * total > current:
                    x = None  # keep the current parameters: the M-step must not decrease the likelihood
            if x is None:
                leak, effects = self._leak, self._effects
            else:
                leak, effects = self._unpack(x)
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new._with_parameters(leak, effects)

    def _current_objective(self, counts) -> float:
        table = self.to_categorical().table
        positive = counts > 0
        with np.errstate(divide="ignore"):
            return -float(np.sum(counts[positive] * np.log(table[positive])))

    def empty_configurations(self, statistics):
        return []  # the parameters are shared across configurations: none is left unestimated

    @property
    def n_free_parameters(self) -> int:
        self._require_bound("n_free_parameters")
        return (len(self.states) - 1) * (1 + sum(len(d) - 1 for d in self.parent_states))

    # ------------------------------------------------------------------ presentation
    def to_dict(self) -> dict:
        self._require_bound("to_dict")
        out = {"type": "noisy_max", "states": list(self.states), "parents": list(self.parents),
               "leak": self._leak.tolist() if self.is_fitted else None,
               "effects": {p: e.tolist() for p, e in zip(self.parents, self._effects)} if self.is_fitted else None}
        if self.latent:
            out["latent"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "NoisyMax":
        """Inverse of :meth:`to_dict` (unbound; bind by adding to a network)."""
        cpd = cls(data["states"], parents=data.get("parents", ()), leak=data.get("leak"), effects=data.get("effects"))
        cpd.latent = bool(data.get("latent", False))
        return cpd

    def to_frame(self):
        """The parameters as a DataFrame: one row for the leak and one per parent's non-absent state, one column per level.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.BayesianNetwork({"a": pgm.Bernoulli(0.5),
        ...                            "y": pgm.NoisyOr(parents=["a"], activation={"a": 0.9}, leak=0.1)})
        >>> print(net["y"].to_frame())
        y       false  true
        leak      0.9   0.1
        a=true    0.1   0.9
        """
        import pandas as pd

        self._require_bound("to_frame")
        self._require_fitted("reading its parameters")
        labels = ["leak"] + [f"{p}={s}" for p, states in zip(self.parents, self.parent_states) for s in states[1:]]
        values = np.vstack([self._leak[None, :], *self._effects])
        return pd.DataFrame(values, index=pd.Index(labels), columns=pd.Index(self.states, name=self.variable))

    def _kind(self) -> str:
        return "noisy-OR" if len(self.states) == 2 else "noisy-MAX"

    def describe(self) -> str:
        self._require_bound("describe")
        if not self.is_fitted:
            return f"{self._kind()} of {', '.join(self.parents) or 'no parents'}, not fitted yet"
        if len(self.states) == 2:
            terms = ", ".join(f"{p}={s}: {e[i, 1]:.4g}" for p, states, e in zip(self.parents, self.parent_states,
                                                                            self._effects)
                              for i, s in enumerate(states[1:]))
            return f"noisy-OR(leak {self._leak[1]:.4g}; {terms})" if terms else f"noisy-OR(leak {self._leak[1]:.4g})"
        return f"noisy-MAX over {len(self.states)} levels, {self.n_free_parameters} free parameters"

    def describe_latex(self) -> str:
        self._require_bound("describe_latex")
        if not self.is_fitted:
            return "\\text{not fitted}"
        return f"\\text{{{self._kind()}, {self.n_free_parameters} parameters}}"

    def __str__(self) -> str:
        if not self.is_bound:
            return repr(self)
        given = f" | {', '.join(self.parents)}" if self.parents else ""
        if not self.is_fitted:
            return f"p({self.variable}{given}): {self.describe()}"
        return f"p({self.variable}{given}) = {self._kind()} (the maximum of independent causes)\n{self.to_frame().to_string()}"

    def _repr_html_(self) -> str:
        import html

        if not (self.is_bound and self.is_fitted):
            return f"<pre>{html.escape(str(self))}</pre>"
        return f"<b>p({html.escape(str(self.variable))} | {html.escape(', '.join(self.parents))}) = {self._kind()}</b>" \
            + self.to_frame().to_html()

    def __eq__(self, other) -> bool:
        if not isinstance(other, NoisyMax):
            return NotImplemented
        if (self.states, self.parents, self.variable, self.latent) != (other.states, other.parents, other.variable,
                                                                       other.latent):
            return False
        if self.is_bound != other.is_bound or self.is_fitted != other.is_fitted:
            return False
        if not self.is_bound:
            return self is other
        return not self.is_fitted or (np.array_equal(self._leak, other._leak) and all(
            np.array_equal(a, b) for a, b in zip(self._effects, other._effects)))

    __hash__ = None

    def __repr__(self) -> str:
        head = f"{self.variable!r}, " if self.variable else ""
        status = "" if self.is_fitted else ", not fitted"
        return f"{type(self).__name__}({head}states={list(self.states)}, parents={list(self.parents)}{status})"


class NoisyOr(NoisyMax):
    """The noisy-OR: a two-state child that is on when any active parent (or the leak) turns it on.

    ``P(on | x) = 1 - (1 - leak) * prod_{i active} (1 - activation_i)``.

    Parameters
    ----------
    parents : sequence of str
    activation : dict of parent to float or sequence of float, optional
        The probability that the parent alone turns the child on: a float for
        a two-state parent (active in its second state), or one probability
        per state after the first.  Omit (with ``leak``) to fit the node.
    leak : float, default 0
        P(on) when every parent is absent.
    states : pair of states, default ``("false", "true")``
        The child's off and on states, in that order.

    Examples
    --------
    >>> import pgm
    >>> net = pgm.BayesianNetwork({"a": pgm.Bernoulli(0.5), "b": pgm.Bernoulli(0.5),
    ...                            "y": pgm.NoisyOr(parents=["a", "b"], activation={"a": 0.9, "b": 0.5})})
    >>> net["y"].describe()
    'noisy-OR(leak 0; a=true: 0.9, b=true: 0.5)'
    """

    family = "noisy_or"

    def __init__(self, *, parents: Sequence[str] = (), activation: Mapping | None = None, leak: float | None = None,
                 states: Sequence = ("false", "true")):
        states = _as_states(states)
        if len(states) != 2:
            raise CPDError(
                f"a noisy-OR child has two states (off, on), got {len(states)} {list(states)}; for ordered "
                "levels use NoisyMax, its generalisation to a child that is the maximum of its causes"
            )
        effects = None
        if activation is not None:
            if not isinstance(activation, Mapping):
                raise CPDError("activation must be a dict from each parent to its probability of turning the child on")
            effects = {}
            for p, value in activation.items():
                probs = np.atleast_1d(np.asarray(value, dtype=np.float64))
                if probs.ndim != 1 or not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
                    raise CPDError(f"activation of parent {p!r} must be probabilities in [0, 1], got {value!r}")
                effects[p] = np.column_stack([1 - probs, probs])
        leak_row = None if leak is None and activation is None else [1 - float(leak or 0.0), float(leak or 0.0)]
        if leak_row is not None and not 0 <= leak_row[1] <= 1:
            raise CPDError(f"the leak is a probability in [0, 1], got {leak!r}")
        super().__init__(states, parents=parents, leak=leak_row, effects=effects)

    @classmethod
    def unfitted(cls, *, parents: Sequence[str] = (), states: Sequence = ("false", "true")) -> "NoisyOr":
        """A noisy-OR node with its parents but no parameters yet (fit it to data).

        Examples
        --------
        >>> import pgm
        >>> pgm.NoisyOr.unfitted(parents=["a"]).is_fitted
        False
        """
        return cls(parents=parents, states=states)

    @property
    def activation(self) -> dict:
        """Each parent's probabilities of turning the child on, one per non-absent state."""
        return {p: e[:, 1].copy() for p, e in self.effects.items()}
