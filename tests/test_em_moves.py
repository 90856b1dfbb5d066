"""Split moves after EM converges (issue 15): a misallocated local optimum is left for the better one.

The references are independent of pgm: scikit-learn's GaussianMixture (best
of 10 starts to tol 1e-10, no covariance regularisation) for a mixture, the
forward algorithm written here in numpy for an HMM, and mixture scores with
scipy.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm
from threadpoolctl import threadpool_limits

import pgm
from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.data import to_dataset
from pgm.learning import em as em_module
from pgm.learning.em_moves import movable_nodes, split_move


def three_bumps():
    rng = np.random.default_rng(11)
    return np.concatenate([rng.normal(-6, 1, 300), rng.normal(0, 1, 300), rng.normal(6, 1, 300)])


def mixture(k=3):
    return BayesianNetwork({"z": Categorical.latent([f"s{i}" for i in range(k)]),
                            "x": LinearGaussian.unfitted(parents=["z"])})


def score(fitted, x):
    weights = np.asarray(fitted["z"].table)
    means = np.ravel(fitted["x"].intercept)
    sds = np.sqrt(np.ravel(fitted["x"].variance))
    return float(logsumexp(np.log(weights) + norm.logpdf(x[:, None], means, sds), axis=1).mean())


@pytest.fixture(scope="module")
def misallocated():
    """Plain EM from two states on the left bump and one state over the other two: a local optimum."""
    from sklearn.mixture import GaussianMixture

    x = three_bumps()
    start = BayesianNetwork({"z": Categorical(["s0", "s1", "s2"], table=[1 / 6, 1 / 6, 2 / 3]),
                             "x": LinearGaussian(parents=["z"], intercept=[-6.5, -5.5, 3.0], variance=[0.5, 0.5, 10.0])})
    stuck = mixture().fit({"x": x}, init=start, tol=1e-12, max_iter=2000)  # a given start: no moves
    best = -np.inf
    with threadpool_limits(1):
        for seed in range(10):
            gm = GaussianMixture(3, init_params="k-means++" if seed % 2 else "random_from_data", random_state=seed,
                                 tol=1e-10, max_iter=5000, reg_covar=0.0)
            best = max(best, gm.fit(x[:, None]).score(x[:, None]))
    return x, stuck, best


def test_plain_em_stays_at_the_misallocation(misallocated):
    x, stuck, best = misallocated
    assert stuck.fit_report_.converged
    assert best - score(stuck, x) > 0.1


def test_a_split_move_reaches_the_optimum_from_the_misallocation(misallocated):
    x, stuck, best = misallocated
    model = mixture()
    data = em_module.InMemory(model, to_dataset({"x": x}, {"x": model.domains["x"]}))
    moved, report = em_module.moved_on(stuck, stuck.fit_report_, data, prior=None, max_iter=100, tol=1e-10,
                                       accelerate=True, rng=np.random.default_rng(0), variance_floor=0.0)
    assert report.n_moves >= 1
    assert score(moved, x) == pytest.approx(best, abs=1e-6)
    assert report.log_likelihood[-1] == pytest.approx(score(moved, x), abs=1e-9)
    trace = np.asarray(report.objective)
    assert np.all(np.diff(trace) >= -1e-12 * np.abs(trace[:-1]))
    assert report.n_passes > stuck.fit_report_.n_passes  # the moves' passes are counted


INITIAL = np.array([0.5, 0.3, 0.2])
TRANSITION = np.array([[0.8, 0.1, 0.1], [0.1, 0.7, 0.2], [0.2, 0.2, 0.6]])
EMISSION = np.array([[0.55, 0.25, 0.1, 0.1], [0.1, 0.5, 0.3, 0.1], [0.1, 0.1, 0.3, 0.5]])
SYMBOLS, STATES = ["a", "b", "c", "d"], ["s0", "s1", "s2"]


def hmm(latent: bool, length: int = 8):
    """A tied 3-state categorical HMM h1..hT -> o1..oT: unfitted with latent h, or with the true tables."""
    hidden = [f"h{t}" for t in range(1, length + 1)]
    cpds = {}
    for t, node in enumerate(hidden):
        parents = [hidden[t - 1]] if t else []
        cpds[node] = (Categorical.latent(STATES, parents=parents) if latent else
                      Categorical(STATES, parents=parents, table=TRANSITION if t else INITIAL))
        cpds[f"o{t + 1}"] = Categorical(SYMBOLS, parents=[node], table=None if latent else EMISSION)
    return BayesianNetwork(cpds, tied=[hidden[1:], [f"o{t}" for t in range(1, length + 1)]])


def test_a_split_move_keeps_ties_and_gives_the_dropped_state_half_of_the_split_one():
    net = hmm(False, length=4)
    moved = split_move(net, "h1", 0, 2, np.random.default_rng(1))
    assert moved.tied_groups == net.tied_groups
    for node in moved.nodes:
        np.testing.assert_allclose(np.asarray(moved[node].table).sum(axis=-1), 1.0)
    for group in moved.tied_groups:  # every member of a tie group still has the same table
        for node in group[1:]:
            np.testing.assert_array_equal(moved[node].table, moved[group[0]].table)
    first = np.asarray(moved["h1"].table)
    assert first[0] == pytest.approx(first[2]) and first[1] > first[0]
    emission = np.asarray(moved["o1"].table)
    assert not np.allclose(emission[0], emission[2])  # the two halves are pushed apart
    # the halves are opposite perturbations of state 2's (floored) row: their geometric mean is proportional to it
    floored = EMISSION[2] + 1e-3 / 4
    middle = np.sqrt(emission[0] * emission[2])
    np.testing.assert_allclose(middle / middle.sum(), floored / floored.sum(), rtol=1e-9)


def forward_log_likelihood(codes, initial, transition, emission):
    """Mean log p(sequence) of a tied categorical HMM, by the forward algorithm in numpy (rows are sequences)."""
    log_alpha = np.log(initial)[None, :] + np.log(emission[:, codes[:, 0]]).T
    for t in range(1, codes.shape[1]):
        log_alpha = logsumexp(log_alpha[:, :, None] + np.log(transition)[None], axis=1) + \
            np.log(emission[:, codes[:, t]]).T
    return float(logsumexp(log_alpha, axis=1).mean())


def test_the_default_fit_of_a_three_state_hmm_reaches_the_true_networks_likelihood():
    """Before split moves the default fit stopped 0.03 nats/row below the truth for four seeds in five."""
    frame = hmm(False).sample(2000, seed=1)[[f"o{t}" for t in range(1, 9)]]
    codes = np.column_stack([frame[c].map({s: i for i, s in enumerate(SYMBOLS)}).to_numpy(int) for c in frame])
    truth = forward_log_likelihood(codes, INITIAL, TRANSITION, EMISSION)
    model = hmm(True)
    for seed in (0, 3):
        fitted = model.fit(frame, seed=seed)
        reached = forward_log_likelihood(
            codes, np.asarray(fitted["h1"].table), np.asarray(fitted["h2"].table), np.asarray(fitted["o1"].table))
        assert reached == pytest.approx(fitted.fit_report_.log_likelihood[-1], abs=1e-9)
        assert reached >= truth - 1e-3, (seed, reached, truth)


def test_moves_apply_to_latent_nodes_with_three_or_more_states_only():
    assert movable_nodes(mixture(3).fit({"x": three_bumps()}, seed=0)) == ["z"]
    assert movable_nodes(mixture(2).fit({"x": three_bumps()}, seed=0)) == []


def test_split_moves_false_gives_the_fit_without_moves(monkeypatch):
    x = {"x": three_bumps()}
    off = mixture(3).fit(x, seed=0, n_init=2, split_moves=False)
    monkeypatch.setattr(em_module, "MOVE_CANDIDATES", 0)  # no move candidates: the driver before split moves
    without = mixture(3).fit(x, seed=0, n_init=2)
    assert off.fit_report_.n_moves == 0
    assert off.fit_report_.log_likelihood == without.fit_report_.log_likelihood
    assert off.fit_report_.restarts == without.fit_report_.restarts


def test_the_row_ranking_merges_the_pair_sharing_a_bump_and_splits_the_state_covering_two(misallocated):
    """The planted misallocation: s0 and s1 share the left bump, s2 covers the other two.

    The row ranking (responsibility correlation, local KL) must name it first:
    drop one of s0/s1 and split s2.  The responsibilities are checked against
    Bayes' rule written here with scipy.
    """
    from pgm.learning.em_moves import _row_ranked, candidate_moves, row_posteriors

    x, stuck, _ = misallocated
    model = mixture()
    data = em_module.InMemory(model, to_dataset({"x": x}, {"x": model.domains["x"]}))
    posterior, log_p = row_posteriors(stuck, "z", data, np.random.default_rng(0))
    weights = np.asarray(stuck["z"].table)
    joint = np.log(weights) + norm.logpdf(x[:, None], np.ravel(stuck["x"].intercept), np.sqrt(np.ravel(stuck["x"].variance)))
    np.testing.assert_allclose(log_p, logsumexp(joint, axis=1), rtol=1e-12)
    np.testing.assert_allclose(posterior, np.exp(joint - logsumexp(joint, axis=1, keepdims=True)), atol=1e-12)
    dropped, split = _row_ranked(posterior, log_p, limit=4)[0]
    assert dropped in (0, 1) and split == 2
    stats, _ = data.expected(stuck)
    interleaved = candidate_moves(stuck, "z", stats, limit=4, rows=(posterior, log_p))
    assert interleaved[0] == (dropped, split)
    assert set(candidate_moves(stuck, "z", stats, limit=4)) <= set(candidate_moves(stuck, "z", stats, limit=8,
                                                                                  rows=(posterior, log_p)))


def test_the_row_ranking_reads_a_sample_of_large_data():
    from pgm.learning.em_moves import RANKING_ROWS, row_posteriors

    rng = np.random.default_rng(3)
    x = rng.normal(size=RANKING_ROWS * 2 + 7)
    model = mixture()
    data = em_module.InMemory(model, to_dataset({"x": x}, {"x": model.domains["x"]}))
    start = BayesianNetwork({"z": Categorical(["s0", "s1", "s2"], table=[0.2, 0.3, 0.5]),
                             "x": LinearGaussian(parents=["z"], intercept=[-1.0, 0.0, 1.0], variance=[1.0, 1.0, 1.0])})
    posterior, log_p = row_posteriors(start, "z", data, rng)
    assert posterior.shape == (RANKING_ROWS, 3) and log_p.shape == (RANKING_ROWS,)
    assert np.all(np.isin(np.round(log_p, 12), np.round(start.log_likelihood({"x": x}), 12)))
