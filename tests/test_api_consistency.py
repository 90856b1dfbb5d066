"""One test per consistency promise of the API: return types, printing, frames, imports, argument names."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import CPDError


def test_graph_answers_have_one_type_per_kind():
    """Ordered node sequences are tuples, unordered collections sets, paths lists (as networkx's), edges pairs."""
    asia = pgm.load("asia")
    for ordered in (asia.nodes, asia.parents("either"), asia.children("smoke"), asia.topological_order()):
        assert isinstance(ordered, tuple)
    for unordered in (asia.ancestors("dysp"), asia.descendants("smoke"), asia.markov_blanket("either"),
                      asia.d_connected("asia", given=["either"]), asia.v_structures(), asia.skeleton()):
        assert isinstance(unordered, set)
    trail = asia.active_trail("asia", "smoke", given="dysp")
    assert isinstance(trail, list) and trail[0] == "asia" and trail[-1] == "smoke"
    assert asia.active_trail("asia", "smoke") is None  # d-separated: no trail, always None
    assert all(isinstance(edge, tuple) and len(edge) == 2 for edge in asia.edges)


def test_print_cpd_shows_its_numbers_with_labels():
    cancer = pgm.load("cancer")
    text = str(cancer["Cancer"])
    assert text.startswith("p(Cancer | Pollution, Smoker)")
    assert "0.030" in text and "0.999" in text and "low" in text and "True" in text
    ecoli = pgm.load("ecoli70")
    b, w, v = float(ecoli["aceB"].intercept), float(ecoli["aceB"].weights[0]), float(ecoli["aceB"].variance)
    assert str(ecoli["aceB"]) == f"aceB ~ N({b:.4g} + {w:.4g} icdA, {v:.4g})"
    unfitted = pgm.BayesianNetwork({"a": pgm.Categorical(["x", "y"])})
    assert "not fitted" in str(unfitted["a"])


def test_every_cpd_family_has_a_frame_and_html():
    clg = pgm.BayesianNetwork({
        "g": pgm.Categorical(["a", "b"], table=[0.5, 0.5]),
        "x": pgm.Gaussian(0.0, 1.0),
        "y": pgm.LinearGaussian(parents=["g", "x"], intercept=[1.0, 2.0], weights=[[0.5], [-0.5]], variance=[1.0, 2.0]),
    })
    frame = clg["y"].to_frame()
    assert list(frame.columns) == ["intercept", "x", "variance"]
    assert frame.loc["b", "intercept"] == 2.0 and frame.loc["a", "x"] == 0.5 and frame.loc["b", "variance"] == 2.0
    assert clg["x"].to_frame().loc["(no parents)", "variance"] == 1.0
    assert clg["g"].to_frame().shape == (1, 2)
    for node in clg.nodes:
        html = clg[node]._repr_html_()
        assert "<table" in html
    lines = str(clg["y"]).splitlines()
    assert lines[0].startswith("y | g=a ~ N(1") and lines[1].startswith("y | g=b ~ N(2")


def test_print_network_lists_nodes_states_and_parents():
    text = str(pgm.load("asia")).splitlines()
    assert text[0].startswith("BayesianNetwork('asia'")
    either = next(line for line in text if line.strip().startswith("either"))
    assert "2 states [yes, no]" in either and either.endswith("<- lung, tub")


def test_import_pgm_is_enough_for_every_documented_module():
    code = ("import pgm\n"
            "for name in ['render', 'io', 'inference', 'learning', 'graph', 'data', 'datasets', 'errors', 'cli',"
            " 'information', 'classifiers', 'models', 'sampling', 'likelihood', 'factorization', 'from_data']:\n"
            "    getattr(pgm, name)\n"
            "print(pgm.render.__name__)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pgm.render"
    with pytest.raises(AttributeError, match="no attribute 'renderer'"):
        pgm.renderer  # noqa: B018


def test_gaussian_takes_variance_positionally_or_std_by_name():
    by_variance = pgm.BayesianNetwork({"x": pgm.Gaussian(1.0, 4.0)})
    by_std = pgm.BayesianNetwork({"x": pgm.Gaussian(1.0, std=2.0)})
    assert by_variance == by_std and float(by_std["x"].variance) == 4.0
    with pytest.raises(CPDError, match="not both"):
        pgm.Gaussian(0.0, 1.0, std=1.0)
    with pytest.raises(CPDError, match="positive"):
        pgm.Gaussian(0.0, std=-1.0)
    assert "VARIANCE" in pgm.Gaussian.__doc__.splitlines()[0]


def test_bernoulli_says_which_state_p_is_for():
    coin = pgm.Bernoulli(0.3, states=["tails", "heads"])
    assert repr(coin) == "Bernoulli(p('heads')=0.3, states=['tails', 'heads'])"
    net = pgm.BayesianNetwork({"coin": coin})
    assert float(net["coin"].table[1]) == 0.3 and "p('heads')=0.3" in repr(net["coin"])
    assert "SECOND" in pgm.Bernoulli.__doc__.splitlines()[0]


def test_per_row_results_keep_the_callers_index():
    asia = pgm.load("asia")
    rows = asia.sample(6, seed=0)
    rows.index = pd.Index([f"patient{i}" for i in range(6)], name="id")
    evidence = rows.drop(columns=["lung"])
    assert asia.query("lung", evidence=evidence).index.equals(rows.index)
    assert asia.predict(evidence, "lung").index.equals(rows.index)
    assert asia.impute(evidence.mask(evidence == "yes")).index.equals(rows.index)
    log_likelihood = asia.log_likelihood(rows)
    assert isinstance(log_likelihood, np.ndarray) and log_likelihood.shape == (6,)  # documented: an array


def test_long_work_can_show_a_progress_bar(capsys):
    pytest.importorskip("tqdm")
    alarm = pgm.load("alarm")
    rows = alarm.sample(200_000, seed=0, progress=True)
    alarm.log_likelihood(rows, progress=True)
    alarm.fit(rows, progress=True)
    err = capsys.readouterr().err
    for label in ("sampling", "scoring", "fitting"):
        assert label in err and "200k/200k" in err
    assert alarm.fit(rows) == alarm.fit(rows, progress=True)  # the bar changes nothing else


def test_a_queried_network_pickles_and_copies():
    import copy
    import pickle

    asia = pgm.load("asia")
    before = asia.query("lung", evidence={"xray": "yes"}).probabilities
    for twin in (pickle.loads(pickle.dumps(asia)), copy.deepcopy(asia)):
        assert twin == asia
        np.testing.assert_array_equal(twin.query("lung", evidence={"xray": "yes"}).probabilities, before)
