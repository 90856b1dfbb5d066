"""Exact inference in linear Gaussian networks, batched over rows with their own missing values.

Given the configuration ``k`` of the discrete nodes they depend on, the
continuous nodes of a network are one Gaussian.  In *canonical* (information)
form its log density is

    log p(x | k) = g - x^T K x / 2 + h^T x,

with ``K = (I - B)^T D^-1 (I - B)``, ``h = (I - B)^T D^-1 b`` and
``g = -sum_i (b_i^2 / d_i + log(2 pi d_i)) / 2`` for the weights ``B``,
intercepts ``b`` and residual variances ``d``.  ``K`` is sparse: it has an
entry only where two nodes are adjacent in the moral graph.

For each row, observed values are conditioned on and hidden ones integrated
out, one variable at a time in a min-fill order (Gaussian elimination with
scalar pivots).  Conditioning on ``x_v = a`` moves ``-K_uv a`` into ``h_u``;
integrating ``x_v`` out is a rank-one update of ``K`` among ``v``'s
neighbours and adds ``log sqrt(2 pi / K_vv) + h_v^2 / (2 K_vv)`` to ``g``.
Both touch only ``v``'s neighbours in the filled graph, so the work per row
is the sum of the squared clique sizes, not the cube of the number of nodes,
and every row may have its own missing values: the choice between the two
updates is a per-row mask, and all rows go through the same arithmetic.

After the last variable, ``g`` is ``log p(observed part of the row | k)``.
Back-substitution in reverse order gives the posterior means, and the
recurrence of Takahashi et al. (1973) gives the posterior covariances on the
filled pattern (every family's covariance among them) -- without ever forming
a dense covariance or inverting a matrix per row.

*Centring.*  The canonical form above, taken literally, loses the data's
precision: with a mean of 1.7e9 and an sd of 100, ``h`` is 1.7e5, ``g``
is -1.4e14, and the log density is the small difference of such numbers.
So the elimination runs on the deviations ``y = x - mu(k)`` from the prior
mean ``mu(k)`` of each configuration (one forward pass through the
weights): in those coordinates every intercept is zero, so ``h`` starts
at zero, ``g`` holds only the log normalisers, and every quantity is of
the order of the standard deviations.  Conditioning subtracts the prior
mean from each observed value once (exact when the two are close), and
posterior means are ``mu(k)`` plus the centred solution.  Results then do
not depend on where the data sit on the real line, only on their spread.

Nonlinear features of observed parents (``polynomial("x", 3)`` with ``x``
observed) are constants given the row and move into a per-row intercept (and so a per-row prior mean); a
nonlinear feature of a hidden parent makes the posterior non-Gaussian and is
refused.
"""

from __future__ import annotations

import numpy as np

from pgm.errors import StructureError
from pgm.inference.junction_tree import elimination_order

__all__ = ["GaussianElimination"]

_LOG_2PI = float(np.log(2 * np.pi))


class GaussianElimination:
    """Compiled canonical-form elimination for the continuous ``nodes`` of a network.

    Parameters
    ----------
    network : BayesianNetwork
    nodes : sequence of str
        Continuous nodes; a continuous parent of one of them is either among
        them or observed in every row: its values then enter as per-row
        intercept offsets (``external=`` of :meth:`run`), like nonlinear
        features of observed parents.
    keys : sequence of str
        The discrete nodes that the CPDs of ``nodes`` depend on; the
        computation runs once for each of their joint configurations
        (row-major, in the order given).
    fixed : mapping of str to int, optional
        Discrete parents whose state is known for every row (node -> code).
    """

    def __init__(self, network, nodes, keys=(), fixed=None):
        self.nodes = tuple(nodes)
        self.keys = tuple(keys)
        self.key_cards = tuple(len(network.states(k)) for k in self.keys)
        self.n_configurations = int(np.prod(self.key_cards, dtype=np.int64)) if self.keys else 1
        index = {node: i for i, node in enumerate(self.nodes)}
        self.index = index
        n, m = len(self.nodes), self.n_configurations
        key_codes = dict(zip(self.keys, np.unravel_index(np.arange(m), self.key_cards))) if self.keys else {}
        for node, code in (fixed or {}).items():
            key_codes[node] = np.full(m, code, dtype=np.intp)
        self.key_codes = key_codes  # each discrete parent's state in every key configuration
        self.intercept = np.empty((n, m))
        self.variance = np.empty((n, m))
        linear: dict[int, dict[int, np.ndarray]] = {}
        self.nonlinear: dict[int, list] = {}
        for i, node in enumerate(self.nodes):
            cpd = network[node]
            if cpd.discrete_parents:
                configs = np.ravel_multi_index(
                    [key_codes[p] for p in cpd.discrete_parents],
                    [len(d) for d in cpd.parent_states],
                )
            else:
                configs = np.zeros(m, dtype=np.intp)
            self.intercept[i] = cpd._b0[configs]
            self.variance[i] = cpd._var[configs]
            for f, feature in enumerate(cpd.features):
                w = cpd._w[configs, f]
                if feature.is_identity and feature.parents[0] in index:
                    j = index[feature.parents[0]]
                    linear.setdefault(i, {})
                    linear[i][j] = linear[i].get(j, 0.0) + w
                else:
                    self.nonlinear.setdefault(i, []).append((feature, w))
        self.linear = linear
        self._compile_pattern()
        self._compile_precision()

    # -------------------------------------------------------------- structure
    def _compile_pattern(self) -> None:
        n = len(self.nodes)
        adjacency: dict[int, set[int]] = {i: set() for i in range(n)}
        for i, parents in self.linear.items():
            family = [i, *parents]
            for a in family:
                adjacency[a].update(b for b in family if b != a)
        order, cliques = elimination_order(adjacency, [2] * n)
        self.order = order
        slots: dict[tuple[int, int], int] = {(i, i): i for i in range(n)}

        def slot(a: int, b: int) -> int:
            key = (a, b) if a <= b else (b, a)
            if key not in slots:
                slots[key] = len(slots)
            return slots[key]

        position = {v: t for t, v in enumerate(order)}
        self.steps = []
        for v, clique in zip(order, cliques):
            later = np.array(sorted((u for u in clique if u != v), key=position.__getitem__), dtype=np.intp)
            to_neighbours = np.array([slot(v, u) for u in later], dtype=np.intp)
            among = np.array([[slot(a, b) for b in later] for a in later], dtype=np.intp).reshape(len(later), len(later))
            upper_a, upper_b = np.triu_indices(len(later))
            self.steps.append((v, later, to_neighbours, among, upper_a, upper_b))
        self.slot_of = slots
        self.n_slots = len(slots)

    def _compile_precision(self) -> None:
        n, m = len(self.nodes), self.n_configurations
        K = np.zeros((self.n_slots, m))
        inv_d = 1.0 / self.variance
        K[:n] += inv_d
        for i, parents in self.linear.items():
            items = list(parents.items())
            for j, w in items:
                K[self.slot_of[(min(i, j), max(i, j))]] -= w * inv_d[i]
            for a, (j, wj) in enumerate(items):
                for l, wl in items[a:]:
                    K[self.slot_of[(min(j, l), max(j, l))]] += wj * wl * inv_d[i]
        self.K = K
        # Centred coordinates (see the module docstring): the linear term h is zero and the
        # constant holds only the normalisers, so neither grows with the data's location.
        self.topological = self._topological_positions()
        self.prior_mean = self._propagate(self.intercept)
        self.g = -0.5 * np.sum(np.log(self.variance) + _LOG_2PI, axis=0)

    def _topological_positions(self) -> list[int]:
        """Node positions with every linear parent before its child (the engine passes topological order)."""
        done: set[int] = set()
        order: list[int] = []

        def visit(i: int) -> None:
            stack = [(i, iter(self.linear.get(i, {})))]
            while stack:
                node, parents = stack[-1]
                parent = next((p for p in parents if p not in done), None)
                if parent is None:
                    stack.pop()
                    if node not in done:
                        done.add(node)
                        order.append(node)
                else:
                    stack.append((parent, iter(self.linear.get(parent, {}))))

        for i in range(len(self.nodes)):
            visit(i)
        return order

    def _propagate(self, intercepts: np.ndarray) -> np.ndarray:
        """Means ``mu_i = b_i + sum_j B_ij mu_j`` for intercepts of shape (n, m, ...), in one forward pass."""
        mean = np.array(intercepts, dtype=np.float64)
        for i in self.topological:
            for j, w in self.linear.get(i, {}).items():
                mean[i] += (w.reshape(w.shape + (1,) * (mean.ndim - 2))) * mean[j]
        return mean

    def bytes_per_row(self, covariances: bool) -> int:
        """Float64 bytes one row needs (all configurations) while running."""
        stored = sum(len(step[1]) + 2 for step in self.steps)
        per_config = 2 * self.n_slots + 5 * len(self.nodes) + stored + (self.n_slots if covariances else 0) + 4
        return 8 * per_config * self.n_configurations

    # -------------------------------------------------------------- running
    def _row_offsets(self, values: np.ndarray, describe_row, external=None):
        """Per-row intercept shifts from features of observed parents: (n, m, N) or None.

        Nonlinear features of parents in the block, and any feature of a
        parent outside it (its column in ``external``), are known given the row.
        """
        if not self.nonlinear:
            return None
        n_rows = values.shape[1]
        offsets = np.zeros((len(self.nodes), self.n_configurations, n_rows))
        columns = dict(external or {})
        columns.update((node, values[i]) for i, node in enumerate(self.nodes))
        for i, terms in self.nonlinear.items():
            for feature, w in terms:
                for parent in feature.parents:
                    if parent not in columns:
                        columns[parent] = np.full(n_rows, np.nan)
                    missing = np.isnan(columns[parent])
                    if missing.any():
                        raise StructureError(
                            f"node {self.nodes[i]!r} depends on {parent!r} through the nonlinear feature "
                            f"{feature}, and {parent!r} is missing in {describe_row(int(np.argmax(missing)))}: "
                            "the posterior is then not Gaussian, so exact inference is not possible; "
                            "observe it, or use method='likelihood_weighting'"
                        )
                offsets[i] += w[:, None] * feature.evaluate(columns)[None, :]
        return offsets

    def run(self, values: np.ndarray, *, means: bool = True, covariances: bool = False, describe_row=str,
            reference=None, deviations: bool | None = None, external=None):
        """Condition on the observed entries of ``values`` and integrate out the rest.

        Parameters
        ----------
        values : ndarray, shape (n_nodes, n_rows) or (n_nodes, n_configurations, n_rows)
            Observed values, NaN where hidden; the second form gives each
            configuration its own values (stacked blocks, see :func:`stack`).
        reference : ndarray of int (n_configurations,), optional
            For each configuration, the configuration its ``deviation`` is
            taken from (default: the first).
        deviations : bool, optional
            Whether to return ``deviation`` (default: with ``means``).
        external : mapping of str to ndarray, optional
            Columns of observed continuous parents outside the block.

        Returns
        -------
        log_density : ndarray (n_configurations, n_rows)
            log p(observed values | configuration).
        mean : ndarray (n_nodes, n_configurations, n_rows) or None
            Posterior means (observed values where observed).
        covariance : ndarray (n_slots, n_configurations, n_rows) or None
            Posterior covariances on the filled pattern (see :attr:`slot_of`);
            zero for observed nodes.
        deviation : ndarray (n_nodes, n_configurations, n_rows) or None
            ``mean`` minus the reference configuration's mean, computed from
            the prior means and the centred solutions, so that it keeps its
            precision when the means are far from zero (the spread of a
            mixture is made of these differences).
        """
        n, m = len(self.nodes), self.n_configurations
        n_rows = values.shape[-1]
        offsets = self._row_offsets(values, describe_row, external) if values.ndim == 2 else None
        if values.ndim == 2:
            values = values[:, None, :]
        hidden = np.isnan(values)  # (n, 1 or m, rows)
        if offsets is None:
            prior_mean = self.prior_mean[:, :, None]                  # (n, m, 1): the same for every row
        else:
            prior_mean = self._propagate(self.intercept[:, :, None] + offsets)  # (n, m, rows)
        # deviations of the observed values from the prior mean; zero (unused) where hidden
        y = values - prior_mean
        np.copyto(y, 0.0, where=hidden)
        K = np.empty((self.n_slots, m, n_rows))
        K[...] = self.K[:, :, None]
        h = np.zeros((n, m, n_rows))
        g = np.empty((m, n_rows))
        g[...] = self.g[:, None]

        saved = []
        for v, later, to_nb, among, ua, ub in self.steps:
            a = K[v]
            hv = h[v].copy()
            kv = K[to_nb]
            hid = hidden[v]
            yv = y[v]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = hv / a
            # hidden rows: integrate y_v out; observed rows: condition on y_v
            coefficient = np.where(hid, ratio, yv)
            if len(later):
                h[later] -= kv * coefficient
                if hid.any():
                    pivot = np.where(hid, 1.0 / a, 0.0)
                    K[among[ua, ub]] -= kv[ua] * kv[ub] * pivot
            with np.errstate(divide="ignore", invalid="ignore"):
                integrated = 0.5 * (_LOG_2PI - np.log(a) + hv * ratio)
            g += np.where(hid, integrated, hv * yv - 0.5 * a * yv * yv)
            if means or covariances:
                saved.append((a.copy(), hv, kv.copy() if len(later) else kv))
        if not (means or covariances):
            return g, None, None, None

        centred = np.empty((n, m, n_rows))  # posterior means of the deviations y
        cov = np.zeros((self.n_slots, m, n_rows)) if covariances else None
        for (v, later, to_nb, among, ua, ub), (a, hv, kv) in zip(reversed(self.steps), reversed(saved)):
            hid = hidden[v]
            total = hv.copy()
            if len(later):
                total -= np.einsum("jmr,jmr->mr", kv, centred[later])
            centred[v] = np.where(hid, total / a, y[v])
            if covariances and hid.any():
                loading = -kv / a  # y_v = c + loading . y_later + noise of variance 1/a
                if len(later):
                    cross = np.einsum("jimr,imr->jmr", cov[among], loading)  # Cov(y_later_j, y_v)
                    cov[to_nb] = np.where(hid, cross, 0.0)
                    var = 1.0 / a + np.einsum("jmr,jmr->mr", loading, cross)
                else:
                    var = 1.0 / a
                cov[v] = np.where(hid, var, 0.0)
        deviation = None
        if means if deviations is None else deviations:
            ref = np.zeros(m, dtype=np.intp) if reference is None else reference
            deviation = centred - centred[:, ref]
            deviation += prior_mean - prior_mean[:, ref]
            np.copyto(deviation, 0.0, where=~hidden)
        # observed values are returned as given, not as prior mean + deviation (which may round)
        centred += prior_mean
        np.copyto(centred, values, where=~hidden)
        return g, centred, cov, deviation

    def covariance_slot(self, a: str, b: str) -> int | None:
        """The slot of the pair (a, b) in the filled pattern, or None when it has none."""
        i, j = self.index[a], self.index[b]
        return self.slot_of.get((min(i, j), max(i, j)))


def structure_key(elimination: GaussianElimination):
    """What two eliminations must share to be run as one (:func:`stack`): None when they cannot be."""
    if elimination.nonlinear:
        return None  # per-row offsets read the block's own columns
    return len(elimination.nodes), tuple(sorted((i, tuple(sorted(p))) for i, p in elimination.linear.items()))


def stack(eliminations) -> GaussianElimination:
    """One elimination running several of the same :func:`structure_key` side by side.

    Their configurations are laid end to end along the configuration axis,
    so one pass (with per-configuration values) serves them all: forty
    one-node blocks cost one vectorised run, not forty Python-level ones.
    """
    first = eliminations[0]
    stacked = object.__new__(GaussianElimination)
    stacked.__dict__.update(first.__dict__)  # the shared structure: steps, slots, order
    stacked.n_configurations = sum(e.n_configurations for e in eliminations)
    for name, axis in (("K", 1), ("prior_mean", 1), ("intercept", 1), ("variance", 1), ("g", 0)):
        setattr(stacked, name, np.concatenate([getattr(e, name) for e in eliminations], axis=axis))
    stacked.linear = {i: {j: np.concatenate([e.linear[i][j] for e in eliminations]) for j in parents}
                      for i, parents in first.linear.items()}
    stacked.keys, stacked.key_cards, stacked.key_codes = (), (), {}
    return stacked


def dense_moments(elimination: GaussianElimination, config: int, offsets=None):
    """Prior mean and covariance of all the nodes for one key configuration (dense; for small joint queries).

    ``offsets`` (n_nodes,) shifts the intercepts (nonlinear features of observed parents, for one case).
    """
    n = len(elimination.nodes)
    weights = np.zeros((n, n))
    for i, parents in elimination.linear.items():
        for j, w in parents.items():
            weights[i, j] += w[config]
    b = elimination.intercept[:, config] + (0.0 if offsets is None else offsets)
    d = elimination.variance[:, config]
    # nodes are in topological order, so I - B is unit lower triangular
    import scipy.linalg

    unit_lower = np.eye(n) - weights
    mean = scipy.linalg.solve_triangular(unit_lower, b, lower=True, unit_diagonal=True)
    scaled = scipy.linalg.solve_triangular(unit_lower, np.diag(np.sqrt(d)), lower=True, unit_diagonal=True)
    return mean, scaled @ scaled.T
