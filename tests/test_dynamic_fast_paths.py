"""The fast routes of the HMM recursions against a textbook log-space forward-backward written here.

Routes under test: the blocked scan over time (block products, then a pass
over block boundaries, then all blocks at once), the forward pass that keeps
one step (log-likelihoods), the time-major shared-transition recursion, and
the one-table lookup of discrete emissions.  Models are random, with zeros in
the transition and emission tables; lengths are not multiples of the blocks.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp

from pgm.dynamic import forward_backward as fb
from pgm.dynamic import hmm
from pgm.dynamic.inference import prepare
from pgm.errors import ImpossibleEvidenceError


def random_hmm(seed: int):
    """A categorical HMM with some zero transitions and emissions (every state keeps a way out and a symbol)."""
    rng = np.random.default_rng(seed)
    K, M = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    start = rng.dirichlet(np.ones(K))
    trans = rng.dirichlet(np.ones(K), K) * (rng.random((K, K)) < 0.7)
    trans[np.arange(K), rng.integers(0, K, K)] += 0.5
    trans /= trans.sum(axis=1, keepdims=True)
    emit = rng.dirichlet(np.ones(M), K) * (rng.random((K, M)) < 0.6)
    emit[np.arange(K), rng.integers(0, M, K)] += 0.3
    emit /= emit.sum(axis=1, keepdims=True)
    model = hmm(K, emission="categorical", n_symbols=M, startprob=start, transmat=trans, emissionprob=emit)
    return model, (start, trans, emit)


def sample(params, lengths, seed):
    """Sequences drawn from the model (so they have positive probability), concatenated as hmmlearn's X."""
    start, trans, emit = params
    rng = np.random.default_rng(seed)
    out = []
    for T in lengths:
        z = rng.choice(len(start), p=start)
        for _ in range(T):
            out.append(rng.choice(emit.shape[1], p=emit[z]))
            z = rng.choice(len(start), p=trans[z])
    return np.array(out)[:, None]


def textbook(params, y):
    """Log-likelihood and smoothed posteriors of one sequence by log-space forward-backward."""
    start, trans, emit = params
    with np.errstate(divide="ignore"):
        log_start, log_trans, log_emit = np.log(start), np.log(trans), np.log(emit)
    T = len(y)
    log_alpha = np.empty((T, len(start)))
    log_beta = np.zeros((T, len(start)))
    log_alpha[0] = log_start + log_emit[:, y[0]]
    for t in range(1, T):
        log_alpha[t] = logsumexp(log_alpha[t - 1][:, None] + log_trans, axis=0) + log_emit[:, y[t]]
    for t in range(T - 2, -1, -1):
        log_beta[t] = logsumexp(log_trans + (log_emit[:, y[t + 1]] + log_beta[t + 1])[None, :], axis=1)
    total = logsumexp(log_alpha[-1])
    return total, np.exp(log_alpha + log_beta - total)


@pytest.mark.parametrize("seed", range(6))
def test_blocked_scan_and_one_step_forward_give_the_textbook_answers(seed):
    model, params = random_hmm(seed)
    lengths = [203, 77, 1]  # not multiples of any block size below; a sequence of one step
    X = sample(params, lengths, seed)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    expected = [textbook(params, X[a:a + T, 0]) for a, T in zip(starts, lengths)]
    log_likelihoods = np.array([e[0] for e in expected])
    posteriors = np.vstack([e[1] for e in expected])
    packed, _, pot = prepare(model, X, lengths=lengths)
    order = packed.position  # packed rows are longest first
    for block in (7, 16, 33, 512):
        total, last = fb.blocked_log_likelihood(pot, packed, block)
        assert np.allclose(total[order], log_likelihoods, rtol=1e-12, atol=0)
        from pgm.dynamic.long_sequences import blocked_forward_backward

        result = blocked_forward_backward(pot, packed, block)
        assert np.abs(packed.to_long(result.smoothed) - posteriors).max() < 1e-10
    total, last = fb.forward_log_likelihood(pot, packed)
    assert np.allclose(total[order], log_likelihoods, rtol=1e-12, atol=0)
    plain = fb.forward(pot, packed)
    assert np.abs(last - plain.filtered[np.arange(3), packed.lengths - 1]).max() < 1e-12
    assert np.abs(packed.to_long(fb.forward_backward(pot, packed).smoothed) - posteriors).max() < 1e-10
    assert np.allclose(model.log_likelihood(X, lengths=lengths).to_numpy(), log_likelihoods, rtol=1e-12, atol=0)


def test_the_emission_lookup_equals_evaluating_the_cpd_step_by_step(monkeypatch):
    from pgm.dynamic import potentials as module

    model, params = random_hmm(11)
    lengths = [300, 120]
    X = sample(params, lengths, 3)
    _, _, fast = prepare(model, X, lengths=lengths)
    monkeypatch.setattr(module, "LOOKUP_LIMIT", 0)  # no table: the CPD is evaluated at every step
    _, _, slow = prepare(model, X, lengths=lengths)
    assert np.array_equal(fast.unary, slow.unary)


def test_a_long_sequence_with_zeros_neither_underflows_nor_drifts_from_the_plain_recursion():
    model, params = random_hmm(4)
    T = 12_001
    X = sample(params, [T], 8)
    packed, _, pot = prepare(model, X, lengths=[T])
    assert fb.long_enough_for_blocks(pot, packed)
    blocked, _ = fb.blocked_log_likelihood(pot, packed, fb.block_length(T))
    plain = fb.forward(pot, packed)
    assert np.isfinite(blocked[0]) and blocked[0] < -100
    assert blocked[0] == pytest.approx(plain.log_likelihood[0], rel=1e-12)
    assert blocked[0] == pytest.approx(textbook(params, X[:, 0])[0], rel=1e-12)
    blocked_fb = fb.forward_backward(pot, packed)  # the blocked forward-backward (12,001 steps: a part block)
    plain_fb = fb.forward_backward(pot, packed, terminal=np.ones((1, pot.unary.shape[2])))  # the plain route
    assert np.abs(blocked_fb.smoothed - plain_fb.smoothed).max() < 1e-10
    assert np.abs(blocked_fb.filtered - plain_fb.filtered).max() < 1e-10
    assert np.allclose(blocked_fb.smoothed.sum(axis=2), 1.0, atol=1e-12)


def test_evidence_that_no_path_explains_is_reported_at_its_step_on_every_route():
    # left to right: state 0 emits only 0, state 1 only 1, and 1 never goes back to 0
    model = hmm(2, emission="categorical", n_symbols=2, startprob=[1.0, 0.0], transmat=[[0.9, 0.1], [0.0, 1.0]],
                emissionprob=[[1.0, 0.0], [0.0, 1.0]])
    for T in (50, 5_000):  # the plain and the blocked route
        y = np.zeros(T, dtype=int)
        y[T // 2:] = 1
        y[T - 7] = 0  # back to state 0: impossible here
        with pytest.raises(ImpossibleEvidenceError, match=f"t={T - 7}"):
            model.log_likelihood(y[:, None], lengths=[T])
        with pytest.raises(ImpossibleEvidenceError, match=f"t={T - 7}"):
            model.smoothed(y[:, None], lengths=[T])
