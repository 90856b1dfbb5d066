"""EM in centred coordinates: fits that do not depend on where the continuous data sit.

A linear Gaussian model is shift-equivariant: moving a continuous column by
``r`` moves the intercepts and nothing else.  EM on data near 1e12 with an
sd near 1 still fitted different weights (by 1e-2 relative), variances
(7e-4) and mixture weights (2e-5) from EM on the same data near zero --
not because the data differ (values on a grid of 1/16 are exact at 1e12)
but because every intercept and every prior mean of the iterates is stored
at the data's location, where float64 resolves only 1.2e-4, and the E-step's
deviations inherit that rounding.

So EM runs on ``x - r``, with one reference location ``r`` per continuous
column (a value of that column: its median, so that ``x - r`` is exact for
data within a factor of two of it, by Sterbenz's lemma).  In those
coordinates every intercept is of the order of the spread; the model is the
same one with intercepts ``b' = b - r_i + sum_j w_ij r_j``, and the fitted
network is moved back the same way at the end (and for every callback).
Weights, variances, tables and the log-likelihood (the Jacobian of a shift
is 1) are then those of the centred fit, and only the intercepts carry the
rounding of their own location.

Applies when every continuous CPD is a linear Gaussian on identity features
(a polynomial of a shifted parent is another polynomial, not a shifted
intercept), no discrete CPD has a continuous parent (softmax inputs), no
continuous node is tied, and no prior gives a continuous node
pseudo-statistics; otherwise EM runs on the data as given.
"""

from __future__ import annotations

import numpy as np

from pgm.cpds.gaussian import LinearGaussian
from pgm.data import Dataset
from pgm.learning.priors import pseudo_statistics

__all__ = ["reference_locations", "shift_network", "centred"]


def _eligible(network, prior) -> bool:
    tied = {node for group in network.tied_groups for node in group if len(group) > 1}
    for node in network.nodes:
        cpd = network[node]
        if cpd.is_discrete:
            if any(not network[p].is_discrete for p in cpd.parents):
                return False
            continue
        if type(cpd) is not LinearGaussian or node in tied:
            return False
        if not all(f.is_identity for f in cpd.features):
            return False
        if prior is not None and pseudo_statistics(prior, cpd) is not None:
            return False
    return True


def reference_locations(network, dataset: Dataset) -> dict:
    """One reference location per continuous node: the median of its observed values (0 for latent nodes)."""
    locations = {}
    for node in network.nodes:
        if network[node].is_discrete:
            continue
        column = dataset.columns.get(node)
        seen = column[~np.isnan(column)] if column is not None else np.zeros(0)
        # a value of the column itself (lower median), so that differences near it are exact
        locations[node] = float(np.sort(seen)[(len(seen) - 1) // 2]) if len(seen) else 0.0
    return locations


def shift_network(network, locations: dict, sign: float):
    """The network for data moved by ``-sign * locations`` (``sign=1``: into centred coordinates; -1: back).

    Intercepts become ``b - sign * (r_i - sum_j w_ij r_j)``; everything else is kept.
    """
    shifted = network
    for node in network.nodes:
        cpd = network[node]
        if cpd.is_discrete or cpd.intercept is None:
            continue
        offset = np.full(cpd.intercept.shape, locations[node])
        for f, feature in enumerate(cpd.features):
            offset = offset - cpd.weights[..., f] * locations[feature.parents[0]]
        if not np.any(offset):
            continue
        moved = cpd._bound_copy(cpd.variable, cpd.discrete_parents, cpd.continuous_parents, cpd.parent_states,
                                cpd.features, cpd.intercept - sign * offset, cpd.weights, cpd.variance)
        shifted = shifted.with_cpd(node, moved)
    return shifted


def centred(network, dataset: Dataset, *, prior, init, callback):
    """EM's inputs in centred coordinates, and the function moving a fitted network back; None when not eligible.

    Returns ``(network, dataset, init, callback, restore)``.
    """
    from pgm.network import BayesianNetwork

    if not _eligible(network, prior):
        return None
    locations = reference_locations(network, dataset)
    if not any(locations.values()):
        return None
    columns = dict(dataset.columns)
    for node, r in locations.items():
        if node in columns and r:
            columns[node] = columns[node] - r
    moved = Dataset(columns, dataset.n_rows, dataset.row_labels)

    def restore(fitted):
        back = shift_network(fitted, locations, -1.0)
        if hasattr(fitted, "fit_report_"):
            back.fit_report_ = fitted.fit_report_
        return back

    if isinstance(init, BayesianNetwork):
        init = shift_network(init, locations, 1.0)
    start = network
    if init == "current":
        start = shift_network(network, locations, 1.0)
    wrapped = None if callback is None else (lambda i, ll, net: callback(i, ll, restore(net)))
    return start, moved, init, wrapped, restore
