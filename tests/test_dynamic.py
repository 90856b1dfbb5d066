"""Dynamic Bayesian networks (pgm.dynamic) against independent answers.

- the static engine on ``unroll(T)`` (junction tree / variable elimination on
  the unrolled network): log-likelihoods, filtered and smoothed marginals,
  Viterbi path and score, one EM step, on a random DBN with two coupled
  hidden chains, an observed node with a lagged observed parent, and missing
  values;
- hmmlearn from the same parameters: CategoricalHMM and GaussianHMM (diag
  and full) log-likelihoods, posteriors, Viterbi and one Baum-Welch step;
- counts by pandas for complete data; empirical frequencies for sampling;
- one-line errors for bad input.
"""

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.cpds import Categorical
from pgm.dynamic import DynamicBayesianNetwork, hmm, previous
from pgm.dynamic.builders import chain_to_moments
from pgm.errors import DataError, StructureError
from pgm.learning.em import ConvergenceWarning

hmmlearn = pytest.importorskip("hmmlearn.hmm")


# ---------------------------------------------------------------------------- a random DBN and its unrolling
def random_dbn(seed: int) -> DynamicBayesianNetwork:
    """Hidden h, g (g | h, g[t-1]); observed y | h, g and w | y[t-1], g, with random tables."""
    rng = np.random.default_rng(seed)

    def table(*shape):
        return rng.dirichlet(np.ones(shape[-1]) * 0.8, size=shape[:-1])

    hs, gs, ys, ws = ["h0", "h1"], ["g0", "g1"], ["a", "b", "c"], ["u", "v"]
    transition = {
        "h": Categorical(hs, parents=[previous("h")], table=table(2, 2)),
        "g": Categorical(gs, parents=["h", previous("g")], table=table(2, 2, 2)),
        "y": Categorical(ys, parents=["h", "g"], table=table(2, 2, 3)),
        "w": Categorical(ws, parents=[previous("y"), "g"], table=table(3, 2, 2)),
    }
    initial = {
        "h": Categorical(hs, table=table(2)),
        "g": Categorical(gs, parents=["h"], table=table(2, 2)),
        "w": Categorical(ws, parents=["g"], table=table(2, 2)),
    }
    return DynamicBayesianNetwork(transition, initial=initial, latent=["h", "g"])


def random_sequences(dbn, lengths, seed, missing=0.3):
    frame = dbn.sample(lengths, seed=seed)
    frame = frame.drop(columns=["h", "g"])
    rng = np.random.default_rng(seed + 1)
    w = frame["w"].astype(object)
    w[rng.random(len(frame)) < missing] = None  # w is a leaf: its missing values are summed out
    frame["w"] = w
    return frame


def evidence_of(frame_one_sequence) -> dict:
    evidence = {}
    for t, row in enumerate(frame_one_sequence.itertuples(index=False)):
        evidence[f"y[{t}]"] = row.y
        if row.w is not None and not (isinstance(row.w, float) and math.isnan(row.w)):
            evidence[f"w[{t}]"] = row.w
    return evidence


@pytest.fixture(scope="module")
def dbn():
    return random_dbn(7)


@pytest.fixture(scope="module")
def sequences(dbn):
    return random_sequences(dbn, [4, 1, 3, 5, 2], seed=3)


def test_log_likelihood_equals_the_unrolled_networks_log_evidence(dbn, sequences):
    ours = dbn.log_likelihood(sequences, sequence="sequence")
    for sid, rows in sequences.groupby("sequence", sort=False):
        unrolled = dbn.unroll(len(rows))
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence_of(rows)), abs=1e-10)


def test_smoothed_and_filtered_marginals_equal_the_unrolled_networks_posteriors(dbn, sequences):
    smoothed = dbn.smoothed(sequences, sequence="sequence")
    filtered = dbn.filtered(sequences, sequence="sequence")
    for sid, rows in sequences.groupby("sequence", sort=False):
        T = len(rows)
        for t in range(T):
            for node in ("h", "g"):
                whole = dbn.unroll(T).query(f"{node}[{t}]", evidence_of(rows))
                assert np.allclose(smoothed.loc[(sid, t), node].to_numpy(float), whole.probabilities, atol=1e-10)
                upto = {k: v for k, v in evidence_of(rows).items() if int(k.split("[")[1][:-1]) <= t}
                past = dbn.unroll(t + 1).query(f"{node}[{t}]", upto)
                assert np.allclose(filtered.loc[(sid, t), node].to_numpy(float), past.probabilities, atol=1e-10)


def test_viterbi_path_and_score_equal_the_unrolled_networks_mpe(dbn):
    complete = random_sequences(dbn, [4, 2, 5], seed=11, missing=0.0)  # MPE would also maximise over missing w
    best = dbn.most_probable_path(complete, sequence="sequence")
    for sid, rows in complete.groupby("sequence", sort=False):
        T = len(rows)
        mpe = dbn.unroll(T).mpe(evidence_of(rows))
        assert best.log_probability[sid] == pytest.approx(mpe.log_probability, abs=1e-10)
        for t in range(T):
            assert best.path.loc[(sid, t), "h"] == mpe.assignment[f"h[{t}]"]
            assert best.path.loc[(sid, t), "g"] == mpe.assignment[f"g[{t}]"]


def test_one_em_step_equals_em_on_the_unrolled_network(dbn):
    T = 4
    frame = random_sequences(dbn, [T] * 30, seed=5)
    wide = {f"{node}[{t}]": frame[node].to_numpy(object).reshape(-1, T)[:, t] for node in ("y", "w") for t in range(T)}
    wide = pd.DataFrame(wide).replace({None: np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = dbn.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = dbn.unroll(T).fit(wide, init="current", max_iter=1)
    for node in dbn.nodes:
        for t in range(T):
            assert np.allclose(ours.cpd(node, t).table, static[f"{node}[{t}]"].table, atol=1e-10), (node, t)
    assert ours.fit_report_.log_likelihood[0] * T == pytest.approx(static.fit_report_.log_likelihood[0], abs=1e-10)


# ---------------------------------------------------------------------------- hmmlearn from the same parameters
def categorical_pair(seed=0):
    rng = np.random.default_rng(seed)
    start, trans, emit = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3) * 2, 3), rng.dirichlet(np.ones(6), 3)
    ours = hmm(3, emission="categorical", n_symbols=6, startprob=start, transmat=trans, emissionprob=emit)
    theirs = hmmlearn.CategoricalHMM(3, n_features=6, init_params="", params="ste", n_iter=1, tol=-np.inf)
    theirs.startprob_, theirs.transmat_, theirs.emissionprob_ = start, trans, emit
    return ours, theirs


def gaussian_pair(covariance, seed=0):
    rng = np.random.default_rng(seed)
    K, d = 3, 2
    start, trans = rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K) * 3, K)
    means = rng.normal(scale=2.0, size=(K, d))
    if covariance == "diag":
        covars = rng.uniform(0.5, 2.0, size=(K, d))
    else:
        root = rng.normal(size=(K, d, d))
        covars = root @ root.transpose(0, 2, 1) + np.eye(d)
    ours = hmm(K, emission="gaussian", n_features=d, covariance=covariance, startprob=start, transmat=trans,
               means=means, covars=covars)
    theirs = hmmlearn.GaussianHMM(K, covariance_type=covariance, init_params="", params="stmc", n_iter=1,
                                  tol=-np.inf, min_covar=0.0, covars_prior=0.0, covars_weight=0.0)
    theirs.startprob_, theirs.transmat_, theirs.means_, theirs.covars_ = start, trans, means, covars
    return ours, theirs


LENGTHS = [40, 25, 60]


@pytest.mark.parametrize("kind", ["categorical", "diag", "full"])
def test_hmmlearn_gives_the_same_log_likelihood_posteriors_and_viterbi(kind):
    ours, theirs = categorical_pair() if kind == "categorical" else gaussian_pair(kind)
    X, _ = theirs.sample(sum(LENGTHS), random_state=1)
    assert ours.score(X, lengths=LENGTHS) == pytest.approx(theirs.score(X, LENGTHS), abs=1e-10 * abs(theirs.score(X, LENGTHS)))
    smoothed = ours.smoothed(X, lengths=LENGTHS)["z"].to_numpy(float)
    assert np.abs(smoothed - theirs.predict_proba(X, LENGTHS)).max() < 1e-10
    log_prob, path = theirs.decode(X, LENGTHS, algorithm="viterbi")
    best = ours.most_probable_path(X, lengths=LENGTHS)
    assert best.log_probability.sum() == pytest.approx(log_prob, abs=1e-9)
    assert (best.path["z"].to_numpy(int) == path).all()


@pytest.mark.parametrize("kind", ["categorical", "diag", "full"])
def test_one_baum_welch_step_gives_hmmlearns_parameters(kind):
    ours, theirs = categorical_pair(2) if kind == "categorical" else gaussian_pair(kind, 2)
    X, _ = theirs.sample(sum(LENGTHS), random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, LENGTHS)
        fitted = ours.fit(X, lengths=LENGTHS, init="current", max_iter=1)
    assert np.allclose(fitted.cpd("z", 0).table, theirs.startprob_, atol=1e-10)
    assert np.allclose(fitted.cpd("z", 1).table, theirs.transmat_, atol=1e-10)
    if kind == "categorical":
        assert np.allclose(fitted.cpd("y", 1).table, theirs.emissionprob_, atol=1e-10)
    else:
        means, covars = chain_to_moments([fitted.cpd(f"y{j}", 1) for j in range(2)], (3,))
        assert np.allclose(means, theirs.means_, atol=1e-10)
        assert np.allclose(covars, theirs.covars_, atol=1e-10)


def test_baum_welch_never_decreases_the_log_likelihood():
    ours, theirs = gaussian_pair("full", 5)
    X, _ = theirs.sample(300, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = hmm(3, emission="gaussian", n_features=2, covariance="full").fit(X, lengths=[100, 200], seed=0,
                                                                                   max_iter=15)
    trace = np.array(fitted.fit_report_.log_likelihood)
    assert (np.diff(trace) > -1e-10).all() and trace[-1] > trace[0]


# ---------------------------------------------------------------------------- long sequences
def test_a_million_steps_neither_underflow_and_add_up_over_chunks():
    ours, theirs = categorical_pair(9)
    T, chunk = 10**6, 250_000
    X = np.random.default_rng(0).integers(0, 6, size=(T, 1))  # any data has a likelihood
    whole = ours.score(X)
    assert np.isfinite(whole) and whole < -1e5
    assert whole == pytest.approx(theirs.score(X), rel=1e-11)
    # chain rule: log p(x) = sum_k log p(chunk k | earlier chunks), each chunk started from the predicted state
    total, model = 0.0, ours
    for start in range(0, T, chunk):
        piece = X[start:start + chunk]
        total += model.score(piece)
        ahead = model.predict(piece, steps=1)["z"].to_numpy(float)[0]
        model = hmm(3, emission="categorical", n_symbols=6, startprob=ahead, transmat=theirs.transmat_,
                    emissionprob=theirs.emissionprob_)
    assert total == pytest.approx(whole, rel=1e-12)


# ---------------------------------------------------------------------------- complete data, sampling, round trips
def test_complete_data_fit_is_the_pooled_transition_counts():
    truth, _ = categorical_pair(4)
    frame = truth.sample([30, 50, 20], seed=2)
    fitted = truth.latent_free().fit(frame, sequence="sequence")
    previous_z = frame.groupby("sequence")["z"].shift()
    pairs = pd.crosstab(previous_z.dropna().astype(int), frame["z"][previous_z.notna()].astype(int))
    assert np.allclose(fitted.cpd("z", 1).table, (pairs / pairs.to_numpy().sum(1, keepdims=True)).to_numpy())
    emitted = pd.crosstab(frame["z"].astype(int), frame["y"].astype(int)).reindex(columns=range(6), fill_value=0)
    assert np.allclose(fitted.cpd("y", 0).table, (emitted / emitted.to_numpy().sum(1, keepdims=True)).to_numpy())


def test_sampled_second_states_follow_startprob_times_transmat():
    truth, theirs = categorical_pair(6)
    n = 20_000
    frame = truth.sample([2] * n, seed=1)
    second = frame.loc[frame["t"] == 1, "z"].astype(int).value_counts(normalize=True).sort_index().to_numpy()
    expected = theirs.startprob_ @ theirs.transmat_
    assert np.all(np.abs(second - expected) < 4 * np.sqrt(expected * (1 - expected) / n))


def test_json_round_trip_and_unrolled_ties(dbn):
    again = DynamicBayesianNetwork.from_dict(json.loads(json.dumps(dbn.to_dict())))
    assert again == dbn
    unrolled = dbn.unroll(4)
    assert ("y[0]", "y[1]", "y[2]", "y[3]") in unrolled.tied_groups
    assert unrolled.n_free_parameters == dbn.n_free_parameters


def test_inputs_in_every_shape_give_the_same_answer():
    ours, theirs = categorical_pair(1)
    X, _ = theirs.sample(9, random_state=0)
    long = pd.DataFrame({"id": np.repeat(["a", "b"], [4, 5]), "y": X[:, 0]})
    frames = [long.iloc[:4], long.iloc[4:]]
    shuffled = long.assign(time=np.r_[np.arange(4), np.arange(5)]).iloc[[3, 1, 0, 2, 8, 5, 7, 4, 6]]
    expected = ours.log_likelihood(X, lengths=[4, 5]).to_numpy()
    assert np.allclose(ours.log_likelihood(long, sequence="id").to_numpy(), expected)
    assert np.allclose(ours.log_likelihood(frames).to_numpy(), expected)
    assert np.allclose(ours.log_likelihood(shuffled, sequence="id", time="time").to_numpy(), expected)


# ---------------------------------------------------------------------------- bad input: one-line errors
def test_interleaved_sequence_ids_are_refused():
    ours, _ = categorical_pair()
    frame = pd.DataFrame({"id": [1, 1, 2, 1], "y": [0, 1, 2, 3]})
    with pytest.raises(DataError, match=r"sequence 1 are interleaved .* starts again at row 3"):
        ours.log_likelihood(frame, sequence="id")


def test_empty_sequences_are_refused():
    ours, _ = categorical_pair()
    with pytest.raises(DataError, match="sequence 1 has length 0"):
        ours.log_likelihood([pd.DataFrame({"y": [1, 2]}), pd.DataFrame({"y": []})])
    with pytest.raises(DataError, match="sequence 1 has length 0"):
        ours.log_likelihood(np.zeros((3, 1), dtype=int), lengths=[3, 0])


def test_backward_inter_slice_edges_are_refused():
    with pytest.raises(StructureError, match=r"edge x\[t\+1\] -> y points backwards in time"):
        DynamicBayesianNetwork({"x": Categorical(["a", "b"]), "y": Categorical(["a", "b"], parents=["x[t+1]"])})


def test_unknown_states_are_refused_with_the_column_and_value():
    ours, _ = categorical_pair()
    with pytest.raises(DataError, match=r"'y'.*9"):
        ours.log_likelihood(pd.DataFrame({"y": [0, 9]}))


def test_lagged_parents_need_initial_cpds():
    with pytest.raises(StructureError, match=r"'x' needs a CPD for slice 0"):
        DynamicBayesianNetwork({"x": Categorical(["a", "b"], parents=[previous("x")])})


# ---------------------------------------------------------------------------- Kalman filter and RTS smoother
def reference_rts(y, A, C, Q, R, m0, P0):
    """A textbook Kalman filter and Rauch-Tung-Striebel smoother for one sequence (NaN rows: no update)."""
    T, k = len(y), len(m0)
    mf, Pf, mp, Pp = np.zeros((T, k)), np.zeros((T, k, k)), np.zeros((T, k)), np.zeros((T, k, k))
    loglik = 0.0
    for t in range(T):
        m, P = (m0, P0) if t == 0 else (A @ mf[t - 1], A @ Pf[t - 1] @ A.T + Q)
        mp[t], Pp[t] = m, P
        seen = ~np.isnan(y[t])
        if seen.any():
            H, obs = C[seen], y[t][seen]
            S = H @ P @ H.T + R[np.ix_(seen, seen)]
            K = P @ H.T @ np.linalg.inv(S)
            r = obs - H @ m
            m, P = m + K @ r, P - K @ H @ P
            loglik += -0.5 * (r @ np.linalg.solve(S, r) + np.linalg.slogdet(S)[1] + seen.sum() * np.log(2 * np.pi))
        mf[t], Pf[t] = m, P
    ms, Ps = mf.copy(), Pf.copy()
    for t in range(T - 2, -1, -1):
        J = Pf[t] @ A.T @ np.linalg.inv(Pp[t + 1])
        ms[t] = mf[t] + J @ (ms[t + 1] - mp[t + 1])
        Ps[t] = Pf[t] + J @ (Ps[t + 1] - Pp[t + 1]) @ J.T
    return loglik, mf, Pf, ms, Ps


def test_kalman_filter_and_smoother_equal_a_textbook_rts_implementation():
    from pgm.dynamic.kalman import kalman_smoother, linear_dynamical_system, state_space

    rng = np.random.default_rng(0)
    A = np.array([[0.9, 0.2], [-0.1, 0.8]])
    C = np.array([[1.0, 0.5], [0.0, 1.0], [0.3, -0.2]])
    Q = np.array([[0.3, 0.1], [0.1, 0.2]])
    R = np.array([[0.5, 0.2, 0.0], [0.2, 0.4, 0.1], [0.0, 0.1, 0.6]])
    m0, P0 = np.array([1.0, -1.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
    lds = linear_dynamical_system(A, C, Q, R, m0, P0)
    ss = state_space(lds)
    assert np.allclose(ss.A, A) and np.allclose(ss.Q, Q) and np.allclose(ss.C, C) and np.allclose(ss.R, R)
    lengths = [30, 12, 45]
    Y = rng.normal(size=(sum(lengths), 3)) * 2
    Y[rng.random(Y.shape) < 0.15] = np.nan  # partly observed steps, and some with nothing observed
    Y[5] = np.nan
    result = kalman_smoother(lds, Y, lengths=lengths)
    start = 0
    for i, T in enumerate(lengths):
        loglik, mf, Pf, ms, Ps = reference_rts(Y[start:start + T], A, C, Q, R, m0, P0)
        rows = slice(start, start + T)
        assert result.log_likelihood.iloc[i] == pytest.approx(loglik, abs=1e-8)
        assert np.allclose(result.filtered_mean.to_numpy()[rows], mf, atol=1e-8)
        assert np.allclose(result.filtered_cov[rows], Pf, atol=1e-8)
        assert np.allclose(result.smoothed_mean.to_numpy()[rows], ms, atol=1e-8)
        assert np.allclose(result.smoothed_cov[rows], Ps, atol=1e-8)
        start += T


# ---------------------------------------------------------------------------- every builder against its unrolled network
def random_parameters(structure, data_lengths=(80, 80), seed=0):
    """A builder's structure with EM's random starting parameters (max_iter=0), fitted to random data."""
    rng = np.random.default_rng(seed)
    columns = {}
    total = sum(data_lengths)
    for node in structure.observed_nodes:
        domain = structure.domains[node]
        columns[node] = rng.normal(size=total) if domain is None else rng.choice(list(domain), size=total)
    frame = pd.DataFrame(columns)
    frame["sequence"] = np.repeat(np.arange(len(data_lengths)), data_lengths)
    if not structure.latent_nodes:
        return structure.fit(frame, sequence="sequence", prior=pgm.Dirichlet(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return structure.fit(frame, sequence="sequence", max_iter=0, seed=seed)


BUILDERS = {
    "autoregressive_hmm": lambda: pgm.dynamic.autoregressive_hmm(2, 2),
    "factorial_hmm": lambda: pgm.dynamic.factorial_hmm([2, 3]),
    "input_output_hmm": lambda: pgm.dynamic.input_output_hmm(2, ["a", "b"], 3),
    "gmm_hmm": lambda: hmm(2, emission="gmm", n_mix=2, n_features=2),
    "markov_chain_order_3": lambda: pgm.dynamic.markov_chain(["a", "b", "c"], order=3),
}


def brute_force(unrolled, model, evidence, T):
    """log p(evidence) and every hidden node's marginals by enumerating all hidden paths of the unrolled network."""
    from scipy.special import logsumexp

    hidden = [f"{n}[{t}]" for t in range(T) for n in model.latent_nodes]
    domains = [list(model.domains[n]) for t in range(T) for n in model.latent_nodes]
    grid = (np.array(np.meshgrid(*[np.arange(len(d)) for d in domains], indexing="ij")).reshape(len(hidden), -1)
            if hidden else np.zeros((0, 1), dtype=int))
    rows = pd.DataFrame({name: np.asarray(d, dtype=object)[grid[i]] for i, (name, d) in enumerate(zip(hidden, domains))},
                        index=range(grid.shape[1]))
    for name, value in evidence.items():
        rows[name] = [value] * len(rows)
    joint = unrolled.log_likelihood(rows)
    total = logsumexp(joint)
    weights = np.exp(joint - total)
    marginals = {name: np.bincount(grid[i], weights=weights, minlength=len(domains[i]))
                 for i, name in enumerate(hidden)}
    return total, marginals


@pytest.mark.parametrize("builder", list(BUILDERS))
def test_every_builder_agrees_with_enumeration_of_its_unrolled_network(builder):
    model = random_parameters(BUILDERS[builder](), seed=1)
    frame = model.sample([4, 3], seed=2).drop(columns=list(model.latent_nodes) + ["t"])
    ours = model.log_likelihood(frame, sequence="sequence")
    posterior = model.smoothed(frame, sequence="sequence") if model.latent_nodes else None
    for sid, rows in frame.groupby("sequence"):
        T = len(rows)
        evidence = {f"{n}[{t}]": (rows[n].iloc[t] if model.domains[n] is not None else float(rows[n].iloc[t]))
                    for n in model.observed_nodes for t in range(T)}
        total, marginals = brute_force(model.unroll(T), model, evidence, T)
        assert ours[sid] == pytest.approx(total, abs=1e-10)
        for node in model.latent_nodes:
            for t in range(T):
                assert np.allclose(posterior.loc[(sid, t), node].to_numpy(float), marginals[f"{node}[{t}]"], atol=1e-10)


# ---------------------------------------------------------------------------- prediction, pieces, drawing
def test_k_step_prediction_equals_the_unrolled_network_with_future_slices_unobserved(dbn, sequences):
    ahead = dbn.predict(sequences, steps=3, sequence="sequence")
    for sid, rows in sequences.groupby("sequence", sort=False):
        T = len(rows)
        for k in (1, 2, 3):
            for node in ("h", "g"):
                expected = dbn.unroll(T + k).query(f"{node}[{T - 1 + k}]", evidence_of(rows)).probabilities
                assert np.allclose(ahead.loc[(sid, k), node].to_numpy(float), expected, atol=1e-10)


def test_expected_statistics_of_disjoint_sets_of_sequences_add_up(dbn):
    frame = random_sequences(dbn, [3, 5, 2, 4], seed=8)
    whole = dbn.statistics(frame, sequence="sequence")
    parts = (dbn.statistics(frame[frame.sequence < 2], sequence="sequence")
             + dbn.statistics(frame[frame.sequence >= 2], sequence="sequence"))
    assert set(whole) == set(parts)
    for key in whole:
        assert np.allclose(whole[key], parts[key], atol=1e-12), key


def test_the_two_slice_diagram_draws_both_slices_and_the_inter_slice_edges(dbn):
    source = dbn.to_graphviz().source
    assert '"h[t-1]" -> "h[t]"' in source and '"y[t-1]" -> "w[t]"' in source
    assert '"h[t]" -> "y[t]"' in source and '"h[t-1]" -> "y[t-1]"' in source
    assert source.count("dashed") == 4  # h and g, in both slices
    chain = pgm.dynamic.markov_chain(["a", "b"], order=2).to_graphviz().source
    assert 'label="lag 2"' in chain


def test_long_sequences_take_the_blocked_paths_and_still_match_hmmlearn():
    from pgm.dynamic.forward_backward import long_enough_for_blocks
    from pgm.dynamic.inference import prepare

    ours, theirs = categorical_pair(3)
    lengths = [20_000, 7_000, 3_000]
    X = np.random.default_rng(5).integers(0, 6, size=(sum(lengths), 1))
    packed, _, pot = prepare(ours, X, lengths=lengths)
    assert long_enough_for_blocks(pot, packed)  # the blocked route is the one under test
    smoothed = ours.smoothed(X, lengths=lengths)["z"].to_numpy(float)
    assert np.abs(smoothed - theirs.predict_proba(X, lengths)).max() < 1e-10
    filtered = ours.filtered(X, lengths=lengths)["z"].to_numpy(float)
    assert np.abs(filtered[-1] - smoothed[-1]).max() < 1e-12  # the last step is filtered and smoothed alike
    head = ours.filtered(X[:4_000], lengths=[4_000])["z"].to_numpy(float)  # short enough for the plain pass
    assert np.abs(filtered[:4_000] - head).max() < 1e-12
    assert ours.score(X, lengths=lengths) == pytest.approx(theirs.score(X, lengths), rel=1e-12)
    log_prob, _ = theirs.decode(X, lengths, algorithm="viterbi")
    best = ours.most_probable_path(X, lengths=lengths)  # blocked max-product
    assert best.log_probability.sum() == pytest.approx(log_prob, rel=1e-12)
    # long random data have exactly tied paths, so check that ours scores hmmlearn's optimum, by hand
    z, y = best.path["z"].to_numpy(int), X[:, 0]
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    steps = np.setdiff1d(np.arange(len(z)), starts)
    by_hand = (np.log(theirs.startprob_[z[starts]]).sum() + np.log(theirs.transmat_[z[steps - 1], z[steps]]).sum()
               + np.log(theirs.emissionprob_[z, y]).sum())
    assert by_hand == pytest.approx(log_prob, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ours.fit(X, lengths=lengths, init="current", max_iter=1)
        theirs.fit(X, lengths)
    assert np.allclose(fitted.cpd("z", 1).table, theirs.transmat_, atol=1e-10)
    assert np.allclose(fitted.cpd("y", 1).table, theirs.emissionprob_, atol=1e-10)


def test_baum_welch_over_dask_partitions_of_whole_sequences_equals_fitting_at_once():
    dd = pytest.importorskip("dask.dataframe")
    truth, _ = categorical_pair(2)
    frame = truth.sample([40, 25, 60, 10, 33], seed=3).drop(columns=["z", "t"])
    frame["y"] = frame["y"].astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        at_once = truth.fit(frame, sequence="sequence", init="current", max_iter=4, tol=-1.0)
        partitions = dd.from_pandas(frame.set_index("sequence", drop=False), npartitions=3, sort=True)
        by_partition = truth.fit_pieces(partitions, sequence="sequence", max_iter=4, tol=-1.0)
    for node in ("z", "y"):
        for t in (0, 1):
            assert np.allclose(by_partition.cpd(node, t).table, at_once.cpd(node, t).table, atol=1e-12)
    split = [frame.iloc[:50], frame.iloc[50:]]  # sequence 1 straddles the two pieces
    with pytest.raises(DataError, match="sequence 1 appears in pieces 0 and 1"):
        truth.fit_pieces(split, sequence="sequence", max_iter=1)


def test_values_for_latent_nodes_are_refused_when_fitting_and_querying():
    truth, _ = categorical_pair(1)
    frame = truth.sample([5, 4], seed=0)  # still has the hidden column z
    with pytest.raises(DataError, match=r"node 'z' is latent but the data has a value for it \(sequence 0, t=0\)"):
        truth.fit(frame, sequence="sequence", max_iter=1)
    with pytest.raises(DataError, match="node 'z' is latent"):
        truth.smoothed(frame, sequence="sequence")


def test_fit_reports_progress_and_calls_back_every_iteration(capsys):
    pytest.importorskip("tqdm")
    truth, _ = categorical_pair(1)
    frame = truth.sample([30, 20], seed=0).drop(columns="z")
    seen = []
    fitted = truth.fit(frame, sequence="sequence", init="current", max_iter=3, tol=-1.0, progress=True,
                       callback=lambda i, loglik, net: seen.append((i, loglik)))
    assert [i for i, _ in seen] == [0, 1, 2, 3]
    assert [loglik for _, loglik in seen] == fitted.fit_report_.log_likelihood
    assert "EM" in capsys.readouterr().err  # the tqdm bar
