"""The posterior over a network's parameters: Bayesian updating with conjugate priors.

Every unknown value is a random variable, parameters included.  With a
conjugate prior the posterior has the prior's form, and its hyperparameters
are the prior's plus the data's sufficient statistics -- the same statistics
that :func:`pgm.learning.mle.statistics` computes for fitting:

- a table row with a Dirichlet(``alpha``) prior and counts ``n`` has the
  posterior Dirichlet(``alpha + n``) (a Beta for two states);
- a linear Gaussian node with the :class:`~pgm.learning.priors.NormalInverseGamma`
  prior ``(m0, L0, a0, b0)`` has, per configuration of its discrete parents,
  design ``A = [1, features]`` and targets ``y``, the posterior::

      L_n = L0 + A^T A                    m_n = L_n^-1 (L0 m0 + A^T y)
      a_n = a0 + n / 2                    b_n = b0 + (|y - A m_n|^2 + (m_n - m0)^T L0 (m_n - m0)) / 2

So updating is adding statistics: :meth:`ParameterPosterior.update` with
more data equals the posterior of all the data at once.  The evidence of the
structure (the marginal likelihood, parameters integrated out) has a closed
form for both: with a BDeu prior it is the BDeu score, with Dirichlet(1) the
K2 score, and for a Gaussian node the evidence of Bayesian linear regression.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.special

from pgm._random import as_generator
from pgm.cpds.base import configuration_label
from pgm.errors import CPDError
from pgm.learning.priors import BDeu, Dirichlet, NormalInverseGamma, Prior, check_prior_nodes

__all__ = ["ParameterPosterior", "DirichletPosterior", "NormalInverseGammaPosterior", "parameter_posterior"]

_LOG_2PI = float(np.log(2 * np.pi))


class DirichletPosterior:
    """The posterior of a table: one Dirichlet per parent configuration.

    Attributes
    ----------
    concentration : ndarray, shape ``(*parent_cardinalities, n_states)``
        ``alpha + counts``; each row (last axis) is one Dirichlet.
    prior_concentration : ndarray
        The prior's ``alpha``, same shape.
    """

    def __init__(self, prior_concentration: np.ndarray, counts: np.ndarray):
        self.prior_concentration = np.asarray(prior_concentration, dtype=np.float64)
        self.counts = np.asarray(counts, dtype=np.float64)
        self.concentration = self.prior_concentration + self.counts

    def mean(self) -> np.ndarray:
        """The posterior mean table ``alpha_k / alpha_0``."""
        return self.concentration / self.concentration.sum(axis=-1, keepdims=True)

    def mode(self, node: str = "", labels=None) -> np.ndarray:
        """The posterior mode table ``(alpha_k - 1) / (alpha_0 - k)`` (uniform rows where every ``alpha_k`` is 1)."""
        alpha = self.concentration
        below = (alpha < 1).any(axis=-1)
        if below.any():
            config = int(np.flatnonzero(below.reshape(-1))[0])
            where = f" at {labels(config)}" if labels else ""
            raise CPDError(
                f"the posterior of {node!r}{where} has a concentration below 1, so its density is unbounded at "
                "the edge of the simplex and has no mode; use mean() or a prior with alpha >= 1"
            )
        excess = alpha - 1.0
        totals = excess.sum(axis=-1, keepdims=True)
        flat = np.full_like(alpha, 1.0 / alpha.shape[-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, excess / totals, flat)

    def log_marginal_likelihood(self) -> float:
        """log of the Dirichlet-multinomial evidence of the counts (the ordered sequence of rows)."""
        alpha0 = self.prior_concentration.sum(axis=-1)
        n = self.counts.sum(axis=-1)
        gammaln = scipy.special.gammaln
        return float(
            np.sum(gammaln(alpha0) - gammaln(alpha0 + n))
            + np.sum(gammaln(self.concentration) - gammaln(self.prior_concentration))
        )

    def sample(self, k: int, rng: np.random.Generator) -> np.ndarray:
        """``k`` tables drawn from the posterior, shape ``(k, *table_shape)``."""
        draws = rng.standard_gamma(np.broadcast_to(self.concentration, (k,) + self.concentration.shape))
        return draws / draws.sum(axis=-1, keepdims=True)

    def __repr__(self) -> str:
        return f"DirichletPosterior(table shape {self.concentration.shape}, total weight {self.counts.sum():g})"


class NormalInverseGammaPosterior:
    """The posterior of a linear Gaussian node: one Normal-inverse-gamma per discrete-parent configuration.

    For configuration ``c``, ``sigma^2 ~ InverseGamma(shape[c], scale[c])`` and
    ``theta | sigma^2 ~ Normal(mean[c], sigma^2 precision[c]^-1)``, with
    ``theta = [intercept, weights]``.

    Attributes
    ----------
    mean : ndarray, shape ``(configurations, p)``
    precision : ndarray, shape ``(configurations, p, p)``
    shape, scale : ndarray, shape ``(configurations,)``
    """

    def __init__(self, prior: tuple, statistics: np.ndarray):
        m0, l0, a0, b0 = prior
        self.prior = (m0, l0, a0, b0)
        p = len(m0)
        moments = np.asarray(statistics, dtype=np.float64).reshape(-1, p + 1, p + 1)
        k = len(moments)
        self.weight = moments[:, 0, 0]
        self.mean = np.empty((k, p))
        self.precision = np.empty((k, p, p))
        self.shape = a0 + self.weight / 2
        self.scale = np.empty(k)
        for c, m in enumerate(moments):  # one small p x p solve per configuration, not per row
            self.mean[c], self.precision[c], self.scale[c] = _conjugate_update(m, m0, l0, b0)

    @property
    def n_configurations(self) -> int:
        return len(self.shape)

    def covariance_factor(self) -> np.ndarray:
        """``precision^-1`` per configuration: ``Cov(theta | sigma^2) = sigma^2 * covariance_factor``."""
        return np.linalg.inv(self.precision)

    def variance_mean(self, node: str = "") -> np.ndarray:
        """The posterior mean of ``sigma^2``, ``scale / (shape - 1)`` (it exists when ``shape > 1``)."""
        if (self.shape <= 1).any():
            raise CPDError(
                f"the posterior of {node!r}'s variance has shape {self.shape.min():g} <= 1, so its mean is "
                "infinite; use map() or a prior with a larger shape"
            )
        return self.scale / (self.shape - 1)

    def variance_mode(self) -> np.ndarray:
        """The variance at the joint mode of ``(theta, sigma^2)``: ``scale / (shape + 1 + p / 2)``."""
        return self.scale / (self.shape + 1 + self.mean.shape[1] / 2)

    def log_marginal_likelihood(self) -> float:
        """log p(y | A), the parameters integrated out, summed over configurations."""
        m0, l0, a0, b0 = self.prior
        gammaln = scipy.special.gammaln
        _, log_det_prior = np.linalg.slogdet(l0)
        _, log_det_post = np.linalg.slogdet(self.precision)
        return float(np.sum(
            -self.weight / 2 * _LOG_2PI + 0.5 * (log_det_prior - log_det_post)
            + a0 * np.log(b0) - self.shape * np.log(self.scale) + gammaln(self.shape) - gammaln(a0)
        ))

    def sample(self, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``k`` draws of ``(theta, sigma^2)``: shapes ``(k, configurations, p)`` and ``(k, configurations)``."""
        variance = self.scale / rng.standard_gamma(np.broadcast_to(self.shape, (k, self.n_configurations)))
        factor = np.linalg.cholesky(self.covariance_factor())
        noise = rng.standard_normal((k,) + self.mean.shape)
        theta = self.mean + np.sqrt(variance)[..., None] * np.einsum("cij,kcj->kci", factor, noise)
        return theta, variance

    def __repr__(self) -> str:
        return f"NormalInverseGammaPosterior({self.n_configurations} configuration(s), {self.mean.shape[1]} coefficient(s))"


def _conjugate_update(m: np.ndarray, m0: np.ndarray, l0: np.ndarray, b0: float):
    """``(m_n, L_n, b_n)`` from one configuration's centred statistics (see :meth:`LinearGaussian.statistics`)."""
    p = len(m0)
    weight, means = m[0, 0], m[0, 1:]
    centred = m[1:, 1:]
    mean_f, mean_y = means[:p - 1], means[p - 1]
    # Raw normal equations of A = [1, features] rebuilt from centred moments.
    gram = np.empty((p, p))
    gram[0, 0] = weight
    gram[0, 1:] = gram[1:, 0] = weight * mean_f
    gram[1:, 1:] = centred[:p - 1, :p - 1] + weight * np.outer(mean_f, mean_f)
    cross = np.empty(p)
    cross[0] = weight * mean_y
    cross[1:] = centred[:p - 1, p - 1] + weight * mean_f * mean_y
    precision = l0 + gram
    factor = scipy.linalg.cho_factor(precision, lower=True)
    mean = scipy.linalg.cho_solve(factor, l0 @ m0 + cross)
    # |y - A m_n|^2 from centred moments, free of the cancellation in y'y - m_n' L_n m_n.
    b, w = mean[0], mean[1:]
    offset = mean_y - b - mean_f @ w
    residual = centred[p - 1, p - 1] - 2 * w @ centred[:p - 1, p - 1] + w @ centred[:p - 1, :p - 1] @ w
    residual = max(residual, 0.0) + weight * offset * offset
    shift = mean - m0
    return mean, precision, b0 + 0.5 * (residual + shift @ l0 @ shift)


def _conjugate_prior(prior, cpd):
    """The first prior in ``prior`` that gives ``cpd`` a conjugate prior (see :func:`parameter_posterior`)."""
    if prior is None:
        return None
    if isinstance(prior, Mapping):
        return _conjugate_prior(prior.get(cpd.variable), cpd)
    if isinstance(prior, (list, tuple)):
        for inner in prior:
            found = _conjugate_prior(inner, cpd)
            if found is not None:
                return found
        return None
    if isinstance(prior, (Dirichlet, BDeu)):
        alpha = prior.concentration(cpd)
        return None if alpha is None else ("dirichlet", alpha)
    if isinstance(prior, NormalInverseGamma):
        coefficients = prior.coefficients(cpd)
        return None if coefficients is None else ("nig", (*coefficients, prior.shape, prior.scale))
    if isinstance(prior, Prior):
        raise CPDError(
            f"{prior!r} is a point-estimate prior; a parameter posterior needs a conjugate one: Dirichlet or "
            "BDeu for tables, NormalInverseGamma for linear Gaussian nodes"
        )
    raise TypeError(f"prior must be a Prior, a list of Priors or a dict of node to Prior, not {prior!r}")


class ParameterPosterior:
    """The posterior over every parameter of a network, given a conjugate prior and complete data.

    Made by :func:`parameter_posterior` (or
    :meth:`pgm.BayesianNetwork.parameter_posterior`).  Indexing by node gives
    that node's posterior (:class:`DirichletPosterior` or
    :class:`NormalInverseGammaPosterior`); tied nodes share one.

    Parameters
    ----------
    network : BayesianNetwork
        The network whose parameters it is over.
    prior : Prior, list of Prior, or dict of node to Prior
        The conjugate prior, as :func:`parameter_posterior` takes it.
    statistics : Statistics
        The data's sufficient statistics, added to the prior's hyperparameters.

    Examples
    --------
    >>> import pgm
    >>> coin = pgm.BayesianNetwork({"flip": pgm.Categorical(["heads", "tails"])})
    >>> post = coin.parameter_posterior({"flip": ["heads"] * 7 + ["tails"] * 3}, prior=pgm.Dirichlet(1))
    >>> post["flip"].concentration.tolist()          # Beta(1 + 7, 1 + 3)
    [8.0, 4.0]
    >>> post.credible_interval("flip").round(3)  # doctest: +NORMALIZE_WHITESPACE
                 mean  lower  upper
    flip state
    heads       0.667  0.390  0.891
    tails       0.333  0.109  0.610
    """

    def __init__(self, network, prior, statistics):
        self.network = network
        self.prior = prior
        self.statistics = statistics
        self._posteriors = {}
        from pgm.learning.mle import fitting_groups

        for group in fitting_groups(network):
            head = network[group[0]]
            if getattr(head, "expands_to_table", False):  # softmax, noisy-OR: no conjugate prior exists
                raise CPDError(
                    f"node {group[0]!r} has a restricted parameterisation ({type(head).__name__}), which has no "
                    "conjugate prior, so its posterior is not available in closed form; fit a point estimate "
                    "with net.fit (a Softmax takes a Gaussian prior through l2=)")
            conjugate = _conjugate_prior(prior, head)
            if conjugate is None:
                hint = ("a Dirichlet or BDeu prior" if head.is_discrete
                        else "a NormalInverseGamma prior (the conjugate prior of a linear Gaussian node)")
                raise CPDError(f"the prior gives node {group[0]!r} no conjugate prior; it needs {hint}")
            kind, hyper = conjugate
            merged = functools.reduce(head.merge_statistics, [np.asarray(statistics[n], dtype=np.float64) for n in group])
            if kind == "dirichlet":
                if not (hyper > 0).all():
                    raise CPDError(
                        f"the Dirichlet prior of node {group[0]!r} has a zero concentration, which is improper: "
                        "its posterior and evidence are undefined; use a positive alpha"
                    )
                posterior = DirichletPosterior(hyper, merged)
            else:  # features may be nonlinear: the update is linear in the coefficients either way
                posterior = NormalInverseGammaPosterior(hyper, merged)
            for node in group:
                self._posteriors[node] = posterior

    # ------------------------------------------------------------------ access
    def __getitem__(self, node: str):
        if node not in self._posteriors:
            self.network[node]  # raises the usual unknown-node error
        return self._posteriors[node]

    def __repr__(self) -> str:
        return (f"ParameterPosterior({self.network.name!r}: {len(self.network)} nodes, "
                f"total weight {self.statistics.total_weight:g}, prior {self.prior!r})")

    def _labels(self, node):
        cpd = self.network[node]
        names = cpd.parents if cpd.is_discrete else cpd.discrete_parents
        if not names and cpd.parents:  # continuous parents only: one configuration, but not "no parents"
            return lambda config: "(no discrete parents)"
        return lambda config: configuration_label(names, cpd.parent_states, config)

    # ------------------------------------------------------------------ updating
    def update(self, data, *, weights=None) -> "ParameterPosterior":
        """The posterior after also seeing ``data``: equal to the posterior of all the data at once.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.load("cancer")
        >>> rows = net.sample(1000, seed=0)
        >>> prior = pgm.BDeu(1)
        >>> step = net.parameter_posterior(rows[:400], prior=prior).update(rows[400:])
        >>> step.log_marginal_likelihood() == net.parameter_posterior(rows, prior=prior).log_marginal_likelihood()
        True
        """
        return ParameterPosterior(self.network, self.prior, self.statistics + self.network.statistics(data, weights=weights))

    # ------------------------------------------------------------------ point estimates
    def mean(self) -> "BayesianNetwork":  # noqa: F821
        """The network of posterior means: tables ``alpha_k / alpha_0``; coefficients ``m_n``, variance ``E[sigma^2]``."""
        return self._network(lambda node, post: post.mean(),
                             lambda node, post: (post.mean, post.variance_mean(node)))

    def map(self) -> "BayesianNetwork":  # noqa: F821
        """The network at the posterior mode.

        Tables take the mode of each row's Dirichlet, ``(alpha_k - 1) /
        (alpha_0 - k)``.  Gaussian nodes take the joint mode of ``(theta,
        sigma^2)``: coefficients ``m_n`` and variance ``b_n / (a_n + 1 + p / 2)``.
        """
        return self._network(lambda node, post: post.mode(node, self._labels(node)),
                             lambda node, post: (post.mean, post.variance_mode()))

    def _network(self, table_of, gaussian_of):
        cpds = {}
        for node in self.network.nodes:
            cpd, post = self.network[node], self._posteriors[node]
            if cpd.is_discrete:
                cpds[node] = _categorical_with(cpd, table_of(node, post))
            else:
                theta, variance = gaussian_of(node, post)
                cpds[node] = _gaussian_with(cpd, theta, variance)
        from pgm.network import BayesianNetwork

        return BayesianNetwork._from_bound(cpds, name=self.network.name, tied=self.network.tied_groups)

    # ------------------------------------------------------------------ uncertainty
    def credible_interval(self, node: str, level: float = 0.95) -> pd.DataFrame:
        """Equal-tailed credible intervals of every parameter of ``node``.

        Table entries are Beta-distributed marginally (``Beta(alpha_k, alpha_0 -
        alpha_k)``); a Gaussian node's coefficients are Student-t with ``2 a_n``
        degrees of freedom, and its variance inverse-gamma.

        Returns
        -------
        DataFrame
            Columns ``mean``, ``lower``, ``upper``.  For a table, one row per
            entry, indexed by the parent states and the node's state; for a
            Gaussian node, by the discrete-parent configuration and the
            parameter (``intercept``, each feature, ``variance``).
        """
        import scipy.stats  # lazily: it is most of `import pgm`'s time

        level = _check_level(level)
        cpd, post = self.network[node], self[node]
        tail = (1 - level) / 2
        if cpd.is_discrete:
            alpha = post.concentration
            rest = alpha.sum(axis=-1, keepdims=True) - alpha
            frame = pd.DataFrame({
                "mean": (alpha / (alpha + rest)).reshape(-1),
                "lower": scipy.stats.beta.ppf(tail, alpha, rest).reshape(-1),
                "upper": scipy.stats.beta.ppf(1 - tail, alpha, rest).reshape(-1),
            })
            levels = [list(states) for states in cpd.parent_states] + [list(cpd.domain)]
            names = [*cpd.parents, f"{node} state"]
            frame.index = (pd.MultiIndex.from_product(levels, names=names) if cpd.parents
                           else pd.Index(levels[0], name=names[0]))
            return frame
        scale_sq = post.scale / post.shape
        spread = np.sqrt(scale_sq[:, None] * np.diagonal(post.covariance_factor(), axis1=1, axis2=2))
        t = scipy.stats.t.ppf(1 - tail, 2 * post.shape)[:, None]
        names = ["intercept", *map(str, cpd.features)]
        with np.errstate(divide="ignore", invalid="ignore"):
            variance_mean = np.where(post.shape > 1, post.scale / (post.shape - 1), np.inf)
        means = np.column_stack([post.mean, variance_mean])
        lower = np.column_stack([post.mean - t * spread, scipy.stats.invgamma.ppf(tail, post.shape, scale=post.scale)])
        upper = np.column_stack([post.mean + t * spread, scipy.stats.invgamma.ppf(1 - tail, post.shape, scale=post.scale)])
        labels = self._labels(node)
        index = pd.MultiIndex.from_product(
            [[labels(c) for c in range(post.n_configurations)], [*names, "variance"]],
            names=["configuration", "parameter"],
        )
        return pd.DataFrame({"mean": means.reshape(-1), "lower": lower.reshape(-1), "upper": upper.reshape(-1)},
                            index=index)

    def sample_networks(self, k: int, *, seed=None) -> list:
        """``k`` networks whose parameters are drawn from the posterior (tied nodes share each draw).

        Averaging a quantity over them propagates parameter uncertainty into it.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.load("cancer")
        >>> post = net.parameter_posterior(net.sample(200, seed=0), prior=pgm.Dirichlet(1))
        >>> draws = post.sample_networks(3, seed=1)
        >>> len(draws), draws[0].nodes == net.nodes
        (3, True)
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(f"the number of networks must be a non-negative integer, got {k!r}")
        rng = as_generator(seed)
        draws = {}
        for node in self.network.nodes:
            post = self._posteriors[node]
            if id(post) not in draws:  # one draw per shared posterior keeps tied nodes tied
                draws[id(post)] = post.sample(k, rng)
        from pgm.network import BayesianNetwork

        networks = []
        for i in range(k):
            cpds = {}
            for node in self.network.nodes:
                cpd, drawn = self.network[node], draws[id(self._posteriors[node])]
                if cpd.is_discrete:
                    cpds[node] = _categorical_with(cpd, drawn[i])
                else:
                    cpds[node] = _gaussian_with(cpd, drawn[0][i], drawn[1][i])
            networks.append(BayesianNetwork._from_bound(cpds, name=self.network.name, tied=self.network.tied_groups))
        return networks

    # ------------------------------------------------------------------ evidence and prediction
    def log_marginal_likelihood(self) -> float:
        """log p(data | structure), the parameters integrated out under the prior.

        The sum over nodes (a tied CPD once) of each node's closed-form
        evidence: the Dirichlet-multinomial for tables -- with a
        :class:`~pgm.learning.priors.BDeu` prior this is the BDeu score, with
        ``Dirichlet(1)`` the K2 score -- and Bayesian linear regression's for
        Gaussian nodes.  The data are the ordered rows (no multinomial
        coefficient).
        """
        seen, total = set(), 0.0
        for post in self._posteriors.values():
            if id(post) not in seen:
                seen.add(id(post))
                total += post.log_marginal_likelihood()
        return total

    def predictive_log_likelihood(self, data) -> np.ndarray:
        """log p(row | data seen), the parameters integrated out, for each row of ``data`` separately.

        For tables this is the log-likelihood under the posterior-mean
        network (exact, missing values included, because each row uses each
        table row at most once).  A Gaussian node contributes its Student-t
        predictive density, ``t_{2 a_n}(a^T m_n, (b_n / a_n)(1 + a^T L_n^-1 a))``
        for ``a = [1, features]``; those need observed values.

        Examples
        --------
        >>> import pgm
        >>> coin = pgm.BayesianNetwork({"flip": pgm.Categorical(["heads", "tails"])})
        >>> post = coin.parameter_posterior({"flip": ["heads"] * 7 + ["tails"] * 3}, prior=pgm.Dirichlet(1))
        >>> float(post.predictive_log_likelihood({"flip": ["heads"]})[0]) == float(np.log(8 / 12))
        True
        """
        network = self.network
        if all(network[node].is_discrete for node in network.nodes):
            return self.mean().log_likelihood(data)
        from pgm.data import to_dataset

        dataset = to_dataset(data, network.domains)
        dataset.require_complete(network.nodes, "the posterior predictive density of a network with Gaussian nodes")
        columns = dataset.columns
        total = np.zeros(dataset.n_rows)
        discrete = {n for n in network.nodes if network[n].is_discrete}
        if discrete:
            means = self.mean_tables()
            for node in discrete:
                cpd = network[node]
                table_cpd = _categorical_with(cpd, means[node])
                total += table_cpd.log_prob(columns[node], {p: columns[p] for p in cpd.parents})
        for node in network.nodes:
            if node in discrete:
                continue
            cpd, post = network[node], self._posteriors[node]
            parents = {p: columns[p] for p in cpd.parents}
            design = np.column_stack([np.ones(dataset.n_rows)] + [f.evaluate(parents) for f in cpd.features])
            configs = cpd._configurations(parents)
            configs = np.zeros(dataset.n_rows, dtype=np.intp) if configs is None else configs
            location = np.einsum("np,np->n", design, post.mean[configs])
            factor = post.covariance_factor()
            spread = (post.scale / post.shape)[configs] * (1 + np.einsum("np,npq,nq->n", design, factor[configs], design))
            import scipy.stats  # lazily: it is most of `import pgm`'s time

            total += scipy.stats.t.logpdf(columns[node], 2 * post.shape[configs], loc=location, scale=np.sqrt(spread))
        return total

    def mean_tables(self) -> dict:
        """The posterior-mean table of every discrete node."""
        return {n: self._posteriors[n].mean() for n in self.network.nodes if self.network[n].is_discrete}


def _check_level(level) -> float:
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"the credible level must be a number in (0, 1), got {level!r}") from None
    if not 0 < value < 1:
        raise ValueError(f"the credible level must be in (0, 1), got {level!r} (e.g. 0.95 for a 95% interval)")
    return value


def _categorical_with(cpd, table: np.ndarray):
    """``cpd`` (bound) with ``table`` as its parameters."""
    from pgm.cpds import Categorical

    new = Categorical(cpd.states, parents=cpd.parents, table=np.asarray(table))
    new.latent = cpd.latent
    return new.bind(cpd.variable, dict(zip(cpd.parents, cpd.parent_states)))


def _gaussian_with(cpd, theta: np.ndarray, variance: np.ndarray):
    """``cpd`` (bound) with coefficients ``theta`` (configurations x p) and ``variance`` per configuration."""
    cards = tuple(len(states) for states in cpd.parent_states)
    theta = np.asarray(theta).reshape(-1, 1 + len(cpd.features))
    return cpd._bound_copy(
        cpd.variable, cpd.discrete_parents, cpd.continuous_parents, cpd.parent_states, cpd.features,
        theta[:, 0].reshape(cards), theta[:, 1:].reshape(cards + (len(cpd.features),)),
        np.asarray(variance).reshape(cards),
    )


def parameter_posterior(network, data, *, prior=None, weights=None) -> ParameterPosterior:
    """The posterior over ``network``'s parameters after seeing complete ``data``.

    Parameters
    ----------
    network : BayesianNetwork
        Supplies the structure and states; its parameters, if any, are not used.
    data : pandas.DataFrame or mapping of str to array-like
        Complete rows.  (With missing values the posterior is not conjugate;
        EM gives point estimates.)
    prior : Prior, list of Prior, or dict of node to Prior, optional
        A conjugate prior for every node: :class:`~pgm.learning.priors.Dirichlet`
        or :class:`~pgm.learning.priors.BDeu` for tables,
        :class:`~pgm.learning.priors.NormalInverseGamma` for linear Gaussian
        nodes.  The default, None, is ``Dirichlet(1)`` -- uniform on every
        table row -- and needs an explicit prior for Gaussian nodes.
    weights : array-like, optional
        A non-negative weight per row (counts become weighted counts).

    Returns
    -------
    ParameterPosterior

    Examples
    --------
    >>> import pgm
    >>> net = pgm.load("cancer")
    >>> post = net.parameter_posterior(net.sample(500, seed=0), prior=pgm.BDeu(1))
    >>> post["Smoker"].concentration.tolist()      # BDeu(1) spreads 1 over 2 cells: 0.5 + counts
    [148.5, 352.5]
    """
    if prior is None:
        prior = Dirichlet(1.0)
    check_prior_nodes(prior, network.nodes)
    if isinstance(data, ParameterPosterior):
        raise TypeError("data must be rows; to add data to a posterior use posterior.update(data)")
    statistics = network.statistics(data, weights=weights)
    return ParameterPosterior(network, prior, statistics)
