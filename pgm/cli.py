"""The ``pgm`` command: a thin shell over the public API.

A NETWORK argument is a file (``.bif`` or ``.json``) or the name of a bundled
network (``pgm info asia``).  Run ``pgm --help`` or ``pgm COMMAND --help``.

One vocabulary everywhere: ``-e/--evidence NODE=STATE`` for what is observed,
``-o/--output FILE`` for what is written (absent or ``-``: standard output),
``-`` as a data file for standard input, ``--json`` for scripts, ``-q/--quiet``
for nothing but the result.  Subcommands are registered in
:func:`build_parser` through one helper, so a new one (say ``pgm learn``)
gets the shared options by adding a function and a ``command(...)`` line.

Whatever the input, the command either does its work or prints one line,
``pgm: error: ...``, naming the culprit (a file and line, a node, an option)
and exits with status 1; it never prints a Python traceback.  Warnings are
printed as ``pgm: warning: ...``.  Set ``PGM_TRACEBACK=1`` to see the
traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import atexit
import csv
import json
import os
import shutil
import stat
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import pgm
from pgm.errors import DataError, PGMError
from pgm.likelihood import bits_per_variable
from pgm.dynamic.cli import EXAMPLES as _sequences_examples, add_sequences_command
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


#: Temporary copies of standard input (or of a pipe such as /dev/stdin) -> the name the user gave.
_SHOWN_AS: dict[str, str] = {}


def _input(path: str) -> str:
    """A data file that can be read more than once: ``-`` (standard input) and pipes are copied to a
    temporary file first, because the readers go back to the file to name the line of an error."""
    if path != "-":
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return path  # the reader reports the missing file
        if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
            return path
    if path in _SHOWN_AS.values():
        return next(copy for copy, shown in _SHOWN_AS.items() if shown == path)
    folder = tempfile.mkdtemp(prefix="pgm-stdin-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    copy = os.path.join(folder, "stdin.csv")
    with open(copy, "wb") as target:
        if path == "-":
            shutil.copyfileobj(sys.stdin.buffer, target)
        else:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, target)
    _SHOWN_AS[copy] = "<stdin>" if path == "-" else path
    return copy


def _to_stdout(output: str | None) -> bool:
    return output is None or output == "-"


def _write_text(output: str | None, text: str) -> None:
    """``text`` to the file ``output`` (atomically), or to standard output when it is absent or ``-``."""
    if _to_stdout(output):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from pgm.io._files import write_text_atomically

    write_text_atomically(output, text)


def _note(args, text: str) -> None:
    """A message about the work (``wrote FILE``), not the result: silenced by --quiet, kept off standard
    output when the result goes there."""
    if getattr(args, "quiet", False):
        return
    stream = sys.stderr if args.json or _to_stdout(getattr(args, "output", None)) else sys.stdout
    print(text, file=stream)


def _read_data(network, path: str) -> pd.DataFrame:
    from pgm.data import read_csv

    frame = read_csv(_input(path), network.domains)
    if len(frame) == 0:
        raise DataError(f"{path} has a header line but no rows of data")
    return frame


def _data_source(network, path: str, chunk_rows: int | None):
    """Parquet (a file, a directory, a pattern) is read in chunks, and so is a CSV given --chunk-rows;
    any other CSV is read whole, as before."""
    from pgm.io.chunked import DEFAULT_CHUNK_ROWS, _format_of

    path = _input(path)
    if chunk_rows is None and _format_of(path) != "parquet" and not os.path.isdir(path) and not any(
            ch in path for ch in "*?["):
        return _read_data(network, path)
    return pgm.io.scan(path, chunk_rows=chunk_rows or DEFAULT_CHUNK_ROWS)


def _write_frame(frame: pd.DataFrame, path: str | None) -> None:
    _write_text(path, frame.to_csv(index=False))


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
            entry = {"name": node, "kind": "discrete" if cpd.is_discrete else "continuous",
                     "states": list(cpd.domain) if cpd.is_discrete else None, "parents": list(cpd.parents),
                     "latent": cpd.latent, "fitted": cpd.is_fitted}
            if args.tables and cpd.is_fitted:
                entry["parameters"] = _parameters_json(cpd)
            nodes.append(entry)
        _print_json({"name": network.name, "nodes": nodes, "edges": [list(e) for e in network.edges],
                     "tied": [list(g) for g in network.tied_groups], "n_free_parameters": network.n_free_parameters,
                     "factorization": str(network.factorization())})
        return
    print(network)
    print(network.factorization().describe())
    if args.tables:
        for node in network.nodes:
            print()
            print(network[node] if network[node].is_fitted else f"{node}: no parameters (latent, to be fitted)")


def _parameters_json(cpd) -> dict:
    """A CPD's numbers: a discrete node's table (one row per parent configuration), or a Gaussian's."""
    if cpd.is_discrete:
        return {"table": np.asarray(cpd.table).tolist()}
    return {name: np.asarray(value).tolist() for name in ("weights", "intercept", "variance")
            if (value := getattr(cpd, name, None)) is not None}


def _cmd_factorize(args) -> None:
    factorization = _load(args.network).factorization()
    if args.json:
        _print_json({"factorization": str(factorization), "latex": factorization.latex()})
        return
    print(factorization.latex() if args.latex else factorization)


def _cmd_dsep(args) -> None:
    network = _load(args.network)
    # d-separation depends on which nodes are observed, not on their values: -e NODE or -e NODE=STATE
    given = list(dict.fromkeys(list(args.given) + list(_evidence_nodes(args.evidence))))
    trail = network.active_trail(args.x, args.y, given=given)
    if args.json:
        _print_json({"x": args.x, "y": args.y, "given": given, "d_separated": trail is None, "trail": trail})
        return
    shown = f" given {{{', '.join(given)}}}" if given else ""
    x, y = ", ".join(args.x), ", ".join(args.y)
    if trail is None:
        print(f"{{{x}}} and {{{y}}} are d-separated{shown}")
    else:
        print(f"{{{x}}} and {{{y}}} are d-connected{shown}; active trail: {' - '.join(trail)}")


def _cmd_blanket(args) -> None:
    network = _load(args.network)
    blanket = sorted(network.markov_blanket(args.node))
    if args.json:
        _print_json({"node": args.node, "markov_blanket": blanket})
        return
    print(" ".join(blanket))


def _cmd_sample(args) -> None:
    frame = _load(args.network).sample(args.n, seed=args.seed, progress=_progress_wanted(args))
    if args.json and _to_stdout(args.output):  # the rows themselves, as JSON records
        _write_text(None, frame.to_json(orient="records", indent=2) + "\n")
        return
    _write_frame(frame, args.output)
    if _to_stdout(args.output):
        return
    if args.json:
        _print_json({"rows": len(frame), "columns": list(frame.columns), "output": args.output})
    else:
        _note(args, f"wrote {len(frame):,} rows to {args.output}")


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
    # with the per-row values on standard output, the summary goes to standard error
    stream = sys.stderr if args.per_row == "-" else sys.stdout
    if args.json:
        print(json.dumps({"rows": rows, "mean_log_likelihood": mean, "bits_per_variable": bits}, indent=2),
              file=stream)
        return
    if args.quiet and stream is sys.stderr:
        return
    print(f"rows: {rows}", file=stream)
    print(f"mean log-likelihood: {mean:.6f} nats per row", file=stream)
    print(f"bits per variable: {bits:.6f}", file=stream)


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

    if args.per_row == "-":
        for number, frame in enumerate(frames()):
            frame.to_csv(sys.stdout, index=False, header=number == 0)
    elif args.per_row:
        write_csv_chunks(args.per_row, frames())
    else:
        for _ in frames():
            pass
    mean = total / count
    _report_score(args, count, mean, bits_per_variable(np.array([mean]), len(network)))


def _evidence_pairs(pairs) -> list[tuple[str, str | None]]:
    """``["X=a", "Y"]`` -> ``[("X", "a"), ("Y", None)]``; a node named twice is an error."""
    seen: dict[str, str] = {}
    out = []
    for pair in pairs or ():
        node, sep, value = pair.partition("=")
        if not node:
            raise ValueError(f"bad evidence {pair!r}: write NODE=STATE (or NODE=NUMBER for a continuous node)")
        if node in seen:
            raise ValueError(f"evidence names {node!r} twice ({seen[node]} and {pair}); give one value per node")
        seen[node] = pair
        out.append((node, value if sep else None))
    return out


def _evidence_nodes(pairs) -> list[str]:
    return [node for node, _ in _evidence_pairs(pairs)]


def _evidence(network, pairs) -> dict:
    """``["X=a", "Y=1.5"]`` -> ``{"X": "a", "Y": 1.5}`` (numbers for continuous nodes)."""
    evidence = {}
    for node, value in _evidence_pairs(pairs):
        if value is None:
            raise ValueError(f"bad evidence {node!r}: write NODE=STATE ({node}=STATE, or {node}=NUMBER for a "
                             "continuous node)")
        if node in network and not network[node].is_discrete:
            try:
                evidence[node] = float(value)
            except ValueError:
                raise ValueError(f"evidence {node}={value}: {node!r} is continuous, so its value must be a number") \
                    from None
        elif node in network:
            # the command line is text, like a CSV: a state is named by its str() (1, True)
            evidence[node] = next((state for state in network[node].domain if str(state) == value), value)
        else:
            evidence[node] = value
    return evidence


#: query methods that draw samples (they take --samples and --seed)
_SAMPLING_METHODS = ("importance", "gibbs", "likelihood_weighting")


def _cmd_query(args) -> None:
    network = _load(args.network)
    targets = args.target[0] if len(args.target) == 1 else args.target
    options = {} if args.method == "exact" else {"method": args.method}
    if args.method in _SAMPLING_METHODS:
        options.update(n_samples=args.samples, seed=args.seed)
    if args.data:
        if args.evidence:
            raise ValueError("give either -e/--evidence (one case) or --data (one case per row), not both")
        result = network.query(targets, evidence=_read_data(network, args.data), **options)
        discrete = all(network[t].is_discrete for t in ([targets] if isinstance(targets, str) else targets))
        if discrete:
            names = [targets] if isinstance(targets, str) else list(targets)
            result.columns = ["|".join(f"{n}={s}" for n, s in zip(names, c if isinstance(c, tuple) else (c,)))
                              for c in result.columns]
        else:
            result.columns = [".".join(map(str, c)) if isinstance(c, tuple) else
                              (f"{targets}.{c}" if isinstance(targets, str) else str(c)) for c in result.columns]
        result.insert(0, "row", np.arange(len(result)))  # the data row each answer is for (0 = first)
        if args.json:
            _write_text(args.output, result.to_json(orient="records", indent=2) + "\n")
        else:
            _write_frame(result, args.output)
        if not _to_stdout(args.output):
            _note(args, f"wrote {args.output}")
        return
    if args.output not in (None, "-"):
        raise ValueError("-o/--output goes with --data (a posterior per row); one case prints to standard output")
    result = network.query(targets, evidence=_evidence(network, args.evidence), **options)
    if args.json:
        _print_json(_posterior_json(result))
        return
    print(result)
    # the sampling and message-passing methods that do not estimate p(evidence) leave it NaN: say nothing
    if args.evidence and not np.isnan(getattr(result, "log_evidence", np.nan)):
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
        payload = {"variables": list(result.names), "mean": np.asarray(result.mean).tolist(),
                   "covariance": np.asarray(result.covariance).tolist(), "components": {
                       "labels": list(result.labels), "weights": result.weights.tolist(),
                       "means": result.means.tolist(), "covariances": result.covariances.tolist()}}
    log_evidence = getattr(result, "log_evidence", None)
    if log_evidence is not None:
        payload["log_evidence"] = None if np.isnan(log_evidence) else log_evidence  # JSON has no NaN
    return payload


def _cmd_mpe(args) -> None:
    network = _load(args.network)
    best = network.mpe(_evidence(network, args.evidence))
    if args.json:
        _print_json({"assignment": best.assignment, "log_probability": best.log_probability,
                     "log_probability_given_evidence": best.log_probability - best.log_evidence,
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
        if node not in network:
            raise ValueError(f"--latent {node}: {network.name!r} has no node {node!r}")
        cpd = network[node]
        if cpd.is_discrete:
            latent = pgm.Categorical.latent(cpd.states, parents=cpd.parents)
        else:
            latent = pgm.LinearGaussian.latent(parents=cpd.parents, features=cpd.features)
        network = network.with_cpd(node, latent)
    return network


_NETWORK_FORMATS = ("bif", "json")


def _check_network_output(args, network) -> str:
    """The format ``pgm fit``/``convert`` will write, checked before any work: the extension (or --format),
    the folder, and whether the format can hold the network (BIF is discrete only)."""
    output = args.output
    fmt = args.format
    _check_folder(output)
    if fmt is None:
        if _to_stdout(output):
            fmt = "json"
        else:
            fmt = Path(output).suffix.lstrip(".").lower()
            if fmt not in _NETWORK_FORMATS:
                raise ValueError(f"cannot write {output!r}: unknown network format {fmt!r}; name a .bif or .json "
                                 "file with -o (or give --format)")
    if fmt == "bif" and any(not network[node].is_discrete for node in network.nodes):
        continuous = next(node for node in network.nodes if not network[node].is_discrete)
        raise ValueError(f"cannot write {output or 'standard output'} as BIF: node {continuous!r} is continuous "
                         "and BIF holds discrete networks only; write JSON instead (-o FILE.json)")
    return fmt


def _check_folder(output: str | None) -> None:
    if _to_stdout(output):
        return
    if os.path.isdir(output):
        raise IsADirectoryError(21, "cannot write: it is a directory; -o names the file to write", output)
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, "cannot write: no such directory", folder)
    if not os.access(folder, os.W_OK):
        raise PermissionError(13, "cannot write: permission denied", folder)


def _write_network(network, output: str | None, fmt: str) -> None:
    if not _to_stdout(output):
        network.write(output, format=fmt)
        return
    with tempfile.TemporaryDirectory(prefix="pgm-") as folder:  # the writer's checks, then the bytes
        path = os.path.join(folder, f"network.{fmt}")
        network.write(path, format=fmt)
        with open(path, "rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer)
    sys.stdout.flush()


def _without_columns(args, data):
    """The data without the columns named by --drop, nor those of nodes declared --latent (which EM
    must not see: the file may hold the values the user wants to hide)."""
    latent = [n for n in args.latent or () if n not in (args.drop or ())]
    if isinstance(data, pd.DataFrame):
        for name in args.drop or ():
            if name not in data.columns:
                raise ValueError(f"--drop {name}: {args.data} has no column {name!r}")
        for name in latent:
            if name in data.columns:
                _note(args, f"note: ignoring the column {name!r} of {args.data}, since --latent {name} says "
                            "the node is never observed")
        dropped = [n for n in list(args.drop or ()) + latent if n in data.columns]
        return data.drop(columns=dropped) if dropped else data
    dropped = set(args.drop or ()) | set(latent)
    return _ScanWithout(data, dropped) if dropped else data


class _ScanWithout(pgm.io.Scan):
    """A chunked scan that never hands over some columns (nodes declared latent, --drop)."""

    def __init__(self, scan, dropped):
        super().__init__(scan.files, scan.format, scan.chunk_rows, scan.source)
        self._dropped = set(dropped)

    def frames(self, domains, numbers=()):
        wanted = {n: s for n, s in domains.items() if n not in self._dropped}
        yield from super().frames(wanted, [n for n in numbers if n not in self._dropped])


def _cmd_fit(args) -> None:
    network = _declare_latent(_load(args.network), args.latent or ())
    fmt = _check_network_output(args, network)  # before minutes of EM, not after
    data = _without_columns(args, _data_source(network, args.data, args.chunk_rows))
    progress = _progress_wanted(args)
    lines = not progress and not args.quiet and args.progress is not False
    restart = {"number": 0}

    def trace(iteration, log_likelihood, _network):
        if iteration == 0:
            restart["number"] += 1
        if lines:
            start = f"EM start {restart['number']} of {args.n_init}, " if args.n_init > 1 else "EM "
            print(f"{start}iteration {iteration}: mean log-likelihood {log_likelihood:.6f} nats per row",
                  file=sys.stderr)

    fitted = network.fit(data, prior=_prior(args.prior, network), max_iter=args.max_iter, tol=args.tol,
                         n_init=args.n_init, init=args.init, seed=args.seed, progress=progress, callback=trace)
    _write_network(fitted, args.output, fmt)
    report = getattr(fitted, "fit_report_", None)
    if args.json:
        payload = {"output": None if _to_stdout(args.output) else args.output, "format": fmt}
        if report is not None:
            payload["em"] = {"converged": report.converged, "n_iter": report.n_iter, "n_rows": report.n_rows,
                             "log_likelihood": report.log_likelihood, "restarts": report.restarts,
                             "best_init": report.best_init}
        print(json.dumps(payload, indent=2, default=_json_value), file=sys.stderr if _to_stdout(args.output)
              else sys.stdout)
        return
    if report is not None:
        _note(args, repr(report))
    if not _to_stdout(args.output):
        _note(args, f"wrote {args.output}")


def _cmd_convert(args) -> None:
    args.output = _output(args)
    network = _load(args.network)
    fmt = _check_network_output(args, network)
    _write_network(network, args.output, fmt)
    if args.json and not _to_stdout(args.output):
        _print_json({"output": args.output, "format": fmt})
    elif not _to_stdout(args.output):
        _note(args, f"wrote {args.output}")


def _cmd_render(args) -> None:
    from pgm.render import render_bytes

    network = _load(args.network)
    pairs = _evidence_pairs(args.evidence)
    observed = list(dict.fromkeys(list(args.observed) + [node for node, _ in pairs]))
    evidence = _evidence(network, [f"{n}={v}" for n, v in pairs if v is not None])
    if args.posteriors and len(evidence) < len(pairs):
        bare = next(n for n, v in pairs if v is None)
        raise ValueError(f"--posteriors needs a value for each observed node: -e {bare}=STATE")
    trail = None
    if args.trail:
        trail = network.active_trail(args.trail[0], args.trail[1], given=observed)
        if trail is None:
            given = f" given {{{', '.join(observed)}}}" if observed else ""
            warnings.warn(f"{args.trail[0]} and {args.trail[1]} are d-separated{given}: there is no active "
                          "trail to highlight", pgm.errors.PGMWarning, stacklevel=1)
    args.output = _output(args)
    fmt = args.format or ("svg" if _to_stdout(args.output) else
                          (Path(args.output).suffix.lstrip(".").lower() or "svg"))
    _check_folder(args.output)
    options = {"observed": observed, "latent": args.latent, "trail": trail,
               "show_distributions": args.distributions, "size": args.size, "dpi": args.dpi}
    if args.posteriors:
        options.update(evidence=evidence, posteriors=True)
    data = render_bytes(network, fmt, name=args.output or "standard output", **options)
    if _to_stdout(args.output):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from pgm.io._files import write_bytes_atomically

    write_bytes_atomically(args.output, data)
    if args.json:
        _print_json({"output": args.output, "format": fmt, "bytes": len(data)})
    else:
        _note(args, f"wrote {args.output}")


def _output(args) -> str | None:
    """The file to write: ``-o/--output``, or the positional OUTPUT that older command lines give."""
    if args.output and args.output_positional and args.output != args.output_positional:
        raise ValueError(f"two output files given ({args.output_positional} and {args.output}); give one, with -o")
    return args.output or args.output_positional


def _progress_wanted(args) -> bool:
    """--progress / --no-progress, or by default a bar when standard error is a terminal and tqdm is installed."""
    if getattr(args, "quiet", False) and not args.progress:
        return False
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
    """A non-negative whole number (a row count, a seed), written ``1000000``, ``1_000_000`` or ``1e6``;
    argparse reports anything else as a usage error."""
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}") from None
        if not np.isfinite(number) or not number.is_integer():
            raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}") from None
        value = int(number)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative whole number, got {text!r}")
    return value


def _positive(text: str) -> int:
    """A positive integer option (rows per chunk, restarts)."""
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected a positive whole number, got 0")
    return value


def _real(text: str) -> float:
    """A finite real number option (a tolerance, a size)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


#: One example per subcommand (or a few), shown by ``pgm COMMAND --help`` and in docs/cli.md.
EXAMPLES = {
    "info": ["pgm info asia", "pgm info alarm --json", "pgm info asia --tables"],
    "factorize": ["pgm factorize asia", "pgm factorize asia --latex"],
    "dsep": ["pgm dsep asia -x asia -y smoke -e dysp",
             "pgm dsep asia --first tub --second bronc --given smoke --json"],
    "blanket": ["pgm blanket asia either"],
    "sample": ["pgm sample alarm -n 1e5 --seed 1 -o rows.csv", "pgm sample asia -n 1000 | pgm score asia -"],
    "query": ["pgm query asia lung -e xray=yes smoke=no", "pgm query alarm HYPOVOLEMIA --data rows.csv -o posteriors.csv",
              "pgm query asia lung either -e dysp=yes --json"],
    "mpe": ["pgm mpe asia -e xray=yes dysp=yes"],
    "score": ["pgm score alarm rows.csv", "pgm score alarm rows.csv --chunk-rows 10000 --per-row ll.csv"],
    "fit": ["pgm fit alarm rows.csv -o fitted.bif --prior bdeu:10",
            "pgm fit alarm rows.csv -o fitted.json --latent LVFAILURE --n-init 3 --seed 0"],
    "convert": ["pgm convert asia -o asia.json", "pgm convert asia --format bif > asia.bif"],
    "render": ["pgm render asia -o asia.svg -e dysp=yes --trail asia smoke",
               "pgm render asia -o asia.png -e xray=yes --posteriors --dpi 150"],
}
EXAMPLES["learn"] = _learn_examples  # structure learning (pgm/structure/cli.py)
EXAMPLES["sequences"] = _sequences_examples  # dynamic networks on long files (pgm/dynamic/cli.py)


def build_parser() -> argparse.ArgumentParser:
    """The ``pgm`` parser.  To add a subcommand: write ``_cmd_NAME(args)``, add its examples to
    :data:`EXAMPLES`, and register it below with ``sub = command("NAME", _cmd_NAME, "help")`` (which gives it
    NETWORK, ``-q/--quiet`` and ``--json``) plus ``evidence_option``/``output_option``/``progress_option``
    as it needs; docs/cli.md is regenerated from this parser (:func:`markdown_reference`)."""
    parser = argparse.ArgumentParser(prog="pgm", description="Bayesian networks: inspect, query, sample, score, fit.")
    parser.add_argument("--version", action="version", version=f"pgm {pgm.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, function, help_text, *, json_result=True):
        """A subcommand with the options every command shares: NETWORK, -q/--quiet and (by default) --json."""
        epilog = "example" + ("s" if len(EXAMPLES[name]) > 1 else "") + ":\n" + "\n".join(
            f"  {line}" for line in EXAMPLES[name])
        sub = commands.add_parser(name, help=help_text, description=help_text, epilog=epilog,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        sub.add_argument("network", help="a .bif or .json file, or a bundled network name")
        sub.add_argument("-q", "--quiet", action="store_true",
                         help="print only the result and errors (no notes, no progress)")
        if json_result:
            sub.add_argument("--json", action="store_true", help="print the result as JSON, for scripts")
        sub.set_defaults(function=function, json=False)
        return sub

    def evidence_option(sub, help_text="observed values (NODE=STATE, NODE=NUMBER)"):
        sub.add_argument("-e", "--evidence", nargs="*", default=[], metavar="NODE=STATE", help=help_text)

    def output_option(sub, help_text, *, positional=False):
        if positional:  # the positional form is kept for old scripts
            sub.add_argument("output_positional", nargs="?", metavar="OUTPUT", help=argparse.SUPPRESS)
        sub.add_argument("-o", "--output", help=help_text + " (default or -: standard output)")

    def progress_option(sub):
        sub.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                         help="progress bar (default: on a terminal, when tqdm is installed)")

    sub = command("info", _cmd_info, "show the network's nodes, states, parents, factorisation and parameter counts")
    sub.add_argument("--tables", action="store_true", help="also print every node's parameters (CPD tables)")
    sub = command("factorize", _cmd_factorize, "print the factorisation p(x1..xn) = prod p(xi | parents)")
    sub.add_argument("--latex", action="store_true", help="as LaTeX")
    sub = command("dsep", _cmd_dsep, "test d-separation; print an active trail when dependent")
    sub.add_argument("-x", "--first", dest="x", nargs="+", required=True, metavar="NODE", help="first node set")
    sub.add_argument("-y", "--second", dest="y", nargs="+", required=True, metavar="NODE", help="second node set")
    evidence_option(sub, "observed nodes (NODE or NODE=STATE; only which nodes are observed matters)")
    sub.add_argument("-g", "--given", nargs="*", default=[], metavar="NODE", help="observed nodes (as -e)")
    sub = command("blanket", _cmd_blanket, "print a node's Markov blanket")
    sub.add_argument("node")
    sub = command("sample", _cmd_sample, "draw rows by ancestral sampling (CSV)")
    sub.add_argument("-n", "--rows", dest="n", type=_count, required=True, help="number of rows (1000, 1_000, 1e3)")
    sub.add_argument("--seed", type=_count, default=None, help="seed: the same seed gives the same rows")
    output_option(sub, "CSV file")
    progress_option(sub)
    sub = command("query", _cmd_query, "posterior of target nodes given evidence (one case, or per row of a CSV)")
    sub.add_argument("target", nargs="+", help="node(s) to query; several give their joint")
    evidence_option(sub)
    sub.add_argument("--data", metavar="CSV", help="one case per row (empty cell = unobserved; - = standard "
                     "input); prints a CSV of posteriors, a column per state (lung=yes) and the row number")
    output_option(sub, "with --data: where to write the posteriors")
    sub.add_argument("--method", choices=["exact", "auto", "ijgp", "loopy_bp", *_SAMPLING_METHODS], default="exact",
                     help="exact (the default); auto: exact when it fits the memory budget, else approximate; "
                     "ijgp / loopy_bp: message passing; importance / gibbs / likelihood_weighting: sampling")
    sub.add_argument("--samples", type=_count, default=100_000, help="samples for the sampling methods")
    sub.add_argument("--seed", type=_count, default=None, help="seed for the sampling methods")
    sub = command("mpe", _cmd_mpe, "most probable joint state of the unobserved discrete nodes")
    evidence_option(sub)
    sub = command("score", _cmd_score, "log-likelihood of a CSV data set (empty cells are summed out)")
    sub.add_argument("data", help="CSV or Parquet (file, directory or pattern; - = standard input) with a column "
                     "per observed node; empty cells are missing values")
    sub.add_argument("-o", "--output", "--per-row", dest="per_row", metavar="CSV",
                     help="also write each row's log-likelihood here (-: standard output, the summary then "
                     "goes to standard error)")
    progress_option(sub)
    sub.add_argument("--chunk-rows", type=_positive, metavar="N",
                     help="read N rows at a time, in bounded memory (always so for Parquet)")
    sub = command("fit", _cmd_fit, "fit the network's CPDs to a CSV data set")
    sub.add_argument("data", help="CSV or Parquet (file, directory or pattern; - = standard input) with a "
                     "column per node")
    sub.add_argument("--chunk-rows", type=_positive, metavar="N",
                     help="read N rows at a time, in bounded memory (always so for Parquet)")
    output_option(sub, "where to write the fitted network (.bif or .json; checked before fitting)")
    sub.add_argument("--format", choices=_NETWORK_FORMATS, help="file format (default: from the -o extension; "
                     "json on standard output)")
    sub.add_argument("--prior", help="dirichlet:ALPHA, bdeu:ESS, ridge:ALPHA or invgamma:SCALE")
    sub.add_argument("--latent", nargs="*", default=[], metavar="NODE",
                     help="nodes to treat as latent (never observed); a column for one in the data is ignored")
    sub.add_argument("--drop", nargs="*", default=[], metavar="COLUMN", help="columns of the data to ignore")
    sub.add_argument("--max-iter", type=_count, default=100, help="EM iterations at most (default 100)")
    sub.add_argument("--tol", type=_real, default=1e-6, help="EM stops when the mean log-likelihood gains less")
    sub.add_argument("--n-init", type=_positive, default=1, help="EM random starts; the best is kept")
    sub.add_argument("--init", choices=["random", "kmeans++", "current"], default="random", help="EM starting point")
    sub.add_argument("--seed", type=_count, default=None, help="seed for EM's random starts")
    sub.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bar (default: on a terminal, when tqdm is installed; otherwise a line per EM "
                     "iteration on standard error, which --no-progress silences)")
    sub = command("convert", _cmd_convert, "write the network in another format (by extension, or --format)")
    output_option(sub, "the file to write: .bif or .json", positional=True)
    sub.add_argument("--format", choices=_NETWORK_FORMATS, help="file format (default: from the -o extension; "
                     "json on standard output)")
    sub = command("render", _cmd_render, "draw the network with Graphviz (svg, png, pdf)")
    output_option(sub, "the image to write: .svg, .png or .pdf", positional=True)
    sub.add_argument("--format", help="image format (default: from the -o extension; svg on standard output)")
    evidence_option(sub, "observed nodes, shaded (NODE, or NODE=STATE for --posteriors)")
    sub.add_argument("--observed", nargs="*", default=[], help="nodes to shade (as -e NODE)")
    sub.add_argument("--latent", nargs="*", default=[], help="nodes to dash")
    sub.add_argument("--trail", nargs=2, metavar=("X", "Y"), help="highlight an active trail given the evidence")
    sub.add_argument("--distributions", action="store_true", help="show each node's distribution")
    sub.add_argument("--posteriors", action="store_true",
                     help="draw each node's posterior given the evidence (bars; mean ± sd for Gaussian nodes)")
    sub.add_argument("--size", metavar="W,H", help="largest size in inches, e.g. 8,6 (Graphviz scales down to fit)")
    sub.add_argument("--dpi", type=_positive, help="resolution of .png images (dots per inch)")
    add_learn_command(commands, EXAMPLES["learn"])  # structure learning: its options live in pgm/structure/cli.py
    add_sequences_command(commands, EXAMPLES["sequences"])  # dynamic networks: options in pgm/dynamic/cli.py
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


#: Library phrases that name Python API, and what the command line calls the same thing.
_CLI_WORDS = (
    ("(or pass format=)", "(or give --format)"),
    ("declare it observed (without .latent) or drop the column", "leave it out of --latent, or --drop the column"),
    ("A prior (e.g. prior=Dirichlet(1)) gives", "A prior (--prior dirichlet:1) gives"),
    ("for one case use query()", "for one case use pgm query -e"),
    ("raise max_iter or tol", "raise --max-iter or --tol"),
    (" > tol=", " > --tol "),
)


def _cli_message(text: str) -> str:
    """A message in the command line's words: temporary copies of standard input by the name the user
    gave (``<stdin>``), and API spellings (``format=``, ``.latent``) by the options that do the same."""
    text = str(text)
    for copy, shown in _SHOWN_AS.items():
        text = text.replace(copy, shown)
    for api, cli in _CLI_WORDS:
        text = text.replace(api, cli)
    return text


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"pgm: warning: {_one_line(_cli_message(message))}", file=sys.stderr)


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
            message = _cli_message(_describe(error))
            data = getattr(args, "data", None)
            data = "<stdin>" if data == "-" else data
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
