"""Millions of rows through Dask: sample alarm to partitioned Parquet, fit it back on a cluster.

Each partition is drawn on the worker that computes it (from its own seed,
spawned off the one given here) and written straight to its Parquet file, so
the rows are never all in one process.  Fitting reads the files back on a
2-worker LocalCluster: every partition becomes count tables where it lives
and only the tables travel.  The same files are then fitted on one machine
by the chunked reader, without Dask, as a check.

    python examples/dask_alarm.py [OUTPUT_DIR] [ROWS]

ROWS defaults to 400,000 (a few seconds); the full-size run of the issue is

    python examples/dask_alarm.py /tmp/alarm-10m 10_000_000

which writes about 0.1 GB of Parquet.  A real cluster is the same code with
``Client("tcp://scheduler-address:8786")`` instead of the LocalCluster.
"""

import atexit
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

try:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster
except ImportError:
    sys.exit("dask_alarm.py needs Dask: pip install 'pgm-engine[dask]'")

import pgm


def peak_memory_mib() -> float:
    """This process's peak resident memory, in MiB.

    From /proc's VmHWM where there is one: a worker's ru_maxrss would include the memory its parent had
    when it was started.
    """
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    if len(sys.argv) > 1:  # the folder the user asked for: the files stay there
        output = Path(sys.argv[1])
    else:  # none asked for: a temporary folder, removed when the script ends
        output = Path(tempfile.mkdtemp(prefix="pgm-dask-"))
        atexit.register(shutil.rmtree, output, ignore_errors=True)
    rows = int(sys.argv[2].replace("_", "")) if len(sys.argv) > 2 else 400_000
    npartitions = max(4, rows // 1_000_000)  # about a million rows per partition
    output.mkdir(parents=True, exist_ok=True)
    alarm = pgm.load("alarm")

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, Client(cluster) as client:
        print(f"cluster: {len(client.scheduler_info()['workers'])} workers; dashboard {client.dashboard_link}")

        # Draw and write: one task per partition, each sampling and writing its own file.  The files go to a
        # temporary directory renamed into place at the end, so a failed run leaves no half-written data set.
        target, temporary = output / "alarm.parquet", output / "alarm.parquet.partial"
        shutil.rmtree(temporary, ignore_errors=True)
        started = time.perf_counter()
        alarm.sample(rows, seed=2024, npartitions=npartitions).to_parquet(temporary, write_index=False)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(temporary, target)
        seconds = time.perf_counter() - started
        size = sum(f.stat().st_size for f in target.iterdir()) / 2**20
        print(f"sampled and wrote {rows:,} rows in {npartitions} Parquet files ({size:.1f} MiB) in {seconds:.2f} s: "
              f"{rows / seconds:,.0f} rows/s")

        # Fit from the files on the cluster: statistics per partition, a tree reduction, one M-step.
        started = time.perf_counter()
        fitted = alarm.fit(dd.read_parquet(target))
        seconds = time.perf_counter() - started
        print(f"fitted on the cluster in {seconds:.2f} s: {rows / seconds:,.0f} rows/s")
        workers = client.run(peak_memory_mib)
        print("peak memory per worker: " + ", ".join(f"{mib:.0f} MiB" for mib in workers.values()))

    # The same files on one machine, without Dask: the chunked reader, a million rows at a time.
    started = time.perf_counter()
    chunked = alarm.fit(pgm.io.scan(target, chunk_rows=1_000_000))
    seconds = time.perf_counter() - started
    print(f"fitted by the chunked reader in {seconds:.2f} s: {rows / seconds:,.0f} rows/s")
    print("fit on the cluster == fit by the chunked reader:", fitted == chunked)
    held_out = alarm.sample(50_000, seed=7)
    print(f"held-out log-likelihood: true network {alarm.score(held_out):.4f}, fitted {fitted.score(held_out):.4f} "
          "nats/row")


if __name__ == "__main__":  # the cluster's worker processes import this file; only the main process runs it
    main()
