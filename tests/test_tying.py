"""Tied CPDs and Markov chains: counting, fitting from pooled statistics, EM, files, errors."""

import itertools
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import CPDError, NodeError
from pgm.learning.em import ConvergenceWarning

STATES = ["a", "b", "c"]
INITIAL = [0.5, 0.3, 0.2]
TRANSITION = [[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.3, 0.3, 0.4]]


def test_parameter_counts_of_the_lecture():
    """Binary x1..x20: the full joint, the chain, the homogeneous (tied) chain."""
    assert 2 ** 20 - 1 == 1_048_575
    assert pgm.markov_chain(["0", "1"], 20, tied=False).n_free_parameters == 1 + 19 * 2
    assert pgm.markov_chain(["0", "1"], 20).n_free_parameters == 1 + 2
    chain = pgm.markov_chain(STATES, 6, initial=INITIAL, transition=TRANSITION)
    assert chain.tied_groups == (("x2", "x3", "x4", "x5", "x6"),)
    assert chain.n_free_parameters == 2 + 3 * 2


def pooled_transition_counts(rows, length):
    """Transition counts over every step, by numpy on the state codes (independent of pgm's statistics)."""
    codes = np.column_stack([rows[f"x{t}"].cat.codes.to_numpy() for t in range(1, length + 1)])
    counts = np.zeros((3, 3))
    np.add.at(counts, (codes[:, :-1].reshape(-1), codes[:, 1:].reshape(-1)), 1)
    return counts


def test_tied_chain_is_fitted_from_the_pooled_transitions():
    truth = pgm.markov_chain(STATES, 8, initial=INITIAL, transition=TRANSITION)
    rows = truth.sample(5000, seed=1)
    fitted = pgm.markov_chain(STATES, 8).fit(rows)
    counts = pooled_transition_counts(rows, 8)
    for t in range(2, 9):
        np.testing.assert_allclose(fitted[f"x{t}"].table, counts / counts.sum(axis=1, keepdims=True), rtol=1e-14)
    assert fitted.tied_groups == truth.tied_groups
    # with a prior, the pseudo-counts are added once to the shared table, not once per step
    smoothed = pgm.markov_chain(STATES, 8).fit(rows, prior=pgm.Dirichlet(1))
    np.testing.assert_allclose(smoothed["x5"].table, (counts + 1) / (counts.sum(axis=1, keepdims=True) + 3), rtol=1e-14)
    # an untied chain fits each step on its own
    untied = pgm.markov_chain(STATES, 8, tied=False).fit(rows)
    assert not np.array_equal(untied["x2"].table, untied["x3"].table)


def test_tied_posterior_pools_counts_and_draws_one_table():
    truth = pgm.markov_chain(STATES, 5, initial=INITIAL, transition=TRANSITION)
    rows = truth.sample(300, seed=2)
    post = pgm.markov_chain(STATES, 5).parameter_posterior(rows, prior=pgm.Dirichlet(1))
    np.testing.assert_array_equal(post["x4"].concentration, 1 + pooled_transition_counts(rows, 5))
    assert post["x2"] is post["x5"]
    drawn = post.sample_networks(1, seed=0)[0]
    assert np.array_equal(drawn["x2"].table, drawn["x5"].table) and drawn.tied_groups


def brute_force_expected_transitions(net, rows, hidden):
    """Expected pooled transition counts given each row, by enumerating the hidden chain."""
    length = len(hidden)
    expected = np.zeros((2, 2))
    for _, row in rows.iterrows():  # a brute-force reference on a tiny data set: a loop is the point
        weights = {}
        for path in itertools.product(range(2), repeat=length):
            values = {h: net.states(h)[s] for h, s in zip(hidden, path)}
            values.update({k: row[k] for k in rows.columns})
            weights[path] = float(np.exp(net.log_likelihood(pd.DataFrame([values]))[0]))
        total = sum(weights.values())
        for path, w in weights.items():
            for s, t in zip(path, path[1:]):
                expected[s, t] += w / total
    return expected


def test_em_on_a_tied_hidden_markov_model():
    """One EM iteration equals the M-step on brute-force expected pooled counts; tables stay tied."""
    length = 4
    hidden = [f"h{t}" for t in range(1, length + 1)]
    cpds = {"h1": pgm.Categorical(["s", "t"], table=[0.6, 0.4])}
    for t in range(2, length + 1):
        cpds[f"h{t}"] = pgm.Categorical(["s", "t"], parents=[f"h{t - 1}"], table=[[0.7, 0.3], [0.2, 0.8]])
    for t in range(1, length + 1):
        cpds[f"o{t}"] = pgm.Categorical(["u", "v"], parents=[f"h{t}"], table=[[0.9, 0.1], [0.25, 0.75]])
    emissions = [f"o{t}" for t in range(1, length + 1)]
    truth = pgm.BayesianNetwork(cpds, tied=[hidden[1:], emissions])
    rows = truth.sample(40, seed=3)[emissions]
    start = pgm.BayesianNetwork(
        {**{h: pgm.Categorical.latent(["s", "t"], parents=truth.parents(h)) for h in hidden},
         **{o: pgm.Categorical(["u", "v"], parents=truth.parents(o)) for o in emissions}},
        tied=[hidden[1:], emissions],
    )
    assert start.n_free_parameters == 1 + 2 + 2
    with pytest.warns(ConvergenceWarning):  # one iteration, on purpose
        one_step = start.fit(rows, init=truth, max_iter=1, tol=0)
    expected = brute_force_expected_transitions(truth, rows, hidden)
    np.testing.assert_allclose(one_step["h3"].table, expected / expected.sum(axis=1, keepdims=True), rtol=1e-10)
    converged = start.fit(rows, seed=0, max_iter=200)
    for node in hidden[2:]:
        np.testing.assert_array_equal(converged[node].table, converged["h2"].table)
    for node in emissions[1:]:
        np.testing.assert_array_equal(converged[node].table, converged["o1"].table)
    trace = converged.fit_report_.log_likelihood
    assert all(b >= a - 1e-9 for a, b in zip(trace, trace[1:]))


def test_tied_gaussian_nodes_share_a_regression():
    """An AR(1) process: x_t = c + phi x_{t-1} + noise, fitted from the pooled lagged pairs."""
    rng = np.random.default_rng(4)
    n, length = 2000, 6
    x = np.empty((n, length))
    x[:, 0] = rng.normal(size=n)
    for t in range(1, length):
        x[:, t] = 0.5 + 0.8 * x[:, t - 1] + rng.normal(0, 0.3, size=n)
    data = pd.DataFrame(x, columns=[f"x{t}" for t in range(1, length + 1)])
    cpds = {"x1": pgm.LinearGaussian.unfitted()}
    cpds.update({f"x{t}": pgm.LinearGaussian.unfitted(parents=[f"x{t - 1}"]) for t in range(2, length + 1)})
    net = pgm.BayesianNetwork(cpds, tied=[[f"x{t}" for t in range(2, length + 1)]])
    fitted = net.fit(data)
    previous, current = x[:, :-1].reshape(-1), x[:, 1:].reshape(-1)
    design = np.column_stack([np.ones_like(previous), previous])
    coef, residual, *_ = np.linalg.lstsq(design, current, rcond=None)
    assert float(fitted["x4"].intercept) == pytest.approx(coef[0], rel=1e-10)
    assert float(fitted["x4"].weights[0]) == pytest.approx(coef[1], rel=1e-10)
    assert float(fitted["x6"].variance) == pytest.approx(residual[0] / len(current), rel=1e-10)
    assert net.n_free_parameters == 2 + 3


def test_json_keeps_ties_and_writes_the_table_once(tmp_path):
    chain = pgm.markov_chain(STATES, 5, initial=INITIAL, transition=TRANSITION)
    path = tmp_path / "chain.json"
    chain.write(path)
    stored = json.loads(path.read_text())
    assert "table" in stored["nodes"]["x2"] and "table" not in stored["nodes"]["x3"]
    assert stored["nodes"]["x3"]["tied_to"] == "x2"
    back = pgm.read(path)
    assert back == chain and back.tied_groups == chain.tied_groups
    unfitted = pgm.markov_chain(STATES, 4)
    unfitted.write(tmp_path / "unfitted.json")
    assert pgm.read(tmp_path / "unfitted.json").tied_groups == unfitted.tied_groups


def test_bif_warns_that_ties_are_lost(tmp_path):
    chain = pgm.markov_chain(STATES, 4, initial=INITIAL, transition=TRANSITION)
    with pytest.warns(UserWarning, match="tied"):
        chain.write(tmp_path / "chain.bif")
    back = pgm.read(tmp_path / "chain.bif")
    assert back.tied_groups == () and back.tie(["x2", "x3", "x4"]) == chain


def test_bad_ties_are_refused():
    chain = pgm.markov_chain(STATES, 4, initial=INITIAL, transition=TRANSITION, tied=False)
    with pytest.raises(NodeError, match="'x9'"):
        chain.tie(["x2", "x9"])
    with pytest.raises(CPDError, match="'x1' and 'x2' cannot share"):
        chain.tie(["x1", "x2"])
    with pytest.raises(NodeError, match="two tie groups"):
        chain.tie(["x2", "x3"], ["x3", "x4"])
    with pytest.raises(NodeError, match="at least two"):
        chain.tie(["x2"])
    other = chain.with_cpd("x3", pgm.Categorical(STATES, parents=["x2"], table=np.full((3, 3), 1 / 3)))
    with pytest.raises(CPDError, match="different parameters"):
        other.tie(["x2", "x3"])
    with pytest.raises(CPDError, match="both fitted or both unfitted"):
        other.with_cpd("x3", pgm.Categorical(STATES, parents=["x2"])).tie(["x2", "x3"])
    with pytest.raises(TypeError, match="list of node names"):
        chain.tie("x2")
    tied = chain.tie(["x2", "x3", "x4"])
    assert tied.untie("x4").tied_groups == (("x2", "x3"),)
    assert tied.untie().tied_groups == ()


def test_markov_chain_arguments():
    with pytest.raises(ValueError, match="length"):
        pgm.markov_chain(STATES, 0)
    with pytest.raises(ValueError, match="both"):
        pgm.markov_chain(STATES, 3, initial=INITIAL)
    rows = pgm.markov_chain(STATES, 3, initial=INITIAL, transition=TRANSITION).sample(20_000, seed=5)
    # the empirical marginal of x3 matches initial @ T @ T within 4 standard errors
    marginal = np.asarray(INITIAL) @ np.asarray(TRANSITION) @ np.asarray(TRANSITION)
    observed = rows["x3"].value_counts(normalize=True).reindex(STATES).to_numpy()
    assert (np.abs(observed - marginal) <= 4 * np.sqrt(marginal * (1 - marginal) / 20_000)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pgm.markov_chain(STATES, 2).tied_groups == ()
