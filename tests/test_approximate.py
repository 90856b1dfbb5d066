"""``method=`` in query() and posteriors(): approximate answers in the exact path's result types, flagged.

Every comparison is with the exact engine (itself checked against
enumeration in test_inference_discrete.py) on networks where loopy BP is
exact (polytrees) or where Gibbs' own standard errors bound the gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.inference import DiscreteDistribution


def test_one_case_by_loopy_bp_is_a_flagged_discrete_distribution():
    net = pgm.load("cancer")  # a polytree: loopy BP is exact
    evidence = {"Xray": "positive", "Smoker": "True"}
    result = net.query("Cancer", evidence, method="loopy_bp", tol=1e-13)
    exact = net.query("Cancer", evidence)
    assert isinstance(result, DiscreteDistribution)
    assert (result.method, result.approximate, exact.method, exact.approximate) == ("loopy_bp", True, "exact", False)
    assert result.report.converged
    assert result.log_evidence == pytest.approx(exact.log_evidence, abs=1e-10)  # Bethe: exact on a polytree
    np.testing.assert_allclose(result.probabilities, exact.probabilities, rtol=0, atol=1e-10)


def test_many_rows_by_loopy_bp_have_the_exact_frame_layout():
    net = pgm.load("earthquake")
    rows = net.sample(40, seed=1).drop(columns="Alarm")
    rows = rows.mask(np.random.default_rng(1).random(rows.shape) < 0.4)
    rows.index = [f"case{i}" for i in range(len(rows))]
    result = net.query("Alarm", rows, method="loopy_bp", tol=1e-13)
    exact = net.query("Alarm", rows)
    pd.testing.assert_index_equal(result.index, exact.index)
    pd.testing.assert_index_equal(result.columns, exact.columns)
    np.testing.assert_allclose(result.to_numpy(), exact.to_numpy(), rtol=0, atol=1e-10)
    assert result.attrs["method"] == "loopy_bp" and result.attrs["approximate"]
    assert result.attrs["report"].row_converged.shape == (40,)


def test_gibbs_through_query_gives_standard_errors_for_one_case_and_for_rows():
    net = pgm.load("survey")
    single = net.query("E", {"T": "train"}, method="gibbs", n_samples=20_000, n_chains=8, seed=0)
    exact = net.query("E", {"T": "train"})
    assert single.method == "gibbs" and single.standard_errors.shape == (2,)
    assert (np.abs(single.probabilities - exact.probabilities) <= 4 * single.standard_errors).all()
    assert "±" in str(single)
    rows = pd.DataFrame({"T": ["train", "car", None], "A": ["young", None, "old"]})
    frame = net.query("E", rows, method="gibbs", n_samples=20_000, seed=0)
    exact_rows = net.query("E", rows)
    errors = frame.attrs["standard_errors"]
    assert errors.shape == frame.shape == exact_rows.shape
    assert (np.abs(frame.to_numpy() - exact_rows.to_numpy()) <= 4 * errors.to_numpy()).all()


def test_a_joint_query_by_gibbs_and_its_refusal_by_loopy_bp():
    net = pgm.load("survey")
    joint = net.query(["E", "O"], {"T": "car"}, method="gibbs", n_samples=20_000, n_chains=8, seed=1)
    exact = net.query(["E", "O"], {"T": "car"})
    assert joint.variables == ("E", "O")
    assert (np.abs(joint.probabilities - exact.probabilities) <= 4 * joint.standard_errors).all()
    with pytest.raises(ValueError, match="one node's marginal"):
        net.query(["E", "O"], {"T": "car"}, method="loopy_bp")


@pytest.mark.parametrize("method", ["loopy_bp", "gibbs"])
def test_posteriors_by_an_approximate_method_cover_the_same_nodes(method):
    net = pgm.load("cancer")
    evidence = {"Dyspnoea": "True"}
    exact = net.posteriors(evidence)
    result = net.posteriors(evidence, method=method, seed=0, n_samples=20_000)
    assert set(result) == set(exact)
    for node, posterior in exact.items():
        assert result[node].method == method
        tolerance = 1e-10 if method == "loopy_bp" else 4 * result[node].standard_errors
        assert (np.abs(result[node].probabilities - posterior.probabilities) <= tolerance).all()
    rows = pd.DataFrame({"Dyspnoea": ["True", None], "Smoker": [None, "False"]})
    batched = net.posteriors(rows, method=method, seed=0, n_samples=20_000)
    assert set(batched) == set(net.nodes) and batched["Cancer"].shape == (2, 2)


def test_auto_is_exact_when_the_plan_fits_and_says_so():
    net = pgm.load("alarm")
    result = net.query("HR", {"BP": "LOW"}, method="auto")
    exact = net.query("HR", {"BP": "LOW"})
    assert result.method == "exact" and not result.approximate
    assert "within the memory budget" in result.choice
    np.testing.assert_array_equal(result.probabilities, exact.probabilities)


def test_auto_falls_back_to_loopy_bp_when_the_plan_does_not_fit():
    net = pgm.load("alarm")
    plan = net.inference_plan("HR", {"BP": "LOW"})
    budget = 8 * plan.total_table_entries  # below tables plus one row
    result = net.query("HR", {"BP": "LOW"}, method="auto", memory_budget=budget)
    assert result.method == "loopy_bp" and result.approximate and result.report.converged
    assert "above the memory budget" in result.choice
    reference = net.query("HR", {"BP": "LOW"}, method="loopy_bp")
    np.testing.assert_array_equal(result.probabilities, reference.probabilities)
    rows = net.sample(5, seed=0)[["BP", "HRBP"]]
    marginals = net.posteriors(rows, method="auto", memory_budget=budget)
    assert {frame.attrs["method"] for frame in marginals.values()} == {"loopy_bp"}
    assert "above the memory budget" in marginals["HR"].attrs["choice"]


def test_auto_keeps_exact_inference_for_continuous_networks():
    net = pgm.load("ecoli70")
    node = net.nodes[0]
    result = net.posteriors({}, method="auto")[node]
    assert result.method == "exact" and "continuous" in result.choice
    assert np.isclose(result.mean[0], net.posteriors({})[node].mean[0])


@pytest.mark.parametrize("method, option", [("loopy_bp", "n_chains"), ("gibbs", "damping"), ("exact", "damping"),
                                            ("auto", "thin")])
def test_an_option_the_method_does_not_take_is_refused(method, option):
    net = pgm.load("cancer")
    with pytest.raises(TypeError, match=option):
        net.query("Cancer", None, method=method, **{option: 1})


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="loopy_bp"):
        pgm.load("cancer").posteriors(None, method="belief")


def test_auto_falls_back_when_exact_inference_refuses_after_all(monkeypatch):
    # The plan's estimate can be below what the engine then asks for; the refusal is caught, not raised.
    from pgm.inference import approximate

    monkeypatch.setattr(approximate, "choose_method", lambda *args: ("exact", "pretend it fits"))
    net = pgm.load("alarm")
    result = net.query("HR", {"BP": "LOW"}, method="auto", memory_budget=1_000)
    assert result.method == "loopy_bp" and "refused" in result.choice


@pytest.mark.parametrize("method", ["loopy_bp", "gibbs"])
def test_a_bad_memory_budget_is_refused(method):
    with pytest.raises(ValueError, match="memory_budget"):
        pgm.load("cancer").query("Cancer", None, method=method, memory_budget=-5)
