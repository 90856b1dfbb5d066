"""Family statistics read off a :class:`~pgm.structure.table.SufficientTable`, many families per pass.

A search asks for the statistics of families (a child and a parent set)
in batches: "node ``j`` with its parents plus each other variable".  For
discrete families the counts of the whole batch come from one product of
two sparse matrices over the table's distinct rows -- the family's
configuration of every row (one-hot, weighted) against the one-hot codes
of every candidate -- instead of one pass per candidate.  The cost depends
on the number of distinct rows, not on the number of rows of the data.

For a continuous child the statistics are the weight, means and centred
co-moments of the continuous family members within each configuration of
the discrete parents, pooled from the table's groups.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from pgm.structure.table import SufficientTable, _pool

__all__ = ["FamilyStatistics"]

#: Entries (output cells, or distinct rows times candidates) above which a batch is counted candidate by candidate.
_LARGEST_BATCH = 50_000_000


class FamilyStatistics:
    """Counts and moments of families of variables, addressed by variable index.

    Parameters
    ----------
    table : SufficientTable

    Examples
    --------
    >>> import pgm
    >>> from pgm.structure import FamilyStatistics, sufficient_table
    >>> stats = FamilyStatistics(sufficient_table(pgm.load("asia").sample(1000, seed=0)))
    >>> smoke, lung = stats.index["smoke"], stats.index["lung"]
    >>> float(stats.counts(lung, (smoke,)).sum()), stats.counts(lung, (smoke,)).shape
    (1000.0, (2, 2))
    """

    def __init__(self, table: SufficientTable):
        self.table = table
        self.names = table.names
        self.index = {name: i for i, name in enumerate(table.names)}
        self.is_discrete = np.array([n in table.states for n in table.names])
        self.cardinality = np.array([len(table.states[n]) if n in table.states else 0 for n in table.names],
                                    dtype=np.int64)
        discrete_position = {n: j for j, n in enumerate(table.discrete)}
        continuous_position = {n: j for j, n in enumerate(table.continuous)}
        self._column = [discrete_position.get(n, continuous_position.get(n)) for n in table.names]
        self._codes = [table.codes[:, discrete_position[n]].astype(np.intp) if n in discrete_position else None
                       for n in table.names]
        self.n_rows = table.n_rows
        self._one_hot = None
        self.passes = 0  # batches counted, for reports

    # ------------------------------------------------------------------ discrete
    def configuration(self, variables) -> tuple[np.ndarray, int]:
        """Each group's joint configuration of discrete ``variables`` (first most significant), and their number."""
        index = np.zeros(self.table.n_groups, dtype=np.intp)
        size = 1
        for v in variables:
            k = int(self.cardinality[v])
            index = index * k + self._codes[v]
            size *= k
        return index, size

    def counts(self, child: int, parents) -> np.ndarray:
        """The count table of a discrete family: shape (parent configurations, child states)."""
        index, size = self.configuration(tuple(parents) + (child,))
        self.passes += 1
        table = np.bincount(index, weights=self.table.weight, minlength=size)
        return table.reshape(-1, int(self.cardinality[child]))

    def counts_adding(self, child: int, parents, candidates) -> list[np.ndarray]:
        """Count tables of ``child`` with ``parents + (x,)`` for every discrete ``x`` of ``candidates``, in one pass.

        The table for ``x`` has shape (configurations of parents and ``x``, child states).
        """
        candidates = list(candidates)
        if not candidates:
            return []
        joint, starts = self.joint_counts_adding(child, parents, candidates)
        q, k, _ = joint.shape
        tables = []
        for x, start in zip(candidates, starts):
            kx = int(self.cardinality[x])
            tables.append(joint[:, :, start:start + kx].transpose(0, 2, 1).reshape(q * kx, k))
        return tables

    def joint_counts_adding(self, child: int, parents, candidates) -> tuple[np.ndarray, np.ndarray]:
        """Counts of (parent configuration, child state, candidate state) for all ``candidates`` at once.

        Returns an array of shape (parent configurations, child states, sum of
        the candidates' cardinalities) -- candidate ``i``'s states are the
        columns from ``starts[i]`` -- from one weighted ``bincount`` over
        (distinct row, candidate) pairs.
        """
        k = int(self.cardinality[child])
        family, size = self.configuration(tuple(parents) + (child,))
        cards = self.cardinality[candidates]
        starts = np.concatenate([[0], np.cumsum(cards)[:-1]]).astype(np.intp)
        width = int(cards.sum())
        m = self.table.n_groups
        pairs = getattr(self, "_pairs_joint", None)
        if not parents and pairs is not None and self.is_discrete[child] and self.is_discrete[candidates].all():
            # Pairs were counted already (PC's first level): read them off instead of a pass.
            joint, offsets = pairs
            picked = np.concatenate([np.arange(offsets[x], offsets[x] + self.cardinality[x]) for x in candidates])
            return joint[offsets[child]:offsets[child + 1]][:, picked].reshape(1, k, width), starts
        self.passes += 1
        if size * width > _LARGEST_BATCH or m * len(candidates) > _LARGEST_BATCH:
            joint = np.zeros((size, width))
            for x, start in zip(candidates, starts):
                kx = int(self.cardinality[x])
                joint[:, start:start + kx] = np.bincount(family * kx + self._codes[x], weights=self.table.weight,
                                                         minlength=size * kx).reshape(size, kx)
        elif 2 * len(candidates) > self.is_discrete.sum():
            # Every discrete variable's state column at once, then the candidates' columns picked out:
            # a search's batches hold most variables, and this needs no per-call gathering of codes.
            columns, repeated, offsets = self._all_columns()
            total = int(offsets[-1])
            index = (family[:, None] * total + columns).ravel()
            joint = np.bincount(index, weights=repeated, minlength=size * total).reshape(size, total)
            picked = np.concatenate([np.arange(offsets[x], offsets[x] + self.cardinality[x]) for x in candidates])
            joint = joint[:, picked]
        else:
            # A few candidates (PC's tests given one neighbour): only their columns, each a contiguous row
            # of the transposed codes, shifted to the candidate's place among the output columns.
            codes = self._codes_by_variable()
            shifted = codes[candidates] + starts[:, None]
            index = (family[None, :] * width + shifted).ravel()
            joint = np.bincount(index, weights=np.tile(self.table.weight, len(candidates)),
                                minlength=size * width).reshape(size, width)
        return joint.reshape(size // k, k, width), starts

    def _codes_by_variable(self) -> np.ndarray:
        """The discrete codes as one contiguous row per variable (zeros for continuous ones), built once."""
        if getattr(self, "_by_variable", None) is None:
            rows = np.zeros((len(self.names), self.table.n_groups), dtype=np.intp)
            for v in np.flatnonzero(self.is_discrete):
                rows[v] = self._codes[v]
            self._by_variable = rows
        return self._by_variable

    def _all_columns(self):
        """Each group's state column for every discrete variable (offset per variable), and the weights repeated to match."""
        if getattr(self, "_columns_cache", None) is None:
            offsets = np.zeros(len(self.names) + 1, dtype=np.intp)
            np.cumsum(self.cardinality, out=offsets[1:])
            discrete = np.flatnonzero(self.is_discrete)
            columns = np.stack([offsets[v] + self._codes[v] for v in discrete], axis=1)
            self._columns_cache = (columns, np.repeat(self.table.weight, discrete.size), offsets)
        return self._columns_cache

    def _one_hot_codes(self):
        """The (groups x all states) one-hot matrix of the discrete codes, built once."""
        if self._one_hot is None:
            offsets = np.zeros(len(self.names) + 1, dtype=np.intp)
            np.cumsum(self.cardinality, out=offsets[1:])
            discrete = np.flatnonzero(self.is_discrete)
            m = self.table.n_groups
            columns = np.stack([offsets[v] + self._codes[v] for v in discrete], axis=1) if discrete.size else \
                np.zeros((m, 0), dtype=np.intp)
            rows = np.repeat(np.arange(m), discrete.size)
            self._one_hot = (scipy.sparse.csc_matrix((np.ones(rows.size), (rows, columns.ravel())),
                                                     shape=(m, int(offsets[-1]))), offsets)
        return self._one_hot

    def pairwise_counts(self) -> dict:
        """Joint counts of every pair of discrete variables, from one product: ``{(a, b): (k_a, k_b) table}``."""
        one_hot, offsets = self._one_hot_codes()
        weighted = one_hot.multiply(self.table.weight[:, None]).tocsc()
        joint = (weighted.T @ one_hot).toarray()
        self.passes += 1
        self._pairs_joint = (joint, offsets)
        discrete = np.flatnonzero(self.is_discrete)
        return {(int(a), int(b)): joint[offsets[a]:offsets[a + 1], offsets[b]:offsets[b + 1]]
                for a in discrete for b in discrete if a != b}

    # ------------------------------------------------------------------ continuous
    def moments(self, continuous, discrete_parents=()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weight, means and centred co-moments of ``continuous`` variables within each configuration of ``discrete_parents``.

        Shapes (q,), (q, c) and (q, c, c), with ``q`` the number of
        configurations of the discrete parents (1 without any).
        """
        columns = [self._column[v] for v in continuous]
        means = self.table.means[:, columns]
        comoments = self.table.comoments[:, columns][:, :, columns]
        index, size = self.configuration(tuple(discrete_parents))
        self.passes += 1
        return _pool(index, size, self.table.weight, means, comoments)
