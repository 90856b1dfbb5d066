"""Decomposable scores of a family (a node and its parents) from its statistics.

A decomposable score is a sum over nodes of a *local* score that depends on
the data only through the family's statistics, so a search that changes one
family rescores that family alone.

- ``"bic"`` / ``"aic"``: the maximised log-likelihood minus a penalty of
  ``log(N) / 2`` (BIC) or ``1`` (AIC) per free parameter.  A discrete node
  has ``q (k - 1)`` parameters; a Gaussian node (conditional linear
  Gaussian when it has discrete parents) has ``q (c + 2)``: an intercept,
  ``c`` coefficients and a variance per configuration of its ``q``
  discrete-parent configurations.
- ``"bdeu"`` (``equivalent_sample_size``) and ``"k2"``: the
  Dirichlet-multinomial evidence, as :func:`pgm.learning.scores.bdeu_score`
  and :func:`~pgm.learning.scores.k2_score` compute it.
- ``"bge"``: the Gaussian evidence of :func:`pgm.learning.scores.bge_score`,
  whose formula this module calls.

A configuration of a continuous node's discrete parents that has rows but
no more of them than regression coefficients leaves the variance
unestimable; such a family scores ``-inf`` and a search never picks it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import scipy.special

from pgm.errors import StructureError
from pgm.structure.statistics import FamilyStatistics

__all__ = ["Score", "LocalScores", "SCORES"]

SCORES = ("bic", "aic", "bdeu", "k2", "bge")


@dataclass(frozen=True)
class Score:
    """Which score, and its hyper-parameters.

    Parameters
    ----------
    name : {"bic", "aic", "bdeu", "k2", "bge"}
    equivalent_sample_size : float, default 1
        BDeu's imaginary sample size.
    iss_mu, iss_w : float
        BGe's prior sample sizes (see :func:`pgm.learning.scores.bge_score`).

    Examples
    --------
    >>> from pgm.structure import Score
    >>> Score("bdeu", equivalent_sample_size=10).name
    'bdeu'
    """

    name: str = "bic"
    equivalent_sample_size: float = 1.0
    iss_mu: float = 1.0
    iss_w: float | None = None

    def __post_init__(self):
        if self.name not in SCORES:
            raise ValueError(f"score must be one of {', '.join(SCORES)}, got {self.name!r}")
        if not self.equivalent_sample_size > 0:
            raise ValueError(f"equivalent_sample_size must be positive, got {self.equivalent_sample_size!r}")


def as_score(score) -> Score:
    """A :class:`Score` from a name or a Score."""
    if isinstance(score, Score):
        return score
    if isinstance(score, str):
        return Score(score.lower())
    raise TypeError(f"score must be a name ({', '.join(SCORES)}) or a Score, not {type(score).__name__}")


# ---------------------------------------------------------------------------- formulas
def discrete_local(counts: np.ndarray, score: Score, n_rows: float) -> float:
    """The local score of a discrete family from its (parent configurations, states) count table."""
    q, k = counts.shape
    if score.name in ("bic", "aic"):
        totals = counts.sum(axis=1, keepdims=True)
        positive = counts > 0
        log_likelihood = float(np.sum(counts[positive] * np.log((counts / np.where(totals > 0, totals, 1))[positive])))
        penalty = 0.5 * np.log(n_rows) if score.name == "bic" else 1.0
        return log_likelihood - penalty * q * (k - 1)
    alpha = 1.0 if score.name == "k2" else score.equivalent_sample_size / (q * k)
    totals = counts.sum(axis=1)
    return float(np.sum(scipy.special.gammaln(k * alpha) - scipy.special.gammaln(k * alpha + totals))
                 + np.sum(scipy.special.gammaln(alpha + counts) - scipy.special.gammaln(alpha)))


def discrete_local_batch(joint: np.ndarray, starts: np.ndarray, cards: np.ndarray, score: Score,
                         n_rows: float) -> np.ndarray:
    """:func:`discrete_local` of many families at once: a child with its parents plus each of several candidates.

    ``joint`` has shape (parent configurations, child states, columns), the
    columns of candidate ``i`` starting at ``starts[i]`` (see
    :meth:`FamilyStatistics.joint_counts_adding`); sums over each
    candidate's columns are ``np.add.reduceat`` over the columns.
    """
    q, k, _ = joint.shape
    totals = joint.sum(axis=1)  # (parent configurations, columns): counts of each (configuration, candidate state)
    configurations = q * cards  # parent configurations once each candidate is added
    if score.name in ("bic", "aic"):
        cells = np.add.reduceat(scipy.special.xlogy(joint, joint).sum(axis=(0, 1)), starts)
        margins = np.add.reduceat(scipy.special.xlogy(totals, totals).sum(axis=0), starts)
        penalty = 0.5 * np.log(n_rows) if score.name == "bic" else 1.0
        return cells - margins - penalty * configurations * (k - 1)
    alpha = np.ones_like(configurations, dtype=np.float64) if score.name == "k2" else \
        score.equivalent_sample_size / (configurations * k)
    column_alpha = np.repeat(alpha, cards)
    cells = np.add.reduceat((scipy.special.gammaln(joint + column_alpha) - scipy.special.gammaln(column_alpha))
                            .sum(axis=(0, 1)), starts)
    margins = np.add.reduceat((scipy.special.gammaln(k * column_alpha)
                               - scipy.special.gammaln(k * column_alpha + totals)).sum(axis=0), starts)
    return cells + margins


def gaussian_local(weight: np.ndarray, comoments: np.ndarray, score: Score, n_rows: float) -> float:
    """BIC/AIC of a continuous child (last variable) regressed on the other continuous variables, per configuration.

    ``weight`` (q,) and ``comoments`` (q, c+1, c+1) as from
    :meth:`FamilyStatistics.moments`.
    """
    q, size, _ = comoments.shape
    c = size - 1
    seen = weight > 0
    if np.any(weight[seen] <= c + 1):
        return -np.inf
    m = comoments[seen]
    residual = m[:, c, c]
    if c:
        # Residual sum of squares of the least-squares regression: m_yy - m_yX m_XX^-1 m_Xy.
        solved = np.linalg.solve(m[:, :c, :c], m[:, :c, c][:, :, None])[:, :, 0]
        residual = residual - np.einsum("qi,qi->q", m[:, c, :c], solved)
    n = weight[seen]
    variance = residual / n
    if np.any(~(variance > 0)):
        return -np.inf
    log_likelihood = float(-0.5 * np.sum(n * (np.log(2 * np.pi * variance) + 1)))
    penalty = 0.5 * np.log(n_rows) if score.name == "bic" else 1.0
    return log_likelihood - penalty * q * (c + 2)


class _BGe:
    """BGe local scores from the pooled mean and scatter of all (continuous) variables."""

    def __init__(self, stats: FamilyStatistics, score: Score):
        from pgm.learning.scores import bge_posterior

        variables = list(range(len(stats.names)))
        weight, means, scatter = stats.moments(variables)
        self.n_rows = float(weight[0])
        self.prior = bge_posterior(self.n_rows, means[0], scatter[0], iss_mu=score.iss_mu, iss_w=score.iss_w)

    def __call__(self, child: int, parents) -> float:
        from pgm.learning.scores import bge_log_evidence

        family = list(parents)
        return (bge_log_evidence(self.prior, self.n_rows, family + [child])
                - bge_log_evidence(self.prior, self.n_rows, family))


# ---------------------------------------------------------------------------- cached local scores
class LocalScores:
    """Local scores of families, each computed once and kept in a bounded cache.

    The cache is keyed by ``(node, parents)`` (a sorted tuple of variable
    indices) and holds at most ``cache_size`` entries, evicting the least
    recently used -- a search only ever needs the families around its
    current graph.

    Parameters
    ----------
    stats : FamilyStatistics
    score : str or Score
    cache_size : int, default 1_000_000

    Attributes
    ----------
    hits, misses : int
        Cache look-ups answered and not answered.

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import FamilyStatistics, LocalScores, sufficient_table
    >>> stats = FamilyStatistics(sufficient_table(pgm.load("asia").sample(2000, seed=0)))
    >>> scores = LocalScores(stats, "bic")
    >>> smoke, lung = stats.index["smoke"], stats.index["lung"]
    >>> bool(scores.local(lung, [smoke]) > scores.local(lung, []))   # smoking explains lung cancer
    True
    """

    def __init__(self, stats: FamilyStatistics, score="bic", *, cache_size: int = 1_000_000):
        self.stats = stats
        self.score = as_score(score)
        self.cache_size = int(cache_size)
        self._cache: OrderedDict = OrderedDict()
        self.hits = self.misses = 0
        discrete = stats.is_discrete
        if self.score.name in ("bdeu", "k2") and not discrete.all():
            name = stats.names[int(np.argmin(discrete))]
            raise StructureError(f"the {self.score.name} score needs discrete variables; {name!r} is continuous "
                                 "(use bic, aic or, for all-continuous data, bge)")
        if self.score.name == "bge" and discrete.any():
            name = stats.names[int(np.argmax(discrete))]
            raise StructureError(f"the bge score needs continuous variables; {name!r} is discrete (use bic or aic)")
        self._bge = _BGe(stats, self.score) if self.score.name == "bge" else None

    def allowed_parent(self, parent: int, child: int) -> bool:
        """A discrete node cannot have a continuous parent (conditional linear Gaussian networks)."""
        return not (self.stats.is_discrete[child] and not self.stats.is_discrete[parent])

    def _remember(self, key, value: float) -> float:
        self._cache[key] = value
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return value

    def _lookup(self, key):
        value = self._cache.get(key)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
            self._cache.move_to_end(key)
        return value

    def __len__(self) -> int:
        return len(self._cache)

    def local(self, child: int, parents) -> float:
        """The local score of ``child`` with ``parents`` (variable indices)."""
        key = (child, tuple(sorted(parents)))
        value = self._lookup(key)
        if value is None:
            value = self._remember(key, self._compute(child, key[1]))
        return value

    def _compute(self, child: int, parents: tuple) -> float:
        stats, n = self.stats, self.stats.n_rows
        if self._bge is not None:
            return self._bge(child, parents)
        if stats.is_discrete[child]:
            return discrete_local(stats.counts(child, parents), self.score, n)
        discrete = [p for p in parents if stats.is_discrete[p]]
        continuous = [p for p in parents if not stats.is_discrete[p]] + [child]
        weight, _, comoments = stats.moments(continuous, discrete)
        return gaussian_local(weight, comoments, self.score, n)

    def adding(self, child: int, parents, candidates) -> np.ndarray:
        """Local scores of ``child`` with ``parents`` plus each of ``candidates``, counting the unknown ones in one pass."""
        parents = tuple(sorted(parents))
        scores = np.empty(len(candidates))
        todo = []
        for i, x in enumerate(candidates):
            value = self._lookup((child, tuple(sorted(parents + (x,)))))
            if value is None:
                todo.append(i)
            else:
                scores[i] = value
        batch = [i for i in todo if self._bge is None and self.stats.is_discrete[child]]
        if len(batch) > 1:
            chosen = [candidates[i] for i in batch]
            joint, starts = self.stats.joint_counts_adding(child, parents, chosen)
            values = discrete_local_batch(joint, starts, self.stats.cardinality[chosen], self.score, self.stats.n_rows)
            for i, x, value in zip(batch, chosen, values):
                scores[i] = self._remember((child, tuple(sorted(parents + (x,)))), float(value))
            done = set(batch)
            todo = [i for i in todo if i not in done]
        for i in todo:
            key = (child, tuple(sorted(parents + (candidates[i],))))
            scores[i] = self._remember(key, self._compute(child, key[1]))
        return scores

    def total(self, parents_of: dict) -> float:
        """The score of a whole graph given as ``{node index: parent indices}``."""
        return float(sum(self.local(child, parents) for child, parents in parents_of.items()))
