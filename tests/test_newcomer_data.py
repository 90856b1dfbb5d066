"""Issue 17, items 4, 12 and 15, and issue 16 item 8: data that round-trips through files, one rule for
typed states in every reader, BIF files other libraries read, and string columns converted once per
distinct value.  Expected tables come from counting the rows with pandas, never from pgm."""

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import DataError
from pgm.io.bif import format_bif


def dice() -> pgm.BayesianNetwork:
    """Integer and boolean states: a die and whether it shows an odd number (noisily)."""
    return pgm.BayesianNetwork({
        "roll": pgm.Categorical([1, 2, 3], table=[0.2, 0.3, 0.5]),
        "odd": pgm.Categorical([False, True], parents=["roll"], table=[[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]),
    })


def counted_table(rows: pd.DataFrame) -> np.ndarray:
    """p(odd | roll) by counting with pandas: the independent reference for the fitted tables."""
    counts = pd.crosstab(rows["roll"], rows["odd"]).reindex(index=[1, 2, 3], columns=[False, True], fill_value=0)
    return (counts.to_numpy() / counts.to_numpy().sum(axis=1, keepdims=True))


# ---------------------------------------------------------------- item 4: reading back what pgm wrote
def test_a_csv_pgm_wrote_reads_back_through_pandas_with_coerce(tmp_path):
    alarm = pgm.load("alarm")
    rows = alarm.sample(3_000, seed=1)
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    guessed = pd.read_csv(path)  # pandas reads TRUE/FALSE as booleans
    assert guessed["HISTORY"].dtype == bool
    with pytest.raises(DataError, match=r"pgm\.read_csv\(path, net\).*net\.coerce\(data\)"):
        alarm.fit(guessed)
    prior = pgm.Dirichlet(1.0)
    reference = alarm.fit(rows, prior=prior)
    assert alarm.fit(alarm.coerce(guessed), prior=prior) == reference
    assert alarm.fit(pgm.read_csv(path, alarm), prior=prior) == reference


def test_coerce_matches_numbers_and_booleans_by_text_ignoring_case_only_when_unambiguous():
    domains = {"flag": ("TRUE", "FALSE"), "count": ("1", "2"), "level": (0, 1, 2), "yes": ("yes", "YES")}
    frame = pd.DataFrame({"flag": [True, False, None], "count": [1.0, 2.0, np.nan], "level": ["2", "0", "1"],
                          "yes": ["yes", "YES", "yes"]})
    fixed = pgm.data.coerce(frame, domains)
    assert fixed["flag"].tolist()[:2] == ["TRUE", "FALSE"] and pd.isna(fixed["flag"].iloc[2])
    assert fixed["count"].tolist()[:2] == ["1", "2"] and pd.isna(fixed["count"].iloc[2])
    assert fixed["level"].tolist() == [2, 0, 1]
    assert fixed["yes"].tolist() == ["yes", "YES", "yes"]  # exact text first
    with pytest.raises(DataError, match=r"'Yes' matches 2 states of 'yes' when case is ignored"):
        pgm.data.coerce(pd.DataFrame({"yes": ["Yes"]}), {"yes": ("yes", "YES")})
    with pytest.raises(DataError, match=r"row 1: 1\.5 matches no state of 'count'"):
        pgm.data.coerce(pd.DataFrame({"count": [1.0, 1.5]}), {"count": ("1", "2")})


# ---------------------------------------------------------------- item 12: one rule in every reader
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_scan_reads_integer_and_boolean_states_from_csv_and_gzip(tmp_path, suffix):
    rows = dice().sample(4_000, seed=3)
    path = tmp_path / f"dice{suffix}"
    rows.to_csv(path, index=False)  # pandas compresses by the suffix
    fitted = dice().fit(pgm.io.scan(path, chunk_rows=1_000))
    np.testing.assert_allclose(fitted["odd"].table, counted_table(rows), atol=1e-12)
    assert fitted == dice().fit(pgm.read_csv(path, dice()))  # the in-memory reader agrees


def test_scan_of_gzip_names_the_line_of_a_bad_value(tmp_path):
    path = tmp_path / "dice.csv.gz"
    with gzip.open(path, "wt") as stream:
        stream.write("roll,odd\n1,False\n2,True\n7,True\n")
    with pytest.raises(DataError, match=r"dice\.csv\.gz, line 4, column 'roll': '7' is not a state"):
        dice().fit(pgm.io.scan(path))


def test_an_unterminated_quote_is_an_error_with_file_and_line(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('roll,odd\n1,False\n"2,True\n3,True\n1,False\n')
    for read in (lambda: dice().fit(pgm.io.scan(path)), lambda: pgm.read_csv(path, dice())):
        with pytest.raises(DataError, match=r"quote\.csv, line 3: a quote .* never closed"):
            read()


def test_parquet_follows_the_in_memory_rule_whatever_order_values_appear(tmp_path):
    pytest.importorskip("pyarrow")
    rows = dice().sample(3_000, seed=4)
    typed = pd.DataFrame({"roll": rows["roll"].astype(int), "odd": rows["odd"].astype(bool)})
    for order, frame in {"as drawn": typed, "reversed": typed.iloc[::-1], "sorted": typed.sort_values("roll")}.items():
        path = tmp_path / f"{order}.parquet"
        frame.to_parquet(path)
        fitted = dice().fit(pgm.io.scan(path))
        np.testing.assert_allclose(fitted["odd"].table, counted_table(typed), atol=1e-12, err_msg=order)
        assert fitted == dice().fit(frame)
    # 0/1 is not False/True: refused by the in-memory path, so refused in Parquet too
    numbers = typed.assign(odd=typed["odd"].astype(int))
    numbers.to_parquet(tmp_path / "numbers.parquet")
    with pytest.raises(DataError, match="not a state of 'odd'"):
        dice().fit(numbers)
    with pytest.raises(DataError, match="not a state of 'odd'"):
        dice().fit(pgm.io.scan(tmp_path / "numbers.parquet"))


# ---------------------------------------------------------------- item 15: BIF that other libraries read
def test_the_default_name_and_keyword_names_are_written_quoted_and_read_back(tmp_path):
    network = pgm.BayesianNetwork({"table": pgm.Categorical(["type", "b"], table=[0.25, 0.75]),
                                   "x": pgm.Categorical(["a", "b"], parents=["table"], table=[[0.5, 0.5], [0.1, 0.9]])})
    text = format_bif(network)
    assert text.splitlines()[0] == 'network "network" {'  # pyAgrum refuses `network network {`
    path = tmp_path / "unnamed.bif"
    network.write(path)
    back = pgm.read(path)
    assert back == network and back.name == "network"


def test_peers_read_a_bif_pgm_wrote_with_the_default_name(tmp_path):
    gum = pytest.importorskip("pyagrum") if _has("pyagrum") else pytest.importorskip("pyAgrum")
    network = pgm.BayesianNetwork(dict(pgm.load("asia").cpds))  # the default name, "network"
    path = tmp_path / "asia.bif"
    network.write(path)
    bn = gum.loadBN(str(path))
    assert set(bn.names()) == set(network.nodes)
    lung = bn.cpt("lung")
    assert [lung.variable(i).name() for i in range(lung.nbrDim())] == ["lung", "smoke"]
    np.testing.assert_allclose(lung.toarray(), network["lung"].table, atol=1e-15)  # (smoke, lung) both ways


def test_pgmpy_reads_a_bif_pgm_wrote_with_the_default_name(tmp_path):
    reader = pytest.importorskip("pgmpy.readwrite")
    network = pgm.BayesianNetwork(dict(pgm.load("asia").cpds))
    path = tmp_path / "asia.bif"
    network.write(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = reader.BIFReader(str(path)).get_model()
    assert set(model.nodes()) == set(network.nodes)
    np.testing.assert_allclose(model.get_cpds("lung").values.T, network["lung"].table, atol=1e-15)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


# ---------------------------------------------------------------- issue 16, item 8: strings converted once
def test_string_columns_convert_by_distinct_values_with_the_same_errors():
    alarm = pgm.load("alarm")
    rows = alarm.sample(2_000, seed=6)
    strings = rows.astype(object)
    strings.iloc[::7, 3] = None
    categorical = rows.copy()
    categorical.iloc[::7, 3] = None
    converted = pgm.data.to_dataset(strings, alarm.domains)
    reference = pgm.data.to_dataset(categorical, alarm.domains)  # categoricals: codes straight from pandas
    for node in alarm.nodes:
        np.testing.assert_array_equal(converted[node], reference[node], err_msg=node)
    strings.iloc[1234, 5] = "NOT A STATE"
    with pytest.raises(DataError, match=rf"column '{alarm.nodes[5]}', row 1234: 'NOT A STATE' is not a state"):
        pgm.data.to_dataset(strings, alarm.domains)
    strings.iloc[1234, 5] = 1.0  # a number in a column of text states
    with pytest.raises(DataError, match=r"row 1234: 1\.0 is not a state .*float values"):
        pgm.data.to_dataset(strings, alarm.domains)


# ---------------------------------------------------------------- item 13: evidence and options, one rule
def brute_force_posterior(network, target, evidence: dict) -> np.ndarray:
    """p(target | evidence) by enumerating the full joint of a small discrete network."""
    import itertools

    nodes = list(network.nodes)
    weights = np.zeros(len(network[target].domain))
    for states in itertools.product(*(network[n].domain for n in nodes)):
        case = dict(zip(nodes, states))
        if any(case[n] != v for n, v in evidence.items()):
            continue
        probability = np.prod([network[n].table[tuple(network[p].domain.index(case[p]) for p in network[n].parents)
                                                + (network[n].domain.index(case[n]),)] for n in nodes])
        weights[network[target].domain.index(case[target])] += probability
    return weights / weights.sum()


def test_a_misspelled_evidence_column_is_a_warning_with_the_suggestion():
    asia = pgm.load("asia")
    cases = asia.sample(20, seed=1)[["xray", "smoke"]]
    with pytest.warns(pgm.errors.PGMWarning, match=r"'xrya' is not a node and is ignored; did you mean 'xray'"):
        asia.query("lung", evidence=cases.rename(columns={"xray": "xrya"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asia.query("lung", evidence=cases.assign(patient_id=range(20)))  # an unrelated column: no warning


def test_a_dict_of_series_is_aligned_by_index_as_pandas_does():
    asia = pgm.load("asia")
    evidence = {"xray": pd.Series(["yes", "no"], index=[5, 3]), "smoke": pd.Series(["no", "yes"], index=[3, 5])}
    result = asia.query("lung", evidence=evidence)
    assert sorted(result.index) == [3, 5]  # the union of the indexes, as pd.DataFrame(evidence) gives
    np.testing.assert_allclose(result.loc[5], brute_force_posterior(asia, "lung", {"xray": "yes", "smoke": "yes"}))
    np.testing.assert_allclose(result.loc[3], brute_force_posterior(asia, "lung", {"xray": "no", "smoke": "no"}))


def test_empty_evidence_gives_empty_answers_of_the_right_shape():
    asia = pgm.load("asia")
    none = asia.sample(5, seed=0).iloc[:0]
    assert asia.query("lung", evidence=none).shape == (0, 2)
    assert list(asia.query("lung", evidence=none).columns) == ["yes", "no"]
    assert asia.query(["lung", "tub"], evidence=none).shape == (0, 4)
    assert len(asia.predict(none.drop(columns="lung"), "lung")) == 0
    assert asia.posteriors(none)["lung"].shape == (0, 2)  # as posteriors already did


def test_real_numbers_for_budgets_and_tolerances_and_a_weights_column_in_memory():
    asia = pgm.load("asia")
    rows = asia.sample(400, seed=2)
    assert asia.query("lung", evidence={"xray": "yes"}, memory_budget=2e9).probabilities == pytest.approx(
        brute_force_posterior(asia, "lung", {"xray": "yes"}))
    latent = asia.with_cpd("either", pgm.Categorical.latent(["yes", "no"], parents=["lung", "tub"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        latent.fit(rows.drop(columns="either"), tol=np.float32(1e-3), max_iter=2, seed=0)
    weights = np.random.default_rng(0).integers(0, 3, len(rows)).astype(float)
    by_name = asia.fit(rows.assign(w=weights), weights="w", prior=pgm.Dirichlet(1.0))
    repeated = asia.fit(rows.loc[rows.index.repeat(weights.astype(int))], prior=pgm.Dirichlet(1.0))
    assert by_name == asia.fit(rows, weights=weights, prior=pgm.Dirichlet(1.0))
    np.testing.assert_allclose(by_name["lung"].table, repeated["lung"].table, atol=1e-12)  # integer weights = copies
    with pytest.raises(DataError, match="weights='v' names no column"):
        asia.fit(rows, weights="v")


def test_one_case_takes_what_a_batch_takes():
    net = dice()
    rows = pd.DataFrame({"odd": [True, False], "roll": [2.0, np.nan]})  # a float column of whole numbers
    batched = net.query("roll", evidence=rows[["odd"]])
    single = net.query("roll", evidence={"odd": True})
    np.testing.assert_allclose(batched.iloc[0], single.probabilities)
    odd = net.query("odd", evidence=rows.iloc[0][["roll"]])  # a row of that frame: roll=2.0
    np.testing.assert_allclose(odd.probabilities, [0.8, 0.2])  # the table's row for roll = 2
    np.testing.assert_allclose(net.query("odd", evidence={"roll": 2.0}).probabilities, [0.8, 0.2])
    with pytest.raises(DataError, match="not a state"):
        net.query("odd", evidence={"roll": 2.5})


def test_linear_gaussian_takes_std_as_gaussian_does():
    net = pgm.BayesianNetwork({"x": pgm.Gaussian(0.0, std=2.0),
                               "y": pgm.LinearGaussian(parents=["x"], weights={"x": 1.5}, std=0.5)})
    assert net["y"].variance == pytest.approx(0.25) and net["x"].variance == pytest.approx(4.0)
    with pytest.raises(pgm.errors.CPDError, match="not both"):
        pgm.LinearGaussian(parents=["x"], variance=1.0, std=1.0)
