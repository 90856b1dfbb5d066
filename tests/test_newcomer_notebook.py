"""Issue 17, items 5-7: results as a notebook shows them, checked by executing a real notebook.

The notebook is built with nbformat, run by nbclient on a Jupyter kernel, and its rich outputs are
read back: captions that say what was asked, one number format, tidy tables, text shown as text, and a
diagram with each node's posterior.  Expected numbers come from the API in this process.
"""

import html
import os
import re
import shutil
from pathlib import Path

import pytest

import pgm

ROOT = Path(__file__).resolve().parent.parent

CELLS = [
    "import pgm\nasia = pgm.load('asia')",
    "asia.query('lung', evidence={'xray': 'yes', 'smoke': 'no'})",
    "asia.posteriors({'xray': 'yes'})",
    "asia.mpe({'xray': 'yes', 'dysp': 'yes'})",
    "pgm.load('ecoli70').query(['lacZ', 'aceB'], evidence={'icdA': 1.0})",
    ("mixture = pgm.BayesianNetwork({'c': pgm.Categorical(['a', 'b'], table=[0.3, 0.7]),\n"
     "    'x': pgm.LinearGaussian(parents=['c'], intercept=[-2.0, 3.0], variance=[1.0, 1.0])})\n"
     "mixture.query('x')"),
    "asia.factorization().describe()",
    "asia.to_graphviz(evidence={'xray': 'yes'}, posteriors=True)",
    "asia.query('lung', evidence={'xray': 'yes'}).probabilities.tolist()",
    ("hidden = asia.with_cpd('either', pgm.Categorical.latent(['yes', 'no'], parents=['lung', 'tub']))\n"
     "import warnings; warnings.simplefilter('ignore')  # 5 iterations on purpose\n"
     "em = hidden.fit(asia.sample(2000, seed=1).drop(columns='either'), seed=0, max_iter=5, tol=0)\n"
     "em.fit_report_"),
]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    folder = tmp_path_factory.mktemp("notebook")
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + previous if previous else "")  # this checkout's pgm
    try:
        nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}}).execute()
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous
    results = []
    for cell in notebook.cells:
        data = {}
        for output in cell.outputs:
            assert output.output_type != "error", output
            data.update(output.get("data", {}))
        results.append(data)
    return results


def numbers_in(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"<td>(-?[\d.]+(?:e[-+]\d+)?)</td>", text)]


def test_a_query_shows_a_table_captioned_with_its_evidence(outputs):
    shown = outputs[1]["text/html"]
    assert "p(lung | xray=yes, smoke=no)" in html.unescape(shown)
    expected = pgm.load("asia").query("lung", evidence={"xray": "yes", "smoke": "no"}).probabilities
    assert numbers_in(shown) == pytest.approx(expected, abs=5e-5)  # four significant digits


def test_posteriors_are_one_tidy_table(outputs):
    shown = html.unescape(outputs[2]["text/html"])
    assert shown.count("<table") == 1 and "p(node | xray=yes)" in shown
    asia = pgm.load("asia")
    expected = [p for node in asia.nodes if node != "xray"
                for p in asia.query(node, evidence={"xray": "yes"}).probabilities]
    assert numbers_in(shown) == pytest.approx(expected, rel=5e-4, abs=5e-5)


def test_mpe_shows_its_assignment_and_log_probabilities(outputs):
    shown = html.unescape(outputs[3]["text/html"])
    best = pgm.load("asia").mpe({"xray": "yes", "dysp": "yes"})
    assert "most probable explanation" in shown and "log p(assignment | evidence)" in shown
    for node, state in best.assignment.items():
        assert f"<th>{node}</th>" in shown and f"<td>{state}</td>" in shown


def test_normal_and_mixture_show_means_sds_covariances_and_weights(outputs):
    normal = html.unescape(outputs[4]["text/html"])
    posterior = pgm.load("ecoli70").query(["lacZ", "aceB"], evidence={"icdA": 1.0})
    assert "p(lacZ, aceB | icdA=1)" in normal and "cov(aceB)" in normal
    expected = [posterior.mean[0], posterior.covariance[0, 0] ** 0.5, *posterior.covariance[0],
                posterior.mean[1], posterior.covariance[1, 1] ** 0.5, *posterior.covariance[1]]
    assert numbers_in(normal) == pytest.approx(expected, rel=5e-4)
    mixture = html.unescape(outputs[5]["text/html"])
    # components c=a (weight 0.3, mean -2, sd 1) and c=b (0.7, 3, 1); the mixture: mean 1.5,
    # variance 1 + 0.3 * 0.7 * 5^2 = 6.25 by the law of total variance
    assert "p(x)" in mixture and "c=a" in mixture and "c=b" in mixture
    assert numbers_in(mixture) == pytest.approx([0.3, -2, 1, 0.7, 3, 1, 1, 1.5, 2.5])


def test_describe_is_shown_as_text_not_a_quoted_string(outputs):
    text = outputs[6]["text/plain"]
    assert text.startswith("p(asia, tub") and "\n" in text and "\\n" not in text and not text.startswith("'")


@pytest.mark.skipif(shutil.which("dot") is None, reason="drawing needs Graphviz's dot")
def test_the_diagram_draws_posteriors_and_fits_the_output_area(outputs):
    svg = outputs[7]["image/svg+xml"]
    assert "xray = yes" in svg  # the observed node, with its value
    lung = pgm.load("asia").query("lung", evidence={"xray": "yes"}).probabilities
    assert f"{lung[0]:.3f}" in svg and f"{lung[1]:.3f}" in svg  # each state's posterior, beside its bar
    assert outputs[8]["text/plain"] == str(lung.tolist())  # (the same numbers, from the kernel)


def test_a_missing_dot_is_a_warning_that_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "")  # no program called dot anywhere
    with pytest.warns(pgm.errors.PGMWarning, match=r"apt-get install graphviz"):
        assert pgm.load("asia")._repr_svg_() is None  # Jupyter then shows the text form


def test_size_ratio_and_dpi_reach_graphviz():
    source = pgm.load("alarm").to_graphviz(size="8,6", ratio="compress", dpi=150).source
    assert 'size="8,6"' in source and "ratio=compress" in source and 'dpi="150"' in source.replace("dpi=150", 'dpi="150"')
    with pytest.raises(ValueError, match="two numbers of inches"):
        pgm.load("asia").to_graphviz(size="big")


@pytest.mark.skipif(shutil.which("dot") is None, reason="drawing needs Graphviz's dot")
def test_render_dpi_scales_the_png(tmp_path):
    import struct

    from pgm.cli import main

    widths = []
    for dpi in (50, 100):
        path = tmp_path / f"asia-{dpi}.png"
        assert main(["render", "asia", "-o", str(path), "--dpi", str(dpi), "-q"]) == 0
        widths.append(struct.unpack(">I", path.read_bytes()[16:20])[0])  # the PNG header's width
    assert widths[1] == pytest.approx(2 * widths[0], rel=0.05)


def test_the_em_report_shows_a_table_and_its_curve(outputs):
    shown = html.unescape(outputs[9]["text/html"])
    assert "EM fit report" in shown and "<svg" in shown and "<polyline" in shown
    points = re.search(r'points="([^"]+)"', shown).group(1).split()
    assert len(points) == 6  # the start and 5 iterations
    heights = [float(p.split(",")[1]) for p in points]
    assert heights == sorted(heights, reverse=True)  # without a prior EM's log-likelihood never falls
