"""Data beyond memory: alarm fitted from Parquet by Dask and by the chunked reader, against one process in memory.

Rows of the table:

- **fit, in memory (one process)**: ``alarm.fit(frame)`` on a pandas DataFrame already in memory: the
  throughput to compare with.
- **fit from Parquet, chunked reader (one process, no Dask)**: ``alarm.fit(pgm.io.scan(folder))``.
- **fit from Parquet, Dask LocalCluster**: ``alarm.fit(dd.read_parquet(folder))`` with 2 worker processes of
  one thread each; as Dask configures its workers, and with the workers' ``MALLOC_MMAP_THRESHOLD_`` raised
  (see below); and with 2 worker threads in this process (``processes=False``).
- **EM, LVFAILURE hidden, 10 iterations**: the same start, in memory and on the LocalCluster (from the Parquet
  files, read again at every iteration; partitions of 250,000 rows, workers as in the "raised" row).

Every timed run is in a fresh process (or a fresh cluster) whose peak resident memory is reported: for the
cluster, each worker's.  Sizes are scaled down from the issue's (10^8 rows to fit, 10^7 for EM) so that the
default run takes a few minutes on 2 cores; pass the issue's sizes to run them.

    python benchmarks/scale.py                       # 20M rows to fit, 1M for EM: about 5 minutes
    python benchmarks/scale.py --quick               # 2M and 200k: about a minute
    python benchmarks/scale.py --fit-rows 100_000_000 --em-rows 10_000_000

Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes glibc's mmap threshold at
128 KiB: every array of more than 16k float64 values is then a fresh mmap, and its pages fault in again each
time.  pgm's per-chunk arrays are of that size, so the "tuned" rows give the workers
``MALLOC_MMAP_THRESHOLD_=64 MiB`` (and a 256 MiB trim threshold); docs/scale.md says how.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import multiprocessing
import resource
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

ROWS_PER_PARTITION = 1_000_000  # for fitting: the decoding of Parquet and the counting stream through it
EM_ROWS_PER_PARTITION = 250_000  # EM's junction-tree buffers grow with the partition; smaller ones are reused
TUNED = {"distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_": 64 << 20,
         "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 256 << 20}


def peak_mib() -> float:
    """This process's peak resident memory, in MiB.

    VmHWM, not getrusage: Linux's ru_maxrss of a process started by fork and exec counts the parent's
    memory at the fork, which would charge every worker with the size of this benchmark's process.
    """
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def quiet():
    warnings.simplefilter("ignore")


def in_child(function, *args):
    """``function(*args)`` in a fresh process: its result and that process's peak memory."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context, initializer=quiet) as pool:
        return pool.submit(_measured, function, *args).result()


def _measured(function, *args):
    result = function(*args)
    return result, peak_mib()


def latent_alarm():
    import pgm

    alarm = pgm.load("alarm")
    cpd = alarm["LVFAILURE"]
    return alarm.with_cpd("LVFAILURE", pgm.Categorical.latent(cpd.states, parents=cpd.parents))


# ---------------------------------------------------------------------------- the timed work (in children)
def fit_in_memory(rows: int, repeat: int):
    import pgm

    alarm = pgm.load("alarm")
    frame = alarm.sample(rows, seed=1)
    alarm.fit(frame)  # warm
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        alarm.fit(frame)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fit_chunked(folder: str):
    import pgm

    alarm = pgm.load("alarm")
    alarm.fit(pgm.io.scan(min(Path(folder).iterdir())))  # warm: imports pyarrow
    started = time.perf_counter()
    fitted = alarm.fit(pgm.io.scan(folder))
    return time.perf_counter() - started, fitted


def em_in_memory(folder: str, start):
    import pandas as pd

    model = latent_alarm()
    frame = pd.read_parquet(folder)
    started = time.perf_counter()
    fitted = model.fit(frame, init=start, max_iter=10, tol=0)
    return time.perf_counter() - started, fitted


# ---------------------------------------------------------------------------- the cluster runs
def on_cluster(work, *, processes=True, config=None):
    """``work()`` on a fresh 2-worker LocalCluster; its result, and each worker's peak memory (MiB)."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(config or {}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=":0",
                          silence_logs=50) as cluster, Client(cluster) as client:
            client.run(quiet)
            result = work()
            memory = list(client.run(peak_mib).values()) if processes else None  # shared with the client
    return result, memory


def write_parquet(rows: int, folder: Path, seed: int, drop=(), per_partition=ROWS_PER_PARTITION):
    import pgm

    alarm = pgm.load("alarm")
    npartitions = max(2, rows // per_partition)
    frame = alarm.sample(rows, seed=seed, npartitions=npartitions)
    if drop:
        frame = frame.drop(columns=list(drop))
    frame.to_parquet(folder, write_index=False)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit-rows", type=lambda t: int(t.replace("_", "")), default=20_000_000)
    parser.add_argument("--em-rows", type=lambda t: int(t.replace("_", "")), default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="2M rows to fit, 200k for EM")
    parser.add_argument("--folder", help="where to write the Parquet files (default: a temporary folder)")
    parser.add_argument("--only", choices=["fit", "em"], help="run one half")
    args = parser.parse_args(argv)
    if args.quick:
        args.fit_rows, args.em_rows = 2_000_000, 200_000
    quiet()
    import pgm

    alarm = pgm.load("alarm")
    root = Path(args.folder or tempfile.mkdtemp(prefix="pgm-dask-bench-"))
    fit_folder, em_folder = root / "fit.parquet", root / "em.parquet"
    rows_table = []

    def row(task, n, seconds, memory, note=""):
        rate = n / seconds
        rows_table.append((task, n, seconds, rate, memory, note))
        print(f"  {task}: {seconds:.2f} s, {rate:,.0f} rows/s, peak memory {memory} {note}", flush=True)

    print(f"writing {args.fit_rows:,} + {args.em_rows:,} alarm rows to {root} (Dask, 2 workers) ...", flush=True)
    started = time.perf_counter()
    for folder, n, seed, drop, per_partition, half in (
            (fit_folder, args.fit_rows, 1, (), ROWS_PER_PARTITION, "fit"),
            (em_folder, args.em_rows, 2, ("LVFAILURE",), EM_ROWS_PER_PARTITION, "em")):
        if args.only in (None, half):
            shutil.rmtree(folder, ignore_errors=True)
            on_cluster(functools.partial(write_parquet, n, folder, seed, drop, per_partition), config=TUNED)
    print(f"  written in {time.perf_counter() - started:.1f} s", flush=True)
    if args.only != "em":
        run_fit(args, alarm, fit_folder, row)
    if args.only != "fit":
        run_em(args, em_folder, row)

    print()
    print("| task | rows | time | rows/s | peak memory | |")
    print("|---|---|---|---|---|---|")
    for task, n, seconds, rate, memory, note in rows_table:
        print(f"| {task} | {n:,} | {seconds:.2f} s | {rate:,.0f} | {memory} | {note} |")
    if not args.folder:
        shutil.rmtree(root, ignore_errors=True)


def run_fit(args, alarm, fit_folder, row) -> None:
    import dask.dataframe as dd

    size = sum(f.stat().st_size for f in fit_folder.iterdir()) / 2**20
    print(f"fit ({size:.0f} MiB of Parquet)", flush=True)
    memory_rows = min(args.fit_rows, 10_000_000)
    seconds, peak = in_child(fit_in_memory, memory_rows, 3)
    row("fit, in memory (one process, 2 threads)", memory_rows, seconds, f"{peak:.0f} MiB")
    reference_rate = memory_rows / seconds
    (seconds, chunked), peak = in_child(fit_chunked, str(fit_folder))
    row("fit from Parquet, chunked reader (one process, no Dask)", args.fit_rows, seconds, f"{peak:.0f} MiB")

    def timed_fit():
        alarm.fit(dd.read_parquet(fit_folder).partitions[:2])  # warm: the workers import pgm
        started = time.perf_counter()
        fitted = alarm.fit(dd.read_parquet(fit_folder))
        return time.perf_counter() - started, fitted

    for label, options in (("as Dask configures them", {}), ("MALLOC_MMAP_THRESHOLD_ raised", {"config": TUNED}),
                           ("2 threads in one process", {"processes": False})):
        (seconds, fitted), memory = on_cluster(timed_fit, **options)
        assert fitted == chunked, "the cluster and the chunked reader disagree"
        row(f"fit from Parquet, Dask LocalCluster, 2 workers ({label})", args.fit_rows, seconds,
            " / ".join(f"{m:.0f}" for m in memory) + " MiB" if memory else "(this process)",
            f"({args.fit_rows / seconds / reference_rate:.2f}x in memory)")


def run_em(args, em_folder, row) -> None:
    import dask.dataframe as dd
    import pandas as pd

    import pgm

    print("EM, LVFAILURE hidden, 10 iterations", flush=True)
    model = latent_alarm()
    # a common start without zeros: a random completion of the first file, one M-step with a prior
    start = model.fit(pd.read_parquet(min(em_folder.iterdir())), max_iter=0, seed=0, prior=pgm.Dirichlet(1))
    (seconds_memory, in_memory), peak = in_child(em_in_memory, str(em_folder), start)
    row("EM in memory (one process)", args.em_rows, seconds_memory, f"{peak:.0f} MiB")

    def timed_em():
        frame = dd.read_parquet(em_folder)
        model.fit(frame.partitions[:1], init=start, max_iter=1, tol=0)  # warm
        started = time.perf_counter()
        fitted = model.fit(frame, init=start, max_iter=10, tol=0)
        return time.perf_counter() - started, fitted

    (seconds, fitted), memory = on_cluster(timed_em, config=TUNED)
    difference = max(float(abs(fitted[n].table - in_memory[n].table).max()) for n in model.nodes)
    row("EM on the Dask LocalCluster (2 workers, from Parquet)", args.em_rows, seconds,
        " / ".join(f"{m:.0f}" for m in memory) + " MiB",
        f"(cluster / in memory = {seconds / seconds_memory:.2f}; tables agree to {difference:.1e})")


if __name__ == "__main__":  # worker processes import this file; only the main process runs the benchmark
    main()
