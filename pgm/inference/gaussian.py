"""The joint Gaussian of a linear Gaussian network, and Gaussian conditioning.

A network whose nodes are all linear Gaussian, ``x_i = b_i + sum_j B_ij x_j +
e_i`` with independent ``e_i ~ N(0, d_i)``, is one multivariate normal:
``x = (I - B)^-1 (b + e)``, so

    mean       = (I - B)^-1 b
    covariance = (I - B)^-1 D (I - B)^-T.

In topological order ``I - B`` is unit lower triangular, so both come from
triangular solves.  Affine maps, marginals and conditionals of Gaussians are
Gaussian: ``A x + b`` has mean ``A mu + b`` and covariance ``A S A^T``, a
marginal is a sub-block, and conditioning on ``x_B = a`` gives

    mean  = mu_A + S_AB S_BB^-1 (a - mu_B)
    cov   = S_AA - S_AB S_BB^-1 S_BA          (the Schur complement).

Two Mahalanobis quantities are easy to confuse.  The *squared* distance
``Delta = (x - mu)^T S^-1 (x - mu)`` is what appears in the density's
exponent and, for ``x`` drawn from the distribution, follows a chi-square
law with ``k`` degrees of freedom; :meth:`MultivariateNormal.mahalanobis_squared`
returns it.  :meth:`MultivariateNormal.mahalanobis` returns the distance
``sqrt(Delta)``, as :func:`scipy.spatial.distance.mahalanobis` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.linalg

from pgm._random import as_generator
from pgm.errors import DataError, NodeError, StructureError

__all__ = ["MultivariateNormal", "joint_gaussian", "kl_divergence"]

_LOG_2PI = float(np.log(2 * np.pi))


class MultivariateNormal:
    """A multivariate normal distribution over named variables.

    Parameters
    ----------
    names : sequence of str
    mean : array-like, shape (k,)
    covariance : array-like, shape (k, k), symmetric positive definite

    Examples
    --------
    >>> import numpy as np
    >>> from pgm.inference.gaussian import MultivariateNormal
    >>> mvn = MultivariateNormal(["x", "y"], [0.0, 1.0], [[1.0, 0.5], [0.5, 2.0]])
    >>> post = mvn.condition({"x": 2.0})
    >>> float(post.mean[0]), float(post.covariance[0, 0])
    (2.0, 1.75)
    """

    def __init__(self, names: Sequence[str], mean, covariance):
        self.names = tuple(names)
        if len(set(self.names)) != len(self.names):
            raise NodeError(f"variable names must be distinct, got {list(self.names)}")
        self.mean = np.array(mean, dtype=np.float64)
        self.covariance = np.array(covariance, dtype=np.float64)
        k = len(self.names)
        if self.mean.shape != (k,) or self.covariance.shape != (k, k):
            raise ValueError(
                f"{k} variables need a mean of shape ({k},) and a covariance of shape ({k}, {k}); "
                f"got {self.mean.shape} and {self.covariance.shape}"
            )
        if not np.allclose(self.covariance, self.covariance.T, rtol=1e-12, atol=0):
            raise ValueError("the covariance matrix is not symmetric")
        self._index = {name: i for i, name in enumerate(self.names)}
        self._cholesky = None

    def __repr__(self) -> str:
        return f"MultivariateNormal({len(self.names)} variables: {', '.join(self.names[:5])}{', ...' if len(self.names) > 5 else ''})"

    def __str__(self) -> str:
        lines = [f"normal distribution over {', '.join(self.names)}"]
        width = max(len(n) for n in self.names) if self.names else 0
        for name, mean, sd in zip(self.names, self.mean, self.std()):
            lines.append(f"  {name:<{width}}  mean {mean:.6g}  sd {sd:.6g}")
        if len(self.names) > 1:
            lines.append("  correlation:\n" + "\n".join(
                "    " + " ".join(f"{v:7.3f}" for v in row) for row in self.correlation()))
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # Jupyter: mean, sd and covariance, captioned p(x | evidence)
        from pgm.inference.display import caption, normal_html

        return normal_html(self.names, self.mean, self.covariance, caption(self.names, getattr(self, "given", None)))

    def _positions(self, names) -> np.ndarray:
        if isinstance(names, str):
            names = [names]
        positions = []
        for name in names:
            if name not in self._index:
                raise NodeError(f"{name!r} is not a variable of this distribution (variables: {list(self.names)})")
            positions.append(self._index[name])
        return np.asarray(positions, dtype=np.intp)

    @property
    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factor of the covariance."""
        if self._cholesky is None:
            try:
                self._cholesky = np.linalg.cholesky(self.covariance)
            except np.linalg.LinAlgError:
                raise ValueError("the covariance is not positive definite") from None
        return self._cholesky

    def std(self) -> np.ndarray:
        """Marginal standard deviations."""
        return np.sqrt(np.diag(self.covariance))

    def correlation(self) -> np.ndarray:
        """The correlation matrix."""
        s = self.std()
        return self.covariance / np.outer(s, s)

    def marginal(self, names) -> "MultivariateNormal":
        """The distribution of the variables ``names`` (a sub-block of mean and covariance)."""
        idx = self._positions(names)
        return MultivariateNormal([self.names[i] for i in idx], self.mean[idx], self.covariance[np.ix_(idx, idx)])

    def condition(self, evidence: Mapping[str, float]) -> "MultivariateNormal":
        """The distribution of the other variables given ``evidence`` (variable -> observed value).

        Raises
        ------
        NodeError
            An unknown variable.
        DataError
            An observed value that is not a finite number.
        """
        observed = self._positions(list(evidence))
        values = np.array([self._observed_value(self.names[i], evidence[self.names[i]]) for i in observed],
                          dtype=np.float64)
        rest = np.setdiff1d(np.arange(len(self.names)), observed)
        if observed.size == 0:  # nothing observed: the distribution itself (LAPACK may refuse empty matrices)
            return MultivariateNormal(self.names, self.mean, self.covariance)
        if rest.size == 0:  # everything observed: nothing is left to be uncertain about
            return MultivariateNormal([], np.empty(0), np.empty((0, 0)))
        gain, schur = self._conditioning(rest, observed)
        mean = self.mean[rest] + gain @ (values - self.mean[observed])
        return MultivariateNormal([self.names[i] for i in rest], mean, schur)

    def conditional_means(self, evidence: Mapping[str, np.ndarray]) -> tuple[tuple[str, ...], np.ndarray]:
        """Posterior means for many evidence rows at once.

        ``evidence`` maps each observed variable to an array of values (one per
        row).  Returns the names of the unobserved variables and an array of
        shape ``(n_rows, n_unobserved)``; the posterior covariance is the same
        for every row (see :meth:`condition`).
        """
        if not evidence:
            raise ValueError("conditional_means needs at least one observed variable (without evidence the mean is .mean)")
        observed = self._positions(list(evidence))
        columns = []
        for i in observed:
            column = self._numbers(evidence[self.names[i]], self.names[i])
            if column.ndim != 1:
                raise DataError(f"the values of {self.names[i]!r} must be one-dimensional, got shape {column.shape}")
            columns.append(column)
        if len({len(c) for c in columns}) > 1:
            raise DataError(f"the observed columns have different lengths: "
                            f"{ {self.names[i]: len(c) for i, c in zip(observed, columns)} }")
        values = np.column_stack(columns)
        self._refuse_non_finite(values, [self.names[i] for i in observed])
        rest = np.setdiff1d(np.arange(len(self.names)), observed)
        gain, _ = self._conditioning(rest, observed)
        means = self.mean[rest] + (values - self.mean[observed]) @ gain.T
        return tuple(self.names[i] for i in rest), means

    def _conditioning(self, rest, observed):
        s = self.covariance
        s_bb = s[np.ix_(observed, observed)]
        s_ab = s[np.ix_(rest, observed)]
        try:
            factor = scipy.linalg.cho_factor(s_bb, lower=True)
        except np.linalg.LinAlgError:
            names = [self.names[i] for i in observed]
            raise ValueError(
                f"the covariance of the observed variables {names} is singular, so conditioning on them "
                "is not defined (some are deterministic functions of the others)"
            ) from None
        gain = scipy.linalg.cho_solve(factor, s_ab.T).T  # S_AB S_BB^-1
        schur = s[np.ix_(rest, rest)] - gain @ s_ab.T
        return gain, (schur + schur.T) / 2

    @staticmethod
    def _observed_value(name: str, value) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DataError(f"the observed value of {name!r} must be a number, got {value!r}") from None
        if not np.isfinite(number):
            raise DataError(f"the observed value of {name!r} is {number}; evidence must be finite numbers")
        return number

    @staticmethod
    def _numbers(values, what: str) -> np.ndarray:
        try:
            return np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"the values of {what!r} must be numbers") from None

    def _refuse_non_finite(self, rows: np.ndarray, names) -> None:
        bad = ~np.isfinite(rows)
        if bad.any():
            row, column = (int(i) for i in np.argwhere(bad)[0])
            raise DataError(
                f"row {row}: the value of {names[column]!r} is {rows[row, column]}; the density needs finite "
                "values in every column (for rows with missing values use the network's log_likelihood)"
            )

    def _rows(self, x) -> np.ndarray:
        """``x`` as a finite float array of shape (n, k) in :attr:`names` order, or a clear error."""
        k = len(self.names)
        if isinstance(x, Mapping) or hasattr(x, "columns"):
            available = list(x.keys()) if isinstance(x, Mapping) else list(x.columns)
            missing = [name for name in self.names if name not in available]
            if missing:
                raise DataError(f"the data has no column for variable {missing[0]!r} "
                                f"(the distribution is over {list(self.names)})")
            columns = [self._numbers(x[name], name) for name in self.names]
            if any(c.ndim != 1 for c in columns) or len({len(c) for c in columns}) > 1:
                raise DataError("every variable's column must be one-dimensional and of the same length")
            rows = np.column_stack(columns) if columns else np.empty((0, 0))
        else:
            rows = self._numbers(x, "x")
            if rows.ndim == 1:  # one row, or -- with a single variable -- one value per row
                rows = rows[:, None] if k == 1 else rows[None, :]
            if rows.ndim != 2 or rows.shape[1] != k:
                raise DataError(
                    f"x must have one column per variable ({k}: {', '.join(self.names[:5])}"
                    f"{', ...' if k > 5 else ''}), got an array of shape {np.shape(x)}"
                )
        self._refuse_non_finite(rows, self.names)
        return rows

    def mahalanobis_squared(self, x) -> np.ndarray:
        """The squared Mahalanobis distance ``Delta = (x - mean)^T S^-1 (x - mean)`` of each row.

        ``Delta`` is the quantity in the exponent of the density,
        ``log p(x) = -(Delta + log det(2 pi S)) / 2``; for rows drawn from this
        distribution it follows a chi-square law with ``k`` degrees of
        freedom (mean ``k``).  :meth:`mahalanobis` is its square root.

        Parameters
        ----------
        x : array-like of shape (n, k) or (k,), DataFrame or mapping
            Rows in :attr:`names` order, or a column per variable (any order).

        Returns
        -------
        numpy.ndarray of shape (n,)

        Raises
        ------
        DataError
            A missing column, a wrong shape or a value that is not finite.

        Examples
        --------
        >>> from pgm.inference.gaussian import MultivariateNormal
        >>> mvn = MultivariateNormal(["x", "y"], [0.0, 0.0], [[4.0, 0.0], [0.0, 1.0]])
        >>> mvn.mahalanobis_squared([[2.0, 1.0]]).tolist()   # (2/2)^2 + (1/1)^2
        [2.0]
        """
        centred = self._rows(x) - self.mean
        if not self.names:  # no variables: every row is at distance 0 (and LAPACK may refuse empty matrices)
            return np.zeros(len(centred))
        whitened = scipy.linalg.solve_triangular(self.cholesky, centred.T, lower=True)
        return np.einsum("ij,ij->j", whitened, whitened)

    def mahalanobis(self, x) -> np.ndarray:
        """The Mahalanobis **distance** ``sqrt(Delta)`` of each row -- the square root, not ``Delta``.

        ``Delta = (x - mean)^T S^-1 (x - mean)`` is :meth:`mahalanobis_squared`;
        this returns ``sqrt(Delta)``, like :func:`scipy.spatial.distance.mahalanobis`.
        Use the squared form for the density's exponent and for chi-square
        tests.

        ``x`` is an array of shape ``(n, k)`` in :attr:`names` order, or a
        DataFrame / mapping with a column per variable.

        Examples
        --------
        >>> from pgm.inference.gaussian import MultivariateNormal
        >>> mvn = MultivariateNormal(["x", "y"], [0.0, 0.0], [[4.0, 0.0], [0.0, 1.0]])
        >>> mvn.mahalanobis([[2.0, 1.0]]).round(6).tolist()   # sqrt(2)
        [1.414214]
        """
        return np.sqrt(self.mahalanobis_squared(x))

    def logpdf(self, x) -> np.ndarray:
        """Log density of each row (same inputs as :meth:`mahalanobis`)."""
        k = len(self.names)
        return -0.5 * (self.mahalanobis_squared(x) + self._log_det() + k * _LOG_2PI)

    def _log_det(self) -> float:
        return float(2.0 * np.log(np.diag(self.cholesky)).sum()) if self.names else 0.0

    def entropy(self) -> float:
        """Differential entropy in nats, ``(k log(2 pi e) + log det S) / 2``.

        Raises
        ------
        ValueError
            A covariance that is not positive definite (the entropy is minus infinity).

        Examples
        --------
        >>> import math
        >>> from pgm.inference.gaussian import MultivariateNormal
        >>> mvn = MultivariateNormal(["x"], [0.0], [[1.0]])
        >>> math.isclose(mvn.entropy(), 0.5 * math.log(2 * math.pi * math.e))
        True
        """
        k = len(self.names)
        return 0.5 * (k * (_LOG_2PI + 1.0) + self._log_det())

    def affine(self, A, b=None, names=None) -> "MultivariateNormal":
        """The distribution of ``y = A x + b``: normal, with mean ``A mean + b`` and covariance ``A S A^T``.

        Parameters
        ----------
        A : array-like of shape (m, k)
            One row per output; columns follow :attr:`names`.  A 1-D array of
            length ``k`` is one output.
        b : array-like of shape (m,), optional
            Offset, zero by default.
        names : sequence of m str, optional
            Names of the outputs; default ``y0, ..., y{m-1}``.

        Returns
        -------
        MultivariateNormal
            Over ``names``.  When ``A`` has rank below ``m`` (e.g. more outputs
            than inputs) its covariance is singular: fine for moments and
            marginals, but its density, entropy and conditionals on all of it
            are undefined.

        Raises
        ------
        ValueError
            ``A``, ``b`` or ``names`` of the wrong shape, or non-finite entries.

        Examples
        --------
        >>> from pgm.inference.gaussian import MultivariateNormal
        >>> mvn = MultivariateNormal(["x", "y"], [1.0, 2.0], [[1.0, 0.5], [0.5, 2.0]])
        >>> sums = mvn.affine([[1.0, 1.0], [1.0, -1.0]], names=["x+y", "x-y"])
        >>> sums.mean.tolist()
        [3.0, -1.0]
        >>> sums.covariance.tolist()   # Var(x+y) = 1 + 2 + 2(0.5), Cov(x+y, x-y) = 1 - 2
        [[4.0, -1.0], [-1.0, 2.0]]
        """
        k = len(self.names)
        matrix = self._finite(A, "A")
        if matrix.ndim == 1:
            matrix = matrix[None, :]
        if matrix.ndim != 2 or matrix.shape[1] != k:
            raise ValueError(
                f"A must have one column per variable ({k}: {', '.join(self.names[:5])}"
                f"{', ...' if k > 5 else ''}), got shape {np.shape(A)}"
            )
        m = matrix.shape[0]
        offset = np.zeros(m) if b is None else self._finite(b, "b")
        if offset.ndim == 0 and m == 1:
            offset = offset.reshape(1)
        if offset.shape != (m,):
            raise ValueError(f"b must have one entry per row of A ({m}), got shape {np.shape(b)}")
        if names is None:
            names = [f"y{i}" for i in range(m)]
        elif isinstance(names, str) or len(names) != m:
            raise ValueError(f"names must be a sequence of one name per row of A ({m}), got {names!r}")
        covariance = matrix @ self.covariance @ matrix.T
        return MultivariateNormal(names, matrix @ self.mean + offset, (covariance + covariance.T) / 2)

    @staticmethod
    def _finite(values, what: str) -> np.ndarray:
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be an array of numbers") from None
        if not np.isfinite(array).all():
            raise ValueError(f"{what} has an entry that is not finite")
        return array

    def sample(self, n: int, *, seed=None) -> np.ndarray:
        """``n`` draws, shape ``(n, k)`` in :attr:`names` order."""
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"the number of draws must be a non-negative integer, got {n!r}")
        rng = as_generator(seed)
        return self.mean + rng.standard_normal((n, len(self.names))) @ self.cholesky.T

    def kl_divergence(self, other: "MultivariateNormal") -> float:
        """KL(self || other) in nats; ``other`` must have the same variables (any order)."""
        if set(self.names) != set(other.names):
            raise NodeError(f"KL divergence needs the same variables; got {list(self.names)} and {list(other.names)}")
        other = other.marginal(self.names)  # align the order
        k = len(self.names)
        if k == 0:
            return 0.0
        l_other = other.cholesky
        m = scipy.linalg.solve_triangular(l_other, self.cholesky, lower=True)
        trace = np.sum(m * m)
        diff = scipy.linalg.solve_triangular(l_other, other.mean - self.mean, lower=True)
        return float(0.5 * (trace + diff @ diff - k + other._log_det() - self._log_det()))


def joint_gaussian(network) -> MultivariateNormal:
    """The joint normal distribution of an all-linear-Gaussian network (variables in node order).

    Raises
    ------
    StructureError
        A discrete node, a node with nonlinear features, or with discrete parents.

    Examples
    --------
    >>> import pgm
    >>> joint = pgm.load("ecoli70").joint_gaussian()
    >>> joint.covariance.shape
    (46, 46)
    """
    for node in network.nodes:
        cpd = network[node]
        if cpd.is_discrete or not cpd.is_linear:
            raise StructureError(
                f"node {node!r} is not linear Gaussian in its parents, so the network is not one joint "
                "Gaussian (every node must be continuous, with identity features and no discrete parents)"
            )
    order = list(network.topological_order())
    position = {node: i for i, node in enumerate(order)}
    k = len(order)
    if k == 0:  # LAPACK in older SciPy refuses empty matrices
        return MultivariateNormal([], np.empty(0), np.empty((0, 0)))
    weights = np.zeros((k, k))
    intercept = np.empty(k)
    variance = np.empty(k)
    for i, node in enumerate(order):
        cpd = network[node]
        intercept[i] = cpd.intercept
        variance[i] = cpd.variance
        for feature, w in zip(cpd.features, cpd.weights):
            weights[i, position[feature.parents[0]]] += w
    unit_lower = np.eye(k) - weights  # I - B, lower triangular in topological order
    mean = scipy.linalg.solve_triangular(unit_lower, intercept, lower=True, unit_diagonal=True)
    inverse_scaled = scipy.linalg.solve_triangular(unit_lower, np.diag(np.sqrt(variance)), lower=True, unit_diagonal=True)
    covariance = inverse_scaled @ inverse_scaled.T
    back = np.asarray([position[node] for node in network.nodes], dtype=np.intp)
    return MultivariateNormal(network.nodes, mean[back], covariance[np.ix_(back, back)])


def kl_divergence(p, q) -> float:
    """KL(p || q) for two linear Gaussian networks (or MultivariateNormal objects) over the same variables."""
    p = p if isinstance(p, MultivariateNormal) else joint_gaussian(p)
    q = q if isinstance(q, MultivariateNormal) else joint_gaussian(q)
    return p.kl_divergence(q)
