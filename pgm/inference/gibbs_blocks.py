"""Tree blocks for Gibbs sampling: many nodes drawn jointly, so deterministic tables do not freeze the chains.

Single-site Gibbs cannot change a node that a deterministic CPD ties to a
neighbour (``either`` = ``tub`` OR ``lung``; hailfinder's ``Scenario`` and
its copies): every one-node move from a state leaves the support.  A
*block* of nodes drawn jointly from their distribution given everything
else moves them together.

The blocks here are trees: sets of nodes such that every CPD mentions at
most two of them, and the pairs mentioned form a tree.  Then

    p(x_B | rest) ∝ ∏_u ψ_u(x_u) ∏_{(u, parent(u))} ψ_u(x_parent(u), x_u),

each ψ the product of the CPD entries (and evidence) that involve ``u``
(and its tree parent), read with every other node at its current value.
One pass from the leaves to the root sums the tree out (messages in log
space), and one pass back draws the root, then each node given its tree
parent: an exact joint draw of the block, whose cost is linear in the
block (the sum over tree edges of the two cards' product), for every
column (chain x row) at once.

The blocks partition the sampled nodes and are grown Kruskal-fashion:
the pairs of nodes that share a CPD are taken most deterministic first
(the CPD's mean largest probability per parent configuration), and two
blocks are joined through a pair whenever the union is still a tree in the
sense above.  Deterministic links therefore end up inside blocks, where
they no longer stop the chains; a second partition grown from the pairs
the first one cut (:func:`tree_partitions`) covers most of the rest, and a
sweep draws every block of both.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TreeBlock", "tree_partitions"]


class TreeBlock:
    """One tree of nodes: a root, each other node's tree parent, and the CPDs that touch the tree.

    ``order`` lists the nodes root first, every node after its tree parent.
    ``terms[u]`` are the CPDs (sampler indices of their nodes) assigned to
    node ``u``: those whose scope meets the block in ``u`` alone or in
    ``u`` and its tree parent.
    """

    def __init__(self, order: list[int], parent: dict[int, int], terms: dict[int, list[int]]):
        self.order, self.parent, self.terms = order, parent, terms
        self.children = {u: [] for u in order}
        for u in order[1:]:
            self.children[parent[u]].append(u)


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.exp(x - top).sum(axis=axis)) + np.squeeze(top, axis=axis)


def _gumbel_argmax(log_weights: np.ndarray, rng) -> np.ndarray:
    """One index along axis 0 per column, drawn in proportion to exp(log_weights) (all -inf: index 0)."""
    return (log_weights + rng.gumbel(size=log_weights.shape)).argmax(axis=0)


def draw_block(sampler, block: TreeBlock, state: np.ndarray, unary: dict, tables, rng) -> None:
    """Draw the nodes of ``block`` jointly given the rest of ``state`` (nodes x columns), in place.

    ``unary[u]`` is an optional (states, columns) log weight for node ``u``
    (soft evidence, and -inf off the observed state in columns that observe it).
    """
    tables = sampler.log_tables if tables is None else tables
    columns = state.shape[1]
    col = np.arange(columns)
    inside = set(block.order)
    pots = {}  # u -> log potential (parent states, own states, columns), or (1, own states, columns) at the root
    for u in block.order:
        ku = sampler.cards[u]
        p = block.parent.get(u)
        kp = 1 if p is None else sampler.cards[p]
        pot = np.zeros((kp, ku, columns))
        if u in unary:
            pot = pot + unary[u][None]
        for w in block.terms[u]:
            ids, strides = sampler.parents[w]
            base = np.zeros(columns, dtype=np.int64)
            stride_u = stride_p = 0
            for x, s in zip(ids.tolist(), strides.tolist()):
                if x == u:
                    stride_u = s
                elif x == p:
                    stride_p = s
                elif x not in inside:
                    base = base + s * state[x]
            # the CPD's own node: its stride is 1
            if w == u:
                stride_u = 1
            elif w == p:
                stride_p = 1
            elif w not in inside:
                base = base + state[w]
            index = (base[None, None, :] + stride_u * np.arange(ku)[None, :, None]
                     + stride_p * np.arange(kp)[:, None, None])
            pot = pot + tables[w][index]
        pots[u] = pot
    # leaves to root: each node's message to its parent, log sum over its own states
    for u in reversed(block.order):
        for c in block.children[u]:
            pots[u] = pots[u] + pots.pop(("message", c))[None]
        if block.parent.get(u) is not None:
            pots[("message", u)] = _logsumexp(pots[u], axis=1)  # (parent states, columns)
    root = block.order[0]
    before = state[block.order].copy()
    state[root] = _gumbel_argmax(pots[root][0], rng)
    for u in block.order[1:]:
        conditional = pots[u][state[block.parent[u]], :, col].T  # (own states, columns)
        state[u] = _gumbel_argmax(conditional, rng)
    # a column where the rest rules out every state of the block keeps its old values (as single-site does)
    stuck = np.isneginf(pots[root][0].max(axis=0))
    if stuck.any():
        state[np.ix_(block.order, np.flatnonzero(stuck))] = before[:, stuck]


def _determinism(sampler, w: int) -> float:
    """How deterministic node ``w``'s CPD is: the mean over parent configurations of its largest probability."""
    table = np.exp(sampler.log_tables[w]).reshape(-1, sampler.cards[w])
    return float(table.max(axis=1).mean())


def _scopes(sampler, factors) -> list[tuple[int, ...]]:
    """Each node's CPD scope; () for the CPDs left out (``factors``: the ones that count)."""
    return [tuple(sampler.parents[w][0].tolist()) + (w,) if w in factors else () for w in range(len(sampler.nodes))]


def _grow(sampler, free: list[int], pairs: list[tuple[float, int, int]], scopes) -> tuple[list, set]:
    """A partition of ``free`` into tree blocks, joined through ``pairs`` in the order given; and the pairs cut."""
    free_set = set(free)
    touching = {v: [] for v in free}  # node -> CPDs whose scope holds it
    for w, scope in enumerate(scopes):
        for v in scope:
            if v in free_set:
                touching[v].append(w)
    block_of = {v: v for v in free}
    members = {v: {v} for v in free}
    edges = {v: [] for v in free}
    for _, a, b in pairs:
        ra, rb = block_of[a], block_of[b]
        if ra == rb:
            continue
        small, large = (ra, rb) if len(members[ra]) <= len(members[rb]) else (rb, ra)
        inside_small, inside_large = members[small], members[large]
        ok = True
        for v in inside_small:
            for w in touching[v]:
                scope = scopes[w]
                in_large = [x for x in scope if x in inside_large]
                if not in_large:
                    continue
                in_small = [x for x in scope if x in inside_small]
                if sorted(in_small + in_large) != sorted((a, b)):
                    ok = False
                    break
            if not ok:
                break
        if not ok:
            continue
        for v in inside_small:
            block_of[v] = large
        inside_large |= inside_small
        del members[small]
        edges[large] = edges[large] + edges.pop(small) + [(a, b)]
    cut = {(a, b) for _, a, b in pairs if block_of[a] != block_of[b]}
    blocks = []
    for root_id, nodes in members.items():
        adjacency = {v: [] for v in nodes}
        for a, b in edges[root_id]:
            adjacency[a].append(b)
            adjacency[b].append(a)
        root = min(nodes)
        order, parent = [root], {}
        for u in order:  # breadth first from the root
            for x in adjacency[u]:
                if x != parent.get(u):
                    parent[x] = u
                    order.append(x)
        terms = {u: [] for u in order}
        depth = {u: k for k, u in enumerate(order)}
        for w, scope in enumerate(scopes):
            held = [x for x in scope if x in nodes]
            if not held:
                continue
            # the deeper node of the (at most two) held: the CPD is a term of it and its tree parent
            deeper = max(held, key=depth.__getitem__)
            terms[deeper].append(w)
        blocks.append(TreeBlock(order, parent, terms))
    blocks.sort(key=lambda blk: blk.order[0])
    return blocks, cut


def tree_partitions(sampler, free: list[int], factors=None) -> list[list[TreeBlock]]:
    """Two partitions of the nodes ``free`` into tree blocks: the second grown from the pairs the first cut.

    Pairs are nodes sharing a CPD, strongest (most deterministic CPD) first;
    ties go to the lower indices, so the blocks are the same every run.
    ``factors`` are the CPDs (sampler indices) of the distribution sampled
    (None: all); the others are left out, as barren CPDs sum to one.
    """
    scopes = _scopes(sampler, set(range(len(sampler.nodes))) if factors is None else set(factors))
    free_set = set(free)
    strength: dict[tuple[int, int], float] = {}
    for w, scope in enumerate(scopes):
        if not scope:
            continue
        d = _determinism(sampler, w)
        held = [x for x in scope if x in free_set]
        for i, a in enumerate(held):
            for b in held[i + 1:]:
                key = (min(a, b), max(a, b))
                strength[key] = max(strength.get(key, 0.0), d)
    pairs = sorted(((s, a, b) for (a, b), s in strength.items()), key=lambda t: (-t[0], t[1], t[2]))
    first, cut = _grow(sampler, free, pairs, scopes)
    if not cut:
        return [first]
    again = [t for t in pairs if (t[1], t[2]) in cut] + [t for t in pairs if (t[1], t[2]) not in cut]
    second, _ = _grow(sampler, free, again, scopes)
    return [first, second]
