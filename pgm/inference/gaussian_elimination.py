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
involve ``v`` and triangularises them with Givens rotations: the first row
is then ``x_v``'s conditional given its later neighbours (kept for
back-substitution), the next ones a new factor over those neighbours, and
what is left of the other rows holds only right-hand sides, whose squares
leave the system as part of ``log p``.  Every row of data may have its own missing
values: the choice between conditioning and integrating is a per-row mask,
and all rows go through the same arithmetic.  The work per row is the sum
over eliminated variables of the stacked rows times the clique size squared,
not the cube of the number of nodes.

*Two forms.*  The information (canonical) form ``g - x^T K x / 2 + h^T x``
is the cheaper one: eliminating ``x_v`` is a rank-one update of ``K`` among
its neighbours.  But it expands every quadratic, and the terms cancel by
about ``Var(x_i) / d_i``: with a residual variance of 1.6e-13 (a child
nearly determined by its parent) the terms are near 1e11 for a log density
near 1, and an autoregressive HMM lost 1.2e-5 nats.  Orthogonal
transformations keep sums of squares to the rounding of their *entries*, so
the square-root form keeps its precision however peaked the densities are,
for two to three times the work.  Each block takes the information form
when a bound on that ratio (:meth:`GaussianElimination._conditioning_bound`)
is at most :data:`INFORMATION_FORM_LIMIT` (rounding below ``1e4 * eps`` of
each term), and the square-root form otherwise.  Both leave each step's
conditional ``a y_v + k . y_later = h`` (precision ``a``) for the same
back-substitution.

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

#: Blocks whose conditioning bound (:meth:`GaussianElimination._conditioning_bound`) is at most this
#: run in the information form, whose rounding is then below ``eps * 1e4`` of each quadratic term;
#: more peaked blocks run in the square-root form (about 2-3x the work, exact to the entries' rounding).
INFORMATION_FORM_LIMIT = 1e4


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
        self.topological = self._topological_positions()
        self.prior_mean = self._propagate(self.intercept)
        self.g = -0.5 * np.sum(np.log(self.variance) + _LOG_2PI, axis=0)
        self.conditioning = self._conditioning_bound()
        self.form = "information" if self.conditioning <= INFORMATION_FORM_LIMIT else "square_root"
        if self.form == "information":
            self._compile_precision()
        else:
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

    def _compile_precision(self) -> None:
        """The precision ``K`` on the filled pattern, per configuration (the information form)."""
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

    def _conditioning_bound(self) -> float:
        """An upper bound on ``Var(x_i | k) / d_i`` over nodes and configurations (1 for a block of roots).

        The information form's expanded quadratics cancel by about this
        factor (see the module docstring).  ``sd(sum_j w_j x_j) <= sum_j
        |w_j| sd(x_j)`` bounds each prior sd in one forward pass.
        """
        sd = np.sqrt(self.variance)
        bound = sd.copy()
        for i in self.topological:
            for j, w in self.linear.get(i, {}).items():
                bound[i] += np.abs(w) * bound[j]
        return float(np.max((bound / sd) ** 2)) if len(self.nodes) else 1.0

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
        stored = sum(len(step[1]) + 2 for step in self.steps)  # the saved conditionals
        if self.form == "information":
            working = 2 * self.n_slots
        else:  # the accumulator and an incoming row of the widest step, and the factors alive (bounded)
            widths = [len(step[1]) + 1 for step in self.steps]
            working = 2 * max(widths, default=0) * (max(widths, default=0) + 1) + sum(w * (w + 1) for w in widths)
        per_config = working + 5 * len(self.nodes) + stored + (self.n_slots if covariances else 0) + 4
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
        forward = self._forward_information if self.form == "information" else self._forward_square_root
        g, saved = forward(y, hidden, keep=means or covariances)
        if not (means or covariances):
            return g, None, None, None

        centred = np.empty((n, m, n_rows))  # posterior means of the deviations y
        cov = np.zeros((self.n_slots, m, n_rows)) if covariances else None
        for (v, later, to_nb, among, ua, ub), (a, hv, kv) in zip(reversed(self.steps), reversed(saved)):
            # the conditional of y_v given the later variables: a y_v + kv . y_later = hv, precision a
            hid = hidden[v]
            total = hv.copy()
            if len(later):
                total -= np.einsum("jmr,jmr->mr", kv, centred[later])
            with np.errstate(divide="ignore", invalid="ignore"):
                centred[v] = np.where(hid, total / a, y[v])
            if covariances and hid.any():
                with np.errstate(divide="ignore", invalid="ignore"):
                    loading = -kv / a  # y_v = c + loading . y_later + noise of variance 1/a
                    var = 1.0 / a
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

    def _forward_square_root(self, y, hidden, *, keep: bool):
        """Condition and integrate in the square-root information form (peaked blocks).

        Returns ``g`` (m, rows) and, with ``keep``, each step's conditional
        ``(a, hv, kv)`` in the information form's terms (``a y_v + kv . y_later
        = hv`` with precision ``a``) for the shared back-substitution.
        """
        m, n_rows = y.shape[1], y.shape[2]
        g = np.empty((m, n_rows))
        g[...] = self.g[:, None]
        observed = ~hidden
        hidden_float = hidden.astype(np.float64)
        # each step's new factor over its later variables: rows (k, |later| + 1, m, rows) and where each may start
        factors: list = [None] * len(self.steps)
        saved = []
        for t, ((v, later, to_nb, among, ua, ub), entries) in enumerate(zip(self.steps, self.schedule)):
            c = len(later) + 1
            accumulator = _Triangle(c, m, n_rows)  # over [y_v, later..., right-hand side]
            for kind, source, columns in entries:
                if kind == "cpd":
                    family = self.families[source]
                    row = np.zeros((c + 1, m, n_rows))
                    for col, u, a in zip(columns, family, self.coefficients[source]):
                        np.multiply(a[:, None], hidden_float[u], out=row[col])
                    # right-hand side: the residual of the observed part, formed before any scaling
                    residual = y[source].copy()
                    for u in family[1:]:
                        residual -= self.linear[source][u][:, None] * y[u]
                    row[-1] = residual * self.inverse_sd[source][:, None]
                    g -= 0.5 * accumulator.rotate_in(row, 0)
                else:
                    rows, starts = factors[source]
                    for k, begin in enumerate(starts):
                        row = np.zeros((c + 1, m, n_rows))
                        row[columns] = rows[k, :-1]
                        row[-1] = rows[k, -1]
                        g -= 0.5 * accumulator.rotate_in(row, int(columns[begin]))
                    factors[source] = None
            R = accumulator.R
            # integrating a hidden y_v out; an observed one left row 0 empty in its own column
            a = R[0, 0]
            g += hidden_float[v] * (0.5 * _LOG_2PI) - np.log(np.abs(a) + observed[v])
            any_observed = bool(observed[v].any())
            if len(later):
                # for an observed y_v, row 0 is not y_v's conditional but one more row over the later variables
                rows = R[1:, 1:] if not any_observed else np.concatenate([R[1:, 1:], (R[0, 1:] * observed[v])[None]])
                factors[t] = (rows, list(range(c - 1)) + ([0] if any_observed else []))
            elif any_observed:
                g -= 0.5 * (R[0, -1] * R[0, -1]) * observed[v]
            if keep:
                # scaled by R_vv: a y_v + kv . later = hv with a = R_vv^2 (no cancellation: products only)
                a_safe = a + observed[v]
                saved.append((a_safe * a_safe, -a_safe * R[0, -1], a_safe * R[0, 1:c]))
        return g, saved

    def _forward_information(self, y, hidden, *, keep: bool):
        """Condition and integrate in the information form (well-conditioned blocks; see the module docstring)."""
        m, n_rows = y.shape[1], y.shape[2]
        K = np.empty((self.n_slots, m, n_rows))
        K[...] = self.K[:, :, None]
        h = np.zeros((len(self.nodes), m, n_rows))
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
            if keep:
                saved.append((a.copy(), hv, kv.copy() if len(later) else kv))
        return g, saved

    def covariance_slot(self, a: str, b: str) -> int | None:
        """The slot of the pair (a, b) in the filled pattern, or None when it has none."""
        i, j = self.index[a], self.index[b]
        return self.slot_of.get((min(i, j), max(i, j)))


class _Triangle:
    """An upper triangular accumulator ``R`` (c, c + 1, ...) that rows are rotated into (Givens, vectorised).

    Orthogonal transformations keep sums of squares (the log density) to
    the rounding of the entries, not of their squares.  A row of ``R`` that
    has received nothing yet simply takes the incoming row.  A diagonal
    entry may be zero in some data rows (a variable observed there, or not
    yet constrained): the rotation then swaps or passes the row on, and
    every row still stands for one term of the least-squares system.
    """

    def __init__(self, c: int, m: int, n_rows: int):
        self.R = np.zeros((c, c + 1, m, n_rows))
        self.filled = [False] * c

    def rotate_in(self, row: np.ndarray, start: int):
        """Rotate ``row`` (c + 1, ...) in from column ``start``; return the square of what no variable absorbs."""
        R = self.R
        for j in range(start, len(self.filled)):
            if not self.filled[j]:
                R[j, j:] = row[j:]
                self.filled[j] = True
                return 0.0
            a, b = R[j, j], row[j]
            radius = np.sqrt(a * a + b * b)
            zero = radius == 0
            safe = radius + zero
            cosine = a / safe + zero
            sine = b / safe
            top = R[j, j:].copy()
            R[j, j:] = cosine * top + sine * row[j:]
            row[j:] = cosine * row[j:] - sine * top
        return row[-1] * row[-1]


def structure_key(elimination: GaussianElimination):
    """What two eliminations must share to be run as one (:func:`stack`): None when they cannot be."""
    if elimination.nonlinear:
        return None  # per-row offsets read the block's own columns
    return (elimination.form, len(elimination.nodes),
            tuple(sorted((i, tuple(sorted(p))) for i, p in elimination.linear.items())))


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
    for name, axis in (("prior_mean", 1), ("intercept", 1), ("variance", 1), ("g", 0)):
        setattr(stacked, name, np.concatenate([getattr(e, name) for e in eliminations], axis=axis))
    if first.form == "information":
        stacked.K = np.concatenate([e.K for e in eliminations], axis=1)
    else:
        stacked.inverse_sd = np.concatenate([e.inverse_sd for e in eliminations], axis=1)
        stacked.coefficients = [np.concatenate([e.coefficients[i] for e in eliminations], axis=1)
                                for i in range(len(first.nodes))]
    stacked.linear = {i: {j: np.concatenate([e.linear[i][j] for e in eliminations]) for j in parents}
                      for i, parents in first.linear.items()}
    stacked.keys, stacked.key_cards, stacked.key_codes = (), (), {}
    return stacked


def dense_posterior(elimination: GaussianElimination, config: int, values: np.ndarray, offsets=None):
    """One case's posterior of all the nodes for one key configuration (dense; for small joint queries).

    ``values`` (n_nodes,) holds the observed values, NaN where hidden;
    ``offsets`` (n_nodes,) shifts the intercepts (nonlinear features and
    parents outside the block, for one case).  Returns the prior mean, the
    hidden nodes' posterior mean minus it (``shift``, zero where observed)
    and their posterior covariance (n_nodes, n_nodes; zero rows and columns
    where observed).

    Solved as least squares in the square-root form of the module
    docstring, by a QR factorisation of the hidden columns: conditioning a
    dense covariance instead (``S_hh - S_ho S_oo^-1 S_oh``) cancels
    catastrophically when a child is nearly determined by its parents.
    """
    import scipy.linalg

    n = len(elimination.nodes)
    weights = np.zeros((n, n))
    for i, parents in elimination.linear.items():
        for j, w in parents.items():
            weights[i, j] += w[config]
    b = elimination.intercept[:, config] + (0.0 if offsets is None else offsets)
    sd = np.sqrt(elimination.variance[:, config])
    # nodes are in topological order, so I - B is unit lower triangular
    unit_lower = np.eye(n) - weights
    mean = scipy.linalg.solve_triangular(unit_lower, b, lower=True, unit_diagonal=True)
    hidden = np.isnan(values)
    y = np.where(hidden, 0.0, values - mean)
    residual = (y - weights @ y) / sd           # each node's row, observed part: formed before scaling
    columns = unit_lower[:, hidden] / sd[:, None]
    shift, covariance = np.zeros(n), np.zeros((n, n))
    if hidden.any():
        Q, R = np.linalg.qr(columns)
        # least squares: minimise |columns y_h + residual|, so y_h = -R^-1 Q^T residual; Cov = (R^T R)^-1
        shift[hidden] = -scipy.linalg.solve_triangular(R, Q.T @ residual, lower=False)
        inverse = scipy.linalg.solve_triangular(R, np.eye(R.shape[0]), lower=False)
        covariance[np.ix_(hidden, hidden)] = inverse @ inverse.T
    return mean, shift, covariance


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
