"""Issue 9, item 11: CSV data files.  One convention for every problem: the file, the line as a
text editor counts it, the column and the value."""

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.data import read_csv, to_dataset
from pgm.errors import DataError

DOMAINS = {"x": None, "colour": ("red", "green")}


def write(tmp_path, text: str, name="rows.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path, domains=DOMAINS) -> str:
    with pytest.raises(DataError) as info:
        read_csv(path, domains)
    return str(info.value)


def test_a_bad_number_after_blank_lines_is_on_the_line_an_editor_shows(tmp_path):
    path = write(tmp_path, "x,colour\n1.5,red\n\n\n2.5,green\nabc,red\n")
    assert error_of(path) == f"{path}, line 6, column 'x': 'abc' is not a number, but 'x' is a continuous node"


def test_a_bad_state_names_the_file_line_and_column(tmp_path):
    path = write(tmp_path, "x,colour\n1.5,red\n\n2.5,blue\n")
    assert error_of(path) == (f"{path}, line 4, column 'colour': 'blue' is not a state of 'colour'; "
                              "its states are ['red', 'green']")


def test_a_quoted_field_spanning_lines_is_counted_as_an_editor_counts(tmp_path):
    path = write(tmp_path, 'x,colour\n1.5,"red\nred"\n2.5,purple\n')
    message = error_of(path)
    assert "line 2, column 'colour': 'red\\nred'" in message
    path = write(tmp_path, 'x,colour\n1.5,"a note\nover lines"\n2.5,purple\n', "notes.csv")
    assert "line 2," in error_of(path, {"colour": ("red",)})


def test_an_infinite_value_is_refused(tmp_path):
    path = write(tmp_path, "x,colour\n1.5,red\ninf,red\n")
    assert error_of(path).endswith("line 3, column 'x': 'inf' is not a finite number, but 'x' is a continuous node")


def test_an_empty_file_is_one_clear_error(tmp_path):
    path = write(tmp_path, "")
    assert error_of(path) == f"{path}: the file is empty; a CSV needs a header line naming its columns"


@pytest.mark.parametrize("text, line, found", [
    ("x,colour\n1.5,red\n2.5,green,extra\n", 3, 3),
    ("x,colour\n1.5,red,extra\n2.5,green\n", 2, 3),
    ("x,colour\n1.5,red,\n", 2, 3),
])
def test_a_row_with_more_fields_than_the_header_is_an_error(tmp_path, text, line, found):
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}, line {line}: {found} fields, but the header has 2"


def test_a_row_with_fewer_fields_is_not_read_as_missing_values(tmp_path):
    path = write(tmp_path, "x,colour\n1.5,red\n\n2.5\n")
    assert error_of(path).startswith(f"{path}, line 4: 1 field(s), but the header has 2")


def test_empty_fields_are_missing_values(tmp_path):
    path = write(tmp_path, "x,colour\n1.5,\n,green\nNA,red\n")
    frame = read_csv(path, DOMAINS)
    dataset = to_dataset(frame, DOMAINS)
    np.testing.assert_array_equal(dataset["colour"], [-1, 1, 0])
    np.testing.assert_array_equal(dataset.missing("x"), [False, True, True])


def test_binary_junk_names_the_file_and_line(tmp_path):
    path = tmp_path / "junk.csv"
    path.write_bytes(b"x,colour\n1.5,red\n\xff\xfe\x00junk\n")
    assert error_of(path).startswith(f"{path}, line 3, column 1: the file is not UTF-8 text: byte 0xff")


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfx,colour\n1.5,red\n")
    assert list(read_csv(path, DOMAINS).columns) == ["x", "colour"]
    path.write_bytes("x,colour\n1.5,red\n".encode("utf-16"))
    assert read_csv(path, DOMAINS)["x"].tolist() == [1.5]


def test_discrete_columns_come_back_as_categoricals_in_state_order(tmp_path):
    path = write(tmp_path, "x,colour\n1.5,green\n2.5,red\n")
    column = read_csv(path, DOMAINS)["colour"]
    assert list(column.cat.categories) == ["red", "green"] and column.tolist() == ["green", "red"]


def test_a_missing_file_and_a_directory_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        read_csv(tmp_path / "absent.csv", DOMAINS)
    assert info.value.filename == str(tmp_path / "absent.csv") and "no such file" in str(info.value)
    with pytest.raises(IsADirectoryError):
        read_csv(tmp_path, DOMAINS)


def test_a_sampled_network_reads_back_identically(tmp_path):
    net = pgm.load("child")
    rows = net.sample(500, seed=3)
    rows.to_csv(tmp_path / "child.csv", index=False)
    back = read_csv(tmp_path / "child.csv", net.domains)
    pd.testing.assert_frame_equal(back, rows, check_categorical=True)


def test_a_repeated_column_name_is_an_error_not_a_renamed_column(tmp_path):
    path = write(tmp_path, "x,colour,x\n1.5,red,2.5\n")
    assert error_of(path) == f"{path}, line 1: the header names the column 'x' twice"
    path = write(tmp_path, "x,colour,x.1\n1.5,red,2.5\n", "fine.csv")
    assert read_csv(path, DOMAINS)["x"].tolist() == [1.5]
