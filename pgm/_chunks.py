"""Row chunks: the unit in which pgm sweeps over data.

Working on blocks of rows that fit in the CPU cache is about twice as fast as
whole-column passes for the element-wise arithmetic of scoring and fitting,
and it lets two threads share the work (NumPy releases the GIL inside its
loops).  Results never depend on the number of threads: every chunk's work is
independent and chunk results are combined in chunk order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: Rows per chunk.  Part of the definition of a seeded sample (each chunk
#: draws from its own generator), so it is a constant, not a tuning knob.
CHUNK_ROWS = 65_536


def row_chunks(n_rows: int, size: int = CHUNK_ROWS) -> list[slice]:
    """Consecutive slices of at most ``size`` rows covering ``range(n_rows)``."""
    return [slice(start, min(start + size, n_rows)) for start in range(0, n_rows, size)]


def map_chunks(function: Callable[[int, slice], object], chunks: list[slice], *, progress: str | None = None) -> list:
    """``[function(k, chunk) for k, chunk in enumerate(chunks)]``, spread over the CPU's cores.

    ``progress`` (a label such as ``"sampling"``) shows a progress bar over
    the rows, with tqdm.
    """
    bar = progress_bar(progress, sum(c.stop - c.start for c in chunks), unit="rows")
    if bar is not None:
        inner = function

        def function(k: int, chunk: slice):  # noqa: F811 - the same work, then one tick per chunk's rows
            result = inner(k, chunk)
            bar.update(chunk.stop - chunk.start)
            return result

    try:
        workers = min(os.cpu_count() or 1, len(chunks))
        if workers <= 1:
            return [function(k, chunk) for k, chunk in enumerate(chunks)]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(function, range(len(chunks)), chunks))
    finally:
        if bar is not None:
            bar.close()


def progress_bar(label: str | None, total: int, *, unit: str):
    """A tqdm bar, or None when ``label`` is None; tqdm is the optional ``progress`` extra."""
    if label is None:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm: pip install 'pgm-engine[progress]'") from None
    return tqdm(total=total, desc=label, unit=unit, unit_scale=True)
