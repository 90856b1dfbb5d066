"""Benchmark the dynamic-network paths for gaps and large hidden states, in one process.

Rows:

- AR(1) with 20 % of the values missing, 100 series of 1,000 steps: the
  log-likelihood of every series.  pgm: ``log_likelihood`` on the long frame
  (one Kalman pass batched over the series, the state carrying ``y``);
  statsmodels: ``SARIMAX(order=(1, 0, 0), trend="c").loglike`` per series
  (models built untimed, and the building timed separately).  The answers
  are checked equal (to 1e-8).
- autoregressive HMM (2 states) with 5 % of ``y`` missing, 200 sequences of
  100 steps: log-likelihood and one EM iteration.  No peer: hmmlearn has no
  missing values, pgmpy's DBN inference no continuous nodes.
- filtering four coupled binary chains, 3 sequences of 400 steps: exact,
  Boyen-Koller (singletons, pairs) and the particle filter (1,000 and 10,000
  particles), with each approximation's error against the exact answer.

Median of ``--repeat`` calls; BLAS runs one thread.  Shared machine: read
ratios and errors rather than absolute times.

    python benchmarks/sequence_gaps.py [--repeat 3]
"""

from __future__ import annotations

import os

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness import optional_import, timed_calls  # noqa: E402
from pgm.cpds import Categorical, LinearGaussian  # noqa: E402
from pgm.dynamic import DynamicBayesianNetwork, autoregressive_hmm, boyen_koller, particle_filter, previous  # noqa: E402

warnings.filterwarnings("ignore")
statsmodels = optional_import("statsmodels.api")


def autoregression_row(repeat):
    c, phi, noise = 0.3, 0.8, 0.5
    ar = DynamicBayesianNetwork(
        {"y": LinearGaussian(parents=[previous("y")], intercept=c, weights=[phi], variance=noise)},
        initial={"y": LinearGaussian(intercept=c / (1 - phi), variance=noise / (1 - phi**2))})
    frame = ar.sample([1000] * 100, seed=0)
    frame.loc[np.random.default_rng(1).random(len(frame)) < 0.2, "y"] = np.nan
    ours, times, values = timed_calls(lambda: ar.log_likelihood(frame, sequence="sequence"), repeat)
    line = f"AR(1), 20% missing, 100 x 1,000: pgm {ours:.3f} s (first {times[0]:.3f} s)"
    if statsmodels is not None:
        series = [group.y.to_numpy() for _, group in frame.groupby("sequence")]
        params = np.array([c, phi, noise])
        built, _, models = timed_calls(
            lambda: [statsmodels.tsa.SARIMAX(s, order=(1, 0, 0), trend="c") for s in series], 1)
        peer, _, reference = timed_calls(lambda: [m.loglike(params) for m in models], repeat)
        assert np.abs(values.to_numpy() - np.array(reference)).max() < 1e-8
        line += (f"; statsmodels SARIMAX loglike loop {peer:.3f} s (+ {built:.3f} s building the models); "
                 f"statsmodels / pgm {peer / ours:.2f}x; answers equal to 1e-8")
    print(line)


def switching_autoregression_row(repeat):
    rng = np.random.default_rng(0)
    n = 20_000
    complete = pd.DataFrame({"id": np.repeat(np.arange(200), 100), "z": rng.integers(0, 2, size=n),
                             "y0": rng.normal(size=n)})
    complete["y0"] += 3 * complete.z
    seen = autoregressive_hmm(2, 1).latent_free().fit(complete, sequence="id")
    model = DynamicBayesianNetwork(seen.transition, initial=seen.initial, latent=["z"])
    for rate in (0.0, 0.05):
        frame = complete.drop(columns="z")
        frame.loc[rng.random(n) < rate, "y0"] = np.nan
        loglik, _, _ = timed_calls(lambda: model.log_likelihood(frame, sequence="id"), repeat)
        step, _, _ = timed_calls(lambda: model.fit(frame, sequence="id", init="current", max_iter=1, tol=-1.0),
                                 repeat)
        print(f"autoregressive HMM, {rate:.0%} of y missing, 200 x 100: log-likelihood {loglik:.3f} s, "
              f"one EM iteration (with the final E-step) {step:.3f} s")


def coupled_chains(k=4, seed=4):
    rng = np.random.default_rng(seed)
    transition, initial = {}, {}
    for i in range(k):
        parents = [previous(f"z{i}")] + ([previous(f"z{i - 1}")] if i else [])
        transition[f"z{i}"] = Categorical([0, 1], parents=parents, table=rng.dirichlet([4, 1], size=(2,) * len(parents)))
        initial[f"z{i}"] = Categorical([0, 1], table=rng.dirichlet([1, 1]))
    transition["y"] = LinearGaussian(parents=[f"z{i}" for i in range(k)], intercept=rng.normal(size=(2,) * k) * 2,
                                     variance=np.ones((2,) * k))
    return DynamicBayesianNetwork(transition, initial=initial, latent=[f"z{i}" for i in range(k)])


def factored_filtering_rows(repeat):
    dbn = coupled_chains()
    frame = dbn.sample([400] * 3, seed=5).drop(columns=[f"z{i}" for i in range(4)])
    exact_time, _, exact = timed_calls(lambda: dbn.filtered(frame, sequence="sequence"), repeat)
    loglik = dbn.log_likelihood(frame, sequence="sequence")
    print(f"4 coupled binary chains, 3 x 400 steps: exact filtering {exact_time:.3f} s")
    runs = [("Boyen-Koller, singletons", lambda: boyen_koller(dbn, frame, sequence="sequence")),
            ("Boyen-Koller, pairs", lambda: boyen_koller(dbn, frame, sequence="sequence",
                                                         clusters=[["z0", "z1"], ["z2", "z3"]])),
            ("particles, 1,000", lambda: particle_filter(dbn, frame, sequence="sequence", n_particles=1000, seed=0)),
            ("particles, 10,000", lambda: particle_filter(dbn, frame, sequence="sequence", n_particles=10_000,
                                                          seed=0))]
    for name, run in runs:
        seconds, _, result = timed_calls(run, repeat)
        error = (result.filtered[exact.columns] - exact).abs().to_numpy()
        per_step = float((result.log_likelihood - loglik).abs().max()) / 400
        print(f"  {name:26s} {seconds:.3f} s   mean |error| {error.mean():.4f}   max {error.max():.4f}   "
              f"log-likelihood error per step {per_step:.5f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    autoregression_row(args.repeat)
    switching_autoregression_row(args.repeat)
    factored_filtering_rows(args.repeat)


if __name__ == "__main__":
    main()
