"""The command line is consistent: -o/--output for every file written, --json for scripts, examples in --help."""

import argparse
import json
from pathlib import Path

import pytest

import pgm
from pgm.cli import EXAMPLES, build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    status = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return status, out, err


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_subcommand_writes_its_file_with_dash_o(tmp_path, capsys):
    rows, fitted = tmp_path / "rows.csv", tmp_path / "fitted.json"
    assert run(capsys, "sample", "asia", "-n", 2000, "--seed", 1, "-o", rows)[0] == 0
    assert run(capsys, "fit", "asia", rows, "-o", fitted)[0] == 0
    assert pgm.read(fitted).nodes == pgm.load("asia").nodes
    assert run(capsys, "convert", "asia", "-o", tmp_path / "asia.bif")[0] == 0
    assert pgm.read(tmp_path / "asia.bif") == pgm.load("asia")
    assert run(capsys, "convert", "asia", "--output", tmp_path / "long.json")[0] == 0
    assert run(capsys, "render", "asia", "-o", tmp_path / "asia.svg")[0] == 0
    assert (tmp_path / "asia.svg").read_text().lstrip().startswith("<?xml")
    cases = tmp_path / "cases.csv"
    cases.write_text("xray,smoke\nyes,no\nno,\n")
    assert run(capsys, "query", "asia", "lung", "--data", cases, "-o", tmp_path / "posteriors.csv")[0] == 0
    assert len((tmp_path / "posteriors.csv").read_text().splitlines()) == 3
    status, out, _ = run(capsys, "convert", "asia")  # issue 17: without -o, the result goes to standard output
    assert status == 0 and '"pgm-network"' in out


def test_json_output_parses_and_says_the_same_as_the_api(tmp_path, capsys):
    asia = pgm.load("asia")
    info = json.loads(run(capsys, "info", "asia", "--json")[1])
    assert [n["name"] for n in info["nodes"]] == list(asia.nodes) and info["n_free_parameters"] == 18
    dsep = json.loads(run(capsys, "dsep", "asia", "--first", "asia", "--second", "smoke", "--given", "dysp", "--json")[1])
    assert dsep["d_separated"] is False and dsep["trail"] == asia.active_trail("asia", "smoke", given="dysp")
    blanket = json.loads(run(capsys, "blanket", "asia", "either", "--json")[1])
    assert set(blanket["markov_blanket"]) == asia.markov_blanket("either")
    posterior = json.loads(run(capsys, "query", "asia", "lung", "-e", "xray=yes", "--json")[1])
    assert posterior["probabilities"] == pytest.approx(asia.query("lung", evidence={"xray": "yes"}).probabilities.tolist())
    mpe = json.loads(run(capsys, "mpe", "asia", "-e", "xray=yes", "--json")[1])
    assert mpe["assignment"] == asia.mpe({"xray": "yes"}).assignment
    gaussian = json.loads(run(capsys, "query", "ecoli70", "aceB", "-e", "icdA=1.0", "--json")[1])
    assert gaussian["mean"][0] == pytest.approx(float(pgm.load("ecoli70").query("aceB", evidence={"icdA": 1.0}).mean[0]))
    rows = tmp_path / "rows.csv"
    asia.sample(500, seed=2).to_csv(rows, index=False)
    score = json.loads(run(capsys, "score", "asia", rows, "--json", "-o", tmp_path / "ll.csv")[1])
    assert score["rows"] == 500 and score["mean_log_likelihood"] == pytest.approx(asia.score(pgm.data.read_csv(rows, asia.domains)))
    assert len((tmp_path / "ll.csv").read_text().splitlines()) == 501
    cases = tmp_path / "cases.csv"
    cases.write_text("xray,smoke\nyes,no\n")
    records = json.loads(run(capsys, "query", "asia", "lung", "--data", cases, "--json")[1])
    assert len(records) == 1 and set(records[0]) == {"row", "lung=yes", "lung=no"}


def test_version_and_examples_in_every_help(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.strip() == f"pgm {pgm.__version__}"
    for name, sub in subcommands().items():
        text = sub.format_help()
        assert "example" in text, name
        for example in EXAMPLES[name]:
            assert example in text and example.split()[1] == name


def test_docs_cli_md_matches_the_parser():
    """docs/cli.md names every subcommand, every option and every example (regenerate: pgm.cli.markdown_reference)."""
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name, sub in subcommands().items():
        assert f"## pgm {name}" in page, name
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in page, f"{name} {flag}: regenerate docs/cli.md with pgm.cli.markdown_reference()"
        for example in EXAMPLES[name]:
            assert example in page, example


def test_typed_states_from_the_command_line(tmp_path, capsys):
    net = pgm.BayesianNetwork({"roll": pgm.Categorical([1, 2, 3], table=[0.2, 0.3, 0.5]),
                               "odd": pgm.Categorical([False, True], parents=["roll"], table=[[0, 1], [1, 0], [0, 1]])})
    path = tmp_path / "dice.json"
    net.write(path)
    posterior = json.loads(run(capsys, "query", path, "roll", "-e", "odd=True", "--json")[1])
    assert posterior["states"]["roll"] == [1, 2, 3]  # JSON keeps the integers
    assert posterior["probabilities"] == pytest.approx([0.2 / 0.7, 0.0, 0.5 / 0.7])
