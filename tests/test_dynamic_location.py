"""Fitting a dynamic network does not depend on where the continuous data sit: shifts up to 1e12.

The data are on a grid of 1/16 and the shifts are integers of at most
1e12, so the shifted values are exact in float64: any difference between
the fits is added by the computation.  Every EM iterate (through the
callback) is held to 1e-9 relative in its weights, variances, tables and
log-likelihood, the intercepts to the rounding of their own location, and
the fitted Kalman model's posterior sd likewise.  Before fitting ran in
centred coordinates (:mod:`pgm.dynamic.centring`), a Gaussian HMM fitted at
1e12 differed from the one at 0 by 1e-2 relative in a weight.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgm.cpds import LinearGaussian
from pgm.dynamic import (
    DynamicBayesianNetwork,
    autoregressive_hmm,
    hmm,
    kalman_smoother,
    linear_dynamical_system,
)
from pgm.dynamic.centring import shift_network

SHIFTS = st.sampled_from([10**12, -10**12, 1_000_000_000, -(2**39) - 1]) | st.integers(-10**12, 10**12)


def _on_grid(frame, columns):
    frame = frame.copy()
    frame[columns] = np.round(frame[columns].to_numpy() * 16) / 16
    return frame


def gaussian_hmm_case(seed):
    truth = hmm(2, emission="gaussian", n_features=2, covariance="full", startprob=[0.6, 0.4],
                transmat=[[0.9, 0.1], [0.2, 0.8]], means=[[0, 0], [2, 1]],
                covars=[[[1, 0.3], [0.3, 1]], [[0.5, 0], [0, 0.8]]])
    data = _on_grid(truth.sample([40] * 8, seed=seed).drop(columns="z"), ["y0", "y1"])
    return hmm(2, emission="gaussian", n_features=2, covariance="full"), data, ["y0", "y1"]


def kalman_case(seed):
    truth = linear_dynamical_system([[0.9]], [[1.0], [0.5]], [[0.3]], np.diag([0.5, 0.4]), [0.0], [[1.0]])
    data = _on_grid(truth.sample([50] * 4, seed=seed).drop(columns="x0"), ["y0", "y1"])
    data.loc[data.index % 7 == 3, "y1"] = np.nan
    return truth, data, ["y0", "y1"]


def autoregression_case(seed):
    truth = DynamicBayesianNetwork(
        {"y": LinearGaussian(parents=["y[t-1]"], intercept=0.3, weights=[0.8], variance=0.5)},
        initial={"y": LinearGaussian(intercept=1.0, variance=2.0)})
    data = _on_grid(truth.sample([60] * 4, seed=seed), ["y"])
    data.loc[data.index % 5 == 2, "y"] = np.nan  # gaps the next slice depends on: the Kalman route
    return truth, data, ["y"]


def autoregressive_hmm_case(seed):
    rng = np.random.default_rng(seed)
    n = 200
    complete = _on_grid(__import__("pandas").DataFrame(
        {"id": np.repeat(np.arange(10), n // 10), "z": rng.integers(0, 2, size=n), "y0": rng.normal(size=n)}), ["y0"])
    seen = autoregressive_hmm(2, 1).latent_free().fit(complete, sequence="id")
    model = DynamicBayesianNetwork(seen.transition, initial=seen.initial, latent=["z"])
    return model, complete.drop(columns="z"), ["y0"]


CASES = {"gaussian hmm": gaussian_hmm_case, "kalman": kalman_case, "autoregression with gaps": autoregression_case,
         "autoregressive hmm": autoregressive_hmm_case}


def _trace(model, data, sequence, init):
    trace = []

    def record(iteration, mean, network):
        continuous = [c for c in network._distinct_cpds().values() if not c.is_discrete]
        trace.append({
            "weights": np.concatenate([np.ravel(c.weights) for c in continuous]),
            "variances": np.concatenate([np.ravel(c.variance) for c in continuous]),
            "intercepts": np.concatenate([np.ravel(c.intercept) for c in continuous]),
            "tables": np.concatenate([c.table.ravel() for c in network._distinct_cpds().values() if c.is_discrete]
                                     or [np.zeros(0)]),
            "log_likelihood": mean,
        })

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = model.fit(data, sequence=sequence, seed=0, init=init, max_iter=8, tol=-1.0, callback=record)
    return trace, fitted


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), shift=SHIFTS, case=st.sampled_from(sorted(CASES)))
def test_em_iterates_and_fits_equal_the_unshifted_ones_to_1e_9_relative(seed, shift, case):
    model, data, columns = CASES[case](seed)
    sequence = "id" if "id" in data else "sequence"
    init = "random"  # a start given at the data's location would carry the rounding of its intercepts there
    moved_data = data.copy()
    moved_data[columns] = data[columns] + shift
    assert ((moved_data[columns] - shift).fillna(0.5) == data[columns].fillna(0.5)).all().all()  # exact
    moved_model = model
    if case == "kalman":  # its random start imputes missing values from the given model: give it at the data
        moved_model = shift_network(model, dict.fromkeys(columns, float(shift)), -1.0)
        assert all(float(moved_model.cpd(c, t).intercept) == shift for c in columns for t in (0, 1))  # exact
    reference, fitted = _trace(model, data, sequence, init)
    moved, moved_fitted = _trace(moved_model, moved_data, sequence, init)
    assert len(moved) == len(reference) == 9
    for before, after in zip(reference, moved):
        for key in ("weights", "variances", "tables"):
            np.testing.assert_allclose(after[key], before[key], rtol=1e-9, atol=1e-12, err_msg=key)
        assert after["log_likelihood"] == pytest.approx(before["log_likelihood"], rel=1e-9)
        # intercepts sit at the data's location: equal up to their own rounding there
        assert np.all(np.abs(after["intercepts"] - before["intercepts"]) <= 4 * abs(shift) + 1e-9)
    assert moved_fitted.fit_report_.log_likelihood[-1] == pytest.approx(fitted.fit_report_.log_likelihood[-1],
                                                                        rel=1e-9)
    if case in ("kalman", "autoregression with gaps"):  # posterior sd does not depend on the intercepts
        sd = np.sqrt(np.diagonal(kalman_smoother(fitted, data, sequence="sequence").smoothed_cov, axis1=1, axis2=2))
        moved_sd = np.sqrt(np.diagonal(kalman_smoother(moved_fitted, moved_data, sequence="sequence").smoothed_cov,
                                       axis1=1, axis2=2))
        np.testing.assert_allclose(moved_sd, sd, rtol=1e-9, atol=1e-12)


def test_the_intercepts_come_back_at_the_datas_location():
    model, data, columns = gaussian_hmm_case(0)
    _, fitted = _trace(model, data, "sequence", "random")
    moved_data = data.copy()
    moved_data[columns] = data[columns] + 10**9
    _, moved = _trace(model, moved_data, "sequence", "random")
    for node in columns:
        # y_j = b + w . y_<j: moving every y by s moves b by s (1 - sum w)
        w = np.asarray(fitted.cpd(node, 3).weights).sum(axis=-1)
        expected = np.asarray(fitted.cpd(node, 3).intercept) + 10**9 * (1 - w)
        assert np.allclose(np.asarray(moved.cpd(node, 3).intercept), expected, rtol=0, atol=1e-5)


def test_fitting_in_pieces_is_centred_too():
    model, data, columns = gaussian_hmm_case(1)
    moved_data = data.copy()
    moved_data[columns] = data[columns] + 10**12
    fits = []
    for frame in (data, moved_data):
        pieces = [frame[frame.sequence < 4], frame[frame.sequence >= 4]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(model.fit_pieces(pieces, sequence="sequence", init="random", seed=0, max_iter=6, tol=-1.0))
    near, far = fits
    np.testing.assert_allclose(far.cpd("z", 1).table, near.cpd("z", 1).table, rtol=1e-9)
    for node in columns:
        np.testing.assert_allclose(np.ravel(far.cpd(node, 2).variance), np.ravel(near.cpd(node, 2).variance), rtol=1e-9)
    assert far.fit_report_.log_likelihood[-1] == pytest.approx(near.fit_report_.log_likelihood[-1], rel=1e-9)
