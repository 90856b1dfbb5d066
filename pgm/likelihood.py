"""Joint log-likelihood of data under a network, row by row.

For a complete row, ``log p(x) = sum_i log p(xi | parents(xi))``: one
vectorised table look-up (discrete) or residual (Gaussian) per node, summed
over nodes, in cache-sized chunks of rows.  A row with missing values (or
data without a node's column, as for a latent node) scores the marginal of
its observed part, ``log p(x_observed)``, by exact inference
(:mod:`pgm.inference.engine`).  All values are natural logarithms (nats).
"""

from __future__ import annotations

import numpy as np

from pgm._chunks import map_chunks, row_chunks
from pgm.data import Dataset, to_dataset
from pgm.errors import DataError

__all__ = ["log_likelihood", "bits_per_variable"]


def log_likelihood(network, data, *, progress: bool = False) -> np.ndarray:
    """log p(row) for every row of ``data``, in nats.

    Parameters
    ----------
    network : BayesianNetwork
    data : pandas.DataFrame or mapping of str to array-like
        A column per observed node (other columns are ignored).  Missing
        values (NaN, None) and absent columns are unobserved and summed or
        integrated out.
    progress : bool, default False
        Show a progress bar over the rows (tqdm; the ``progress`` extra).

    Returns
    -------
    numpy.ndarray of float64, shape (n_rows,)
        log p(observed part of the row); ``-inf`` for a row the network gives
        probability zero.

    Raises
    ------
    DataError
        A value that is not a state, or data with no column for any node.

    Examples
    --------
    >>> import numpy as np, pgm
    >>> net = pgm.load("cancer")
    >>> rows = net.sample(3, seed=0)
    >>> bool(np.all(net.log_likelihood(rows) <= 0))
    True
    """
    dataset = _observed_columns(network, data)
    if len(dataset.columns) < len(network) or any(dataset.missing(n).any() for n in dataset.columns):
        from pgm.inference.engine import log_evidence
        from pgm.inference.evidence import Evidence

        evidence = Evidence(dataset.n_rows, True, index=dataset.row_labels)
        for node, column in dataset.columns.items():
            (evidence.codes if network[node].is_discrete else evidence.values)[node] = column
        return log_evidence(network, evidence)
    total = np.zeros(dataset.n_rows)
    cpds = [(network[node], node) for node in network.nodes]

    def score(_, rows: slice) -> None:
        out, columns = total[rows], dataset.rows(rows).columns
        for cpd, node in cpds:
            out += cpd.log_prob(columns[node], {p: columns[p] for p in cpd.parents})

    map_chunks(score, row_chunks(dataset.n_rows), progress="scoring" if progress else None)
    return total


def _observed_columns(network, data) -> Dataset:
    """The data's columns for the nodes it has; data that names no node at all is refused."""
    if isinstance(data, Dataset):
        return data
    if hasattr(data, "columns"):
        names = list(data.columns)
    elif hasattr(data, "keys"):
        names = list(data.keys())
    else:
        return to_dataset(data, network.domains)  # raises the usual TypeError
    present = [n for n in network.nodes if n in names]
    if not present and len(network):
        return to_dataset(data, network.domains)  # names the first node without a column
    return to_dataset(data, {n: network[n].domain for n in present})


def bits_per_variable(log_likelihood: np.ndarray, n_variables: int) -> float:
    """Mean negative log-likelihood converted from nats to bits, per variable.

    Raises
    ------
    DataError
        No rows, or no variables: there is nothing to average.
    """
    if len(log_likelihood) == 0 or n_variables == 0:
        raise DataError("bits per variable needs at least one row and one variable")
    return float(-np.mean(log_likelihood) / np.log(2) / n_variables) + 0.0  # + 0.0: never print -0.000000
