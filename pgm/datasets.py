"""Networks and data shipped with pgm.

The networks come from the bnlearn Bayesian network repository (M. Scutari,
https://www.bnlearn.com/bnrepository/), each the published model of its
original paper; see ``pgm/networks/README.md`` for the sources.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

__all__ = ["names", "path", "load", "gaussian_test"]

_FILES = {
    "asia": "asia.bif",
    "cancer": "cancer.bif",
    "earthquake": "earthquake.bif",
    "survey": "survey.bif",
    "sachs": "sachs.bif",
    "child": "child.bif",
    "insurance": "insurance.bif",
    "alarm": "alarm.bif",
    "ecoli70": "ecoli70.json",
}


def names() -> list[str]:
    """Names of the bundled networks."""
    return list(_FILES)


def path(name: str) -> Path:
    """File system path of a bundled network file."""
    if name not in _FILES:
        raise KeyError(f"no bundled network named {name!r}; available: {', '.join(_FILES)}")
    return Path(str(resources.files("pgm") / "networks" / _FILES[name]))


def load(name: str):
    """Load a bundled network by name.

    Parameters
    ----------
    name : str
        A bundled network: ``pgm.datasets.names()`` lists them (asia, alarm, ecoli70, ...).

    Examples
    --------
    >>> import pgm
    >>> alarm = pgm.load("alarm")
    >>> len(alarm), alarm.n_free_parameters
    (37, 509)
    """
    from pgm.io import read

    network = read(path(name))
    network.name = name
    return network


def gaussian_test() -> pd.DataFrame:
    """The first 100 rows of bnlearn's ``gaussian.test`` data (columns A..G).

    Its structure in bnlearn's notation is ``[A][B][E][G][C|A:B][D|B][F|A:D:E:G]``.
    """
    frame = pd.read_csv(resources.files("pgm") / "networks" / "gaussian_test.csv", index_col=0)
    return frame.reset_index(drop=True)
