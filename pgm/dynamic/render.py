"""The two-slice diagram of a dynamic network: slice t-1 and slice t side by side.

Every node appears in both slices; edges inside a slice are drawn in each,
edges across slices go from the left cluster to the right one (a parent
``x[t-2]`` of a higher-order chain is drawn from slice t-1's ``x`` with the
label "lag 2").  Latent nodes are dashed, continuous ones boxes -- as in
:func:`pgm.render.to_graphviz`, which draws :meth:`unroll`'s network.
"""

from __future__ import annotations

from pgm.dynamic.model import parse_parent
from pgm.render import _graphviz

__all__ = ["two_slice_graphviz"]


def two_slice_graphviz(network, *, rankdir: str = "LR"):
    """A :class:`graphviz.Digraph` of the transition slice with its previous slice.

    Examples
    --------
    >>> import pgm
    >>> graph = pgm.dynamic.hmm(2, emission="categorical", n_symbols=3).to_graphviz()
    >>> '"z[t-1]" -> "z[t]"' in graph.source
    True
    """
    graphviz = _graphviz()
    graph = graphviz.Digraph(name=network.name, graph_attr={"rankdir": rankdir, "newrank": "true"})
    graph.attr("node", fontname="Helvetica", fontsize="12")
    for label, suffix in (("slice t-1", "[t-1]"), ("slice t", "[t]")):
        with graph.subgraph(name=f"cluster_{suffix}") as cluster:
            cluster.attr(label=label, style="rounded", color="#999999")
            for node in network.nodes:
                cpd = network.transition[node]
                styles = ["rounded"] if not cpd.is_discrete else []
                if node in network.latent_nodes:
                    styles.append("dashed")
                cluster.node(f"{node}{suffix}", label=node, shape="ellipse" if cpd.is_discrete else "box",
                             style=",".join(styles))
    for node, cpd in network.transition.items():
        for parent in cpd.parents:
            base, lag = parse_parent(parent, node)
            if lag == 0:
                graph.edge(f"{base}[t-1]", f"{node}[t-1]")
                graph.edge(f"{base}[t]", f"{node}[t]")
            else:
                graph.edge(f"{base}[t-1]", f"{node}[t]", **({"label": f"lag {lag}"} if lag > 1 else {}))
    return graph
