"""Fitting from data that arrives in pieces: sufficient statistics add.

Reads a CSV in chunks, sums each chunk's statistics, and fits once; the result
equals fitting the whole table at once.  The same sum works across processes
or machines.

    python examples/chunked_fit.py [OUTPUT_DIR]

Without OUTPUT_DIR the files go to a temporary folder, removed when the script ends.
"""

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

import pgm

if len(sys.argv) > 1:  # the folder the user asked for: the files stay there
    output = Path(sys.argv[1])
else:  # none asked for: a temporary folder, removed when the script ends
    output = Path(tempfile.mkdtemp(prefix="pgm-chunks-"))
    atexit.register(shutil.rmtree, output, ignore_errors=True)
output.mkdir(parents=True, exist_ok=True)

alarm = pgm.load("alarm")
csv = output / "alarm-sample.csv"
alarm.sample(200_000, seed=42).to_csv(csv, index=False)

# Discrete columns are read as text so that state names stay strings.
columns = {node: str for node in alarm.nodes}
total = sum(alarm.statistics(chunk) for chunk in pd.read_csv(csv, dtype=columns, chunksize=50_000))
print(total)

prior = pgm.BDeu(equivalent_sample_size=10)
from_chunks = alarm.from_statistics(total, prior=prior)
at_once = alarm.fit(pd.read_csv(csv, dtype=columns), prior=prior)
print("fit from chunks == fit at once:", from_chunks == at_once)
held_out = alarm.sample(20_000, seed=7)
print(f"held-out log-likelihood: true network {alarm.score(held_out):.4f}, fitted {from_chunks.score(held_out):.4f} nats/row")
