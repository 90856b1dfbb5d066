"""Priors as pseudo-statistics.

A conjugate prior adds *pseudo-statistics* to the data's sufficient
statistics: a Dirichlet(alpha) prior on a table row adds alpha pseudo-counts
to each cell; a ridge (Gaussian) prior on a linear Gaussian node's weights
adds ``alpha`` to the diagonal of the features' centred Gram block, with no
weight of its own.  Fitting with a prior is therefore
``from_statistics(merge(data statistics, pseudo-statistics))`` -- the same code
path as maximum likelihood, EM and chunked fitting.

For tables the result is the posterior mean ``(n_ijk + alpha_ijk) /
(n_ij + sum_k alpha_ijk)``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from pgm.errors import CPDError

__all__ = ["Prior", "Dirichlet", "BDeu", "Ridge", "InverseGamma"]


class Prior:
    """Base class: a prior supplies pseudo-statistics for the CPDs it applies to."""

    def pseudo_statistics(self, cpd) -> np.ndarray | None:
        """Pseudo-statistics with the shape of ``cpd``'s statistics, or None if the prior does not apply."""
        return None

    def variance_prior(self, cpd) -> tuple[float, float] | None:
        """``(shape, scale)`` of an inverse-gamma prior on a Gaussian node's variance, or None."""
        return None


class Dirichlet(Prior):
    """Dirichlet pseudo-counts for discrete nodes.

    Parameters
    ----------
    alpha : float, or mapping of node to float or array
        Pseudo-count added to every cell of every table; or, per node, a
        scalar or an array broadcastable to that node's table shape
        ``(*parent_cardinalities, n_states)``.  Nodes not in the mapping get
        no pseudo-counts.

    Examples
    --------
    >>> import pgm
    >>> from pgm.learning import Dirichlet
    >>> net = pgm.load("cancer")
    >>> fitted = net.fit(net.sample(100, seed=0), prior=Dirichlet(1.0))
    """

    def __init__(self, alpha):
        self.alpha = alpha
        values = alpha.values() if isinstance(alpha, Mapping) else [alpha]
        for value in values:
            array = np.asarray(value, dtype=np.float64)
            if not (np.isfinite(array).all() and (array >= 0).all()):
                raise CPDError(f"Dirichlet pseudo-counts must be finite and non-negative, got {value!r}")

    def pseudo_statistics(self, cpd):
        if not cpd.is_discrete:
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

    def __repr__(self) -> str:
        return f"Dirichlet({self.alpha!r})"


class BDeu(Prior):
    """The BDeu prior: an equivalent sample size spread uniformly over each table.

    Every cell of node i's table gets ``equivalent_sample_size / (q_i r_i)``
    pseudo-counts, where ``q_i`` is the number of parent configurations and
    ``r_i`` the number of states (Heckerman, Geiger & Chickering, 1995).
    """

    def __init__(self, equivalent_sample_size: float = 1.0):
        ess = float(equivalent_sample_size)
        if not (np.isfinite(ess) and ess > 0):
            raise CPDError(f"the equivalent sample size must be positive, got {equivalent_sample_size!r}")
        self.equivalent_sample_size = ess

    def pseudo_statistics(self, cpd):
        if not cpd.is_discrete:
            return None
        return np.full(cpd.table_shape, self.equivalent_sample_size / int(np.prod(cpd.table_shape)))

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
    - an inverse-gamma ``(a, b)`` on its variance: ``-(a + 1) log sigma^2 - b / sigma^2``.
    """
    if prior is None:
        return 0.0
    total = 0.0
    for node in network.nodes:
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
