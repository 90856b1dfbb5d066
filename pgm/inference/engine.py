"""Exact inference for discrete, linear Gaussian and conditional linear Gaussian networks.

One computation serves every question -- posteriors, p(evidence), MPE --
for one case or for many rows with their own missing values:

1. *Prune.*  Only the targets, the observed nodes and their ancestors matter:
   every other node is barren and sums to one.
2. *Split.*  Discrete nodes whose state is the same in every row are sliced
   out of the tables (for one case: all of them).  The remaining discrete
   nodes go into a junction tree (:mod:`pgm.inference.junction_tree`);
   disconnected parts of its moral graph -- the nodes d-separated from the
   targets by the evidence -- become separate trees and never widen the
   targets' cliques.
3. *Continuous nodes.*  They split into blocks that no continuous edge
   joins (:mod:`pgm.inference.gaussian_blocks`).  Given the configuration
   of the discrete nodes a block depends on, the block is one Gaussian; for
   every row and every such configuration,
   :mod:`pgm.inference.gaussian_elimination` computes log p(observed values
   of the block | configuration) and the posterior moments.  The first
   enters the junction tree as one per-row factor over the block's discrete
   parents; the posterior over them weighs the moments into a Gaussian
   mixture.  The blocks' configurations are bounded by the memory budget.
4. *Rows in chunks* sized so that one chunk's tables fit the memory budget,
   shared between the cores.

Memory is priced before anything is allocated: the static tables
(:meth:`JunctionTree.static_bytes`) and the work of one row are checked
against the budget, and only then are the tables built.  Many rows go
through one shared tree or one pruned tree per pattern of observed nodes
(a batched query: per requisite part, :mod:`pgm.inference.requisite`),
and all posteriors through the trees of each node's relevant part, as the
cost model of :mod:`pgm.inference.strategy` chooses.  Compiled plans are
kept in the network's bounded cache (:mod:`pgm.inference.cache`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from pgm._chunks import map_chunks, row_chunks
from pgm.errors import ImpossibleEvidenceError, InferenceTooLarge, NodeError
from pgm.inference.evidence import Evidence, as_evidence, likelihood_vectors, restricted_table
from pgm.inference.gaussian_blocks import GaussianBlocks, block_bytes_per_row, continuous_blocks, factor_scopes
from pgm.inference.junction_tree import JunctionTree, compile_junction_tree, format_bytes
from pgm.inference.cache import PlanCache, plan_cache
from pgm.inference.results import InferencePlan
from pgm.inference.strategy import choose_rows, requisite_evidence, sub_evidence, target_groups

__all__ = ["DEFAULT_MEMORY_BUDGET", "ImpossibleEvidenceError", "Problem", "prepare"]

#: Default memory budget of one inference call, in bytes.
DEFAULT_MEMORY_BUDGET = 1 << 30

_WORKERS = max(1, os.cpu_count() or 1)

#: Rows per chunk are capped so that a chunk's tables stay near the CPU caches.
_CHUNK_ENTRIES = 1 << 22


def _budget(memory_budget) -> int:
    if memory_budget is None:
        return DEFAULT_MEMORY_BUDGET
    # any real number of bytes (2e9 as well as 2_000_000_000), as people write sizes
    if isinstance(memory_budget, (bool, np.bool_)) or not isinstance(memory_budget, (int, float, np.integer, np.floating)) \
            or not np.isfinite(memory_budget) or memory_budget < 1:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")
    return int(memory_budget)


@dataclass
class Problem:
    """A compiled inference problem: which nodes, which tree, which Gaussians."""

    network: object
    variables: tuple            # discrete nodes in the junction tree; position = variable id
    constant: dict              # discrete nodes with the same observed state in every row: node -> code
    tree: JunctionTree | None
    base: list | None           # static clique potentials
    constant_log: float         # log of the static factors with nothing left to vary
    lambda_nodes: list          # (node, id): per-row likelihood vectors, in row-factor order
    continuous: tuple           # continuous nodes kept
    keys: tuple                 # discrete nodes (in the tree) that continuous CPDs depend on
    fixed_keys: dict            # such nodes with a constant state
    gauss: GaussianBlocks | None    # one Gaussian elimination per block of continuous nodes
    pruned: tuple
    bytes_per_row: int
    chunk_rows: int
    id_of: dict = field(default_factory=dict)
    gathered: tuple = ()        # discrete nodes observed in every row: conditioned on by indexing
    gathered_factors: list = field(default_factory=list)
    static_bytes: int = 0       # priced before allocation: base potentials and their scratch
    concurrent: int = 1         # chunks run at once (1 when two chunks would not fit the budget)

    @property
    def key_ids(self) -> tuple:
        return tuple(self.id_of[k] for k in self.keys)

    def block_key_ids(self, b: int) -> tuple:
        """Tree ids of the discrete nodes Gaussian block ``b`` is keyed on."""
        return tuple(self.id_of[k] for k in self.gauss.blocks[b].keys)

    def plan(self) -> InferencePlan:
        tree = self.tree
        names = self.variables
        cliques = tuple(tuple(names[v] for v in c.variables) for c in tree.cliques) if tree else ()
        return InferencePlan(
            order=tuple(names[v] for v in tree.order) if tree else (),
            cliques=cliques,
            largest_table_entries=tree.largest_table_entries if tree else 0,
            largest_table_bytes=8 * tree.largest_table_entries if tree else 0,
            total_table_entries=tree.total_table_entries if tree else 0,
            pruned=self.pruned,
            gaussian_configurations=self.gauss.n_configurations if self.gauss else (1 if self.continuous else 0),
            bytes_per_row=self.bytes_per_row,
            heuristic=tree.heuristic if tree else "weighted-min-fill",
            static_bytes=self.static_bytes,
        )


def _cache(network) -> PlanCache:
    return plan_cache(network)


def _tree_bytes(tree: JunctionTree) -> int:
    """What a cached tree holds: its structure and the base potentials kept with it."""
    return 8 * tree.total_table_entries + 256 * len(tree.cliques) + 64 * len(tree.cards)


def _object_bytes(value, depth: int = 2) -> int:
    """The arrays an object holds (its attributes, and lists/dicts of them), plus a little per object."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if depth <= 0:
        return 64
    if isinstance(value, dict):
        return 64 + sum(_object_bytes(v, depth - 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return 64 + sum(_object_bytes(v, depth - 1) for v in value)
    if hasattr(value, "__dict__"):
        return 256 + sum(_object_bytes(v, depth - 1) for v in vars(value).values())
    return 64


def prepare(network, evidence: Evidence, targets=None, *, joint: tuple = (), root=None, memory_budget=None,
            prune: bool = True, plan_only: bool = False, estimate: bool = False,
            effort_rows: int | None = None, families=None) -> Problem:
    """Compile the problem for ``targets`` (None: every node) under the pattern of ``evidence``.

    ``joint`` is a set of discrete targets that must share a clique; ``root``
    the same for the root of the tree (the clique read after a collect pass).
    ``plan_only`` builds no table and refuses nothing; ``estimate`` (with
    ``plan_only``) triangulates by one heuristic only and caches nothing,
    for the cost model's quick look at a plan that may not be used.
    ``effort_rows`` (default: the evidence's rows) is how many rows the tree
    is expected to serve, which decides how many elimination orders are tried.
    ``families`` (discrete networks) names the nodes whose CPDs enter, in
    place of the targets' relevant part: a requisite part
    (:mod:`pgm.inference.requisite`), whose log p(e) is then that of the
    part only.
    """
    network._require_fitted("queried")
    budget = _budget(memory_budget) if not plan_only else float("inf")
    observed = evidence.observed_somewhere()
    if families is not None:
        families = set(families)
        relevant = families | {p for n in families for p in network[n].parents}
    elif targets is None or not prune:
        relevant = set(network.nodes)
    else:
        wanted = set(targets) | observed
        relevant = wanted | (network.ancestors(wanted) if wanted else set())
    order = [n for n in network.nodes if n in relevant]
    pruned = tuple(n for n in network.nodes if n not in relevant)
    discrete = [n for n in order if network[n].is_discrete]
    continuous = tuple(n for n in network.topological_order() if n in relevant and not network[n].is_discrete)
    constant = {n: c for n, c in evidence.constant_codes().items() if n in relevant}
    key_set = {p for c in continuous for p in network[c].parents if network[p].is_discrete}
    # Nodes observed in every row (with states that vary) are conditioned on by indexing each row's
    # CPD entries, not carried through the tree with one-hot likelihoods: the tree then spans only
    # what some row does not observe -- for a latent-variable model, the latent nodes alone.
    gathered = tuple(n for n in discrete if n not in constant and n not in key_set and n not in evidence.soft
                     and n in evidence.codes and len(evidence.codes[n]) and (evidence.codes[n] >= 0).all())
    variables = tuple(n for n in discrete if n not in constant and n not in gathered)
    id_of = {n: i for i, n in enumerate(variables)}
    cards = [len(network.states(n)) for n in variables]

    static, fixed, constant_log, gathered_factors = [], [], 0.0, []
    for node in discrete:
        if families is not None and node not in families:
            continue  # a boundary node's own CPD lies outside the requisite part
        cpd = network[node]
        scope, table = restricted_table(cpd, node, constant)
        if any(v in gathered for v in scope):
            gathered_factors.append(_GatheredFactor(table, scope, id_of))
        elif scope:
            static.append((tuple(id_of[s] for s in scope), table))
            fixed.append(len(scope) == len(cpd.parents) + 1)  # untouched by evidence: the same every call
        else:
            with np.errstate(divide="ignore"):
                constant_log += float(np.log(table))
    for node, vector in evidence.soft.items():
        if node in id_of:
            static.append(((id_of[node],), vector))
            fixed.append(False)
    lambda_nodes = [(n, id_of[n]) for n in variables if n in evidence.codes and n not in constant
                    and (evidence.codes[n] >= 0).any()]
    row_scopes = [(i,) for _, i in lambda_nodes]
    row_scopes += [g.scope for g in gathered_factors if g.scope]
    keys = tuple(sorted((k for k in key_set if k in id_of), key=id_of.__getitem__))
    fixed_keys = {k: constant[k] for k in key_set if k in constant}
    # Blocks of continuous nodes add one factor per distinct set of keys (pgm.inference.gaussian_blocks)
    observed_always = frozenset(n for n in continuous if n in evidence.values and len(evidence.values[n])
                                and not np.isnan(evidence.values[n]).any())
    blocks = continuous_blocks(network, continuous, keys, observed_always) if continuous else []
    row_scopes += [tuple(id_of[k] for k in scope) for scope in factor_scopes(blocks)]
    forced = []
    if root == "keys":  # the keys of the blocks holding the (continuous) targets share the root
        wanted_blocks = [b for b in blocks if targets is None or set(b[0]) & set(targets)]
        forced.append(tuple(sorted({id_of[k] for _, block_keys in wanted_blocks for k in block_keys})))
    elif root:
        forced.append(tuple(id_of[t] for t in root if t in id_of))
    if joint:
        forced.append(tuple(id_of[t] for t in joint if t in id_of))
    forced = [f for f in forced if f]

    gauss = None
    if continuous:
        key = ("gaussian", continuous, keys, tuple(sorted(fixed_keys.items())), "blocks",
               tuple(sorted(observed_always)))
        cache = _cache(network)
        gauss = cache.get(key)
        if gauss is None:
            per_row = block_bytes_per_row(network, blocks)
            if per_row > budget:
                nodes, widest = max(blocks, key=lambda b: math.prod(len(network.states(k)) for k in b[1]))
                n_configurations = math.prod(len(network.states(k)) for k in widest)
                raise InferenceTooLarge(
                    f"the continuous nodes {', '.join(nodes[:5])}{', ...' if len(nodes) > 5 else ''} are joined "
                    f"by continuous edges and depend on {len(widest)} discrete nodes ({', '.join(widest)}) with "
                    f"{n_configurations:,} joint configurations, one Gaussian each; one row would need about "
                    f"{format_bytes(per_row)}, above the memory budget of {format_bytes(budget)}; raise "
                    "memory_budget=, observe some of them, or use method='likelihood_weighting'"
                )
            gauss = GaussianBlocks(network, blocks, fixed_keys)
            cache.put(key, gauss, _object_bytes(gauss))

    tree = base = None
    if variables:
        structure = ("tree", variables, tuple(s for s, _ in static), tuple(row_scopes), tuple(forced))
        cache = _cache(network)
        tree = cache.get(structure)
        if tree is None and estimate:  # a quick look: one heuristic's tree, kept apart and without tables
            quick = ("estimate",) + structure[1:]
            tree = cache.get(quick)
            if tree is None:
                tree = compile_junction_tree(cards, [s for s, _ in static], row_scopes, forced, other_orders=False)
                cache.put(quick, tree, _tree_bytes(tree) - 8 * tree.total_table_entries)
        if tree is None:
            # More orderings pay off when the tree serves many rows (a tree planned for one case rarely).
            tree = compile_junction_tree(cards, [s for s, _ in static], row_scopes, forced,
                                         memory_budget=None if plan_only else budget, what="exact inference",
                                         n_rows=evidence.n_rows if effort_rows is None else effort_rows)
            cache.put(structure, tree, _tree_bytes(tree))
        if tree.largest_table_entries * 8 > budget:
            raise InferenceTooLarge(
                f"exact inference would need a table of {tree.largest_table_entries:,} entries "
                f"({format_bytes(8 * tree.largest_table_entries)}), above the memory budget of "
                f"{format_bytes(budget)}; raise memory_budget=, add evidence, or use method='likelihood_weighting'"
            )

    # Price everything before allocating anything: the static tables, then the work of one row.
    static_bytes = tree.static_bytes(fixed) if tree else 0
    per_row = 8 * (tree.entries_per_row() + sum(cards) if tree else 1)
    per_row += gauss.bytes_per_row(covariances=True) if gauss else 0
    per_row += 8 * 4
    if static_bytes + per_row > budget and not plan_only:
        raise InferenceTooLarge(
            f"exact inference needs {format_bytes(static_bytes)} of static tables "
            f"({tree.total_table_entries:,} entries in {len(tree.cliques)} cliques) and "
            f"{format_bytes(per_row)} per row, above the memory budget of {format_bytes(budget)}; raise "
            "memory_budget=, add evidence, or use method='likelihood_weighting'"
            if tree else
            f"exact inference needs {format_bytes(per_row)} per row, above the memory budget of "
            f"{format_bytes(budget)}; raise memory_budget= or use method='likelihood_weighting'"
        )
    # Rows go in chunks that fit what the static tables leave; two chunks run at once only if both fit.
    entries = per_row // 8
    cap = max(64, _CHUNK_ENTRIES // entries)
    room = budget - static_bytes
    concurrent = _WORKERS if room >= _WORKERS * per_row else 1
    chunk_rows = cap if plan_only else int(max(1, min(room // (per_row * concurrent), cap)))
    if tree is not None and not plan_only:
        base = tree.static_potentials(static, fixed)
    problem = Problem(network, variables, constant, tree, base, constant_log, lambda_nodes, continuous, keys,
                      fixed_keys, gauss, pruned, per_row, chunk_rows, id_of, gathered, gathered_factors)
    problem.static_bytes = static_bytes
    problem.concurrent = concurrent
    return problem


class _GatheredFactor:
    """A CPD table some of whose variables are observed in every row: each row's slice, by indexing.

    The result is a per-row factor over the table's other variables (axes
    in tree-variable order), or, when there are none, one number per row.
    """

    def __init__(self, table: np.ndarray, scope: list, id_of: dict):
        self.flat = np.ascontiguousarray(table).ravel()
        strides = [1] * len(scope)
        for axis in range(len(scope) - 2, -1, -1):
            strides[axis] = strides[axis + 1] * table.shape[axis + 1]
        self.observed = [(name, strides[axis]) for axis, name in enumerate(scope) if name not in id_of]
        hidden = sorted((id_of[name], axis) for axis, name in enumerate(scope) if name in id_of)
        self.scope = tuple(i for i, _ in hidden)
        grid = np.zeros(1, dtype=np.intp)
        for _, axis in hidden:
            grid = (grid[:, None] + np.arange(table.shape[axis]) * strides[axis]).ravel()
        self.grid = grid
        self.shape = tuple(table.shape[axis] for _, axis in hidden)
        self.log_flat = None
        if not self.scope:  # one number per row, which goes into the log offset: log the table, not the rows
            with np.errstate(divide="ignore"):
                self.log_flat = np.log(self.flat)

    def _offset(self, codes: dict, n: int) -> np.ndarray:
        offset = np.zeros(n, dtype=np.intp)
        for name, stride in self.observed:
            offset += np.multiply(codes[name], stride, dtype=np.intp)
        return offset

    def values(self, codes: dict, n: int) -> np.ndarray:
        offset = self._offset(codes, n)
        if not self.scope:
            return self.flat[offset]
        return self.flat[self.grid[:, None] + offset[None, :]].reshape(self.shape + (n,))

    def log_values(self, codes: dict, n: int) -> np.ndarray:
        """A factor without tree variables: the log of each row's entry (-inf for a zero)."""
        return self.log_flat[self._offset(codes, n)]


# ---------------------------------------------------------------------------- one chunk of rows
@dataclass
class _Inputs:
    row_factors: list
    log_offset: np.ndarray          # per row: log of what is outside the tree (constants, Gaussian shifts)
    gauss: list | None              # per Gaussian block: (log density, mean, covariance, deviation)


def _inputs(problem: Problem, evidence: Evidence, rows: slice, *, moments: bool, deviations: bool | None = None) -> _Inputs:
    chunk = evidence.rows(rows)
    n = chunk.n_rows
    network = problem.network
    factors = [likelihood_vectors(chunk.codes[node], len(network.states(node))) for node, _ in problem.lambda_nodes]
    offset = np.full(n, problem.constant_log)
    for gathered in problem.gathered_factors:
        if gathered.scope:
            factors.append(gathered.values(chunk.codes, n))
        else:
            offset += gathered.log_values(chunk.codes, n)
    gauss_out = None
    if problem.gauss is not None:
        start = rows.start or 0

        def describe(position: int) -> str:
            return evidence.describe_row(start + position)

        values = {node: chunk.values[node] for node in problem.continuous if node in chunk.values}
        gauss_out = problem.gauss.run(values, n, means=moments, covariances=moments, describe_row=describe,
                                      deviations=deviations)
        for _, members in problem.gauss.factors:  # in the order of the row scopes
            log_density = gauss_out[members[0]][0]
            for b in members[1:]:
                log_density = log_density + gauss_out[b][0]
            shift = log_density.max(axis=0)
            shift = np.where(np.isfinite(shift), shift, 0.0)
            factors.append(np.exp(log_density - shift))
            offset += shift
        for b in problem.gauss.unkeyed:
            offset += gauss_out[b][0][0]
    return _Inputs(factors, offset, gauss_out)


def _run(problem: Problem, evidence: Evidence, work, *, moments: bool = False) -> None:
    """Call ``work(rows, inputs)`` for every chunk of rows, spread over the cores."""
    chunks = row_chunks(evidence.n_rows, problem.chunk_rows)

    def one(_, rows):
        work(rows, _inputs(problem, evidence, rows, moments=moments))

    if problem.concurrent > 1:
        map_chunks(one, chunks)
    else:
        for k, rows in enumerate(chunks):
            one(k, rows)


# ---------------------------------------------------------------------------- the questions
def log_evidence(network, evidence, *, memory_budget=None) -> np.ndarray:
    """log p(evidence) per row (log p(observed part of the row)); -inf where it is zero.

    Rows are answered by one shared tree or per pattern of observed nodes,
    whichever the cost model (:mod:`pgm.inference.strategy`) finds cheaper.
    """
    ev = evidence if isinstance(evidence, Evidence) else as_evidence(network, evidence)

    def plan(sub, plan_only, estimate=False):
        return prepare(network, sub, targets=(), memory_budget=memory_budget, plan_only=plan_only,
                       estimate=estimate)

    with plan_cache(network).scan():  # a batch that overflows the cache keeps its first plans
        strategy = choose_rows(network, ev, plan, _budget(memory_budget))
        if strategy.kind == "shared":
            return _log_evidence_one_plan(plan(ev, False), ev)
        out = np.empty(ev.n_rows)
        for rows in strategy.groups:
            sub = sub_evidence(ev, rows)
            out[rows] = _log_evidence_one_plan(plan(sub, False), sub)
        return out


def _log_evidence_one_plan(problem: Problem, ev: Evidence) -> np.ndarray:
    out = np.empty(ev.n_rows)

    def work(rows, inputs: _Inputs):
        n = inputs.log_offset.shape[0]
        total = inputs.log_offset.copy()
        if problem.tree is not None:
            beliefs, _, log_scale = problem.tree.collect(problem.base, inputs.row_factors, n)
            total += problem.tree.log_partition(beliefs, log_scale, n)
        out[rows] = total

    _run(problem, ev, work)
    return out


def most_probable_codes(network, evidence: Evidence, *, memory_budget=None):
    """Per row: the most probable joint state of the discrete nodes (codes), its log probability, log p(e).

    Rows go through one shared tree or one pruned tree per pattern of
    observed nodes, as the cost model chooses.
    """
    def plan(sub, plan_only, estimate=False):
        return prepare(network, sub, targets=None, memory_budget=memory_budget, plan_only=plan_only,
                       estimate=estimate)

    discrete = [n for n in network.nodes if network[n].is_discrete]
    n_rows = evidence.n_rows
    codes = {n: np.empty(n_rows, dtype=np.int64) for n in discrete}
    log_max = np.empty(n_rows)
    log_ev = np.empty(n_rows)
    strategy = choose_rows(network, evidence, plan, _budget(memory_budget))
    for rows in (strategy.groups if strategy.kind != "shared" else [np.arange(n_rows)]):
        sub = evidence if strategy.kind == "shared" else sub_evidence(evidence, rows)
        sub_codes, log_max[rows], log_ev[rows] = _most_probable_one_plan(plan(sub, False), sub, discrete)
        for node in discrete:
            codes[node][rows] = sub_codes[node]
    return codes, log_max, log_ev


def _most_probable_one_plan(problem: Problem, ev: Evidence, discrete):
    n_rows = ev.n_rows
    codes = {n: np.empty(n_rows, dtype=np.int64) for n in discrete}
    log_max = np.empty(n_rows)
    log_ev = np.empty(n_rows)

    def work(rows, inputs):
        n = inputs.log_offset.shape[0]
        total = inputs.log_offset.copy()
        evidence_total = inputs.log_offset.copy()
        tree = problem.tree
        if tree is not None:
            assignment, best = tree.max_product(problem.base, inputs.row_factors, n)
            total += best
            beliefs, _, log_scale = tree.collect(problem.base, inputs.row_factors, n)
            evidence_total += tree.log_partition(beliefs, log_scale, n)
            for node, i in problem.id_of.items():
                codes[node][rows] = assignment[i]
        for node, code in problem.constant.items():
            codes[node][rows] = code
        for node in problem.gathered:
            codes[node][rows] = ev.codes[node][rows]
        log_max[rows] = total
        log_ev[rows] = evidence_total

    _run(problem, ev, work)
    return codes, log_max, log_ev


def discrete_answers(network, evidence: Evidence, groups, *, targets, joint: tuple = (), root=None,
                     memory_budget=None, calibrate: bool, by_relevance: bool = False,
                     evidence_needed: bool = True):
    """Posterior tables of each group of discrete nodes for every row, and log p(e), by the cheapest plan.

    Rows go through one shared tree, or one pruned tree per pattern of
    observed nodes (:func:`pgm.inference.strategy.choose_rows`).  With
    ``by_relevance`` (all groups single nodes, ``targets`` None) the targets
    may be split over the trees of their relevant parts
    (:func:`pgm.inference.strategy.target_groups`).  Without
    ``evidence_needed`` (the groups within ``targets``), rows may instead be
    grouped by the requisite part of their query, and the log p(e) returned
    for those rows is the requisite part's own normaliser: -inf exactly
    where p(e) is zero, not log p(e) otherwise.  Returns ``(tables,
    log_evidence, strategy)``; ``tables[group]`` has shape ``(*cards, n_rows)``.
    """
    def plan(sub, plan_only, estimate=False, families=None):
        return prepare(network, sub, targets=targets, joint=joint, root=root, memory_budget=memory_budget,
                       plan_only=plan_only, estimate=estimate, families=families)

    with plan_cache(network).scan():  # a batch that overflows the cache keeps its first plans
        return _discrete_answers(network, evidence, groups, plan, memory_budget, calibrate, by_relevance,
                                 None if evidence_needed or targets is None else targets)


def _discrete_answers(network, evidence, groups, plan, memory_budget, calibrate, by_relevance, targets):
    strategy = choose_rows(network, evidence, plan, _budget(memory_budget), targets=targets)
    if strategy.kind == "shared":
        tables, log_ev = _answers_one_pattern(network, evidence, groups, plan, memory_budget, calibrate, by_relevance)
        return tables, log_ev, strategy
    n_rows = evidence.n_rows
    tables = {g: np.empty(tuple(len(network.states(v)) for v in g) + (n_rows,)) for g in groups}
    log_ev = np.empty(n_rows)
    for k, rows in enumerate(strategy.groups):
        part = strategy.parts[k] if strategy.parts else None
        if part is None:
            sub = sub_evidence(evidence, rows)
            sub_tables, sub_log_ev = _answers_one_pattern(network, sub, groups, plan, memory_budget, calibrate,
                                                          by_relevance)
        else:  # a requisite part: its families' CPDs, its boundary's states, its rows stacked
            sub = requisite_evidence(evidence, rows, part[1])
            sub_tables, sub_log_ev, _ = discrete_marginals(plan(sub, False, families=part[0]), sub, groups,
                                                           calibrate=calibrate, moments=False)
        for g in groups:
            tables[g][..., rows] = sub_tables[g]
        log_ev[rows] = sub_log_ev
    return tables, log_ev, strategy


def relevance_groups(network, evidence: Evidence, nodes, memory_budget=None) -> list[tuple]:
    """The groups of ``nodes`` whose posteriors come from one tree each (see :func:`target_groups`)."""
    def plan(group, plan_only, estimate=False):
        return prepare(network, evidence, targets=group, memory_budget=memory_budget, plan_only=plan_only,
                       estimate=estimate)

    return target_groups(network, evidence, list(nodes), plan)


def _answers_one_pattern(network, evidence, groups, plan, memory_budget, calibrate, by_relevance):
    if not by_relevance:
        tables, log_ev, _ = discrete_marginals(plan(evidence, False), evidence, groups, calibrate=calibrate,
                                             moments=False)
        return tables, log_ev
    nodes = [g[0] for g in groups]
    tables, log_ev = {}, None
    for part in relevance_groups(network, evidence, nodes, memory_budget):
        targets = None if len(part) == len(nodes) else part
        problem = prepare(network, evidence, targets=targets, memory_budget=memory_budget)
        part_tables, part_log_ev, _ = discrete_marginals(problem, evidence, [(n,) for n in part], calibrate=True,
                                                            moments=False)
        tables.update(part_tables)
        log_ev = part_log_ev if log_ev is None else log_ev  # every part holds the evidence and its ancestors
    if log_ev is None:
        log_ev = _log_evidence_one_plan(prepare(network, evidence, targets=(), memory_budget=memory_budget), evidence)
    return tables, log_ev


def _targets(network, targets) -> tuple[tuple, bool]:
    single = isinstance(targets, str)
    names = (targets,) if single else tuple(targets)
    if not names:
        raise ValueError("query needs at least one target node")
    for name in names:
        if name not in network:
            raise NodeError(network.dag._unknown_node_message(name))
    if len(set(names)) != len(names):
        raise ValueError(f"the targets {list(names)} name a node more than once")
    return names, single


def _raise_impossible(evidence: Evidence, log_ev: np.ndarray) -> None:
    impossible = np.isneginf(log_ev)
    if impossible.any():
        if not evidence.batched:
            raise ImpossibleEvidenceError(
                "the evidence has probability zero under the network (p(e) = 0), so the posterior is undefined"
            )
        first = int(np.argmax(impossible))
        raise ImpossibleEvidenceError(
            f"{evidence.describe_row(first)} has probability zero under the network (p(e) = 0), so its "
            f"posterior is undefined ({int(impossible.sum())} such row(s)); net.log_likelihood gives -inf for them"
        )


def discrete_marginals(problem: Problem, evidence: Evidence, groups, *, calibrate: bool, moments: bool | None = None):
    """Posterior tables for each group of discrete nodes (each a tuple), plus log p(e).

    Returns ``({group: ndarray (*cards, n_rows)}, log_evidence, gaussian)``
    where ``gaussian`` holds, when there are continuous nodes, one dict per
    Gaussian block: the mixture weights over the block's key configurations
    and the Gaussian moments (blocks with the same keys share one weights
    array).  Without ``calibrate``, weights are filled only for the blocks
    whose keys the root holds (NaN for the others).  ``moments=False`` skips
    the Gaussian part (``gaussian`` is None): for discrete targets.
    """
    network = problem.network
    n_rows = evidence.n_rows
    out = {g: np.empty(tuple(len(network.states(v)) for v in g) + (n_rows,)) for g in groups}
    log_ev = np.empty(n_rows)
    gaussian = None
    moments = problem.gauss is not None if moments is None else (moments and problem.gauss is not None)
    if moments:
        shared = {keys: np.full((problem.gauss.blocks[members[0]].n_configurations, n_rows), np.nan)
                  for keys, members in problem.gauss.factors}
        gaussian = [{
            "weights": shared[g.keys] if g.keys else np.ones((1, n_rows)),
            "mean": np.empty((len(g.nodes), g.n_configurations, n_rows)),
            "cov": np.empty((g.n_slots, g.n_configurations, n_rows)),
            "deviation": np.empty((len(g.nodes), g.n_configurations, n_rows)),  # mean minus the first's
        } for g in problem.gauss.blocks]

    def work(rows, inputs: _Inputs):
        n = inputs.log_offset.shape[0]
        total = inputs.log_offset.copy()
        tree = problem.tree
        beliefs = None
        if tree is not None:
            if calibrate:
                beliefs, log_z = tree.calibrate(problem.base, inputs.row_factors, n)
            else:
                beliefs, _, log_scale = tree.collect(problem.base, inputs.row_factors, n)
                log_z = tree.log_partition(beliefs, log_scale, n)
                for r in tree.roots:
                    _normalise_rows(beliefs[r], n)
            total += log_z
        log_ev[rows] = total
        for group, table in out.items():
            table[..., rows] = _group_marginal(problem, beliefs, group, evidence, rows, n)
        if gaussian is not None:
            for block, (_, mean, cov, deviation) in zip(gaussian, inputs.gauss):
                block["mean"][..., rows] = mean
                block["cov"][..., rows] = cov
                block["deviation"][..., rows] = deviation
            for keys, members in problem.gauss.factors:  # one weights array per distinct key set
                ids = problem.block_key_ids(members[0])
                weights = gaussian[members[0]]["weights"]
                if calibrate:
                    weights[:, rows] = tree.marginal(beliefs, ids, n).reshape(-1, n)
                else:
                    root = next((r for r in tree.roots if set(ids) <= set(tree.cliques[r].variables)), None)
                    if root is not None:  # after a collect pass only the roots hold posteriors
                        weights[:, rows] = _clique_marginal(tree, beliefs, root, ids).reshape(-1, n)

    _run(problem, evidence, work, moments=moments)
    if not evidence.observed_somewhere():
        log_ev[:] = 0.0  # p(no evidence) = 1, exactly; the sum over the joint is 1 only up to rounding
    return out, log_ev, gaussian


def _clique_marginal(tree: JunctionTree, beliefs, c: int, ids) -> np.ndarray:
    """The marginal of ``ids`` (in that order) from the belief of clique ``c``: shape (*cards, n)."""
    variables = tree.cliques[c].variables
    keep = set(ids)
    axes = tuple(i for i, v in enumerate(variables) if v not in keep)
    table = beliefs[c].sum(axis=axes) if axes else beliefs[c]
    present = [v for v in variables if v in keep]
    return np.transpose(table, [present.index(v) for v in ids] + [len(ids)])


def _normalise_rows(belief: np.ndarray, n: int) -> None:
    total = belief.reshape(-1, n).sum(axis=0)
    belief /= np.where(total > 0, total, 1.0)


def _group_marginal(problem: Problem, beliefs, group, evidence: Evidence, rows: slice, n: int) -> np.ndarray:
    """The joint posterior of ``group`` for a chunk, shape (*cards, n) in the group's order.

    Nodes in the tree come from the calibrated beliefs; nodes observed in
    every row (constant or not) are point masses, one-hot per row.
    """
    network = problem.network
    in_tree = [v for v in group if v in problem.id_of]
    if len(in_tree) == len(group):
        return problem.tree.marginal(beliefs, [problem.id_of[v] for v in group], n)
    shape = tuple(len(network.states(v)) for v in group)
    if in_tree:
        table = problem.tree.marginal(beliefs, [problem.id_of[v] for v in in_tree], n)
        result = table.reshape(tuple(k if v in problem.id_of else 1 for v, k in zip(group, shape)) + (n,))
    else:
        result = np.ones((1,) * len(group) + (n,))
    for axis, v in enumerate(group):
        if v in problem.id_of:
            continue
        if v in problem.constant:
            one_hot = np.zeros((shape[axis], 1))
            one_hot[problem.constant[v]] = 1.0
        else:
            one_hot = likelihood_vectors(evidence.codes[v][rows], shape[axis])
        result = result * one_hot.reshape(tuple(shape[axis] if a == axis else 1 for a in range(len(group)))
                                          + (one_hot.shape[-1],))
    return np.broadcast_to(result, shape + (n,))


def mixture_moments(problem: Problem, gaussian: dict, node: str):
    """Per row: the posterior mean and variance of continuous ``node`` (mixed over key configurations)."""
    b, g = problem.gauss.block(node)
    i = g.index[node]
    weights = gaussian[b]["weights"]
    means = gaussian[b]["mean"][i]
    variances = gaussian[b]["cov"][i]
    # Law of total variance on deviations, never E[x^2] - mean^2, which cancels catastrophically
    # when |mean| is large next to the spread (1.7e9 with sd 10 gave 0).  The deviations from the
    # first component come from the elimination's centred solutions, not from subtracting rounded
    # means, and are exactly 0 for an observed value (variance 0).
    deviation = gaussian[b]["deviation"][i]
    shift = np.einsum("kr,kr->r", weights, deviation)
    spread = deviation - shift
    variance = np.einsum("kr,kr->r", weights, variances + spread * spread)
    return means[0] + shift, variance


def key_labels(problem: Problem, keys=None, fixed=None) -> list[str]:
    """Names of the configurations of ``keys`` (default: all keys), row-major; ``fixed`` keys are constant."""
    network = problem.network
    keys = problem.keys if keys is None else keys
    fixed = problem.fixed_keys if fixed is None else fixed
    if not keys:
        return [", ".join(f"{k}={network.states(k)[c]}" for k, c in fixed.items()) or "(all rows)"]
    labels = []
    cards = [len(network.states(k)) for k in keys]
    for config in range(math.prod(cards)):
        codes = np.unravel_index(config, cards)
        labels.append(", ".join(f"{k}={network.states(k)[int(c)]}" for k, c in zip(keys, codes)))
    return labels


def block_labels(problem: Problem, b: int) -> list[str]:
    """Names of the key configurations of Gaussian block ``b``."""
    block = problem.gauss.blocks[b]
    parents = {p for n in block.nodes for p in problem.network[n].discrete_parents}
    return key_labels(problem, block.keys, {k: c for k, c in problem.fixed_keys.items() if k in parents})
