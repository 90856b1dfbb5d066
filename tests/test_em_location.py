"""EM fits do not depend on where the continuous data sit: shifts up to 1e12 with an sd near 1.

The data are on a grid of 1/16 and the shifts are integers below 2^40, so
the shifted values are exact in float64: any difference between the fits
is added by the computation.  Each parameter class is held to 1e-9
relative -- weights, residual variances, tables (mixture weights of latent
nodes included) and the log-likelihood (a shift's Jacobian is 1) -- and the
intercepts to the rounding of their own location: ``b + shift * (1 - sum
w)`` to 1e-15 of the shift.  Before EM ran in centred coordinates
(:mod:`pgm.learning.em_location`), weights differed by up to 1e-2
relative at 1e12 and 3e-5 at 1.7e9, variances by 7e-4, mixture weights by
2e-5.

What this does not give: the fitted network stores its intercepts at the
data's location, rounded to float64 there (6e-5 at 1e12), so answers of
the *fitted* network far from zero (a posterior computed from its means)
differ from the centred network's by that rounding over the sd.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_gaussian_location import SHIFTS, grid_rows, linear_gaussian_network

from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.errors import SingularDesignError


def _trace(model, data, accelerate: bool):
    trace = []

    def record(iteration, log_likelihood, network):
        continuous = [n for n in network.nodes if not network[n].is_discrete]
        trace.append({
            "weights": np.concatenate([network[n].weights.ravel() for n in continuous]),
            "variances": np.concatenate([np.ravel(network[n].variance) for n in continuous]),
            "intercepts": np.concatenate([np.ravel(network[n].intercept) for n in continuous]),
            "slopes": np.concatenate([network[n].weights.sum(axis=-1).ravel() if network[n].weights.size
                                      else np.zeros(np.size(network[n].intercept)) for n in continuous]),
            "tables": np.concatenate([network[n].table.ravel() for n in network.nodes if network[n].is_discrete]
                                     or [np.zeros(0)]),
            "log_likelihood": log_likelihood,
        })

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = model.fit(data, seed=0, max_iter=10, tol=0, callback=record, accelerate=accelerate)
    return trace, fitted


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), shift=SHIFTS, kind=st.sampled_from(["linear", "clg", "latent"]),
       accelerate=st.booleans())
def test_em_fits_equal_the_unshifted_fit_to_1e_9_relative(seed, shift, kind, accelerate):
    base = linear_gaussian_network(seed, discrete=kind != "linear")
    model = BayesianNetwork({n: Categorical(base.states(n), parents=base[n].parents) if base[n].is_discrete
                             else LinearGaussian.unfitted(parents=base[n].parents) for n in base.nodes})
    data = grid_rows(base, seed, 0, n=400, missing=0.2)
    if kind == "latent":  # the first discrete node is never observed: a mixture over its states
        data = data.drop(columns=["d0"])
    continuous = [n for n in base.nodes if not base[n].is_discrete]
    moved_data = data.copy()
    moved_data[continuous] = data[continuous] + shift
    assert ((moved_data[continuous] - shift).fillna(0.5) == data[continuous].fillna(0.5)).all().all()  # exact
    try:
        reference, fitted = _trace(model, data, accelerate)
    except SingularDesignError:  # a component collapsed on this draw: nothing to compare
        return
    moved, moved_fitted = _trace(model, moved_data, accelerate)
    assert len(moved) == len(reference) >= 5
    for before, after in zip(reference, moved):
        for key in ("weights", "variances", "tables"):
            np.testing.assert_allclose(after[key], before[key], rtol=1e-9, atol=0, err_msg=key)
        assert after["log_likelihood"] == pytest.approx(before["log_likelihood"], rel=1e-9)
        expected = before["intercepts"] + shift * (1 - before["slopes"])
        assert np.all(np.abs(after["intercepts"] - expected) <= 1e-15 * abs(shift) * (1 + np.abs(before["slopes"])))
    # the returned network is the last iterate, moved back to the data's location
    assert moved_fitted.fit_report_.log_likelihood[-1] == pytest.approx(fitted.fit_report_.log_likelihood[-1], rel=1e-9)
    for node in continuous:
        np.testing.assert_allclose(moved_fitted[node].weights, fitted[node].weights, rtol=1e-9)
