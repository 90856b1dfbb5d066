"""Diagrams of networks with Graphviz.

Discrete nodes are ellipses and continuous nodes rounded boxes; observed
nodes are shaded and latent nodes dashed, as in the plate-notation
convention; an active trail (see :meth:`pgm.DAG.active_trail`) can be
highlighted.  Rendering to SVG/PNG needs Graphviz's ``dot`` program
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

__all__ = ["to_graphviz", "render"]

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

    Examples
    --------
    >>> import pgm
    >>> from pgm.render import to_graphviz
    >>> asia = pgm.load("asia")
    >>> trail = asia.active_trail("asia", "smoke", given="dysp")
    >>> graph = to_graphviz(asia, observed=["dysp"], trail=trail)
    >>> "dysp" in graph.source
    True
    """
    graphviz = _graphviz()
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {list(_RANKDIRS)}, got {rankdir!r}")
    dag = getattr(network, "dag", network)
    observed, latent = _as_set(observed), _as_set(latent)
    for node in observed | latent | set(trail or ()):
        if node not in dag:
            raise NodeError(dag._unknown_node_message(node))
    trail = list(trail or ())
    trail_edges = {frozenset(pair) for pair in zip(trail, trail[1:])}
    name = _UNSAFE_IN_STRING.sub("_", str(getattr(network, "name", "dag")))
    graph = graphviz.Digraph(name=graphviz.nohtml(name), graph_attr={"rankdir": rankdir})
    graph.attr("node", fontname="Helvetica", fontsize="12")
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
        lines = [node]
        if show_distributions and cpd is not None:
            lines += cpd.describe().split("\n")
        graph.body.append(f"\t{ids[node]} [label={_html_label(lines)} {_attribute_list(attributes)}]\n")
    highlight = f" [{_attribute_list({'color': _HIGHLIGHT, 'penwidth': '2'})}]"
    for parent, child in dag.edges:
        style = highlight if frozenset((parent, child)) in trail_edges else ""
        graph.body.append(f"\t{ids[parent]} -> {ids[child]}{style}\n")
    return graph


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

    ``options`` are those of :func:`to_graphviz`.  Needs Graphviz's ``dot``.
    """
    import errno
    import subprocess
    from pathlib import Path

    from pgm.io._files import write_bytes_atomically

    graphviz = _graphviz()
    fmt = (format or Path(path).suffix.lstrip(".") or "svg").lower()
    if fmt not in graphviz.FORMATS:
        raise ValueError(f"cannot draw {str(path)!r}: {fmt!r} is not an image format Graphviz writes; "
                         "use .svg, .png or .pdf (or pass format=)")
    graph = to_graphviz(network, **options)
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise FileNotFoundError(errno.ENOENT, "Graphviz's program is not installed (Debian/Ubuntu: "
                                "apt-get install graphviz)", "dot") from None
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(f"Graphviz's dot failed to draw {str(path)!r}"
                           + (f": {detail[0]}" if detail else "")) from None
    write_bytes_atomically(path, data)


def svg_or_none(network) -> str | None:
    """SVG text for Jupyter, or None (so Jupyter falls back to text) when ``dot`` is not installed."""
    graphviz = _graphviz()
    try:
        return to_graphviz(network).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        return None
