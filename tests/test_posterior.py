"""Parameter posteriors against hand-computed conjugate updates, scipy, and the chain rule of evidence."""

import numpy as np
import pandas as pd
import pytest
import scipy.special
import scipy.stats

import pgm
from pgm.errors import CPDError, NodeError


@pytest.fixture(scope="module")
def asia():
    return pgm.load("asia")


@pytest.fixture(scope="module")
def asia_rows(asia):
    return asia.sample(3000, seed=11)


def counts_by_hand(net, rows, node):
    """Counts of (parents..., node) by pandas grouping: independent of pgm's bincount statistics."""
    cpd = net[node]
    levels = [list(net.states(p)) for p in cpd.parents] + [list(cpd.domain)]
    index = pd.MultiIndex.from_product(levels)
    keys = [rows[c].astype(str) for c in [*cpd.parents, node]]
    grouped = pd.Series(1, index=rows.index).groupby(keys).sum()
    grouped.index = pd.MultiIndex.from_tuples(grouped.index if len(keys) > 1 else [(k,) for k in grouped.index])
    return grouped.reindex(index, fill_value=0).to_numpy(dtype=float).reshape(cpd.table_shape)


def bdeu_by_hand(net, rows, ess):
    """The BDeu score from its textbook formula, one parent configuration at a time."""
    total = 0.0
    lg = scipy.special.gammaln
    for node in net.nodes:
        cpd = net[node]
        counts = counts_by_hand(net, rows, node).reshape(-1, len(cpd.domain))
        q, r = counts.shape
        a_ij, a_ijk = ess / q, ess / (q * r)
        for row in counts:
            total += lg(a_ij) - lg(a_ij + row.sum()) + sum(lg(a_ijk + n) - lg(a_ijk) for n in row)
    return total


def test_dirichlet_posterior_is_prior_plus_counts(asia, asia_rows):
    post = asia.parameter_posterior(asia_rows, prior=pgm.Dirichlet(0.5))
    for node in asia.nodes:
        np.testing.assert_array_equal(post[node].concentration, 0.5 + counts_by_hand(asia, asia_rows, node))


def test_per_node_prior_arrays(asia, asia_rows):
    alpha = np.array([[2.0, 3.0], [4.0, 5.0]])
    post = asia.parameter_posterior(asia_rows, prior=[pgm.Dirichlet({"tub": alpha}), pgm.Dirichlet(1)])
    np.testing.assert_array_equal(post["tub"].concentration, alpha + counts_by_hand(asia, asia_rows, "tub"))
    np.testing.assert_array_equal(post["smoke"].concentration, 1 + counts_by_hand(asia, asia_rows, "smoke"))


def test_sequential_updates_equal_the_batch_exactly(asia, asia_rows):
    prior = pgm.BDeu(3)
    batch = asia.parameter_posterior(asia_rows, prior=prior)
    step = asia.parameter_posterior(asia_rows[:1], prior=prior)
    for start in range(1, 3000, 700):
        step = step.update(asia_rows[start:start + 700])
    for node in asia.nodes:
        np.testing.assert_array_equal(step[node].concentration, batch[node].concentration)
    assert step.log_marginal_likelihood() == batch.log_marginal_likelihood()


@pytest.mark.parametrize("ess", [0.5, 1.0, 10.0])
def test_log_marginal_likelihood_is_the_bdeu_score(asia, asia_rows, ess):
    post = asia.parameter_posterior(asia_rows, prior=pgm.BDeu(ess))
    assert post.log_marginal_likelihood() == pytest.approx(bdeu_by_hand(asia, asia_rows, ess), rel=1e-12)


def test_k2_score_and_the_chain_rule_of_evidence():
    """log p(D) = sum_i log p(x_i | x_<i): the evidence equals the product of one-step posterior predictives."""
    survey = pgm.load("survey")
    rows = survey.sample(60, seed=3)
    prior = pgm.Dirichlet(1)
    evidence = survey.parameter_posterior(rows, prior=prior).log_marginal_likelihood()
    running = survey.parameter_posterior(rows[:0], prior=prior)
    chain = 0.0
    for i in range(len(rows)):
        chain += float(running.predictive_log_likelihood(rows[i:i + 1])[0])
        running = running.update(rows[i:i + 1])
    assert evidence == pytest.approx(chain, rel=1e-12)


def test_credible_intervals_are_beta_quantiles(asia, asia_rows):
    post = asia.parameter_posterior(asia_rows, prior=pgm.Dirichlet(1))
    frame = post.credible_interval("dysp", level=0.9)
    alpha = 1 + counts_by_hand(asia, asia_rows, "dysp")
    rest = alpha.sum(axis=-1, keepdims=True) - alpha
    np.testing.assert_allclose(frame["lower"].to_numpy(), scipy.stats.beta.ppf(0.05, alpha, rest).reshape(-1), rtol=1e-12)
    np.testing.assert_allclose(frame["upper"].to_numpy(), scipy.stats.beta.ppf(0.95, alpha, rest).reshape(-1), rtol=1e-12)
    assert list(frame.index.names) == ["tub", "either", "dysp state"] or len(frame) == alpha.size
    # a wider level gives a wider interval
    wide = post.credible_interval("dysp", level=0.99)
    assert ((wide["upper"] - wide["lower"]) > (frame["upper"] - frame["lower"])).all()


def test_mean_and_map_point_estimates(asia, asia_rows):
    post = asia.parameter_posterior(asia_rows, prior=pgm.Dirichlet(2))
    counts = counts_by_hand(asia, asia_rows, "lung")
    k = counts.shape[-1]
    np.testing.assert_allclose(post.mean()["lung"].table, (counts + 2) / (counts.sum(-1, keepdims=True) + 2 * k), rtol=1e-14)
    np.testing.assert_allclose(post.map()["lung"].table, (counts + 1) / (counts.sum(-1, keepdims=True) + k), rtol=1e-14)
    # the point-estimate priors say the same: mean by default, mode on request
    assert asia.fit(asia_rows, prior=pgm.Dirichlet(2)) == post.mean()
    fitted_map = asia.fit(asia_rows, prior=pgm.Dirichlet(2, estimate="map"))
    np.testing.assert_allclose(fitted_map["lung"].table, post.map()["lung"].table, rtol=1e-14)


def test_sampled_networks_average_to_the_posterior_mean(asia):
    rows = asia.sample(40, seed=5)
    post = asia.parameter_posterior(rows, prior=pgm.Dirichlet(1))
    k = 4000
    draws = np.stack([net["either"].table for net in post.sample_networks(k, seed=7)])
    alpha = post["either"].concentration
    alpha0 = alpha.sum(-1, keepdims=True)
    mean = alpha / alpha0
    standard_error = np.sqrt(mean * (1 - mean) / (alpha0 + 1) / k)
    assert (np.abs(draws.mean(axis=0) - mean) <= 4 * standard_error + 1e-15).all()
    assert post.sample_networks(2, seed=7) == post.sample_networks(2, seed=7)  # a seed makes draws reproducible


def test_credible_level_and_prior_errors(asia, asia_rows):
    post = asia.parameter_posterior(asia_rows)
    for level in (0, 1, 1.5, -0.1, "high"):
        with pytest.raises(ValueError, match="credible level"):
            post.credible_interval("lung", level=level)
    with pytest.raises(CPDError, match="non-negative"):
        pgm.Dirichlet(-1)
    with pytest.raises(NodeError, match="lugn"):
        asia.parameter_posterior(asia_rows, prior=pgm.Dirichlet({"lugn": 1.0}))
    with pytest.raises(CPDError, match="point-estimate prior"):
        asia.parameter_posterior(asia_rows, prior=pgm.Ridge(1.0))
    with pytest.raises(CPDError, match="zero concentration"):
        asia.parameter_posterior(asia_rows, prior=pgm.Dirichlet(0))
    with pytest.raises(CPDError, match="no conjugate prior"):
        asia.parameter_posterior(asia_rows, prior=pgm.Dirichlet({"lung": 1.0}))
    sparse = asia.parameter_posterior(asia_rows[:5], prior=pgm.Dirichlet(0.5))
    with pytest.raises(CPDError, match="below 1"):
        sparse.map()


# ---------------------------------------------------------------------- linear Gaussian nodes
@pytest.fixture(scope="module")
def regression():
    """y = 1 + 2 x - z + noise, a CLG node with a discrete parent too."""
    rng = np.random.default_rng(0)
    n = 400
    x, z = rng.normal(size=n), rng.normal(3, 2, size=n)
    g = rng.integers(0, 2, size=n)
    y = 1 + 2 * x - z + 0.5 * g + rng.normal(0, 0.7, size=n)
    data = pd.DataFrame({"x": x, "z": z, "g": pd.Categorical.from_codes(g, ["a", "b"]), "y": y})
    net = pgm.BayesianNetwork({
        "x": pgm.LinearGaussian.unfitted(), "z": pgm.LinearGaussian.unfitted(), "g": pgm.Categorical(["a", "b"]),
        "y": pgm.LinearGaussian.unfitted(parents=["g", "x", "z"]),
    })
    return net, data


def textbook_update(design, y, m0, l0, a0, b0):
    """Bayesian linear regression from raw normal equations (the textbook form)."""
    ln = l0 + design.T @ design
    mn = np.linalg.solve(ln, l0 @ m0 + design.T @ y)
    an = a0 + len(y) / 2
    bn = b0 + 0.5 * (y @ y + m0 @ l0 @ m0 - mn @ ln @ mn)
    return mn, ln, an, bn


def test_normal_inverse_gamma_posterior_is_the_textbook_update(regression):
    net, data = regression
    l0 = np.diag([0.1, 0.5, 2.0])
    m0 = np.array([0.5, -1.0, 0.3])
    prior = pgm.NormalInverseGamma(precision=l0, shape=2.0, scale=3.0, mean=m0)
    post = net.parameter_posterior(data, prior=[pgm.Dirichlet(1), {"y": prior}, pgm.NormalInverseGamma()])["y"]
    for config, label in enumerate(["a", "b"]):
        rows = data[data["g"] == label]
        design = np.column_stack([np.ones(len(rows)), rows["x"], rows["z"]])
        mn, ln, an, bn = textbook_update(design, rows["y"].to_numpy(), m0, l0, 2.0, 3.0)
        np.testing.assert_allclose(post.mean[config], mn, rtol=1e-10)
        np.testing.assert_allclose(post.precision[config], ln, rtol=1e-12)
        assert post.shape[config] == an
        assert post.scale[config] == pytest.approx(bn, rel=1e-9)


def test_gaussian_evidence_is_the_multivariate_t_density(regression):
    """y | A ~ t_{2 a0}(A m0, (b0 / a0)(I + A L0^-1 A^T)) with the parameters integrated out."""
    net, data = regression
    small = data.iloc[:30]
    prior = [pgm.Dirichlet(1), pgm.NormalInverseGamma(precision=0.3, shape=1.5, scale=2.0, mean=0.2)]
    post = net.parameter_posterior(small, prior=prior)
    y_evidence = post["y"].log_marginal_likelihood()
    expected = 0.0
    for label in ["a", "b"]:
        rows = small[small["g"] == label]
        design = np.column_stack([np.ones(len(rows)), rows["x"], rows["z"]])
        shape = (2.0 / 1.5) * (np.eye(len(rows)) + design @ design.T / 0.3)
        expected += scipy.stats.multivariate_t(loc=design @ np.full(3, 0.2), shape=shape, df=3.0).logpdf(rows["y"])
    assert y_evidence == pytest.approx(expected, rel=1e-10)


def test_gaussian_chain_rule_and_sequential_update(regression):
    net, data = regression
    prior = [pgm.Dirichlet(1), pgm.NormalInverseGamma(precision=0.5, shape=2.0, scale=1.0)]
    small = data.iloc[:25]
    evidence = net.parameter_posterior(small, prior=prior).log_marginal_likelihood()
    running = net.parameter_posterior(small.iloc[:0], prior=prior)
    chain = 0.0
    for i in range(len(small)):
        chain += float(running.predictive_log_likelihood(small.iloc[i:i + 1])[0])
        running = running.update(small.iloc[i:i + 1])
    assert evidence == pytest.approx(chain, rel=1e-10)
    whole = net.parameter_posterior(data, prior=prior)
    halves = net.parameter_posterior(data.iloc[:150], prior=prior).update(data.iloc[150:])
    np.testing.assert_allclose(halves["y"].mean, whole["y"].mean, rtol=1e-12)
    np.testing.assert_allclose(halves["y"].scale, whole["y"].scale, rtol=1e-12)


def test_gaussian_intervals_and_point_estimates(regression):
    net, data = regression
    prior = [pgm.Dirichlet(1), pgm.NormalInverseGamma(precision=1e-6, shape=1e-3, scale=1e-3)]
    post = net.parameter_posterior(data, prior=prior)
    y = post["y"]
    frame = post.credible_interval("y", level=0.95)
    cov = np.linalg.inv(y.precision[0]) * y.scale[0] / y.shape[0]
    t = scipy.stats.t.ppf(0.975, 2 * y.shape[0])
    lower = frame["lower"].to_numpy()[:3]
    np.testing.assert_allclose(lower, y.mean[0] - t * np.sqrt(np.diag(cov)), rtol=1e-10)
    assert frame["lower"].iloc[3] == pytest.approx(scipy.stats.invgamma.ppf(0.025, y.shape[0], scale=y.scale[0]))
    # a vague prior: the posterior mean is least squares, and the true coefficients lie in their intervals
    fitted = net.fit(data)
    mean_net = post.mean()
    np.testing.assert_allclose(mean_net["y"].weights, fitted["y"].weights, rtol=1e-4)
    truth = {("a", "intercept"): 1.0, ("a", "x"): 2.0, ("a", "z"): -1.0, ("b", "intercept"): 1.5}
    sure = post.credible_interval("y", level=0.9999)  # four checks, each failing by chance with probability 1e-4
    for (config, parameter), value in truth.items():
        row = sure.loc[(f"g={config}", parameter)]
        assert row["lower"] < value < row["upper"]
    assert post.map()["y"].variance[0] < mean_net["y"].variance[0]


def test_gaussian_prior_errors(regression):
    net, data = regression
    with pytest.raises(CPDError, match="NormalInverseGamma"):
        net.parameter_posterior(data)
    with pytest.raises(CPDError, match="3 x 3"):
        net.parameter_posterior(data, prior=[pgm.Dirichlet(1), {"y": pgm.NormalInverseGamma(precision=np.eye(2))},
                                          pgm.NormalInverseGamma()])
    with pytest.raises(CPDError, match="positive"):
        pgm.NormalInverseGamma(shape=0)
    with pytest.raises(CPDError, match="parameter_posterior"):
        net.fit(data, prior=pgm.NormalInverseGamma())


def test_pgmpy_bdeu_agrees():
    pgmpy_estimators = pytest.importorskip("pgmpy.estimators")
    pgmpy_models = pytest.importorskip("pgmpy.models")
    net = pgm.load("asia")
    rows = net.sample(2000, seed=2).astype(str)
    model_class = getattr(pgmpy_models, "DiscreteBayesianNetwork", None) or pgmpy_models.BayesianNetwork
    model = model_class(net.edges)
    theirs = pgmpy_estimators.BDeu(rows, equivalent_sample_size=5).score(model)
    assert net.parameter_posterior(rows, prior=pgm.BDeu(5)).log_marginal_likelihood() == pytest.approx(theirs, rel=1e-9)
