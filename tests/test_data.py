"""The data boundary: DataFrames and dicts in, integer codes and floats inside, errors that name the culprit."""

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.data import Dataset, code_dtype, to_dataset
from pgm.errors import DataError

DOMAINS = {"colour": ("red", "green", "blue"), "size": None}


def test_categorical_columns_with_the_states_as_categories_convert_without_copying():
    column = pd.Categorical(["green", "red", "blue"], categories=["red", "green", "blue"])
    frame = pd.DataFrame({"colour": column, "size": [1.0, 2.0, 3.0]})
    dataset = to_dataset(frame, DOMAINS)
    np.testing.assert_array_equal(dataset["colour"], [1, 0, 2])
    assert np.shares_memory(dataset["colour"], frame["colour"].cat.codes.to_numpy()) or dataset["colour"].dtype == np.int8


def test_categories_in_another_order_are_mapped_to_the_networks_order():
    column = pd.Categorical(["green", "red", "blue"], categories=["blue", "green", "red"])
    dataset = to_dataset(pd.DataFrame({"colour": column, "size": [1, 2, 3]}), DOMAINS)
    np.testing.assert_array_equal(dataset["colour"], [1, 0, 2])


def test_string_columns_and_missing_values():
    frame = pd.DataFrame({"colour": ["blue", None, "red"], "size": [1.5, np.nan, 3.0]})
    dataset = to_dataset(frame, DOMAINS)
    np.testing.assert_array_equal(dataset["colour"], [2, -1, 0])
    np.testing.assert_array_equal(dataset.missing("size"), [False, True, False])
    np.testing.assert_array_equal(dataset.missing("colour"), [False, True, False])


def test_dict_of_arrays():
    dataset = to_dataset({"colour": np.array(["red", "red"]), "size": [1, 2]}, DOMAINS)
    assert dataset.n_rows == 2
    assert dataset["size"].dtype == np.float64


def test_columns_that_are_not_nodes_are_ignored():
    dataset = to_dataset(pd.DataFrame({"colour": ["red"], "size": [1.0], "comment": ["x"]}), DOMAINS)
    assert set(dataset.columns) == {"colour", "size"}


def test_unknown_state_names_column_value_and_row_with_the_index_label():
    frame = pd.DataFrame({"colour": ["red", "purple"], "size": [1.0, 2.0]}, index=["first", "second"])
    with pytest.raises(DataError, match=r"column 'colour', row 1 \(index 'second'\): 'purple' is not a state of 'colour'"):
        to_dataset(frame, DOMAINS)


def test_unknown_category_in_a_categorical_column():
    column = pd.Categorical(["red", "pink"], categories=["red", "pink"])
    with pytest.raises(DataError, match="row 1: 'pink' is not a state of 'colour'"):
        to_dataset(pd.DataFrame({"colour": column, "size": [1.0, 2.0]}), DOMAINS)


def test_integers_are_not_silently_turned_into_state_names():
    with pytest.raises(DataError, match=r"column 'flag', row 0: 0 is not a state of 'flag'; its states are \['0', '1'\]"):
        to_dataset({"flag": [0, 1]}, {"flag": ("0", "1")})


def test_non_numeric_value_in_a_continuous_column():
    with pytest.raises(DataError, match="column 'size', row 2: 'big' is not a number, but 'size' is a continuous node"):
        to_dataset({"colour": ["red"] * 3, "size": [1.0, 2.0, "big"]}, DOMAINS)


def test_infinite_value_in_a_continuous_column():
    with pytest.raises(DataError, match="column 'size', row 1: inf is not a finite value"):
        to_dataset({"colour": ["red"] * 2, "size": [1.0, np.inf]}, DOMAINS)


def test_missing_column_suggests_a_close_name():
    with pytest.raises(DataError, match="no column for node 'colour'; did you mean 'color'"):
        to_dataset({"color": ["red"], "size": [1.0]}, DOMAINS)


def test_columns_of_different_lengths():
    with pytest.raises(DataError, match="different lengths"):
        to_dataset({"colour": ["red"], "size": [1.0, 2.0]}, DOMAINS)


def test_duplicate_column_names():
    frame = pd.DataFrame([["red", 1.0, 2.0]], columns=["colour", "size", "size"])
    with pytest.raises(DataError, match="more than one column named 'size'"):
        to_dataset(frame, DOMAINS)


def test_log_likelihood_of_a_row_with_a_missing_value_sums_it_out():
    net = pgm.load("cancer")
    rows = net.sample(10, seed=0)
    complete = net.log_likelihood(rows)
    rows.loc[4, "Xray"] = np.nan
    # the complete-row path, once per state of Xray, summed
    by_state = []
    for state in net.states("Xray"):
        filled = rows.copy()
        filled.loc[4, "Xray"] = state
        by_state.append(net.log_likelihood(filled)[4])
    scores = net.log_likelihood(rows)
    assert scores[4] == pytest.approx(np.logaddexp.reduce(by_state), rel=1e-13)
    np.testing.assert_allclose(np.delete(scores, 4), np.delete(complete, 4), rtol=1e-13)


def test_log_likelihood_needs_a_column_for_at_least_one_node():
    with pytest.raises(DataError, match="no column for node"):
        pgm.load("cancer").log_likelihood({"smoker": ["True"]})


def test_code_dtype_is_the_smallest_that_fits():
    assert code_dtype(2) == np.int8
    assert code_dtype(127) == np.int8
    assert code_dtype(128) == np.int16
    assert code_dtype(40_000) == np.int32


def test_row_slices_are_views():
    dataset = Dataset({"a": np.arange(10.0)}, 10)
    part = dataset.rows(slice(2, 5))
    assert part.n_rows == 3 and np.shares_memory(part["a"], dataset["a"])


@pytest.mark.parametrize("column", [[True, 1.0], np.array([True, False]), pd.Series([1.0, True], dtype=object)])
def test_booleans_are_not_numbers_for_a_continuous_node(column):
    with pytest.raises(DataError, match=r"True is not a number, but 'size' is a continuous node"):
        to_dataset({"colour": ["red"] * 2, "size": column}, DOMAINS)


def test_numeric_object_columns_with_missing_values_convert():
    column = pd.Series([1, None, 2.5, pd.NA], dtype=object)
    dataset = to_dataset({"colour": ["red"] * 4, "size": column}, DOMAINS)
    np.testing.assert_array_equal(dataset["size"], [1.0, np.nan, 2.5, np.nan])


def test_read_csv_keeps_state_names_that_look_missing_or_numeric(tmp_path):
    from pgm.data import read_csv

    path = tmp_path / "rows.csv"
    path.write_text("flow,level,x\nNone,1,0.5\nLow,10,NA\n,1,2\n")
    domains = {"flow": ("None", "Low"), "level": ("1", "10"), "x": None}
    frame = read_csv(path, domains)
    dataset = to_dataset(frame, domains)
    np.testing.assert_array_equal(dataset["flow"], [0, 1, -1])
    np.testing.assert_array_equal(dataset["level"], [0, 1, 0])
    np.testing.assert_array_equal(dataset.missing("x"), [False, True, False])


def test_read_csv_names_the_line_of_a_bad_number(tmp_path):
    from pgm.data import read_csv

    path = tmp_path / "rows.csv"
    path.write_text("x\n1.5\n2.5\nabc\n")
    with pytest.raises(DataError, match=r"rows.csv, line 4, column 'x': 'abc' is not a number"):
        read_csv(path, {"x": None})


def test_a_single_value_instead_of_a_column_is_refused():
    with pytest.raises(DataError, match="column 'colour' must be a sequence of values, not the single value 'red'"):
        to_dataset({"colour": "red", "size": [1.0]}, DOMAINS)


def test_row_labels_in_messages_are_plain_values():
    frame = pd.DataFrame({"colour": ["red", "purple"], "size": [1.0, 2.0]}, index=np.array([10, 20]))
    with pytest.raises(DataError, match=r"row 1 \(index 20\)"):
        to_dataset(frame, DOMAINS)
