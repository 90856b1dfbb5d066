"""Bayesian structure scores: the evidence p(data | DAG) in closed form.

- :func:`bdeu_score` and :func:`k2_score` -- the Dirichlet-multinomial
  evidence of a discrete network under BDeu / K2 priors (the same number as
  :meth:`~pgm.learning.posterior.ParameterPosterior.log_marginal_likelihood`);
- :func:`bge_score` -- the BGe score of a Gaussian network (Geiger &
  Heckerman, 2002, with the correction of Kuipers, Moffa & Heckerman, 2014):
  one Normal-Wishart prior on the joint of all the variables, so that
  Markov-equivalent DAGs get equal scores.

All are sums of local scores, one per node and its parents, and are
computed from the data's summary statistics (counts; mean and scatter
matrix), never row by row.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.special

from pgm.errors import StructureError

__all__ = ["bdeu_score", "k2_score", "bge_score", "bge_local_scores"]


def bdeu_score(network, data, *, equivalent_sample_size: float = 1.0) -> float:
    """The BDeu score (log evidence, nats) of ``network``'s structure for complete discrete ``data``.

    Examples
    --------
    >>> import pgm
    >>> from pgm.learning.scores import bdeu_score
    >>> asia = pgm.load("asia")
    >>> rows = asia.sample(1000, seed=0)
    >>> bdeu_score(asia, rows, equivalent_sample_size=10) == asia.parameter_posterior(
    ...     rows, prior=pgm.BDeu(10)).log_marginal_likelihood()
    True
    """
    from pgm.learning.priors import BDeu

    return network.parameter_posterior(data, prior=BDeu(equivalent_sample_size)).log_marginal_likelihood()


def k2_score(network, data) -> float:
    """The K2 score (Cooper & Herskovits, 1992): the log evidence under uniform Dirichlet(1) priors."""
    from pgm.learning.priors import Dirichlet

    return network.parameter_posterior(data, prior=Dirichlet(1.0)).log_marginal_likelihood()


def _gaussian_structure(network) -> dict[str, tuple[str, ...]]:
    for node in network.nodes:
        cpd = network[node]
        if cpd.is_discrete or not cpd.is_linear:
            raise StructureError(
                f"the BGe score needs a Gaussian network (every node continuous, linear in its parents); "
                f"node {node!r} is not"
            )
    return {node: network.parents(node) for node in network.nodes}


class _BGePosterior(NamedTuple):
    """What BGe's local scores need: the posterior scale matrix and the prior's constants."""

    matrix: np.ndarray
    t: float
    iss_mu: float
    iss_w: float
    n: int


def bge_posterior(n_rows: float, mean: np.ndarray, scatter: np.ndarray, *, iss_mu: float = 1.0,
                  iss_w: float | None = None, nu=None) -> _BGePosterior:
    """BGe's posterior scale matrix from the data's mean and scatter (centred sums of products).

    The summary statistics are all the score needs, so they may come from
    any source (rows in memory, files in chunks, summed partitions).
    """
    n = len(mean)
    iss_mu = float(iss_mu)
    iss_w = float(n + iss_mu + 1 if iss_w is None else iss_w)
    if not iss_mu > 0:
        raise ValueError(f"iss_mu must be positive, got {iss_mu!r}")
    if not iss_w > n - 1:
        raise ValueError(f"iss_w must exceed the number of variables minus one ({n - 1}), got {iss_w!r}")
    nu = mean if nu is None else np.broadcast_to(np.asarray(nu, dtype=np.float64), (n,))
    # T = t I makes the prior's expected covariance of x the identity (Kuipers et al., 2014).
    t = iss_mu * (iss_w - n - 1) / (iss_mu + 1)
    if not t > 0:
        raise ValueError(f"iss_w must exceed the number of variables plus one ({n + 1}) for the default T, got {iss_w!r}")
    shift = nu - mean
    matrix = t * np.eye(n) + scatter + (n_rows * iss_mu / (n_rows + iss_mu)) * np.outer(shift, shift)
    return _BGePosterior(matrix, t, iss_mu, iss_w, n)


def bge_log_evidence(prior: _BGePosterior, n_rows: float, subset) -> float:
    """log p(data of the variables in ``subset``) under BGe's prior (0 for the empty set)."""
    subset = list(subset)
    size = len(subset)
    if size == 0:
        return 0.0
    dof = prior.iss_w - prior.n + size
    _, log_det = np.linalg.slogdet(prior.matrix[np.ix_(subset, subset)])
    return float(
        size / 2 * np.log(prior.iss_mu / (n_rows + prior.iss_mu))
        + scipy.special.multigammaln((n_rows + dof) / 2, size) - scipy.special.multigammaln(dof / 2, size)
        - size * n_rows / 2 * np.log(np.pi)
        + dof / 2 * size * np.log(prior.t) - (n_rows + dof) / 2 * log_det
    )


def bge_local_scores(network, data, *, iss_mu: float = 1.0, iss_w: float | None = None, nu=None) -> dict[str, float]:
    """Each node's BGe local score, ``log p(d[node, parents]) - log p(d[parents])``; see :func:`bge_score`."""
    from pgm.data import to_dataset

    structure = _gaussian_structure(network)
    names = list(network.nodes)
    dataset = to_dataset(data, network.domains)
    dataset.require_complete(names, "the BGe score")
    x = np.column_stack([dataset.columns[n] for n in names]) if names else np.empty((dataset.n_rows, 0))
    n_rows, n = x.shape
    mean = x.mean(axis=0) if n_rows else np.zeros(n)
    centred = x - mean
    prior = bge_posterior(n_rows, mean, centred.T @ centred, iss_mu=iss_mu, iss_w=iss_w, nu=nu)
    position = {name: i for i, name in enumerate(names)}

    def log_evidence(subset: list[int]) -> float:
        return bge_log_evidence(prior, n_rows, subset)

    scores = {}
    for node, parents in structure.items():
        family = [position[p] for p in parents]
        scores[node] = log_evidence(family + [position[node]]) - log_evidence(family)
    return scores


def bge_score(network, data, *, iss_mu: float = 1.0, iss_w: float | None = None, nu=None) -> float:
    """The BGe score (log evidence, nats) of a Gaussian network's structure for complete ``data``.

    The prior is Normal-Wishart on the mean and precision of all ``n``
    variables: ``mu | W ~ N(nu, (iss_mu W)^-1)``, ``W ~ Wishart(iss_w, T^-1)``
    with ``T = t I`` and ``t = iss_mu (iss_w - n - 1) / (iss_mu + 1)``, the
    choice under which Markov-equivalent DAGs score equally.  Only the
    structure of ``network`` is used (its parameters may be unfitted).

    Parameters
    ----------
    network : BayesianNetwork
        Every node continuous and linear in its parents.
    data : DataFrame or mapping of str to array-like
        Complete rows.
    iss_mu : float, default 1
        The imaginary sample size of the mean.
    iss_w : float, optional
        The Wishart's degrees of freedom; default ``n + iss_mu + 1``.
    nu : array-like of shape (n,), optional
        The prior mean, in node order; default the sample mean.

    Examples
    --------
    >>> import pgm
    >>> from pgm.learning.scores import bge_score
    >>> rows = pgm.load("ecoli70").sample(500, seed=0)
    >>> a_to_b = pgm.BayesianNetwork({"aceB": pgm.Gaussian(), "icdA": pgm.LinearGaussian.unfitted(parents=["aceB"])})
    >>> b_to_a = pgm.BayesianNetwork({"icdA": pgm.Gaussian(), "aceB": pgm.LinearGaussian.unfitted(parents=["icdA"])})
    >>> pair = rows[["aceB", "icdA"]]
    >>> bool(abs(bge_score(a_to_b, pair) - bge_score(b_to_a, pair)) < 1e-9)   # Markov equivalent: equal scores
    True
    """
    return float(sum(bge_local_scores(network, data, iss_mu=iss_mu, iss_w=iss_w, nu=nu).values()))
