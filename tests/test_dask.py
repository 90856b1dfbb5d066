"""Issue 11: Dask DataFrames as data -- fit, statistics, log-likelihood, score, EM and sampling.

Everything on Dask is checked against the same computation in memory (itself
checked elsewhere against independent references), and the fitted tables
once more against pandas' own counts.  The local scheduler and a real
2-worker ``distributed.LocalCluster`` (worker processes) both run.
"""

import importlib
import pickle
import sys

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe", reason="the dask extra is not installed: pip install 'pgm-engine[dask]'")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed: pip install 'pgm-engine[dask]'")

import dask
from dask.delayed import delayed

import pgm
import pgm.dask
from pgm._partitions import portable
from pgm.errors import DataError

# Runs stopped at max_iter on purpose, and tables of small samples with unseen parent configurations.
pytestmark = [pytest.mark.filterwarnings("ignore::pgm.learning.em.ConvergenceWarning"),
              pytest.mark.filterwarnings("ignore::pgm.errors.UnseenConfigurationWarning")]


@pytest.fixture(scope="module")
def cluster_client():
    """A real LocalCluster: 2 worker processes with one thread each, started once for this module."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=50) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(params=["local", "cluster"])
def scheduler(request):
    """Run the test body under the default local scheduler, then with the LocalCluster's client current."""
    if request.param == "local":
        yield None
        return
    client = request.getfixturevalue("cluster_client")
    with client.as_current():
        yield client


@pytest.fixture(scope="module")
def alarm():
    return pgm.load("alarm")


@pytest.fixture(scope="module")
def alarm_rows(alarm):
    return alarm.sample(20_000, seed=11)


def tables_identical(a, b):
    return all(np.array_equal(a[n].table, b[n].table) for n in a.nodes)


# ---------------------------------------------------------------------------- complete data
def test_fit_of_a_dask_frame_gives_exactly_the_in_memory_tables(alarm, alarm_rows, scheduler):
    fitted = alarm.fit(dd.from_pandas(alarm_rows, npartitions=5))
    in_memory = alarm.fit(alarm_rows)
    assert tables_identical(fitted, in_memory)  # counts are integers: no rounding anywhere
    # and independently of pgm's counting: pandas' crosstab of the family, normalised per parent configuration
    counts = pd.crosstab([alarm_rows[p] for p in alarm.parents("HR")], alarm_rows["HR"], dropna=False)
    np.testing.assert_array_equal(fitted["HR"].table.reshape(counts.shape),
                                  (counts.to_numpy() / counts.to_numpy().sum(axis=1, keepdims=True)))


def test_statistics_are_summed_over_partitions_with_weights_from_a_column_or_a_series(alarm, alarm_rows, scheduler):
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(alarm_rows))
    frame = dd.from_pandas(alarm_rows.assign(w=weights), npartitions=4)
    by_column = alarm.statistics(frame, weights="w")
    by_series = alarm.statistics(frame, weights=frame["w"])
    expected = alarm.statistics(alarm_rows, weights=weights)
    assert by_column.total_weight == pytest.approx(expected.total_weight, rel=1e-13)
    for node in alarm.nodes:
        np.testing.assert_allclose(by_column[node], expected[node], rtol=1e-12)
        np.testing.assert_array_equal(by_series[node], by_column[node])
    fitted, expected = alarm.fit(frame, weights="w"), alarm.fit(alarm_rows, weights=weights)
    for node in alarm.nodes:
        np.testing.assert_allclose(fitted[node].table, expected[node].table, rtol=1e-12)


def test_gaussian_and_hybrid_fits_equal_the_in_memory_ones_to_1e_12(scheduler):
    ecoli = pgm.load("ecoli70")
    rows = ecoli.sample(20_000, seed=3)
    fitted, expected = ecoli.fit(dd.from_pandas(rows, npartitions=6)), ecoli.fit(rows)
    for node in ecoli.nodes:
        for name in ("intercept", "weights", "variance"):
            np.testing.assert_allclose(getattr(fitted[node], name), getattr(expected[node], name), rtol=1e-12)
    # independently: least squares of one node on its parents
    node = next(n for n in ecoli.nodes if len(ecoli.parents(n)) >= 2)
    design = np.column_stack([np.ones(len(rows))] + [rows[p].to_numpy() for p in fitted[node].continuous_parents])
    coefficients = np.linalg.lstsq(design, rows[node].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(fitted[node].intercept.ravel(), coefficients[:1], rtol=1e-9)
    np.testing.assert_allclose(fitted[node].weights.ravel(), coefficients[1:], rtol=1e-9)
    hybrid = pgm.BayesianNetwork({
        "z": pgm.Categorical(["a", "b", "c"], table=[0.2, 0.5, 0.3]),
        "x": pgm.LinearGaussian(parents=["z"], intercept=[-2.0, 1.0, 4.0], variance=[0.5, 1.0, 2.5]),
        "y": pgm.LinearGaussian(parents=["z", "x"], intercept=[0.0, 1.0, 2.0], weights=[[1.0], [-1.0], [0.5]],
                                variance=1.0),
    })
    rows = hybrid.sample(10_000, seed=4)
    fitted, expected = hybrid.fit(dd.from_pandas(rows, npartitions=3)), hybrid.fit(rows)
    np.testing.assert_array_equal(fitted["z"].table, expected["z"].table)
    for node in ("x", "y"):
        for name in ("intercept", "weights", "variance"):
            np.testing.assert_allclose(getattr(fitted[node], name), getattr(expected[node], name), rtol=1e-12)


def test_log_likelihood_is_lazy_aligned_with_the_partitions_and_equal_row_for_row(alarm, alarm_rows, scheduler):
    rows = alarm_rows.copy()
    rows.index = rows.index * 3 + 7  # labels the partitions must keep
    rows.loc[rows.index[::7], "HR"] = np.nan  # some rows score their observed part by inference
    frame = dd.from_pandas(rows, npartitions=4)
    lazy = alarm.log_likelihood(frame)
    assert isinstance(lazy, dd.Series) and lazy.npartitions == frame.npartitions
    assert lazy.divisions == frame.divisions
    values = lazy.compute()
    assert values.index.equals(rows.index)
    np.testing.assert_allclose(values.to_numpy(), alarm.log_likelihood(rows), rtol=1e-13, atol=0)
    assert alarm.score(frame) == pytest.approx(alarm.score(rows), rel=1e-13)


def test_categorical_codes_in_another_order_and_text_columns_fit_the_same(alarm, alarm_rows):
    shuffled = alarm_rows.copy()
    for node in alarm.nodes[:5]:
        shuffled[node] = shuffled[node].cat.reorder_categories(list(reversed(alarm.states(node))))
    shuffled[alarm.nodes[5]] = shuffled[alarm.nodes[5]].astype(object)
    assert tables_identical(alarm.fit(dd.from_pandas(shuffled, npartitions=3)), alarm.fit(alarm_rows))


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # from Dask's Parquet reader under pandas 3
def test_parquet_written_and_read_by_dask_fits_back_to_the_same_tables(alarm, tmp_path):
    rows = alarm.sample(30_000, seed=5, npartitions=3)
    assert rows.compute().equals(rows.compute())  # drawing twice gives the same rows
    rows.to_parquet(tmp_path / "rows")
    back = dd.read_parquet(tmp_path / "rows")
    assert back.npartitions == 3
    assert tables_identical(alarm.fit(back), alarm.fit(rows.compute()))


# ---------------------------------------------------------------------------- EM
def latent_alarm(alarm):
    cpd = alarm["LVFAILURE"]
    return alarm.with_cpd("LVFAILURE", pgm.Categorical.latent(cpd.states, parents=cpd.parents))


@pytest.fixture(scope="module")
def em_problem(alarm):
    """alarm with LVFAILURE latent, 5% of the other values missing, and a common start."""
    model = latent_alarm(alarm)
    rows = alarm.sample(6_000, seed=21).drop(columns="LVFAILURE")
    mask = np.random.default_rng(22).random(rows.shape) < 0.05
    rows = rows.mask(mask)
    start = model.fit(rows, max_iter=0, seed=1)
    return model, rows, start


def test_em_on_dask_equals_em_in_memory_iteration_by_iteration(em_problem, scheduler):
    model, rows, start = em_problem
    traced = []
    dask_fit = model.fit(dd.from_pandas(rows, npartitions=4), init=start, max_iter=6, tol=0,
                         callback=lambda i, ll, net: traced.append(ll))
    memory_fit = model.fit(rows, init=start, max_iter=6, tol=0)
    report, expected = dask_fit.fit_report_, memory_fit.fit_report_
    np.testing.assert_allclose(report.log_likelihood, expected.log_likelihood, rtol=1e-13)
    assert traced == report.log_likelihood
    assert (report.n_iter, report.converged, report.n_rows, report.init) == (6, False, len(rows), "given")
    for node in model.nodes:
        np.testing.assert_allclose(dask_fit[node].table, memory_fit[node].table, rtol=0, atol=1e-12)


def test_em_sends_the_parameters_once_per_iteration(em_problem, cluster_client, monkeypatch):
    model, rows, start = em_problem
    sent = []
    scatter = cluster_client.scatter

    def counting_scatter(data, **options):
        sent.append((type(data).__name__, options.get("broadcast")))
        return scatter(data, **options)

    monkeypatch.setattr(cluster_client, "scatter", counting_scatter)
    with cluster_client.as_current():
        fitted = model.fit(dd.from_pandas(rows, npartitions=6), init=start, max_iter=3, tol=0)
    # one survey pass, then one E-step per iteration plus the last one that scores the final parameters
    assert sent == [("BayesianNetwork", True)] * (1 + fitted.fit_report_.n_iter + 1)


def test_em_without_a_client_puts_the_network_in_the_graph_once(em_problem, monkeypatch):
    model, rows, start = em_problem
    graphs = []
    compute = dask.compute

    def recording_compute(*collections, **options):
        graphs.append(dict(collections[0].__dask_graph__()))
        return compute(*collections, **options)

    monkeypatch.setattr(pgm.dask.dask, "compute", recording_compute)
    model.fit(dd.from_pandas(rows, npartitions=5), init=start, max_iter=1, tol=0)
    assert len(graphs) == 1 + 2  # the survey, and two E-steps
    for graph in graphs:
        networks = [k for k, v in graph.items() if isinstance(getattr(v, "value", v), pgm.BayesianNetwork)]
        assert len(networks) == 1
        # every per-partition task refers to that one key instead of carrying its own copy
        network = graph[networks[0]]
        size = len(pickle.dumps(portable(getattr(network, "value", network))))
        tasks = [v for k, v in graph.items() if str(k).startswith("_on_partition")]
        assert len(tasks) == 5 and all(len(pickle.dumps(task)) < size / 4 for task in tasks)


def test_em_random_starts_use_every_partition_and_do_not_depend_on_the_scheduler(em_problem, cluster_client):
    model, rows, _ = em_problem
    frame = dd.from_pandas(rows, npartitions=3)
    local = model.fit(frame, max_iter=3, tol=0, seed=7, n_init=2)
    with cluster_client.as_current():
        remote = model.fit(frame, max_iter=3, tol=0, seed=7, n_init=2)
    np.testing.assert_allclose(local.fit_report_.restarts, remote.fit_report_.restarts, rtol=1e-13)
    assert np.all(np.diff(local.fit_report_.log_likelihood) >= -1e-12)  # EM never goes down
    # the start is an M-step on a random completion of all the rows, not of one partition: a root node's
    # table is its observed frequencies over all rows, up to the 5% of values drawn at random
    start = model.fit(frame, max_iter=0, seed=7)
    root = next(n for n in model.nodes if not model.parents(n) and not model[n].latent)
    observed = rows[root].value_counts(normalize=True).reindex(model.states(root)).to_numpy()
    assert np.all(np.abs(start[root].table - observed) < 4 * np.sqrt(0.05 * 0.25 / len(rows)))


# ---------------------------------------------------------------------------- sampling
def test_sampling_into_dask_gives_the_same_rows_whatever_the_workers(cluster_client):
    net = pgm.load("asia")
    lazy = net.sample(9_000, seed=5, npartitions=3)
    assert isinstance(lazy, dd.DataFrame) and lazy.divisions == (0, 3000, 6000, 8999)
    with dask.config.set(scheduler="sync"):
        one_thread = lazy.compute()
    threads = pgm.dask.sample(net, 9_000, seed=5, npartitions=3).compute(scheduler="threads")
    with cluster_client.as_current():
        two_workers = pgm.dask.sample(net, 9_000, seed=5, npartitions=3).compute()
    pd.testing.assert_frame_equal(one_thread, threads)
    pd.testing.assert_frame_equal(one_thread, two_workers)
    # partition k is the k-th child of SeedSequence(seed), drawn by the in-memory sampler
    children = np.random.SeedSequence(5).spawn(3)
    second = net.sample(3000, seed=np.random.default_rng(children[1]))
    np.testing.assert_array_equal(one_thread.iloc[3000:6000].to_numpy(), second.to_numpy())
    assert not one_thread.equals(net.sample(9_000, seed=6, npartitions=3).compute())


def test_sampled_frequencies_match_the_marginals_within_4_standard_errors():
    net = pgm.load("asia")
    n = 200_000
    rows = net.sample(n, seed=8, npartitions=4).compute()
    for node, marginal in net.posteriors().items():
        frequencies = rows[node].value_counts(normalize=True).reindex(net.states(node)).to_numpy()
        p = marginal.probabilities
        assert np.all(np.abs(frequencies - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12), node


def test_sampling_arguments_are_checked():
    net = pgm.load("asia")
    with pytest.raises(ValueError, match="npartitions must be a positive integer"):
        net.sample(10, npartitions=0)
    with pytest.raises(ValueError, match="would leave some empty"):
        net.sample(3, npartitions=5)
    with pytest.raises(TypeError, match="seed must be"):
        net.sample(10, seed="x", npartitions=2)
    assert pgm.dask.sample(net, 2_500_000, seed=0).npartitions == 3  # a million rows per partition by default


# ---------------------------------------------------------------------------- bad input
def frame_of(parts):
    meta = parts[0].iloc[:0]
    return dd.from_delayed([delayed(p) for p in parts], meta=meta, verify_meta=False)


def test_a_partition_whose_columns_differ_is_named_with_the_column():
    net = pgm.load("cancer")
    rows = net.sample(300, seed=0)
    bad = frame_of([rows.iloc[:100], rows.iloc[100:200].drop(columns="Xray"), rows.iloc[200:]])
    with pytest.raises(DataError, match=r"^partition 1: column 'Xray' is missing, but the other partitions have it$"):
        net.fit(bad)
    extra = frame_of([rows.iloc[:100], rows.iloc[100:].assign(extra=1)])
    with pytest.raises(DataError, match=r"partition 1: column 'extra' is not in the other partitions"):
        net.fit(extra)


def test_a_partition_whose_categories_differ_is_named_with_the_column():
    net = pgm.load("cancer")
    rows = net.sample(300, seed=0)
    odd = rows.iloc[200:].copy()
    odd["Smoker"] = odd["Smoker"].cat.reorder_categories(["False", "True"])
    with pytest.raises(DataError, match=r"partition 2, column 'Smoker': categories \['False', 'True'\] differ from "
                                        r"the other partitions' \['True', 'False'\]"):
        net.fit(frame_of([rows.iloc[:100], rows.iloc[100:200], odd]))


def test_a_value_that_is_not_a_state_names_partition_column_row_and_value():
    net = pgm.load("cancer")
    rows = net.sample(300, seed=0).astype(object)
    rows.iloc[250, rows.columns.get_loc("Xray")] = "maybe"
    frame = dd.from_pandas(rows.reset_index(drop=True), npartitions=3)
    message = r"partition 2: column 'Xray', row 50 \(index 250\): 'maybe' is not a state of 'Xray'"
    with pytest.raises(DataError, match=message):
        net.fit(frame)
    with pytest.raises(DataError, match=message):
        net.log_likelihood(frame).compute()


def test_an_empty_dask_frame_and_bad_weights_are_refused():
    net = pgm.load("cancer")
    empty = dd.from_pandas(net.sample(0), npartitions=1)
    with pytest.raises(DataError, match=r"fitting needs at least one row, and the Dask DataFrame \(1 partitions\)"):
        net.fit(empty)
    with pytest.raises(DataError, match="score needs at least one row"):
        net.score(empty)
    frame = dd.from_pandas(net.sample(100, seed=0), npartitions=2)
    with pytest.raises(TypeError, match="must be a column name or a Dask Series"):
        net.fit(frame, weights=np.ones(100))
    with pytest.raises(DataError, match="^the weights column 'w' is not in the data$"):
        net.fit(frame, weights="w")


def test_without_the_extra_the_user_is_told_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)  # `import dask` now fails, as when it is not installed
    monkeypatch.delitem(sys.modules, "pgm.dask")
    monkeypatch.delattr(pgm, "dask")
    with pytest.raises(ImportError) as caught:
        importlib.import_module("pgm.dask")
    message = str(caught.value)
    assert "pip install 'pgm-engine[dask]'" in message and "\n" not in message

    class LooksLikeDask:  # what network methods see: a Dask collection
        __dask_graph__ = None

    with pytest.raises(ImportError, match=r"pip install 'pgm-engine\[dask\]'"):
        pgm.load("asia").fit(LooksLikeDask())
    with pytest.raises(ImportError, match=r"pip install 'pgm-engine\[dask\]'"):
        pgm.load("asia").sample(10, npartitions=2)
