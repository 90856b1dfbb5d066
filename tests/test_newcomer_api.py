"""Issue 17, item 14: every public method of BayesianNetwork documents every parameter (numpydoc), and
`import pgm` leaves the heavy optional modules unimported until they are used."""

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import pgm

ROOT = Path(__file__).resolve().parent.parent


def public_methods(cls):
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") or isinstance(inspect.getattr_static(cls, name), property) or not callable(member):
            continue
        yield name, member


def documented_parameters(function) -> set[str]:
    from numpydoc.docscrape import FunctionDoc

    doc = FunctionDoc(function)  # raises on a malformed docstring (a section twice, ...)
    return {part.strip().lstrip("*") for entry in doc["Parameters"] for part in entry.name.split(",")}


def test_bayesian_network_has_many_public_methods():
    assert len(list(public_methods(pgm.BayesianNetwork))) >= 45  # the check below covers them all


@pytest.mark.parametrize("name", [name for name, _ in public_methods(pgm.BayesianNetwork)])
def test_every_parameter_of_every_public_method_is_documented(name):
    pytest.importorskip("numpydoc")
    method = getattr(pgm.BayesianNetwork, name)
    wanted = [p for p in inspect.signature(method).parameters if p not in ("self", "cls")]
    documented = documented_parameters(method)
    assert (method.__doc__ or "").strip(), f"BayesianNetwork.{name} has no docstring"
    assert [p for p in wanted if p not in documented] == [], f"BayesianNetwork.{name}: undocumented parameters"


def test_read_csv_is_documented_under_its_public_name():
    pytest.importorskip("numpydoc")
    assert pgm.read_csv is pgm.data.read_csv
    assert documented_parameters(pgm.read_csv) >= {"path", "domains", "options"}


def test_import_pgm_does_not_load_heavy_modules():
    code = ("import sys, pgm; heavy = ['scipy.stats', 'scipy.optimize', 'networkx', 'graphviz', 'sklearn', "
            "'dask', 'matplotlib']; print([m for m in heavy if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""}).stdout.strip()
    assert out == "[]"


TOP_LEVEL_FUNCTIONS = sorted(name for name in pgm.__all__ if inspect.isfunction(getattr(pgm, name)))


@pytest.mark.parametrize("name", TOP_LEVEL_FUNCTIONS)
def test_every_parameter_of_every_top_level_function_is_documented(name):
    pytest.importorskip("numpydoc")
    function = getattr(pgm, name)
    wanted = [p for p in inspect.signature(function).parameters]
    documented = documented_parameters(function)
    assert [p for p in wanted if p not in documented] == [], f"pgm.{name}: undocumented parameters"


PUBLIC_CLASSES = sorted(name for name in pgm.__all__ if inspect.isclass(getattr(pgm, name))
                        and not issubclass(getattr(pgm, name), BaseException))


@pytest.mark.parametrize("name", PUBLIC_CLASSES)
def test_every_constructor_parameter_of_every_public_class_is_documented(name):
    """Constructors too: each parameter under Parameters (or, for result types, Attributes)."""
    pytest.importorskip("numpydoc")
    from numpydoc.docscrape import ClassDoc

    cls = getattr(pgm, name)
    wanted = [p for p in inspect.signature(cls).parameters if p not in ("self", "cls")]
    doc = ClassDoc(cls)
    documented = {part.strip().lstrip("*") for section in ("Parameters", "Attributes")
                  for entry in doc[section] for part in entry.name.split(",")}
    assert [p for p in wanted if p not in documented] == [], f"pgm.{name}: undocumented constructor parameters"
