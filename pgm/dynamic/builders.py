"""Ready-made dynamic networks: HMMs, k-th order Markov chains and their relatives.

Each builder returns a :class:`~pgm.dynamic.DynamicBayesianNetwork`, with
parameters when they are given and unfitted (ready for ``fit``) when not.
Hidden states and symbols are the integers ``0..k-1`` by default, so that
hmmlearn's arrays (``X`` of integer codes or floats, plus ``lengths``) are
data as they are.

A multivariate Gaussian emission ``y | z ~ N(mu_z, Sigma_z)`` is declared as
one linear Gaussian node per coordinate, ``y_j | z, y_0..y_{j-1}``: the chain
rule of the multivariate normal, so a full covariance costs no new CPD
family, and its maximum-likelihood (or weighted, in Baum-Welch) fit by least
squares is exactly the weighted mean and covariance.  A diagonal covariance
drops the edges between coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pgm.cpds import Categorical, LinearGaussian
from pgm.dynamic.model import DynamicBayesianNetwork, previous

__all__ = ["hmm", "markov_chain", "autoregressive_hmm", "factorial_hmm", "input_output_hmm", "gaussian_chain",
           "chain_to_moments"]


def _hidden(states, startprob, transmat, extra_parents=()):
    """The hidden chain's two CPDs: p(z_0) and p(z_t | z_{t-1}, extra)."""
    if (startprob is None) != (transmat is None):
        raise ValueError("give both startprob and transmat, or neither (to fit them)")
    parents = [previous("z"), *extra_parents]
    if startprob is None:
        return Categorical.latent(states), Categorical.latent(states, parents=parents)
    first, step = Categorical(states, table=startprob), Categorical(states, parents=parents, table=transmat)
    first.latent = step.latent = True
    return first, step


def gaussian_chain(names: Sequence[str], discrete_parents: Sequence[str], *, means=None, covars=None,
                   covariance: str = "diag") -> dict:
    """Linear Gaussian CPDs for a vector ``y`` given discrete parents: ``N(mean[c], Sigma[c])``.

    Parameters
    ----------
    names : sequence of str
        The coordinates' node names.
    discrete_parents : sequence of str
        Parents that select the configuration ``c`` (e.g. ``["z"]``).
    means : array-like, optional
        Shape ``(*configurations, d)``: one mean vector per configuration of the discrete parents.
    covars : array-like, optional
        Shape ``(*configurations, d)`` for "diag", ``(*configurations, d, d)`` for "full".
    covariance : {"diag", "full"}

    Returns
    -------
    dict of str to LinearGaussian

    Examples
    --------
    >>> cpds = gaussian_chain(["a", "b"], ["z"], means=[[0, 0], [1, 1]],
    ...                       covars=[np.eye(2), [[1, .5], [.5, 1]]], covariance="full")
    >>> float(cpds["b"]._spec[1][1, 0]), float(cpds["b"]._spec[2][1])   # b | a: slope .5, variance .75
    (0.5, 0.75)
    """
    if covariance not in ("diag", "full"):
        raise ValueError(f"covariance must be 'diag' or 'full', got {covariance!r}")
    d = len(names)
    cpds = {}
    for j, name in enumerate(names):
        earlier = list(names[:j]) if covariance == "full" else []
        parents = [*discrete_parents, *earlier]
        if means is None:
            cpds[name] = LinearGaussian.unfitted(parents=parents)
            continue
        mu = np.asarray(means, dtype=np.float64)
        cov = np.asarray(covars, dtype=np.float64)
        full = cov if covariance == "full" else np.einsum("...i,ij->...ij", cov, np.eye(d))
        configs = mu.shape[:-1]
        # y_j | y_<j: slope b = S_j,<j S_<j,<j^-1, intercept mu_j - b mu_<j, variance S_jj - b S_<j,j
        s_before = full[..., :j, :j]
        s_cross = full[..., j, :j]
        if j and covariance == "full":
            slope = np.linalg.solve(s_before, s_cross[..., None])[..., 0]
        else:
            slope = np.zeros(configs + (0,))
            s_cross = s_cross[..., :0]
        intercept = mu[..., j] - np.einsum("...k,...k->...", slope, mu[..., :slope.shape[-1]])
        variance = full[..., j, j] - np.einsum("...k,...k->...", slope, s_cross)
        weights = slope
        cpds[name] = LinearGaussian(parents=parents, intercept=intercept, weights=weights, variance=variance)
    return cpds


def chain_to_moments(cpds: Sequence, discrete_shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Means ``(*configurations, d)`` and covariances ``(*configurations, d, d)`` of a chain from
    :func:`gaussian_chain` (the inverse of building it)."""
    d = len(cpds)
    k = int(np.prod(discrete_shape, dtype=np.int64))
    mean = np.zeros((k, d))
    cov = np.zeros((k, d, d))
    for j, cpd in enumerate(cpds):
        b0 = np.asarray(cpd.intercept).reshape(k)
        w = np.asarray(cpd.weights).reshape(k, -1)
        var = np.asarray(cpd.variance).reshape(k)
        slope = np.zeros((k, j))
        earlier = [p for p in cpd.parents if p in cpd.continuous_parents]
        for col, parent in enumerate(earlier):
            slope[:, int(parent_index(cpds, parent))] = w[:, col]
        mean[:, j] = b0 + np.einsum("kj,kj->k", slope, mean[:, :j])
        cross = np.einsum("kj,kji->ki", slope, cov[:, :j, :j])
        cov[:, j, :j] = cov[:, :j, j] = cross
        cov[:, j, j] = var + np.einsum("ki,ki->k", cross, slope)
    return mean.reshape(discrete_shape + (d,)), cov.reshape(discrete_shape + (d, d))


def parent_index(cpds, name) -> int:
    return [c.variable for c in cpds].index(name)


def hmm(n_states: int, *, emission: str = "categorical", n_symbols: int | None = None, n_features: int = 1,
        covariance: str = "diag", n_mix: int = 1, startprob=None, transmat=None, emissionprob=None,
        means=None, covars=None, mixture_weights=None, name: str = "hmm") -> DynamicBayesianNetwork:
    """A hidden Markov model: ``p(z_0) p(y_0 | z_0) prod_t p(z_t | z_{t-1}) p(y_t | z_t)``.

    Parameters
    ----------
    n_states : int
        States of the hidden node ``"z"`` (the integers ``0..n_states-1``).
    emission : {"categorical", "gaussian", "gmm"}
        ``"categorical"``: node ``"y"`` with ``n_symbols`` states;
        ``"gaussian"``: nodes ``"y0".."y{d-1}"`` with ``covariance`` "diag" or
        "full"; ``"gmm"``: a hidden mixture component ``"m"`` (``n_mix``
        states) given ``z``, and the Gaussian nodes given ``z`` and ``m``.
    startprob, transmat : array-like, optional
        ``p(z_0)`` (k,) and ``p(z_t | z_{t-1})`` (k, k); both or neither.
    emissionprob : array-like (k, n_symbols), optional
    means, covars : array-like, optional
        ``(k, d)`` and ``(k, d)`` / ``(k, d, d)``; for "gmm" with an extra
        ``n_mix`` axis after ``k``, and ``mixture_weights`` (k, n_mix).

    Returns
    -------
    DynamicBayesianNetwork

    Examples
    --------
    >>> import pgm
    >>> model = pgm.dynamic.hmm(2, emission="categorical", n_symbols=3)
    >>> model.nodes, model.latent_nodes, model.is_fitted
    (('z', 'y'), ('z',), False)
    """
    states = list(range(n_states))
    first, step = _hidden(states, startprob, transmat)
    transition = {"z": step}
    if emission == "categorical":
        if n_symbols is None:
            raise ValueError("a categorical emission needs n_symbols")
        transition["y"] = Categorical(list(range(n_symbols)), parents=["z"], table=emissionprob)
    elif emission == "gaussian":
        names = [f"y{j}" for j in range(n_features)]
        transition.update(gaussian_chain(names, ["z"], means=means, covars=covars, covariance=covariance))
    elif emission == "gmm":
        names = [f"y{j}" for j in range(n_features)]
        component = (Categorical.latent(list(range(n_mix)), parents=["z"]) if mixture_weights is None
                     else Categorical(list(range(n_mix)), parents=["z"], table=mixture_weights))
        component.latent = True
        transition["m"] = component
        transition.update(gaussian_chain(names, ["z", "m"], means=means, covars=covars, covariance=covariance))
    else:
        raise ValueError(f"emission must be 'categorical', 'gaussian' or 'gmm', got {emission!r}")
    return DynamicBayesianNetwork(transition, initial={"z": first}, name=name)


def markov_chain(states: Sequence, order: int = 1, *, node: str = "x", name: str = "markov_chain"):
    """A k-th order Markov chain ``p(x_t | x_{t-k} .. x_{t-1})``, unfitted, with its own CPD for each of the first k steps.

    Examples
    --------
    >>> import pgm
    >>> chain = pgm.dynamic.markov_chain(["a", "b"], order=2)
    >>> chain.cpd("x", 1).parents, chain.cpd("x", 7).parents
    (('x[t-1]',), ('x[t-2]', 'x[t-1]'))
    """
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}")
    states = list(states)

    def lags(k):
        return [previous(node, lag) for lag in range(k, 0, -1)]

    initial = [{node: Categorical(states, parents=lags(t))} for t in range(order)]
    return DynamicBayesianNetwork({node: Categorical(states, parents=lags(order))}, initial=initial, name=name)


def autoregressive_hmm(n_states: int, n_features: int = 1, *, name: str = "autoregressive_hmm"):
    """A Gaussian HMM whose observation also depends on the previous one: ``y_t | z_t, y_{t-1}`` (unfitted).

    Examples
    --------
    >>> import pgm
    >>> pgm.dynamic.autoregressive_hmm(2).cpd("y0", 3).parents
    ('z', 'y0[t-1]')
    """
    states = list(range(n_states))
    first, step = _hidden(states, None, None)
    names = [f"y{j}" for j in range(n_features)]
    lagged = [previous(n) for n in names]
    transition = {"z": step}
    initial = {"z": first}
    for j, n in enumerate(names):
        transition[n] = LinearGaussian.unfitted(parents=["z", *lagged, *names[:j]])
        initial[n] = LinearGaussian.unfitted(parents=["z", *names[:j]])
    return DynamicBayesianNetwork(transition, initial=initial, name=name)


def factorial_hmm(chains: Sequence[int], n_features: int = 1, *, name: str = "factorial_hmm"):
    """Several independent hidden chains ``z0, z1, ...`` jointly emitting Gaussian ``y`` (unfitted).

    Examples
    --------
    >>> import pgm
    >>> pgm.dynamic.factorial_hmm([2, 3]).cpd("y0", 1).parents
    ('z0', 'z1')
    """
    transition, initial = {}, {}
    hidden = [f"z{i}" for i in range(len(chains))]
    for name_i, k in zip(hidden, chains):
        initial[name_i] = Categorical.latent(list(range(k)))
        transition[name_i] = Categorical.latent(list(range(k)), parents=[previous(name_i)])
    transition.update(gaussian_chain([f"y{j}" for j in range(n_features)], hidden))
    return DynamicBayesianNetwork(transition, initial=initial, name=name)


def input_output_hmm(n_states: int, inputs: Sequence, n_symbols: int, *, name: str = "input_output_hmm"):
    """An input-output HMM: an observed input ``u_t`` steers the transition ``z_t | z_{t-1}, u_t``
    and the emission ``y_t | z_t, u_t`` (unfitted).

    Examples
    --------
    >>> import pgm
    >>> pgm.dynamic.input_output_hmm(2, ["a", "b"], 3).cpd("z", 2).parents
    ('z[t-1]', 'u')
    """
    states = list(range(n_states))
    transition = {
        "u": Categorical(list(inputs)),
        "z": Categorical.latent(states, parents=[previous("z"), "u"]),
        "y": Categorical(list(range(n_symbols)), parents=["z", "u"]),
    }
    initial = {"z": Categorical.latent(states, parents=["u"])}
    return DynamicBayesianNetwork(transition, initial=initial, name=name)
