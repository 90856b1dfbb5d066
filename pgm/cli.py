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
import os
import sys
import warnings
from pathlib import Path

import pandas as pd

import pgm
from pgm.errors import DataError, PGMError
from pgm.likelihood import bits_per_variable

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


def _cmd_info(args) -> None:
    network = _load(args.network)
    print(repr(network))
    print(network.factorization().describe())


def _cmd_factorize(args) -> None:
    factorization = _load(args.network).factorization()
    print(factorization.latex() if args.latex else factorization)


def _cmd_dsep(args) -> None:
    network = _load(args.network)
    trail = network.active_trail(args.x, args.y, given=args.given)
    given = f" given {{{', '.join(args.given)}}}" if args.given else ""
    x, y = ", ".join(args.x), ", ".join(args.y)
    if trail is None:
        print(f"{{{x}}} and {{{y}}} are d-separated{given}")
    else:
        print(f"{{{x}}} and {{{y}}} are d-connected{given}; active trail: {' - '.join(trail)}")


def _cmd_blanket(args) -> None:
    network = _load(args.network)
    print(" ".join(sorted(network.markov_blanket(args.node))))


def _cmd_sample(args) -> None:
    frame = _load(args.network).sample(args.n, seed=args.seed)
    if args.output:
        _write_frame(frame, args.output)
    else:
        frame.to_csv(sys.stdout, index=False)


def _cmd_score(args) -> None:
    network = _load(args.network)
    log_likelihood = network.log_likelihood(_read_data(network, args.data))
    if args.per_row:
        _write_frame(pd.DataFrame({"log_likelihood": log_likelihood}), args.per_row)
    print(f"rows: {len(log_likelihood)}")
    print(f"mean log-likelihood: {log_likelihood.mean():.6f} nats per row")
    print(f"bits per variable: {bits_per_variable(log_likelihood, len(network)):.6f}")


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
        if args.output:
            _write_frame(result, args.output)
            print(f"wrote {args.output}")
        else:
            result.to_csv(sys.stdout, index=False)
        return
    result = network.query(targets, evidence=_evidence(network, args.evidence), **options)
    print(result)
    if args.evidence and hasattr(result, "log_evidence"):
        print(f"log p(evidence) = {result.log_evidence:.6f}")


def _cmd_mpe(args) -> None:
    network = _load(args.network)
    best = network.mpe(_evidence(network, args.evidence))
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
    data = _read_data(network, args.data)
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
    _load(args.network).write(args.output)
    print(f"wrote {args.output}")


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
    render(network, args.output, observed=args.observed, latent=args.latent, trail=trail,
           show_distributions=args.distributions)
    print(f"wrote {args.output}")


def _count(text: str) -> int:
    """A non-negative integer option (a row count, a seed); argparse reports anything else as a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgm", description="Bayesian networks: inspect, query, sample, score, fit.")
    parser.add_argument("--version", action="version", version=f"pgm {pgm.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, function, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("network", help="a .bif or .json file, or a bundled network name")
        sub.set_defaults(function=function)
        return sub

    command("info", _cmd_info, "show the network, its factorisation and parameter counts")
    sub = command("factorize", _cmd_factorize, "print the factorisation p(x1..xn) = prod p(xi | parents)")
    sub.add_argument("--latex", action="store_true", help="as LaTeX")
    sub = command("dsep", _cmd_dsep, "test d-separation; print an active trail when dependent")
    sub.add_argument("-x", nargs="+", required=True, help="first node set")
    sub.add_argument("-y", nargs="+", required=True, help="second node set")
    sub.add_argument("--given", nargs="*", default=[], help="observed nodes")
    sub = command("blanket", _cmd_blanket, "print a node's Markov blanket")
    sub.add_argument("node")
    sub = command("sample", _cmd_sample, "draw rows by ancestral sampling (CSV)")
    sub.add_argument("-n", type=_count, required=True, help="number of rows")
    sub.add_argument("--seed", type=_count, default=None)
    sub.add_argument("-o", "--output", help="CSV file (default: standard output)")
    sub = command("query", _cmd_query, "posterior of target nodes given evidence (one case, or per row of a CSV)")
    sub.add_argument("target", nargs="+", help="node(s) to query; several give their joint")
    sub.add_argument("--evidence", "-e", nargs="*", default=[], metavar="NODE=VALUE", help="observed values")
    sub.add_argument("--data", metavar="CSV", help="one case per row (empty cell = unobserved); prints a CSV of posteriors")
    sub.add_argument("-o", "--output", help="with --data: write the posteriors here instead of standard output")
    sub.add_argument("--method", choices=["exact", "likelihood_weighting"], default="exact")
    sub.add_argument("--samples", type=_count, default=100_000, help="samples for likelihood weighting")
    sub.add_argument("--seed", type=_count, default=None, help="seed for likelihood weighting")
    sub = command("mpe", _cmd_mpe, "most probable joint state of the unobserved discrete nodes")
    sub.add_argument("--evidence", "-e", nargs="*", default=[], metavar="NODE=VALUE", help="observed values")
    sub = command("score", _cmd_score, "log-likelihood of a CSV data set (empty cells are summed out)")
    sub.add_argument("data", help="CSV with a column per observed node; empty cells are missing values")
    sub.add_argument("--per-row", metavar="CSV", help="also write each row's log-likelihood here")
    sub = command("fit", _cmd_fit, "fit the network's CPDs to a CSV data set")
    sub.add_argument("data", help="CSV with a column per node")
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
    sub.add_argument("output")
    sub = command("render", _cmd_render, "draw the network with Graphviz (svg, png, pdf)")
    sub.add_argument("output")
    sub.add_argument("--observed", nargs="*", default=[], help="nodes to shade")
    sub.add_argument("--latent", nargs="*", default=[], help="nodes to dash")
    sub.add_argument("--trail", nargs=2, metavar=("X", "Y"), help="highlight an active trail given --observed")
    sub.add_argument("--distributions", action="store_true", help="show each node's distribution")
    return parser


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
