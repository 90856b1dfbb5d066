"""Where EM starts: parameters that break the symmetry between a latent node's states.

EM from a point at which two states of a latent node are interchangeable --
the same children's parameters given either -- stays there: the E-step
splits every row evenly between them and the M-step gives them the same
parameters again.  Such a point is a saddle, and a start that fills the
hidden values in uniformly at random lands next to it (every state is then
fitted to a random half of the rows: the pooled distribution).  So a start
here is *drawn as parameters*:

1. a *base*: one M-step on a completion of the data (hidden discrete values
   at random or, for ``init="kmeans++"``, the nearest k-means++ centre;
   hidden continuous values standard normal; missing observed values drawn
   from their column), which sets every part of the network that does not
   involve a latent node to its (nearly) complete-data estimate;
2. a *spread*: every CPD in whose family a latent discrete node appears is
   drawn afresh around the base -- table rows multiplied by independent
   Gamma(1) noise and renormalised (a Dirichlet draw centred on the base
   row), and a continuous child's means per latent state put at k data
   points chosen by k-means++ (Arthur & Vassilvitskii, 2007) on the latent
   node's observed continuous children, with the base's (pooled) variances.

Each restart draws anew, so ``n_init`` restarts differ.  Tied CPDs are drawn
once per group.  The same spread, applied to the current parameters, is how
EM leaves a saddle it reaches (:func:`interchangeable_states`).
"""

from __future__ import annotations

import numpy as np

from pgm.learning.em_parameters import has_vector_form, with_cpd_parameters

__all__ = ["seed_columns", "kmeans_plus_plus", "nearest_centre", "spread", "interchangeable_states",
           "parameters_from"]

#: Rows of the data k-means++ looks at (a uniform sample beyond that: the centres only need to be typical).
SEED_SAMPLE = 20_000
#: A start gives every cell at least this much of the uniform distribution, so that no row has probability zero.
FLOOR = 1e-3


def seed_columns(network, node: str, observed) -> list[str]:
    """The continuous children of latent ``node`` that have values in the data: where its k-means++ centres live."""
    return [c for c in network.children(node) if not network[c].is_discrete and c in observed]


def kmeans_plus_plus(points: np.ndarray, k: int, rng) -> np.ndarray | None:
    """``k`` rows of ``points`` chosen by k-means++ on standardised columns (rows with a NaN skipped), or None."""
    points = points[~np.isnan(points).any(axis=1)]
    if len(points) == 0:
        return None
    if len(points) > SEED_SAMPLE:
        points = points[rng.choice(len(points), SEED_SAMPLE, replace=False)]
    scale = points.std(axis=0)
    scaled = points / np.where(scale > 0, scale, 1.0)
    picks = [int(rng.integers(len(points)))]
    distance = ((scaled - scaled[picks[0]]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = distance.sum()
        pick = int(rng.integers(len(points))) if not total > 0 else int(rng.choice(len(points), p=distance / total))
        picks.append(pick)
        distance = np.minimum(distance, ((scaled - scaled[pick]) ** 2).sum(axis=1))
    return points[picks]


def nearest_centre(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre per row in standardised units; a row with NaNs ignores those columns."""
    scale = np.nanstd(centres, axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    a, c = points / scale, centres / scale
    seen = ~np.isnan(a)
    a = np.where(seen, a, 0.0)
    squared = ((a[:, None, :] - c[None, :, :]) ** 2 * seen[:, None, :]).sum(axis=2)
    return np.argmin(squared, axis=1)


def _latent_discrete(network) -> list[str]:
    return [n for n in network.latent_nodes if network[n].is_discrete]


def spread(network, rng, centres: dict, *, only=None):
    """``network`` with every CPD whose family holds a latent discrete node drawn afresh around its parameters.

    ``centres`` maps a latent node to ``(columns, points)``: k points
    (rows) over its continuous children ``columns``, which become the
    children's means given each state.  ``only`` limits the draw to the
    families of those latent nodes.
    """
    from pgm.learning.mle import fitting_groups
    from pgm.network import BayesianNetwork

    latent = set(_latent_discrete(network) if only is None else only)
    cpds = dict(network.cpds)
    for group in fitting_groups(network):
        head = network[group[0]]
        involved = [n for n in (group[0], *head.parents) if n in latent and network[n].is_discrete]
        if not involved or not has_vector_form(head):  # a softmax / noisy-OR keeps its fitted start
            continue
        if head.is_discrete:
            table = np.asarray(head.table, dtype=np.float64)
            k = table.shape[-1]
            noisy = (table + FLOOR / k) * rng.gamma(1.0, size=table.shape)
            arrays = (noisy / noisy.sum(axis=-1, keepdims=True),)
        else:
            arrays = _gaussian_spread(network, group, involved, rng, centres)
        for node in group:
            cpds[node] = with_cpd_parameters(network[node], arrays)
    return BayesianNetwork._from_bound(cpds, name=network.name, tied=network.tied_groups)


def _gaussian_spread(network, group, involved, rng, centres):
    """A continuous child's intercepts put so that its mean given each latent state is a k-means++ centre.

    The tied group's first member with centres decides (all members share
    the parameters).  Without centres -- or with a continuous parent that is
    not among the centres' columns, or a non-linear feature -- the intercepts
    are shifted by a standard deviation times a standard normal draw per
    state instead.
    """
    head = network[group[0]]
    intercept = np.array(head.intercept, dtype=np.float64)
    weights = np.asarray(head.weights, dtype=np.float64)
    variance = np.asarray(head.variance, dtype=np.float64)
    for member in group:
        cpd = network[member]
        latent = next((p for p in cpd.discrete_parents if p in involved), None)
        if latent is None or latent not in centres:
            continue
        columns, points = centres[latent]
        parents = [f.parents[0] if f.is_identity else None for f in cpd.features]
        if member not in columns or any(p is None or p not in columns for p in parents):
            continue
        axis = cpd.discrete_parents.index(latent)
        means = points[:, columns.index(member)]
        features = points[:, [columns.index(p) for p in parents]] if parents else np.zeros((len(points), 0))
        # mean given state j = intercept + w . features  =>  intercept = centre - w . centre's features
        moved = np.moveaxis(intercept, axis, -1)
        w = np.moveaxis(weights, axis, -2) if parents else None
        for j in range(len(points)):
            shift = (w[..., j, :] @ features[j]) if parents else 0.0
            moved[..., j] = means[j] - shift
        intercept = np.moveaxis(moved, -1, axis)
        return intercept, weights, variance
    intercept = intercept + np.sqrt(variance) * rng.standard_normal(intercept.shape)
    return intercept, weights, variance


def _state_profiles(network, node: str) -> np.ndarray | None:
    """One row per state of ``node``: its children's parameters given that state (None without children)."""
    k = len(network.states(node))
    parts = []
    for child in network.children(node):
        cpd = network[child]
        if not has_vector_form(cpd):
            return None  # a restricted child's parameters are not a per-state profile: no verdict
        if cpd.is_discrete:
            axis = cpd.parents.index(node)
            parts.append(np.moveaxis(np.asarray(cpd.table), axis, 0).reshape(k, -1))
        else:
            axis = cpd.discrete_parents.index(node)
            for array in (cpd.intercept, cpd.weights, np.log(cpd.variance)):
                parts.append(np.moveaxis(np.asarray(array, dtype=np.float64), axis, 0).reshape(k, -1))
    return np.hstack(parts) if parts else None


def interchangeable_states(network, *, rtol: float = 1e-7) -> list[str]:
    """Latent discrete nodes with two states whose children's parameters are the same: EM cannot separate them.

    Such a point is a fixed point of EM (a saddle or a degenerate optimum),
    however far it is from the best fit.
    """
    found = []
    for node in _latent_discrete(network):
        profiles = _state_profiles(network, node)
        if profiles is None or len(profiles) < 2:
            continue
        scale = np.abs(profiles).max() + 1.0
        gaps = np.abs(profiles[:, None, :] - profiles[None, :, :]).max(axis=2)
        np.fill_diagonal(gaps, np.inf)
        if gaps.min() <= rtol * scale:
            found.append(node)
    return found


# ---------------------------------------------------------------------------- init=network
def parameters_from(model, init):
    """``model``'s structure, states, ties and latent flags with the parameters of the fitted network ``init``.

    States and parents are matched by name (tables are permuted to
    ``model``'s order); tied nodes take their group's first member's
    parameters.  Raises a :class:`~pgm.errors.StructureError` naming the
    first node that differs in family, parents, states or features.
    """
    from pgm.errors import StructureError
    from pgm.learning.mle import fitting_groups
    from pgm.network import BayesianNetwork

    missing = [n for n in model.nodes if n not in init]
    extra = [n for n in init.nodes if n not in model]
    if missing or extra:
        what = f"lacks node {missing[0]!r}" if missing else f"has node {extra[0]!r}, which the model lacks"
        raise StructureError(f"the init= network {what}; it must have the same nodes as the network being fitted")
    init._require_fitted("used as a starting point")
    cpds = dict(model.cpds)
    for group in fitting_groups(model):
        mine, theirs = model[group[0]], init[group[0]]
        if not has_vector_form(mine) or not has_vector_form(theirs):
            if (type(mine) is not type(theirs) or tuple(mine.parents) != tuple(theirs.parents)
                    or tuple(mine.states) != tuple(theirs.states)):
                raise StructureError(
                    f"node {group[0]!r} is a {type(mine).__name__} in the model and a {type(theirs).__name__} "
                    f"in the init= network, or their parents or states differ (for softmax and noisy-OR nodes "
                    "they must be the same, in the same order); the init supplies parameters, not structure")
            for node in group:
                cpds[node] = init[node]
            continue
        arrays = _mapped(mine, theirs, group[0], StructureError)
        for node in group:
            cpds[node] = with_cpd_parameters(model[node], arrays)
    return BayesianNetwork._from_bound(cpds, name=model.name, tied=model.tied_groups)


def _mapped(mine, theirs, node, error):
    if mine.is_discrete != theirs.is_discrete:
        kind = "discrete" if mine.is_discrete else "continuous"
        raise error(f"node {node!r} is {kind} in the model but not in the init= network")
    if set(mine.parents) != set(theirs.parents):
        only = sorted(set(mine.parents) ^ set(theirs.parents))
        raise error(f"node {node!r} has parents {list(mine.parents)} in the model but {list(theirs.parents)} in "
                    f"the init= network (they differ in {only}); the init supplies parameters, not structure")
    discrete = list(mine.parents if mine.is_discrete else mine.discrete_parents)
    their_discrete = list(theirs.parents if theirs.is_discrete else theirs.discrete_parents)
    for parent, states in zip(discrete, mine.parent_states):
        their_states = theirs.parent_states[their_discrete.index(parent)]
        if set(states) != set(their_states):
            raise error(f"parent {parent!r} of node {node!r} has states {list(states)} in the model but "
                        f"{list(their_states)} in the init= network")
    # their axes in our parent order, their states in our order along each axis
    order = [their_discrete.index(p) for p in discrete]
    takes = [[list(theirs.parent_states[their_discrete.index(p)]).index(s) for s in states]
             for p, states in zip(discrete, mine.parent_states)]

    def reorder(array, trailing):
        array = np.asarray(array, dtype=np.float64)
        array = np.transpose(array, order + list(range(len(order), array.ndim)))
        for axis, take in enumerate(takes):
            array = np.take(array, take, axis=axis)
        return array

    if mine.is_discrete:
        if set(mine.states) != set(theirs.states):
            raise error(f"node {node!r} has states {list(mine.states)} in the model but {list(theirs.states)} "
                        "in the init= network")
        table = reorder(theirs.table, 1)
        return (np.take(table, [list(theirs.states).index(s) for s in mine.states], axis=-1),)
    if [str(f) for f in mine.features] != [str(f) for f in theirs.features]:
        raise error(f"node {node!r} has features {[str(f) for f in mine.features]} in the model but "
                    f"{[str(f) for f in theirs.features]} in the init= network")
    return reorder(theirs.intercept, 0), reorder(theirs.weights, 1), reorder(theirs.variance, 0)
