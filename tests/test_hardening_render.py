"""Issue 9, item 1: node names are data, never Graphviz syntax."""

import re
import shutil

import pytest

from pgm import BayesianNetwork, Bernoulli
from pgm.render import to_graphviz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def drawn(network, **options):
    """The node titles and edge titles of the SVG that dot draws, and the label texts."""
    svg = to_graphviz(network, **options).pipe(format="svg").decode("utf-8")
    titles = re.findall(r'<g id="(node|edge)\d+" class="(?:node|edge)">\s*<title>(.*?)</title>', svg)
    nodes = [t for kind, t in titles if kind == "node"]
    edges = [t for kind, t in titles if kind == "edge"]
    return nodes, edges, re.findall(r"<text[^>]*>(.*?)</text>", svg)


@needs_dot
def test_a_colon_in_a_name_is_not_a_port():
    net = BayesianNetwork({"gene:A": Bernoulli(0.5), "c": Bernoulli([0.5, 0.5], parents=["gene:A"])})
    nodes, edges, labels = drawn(net)
    assert sorted(nodes) == ["c", "gene:A"]  # no phantom node "gene"
    assert edges == ["gene:A&#45;&gt;c"]
    assert sorted(labels) == ["c", "gene:A"]


@needs_dot
def test_markup_in_a_name_is_drawn_as_written():
    net = BayesianNetwork({"<b>x</b>": Bernoulli(0.5), "a & b": Bernoulli([0.2, 0.3], parents=["<b>x</b>"])})
    nodes, edges, labels = drawn(net)
    assert sorted(labels) == ["&lt;b&gt;x&lt;/b&gt;", "a &amp; b"]
    assert len(nodes) == 2 and len(edges) == 1
    assert "label=<&lt;b&gt;x&lt;/b&gt;>" in to_graphviz(net).source


@needs_dot
@pytest.mark.parametrize("names", [
    ["node", "edge", "graph"],                      # DOT keywords
    ['say "hi"', "back\\slash", "tab\there"],       # quotes, a backslash, a tab
    ["line\nbreak", "ctrl\x01char", "ünïcødé ✓"],   # control characters and unicode
    ["-1", "1.5", "a-b", "a.b", "{x}", "[y]", "a;b", "a,b", "a=b", "a->b", "a--b", "//c", "/*d*/"],
    ["]", "]]", "\x1f"],                                # a leading ] once broke dot's HTML-label parser
])
def test_any_names_make_one_node_each_and_their_edges(names):
    cpds = {names[0]: Bernoulli(0.5)}
    for previous, name in zip(names, names[1:]):
        cpds[name] = Bernoulli([0.5, 0.5], parents=[previous])
    net = BayesianNetwork(cpds, name='net "with" \\ odd <name>')
    nodes, edges, labels = drawn(net, trail=names[:2])
    assert len(nodes) == len(names) and len(edges) == len(names) - 1
    assert len(labels) == len(names)


def test_plain_names_stay_readable_in_the_source():
    net = BayesianNetwork({"rain": Bernoulli(0.2), "wet": Bernoulli([0.1, 0.9], parents=["rain"])})
    source = to_graphviz(net).source
    assert "rain -> wet" in source and "label=<rain>" in source


def test_a_bad_rankdir_is_refused():
    with pytest.raises(ValueError, match="rankdir must be one of"):
        to_graphviz(BayesianNetwork({"a": Bernoulli(0.5)}), rankdir="sideways")


def test_an_unknown_image_format_is_refused_before_drawing(tmp_path):
    from pgm.render import render

    with pytest.raises(ValueError, match="'txt' is not an image format"):
        render(BayesianNetwork({"a": Bernoulli(0.5)}), tmp_path / "a.txt")
    assert not (tmp_path / "a.txt").exists()
