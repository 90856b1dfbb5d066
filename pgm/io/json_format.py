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
import math
from collections.abc import Mapping

from pgm.errors import CPDError, DataError, ParseError, PGMError

__all__ = ["read_json", "write_json", "network_to_dict", "network_from_dict", "bnlearn_from_dict"]

FORMAT_NAME = "pgm-network"
FORMAT_VERSION = 1


# A tied node's entry names the node whose parameters it shares ("tied_to") instead of repeating them.
_PARAMETER_KEYS = ("table", "intercept", "weights", "variance", "leak", "effects")


def network_to_dict(network) -> dict:
    """The network as a JSON-compatible dict in pgm's format."""
    nodes = {node: network[node].to_dict() for node in network.nodes}
    for group in network.tied_groups:
        for node in group[1:]:
            nodes[node] = {key: value for key, value in nodes[node].items() if key not in _PARAMETER_KEYS}
            nodes[node]["tied_to"] = group[0]
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "name": network.name,
        "nodes": nodes,
    }


def _resolve_ties(nodes: Mapping) -> tuple[dict, list[list[str]]]:
    """Each tied node's spec completed with its group head's parameters, and the tie groups."""
    specs, groups = dict(nodes), {}
    for node, spec in nodes.items():
        if not isinstance(spec, Mapping) or "tied_to" not in spec:
            continue
        head = spec["tied_to"]
        head_spec = nodes.get(head) if isinstance(head, str) else None
        if not isinstance(head_spec, Mapping):
            raise CPDError(f"node {node!r}: 'tied_to' names {head!r}, which is not a node of the file")
        if "tied_to" in head_spec:
            raise CPDError(f"node {node!r}: 'tied_to' must name the group's first node, and {head!r} is itself tied")
        if head_spec.get("type") != spec.get("type"):
            raise CPDError(f"node {node!r}: it is tied to {head!r}, whose type is {head_spec.get('type')!r}, not {spec.get('type')!r}")
        completed = {key: value for key, value in spec.items() if key != "tied_to"}
        completed.update({key: head_spec[key] for key in _PARAMETER_KEYS if key in head_spec})
        specs[node] = completed
        groups.setdefault(head, [head]).append(node)
    return specs, list(groups.values())


def network_from_dict(data: Mapping):
    """Inverse of :func:`network_to_dict`."""
    from pgm.cpds import cpd_from_dict
    from pgm.network import BayesianNetwork

    if not isinstance(data, Mapping):
        raise DataError(f"a pgm network must be a JSON object, not {type(data).__name__}")
    if data.get("format") != FORMAT_NAME:
        raise DataError(f"not a pgm network: 'format' is {data.get('format')!r}, expected {FORMAT_NAME!r}")
    if data.get("version") != FORMAT_VERSION:
        raise DataError(f"unsupported pgm network version {data.get('version')!r}; this pgm reads version {FORMAT_VERSION}")
    nodes = data.get("nodes")
    if not isinstance(nodes, Mapping):
        raise DataError("a pgm network needs a 'nodes' object mapping node names to their CPDs")
    if not nodes:
        raise DataError("the network has no nodes ('nodes' is empty)")
    name = data.get("name", "network")
    if not isinstance(name, str):
        raise DataError(f"the network's 'name' must be a string, got {name!r}")
    cpds = {}
    nodes, tied = _resolve_ties(nodes)
    for node, spec in nodes.items():
        if not isinstance(spec, Mapping):
            raise CPDError(f"node {node!r}: a CPD must be a JSON object, got {type(spec).__name__}")
        _check_finite(spec, f"node {node!r}")
        try:
            cpds[node] = cpd_from_dict(spec)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, OverflowError) as exc:
            if isinstance(exc, CPDError):
                raise CPDError(f"node {node!r}: {exc}") from None
            raise CPDError(f"node {node!r}: malformed CPD ({type(exc).__name__}: {exc})") from None
    return BayesianNetwork(cpds, name=name, tied=tied or None)


def _check_finite(value, where: str, key: str | None = None) -> None:
    """Refuse NaN and infinities anywhere in ``value``: JSON has no such numbers, and no parameter may be one."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CPDError(f"{where}: {key or 'a value'} is {value}, not a finite number")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check_finite(v, where, k if key is None else key)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v, where, key)


def _names(value, what: str) -> list[str]:
    """A JSON list of names, checked: a string is not a list of its characters."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CPDError(f"bnlearn JSON: {what} must be a list of names, got {value!r}")
    return list(value)


def bnlearn_from_dict(data: Mapping, *, name: str = "network"):
    """A linear Gaussian network from bnlearn-style JSON (``nodes``, ``arcs``, ``cpds``)."""
    from pgm.cpds import LinearGaussian
    from pgm.network import BayesianNetwork

    specs = data.get("cpds", {})
    if not isinstance(specs, Mapping):
        raise CPDError(f"bnlearn JSON: 'cpds' must be an object mapping each node to its distribution, "
                       f"not {type(specs).__name__}")
    nodes = _names(data["nodes"], "'nodes'") if "nodes" in data else list(specs)
    if not nodes:
        raise DataError("bnlearn JSON: the network has no nodes")
    extra = [node for node in specs if node not in nodes]
    if extra:
        raise CPDError(f"bnlearn JSON: 'cpds' has an entry for {extra[0]!r}, which is not in 'nodes'")
    cpds, declared = {}, set()
    for node in nodes:
        if node not in specs:
            raise CPDError(f"bnlearn JSON: node {node!r} has no entry in 'cpds'")
        spec = specs[node]
        if not isinstance(spec, Mapping):
            raise CPDError(f"bnlearn JSON: the entry of node {node!r} in 'cpds' must be an object")
        if "coefficients" not in spec:
            raise CPDError(f"bnlearn JSON: node {node!r} has no 'coefficients'; only Gaussian nodes are supported")
        if "variance" not in spec:
            raise CPDError(f"bnlearn JSON: node {node!r} has no 'variance'")
        parents = _names(spec.get("parents", []), f"the parents of node {node!r}")
        coefficients = spec["coefficients"]
        if not isinstance(coefficients, Mapping):
            raise CPDError(f"bnlearn JSON: the coefficients of node {node!r} must be an object, got {coefficients!r}")
        coefficients = dict(coefficients)
        intercept = _single(coefficients.pop("(Intercept)", [0.0]), node, "(Intercept)")
        unknown = set(coefficients) - set(parents)
        if unknown:
            raise CPDError(f"bnlearn JSON: node {node!r} has coefficients for {sorted(unknown)}, which are not its parents")
        weights = {p: _single(coefficients.get(p, [0.0]), node, p) for p in parents}
        variance = _single(spec["variance"], node, "variance")
        try:
            cpds[node] = LinearGaussian(parents=parents, intercept=intercept, weights=weights, variance=variance)
        except CPDError as exc:
            raise CPDError(f"bnlearn JSON: node {node!r}: {exc}") from None
        declared.update((p, node) for p in parents)
    raw_arcs = data.get("arcs", [])
    if not isinstance(raw_arcs, list):
        raise CPDError(f"bnlearn JSON: 'arcs' must be a list of [parent, child] pairs, got {raw_arcs!r}")
    arcs = set()
    for arc in raw_arcs:
        if not isinstance(arc, list) or len(arc) != 2 or not all(isinstance(end, str) for end in arc):
            raise CPDError(f"bnlearn JSON: an arc must be a [parent, child] pair of names, got {arc!r}")
        arcs.add(tuple(arc))
    if arcs and arcs != declared:
        extra = sorted(arcs ^ declared)[0]
        raise CPDError(f"bnlearn JSON: the arc {extra[0]} -> {extra[1]} is in 'arcs' or in a node's parents, but not both")
    return BayesianNetwork(cpds, name=name)


def _single(value, node, what) -> float:
    values = value if isinstance(value, list) else [value]
    if len(values) != 1:
        raise CPDError(f"bnlearn JSON: {what} of node {node!r} must be one number, got {value!r}")
    number = values[0]
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        raise CPDError(f"bnlearn JSON: {what} of node {node!r} must be a finite number, got {number!r}")
    return float(number)


def read_json(path, *, name: str | None = None):
    """Read a network from pgm's JSON format, or from bnlearn's Gaussian JSON.

    ``name`` overrides the network's name (by default the one stored in the
    file, or the file's stem for bnlearn's JSON, which stores none).  Every
    error about the file's contents starts with the file's name.

    Examples
    --------
    >>> import pgm
    >>> from pgm.io import read_json
    >>> ecoli = read_json(pgm.datasets.path("ecoli70"))
    >>> len(ecoli), ecoli.is_linear_gaussian
    (46, True)
    """
    from pathlib import Path

    from pgm.io._files import read_text

    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(exc.msg, exc.lineno, exc.colno, str(path)) from None
    except RecursionError:
        raise ParseError("the JSON is nested too deeply", 1, 1, str(path)) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise ParseError(f"not valid JSON ({exc})", 1, 1, str(path)) from None
    try:
        if isinstance(data, Mapping) and data.get("format") == FORMAT_NAME:
            network = network_from_dict(data)
        elif isinstance(data, Mapping) and "cpds" in data:
            network = bnlearn_from_dict(data, name=Path(path).stem)
        else:
            raise DataError("neither pgm's JSON network format nor bnlearn's (no 'format' or 'cpds' key)")
    except PGMError as exc:  # one-message errors: put the file in front, keeping the class
        exc.args = (f"{path}: {exc}",)
        raise exc.with_traceback(None) from None
    if name is not None:
        network.name = name
    return network


def write_json(network, path) -> None:
    """Write the network in pgm's JSON format, atomically.

    Raises
    ------
    CPDError
        A network with no nodes, or a parameter that is NaN or infinite (no
        file is written: it could not be read back).
    """
    from pgm.io._files import write_text_atomically

    if not len(network):
        raise CPDError("the network has no nodes; there is nothing to write")
    if not isinstance(network.name, str):
        raise CPDError(f"the network's name must be a string to be written, got {network.name!r}")
    data = network_to_dict(network)
    for node, spec in data["nodes"].items():
        _check_finite(spec, f"node {node!r} cannot be written")
    write_text_atomically(path, json.dumps(data, indent=1, allow_nan=False) + "\n")
