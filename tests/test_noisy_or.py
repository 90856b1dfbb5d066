"""Noisy-OR / noisy-MAX CPDs: closed forms, enumeration, fitting, gradients, sampling and bad input."""

import itertools
import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import pgm
from pgm.errors import CPDError, StructureError


def _noisy_or_network(activation, leak, priors):
    cpds = {p: pgm.Bernoulli(q) for p, q in priors.items()}
    cpds["y"] = pgm.NoisyOr(parents=list(priors), activation=activation, leak=leak)
    return pgm.BayesianNetwork(cpds)


def test_noisy_or_table_equals_its_closed_form():
    activation = {"a": 0.9, "b": 0.4, "c": 0.25}
    net = _noisy_or_network(activation, 0.05, {"a": 0.3, "b": 0.5, "c": 0.1})
    table = net["y"].table
    for x in itertools.product([0, 1], repeat=3):
        off = (1 - 0.05) * np.prod([(1 - p) ** xi for p, xi in zip(activation.values(), x)])
        assert np.allclose(table[x], [off, 1 - off], atol=1e-14)
    assert net["y"].n_free_parameters == 4  # three activations and the leak, against 8 table rows


def test_noisy_max_table_equals_the_max_of_independent_causes():
    leak = np.array([0.7, 0.2, 0.1])
    effect_a = np.array([[0.1, 0.6, 0.3]])
    effect_b = np.array([[0.5, 0.3, 0.2], [0.0, 0.2, 0.8]])
    net = pgm.BayesianNetwork({
        "a": pgm.Bernoulli(0.5),
        "b": pgm.Categorical(["none", "some", "lots"], table=[0.3, 0.3, 0.4]),
        "y": pgm.NoisyMax(["0", "1", "2"], parents=["a", "b"], leak=leak, effects={"a": effect_a, "b": effect_b}),
    })
    absent = np.array([[1.0, 0.0, 0.0]])
    rows_a, rows_b = np.vstack([absent, effect_a]), np.vstack([absent, effect_b])
    for ia in range(2):
        for ib in range(3):
            # P(max = y) by enumerating the three causes' levels
            expected = np.zeros(3)
            for la, lb, ll in itertools.product(range(3), repeat=3):
                expected[max(la, lb, ll)] += rows_a[ia, la] * rows_b[ib, lb] * leak[ll]
            assert np.allclose(net["y"].table[ia, ib], expected, atol=1e-14)


def test_exact_inference_with_noisy_or_equals_enumeration():
    activation = {"a": 0.8, "b": 0.6, "c": 0.3}
    priors = {"a": 0.2, "b": 0.4, "c": 0.7}
    net = _noisy_or_network(activation, 0.02, priors)
    net.add("z", pgm.Categorical(["lo", "hi"], parents=["y"], table=[[0.9, 0.1], [0.3, 0.7]]))
    joint = np.zeros((2, 2, 2, 2, 2))
    for a, b, c, y, z in itertools.product([0, 1], repeat=5):
        p_y1 = 1 - 0.98 * np.prod([(1 - q) ** x for q, x in zip(activation.values(), (a, b, c))])
        joint[a, b, c, y, z] = (np.prod([q if x else 1 - q for q, x in zip(priors.values(), (a, b, c))])
                                * (p_y1 if y else 1 - p_y1) * [[0.9, 0.1], [0.3, 0.7]][y][z])
    given = joint[:, :, 1, :, 1]  # c = true, z = hi
    posterior = net.query(["a", "b"], evidence={"c": "true", "z": "hi"}).probabilities
    assert np.allclose(posterior, given.sum(axis=2) / given.sum(), atol=1e-12)
    assert "y" in net.inference_plan(evidence={"z": "hi"}).expanded


def test_fitting_recovers_parameters_as_n_grows():
    truth = _noisy_or_network({"a": 0.8, "b": 0.5, "c": 0.3}, 0.1, {"a": 0.4, "b": 0.5, "c": 0.6})
    declared = truth.with_cpd("y", pgm.NoisyOr.unfitted(parents=["a", "b", "c"]))
    errors = []
    for n in (500, 5_000, 100_000):
        fitted = declared.fit(truth.sample(n, seed=n))["y"]
        found = np.array([fitted.activation[p][0] for p in "abc"] + [fitted.leak[1]])
        errors.append(np.abs(found - [0.8, 0.5, 0.3, 0.1]).max())
    assert errors[-1] < errors[0] and errors[-1] < 0.02


def test_maximum_likelihood_beats_perturbations_and_the_gradient_is_right():
    truth = _noisy_or_network({"a": 0.7, "b": 0.4}, 0.2, {"a": 0.5, "b": 0.5})
    declared = truth.with_cpd("y", pgm.NoisyOr.unfitted(parents=["a", "b"]))
    rows = truth.sample(2000, seed=3)
    fitted = declared.fit(rows)
    cpd = fitted["y"]
    counts = cpd.statistics(*_family(fitted, rows))
    x = cpd._pack(cpd._leak, cpd._effects)
    value, gradient = cpd.negative_log_likelihood(x, counts)
    numeric = scipy.optimize.approx_fprime(x, lambda t: cpd.negative_log_likelihood(t, counts)[0], 1e-7)
    assert np.abs(gradient - numeric).max() < 1e-3 * max(1, np.abs(numeric).max())
    assert np.abs(gradient).max() < 1e-4 * counts.sum()  # a stationary point
    rng = np.random.default_rng(0)
    for _ in range(5):
        assert cpd.negative_log_likelihood(x + 0.05 * rng.normal(size=x.size), counts)[0] > value


def test_noisy_max_gradient_matches_finite_differences():
    cpd = pgm.BayesianNetwork({
        "a": pgm.Categorical(["0", "1", "2"], table=[0.3, 0.3, 0.4]),
        "b": pgm.Bernoulli(0.5),
        "y": pgm.NoisyMax.unfitted(["lo", "mid", "hi"], parents=["a", "b"]),
    })["y"]
    rng = np.random.default_rng(1)
    counts = rng.uniform(0, 5, size=(3, 2, 3))
    x = rng.normal(size=2 * (1 + 2 + 1))
    gradient = cpd.negative_log_likelihood(x, counts)[1]
    numeric = scipy.optimize.approx_fprime(x, lambda t: cpd.negative_log_likelihood(t, counts)[0], 1e-7)
    assert np.abs(gradient - numeric).max() < 1e-4 * max(1, np.abs(numeric).max())


def _family(net, rows):
    from pgm.data import to_dataset

    columns = to_dataset(rows, net.domains).columns
    return columns["y"], {p: columns[p] for p in net["y"].parents}


def test_sampling_and_log_prob_agree_with_the_table():
    net = _noisy_or_network({"a": 0.9, "b": 0.3}, 0.1, {"a": 0.5, "b": 0.5})
    cpd = net["y"]
    n = 40_000
    rng = np.random.default_rng(2)
    for a, b in itertools.product([0, 1], repeat=2):
        parents = {"a": np.full(n, a), "b": np.full(n, b)}
        codes = cpd.sample(parents, n, rng)
        observed = np.bincount(codes, minlength=2)
        expected = n * cpd.table[a, b]
        assert scipy.stats.chisquare(observed, expected).pvalue > 1e-4
        assert np.allclose(cpd.log_prob(np.array([0, 1]), {"a": np.array([a, a]), "b": np.array([b, b])}),
                           np.log(cpd.table[a, b]))


def test_em_with_a_noisy_or_child_never_decreases():
    truth = _noisy_or_network({"a": 0.8, "b": 0.6}, 0.05, {"a": 0.3, "b": 0.6})
    rows = truth.sample(3000, seed=4)
    rows.loc[rows.index % 3 == 0, "a"] = np.nan
    declared = truth.with_cpd("y", pgm.NoisyOr.unfitted(parents=["a", "b"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = declared.fit(rows, seed=0, max_iter=40, tol=0)  # every pass, to see the trace climb
    trace = np.array(fitted.fit_report_.objective)
    assert len(trace) > 2 and np.all(np.diff(trace) >= -1e-9)


def test_json_round_trip_and_presentation(tmp_path):
    net = pgm.BayesianNetwork({
        "a": pgm.Bernoulli(0.5), "b": pgm.Categorical(["x", "y", "z"], table=[0.2, 0.3, 0.5]),
        "c": pgm.NoisyOr(parents=["a", "b"], activation={"a": 0.7, "b": [0.2, 0.9]}, leak=0.01),
        "d": pgm.NoisyMax.unfitted(["0", "1", "2"], parents=["c"]),
    })
    path = tmp_path / "noisy.json"
    net.write(path)
    assert pgm.read(path) == net
    text = str(net["c"])
    assert "noisy-OR" in text and "b=z" in text and "leak" in net["c"]._repr_html_()
    assert net["c"].n_free_parameters == 4


def test_bad_input_names_the_culprit():
    with pytest.raises(CPDError, match="NoisyMax"):
        pgm.NoisyOr(parents=["a"], activation={"a": 0.5}, states=["lo", "mid", "hi"])
    with pytest.raises(CPDError, match=r"activation of parent 'a'"):
        pgm.NoisyOr(parents=["a"], activation={"a": 1.5})
    with pytest.raises(CPDError, match=r"effects of 'y' give nothing for parent 'b'"):
        pgm.BayesianNetwork({"a": pgm.Bernoulli(0.5), "b": pgm.Bernoulli(0.5),
                             "y": pgm.NoisyOr(parents=["a", "b"], activation={"a": 0.5})})
    with pytest.raises(CPDError, match=r"effects of parent 'a' of 'y' has shape"):
        pgm.BayesianNetwork({"a": pgm.Bernoulli(0.5),
                             "y": pgm.NoisyMax(["0", "1"], parents=["a"], effects={"a": [[0.5, 0.3, 0.2]]})})
    with pytest.raises(StructureError, match="continuous"):
        pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.NoisyOr(parents=["x"], activation={"x": 0.5})})


def test_tied_noisy_or_nodes_are_written_once(tmp_path):
    net = pgm.BayesianNetwork({
        "a": pgm.Bernoulli(0.5),
        "y1": pgm.NoisyOr(parents=["a"], activation={"a": 0.7}, leak=0.1),
        "y2": pgm.NoisyOr(parents=["a"], activation={"a": 0.7}, leak=0.1),
    }).tie(["y1", "y2"])
    path = tmp_path / "tied.json"
    net.write(path)
    import json

    assert "leak" not in json.loads(path.read_text())["nodes"]["y2"]
    back = pgm.read(path)
    assert back.tied_groups == (("y1", "y2"),) and np.array_equal(back["y2"].table, net["y2"].table)
