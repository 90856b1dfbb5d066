"""Loopy belief propagation: approximate marginals of discrete networks, batched over rows of evidence.

Belief propagation passes messages on the *factor graph*: one factor per
CPD (over the node and its parents), one variable per discrete node.  A
factor's message to one of its variables sums the factor, times the
messages from its other variables, over those variables; a variable's
message to a factor is the product of the messages from its other factors
and of its evidence.  On a polytree (no undirected cycle) the messages
settle after as many sweeps as the graph's diameter and the beliefs are the
exact posteriors (Pearl 1988).  On a graph with cycles the same updates,
iterated, usually settle too, at a fixed point of the Bethe free energy
whose beliefs approximate the marginals (Murphy, Weiss & Jordan 1999;
Yedidia, Freeman & Weiss 2003); the cost per sweep is linear in the size of
the CPD tables, so it answers networks whose junction tree is too large.

Here every sweep updates all messages at once ("flooding"), for every row
of evidence at once: each message is an array over (state, row), and
factors whose tables have the same shape are updated together.  Damping
mixes each new factor message with the previous one, ``(1 - damping) *
new + damping * old``, which helps oscillating networks settle.  Rows stop
counting as unconverged when no factor message changed by more than
``tol`` (largest absolute change of a normalised message) in a sweep; the
sweeps end when every row has converged or after ``max_iter`` sweeps.
:class:`ConvergenceReport` says which happened.

Products of many messages are formed in log space; a message entry of
exactly zero (a deterministic CPD, a hard observation) is carried as a
count of zeros beside the finite logarithms, so "the product of every
message but one" is a subtraction that never meets ``-inf - -inf``.

References: Pearl (1988), *Probabilistic Reasoning in Intelligent Systems*,
ch. 4; Koller & Friedman (2009), section 11.3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

from pgm._chunks import row_chunks
from pgm.errors import ImpossibleEvidenceError, StructureError
from pgm.inference.approximate import budget_bytes
from pgm.inference.evidence import Evidence, as_evidence, likelihood_vectors

__all__ = ["ConvergenceReport", "loopy_belief_propagation"]

_LETTERS = "abcdefhijklmopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"  # einsum axes; g and n: block and row axes


@dataclass(frozen=True)
class ConvergenceReport:
    """How loopy belief propagation ended.

    Attributes
    ----------
    iterations : int
        Sweeps run (the largest over chunks of rows).
    max_residual : float
        The largest change of a normalised factor message in the last sweep, over all rows.
    converged : bool
        Whether every row's residual fell below ``tol``.
    row_residuals : ndarray (n_rows,)
        Each row's residual in its last sweep.
    row_converged : ndarray of bool (n_rows,)
    row_iterations : ndarray of int (n_rows,)
        The sweep at which each row first fell below ``tol`` (``max_iter`` if never).
    damping, tol : float
    max_iter : int
    log_evidence : ndarray (n_rows,)
        The Bethe estimate of log p(evidence) per row: exact on a polytree,
        an approximation on a network with loops.
    """

    iterations: int
    max_residual: float
    converged: bool
    row_residuals: np.ndarray
    row_converged: np.ndarray
    row_iterations: np.ndarray
    damping: float
    tol: float
    max_iter: int
    log_evidence: np.ndarray | None = None

    def __str__(self) -> str:
        rows = len(self.row_converged)
        settled = int(self.row_converged.sum())
        verdict = "converged" if self.converged else f"NOT converged ({rows - settled} of {rows} row(s) did not)"
        return (f"loopy belief propagation {verdict} after {self.iterations} sweep(s): largest residual "
                f"{self.max_residual:.3g} (tol {self.tol:g}, damping {self.damping:g}, max_iter {self.max_iter})")

    def __repr__(self) -> str:
        return str(self)


def _check_options(damping, max_iter, tol) -> None:
    if isinstance(damping, bool) or not isinstance(damping, (int, float, np.floating)) or not 0 <= damping < 1:
        raise ValueError(f"damping must be a number in [0, 1), got {damping!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)) or not tol > 0:
        raise ValueError(f"tol must be a positive number, got {tol!r}")


class FactorGraph:
    """The factor graph of the discrete ``nodes`` of a network, laid out for batched message passing.

    Edges (factor, position) are numbered; every message is stored padded
    to the largest cardinality ``width`` with zeros in the padding.
    """

    def __init__(self, network, nodes):
        self.nodes = tuple(nodes)
        index = {n: i for i, n in enumerate(self.nodes)}
        self.cards = np.array([len(network.states(n)) for n in self.nodes], dtype=np.intp)
        self.width = int(self.cards.max())
        edge_var, groups = [], {}
        for node in self.nodes:
            cpd = network[node]
            scope = list(cpd.parents) + [node]
            outside = [p for p in scope if p not in index]
            if outside:
                raise StructureError(f"{node!r} has parent {outside[0]!r} outside the factor graph")
            table = np.asarray(cpd.table, dtype=np.float64)
            edges = list(range(len(edge_var), len(edge_var) + len(scope)))
            edge_var += [index[v] for v in scope]
            groups.setdefault(table.shape, []).append((table, edges))
        self.edge_var = np.array(edge_var, dtype=np.intp)
        self.n_edges = len(edge_var)
        # one block per table shape: stacked tables and the edges of each position
        self.blocks = [(np.stack([t for t, _ in members]), np.array([e for _, e in members], dtype=np.intp))
                       for members in groups.values()]
        # incidence (variable x edge), to sum each variable's incoming messages with one sparse product
        self.incidence = scipy.sparse.csr_matrix(
            (np.ones(self.n_edges), (self.edge_var, np.arange(self.n_edges))), shape=(len(self.nodes), self.n_edges))
        self.padding = np.arange(self.width)[:, None] >= self.cards[None, :]  # (width, variables)
        self.degree = np.bincount(self.edge_var, minlength=len(self.nodes)).astype(np.float64)
        self.specs = {}

    def bytes_per_row(self) -> int:
        # factor messages (old, new), variable messages, logs, zero counts and the variables' totals;
        # and the largest block's factor beliefs (tables times messages) for the Bethe estimate, twice
        largest = max(tables.size for tables, _ in self.blocks)
        return 8 * self.width * (8 * self.n_edges + 3 * len(self.nodes)) + 16 * largest

    def einsum(self, block: int, position: int, operands):
        """Contract a block's tables with the other positions' messages, summing out all but ``position``.

        Every message shares one axis with the table, so the plain (unoptimised) einsum loop costs
        (table entries x rows), within a factor of the scope size of the best pairwise order, and it
        avoids the path planning that dominates small tables.
        """
        spec = self.specs.get((block, position))
        if spec is None:
            k = operands[0].ndim - 1
            axes = _LETTERS[:k]
            inputs = ["g" + axes] + ["g" + axes[j] + "n" for j in range(k) if j != position]
            spec = self.specs[(block, position)] = ",".join(inputs) + "->g" + axes[position] + "n"
        return np.einsum(spec, *operands)


def _log_parts(probabilities: np.ndarray):
    """log of a non-negative array as (finite logs with 0 where the entry is 0, indicator of zeros)."""
    zero = probabilities <= 0
    with np.errstate(divide="ignore"):
        logs = np.log(np.where(zero, 1.0, probabilities))
    return logs, zero.astype(np.float64)


def _unary(graph: FactorGraph, evidence: Evidence, rows: slice) -> np.ndarray:
    """Each variable's evidence as likelihoods, shape (variables, width, n): one-hot, soft, or ones."""
    n = len(range(*rows.indices(evidence.n_rows)))
    unary = np.ones((len(graph.nodes), graph.width, n))
    for v, node in enumerate(graph.nodes):
        k = graph.cards[v]
        if node in evidence.codes:
            unary[v, :k] = likelihood_vectors(evidence.codes[node][rows], k)
        if node in evidence.soft:
            unary[v, :k] *= evidence.soft[node][:, None]
    unary[np.broadcast_to(graph.padding.T[:, :, None], unary.shape)] = 0.0
    return unary


def _propagate(graph: FactorGraph, unary: np.ndarray, *, damping: float, max_iter: int, tol: float,
               messages: np.ndarray | None = None):
    """Run the sweeps for one chunk of rows.

    Returns (beliefs (variables, width, n), residual, converged, sweeps, first, Bethe log Z per row).

    A row leaves the working arrays in the sweep it converges (its beliefs are read then), so rows
    that settle early cost nothing while a few slow ones go on.  ``messages`` (edges, width, n), if
    given, receives each row's final factor messages.
    """
    n_vars, width, n = unary.shape
    unary_log, unary_zero = _log_parts(unary)
    valid = ~graph.padding.T[graph.edge_var]  # (edges, width)
    factor_msg = np.where(valid[:, :, None], 1.0 / graph.cards[graph.edge_var][:, None, None], 0.0)
    factor_msg = np.broadcast_to(factor_msg, (graph.n_edges, width, n)).copy()
    beliefs = np.empty((n_vars, width, n))
    log_z = np.empty(n)
    residual = np.full(n, np.inf)
    first = np.full(n, max_iter)
    active = np.arange(n)
    sweeps = 0
    for sweep in range(1, max_iter + 1):
        sweeps = sweep
        new = _sweep(graph, factor_msg, unary_log, unary_zero)
        if damping:
            new = (1.0 - damping) * new + damping * factor_msg
        step = np.abs(new - factor_msg).max(axis=(0, 1))
        factor_msg = new
        residual[active] = step
        settled = step < tol
        if settled.any():
            done = active[settled]
            first[done] = sweep
            beliefs[..., done], log_z[done] = _beliefs(graph, factor_msg[..., settled], unary_log[..., settled],
                                                       unary_zero[..., settled])
            if messages is not None:
                messages[..., done] = factor_msg[..., settled]
            keep = ~settled
            active, factor_msg = active[keep], factor_msg[..., keep]
            unary_log, unary_zero = unary_log[..., keep], unary_zero[..., keep]
            if not len(active):
                break
    if len(active):
        beliefs[..., active], log_z[active] = _beliefs(graph, factor_msg, unary_log, unary_zero)
        if messages is not None:
            messages[..., active] = factor_msg
    return beliefs, residual, residual < tol, sweeps, first, log_z


def _sweep(graph: FactorGraph, factor_msg, unary_log, unary_zero) -> np.ndarray:
    """Every factor's new (normalised) message to each of its variables, from the current ones."""
    n = factor_msg.shape[2]
    totals_log, totals_zero, logs, zeros = _variable_totals(graph, factor_msg, unary_log, unary_zero)
    # a variable's message to a factor: its total without that factor's message
    to_factor = _exp_normalised(totals_log[graph.edge_var] - logs, totals_zero[graph.edge_var] - zeros > 0.5)
    new = np.zeros_like(factor_msg)
    for b, (tables, edges) in enumerate(graph.blocks):
        k = tables.ndim - 1
        incoming = [to_factor[edges[:, j], : tables.shape[1 + j]] for j in range(k)]
        for i in range(k):
            operands = [tables] + [incoming[j] for j in range(k) if j != i]
            out = graph.einsum(b, i, operands) if k > 1 else np.broadcast_to(tables[:, :, None], tables.shape + (n,))
            new[edges[:, i], : tables.shape[1 + i]] = out
    total = new.sum(axis=1, keepdims=True)
    return np.where(total > 0, new / np.where(total > 0, total, 1.0), 0.0)


def _beliefs(graph: FactorGraph, factor_msg, unary_log, unary_zero):
    """The variables' beliefs and the Bethe estimate of log Z = log p(evidence), per row.

    With factor beliefs ``b_f`` (the factor times its incoming messages) and
    variable beliefs ``b_v``,

        log Z ≈ Σ_f Σ b_f log(ψ_f / b_f) + Σ_v (d_v - 1) Σ b_v log b_v + Σ_v Σ b_v log φ_v,

    ``d_v`` being the number of CPD factors over ``v`` and ``φ_v`` its
    evidence (Yedidia, Freeman & Weiss 2005); exact on a polytree, an
    approximation with loops.  Terms 0 log 0 count as 0.
    """
    totals_log, totals_zero, logs, zeros = _variable_totals(graph, factor_msg, unary_log, unary_zero)
    beliefs = _exp_normalised(totals_log, totals_zero > 0.5)
    to_factor = _exp_normalised(totals_log[graph.edge_var] - logs, totals_zero[graph.edge_var] - zeros > 0.5)
    log_z = np.einsum("vsn,vsn->n", beliefs, unary_log) + np.einsum("v,vn->n", graph.degree - 1.0,
                                                                    _entropy_terms(beliefs, axes=(1,)))
    for tables, edges in graph.blocks:
        k = tables.ndim - 1
        joint = tables[..., None]
        for j in range(k):
            shape = [len(tables)] + [tables.shape[1 + a] if a == j else 1 for a in range(k)] + [-1]
            joint = joint * to_factor[edges[:, j], : tables.shape[1 + j]].reshape(shape)
        axes = tuple(range(1, k + 1))
        total = joint.sum(axis=axes, keepdims=True)
        joint = joint / np.where(total > 0, total, 1.0)
        with np.errstate(divide="ignore"):
            log_table = np.log(np.where(tables > 0, tables, 1.0))[..., None]
        log_z += (joint * log_table).sum(axis=axes).sum(axis=0) - _entropy_terms(joint, axes=axes).sum(axis=0)
    return beliefs, log_z


def _entropy_terms(p: np.ndarray, axes: tuple) -> np.ndarray:
    """Σ p log p over ``axes``, with 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0).sum(axis=axes)


def _variable_totals(graph: FactorGraph, factor_msg, unary_log, unary_zero):
    """Per variable: the log of its evidence times all its incoming messages, as (finite logs, zero counts)."""
    n_edges, width, n = factor_msg.shape
    logs, zeros = _log_parts(factor_msg)
    totals_log = (graph.incidence @ logs.reshape(n_edges, -1)).reshape(-1, width, n) + unary_log
    totals_zero = (graph.incidence @ zeros.reshape(n_edges, -1)).reshape(-1, width, n) + unary_zero
    return totals_log, totals_zero, logs, zeros


def _exp_normalised(logs: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """exp(logs) with the zeros put back, normalised over axis 1; all-zero slices stay zero."""
    logs = np.where(zero, -np.inf, logs)
    top = logs.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    values = np.exp(logs - top)
    total = values.sum(axis=1, keepdims=True)
    return values / np.where(total > 0, total, 1.0)


def loopy_belief_propagation(network, evidence=None, *, targets=None, damping: float = 0.0, max_iter: int = 200,
                             tol: float = 1e-8, memory_budget=None):
    """Approximate posterior marginals of discrete nodes by loopy belief propagation.

    Parameters
    ----------
    network : BayesianNetwork
        A fitted network whose relevant nodes are discrete.
    evidence : dict, DataFrame or Evidence, optional
        One case or many rows, as :meth:`pgm.BayesianNetwork.query` takes it
        (soft evidence as ``{node: {state: weight}}`` for one case).
    targets : sequence of str, optional
        The nodes wanted; None for every node.  Nodes that are neither
        targets, observed, nor ancestors of those are left out: their
        messages would be uniform.
    damping : float in [0, 1)
        Weight of the previous message in each update.
    max_iter : int
        Most sweeps.
    tol : float
        A row has converged when no factor message moved by more than this.
    memory_budget : int, optional
        Bytes for messages; rows are processed in chunks that fit.

    Returns
    -------
    marginals : dict of str to ndarray (states, n_rows)
    report : ConvergenceReport

    Examples
    --------
    >>> import pgm
    >>> from pgm.inference.loopy_bp import loopy_belief_propagation
    >>> asia = pgm.load("asia")
    >>> marginals, report = loopy_belief_propagation(asia, {"xray": "yes", "smoke": "no"}, targets=["lung"])
    >>> report.converged
    True
    >>> marginals["lung"][:, 0].round(4).tolist()
    [0.1423, 0.8577]
    """
    _check_options(damping, max_iter, tol)
    network._require_fitted("queried")
    ev = evidence if isinstance(evidence, Evidence) else as_evidence(network, evidence)
    if targets is None:
        relevant = set(network.nodes)
    else:
        wanted = set(targets) | ev.observed_somewhere()
        relevant = wanted | network.ancestors(wanted)
    nodes = [n for n in network.nodes if n in relevant]
    continuous = [n for n in nodes if not network[n].is_discrete]
    if continuous:
        raise StructureError(
            f"loopy belief propagation here handles discrete networks; {continuous[0]!r} is continuous "
            "(use method='exact', or 'likelihood_weighting' for discrete targets)"
        )
    graph = FactorGraph(network, nodes)
    budget = budget_bytes(memory_budget)
    chunk = max(1, budget // graph.bytes_per_row())
    n_rows = ev.n_rows
    beliefs = np.empty((len(nodes), graph.width, n_rows))
    residuals = np.empty(n_rows)
    converged = np.empty(n_rows, dtype=bool)
    firsts = np.empty(n_rows, dtype=np.int64)
    log_z = np.empty(n_rows)
    sweeps = 0
    for rows in row_chunks(n_rows, chunk):
        b, r, c, s, f, z = _propagate(graph, _unary(graph, ev, rows), damping=float(damping),
                                      max_iter=int(max_iter), tol=float(tol))
        beliefs[..., rows], residuals[rows], converged[rows], firsts[rows], log_z[rows] = b, r, c, f, z
        sweeps = max(sweeps, s)
    empty = beliefs.sum(axis=1) <= 0
    if empty.any():
        v, row = np.unravel_index(int(np.argmax(empty)), empty.shape)
        where = ev.describe_row(int(row))
        raise ImpossibleEvidenceError(
            f"loopy belief propagation found {where} contradictory: every state of {nodes[v]!r} has probability "
            "zero (p(e) = 0, or the messages ruled out every state)"
        )
    if not ev.observed_somewhere():
        log_z[:] = 0.0  # p(no evidence) = 1 exactly
    report = ConvergenceReport(sweeps, float(residuals.max()), bool(converged.all()), residuals, converged, firsts,
                               float(damping), float(tol), int(max_iter), log_z)
    wanted = nodes if targets is None else [t for t in targets]
    index = {n: i for i, n in enumerate(nodes)}
    marginals = {t: beliefs[index[t], : graph.cards[index[t]]] for t in wanted}
    return marginals, report



def child_messages(network, evidence: Evidence, nodes, *, damping: float = 0.0, max_iter: int = 200,
                   tol: float = 1e-8) -> tuple[list[np.ndarray], np.ndarray]:
    """Per node of ``nodes``: the product of the messages its children's CPDs send it, at loopy BP's fixed point.

    These are the "lambda" messages of Pearl's scheme: what the evidence below a
    node says about it.  Returns the messages (one array (states, n_rows) per
    node, normalised to sum to 1) and each row's convergence flag.
    :mod:`pgm.inference.importance` builds its proposal from them.
    """
    _check_options(damping, max_iter, tol)
    graph = FactorGraph(network, nodes)
    n = evidence.n_rows
    messages = np.empty((graph.n_edges, graph.width, n))
    residual_ok = np.empty(n, dtype=bool)
    chunk = max(1, budget_bytes(None) // graph.bytes_per_row())
    for rows in row_chunks(n, chunk):
        part = messages[..., rows]
        _, _, converged, _, _, _ = _propagate(graph, _unary(graph, evidence, rows), damping=damping,
                                              max_iter=max_iter, tol=tol, messages=part)
        messages[..., rows] = part
        residual_ok[rows] = converged
    own = np.zeros(graph.n_edges, dtype=bool)  # the edge from a node's own CPD to the node (the last of its scope)
    start = 0
    for node in graph.nodes:
        start += len(network[node].parents) + 1
        own[start - 1] = True
    logs, zeros = _log_parts(messages)
    out = []
    for v in range(len(graph.nodes)):
        edges = np.flatnonzero((graph.edge_var == v) & ~own)
        k = graph.cards[v]
        total_log = logs[edges, :k].sum(axis=0)
        zero = zeros[edges, :k].sum(axis=0) > 0.5
        out.append(_exp_normalised(total_log[None], zero[None])[0])
    return out, residual_ok
