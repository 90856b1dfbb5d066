"""Blocks for Gibbs sampling: many nodes drawn jointly, so deterministic tables do not freeze the chains.

Single-site Gibbs cannot change a node that a deterministic CPD ties to a
neighbour (``either`` = ``tub`` OR ``lung``; hailfinder's ``Scenario`` and
its copies; munin's chains of ``max`` tables): every one-node move from a
state leaves the support.  A *block* of nodes drawn jointly from their
distribution given everything else moves them together.

A block is drawn exactly by bucket elimination.  With every node outside
the block at its current value, each CPD that touches the block is a table
over the block nodes it holds (and evidence adds a weight per state);
eliminating the block's nodes one by one along a min-fill order multiplies
each bucket's tables and sums its node out (forward filtering), and the
nodes are then drawn in the reverse order, each from its bucket's product
given the nodes already drawn (backward sampling).  Every column (chain x
row of evidence) is one more axis of the same einsum calls.  The cost is
that of the buckets, which :func:`block_partitions` keeps at most
``cluster_entries`` table entries each.

The blocks partition the sampled nodes and are grown Kruskal-fashion: the
pairs of nodes that share a CPD are taken most deterministic first (the
CPD's mean largest probability per parent configuration), and two blocks
are joined through a pair whenever the union's buckets still fit.
Deterministic links end up inside blocks, where they no longer stop the
chains; a second partition grown from the pairs the first one cut covers
most of the rest, and a sweep draws every block of both.  When all the
sampled nodes fit one block, every sweep is an independent exact draw.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_BLOCK_ENTRIES", "Block", "block_entries_needed", "block_partitions", "draw_block"]

#: Most table entries in one bucket of a block (per column).  Measured on alarm, hailfinder, pathfinder
#: and munin1 (benchmarks/approximate.py): large enough to hold munin1's chains of deterministic tables.
DEFAULT_BLOCK_ENTRIES = 2 ** 12

_LETTERS = "abcdefghijklmnopqrstuvwxyABCDEFGHIJKLMNOPQRSTUVWXYZ"  # einsum axes; "z" is the column axis
_AXES = len(_LETTERS)


class Block:
    """Nodes drawn jointly: an elimination order and, per bucket, its tables' scopes and the message out.

    ``order`` are the block's nodes (sampler indices) in elimination order;
    ``factors[i]`` the CPDs (sampler indices of their nodes) whose first
    eliminated block node is ``order[i]``, with the block nodes each holds;
    ``incoming[i]`` the buckets whose messages bucket ``i`` receives;
    ``scope[i]`` bucket ``i``'s nodes, its own node first.
    """

    def __init__(self, sampler, nodes: list[int], order: list[int], held: dict[int, tuple[int, ...]]):
        self.order = list(order)
        position = {v: i for i, v in enumerate(self.order)}
        self.inside = set(nodes)
        n = len(self.order)
        self.factors = [[] for _ in range(n)]
        scopes = [set() for _ in range(n)]
        for w, vars_ in held.items():
            first = min(position[v] for v in vars_)
            self.factors[first].append((w, vars_))
            scopes[first].update(vars_)
        self.incoming = [[] for _ in range(n)]
        self.unary_at = [[] for _ in range(n)]
        for v in self.order:
            self.unary_at[position[v]].append(v)
            scopes[position[v]].add(v)
        self.message_scope = [()] * n
        for i, v in enumerate(self.order):
            rest = scopes[i] - {v}
            self.message_scope[i] = tuple(sorted(rest, key=position.__getitem__))
            if rest:
                target = min(position[u] for u in rest)
                self.incoming[target].append(i)
                scopes[target].update(rest)
        self.scope = [(v,) + tuple(sorted(scopes[i] - {v}, key=position.__getitem__))
                      for i, v in enumerate(self.order)]
        # per bucket, per CPD: the flat offsets of the block nodes' states (an array over their axes and a
        # column axis) and the outside nodes with their strides, whose current values give each column's base
        self.lookups = [[_lookup(sampler, w, vars_, self.inside) for w, vars_ in self.factors[i]] for i in range(n)]
        self.specs = []
        for i in range(n):
            letter = {u: _LETTERS[k] for k, u in enumerate(self.scope[i])}
            terms = ["".join(letter[u] for u in vars_) + "z" for _, vars_ in self.factors[i]]
            terms += [letter[u] + "z" for u in self.unary_at[i]]
            terms += ["".join(letter[u] for u in self.message_scope[j]) + "z" for j in self.incoming[i]]
            self.specs.append(",".join(terms) + "->" + "".join(letter[u] for u in self.scope[i]) + "z")


def block_entries_needed(sampler, block: Block) -> int:
    """Table entries per column that drawing ``block`` holds at once: every bucket's product."""
    return sum(int(np.prod([sampler.cards[u] for u in scope], dtype=np.float64)) for scope in block.scope)


def _lookup(sampler, w: int, vars_: tuple[int, ...], inside: set):
    """(CPD, offsets over the block nodes ``vars_`` and a column axis, outside nodes, their strides)."""
    ids, strides = sampler.parents[w]
    stride_of, outside, outside_strides = {}, [], []
    for x, s in zip(ids.tolist() + [w], strides.tolist() + [1]):
        if x in inside:
            stride_of[x] = s
        else:
            outside.append(x)
            outside_strides.append(s)
    offsets = np.zeros([1] * (len(vars_) + 1), dtype=np.int64)
    for k, v in enumerate(vars_):
        shape = [1] * (len(vars_) + 1)
        shape[k] = sampler.cards[v]
        offsets = offsets + stride_of[v] * np.arange(sampler.cards[v]).reshape(shape)
    return w, offsets, np.array(outside, dtype=np.intp), np.array(outside_strides, dtype=np.int64)


def draw_block(sampler, block: Block, state: np.ndarray, unary: dict, tables: list, rng) -> None:
    """Draw the nodes of ``block`` jointly given the rest of ``state`` (nodes x columns), in place.

    ``tables`` are the CPDs' flat probability tables (as ``sampler.log_tables``, exponentiated);
    ``unary[u]`` an optional (states, columns) weight for node ``u`` (soft
    evidence, and 0 off the observed state in columns that observe it).
    A column in which the rest of the state rules out every value of the
    block keeps its values (as a single-site move does).
    """
    columns = state.shape[1]
    n = len(block.order)
    products, messages = [None] * n, [None] * n
    alive = np.ones(columns, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
        for i in range(n):
            # each CPD as a table over its block nodes (and columns), every other node at its current value
            operands = [tables[w][offsets + (strides @ state[outside] if len(outside) else 0)]
                        for w, offsets, outside, strides in block.lookups[i]]
            operands += [unary[u] if u in unary else np.ones((sampler.cards[u], columns)) for u in block.unary_at[i]]
            operands += [messages[j] for j in block.incoming[i]]
            product = np.einsum(block.specs[i], *operands)
            total = product.reshape(-1, columns).sum(axis=0)
            alive &= total > 0
            product = product / np.where(total > 0, total, 1.0)  # per column, so that nothing underflows
            products[i] = product
            messages[i] = product.sum(axis=0)
        drawn = {}
        col = np.arange(columns)
        for i in reversed(range(n)):
            product = products[i]
            flat = np.zeros(columns, dtype=np.int64)
            for u in block.scope[i][1:]:
                flat = flat * sampler.cards[u] + drawn[u]
            k = sampler.cards[block.order[i]]
            weights = product.reshape(k, -1, columns)[:, flat, col]
            noisy = np.log(weights) + rng.gumbel(size=weights.shape)
            drawn[block.order[i]] = noisy.argmax(axis=0)
    for v, values in drawn.items():
        state[v] = np.where(alive, values, state[v])


def _determinism(sampler, w: int) -> float:
    """How deterministic node ``w``'s CPD is: the mean over parent configurations of its largest probability."""
    table = np.exp(sampler.log_tables[w]).reshape(-1, sampler.cards[w])
    return float(table.max(axis=1).mean())


class _Grower:
    """Kruskal-style growth of blocks whose buckets stay within a cap of table entries."""

    def __init__(self, sampler, free: list[int], scopes: dict[int, tuple[int, ...]], cap: float):
        from pgm.inference.ijgp import _min_fill_order

        self.min_fill = _min_fill_order
        self.sampler, self.scopes, self.cap = sampler, scopes, cap
        self.free = set(free)
        self.touching = {v: [] for v in free}  # node -> CPDs whose scope holds it
        for w, scope in scopes.items():
            for v in scope:
                if v in self.free:
                    self.touching[v].append(w)

    def held(self, nodes: set) -> dict[int, tuple[int, ...]]:
        out = {}
        for v in nodes:
            for w in self.touching[v]:
                if w not in out:
                    out[w] = tuple(x for x in self.scopes[w] if x in nodes)
        return out

    def order(self, nodes: set, limit: float):
        adjacency = {v: set() for v in nodes}
        for vars_ in self.held(nodes).values():
            for v in vars_:
                adjacency[v].update(u for u in vars_ if u != v)
        found = self.min_fill(adjacency, self.sampler.cards, limit)
        return None if found is None else found[0]

    def grow(self, pairs: list[tuple[float, int, int]]) -> tuple[list[Block], set]:
        block_of = {v: v for v in self.free}
        members = {v: {v} for v in self.free}
        for _, a, b in pairs:
            ra, rb = block_of[a], block_of[b]
            if ra == rb:
                continue
            union = members[ra] | members[rb]
            if len(union) > 1 and self.order(union, self.cap) is None:
                continue
            for v in members[rb]:
                block_of[v] = ra
            members[ra] = union
            del members[rb]
        cut = {(a, b) for _, a, b in pairs if block_of[a] != block_of[b]}
        blocks = []
        for nodes in members.values():
            order = self.order(nodes, np.inf)
            blocks.append(Block(self.sampler, sorted(nodes), order, self.held(nodes)))
        blocks.sort(key=lambda blk: min(blk.order))
        return blocks, cut


def block_partitions(sampler, free: list[int], factors=None, cluster_entries: int = DEFAULT_BLOCK_ENTRIES):
    """One or two partitions of the nodes ``free`` into blocks; the second grown from the pairs the first cut.

    Pairs are nodes sharing a CPD, strongest (most deterministic CPD) first;
    ties go to the lower indices, so the blocks are the same every run.
    ``factors`` are the CPDs (sampler indices) of the distribution sampled
    (None: all); the others are left out, as barren CPDs sum to one.  A
    block's buckets hold at most ``cluster_entries`` entries (a CPD larger
    than that leaves its nodes in smaller blocks).
    """
    factors = range(len(sampler.nodes)) if factors is None else factors
    scopes = {w: tuple(sampler.parents[w][0].tolist()) + (w,) for w in factors}
    free_set = set(free)
    strength: dict[tuple[int, int], float] = {}
    for w, scope in scopes.items():
        held = [x for x in scope if x in free_set]
        if len(held) < 2:
            continue
        d = _determinism(sampler, w)
        for i, a in enumerate(held):
            for b in held[i + 1:]:
                key = (min(a, b), max(a, b))
                strength[key] = max(strength.get(key, 0.0), d)
    pairs = sorted(((s, a, b) for (a, b), s in strength.items()), key=lambda t: (-t[0], t[1], t[2]))
    grower = _Grower(sampler, free, scopes, min(float(cluster_entries), float(2 ** _AXES)))
    first, cut = grower.grow(pairs)
    if not cut:
        return [first]
    again = [t for t in pairs if (t[1], t[2]) in cut] + [t for t in pairs if (t[1], t[2]) not in cut]
    second, _ = grower.grow(again)
    return [first, second]
