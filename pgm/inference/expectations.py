"""Expected sufficient statistics of every family given incomplete rows: EM's E-step.

For each row, exact inference gives the posterior of the row's unobserved
values; each CPD's statistics are then their expectation under it, shaped
exactly like the complete-data statistics (:meth:`pgm.cpds.base.CPD.statistics`),
so the M-step is the complete-data ``from_statistics``:

- a table's expected counts are its family's posterior (node and parents, one
  clique of the calibrated junction tree) summed over rows;
- a linear Gaussian node's expected weight, means and centred co-moments of
  ``z = [features, x]`` come from each row's posterior means and covariances
  of the family (on the filled pattern of the Gaussian elimination), mixed
  over the configurations of the discrete nodes with their posterior
  probabilities: ``E[(z - m)(z - m)^T] = Cov[z] + (E[z] - m)(E[z] - m)^T``.

The same pass returns log p(observed part of each row), EM's objective.
Rows go through one shared tree or one pruned tree per pattern of observed
nodes, whichever the cost model of :mod:`pgm.inference.strategy` finds
cheaper; statistics are sums over rows, so the patterns' parts add up.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from pgm._chunks import map_chunks, row_chunks
from pgm.errors import ImpossibleEvidenceError
from pgm.inference.engine import _budget, _inputs, prepare
from pgm.inference.evidence import Evidence
from pgm.inference.strategy import choose_rows, sub_evidence

__all__ = ["RowPlan", "expected_statistics", "plan_rows"]


@dataclass(frozen=True)
class RowPlan:
    """How the rows of one evidence go through inference: one shared tree, or one tree per pattern.

    The choice (:func:`pgm.inference.strategy.choose_rows`) and the rows of
    each pattern depend on the network's structure and on which values the
    rows observe, never on the parameters, so EM makes them once for all
    its iterations (:func:`plan_rows`) instead of once per E-step.
    """

    shared: bool
    parts: tuple = ()  # per pattern: (row indices, the evidence of those rows)


def plan_rows(network, evidence: Evidence, *, memory_budget=None) -> RowPlan:
    """The :class:`RowPlan` of ``evidence`` for every network with ``network``'s structure.

    Examples
    --------
    >>> import numpy as np, pgm
    >>> from pgm.inference.evidence import as_evidence
    >>> net = pgm.load("asia")
    >>> rows = net.sample(100, seed=0)
    >>> rows.loc[::3, "lung"] = None
    >>> evidence = as_evidence(net, rows)
    >>> plan = plan_rows(net, evidence)
    >>> refitted = net.fit(net.sample(500, seed=1), prior=pgm.Dirichlet(1))   # other parameters, same structure
    >>> kept, fresh = expected_statistics(refitted, evidence, rows=plan), expected_statistics(refitted, evidence)
    >>> bool(np.allclose(kept[0]["lung"], fresh[0]["lung"]) and np.allclose(kept[1], fresh[1]))
    True
    """
    def plan(sub, plan_only, estimate=False):
        return prepare(network, sub, targets=None, memory_budget=memory_budget, prune=False, plan_only=plan_only,
                       estimate=estimate)

    strategy = choose_rows(network, evidence, plan, _budget(memory_budget))
    if strategy.kind == "shared":
        return RowPlan(True)
    return RowPlan(False, tuple((rows, sub_evidence(evidence, rows)) for rows in strategy.groups))


def expected_statistics(network, evidence: Evidence, weights: np.ndarray | None = None, *, memory_budget=None,
                        rows: RowPlan | None = None):
    """Expected statistics of every node's CPD over the rows of ``evidence``, and log p(e) per row.

    Returns ``(statistics, log_evidence)``: a dict from node to an array
    shaped like ``network[node].statistics(...)``, and an array with one
    value per row.  ``rows`` is the evidence's :class:`RowPlan` when the
    caller keeps it across calls (EM); by default it is made here.  Raises
    :class:`ImpossibleEvidenceError` for a row of probability zero (EM
    cannot continue from parameters that rule a row out).
    """
    if rows is None:
        rows = plan_rows(network, evidence, memory_budget=memory_budget)

    def plan(sub):
        return prepare(network, sub, targets=None, memory_budget=memory_budget, prune=False)

    if rows.shared:
        statistics, log_ev = _expected_statistics_one_plan(network, plan(evidence), evidence, weights)
    else:  # one pruned tree per pattern of observed nodes; statistics add up across the patterns
        log_ev = np.empty(evidence.n_rows)
        parts = []
        for group, sub in rows.parts:
            part, log_ev[group] = _expected_statistics_one_plan(network, plan(sub), sub,
                                                                None if weights is None else weights[group])
            parts.append(part)
        statistics = {node: functools.reduce(network[node].merge_statistics, [p[node] for p in parts])
                      for node in network.nodes}
    impossible = np.isneginf(log_ev)
    if impossible.any():
        first = int(np.argmax(impossible))
        raise ImpossibleEvidenceError(
            f"{evidence.describe_row(first)} has probability zero under the current parameters (p(e) = 0), "
            "so EM cannot weigh it; start from parameters without zeros (e.g. a Dirichlet prior or init='random')"
        )
    return statistics, log_ev


def _expected_statistics_one_plan(network, problem, evidence: Evidence, weights):
    nodes = list(network.nodes)
    chunks = row_chunks(evidence.n_rows, problem.chunk_rows)
    log_ev = np.empty(evidence.n_rows)
    moments = problem.gauss is not None

    def one(_, rows: slice):
        inputs = _inputs(problem, evidence, rows, moments=moments, deviations=False)  # absolute means suffice
        n = inputs.log_offset.shape[0]
        w = None if weights is None else weights[rows]
        total = inputs.log_offset.copy()
        beliefs = None
        tree = problem.tree
        if tree is not None:
            beliefs, log_z = tree.calibrate(problem.base, inputs.row_factors, n)
            total += log_z
        log_ev[rows] = total
        key_weights = None
        if moments:  # per Gaussian block: the posterior over its own keys
            key_weights = []
            for b in range(len(problem.gauss.blocks)):
                ids = problem.block_key_ids(b)
                key_weights.append(tree.marginal(beliefs, ids, n).reshape(-1, n) if ids else np.ones((1, n)))
        out = {}
        # Expected counts are linear in the beliefs: sum each clique over the rows once, then
        # every family whose members the tree holds is a small sum of its clique's total.
        totals = {}
        for node in nodes:
            cpd = network[node]
            if cpd.is_discrete:
                out[node] = _expected_counts(problem, cpd, node, beliefs, totals, evidence, rows, n, w)
            else:
                b, block = problem.gauss.block(node)
                out[node] = _gaussian_statistics(problem, block, cpd, node, inputs.gauss[b], key_weights[b],
                                                 evidence, rows, w)
        return out

    if problem.concurrent > 1:
        per_chunk = map_chunks(one, chunks)
    else:  # two chunks at once would not fit the memory budget
        per_chunk = [one(k, rows) for k, rows in enumerate(chunks)]
    statistics = {}
    for node in nodes:
        merge = network[node].merge_statistics
        statistics[node] = functools.reduce(merge, [chunk[node] for chunk in per_chunk])
    return statistics, log_ev


def _expected_counts(problem, cpd, node, beliefs, totals, evidence: Evidence, rows: slice, n: int, w):
    """Expected count table of ``node``'s family, shape (*parent_cards, k)."""
    family = tuple(cpd.parents) + (node,)
    if any(v in problem.gathered for v in family):
        return _indexed_counts(problem, beliefs, family, evidence, rows, n, w)
    network = problem.network
    shape = tuple(len(network.states(v)) for v in family)
    in_tree = [v for v in family if v in problem.id_of]
    if in_tree:
        tree = problem.tree
        ids = [problem.id_of[v] for v in in_tree]
        c = tree.clique_containing(ids)
        if c not in totals:
            flat = beliefs[c].reshape(-1, n)
            totals[c] = (flat.sum(axis=1) if w is None else flat @ w).reshape(tree.cliques[c].shape)
        clique = tree.cliques[c]
        keep = set(ids)
        summed = totals[c].sum(axis=tuple(i for i, v in enumerate(clique.variables) if v not in keep))
        present = [v for v in clique.variables if v in keep]
        table = np.transpose(summed, [present.index(i) for i in ids])
    else:
        table = np.asarray(float(n if w is None else w.sum()))
    out = np.zeros(shape)
    index = tuple(problem.constant[v] if v in problem.constant else slice(None) for v in family)
    out[index] = table
    return out


def _indexed_counts(problem, beliefs, family, evidence: Evidence, rows: slice, n: int, w):
    """Expected counts of a family some of whose members every row observes, by one ``bincount``.

    Each row adds its posterior over the family's members in the tree to the
    cells its observed members pick out: the flat cell index is the observed
    members' offset (per row) plus the tree members' offset (per
    configuration), so nothing of size (family table x rows) is built --
    the one-hot product of :func:`pgm.inference.engine._group_marginal` cost
    that, for every family, in every E-step.
    """
    network = problem.network
    shape = tuple(len(network.states(v)) for v in family)
    strides = np.ones(len(shape), dtype=np.intp)
    for axis in range(len(shape) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * shape[axis + 1]
    offset = np.zeros(n, dtype=np.intp)
    hidden = []
    for axis, v in enumerate(family):
        if v in problem.id_of:
            hidden.append(axis)
        elif v in problem.constant:
            offset += problem.constant[v] * strides[axis]
        else:  # gathered: observed in every row of the chunk
            offset += np.multiply(evidence.codes[v][rows], strides[axis], dtype=np.intp)
    size = math.prod(shape)
    if not hidden:
        return np.bincount(offset, weights=w, minlength=size).reshape(shape)
    posterior = problem.tree.marginal(beliefs, [problem.id_of[family[a]] for a in hidden], n).reshape(-1, n)
    if w is not None:
        posterior = posterior * w
    grid = np.zeros(1, dtype=np.intp)
    for axis in hidden:  # the tree members' configurations in row-major order, as the marginal's axes
        grid = (grid[:, None] + np.arange(shape[axis], dtype=np.intp) * strides[axis]).ravel()
    index = grid[:, None] + offset[None, :]
    return np.bincount(index.ravel(), weights=posterior.ravel(), minlength=size).reshape(shape)


def _gaussian_statistics(problem, g, cpd, node, gaussian, key_weights, evidence: Evidence, rows: slice, w):
    """Expected weight, means and centred co-moments of ``[features, x]`` per discrete-parent configuration.

    ``g`` is the Gaussian block holding ``node``, ``gaussian`` its output for the chunk.
    """
    _, mean, cov, _ = gaussian
    n_keys, n = key_weights.shape
    chunk_values = {c: evidence.values[c][rows] for c in problem.continuous if c in evidence.values}
    # z = [features, x]: posterior means (n_keys, n) and covariances between components
    names: list[str | None] = []
    means = []
    for feature in cpd.features:
        if feature.is_identity and feature.parents[0] in g.index:
            parent = feature.parents[0]
            names.append(parent)
            means.append(mean[g.index[parent]])
        else:  # a nonlinear feature, or a parent outside the block: observed, so known exactly given the row
            names.append(None)
            columns = {p: chunk_values[p] for p in feature.parents}
            means.append(np.broadcast_to(feature.evaluate(columns), (n_keys, n)))
    names.append(node)
    means.append(mean[g.index[node]])
    mu = np.stack(means)  # (d + 1, n_keys, n)
    d1 = len(names)
    sigma = np.zeros((d1, d1, n_keys, n))
    for a, name_a in enumerate(names):
        for b in range(a, d1):
            name_b = names[b]
            if name_a is None or name_b is None:
                continue
            slot = g.covariance_slot(name_a, name_b)
            sigma[a, b] = sigma[b, a] = cov[slot]
    omega = key_weights if w is None else key_weights * w[None, :]
    # each key configuration belongs to one configuration of the node's own discrete parents
    if cpd.discrete_parents:
        config_of_key = np.ravel_multi_index([g.key_codes[p] for p in cpd.discrete_parents],
                                             [len(d) for d in cpd.parent_states])
    else:
        config_of_key = np.zeros(n_keys, dtype=np.intp)
    n_configs = cpd.n_configurations
    weight_key = omega.sum(axis=1)                               # (n_keys,)
    first_key = np.einsum("akr,kr->ak", mu, omega)               # (d1, n_keys)
    weight = np.bincount(config_of_key, weights=weight_key, minlength=n_configs)
    first = np.zeros((d1, n_configs))
    np.add.at(first.T, config_of_key, first_key.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(weight > 0, first / np.where(weight > 0, weight, 1.0), 0.0)  # (d1, n_configs)
    deviation = mu - centre[:, config_of_key][:, :, None]
    second_key = np.einsum("akr,bkr,kr->abk", deviation, deviation, omega) + np.einsum("abkr,kr->abk", sigma, omega)
    second = np.zeros((d1, d1, n_configs))
    np.add.at(np.moveaxis(second, 2, 0), config_of_key, np.moveaxis(second_key, 2, 0))
    out = np.zeros((n_configs, d1 + 1, d1 + 1))
    out[:, 0, 0] = weight
    out[:, 0, 1:] = out[:, 1:, 0] = centre.T
    out[:, 1:, 1:] = np.moveaxis(second, 2, 0)
    return out.reshape(tuple(len(dm) for dm in cpd.parent_states) + (d1 + 1, d1 + 1))
