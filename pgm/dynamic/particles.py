"""Approximate filtering by particles, for dynamic networks too large for the exact engine.

The exact engine enumerates the joint hidden state of a slice (at most
4,096 states): a factorial HMM with 13 binary chains is already beyond it.
A *particle filter* (the bootstrap filter of Gordon, Salmond and Smith, 1993;
Doucet, de Freitas and Gordon's "sequential Monte Carlo") carries instead
``P`` samples of the slice's unobserved values per sequence.  Each step
draws every unobserved node of the slice from its CPD given its parents'
sampled (or observed) values -- hidden nodes, and observed nodes whose value
is missing -- and weights each particle by the probability of the slice's
observed values; the weighted particles estimate ``p(z_t | x_0..t)`` and the
mean of the weights estimates ``p(x_t | x_0..t-1)``, whose logs add up to an
unbiased estimate (in the likelihood, not its log) of the log-likelihood.
When the effective sample size ``1 / sum(w^2)`` falls below a fraction of
``P``, the particles are resampled (systematic resampling).

Any CPD family that can ``sample`` and ``log_prob`` works, continuous hidden
nodes included; the cost is ``O(T x P)`` per sequence whatever the size of
the hidden state.  The error shrinks as ``1 / sqrt(P)``; the estimate is
random, so give ``seed`` for a reproducible answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pgm._random import as_generator
from pgm.dynamic.model import _slice_order, parse_parent

__all__ = ["ParticleFilterResult", "particle_filter"]


@dataclass
class ParticleFilterResult:
    """A particle filter's estimates.

    Attributes
    ----------
    log_likelihood : pandas.Series
        Estimated ``log p(x)`` per sequence.
    filtered : pandas.DataFrame
        Estimated ``p(z_t | x_0..t)`` per (sequence, t): columns (node, state)
        for discrete hidden nodes, (node, "mean") for continuous ones.
    effective_sample_size : pandas.Series
        The effective number of particles at each (sequence, t), before any
        resampling: small values mean the estimate there is poor.
    """

    log_likelihood: pd.Series
    filtered: pd.DataFrame
    effective_sample_size: pd.Series


def particle_filter(network, data, *, n_particles: int = 1000, seed=None, resample_below: float = 0.5,
                    sequence=None, time=None, lengths=None) -> ParticleFilterResult:
    """Filtered marginals and the log-likelihood of every sequence, estimated with ``n_particles`` particles.

    Parameters
    ----------
    network : DynamicBayesianNetwork
    data : DataFrame, list of DataFrames, mapping, or array
        Sequences, as for :meth:`~pgm.dynamic.DynamicBayesianNetwork.log_likelihood`.
    n_particles : int
        Particles per sequence.
    seed : None, int or numpy.random.Generator
    resample_below : float
        Resample when the effective sample size falls below this fraction
        of ``n_particles`` (1 resamples at every step, 0 never).
    sequence, time, lengths
        Where the sequences are, as for ``log_likelihood``.

    Returns
    -------
    ParticleFilterResult

    Examples
    --------
    >>> import pgm
    >>> from pgm.dynamic.particles import particle_filter
    >>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
    ...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
    >>> estimate = particle_filter(umbrella, {"y": [1, 1]}, n_particles=100_000, seed=0)
    >>> estimate.filtered[("z", 1)].round(2).tolist()            # exact: 0.818, 0.883
    [0.82, 0.88]
    """
    from pgm.dynamic.inference import pack_observed

    if isinstance(n_particles, bool) or not isinstance(n_particles, int) or n_particles < 1:
        raise ValueError(f"n_particles must be a positive integer, got {n_particles!r}")
    if not 0.0 <= resample_below <= 1.0:
        raise ValueError(f"resample_below must be between 0 and 1, got {resample_below!r}")
    if not network.is_fitted:
        raise ValueError(f"the network {network.name!r} has unfitted CPDs; fit it first")
    rng = as_generator(seed)
    packed = pack_observed(network, data, sequence=sequence, time=time, lengths=lengths)
    N, T, P = packed.n_sequences, packed.longest, n_particles
    history = {node: [] for node in network.nodes}  # per node, its values at t, t-1, ... (N, P) each
    depth = max(network.order, 1)
    log_weights = np.zeros((N, P))
    total = np.zeros(N)
    ess_steps = np.zeros((N, T))
    outputs = {node: [] for node in network.latent_nodes}
    orders = {}
    for t in range(T):
        live = t < packed.lengths  # (N,): sequences still running
        key = min(t, network.n_initial)
        if key not in orders:
            orders[key] = _slice_order({x: [b for p in network.cpd(x, t).parents
                                            for b, lag in [parse_parent(p, x)] if lag == 0] for x in network.nodes})
        current, step_log = {}, np.zeros((N, P))
        for node in orders[key]:
            cpd = network.cpd(node, t)
            parents = {}
            for p in cpd.parents:
                base, lag = parse_parent(p, node)
                parents[p] = (current[base] if lag == 0 else history[base][lag - 1]).reshape(-1)
            values = _observed(packed, node, t, P)
            drawn = cpd.sample(parents, N * P, rng).reshape(N, P)
            if values is None:
                current[node] = drawn
                continue
            seen = ~_missing(values)
            current[node] = np.where(seen, values, drawn)  # a missing observed value is drawn, like a hidden one
            scored = cpd.log_prob(np.where(seen, values, drawn).reshape(-1), parents).reshape(N, P)
            step_log += np.where(seen, scored, 0.0)
        for node in network.nodes:
            history[node].insert(0, current[node])
            del history[node][depth:]
        # incremental weights: the step's likelihood p(x_t | x_<t) is estimated by the weighted mean
        previous = _normalised(log_weights)
        combined = log_weights + step_log
        shift = combined.max(axis=1, keepdims=True)
        increment = np.log((previous * np.exp(step_log - step_log.max(axis=1, keepdims=True))).sum(axis=1)) \
            + step_log.max(axis=1)
        total += np.where(live, increment, 0.0)
        log_weights = np.where(live[:, None], combined - shift, log_weights)
        weights = _normalised(log_weights)
        ess = 1.0 / (weights ** 2).sum(axis=1)
        ess_steps[:, t] = ess
        for node in network.latent_nodes:
            outputs[node].append(_summary(network, node, current[node], weights))
        resample = live & (ess < resample_below * P)
        if resample.any():
            ancestors = _systematic(weights[resample], rng)
            for node in network.nodes:
                for slot in history[node]:
                    slot[resample] = np.take_along_axis(slot[resample], ancestors, axis=1)
            log_weights[resample] = 0.0
    index = packed.frame_index()
    columns, blocks = [], []
    for node in network.latent_nodes:
        per_step = np.stack(outputs[node], axis=1)  # (N, T, k)
        blocks.append(packed.to_long(per_step))
        domain = network.domains[node]
        columns += [(node, s) for s in domain] if domain is not None else [(node, "mean")]
    filtered = pd.DataFrame(np.hstack(blocks) if blocks else np.zeros((len(index), 0)), index=index,
                            columns=pd.MultiIndex.from_tuples(columns) if columns else None)
    ids = pd.Index([packed.ids[p] for p in packed.position], name="sequence")
    return ParticleFilterResult(pd.Series(packed.in_user_order(total), index=ids, name="log_likelihood"), filtered,
                                pd.Series(packed.to_long(ess_steps), index=index, name="effective_sample_size"))


def _observed(packed, node, t, P):
    column = packed.columns.get(node)
    if column is None:
        return None
    return np.repeat(column[:, t][:, None], P, axis=1)


def _missing(values):
    return np.isnan(values) if values.dtype.kind == "f" else values < 0


def _normalised(log_weights):
    weights = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def _summary(network, node, values, weights):
    domain = network.domains[node]
    if domain is None:
        return (weights * values).sum(axis=1)[:, None]
    k = len(domain)
    N = len(values)
    flat = (np.arange(N)[:, None] * k + values).reshape(-1)
    return np.bincount(flat, weights=weights.reshape(-1), minlength=N * k).reshape(N, k)


def _systematic(weights, rng):
    """Systematic resampling of each row: ancestor indices (rows, P) from one uniform draw per row."""
    n, P = weights.shape
    positions = (rng.random((n, 1)) + np.arange(P)[None, :]) / P
    cumulative = np.cumsum(weights, axis=1)
    cumulative[:, -1] = 1.0
    offsets = np.arange(n)[:, None]
    # one searchsorted over all rows at once: row r's cumulative sums are shifted by r
    flat = np.searchsorted((cumulative + offsets).reshape(-1), (positions + offsets).reshape(-1), side="left")
    return (flat.reshape(n, P) - offsets * P).clip(0, P - 1)
