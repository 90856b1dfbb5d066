"""Forward-backward for a few long sequences, parallel over blocks of time.

The batched recursion of :mod:`pgm.dynamic.forward_backward` loops over time
and vectorises across sequences, which is idle work when there is one
sequence of a million steps.  Here each sequence is cut into blocks; the
blocks' matrix products give every block's incoming filtered message
(forward) and outgoing backward message (backward) in one short loop over
blocks (:func:`~pgm.dynamic.forward_backward.blocked_log_likelihood`), and
then all blocks run the ordinary recursion at once, as if they were many
short sequences started from those messages.  The answers are the same
numbers (the scaled messages are exact, not approximations); only the order
of floating-point operations differs.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from pgm.dynamic.forward_backward import BLOCK, ForwardBackward, blocked_log_likelihood, forward_backward
from pgm.dynamic.potentials import Potentials

__all__ = ["blocked_forward_backward"]


def blocked_forward_backward(pot, data, block: int = BLOCK) -> ForwardBackward:
    """The answers of :func:`forward_backward` for long sequences (shared transitions, one initial slice)."""
    N, T, S = pot.unary.shape
    total, _, messages, products, norms = blocked_log_likelihood(pot, data, block, keep=True)
    n_blocks = messages.shape[1]
    # Scaled backward message after each block's last step: beta_b = P_{b+1} beta_{b+1} / norm_{b+1}.
    ends = np.ones((N, n_blocks, S))
    for b in range(n_blocks - 2, -1, -1):
        ends[:, b] = np.einsum("nij,nj->ni", products[:, b + 1], ends[:, b + 1]) / norms[:, b + 1, None]
    lengths = np.clip(data.lengths[:, None] - np.arange(n_blocks)[None, :] * block, 0, block)
    sequence, which = np.nonzero(lengths > 0)
    order = np.argsort(-lengths[sequence, which], kind="stable")  # longest first, as packed data are
    sequence, which = sequence[order], which[order]
    row_lengths = lengths[sequence, which]
    longest = int(row_lengths[0])
    padded = np.zeros((N, n_blocks * block, S))
    padded[:, :T] = pot.unary
    rows = padded.reshape(N, n_blocks, block, S)[sequence, which, :longest]
    shim = SimpleNamespace(
        lengths=row_lengths, longest=longest, n_sequences=len(row_lengths),
        n_active=np.searchsorted(-row_lengths, -np.arange(longest), side="left"),
        valid=np.arange(longest)[None, :] < row_lengths[:, None], ids=[data.ids[i] for i in sequence])
    transition = {-1: pot.transition_at(max(T - 1, 1))}
    blocks = Potentials(rows, transition, None, 1, pot.factors)
    result = forward_backward(blocks, shim, incoming=messages[sequence, which], fresh=which == 0,
                              terminal=ends[sequence, which])

    in_order = N == 1 and (len(which) == 1 or longest == block) and (which == np.arange(len(which))).all()

    def unpack(values, fill):
        if in_order:  # one sequence, its blocks in time order: the rows laid end to end are the answer
            return values.reshape((1, -1) + values.shape[2:])[:, :T]
        out = np.full((N, n_blocks, block) + values.shape[2:], fill, dtype=values.dtype)
        out[sequence, which, :longest] = values
        return out.reshape((N, n_blocks * block) + values.shape[2:])[:, :T]

    merged = ForwardBackward(total, unpack(result.filtered, 0.0), unpack(result.log_normalisers, 0.0))
    merged.smoothed = unpack(result.smoothed, 0.0)
    merged.pair_sums = {key: np.zeros((S, S)) for key in pot.pair}
    merged.pair_sums[-1] = result.pair_sums[-1]
    merged.pair_steps = None
    merged._emission = merged._scale = None
    return merged


def blocked_viterbi(pot, data, block: int = BLOCK):
    """The most probable paths of long sequences, parallel over blocks of time (max-product in the log domain).

    Pass 1 gives each block its best log-score from every entry state (the
    state before the block) to every exit state, all blocks at once; pass 2
    threads the best scores through the blocks of each sequence and
    backtracks the exit state of every block; pass 3 reruns Viterbi inside
    all blocks at once, from their known entry state to their known exit state.
    """
    from pgm.dynamic.forward_backward import ViterbiResult

    N, T, S = pot.unary.shape
    n_blocks = -(-T // block)
    log_a = pot.transition_at(max(T - 1, 1))
    padded = np.zeros((N, n_blocks * block, S))
    padded[:, :T] = pot.unary
    unary = padded.reshape(N * n_blocks, block, S)
    live = np.zeros((N, n_blocks * block), dtype=bool)
    live[:, :T] = data.valid
    live = live.reshape(N * n_blocks, block)
    first = np.zeros((N, n_blocks), dtype=bool)
    first[:, 0] = True
    first = first.reshape(-1)
    # pass 1: score[r, i, j] = best log-score of block r entered from state i, ending in j (the first block's
    # "entry" is a dummy: every row i is the same, starting from the prior in unary[:, 0])
    entry = np.where(first[:, None, None], 0.0, log_a[None]) + unary[:, 0, None, :]
    score = entry
    for t in range(1, block):
        stepped = (score[:, :, :, None] + log_a[None, None]).max(axis=2) + unary[:, t, None, :]
        score = np.where(live[:, t, None, None], stepped, score)
    score = score.reshape(N, n_blocks, S, S)
    blocks_used = -(-data.lengths // block)
    # pass 2: best score at each block's exit, and the best entry state for it
    best = score[:, 0, 0]  # (N, S): the first block from the dummy entry
    came_from = np.zeros((N, n_blocks, S), dtype=np.int64)
    for b in range(1, n_blocks):
        candidates = best[:, :, None] + score[:, b]  # (N, entry i, exit j)
        running = b < blocks_used
        came_from[:, b] = candidates.argmax(axis=1)
        best = np.where(running[:, None], candidates.max(axis=1), best)
    total = best.max(axis=1)
    exits = np.zeros((N, n_blocks), dtype=np.int64)
    last = blocks_used - 1
    exits[np.arange(N), last] = best.argmax(axis=1)
    for b in range(n_blocks - 1, 0, -1):
        running = b <= last
        exits[running, b - 1] = came_from[running, b, exits[running, b]]
    # pass 3: Viterbi inside every block from its entry state to its exit state
    entries = np.concatenate([np.zeros((N, 1), dtype=np.int64), exits[:, :-1]], axis=1).reshape(-1)
    delta = np.where(first[:, None], unary[:, 0], log_a[entries] + unary[:, 0])
    back = np.zeros((N * n_blocks, block, S), dtype=np.int32)
    for t in range(1, block):
        scores = delta[:, :, None] + log_a[None]
        back[:, t] = scores.argmax(axis=1)
        stepped = np.take_along_axis(scores, back[:, t][:, None, :], axis=1)[:, 0] + unary[:, t]
        delta = np.where(live[:, t, None], stepped, delta)
    ends = live.sum(axis=1) - 1  # last live step of each block row (-1 for unused blocks)
    path = np.zeros((N * n_blocks, block), dtype=np.int64)
    rows = np.arange(N * n_blocks)
    used = ends >= 0
    path[rows[used], ends[used]] = exits.reshape(-1)[used]
    for t in range(block - 1, 0, -1):
        going = used & (t <= ends)
        path[going, t - 1] = back[going, t, path[going, t]]
    path = path.reshape(N, n_blocks * block)[:, :T]
    return ViterbiResult(path, total)
