"""Issue 9: the `pgm` command against a hostile file system and hostile options.

Whatever the input, `pgm` either succeeds or prints one line `pgm: error: ...`
naming the culprit, and exits non-zero; it never prints a traceback.
"""

import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import pgm
from pgm.cli import main


def run(capsys, *argv):
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exit:  # argparse's usage errors
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, *culprits):
    """Status 1 and one `pgm: error:` line, the last; anything before it is a `pgm: warning:` line."""
    assert status == 1, err
    *before, last = err.rstrip("\n").split("\n")
    assert last.startswith("pgm: error: ") and err.endswith("\n"), err
    assert all(line.startswith("pgm: warning: ") for line in before), err
    assert "Traceback" not in err and "internal error" not in err, err
    for culprit in culprits:
        assert str(culprit) in last, err


# ---------------------------------------------------------------- the hostile file system, every subcommand


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Valid inputs, plus every kind of hostile path."""
    shutil.copy(pgm.datasets.path("asia"), tmp_path / "asia.bif")
    pgm.load("asia").sample(50, seed=0).to_csv(tmp_path / "rows.csv", index=False)
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    os.chmod(read_only, 0o555)
    if os.access(read_only, os.W_OK):
        # Running as root, where permissions do not stop writes: refuse them as the kernel would for a user.
        import pgm.io._files as files

        real = files.tempfile.mkstemp

        def mkstemp(*args, dir=None, **kwargs):
            if dir is not None and os.path.realpath(dir) == os.path.realpath(read_only):
                raise PermissionError(13, "Permission denied", os.path.join(dir, ".tmp"))
            return real(*args, dir=dir, **kwargs)

        monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)
    for ext in ("bif", "json", "csv", "svg"):
        (tmp_path / f"a-directory.{ext}").mkdir()
    (tmp_path / "empty.bif").write_text("")
    (tmp_path / "binary.bif").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(b"asia,tub\n" + bytes(range(128, 256)) * 4)
    yield tmp_path
    os.chmod(read_only, 0o755)


INPUT_KINDS = {  # an input path that cannot be read as one
    "a directory": "a-directory.{ext}",
    "a missing directory": "no-such-directory/input.{ext}",
    "an empty file": "empty.{ext}",
    "a binary file": "binary.{ext}",
}
OUTPUT_KINDS = {  # an output path that cannot be written
    "a read-only directory": "read-only/output.{ext}",
    "a directory": "a-directory.{ext}",
    "a missing directory": "no-such-directory/output.{ext}",
}

# Every subcommand, with placeholders for its network, data and output.
COMMANDS = {
    "info": ["info", "{net}"],
    "factorize": ["factorize", "{net}"],
    "dsep": ["dsep", "{net}", "-x", "asia", "-y", "smoke"],
    "blanket": ["blanket", "{net}", "either"],
    "sample": ["sample", "{net}", "-n", "5", "-o", "{out:csv}"],
    "score": ["score", "{net}", "{data}", "--per-row", "{out:csv}"],
    "query": ["query", "{net}", "lung", "-e", "xray=yes"],
    "query --data": ["query", "{net}", "lung", "--data", "{data}", "-o", "{out:csv}"],
    "mpe": ["mpe", "{net}", "-e", "dysp=yes"],
    "fit": ["fit", "{net}", "{data}", "-o", "{out:bif}"],
    "convert": ["convert", "{net}", "{out:json}"],
    "render": ["render", "{net}", "{out:svg}"],
}


def argv_for(command, workspace, *, net="asia.bif", data="rows.csv", out=None):
    argv = []
    for part in COMMANDS[command]:
        if part == "{net}":
            part = workspace / net
        elif part == "{data}":
            part = workspace / data
        elif part.startswith("{out:"):
            ext = part[5:-1]
            part = workspace / (out.format(ext=ext) if out else f"output.{ext}")
        argv.append(str(part))
    return argv


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_works_on_valid_input(capsys, workspace, command):
    status, out, err = run(capsys, *argv_for(command, workspace))
    assert status == 0, err
    assert "Traceback" not in err
    assert out.strip() or (workspace / "output.csv").stat().st_size > 0


@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_network_that_cannot_be_read(capsys, workspace, command, kind):
    net = INPUT_KINDS[kind].format(ext="bif")
    status, _, err = run(capsys, *argv_for(command, workspace, net=net))
    assert_one_line_error(status, err, os.path.basename(net))


@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("command", [c for c in COMMANDS if "{data}" in COMMANDS[c]])
def test_data_that_cannot_be_read(capsys, workspace, command, kind):
    data = INPUT_KINDS[kind].format(ext="csv")
    status, _, err = run(capsys, *argv_for(command, workspace, data=data))
    assert_one_line_error(status, err, os.path.basename(data))


@pytest.mark.parametrize("kind", OUTPUT_KINDS)
@pytest.mark.parametrize("command", [c for c in COMMANDS if any(p.startswith("{out") for p in COMMANDS[c])])
def test_an_output_that_cannot_be_written(capsys, workspace, command, kind):
    out = OUTPUT_KINDS[kind]
    status, _, err = run(capsys, *argv_for(command, workspace, out=out))
    assert_one_line_error(status, err, "cannot write")
    assert ".tmp" not in err  # the user's path, never the hidden temporary file
    assert not any(name.startswith(".") for name in os.listdir(workspace / "read-only"))


def test_no_traceback_from_a_real_process(tmp_path):
    (tmp_path / "a-directory.bif").mkdir()
    for argv in (["info", "a-directory.bif"], ["convert", "asia", "missing/x.bif"], ["info", "nothing.json"]):
        result = subprocess.run([sys.executable, "-m", "pgm", *argv], capture_output=True, text=True,
                                timeout=120, cwd=tmp_path)
        assert result.returncode == 1 and result.stderr.startswith("pgm: error: ")
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_a_closed_pipe_is_not_an_error():
    process = subprocess.Popen([sys.executable, "-m", "pgm", "sample", "alarm", "-n", "300000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.readline()
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and b"Traceback" not in err and b"Exception" not in err


# ---------------------------------------------------------------- items 5, 7, 13, 14


def test_header_only_data_is_refused_by_fit_score_and_query(capsys, tmp_path):
    rows = tmp_path / "header.csv"
    rows.write_text(",".join(pgm.load("cancer").nodes) + "\n")
    for argv in (["fit", "cancer", rows, "-o", tmp_path / "fitted.bif"], ["score", "cancer", rows],
                 ["query", "cancer", "Cancer", "--data", rows]):
        status, out, err = run(capsys, *argv)
        assert_one_line_error(status, err, f"{rows} has a header line but no rows of data")
        assert "nan" not in out
    assert not (tmp_path / "fitted.bif").exists()


def test_an_empty_bif_file_is_refused_by_info_and_sample(capsys, tmp_path):
    empty = tmp_path / "empty.bif"
    empty.write_text("")
    for argv in (["info", empty], ["sample", empty, "-n", "3"]):
        status, out, err = run(capsys, *argv)
        assert_one_line_error(status, err, f"{empty}:1:1: the file declares no variables")
        assert out == ""


def test_a_huge_sample_is_refused_before_allocating(capsys):
    status, out, err = run(capsys, "sample", "alarm", "-n", "1000000000000")
    assert_one_line_error(status, err, "1,000,000,000,000 rows", "TiB")
    assert isinstance(pgm.errors.InferenceTooLarge("x"), MemoryError)


def test_a_directory_named_like_a_bundled_network_does_not_shadow_it(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alarm").mkdir()
    (tmp_path / "asia").write_text("not a network")
    status, out, _ = run(capsys, "info", "alarm")
    assert status == 0 and "BayesianNetwork('alarm': 37 nodes" in out
    status, out, _ = run(capsys, "info", "asia")
    assert status == 0 and "BayesianNetwork('asia'" in out


@pytest.mark.parametrize("network, prior, applies", [
    ("alarm", "ridge:1", "continuous (Gaussian) nodes, and 'alarm' has none"),
    ("ecoli70", "dirichlet:1", "discrete nodes, and 'ecoli70' has none"),
    ("ecoli70", "bdeu:10", "discrete nodes, and 'ecoli70' has none"),
])
def test_a_prior_that_applies_to_no_node_is_refused(capsys, tmp_path, network, prior, applies):
    rows = tmp_path / "rows.csv"
    pgm.load(network).sample(200, seed=1).to_csv(rows, index=False)
    status, _, err = run(capsys, "fit", network, rows, "-o", tmp_path / "fitted.json", "--prior", prior)
    assert_one_line_error(status, err, applies)
    assert not (tmp_path / "fitted.json").exists()


@pytest.mark.parametrize("prior", ["dirichlet:-1", "dirichlet:nan", "bdeu:0", "ridge:inf", "dirichlet:x"])
def test_bad_prior_values_are_one_line_errors(capsys, tmp_path, prior):
    rows = tmp_path / "rows.csv"
    pgm.load("ecoli70" if prior.startswith("ridge") else "cancer").sample(50, seed=1).to_csv(rows, index=False)
    network = "ecoli70" if prior.startswith("ridge") else "cancer"
    status, _, err = run(capsys, "fit", network, rows, "-o", tmp_path / "fitted.json", "--prior", prior)
    assert_one_line_error(status, err)


def test_render_warns_when_the_trail_nodes_are_d_separated(capsys, tmp_path):
    status, out, err = run(capsys, "render", "asia", tmp_path / "asia.svg", "--trail", "asia", "smoke")
    assert status == 0 and "wrote" in out
    assert err == "pgm: warning: asia and smoke are d-separated: there is no active trail to highlight\n"
    assert "#d62728" not in (tmp_path / "asia.svg").read_text()


def test_warnings_are_printed_as_pgm_warnings(capsys, tmp_path):
    rows = tmp_path / "rows.csv"
    pgm.load("alarm").sample(30, seed=1).to_csv(rows, index=False)  # leaves parent configurations unseen
    status, _, err = run(capsys, "fit", "alarm", rows, "-o", tmp_path / "fitted.bif")
    assert status == 0 and err.startswith("pgm: warning: ")
    assert ".py:" not in err and "warnings.warn" not in err


def test_bits_per_variable_is_never_negative_zero(capsys, tmp_path):
    certain = pgm.BayesianNetwork({"a": pgm.Categorical(["only"], table=[1.0])}, name="certain")
    certain.write(tmp_path / "certain.json")
    (tmp_path / "rows.csv").write_text("a\nonly\nonly\n")
    status, out, _ = run(capsys, "score", tmp_path / "certain.json", tmp_path / "rows.csv")
    assert status == 0 and "bits per variable: 0.000000" in out and "-0.000000" not in out
    assert str(pgm.likelihood.bits_per_variable(pd.Series([0.0, 0.0]).to_numpy(), 1)) == "0.0"


@pytest.mark.parametrize("argv, culprit", [
    (["render", "asia", "out.txt"], "'txt' is not an image format"),
    (["convert", "asia", "out.xml"], "unknown network format 'xml'"),
    (["convert", "ecoli70", "out.bif"], "write JSON instead"),
    (["dsep", "asia", "-x", "asia", "-y", "asia"], "must be disjoint"),
    (["blanket", "asia", "nothing"], "'nothing' is not a node"),
    (["info", "no-such-file.bif"], "no-such-file.bif: no such network file"),
])
def test_option_errors_are_one_line(capsys, tmp_path, monkeypatch, argv, culprit):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, *argv)
    assert_one_line_error(status, err, culprit)


@pytest.mark.parametrize("argv, culprit", [
    (["sample", "asia", "-n", "many"], "argument -n/--rows: expected a non-negative whole number, got 'many'"),
    (["sample", "asia", "-n", "-1"], "argument -n/--rows: expected a non-negative whole number, got '-1'"),
    (["sample", "asia", "-n", "3", "--seed", "-5"], "argument --seed: expected a non-negative whole number"),
    (["query", "asia", "lung", "--samples", "-2"], "argument --samples: expected a non-negative whole number"),
])
def test_usage_errors_come_from_argparse_with_status_2(capsys, argv, culprit):
    status, _, err = run(capsys, *argv)
    assert status == 2 and culprit in err and "Traceback" not in err


def test_unexpected_errors_are_reported_without_a_traceback(capsys, monkeypatch):
    def broken(name):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(pgm, "load", broken)  # a bug inside pgm, as the command would meet it
    status, _, err = run(capsys, "info", "asia")
    assert status == 2 and err.startswith("pgm: error: internal error (ZeroDivisionError: a bug)")
    assert "PGM_TRACEBACK=1" in err and "Traceback" not in err
    monkeypatch.setenv("PGM_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        main(["info", "asia"])
