"""Benchmark hybrid (CLG) inference as the number of independent pairs d_i -> c_i grows: time linear in pairs.

Issue 16 asked that k independent pairs ``d_i -> c_i`` (a discrete parent, a
Gaussian child) cost what k small networks cost: before, the continuous
nodes were keyed on all k discrete parents jointly (2^k Gaussians per row),
so 20 pairs were refused and 14 took 0.7 s per 100 rows.  pgm now splits the
continuous nodes into blocks keyed on their own discrete parents
(:mod:`pgm.inference.gaussian_blocks`).

    python benchmarks/hybrid.py            # 5, 10, 20, 40 pairs; 1,000 rows
    python benchmarks/hybrid.py --quick    # 5, 10, 20 pairs; 200 rows; 3 calls each

Rows (all in one process; networks and data built untimed):

- "posteriors, k pairs": ``net.posteriors(rows)`` on a DataFrame of N rows
  with 30% of the cells missing (every node's posterior for every row:
  evidence parsing, planning, inference, the result frames).  The peer column
  "k small networks" answers the same rows with the k one-pair networks, one
  after the other (``pair.posteriors(rows[[d_i, c_i]])`` for each i): what
  "cost what k small networks cost" compares with.
- "log_likelihood, k pairs": ``net.log_likelihood(rows)``, same rows.
- "query d0 given all c, k pairs": one case, ``net.query("d0", {c_i: value})``.
- "switching chain, k links": ``d_i -> c_i`` and ``c_{i-1} -> c_i``, every c observed and 30% of
  the d missing; ``net.posteriors(rows)``.  The observed links cut the chain into one block per link
  (before: one block keyed on 2^k configurations; in a separate run 17 links took 5.7 s for 10 rows
  and 20 links were refused).
- "discrete pairs, query d0 given all e": pyAgrum has no CLG networks, so the
  same shape with a discrete child (3 states) is timed against pyAgrum's
  LazyPropagation (``setEvidence`` + ``makeInference`` + ``posterior("d0")``,
  a new engine per call, as pgm's call parses its evidence each time).

Medians of ``--repeat`` calls; pgm's first (cold) call -- on a new network
object, so it includes compiling the plan -- is shown when it is more than
1.5x the median, and the checks list every cold time.  The last column of the
checks is time per pair, which stays flat when the cost is linear.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from pgm import BayesianNetwork, Categorical, LinearGaussian

from harness import MISSING, Row, format_ratio, format_seconds, gum, print_table, timed_calls  # noqa: E402

PEERS = ("k small networks", "pyAgrum")


def pairs_network(k: int, *, discrete_child: bool = False, seed: int = 0) -> BayesianNetwork:
    rng = np.random.default_rng(seed)
    cpds = {}
    for i in range(k):
        cpds[f"d{i}"] = Categorical(["a", "b"], table=rng.dirichlet([2.0, 2.0]))
        if discrete_child:
            cpds[f"c{i}"] = Categorical(["x", "y", "z"], parents=[f"d{i}"], table=rng.dirichlet([1.0] * 3, size=2))
        else:
            cpds[f"c{i}"] = LinearGaussian(parents=[f"d{i}"], intercept=rng.normal(0, 2, 2),
                                           variance=rng.uniform(0.5, 2.0, 2))
    return BayesianNetwork(cpds)


def switching_chain(k: int, seed: int = 0) -> BayesianNetwork:
    rng = np.random.default_rng(seed)
    cpds = {}
    for i in range(k):
        cpds[f"d{i}"] = Categorical(["a", "b"], table=rng.dirichlet([2.0, 2.0]))
        cpds[f"c{i}"] = LinearGaussian(parents=[f"d{i}"] + ([f"c{i - 1}"] if i else []),
                                       intercept=rng.normal(0, 2, 2),
                                       weights={f"c{i - 1}": rng.uniform(-0.9, 0.9, 2)} if i else None,
                                       variance=rng.uniform(0.5, 2.0, 2))
    return BayesianNetwork(cpds)


def incomplete_rows(net: BayesianNetwork, n: int, fraction: float = 0.3) -> pd.DataFrame:
    rows = net.sample(n, seed=1)
    return rows.mask(np.random.default_rng(2).random(rows.shape) < fraction)


def pyagrum_pairs(net: BayesianNetwork):
    bn = gum.BayesNet("pairs")
    k = len(net.nodes) // 2
    for i in range(k):
        bn.add(gum.LabelizedVariable(f"d{i}", f"d{i}", ["a", "b"]))
        bn.add(gum.LabelizedVariable(f"c{i}", f"c{i}", ["x", "y", "z"]))
        bn.addArc(f"d{i}", f"c{i}")
    for i in range(k):
        bn.cpt(f"d{i}").fillWith(net[f"d{i}"].table.tolist())
        # a pyAgrum tensor's flat order has its first variable (the child) varying fastest: (parent, child) row-major
        bn.cpt(f"c{i}").fillWith(net[f"c{i}"].table.ravel().tolist())
    return bn


def timed(work, repeat: int, fresh=None):
    """(median, first) of ``repeat`` calls; the first on a fresh network when ``fresh`` builds one."""
    if fresh is not None:
        first_net = fresh()
        _, first_times, _ = timed_calls(lambda: work(first_net), 1)
        net = first_net
    else:
        first_times, net = None, None
    median, times, result = timed_calls(lambda: work(net), repeat)
    return median, (first_times or times)[0], result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5, 10, 20 pairs on 200 rows, 3 calls each")
    parser.add_argument("--repeat", type=int, default=7, help="calls per row (median reported)")
    args = parser.parse_args(argv)
    sizes = (5, 10, 20) if args.quick else (5, 10, 20, 40)
    n = 200 if args.quick else 1000
    repeat = 3 if args.quick else args.repeat

    rows_out, checks = [], []
    for k in sizes:
        rows = incomplete_rows(pairs_network(k), n)

        median, first, answer = timed(lambda net: net.posteriors(rows), repeat, lambda: pairs_network(k))
        small = [BayesianNetwork({f"d{i}": pairs_network(k)[f"d{i}"], f"c{i}": pairs_network(k)[f"c{i}"]})
                 for i in range(k)]
        loop, _, per_pair = timed_calls(
            lambda: [s.posteriors(rows[[f"d{i}", f"c{i}"]]) for i, s in enumerate(small)], repeat)
        worst = max(float(np.max(np.abs(answer[f"c{i}"].to_numpy() - per_pair[i][f"c{i}"].to_numpy())))
                    for i in range(k))
        rows_out.append(Row(f"posteriors, {k} pairs", f"{n:,}", median, {"k small networks": loop,
                                                                          "pyAgrum": "no CLG"}, first=first))
        checks.append(f"posteriors, {k} pairs: cold {format_seconds(first)}, median {format_seconds(median)}, "
                      f"{format_seconds(median / k)} per pair; {k} small networks {format_seconds(loop)} "
                      f"({format_ratio(loop / median)}); largest difference from them {worst:.1e}")

        median, first, _ = timed(lambda net: net.log_likelihood(rows), repeat, lambda: pairs_network(k))
        rows_out.append(Row(f"log_likelihood, {k} pairs", f"{n:,}", median, {"pyAgrum": "no CLG"}, first=first))
        checks.append(f"log_likelihood, {k} pairs: cold {format_seconds(first)}, median {format_seconds(median)}, "
                      f"{format_seconds(median / k)} per pair")

        evidence = {f"c{i}": 0.5 for i in range(k)}
        median, first, _ = timed(lambda net: net.query("d0", evidence), repeat, lambda: pairs_network(k))
        rows_out.append(Row(f"query d0 given all c, {k} pairs", "1", median, {"pyAgrum": "no CLG"}, first=first))

        chain_rows = switching_chain(k).sample(n, seed=3)
        hidden = np.random.default_rng(4).random((n, k)) < 0.3
        for i in range(k):
            chain_rows[f"d{i}"] = chain_rows[f"d{i}"].mask(hidden[:, i])
        median, first, _ = timed(lambda net: net.posteriors(chain_rows), repeat, lambda: switching_chain(k))
        rows_out.append(Row(f"switching chain, {k} links", f"{n:,}", median, {"pyAgrum": "no CLG"}, first=first))
        checks.append(f"switching chain, {k} links: cold {format_seconds(first)}, median {format_seconds(median)}, "
                      f"{format_seconds(median / k)} per link")

        discrete = pairs_network(k, discrete_child=True)
        labels = {f"c{i}": "y" for i in range(k)}
        median, first, ours = timed(lambda net: net.query("d0", labels), repeat,
                                    lambda: pairs_network(k, discrete_child=True))
        peers = {}
        if gum is None:
            peers["pyAgrum"] = MISSING
        else:
            bn = pyagrum_pairs(discrete)

            def agrum():
                engine = gum.LazyPropagation(bn)
                engine.setEvidence(labels)
                engine.makeInference()
                return engine.posterior("d0").toarray()

            peers["pyAgrum"], _, theirs = timed_calls(agrum, repeat)
            checks.append(f"discrete pairs {k}: pgm vs pyAgrum posterior of d0 differ by "
                          f"{float(np.max(np.abs(ours.probabilities - theirs))):.1e}")
        rows_out.append(Row(f"discrete pairs, query d0 given all e, {k} pairs", "1", median, peers, first=first))

    print_table(rows_out, PEERS)
    print()
    for line in checks:
        print("- " + line)


if __name__ == "__main__":
    main()
