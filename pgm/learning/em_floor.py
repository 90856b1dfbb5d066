"""A floor under the variances of latent Gaussian components, which bounds EM's likelihood.

The likelihood of a mixture of Gaussians is unbounded: a component centred
on one data value, with its variance shrinking to zero, sends the density of
that value -- and the likelihood -- to infinity.  EM started near such a
point walks into it, and with repeated values in the data (a sensor stuck at
5.0) most starts do.  Plain maximum likelihood has no answer there.

EM therefore maximises the likelihood under a constraint (Hathaway, 1985):
every residual variance of a continuous node *given a state of a latent
discrete parent* -- a latent Gaussian component -- is at least

    floor = variance_floor * (the node's variance in the data),

with ``variance_floor`` relative (default :data:`DEFAULT`, 1e-6, the size of
scikit-learn's ``reg_covar`` but in the data's units, so rescaling the data
rescales the floor).  The constrained likelihood is bounded and has a
maximum.  The constrained M-step is the plain one with each variance raised
to its floor, ``max(estimate, floor)``: the least-squares coefficients do
not depend on the variance, and the expected log-likelihood is unimodal in
it.  So EM keeps its guarantee -- the objective never decreases -- over the
constrained parameter space, and a fit whose variances all stay above their
floors is exactly the unconstrained one.

A component at its floor has collapsed onto (nearly) a single value: the fit
reports it (``fit_report_.floored``) and warns.  ``variance_floor=0`` is
plain maximum likelihood, where such a start fails instead.

The node's variance in the data is read from statistics whose observed
values are the data's (a start's completion, or an E-step): pooled over the
latent states, they are the data's own moments for a fully observed node.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT", "check_variance_floor", "floored_groups", "variance_floors", "at_floor", "raised_to_floors"]

#: The default ``variance_floor``: a latent Gaussian component's variance is at least this times the node's.
DEFAULT = 1e-6


def check_variance_floor(variance_floor) -> None:
    """Refuse a ``variance_floor`` that is not a finite number in [0, 1)."""
    if (isinstance(variance_floor, (bool, np.bool_))
            or not isinstance(variance_floor, (int, float, np.integer, np.floating))
            or not 0 <= variance_floor < 1):
        raise ValueError(
            f"variance_floor must be a number in [0, 1) (a fraction of each node's variance in the data; 0 turns "
            f"the floor off), got {variance_floor!r}"
        )


def floored_groups(network, observed) -> list[tuple[str, ...]]:
    """Tied groups (or single nodes) whose variances get a floor: observed linear Gaussians with a latent discrete parent."""
    from pgm.learning.em_parameters import has_vector_form
    from pgm.learning.mle import fitting_groups

    groups = []
    for group in fitting_groups(network):
        cpd = network[group[0]]
        if cpd.is_discrete or not has_vector_form(cpd) or not any(m in observed for m in group):
            continue
        if any(network[p].latent and network[p].is_discrete for p in cpd.discrete_parents):
            groups.append(group)
    return groups


def variance_floors(network, stats, variance_floor: float, observed) -> dict[str, float]:
    """The floor of every floored group's first member: ``variance_floor`` times its variance pooled over ``stats``.

    ``stats`` holds each node's per-configuration weight, mean and centred
    co-moments; pooling them over the configurations (and a tied group's
    members) gives the variance of the node's values across all rows.
    """
    if not variance_floor:
        return {}
    floors = {}
    for group in floored_groups(network, observed):
        d = len(network[group[0]].features)
        moments = np.concatenate([np.asarray(stats[m], dtype=np.float64).reshape(-1, d + 2, d + 2) for m in group])
        weight, mean, scatter = moments[:, 0, 0], moments[:, 0, -1], moments[:, -1, -1]
        total = weight.sum()
        if not total > 0:
            continue
        pooled_mean = weight @ mean / total
        variance = (scatter.sum() + weight @ (mean - pooled_mean) ** 2) / total
        if variance > 0 and np.isfinite(variance):
            floors[group[0]] = variance_floor * float(variance)
    return floors


def at_floor(network, floors: dict[str, float]) -> list[str]:
    """``"node at parent=state, ..."`` for every component whose fitted variance sits at its floor."""
    from pgm.cpds.base import configuration_label

    found = []
    for node, floor in floors.items():
        cpd = network[node]
        variances = np.asarray(cpd.variance, dtype=np.float64).ravel()
        for config in np.flatnonzero(variances <= floor * (1 + 1e-9)):
            found.append(f"{node} at {configuration_label(cpd.discrete_parents, cpd.parent_states, int(config))}")
    return found


def raised_to_floors(network, floors: dict[str, float]):
    """``network`` with every floored variance below its floor raised to it (the nearest feasible point).

    An accelerated (extrapolated) EM step can leave the constrained
    parameter space; the driver projects it back before scoring it.
    """
    from pgm.learning.em_parameters import with_cpd_parameters
    from pgm.learning.mle import fitting_groups
    from pgm.network import BayesianNetwork

    if not floors:
        return network
    cpds = dict(network.cpds)
    changed = False
    for group in fitting_groups(network):
        floor = floors.get(group[0])
        if floor is None:
            continue
        head = network[group[0]]
        variance = np.asarray(head.variance, dtype=np.float64)
        if (variance >= floor).all():
            continue
        changed = True
        arrays = (head.intercept, head.weights, np.maximum(variance, floor))
        for node in group:
            cpds[node] = with_cpd_parameters(network[node], arrays)
    if not changed:
        return network
    return BayesianNetwork._from_bound(cpds, name=network.name, tied=network.tied_groups)
