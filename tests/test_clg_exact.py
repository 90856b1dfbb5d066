"""Hybrid (CLG) inference against exact enumeration in rational arithmetic, peaked densities included.

The reference sums over every configuration of the discrete nodes and, for
each, takes the closed-form Gaussian joint of the continuous nodes: means
and covariances propagated through the weights, the observed part's density
and the hidden part's conditional moments by Schur complements -- all in
``fractions.Fraction``, so it is exact for the float64 inputs (every float
is a dyadic rational).  It shares nothing with the engine (which eliminates
variables in a square-root information form) but the parameters the test
drew itself.

"Peaked" networks have residual variances down to 2^-44 (sd 2.4e-7) and
weights up to 64: a child nearly determined by its parents, as in an
autoregressive HMM fitted to smooth data.  There the information form's
expanded quadratics cancel (terms near 1e11 for a log density near 1), which
lost 1.2e-5 nats on the unrolled autoregressive HMM of
``test_unrolled_autoregressive_hmm_log_evidence_equals_exact_enumeration``.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.inference import gaussian_elimination

LOG_2PI = math.log(2 * math.pi)


# ---------------------------------------------------------------------------- random CLG networks
def random_clg(seed: int, peaked: bool):
    """A random CLG network and the parameters it was built from (the reference reads only these)."""
    rng = np.random.default_rng(seed)
    discrete, continuous, cpds = [], [], {}
    for k in range(int(rng.integers(1, 3))):
        name, states = f"d{k}", [f"s{j}" for j in range(int(rng.integers(2, 4)))]
        parents = [d for d, _, _, _ in discrete if rng.random() < 0.5]
        cards = tuple(len(s) for d, s, _, _ in discrete if d in parents)
        table = rng.dirichlet(np.ones(len(states)), size=cards) if cards else rng.dirichlet(np.ones(len(states)))
        discrete.append((name, states, parents, table))
        cpds[name] = Categorical(states, parents=parents, table=table)
    states_of = {d: s for d, s, _, _ in discrete}
    for i in range(int(rng.integers(2, 5))):
        name = f"x{i}"
        parents = [c for c, *_ in continuous if rng.random() < 0.6][-2:]
        keys = [d for d, *_ in discrete if rng.random() < 0.7]
        cards = tuple(len(states_of[d]) for d in keys)
        big = peaked and rng.random() < 0.6
        weights = {p: np.round(rng.uniform(-64 if big else -1, 64 if big else 1, size=cards) * 64) / 64 for p in parents}
        intercept = np.round(rng.uniform(-4, 4, size=cards) * 64) / 64
        if peaked and parents and rng.random() < 0.7:
            variance = 2.0 ** -rng.integers(30, 45, size=cards).astype(float)
        else:
            variance = rng.uniform(0.25, 4.0, size=cards)
        continuous.append((name, keys, parents, intercept, weights, variance))
        cpds[name] = LinearGaussian(parents=keys + parents, intercept=intercept, weights=weights or None,
                                    variance=variance)
    return BayesianNetwork(cpds), discrete, continuous


def parameters_of(net):
    """The (discrete, continuous) parameter lists of a network of tables and linear Gaussians, as drawn above."""
    discrete, continuous = [], []
    for name in net.nodes:
        cpd = net[name]
        if cpd.is_discrete:
            discrete.append((name, list(net.states(name)), list(cpd.parents), np.asarray(cpd.table)))
        else:
            parents = list(cpd.continuous_parents)
            assert all(f.is_identity for f in cpd.features) and len(cpd.features) == len(parents)
            cards = tuple(len(net.states(d)) for d in cpd.discrete_parents)
            weights = np.asarray(cpd.weights).reshape(cards + (len(parents),))
            continuous.append((name, list(cpd.discrete_parents), parents, np.asarray(cpd.intercept).reshape(cards),
                               {p: weights[..., j] for j, p in enumerate(parents)},
                               np.asarray(cpd.variance).reshape(cards)))
    return discrete, continuous


def condition(continuous, full: pd.DataFrame) -> np.ndarray:
    """Per row, the largest ``(|x_i| + |b_i| + sum_j |w_ij x_j|) / sd_i`` over nodes and configurations.

    Rounding the row's values (or any residual ``x_i - b_i - w_i . x``) by
    one unit in the last place moves a standardised residual by ``eps`` times
    this: the problem's own condition number, which no float64 algorithm can
    beat, so tolerances scale with it.  ``full`` holds every value, hidden ones too.
    """
    worst = np.zeros(len(full))
    for name, keys, parents, intercept, weights, variance in continuous:
        size = np.abs(full[name].to_numpy(float))[:, None] + np.abs(intercept).ravel()[None, :]
        for p in parents:
            size = size + np.abs(full[p].to_numpy(float))[:, None] * np.abs(weights[p]).ravel()[None, :]
        worst = np.maximum(worst, (size / np.sqrt(variance).ravel()[None, :]).max(axis=1))
    return worst


def tolerance(kappa: float, size: float = 1.0) -> float:
    """Absolute tolerance for an answer of magnitude ``size`` whose problem has condition ``kappa``."""
    return 1e-9 * max(1.0, abs(size)) + 64 * np.finfo(float).eps * kappa


def evidence_rows(net, discrete, continuous, seed: int, n: int = 10) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows sampled from ``net`` with values knocked out (continuous 40%, discrete 50%), and their conditions.

    About a third of the continuous nodes stay observed in every row: an
    edge from such a parent cuts the Gaussian blocks (see
    :mod:`pgm.inference.gaussian_blocks`), which the answers must not notice.
    """
    rng = np.random.default_rng(seed + 7)
    full = net.sample(n, seed=seed)
    rows = full.astype(object)
    for name, *_ in continuous:
        if rng.random() < 0.35:
            continue
        rows.loc[rng.random(n) < 0.4, name] = np.nan
    for name, *_ in discrete:
        rows.loc[rng.random(n) < 0.5, name] = None
    return rows, condition(continuous, full)


# ---------------------------------------------------------------------------- the exact reference
def _solve(A: list, B: list) -> tuple[list, Fraction]:
    """``A^-1 B`` and ``det A`` for a symmetric positive definite ``A`` (lists of Fractions), by Gauss-Jordan."""
    n = len(A)
    M = [list(A[i]) + list(B[i]) for i in range(n)]
    det = Fraction(1)
    for j in range(n):
        pivot = M[j][j]
        det *= pivot
        M[j] = [v / pivot for v in M[j]]
        for i in range(n):
            if i != j and M[i][j] != 0:
                factor = M[i][j]
                M[i] = [a - factor * b for a, b in zip(M[i], M[j])]
    return [row[n:] for row in M], det


def _log(value: Fraction) -> float:
    return math.log(value.numerator) - math.log(value.denominator)


def exact_moments(discrete, continuous, configuration: dict):
    """Prior means and covariances of the continuous nodes given one discrete configuration, exactly."""
    names = [c for c, *_ in continuous]
    mean: dict = {}
    cov: dict = {}
    states_of = {d: s for d, s, _, _ in discrete}
    for name, keys, parents, intercept, weights, variance in continuous:
        at = tuple(states_of[d].index(configuration[d]) for d in keys)
        b, d = Fraction(float(intercept[at])), Fraction(float(variance[at]))
        w = {p: Fraction(float(weights[p][at])) for p in parents}
        mean[name] = b + sum((w[p] * mean[p] for p in parents), Fraction(0))
        for other in names[:names.index(name)]:
            cov[name, other] = cov[other, name] = sum((w[p] * cov[p, other] for p in parents), Fraction(0))
        cov[name, name] = d + sum((w[p] * w[q] * cov[p, q] for p in parents for q in parents), Fraction(0))
    return mean, cov


def log_discrete(discrete, configuration: dict) -> float:
    """log p(configuration) of the discrete nodes, from their tables."""
    states_of = {d: s for d, s, _, _ in discrete}
    total = 0.0
    for name, states, parents, table in discrete:
        at = tuple(states_of[p].index(configuration[p]) for p in parents) + (states.index(configuration[name]),)
        total += math.log(float(table[at]))
    return total


def exact_answers(discrete, continuous, row: dict):
    """log p(row), p(d | row) for each discrete node, and each hidden continuous node's mixture mean and sd.

    With two or more hidden continuous nodes, ``"joint"`` holds their names, means and covariance matrix.
    """
    names = [c for c, *_ in continuous]
    observed = [c for c in names if row.get(c) is not None and not (isinstance(row[c], float) and math.isnan(row[c]))]
    hidden = [c for c in names if c not in observed]
    terms, configurations, conditionals = [], [], []
    for combo in itertools.product(*[states for _, states, _, _ in discrete]):
        configuration = dict(zip([d for d, *_ in discrete], combo))
        if any(row.get(d) is not None and row[d] == row[d] and row[d] != s for d, s in configuration.items()):
            continue
        mean, cov = exact_moments(discrete, continuous, configuration)
        log_term = log_discrete(discrete, configuration)
        post_mean = {c: mean[c] for c in hidden}
        post_var = {(a, b): cov[a, b] for a in hidden for b in hidden}
        if observed:
            S = [[cov[a, b] for b in observed] for a in observed]
            residual = [[Fraction(float(row[a])) - mean[a]] for a in observed]
            cross = [[cov[h, a] for a in observed] for h in hidden]  # hidden x observed
            solved, det = _solve(S, [r + [cross[k][i] for k in range(len(hidden))] for i, r in enumerate(residual)])
            quadratic = sum(residual[i][0] * solved[i][0] for i in range(len(observed)))
            log_term += -0.5 * float(quadratic) - 0.5 * _log(det) - 0.5 * len(observed) * LOG_2PI
            for k, h in enumerate(hidden):
                post_mean[h] = mean[h] + sum(cross[k][i] * solved[i][0] for i in range(len(observed)))
                for j, other in enumerate(hidden):
                    post_var[h, other] = cov[h, other] - sum(cross[j][i] * solved[i][1 + k] for i in range(len(observed)))
        terms.append(log_term)
        configurations.append(configuration)
        conditionals.append((post_mean, post_var))
    total = float(logsumexp(terms))
    weights = [Fraction(float(np.exp(t - total))) for t in terms]
    weights = [w / sum(weights) for w in weights]
    discrete_posteriors = {d: np.array([float(sum((w for w, c in zip(weights, configurations) if c[d] == s),
                                                  Fraction(0))) for s in states]) for d, states, _, _ in discrete}
    mixture_mean = {h: sum((w * pm[h] for w, (pm, _) in zip(weights, conditionals)), Fraction(0)) for h in hidden}
    joint = np.array([[float(sum((w * (pv[a, b] + (pm[a] - mixture_mean[a]) * (pm[b] - mixture_mean[b]))
                                  for w, (pm, pv) in zip(weights, conditionals)), Fraction(0)))
                       for b in hidden] for a in hidden])  # law of total covariance
    continuous_posteriors = {h: (float(mixture_mean[h]), math.sqrt(joint[k, k])) for k, h in enumerate(hidden)}
    if len(hidden) > 1:
        continuous_posteriors["joint"] = (hidden, np.array([float(mixture_mean[h]) for h in hidden]), joint)
    return total, discrete_posteriors, continuous_posteriors


def _per_node(continuous_posteriors: dict):
    return [(c, answer) for c, answer in continuous_posteriors.items() if c != "joint"]


def _case(row: pd.Series) -> dict:
    return {k: v for k, v in row.items() if v is not None and not (isinstance(v, float) and math.isnan(v))}


# ---------------------------------------------------------------------------- the tests
CASES = [(seed, peaked) for seed in range(14) for peaked in (False, True)]


@pytest.fixture(params=["chosen", "square_root"])
def form(request, monkeypatch):
    """Each block's form as the engine chooses it, or the square-root form everywhere (non-peaked blocks too)."""
    if request.param == "square_root":
        monkeypatch.setattr(gaussian_elimination, "INFORMATION_FORM_LIMIT", 0.0)
    return request.param


@pytest.mark.parametrize("seed, peaked", CASES)
def test_hybrid_answers_equal_exact_enumeration(seed, peaked, form):
    """log p(row), discrete posteriors and hidden continuous posteriors, batched and single case."""
    net, discrete, continuous = random_clg(seed, peaked)
    rows, kappa = evidence_rows(net, discrete, continuous, seed)
    _assert_exact(net, discrete, continuous, rows, kappa)


def _assert_exact(net, discrete, continuous, rows, kappa, single_cases: int = 5):
    exact = [exact_answers(discrete, continuous, _case(rows.iloc[i])) for i in range(len(rows))]
    frame = rows.copy()
    for name, *_ in continuous:
        frame[name] = frame[name].astype(float)
    log_lik = net.log_likelihood(frame)
    posterior = net.posteriors(frame)
    for i, (total, discrete_post, continuous_post) in enumerate(exact):
        assert log_lik[i] == pytest.approx(total, rel=0, abs=tolerance(kappa[i], total)), (i, dict(rows.iloc[i]))
        for d, p in discrete_post.items():
            np.testing.assert_allclose(posterior[d].iloc[i].to_numpy(float), p, atol=tolerance(kappa[i]),
                                       err_msg=f"{d} row {i}")
        for c, (mean, sd) in _per_node(continuous_post):
            assert posterior[c]["std"].iloc[i] == pytest.approx(sd, rel=tolerance(kappa[i])), (c, i)
            assert posterior[c]["mean"].iloc[i] == pytest.approx(mean, rel=0, abs=sd * tolerance(kappa[i])), (c, i)
    for i in range(single_cases):  # single cases take the one-case path
        case = _case(rows.iloc[i])
        total, discrete_post, continuous_post = exact[i]
        assert net.log_evidence(case) == pytest.approx(total, rel=0, abs=tolerance(kappa[i], total))
        for d, p in discrete_post.items():
            np.testing.assert_allclose(net.query(d, case).probabilities, p, atol=tolerance(kappa[i]))
        for c, (mean, sd) in _per_node(continuous_post):
            answer = net.query(c, case)
            assert float(np.ravel(answer.std())[0]) == pytest.approx(sd, rel=tolerance(kappa[i]))
            assert float(np.ravel(answer.mean)[0]) == pytest.approx(mean, rel=0, abs=sd * tolerance(kappa[i]))
        if "joint" in continuous_post:  # the joint of the hidden continuous nodes: the dense one-case path
            names, mean, covariance = continuous_post["joint"]
            answer = net.query(names, case)
            sd = np.sqrt(np.diag(covariance))
            assert np.all(np.abs(np.asarray(answer.mean) - mean) <= sd * tolerance(kappa[i]))
            assert np.all(np.abs(np.asarray(answer.covariance) - covariance) <= np.outer(sd, sd) * tolerance(kappa[i]))


def test_peaked_blocks_take_the_square_root_form_where_the_information_form_fails():
    """The choice matters: the engine picks the square-root form for peaked blocks, and the information
    form (what the engine ran before) misses the enumeration there by far more than the tolerance."""
    misses = 0
    for seed in (0, 6, 8, 12):
        net, discrete, continuous = random_clg(seed, peaked=True)
        nodes, keys = [c for c, *_ in continuous], [d for d, *_ in discrete]
        assert gaussian_elimination.GaussianElimination(net, nodes, keys).form == "square_root"
        rows, kappa = evidence_rows(net, discrete, continuous, seed)
        exact = np.array([exact_answers(discrete, continuous, _case(rows.iloc[i]))[0] for i in range(len(rows))])
        frame = rows.copy()
        for name in nodes:
            frame[name] = frame[name].astype(float)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(gaussian_elimination, "INFORMATION_FORM_LIMIT", np.inf)
            fresh, _, _ = random_clg(seed, peaked=True)  # a new network: no plan cached with the other form
            assert gaussian_elimination.GaussianElimination(fresh, nodes, keys).form == "information"
            with np.errstate(all="ignore"):
                got = fresh.log_likelihood(frame)
        allowed = np.array([tolerance(k, e) for k, e in zip(kappa, exact)])
        misses += int(np.sum(~(np.abs(got - exact) <= allowed)))
    assert misses >= 20  # of the 40 rows


def test_complete_rows_log_likelihood_equals_the_exact_sum_of_log_densities():
    """Every value observed: log p(row) is the chain rule's sum, exact for peaked children too."""
    for seed in range(6):
        net, discrete, continuous = random_clg(seed, peaked=True)
        rows = net.sample(8, seed=seed)
        kappa = condition(continuous, rows)
        expected = np.array([exact_answers(discrete, continuous, dict(rows.iloc[i]))[0] for i in range(len(rows))])
        allowed = [tolerance(k, e) for k, e in zip(kappa, expected)]
        assert np.all(np.abs(net.log_likelihood(rows) - expected) <= allowed)
        engine = np.array([net.log_evidence(dict(rows.iloc[i])) for i in range(3)])
        assert np.all(np.abs(engine - expected[:3]) <= allowed[:3])


def test_unrolled_autoregressive_hmm_log_evidence_equals_exact_enumeration():
    """The case that showed the bug: an AR-HMM fitted to two short sequences has a first-slice
    variance of 1.6e-13 (two points, two parameters); its unrolled network's log p(y) was 1.2e-5 nats off."""
    import warnings

    import pgm

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"y0": rng.normal(size=160), "y1": rng.normal(size=160),
                          "sequence": np.repeat([0, 1], 80)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = pgm.dynamic.autoregressive_hmm(2, 2).fit(frame, sequence="sequence", max_iter=0, seed=1)
    net = model.unroll(3)
    discrete, continuous = parameters_of(net)
    assert min(float(np.min(v)) for *_, v in continuous) < 1e-9  # peaked indeed
    full = model.sample([3], seed=2)
    values = {f"{n}[{t}]": float(full[n].iloc[t]) for n in ("y0", "y1") for t in range(3)}
    total = exact_answers(discrete, continuous, values)[0]
    kappa = condition(continuous, pd.DataFrame({**{k: [v] for k, v in values.items()},
                                                **{f"z[{t}]": [full["z"].iloc[t]] for t in range(3)}}))[0]
    assert net.log_evidence(values) == pytest.approx(total, rel=0, abs=tolerance(kappa, total))
    hidden = pd.DataFrame([values])
    assert net.log_likelihood(hidden)[0] == pytest.approx(total, rel=0, abs=tolerance(kappa, total))


@pytest.mark.parametrize("seed, peaked", CASES[::2] + CASES[1::4])
def test_soft_evidence_on_a_discrete_node_equals_exact_enumeration(seed, peaked):
    """Soft (virtual) evidence, a likelihood vector on the last discrete node, with continuous values observed:
    p(evidence) = sum over its states of weight * p(state, rest), and every posterior the mixture over them."""
    net, discrete, continuous = random_clg(seed, peaked)
    rows, kappa = evidence_rows(net, discrete, continuous, seed)
    rng = np.random.default_rng(seed + 3)
    node, states = discrete[-1][0], discrete[-1][1]
    for i in range(3):
        case = {k: v for k, v in _case(rows.iloc[i]).items() if k != node}
        likelihood = rng.uniform(0.1, 1.0, len(states))
        parts = [exact_answers(discrete, continuous, {**case, node: s}) for s in states]
        terms = np.log(likelihood) + np.array([p[0] for p in parts])
        total = float(logsumexp(terms))
        weights = np.exp(terms - total)
        evidence = {**case, node: dict(zip(states, likelihood))}
        assert net.log_evidence(evidence) == pytest.approx(total, rel=0, abs=tolerance(kappa[i], total))
        np.testing.assert_allclose(net.query(node, evidence).probabilities, weights, atol=tolerance(kappa[i]))
        for d, *_ in discrete[:-1]:
            if d not in case:
                expected = sum(w * p[1][d] for w, p in zip(weights, parts))
                np.testing.assert_allclose(net.query(d, evidence).probabilities, expected, atol=tolerance(kappa[i]))
        for c, *_ in continuous:
            if c not in case:
                mean = sum(w * p[2][c][0] for w, p in zip(weights, parts))
                variance = sum(w * (p[2][c][1] ** 2 + (p[2][c][0] - mean) ** 2) for w, p in zip(weights, parts))
                answer = net.query(c, evidence)
                assert float(np.ravel(answer.std())[0]) == pytest.approx(math.sqrt(variance), rel=tolerance(kappa[i]))
                assert float(np.ravel(answer.mean)[0]) == pytest.approx(
                    mean, rel=0, abs=math.sqrt(variance) * tolerance(kappa[i]))
