"""Diagrams: node shapes and styles, highlighted trails, real rendering with Graphviz's dot."""

import shutil

import pytest

import pgm
from pgm import BayesianNetwork, Categorical, Gaussian, LinearGaussian
from pgm.render import render, to_graphviz


def node_line(graph, node):
    return next(line for line in graph.body if line.strip().startswith(f"{node} [") or line.strip().startswith(f'"{node}" ['))


def test_observed_nodes_are_shaded_latent_dashed_and_trails_highlighted():
    asia = pgm.load("asia")
    trail = asia.active_trail("asia", "smoke", given="dysp")
    graph = to_graphviz(asia, observed="dysp", latent=["either"], trail=trail)
    assert "filled" in node_line(graph, "dysp")
    assert "dashed" in node_line(graph, "either")
    assert "#d62728" in node_line(graph, "tub")
    highlighted = [line for line in graph.body if "->" in line and "#d62728" in line]
    assert len(highlighted) == len(trail) - 1
    assert "#d62728" not in node_line(graph, "xray")


def test_continuous_nodes_are_boxes_and_discrete_nodes_ellipses():
    net = BayesianNetwork({
        "z": Categorical(["a", "b"], table=[0.5, 0.5]),
        "x": LinearGaussian(parents=["z"], intercept=[0.0, 1.0], variance=[1.0, 1.0]),
        "w": Gaussian(0.0, 1.0),
    })
    graph = to_graphviz(net, show_distributions=True)
    assert "box" in node_line(graph, "x") and "ellipse" in node_line(graph, "z")
    assert "N(0, 1)" in node_line(graph, "w")


def test_a_dag_without_distributions_can_be_drawn():
    graph = to_graphviz(pgm.DAG.from_edges([("a", "b")]))
    assert "a -> b" in graph.source


def test_unknown_nodes_are_refused():
    with pytest.raises(pgm.errors.NodeError, match="'dyspnoea' is not a node"):
        to_graphviz(pgm.load("asia"), observed=["dyspnoea"])


def test_dot_is_installed():
    # .ci/run installs Debian's graphviz package; rendering below needs it.
    assert shutil.which("dot"), "Graphviz's dot is not on PATH: apt-get install graphviz"


@pytest.mark.parametrize("suffix, magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_render_writes_real_images(tmp_path, suffix, magic):
    path = tmp_path / f"alarm.{suffix}"
    render(pgm.load("alarm"), path, observed=["HR"])
    assert path.read_bytes().startswith(magic)


def test_jupyter_shows_a_network_as_svg():
    svg = pgm.load("cancer")._repr_svg_()
    assert "<svg" in svg and "Pollution" in svg
