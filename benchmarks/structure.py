"""Benchmark structure learning: pgm against pyAgrum and pgmpy on data sampled from known networks, in one process.

For every network (asia, child, insurance, alarm) the same rows, sampled from
the true network (untimed), go to every learner:

- pgm: ``hill_climb`` (BIC; the default two starts -- the empty graph and
  PC's graph -- and the old default, the empty graph alone), ``tabu_search``
  (BIC; defaults tabu 10 / patience 10), ``pc`` (PC-stable, G-test, alpha
  0.01, as pgmpy's default), ``chow_liu``.  The timed region is the call
  on the pandas DataFrame: summarising the rows into the sufficient table
  (distinct rows and their counts), then the search (for the default
  search this includes its PC run).
- pyAgrum: ``BNLearner(frame)`` then ``useScoreBIC()`` with
  ``useGreedyHillClimbing()``, ``useLocalSearchWithTabuList()``, or
  ``useMIIC()``, then ``learnDAG()`` (the structure only).  The timed region includes building the
  learner from the DataFrame (its counting set-up), like pgm's.
- pgmpy: ``HillClimbSearch(frame).estimate(scoring_method="bic-d")`` and
  ``PC(frame).estimate(variant="stable", ci_test="chi_square", n_jobs=1)``.
  Each pgmpy call runs in a forked process and is stopped after
  ``--peer-timeout`` seconds (default 120; pgmpy is slow on 100,000 rows);
  a stopped call is reported as such.  Its time is measured inside the
  child, around the same call.

Each result's structural Hamming distance (missing + extra + reversed) is
given to the true DAG and, after mapping both to CPDAGs, to the true CPDAG;
"BIC - true" is the learned DAG's BIC minus the true DAG's BIC on the same
rows (both computed by pgm; a negative number means the search stopped in a
worse local optimum than the truth).  pgm's rows give the first (cold) call
and the median of ``--repeat`` calls; the peers run once (they are slow).

The scale part samples 10^6 rows of alarm and times (1) the counting pass
that builds the sufficient table, (2) hill climbing on it, against hill
climbing on the 10^4-row table; and reads the 10^6 rows from a Parquet file
through ``pgm.io.scan`` in chunks, reporting the peak of traced memory.

    python benchmarks/structure.py              # all four networks, 10,000 rows, and the scale part
    python benchmarks/structure.py --quick      # asia and alarm, no scale part
    python benchmarks/structure.py --rows 100000

The machine is shared: timings are noisy; compare ratios from the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc

import numpy as np

import pgm
from pgm.graph import DAG
from pgm.structure import (CPDAG, FamilyStatistics, LocalScores, chow_liu, hill_climb, pc,
                           structural_hamming_distance, sufficient_table, tabu_search)

from harness import format_ratio, format_seconds, gum, pgmpy  # noqa: E402

NETWORKS = ("asia", "child", "insurance", "alarm")


def bic_of(dag, table) -> float:
    stats = FamilyStatistics(table)
    scores = LocalScores(stats, "bic")
    return scores.total({stats.index[v]: [stats.index[p] for p in dag.parents(v)] for v in dag.nodes})


def timed(work, repeat: int):
    times, result = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times), result


def pgm_learners():
    return {
        "pgm hill climbing (BIC)": lambda frame: hill_climb(frame),
        "pgm hill climbing (BIC), empty start only (old default)": lambda frame: hill_climb(frame, start="empty"),
        "pgm tabu search (BIC)": lambda frame: tabu_search(frame),
        "pgm PC-stable (G, 0.01)": lambda frame: pc(frame, alpha=0.01),
        "pgm Chow-Liu tree": lambda frame: chow_liu(frame),
    }


def _gum_dag(learner, dag, nodes):
    edges = [(learner.nameFromId(a), learner.nameFromId(b)) for a, b in dag.arcs()]
    return DAG.from_edges(edges, nodes=nodes)


def peer_learners():
    learners = {}
    if gum is not None:
        def agrum(kind):
            def learn(frame):
                learner = gum.BNLearner(frame)
                learner.useScoreBIC()
                {"greedy": learner.useGreedyHillClimbing, "tabu": learner.useLocalSearchWithTabuList,
                 "miic": learner.useMIIC}[kind]()
                return _gum_dag(learner, learner.learnDAG(), list(frame.columns))
            return learn

        learners["pyAgrum greedy hill climbing (BIC)"] = agrum("greedy")
        learners["pyAgrum tabu (BIC)"] = agrum("tabu")
        learners["pyAgrum MIIC"] = agrum("miic")
    if pgmpy is not None:
        from pgmpy.estimators import PC, HillClimbSearch

        def pgmpy_hc(frame):
            dag = HillClimbSearch(frame).estimate(scoring_method="bic-d", show_progress=False)
            return DAG.from_edges(list(dag.edges()), nodes=list(frame.columns))

        def pgmpy_pc(frame):
            pdag = PC(frame).estimate(variant="stable", ci_test="chi_square", significance_level=0.01, n_jobs=1,
                                      show_progress=False)
            return CPDAG(list(frame.columns), pdag.directed_edges, pdag.undirected_edges)

        learners["pgmpy HillClimbSearch (BIC)"] = _in_child(pgmpy_hc)
        learners["pgmpy PC-stable (chi2, 0.01)"] = _in_child(pgmpy_pc)
    return learners


PEER_TIMEOUT = [120.0]
WITHOUT: list = []


class PeerTimeout(Exception):
    pass


def _in_child(learn):
    """Run ``learn(frame)`` in a forked process, stopped after PEER_TIMEOUT seconds; returns (seconds, result)."""
    import multiprocessing

    def run(frame):
        context = multiprocessing.get_context("fork")
        queue = context.Queue()

        def child():
            start = time.perf_counter()
            try:
                result = learn(frame)
                queue.put((time.perf_counter() - start, result, None))
            except Exception as error:  # noqa: BLE001 - reported by the parent
                queue.put((None, None, f"{type(error).__name__}: {str(error)[:80]}"))

        process = context.Process(target=child)
        process.start()
        try:
            seconds, result, error = queue.get(timeout=PEER_TIMEOUT[0])
        except Exception:  # noqa: BLE001 - queue.Empty: the time limit
            process.terminate()
            process.join()
            raise PeerTimeout(f"stopped after {PEER_TIMEOUT[0]:g} s") from None
        process.join()
        if error is not None:
            raise RuntimeError(error)
        return _Timed(seconds, result)

    return run


class _Timed:
    """A peer's result with the time measured in its child process."""

    def __init__(self, seconds, result):
        self.seconds, self.result = seconds, result


def describe(result, truth, table) -> dict:
    true_cpdag = CPDAG.from_dag(truth.dag)
    if isinstance(result, CPDAG):
        cpdag = result
        dag = result.to_dag(strict=False)
        shd_dag = None  # a CPDAG has no DAG distance of its own
    else:
        dag, cpdag = result, CPDAG.from_dag(result)
        shd_dag = structural_hamming_distance(dag, truth.dag)["total"]
    return {"edges": len(cpdag.directed) + len(cpdag.undirected), "shd": shd_dag,
            "cpdag_shd": structural_hamming_distance(cpdag, true_cpdag)["total"],
            "bic_gap": bic_of(dag, table) - bic_of(truth.dag, table)}


def run_network(name: str, rows: int, repeat: int, seed: int) -> list:
    truth = pgm.load(name)
    frame = truth.sample(rows, seed=seed)
    # Peers take text states; pgm reads the same categorical columns.
    frame = frame.astype({c: "category" for c in frame.columns})
    table = sufficient_table(frame, domains=truth.domains)
    results = []
    for label, learn in pgm_learners().items():
        if any(text in label for text in WITHOUT):
            continue
        first, median, result = timed(lambda: learn(frame), repeat)
        results.append((label, first, median, describe(result, truth, table)))
    for label, learn in peer_learners().items():
        if any(text in label for text in WITHOUT):
            continue
        try:
            first, median, result = timed(lambda: learn(frame), 1)
            if isinstance(result, _Timed):
                first = median = result.seconds
                result = result.result
            results.append((label, first, median, describe(result, truth, table)))
        except Exception as error:  # noqa: BLE001 - a peer failing is reported, not fatal
            results.append((label, None, None, {"error": f"{type(error).__name__}: {str(error)[:80]}"}))
    print(f"\n### {name}: {len(truth.nodes)} nodes, {len(truth.edges)} edges; {rows:,} rows "
          f"({table.n_groups:,} distinct)\n")
    print("| learner | time (median) | first call | edges | SHD to DAG | SHD to CPDAG | BIC - true |")
    print("|---|---|---|---|---|---|---|")
    for label, first, median, info in results:
        if "error" in info:
            print(f"| {label} | failed: {info['error']} | | | | | |")
            continue
        shd = "—" if info["shd"] is None else info["shd"]
        print(f"| {label} | {format_seconds(median)} | {format_seconds(first)} | {info['edges']} | {shd} | "
              f"{info['cpdag_shd']} | {info['bic_gap']:+.1f} |")
    return results


def ratios(results) -> None:
    times = {label: median for label, _, median, info in results if "error" not in info}
    ours = times.get("pgm hill climbing (BIC)")
    for peer in ("pyAgrum tabu (BIC)", "pyAgrum greedy hill climbing (BIC)", "pgmpy HillClimbSearch (BIC)"):
        if peer in times and ours:
            print(f"- {peer} / pgm hill climbing: {format_ratio(times[peer] / ours)}")
    if "pgmpy PC-stable (chi2, 0.01)" in times and times.get("pgm PC-stable (G, 0.01)"):
        print(f"- pgmpy PC / pgm PC: {format_ratio(times['pgmpy PC-stable (chi2, 0.01)'] / times['pgm PC-stable (G, 0.01)'])}")


def scale(seed: int) -> None:
    truth = pgm.load("alarm")
    print("\n### scale: alarm, hill climbing (BIC) on 10^4 and 10^6 rows\n")
    small = truth.sample(10_000, seed=seed)
    big = truth.sample(1_000_000, seed=seed + 1)
    count_small_first, count_small, table_small = timed(lambda: sufficient_table(small, domains=truth.domains), 3)
    count_big_first, count_big, table_big = timed(lambda: sufficient_table(big, domains=truth.domains), 3)
    for label, options in (("default (empty and PC starts)", {}), ("empty start only", {"start": "empty"})):
        search_small_first, search_small, dag_small = timed(lambda: hill_climb(table_small, **options), 3)
        search_big_first, search_big, dag_big = timed(lambda: hill_climb(table_big, **options), 2)
        print(f"\nhill climbing, {label}:\n")
        print("| rows | distinct rows | counting pass | hill climbing on the table | moves | families scored |")
        print("|---|---|---|---|---|---|")
        for rows, table, count, search, dag in ((10_000, table_small, count_small, search_small, dag_small),
                                                (1_000_000, table_big, count_big, search_big, dag_big)):
            report = dag.search_report_
            print(f"| {rows:,} | {table.n_groups:,} | {format_seconds(count)} | {format_seconds(search)} | "
                  f"{report.steps} | {report.families_scored:,} |")
        per_step_small = search_small / max(dag_small.search_report_.steps, 1)
        per_step_big = search_big / max(dag_big.search_report_.steps, 1)
        print(f"\n- per move: {format_seconds(per_step_small)} (10^4) vs {format_seconds(per_step_big)} (10^6), "
              f"ratio {per_step_big / per_step_small:.2f}")
        limit = 3 * (count_small + search_small) + count_big
        total = count_big + search_big
        print(f"- target: 10^6 rows within 3x the 10^4 time plus one counting pass: "
              f"{format_seconds(total)} vs {format_seconds(limit)} -> {'met' if total <= limit else 'MISSED'}")
        print(f"- cold first calls: counting {format_seconds(count_small_first)} / {format_seconds(count_big_first)}, "
              f"search {format_seconds(search_small_first)} / {format_seconds(search_big_first)}")
        print(f"- score cache at the end (10^6): {dag_big.search_report_.cache_entries:,} families "
              f"(bound 1,000,000); table {table_big.nbytes() / 1e6:.1f} MB vs the DataFrame "
              f"{big.memory_usage(deep=True).sum() / 1e6:.1f} MB")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        print("- Parquet scan: pyarrow not installed")
        return
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "alarm.parquet")
    big.to_parquet(path, row_group_size=100_000)
    del big
    tracemalloc.start()
    start = time.perf_counter()
    scanned = sufficient_table(pgm.io.scan(path, chunk_rows=100_000), domains=truth.domains)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"- 10^6 rows from Parquet through pgm.io.scan (100,000-row chunks): {format_seconds(elapsed)}, "
          f"peak traced memory {peak / 1e6:.1f} MB, {scanned.n_groups:,} distinct rows "
          f"(same table as in memory: {bool(np.array_equal(np.sort(scanned.weight), np.sort(table_big.weight)))})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="asia and alarm only, no scale part")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="pgm calls per learner (the median is shown)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--networks", nargs="+", default=None, choices=NETWORKS)
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--scale-only", action="store_true")
    parser.add_argument("--without", nargs="*", default=[], metavar="TEXT",
                        help="leave out learners whose label contains TEXT (e.g. MIIC, slow on 100,000 rows)")
    parser.add_argument("--peer-timeout", type=float, default=120.0, help="seconds before a pgmpy call is stopped")
    args = parser.parse_args(argv)
    PEER_TIMEOUT[0] = args.peer_timeout
    if args.scale_only:
        scale(args.seed)
        return
    networks = args.networks or (("asia", "alarm") if args.quick else NETWORKS)
    WITHOUT[:] = args.without
    for name in networks:
        results = run_network(name, args.rows, args.repeat, args.seed)
        print()
        ratios(results)
    if not (args.quick or args.no_scale):
        scale(args.seed)


if __name__ == "__main__":
    main()
