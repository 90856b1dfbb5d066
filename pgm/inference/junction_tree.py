"""Exact inference over discrete variables on a junction tree, batched over rows.

A junction tree (clique tree) groups the variables into cliques so that every
factor of the joint fits in one clique and every variable's cliques form a
connected subtree.  Passing messages along its edges -- towards a root
(*collect*) and back (*distribute*) -- leaves every clique holding the joint
posterior of its variables: all marginals, and every family's posterior, from
one calibration.  Its cost is the sum of the clique table sizes, which the
elimination order decides; :mod:`pgm.inference.triangulation` tries several
greedy heuristics on large trees and keeps the cheapest.

Batching.  The factors of the network are the same for every row; the
evidence is not.  Evidence enters as per-row *likelihood vectors* -- one-hot
for an observed state, all ones for a missing value, any non-negative vector
for soft evidence -- and, for hybrid networks, one per-row factor over the
discrete parents of the continuous nodes.  Every potential and message then
carries a trailing row axis (last, so that NumPy's inner loops run along the
rows, not along a clique's two or three states), and one pass serves a chunk
of rows with as many missingness patterns as rows.

Scaling.  Messages are renormalised per row as they are passed and the log of
each normaliser is accumulated, so long products neither underflow nor
overflow and ``log p(evidence)`` comes out in log space: the log of the root's
total plus the accumulated log normalisers.

Max-product (MPE) replaces sums by maxima on the way up and reads the
maximising assignment back down the tree, clique by clique, given the states
its parent clique chose; ties go to the first state in row-major order.

Reference: Koller & Friedman, *Probabilistic Graphical Models* (2009), ch. 9-10, 13.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pgm.errors import InferenceTooLarge
from pgm.inference.triangulation import greedy_order, triangulate

__all__ = ["JunctionTree", "compile_junction_tree", "elimination_order", "format_bytes"]


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


# ---------------------------------------------------------------------------- elimination order
def elimination_order(adjacency: Mapping[int, set[int]], cards: Sequence[int]) -> tuple[list[int], list[frozenset]]:
    """Greedy weighted min-fill elimination order of an undirected graph.

    At each step the variable whose elimination adds the fewest fill edges is
    eliminated; ties go to the smallest clique table (product of
    cardinalities), then to the lowest index, so the order is deterministic.
    Returns the order and, for each eliminated variable, its elimination
    clique (itself and its neighbours at that moment).  Junction trees try
    more heuristics (:func:`pgm.inference.triangulation.triangulate`).
    """
    return greedy_order(adjacency, cards, "weighted-min-fill")


# ---------------------------------------------------------------------------- the compiled tree
@dataclass
class Clique:
    variables: tuple[int, ...]          # sorted: a clique's axes follow the global variable order
    shape: tuple[int, ...]
    parent: int | None = None
    separator: tuple[int, ...] = ()     # variables shared with the parent, sorted
    children: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def _expand_shape(scope_sorted: Sequence[int], clique_vars: Sequence[int], cards) -> tuple[int, ...]:
    """The broadcast shape of a factor over ``scope_sorted`` inside a clique's axes."""
    inside = set(scope_sorted)
    return tuple(cards[v] if v in inside else 1 for v in clique_vars)


class JunctionTree:
    """A compiled junction tree (forest) over discrete variables ``0..n-1``.

    Build with :func:`compile_junction_tree`; run with :meth:`calibrate`,
    :meth:`collect` or :meth:`max_product`.

    Factors come in two kinds.  *Static* factors (CPD tables, with
    evidence that is the same in every row already sliced in) are multiplied
    into each clique's base potential once.  *Row* factors -- per-row
    likelihood vectors and the hybrid networks' per-row factor -- are arrays
    whose last axis is the row; they are multiplied in per chunk.
    """

    def __init__(self, cards, cliques: list[Clique], order: list[int], roots: list[int],
                 static_home: list[int], row_home: list[int], row_scopes: list[tuple[int, ...]]):
        self.cards = tuple(int(c) for c in cards)
        self.cliques = cliques
        self.order = order
        self.roots = roots
        self.static_home = static_home
        self.row_home = row_home
        self.row_scopes = row_scopes
        self.postorder = self._postorder()
        self.heuristic = "weighted-min-fill"  # which triangulation heuristic gave the order
        self.home_of_variable = self._smallest_home()
        self._fixed_base: list[np.ndarray] | None = None
        self._fixed_flags: list[bool] = []
        self._rows_of: list[list[int]] = [[] for _ in cliques]
        for index, home in enumerate(row_home):
            self._rows_of[home].append(index)

    # -------------------------------------------------------------- structure
    def _postorder(self) -> list[int]:
        out: list[int] = []
        for root in self.roots:
            stack = [(root, False)]
            while stack:
                c, done = stack.pop()
                if done:
                    out.append(c)
                    continue
                stack.append((c, True))
                stack.extend((child, False) for child in reversed(self.cliques[c].children))
        return out

    def _smallest_home(self) -> dict[int, int]:
        home: dict[int, int] = {}
        for index, clique in enumerate(self.cliques):
            for v in clique.variables:
                if v not in home or clique.size < self.cliques[home[v]].size:
                    home[v] = index
        return home

    def clique_containing(self, variables) -> int:
        """The smallest clique that holds all of ``variables``."""
        wanted = set(variables)
        best = None
        for index, clique in enumerate(self.cliques):
            if wanted <= set(clique.variables) and (best is None or clique.size < self.cliques[best].size):
                best = index
        if best is None:
            raise ValueError(f"no clique holds all of {sorted(wanted)}")  # compile() forces it; a bug if reached
        return best

    @property
    def largest_table_entries(self) -> int:
        return max((c.size for c in self.cliques), default=1)

    @property
    def total_table_entries(self) -> int:
        return sum(c.size for c in self.cliques)

    def entries_per_row(self) -> int:
        """Float64 entries one row needs while calibrating: beliefs, messages and one scratch table."""
        separators = sum(math.prod(self.cards[v] for v in c.separator) for c in self.cliques)
        return self.total_table_entries + separators + self.largest_table_entries

    def static_bytes(self, fixed: Sequence[bool] | None = None) -> int:
        """Bytes :meth:`static_potentials` allocates at most: every clique's base, the cliques holding
        factors that change between calls (``fixed`` False) once more, and one clique of scratch."""
        varying = set()
        if fixed is not None:
            varying = {h for h, keep in zip(self.static_home, fixed) if not keep}
        else:
            varying = set(self.static_home)
        return 8 * (self.total_table_entries + sum(self.cliques[h].size for h in varying)
                    + self.largest_table_entries)

    def static_potentials(self, factors: Sequence[tuple[tuple[int, ...], np.ndarray]],
                          fixed: Sequence[bool] | None = None) -> list[np.ndarray]:
        """Each clique's base potential: the product of its static factors (scope, table with axes in scope order).

        Factors flagged ``fixed`` are the same at every call on this tree (CPD
        tables untouched by evidence); their product is computed once and
        kept, and only the others -- tables sliced by evidence, soft
        evidence -- are multiplied in per call.
        """
        fixed = [False] * len(factors) if fixed is None else list(fixed)
        if self._fixed_base is None or len(self._fixed_flags) != len(fixed) or self._fixed_flags != fixed:
            self._fixed_base = self._product([f for f, keep in zip(factors, fixed) if keep],
                                             [h for h, keep in zip(self.static_home, fixed) if keep],
                                             [np.ones(c.shape + (1,)) for c in self.cliques])
            self._fixed_flags = fixed
        varying = [(f, h) for f, h, keep in zip(factors, self.static_home, fixed) if not keep]
        return self._product([f for f, _ in varying], [h for _, h in varying], list(self._fixed_base))

    def _product(self, factors, homes, base: list[np.ndarray]) -> list[np.ndarray]:
        for (scope, table), home in zip(factors, homes):
            clique = self.cliques[home]
            order = np.argsort(scope)
            sorted_scope = [scope[i] for i in order]
            table = np.asarray(table, dtype=np.float64)
            aligned = np.transpose(table, order) if len(scope) > 1 else table
            base[home] = base[home] * aligned.reshape(_expand_shape(sorted_scope, clique.variables, self.cards) + (1,))
        return base

    # -------------------------------------------------------------- message passing
    def _initial(self, c: int, base, row_factors: Sequence[np.ndarray], n: int) -> np.ndarray:
        clique = self.cliques[c]
        factors = [row_factors[i].reshape(_expand_shape(self.row_scopes[i], clique.variables, self.cards) + (n,))
                   for i in self._rows_of[c]]
        potential = np.empty(clique.shape + (n,))
        if not factors:
            potential[...] = base[c]
            return potential
        # Multiply the per-row factors among themselves first: their product spans only their own
        # variables, usually far fewer entries than the clique, which is then written once.
        product = factors[0]
        for factor in factors[1:]:
            product = product * factor
        np.multiply(base[c], product, out=potential)
        return potential

    def _separator_axes(self, c: int) -> tuple[int, ...]:
        clique = self.cliques[c]
        keep = set(clique.separator)
        return tuple(i for i, v in enumerate(clique.variables) if v not in keep)

    def _into(self, message: np.ndarray, separator, clique: Clique, n: int) -> np.ndarray:
        return message.reshape(_expand_shape(separator, clique.variables, self.cards) + (n,))

    def collect(self, base, row_factors: Sequence[np.ndarray], n: int, *, max_product: bool = False,
                scales: dict | None = None):
        """Pass messages towards the roots.

        Returns ``(beliefs, up_messages, log_scale)``: each clique's potential
        times the messages from its children (for the roots: the unnormalised
        joint of their tree), the normalised message each clique sent its
        parent, and per row the sum of the logs of the normalisers.
        """
        beliefs: dict[int, np.ndarray] = {}
        up: dict[int, np.ndarray] = {}
        scales = {} if scales is None else scales
        log_scale = np.zeros(n)
        reduce = np.max if max_product else np.sum
        for c in self.postorder:
            clique = self.cliques[c]
            belief = self._initial(c, base, row_factors, n)
            for child in clique.children:
                belief *= self._into(up[child], self.cliques[child].separator, clique, n)
            beliefs[c] = belief
            if clique.parent is None:
                continue
            axes = self._separator_axes(c)
            message = reduce(belief, axis=axes) if axes else belief.copy()
            up[c] = message
            flat = message.reshape(-1, n)
            scale = flat.max(axis=0) if max_product else flat.sum(axis=0)
            _rescale(message, scale, log_scale)
            scales[c] = scale
        return beliefs, up, log_scale

    def log_partition(self, beliefs, log_scale: np.ndarray, n: int, *, max_product: bool = False) -> np.ndarray:
        """log of the (max-)sum of each root's belief plus the accumulated scales: log p(evidence) per row."""
        total = log_scale.copy()
        with np.errstate(divide="ignore"):
            for root in self.roots:
                flat = beliefs[root].reshape(-1, n)
                total += np.log(flat.max(axis=0) if max_product else flat.sum(axis=0))
        return total

    def calibrate(self, base, row_factors: Sequence[np.ndarray], n: int):
        """Collect and distribute: every clique's belief becomes its posterior (normalised per row).

        Returns ``(beliefs, log_evidence)``.  Rows whose evidence has
        probability zero get all-zero beliefs and ``-inf``.
        """
        scales: dict[int, np.ndarray] = {}
        beliefs, up, log_scale = self.collect(base, row_factors, n, scales=scales)
        log_evidence = self.log_partition(beliefs, log_scale, n)
        for root in self.roots:
            _normalise(beliefs[root], n)
        for c in reversed(self.postorder):  # parents before children
            clique = self.cliques[c]
            for child in clique.children:
                child_clique = self.cliques[child]
                axes = tuple(i for i, v in enumerate(clique.variables) if v not in set(child_clique.separator))
                marginal = beliefs[c].sum(axis=axes) if axes else beliefs[c].copy()
                sent = up[child]
                # Hugin update: divide out what the child sent; 0/0 is 0 (that separator state is impossible).
                # The child's collect belief sums to the scale its message was divided by, so dividing the
                # small separator ratio by that scale leaves the child's belief normalised.
                np.divide(marginal, sent, out=marginal, where=sent > 0)
                marginal[sent <= 0] = 0.0
                marginal /= scales[child]
                beliefs[child] *= self._into(marginal, child_clique.separator, child_clique, n)
        return beliefs, log_evidence

    def max_product(self, base, row_factors: Sequence[np.ndarray], n: int):
        """The most probable joint assignment per row, and log of its (unnormalised) probability.

        Returns ``(assignment, log_max)``: ``assignment`` is an int array of
        shape ``(n_variables, n)`` (states of every variable in the tree) and
        ``log_max`` is log max_x of the product of all factors.
        """
        beliefs, _, log_scale = self.collect(base, row_factors, n, max_product=True)
        log_max = self.log_partition(beliefs, log_scale, n, max_product=True)
        assignment = np.full((len(self.cards), n), -1, dtype=np.int64)
        columns = np.arange(n)
        for c in reversed(self.postorder):
            clique = self.cliques[c]
            flat = beliefs[c].reshape(-1, n)
            strides = _strides(clique.shape)
            fixed = [i for i, v in enumerate(clique.variables) if v in set(clique.separator)]
            free = [i for i in range(len(clique.variables)) if i not in fixed]
            offset = np.zeros(n, dtype=np.int64)
            for i in fixed:
                offset += assignment[clique.variables[i]] * strides[i]
            free_shape = tuple(clique.shape[i] for i in free)
            grid = np.zeros(1, dtype=np.int64)
            for i in free:
                grid = (grid[:, None] + np.arange(clique.shape[i]) * strides[i]).ravel()
            values = flat[grid[:, None] + offset[None, :], columns[None, :]]
            best = np.argmax(values, axis=0)  # the first maximum: deterministic ties
            codes = np.unravel_index(best, free_shape) if free_shape else ()
            for i, code in zip(free, codes):
                assignment[clique.variables[i]] = code
        return assignment, log_max

    def marginal(self, beliefs, variables: Sequence[int], n: int) -> np.ndarray:
        """The posterior of ``variables`` (in the order given) from calibrated beliefs: shape (*cards, n)."""
        c = self.clique_containing(variables) if len(variables) > 1 else self.home_of_variable[variables[0]]
        clique = self.cliques[c]
        keep = set(variables)
        axes = tuple(i for i, v in enumerate(clique.variables) if v not in keep)
        table = beliefs[c].sum(axis=axes) if axes else beliefs[c]
        present = [v for v in clique.variables if v in keep]
        permutation = [present.index(v) for v in variables] + [len(variables)]
        return np.transpose(table, permutation)


def _strides(shape) -> list[int]:
    strides, step = [0] * len(shape), 1
    for i in range(len(shape) - 1, -1, -1):
        strides[i] = step
        step *= shape[i]
    return strides


def _rescale(message: np.ndarray, scale: np.ndarray, log_scale: np.ndarray) -> None:
    """Divide ``message`` by ``scale`` per row (rows with scale 0 stay 0) and add log(scale) to ``log_scale``."""
    with np.errstate(divide="ignore"):
        log_scale += np.log(scale)  # -inf marks a row of probability zero
    scale[scale == 0] = 1.0
    message /= scale


def _normalise(belief: np.ndarray, n: int) -> None:
    total = belief.reshape(-1, n).sum(axis=0)
    belief /= np.where(total > 0, total, 1.0)


# ---------------------------------------------------------------------------- compilation
def compile_junction_tree(
    cards: Sequence[int],
    static_scopes: Sequence[tuple[int, ...]],
    row_scopes: Sequence[tuple[int, ...]],
    forced: Sequence[tuple[int, ...]] = (),
    *,
    memory_budget: int | None = None,
    what: str = "inference",
    other_orders: bool = True,
    n_rows: int = 1,
) -> JunctionTree:
    """Build a junction tree over variables ``0..len(cards)-1``.

    Every static factor scope, row factor scope and ``forced`` set lands
    inside one clique; the first forced set's clique becomes the root of its
    tree.  Raises :class:`InferenceTooLarge` when the largest clique table
    for one row exceeds ``memory_budget`` bytes -- before allocating it.
    """
    n = len(cards)
    adjacency: dict[int, set[int]] = {v: set() for v in range(n)}
    for scope in list(static_scopes) + list(row_scopes) + list(forced):
        for a in scope:
            adjacency[a].update(b for b in scope if b != a)
    order, elimination_cliques, heuristic, _ = triangulate(
        adjacency, cards, n_rows=n_rows, try_others_above=None if other_orders else float("inf"))
    position = {v: i for i, v in enumerate(order)}

    # The elimination tree: clique k (of order[k]) hangs below the clique of
    # its earliest-eliminated other member, which contains the rest of it.
    parent_of = []
    for k, members in enumerate(elimination_cliques):
        later = [position[u] for u in members if u != order[k]]
        parent_of.append(min(later) if later else None)
    # Merge a clique into its child when it is a subset of the child (not maximal).
    alias = list(range(n))
    members = [set(c) for c in elimination_cliques]
    children: list[list[int]] = [[] for _ in range(n)]
    for k, p in enumerate(parent_of):
        if p is not None:
            children[p].append(k)
    for k in range(n):
        for child in children[k]:
            if alias[child] == child and members[k] <= members[child]:
                alias[k] = child
                parent_of[child] = parent_of[k]
                for other in children[k]:
                    if other != child:
                        parent_of[other] = child
                children[child].extend(o for o in children[k] if o != child)
                if parent_of[k] is not None:
                    siblings = children[parent_of[k]]
                    siblings[siblings.index(k)] = child
                break

    def resolve(k: int) -> int:
        while alias[k] != k:
            k = alias[k]
        return k

    kept = [k for k in range(n) if alias[k] == k]
    index_of = {k: i for i, k in enumerate(kept)}
    cliques = []
    for k in kept:
        variables = tuple(sorted(members[k]))
        cliques.append(Clique(variables, tuple(int(cards[v]) for v in variables)))
    for k in kept:
        p = parent_of[k]
        if p is not None:
            p = resolve(p)
            c, pc = index_of[k], index_of[p]
            cliques[c].parent = pc
            cliques[c].separator = tuple(sorted(set(cliques[c].variables) & set(cliques[pc].variables)))
            cliques[pc].children.append(c)

    def home(scope) -> int:
        if not scope:
            return 0
        first = min(scope, key=position.__getitem__)
        return index_of[resolve(position[first])]

    roots = [i for i, c in enumerate(cliques) if c.parent is None]
    if forced:
        target_home = _clique_holding(cliques, forced[0])
        _reroot(cliques, target_home)
        roots = [i for i, c in enumerate(cliques) if c.parent is None]

    # Per-row factors are multiplied in for every chunk, so they go to the smallest clique that holds them.
    row_homes = [_clique_holding(cliques, s) if s else 0 for s in row_scopes]
    tree = JunctionTree(cards, cliques, order, roots, [home(s) for s in static_scopes], row_homes,
                        [tuple(sorted(s)) for s in row_scopes])
    tree.heuristic = heuristic
    if memory_budget is not None:
        needed = tree.largest_table_entries * 8
        if needed > memory_budget:
            biggest = max(cliques, key=lambda c: c.size)
            raise InferenceTooLarge(
                f"{what} would need a table of {tree.largest_table_entries:,} entries ({format_bytes(needed)}) "
                f"for a clique of {len(biggest.variables)} variables, above the memory budget of "
                f"{format_bytes(memory_budget)}; raise memory_budget=, add evidence, or use "
                "method='likelihood_weighting'"
            )
    return tree


def _clique_holding(cliques: list[Clique], scope) -> int:
    wanted = set(scope)
    candidates = [i for i, c in enumerate(cliques) if wanted <= set(c.variables)]
    return min(candidates, key=lambda i: cliques[i].size)


def _reroot(cliques: list[Clique], new_root: int) -> None:
    """Reverse the parent links on the path from ``new_root`` to its root."""
    path = [new_root]
    while cliques[path[-1]].parent is not None:
        path.append(cliques[path[-1]].parent)
    separators = [cliques[c].separator for c in path]
    for k, (child, parent) in enumerate(zip(path, path[1:])):
        cliques[parent].children.remove(child)
        cliques[child].children.append(parent)
        cliques[parent].parent = child
        cliques[parent].separator = separators[k]
    cliques[new_root].parent = None
    cliques[new_root].separator = ()
