"""Approximate filtering with a factored belief state (Boyen and Koller, 1998).

The exact engine carries the joint distribution of a slice's hidden nodes:
``prod_i |z_i|`` numbers per step, which is out of reach for a factorial HMM
with a dozen chains.  The Boyen-Koller (BK) filter carries instead one
marginal per *cluster* of hidden nodes (by default every hidden node alone).
Each step multiplies the previous step's cluster marginals (treated as
independent), the transition CPDs and the slice's evidence, and sums out
everything but each cluster of the new slice -- a small tensor contraction
per cluster, batched over sequences, never forming the joint state -- then
normalises.  The product of the normalisers is the approximate likelihood.

The error does not grow with time: the projection onto independent clusters
adds an error at each step, and the stochastic transition contracts the
accumulated error geometrically, so the expected KL divergence between the
exact and the BK belief stays bounded by the per-step projection error over
the mixing rate (Boyen and Koller's theorem).  Clusters that keep strongly
coupled nodes together make the projection error small; with one cluster
holding every hidden node, BK is exact.  Compare with :meth:`filtered` on
a small version of the model to see the error (the tests report it).

Hidden nodes are discrete, parents at most one slice back; a missing
observed value is allowed where nothing depends on it (a leaf), as observed
values feed the contraction directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pgm.dynamic.model import parse_parent
from pgm.errors import DataError, ImpossibleEvidenceError, StructureError

__all__ = ["BoyenKollerResult", "boyen_koller"]


@dataclass
class BoyenKollerResult:
    """The Boyen-Koller filter's answers.

    Attributes
    ----------
    log_likelihood : pandas.Series
        Approximate ``log p(x)`` per sequence (the product of the step normalisers).
    filtered : pandas.DataFrame
        Approximate ``p(z_t | x_0..t)`` per (sequence, t), columns (node, state), as
        :meth:`~pgm.dynamic.DynamicBayesianNetwork.filtered` gives them.
    """

    log_likelihood: pd.Series
    filtered: pd.DataFrame


@dataclass
class _Term:
    """One CPD at one segment of steps: the hidden (node, lag) axes it spans and its log values."""

    axes: list
    start: int
    stop: int
    constant: np.ndarray | None  # (*cards) when it needs no data
    by_step: np.ndarray | None  # (n_sequences, stop - start, *cards) when it does (0 where it does not apply)


def boyen_koller(network, data, *, clusters=None, sequence=None, time=None, lengths=None) -> BoyenKollerResult:
    """Filtered marginals and log-likelihoods with a belief state factored into ``clusters``.

    Parameters
    ----------
    network : DynamicBayesianNetwork
        Discrete hidden nodes with parents at most one slice back.
    data : DataFrame, list of DataFrames, mapping, or array
        Sequences, as for :meth:`~pgm.dynamic.DynamicBayesianNetwork.log_likelihood`.
    clusters : list of lists of str, optional
        A partition of the hidden nodes; each cluster's joint marginal is
        kept exactly, clusters are treated as independent between steps.
        Default: every hidden node alone.
    sequence, time, lengths
        The sequence-id column, an optional time column, hmmlearn's lengths.

    Returns
    -------
    BoyenKollerResult

    Examples
    --------
    >>> import pgm
    >>> from pgm.dynamic.boyen_koller import boyen_koller
    >>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
    ...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
    >>> boyen_koller(umbrella, {"y": [1, 1]}).filtered[("z", 1)].round(3).tolist()  # one cluster: exact
    [0.818, 0.883]
    """
    from pgm.dynamic.inference import _sequence_index, pack_observed

    if not network.is_fitted:
        raise DataError(f"the network {network.name!r} has unfitted CPDs; fit it first")
    hidden = list(network.latent_nodes)
    for node in hidden:
        if network.domains[node] is None:
            raise StructureError(f"latent node {node!r} is continuous; the Boyen-Koller filter needs discrete "
                                 "hidden nodes (particle_filter takes continuous ones)")
    clusters = _clusters(hidden, clusters)
    packed = pack_observed(network, data, sequence=sequence, time=time, lengths=lengths)
    cards = {n: len(network.domains[n]) for n in hidden}
    terms = _terms(network, packed, set(hidden), cards)
    N, T = packed.n_sequences, packed.longest
    beliefs = [np.zeros((N, T) + tuple(cards[n] for n in c)) for c in clusters]
    log_c = np.zeros((N, T))
    n_active = packed.n_active
    previous = None
    for t in range(T):
        n = int(n_active[t])
        operands = []
        for term in terms:
            if not term.start <= t < term.stop:
                continue
            axes = [_axis(node, lag, hidden) for node, lag in term.axes]
            if term.constant is not None:
                operands.append((np.exp(term.constant), axes))
            else:
                values = term.by_step[:n, t - term.start]
                shift = values.reshape(n, -1).max(axis=1)
                operands.append((np.exp(values - shift.reshape((n,) + (1,) * (values.ndim - 1))), ["n"] + axes))
                log_c[:n, t] += shift
        if previous is not None:
            for c, marginal in zip(clusters, previous):
                operands.append((marginal[:n], ["n"] + [_axis(node, 1, hidden) for node in c]))
        total = _contract(operands, ["n"], n)
        if not (total > 0).all():
            row = int(np.argmin(total > 0))
            raise ImpossibleEvidenceError(f"sequence {packed.ids[row]!r} has probability zero at t={t} under the "
                                          "Boyen-Koller belief")
        log_c[:n, t] += np.log(total)
        current = []
        for k, c in enumerate(clusters):
            marginal = _contract(operands, ["n"] + [_axis(node, 0, hidden) for node in c], n)
            marginal = marginal / total.reshape((n,) + (1,) * len(c))
            beliefs[k][:n, t] = marginal
            current.append(np.zeros((N,) + marginal.shape[1:]))
            current[-1][:n] = marginal
        previous = current
    log_likelihood = np.where(packed.valid, log_c, 0.0).sum(axis=1)
    blocks, columns = [], []
    for node in hidden:
        k = next(i for i, c in enumerate(clusters) if node in c)
        others = tuple(2 + j for j, m in enumerate(clusters[k]) if m != node)
        per_node = beliefs[k].sum(axis=others) if others else beliefs[k]
        blocks.append(packed.to_long(per_node))
        columns += [(node, state) for state in network.domains[node]]
    filtered = pd.DataFrame(np.hstack(blocks), index=packed.frame_index(), columns=pd.MultiIndex.from_tuples(columns))
    return BoyenKollerResult(pd.Series(packed.in_user_order(log_likelihood), index=_sequence_index(packed),
                                       name="log_likelihood"), filtered)


def _clusters(hidden, clusters):
    if clusters is None:
        return [[n] for n in hidden]
    clusters = [list(c) for c in clusters]
    seen = [n for c in clusters for n in c]
    for node in seen:
        if node not in hidden:
            raise DataError(f"cluster member {node!r} is not a hidden node of the network ({hidden})")
    if sorted(seen) != sorted(hidden):
        missing = sorted(set(hidden) - set(seen)) or sorted({n for n in seen if seen.count(n) > 1})
        raise DataError(f"clusters must partition the hidden nodes; {missing[0]!r} is in none or in several")
    return clusters


def _axis(node, lag, hidden) -> int:
    """An einsum axis number: hidden node j at lag 0 is 2j + 1, at lag 1 is 2j + 2 (0 is the batch axis)."""
    return 2 * hidden.index(node) + 1 + lag


_PATHS: dict = {}


def _contract(operands, output, n):
    args = []
    for array, axes in operands:
        args += [array, [0 if a == "n" else a for a in axes]]
    args.append([0 if a == "n" else a for a in output])
    # the contraction order depends on the shapes only: found once, reused at every step
    key = tuple((a.shape, tuple(b)) for a, b in zip(args[:-1:2], args[1:-1:2])) + (tuple(args[-1]),)
    if key not in _PATHS:
        if len(_PATHS) > 4096:
            _PATHS.clear()
        _PATHS[key] = np.einsum_path(*args, optimize="greedy")[0]
    result = np.einsum(*args, optimize=_PATHS[key])
    return np.broadcast_to(result, (n,) + result.shape[1:]) if result.ndim else np.full(n, float(result))


def _terms(network, packed, hidden: set, cards: dict) -> list:
    """Every CPD's log values over its hidden axes, per segment of steps (reusing the exact engine's
    evaluation of a factor on a grid of hidden values)."""
    from pgm.dynamic.potentials import Factor, evaluate, evaluate_constant

    T = packed.longest
    cuts = list(range(min(network.n_initial, T))) + [min(network.n_initial, T), T]
    out = []
    for a, b in [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]:
        for node in network.nodes:
            cpd = network.cpd(node, a)
            involved, names = ([(node, 0)], [node]) if node in hidden else ([], [])
            uses_data = node not in hidden
            for parent in cpd.parents:
                base, lag = parse_parent(parent, node)
                if base in hidden:
                    if lag > 1:
                        raise StructureError(f"{node!r} has the hidden parent {parent!r}; the Boyen-Koller filter "
                                             "takes hidden parents one slice back at most")
                    involved.append((base, lag))
                    names.append(parent)
                else:
                    uses_data = True
            shape = tuple(cards[n] for n, _ in involved)
            grid = (np.array(np.unravel_index(np.arange(int(np.prod(shape, dtype=np.int64))), shape)).T
                    if shape else np.zeros((1, 0), dtype=np.int64))
            factor = Factor(node, cpd, network.cpd_key(node, a), a, b, involved, grid, np.zeros(0, dtype=np.int64),
                            uses_data, frozenset(hidden), names)
            if not uses_data:
                out.append(_Term(involved, a, b, evaluate_constant(factor).reshape(shape), None))
                continue
            rows, cols, values = evaluate(factor, packed, network)
            by_step = np.zeros((packed.n_sequences, b - a) + shape)
            by_step[rows, cols - a] = values.reshape((len(rows),) + shape)
            out.append(_Term(involved, a, b, None, by_step))
    return out
