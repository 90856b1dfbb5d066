"""Exact inference in linear Gaussian and hybrid (conditional linear Gaussian) networks (issue 6).

Every expected number is computed here, independently of pgm's inference engine:

- linear Gaussian networks: conditionals by the Schur complement of the joint
  covariance (``numpy.linalg.solve``), starting from ``net.joint_gaussian()``'s
  mean and covariance (the joint itself is tested in test_joint_gaussian.py);
  densities of observed sub-vectors with ``scipy.stats.multivariate_normal``;
- hybrid networks: enumeration over the configurations of the discrete nodes,
  with each configuration's Gaussian over the continuous nodes written out in
  closed form from the CPD parameters, mixed with the discrete prior;
  one-dimensional densities with ``scipy.stats.norm``.

Nothing here calls pgm's inference to produce an expected value.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
import scipy.special
import scipy.stats

import pgm
from pgm import BayesianNetwork, Categorical, Gaussian, LinearGaussian, polynomial
from pgm.errors import DataError, NodeError, PGMError
from pgm.inference import MultivariateNormal

RTOL_QUERY = 1e-9  # conditional means / covariances
RTOL_LL = 1e-10  # log-likelihoods
MISSING_FRACTION = 0.3


# ====================================================================== references
def observed_items(evidence):
    """The (name, value) pairs of a single case that are observed (not None / NaN)."""
    items = []
    for name, value in evidence.items():
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        items.append((name, float(value)))
    return items


def schur(mean, cov, names, targets, evidence):
    """Mean and covariance of ``targets`` given ``evidence`` by the Schur complement.

    ``mean``/``cov`` are the joint's, over ``names``; ``evidence`` maps names to
    values (None/NaN = unobserved) and must not contain a target.
    """
    index = {n: i for i, n in enumerate(names)}
    a = [index[t] for t in targets]
    observed = observed_items(evidence)
    assert not set(targets) & {n for n, _ in observed}, "reference: a target is observed"
    if not observed:
        return mean[a].copy(), cov[np.ix_(a, a)].copy()
    b = [index[n] for n, _ in observed]
    x = np.array([v for _, v in observed])
    s_ab = cov[np.ix_(a, b)]
    s_bb = cov[np.ix_(b, b)]
    post_mean = mean[a] + s_ab @ np.linalg.solve(s_bb, x - mean[b])
    post_cov = cov[np.ix_(a, a)] - s_ab @ np.linalg.solve(s_bb, s_ab.T)
    return post_mean, (post_cov + post_cov.T) / 2


def joint_arrays(net):
    joint = net.joint_gaussian()
    return np.asarray(joint.mean, dtype=float), np.asarray(joint.covariance, dtype=float), list(joint.names)


def assert_gaussian_close(result, expected_mean, expected_cov, prior_std, what=""):
    """Compare a (mean, covariance) with rtol 1e-9 and an absolute floor at the prior's scale.

    The absolute floor (1e-10 of the prior's standard deviation / variance)
    only matters for values that cancel to near zero.
    """
    k = len(expected_mean)
    mean = np.asarray(result.mean, dtype=float)
    cov = np.asarray(result.covariance, dtype=float)
    assert mean.shape == (k,), f"{what}: mean shape {mean.shape}"
    assert cov.shape == (k, k), f"{what}: covariance shape {cov.shape}"
    scale = float(np.max(prior_std))
    np.testing.assert_allclose(mean, expected_mean, rtol=RTOL_QUERY, atol=1e-10 * scale, err_msg=f"{what}: mean")
    np.testing.assert_allclose(cov, expected_cov, rtol=RTOL_QUERY, atol=1e-10 * scale**2, err_msg=f"{what}: covariance")
    np.testing.assert_allclose(np.asarray(result.std(), dtype=float), np.sqrt(np.diag(expected_cov)),
                               rtol=RTOL_QUERY, atol=1e-10 * scale, err_msg=f"{what}: std")


def assert_query_matches_schur(net, targets, evidence, joint=None):
    mean, cov, names = joint if joint is not None else joint_arrays(net)
    result = net.query(targets, evidence=evidence)
    assert isinstance(result, MultivariateNormal), type(result)
    wanted = [targets] if isinstance(targets, str) else list(targets)
    got_names = list(result.names)
    assert sorted(got_names) == sorted(wanted), got_names
    expected_mean, expected_cov = schur(mean, cov, names, got_names, evidence)
    index = [names.index(n) for n in got_names]
    prior_std = np.sqrt(np.diag(cov)[index])
    assert_gaussian_close(result, expected_mean, expected_cov, prior_std, what=f"{targets} | {evidence}")
    return result


def reference_log_likelihood(mean, cov, names, frame):
    """log density of each row's observed sub-vector under the joint's marginal (0 for an empty row)."""
    out = np.empty(len(frame))
    present = [n for n in names if n in frame.columns]
    values = frame[present].to_numpy(dtype=float)
    index = [names.index(n) for n in present]
    for r in range(len(frame)):
        seen = ~np.isnan(values[r])
        if not seen.any():
            out[r] = 0.0
            continue
        idx = [index[j] for j in np.flatnonzero(seen)]
        out[r] = scipy.stats.multivariate_normal.logpdf(values[r, seen], mean[idx], cov[np.ix_(idx, idx)])
    return out


def row_evidence(frame, label, exclude=()):
    row = frame.loc[label]
    return {n: (None if pd.isna(row[n]) else float(row[n])) for n in frame.columns if n not in exclude}


def with_missing(frame, seed, fraction=MISSING_FRACTION, columns=None):
    """A copy of ``frame`` with each cell of ``columns`` set missing with probability ``fraction``."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for name in (frame.columns if columns is None else columns):
        mask = rng.random(len(frame)) < fraction
        out.loc[out.index[mask], name] = np.nan
    return out


# ====================================================================== linear Gaussian networks
GAUSSIAN_TEST_PARENTS = {
    "A": [], "B": [], "E": [], "G": [],
    "C": ["A", "B"],
    "D": ["B"],
    "F": ["A", "D", "E", "G"],
}


def random_linear_gaussian(seed):
    """A random linear Gaussian DAG of 5-15 nodes, declared in a shuffled (non-topological) order."""
    rng = np.random.default_rng(seed)
    k = int(rng.integers(5, 16))
    order = [f"v{i}" for i in rng.permutation(k)]
    cpds = {}
    for i, node in enumerate(order):
        parents = [p for p in order[:i] if rng.random() < 0.4][:4]
        rng.shuffle(parents)
        weights = {p: float(rng.choice([-1.0, 1.0]) * rng.uniform(0.3, 1.0)) for p in parents}
        cpds[node] = LinearGaussian(parents=parents, intercept=float(rng.normal(0.0, 3.0)),
                                    weights=weights or None, variance=float(rng.uniform(0.2, 2.0)))
    declared = list(cpds)
    rng.shuffle(declared)
    return BayesianNetwork({n: cpds[n] for n in declared}, name=f"random{seed}")


@functools.lru_cache(maxsize=None)
def linear_network(name):
    if name == "ecoli70":
        return pgm.load("ecoli70")
    if name == "gaussian_test":
        net = BayesianNetwork({n: LinearGaussian(parents=p) for n, p in GAUSSIAN_TEST_PARENTS.items()}, name="gaussian")
        return net.fit(pgm.datasets.gaussian_test())
    if name.startswith("random"):
        return random_linear_gaussian(int(name[len("random"):]))
    raise AssertionError(name)


@functools.lru_cache(maxsize=None)
def linear_joint(name):
    return joint_arrays(linear_network(name))


LINEAR_NETWORKS = ["ecoli70", "gaussian_test", "random0", "random1", "random2", "random3"]


def random_cases(net, seed, n_cases=4):
    """(evidence, single target, joint targets) triples with values drawn from the network itself."""
    rng = np.random.default_rng(seed)
    nodes = list(net.nodes)
    rows = net.sample(n_cases, seed=seed)
    cases = []
    for r in range(n_cases):
        shuffled = [str(n) for n in rng.permutation(nodes)]
        n_evidence = int(rng.integers(1, max(2, len(nodes) // 2)))
        observed = shuffled[:n_evidence]
        rest = shuffled[n_evidence:]
        evidence = {n: float(rows[n].iloc[r]) for n in observed}
        joint_targets = rest[: int(rng.integers(2, 4))]
        cases.append((evidence, rest[0], joint_targets))
    return cases


@pytest.mark.parametrize("name", LINEAR_NETWORKS)
def test_single_target_query_is_the_schur_complement(name):
    net, joint = linear_network(name), linear_joint(name)
    for evidence, target, _ in random_cases(net, seed=101):
        result = assert_query_matches_schur(net, target, evidence, joint)
        assert tuple(result.names) == (target,)


@pytest.mark.parametrize("name", LINEAR_NETWORKS)
def test_joint_query_of_several_nodes_is_the_schur_complement(name):
    net, joint = linear_network(name), linear_joint(name)
    for evidence, _, targets in random_cases(net, seed=202):
        assert len(targets) >= 2
        assert_query_matches_schur(net, targets, evidence, joint)


@pytest.mark.parametrize("name", ["ecoli70", "random1"])
def test_query_without_evidence_is_the_prior_marginal(name):
    net, (mean, cov, names) = linear_network(name), linear_joint(name)
    for evidence in (None, {}):
        for targets in (names[0], names[-2:]):
            result = net.query(targets, evidence=evidence)
            wanted = [targets] if isinstance(targets, str) else list(targets)
            assert sorted(result.names) == sorted(wanted)
            idx = [names.index(n) for n in result.names]
            assert_gaussian_close(result, mean[idx], cov[np.ix_(idx, idx)], np.sqrt(np.diag(cov)[idx]))


def test_nan_and_none_evidence_are_unobserved_and_a_series_is_a_single_case():
    net, joint = linear_network("ecoli70"), linear_joint("ecoli70")
    evidence = {"asnA": 1.7, "cspG": np.nan, "eutG": None, "sucA": 0.4}
    a = assert_query_matches_schur(net, "lacY", evidence, joint)
    b = assert_query_matches_schur(net, "lacY", {"asnA": 1.7, "sucA": 0.4}, joint)
    np.testing.assert_allclose(a.mean, b.mean, rtol=1e-12)
    series = pd.Series({"asnA": 1.7, "cspG": np.nan, "sucA": 0.4})
    c = net.query("lacY", evidence=series)
    np.testing.assert_allclose(c.mean, b.mean, rtol=1e-12)
    np.testing.assert_allclose(c.covariance, b.covariance, rtol=1e-12)


def test_log_evidence_of_a_linear_gaussian_network_is_the_marginal_density():
    net, (mean, cov, names) = linear_network("gaussian_test"), linear_joint("gaussian_test")
    evidence = {"C": 7.0, "F": 25.0, "A": None}
    idx = [names.index("C"), names.index("F")]
    expected = scipy.stats.multivariate_normal.logpdf([7.0, 25.0], mean[idx], cov[np.ix_(idx, idx)])
    np.testing.assert_allclose(net.log_evidence(evidence), expected, rtol=RTOL_LL)
    frame = pd.DataFrame({"C": [7.0, np.nan, 3.0], "F": [25.0, 30.0, np.nan]})
    batched = np.asarray(net.log_evidence(frame))
    np.testing.assert_allclose(batched, reference_log_likelihood(mean, cov, names, frame), rtol=RTOL_LL)


# ---------------------------------------------------------------------- incomplete-row log-likelihood
@pytest.mark.parametrize("name", ["gaussian_test", "random0", "random2", "ecoli70"])
def test_log_likelihood_of_incomplete_rows_is_the_density_of_the_observed_part(name):
    net, (mean, cov, names) = linear_network(name), linear_joint(name)
    complete = net.sample(200, seed=7)
    frame = with_missing(complete, seed=8)
    frame.iloc[:20] = complete.iloc[:20]  # twenty complete rows
    frame.iloc[20] = np.nan  # one row with nothing observed: log p = 0
    dropped = [str(n) for n in np.random.default_rng(9).choice(names, size=2, replace=False)]
    frame = frame.drop(columns=dropped)  # columns absent entirely: unobserved
    got = np.asarray(net.log_likelihood(frame))
    assert got.shape == (200,)
    expected = reference_log_likelihood(mean, cov, names, frame)
    assert expected[20] == 0.0
    np.testing.assert_allclose(got, expected, rtol=RTOL_LL, atol=1e-12)


@pytest.mark.parametrize("name", ["gaussian_test", "random3"])
def test_log_likelihood_of_complete_rows_is_unchanged_by_missing_rows_elsewhere(name):
    net, (mean, cov, names) = linear_network(name), linear_joint(name)
    complete = net.sample(100, seed=17)
    by_itself = np.asarray(net.log_likelihood(complete))
    np.testing.assert_allclose(
        by_itself, scipy.stats.multivariate_normal.logpdf(complete[names].to_numpy(), mean, cov), rtol=RTOL_LL)
    mixed = with_missing(complete, seed=18)
    keep = np.arange(100) % 3 == 0
    mixed.iloc[np.flatnonzero(keep)] = complete.iloc[np.flatnonzero(keep)]
    np.testing.assert_allclose(np.asarray(net.log_likelihood(mixed))[keep], by_itself[keep], rtol=1e-12)


# ---------------------------------------------------------------------- batched evidence on ecoli70
ECOLI_TARGET = "lacY"


@functools.lru_cache(maxsize=None)
def ecoli_frame():
    """2000 sampled rows with 30% of cells missing and a shuffled, non-default index."""
    net = linear_network("ecoli70")
    frame = with_missing(net.sample(2000, seed=21), seed=22)
    labels = np.random.default_rng(23).permutation(np.arange(10_000, 12_000))
    frame.index = pd.Index(labels, name="case")
    return frame


def sample_labels(frame, n=100, seed=24):
    return list(np.random.default_rng(seed).choice(frame.index.to_numpy(), size=n, replace=False))


def test_batched_query_of_a_continuous_node_equals_per_row_schur_complement():
    net, (mean, cov, names) = linear_network("ecoli70"), linear_joint("ecoli70")
    frame = ecoli_frame().drop(columns=[ECOLI_TARGET])
    result = net.query(ECOLI_TARGET, evidence=frame)
    assert isinstance(result, pd.DataFrame)
    assert list(result.columns) == ["mean", "std"]
    assert result.index.equals(frame.index)
    prior_std = np.sqrt(cov[names.index(ECOLI_TARGET), names.index(ECOLI_TARGET)])
    for label in sample_labels(frame):
        m, v = schur(mean, cov, names, [ECOLI_TARGET], row_evidence(frame, label))
        np.testing.assert_allclose(result.loc[label, "mean"], m[0], rtol=RTOL_QUERY, atol=1e-10 * prior_std,
                                   err_msg=f"row {label}")
        np.testing.assert_allclose(result.loc[label, "std"], np.sqrt(v[0, 0]), rtol=RTOL_QUERY,
                                   atol=1e-10 * prior_std, err_msg=f"row {label}")


def test_batched_query_rows_observing_the_target_are_point_masses():
    net = linear_network("ecoli70")
    frame = ecoli_frame()
    result = net.query(ECOLI_TARGET, evidence=frame)
    observed = frame[ECOLI_TARGET].notna().to_numpy()
    assert observed.any() and (~observed).any()
    np.testing.assert_array_equal(result["mean"].to_numpy()[observed], frame[ECOLI_TARGET].to_numpy()[observed])
    np.testing.assert_array_equal(result["std"].to_numpy()[observed], 0.0)


def test_predict_of_a_continuous_node_is_the_posterior_mean():
    net, (mean, cov, names) = linear_network("ecoli70"), linear_joint("ecoli70")
    frame = ecoli_frame().copy()
    frame[ECOLI_TARGET] = np.nan
    predicted = net.predict(frame, ECOLI_TARGET)
    assert isinstance(predicted, pd.Series)
    assert predicted.index.equals(frame.index)
    prior_std = np.sqrt(cov[names.index(ECOLI_TARGET), names.index(ECOLI_TARGET)])
    for label in sample_labels(frame, seed=25):
        m, _ = schur(mean, cov, names, [ECOLI_TARGET], row_evidence(frame, label))
        np.testing.assert_allclose(predicted.loc[label], m[0], rtol=RTOL_QUERY, atol=1e-10 * prior_std)
    both = net.predict(frame, [ECOLI_TARGET, "lacZ"])
    assert isinstance(both, pd.DataFrame)
    assert set(both.columns) == {ECOLI_TARGET, "lacZ"} and both.index.equals(frame.index)
    np.testing.assert_allclose(both[ECOLI_TARGET].to_numpy(), predicted.to_numpy(), rtol=1e-12)


def test_impute_fills_missing_values_with_posterior_means_and_keeps_observed_ones():
    net, (mean, cov, names) = linear_network("ecoli70"), linear_joint("ecoli70")
    absent = "yheI"
    frame = ecoli_frame().drop(columns=[absent])
    original = frame.copy()
    imputed = net.impute(frame)
    pd.testing.assert_frame_equal(frame, original)  # the input is not modified
    assert isinstance(imputed, pd.DataFrame)
    assert imputed.index.equals(frame.index)
    assert set(net.nodes) <= set(imputed.columns)
    assert not imputed[list(net.nodes)].isna().any().any()
    for column in frame.columns:  # observed values unchanged, exactly
        seen = frame[column].notna().to_numpy()
        np.testing.assert_array_equal(imputed[column].to_numpy()[seen], frame[column].to_numpy()[seen])
    std = np.sqrt(np.diag(cov))
    for label in sample_labels(frame, n=60, seed=26):
        evidence = row_evidence(frame, label)
        missing = [n for n in names if evidence.get(n) is None]
        assert absent in missing
        m, _ = schur(mean, cov, names, missing, evidence)
        got = imputed.loc[label, missing].to_numpy(dtype=float)
        np.testing.assert_allclose(got, m, rtol=RTOL_QUERY, atol=1e-10 * std.max(),
                                   err_msg=f"row {label}")


# ---------------------------------------------------------------------- posteriors
@pytest.mark.parametrize("name", ["gaussian_test", "random0", "random1", "ecoli70"])
def test_posteriors_of_every_unobserved_node_are_schur_marginals(name):
    net, (mean, cov, names) = linear_network(name), linear_joint(name)
    (evidence, _, _), *_ = random_cases(net, seed=303, n_cases=1)
    evidence = dict(evidence)
    posteriors = net.posteriors(evidence)
    assert set(posteriors) == set(names) - set(evidence)
    for node, distribution in posteriors.items():
        assert isinstance(distribution, MultivariateNormal), (node, type(distribution))
        assert tuple(distribution.names) == (node,)
        m, v = schur(mean, cov, names, [node], evidence)
        assert_gaussian_close(distribution, m, v, np.sqrt([cov[names.index(node), names.index(node)]]), what=node)


def test_posteriors_without_evidence_are_the_prior_marginals():
    net, (mean, cov, names) = linear_network("random2"), linear_joint("random2")
    posteriors = net.posteriors()
    assert set(posteriors) == set(names)
    for node, distribution in posteriors.items():
        i = names.index(node)
        assert_gaussian_close(distribution, mean[[i]], cov[[i]][:, [i]], np.sqrt([cov[i, i]]), what=node)


def test_batched_posteriors_give_every_node_and_point_masses_for_observed_cells():
    net, (mean, cov, names) = linear_network("random1"), linear_joint("random1")
    frame = with_missing(net.sample(40, seed=31), seed=32, fraction=0.5)
    posteriors = net.posteriors(frame)
    assert set(posteriors) == set(names)
    for node, table in posteriors.items():
        assert list(table.columns) == ["mean", "std"] and table.index.equals(frame.index)
        scale = np.sqrt(cov[names.index(node), names.index(node)])
        for r, label in enumerate(frame.index):
            value = frame.loc[label, node]
            if pd.notna(value):
                assert table.loc[label, "mean"] == value and table.loc[label, "std"] == 0.0
            else:
                m, v = schur(mean, cov, names, [node], row_evidence(frame, label))
                np.testing.assert_allclose(table.loc[label, ["mean", "std"]].to_numpy(dtype=float),
                                           [m[0], np.sqrt(v[0, 0])], rtol=RTOL_QUERY, atol=1e-10 * scale,
                                           err_msg=f"{node}, row {label}")


# ====================================================================== hybrid: a Gaussian mixture
MIX_W = np.array([0.2, 0.5, 0.3])
MIX_M = np.array([-3.0, 0.0, 4.0])
MIX_V = np.array([0.5, 1.0, 2.0])
MIX_STATES = ("a", "b", "c")


def mixture_network():
    """The network of examples/mixture.py."""
    return BayesianNetwork({
        "component": Categorical(list(MIX_STATES), table=MIX_W),
        "x": LinearGaussian(parents=["component"], intercept=MIX_M, variance=MIX_V),
    })


def mixture_log_terms(x):
    """log w_k + log N(x; m_k, v_k), shape (len(x), 3)."""
    x = np.atleast_1d(np.asarray(x, dtype=float))[:, None]
    return np.log(MIX_W) + scipy.stats.norm.logpdf(x, MIX_M, np.sqrt(MIX_V))


def mixture_responsibilities(x):
    terms = mixture_log_terms(x)
    return np.exp(terms - scipy.special.logsumexp(terms, axis=1, keepdims=True))


def test_mixture_component_posterior_is_the_normalised_weighted_density():
    net = mixture_network()
    result = net.query("component", evidence={"x": 1.3})
    assert tuple(result.variables) == ("component",)
    assert tuple(result.states["component"]) == MIX_STATES
    dens = MIX_W * scipy.stats.norm.pdf(1.3, MIX_M, np.sqrt(MIX_V))
    np.testing.assert_allclose(result.probabilities, dens / dens.sum(), rtol=1e-12)
    np.testing.assert_allclose(result.log_evidence, np.log(dens.sum()), rtol=1e-12)
    series = result.to_series()
    assert tuple(series.index) == MIX_STATES
    assert result.mode() == MIX_STATES[int(np.argmax(dens))]


def test_mixture_batched_component_posterior_with_missing_x_gives_prior_weights():
    net = mixture_network()
    x = np.array([1.3, np.nan, -2.5, 6.0, np.nan, 0.1])
    frame = pd.DataFrame({"x": x}, index=[f"r{i}" for i in range(len(x))])
    result = net.query("component", evidence=frame)
    assert isinstance(result, pd.DataFrame)
    assert [str(c) for c in result.columns] == list(MIX_STATES)
    assert result.index.equals(frame.index)
    expected = np.empty((len(x), 3))
    seen = ~np.isnan(x)
    expected[seen] = mixture_responsibilities(x[seen])
    expected[~seen] = MIX_W
    np.testing.assert_allclose(result.to_numpy(dtype=float), expected, rtol=1e-12, atol=1e-300)
    # a dict of columns is batched evidence too
    from_dict = net.query("component", evidence={"x": list(x)})
    np.testing.assert_allclose(from_dict.to_numpy(dtype=float), expected, rtol=1e-12, atol=1e-300)


def test_mixture_log_likelihood_of_rows_missing_the_component_is_log_sum_of_weighted_densities():
    net = mixture_network()
    rng = np.random.default_rng(41)
    x = rng.normal(0.5, 3.0, 60)
    only_x = pd.DataFrame({"x": x})
    expected = scipy.special.logsumexp(mixture_log_terms(x), axis=1)
    np.testing.assert_allclose(net.log_likelihood(only_x), expected, rtol=RTOL_LL)
    # the component column present but missing; some rows complete, some with x missing too
    component = np.array(MIX_STATES, dtype=object)[rng.integers(0, 3, 60)]
    codes = np.array([MIX_STATES.index(c) for c in component])
    component_missing = rng.random(60) < 0.5
    x_missing = rng.random(60) < 0.2
    frame = pd.DataFrame({"component": np.where(component_missing, None, component),
                          "x": np.where(x_missing, np.nan, x)})
    terms = mixture_log_terms(x)
    expected = np.where(component_missing, scipy.special.logsumexp(terms, axis=1), terms[np.arange(60), codes])
    expected = np.where(x_missing & component_missing, 0.0, expected)
    expected = np.where(x_missing & ~component_missing, np.log(MIX_W[codes]), expected)
    np.testing.assert_allclose(net.log_likelihood(frame), expected, rtol=RTOL_LL, atol=1e-14)


def test_mixture_marginal_of_x_is_a_gaussian_mixture_with_total_variance():
    net = mixture_network()
    result = net.query("x", evidence={})
    assert isinstance(result, pgm.GaussianMixture), type(result)
    assert tuple(result.names) == ("x",)
    weights = np.asarray(result.weights, dtype=float)
    means = np.asarray(result.means, dtype=float)
    covariances = np.asarray(result.covariances, dtype=float)
    assert weights.shape == (3,) and means.shape == (3, 1) and covariances.shape == (3, 1, 1)
    order = np.argsort(means[:, 0])  # component order is not part of the contract
    np.testing.assert_allclose(weights[order], MIX_W, rtol=1e-12)
    np.testing.assert_allclose(means[order, 0], MIX_M, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(covariances[order, 0, 0], MIX_V, rtol=1e-12)
    mean = MIX_W @ MIX_M
    variance = MIX_W @ MIX_V + MIX_W @ (MIX_M - mean) ** 2  # E[Var] + Var[E]
    np.testing.assert_allclose(result.mean, [mean], rtol=1e-12)
    np.testing.assert_allclose(result.covariance, [[variance]], rtol=1e-12)
    np.testing.assert_allclose(result.std(), [np.sqrt(variance)], rtol=1e-12)
    points = np.array([-4.0, -0.3, 0.0, 2.2, 5.5])
    logpdf = np.asarray([np.asarray(result.logpdf(np.array([p]))).item() for p in points])
    np.testing.assert_allclose(logpdf, scipy.special.logsumexp(mixture_log_terms(points), axis=1), rtol=1e-12)


def test_mixture_x_given_a_hard_or_soft_component():
    net = mixture_network()
    hard = net.query("x", evidence={"component": "c"})
    np.testing.assert_allclose(hard.mean, [MIX_M[2]], rtol=1e-12)
    np.testing.assert_allclose(hard.covariance, [[MIX_V[2]]], rtol=1e-12)
    likelihood = {"a": 1.0, "b": 2.0, "c": 0.5}
    soft = net.query("x", evidence={"component": likelihood})
    w = MIX_W * np.array([likelihood[s] for s in MIX_STATES])
    w /= w.sum()
    mean = w @ MIX_M
    np.testing.assert_allclose(soft.mean, [mean], rtol=1e-12, atol=1e-15)  # the exact mean is 0
    np.testing.assert_allclose(soft.covariance, [[w @ MIX_V + w @ (MIX_M - mean) ** 2]], rtol=1e-12)


def test_mixture_log_evidence_single_and_batched():
    net = mixture_network()
    np.testing.assert_allclose(net.log_evidence({"x": 1.3}),
                               scipy.special.logsumexp(mixture_log_terms(1.3)), rtol=1e-12)
    x = np.array([-1.0, 0.5, 3.0])
    np.testing.assert_allclose(np.asarray(net.log_evidence(pd.DataFrame({"x": x}))),
                               scipy.special.logsumexp(mixture_log_terms(x), axis=1), rtol=1e-12)


# ====================================================================== hybrid: CLG with two discrete parents
CLG_A = ("a0", "a1")
CLG_B = ("b0", "b1", "b2")
P_A = np.array([0.35, 0.65])
P_B_GIVEN_A = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
C_MEAN, C_VAR = 1.0, 1.5
Y_B0 = np.array([[-2.0, 0.5, 3.0], [1.0, -1.0, 4.5]])
Y_W = np.array([[[1.0], [-0.5], [2.0]], [[0.3], [1.5], [-1.0]]])
Y_VAR = np.array([[0.5, 1.0, 0.3], [2.0, 0.4, 0.8]])
Z_B0, Z_W, Z_VAR = 0.5, -1.2, 0.4
CLG_CONTINUOUS = ("c", "y", "z")


def clg_network():
    """a -> b; (a, b, c) -> y -> z; declared children first."""
    return BayesianNetwork({
        "z": LinearGaussian(parents=["y"], intercept=Z_B0, weights=[Z_W], variance=Z_VAR),
        "y": LinearGaussian(parents=["a", "b", "c"], intercept=Y_B0, weights=Y_W, variance=Y_VAR),
        "b": Categorical(list(CLG_B), parents=["a"], table=P_B_GIVEN_A),
        "c": Gaussian(mean=C_MEAN, variance=C_VAR),
        "a": Categorical(list(CLG_A), table=P_A),
    })


def clg_components():
    """For each (i, j) = (a, b) codes: p(a, b), and the mean and covariance of (c, y, z) given (a, b)."""
    out = {}
    for i in range(2):
        for j in range(3):
            w = Y_W[i, j, 0]
            my = Y_B0[i, j] + w * C_MEAN
            vy = w * w * C_VAR + Y_VAR[i, j]
            mean = np.array([C_MEAN, my, Z_B0 + Z_W * my])
            cov = np.array([
                [C_VAR, w * C_VAR, Z_W * w * C_VAR],
                [w * C_VAR, vy, Z_W * vy],
                [Z_W * w * C_VAR, Z_W * vy, Z_W**2 * vy + Z_VAR],
            ])
            out[i, j] = (P_A[i] * P_B_GIVEN_A[i, j], mean, cov)
    return out


def clg_log_joint(evidence):
    """log p(a, b, observed part of evidence) as a (2, 3) array (-inf where the discrete evidence rules out)."""
    out = np.full((2, 3), -np.inf)
    observed = dict(observed_items({k: v for k, v in evidence.items() if k in CLG_CONTINUOUS}))
    idx = [CLG_CONTINUOUS.index(n) for n in observed]
    x = np.array(list(observed.values()))
    for (i, j), (p, mean, cov) in clg_components().items():
        if evidence.get("a") not in (None, CLG_A[i]) or evidence.get("b") not in (None, CLG_B[j]):
            continue
        out[i, j] = np.log(p)
        if idx:
            out[i, j] += scipy.stats.multivariate_normal.logpdf(x, mean[idx], cov[np.ix_(idx, idx)])
    return out


def clg_posterior_mixture(targets, evidence):
    """Weights, means and covariances (per (a, b)) of continuous ``targets`` given continuous/discrete evidence."""
    log_joint = clg_log_joint(evidence)
    weights = np.exp(log_joint - scipy.special.logsumexp(log_joint))
    continuous_evidence = {k: v for k, v in evidence.items() if k in CLG_CONTINUOUS}
    w, means, covs = [], [], []
    for (i, j), (_, mean, cov) in clg_components().items():
        m, v = schur(mean, cov, list(CLG_CONTINUOUS), list(targets), continuous_evidence)
        w.append(weights[i, j])
        means.append(m)
        covs.append(v)
    return np.array(w), np.array(means), np.array(covs)


def mixture_moments(weights, means, covs):
    mean = weights @ means
    centred = means - mean
    cov = np.einsum("k,kij->ij", weights, covs) + np.einsum("k,ki,kj->ij", weights, centred, centred)
    return mean, cov


@pytest.mark.parametrize("evidence", [{"z": 0.3}, {"z": -4.0, "c": 0.5}, {"z": 2.0, "b": "b2"}, {"c": -1.0}])
def test_clg_posterior_of_the_discrete_nodes_matches_enumeration(evidence):
    net = clg_network()
    log_joint = clg_log_joint(evidence)
    joint = np.exp(log_joint - scipy.special.logsumexp(log_joint))
    result = net.query(["a", "b"], evidence=evidence)
    probabilities = np.asarray(result.probabilities, dtype=float)
    if tuple(result.variables) == ("b", "a"):
        probabilities = probabilities.T
    else:
        assert tuple(result.variables) == ("a", "b")
    np.testing.assert_allclose(probabilities, joint, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(result.log_evidence, scipy.special.logsumexp(log_joint), rtol=1e-10)
    if "b" not in evidence:
        np.testing.assert_allclose(net.query("b", evidence=evidence).probabilities, joint.sum(axis=0),
                                   rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(net.query("a", evidence=evidence).probabilities, joint.sum(axis=1),
                               rtol=1e-9, atol=1e-14)


def test_clg_batched_posterior_of_a_matches_enumeration():
    net = clg_network()
    frame = pd.DataFrame({"z": [0.3, np.nan, -4.0, 5.0], "c": [np.nan, 0.5, 0.5, np.nan]})
    result = net.query("a", evidence=frame)
    assert [str(s) for s in result.columns] == list(CLG_A)
    for r in range(len(frame)):
        log_joint = clg_log_joint(row_evidence(frame, frame.index[r]))
        expected = np.exp(scipy.special.logsumexp(log_joint, axis=1) - scipy.special.logsumexp(log_joint))
        np.testing.assert_allclose(result.iloc[r].to_numpy(dtype=float), expected, rtol=1e-9, atol=1e-14)


def test_clg_log_likelihood_of_incomplete_rows_matches_enumeration():
    net = clg_network()
    complete = net.sample(200, seed=51)
    frame = with_missing(complete, seed=52)
    frame.iloc[:10] = complete.iloc[:10]
    got = np.asarray(net.log_likelihood(frame))
    expected = np.empty(len(frame))
    for r in range(len(frame)):
        row = frame.iloc[r]
        evidence = {n: (None if pd.isna(row[n]) else (str(row[n]) if n in ("a", "b") else float(row[n])))
                    for n in frame.columns}
        expected[r] = scipy.special.logsumexp(clg_log_joint(evidence))
    np.testing.assert_allclose(got, expected, rtol=RTOL_LL, atol=1e-12)
    # complete rows: the plain product of the CPDs, unchanged
    np.testing.assert_allclose(got[:10], np.asarray(net.log_likelihood(complete.iloc[:10])), rtol=1e-12)
    # the discrete columns absent entirely
    only_continuous = frame.drop(columns=["a", "b"])
    expected = [scipy.special.logsumexp(clg_log_joint(row_evidence(only_continuous, label)))
                for label in only_continuous.index]
    np.testing.assert_allclose(net.log_likelihood(only_continuous), expected, rtol=RTOL_LL, atol=1e-12)


@pytest.mark.parametrize("evidence", [{"z": 0.3}, {"z": -4.0, "c": 0.5}, {"c": 2.0}, {}, {"z": 1.0, "a": "a1"}])
def test_clg_continuous_query_is_the_enumerated_gaussian_mixture(evidence):
    net = clg_network()
    result = net.query("y", evidence=evidence)
    assert isinstance(result, pgm.GaussianMixture), type(result)
    assert tuple(result.names) == ("y",)
    weights, means, covs = clg_posterior_mixture(["y"], evidence)
    mean, cov = mixture_moments(weights, means, covs)
    np.testing.assert_allclose(result.mean, mean, rtol=1e-9)
    np.testing.assert_allclose(result.covariance, cov, rtol=1e-9)
    np.testing.assert_allclose(result.std(), np.sqrt(np.diag(cov)), rtol=1e-9)
    got_w = np.asarray(result.weights, dtype=float)
    np.testing.assert_allclose(got_w.sum(), 1.0, rtol=1e-12)
    # component by component, ignoring components of zero weight and the order
    keep = weights > 0
    got_keep = got_w > 0
    assert got_keep.sum() == keep.sum()
    got = sorted(zip(np.asarray(result.means, dtype=float)[got_keep, 0], got_w[got_keep],
                     np.asarray(result.covariances, dtype=float)[got_keep, 0, 0]))
    expected = sorted(zip(means[keep, 0], weights[keep], covs[keep, 0, 0]))
    np.testing.assert_allclose(np.array(got), np.array(expected), rtol=1e-9, atol=1e-14)
    points = np.array([-6.0, -1.0, 0.0, 2.5, 7.0])
    reference = [scipy.special.logsumexp(np.log(weights[keep]) + scipy.stats.norm.logpdf(
        p, means[keep, 0], np.sqrt(covs[keep, 0, 0]))) for p in points]
    logpdf = [np.asarray(result.logpdf(np.array([p]))).item() for p in points]
    np.testing.assert_allclose(logpdf, reference, rtol=1e-9)


def test_clg_joint_query_of_two_continuous_nodes_is_the_enumerated_mixture():
    net = clg_network()
    evidence = {"z": -1.5}
    result = net.query(["c", "y"], evidence=evidence)
    assert isinstance(result, pgm.GaussianMixture)
    names = list(result.names)
    assert sorted(names) == ["c", "y"]
    weights, means, covs = clg_posterior_mixture(names, evidence)
    mean, cov = mixture_moments(weights, means, covs)
    assert np.asarray(result.means).shape[1:] == (2,) and np.asarray(result.covariances).shape[1:] == (2, 2)
    np.testing.assert_allclose(result.mean, mean, rtol=1e-9)
    np.testing.assert_allclose(result.covariance, cov, rtol=1e-9, atol=1e-12)


def test_clg_continuous_query_given_all_discrete_parents_is_one_gaussian():
    net = clg_network()
    result = net.query("y", evidence={"a": "a1", "b": "b0", "c": 0.4})
    np.testing.assert_allclose(result.mean, [Y_B0[1, 0] + Y_W[1, 0, 0] * 0.4], rtol=1e-12)
    np.testing.assert_allclose(result.covariance, [[Y_VAR[1, 0]]], rtol=1e-12)


@pytest.mark.parametrize("evidence", [{"z": 0.3}, {"z": -4.0}, {"z": 6.0, "c": 2.0}, {"c": -1.0, "z": 1.5}])
def test_clg_mpe_over_the_discrete_nodes_maximises_the_enumerated_joint(evidence):
    net = clg_network()
    log_joint = clg_log_joint(evidence)
    flat = np.sort(log_joint.ravel())
    assert flat[-1] - flat[-2] > 1e-3, "reference: choose evidence without a near tie"
    i, j = np.unravel_index(np.argmax(log_joint), log_joint.shape)
    result = net.mpe(evidence)
    assert dict(result.assignment) == {"a": CLG_A[i], "b": CLG_B[j]}
    np.testing.assert_allclose(result.log_probability, log_joint[i, j], rtol=1e-10)


def test_clg_batched_mpe_matches_enumeration_row_by_row():
    net = clg_network()
    z = np.array([0.3, -4.0, 6.0, 1.5, -1.0, 3.0])
    frame = pd.DataFrame({"z": z}, index=list("uvwxyz"))
    result = net.mpe(frame)
    assert isinstance(result.assignment, pd.DataFrame)
    assert set(result.assignment.columns) == {"a", "b"}
    assert result.assignment.index.equals(frame.index)
    for r, value in enumerate(z):
        log_joint = clg_log_joint({"z": value})
        i, j = np.unravel_index(np.argmax(log_joint), log_joint.shape)
        assert (str(result.assignment["a"].iloc[r]), str(result.assignment["b"].iloc[r])) == (CLG_A[i], CLG_B[j])
        np.testing.assert_allclose(np.asarray(result.log_probability)[r], log_joint[i, j], rtol=1e-10)


# ====================================================================== nonlinear features
POLY_B0, POLY_W, POLY_VAR = 0.5, np.array([1.0, -2.0, 0.3]), 0.25


def polynomial_network():
    return BayesianNetwork({
        "x": Gaussian(mean=0.0, variance=1.0),
        "y": LinearGaussian(parents=["x"], features=polynomial("x", 3), intercept=POLY_B0, weights=POLY_W,
                            variance=POLY_VAR),
    })


def test_polynomial_child_given_its_parent_is_gaussian_with_the_feature_mean():
    net = polynomial_network()
    result = net.query("y", evidence={"x": 0.7})
    phi = np.array([0.7, 0.7**2, 0.7**3])
    np.testing.assert_allclose(np.ravel(result.mean), [POLY_B0 + POLY_W @ phi], rtol=1e-12)
    np.testing.assert_allclose(np.reshape(result.covariance, (1, 1)), [[POLY_VAR]], rtol=1e-12)


def test_polynomial_log_likelihood_with_the_child_missing_is_the_roots_density():
    net = polynomial_network()
    x = np.array([-1.2, 0.0, 0.7, 2.5])
    y = POLY_B0 + np.column_stack([x, x**2, x**3]) @ POLY_W + 0.3
    frame = pd.DataFrame({"x": x, "y": [np.nan, y[1], np.nan, y[3]]})
    expected = scipy.stats.norm.logpdf(x, 0.0, 1.0)
    expected[[1, 3]] += scipy.stats.norm.logpdf(y[[1, 3]], POLY_B0 + np.column_stack([x, x**2, x**3])[[1, 3]] @ POLY_W,
                                                np.sqrt(POLY_VAR))
    np.testing.assert_allclose(net.log_likelihood(frame), expected, rtol=RTOL_LL)
    np.testing.assert_allclose(net.log_likelihood(pd.DataFrame({"x": x})), scipy.stats.norm.logpdf(x), rtol=RTOL_LL)


def test_polynomial_parent_given_the_child_is_refused_rather_than_a_wrong_gaussian():
    net = polynomial_network()
    with pytest.raises(PGMError) as error:
        net.query("x", evidence={"y": 1.0})
    message = str(error.value)
    assert "'x'" in message or "'y'" in message, message


# ====================================================================== errors and point masses
def test_unknown_target_or_evidence_node_raises_node_error_naming_it():
    net = linear_network("gaussian_test")
    with pytest.raises(NodeError, match="nosuchnode"):
        net.query("nosuchnode", evidence={"A": 1.0})
    with pytest.raises(NodeError, match="nosuchnode"):
        net.query("A", evidence={"nosuchnode": 1.0})
    with pytest.raises(NodeError, match="nosuchnode"):
        net.query(["A", "nosuchnode"])
    with pytest.raises(NodeError, match="nosuchnode"):
        mixture_network().query("component", evidence={"nosuchnode": 1.0})


@pytest.mark.parametrize("value", ["high", "1.0x", object()])
def test_non_number_for_a_continuous_node_raises_data_error_naming_the_node(value):
    net = linear_network("gaussian_test")
    with pytest.raises(DataError, match=r"\bB\b"):
        net.query("A", evidence={"B": value})
    with pytest.raises(DataError, match=r"\bx\b"):
        mixture_network().query("component", evidence={"x": value})


def test_non_number_column_in_batched_evidence_raises_data_error():
    net = linear_network("gaussian_test")
    with pytest.raises(DataError, match=r"\bB\b"):
        net.query("A", evidence=pd.DataFrame({"B": ["1.0", "high"]}))


def test_evidence_on_a_continuous_target_is_a_point_mass():
    net, (mean, cov, names) = linear_network("gaussian_test"), linear_joint("gaussian_test")
    result = net.query("C", evidence={"C": 2.5, "A": 1.0})
    np.testing.assert_array_equal(np.ravel(result.mean), [2.5])
    np.testing.assert_array_equal(np.reshape(result.covariance, (1, 1)), [[0.0]])
    np.testing.assert_array_equal(np.ravel(result.std()), [0.0])
    # jointly with an unobserved node: the observed coordinate is fixed, the other conditioned on it
    joint = net.query(["C", "F"], evidence={"C": 2.5, "A": 1.0})
    order = list(joint.names)
    c, f = order.index("C"), order.index("F")
    m, v = schur(mean, cov, names, ["F"], {"C": 2.5, "A": 1.0})
    np.testing.assert_allclose(np.asarray(joint.mean)[[c, f]], [2.5, m[0]], rtol=RTOL_QUERY)
    expected = np.zeros((2, 2))
    expected[f, f] = v[0, 0]
    np.testing.assert_allclose(joint.covariance, expected, rtol=RTOL_QUERY, atol=1e-10 * cov[names.index("F")].max())


def test_evidence_on_a_continuous_target_in_a_hybrid_network_is_a_point_mass():
    result = mixture_network().query("x", evidence={"x": 1.3})
    np.testing.assert_allclose(np.ravel(result.mean), [1.3], rtol=1e-15)
    # every component is the point mass itself ...
    weights = np.asarray(result.weights, dtype=float)
    live = weights > 0
    np.testing.assert_array_equal(np.asarray(result.means, dtype=float)[live], 1.3)
    np.testing.assert_array_equal(np.asarray(result.covariances, dtype=float)[live], 0.0)
    # ... so the mixture's variance is zero up to rounding of the moment formula (std within a few ulps of 1.3)
    assert float(np.ravel(result.std())[0]) <= 4 * np.spacing(1.3)


def test_evidence_on_a_discrete_target_is_a_point_mass():
    result = mixture_network().query("component", evidence={"component": "b", "x": 1.3})
    np.testing.assert_array_equal(result.probabilities, [0.0, 1.0, 0.0])
