"""A DAG plus a data set is a model: declare every node's CPD from its column.

:func:`declare` decides, for each node of a graph, whether it is discrete or
continuous and which states it has, from the data (with the user's
overrides), and returns the unfitted network;
:meth:`pgm.BayesianNetwork.from_data` then fits it.  The rules, in order:

1. ``states={node: [...]}`` declares a discrete node's states (states the
   data never shows included); ``discrete=[...]`` / ``continuous=[...]``
   declare its kind.
2. A pandas categorical column is discrete, its categories the states in
   their order.
3. A column of booleans is discrete with states ``(False, True)``; a column
   of strings is discrete with its sorted distinct values as states.
4. A numeric column is discrete when it holds only whole numbers with at
   most ``max_states`` distinct values (its sorted distinct integers become
   the states); otherwise it is continuous -- Gaussian, linear Gaussian in
   its continuous parents, one regression per configuration of its discrete
   parents.
5. A node without a column is latent: it needs declared states (discrete)
   or ``continuous=[node]``, and :meth:`fit` runs EM.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from pgm.errors import DataError, NodeError

__all__ = ["declare", "DEFAULT_MAX_STATES"]

#: A numeric column of whole numbers with at most this many distinct values is discrete.
DEFAULT_MAX_STATES = 10


def _graph(edges_or_graph):
    from pgm.graph import DAG

    if isinstance(edges_or_graph, DAG):
        return edges_or_graph
    if hasattr(edges_or_graph, "to_dag"):  # a learned CPDAG: one DAG of its equivalence class
        return edges_or_graph.to_dag()
    try:
        import networkx as nx

        if isinstance(edges_or_graph, nx.DiGraph):
            return DAG.from_networkx(edges_or_graph)
    except ImportError:  # pragma: no cover - networkx is a dependency
        pass
    if isinstance(edges_or_graph, Mapping):  # node -> parents
        return DAG({node: list(parents) for node, parents in edges_or_graph.items()})
    return DAG.from_edges(edges_or_graph)


def _column(data, node):
    if isinstance(data, pd.DataFrame):
        return data[node] if node in data.columns else None
    if isinstance(data, Mapping):
        return pd.Series(data[node]) if node in data else None
    raise TypeError(f"data must be a pandas DataFrame or a mapping of column name to array, not {type(data).__name__}")


def _kind_and_states(node: str, column: pd.Series, max_states: int):
    """``(True, states)`` for a discrete column, ``(False, None)`` for a continuous one."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return True, list(column.cat.categories)
    present = column.dropna()
    if present.empty:
        raise DataError(f"column {node!r} has no values, so its kind and states cannot be told from the data; "
                        "declare them (states={...} or continuous=[...]), or drop the column to make it latent")
    if column.dtype.kind == "b" or pd.api.types.infer_dtype(present, skipna=True) == "boolean":
        return True, [False, True]
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if kind in ("string", "bytes"):
        return True, sorted(present.unique())
    if kind in ("integer", "floating", "mixed-integer-float"):
        values = present.to_numpy(dtype=np.float64)
        whole = np.isfinite(values).all() and (values == np.round(values)).all()
        distinct = np.unique(values)
        if whole and len(distinct) <= max_states:
            return True, [int(v) for v in distinct]
        return False, None
    raise DataError(
        f"column {node!r} holds {kind} values; pgm takes strings, integers or booleans as states and numbers "
        "as continuous values (declare the node with states={...} or convert the column)"
    )


def declare(edges_or_graph, data, *, states: Mapping | None = None, discrete: Iterable[str] = (),
            continuous: Iterable[str] = (), max_states: int = DEFAULT_MAX_STATES, name: str = "network"):
    """The unfitted network with the graph's structure and one CPD per node, declared from ``data``.

    See the module docstring for the rules; :meth:`pgm.BayesianNetwork.from_data`
    declares and fits in one call.
    """
    from pgm.cpds import Categorical, LinearGaussian
    from pgm.network import BayesianNetwork

    dag = _graph(edges_or_graph)
    states = dict(states or {})
    discrete, continuous = set(discrete), set(continuous)
    for label, names in (("states", states), ("discrete", discrete), ("continuous", continuous)):
        for node in names:
            if node not in dag:
                raise NodeError(f"{label} names {node!r}, which is not a node of the graph")
    both = (discrete | set(states)) & continuous
    if both:
        raise NodeError(f"node {sorted(both)[0]!r} is declared both discrete and continuous")
    cpds = {}
    for node in dag.nodes:
        parents = list(dag.parents(node))
        column = _column(data, node)
        if node in states:
            is_discrete, node_states = True, list(states[node])
        elif node in continuous:
            is_discrete, node_states = False, None
        elif column is None:
            raise DataError(
                f"node {node!r} has no column in the data; to make it latent, declare its states "
                f"(states={{{node!r}: [...]}}) or continuous=[{node!r}]"
            )
        else:
            is_discrete, node_states = _kind_and_states(node, column, max_states)
            if node in discrete and not is_discrete:
                present = column.dropna()
                node_states = sorted(present.unique().tolist())
                is_discrete = True
        latent = column is None
        if is_discrete:
            cpds[node] = (Categorical.latent(node_states, parents=parents) if latent
                          else Categorical(node_states, parents=parents))
        else:
            cpds[node] = (LinearGaussian.latent(parents=parents) if latent
                          else LinearGaussian.unfitted(parents=parents))
    return BayesianNetwork(cpds, name=name)
