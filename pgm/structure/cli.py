"""``pgm learn``: structure learning from the command line (registered by :func:`pgm.cli.build_parser`).

Kept here, with the rest of structure learning, so that the command's
parser block in :mod:`pgm.cli` is one call.  The learned graph is fitted to
the same data (:meth:`pgm.BayesianNetwork.from_data`) and written as a
network file; a summary goes to standard output (``--json`` for scripts).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

__all__ = ["EXAMPLES", "add_learn_command"]

EXAMPLES = [
    "pgm learn rows.csv -o net.json --method hc --score bic",
    "pgm learn rows.csv -o net.json --method tabu --max-parents 3 --forbid 'HISTORY->LVFAILURE' --restarts 5 --seed 0",
    "pgm learn rows.csv -o net.json --method pc --alpha 0.01",
    "pgm learn rows.csv -o tree.bif --method chow-liu",
    "pgm learn - --method tabu -q < rows.csv > learned.json",
    "pgm learn rows.csv -o net.json --bootstrap 100 --threshold 0.5 --json",
    "pgm learn rows.csv -o net.json --chunk-rows 100000",
]


def _edge(text: str) -> tuple[str, str]:
    parts = text.split("->")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise argparse.ArgumentTypeError(f"an edge is written PARENT->CHILD, got {text!r}")
    return parts[0].strip(), parts[1].strip()


def add_learn_command(commands, examples=EXAMPLES):
    """Add the ``learn`` subcommand to an argparse subparsers object."""
    from pgm.structure.bootstrap import METHODS
    from pgm.structure.independence import TESTS
    from pgm.structure.scores import SCORES

    help_text = "learn a network's structure from data (CSV or Parquet), fit it, and write it"
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    sub = commands.add_parser("learn", help=help_text, description=help_text, epilog=epilog,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_argument("data", help="CSV or Parquet file, one column per variable, complete rows (- = standard input)")
    sub.add_argument("-o", "--output", help="the learned, fitted network (.json or .bif; - or absent: JSON on "
                     "standard output)")
    sub.add_argument("--format", choices=("bif", "json"), help="file format (default: from the -o extension)")
    sub.add_argument("-q", "--quiet", action="store_true",
                     help="print only the result and errors (no notes, no progress)")
    sub.add_argument("--method", choices=METHODS, default="hc", help="search (default hc: hill climbing)")
    sub.add_argument("--score", choices=SCORES, default="bic", help="score for hc and tabu (default bic)")
    sub.add_argument("--test", choices=("auto",) + TESTS, default="auto", help="independence test for pc")
    sub.add_argument("--alpha", type=float, default=0.05, help="pc's significance level (default 0.05)")
    sub.add_argument("--max-parents", type=int, default=None, help="at most this many parents per node")
    sub.add_argument("--require", nargs="*", type=_edge, default=[], metavar="A->B", help="edges that must be there")
    sub.add_argument("--forbid", nargs="*", type=_edge, default=[], metavar="A->B", help="edges that must not")
    sub.add_argument("--restarts", type=int, default=0, help="random restarts of hc / tabu")
    sub.add_argument("--seed", type=int, default=None, help="seed for restarts and the bootstrap")
    sub.add_argument("--bootstrap", type=int, default=0, metavar="N",
                     help="learn from N resamples and write the averaged network instead")
    sub.add_argument("--threshold", type=float, default=0.5, help="with --bootstrap: keep edges this frequent")
    sub.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                     help="read the data N rows at a time, in passes over the file (which columns are numbers, "
                     "the variables' states, the counts, the fit), so that memory does not grow with the file")
    sub.add_argument("--json", action="store_true", help="print the summary as JSON, for scripts")
    sub.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bar (default: on a terminal, when tqdm is installed)")
    sub.set_defaults(function=run)
    return sub


def _read(path: str):
    import pandas as pd

    from pgm.cli import _input
    from pgm.errors import DataError

    path = _input(path)  # standard input and pipes become a file the readers can name lines of
    if os.path.isdir(path):
        raise IsADirectoryError(21, "cannot learn from a directory; give one CSV or Parquet file", path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "no such data file", path)
    if path.endswith((".parquet", ".parq", ".pq")):
        frame = pd.read_parquet(path)
    else:
        frame = _read_csv_as_written(path)
    if len(frame) == 0:
        raise DataError(f"{path} has no rows of data")
    return frame


#: pandas options that read a CSV's fields as the text written (only an empty field is missing)
_AS_WRITTEN = dict(dtype=str, keep_default_na=False, na_values=[""])


def _read_csv_as_written(path: str):
    """A CSV with no network to say its states: a column is numbers when every value reads as one, otherwise
    its states are the text as written -- not pandas' guesses, which make TRUE a boolean and the state
    "None" (bnlearn's child network) a missing value.  Only an empty field is missing."""
    import pandas as pd

    frame = pd.read_csv(path, **_AS_WRITTEN)
    for column in frame.columns:
        try:
            frame[column] = pd.to_numeric(frame[column])
        except (ValueError, TypeError):
            pass  # text: discrete states
    return frame


def _chunks(path: str, chunk_rows: int, numeric=None):
    """The file's rows, ``chunk_rows`` at a time, parsed as the in-memory path parses the whole file.

    A CSV's fields are read as text; the columns in ``numeric`` (those whose
    every value in the whole file reads as a number, :func:`_numeric_columns`)
    become numbers, so that a chunk parses as the whole file would.
    """
    import pandas as pd

    if path.endswith((".parquet", ".parq", ".pq")):
        import pyarrow.parquet

        return (batch.to_pandas() for batch in pyarrow.parquet.ParquetFile(path).iter_batches(batch_size=chunk_rows))
    if numeric is None:
        numeric = _numeric_columns(path, chunk_rows)

    def parsed(chunk):
        for column in numeric:
            chunk[column] = pd.to_numeric(chunk[column])
        return chunk

    return (parsed(chunk) for chunk in pd.read_csv(path, chunksize=chunk_rows, **_AS_WRITTEN))


def _numeric_columns(path: str, chunk_rows: int) -> set:
    """The CSV's columns whose every value reads as a number (a pass over the file, one chunk at a time)."""
    import pandas as pd

    numeric = None
    for chunk in pd.read_csv(path, chunksize=chunk_rows, **_AS_WRITTEN):
        if numeric is None:
            numeric = set(chunk.columns)
        for column in list(numeric):
            try:
                pd.to_numeric(chunk[column])
            except (ValueError, TypeError):
                numeric.discard(column)
    return numeric or set()


def _domains_by_chunks(path: str, chunk_rows: int, numeric=None) -> dict:
    """Every column's states (or None: continuous) from a first pass over the file, ``chunk_rows`` at a time.

    A column's distinct values are gathered chunk by chunk -- at most
    ``max_states + 1`` of a numeric column, which is then continuous
    whatever else it holds -- and declared by the rules the in-memory path
    applies to the whole column, so both paths read the file alike.
    """
    import pandas as pd

    from pgm.errors import DataError
    from pgm.structure.table import declare_domains

    values: dict = {}
    rows = 0
    for chunk in _chunks(path, chunk_rows, numeric):
        rows += len(chunk)
        for name in chunk.columns:
            found = pd.unique(pd.concat([values[name], chunk[name]])) if name in values else chunk[name].unique()
            if pd.api.types.is_numeric_dtype(found.dtype) and len(found) > 11:
                found = found[:11]  # more than max_states distinct numbers: continuous, whatever follows
            values[name] = pd.Series(found)
    if rows == 0:
        raise DataError(f"{path} has no rows of data")
    return declare_domains(values)


def _chunked_path(path: str, chunk_rows: int) -> str:
    from pgm.cli import _input

    if chunk_rows < 1:
        raise ValueError(f"--chunk-rows must be a positive number of rows, got {chunk_rows}")
    path = _input(path)
    if os.path.isdir(path):
        raise IsADirectoryError(21, "cannot learn from a directory; give one CSV or Parquet file", path)
    if not os.path.exists(path):
        raise FileNotFoundError(2, "no such data file", path)
    return path


def _table_by_chunks(path: str, chunk_rows: int, domains: dict, numeric=None):
    """The sufficient table, counted chunk by chunk (second pass) and merged."""
    from pgm.structure.table import _merge_pieces, _table_of_frame

    pieces = [_table_of_frame(chunk, domains, f"{path}, rows from {start * chunk_rows + 1}")
              for start, chunk in enumerate(_chunks(path, chunk_rows, numeric))]
    return _merge_pieces(pieces, domains)


def _fit_by_chunks(dag, path: str, chunk_rows: int, domains: dict, name: str, numeric=None):
    """The network over ``dag`` fitted from statistics summed chunk by chunk (third pass)."""
    from pgm.from_data import declare

    states = {n: list(v) for n, v in domains.items() if v is not None}
    continuous = [n for n, v in domains.items() if v is None]
    network = declare(dag, {n: [] for n in domains}, states=states, continuous=continuous, name=name)
    return network.from_statistics(sum(network.statistics(chunk) for chunk in _chunks(path, chunk_rows, numeric)))


def _options(args) -> dict:
    from pgm.structure.constraints import Constraints

    if args.method in ("hc", "tabu"):
        options = {"score": args.score, "restarts": args.restarts, "seed": args.seed,
                   "constraints": Constraints(required=args.require, forbidden=args.forbid,
                                              max_parents=args.max_parents)}
    elif args.require or args.forbid or args.max_parents is not None:
        raise ValueError(f"--require, --forbid and --max-parents apply to hc and tabu, not {args.method}")
    elif args.method == "pc":
        options = {"test": args.test, "alpha": args.alpha}
    else:
        options = {}
    return options


def run(args) -> None:
    """Learn, fit, write, summarise."""
    import pgm
    from pgm.structure.bootstrap import bootstrap, learn
    from pgm.structure.table import sufficient_table

    from pgm.cli import _check_folder, _note, _to_stdout, _write_network

    fmt = args.format or ("json" if _to_stdout(args.output) else os.path.splitext(args.output)[1].lstrip(".").lower())
    if fmt not in ("bif", "json"):
        raise ValueError(f"cannot write {args.output!r}: unknown network format {fmt!r}; name a .bif or .json file "
                         "with -o (or give --format)")
    _check_folder(args.output)  # before the search, not after it
    began = time.perf_counter()
    if args.chunk_rows is not None:
        path = _chunked_path(args.data, args.chunk_rows)
        numeric = None if path.endswith((".parquet", ".parq", ".pq")) else _numeric_columns(path, args.chunk_rows)
        domains = _domains_by_chunks(path, args.chunk_rows, numeric)
        table = _table_by_chunks(path, args.chunk_rows, domains, numeric)
    else:
        frame = _read(args.data)
        began = time.perf_counter()
        table = sufficient_table(frame)
    options = _options(args)
    progress = _progress_wanted(args.progress, args.quiet)
    summary = {"method": args.method, "rows": int(table.n_rows), "distinct_rows": table.n_groups}
    if args.bootstrap:
        # The replicates' searches take their restarts' seeds from the bootstrap's generator.
        options.pop("seed", None)
        confidence = bootstrap(table, method=args.method, replicates=args.bootstrap, seed=args.seed,
                               progress=progress, **options)
        dag = confidence.averaged(args.threshold)
        summary["bootstrap"] = {"replicates": args.bootstrap, "threshold": args.threshold,
                                "edges": confidence.to_frame().to_dict(orient="records")}
    else:
        if args.method in ("hc", "tabu", "pc"):
            options["progress"] = progress
        learned = learn(table, args.method, **options)
        dag = learned.to_dag(strict=False) if hasattr(learned, "undirected") else learned
        report = getattr(learned, "search_report_", None)
        if report is not None:
            summary.update(score=report.score, score_name=report.score_name, steps=report.steps)
        if hasattr(learned, "undirected"):
            summary["undirected_edges"] = sorted(sorted(e) for e in learned.undirected)
            summary["conflicts"] = [list(e) for e in learned.conflicts]
    summary["seconds"] = round(time.perf_counter() - began, 3)
    to_stdout = _to_stdout(args.output)
    name = "learned" if to_stdout else os.path.splitext(os.path.basename(args.output))[0]
    if args.chunk_rows is not None:
        network = _fit_by_chunks(dag, path, args.chunk_rows, domains, name, numeric)
    else:
        network = pgm.BayesianNetwork.from_data(dag, frame, name=name)
    _write_network(network, args.output, fmt)
    summary["edges"] = [list(e) for e in dag.edges]
    summary["output"] = "-" if to_stdout else args.output
    if args.json:  # the network on standard output keeps it; the summary then goes to standard error
        print(json.dumps(summary, indent=2, default=float), file=sys.stderr if to_stdout else sys.stdout)
        return
    extra = f", score {summary['score']:.2f} ({summary['score_name']})" if "score" in summary else ""
    _note(args, f"learned {len(dag.edges)} edges over {len(dag.nodes)} variables by {args.method} from "
                f"{summary['rows']} rows ({summary['distinct_rows']} distinct) in {summary['seconds']} s{extra}")
    if not to_stdout:
        _note(args, f"wrote {args.output}")


def _progress_wanted(flag, quiet: bool = False) -> bool:
    wanted = flag if flag is not None else (sys.stderr.isatty() and not quiet)
    if not wanted:
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        if flag:
            raise ImportError("--progress needs tqdm: pip install 'pgm-engine[progress]'") from None
        return False
    return True
