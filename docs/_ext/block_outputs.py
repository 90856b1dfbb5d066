"""Sphinx extension: under each ```python block of a page, what it shows when run (text, tables, diagrams).

At build time every page's blocks run in order in one namespace (``doc_blocks.run_blocks``, the runner the
tests use) in a temporary folder, and the output of each block is put after it in the doctree: printed
text and warnings as a plain literal block, the last expression's value by its richest display (inline
SVG for diagrams -- a ``graphviz`` graph or a network -- then HTML tables, then PNG, then text), and
matplotlib figures (drawn with Agg) as PNG images.  ``-D pgm_execute=0`` builds without running anything.
A block that fails, or output that cannot be drawn, is a Sphinx warning, so ``-W`` fails the build.
"""

from __future__ import annotations

import base64
import html
import io
import tempfile
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

from doc_blocks import BlockError, python_blocks, run_blocks

logger = logging.getLogger(__name__)


def _svg(text: str) -> str:
    """Inline SVG that scales down to the page width (the XML prologue is not allowed inside HTML)."""
    from pgm.render import fit_to_width

    return fit_to_width(text[text.find("<svg"):])


def _png(data: bytes) -> str:
    return f'<img alt="figure" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}"/>'


def _bundle(value) -> dict:
    """The value's displays by MIME type, as Jupyter would ask for them."""
    if hasattr(value, "_repr_mimebundle_"):  # graphviz graphs
        bundle = value._repr_mimebundle_()
        return dict(bundle[0] if isinstance(bundle, tuple) else bundle)
    bundle = {}
    for mime, method in (("image/svg+xml", "_repr_svg_"), ("text/html", "_repr_html_"), ("image/png", "_repr_png_")):
        if hasattr(value, method):
            shown = getattr(value, method)()
            if shown is not None:
                bundle[mime] = shown
    return bundle


def rich_html(value) -> str | None:
    """HTML for a block's last value, the richest display first; None when only text is available."""
    bundle = _bundle(value)
    if bundle.get("image/svg+xml"):
        svg = bundle["image/svg+xml"]
        return _svg(svg.decode("utf-8") if isinstance(svg, bytes) else svg)
    if bundle.get("text/html"):
        return bundle["text/html"]
    if bundle.get("image/png"):
        png = bundle["image/png"]
        return _png(png if isinstance(png, bytes) else base64.b64decode(png))
    return None


def _figure_html(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return _png(buffer.getvalue())


def _output_node(shown, location: str) -> nodes.container | None:
    """The container put under one block, or None when the block shows nothing."""
    parts: list[nodes.Node] = []
    text = shown.stdout + "".join(f"{line}\n" for line in shown.warnings)
    rich = None
    if shown.value is not None:
        try:
            rich = rich_html(shown.value)
        except Exception as error:  # e.g. Graphviz's dot missing: say so, and -W fails the build
            logger.warning("%s: its last value cannot be drawn: %r", location, error, type="pgm", subtype="output")
        if rich is None and not type(shown.value).__module__.startswith("matplotlib"):
            text += repr(shown.value) + "\n"
    if text:
        literal = nodes.literal_block(text, text, language="none")
        parts.append(literal)
    if rich is not None:
        parts.append(nodes.raw("", f'<div class="pgm-rich">{rich}</div>', format="html"))
    for figure in shown.figures:
        parts.append(nodes.raw("", f'<div class="pgm-rich">{_figure_html(figure)}</div>', format="html"))
    if not parts:
        return None
    return nodes.container("", *parts, classes=["pgm-output"])


def _code_nodes(doctree) -> list[nodes.literal_block]:
    return [node for node in doctree.findall(nodes.literal_block) if node.get("language") == "python"]


def insert_outputs(app, doctree) -> None:
    """``doctree-read``: run the page's blocks and put each one's output after it."""
    if not app.config.pgm_execute:
        return
    docname = app.env.docname
    source = Path(app.env.doc2path(docname))
    if source.suffix != ".md":
        return
    blocks = python_blocks(source.read_text(encoding="utf-8"))
    if not blocks:
        return
    code = _code_nodes(doctree)
    if [node.astext().rstrip("\n") for node in code] != [block.rstrip("\n") for block in blocks]:
        logger.warning("%s: its python blocks in the doctree are not the ones the tests run; outputs left out",
                       docname, type="pgm", subtype="output")
        return
    with tempfile.TemporaryDirectory(prefix="pgm-docs-") as folder:
        try:
            for shown in run_blocks(blocks, source.name, Path(folder)):
                output = _output_node(shown, f"{source.name}, code block {shown.number}")
                if output is not None:
                    node = code[shown.number - 1]
                    node.parent.insert(node.parent.index(node) + 1, output)
        except BlockError as error:
            logger.warning("%s", error, type="pgm", subtype="output")


def setup(app):
    app.add_config_value("pgm_execute", True, "env", [bool, int])
    app.connect("doctree-read", insert_outputs)
    app.add_css_file("pgm-output.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
