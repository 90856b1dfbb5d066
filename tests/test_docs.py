"""The user guide's code runs, in order, exactly as written (by the same runner that puts its output in the HTML)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from doc_blocks import python_blocks, run_blocks  # noqa: E402  (the docs' own runner, docs/_ext/doc_blocks.py)

# Every document with code: the guide's chapters (pages without code, like the index, have nothing to run).
DOCUMENTS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md") if "```python" in p.read_text(encoding="utf-8")) + [
    "README.md"]


def test_the_guide_is_among_the_executed_documents():
    assert "docs/guide.md" in DOCUMENTS and "docs/bayesian.md" in DOCUMENTS


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_python_block_runs_in_order(document, tmp_path):
    blocks = python_blocks((ROOT / document).read_text(encoding="utf-8"))
    assert blocks, f"{document} has no python code blocks"
    # one namespace, in tmp_path; EM's ConvergenceWarning is an error (issue 17: a reader copying the docs
    # sees no EM warning they were not told about); a failing block raises naming the document and block
    ran = [shown.number for shown in run_blocks(blocks, document, tmp_path)]
    assert ran == list(range(1, len(blocks) + 1))
