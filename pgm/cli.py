"""The ``pgm`` command: a thin shell over the public API.

A NETWORK argument is a file (``.bif`` or ``.json``) or the name of a bundled
network (``pgm info asia``).  Run ``pgm --help`` or ``pgm COMMAND --help``.

Whatever the input, the command either does its work or prints one line,
``pgm: error: ...``, naming the culprit (a file and line, a node, an option)
and exits with status 1; it never prints a Python traceback.  Warnings are
printed as ``pgm: warning: ...``.  Set ``PGM_TRACEBACK=1`` to see the
traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import pgm
from pgm.errors import DataError, PGMError
from pgm.likelihood import bits_per_variable
from pgm.structure.cli import EXAMPLES as _learn_examples, add_learn_command

__all__ = ["main"]


def _load(spec: str):
    path = Path(spec)
    bundled = spec in pgm.datasets.names()
    # A bundled name wins over a directory or an extension-less file of the same name in the
    # current folder (./alarm/ must not shadow `pgm info alarm`); anything else is a path.
    if bundled and (not path.suffix or path.is_dir()):
        return pgm.load(spec)
    if path.is_dir():
        raise IsADirectoryError(21, "cannot read a network from a directory", spec)
    if path.exists():
        return pgm.read(spec)
    if path.suffix or os.sep in spec:
        raise FileNotFoundError(2, "no such network file", spec)
    raise FileNotFoundError(f"{spec!r} is neither a network file nor a bundled network ({', '.join(pgm.datasets.names())})")


def _read_data(network, path: str) -> pd.DataFrame:
    from pgm.data import read_csv

    frame = read_csv(path, network.domains)
    if len(frame) == 0:
        raise DataError(f"{path} has a header line but no rows of data")
    return frame


def _data_source(network, path: str, chunk_rows: int | None):
    """Parquet (a file, a directory, a pattern) is read in chunks, and so is a CSV given --chunk-rows;
    any other CSV is read whole, as before."""
    from pgm.io.chunked import DEFAULT_CHUNK_ROWS, _format_of

    if chunk_rows is None and _format_of(path) != "parquet" and not os.path.isdir(path) and not any(
            ch in path for ch in "*?["):
        return _read_data(network, path)
    return pgm.io.scan(path, chunk_rows=chunk_rows or DEFAULT_CHUNK_ROWS)


def _write_frame(frame: pd.DataFrame, path: str) -> None:
    from pgm.io._files import write_text_atomically

    write_text_atomically(path, frame.to_csv(index=False))


def _prior(text: str | None, network=None):
    if text is None:
        return None
    kind, _, value = text.partition(":")
    try:
        number = float(value) if value else 1.0
    except ValueError:
        raise ValueError(f"bad prior {text!r}: the part after ':' must be a number") from None
    priors = {"dirichlet": pgm.Dirichlet, "bdeu": pgm.BDeu, "ridge": pgm.Ridge, "invgamma": pgm.InverseGamma}
    if kind.lower() not in priors:
        raise ValueError(f"unknown prior {kind!r}; use dirichlet:ALPHA, bdeu:ESS, ridge:ALPHA or invgamma:SCALE")
    _refuse_prior_for_no_node(kind.lower(), network)
    return priors[kind.lower()](number)


def _refuse_prior_for_no_node(kind: str, network) -> None:
    """A prior that applies to no node of the network would silently give plain maximum likelihood."""
    if network is None:
        return
    continuous = kind in ("ridge", "invgamma")
    if not any(network[node].is_discrete != continuous for node in network.nodes):
        applies = "continuous (Gaussian)" if continuous else "discrete"
        other = "dirichlet:ALPHA or bdeu:ESS" if continuous else "ridge:ALPHA or invgamma:SCALE"
        raise ValueError(f"the {kind} prior applies to {applies} nodes, and {network.name!r} has none; "
                         f"use {other}, or no --prior")


def _json_value(value):
    """A state or number as JSON holds it (NumPy scalars become Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def _print_json(payload) -> None:
    print(json.dumps(payload, indent=2, default=_json_value))


def _cmd_info(args) -> None:
    network = _load(args.network)
    if args.json:
        nodes = []
        for node in network.nodes:
            cpd = network[node]
            nodes.append({"name": node, "kind": "discrete" if cpd.is_discrete else "continuous",
                          "states": list(cpd.domain) if cpd.is_discrete else None, "parents": list(cpd.parents),
                          "latent": cpd.latent, "fitted": cpd.is_fitted})
        _print_json({"name": network.name, "nodes": nodes, "edges": [list(e) for e in network.edges],
                     "tied": [list(g) for g in network.tied_groups], "n_free_parameters": network.n_free_parameters,
                     "factorization": str(network.factorization())})
        return
    print(network)
    print(network.factorization().describe())


def _cmd_factorize(args) -> None:
    factorization = _load(args.network).factorization()
    print(factorization.latex() if args.latex else factorization)


def _cmd_dsep(args) -> None:
    network = _load(args.network)
    trail = network.active_trail(args.x, args.y, given=args.given)
    if args.json:
        _print_json({"x": args.x, "y": args.y, "given": args.given, "d_separated": trail is None, "trail": trail})
        return
    given = f" given {{{', '.join(args.given)}}}" if args.given else ""
    x, y = ", ".join(args.x), ", ".join(args.y)
    if trail is None:
        print(f"{{{x}}} and {{{y}}} are d-separated{given}")
    else:
        print(f"{{{x}}} and {{{y}}} are d-connected{given}; active trail: {' - '.join(trail)}")


def _cmd_blanket(args) -> None:
    network = _load(args.network)
    blanket = sorted(network.markov_blanket(args.node))
    if args.json:
        _print_json({"node": args.node, "markov_blanket": blanket})
        return
    print(" ".join(blanket))


def _cmd_sample(args) -> None:
    frame = _load(args.network).sample(args.n, seed=args.seed, progress=_progress_wanted(args))
    if args.output:
        _write_frame(frame, args.output)
    else:
        frame.to_csv(sys.stdout, index=False)


def _cmd_score(args) -> None:
    network = _load(args.network)
    data = _data_source(network, args.data, args.chunk_rows)
    if isinstance(data, pgm.io.Scan):
        _score_chunks(network, data, args)
        return
    log_likelihood = network.log_likelihood(data, progress=_progress_wanted(args))
    if args.per_row:
        _write_frame(pd.DataFrame({"log_likelihood": log_likelihood}), args.per_row)
    _report_score(args, len(log_likelihood), float(log_likelihood.mean()),
                  bits_per_variable(log_likelihood, len(network)))


def _report_score(args, rows: int, mean: float, bits: float) -> None:
    if args.json:
        _print_json({"rows": rows, "mean_log_likelihood": mean, "bits_per_variable": bits})
        return
    print(f"rows: {rows}")
    print(f"mean log-likelihood: {mean:.6f} nats per row")
    print(f"bits per variable: {bits:.6f}")


def _score_chunks(network, data, args) -> None:
    """``pgm score`` a chunk at a time: per-row values are streamed to --per-row, never all in memory."""
    from pgm.io.chunked import log_likelihood_chunks, write_csv_chunks

    total, count = 0.0, 0

    def frames():
        nonlocal total, count
        for values in log_likelihood_chunks(network, data):
            total += float(values.sum())
            count += len(values)
            yield pd.DataFrame({"log_likelihood": values})
        if count == 0:  # raised inside the writer, which then leaves no file behind
            raise DataError(f"{args.data} has no rows of data")

    if args.per_row:
        write_csv_chunks(args.per_row, frames())
    else:
        for _ in frames():
            pass
    mean = total / count
    _report_score(args, count, mean, bits_per_variable(np.array([mean]), len(network)))


def _evidence(network, pairs) -> dict:
    """``["X=a", "Y=1.5"]`` -> ``{"X": "a", "Y": 1.5}`` (numbers for continuous nodes)."""
    evidence = {}
    for pair in pairs or ():
        node, sep, value = pair.partition("=")
        if not sep or not node:
            raise ValueError(f"bad evidence {pair!r}: write NODE=STATE (or NODE=NUMBER for a continuous node)")
        if node in network and not network[node].is_discrete:
            try:
                evidence[node] = float(value)
            except ValueError:
                raise ValueError(f"evidence {pair!r}: {node!r} is continuous, so its value must be a number") from None
        elif node in network:
            # the command line is text, like a CSV: a state is named by its str() (1, True)
            evidence[node] = next((state for state in network[node].domain if str(state) == value), value)
        else:
            evidence[node] = value
    return evidence


def _cmd_query(args) -> None:
    network = _load(args.network)
    targets = args.target[0] if len(args.target) == 1 else args.target
    options = {}
    if args.method == "likelihood_weighting":
        options = {"method": "likelihood_weighting", "n_samples": args.samples, "seed": args.seed}
    if args.data:
        if args.evidence:
            raise ValueError("give either --evidence (one case) or --data (one case per row), not both")
        result = network.query(targets, evidence=_read_data(network, args.data), **options)
        if isinstance(result.columns, pd.MultiIndex):
            result.columns = ["|".join(map(str, c)) for c in result.columns]
        if args.json:
            text = result.to_json(orient="records", indent=2)
            if args.output:
                from pgm.io._files import write_text_atomically

                write_text_atomically(args.output, text + "\n")
                print(f"wrote {args.output}")
            else:
                print(text)
            return
        if args.output:
            _write_frame(result, args.output)
            print(f"wrote {args.output}")
        else:
            result.to_csv(sys.stdout, index=False)
        return
    result = network.query(targets, evidence=_evidence(network, args.evidence), **options)
    if args.json:
        _print_json(_posterior_json(result))
        return
    print(result)
    if args.evidence and hasattr(result, "log_evidence"):
        print(f"log p(evidence) = {result.log_evidence:.6f}")


def _posterior_json(result) -> dict:
    """A one-case posterior as JSON: a table over states, or Gaussian moments."""
    if isinstance(result, pgm.DiscreteDistribution):
        payload = {"variables": list(result.variables),
                   "states": {v: list(result.states[v]) for v in result.variables},
                   "probabilities": result.probabilities.tolist()}
    elif isinstance(result, pgm.MultivariateNormal):
        payload = {"variables": list(result.names), "mean": result.mean.tolist(),
                   "covariance": result.covariance.tolist()}
    else:  # a mixture of Gaussians (hybrid networks)
        payload = {"variables": list(result.names), "mean": result.mean().tolist(),
                   "covariance": result.covariance().tolist(), "components": {
                       "labels": list(result.labels), "weights": result.weights.tolist(),
                       "means": result.means.tolist(), "covariances": result.covariances.tolist()}}
    log_evidence = getattr(result, "log_evidence", None)
    if log_evidence is not None:
        payload["log_evidence"] = log_evidence
    return payload


def _cmd_mpe(args) -> None:
    network = _load(args.network)
    best = network.mpe(_evidence(network, args.evidence))
    if args.json:
        _print_json({"assignment": best.assignment, "log_probability": best.log_probability,
                     "log_evidence": best.log_evidence})
        return
    width = max(map(len, best.assignment))
    for node, state in best.assignment.items():
        print(f"{node:<{width}}  {state}")
    print(f"log p(assignment, evidence) = {best.log_probability:.6f}")
    print(f"log p(assignment | evidence) = {best.log_probability - best.log_evidence:.6f}")


def _declare_latent(network, nodes):
    """``network`` with ``nodes`` declared latent (their parameters dropped; EM estimates them)."""
    for node in nodes:
        cpd = network[node]
        if cpd.is_discrete:
            latent = pgm.Categorical.latent(cpd.states, parents=cpd.parents)
        else:
            latent = pgm.LinearGaussian.latent(parents=cpd.parents, features=cpd.features)
        network = network.with_cpd(node, latent)
    return network


def _cmd_fit(args) -> None:
    network = _declare_latent(_load(args.network), args.latent or ())
    data = _data_source(network, args.data, args.chunk_rows)
    bar = args.progress if args.progress is not None else sys.stderr.isatty()
    progress = False
    if bar:
        try:
            import tqdm  # noqa: F401

            progress = True
        except ImportError:
            progress = False

    def trace(iteration, log_likelihood, _network):
        if not progress:
            print(f"EM iteration {iteration}: mean log-likelihood {log_likelihood:.6f} nats per row", file=sys.stderr)

    fitted = network.fit(data, prior=_prior(args.prior, network), max_iter=args.max_iter, tol=args.tol, n_init=args.n_init,
                         init=args.init, seed=args.seed, progress=progress, callback=trace)
    report = getattr(fitted, "fit_report_", None)
    if report is not None:
        print(repr(report))
    fitted.write(args.output)
    print(f"wrote {args.output}")


def _cmd_convert(args) -> None:
    output = _output(args)
    _load(args.network).write(output)
    print(f"wrote {output}")


def _cmd_render(args) -> None:
    from pgm.render import render

    network = _load(args.network)
    trail = None
    if args.trail:
        trail = network.active_trail(args.trail[0], args.trail[1], given=args.observed or ())
        if trail is None:
            given = f" given {{{', '.join(args.observed)}}}" if args.observed else ""
            warnings.warn(f"{args.trail[0]} and {args.trail[1]} are d-separated{given}: there is no active "
                          "trail to highlight", pgm.errors.PGMWarning, stacklevel=1)
    output = _output(args)
    render(network, output, observed=args.observed, latent=args.latent, trail=trail,
           show_distributions=args.distributions)
    print(f"wrote {output}")


def _output(args) -> str:
    """The file to write: ``-o/--output``, or the positional OUTPUT that older command lines give."""
    if args.output and args.output_positional and args.output != args.output_positional:
        raise ValueError(f"two output files given ({args.output_positional} and {args.output}); give one, with -o")
    output = args.output or args.output_positional
    if not output:
        raise ValueError(f"pgm {args.command} writes a file: give it with -o/--output")
    return output


def _progress_wanted(args) -> bool:
    """--progress / --no-progress, or by default a bar when standard error is a terminal and tqdm is installed."""
    wanted = args.progress if args.progress is not None else sys.stderr.isatty()
    if not wanted:
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        if args.progress:
            raise ImportError("--progress needs tqdm: pip install 'pgm-engine[progress]'") from None
        return False
    return True


def _count(text: str) -> int:
    """A non-negative integer option (a row count, a seed); argparse reports anything else as a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}")
    return value


def _positive(text: str) -> int:
    """A positive integer option (rows per chunk)."""
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a positive whole number, got 0")
    return value


#: One example per subcommand (or a few), shown by ``pgm COMMAND --help`` and in docs/cli.md.
EXAMPLES = {
    "info": ["pgm info asia", "pgm info alarm --json"],
    "factorize": ["pgm factorize asia", "pgm factorize asia --latex"],
    "dsep": ["pgm dsep asia -x asia -y smoke --given dysp",
             "pgm dsep asia --first tub --second bronc --given smoke --json"],
    "blanket": ["pgm blanket asia either"],
    "sample": ["pgm sample alarm -n 100000 --seed 1 -o rows.csv"],
    "query": ["pgm query asia lung -e xray=yes smoke=no", "pgm query asia lung --data cases.csv -o posteriors.csv",
              "pgm query asia lung either -e dysp=yes --json"],
    "mpe": ["pgm mpe asia -e xray=yes dysp=yes"],
    "score": ["pgm score alarm rows.csv", "pgm score alarm big.csv --chunk-rows 1000000 --per-row ll.csv"],
    "fit": ["pgm fit alarm rows.csv -o fitted.bif --prior bdeu:10",
            "pgm fit alarm rows.csv -o fitted.json --latent LVFAILURE --n-init 3 --seed 0"],
    "convert": ["pgm convert asia -o asia.json"],
    "render": ["pgm render asia -o asia.svg --observed dysp --trail asia smoke"],
}
EXAMPLES["learn"] = _learn_examples  # structure learning (pgm/structure/cli.py)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgm", description="Bayesian networks: inspect, query, sample, score, fit.")
    parser.add_argument("--version", action="version", version=f"pgm {pgm.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, function, help_text):
        epilog = "example" + ("s" if len(EXAMPLES[name]) > 1 else "") + ":\n" + "\n".join(
            f"  {line}" for line in EXAMPLES[name])
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=epilog,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("network", help="a .bif or .json file, or a bundled network name")
        sub.set_defaults(function=function)
        return sub

    def json_option(sub):
        sub.add_argument("--json", action="store_true", help="print the result as JSON, for scripts")

    def output_option(sub, help_text):
        # -o/--output names the file every writing command writes; the positional form is kept for old scripts
        sub.add_argument("output_positional", nargs="?", metavar="OUTPUT", help=argparse.SUPPRESS)
        sub.add_argument("-o", "--output", help=help_text)

    def progress_option(sub):
        sub.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="progress bar (default: on a terminal, when tqdm is installed)")

    sub = command("info", _cmd_info, "show the network's nodes, states, parents, factorisation and parameter counts")
    json_option(sub)
    sub = command("factorize", _cmd_factorize, "print the factorisation p(x1..xn) = prod p(xi | parents)")
    sub.add_argument("--latex", action="store_true", help="as LaTeX")
    sub = command("dsep", _cmd_dsep, "test d-separation; print an active trail when dependent")
    sub.add_argument("-x", "--first", dest="x", nargs="+", required=True, metavar="NODE", help="first node set")
    sub.add_argument("-y", "--second", dest="y", nargs="+", required=True, metavar="NODE", help="second node set")
    sub.add_argument("-g", "--given", nargs="*", default=[], metavar="NODE", help="observed nodes")
    json_option(sub)
    sub = command("blanket", _cmd_blanket, "print a node's Markov blanket")
    sub.add_argument("node")
    json_option(sub)
    sub = command("sample", _cmd_sample, "draw rows by ancestral sampling (CSV)")
    sub.add_argument("-n", "--rows", dest="n", type=_count, required=True, help="number of rows")
    sub.add_argument("--seed", type=_count, default=None, help="seed: the same seed gives the same rows")
    sub.add_argument("-o", "--output", help="CSV file (default: standard output)")
    progress_option(sub)
    sub = command("query", _cmd_query, "posterior of target nodes given evidence (one case, or per row of a CSV)")
    sub.add_argument("target", nargs="+", help="node(s) to query; several give their joint")
    sub.add_argument("--evidence", "-e", nargs="*", default=[], metavar="NODE=VALUE", help="observed values")
    sub.add_argument("--data", metavar="CSV", help="one case per row (empty cell = unobserved); prints a CSV of posteriors")
    sub.add_argument("-o", "--output", help="with --data: write the posteriors here instead of standard output")
    sub.add_argument("--method", choices=["exact", "likelihood_weighting"], default="exact")
    sub.add_argument("--samples", type=_count, default=100_000, help="samples for likelihood weighting")
    sub.add_argument("--seed", type=_count, default=None, help="seed for likelihood weighting")
    json_option(sub)
    sub = command("mpe", _cmd_mpe, "most probable joint state of the unobserved discrete nodes")
    sub.add_argument("--evidence", "-e", nargs="*", default=[], metavar="NODE=VALUE", help="observed values")
    json_option(sub)
    sub = command("score", _cmd_score, "log-likelihood of a CSV data set (empty cells are summed out)")
    sub.add_argument("data", help="CSV or Parquet (file, directory or pattern) with a column per observed node; "
                     "empty cells are missing values")
    sub.add_argument("-o", "--output", "--per-row", dest="per_row", metavar="CSV",
                     help="also write each row's log-likelihood here")
    json_option(sub)
    progress_option(sub)
    sub.add_argument("--chunk-rows", type=_positive, metavar="N",
                     help="read N rows at a time, in bounded memory (always so for Parquet)")
    sub = command("fit", _cmd_fit, "fit the network's CPDs to a CSV data set")
    sub.add_argument("data", help="CSV or Parquet (file, directory or pattern) with a column per node")
    sub.add_argument("--chunk-rows", type=_positive, metavar="N",
                     help="read N rows at a time, in bounded memory (always so for Parquet)")
    sub.add_argument("-o", "--output", required=True, help="where to write the fitted network (.bif or .json)")
    sub.add_argument("--prior", help="dirichlet:ALPHA, bdeu:ESS, ridge:ALPHA or invgamma:SCALE")
    sub.add_argument("--latent", nargs="*", default=[], metavar="NODE", help="nodes to treat as latent (never observed)")
    sub.add_argument("--max-iter", type=int, default=100, help="EM iterations at most (default 100)")
    sub.add_argument("--tol", type=float, default=1e-6, help="EM stops when the mean log-likelihood gains less")
    sub.add_argument("--n-init", type=int, default=1, help="EM random starts; the best is kept")
    sub.add_argument("--init", choices=["random", "kmeans++", "current"], default="random", help="EM starting point")
    sub.add_argument("--seed", type=int, default=None, help="seed for EM's random starts")
    sub.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bar (default: on a terminal, when tqdm is installed)")
    sub = command("convert", _cmd_convert, "write the network in another format (by extension)")
    output_option(sub, "the file to write: .bif or .json")
    sub = command("render", _cmd_render, "draw the network with Graphviz (svg, png, pdf)")
    output_option(sub, "the image to write: .svg, .png or .pdf")
    sub.add_argument("--observed", nargs="*", default=[], help="nodes to shade")
    sub.add_argument("--latent", nargs="*", default=[], help="nodes to dash")
    sub.add_argument("--trail", nargs=2, metavar=("X", "Y"), help="highlight an active trail given --observed")
    sub.add_argument("--distributions", action="store_true", help="show each node's distribution")
    add_learn_command(commands, EXAMPLES["learn"])  # structure learning: its options live in pgm/structure/cli.py
    return parser


def markdown_reference() -> str:
    """docs/cli.md: every subcommand's help, as ``pgm COMMAND --help`` prints it, with its examples.

    Regenerate with ``python -c "from pgm.cli import markdown_reference as m; print(m(), end='')" > docs/cli.md``;
    a test checks that the file names every subcommand, option and example of the parser.
    """
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal's width; the page has a fixed one
    try:
        parser = build_parser()
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        lines = ["# The `pgm` command", "",
                 "Generated from the command's parser by `pgm.cli.markdown_reference()`; every subcommand's",
                 "`--help`, with examples. A NETWORK is a `.bif` or `.json` file, or the name of a bundled",
                 "network (`pgm info asia`). Errors are one line on standard error, `pgm: error: ...` (exit",
                 "status 1); usage errors exit with 2. Commands that write a file take `-o/--output`; `--json`",
                 "prints machine-readable results; `--progress` shows a bar on long work (on by default on a",
                 "terminal).", "", "```text", parser.format_help().rstrip(), "```", ""]
        for name, sub in commands.choices.items():
            lines += [f"## pgm {name}", "", "```text", sub.format_help().rstrip(), "```", ""]
        return "\n".join(lines)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def _one_line(text: str, limit: int = 600) -> str:
    """A message as one line of at most ``limit`` characters."""
    text = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(error: BaseException) -> str:
    if isinstance(error, csv.Error):  # e.g. a NUL character, which Python 3.10's csv module cannot write
        return f"cannot write the rows as CSV: {error}"
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        return f"{error.filename}: {error.strerror}"
    if isinstance(error, MemoryError) and not isinstance(error, PGMError):
        return "out of memory" + (f" ({error})" if str(error) else "")
    return str(error) or type(error).__name__


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"pgm: warning: {_one_line(message)}", file=sys.stderr)


def main(argv=None) -> int:
    """Entry point of the ``pgm`` command; returns the exit status.

    0 on success; 1 for an error in the input, a file or an option (one line
    on standard error); 2 for a usage error (from argparse) or an unexpected
    error in pgm itself; 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            args.function(args)
        except BrokenPipeError:  # `pgm sample ... | head`: the reader left; that is not an error
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            except (OSError, ValueError, AttributeError):
                pass
            return 0
        except KeyboardInterrupt:
            print("pgm: interrupted", file=sys.stderr)
            return 130
        except (PGMError, OSError, ValueError, MemoryError, RuntimeError, csv.Error) as error:
            if os.environ.get("PGM_TRACEBACK"):
                raise
            message = _describe(error)
            data = getattr(args, "data", None)
            if isinstance(error, DataError) and data and str(data) not in message:
                message = f"{data}: {message}"  # a problem found in the data after reading it: name the file
            print(f"pgm: error: {_one_line(message)}", file=sys.stderr)
            return 1
        except Exception as error:  # noqa: BLE001 - the command must never end in a traceback
            if os.environ.get("PGM_TRACEBACK"):
                raise
            print(f"pgm: error: internal error ({type(error).__name__}: {_one_line(str(error), 300)}); "
                  "please report it, with PGM_TRACEBACK=1 set for the details", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
