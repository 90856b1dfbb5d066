"""Missing continuous values whose children are observed in the same slice, summed out exactly.

A slice's continuous observed nodes (linear Gaussian, or conditional linear
Gaussian given discrete nodes) are, given the hidden state and their
observed parents from earlier slices, one multivariate normal: writing each
CPD as ``v_j = b_j + sum_k W_jk v_k + e_j`` with ``e_j ~ N(0, D_j)`` over the
slice's continuous nodes ``v``, the block is ``N(L b, L D L^T)`` with
``L = (I - W)^-1`` (``W`` is strictly triangular in the slice's order).  Where
a value is missing and another node of the slice depends on it (a
full-covariance Gaussian HMM with one coordinate missing, say), the step's
factor is the *marginal* density of the block's observed coordinates, one
Gaussian per joint hidden state; the nodes' own factors are left out there.
Steps are grouped by their pattern of missing coordinates, and each group is
one batched computation over (steps, hidden states).

For EM, the missing coordinates' conditional normal given the observed ones
is represented by ``2m`` sigma points ``mu +- sqrt(m) * (columns of a square
root of Sigma)``, each of weight ``1 / 2m``: they have exactly its mean and
covariance, and the statistics of a linear Gaussian CPD are weighted first
and second moments, so the expected statistics are exact.

A missing continuous value with a child in a *later* slice (an
autoregressive HMM's ``y``) couples hidden states across slices: its steps
belong to a block of several slices (:mod:`pgm.dynamic.gaussian_runs`),
which covers them here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgm.dynamic.model import parse_parent
from pgm.errors import DataError, StructureError

__all__ = ["GaussianBlock", "gaussian_blocks", "block_log_density", "block_statistics"]


@dataclass
class GaussianBlock:
    """The continuous observed nodes of one segment of slices and the steps where they are marginalised."""

    nodes: tuple
    start: int
    stop: int
    rows: np.ndarray
    cols: np.ndarray
    seen: np.ndarray  # (positions, d) True where the coordinate is observed


def gaussian_blocks(network, data, space) -> list[GaussianBlock]:
    """Every segment's block and the positions that need it (cached on ``data``)."""
    cache = data.__dict__.setdefault("_gaussian_blocks", {})
    key = tuple(space.nodes)
    if key not in cache:
        cache[key] = _find_blocks(network, data, space)
    return cache[key]


def block_mask(data, node: str, start: int, stop: int) -> np.ndarray | None:
    """``(n_sequences, stop - start)`` True where ``node``'s factor is replaced by its block's."""
    for blocks in data.__dict__.get("_gaussian_blocks", {}).values():
        for block in blocks:
            if node in block.nodes and block.start == start and block.stop == stop and len(block.rows):
                mask = np.zeros((data.n_sequences, stop - start), dtype=bool)
                mask[block.rows, block.cols - start] = True
                return mask
    return None


def _continuous_observed(network, space) -> list[str]:
    return [n for n in network.nodes if n not in space.nodes and network.domains[n] is None]


def _find_blocks(network, data, space) -> list[GaussianBlock]:
    from pgm.dynamic.potentials import _missing  # the one definition of "missing"

    nodes = [n for n in _continuous_observed(network, space) if n in data.columns]
    if not nodes:
        return []
    cuts = list(range(min(network.n_initial, data.longest))) + [min(network.n_initial, data.longest), data.longest]
    out = []
    for a, b in [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]:
        with_children = set()
        for node in nodes:
            for parent in network.cpd(node, a).parents:
                base, lag = parse_parent(parent, node)
                if lag == 0 and base in nodes:
                    with_children.add(base)
        if not with_children:
            continue
        valid = np.arange(a, b)[None, :] < data.lengths[:, None]
        needs = np.zeros_like(valid)
        for node in with_children:
            needs |= _missing(data.columns[node][:, a:b])
        needs &= valid
        from pgm.dynamic.gaussian_runs import run_mask

        in_runs = run_mask(network, data, nodes[0])
        if in_runs is not None:  # those steps are inside a block carried across slices, which covers them
            needs &= ~in_runs[:, a:b]
        if not needs.any():
            continue
        rows, cols = np.nonzero(needs)
        order = [n for n in network.nodes if n in nodes]  # declaration order is a topological order of the slice
        order = _slice_order(network, order, a)
        seen = np.stack([~_missing(data.columns[n][:, a:b][rows, cols]) for n in order], axis=1)
        out.append(GaussianBlock(tuple(order), a, b, rows, cols + a, seen))
    return out


def _slice_order(network, nodes, t):
    from pgm.dynamic.model import _slice_order as order_of

    parents = {n: [parse_parent(p, n)[0] for p in network.cpd(n, t).parents if parse_parent(p, n)[1] == 0]
               for n in nodes}
    return order_of(parents)


def _moments(network, block, data, space):
    """Mean ``(n, S, d)`` and covariance ``(n, S, d, d)`` of the block at each position and joint hidden state,
    and the observed values ``(n, d)`` (NaN where missing)."""
    from pgm.dynamic.potentials import _column

    nodes, d = block.nodes, len(block.nodes)
    n, S = len(block.rows), space.size
    hidden = set(space.nodes)
    values = np.stack([data.columns[v][block.rows, block.cols] for v in nodes], axis=1)
    offset, weight, variance = np.zeros((n, S, d)), np.zeros((n, S, d, d)), np.zeros((n, S, d))
    for j, node in enumerate(nodes):
        cpd = network.cpd(node, block.start)
        if cpd.is_discrete or not all(f.is_identity for f in cpd.features):
            raise StructureError(f"{node!r} is not linear Gaussian in its parents; a missing value of a continuous "
                                 "node with children is summed out only in linear Gaussian slices")
        parents = {}
        inside = []
        for parent in cpd.parents:
            base, lag = parse_parent(parent, node)
            if base in hidden:
                if lag:
                    raise StructureError(
                        f"{node!r} has the hidden parent {parent!r} from the previous slice; a missing continuous "
                        "value with children is summed out only when the slice's Gaussian nodes depend on the "
                        "hidden state of their own slice")
                parents[parent] = np.tile(space.column(base), n)
            elif lag == 0 and base in nodes:
                inside.append(parent)
                parents[parent] = np.zeros(n * S)
            else:
                column = _column(data, base, node)[block.rows, block.cols - lag]
                gap = np.isnan(column) if column.dtype.kind == "f" else column < 0
                if gap.any():
                    i = int(np.argmax(gap))
                    raise DataError(
                        f"{base!r} is missing in sequence {data.ids[block.rows[i]]!r} at t={block.cols[i] - lag}, "
                        f"but {node!r} at t={block.cols[i]} depends on it from another slice; the exact engine sums "
                        "out a missing continuous value only where its observed children are in its own slice")
                parents[parent] = np.repeat(column, S)
        base_mean = cpd.conditional_mean(parents, n * S)
        offset[..., j] = base_mean.reshape(n, S)
        for parent in inside:
            shifted = dict(parents)
            shifted[parent] = np.ones(n * S)
            weight[..., j, nodes.index(parent)] = (cpd.conditional_mean(shifted, n * S) - base_mean).reshape(n, S)
        configs = cpd._configurations(parents)
        variance[..., j] = (np.broadcast_to(cpd._variance_rows(configs)[0], (n * S,))).reshape(n, S)
    return (*joint_moments(offset, weight, variance), values)


def joint_moments(offset, weight, variance):
    """Mean ``(n, S, d)`` and covariance ``(n, S, d, d)`` of ``x = offset + weight x + noise`` (noise variance
    ``variance``), ``weight`` strictly lower triangular: a linear Gaussian block in topological order."""
    d = offset.shape[-1]
    L = np.linalg.inv(np.eye(d) - weight)  # unit lower triangular: parents come first
    mean = np.einsum("nsij,nsj->nsi", L, offset)
    cov = L @ (variance[..., None] * np.swapaxes(L, -1, -2))
    return mean, cov


def _patterns(seen):
    patterns, which = np.unique(seen, axis=0, return_inverse=True)
    return patterns, which.reshape(-1)


def observed_log_density(mean, cov, values, seen) -> np.ndarray:
    """``log N(observed values; mean, cov)`` restricted, row by row, to the coordinates ``seen`` marks:
    shape (positions, S); rows with the same pattern of observed coordinates share one batched Cholesky."""
    out = np.zeros(mean.shape[:2])
    patterns, which = _patterns(seen)
    for p, pattern in enumerate(patterns):
        at = np.flatnonzero(which == p)
        o = np.flatnonzero(pattern)
        if not len(o):
            continue  # nothing observed: the block integrates to one
        residual = values[at][:, None, o] - mean[at][:, :, o]
        chol = np.linalg.cholesky(cov[at][:, :, o[:, None], o[None, :]])
        z = np.linalg.solve(chol, residual[..., None])[..., 0]
        logdet = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
        out[at] = -0.5 * ((z * z).sum(axis=-1) + logdet + len(o) * np.log(2 * np.pi))
    return out


def block_log_density(network, block, data, space) -> np.ndarray:
    """``log p(observed coordinates of the block | hidden state)`` at each position: shape (positions, S)."""
    mean, cov, values = _moments(network, block, data, space)
    return observed_log_density(mean, cov, values, block.seen)


def block_statistics(network, block, data, space, posterior) -> dict:
    """Expected statistics of every node of the block over its positions, keyed by CPD key.

    ``posterior`` is ``(positions, S)``: each position's smoothed joint
    hidden state.  The missing coordinates enter as sigma points (module
    docstring)."""
    from pgm.dynamic.potentials import _column

    mean, cov, values = _moments(network, block, data, space)
    nodes, d, S = block.nodes, len(block.nodes), space.size
    hidden = set(space.nodes)
    patterns, which = _patterns(block.seen)
    completed, weights, positions, states = [], [], [], []
    for p, pattern in enumerate(patterns):
        at = np.flatnonzero(which == p)
        o, m = np.flatnonzero(pattern), np.flatnonzero(~pattern)
        mu_m, sig_mm = mean[at][:, :, m], cov[at][:, :, m[:, None], m[None, :]]
        if len(o):
            sig_oo = cov[at][:, :, o[:, None], o[None, :]]
            sig_mo = cov[at][:, :, m[:, None], o[None, :]]
            gain = np.swapaxes(np.linalg.solve(sig_oo, np.swapaxes(sig_mo, -1, -2)), -1, -2)
            residual = values[at][:, None, o] - mean[at][:, :, o]
            mu_m = mu_m + np.einsum("nsij,nsj->nsi", gain, residual)
            sig_mm = sig_mm - gain @ np.swapaxes(sig_mo, -1, -2)
        eigval, eigvec = np.linalg.eigh(sig_mm)  # a square root that tolerates a singular covariance
        root = eigvec * np.sqrt(np.clip(eigval, 0.0, None))[..., None, :] * np.sqrt(len(m))
        for sign in (1.0, -1.0):
            for i in range(len(m)):
                point = np.broadcast_to(values[at][:, None, :], mu_m.shape[:2] + (d,)).copy()
                point[..., m] = mu_m + sign * root[..., :, i]
                completed.append(point.reshape(-1, d))
                weights.append((posterior[at] / (2 * len(m))).reshape(-1))
                positions.append(np.repeat(at, S))
                states.append(np.tile(np.arange(S), len(at)))
    completed, weights = np.concatenate(completed), np.concatenate(weights)
    positions, states = np.concatenate(positions), np.concatenate(states)
    out = {}
    for j, node in enumerate(nodes):
        cpd = network.cpd(node, block.start)
        parents = {}
        for parent in cpd.parents:
            base, lag = parse_parent(parent, node)
            if base in hidden:
                parents[parent] = space.column(base)[states]
            elif lag == 0 and base in nodes:
                parents[parent] = completed[:, nodes.index(base)]
            else:
                parents[parent] = _column(data, base, node)[block.rows, block.cols - lag][positions]
        out[network.cpd_key(node, block.start)] = cpd.statistics(completed[:, j], parents, weights)
    return out
