"""Ancestral (forward) sampling.

Nodes are visited in topological order and each is drawn for a whole block of
rows at once given its parents' already-drawn columns.

- Discrete nodes use the inverse CDF: a uniform ``u`` per row is compared with
  the cumulative probabilities of the row's parent configuration.
- Continuous nodes are ``mean(parents) + sigma * e`` with standard normal ``e``.

Rows are drawn in fixed-size chunks (:data:`pgm._chunks.CHUNK_ROWS`), each
from its own generator spawned off the caller's, so chunks can run on several
cores while a seed still gives the same rows on every machine, whatever its
number of cores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgm._chunks import map_chunks, row_chunks
from pgm._random import as_generator
from pgm.data import code_dtype, to_frame

__all__ = ["sample", "sample_columns"]


def sample_columns(network, n: int, *, seed=None, progress: bool = False) -> dict[str, np.ndarray]:
    """Ancestral samples as columns: integer codes for discrete nodes, float64 for continuous ones."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"the number of rows must be a non-negative integer, got {n!r}")
    n = int(n)
    rng = as_generator(seed)
    order = [(node, network[node]) for node in network.topological_order()]
    _refuse_if_too_large(n, order)
    columns = {
        node: np.empty(n, dtype=code_dtype(len(cpd.domain)) if cpd.is_discrete else np.float64)
        for node, cpd in order
    }
    chunks = row_chunks(n)
    generators = rng.spawn(len(chunks))

    def draw(k: int, rows: slice) -> None:
        size, generator = rows.stop - rows.start, generators[k]
        block: dict[str, np.ndarray] = {}
        for node, cpd in order:
            parents = {p: block[p] for p in cpd.parents}
            block[node] = cpd.sample(parents, size, generator, out=columns[node][rows])

    map_chunks(draw, chunks, progress="sampling" if progress else None)
    return columns


def _refuse_if_too_large(n: int, order) -> None:
    """Refuse, before allocating anything, a sample that cannot fit in this machine's memory."""
    from pgm._memory import physical_memory

    row_bytes = sum(code_dtype(len(cpd.domain)).itemsize if cpd.is_discrete else 8 for _, cpd in order)
    needed = n * row_bytes
    available = physical_memory()
    if needed > available:
        from pgm.errors import InferenceTooLarge
        from pgm.inference.junction_tree import format_bytes

        raise InferenceTooLarge(
            f"sampling {n:,} rows of {len(order)} nodes needs {format_bytes(needed)}, more than this machine's "
            f"{format_bytes(available)} of memory; draw fewer rows at a time (each call with its own seed)"
        )


def sample(network, n: int, *, seed=None, progress: bool = False) -> pd.DataFrame:
    """Draw ``n`` independent rows from the network's joint distribution.

    Parameters
    ----------
    network : BayesianNetwork
    n : int
        Number of rows.
    seed : None, int or numpy.random.Generator
        Source of randomness; the same seed gives the same rows.
    progress : bool, default False
        Show a progress bar over the rows (tqdm; the ``progress`` extra).

    Returns
    -------
    pandas.DataFrame
        One column per node, in the network's node order: categorical (with
        the node's states as categories, in order) for discrete nodes, float64
        for continuous ones.

    Examples
    --------
    >>> import pgm
    >>> rows = pgm.load("asia").sample(5, seed=1)
    >>> rows.shape
    (5, 8)
    >>> list(rows["smoke"].cat.categories)
    ['yes', 'no']
    """
    columns = sample_columns(network, n, seed=seed, progress=progress)
    return to_frame(columns, network.domains, int(n))
