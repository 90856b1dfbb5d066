"""Fixed basis functions of a node's continuous parents.

A linear Gaussian node is linear in its *features*, not necessarily in its
parents: ``x = b0 + w . phi(parents) + noise``.  With the identity features
(the default) this is the classic linear Gaussian CPD; with
``polynomial("x", 3)`` it is cubic regression on ``x``; either way fitting is
closed-form least squares on the design matrix whose columns are the features.

Features are declarative (no code, no ``eval``), so networks that use them
still read and write as JSON.

Examples
--------
>>> import numpy as np
>>> from pgm.cpds.features import polynomial, Function
>>> [str(f) for f in polynomial("x", 3)]
['x', 'x^2', 'x^3']
>>> Function("sin", "x").evaluate({"x": np.array([0.0])})
array([0.])
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

import numpy as np

from pgm.errors import CPDError, DataError

__all__ = ["Feature", "Monomial", "Function", "RadialBasis", "polynomial", "as_feature", "feature_from_dict"]


class Feature(abc.ABC):
    """A fixed function of one or more continuous parents."""

    parents: tuple[str, ...]

    @abc.abstractmethod
    def evaluate(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """The feature's value for every row."""

    @abc.abstractmethod
    def to_dict(self) -> dict:
        """JSON-compatible description (see :func:`feature_from_dict`)."""

    @abc.abstractmethod
    def latex(self) -> str:
        """The feature in LaTeX."""

    @property
    def is_identity(self) -> bool:
        """Whether the feature is one parent itself (linear in the parents)."""
        return False

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        import json

        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"


def _name(value) -> str:
    if not isinstance(value, str) or not value:
        raise CPDError(f"a feature must name a parent by a non-empty string, got {value!r}")
    return value


def _latex_var(name: str) -> str:
    from pgm.graph import _latex_name

    return _latex_name(name)


class Monomial(Feature):
    """A product of powers of parents, e.g. ``Monomial({"x": 2, "y": 1})`` is x^2 y.

    Parameters
    ----------
    powers : mapping of str to int
        Each parent's power, a positive integer.
    """

    def __init__(self, powers: Mapping[str, int]):
        items = []
        for parent, power in powers.items():
            if isinstance(power, bool) or not isinstance(power, (int, np.integer)) or power < 1:
                raise CPDError(f"power of {parent!r} in a monomial must be a positive integer, got {power!r}")
            items.append((_name(parent), int(power)))
        if not items:
            raise CPDError("a monomial needs at least one parent")
        self.powers = tuple(items)
        self.parents = tuple(p for p, _ in items)

    @property
    def is_identity(self) -> bool:
        return len(self.powers) == 1 and self.powers[0][1] == 1

    def evaluate(self, columns):
        result = None
        for parent, power in self.powers:
            term = columns[parent] if power == 1 else columns[parent] ** power
            result = term if result is None else result * term
        return result

    def to_dict(self) -> dict:
        return {"kind": "monomial", "powers": dict(self.powers)}

    def __str__(self) -> str:
        return "*".join(p if k == 1 else f"{p}^{k}" for p, k in self.powers)

    def latex(self) -> str:
        return " ".join(_latex_var(p) + ("" if k == 1 else f"^{{{k}}}") for p, k in self.powers)


_FUNCTIONS = {
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
}


class Function(Feature):
    """An elementary function of one parent: one of ``sin cos tanh exp log sqrt abs``.

    Parameters
    ----------
    name : str
        The function's name.
    parent : str
        The continuous parent it is applied to.
    """

    def __init__(self, name: str, parent: str):
        if name not in _FUNCTIONS:
            raise CPDError(f"unknown feature function {name!r}; choose one of {sorted(_FUNCTIONS)}")
        self.name = name
        self.parents = (_name(parent),)

    def evaluate(self, columns):
        values = columns[self.parents[0]]
        with np.errstate(all="ignore"):
            result = _FUNCTIONS[self.name](values)
        bad = ~np.isfinite(result)
        if bad.any():
            value = float(np.asarray(values)[np.argmax(bad)])
            raise DataError(
                f"feature {self} is not finite at {self.parents[0]} = {value!r}; choose a feature "
                f"defined for every value of {self.parents[0]!r}"
            )
        return result

    def to_dict(self) -> dict:
        return {"kind": "function", "name": self.name, "parent": self.parents[0]}

    def __str__(self) -> str:
        return f"{self.name}({self.parents[0]})"

    def latex(self) -> str:
        return f"\\{self.name}({_latex_var(self.parents[0])})" if self.name in ("sin", "cos", "tanh", "exp", "log") \
            else f"\\mathrm{{{self.name}}}({_latex_var(self.parents[0])})"


class RadialBasis(Feature):
    """A Gaussian bump ``exp(-(x - center)^2 / (2 width^2))`` of one parent.

    Parameters
    ----------
    parent : str
        The continuous parent ``x``.
    center : float
        Where the bump peaks.
    width : float
        Its standard deviation, positive.
    """

    def __init__(self, parent: str, center: float, width: float):
        self.parents = (_name(parent),)
        self.center = float(center)
        self.width = float(width)
        if not (np.isfinite(self.center) and np.isfinite(self.width) and self.width > 0):
            raise CPDError(f"radial basis needs a finite center and a positive width, got {center!r}, {width!r}")

    def evaluate(self, columns):
        z = (columns[self.parents[0]] - self.center) / self.width
        return np.exp(-0.5 * z * z)

    def to_dict(self) -> dict:
        return {"kind": "rbf", "parent": self.parents[0], "center": self.center, "width": self.width}

    def __str__(self) -> str:
        return f"rbf({self.parents[0]}; {self.center:g}, {self.width:g})"

    def latex(self) -> str:
        return f"\\phi_{{{self.center:g},{self.width:g}}}({_latex_var(self.parents[0])})"


def polynomial(parent: str, degree: int) -> list[Monomial]:
    """Features ``x, x^2, ..., x^degree`` of one parent (the intercept is always included separately).

    Parameters
    ----------
    parent : str
        A continuous parent.
    degree : int
        The highest power, at least 1.
    """
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 1:
        raise CPDError(f"polynomial degree must be a positive integer, got {degree!r}")
    return [Monomial({parent: k}) for k in range(1, int(degree) + 1)]


def as_feature(spec) -> Feature:
    """A Feature from a Feature, or from a parent's name (the identity feature)."""
    if isinstance(spec, Feature):
        return spec
    if isinstance(spec, str):
        return Monomial({spec: 1})
    raise CPDError(f"a feature must be a Feature or a parent's name, got {spec!r}")


def bind_features(variable: str, parents: Sequence[str], given: Sequence[Feature] | None,
                  parent_domains: Mapping[str, tuple | None], discrete_role: str):
    """Split a CPD's parents into discrete and continuous ones and check its features against them.

    Shared by the CPDs whose continuous parents enter through features (linear Gaussian, softmax).

    Parameters
    ----------
    variable : str
        The CPD's node, named in errors.
    parents : sequence of str
        The CPD's parents.
    given : sequence of Feature or None
        The declared features; None means one identity feature per continuous parent.
    parent_domains : mapping
        Each parent's states, or None for a continuous parent.
    discrete_role : str
        How discrete parents enter this family, said in the error when a feature uses one.

    Returns
    -------
    discrete, continuous, domains, features : tuples
        Discrete parents, continuous parents, the discrete parents' states, the features.

    Examples
    --------
    >>> bind_features("y", ["a", "x"], None, {"a": ("0", "1"), "x": None}, "")[:2]
    (('a',), ('x',))
    """
    discrete = tuple(p for p in parents if parent_domains[p] is not None)
    continuous = tuple(p for p in parents if parent_domains[p] is None)
    domains = tuple(tuple(parent_domains[p]) for p in discrete)
    features = tuple(given) if given is not None else tuple(as_feature(p) for p in continuous)
    for feature in features:
        for p in feature.parents:
            if p not in parents:
                raise CPDError(f"feature {feature} of {variable!r} uses {p!r}, which is not a parent of {variable!r}")
            if p in discrete:
                raise CPDError(f"feature {feature} of {variable!r} uses the discrete parent {p!r}; features are "
                               f"functions of continuous parents ({discrete_role})")
    used = {p for f in features for p in f.parents}
    unused = [p for p in continuous if p not in used]
    if unused:
        raise CPDError(f"continuous parent {unused[0]!r} of {variable!r} is used by none of its features")
    return discrete, continuous, domains, features


def feature_from_dict(data: Mapping) -> Feature:
    """Inverse of :meth:`Feature.to_dict`."""
    kind = data.get("kind")
    if kind == "monomial":
        return Monomial(data["powers"])
    if kind == "function":
        return Function(data["name"], data["parent"])
    if kind == "rbf":
        return RadialBasis(data["parent"], data["center"], data["width"])
    raise CPDError(f"unknown feature kind {kind!r}")
