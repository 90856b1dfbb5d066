"""Benchmark pgm's generative classifier against scikit-learn's naive Bayes, in one process.

Every row fits a naive Bayes classifier and computes the class probabilities
of every row of the same data, through pgm's scikit-learn wrapper and through
scikit-learn, repeats alternating between the two so that both see the same
machine; it reports medians and each side's first (cold) call.

    python benchmarks/classifier.py              # a few seconds
    python benchmarks/classifier.py --quick      # 5 calls each: a smoke run
    python benchmarks/classifier.py --repeat 51  # pgm and scikit-learn: median of 51 (default 21)

What each row measures (X and y built untimed; scikit-learn's own datasets):

- digits: the 8x8 images binarised as ink > 7, a float array of 0.0 / 1.0 (scikit-learn's
  natural input).  pgm: ``BayesianNetworkClassifier(naive_bayes(...), "digit",
  prior=Dirichlet(1 on every pixel)).fit(X, y).predict_proba(X)``; scikit-learn:
  ``BernoulliNB(alpha=1, binarize=None).fit(X, y).predict_proba(X)``.  The issue's target:
  pgm within 2x.  "digits x 10" stacks the images ten times to separate per-call from per-row cost.
- iris, wine: Gaussian naive Bayes on the raw features, against ``GaussianNB(var_smoothing=0)``
  (pgm fits maximum-likelihood variances, without GaussianNB's added epsilon).

The checks list both sides' first (cold) and median calls, the largest difference between the two
libraries' probabilities, and where pgm's time goes on the digits.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

import pgm
from pgm.classifiers import naive_bayes

# harness.py holds the table helpers shared by the benchmarks
from harness import MISSING, Row, format_ratio, format_seconds, optional_import, peer_status  # noqa: E402
from harness import print_table as _print_table  # noqa: E402

PEERS = ("scikit-learn",)
TARGET_RATIO = 2.0  # the target: pgm's digits row within 2x of BernoulliNB
THRESHOLD = 7  # a digit pixel is ink when its value (0..16) exceeds this

sklearn = optional_import("sklearn")
threadpoolctl = optional_import("threadpoolctl")


def print_table(rows: list[Row]) -> None:
    _print_table(rows, PEERS)


def alternate(ours, theirs, repeat: int):
    """Times of ``repeat`` calls of each, interleaved (ours, theirs, ours, ...), and each one's last result."""
    times = {"ours": [], "theirs": []}
    results = {}
    for _ in range(max(1, repeat)):
        for key, work in (("ours", ours), ("theirs", theirs)):
            if work is None:
                continue
            start = time.perf_counter()
            results[key] = work()
            times[key].append(time.perf_counter() - start)
    return times, results


def cold_and_median(times: list[float]) -> str:
    return f"first {format_seconds(times[0])}, median {format_seconds(statistics.median(times))}"


# ---------------------------------------------------------------------------- the rows
def bench(task: str, X, y, net, target: str, prior, peer_factory, repeat: int, checks: list, *, name: str):
    from pgm.sklearn import BayesianNetworkClassifier

    n, d = np.shape(X)
    row = Row(task, f"{n:,} × {d}", 0.0, peer_status(scikit_learn=sklearn))

    def ours():
        return BayesianNetworkClassifier(net, target, prior=prior).fit(X, y).predict_proba(X)

    def theirs():
        return peer_factory().fit(X, y).predict_proba(X)

    times, results = alternate(ours, theirs if sklearn is not None else None, repeat)
    row.pgm, row.first = statistics.median(times["ours"]), times["ours"][0]
    line = f"{name}: pgm {cold_and_median(times['ours'])}"
    if sklearn is not None:
        row.peers["scikit-learn"] = statistics.median(times["theirs"])
        gap = float(np.abs(results["ours"] - results["theirs"]).max())
        line += (f"; scikit-learn {cold_and_median(times['theirs'])}; max |probability difference| {gap:.1e}; "
                 f"pgm/scikit-learn = {row.pgm / row.peers['scikit-learn']:.2f}")
    checks.append(line)
    return row


def breakdown(X, y, net, target: str, prior, repeat: int, checks: list) -> None:
    """Where pgm's time goes on the digits: reading X, the network's fit, the posterior."""
    from pgm.data import Dataset
    from pgm.sklearn import BayesianNetworkClassifier, _BlanketPlan, _read_X, _read_y

    features = tuple(n for n in net.nodes if n != target)
    model = BayesianNetworkClassifier(net, target, prior=prior).fit(X, y)
    _, columns, _, n = _read_X(X, net, target, features, fitting=True)
    columns[target], _ = _read_y(y, net, target, n)
    dataset = Dataset(columns, n)
    parts = {
        "reading X and y": lambda: (_read_X(X, net, target, features, fitting=True), _read_y(y, net, target, n)),
        "net.fit on the codes": lambda: net.fit(dataset, prior=prior),
        "the posterior's plan": lambda: _BlanketPlan(model.network_, target),
        "predict_proba": lambda: model.predict_proba(X),
    }
    medians = {}
    for label, work in parts.items():
        times, _ = alternate(work, None, repeat)
        medians[label] = statistics.median(times["ours"])
    checks.append("digits, pgm's parts (median): " + ", ".join(f"{k} {format_seconds(v)}" for k, v in medians.items()))

    frame = pd.DataFrame(np.where(X == 1, "1", "0"), columns=list(features))
    labelled = frame.assign(**{target: y.astype(str)})
    times, _ = alternate(lambda: net.fit(labelled, prior=prior).query(target, evidence=frame), None, repeat)
    checks.append(f"digits through the network's own verbs, net.fit(DataFrame) + net.query(target, evidence=DataFrame) "
                  f"(strings, no wrapper): {cold_and_median(times['ours'])}")


# ---------------------------------------------------------------------------- main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 calls per measurement: a smoke run")
    parser.add_argument("--repeat", type=int, default=21, help="calls per measurement, pgm and peer alternating")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads for both libraries (default 1: these products are small, and on a "
                             "busy 2-core machine BLAS threads wait for each other); 0 leaves BLAS as it is")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 5
    started = time.perf_counter()
    versions = {"pgm": pgm.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                "scikit-learn": sklearn.__version__ if sklearn else MISSING}
    print(", ".join(f"{k} {v}" for k, v in versions.items()))
    if sklearn is None:
        print("scikit-learn, which ships the data sets, is not installed: nothing to run")
        return
    limit = None
    if args.blas_threads and threadpoolctl is not None:
        limit = threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
    print(f"median of {args.repeat} calls each, pgm and scikit-learn alternating; BLAS threads: "
          f"{args.blas_threads or 'as configured'}\n", flush=True)

    from sklearn.datasets import load_digits, load_iris, load_wine
    from sklearn.naive_bayes import BernoulliNB, GaussianNB

    rows, checks = [], []
    digits = load_digits()
    x = (digits.data > THRESHOLD).astype(np.float64)  # scikit-learn's natural input: a float array
    pixels = [f"p{k:02d}" for k in range(64)]
    net = naive_bayes("digit", [str(k) for k in range(10)], discrete={p: ["0", "1"] for p in pixels})
    laplace = pgm.Dirichlet({p: 1.0 for p in pixels})
    rows.append(bench("digits (ink > 7), Bernoulli naive Bayes: fit + predict_proba", x, digits.target, net, "digit",
                      laplace, lambda: BernoulliNB(alpha=1.0, binarize=None), args.repeat, checks, name="digits"))
    ratio = rows[-1].pgm / rows[-1].peers["scikit-learn"]
    target_check = (f"target: digits fit + predict_proba within {TARGET_RATIO:.0f}x of BernoulliNB: "
                    f"pgm/BernoulliNB = {format_ratio(ratio)} -> {'met' if ratio <= TARGET_RATIO else 'MISSED'}")
    tiled = np.tile(x, (10, 1))
    rows.append(bench("digits × 10, the same", tiled, np.tile(digits.target, 10), net, "digit", laplace,
                      lambda: BernoulliNB(alpha=1.0, binarize=None), max(3, args.repeat // 3), checks,
                      name="digits x 10"))
    for name, loader in (("iris", load_iris), ("wine", load_wine)):
        data = loader()
        features = [f"x{j}" for j in range(data.data.shape[1])]
        gaussian = naive_bayes("class", [str(c) for c in range(len(data.target_names))], continuous=features)
        rows.append(bench(f"{name}, Gaussian naive Bayes (GaussianNB with var_smoothing=0): fit + predict_proba",
                          data.data, data.target, gaussian, "class", None, lambda: GaussianNB(var_smoothing=0.0),
                          args.repeat, checks, name=name))
    breakdown(x, digits.target, net, "digit", laplace, args.repeat, checks)
    checks.append(target_check)

    print_table(rows)
    print("\n(first …): pgm's first call, when it took more than 1.5x the median.")
    print("\nChecks:")
    for line in checks:
        print(f"- {line}")
    print(f"\nwall time: {time.perf_counter() - started:.1f} s")
    if limit is not None:
        limit.restore_original_limits()


if __name__ == "__main__":
    main()
