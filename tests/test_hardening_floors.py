"""Issue 9, item 16: the dependency floors in pyproject.toml are the versions CI's second job tests."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def floors() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text()
    return {name.lower(): version for name, version in re.findall(r'"([A-Za-z][\w-]*)>=([\d.]+)"', text)}


def pins() -> dict[str, str]:
    text = (ROOT / ".ci" / "oldest.txt").read_text()
    return {name.lower(): version for name, version in re.findall(r"^([A-Za-z][\w-]*)==([\d.]+)$", text, re.M)}


def same_version(floor: str, pin: str) -> bool:
    pad = lambda v: tuple(int(p) for p in v.split(".")) + (0,) * (3 - len(v.split(".")))  # noqa: E731
    return pad(floor) == pad(pin)


def test_every_runtime_and_test_dependency_is_pinned_at_its_floor():
    declared, pinned = floors(), pins()
    for name in ("numpy", "scipy", "networkx", "pandas", "graphviz", "pytest", "hypothesis", "scikit-learn",
                 "matplotlib", "tqdm"):
        assert name in declared and name in pinned, name
        assert same_version(declared[name], pinned[name]), (name, declared[name], pinned[name])


def test_the_oldest_job_exists_and_installs_the_pins():
    script = (ROOT / ".ci" / "run-oldest").read_text()
    assert "-r .ci/oldest.txt" in script and "python -m pytest" in script
