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

    def unpack(values, fill):
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
