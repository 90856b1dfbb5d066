"""Checkpointed forward-backward (pgm.dynamic.checkpoints) equals the plain path and holds less memory.

The plain path is itself checked against the static engine on unroll(T) and
against hmmlearn (tests/test_dynamic.py, tests/test_dynamic_missing.py); here
the windows must give the same numbers to 1e-12, on networks that exercise
every part of a window: lagged observed parents (context steps), initial
slices, data-dependent transitions (an input), discrete values carried in the
joint state, and Gaussian blocks.  Memory is measured with tracemalloc.
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.learning.em import ConvergenceWarning

from test_dynamic_missing import coupled_dbn, gaussian_hmm_with_holes, input_dbn, with_holes


def cases():
    yield "coupled", coupled_dbn(3), with_holes(coupled_dbn(3), [23, 7, 15, 1], 4, ("y", "w"))
    yield "input", input_dbn(2), with_holes(input_dbn(2), [19, 12, 3], 5, ("u", "y"))
    model, frame, _ = gaussian_hmm_with_holes(0, 17, 4)
    yield "gaussian", model, frame
    chain = pgm.dynamic.markov_chain(list("abc"), order=2).fit(
        pd.DataFrame({"x": np.random.default_rng(0).choice(list("abc"), 300)}), prior=pgm.Dirichlet(1))
    x = pd.Series(np.random.default_rng(1).choice(list("abc"), 40), dtype=object)
    yield "order-2 chain", chain, pd.DataFrame({"sequence": 0, "x": x})


def parameters(network):
    out = []
    for key, cpd in sorted(network._distinct_cpds().items()):
        out.append(np.ravel(cpd.table) if cpd.is_discrete else np.r_[np.ravel(cpd.intercept), np.ravel(cpd.weights),
                                                                      np.ravel(cpd.variance)])
    return np.concatenate(out)


@pytest.mark.parametrize("name, network, frame", list(cases()), ids=[c[0] for c in cases()])
@pytest.mark.parametrize("window", [True, 2, 5])
def test_windows_give_the_plain_paths_likelihood_posteriors_and_em_step(name, network, frame, window):
    plain = network.log_likelihood(frame, sequence="sequence")
    windowed = network.log_likelihood(frame, sequence="sequence", checkpoint=window)
    assert np.abs(plain - windowed).max() < 1e-12 * max(1.0, np.abs(plain).max())
    if network.latent_nodes:
        smoothed = network.smoothed(frame, sequence="sequence")
        assert np.abs(smoothed - network.smoothed(frame, sequence="sequence", checkpoint=window)).max().max() < 1e-12
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            once = network.fit(frame, sequence="sequence", init="current", max_iter=1)
            checkpointed = network.fit(frame, sequence="sequence", init="current", max_iter=1, checkpoint=window)
        assert np.abs(parameters(once) - parameters(checkpointed)).max() < 1e-12
        assert once.fit_report_.log_likelihood == pytest.approx(checkpointed.fit_report_.log_likelihood, abs=1e-12)


def test_a_checkpointed_e_step_holds_a_fraction_of_the_plain_paths_memory():
    from pgm.dynamic.inference import pack_observed
    from pgm.dynamic.learning import _discrete_e_step

    rng = np.random.default_rng(0)
    model = pgm.dynamic.hmm(4, emission="categorical", n_symbols=6, startprob=rng.dirichlet(np.ones(4)),
                            transmat=rng.dirichlet(np.ones(4) * 3, 4), emissionprob=rng.dirichlet(np.ones(6), 4))
    lengths = [2500] * 4
    X = model.sample(lengths, seed=0)[["y"]].to_numpy()
    peaks, totals = {}, {}
    for checkpoint in (None, True):
        packed = pack_observed(model, X, lengths=lengths)
        tracemalloc.start()
        try:
            _, totals[checkpoint] = _discrete_e_step(model, packed, checkpoint)
            peaks[checkpoint] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert totals[True] == pytest.approx(totals[None], abs=1e-9)
    # windows of 50 steps instead of 2,500: the working arrays shrink by far more than 5x
    assert peaks[True] * 5 < peaks[None]


def test_a_bad_checkpoint_is_refused():
    model, frame, _ = gaussian_hmm_with_holes(0, 5, 2)
    with pytest.raises(ValueError, match="checkpoint must be True or a positive number of steps"):
        model.log_likelihood(frame, sequence="sequence", checkpoint=-3)
