"""Diagrams of networks with Graphviz.

Discrete nodes are ellipses and continuous nodes rounded boxes; observed
nodes are shaded and latent nodes dashed, as in the plate-notation
convention; an active trail (see :meth:`pgm.DAG.active_trail`) can be
highlighted.  Rendering to SVG/PNG needs Graphviz's ``dot`` program
(Debian/Ubuntu: ``apt-get install graphviz``); building the
:class:`graphviz.Digraph` does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pgm.errors import NodeError

__all__ = ["to_graphviz", "render"]

_HIGHLIGHT = "#d62728"


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
    dag = getattr(network, "dag", network)
    observed, latent = _as_set(observed), _as_set(latent)
    for node in observed | latent | set(trail or ()):
        if node not in dag:
            raise NodeError(dag._unknown_node_message(node))
    trail = list(trail or ())
    trail_edges = {frozenset(pair) for pair in zip(trail, trail[1:])}
    graph = graphviz.Digraph(name=getattr(network, "name", "dag"), graph_attr={"rankdir": rankdir})
    graph.attr("node", fontname="Helvetica", fontsize="12")
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
        label = node
        if show_distributions and cpd is not None:
            label = f"{node}\n{cpd.describe()}"
        graph.node(node, label=label, **attributes)
    for parent, child in dag.edges:
        if frozenset((parent, child)) in trail_edges:
            graph.edge(parent, child, color=_HIGHLIGHT, penwidth="2")
        else:
            graph.edge(parent, child)
    return graph


def render(network, path, *, format: str | None = None, **options) -> None:
    """Draw ``network`` to an image file (format from the extension: svg, png, pdf); written atomically.

    ``options`` are those of :func:`to_graphviz`.  Needs Graphviz's ``dot``.
    """
    from pathlib import Path

    from pgm.io._files import write_bytes_atomically

    fmt = (format or Path(path).suffix.lstrip(".") or "svg").lower()
    data = to_graphviz(network, **options).pipe(format=fmt)
    write_bytes_atomically(path, data)


def svg_or_none(network) -> str | None:
    """SVG text for Jupyter, or None (so Jupyter falls back to text) when ``dot`` is not installed."""
    graphviz = _graphviz()
    try:
        return to_graphviz(network).pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        return None
