"""The questions asked of a dynamic network, answered exactly and returned as DataFrames.

Per-sequence log-likelihoods, filtering ``p(z_t | x_0..t)``, smoothing
``p(z_t | x_0..T-1)``, the most probable hidden path (Viterbi), k-step-ahead
prediction of the hidden state after each sequence ends.  Results are indexed
by ``(sequence, t)``; posterior columns are ``(hidden node, state)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from pgm.dynamic.forward_backward import (
    blocked_log_likelihood, forward, forward_backward, forward_log_likelihood, likelihood_block_length,
    long_enough_for_blocks, viterbi as _viterbi,
)
from pgm.dynamic.potentials import hidden_space, potentials
from pgm.dynamic.sequences import to_sequences
from pgm.errors import DataError

__all__ = ["log_likelihood", "filtered", "smoothed", "most_probable_path", "predict", "MostProbablePath"]


def prepare(network, data, *, sequence=None, time=None, lengths=None, soft=None):
    """Packed data, hidden space and potentials, ready for the recursions."""
    if not network.is_fitted:
        raise DataError(f"the network {network.name!r} has unfitted CPDs; fit it first")
    packed = pack_observed(network, data, sequence=sequence, time=time, lengths=lengths, soft=soft)
    space = hidden_space(network, packed)
    return packed, space, potentials(network, packed, space)


def _grouped(network, data, where, answer, combine):
    """``answer(packed, space, potentials)`` for the data, group by group when blocks of missing continuous
    values need joint states of different sizes in different sequences (:func:`~pgm.dynamic.gaussian_runs.
    reach_groups`), the groups' answers put together by ``combine(parts, packed)``."""
    from pgm.dynamic.gaussian_runs import reach_groups

    if not network.is_fitted:
        raise DataError(f"the network {network.name!r} has unfitted CPDs; fit it first")
    packed = pack_observed(network, data, **where)
    groups = reach_groups(network, packed)
    if groups is None or not _sequence_index(packed).is_unique:
        space = hidden_space(network, packed)
        return answer(packed, space, potentials(network, packed, space))
    parts = []
    for rows in groups:
        part = packed.subset(rows)
        space = hidden_space(network, part)
        parts.append(answer(part, space, potentials(network, part, space)))
    return combine(parts, packed)


def _steps_together(parts, packed):
    return pd.concat(parts).reindex(packed.frame_index())


def _sequences_together(parts, packed):
    return pd.concat(parts).reindex(_sequence_index(packed))


def pack_observed(network, data, *, sequence=None, time=None, lengths=None, soft=None):
    """The data packed (:mod:`pgm.dynamic.sequences`); latent nodes must not have values.

    ``soft`` maps discrete nodes to soft evidence (see :func:`pack_soft`)."""
    domains = {n: network.domains[n] for n in network.nodes}
    arrays = lengths is not None or isinstance(data, np.ndarray)  # hmmlearn's X: one column per observed node
    packed = to_sequences(data, {n: domains[n] for n in network.observed_nodes} if arrays else domains,
                          sequence=sequence, time=time, lengths=lengths)
    for node in network.latent_nodes:
        column = packed.columns.pop(node, None)
        if column is not None:
            present = ~(np.isnan(column) if column.dtype.kind == "f" else column < 0) & packed.valid
            if present.any():
                i, t = np.argwhere(present)[0]
                raise DataError(f"node {node!r} is latent but the data has a value for it (sequence "
                                f"{packed.ids[i]!r}, t={t}); drop the column")
    if soft:
        packed = dataclasses.replace(packed, soft=pack_soft(network, packed, soft))
    return packed


def pack_soft(network, packed, soft) -> dict:
    """Soft (virtual) evidence as ``(n_sequences, longest, n_states)`` likelihoods, ones where none is given.

    ``soft`` maps a discrete node (latent or observed) to a DataFrame indexed
    by (sequence, t) with one column per state -- the shape of
    :func:`smoothed`'s answers; steps it leaves out get no soft evidence --
    or to an array of shape ``(total steps, n_states)`` whose rows follow the
    steps in the data's order (sequences in the order given, time ascending).
    Likelihoods are non-negative and finite; their scale does not matter to
    posteriors but adds ``log`` of it to log-likelihoods, as in the static
    engine.
    """
    if not isinstance(soft, Mapping):
        raise TypeError("soft must map node names to likelihoods (a DataFrame indexed by (sequence, t), or an array)")
    index = packed.frame_index()
    out = {}
    for node, given in soft.items():
        if node not in network.nodes:
            raise DataError(f"soft evidence is given for {node!r}, which is not a node of the network")
        states = network.domains[node]
        if states is None:
            raise DataError(f"soft evidence on {node!r}: it is continuous; soft evidence is a likelihood over the "
                            "states of a discrete node")
        if isinstance(given, pd.DataFrame):
            unknown = [c for c in given.columns if c not in states]
            if unknown:
                raise DataError(f"soft evidence on {node!r} has column {unknown[0]!r}, which is not one of its "
                                f"states {list(states)}")
            extra = given.index.difference(index)
            if len(extra):
                where = tuple(v.item() if isinstance(v, np.generic) else v for v in extra[0])
                raise DataError(f"soft evidence on {node!r} is given at {where!r}, a (sequence, t) the data "
                                "does not have")
            values = given.reindex(index=index, columns=list(states)).to_numpy(np.float64, copy=True)
            values[np.isnan(values).all(axis=1)] = 1.0  # steps without soft evidence
        else:
            values = np.asarray(given, dtype=np.float64)
            if values.shape != (len(index), len(states)):
                raise DataError(f"soft evidence on {node!r} has shape {values.shape}; expected (total steps, "
                                f"states) = {(len(index), len(states))}")
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            sid, t = (v.item() if isinstance(v, np.generic) else v for v in index[row])
            raise DataError(f"soft evidence on {node!r} at sequence {sid!r}, t={t} is not a finite non-negative "
                            f"likelihood: {values[row].tolist()}")
        packed_values = np.ones((packed.n_sequences * packed.longest, len(states)))
        packed_values[packed.long_index()] = values
        out[node] = packed_values.reshape(packed.n_sequences, packed.longest, len(states))
    return out


def _sequence_index(packed, name="sequence") -> pd.Index:
    return pd.Index([packed.ids[p] for p in packed.position], name=name)


def _marginal_frame(packed, space, joint: np.ndarray, network) -> pd.DataFrame:
    """Per-node marginals of ``joint`` (n_sequences, longest, S) as a long DataFrame."""
    long = packed.to_long(joint)
    blocks, columns = [], []
    for j, node in enumerate(network.latent_nodes):  # carried observed nodes come after the latent ones
        # sum the joint states where node j takes each value (a few column sums, no matrix product)
        blocks.append(np.stack([long[:, space.codes[:, j] == k].sum(axis=1) for k in range(space.cards[j])], axis=1))
        columns += [(node, state) for state in network.domains[node]]
    values = np.hstack(blocks) if blocks else np.zeros((len(long), 0))
    return pd.DataFrame(values, index=packed.frame_index(), columns=_column_index(network, columns))


def _column_index(network, columns) -> pd.MultiIndex:
    """The (node, state) column index, built once per network (it is the same for every call)."""
    cache = network.__dict__.setdefault("_compiled_factors", {})
    key = ("columns", tuple(columns))
    if key not in cache:  # no hidden node (a chain carried only for its gaps): no columns
        cache[key] = (pd.MultiIndex.from_tuples(columns) if columns
                      else pd.MultiIndex(levels=[[], []], codes=[[], []]))
    return cache[key]


def log_likelihood(network, data, **where) -> pd.Series:
    """``log p(x_0..T-1)`` of each sequence, in nats, indexed by sequence id."""
    from pgm.io.chunked import Scan

    if isinstance(data, Scan):  # files: one piece of whole sequences in memory at a time
        from pgm.dynamic.files import whole_sequences

        if where.get("sequence") is None:
            raise DataError("scanned files need sequence= (the sequence-id column)")
        pieces = whole_sequences(data, network, sequence=where["sequence"], time=where.get("time"))
        parts = [log_likelihood(network, piece, **where) for piece in pieces]
        return pd.concat(parts) if parts else pd.Series([], dtype=float, name="log_likelihood")
    from pgm.dynamic.kalman_em import is_linear_dynamical

    kalman = is_linear_dynamical(network)
    if not kalman and all(network.domains[n] is None for n in network.nodes):
        packed = pack_observed(network, data, **{k: v for k, v in where.items() if k not in ("soft", "checkpoint")})
        kalman = is_linear_dynamical(network, packed)  # missing values the next slice depends on
    if kalman:  # continuous hidden state: the Kalman filter's normalisers
        from pgm.dynamic.kalman import filter_and_smooth

        if where.get("soft"):
            raise DataError("soft evidence is for discrete nodes; a linear dynamical system has none to soften")
        where = {k: v for k, v in where.items() if k not in ("soft", "checkpoint")}
        packed = pack_observed(network, data, **where)
        return pd.Series(packed.in_user_order(filter_and_smooth(network, packed)[0]), index=_sequence_index(packed),
                         name="log_likelihood")
    checkpoint = where.pop("checkpoint", None)
    if checkpoint:
        from pgm.dynamic.checkpoints import checkpointed_log_likelihood, window_length

        packed = pack_observed(network, data, **where)
        space = hidden_space(network, packed)
        values = checkpointed_log_likelihood(network, packed, space,
                                             window_length(checkpoint, packed.longest, network))
        return pd.Series(packed.in_user_order(values), index=_sequence_index(packed), name="log_likelihood")

    def answer(packed, space, pot):
        return pd.Series(packed.in_user_order(_log_likelihood_and_last(pot, packed)[0]),
                         index=_sequence_index(packed), name="log_likelihood")

    return _grouped(network, data, where, answer, _sequences_together)


def _log_likelihood_and_last(pot, packed):
    """Log-likelihoods and the last filtered distribution of every packed sequence, by the faster route:
    batched over sequences when there are many, blocked over time when a few are long."""
    if long_enough_for_blocks(pot, packed):
        return blocked_log_likelihood(pot, packed, likelihood_block_length(packed.longest))
    quick = forward_log_likelihood(pot, packed)
    if quick is not None:
        return quick
    result = forward(pot, packed)
    return result.log_likelihood, result.filtered[np.arange(packed.n_sequences), packed.lengths - 1]





def filtered(network, data, **where) -> pd.DataFrame:
    """``p(z_t | x_0..t)`` for every hidden node, step and sequence."""
    def answer(packed, space, pot):
        if long_enough_for_blocks(pot, packed):  # a few long sequences: the blocked pass is much faster
            return _marginal_frame(packed, space, forward_backward(pot, packed).filtered, network)
        return _marginal_frame(packed, space, forward(pot, packed).filtered, network)

    return _grouped(network, data, where, answer, _steps_together)


def smoothed(network, data, *, checkpoint=None, **where) -> pd.DataFrame:
    """``p(z_t | x_0..T-1)`` for every hidden node, step and sequence.

    With ``checkpoint`` (True, or steps per window), forward-backward runs in
    windows (:mod:`pgm.dynamic.checkpoints`): the working memory besides the
    answer is O(sqrt(T)) rather than O(T) joint states per sequence.
    """
    if checkpoint:
        from pgm.dynamic.checkpoints import checkpointed_posteriors, window_length

        packed = pack_observed(network, data, **where)
        space = hidden_space(network, packed)
        k = window_length(checkpoint, packed.longest, network)
        latent = _latent_projection(network, space)
        answer = np.zeros((packed.n_sequences, packed.longest, latent.shape[1]))

        def visit(window, first, fb):
            begin = window_start(window, first, packed)
            own = fb.smoothed[:, first:]
            answer[:window.n_sequences, begin:begin + own.shape[1]] += own @ latent

        checkpointed_posteriors(network, packed, space, k, visit)
        return pd.DataFrame(packed.to_long(answer), index=packed.frame_index(),
                            columns=pd.MultiIndex.from_tuples(_latent_columns(network)))
    return _grouped(network, data, where,
                    lambda packed, space, pot: _marginal_frame(packed, space, forward_backward(pot, packed).smoothed,
                                                               network), _steps_together)


def _latent_projection(network, space) -> np.ndarray:
    """``(S, sum of latent cardinalities)``: joint hidden state -> one-hot of each latent node's state."""
    blocks = [np.eye(space.cards[j])[space.codes[:, j]] for j in range(len(network.latent_nodes))]
    return np.hstack(blocks) if blocks else np.zeros((space.size, 0))


def _latent_columns(network) -> list:
    return [(node, state) for node in network.latent_nodes for state in network.domains[node]]


def window_start(window, first, packed) -> int:
    """The absolute step of a window's first own step (its context steps come before)."""
    return int(window.__dict__.get("_start", 0)) + first


class MostProbablePath(NamedTuple):
    """The Viterbi answer: ``path`` (hidden nodes' states, indexed by (sequence, t)) and ``log_probability``
    (``log p(path, x)`` per sequence)."""

    path: pd.DataFrame
    log_probability: pd.Series


def most_probable_path(network, data, **where) -> MostProbablePath:
    """The most probable joint path of the hidden nodes of each sequence."""
    def answer(packed, space, pot):
        result = _viterbi(pot, packed)
        joint = packed.to_long(result.path)
        path = pd.DataFrame({node: pd.Categorical.from_codes(space.codes[joint, j], categories=network.domains[node])
                             for j, node in enumerate(network.latent_nodes)}, index=packed.frame_index())
        score = pd.Series(packed.in_user_order(result.log_probability), index=_sequence_index(packed),
                          name="log_probability")
        return MostProbablePath(path, score)

    def combine(parts, packed):
        return MostProbablePath(_steps_together([p.path for p in parts], packed),
                                _sequences_together([p.log_probability for p in parts], packed))

    return _grouped(network, data, where, answer, combine)


def predict(network, data, steps: int = 1, **where) -> pd.DataFrame:
    """``p(z_{T-1+k} | x_0..T-1)`` for ``k = 1..steps`` after the end of each sequence.

    The transitions after the data must not depend on observed values
    (no inputs), since none are known there.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    packed, space, pot = prepare(network, data, **where)
    if any(f.uses_data and f.pairwise for f in pot.factors) or any(
            f.node in space.nodes and f.uses_data for f in pot.factors):
        raise DataError("prediction beyond the data needs hidden transitions that do not depend on observed inputs")
    _, last = _log_likelihood_and_last(pot, packed)
    out, cache = [], {}
    current = last
    for k in range(1, steps + 1):
        # the slice after the data is t = length - 1 + k; slices past the initial ones share one transition
        ts = packed.lengths - 1 + k
        keys = np.minimum(ts, network.n_initial)
        for key in np.unique(keys):
            if int(key) not in cache:
                cache[int(key)] = np.exp(_transition(network, space, int(key)))
        matrices = np.stack([cache[int(key)] for key in keys])
        current = np.einsum("ni,nij->nj", current, matrices)
        out.append(current)
    joint = np.stack(out, axis=1)  # (n, steps, S)
    blocks, columns = [], []
    for j, node in enumerate(network.latent_nodes):
        blocks.append(joint @ np.eye(space.cards[j])[space.codes[:, j]])
        columns += [(node, state) for state in network.domains[node]]
    values = np.concatenate(blocks, axis=2)[packed.position].reshape(packed.n_sequences * steps, -1)
    index = pd.MultiIndex.from_product([list(_sequence_index(packed)), range(1, steps + 1)], names=["sequence", "step"])
    return pd.DataFrame(values, index=index, columns=pd.MultiIndex.from_tuples(columns))


def _transition(network, space, t: int) -> np.ndarray:
    """The constant log-transition into slice ``t`` (for slices beyond the packed data)."""
    from pgm.dynamic.potentials import copy_transition, evaluate_constant, factors

    tie = copy_transition(space)
    table = np.zeros((space.size, space.size)) if tie is None else tie.copy()
    for factor in factors(network, space, t + 1):
        if factor.start <= t < factor.stop and not factor.uses_data:
            values = evaluate_constant(factor)[factor.index]
            table = table + (values if factor.pairwise else values[None, :])
    return table
