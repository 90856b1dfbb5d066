"""The user guide's code runs, in order, exactly as written."""

import re
import warnings
from pathlib import Path

import pytest

from pgm.learning.em import ConvergenceWarning

ROOT = Path(__file__).resolve().parent.parent


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.DOTALL)


# Every document with code: the guide's chapters (pages without code, like the index, have nothing to run).
DOCUMENTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md") if "```python" in p.read_text(encoding="utf-8")) + [
    "README.md"]


def test_the_guide_is_among_the_executed_documents():
    assert "docs/guide.md" in DOCUMENTS and "docs/bayesian.md" in DOCUMENTS


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_python_block_runs_in_order(document, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = python_blocks(ROOT / document)
    assert blocks, f"{document} has no python code blocks"
    namespace: dict = {"__name__": "__guide__"}
    for number, block in enumerate(blocks, start=1):
        try:
            with warnings.catch_warnings():  # issue 17: a reader copying the docs sees no EM warning they
                warnings.simplefilter("error", ConvergenceWarning)  # were not told about
                exec(compile(block, f"{document} block {number}", "exec"), namespace)
        except Exception as error:  # re-raise with the block that failed
            raise AssertionError(f"{document}, code block {number} failed: {error!r}\n{block}") from error
