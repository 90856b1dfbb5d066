"""Benchmark pgm.dynamic against hmmlearn (and pgmpy's DBN inference), in one process.

Rows (same parameters, same data, in the same run):

- Baum-Welch, categorical HMM: 3 states, 6 symbols, 1,000 sequences of
  length 100.  Timed region: one EM iteration (E-step by forward-backward,
  expected statistics, M-step), measured as the total time of a fit with
  ``max_iter`` iterations from the same given parameters, divided by the
  iterations.  pgm: ``fit(init="current")``; hmmlearn: ``CategoricalHMM.fit``
  with ``init_params=""``.  Both do one extra E-step to report the final
  likelihood; both include their own data checks.
- Baum-Welch, Gaussian HMM, 4-D, 3 states, diag and full: 1,000 sequences of
  length 100 (100,000 steps); the same timed region.
- log-likelihood (forward pass) and posteriors (forward-backward), 10^3 to
  10^6 total steps as 1,000-step sequences; and one sequence of 10^6 steps.
  Timed region: ``log_likelihood`` / ``smoothed`` vs hmmlearn's ``score`` /
  ``predict_proba``, data conversion included.
- pgmpy DBNInference on the umbrella HMM over T steps: the smoothed
  p(rain_t | all evidence) for every t, one ``backward_inference`` query per
  slice (asked for all slices at once, pgmpy returns different, wrong
  numbers: the row prints both differences from pgm, whose answers the
  tests check against enumeration); pgm: ``smoothed`` on the same sequence.

Every row reports the median of ``--repeat`` calls and pgm's first (cold)
call when it is slower.  BLAS runs one thread (set before NumPy loads).  Timings are wall time on a shared machine: read the
ratios, measured in the same process, rather than the absolute numbers.

    python benchmarks/sequences.py            # full sizes
    python benchmarks/sequences.py --quick    # small sizes (smoke test)
    python benchmarks/sequences.py --short --repeat 50   # per-call overhead on one short sequence
"""

from __future__ import annotations

import os

# One BLAS thread for everyone: on a shared 2-core machine multi-threaded BLAS oversubscribes the cores and
# makes small matrix products (hmmlearn's full-covariance densities) 30-100x slower, which would flatter pgm.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import pgm  # noqa: E402
from harness import NA, Row, optional_import, print_table, timed_calls

warnings.filterwarnings("ignore")
hmmlearn_hmm = optional_import("hmmlearn.hmm")
pgmpy_dbn = optional_import("pgmpy.models")

PEERS = ("hmmlearn", "pgmpy")


def categorical_models(rng):
    start, trans, emit = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3) * 3, 3), rng.dirichlet(np.ones(6), 3)
    ours = pgm.dynamic.hmm(3, emission="categorical", n_symbols=6, startprob=start, transmat=trans,
                           emissionprob=emit)
    theirs = None
    if hmmlearn_hmm is not None:
        theirs = hmmlearn_hmm.CategoricalHMM(3, n_features=6, init_params="", params="ste", tol=-np.inf)
        theirs.startprob_, theirs.transmat_, theirs.emissionprob_ = start, trans, emit
    return ours, theirs


def gaussian_models(rng, covariance, d=4, k=3):
    start, trans = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k) * 5, k)
    means = rng.normal(scale=2, size=(k, d))
    if covariance == "diag":
        covars = rng.uniform(0.5, 2, size=(k, d))
    else:
        root = rng.normal(size=(k, d, d))
        covars = root @ root.transpose(0, 2, 1) / d + np.eye(d)
    ours = pgm.dynamic.hmm(k, emission="gaussian", n_features=d, covariance=covariance, startprob=start,
                           transmat=trans, means=means, covars=covars)
    theirs = None
    if hmmlearn_hmm is not None:
        theirs = hmmlearn_hmm.GaussianHMM(k, covariance_type=covariance, init_params="", params="stmc",
                                          tol=-np.inf, min_covar=0.0, covars_prior=0.0, covars_weight=0.0)
        theirs.startprob_, theirs.transmat_, theirs.means_, theirs.covars_ = start, trans, means, covars
    return ours, theirs


def sample_steps(model, lengths, seed):
    frame = model.sample(lengths, seed=seed)
    return frame[list(model.observed_nodes)].to_numpy().astype(float if model.domains[model.observed_nodes[0]]
                                                                    is None else int)


def baum_welch_row(task, ours, theirs, X, lengths, iterations, repeat) -> Row:
    def run_pgm():
        return ours.fit(X, lengths=lengths, init="current", max_iter=iterations, tol=-1.0)

    median, times, fitted = timed_calls(run_pgm, repeat)
    row = Row(task, f"{len(lengths):,} × {lengths[0]}", median / iterations, first=times[0] / iterations)
    if theirs is not None:
        theirs.n_iter = iterations
        names = [n for n in ("startprob_", "transmat_", "emissionprob_", "means_", "_covars_") if hasattr(theirs, n)]
        start = {n: np.array(getattr(theirs, n)) for n in names}

        def reset():  # untimed: every fit starts from the same parameters as pgm's
            for n, value in start.items():
                setattr(theirs, n, value.copy())

        def run_theirs(_):
            return theirs.fit(X, lengths)

        peer, _, _ = timed_calls(run_theirs, repeat, setup=reset)
        row.peers["hmmlearn"] = peer / iterations
        assert abs(fitted.score(X, lengths=lengths) - theirs.score(X, lengths)) < 1e-6 * abs(theirs.score(X, lengths))
    row.peers.setdefault("pgmpy", NA)
    return row


def inference_rows(ours, theirs, rng, sizes, repeat) -> list[Row]:
    rows = []
    for total, length in sizes:
        lengths = [length] * (total // length)
        X = rng.integers(0, 6, size=(total, 1))
        for task, mine, peer in (
                ("log-likelihood (forward)", lambda: ours.log_likelihood(X, lengths=lengths),
                 lambda: theirs.score(X, lengths)),
                ("posteriors (forward-backward)", lambda: ours.smoothed(X, lengths=lengths),
                 lambda: theirs.predict_proba(X, lengths))):
            calls = repeat if total > 10_000 else max(repeat, 25)  # milliseconds: more calls for a steady median
            median, times, _ = timed_calls(mine, calls)
            row = Row(task, f"{len(lengths):,} × {length:,}", median, first=times[0])
            if theirs is not None:
                row.peers["hmmlearn"], _, _ = timed_calls(peer, calls)
            row.peers.setdefault("pgmpy", NA)
            rows.append(row)
    return rows


def pgmpy_row(T, repeat) -> Row | None:
    if pgmpy_dbn is None:
        return None
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import DBNInference
    from pgmpy.models import DynamicBayesianNetwork as PgmpyDBN

    umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
                               transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
    theirs = PgmpyDBN([(("z", 0), ("y", 0)), (("z", 0), ("z", 1)), (("z", 1), ("y", 1))])
    theirs.add_cpds(TabularCPD(("z", 0), 2, [[0.5], [0.5]]),
                    TabularCPD(("z", 1), 2, [[0.7, 0.3], [0.3, 0.7]], evidence=[("z", 0)], evidence_card=[2]),
                    TabularCPD(("y", 0), 2, [[0.8, 0.1], [0.2, 0.9]], evidence=[("z", 0)], evidence_card=[2]))
    theirs.initialize_initial_state()
    y = np.random.default_rng(0).integers(0, 2, size=T)
    evidence = {("y", t): int(y[t]) for t in range(T)}

    def run_theirs():
        # one query per slice: asked together, pgmpy's backward pass returns other (wrong) numbers
        engine = DBNInference(theirs)
        return np.array([engine.backward_inference([("z", t)], evidence)[("z", t)].values for t in range(T)])

    joint = DBNInference(theirs).backward_inference([("z", t) for t in range(T)], evidence)
    joint = np.array([joint[("z", t)].values for t in range(T)])

    def run_ours():
        return umbrella.smoothed({"y": y})["z"].to_numpy(float)

    median, times, mine = timed_calls(run_ours, repeat)
    row = Row("umbrella HMM, smoothed p(z_t given all y) for every t", f"1 × {T}", median, first=times[0])
    peer, _, answer = timed_calls(run_theirs, 1)
    row.peers["pgmpy"] = peer
    row.peers["hmmlearn"] = NA
    row.task += (f" (max abs pgmpy - pgm: {np.abs(answer - mine).max():.1e} one slice per query, "
                 f"{np.abs(joint - mine).max():.1e} all slices in one query)")
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--short", action="store_true",
                        help="only the per-call overhead rows: one sequence of 100 or 1,000 steps")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    if args.short:
        ours, theirs = categorical_models(rng)
        rows = inference_rows(ours, theirs, rng, [(100, 100), (1_000, 1_000)], args.repeat)
        print("Sequences, one short sequence: pgm.dynamic vs hmmlearn (median wall time; ratios > 1 mean pgm is "
              "faster)\n")
        print_table(rows, PEERS)
        return
    n_seq = 100 if args.quick else 1000
    iterations = 5
    rows = []
    ours, theirs = categorical_models(rng)
    lengths = [100] * n_seq
    rows.append(baum_welch_row("Baum-Welch iteration, categorical HMM (3 states, 6 symbols)", ours, theirs,
                               sample_steps(ours, lengths, 1), lengths, iterations, args.repeat))
    for covariance in ("diag", "full"):
        g_ours, g_theirs = gaussian_models(rng, covariance)
        rows.append(baum_welch_row(f"Baum-Welch iteration, Gaussian HMM 4-D {covariance} (3 states)", g_ours,
                                   g_theirs, sample_steps(g_ours, lengths, 2), lengths, iterations, args.repeat))
    sizes = [(1_000, 1_000), (100_000, 1_000)] if args.quick else [(1_000, 1_000), (100_000, 1_000),
                                                                    (1_000_000, 1_000), (1_000_000, 1_000_000)]
    rows += inference_rows(ours, theirs, rng, sizes, args.repeat)
    for T in ((5, 10) if args.quick else (5, 10, 20)):
        row = pgmpy_row(T, args.repeat)
        if row is not None:
            rows.append(row)
    print("Sequences: pgm.dynamic vs hmmlearn and pgmpy (median wall time; ratios > 1 mean pgm is faster)\n")
    print_table(rows, PEERS)


if __name__ == "__main__":
    main()
