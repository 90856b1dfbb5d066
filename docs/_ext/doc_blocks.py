"""Run a Markdown page's ```python blocks in order, in one namespace, as a reader would, and keep what each shows.

One runner for two users: ``tests/test_docs.py`` runs every page with it (the guide's code must run as
written), and the Sphinx extension ``block_outputs`` runs it again at build time to put each block's
output under it in the HTML.  What a block "shows" is what a notebook cell would: the text it prints, the
warnings it raises, the value of its last line when that line is an expression (a table, a diagram), and
the matplotlib figures it leaves open.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

_FENCE = re.compile(r"```python\n(.*?)```", flags=re.DOTALL)


def python_blocks(text: str) -> list[str]:
    """The source of every ```python fence, in page order."""
    return _FENCE.findall(text)


@dataclass
class Shown:
    """What one block showed: printed text, warnings, its last expression's value, and open figures."""

    number: int
    source: str
    stdout: str = ""
    warnings: list[str] = field(default_factory=list)
    value: object = None
    figures: list = field(default_factory=list)


class BlockError(AssertionError):
    """A block raised: names the page and the block, and carries its source."""


@contextlib.contextmanager
def _inside(workdir: Path | None):
    """Run in ``workdir`` (pages write files), with matplotlib drawing off screen (Agg)."""
    previous_dir, previous_backend = os.getcwd(), os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"  # read when pyplot is first imported
    if "matplotlib" in sys.modules:  # already imported: switch it (pyplot may not be loaded yet)
        sys.modules["matplotlib"].use("Agg")
    if workdir is not None:
        os.chdir(workdir)
    try:
        yield
    finally:
        os.chdir(previous_dir)
        if previous_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous_backend


def _split_last_expression(source: str, filename: str):
    """Code objects for the block without its last statement and for that statement, evaluated when it
    is an expression (as a notebook cell does); otherwise the whole block and None."""
    tree = ast.parse(source, filename)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
        return compile(tree, filename, "exec"), compile(last, filename, "eval")
    return compile(tree, filename, "exec"), None


def _open_figures() -> list:
    """Close and return the figures a block left open (only if it used pyplot at all)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    figures = [pyplot.figure(number) for number in pyplot.get_fignums()]
    pyplot.close("all")  # a closed figure can still be saved
    return figures


def run_blocks(blocks: list[str], document: str, workdir: Path | None = None):
    """Run ``blocks`` in order in one fresh namespace, yielding a :class:`Shown` for each.

    EM's ConvergenceWarning is an error: a reader copying the docs must see no warning they were not
    told about (a page that means to show one silences it explicitly).  A block that raises ends the
    run with a :class:`BlockError` naming the page and block.
    """
    from pgm.learning.em import ConvergenceWarning

    namespace: dict = {"__name__": "__guide__"}
    with _inside(workdir):
        for number, source in enumerate(blocks, start=1):
            shown = Shown(number, source)
            printed = io.StringIO()
            try:
                body, last = _split_last_expression(source, f"{document} block {number}")
                with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
                    warnings.simplefilter("error", ConvergenceWarning)
                    exec(body, namespace)
                    if last is not None:
                        shown.value = eval(last, namespace)
            except Exception as error:  # re-raise with the block that failed
                raise BlockError(f"{document}, code block {number} failed: {error!r}\n{source}") from error
            finally:
                figures = _open_figures()
            shown.stdout = printed.getvalue()
            shown.warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
            shown.figures = figures
            yield shown
