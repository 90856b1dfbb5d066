"""Issue 17, newcomer pass: the examples that `pgm COMMAND --help` and docs/cli.md print work when a reader
copies them, in order, into an empty folder -- every file an example reads is one an earlier example wrote,
and every node an example names is a node of the network (or the data) it uses."""

import re
import shlex

import pandas as pd
import pytest

import pgm
from pgm.cli import EXAMPLES, main

# The options that name an input file of data (the positional data argument is handled below).
_READS_DATA = {"query": ("--data",), "score": (), "fit": (), "learn": ()}


def _examples_in_order() -> list[list[str]]:
    return [shlex.split(line) for lines in EXAMPLES.values() for line in lines]


def _writes(words: list[str]) -> set[str]:
    written = {words[i + 1] for i, word in enumerate(words[:-1]) if word in ("-o", "--output", ">", "--per-row")}
    return written - {"-"}


def _reads(words: list[str]) -> set[str]:
    """The data files one example reads: a `<` redirection, --data, or the positional CSV of score/fit/learn."""
    reads = {words[i + 1] for i, word in enumerate(words[:-1]) if word in ("<", "--data")}
    command = words[1]
    if command in ("score", "fit"):
        reads.add(words[3])
    if command == "learn":
        reads.add(words[2])
    return {name for name in reads if name != "-" and "." in name}


def test_every_file_an_example_reads_was_written_by_an_earlier_example():
    written: set[str] = set()
    for words in _examples_in_order():
        for pipeline in " ".join(words).split(" | "):  # each side of a pipe is a command of its own
            part = shlex.split(pipeline)
            missing = _reads(part) - written
            assert not missing, f"`{pipeline}` reads {sorted(missing)}, which no earlier example writes"
            written |= _writes(part)


def test_every_node_an_example_names_belongs_to_its_network_or_data():
    data_network = next(w[2] for w in _examples_in_order() if w[1] == "sample" and "rows.csv" in w)
    for words in _examples_in_order():
        if words[1] == "sequences":  # its model is a JSON file written from Python (docs/sequences.md), not bundled
            assert words[2] in ("score", "filter", "smooth", "viterbi", "fit") and words[3].endswith(".json")
            continue
        network = data_network if words[1] == "learn" else words[2]
        nodes = set(pgm.load(network).nodes)
        named = []
        for i, word in enumerate(words[:-1]):
            if word in ("--forbid", "--require"):
                named += re.split(r"\s*->\s*", words[i + 1])
            if word in ("-x", "-y", "--first", "--second", "--given", "--latent"):
                named.append(words[i + 1])
        assert set(named) <= nodes, f"`{' '.join(words)}` names {sorted(set(named) - nodes)}, not in {network}"


def test_the_data_examples_run_on_the_rows_the_sample_example_writes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sample", "alarm", "-n", "2000", "--seed", "1", "-o", "rows.csv", "-q"]) in (0, None)
    for words in _examples_in_order():
        if words[1] == "query" and "--data" in words or words[1] == "score" and "--per-row" in words:
            assert main(words[1:]) in (0, None), words
    posteriors = pd.read_csv(tmp_path / "posteriors.csv")
    assert len(posteriors) == 2000 and (posteriors.iloc[:, 1:].sum(axis=1) - 1).abs().max() < 1e-9
    # the per-row log-likelihoods are the network's own, row by row
    per_row = pd.read_csv(tmp_path / "ll.csv").iloc[:, -1].to_numpy()
    rows = pgm.read_csv(tmp_path / "rows.csv", pgm.load("alarm"))
    assert per_row == pytest.approx(pgm.load("alarm").log_likelihood(rows), abs=1e-9)


def test_pgm_learn_keeps_the_states_as_the_csv_writes_them(tmp_path, monkeypatch, capsys):
    # alarm's states TRUE/FALSE and child's state "None" are text in the file: pandas' guesses would make
    # them the booleans True/False and a missing value, so the learned network would not match the data
    monkeypatch.chdir(tmp_path)
    for network in ("alarm", "child"):
        assert main(["sample", network, "-n", "1500", "--seed", "2", "-o", f"{network}.csv", "-q"]) in (0, None)
        assert main(["learn", f"{network}.csv", "-o", f"{network}.json", "--method", "chow-liu", "-q"]) in (0, None)
        learned, truth = pgm.read(tmp_path / f"{network}.json"), pgm.load(network)
        rows = pd.read_csv(tmp_path / f"{network}.csv", dtype=str, keep_default_na=False)
        for node in truth.nodes:  # the states are the file's text: those seen in its column
            assert set(learned[node].states) == set(rows[node]), node
    assert "None" in pgm.read(tmp_path / "child.json")["DuctFlow"].states


def test_pgm_learn_still_reads_numbers_as_numbers(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ecoli = pgm.load("ecoli70")
    ecoli.sample(500, seed=0).to_csv(tmp_path / "ecoli.csv", index=False)
    assert main(["learn", "ecoli.csv", "-o", "ecoli.json", "--method", "chow-liu", "-q"]) in (0, None)
    learned = pgm.read(tmp_path / "ecoli.json")
    assert all(states is None for states in learned.domains.values())  # every column continuous


def test_evidence_in_the_wrong_case_suggests_the_state(capsys):
    asia = pgm.load("asia")
    with pytest.raises(pgm.errors.DataError, match=r"'YES' is not a state of 'xray'.*; did you mean 'yes'\?"):
        asia.query("lung", evidence={"xray": "YES"})
    with pytest.raises(pgm.errors.DataError) as error:
        asia.query("lung", evidence={"xray": "maybe"})
    assert "did you mean" not in str(error.value)  # no state is close: no suggestion
    assert main(["query", "asia", "lung", "-e", "xray=YES"]) == 1
    assert "did you mean 'yes'?" in capsys.readouterr().err
