"""A DAG plus a DataFrame is a model; states of any kind (strings, integers, booleans) kept exactly."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import CPDError, DataError, NodeError


@pytest.fixture(scope="module")
def alarm_rows():
    return pgm.load("alarm").sample(20_000, seed=0)


def test_from_data_on_alarm_equals_fitting_the_declared_network(alarm_rows):
    alarm = pgm.load("alarm")
    built = pgm.BayesianNetwork.from_data(alarm.edges, alarm_rows, name="alarm")
    declared = alarm.fit(alarm_rows)
    for node in alarm.nodes:
        assert built[node].states == alarm[node].states  # categories keep their order
        assert set(built.parents(node)) == set(alarm.parents(node))
        table = built[node].to_frame()
        expected = declared[node].to_frame()
        if built.parents(node) != alarm.parents(node):  # edges list parents in another order: compare by labels
            table = table.reorder_levels(list(alarm.parents(node)))
        np.testing.assert_array_equal(table.loc[expected.index].to_numpy(), expected.to_numpy())


def test_plain_text_columns_get_sorted_states_and_the_same_distribution(alarm_rows):
    asia = pgm.load("asia")
    rows = asia.sample(5_000, seed=1).astype(str)
    built = pgm.BayesianNetwork.from_data(nx.DiGraph(asia.edges), rows)
    assert built["smoke"].states == ("no", "yes")
    np.testing.assert_allclose(built.log_likelihood(rows), asia.fit(rows).log_likelihood(rows), rtol=1e-12)


def test_kinds_are_read_from_the_columns_and_can_be_overridden():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({
        "flag": rng.random(n) < 0.3,                                   # booleans -> (False, True)
        "grade": rng.integers(1, 4, n),                                # few whole numbers -> states 1, 2, 3
        "size": pd.Categorical(rng.choice(["s", "m", "l"], n), categories=["s", "m", "l"]),
        "x": rng.normal(size=n),                                      # reals -> Gaussian
        "count": rng.integers(0, 500, n),                             # many whole numbers -> Gaussian
    })
    df["y"] = 2 * df["x"] + df["grade"] + rng.normal(0, 0.1, n)
    edges = [("flag", "grade"), ("size", "grade"), ("grade", "y"), ("x", "y")]
    structure = {"flag": [], "size": [], "grade": ["flag"], "x": [], "y": ["grade", "x"]}  # dict: isolated nodes too
    net = pgm.BayesianNetwork.from_data(structure, df, states={"size": ["s", "m", "l", "xl"]}, continuous=["grade"])
    assert net["flag"].states == (False, True)
    assert net["size"].states == ("s", "m", "l", "xl")                 # a state the data never shows
    assert not net["grade"].is_discrete and not net["x"].is_discrete
    default = pgm.BayesianNetwork.from_data(edges + [("flag", "count")], df)
    assert default["grade"].states == (1, 2, 3) and not default["count"].is_discrete
    assert [type(s) for s in default["grade"].states] == [int, int, int]
    # the y node regresses on x with one intercept per grade: least squares per configuration
    for config, grade in enumerate((1, 2, 3)):
        rows = df[df["grade"] == grade]
        coef = np.linalg.lstsq(np.column_stack([np.ones(len(rows)), rows["x"]]), rows["y"], rcond=None)[0]
        assert float(default["y"].intercept[config]) == pytest.approx(coef[0], rel=1e-9)
        assert float(default["y"].weights[config][0]) == pytest.approx(coef[1], rel=1e-9)


def test_a_node_without_a_column_is_latent_and_fitted_by_em():
    truth = pgm.BayesianNetwork({
        "z": pgm.Categorical(["a", "b"], table=[0.4, 0.6]),
        "u": pgm.Categorical(["0", "1"], parents=["z"], table=[[0.9, 0.1], [0.2, 0.8]]),
        "v": pgm.Categorical(["0", "1"], parents=["z"], table=[[0.8, 0.2], [0.1, 0.9]]),
        "w": pgm.Categorical(["0", "1"], parents=["z"], table=[[0.7, 0.3], [0.3, 0.7]]),
    })
    rows = truth.sample(3000, seed=2).drop(columns="z")
    fitted = pgm.BayesianNetwork.from_data([("z", "u"), ("z", "v"), ("z", "w")], rows, states={"z": ["a", "b"]}, seed=0)
    assert fitted.latent_nodes == ("z",) and fitted.fit_report_.converged
    with pytest.raises(DataError, match="'z' has no column.*latent"):
        pgm.BayesianNetwork.from_data([("z", "u")], rows)


def test_from_data_errors_name_the_culprit():
    df = pd.DataFrame({"a": ["x", "y"], "b": [1.5, 2.5]})
    with pytest.raises(NodeError, match="'c'"):
        pgm.BayesianNetwork.from_data([("a", "b")], df, states={"c": ["x"]})
    with pytest.raises(NodeError, match="both discrete and continuous"):
        pgm.BayesianNetwork.from_data([("a", "b")], df, discrete=["b"], continuous=["b"])
    with pytest.raises(pgm.errors.StructureError, match="'a' is discrete but its parent 'b' is continuous"):
        pgm.BayesianNetwork.from_data([("b", "a")], df)
    with pytest.raises(DataError, match="'b' has no values"):
        pgm.BayesianNetwork.from_data([("a", "b")], pd.DataFrame({"a": ["x", "y"], "b": [None, None]}))


def test_unfitted_declarations_say_they_must_be_fitted():
    net = pgm.BayesianNetwork({"rain": pgm.Categorical(["no", "yes"]),
                               "wet": pgm.Categorical(["no", "yes"], parents=["rain"])})
    assert not net.is_fitted and net.unfitted_nodes == ("rain", "wet")
    for action in (lambda: net.sample(5), lambda: net.log_likelihood({"rain": ["no"], "wet": ["no"]})):
        with pytest.raises(pgm.errors.NotFittedError, match="fit"):
            action()


# ---------------------------------------------------------------------- states of any kind
def typed_network():
    return pgm.BayesianNetwork({
        "dice": pgm.Categorical([1, 2, 3], table=[0.2, 0.3, 0.5]),
        "even": pgm.Categorical([False, True], parents=["dice"], table=[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]),
        "label": pgm.Categorical(["lo", "hi"], parents=["even"], table=[[0.7, 0.3], [0.25, 0.75]]),
    })


def test_integer_and_boolean_states_round_trip_through_sample_fit_json(tmp_path):
    net = typed_network()
    rows = net.sample(20_000, seed=3)
    assert rows["dice"].cat.categories.tolist() == [1, 2, 3] and rows["even"].cat.categories.tolist() == [False, True]
    fitted = net.fit(rows)
    # frequencies match the network's marginal within 4 standard errors
    share = (rows["dice"] == 3).mean()
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / 20_000)
    fitted.write(tmp_path / "typed.json")
    back = pgm.read(tmp_path / "typed.json")
    assert back == fitted
    assert [type(s) for s in back["dice"].states] == [int] * 3 and [type(s) for s in back["even"].states] == [bool] * 2
    again = back.sample(10, seed=4)
    assert set(again["even"].unique()) <= {False, True} and again["dice"].map(type).eq(int).all()
    # BIF holds text: states are written as text and read back as text (documented)
    fitted.write(tmp_path / "typed.bif")
    text = pgm.read(tmp_path / "typed.bif")
    assert text["dice"].states == ("1", "2", "3") and text["even"].states == ("False", "True")
    np.testing.assert_allclose(text["even"].table, fitted["even"].table)


def test_values_match_states_exactly_and_coerce_is_explicit():
    net = typed_network()
    good = {"dice": [1, 3], "even": [False, True], "label": ["lo", "hi"]}
    expected = net.log_likelihood(good)
    by_hand = np.log([0.2 * 0.9 * 0.7, 0.5 * 0.4 * 0.75])
    np.testing.assert_allclose(expected, by_hand, rtol=1e-14)
    for column, values, fragment in [
        ("dice", ["1", "3"], "'1' is not a state of 'dice'.*integers.*net.coerce"),
        ("dice", [True, 3], "True is not a state of 'dice'"),
        ("even", [0, 1], "0 is not a state of 'even'.*booleans"),
        ("label", [0, 1], "0 is not a state of 'label'"),
    ]:
        with pytest.raises(DataError, match=fragment):
            net.log_likelihood({**good, column: values})
    as_text = {"dice": ["1", "3"], "even": ["False", "True"], "label": ["lo", "hi"]}
    np.testing.assert_array_equal(net.log_likelihood(net.coerce(as_text)), expected)
    with pytest.raises(DataError, match="'7' matches no state of 'dice'"):
        net.coerce({**as_text, "dice": ["7", "1"]})
    # pandas turns an integer column with a gap into floats: whole floats still match integer states
    np.testing.assert_array_equal(net.log_likelihood({**good, "dice": [1.0, 3.0]}), expected)


def test_queries_on_typed_states_equal_those_on_text_states():
    net = typed_network()
    text = pgm.BayesianNetwork({n: pgm.Categorical([str(s) for s in net[n].states],
                                                   parents=net.parents(n), table=net[n].table) for n in net.nodes})
    posterior = net.query("dice", evidence={"even": True, "label": "hi"})
    reference = text.query("dice", evidence={"even": "True", "label": "hi"})
    np.testing.assert_allclose(posterior.probabilities, reference.probabilities, rtol=1e-14)
    assert posterior.to_series().index.tolist() == [1, 2, 3]
    with pytest.raises(DataError, match="evidence even=1"):
        net.query("dice", evidence={"even": 1})


def test_csv_text_matches_states_by_their_text(tmp_path):
    net = typed_network()
    rows = net.sample(50, seed=5)
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    from pgm.data import read_csv

    back = read_csv(path, net.domains)
    np.testing.assert_array_equal(net.log_likelihood(back), net.log_likelihood(rows))


def test_states_must_be_of_one_kind():
    with pytest.raises(CPDError, match="mix"):
        pgm.Categorical([1, "two"])
