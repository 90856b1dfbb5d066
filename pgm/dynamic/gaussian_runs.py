"""Missing continuous values whose children are in later slices, summed out exactly with discrete hidden nodes.

An autoregressive HMM's ``y_t | z_t, y_{t-1}``: when ``y_t`` is missing, the
next slice's factor depends on it, so the continuous value belongs to the
interface between slices.  Given the discrete hidden path, the continuous
nodes are jointly Gaussian; the exact forward message is then a mixture
over the discrete paths since the last slice whose carried values were all
seen.  This module makes that mixture part of the ordinary discrete
recursion:

- a *carried* continuous node is an observed continuous node with a child in
  a later slice, up to ``L`` slices later; a *block* is a maximal stretch of
  steps where a carried value is missing at the step or at one of the ``L``
  steps before it (so it holds every gap and every node that depends on
  one), cut at the end of the sequence;
- the joint hidden state carries lagged copies of the discrete hidden nodes
  (:class:`~pgm.dynamic.potentials.HiddenSpace`) far enough back to cover
  the longest block, so that at a block's last step the joint state names
  the whole discrete path through the block;
- every continuous node of the block's steps, written ``u_i = b_i(path) +
  sum_j W_ij u_j + e_i`` (``j`` earlier in the block, observed values before
  it as data), is one Gaussian ``N(L b, L D L^T)`` with ``L = (I - W)^-1``
  per joint state; the density of its observed coordinates is the block's
  factor, entered at its last step in place of those nodes' own factors.

Forward-backward on that state is exact, and its smoothed marginal at a
block's last step is the posterior over the block's discrete paths: EM's
expected statistics weight the Gaussian posterior of the block's missing
values (as ``2m`` sigma points, exact in first and second moments) by it.
The price is the state: ``S^(B + l)`` joint states for blocks of ``B`` steps
(``l`` the largest lag of a discrete parent of a continuous node), so exact
while the gaps are short and the discrete state small; a longer gap is
refused naming the state count (:data:`~pgm.dynamic.potentials.MAX_HIDDEN_STATES`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgm.dynamic.gaussian_blocks import _patterns, _slice_order, joint_moments, observed_log_density
from pgm.dynamic.model import parse_parent
from pgm.errors import DataError, StructureError

__all__ = ["GaussianRun", "carried_continuous", "gaussian_runs", "reach_groups", "run_reach", "run_mask",
           "run_log_density", "run_step_terms", "run_statistics"]


@dataclass
class GaussianRun:
    """Blocks of ``length`` steps that start in the same CPD segment, at positions ``(rows, last)``."""

    length: int
    first_class: int  # min(first step, n_initial): which CPDs the block's steps use
    rows: np.ndarray
    last: np.ndarray  # absolute step of each block's last step
    variables: tuple  # ((node, offset within the block), ...) in an order parents-first
    seen: np.ndarray  # (positions, len(variables))


def carried_continuous(network) -> tuple:
    """Observed continuous nodes that are parents of some node in a later slice."""
    out = set()
    for t in range(network.n_initial + 1):
        for node in network.nodes:
            for parent in network.cpd(node, t).parents:
                base, lag = parse_parent(parent, node)
                if lag >= 1 and base in network.observed_nodes and network.domains[base] is None:
                    out.add(base)
    return tuple(n for n in network.nodes if n in out)


def _missing(values):
    return np.isnan(values)


def gaussian_runs(network, data) -> list:
    """Every block (grouped by length and starting segment), cached on ``data``."""
    cache = data.__dict__.setdefault("_gaussian_runs", {})
    if "runs" not in cache:
        cache["runs"] = _find_runs(network, data)
    return cache["runs"]


def _find_runs(network, data) -> list:
    carried = [n for n in carried_continuous(network) if n in data.columns]
    if not carried:
        return []
    valid = data.valid
    open_ = np.zeros_like(valid)
    for node in carried:
        open_ |= _missing(data.columns[node]) & valid
    if not open_.any():
        return []
    reach = _check_supported(network, carried)
    # a step belongs to a block if a carried value is missing there or up to `reach` steps before (its
    # children reach that far); blocks are the maximal stretches of such steps
    covered = open_.copy()
    for lag in range(1, reach + 1):
        covered[:, lag:] |= open_[:, :-lag]
    covered &= valid
    before = np.zeros_like(covered)
    before[:, 1:] = covered[:, :-1]
    after = np.zeros_like(covered)
    after[:, :-1] = covered[:, 1:]
    rows, first = np.nonzero(covered & ~before)
    _, last = np.nonzero(covered & ~after)  # row-major order pairs each block's start with its end
    lengths = last - first + 1
    first_class = np.minimum(first, network.n_initial)
    continuous = [n for n in network.nodes if network.domains[n] is None and n in data.columns]
    out = []
    for B, f in sorted(set(zip(lengths.tolist(), first_class.tolist()))):
        at = np.flatnonzero((lengths == B) & (first_class == f))
        variables = tuple((node, k) for k in range(B) for node in _slice_order(network, continuous, _step(f, k, network)))
        seen = np.stack([~_missing(data.columns[node][rows[at], first[at] + k]) for node, k in variables], axis=1)
        out.append(GaussianRun(int(B), int(f), rows[at], last[at], variables, seen))
    return out


def _step(first_class, k, network) -> int:
    """The slice whose CPDs serve offset ``k`` of a block starting in class ``first_class``."""
    return min(first_class + k, network.n_initial)


def _check_supported(network, carried) -> int:
    """Refuse what blocks cannot hold; return the largest lag of a carried node as a parent."""
    reach = 1
    for t in range(network.n_initial + 1):
        for node in network.nodes:
            cpd = network.cpd(node, t)
            for parent in cpd.parents:
                base, lag = parse_parent(parent, node)
                if network.domains[base] is not None:
                    continue
                if cpd.is_discrete:
                    raise StructureError(
                        f"{node!r} is discrete with the continuous parent {parent!r}; a missing continuous value "
                        "with children in later slices is summed out only when its children are linear Gaussian")
                if base in carried:
                    reach = max(reach, lag)
            if not cpd.is_discrete and not all(f.is_identity for f in cpd.features):
                raise StructureError(f"{node!r} is not linear Gaussian in its parents; a missing continuous value "
                                     "with children in later slices is summed out only in linear Gaussian nodes")
    return reach


def run_reach(network, data, hidden) -> dict:
    """How many slices back the joint state must name each discrete hidden node, for ``data``'s blocks."""
    runs = gaussian_runs(network, data)
    if not runs:
        return {}
    longest = max(run.length for run in runs)
    reach = {}
    for t in range(network.n_initial + 1):
        for node in network.nodes:
            if network.domains[node] is not None:
                continue
            for parent in network.cpd(node, t).parents:
                base, lag = parse_parent(parent, node)
                if base in hidden:
                    reach[base] = max(reach.get(base, 0), longest + lag)
    return reach


def reach_groups(network, data) -> list | None:
    """Packed rows grouped by the longest block each sequence has, when that differs between sequences.

    The joint state must name the discrete path through a sequence's longest
    block, so one long gap would make every sequence pay ``S^(B + l)``
    states; answered group by group, each pays for its own gaps.  None when
    one group would do.
    """
    runs = gaussian_runs(network, data)
    if not runs:
        return None
    longest = np.zeros(data.n_sequences, dtype=np.int64)
    for run in runs:
        np.maximum.at(longest, run.rows, run.length)
    values = np.unique(longest)
    if len(values) < 2:
        return None
    return [np.flatnonzero(longest == v) for v in values]


def run_mask(network, data, node) -> np.ndarray | None:
    """``(n_sequences, longest)`` True where ``node``'s factor is part of a block (so left out of its own)."""
    if network.domains[node] is not None:
        return None
    cache = data.__dict__.setdefault("_gaussian_runs", {})
    if "mask" not in cache:
        mask = np.zeros((data.n_sequences, data.longest), dtype=bool)
        for run in gaussian_runs(network, data):
            for k in range(run.length):
                mask[run.rows, run.last - run.length + 1 + k] = True
        cache["mask"] = mask if mask.any() else None
    return cache["mask"]


def _hidden_name(base, depth) -> str:
    """The joint-state column at a block's last step holding ``base`` ``depth`` slices earlier."""
    return base if depth == 0 else f"{base}[t-{depth}]"


def _moments(network, run, data, space):
    """Mean ``(n, S, d)``, covariance ``(n, S, d, d)`` of the block per position and joint state, and values."""
    from pgm.dynamic.potentials import _column

    variables, d = run.variables, len(run.variables)
    n, S = len(run.rows), space.size
    hidden = set(space.nodes)
    first = run.last - run.length + 1
    values = np.stack([data.columns[v][run.rows, first + k] for v, k in variables], axis=1)
    offset, weight, variance = np.zeros((n, S, d)), np.zeros((n, S, d, d)), np.zeros((n, S, d))
    for i, (node, k) in enumerate(variables):
        cpd = network.cpd(node, _step(run.first_class, k, network))
        step = first + k
        depth = run.length - 1 - k  # slices between this variable and the block's last step
        parents, inside = {}, []
        for parent in cpd.parents:
            base, lag = parse_parent(parent, node)
            if base in hidden:
                name = _hidden_name(base, depth + lag)
                if name not in space.nodes:
                    raise StructureError(f"the joint hidden state does not reach {parent!r} of {node!r} here")
                parents[parent] = np.tile(space.column(name), n)
            elif network.domains[base] is None and k - lag >= 0:
                inside.append((parent, variables.index((base, k - lag))))
                parents[parent] = np.zeros(n * S)
            else:
                column = _column(data, base, node)[run.rows, step - lag]
                gap = np.isnan(column) if column.dtype.kind == "f" else column < 0
                if gap.any():
                    j = int(np.argmax(gap))
                    raise DataError(f"{base!r} is missing in sequence {data.ids[run.rows[j]]!r} at t={step[j] - lag}, "
                                    f"but {node!r} at t={step[j]} depends on it")
                parents[parent] = np.repeat(column, S)
        base_mean = cpd.conditional_mean(parents, n * S)
        offset[..., i] = base_mean.reshape(n, S)
        for parent, j in inside:
            moved = dict(parents)
            moved[parent] = np.ones(n * S)
            weight[..., i, j] = (cpd.conditional_mean(moved, n * S) - base_mean).reshape(n, S)
        configs = cpd._configurations(parents)
        variance[..., i] = np.broadcast_to(cpd._variance_rows(configs)[0], (n * S,)).reshape(n, S)
    return (*joint_moments(offset, weight, variance), values)  # parents come first in `variables`


def run_log_density(network, run, data, space) -> np.ndarray:
    """``log p(observed values of the block | joint state at its last step)``: shape (positions, S)."""
    mean, cov, values = _moments(network, run, data, space)
    return observed_log_density(mean, cov, values, run.seen)


def _prefix(run, k) -> GaussianRun:
    """The first ``k + 1`` steps of every block of ``run``, as blocks of their own (ending ``k`` steps in)."""
    keep = [i for i, (_, offset) in enumerate(run.variables) if offset <= k]
    return GaussianRun(k + 1, run.first_class, run.rows, run.last - (run.length - 1 - k),
                       tuple(run.variables[i] for i in keep), run.seen[:, keep])


#: Bytes of the per-(position, joint state) covariances one chunk of blocks may hold.
CHUNK_BYTES = 1 << 26


def _chunks(run, S):
    """``run`` cut into pieces of positions whose (positions, S, d, d) moments fit :data:`CHUNK_BYTES`."""
    d = len(run.variables)
    step = max(1, CHUNK_BYTES // max(1, S * d * d * 8 * 4))
    for begin in range(0, len(run.rows), step):
        part = slice(begin, begin + step)
        yield GaussianRun(run.length, run.first_class, run.rows[part], run.last[part], run.variables,
                          run.seen[part])


def run_step_terms(network, run, data, space):
    """The block's log-density spread over its steps: ``[(steps, rows, (positions, S) values), ...]``.

    Step ``k`` of a block gets ``log p(observed values of its first k+1 steps) - log p(those of its first
    k)``, each under the joint state at that step (which names the path from the block's start): the
    terms add up to the block's density, and every filtered distribution inside the block sees exactly
    the evidence up to its own step.
    """
    out = []
    for piece in _chunks(run, space.size):
        previous = 0.0
        for k in range(piece.length):
            prefix = _prefix(piece, k)
            density = run_log_density(network, prefix, data, space)
            out.append((prefix.last, prefix.rows, density - previous))
            previous = _shifted_to_next_step(density, piece, k, space) if k + 1 < piece.length else None
    return out


def _shifted_to_next_step(density, run, k, space):
    """A prefix's density, a function of the path up to step k, re-read under the joint state of step k+1
    (where the same path sits one copy deeper)."""
    names = list(space.nodes)
    # the joint state at step k+1 whose copies at depth j+1 equal the step-k state's copies at depth j
    source = np.zeros(space.size, dtype=np.int64)
    strides = np.array([int(np.prod(space.cards[j + 1:], dtype=np.int64)) for j in range(len(names))])
    for j, name in enumerate(names):
        base, depth = _split(name)
        deeper = _hidden_name(base, depth + 1)
        if deeper in names:
            source += space.column(deeper) * strides[j]
        # a node's value at the deepest copy falls outside step k's view: it did not matter there
    return density[:, source]


def _split(name):
    if name.endswith("]") and "[t-" in name:
        base, _, lag = name[:-1].rpartition("[t-")
        return base, int(lag)
    return name, 0


def run_statistics(network, run, data, space, posterior) -> dict:
    """Expected statistics of every CPD of the block, keyed by CPD key, from each position's posterior over
    the joint state at the block's last step (``(positions, S)``)."""
    out, begin = {}, 0
    for piece in _chunks(run, space.size):
        part = _run_statistics(network, piece, data, space, posterior[begin:begin + len(piece.rows)])
        begin += len(piece.rows)
        for key, stats in part.items():
            merge = network.cpd(*_owner(network, key)).merge_statistics
            out[key] = stats if key not in out else merge(out[key], stats)
    return out


def _owner(network, key):
    """``(node, slice)`` of a CPD key (``"y[t]"``: the transition's, ``"y[0]"``: slice 0's)."""
    node, _, where = key[:-1].rpartition("[")
    return node, network.n_initial if where == "t" else int(where)


def _run_statistics(network, run, data, space, posterior) -> dict:
    from pgm.dynamic.potentials import _column

    mean, cov, values = _moments(network, run, data, space)
    variables, d, S = run.variables, len(run.variables), space.size
    hidden = set(space.nodes)
    first = run.last - run.length + 1
    patterns, which = _patterns(run.seen)
    completed, weights, positions, states = [], [], [], []
    for p, pattern in enumerate(patterns):
        at = np.flatnonzero(which == p)
        o, m = np.flatnonzero(pattern), np.flatnonzero(~pattern)
        if not len(m):  # nothing missing at these positions: the values as they are
            completed.append(np.repeat(values[at], S, axis=0))
            weights.append(posterior[at].reshape(-1))
            positions.append(np.repeat(at, S))
            states.append(np.tile(np.arange(S), len(at)))
            continue
        mu_m, sig_mm = mean[at][:, :, m], cov[at][:, :, m[:, None], m[None, :]]
        if len(o):
            sig_oo = cov[at][:, :, o[:, None], o[None, :]]
            sig_mo = cov[at][:, :, m[:, None], o[None, :]]
            gain = np.swapaxes(np.linalg.solve(sig_oo, np.swapaxes(sig_mo, -1, -2)), -1, -2)
            mu_m = mu_m + np.einsum("nsij,nsj->nsi", gain, values[at][:, None, o] - mean[at][:, :, o])
            sig_mm = sig_mm - gain @ np.swapaxes(sig_mo, -1, -2)
        eigval, eigvec = np.linalg.eigh(0.5 * (sig_mm + np.swapaxes(sig_mm, -1, -2)))
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
    for i, (node, k) in enumerate(variables):
        rep = _step(run.first_class, k, network)
        cpd = network.cpd(node, rep)
        depth = run.length - 1 - k
        parents = {}
        for parent in cpd.parents:
            base, lag = parse_parent(parent, node)
            if base in hidden:
                parents[parent] = space.column(_hidden_name(base, depth + lag))[states]
            elif network.domains[base] is None and k - lag >= 0:
                parents[parent] = completed[:, variables.index((base, k - lag))]
            else:
                parents[parent] = _column(data, base, node)[run.rows, first + k - lag][positions]
        stats = cpd.statistics(completed[:, i], parents, weights)
        key = network.cpd_key(node, rep)
        out[key] = stats if key not in out else cpd.merge_statistics(out[key], stats)
    return out
