"""Softmax / logistic CPDs, checked against scikit-learn, finite differences, formulas written out here, and sampling."""

import json
import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import pgm
from pgm.cpds.softmax import SeparationWarning, objective
from pgm.errors import CPDError, StructureError


def _draw(rng, n, weights, intercept):
    """Features and softmax labels drawn by hand (independent of the CPD's sampler)."""
    d = weights.shape[1]
    x = rng.normal(size=(n, d))
    logits = x @ weights.T + intercept
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)
    return x, y


def _network(d, states, *, l2=0.0, weights=None, intercept=None):
    cpds = {f"x{j}": pgm.Gaussian() for j in range(d)}
    parents = [f"x{j}" for j in range(d)]
    if weights is None:
        cpds["y"] = pgm.Softmax.unfitted(states, parents=parents, l2=l2)
    else:
        cpds["y"] = pgm.Softmax(states, parents=parents, intercept=intercept, weights=weights, l2=l2)
    return pgm.BayesianNetwork(cpds)


def _columns(x, y):
    data = {f"x{j}": x[:, j] for j in range(x.shape[1])}
    data["y"] = y
    return data


@pytest.mark.parametrize("C", [0.05, 1.0, 20.0])
def test_fit_equals_scikit_learn_multinomial_logistic_regression(C):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x, y = _draw(rng, 1500, rng.normal(size=(4, 3)), rng.normal(size=4))
    net = _network(3, [0, 1, 2, 3], l2=1.0 / C)
    fitted = net.fit(_columns(x, y))["y"]
    reference = LogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(x, y)
    # sklearn: C * sum(loss) + |W|^2 / 2, i.e. l2 = 1 / C on the summed log-likelihood
    assert np.abs(fitted.weights - reference.coef_).max() < 1e-6
    centred = reference.intercept_ - reference.intercept_.mean()
    assert np.abs(fitted.intercept - centred).max() < 1e-6


def test_sample_weights_equal_scikit_learn_sample_weight():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    x, y = _draw(rng, 800, rng.normal(size=(3, 2)), np.zeros(3))
    w = rng.uniform(0.1, 3.0, size=len(y))
    fitted = _network(2, ["a", "b", "c"], l2=1.0).fit(
        {"x0": x[:, 0], "x1": x[:, 1], "y": np.array(["a", "b", "c"])[y]}, weights=w)["y"]
    reference = LogisticRegression(C=1.0, tol=1e-12, max_iter=100_000).fit(x, y, sample_weight=w)
    assert np.abs(fitted.weights - reference.coef_).max() < 1e-6


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    design = rng.normal(size=(40, 3))
    counts = rng.uniform(0, 2, size=(40, 4))
    theta = rng.normal(size=4 + 12)
    for l2 in (0.0, 0.7):
        value = lambda t: objective(t, design, counts, l2)[0]
        gradient = objective(theta, design, counts, l2)[1]
        numeric = scipy.optimize.approx_fprime(theta, value, 1e-6)
        assert np.abs(gradient - numeric).max() < 1e-4 * max(1.0, np.abs(numeric).max())


def test_log_likelihood_per_row_equals_the_formula():
    rng = np.random.default_rng(4)
    weights, intercept = rng.normal(size=(3, 2)), rng.normal(size=3)
    net = _network(2, ["r", "g", "b"], weights=weights, intercept=intercept)
    x = rng.normal(size=(50, 2))
    y = rng.integers(0, 3, size=50)
    data = {"x0": x[:, 0], "x1": x[:, 1], "y": np.array(["r", "g", "b"])[y]}
    logits = x @ weights.T + intercept
    own = logits[np.arange(50), y] - np.log(np.exp(logits).sum(axis=1))
    gaussian = scipy.stats.norm.logpdf(x).sum(axis=1)
    assert np.allclose(net.log_likelihood(data), own + gaussian, atol=1e-12)


def test_discrete_parents_enter_one_hot_and_the_table_matches():
    net = pgm.BayesianNetwork({
        "a": pgm.Categorical(["u", "v", "w"], table=[0.2, 0.3, 0.5]),
        "b": pgm.Bernoulli(0.4),
        "y": pgm.Softmax(["n", "y"], parents=["a", "b"], intercept=[0.0, -1.0],
                         weights=[[0, 0, 0], [2.0, -1.0, 0.5]]),
    })
    cpd = net["y"]
    assert cpd.design_names == ("a=v", "a=w", "b=true")
    assert cpd.n_free_parameters == 4 and net.n_free_parameters == 2 + 1 + 4
    for ia, a_effect in enumerate([0.0, 2.0, -1.0]):
        for ib, b_effect in enumerate([0.0, 0.5]):
            p = 1 / (1 + np.exp(-(-1.0 + a_effect + b_effect)))
            assert np.allclose(cpd.table[ia, ib], [1 - p, p])


def test_sampled_frequencies_pass_chi_square_at_random_parent_values():
    rng = np.random.default_rng(5)
    weights, intercept = rng.normal(size=(4, 2)), rng.normal(size=4)
    net = _network(2, list("abcd"), weights=weights, intercept=intercept)
    cpd = net["y"]
    for _ in range(3):
        point = rng.normal(size=2)
        n = 20_000
        parents = {"x0": np.full(n, point[0]), "x1": np.full(n, point[1])}
        codes = cpd.sample(parents, n, np.random.default_rng(int(rng.integers(1 << 30))))
        logits = weights @ point + intercept
        expected = np.exp(logits - logits.max())
        expected /= expected.sum()
        observed = np.bincount(codes, minlength=4)
        assert scipy.stats.chisquare(observed, n * expected).pvalue > 1e-4


def test_fitting_recovers_parameters_as_n_grows():
    rng = np.random.default_rng(6)
    weights = np.array([[0.0, 0.0], [1.5, -1.0], [-0.5, 2.0]])
    intercept = np.array([0.0, 0.5, -0.5])
    true_w = weights - weights.mean(axis=0)
    errors = []
    for n in (500, 5_000, 50_000):
        x, y = _draw(rng, n, weights, intercept)
        errors.append(np.abs(_network(2, [0, 1, 2]).fit(_columns(x, y))["y"].weights - true_w).max())
    assert errors[2] < errors[0] and errors[2] < 0.05


def test_chunked_statistics_merge_to_the_same_fit():
    rng = np.random.default_rng(7)
    x, y = _draw(rng, 3000, rng.normal(size=(3, 2)), np.zeros(3))
    net = _network(2, [0, 1, 2], l2=0.5)
    data = _columns(x, y)
    halves = [{k: v[s] for k, v in data.items()} for s in (slice(0, 1000), slice(1000, 3000))]
    merged = net.from_statistics(net.statistics(halves[0]) + net.statistics(halves[1]))
    whole = net.fit(data)
    assert np.allclose(merged["y"].weights, whole["y"].weights, atol=1e-8)


def test_json_round_trip_and_presentation(tmp_path):
    net = pgm.BayesianNetwork({
        "x": pgm.Gaussian(),
        "a": pgm.Bernoulli(0.3),
        "y": pgm.Softmax(["lo", "mid", "hi"], parents=["x", "a"], intercept=[0, 1, 2],
                         weights=[[0, 0, 0], [1, 0, 1], [2, 1, 0]], features=pgm.polynomial("x", 2), l2=0.25),
        "unfit": pgm.Logistic(parents=["x"]),
    })
    path = tmp_path / "softmax.json"
    net.write(path)
    back = pgm.read(path)
    assert back == net
    assert json.loads(path.read_text())["nodes"]["y"]["type"] == "softmax"
    assert back["y"].design_names == ("x", "x^2", "a=true") and back["y"].l2 == 0.25
    assert "softmax" in str(net["y"]) and "hi" in net["y"]._repr_html_()
    assert net["unfit"].describe().endswith("not fitted yet")
    assert "3 states [lo, mid, hi], softmax  <- x, a" in str(net)
    assert net.to_graphviz(show_distributions=True) is not None


def test_two_states_is_the_logistic():
    net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Logistic(parents=["x"], intercept=0.3, weights=[-1.2])})
    x = np.linspace(-3, 3, 7)
    p = net["y"].probabilities({"x": x})
    assert np.allclose(p[:, 1], 1 / (1 + np.exp(-(0.3 - 1.2 * x))))


def test_likelihood_weighting_answers_queries_with_continuous_parents_and_exact_refuses():
    # x -> y (logistic); query x's sign indicator? Use a discrete root a -> x -> y and infer a given y.
    net = pgm.BayesianNetwork({
        "a": pgm.Bernoulli(0.3, states=["neg", "pos"]),
        "x": pgm.LinearGaussian(parents=["a"], intercept=[-1.0, 1.0], variance=1.0),
        "y": pgm.Logistic(parents=["x"], intercept=0.0, weights=[3.0], states=["no", "yes"]),
    })
    with pytest.raises(StructureError, match="likelihood_weighting"):
        net.query("a", evidence={"y": "yes"})
    # with x observed and y not, y is barren: exact answers for a, and for y from its CPD
    pos, neg = 0.3 * scipy.stats.norm.pdf(0.5, 1.0, 1.0), 0.7 * scipy.stats.norm.pdf(0.5, -1.0, 1.0)
    assert np.allclose(net.query("a", evidence={"x": 0.5}).probabilities, [neg, pos] / (neg + pos), atol=1e-12)
    given_x = net.query("y", evidence={"x": 0.5})
    assert np.isclose(given_x.probabilities[1], 1 / (1 + np.exp(-1.5)), atol=1e-12)
    assert np.isclose(given_x.log_evidence, np.log(neg + pos), atol=1e-12)
    with pytest.raises(StructureError, match="'y'.*EM with missing values"):
        net.fit({"a": ["neg", "pos"] * 50, "x": np.linspace(-2, 2, 100), "y": ["no", None, "yes", None] * 25})
    estimate = net.query("a", evidence={"y": "yes"}, method="likelihood_weighting", n_samples=200_000, seed=0)
    # the exact answer by one-dimensional quadrature over x
    grid = np.linspace(-9, 9, 20001)
    joint = [prior * np.trapezoid(scipy.stats.norm.pdf(grid, mean, 1) / (1 + np.exp(-3 * grid)), grid)
             for prior, mean in ((0.7, -1.0), (0.3, 1.0))]
    exact = joint[1] / sum(joint)
    assert abs(estimate.probabilities[1] - exact) < 4 * estimate.standard_errors[1]


def test_em_with_a_softmax_child_of_a_latent_class_never_decreases():
    rng = np.random.default_rng(8)
    truth = pgm.BayesianNetwork({
        "z": pgm.Categorical(["z0", "z1"], table=[0.4, 0.6]),
        "a": pgm.Categorical(["u", "v", "w"], table=[0.3, 0.3, 0.4]),
        "y": pgm.Softmax(["p", "q", "r"], parents=["z", "a"], intercept=[0, 0.5, -0.5],
                         weights=[[0, 0, 0], [2.0, -1.0, 1.0], [-1.0, 1.5, 0.5]], l2=0.1),
        "c1": pgm.Categorical(["n", "y"], parents=["z"], table=[[0.8, 0.2], [0.2, 0.8]]),
        "c2": pgm.Categorical(["n", "y"], parents=["z"], table=[[0.7, 0.3], [0.1, 0.9]]),
    })
    rows = truth.sample(1500, seed=9).drop(columns="z")
    declared = pgm.BayesianNetwork({
        "z": pgm.Categorical.latent(["z0", "z1"]),
        "a": pgm.Categorical(["u", "v", "w"]),
        "y": pgm.Softmax.unfitted(["p", "q", "r"], parents=["z", "a"], l2=0.1),
        "c1": pgm.Categorical(["n", "y"], parents=["z"]),
        "c2": pgm.Categorical(["n", "y"], parents=["z"]),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = declared.fit(rows, seed=int(rng.integers(100)), max_iter=30)
    trace = np.array(fitted.fit_report_.objective)
    assert np.all(np.diff(trace) >= -1e-9), np.diff(trace).min()
    # started from the truth, EM ends no lower than the truth's objective
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_truth = truth.fit(rows.assign(z=np.nan), init=truth, max_iter=15)
    objective_trace = from_truth.fit_report_.objective
    assert objective_trace[-1] >= objective_trace[0] - 1e-12
    assert np.all(np.diff(objective_trace) >= -1e-9)


def test_exact_inference_with_a_discrete_parent_softmax_equals_enumeration():
    net = pgm.BayesianNetwork({
        "a": pgm.Categorical(["u", "v"], table=[0.3, 0.7]),
        "b": pgm.Categorical(["s", "t", "r"], parents=["a"], table=[[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]),
        "y": pgm.Softmax(["n", "m", "o"], parents=["a", "b"], intercept=[0, 1, -1],
                         weights=[[0, 0, 0], [1, -2, 0.5], [0.3, 0.2, 1.0]]),
    })
    posterior = net.query("a", evidence={"y": "o"}).probabilities
    table = net["y"].table
    joint = np.array([[0.3, 0.7][a] * [[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]][a][b] * table[a, b, 2]
                      for a in range(2) for b in range(3)]).reshape(2, 3).sum(axis=1)
    assert np.allclose(posterior, joint / joint.sum(), atol=1e-12)
    plan = net.inference_plan(evidence={"y": "o"})
    assert plan.expanded == ("y",) and "expanded" in str(plan)


def test_separable_data_without_prior_warns_and_suggests_l2():
    x = np.concatenate([np.linspace(-3, -0.5, 50), np.linspace(0.5, 3, 50)])
    y = (x > 0).astype(int)
    net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Softmax.unfitted([0, 1], parents=["x"])})
    with pytest.warns(SeparationWarning, match=r"'y'.*l2="):
        net.fit({"x": x, "y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Softmax.unfitted([0, 1], parents=["x"], l2=1.0)}).fit(
            {"x": x, "y": y})


def test_a_state_absent_from_the_data_warns_and_suggests_an_intercept_prior():
    net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Softmax.unfitted(["a", "b", "c"], parents=["x"], l2=1.0)})
    rows = {"x": np.linspace(-1, 1, 40), "y": ["a", "b"] * 20}
    with pytest.warns(SeparationWarning, match=r"'y'.*\['c'\].*intercept_l2"):
        net.fit(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeparationWarning)
        fitted = net.with_cpd("y", pgm.Softmax.unfitted(["a", "b", "c"], parents=["x"], l2=1.0,
                                                        intercept_l2=1.0)).fit(rows)
    assert 0 < fitted["y"].probabilities({"x": np.array([0.0])})[0, 2] < 0.2


def test_bad_input_names_the_node():
    with pytest.raises(CPDError, match="at least two states"):
        pgm.Softmax(["only"])
    with pytest.raises(CPDError, match=r"weights of 'y' have shape \(2, 3\).*must have shape \(2, 1\)"):
        pgm.BayesianNetwork({"x": pgm.Gaussian(),
                             "y": pgm.Softmax(["a", "b"], parents=["x"], intercept=[0, 0], weights=np.zeros((2, 3)))})
    with pytest.raises(CPDError, match=r"intercept of 'y'"):
        pgm.BayesianNetwork({"x": pgm.Gaussian(),
                             "y": pgm.Softmax(["a", "b"], parents=["x"], intercept=[0, 0, 0], weights=[[0], [1]])})
    with pytest.raises(CPDError, match="l2"):
        pgm.Softmax(["a", "b"], l2=-1)
    with pytest.raises(StructureError, match="Softmax"):
        pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Categorical(["a", "b"], parents=["x"])})


def test_penalised_intercepts_equal_scikit_learn_with_a_column_of_ones():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(10)
    x, y = _draw(rng, 600, rng.normal(size=(3, 2)), np.array([2.0, 0.0, -2.0]))
    cpds = {"x0": pgm.Gaussian(), "x1": pgm.Gaussian(),
            "y": pgm.Softmax.unfitted([0, 1, 2], parents=["x0", "x1"], l2=2.0, intercept_l2=2.0)}
    fitted = pgm.BayesianNetwork(cpds).fit(_columns(x, y))["y"]
    # with no intercept of its own and a constant column, sklearn penalises that column's weight like the rest
    reference = LogisticRegression(C=0.5, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(
        np.column_stack([np.ones(len(y)), x]), y)
    assert np.abs(fitted.intercept - reference.coef_[:, 0]).max() < 1e-6
    assert np.abs(fitted.weights - reference.coef_[:, 1:]).max() < 1e-6


def test_many_discrete_parents_keep_family_rows_and_refuse_a_huge_table():
    rng = np.random.default_rng(11)
    parents = [f"p{j}" for j in range(24)]  # 2^24 configurations: far too many for a table
    cpds = {p: pgm.Bernoulli(0.5) for p in parents}
    cpds["y"] = pgm.Logistic(parents=parents, l2=1.0)
    net = pgm.BayesianNetwork(cpds)
    bits = rng.integers(0, 2, size=(400, 24))
    logit = bits[:, :3] @ np.array([2.0, -2.0, 1.0]) - 0.5
    y = rng.random(400) < 1 / (1 + np.exp(-logit))
    data = {p: np.where(bits[:, j] == 1, "true", "false") for j, p in enumerate(parents)}
    data["y"] = np.where(y, "true", "false")
    assert net.statistics(data)["y"].shape == (400, 2 + 24)
    fitted = net.fit(data)
    assert fitted["y"].n_free_parameters == 25
    assert np.isfinite(fitted.log_likelihood(data)).all()
    from pgm.errors import InferenceTooLarge

    with pytest.raises(InferenceTooLarge, match="'y'.*likelihood_weighting"):
        fitted.query("p0", evidence={"y": "true"})


def test_parameter_posterior_refuses_a_restricted_cpd():
    net = pgm.BayesianNetwork({"a": pgm.Bernoulli(0.5), "y": pgm.Logistic(parents=["a"], intercept=0.0, weights=[1.0])})
    with pytest.raises(CPDError, match="'y'.*restricted"):
        net.parameter_posterior({"a": ["true", "false"], "y": ["true", "true"]}, prior=pgm.Dirichlet(1))


def test_dask_partitions_fit_a_softmax_by_merging_family_rows():
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    rng = np.random.default_rng(12)
    x, y = _draw(rng, 900, rng.normal(size=(3, 2)), np.zeros(3))
    frame = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "y": y})
    net = _network(2, [0, 1, 2], l2=0.5)
    in_memory = net.fit(frame)["y"]
    partitioned = net.fit(dd.from_pandas(frame, npartitions=3))["y"]
    assert np.allclose(partitioned.weights, in_memory.weights, atol=1e-7)


def test_a_latent_softmax_class_of_an_observed_parent_is_fitted_by_monotone_em():
    truth = pgm.BayesianNetwork({
        "age": pgm.Categorical(["young", "mid", "old"], table=[0.3, 0.4, 0.3]),
        "z": pgm.Softmax(["a", "b"], parents=["age"], intercept=[0, -1], weights=[[0, 0], [1.5, 3.0]]),
        **{f"c{j}": pgm.Categorical(["n", "y"], parents=["z"], table=[[0.85, 0.15], [0.2, 0.8]]) for j in range(3)},
    })
    rows = truth.sample(2000, seed=13).drop(columns="z")
    declared = pgm.BayesianNetwork({
        "age": pgm.Categorical(["young", "mid", "old"]),
        "z": pgm.Softmax.latent(["a", "b"], parents=["age"], l2=0.01),
        **{f"c{j}": pgm.Categorical(["n", "y"], parents=["z"]) for j in range(3)},
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = declared.fit(rows, seed=1, max_iter=50)
    trace = np.array(fitted.fit_report_.objective)
    assert len(trace) > 2 and np.all(np.diff(trace) >= -1e-9)
    assert fitted["z"].latent and isinstance(fitted["z"], pgm.Softmax)


def test_tied_softmax_nodes_share_one_fit_and_refuse_a_table_partner():
    rng = np.random.default_rng(14)
    net = pgm.BayesianNetwork({
        "x": pgm.Gaussian(),
        "y1": pgm.Logistic(parents=["x"], l2=0.1), "y2": pgm.Logistic(parents=["x"], l2=0.1),
    }).tie(["y1", "y2"])
    x = rng.normal(size=1000)
    p = 1 / (1 + np.exp(-(0.5 + 2 * x)))
    y1, y2 = rng.random(1000) < p, rng.random(1000) < p
    label = lambda b: np.where(b, "true", "false")
    fitted = net.fit({"x": x, "y1": label(y1), "y2": label(y2)})
    pooled = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.Logistic(parents=["x"], l2=0.1)}).fit(
        {"x": np.concatenate([x, x]), "y": label(np.concatenate([y1, y2]))})
    assert np.allclose(fitted["y1"].weights, pooled["y"].weights, atol=1e-7)
    assert np.array_equal(fitted["y1"].weights, fitted["y2"].weights) and fitted.n_free_parameters == 2 + 2
    table = pgm.BayesianNetwork({"a": pgm.Bernoulli(0.5), "y1": pgm.Logistic(parents=["a"]),
                                 "y2": pgm.Categorical(["false", "true"], parents=["a"])})
    with pytest.raises(CPDError, match="softmax"):
        table.tie(["y1", "y2"])


def test_query_and_predict_of_a_softmax_class_given_its_features_are_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    import pandas as pd

    rng = np.random.default_rng(15)
    x, y = _draw(rng, 1000, rng.normal(size=(3, 2)), np.zeros(3))
    net = pgm.BayesianNetwork({"x0": pgm.Gaussian(1.0, 4.0), "x1": pgm.Gaussian(-1.0, 0.25),
                               "y": pgm.Softmax.unfitted(["a", "b", "c"], parents=["x0", "x1"], l2=2.0)})
    fitted = net.fit({"x0": x[:, 0], "x1": x[:, 1], "y": np.array(["a", "b", "c"])[y]})
    reference = LogisticRegression(C=0.5, tol=1e-12, max_iter=100_000).fit(x, y)
    features = pd.DataFrame({"x0": x[:50, 0], "x1": x[:50, 1]}, index=np.arange(100, 150))
    table = fitted.query("y", evidence=features)
    assert list(table.index) == list(features.index)
    assert np.abs(table.to_numpy() - reference.predict_proba(x[:50])).max() < 1e-6
    predicted = fitted.predict(features, "y")
    assert (predicted.to_numpy() == np.array(["a", "b", "c"])[reference.predict(x[:50])]).all()
    declared_roots = net.with_cpd("y", fitted["y"])  # the roots keep N(1, 4) and N(-1, 0.25)
    one = declared_roots.query("y", evidence={"x0": 0.3, "x1": -0.7})
    assert np.allclose(one.probabilities, reference.predict_proba([[0.3, -0.7]])[0], atol=1e-6)
    # log p(evidence) = log N(0.3; 1, 4) + log N(-0.7; -1, 0.25): y is barren and drops out
    expected = scipy.stats.norm.logpdf(0.3, 1.0, 2.0) + scipy.stats.norm.logpdf(-0.7, -1.0, 0.5)
    assert np.isclose(one.log_evidence, expected, atol=1e-12)
    with pytest.raises(StructureError, match="likelihood_weighting"):  # a feature unobserved: not this case
        fitted.query("y", evidence={"x0": 0.3})


def test_one_case_with_the_continuous_parents_observed_is_exact_by_enumeration():
    net = pgm.BayesianNetwork({
        "a": pgm.Categorical(["u", "v"], table=[0.35, 0.65]),
        "x": pgm.LinearGaussian(parents=["a"], intercept=[-1.0, 0.5], variance=[1.0, 2.0]),
        "y": pgm.Softmax(["p", "q", "r"], parents=["x", "a"], intercept=[0, 0.5, -0.5],
                         weights=[[0, 0], [1.0, -1.0], [-0.5, 2.0]]),
        "z": pgm.Categorical(["n", "m"], parents=["y"], table=[[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]),
    })
    x = 0.3
    joint = np.zeros((2, 3))  # p(a, y, x = 0.3, z = m), enumerated by hand
    for a, (mean, variance) in enumerate([(-1.0, 1.0), (0.5, 2.0)]):
        logits = np.array([0.0, 0.5 + 1.0 * x - 1.0 * a, -0.5 - 0.5 * x + 2.0 * a])
        p_y = np.exp(logits) / np.exp(logits).sum()
        joint[a] = [0.35, 0.65][a] * scipy.stats.norm.pdf(x, mean, np.sqrt(variance)) * p_y * np.array([0.1, 0.6, 0.8])
    evidence = {"x": x, "z": "m"}
    post_a = net.query("a", evidence=evidence)
    assert np.allclose(post_a.probabilities, joint.sum(axis=1) / joint.sum(), atol=1e-12)
    assert np.isclose(post_a.log_evidence, np.log(joint.sum()), atol=1e-12)
    assert np.allclose(net.query("y", evidence=evidence).probabilities, joint.sum(axis=0) / joint.sum(), atol=1e-12)
    assert np.isclose(net.log_evidence(evidence), np.log(joint.sum()), atol=1e-12)
    assert np.allclose(net.posteriors(evidence)["y"].probabilities, joint.sum(axis=0) / joint.sum(), atol=1e-12)
    best = net.mpe(evidence)
    a, y = np.unravel_index(np.argmax(joint), joint.shape)
    assert (best.assignment["a"], best.assignment["y"]) == (["u", "v"][a], ["p", "q", "r"][y])
    assert np.isclose(best.log_probability, np.log(joint.max()), atol=1e-12)


def test_the_scikit_learn_wrapper_with_a_softmax_class_is_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    from pgm.sklearn import BayesianNetworkClassifier

    rng = np.random.default_rng(16)
    x, y = _draw(rng, 600, rng.normal(size=(3, 2)), np.zeros(3))
    net = pgm.BayesianNetwork({"x0": pgm.Gaussian(), "x1": pgm.Gaussian(),
                               "c": pgm.Softmax.unfitted(["0", "1", "2"], parents=["x0", "x1"], l2=1.0)})
    ours = BayesianNetworkClassifier(net, "c").fit(x, y).predict_proba(x)
    theirs = LogisticRegression(C=1.0, tol=1e-12, max_iter=100_000).fit(x, y).predict_proba(x)
    assert np.abs(ours - theirs).max() < 1e-6
