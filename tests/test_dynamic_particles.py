"""The particle filter (pgm.dynamic.particles) against exact answers, within Monte Carlo error.

Tolerances come from the sample: a filtered probability estimated from an
effective sample of ``n`` particles has standard error ``sqrt(p (1 - p) / n)``;
the checks allow six of them.  References: the exact forward pass (itself
checked against the static engine on unroll(T)), the Kalman filter for a
continuous hidden state, and -- for a network whose joint hidden state is
too large for the exact engine -- the exact answers of its independent parts.
"""

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.cpds import Categorical
from pgm.dynamic import DynamicBayesianNetwork, linear_dynamical_system, kalman_smoother, previous
from pgm.dynamic.particles import particle_filter
from pgm.errors import InferenceTooLarge

from test_dynamic_missing import coupled_dbn, with_holes


def within_monte_carlo_error(estimate, exact, ess):
    tolerance = 6 * np.sqrt(exact * (1 - exact) / ess[:, None]) + 1e-3
    return np.all(np.abs(estimate - exact) <= tolerance)


def test_filtered_marginals_and_log_likelihood_with_missing_values_match_the_exact_engine():
    dbn = coupled_dbn(3)
    frame = with_holes(dbn, [6, 3, 5], 4, ("y", "w"), rate=0.3)
    estimate = particle_filter(dbn, frame, sequence="sequence", n_particles=20_000, seed=0)
    exact = dbn.filtered(frame, sequence="sequence")
    ess = estimate.effective_sample_size.to_numpy()
    assert within_monte_carlo_error(estimate.filtered.to_numpy(), exact.to_numpy(), ess)
    assert np.abs(estimate.log_likelihood - dbn.log_likelihood(frame, sequence="sequence")).max() < 0.05


def test_a_continuous_hidden_state_is_filtered_like_the_kalman_filter():
    lds = linear_dynamical_system([[0.9]], [[1.0]], [[0.5]], [[1.0]], [0.0], [[2.0]])
    y = np.array([0.5, 1.2, -0.3, 0.8, 2.0, 1.1])
    estimate = particle_filter(lds, {"y0": y}, n_particles=40_000, seed=1)
    kalman = kalman_smoother(lds, {"y0": y})
    sd = np.sqrt(kalman.filtered_cov[:, 0, 0] / estimate.effective_sample_size.to_numpy())
    assert np.all(np.abs(estimate.filtered[("x0", "mean")].to_numpy() - kalman.filtered_mean["x0"].to_numpy())
                  <= 6 * sd)
    assert abs(estimate.log_likelihood.iloc[0] - kalman.log_likelihood.iloc[0]) < 0.05


def test_without_hidden_nodes_every_particle_agrees_and_the_likelihood_is_exact():
    chain = pgm.dynamic.markov_chain(list("abc"), order=2).fit(
        pd.DataFrame({"x": np.random.default_rng(0).choice(list("abc"), 300)}), prior=pgm.Dirichlet(1))
    walk = {"x": list("abccbaabca")}
    estimate = particle_filter(chain, walk, n_particles=10, seed=0)
    assert estimate.log_likelihood.iloc[0] == pytest.approx(chain.log_likelihood(walk).iloc[0], abs=1e-10)


def test_a_network_too_large_for_the_exact_engine_is_filtered_within_error_of_its_independent_chains():
    rng = np.random.default_rng(2)
    chains = 13  # 2^13 = 8,192 joint hidden states: more than the exact engine enumerates
    transition, initial, parts = {}, {}, []
    for i in range(chains):
        start, move, emit = rng.dirichlet([2, 2]), rng.dirichlet([4, 1], 2), rng.dirichlet([1, 1], 2)
        transition[f"z{i}"] = Categorical([0, 1], parents=[previous(f"z{i}")], table=move)
        transition[f"y{i}"] = Categorical([0, 1], parents=[f"z{i}"], table=emit)
        initial[f"z{i}"] = Categorical([0, 1], table=start)
        parts.append(pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=start, transmat=move,
                                     emissionprob=emit))
    big = DynamicBayesianNetwork(transition, initial=initial, latent=[f"z{i}" for i in range(chains)])
    data = big.sample([8], seed=3).drop(columns=[f"z{i}" for i in range(chains)])
    with pytest.raises(InferenceTooLarge):
        big.filtered(data, sequence="sequence")
    estimate = particle_filter(big, data, sequence="sequence", n_particles=20_000, seed=4)
    ess = estimate.effective_sample_size.to_numpy()
    exact_total = 0.0
    for i, part in enumerate(parts):
        piece = data[["sequence", f"y{i}"]].rename(columns={f"y{i}": "y"})
        exact = part.filtered(piece, sequence="sequence")["z"].to_numpy(float)
        assert within_monte_carlo_error(estimate.filtered[f"z{i}"].to_numpy(float), exact, ess), i
        exact_total += part.log_likelihood(piece, sequence="sequence").iloc[0]
    assert abs(estimate.log_likelihood.iloc[0] - exact_total) < 0.3


def test_bad_options_are_refused():
    dbn = coupled_dbn(1)
    frame = dbn.sample([3], seed=0).drop(columns=["h", "g"])
    with pytest.raises(ValueError, match="n_particles must be a positive integer"):
        particle_filter(dbn, frame, n_particles=0)
    with pytest.raises(ValueError, match="resample_below must be between 0 and 1"):
        particle_filter(dbn, frame, resample_below=2.0)
