"""Continuous nodes split into independent Gaussian blocks, each keyed only on its own discrete parents.

In a conditional linear Gaussian network the continuous nodes, given the
states of the discrete nodes, form one Gaussian.  Computed that way, the
Gaussian is keyed on every discrete parent of every continuous node jointly:
twenty independent pairs ``d_i -> c_i`` would need 2^20 Gaussians per row.

But two continuous nodes that no chain of continuous parent-child edges
joins are independent given the discrete nodes, and each depends only on
the configurations of *its own* discrete parents.  So the continuous nodes
fall into components (connected by continuous edges), each depending only
on its members' discrete parents.  Components with the same discrete
parents share a block -- one
:class:`~pgm.inference.gaussian_elimination.GaussianElimination` keyed on
them, as the features of a naive Bayes classifier all share the class --
and components with different ones get blocks of their own.  A block's log density
``log p(observed part of the block | keys)`` enters the discrete junction
tree as one factor over those keys: the tree then has one small clique per
pair, not one over all twenty parents, and the work grows linearly with the
number of pairs.

*Strong junction trees.*  A strong junction tree (Lauritzen & Jensen, 2001)
eliminates every continuous variable before any discrete one.  Eliminating
a connected set of hidden continuous variables makes its discrete
neighbours one clique, so the tree has a clique holding each component's
discrete neighbours -- exactly a block's keys.  With continuous evidence
the same holds in the graph where each observed continuous node is
conditioned on (its family, without it, stays a clique of the moral graph;
it is no longer eliminated): there a component is a set of hidden continuous
nodes joined through families, and its discrete neighbours are the discrete
parents of its members and of their observed children.  Those are the
blocks built here: an edge joins when its parent is hidden.  So a block's
key set is always inside one discrete clique of the strong junction tree
(``tests/test_hybrid_strong_tree.py`` checks it against a strong
elimination order computed independently), and the Gaussians per row never
exceed that tree's largest discrete clique.  What a block does not do is
split further inside a component: a strong junction tree must not either,
since the component's keys are one clique there.
"""

from __future__ import annotations

import math

import numpy as np

from pgm.inference.gaussian_elimination import GaussianElimination, stack, structure_key

__all__ = ["GaussianBlocks", "continuous_blocks", "factor_scopes"]


def continuous_blocks(network, continuous, keys, observed=frozenset()) -> list[tuple[tuple, tuple]]:
    """The blocks of ``continuous`` (topologically ordered nodes): ``[(nodes, keys), ...]``.

    ``keys`` are the discrete nodes that carry a per-row factor (in the
    order their factors' axes use).  A component's keys are those among its
    members' discrete parents, in the same order; the components with the
    same keys form one block (nodes in topological order), and blocks come
    in the order of their first node.

    An edge from a parent in ``observed`` (continuous nodes observed in
    every row) joins nothing: given the parent's value, the child's density
    involves the parent only through a known offset to its mean, and the
    parent's own density does not involve the child.  So a fully observed
    chain of switching regressions ``d_i -> c_i``, ``c_{i-1} -> c_i`` is one
    block per link, and in ``c1 -> c2 -> c3`` with ``c1`` observed, ``c1``'s
    discrete parents key a block of their own.  An edge from a hidden parent
    joins, whether the child is observed or not (the child's density is a
    function of the parent): these blocks are the components that a strong
    junction tree's continuous eliminations leave, see below.

    Examples
    --------
    >>> import pgm
    >>> from pgm import Categorical, LinearGaussian
    >>> net = pgm.BayesianNetwork({
    ...     "d0": Categorical(["a", "b"], table=[0.5, 0.5]), "d1": Categorical(["a", "b"], table=[0.5, 0.5]),
    ...     "c0": LinearGaussian(parents=["d0"], intercept=[0.0, 1.0]),
    ...     "c1": LinearGaussian(parents=["d1"], intercept=[0.0, 1.0])})
    >>> continuous_blocks(net, ("c0", "c1"), ("d0", "d1"))
    [(('c0',), ('d0',)), (('c1',), ('d1',))]
    """
    members = set(continuous)
    parent_of = {node: node for node in continuous}

    def find(node):
        while parent_of[node] != node:
            parent_of[node] = parent_of[parent_of[node]]
            node = parent_of[node]
        return node

    for node in continuous:
        for parent in network[node].parents:
            if parent in members and parent not in observed:
                parent_of[find(parent)] = find(node)
    groups: dict[str, list[str]] = {}
    for node in continuous:
        groups.setdefault(find(node), []).append(node)
    position = {k: i for i, k in enumerate(keys)}
    by_keys: dict[tuple, list[str]] = {}
    for nodes in groups.values():
        own = {p for n in nodes for p in network[n].parents if p in position}
        by_keys.setdefault(tuple(sorted(own, key=position.__getitem__)), []).extend(nodes)
    order = {node: i for i, node in enumerate(continuous)}
    return [(tuple(sorted(nodes, key=order.__getitem__)), block_keys) for block_keys, nodes in by_keys.items()]


def factor_scopes(blocks) -> list[tuple]:
    """The distinct key sets of ``blocks``, in order of first appearance: one junction-tree factor each.

    (:func:`continuous_blocks` gives each key set one block already; blocks
    built otherwise that share keys would share a factor, the sum of their
    log densities.)
    """
    return list(dict.fromkeys(keys for _, keys in blocks if keys))


def block_bytes_per_row(network, blocks) -> int:
    """An upper estimate of the float64 bytes one row needs across ``blocks``, before building them."""
    total = 0
    for nodes, keys in blocks:
        configurations = math.prod(len(network.states(k)) for k in keys)
        total += 8 * configurations * (3 * len(nodes) ** 2 + 8 * len(nodes) + 4)
    return total


class GaussianBlocks:
    """One :class:`GaussianElimination` per block of continuous nodes (see the module docstring).

    Parameters
    ----------
    network : BayesianNetwork
    blocks : list of (nodes, keys)
        From :func:`continuous_blocks`.
    fixed : mapping of str to int
        Discrete parents whose state is known for every row (node -> code).
    """

    def __init__(self, network, blocks, fixed=None):
        self.blocks = [GaussianElimination(network, nodes, keys, fixed) for nodes, keys in blocks]
        #: one factor per distinct key set: (keys, the blocks that add their log densities to it)
        self.factors = [(keys, [b for b, (_, k) in enumerate(blocks) if k == keys]) for keys in factor_scopes(blocks)]
        self.unkeyed = [b for b, (_, k) in enumerate(blocks) if not k]
        self.nodes = tuple(n for nodes, _ in blocks for n in nodes)
        self.block_of = {n: b for b, (nodes, _) in enumerate(blocks) for n in nodes}
        # blocks of the same shape run as one stacked elimination (many small pairs: one pass)
        groups: dict = {}
        for b, block in enumerate(self.blocks):
            key = structure_key(block)
            groups.setdefault(("alone", b) if key is None else key, []).append(b)
        self.groups = [(members, self.blocks[members[0]] if len(members) == 1 else stack([self.blocks[b] for b in members]))
                       for members in groups.values()]

    @property
    def n_configurations(self) -> int:
        """Gaussians per row over all blocks (a sum, where one joint Gaussian would need the product)."""
        return sum(block.n_configurations for block in self.blocks)

    def bytes_per_row(self, covariances: bool) -> int:
        """Float64 bytes one row needs across the blocks while running."""
        return sum(block.bytes_per_row(covariances) for block in self.blocks)

    def block(self, node: str) -> tuple[int, GaussianElimination]:
        """The index and elimination of the block holding ``node``."""
        b = self.block_of[node]
        return b, self.blocks[b]

    def run(self, values: dict, n_rows: int, *, means: bool, covariances: bool, describe_row=str,
            deviations: bool | None = None) -> list:
        """Each block's :meth:`GaussianElimination.run` on ``values`` (node -> column, absent: hidden).

        Returns one ``(log_density, mean, covariance, deviation)`` per block.
        """
        out: list = [None] * len(self.blocks)
        for members, elimination in self.groups:
            if len(members) == 1:
                block = self.blocks[members[0]]
                matrix = np.full((len(block.nodes), n_rows), np.nan)
                for i, node in enumerate(block.nodes):
                    if node in values:
                        matrix[i] = values[node]
                out[members[0]] = block.run(matrix, means=means, covariances=covariances, describe_row=describe_row,
                                            deviations=deviations, external=values)
                continue
            # one configuration axis for the whole group: each block's values fill its own stretch
            matrix = np.full((len(elimination.nodes), elimination.n_configurations, n_rows), np.nan)
            stretches, start = [], 0
            for b in members:
                block = self.blocks[b]
                stop = start + block.n_configurations
                for i, node in enumerate(block.nodes):
                    if node in values:
                        matrix[i, start:stop] = values[node]
                stretches.append((b, start, stop))
                start = stop
            # each block's deviations are taken from its own first configuration
            reference = np.concatenate([np.full(stop - start, start, dtype=np.intp) for _, start, stop in stretches])
            log_density, mean, cov, deviation = elimination.run(matrix, means=means, covariances=covariances,
                                                                describe_row=describe_row, reference=reference,
                                                                deviations=deviations)
            for b, start, stop in stretches:
                out[b] = tuple(None if part is None else part[..., start:stop, :]
                               for part in (log_density, mean, cov, deviation))
        return out
