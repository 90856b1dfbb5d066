"""Reading and writing networks: BIF for discrete networks, JSON for any network; :func:`scan` reads data files in chunks."""

from __future__ import annotations

from pathlib import Path

from pgm.io.bif import format_bif, parse_bif, read_bif, write_bif
from pgm.io.json_format import network_from_dict, network_to_dict, read_json, write_json
from pgm.io.chunked import Scan, scan

__all__ = ["read", "write", "read_bif", "write_bif", "parse_bif", "format_bif", "read_json", "write_json",
           "network_to_dict", "network_from_dict", "scan", "Scan"]

_READERS = {"bif": read_bif, "json": read_json}
_WRITERS = {"bif": write_bif, "json": write_json}


def _format_of(path, format: str | None, table: dict) -> str:
    fmt = (format or Path(path).suffix.lstrip(".")).lower()
    if fmt not in table:
        raise ValueError(f"unknown network format {fmt!r} for {str(path)!r}; use one of {sorted(table)} (or pass format=)")
    return fmt


def read(path, *, format: str | None = None):
    """Read a network from ``path``; the format comes from the extension (``.bif``, ``.json``) unless given.

    Parameters
    ----------
    path : str or path
        A ``.bif`` or ``.json`` file (bnlearn's Gaussian JSON too).
    format : {'bif', 'json'}, optional
        By default from the extension.

    Examples
    --------
    >>> import pgm
    >>> pgm.read(pgm.datasets.path("asia")).nodes[:3]
    ('asia', 'tub', 'smoke')
    """
    return _READERS[_format_of(path, format, _READERS)](path)


def write(network, path, *, format: str | None = None) -> None:
    """Write ``network`` to ``path`` atomically; the format comes from the extension unless given.

    Parameters
    ----------
    network : BayesianNetwork
        The network to write.
    path : str or path
        The file to write (atomically).
    format : {'bif', 'json'}, optional
        By default from the extension; BIF holds discrete networks only.
    """
    _WRITERS[_format_of(path, format, _WRITERS)](network, path)
