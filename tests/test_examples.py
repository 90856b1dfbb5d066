"""Every script in examples/ runs to completion, and prints what it is there to show."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def numbers_after(label: str, text: str) -> list[str]:
    """The numbers printed after ``label`` on its line."""
    line = next(line for line in text.splitlines() if line.startswith(label))
    return re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", line[len(label):])


def check_tour(out: str) -> None:
    assert "Is 'asia' independent of 'smoke'? True" in out
    assert "the trail asia - tub - either - lung - smoke is active" in out
    assert "Markov blanket of 'either': ['bronc', 'dysp', 'lung', 'tub', 'xray']" in out


def check_sprinkler(out: str) -> None:
    assert re.search(r"sprinkler and rain independent\?\s+False", out)
    assert re.search(r"\.\.\. given cloudy\?\s+True", out)
    assert "sprinkler - wet_grass - rain (explaining away)" in out


def check_chunked_fit(out: str) -> None:
    assert "fit from chunks == fit at once: True" in out


def check_polynomial_regression(out: str) -> None:
    assert numbers_after("lstsq :", out) == numbers_after("pgm   :", out)  # pgm's fit is least squares


def check_mixture(out: str) -> None:
    assert numbers_after("log p(component, x):", out) == numbers_after("by hand:", out)


def check_gaussian_network(out: str) -> None:
    network, joint = re.search(r"network (-?\d+\.\d+) \| joint Gaussian (-?\d+\.\d+)", out).groups()
    assert network == joint  # the factorised and the joint density agree to the printed digits


CHECKS = {
    "tour.py": check_tour,
    "sprinkler.py": check_sprinkler,
    "chunked_fit.py": check_chunked_fit,
    "polynomial_regression.py": check_polynomial_regression,
    "mixture.py": check_mixture,
    "gaussian_network.py": check_gaussian_network,
}


def test_there_are_examples():
    assert len(EXAMPLES) >= 5
    assert set(CHECKS) <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr
    CHECKS.get(script.name, lambda out: None)(result.stdout)
