"""Exact inference in linear Gaussian networks, batched over rows with their own missing values.

Given the configuration ``k`` of the discrete nodes they depend on, the
continuous nodes of a network are one Gaussian, the product of one density
per node, ``N(x_i; b_i + sum_j w_ij x_j, d_i)``.  Written as a least-squares
system, each node is one row:

    log p(x | k) = -sum_i (r_i . x + e_i)^2 / 2 - sum_i log(2 pi d_i) / 2,

with ``r_i = (unit_i - w_i) / sqrt(d_i)`` over the node's family.  This is a
*square-root information* form: the precision ``K = R^T R`` is never built.

For each row, observed values are conditioned on and hidden ones integrated
out, one variable at a time in a min-fill order.  Conditioning moves an
observed value into the right-hand sides ``e`` (for a node's own row the
residual ``x_i - sum_j w_ij x_j`` of its observed part, formed before any
division by ``sqrt(d_i)``).  Integrating ``x_v`` out stacks the rows that
involve ``v`` and triangularises them with Householder reflections: the
first row is then ``x_v``'s conditional given its later neighbours (kept for
back-substitution), the next ones a new factor over those neighbours, and
any rows left over hold only right-hand sides, whose squares leave the
system as part of ``log p``.  Every row of data may have its own missing
values: the choice between conditioning and integrating is a per-row mask,
and all rows go through the same arithmetic.  The work per row is the sum
over eliminated variables of the stacked rows times the clique size squared,
not the cube of the number of nodes.

*Why square roots.*  The information (canonical) form ``g - x^T K x / 2 +
h^T x`` expands every quadratic: with a residual variance of 1.6e-13 (a
child nearly determined by its parent) the terms of ``K`` are 1e13 and the
log density is the difference of numbers near 1e11 -- it lost 1e-5 nats in
an autoregressive HMM.  Orthogonal transformations keep sums of squares to
the rounding of their *entries*, so the log density keeps its precision
however peaked the densities are.

After the last variable, the accumulated constant is ``log p(observed part
of the row | k)``.  Back-substitution in reverse order gives the posterior
means, and the recurrence of Takahashi et al. (1973) gives the posterior
covariances on the filled pattern (every family's covariance among them) --
without ever forming a dense covariance or inverting a matrix per row.

*Centring.*  Far from zero the right-hand sides would lose the data's
precision too: with a mean of 1.7e9 and an sd of 100 they would be the
small differences of numbers near 1.7e7.  So the elimination runs on the
deviations ``y = x - mu(k)`` from the prior mean ``mu(k)`` of each
configuration (one forward pass through the weights): in those coordinates
every intercept is zero and every quantity is of the order of the standard
deviations.  Conditioning subtracts the prior
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
        self._compile_square_root()

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

    def _compile_square_root(self) -> None:
        """Each CPD as one row of a square-root information matrix, and the static elimination schedule.

        Node ``i``'s density is ``N(y_i; sum_j w_ij y_j, d_i)`` in centred
        coordinates, i.e. one row ``(y_i - sum_j w_ij y_j) / sqrt(d_i)`` of a
        least-squares system (see the module docstring).  Each row enters the
        elimination at the step of its first member in the elimination order;
        each step's new factor enters at the step of its own first member.
        """
        n, m = len(self.nodes), self.n_configurations
        inverse_sd = 1.0 / np.sqrt(self.variance)
        self.families = []
        coefficients = []
        for i in range(n):
            parents = sorted(self.linear.get(i, {}))  # sorted: blocks of one pattern stack row by row
            self.families.append((i, *parents))
            coefficients.append(np.stack([inverse_sd[i], *(-self.linear[i][j] * inverse_sd[i] for j in parents)]))
        self.coefficients = coefficients  # per node: (family size, m)
        self.inverse_sd = inverse_sd
        position = {v: t for t, v in enumerate(self.order)}
        step_of_first = lambda scope: min(position[u] for u in scope)  # noqa: E731
        incoming: list[list] = [[] for _ in self.order]  # per step: ("cpd", i) or ("factor", earlier step)
        for i, family in enumerate(self.families):
            incoming[step_of_first(family)].append(("cpd", i))
        for t, (v, later, *_rest) in enumerate(self.steps):
            if len(later):
                incoming[step_of_first(later)].append(("factor", t))
        self.schedule = []
        for t, (v, later, *_rest) in enumerate(self.steps):
            column = {u: c for c, u in enumerate([v, *later.tolist()])}
            entries = []
            for kind, source in incoming[t]:
                scope = self.families[source] if kind == "cpd" else self.steps[source][1].tolist()
                entries.append((kind, source, np.array([column[u] for u in scope], dtype=np.intp)))
            self.schedule.append(entries)
        # Centred coordinates (see the module docstring): the right-hand sides start at the
        # observed deviations and the constant holds only the normalisers, so nothing grows
        # with the data's location.
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
        stored = sum(len(step[1]) + 2 for step in self.steps)           # the saved conditionals
        factors = sum(len(step[1]) * (len(step[1]) + 1) for step in self.steps)  # new factors (upper bound alive)
        widest = max((len(step[1]) + 2) * (len(step[1]) + 2 + len(entries)) for step, entries in zip(self.steps, self.schedule)) if self.steps else 0
        per_config = widest + factors + 6 * len(self.nodes) + stored + (self.n_slots if covariances else 0) + 4
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
        g = np.empty((m, n_rows))
        g[...] = self.g[:, None]
        observed = (~hidden).astype(np.float64)
        hidden_weight = 1.0 - observed
        factors: list = [None] * len(self.steps)  # each step's new factor: (|later|, |later| + 1, m, rows)
        saved = []
        for t, ((v, later, to_nb, among, ua, ub), entries) in enumerate(zip(self.steps, self.schedule)):
            c = len(later) + 1
            n_stack = 1 + sum(1 if kind == "cpd" else len(self.steps[src][1]) for kind, src, _ in entries)
            M = np.zeros((max(n_stack, c), c + 1, m, n_rows))
            # first row: a unit constraint on an observed y_v (moves to the top; none for hidden rows)
            M[0, 0] = observed[v]
            r = 1
            for kind, source, columns in entries:
                if kind == "cpd":
                    family = self.families[source]
                    coefficient = self.coefficients[source][:, :, None]
                    for col, u, a in zip(columns, family, coefficient):
                        M[r, col] = a * hidden_weight[u]
                    # right-hand side: the residual of the observed part, formed before any scaling
                    residual = y[source].copy()
                    for u in family[1:]:
                        residual -= self.linear[source][u][:, None] * y[u]
                    M[r, -1] = residual * self.inverse_sd[source][:, None]
                    r += 1
                else:
                    block = factors[source]
                    M[r:r + len(block), columns] = block[:, :-1]
                    M[r:r + len(block), -1] = block[:, -1]
                    r += len(block)
                    factors[source] = None
            _householder(M, c)
            hid = hidden[v]
            a = M[0, 0]
            with np.errstate(divide="ignore"):
                g += np.where(hid, 0.5 * _LOG_2PI - np.log(np.abs(a)), 0.0)
            if M.shape[0] > c:
                g -= 0.5 * np.einsum("imr,imr->mr", M[c:, -1], M[c:, -1])
            if len(later):
                factors[t] = M[1:c, 1:]  # the new factor over the later variables (upper triangular)
            if means or covariances:
                saved.append((a, -M[0, -1], M[0, 1:c]))
        if not (means or covariances):
            return g, None, None, None

        centred = np.empty((n, m, n_rows))  # posterior means of the deviations y
        cov = np.zeros((self.n_slots, m, n_rows)) if covariances else None
        for (v, later, to_nb, among, ua, ub), (a, hv, kv) in zip(reversed(self.steps), reversed(saved)):
            # the conditional of y_v given the later variables: a y_v + kv . y_later = hv, precision a^2
            hid = hidden[v]
            total = hv.copy()
            if len(later):
                total -= np.einsum("jmr,jmr->mr", kv, centred[later])
            with np.errstate(divide="ignore", invalid="ignore"):
                centred[v] = np.where(hid, total / a, y[v])
            if covariances and hid.any():
                with np.errstate(divide="ignore", invalid="ignore"):
                    loading = -kv / a  # y_v = c + loading . y_later + noise of variance 1/a^2
                    var = 1.0 / (a * a)
                if len(later):
                    cross = np.einsum("jimr,imr->jmr", cov[among], loading)  # Cov(y_later_j, y_v)
                    cov[to_nb] = np.where(hid, cross, 0.0)
                    var = var + np.einsum("jmr,jmr->mr", loading, cross)
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


def _householder(M: np.ndarray, columns: int) -> None:
    """Triangularise the first ``columns`` columns of the stacked matrices ``M`` (rows, cols, ...) in place.

    Householder reflections, vectorised over the trailing axes: orthogonal
    transformations, so the sums of squares (the log density) are kept to
    rounding of the entries, not of their squares.
    """
    n_rows = M.shape[0]
    for j in range(min(columns, n_rows - 1)):
        x = M[j:, j]
        norm = np.sqrt(np.einsum("i...,i...->...", x, x))
        alpha = -np.copysign(norm, x[0])
        u = x.copy()
        u[0] -= alpha
        beta = norm * (norm + np.abs(x[0]))  # u . u / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(beta > 0, 1.0 / beta, 0.0)
        projection = np.einsum("i...,ij...->j...", u, M[j:, j:]) * scale
        M[j:, j:] -= u[:, None] * projection[None]


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
    for name, axis in (("inverse_sd", 1), ("prior_mean", 1), ("intercept", 1), ("variance", 1), ("g", 0)):
        setattr(stacked, name, np.concatenate([getattr(e, name) for e in eliminations], axis=axis))
    stacked.coefficients = [np.concatenate([e.coefficients[i] for e in eliminations], axis=1)
                            for i in range(len(first.nodes))]
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
