"""EM (issue 7): every expected value here is computed in the test, independently of pgm.

- the E-step against brute-force enumeration (discrete) and hand-written
  Gaussian conditioning (linear Gaussian, CLG mixtures), and one whole EM
  iteration of factor analysis written out in NumPy;
- the observed-data log-likelihood never decreases (property-based on random
  networks with random missingness; mixtures; factor analysis);
- complete data is the closed form; EM from the closed form barely moves;
- Gaussian mixtures against scikit-learn's GaussianMixture from the same start,
  factor analysis against scikit-learn's FactorAnalysis;
- alarm with a hidden node: tables recovered up to relabelling, better with
  more data; never below the truth's likelihood when started there;
- values missing at random are used, and it shows on held-out rows;
- errors, the callback and the convergence warning.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from threadpoolctl import threadpool_limits

import pgm
from pgm import BayesianNetwork, Categorical, Dirichlet, Gaussian, LinearGaussian
from pgm.errors import DataError, NotFittedError
from pgm.inference.evidence import as_evidence
from pgm.inference.expectations import expected_statistics
from pgm.learning.em import ConvergenceWarning

#: For fits that stop at max_iter on purpose.
quiet_max_iter = pytest.mark.filterwarnings("ignore::pgm.learning.em.ConvergenceWarning")


# ============================================================================ helpers
def assert_never_decreases(trace, rel=1e-9):
    """The EM trace may only go up (beyond ``rel`` relative rounding)."""
    t = np.asarray(trace, dtype=float)
    assert np.all(np.isfinite(t)), t
    drops = t[:-1] - t[1:]
    worst = int(np.argmax(drops - rel * np.abs(t[:-1]))) if len(t) > 1 else 0
    assert np.all(drops <= rel * np.abs(t[:-1])), (
        f"log-likelihood fell from {t[worst]!r} to {t[worst + 1]!r} at iteration {worst + 1}"
    )


def random_discrete_network(rng, n_nodes, max_states=3, max_parents=3):
    """A random DAG over v0..v{n-1} (parents drawn among earlier nodes) with random tables."""
    names = [f"v{i}" for i in range(n_nodes)]
    cpds = {}
    for i, name in enumerate(names):
        k = int(rng.integers(2, max_states + 1))
        parents = [p for p in names[:i] if rng.random() < 0.6][:max_parents]
        cards = tuple(len(cpds[p].states) for p in parents)
        table = rng.dirichlet(np.full(k, 1.5), size=cards) if cards else rng.dirichlet(np.full(k, 1.5))
        cpds[name] = Categorical([f"s{j}" for j in range(k)], parents=parents, table=table)
    return BayesianNetwork(cpds)


def unfitted_copy(net, latent=()):
    """The same structure and states, no parameters; ``latent`` nodes declared latent."""
    cpds = {}
    for node in net.nodes:
        cpd = net[node]
        if node in latent:
            cpds[node] = Categorical.latent(cpd.states, parents=cpd.parents)
        else:
            cpds[node] = Categorical(cpd.states, parents=cpd.parents)
    return BayesianNetwork(cpds, name=net.name)


def knock_out(frame, fraction, rng, keep=()):
    """Each cell missing with probability ``fraction`` (MCAR), except in ``keep`` columns."""
    holes = rng.random(frame.shape) < fraction
    for j, column in enumerate(frame.columns):
        if column in keep:
            holes[:, j] = False
    return frame.mask(holes)


def brute_force_estep(net, frame, weights=None):
    """Expected counts and log p(observed row), by enumerating every completion of every row.

    The probability of a completion is the chain rule over the CPD tables;
    each completion adds its posterior weight to the count of every family.
    Columns absent from ``frame`` are unobserved in every row.
    """
    nodes = list(net.nodes)
    states = {n: net.states(n) for n in nodes}
    tables = {n: np.asarray(net[n].table) for n in nodes}
    parents = {n: tuple(net[n].parents) for n in nodes}
    counts = {n: np.zeros(tables[n].shape) for n in nodes}
    log_p = np.empty(len(frame))
    records = frame.to_dict("records")
    for r, record in enumerate(records):
        known = {
            n: states[n].index(record[n])
            for n in nodes
            if n in record and not pd.isna(record[n])
        }
        hidden = [n for n in nodes if n not in known]
        completions, probabilities = [], []
        for combo in itertools.product(*(range(len(states[n])) for n in hidden)):
            full = dict(known)
            full.update(zip(hidden, combo))
            p = 1.0
            for n in nodes:
                p *= float(tables[n][tuple(full[q] for q in parents[n]) + (full[n],)])
            completions.append(full)
            probabilities.append(p)
        total = math.fsum(probabilities)
        log_p[r] = math.log(total)
        w = 1.0 if weights is None else float(weights[r])
        for full, p in zip(completions, probabilities):
            if p == 0.0:
                continue
            for n in nodes:
                counts[n][tuple(full[q] for q in parents[n]) + (full[n],)] += w * p / total
    return counts, log_p


def assert_counts_equal(engine, expected, tol=1e-12):
    assert set(engine) == set(expected)
    for node, table in expected.items():
        got = np.asarray(engine[node])
        assert got.shape == table.shape, node
        np.testing.assert_allclose(got, table, rtol=0, atol=tol, err_msg=node)


def codes_of(frame, net, node):
    return pd.Categorical(frame[node], categories=list(net.states(node))).codes


# ============================================================================ 1. E-step = brute force
@pytest.mark.parametrize("name, hidden", [("cancer", "Cancer"), ("asia", "either"), ("asia", "lung")])
def test_estep_counts_equal_enumeration_on_bundled_networks(name, hidden):
    net = pgm.load(name)
    rng = np.random.default_rng(101)
    frame = knock_out(net.sample(150, seed=7), 0.3, rng).drop(columns=[hidden])
    counts, log_ev = expected_statistics(net, as_evidence(net, frame))
    want_counts, want_log = brute_force_estep(net, frame)
    assert_counts_equal(counts, want_counts)
    np.testing.assert_allclose(log_ev, want_log, rtol=0, atol=1e-12)
    # every row's posterior sums to one: each node's expected counts add up to the number of rows
    for node in net.nodes:
        assert math.isclose(float(np.sum(counts[node])), len(frame), rel_tol=1e-13)


@pytest.mark.parametrize("seed", range(10))
def test_estep_counts_equal_enumeration_on_random_networks(seed):
    rng = np.random.default_rng(1000 + seed)
    net = random_discrete_network(rng, int(rng.integers(2, 7)))
    frame = net.sample(60, seed=seed)
    frame = knock_out(frame, float(rng.uniform(0.1, 0.5)), rng)
    if seed % 2 == 0:  # half the cases have a latent node: a column absent altogether
        with_children = [n for n in net.nodes if net.children(n)] or list(net.nodes)
        frame = frame.drop(columns=[with_children[int(rng.integers(len(with_children)))]])
    weights = rng.uniform(0.1, 3.0, len(frame)) if seed % 3 == 0 else None
    counts, log_ev = expected_statistics(net, as_evidence(net, frame), weights)
    want_counts, want_log = brute_force_estep(net, frame, weights)
    assert_counts_equal(counts, want_counts)
    np.testing.assert_allclose(log_ev, want_log, rtol=0, atol=1e-12)


@quiet_max_iter
def test_estep_of_a_fitted_latent_network_equals_enumeration():
    """The E-step on a network whose latent node was fitted by EM (declared latent, no column)."""
    truth = pgm.load("cancer")
    model = unfitted_copy(truth, latent=["Cancer"])
    data = truth.sample(400, seed=3).drop(columns=["Cancer"])
    fitted = model.fit(data, seed=0, max_iter=5, tol=0)
    assert fitted.latent_nodes == ("Cancer",)
    rows = knock_out(data.iloc[:80], 0.2, np.random.default_rng(0))
    counts, log_ev = expected_statistics(fitted, as_evidence(fitted, rows))
    want_counts, want_log = brute_force_estep(fitted, rows)
    assert_counts_equal(counts, want_counts)
    np.testing.assert_allclose(log_ev, want_log, rtol=0, atol=1e-12)


def gaussian_family_moments(post_mean, post_cov, family, weights=None):
    """Statistics of z = x[family] from per-row posterior means (n, d) and covariances (n, d, d)."""
    m = post_mean[:, family]
    w = np.ones(len(m)) if weights is None else np.asarray(weights, dtype=float)
    weight = w.sum()
    centre = w @ m / weight
    dev = m - centre
    co = (dev * w[:, None]).T @ dev + np.einsum("i,iab->ab", w, post_cov[:, family][:, :, family])
    out = np.zeros((len(family) + 1, len(family) + 1))
    out[0, 0] = weight
    out[0, 1:] = out[1:, 0] = centre
    out[1:, 1:] = co
    return out


def test_estep_linear_gaussian_chain_equals_gaussian_conditioning():
    ia, ib, ic = 1.0, -0.5, 2.0      # intercepts
    wb, wc = 1.5, -0.8              # b = ib + wb a + e, c = ic + wc b + e
    va, vb, vc = 2.0, 0.7, 1.3
    net = BayesianNetwork({
        "a": Gaussian(mean=ia, variance=va),
        "b": LinearGaussian(parents=["a"], intercept=ib, weights={"a": wb}, variance=vb),
        "c": LinearGaussian(parents=["b"], intercept=ic, weights={"b": wc}, variance=vc),
    })
    # the joint of (a, b, c) by hand
    mu = np.array([ia, ib + wb * ia, ic + wc * (ib + wb * ia)])
    var_b = wb**2 * va + vb
    sigma = np.array([
        [va, wb * va, wc * wb * va],
        [wb * va, var_b, wc * var_b],
        [wc * wb * va, wc * var_b, wc**2 * var_b + vc],
    ])
    n = 120
    rng = np.random.default_rng(5)
    x = rng.multivariate_normal(mu, sigma, size=n)
    hide = rng.integers(3, size=n)              # one value missing per row
    x_obs = x.copy()
    x_obs[np.arange(n), hide] = np.nan
    frame = pd.DataFrame(x_obs, columns=["a", "b", "c"])

    post_mean = np.empty((n, 3))
    post_cov = np.zeros((n, 3, 3))
    log_p = np.empty(n)
    for i in range(n):
        h = [hide[i]]
        o = [j for j in range(3) if j != hide[i]]
        gain = sigma[np.ix_(h, o)] @ np.linalg.inv(sigma[np.ix_(o, o)])
        post_mean[i, o] = x[i, o]
        post_mean[i, h] = mu[h] + gain @ (x[i, o] - mu[o])
        post_cov[i][np.ix_(h, h)] = sigma[np.ix_(h, h)] - gain @ sigma[np.ix_(o, h)]
        log_p[i] = multivariate_normal(mu[o], sigma[np.ix_(o, o)]).logpdf(x[i, o])

    weights = rng.uniform(0.2, 2.0, n)
    for w in (None, weights):
        stats, log_ev = expected_statistics(net, as_evidence(net, frame), w)
        np.testing.assert_allclose(log_ev, log_p, rtol=1e-12, atol=1e-12)
        for node, family in [("a", [0]), ("b", [0, 1]), ("c", [1, 2])]:
            np.testing.assert_allclose(stats[node], gaussian_family_moments(post_mean, post_cov, family, w),
                                       rtol=1e-10, atol=1e-10, err_msg=node)


def test_estep_clg_mixture_equals_responsibilities_times_moments():
    """z (latent, 3 states) -> x: responsibilities r_ik = pi_k N(x_i; m_k, v_k) / p(x_i)."""
    pi = np.array([0.5, 0.3, 0.2])
    m = np.array([-2.0, 0.5, 3.0])
    v = np.array([0.6, 1.5, 0.9])
    net = BayesianNetwork({
        "z": Categorical(["a", "b", "c"], table=pi),
        "x": LinearGaussian(parents=["z"], intercept=m, variance=v),
    })
    rng = np.random.default_rng(9)
    n = 200
    zs = rng.choice(3, size=n, p=pi)
    x = m[zs] + np.sqrt(v[zs]) * rng.standard_normal(n)
    x[rng.random(n) < 0.15] = np.nan            # some rows observe nothing at all
    seen = ~np.isnan(x)

    dens = pi * np.exp(-0.5 * (x[seen, None] - m) ** 2 / v) / np.sqrt(2 * np.pi * v)
    resp = np.tile(pi, (n, 1))
    resp[seen] = dens / dens.sum(axis=1, keepdims=True)
    # per row and component: E[x | row, z=k] and Var[x | row, z=k]
    ex = np.where(seen[:, None], np.nan_to_num(x)[:, None], m[None, :])
    vx = np.where(seen[:, None], 0.0, v[None, :])
    weight = resp.sum(axis=0)
    mean = (resp * ex).sum(axis=0) / weight
    co = (resp * (vx + (ex - mean) ** 2)).sum(axis=0)
    want_x = np.zeros((3, 2, 2))
    want_x[:, 0, 0] = weight
    want_x[:, 0, 1] = want_x[:, 1, 0] = mean
    want_x[:, 1, 1] = co
    want_log = np.zeros(n)
    want_log[seen] = np.log(dens.sum(axis=1))

    stats, log_ev = expected_statistics(net, as_evidence(net, pd.DataFrame({"x": x})))
    np.testing.assert_allclose(stats["z"], weight, rtol=1e-12)
    np.testing.assert_allclose(stats["x"], want_x, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(log_ev, want_log, rtol=1e-12, atol=1e-12)


def test_estep_clg_with_a_continuous_edge_equals_per_component_conditioning():
    """z -> x1, z -> x2, x1 -> x2 with every pattern of missing values, z observed in some rows, weighted rows."""
    pi = np.array([0.45, 0.35, 0.2])
    b1, v1 = np.array([-1.0, 2.0, 0.0]), np.array([0.8, 1.2, 0.5])
    b2, w2, v2 = np.array([0.5, -1.0, 3.0]), np.array([1.2, -0.4, 0.0]), np.array([0.4, 0.9, 1.6])
    net = BayesianNetwork({
        "z": Categorical(["a", "b", "c"], table=pi),
        "x1": LinearGaussian(parents=["z"], intercept=b1, variance=v1),
        "x2": LinearGaussian(parents=["z", "x1"], intercept=b2, weights=w2[:, None], variance=v2),
    })
    mus = np.stack([b1, b2 + w2 * b1], axis=1)                          # (k, 2)
    covs = np.array([[[v1[k], w2[k] * v1[k]], [w2[k] * v1[k], w2[k] ** 2 * v1[k] + v2[k]]] for k in range(3)])
    rng = np.random.default_rng(11)
    n = 160
    zs = rng.choice(3, size=n, p=pi)
    x = np.stack([rng.multivariate_normal(mus[k], covs[k]) for k in zs])
    x[rng.random((n, 2)) < 0.3] = np.nan
    z_seen = rng.random(n) < 0.25                      # semi-supervised: some rows know their component
    row_weights = rng.uniform(0.2, 2.0, n)

    resp = np.empty((n, 3))
    ez = np.empty((n, 3, 2))             # E[(x1, x2) | row, z=k]
    cz = np.zeros((n, 3, 2, 2))          # Cov[(x1, x2) | row, z=k]
    log_p = np.empty(n)
    for i in range(n):
        o = [j for j in range(2) if not np.isnan(x[i, j])]
        h = [j for j in range(2) if np.isnan(x[i, j])]
        log_joint = np.log(pi).copy()
        if z_seen[i]:
            log_joint[np.arange(3) != zs[i]] = -np.inf
        for k in range(3):
            mu, s = mus[k], covs[k]
            ez[i, k, o] = x[i, o]
            if o:
                log_joint[k] += multivariate_normal(mu[o], s[np.ix_(o, o)]).logpdf(x[i, o])
            if h:
                gain = s[np.ix_(h, o)] @ np.linalg.inv(s[np.ix_(o, o)]) if o else np.zeros((len(h), 0))
                ez[i, k, h] = mu[h] + (gain @ (x[i, o] - mu[o]) if o else 0.0)
                cz[i, k][np.ix_(h, h)] = s[np.ix_(h, h)] - (gain @ s[np.ix_(o, h)] if o else 0.0)
        log_p[i] = logsumexp(log_joint)
        resp[i] = np.exp(log_joint - log_p[i])

    def family(members):
        out = np.zeros((3, len(members) + 1, len(members) + 1))
        for k in range(3):
            r = resp[:, k] * row_weights
            e = ez[:, k][:, members]
            c = cz[:, k][:, members][:, :, members]
            centre = (r[:, None] * e).sum(axis=0) / r.sum()
            dev = e - centre
            out[k, 0, 0] = r.sum()
            out[k, 0, 1:] = out[k, 1:, 0] = centre
            out[k, 1:, 1:] = np.einsum("i,ia,ib->ab", r, dev, dev) + np.einsum("i,iab->ab", r, c)
        return out

    frame = pd.DataFrame({"z": np.where(z_seen, np.array(["a", "b", "c"], dtype=object)[zs], None),
                          "x1": x[:, 0], "x2": x[:, 1]})
    stats, log_ev = expected_statistics(net, as_evidence(net, frame), row_weights)
    np.testing.assert_allclose(log_ev, log_p, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stats["z"], row_weights @ resp, rtol=1e-12)
    np.testing.assert_allclose(stats["x1"], family([0]), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(stats["x2"], family([0, 1]), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------- one EM iteration by hand
def fa_network(b_f, v_f, b_x, w_x, v_x):
    q, d = len(b_f), len(b_x)
    factors = [f"f{j + 1}" for j in range(q)]
    cpds = {f: Gaussian(mean=b_f[j], variance=v_f[j]) for j, f in enumerate(factors)}
    for i in range(d):
        cpds[f"x{i + 1}"] = LinearGaussian(parents=factors, intercept=b_x[i], weights=w_x[i], variance=v_x[i])
    return BayesianNetwork(cpds)


def fa_model(q, d):
    factors = [f"f{j + 1}" for j in range(q)]
    cpds = {f: LinearGaussian.latent() for f in factors}
    cpds.update({f"x{i + 1}": LinearGaussian.unfitted(parents=factors) for i in range(d)})
    return BayesianNetwork(cpds)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("with_hole", [False, True], ids=["same-pattern", "one-missing-cell"])
def test_one_factor_analysis_iteration_equals_numpy(with_hole, weighted):
    """Start LL, and the parameters after one E- and M-step, written out in NumPy.

    Without holes every row observes the same nodes (the engine may use a
    moments-only shortcut); one missing cell sends it down the per-row path.
    """
    rng = np.random.default_rng(17)
    q, d, n = 2, 5, 400
    b_f, v_f = np.array([0.3, -0.2]), np.array([1.4, 0.7])
    b_x, w_x, v_x = rng.normal(size=d), rng.normal(size=(d, q)), rng.uniform(0.3, 1.0, d)
    start = fa_network(b_f, v_f, b_x, w_x, v_x)
    x = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    if with_hole:
        x[7, 3] = np.nan
    frame = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(d)])
    weights = rng.uniform(0.1, 3.0, n) if weighted else None
    total = n if weights is None else weights.sum()

    # the joint over v = (f1..fq, x1..xd) under the start
    mu = np.concatenate([b_f, b_x + w_x @ b_f])
    s_ff = np.diag(v_f)
    sigma = np.block([[s_ff, s_ff @ w_x.T], [w_x @ s_ff, w_x @ s_ff @ w_x.T + np.diag(v_x)]])
    post_mean = np.empty((n, q + d))
    post_cov = np.zeros((n, q + d, q + d))
    log_p = np.empty(n)
    for i in range(n):
        o = [q + j for j in range(d) if not np.isnan(x[i, j])]
        h = [j for j in range(q + d) if j not in o]
        gain = sigma[np.ix_(h, o)] @ np.linalg.inv(sigma[np.ix_(o, o)])
        post_mean[i, o] = x[i, [j - q for j in o]]
        post_mean[i, h] = mu[h] + gain @ (post_mean[i, o] - mu[o])
        post_cov[i][np.ix_(h, h)] = sigma[np.ix_(h, h)] - gain @ sigma[np.ix_(o, h)]
        log_p[i] = multivariate_normal(mu[o], sigma[np.ix_(o, o)]).logpdf(post_mean[i, o])

    with pytest.warns(ConvergenceWarning):
        fitted = fa_model(q, d).fit(frame, init=start, max_iter=1, weights=weights)
    report = fitted.fit_report_
    assert report.n_iter == 1 and len(report.log_likelihood) == 2
    want_ll = log_p.mean() if weights is None else weights @ log_p / total
    assert math.isclose(report.log_likelihood[0], want_ll, rel_tol=1e-11)

    for j in range(q):  # a root: mean and variance of its posterior
        moments = gaussian_family_moments(post_mean, post_cov, [j], weights)
        assert math.isclose(float(fitted[f"f{j + 1}"].intercept), moments[0, 1], rel_tol=1e-9, abs_tol=1e-11)
        assert math.isclose(float(fitted[f"f{j + 1}"].variance), moments[1, 1] / total, rel_tol=1e-9)
    for i in range(d):  # a child: least squares on expected moments
        moments = gaussian_family_moments(post_mean, post_cov, list(range(q)) + [q + i], weights)
        centre, co = moments[0, 1:], moments[1:, 1:]
        w = np.linalg.solve(co[:q, :q], co[:q, q])
        cpd = fitted[f"x{i + 1}"]
        np.testing.assert_allclose(np.ravel(cpd.weights), w, rtol=1e-8, atol=1e-10)
        assert math.isclose(float(cpd.intercept), centre[q] - w @ centre[:q], rel_tol=1e-8, abs_tol=1e-10)
        assert math.isclose(float(cpd.variance), (co[q, q] - w @ co[:q, q]) / total, rel_tol=1e-8)


# ============================================================================ 2. monotonicity
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), fraction=st.floats(0.05, 0.6), hide_one=st.booleans())
def test_discrete_em_never_decreases_on_random_networks(seed, fraction, hide_one):
    rng = np.random.default_rng(seed)
    truth = random_discrete_network(rng, int(rng.integers(2, 7)))
    data = knock_out(truth.sample(250, seed=seed % 2**31), fraction, rng)
    latent = []
    if hide_one:
        with_children = [n for n in truth.nodes if truth.children(n)]
        if with_children:
            latent = [with_children[int(rng.integers(len(with_children)))]]
            data = data.drop(columns=latent)
    model = unfitted_copy(truth, latent=latent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = model.fit(data, seed=seed % 2**31, max_iter=25, tol=0)
    assert_never_decreases(fitted.fit_report_.log_likelihood)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), fraction=st.floats(0.05, 0.4))
def test_linear_gaussian_em_never_decreases_with_scattered_missing_values(seed, fraction):
    rng = np.random.default_rng(seed)
    n_nodes = int(rng.integers(2, 6))
    cpds = {}
    for i in range(n_nodes):
        parents = [f"g{j}" for j in range(i) if rng.random() < 0.6]
        cpds[f"g{i}"] = LinearGaussian(parents=parents, intercept=float(rng.normal()),
                                       weights=rng.normal(size=len(parents)) if parents else None,
                                       variance=float(rng.uniform(0.3, 2.0)))
    truth = BayesianNetwork(cpds)
    data = knock_out(truth.sample(300, seed=seed % 2**31), fraction, rng)
    model = BayesianNetwork({n: LinearGaussian.unfitted(parents=truth[n].parents) for n in truth.nodes})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = model.fit(data, seed=seed % 2**31, max_iter=25, tol=0)
    assert_never_decreases(fitted.fit_report_.log_likelihood)


# ============================================================================ 3. complete data
def test_complete_data_is_the_closed_form_without_a_report():
    truth = pgm.load("cancer")
    data = truth.sample(3000, seed=2)
    fitted = unfitted_copy(truth).fit(data)
    assert not hasattr(fitted, "fit_report_")
    for node in truth.nodes:
        family = list(truth[node].parents) + [node]
        counts = np.zeros(truth[node].table.shape)
        np.add.at(counts, tuple(codes_of(data, truth, p) for p in family), 1.0)
        np.testing.assert_allclose(fitted[node].table, counts / counts.sum(axis=-1, keepdims=True),
                                   rtol=0, atol=1e-15, err_msg=node)


def test_em_on_complete_data_reaches_the_closed_form_after_one_iteration():
    """The EM loop itself (pgm.learning.em.em), handed complete data: one M-step is the closed form."""
    from pgm.data import to_dataset
    from pgm.learning.em import em

    truth = pgm.load("cancer")
    data = truth.sample(2000, seed=4)
    model = unfitted_copy(truth)
    closed = model.fit(data)
    result = em(model, to_dataset(data, model.domains), seed=0, tol=1e-12)
    trace = result.fit_report_.log_likelihood
    assert result.fit_report_.converged
    assert math.isclose(trace[1], trace[-1], rel_tol=1e-13)
    assert math.isclose(trace[-1], float(closed.log_likelihood(data).mean()), rel_tol=1e-13)
    for node in truth.nodes:
        np.testing.assert_allclose(result[node].table, closed[node].table, rtol=0, atol=1e-13)


@pytest.mark.filterwarnings("ignore::pgm.errors.UnseenConfigurationWarning")
def test_em_from_the_closed_form_with_one_missing_cell_converges_at_once():
    truth = pgm.load("asia")
    data = truth.sample(4000, seed=6)
    closed = unfitted_copy(truth).fit(data)
    holed = data.copy()
    holed.loc[17, "lung"] = np.nan
    fitted = closed.fit(holed, init="current")
    report = fitted.fit_report_
    assert report.converged and report.n_iter <= 3, report
    assert_never_decreases(report.log_likelihood)
    for node in truth.nodes:  # one row's worth of counts can move a table by at most 1/N per configuration
        assert np.abs(fitted[node].table - closed[node].table).max() < 0.05, node
    assert np.abs(fitted["smoke"].table - closed["smoke"].table).max() <= 1 / len(data) + 1e-15


# ============================================================================ 4. Gaussian mixtures vs scikit-learn
K, D = 3, 4
COLUMNS = [f"x{j + 1}" for j in range(D)]
STATES = [f"c{k}" for k in range(K)]


def mixture_data(n=5000, seed=3):
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, 1.0, size=(K, D))  # overlapping: EM needs tens of iterations
    a = rng.normal(size=(K, D, D))
    covs = a @ a.transpose(0, 2, 1) / D + 0.3 * np.eye(D)
    z = rng.choice(K, size=n, p=[0.5, 0.3, 0.2])
    x = np.stack([rng.multivariate_normal(means[k], covs[k]) for k in z])
    return x, z


def mixture_start(x, z, full):
    """Initial parameters chosen here: one data point of each true class, pooled (co)variance."""
    weights = np.array([0.4, 0.35, 0.25])
    means = np.stack([x[np.flatnonzero(z == k)[0]] for k in range(K)])
    cov = np.cov(x.T, bias=True)
    covs = np.tile(cov if full else np.diag(np.diag(cov)), (K, 1, 1))
    return weights, means, covs


def clg_from_moments(weights, means, covs, full):
    """A fitted pgm mixture: x_j | z, x_<j ~ N(mu_j + w (x_<j - mu_<j), conditional variance)."""
    cpds = {"z": Categorical(STATES, table=weights)}
    for j, column in enumerate(COLUMNS):
        earlier = COLUMNS[:j] if full else []
        p = len(earlier)
        b, w, v = np.empty(K), np.empty((K, p)), np.empty(K)
        for k in range(K):
            s = covs[k]
            w[k] = np.linalg.solve(s[:p, :p], s[:p, j]) if p else np.zeros(0)
            b[k] = means[k, j] - w[k] @ means[k, :p]
            v[k] = s[j, j] - s[j, :p] @ w[k]
        cpds[column] = LinearGaussian(parents=["z"] + earlier, intercept=b, weights=w if p else None, variance=v)
    return BayesianNetwork(cpds)


def moments_from_clg(net, full):
    """Per-component mean and covariance of x from a fitted CLG mixture (linear Gaussian recursion)."""
    means, covs = np.zeros((K, D)), np.zeros((K, D, D))
    for j, column in enumerate(COLUMNS):
        cpd = net[column]
        p = j if full else 0
        for k in range(K):
            w = np.asarray(cpd.weights, dtype=float).reshape(K, -1)[k] if p else np.zeros(0)
            means[k, j] = float(np.asarray(cpd.intercept)[k]) + w @ means[k, :p]
            covs[k, :p, j] = covs[k, j, :p] = covs[k, :p, :p] @ w
            covs[k, j, j] = float(np.asarray(cpd.variance)[k]) + w @ covs[k, :p, :p] @ w
    return np.asarray(net["z"].table, dtype=float), means, covs


def mixture_mean_loglik(x, weights, means, covs):
    parts = [np.log(weights[k]) + multivariate_normal(means[k], covs[k]).logpdf(x) for k in range(K)]
    return float(np.mean(logsumexp(np.stack(parts), axis=0)))


def mixture_model(full):
    cpds = {"z": Categorical.latent(STATES)}
    for j, column in enumerate(COLUMNS):
        cpds[column] = LinearGaussian.unfitted(parents=["z"] + (COLUMNS[:j] if full else []))
    return BayesianNetwork(cpds)


@pytest.mark.parametrize("full", [False, True], ids=["diag", "full"])
def test_gaussian_mixture_matches_scikit_learn_from_the_same_start(full):
    from sklearn.mixture import GaussianMixture

    x, z = mixture_data()
    w0, m0, s0 = mixture_start(x, z, full)
    start = clg_from_moments(w0, m0, s0, full)
    # the start network holds the chosen parameters (checks the conversion both ways)
    back = moments_from_clg(start, full)
    np.testing.assert_allclose(back[1], m0, atol=1e-12)
    np.testing.assert_allclose(back[2], s0, atol=1e-12)

    fitted = mixture_model(full).fit(pd.DataFrame(x, columns=COLUMNS), init=start, tol=1e-13, max_iter=5000)
    report = fitted.fit_report_
    assert report.converged
    assert_never_decreases(report.log_likelihood)
    precisions = np.linalg.inv(s0) if full else 1.0 / np.diagonal(s0, axis1=1, axis2=2)
    sk = GaussianMixture(K, covariance_type="full" if full else "diag", weights_init=w0, means_init=m0,
                         precisions_init=precisions, reg_covar=0.0, tol=1e-13, max_iter=5000)
    with threadpool_limits(1):  # a reference computation: keep BLAS threads from fighting on a busy machine
        sk.fit(x)
    assert sk.converged_

    weights, means, covs = moments_from_clg(fitted, full)
    ours = mixture_mean_loglik(x, weights, means, covs)
    assert math.isclose(report.log_likelihood[-1], ours, rel_tol=0, abs_tol=1e-9)
    assert abs(ours - sk.score(x)) < 1e-6
    assert report.n_iter > 20  # a real run, not a start next to the optimum

    sk_covs = sk.covariances_ if full else np.stack([np.diag(c) for c in sk.covariances_])
    perm = min(itertools.permutations(range(K)), key=lambda p: np.abs(means[list(p)] - sk.means_).max())
    np.testing.assert_allclose(weights[list(perm)], sk.weights_, atol=1e-6)
    np.testing.assert_allclose(means[list(perm)], sk.means_, atol=1e-5)
    np.testing.assert_allclose(covs[list(perm)], sk_covs, atol=1e-5)


def test_restarts_are_never_worse_than_one_start():
    x, _ = mixture_data(n=3000, seed=8)
    frame = pd.DataFrame(x, columns=COLUMNS)
    model = mixture_model(full=False)
    one = model.fit(frame, init="kmeans++", seed=5, tol=1e-8, max_iter=1000)
    three = model.fit(frame, init="kmeans++", seed=5, n_init=3, tol=1e-8, max_iter=1000)
    single = one.fit_report_.log_likelihood[-1]
    report = three.fit_report_
    assert len(report.restarts) == 3
    assert report.restarts[0] == pytest.approx(single, abs=1e-12)   # same seed sequence: same first start
    assert report.log_likelihood[-1] == max(report.restarts)
    assert report.best_init == int(np.argmax(report.restarts))
    assert report.log_likelihood[-1] >= single
    assert_never_decreases(report.log_likelihood)


# ============================================================================ 5. factor analysis vs scikit-learn
def test_factor_analysis_reaches_scikit_learn():
    from sklearn.decomposition import FactorAnalysis

    rng = np.random.default_rng(5)
    n, d, q = 3000, 8, 3
    loadings, psi, mu = rng.normal(size=(d, q)), rng.uniform(0.2, 1.0, d), rng.normal(size=d)
    x = mu + rng.standard_normal((n, q)) @ loadings.T + rng.standard_normal((n, d)) * np.sqrt(psi)
    frame = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(d)])

    fitted = fa_model(q, d).fit(frame, seed=0, tol=1e-7, max_iter=5000)
    report = fitted.fit_report_
    assert report.converged
    assert_never_decreases(report.log_likelihood)

    # the model's marginal of x, from the fitted parameters by hand
    b_f = np.array([float(fitted[f"f{j + 1}"].intercept) for j in range(q)])
    v_f = np.array([float(fitted[f"f{j + 1}"].variance) for j in range(q)])
    w = np.stack([np.ravel(fitted[f"x{i + 1}"].weights) for i in range(d)])
    assert fitted["x1"].parents == ("f1", "f2", "f3")
    b_x = np.array([float(fitted[f"x{i + 1}"].intercept) for i in range(d)])
    v_x = np.array([float(fitted[f"x{i + 1}"].variance) for i in range(d)])
    ours = float(multivariate_normal(b_x + w @ b_f, w @ np.diag(v_f) @ w.T + np.diag(v_x)).logpdf(x).mean())
    assert math.isclose(report.log_likelihood[-1], ours, rel_tol=1e-10)

    with threadpool_limits(1):  # as above; tight tol: compare with sklearn's maximum, not an early stop
        sk = FactorAnalysis(n_components=q, svd_method="lapack", tol=1e-8, max_iter=10_000).fit(x)
    assert ours >= sk.score(x) - 1e-4


# ============================================================================ 6. alarm with a hidden node
HIDDEN = "LVFAILURE"


def table_error_after_relabelling(truth, fitted, hidden):
    """Max abs error over the hidden node's table and its children's, for the best relabelling."""
    k = len(truth.states(hidden))
    family = [hidden] + list(truth.children(hidden))
    best = None
    for perm in itertools.permutations(range(k)):
        errors = {}
        for node in family:
            assert fitted[node].parents == truth[node].parents
            table = fitted[node].table
            axis = table.ndim - 1 if node == hidden else list(fitted[node].parents).index(hidden)
            errors[node] = float(np.abs(np.take(table, list(perm), axis=axis) - truth[node].table).max())
        worst = max(errors.values())
        if best is None or worst < best[0]:
            best = (worst, perm, errors)
    return best


@pytest.fixture(scope="module")
def alarm_hidden_data():
    truth = pgm.load("alarm")
    return truth, truth.sample(50_000, seed=11).drop(columns=[HIDDEN])


def test_hidden_node_tables_are_recovered_better_with_more_data(alarm_hidden_data):
    truth, data = alarm_hidden_data
    model = unfitted_copy(truth, latent=[HIDDEN])
    assert model.latent_nodes == (HIDDEN,) and len(model.unfitted_nodes) == len(truth)
    errors = {}
    for n in (5_000, 50_000):
        fitted = model.fit(data.iloc[:n], init="random", seed=0, max_iter=100, tol=1e-6)
        report = fitted.fit_report_
        assert report.converged, report
        assert_never_decreases(report.log_likelihood)
        errors[n] = table_error_after_relabelling(truth, fitted, HIDDEN)
    assert errors[50_000][0] < errors[5_000][0], errors
    assert errors[50_000][0] < 0.05, errors
    assert errors[5_000][0] < 0.2, errors


def test_em_from_the_truth_never_ends_below_the_truth(alarm_hidden_data):
    truth, data = alarm_hidden_data
    rows = data.iloc[:5_000]
    truth_ll = float(truth.log_likelihood(rows).mean())  # marginalises the hidden node
    fitted = unfitted_copy(truth, latent=[HIDDEN]).fit(rows, init=truth, max_iter=100, tol=1e-6)
    trace = fitted.fit_report_.log_likelihood
    assert math.isclose(trace[0], truth_ll, rel_tol=1e-12)
    assert_never_decreases(trace)
    assert trace[-1] >= truth_ll
    assert float(fitted.log_likelihood(rows).mean()) >= truth_ll


@quiet_max_iter
@pytest.mark.parametrize("latent", [[], ["either"]], ids=["complete-and-incomplete-rows", "latent-node"])
def test_weights_are_repeated_rows_inside_em(latent):
    """Unique rows with their counts as weights give the same EM run as the rows themselves."""
    truth = pgm.load("asia")
    data = knock_out(truth.sample(3000, seed=12), 0.1, np.random.default_rng(12)).drop(columns=latent)
    if not latent:
        assert 0 < len(data.dropna()) < len(data)  # both the closed-form and the inference path
    grouped = data.astype(object).fillna("<na>").value_counts().reset_index(name="n")
    unique = grouped.drop(columns="n").replace("<na>", np.nan)
    model = unfitted_copy(truth, latent=latent)
    begin = model.fit(data, seed=1, max_iter=2, tol=0)
    plain = model.fit(data, init=begin, max_iter=15, tol=0)
    weighted = model.fit(unique, weights=grouped["n"].to_numpy(dtype=float), init=begin, max_iter=15, tol=0)
    assert len(unique) < len(data)
    np.testing.assert_allclose(weighted.fit_report_.log_likelihood, plain.fit_report_.log_likelihood,
                               rtol=1e-12)
    for node in truth.nodes:
        np.testing.assert_allclose(weighted[node].table, plain[node].table, rtol=0, atol=1e-12)


# ============================================================================ 7. values missing at random
@pytest.mark.parametrize("name", ["alarm", "asia"])
def test_em_on_incomplete_rows_beats_complete_rows_only(name):
    truth = pgm.load(name)
    train = truth.sample(5_000, seed=21)
    held_out = truth.sample(2_000, seed=22)
    holed = knock_out(train, 0.2, np.random.default_rng(23))
    complete = holed.dropna()
    assert len(complete) >= 1
    model = unfitted_copy(truth)
    prior = Dirichlet(1.0)
    em_fit = model.fit(holed, prior=prior, seed=0, max_iter=50, tol=1e-6)
    complete_fit = model.fit(complete, prior=prior)
    assert not hasattr(complete_fit, "fit_report_")
    em_score = float(em_fit.log_likelihood(held_out).mean())
    complete_score = float(complete_fit.log_likelihood(held_out).mean())
    full_score = float(model.fit(train, prior=prior).log_likelihood(held_out).mean())
    assert em_score > complete_score, (em_score, complete_score)
    # with a prior EM climbs the log posterior: mean log-likelihood + sum(alpha log theta) / N
    report = em_fit.fit_report_
    assert_never_decreases(report.objective)
    log_prior = sum(float(np.log(em_fit[node].table).sum()) for node in truth.nodes)  # alpha = 1 everywhere
    observed_ll = float(em_fit.log_likelihood(holed).mean())
    assert math.isclose(report.log_likelihood[-1], observed_ll, rel_tol=1e-11)
    assert math.isclose(report.objective[-1], observed_ll + log_prior / len(holed), rel_tol=1e-11)
    # and EM's fit is nearly as good as the one from the data before the values were removed
    margin = min(0.05, 0.25 * (full_score - complete_score))
    assert em_score > full_score - margin, (em_score, full_score, complete_score)


# ============================================================================ 8. errors
def test_latent_node_with_values_in_the_data_is_refused():
    truth = pgm.load("cancer")
    model = unfitted_copy(truth, latent=["Smoker"])
    data = truth.sample(100, seed=0)
    with pytest.raises(DataError, match="'Smoker'"):
        model.fit(data)


def test_latent_column_of_only_missing_values_is_the_same_as_no_column():
    truth = pgm.load("cancer")
    model = unfitted_copy(truth, latent=["Smoker"])
    data = truth.sample(500, seed=0)
    absent = model.fit(data.drop(columns=["Smoker"]), seed=3, max_iter=20)
    empty = model.fit(data.assign(Smoker=np.nan), seed=3, max_iter=20)
    assert absent.fit_report_.log_likelihood == pytest.approx(empty.fit_report_.log_likelihood, rel=1e-14)


def test_unfitted_networks_cannot_be_sampled_scored_or_queried():
    truth = pgm.load("cancer")
    net = truth.with_cpd("Cancer", Categorical(["True", "False"], parents=["Pollution", "Smoker"]))
    assert net.unfitted_nodes == ("Cancer",) and not net.is_fitted
    rows = truth.sample(5, seed=0)
    for action in (lambda: net.sample(3), lambda: net.log_likelihood(rows), lambda: net.query("Cancer")):
        with pytest.raises(NotFittedError, match="'Cancer'"):
            action()
    with pytest.raises(NotFittedError, match="'Cancer'"):
        net.fit(rows.drop(columns=["Xray"]), init="current")
    latent = unfitted_copy(truth, latent=["Smoker"])
    with pytest.raises(NotFittedError, match="'Smoker'"):
        latent.sample(3)


@pytest.mark.parametrize("latent", [False, True], ids=["complete-columns", "with-latent-node"])
def test_fit_with_zero_rows_is_a_data_error(latent):
    truth = pgm.load("cancer")
    model = unfitted_copy(truth, latent=["Smoker"] if latent else [])
    data = truth.sample(10, seed=0).iloc[:0]
    if latent:
        data = data.drop(columns=["Smoker"])
    with pytest.raises(DataError, match="row"):
        model.fit(data)


# ============================================================================ 9. callback and convergence warning
def test_callback_sees_every_e_step_in_order():
    truth = pgm.load("cancer")
    data = truth.sample(2000, seed=1).drop(columns=["Cancer"])
    calls = []
    fitted = unfitted_copy(truth, latent=["Cancer"]).fit(
        data, seed=2, max_iter=500, tol=1e-6, callback=lambda i, ll, net: calls.append((i, ll, net)))
    report = fitted.fit_report_
    assert [c[0] for c in calls] == list(range(len(report.log_likelihood)))
    assert len(report.log_likelihood) == report.n_iter + 1
    assert [c[1] for c in calls] == report.log_likelihood
    assert all(isinstance(c[2], BayesianNetwork) and c[2].is_fitted for c in calls)
    # the network handed to the callback is the one the log-likelihood belongs to
    _, ll, net = calls[len(calls) // 2]
    assert math.isclose(float(net.log_likelihood(data).mean()), ll, rel_tol=1e-12)
    assert "EM on 2,000 rows" in repr(report)


def test_convergence_warning_when_max_iter_is_hit():
    truth = pgm.load("alarm")
    data = truth.sample(2000, seed=5).drop(columns=[HIDDEN])
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        fitted = unfitted_copy(truth, latent=[HIDDEN]).fit(data, seed=0, max_iter=2, tol=1e-10)
    report = fitted.fit_report_
    assert not report.converged and report.n_iter == 2 and len(report.log_likelihood) == 3


def test_fit_report_reads_plots_and_shows_progress(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    net = pgm.BayesianNetwork({
        "z": pgm.Categorical.latent(["a", "b"]),
        "x": pgm.LinearGaussian.unfitted(parents=["z"]),
    })
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 1, 300), rng.normal(2, 1, 200)])
    fitted = net.fit({"x": x}, seed=1, progress=True, max_iter=500)
    report = fitted.fit_report_
    text = repr(report)
    assert "EM on 500 rows" in text and f"{report.n_iter} iteration" in text
    assert "EM" in capsys.readouterr().err  # the tqdm bar went to standard error
    axes = report.plot()
    line = axes.get_lines()[0]
    np.testing.assert_array_equal(line.get_ydata(), report.log_likelihood)
    axes.figure.savefig(tmp_path / "trace.png")
    assert (tmp_path / "trace.png").stat().st_size > 0


def test_a_report_says_when_the_start_was_already_a_fixed_point():
    # Well-separated clusters: k-means++ lands on EM's fixed point, and one EM step changes nothing.
    net = pgm.BayesianNetwork({"z": pgm.Categorical.latent(["a", "b"]),
                               "x": pgm.LinearGaussian.unfitted(parents=["z"])})
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-2, 1, 3000), rng.normal(3, 0.5, 2000)])
    settled = net.fit({"x": x}, init="kmeans++", seed=0).fit_report_
    assert settled.n_iter == 1 and "already a fixed point" in repr(settled)
    moving = net.fit({"x": x}, init=pgm.BayesianNetwork({
        "z": pgm.Categorical(["a", "b"], table=[0.5, 0.5]),
        "x": pgm.LinearGaussian(parents=["z"], intercept=[-1.0, 1.0], variance=[4.0, 4.0])})).fit_report_
    assert moving.n_iter > 1 and "already a fixed point" not in repr(moving)


def test_cli_fit_runs_em_with_a_latent_node_and_prints_the_trace(tmp_path, capsys):
    from pgm.cli import main

    truth = pgm.load("asia")
    path = tmp_path / "rows.csv"
    truth.sample(3_000, seed=2).drop(columns="either").to_csv(path, index=False)
    output = tmp_path / "fitted.json"
    status = main(["fit", "asia", str(path), "-o", str(output), "--latent", "either", "--seed", "0",
                   "--max-iter", "15", "--prior", "dirichlet:0.1"])  # (issue 17: --no-progress silences the lines)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "EM iteration 0: mean log-likelihood" in err and "EM on 3,000 rows" in out
    fitted = pgm.read(output)
    assert fitted.latent_nodes == ("either",) and fitted.is_fitted


def test_declared_latent_nodes_are_drawn_dashed_and_kept_in_json(tmp_path):
    from pgm.render import to_graphviz

    net = pgm.BayesianNetwork({
        "z": pgm.Categorical.latent(["a", "b"]),
        "x": pgm.LinearGaussian.unfitted(parents=["z"]),
    })
    source = to_graphviz(net).source
    z_line = next(line for line in source.splitlines() if line.strip().startswith("z ") or line.strip().startswith('"z"'))
    assert "dashed" in z_line
    net.write(tmp_path / "model.json")
    back = pgm.read(tmp_path / "model.json")
    assert back == net and back.latent_nodes == ("z",) and back.unfitted_nodes == ("z", "x")
