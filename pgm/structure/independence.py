"""Conditional independence tests on the sufficient table: G-test, Pearson's chi-square, Fisher's z.

Each test answers "is ``x`` independent of ``y`` given ``S``?" with a
p-value, reading only the statistics of ``{x, y} + S``:

- ``"g"`` / ``"chi2"`` (discrete): within each configuration ``s`` of ``S``,
  the counts of ``(x, y)`` against their product of margins.  The degrees
  of freedom are corrected for empty cells as in Tetrad and bnlearn: a
  stratum contributes ``(r_s - 1)(c_s - 1)`` where ``r_s`` and ``c_s`` are the
  numbers of *non-empty* rows and columns -- with many empty strata, the
  textbook ``(k_x - 1)(k_y - 1) q`` makes the test reject far too rarely.
  With no degrees of freedom left, nothing can be rejected (p = 1).
- ``"fisher-z"`` (continuous): the partial correlation ``r`` of ``x`` and
  ``y`` given ``S`` from the inverse of their correlation matrix;
  ``sqrt(N - |S| - 3) * atanh(r)`` is standard normal under independence.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

from pgm.errors import StructureError
from pgm.structure.statistics import FamilyStatistics

__all__ = ["TESTS", "IndependenceTest"]

TESTS = ("g", "chi2", "fisher-z")


class IndependenceTest:
    """A conditional independence test over the variables of a :class:`FamilyStatistics`, by name.

    Parameters
    ----------
    stats : FamilyStatistics
    test : {"g", "chi2", "fisher-z", "auto"}
        ``"auto"``: the G-test for discrete data, Fisher's z for continuous.

    Attributes
    ----------
    calls : int
        Tests done.

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import FamilyStatistics, sufficient_table
    >>> from pgm.structure.independence import IndependenceTest
    >>> test = IndependenceTest(FamilyStatistics(sufficient_table(pgm.load("asia").sample(5000, seed=0))))
    >>> test("smoke", "dysp", ()) < 0.01, test("smoke", "dysp", ("lung", "bronc")) > 0.01
    (True, True)
    """

    def __init__(self, stats: FamilyStatistics, test: str = "auto"):
        self.stats = stats
        discrete = stats.is_discrete
        if test == "auto":
            test = "g" if discrete.all() else "fisher-z" if not discrete.any() else None
            if test is None:
                raise StructureError("the PC algorithm's tests need variables that are all discrete (G-test, "
                                     "chi-square) or all continuous (Fisher-z)")
        if test not in TESTS:
            raise ValueError(f"test must be one of {', '.join(TESTS)} or 'auto', got {test!r}")
        if test in ("g", "chi2") and not discrete.all():
            raise StructureError(f"the {test} test needs discrete variables; "
                                 f"{stats.names[int(np.argmin(discrete))]!r} is continuous")
        if test == "fisher-z" and discrete.any():
            raise StructureError(f"the Fisher-z test needs continuous variables; "
                                 f"{stats.names[int(np.argmax(discrete))]!r} is discrete")
        self.test = test
        self.calls = 0
        if test == "fisher-z":
            weight, _, comoments = stats.moments(list(range(len(stats.names))))
            scale = np.sqrt(np.diag(comoments[0]))
            self._correlation = comoments[0] / np.outer(scale, scale)
            self._n = float(weight[0])

    def __call__(self, x: str, y: str, given) -> float:
        """The p-value of the hypothesis ``x`` independent of ``y`` given ``given``."""
        self.calls += 1
        index = self.stats.index
        i, j, conditioning = index[x], index[y], [index[g] for g in given]
        if self.test == "fisher-z":
            return self._fisher_z(i, j, conditioning)
        return self._contingency(i, j, conditioning)

    def _fisher_z(self, i: int, j: int, conditioning: list) -> float:
        variables = [i, j] + conditioning
        precision = np.linalg.pinv(self._correlation[np.ix_(variables, variables)])
        r = -precision[0, 1] / np.sqrt(precision[0, 0] * precision[1, 1])
        dof = self._n - len(conditioning) - 3
        if dof <= 0:
            return 1.0
        z = np.sqrt(dof) * np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
        return float(2 * scipy.stats.norm.sf(abs(z)))

    def _contingency(self, i: int, j: int, conditioning: list) -> float:
        kx, ky = int(self.stats.cardinality[i]), int(self.stats.cardinality[j])
        counts = self.stats.counts(j, tuple(conditioning) + (i,)).reshape(-1, kx, ky)
        rows = counts.sum(axis=2, keepdims=True)
        columns = counts.sum(axis=1, keepdims=True)
        totals = counts.sum(axis=(1, 2), keepdims=True)
        expected = rows * columns / np.where(totals > 0, totals, 1)
        dof = int(np.sum(np.maximum((rows[:, :, 0] > 0).sum(axis=1) - 1, 0)
                         * np.maximum((columns[:, 0, :] > 0).sum(axis=1) - 1, 0)))
        if dof == 0:
            return 1.0
        positive = counts > 0
        if self.test == "g":
            statistic = 2 * float(np.sum(counts[positive] * np.log(counts[positive] / expected[positive])))
        else:
            cells = expected > 0
            statistic = float(np.sum((counts[cells] - expected[cells]) ** 2 / expected[cells]))
        return float(scipy.stats.chi2.sf(statistic, dof))
