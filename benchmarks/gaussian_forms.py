"""Benchmark the two forms of Gaussian elimination on the same blocks: the information form and the square-root form.

pgm eliminates each block of continuous nodes in the information form when
it is well conditioned and in the square-root form (Givens rotations) when a
child is nearly determined by its parents, where the information form loses
precision (:mod:`pgm.inference.gaussian_elimination`).  This prints what the
square-root form costs, so the choice can be judged:

    python benchmarks/gaussian_forms.py            # 20,000 rows
    python benchmarks/gaussian_forms.py --quick    # 2,000 rows, 3 calls

Timed region: one ``GaussianElimination.run(values)`` on a (nodes x rows)
array with 30% of the values missing (log densities only, or also posterior
means and covariances), for a block built untimed in each form.  Blocks: one
node (a naive Bayes feature), a chain of 30 nodes (a Kalman smoother's
block), six fully connected nodes (a full-covariance mixture component).
Medians of ``--repeat`` calls; the first (cold) call is listed too.  No peer
has both forms, so the ratio is square-root over information, same process.
"""

from __future__ import annotations

import argparse

import numpy as np

from harness import timed_calls

from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.inference import gaussian_elimination


def block(kind: str, k: int, rng):
    cpds = {"d": Categorical([str(i) for i in range(k)], table=np.ones(k) / k)}
    n = {"one node": 1, "chain of 30": 30, "dense 6": 6}[kind]
    for i in range(n):
        parents = [f"x{i - 1}"] if kind == "chain of 30" and i else [f"x{j}" for j in range(i)] if kind == "dense 6" else []
        cpds[f"x{i}"] = LinearGaussian(parents=["d", *parents], intercept=rng.normal(size=k),
                                       weights={p: rng.normal(size=k) for p in parents} or None,
                                       variance=rng.uniform(0.5, 2.0, size=k))
    return BayesianNetwork(cpds), [f"x{i}" for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = 2_000 if args.quick else 20_000
    repeat = 3 if args.quick else args.repeat
    rng = np.random.default_rng(0)
    print(f"| block ({rows:,} rows, 30% missing) | output | information | square root | ratio | cold (info / sqrt) |")
    print("|---|---|---|---|---|---|")
    for kind, k in (("one node", 3), ("chain of 30", 2), ("dense 6", 3)):
        net, nodes = block(kind, k, rng)
        values = rng.normal(size=(len(nodes), rows))
        values[rng.random(values.shape) < 0.3] = np.nan
        built = {}
        for form, limit in (("information", np.inf), ("square_root", 0.0)):
            saved = gaussian_elimination.INFORMATION_FORM_LIMIT
            gaussian_elimination.INFORMATION_FORM_LIMIT = limit
            try:
                built[form] = gaussian_elimination.GaussianElimination(net, nodes, ["d"])
            finally:
                gaussian_elimination.INFORMATION_FORM_LIMIT = saved
            assert built[form].form == form
        for output, options in (("log density", dict(means=False)), ("+ means, covariances", dict(covariances=True))):
            times = {form: timed_calls(lambda e=e: e.run(values, **options), repeat) for form, e in built.items()}
            info, sqrt = times["information"], times["square_root"]
            gap = np.abs(info[2][0] - sqrt[2][0]).max()
            assert gap < 1e-9, gap  # same answers on a well-conditioned block
            print(f"| {kind} | {output} | {info[0] * 1e3:.1f} ms | {sqrt[0] * 1e3:.1f} ms | "
                  f"{sqrt[0] / info[0]:.2f}x | {info[1][0] * 1e3:.1f} / {sqrt[1][0] * 1e3:.1f} ms |")


if __name__ == "__main__":
    main()
