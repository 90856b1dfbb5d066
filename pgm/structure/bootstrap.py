"""Uncertainty about the structure: edge probabilities from bootstrap replicates, and the averaged network.

A learned graph is one point estimate; how much the data supports each of
its edges shows when the learning is repeated on resampled data (Friedman,
Goldszmidt & Wyner, 1999).  :func:`bootstrap` draws ``replicates`` data
sets of the same size with replacement, learns a graph from each, and
counts how often every edge appears (its *strength*) and in which
direction.  For discrete data the resampling is exact and cheap: a
replicate is a multinomial draw of the counts of the distinct rows, so no
row is touched.  :meth:`EdgeConfidence.averaged` keeps the edges whose
strength reaches a threshold, each in its majority direction, adding them
strongest first and skipping any that would close a cycle (the averaged
network of bnlearn's ``averaged.network``); :meth:`EdgeConfidence.draw`
draws all edges with widths proportional to their strength.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pgm._random import as_generator
from pgm.errors import DataError

__all__ = ["EdgeConfidence", "METHODS", "bootstrap", "learn"]

METHODS = ("hc", "tabu", "pc", "chow-liu")


def learn(table, method: str, **options):
    """Learn a graph from a sufficient table with one of :data:`METHODS` (a DAG, or a CPDAG for ``"pc"``)."""
    from pgm.structure.pc import pc
    from pgm.structure.search import hill_climb, tabu_search
    from pgm.structure.trees import chow_liu

    functions = {"hc": hill_climb, "tabu": tabu_search, "pc": pc, "chow-liu": chow_liu}
    if method not in functions:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return functions[method](table, **options)


@dataclass(frozen=True)
class EdgeConfidence:
    """How often each edge was learned over bootstrap replicates.

    Attributes
    ----------
    nodes : tuple of str
    replicates : int
    arrows : dict of (str, str) to float
        The fraction of replicates with the edge ``u -> v`` (an undirected
        edge of a CPDAG counts half each way).

    Examples
    --------
    >>> from pgm.structure import EdgeConfidence
    >>> confidence = EdgeConfidence(("a", "b", "c"), 10, {("a", "b"): 0.7, ("b", "a"): 0.2, ("b", "c"): 0.3})
    >>> round(confidence.strength("a", "b"), 2), confidence.averaged(0.5).edges
    (0.9, [('a', 'b')])
    """

    nodes: tuple
    replicates: int
    arrows: dict

    def strength(self, u: str, v: str) -> float:
        """The fraction of replicates with an edge between ``u`` and ``v``, either way."""
        return self.arrows.get((u, v), 0.0) + self.arrows.get((v, u), 0.0)

    def to_frame(self) -> pd.DataFrame:
        """One row per pair with an edge in some replicate: ``from``, ``to`` (majority direction), ``strength``, ``direction``."""
        rows = []
        for pair in sorted({frozenset(a) for a in self.arrows}, key=sorted):
            u, v = sorted(pair, key=self.nodes.index)
            forward, backward = self.arrows.get((u, v), 0.0), self.arrows.get((v, u), 0.0)
            if backward > forward:
                u, v, forward, backward = v, u, backward, forward
            total = forward + backward
            rows.append({"from": u, "to": v, "strength": total, "direction": forward / total})
        frame = pd.DataFrame(rows, columns=["from", "to", "strength", "direction"])
        return frame.sort_values("strength", ascending=False, kind="stable").reset_index(drop=True)

    def averaged(self, threshold: float = 0.5):
        """The averaged network: edges with strength at least ``threshold``, in their majority direction.

        Edges are added strongest first; one that would close a directed
        cycle is left out.

        Returns
        -------
        DAG
        """
        import networkx as nx

        from pgm.graph import DAG

        if not 0 <= threshold <= 1:
            raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
        graph = nx.DiGraph()
        graph.add_nodes_from(self.nodes)
        edges = self.to_frame()  # one row per edge, strongest first: not data rows
        for source, target, strength in zip(edges["from"], edges["to"], edges["strength"]):
            if strength >= threshold and not nx.has_path(graph, target, source):
                graph.add_edge(source, target)
        return DAG({v: sorted(graph.predecessors(v), key=self.nodes.index) for v in self.nodes})

    def draw(self, *, threshold: float = 0.0, max_width: float = 5.0):
        """A :class:`graphviz.Digraph` with every edge of strength at least ``threshold``, width proportional to its strength.

        Each edge is labelled with its strength; edges learned in both
        directions in some replicates point the majority way.
        """
        try:
            import graphviz
        except ImportError:  # pragma: no cover - graphviz is a dependency
            raise ImportError("drawing needs the 'graphviz' Python package: pip install graphviz") from None
        graph = graphviz.Digraph(graph_attr={"rankdir": "TB"}, node_attr={"shape": "ellipse"})
        for node in self.nodes:
            graph.node(node)
        edges = self.to_frame()
        for source, target, strength in zip(edges["from"], edges["to"], edges["strength"]):
            if strength >= threshold:
                graph.edge(source, target, penwidth=f"{max(0.3, max_width * strength):.2f}", label=f"{strength:.2f}")
        return graph


def bootstrap(data, *, method: str = "hc", replicates: int = 100, seed=None, progress: bool = False,
              data_options=None, **options) -> EdgeConfidence:
    """Edge probabilities from ``replicates`` bootstrap resamples of ``data``.

    Parameters
    ----------
    data : DataFrame, mapping, scan, Dask DataFrame or SufficientTable
        Discrete data is resampled from its distinct rows (any source);
        continuous or mixed data needs a DataFrame, whose rows are resampled.
    method : {"hc", "tabu", "pc", "chow-liu"}
    replicates : int, default 100
    seed : None, int or numpy.random.Generator
    progress : bool
        Show a progress bar over the replicates (tqdm).
    data_options : dict, optional
        ``states``, ``continuous``, ``max_states``, ``domains``.
    **options
        Passed to the learning function (e.g. ``score="bdeu"``, ``alpha=0.01``).

    Returns
    -------
    EdgeConfidence

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import bootstrap
    >>> confidence = bootstrap(pgm.load("asia").sample(5000, seed=0), replicates=20, seed=1)
    >>> confidence.strength("smoke", "lung") == 1.0
    True
    >>> averaged = confidence.averaged(0.5)              # edges in at least half the replicates
    >>> averaged.skeleton() <= pgm.load("asia").dag.skeleton()
    True
    >>> frame = confidence.to_frame()                      # one row per edge seen, strongest first
    >>> confidence.draw(threshold=0.1).source.count("penwidth") == int((frame["strength"] >= 0.1).sum())
    True
    """
    from pgm.structure.table import SufficientTable, declare_domains, sufficient_table

    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 1:
        raise ValueError(f"replicates must be a positive integer, got {replicates!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    rng = as_generator(seed)
    if method in ("hc", "tabu") and "seed" not in options:
        options["seed"] = rng  # restarts within replicates stay reproducible from the one seed
    data_options = dict(data_options or {})
    table = sufficient_table(data, **data_options)
    if table.continuous:
        if not isinstance(data, pd.DataFrame):
            raise DataError("bootstrapping continuous data needs its rows: pass a pandas DataFrame")
        domains = data_options.get("domains") or declare_domains(
            data, **{k: v for k, v in data_options.items() if k != "domains"})
    bar = None
    if progress:
        from pgm.learning.em import _progress

        bar = _progress(True, replicates)
        bar.set_description("bootstrap")
    counts: dict = {}
    try:
        for _ in range(replicates):
            if table.continuous:
                rows = data.iloc[rng.integers(0, len(data), size=len(data))]
                replicate = sufficient_table(rows, domains=domains)
            else:
                replicate = table.resampled(rng)
            graph = learn(replicate, method, **options)
            for arrow, weight in _arrows(graph):
                counts[arrow] = counts.get(arrow, 0.0) + weight
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    assert isinstance(table, SufficientTable)
    return EdgeConfidence(table.names, replicates, {a: c / replicates for a, c in counts.items()})


def _arrows(graph):
    if hasattr(graph, "undirected"):
        yield from ((arrow, 1.0) for arrow in graph.directed)
        for u, v in map(tuple, graph.undirected):
            yield (u, v), 0.5
            yield (v, u), 0.5
    else:
        yield from ((arrow, 1.0) for arrow in graph.edges)
