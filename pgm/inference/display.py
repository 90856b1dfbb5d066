"""How inference results look in Jupyter: HTML tables with a caption that says what was asked.

Every result object (a discrete posterior, a normal distribution, a mixture,
an MPE assignment, the posteriors of every node) renders as one HTML table
whose caption reads like the probability it holds, ``p(lung | xray=yes,
smoke=no)``, with every number in one format: four significant digits,
switching to scientific notation only for values a fixed format would show
as zero (``0.1423``, ``1``, ``1.324e-163`` -- never ``1.000000`` beside
``1.323863e-163``).  Text that is meant to be read (``describe()``) is a
:class:`Text`, which notebooks show as text rather than as a quoted string
with ``\\n`` in it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["Text", "Posteriors", "format_number", "caption", "note_evidence", "html_table"]


class Text(str):
    """A string that notebooks and the REPL show as its text, line breaks and all.

    Examples
    --------
    >>> Text("a\\nb")
    a
    b
    """

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython
        printer.text(str(self))


def format_number(value) -> str:
    """Four significant digits; scientific notation only where a fixed format would hide the value.

    Examples
    --------
    >>> [format_number(v) for v in (1.0, 0.142318, 1.323863e-163, 0.0, 1234.5678)]
    ['1', '0.1423', '1.324e-163', '0', '1235']
    """
    value = float(value)
    if value == 0 or not np.isfinite(value):
        return f"{value:g}"
    if 1e-4 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.4g}" if "e" in f"{value:.4g}" else f"{value:.3e}"


def _state_text(value) -> str:
    if isinstance(value, (float, np.floating)):
        return format_number(value)
    return str(value.item() if isinstance(value, np.generic) else value)


def caption(targets, given: Mapping | None) -> str:
    """``p(lung | xray=yes, smoke=no)``; ``p(lung | evidence)`` when the evidence is not known.

    Examples
    --------
    >>> caption(["lung"], {"xray": "yes", "smoke": "no"})
    'p(lung | xray=yes, smoke=no)'
    >>> caption(["x", "y"], {})
    'p(x, y)'
    """
    left = ", ".join(map(str, targets))
    if given is None:
        return f"p({left} | evidence)"
    if not given:
        return f"p({left})"
    return f"p({left} | {', '.join(f'{node}={_state_text(value)}' for node, value in given.items())})"


def _observed(evidence) -> dict | None:
    """The observed part of one case's evidence, for a caption; None when it is not one case."""
    if evidence is None:
        return {}
    if isinstance(evidence, pd.Series):
        evidence = evidence.to_dict()
    if not isinstance(evidence, Mapping):
        return None
    given = {}
    for node, value in evidence.items():
        if isinstance(value, Mapping):
            given[node] = "soft"  # soft evidence: a likelihood over the states
        elif value is None or (isinstance(value, (float, np.floating)) and np.isnan(value)):
            continue
        elif np.ndim(value) != 0:
            return None  # columns of many cases
        else:
            given[node] = value
    return given


def note_evidence(result, evidence):
    """``result`` with the evidence it answers recorded for its caption (one case only); returns it."""
    given = _observed(evidence)
    if given is not None and hasattr(result, "__dict__") and not isinstance(result, (pd.DataFrame, pd.Series)):
        try:
            result.given = given
        except AttributeError:  # a frozen result: no caption, no harm
            pass
    return result


def html_table(frame: pd.DataFrame, title: str, *, index: bool = True, note: str | None = None) -> str:
    """``frame`` as an HTML table with ``title`` as its caption and every number in one format."""
    text = frame.to_html(index=index, float_format=format_number, border=0, na_rep="",
                         classes="pgm-result")
    head = f'<caption style="caption-side: top; text-align: left"><b>{html.escape(title)}</b>'
    if note:
        head += f"<br><small>{html.escape(note)}</small>"
    head += "</caption>"
    start = text.index(">") + 1  # after the opening <table ...>
    return text[:start] + head + text[start:]


def normal_html(names, mean, covariance, title: str) -> str:
    """A normal distribution: mean and sd per variable, then the covariance matrix."""
    names = list(names)
    mean, covariance = np.asarray(mean, dtype=float), np.asarray(covariance, dtype=float)
    frame = pd.DataFrame({"mean": mean, "sd": np.sqrt(np.clip(np.diag(covariance), 0, None))},
                         index=pd.Index(names, name="variable"))
    if len(names) > 1:
        for j, name in enumerate(names):
            frame[f"cov({name})"] = covariance[:, j]
    return html_table(frame, title)


def mixture_html(mixture, title: str) -> str:
    """A mixture of Gaussians: weight, mean and sd of every component, then the mixture's own."""
    rows = []
    for weight, label, mean, cov in zip(mixture.weights, mixture.labels, mixture.means, mixture.covariances):
        row = {"component": label, "weight": weight}
        for k, name in enumerate(mixture.names):
            row[f"mean {name}"] = mean[k]
            row[f"sd {name}"] = np.sqrt(max(cov[k, k], 0.0))
        rows.append(row)
    overall = {"component": "mixture", "weight": float(np.sum(mixture.weights))}
    total_mean, total_cov = np.asarray(mixture.mean), np.asarray(mixture.covariance)
    for k, name in enumerate(mixture.names):
        overall[f"mean {name}"] = total_mean[k]
        overall[f"sd {name}"] = np.sqrt(max(total_cov[k, k], 0.0))
    rows.append(overall)
    return html_table(pd.DataFrame(rows), title, index=False)


class Posteriors(dict):
    """Every node's posterior for one case (a dict: node -> distribution), shown as one tidy table.

    ``to_frame()`` gives the table: one row per discrete node and state
    (``node``, ``state``, ``probability``) and one per continuous node
    (``mean``, ``sd``).

    Examples
    --------
    >>> import pgm
    >>> marginals = pgm.load("asia").posteriors({"xray": "yes"})
    >>> round(float(marginals.to_frame().loc[("lung", "yes"), "probability"]), 4)
    0.4887
    """

    given: dict | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per (node, state) with its probability; continuous nodes with their mean and sd."""
        rows = []
        for node, posterior in self.items():
            if hasattr(posterior, "probabilities"):
                for state, p in zip(posterior.states[node], np.ravel(posterior.probabilities)):
                    rows.append({"node": node, "state": state, "probability": p, "mean": np.nan, "sd": np.nan})
            else:
                mean = np.asarray(posterior.mean, dtype=float).ravel()
                cov = np.asarray(posterior.covariance, dtype=float)
                rows.append({"node": node, "state": "", "probability": np.nan, "mean": mean[0],
                             "sd": float(np.sqrt(max(cov.reshape(len(mean), len(mean))[0, 0], 0.0)))})
        frame = pd.DataFrame(rows, columns=["node", "state", "probability", "mean", "sd"]).set_index(["node", "state"])
        return frame.dropna(axis=1, how="all")

    def _repr_html_(self) -> str:
        return html_table(self.to_frame(), caption(["each node"], self.given).replace("p(each node", "p(node"))

    def __repr__(self) -> str:
        return f"Posteriors({len(self)} nodes)\n{self.to_frame().to_string(float_format=format_number)}"


def trace_svg(values, *, width: int = 320, height: int = 120) -> str:
    """A small inline SVG line of ``values`` (EM's log-likelihood per iteration), with its range labelled."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return ""
    low, high = float(values.min()), float(values.max())
    span = high - low or 1.0
    margin = 8
    xs = margin + (width - 2 * margin) * (np.arange(len(values)) / max(len(values) - 1, 1))
    ys = margin + (height - 2 * margin) * (1 - (values - low) / span)
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
            f"<title>mean log-likelihood per row by iteration, {format_number(low)} to {format_number(high)}</title>"
            f'<polyline fill="none" stroke="#4c72b0" stroke-width="2" points="{points}"/>'
            f'<text x="{margin}" y="{height - 1}" font-size="10">iteration 0</text>'
            f'<text x="{width - margin}" y="{height - 1}" font-size="10" text-anchor="end">{len(values) - 1}</text>'
            f'<text x="{margin}" y="10" font-size="10">{html.escape(format_number(high))}</text></svg>')


def fit_report_html(report) -> str:
    """EM's report: a table of what happened, then the log-likelihood curve."""
    trace = list(report.log_likelihood)
    rows = {"rows": f"{report.n_rows:,}", "iterations": report.n_iter, "converged": report.converged,
            "mean log-likelihood per row, start": format_number(trace[0]) if trace else "",
            "mean log-likelihood per row, end": format_number(trace[-1]) if trace else "",
            "starts (init)": f"{len(report.restarts)} ({report.init})", "best start": report.best_init}
    if report.seconds_per_iteration:
        rows["ms per iteration"] = format_number(1000 * float(np.mean(report.seconds_per_iteration)))
    frame = pd.DataFrame({"value": list(rows.values())}, index=pd.Index(list(rows), name="EM"))
    return html_table(frame, "EM fit report") + trace_svg(trace)
