"""Issue 17, item 3: what the docs and the printed summaries say is what the code does."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

import pgm

ROOT = Path(__file__).resolve().parent.parent


def test_one_label_for_each_kind_of_gaussian_node():
    patients = pd.DataFrame({"smoker": [True, False] * 50, "age": np.linspace(20.0, 80.0, 100)})
    clinic = pgm.BayesianNetwork.from_data([("smoker", "age")], patients)
    assert re.search(r"age +conditional linear Gaussian  <- smoker", str(clinic))  # a discrete parent
    assert "aceB   linear Gaussian  <- icdA" in str(pgm.load("ecoli70"))  # continuous parents
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    assert "age: conditional linear Gaussian <- smoker" in guide and "Gaussian with features" not in str(clinic)


def test_the_factorisation_of_a_nonlinear_mean_is_not_compared_with_a_gaussian_joint():
    cubic = pgm.BayesianNetwork({
        "x": pgm.Gaussian(0.0, 1.0),
        "y": pgm.LinearGaussian(parents=["x"], features=pgm.polynomial("x", 3), weights=[1.0, -2.0, 0.3]),
    })
    summary = cubic.factorization().parameter_summary()
    # 7 parameters (x: 2; y: intercept, 3 weights, variance) against a 2-D Gaussian's 5: the joint is not
    # Gaussian, so the summary must not present 5 as "the full joint" the factorisation saves on
    assert "7 free parameters" in summary and "not Gaussian" in summary and "in the full joint" not in summary
    linear = pgm.BayesianNetwork({"x": pgm.Gaussian(0.0, 1.0), "y": pgm.LinearGaussian(parents=["x"])})
    assert "5 in the full joint distribution" in linear.factorization().parameter_summary()


def test_a_node_with_only_continuous_parents_is_not_labelled_without_parents():
    net = pgm.BayesianNetwork({"x": pgm.Gaussian(0.0, 1.0),
                               "y": pgm.LinearGaussian(parents=["x"], weights={"x": 2.0}, variance=1.0)})
    prior = pgm.NormalInverseGamma(precision=0.01, shape=2, scale=1)
    interval = net.parameter_posterior(net.sample(200, seed=0), prior=prior).credible_interval("y")
    labels = set(interval.index.get_level_values("configuration"))
    assert labels == {"(no discrete parents)"}


def test_the_readme_masks_cells_completely_at_random_keeping_categoricals():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert ".astype(object).mask(" not in readme and "== \"no\")" not in readme
    line = next(line for line in readme.splitlines() if line.startswith("cases = rows.head(1000).mask("))
    assert "hide" in line
    asia = pgm.load("asia")
    rows = asia.sample(1000, seed=1)
    hide = np.random.default_rng(0).random((1000, len(asia))) < 0.3
    cases = rows.head(1000).mask(hide)
    assert all(isinstance(cases[c].dtype, pd.CategoricalDtype) for c in cases)  # categoricals kept
    for column in cases:  # every state loses cells, not only "no": missing completely at random
        assert set(rows[column][cases[column].isna()]) == set(rows[column])


def test_the_guide_no_longer_says_rows_must_be_complete_and_bdeu_has_no_map_claim():
    guide = (ROOT / "docs" / "guide.md").read_text(encoding="utf-8")
    assert "Rows must be complete" not in guide
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"`BDeu` \([^)]*estimate=\"map\"", readme)
