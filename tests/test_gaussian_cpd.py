"""Linear Gaussian, polynomial-feature and conditional linear Gaussian nodes.

Every fitted number is checked against an independent computation done here:
``numpy.linalg.lstsq`` on a design matrix built by hand, closed-form ridge
regression, scipy.stats densities, or moments of a mixture in closed form.
Data are drawn with numpy generators (not pgm's sampler) unless the sampler is
what is under test, and every generator is seeded.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import pgm
from pgm import (
    BayesianNetwork,
    Categorical,
    Function,
    Gaussian,
    LinearGaussian,
    Monomial,
    RadialBasis,
    Ridge,
    polynomial,
)
from pgm.errors import CPDError, DataError, SingularDesignError, StructureError

RTOL = 1e-10  # least squares by pgm vs numpy.linalg.lstsq


# ---------------------------------------------------------------------- independent references
def ols(design: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None):
    """Weighted least squares by numpy.linalg.lstsq on sqrt(w)-scaled rows.

    ``design`` has no intercept column; one is prepended.  Returns
    ``(intercept, weights, mle_variance)`` with the variance RSS / sum(w).
    """
    n = len(y)
    a = np.column_stack([np.ones(n), design]) if design.size else np.ones((n, 1))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    root = np.sqrt(w)
    theta, *_ = np.linalg.lstsq(a * root[:, None], y * root, rcond=None)
    residual = y - a @ theta
    variance = np.sum(w * residual**2) / np.sum(w)
    return theta[0], theta[1:], variance


def assert_node_matches_ols(cpd, design, y, weights=None, rtol=RTOL):
    b0, w, var = ols(design, y, weights)
    np.testing.assert_allclose(cpd.intercept, b0, rtol=rtol, err_msg=f"intercept of {cpd.variable}")
    np.testing.assert_allclose(cpd.weights, w, rtol=rtol, err_msg=f"weights of {cpd.variable}")
    np.testing.assert_allclose(cpd.variance, var, rtol=rtol, err_msg=f"variance of {cpd.variable}")


def two_parent_data(n=500, seed=0):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(1.0, 1.5, n)
    x2 = 0.4 * x1 + rng.normal(-2.0, 1.0, n)
    y = 0.7 - 1.3 * x1 + 2.1 * x2 + rng.normal(0.0, 0.8, n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y": y})


def two_parent_network(y_cpd):
    return BayesianNetwork({"x1": Gaussian(), "x2": Gaussian(), "y": y_cpd})


# ---------------------------------------------------------------------- 1. least squares
def test_fit_of_linear_parents_equals_lstsq():
    data = two_parent_data()
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    fitted = net.fit(data)
    design = data[["x1", "x2"]].to_numpy()
    assert_node_matches_ols(fitted["y"], design, data["y"].to_numpy())


def test_fit_of_root_node_is_sample_mean_and_variance_dividing_by_n():
    data = two_parent_data()
    fitted = two_parent_network(LinearGaussian(parents=["x1", "x2"])).fit(data)
    for root in ("x1", "x2"):
        values = data[root].to_numpy()
        np.testing.assert_allclose(fitted[root].intercept, values.mean(), rtol=RTOL)
        np.testing.assert_allclose(fitted[root].variance, values.var(ddof=0), rtol=RTOL)
        assert fitted[root].weights.shape == (0,)


def test_fit_with_parents_listed_in_another_order_follows_the_features_order():
    data = two_parent_data()
    net = two_parent_network(LinearGaussian(parents=["x2", "x1"]))
    fitted = net.fit(data)
    assert [str(f) for f in fitted["y"].features] == ["x2", "x1"]
    assert_node_matches_ols(fitted["y"], data[["x2", "x1"]].to_numpy(), data["y"].to_numpy())


def test_fit_of_cubic_polynomial_features_equals_lstsq_on_vandermonde_design():
    rng = np.random.default_rng(1)
    n = 400
    x = rng.uniform(-2.0, 2.0, n)
    y = 1.0 - 0.5 * x + 0.8 * x**2 - 0.3 * x**3 + rng.normal(0.0, 0.5, n)
    net = BayesianNetwork({"x": Gaussian(), "y": LinearGaussian(parents=["x"], features=polynomial("x", 3))})
    fitted = net.fit(pd.DataFrame({"x": x, "y": y}))
    design = np.column_stack([x, x**2, x**3])
    assert_node_matches_ols(fitted["y"], design, y)


def test_fit_of_sine_radial_basis_and_interaction_features_equals_lstsq():
    rng = np.random.default_rng(2)
    n = 600
    x1 = rng.normal(0.0, 1.5, n)
    x2 = rng.normal(1.0, 1.0, n)
    rbf = np.exp(-0.5 * ((x1 - 0.5) / 0.7) ** 2)
    y = 0.3 + 1.5 * np.sin(x1) - 2.0 * rbf + 0.6 * x1 * x2 - 0.2 * x1**2 * x2 + 0.9 * x2 + rng.normal(0, 0.3, n)
    features = [
        Function("sin", "x1"),
        RadialBasis("x1", center=0.5, width=0.7),
        Monomial({"x1": 1, "x2": 1}),
        Monomial({"x1": 2, "x2": 1}),
        "x2",
    ]
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"], features=features))
    data = pd.DataFrame({"x1": x1, "x2": x2, "y": y})
    fitted = net.fit(data)
    design = np.column_stack([np.sin(x1), rbf, x1 * x2, x1**2 * x2, x2])
    assert_node_matches_ols(fitted["y"], design, y)


@pytest.mark.parametrize("name, function", [("cos", np.cos), ("tanh", np.tanh), ("exp", np.exp),
                                            ("log", np.log), ("sqrt", np.sqrt), ("abs", np.abs)])
def test_every_elementary_function_feature_is_the_numpy_function(name, function):
    rng = np.random.default_rng(3)
    n = 300
    x = rng.uniform(0.1, 3.0, n)
    y = 2.0 - 1.0 * function(x) + rng.normal(0.0, 0.2, n)
    net = BayesianNetwork({"x": Gaussian(), "y": LinearGaussian(parents=["x"], features=[Function(name, "x")])})
    fitted = net.fit(pd.DataFrame({"x": x, "y": y}))
    assert_node_matches_ols(fitted["y"], function(x)[:, None], y)


def test_weighted_fit_equals_weighted_least_squares():
    data = two_parent_data(seed=4)
    weights = np.random.default_rng(5).uniform(0.0, 3.0, len(data))
    weights[:10] = 0.0  # rows with no weight do not count at all
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"], features=["x1", "x2", Monomial({"x1": 2})]))
    fitted = net.fit(data, weights=weights)
    x1, x2, y = (data[c].to_numpy() for c in ("x1", "x2", "y"))
    assert_node_matches_ols(fitted["y"], np.column_stack([x1, x2, x1**2]), y, weights)
    # a root node: weighted mean and weighted variance (divided by the total weight)
    mean = np.average(x1, weights=weights)
    np.testing.assert_allclose(fitted["x1"].intercept, mean, rtol=RTOL)
    np.testing.assert_allclose(fitted["x1"].variance, np.average((x1 - mean) ** 2, weights=weights), rtol=RTOL)


def test_rows_with_zero_weight_are_the_same_as_dropping_them():
    data = two_parent_data(seed=6)
    weights = np.ones(len(data))
    weights[::3] = 0.0
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    weighted = net.fit(data, weights=weights)
    dropped = net.fit(data[weights > 0])
    for node in net.nodes:
        np.testing.assert_allclose(weighted[node].intercept, dropped[node].intercept, rtol=1e-12)
        np.testing.assert_allclose(weighted[node].weights, dropped[node].weights, rtol=1e-12)
        np.testing.assert_allclose(weighted[node].variance, dropped[node].variance, rtol=1e-12)


def test_noiseless_data_recovers_the_exact_line_with_a_positive_variance():
    x = np.linspace(-1.0, 1.0, 50)
    y = 3.0 - 2.0 * x
    net = BayesianNetwork({"x": Gaussian(), "y": LinearGaussian(parents=["x"])})
    fitted = net.fit(pd.DataFrame({"x": x, "y": y}))
    np.testing.assert_allclose(fitted["y"].intercept, 3.0, rtol=1e-10)
    np.testing.assert_allclose(fitted["y"].weights, [-2.0], rtol=1e-10)
    assert 0.0 < float(fitted["y"].variance) < 1e-9
    assert np.all(np.isfinite(fitted.log_likelihood(pd.DataFrame({"x": x, "y": y}))))


def exact_least_squares(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares in exact rational arithmetic (normal equations over Fractions), intercept first."""
    from fractions import Fraction

    a = [[Fraction(1)] + [Fraction(float(v)) for v in row] for row in design]
    b = [Fraction(float(v)) for v in y]
    p = len(a[0])
    m = [[sum(r[i] * r[j] for r in a) for j in range(p)] + [sum(r[i] * v for r, v in zip(a, b))] for i in range(p)]
    for i in range(p):  # Gaussian elimination; the Gram matrix is positive definite
        for r in range(i + 1, p):
            f = m[r][i] / m[i][i]
            m[r] = [x - f * z for x, z in zip(m[r], m[i])]
    theta = [Fraction(0)] * p
    for i in reversed(range(p)):
        theta[i] = (m[i][p] - sum(m[i][j] * theta[j] for j in range(i + 1, p))) / m[i][i]
    return np.array([float(t) for t in theta])


def test_cubic_features_of_a_parent_between_10_and_20_match_exact_least_squares():
    # An ordinary, full-rank design (condition number ~1e3 after column scaling): lstsq
    # reaches ~1e-13 of the exact solution, so 1e-10 is a fair demand.
    rng = np.random.default_rng(40)
    n = 200
    x = rng.uniform(10.0, 20.0, n)
    y = 2.0 - 0.5 * x + 0.03 * x**2 - 0.0004 * x**3 + rng.normal(0.0, 0.5, n)
    design = np.column_stack([x, x**2, x**3])
    exact = exact_least_squares(design, y)
    b0, w, _ = ols(design, y)
    np.testing.assert_allclose([b0, *w], exact, rtol=1e-11)  # the reference itself is accurate
    net = BayesianNetwork({"x": Gaussian(), "y": LinearGaussian(parents=["x"], features=polynomial("x", 3))})
    fitted = net.fit(pd.DataFrame({"x": x, "y": y}))["y"]
    np.testing.assert_allclose([float(fitted.intercept), *fitted.weights], exact, rtol=RTOL)


@pytest.mark.parametrize("offset", [0.0, 310.0, 101_325.0], ids=["centred", "kelvin", "pascal"])
def test_fitted_variance_of_values_far_from_zero_is_rss_over_n(offset):
    # e.g. a temperature in kelvin or an air pressure in pascals, measured to 0.1
    rng = np.random.default_rng(41)
    n = 500
    u = rng.normal(0.0, 1.0, n)
    data = pd.DataFrame({
        "u": u,
        "root": offset + rng.normal(0.0, 0.1, n),
        "child": offset + 0.5 * u + rng.normal(0.0, 0.1, n),
    })
    net = BayesianNetwork({"u": Gaussian(), "root": Gaussian(), "child": LinearGaussian(parents=["u"])})
    fitted = net.fit(data)
    np.testing.assert_allclose(fitted["root"].intercept, data["root"].mean(), rtol=RTOL)
    np.testing.assert_allclose(fitted["root"].variance, data["root"].var(ddof=0), rtol=RTOL)
    assert_node_matches_ols(fitted["child"], u[:, None], data["child"].to_numpy())


def test_scaling_all_weights_by_a_constant_changes_nothing():
    data = two_parent_data(seed=42)
    weights = np.random.default_rng(43).uniform(0.1, 2.0, len(data))
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    base = net.fit(data, weights=weights)
    for scale in (1e-3, 7.0, 1e4):
        scaled = net.fit(data, weights=scale * weights)
        for node in net.nodes:
            np.testing.assert_allclose(scaled[node].intercept, base[node].intercept, rtol=1e-11)
            np.testing.assert_allclose(scaled[node].weights, base[node].weights, rtol=1e-11)
            np.testing.assert_allclose(scaled[node].variance, base[node].variance, rtol=1e-11)


# ---------------------------------------------------------------------- 2. bnlearn's gaussian.test
GAUSSIAN_TEST_PARENTS = {
    "A": [], "B": [], "E": [], "G": [],
    "C": ["A", "B"],
    "D": ["B"],
    "F": ["A", "D", "E", "G"],
}


def test_gaussian_test_data_fit_matches_independent_least_squares_for_every_node():
    data = pgm.datasets.gaussian_test()
    assert data.shape == (100, 7)
    assert list(data.columns) == list("ABCDEFG")
    # any parameters: fitting must replace all of them
    cpds = {
        node: LinearGaussian(parents=parents, intercept=123.0, weights=[7.0] * len(parents), variance=9.0)
        for node, parents in GAUSSIAN_TEST_PARENTS.items()
    }
    net = BayesianNetwork(cpds, name="gaussian.test")
    fitted = net.fit(data)
    assert set(fitted.edges) == {(p, c) for c, ps in GAUSSIAN_TEST_PARENTS.items() for p in ps}
    for node, parents in GAUSSIAN_TEST_PARENTS.items():
        design = data[parents].to_numpy() if parents else np.empty((len(data), 0))
        assert_node_matches_ols(fitted[node], design, data[node].to_numpy())


def test_gaussian_test_data_log_likelihood_is_the_sum_of_scipy_normal_densities():
    data = pgm.datasets.gaussian_test()
    net = BayesianNetwork({n: LinearGaussian(parents=p) for n, p in GAUSSIAN_TEST_PARENTS.items()})
    fitted = net.fit(data)
    expected = np.zeros(len(data))
    for node, parents in GAUSSIAN_TEST_PARENTS.items():
        design = data[parents].to_numpy() if parents else np.empty((len(data), 0))
        b0, w, var = ols(design, data[node].to_numpy())
        expected += scipy.stats.norm.logpdf(data[node], loc=b0 + design @ w, scale=np.sqrt(var))
    np.testing.assert_allclose(fitted.log_likelihood(data), expected, rtol=1e-10)


# ---------------------------------------------------------------------- 5. hybrid networks
MIXTURE_PI = np.array([0.2, 0.5, 0.3])
MIXTURE_MU = np.array([-2.0, 1.0, 4.0])
MIXTURE_VAR = np.array([0.5, 1.0, 2.5])


def mixture_network():
    return BayesianNetwork({
        "z": Categorical(["a", "b", "c"], table=MIXTURE_PI),
        "x": LinearGaussian(parents=["z"], intercept=MIXTURE_MU, variance=MIXTURE_VAR),
    })


def test_mixture_samples_have_the_mixture_mean_and_law_of_total_variance():
    n = 200_000
    sample = mixture_network().sample(n, seed=11)
    x = sample["x"].to_numpy()
    mean = MIXTURE_PI @ MIXTURE_MU
    variance = MIXTURE_PI @ MIXTURE_VAR + MIXTURE_PI @ (MIXTURE_MU - mean) ** 2  # E[Var] + Var[E]
    # central fourth moment of the mixture, for the standard error of the sample variance
    d = MIXTURE_MU - mean
    fourth = MIXTURE_PI @ (d**4 + 6 * d**2 * MIXTURE_VAR + 3 * MIXTURE_VAR**2)
    k = 5.0
    assert abs(x.mean() - mean) < k * np.sqrt(variance / n)
    assert abs(x.var() - variance) < k * np.sqrt((fourth - variance**2) / n)
    # the discrete parent's frequencies, and each component's mean and variance
    codes = sample["z"].cat.codes.to_numpy()
    for state in range(3):
        rows = codes == state
        m = rows.sum()
        assert abs(m / n - MIXTURE_PI[state]) < k * np.sqrt(MIXTURE_PI[state] * (1 - MIXTURE_PI[state]) / n)
        assert abs(x[rows].mean() - MIXTURE_MU[state]) < k * np.sqrt(MIXTURE_VAR[state] / m)
        assert abs(x[rows].var() - MIXTURE_VAR[state]) < k * MIXTURE_VAR[state] * np.sqrt(2.0 / m)


def test_mixture_log_likelihood_is_log_pi_plus_normal_logpdf():
    net = mixture_network()
    rng = np.random.default_rng(12)
    z = rng.integers(0, 3, 50)
    x = rng.normal(0.0, 3.0, 50)
    data = pd.DataFrame({"z": np.array(["a", "b", "c"])[z], "x": x})
    expected = np.log(MIXTURE_PI[z]) + scipy.stats.norm.logpdf(x, MIXTURE_MU[z], np.sqrt(MIXTURE_VAR[z]))
    np.testing.assert_allclose(net.log_likelihood(data), expected, rtol=1e-12)


def clg_data(n=3000, seed=13):
    """y | u, s, t: discrete s (2 states), t (3 states), continuous u; coefficients per (s, t)."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    t = rng.integers(0, 3, n)
    u = rng.normal(0.0, 2.0, n)
    intercept = np.arange(6.0).reshape(2, 3) - 2.5
    slope = np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -3.0]])
    sd = np.array([[0.5, 1.0, 1.5], [2.0, 0.3, 0.8]])
    y = intercept[s, t] + slope[s, t] * u + sd[s, t] * rng.standard_normal(n)
    frame = pd.DataFrame({
        "s": np.array(["lo", "hi"])[s], "t": np.array(["x", "y", "z"])[t], "u": u, "y": y,
    })
    return frame, s, t


def clg_network():
    return BayesianNetwork({
        "s": Categorical(["lo", "hi"], table=[0.5, 0.5]),
        "t": Categorical(["x", "y", "z"], table=[1 / 3, 1 / 3, 1 / 3]),
        "u": Gaussian(),
        # continuous and discrete parents interleaved
        "y": LinearGaussian(parents=["t", "u", "s"]),
    })


def test_clg_fit_equals_lstsq_on_each_configurations_rows():
    data, s, t = clg_data()
    fitted = clg_network().fit(data)
    cpd = fitted["y"]
    assert cpd.discrete_parents == ("t", "s")
    assert cpd.intercept.shape == (3, 2) and cpd.weights.shape == (3, 2, 1) and cpd.variance.shape == (3, 2)
    u, y = data["u"].to_numpy(), data["y"].to_numpy()
    for i in range(3):
        for j in range(2):
            rows = (t == i) & (s == j)
            b0, w, var = ols(u[rows, None], y[rows])
            np.testing.assert_allclose(cpd.intercept[i, j], b0, rtol=RTOL)
            np.testing.assert_allclose(cpd.weights[i, j], w, rtol=RTOL)
            np.testing.assert_allclose(cpd.variance[i, j], var, rtol=RTOL)


def test_weighted_clg_fit_equals_weighted_lstsq_per_configuration():
    data, s, t = clg_data(seed=14)
    weights = np.random.default_rng(15).exponential(1.0, len(data))
    cpd = clg_network().fit(data, weights=weights)["y"]
    u, y = data["u"].to_numpy(), data["y"].to_numpy()
    for i in range(3):
        for j in range(2):
            rows = (t == i) & (s == j)
            b0, w, var = ols(u[rows, None], y[rows], weights[rows])
            np.testing.assert_allclose(
                [cpd.intercept[i, j], *cpd.weights[i, j], cpd.variance[i, j]], [b0, *w, var], rtol=RTOL
            )


def test_clg_log_likelihood_uses_each_rows_configuration():
    data, s, t = clg_data(n=200, seed=16)
    net = clg_network()
    fitted = net.fit(clg_data(seed=17)[0])
    cpd = fitted["y"]
    u, y = data["u"].to_numpy(), data["y"].to_numpy()
    mean = cpd.intercept[t, s] + cpd.weights[t, s, 0] * u
    expected = (
        np.log(fitted["s"].table[s])
        + np.log(fitted["t"].table[t])
        + scipy.stats.norm.logpdf(u, fitted["u"].intercept, np.sqrt(fitted["u"].variance))
        + scipy.stats.norm.logpdf(y, mean, np.sqrt(cpd.variance[t, s]))
    )
    np.testing.assert_allclose(fitted.log_likelihood(data), expected, rtol=1e-10)


# ---------------------------------------------------------------------- 6. additive statistics
def test_statistics_of_two_chunks_add_up_to_the_fit_of_their_concatenation():
    data, _, _ = clg_data(seed=18)
    net = clg_network().with_cpd(
        "y", LinearGaussian(parents=["s", "u"], features=["u", Monomial({"u": 2})])
    )
    first, second = data.iloc[:1234], data.iloc[1234:]
    combined = net.from_statistics(net.statistics(first) + net.statistics(second))
    whole = net.fit(data)
    for node in ("u", "y"):
        np.testing.assert_allclose(combined[node].intercept, whole[node].intercept, rtol=1e-12)
        np.testing.assert_allclose(combined[node].weights, whole[node].weights, rtol=1e-12)
        np.testing.assert_allclose(combined[node].variance, whole[node].variance, rtol=1e-12)
    stats = net.statistics(first) + net.statistics(second)
    assert stats.total_weight == len(data)
    stacked = sum([net.statistics(data.iloc[k:k + 500]) for k in range(0, len(data), 500)])
    np.testing.assert_allclose(stacked["y"], net.statistics(data)["y"], rtol=1e-12)


def test_statistics_of_many_rows_spanning_internal_chunks_equal_weight_means_and_centred_comoments():
    # more rows than pgm's internal chunk of 65,536 rows
    rng = np.random.default_rng(19)
    n = 150_000
    x = rng.normal(size=n)
    y = 1.0 + 0.5 * x + rng.normal(size=n)
    net = BayesianNetwork({"x": Gaussian(), "y": LinearGaussian(parents=["x"])})
    stats = net.statistics(pd.DataFrame({"x": x, "y": y}))
    z = np.column_stack([x, y])
    mean = z.mean(axis=0)
    comoments = (z - mean).T @ (z - mean)
    expected = np.block([[np.array([[n]]), mean[None, :]], [mean[:, None], comoments]])
    np.testing.assert_allclose(stats["y"], expected, rtol=1e-10, atol=1e-12)
    assert stats.total_weight == n


def test_a_weight_of_two_is_the_same_as_duplicating_the_row():
    data, _, _ = clg_data(n=600, seed=20)
    net = clg_network()
    weights = np.ones(len(data))
    doubled = np.arange(0, len(data), 4)
    weights[doubled] = 2.0
    weighted = net.fit(data, weights=weights)
    duplicated = net.fit(pd.concat([data, data.iloc[doubled]], ignore_index=True))
    for node in ("u", "y"):
        np.testing.assert_allclose(weighted[node].intercept, duplicated[node].intercept, rtol=1e-12)
        np.testing.assert_allclose(weighted[node].weights, duplicated[node].weights, rtol=1e-12)
        np.testing.assert_allclose(weighted[node].variance, duplicated[node].variance, rtol=1e-12)
    for node in ("s", "t"):
        np.testing.assert_allclose(weighted[node].table, duplicated[node].table, rtol=1e-12)


# ---------------------------------------------------------------------- 7. ridge prior
def ridge_closed_form(design, y, alpha, weights=None):
    n = len(y)
    a = np.column_stack([np.ones(n), design])
    w = np.ones(n) if weights is None else weights
    penalty = alpha * np.diag([0.0] + [1.0] * design.shape[1])
    theta = np.linalg.solve(a.T @ (a * w[:, None]) + penalty, a.T @ (w * y))
    rss = np.sum(w * (y - a @ theta) ** 2)
    return theta, (rss + alpha * theta[1:] @ theta[1:]) / w.sum()


@pytest.mark.parametrize("alpha", [0.1, 5.0, 300.0])
def test_ridge_weights_equal_the_closed_form_penalising_all_but_the_intercept(alpha):
    data = two_parent_data(n=80, seed=21)
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    fitted = net.fit(data, prior=Ridge(alpha))
    theta, variance = ridge_closed_form(data[["x1", "x2"]].to_numpy(), data["y"].to_numpy(), alpha)
    np.testing.assert_allclose(fitted["y"].intercept, theta[0], rtol=1e-10)
    np.testing.assert_allclose(fitted["y"].weights, theta[1:], rtol=1e-10)
    # documented: the variance includes the penalty, (RSS + alpha |w|^2) / n
    np.testing.assert_allclose(fitted["y"].variance, variance, rtol=1e-10)
    # a root node has no weights to penalise: its fit is unchanged
    np.testing.assert_allclose(fitted["x1"].intercept, data["x1"].mean(), rtol=1e-12)


def test_ridge_fits_a_collinear_design_that_least_squares_rejects():
    rng = np.random.default_rng(22)
    n = 100
    x1 = rng.normal(size=n)
    data = pd.DataFrame({"x1": x1, "x2": 2.0 * x1, "y": 1.0 + x1 + rng.normal(0.0, 0.1, n)})
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    with pytest.raises(SingularDesignError):
        net.fit(data)
    fitted = net.fit(data, prior=Ridge(2.0))
    theta, _ = ridge_closed_form(data[["x1", "x2"]].to_numpy(), data["y"].to_numpy(), 2.0)
    np.testing.assert_allclose([fitted["y"].intercept, *fitted["y"].weights], theta, rtol=1e-9)


def test_weighted_ridge_on_a_clg_node_is_the_closed_form_in_each_configuration():
    data, s, t = clg_data(n=400, seed=23)
    weights = np.random.default_rng(24).uniform(0.5, 2.0, len(data))
    net = clg_network()
    cpd = net.fit(data, prior=Ridge(3.0), weights=weights)["y"]
    u, y = data["u"].to_numpy(), data["y"].to_numpy()
    for i in range(3):
        for j in range(2):
            rows = (t == i) & (s == j)
            theta, variance = ridge_closed_form(u[rows, None], y[rows], 3.0, weights[rows])
            np.testing.assert_allclose([cpd.intercept[i, j], *cpd.weights[i, j]], theta, rtol=1e-10)
            np.testing.assert_allclose(cpd.variance[i, j], variance, rtol=1e-10)


# ---------------------------------------------------------------------- 8. JSON round trip
def feature_network():
    return BayesianNetwork({
        "x1": Gaussian(mean=0.1, variance=1.7),
        "x2": LinearGaussian(parents=["x1"], intercept=-0.3, weights=[0.45], variance=0.61),
        "y": LinearGaussian(
            parents=["x1", "x2"],
            features=[*polynomial("x1", 3), Function("sin", "x2"), RadialBasis("x2", -0.25, 0.7),
                      Monomial({"x1": 1, "x2": 2})],
            intercept=1 / 3, weights=[0.1, -0.2, 1 / 7, 2.0, -1.5, np.pi], variance=0.123456789,
        ),
    }, name="features")


@pytest.mark.parametrize("build", [
    lambda: BayesianNetwork({n: LinearGaussian(parents=p) for n, p in GAUSSIAN_TEST_PARENTS.items()},
                            name="gaussian").fit(pgm.datasets.gaussian_test()),
    feature_network,
    lambda: clg_network().fit(clg_data(seed=25)[0]),
], ids=["linear-gaussian", "polynomial-features", "clg"])
def test_json_round_trip_is_exact(build, tmp_path):
    net = build()
    path = tmp_path / "net.json"
    net.write(path)
    back = pgm.read(path)
    assert back == net
    assert back.nodes == net.nodes
    assert back.name == net.name
    for node in net.nodes:
        assert back[node].parents == net[node].parents
        if not net[node].is_discrete:
            assert back[node].features == net[node].features
            assert np.array_equal(back[node].weights, net[node].weights)
    rows = net.sample(500, seed=26)
    assert np.array_equal(back.log_likelihood(rows), net.log_likelihood(rows))


def test_changed_parameters_make_networks_unequal():
    net = feature_network()
    other = net.with_cpd("x2", LinearGaussian(parents=["x1"], intercept=-0.3, weights=[0.45], variance=0.62))
    assert other != net
    other = net.with_cpd("y", LinearGaussian(parents=["x1", "x2"]))
    assert other != net


# ---------------------------------------------------------------------- 9. errors
@pytest.mark.parametrize("variance", [0.0, -1.0, np.nan])
def test_non_positive_variance_is_rejected_naming_the_node(variance):
    with pytest.raises(CPDError, match=r"variance of 'x'.*must be positive|variance of 'x'.*not finite"):
        BayesianNetwork({"x": Gaussian(mean=0.0, variance=variance)})


def test_non_positive_variance_of_one_configuration_names_the_configuration():
    with pytest.raises(CPDError, match=r"variance of 'x' is -2\.0 at z=b; it must be positive"):
        BayesianNetwork({
            "z": Categorical(["a", "b", "c"], table=[0.2, 0.3, 0.5]),
            "x": LinearGaussian(parents=["z"], intercept=[0, 1, 2], variance=[1.0, -2.0, 1.0]),
        })


@pytest.mark.parametrize("what, kwargs, expected", [
    ("intercept", {"intercept": [0.0, 1.0, 2.0]}, "(2,)"),
    ("weights", {"weights": [[1.0, 2.0], [3.0, 4.0]]}, "(2, 1)"),
    ("weights", {"weights": [1.0]}, "(2, 1)"),
    ("variance", {"variance": [1.0, 2.0, 3.0]}, "(2,)"),
])
def test_wrongly_shaped_parameters_per_configuration_are_rejected_with_expected_shape(what, kwargs, expected):
    with pytest.raises(CPDError, match=re.escape(f"{what} of 'y' has shape") + r".*" + re.escape(f"expected {expected}")):
        BayesianNetwork({
            "z": Categorical(["a", "b"], table=[0.5, 0.5]),
            "u": Gaussian(),
            "y": LinearGaussian(parents=["z", "u"], **kwargs),
        })


def test_weights_without_discrete_parents_must_have_one_entry_per_feature():
    with pytest.raises(CPDError, match=re.escape("weights of 'y' has shape (3,), expected (2,)")):
        two_parent_network(LinearGaussian(parents=["x1", "x2"], weights=[1.0, 2.0, 3.0]))


def test_weights_dict_on_a_clg_node_broadcasts_scalars_over_configurations():
    # documented: a dict from parent to coefficient is accepted with the default features,
    # and scalars broadcast over discrete-parent configurations
    net = BayesianNetwork({
        "z": Categorical(["a", "b"], table=[0.5, 0.5]),
        "u": Gaussian(),
        "y": LinearGaussian(parents=["z", "u"], intercept=[0.0, 1.0], weights={"u": 2.0}, variance=1.0),
    })
    np.testing.assert_array_equal(net["y"].weights, [[2.0], [2.0]])


def test_number_of_free_parameters_counts_intercept_weights_and_variance_per_configuration():
    net = clg_network()
    # s: 1, t: 2, u: mean + variance, y: 6 configurations x (intercept + 1 weight + variance)
    assert net["y"].n_free_parameters == 6 * 3
    assert net.n_free_parameters == 1 + 2 + 2 + 18
    assert feature_network()["y"].n_free_parameters == 6 + 2


def test_weights_dict_must_name_exactly_the_parents():
    with pytest.raises(CPDError, match=r"weights of 'y' name 'x3'"):
        two_parent_network(LinearGaussian(parents=["x1", "x2"], weights={"x1": 1.0, "x3": 2.0}))
    with pytest.raises(CPDError, match=r"weights of 'y' give no coefficient for parent 'x2'"):
        two_parent_network(LinearGaussian(parents=["x1", "x2"], weights={"x1": 1.0}))


def test_a_discrete_node_with_a_continuous_parent_is_a_structure_error():
    with pytest.raises(StructureError, match=r"node 'd' is discrete but its parent 'x' is continuous"):
        BayesianNetwork({"x": Gaussian(), "d": Categorical(["no", "yes"], parents=["x"], table=[[0.5, 0.5]])})


def test_a_feature_of_a_non_parent_is_rejected_naming_feature_and_node():
    with pytest.raises(CPDError, match=r"feature x2\^2 of 'y' uses 'x2', which is not a parent of 'y'"):
        two_parent_network(LinearGaussian(parents=["x1"], features=["x1", Monomial({"x2": 2})]))


def test_a_feature_of_a_discrete_parent_is_rejected():
    with pytest.raises(CPDError, match=r"feature sin\(z\) of 'y' uses the discrete parent 'z'"):
        BayesianNetwork({
            "z": Categorical(["a", "b"], table=[0.5, 0.5]),
            "y": LinearGaussian(parents=["z"], features=[Function("sin", "z")]),
        })


def test_a_continuous_parent_that_no_feature_uses_is_rejected():
    with pytest.raises(CPDError, match=r"continuous parent 'x2' of 'y' is used by none of its features"):
        two_parent_network(LinearGaussian(parents=["x1", "x2"], features=polynomial("x1", 2)))


def test_invalid_feature_declarations_are_rejected():
    with pytest.raises(CPDError, match="unknown feature function 'sinh'"):
        Function("sinh", "x")
    with pytest.raises(CPDError, match="positive width"):
        RadialBasis("x", 0.0, 0.0)
    with pytest.raises(CPDError, match="positive integer"):
        Monomial({"x": 0})
    with pytest.raises(CPDError, match="polynomial degree"):
        polynomial("x", 0)


def test_a_feature_undefined_for_the_data_names_the_feature():
    net = BayesianNetwork({"x": Gaussian(), "y": LinearGaussian(parents=["x"], features=[Function("log", "x")])})
    data = pd.DataFrame({"x": [1.0, 2.0, -1.0, 3.0], "y": [0.0, 1.0, 2.0, 3.0]})
    with pytest.raises(DataError, match=r"feature log\(x\) is not finite at x = -1.0"):
        net.fit(data)


def test_a_feature_that_overflows_names_the_value():
    net = BayesianNetwork({"x": Gaussian(), "y": LinearGaussian(parents=["x"], features=[Function("exp", "x")])})
    data = pd.DataFrame({"x": [1.0, 800.0], "y": [0.0, 1.0]})
    with pytest.raises(DataError, match=r"feature exp\(x\) is not finite at x = 800.0"):
        net.log_likelihood(data)


def test_collinear_parents_raise_singular_design_error_naming_the_node():
    rng = np.random.default_rng(27)
    x1 = rng.normal(size=50)
    data = pd.DataFrame({"x1": x1, "x2": 2.0 * x1, "y": rng.normal(size=50)})
    with pytest.raises(SingularDesignError, match=r"design of node 'y' is rank deficient"):
        two_parent_network(LinearGaussian(parents=["x1", "x2"])).fit(data)


def fit_only_y(cpd_of_y, data):
    """Fit node y alone (its parents may be degenerate as nodes of their own)."""
    net = two_parent_network(cpd_of_y)
    y = net["y"]
    columns = {name: data[name].to_numpy(dtype=float) for name in data.columns}
    return y.from_statistics(y.statistics(columns["y"], columns))


@pytest.mark.parametrize("value", [3.0, 0.0])
def test_a_constant_feature_cannot_be_told_apart_from_the_intercept(value):
    rng = np.random.default_rng(28)
    data = pd.DataFrame({"x1": np.full(30, value), "x2": rng.normal(size=30), "y": rng.normal(size=30)})
    with pytest.raises(SingularDesignError, match=r"feature x1 of node 'y' is constant"):
        fit_only_y(LinearGaussian(parents=["x1", "x2"]), data)


def test_a_constant_continuous_node_has_no_density():
    rng = np.random.default_rng(29)
    data = pd.DataFrame({"x1": np.full(30, 3.0), "x2": rng.normal(size=30), "y": rng.normal(size=30)})
    with pytest.raises(SingularDesignError, match=r"node 'x1' takes a single value \(total weight 30\), so its variance is zero"):
        two_parent_network(LinearGaussian(parents=["x1", "x2"])).fit(data)


def test_fewer_rows_than_coefficients_is_a_singular_design():
    data = two_parent_data(n=2, seed=30)
    with pytest.raises(SingularDesignError, match=r"node 'y'"):
        two_parent_network(LinearGaussian(parents=["x1", "x2"])).fit(data)


def test_collinearity_within_one_configuration_names_that_configuration():
    rng = np.random.default_rng(31)
    n = 200
    z = np.array(["a", "b"])[rng.integers(0, 2, n)]
    u1 = rng.normal(size=n)
    u2 = np.where(z == "b", 2.0 * u1, rng.normal(size=n))
    data = pd.DataFrame({"z": z, "u1": u1, "u2": u2, "y": rng.normal(size=n)})
    net = BayesianNetwork({
        "z": Categorical(["a", "b"], table=[0.5, 0.5]),
        "u1": Gaussian(), "u2": Gaussian(),
        "y": LinearGaussian(parents=["z", "u1", "u2"]),
    })
    with pytest.raises(SingularDesignError, match=r"design of node 'y' at z=b is rank deficient"):
        net.fit(data)


def test_a_configuration_without_rows_is_named():
    net = mixture_network()
    data = pd.DataFrame({"z": ["a", "b", "a", "b", "a"], "x": [0.0, 1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(SingularDesignError, match=r"node 'x' has no data at z=c"):
        net.fit(data)


def test_a_configuration_with_only_zero_weight_rows_has_no_data():
    net = mixture_network()
    data = pd.DataFrame({"z": ["a", "b", "c", "c", "a", "b"], "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]})
    with pytest.raises(SingularDesignError, match=r"node 'x' has no data at z=c"):
        net.fit(data, weights=[1.0, 1.0, 0.0, 0.0, 1.0, 1.0])


def test_non_numeric_value_in_a_continuous_column_names_column_and_row():
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    data = two_parent_data(n=6, seed=32).astype(object)
    data.loc[4, "x2"] = "4.2kg"
    with pytest.raises(DataError, match=r"column 'x2', row 4: '4\.2kg' is not a number"):
        net.fit(data)
    with pytest.raises(DataError, match=r"column 'x2', row 4: '4\.2kg' is not a number"):
        net.log_likelihood(data)
    labelled = data.set_axis([f"r{i}" for i in range(6)])
    with pytest.raises(DataError, match=r"column 'x2', row 4 \(index 'r4'\)"):
        net.fit(labelled)


def test_a_missing_child_value_leaves_the_complete_rows_least_squares():
    # y missing where its parents are observed: the row says nothing about y's regression,
    # so EM's fixed point is least squares on the other rows
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    data = two_parent_data(n=12, seed=33)
    data.loc[3, "y"] = np.nan
    fitted = net.fit(data, tol=1e-15, max_iter=2000, seed=0)
    kept = data.dropna()
    design = np.column_stack([np.ones(len(kept)), kept["x1"], kept["x2"]])
    theta, *_ = np.linalg.lstsq(design, kept["y"].to_numpy(), rcond=None)
    assert fitted["y"].intercept == pytest.approx(theta[0], rel=1e-6)
    np.testing.assert_allclose(fitted["y"].weights, theta[1:], rtol=1e-6)
    assert fitted.fit_report_.n_rows == 12


@pytest.mark.parametrize("weights, culprit", [([1, 1, -1, 1, 1, 1], "row 2"), ([1, 1, 1, np.inf, 1, 1], "row 3")])
def test_negative_or_infinite_weights_are_refused_naming_the_row(weights, culprit):
    net = two_parent_network(LinearGaussian(parents=["x1", "x2"]))
    with pytest.raises(DataError, match=culprit):
        net.fit(two_parent_data(n=6, seed=34), weights=weights)


@pytest.mark.parametrize("value, n", [(0.1, 3), (0.1, 1000), (1 / 3, 1000), (123.456, 100_003)])
def test_a_constant_node_is_detected_despite_rounding(value, n):
    net = BayesianNetwork({"x": Gaussian()})
    with pytest.raises(SingularDesignError, match="'x' takes a single value"):
        net.fit(pd.DataFrame({"x": np.full(n, value)}))


def test_a_constant_parent_is_detected_despite_rounding():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"x1": np.full(1000, 1 / 3), "x2": rng.normal(size=1000), "y": rng.normal(size=1000)})
    with pytest.raises(SingularDesignError, match="feature x1 of node 'y' is constant"):
        fit_only_y(LinearGaussian(parents=["x1", "x2"]), data)


def test_small_spread_far_from_zero_is_not_mistaken_for_a_constant():
    values = 1e5 + np.random.default_rng(0).normal(0, 0.01, 1000)
    fitted = BayesianNetwork({"x": Gaussian()}).fit(pd.DataFrame({"x": values}))
    assert float(fitted["x"].variance) == pytest.approx(values.var(), rel=1e-9)


def test_clg_parameters_may_be_given_one_per_configuration_flattened():
    net = BayesianNetwork({
        "a": pgm.Bernoulli(0.5), "b": pgm.Bernoulli(0.5),
        "y": LinearGaussian(parents=["a", "b"], intercept=[1.0, 2.0, 3.0, 4.0], variance=[1.0, 2.0, 3.0, 4.0]),
    })
    np.testing.assert_array_equal(net["y"].intercept, [[1.0, 2.0], [3.0, 4.0]])


def test_equal_features_hash_equally_whatever_the_order_of_their_powers():
    from pgm.cpds.features import Monomial

    first, second = Monomial({"x": 1, "y": 2}), Monomial({"y": 2, "x": 1})
    assert first == second and hash(first) == hash(second) and len({first, second}) == 1
