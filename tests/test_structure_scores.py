"""Local scores from the sufficient table equal the engine's independent score functions and fitted likelihoods."""

import itertools
import os

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import DataError, StructureError
from pgm.learning.scores import bdeu_score, bge_score, k2_score
from pgm.structure import FamilyStatistics, LocalScores, Score, sufficient_table


def total(data, dag, score):
    stats = FamilyStatistics(sufficient_table(data))
    scores = LocalScores(stats, score)
    return scores.total({stats.index[n]: [stats.index[p] for p in dag.parents(n)] for n in dag.nodes})


def free_parameters(network):
    count = 0
    for node in network.nodes:
        cpd = network[node]
        if cpd.is_discrete:
            configs = int(np.prod([len(network.states(p)) for p in cpd.parents]))
            count += configs * (len(cpd.states) - 1)
        else:
            discrete = [p for p in cpd.parents if network[p].is_discrete]
            continuous = [p for p in cpd.parents if not network[p].is_discrete]
            configs = int(np.prod([len(network.states(p)) for p in discrete]))
            count += configs * (len(continuous) + 2)
    return count


def bic_by_fitting(truth, data):
    """Maximised log-likelihood from the engine's fit and row-by-row likelihood, minus the BIC penalty."""
    fitted = truth.fit(data)
    return float(fitted.log_likelihood(data).sum()) - 0.5 * np.log(len(data)) * free_parameters(truth)


@pytest.fixture(scope="module")
def asia_rows():
    return pgm.load("asia").sample(3000, seed=3)


def test_bdeu_and_k2_equal_the_engine_scores(asia_rows):
    asia = pgm.load("asia")
    for ess in (1.0, 10.0):
        assert total(asia_rows, asia.dag, Score("bdeu", equivalent_sample_size=ess)) == pytest.approx(
            bdeu_score(asia, asia_rows, equivalent_sample_size=ess), rel=1e-10)
    assert total(asia_rows, asia.dag, "k2") == pytest.approx(k2_score(asia, asia_rows), rel=1e-10)


def test_discrete_bic_equals_fitted_log_likelihood_minus_penalty(asia_rows):
    asia = pgm.load("asia")
    assert total(asia_rows, asia.dag, "bic") == pytest.approx(bic_by_fitting(asia, asia_rows), rel=1e-10)
    aic = total(asia_rows, asia.dag, "aic")
    assert aic == pytest.approx(float(asia.fit(asia_rows).log_likelihood(asia_rows).sum()) - free_parameters(asia),
                                rel=1e-10)


def test_gaussian_bic_and_bge_equal_the_engine():
    ecoli = pgm.load("ecoli70")
    rows = ecoli.sample(800, seed=1)
    assert total(rows, ecoli.dag, "bic") == pytest.approx(bic_by_fitting(ecoli, rows), rel=1e-9)
    assert total(rows, ecoli.dag, "bge") == pytest.approx(bge_score(ecoli, rows), rel=1e-9)


def test_conditional_linear_gaussian_bic_equals_fitted_likelihood():
    rng = np.random.default_rng(0)
    n = 2000
    a = rng.choice(["lo", "hi"], n)
    b = rng.choice(["x", "y", "z"], n)
    u = rng.normal(size=n)
    v = np.where(a == "hi", 2.0, -1.0) + 0.5 * u + np.where(b == "z", 1.0, 0.0) + rng.normal(scale=0.7, size=n)
    rows = pd.DataFrame({"a": a, "b": b, "u": u, "v": v})
    graph = [("a", "v"), ("b", "v"), ("u", "v")]
    declared = pgm.BayesianNetwork.from_data(graph, rows)
    from pgm.graph import DAG

    dag = DAG({"a": [], "b": [], "u": [], "v": ["a", "b", "u"]})
    assert total(rows, dag, "bic") == pytest.approx(bic_by_fitting(declared, rows), rel=1e-9)


def test_a_scan_of_files_and_dask_partitions_give_the_in_memory_table(tmp_path, asia_rows):
    asia = pgm.load("asia")
    path = os.path.join(tmp_path, "rows.csv")
    asia_rows.to_csv(path, index=False)
    whole = sufficient_table(asia_rows, domains=asia.domains)
    scanned = sufficient_table(pgm.io.scan(path, chunk_rows=700), domains=asia.domains)
    dd = pytest.importorskip("dask.dataframe")
    parted = sufficient_table(dd.from_pandas(asia_rows, npartitions=4), domains=asia.domains)
    for other in (scanned, parted):
        assert other.n_rows == 3000
        a, b = FamilyStatistics(whole), FamilyStatistics(other)
        for child, parents in [(0, ()), (3, (1, 2)), (7, (5, 6, 0))]:
            assert np.array_equal(a.counts(child, parents), b.counts(child, parents))


def test_continuous_moments_merge_exactly_across_pieces():
    ecoli = pgm.load("ecoli70")
    rows = ecoli.sample(900, seed=2)
    merged = sufficient_table(rows[:250]) + sufficient_table(rows[250:])
    x = rows.to_numpy()
    stats = FamilyStatistics(merged)
    weight, means, comoments = stats.moments(list(range(x.shape[1])))
    centred = x - x.mean(axis=0)
    assert weight[0] == 900
    np.testing.assert_allclose(means[0], x.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(comoments[0], centred.T @ centred, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("largest_batch", [0, 10**9])
def test_batched_counts_equal_one_by_one_counts(asia_rows, monkeypatch, largest_batch):
    monkeypatch.setattr("pgm.structure.statistics._LARGEST_BATCH", largest_batch)
    stats = FamilyStatistics(sufficient_table(asia_rows))
    for child, parents in [(2, ()), (5, (3,)), (7, (5, 6))]:
        candidates = [v for v in range(8) if v != child and v not in parents]
        batched = stats.counts_adding(child, parents, candidates)
        for x, table in zip(candidates, batched):
            assert np.array_equal(table, stats.counts(child, parents + (x,)))


def test_counts_equal_pandas_crosstab(asia_rows):
    stats = FamilyStatistics(sufficient_table(asia_rows))
    counts = stats.counts(stats.index["dysp"], (stats.index["bronc"], stats.index["either"]))
    expected = pd.crosstab([asia_rows["bronc"], asia_rows["either"]], asia_rows["dysp"]).to_numpy()
    assert np.array_equal(counts, expected)


def test_the_cache_is_bounded(asia_rows):
    stats = FamilyStatistics(sufficient_table(asia_rows))
    scores = LocalScores(stats, "bic", cache_size=5)
    for child, parents in itertools.product(range(8), [(), (0,), (1,)]):
        if child not in parents:
            scores.local(child, parents)
    assert len(scores) == 5 and scores.misses == 22


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"a": ["x", "y"] * 5, "b": ["only"] * 10}), "'b' is constant"),
    (pd.DataFrame({"a": ["x", "y"] * 5, "c": [1.5] * 10}), "'c' is constant"),
    (pd.DataFrame({"a": ["x", "y", None, "x"], "b": ["u", "v", "u", "v"]}), "'a' has 1 missing"),
])
def test_bad_columns_are_named(frame, message):
    with pytest.raises(DataError, match=message):
        sufficient_table(frame)


def test_a_single_state_variable_is_named():
    frame = pd.DataFrame({"a": ["x", "y"] * 5, "b": ["s"] * 10})
    with pytest.raises(DataError, match="variable 'b' has a single state"):
        sufficient_table(frame, states={"b": ["s"]})


def test_scores_that_do_not_fit_the_data_are_refused():
    with pytest.raises(StructureError, match="bdeu score needs discrete variables; 'aceB'"):
        LocalScores(FamilyStatistics(sufficient_table(pgm.load("ecoli70").sample(50, seed=0))), "bdeu")
    with pytest.raises(StructureError, match="bge score needs continuous"):
        LocalScores(FamilyStatistics(sufficient_table(pgm.load("asia").sample(2000, seed=0))), "bge")


@pytest.mark.parametrize("score", ["bic", "aic", "k2", Score("bdeu", equivalent_sample_size=5.0)])
def test_batched_local_scores_equal_one_at_a_time(asia_rows, score):
    stats = FamilyStatistics(sufficient_table(asia_rows))
    for child, parents in [(2, ()), (5, (3,)), (7, (5, 6))]:
        candidates = [v for v in range(8) if v != child and v not in parents]
        batched = LocalScores(stats, score).adding(child, parents, candidates)
        single = LocalScores(stats, score)
        expected = [single.local(child, parents + (x,)) for x in candidates]
        np.testing.assert_allclose(batched, expected, rtol=1e-11)
