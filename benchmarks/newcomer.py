"""A newcomer's first hour (issue 17, and issue 16 item 8): `import pgm` time, string DataFrames at the data
boundary, and BIF files the peers read.

    python benchmarks/newcomer.py [--quick]

Timed regions:

- *import*: a fresh `python -c "import X"` process, from its start to the end of the import (the time is
  measured inside the process, so interpreter start-up is excluded); the first process is the cold run.
- *to_dataset*: `pgm.data.to_dataset(frame, alarm.domains)` on alarm rows, every column converted to codes;
  the same rows as Python strings (object columns), as categoricals, and through the per-cell lookup this
  release replaced (reproduced here as `per_cell_codes`, the previous algorithm, for the ratio).
- *batched query*: `alarm.query("HYPOVOLEMIA", evidence=rows)` with 30% of cells missing, conversion included.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import format_seconds, gum, pgmpy, timed_calls  # noqa: E402

import pgm  # noqa: E402
from pgm.data import to_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def import_seconds(module: str, runs: int) -> list[float]:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={"PYTHONPATH": str(ROOT), "PATH": ""})
        if out.returncode != 0:
            return []
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def per_cell_codes(frame: pd.DataFrame, domains: dict) -> dict:
    """The previous conversion of a string column: every cell looked up among the states."""
    out = {}
    for name, states in domains.items():
        out[name] = pd.Index(list(states), dtype=object).get_indexer(frame[name].to_numpy())
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 7
    n = 10_000 if args.quick else 100_000

    print("| import | cold | median |")
    print("|---|---|---|")
    for module in ("pgm", "pandas", "scipy.stats", "networkx", "pgmpy", "pyagrum"):
        times = import_seconds(module, runs)
        if times:
            print(f"| `import {module}` | {format_seconds(times[0])} | {format_seconds(statistics.median(times))} |")
    print()

    alarm = pgm.load("alarm")
    rows = alarm.sample(n, seed=1)
    strings = rows.astype(object)
    cells = strings.size
    new_median, new_times, converted = timed_calls(lambda: to_dataset(strings, alarm.domains), runs)
    old_median, old_times, legacy = timed_calls(lambda: per_cell_codes(strings, alarm.domains), runs)
    cat_median, _, categorical = timed_calls(lambda: to_dataset(rows, alarm.domains), runs)
    same = all(np.array_equal(converted[v], legacy[v]) and np.array_equal(converted[v], categorical[v])
               for v in alarm.nodes)
    print(f"| alarm, {n:,} rows x {len(alarm)} columns: to codes | median | cold | ns per cell |")
    print("|---|---|---|---|")
    for label, median, first in (("strings, distinct values matched once (now)", new_median, new_times[0]),
                                 ("strings, every cell looked up (before)", old_median, old_times[0]),
                                 ("categoricals", cat_median, None)):
        print(f"| {label} | {format_seconds(median)} | {format_seconds(first) if first else '—'} "
              f"| {median / cells * 1e9:.0f} |")
    print(f"\nbefore/now: {old_median / new_median:.2f}x; codes identical in all three: {same}")

    hide = np.random.default_rng(0).random(strings.shape) < 0.3
    cases_text, cases_cat = strings.mask(hide), rows.mask(hide)
    text_median, text_times, by_text = timed_calls(lambda: alarm.query("HYPOVOLEMIA", evidence=cases_text), runs)
    cat_query, _, by_cat = timed_calls(lambda: alarm.query("HYPOVOLEMIA", evidence=cases_cat), runs)
    print(f"batched query, {n:,} rows, 30% missing: strings {format_seconds(text_median)} "
          f"(first {format_seconds(text_times[0])}), categoricals {format_seconds(cat_query)}; "
          f"same posteriors: {np.array_equal(by_text.to_numpy(), by_cat.to_numpy())}")

    # A BIF written with the default name ("network"), read back by the peers.
    network = pgm.BayesianNetwork(dict(alarm.cpds))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "unnamed.bif"
        network.write(path)
        first = path.read_text().splitlines()[0]
        if gum is not None:
            bn = gum.loadBN(str(path))
            worst = max(float(np.abs(bn.cpt(v).toarray().reshape(-1) - _peer_order(network, v, bn)).max())
                        for v in network.nodes)
            print(f"BIF `{first}` read by pyAgrum {gum.__version__}: {bn.size()} nodes, largest table difference "
                  f"{worst:.1e}")
        if pgmpy is not None:
            from pgmpy.readwrite import BIFReader

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = BIFReader(str(path)).get_model()
            print(f"BIF read by pgmpy {pgmpy.__version__}: {len(model.nodes())} nodes")


def _peer_order(network, node, bn) -> np.ndarray:
    """pgm's table of ``node`` in the axis order of pyAgrum's CPT (its variables, first varying fastest)."""
    cpd = network[node]
    names = [bn.cpt(node).variable(i).name() for i in range(bn.cpt(node).nbrDim())]
    axes = list(cpd.parents) + [node]
    return np.transpose(cpd.table, [axes.index(v) for v in reversed(names)]).reshape(-1)


if __name__ == "__main__":
    main()
