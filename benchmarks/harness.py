"""The shared harness of the benchmarks: optional peers, timing, result rows and the markdown table.

Every area module (model.py, inference.py, em.py, information.py,
classifier.py, scale.py) imports from here; run.py runs them all.
"""

from __future__ import annotations

import importlib
import logging
import statistics
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

import pgm

PEERS = ("pgmpy", "pyAgrum", "pyAgrum draw only", "networkx")
NA = "—"  # the peer has no counterpart for this row
MISSING = "not installed"


# ---------------------------------------------------------------------------- set-up
def optional_import(*names):
    """The first of ``names`` that imports, or None."""
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def quiet_peers() -> None:
    """Silence the peers' deprecation warnings and logging (pgmpy's progress bars are switched off below)."""
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="pgmpy")
    logging.getLogger("pgmpy").setLevel(logging.ERROR)


quiet_peers()  # before the imports: pgmpy warns while importing
# pyAgrum >= 2 is imported as `pyagrum`; older releases as `pyAgrum`.
gum = optional_import("pyagrum", "pyAgrum")
pgmpy = optional_import("pgmpy")
if pgmpy is not None:
    from pgmpy import config as _pgmpy_config

    _pgmpy_config.set_show_progress(False)


# ---------------------------------------------------------------------------- timing and results
def timed_calls(function, repeat: int, setup=None, slow: float | None = None):
    """Median wall time of ``repeat`` calls, every call's time, and the last call's result.

    ``setup`` (untimed) runs before every call and its result is passed to
    ``function``; use it for things a call consumes, like a fresh model.
    With ``slow``, a call longer than ``slow`` seconds ends the repeats (for
    peers that take minutes).
    """
    times, result = [], None
    for _ in range(max(1, repeat)):
        argument = setup() if setup else None
        start = time.perf_counter()
        result = function(argument) if setup else function()
        times.append(time.perf_counter() - start)
        if slow is not None and times[-1] > slow:
            break
    return statistics.median(times), times, result


def measure(function, repeat: int, setup=None):
    """Median wall time of ``repeat`` calls, and the last call's result (see :func:`timed_calls`)."""
    median, _, result = timed_calls(function, repeat, setup)
    return median, result


@dataclass
class Row:
    task: str
    n: str
    pgm: float
    peers: dict = field(default_factory=dict)  # peer -> seconds, or a note such as NA / MISSING
    estimated: set = field(default_factory=set)  # peers whose time is extrapolated from a subset
    first: float | None = None  # pgm's first (cold) call, shown when it is > 1.5x the median

    def pgm_cell(self) -> str:
        cell = format_seconds(self.pgm)
        if self.first is not None and self.first > 1.5 * self.pgm:
            cell += f" (first {format_seconds(self.first)})"
        return cell

    def cell(self, peer: str) -> str:
        value = self.peers.get(peer, NA)
        if isinstance(value, str):
            return value
        return ("~" if peer in self.estimated else "") + format_seconds(value)

    def ratio(self, peer: str) -> str:
        value = self.peers.get(peer)
        if not isinstance(value, float) or not self.pgm:
            return NA
        return ("~" if peer in self.estimated else "") + format_ratio(value / self.pgm)


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    if seconds < 100:
        return f"{seconds:.2f} s"
    return f"{seconds:,.0f} s"


def format_ratio(ratio: float) -> str:
    if ratio >= 100:
        return f"{ratio:,.0f}×"
    if ratio >= 10:
        return f"{ratio:.1f}×"
    return f"{ratio:.2f}×"


def peer_status(**modules) -> dict:
    """MISSING for every named peer whose module is None (``scikit_learn`` is spelt ``scikit-learn``)."""
    return {name.replace("_", "-"): MISSING for name, module in modules.items() if module is None}


def print_table(rows: list[Row], all_peers=PEERS) -> None:
    peers = [p for p in all_peers if any(p in row.peers for row in rows)]
    header = ["task", "N", "pgm"] + peers + [f"{p}/pgm" for p in peers]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        cells = [row.task, row.n, row.pgm_cell()]
        cells += [row.cell(p) for p in peers] + [row.ratio(p) for p in peers]
        print("| " + " | ".join(cells) + " |")


def target_line(what: str, seconds: float, limit: float) -> str:
    verdict = "met" if seconds < limit else "MISSED"
    return f"target: {what} in < {format_seconds(limit)}: {format_seconds(seconds)} -> {verdict}"


def pgm_only_target(task: str, what: str, n: int, work, limit: float, repeat: int, checks: list) -> Row:
    """A pgm-only row at the issue's target size, with its target verdict added to ``checks``."""
    row = Row(f"{task} (pgm only)", f"{n:,}", 0.0)
    row.pgm, _ = measure(work, repeat)
    checks.append(target_line(f"{what} {n:,} rows", row.pgm, limit))
    return row


# ---------------------------------------------------------------------------- the peers' models
def pgmpy_discrete(name: str):
    from pgmpy.models import DiscreteBayesianNetwork

    return DiscreteBayesianNetwork.load(str(pgm.datasets.path(name)), filetype="bif")


def pyagrum_discrete(net, name: str | None = None):
    """pyAgrum's copy of ``net``, with pgm's float64 tables.

    pyAgrum's BIF reader rounds probabilities to single precision (0.97 is
    read as 0.9700000286), so the tables are copied from pgm to score the
    exact same model.  ``name`` is the bundled network to load (default ``net.name``).
    """
    bn = gum.loadBN(str(pgm.datasets.path(name or net.name)))
    for node in net.nodes:
        cpd, tensor = net[node], bn.cpt(node)
        axes = list(cpd.parents) + [node]  # pgm's table axes
        # a pyAgrum tensor's flat order has its first variable varying fastest
        table = np.transpose(cpd.table, [axes.index(v) for v in reversed(list(tensor.names))])
        tensor.fillWith(table.ravel().tolist())
    return bn


def pyagrum_table(bn, node: str, parents) -> np.ndarray:
    """A pyAgrum CPT as an array with pgm's axis order (*parents, node)."""
    return bn.cpt(node).reorganize([node] + list(reversed(parents))).toarray()


def pgmpy_table(cpd, net, node: str) -> np.ndarray:
    """A pgmpy TabularCPD as an array with pgm's axis and state order."""
    values = cpd.values  # axes: cpd.variables = [node, *evidence]
    for axis, var in enumerate(cpd.variables):
        order = [cpd.state_names[var].index(s) for s in net.states(var)]
        values = np.take(values, order, axis=axis)
    axes = [cpd.variables.index(v) for v in list(net[node].parents) + [node]]
    return np.transpose(values, axes)
