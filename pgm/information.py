"""Entropy, KL divergence and cross-entropy of Bayesian networks, in nats.

The log of a network's joint is a sum over its families,
``log q(x) = sum_i log q(x_i | pa_i)``, so its expectation under any
distribution p needs only p's marginals over those families:

    E_p[log q(X)] = sum_i  sum_{x_i, pa_i}  p(x_i, pa_i) log q(x_i | pa_i).

With q = p this is minus the entropy H(p); with any q it is the *expected
log-likelihood* (the mean log-likelihood q gives to endless data from p), and

    cross-entropy  H(p, q)  = -E_p[log q(X)]
    KL divergence  KL(p||q) =  H(p, q) - H(p)  =  E_p[log p(X) - log q(X)].

How each is computed (the result says which, see :class:`Nats`):

- *Discrete networks*, exactly: one calibration of a junction tree of p
  (:mod:`pgm.inference.junction_tree`) with no evidence gives every clique's
  joint marginal.  p's families lie in its cliques by construction; q's
  families are forced into cliques when the tree is built, so one pass serves
  any structure of q.  Nodes whose family is the same in p and q contribute
  ``E_p[log p(x_i|pa_i) / q(x_i|pa_i)]``, which is never negative and has no
  cancellation when p and q are close.
- *Continuous nodes* (linear Gaussian, possibly with discrete parents and
  features), exactly for the entropy: given its parents a node is
  ``N(mean, sigma^2)`` with sigma^2 depending only on the discrete parents,
  so ``E[-log p(x_i | pa_i)] = E[log(2 pi e sigma^2)] / 2`` -- a sum over the
  discrete parents' marginal.  For an all-linear-Gaussian network this is the
  closed form ``log det(2 pi e S) / 2`` of the joint normal.
- *KL of linear Gaussian networks*: the closed form between the two joint
  normals (:func:`pgm.inference.gaussian.kl_divergence`).
- *Everything else* (KL between hybrid networks, or whenever exact inference
  is refused for memory, :class:`~pgm.errors.InferenceTooLarge`): a Monte
  Carlo average over samples from p, with its standard error.
"""

from __future__ import annotations

import math

import numpy as np

from pgm._random import as_generator
from pgm.errors import InferenceTooLarge, NodeError, NotFittedError, StructureError

__all__ = ["Nats", "entropy", "kl_divergence", "cross_entropy", "expected_log_likelihood"]

_METHODS = ("auto", "exact", "monte_carlo")
_LOG_2PI_E = math.log(2 * math.pi) + 1.0


class Nats(float):
    """A quantity in nats that records how it was computed.

    It is a ``float`` -- compare it, add it, format it -- with extra
    attributes.  Arithmetic on it gives plain floats.

    Parameters
    ----------
    value : float
        The quantity, in nats.
    method, standard_error, n_samples, detail
        As the attributes below.

    Attributes
    ----------
    method : {"exact", "monte_carlo"}
        ``"exact"``: computed by inference or a closed form, up to rounding.
        ``"monte_carlo"``: an average over ``n_samples`` draws.
    standard_error : float
        The Monte Carlo standard error (sample standard deviation / sqrt(n));
        0.0 when exact.
    n_samples : int or None
        Draws behind a Monte Carlo estimate; None when exact.
    detail : str
        What was done, and for Monte Carlo why exact computation was not.

    Examples
    --------
    >>> import pgm
    >>> from pgm.information import entropy
    >>> h = entropy(pgm.load("asia"))
    >>> h.method, h.standard_error
    ('exact', 0.0)
    >>> round(h, 4), round(h.bits, 4)
    (2.237, 3.2274)
    """

    def __new__(cls, value, *, method: str = "exact", standard_error: float = 0.0, n_samples: int | None = None,
                detail: str = ""):
        self = super().__new__(cls, value)
        self.method = method
        self.standard_error = float(standard_error)
        self.n_samples = n_samples
        self.detail = detail
        return self

    @property
    def value(self) -> float:
        """The number as a plain float."""
        return float(self)

    @property
    def bits(self) -> float:
        """The value in bits (nats / ln 2)."""
        return float(self) / math.log(2)

    def __repr__(self) -> str:
        if self.method == "exact":
            return f"Nats({float(self)!r}, method='exact')"
        return (f"Nats({float(self)!r}, standard_error={self.standard_error:.3g}, method={self.method!r}, "
                f"n_samples={self.n_samples})")

    __str__ = float.__repr__  # print() shows the number alone


# ---------------------------------------------------------------------------- public functions
def entropy(network, *, method: str = "auto", n_samples: int = 100_000, seed=None, memory_budget=None) -> Nats:
    """The entropy ``H(p) = -E_p[log p(X)]`` of a network's joint distribution, in nats.

    Continuous nodes make it a differential entropy (it may be negative).

    Parameters
    ----------
    network : BayesianNetwork
        A fitted network: discrete, linear Gaussian or hybrid.
    method : {"auto", "exact", "monte_carlo"}
        ``"auto"`` is exact and falls back to Monte Carlo only when exact
        inference over the discrete nodes is refused for memory.
    n_samples : int
        Draws for Monte Carlo.
    seed : None, int or numpy.random.Generator
        For Monte Carlo.
    memory_budget : int, optional
        Bytes the junction tree may use (default 1 GiB).

    Returns
    -------
    Nats
        A float; ``.method`` says "exact" or "monte_carlo", ``.standard_error``
        gives the Monte Carlo error.

    Raises
    ------
    NotFittedError
        A node without parameters.
    InferenceTooLarge
        ``method="exact"`` and the junction tree exceeds ``memory_budget``.

    Examples
    --------
    >>> import math, pgm
    >>> from pgm.information import entropy
    >>> coin = pgm.BayesianNetwork({"flip": pgm.Bernoulli(0.5)})
    >>> math.isclose(entropy(coin), math.log(2))
    True
    >>> x = pgm.BayesianNetwork({"x": pgm.Gaussian(0.0, 1.0)})
    >>> round(entropy(x), 6)      # log(2 pi e) / 2
    1.418939
    """
    _check_method(method)
    _check_network(network, "network")
    if method != "monte_carlo":
        try:
            return Nats(-_expected_log_own(network, _budget(memory_budget)), detail=_exact_detail(network))
        except InferenceTooLarge as refused:
            if method == "exact":
                raise
            reason = f"exact inference was refused: {refused}"
    else:
        reason = "method='monte_carlo' was asked for"
    log_p = _log_p_of_samples(network, None, n_samples, as_generator(seed))[0]
    return _mean(-log_p, f"mean of -log p(x) over samples from the network; {reason}")


def kl_divergence(p, q, *, method: str = "auto", n_samples: int = 100_000, seed=None, memory_budget=None) -> Nats:
    """The Kullback-Leibler divergence ``KL(p||q) = E_p[log p(X) - log q(X)]``, in nats.

    ``p`` and ``q`` are networks over the same variables, with the same
    states (their order may differ); their structures may differ.

    Parameters
    ----------
    p, q : BayesianNetwork
        Fitted networks.  KL is not symmetric: the expectation is under ``p``.
    method : {"auto", "exact", "monte_carlo"}
        ``"auto"``: exact for discrete networks (junction tree of ``p``) and
        for linear Gaussian ones (closed form); Monte Carlo for hybrid networks
        or when exact inference is refused for memory.  ``"exact"`` raises
        instead of falling back.
    n_samples : int
        Draws from ``p`` for Monte Carlo.
    seed : None, int or numpy.random.Generator
        For Monte Carlo.
    memory_budget : int, optional
        Bytes the junction tree may use (default 1 GiB).

    Returns
    -------
    Nats
        A float (``inf`` when q gives probability zero to something p does
        not); ``.method`` says "exact" or "monte_carlo" and ``.detail`` why.

    Raises
    ------
    NodeError
        The networks are over different variables (the message lists them).
    StructureError
        A node with different states, or discrete in one and continuous in
        the other; or ``method="exact"`` for networks with no exact form.
    NotFittedError
        A node without parameters.
    InferenceTooLarge
        ``method="exact"`` and the junction tree exceeds ``memory_budget``.

    Examples
    --------
    >>> import math, pgm
    >>> from pgm.information import kl_divergence
    >>> fair = pgm.BayesianNetwork({"flip": pgm.Bernoulli(0.5)})
    >>> bent = pgm.BayesianNetwork({"flip": pgm.Bernoulli(0.9)})
    >>> kl = kl_divergence(fair, bent)
    >>> kl.method, math.isclose(kl, 0.5 * math.log(0.5 / 0.1) + 0.5 * math.log(0.5 / 0.9))
    ('exact', True)
    """
    _check_method(method)
    _check_pair(p, q)
    return _kl(p, q, method, n_samples, as_generator(seed), _budget(memory_budget))


def cross_entropy(p, q, *, method: str = "auto", n_samples: int = 100_000, seed=None, memory_budget=None) -> Nats:
    """The cross-entropy ``H(p, q) = -E_p[log q(X)] = H(p) + KL(p||q)``, in nats.

    It is the limit of the mean negative log-likelihood that ``q`` gives to
    rows drawn from ``p``, as their number grows; maximum likelihood fitting
    minimises its empirical version.  Arguments as :func:`kl_divergence`.
    A Monte Carlo result adds an exact H(p) (when possible) to a Monte Carlo
    KL, whose standard error it carries.

    Parameters
    ----------
    p, q : BayesianNetwork
        The networks, over the same nodes.
    method : {'auto', 'exact', 'monte_carlo'}
        As for :func:`kl_divergence`.
    n_samples, seed
        Monte Carlo draws and their seed.
    memory_budget : int, optional
        Bytes exact inference may use.

    Examples
    --------
    >>> import math, pgm
    >>> from pgm.information import cross_entropy, entropy, kl_divergence
    >>> p, q = pgm.load("asia"), pgm.load("asia").with_cpd("smoke", pgm.Bernoulli(0.9, states=["yes", "no"]))
    >>> math.isclose(cross_entropy(p, q), entropy(p) + kl_divergence(p, q))
    True
    """
    _check_method(method)
    _check_pair(p, q)
    rng = as_generator(seed)
    generators = rng.spawn(2)
    h = entropy(p, method=method, n_samples=n_samples, seed=generators[0], memory_budget=memory_budget)
    kl = _kl(p, q, method, n_samples, generators[1], _budget(memory_budget))
    return _combine(float(h) + float(kl), h, kl, "H(p) + KL(p||q)")


def expected_log_likelihood(p, q, *, method: str = "auto", n_samples: int = 100_000, seed=None,
                            memory_budget=None) -> Nats:
    """``E_p[log q(X)]``: the mean log-likelihood ``q`` gives to data from ``p``, in the limit of many rows.

    Minus :func:`cross_entropy`; ``q.score(p.sample(n))`` estimates it.
    Arguments as :func:`kl_divergence`.

    Parameters
    ----------
    p, q : BayesianNetwork
        The networks, over the same nodes.
    method : {'auto', 'exact', 'monte_carlo'}
        As for :func:`kl_divergence`.
    n_samples, seed
        Monte Carlo draws and their seed.
    memory_budget : int, optional
        Bytes exact inference may use.

    Examples
    --------
    >>> import pgm
    >>> from pgm.information import expected_log_likelihood
    >>> asia = pgm.load("asia")
    >>> exact = expected_log_likelihood(asia, asia)          # = -H(asia)
    >>> rows = asia.sample(200_000, seed=0)
    >>> abs(asia.score(rows) - exact) < 0.01
    True
    """
    ce = cross_entropy(p, q, method=method, n_samples=n_samples, seed=seed, memory_budget=memory_budget)
    return Nats(-float(ce), method=ce.method, standard_error=ce.standard_error, n_samples=ce.n_samples,
                detail=f"minus the cross-entropy: {ce.detail}")


# ---------------------------------------------------------------------------- checks
def _check_method(method) -> None:
    if method not in _METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, _METHODS))}; got {method!r}")


def _check_network(network, name: str) -> None:
    from pgm.network import BayesianNetwork

    if not isinstance(network, BayesianNetwork):
        raise TypeError(f"{name} must be a BayesianNetwork, not {type(network).__name__}")
    unfitted = network.unfitted_nodes
    if unfitted:
        listed = ", ".join(map(repr, unfitted[:5])) + (", ..." if len(unfitted) > 5 else "")
        raise NotFittedError(f"{name} has {len(unfitted)} node(s) without parameters ({listed}); fit it first")


def _check_pair(p, q) -> None:
    _check_network(p, "p")
    _check_network(q, "q")
    only_p = [n for n in p.nodes if n not in q]
    only_q = [n for n in q.nodes if n not in p]
    if only_p or only_q:
        parts = [f"{_listing(only_p)} only in p" if only_p else "", f"{_listing(only_q)} only in q" if only_q else ""]
        raise NodeError(f"p and q must be over the same variables: {'; '.join(x for x in parts if x)}")
    for node in p.nodes:
        a, b = p[node], q[node]
        if a.is_discrete != b.is_discrete:
            kinds = ("discrete", "continuous") if a.is_discrete else ("continuous", "discrete")
            raise StructureError(f"node {node!r} is {kinds[0]} in p but {kinds[1]} in q")
        if a.is_discrete and set(a.domain) != set(b.domain):
            raise StructureError(
                f"node {node!r} has states {list(a.domain)} in p but {list(b.domain)} in q; KL divergence "
                "compares distributions over the same states"
            )


def _listing(names) -> str:
    return ", ".join(map(repr, names[:5])) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _budget(memory_budget) -> int:
    from pgm.inference.engine import _budget as engine_budget

    return engine_budget(memory_budget)


# ---------------------------------------------------------------------------- exact computation
class _Marginals:
    """The joint marginals of p over given sets of its discrete nodes, from one calibration.

    The tree is built from p's families (static factors) with every
    requested set forced into some clique, then calibrated once with no
    evidence; each set's marginal is a sum over one clique's belief.
    """

    def __init__(self, network, scopes, budget: int):
        from pgm.inference.junction_tree import compile_junction_tree, format_bytes

        self.discrete = [n for n in network.nodes if network[n].is_discrete]
        self.id_of = {n: i for i, n in enumerate(self.discrete)}
        self.tree = self.beliefs = None
        if not self.discrete:
            return
        cards = [len(network.states(n)) for n in self.discrete]
        factors = [(self._ids(tuple(network[n].parents) + (n,)), network[n].table) for n in self.discrete]
        forced = list(dict.fromkeys(self._ids(s) for s in scopes if s))
        # Compiling allocates no tables, so the budget is checked here, with advice that fits these functions.
        tree = compile_junction_tree(cards, [s for s, _ in factors], [], forced)
        needed = 8 * tree.entries_per_row()
        if needed > budget:
            raise InferenceTooLarge(
                f"the exact entropy or KL divergence needs {format_bytes(needed)} of junction-tree tables (the "
                f"largest has {tree.largest_table_entries:,} entries), above the memory budget of "
                f"{format_bytes(budget)}; raise memory_budget= or use method='monte_carlo'"
            )
        base = tree.static_potentials(factors, [True] * len(factors))
        self.tree = tree
        self.beliefs, _ = tree.calibrate(base, [], 1)

    def _ids(self, scope) -> tuple:
        return tuple(self.id_of[v] for v in scope)

    def __call__(self, scope) -> np.ndarray:
        """p(scope) with axes in the order of ``scope``."""
        if not scope:
            return np.ones(())
        return self.tree.marginal(self.beliefs, list(self._ids(scope)), 1)[..., 0]


def _family(network, node) -> tuple:
    return tuple(network[node].parents) + (node,)


def _discrete_parents(network, node) -> tuple:
    return tuple(network[node].discrete_parents)


def _expected_log_own(network, budget: int) -> float:
    """E_p[log p(X)] for any fitted network p: minus its entropy."""
    discrete = [n for n in network.nodes if network[n].is_discrete]
    continuous = [n for n in network.nodes if not network[n].is_discrete]
    scopes = [_discrete_parents(network, n) for n in continuous]
    marginals = _Marginals(network, scopes, budget) if discrete else None
    total = 0.0
    for node in discrete:
        total += _expected_log(marginals(_family(network, node)), network[node].table)
    for node, scope in zip(continuous, scopes):
        # E[log N(x; mean, s2) | parents] = -log(2 pi e s2) / 2 whatever the mean: only s2 varies.
        log_terms = -0.5 * (_LOG_2PI_E + np.log(network[node].variance))
        weights = marginals(scope) if scope else np.ones(())
        total += float(np.sum(weights * log_terms))
    return total


def _expected_log(marginal: np.ndarray, table: np.ndarray) -> float:
    """sum p * log t, with 0 log 0 = 0 and -inf where t = 0 < p."""
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 * log 0 is dropped by the where
        return float(np.sum(np.where(marginal > 0, marginal * np.log(table), 0.0)))


def _aligned(q, node, p) -> np.ndarray:
    """q's table for ``node`` with every axis's states in p's order."""
    table = q[node].table
    for axis, variable in enumerate(_family(q, node)):
        if q.states(variable) != p.states(variable):
            order = [q.states(variable).index(s) for s in p.states(variable)]
            table = np.take(table, order, axis=axis)
    return table


def _exact_discrete_kl(p, q, budget: int) -> float:
    differing = {n for n in p.nodes if set(q[n].parents) != set(p[n].parents)}
    marginals = _Marginals(p, [_family(q, n) for n in differing], budget)
    total = 0.0
    for node in p.nodes:
        family = _family(p, node)
        own, mass = p[node].table, marginals(family)
        theirs = _aligned(q, node, p)
        if node in differing:
            total += _expected_log(mass, own) - _expected_log(marginals(_family(q, node)), theirs)
            continue
        # Same family: one sum of p log(p/q) terms, each family's share of KL non-negative.
        axes = [list(_family(q, node)).index(v) for v in family]
        theirs = np.transpose(theirs, axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            total += float(np.sum(np.where(mass > 0, mass * (np.log(own) - np.log(theirs)), 0.0)))
    return max(total, 0.0)  # KL >= 0; a negative value is rounding


def _exact_detail(network) -> str:
    if network.is_discrete:
        return "exact: family marginals from one junction-tree calibration"
    if not any(network[n].is_discrete for n in network.nodes):
        return "exact: closed form, sum of log(2 pi e variance) / 2 over the nodes"
    return "exact: discrete family marginals from one junction-tree calibration; Gaussian nodes in closed form"


def _kl(p, q, method: str, n_samples: int, rng, budget: int) -> Nats:
    if p.is_discrete and method != "monte_carlo":
        try:
            return Nats(_exact_discrete_kl(p, q, budget),
                        detail="exact: p's marginals over both networks' families from one junction-tree calibration")
        except InferenceTooLarge as refused:
            if method == "exact":
                raise
            reason = f"exact inference was refused: {refused}"
    elif p.is_linear_gaussian and q.is_linear_gaussian and method != "monte_carlo":
        from pgm.inference.gaussian import kl_divergence as gaussian_kl

        return Nats(gaussian_kl(p, q), detail="exact: closed form between the two joint normal distributions")
    elif method == "exact":
        raise StructureError(
            "KL divergence has an exact form for two discrete networks and for two linear Gaussian ones; "
            f"{_kinds(p, q)}: use method='monte_carlo' (or 'auto')"
        )
    elif method == "monte_carlo":
        reason = "method='monte_carlo' was asked for"
    else:
        reason = f"no closed form: {_kinds(p, q)}"
    log_p, log_q = _log_p_of_samples(p, q, n_samples, rng)
    with np.errstate(invalid="ignore"):
        difference = log_p - log_q
    return _mean(difference, f"mean of log p(x) - log q(x) over samples from p; {reason}")


def _kinds(p, q) -> str:
    first, second = _kind(p), _kind(q)
    return f"p and q are {first}" if first == second else f"p is {first} and q is {second}"


def _kind(network) -> str:
    if network.is_discrete:
        return "discrete"
    if network.is_linear_gaussian:
        return "linear Gaussian"
    for node in network.nodes:
        cpd = network[node]
        if not cpd.is_discrete and not cpd.is_linear:
            why = "has discrete parents" if cpd.discrete_parents else "has nonlinear features"
            return f"hybrid (node {node!r} {why})"
    return "a mix of discrete and continuous nodes"


# ---------------------------------------------------------------------------- Monte Carlo
def _log_p_of_samples(p, q, n_samples, rng):
    """log p(x) and (if q is given) log q(x) for ``n_samples`` draws x from p."""
    from pgm.data import Dataset
    from pgm.likelihood import log_likelihood
    from pgm.sampling import sample_columns

    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer of at least 2, got {n_samples!r}")
    columns = sample_columns(p, int(n_samples), seed=rng)
    log_p = log_likelihood(p, Dataset(columns, int(n_samples)))
    if q is None:
        return log_p, None
    recoded = dict(columns)
    for node in p.nodes:  # codes follow each network's own state order
        if p[node].is_discrete and q.states(node) != p.states(node):
            order = np.array([q.states(node).index(s) for s in p.states(node)], dtype=columns[node].dtype)
            recoded[node] = order[columns[node]]
    return log_p, log_likelihood(q, Dataset(recoded, int(n_samples)))


def _mean(values: np.ndarray, detail: str) -> Nats:
    n = len(values)
    if np.isposinf(values).any():  # a draw q (or p) cannot produce: the expectation is infinite
        return Nats(math.inf, method="monte_carlo", standard_error=0.0, n_samples=n, detail=detail)
    error = float(np.std(values, ddof=1) / math.sqrt(n))
    return Nats(float(np.mean(values)), method="monte_carlo", standard_error=error, n_samples=n,
                detail=f"{detail} ({n:,} draws)")


def _combine(value: float, first: Nats, second: Nats, what: str) -> Nats:
    if first.method == "exact" and second.method == "exact":
        return Nats(value, detail=f"{what}: {first.detail}; {second.detail}")
    # Independent draws for the two parts: their variances add.
    error = math.hypot(first.standard_error, second.standard_error)
    n = max(first.n_samples or 0, second.n_samples or 0)
    return Nats(value, method="monte_carlo", standard_error=error, n_samples=n,
                detail=f"{what}: H(p) {first.detail}; KL {second.detail}")
