"""Missing values anywhere, and soft evidence, in dynamic networks, against the static engine on unroll(T).

A discrete observed node whose value is missing while other nodes depend on
it (an input with a hidden child, an observation with an observed child in
the same or the next slice) is carried in the joint hidden state and summed
out; soft evidence is a likelihood vector multiplied in.  Every answer here
-- log-likelihood, filtered and smoothed marginals, Viterbi, one EM step --
is compared with the static junction tree on the unrolled network, which
handles missing and soft evidence on its own terms.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from pgm.cpds import Categorical
from pgm.dynamic import DynamicBayesianNetwork, hmm, markov_chain, previous
from pgm.errors import DataError
from pgm.learning.em import ConvergenceWarning


def _table(rng, *shape):
    return rng.dirichlet(np.ones(shape[-1]) * 0.8, size=shape[:-1])


def coupled_dbn(seed):
    """Hidden h, g (g | h, g[t-1]); observed y | h, g and w | y[t-1], g: y has an observed child one slice on."""
    rng = np.random.default_rng(seed)
    hs, gs, ys, ws = ["h0", "h1"], ["g0", "g1"], ["a", "b", "c"], ["u", "v"]
    transition = {
        "h": Categorical(hs, parents=[previous("h")], table=_table(rng, 2, 2)),
        "g": Categorical(gs, parents=["h", previous("g")], table=_table(rng, 2, 2, 2)),
        "y": Categorical(ys, parents=["h", "g"], table=_table(rng, 2, 2, 3)),
        "w": Categorical(ws, parents=[previous("y"), "g"], table=_table(rng, 3, 2, 2)),
    }
    initial = {"h": Categorical(hs, table=_table(rng, 2)), "g": Categorical(gs, parents=["h"], table=_table(rng, 2, 2)),
               "w": Categorical(ws, parents=["g"], table=_table(rng, 2, 2))}
    return DynamicBayesianNetwork(transition, initial=initial, latent=["h", "g"])


def input_dbn(seed):
    """An observed input u (u | u[t-1]) steering the hidden h (h | h[t-1], u) and the output y | h, u."""
    rng = np.random.default_rng(seed)
    us, hs, ys = ["lo", "hi"], ["s0", "s1", "s2"], ["p", "q", "r"]
    transition = {
        "u": Categorical(us, parents=[previous("u")], table=_table(rng, 2, 2)),
        "h": Categorical(hs, parents=[previous("h"), "u"], table=_table(rng, 3, 2, 3)),
        "y": Categorical(ys, parents=["h", "u"], table=_table(rng, 3, 2, 3)),
    }
    initial = {"u": Categorical(us, table=_table(rng, 2)), "h": Categorical(hs, parents=["u"], table=_table(rng, 2, 3))}
    return DynamicBayesianNetwork(transition, initial=initial, latent=["h"])


CASES = {"coupled": (coupled_dbn, ("y", "w")), "input": (input_dbn, ("u", "y"))}


def with_holes(dbn, lengths, seed, columns, rate=0.35):
    frame = dbn.sample(lengths, seed=seed).drop(columns=list(dbn.latent_nodes))
    rng = np.random.default_rng(seed + 100)
    for column in columns:
        values = frame[column].astype(object)
        values[rng.random(len(frame)) < rate] = None
        frame[column] = values
    return frame


def evidence_of(rows, observed, upto=None) -> dict:
    out = {}
    for t, row in enumerate(rows[list(observed)].itertuples(index=False)):
        if upto is not None and t > upto:
            break
        for node, value in zip(observed, row):
            if value is not None:
                out[f"{node}[{t}]"] = value
    return out


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("seed", [1, 2])
def test_likelihood_filtering_and_smoothing_with_values_missing_anywhere_equal_the_unrolled_network(case, seed):
    build, holes = CASES[case]
    dbn = build(seed)
    frame = with_holes(dbn, [5, 1, 3, 4], seed, holes)
    observed = dbn.observed_nodes
    ours = dbn.log_likelihood(frame, sequence="sequence")
    smoothed, filtered = dbn.smoothed(frame, sequence="sequence"), dbn.filtered(frame, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        T = len(rows)
        unrolled = dbn.unroll(T)
        evidence = evidence_of(rows, observed)
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
        for t in range(T):
            for node in dbn.latent_nodes:
                whole = unrolled.query(f"{node}[{t}]", evidence).probabilities
                assert np.abs(smoothed.loc[(sid, t), node].to_numpy(float) - whole).max() < 1e-10
                past = dbn.unroll(t + 1).query(f"{node}[{t}]", evidence_of(rows, observed, upto=t)).probabilities
                assert np.abs(filtered.loc[(sid, t), node].to_numpy(float) - past).max() < 1e-10


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_em_step_with_values_missing_anywhere_equals_em_on_the_unrolled_network(case):
    build, holes = CASES[case]
    dbn, T = build(3), 4
    frame = with_holes(dbn, [T] * 25, 7, holes, rate=0.3)
    wide = pd.DataFrame({f"{n}[{t}]": frame[n].to_numpy(object).reshape(-1, T)[:, t]
                         for n in dbn.observed_nodes for t in range(T)}).replace({None: np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = dbn.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = dbn.unroll(T).fit(wide, init="current", max_iter=1)
    for node in dbn.nodes:
        for t in range(T):
            assert np.abs(ours.cpd(node, t).table - static[f"{node}[{t}]"].table).max() < 1e-10, (node, t)
    assert ours.fit_report_.log_likelihood[0] * T == pytest.approx(static.fit_report_.log_likelihood[0], abs=1e-10)


def test_viterbi_maximises_over_missing_parents_as_the_unrolled_networks_mpe():
    dbn = coupled_dbn(4)
    frame = with_holes(dbn, [4, 2, 5], 11, ["y"], rate=0.4)  # w, a leaf, fully observed: MPE is then well defined
    best = dbn.most_probable_path(frame, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        mpe = dbn.unroll(len(rows)).mpe(evidence_of(rows, ("y", "w")))
        assert best.log_probability[sid] == pytest.approx(mpe.log_probability, abs=1e-10)
        for t in range(len(rows)):
            assert best.path.loc[(sid, t), "h"] == mpe.assignment[f"h[{t}]"]
            assert best.path.loc[(sid, t), "g"] == mpe.assignment[f"g[{t}]"]


def test_a_chain_with_missing_values_and_no_hidden_node_is_fitted_by_em_like_the_unrolled_network():
    rng = np.random.default_rng(0)
    chain = markov_chain(["a", "b", "c"], order=1).fit(pd.DataFrame({"x": rng.choice(["a", "b", "c"], size=40)}))
    T = 5
    frame = with_holes(chain, [T] * 20, 3, ["x"], rate=0.3)
    wide = pd.DataFrame({f"x[{t}]": frame["x"].to_numpy(object).reshape(-1, T)[:, t] for t in range(T)})
    wide = wide.replace({None: np.nan})
    first = frame[frame.sequence == 0]
    assert chain.log_likelihood(first).iloc[0] == pytest.approx(
        chain.unroll(T).log_evidence(evidence_of(first, ("x",))), abs=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = chain.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = chain.unroll(T).fit(wide, init="current", max_iter=1)
    assert np.abs(ours.cpd("x", 2).table - static["x[2]"].table).max() < 1e-10
    assert np.abs(ours.cpd("x", 0).table - static["x[0]"].table).max() < 1e-10


# ---------------------------------------------------------------------------- soft (virtual) evidence
def soft_frames(frame, rng, node_states):
    index = pd.MultiIndex.from_arrays([frame["sequence"], frame["t"]], names=["sequence", "t"])
    out = {}
    for k, (node, states) in enumerate(node_states.items()):
        values = rng.uniform(0.05, 2.0, size=(len(frame), len(states)))
        out[node] = pd.DataFrame(values, index=index, columns=states).iloc[k::2]  # every other step
    return out


def static_evidence(rows, sid, observed, soft, upto=None):
    evidence = evidence_of(rows, observed, upto)
    for node, given in soft.items():
        for t in range(len(rows) if upto is None else upto + 1):
            if (sid, t) in given.index and f"{node}[{t}]" not in evidence:
                evidence[f"{node}[{t}]"] = dict(given.loc[(sid, t)])
    return evidence


@pytest.mark.parametrize("case", sorted(CASES))
def test_soft_evidence_on_hidden_and_observed_nodes_equals_the_unrolled_networks_virtual_evidence(case):
    build, holes = CASES[case]
    dbn = build(5)
    frame = with_holes(dbn, [4, 2, 3], 9, holes, rate=0.5)
    rng = np.random.default_rng(1)
    target = holes[0]  # soft evidence where the value is missing, nothing where it is observed
    soft = soft_frames(frame, rng, {dbn.latent_nodes[0]: list(dbn.domains[dbn.latent_nodes[0]]),
                                    target: list(dbn.domains[target])})
    missing = frame[target].isna().to_numpy()
    soft[target] = soft[target][missing[np.flatnonzero(
        pd.MultiIndex.from_arrays([frame["sequence"], frame["t"]]).isin(soft[target].index))]]
    ours = dbn.log_likelihood(frame, sequence="sequence", soft=soft)
    smoothed = dbn.smoothed(frame, sequence="sequence", soft=soft)
    filtered = dbn.filtered(frame, sequence="sequence", soft=soft)
    for sid, rows in frame.groupby("sequence", sort=False):
        T = len(rows)
        evidence = static_evidence(rows, sid, dbn.observed_nodes, soft)
        assert ours[sid] == pytest.approx(dbn.unroll(T).log_evidence(evidence), abs=1e-10)
        for t in range(T):
            for node in dbn.latent_nodes:
                whole = dbn.unroll(T).query(f"{node}[{t}]", evidence).probabilities
                assert np.abs(smoothed.loc[(sid, t), node].to_numpy(float) - whole).max() < 1e-10
                past = dbn.unroll(t + 1).query(
                    f"{node}[{t}]", static_evidence(rows, sid, dbn.observed_nodes, soft, upto=t)).probabilities
                assert np.abs(filtered.loc[(sid, t), node].to_numpy(float) - past).max() < 1e-10


def test_soft_evidence_on_an_observed_value_multiplies_the_likelihood_by_its_weight():
    dbn = coupled_dbn(6)
    frame = dbn.sample([3], seed=2).drop(columns=["h", "g"])
    weights = np.array([[0.5, 2.0, 3.0]] * 3)
    plain = dbn.log_likelihood(frame).iloc[0]
    softened = dbn.log_likelihood(frame, soft={"y": weights}).iloc[0]
    chosen = weights[0, pd.Index(["a", "b", "c"]).get_indexer(frame["y"])]
    assert softened == pytest.approx(plain + math.log(np.prod(chosen)), abs=1e-12)


def test_one_em_step_with_soft_evidence_moves_the_expected_counts_by_the_likelihoods():
    # one observed coin-like node y with soft evidence only: the expected count of each state is the sum over
    # steps of the normalised product prior x likelihood, which one EM step divides by the number of steps
    y = Categorical(["tails", "heads"], table=[0.3, 0.7])
    dbn = DynamicBayesianNetwork({"y": y})
    likelihood = np.array([[1.0, 3.0], [2.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    frame = pd.DataFrame({"y": [None] * 4})
    fitted = dbn.fit(frame, soft={"y": likelihood}, init="current", max_iter=1, tol=-1.0)
    posterior = likelihood * [0.3, 0.7]
    posterior /= posterior.sum(axis=1, keepdims=True)
    assert np.abs(fitted.cpd("y", 0).table - posterior.mean(axis=0)).max() < 1e-12


def test_bad_soft_evidence_is_refused_naming_the_node_and_step():
    dbn = coupled_dbn(1)
    frame = dbn.sample([3, 2], seed=0).drop(columns=["h", "g"])
    index = pd.MultiIndex.from_tuples([(0, 1)], names=["sequence", "t"])
    with pytest.raises(DataError, match=r"soft evidence on 'y' has column 'z', which is not one of its states"):
        dbn.log_likelihood(frame, sequence="sequence", soft={"y": pd.DataFrame({"z": [1.0]}, index=index)})
    with pytest.raises(DataError, match=r"soft evidence on 'h' at sequence 0, t=1 is not a finite non-negative"):
        dbn.log_likelihood(frame, sequence="sequence",
                           soft={"h": pd.DataFrame({"h0": [-1.0], "h1": [1.0]}, index=index)})
    with pytest.raises(DataError, match=r"soft evidence on 'h' is given at \(7, 0\)"):
        dbn.log_likelihood(frame, sequence="sequence", soft={"h": pd.DataFrame(
            {"h0": [1.0], "h1": [1.0]}, index=pd.MultiIndex.from_tuples([(7, 0)]))})
    with pytest.raises(DataError, match=r"expected \(total steps, states\) = \(5, 2\)"):
        dbn.log_likelihood(frame, sequence="sequence", soft={"h": np.ones((4, 2))})
    with pytest.raises(DataError, match="'nope', which is not a node"):
        dbn.log_likelihood(frame, sequence="sequence", soft={"nope": np.ones((5, 2))})


# ---------------------------------------------------------------------------- missing Gaussian coordinates
def gaussian_hmm_with_holes(seed, T, n_sequences, d=3, rate=0.3):
    rng = np.random.default_rng(seed)
    root = rng.normal(size=(2, d, d))
    model = hmm(2, emission="gaussian", n_features=d, covariance="full", startprob=[0.6, 0.4],
                transmat=[[0.8, 0.2], [0.3, 0.7]], means=rng.normal(scale=2, size=(2, d)),
                covars=root @ root.transpose(0, 2, 1) + np.eye(d))
    frame = model.sample([T] * n_sequences, seed=seed).drop(columns="z")
    columns = [f"y{j}" for j in range(d)]
    values = frame[columns].to_numpy(copy=True)
    values[rng.random(values.shape) < rate] = np.nan  # y_j | z, y_0..y_{j-1}: a hole has observed children
    frame[columns] = values
    return model, frame, columns


@pytest.mark.parametrize("seed", [0, 1])
def test_missing_coordinates_of_a_full_covariance_gaussian_hmm_equal_the_unrolled_network(seed):
    model, frame, columns = gaussian_hmm_with_holes(seed, 4, 4)
    ours = model.log_likelihood(frame, sequence="sequence")
    smoothed, filtered = model.smoothed(frame, sequence="sequence"), model.filtered(frame, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        evidence = {f"{c}[{t}]": v for t, row in enumerate(rows[columns].itertuples(index=False))
                    for c, v in zip(columns, row) if not np.isnan(v)}
        unrolled = model.unroll(len(rows))
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
        for t in range(len(rows)):
            whole = unrolled.query(f"z[{t}]", evidence).probabilities
            assert np.abs(smoothed.loc[(sid, t), "z"].to_numpy(float) - whole).max() < 1e-10
            upto = {k: v for k, v in evidence.items() if int(k.split("[")[1][:-1]) <= t}
            past = model.unroll(t + 1).query(f"z[{t}]", upto).probabilities
            assert np.abs(filtered.loc[(sid, t), "z"].to_numpy(float) - past).max() < 1e-10


def test_one_em_step_with_missing_gaussian_coordinates_equals_em_on_the_unrolled_network():
    T = 3
    model, frame, columns = gaussian_hmm_with_holes(2, T, 25)
    wide = pd.DataFrame({f"{c}[{t}]": frame[c].to_numpy().reshape(-1, T)[:, t] for c in columns for t in range(T)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = model.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = model.unroll(T).fit(wide, init="current", max_iter=1)
    for node in model.nodes:
        for t in range(T):
            mine, theirs = ours.cpd(node, t), static[f"{node}[{t}]"]
            if mine.is_discrete:
                assert np.abs(mine.table - theirs.table).max() < 1e-10
            else:
                for part in ("intercept", "weights", "variance"):
                    assert np.allclose(np.asarray(getattr(mine, part)), np.asarray(getattr(theirs, part)),
                                       rtol=0, atol=1e-10), (node, t, part)
    assert ours.fit_report_.log_likelihood[0] * T == pytest.approx(static.fit_report_.log_likelihood[0], abs=1e-10)
