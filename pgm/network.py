"""The Bayesian network: a DAG whose nodes carry conditional distributions.

A :class:`BayesianNetwork` owns its nodes' CPDs and keeps one invariant: every
node's CPD is bound to (validated against) its parents, and the graph is
acyclic.  Everything else -- graph queries, sampling, scoring, fitting,
files -- lives in its own module; the methods here delegate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # networkx is imported where it is used: it is slow to import
    import networkx as nx

import functools
from collections.abc import Iterable, Iterator, Mapping

import numpy as np

from pgm.cpds.base import CPD
from pgm.errors import CPDError, DataError, NodeError, StructureError
from pgm.graph import DAG

__all__ = ["BayesianNetwork"]


def _partitioned(data):
    """The module that handles data in pieces -- a Dask collection or scanned files -- or None for data in memory.

    Such data is fitted and scored as a sum over its pieces; the modules are
    imported only when needed (Dask is an optional extra).
    """
    if hasattr(type(data), "__dask_graph__"):
        from pgm import dask

        return dask
    from pgm.io.chunked import Scan

    if isinstance(data, Scan):
        from pgm.io import chunked

        return chunked
    return None


def _no_rows(data) -> bool:
    """A DataFrame of cases without any row (inference then answers with an empty table)."""
    return hasattr(data, "columns") and hasattr(data, "index") and len(data) == 0


def _one_unobserved_case():
    from pandas import DataFrame

    return DataFrame(index=[0])


def _weights_column(data, name: str):
    """``fit(df, weights="w")`` in memory: the column ``w`` as the weights, and the data without it."""
    from pgm.errors import DataError

    columns = getattr(data, "columns", None)
    if columns is None or name not in columns:
        shown = [] if columns is None else list(columns)[:10]
        raise DataError(f"weights={name!r} names no column of the data (its columns: {shown})")
    return data.drop(columns=name), data[name].to_numpy()


def _delegate_to_dag(name: str):
    method = getattr(DAG, name)

    @functools.wraps(method)
    def forward(self, *args, **kwargs):
        return getattr(self.dag, name)(*args, **kwargs)

    return forward


class BayesianNetwork:
    """A Bayesian network over discrete and continuous nodes.

    The joint distribution is the product of the nodes' conditional
    distributions, ``p(x1..xn) = prod_i p(xi | parents(xi))``.

    Parameters
    ----------
    cpds : mapping of str to CPD, optional
        Each node's CPD, in any order; parents are taken from the CPDs.  For
        building node by node, start empty and call :meth:`add`.
    name : str, optional
        A name for the network (used in files and diagrams).
    tied : list of lists of str, optional
        Groups of nodes that share one CPD (see :meth:`tie`).

    Raises
    ------
    CycleError
        The CPDs' parents form a directed cycle (the message names it).
    NodeError
        A parent that is not a node.
    CPDError
        A table or parameter that does not fit the node's parents.

    Examples
    --------
    >>> from pgm import BayesianNetwork, Bernoulli, Categorical
    >>> net = BayesianNetwork()
    >>> net.add("cloudy", Bernoulli(0.5, states=["no", "yes"]))
    >>> net.add("rain", Categorical(["no", "yes"], parents=["cloudy"], table=[[0.8, 0.2], [0.2, 0.8]]))
    >>> net.add("wet", Categorical(["dry", "wet"], parents=["rain"], table=[[0.9, 0.1], [0.1, 0.9]]))
    >>> print(net.factorization())
    p(cloudy, rain, wet) = p(cloudy) p(rain | cloudy) p(wet | rain)
    >>> net.is_d_separated("cloudy", "wet", given="rain")
    True
    """

    def __init__(self, cpds: Mapping[str, CPD] | None = None, *, name: str = "network", tied=None):
        self.name = name
        self._cpds: dict[str, CPD] = {}
        self._dag: DAG | None = None
        self._ties: tuple[tuple[str, ...], ...] = ()
        if cpds:
            self._add_all(dict(cpds))
        if tied is not None:
            from pgm.tying import check_ties

            self._ties = check_ties(self._cpds, tied)

    # ------------------------------------------------------------------ construction
    def add(self, node: str, cpd: CPD) -> None:
        """Add ``node`` with its CPD; its parents must already be in the network.

        Adding parents first keeps the graph acyclic by construction.  To add
        nodes in any order, pass all CPDs to the constructor instead.

        Parameters
        ----------
        node : str
            The new node's name.
        cpd : CPD
            Its conditional distribution (:class:`Categorical`, :class:`LinearGaussian`,
            ...).

        Examples
        --------
        >>> from pgm import BayesianNetwork, Bernoulli
        >>> net = BayesianNetwork()
        >>> net.add("rain", Bernoulli(0.2))
        >>> net.add("wet", Bernoulli([0.1, 0.9], parents=["rain"]))
        >>> net.parents("wet")
        ('rain',)
        """
        if not isinstance(node, str) or not node:
            raise NodeError(f"node names must be non-empty strings, got {node!r}")
        if node in self._cpds:
            raise NodeError(f"node {node!r} is already in the network")
        if not isinstance(cpd, CPD):
            raise TypeError(f"the CPD of {node!r} must be a CPD (e.g. Categorical), not {type(cpd).__name__}")
        for parent in cpd.parents:
            if parent == node:
                raise NodeError(f"node {node!r} cannot be its own parent")
            if parent not in self._cpds:
                raise NodeError(
                    f"parent {parent!r} of {node!r} is not in the network; add it first, or build the "
                    "network from a dict of all CPDs with BayesianNetwork({...})"
                )
        self._cpds[node] = self._bind(node, cpd)
        self._dag = None
        self._inference_cache = None  # compiled inference plans belong to the old graph

    def _bind(self, node: str, cpd: CPD) -> CPD:
        domains = {p: self._cpds[p].domain for p in cpd.parents}
        return cpd.bind(node, domains)

    def _add_all(self, cpds: dict[str, CPD]) -> None:
        for node, cpd in cpds.items():
            if not isinstance(cpd, CPD):
                raise TypeError(f"the CPD of {node!r} must be a CPD (e.g. Categorical), not {type(cpd).__name__}")
        dag = DAG({node: cpd.parents for node, cpd in cpds.items()})  # checks names, parents, cycles
        for node in dag.topological_order():
            self._cpds[node] = self._bind(node, cpds[node])
        self._cpds = {node: self._cpds[node] for node in cpds}  # keep the caller's order
        self._dag = dag

    @classmethod
    def _from_bound(cls, cpds: Mapping[str, CPD], *, name: str, tied=()) -> "BayesianNetwork":
        """A network from CPDs already bound against each other (e.g. fitted ones), without binding again."""
        network = cls(name=name)
        network._cpds = dict(cpds)
        network._dag = DAG({node: cpd.parents for node, cpd in network._cpds.items()})
        if tied:
            from pgm.tying import check_ties

            network._ties = check_ties(network._cpds, tied)
        return network

    @classmethod
    def from_edges(cls, edges: Iterable[tuple[str, str]], cpds: Mapping[str, CPD], *, name: str = "network") -> "BayesianNetwork":
        """A network from ``(parent, child)`` edges and each node's CPD.

        A CPD declared without parents takes them from the edges, in the order
        the edges list them; a CPD that declares parents must name exactly the
        parents the edges give.  To declare the CPDs from a data set instead,
        and fit them, use :meth:`from_data`.

        Parameters
        ----------
        edges : iterable of (str, str)
            ``(parent, child)`` pairs.
        cpds : mapping of str to CPD
            Each node's conditional distribution.
        name : str, default 'network'
            The network's name.

        Examples
        --------
        >>> from pgm import BayesianNetwork, Bernoulli
        >>> net = BayesianNetwork.from_edges(
        ...     [("a", "b")],
        ...     {"a": Bernoulli(0.2), "b": Bernoulli({"false": 0.1, "true": 0.7})},
        ... )
        >>> net.parents("b")
        ('a',)
        """
        dag = DAG.from_edges(edges, nodes=cpds)
        return cls._from_dag(dag, cpds, name=name)

    @classmethod
    def from_data(cls, graph, data, *, states: Mapping | None = None, discrete: Iterable[str] = (),
                  continuous: Iterable[str] = (), max_states: int = 10, prior=None, weights=None,
                  name: str = "network", **fit_options) -> "BayesianNetwork":
        """A fitted network from a graph and a data set: the one-call way to a model.

        Every node's CPD is declared from its column (see :mod:`pgm.from_data`
        for the rules): categorical, string and boolean columns are discrete,
        with their categories (in order) or sorted values as states; numeric
        columns are discrete when they hold at most ``max_states`` distinct
        whole numbers and Gaussian / linear Gaussian otherwise.  Then the
        network is fitted with :meth:`fit` -- by EM when values are missing
        or a node has no column (a latent node, which needs declared states
        or ``continuous=[node]``).

        Parameters
        ----------
        graph : list of (parent, child) pairs, networkx.DiGraph, DAG, or dict of node to parents
            The structure; isolated nodes need a DiGraph, a DAG or a dict.
        data : pandas.DataFrame or mapping of str to array-like
        states : dict of node to list of states, optional
            Declares discrete nodes and their states (including states the
            data never shows).
        discrete, continuous : lists of node names, optional
            Override the kind read from the data.
        max_states : int, default 10
        name : str, default 'network'
            The network's name.
        prior, weights, **fit_options
            Passed to :meth:`fit`.

        Examples
        --------
        >>> import pandas as pd
        >>> import pgm
        >>> df = pd.DataFrame({"rain": [True, False, False, True], "wet": ["yes", "no", "no", "yes"],
        ...                    "level": [3.1, 0.2, 0.4, 2.9]})
        >>> net = pgm.BayesianNetwork.from_data([("rain", "wet"), ("rain", "level")], df)
        >>> net["wet"].states, net["rain"].states, net["level"].is_discrete
        (('no', 'yes'), (False, True), False)
        """
        from pgm.from_data import declare

        declared = declare(graph, data, states=states, discrete=discrete, continuous=continuous,
                           max_states=max_states, name=name)
        return declared.fit(data, prior=prior, weights=weights, **fit_options)

    @classmethod
    def from_networkx(cls, graph: nx.DiGraph, cpds: Mapping[str, CPD] | None = None, *, name: str = "network") -> "BayesianNetwork":
        """A network from a :class:`networkx.DiGraph`.

        CPDs come from ``cpds`` or, failing that, from each node's ``"cpd"``
        attribute.  Parents follow the same rule as :meth:`from_edges`, with
        the graph's predecessor order.

        Parameters
        ----------
        graph : networkx.DiGraph
            The structure.
        cpds : mapping of str to CPD, optional
            Each node's CPD; default unfitted discrete nodes from the graph's ``states``
            attributes.
        name : str, default 'network'
            The network's name.
        """
        dag = DAG.from_networkx(graph)
        if cpds is None:
            cpds = {}
            for node, attributes in graph.nodes(data=True):
                if "cpd" not in attributes:
                    raise CPDError(f"node {node!r} of the graph has no 'cpd' attribute and no CPD was given")
                cpds[node] = attributes["cpd"]
        return cls._from_dag(dag, cpds, name=name)

    @classmethod
    def _from_dag(cls, dag: DAG, cpds: Mapping[str, CPD], *, name: str) -> "BayesianNetwork":
        import copy

        resolved = {}
        for node in dag.nodes:
            if node not in cpds:
                raise CPDError(f"no CPD was given for node {node!r}")
            cpd = cpds[node]
            edge_parents = dag.parents(node)
            if not cpd.parents and edge_parents:
                cpd = copy.copy(cpd)
                cpd.parents = edge_parents
            elif set(cpd.parents) != set(edge_parents):
                raise CPDError(
                    f"the CPD of {node!r} declares parents {list(cpd.parents)} but the edges give "
                    f"{list(edge_parents)}"
                )
            resolved[node] = cpd
        extra = [n for n in cpds if n not in dag]
        if extra:
            raise NodeError(f"a CPD was given for {extra[0]!r}, which is not a node of the graph")
        return cls(resolved, name=name)

    # ------------------------------------------------------------------ containers
    def __getitem__(self, node: str) -> CPD:
        try:
            return self._cpds[node]
        except KeyError:
            raise NodeError(self.dag._unknown_node_message(node)) from None

    def __contains__(self, node) -> bool:
        return node in self._cpds

    def __iter__(self) -> Iterator[str]:
        return iter(self._cpds)

    def __len__(self) -> int:
        return len(self._cpds)

    def __eq__(self, other) -> bool:
        if not isinstance(other, BayesianNetwork):
            return NotImplemented
        return (
            list(self._cpds) == list(other._cpds)
            and all(self._cpds[n] == other._cpds[n] for n in self._cpds)
            and self._ties == other._ties
        )

    __hash__ = None

    def __getstate__(self) -> dict:
        # Compiled inference plans and the graph's query buffers hold locks, which cannot be
        # pickled (or deep-copied); both are rebuilt on first use.
        state = self.__dict__.copy()
        state["_inference_cache"] = None
        state["_dag"] = None
        return state

    def __repr__(self) -> str:
        kinds = sum(cpd.is_discrete for cpd in self._cpds.values())
        extra = ""
        if self.latent_nodes:
            extra += f", {len(self.latent_nodes)} latent"
        if self.unfitted_nodes:
            extra += f", {len(self.unfitted_nodes)} not fitted"
        if self._ties:
            extra += f", {sum(map(len, self._ties))} tied in {len(self._ties)} group(s)"
        return (
            f"BayesianNetwork({self.name!r}: {len(self)} nodes ({kinds} discrete, {len(self) - kinds} continuous"
            f"{extra}), {len(self.dag.edges)} edges)"
        )

    def __str__(self) -> str:
        """One line per node: its kind, states and parents; then the tie groups."""
        width = max((len(str(node)) for node in self._cpds), default=0)
        group_of = {node: group[0] for group in self._ties for node in group[1:]}
        lines = [repr(self)]
        for node, cpd in self._cpds.items():
            if cpd.is_discrete:
                shown = ", ".join(map(str, cpd.domain[:6])) + (", ..." if len(cpd.domain) > 6 else "")
                kind = f"{len(cpd.domain)} states [{shown}]"
                if getattr(cpd, "expands_to_table", False):  # a restricted parameterisation: say which
                    kind += f", {cpd.family.replace('_', '-')}"
            else:
                # the words of the CPDs' own descriptions: one label for one thing
                kind = ("linear Gaussian" if cpd.is_linear else "conditional linear Gaussian"
                        if all(f.is_identity for f in cpd.features) else "Gaussian, mean linear in features "
                        + ", ".join(map(str, cpd.features)))
            notes = "".join([" (latent)" if cpd.latent else "", "" if cpd.is_fitted else " (not fitted)",
                             f" (shares {group_of[node]}'s CPD)" if node in group_of else ""])
            given = f"  <- {', '.join(cpd.parents)}" if cpd.parents else ""
            lines.append(f"  {node:<{width}}  {kind}{notes}{given}")
        return "\n".join(lines)

    @property
    def nodes(self) -> tuple[str, ...]:
        """The nodes in declaration order."""
        return tuple(self._cpds)

    @property
    def cpds(self) -> Mapping[str, CPD]:
        """Read-only view of each node's bound CPD."""
        from types import MappingProxyType

        return MappingProxyType(self._cpds)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """``(parent, child)`` pairs."""
        return self.dag.edges

    @property
    def dag(self) -> DAG:
        """The network's graph (rebuilt lazily after :meth:`add`)."""
        if self._dag is None:
            self._dag = DAG({node: cpd.parents for node, cpd in self._cpds.items()})
        return self._dag

    @property
    def domains(self) -> dict[str, tuple | None]:
        """Each node's states (discrete) or None (continuous)."""
        return {node: cpd.domain for node, cpd in self._cpds.items()}

    def states(self, node: str) -> tuple[str, ...]:
        """The states of a discrete node.

        Parameters
        ----------
        node : str
            A discrete node.

        Examples
        --------
        >>> import pgm
        >>> pgm.load("survey").states("T")
        ('car', 'train', 'other')
        """
        cpd = self[node]
        if not cpd.is_discrete:
            raise StructureError(f"node {node!r} is continuous and has no states")
        return cpd.domain

    @property
    def latent_nodes(self) -> tuple[str, ...]:
        """Nodes declared latent (never observed; see :meth:`pgm.Categorical.latent`)."""
        return tuple(n for n, cpd in self._cpds.items() if cpd.latent)

    @property
    def unfitted_nodes(self) -> tuple[str, ...]:
        """Nodes declared without parameters, which :meth:`fit` will estimate."""
        return tuple(n for n, cpd in self._cpds.items() if not cpd.is_fitted)

    @property
    def is_fitted(self) -> bool:
        """Whether every node has parameters, so the network can be sampled, scored and queried."""
        return not self.unfitted_nodes

    def _require_fitted(self, verb: str) -> None:
        unfitted = self.unfitted_nodes
        if unfitted:
            from pgm.errors import NotFittedError

            listed = ", ".join(map(repr, unfitted[:5])) + (", ..." if len(unfitted) > 5 else "")
            raise NotFittedError(
                f"the network cannot be {verb} yet: {len(unfitted)} node(s) have no parameters ({listed}); "
                "fit it to data first (net.fit(data) runs EM when values are missing or nodes are latent)"
            )

    @property
    def is_discrete(self) -> bool:
        """Whether every node is discrete."""
        return all(cpd.is_discrete for cpd in self._cpds.values())

    @property
    def is_linear_gaussian(self) -> bool:
        """Whether every node is linear Gaussian in its parents, so the joint is one Gaussian."""
        return all(not cpd.is_discrete and cpd.is_linear for cpd in self._cpds.values())

    def with_cpd(self, node: str, cpd: CPD) -> "BayesianNetwork":
        """A new network with ``node``'s CPD replaced (its parents may change).

        Parameters
        ----------
        node : str
            A node of the network.
        cpd : CPD
            Its new conditional distribution.

        Examples
        --------
        >>> import pgm
        >>> cancer = pgm.load("cancer")
        >>> fair = cancer.with_cpd("Smoker", pgm.Categorical(["True", "False"], table=[0.5, 0.5]))
        >>> fair["Smoker"].table.tolist(), cancer["Smoker"].table.tolist()
        ([0.5, 0.5], [0.3, 0.7])
        """
        if node not in self._cpds:
            raise NodeError(self.dag._unknown_node_message(node))
        cpds = dict(self._cpds)
        cpds[node] = cpd
        if set(cpd.parents) != set(self._cpds[node].parents):
            return BayesianNetwork(cpds, name=self.name, tied=self._ties)  # the graph changes: check it all again
        # Same parents: only the node and its children (whose tables use its states) need binding.
        domains = {p: cpds[p].domain for p in cpd.parents}
        cpds[node] = cpd.bind(node, domains)
        for child in self.children(node):
            child_cpd = cpds[child]
            cpds[child] = child_cpd.bind(child, {p: cpds[p].domain for p in child_cpd.parents})
        return BayesianNetwork._from_bound(cpds, name=self.name, tied=self._ties)

    # ------------------------------------------------------------------ tied CPDs (see pgm.tying)
    @property
    def tied_groups(self) -> tuple[tuple[str, ...], ...]:
        """Groups of nodes that share one CPD, each a tuple of node names (empty when nothing is tied)."""
        return self._ties

    def tie(self, *groups) -> "BayesianNetwork":
        """A new network in which each group of nodes shares one CPD.

        Members must have CPDs of the same shape (family, states, parent
        cardinalities, number of features) and equal parameters, or all be
        unfitted.  A tied CPD is counted once in :attr:`n_free_parameters`,
        fitted once from the merged statistics of all its members (by
        :meth:`fit`, EM included) and written once to JSON.  Parents match by
        position: the first parent of one member plays the role of the first
        parent of every other.

        Parameters
        ----------
        *groups : sequences of str
            Each a group of two or more nodes; a node belongs to at most one
            group.  Groups already tied in this network are kept.

        Examples
        --------
        >>> import pgm
        >>> step = lambda parent: pgm.Categorical(["a", "b"], parents=[parent])
        >>> net = pgm.BayesianNetwork({"x1": pgm.Categorical(["a", "b"]), "x2": step("x1"), "x3": step("x2")})
        >>> net.n_free_parameters, net.tie(["x2", "x3"]).n_free_parameters
        (5, 3)
        """
        return BayesianNetwork._from_bound(self._cpds, name=self.name, tied=self._ties + tuple(groups))

    def untie(self, *nodes: str) -> "BayesianNetwork":
        """A new network in which ``nodes`` (all nodes when none are given) no longer share CPDs.

        Parameters
        ----------
        *nodes : str
            Nodes to untie; none: all.
        """
        for node in nodes:
            self[node]  # names an unknown node
        drop = set(nodes) if nodes else set(self._cpds)
        groups = [tuple(n for n in group if n not in drop) for group in self._ties]
        return BayesianNetwork._from_bound(self._cpds, name=self.name, tied=[g for g in groups if len(g) > 1])

    # ------------------------------------------------------------------ graph queries (see pgm.graph)
    parents = _delegate_to_dag("parents")
    children = _delegate_to_dag("children")
    ancestors = _delegate_to_dag("ancestors")
    descendants = _delegate_to_dag("descendants")
    topological_order = _delegate_to_dag("topological_order")
    markov_blanket = _delegate_to_dag("markov_blanket")
    moral_graph = _delegate_to_dag("moral_graph")
    v_structures = _delegate_to_dag("v_structures")
    skeleton = _delegate_to_dag("skeleton")
    local_independencies = _delegate_to_dag("local_independencies")
    is_i_equivalent = _delegate_to_dag("is_i_equivalent")
    is_d_separated = _delegate_to_dag("is_d_separated")
    active_trail = _delegate_to_dag("active_trail")
    d_connected = _delegate_to_dag("d_connected")
    to_networkx = _delegate_to_dag("to_networkx")

    # ------------------------------------------------------------------ the model's verbs
    def factorization(self):
        """The factorisation ``p(x1..xn) = prod_i p(xi | parents(xi))``; see :class:`pgm.factorization.Factorization`."""
        from pgm.factorization import Factorization

        return Factorization(self)

    def sample(self, n: int, *, seed=None, npartitions: int | None = None, progress: bool = False):
        """Draw ``n`` rows by ancestral sampling; see :func:`pgm.sampling.sample`.

        ``progress=True`` shows a progress bar over the rows (tqdm).

        With ``npartitions``, a lazy Dask DataFrame whose partitions are drawn
        where they are computed; see :func:`pgm.dask.sample`.

        Parameters
        ----------
        n : int
            Rows to draw.
        seed : None, int or numpy.random.Generator
            The same seed gives the same rows, on any number of cores.
        npartitions : int, optional
            Return a lazy Dask DataFrame of this many partitions (the ``dask`` extra).
        progress : bool, default False
            Show a progress bar (needs tqdm).

        Examples
        --------
        >>> import pgm
        >>> rows = pgm.load("cancer").sample(4, seed=0)
        >>> list(rows.columns)
        ['Pollution', 'Smoker', 'Cancer', 'Xray', 'Dyspnoea']
        """
        from pgm.sampling import sample

        self._require_fitted("sampled")
        if npartitions is not None:
            from pgm.dask import sample as sample_partitions

            return sample_partitions(self, n, seed=seed, npartitions=npartitions)
        return sample(self, n, seed=seed, progress=progress)

    def log_likelihood(self, data, *, progress: bool = False) -> np.ndarray:
        """log p(row) in nats for every row, as a NumPy array; see :func:`pgm.likelihood.log_likelihood`.

        ``progress=True`` shows a progress bar over the rows (tqdm).

        Parameters
        ----------
        data : DataFrame, mapping of columns, Scan or Dask DataFrame
            Rows to score; missing values (NaN, None) and absent columns are summed out.
        progress : bool, default False
            Show a progress bar (needs tqdm).

        Examples
        --------
        >>> import pgm
        >>> net = pgm.load("earthquake")
        >>> row = {"Burglary": ["False"], "Earthquake": ["False"], "Alarm": ["False"],
        ...        "JohnCalls": ["False"], "MaryCalls": ["False"]}
        >>> import math   # P(B=F) P(E=F) P(A=F | B=F, E=F) P(J=F | A=F) P(M=F | A=F):
        >>> math.isclose(net.log_likelihood(row)[0], math.log(0.99 * 0.98 * 0.999 * 0.95 * 0.99))
        True
        """
        from pgm.likelihood import log_likelihood

        self._require_fitted("scored")
        partitioned = _partitioned(data)
        if partitioned is not None:  # a lazy Dask Series, or one array from file chunks
            return partitioned.log_likelihood(self, data)
        return log_likelihood(self, data, progress=progress)

    def score(self, data, *, progress: bool = False) -> float:
        """Mean log-likelihood per row, in nats.

        Parameters
        ----------
        data : DataFrame, mapping of columns, Scan or Dask DataFrame
            Rows to score; missing values are summed out.
        progress : bool, default False
            Show a progress bar (needs tqdm).

        Examples
        --------
        >>> import pgm
        >>> net = pgm.load("asia")
        >>> net.score(net.sample(10_000, seed=0)) < 0
        True
        """
        partitioned = _partitioned(data)
        if partitioned is not None:  # a sum over the pieces; per-row values are never gathered
            self._require_fitted("scored")
            return partitioned.score(self, data)
        log_likelihood = self.log_likelihood(data, progress=progress)
        if len(log_likelihood) == 0:
            raise DataError("score needs at least one row")
        return float(np.mean(log_likelihood))

    def bits_per_variable(self, data) -> float:
        """Mean negative log-likelihood in bits, per row and per variable.

        Parameters
        ----------
        data : DataFrame, mapping of columns, Scan or Dask DataFrame
            Rows to score.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.load("asia")
        >>> 0 < net.bits_per_variable(net.sample(10_000, seed=0)) < 1
        True
        """
        from pgm.likelihood import bits_per_variable

        return bits_per_variable(self.log_likelihood(data), len(self))

    def statistics(self, data, *, weights=None, progress: bool = False):
        """Additive sufficient statistics of ``data``; see :func:`pgm.learning.statistics`.

        Parameters
        ----------
        data : DataFrame, mapping of columns, Scan or Dask DataFrame
            Complete rows.
        weights : array-like or str, optional
            One weight per row (or a column's name).
        progress : bool, default False
            Show a progress bar (needs tqdm).
        """
        from pgm.learning.mle import statistics

        partitioned = _partitioned(data)
        if partitioned is not None:
            return partitioned.statistics(self, data, weights=weights)
        return statistics(self, data, weights=weights, progress=progress)

    def from_statistics(self, statistics, *, prior=None) -> "BayesianNetwork":
        """A network with this structure and parameters fitted to ``statistics``.

        Parameters
        ----------
        statistics : Statistics
            Summed sufficient statistics (from :meth:`statistics`).
        prior : optional
            As for :meth:`fit`.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.load("cancer")
        >>> chunks = [net.sample(1000, seed=k) for k in range(3)]
        >>> fitted = net.from_statistics(sum(net.statistics(c) for c in chunks), prior=pgm.Dirichlet(1))
        """
        from pgm.learning.mle import from_statistics

        return from_statistics(self, statistics, prior=prior)

    # ------------------------------------------------------------------ information (see pgm.information)
    def entropy(self, **options):
        """H(p) of the network's joint distribution in nats; see :func:`pgm.information.entropy`.

        Parameters
        ----------
        **options
            Those of :func:`pgm.information.entropy` (``method``, ``n_samples``,
            ``seed``, ...).

        Examples
        --------
        >>> import pgm
        >>> round(float(pgm.load("asia").entropy()), 4)
        2.237
        """
        from pgm.information import entropy

        return entropy(self, **options)

    def kl_divergence(self, other: "BayesianNetwork", **options):
        """KL(self || other) in nats; see :func:`pgm.information.kl_divergence`.

        Parameters
        ----------
        other : BayesianNetwork
            The model q; ``self`` is p.
        **options
            Those of :func:`pgm.information.kl_divergence` (``method``, ``n_samples``,
            ``seed``, ...).
        """
        from pgm.information import kl_divergence

        return kl_divergence(self, other, **options)

    def cross_entropy(self, other: "BayesianNetwork", **options):
        """H(self, other) = -E_self[log other] in nats; see :func:`pgm.information.cross_entropy`.

        Parameters
        ----------
        other : BayesianNetwork
            The model q; ``self`` is p.
        **options
            Those of :func:`pgm.information.cross_entropy` (``method``, ``n_samples``,
            ``seed``, ...).
        """
        from pgm.information import cross_entropy

        return cross_entropy(self, other, **options)

    def expected_log_likelihood(self, other: "BayesianNetwork", **options):
        """E_self[log other] in nats; see :func:`pgm.information.expected_log_likelihood`.

        Parameters
        ----------
        other : BayesianNetwork
            The model whose log-density is averaged.
        **options
            Those of :func:`pgm.information.expected_log_likelihood`.
        """
        from pgm.information import expected_log_likelihood

        return expected_log_likelihood(self, other, **options)

    def coerce(self, data):
        """A copy of ``data`` with each discrete column's values matched to the node's states by their text.

        pgm never converts between kinds of values on its own: the text
        ``"1"`` is not the state ``1``.  When data arrive as text (or as
        numbers for string states), this converts them explicitly; see
        :func:`pgm.data.coerce`.

        Parameters
        ----------
        data : DataFrame or mapping of columns
            Data whose discrete values are text, numbers or booleans.

        Examples
        --------
        >>> import pgm
        >>> net = pgm.BayesianNetwork({"dice": pgm.Categorical([1, 2, 3, 4, 5, 6], table=[1 / 6] * 6)})
        >>> net.coerce({"dice": ["6", "2"]})["dice"].tolist()
        [6, 2]
        """
        from pgm.data import coerce

        return coerce(data, self.domains)

    def parameter_posterior(self, data, *, prior=None, weights=None):
        """The posterior over the parameters given complete ``data``; see :func:`pgm.learning.posterior.parameter_posterior`.

        Parameters
        ----------
        data : DataFrame or mapping of columns
            Complete rows.
        prior : Dirichlet, BDeu, NormalInverseGamma or a dict of them, optional
            The conjugate prior.
        weights : array-like, optional
            One weight per row.

        Examples
        --------
        >>> import pgm
        >>> coin = pgm.BayesianNetwork({"flip": pgm.Categorical(["heads", "tails"])})
        >>> post = coin.parameter_posterior({"flip": ["heads", "heads", "tails"]}, prior=pgm.Dirichlet(1))
        >>> post["flip"].concentration.tolist(), post.mean()["flip"].table.tolist()
        ([3.0, 2.0], [0.6, 0.4])
        """
        from pgm.learning.posterior import parameter_posterior

        return parameter_posterior(self, data, prior=prior, weights=weights)

    def fit(self, data, *, prior=None, weights=None, max_iter: int = 100, tol: float = 1e-6, n_init: int = 1,
            init="random", seed=None, progress: bool = False, callback=None,
            memory_budget: int | None = None, accelerate: bool = True,
            variance_floor: float = 1e-6, split_moves: bool = True) -> "BayesianNetwork":
        """Fit every CPD to ``data``; returns a new network.

        Complete data: maximum likelihood (or MAP with ``prior``) in closed
        form.  Missing values or latent nodes: EM, with the options below;
        the result has a ``fit_report_``.  See :func:`pgm.learning.mle.fit`.

        Parameters
        ----------
        data : DataFrame, mapping of columns, Scan or Dask DataFrame
            One row per case, a column per observed node; missing values and absent
            (latent) columns make ``fit`` run EM.
        prior : Dirichlet, BDeu, Ridge, InverseGamma or a dict of them, optional
            Pseudo-statistics added before solving (a dict maps nodes to priors).
        weights : array-like or str, optional
            One non-negative weight per row, or the name of a column holding them.
        max_iter : int, default 100
            EM passes over the data at most (extrapolations included).
        tol : float, default 1e-6
            EM stops when one step gains less than ``tol * max(1, |objective|)``
            in mean log-likelihood per row (plus log prior), never at a point
            where a latent node's states are interchangeable (a saddle).
        n_init : int, default 1
            EM starts; a start that fails is skipped and recorded in
            ``fit_report_.failed``, and the best final objective is kept.
        init : {'random', 'kmeans++', 'current'} or BayesianNetwork
            EM's starting point: parameters drawn to break symmetry (the best of
            a few short runs), the k-means++ clusters' own parameters, this
            network's parameters, or another network's parameters (its
            structure must match; states and parents are matched by name).
            From a drawn start, once EM converges, split moves re-seed a
            redundant state of a latent node with three or more states as half
            of an overloaded one and keep the result if it ends higher
            (``fit_report_.n_moves``; :mod:`pgm.learning.em_moves`): they leave
            the local optima that more EM passes cannot, at a budgeted cost.
        seed : None, int or numpy.random.Generator
            The only source of EM's randomness.
        progress : bool, default False
            Show a progress bar (needs tqdm).
        callback : callable, optional
            Called as ``callback(iteration, log_likelihood, network)`` after each EM
            iteration.
        memory_budget : int, optional
            Bytes EM's inference may use (see :meth:`query`).
        accelerate : bool, default True
            SQUAREM extrapolation between EM steps, kept only when it raises the
            objective (so the objective never decreases); False for plain EM.
        variance_floor : float, default 1e-6
            EM keeps the variance of every latent Gaussian component (a continuous
            node given a latent discrete parent's state) at least this fraction of
            the node's variance in the data, which bounds the likelihood (see
            :mod:`pgm.learning.em_floor`); a component at its floor is reported in
            ``fit_report_.floored`` with a warning. 0 for plain maximum likelihood.
        split_moves : bool, default True
            After a drawn start converges, try split moves (see ``init``);
            False runs each start to convergence only (cheaper, and the fit
            the previous default gave).

        Examples
        --------
        >>> import numpy as np, pgm
        >>> truth = pgm.load("cancer")
        >>> rows = truth.sample(5_000, seed=0)
        >>> rows.loc[rows.index % 3 == 0, "Smoker"] = np.nan      # a third of one column missing
        >>> fitted = truth.fit(rows, seed=0)
        >>> fitted.fit_report_.converged
        True
        """
        from pgm.learning.mle import fit

        partitioned = _partitioned(data)
        if partitioned is not None:  # statistics per partition or file chunk, summed; EM one pass per iteration
            fit = partitioned.fit
        elif isinstance(weights, str):  # a column's name, as scan and Dask take it
            data, weights = _weights_column(data, weights)
        return fit(self, data, prior=prior, weights=weights, max_iter=max_iter, tol=tol, n_init=n_init, init=init,
                   seed=seed, progress=progress, callback=callback, memory_budget=memory_budget, accelerate=accelerate,
                   variance_floor=variance_floor, split_moves=split_moves)

    # ------------------------------------------------------------------ inference (see pgm.inference)
    def query(self, targets, evidence=None, *, method: str = "exact", n_samples: int = 100_000, seed=None,
              memory_budget: int | None = None, **options):
        """The posterior distribution of ``targets`` given ``evidence``.

        Parameters
        ----------
        targets : str or sequence of str
            One node (its marginal) or several (their joint).
        evidence : dict, pandas.Series, pandas.DataFrame or dict of columns, optional
            One case: ``{node: state or value}``; ``None`` or NaN means not
            observed, and ``{node: {state: weight, ...}}`` is soft (virtual)
            evidence, a likelihood vector over every state of a discrete
            node.  Many cases: a DataFrame (or dict of equal-length columns),
            one case per row, NaN / None / absent column = not observed.
        method : str
            One of "exact", "variable_elimination", "likelihood_weighting",
            "loopy_bp", "ijgp", "gibbs", "importance", "auto".
            ``"exact"`` is the batched junction tree.
            ``"variable_elimination"`` answers one case in a discrete
            network by summing variables out one at a time (an independent
            exact path).  ``"likelihood_weighting"`` estimates one case's
            posterior of discrete targets by weighted sampling, with
            standard errors, when exact inference is refused.
            ``"loopy_bp"`` (loopy belief propagation, one target),
            ``"ijgp"`` (iterative join-graph propagation, one target),
            ``"gibbs"`` (Gibbs sampling) and ``"importance"`` (importance
            sampling with a loopy-BP proposal, which mixes where Gibbs
            sticks) approximate discrete posteriors
            for one case or many rows; ``"auto"`` is exact when its plan
            fits ``memory_budget``, join-graph propagation otherwise.  Their results are
            flagged (``method``, ``approximate``, ``report``, ``choice``;
            ``frame.attrs`` for many rows): see :mod:`pgm.inference.approximate`.
        n_samples, seed
            For likelihood weighting, Gibbs sampling (kept draws per row, over all chains) and
            importance sampling (particles per row).
        **options
            For ``"loopy_bp"``: ``damping``, ``max_iter``, ``tol``; for
            ``"ijgp"`` (and ``"auto"``) also ``cluster_entries``, ``exact_entries``; for
            ``"gibbs"``: ``n_chains``, ``burn_in``, ``thin``, ``blocked``, ``block_entries``; for
            ``"importance"``: ``n_chains``, ``defensive``.
        memory_budget : int, optional
            Bytes exact inference may use (default
            :data:`pgm.inference.DEFAULT_MEMORY_BUDGET`, 1 GiB); a plan that
            needs more is refused with :class:`~pgm.errors.InferenceTooLarge`.

        Returns
        -------
        One case: a :class:`~pgm.inference.DiscreteDistribution` for discrete
        targets; a :class:`~pgm.inference.MultivariateNormal` for continuous
        targets of a linear Gaussian network, a
        :class:`~pgm.inference.GaussianMixture` in a hybrid network.  Many
        cases: a DataFrame with the evidence's index -- one column per state
        (or per joint configuration) for discrete targets, ``mean`` and
        ``std`` for a continuous one.

        Raises
        ------
        NodeError
            An unknown target or evidence node.
        DataError
            A value that is not one of the node's states, or bad soft evidence.
        ImpossibleEvidenceError
            Evidence of probability zero.
        InferenceTooLarge
            The plan exceeds ``memory_budget`` (the message gives both sizes).

        Examples
        --------
        >>> import pgm
        >>> asia = pgm.load("asia")
        >>> post = asia.query("lung", evidence={"xray": "yes", "smoke": "no"})
        >>> post.probabilities.round(4).tolist()
        [0.1423, 0.8577]
        >>> rows = asia.sample(3, seed=0)[["xray", "smoke"]]
        >>> asia.query("lung", evidence=rows).shape
        (3, 2)
        """
        from pgm.inference.api import query
        from pgm.inference.display import note_evidence

        if _no_rows(evidence):  # no cases: the answer's empty table, with its columns
            return query(self, targets, _one_unobserved_case(), method=method, n_samples=n_samples, seed=seed,
                         memory_budget=memory_budget, **options).iloc[:0].set_axis(evidence.index[:0], axis=0)
        return note_evidence(query(self, targets, evidence, method=method, n_samples=n_samples, seed=seed,
                                   memory_budget=memory_budget, **options), evidence)

    def posteriors(self, evidence=None, *, memory_budget: int | None = None, method: str = "exact",
                   n_samples: int = 100_000, seed=None, **options) -> dict:
        """Every node's posterior marginal, each from the junction tree of its relevant part.

        For one case, a dict from each node not observed (hard evidence) to
        its posterior (as :meth:`query` returns it); for many cases, a dict
        from every node to a DataFrame with one row per case.

        Parameters
        ----------
        evidence : dict, Series or DataFrame, optional
            One case or many, as for :meth:`query`.
        memory_budget : int, optional
            Bytes inference may use (see :meth:`query`).
        method : {"exact", "loopy_bp", "ijgp", "gibbs", "importance", "auto"}
            Exact, or an approximation for networks beyond exact inference's
            reach, as for :meth:`query`.
        n_samples, seed
            For Gibbs sampling (kept draws per row, over all chains).
        **options
            For ``"loopy_bp"``: ``damping``, ``max_iter``, ``tol``; for
            ``"ijgp"`` (and ``"auto"``) also ``cluster_entries``, ``exact_entries``; for
            ``"gibbs"``: ``n_chains``, ``burn_in``, ``thin``, ``blocked``, ``block_entries``; for
            ``"importance"``: ``n_chains``, ``defensive``.

        Examples
        --------
        >>> import pgm
        >>> marginals = pgm.load("asia").posteriors({"xray": "yes", "smoke": "no"})
        >>> sorted(marginals)
        ['asia', 'bronc', 'dysp', 'either', 'lung', 'tub']
        >>> round(float(marginals["tub"].probabilities[0]), 4)
        0.148
        """
        from pgm.inference.api import posteriors
        from pgm.inference.display import Posteriors, note_evidence
        from pandas import DataFrame

        marginals = posteriors(self, evidence, memory_budget=memory_budget, method=method, n_samples=n_samples,
                                seed=seed, **options)
        if any(isinstance(m, DataFrame) for m in marginals.values()):
            return marginals  # many cases: a DataFrame per node
        return note_evidence(Posteriors({node: note_evidence(m, evidence) for node, m in marginals.items()}),
                             evidence)

    def predict(self, data, target, *, memory_budget: int | None = None):
        """The most probable state (discrete) or posterior mean (continuous) of ``target`` for every row.

        ``target`` may be a list, giving a DataFrame with one column per target.

        Parameters
        ----------
        data : DataFrame or mapping of columns
            One case per row; missing values are unobserved.
        target : str or list of str
            The node(s) to predict.
        memory_budget : int, optional
            Bytes inference may use (see :meth:`query`).

        Examples
        --------
        >>> import pgm
        >>> cancer = pgm.load("cancer")
        >>> rows = cancer.sample(4, seed=1).drop(columns="Cancer")
        >>> cancer.predict(rows, "Cancer").tolist()
        ['False', 'False', 'False', 'False']
        """
        from pgm.inference.api import predict

        if _no_rows(data):  # no cases: an empty answer of the right type
            return predict(self, _one_unobserved_case(), target, memory_budget=memory_budget).iloc[:0].set_axis(
                data.index[:0], axis=0)

        return predict(self, data, target, memory_budget=memory_budget)

    def impute(self, data, *, memory_budget: int | None = None):
        """A copy of ``data`` with every missing value filled, and columns added for absent nodes.

        Each missing value becomes the most probable state of its posterior
        marginal (discrete) or its posterior mean (continuous), given the
        row's observed values.

        Parameters
        ----------
        data : DataFrame
            Rows with missing values.
        memory_budget : int, optional
            Bytes inference may use (see :meth:`query`).

        Examples
        --------
        >>> import numpy as np, pgm
        >>> net = pgm.load("asia")
        >>> rows = net.sample(5, seed=0)
        >>> rows.loc[2, "lung"] = np.nan
        >>> filled = net.impute(rows)
        >>> int(filled.isna().sum().sum())
        0
        """
        from pgm.inference.api import impute

        return impute(self, data, memory_budget=memory_budget)

    def mpe(self, evidence=None, *, memory_budget: int | None = None):
        """The most probable explanation: the most probable joint state of the unobserved discrete nodes.

        Returns an :class:`~pgm.inference.MPE`: ``assignment`` (every discrete
        node's state, observed ones included; a DataFrame for many cases),
        ``log_probability`` (log p(assignment, evidence)) and ``log_evidence``.
        Continuous nodes are integrated out.  Ties go to the first state.

        Parameters
        ----------
        evidence : dict, Series or DataFrame, optional
            One case or many, as for :meth:`query`.
        memory_budget : int, optional
            Bytes inference may use (see :meth:`query`).

        Examples
        --------
        >>> import pgm
        >>> best = pgm.load("asia").mpe({"dysp": "yes"})
        >>> best.assignment["bronc"]
        'yes'
        """
        from pgm.inference.api import mpe

        return mpe(self, evidence, memory_budget=memory_budget)

    def log_evidence(self, evidence, *, memory_budget: int | None = None):
        """log p(evidence) in nats: a float for one case, an array for many (as :meth:`log_likelihood`).

        Parameters
        ----------
        evidence : dict, Series or DataFrame
            One case or many, as for :meth:`query`.
        memory_budget : int, optional
            Bytes inference may use (see :meth:`query`).

        Examples
        --------
        >>> import math, pgm
        >>> net = pgm.load("earthquake")
        >>> math.isclose(math.exp(net.log_evidence({"Burglary": "True"})), 0.01)
        True
        """
        from pgm.inference.api import log_evidence

        return log_evidence(self, evidence, memory_budget=memory_budget)

    def inference_plan(self, targets=None, evidence=None, *, memory_budget: int | None = None):
        """The plan exact inference would follow for ``targets`` (None: every node) and this evidence pattern.

        Shows the elimination order, the junction tree's cliques and the
        largest table, without running anything or allocating the tables.

        Parameters
        ----------
        targets : str or sequence of str, optional
            The nodes to be queried; None: every node.
        evidence : dict, Series or DataFrame, optional
            As for :meth:`query`; only which nodes are observed matters.
        memory_budget : int, optional
            Bytes inference may use (see :meth:`query`).

        Examples
        --------
        >>> import pgm
        >>> plan = pgm.load("alarm").inference_plan()
        >>> plan.largest_table_entries
        144
        """
        from pgm.inference.api import inference_plan

        return inference_plan(self, targets, evidence, memory_budget=memory_budget)

    def align_to(self, reference: "BayesianNetwork", node: str) -> "BayesianNetwork":
        """This network with latent ``node``'s states permuted to best match ``reference`` (label switching).

        A latent node's states are defined only up to a permutation; this
        moves the parameters of ``node`` and its children so that each state
        matches the reference's closest one (Hungarian method on the
        parameters).  Nodes tied to ``node`` (every hidden state of a tied
        HMM) are permuted with it, and the ties are kept; aligning an
        observed node is an error.  See :mod:`pgm.learning.alignment`.

        Parameters
        ----------
        reference : BayesianNetwork
            A network with the same node, states and children.
        node : str
            A latent discrete node whose state labels EM chose arbitrarily.

        Examples
        --------
        >>> import pgm
        >>> z = pgm.Categorical(["a", "b"], table=[0.3, 0.7])
        >>> z.latent = True  # as after fitting a Categorical.latent node
        >>> truth = pgm.BayesianNetwork({
        ...     "z": z, "x": pgm.Categorical(["no", "yes"], parents=["z"], table=[[0.9, 0.1], [0.2, 0.8]])})
        >>> from pgm.learning.alignment import permute_states
        >>> swapped = permute_states(truth, "z", [1, 0])
        >>> swapped.align_to(truth, "z") == truth
        True
        """
        from pgm.learning.alignment import align_to

        return align_to(self, reference, node)[0]

    def joint_gaussian(self):
        """The joint normal distribution of a linear Gaussian network; see :mod:`pgm.inference.gaussian`.

        Examples
        --------
        >>> from pgm import BayesianNetwork, Gaussian, LinearGaussian
        >>> net = BayesianNetwork({"x": Gaussian(1.0, 4.0),
        ...                        "y": LinearGaussian(parents=["x"], weights={"x": 0.5}, variance=1.0)})
        >>> joint = net.joint_gaussian()
        >>> joint.mean.tolist(), joint.covariance.tolist()
        ([1.0, 0.5], [[4.0, 2.0], [2.0, 2.0]])
        """
        from pgm.inference.gaussian import joint_gaussian

        self._require_fitted("turned into a joint Gaussian")
        return joint_gaussian(self)

    def to_graphviz(self, **options):
        """A :class:`graphviz.Digraph` of the network; see :func:`pgm.render.to_graphviz`.

        Parameters
        ----------
        **options
            Those of :func:`pgm.render.to_graphviz`: ``observed``, ``latent``,
            ``trail``, ``evidence``, ``posteriors``, ``size``, ``ratio``, ``dpi``, ...
        """
        from pgm.render import to_graphviz

        return to_graphviz(self, **options)

    def _repr_svg_(self):
        from pgm.render import svg_or_none

        return svg_or_none(self)

    def write(self, path, *, format: str | None = None) -> None:
        """Write the network to ``path`` (BIF or JSON, by extension); see :func:`pgm.io.write`.

        Parameters
        ----------
        path : str or path
            The file to write (written atomically).
        format : {'bif', 'json'}, optional
            By default from the extension; BIF holds discrete networks only.

        Examples
        --------
        >>> import pgm, tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "asia.json")
        >>> pgm.load("asia").write(path)
        >>> pgm.read(path) == pgm.load("asia")
        True
        """
        from pgm.io import write

        write(self, path, format=format)

    @property
    def n_free_parameters(self) -> int:
        """Free parameters of all CPDs together; a CPD shared by tied nodes counts once."""
        repeated = {node for group in self._ties for node in group[1:]}
        return sum(cpd.n_free_parameters for node, cpd in self._cpds.items() if node not in repeated)
