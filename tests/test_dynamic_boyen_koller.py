"""The Boyen-Koller filter (factored belief state) against exact filtering.

- one cluster holding every hidden node: BK is exact, so it must equal the
  exact engine's filtered marginals and log-likelihoods to 1e-10;
- independent hidden chains, each with its own observation: the exact
  posterior factorises, so the fully factored BK is exact too -- checked on
  13 chains (8,192 joint states, beyond the exact engine) against each
  chain's own HMM answered exactly;
- coupled chains: the error is reported against the exact answer and must
  stay bounded over time (Boyen and Koller's contraction argument), not grow.
"""

import numpy as np
import pytest

from pgm.cpds import Categorical, LinearGaussian
from pgm.dynamic import DynamicBayesianNetwork, boyen_koller, hmm, previous
from pgm.errors import DataError, InferenceTooLarge


def coupled_chains(seed, k=3, coupling=True):
    """k binary chains, z_i | z_i[t-1], z_{i-1}[t-1]; one Gaussian y | all chains."""
    rng = np.random.default_rng(seed)
    transition, initial = {}, {}
    for i in range(k):
        parents = [previous(f"z{i}")] + ([previous(f"z{i - 1}")] if i and coupling else [])
        transition[f"z{i}"] = Categorical([0, 1], parents=parents,
                                          table=rng.dirichlet([4, 1], size=(2,) * len(parents)))
        initial[f"z{i}"] = Categorical([0, 1], table=rng.dirichlet([1, 1]))
        transition[f"z{i}"].latent = initial[f"z{i}"].latent = True
    transition["y"] = LinearGaussian(parents=[f"z{i}" for i in range(k)], intercept=rng.normal(size=(2,) * k) * 2,
                                     variance=np.ones((2,) * k))
    return DynamicBayesianNetwork(transition, initial=initial)


def test_one_cluster_is_exact():
    dbn = coupled_chains(0)
    frame = dbn.sample([30, 12, 1], seed=1).drop(columns=["z0", "z1", "z2"])
    frame.loc[frame.index % 6 == 4, "y"] = np.nan  # a leaf: missing values drop out
    bk = boyen_koller(dbn, frame, sequence="sequence", clusters=[["z0", "z1", "z2"]])
    exact = dbn.filtered(frame, sequence="sequence")
    assert np.abs(bk.filtered - exact).max().max() < 1e-10
    assert np.allclose(bk.log_likelihood, dbn.log_likelihood(frame, sequence="sequence"), rtol=0, atol=1e-10)


def test_independent_chains_beyond_the_exact_engine_are_filtered_exactly_when_fully_factored():
    rng = np.random.default_rng(2)
    k = 13
    chains = [hmm(2, emission="categorical", n_symbols=3, startprob=rng.dirichlet([1, 1]),
                  transmat=rng.dirichlet([3, 1], size=2), emissionprob=rng.dirichlet([1, 1, 1], size=2))
              for _ in range(k)]
    transition, initial = {}, {}
    for i, chain in enumerate(chains):
        transition[f"z{i}"] = Categorical([0, 1], parents=[previous(f"z{i}")], table=chain.cpd("z", 1).table)
        initial[f"z{i}"] = Categorical([0, 1], table=chain.cpd("z", 0).table)
        transition[f"z{i}"].latent = initial[f"z{i}"].latent = True
        transition[f"y{i}"] = Categorical([0, 1, 2], parents=[f"z{i}"], table=chain.cpd("y", 0).table)
    big = DynamicBayesianNetwork(transition, initial=initial)
    frame = big.sample([40, 25], seed=3).drop(columns=[f"z{i}" for i in range(k)])
    with pytest.raises(InferenceTooLarge):
        big.filtered(frame, sequence="sequence")
    bk = boyen_koller(big, frame, sequence="sequence")
    total = 0.0
    for i, chain in enumerate(chains):
        alone = frame[["sequence", f"y{i}"]].rename(columns={f"y{i}": "y"})
        exact = chain.filtered(alone, sequence="sequence")
        assert np.abs(bk.filtered[f"z{i}"].to_numpy() - exact["z"].to_numpy()).max() < 1e-10
        total = total + chain.log_likelihood(alone, sequence="sequence")
    assert np.allclose(bk.log_likelihood, total, rtol=0, atol=1e-9)


def test_the_error_of_a_factored_belief_is_reported_and_stays_bounded_over_time():
    dbn = coupled_chains(4, k=4)
    frame = dbn.sample([400] * 3, seed=5).drop(columns=[f"z{i}" for i in range(4)])
    exact = dbn.filtered(frame, sequence="sequence")
    errors = {}
    for name, clusters in (("singletons", None), ("pairs", [["z0", "z1"], ["z2", "z3"]]),
                           ("one", [["z0", "z1", "z2", "z3"]])):
        bk = boyen_koller(dbn, frame, sequence="sequence", clusters=clusters)
        error = (bk.filtered - exact).abs().max(axis=1).groupby(level="t").mean()
        errors[name] = error
        assert np.allclose(bk.filtered.T.groupby(level=0).sum().T, 1.0)  # each node's marginal sums to one
    assert errors["one"].max() < 1e-10
    for name in ("singletons", "pairs"):
        early, late = errors[name].iloc[:200].mean(), errors[name].iloc[200:].mean()
        assert 0 < late < 2 * early + 0.02, (name, early, late)  # bounded: no drift with time
        assert errors[name].max() < 0.2


def test_clusters_must_partition_the_hidden_nodes():
    dbn = coupled_chains(0)
    frame = dbn.sample([3], seed=0).drop(columns=["z0", "z1", "z2"])
    with pytest.raises(DataError, match="'z2' is in none or in several"):
        boyen_koller(dbn, frame, clusters=[["z0", "z1"]])
    with pytest.raises(DataError, match="'y' is not a hidden node"):
        boyen_koller(dbn, frame, clusters=[["z0", "z1", "z2", "y"]])
