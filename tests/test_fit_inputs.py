"""Fitting inputs that used to give wrong answers silently (issue 9, items 2 and 3)."""

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import DataError


def test_weights_as_a_series_are_matched_by_index_not_position():
    net = pgm.load("cancer")
    rows = net.sample(400, seed=0)
    weights = pd.Series(np.random.default_rng(1).uniform(0.5, 2.0, len(rows)), index=rows.index)
    expected = net.fit(rows, weights=weights.to_numpy())
    shuffled = rows.sample(frac=1.0, random_state=2)            # same labels, other order
    fitted = net.fit(shuffled, weights=weights)
    for node in net.nodes:  # equal up to the order of summation
        np.testing.assert_allclose(fitted[node].table, expected[node].table, rtol=1e-12)
    # matching by position would give another answer
    positional = net.fit(shuffled, weights=weights.to_numpy())
    assert not np.allclose(positional["Smoker"].table, expected["Smoker"].table, rtol=1e-6)
    # by hand: the weighted frequency of Smoker
    by_hand = weights.groupby(rows["Smoker"], observed=False).sum() / weights.sum()
    np.testing.assert_allclose(expected["Smoker"].table, by_hand[list(net.states("Smoker"))].to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("labels, culprit", [
    (lambda index: index[:-1], "no entry for the data's row labelled 399"),
    (lambda index: index.append(pd.Index([1000])), "row label 1000"),
])
def test_weights_whose_index_does_not_match_are_refused(labels, culprit):
    net = pgm.load("cancer")
    rows = net.sample(400, seed=0)
    index = labels(rows.index)
    weights = pd.Series(np.ones(len(index)), index=index)
    with pytest.raises(DataError, match=culprit):
        net.fit(rows, weights=weights)


@pytest.mark.parametrize("scale", [1e160, 1e200, 1e-170])
def test_gaussian_fits_at_extreme_scales_are_refused_clearly(scale):
    net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.LinearGaussian(parents=["x"])})
    rows = net.sample(100, seed=0) * scale
    with pytest.raises(DataError, match=r"node 'x'.*rescale"):
        net.fit(rows)


def test_large_but_representable_scales_still_fit_exactly():
    net = pgm.BayesianNetwork({"x": pgm.Gaussian(), "y": pgm.LinearGaussian(parents=["x"])})
    rows = net.sample(200, seed=0)
    rows["y"] = 3.0 * rows["x"] + 0.1 * np.random.default_rng(0).standard_normal(200)
    design = np.column_stack([np.ones(200), rows["x"]])
    (intercept, slope), *_ = np.linalg.lstsq(design, rows["y"].to_numpy(), rcond=None)
    for scale in (1e-100, 1e100):  # the slope does not change with the units; the intercept scales
        fitted = net.fit(rows * scale)
        assert float(fitted["y"].weights[0]) == pytest.approx(slope, rel=1e-9)
        assert float(fitted["y"].intercept) == pytest.approx(intercept * scale, rel=1e-9)
        assert float(fitted["y"].variance) > 0
