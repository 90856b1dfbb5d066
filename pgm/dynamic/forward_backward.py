"""Forward-backward and Viterbi over the joint hidden state, batched across sequences.

The forward pass keeps the *filtered* distribution ``alpha_t = p(s_t | x_0..t)``
normalised at every step and the log of each normaliser ``c_t = p(x_t |
x_0..t-1)``; their sum is the log-likelihood, so a sequence of 10^6 steps
neither underflows nor overflows (Rabiner's scaling, done in the
probability domain: each step's log-potentials are shifted by their maximum
before exponentiating, and the shift is added back to ``log c_t``).  The
backward pass reuses the same normalisers, so ``alpha_t * beta_t`` is the
smoothed posterior directly.  Viterbi runs in the log domain.

Sequences are packed longest first (:mod:`pgm.dynamic.sequences`), so step
``t`` touches rows ``[:n_active[t]]`` only: the cost is linear in the total
number of steps, and the Python loop is over time, each iteration a handful
of NumPy operations across every live sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pgm.errors import ImpossibleEvidenceError

__all__ = ["ForwardBackward", "forward_backward", "forward", "viterbi"]


@dataclass
class ForwardBackward:
    """What one forward(-backward) pass computes for packed sequences.

    Attributes
    ----------
    log_likelihood : ndarray (n_sequences,)
    filtered : ndarray (n_sequences, longest, S)
        ``p(s_t | x_0..t)``; padding rows are left as they are.
    smoothed : ndarray (n_sequences, longest, S) or None
        ``p(s_t | x_0..T-1)``.
    pair_sums : dict of int to ndarray (S, S) or None
        Expected transition counts ``sum_t p(s_{t-1}, s_t | x)`` summed over
        steps and sequences, per key of :attr:`Potentials.pair`.
    pair_steps : ndarray (n_sequences, longest, S, S) or None
        Per-step ``p(s_{t-1}, s_t | x)`` when some factor needs it.
    """

    log_likelihood: np.ndarray
    filtered: np.ndarray
    log_normalisers: np.ndarray
    smoothed: np.ndarray | None = None
    pair_sums: dict | None = None
    pair_steps: np.ndarray | None = None


def _step_transition(pot, t: int, n: int):
    """The transition into step ``t`` for the first ``n`` rows: a shared (S, S) matrix and its log shift,
    or per-row (n, S, S) matrices with per-row shifts."""
    log_a = pot.transition_at(t)
    if pot.pair_steps is None:
        cache = pot.__dict__.setdefault("_exp_cache", {})
        key = t if t in pot.pair else -1
        if key not in cache:  # exponentiated once per distinct transition, not once per step
            shift = float(np.max(log_a))
            cache[key] = (np.exp(log_a - shift), shift)
        return cache[key]
    total = log_a + pot.pair_steps[:n, t]
    shift = total.max(axis=(1, 2))
    return np.exp(total - shift[:, None, None]), shift


def last_axis_max(values: np.ndarray) -> np.ndarray:
    """``values.max(axis=-1)``; for a few states, as elementwise maxima of the columns, since NumPy's
    reduction over a short last axis is about 8x slower than that on a million steps."""
    S = values.shape[-1]
    if S > 16 or S < 2:
        return values.max(axis=-1)
    out = np.maximum(values[..., 0], values[..., 1])
    for j in range(2, S):
        np.maximum(out, values[..., j], out=out)
    return out


def _impossible(data, row: int, t: int):
    raise ImpossibleEvidenceError(
        f"sequence {data.ids[row]!r} has probability zero at t={t} under the model (no hidden state explains it)")


def forward(pot, data, *, incoming=None, fresh=None) -> ForwardBackward:
    """The scaled forward pass: filtered distributions and log-likelihoods.

    With ``incoming`` (n, S), row ``i`` continues a sequence whose filtered
    distribution just before its first step is ``incoming[i]`` (a block of a
    long sequence), unless ``fresh[i]`` says it is the sequence's start.
    """
    unary = pot.unary
    N, T, S = unary.shape
    n_active = data.n_active
    shift = last_axis_max(unary)
    if np.isneginf(shift[data.valid]).any():
        rows, cols = np.nonzero(np.isneginf(shift) & data.valid)
        _impossible(data, int(rows[0]), int(cols[0]))
    if S == 1 and pot.pair_steps is None:  # nothing hidden: the likelihood is the product of the steps' terms
        log_c = unary[..., 0]
        result = ForwardBackward(log_c.sum(axis=1), np.ones((N, T, 1)), log_c)
        result._emission, result._scale = np.ones((N, T, 1)), np.ones((N, T))
        return result
    # One matrix for every step after the first (the common case): the recursion then runs on time-major
    # arrays, so that each step reads and writes contiguous rows; the answers are transposed views.
    shared = pot.pair_steps is None and not any(0 < key < T for key in pot.pair)
    if shared:
        emission_tm = np.empty((T, N, S))
        np.subtract(unary.transpose(1, 0, 2), shift.T[..., None], out=emission_tm)
        np.exp(emission_tm, out=emission_tm)  # in (0, 1], the largest entry 1 at every step
        alpha_tm, scale_tm = np.zeros((T, N, S)), np.ones((T, N))
        emission, alpha, scale = emission_tm.transpose(1, 0, 2), alpha_tm.transpose(1, 0, 2), scale_tm.T
    else:
        emission = np.exp(unary - shift[..., None])  # in (0, 1], the largest entry 1 at every step
        alpha = np.zeros((N, T, S))  # zeros, not empty: padding is multiplied by masks later
        scale = np.ones((N, T))
    log_c = np.zeros((N, T))
    first = emission[:, 0]
    moved0 = 0.0
    if incoming is not None:
        matrix, moved = _step_transition(pot, 1, N)
        first = np.where(fresh[:, None], 1.0, incoming @ matrix) * emission[:, 0]
        moved0 = np.where(fresh, 0.0, moved)
    c = first.sum(axis=1)
    if not c.all():
        _impossible(data, int(np.argmin(c)), 0)
    scale[:, 0] = c
    alpha[:, 0] = first / c[:, None]
    log_c[:, 0] = np.log(c) + shift[:, 0] + moved0
    if pot.pair_steps is None:
        # The common case: one shared matrix per step.  The loop does only the recursion; logs and the check
        # for impossible steps are done once afterwards, over every step (a zero normaliser leaves NaN behind).
        moved_at = np.zeros(T)
        buffer, ones = np.empty((N, S)), np.ones(S)
        if shared:
            if T > 1:
                matrix, moved_at[1:] = _step_transition(pot, 1, N)
            with np.errstate(invalid="ignore", divide="ignore"):  # a zero normaliser is reported after the loop
                for t in range(1, T):
                    n = n_active[t]
                    # into preallocated contiguous buffers: the loop is over time, so each call's overhead counts
                    predicted = np.dot(alpha_tm[t - 1, :n], matrix, out=buffer[:n])
                    predicted *= emission_tm[t, :n]
                    c = np.dot(predicted, ones, out=scale_tm[t, :n])
                    np.divide(predicted, c[:, None], out=alpha_tm[t, :n])
        else:
            for t in range(1, T):
                n = n_active[t]
                matrix, moved_at[t] = _step_transition(pot, t, n)
                predicted = np.dot(alpha[:n, t - 1], matrix)
                predicted *= emission[:n, t]
                c = predicted.sum(axis=1)
                np.divide(predicted, c[:, None], out=alpha[:n, t])
                scale[:n, t] = c
        later = data.valid[:, 1:]
        bad = later & ~(scale[:, 1:] > 0)
        if bad.any():
            t = int(np.argmax(bad.any(axis=0)))
            _impossible(data, int(np.argmax(bad[:, t])), t + 1)
        with np.errstate(divide="ignore"):
            log_c[:, 1:] = np.where(later, np.log(scale[:, 1:]) + shift[:, 1:] + moved_at[None, 1:], 0.0)
    else:
        for t in range(1, T):
            n = n_active[t]
            matrix, moved = _step_transition(pot, t, n)
            predicted = np.einsum("ni,nij->nj", alpha[:n, t - 1], matrix)
            predicted *= emission[:n, t]
            c = predicted.sum(axis=1)
            if not c.all():
                _impossible(data, int(np.argmin(c)), t)
            alpha[:n, t] = predicted / c[:, None]
            scale[:n, t] = c
            log_c[:n, t] = np.log(c) + shift[:n, t] + moved
    result = ForwardBackward(log_c.sum(axis=1), alpha, log_c)
    result._emission, result._scale = emission, scale
    result._time_major = (emission_tm, alpha_tm, scale_tm) if shared else None
    return result


def forward_log_likelihood(pot, data):
    """Log-likelihoods and last filtered distributions by the forward pass alone, keeping one step of it.

    For one shared transition after the first step (else None: use :func:`forward`).  The same recursion
    and normalisers as :func:`forward`, without the (n_sequences, longest, S) filtered array."""
    unary = pot.unary
    N, T, S = unary.shape
    if pot.pair_steps is not None or S == 1 or T < 2 or any(0 < key < T for key in pot.pair):
        return None
    valid = data.valid
    shift = last_axis_max(unary)
    if np.isneginf(shift[valid]).any():
        rows, cols = np.nonzero(np.isneginf(shift) & valid)
        _impossible(data, int(rows[0]), int(cols[0]))
    emission_tm = np.empty((T, N, S))
    np.subtract(unary.transpose(1, 0, 2), shift.T[..., None], out=emission_tm)
    np.exp(emission_tm, out=emission_tm)
    matrix, moved = _step_transition(pot, 1, N)
    n_active = data.n_active
    scale_tm = np.ones((T, N))  # ones in padding: their logs add nothing
    alpha, last = emission_tm[0].copy(), np.empty((N, S))
    np.dot(alpha, np.ones(S), out=scale_tm[0])
    alpha /= scale_tm[0][:, None]
    buffer, ones = np.empty((N, S)), np.ones(S)
    with np.errstate(invalid="ignore", divide="ignore"):  # a zero normaliser is reported after the loop
        for t in range(1, T):
            n = n_active[t]
            if n < n_active[t - 1]:  # rows n.. ended at t - 1
                last[n:n_active[t - 1]] = alpha[n:n_active[t - 1]]
            predicted = np.dot(alpha[:n], matrix, out=buffer[:n])
            predicted *= emission_tm[t, :n]
            c = np.dot(predicted, ones, out=scale_tm[t, :n])
            np.divide(predicted, c[:, None], out=alpha[:n])
    last[:n_active[T - 1]] = alpha[:n_active[T - 1]]
    good = scale_tm > 0
    if not good.all():
        t, row = (int(i[0]) for i in np.nonzero(~good))
        _impossible(data, row, t)
    total = np.log(scale_tm).sum(axis=0) + shift.sum(axis=1, where=valid) + moved * np.maximum(data.lengths - 1, 0)
    return total, last


def _shared_backward(pot, data, result, terminal, pair_sums):
    """The backward pass on the forward pass's time-major arrays, one shared transition after the first step.

    Returns the scaled backward messages (time-major); adds the expected transition counts to ``pair_sums[-1]``
    with one matrix product over all steps (the per-step weights are kept, zero in padding)."""
    emission_tm, alpha_tm, scale_tm = result._time_major
    T, N, S = alpha_tm.shape
    n_active = data.n_active
    beta_tm = np.ones((T, N, S))
    if terminal is not None:
        beta_tm[data.lengths - 1, np.arange(N)] = terminal
    weighted_tm = np.zeros((T, N, S))
    matrix, _ = _step_transition(pot, 1, N) if T > 1 else (np.ones((S, S)), 0.0)
    transposed = np.ascontiguousarray(matrix.T)
    for t in range(T - 1, 0, -1):
        n = n_active[t]
        weighted = np.multiply(emission_tm[t, :n], beta_tm[t, :n], out=weighted_tm[t, :n])
        weighted /= scale_tm[t, :n, None]
        np.dot(weighted, transposed, out=beta_tm[t - 1, :n])
    if T > 1:
        counts = alpha_tm[:-1].reshape(-1, S).T @ weighted_tm[1:].reshape(-1, S)
        pair_sums[-1] = pair_sums.get(-1, 0.0) + counts * matrix
    return beta_tm


def forward_backward(pot, data, *, per_step_pairs: bool = False, incoming=None, fresh=None,
                     terminal=None) -> ForwardBackward:
    """Filtered and smoothed posteriors, log-likelihoods and expected transition counts.

    ``incoming``/``fresh`` as for :func:`forward`; ``terminal`` (n, S) is the
    scaled backward message after each row's last step (ones at a sequence's end).
    """
    if incoming is None and terminal is None and per_step_pairs is False and long_enough_for_blocks(pot, data):
        from pgm.dynamic.long_sequences import blocked_forward_backward

        return blocked_forward_backward(pot, data, block_length(data.longest))
    result = forward(pot, data, incoming=incoming, fresh=fresh)
    emission, alpha = result._emission, result.filtered
    N, T, S = alpha.shape
    n_active = data.n_active
    pair_sums = {key: np.zeros((S, S)) for key in pot.pair}
    need_steps = per_step_pairs or pot.pair_steps is not None
    pair_steps = np.zeros((N, T, S, S)) if need_steps else None
    c = result._scale
    fast = getattr(result, "_time_major", None) is not None and not need_steps
    if fast:
        beta_tm = _shared_backward(pot, data, result, terminal, pair_sums)
        beta = beta_tm.transpose(1, 0, 2)
    else:
        beta = np.ones((N, T, S))
        if terminal is not None:
            beta[np.arange(N), data.lengths - 1] = terminal
    for t in range(T - 1, 0, -1) if not fast else ():
        n = n_active[t]
        matrix, _ = _step_transition(pot, t, n)
        weighted = emission[:n, t] * beta[:n, t] / c[:n, t, None]
        key = t if t in pot.pair else -1
        if matrix.ndim == 2:
            beta[:n, t - 1] = weighted @ matrix.T
            if need_steps:
                pair_steps[:n, t] = alpha[:n, t - 1, :, None] * matrix * weighted[:, None, :]
                pair_sums[key] += pair_steps[:n, t].sum(axis=0)
            else:
                pair_sums[key] += (alpha[:n, t - 1].T @ weighted) * matrix
        else:
            beta[:n, t - 1] = np.einsum("nij,nj->ni", matrix, weighted)
            pair_steps[:n, t] = alpha[:n, t - 1, :, None] * matrix * weighted[:, None, :]
            pair_sums[key] += pair_steps[:n, t].sum(axis=0)
    if incoming is not None:  # the transition into each continued row's first step
        matrix, _ = _step_transition(pot, 1, N)
        weighted = emission[:, 0] * beta[:, 0] / c[:, 0, None]
        carried = np.where(fresh[:, None], 0.0, incoming)
        pair_sums[-1] = pair_sums.get(-1, 0.0) + (carried.T @ weighted) * matrix
    result.smoothed = (result._time_major[1] * beta_tm).transpose(1, 0, 2) if fast else alpha * beta
    result.backward = beta  # scaled backward messages (checkpointed windows hand them on)
    result.pair_sums = pair_sums
    result.pair_steps = pair_steps
    return result


@dataclass
class ViterbiResult:
    """Most probable hidden paths: ``path`` (n_sequences, longest) joint-state codes, ``log_probability`` per sequence."""

    path: np.ndarray
    log_probability: np.ndarray


def viterbi(pot, data) -> ViterbiResult:
    """The most probable joint hidden path of each sequence, and ``log p(path, x)``."""
    if long_enough_for_blocks(pot, data):
        from pgm.dynamic.long_sequences import blocked_viterbi

        return blocked_viterbi(pot, data, block_length(data.longest))
    unary = pot.unary
    N, T, S = unary.shape
    n_active = data.n_active
    delta = unary[:, 0].copy()
    back = np.zeros((N, T, S), dtype=np.int32)
    for t in range(1, T):
        n = n_active[t]
        log_a = pot.transition_at(t)
        scores = delta[:n, :, None] + (log_a if pot.pair_steps is None else log_a + pot.pair_steps[:n, t])
        back[:n, t] = scores.argmax(axis=1)
        delta[:n] = np.take_along_axis(scores, back[:n, t][:, None, :], axis=1)[:, 0] + unary[:n, t]
    path = np.zeros((N, T), dtype=np.int64)
    last = data.lengths - 1
    path[np.arange(N), last] = delta.argmax(axis=1)
    best = delta.max(axis=1)
    if np.isneginf(best).any():
        _impossible(data, int(np.argmax(np.isneginf(best))), int(last[np.argmax(np.isneginf(best))]))
    for t in range(T - 1, 0, -1):
        n = n_active[t]
        path[:n, t - 1] = back[np.arange(n), t, path[:n, t]]
    return ViterbiResult(path, best)


#: Sequences at least this long (and few enough that batching across them cannot fill the vector units)
#: take the blocked path for log-likelihoods.
BLOCK = 512


def long_enough_for_blocks(pot, data) -> bool:
    """Whether a few long sequences would leave the batched recursion mostly Python overhead."""
    return (pot.pair_steps is None and pot.n_initial <= 1 and data.longest >= 64
            and data.n_sequences * block_length(data.longest) < data.longest)


def block_length(longest: int) -> int:
    """Steps per block: about sqrt(T) (two short loops of sqrt(T) Python steps instead of one of T), at most
    :data:`BLOCK` (beyond that the S x S products per block outweigh the loop)."""
    import math

    return int(min(BLOCK, max(16, math.isqrt(longest))))


def block_products(matrix: np.ndarray, emission: np.ndarray, live: np.ndarray, first: np.ndarray):
    """Each block's product ``A D_0 A D_1 ...`` over its live steps, scaled to sum 1, and the log of the scale.

    ``emission`` (R, block, S) holds the blocks' diagonals, ``live`` (R, block)
    which steps are data (a prefix of each block), ``first`` which blocks start
    a sequence (their step 0 has no transition before it).  Every block runs
    every step, all blocks at once, on time-major contiguous arrays; a block whose
    data end early is copied out after its last live step (and its later scales
    are not counted), so no step needs a mask.  A block without data is the identity.
    """
    R, block, S = emission.shape
    emission_tm = np.ascontiguousarray(emission.transpose(1, 0, 2))  # no copy when given time-major
    counts = live.sum(axis=1)
    product = np.where(first[:, None, None], 1.0, matrix) * emission_tm[0][:, None, :]
    tops = np.ones((block, R))
    flat = product.reshape(R, S * S)
    np.dot(flat, np.ones(S * S), out=tops[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        flat /= tops[0][:, None]
    final = np.broadcast_to(np.eye(S), (R, S, S)).copy()
    ends = np.argsort(counts, kind="stable")
    bounds = np.searchsorted(counts[ends], np.arange(block + 2))  # rows with count c: ends[bounds[c]:bounds[c+1]]
    done = ends[bounds[1]:bounds[2]]
    final[done] = product[done]
    buffer = np.empty((R * S, S))
    ones = np.ones(S * S)
    with np.errstate(invalid="ignore", divide="ignore"):  # a block without explanation: NaN, caught by the caller
        return _block_loop(matrix, emission_tm, live, product, tops, final, ends, bounds, buffer, ones)


def _block_loop(matrix, emission_tm, live, product, tops, final, ends, bounds, buffer, ones):
    block, R, S = emission_tm.shape
    for t in range(1, block):
        stepped = np.dot(product.reshape(R * S, S), matrix, out=buffer).reshape(R, S, S)
        stepped *= emission_tm[t][:, None, :]
        norm = np.dot(stepped.reshape(R, S * S), ones, out=tops[t])
        np.divide(stepped, norm[:, None, None], out=product)
        done = ends[bounds[t + 1]:bounds[t + 2]]
        if len(done):
            final[done] = product[done]
    with np.errstate(divide="ignore"):
        log_scale = np.log(tops, where=live.T, out=np.zeros((block, R))).sum(axis=0)
    return final, log_scale


def _tree_over_blocks(pot, data, product, log_scale, shift, moved):
    """Log-likelihoods and last filtered distributions from the blocks' products, multiplied pairwise in
    log2(blocks) rounds (all sequences and pairs at once) instead of one block after another.  Products of
    non-negative matrices have no cancellation, so the order does not cost accuracy; each round's products
    are scaled to sum 1 and the logs of the scales added up."""
    N, _, S = product.shape[:3]
    total = log_scale.sum(axis=1)
    ones = np.ones(S * S)
    with np.errstate(invalid="ignore", divide="ignore"):
        while product.shape[1] > 1:
            if product.shape[1] % 2:  # an odd one out pairs with the identity
                product = np.concatenate([product, np.broadcast_to(np.eye(S), (N, 1, S, S))], axis=1)
            product = np.matmul(product[:, 0::2], product[:, 1::2])
            m = product.shape[1]
            norm = product.reshape(N * m, S * S) @ ones
            product /= norm.reshape(N, m, 1, 1)
            total += np.log(norm).reshape(N, m).sum(axis=1)
        last = product[:, 0, 0]  # the first block's row 0 is the path from the start (its "transition" is all ones)
        c = last.sum(axis=1)
        if not (c > 0).all():  # no explanation somewhere: the plain pass names the step
            forward(pot, data)
            _impossible(data, int(np.argmin(c > 0)), 0)
    total += np.log(c) + shift.sum(axis=1, where=data.valid) + moved * np.maximum(data.lengths - 1, 0)
    return total, last / c[:, None]


def likelihood_block_length(longest: int) -> int:
    """Steps per block when only log-likelihoods are wanted: the blocks are combined in log2(blocks) rounds
    (:func:`_tree_over_blocks`), not one after another, so short blocks pay: few Python steps in pass 1, and
    beyond about 64 steps no fewer NumPy calls per element."""
    import math

    return int(max(8, min(64, math.isqrt(longest) // 4)))


def blocked_log_likelihood(pot, data, block: int = BLOCK, *, keep: bool = False):
    """Log-likelihoods and final filtered distributions, parallel over blocks of time.

    The forward recursion is a product of matrices ``alpha_{T-1} ~ e_0 A D_1
    A D_2 ...`` (``D_t`` the diagonal of step t's emission).  Each sequence
    is cut into blocks of ``block`` steps; pass 1 multiplies out every
    block's matrix at once (a loop of ``block`` steps over all blocks,
    rescaled by its maximum at each step so nothing underflows), pass 2
    threads the normalised message through the blocks of each sequence.
    Steps past a sequence's end multiply by the identity, so padding costs
    nothing but time.  Needs a shared transition (no data-dependent pairs,
    at most one initial slice).

    Returns ``(log_likelihood (n_sequences,), filtered_last (n_sequences, S))``,
    and with ``keep`` also each block's incoming message, normalised
    product and norm (for :mod:`pgm.dynamic.long_sequences`).
    """
    unary = pot.unary
    N, T, S = unary.shape
    n_blocks = -(-T // block)
    shift = last_axis_max(unary)
    valid = data.valid
    if np.isneginf(shift[valid]).any():
        rows, cols = np.nonzero(np.isneginf(shift) & valid)
        _impossible(data, int(rows[0]), int(cols[0]))
    log_a = pot.transition_at(max(T - 1, 1)) if T > 1 else np.zeros((S, S))
    moved = float(np.max(log_a))
    matrix = np.exp(log_a - moved)
    padded = np.zeros((N, n_blocks * block, S))
    np.subtract(unary, np.where(valid, shift, 0.0)[..., None], out=padded[:, :T])
    # exponentiated straight into time-major order: block_products steps through time over all blocks at once
    emission = np.empty((block, N * n_blocks, S))
    np.exp(padded.reshape(N * n_blocks, block, S).transpose(1, 0, 2), out=emission)
    emission = emission.transpose(1, 0, 2)
    live = np.zeros((N, n_blocks * block), dtype=bool)
    live[:, :T] = valid
    live = live.reshape(N * n_blocks, block)
    first_block = np.zeros((N, n_blocks), dtype=bool)
    first_block[:, 0] = True
    first_block = first_block.reshape(-1)
    # pass 1: every block's normalised product and its log scale
    product, log_scale = block_products(matrix, emission, live, first_block)
    product = product.reshape(N, n_blocks, S, S)
    log_scale = log_scale.reshape(N, n_blocks)
    if not keep:
        return _tree_over_blocks(pot, data, product, log_scale, shift, moved)
    # pass 2: thread the message through each sequence's blocks (a loop over blocks, batched over sequences)
    message = np.zeros((N, S))
    message[:, 0] = 1.0  # with the all-ones "transition" into step 0, e_0 comes out
    total = np.zeros(N)
    messages, norms = np.zeros((N, n_blocks, S)), np.ones((N, n_blocks))
    for b in range(n_blocks):
        messages[:, b] = message
        carried = np.einsum("ni,nij->nj", message, product[:, b])
        norm = carried.sum(axis=1)
        if not (norm > 0).all():  # zero, or NaN from a block that had no explanation: the plain pass names the step
            forward(pot, data)
            _impossible(data, int(np.argmin(norm > 0)), b * block)
        norms[:, b] = norm
        total += np.log(norm) + log_scale[:, b]
        message = carried / norm[:, None]
    steps_after_first = np.maximum(data.lengths - 1, 0)
    total += shift.sum(axis=1, where=valid) + moved * steps_after_first
    if keep:
        return total, message, messages, product, norms
    return total, message
