"""Issue 17, items 7-11: the `pgm` command as a newcomer uses it, through real processes and pipes.

Every expected number comes from the Python API (an independent path through the same library is not
what is tested here: the command's plumbing is) or from the data itself.
"""

import json
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pgm

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def pgm_process(*argv, stdin: bytes | None = None, cwd=None) -> subprocess.CompletedProcess:
    """The command in its own process: for standard input and output, pipes and the file called ``-``."""
    return subprocess.run([sys.executable, "-m", "pgm.cli", *map(str, argv)], input=stdin, capture_output=True,
                          env=ENV, cwd=cwd, timeout=120)


@pytest.fixture
def pgm_command(capfdbinary, monkeypatch):
    """The command run in this process (``pgm.cli.main``): the same code as a process, without paying for
    ``import pgm`` each time.  Returns what a process would (exit status, standard output and error)."""
    from pgm.cli import main

    def run(*argv, cwd=None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        try:
            status = main(list(map(str, argv)))
        except SystemExit as stop:  # argparse's usage errors
            status = stop.code
        out, err = capfdbinary.readouterr()
        return subprocess.CompletedProcess(argv, status, out, err)

    return run


def ok(result) -> str:
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr
    return result.stdout.decode()


def one_line_error(result) -> str:
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert err.rstrip("\n").split("\n")[-1].startswith("pgm: error: ") and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------- item 8: pipes, -, --quiet, --no-progress
def test_sample_to_standard_output_with_dash_and_pipe_into_score(tmp_path):
    rows = ok(pgm_process("sample", "asia", "-n", 300, "--seed", 3, "-o", "-", cwd=tmp_path))
    assert not (tmp_path / "-").exists()  # not a file called "-"
    frame = pd.read_csv(StringIO(rows), dtype=str)
    assert len(frame) == 300 and list(frame.columns) == list(pgm.load("asia").nodes)
    score = json.loads(ok(pgm_process("score", "asia", "-", "--json", stdin=rows.encode())))
    asia = pgm.load("asia")
    assert score["rows"] == 300
    assert score["mean_log_likelihood"] == pytest.approx(asia.log_likelihood(frame).mean(), abs=1e-12)


def test_a_pipe_named_dev_stdin_and_its_errors_name_the_line(tmp_path):
    asia = pgm.load("asia")
    text = asia.sample(50, seed=1).to_csv(index=False)
    lines = text.splitlines()
    lines[7] = lines[7].replace("yes", "maybe", 1) if "yes" in lines[7] else lines[7].replace("no", "maybe", 1)
    # a real pipe (not a file redirected), which cannot be read twice
    producer = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    consumer = subprocess.Popen([sys.executable, "-m", "pgm.cli", "score", "asia", "/dev/stdin"],
                                stdin=producer.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    producer.stdout.close()
    producer.stdin.write(("\n".join(lines) + "\n").encode())
    producer.stdin.close()
    out, err = consumer.communicate(timeout=120)
    producer.wait()
    assert consumer.returncode == 1, err
    assert b"line 8" in err and b"'maybe' is not a state" in err and b"internal error" not in err


def test_query_data_from_standard_input_has_a_header_naming_node_and_state():
    asia = pgm.load("asia")
    cases = asia.sample(40, seed=5).drop(columns=["lung", "either"])
    out = ok(pgm_process("query", "asia", "lung", "either", "--data", "-", stdin=cases.to_csv(index=False).encode()))
    table = pd.read_csv(StringIO(out))
    assert list(table.columns) == ["row", "lung=yes|either=yes", "lung=yes|either=no", "lung=no|either=yes",
                                   "lung=no|either=no"]
    assert table["row"].tolist() == list(range(40))
    expected = asia.query(["lung", "either"], evidence=cases)
    np.testing.assert_allclose(table.iloc[:, 1:].to_numpy(), expected.to_numpy(), atol=1e-12)


def test_quiet_prints_nothing_but_the_result(pgm_command, tmp_path):
    asia = pgm.load("asia")
    rows = tmp_path / "rows.csv"
    asia.sample(2_000, seed=2).to_csv(rows, index=False)
    quiet = pgm_process("fit", "asia", rows, "-o", tmp_path / "fitted.bif", "--prior", "dirichlet:1", "-q")
    assert ok(quiet) == "" and quiet.stderr == b""
    assert pgm.read(tmp_path / "fitted.bif") == asia.fit(pgm.data.read_csv(rows, asia.domains),
                                                         prior=pgm.Dirichlet(1.0))
    loud = ok(pgm_command("fit", "asia", rows, "-o", tmp_path / "again.bif", "--prior", "dirichlet:1"))
    assert "wrote" in loud
    from pgm.cli import build_parser  # every subcommand takes -q/--quiet
    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    assert all("--quiet" in sub._option_string_actions for sub in commands.values())


def test_em_lines_name_their_start_and_no_progress_silences_them(pgm_command, tmp_path):
    asia = pgm.load("asia")
    rows = tmp_path / "rows.csv"
    asia.sample(500, seed=2).to_csv(rows, index=False)
    argv = ["fit", "asia", rows, "-o", tmp_path / "fitted.json", "--latent", "either", "--n-init", 2,
            "--max-iter", 3, "--seed", 0]
    loud = pgm_command(*argv, "--prior", "dirichlet:1")
    err = loud.stderr.decode()
    ok(loud)
    assert "EM start 1 of 2, iteration 0" in err and "EM start 2 of 2, iteration 3" in err
    silent = pgm_command(*argv, "--prior", "dirichlet:1", "--no-progress")
    ok(silent)
    assert "EM start" not in silent.stderr.decode()


# ---------------------------------------------------------------- item 9: -o checked before the work
@pytest.mark.parametrize("output, culprit", [("fitted.txt", "unknown network format 'txt'"),
                                             ("no-such-folder/fitted.json", "no such directory"),
                                             (".", "is a directory")])
def test_fit_checks_its_output_before_reading_or_fitting(pgm_command, tmp_path, output, culprit):
    # the data file does not exist: the output is refused first, before any work
    err = one_line_error(pgm_command("fit", "asia", "absent.csv", "-o", output, "--latent", "either", cwd=tmp_path))
    assert culprit in err and "absent.csv" not in err


def test_fit_refuses_bif_for_a_continuous_network_before_fitting(pgm_command, tmp_path):
    err = one_line_error(pgm_command("fit", "ecoli70", "absent.csv", "-o", "out.bif", cwd=tmp_path))
    assert "node 'aceB' is continuous" in err and "absent.csv" not in err


# ---------------------------------------------------------------- item 10: one vocabulary
def test_evidence_is_dash_e_everywhere_and_a_node_named_twice_is_an_error(pgm_command, tmp_path):
    asia = pgm.load("asia")
    dsep = json.loads(ok(pgm_command("dsep", "asia", "-x", "asia", "-y", "smoke", "-e", "dysp=yes", "--json")))
    assert dsep["given"] == ["dysp"] and dsep["trail"] == asia.active_trail("asia", "smoke", given="dysp")
    old = json.loads(ok(pgm_command("dsep", "asia", "-x", "asia", "-y", "smoke", "--given", "dysp", "--json")))
    assert old == dsep  # the old spelling is kept
    err = one_line_error(pgm_command("query", "asia", "lung", "-e", "xray=yes", "xray=no"))
    assert "'xray' twice" in err
    one_line_error(pgm_command("mpe", "asia", "-e", "dysp=yes", "dysp=yes"))
    if shutil.which("dot"):
        ok(pgm_command("render", "asia", "-o", tmp_path / "a.svg", "-e", "xray=yes"))
        assert "#d9d9d9" in (tmp_path / "a.svg").read_text()  # the observed node is shaded


def test_json_on_fit_sample_render_and_mpe_log_probabilities(pgm_command, tmp_path):
    asia = pgm.load("asia")
    summary = json.loads(ok(pgm_command("sample", "asia", "-n", "1e3", "--seed", 1, "-o", tmp_path / "rows.csv",
                                        "--json")))
    assert summary["rows"] == 1000 and len(pd.read_csv(tmp_path / "rows.csv")) == 1000  # -n 1e3 accepted
    fit = json.loads(ok(pgm_command("fit", "asia", tmp_path / "rows.csv", "-o", tmp_path / "f.json", "--json",
                                    "--latent", "either", "--max-iter", 5, "--seed", 0, "--prior", "dirichlet:1")))
    assert fit["output"] == str(tmp_path / "f.json") and fit["em"]["n_iter"] <= 5
    assert fit["em"]["log_likelihood"] == sorted(fit["em"]["log_likelihood"])  # EM never decreases (with a prior,
    # the objective; here the log-likelihood also rises on this data)
    best = asia.mpe({"xray": "yes"})
    mpe = json.loads(ok(pgm_command("mpe", "asia", "-e", "xray=yes", "--json")))
    # log p(assignment | evidence) by brute force: p(assignment, evidence) / p(evidence) from the API's joint
    joint = asia.log_likelihood(pd.DataFrame([best.assignment]))[0]
    evidence = asia.log_likelihood(pd.DataFrame({"xray": ["yes"]}))[0]
    assert mpe["log_probability"] == pytest.approx(joint, abs=1e-12)
    assert mpe["log_probability_given_evidence"] == pytest.approx(joint - evidence, abs=1e-12)
    if shutil.which("dot"):
        drawn = json.loads(ok(pgm_command("render", "asia", "-o", tmp_path / "a.svg", "--json")))
        assert drawn["output"] == str(tmp_path / "a.svg") and drawn["bytes"] == (tmp_path / "a.svg").stat().st_size


def test_info_tables_prints_the_numbers(pgm_command):
    out = ok(pgm_command("info", "asia", "--tables"))
    assert "p(dysp | bronc, either)" in out and "0.9" in out and "0.1" in out
    parsed = json.loads(ok(pgm_command("info", "asia", "--tables", "--json")))
    lung = next(n for n in parsed["nodes"] if n["name"] == "lung")
    np.testing.assert_allclose(lung["parameters"]["table"], pgm.load("asia")["lung"].table)


@pytest.mark.parametrize("count, accepted", [("1e3", True), ("1_000", True), ("1.5", False), ("-1", False)])
def test_row_counts_in_scientific_notation(pgm_command, count, accepted):
    result = pgm_command("sample", "asia", "-n", count, "-o", "-")
    if accepted:
        assert len(ok(result).splitlines()) == 1001
    else:
        assert result.returncode == 2 and b"whole number" in result.stderr


# ---------------------------------------------------------------- item 11: CLI words; --latent with a column
def test_latent_node_with_a_column_in_the_data_is_dropped_with_a_note(pgm_command, tmp_path):
    asia = pgm.load("asia")
    rows = tmp_path / "rows.csv"
    asia.sample(1_000, seed=4).to_csv(rows, index=False)
    result = pgm_command("fit", "asia", rows, "-o", tmp_path / "f.json", "--latent", "either", "--max-iter", 2,
                         "--seed", 0, "--no-progress")
    out = ok(result) + result.stderr.decode()
    assert "ignoring the column 'either'" in out
    assert "without .latent" not in out and "max_iter" not in out
    assert "--max-iter" in out  # EM stopped early: the warning names the option, not the Python argument
    err = one_line_error(pgm_command("convert", "asia", "-o", tmp_path / "a.xml"))
    assert "--format" in err and "format=" not in err
    err = one_line_error(pgm_command("fit", "asia", rows, "-o", tmp_path / "g.json", "--drop", "nothing"))
    assert "--drop nothing" in err


def test_convert_and_fit_write_to_standard_output_without_dash_o(pgm_command, tmp_path):
    text = ok(pgm_command("convert", "asia", "--format", "bif"))
    (tmp_path / "asia.bif").write_text(text)
    assert pgm.read(tmp_path / "asia.bif") == pgm.load("asia")
