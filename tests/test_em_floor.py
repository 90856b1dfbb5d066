"""EM's variance floor for latent Gaussian components (issue 15, spike data): a bounded likelihood by default.

The references are computed here with numpy and scipy: the data's variance,
the constrained EM map written out by hand (responsibilities from
scipy.stats.norm, weighted moments, ``max(variance, floor)``), and the
mixture's log-likelihood.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

import pgm
from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.errors import SingularDesignError
from pgm.learning.em import DegenerateComponentWarning


def spike_data(scale=1.0, shift=0.0):
    """300 draws of N(0, 1) and 40 copies of 5.0 (a stuck sensor): the mixture likelihood is unbounded."""
    rng = np.random.default_rng(0)
    return shift + scale * np.concatenate([rng.normal(0, 1, 300), np.full(40, 5.0)])


def mixture(k=3):
    return BayesianNetwork({"z": Categorical.latent([f"s{i}" for i in range(k)]),
                            "x": LinearGaussian.unfitted(parents=["z"])})


def parameters(fitted):
    return (np.asarray(fitted["z"].table, dtype=float), np.ravel(fitted["x"].intercept).astype(float),
            np.ravel(fitted["x"].variance).astype(float))


def score(weights, means, variances, x):
    parts = np.log(weights)[None, :] + norm.logpdf(x[:, None], means[None, :], np.sqrt(variances)[None, :])
    return float(logsumexp(parts, axis=1).mean())


def test_the_default_fit_of_spike_data_returns_a_reported_degenerate_component():
    x = spike_data()
    floor = 1e-6 * np.var(x)
    for seed in range(3):
        with pytest.warns(DegenerateComponentWarning, match="variance floor"):
            fitted = mixture().fit({"x": x}, seed=seed)
        report = fitted.fit_report_
        assert report.failed == [] and report.variance_floor == 1e-6
        assert len(report.floored) == 1 and report.floored[0].startswith("x at z=")
        weights, means, variances = parameters(fitted)
        spike = int(np.argmin(variances))
        assert report.floored[0] == f"x at z=s{spike}"
        assert variances[spike] == pytest.approx(floor, rel=1e-9)
        assert means[spike] == pytest.approx(5.0, abs=1e-9)
        # the spike's 40 rows belong to it alone: its density there dwarfs the others'
        assert weights[spike] == pytest.approx(40 / 340, abs=1e-6)
        assert report.log_likelihood[-1] == pytest.approx(score(weights, means, variances, x), rel=1e-10)
        assert "variance floor" in repr(report)


def test_the_fit_is_a_fixed_point_of_the_constrained_em_map_written_by_hand():
    x = spike_data()
    floor = 1e-6 * np.var(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        fitted = mixture().fit({"x": x}, seed=1, tol=1e-13, max_iter=2000)
    weights, means, variances = parameters(fitted)
    # one EM step of the constrained problem, in numpy: E-step, weighted moments, variance raised to the floor
    parts = np.log(weights)[None, :] + norm.logpdf(x[:, None], means[None, :], np.sqrt(variances)[None, :])
    responsibility = np.exp(parts - logsumexp(parts, axis=1, keepdims=True))
    mass = responsibility.sum(axis=0)
    new_means = responsibility.T @ x / mass
    new_variances = np.maximum((responsibility * (x[:, None] - new_means) ** 2).sum(axis=0) / mass, floor)
    np.testing.assert_allclose(mass / len(x), weights, atol=1e-7)
    np.testing.assert_allclose(new_means, means, atol=1e-6)
    np.testing.assert_allclose(new_variances, variances, rtol=1e-5)


def test_the_objective_never_decreases_with_the_floor_accelerated_steps_included():
    x = spike_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        for seed in range(3):
            fitted = mixture().fit({"x": x}, seed=seed, tol=1e-10, max_iter=500)
            trace = np.asarray(fitted.fit_report_.objective)
            assert np.all(np.diff(trace) >= -1e-12 * np.abs(trace[:-1]))
            assert np.ravel(fitted["x"].variance).min() >= 1e-6 * np.var(x) * (1 - 1e-12)


def test_the_floor_is_relative_to_the_datas_variance():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        small = mixture().fit({"x": spike_data()}, seed=0)
        large = mixture().fit({"x": spike_data(scale=10.0, shift=3.0)}, seed=0)
    np.testing.assert_allclose(parameters(large)[2].min(), 100 * parameters(small)[2].min(), rtol=1e-9)
    np.testing.assert_allclose(parameters(large)[2].min(), 1e-6 * np.var(spike_data(scale=10.0, shift=3.0)),
                               rtol=1e-9)


def test_a_floor_never_reached_leaves_the_fit_exactly_as_plain_maximum_likelihood():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.normal(0, 1, 500), rng.normal(5, 1, 500)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateComponentWarning)
        floored = mixture(2).fit({"x": x}, seed=0)
    plain = mixture(2).fit({"x": x}, seed=0, variance_floor=0)
    assert floored.fit_report_.floored == []
    for a, b in zip(parameters(floored), parameters(plain)):
        np.testing.assert_array_equal(a, b)


def test_without_a_floor_the_collapsing_fit_still_fails_with_true_advice():
    x = spike_data()
    with pytest.raises(SingularDesignError, match="variance_floor"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mixture().fit({"x": x}, seed=0, n_init=5, variance_floor=0)


@pytest.mark.parametrize("bad", [-1e-6, 1.0, float("nan"), "1e-6", True])
def test_a_bad_variance_floor_is_refused_naming_the_option(bad):
    with pytest.raises(ValueError, match="variance_floor"):
        mixture().fit({"x": spike_data()}, variance_floor=bad)


def test_the_floor_applies_to_partitioned_data_too():
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    x = spike_data()
    with pytest.warns(DegenerateComponentWarning):
        fitted = mixture().fit(dd.from_pandas(pd.DataFrame({"x": x}), npartitions=3), seed=0)
    assert np.ravel(fitted["x"].variance).min() == pytest.approx(1e-6 * np.var(x), rel=1e-9)
    assert len(fitted.fit_report_.floored) == 1
