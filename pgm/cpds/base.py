"""The protocol every conditional distribution (CPD) family follows.

A CPD is first *declared* -- its own states or parameters and its parents'
names -- and then *bound* to a node of a network, when the parents' domains
are known and the parameters can be checked against them.  Networks bind the
CPDs you add; a bound CPD is immutable.

Every family answers the same verbs, vectorised over rows:

``log_prob(values, parents)``
    log p(value | parent values) per row, in nats.
``sample(parents, n, rng, out=None)``
    one draw per row (into ``out`` if given).
``statistics(values, parents, weights)``
    sufficient statistics of a set of rows, and ``merge_statistics(a, b)``
    the statistics of the union of two sets of rows.  For tables merging is
    addition; Gaussian nodes keep centred moments for precision and merge
    them exactly.  Chunked, weighted (EM) and prior-augmented (MAP) fitting
    all reduce to merging statistics.
``from_statistics(statistics)``
    the maximum-likelihood parameters for those statistics, as a new CPD.

``parents`` above is a mapping from parent name to its column: integer codes
for discrete parents, float64 values for continuous ones (see :mod:`pgm.data`).
These verbs work on complete columns: codes must be valid states (not the
``-1`` that marks a missing value) and values finite.  The network checks
that before it calls them.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping

import numpy as np

from pgm.errors import CPDError

__all__ = ["CPD", "discrete_configuration_index", "configuration_label"]


class CPD(abc.ABC):
    """Base class of conditional distributions; see the module docstring for the protocol."""

    #: Name of the family in files and messages.
    family: str = ""
    #: Whether the node's values are states (True) or real numbers (False).
    is_discrete: bool = False

    variable: str | None
    parents: tuple[str, ...]
    #: Whether the node is latent: never observed, its values are inferred (EM).
    latent: bool = False

    @property
    def is_fitted(self) -> bool:
        """Whether the CPD has parameters (declared without them, it must be fitted first)."""
        return True

    def _require_fitted(self, verb: str) -> None:
        if not self.is_fitted:
            from pgm.errors import NotFittedError

            kind = "latent node" if self.latent else "node"
            raise NotFittedError(
                f"{kind} {self.variable!r} has no parameters yet, so {verb} is not possible; fit the network "
                "to data first (net.fit(data) runs EM when values are missing)"
            )

    @property
    def is_bound(self) -> bool:
        """Whether the CPD has been attached to a node (see :meth:`bind`)."""
        return self.variable is not None

    def _require_bound(self, verb: str) -> None:
        if self.variable is None:
            raise CPDError(
                f"this {type(self).__name__} is not attached to a node yet; add it to a "
                f"BayesianNetwork before calling {verb}()"
            )

    @property
    def domain(self) -> tuple[str, ...] | None:
        """The node's states for a discrete CPD, None for a continuous one."""
        return None

    @abc.abstractmethod
    def bind(self, variable: str, parent_domains: Mapping[str, tuple | None]) -> "CPD":
        """A copy attached to node ``variable``, validated against its parents' domains.

        ``parent_domains`` maps each parent to its states, or to None for a
        continuous parent.
        """

    @abc.abstractmethod
    def log_prob(self, values: np.ndarray, parents: Mapping[str, np.ndarray]) -> np.ndarray:
        """log p(value | parents) for every row, in nats."""

    @abc.abstractmethod
    def sample(self, parents: Mapping[str, np.ndarray], n: int, rng: np.random.Generator, *, out=None) -> np.ndarray:
        """One draw per row given the parents' columns (written into ``out`` when given)."""

    @abc.abstractmethod
    def statistics(self, values: np.ndarray, parents: Mapping[str, np.ndarray], weights: np.ndarray | None = None) -> np.ndarray:
        """Additive sufficient statistics of the rows (weighted when ``weights`` is given)."""

    def merge_statistics(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The statistics of the union of the rows behind ``first`` and ``second`` (here: their sum)."""
        return np.asarray(first) + np.asarray(second)

    @abc.abstractmethod
    def from_statistics(self, statistics: np.ndarray) -> "CPD":
        """The maximum-likelihood CPD for ``statistics``, as a new bound CPD."""

    @abc.abstractmethod
    def empty_configurations(self, statistics: np.ndarray) -> list[str]:
        """Labels of the discrete-parent configurations that ``statistics`` gives no weight."""

    @property
    @abc.abstractmethod
    def n_free_parameters(self) -> int:
        """Number of free parameters (rows that sum to one count k - 1)."""

    @abc.abstractmethod
    def to_dict(self) -> dict:
        """A JSON-compatible description that :func:`pgm.cpds.cpd_from_dict` turns back into this CPD."""

    @abc.abstractmethod
    def describe(self) -> str:
        """A one-line text form of the distribution, e.g. ``N(1 + 2 x, 0.5)``."""

    @abc.abstractmethod
    def describe_latex(self) -> str:
        """The distribution in LaTeX."""


def discrete_configuration_index(parents: Mapping[str, np.ndarray], names, cardinalities):
    """Row-major index of each row's configuration of the discrete parents ``names``.

    Returns None when there are no such parents (every row is configuration 0).
    """
    if not names:
        return None
    index = np.asarray(parents[names[0]]).astype(np.intp)
    for name, card in zip(names[1:], cardinalities[1:]):
        index *= card
        index += parents[name]
    return index


def family_count_table(values, configs, shape, weights=None) -> np.ndarray:
    """The weighted count table ``shape == (*parent_cardinalities, k)`` of a discrete family.

    ``configs`` is :func:`discrete_configuration_index` of the rows (None: no discrete parents).
    """
    flat = np.asarray(values, dtype=np.intp) if configs is None else configs * shape[-1] + np.asarray(values)
    counts = np.bincount(flat, weights=weights, minlength=int(np.prod(shape)))
    return counts.astype(np.float64, copy=False).reshape(shape)


def configuration_label(names, domains, config: int) -> str:
    """The label ``a=x, b=y`` of one configuration of the parents ``names``."""
    if not names:
        return "(no parents)"
    codes = np.unravel_index(config, [len(d) for d in domains])
    return ", ".join(f"{name}={domain[int(c)]}" for name, domain, c in zip(names, domains, codes))
