"""What inference returns: discrete posteriors, Gaussian mixtures, MPE assignments, plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from pgm.errors import DataError, NodeError
from pgm.inference.display import caption, format_number, html_table, mixture_html
from pgm.inference.gaussian import MultivariateNormal

__all__ = ["DiscreteDistribution", "GaussianMixture", "MPE", "InferencePlan"]


class DiscreteDistribution:
    """A distribution over one or more discrete variables, as a table.

    Parameters
    ----------
    variables : sequence of str
    states : mapping of str to sequence of str
        Each variable's states.
    probabilities : array-like
        One axis per variable, in the order of ``variables``; normalised on creation.
    log_evidence : float, optional
        log p(evidence) of the query that produced it (0 without evidence).

    Attributes
    ----------
    standard_errors : ndarray or None
        Monte Carlo standard errors, when estimated by likelihood weighting or Gibbs sampling.
    method : str
        How the table was computed: ``"exact"``, ``"likelihood_weighting"``,
        ``"loopy_bp"`` or ``"gibbs"`` (see :mod:`pgm.inference.approximate`).
    approximate : bool
        Whether ``method`` is an approximation.
    report : object or None
        The approximate method's convergence report.
    choice : str or None
        With ``method="auto"``: why this method was chosen.
    given : dict or None
        The observed values of the query that produced it, for its caption
        (``p(lung | xray=yes)``); None when not known.

    Examples
    --------
    >>> import pgm
    >>> post = pgm.load("asia").query("lung", evidence={"xray": "yes", "smoke": "no"})
    >>> print(post)
    p(lung | xray=yes, smoke=no)
      yes  0.1423
      no   0.8577
    >>> post.mode()
    'no'
    >>> round(float(post.to_series()["yes"]), 4)
    0.1423
    """

    method = "exact"
    report = None
    choice = None

    @property
    def approximate(self) -> bool:
        return self.method in ("likelihood_weighting", "loopy_bp", "ijgp", "gibbs", "importance")

    def __init__(self, variables: Sequence[str], states: Mapping[str, Sequence[str]], probabilities,
                 *, log_evidence: float = 0.0, standard_errors=None):
        self.variables = tuple(variables)
        self.states = {v: tuple(states[v]) for v in self.variables}
        table = np.array(probabilities, dtype=np.float64)
        shape = tuple(len(self.states[v]) for v in self.variables)
        if table.shape != shape:
            raise ValueError(f"probabilities have shape {table.shape}, expected {shape}")
        total = table.sum()
        if not total > 0:
            raise DataError("a distribution needs a positive total probability")
        self.probabilities = table / total
        self.log_evidence = float(log_evidence)
        self.standard_errors = None if standard_errors is None else np.asarray(standard_errors, dtype=np.float64)
        self.given = None

    def _axis(self, variable: str) -> int:
        if variable not in self.variables:
            raise NodeError(f"{variable!r} is not a variable of this distribution (variables: {list(self.variables)})")
        return self.variables.index(variable)

    def marginal(self, variables) -> "DiscreteDistribution":
        """The distribution of ``variables`` (a name or a list), summing out the rest."""
        variables = [variables] if isinstance(variables, str) else list(variables)
        axes = [self._axis(v) for v in variables]
        drop = tuple(i for i in range(len(self.variables)) if i not in axes)
        table = self.probabilities.sum(axis=drop) if drop else self.probabilities
        kept = [v for v in self.variables if v in variables]
        table = np.transpose(table, [kept.index(v) for v in variables])
        return DiscreteDistribution(variables, self.states, table, log_evidence=self.log_evidence)

    def condition(self, evidence: Mapping[str, str]) -> "DiscreteDistribution":
        """The distribution of the other variables given ``evidence`` (variable -> state)."""
        table = self.probabilities
        index: list = [slice(None)] * len(self.variables)
        for variable, state in evidence.items():
            axis = self._axis(variable)
            if state not in self.states[variable]:
                raise DataError(f"{state!r} is not a state of {variable!r}; its states are {list(self.states[variable])}")
            index[axis] = self.states[variable].index(state)
        rest = [v for v in self.variables if v not in evidence]
        if not rest:
            raise ValueError("condition() needs at least one variable left unconditioned")
        table = table[tuple(index)]
        total = float(table.sum())
        if total <= 0:
            raise DataError(f"the conditioning event {dict(evidence)} has probability zero under this distribution")
        return DiscreteDistribution(rest, self.states, table / total, log_evidence=self.log_evidence + np.log(total))

    def mode(self):
        """The most probable state (a tuple of states for several variables); ties go to the first."""
        best = np.unravel_index(int(np.argmax(self.probabilities)), self.probabilities.shape)
        states = tuple(self.states[v][int(i)] for v, i in zip(self.variables, best))
        return states[0] if len(states) == 1 else states

    def to_series(self) -> pd.Series:
        """One variable: probabilities indexed by state."""
        if len(self.variables) != 1:
            raise ValueError("to_series() is for one variable; use to_frame() for a joint table")
        variable = self.variables[0]
        return pd.Series(self.probabilities, index=pd.Index(self.states[variable], name=variable), name="probability")

    def to_frame(self) -> pd.DataFrame:
        """One row per joint configuration (a MultiIndex of states) with its probability."""
        index = pd.MultiIndex.from_product([self.states[v] for v in self.variables], names=list(self.variables))
        return pd.DataFrame({"probability": self.probabilities.ravel()}, index=index)

    def entropy(self) -> float:
        """Shannon entropy in nats."""
        p = self.probabilities[self.probabilities > 0]
        return float(-(p * np.log(p)).sum())

    def __repr__(self) -> str:
        return f"DiscreteDistribution({', '.join(self.variables)}: {self.probabilities.size} entries)"

    def __str__(self) -> str:
        frame = self.to_frame()
        labels = [" ".join(map(str, key if isinstance(key, tuple) else (key,))) for key in frame.index]
        width = max(map(len, labels))
        errors = [None] * len(labels) if self.standard_errors is None else self.standard_errors.ravel()
        lines = [caption(self.variables, self.given)]
        for label, p, se in zip(labels, frame["probability"], errors):
            lines.append(f"  {label:<{width}}  {p:.4f}" + ("" if se is None else f"  (± {se:.4f})"))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        if self.standard_errors is not None:
            frame["standard error"] = self.standard_errors.ravel()
        note = None if self.log_evidence == 0 else f"log p(evidence) = {format_number(self.log_evidence)}"
        return html_table(frame, caption(self.variables, self.given), note=note)


class GaussianMixture:
    """A mixture of multivariate normals over the same variables.

    The posterior of continuous nodes in a hybrid network: one Gaussian for
    each configuration of the discrete nodes they depend on, weighted by that
    configuration's posterior probability.

    Attributes
    ----------
    names : tuple of str
    weights : ndarray (m,)
    means : ndarray (m, k)
    covariances : ndarray (m, k, k)
    labels : list of str
        The configuration behind each component, e.g. ``"component=a"``.
    deviations : ndarray (m, k), optional
        ``means - means[0]``, when the caller has it more precisely than
        the subtraction would give (means far from zero, e.g. 1e12, round to
        their float64 spacing; their differences need not).  The mixture's
        mean and covariance are computed from it.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm.inference.results import GaussianMixture
    >>> mix = GaussianMixture(["x"], [0.5, 0.5], [[-1.0], [1.0]], [[[1.0]], [[1.0]]])
    >>> float(mix.mean[0]), float(mix.covariance[0, 0])
    (0.0, 2.0)
    """

    def __init__(self, names, weights, means, covariances, labels=None, *, deviations=None):
        self.names = tuple(names)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.means = np.asarray(means, dtype=np.float64).reshape(len(self.weights), len(self.names))
        self.covariances = np.asarray(covariances, dtype=np.float64).reshape(
            len(self.weights), len(self.names), len(self.names))
        self.labels = list(labels) if labels is not None else [str(i) for i in range(len(self.weights))]
        if deviations is None:
            deviations = self.means - self.means[:1]
        self._deviations = np.asarray(deviations, dtype=np.float64).reshape(self.means.shape)
        self.given = None

    @property
    def mean(self) -> np.ndarray:
        """The mixture's mean."""
        return self.means[0] + self.weights @ self._deviations

    @property
    def covariance(self) -> np.ndarray:
        """The mixture's covariance (law of total covariance), from deviations between the components' means."""
        centred = self._deviations - self.weights @ self._deviations
        within = np.einsum("m,mij->ij", self.weights, self.covariances)
        between = np.einsum("m,mi,mj->ij", self.weights, centred, centred)
        return within + between

    def std(self) -> np.ndarray:
        """Marginal standard deviations of the mixture."""
        return np.sqrt(np.diag(self.covariance))

    def components(self) -> list[MultivariateNormal]:
        """Each component as a :class:`MultivariateNormal`."""
        return [MultivariateNormal(self.names, m, c) for m, c in zip(self.means, self.covariances)]

    def logpdf(self, x) -> np.ndarray:
        """Log density of each row of ``x`` (shape (n, k), or (n,) for one variable)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None] if len(self.names) == 1 else x[None, :]
        terms = []
        for w, component in zip(self.weights, self.components()):
            if w > 0:
                terms.append(np.log(w) + component.logpdf(x))
        stacked = np.vstack(terms)
        top = stacked.max(axis=0)
        return top + np.log(np.exp(stacked - top).sum(axis=0))

    def __repr__(self) -> str:
        return f"GaussianMixture({', '.join(self.names)}: {len(self.weights)} components)"

    def _repr_html_(self) -> str:
        return mixture_html(self, caption(self.names, self.given))

    def __str__(self) -> str:
        lines = [f"mixture of {len(self.weights)} Gaussians over {', '.join(self.names)}"]
        for w, m, c, label in zip(self.weights, self.means, self.covariances, self.labels):
            sd = ", ".join(f"{s:.4g}" for s in np.sqrt(np.diag(c)))
            lines.append(f"  {w:.4f}  {label}: mean {', '.join(f'{v:.4g}' for v in m)}, sd {sd}")
        return "\n".join(lines)


class MPE(NamedTuple):
    """The most probable explanation: a joint assignment of the discrete nodes and its log-probability.

    For one case ``assignment`` is a dict (node -> state) and
    ``log_probability`` a float; for many cases ``assignment`` is a DataFrame
    (one row per case) and ``log_probability`` an array.
    ``log_probability`` is log p(assignment, evidence): the joint of the
    assignment together with the evidence (continuous nodes integrated out);
    subtract ``log_evidence`` for log p(assignment | evidence).

    Parameters
    ----------
    assignment : dict or DataFrame
        The most probable state of every discrete node.
    log_probability : float or ndarray
        log p(assignment, evidence).
    log_evidence : float or ndarray
        log p(evidence).
    """

    assignment: object
    log_probability: object
    log_evidence: object

    def to_frame(self) -> pd.DataFrame:
        """One case: a row per node with its state; many cases: the assignment's DataFrame."""
        if isinstance(self.assignment, pd.DataFrame):
            return self.assignment
        return pd.DataFrame({"state": [_plain_state(s) for s in self.assignment.values()]},
                            index=pd.Index(list(self.assignment), name="node"))

    def __str__(self) -> str:
        if isinstance(self.assignment, pd.DataFrame):
            return f"most probable explanations of {len(self.assignment)} cases\n{self.assignment}"
        width = max(map(len, self.assignment), default=0)
        lines = ["most probable explanation"] + [f"  {node:<{width}}  {_plain_state(state)}"
                                                 for node, state in self.assignment.items()]
        lines.append(f"log p(assignment, evidence) = {format_number(self.log_probability)}")
        lines.append(f"log p(assignment | evidence) = {format_number(self.log_probability - self.log_evidence)}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        if isinstance(self.assignment, pd.DataFrame):
            return html_table(self.assignment, f"most probable explanations of {len(self.assignment)} cases")
        note = (f"log p(assignment, evidence) = {format_number(self.log_probability)}; "
                f"log p(assignment | evidence) = {format_number(self.log_probability - self.log_evidence)}")
        return html_table(self.to_frame(), "most probable explanation", note=note)


def _plain_state(state):
    return state.item() if isinstance(state, np.generic) else state


@dataclass(frozen=True)
class InferencePlan:
    """How exact inference will run: the elimination order, the cliques, and the size of their tables.

    Attributes
    ----------
    order : tuple of str
        Elimination order of the discrete variables.
    cliques : tuple of tuple of str
        The junction tree's cliques.
    largest_table_entries, largest_table_bytes : int
        The largest clique table, for one row.
    total_table_entries : int
        All clique tables together, for one row.
    pruned : tuple of str
        Nodes left out: barren (no evidence or target below them).
    gaussian_configurations : int
        Configurations of the discrete nodes that continuous nodes depend on
        (the number of Gaussians per row; 1 without such nodes).
    bytes_per_row : int
        Working memory for one row of evidence.
    heuristic : str
        The triangulation heuristic whose tree was cheapest (see
        :mod:`pgm.inference.triangulation`).
    static_bytes : int
        Memory of the static tables, priced before they are built; with
        ``bytes_per_row`` it is what the memory budget is checked against.
    strategy : str
        How a batch of rows is answered: ``"shared"`` (one tree, every row
        at once), ``"per-pattern"`` (one pruned tree per pattern of observed
        nodes), ``"per-row"`` (every row its own pattern) or
        ``"by-relevance"`` (a batched query: one tree per requisite part --
        the target's component given the row's evidence and its boundary --
        shared by the rows with that part, see
        :mod:`pgm.inference.requisite`); chosen by cost (see
        :mod:`pgm.inference.strategy`).
    patterns : int
        Distinct patterns of observed discrete nodes among the rows (by
        relevance: requisite parts, plus the patterns of the rows left to
        the full plan).
    trees : int
        Trees that answer the targets: more than one when all posteriors are
        answered by the relevant parts of the network (the other fields then
        describe the largest, and ``total_table_entries`` sums them).
    cache_plans, cache_bytes, cache_limit_bytes : int
        The network's plan cache: plans held, their bytes, and its bound
        (see :func:`pgm.inference.plan_cache`).
    expanded : tuple of str
        Nodes with a restricted parameterisation (softmax, noisy-OR/MAX) that
        exact inference uses through their equivalent full table.
    """

    order: tuple
    cliques: tuple
    largest_table_entries: int
    largest_table_bytes: int
    total_table_entries: int
    pruned: tuple
    gaussian_configurations: int
    bytes_per_row: int
    heuristic: str = "weighted-min-fill"
    static_bytes: int = 0
    strategy: str = "shared"
    patterns: int = 1
    trees: int = 1
    cache_plans: int = 0
    cache_bytes: int = 0
    cache_limit_bytes: int = 0
    expanded: tuple = ()

    def __str__(self) -> str:
        from pgm.inference.junction_tree import format_bytes

        widest = max(self.cliques, key=len) if self.cliques else ()
        gaussians = (f"; {self.gaussian_configurations:,} Gaussian(s) per row"
                     if self.gaussian_configurations else "")
        pruned = f"; {len(self.pruned)} barren node(s) pruned" if self.pruned else ""
        trees = f" in {self.trees} trees (by relevance)" if self.trees > 1 else ""
        rows = (f"; rows answered {self.strategy} ({self.patterns:,} pattern(s) of observed nodes)"
                if self.patterns > 1 else "")
        pruned += (f"; {', '.join(self.expanded)} expanded from softmax / noisy-OR form to full tables"
                   if self.expanded else "")
        return (
            f"inference plan: {len(self.cliques)} cliques, the largest over {len(widest)} variables "
            f"({self.largest_table_entries:,} entries, {format_bytes(self.largest_table_bytes)}), "
            f"{self.total_table_entries:,} entries in all{trees}{gaussians}; {format_bytes(self.static_bytes)} "
            f"of static tables and {format_bytes(self.bytes_per_row)} per row of evidence{pruned}; "
            f"triangulated by {self.heuristic}{rows}; plan cache {self.cache_plans} plan(s), "
            f"{format_bytes(self.cache_bytes)} of {format_bytes(self.cache_limit_bytes)}"
        )

    def __repr__(self) -> str:
        return str(self)
