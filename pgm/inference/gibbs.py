"""Gibbs sampling for discrete networks: many chains and rows of evidence at once, with convergence diagnostics.

Single-site Gibbs visits the unobserved nodes in topological order and
draws each from its distribution given every other node, which depends
only on its Markov blanket:

    p(x_v | rest) ∝ p(x_v | parents(v)) · ∏_{c child of v} p(x_c | parents(c)),

one lookup in each of those CPD tables per state of ``v``.  It cannot move
a node that a deterministic CPD ties to its neighbours, so by default
(``blocked=True``) the sampler is *blocked* and *collapsed*:

- nodes that are neither observed nor ancestors of evidence are barren --
  summed out, their CPDs are one -- so the chains run over the others
  only, and the barren nodes are drawn from their CPDs after every sweep;
- the other nodes are drawn in blocks, each block jointly and exactly
  given the rest by bucket elimination (:mod:`pgm.inference.gibbs_blocks`),
  the blocks grown around the most deterministic CPDs first, so that the
  nodes such a CPD ties together move together.

The state of the
sampler is one integer array (node, column), a column being one chain for
one row of evidence, so a sweep costs a few array operations per node
whatever the number of chains and rows.  Chains start from an ancestral
sample with the observed nodes clamped.  Such a start can have probability
zero (an observed node impossible given its sampled parents); in networks
with structural zeros the first half of the burn-in therefore runs on
tables whose zeros are raised to a falling floor, and a chain still outside
the posterior's support after the burn-in is restarted from the state of
another chain of its row (a row with no chain inside is refused as
impossible evidence).  Kept draws always use the true tables.

Estimates are frequencies over the kept draws (after ``burn_in`` sweeps,
every ``thin``-th).  Their Monte Carlo standard errors come from *batch
means*: each chain's kept draws are cut into consecutive batches, and the
spread of the batch frequencies around the overall frequency, divided by
the number of batches, estimates the variance of the estimate (Flegal &
Jones 2010); the effective sample size is ``p (1 - p) / variance``.
Convergence is judged by the *split R-hat* of each state's indicator
(Gelman et al. 2013, *Bayesian Data Analysis*, 3rd ed., section 11.4;
Vehtari et al. 2021): every chain is split in halves, and the variance
between the halves' frequencies is compared with the variance within them;
values near 1 say that the chains agree, values well above 1 (say > 1.01)
that they have not mixed -- for example when a deterministic CPD traps a
chain in one region, the usual failure of Gibbs sampling.

Reference: Geman & Geman (1984); Koller & Friedman (2009), section 12.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pgm._random import as_generator
from pgm.errors import ImpossibleEvidenceError, InferenceTooLarge, StructureError
from pgm.inference.approximate import budget_bytes
from pgm.inference.evidence import Evidence, as_evidence
from pgm.inference.gibbs_blocks import DEFAULT_BLOCK_ENTRIES, block_entries_needed, block_partitions, draw_block
from pgm.inference.junction_tree import format_bytes

__all__ = ["GibbsReport", "gibbs_sampling"]

#: Batches per chain for the batch-means standard errors (an even number: the halves give split R-hat).
_BATCHES = 10

#: Effective draws of a state below which its standard error gets the binomial floor (see ``_summaries``).
_RARE = 10


@dataclass(frozen=True)
class GibbsReport:
    """How a Gibbs run went.

    Attributes
    ----------
    n_chains, n_draws, burn_in, thin : int
        Chains per row of evidence, kept draws per chain, sweeps discarded
        before keeping any, sweeps between kept draws.
    r_hat : pandas.Series
        Per target (a node, or several joined by ", "): the largest split
        R-hat over its states (and rows).
    ess : pandas.Series
        Per target: the smallest effective sample size over its states
        whose estimate is strictly between 0 and 1 (and over rows).
    rescued : int
        Chains that ended the burn-in in a state of probability zero and
        were restarted from another chain of their row.
    n_blocks : int
        Blocks drawn per sweep (over both partitions; 0 for single-site Gibbs).
    n_barren : int
        Nodes drawn from their CPDs after each sweep instead of by the chains.
    """

    n_chains: int
    n_draws: int
    burn_in: int
    thin: int
    r_hat: pd.Series
    ess: pd.Series
    rescued: int = 0
    n_blocks: int = 0
    n_barren: int = 0

    @property
    def converged(self) -> bool:
        """Whether every split R-hat is below 1.01 (Vehtari et al. 2021's threshold)."""
        return bool((self.r_hat.fillna(1.0) < 1.01).all())

    def __str__(self) -> str:
        worst = self.r_hat.idxmax() if len(self.r_hat) else None
        fewest = self.ess.idxmin() if len(self.ess.dropna()) else None
        verdict = ("chains agree" if self.converged else
                   "chains DISAGREE (R-hat >= 1.01; method='importance' does not need chains to mix)")
        how = (f"{self.n_blocks} block(s) per sweep, {self.n_barren} barren node(s) drawn from their CPDs"
               if self.n_blocks else "single-site")
        text = (f"Gibbs sampling ({how}), {self.n_chains} chain(s) x {self.n_draws:,} kept draws (burn-in "
                f"{self.burn_in}, thin {self.thin}): {verdict}")
        if worst is not None:
            text += f"; largest split R-hat {self.r_hat[worst]:.4f} ({worst})"
        if fewest is not None:
            text += f"; smallest ESS {self.ess[fewest]:,.0f} ({fewest})"
        if self.rescued:
            text += f"; {self.rescued} chain(s) restarted after the burn-in from a state of probability zero"
        return text

    def __repr__(self) -> str:
        return str(self)


def _check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class _Sampler:
    """Index arithmetic for drawing every node from its Markov-blanket conditional, for many columns."""

    def __init__(self, network, nodes):
        self.nodes = list(nodes)
        index = {n: i for i, n in enumerate(self.nodes)}
        self.cards = [len(network.states(n)) for n in self.nodes]
        self.states = [np.arange(k)[:, None] for k in self.cards]
        self.log_tables, self.parents = [], []
        for node in self.nodes:
            cpd = network[node]
            table = np.asarray(cpd.table, dtype=np.float64)
            with np.errstate(divide="ignore"):
                self.log_tables.append(np.log(table).ravel())
            strides = np.cumprod((table.shape[1:] + (1,))[::-1])[::-1]  # flat strides of (*parents, node)
            self.parents.append((np.array([index[p] for p in cpd.parents], dtype=np.intp),
                                 np.asarray(strides[:-1], dtype=np.int64)))
        # for each node, each child: (child, the child's other parents and their strides, the node's stride)
        self.children = [[] for _ in self.nodes]
        for c, node in enumerate(self.nodes):
            ids, strides = self.parents[c]
            for j, p in enumerate(ids):
                others = np.delete(np.arange(len(ids)), j)
                self.children[p].append((c, ids[others], strides[others], int(strides[j])))

    def offsets(self, v: int, codes: np.ndarray) -> np.ndarray:
        """Flat offset of each column's parent configuration in node ``v``'s table."""
        ids, strides = self.parents[v]
        if not len(ids):
            return np.zeros(codes.shape[1], dtype=np.int64)
        return strides @ codes[ids]

    def floored(self, floor: float) -> list:
        """The log tables with every probability raised to at least ``floor`` (for the annealed burn-in)."""
        return [np.maximum(t, np.log(floor)) for t in self.log_tables]

    def conditional(self, v: int, codes: np.ndarray, soft, tables=None) -> np.ndarray:
        """log p(x_v = s | Markov blanket) up to a constant, shape (states, columns)."""
        tables = self.log_tables if tables is None else tables
        k = self.states[v]
        weights = tables[v][self.offsets(v, codes)[None, :] + k]
        for c, ids, strides, stride in self.children[v]:
            base = (strides @ codes[ids] if len(ids) else 0) + codes[c]
            weights = weights + tables[c][base[None, :] + k * stride]
        if soft is not None:
            weights = weights + soft[:, None]
        return weights


def _draw(log_weights: np.ndarray, current: np.ndarray, rng) -> np.ndarray:
    """One state per column from unnormalised log weights; a column with no positive weight keeps its state.

    The Gumbel-max trick: the argmax of log weights plus independent Gumbel noise is a draw from the
    normalised weights -- three array operations, whatever the number of states.
    """
    noisy = log_weights + rng.gumbel(size=log_weights.shape)
    drawn = noisy.argmax(axis=0)
    top = noisy[drawn, np.arange(noisy.shape[1])]
    stuck = top == -np.inf
    if stuck.any():
        drawn = np.where(stuck, current, drawn)
    return drawn


def gibbs_sampling(network, evidence=None, groups=None, *, n_samples: int = 100_000, n_chains: int | None = None,
                   burn_in: int = 500, thin: int = 1, blocked: bool = True,
                   block_entries: int = DEFAULT_BLOCK_ENTRIES, seed=None, memory_budget=None):
    """Estimate posterior tables of discrete nodes by Gibbs sampling, for one case or many rows.

    Parameters
    ----------
    network : BayesianNetwork
        A fitted network whose relevant nodes are discrete.
    evidence : dict, DataFrame or Evidence, optional
        One case or many rows with missing values (soft evidence for one case).
    groups : sequence of tuple of str, optional
        The tables wanted: each tuple's joint posterior; None for every node's marginal.
    n_samples : int
        Kept draws per row of evidence, over all chains.
    n_chains : int, optional
        Chains per row; default 32 for one case, 4 for many rows.
    burn_in, thin : int
        Sweeps discarded first (at most one when the blocks cut no CPD's
        nodes apart: the draws are then exact and independent); sweeps per kept draw.
    blocked : bool
        Draw blocks of nodes jointly and barren nodes from their CPDs (the
        default); False for single-site Gibbs over every relevant node.
    block_entries : int
        Most table entries (per chain) in one bucket of a block's elimination.
    seed : None, int or numpy.random.Generator
    memory_budget : int, optional
        Bytes for the sampler's state, draws, counts and block tables; refused before sampling if above.

    Returns
    -------
    estimates : dict of tuple to ndarray, shape ``(*cards, n_rows)``
    standard_errors : dict of tuple to ndarray, shape ``(*cards, n_rows)``
    report : GibbsReport

    Examples
    --------
    >>> import pgm
    >>> from pgm.inference.gibbs import gibbs_sampling
    >>> net = pgm.load("sachs")
    >>> est, se, report = gibbs_sampling(net, {"Akt": "LOW"}, [("Erk",)], n_samples=20_000, seed=0)
    >>> exact = net.query("Erk", evidence={"Akt": "LOW"}).probabilities
    >>> bool((abs(est[("Erk",)][:, 0] - exact) < 4 * se[("Erk",)][:, 0] + 1e-3).all()), report.converged
    (True, True)
    """
    n_samples = _check_count("n_samples", n_samples, 4)
    burn_in = _check_count("burn_in", burn_in, 0)
    thin = _check_count("thin", thin, 1)
    block_entries = _check_count("block_entries", block_entries, 1)
    network._require_fitted("queried")
    ev = evidence if isinstance(evidence, Evidence) else as_evidence(network, evidence)
    n_chains = _check_count("n_chains", (4 if ev.batched else 32) if n_chains is None else n_chains, 1)
    groups = [(n,) for n in network.nodes] if groups is None else [tuple(g) for g in groups]
    wanted = {n for g in groups for n in g} | ev.observed_somewhere()
    relevant = wanted | network.ancestors(wanted)
    nodes = [n for n in network.topological_order() if n in relevant]
    continuous = [n for n in nodes if not network[n].is_discrete]
    if continuous:
        raise StructureError(
            f"Gibbs sampling here handles discrete networks; {continuous[0]!r} is continuous "
            "(use method='exact')"
        )
    sampler = _Sampler(network, nodes)
    n_rows, columns = ev.n_rows, n_chains * ev.n_rows
    draws = max(n_samples // n_chains, 2)
    batches = min(_BATCHES, draws - draws % 2)
    size = draws // batches
    draws = size * batches
    cells = [math.prod(len(network.states(n)) for n in g) for g in groups]
    needed = 8 * (2 * len(nodes) + size * len(nodes)) * columns + 4 * sum(cells) * batches * columns
    budget = budget_bytes(memory_budget)
    if needed > budget:
        raise InferenceTooLarge(
            f"Gibbs sampling with {n_chains} chain(s) for {n_rows:,} row(s) needs about {format_bytes(needed)}, "
            f"above the memory budget of {format_bytes(budget)}; use fewer rows at a time, fewer chains "
            "(n_chains=) or raise memory_budget="
        )
    rng = as_generator(seed)
    index = {n: i for i, n in enumerate(nodes)}
    clamp = {}
    for node in nodes:
        if node in ev.codes:
            codes = np.tile(ev.codes[node].astype(np.int64), n_chains)
            clamp[index[node]] = (codes >= 0, codes)
    with np.errstate(divide="ignore"):
        soft = {v: np.log(ev.soft[n]) for n, v in index.items() if n in ev.soft}
    state = _initial_state(sampler, clamp, soft, columns, rng)
    free = [v for v in range(len(nodes)) if v not in clamp or not clamp[v][0].all()]
    if blocked:
        # nodes that are neither observed nor above evidence are barren: their CPDs sum to one out of the
        # posterior of the rest, so the chains run over the others and they are drawn from their CPDs after
        # every sweep (collapsed: no chain ever waits on them)
        evidenced = ev.observed_somewhere() | set(ev.soft)
        above = evidenced | network.ancestors(evidenced)
        chained = [v for v in free if nodes[v] in above]
        barren = [v for v in free if nodes[v] not in above]
        partitions = block_partitions(sampler, chained, factors=[index[n] for n in nodes if n in above],
                                      cluster_entries=block_entries)
        block_bytes = 16 * columns * max((block_entries_needed(sampler, b) for p in partitions for b in p), default=0)
        if needed + block_bytes > budget:
            raise InferenceTooLarge(
                f"blocked Gibbs sampling with {n_chains} chain(s) for {n_rows:,} row(s) needs about "
                f"{format_bytes(needed + block_bytes)}, above the memory budget of {format_bytes(budget)}; use fewer "
                "rows at a time, fewer chains (n_chains=), smaller blocks (block_entries=) or raise memory_budget=")
        unary = {v: np.exp(w) for v, w in _unary_weights(sampler, chained, clamp, soft, columns).items()}
        probabilities = {None: [np.exp(t) for t in sampler.log_tables]}  # per stage of the burn-in's tables

    def sweep(tables=None):
        if blocked:
            key = None if tables is None else id(tables)
            if key not in probabilities:
                probabilities.clear()
                probabilities.update({None: [np.exp(t) for t in sampler.log_tables], key: [np.exp(t) for t in tables]})
            for partition in partitions:
                for block in partition:
                    draw_block(sampler, block, state, unary, probabilities[key], rng)
            for v, (seen, codes) in clamp.items():
                state[v] = np.where(seen, codes, state[v])
            for v in barren:
                k = np.arange(sampler.cards[v])[:, None]
                state[v] = _draw(sampler.log_tables[v][sampler.offsets(v, state)[None, :] + k], state[v], rng)
            return
        for v in free:
            drawn = _draw(sampler.conditional(v, state, soft.get(v), tables), state[v], rng)
            if v in clamp:
                drawn = np.where(clamp[v][0], clamp[v][1], drawn)
            state[v] = drawn

    if blocked and len(partitions) == 1:
        # no pair of nodes sharing a CPD was cut: the blocks are independent given the evidence, each drawn
        # exactly, so each sweep is an exact draw from the posterior, independent of the last, and one sweep
        # (off the ancestral start) is all the burn-in there is to do
        burn_in = min(burn_in, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for tables, sweeps in _burn_in_schedule(sampler, burn_in):
            for _ in range(sweeps):
                sweep(tables)
        rescued = _rescue(sampler, state, soft, n_chains, ev)
        positions = [[index[n] for n in g] for g in groups]
        counts = [np.zeros((k, n_chains, batches, n_rows), dtype=np.int32) for k in cells]
        buffer = np.empty((size, len(nodes), columns), dtype=np.int64)
        for b in range(batches):
            for d in range(size):
                for _ in range(thin):
                    sweep()
                buffer[d] = state
            for g, where in enumerate(positions):
                counts[g][:, :, b] = _tally(buffer, where, [sampler.cards[v] for v in where], n_chains, n_rows)
    estimates, errors, r_hats, sizes = {}, {}, {}, {}
    for g, group in enumerate(groups):
        shape = tuple(len(network.states(n)) for n in group) + (n_rows,)
        p, se, r_hat, ess = _summaries(counts[g], size)
        estimates[group], errors[group] = p.reshape(shape), se.reshape(shape)
        label = ", ".join(group)
        r_hats[label] = float(np.nanmax(r_hat)) if not np.isnan(r_hat).all() else 1.0
        inside = (p > 0) & (p < 1)
        sizes[label] = float(ess[inside].min()) if inside.any() else float(n_chains * draws)
    report = GibbsReport(n_chains, draws, burn_in, thin, pd.Series(r_hats, name="r_hat"), pd.Series(sizes, name="ess"),
                         rescued, sum(len(p) for p in partitions) if blocked else 0,
                         len(barren) if blocked else 0)
    return estimates, errors, report


def _unary_weights(sampler: _Sampler, free: list, clamp: dict, soft: dict, columns: int) -> dict:
    """Per free node, log weights (states, columns): soft evidence, and -inf off the observed state where
    a column observes the node (rows of a batch that observe it)."""
    out = {}
    for v in free:
        weights = np.zeros((sampler.cards[v], columns))
        if v in soft:
            weights = weights + soft[v][:, None]
        if v in clamp:
            seen, codes = clamp[v]
            off = (np.arange(sampler.cards[v])[:, None] != codes[None, :]) & seen[None, :]
            weights = np.where(off, -np.inf, weights)
        if v in soft or v in clamp:
            out[v] = weights
    return out


def _tally(buffer: np.ndarray, where: list, cards: list, n_chains: int, n_rows: int) -> np.ndarray:
    """Counts of each joint state of the nodes at ``where`` over a batch of draws: (cells, chains, rows)."""
    size, _, columns = buffer.shape
    cell = np.zeros((size, columns), dtype=np.int64)
    for v, k in zip(where, cards):
        cell = cell * k + buffer[:, v]
    cells = math.prod(cards)
    flat = (cell * columns + np.arange(columns)).ravel()
    return np.bincount(flat, minlength=cells * columns).reshape(cells, n_chains, n_rows)


#: Probability floors of the annealed first half of the burn-in, for networks with structural zeros.
_FLOORS = (1e-2, 1e-4, 1e-7, 1e-12)


def _burn_in_schedule(sampler: _Sampler, burn_in: int) -> list:
    """(tables, sweeps) stages of the burn-in: annealed from floored tables to the true ones.

    A chain started by ancestral sampling with the evidence clamped can sit
    in a state of probability zero (an observed node impossible given its
    sampled parents), and with deterministic CPDs no single-node move leads
    out.  Raising every zero to a floor makes such states merely improbable,
    so the chains climb towards states that explain the evidence; the floor
    falls stage by stage, and the second half of the burn-in -- and every
    kept draw -- uses the true tables, so the draws' distribution is the
    posterior's.  Networks without zeros skip the annealing.
    """
    if not any(np.isneginf(t).any() for t in sampler.log_tables) or burn_in < 2 * len(_FLOORS):
        return [(None, burn_in)]
    stage = burn_in // 2 // len(_FLOORS)
    return [(sampler.floored(f), stage) for f in _FLOORS] + [(None, burn_in - stage * len(_FLOORS))]


def _log_probability(sampler: _Sampler, state: np.ndarray, soft: dict) -> np.ndarray:
    """log p(state) per column (the CPDs' product, times the soft evidence)."""
    log_p = np.zeros(state.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        for v in range(len(sampler.nodes)):
            log_p += sampler.log_tables[v][sampler.offsets(v, state) + state[v]]
            if v in soft:
                log_p += soft[v][state[v]]
    return log_p


def _rescue(sampler: _Sampler, state: np.ndarray, soft: dict, n_chains: int, ev: Evidence) -> int:
    """Move chains that ended the burn-in in a state of probability zero onto another chain of their row.

    Such a chain would never leave (every single-node move from it keeps a
    zero factor, or it would have taken one); copying the state of a chain
    of the same row that did reach a possible state restarts it inside the
    posterior's support, where it then runs on its own random numbers.  A
    row whose every chain is stuck is refused.  Returns the number moved.
    """
    stuck = np.isneginf(_log_probability(sampler, state, soft)).reshape(n_chains, ev.n_rows)
    if not stuck.any():
        return 0
    hopeless = stuck.all(axis=0)
    if hopeless.any():
        row = int(np.argmax(hopeless))
        raise ImpossibleEvidenceError(
            f"every Gibbs chain for {ev.describe_row(row)} is in a state of probability zero after the burn-in: "
            "the evidence is impossible (p(e) = 0), or deterministic CPDs keep single-node moves from reaching "
            "a possible state; use method='exact' or 'loopy_bp', or a longer burn_in="
        )
    donor = np.argmax(~stuck, axis=0)  # per row: the first chain in the support
    chains, rows = np.nonzero(stuck)
    state[:, chains * ev.n_rows + rows] = state[:, donor[rows] * ev.n_rows + rows]
    return int(stuck.sum())


def _initial_state(sampler: _Sampler, clamp: dict, soft: dict, columns: int, rng) -> np.ndarray:
    """An ancestral sample per column, the observed nodes clamped to their values (and soft evidence weighed in)."""
    state = np.zeros((len(sampler.nodes), columns), dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for v in range(len(sampler.nodes)):
            k = np.arange(sampler.cards[v])[:, None]
            weights = sampler.log_tables[v][sampler.offsets(v, state)[None, :] + k]
            if v in soft:
                weights = weights + soft[v][:, None]
            drawn = _draw(weights, state[v], rng)
            if v in clamp:
                drawn = np.where(clamp[v][0], clamp[v][1], drawn)
            state[v] = drawn
    return state


def _summaries(counts: np.ndarray, size: int):
    """From per-batch counts (cells, chains, batches, rows): estimate, standard error, split R-hat, ESS."""
    cells, chains, batches, rows = counts.shape
    means = counts / size
    p = means.mean(axis=(1, 2))
    spread = ((means - p[:, None, None, :]) ** 2).sum(axis=(1, 2))
    total = chains * batches
    variance = spread / (total - 1) / total if total > 1 else np.zeros_like(p)
    se = np.sqrt(variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        ess = np.where(variance > 0, p * (1 - p) / variance, float(total * size))
    # a state drawn only a few effective times (or never) has no spread to measure: batch means would
    # claim it nearly exact.  Its standard error is at least a binomial one from one added draw on each
    # side, p' = (p n + 1) / (n + 2), n the table's smallest effective sample size (at most the draws).
    inside = (p > 0) & (p < 1)
    row_ess = np.where(inside, np.minimum(ess, total * size), np.inf).min(axis=0)
    row_ess = np.where(np.isfinite(row_ess), row_ess, float(total * size))[None, :]
    rare = np.minimum(p, 1 - p) * row_ess < _RARE
    padded = (p * row_ess + 1) / (row_ess + 2)
    se = np.where(rare, np.maximum(se, np.sqrt(padded * (1 - padded) / row_ess)), se)
    half = batches // 2
    length = half * size
    halves = np.concatenate([counts[:, :, :half].sum(axis=2), counts[:, :, half:].sum(axis=2)], axis=1) / length
    within = (length / max(length - 1, 1) * halves * (1 - halves)).mean(axis=1)
    between = length * halves.var(axis=1, ddof=1) if halves.shape[1] > 1 else np.zeros_like(within)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (length - 1) / length * within + between / length
        r_hat = np.where(within > 0, np.sqrt(pooled / within), np.where(between > 0, np.inf, 1.0))
    return p, se, r_hat, ess
