"""pgm's JSON format, and bnlearn's JSON for Gaussian networks.

pgm's format holds any network -- discrete, Gaussian, conditional linear
Gaussian -- and round-trips it exactly (floats are written with ``repr``)::

    {
      "format": "pgm-network",
      "version": 1,
      "name": "example",
      "nodes": {
        "cloudy": {"type": "categorical", "states": ["no", "yes"], "parents": [],
                   "table": [0.5, 0.5]},
        "temp":   {"type": "linear_gaussian", "parents": ["cloudy"],
                   "features": [],
                   "intercept": [20.0, 15.0], "weights": [[], []], "variance": [4.0, 9.0]}
      }
    }

A categorical node's ``table`` has shape ``(*parent_cardinalities, n_states)``
as nested lists.  A linear Gaussian node's ``intercept`` and ``variance`` have
shape ``(*discrete_parent_cardinalities,)`` and ``weights`` has
``(*discrete_parent_cardinalities, n_features)``; ``features`` lists the basis
functions of the continuous parents as ``{"kind": "monomial", "powers":
{"x": 2}}``, ``{"kind": "function", "name": "sin", "parent": "x"}`` or
``{"kind": "rbf", "parent": "x", "center": 0.0, "width": 1.0}``.  Nodes appear
in the network's order; parents may come after their children.

bnlearn's JSON (as in ``ecoli70.json``) lists ``nodes``, ``arcs`` and, per node,
``parents``, ``coefficients`` (with ``"(Intercept)"``) and ``variance``; it is
read into linear Gaussian nodes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pgm.errors import CPDError, DataError, NodeError, StructureError

__all__ = ["read_json", "write_json", "network_to_dict", "network_from_dict", "bnlearn_from_dict"]

FORMAT_NAME = "pgm-network"
FORMAT_VERSION = 1


def network_to_dict(network) -> dict:
    """The network as a JSON-compatible dict in pgm's format."""
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": network.name,
        "nodes": {node: network[node].to_dict() for node in network.nodes},
    }


def network_from_dict(data: Mapping):
    """Inverse of :func:`network_to_dict`."""
    from pgm.cpds import cpd_from_dict
    from pgm.network import BayesianNetwork

    if data.get("format") != FORMAT_NAME:
        raise DataError(f"not a pgm network: 'format' is {data.get('format')!r}, expected {FORMAT_NAME!r}")
    if data.get("version") != FORMAT_VERSION:
        raise DataError(f"unsupported pgm network version {data.get('version')!r}; this pgm reads version {FORMAT_VERSION}")
    nodes = data.get("nodes")
    if not isinstance(nodes, Mapping):
        raise DataError("a pgm network needs a 'nodes' object mapping node names to their CPDs")
    cpds = {}
    for node, spec in nodes.items():
        if not isinstance(spec, Mapping):
            raise CPDError(f"node {node!r}: a CPD must be a JSON object, got {type(spec).__name__}")
        try:
            cpds[node] = cpd_from_dict(spec)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            if isinstance(exc, CPDError):
                raise CPDError(f"node {node!r}: {exc}") from None
            raise CPDError(f"node {node!r}: malformed CPD ({type(exc).__name__}: {exc})") from None
    return BayesianNetwork(cpds, name=data.get("name", "network"))


def bnlearn_from_dict(data: Mapping, *, name: str = "network"):
    """A linear Gaussian network from bnlearn-style JSON (``nodes``, ``arcs``, ``cpds``)."""
    from pgm.cpds import LinearGaussian
    from pgm.network import BayesianNetwork

    cpds = {}
    specs = data.get("cpds", {})
    for node in data.get("nodes", specs.keys()):
        if node not in specs:
            raise CPDError(f"bnlearn JSON: node {node!r} has no entry in 'cpds'")
        spec = specs[node]
        if "coefficients" not in spec:
            raise CPDError(f"bnlearn JSON: node {node!r} has no 'coefficients'; only Gaussian nodes are supported")
        parents = list(spec.get("parents", []))
        coefficients = dict(spec["coefficients"])
        intercept = _single(coefficients.pop("(Intercept)", [0.0]), node, "(Intercept)")
        unknown = set(coefficients) - set(parents)
        if unknown:
            raise CPDError(f"bnlearn JSON: node {node!r} has coefficients for {sorted(unknown)}, which are not its parents")
        weights = {p: _single(coefficients.get(p, [0.0]), node, p) for p in parents}
        variance = _single(spec["variance"], node, "variance")
        cpds[node] = LinearGaussian(parents=parents, intercept=intercept, weights=weights, variance=variance)
    arcs = {tuple(a) for a in data.get("arcs", [])}
    declared = {(p, child) for child in cpds for p in specs[child].get("parents", [])}
    if arcs and arcs != declared:
        extra = sorted(arcs ^ declared)[0]
        raise CPDError(f"bnlearn JSON: the arc {extra[0]} -> {extra[1]} is in 'arcs' or in a node's parents, but not both")
    return BayesianNetwork(cpds, name=name)


def _single(value, node, what) -> float:
    values = value if isinstance(value, list) else [value]
    if len(values) != 1:
        raise CPDError(f"bnlearn JSON: {what} of node {node!r} must be one number, got {value!r}")
    return float(values[0])


def read_json(path, *, name: str | None = None):
    """Read a network from pgm's JSON format, or from bnlearn's Gaussian JSON.

    ``name`` overrides the network's name (by default the one stored in the
    file, or the file's stem for bnlearn's JSON, which stores none).

    Examples
    --------
    >>> import pgm
    >>> from pgm.io import read_json
    >>> ecoli = read_json(pgm.datasets.path("ecoli70"))
    >>> len(ecoli), ecoli.is_linear_gaussian
    (46, True)
    """
    from pathlib import Path

    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as exc:
            from pgm.errors import ParseError

            raise ParseError(exc.msg, exc.lineno, exc.colno, str(path)) from None
    try:
        if isinstance(data, Mapping) and data.get("format") == FORMAT_NAME:
            network = network_from_dict(data)
        elif isinstance(data, Mapping) and "cpds" in data:
            network = bnlearn_from_dict(data, name=Path(path).stem)
        else:
            raise DataError("neither pgm's JSON network format nor bnlearn's (no 'format' or 'cpds' key)")
    except (CPDError, DataError, NodeError, StructureError) as exc:  # one-message errors: prefix the file
        raise type(exc)(f"{path}: {exc}") from None
    if name is not None:
        network.name = name
    return network


def write_json(network, path) -> None:
    """Write the network in pgm's JSON format, atomically."""
    from pgm.io._files import write_text_atomically

    write_text_atomically(path, json.dumps(network_to_dict(network), indent=1) + "\n")
