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
- ``"cg"`` (any mix of discrete and continuous; the default for mixed
  data): the conditional Gaussian likelihood-ratio test (Andrews, Ramsey &
  Cooper, 2018).  A set ``V`` of variables is modelled as its discrete
  members' multinomial times a Gaussian of its continuous members with a
  mean and a covariance per discrete configuration; with ``l(V)`` the
  maximised log-likelihood and ``p(V)`` the free parameters,
  ``2 (l(XYS) - l(XS) - l(YS) + l(S))`` is chi-square with
  ``p(XYS) - p(XS) - p(YS) + p(S)`` degrees of freedom under independence.
  All discrete it is the G-test (without the per-stratum df correction);
  all continuous, the likelihood-ratio test of the partial correlation.
  Configurations seen in no more rows than the continuous members plus one
  (whose covariance cannot be estimated) count for their discrete part only.
"""

from __future__ import annotations

import numpy as np
import scipy.special
import scipy.stats

from pgm.errors import StructureError
from pgm.structure.statistics import FamilyStatistics

__all__ = ["TESTS", "IndependenceTest"]

TESTS = ("g", "chi2", "fisher-z", "cg")

#: Cells above which :meth:`IndependenceTest.focus` does not build a joint table.
_LARGEST_FOCUS = 2_000_000


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
            test = "g" if discrete.all() else "fisher-z" if not discrete.any() else "cg"
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
        if self.test == "cg":
            return self._conditional_gaussian(i, j, conditioning)
        if not conditioning and self.test in ("g", "chi2"):
            if getattr(self, "_pair_p", None) is None:
                self._pair_p = self._unconditional_p_values()
            return self._pair_p[(i, j)]
        return self._contingency(i, j, conditioning)

    def _unconditional_p_values(self) -> dict:
        """The p-value of every pair of discrete variables, unconditionally: pairs of one table shape at once."""
        if getattr(self, "_pairs", None) is None:
            self._pairs = self.stats.pairwise_counts()  # every pair in one product
        by_shape: dict = {}
        for pair, table in self._pairs.items():
            by_shape.setdefault(table.shape, []).append(pair)
        result = {}
        for pairs in by_shape.values():
            counts = np.stack([self._pairs[pair] for pair in pairs])  # (pairs, x states, y states)
            rows, columns = counts.sum(axis=2), counts.sum(axis=1)
            totals = rows.sum(axis=1)
            dof = np.maximum((rows > 0).sum(axis=1) - 1, 0) * np.maximum((columns > 0).sum(axis=1) - 1, 0)
            if self.test == "g":
                xlogx = scipy.special.xlogy
                statistic = 2 * (xlogx(counts, counts).sum(axis=(1, 2)) - xlogx(rows, rows).sum(axis=1)
                                 - xlogx(columns, columns).sum(axis=1) + xlogx(totals, totals))
            else:
                expected = rows[:, :, None] * columns[:, None, :] / np.where(totals > 0, totals, 1)[:, None, None]
                ratio = np.divide(counts ** 2, expected, out=np.zeros_like(counts), where=expected > 0)
                statistic = ratio.sum(axis=(1, 2)) - totals
            statistic = np.maximum(statistic, 0.0)
            p_values = np.where(dof > 0, scipy.special.chdtrc(np.maximum(dof, 1), statistic), 1.0)
            result.update(zip(pairs, p_values.tolist()))
        return result

    def _log_likelihood(self, variables: list) -> tuple[float, float]:
        """The conditional Gaussian model of ``variables`` (indices): maximised log-likelihood and free parameters."""
        stats = self.stats
        discrete = [v for v in variables if stats.is_discrete[v]]
        continuous = [v for v in variables if not stats.is_discrete[v]]
        weight, _, comoments = stats.moments(continuous, discrete)
        seen = weight > 0
        n, total = weight[seen], weight.sum()
        value = float(np.sum(n * np.log(n / total)))
        parameters = float(seen.sum() - 1)
        c = len(continuous)
        if c:
            estimable = n > c + 1
            scatter = comoments[seen][estimable] / n[estimable, None, None]
            sign, log_det = np.linalg.slogdet(scatter)
            log_det = np.where(sign > 0, log_det, -np.inf)  # a singular covariance: an unbounded likelihood
            value -= float(0.5 * np.sum(n[estimable] * (c * np.log(2 * np.pi) + log_det + c)))
            parameters += float(estimable.sum() * (c + c * (c + 1) / 2))
        return value, parameters

    def _conditional_gaussian(self, i: int, j: int, conditioning: list) -> float:
        terms = [(+1, [i, j] + conditioning), (-1, [i] + conditioning), (-1, [j] + conditioning), (+1, conditioning)]
        statistic = dof = 0.0
        for sign, variables in terms:
            value, parameters = self._log_likelihood(variables) if variables else (0.0, 0.0)
            statistic += 2 * sign * value
            dof += sign * parameters
        if dof <= 0 or not np.isfinite(statistic):
            return 1.0 if dof <= 0 else 0.0
        return float(scipy.special.chdtrc(dof, max(statistic, 0.0)))

    def _fisher_z(self, i: int, j: int, conditioning: list) -> float:
        variables = [i, j] + conditioning
        precision = np.linalg.pinv(self._correlation[np.ix_(variables, variables)])
        r = -precision[0, 1] / np.sqrt(precision[0, 0] * precision[1, 1])
        dof = self._n - len(conditioning) - 3
        if dof <= 0:
            return 1.0
        z = np.sqrt(dof) * np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
        return float(2 * scipy.stats.norm.sf(abs(z)))

    def p_values_given_each(self, x: str, y: str, candidates, given=()) -> np.ndarray:
        """The p-values of ``x`` independent of ``y`` given ``given`` and ``z``, for every ``z`` of ``candidates``.

        For discrete tests the counts of all the candidates come from one
        pass (:meth:`FamilyStatistics.joint_counts_adding`) and the
        statistics are summed per candidate; equal to calling the test once
        per conditioning set ``given + (z,)``.
        """
        candidates, given = list(candidates), list(given)
        if self.test in ("fisher-z", "cg") or not candidates:
            return np.array([self(x, y, tuple(given) + (z,)) for z in candidates])
        self.calls += len(candidates)
        stats = self.stats
        reduced = getattr(self, "_reduced", None)
        if reduced is not None and all(v in reduced.index for v in [x, y, *candidates, *given]):
            stats = reduced  # the focused variables' distinct rows: fewer than the data's
        index = stats.index
        i, j, others = index[x], index[y], [index[z] for z in candidates]
        kx = int(stats.cardinality[i])
        parents = tuple(index[g] for g in given) + (i,)
        joint, starts = stats.joint_counts_adding(j, parents, others)  # (given and x states, y states, z)
        joint = joint.reshape(-1, kx, joint.shape[1], joint.shape[2])  # (given configuration, x, y, z columns)
        rows, columns = joint.sum(axis=2), joint.sum(axis=1)  # (q, x states, z columns), (q, y states, z columns)
        totals = rows.sum(axis=1)  # (q, z columns)
        per_stratum = (np.maximum((rows > 0).sum(axis=1) - 1, 0) * np.maximum((columns > 0).sum(axis=1) - 1, 0))
        dof = np.add.reduceat(per_stratum.sum(axis=0), starts)
        if self.test == "g":
            xlogx = scipy.special.xlogy
            per_column = (xlogx(joint, joint).sum(axis=(0, 1, 2)) - xlogx(rows, rows).sum(axis=(0, 1))
                          - xlogx(columns, columns).sum(axis=(0, 1)) + xlogx(totals, totals).sum(axis=0))
            statistic = 2 * np.add.reduceat(per_column, starts)
        else:
            expected = rows[:, :, None, :] * columns[:, None, :, :] / np.where(totals > 0, totals, 1)[:, None, None, :]
            cells = expected > 0
            ratio = np.divide(joint ** 2, expected, out=np.zeros_like(joint), where=cells)
            statistic = np.add.reduceat(ratio.sum(axis=(0, 1, 2)) - totals.sum(axis=0), starts)
        statistic = np.maximum(statistic, 0.0)  # rounding can leave -1e-12 for exact independence
        return np.where(dof > 0, scipy.special.chdtrc(np.maximum(dof, 1), statistic), 1.0)

    def focus(self, variables) -> None:
        """Say that the next tests involve only ``variables`` (names): their joint table is counted once.

        Each test then sums the axes it does not need out of that table
        instead of passing over the data again.  PC calls this with a node
        and its adjacent nodes before testing that node's edges; a table
        with too many cells is not built (the tests then count as usual).
        """
        self._focus = self._reduced = None
        if self.test in ("fisher-z", "cg"):
            return
        index = [self.stats.index[v] for v in variables]
        self._reduced = _projected(self.stats, index)
        cells = float(np.prod(self.stats.cardinality[index].astype(np.float64)))
        if cells > min(_LARGEST_FOCUS, 8 * self.stats.table.n_groups + 65_536):
            return
        table = self.stats.counts(index[-1], tuple(index[:-1]))
        self._focus = (index, table.reshape(self.stats.cardinality[index]))

    def _counts(self, i: int, j: int, conditioning: list) -> np.ndarray:
        """Counts of (conditioning configuration, x, y), from the focused table, the pairwise tables or the data."""
        wanted = list(conditioning) + [i, j]
        focus = getattr(self, "_focus", None)
        if focus is not None and set(wanted) <= set(focus[0]):
            index, table = focus
            others = tuple(a for a, v in enumerate(index) if v not in wanted)
            kept = [v for v in index if v in wanted]
            marginal = table.sum(axis=others) if others else table
            return marginal.transpose([kept.index(v) for v in wanted])
        if not conditioning:
            if getattr(self, "_pairs", None) is None:
                self._pairs = self.stats.pairwise_counts()  # every pair in one product
            return self._pairs[(i, j)]
        return self.stats.counts(j, tuple(conditioning) + (i,))

    def _contingency(self, i: int, j: int, conditioning: list) -> float:
        kx, ky = int(self.stats.cardinality[i]), int(self.stats.cardinality[j])
        counts = self._counts(i, j, conditioning).reshape(-1, kx, ky)
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
        # chdtrc is chi2.sf without scipy.stats' argument checking, which cost more than the counting here.
        return float(scipy.special.chdtrc(dof, statistic))


def _projected(stats: FamilyStatistics, variables: list) -> FamilyStatistics | None:
    """The statistics of the distinct rows of discrete ``variables`` alone (weights pooled), or None.

    Counts over these variables are the same from either table; this one is
    usually far shorter (alarm, 10,000 rows: a node and its neighbours take
    a fraction of the data's distinct rows), and a counting pass costs its
    length.  None when the variables' configurations overflow 62 bits or
    shrink the table by less than a tenth (the projection would not pay).
    """
    from pgm.structure.table import SufficientTable

    cards = stats.cardinality[variables].astype(np.float64)
    if not np.all(stats.is_discrete[variables]) or np.sum(np.log2(cards)) > 62:
        return None
    key, _ = stats.configuration(variables)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if 10 * first.size > 9 * stats.table.n_groups:
        return None
    table = stats.table
    names = [stats.names[v] for v in variables]
    columns = [table.discrete.index(n) for n in names]
    weight = np.bincount(inverse.ravel(), weights=table.weight, minlength=first.size)
    g = first.size
    return FamilyStatistics(SufficientTable(tuple(names), {n: table.states[n] for n in names},
                                            table.codes[first][:, columns], weight, np.zeros((g, 0)),
                                            np.zeros((g, 0, 0))))
