"""The exceptions and warnings pgm raises.

Errors about networks, data and files derive from :class:`PGMError` and also
from the built-in class a caller would naturally catch (``ValueError``,
``KeyError``, ``MemoryError``), so ``except ValueError`` keeps working.
Misuse of a function's arguments (a wrong type, a negative row count) raises
the plain built-in ``TypeError`` or ``ValueError``.  Messages name the culprit -- the node,
state, parent configuration, row, or line and column -- and, where there is
one, suggest the fix.
"""

from __future__ import annotations

import os
import sys


class PGMError(Exception):
    """Base class of pgm's errors about networks, data and files."""


class NodeError(PGMError, KeyError):
    """A node name that is unknown, duplicated or not a valid name."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class CycleError(PGMError, ValueError):
    """The declared edges contain a directed cycle.

    Attributes
    ----------
    cycle : list of str
        The nodes on one cycle, in order; the first node is repeated at the end.
    """

    def __init__(self, cycle: list[str]):
        self.cycle = list(cycle)
        super().__init__(
            "the graph has a directed cycle: " + " -> ".join(self.cycle)
            + "; a Bayesian network must be acyclic"
        )


class CPDError(PGMError, ValueError):
    """A conditional distribution whose parameters are invalid for its node."""


class NotFittedError(PGMError, ValueError):
    """A CPD (or a network with such a CPD) that has no parameters yet was asked to sample, score or infer."""


class StructureError(PGMError, ValueError):
    """A structure pgm does not support, e.g. a discrete node with a continuous parent."""


class DataError(PGMError, ValueError):
    """Data that does not fit the network: unknown states, missing columns or values."""


class ParseError(PGMError, ValueError):
    """A syntax error in a network file.

    Attributes
    ----------
    line, column : int
        1-based position of the offending token.
    source : str or None
        The file name, when known.
    """

    def __init__(self, message: str, line: int, column: int, source: str | None = None):
        self.line = line
        self.column = column
        self.source = source
        where = f"{source}:" if source else "line "
        super().__init__(f"{where}{line}:{column}: {message}")


class SingularDesignError(PGMError, ValueError):
    """Least squares for a Gaussian node has no unique solution.

    Raised when the design matrix of a node (its features, for one
    configuration of its discrete parents) is rank deficient: collinear
    parents, a constant feature, or fewer rows than coefficients.
    """


class ImpossibleEvidenceError(PGMError, ValueError):
    """The evidence has probability zero under the network (p(e) = 0), so no posterior exists."""


class InferenceTooLarge(PGMError, MemoryError):
    """A computation would need more memory than allowed; the message says how much."""


class PGMWarning(UserWarning):
    """Base class of pgm's warnings."""


class UnseenConfigurationWarning(PGMWarning):
    """Fitting met parent configurations with no data; their rows were set uniform."""


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning point at the first caller outside pgm."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    return level
