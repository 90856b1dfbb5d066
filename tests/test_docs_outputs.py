"""Issue 17, item 14: the guide's HTML shows what each code block prints and draws.

The runner (docs/_ext/doc_blocks.py) is checked directly; the Sphinx extension (docs/_ext/block_outputs.py)
by building a two-page project that prints, returns a table, a diagram and a matplotlib figure, and one
whose code fails.  The real guide's HTML is checked in tests/test_api_reference.py, in the one full build.
"""

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from doc_blocks import BlockError, python_blocks, run_blocks  # noqa: E402


def test_the_runner_keeps_prints_warnings_and_the_last_expression_in_one_namespace(tmp_path):
    blocks = python_blocks(textwrap.dedent('''
        Text.
        ```python
        import warnings
        x = 6 * 7
        print("x is", x)
        warnings.warn("look out")
        ```
        ```python
        open("here.txt", "w").write("hi")
        x + 1
        ```
        ```python
        y = x
        ```
    '''))
    shown = list(run_blocks(blocks, "page.md", tmp_path))
    assert [s.stdout for s in shown] == ["x is 42\n", "", ""]
    assert shown[0].warnings == ["UserWarning: look out"] and shown[0].value is None
    assert shown[1].value == 43 and shown[2].value is None  # an assignment shows nothing, as in a notebook
    assert (tmp_path / "here.txt").read_text() == "hi"  # blocks run in the folder given


def test_the_runner_names_the_failing_block_and_refuses_em_convergence_warnings(tmp_path):
    with pytest.raises(BlockError, match=r"page\.md, code block 2 failed: ZeroDivisionError"):
        list(run_blocks(["a = 1\n", "a / 0\n"], "page.md", tmp_path))
    warn = "import warnings, pgm\nwarnings.warn('stopped early', pgm.learning.em.ConvergenceWarning)\n"
    with pytest.raises(BlockError, match="code block 1 failed: ConvergenceWarning"):
        list(run_blocks([warn], "page.md", tmp_path))


def test_the_runner_draws_matplotlib_figures_with_agg_and_closes_them(tmp_path):
    pytest.importorskip("matplotlib")
    code = "import matplotlib\nimport matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nbackend = matplotlib.get_backend()\n"
    shown = list(run_blocks([code, "backend\n"], "page.md", tmp_path))
    assert len(shown[0].figures) == 1 and shown[1].figures == []  # each figure shown once, under its block
    assert shown[1].value.lower() == "agg"


def _build(tmp_path, pages: dict[str, str]):
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(ROOT / "docs" / "_ext")!r})
        extensions = ["myst_parser", "block_outputs"]
        source_suffix = {{".md": "markdown"}}
        html_static_path = [{str(ROOT / "docs" / "_static")!r}]
    '''))
    for name, text in pages.items():
        (source / f"{name}.md").write_text(textwrap.dedent(text))
    out = tmp_path / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(source), str(out)],
                            capture_output=True, text=True, timeout=300)
    return result, out


def _outputs(html: str) -> list[str]:
    """The output containers in page order (each ends where the next block or section begins)."""
    return re.split(r'<div class="pgm-output[^"]*">', html)[1:]


@pytest.mark.skipif(shutil.which("dot") is None, reason="diagrams need Graphviz's dot")
def test_a_built_page_shows_text_tables_diagrams_and_figures_under_their_blocks(tmp_path):
    for module in ("sphinx", "myst_parser", "matplotlib"):
        pytest.importorskip(module)
    result, out = _build(tmp_path, {"index": '''
        # Page

        ```python
        import pandas as pd
        print("two and two make", 2 + 2)
        ```

        ```python
        pd.DataFrame({"state": ["yes", "no"], "p": [0.25, 0.75]})
        ```

        ```python
        import graphviz
        graph = graphviz.Digraph()
        graph.edge("cause", "effect")
        graph
        ```

        ```python
        import matplotlib.pyplot as plt
        plt.plot([0, 1, 2], [0, 1, 4])
        total = 1
        ```

        ```python
        total = 2
        ```
    '''})
    assert result.returncode == 0, result.stderr[-3000:]
    html = (out / "index.html").read_text(encoding="utf-8")
    outputs = _outputs(html)
    assert len(outputs) == 4  # the last block shows nothing, so it gets no output
    assert "two and two make 4" in outputs[0]
    assert "<table" in outputs[1] and "0.75" in outputs[1] and "<svg" not in outputs[1]
    assert re.search(r"<svg[^>]*max-width: 100%", outputs[2]) and ">cause</text>" in outputs[2]
    assert '<img alt="figure" src="data:image/png;base64,iVBOR' in outputs[3]
    assert "<?xml" not in html  # inline SVG without its XML prologue
    assert "pgm-output.css" in html


def test_a_page_whose_code_fails_fails_the_build_naming_the_block(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    result, _ = _build(tmp_path, {"index": '''
        # Page

        ```python
        x = 1
        ```

        ```python
        x / 0
        ```
    '''})
    assert result.returncode != 0
    assert "index.md, code block 2 failed: ZeroDivisionError" in result.stderr


def test_the_docs_extra_installs_what_the_guide_needs_to_run_at_build_time():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # (no tomllib: Python 3.10 is supported)
    block = text[text.index("[project.optional-dependencies]"):text.index("[project.scripts]")]
    extras = {name: re.findall(r'"([^"]+)"', body)
              for name, body in re.findall(r"^(\w+) = \[(.*?)\]$", block, flags=re.MULTILINE | re.DOTALL)}
    assert set(extras["examples"]) <= set(extras["docs"])  # every chapter's code runs during the build
    for tool in ("sphinx", "numpydoc", "myst-parser"):
        assert any(requirement.startswith(tool) for requirement in extras["docs"]), tool
