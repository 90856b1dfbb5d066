"""A dynamic Bayesian network declared as two slices (a 2TBN).

A sequence ``x_0, x_1, ..., x_{T-1}`` of slices, each slice a copy of the same
nodes.  The *transition slice* gives every node's CPD at time ``t``; its
parents are nodes of the same slice (``"z"``) or of earlier slices
(``"z[t-1]"``, and ``"z[t-2]"`` ... for higher-order observed chains).  The
*initial slices* override the CPD of some nodes at ``t = 0, 1, ...``; a node
whose CPD at slice ``t`` is not overridden uses its transition CPD there too,
so parameters are tied across time without being repeated.  ``unroll(T)``
turns the declaration into an ordinary :class:`~pgm.BayesianNetwork` over the
nodes ``"x[0]" .. "x[T-1]"``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pgm.cpds import CPD, cpd_from_dict
from pgm.errors import CPDError, NodeError, StructureError
from pgm.graph import DAG

__all__ = ["DynamicBayesianNetwork", "previous"]

_SLICE_REFERENCE = re.compile(r"^(?P<node>.+)\[t(?P<offset>[+-]\s*\d+)?\]$")


def previous(node: str, lag: int = 1) -> str:
    """The name that refers to ``node`` ``lag`` slices back, as a parent: ``"node[t-lag]"``.

    Examples
    --------
    >>> previous("z")
    'z[t-1]'
    """
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 1:
        raise ValueError(f"lag must be a positive integer, got {lag!r}")
    return f"{node}[t-{lag}]"


def parse_parent(name: str, child: str) -> tuple[str, int]:
    """``(node, lag)`` for a parent name: ``"z"`` and ``"z[t]"`` are lag 0, ``"z[t-1]"`` lag 1."""
    match = _SLICE_REFERENCE.match(name)
    if match is None:
        return name, 0
    offset = int((match.group("offset") or "0").replace(" ", ""))
    if offset > 0:
        raise StructureError(
            f"the edge {name} -> {child} points backwards in time (from slice t{offset:+d} to slice t); "
            f"inter-slice edges go from earlier slices to later ones, e.g. {match.group('node')}[t-1] -> {child}"
        )
    return match.group("node"), -offset


class DynamicBayesianNetwork:
    """A dynamic Bayesian network: a transition slice and optional initial slices.

    Parameters
    ----------
    transition : mapping of str to CPD
        Every node's CPD at slice ``t``.  Parents named ``"z"`` are in the same
        slice; ``"z[t-1]"`` is ``z`` one slice back (see :func:`previous`).
    initial : mapping of str to CPD, or sequence of them, optional
        CPDs that replace the transition CPD at slice 0 (a mapping), or at
        slices 0, 1, ... (a list of mappings).  A node whose transition CPD
        reaches back ``k`` slices needs one at every slice ``t < k``.
    latent : sequence of str, optional
        Nodes never observed (besides those whose CPD is declared latent).
    name : str

    Examples
    --------
    >>> import pgm
    >>> from pgm.dynamic import DynamicBayesianNetwork
    >>> rain = pgm.Categorical(["no", "yes"], parents=["rain[t-1]"], table=[[0.7, 0.3], [0.3, 0.7]])
    >>> umbrella = pgm.Categorical(["no", "yes"], parents=["rain"], table=[[0.8, 0.2], [0.1, 0.9]])
    >>> dbn = DynamicBayesianNetwork({"rain": rain, "umbrella": umbrella},
    ...                              initial={"rain": pgm.Categorical(["no", "yes"], table=[0.5, 0.5])},
    ...                              latent=["rain"])
    >>> dbn.latent_nodes, dbn.order
    (('rain',), 1)
    >>> dbn.unroll(3).nodes
    ('rain[0]', 'umbrella[0]', 'rain[1]', 'umbrella[1]', 'rain[2]', 'umbrella[2]')
    """

    def __init__(self, transition: Mapping[str, CPD], *, initial=None, latent: Sequence[str] = (),
                 name: str = "dbn"):
        if not isinstance(transition, Mapping) or not transition:
            raise TypeError("transition must be a non-empty mapping of node name to CPD")
        self.name = name
        self.nodes = tuple(transition)
        for node, cpd in transition.items():
            if not isinstance(cpd, CPD):
                raise TypeError(f"the CPD of {node!r} must be a CPD (e.g. Categorical), not {type(cpd).__name__}")
            if _SLICE_REFERENCE.match(node):
                raise NodeError(f"node name {node!r} looks like a slice reference; name nodes without '[t...]'")
        if initial is None:
            initial = []
        elif isinstance(initial, Mapping):
            initial = [initial]
        initial = [dict(s) for s in initial]
        for t, slice_cpds in enumerate(initial):
            for node in slice_cpds:
                if node not in transition:
                    raise NodeError(f"initial slice {t} gives a CPD for {node!r}, which is not a node of the transition")
        if isinstance(latent, str):
            raise TypeError("latent must be a list of node names")
        for node in latent:
            if node not in transition:
                raise NodeError(f"latent node {node!r} is not a node of the transition")
        declared = {n for n, c in transition.items() if c.latent} | set(latent)
        self.latent_nodes = tuple(n for n in self.nodes if n in declared)
        self.order = 0
        self._declared = dict(transition)
        self._transition = self._bind_slice(transition, None)
        self._initial = [self._bind_slice(s, t) for t, s in enumerate(initial)]
        self._check_every_slice_is_defined()

    # ------------------------------------------------------------------ construction
    def _bind_slice(self, cpds: Mapping[str, CPD], t: int | None) -> dict[str, CPD]:
        """Bind each CPD, checking parents exist, reach no further back than slice 0, and form no cycle."""
        where = "the transition slice" if t is None else f"initial slice {t}"
        same_slice = {}
        for node, cpd in cpds.items():
            same_slice[node] = []
            for parent in cpd.parents:
                base, lag = parse_parent(parent, node)
                if base not in self.nodes:
                    raise NodeError(f"parent {parent!r} of {node!r} in {where} is not a node of the network")
                if t is not None and lag > t:
                    raise StructureError(
                        f"{node!r} in initial slice {t} has parent {parent!r}, which lies before slice 0")
                if lag == 0:
                    same_slice[node].append(base)
                self.order = max(self.order, lag)
        # Same-slice edges must be acyclic; parents outside `cpds` (initial slices) are roots here.
        DAG({**{p: () for ps in same_slice.values() for p in ps if p not in same_slice}, **same_slice})
        bound = {}
        for node in _slice_order(same_slice):
            cpd = cpds[node]
            parent_domains = {}
            for parent in cpd.parents:
                base, _ = parse_parent(parent, node)
                parent_domains[parent] = self._domain_of(base)
            bound[node] = cpd.bind(node, parent_domains)
            if t is not None and bound[node].domain != self._domain_of(node):
                raise CPDError(
                    f"{node!r} has states {bound[node].domain} in initial slice {t} but "
                    f"{self._domain_of(node)} in the transition slice")
        return {node: bound[node] for node in cpds}

    def _domain_of(self, node: str):
        """A node's states as its transition CPD declares them (None for a continuous node)."""
        return self._declared[node].domain

    def _check_every_slice_is_defined(self) -> None:
        for t in range(self.order):
            for node in self.nodes:
                cpd = self.cpd(node, t)
                for parent in cpd.parents:
                    _, lag = parse_parent(parent, node)
                    if lag > t:
                        raise StructureError(
                            f"{node!r} needs a CPD for slice {t}: its transition CPD has parent {parent!r}, which "
                            f"lies before slice 0 there; give one in initial[{t}]")

    # ------------------------------------------------------------------ reading
    def cpd(self, node: str, t: int) -> CPD:
        """The bound CPD of ``node`` at slice ``t`` (an initial slice's, or the transition's).

        Examples
        --------
        >>> import pgm
        >>> dbn = pgm.dynamic.hmm(2, emission="categorical", n_symbols=3)
        >>> dbn.cpd("z", 0).parents, dbn.cpd("z", 5).parents
        ((), ('z[t-1]',))
        """
        if node not in self._transition:
            raise NodeError(f"{node!r} is not a node of the network")
        if t < len(self._initial) and node in self._initial[t]:
            return self._initial[t][node]
        return self._transition[node]

    @property
    def transition(self) -> Mapping[str, CPD]:
        """The transition slice's bound CPDs."""
        return dict(self._transition)

    @property
    def initial(self) -> list[dict[str, CPD]]:
        """The initial slices' bound CPDs (overrides only), one dict per slice."""
        return [dict(s) for s in self._initial]

    @property
    def n_initial(self) -> int:
        """Number of slices at the start that may use CPDs other than the transition's."""
        return max(len(self._initial), self.order)

    @property
    def observed_nodes(self) -> tuple[str, ...]:
        return tuple(n for n in self.nodes if n not in self.latent_nodes)

    @property
    def domains(self) -> dict:
        return {n: self._transition[n].domain for n in self.nodes}

    @property
    def is_fitted(self) -> bool:
        return all(c.is_fitted for c in self._distinct_cpds().values())

    def _distinct_cpds(self) -> dict[str, CPD]:
        """Every CPD with its parameters, keyed ``"x[t]"`` (transition) or ``"x[k]"`` (initial slice k)."""
        out = {f"{n}[t]": c for n, c in self._transition.items()}
        for k, s in enumerate(self._initial):
            out.update({f"{n}[{k}]": c for n, c in s.items()})
        return out

    def cpd_key(self, node: str, t: int) -> str:
        """The key of the CPD ``node`` uses at slice ``t`` among :meth:`_distinct_cpds`."""
        return f"{node}[{t}]" if t < len(self._initial) and node in self._initial[t] else f"{node}[t]"

    @property
    def n_free_parameters(self) -> int:
        """Free parameters, each shared CPD counted once.

        Examples
        --------
        >>> import pgm
        >>> pgm.dynamic.hmm(3, emission="categorical", n_symbols=6).n_free_parameters  # 2 + 3*2 + 3*5
        23
        """
        return int(sum(c.n_free_parameters for c in self._distinct_cpds().values()))

    def with_cpds(self, cpds: Mapping[str, CPD]) -> "DynamicBayesianNetwork":
        """A copy with CPDs replaced, keyed as :meth:`cpd_key` (``"x[t]"`` or ``"x[0]"``)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_compiled_factors", None)  # compiled for the old CPDs
        new._transition = dict(self._transition)
        new._initial = [dict(s) for s in self._initial]
        for key, cpd in cpds.items():
            node, _, where = key[:-1].rpartition("[")
            if where == "t":
                new._transition[node] = cpd
            else:
                new._initial[int(where)][node] = cpd
        return new

    def __repr__(self) -> str:
        return (f"DynamicBayesianNetwork({self.name!r}, nodes={list(self.nodes)}, latent={list(self.latent_nodes)}, "
                f"order={self.order})")

    def __eq__(self, other) -> bool:
        if not isinstance(other, DynamicBayesianNetwork):
            return NotImplemented
        return (self.nodes == other.nodes and self.latent_nodes == other.latent_nodes
                and self._distinct_cpds() == other._distinct_cpds())

    __hash__ = None


    # ------------------------------------------------------------------ inference and learning
    def log_likelihood(self, data, *, sequence=None, time=None, lengths=None, soft=None, checkpoint=None):
        """``log p(sequence)`` in nats for every sequence, as a Series indexed by sequence id.

        Parameters
        ----------
        data : DataFrame, list of DataFrames, mapping, or array
            A long DataFrame with a ``sequence`` id column (rows of a sequence
            contiguous, in time order or ordered by ``time``), a list of
            DataFrames (one per sequence), an array ``X`` (one column per
            observed node) with ``lengths`` (hmmlearn's convention), or one
            DataFrame or mapping for a single sequence.  Latent columns are
            absent; missing observed values are summed out.
        sequence : str, optional
            The sequence-id column.
        time : str, optional
            A column that orders the rows within each sequence.
        lengths : sequence of int, optional
            The lengths of the sequences stacked in ``X``.
        soft : mapping of str to DataFrame or array, optional
            Soft (virtual) evidence: for a discrete node (latent or
            observed), a likelihood over its states at some steps -- a
            DataFrame indexed by (sequence, t) with one column per state
            (the shape of :meth:`smoothed`'s answer), or an array of shape
            (total steps, states) in the data's step order.  It multiplies
            in, as ``{node: {state: weight}}`` evidence does in
            :meth:`pgm.BayesianNetwork.query`.
        checkpoint : True or int, optional
            Run in windows of this many steps (``True``: the square root of
            the longest sequence), keeping one window's working arrays and a
            filtered distribution per window: memory O(sqrt(T)) instead of
            O(T) joint hidden states per sequence, same answer.  Also taken
            by :meth:`smoothed` and :meth:`fit` (EM).

        Returns
        -------
        pandas.Series

        Examples
        --------
        >>> import math, pgm
        >>> coin = pgm.dynamic.hmm(1, emission="categorical", n_symbols=2, startprob=[1.0],
        ...                        transmat=[[1.0]], emissionprob=[[0.25, 0.75]])
        >>> math.isclose(coin.log_likelihood({"y": [1, 1, 0]}).iloc[0], math.log(0.75 * 0.75 * 0.25))
        True
        """
        from pgm.dynamic.inference import log_likelihood

        return log_likelihood(self, data, sequence=sequence, time=time, lengths=lengths, soft=soft,
                              checkpoint=checkpoint)

    def score(self, data, **where) -> float:
        """Total log-likelihood of all sequences (nats), as hmmlearn's ``score``."""
        return float(self.log_likelihood(data, **where).sum())

    def filtered(self, data, **where):
        """``p(z_t | x_0..t)`` per hidden node: a DataFrame indexed by (sequence, t), columns (node, state).

        Parameters
        ----------
        data : DataFrame, list of DataFrames, mapping, or array
            Sequences (see :meth:`log_likelihood`).
        sequence, time, lengths, soft
            The sequence-id column, an optional time column, hmmlearn's
            ``lengths`` with an array ``X``, soft evidence (keyword
            arguments; see :meth:`log_likelihood`).

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import pgm
        >>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
        ...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
        >>> umbrella.filtered({"y": [1, 1]})[("z", 1)].round(3).tolist()   # AIMA: 0.818, 0.883
        [0.818, 0.883]
        """
        from pgm.dynamic.inference import filtered

        return filtered(self, data, **where)

    def smoothed(self, data, **where):
        """``p(z_t | x_0..T-1)`` per hidden node, as :meth:`filtered` (forward-backward).

        Parameters
        ----------
        data : DataFrame, list of DataFrames, mapping, or array
            Sequences (see :meth:`log_likelihood`).
        sequence, time, lengths, soft
            The sequence-id column, an optional time column, hmmlearn's
            ``lengths`` with an array ``X``, soft evidence (keyword
            arguments; see :meth:`log_likelihood`).

        Returns
        -------
        pandas.DataFrame
            Indexed by (sequence, t), columns (node, state).

        Examples
        --------
        >>> import pgm
        >>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
        ...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
        >>> umbrella.smoothed({"y": [1, 1]})[("z", 1)].round(3).tolist()   # AIMA: 0.883 on day 1
        [0.883, 0.883]
        """
        from pgm.dynamic.inference import smoothed

        return smoothed(self, data, **where)

    def most_probable_path(self, data, **where):
        """Viterbi: the most probable hidden path of each sequence and ``log p(path, x)``.


        Parameters
        ----------
        data : DataFrame, list of DataFrames, mapping, or array
            Sequences (see :meth:`log_likelihood`).
        sequence, time, lengths, soft
            The sequence-id column, an optional time column, hmmlearn's
            ``lengths`` with an array ``X``, soft evidence (keyword
            arguments; see :meth:`log_likelihood`).

        Returns
        -------
        MostProbablePath
            ``path`` (DataFrame of the hidden nodes' states, indexed by
            (sequence, t)) and ``log_probability`` (Series per sequence).

        Examples
        --------
        >>> import pgm
        >>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
        ...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
        >>> umbrella.most_probable_path({"y": [1, 1, 0, 1, 1]}).path["z"].tolist()   # AIMA figure 15.5
        [1, 1, 0, 1, 1]
        """
        from pgm.dynamic.inference import most_probable_path

        return most_probable_path(self, data, **where)

    def predict(self, data, steps: int = 1, **where):
        """``p(z_{T-1+k} | x_0..T-1)`` for ``k = 1..steps`` after each sequence's end.

        Parameters
        ----------
        data : DataFrame, list of DataFrames, mapping, or array
            Sequences (see :meth:`log_likelihood`).
        steps : int, default 1
            How far ahead.

        Returns
        -------
        pandas.DataFrame
            Indexed by (sequence, step), columns (node, state).

        Examples
        --------
        >>> import pgm
        >>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
        ...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
        >>> umbrella.predict({"y": [1, 1]}, steps=2)[("z", 1)].round(3).tolist()
        [0.653, 0.561]
        """
        from pgm.dynamic.inference import predict

        return predict(self, data, steps, **where)

    def sample(self, lengths, *, seed=None):
        """Sequences of the given lengths: a long DataFrame with columns ``sequence``, ``t`` and every node.

        Parameters
        ----------
        lengths : sequence of int
            One length per sequence.
        seed : None, int or numpy.random.Generator

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import pgm
        >>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
        ...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
        >>> umbrella.sample([3, 2], seed=0).shape
        (5, 4)
        """
        from pgm.dynamic.sampling import sample

        return sample(self, lengths, seed=seed)

    def statistics(self, data, **where):
        """(Expected) sufficient statistics of every distinct CPD, keyed as :meth:`cpd_key`; they add over
        disjoint sets of sequences."""
        from pgm.dynamic.learning import expected_statistics

        return expected_statistics(self, data, **where)[0]

    def from_statistics(self, statistics, *, prior=None):
        """A network with every CPD fitted to ``statistics`` (see :meth:`statistics`)."""
        from pgm.dynamic.learning import from_statistics

        return from_statistics(self, statistics, prior=prior)

    def fit(self, data, *, sequence=None, time=None, lengths=None, prior=None, max_iter: int = 100,
            tol: float = 1e-6, n_init: int = 1, init="random", seed=None, callback=None, progress: bool = False,
            soft=None, checkpoint=None):
        """Fit every CPD: by counts and least squares without hidden nodes, by Baum-Welch (EM) with them.

        Parameters
        ----------
        data, sequence, time, lengths, soft, checkpoint
            Sequences (and soft evidence, and checkpointed windows for long
            sequences), as for :meth:`log_likelihood`.
        prior : Prior, list of Prior, or dict of node to Prior, optional
            Pseudo-statistics added to every distinct CPD's (e.g. ``pgm.Dirichlet(1)``).
        max_iter, tol, n_init, init, seed, callback, progress
            Baum-Welch's options (below); ``progress=True`` shows a tqdm bar
            over the iterations; ``callback(iteration, mean log-likelihood per
            step, network)`` is called after every E-step.

        Returns
        -------
        DynamicBayesianNetwork
            A new network; this one is unchanged.

        EM stops when the mean log-likelihood per step gains less than
        ``tol`` (a negative ``tol`` runs exactly ``max_iter`` iterations,
        without a ConvergenceWarning); ``n_init`` random starts (``seed``),
        or ``init="current"``.
        The result carries ``fit_report_``.

        Examples
        --------
        >>> import pgm
        >>> truth = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
        ...                         transmat=[[0.9, 0.1], [0.2, 0.8]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
        >>> data = truth.sample([200] * 50, seed=1)
        >>> complete = truth.latent_free().fit(data, sequence="sequence")   # the hidden path as if seen
        >>> round(float(complete.cpd("z", 1).table[0, 0]), 1)
        0.9
        """
        from pgm.dynamic.learning import fit

        return fit(self, data, sequence=sequence, time=time, lengths=lengths, prior=prior, max_iter=max_iter,
                   tol=tol, n_init=n_init, init=init, seed=seed, callback=callback, progress=progress, soft=soft,
                   checkpoint=checkpoint)

    def fit_pieces(self, pieces, *, sequence: str, **options) -> "DynamicBayesianNetwork":
        """Baum-Welch over pieces that each hold whole sequences (a list of DataFrames or a Dask DataFrame),
        one piece in memory at a time; see :func:`pgm.dynamic.learning.fit_pieces`.

        Examples
        --------
        >>> import pgm
        >>> truth = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
        ...                         transmat=[[0.9, 0.1], [0.2, 0.8]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
        >>> frame = truth.sample([50] * 20, seed=0).drop(columns="z")
        >>> pieces = [frame[frame.sequence < 10], frame[frame.sequence >= 10]]
        >>> by_pieces = truth.fit_pieces(pieces, sequence="sequence", max_iter=3, tol=-1.0)
        >>> at_once = truth.fit(frame, sequence="sequence", init="current", max_iter=3, tol=-1.0)
        >>> bool(abs(by_pieces.cpd("z", 1).table - at_once.cpd("z", 1).table).max() < 1e-12)
        True
        """
        from pgm.dynamic.learning import fit_pieces

        return fit_pieces(self, pieces, sequence=sequence, **options)

    def latent_free(self) -> "DynamicBayesianNetwork":
        """The same network with every node declared observed (to fit from data that includes the hidden path)."""
        new = self.with_cpds({})
        new.latent_nodes = ()
        for table in [new._transition, *new._initial]:
            for node, cpd in list(table.items()):
                if cpd.latent:
                    copy = object.__new__(type(cpd))
                    copy.__dict__.update(cpd.__dict__)
                    copy.latent = False
                    table[node] = copy
        return new

    # ------------------------------------------------------------------ bridges
    def unroll(self, length: int, *, name: str | None = None):
        """An ordinary :class:`~pgm.BayesianNetwork` over ``length`` slices, nodes ``"x[0]" .. "x[T-1]"``.

        CPDs that serve several slices are tied in it, so fitting the unrolled
        network pools them as the dynamic one does.

        Examples
        --------
        >>> import pgm
        >>> chain = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2).unroll(4)
        >>> chain.parents("y[3]"), chain.tied_groups
        (('z[3]',), (('y[0]', 'y[1]', 'y[2]', 'y[3]'), ('z[1]', 'z[2]', 'z[3]')))
        """
        from pgm.network import BayesianNetwork

        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ValueError(f"length must be a positive integer, got {length!r}")
        cpds, groups = {}, {}
        for t in range(length):
            for node in _slice_order({n: [b for p in self.cpd(n, t).parents
                                          for b, lag in [parse_parent(p, n)] if lag == 0] for n in self.nodes}):
                cpd = self.cpd(node, t)
                names = {}
                for p in cpd.parents:
                    base, lag = parse_parent(p, node)
                    names[p] = f"{base}[{t - lag}]"
                spec = _rename(cpd.to_dict(), names)
                cpds[f"{node}[{t}]"] = cpd_from_dict(spec)
                if node in self.latent_nodes:
                    cpds[f"{node}[{t}]"].latent = True
                groups.setdefault(self.cpd_key(node, t), []).append(f"{node}[{t}]")
        tied = [g for g in groups.values() if len(g) > 1]
        return BayesianNetwork(cpds, name=name or f"{self.name}_unrolled_{length}", tied=tied or None)

    def to_dict(self) -> dict:
        """A JSON-compatible dict (format ``"pgm-dbn"``); :meth:`from_dict` reads it back."""
        return {
            "format": "pgm-dbn", "version": 1, "name": self.name, "latent": list(self.latent_nodes),
            "transition": {n: c.to_dict() for n, c in self._transition.items()},
            "initial": [{n: c.to_dict() for n, c in s.items()} for s in self._initial],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "DynamicBayesianNetwork":
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> import json, pgm
        >>> from pgm.dynamic import DynamicBayesianNetwork
        >>> dbn = pgm.dynamic.hmm(2, emission="gaussian", n_features=2, covariance="full", startprob=[0.5, 0.5],
        ...                       transmat=[[0.9, 0.1], [0.1, 0.9]], means=[[0, 0], [3, 3]],
        ...                       covars=[[[1, 0.5], [0.5, 1]], [[2, 0], [0, 2]]])
        >>> DynamicBayesianNetwork.from_dict(json.loads(json.dumps(dbn.to_dict()))) == dbn
        True
        """
        if not isinstance(data, Mapping) or data.get("format") != "pgm-dbn":
            raise CPDError("not a pgm dynamic network: 'format' must be 'pgm-dbn'")
        transition = {n: cpd_from_dict(s) for n, s in data["transition"].items()}
        initial = [{n: cpd_from_dict(s) for n, s in sl.items()} for sl in data.get("initial", [])]
        return cls(transition, initial=initial, latent=data.get("latent", ()), name=data.get("name", "dbn"))

    def to_graphviz(self, **options):
        """The two-slice diagram (slice t-1 and slice t); see :func:`pgm.dynamic.render.two_slice_graphviz`."""
        from pgm.dynamic.render import two_slice_graphviz

        return two_slice_graphviz(self, **options)


def _slice_order(parents: Mapping[str, Sequence[str]]) -> list[str]:
    """The nodes of one slice, parents before children (parents outside the mapping are ignored)."""
    graph = {n: tuple(p for p in ps if p in parents) for n, ps in parents.items()}
    return [n for n in DAG(graph).topological_order()]


def _rename(spec: dict, names: Mapping[str, str]) -> dict:
    """A CPD's dict with its parents (and the features that use them) renamed."""
    spec = dict(spec)
    spec["parents"] = [names[p] for p in spec.get("parents", [])]
    spec.pop("latent", None)
    if "features" in spec:
        spec["features"] = [_rename_feature(f, names) for f in spec["features"]]
    return spec


def _rename_feature(feature, names):
    if isinstance(feature, dict):
        return {key: (names.get(value, value) if isinstance(value, str) and key != "type"
                      else {names.get(k, k): v for k, v in value.items()} if isinstance(value, dict)
                      else value) for key, value in feature.items()}
    return feature
