"""The HTML documentation (API reference from the docstrings, plus the guide) builds with no warning."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_sphinx_builds_the_docs_with_warnings_as_errors(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("myst_parser")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"), str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    pages = {path.stem: path.read_text(encoding="utf-8") for path in (tmp_path / "api").glob("*.html")}
    api = "".join(pages.values())
    for name in ("BayesianNetwork", "parameter_posterior", "kl_divergence", "from_data", "Categorical"):
        assert name in api
    assert (tmp_path / "guide.html").exists()
    # issue 17, item 14: one page per topic, none of them huge, objects under their public path, once each
    assert len(pages) >= 8 and max(len(page) for page in pages.values()) < 300_000
    for public in ("pgm.Dirichlet", "pgm.BDeu", "pgm.BayesianNetwork", "pgm.Categorical", "pgm.read_csv"):
        assert sum(page.count(f'id="{public}"') for page in pages.values()) == 1, public
    assert 'id="pgm.learning.priors.Dirichlet"' not in api
