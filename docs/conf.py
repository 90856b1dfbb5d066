"""Sphinx configuration: the API reference from the numpydoc docstrings, with the user guide (Markdown) around it.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` (``-W``: every
warning is an error, so a broken reference fails the build); the test suite
does exactly that in ``tests/test_api_reference.py``.  The guide's code runs during the build, so that
each block is followed by its output (``_ext/block_outputs.py``); ``-D pgm_execute=0`` skips that.
"""

import sys
from pathlib import Path

import pgm

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))  # our own extension: block_outputs

project = "pgm"
author = "the pgm developers"
release = pgm.__version__
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "block_outputs",  # each ```python block of the guide is followed by what it prints and draws
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
autosummary_generate = False
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
myst_heading_anchors = 3
suppress_warnings = ["myst.xref_missing"]  # guide pages link to repository files, which are not pages here
intersphinx_mapping = {}  # no network access at build time
html_theme = "alabaster"
# wide enough for the code and tables of the guide and the reference
html_theme_options = {"page_width": "1300px", "body_max_width": "none", "sidebar_width": "230px"}
html_title = "pgm"
html_static_path = ["_static"]  # pgm-output.css: the look of the guide's outputs
