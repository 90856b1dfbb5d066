"""A fitted network's parameters as one flat vector, and back: what EM's extrapolation works on.

Accelerated EM (:mod:`pgm.learning.em`) moves along the line through
successive EM iterates, so it needs the parameters as a point of a vector
space in which every point is a valid network.  The coordinates are
*unconstrained*:

- a table's cells as log-probabilities (any vector, renormalised per row by
  log-sum-exp, is a table again); cells that are exactly zero stay zero, as
  EM keeps them;
- a linear Gaussian node's intercepts and weights as they are, and its
  variances as logarithms (any value is a positive variance again).

Tied nodes share one CPD and so one block of coordinates (their group's
first member's); :func:`with_parameters` gives every member the same values.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

__all__ = ["has_vector_form", "parameter_vector", "parameter_weights", "with_parameters", "with_cpd_parameters"]

#: Below this a table cell is treated as a structural zero that the extrapolation keeps at zero.
_TINY = 1e-300


def has_vector_form(cpd) -> bool:
    """Whether ``cpd``'s family has coordinates here: tables and linear Gaussians.

    Restricted parameterisations (softmax, noisy-OR) are fitted by their own
    optimiser; EM neither extrapolates nor spreads them.
    """
    from pgm.cpds.categorical import Categorical
    from pgm.cpds.gaussian import LinearGaussian

    return isinstance(cpd, (Categorical, LinearGaussian))


def _groups(network):
    from pgm.learning.mle import fitting_groups

    return fitting_groups(network)


def parameter_vector(network) -> tuple[np.ndarray, np.ndarray]:
    """``(coordinates, zeros)``: the unconstrained parameters of every fitting group, and the mask of zero cells.

    ``zeros`` marks table cells that are exactly zero (kept at zero by
    :func:`with_parameters`); its coordinates are 0.
    """
    values, zeros = [], []
    for group in _groups(network):
        cpd = network[group[0]]
        if cpd.is_discrete:
            table = np.asarray(cpd.table, dtype=np.float64).ravel()
            zero = table <= _TINY
            values.append(np.where(zero, 0.0, np.log(np.where(zero, 1.0, table))))
            zeros.append(zero)
        else:
            parts = [np.asarray(cpd.intercept, dtype=np.float64).ravel(), np.asarray(cpd.weights, dtype=np.float64).ravel(),
                     np.log(np.asarray(cpd.variance, dtype=np.float64).ravel())]
            block = np.concatenate(parts)
            values.append(block)
            zeros.append(np.zeros(block.size, dtype=bool))
    if not values:
        return np.zeros(0), np.zeros(0, dtype=bool)
    return np.concatenate(values), np.concatenate(zeros)


def parameter_weights(network) -> np.ndarray:
    """How much each coordinate of :func:`parameter_vector` counts when a step's length is measured.

    Log-probabilities, weights and log-variances count fully: they do not
    depend on the data's location or units.  Intercepts count not at all:
    they are stored at the data's location, where float64 resolves only
    ``eps * |location|``, so differences of successive iterates' intercepts
    would carry that rounding into SQUAREM's step and make a fit of data near
    1.7e9 differ from the same fit of centred data.  The step found from the
    other coordinates still moves the intercepts with them.
    """
    weights = []
    for group in _groups(network):
        cpd = network[group[0]]
        if cpd.is_discrete:
            weights.append(np.ones(int(np.prod(cpd.table_shape))))
        else:
            k, d = cpd.n_configurations, len(cpd.features)
            weights.append(np.concatenate([np.zeros(k), np.ones(k * d + k)]))
    return np.concatenate(weights) if weights else np.zeros(0)


def with_cpd_parameters(cpd, arrays):
    """A copy of the bound ``cpd`` holding new parameters: ``(table,)`` or ``(intercept, weights, variance)``."""
    if cpd.is_discrete:
        (table,) = arrays
        return cpd._bound_copy(cpd.variable, cpd.parent_states, np.asarray(table, dtype=np.float64))
    intercept, weights, variance = arrays
    cards = tuple(len(d) for d in cpd.parent_states)
    d = len(cpd.features)
    return cpd._bound_copy(cpd.variable, cpd.discrete_parents, cpd.continuous_parents, cpd.parent_states,
                           cpd.features, np.reshape(intercept, cards), np.reshape(weights, cards + (d,)),
                           np.reshape(variance, cards))


def with_parameters(network, vector: np.ndarray, zeros: np.ndarray):
    """``network`` (fitted, same structure) with the parameters of ``vector`` (see :func:`parameter_vector`)."""
    from pgm.network import BayesianNetwork

    cpds = dict(network.cpds)
    at = 0
    for group in _groups(network):
        head = network[group[0]]
        if head.is_discrete:
            shape = head.table_shape
            size = int(np.prod(shape))
            logs = vector[at:at + size].reshape(-1, shape[-1])
            zero = zeros[at:at + size].reshape(logs.shape)
            logs = np.where(zero, -np.inf, logs)
            table = np.exp(logs - logsumexp(logs, axis=1, keepdims=True)).reshape(shape)
            arrays = (table,)
        else:
            k = head.n_configurations
            d = len(head.features)
            size = k * (d + 2)
            block = vector[at:at + size]
            arrays = (block[:k], block[k:k + k * d], np.exp(block[k + k * d:]))
        at += size
        for node in group:
            cpds[node] = with_cpd_parameters(network[node], arrays)
    return BayesianNetwork._from_bound(cpds, name=network.name, tied=network.tied_groups)
