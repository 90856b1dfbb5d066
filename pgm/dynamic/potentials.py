"""Each slice's log-potentials over the joint hidden state, for every step of every sequence.

Exact inference here treats the *hidden* nodes of a slice (latent, discrete)
as one joint variable ``s`` with ``S = prod(cardinalities)`` states, and every
CPD of the slice as a factor over ``(s_{t-1}, s_t)`` once the observed values
are plugged in.  A factor is one of

- *constant*: a hidden node whose parents are hidden (an HMM's transition):
  one ``(S,)`` or ``(S, S)`` table, the same for every step;
- *unary*: it involves observed values and hidden nodes of slice ``t`` only
  (an HMM's emission): ``(steps, S)``;
- *pairwise*: it involves observed values and hidden nodes of slice ``t-1``
  (an input-output HMM's transition): ``(steps, S, S)``.

Each factor is evaluated by the CPD's own ``log_prob`` on the grid of the
hidden nodes it involves (not the whole joint), then spread over ``S`` by
an index array.  The same description of factors (:class:`Factor`) serves
the expected statistics of EM (:mod:`pgm.dynamic.learning`).

Slices ``t < n_initial`` may use their own CPDs, so the steps are cut into
*segments*: ``[0, 1), [1, 2), ..., [n_initial, longest)``; within a segment
every node has one CPD.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pgm.dynamic.model import parse_parent
from pgm.errors import DataError, InferenceTooLarge, StructureError

__all__ = ["HiddenSpace", "hidden_space", "Factor", "factors", "Potentials", "potentials", "partly_observed", "evidence_terms"]

#: The largest joint hidden state the exact engine enumerates.
MAX_HIDDEN_STATES = 4096


@dataclass(frozen=True)
class HiddenSpace:
    """The joint state of a slice's hidden nodes: ``codes[s, j]`` is node ``j``'s state in joint state ``s``."""

    nodes: tuple
    cards: tuple
    codes: np.ndarray

    #: Observed nodes carried in the joint state because some of their values are missing (or softly
    #: observed) and other nodes depend on them; their values enter as evidence factors.
    promoted: tuple = ()

    #: Lagged copies ``(name, node, k)``: the joint state at slice ``t`` also holds ``node``'s value at
    #: slice ``t - k`` under ``name`` (``"x[t-k]"``), for every hidden node with a child ``k + 1 >= 2``
    #: slices later.  A lag-``(k+1)`` parent is then the previous slice's copy ``k``, so every factor
    #: still links two consecutive slices; the copies are tied to the past by :func:`copy_transition`.
    copies: tuple = ()

    @classmethod
    def of(cls, network, promoted=(), reach=None) -> "HiddenSpace":
        cards = []
        nodes = tuple(network.latent_nodes) + tuple(n for n in network.nodes if n in set(promoted))
        for node in nodes:
            domain = network.domains[node]
            if domain is None:
                raise StructureError(
                    f"latent node {node!r} is continuous; the exact sequence engine needs discrete hidden nodes "
                    "(a linear Gaussian state-space model runs through pgm.dynamic.kalman)")
            cards.append(len(domain))
        longest = _longest_lags(network, set(nodes))
        reach = {n: max(longest.get(n, 0), (reach or {}).get(n, 0)) for n in nodes}
        copies = tuple((f"{node}[t-{k}]", node, k) for node in nodes for k in range(1, reach.get(node, 1)))
        cards += [cards[nodes.index(node)] for _, node, _ in copies]
        size = int(np.prod(cards, dtype=np.int64)) if cards else 1
        if size > MAX_HIDDEN_STATES:
            carried = f" (with the partly observed {list(nodes[len(network.latent_nodes):])})" if promoted else ""
            lagged = (f" and the lagged copies {[name for name, _, _ in copies]} that parents in earlier slices "
                      "(or gaps in continuous values carried across slices, one copy per step of the longest "
                      "gap) need" if copies else "")
            raise InferenceTooLarge(
                f"the joint hidden state of {list(nodes)}{carried}{lagged} has {size:,} states, more than the "
                f"{MAX_HIDDEN_STATES:,} the exact engine enumerates")
        codes = np.array(np.unravel_index(np.arange(size), cards)).T if cards else np.zeros((1, 0), dtype=np.int64)
        return cls(nodes + tuple(name for name, _, _ in copies), tuple(cards), codes.astype(np.int64),
                   nodes[len(network.latent_nodes):], copies)

    @property
    def carried(self) -> tuple:
        """The hidden nodes proper (latent, then partly observed), without the lagged copies."""
        return self.nodes[:len(self.nodes) - len(self.copies)]

    @property
    def size(self) -> int:
        return len(self.codes)

    def column(self, node: str) -> np.ndarray:
        return self.codes[:, self.nodes.index(node)]

    def copy_name(self, node: str, lag: int) -> str:
        """The name under which the previous slice holds ``node`` at ``lag`` slices back from slice ``t``."""
        return node if lag <= 1 else f"{node}[t-{lag - 1}]"


def hidden_space(network, data) -> HiddenSpace:
    """The joint hidden state ``data`` needs: the latent nodes, the partly observed ones
    (:func:`partly_observed`), and the lagged copies that lagged parents and the blocks of missing
    continuous values carried across slices (:mod:`pgm.dynamic.gaussian_runs`) need."""
    from pgm.dynamic.gaussian_runs import run_reach

    promoted = partly_observed(network, data)
    carried = set(network.latent_nodes) | set(promoted)
    return HiddenSpace.of(network, promoted, run_reach(network, data, carried))


def _longest_lags(network, hidden: set) -> dict:
    """For each hidden node with children in later slices, the largest lag at which it is a parent."""
    reach = {}
    for t in range(network.n_initial + 1):
        for node in network.nodes:
            for parent in network.cpd(node, t).parents:
                base, lag = parse_parent(parent, node)
                if base in hidden:
                    reach[base] = max(reach.get(base, 0), lag)
    return reach


def copy_transition(space: HiddenSpace) -> np.ndarray | None:
    """``(S, S)`` log-table, 0 where every lagged copy at slice t equals its source at slice t-1, else -inf.

    Copy ``k`` of ``x`` at slice ``t`` must equal copy ``k - 1`` (copy 0 is ``x``
    itself) at slice ``t - 1``; with the copies fixed to state 0 at slice 0
    (:func:`copy_start`), copy ``k`` is ``x[t-k]`` wherever that slice exists.
    """
    if not space.copies:
        return None
    agree = np.ones((space.size, space.size), dtype=bool)
    for name, node, k in space.copies:
        source = node if k == 1 else f"{node}[t-{k - 1}]"
        agree &= space.column(source)[:, None] == space.column(name)[None, :]
    return np.where(agree, 0.0, -np.inf)


def copy_start(space: HiddenSpace) -> np.ndarray | None:
    """``(S,)`` log-table at slice 0: the lagged copies, which refer to no slice yet, sit in state 0."""
    if not space.copies:
        return None
    fixed = np.ones(space.size, dtype=bool)
    for name, _, _ in space.copies:
        fixed &= space.column(name) == 0
    return np.where(fixed, 0.0, -np.inf)


@dataclass
class Factor:
    """One CPD over one segment of steps, with the hidden nodes it involves.

    ``involved`` lists ``(node, lag)`` pairs (lag 0 or 1) of hidden nodes;
    ``grid`` enumerates their joint states; ``index`` maps joint hidden states
    to grid rows: shape ``(S,)`` without lag-1 nodes, ``(S, S)`` (previous,
    current) with them.
    """

    node: str
    cpd: object
    key: str
    start: int
    stop: int
    involved: list
    grid: np.ndarray
    index: np.ndarray
    uses_data: bool
    hidden: frozenset = frozenset()
    #: The CPD's name for each ``involved`` entry (a lagged copy ``("x[t-1]", 1)`` is its parent ``"x[t-2]"``).
    names: list | None = None

    @property
    def pairwise(self) -> bool:
        return self.index.ndim == 2


def factors(network, space: HiddenSpace, longest: int) -> list[Factor]:
    """Every CPD's factor in every segment of ``[0, longest)``; compiled once per network, hidden space and
    length (a small cache on the network, dropped when its CPDs change)."""
    cache = network.__dict__.setdefault("_compiled_factors", {})
    key = (space.nodes, longest)
    if key not in cache:
        if len(cache) >= 32:  # many different lengths: keep the cache small
            cache.clear()
        cache[key] = _compile_factors(network, space, longest)
    return cache[key]


def _compile_factors(network, space: HiddenSpace, longest: int) -> list[Factor]:
    cuts = list(range(min(network.n_initial, longest))) + [min(network.n_initial, longest), longest]
    segments = [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]
    hidden = set(space.nodes)
    out = []
    for a, b in segments:
        for node in network.nodes:
            cpd = network.cpd(node, a)
            involved = [(node, 0)] if node in hidden else []
            names = [node] if node in hidden else []
            uses_data = node not in hidden
            for parent in cpd.parents:
                base, lag = parse_parent(parent, node)
                if base in hidden:
                    # a parent k >= 2 slices back is the previous slice's lagged copy k - 1
                    involved.append((space.copy_name(base, lag), min(lag, 1)))
                    names.append(parent)
                else:
                    uses_data = True
            cards = [space.cards[space.nodes.index(n)] for n, _ in involved]
            grid = (np.array(np.unravel_index(np.arange(int(np.prod(cards, dtype=np.int64))), cards)).T
                    if cards else np.zeros((1, 0), dtype=np.int64))
            strides = np.array([int(np.prod(cards[j + 1:], dtype=np.int64)) for j in range(len(cards))], dtype=np.int64)
            current = np.zeros(space.size, dtype=np.int64)
            before = np.zeros(space.size, dtype=np.int64)
            for j, (n, lag) in enumerate(involved):
                if lag == 0:
                    current += space.column(n) * strides[j]
                else:
                    before += space.column(n) * strides[j]
            has_lag = any(lag == 1 for _, lag in involved)
            index = before[:, None] + current[None, :] if has_lag else current
            out.append(Factor(node, cpd, network.cpd_key(node, a), a, b, involved, grid, index, uses_data,
                              frozenset(hidden), names))
    return out


def grid_columns(factor: Factor, n_rows: int) -> dict:
    """The hidden columns of ``factor``'s grid repeated for ``n_rows`` positions: name -> (n_rows * G,) codes."""
    out = {}
    for j, (n, lag) in enumerate(factor.involved):
        name = factor.names[j] if factor.names is not None else n if lag == 0 else f"{n}[t-{lag}]"
        out[name] = np.tile(factor.grid[:, j], n_rows)
    return out


def factor_rows(factor: Factor, data, network, *, missing_child: bool = False):
    """The positions of ``factor``'s segment where it applies, and the observed columns there.

    Returns ``(rows, cols, columns)``: packed row and step of each position,
    and a mapping from the CPD's variable and observed parent names to their
    values at those positions.  A missing observed value is allowed only where
    nothing observed depends on it (the factor then drops out).
    """
    # The positions depend on the data and the structure only, so EM's iterations compute them once.
    cache = data.__dict__.setdefault("_factor_rows", {})
    key = (factor.node, factor.start, factor.stop, missing_child, tuple(factor.cpd.parents),
           tuple(n for n, _ in factor.involved))
    if key not in cache:
        cache[key] = _factor_rows(factor, data, network, missing_child)
    return cache[key]


def _factor_rows(factor, data, network, missing_child):
    a, b = factor.start, factor.stop
    valid = np.arange(a, b)[None, :] < data.lengths[:, None]
    node, cpd = factor.node, factor.cpd
    hidden = factor.hidden
    keep = valid.copy()
    from pgm.dynamic.gaussian_blocks import block_mask

    replaced = block_mask(data, node, a, b)
    if replaced is not None:  # steps where the slice's Gaussian block stands in for this node's factor
        keep &= ~replaced
    from pgm.dynamic.gaussian_runs import run_mask

    in_runs = run_mask(network, data, node)
    if in_runs is not None:  # steps where a block of values carried across slices stands in for it
        keep &= ~in_runs[:, a:b]
    if node not in hidden:
        absent = _missing(_column(data, node, node)[:, a:b])
        keep &= absent if missing_child else ~absent
    elif missing_child:
        keep[:] = False
    needed = []
    for parent in cpd.parents:
        base, lag = parse_parent(parent, node)
        if base in hidden:
            continue
        values = _column(data, base, node)[:, a - lag:b - lag]
        gap = keep & _missing(values)
        if gap.any():
            i, t = np.argwhere(gap)[0]
            raise DataError(
                f"{base!r} is missing in sequence {data.ids[i]!r} at t={a - lag + t}, but {node!r} at t={a + t} "
                f"depends on it; the exact engine sums out a missing continuous value only where its observed "
                "children are in its own slice (discrete ones anywhere)")
        needed.append((parent, values))
    if keep.all():  # every step of the segment (complete data): row-major positions without a scan or gather
        n, span = keep.shape
        rows, cols = np.repeat(np.arange(n), span), np.tile(np.arange(span), n)
        pick = lambda values: np.ascontiguousarray(values).reshape(-1)
    else:
        rows, cols = np.nonzero(keep)
        pick = lambda values: values[rows, cols]
    columns = {parent: pick(values) for parent, values in needed}
    if node not in hidden and not missing_child:
        columns[node] = pick(_column(data, node, node)[:, a:b])
    return rows, cols + a, columns


def _column(data, node, child):
    if node not in data.columns:
        raise DataError(f"the data has no column for {node!r}" + (f", which {child!r} depends on" if child != node else "")
                        + "; only latent nodes may be absent")
    return data.columns[node]


def _missing(values: np.ndarray) -> np.ndarray:
    return np.isnan(values) if values.dtype.kind == "f" else values < 0


def evaluate(factor: Factor, data, network) -> tuple:
    """``(rows, cols, log values)`` of a data-dependent factor: log values have shape ``(positions, G)``."""
    rows, cols, columns = factor_rows(factor, data, network)
    n, g = len(rows), len(factor.grid)
    lookup = _discrete_lookup(factor, network, columns, n)
    if lookup is not None:
        table, code = lookup
        return rows, cols, table[code]
    repeated = {name: np.repeat(values, g) for name, values in columns.items()}
    repeated.update(grid_columns(factor, n))
    values = repeated.pop(factor.node)
    parents = {p: repeated[p] for p in factor.cpd.parents}
    return rows, cols, factor.cpd.log_prob(values, parents).reshape(n, g)


#: Largest table of (observed configurations x hidden grid) worth evaluating once and gathering from.
LOOKUP_LIMIT = 1 << 16


def _discrete_lookup(factor: Factor, network, columns: dict, n: int):
    """The ``(n, G)`` log values by evaluating the CPD once on every configuration of its observed discrete
    columns and gathering by each position's configuration, or None when a column is continuous or the
    table would not be much smaller than the positions (then the CPD is evaluated position by position).

    The values are the CPD's own, only computed once per configuration instead of once per step."""
    names = list(columns)
    cards = []
    for name in names:
        base = name if name == factor.node else parse_parent(name, factor.node)[0]
        states = network.domains.get(base)
        if states is None or columns[name].dtype.kind not in "iu":
            return None
        cards.append(len(states))
    size = int(np.prod(cards, dtype=np.int64)) if cards else 1
    g = len(factor.grid)
    if size * g > LOOKUP_LIMIT or size * 4 > n:
        return None
    every = np.unravel_index(np.arange(size), cards) if cards else ()
    repeated = {name: np.repeat(codes.astype(columns[name].dtype), g) for name, codes in zip(names, every)}
    repeated.update(grid_columns(factor, size))
    values = repeated.pop(factor.node)
    table = factor.cpd.log_prob(values, {p: repeated[p] for p in factor.cpd.parents}).reshape(size, g)
    if not cards:
        return table, np.zeros(n, dtype=np.int64)
    code = np.ravel_multi_index([columns[name] for name in names], cards) if len(cards) > 1 else columns[names[0]]
    return table, code


def evaluate_constant(factor: Factor) -> np.ndarray:
    """A factor without data: its log values on its grid, shape ``(G,)``."""
    columns = grid_columns(factor, 1)
    values = columns.pop(factor.node)
    return factor.cpd.log_prob(values, {p: columns[p] for p in factor.cpd.parents})


@dataclass
class Potentials:
    """Log-potentials of every step.

    Attributes
    ----------
    unary : ndarray, shape (n_sequences, longest, S)
        Everything that depends on slice ``t``'s hidden state only (0 in padding).
    pair : dict of int to ndarray (S, S)
        The constant log-transition into slice ``t`` for each ``t < n_initial``,
        and under key ``-1`` for every later slice.
    pair_steps : ndarray, shape (n_sequences, longest, S, S), or None
        Data-dependent pairwise terms, when any factor has them.
    """

    unary: np.ndarray
    pair: dict
    pair_steps: np.ndarray | None = None
    n_initial: int = 1
    factors: list = field(default_factory=list)

    def transition_at(self, t: int) -> np.ndarray:
        return self.pair[t] if t in self.pair else self.pair[-1]


def potentials(network, data, space: HiddenSpace) -> Potentials:
    """All log-potentials for packed ``data`` under ``network``."""
    from pgm.dynamic.gaussian_blocks import block_log_density, gaussian_blocks
    from pgm.dynamic.gaussian_runs import gaussian_runs, run_step_terms

    network_factors = factors(network, space, data.longest)
    blocks = gaussian_blocks(network, data, space)  # before any factor's rows: they leave these steps out
    S, N, T = space.size, data.n_sequences, data.longest
    unary = np.zeros((N, T, S))
    pair = {}
    pair_steps = None
    for factor in network_factors:
        key = -1 if factor.start >= network.n_initial else factor.start
        if not factor.uses_data:
            table = evaluate_constant(factor)[factor.index]
            if factor.pairwise:
                pair[key] = pair.get(key, 0.0) + table
            else:
                # no lag-1 nodes: it belongs to slice t alone, at every step of the segment
                valid = np.arange(factor.start, factor.stop)[None, :] < data.lengths[:, None]
                unary[:, factor.start:factor.stop] += np.where(valid[..., None], table, 0.0)
            continue
        span = factor.stop - factor.start
        if not factor.pairwise:
            rows, cols, columns = factor_rows(factor, data, network)
            lookup = _discrete_lookup(factor, network, columns, len(rows)) if len(rows) == N * span else None
            if lookup is not None:  # every step, discrete observed columns: one gather from the (small) table
                table, code = lookup
                unary[:, factor.start:factor.stop] += table[:, factor.index][code].reshape(N, span, S)
                continue
        rows, cols, values = evaluate(factor, data, network)
        if factor.pairwise:
            if pair_steps is None:
                pair_steps = np.zeros((N, T, S, S))
            pair_steps[rows, cols] += values[:, factor.index]
        else:
            # each (row, step) appears once per factor, so fancy-index += is exact
            if len(rows) == N * span and span > 0:
                # every step of the segment: the positions are its steps in row-major order, so a reshape
                # replaces the scatter (20x faster on a million steps)
                unary[:, factor.start:factor.stop] += values[:, factor.index].reshape(N, span, S)
            else:
                unary[rows, cols] += values[:, factor.index]
    for block in blocks:
        unary[block.rows, block.cols] += block_log_density(network, block, data, space)
    for run in gaussian_runs(network, data):  # spread over the block's steps: each sees its own path so far
        for steps, rows, values in run_step_terms(network, run, data, space):
            unary[rows, steps] += values
    evidence = evidence_terms(space, data)
    if not np.isscalar(evidence):
        unary += evidence
    for t in range(1, min(T, network.n_initial)):
        pair.setdefault(t, np.zeros((S, S)))
    if T > network.n_initial:
        pair.setdefault(-1, np.zeros((S, S)))
    tie = copy_transition(space)
    if tie is not None:
        pair = {key: table + tie for key, table in pair.items()}
        if not data.__dict__.get("_start", 0):  # a checkpoint window that starts later has no slice 0
            unary[:, 0] += copy_start(space)
    return Potentials(unary, pair, pair_steps, network.n_initial, network_factors)


def partly_observed(network, data) -> tuple:
    """The observed nodes the joint hidden state must carry for ``data``.

    A discrete observed node whose value is missing somewhere cannot simply
    drop out when other nodes depend on it (its children's factors need its
    value), and a softly observed one has no single value: such nodes join
    the joint hidden state, and their values -- a one-hot where observed, all
    ones where missing, the likelihood vector where soft -- enter as evidence
    factors (:func:`evidence_terms`).  Summing over the joint state then sums
    them out exactly, within the slice and across slices alike.  Missing
    values of nodes nothing depends on drop out without this.
    """
    has_children = {parse_parent(p, n)[0] for t in range(network.n_initial + 1) for n in network.nodes
                    for p in network.cpd(n, t).parents}
    soft = getattr(data, "soft", {}) or {}
    out = []
    for node in network.observed_nodes:
        if node in soft:
            out.append(node)
            continue
        column = data.columns.get(node)
        if column is None or node not in has_children or network.domains[node] is None:
            continue
        if (_missing(column) & data.valid).any():
            out.append(node)
    return tuple(out)


def evidence_terms(space: HiddenSpace, data) -> np.ndarray | float:
    """Log-evidence of the carried observed nodes (hard values) and of soft evidence, shape (N, T, S)."""
    soft = getattr(data, "soft", {}) or {}
    if not space.promoted and not soft:
        return 0.0
    total = np.zeros((data.n_sequences, data.longest, space.size))
    for node in space.promoted:
        codes = data.columns[node]
        state = space.column(node)
        wrong = (codes[..., None] >= 0) & (codes[..., None] != state[None, None, :])
        total[wrong] = -np.inf  # an observed value rules out every joint state that disagrees with it
    for node, likelihood in soft.items():
        with np.errstate(divide="ignore"):
            total += np.log(likelihood[..., space.column(node)])
    return total
