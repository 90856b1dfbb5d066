"""Sampling sequences of given lengths by ancestral sampling, slice by slice.

Step ``t`` draws every node of slice ``t`` in topological order for all the
sequences still running, so the loop is over time and within a slice over
nodes; each draw is one vectorised call of the CPD's ``sample``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgm._random import as_generator
from pgm.data import code_dtype
from pgm.dynamic.model import _slice_order, parse_parent
from pgm.dynamic.sequences import require_sequences

__all__ = ["sample"]


def sample(network, lengths, *, seed=None, sequence: str = "sequence") -> pd.DataFrame:
    """Sequences of the given lengths as a long DataFrame: a ``sequence`` column, ``t``, then every node."""
    if not network.is_fitted:
        raise ValueError(f"the network {network.name!r} has unfitted CPDs; fit it before sampling")
    lengths = require_sequences(lengths)
    rng = as_generator(seed)
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    N, T = len(lengths), int(sorted_lengths[0])
    n_active = np.searchsorted(-sorted_lengths, -np.arange(T), side="left")
    columns = {}
    for node in network.nodes:
        domain = network.domains[node]
        columns[node] = (np.full((N, T), -1, dtype=code_dtype(len(domain))) if domain is not None
                         else np.full((N, T), np.nan))
    slice_orders = {}
    for t in range(T):
        n = int(n_active[t])
        key = min(t, network.n_initial)
        if key not in slice_orders:
            slice_orders[key] = _slice_order({x: [b for p in network.cpd(x, t).parents
                                                  for b, lag in [parse_parent(p, x)] if lag == 0]
                                              for x in network.nodes})
        for node in slice_orders[key]:
            cpd = network.cpd(node, t)
            parents = {}
            for p in cpd.parents:
                base, lag = parse_parent(p, node)
                parents[p] = columns[base][:n, t - lag]
            columns[node][:n, t] = cpd.sample(parents, n, rng)
    valid = np.arange(T)[None, :] < sorted_lengths[:, None]
    position = np.empty_like(order)
    position[order] = np.arange(N)
    rows = np.repeat(position, lengths)
    t_index = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    out = {sequence: np.repeat(np.arange(N), lengths), "t": t_index}
    del valid
    for node in network.nodes:
        values = columns[node][rows, t_index]
        domain = network.domains[node]
        out[node] = values if domain is None else pd.Categorical.from_codes(values, categories=list(domain))
    return pd.DataFrame(out)
