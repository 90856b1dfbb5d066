"""Dynamic networks on files: pgm.io.scan chunks regrouped into whole sequences, and ``pgm sequences``.

Every answer from a file read a few rows at a time (chunk boundaries inside
sequences) must equal the in-memory API on the same rows, which the other
test files check against the static engine and hmmlearn.
"""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.cli import main
from pgm.dynamic.files import whole_sequences
from pgm.errors import DataError
from pgm.learning.em import ConvergenceWarning


@pytest.fixture()
def files(tmp_path):
    model = pgm.dynamic.hmm(2, emission="categorical", n_symbols=3, startprob=[0.6, 0.4],
                            transmat=[[0.9, 0.1], [0.2, 0.8]], emissionprob=[[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
    frame = model.sample([13, 5, 29, 1, 8], seed=0).drop(columns="z")
    frame["sequence"] = frame["sequence"].map(lambda i: f"walk-{i}")  # text ids, kept as read
    frame["y"] = frame["y"].astype(object)
    frame.loc[[3, 20, 40], "y"] = None
    path = tmp_path / "steps.csv"
    frame.to_csv(path, index=False)
    (tmp_path / "hmm.json").write_text(json.dumps(model.to_dict()))
    return model, frame, tmp_path


def test_chunks_are_regrouped_into_whole_sequences_in_order(files):
    model, frame, folder = files
    pieces = list(whole_sequences(pgm.io.scan(str(folder / "steps.csv"), chunk_rows=6), model, sequence="sequence"))
    assert pd.concat(pieces, ignore_index=True)["sequence"].tolist() == frame["sequence"].tolist()
    for piece in pieces:
        assert not set(piece["sequence"]) & set().union(*(set(p["sequence"]) for p in pieces if p is not piece))


def test_scanned_log_likelihoods_and_baum_welch_equal_the_in_memory_answers(files):
    model, frame, folder = files
    rows = pgm.io.scan(str(folder / "steps.csv"), chunk_rows=7)
    scanned = model.log_likelihood(rows, sequence="sequence")
    memory = model.log_likelihood(frame, sequence="sequence")
    assert np.abs(scanned - memory.loc[scanned.index]).max() < 1e-12 and len(scanned) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        by_chunks = model.fit_pieces(rows, sequence="sequence", max_iter=4, tol=-1.0)
        at_once = model.fit(frame, sequence="sequence", init="current", max_iter=4, tol=-1.0)
    for node in model.nodes:
        assert np.abs(by_chunks.cpd(node, 3).table - at_once.cpd(node, 3).table).max() < 1e-12
        assert np.abs(by_chunks.cpd(node, 0).table - at_once.cpd(node, 0).table).max() < 1e-12


def test_a_sequence_that_comes_back_in_a_later_chunk_is_refused(tmp_path):
    model = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
                            transmat=[[0.9, 0.1], [0.1, 0.9]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
    path = tmp_path / "mixed.csv"
    pd.DataFrame({"id": ["a", "a", "a", "b", "b", "b", "a"], "y": [0, 1, 0, 1, 1, 0, 1]}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"sequence 'a' are not contiguous"):
        model.log_likelihood(pgm.io.scan(str(path), chunk_rows=3), sequence="id")


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_sequences_command_scores_decodes_and_smooths_like_the_api(files, capsys):
    model, frame, folder = files
    data, spec = folder / "steps.csv", folder / "hmm.json"
    status, out, _ = run(capsys, "sequences", "score", spec, data, "--sequence", "sequence", "--chunk-rows", 6,
                         "-o", folder / "ll.csv", "--json")
    assert status == 0
    summary = json.loads(out)
    expected = model.log_likelihood(frame, sequence="sequence")
    assert summary["sequences"] == 5 and summary["steps"] == len(frame)
    assert summary["log_likelihood"] == pytest.approx(expected.sum(), abs=1e-10)
    written = pd.read_csv(folder / "ll.csv").set_index("sequence")["log_likelihood"]
    assert np.abs(written - expected.loc[written.index]).max() < 1e-10
    status, out, _ = run(capsys, "sequences", "smooth", spec, data, "--sequence", "sequence", "-q")
    smoothed = pd.read_csv(pd.io.common.StringIO(out))
    assert np.abs(smoothed[["z=0", "z=1"]].to_numpy() - model.smoothed(frame, sequence="sequence").to_numpy()).max() < 1e-10
    status, out, _ = run(capsys, "sequences", "viterbi", spec, data, "--sequence", "sequence", "--chunk-rows", 4,
                         "-q")
    path = pd.read_csv(pd.io.common.StringIO(out))
    assert path["z"].tolist() == model.most_probable_path(frame, sequence="sequence").path["z"].astype(int).tolist()


def test_the_sequences_command_fits_in_chunks_as_fit_pieces_does(files, capsys):
    model, frame, folder = files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        status, _, err = run(capsys, "sequences", "fit", folder / "hmm.json", folder / "steps.csv", "--sequence",
                             "sequence", "--chunk-rows", 5, "--init", "current", "--max-iter", 3, "--tol", -1,
                             "-o", folder / "fitted.json", "-q")
        expected = model.fit(frame, sequence="sequence", init="current", max_iter=3, tol=-1.0)
    assert status == 0 and err == ""
    fitted = pgm.dynamic.DynamicBayesianNetwork.from_dict(json.loads((folder / "fitted.json").read_text()))
    assert np.abs(fitted.cpd("z", 1).table - expected.cpd("z", 1).table).max() < 1e-12
    status, _, err = run(capsys, "sequences", "fit", folder / "hmm.json", folder / "steps.csv", "--chunk-rows", 5)
    assert status == 1 and "--chunk-rows needs --sequence" in err
