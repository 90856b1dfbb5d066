"""Split moves: leaving a local optimum where two latent states share one cluster and one state covers two.

EM on a latent discrete node converges to the nearest local optimum, and
the typical bad one of a mixture with several states is a *misallocation*:
two states describe one cluster of the data between them while a third
covers two clusters.  No small change of the parameters improves on it, so
EM cannot leave it, and neither do more EM passes.  The split-and-merge
move of Ueda, Nakano, Ghahramani & Hinton (2000) does: give up one state
of the redundant pair (its rows fall to its twin) and re-seed it as half of
a state that covers too much.  Concretely, for states ``j`` (dropped) and
``k`` (split) of a latent node, every CPD in its family takes

- along each axis where the node (or a node tied to it,
  :func:`pgm.learning.alignment.permuted_nodes`) is a *parent*: ``j``'s
  slice becomes a copy of ``k``'s, and the two copies are pushed apart by
  opposite random perturbations (table rows multiplied by ``exp(+-s z)``
  and renormalised, Gaussian means moved by ``+- s z`` standard deviations,
  ``z`` standard normal, ``s`` = :data:`PERTURBATION`);
- along the node's *own* axis (its probabilities): ``j`` and ``k`` share
  ``k``'s probability, ``j``'s former share is spread over the rest.

:func:`candidate_moves` ranks the moves two ways and interleaves them.
From the parameters: ``j`` among the states most like another one (the
nearest pair of per-state parameter profiles), ``k`` among the states
whose rows cost most to encode (expected rows times the children's entropy
given the state: a state covering two clusters is spread out).  From the
rows (:func:`row_posteriors`, the criteria of Ueda et al.): ``j`` from the
pairs of states whose posteriors over the rows are most correlated (two
states sharing one cluster take the same rows), ``k`` among the states
whose rows the model explains worst -- the local Kullback-Leibler
divergence between a state's weighted rows and its density, which for
point masses at the rows is ``-log N - E_k[log p(row)]``, so the state
with the lowest mean row log-likelihood.  Neither ranking finds every
misallocation first (on scikit-learn's digits the parameter ranking
missed 2 of 5 seeds, the row ranking 1, the two interleaved none).  The driver
(:func:`pgm.learning.em.run`) screens the candidates with a few EM passes,
runs the best to convergence, and keeps it only if it ends higher; the
objective is compared at converged points, so the result is never worse
than the optimum it started from.
"""

from __future__ import annotations

import numpy as np

from pgm.learning.em_starts import FLOOR

__all__ = ["PERTURBATION", "RANKING_ROWS", "movable_nodes", "row_posteriors", "candidate_moves", "split_move"]

#: Size of the opposite perturbations that push the two halves of a split state apart.
PERTURBATION = 0.5
#: Rows whose posteriors rank the moves: a uniform sample of the data when it has more.
RANKING_ROWS = 5_000


def movable_nodes(network) -> list[str]:
    """Latent discrete nodes with at least three states, one per tie closure: where a split move can help.

    With two states, dropping one and splitting the other is a fresh start,
    not a move.
    """
    from pgm.learning.alignment import permuted_nodes
    from pgm.learning.em_parameters import has_vector_form

    found, covered = [], set()
    for node in network.latent_nodes:
        cpd = network[node]
        if not cpd.is_discrete or len(cpd.domain) < 3 or node in covered:
            continue
        closure = permuted_nodes(network, node)
        covered.update(closure)
        family = [n for n in network.nodes if n in closure or set(network[n].parents) & set(closure)]
        if all(has_vector_form(network[n]) for n in family):
            found.append(node)
    return found


def _state_mass(network, node: str, stats) -> np.ndarray:
    """Expected rows per state of ``node`` (summed over its tie group), from an E-step's statistics."""
    from pgm.learning.mle import fitting_groups

    group = next(g for g in fitting_groups(network) if node in g)
    k = len(network.states(node))
    return sum(np.asarray(stats[m], dtype=np.float64).reshape(-1, k).sum(axis=0) for m in group)


def _state_entropy(network, node: str) -> np.ndarray:
    """Per state of ``node``: its children's entropy given it (averaged over their other parents), summed.

    A state's expected rows times this is what its rows cost to encode: the
    state that covers two clusters costs most, so it is the one to split.
    """
    k = len(network.states(node))
    total = np.zeros(k)
    for child in network.children(node):
        cpd = network[child]
        if cpd.is_discrete:
            table = np.moveaxis(np.asarray(cpd.table, dtype=np.float64), cpd.parents.index(node), 0)
            rows = table.reshape(k, -1, table.shape[-1])
            total += -(rows * np.log(np.where(rows > 0, rows, 1.0))).sum(axis=2).mean(axis=1)
        else:
            variance = np.moveaxis(np.asarray(cpd.variance, dtype=np.float64), cpd.discrete_parents.index(node), 0)
            total += 0.5 * np.log(2 * np.pi * np.e * variance.reshape(k, -1)).mean(axis=1)
    # differential entropies can be negative: shift so that every state's is positive before weighing by mass
    return total - total.min() + 1.0 if total.min() <= 0 else total


def row_posteriors(network, node: str, data, rng):
    """``p(node | row)`` ``(n, k)`` and ``log p(row)`` ``(n,)`` for up to RANKING_ROWS rows of ``data``.

    ``data`` is an EM source (its ``sample`` gives rows of the observed
    columns, from every piece).  The rows are unweighted: they only rank
    moves, whose outcome the objective judges.  Returns None when the rows
    cannot be answered (an inference over the budget, say): the moves are
    then ranked from the parameters alone.
    """
    from pgm.data import to_frame
    from pgm.errors import PGMError

    columns = [n for n in network.nodes if n in data.observed]
    values = data.sample(columns, rng, limit=RANKING_ROWS)
    if len(values) == 0:
        return None
    domains = {c: network.states(c) if network[c].is_discrete else None for c in columns}
    frame = to_frame({c: (np.where(np.isnan(values[:, i]), -1, values[:, i]).astype(np.int64)
                          if domains[c] is not None else values[:, i]) for i, c in enumerate(columns)},
                     domains, len(values))
    try:
        posterior = np.asarray(network.query(node, evidence=frame), dtype=np.float64)
        log_p = np.asarray(network.log_likelihood(frame), dtype=np.float64)
    except (PGMError, MemoryError):
        return None
    keep = np.isfinite(log_p)
    return posterior[keep], log_p[keep]


def _row_ranked(posterior: np.ndarray, log_p: np.ndarray, *, limit: int) -> list[tuple[int, int]]:
    """Moves from the rows: merge the most correlated pairs (drop the lighter), split the worst explained."""
    mass = posterior.sum(axis=0)
    k = len(mass)
    norms = np.linalg.norm(posterior, axis=0)
    unit = posterior / np.where(norms > 0, norms, 1.0)
    correlation = unit.T @ unit
    pairs = sorted(((-correlation[i, j], i, j) for i in range(k) for j in range(i + 1, k)))
    badly_explained = -(posterior * log_p[:, None]).sum(axis=0) / np.where(mass > 0, mass, 1.0)
    splits = [int(s) for s in np.argsort(-badly_explained, kind="stable")]
    moves = []
    for _, i, j in pairs:
        dropped = int(i if mass[i] <= mass[j] else j)
        split = next((s for s in splits if s not in (i, j)), None)
        if split is not None and (dropped, split) not in moves:
            moves.append((dropped, split))
        if len(moves) >= limit:
            break
    return moves


def candidate_moves(network, node: str, stats, *, limit: int, rows=None) -> list[tuple[int, int]]:
    """Up to ``limit`` moves ``(j, k)``: drop state ``j`` (most redundant first), split ``k`` (costliest rows first).

    ``rows``, the result of :func:`row_posteriors`, adds the row-based
    ranking, interleaved with the parameter-based one.
    """
    from pgm.learning.em_starts import _state_profiles

    profiles = _state_profiles(network, node)
    mass = _state_mass(network, node, stats)
    k = len(mass)
    if profiles is None:
        return []
    scale = profiles.std(axis=0)
    scaled = profiles / np.where(scale > 0, scale, 1.0)
    distance = np.sqrt(((scaled[:, None, :] - scaled[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(distance, np.inf)
    # the lighter state of each close pair is the one to drop
    redundancy = [(distance[j].min(), mass[j], j) for j in range(k)]
    dropped = [j for _, _, j in sorted(redundancy)]
    heavy = list(np.argsort(-mass * _state_entropy(network, node), kind="stable"))
    moves = []
    for j in dropped:
        for split in heavy:
            if split != j and (j, int(split)) not in moves:
                moves.append((j, int(split)))
    # interleave: the best few drops against the best few splits before going further down either list
    moves.sort(key=lambda move: max(dropped.index(move[0]), heavy.index(move[1])))
    if rows is None:
        return moves[:limit]
    interleaved = []
    for pair in zip(_row_ranked(*rows, limit=limit), moves):
        interleaved.extend(move for move in pair if move not in interleaved)
    for move in moves:  # the row ranking may be short (few states): fill from the parameter ranking
        if move not in interleaved:
            interleaved.append(move)
    return interleaved[:limit]


def split_move(network, node: str, j: int, k: int, rng):
    """``network`` with state ``j`` of ``node`` (and every node tied to it) re-seeded as half of state ``k``."""
    from pgm.learning.alignment import permuted_nodes
    from pgm.learning.em_parameters import with_cpd_parameters
    from pgm.learning.mle import fitting_groups
    from pgm.network import BayesianNetwork

    closure = set(permuted_nodes(network, node))
    cpds = dict(network.cpds)
    for group in fitting_groups(network):
        head = network[group[0]]
        if head.is_discrete:
            axes = [i for i, p in enumerate(head.parents) if p in closure]
            own = group[0] in closure
            if not axes and not own:
                continue
            # floored as a start's tables are (em_starts.FLOOR): a row that only the dropped state explained
            # keeps a positive probability
            table = np.array(head.table, dtype=np.float64) + FLOOR / head.table.shape[-1]
            for axis in axes:
                table = _copied(table, axis, j, k)
                noise = np.exp(PERTURBATION * rng.standard_normal(np.take(table, k, axis=axis).shape))
                _scale_slice(table, axis, j, noise)
                _scale_slice(table, axis, k, 1.0 / noise)
            if own:
                moved = np.moveaxis(table, -1, 0)
                moved[j] = moved[k] = moved[k] / 2.0
            total = table.sum(axis=-1, keepdims=True)
            arrays = (np.where(total > 0, table / np.where(total > 0, total, 1.0), 1.0 / table.shape[-1]),)
        else:
            axes = [i for i, p in enumerate(head.discrete_parents) if p in closure]
            if not axes:
                continue
            intercept = np.array(head.intercept, dtype=np.float64)
            weights = np.array(head.weights, dtype=np.float64)
            variance = np.array(head.variance, dtype=np.float64)
            for axis in axes:
                intercept, weights, variance = (_copied(a, axis, j, k) for a in (intercept, weights, variance))
                shift = PERTURBATION * np.sqrt(np.take(variance, k, axis=axis))
                shift = shift * rng.standard_normal(shift.shape)
                _shift_slice(intercept, axis, j, shift)
                _shift_slice(intercept, axis, k, -shift)
            arrays = (intercept, weights, variance)
        for member in group:
            cpds[member] = with_cpd_parameters(network[member], arrays)
    return BayesianNetwork._from_bound(cpds, name=network.name, tied=network.tied_groups)


def _copied(array, axis, j, k):
    out = np.array(array, dtype=np.float64)
    index = [slice(None)] * out.ndim
    source = list(index)
    index[axis], source[axis] = j, k
    out[tuple(index)] = out[tuple(source)]
    return out


def _scale_slice(array, axis, at, factor):
    index = [slice(None)] * array.ndim
    index[axis] = at
    array[tuple(index)] *= factor


def _shift_slice(array, axis, at, shift):
    index = [slice(None)] * array.ndim
    index[axis] = at
    array[tuple(index)] += shift
