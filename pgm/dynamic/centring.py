"""Fitting dynamic networks in centred coordinates: fits that do not depend on where the data sit.

A linear Gaussian dynamic network is shift-equivariant: moving an observed
continuous column by ``r`` moves intercepts and nothing else.  Fitted on
data near 1e12 with a spread near 1, Baum-Welch with Gaussian emissions and
Kalman EM nonetheless came out with different weights, variances and
transition tables (by up to 1e-2 relative), because every intercept of the
iterates is stored at the data's location, where float64 resolves only
1e-4, and the E-step's residuals inherit that rounding.

So :func:`pgm.dynamic.learning.fit` runs on ``x - r``, one reference
location ``r`` per observed continuous node (a value of that column, its
lower median, so that ``x - r`` is exact for data within a factor of two of
it, by Sterbenz's lemma; 0 for latent nodes, whose location the data do not
fix).  In those coordinates the model is the same with intercepts
``b' = b - r_i + sum_j w_ij r_j`` (``j`` over the continuous parents, of any
slice), and the fitted network is moved back at the end.  The same scheme
as static EM's (:mod:`pgm.learning.em_location`), applied per distinct CPD.

Applies when every continuous CPD is linear Gaussian on identity features,
no discrete CPD has a continuous parent and no prior gives a continuous node
pseudo-statistics; otherwise fitting runs on the data as given.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pgm.cpds.gaussian import LinearGaussian
from pgm.dynamic.model import parse_parent
from pgm.learning.priors import pseudo_statistics

__all__ = ["reference_locations", "shift_network", "centred"]


def _eligible(network, prior) -> bool:
    for cpd in network._distinct_cpds().values():
        if cpd.is_discrete:
            if any(network.domains[parse_parent(p, cpd.variable)[0]] is None for p in cpd.parents):
                return False
            continue
        if type(cpd) is not LinearGaussian or not all(f.is_identity for f in cpd.features):
            return False
        if prior is not None and pseudo_statistics(prior, cpd) is not None:
            return False
    return True


def reference_locations(network, packed) -> dict:
    """One location per continuous node: the lower median of its observed values (0 for latent nodes).

    Parameters
    ----------
    network : DynamicBayesianNetwork
    packed : SequenceData
        The packed sequences (:mod:`pgm.dynamic.sequences`).

    Returns
    -------
    dict of str to float

    Examples
    --------
    >>> import numpy as np, pgm
    >>> from pgm.dynamic.sequences import to_sequences
    >>> model = pgm.dynamic.hmm(2, emission="gaussian", n_features=1)
    >>> packed = to_sequences({"y0": [1e9 + 1, 1e9 + 3, 1e9 + 2]}, {"y0": None})
    >>> reference_locations(model, packed)
    {'y0': 1000000002.0}
    """
    locations = {}
    for node in network.nodes:
        if network.domains[node] is not None:
            continue
        column = packed.columns.get(node)
        seen = column[packed.valid & ~np.isnan(column)] if column is not None else np.zeros(0)
        locations[node] = float(np.sort(seen)[(len(seen) - 1) // 2]) if len(seen) else 0.0
    return locations


def shift_network(network, locations: dict, sign: float):
    """The network for data moved by ``-sign * locations`` (``sign=1``: into centred coordinates; -1: back).

    Parameters
    ----------
    network : DynamicBayesianNetwork
    locations : dict of str to float
        One location per continuous node (:func:`reference_locations`).
    sign : float
        ``1.0`` moves into the centred coordinates, ``-1.0`` back.

    Returns
    -------
    DynamicBayesianNetwork

    Examples
    --------
    >>> import pgm
    >>> model = pgm.dynamic.hmm(1, emission="gaussian", n_features=1, startprob=[1.0], transmat=[[1.0]],
    ...                         means=[[1e9 + 0.5]], covars=[[1.0]])
    >>> float(shift_network(model, {"y0": 1e9}, 1.0).cpd("y0", 3).intercept[0])
    0.5
    """
    moved = {}
    for key, cpd in network._distinct_cpds().items():
        if cpd.is_discrete or cpd.intercept is None:
            continue
        offset = np.full(np.shape(cpd.intercept), locations.get(cpd.variable, 0.0))
        for f, feature in enumerate(cpd.features):
            base = parse_parent(feature.parents[0], cpd.variable)[0]
            offset = offset - cpd.weights[..., f] * locations.get(base, 0.0)
        if not np.any(offset):
            continue
        copy = cpd._bound_copy(cpd.variable, cpd.discrete_parents, cpd.continuous_parents, cpd.parent_states,
                               cpd.features, cpd.intercept - sign * offset, cpd.weights, cpd.variance)
        copy.latent = cpd.latent
        moved[key] = copy
    return network.with_cpds(moved) if moved else network


def centred(network, packed, prior):
    """``(locations, centred data)`` for fitting, or None when centring does not apply or changes nothing.

    Parameters
    ----------
    network : DynamicBayesianNetwork
    packed : SequenceData
    prior : Prior or None

    Returns
    -------
    tuple or None

    Examples
    --------
    >>> import pgm
    >>> from pgm.dynamic.sequences import to_sequences
    >>> model = pgm.dynamic.hmm(2, emission="gaussian", n_features=1)
    >>> locations, moved = centred(model, to_sequences({"y0": [5.0, 7.0, 6.0]}, {"y0": None}), None)
    >>> moved.columns["y0"].tolist()
    [[-1.0, 1.0, 0.0]]
    """
    if not _eligible(network, prior):
        return None
    locations = reference_locations(network, packed)
    if not any(locations.values()):
        return None
    return locations, shift_data(packed, locations)


def shift_data(packed, locations: dict):
    """Packed sequences with every continuous column moved by ``-location`` (padding stays NaN)."""
    columns = dict(packed.columns)
    for node, r in locations.items():
        if node in columns and r:
            columns[node] = columns[node] - r
    moved = dataclasses.replace(packed, columns=columns)
    return moved
