"""Importance sampling with a proposal from loopy belief propagation, for networks where Gibbs sampling sticks.

Single-site Gibbs sampling cannot move between states that differ in a
node fixed by a deterministic CPD, so on networks such as hailfinder,
pathfinder or munin its chains stay where they started.  Importance sampling
has no chains to get stuck: each particle is drawn afresh, node by node in
topological order, and weighted by how much more (or less) probable it is
under the posterior than under the proposal.

The proposal is the evidence pre-propagation one of Yuan & Druzdzel (2003,
"An importance sampling algorithm based on evidence pre-propagation"): a
node is drawn from its CPD given the sampled parents times the "lambda"
messages its children send it at loopy belief propagation's fixed point --
what the evidence below the node says about it -- so particles head for the
evidence instead of being wasted on states it rules out.  On a polytree
those messages are exact and every particle has the same weight; with loops
they are close.  A share ``defensive`` of each draw comes from the CPD alone
(Hesterberg 1995), so the proposal is positive wherever the posterior is,
and the weights stay bounded by ``1 / defensive`` per node in the worst case.
Observed nodes are not drawn; they multiply the weight by their likelihood.

Estimates are self-normalised: ``p(s) = Σ w 1[x = s] / Σ w``.  Their
standard error is the largest of three estimates: the delta-method one from
the weights, ``sqrt(Σ w² (1[x = s] - p)²) / Σ w``; the spread of the
estimates of ``n_chains`` independent groups of particles (a check that
heavy-tailed weights do not make the first too small); and, for states seen
a few times or never, where both are near zero, ``1 / n``, the weight of one
effective particle (``n`` the effective sample size).  The report gives
Kish's effective sample size ``(Σ w)² / Σ w²`` per row.

Particles for all rows of evidence are drawn together, as one array of
(node, particle x row) codes, in batches that fit the memory budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pgm._random import as_generator
from pgm.errors import ImpossibleEvidenceError, InferenceTooLarge, StructureError
from pgm.inference.approximate import budget_bytes
from pgm.inference.evidence import Evidence, as_evidence
from pgm.inference.gibbs import _check_count, _Sampler
from pgm.inference.junction_tree import format_bytes

__all__ = ["ImportanceReport", "importance_sampling"]


@dataclass(frozen=True)
class ImportanceReport:
    """How an importance-sampling run went.

    Attributes
    ----------
    n_samples : int
        Particles per row of evidence.
    n_chains : int
        Independent groups of particles, whose spread checks the standard errors.
    ess : ndarray (n_rows,)
        Kish's effective sample size per row, ``(Σ w)² / Σ w²``.
    proposal_converged : ndarray of bool (n_rows,)
        Whether loopy belief propagation, which builds the proposal, converged for the row
        (if not, the proposal is worse, the weights vary more and the ESS says so).
    defensive : float
        The share of each draw taken from the CPD alone.
    """

    n_samples: int
    n_chains: int
    ess: np.ndarray
    proposal_converged: np.ndarray
    defensive: float

    @property
    def converged(self) -> bool:
        """Whether every row kept an effective sample size of at least 1% of its particles."""
        return bool((self.ess >= 0.01 * self.n_samples).all())

    def __str__(self) -> str:
        rows = len(self.ess)
        text = (f"importance sampling, {self.n_samples:,} particle(s) per row (proposal from loopy BP, "
                f"{self.defensive:g} from the CPDs alone): smallest effective sample size {self.ess.min():,.0f}")
        if rows > 1:
            text += f" over {rows:,} rows"
        if not self.proposal_converged.all():
            text += f"; loopy BP did not converge for {int((~self.proposal_converged).sum())} row(s)"
        return text

    def __repr__(self) -> str:
        return str(self)


def importance_sampling(network, evidence=None, groups=None, *, n_samples: int = 100_000, n_chains: int = 8,
                        defensive: float = 0.1, seed=None, memory_budget=None):
    """Estimate posterior tables of discrete nodes by importance sampling, for one case or many rows.

    Parameters
    ----------
    network : BayesianNetwork
        A fitted network whose relevant nodes are discrete.
    evidence : dict, DataFrame or Evidence, optional
        One case or many rows with missing values (soft evidence for one case).
    groups : sequence of tuple of str, optional
        The tables wanted: each tuple's joint posterior; None for every node's marginal.
    n_samples : int
        Particles per row of evidence.
    n_chains : int
        Independent groups the particles are dealt into, for the check on the standard errors.
    defensive : float in (0, 1)
        Share of each draw taken from the CPD alone.
    seed : None, int or numpy.random.Generator
    memory_budget : int, optional
        Bytes for one batch of particles; the particles are drawn in batches that fit.

    Returns
    -------
    estimates : dict of tuple to ndarray, shape ``(*cards, n_rows)``
    standard_errors : dict of tuple to ndarray, shape ``(*cards, n_rows)``
    report : ImportanceReport

    Examples
    --------
    >>> import pgm
    >>> from pgm.inference.importance import importance_sampling
    >>> asia = pgm.load("asia")      # either = tub or lung: Gibbs sampling sticks here
    >>> est, se, report = importance_sampling(asia, {"dysp": "yes"}, [("lung",)], n_samples=20_000, seed=0)
    >>> exact = asia.query("lung", {"dysp": "yes"}).probabilities
    >>> bool((abs(est[("lung",)][:, 0] - exact) < 4 * se[("lung",)][:, 0]).all())
    True
    """
    n_samples = _check_count("n_samples", n_samples, 2)
    n_chains = _check_count("n_chains", n_chains, 2)
    if n_samples < 2 * n_chains:
        raise ValueError(f"n_samples ({n_samples}) must be at least twice n_chains ({n_chains})")
    if isinstance(defensive, bool) or not isinstance(defensive, (int, float, np.floating)) or not 0 < defensive < 1:
        raise ValueError(f"defensive must be a number in (0, 1), got {defensive!r}")
    network._require_fitted("queried")
    ev = evidence if isinstance(evidence, Evidence) else as_evidence(network, evidence)
    groups = [(n,) for n in network.nodes] if groups is None else [tuple(g) for g in groups]
    wanted = {n for g in groups for n in g} | ev.observed_somewhere()
    relevant = wanted | network.ancestors(wanted)
    nodes = [n for n in network.topological_order() if n in relevant]
    continuous = [n for n in nodes if not network[n].is_discrete]
    if continuous:
        raise StructureError(f"importance sampling here handles discrete networks; {continuous[0]!r} is "
                             "continuous (use method='exact')")
    from pgm.inference.loopy_bp import child_messages

    lambdas, proposal_ok = child_messages(network, ev, nodes)
    sampler = _Sampler(network, nodes)
    n_rows = ev.n_rows
    cells = [math.prod(len(network.states(n)) for n in g) for g in groups]
    per_particle = 8 * (2 * len(nodes) + 4 * max(sampler.cards) + 4) * n_rows
    budget = budget_bytes(memory_budget)
    batch = min(n_samples, budget // per_particle)
    batch -= batch % n_chains
    if batch < n_chains:
        raise InferenceTooLarge(
            f"importance sampling needs about {format_bytes(per_particle * n_chains)} for {n_chains} particles of "
            f"{n_rows:,} row(s), above the memory budget of {format_bytes(budget)}; use fewer rows at a time")
    rng = as_generator(seed)
    index = {n: i for i, n in enumerate(nodes)}
    positions = [[index[n] for n in g] for g in groups]
    # running sums per (cell, chain, row), in units of exp(reference) per row
    sums = [np.zeros((2, k, n_chains, n_rows)) for k in cells]  # Σ w 1[cell], Σ w² 1[cell]
    totals = np.zeros((2, n_chains, n_rows))
    reference = np.full(n_rows, -np.inf)
    done = 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        while done < n_samples:
            size = min(batch, n_samples - done)
            size -= size % n_chains
            if size < n_chains:
                break
            state, log_w = _draw_particles(sampler, ev, nodes, lambdas, size, float(defensive), rng)
            log_w = log_w.reshape(size, n_rows)
            top = log_w.max(axis=0)
            new_reference = np.maximum(reference, np.where(np.isfinite(top), top, -np.inf))
            shift = np.where(np.isfinite(reference), np.exp(reference - new_reference), 0.0)
            for s in sums:
                s[0] *= shift
                s[1] *= shift ** 2
            totals[0] *= shift
            totals[1] *= shift ** 2
            reference = new_reference
            w = np.where(np.isfinite(log_w), np.exp(log_w - np.where(np.isfinite(reference), reference, 0.0)), 0.0)
            chain = (np.arange(done, done + size) % n_chains)[:, None]
            flat_chain_row = (chain * n_rows + np.arange(n_rows)[None, :]).ravel()
            totals[0] += np.bincount(flat_chain_row, w.ravel(), n_chains * n_rows).reshape(n_chains, n_rows)
            totals[1] += np.bincount(flat_chain_row, (w * w).ravel(), n_chains * n_rows).reshape(n_chains, n_rows)
            for g, where in enumerate(positions):
                cell = np.zeros(size * n_rows, dtype=np.int64)
                for v in where:
                    cell = cell * sampler.cards[v] + state[v]
                key = cell * (n_chains * n_rows) + flat_chain_row
                length = cells[g] * n_chains * n_rows
                sums[g][0] += np.bincount(key, w.ravel(), length).reshape(cells[g], n_chains, n_rows)
                sums[g][1] += np.bincount(key, (w * w).ravel(), length).reshape(cells[g], n_chains, n_rows)
            done += size
    weight = totals[0].sum(axis=0)
    if (weight <= 0).any():
        row = int(np.argmax(weight <= 0))
        raise ImpossibleEvidenceError(
            f"importance sampling found {ev.describe_row(row)} impossible: every particle has weight zero")
    square = totals[1].sum(axis=0)
    estimates, errors = {}, {}
    for g, group in enumerate(groups):
        shape = tuple(len(network.states(n)) for n in group) + (n_rows,)
        p, se = _summaries(sums[g][0], sums[g][1], totals[0], weight, weight ** 2 / square)
        estimates[group], errors[group] = p.reshape(shape), se.reshape(shape)
    report = ImportanceReport(done, n_chains, weight ** 2 / square, proposal_ok, float(defensive))
    return estimates, errors, report


def _draw_particles(sampler: _Sampler, ev: Evidence, nodes, lambdas, size: int, defensive: float, rng):
    """``size`` particles for every row: codes (nodes, size x rows) and log weights (size x rows,)."""
    n_rows = ev.n_rows
    columns = size * n_rows
    state = np.zeros((len(nodes), columns), dtype=np.int64)
    log_w = np.zeros(columns)
    for v, node in enumerate(nodes):
        k = sampler.cards[v]
        log_p = sampler.log_tables[v][sampler.offsets(v, state)[None, :] + sampler.states[v]]  # (k, columns)
        if node in ev.soft:
            with np.errstate(divide="ignore"):
                log_p = log_p + np.log(ev.soft[node])[:, None]
        codes = np.tile(ev.codes[node].astype(np.int64), size) if node in ev.codes else None
        observed = codes >= 0 if codes is not None else np.zeros(columns, dtype=bool)
        prior = _normalised_exp(log_p)
        with np.errstate(divide="ignore"):
            guided = _normalised_exp(log_p + np.log(np.tile(lambdas[v], size)))
        q = (1.0 - defensive) * guided + defensive * prior
        u = rng.random(columns)
        drawn = np.minimum((np.cumsum(q, axis=0) < u[None, :]).sum(axis=0), k - 1)
        chosen = np.where(observed, codes if codes is not None else 0, drawn)
        taken = log_p[chosen, np.arange(columns)]
        with np.errstate(divide="ignore"):
            proposal = np.where(observed, 0.0, np.log(q[chosen, np.arange(columns)]))
        log_w += taken - proposal
        state[v] = chosen
    return state, log_w


def _normalised_exp(logs: np.ndarray) -> np.ndarray:
    """exp(logs) normalised over axis 0; a column with no finite entry is uniform (it will weigh zero)."""
    top = logs.max(axis=0, keepdims=True)
    values = np.exp(logs - np.where(np.isfinite(top), top, 0.0))
    total = values.sum(axis=0, keepdims=True)
    return np.where(total > 0, values / np.where(total > 0, total, 1.0), 1.0 / logs.shape[0])


def _summaries(first: np.ndarray, second: np.ndarray, chain_weight: np.ndarray, weight: np.ndarray,
               ess: np.ndarray):
    """Estimates (cells, rows) and their standard errors from per-chain sums (cells, chains, rows).

    ``first`` = Σ w 1[cell], ``second`` = Σ w² 1[cell], per chain; ``chain_weight`` = Σ w per chain;
    ``ess`` the effective sample size per row.
    """
    p = first.sum(axis=1) / weight
    # delta method: Σ w² (1 - p)² over the cell plus Σ w² p² over the rest = Σ w² 1 (1 - 2p) + p² Σ w²
    square_all = second.sum(axis=0).sum(axis=0)
    variance = (second.sum(axis=1) * (1 - 2 * p) + p ** 2 * square_all) / weight ** 2
    delta = np.sqrt(np.maximum(variance, 0.0))
    # the spread of the chains' own estimates
    chains = chain_weight.shape[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        per_chain = first / chain_weight[None]
    usable = chain_weight[None] > 0
    count = usable.sum(axis=1)
    centred = np.where(usable, per_chain - p[:, None], 0.0)
    spread = np.sqrt((centred ** 2).sum(axis=1) / np.maximum(count - 1, 1) / np.maximum(count, 1))
    spread = np.where(count >= 2, spread, np.inf if chains > 1 else 0.0)
    # a floor for states seen a few times or never, where both are near zero: the weight of one
    # effective particle, 1 / n (a state no particle reached can still have probability of that order)
    return p, np.maximum(np.maximum(delta, spread), 1.0 / ess)
