"""Forward-backward in windows of time with checkpoints: working memory O(sqrt(T)) instead of O(T).

The plain recursion keeps every step's potentials, filtered and backward
messages: memory ``O(T x S)`` per sequence.  With checkpoints, time is cut
into windows of ``k`` steps.  The forward pass runs window by window and
keeps only the filtered distribution at the end of each window (``T / k``
checkpoints); the backward pass visits the windows in reverse, recomputes
each window's potentials and forward messages from its checkpoint, and runs
the backward recursion from the next window's first backward message.  Each
window's posteriors are used (summed into EM's statistics, or copied into the
answer) and dropped.  With ``k = sqrt(T)`` the working memory is
``O(sqrt(T) x S)`` for twice the forward work (Binder, Murphy and Russell's
"space-efficient inference in dynamic probabilistic networks", 1997, in its
simplest one-level form).

A window is the ordinary engine run on a slice of the packed data: the steps
``[a - c, b)`` where the ``c`` context steps before ``a`` give lagged parents
their values; the last context step is replaced by a *dummy* step whose
potential is the checkpointed filtered distribution, so the recursion
enters the window exactly where the previous one left off.  The scaled
messages are the global ones (the normalisers of later steps do not depend
on the window), so the answers equal the plain path's to rounding.
"""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import numpy as np

from pgm.dynamic.forward_backward import forward, forward_backward
from pgm.dynamic.potentials import Potentials, potentials
from pgm.dynamic.sequences import SequenceData

__all__ = ["window_length", "checkpointed_log_likelihood", "checkpointed_posteriors"]


def window_length(checkpoint, longest: int, network) -> int:
    """Steps per window: ``True`` means ``ceil(sqrt(longest))``; at least enough to hold the initial slices."""
    if checkpoint is True:
        k = math.isqrt(max(longest - 1, 0)) + 1
    elif isinstance(checkpoint, bool) or not isinstance(checkpoint, int) or checkpoint < 1:
        raise ValueError(f"checkpoint must be True or a positive number of steps per window, got {checkpoint!r}")
    else:
        k = checkpoint
    return max(k, network.n_initial + 1, 2)


def _context(network) -> int:
    return max(network.order, network.n_initial, 1)


def _window_data(packed: SequenceData, a: int, b: int, c: int) -> SequenceData:
    """Sequences still running at step ``a``, restricted to the steps ``[a - c, b)`` (``[0, b)`` when ``a = 0``)."""
    n = int(np.searchsorted(-packed.lengths, -a, side="left")) if a else packed.n_sequences
    start = a - c if a else 0
    lengths = np.minimum(packed.lengths[:n], b) - start
    columns = {node: values[:n, start:b] for node, values in packed.columns.items()}
    soft = {node: values[:n, start:b] for node, values in packed.soft.items()}
    window = SequenceData(columns, lengths, packed.ids[:n], np.arange(n), soft)
    window.__dict__["_start"] = start  # the absolute step of the window's step 0
    return window


def _entered(pot: Potentials, window: SequenceData, c: int, incoming: np.ndarray):
    """The window's potentials from the dummy step on: step 0 carries the checkpointed filtered distribution."""
    skip = c - 1
    unary = pot.unary[:, skip:].copy()
    with np.errstate(divide="ignore"):
        unary[:, 0] = np.log(incoming)
    pair_steps = None if pot.pair_steps is None else pot.pair_steps[:, skip:]
    if pair_steps is not None:
        pair_steps = pair_steps.copy()
        pair_steps[:, 0] = 0.0
    entered = Potentials(unary, {-1: pot.transition_at(max(pot.n_initial, 1) + 1)}, pair_steps, 1, pot.factors)
    lengths = window.lengths - skip
    longest = int(lengths[0])
    shim = SimpleNamespace(lengths=lengths, longest=longest, n_sequences=len(lengths), ids=window.ids,
                           n_active=np.searchsorted(-lengths, -np.arange(longest), side="left").astype(np.int64),
                           valid=np.arange(longest)[None, :] < lengths[:, None])
    return entered, shim


def _forward_windows(network, packed, space, k):
    """The forward pass: log-likelihoods and the filtered distribution at the end of every window."""
    from pgm.dynamic.gaussian_runs import gaussian_runs
    from pgm.errors import DataError

    if gaussian_runs(network, packed):  # a block could straddle two windows
        raise DataError("checkpoint= does not take missing continuous values that later slices depend on "
                        "(with discrete hidden nodes); run without checkpoints")
    c = _context(network)
    total = np.zeros(packed.n_sequences)
    checkpoints = []
    for a in range(0, packed.longest, k):
        b = min(a + k, packed.longest)
        window = _window_data(packed, a, b, c)
        pot = potentials(network, window, space)
        if a == 0:
            result = forward(pot, window)
            loglik = result.log_likelihood
        else:
            entered, shim = _entered(pot, window, c, checkpoints[-1][:window.n_sequences])
            result = forward(entered, shim)
            loglik = result.log_likelihood - result.log_normalisers[:, 0]  # the dummy step is not data
        total[:window.n_sequences] += loglik
        rows = np.arange(window.n_sequences)
        last = np.minimum(packed.lengths[:window.n_sequences], b) - 1 - (a - 1 if a else 0)  # in the entered steps
        checkpoints.append(result.filtered[rows, last])
    return total, checkpoints


def checkpointed_log_likelihood(network, packed, space, k):
    """Per-sequence log-likelihoods, holding one window's potentials at a time."""
    return _forward_windows(network, packed, space, k)[0]


def checkpointed_posteriors(network, packed, space, k, visit):
    """Forward-backward window by window; ``visit(window, first, fb)`` receives each window's posteriors.

    ``fb`` is laid out on the window's own steps (context steps included, with
    zero posterior mass), as :func:`forward_backward` would give for
    ``window`` alone; ``first`` is the window's first own step (the steps
    before it are context).  Returns the per-sequence log-likelihoods.
    """
    c = _context(network)
    total, checkpoints = _forward_windows(network, packed, space, k)
    starts = list(range(0, packed.longest, k))
    terminal = None  # scaled backward message at the end of the window after the current one
    for w in range(len(starts) - 1, -1, -1):
        a = starts[w]
        b = min(a + k, packed.longest)
        window = _window_data(packed, a, b, c)
        pot = potentials(network, window, space)
        per_step = any(f.uses_data and f.pairwise for f in pot.factors)
        ends = np.ones((window.n_sequences, space.size))
        if terminal is not None:
            ends[:len(terminal)] = terminal  # sequences that run on into the next window
        if a == 0:
            fb = forward_backward(pot, window, per_step_pairs=per_step, terminal=ends)
        else:
            entered, shim = _entered(pot, window, c, checkpoints[w - 1][:window.n_sequences])
            fb = forward_backward(entered, shim, per_step_pairs=per_step, terminal=ends)
            fb = _padded(fb, c - 1, pot)
        terminal = fb.entry_backward if a else None
        fb._n_initial = network.n_initial
        fb._factors = pot.factors
        visit(window, c if a else 0, fb)
    return total


def _padded(fb, skip: int, pot: Potentials):
    """A window's answers moved back onto its own steps: context steps (and the dummy) get zero mass."""
    N, T, S = fb.smoothed.shape
    entry = fb.backward[:, 0]  # the scaled backward message at the dummy step, i.e. after the previous window
    smoothed = np.zeros((N, T + skip, S))
    smoothed[:, skip + 1:] = fb.smoothed[:, 1:]
    pair_steps = None
    if fb.pair_steps is not None:
        pair_steps = np.zeros((N, T + skip, S, S))
        pair_steps[:, skip + 1:] = fb.pair_steps[:, 1:]
    pair_sums = {key: np.zeros((S, S)) for key in pot.pair}
    pair_sums[-1] = fb.pair_sums[-1]
    out = dataclasses.replace(fb, smoothed=smoothed, pair_steps=pair_steps, pair_sums=pair_sums)
    out.entry_backward = entry
    return out
