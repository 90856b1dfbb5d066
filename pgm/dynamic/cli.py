"""``pgm sequences``: score, filter, smooth, decode and fit a dynamic network on a long CSV or Parquet file.

Kept with the rest of :mod:`pgm.dynamic` so that :mod:`pgm.cli` registers it
with one call.  The model is a dynamic network's JSON (format ``pgm-dbn``,
:meth:`~pgm.dynamic.DynamicBayesianNetwork.to_dict`); the data a long table
with a sequence-id column, read through :func:`pgm.io.scan` a chunk of rows at
a time and regrouped into whole sequences (:mod:`pgm.dynamic.files`), so a
file larger than memory is scored, decoded or fitted one piece at a time.
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

__all__ = ["EXAMPLES", "add_sequences_command", "read_model"]

EXAMPLES = [
    "pgm sequences score hmm.json steps.csv --sequence id -o per_sequence.csv",
    "pgm sequences smooth hmm.json steps.csv --sequence id --time t -o posteriors.csv",
    "pgm sequences viterbi hmm.json steps.csv --sequence id -o paths.csv",
    "pgm sequences fit hmm.json steps.csv --sequence id -o fitted.json --max-iter 50 --n-init 3 --seed 0",
    "pgm sequences fit hmm.json steps.csv --sequence id --chunk-rows 1000000 -o fitted.json -q",
]

ACTIONS = ("score", "filter", "smooth", "viterbi", "fit")


def read_model(path: str):
    """A dynamic network from its JSON file (format ``pgm-dbn``)."""
    from pgm.dynamic import DynamicBayesianNetwork
    from pgm.errors import ParseError

    try:
        with open(path, encoding="utf-8") as handle:
            spec = json.load(handle)
    except json.JSONDecodeError as error:
        raise ParseError(f"{path}, line {error.lineno}: not JSON ({error.msg})") from None
    return DynamicBayesianNetwork.from_dict(spec)


def add_sequences_command(commands, examples=EXAMPLES):
    """Add the ``sequences`` subcommand to an argparse subparsers object."""
    from pgm.cli import _positive, _real

    help_text = ("score, filter, smooth, decode (Viterbi) or fit a dynamic network (HMM, DBN) on a long CSV or "
                 "Parquet file with a sequence-id column")
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples)
    sub = commands.add_parser("sequences", help=help_text, description=help_text, epilog=epilog,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub.add_argument("action", choices=ACTIONS, help="score: log-likelihood per sequence; filter / smooth: "
                     "posteriors of the hidden nodes per step; viterbi: most probable hidden path; fit: EM")
    sub.add_argument("model", help="the dynamic network's JSON file (format pgm-dbn), written from Python by "
                     "json.dump(model.to_dict(), file); see docs/sequences.md")
    sub.add_argument("data", help="CSV or Parquet (file, directory or pattern; - = standard input), one row per "
                     "step, a column per observed node")
    sub.add_argument("--sequence", metavar="COLUMN", help="the sequence-id column (rows of a sequence contiguous); "
                     "absent: the whole file is one sequence")
    sub.add_argument("--time", metavar="COLUMN", help="a numeric column ordering the rows within each sequence")
    sub.add_argument("-o", "--output", help="the result: a CSV, or the fitted network's JSON for fit "
                     "(default or -: standard output)")
    sub.add_argument("-q", "--quiet", action="store_true", help="print only the result and errors (no notes)")
    sub.add_argument("--json", action="store_true", help="print the summary as JSON, for scripts")
    sub.add_argument("--chunk-rows", type=_positive, metavar="N",
                     help="read N rows at a time; only whole sequences are held in memory")
    sub.add_argument("--checkpoint", type=_positive, metavar="K",
                     help="forward-backward in windows of K steps (memory ~ K instead of T per sequence)")
    sub.add_argument("--max-iter", type=_positive, default=100, help="fit: EM iterations at most (default 100)")
    sub.add_argument("--tol", type=_real, default=1e-6, help="fit: EM stops when the mean log-likelihood per step "
                     "gains less")
    sub.add_argument("--n-init", type=_positive, default=1, help="fit: random starts (in memory only)")
    sub.add_argument("--init", choices=["random", "current"], default="random",
                     help="fit: start from random parameters or the model's own")
    sub.add_argument("--seed", type=int, default=None, help="fit: seed of the random starts")
    sub.add_argument("--prior", help="fit: dirichlet:ALPHA, bdeu:ESS, ridge:ALPHA or invgamma:SCALE")
    sub.set_defaults(function=run)
    return sub


def _pieces(model, args):
    """The data as pieces of whole sequences (one piece when it fits a single chunk)."""
    import pgm
    from pgm.cli import _input
    from pgm.dynamic.files import whole_sequences
    from pgm.io.chunked import DEFAULT_CHUNK_ROWS

    rows = pgm.io.scan(_input(args.data), chunk_rows=args.chunk_rows or DEFAULT_CHUNK_ROWS)
    if args.sequence is None:
        frames = [chunk for chunk, _ in rows.frames({n: model.domains[n] for n in model.observed_nodes},
                                                    numbers=[args.time] if args.time else ())]
        return rows, [pd.concat(frames, ignore_index=True)] if frames else []
    return rows, whole_sequences(rows, model, sequence=args.sequence, time=args.time)


def run(args) -> None:
    """Read the model, go through the data piece by piece, write the result."""
    from pgm.cli import _note, _prior, _to_stdout, _write_text

    model = read_model(args.model)
    where = {"sequence": args.sequence, "time": args.time}
    if args.action == "fit":
        _fit(model, args, where, _prior, _note, _to_stdout, _write_text)
        return
    rows, pieces = _pieces(model, args)
    parts, steps = [], 0
    for piece in pieces:
        steps += len(piece)
        if args.action == "score":
            parts.append(model.log_likelihood(piece, checkpoint=args.checkpoint, **where).reset_index())
        elif args.action == "viterbi":
            best = model.most_probable_path(piece, **where)
            path = best.path.reset_index()
            path["log_probability"] = path[path.columns[0]].map(best.log_probability)
            parts.append(path)
        else:
            extra = {"checkpoint": args.checkpoint} if args.action == "smooth" else {}
            posterior = getattr(model, "filtered" if args.action == "filter" else "smoothed")(piece, **where,
                                                                                                **extra)
            posterior.columns = [f"{node}={state}" for node, state in posterior.columns]
            parts.append(posterior.reset_index())
    result = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if args.sequence is None and "sequence" in result.columns:
        result = result.drop(columns="sequence")
    _write_text(args.output, result.to_csv(index=False))
    summary = {"action": args.action, "sequences": int(len(result) if args.action == "score" else
                                                       result.iloc[:, 0].nunique() if len(result) else 0),
               "steps": steps}
    if args.action == "score":
        summary["log_likelihood"] = float(result["log_likelihood"].sum())
        summary["mean_log_likelihood_per_step"] = summary["log_likelihood"] / max(steps, 1)
    _report(args, summary, _note, _to_stdout)


def _fit(model, args, where, _prior, _note, _to_stdout, _write_text):
    prior = _prior(args.prior)
    if args.chunk_rows:  # a pass over the files per EM iteration, a piece of whole sequences at a time
        import pgm
        from pgm.cli import _input

        if args.sequence is None:
            raise ValueError("--chunk-rows needs --sequence: the pieces are whole sequences")
        if args.n_init > 1:
            raise ValueError("--n-init needs the data in memory; drop --chunk-rows or use --n-init 1")
        rows = pgm.io.scan(_input(args.data), chunk_rows=args.chunk_rows)
        fitted = model.fit_pieces(rows, sequence=args.sequence, time=args.time, prior=prior,
                                  max_iter=args.max_iter, tol=args.tol, init=args.init, seed=args.seed)
    else:
        _, pieces = _pieces(model, args)
        frames = list(pieces)
        data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        fitted = model.fit(data, **where, prior=prior, max_iter=args.max_iter, tol=args.tol, n_init=args.n_init,
                           init=args.init, seed=args.seed, checkpoint=args.checkpoint)
    _write_text(args.output, json.dumps(fitted.to_dict(), indent=2) + "\n")
    report = getattr(fitted, "fit_report_", None)
    summary = {"action": "fit", "output": None if _to_stdout(args.output) else args.output}
    if report is not None:
        summary.update(converged=report.converged, n_iter=report.n_iter, steps=report.n_rows,
                       log_likelihood_per_step=report.log_likelihood)
    _report(args, summary, _note, _to_stdout)


def _report(args, summary, _note, _to_stdout):
    if args.json:
        stream = sys.stderr if _to_stdout(args.output) else sys.stdout
        print(json.dumps(summary, indent=2), file=stream)
        return
    text = ", ".join(f"{key} {value:.6g}" if isinstance(value, float) else f"{key} {value}"
                     for key, value in summary.items() if not isinstance(value, list) and value is not None)
    _note(args, text)
