"""Priors as pseudo-statistics.

A conjugate prior adds *pseudo-statistics* to the data's sufficient
statistics: a Dirichlet(alpha) prior on a table row adds alpha pseudo-counts
to each cell; a ridge (Gaussian) prior on a linear Gaussian node's weights
adds ``alpha`` to the diagonal of the features' centred Gram block, with no
weight of its own.  Fitting with a prior is therefore
``from_statistics(merge(data statistics, pseudo-statistics))`` -- the same code
path as maximum likelihood, EM and chunked fitting.

For a table row with counts ``n_k`` (total ``n``) under a Dirichlet(``alpha_k``)
prior (total ``alpha_0``, ``k`` states) there are two point estimates, and
both are available:

- the posterior **mean** ``(n_k + alpha_k) / (n + alpha_0)`` -- what
  ``Dirichlet(alpha)`` and ``BDeu(ess)`` give by default, by adding ``alpha``
  as pseudo-counts;
- the posterior **mode** (MAP) ``(n_k + alpha_k - 1) / (n + alpha_0 - k)`` --
  ``Dirichlet(alpha, estimate="map")``, which adds ``alpha - 1``.

``Dirichlet(1)`` is therefore Laplace smoothing (the mean under a uniform
prior), and ``Dirichlet(1, estimate="map")`` is maximum likelihood.  The whole
posterior, not just a point, is :func:`pgm.learning.posterior.parameter_posterior`;
its prior for linear Gaussian nodes is :class:`NormalInverseGamma`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from pgm.errors import CPDError

__all__ = ["Prior", "Dirichlet", "BDeu", "Ridge", "InverseGamma", "NormalInverseGamma"]

_ESTIMATES = ("mean", "map")


def _check_estimate(estimate: str) -> str:
    if estimate not in _ESTIMATES:
        raise ValueError(f"estimate must be 'mean' (posterior mean) or 'map' (posterior mode), got {estimate!r}")
    return estimate


class Prior:
    """Base class: a prior supplies pseudo-statistics for the CPDs it applies to."""

    def pseudo_statistics(self, cpd) -> np.ndarray | None:
        """Pseudo-statistics with the shape of ``cpd``'s statistics, or None if the prior does not apply."""
        return None

    def variance_prior(self, cpd) -> tuple[float, float] | None:
        """``(shape, scale)`` of an inverse-gamma prior on a Gaussian node's variance, or None."""
        return None


class Dirichlet(Prior):
    """A Dirichlet(alpha) prior on every row of the tables of discrete nodes.

    Fitting with it gives the posterior mean of each row,
    ``(n_k + alpha_k) / (n + alpha_0)`` (``alpha`` added as pseudo-counts), or
    with ``estimate="map"`` the posterior mode
    ``(n_k + alpha_k - 1) / (n + alpha_0 - k)``.
    :func:`~pgm.learning.posterior.parameter_posterior` keeps the whole
    posterior.

    Parameters
    ----------
    alpha : float, or mapping of node to float or array
        The concentration of every cell of every table; or, per node, a
        scalar or an array broadcastable to that node's table shape
        ``(*parent_cardinalities, n_states)``.  Nodes not in the mapping get
        no prior.
    estimate : {"mean", "map"}, default "mean"
        Which point estimate :meth:`~pgm.BayesianNetwork.fit` returns.
        ``"map"`` needs ``alpha >= 1`` (below 1 the density is unbounded at
        the simplex's edge and has no interior mode).

    Examples
    --------
    >>> import pgm
    >>> coin = pgm.BayesianNetwork({"flip": pgm.Categorical(["heads", "tails"])})
    >>> flips = {"flip": ["heads"] * 3 + ["tails"]}
    >>> float(coin.fit(flips, prior=pgm.Dirichlet(2))["flip"].table[0])                  # (3 + 2) / (4 + 4)
    0.625
    >>> float(coin.fit(flips, prior=pgm.Dirichlet(2, estimate="map"))["flip"].table[0])  # (3 + 1) / (4 + 2)
    0.6666666666666666
    """

    def __init__(self, alpha, *, estimate: str = "mean"):
        self.alpha = alpha
        self.estimate = _check_estimate(estimate)
        values = alpha.values() if isinstance(alpha, Mapping) else [alpha]
        for value in values:
            array = np.asarray(value, dtype=np.float64)
            if not (np.isfinite(array).all() and (array >= 0).all()):
                raise CPDError(f"Dirichlet pseudo-counts must be finite and non-negative, got {value!r}")
            if estimate == "map" and (array < 1).any():
                raise CPDError(
                    f"the posterior mode (estimate='map') needs Dirichlet concentrations of at least 1, got {value!r}; "
                    "below 1 the density is unbounded at the edge of the simplex"
                )

    def concentration(self, cpd) -> np.ndarray | None:
        """The Dirichlet concentration of every cell of ``cpd``'s table, or None if the prior does not apply."""
        if not cpd.is_discrete or cpd.table_shape is None:  # a softmax of continuous parents has no table
            return None
        if isinstance(self.alpha, Mapping):
            if cpd.variable not in self.alpha:
                return None
            value = np.asarray(self.alpha[cpd.variable], dtype=np.float64)
        else:
            value = np.asarray(self.alpha, dtype=np.float64)
        try:
            return np.broadcast_to(value, cpd.table_shape).copy()
        except ValueError:
            raise CPDError(
                f"Dirichlet pseudo-counts for {cpd.variable!r} have shape {value.shape}, which does not "
                f"broadcast to its table shape {cpd.table_shape}"
            ) from None

    def pseudo_statistics(self, cpd):
        alpha = self.concentration(cpd)
        if alpha is None or self.estimate == "mean":
            return alpha
        return alpha - 1.0

    def __repr__(self) -> str:
        extra = "" if self.estimate == "mean" else f", estimate={self.estimate!r}"
        return f"Dirichlet({self.alpha!r}{extra})"


class BDeu(Prior):
    """The BDeu prior: an equivalent sample size spread uniformly over each table.

    Every cell of node i's table gets the Dirichlet concentration
    ``equivalent_sample_size / (q_i r_i)``, where ``q_i`` is the number of
    parent configurations and ``r_i`` the number of states (Heckerman, Geiger
    & Chickering, 1995).  Fitting with it gives the posterior mean (the
    concentrations are added as pseudo-counts); its posterior's
    :meth:`~pgm.learning.posterior.ParameterPosterior.log_marginal_likelihood`
    is the BDeu score.

    Parameters
    ----------
    equivalent_sample_size : float, default 1.0
        The total pseudo-count of each table, spread over its cells.

    Examples
    --------
    >>> import pgm
    >>> pgm.BDeu(10).concentration(pgm.load("cancer")["Cancer"]).shape   # 4 parent configurations x 2 states
    (2, 2, 2)
    """

    def __init__(self, equivalent_sample_size: float = 1.0):
        ess = float(equivalent_sample_size)
        if not (np.isfinite(ess) and ess > 0):
            raise CPDError(f"the equivalent sample size must be positive, got {equivalent_sample_size!r}")
        self.equivalent_sample_size = ess

    def concentration(self, cpd) -> np.ndarray | None:
        """The Dirichlet concentration of every cell of ``cpd``'s table, or None for a continuous node."""
        if not cpd.is_discrete or cpd.table_shape is None:
            return None
        return np.full(cpd.table_shape, self.equivalent_sample_size / int(np.prod(cpd.table_shape)))

    pseudo_statistics = concentration

    def __repr__(self) -> str:
        return f"BDeu({self.equivalent_sample_size!r})"


class Ridge(Prior):
    """A zero-mean Gaussian prior on linear Gaussian weights (ridge regression).

    Adds ``alpha`` to the diagonal of the features' centred Gram block, so
    the weights solve ``(C_ff + alpha I) w = C_fx`` and the intercept, which
    is not penalised, is ``mean_x - w . mean_f`` -- ridge regression with an
    unpenalised intercept.  The
    residual variance then includes the penalty, ``(RSS + alpha |w|^2) / n``.
    Use it to fit collinear or nearly collinear designs.

    Parameters
    ----------
    alpha : float
        The penalty, the prior precision of each weight relative to the
        residual variance; non-negative.
    """

    def __init__(self, alpha: float):
        alpha = float(alpha)
        if not (np.isfinite(alpha) and alpha > 0):
            raise CPDError(f"the ridge penalty must be positive, got {alpha!r}")
        self.alpha = alpha

    def pseudo_statistics(self, cpd):
        if cpd.is_discrete:
            return None
        d = cpd.n_features
        pseudo = np.zeros((cpd.n_configurations, d + 2, d + 2))
        idx = np.arange(1, d + 1)
        pseudo[:, idx, idx] = self.alpha
        cards = tuple(len(s) for s in cpd.parent_states)
        return pseudo.reshape(cards + (d + 2, d + 2))

    def __repr__(self) -> str:
        return f"Ridge({self.alpha!r})"


class InverseGamma(Prior):
    """An inverse-gamma prior on the residual variance of Gaussian nodes, so that variances cannot collapse.

    With shape ``a`` and scale ``b``, the fitted variance of each
    configuration is the posterior mode ``(RSS + 2 b) / (n + 2 a + 2)`` for
    ``n`` rows (or total weight) and residual sum of squares ``RSS``, instead
    of ``RSS / n``: never below ``b / (a + 1 + n / 2)``.  Weights and
    intercepts are unchanged.  In EM this keeps a mixture component that
    captures a single point from collapsing to zero variance.

    Parameters
    ----------
    scale : float
        ``b > 0``; roughly, the prior's guess of the variance times ``a + 1``.
    shape : float, default 1
        ``a >= 0``; its weight, in units of half a row.

    Examples
    --------
    >>> import pgm
    >>> net = pgm.BayesianNetwork({"x": pgm.Gaussian(0.0, 1.0)})
    >>> few = {"x": [0.0, 0.0, 1e-9]}      # three nearly equal values
    >>> float(net.fit(few, prior=pgm.InverseGamma(scale=0.5))["x"].variance) > 0.1
    True
    """

    def __init__(self, scale: float, shape: float = 1.0):
        scale, shape = float(scale), float(shape)
        if not (np.isfinite(scale) and scale > 0):
            raise CPDError(f"the inverse-gamma scale must be positive, got {scale!r}")
        if not (np.isfinite(shape) and shape >= 0):
            raise CPDError(f"the inverse-gamma shape must be non-negative, got {shape!r}")
        self.scale, self.shape = scale, shape

    def variance_prior(self, cpd):
        return None if cpd.is_discrete else (self.shape, self.scale)

    def __repr__(self) -> str:
        return f"InverseGamma(scale={self.scale!r}, shape={self.shape!r})"


class NormalInverseGamma(Prior):
    """The conjugate prior of a linear Gaussian node: Normal on the coefficients, inverse-gamma on the variance.

    For each configuration of the node's discrete parents, with coefficients
    ``theta = [intercept, weights]`` and residual variance ``sigma^2``::

        sigma^2          ~ InverseGamma(shape, scale)
        theta | sigma^2  ~ Normal(mean, sigma^2 * precision^-1)

    It is the prior of :func:`~pgm.learning.posterior.parameter_posterior`
    for continuous nodes (Bayesian linear regression), whose
    ``log_marginal_likelihood`` is then the closed-form evidence of the
    regression.  For a point estimate with :meth:`~pgm.BayesianNetwork.fit`,
    use the posterior's ``mean()`` or ``map()`` -- or :class:`Ridge` and
    :class:`InverseGamma`, which act on the fit directly.

    Parameters
    ----------
    precision : float, array of shape (p,) or (p, p), default 1
        Prior precision of ``theta`` in units of ``1 / sigma^2``: a scalar
        (the same for every coefficient), a diagonal, or a full
        positive-definite matrix; ``p = 1 + number of features``.
    shape, scale : float, default 1
        The inverse-gamma's ``a > 0`` and ``b > 0``.
    mean : float or array of shape (p,), default 0
        Prior mean of ``theta``.

    Examples
    --------
    >>> import pgm
    >>> pgm.NormalInverseGamma(precision=0.01, shape=2, scale=1)
    NormalInverseGamma(precision=0.01, shape=2.0, scale=1.0, mean=0.0)
    """

    def __init__(self, precision=1.0, shape: float = 1.0, scale: float = 1.0, mean=0.0):
        shape, scale = float(shape), float(scale)
        if not (np.isfinite(shape) and shape > 0):
            raise CPDError(f"the inverse-gamma shape must be positive, got {shape!r}")
        if not (np.isfinite(scale) and scale > 0):
            raise CPDError(f"the inverse-gamma scale must be positive, got {scale!r}")
        array = np.asarray(precision, dtype=np.float64)
        if array.ndim > 2 or not np.isfinite(array).all():
            raise CPDError(f"the prior precision must be a finite scalar, vector or matrix, got {precision!r}")
        if array.ndim < 2 and (array <= 0).any():
            raise CPDError(f"the prior precision must be positive, got {precision!r}")
        mean_array = np.asarray(mean, dtype=np.float64)
        if mean_array.ndim > 1 or not np.isfinite(mean_array).all():
            raise CPDError(f"the prior mean must be a finite scalar or vector, got {mean!r}")
        self.precision, self.shape, self.scale, self.mean = precision, shape, scale, mean

    def coefficients(self, cpd) -> tuple[np.ndarray, np.ndarray] | None:
        """``(mean, precision)`` of ``theta`` for ``cpd``, shapes ``(p,)`` and ``(p, p)``; None for a discrete node."""
        if cpd.is_discrete:
            return None
        p = 1 + cpd.n_features
        precision = np.asarray(self.precision, dtype=np.float64)
        if precision.ndim == 2:
            if precision.shape != (p, p):
                raise CPDError(
                    f"the prior precision for {cpd.variable!r} must be {p} x {p} (intercept and {p - 1} "
                    f"weight(s)), got shape {precision.shape}"
                )
            if not np.allclose(precision, precision.T) or np.linalg.eigvalsh(precision)[0] <= 0:
                raise CPDError(f"the prior precision for {cpd.variable!r} must be symmetric positive definite")
        else:
            try:
                precision = np.diag(np.broadcast_to(precision, (p,)).astype(np.float64))
            except ValueError:
                raise CPDError(
                    f"the prior precision for {cpd.variable!r} must have {p} entries (intercept and "
                    f"{p - 1} weight(s)), got shape {precision.shape}"
                ) from None
        try:
            mean = np.broadcast_to(np.asarray(self.mean, dtype=np.float64), (p,)).copy()
        except ValueError:
            raise CPDError(
                f"the prior mean for {cpd.variable!r} must have {p} entries, got {np.shape(self.mean)}"
            ) from None
        return mean, precision

    def pseudo_statistics(self, cpd):
        if cpd.is_discrete:
            return None
        raise CPDError(
            f"NormalInverseGamma is a prior for parameter_posterior, not a point-estimate prior for fit "
            f"(node {cpd.variable!r}); use net.parameter_posterior(data, prior).mean() or .map(), or fit "
            "with Ridge / InverseGamma"
        )

    def __repr__(self) -> str:
        return (f"NormalInverseGamma(precision={self.precision!r}, shape={self.shape!r}, scale={self.scale!r}, "
                f"mean={self.mean!r})")


def variance_prior(prior, cpd) -> tuple[float, float] | None:
    """The inverse-gamma ``(shape, scale)`` that ``prior`` gives ``cpd``'s variance (the first that applies)."""
    if prior is None:
        return None
    if isinstance(prior, Mapping):
        return variance_prior(prior.get(cpd.variable), cpd)
    if isinstance(prior, Prior):
        return prior.variance_prior(cpd)
    if isinstance(prior, (list, tuple)):
        for q in prior:
            found = variance_prior(q, cpd)
            if found is not None:
                return found
        return None
    raise TypeError(f"prior must be a Prior, a list of Priors or a dict of node to Prior, not {prior!r}")


def pseudo_statistics(prior, cpd) -> np.ndarray | None:
    """Sum of the pseudo-statistics that ``prior`` gives ``cpd``.

    ``prior`` is None, a Prior, a sequence of Priors (their pseudo-statistics
    add), or a mapping from node name to any of these.
    """
    if prior is None:
        return None
    if isinstance(prior, Mapping):
        return pseudo_statistics(prior.get(cpd.variable), cpd)
    if isinstance(prior, Prior):
        return prior.pseudo_statistics(cpd)
    if isinstance(prior, (list, tuple)):
        parts = [p for p in (pseudo_statistics(q, cpd) for q in prior) if p is not None]
        return sum(parts[1:], parts[0]) if parts else None
    raise TypeError(f"prior must be a Prior, a list of Priors or a dict of node to Prior, not {prior!r}")


def check_prior_nodes(prior, nodes) -> None:
    """Raise :class:`~pgm.errors.NodeError` if ``prior`` names a node that is not in ``nodes``.

    A misspelt node in a per-node prior would otherwise be silently ignored.
    """
    import difflib

    from pgm.errors import NodeError

    def named(p):
        if isinstance(p, Mapping):
            yield from p.keys()
            for inner in p.values():
                yield from named(inner)
        elif isinstance(p, (list, tuple)):
            for inner in p:
                yield from named(inner)
        elif isinstance(p, Dirichlet) and isinstance(p.alpha, Mapping):
            yield from p.alpha.keys()

    known = set(nodes)
    for name in named(prior):
        if name not in known:
            close = difflib.get_close_matches(str(name), list(known), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise NodeError(f"the prior names {name!r}, which is not a node of the network{hint}")


def log_prior(network, prior) -> float:
    """The log density of ``network``'s parameters under ``prior``, up to a constant: EM's penalty.

    The M-step with pseudo-statistics maximises ``log-likelihood + log_prior``
    exactly, so this is what makes EM with a prior monotone:

    - pseudo-counts ``c`` on a table (Dirichlet, BDeu): ``sum c log theta``,
      the Dirichlet(c + 1) density whose mode the pseudo-counts give;
    - zero-weight pseudo-statistics on a Gaussian node's features (Ridge):
      ``-w^T P w / (2 sigma^2)``;
    - an inverse-gamma ``(a, b)`` on its variance: ``-(a + 1) log sigma^2 - b / sigma^2``;
    - a CPD's own declared prior (a softmax node's ``l2``): its ``log_penalty()``.
    """
    repeated = {node for group in network.tied_groups for node in group[1:]}  # a shared CPD counts once
    # CPDs that declare their own prior (a softmax node's L2 penalty) add its log density, prior or not
    total = sum(cpd.log_penalty() for node, cpd in network.cpds.items()
                if node not in repeated and hasattr(cpd, "log_penalty"))
    if prior is None:
        return total
    for node in network.nodes:
        if node in repeated:
            continue
        cpd = network[node]
        pseudo = pseudo_statistics(prior, cpd)
        if cpd.is_discrete:
            if pseudo is not None:
                positive = pseudo > 0
                with np.errstate(divide="ignore"):
                    total += float(np.sum(pseudo[positive] * np.log(np.asarray(cpd.table)[positive])))
            continue
        d = cpd.n_features
        variance = np.asarray(cpd.variance).reshape(-1)
        if pseudo is not None and d:
            gram = np.asarray(pseudo).reshape(-1, d + 2, d + 2)[:, 1:d + 1, 1:d + 1]
            w = np.asarray(cpd.weights).reshape(-1, d)
            total -= float(np.sum(np.einsum("ci,cij,cj->c", w, gram, w) / (2 * variance)))
        shape_scale = variance_prior(prior, cpd)
        if shape_scale is not None:
            a, b = shape_scale
            total -= float(np.sum((a + 1) * np.log(variance) + b / variance))
    return total
