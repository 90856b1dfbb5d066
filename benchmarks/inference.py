"""Benchmark pgm's exact inference against pyAgrum and pgmpy, in one process.

Every row does the same inference through each library on the same network
(the same float64 tables) and the same evidence, and reports median wall
times.  Peers are optional: a library that is not installed shows
"not installed" in its column.

    python benchmarks/inference.py             # the full run
    python benchmarks/inference.py --quick     # small sizes, a smoke test
    python benchmarks/inference.py --repeat 9

See the "Inference" section of benchmarks/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
# harness.py silences the peers' warnings while importing them, and holds the shared table helpers
from harness import MISSING, NA, format_ratio, format_seconds, gum, peer_status, pgmpy, target_line  # noqa: E402

import pgm  # noqa: E402
from pgm import Categorical  # noqa: E402

PEERS = ("pyAgrum", "pgmpy")
MISSING_FRACTION = 0.3


@dataclass(frozen=True)
class Sizes:
    rows: int                # rows of the batched alarm and ecoli70 rows
    query_pyagrum: int       # rows queried one at a time by pyAgrum (batched target query)
    query_pgmpy: int         # rows queried one at a time by pgmpy (batched target query)
    evidence_pyagrum: int    # rows whose p(e) pyAgrum computes one at a time
    evidence_pgmpy: int      # rows whose p(e) pgmpy computes one at a time (chain rule, several queries each)
    gaussian_check: int      # ecoli70 rows checked against scipy


FULL = Sizes(100_000, 2_000, 200, 2_000, 50, 100)
QUICK = Sizes(20_000, 200, 20, 200, 5, 20)


# ---------------------------------------------------------------------------- timing and results
@dataclass
class Timing:
    median: float
    first: float
    calls: int

    def text(self, estimated: bool = False, scale: float = 1.0) -> str:
        mark = "~" if estimated else ""
        text = mark + format_seconds(self.median * scale)
        # a first call noticeably slower than the median is shown too
        if self.calls > 1 and self.first > 1.5 * self.median and self.first - self.median > 1e-4:
            text += f" (first {mark}{format_seconds(self.first * scale)})"
        return text


def measure(function, repeat: int):
    """A Timing of ``repeat`` calls (median and first call), and the last call's result."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), times[0], len(times)), result


@dataclass
class Row:
    task: str
    n: str
    pgm: Timing | None = None
    peers: dict = field(default_factory=dict)   # peer -> Timing, or a note such as NA / MISSING
    scale: dict = field(default_factory=dict)   # peer -> factor from its subset to N (extrapolated: "~")

    def cell(self, peer: str) -> str:
        value = self.peers.get(peer, NA)
        if isinstance(value, str):
            return value
        return value.text(peer in self.scale, self.scale.get(peer, 1.0))

    def ratio(self, peer: str) -> str:
        value = self.peers.get(peer)
        if not isinstance(value, Timing) or self.pgm is None or not self.pgm.median:
            return NA
        mark = "~" if peer in self.scale else ""
        return mark + format_ratio(value.median * self.scale.get(peer, 1.0) / self.pgm.median)


def print_table(rows: list[Row]) -> None:
    header = ["task", "N", "pgm", *PEERS, *(f"{p}/pgm" for p in PEERS)]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        cells = [row.task, row.n, row.pgm.text() if row.pgm else "failed"]
        cells += [row.cell(p) for p in PEERS] + [row.ratio(p) for p in PEERS]
        print("| " + " | ".join(cells) + " |")


def peak_memory(function) -> int:
    """tracemalloc's peak (bytes) above the current traced size during one call of ``function``.

    numpy reports its buffers to tracemalloc, so array memory is included;
    memory allocated outside Python's and numpy's allocators is not.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1024
    return f"{n:.1f} GiB"


def agreement(what: str, gap: float, tolerance: float = 1e-9) -> str:
    verdict = "ok" if gap <= tolerance else f"DISAGREE (tolerance {tolerance:.0e})"
    return f"{what}: max |diff| = {gap:.2e} -> {verdict}"


# ---------------------------------------------------------------------------- the models
def normalised(net):
    """A copy of a discrete ``net`` whose every table row sums to 1 in float64.

    Some bundled BIF files round their tables (alarm.bif rows sum to 1 +- 1e-7).
    Exact inference on such tables depends on whether a library drops barren
    nodes (which assumes rows summing to 1), so the libraries would differ by
    about 1e-8 for reasons unrelated to the algorithms.  Every library gets
    these normalised tables.
    """
    cpds = {}
    for node in net.nodes:
        cpd = net[node]
        table = np.asarray(cpd.table, dtype=np.float64)
        cpds[node] = Categorical(net.states(node), parents=list(cpd.parents), table=table / table.sum(-1, keepdims=True))
    return pgm.BayesianNetwork(cpds, name=net.name)


def pyagrum_model(net):
    """pyAgrum's copy of a discrete pgm network: the same states and float64 tables.

    Built from pgm's tables, not from the BIF file: pyAgrum's BIF reader reads
    numbers in single precision and rejects state names such as child's
    ``Asy/Patch``.
    """
    bn = gum.BayesNet(net.name)
    for node in net.nodes:
        bn.add(gum.LabelizedVariable(node, node, list(net.states(node))))
    for node in net.nodes:
        for parent in net[node].parents:
            bn.addArc(parent, node)
    for node in net.nodes:
        cpd, tensor = net[node], bn.cpt(node)
        axes = list(cpd.parents) + [node]  # pgm's table axes
        # a pyAgrum tensor's flat order has its first variable varying fastest
        table = np.transpose(cpd.table, [axes.index(v) for v in reversed(list(tensor.names))])
        tensor.fillWith(table.ravel().tolist())
    return bn


def pgmpy_model(net):
    """pgmpy's copy of a discrete pgm network: the same states and float64 tables."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    model = DiscreteBayesianNetwork(net.edges)
    model.add_nodes_from(net.nodes)
    for node in net.nodes:
        cpd = net[node]
        parents = list(cpd.parents)
        k = len(net.states(node))
        model.add_cpds(TabularCPD(
            node, k, cpd.table.reshape(-1, k).T,  # columns: parent configurations, row-major like pgm's axes
            evidence=parents or None,
            evidence_card=[len(net.states(p)) for p in parents] or None,
            state_names={v: list(net.states(v)) for v in [node, *parents]},
        ))
    model.check_model()
    return model


def pyagrum_vector(tensor, labels, states) -> np.ndarray:
    """A pyAgrum posterior as an array in pgm's state order."""
    values = tensor.toarray()
    return np.array([values[labels.index(s)] for s in states])


def pgmpy_vector(factor, node, states) -> np.ndarray:
    """A pgmpy DiscreteFactor over one node as an array in pgm's state order."""
    names = factor.state_names[node]
    return np.array([factor.values[names.index(s)] for s in states])


def hide_at_random(frame: pd.DataFrame, fraction: float, seed: int) -> pd.DataFrame:
    """``frame`` with each value independently set missing with probability ``fraction``."""
    mask = np.random.default_rng(seed).random(frame.shape) < fraction
    return frame.mask(mask)


def records(frame: pd.DataFrame) -> list[dict]:
    """The observed values of each row, as {column: state name} dicts (a peer's evidence)."""
    out = []
    for values in frame.astype(object).itertuples(index=False, name=None):
        out.append({c: str(v) for c, v in zip(frame.columns, values) if not pd.isna(v)})
    return out


# ---------------------------------------------------------------------------- single-case posteriors
def evidence_for(net, seed: int = 0) -> dict:
    """Two observed leaves: the first two childless nodes, with their values in one sampled row."""
    children = {p for node in net.nodes for p in net[node].parents}
    leaves = [node for node in net.nodes if node not in children]
    row = net.sample(1, seed=seed).iloc[0]
    return {node: str(row[node]) for node in leaves[:2]}


def bench_posteriors(name: str, repeat: int, checks: list, targets: list) -> Row:
    net = normalised(pgm.load(name))
    evidence = evidence_for(net)
    hidden = [node for node in net.nodes if node not in evidence]
    row = Row(f"{name}: all posteriors, 2 observed leaves", f"{len(net.nodes)} nodes",
              peers=peer_status(pyAgrum=gum, pgmpy=pgmpy))
    checks.append(f"{name}: evidence {evidence}; {len(hidden)} posteriors")

    def ours():
        return {node: d.probabilities for node, d in net.posteriors(evidence).items()}

    try:
        row.pgm, mine = measure(ours, repeat)  # the first call is the first inference on this network object
    except Exception as error:  # noqa: BLE001 - a benchmark reports the failure and goes on
        checks.append(f"{name}: pgm posteriors FAILED: {type(error).__name__}: {error}")
        mine = None
    if mine is not None and sorted(mine) != sorted(hidden):
        checks.append(f"{name}: pgm returned posteriors for {len(mine)} nodes, expected the {len(hidden)} unobserved")

    if gum is not None:
        bn = pyagrum_model(net)
        labels = {node: list(bn.variable(node).labels()) for node in net.nodes}
        engine = gum.LazyPropagation(bn)

        def theirs():  # one engine reused: setEvidence replaces all evidence, then a full propagation
            engine.setEvidence(evidence)
            engine.makeInference()
            return {node: pyagrum_vector(engine.posterior(node), labels[node], net.states(node)) for node in hidden}

        def theirs_fresh():
            fresh = gum.LazyPropagation(bn)
            fresh.setEvidence(evidence)
            fresh.makeInference()
            return {node: pyagrum_vector(fresh.posterior(node), labels[node], net.states(node)) for node in hidden}

        row.peers["pyAgrum"], agrum = measure(theirs, repeat)
        fresh_time, _ = measure(theirs_fresh, repeat)
        checks.append(f"{name}: pyAgrum with a new LazyPropagation per call (construction timed too): "
                      f"{format_seconds(fresh_time.median)}; the table shows the reused engine")
        if mine is not None:
            gap = max(float(np.max(np.abs(mine[n] - agrum[n]))) for n in hidden)
            checks.append(agreement(f"{name}: posteriors, pyAgrum LazyPropagation vs pgm", gap))
        if name in ("alarm", "insurance") and row.pgm is not None:
            t, a = row.pgm.median, row.peers["pyAgrum"].median
            targets.append(f"target: {name} all posteriors faster than pyAgrum LazyPropagation: pgm "
                           f"{format_seconds(t)}, pyAgrum {format_seconds(a)} -> {'met' if t < a else 'MISSED'}")
        if name == "alarm" and mine is not None:
            # the bundled, unnormalised tables: a difference of ~1e-8 here only reflects barren-node pruning
            raw = pgm.load(name)
            raw_engine = gum.LazyPropagation(pyagrum_model(raw))
            raw_engine.setEvidence(evidence)
            raw_engine.makeInference()
            try:
                raw_mine = raw.posteriors(evidence)
                gap = max(float(np.max(np.abs(raw_mine[n].probabilities
                                              - pyagrum_vector(raw_engine.posterior(n), labels[n], raw.states(n)))))
                          for n in hidden)
                checks.append(f"{name}, tables as bundled (rows sum to 1 +- 1e-7, not normalised): pyAgrum vs pgm "
                              f"max |diff| = {gap:.2e} (information only)")
            except Exception as error:  # noqa: BLE001
                checks.append(f"{name}, tables as bundled: pgm FAILED: {type(error).__name__}: {error}")
    elif name in ("alarm", "insurance"):
        targets.append(f"target: {name} all posteriors faster than pyAgrum: pyAgrum {MISSING}")

    if pgmpy is not None:
        from pgmpy.inference import VariableElimination

        inference = VariableElimination(pgmpy_model(net))  # built outside the timed region

        def pgmpy_loop():  # pgmpy has no all-marginals call: one query per unobserved node
            return {
                node: pgmpy_vector(inference.query([node], evidence=evidence, show_progress=False), node,
                                   net.states(node))
                for node in hidden
            }

        row.peers["pgmpy"], result = measure(pgmpy_loop, min(repeat, 5))
        if mine is not None:
            gap = max(float(np.max(np.abs(mine[n] - result[n]))) for n in hidden)
            checks.append(agreement(f"{name}: posteriors, pgmpy VariableElimination vs pgm", gap))
    return row


# ---------------------------------------------------------------------------- batched discrete rows
def bench_batched_alarm(sizes, repeat, peer_repeat, checks, targets) -> list[Row]:
    n = sizes.rows
    net = normalised(pgm.load("alarm"))
    complete = net.sample(n, seed=10)
    data = hide_at_random(complete, MISSING_FRACTION, seed=11)
    target = "HYPOVOLEMIA"
    evidence = data.drop(columns=[target])  # the target is hidden in every row
    checks.append(
        f"alarm batched data: {n:,} sampled rows (seed 10), {data.isna().to_numpy().mean():.1%} of values missing; "
        f"target {target} dropped from the evidence; input frame {format_bytes(evidence.memory_usage(deep=True).sum())}"
    )
    states = net.states(target)
    label = f"{n:,}"

    # -------------------------------------------------- one target, every row
    query = Row(f"alarm: posterior of {target} per row, {MISSING_FRACTION:.0%} missing", label,
                peers=peer_status(pyAgrum=gum, pgmpy=pgmpy))
    mine = None
    try:
        query.pgm, mine = measure(lambda: net.query(target, evidence=evidence), repeat)
    except Exception as error:  # noqa: BLE001
        checks.append(f"alarm batched query: pgm FAILED: {type(error).__name__}: {error}")
    if mine is not None:
        targets.append(target_line(f"alarm one-target query over {n:,} incomplete rows", query.pgm.median, 1.0))
        peak = peak_memory(lambda: net.query(target, evidence=evidence))
        checks.append(f"alarm batched query: pgm peak memory {format_bytes(peak)} (tracemalloc peak above the "
                      f"baseline during one extra, untimed call)")
        mine = mine.loc[:, list(states)].to_numpy(dtype=np.float64)
        if mine.shape != (n, len(states)):
            checks.append(f"alarm batched query: pgm returned shape {mine.shape}, expected {(n, len(states))}")

    if gum is not None:
        k = min(sizes.query_pyagrum, n)
        bn = pyagrum_model(net)
        labels = list(bn.variable(target).labels())
        rows = records(evidence.iloc[:k])
        engine = gum.LazyPropagation(bn)
        engine.addTarget(target)  # only the target's posterior is needed

        def per_row():
            out = np.empty((k, len(states)))
            for i, observed in enumerate(rows):
                engine.setEvidence(observed)  # replaces the previous row's evidence
                engine.makeInference()
                out[i] = pyagrum_vector(engine.posterior(target), labels, states)
            return out

        query.peers["pyAgrum"], agrum = measure(per_row, peer_repeat)
        query.scale["pyAgrum"] = n / k
        if mine is not None:
            checks.append(agreement(f"alarm batched query, pyAgrum vs pgm on {k:,} rows", float(np.max(np.abs(mine[:k] - agrum)))))
    if pgmpy is not None:
        from pgmpy.inference import VariableElimination

        k = min(sizes.query_pgmpy, n)
        inference = VariableElimination(pgmpy_model(net))
        rows = records(evidence.iloc[:k])

        def per_row_pgmpy():
            return np.array([
                pgmpy_vector(inference.query([target], evidence=observed, show_progress=False), target, states)
                for observed in rows
            ])

        query.peers["pgmpy"], theirs = measure(per_row_pgmpy, peer_repeat)
        query.scale["pgmpy"] = n / k
        if mine is not None:
            checks.append(agreement(f"alarm batched query, pgmpy vs pgm on {k:,} rows", float(np.max(np.abs(mine[:k] - theirs)))))

    # -------------------------------------------------- log p(observed part of each row)
    score = Row(f"alarm: log p(observed part of row), {MISSING_FRACTION:.0%} missing", label,
                peers=peer_status(pyAgrum=gum, pgmpy=pgmpy))
    log_p = None
    try:
        score.pgm, log_p = measure(lambda: net.log_likelihood(data), repeat)
    except Exception as error:  # noqa: BLE001
        checks.append(f"alarm incomplete log-likelihood: pgm FAILED: {type(error).__name__}: {error}")
    if log_p is not None:
        log_p = np.asarray(log_p, dtype=np.float64)
        targets.append(target_line(f"alarm log-likelihood of {n:,} incomplete rows", score.pgm.median, 1.0))
        peak = peak_memory(lambda: net.log_likelihood(data))
        checks.append(f"alarm incomplete log-likelihood: pgm peak memory {format_bytes(peak)} (tracemalloc)")
        complete_rows = ~data.isna().any(axis=1).to_numpy()
        if complete_rows.any():
            gap = float(np.max(np.abs(log_p[complete_rows] - net.log_likelihood(complete[complete_rows]))))
            checks.append(agreement(f"alarm incomplete log-likelihood: rows with nothing missing "
                                    f"({complete_rows.sum():,}) vs the same rows as a complete frame", gap))

    if gum is not None:
        k = min(sizes.evidence_pyagrum, n)
        bn = pyagrum_model(net)
        rows = records(data.iloc[:k])
        engine = gum.LazyPropagation(bn)
        engine.addTarget(target)  # one target: pyAgrum skips the other posteriors; p(e) is unaffected (checked below)

        def per_row_evidence():
            out = np.empty(k)
            for i, observed in enumerate(rows):
                engine.setEvidence(observed)
                engine.makeInference()
                out[i] = engine.evidenceProbability()
            return np.log(out)

        score.peers["pyAgrum"], agrum = measure(per_row_evidence, peer_repeat)
        score.scale["pyAgrum"] = n / k
        if log_p is not None:
            checks.append(agreement(f"alarm incomplete log-likelihood, pyAgrum log(evidenceProbability()) vs pgm "
                                    f"on {k:,} rows (nats)", float(np.max(np.abs(log_p[:k] - agrum)))))
    if pgmpy is not None:
        from pgmpy.inference import VariableElimination

        k = min(sizes.evidence_pgmpy, n)
        inference = VariableElimination(pgmpy_model(net))
        rows = records(data.iloc[:k])

        def chain_rule():
            # pgmpy has no p(e) for partial rows (get_state_probability sums over every
            # completion of the missing values): log p(e) = sum_i log p(e_i | e_1..e_{i-1})
            out = np.zeros(k)
            for r, observed in enumerate(rows):
                items = list(observed.items())
                for i, (node, state) in enumerate(items):
                    factor = inference.query([node], evidence=dict(items[:i]), show_progress=False)
                    out[r] += math.log(factor.values[factor.state_names[node].index(state)])
            return out

        score.peers["pgmpy"], theirs = measure(chain_rule, min(peer_repeat, 2))
        score.scale["pgmpy"] = n / k
        queries = sum(len(r) for r in rows)
        if log_p is not None:
            checks.append(agreement(f"alarm incomplete log-likelihood, pgmpy chain rule ({queries:,} "
                                    f"VariableElimination queries) vs pgm on {k:,} rows (nats)",
                                    float(np.max(np.abs(log_p[:k] - theirs)))))
    return [query, score]


# ---------------------------------------------------------------------------- ecoli70 (linear Gaussian)
def bench_gaussian(sizes, repeat, checks, targets) -> list[Row]:
    n = sizes.rows
    net = pgm.load("ecoli70")
    complete = net.sample(n, seed=20)
    data = hide_at_random(complete, MISSING_FRACTION, seed=21)
    label = f"{n:,}"
    no_peer = {"pyAgrum": NA, "pgmpy": NA}
    score = Row(f"ecoli70: log p(observed part of row), {MISSING_FRACTION:.0%} missing", label, peers=dict(no_peer))
    means = Row(f"ecoli70: all conditional means and sds, {MISSING_FRACTION:.0%} missing", label, peers=dict(no_peer))

    log_p = posterior = None
    try:
        score.pgm, log_p = measure(lambda: net.log_likelihood(data), repeat)
        targets.append(target_line(f"ecoli70 log-likelihood of {n:,} incomplete rows", score.pgm.median, 1.0))
    except Exception as error:  # noqa: BLE001
        checks.append(f"ecoli70 incomplete log-likelihood: pgm FAILED: {type(error).__name__}: {error}")
    try:
        means.pgm, posterior = measure(lambda: net.posteriors(data), repeat)
        targets.append(target_line(f"ecoli70 all conditional means of {n:,} incomplete rows", means.pgm.median, 1.0))
    except Exception as error:  # noqa: BLE001
        checks.append(f"ecoli70 batched posteriors: pgm FAILED: {type(error).__name__}: {error}")
    if score.pgm is not None and means.pgm is not None:
        both = score.pgm.median + means.pgm.median
        targets.append(target_line(f"ecoli70 log-likelihood + all conditional means of {n:,} rows", both, 1.0))
    if posterior is not None:
        peak = peak_memory(lambda: net.posteriors(data))
        checks.append(f"ecoli70 batched posteriors: pgm peak memory {format_bytes(peak)} (tracemalloc)")

    # an independent check: the joint normal, marginalised and conditioned with numpy / scipy
    joint = net.joint_gaussian()
    index = {name: i for i, name in enumerate(joint.names)}
    k = min(sizes.gaussian_check, n)
    ll_gap = mean_gap = sd_gap = observed_gap = 0.0
    for r in range(k):
        values = data.iloc[r]
        seen = [c for c in data.columns if not pd.isna(values[c])]
        hidden = [c for c in data.columns if pd.isna(values[c])]
        o = np.array([index[c] for c in seen])
        h = np.array([index[c] for c in hidden])
        x = values[seen].to_numpy(dtype=np.float64)
        cov_oo = joint.covariance[np.ix_(o, o)]
        if log_p is not None:
            reference = scipy.stats.multivariate_normal(joint.mean[o], cov_oo).logpdf(x) if len(o) else 0.0
            ll_gap = max(ll_gap, abs(float(log_p[r]) - float(reference)))
        if posterior is not None and len(h):
            gain = np.linalg.solve(cov_oo, joint.covariance[np.ix_(o, h)]).T  # S_ho S_oo^-1
            mean = joint.mean[h] + gain @ (x - joint.mean[o])
            cov = joint.covariance[np.ix_(h, h)] - gain @ joint.covariance[np.ix_(o, h)]
            sd = np.sqrt(np.diag(cov))
            for j, c in enumerate(hidden):
                frame = posterior[c]
                mean_gap = max(mean_gap, abs(float(frame["mean"].iloc[r]) - mean[j]) / sd[j])
                sd_gap = max(sd_gap, abs(float(frame["std"].iloc[r]) / sd[j] - 1))
            for c in seen:
                observed_gap = max(observed_gap, abs(float(posterior[c]["mean"].iloc[r]) - float(values[c])))
    if log_p is not None:
        checks.append(agreement(f"ecoli70 incomplete log-likelihood vs scipy multivariate_normal.logpdf of the "
                                f"observed sub-vector (net.joint_gaussian()) on {k} rows (nats)", ll_gap))
    if posterior is not None:
        checks.append(agreement(f"ecoli70 conditional means vs numpy Schur complement on {k} rows "
                                f"(|diff| / posterior sd)", mean_gap))
        checks.append(agreement(f"ecoli70 posterior sds vs numpy Schur complement on {k} rows (relative)", sd_gap))
        checks.append(agreement(f"ecoli70 observed nodes' posterior mean = observed value on {k} rows", observed_gap))
        missing_nodes = [node for node in net.nodes if node not in posterior]
        if missing_nodes:
            checks.append(f"ecoli70 batched posteriors: no entry for {missing_nodes}")
    return [score, means]


# ---------------------------------------------------------------------------- bnlearn networks: batched vs loops
#: bnlearn networks and the rows each gets: 1,000, fewer for the large ones (a loaded 2-core machine).
BNLEARN = {"asia": 1000, "cancer": 1000, "earthquake": 1000, "survey": 1000, "sachs": 1000, "child": 1000,
           "insurance": 1000, "alarm": 1000, "water": 1000, "mildew": 1000, "barley": 1000, "hailfinder": 1000,
           "hepar2": 1000, "win95pts": 1000, "pathfinder": 1000, "andes": 300, "diabetes": 200, "pigs": 200,
           "link": 50, "munin1": 50, "munin": 50}
BNLEARN_QUICK = {"asia": 200, "alarm": 200, "water": 50, "barley": 30, "mildew": 50}


def bnlearn_network(name: str):
    """A bnlearn network from pgmpy's example models (gzipped BIF), with rows renormalised."""
    import gzip

    import pgmpy

    path = Path(pgmpy.__file__).parent / "utils" / "example_models" / f"{name}.bif.gz"
    with gzip.open(path, "rt") as handle:
        return normalised(pgm.io.parse_bif(handle.read(), source=str(path)))


def pyagrum_tree_entries(bn) -> int:
    """Entries of pyAgrum's LazyPropagation junction tree: its cliques' table sizes, summed."""
    tree = gum.LazyPropagation(bn).junctionTree()
    return sum(math.prod(bn.variable(v).domainSize() for v in tree.clique(c)) for c in tree.nodes())


def cold_and_median(function, repeat: int, fresh):
    """(Timing, result): the first call on a new network object, then ``repeat - 1`` calls on it."""
    net = fresh()
    times, result = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = function(net)
        times.append(time.perf_counter() - start)
    warm = times[1:] or times
    return Timing(statistics.median(warm), times[0], len(times)), result


def bench_bnlearn(table: dict, repeat: int, loop_repeat: int) -> list[str]:
    """One line per network and missing fraction: batched vs the loop of single cases vs pyAgrum's loop."""
    lines = ["| network | rows | missing | strategy | pgm batched (cold) | pgm loop (cold) | pyAgrum loop "
             "| loop/batched | pyAgrum/batched | max diff | pgm JT entries | pyAgrum JT entries |",
             "|" + "---|" * 12]
    print("\n".join(lines), flush=True)
    for name, n in table.items():
        try:
            base = bnlearn_network(name)
        except Exception as error:  # noqa: BLE001
            lines.append(f"| {name} | failed to load: {type(error).__name__}: {error} |")
            continue
        text = pgm.io.format_bif(base)

        def fresh():  # a new network object: empty plan cache, so the first call is cold
            return pgm.io.parse_bif(text)

        order = base.topological_order()
        target = order[len(order) // 2]
        states = base.states(target)
        full = pgm.inference.engine.prepare(base, pgm.inference.evidence.as_evidence(base, None), targets=None,
                                            plan_only=True, effort_rows=n)
        entries = full.tree.total_table_entries
        bn = pyagrum_model(base) if gum is not None else None
        their_entries = pyagrum_tree_entries(bn) if bn is not None else MISSING
        complete = base.sample(n, seed=20)
        for fraction in (0.3, 0.7):
            data = hide_at_random(complete, fraction, seed=21).drop(columns=[target])
            rows = records(data)
            strategy = base.inference_plan(target, data).strategy
            batched, mine = cold_and_median(lambda net: net.query(target, evidence=data), repeat, fresh)

            def loop(net):
                return np.array([net.query(target, evidence=r).probabilities for r in rows])

            looped, single = cold_and_median(loop, loop_repeat, fresh)
            mine = mine.loc[:, list(states)].to_numpy(dtype=np.float64)
            gap = float(np.max(np.abs(mine - single)))
            agrum_cell, agrum_ratio = MISSING, NA
            if bn is not None:
                engine = gum.LazyPropagation(bn)
                engine.addTarget(target)
                labels = list(bn.variable(target).labels())

                def per_row():
                    out = np.empty((len(rows), len(states)))
                    for i, observed in enumerate(rows):
                        engine.setEvidence(observed)
                        engine.makeInference()
                        out[i] = pyagrum_vector(engine.posterior(target), labels, states)
                    return out

                theirs_time, theirs = measure(per_row, 1)
                gap = max(gap, float(np.max(np.abs(mine - theirs))))
                agrum_cell = format_seconds(theirs_time.median)
                agrum_ratio = format_ratio(theirs_time.median / batched.median)
            lines.append(
                f"| {name} | {n:,} | {fraction:.0%} | {strategy} | {format_seconds(batched.median)} "
                f"({format_seconds(batched.first)}) | {format_seconds(looped.median)} ({format_seconds(looped.first)}) "
                f"| {agrum_cell} | {format_ratio(looped.median / batched.median)} | {agrum_ratio} | {gap:.1e} "
                f"| {entries:,} | {their_entries if isinstance(their_entries, str) else f'{their_entries:,}'} |"
            )
            print(lines[-1], flush=True)
    return lines


# ---------------------------------------------------------------------------- junction-tree sizes
def bench_trees(names) -> None:
    """Total junction-tree entries (no evidence, every node) of pgm and pyAgrum, and pgm's planning time."""
    print("| network | nodes | pgm JT entries | pgm largest clique | heuristic | planning | pyAgrum JT entries "
          "| pyAgrum largest | pgm / pyAgrum |")
    print("|" + "---|" * 9)
    for name in names:
        net = bnlearn_network(name)
        start = time.perf_counter()
        # the tree a batch of many rows would use (every elimination heuristic tried)
        tree = pgm.inference.engine.prepare(net, pgm.inference.evidence.as_evidence(net, None), targets=None,
                                            plan_only=True, effort_rows=10**6).tree
        seconds = time.perf_counter() - start
        theirs, largest = MISSING, MISSING
        if gum is not None:
            bn = pyagrum_model(net)
            jt = gum.LazyPropagation(bn).junctionTree()
            sizes = [math.prod(bn.variable(v).domainSize() for v in jt.clique(c)) for c in jt.nodes()]
            theirs, largest = sum(sizes), max(sizes)
        ratio = f"{tree.total_table_entries / theirs:.2f}" if not isinstance(theirs, str) else NA
        print(f"| {name} | {len(net.nodes)} | {tree.total_table_entries:,} | {tree.largest_table_entries:,} "
              f"| {tree.heuristic} | {format_seconds(seconds)} | {theirs:,} | {largest:,} | {ratio} |", flush=True)


# ---------------------------------------------------------------------------- all posteriors, no evidence
def bench_all_posteriors(names=("munin1",)) -> None:
    """``net.posteriors({})`` (cold on a new network object, then warm) vs pgmpy's elimination, one query per node."""
    print("| network | pgm posteriors({}) cold | warm | trees | pgmpy VE, one query per node | pgmpy/pgm (warm) "
          "| max diff |")
    print("|" + "---|" * 7)
    for name in names:
        base = bnlearn_network(name)
        net = pgm.io.parse_bif(pgm.io.format_bif(base))
        start = time.perf_counter()
        net.posteriors({})
        cold = time.perf_counter() - start
        start = time.perf_counter()
        mine = net.posteriors({})
        warm = time.perf_counter() - start
        trees = net.inference_plan().trees
        theirs, ratio, gap = MISSING, NA, NA
        if pgmpy is not None:
            from pgmpy.inference import VariableElimination

            engine = VariableElimination(pgmpy_model(base))  # built untimed
            start = time.perf_counter()
            answers = {node: engine.query([node], show_progress=False) for node in base.nodes}
            seconds = time.perf_counter() - start
            theirs, ratio = format_seconds(seconds), format_ratio(seconds / warm)
            gap = max(float(np.max(np.abs(pgmpy_vector(answers[n], n, base.states(n))
                                          - np.asarray(mine[n].probabilities)))) for n in base.nodes)
            gap = f"{gap:.1e}"
        print(f"| {name} | {format_seconds(cold)} | {format_seconds(warm)} | {trees} | {theirs} | {ratio} | {gap} |",
              flush=True)


# ---------------------------------------------------------------------------- memory budgets on munin
def bench_memory(names=("munin", "munin1"), budgets=(25_000_000, 250_000_000, 2_500_000_000)) -> None:
    """Peak traced memory of all posteriors and of the MPE under each budget: answered or refused."""
    print("| network | call | budget | outcome | tracemalloc peak | peak / budget |")
    print("|---|---|---|---|---|---|")
    for name in names:
        base = bnlearn_network(name)
        # all posteriors go by relevant parts; the MPE needs one tree over every node
        calls = {"posteriors({})": lambda net, b: net.posteriors({}, memory_budget=b),
                 "mpe({})": lambda net, b: net.mpe({}, memory_budget=b)}
        for label, call in calls.items():
            for budget in budgets:
                net = pgm.io.parse_bif(pgm.io.format_bif(base))
                outcome = "answered"

                def run():
                    nonlocal outcome
                    try:
                        call(net, budget)
                    except pgm.errors.InferenceTooLarge:
                        outcome = "refused"

                start = time.perf_counter()
                peak = peak_memory(run)
                seconds = time.perf_counter() - start
                print(f"| {name} | {label} | {format_bytes(budget)} | {outcome} ({format_seconds(seconds)}) "
                      f"| {format_bytes(peak)} | {peak / budget:.3f} |", flush=True)


# ---------------------------------------------------------------------------- main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--bnlearn", action="store_true",
                        help="only the bnlearn table: batched rows vs the loop of single cases vs pyAgrum's loop, "
                             "30%% and 70%% missing, and junction-tree sizes (with --quick: five networks)")
    parser.add_argument("--networks", nargs="+", help="with --bnlearn: only these networks")
    parser.add_argument("--rows", nargs="+", metavar="NAME=N", help="with --bnlearn: rows for these networks")
    parser.add_argument("--trees", action="store_true",
                        help="only the junction-tree sizes of the bnlearn networks, pgm vs pyAgrum")
    parser.add_argument("--all-posteriors", action="store_true",
                        help="only munin1's all posteriors without evidence, pgm vs pgmpy's per-node elimination")
    parser.add_argument("--memory", action="store_true",
                        help="only the memory table: munin and munin1 under budgets of 25 MB, 250 MB and 2.5 GB")
    parser.add_argument("--repeat", type=int, default=5,
                        help="batched rows: pgm median of K (default 5), peers median of min(K, 3); "
                             "single-case rows: median of 3K calls (pgmpy: min(3K, 5))")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeat = max(1, args.repeat)
    peer_repeat = min(repeat, 3)

    started = time.perf_counter()
    if args.trees:
        bench_trees(args.networks or list(BNLEARN))
        print(f"\nwall time: {time.perf_counter() - started:.1f} s")
        return
    if args.all_posteriors:
        bench_all_posteriors(args.networks or ("munin1",))
        print(f"\nwall time: {time.perf_counter() - started:.1f} s")
        return
    if args.memory:
        bench_memory()
        print(f"\nwall time: {time.perf_counter() - started:.1f} s")
        return
    if args.bnlearn:
        table = dict(BNLEARN_QUICK if args.quick else BNLEARN)
        if args.networks:
            sizes_of = BNLEARN_QUICK if args.quick else BNLEARN
            table = {name: sizes_of.get(name, 1000) for name in args.networks}
        for item in args.rows or ():  # NAME=N: fewer rows for a network (a loaded machine)
            name, _, count = item.partition("=")
            table[name] = int(count)
        print(f"bnlearn table: batched pgm median of {min(repeat, 3)} warm calls after a cold one; loops: one cold "
              "pass and one warm pass (the warm one is reported; cold in brackets); pyAgrum: one pass\n")
        bench_bnlearn(table, min(repeat, 3) + 1, 2)
        print(f"\nwall time: {time.perf_counter() - started:.1f} s")
        return
    versions = {"pgm": pgm.__version__, "numpy": np.__version__, "pandas": pd.__version__, "scipy": scipy.__version__}
    versions["pyAgrum"] = gum.__version__ if gum else MISSING
    versions["pgmpy"] = pgmpy.__version__ if pgmpy else MISSING
    print(", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"{'quick' if args.quick else 'full'} run; batched rows: pgm median of {repeat}, peers median of "
          f"{peer_repeat}; single-case rows: median of {3 * repeat} calls (pgmpy {min(3 * repeat, 5)})\n")

    if not hasattr(pgm.BayesianNetwork, "posteriors"):
        print("pgm has no exact inference yet (BayesianNetwork.posteriors is missing); its cells will say failed\n")
    else:
        # load pgm's inference modules once, so that no row's first call pays for the imports
        tiny = pgm.load("cancer")
        tiny.posteriors({})

    rows, checks, targets = [], [], []
    for name in ("alarm", "insurance", "child"):
        rows.append(bench_posteriors(name, 3 * repeat, checks, targets))
    rows += bench_batched_alarm(sizes, repeat, peer_repeat, checks, targets)
    rows += bench_gaussian(sizes, repeat, checks, targets)

    print_table(rows)
    print("\n~ extrapolated: the peer answered a subset of the rows one at a time; its time per row x N.")
    print("(first …): the first call, when it was more than 1.5x the median.")
    print("— : no counterpart. pgmpy's LinearGaussianBayesianNetwork has no inference with evidence, and "
          "pyAgrum has no continuous variables.")
    print("\nChecks:")
    for line in checks:
        print(f"- {line}")
    print("\nTargets:")
    for line in targets:
        print(f"- {line}")
    print(f"\nwall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
