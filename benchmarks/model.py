"""The model layer against pgmpy, pyAgrum and networkx: sampling, scoring, fitting, d-separation, BIF, Gaussians.

Every row of the table does the same work through each library on the same
network and the same data, and reports the median wall time of several
repeats.  Peers are optional: a library that is not installed shows
"not installed" in its column.

    python benchmarks/model.py            # the full run (a couple of minutes)
    python benchmarks/model.py --quick    # small sizes, a smoke test (< 1 minute)
    python benchmarks/model.py --only dsep --repeat 9

See benchmarks/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd

import pgm
from pgm.errors import UnseenConfigurationWarning

from harness import (  # noqa: E402,F401
    MISSING, NA, PEERS, Row, format_ratio, format_seconds, gum, measure, peer_status, pgm_only_target, pgmpy,
    pgmpy_discrete, pgmpy_table, print_table, pyagrum_discrete, pyagrum_table, target_line,
)

@dataclass(frozen=True)
class Sizes:
    rows: int              # rows for the like-for-like discrete comparisons
    rows_big: int          # rows for the pgm-only targets and the Gaussian rows
    ll_subset_pgmpy: int   # rows scored one at a time by pgmpy
    ll_subset_pyagrum: int # rows scored one at a time by pyAgrum
    dag_nodes: int         # nodes of the random and the deep DAG for d-separation
    dsep_queries: int      # queries timed for pgm
    dsep_peer_queries: int # queries timed for each peer (the first ones of the same list)
    bif_scale: float       # size of the synthetic BIF files, as a fraction of the full ones


FULL = Sizes(100_000, 1_000_000, 1_000, 2_000, 100_000, 200, 5, 1.0)
QUICK = Sizes(20_000, 50_000, 50, 200, 10_000, 50, 3, 0.1)
DEEP_WINDOW = 200  # the deep DAG draws each node's parents among the previous DEEP_WINDOW nodes
PEER_TIME_LIMIT = 60.0  # seconds of d-separation queries per peer and graph, after which it stops


def marginal_gap(reference: pd.DataFrame, other: pd.DataFrame) -> float:
    """Largest difference in any node's state frequencies between two samples."""
    gap = 0.0
    for column in reference.columns:
        a = reference[column].astype(str).value_counts(normalize=True)
        b = other[column].astype(str).value_counts(normalize=True)
        gap = max(gap, float(a.sub(b, fill_value=0.0).abs().max()))
    return gap


# ---------------------------------------------------------------------------- discrete benchmarks
def bench_sample(net, pgmpy_model, sizes, repeat, peer_repeat, checks) -> list[Row]:
    n = sizes.rows
    row = Row("alarm: ancestral sampling", f"{n:,}", 0.0, peer_status(pgmpy=pgmpy, pyAgrum=gum))
    row.pgm, ours = measure(lambda: net.sample(n, seed=0), repeat)
    if pgmpy_model is not None:
        row.peers["pgmpy"], theirs = measure(
            lambda: pgmpy_model.simulate(n, seed=0, show_progress=False), peer_repeat
        )
        checks.append(f"sampling, pgmpy vs pgm: max |state frequency difference| = {marginal_gap(ours, theirs):.4f}")
    if gum is not None:
        bn = pyagrum_discrete(net)

        def draw():
            generator = gum.BNDatabaseGenerator(bn)
            generator.drawSamples(n)
            return generator.to_pandas()

        def draw_only(generator):  # the generator is built untimed; to_pandas is left out
            generator.drawSamples(n)
            return generator

        row.peers["pyAgrum"], theirs = measure(draw, peer_repeat)
        row.peers["pyAgrum draw only"], _ = measure(draw_only, peer_repeat, setup=lambda: gum.BNDatabaseGenerator(bn))
        checks.append(f"sampling, pyAgrum vs pgm: max |state frequency difference| = {marginal_gap(ours, theirs):.4f}")
        checks.append(
            f"sampling, pyAgrum's time is drawSamples + to_pandas ({format_seconds(row.peers['pyAgrum'])}); "
            f"drawSamples alone takes {format_seconds(row.peers['pyAgrum draw only'])} (its own table of "
            "integer codes, not a DataFrame); pgm's time includes its categorical DataFrame"
        )

    big = pgm_only_target("alarm: ancestral sampling", "sample", sizes.rows_big,
                          lambda: net.sample(sizes.rows_big, seed=0), 1.0, repeat, checks)
    return [row, big]


def bench_log_likelihood(net, pgmpy_model, sizes, repeat, peer_repeat, checks) -> list[Row]:
    n = sizes.rows
    data = net.sample(sizes.rows_big, seed=1)
    head = data.iloc[:n]
    row = Row("alarm: per-row log-likelihood", f"{n:,}", 0.0, peer_status(pgmpy=pgmpy, pyAgrum=gum))
    row.pgm, ours = measure(lambda: net.log_likelihood(head), repeat)

    if pgmpy_model is not None:
        k = min(sizes.ll_subset_pgmpy, n)
        records = data.iloc[:k].astype(str).to_dict("records")
        seconds, probabilities = measure(
            lambda: [pgmpy_model.get_state_probability(r) for r in records], peer_repeat
        )
        row.peers["pgmpy"] = seconds / k * n
        row.estimated.add("pgmpy")
        gap = np.max(np.abs(np.log(probabilities) - ours[:k]))
        checks.append(
            f"log-likelihood, pgmpy get_state_probability vs pgm on {k:,} rows: max |diff| = {gap:.2e} nats "
            f"({seconds / k * 1e3:.2f} ms/row; no vectorised per-row log-likelihood in pgmpy "
            f"{pgmpy.__version__})"
        )
    if gum is not None:
        k = min(sizes.ll_subset_pyagrum, n)
        bn = pyagrum_discrete(net)
        instantiation = gum.Instantiation()
        for node in data.columns:
            instantiation.add(bn.variable(node))
        records = data.iloc[:k].astype(str).to_dict("records")

        def score_rows():
            out = []
            for record in records:
                instantiation.fromdict(record)
                out.append(bn.log2JointProbability(instantiation))
            return out

        seconds, log2 = measure(score_rows, peer_repeat)
        row.peers["pyAgrum"] = seconds / k * n
        row.estimated.add("pyAgrum")
        gap = np.max(np.abs(np.asarray(log2) * math.log(2) - ours[:k]))
        checks.append(
            f"log-likelihood, pyAgrum log2JointProbability (x ln 2) vs pgm on {k:,} rows: max |diff| = "
            f"{gap:.2e} nats ({seconds / k * 1e6:.1f} µs/row)"
        )

    big = pgm_only_target("alarm: per-row log-likelihood", "log-likelihood of", sizes.rows_big,
                          lambda: net.log_likelihood(data), 0.5, repeat, checks)
    return [row, big]


def bench_fit(net, pgmpy_model, sizes, repeat, peer_repeat, checks) -> list[Row]:
    n = sizes.rows
    data = net.sample(sizes.rows_big, seed=2)
    head = data.iloc[:n]
    row = Row("alarm: maximum-likelihood fit", f"{n:,}", 0.0, peer_status(pgmpy=pgmpy, pyAgrum=gum))

    def fit(frame):
        with warnings.catch_warnings():  # small quick-mode samples leave parent configurations unseen
            warnings.simplefilter("ignore", UnseenConfigurationWarning)
            return net.fit(frame)

    row.pgm, ours = measure(lambda: fit(head), repeat)

    if pgmpy_model is not None:
        from pgmpy.models import DiscreteBayesianNetwork
        from pgmpy.parameter_estimator import DiscreteMLE

        states = {node: list(net.states(node)) for node in net.nodes}

        def structure():  # a fresh model without CPDs for every repeat
            model = DiscreteBayesianNetwork(list(pgmpy_model.edges()))
            model.add_nodes_from(pgmpy_model.nodes())
            return model

        row.peers["pgmpy"], fitted = measure(
            lambda model: model.fit(head, estimator=DiscreteMLE(state_names=states)), peer_repeat, setup=structure
        )
        gap = max(np.max(np.abs(pgmpy_table(fitted.get_cpds(v), net, v) - ours[v].table)) for v in net.nodes)
        checks.append(f"fit, pgmpy DiscreteMLE vs pgm: max |table difference| = {gap:.2e}")
    if gum is not None:
        bn = pyagrum_discrete(net)
        text = head.astype(str)  # pyAgrum reads labels; converting the frame is left untimed

        def learn():
            learner = gum.BNLearner(text, bn)  # bn supplies the variables and their labels
            learner.useNoPrior()
            return learner.learnParameters(bn.dag())

        try:
            row.peers["pyAgrum"], fitted = measure(learn, peer_repeat)
        except gum.DatabaseError as error:  # without a prior, pyAgrum refuses unseen parent configurations
            row.peers["pyAgrum"] = "failed"
            checks.append(f"fit, pyAgrum failed: {str(error).splitlines()[0][:160]}")
        else:
            gap = max(np.max(np.abs(pyagrum_table(fitted, v, net[v].parents) - ours[v].table)) for v in net.nodes)
            checks.append(f"fit, pyAgrum BNLearner.learnParameters vs pgm: max |table difference| = {gap:.2e}")

    big = pgm_only_target("alarm: maximum-likelihood fit", "fit", sizes.rows_big,
                          lambda: fit(data), 0.5, repeat, checks)
    return [row, big]


# ---------------------------------------------------------------------------- d-separation
def random_dag(n: int, mean_parents: float, seed: int) -> list[list[int]]:
    """Parents of each node: Poisson(mean_parents) many, uniform among the earlier nodes."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(mean_parents, size=n)
    parents = []
    for i, k in enumerate(counts):
        picks = (rng.random(min(k, i)) * i).astype(int)  # duplicates merge, so a few nodes get fewer
        parents.append(sorted(set(picks.tolist())))
    return parents


def deep_dag(n: int, window: int, mean_parents: float, seed: int) -> list[list[int]]:
    """Parents of each node: Poisson(mean_parents) many, uniform among the ``window`` previous nodes.

    Every path between distant nodes is long, so a breadth-first search needs
    hundreds of levels: the hard case for a level-synchronous search.
    """
    rng = np.random.default_rng(seed)
    counts = rng.poisson(mean_parents, size=n)
    parents = []
    for i, k in enumerate(counts):
        low = max(0, i - window)
        picks = rng.integers(low, i, size=min(k, i)) if i else np.empty(0, dtype=int)
        parents.append(sorted(set(picks.tolist())))
    return parents


def bench_dsep(sizes, repeat, peer_repeat, checks) -> list[Row]:
    n = sizes.dag_nodes
    graphs = [
        ("random DAG", random_dag(n, 2.0, seed=0)),
        (f"deep DAG, parents among the previous {DEEP_WINDOW}", deep_dag(n, DEEP_WINDOW, 2.0, seed=0)),
    ]
    return [bench_dsep_on(label, parents, sizes, repeat, checks) for label, parents in graphs]


def bench_dsep_on(label: str, parents: list[list[int]], sizes, repeat, checks) -> Row:
    n = len(parents)
    names = [f"n{i}" for i in range(n)]
    edges = [(names[p], names[i]) for i, ps in enumerate(parents) for p in ps]
    rng = np.random.default_rng(1)
    queries = []
    for _ in range(sizes.dsep_queries):
        picked = rng.choice(n, size=5, replace=False).tolist()  # x, y and three observed nodes
        queries.append((picked[0], picked[1], picked[2:]))

    # every library's graph is built outside the timed region
    ours = pgm.DAG({names[i]: [names[p] for p in ps] for i, ps in enumerate(parents)})
    ask = {"pgm": lambda x, y, z: ours.is_d_separated(names[x], names[y], [names[i] for i in z])}
    graph = nx.DiGraph()
    graph.add_nodes_from(names)
    graph.add_edges_from(edges)
    ask["networkx"] = lambda x, y, z: nx.is_d_separator(graph, {names[x]}, {names[y]}, {names[i] for i in z})
    if pgmpy is not None:
        from pgmpy.base import DAG as PgmpyDAG

        theirs = PgmpyDAG()
        theirs.add_nodes_from(names)
        theirs.add_edges_from(edges)
        ask["pgmpy"] = lambda x, y, z: not theirs.is_dconnected(names[x], names[y], observed=[names[i] for i in z])
    if gum is not None:
        agrum_dag = gum.DAG()
        agrum_dag.addNodes(n)  # ids 0..n-1
        for child, ps in enumerate(parents):
            for p in ps:
                agrum_dag.addArc(p, child)
        ask["pyAgrum"] = lambda x, y, z: agrum_dag.dSeparation(x, y, z)

    cold = time.perf_counter()
    ask["pgm"](*queries[0])  # pgm builds its sparse adjacency arrays lazily, on the first query
    cold = time.perf_counter() - cold
    checks.append(f"d-separation, {label}: pgm's first query on a fresh DAG (builds its index) took "
                  f"{format_seconds(cold)}")

    row = Row(f"d-separation, {label} (1 query: x, y, 3 observed)", f"{n:,} nodes", 0.0,
              peer_status(pgmpy=pgmpy, pyAgrum=gum))
    answers, pgm_times, timed_out = {}, [], set()
    for library, query in ask.items():
        count = sizes.dsep_queries if library == "pgm" else sizes.dsep_peer_queries
        per_query, results = [], []
        for x, y, z in queries[:count]:
            if library == "pgm":
                seconds, answer = measure(lambda: query(x, y, z), repeat)
            else:
                budget = PEER_TIME_LIMIT - sum(per_query)
                try:
                    seconds, answer = within(budget, lambda: measure(lambda: query(x, y, z), 1))
                except TimeoutError:
                    timed_out.add(library)
                    break  # a slow peer is timed on fewer queries (the checks say how many)
            per_query.append(seconds)
            results.append(bool(answer))
        answers[library] = results
        if not per_query:
            row.peers[library] = f"> {PEER_TIME_LIMIT:.0f} s"
            continue
        median = statistics.median(per_query)
        if library == "pgm":
            row.pgm, pgm_times = median, per_query
        else:
            row.peers[library] = median
    agree = {lib: (sum(a == b for a, b in zip(res, answers["pgm"])), len(res))
             for lib, res in answers.items() if lib != "pgm"}
    if timed_out:
        checks.append(f"d-separation, {label}: stopped timing {', '.join(sorted(timed_out))} after "
                      f"{PEER_TIME_LIMIT:.0f} s")
    checks.append(
        f"d-separation, {label}: pgm timed on {len(queries)} queries ({sum(answers['pgm'])} d-separated; "
        f"fastest {format_seconds(min(pgm_times))}, slowest {format_seconds(max(pgm_times))}), each peer on the "
        f"first {sizes.dsep_peer_queries} (fewer if they took over {PEER_TIME_LIMIT:.0f} s); agreement with pgm: "
        + ", ".join(f"{lib} {ok}/{k}" for lib, (ok, k) in agree.items())
    )
    checks.append(target_line(f"one d-separation query, {label}", row.pgm, 5e-3))
    return row


def within(seconds: float, work):
    """``work()``, or TimeoutError once it has run ``seconds`` (a peer's slow query is abandoned)."""
    import signal

    if seconds <= 0:
        raise TimeoutError

    def expire(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return work()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------------------- reading BIF files
def synthetic_bif(name: str, scale: float, folder) -> str:
    """A large BIF file written by pgm: a random network sized like a bnlearn one.

    bnlearn's largest files (diabetes, pathfinder, munin) are not shipped with
    pgm; these stand in for them: many states, several parents, hundreds of
    thousands of probabilities.  The same seed gives the same file.
    """
    from pathlib import Path

    shapes = {  # nodes, max parents, states (low, high), total probabilities (roughly)
        "diabetes-sized": (413, 2, (3, 22), 430_000, 1),
        "pathfinder-sized": (109, 2, (2, 64), 77_000, 2),
        "munin-sized": (1041, 3, (2, 22), 80_000, 3),
    }
    n_nodes, max_parents, state_range, target, seed = shapes[name]
    n_nodes = max(5, int(n_nodes * scale))
    path = Path(folder) / f"{name}-{n_nodes}.bif"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(seed)
    names, cards, cpds = [f"v{i}" for i in range(n_nodes)], {}, {}
    for i, node in enumerate(names):
        k = int(rng.integers(*state_range))
        cards[node] = k
        count = min(i, int(rng.integers(0, max_parents + 1)))
        parents = [names[j] for j in rng.choice(i, size=count, replace=False)] if count else []
        while parents and np.prod([cards[p] for p in parents]) * k > target / n_nodes * 8:
            parents.pop()
        shape = tuple(cards[p] for p in parents) + (k,)
        table = rng.dirichlet(np.ones(k), size=int(np.prod(shape[:-1], dtype=int))).reshape(shape)
        cpds[node] = pgm.Categorical([f"s{j}" for j in range(k)], parents=parents, table=table)
    pgm.BayesianNetwork(cpds, name=name).write(path)
    return str(path)


def bench_read(sizes, repeat, peer_repeat, checks) -> list[Row]:
    import os
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), "pgm-benchmark-bif")
    os.makedirs(folder, exist_ok=True)
    rows = []
    for name in ("diabetes-sized", "pathfinder-sized", "munin-sized"):
        path = synthetic_bif(name, sizes.bif_scale, folder)
        ours = pgm.read(path)
        parameters = sum(ours[node].table.size for node in ours.nodes)
        row = Row(f"read BIF: synthetic {name} ({len(ours)} nodes, {parameters:,} probabilities)",
                  f"{os.path.getsize(path) / 1e6:.1f} MB", 0.0, peer_status(pyAgrum=gum))
        row.pgm, _ = measure(lambda: pgm.read(path), repeat)
        if gum is not None:
            row.peers["pyAgrum"], bn = measure(lambda: gum.loadBN(path), peer_repeat)
            gap = max(float(np.max(np.abs(pyagrum_table(bn, v, ours[v].parents) - ours[v].table))) for v in ours.nodes)
            checks.append(f"read BIF, {name}: pgm / pyAgrum loadBN = {row.pgm / row.peers['pyAgrum']:.2f} "
                          f"(target: within 2x); max |table difference| = {gap:.1e} (pyAgrum reads single precision)")
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------- Gaussian benchmarks
def pgmpy_gaussian(spec: dict):
    """pgmpy's copy of a bnlearn-style linear Gaussian JSON (as read by pgm)."""
    from pgmpy.factors.continuous import LinearGaussianCPD
    from pgmpy.models import LinearGaussianBayesianNetwork

    model = LinearGaussianBayesianNetwork([tuple(arc) for arc in spec["arcs"]])
    model.add_nodes_from(spec["nodes"])
    for node in spec["nodes"]:
        cpd = spec["cpds"][node]
        parents = list(cpd.get("parents", []))
        beta = [cpd["coefficients"]["(Intercept)"][0]] + [cpd["coefficients"][p][0] for p in parents]
        # the JSON gives a variance; pgmpy wants a standard deviation
        model.add_cpds(LinearGaussianCPD(node, beta, math.sqrt(cpd["variance"][0]), parents))
    return model


def bench_gaussian(sizes, repeat, peer_repeat, checks) -> list[Row]:
    n = sizes.rows_big
    net = pgm.load("ecoli70")
    with open(pgm.datasets.path("ecoli70"), encoding="utf-8") as handle:
        spec = json.load(handle)
    model = pgmpy_gaussian(spec) if pgmpy is not None else None
    missing = peer_status(pgmpy=pgmpy)
    label = f"{n:,}"
    sample = Row("ecoli70 (Gaussian): sample", label, 0.0, dict(missing))
    fit = Row("ecoli70 (Gaussian): fit", label, 0.0, dict(missing))
    score = Row("ecoli70 (Gaussian): log-likelihood", label, 0.0, dict(missing))

    first = time.perf_counter()
    net.sample(n, seed=0)
    first = time.perf_counter() - first
    sample.pgm, data = measure(lambda: net.sample(n, seed=0), repeat)
    from unittest import mock

    with mock.patch("os.cpu_count", return_value=1):  # pgm spreads row chunks over os.cpu_count() threads
        one_core, _ = measure(lambda: net.sample(n, seed=0), repeat)
    checks.append(
        f"ecoli70: sample {n:,} rows: first (cold) call {format_seconds(first)}, median {format_seconds(sample.pgm)}, "
        f"median on one thread {format_seconds(one_core)} (the < 0.5 s target is for the median on all cores)"
    )
    fit.pgm, ours = measure(lambda: net.fit(data), repeat)
    score.pgm, log_p = measure(lambda: net.log_likelihood(data), repeat)
    for row, what, limit in ((sample, "sample", 0.5), (score, "log-likelihood of", 0.3), (fit, "fit", 0.5)):
        checks.append(target_line(f"ecoli70: {what} {n:,} rows", row.pgm, limit))
    if model is None:
        return [sample, fit, score]

    from pgmpy.models import LinearGaussianBayesianNetwork
    from pgmpy.parameter_estimator import LinearGaussianMLE

    sample.peers["pgmpy"], theirs = measure(lambda: model.simulate(n, seed=0), peer_repeat)
    spread = data.std()
    gap = float(((data.mean() - theirs[data.columns].mean()).abs() / spread).max())
    checks.append(f"Gaussian sampling, pgmpy vs pgm: max |mean difference| / sd = {gap:.4f}")

    def structure():
        fresh = LinearGaussianBayesianNetwork(list(model.edges()))
        fresh.add_nodes_from(model.nodes())
        return fresh

    fit.peers["pgmpy"], fitted = measure(
        lambda m: m.fit(data, estimator=LinearGaussianMLE(std_estimator="mle")), peer_repeat, setup=structure
    )
    coefficient_gap = variance_gap = 0.0
    for node in net.nodes:
        cpd, other = ours[node], fitted.get_cpds(node)
        weights = dict(zip(other.evidence, other.beta[1:]))
        coefficient_gap = max(
            coefficient_gap,
            abs(float(cpd.intercept) - other.beta[0]),
            *(abs(float(w) - weights[p]) for p, w in zip(cpd.continuous_parents, np.ravel(cpd.weights))),
        )
        variance_gap = max(variance_gap, abs(float(cpd.variance) / other.std**2 - 1))
    checks.append(
        f"Gaussian fit, pgmpy LinearGaussianMLE(std_estimator='mle') vs pgm: max |coefficient difference| = "
        f"{coefficient_gap:.2e}, max relative variance difference = {variance_gap:.2e}"
    )

    score.peers["pgmpy"], total = measure(lambda: model.log_likelihood(data), peer_repeat)
    ours_total = float(np.sum(log_p))
    checks.append(
        f"Gaussian log-likelihood (pgmpy returns only the total): pgm {ours_total:.6e}, pgmpy {total:.6e}, "
        f"relative difference {abs(total - ours_total) / abs(ours_total):.2e}"
    )
    return [sample, fit, score]


# ---------------------------------------------------------------------------- main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run in under a minute")
    parser.add_argument("--only", choices=["discrete", "gaussian", "dsep", "read"], help="run one group of benchmarks")
    parser.add_argument("--repeat", type=int, default=5, help="repeats per pgm measurement (median); peers get min(K, 3)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeat = max(1, args.repeat)
    peer_repeat = min(repeat, 3)

    started = time.perf_counter()
    versions = {"pgm": pgm.__version__, "numpy": np.__version__, "pandas": pd.__version__, "networkx": nx.__version__}
    versions["pgmpy"] = pgmpy.__version__ if pgmpy else MISSING
    versions["pyAgrum"] = gum.__version__ if gum else MISSING
    print(", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"{'quick' if args.quick else 'full'} run; pgm median of {repeat}, peers median of {peer_repeat}\n")

    rows, checks = [], []
    if args.only in (None, "discrete"):
        net = pgm.load("alarm")
        pgmpy_model = pgmpy_discrete("alarm") if pgmpy else None
        for bench in (bench_sample, bench_log_likelihood, bench_fit):
            rows += bench(net, pgmpy_model, sizes, repeat, peer_repeat, checks)
    if args.only in (None, "dsep"):
        rows += bench_dsep(sizes, repeat, peer_repeat, checks)
    if args.only in (None, "gaussian"):
        rows += bench_gaussian(sizes, repeat, peer_repeat, checks)
    if args.only in (None, "read"):
        rows += bench_read(sizes, repeat, peer_repeat, checks)

    print_table(rows)
    print("\n~ extrapolated: the peer scored a subset of the rows one at a time; its time per row x N.")
    print("\nChecks:")
    for line in checks:
        print(f"- {line}")
    print(f"\nwall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
