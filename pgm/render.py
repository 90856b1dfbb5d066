"""Diagrams of networks with Graphviz.

Discrete nodes are ellipses and continuous nodes rounded boxes; observed
nodes are shaded and latent nodes dashed, as in the plate-notation
convention; an active trail (see :meth:`pgm.DAG.active_trail`) can be
highlighted.  Given evidence, ``posteriors=True`` draws every node with its
posterior given the evidence -- a bar per state for discrete nodes, mean ± sd
for Gaussian ones -- and each observed node with its observed value.
``size``/``ratio`` bound large diagrams, and in Jupyter the SVG scales down
to the width of the output area.  Rendering to SVG/PNG needs Graphviz's ``dot`` program
(Debian/Ubuntu: ``apt-get install graphviz``); building the
:class:`graphviz.Digraph` does not.

Node names are data, never DOT syntax: an identifier is quoted (so ``gene:A``
is one node, not node ``gene`` at port ``A``), and labels are HTML-like
labels with ``<``, ``>`` and ``&`` escaped (so ``<b>x</b>`` is drawn as
written, not in bold).  When a name holds a backslash or a control
character, which a DOT string cannot carry faithfully, nodes get numbered
identifiers instead and the names live only in the labels.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from pgm.errors import NodeError

__all__ = ["to_graphviz", "render", "render_bytes"]

#: What to do when Graphviz's ``dot`` program is missing, said once per process in Jupyter.
INSTALL_DOT = ("Graphviz's dot program is not installed, so the diagram cannot be drawn; install it "
               "(Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; conda: "
               "conda install graphviz)")
_BAR = "#4c72b0"
_BAR_WIDTH = 60

_HIGHLIGHT = "#d62728"
_RANKDIRS = ("TB", "LR", "BT", "RL")
_PLAIN_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DOT_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_UNSAFE_IN_STRING = re.compile(r"[\\\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _graphviz():
    try:
        import graphviz
    except ImportError:  # pragma: no cover - graphviz is a dependency; this guards broken installs
        raise ImportError("drawing networks needs the 'graphviz' Python package: pip install graphviz") from None
    return graphviz


def _as_set(nodes) -> set[str]:
    if nodes is None:
        return set()
    return {nodes} if isinstance(nodes, str) else set(nodes)


def to_graphviz(
    network,
    *,
    observed: Iterable[str] | str | None = None,
    latent: Iterable[str] | str | None = None,
    trail: Sequence[str] | None = None,
    show_distributions: bool = False,
    rankdir: str = "TB",
    evidence=None,
    posteriors: bool = False,
    size=None,
    ratio: str | None = None,
    dpi: float | None = None,
):
    """A :class:`graphviz.Digraph` of ``network`` (a BayesianNetwork or a DAG).

    Parameters
    ----------
    observed : node or nodes, optional
        Drawn shaded.
    latent : node or nodes, optional
        Drawn dashed.
    trail : sequence of str, optional
        A trail (e.g. from ``active_trail``) whose nodes and edges are highlighted.
    show_distributions : bool, default False
        Add each node's distribution (``describe()``) to its label.
    rankdir : {"TB", "LR", "BT", "RL"}
        Graphviz layout direction.
    evidence : dict, optional
        One case's observed values (``{"xray": "yes"}``): those nodes are
        drawn shaded, with their value.
    posteriors : bool, default False
        Draw each unobserved node's posterior given ``evidence``: a bar and
        a probability per state for a discrete node, mean ± sd for a
        Gaussian one (one calibration, :meth:`~pgm.BayesianNetwork.posteriors`).
    size : str or (float, float), optional
        Largest drawing in inches, ``"8,6"`` or ``(8, 6)``; larger diagrams
        are scaled down to fit.
    ratio : str, optional
        Graphviz's aspect ratio control (``"compress"``, ``"fill"``, a number).
    dpi : float, optional
        Resolution of bitmap output (PNG).

    Examples
    --------
    >>> import pgm
    >>> from pgm.render import to_graphviz
    >>> asia = pgm.load("asia")
    >>> trail = asia.active_trail("asia", "smoke", given="dysp")
    >>> graph = to_graphviz(asia, observed=["dysp"], trail=trail)
    >>> "dysp" in graph.source
    True
    >>> drawn = to_graphviz(asia, evidence={"xray": "yes"}, posteriors=True)
    >>> "xray = yes" in drawn.source and "lung" in drawn.source
    True
    """
    graphviz = _graphviz()
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {list(_RANKDIRS)}, got {rankdir!r}")
    dag = getattr(network, "dag", network)
    observed, latent = _as_set(observed), _as_set(latent)
    evidence = dict(evidence or {})
    observed |= set(evidence)
    for node in observed | latent | set(trail or ()):
        if node not in dag:
            raise NodeError(dag._unknown_node_message(node))
    trail = list(trail or ())
    trail_edges = {frozenset(pair) for pair in zip(trail, trail[1:])}
    name = _UNSAFE_IN_STRING.sub("_", str(getattr(network, "name", "dag")))
    graph = graphviz.Digraph(name=graphviz.nohtml(name), graph_attr={"rankdir": rankdir, **_layout(size, ratio, dpi)})
    graph.attr("node", fontname="Helvetica", fontsize="12")
    marginals = _posteriors(network, evidence) if posteriors else {}
    ids = _node_ids(dag.nodes)
    for node in dag.nodes:
        cpd = network[node] if hasattr(network, "cpds") else None
        continuous = cpd is not None and not cpd.is_discrete
        attributes = {"shape": "box" if continuous else "ellipse"}
        styles = ["rounded"] if continuous else []
        if node in observed:
            styles.append("filled")
            attributes["fillcolor"] = "#d9d9d9"
        if node in latent or (cpd is not None and cpd.latent):  # declared latent nodes are always dashed
            styles.append("dashed")
        if node in trail:
            attributes.update(color=_HIGHLIGHT, penwidth="2")
        if styles:
            attributes["style"] = ",".join(styles)
        lines = [node if node not in evidence else f"{node} = {evidence[node]}"]
        if show_distributions and cpd is not None:
            lines += cpd.describe().split("\n")
        label = _html_label(lines)
        if node in marginals:
            label = _posterior_label(lines, marginals[node])
            attributes["shape"] = "box"
            attributes["style"] = ",".join(dict.fromkeys(styles + ["rounded"]))
        graph.body.append(f"\t{ids[node]} [label={label} {_attribute_list(attributes)}]\n")
    highlight = f" [{_attribute_list({'color': _HIGHLIGHT, 'penwidth': '2'})}]"
    for parent, child in dag.edges:
        style = highlight if frozenset((parent, child)) in trail_edges else ""
        graph.body.append(f"\t{ids[parent]} -> {ids[child]}{style}\n")
    return graph


def _layout(size, ratio, dpi) -> dict:
    """Graph attributes that bound the drawing: ``size`` in inches, ``ratio``, ``dpi``."""
    attributes = {}
    if size is not None:
        if isinstance(size, str):
            parts = size.replace("x", ",").split(",")
        else:
            parts = list(size)
        try:
            width, height = (float(part) for part in parts)
        except (TypeError, ValueError):
            raise ValueError(f"size must be two numbers of inches, width and height ('8,6'), got {size!r}") from None
        if not (width > 0 and height > 0) or not all(map(lambda v: v < float("inf"), (width, height))):
            raise ValueError(f"size must be two positive numbers of inches, got {size!r}")
        attributes["size"] = f"{width:g},{height:g}"
    if ratio is not None:
        attributes["ratio"] = str(ratio)
    if dpi is not None:
        if not float(dpi) > 0:
            raise ValueError(f"dpi must be a positive number, got {dpi!r}")
        attributes["dpi"] = f"{float(dpi):g}"
    return attributes


def _posteriors(network, evidence: dict) -> dict:
    """Each unobserved node's posterior as ``("discrete", states, probabilities)`` or ``("gaussian", mean, sd)``."""
    if not hasattr(network, "posteriors"):
        raise TypeError("posteriors=True needs a BayesianNetwork with parameters, not a bare DAG")
    out = {}
    for node, posterior in network.posteriors(evidence).items():
        if node in evidence:
            continue
        if network[node].is_discrete:
            out[node] = ("discrete", list(posterior.states[node]), list(map(float, posterior.probabilities)))
        else:
            mean = posterior.mean() if callable(posterior.mean) else posterior.mean
            covariance = posterior.covariance() if callable(posterior.covariance) else posterior.covariance
            out[node] = ("gaussian", float(mean[0]), float(covariance[0, 0]) ** 0.5)
    return out


def _posterior_label(lines: Sequence[str], posterior) -> str:
    """An HTML-like table: the node's name, then a bar and a probability per state (or mean ± sd)."""

    def text(value) -> str:
        return html.escape(_CONTROL.sub("?", str(value)), quote=False).replace("]", "&#93;")

    rows = [f'<TR><TD COLSPAN="3"><B>{text(lines[0])}</B></TD></TR>']
    rows += [f'<TR><TD COLSPAN="3">{text(line)}</TD></TR>' for line in lines[1:]]
    if posterior[0] == "gaussian":
        _, mean, sd = posterior
        rows.append(f'<TR><TD COLSPAN="3">{mean:.4g} ± {sd:.4g}</TD></TR>')
    else:
        _, states, probabilities = posterior
        for state, probability in zip(states, probabilities):
            filled = max(1, round(probability * _BAR_WIDTH))
            bar = (f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>'
                   f'<TD FIXEDSIZE="TRUE" WIDTH="{filled}" HEIGHT="9" BGCOLOR="{_BAR}"></TD>'
                   f'<TD FIXEDSIZE="TRUE" WIDTH="{_BAR_WIDTH + 1 - filled}" HEIGHT="9"></TD></TR></TABLE>')
            rows.append(f'<TR><TD ALIGN="LEFT">{text(state)}</TD><TD>{bar}</TD>'
                        f'<TD ALIGN="RIGHT">{probability:.3f}</TD></TR>')
    return '<<TABLE BORDER="0" CELLSPACING="1" CELLPADDING="1">' + "".join(rows) + "</TABLE>>"


def _node_ids(nodes: Sequence[str]) -> dict[str, str]:
    """DOT identifiers: each name, quoted unless it is a plain identifier; numbers if a name cannot be quoted."""
    if any(_UNSAFE_IN_STRING.search(node) for node in nodes):
        return {node: f"n{k}" for k, node in enumerate(nodes)}
    return {
        node: node if _PLAIN_ID.fullmatch(node) and node.lower() not in _DOT_KEYWORDS
        else '"' + node.replace('"', '\\"') + '"'
        for node in nodes
    }


def _html_label(lines: Sequence[str]) -> str:
    """An HTML-like DOT label that shows ``lines`` as written: markup escaped, control characters visible."""

    def text(line: str) -> str:
        line = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", line.replace("\t", " "))
        return html.escape(line, quote=False).replace("]", "&#93;")  # dot's HTML parser fails on a leading ]

    return "<" + "<br/>".join(text(line) for line in lines) + ">"


def _attribute_list(attributes: dict) -> str:
    return " ".join(f'{key}="{value}"' for key, value in attributes.items())


def render(network, path, *, format: str | None = None, **options) -> None:
    """Draw ``network`` to an image file (format from the extension: svg, png, pdf); written atomically.

    Parameters
    ----------
    network : BayesianNetwork or DAG
    path : str or path
        The image to write.
    format : str, optional
        Graphviz output format; by default from the extension of ``path``.
    **options
        Those of :func:`to_graphviz` (``observed``, ``evidence``,
        ``posteriors``, ``size``, ``dpi``, ...).

    Raises
    ------
    FileNotFoundError
        Graphviz's ``dot`` program is not installed (the message says how to install it).

    Examples
    --------
    >>> import os, tempfile, shutil, pgm
    >>> path = os.path.join(tempfile.mkdtemp(), "asia.svg")
    >>> if shutil.which("dot"):
    ...     render(pgm.load("asia"), path, evidence={"xray": "yes"}, posteriors=True)
    """
    from pathlib import Path

    from pgm.io._files import write_bytes_atomically

    fmt = (format or Path(path).suffix.lstrip(".") or "svg").lower()
    write_bytes_atomically(path, render_bytes(network, fmt, name=str(path), **options))


def render_bytes(network, format: str = "svg", *, name: str = "the diagram", **options) -> bytes:
    """The drawing of ``network`` as bytes of an image ``format`` (svg, png, pdf, ...).

    Parameters
    ----------
    network : BayesianNetwork or DAG
    format : str
        A format Graphviz writes.
    name : str
        What error messages call the drawing (a file name).
    **options
        Those of :func:`to_graphviz`.

    Returns
    -------
    bytes

    Examples
    --------
    >>> import shutil, pgm
    >>> shutil.which("dot") is None or render_bytes(pgm.load("asia"), "svg").startswith(b"<?xml")
    True
    """
    import errno
    import subprocess

    graphviz = _graphviz()
    fmt = format.lower()
    if fmt not in graphviz.FORMATS:
        raise ValueError(f"cannot draw {name!r}: {fmt!r} is not an image format Graphviz writes; "
                         "use .svg, .png or .pdf (or pass format=)")
    graph = to_graphviz(network, **options)
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise FileNotFoundError(errno.ENOENT, "Graphviz's program is not installed (Debian/Ubuntu: "
                                "apt-get install graphviz)", "dot") from None
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"Graphviz's dot failed to draw {name!r}"
                           + (f": {detail[0]}" if detail else "")) from None
    return data


_SVG_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def fit_to_width(svg: str) -> str:
    """SVG that scales down to the width of a notebook's output area (never up), keeping its aspect."""
    return _SVG_SIZE.sub(lambda m: f'<svg width="{m.group(1)}pt" height="{m.group(2)}pt" '
                                   f'style="max-width: 100%; height: auto"', svg, count=1)


def svg_or_none(network, **options) -> str | None:
    """SVG text for Jupyter, or None (Jupyter then falls back to text) when ``dot`` is not installed --
    with a warning that says how to install it."""
    import warnings

    from pgm.errors import PGMWarning

    graphviz = _graphviz()
    try:
        return fit_to_width(to_graphviz(network, **options).pipe(format="svg").decode("utf-8"))
    except graphviz.ExecutableNotFound:
        warnings.warn(INSTALL_DOT, PGMWarning, stacklevel=3)
        return None
