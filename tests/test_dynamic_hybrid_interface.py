"""Missing continuous values carried across slices with discrete hidden nodes (CLG forward-backward).

An autoregressive HMM ``y_t | z_t, y_{t-1}`` (here with a second continuous
node ``w | z, y`` or ``w | z[t-1], y``) whose ``y`` is missing: the blocks of
steps around each gap are Gaussian given the discrete path, and the joint
hidden state carries that path (:mod:`pgm.dynamic.gaussian_runs`).  Every
answer -- log-likelihood, filtered and smoothed marginals, Viterbi, one EM
step -- is compared with the static engine on ``unroll(T)``, which answers
conditional linear Gaussian networks exactly on its own terms.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from pgm.cpds import Categorical, LinearGaussian
from pgm.dynamic import DynamicBayesianNetwork, autoregressive_hmm, previous
from pgm.dynamic.potentials import hidden_space
from pgm.errors import DataError, InferenceTooLarge
from pgm.learning.em import ConvergenceWarning


def switching_autoregression(seed, w_lag=0):
    """z in 3 states; y | z, y[t-1]; w | z (or z[t-1]), y."""
    rng = np.random.default_rng(seed)

    def table(*shape):
        return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])

    z_parent = "z" if w_lag == 0 else previous("z")
    transition = {
        "z": Categorical([0, 1, 2], parents=[previous("z")], table=table(3, 3)),
        "y": LinearGaussian(parents=["z", previous("y")], intercept=rng.normal(size=3),
                            weights=rng.uniform(-0.9, 0.9, size=(3, 1)), variance=rng.uniform(0.3, 1.2, size=3)),
        "w": LinearGaussian(parents=[z_parent, "y"], intercept=rng.normal(size=3),
                            weights=rng.uniform(-1, 1, size=(3, 1)), variance=rng.uniform(0.2, 0.8, size=3)),
    }
    initial = {"z": Categorical([0, 1, 2], table=table(3)),
               "y": LinearGaussian(parents=["z"], intercept=rng.normal(size=3), variance=[1.0, 1.0, 1.0]),
               "w": LinearGaussian(parents=["y"], intercept=0.5, weights=[0.7], variance=0.4)}
    return DynamicBayesianNetwork(transition, initial=initial, latent=["z"])


def with_gaps(dbn, lengths, seed, rates=(("y", 0.35), ("w", 0.2))):
    frame = dbn.sample(lengths, seed=seed).drop(columns=["z", "t"])
    rng = np.random.default_rng(seed + 1)
    for column, rate in rates:
        values = frame[column].to_numpy(copy=True)
        values[rng.random(len(values)) < rate] = np.nan
        frame[column] = values
    return frame


def evidence_of(rows, upto=None):
    return {f"{c}[{t}]": float(v) for c in ("y", "w") for t, v in enumerate(rows[c])
            if not np.isnan(v) and (upto is None or t <= upto)}


@pytest.mark.parametrize("seed, w_lag", [(0, 0), (1, 0), (2, 1)])
def test_likelihood_filtering_smoothing_and_viterbi_equal_the_unrolled_network(seed, w_lag):
    dbn = switching_autoregression(seed, w_lag)
    frame = with_gaps(dbn, [7, 5, 2, 1, 6], seed)
    assert frame.y.isna().sum() >= 4
    ours = dbn.log_likelihood(frame, sequence="sequence")
    smoothed, filtered = dbn.smoothed(frame, sequence="sequence"), dbn.filtered(frame, sequence="sequence")
    best = dbn.most_probable_path(frame, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        T, evidence = len(rows), evidence_of(rows)
        unrolled = dbn.unroll(T)
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
        for t in range(T):
            whole = unrolled.query(f"z[{t}]", evidence).probabilities
            assert np.abs(smoothed.loc[(sid, t), "z"].to_numpy(float) - whole).max() < 1e-10
            past = dbn.unroll(t + 1).query(f"z[{t}]", evidence_of(rows, upto=t)).probabilities
            assert np.abs(filtered.loc[(sid, t), "z"].to_numpy(float) - past).max() < 1e-10
        mpe = unrolled.mpe(evidence)
        assert best.log_probability[sid] == pytest.approx(mpe.log_probability, abs=1e-10)
        assert list(best.path.loc[sid, "z"]) == [mpe.assignment[f"z[{t}]"] for t in range(T)]


@pytest.mark.parametrize("w_lag", [0, 1])
def test_one_em_step_equals_em_on_the_unrolled_network(w_lag):
    dbn, T = switching_autoregression(3, w_lag), 4
    frame = with_gaps(dbn, [T] * 40, 5, rates=(("y", 0.3), ("w", 0.2)))
    wide = pd.DataFrame({f"{c}[{t}]": frame[c].to_numpy().reshape(-1, T)[:, t] for c in ("y", "w") for t in range(T)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = dbn.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = dbn.unroll(T).fit(wide, init="current", max_iter=1)
    for node in dbn.nodes:
        for t in range(T):
            mine, theirs = ours.cpd(node, t), static[f"{node}[{t}]"]
            if mine.is_discrete:
                assert np.abs(mine.table - theirs.table).max() < 1e-10, (node, t)
                continue
            for part in ("intercept", "weights", "variance"):
                assert np.allclose(np.asarray(getattr(mine, part)), np.asarray(getattr(theirs, part)),
                                   rtol=0, atol=1e-10), (node, t, part)
    assert ours.fit_report_.log_likelihood[0] * T == pytest.approx(static.fit_report_.log_likelihood[0], abs=1e-10)


def test_the_builders_autoregressive_hmm_takes_gaps_and_em_climbs():
    rng = np.random.default_rng(0)
    n = 400
    complete = pd.DataFrame({"id": np.repeat(np.arange(20), n // 20), "z": rng.integers(0, 2, size=n),
                             "y0": rng.normal(size=n)})
    complete["y0"] += 3 * complete.z
    seen = autoregressive_hmm(2, 1).latent_free().fit(complete, sequence="id")
    model = DynamicBayesianNetwork(seen.transition, initial=seen.initial, latent=["z"])
    gappy = complete.drop(columns="z").copy()
    gappy.loc[rng.random(n) < 0.15, "y0"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = model.fit(gappy, sequence="id", init="current", max_iter=15, tol=-1.0)
    trace = np.array(fitted.fit_report_.log_likelihood)
    assert np.all(np.diff(trace) > -1e-9)  # EM never goes down
    assert fitted.score(gappy, sequence="id") / n == pytest.approx(trace[-1], abs=0.05)


def test_the_path_a_gap_needs_counts_towards_the_state_limit_and_checkpoints_are_refused():
    dbn = switching_autoregression(4)
    frame = dbn.sample([30], seed=1).drop(columns=["z", "t"])
    frame.loc[3:5, "y"] = np.nan  # a gap of three: blocks of four steps
    packed_space = hidden_space(dbn, __import__("pgm.dynamic.inference", fromlist=["x"]).pack_observed(dbn, frame))
    assert packed_space.size == 3 ** 4
    with pytest.raises(DataError, match="checkpoint= does not take missing continuous values"):
        dbn.log_likelihood(frame, checkpoint=5)
    frame.loc[3:12, "y"] = np.nan  # ten missing in a row: 3^11 joint states
    with pytest.raises(InferenceTooLarge, match=r"lagged copies .* 177,147 states"):
        dbn.log_likelihood(frame)


def switching_ar2():
    transition = {
        "z": Categorical([0, 1], parents=[previous("z")], table=[[0.8, 0.2], [0.3, 0.7]]),
        "y": LinearGaussian(parents=["z", previous("y", 2), previous("y")], intercept=[0.0, 2.0],
                            weights=[[-0.3, 0.6], [0.2, 0.5]], variance=[0.5, 1.0])}
    initial = [{"z": Categorical([0, 1], table=[0.5, 0.5]),
                "y": LinearGaussian(parents=["z"], intercept=[0.0, 1.0], variance=[1.0, 1.0])},
               {"y": LinearGaussian(parents=["z", previous("y")], intercept=[0.0, 1.0], weights=[[0.5], [0.5]],
                                    variance=[1.0, 1.0])}]
    return DynamicBayesianNetwork(transition, initial=initial, latent=["z"])


def observed_ar2():
    return DynamicBayesianNetwork(
        {"y": LinearGaussian(parents=[previous("y", 2), previous("y")], intercept=0.2, weights=[-0.3, 0.9],
                             variance=0.4)},
        initial=[{"y": LinearGaussian(intercept=0.0, variance=1.0)},
                 {"y": LinearGaussian(parents=[previous("y")], intercept=0.1, weights=[0.5], variance=0.7)}])


@pytest.mark.parametrize("build", [switching_ar2, observed_ar2])
def test_gaps_with_children_two_slices_later_equal_the_unrolled_network(build):
    dbn = build()
    frame = dbn.sample([9, 6, 3], seed=1).drop(columns=["z", "t"], errors="ignore")
    frame.loc[[2, 3, 6, 10, 11, 14, 16], "y"] = np.nan  # gaps of one and two, one and two closed steps apart
    ours = dbn.log_likelihood(frame, sequence="sequence")
    smoothed = dbn.smoothed(frame, sequence="sequence") if dbn.latent_nodes else None
    for sid, rows in frame.groupby("sequence", sort=False):
        T = len(rows)
        evidence = {f"y[{t}]": float(v) for t, v in enumerate(rows.y) if not np.isnan(v)}
        unrolled = dbn.unroll(T)
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
        for t in range(T if smoothed is not None else 0):
            whole = unrolled.query(f"z[{t}]", evidence).probabilities
            assert np.abs(smoothed.loc[(sid, t), "z"].to_numpy(float) - whole).max() < 1e-10
    T = 5
    many = dbn.sample([T] * 40, seed=5).drop(columns=["z"], errors="ignore")
    many.loc[np.random.default_rng(6).random(len(many)) < 0.25, "y"] = np.nan
    wide = pd.DataFrame({f"y[{t}]": many.y.to_numpy().reshape(-1, T)[:, t] for t in range(T)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        step = dbn.fit(many, sequence="sequence", init="current", max_iter=1)
        static = dbn.unroll(T).fit(wide, init="current", max_iter=1)
    for node in dbn.nodes:
        for t in range(T):
            mine, theirs = step.cpd(node, t), static[f"{node}[{t}]"]
            if mine.is_discrete:
                assert np.abs(mine.table - theirs.table).max() < 1e-10
            else:
                for part in ("intercept", "weights", "variance"):
                    assert np.allclose(np.asarray(getattr(mine, part)), np.asarray(getattr(theirs, part)),
                                       rtol=0, atol=1e-10), (node, t, part)


def test_sequences_with_longer_gaps_are_answered_in_their_own_group_with_the_same_answers():
    dbn = switching_autoregression(5)
    frame = with_gaps(dbn, [8, 6, 5, 7], 2, rates=(("y", 0.0), ("w", 0.1)))
    frame.loc[frame.sequence == 0, "y"] = [0.3, np.nan, np.nan, np.nan, np.nan, 1.0, 0.5, 0.2]  # a gap of 4
    frame.loc[(frame.sequence == 2) & (frame.index % 2 == 0), "y"] = np.nan  # gaps of 1
    together = (dbn.log_likelihood(frame, sequence="sequence"), dbn.smoothed(frame, sequence="sequence"),
                dbn.most_probable_path(frame, sequence="sequence"))
    for sid, rows in frame.groupby("sequence", sort=False):
        alone = rows.assign(sequence=sid)
        assert together[0][sid] == pytest.approx(dbn.log_likelihood(alone, sequence="sequence")[sid], abs=1e-12)
        assert np.abs(together[1].loc[sid].to_numpy() - dbn.smoothed(alone, sequence="sequence").loc[sid].to_numpy()
                      ).max() < 1e-12
        best = dbn.most_probable_path(alone, sequence="sequence")
        assert list(together[2].path.loc[sid, "z"]) == list(best.path.loc[sid, "z"])
        unrolled, evidence = dbn.unroll(len(rows)), evidence_of(rows)
        assert together[0][sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
    assert list(together[0].index) == [0, 1, 2, 3] and together[1].index.equals(
        dbn.filtered(frame, sequence="sequence").index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grouped = dbn.fit(frame, sequence="sequence", init="current", max_iter=1)
    stats = [dbn.statistics(rows, sequence="sequence") for _, rows in frame.groupby("sequence", sort=False)]
    summed = stats[0]
    for part in stats[1:]:
        summed = summed + part
    by_hand = dbn.from_statistics(summed)
    for node in dbn.nodes:
        for part in (("table",) if dbn.cpd(node, 3).is_discrete else ("intercept", "weights", "variance")):
            assert np.allclose(np.asarray(getattr(grouped.cpd(node, 3), part)),
                               np.asarray(getattr(by_hand.cpd(node, 3), part)), rtol=0, atol=1e-10)


def test_em_from_random_starts_recovers_a_switching_autoregression_with_gaps():
    rng = np.random.default_rng(0)
    n = 2000
    z = np.zeros(n, dtype=int)
    for t in range(1, n):
        z[t] = z[t - 1] if rng.random() < 0.9 else 1 - z[t - 1]
    y = np.zeros(n)
    for t in range(1, n):
        y[t] = (0.5 if z[t] else -0.5) + (0.8 if z[t] else 0.2) * y[t - 1] + rng.normal() * (0.5 if z[t] else 1.0)
    frame = pd.DataFrame({"id": np.repeat(np.arange(20), 100), "y0": y})
    frame.loc[rng.random(n) < 0.08, "y0"] = np.nan
    fitted = autoregressive_hmm(2, 1).fit(frame, sequence="id", n_init=2, seed=0, max_iter=200, tol=1e-7)
    step = fitted.cpd("y0", 3)
    order = np.argsort(np.ravel(step.weights))  # the states may come out in either order
    # ~1,800 seen steps: slopes' sd about 0.03, transition probabilities' about 0.01
    assert np.allclose(np.ravel(step.weights)[order], [0.2, 0.8], atol=0.1)
    assert np.allclose(np.ravel(step.variance)[order], [1.0, 0.25], atol=0.1)
    assert np.allclose(np.diag(fitted.cpd("z", 3).table), 0.9, atol=0.04)


def test_a_full_covariance_gaussian_hmm_with_missing_coordinates_starts_em_at_random():
    from pgm.dynamic import hmm

    truth = hmm(2, emission="gaussian", n_features=2, covariance="full", startprob=[0.5, 0.5],
                transmat=[[0.9, 0.1], [0.1, 0.9]], means=[[0, 0], [3, 1]], covars=[[[1, 0.5], [0.5, 1]]] * 2)
    frame = truth.sample([100] * 10, seed=2).drop(columns="z")
    frame.loc[np.random.default_rng(3).random(len(frame)) < 0.1, "y0"] = np.nan  # y0 has the child y1
    fitted = hmm(2, emission="gaussian", n_features=2, covariance="full").fit(frame, sequence="sequence", seed=0)
    assert fitted.fit_report_.converged
    assert fitted.score(frame, sequence="sequence") >= truth.score(frame, sequence="sequence") - 1.0



def test_gaps_with_a_partly_observed_discrete_input_and_soft_evidence_equal_the_unrolled_network():
    transition = {
        "u": Categorical(["lo", "hi"], parents=[previous("u")], table=[[0.8, 0.2], [0.3, 0.7]]),
        "z": Categorical([0, 1], parents=[previous("z"), "u"], table=[[[0.9, 0.1], [0.5, 0.5]], [[0.2, 0.8], [0.4, 0.6]]]),
        "y": LinearGaussian(parents=["z", "u", previous("y")], intercept=[[0.0, 1.0], [2.0, -1.0]],
                            weights=[[[0.5], [0.3]], [[0.7], [-0.2]]], variance=[[0.5, 1.0], [0.8, 0.3]])}
    initial = {"u": Categorical(["lo", "hi"], table=[0.5, 0.5]),
               "z": Categorical([0, 1], parents=["u"], table=[[0.6, 0.4], [0.3, 0.7]]),
               "y": LinearGaussian(parents=["z"], intercept=[0.0, 1.0], variance=[1.0, 1.0])}
    dbn = DynamicBayesianNetwork(transition, initial=initial, latent=["z"])
    frame = dbn.sample([7, 5], seed=2).drop(columns=["z", "t"])
    frame["u"] = frame["u"].astype(object)
    frame.loc[[1, 2, 8], "u"] = None  # u is carried too: the blocks name its path as well
    frame.loc[[2, 3, 9], "y"] = np.nan
    soft = pd.DataFrame({0: [0.3], 1: [0.9]}, index=pd.MultiIndex.from_tuples([(0, 4)], names=["sequence", "t"]))
    ours = dbn.log_likelihood(frame, sequence="sequence", soft={"z": soft})
    smoothed = dbn.smoothed(frame, sequence="sequence", soft={"z": soft})
    for sid, rows in frame.groupby("sequence", sort=False):
        T = len(rows)
        evidence = {f"y[{t}]": float(v) for t, v in enumerate(rows.y) if not np.isnan(v)}
        evidence.update({f"u[{t}]": v for t, v in enumerate(rows.u) if v is not None})
        if sid == 0:
            evidence["z[4]"] = {0: 0.3, 1: 0.9}
        unrolled = dbn.unroll(T)
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
        for t in range(T):
            whole = unrolled.query(f"z[{t}]", evidence).probabilities
            assert np.abs(smoothed.loc[(sid, t), "z"].to_numpy(float) - whole).max() < 1e-10
