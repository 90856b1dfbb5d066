"""EM's E-step for rows that miss one discrete node only: responsibilities, no inference engine.

In a Gaussian mixture, a latent class model, a mixture of Bernoullis or of
regressions, most rows observe every node but the class ``z``.  The
posterior of such a row is over ``z`` alone, and by the chain rule

    log p(z | row) = log p(z | parents of z) + sum over children c of log p(c | z, other parents of c) - log p(row)

-- the *responsibilities* of the mixture literature, from each CPD's own
``log_prob`` with ``z`` set to each of its states in turn.  Families that do
not hold ``z`` are observed: they add a constant per row to ``log p(row)``
and their plain statistics to the E-step.  The expected statistics of a
family that holds ``z`` are its complete-data statistics of the rows
completed with every state of ``z``, weighted by the responsibility of that
state (the statistics are additive, and exactly that is the expectation):

- a table's expected counts: one weighted ``bincount`` per state;
- a linear Gaussian child whose only discrete parent is ``z`` (a mixture
  component): weighted matrix products, the component's weight
  ``W_z = sum_i r_iz``, mean ``m_z = sum_i r_iz y_i / W_z`` and centred
  co-moments ``(Y - m_z)^T diag(r_z) (Y - m_z)`` of ``y = [features, x]``
  -- the arithmetic of scikit-learn's GaussianMixture M-step, centred;
- any other child (a Gaussian with a second discrete parent) leaves the
  rows to the general path.

This replaces the general path (:mod:`pgm.inference.expectations`) -- a
junction tree and a per-row Gaussian elimination that also computes the
moments of the observed nodes -- for those rows; the other incomplete rows
still go through it, and the parts add up as statistics do.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from pgm._chunks import map_chunks, row_chunks
from pgm.data import Dataset, code_dtype
from pgm.errors import ImpossibleEvidenceError

__all__ = ["CELL_CACHE_BYTES", "MissingOneNode", "missing_one_node"]

#: Bytes the table cells of the rows may take to be kept across E-steps (4 per table node and row).
CELL_CACHE_BYTES = 256 << 20


class MissingOneNode:
    """The rows of a data set whose only unobserved node is the discrete ``node``, ready for E-steps.

    Parameters
    ----------
    network : BayesianNetwork
        Fixes the structure; every E-step takes the parameters of the network it is given.
    node : str
        The one node these rows do not observe.
    dataset : Dataset
        The rows (every other node observed in every one of them).
    weights : ndarray or None
        One weight per row.
    describe_row : callable, optional
        Names a row of ``dataset`` in error messages (default: its position in ``dataset``).
    """

    def __init__(self, network, node: str, dataset: Dataset, weights, describe_row=None):
        self.node, self.dataset, self.weights = node, dataset, weights
        self.describe_row = dataset.describe_row if describe_row is None else describe_row
        self.family = (node, *network.children(node))  # the CPDs that hold the node
        self.total_weight = float(dataset.n_rows if weights is None else weights.sum())
        # Each row's cell in every table is data, not parameters: found at the first E-step and kept,
        # per chunk of rows, when it fits CELL_CACHE_BYTES (as int32: tables are far below 2**31 cells).
        tables = sum(1 for v in network.nodes if network[v].is_discrete)
        self._cells = {} if 4 * tables * dataset.n_rows <= CELL_CACHE_BYTES else None

    def totals(self, network):
        """Expected statistics (a dict of arrays, one per node) and the summed log-likelihood of these rows."""
        nodes = list(network.nodes)

        def one(k, rows: slice):
            cache = None if self._cells is None else self._cells.setdefault(k, {})
            return _chunk(network, self.node, self.family, self.dataset.rows(rows),
                          None if self.weights is None else self.weights[rows], cache)

        chunks = map_chunks(one, row_chunks(self.dataset.n_rows))
        log_likelihood, first = 0.0, None
        for k, (_, chunk_log_likelihood, impossible) in enumerate(chunks):
            log_likelihood += chunk_log_likelihood
            if impossible is not None and first is None:
                first = row_chunks(self.dataset.n_rows)[k].start + impossible
        if first is not None:
            raise ImpossibleEvidenceError(
                f"{self.describe_row(first)} has probability zero under the current parameters (p(e) = 0) "
                f"for every state of {self.node!r}, so EM cannot weigh it; start from parameters without zeros "
                "(e.g. a Dirichlet prior or init='random')"
            )
        arrays = {node: functools.reduce(network[node].merge_statistics, [c[0][node] for c in chunks])
                  for node in nodes}
        return arrays, log_likelihood


def missing_one_node(network, dataset: Dataset, candidates: np.ndarray, weights) -> tuple[list, np.ndarray]:
    """The rows among ``candidates`` that miss exactly one node which this E-step can take, grouped by that node.

    A node qualifies when it is a table (:class:`~pgm.Categorical`) and its
    children are tables or linear Gaussians whose only discrete parent it
    is (mixture components); its parents are observed in these rows by
    definition.  Other children -- a Gaussian with a second discrete parent
    -- leave the rows to the inference engine, whose centred elimination
    keeps EM's iterates shift-equivariant there (tests/test_gaussian_location.py).

    Parameters
    ----------
    network : BayesianNetwork
    dataset : Dataset
        All the rows; a node without a column is missing in every row.
    candidates : ndarray of bool
        The rows that may be taken (EM passes the incomplete ones).
    weights : ndarray or None
        One weight per row of ``dataset``.

    Returns
    -------
    groups : list of MissingOneNode
        One per node that is the only one missing in some candidate rows.
    taken : ndarray of bool
        The rows the groups hold; the others are left to the inference engine.

    Examples
    --------
    >>> import numpy as np, pgm
    >>> from pgm.data import to_dataset
    >>> net = pgm.load("asia")
    >>> rows = net.sample(6, seed=0)
    >>> rows.loc[[0, 1, 2], "either"] = None          # only 'either' is missing: taken
    >>> rows.loc[2, "lung"] = None                     # two missing: left to the engine
    >>> groups, taken = missing_one_node(net, to_dataset(rows, net.domains), np.ones(6, dtype=bool), None)
    >>> [group.node for group in groups], taken.tolist()
    (['either'], [True, True, False, False, False, False])
    """
    from pgm.cpds.categorical import Categorical
    from pgm.cpds.gaussian import LinearGaussian

    n = dataset.n_rows
    taken = np.zeros(n, dtype=bool)
    if not candidates.any():
        return [], taken
    nodes = list(network.nodes)
    missing = {node: (dataset.missing(node) if node in dataset.columns else np.ones(n, dtype=bool)) for node in nodes}
    count = np.zeros(n, dtype=np.intp)
    for mask in missing.values():
        count += mask
    alone = candidates & (count == 1)
    groups = []
    if _far_from_zero(network, dataset):
        return groups, taken
    for node in nodes:
        if not isinstance(network[node], Categorical):
            continue
        if not all(isinstance(network[c], Categorical) or (isinstance(network[c], LinearGaussian)
                                                          and _is_component(network[c], node))
                   for c in network.children(node)):
            continue
        rows = alone & missing[node]
        if not rows.any():
            continue
        taken |= rows
        labels = None if dataset.row_labels is None else dataset.row_labels[rows]
        columns = {c: v[rows] for c, v in dataset.columns.items() if c != node}
        positions = np.flatnonzero(rows)
        groups.append(MissingOneNode(network, node, Dataset(columns, len(positions), labels),
                                     None if weights is None else weights[rows],
                                     lambda i, positions=positions: dataset.describe_row(int(positions[i]))))
    return groups, taken


#: A continuous column whose mean lies more than this many standard deviations from zero is left to the
#: inference engine, whose elimination works on centred values: the log densities here subtract a mean
#: stored at the data's location, which costs eps * |location| / sd of accuracy per E-step, and SQUAREM
#: can amplify that across iterations (EM on data near 1e12 would not match EM on the same data centred).
FAR_FROM_ZERO = 1e3


def _far_from_zero(network, dataset: Dataset) -> bool:
    for node in network.nodes:
        column = dataset.columns.get(node)
        if column is None or network[node].is_discrete:
            continue
        seen = column[~np.isnan(column)]
        if len(seen) and abs(float(seen.mean())) > FAR_FROM_ZERO * float(seen.std()):
            return True
    return False


def _chunk(network, node: str, family: tuple, data: Dataset, weights, cache: dict | None = None):
    """One chunk of rows: (statistics of every node, summed log-likelihood, first impossible row or None).

    ``cache`` keeps the rows' table cells from one E-step to the next (None: found anew).
    """
    from pgm.cpds.categorical import Categorical

    n = data.n_rows
    k = len(network.states(node))
    columns = dict(data.columns)
    # log p(row, z) for every state z: the family's CPDs with z filled in, plus the rest of the row
    completed = []
    for z in range(k):
        filled = dict(columns)
        filled[node] = np.full(n, z, dtype=code_dtype(k))
        completed.append(filled)
    with np.errstate(divide="ignore"):  # a zero cell is log 0 = -inf, as the CPDs' own log_prob has it
        log_tables = {v: np.log(network[v].table).ravel() for v in network.nodes
                      if isinstance(network[v], Categorical)}
    log_joint = np.zeros((k, n))
    cells = {} if cache is None else cache  # tables: each row's cell (z at 0) and z's stride, for log-probability and counts
    for member in family:
        cpd = network[member]
        if isinstance(cpd, Categorical):
            if member not in cells:
                cells[member] = _cells(cpd, member, columns, n, node)
            index, stride = cells[member]
            log_table = log_tables[member]
            for z in range(k):
                log_joint[z] += log_table.take(index + z * stride)
        else:
            log_joint += _child_log_densities(cpd, member, node, completed)
    rest = np.zeros(n)
    for other in network.nodes:
        if other in family:
            continue
        cpd = network[other]
        if isinstance(cpd, Categorical):
            if other not in cells:
                cells[other] = _cells(cpd, other, columns, n)
            rest += log_tables[other].take(cells[other][0])
        else:
            rest += cpd.log_prob(columns[other], _parents(network, other, columns))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_row = _log_sum_exp(log_joint)
        responsibilities = np.exp(log_joint - log_row)
    log_row += rest
    impossible = ~np.isfinite(log_row)
    if impossible.any():
        return {}, 0.0, int(np.argmax(impossible))
    log_likelihood = float(log_row.sum() if weights is None else (log_row * weights).sum())
    omega = responsibilities if weights is None else responsibilities * weights  # (k, n)
    arrays = {}
    for member in family:
        cpd = network[member]
        if member in cells:
            index, stride = cells[member]
            size = math.prod(cpd.table_shape)
            counts = np.zeros(size)
            for z in range(k):
                counts += np.bincount(index + z * stride, weights=omega[z], minlength=size)
            arrays[member] = counts.reshape(cpd.table_shape)
        else:  # a mixture component (missing_one_node takes no other child)
            arrays[member] = _component_statistics(cpd, member, columns, omega)
    for other in network.nodes:
        if other in family:
            continue
        cpd = network[other]
        if other in cells:
            counts = np.bincount(cells[other][0], weights=weights, minlength=math.prod(cpd.table_shape))
            arrays[other] = counts.astype(np.float64, copy=False).reshape(cpd.table_shape)
        else:
            arrays[other] = cpd.statistics(columns[other], _parents(network, other, columns), weights)
    return arrays, log_likelihood, None


def _cells(cpd, member: str, columns: dict, n: int, node: str | None = None) -> tuple[np.ndarray, int]:
    """Each row's flat cell in ``cpd``'s table with ``node`` at state 0, and ``node``'s stride (0 if absent)."""
    family = (*cpd.parents, member)
    shape = cpd.table_shape
    index = np.zeros(n, dtype=np.intp)
    stride, node_stride = 1, 0
    for axis in range(len(family) - 1, -1, -1):
        if family[axis] == node:
            node_stride = stride
        else:
            index += np.multiply(columns[family[axis]], stride, dtype=np.intp)
        stride *= shape[axis]
    return (index.astype(np.int32) if stride < 2**31 else index), node_stride


def _log_sum_exp(log_joint: np.ndarray) -> np.ndarray:
    """log sum_z exp(log_joint[z]) per row, shifted by the row's largest term (-inf for a row of zeros)."""
    top = log_joint.max(axis=0)
    shift = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.exp(log_joint - shift).sum(axis=0)) + shift


def _parents(network, node: str, columns: dict) -> dict:
    return {p: columns[p] for p in network[node].parents}


def _is_component(cpd, node: str) -> bool:
    """A linear Gaussian whose one discrete parent is ``node``: one regression per state of ``node``."""
    return not cpd.is_discrete and tuple(cpd.discrete_parents) == (node,)


def _design(cpd, columns: dict) -> np.ndarray:
    """``y = [features, x]`` per row, shape (n, d + 1), column-major: every pass below reads one column."""
    parents = {p: columns[p] for p in cpd.continuous_parents}
    values = columns[cpd.variable]
    design = np.empty((len(values), len(cpd.features) + 1), order="F")
    for j, feature in enumerate(cpd.features):
        design[:, j] = feature.evaluate(parents)
    design[:, -1] = values
    return design


# The sums below are element-wise passes over the rows, not BLAS calls: with a handful of columns
# and many rows, a threaded BLAS spends its time waking threads (and far more on a shared machine),
# while these passes run in pgm's own row-chunk threads.
def _child_log_densities(cpd, child: str, node: str, completed: list) -> np.ndarray:
    """log p(child | z, its other parents) for every state z, shape (k, n)."""
    design = _design(cpd, completed[0])
    k = len(completed)
    weights = np.asarray(cpd.weights, dtype=np.float64).reshape(k, -1)
    intercept = np.asarray(cpd.intercept, dtype=np.float64).reshape(k)
    variance = np.asarray(cpd.variance, dtype=np.float64).reshape(k)
    # x - b0 - w . features, on values centred at the first row: the data's location enters only through
    # one number per state, the conditional mean at that row minus its value (as the engine's centred elimination)
    reference = design[0].copy()
    offset = intercept - reference[-1] + weights @ reference[:-1] if weights.shape[1] else intercept - reference[-1]
    residual = np.subtract((design[:, -1] - reference[-1])[None, :], offset[:, None])  # (k, n)
    for j in range(weights.shape[1]):
        residual -= weights[:, j, None] * (design[:, j] - reference[j])[None, :]
    residual *= residual
    residual /= variance[:, None]
    residual += np.log(2 * np.pi * variance)[:, None]
    residual *= -0.5
    return residual


def _component_statistics(cpd, child: str, columns: dict, omega: np.ndarray) -> np.ndarray:
    """Weight, mean and centred co-moments of ``[features, x]`` per state, as weighted sums over the rows."""
    design = _design(cpd, columns)
    k, d1 = omega.shape[0], design.shape[1]
    total = omega.sum(axis=1)
    seen = total > 0
    means = np.zeros((k, d1))
    for a in range(d1):
        means[seen, a] = (omega[seen] * design[:, a][None, :]).sum(axis=1) / total[seen]
    out = np.zeros((k, d1 + 1, d1 + 1))
    out[:, 0, 0] = total
    out[:, 0, 1:] = out[:, 1:, 0] = means
    centred = np.empty_like(design)
    for z in np.flatnonzero(seen):
        np.subtract(design, means[z], out=centred)
        for a in range(d1):
            weighted = centred[:, a] * omega[z]
            for b in range(a, d1):
                out[z, a + 1, b + 1] = out[z, b + 1, a + 1] = (weighted * centred[:, b]).sum()
    return out.reshape(tuple(len(d) for d in cpd.parent_states) + (d1 + 1, d1 + 1))
