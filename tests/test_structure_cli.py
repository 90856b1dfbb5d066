"""``pgm learn``: learns, fits and writes; the same graph as the API; one-line errors."""

import json

import pandas as pd
import pytest

import pgm
from pgm.cli import main
from pgm.structure import CPDAG, hill_climb, pc


def run(capsys, *argv):
    status = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def rows_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("learn") / "rows.csv"
    pgm.load("asia").sample(4000, seed=0).to_csv(path, index=False)
    return path


def test_learn_writes_the_fitted_network_the_api_learns(rows_csv, tmp_path, capsys):
    output = tmp_path / "net.json"
    status, out, _ = run(capsys, "learn", rows_csv, "-o", output, "--method", "hc", "--score", "bic")
    assert status == 0 and "wrote" in out
    written = pgm.read(output)
    expected = hill_climb(pd.read_csv(rows_csv))
    assert set(written.edges) == set(expected.edges) and written.is_fitted


def test_learn_pc_json_summary(rows_csv, tmp_path, capsys):
    status, out, _ = run(capsys, "learn", rows_csv, "-o", tmp_path / "pc.bif", "--method", "pc", "--json")
    summary = json.loads(out)
    learned = pc(pd.read_csv(rows_csv))
    assert status == 0 and summary["rows"] == 4000
    assert sorted(map(sorted, summary["undirected_edges"])) == sorted(sorted(e) for e in learned.undirected)
    assert CPDAG.from_dag(pgm.read(tmp_path / "pc.bif").dag).undirected <= learned.undirected | {
        frozenset(e) for e in learned.directed}


def test_learn_with_constraints_and_bootstrap(rows_csv, tmp_path, capsys):
    status, out, _ = run(capsys, "learn", rows_csv, "-o", tmp_path / "t.json", "--method", "tabu", "--max-parents",
                         "1", "--forbid", "smoke->lung", "lung->smoke")
    assert status == 0
    net = pgm.read(tmp_path / "t.json")
    assert max(len(net.parents(v)) for v in net.nodes) <= 1
    assert not {("smoke", "lung"), ("lung", "smoke")} & set(net.edges)
    status, out, _ = run(capsys, "learn", rows_csv, "-o", tmp_path / "b.json", "--bootstrap", "5", "--seed", "0",
                         "--json")
    summary = json.loads(out)
    assert status == 0 and summary["bootstrap"]["replicates"] == 5
    assert all(edge["strength"] >= 0.5 for edge in summary["bootstrap"]["edges"]
               if [edge["from"], edge["to"]] in summary["edges"])


@pytest.mark.parametrize("options, message", [
    (["--require", "tub->lung", "lung->either", "either->tub"], "the required edges form a cycle"),
    (["--max-parents", "20"], "max_parents=20 asks for more parents"),
    (["--method", "pc", "--max-parents", "2"], "apply to hc and tabu"),
])
def test_learn_errors_are_one_line(rows_csv, tmp_path, capsys, options, message):
    status, _, err = run(capsys, "learn", rows_csv, "-o", tmp_path / "x.json", *options)
    assert status == 1 and message in err and err.count("\n") == 1


def test_a_constant_column_is_named(tmp_path, capsys):
    path = tmp_path / "c.csv"
    path.write_text("a,b\nx,k\ny,k\nx,k\n")
    status, _, err = run(capsys, "learn", path, "-o", tmp_path / "x.json")
    assert status == 1 and "column 'b' is constant" in err
