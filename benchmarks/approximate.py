"""Approximate inference: loopy BP, IJGP and Gibbs sampling against exact answers, beside pyAgrum's, in one run.

    python benchmarks/approximate.py            # alarm, hailfinder, pathfinder, munin1, munin
    python benchmarks/approximate.py --quick    # alarm and hailfinder, fewer draws
    python benchmarks/approximate.py --only networks munin   # parts: networks, batched, munin

For each bnlearn network (read from the installed pgmpy package's
example_models folder, tables normalised to sum to 1 in float64, pyAgrum
given pgm's exact tables) and one case of evidence (four observed leaves of
a sampled row), every node's posterior is computed by

- pgm ``posteriors(ev, method="loopy_bp")`` (tol 1e-8 on the largest change
  of a message, max_iter 200, no damping) and pyAgrum
  ``LoopyBeliefPropagation`` (max 200 iterations, its epsilon 1e-8);
- pgm ``posteriors(ev, method="ijgp")`` (iterative join-graph propagation at
  its defaults: 65,536 entries per cluster, parts whose bucket tree holds at
  most 2**24 entries solved exactly; tol 1e-8, max_iter 100),
  beside the same pyAgrum LBP figures (pyAgrum has no generalised BP);
- pgm ``posteriors(ev, method="gibbs", n_samples=N)`` (its defaults: 32
  chains, burn-in 500 sweeps, blocks of nodes drawn jointly with buckets of
  at most 4,096 entries, barren nodes drawn from their CPDs; a draw is a
  sweep over every block) and pyAgrum
  ``GibbsSampling`` run for N samples after its default burn-in (300), its
  stopping tests switched off (its default epsilon stops it right after
  the burn-in; one of its samples redraws 2 random variables) and a time
  limit of 120 s;

- pgm ``posteriors(ev, method="importance", n_samples=N)`` (proposal from
  loopy BP's messages, 10% from the CPDs alone) and pyAgrum
  ``ImportanceSampling`` for N samples, its stopping tests switched off as
  for Gibbs;

and compared with the exact posteriors: pgm's junction tree where its plan
fits the default budget, else (munin1) pgm's ``query(node)`` for every node,
each pruned to the node's relevant part.  The timed region of every row is
one call that returns all posteriors: engine construction, setting the
evidence, inference and reading every posterior (pyAgrum: a fresh engine
per call, as pgm compiles per call).  pgm's first (cold) call is shown
beside the median.  Errors are the largest absolute difference of any
state's probability over all nodes.  Gibbs and importance-sampling rows also give the share of
states within 4 reported standard errors of exact, and the largest split
R-hat (Gibbs) or the effective sample size (importance sampling).

The machine is shared with other jobs: read ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import numpy as np
import pandas as pd

import pgm
from harness import MISSING, format_seconds, gum, pgmpy, timed_calls
from inference import normalised, pyagrum_model

NETWORKS = ("alarm", "hailfinder", "pathfinder", "munin1")


def bnlearn(name: str):
    """A bnlearn network from pgmpy's example_models, with normalised float64 tables."""
    folder = Path(pgmpy.__file__).parent / "utils" / "example_models"
    with gzip.open(folder / f"{name}.bif.gz", "rt") as handle:
        net = pgm.io.parse_bif(handle.read(), source=f"{name}.bif.gz")
    return normalised(net)


def leaf_evidence(net, count: int = 4, seed: int = 0) -> dict:
    """The first ``count`` childless nodes, observed at their values in one sampled row (so p(e) > 0)."""
    parents = {p for node in net.nodes for p in net[node].parents}
    leaves = [n for n in net.nodes if n not in parents][:count]
    row = net.sample(1, seed=seed).iloc[0]
    return {n: str(row[n]) for n in leaves}


def exact_posteriors(net, evidence) -> tuple[dict, float, str]:
    """{node: probabilities} for the unobserved nodes, its time, and how it was computed."""
    start = time.perf_counter()
    try:
        out = {n: d.probabilities for n, d in net.posteriors(evidence).items()}
        how = "junction tree"
    except pgm.errors.InferenceTooLarge:
        out = {n: net.query(n, evidence).probabilities for n in net.nodes if n not in evidence}
        how = "query(node) per node"
    return out, time.perf_counter() - start, how


def largest_error(estimates: dict, exact: dict) -> float:
    return max(float(np.abs(np.asarray(estimates[n]) - exact[n]).max()) for n in exact)


def pyagrum_posteriors(engine_class, bn, net, evidence, configure) -> dict:
    engine = engine_class(bn)
    configure(engine)
    engine.setEvidence(evidence)
    engine.makeInference()
    out = {}
    for node in net.nodes:
        if node in evidence:
            continue
        values = engine.posterior(node).toarray()
        labels = list(bn.variable(node).labels())
        out[node] = np.array([values[labels.index(s)] for s in net.states(node)])
    out["_iterations"] = engine.nbrIterations()
    return out


def _lbp_settings(engine):
    engine.setMaxIter(200)
    engine.setEpsilon(1e-8)


def _gibbs_settings(n_samples: int):
    """pyAgrum's sampler run for ``n_samples`` samples after its burn-in: its stopping tests switched off."""

    def configure(engine):
        engine.setMaxIter(n_samples)
        engine.setEpsilon(1e-300)
        engine.setMinEpsilonRate(1e-300)
        engine.setMaxTime(120)  # seconds: it then stops short of n_samples (its report says how many)

    return configure


def cell(median: float, times: list) -> str:
    text = format_seconds(median)
    if len(times) > 1 and times[0] > 1.5 * median:
        text += f" (first {format_seconds(times[0])})"
    return text


def bench_network(name: str, repeat: int, n_samples: int, lines: list) -> list[list[str]]:
    net = bnlearn(name)
    evidence = leaf_evidence(net)
    exact, exact_time, how = exact_posteriors(net, evidence)
    lines.append(f"{name}: {len(net.nodes)} nodes; evidence {evidence}; exact by {how} in "
                 f"{format_seconds(exact_time)}")
    bn = pyagrum_model(net) if gum else None
    rows = []

    # loopy belief propagation
    median, times, result = timed_calls(lambda: net.posteriors(evidence, method="loopy_bp"), repeat)
    report = next(iter(result.values())).report
    ours = largest_error({n: d.probabilities for n, d in result.items()}, exact)
    peer_time = peer_error = peer_note = MISSING
    if bn is not None:
        peer_median, _, peer = timed_calls(
            lambda: pyagrum_posteriors(gum.LoopyBeliefPropagation, bn, net, evidence, _lbp_settings), repeat)
        peer_time, peer_error = peer_median, largest_error(peer, exact)
        peer_note = f"{peer['_iterations']} iterations"
    rows.append(_row(name, "loopy BP", median, times, ours,
                     f"{report.iterations} sweeps, {'converged' if report.converged else 'NOT converged'}",
                     peer_time, peer_error, peer_note))

    # iterative join-graph propagation (pyAgrum has none: its loopy BP is the peer)
    rows.append(_ijgp_row(name, net, evidence, exact, repeat, peer_time, peer_error, peer_note)[0])

    rows.append(_gibbs_row(name, "Gibbs", net, evidence, exact, bn, n_samples))

    # importance sampling (pgm: loopy-BP proposal; pyAgrum: its ImportanceSampling), as many samples
    median, times, result = timed_calls(lambda: net.posteriors(evidence, method="importance", n_samples=n_samples,
                                                               seed=0), 1)
    report = next(iter(result.values())).report
    ours = largest_error({n: d.probabilities for n, d in result.items()}, exact)
    within = np.concatenate([np.abs(d.probabilities - exact[n]) <= 4 * d.standard_errors for n, d in result.items()])
    note = f"{report.n_samples:,} particles; {within.mean():.1%} of states within 4 SE; ESS {report.ess.min():,.0f}"
    peer_time = peer_error = peer_note = MISSING
    if bn is not None:
        peer_median, _, peer = timed_calls(
            lambda: pyagrum_posteriors(gum.ImportanceSampling, bn, net, evidence, _gibbs_settings(n_samples)), 1)
        peer_time, peer_error = peer_median, largest_error(peer, exact)
        peer_note = f"{peer['_iterations']:,} samples (ImportanceSampling, after its burn-in)"
    rows.append(_row(name, "importance sampling", median, times, ours, note, peer_time, peer_error, peer_note))
    return rows


def _gibbs_row(name, method, net, evidence, exact, bn, n_samples) -> list[str]:
    """pgm's Gibbs sampling (its defaults) and pyAgrum's GibbsSampling, as many draws, against exact."""
    median, times, result = timed_calls(lambda: net.posteriors(evidence, method="gibbs", n_samples=n_samples,
                                                               seed=0), 1)
    report = next(iter(result.values())).report
    ours = largest_error({n: d.probabilities for n, d in result.items()}, exact)
    within = np.concatenate([np.abs(d.probabilities - exact[n]) <= 4 * d.standard_errors for n, d in result.items()])
    note = (f"{report.n_chains}×{report.n_draws:,} draws, {report.n_blocks} block(s) per sweep, burn-in "
            f"{report.burn_in}; {within.mean():.1%} of states within 4 SE; max R-hat {report.r_hat.max():.4g}")
    peer_time = peer_error = peer_note = MISSING
    if bn is not None:
        peer_median, _, peer = timed_calls(
            lambda: pyagrum_posteriors(gum.GibbsSampling, bn, net, evidence, _gibbs_settings(n_samples)), 1)
        peer_time, peer_error = peer_median, largest_error(peer, exact)
        peer_note = f"{peer['_iterations']:,} samples (after its burn-in of 300, as many as pgm draws)"
    return _row(name, method, median, times, ours, note, peer_time, peer_error, peer_note)


def bench_gibbs_deep(n_samples: int, lines: list) -> list[list[str]]:
    """Gibbs with 12 nodes observed anywhere (not only leaves): the blocks then cut CPDs apart and the
    sampler is a Markov chain, not a sequence of exact draws."""
    rows = []
    for name in NETWORKS:
        net = bnlearn(name)
        row = net.sample(1, seed=3).iloc[0]
        chosen = np.random.default_rng(3).choice(len(net.nodes), size=12, replace=False)
        evidence = {net.nodes[i]: str(row[net.nodes[i]]) for i in sorted(chosen)}
        exact, exact_time, how = exact_posteriors(net, evidence)
        lines.append(f"{name}, 12 nodes observed: {sorted(evidence)}; exact by {how} in {format_seconds(exact_time)}")
        rows.append(_gibbs_row(f"{name} (12 observed)", "Gibbs", net, evidence, exact,
                               pyagrum_model(net) if gum else None, n_samples))
    return rows


def _ijgp_row(name, net, evidence, exact, repeat, peer_time, peer_error, peer_note) -> tuple[list[str], float]:
    """The IJGP row of the table, and its median seconds."""
    median, times, result = timed_calls(lambda: net.posteriors(evidence, method="ijgp"), repeat)
    report = next(iter(result.values())).report
    ours = largest_error({n: d.probabilities for n, d in result.items()}, exact)
    note = (f"{report.iterations} iterations, {'converged' if report.converged else 'NOT converged'}; "
            f"{'every part exact' if report.exact else 'some parts approximate'} "
            f"(cap {report.cluster_entries:,} entries, largest part {report.table_entries:,})")
    return _row(name, "IJGP (vs pyAgrum's LBP)", median, times, ours, note, peer_time, peer_error, peer_note), median


def _row(name, method, median, times, error, note, peer_time, peer_error, peer_note) -> list[str]:
    ratio = f"{peer_time / median:.2f}×" if isinstance(peer_time, float) else "—"
    peer_time = format_seconds(peer_time) if isinstance(peer_time, float) else peer_time
    peer_error = f"{peer_error:.2e}" if isinstance(peer_error, float) else peer_error
    return [name, method, cell(median, times), f"{error:.2e}", note, peer_time, peer_error, peer_note, ratio]


def bench_munin(repeat: int, lines: list) -> list[list[str]]:
    """munin (1,041 nodes): every posterior by loopy BP, without and with evidence; target < 5 s."""
    net = bnlearn("munin")
    bn = pyagrum_model(net) if gum else None
    rows = []
    for label, evidence in (("no evidence", {}), ("4 leaves observed", leaf_evidence(net))):
        exact, exact_time, how = exact_posteriors(net, evidence)
        median, times, result = timed_calls(lambda: net.posteriors(evidence, method="loopy_bp"), repeat)
        report = next(iter(result.values())).report
        error = largest_error({n: d.probabilities for n, d in result.items()}, exact)
        verdict = "met" if median < 5 else "MISSED"
        lines.append(f"munin, {label}: exact by {how} in {format_seconds(exact_time)}; loopy BP "
                     f"{format_seconds(median)} (target < 5 s: {verdict}); {report}")
        peer_time = peer_error = peer_note = MISSING
        if bn is not None:
            peer_median, _, peer = timed_calls(
                lambda: pyagrum_posteriors(gum.LoopyBeliefPropagation, bn, net, evidence, _lbp_settings), repeat)
            peer_time, peer_error = peer_median, largest_error(peer, exact)
            peer_note = f"{peer['_iterations']} iterations"
        rows.append(_row(f"munin ({label})", "loopy BP", median, times, error,
                         f"{report.iterations} sweeps, {'converged' if report.converged else 'NOT converged'}",
                         peer_time, peer_error, peer_note))
        row, seconds = _ijgp_row(f"munin ({label})", net, evidence, exact, repeat, peer_time, peer_error, peer_note)
        verdict = "met" if seconds < 5 else "MISSED"
        lines.append(f"munin, {label}: IJGP {row[2]} (target < 5 s: {verdict}); {row[4]}")
        rows.append(row)
    return rows


def bench_batched(repeat: int, n_rows: int, lines: list) -> list[list[str]]:
    """alarm, many rows with 70% missing: batched loopy BP against pyAgrum's LBP row by row."""
    net = bnlearn("alarm")
    data = net.sample(n_rows, seed=1)
    data = data.mask(np.random.default_rng(1).random(data.shape) < 0.7)
    exact = net.posteriors(data)
    median, times, result = timed_calls(lambda: net.posteriors(data, method="loopy_bp"), repeat)
    report = next(iter(result.values())).attrs["report"]
    error = max(float(np.abs(result[n].to_numpy() - exact[n].to_numpy()).max()) for n in net.nodes)
    peer_time = peer_error = peer_note = MISSING
    if gum is not None:
        bn = pyagrum_model(net)
        subset = min(n_rows, 100)
        records = [{c: str(v) for c, v in row.items() if isinstance(v, str)} for row in
                   data.iloc[:subset].astype(object).to_dict("records")]
        start = time.perf_counter()
        answers = [pyagrum_posteriors(gum.LoopyBeliefPropagation, bn, net, ev, _lbp_settings) for ev in records]
        peer_time = (time.perf_counter() - start) * n_rows / subset
        peer_error = max(float(np.abs(answers[r][n] - exact[n].to_numpy()[r]).max())
                         for r, ev in enumerate(records) for n in net.nodes if n not in ev)
        peer_note = f"~ row by row over {subset} rows, ×{n_rows // subset}"
    lines.append(f"alarm batched: {n_rows:,} rows, 70% of cells missing; {report}")
    i_median, i_times, i_result = timed_calls(lambda: net.posteriors(data, method="ijgp"), repeat)
    i_report = next(iter(i_result.values())).attrs["report"]
    i_error = max(float(np.abs(i_result[n].to_numpy() - exact[n].to_numpy()).max()) for n in net.nodes)
    lines.append(f"alarm batched by IJGP: {i_report}")
    ijgp_row = _row(f"alarm, {n_rows:,} rows", "IJGP (batched)", i_median, i_times, i_error,
                    f"{i_report.iterations} iterations, {int(i_report.row_converged.sum()):,} rows converged",
                    peer_time, peer_error, peer_note)
    return [ijgp_row, _row(f"alarm, {n_rows:,} rows", "loopy BP (batched)", median, times, error,
                 f"{report.iterations} sweeps, {int(report.row_converged.sum()):,} rows converged",
                 peer_time, peer_error, peer_note)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="alarm and hailfinder, fewer Gibbs draws")
    parser.add_argument("--repeat", type=int, default=3, help="loopy BP: median of K calls (default 3)")
    parser.add_argument("--only", nargs="+", choices=("networks", "batched", "munin", "deep"),
                        help="some parts: the four networks (loopy BP and Gibbs), batched alarm, munin; "
                             "deep: Gibbs with 12 nodes observed anywhere (not run by default)")
    args = parser.parse_args(argv)
    if pgmpy is None:
        print("pgmpy is not installed: the bnlearn networks are read from its example_models folder")
        return
    started = time.perf_counter()
    print(f"pgm {pgm.__version__}, numpy {np.__version__}, pandas {pd.__version__}, pyAgrum "
          f"{gum.__version__ if gum else MISSING}")
    pgm.load("cancer").posteriors({}, method="loopy_bp")  # imports outside the timed regions
    header = ["network", "method", "pgm", "pgm max error", "pgm report", "pyAgrum", "pyAgrum max error",
              "pyAgrum report", "pyAgrum/pgm"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|", flush=True)
    lines: list = []

    def show(rows):
        for row in rows:
            print("| " + " | ".join(row) + " |", flush=True)

    parts = args.only or ("networks", "batched", "munin")
    if "networks" in parts:
        for name in NETWORKS[:2] if args.quick else NETWORKS:
            show(bench_network(name, args.repeat, 20_000 if args.quick else 100_000, lines))
    if "batched" in parts:
        show(bench_batched(args.repeat, 200 if args.quick else 1_000, lines))
    if "munin" in parts and not args.quick:
        show(bench_munin(args.repeat, lines))
    if "deep" in parts:
        show(bench_gibbs_deep(20_000 if args.quick else 100_000, lines))
    print("\nNotes:")
    for line in lines:
        print(f"- {line}")
    print(f"\nwall time: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
