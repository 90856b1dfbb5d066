"""Joint log-likelihood of data under a network, row by row.

For a complete row, ``log p(x) = sum_i log p(xi | parents(xi))``: one
vectorised table look-up (discrete) or residual (Gaussian) per node, summed
over nodes, in cache-sized chunks of rows.  All values are natural logarithms
(nats).
"""

from __future__ import annotations

import numpy as np

from pgm._chunks import map_chunks, row_chunks
from pgm.data import to_dataset
from pgm.errors import DataError

__all__ = ["log_likelihood", "bits_per_variable"]


def log_likelihood(network, data) -> np.ndarray:
    """log p(row) for every row of ``data``, in nats.

    Parameters
    ----------
    network : BayesianNetwork
    data : pandas.DataFrame or mapping of str to array-like
        One column per node (other columns are ignored).

    Returns
    -------
    numpy.ndarray of float64, shape (n_rows,)
        ``-inf`` for a row the network gives probability zero.

    Raises
    ------
    DataError
        A missing column, a value that is not a state, or a missing value
        (rows must be complete).

    Examples
    --------
    >>> import numpy as np, pgm
    >>> net = pgm.load("cancer")
    >>> rows = net.sample(3, seed=0)
    >>> bool(np.all(net.log_likelihood(rows) <= 0))
    True
    """
    dataset = to_dataset(data, network.domains)
    dataset.require_complete(network.nodes, "log_likelihood")
    total = np.zeros(dataset.n_rows)
    cpds = [(network[node], node) for node in network.nodes]

    def score(_, rows: slice) -> None:
        out, columns = total[rows], dataset.rows(rows).columns
        for cpd, node in cpds:
            out += cpd.log_prob(columns[node], {p: columns[p] for p in cpd.parents})

    map_chunks(score, row_chunks(dataset.n_rows))
    return total


def bits_per_variable(log_likelihood: np.ndarray, n_variables: int) -> float:
    """Mean negative log-likelihood converted from nats to bits, per variable.

    Raises
    ------
    DataError
        No rows, or no variables: there is nothing to average.
    """
    if len(log_likelihood) == 0 or n_variables == 0:
        raise DataError("bits per variable needs at least one row and one variable")
    return float(-np.mean(log_likelihood) / np.log(2) / n_variables)
