"""Every benchmark area, one after the other: the tables in the README's Speed section.

    python benchmarks/run.py                 # all areas, full sizes
    python benchmarks/run.py --quick         # all areas, small sizes (a smoke run)
    python benchmarks/run.py --only model inference

Each area is also a script of its own with more options (``--help``):
model.py (sampling, scoring, fitting, d-separation, BIF, Gaussians), newcomer.py (import time, string data),
inference.py, approximate.py, hybrid.py, em.py, information.py, classifier.py, scale.py,
softmax.py, structure.py and sequences.py.  They share
harness.py (optional peers, timing, the markdown table).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the area modules import harness.py

AREAS = ("model", "inference", "approximate", "hybrid", "em", "information", "classifier", "scale", "newcomer",
         "softmax", "structure", "sequences")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes in every area: a smoke run")
    parser.add_argument("--only", nargs="+", choices=AREAS, help="run these areas only")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for area in args.only or AREAS:
        module = importlib.import_module(area)
        print(f"\n## {area}: {module.__doc__.splitlines()[0]}\n", flush=True)
        module.main(["--quick"] if args.quick else [])
    print(f"\nall areas: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
