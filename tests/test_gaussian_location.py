"""Gaussian answers do not depend on where the data sit on the real line (issue 16, item 4).

A linear Gaussian or CLG network shifted by ``s`` -- every continuous value
moved by ``s``, every intercept by ``s (1 - sum of the weights)`` -- is the
same model: posterior standard deviations, log-likelihoods and discrete
posteriors must not change, and posterior means move by exactly ``s``.

To tell the algorithm's rounding from the data's, the shifted inputs are
made exactly representable: parameters and data on dyadic grids (weights in
halves, intercepts and values in 1/16ths), shifts whole numbers up to 1e12.
Then the shifted data, intercepts and prior means are exact, and any
difference between the two sets of answers is error added by the
computation.  Before the centring, the information form lost everything:
the posterior sd of ``t ~ N(1.7e9, 100^2)`` observed through a child came
out as 0 and log-likelihoods were off by up to 1e5 nats at 1e12.

Independent references: closed forms for the issue's two-node example
(scipy.stats.norm), exact rational arithmetic (fractions.Fraction) for
Gaussian naive Bayes at 1.7e9, and the unshifted answers for the property
tests (whose own correctness test_inference_gaussian.py establishes against
Schur complements and enumeration).
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgm
from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.classifiers import naive_bayes

SHIFTS = st.sampled_from([10**12, -10**12, 1_700_000_000, -(2**39) - 1]) | st.integers(-10**12, 10**12)
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ====================================================================== the example
@pytest.mark.parametrize("location", [0.0, 1e6, 1.7e9, 1e12])
def test_posterior_sd_and_log_likelihood_of_a_far_gaussian_observed_through_a_child(location):
    net = BayesianNetwork({
        "t": pgm.Gaussian(location, std=100.0),
        "y": LinearGaussian(parents=["t"], intercept=0.0, weights={"t": 1.0}, variance=100.0),
    })
    deviations = np.array([50.0, -20.0, 0.0, 312.5])
    rows = pd.DataFrame({"y": location + deviations})
    sd = 1.0 / math.sqrt(1.0 / 100.0**2 + 1.0 / 100.0)  # 9.9503..., whatever the location
    batched = net.query("t", evidence=rows)
    np.testing.assert_allclose(batched["std"], sd, rtol=1e-12)
    np.testing.assert_allclose(net.query("t", {"y": location + 50.0}).std(), [sd], rtol=1e-12)
    expected = scipy.stats.norm(0.0, math.sqrt(100.0**2 + 100.0)).logpdf(deviations)
    np.testing.assert_allclose(net.log_likelihood(rows), expected, rtol=1e-12)
    shrink = 100.0**2 / (100.0**2 + 100.0)
    np.testing.assert_allclose(batched["mean"] - location, shrink * deviations,
                               atol=4 * np.spacing(location) + 1e-12)


# ====================================================================== random networks on grids
def _grid(rng, size, low, high, step):
    return rng.integers(int(low / step), int(high / step) + 1, size=size) * step


def linear_gaussian_network(seed: int, shift: int = 0, *, discrete: bool = False) -> BayesianNetwork:
    """A random linear Gaussian (or, with ``discrete``, CLG) network on dyadic grids, shifted by ``shift``.

    At most four continuous nodes, each with at most two continuous parents
    and weights in halves of [-1, 1]: shifted prior means stay below 2^47
    with at most 2^-7 resolution, so they are exact in float64.
    """
    rng = np.random.default_rng(seed)
    cpds = {}
    keys = []
    if discrete:
        for k in range(int(rng.integers(1, 3))):
            states = [f"s{j}" for j in range(int(rng.integers(2, 4)))]
            cpds[f"d{k}"] = Categorical(states, table=rng.dirichlet(np.ones(len(states))))
            keys.append(f"d{k}")
    continuous = [f"x{i}" for i in range(int(rng.integers(2, 5)))]
    for i, node in enumerate(continuous):
        parents = [p for p in continuous[:i] if rng.random() < 0.6][-2:]
        discrete_parents = [d for d in keys if rng.random() < 0.7]
        cards = tuple(len(cpds[d].states) for d in discrete_parents)
        weights = {p: _grid(rng, cards, -1.0, 1.0, 0.5) for p in parents}
        total = sum(weights.values()) if parents else np.zeros(cards)
        intercept = _grid(rng, cards, -8.0, 8.0, 1 / 16) + shift * (1 - np.asarray(total))
        variance = rng.uniform(0.25, 4.0, size=cards)
        cpds[node] = LinearGaussian(parents=discrete_parents + parents, intercept=intercept,
                                    weights=weights or None, variance=variance)
    return BayesianNetwork(cpds)


def grid_rows(net: BayesianNetwork, seed: int, shift: int, n: int = 40, missing: float = 0.3) -> pd.DataFrame:
    """Rows sampled from the unshifted ``net``, rounded to 1/16ths, shifted, with values knocked out."""
    rng = np.random.default_rng(seed + 1)
    rows = net.sample(n, seed=seed)
    for node in net.nodes:
        if not net[node].is_discrete:
            rows[node] = np.round(rows[node].to_numpy() * 16) / 16 + shift
    knocked = rows.mask(rng.random(rows.shape) < missing)
    for node in net.nodes:  # keep discrete columns categorical after the knock-out
        if net[node].is_discrete:
            knocked[node] = pd.Categorical(knocked[node], categories=list(net.states(node)))
    return knocked


def _assert_shift_invariant(seed: int, shift: int, discrete: bool) -> None:
    base, moved = linear_gaussian_network(seed, discrete=discrete), linear_gaussian_network(seed, shift, discrete=discrete)
    rows, moved_rows = grid_rows(base, seed, 0), grid_rows(base, seed, shift)
    np.testing.assert_allclose(moved.log_likelihood(moved_rows), base.log_likelihood(rows), rtol=1e-9, atol=0)
    before, after = base.posteriors(rows), moved.posteriors(moved_rows)
    for node in base.nodes:
        if base[node].is_discrete:
            np.testing.assert_allclose(after[node].to_numpy(), before[node].to_numpy(), rtol=1e-9, atol=1e-300,
                                       err_msg=node)
            continue
        np.testing.assert_allclose(after[node]["std"], before[node]["std"], rtol=1e-9, atol=0, err_msg=node)
        # means live at the shifted location, so they can only be as exact as float64 is there
        np.testing.assert_allclose(after[node]["mean"] - shift, before[node]["mean"],
                                   rtol=1e-9, atol=8 * np.spacing(float(abs(shift)) + 64), err_msg=node)
    # complete rows: each CPD's own density; one case: the joint of every hidden continuous node
    complete, moved_complete = grid_rows(base, seed, 0, missing=0.0), grid_rows(base, seed, shift, missing=0.0)
    np.testing.assert_allclose(moved.log_likelihood(moved_complete), base.log_likelihood(complete), rtol=1e-9)
    continuous = [n for n in base.nodes if not base[n].is_discrete]
    seen = {continuous[0]: float(complete[continuous[0]].iloc[0])}
    joint_before = base.query(continuous[1:], seen)
    joint_after = moved.query(continuous[1:], {continuous[0]: seen[continuous[0]] + shift})
    np.testing.assert_allclose(joint_after.covariance, joint_before.covariance, rtol=1e-9, atol=1e-12)


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), shift=SHIFTS)
def test_linear_gaussian_answers_do_not_move_with_the_data(seed, shift):
    _assert_shift_invariant(seed, shift, discrete=False)


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), shift=SHIFTS)
def test_clg_answers_do_not_move_with_the_data(seed, shift):
    _assert_shift_invariant(seed, shift, discrete=True)


@pytest.mark.parametrize("location", [0, 1_700_000_000, 10**12])
def test_mixture_sd_far_from_zero_matches_the_closed_form(location):
    """d -> x -> y with y observed: the posterior of x mixes two Gaussians whose means differ by about 1."""
    prior, means, variances = np.array([0.3, 0.7]), np.array([0.0, 1.0]), np.array([1.0, 2.0])
    net = BayesianNetwork({
        "d": Categorical(["a", "b"], table=prior),
        "x": LinearGaussian(parents=["d"], intercept=location + means, variance=variances),
        "y": LinearGaussian(parents=["x"], intercept=0.0, weights={"x": 1.0}, variance=1.0),
    })
    seen = np.array([0.25, 1.75, -2.125])  # deviations of y from the location, on a grid: exact when shifted
    weights = prior * scipy.stats.norm.pdf(seen[:, None], means, np.sqrt(variances + 1.0))
    weights /= weights.sum(axis=1, keepdims=True)
    within = 1.0 / (1.0 / variances + 1.0)
    centres = within * (means / variances + seen[:, None])
    mixed = np.sum(weights * centres, axis=1, keepdims=True)
    sd = np.sqrt(np.sum(weights * (within + (centres - mixed) ** 2), axis=1))
    batched = net.query("x", pd.DataFrame({"y": location + seen}))
    np.testing.assert_allclose(batched["std"], sd, rtol=1e-12)
    one = net.query("x", {"y": location + seen[0]})
    np.testing.assert_allclose(one.std(), sd[:1], rtol=1e-12)
    np.testing.assert_allclose(one.weights, weights[0], rtol=1e-12)
    np.testing.assert_allclose(net.posteriors({"y": location + seen[0]})["x"].std(), sd[:1], rtol=1e-12)
    # a joint query of two hidden nodes takes the dense path; z = x + N(0, 1) is barren for x alone
    with_child = BayesianNetwork({**{n: net[n] for n in net.nodes},
                                  "z": LinearGaussian(parents=["x"], intercept=0.0, weights={"x": 1.0})})
    joint = with_child.query(["x", "z"], {"y": location + seen[0]})
    np.testing.assert_allclose(joint.std(), [sd[0], np.sqrt(sd[0] ** 2 + 1.0)], rtol=1e-12)


# ====================================================================== naive Bayes at 1.7e9
def _exact_naive_bayes_posterior(frame: pd.DataFrame, features, case: dict) -> float:
    """p(class = "b" | case) for Gaussian naive Bayes fitted by maximum likelihood, in exact rationals."""
    log_joint = {}
    for label, group in frame.groupby("c", observed=True):
        total = Fraction(math.log(len(group) / len(frame)))
        for f in features:
            values = [Fraction(v) for v in group[f]]
            mean = sum(values) / len(values)
            variance = sum((v - mean) ** 2 for v in values) / len(values)
            deviation = Fraction(case[f]) - mean
            total += Fraction(-0.5 * math.log(2 * math.pi * float(variance))) - deviation**2 / (2 * variance)
        log_joint[label] = total
    return 1.0 / (1.0 + math.exp(float(log_joint["a"] - log_joint["b"])))


@pytest.mark.parametrize("location", [0.0, 1.7e9, 1e12])
def test_naive_bayes_probabilities_near_1_7e9_match_exact_arithmetic(location):
    rng = np.random.default_rng(3)
    labels = np.repeat(["a", "b"], [64, 32])
    frame = pd.DataFrame({
        "c": labels,
        "x1": np.round(rng.normal(0, 100, 96) + 30 * (labels == "b")) + location,
        "x2": np.round(rng.normal(0, 50, 96) * 4) / 4 - 10 * (labels == "b") + location,
    })
    net = naive_bayes("c", ["a", "b"], continuous=["x1", "x2"]).fit(frame)
    cases = pd.DataFrame({"x1": [15.0 + location, -40.0 + location, 90.0 + location],
                          "x2": [-5.0 + location, 2.5 + location, -30.0 + location]})
    got = net.query("c", cases)["b"].to_numpy()
    expected = [_exact_naive_bayes_posterior(frame, ["x1", "x2"], cases.iloc[i]) for i in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-9)


# ====================================================================== EM
def _iterates(model, data):
    trace = []

    def record(iteration, log_likelihood, network):
        continuous = [n for n in network.nodes if not network[n].is_discrete]
        # weights and discrete tables do not change with location or scale; variances scale
        weights = [network[n].weights.ravel() for n in continuous]
        weights += [network[n].table.ravel() for n in network.nodes if network[n].is_discrete]
        variances = [np.ravel(network[n].variance) for n in continuous]
        trace.append((np.concatenate(weights), np.concatenate(variances), log_likelihood))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # plain EM: SQUAREM accepts or rejects a step by comparing log-likelihoods, which near convergence
        # tie to 1e-15 and may fall either way on scaled data (tests/test_em_location.py runs SQUAREM unscaled)
        model.fit(data, seed=0, max_iter=12, tol=0, callback=record, accelerate=False)
    return trace


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), shift=SHIFTS, discrete=st.booleans())
def test_em_on_shifted_and_scaled_data_fits_the_same_weights(seed, shift, discrete):
    """EM's iterates (linear Gaussian or CLG) are shift- and scale-equivariant, to float64's resolution at the shift.

    Every iterate stores its intercepts at the data's location, where float64
    resolves ``eps * |shift|``; the residuals then carry an error of about
    ``eps * |shift| / sd`` whatever the algorithm does.  So the data are
    scaled by a power of two (exact) to an sd of at least ``|shift| / 1e4``:
    the representable bound is then near 1e-12, and the check is 1e-9.
    Before the centring, EM at 1e3 times the sd already differed by 1e-5.
    """
    base = linear_gaussian_network(seed, discrete=discrete)
    model = BayesianNetwork({n: Categorical(base.states(n), parents=base[n].parents) if base[n].is_discrete
                             else LinearGaussian.unfitted(parents=base[n].parents) for n in base.nodes})
    data = grid_rows(base, seed, 0, n=400, missing=0.2)
    continuous = [n for n in base.nodes if not base[n].is_discrete]
    scale = 2.0 ** max(0, math.ceil(math.log2(max(abs(shift), 1) / 1e4)))
    reference = _iterates(model, data)
    jacobian = math.log(scale) * data[continuous].notna().to_numpy().sum() / len(data)  # log(scale) per value seen
    moved_data = data.copy()
    moved_data[continuous] = data[continuous] * scale + shift
    moved = _iterates(model, moved_data)
    steps = min(len(reference), len(moved))  # tol=0 may stop one run a step early on rounding
    assert steps >= 5
    for (w0, v0, ll0), (w1, v1, ll1) in zip(reference[:steps], moved[:steps]):
        np.testing.assert_allclose(w1, w0, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(v1, v0 * scale**2, rtol=1e-9)
        assert ll1 == pytest.approx(ll0 - jacobian, rel=0, abs=1e-9 * (abs(ll0) + jacobian))


@pytest.mark.parametrize("shift", [1.7e9, 1e12])
def test_kmeans_plus_plus_start_assigns_the_same_clusters_far_from_zero(shift):
    """EM's k-means++ seeding picks the same rows and assigns each row to its nearest centre, far from zero too."""
    from pgm.learning.em_starts import kmeans_plus_plus, nearest_centre

    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [3.0, 5.0]])
    points = np.round((centres[rng.integers(3, size=300)] + rng.normal(size=(300, 2))) * 16) / 16
    near_centres = kmeans_plus_plus(points, 3, np.random.default_rng(0))
    far_centres = kmeans_plus_plus(points + shift, 3, np.random.default_rng(0))
    np.testing.assert_array_equal(far_centres, near_centres + shift)  # the same rows were picked
    # the nearest of the chosen centres, computed directly (no expansion of the square)
    direct = np.argmin(((points[:, None, :] - near_centres[None, :, :]) / points.std(axis=0)) ** 2 @ np.ones(2), axis=1)
    codes = nearest_centre(points, near_centres)
    assert (codes == direct).mean() > 0.99  # the scale is the centres' spread there, the data's here
    np.testing.assert_array_equal(nearest_centre(points + shift, far_centres), codes)
