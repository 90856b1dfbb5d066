"""The joint Gaussian of a linear Gaussian network, and Gaussian conditioning.

References are computed here, independently of pgm.inference.gaussian:

- the joint by propagating means and covariances node by node in a
  topological order found with :mod:`graphlib` (mean_i = b_i + w . mean_P,
  Cov(x_i, x_k) = w . Cov(x_P, x_k), Var(x_i) = w' S_PP w + d_i), and, for
  ecoli70, by the matrix route (I - B)^-1 D (I - B)^-T with a general inverse
  in declaration order;
- densities and distances with scipy.stats / scipy.spatial;
- conditionals through the precision matrix (not the Schur complement of the
  covariance that pgm uses);
- KL divergence from the closed form with explicit inverses and slogdet.

Statistical tolerances are K standard errors computed from the sample size.
"""

from __future__ import annotations

import graphlib

import numpy as np
import pandas as pd
import pytest
import scipy.spatial.distance
import scipy.stats

import pgm
from pgm import BayesianNetwork, Categorical, Function, Gaussian, LinearGaussian, polynomial
from pgm.errors import NodeError, StructureError
from pgm.inference.gaussian import MultivariateNormal, joint_gaussian, kl_divergence

K = 5.0  # standard errors allowed in statistical comparisons (two-sided p ~ 6e-7 each)


# ---------------------------------------------------------------------- independent joint
def propagated_joint(net: BayesianNetwork):
    """Mean and covariance (in net.nodes order) by node-by-node propagation."""
    parents = {node: list(net[node].parents) for node in net.nodes}
    order = list(graphlib.TopologicalSorter(parents).static_order())
    mean, cov = {}, {}
    done = []
    for node in order:
        cpd = net[node]
        coefficient = {p: 0.0 for p in parents[node]}
        for feature, w in zip(cpd.features, cpd.weights):
            (p,) = feature.parents
            coefficient[p] += float(w)
        mean[node] = float(cpd.intercept) + sum(c * mean[p] for p, c in coefficient.items())
        for other in done:
            cov[node, other] = cov[other, node] = sum(c * cov[p, other] for p, c in coefficient.items())
        cov[node, node] = float(cpd.variance) + sum(
            a * b * cov[p, q] for p, a in coefficient.items() for q, b in coefficient.items()
        )
        done.append(node)
    nodes = net.nodes
    return (
        np.array([mean[n] for n in nodes]),
        np.array([[cov[a, b] for b in nodes] for a in nodes]),
    )


def matrix_joint(net: BayesianNetwork):
    """Mean and covariance (in net.nodes order) as (I - B)^-1 b and (I - B)^-1 D (I - B)^-T."""
    nodes = list(net.nodes)
    k = len(nodes)
    index = {n: i for i, n in enumerate(nodes)}
    b = np.zeros((k, k))
    intercept = np.array([float(net[n].intercept) for n in nodes])
    d = np.diag([float(net[n].variance) for n in nodes])
    for n in nodes:
        for feature, w in zip(net[n].features, net[n].weights):
            b[index[n], index[feature.parents[0]]] += w
    inverse = np.linalg.inv(np.eye(k) - b)
    return inverse @ intercept, inverse @ d @ inverse.T


def example_network():
    """Six nodes declared out of topological order; one node lists features in another order than its parents."""
    return BayesianNetwork({
        "f": LinearGaussian(parents=["d", "e"], intercept=0.5, weights={"d": -0.7, "e": 2.0}, variance=0.4),
        "d": LinearGaussian(parents=["b", "c"], features=["c", "b"], intercept=-1.0, weights=[0.6, -1.1], variance=0.9),
        "a": Gaussian(mean=1.0, variance=2.0),
        "c": LinearGaussian(parents=["a", "b"], intercept=2.0, weights={"a": -0.5, "b": 1.2}, variance=1.5),
        "b": LinearGaussian(parents=["a"], intercept=-1.0, weights={"a": 0.8}, variance=0.5),
        "e": Gaussian(mean=0.0, variance=0.3),
    }, name="example")


def random_rows(k, n, seed):
    return np.random.default_rng(seed).normal(0.0, 2.0, (n, k))


# ---------------------------------------------------------------------- joint mean and covariance
def test_joint_gaussian_mean_and_covariance_equal_node_by_node_propagation():
    net = example_network()
    joint = net.joint_gaussian()
    mean, cov = propagated_joint(net)
    assert joint.names == net.nodes
    np.testing.assert_allclose(joint.mean, mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(joint.covariance, cov, rtol=1e-12, atol=1e-12)


def test_the_two_independent_references_agree():
    net = example_network()
    for got, want in zip(propagated_joint(net), matrix_joint(net)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_feature_repeated_twice_adds_its_weights_in_the_joint():
    twice = BayesianNetwork({
        "x": Gaussian(mean=1.0, variance=2.0),
        "y": LinearGaussian(parents=["x"], features=["x", "x"], intercept=0.5, weights=[1.0, 2.0], variance=0.3),
    })
    once = BayesianNetwork({
        "x": Gaussian(mean=1.0, variance=2.0),
        "y": LinearGaussian(parents=["x"], intercept=0.5, weights=[3.0], variance=0.3),
    })
    np.testing.assert_allclose(twice.joint_gaussian().mean, once.joint_gaussian().mean, rtol=1e-14)
    np.testing.assert_allclose(twice.joint_gaussian().covariance, once.joint_gaussian().covariance, rtol=1e-14)
    np.testing.assert_allclose(twice.joint_gaussian().covariance, [[2.0, 6.0], [6.0, 18.3]], rtol=1e-14)


def test_per_row_log_likelihood_equals_scipy_multivariate_normal_logpdf_of_the_joint():
    net = example_network()
    mean, cov = propagated_joint(net)
    rows = random_rows(len(net), 40, seed=1) + mean
    data = pd.DataFrame(rows, columns=net.nodes)
    expected = scipy.stats.multivariate_normal(mean, cov).logpdf(rows)
    np.testing.assert_allclose(net.log_likelihood(data), expected, rtol=1e-10)
    np.testing.assert_allclose(net.joint_gaussian().logpdf(data), expected, rtol=1e-10)
    np.testing.assert_allclose(net.joint_gaussian().logpdf(rows), expected, rtol=1e-10)


def test_sample_mean_and_covariance_match_the_joint_within_standard_errors():
    net = example_network()
    n = 200_000
    mean, cov = propagated_joint(net)
    sample = net.sample(n, seed=2)[list(net.nodes)].to_numpy()
    s = np.diag(cov)
    mean_se = np.sqrt(s / n)
    assert np.all(np.abs(sample.mean(axis=0) - mean) < K * mean_se), (sample.mean(axis=0) - mean) / mean_se
    cov_se = np.sqrt((np.outer(s, s) + cov**2) / n)
    sample_cov = np.cov(sample, rowvar=False)
    assert np.all(np.abs(sample_cov - cov) < K * cov_se), (sample_cov - cov) / cov_se


def test_multivariate_normal_samples_have_its_mean_and_covariance():
    mean, cov = propagated_joint(example_network())
    mvn = MultivariateNormal(example_network().nodes, mean, cov)
    n = 200_000
    sample = mvn.sample(n, seed=3)
    s = np.diag(cov)
    assert np.all(np.abs(sample.mean(axis=0) - mean) < K * np.sqrt(s / n))
    assert np.all(np.abs(np.cov(sample, rowvar=False) - cov) < K * np.sqrt((np.outer(s, s) + cov**2) / n))


# ---------------------------------------------------------------------- conditioning and marginals
def precision_conditional(mean, cov, observed, values):
    """Conditional of the rest given x_observed = values, via the precision matrix."""
    k = len(mean)
    rest = [i for i in range(k) if i not in observed]
    precision = np.linalg.inv(cov)
    p_rr = precision[np.ix_(rest, rest)]
    p_ro = precision[np.ix_(rest, observed)]
    cond_cov = np.linalg.inv(p_rr)
    cond_mean = mean[rest] - cond_cov @ p_ro @ (np.asarray(values) - mean[observed])
    return rest, cond_mean, cond_cov


@pytest.mark.parametrize("evidence", [
    {"a": 2.0},
    {"f": -1.0},
    {"d": 0.3, "a": -1.5},
    {"b": 1.0, "e": 0.2, "f": 3.0},
    {"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0, "e": 0.0},
])
def test_condition_matches_brute_force_conditioning_through_the_precision_matrix(evidence):
    net = example_network()
    mean, cov = propagated_joint(net)
    names = list(net.nodes)
    observed = [names.index(v) for v in evidence]
    rest, cond_mean, cond_cov = precision_conditional(mean, cov, observed, list(evidence.values()))
    posterior = net.joint_gaussian().condition(evidence)
    assert list(posterior.names) == [names[i] for i in rest]
    np.testing.assert_allclose(posterior.mean, cond_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(posterior.covariance, cond_cov, rtol=1e-10, atol=1e-12)


def test_condition_matches_regression_on_samples():
    net = example_network()
    n = 200_000
    sample = net.sample(n, seed=4)
    # E[f | a, c] is linear in (a, c); regress f on them and compare the prediction at a point
    design = np.column_stack([np.ones(n), sample["a"], sample["c"]])
    theta, *_ = np.linalg.lstsq(design, sample["f"].to_numpy(), rcond=None)
    residual_var = np.mean((sample["f"] - design @ theta) ** 2)
    posterior = net.joint_gaussian().condition({"a": 1.5, "c": 2.0}).marginal(["f"])
    point = np.array([1.0, 1.5, 2.0])
    se = np.sqrt(residual_var * point @ np.linalg.solve(design.T @ design, point))
    assert abs(point @ theta - posterior.mean[0]) < K * se
    assert abs(residual_var - posterior.covariance[0, 0]) < K * posterior.covariance[0, 0] * np.sqrt(2.0 / n)


def test_conditioning_on_nothing_leaves_the_distribution_unchanged():
    joint = example_network().joint_gaussian()
    same = joint.condition({})
    assert same.names == joint.names
    np.testing.assert_array_equal(same.mean, joint.mean)
    np.testing.assert_allclose(same.covariance, joint.covariance, rtol=1e-15)


def test_conditional_means_for_many_rows_equal_conditioning_row_by_row():
    joint = example_network().joint_gaussian()
    rng = np.random.default_rng(5)
    evidence = {"e": rng.normal(size=25), "b": rng.normal(size=25), "f": rng.normal(size=25)}
    names, means = joint.conditional_means(evidence)
    assert means.shape == (25, 3)
    for row in range(25):
        posterior = joint.condition({v: values[row] for v, values in evidence.items()})
        assert names == posterior.names
        np.testing.assert_allclose(means[row], posterior.mean, rtol=1e-12, atol=1e-12)


def test_marginal_is_the_sub_block_in_the_requested_order():
    joint = example_network().joint_gaussian()
    mean, cov = propagated_joint(example_network())
    names = list(joint.names)
    wanted = ["f", "a", "d"]
    idx = [names.index(v) for v in wanted]
    marginal = joint.marginal(wanted)
    assert list(marginal.names) == wanted
    np.testing.assert_allclose(marginal.mean, mean[idx], rtol=1e-12)
    np.testing.assert_allclose(marginal.covariance, cov[np.ix_(idx, idx)], rtol=1e-12)
    single = joint.marginal("c")
    assert single.names == ("c",)
    np.testing.assert_allclose(single.covariance, [[cov[names.index("c"), names.index("c")]]], rtol=1e-12)


def test_marginal_of_an_unknown_variable_is_a_node_error():
    with pytest.raises(NodeError, match="'zz' is not a variable"):
        example_network().joint_gaussian().marginal(["a", "zz"])


def test_mahalanobis_equals_scipy_for_arrays_and_frames_in_any_column_order():
    net = example_network()
    joint = net.joint_gaussian()
    mean, cov = propagated_joint(net)
    inverse = np.linalg.inv(cov)
    rows = random_rows(len(net), 30, seed=6)
    expected = [scipy.spatial.distance.mahalanobis(r, mean, inverse) for r in rows]
    np.testing.assert_allclose(joint.mahalanobis(rows), expected, rtol=1e-10)
    frame = pd.DataFrame(rows, columns=net.nodes)[sorted(net.nodes, reverse=True)]
    np.testing.assert_allclose(joint.mahalanobis(frame), expected, rtol=1e-10)
    np.testing.assert_allclose(joint.mahalanobis(rows[0]), expected[:1], rtol=1e-10)


def test_correlation_and_std_follow_from_the_covariance():
    joint = example_network().joint_gaussian()
    _, cov = propagated_joint(example_network())
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(joint.std(), sd, rtol=1e-12)
    np.testing.assert_allclose(joint.correlation(), cov / np.outer(sd, sd), rtol=1e-12)


# ---------------------------------------------------------------------- KL divergence
def closed_form_kl(m1, s1, m2, s2):
    k = len(m1)
    inv2 = np.linalg.inv(s2)
    diff = m2 - m1
    return 0.5 * (np.trace(inv2 @ s1) + diff @ inv2 @ diff - k + np.linalg.slogdet(s2)[1] - np.linalg.slogdet(s1)[1])


def perturbed_network():
    return BayesianNetwork({
        "a": Gaussian(mean=0.7, variance=2.5),
        "b": LinearGaussian(parents=["a"], intercept=-0.6, weights={"a": 0.5}, variance=0.8),
        "c": LinearGaussian(parents=["b"], intercept=1.0, weights={"b": 1.0}, variance=1.0),
        "d": LinearGaussian(parents=["c"], intercept=0.0, weights={"c": 0.4}, variance=1.2),
        "e": LinearGaussian(parents=["a"], intercept=0.1, weights={"a": 0.1}, variance=0.5),
        "f": LinearGaussian(parents=["d", "e", "b"], intercept=0.3, weights={"d": -0.5, "e": 1.0, "b": 0.2},
                            variance=0.6),
    })


def test_kl_divergence_between_networks_equals_the_closed_form_both_ways():
    p, q = example_network(), perturbed_network()
    mp, sp = propagated_joint(p)
    mq, sq = propagated_joint(q)
    # q's nodes are in another order than p's: align q's reference to p's order
    order = [list(q.nodes).index(n) for n in p.nodes]
    mq, sq = mq[order], sq[np.ix_(order, order)]
    np.testing.assert_allclose(kl_divergence(p, q), closed_form_kl(mp, sp, mq, sq), rtol=1e-10)
    np.testing.assert_allclose(kl_divergence(q, p), closed_form_kl(mq, sq, mp, sp), rtol=1e-10)
    np.testing.assert_allclose(
        p.joint_gaussian().kl_divergence(q.joint_gaussian()), closed_form_kl(mp, sp, mq, sq), rtol=1e-10
    )


def test_kl_divergence_of_a_distribution_with_itself_is_zero_and_otherwise_positive():
    p = example_network()
    assert abs(kl_divergence(p, p)) < 1e-12
    assert abs(kl_divergence(p.joint_gaussian(), p.joint_gaussian().marginal(list(reversed(p.nodes))))) < 1e-12
    assert kl_divergence(p, perturbed_network()) > 0
    shifted = p.with_cpd("e", Gaussian(mean=0.01, variance=0.3))
    kl = kl_divergence(p, shifted)
    # only the root e's CPD changed (mean 0 -> 0.01): by the chain rule of KL the divergence is
    # that of e's marginals, 0.01^2 / (2 * 0.3), though the mean of e's child f moved too
    np.testing.assert_allclose(kl, 0.01**2 / (2 * 0.3), rtol=1e-8)


def test_kl_divergence_needs_the_same_variables():
    joint = example_network().joint_gaussian()
    with pytest.raises(NodeError, match="same variables"):
        joint.kl_divergence(joint.marginal(["a", "b"]))


# ---------------------------------------------------------------------- ecoli70
@pytest.fixture(scope="module")
def ecoli():
    return pgm.load("ecoli70")


def test_ecoli70_joint_equals_the_matrix_inverse_route(ecoli):
    joint = ecoli.joint_gaussian()
    mean, cov = matrix_joint(ecoli)
    assert joint.names == ecoli.nodes
    np.testing.assert_allclose(joint.mean, mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(joint.covariance, cov, rtol=1e-10, atol=1e-12)
    pmean, pcov = propagated_joint(ecoli)
    np.testing.assert_allclose(pmean, mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(pcov, cov, rtol=1e-10, atol=1e-12)


def test_ecoli70_fit_on_100000_samples_recovers_coefficients_within_standard_errors(ecoli):
    n = 100_000
    data = ecoli.sample(n, seed=7)
    fitted = ecoli.fit(data)
    checked = 0
    for node in ecoli.nodes:
        truth, got = ecoli[node], fitted[node]
        parents = [f.parents[0] for f in truth.features]
        a = np.column_stack([np.ones(n)] + [data[p].to_numpy() for p in parents])
        true_theta = np.concatenate([[float(truth.intercept)], truth.weights])
        got_theta = np.concatenate([[float(got.intercept)], got.weights])
        # OLS given the design: theta_hat ~ N(theta, sigma^2 (A'A)^-1)
        se = np.sqrt(float(truth.variance) * np.diag(np.linalg.inv(a.T @ a)))
        z = (got_theta - true_theta) / se
        assert np.all(np.abs(z) < K), f"{node}: {z}"
        # RSS / sigma^2 ~ chi2(n - p): MLE variance has mean sigma^2 (n - p) / n, sd sigma^2 sqrt(2 (n - p)) / n
        p = a.shape[1]
        sigma2 = float(truth.variance)
        expected = sigma2 * (n - p) / n
        assert abs(float(got.variance) - expected) < K * sigma2 * np.sqrt(2.0 * (n - p)) / n, node
        checked += p
    assert checked == len(ecoli) + len(ecoli.edges)


def test_ecoli70_log_likelihood_equals_scipy_multivariate_normal(ecoli):
    rows = ecoli.sample(200, seed=8)
    mean, cov = matrix_joint(ecoli)
    expected = scipy.stats.multivariate_normal(mean, cov).logpdf(rows[list(ecoli.nodes)].to_numpy())
    np.testing.assert_allclose(ecoli.log_likelihood(rows), expected, rtol=1e-9)


# ---------------------------------------------------------------------- not a joint Gaussian
def test_joint_gaussian_of_a_network_with_a_discrete_node_is_a_structure_error():
    net = BayesianNetwork({"z": Categorical(["a", "b"], table=[0.5, 0.5]), "x": Gaussian()})
    assert not net.is_linear_gaussian
    with pytest.raises(StructureError, match=r"node 'z' is not linear Gaussian"):
        net.joint_gaussian()


def test_joint_gaussian_of_a_clg_node_is_a_structure_error():
    net = BayesianNetwork({
        "z": Categorical(["a", "b"], table=[0.5, 0.5]),
        "x": LinearGaussian(parents=["z"], intercept=[0.0, 1.0], variance=[1.0, 2.0]),
    })
    with pytest.raises(StructureError, match=r"node '(z|x)' is not linear Gaussian"):
        joint_gaussian(net)


@pytest.mark.parametrize("features", [polynomial("x", 2), [Function("sin", "x")]], ids=["polynomial", "sin"])
def test_joint_gaussian_of_a_network_with_a_nonlinear_feature_names_the_node(features):
    net = BayesianNetwork({
        "x": Gaussian(),
        "y": LinearGaussian(parents=["x"], features=features),
    })
    assert not net.is_linear_gaussian
    with pytest.raises(StructureError, match=r"node 'y' is not linear Gaussian"):
        net.joint_gaussian()
    with pytest.raises(StructureError, match=r"node 'y'"):
        kl_divergence(net, net)


def test_conditioning_on_deterministically_related_variables_is_a_clear_error():
    from pgm.inference.gaussian import MultivariateNormal

    mvn = MultivariateNormal(["a", "b", "c"], [0, 0, 0], [[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match=r"observed variables \['a', 'b'\] is singular"):
        mvn.condition({"a": 1.0, "b": 1.0})


def test_an_asymmetric_covariance_is_refused():
    from pgm.inference.gaussian import MultivariateNormal

    with pytest.raises(ValueError, match="not symmetric"):
        MultivariateNormal(["a", "b"], [0, 0], [[1, 0.9], [0, 1]])


def test_a_single_variable_reads_a_flat_array_as_one_value_per_row():
    from scipy import stats as scipy_stats

    from pgm.inference.gaussian import MultivariateNormal

    mvn = MultivariateNormal(["x"], [1.0], [[4.0]])
    np.testing.assert_allclose(mvn.logpdf([0.0, 1.0, 2.0]), scipy_stats.norm(1.0, 2.0).logpdf([0.0, 1.0, 2.0]))


def test_the_joint_of_an_empty_network_is_empty():
    joint = pgm.BayesianNetwork().joint_gaussian()
    assert joint.mean.shape == (0,) and joint.covariance.shape == (0, 0)
