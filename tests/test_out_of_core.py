"""Issue 11: CSV and Parquet files fitted and scored a chunk at a time, in bounded memory, without Dask.

Fitting in chunks must give the tables of fitting the whole file in memory,
and the memory it takes (traced by tracemalloc) must not grow with the file.
"""

import glob
import os
import sys
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.cli import main
from pgm.errors import DataError
from pgm.io.chunked import write_csv_chunks

pytestmark = [pytest.mark.filterwarnings("ignore::pgm.learning.em.ConvergenceWarning"),
              pytest.mark.filterwarnings("ignore::pgm.errors.UnseenConfigurationWarning")]

needs_pyarrow = pytest.mark.skipif(
    __import__("importlib").util.find_spec("pyarrow") is None,
    reason="Parquet needs pyarrow (the dask extra): pip install 'pgm-engine[dask]'")


@pytest.fixture(scope="module")
def alarm():
    return pgm.load("alarm")


@pytest.fixture(scope="module")
def alarm_rows(alarm):
    return alarm.sample(12_000, seed=31)


def write_parquet(frame: pd.DataFrame, path, row_group_size=None):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)


def tables_identical(a, b):
    return all(np.array_equal(a[n].table, b[n].table) for n in a.nodes)


# ---------------------------------------------------------------------------- same results as in memory
def test_a_csv_fitted_in_chunks_of_1000_rows_equals_the_whole_file(alarm, alarm_rows, tmp_path):
    path = tmp_path / "rows.csv"
    alarm_rows.to_csv(path, index=False)
    chunked = alarm.fit(pgm.io.scan(path, chunk_rows=1_000))
    whole = alarm.fit(pgm.data.read_csv(path, alarm.domains))
    assert tables_identical(chunked, whole)
    assert tables_identical(chunked, alarm.fit(alarm_rows))  # and the rows read back are the rows written


@needs_pyarrow
def test_parquet_files_fitted_in_chunks_equal_the_whole_data(alarm, alarm_rows, tmp_path):
    write_parquet(alarm_rows, tmp_path / "one.parquet", row_group_size=2_500)
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, start in enumerate(range(0, len(alarm_rows), 4_000)):
        write_parquet(alarm_rows.iloc[start:start + 4_000], folder / f"part.{k}.parquet")
    whole = alarm.fit(alarm_rows)
    for source in (tmp_path / "one.parquet", folder, str(folder / "*.parquet")):
        assert tables_identical(alarm.fit(pgm.io.scan(source, chunk_rows=1_000)), whole), source


@needs_pyarrow
def test_parquet_of_text_columns_and_of_other_dictionaries_reads_the_same(alarm, alarm_rows, tmp_path):
    text = alarm_rows.astype(str)
    write_parquet(text, tmp_path / "text.parquet")
    shuffled = alarm_rows.copy()
    for node in alarm.nodes[:6]:
        shuffled[node] = shuffled[node].cat.reorder_categories(list(reversed(alarm.states(node))))
    write_parquet(shuffled, tmp_path / "shuffled.parquet")
    whole = alarm.fit(alarm_rows)
    assert tables_identical(alarm.fit(pgm.io.scan(tmp_path / "text.parquet", chunk_rows=5_000)), whole)
    assert tables_identical(alarm.fit(pgm.io.scan(tmp_path / "shuffled.parquet", chunk_rows=5_000)), whole)


def test_gaussian_fit_score_and_row_log_likelihoods_from_chunks_equal_memory(tmp_path):
    ecoli = pgm.load("ecoli70")
    rows = ecoli.sample(8_000, seed=2)
    path = tmp_path / "ecoli.csv"
    rows.to_csv(path, index=False, float_format="%.17g")
    data = pgm.io.scan(path, chunk_rows=1_000)
    fitted, expected = ecoli.fit(data), ecoli.fit(rows)
    for node in ecoli.nodes:
        for name in ("intercept", "weights", "variance"):
            np.testing.assert_allclose(getattr(fitted[node], name), getattr(expected[node], name), rtol=1e-12)
    np.testing.assert_allclose(fitted.log_likelihood(data), fitted.log_likelihood(rows), rtol=1e-14)
    assert fitted.score(data) == pytest.approx(fitted.score(rows), rel=1e-14)


def test_weights_from_a_column_of_the_file(alarm, alarm_rows, tmp_path):
    weights = np.random.default_rng(1).uniform(0.0, 3.0, len(alarm_rows)).round(3)
    path = tmp_path / "weighted.csv"
    alarm_rows.assign(w=weights).to_csv(path, index=False)
    fitted = alarm.fit(pgm.io.scan(path, chunk_rows=2_000), weights="w")
    expected = alarm.fit(alarm_rows, weights=weights)
    for node in alarm.nodes:
        np.testing.assert_allclose(fitted[node].table, expected[node].table, rtol=1e-12)
    stats = alarm.statistics(pgm.io.scan(path, chunk_rows=2_000), weights="w")
    assert stats.total_weight == pytest.approx(weights.sum(), rel=1e-12)


def test_em_from_chunks_equals_em_in_memory_iteration_by_iteration(alarm, tmp_path):
    cpd = alarm["LVFAILURE"]
    model = alarm.with_cpd("LVFAILURE", pgm.Categorical.latent(cpd.states, parents=cpd.parents))
    rows = alarm.sample(4_000, seed=3).drop(columns="LVFAILURE")
    rows = rows.mask(np.random.default_rng(4).random(rows.shape) < 0.05)
    path = tmp_path / "incomplete.csv"
    rows.to_csv(path, index=False)
    start = model.fit(rows, max_iter=0, seed=0)
    chunked = model.fit(pgm.io.scan(path, chunk_rows=1_000), init=start, max_iter=4, tol=0)
    memory = model.fit(rows, init=start, max_iter=4, tol=0)
    np.testing.assert_allclose(chunked.fit_report_.log_likelihood, memory.fit_report_.log_likelihood, rtol=1e-13)
    assert chunked.fit_report_.n_rows == len(rows)
    for node in model.nodes:
        np.testing.assert_allclose(chunked[node].table, memory[node].table, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- bounded memory
def peak_bytes(function) -> int:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["csv", pytest.param("parquet", marks=needs_pyarrow)])
def test_peak_memory_of_a_chunked_fit_does_not_grow_with_the_file(kind, tmp_path):
    net = pgm.load("asia")
    block = net.sample(200_000, seed=0)
    paths = {}
    for times in (1, 10):  # 200,000 and 2,000,000 rows
        path = tmp_path / f"rows{times}.{kind}"
        if kind == "csv":
            header, body = block.to_csv(index=False).split("\n", 1)
            with open(path, "w") as stream:
                stream.write(header + "\n" + body * times)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(block, preserve_index=False)
            with pq.ParquetWriter(path, table.schema) as writer:
                for _ in range(times):
                    writer.write_table(table, row_group_size=50_000)
        paths[times] = path
    small = peak_bytes(lambda: net.fit(pgm.io.scan(paths[1], chunk_rows=50_000)))
    large = peak_bytes(lambda: net.fit(pgm.io.scan(paths[10], chunk_rows=50_000)))
    assert large <= 1.2 * small + (1 << 20), (small, large)
    # the measure sees the rows held in memory: one chunk of 200,000 rows takes more than chunks of 50,000
    if kind == "parquet":
        paths[1] = tmp_path / "one-row-group.parquet"  # a Parquet chunk never spans row groups
        write_parquet(block, paths[1], row_group_size=200_000)
    whole = peak_bytes(lambda: net.fit(pgm.io.scan(paths[1], chunk_rows=200_000)))
    assert whole > 2 * small, (whole, small)
    fitted = net.fit(pgm.io.scan(paths[10], chunk_rows=50_000))
    assert tables_identical(fitted, net.fit(block))  # ten copies of the block: the same frequencies


# ---------------------------------------------------------------------------- bad input
def test_a_value_that_is_not_a_state_names_file_line_column_and_value(alarm, alarm_rows, tmp_path):
    rows = alarm_rows.astype(object)
    rows.iloc[2_345, rows.columns.get_loc("HR")] = "RACING"
    path = tmp_path / "bad.csv"
    rows.to_csv(path, index=False)
    with pytest.raises(DataError, match=rf"^{path}, line 2347, column 'HR': 'RACING' is not a state of 'HR'; "
                                        r"its states are \['LOW', 'NORMAL', 'HIGH'\]$"):
        alarm.fit(pgm.io.scan(path, chunk_rows=1_000))


@needs_pyarrow
def test_a_parquet_value_that_is_not_a_state_names_file_row_column_and_value(alarm, alarm_rows, tmp_path):
    rows = alarm_rows.astype(str)
    rows.iloc[7_001, rows.columns.get_loc("HR")] = "RACING"
    path = tmp_path / "bad.parquet"
    write_parquet(rows, path)
    with pytest.raises(DataError, match=rf"^{path}, row 7001, column 'HR': 'RACING' is not a state of 'HR'"):
        alarm.fit(pgm.io.scan(path, chunk_rows=1_000))


def test_ragged_and_short_rows_are_errors_with_their_line(tmp_path):
    net = pgm.load("cancer")
    text = net.sample(50, seed=0).to_csv(index=False).splitlines()
    long = tmp_path / "long.csv"
    long.write_text("\n".join(text[:30] + [text[30] + ",extra"] + text[31:]) + "\n")
    with pytest.raises(DataError, match=rf"{long}, line 31: 6 fields, but the header has 5"):
        net.fit(pgm.io.scan(long, chunk_rows=10))
    short = tmp_path / "short.csv"
    short.write_text("\n".join(text[:40] + [text[40].rsplit(",", 1)[0]] + text[41:]) + "\n")
    with pytest.raises(DataError, match=rf"{short}, line 41: 4 field\(s\), but the header has 5"):
        net.fit(pgm.io.scan(short, chunk_rows=10))


def test_files_that_are_not_csv_or_parquet_or_differ_in_columns_are_refused(tmp_path):
    net = pgm.load("cancer")
    rows = net.sample(100, seed=0)
    (tmp_path / "rows.txt").write_text(rows.to_csv(index=False))
    with pytest.raises(DataError, match=r"rows.txt: not a CSV or Parquet file \(judging by its name\)"):
        pgm.io.scan(tmp_path / "rows.txt")
    assert net.fit(pgm.io.scan(tmp_path / "rows.txt", format="csv")) == net.fit(rows)
    (tmp_path / "fake.parquet").write_text(rows.to_csv(index=False))
    if __import__("importlib").util.find_spec("pyarrow") is not None:
        with pytest.raises(DataError, match=r"fake.parquet: not a Parquet file"):
            net.fit(pgm.io.scan(tmp_path / "fake.parquet"))
    (tmp_path / "binary.csv").write_bytes(b"Pollution,Smoker\nlow,\xff\xfeTrue\n")
    with pytest.raises(DataError, match=r"binary.csv, line 2, column 5: the file is not UTF-8 text: byte 0xff"):
        net.fit(pgm.io.scan(tmp_path / "binary.csv"))
    folder = tmp_path / "mixed"
    folder.mkdir()
    rows.to_csv(folder / "a.csv", index=False)
    rows.drop(columns="Xray").to_csv(folder / "b.csv", index=False)
    with pytest.raises(DataError, match=r"b.csv: column 'Xray' is missing, but .*a.csv has it"):
        net.fit(pgm.io.scan(folder))
    with pytest.raises(FileNotFoundError, match="no file matches the pattern"):
        pgm.io.scan(tmp_path / "nothing-*.csv")
    with pytest.raises(FileNotFoundError, match="no such file"):
        pgm.io.scan(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer"):
        pgm.io.scan(tmp_path / "rows.txt", chunk_rows=0, format="csv")


def test_an_empty_data_set_is_refused(tmp_path):
    net = pgm.load("cancer")
    path = tmp_path / "header-only.csv"
    path.write_text(",".join(net.nodes) + "\n")
    with pytest.raises(DataError, match=r"fitting needs at least one row, and .*header-only.csv has none"):
        net.fit(pgm.io.scan(path))
    with pytest.raises(DataError, match="score needs at least one row"):
        net.score(pgm.io.scan(path))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="the file is empty"):
        net.fit(pgm.io.scan(tmp_path / "empty.csv"))


def test_without_pyarrow_parquet_says_what_to_install(tmp_path, monkeypatch):
    (tmp_path / "rows.parquet").write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # `import pyarrow` now fails, as when it is not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError) as caught:
        pgm.io.scan(tmp_path / "rows.parquet")
    assert "pip install 'pgm-engine[dask]'" in str(caught.value) and "\n" not in str(caught.value)


# ---------------------------------------------------------------------------- writing, and the command line
def test_chunked_writes_are_atomic(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old\n")

    def frames():
        yield pd.DataFrame({"x": [1, 2]})
        raise DataError("stop")

    with pytest.raises(DataError, match="stop"):
        write_csv_chunks(path, frames())
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]  # no temporary file left behind


@needs_pyarrow
def test_cli_fits_parquet_and_scores_csv_in_chunks(alarm, alarm_rows, tmp_path, capsys):
    write_parquet(alarm_rows, tmp_path / "rows.parquet", row_group_size=3_000)
    assert main(["fit", "alarm", str(tmp_path / "rows.parquet"), "-o", str(tmp_path / "fitted.bif")]) == 0
    alarm.fit(alarm_rows).write(tmp_path / "expected.bif")
    assert (tmp_path / "fitted.bif").read_text() == (tmp_path / "expected.bif").read_text()
    alarm_rows.to_csv(tmp_path / "rows.csv", index=False)
    capsys.readouterr()
    assert main(["score", "alarm", str(tmp_path / "rows.csv"), "--per-row", str(tmp_path / "whole.csv")]) == 0
    whole = capsys.readouterr().out
    assert main(["score", "alarm", str(tmp_path / "rows.csv"), "--chunk-rows", "1000",
                 "--per-row", str(tmp_path / "chunked.csv")]) == 0
    assert capsys.readouterr().out == whole
    assert (tmp_path / "chunked.csv").read_text() == (tmp_path / "whole.csv").read_text()


def test_cli_chunked_score_of_a_bad_file_writes_nothing(alarm_rows, tmp_path, capsys):
    rows = alarm_rows.astype(object)
    rows.iloc[5_500, 0] = "PERHAPS"
    rows.to_csv(tmp_path / "bad.csv", index=False)
    out = tmp_path / "per-row.csv"
    assert main(["score", "alarm", str(tmp_path / "bad.csv"), "--chunk-rows", "1000", "--per-row", str(out)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("pgm: error: ") and "line 5502" in error and "'PERHAPS'" in error
    assert error.count("\n") == 1
    assert not out.exists() and glob.glob(str(tmp_path / ".per-row*")) == []
