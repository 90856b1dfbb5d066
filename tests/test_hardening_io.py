"""Issue 9: network files read and written by a hostile user's rules.

Every malformed file is an error that names the file, line and column (or
the node); nothing is silently accepted, and nothing is written that cannot
be read back.
"""

import json
import os
import stat

import numpy as np
import pytest

import pgm
from pgm import BayesianNetwork, Bernoulli, Categorical
from pgm.errors import CPDError, CycleError, DataError, InferenceTooLarge, NodeError, ParseError
from pgm.io import parse_bif

HEAD = "variable a { type discrete [ 2 ] { x, y }; }\nvariable b { type discrete [ 2 ] { n, m }; }\n"
PRIOR_A = "probability ( a ) { table 0.5, 0.5; }\n"


def parse_error(text):
    with pytest.raises(ParseError) as info:
        parse_bif(text, source="net.bif")
    return info.value


# ---------------------------------------------------------------- item 4: repeated definitions, BIF numbers


def test_a_repeated_table_is_an_error_at_the_second_one():
    error = parse_error(HEAD + "probability ( a ) {\n  table 0.5, 0.5;\n  table 0.1, 0.9;\n}\n"
                        "probability ( b ) { table 0.5, 0.5; }\n")
    assert (error.line, error.column) == (5, 3) and "gives 'table' twice" in str(error)


def test_a_repeated_default_is_an_error_at_the_second_one():
    error = parse_error(HEAD + PRIOR_A + "probability ( b | a ) {\n  default 0.5, 0.5;\n  default 0.1, 0.9;\n}\n")
    assert (error.line, error.column) == (6, 3) and "gives 'default' twice" in str(error)


@pytest.mark.parametrize("body", ["table 0.5, 0.5, 0.5, 0.5; default 0.1, 0.9;",
                                  "default 0.1, 0.9; table 0.5, 0.5, 0.5, 0.5;",
                                  "(x) 0.1, 0.9; table 0.5, 0.5, 0.5, 0.5;"])
def test_table_with_rows_or_default_is_an_error(body):
    error = parse_error(HEAD + PRIOR_A + f"probability ( b | a ) {{ {body} }}\n")
    assert error.line == 4 and "both 'table' and rows or 'default'" in str(error)


def test_a_row_after_table_is_an_error():
    error = parse_error(HEAD + PRIOR_A + "probability ( b | a ) { table 0.5, 0.5, 0.5, 0.5; (x) 0.1, 0.9; }\n")
    assert error.line == 4 and "has a row after 'table'" in str(error)


@pytest.mark.parametrize("number", ["0.2_5", "inf", "nan", "Infinity", "1e", "0x1", "١", "0.5.5", "--1", "1e5x"])
def test_numbers_follow_the_bif_grammar_not_python(number):
    error = parse_error(f"variable a {{ type discrete [ 2 ] {{ x, y }}; }}\nprobability ( a ) {{ table {number}, 0.5; }}\n")
    assert (error.line, error.column) == (2, 27)
    assert f"{number!r} is not a number" in str(error)


@pytest.mark.parametrize("number, value", [("0.25", 0.25), (".25", 0.25), ("25e-2", 0.25), ("2.5E-1", 0.25),
                                           ("+0.25", 0.25), ("25.e-2", 0.25)])
def test_numbers_in_every_form_the_grammar_allows(number, value):
    net = parse_bif(f"variable a {{ type discrete [ 2 ] {{ x, y }}; }}\nprobability ( a ) {{ table {number} 0.75; }}")
    assert net["a"].table.tolist() == [value, 0.75]


def test_an_overflowing_number_is_not_finite_and_located():
    error = parse_error("variable a { type discrete [ 2 ] { x, y }; }\nprobability ( a ) {\n  table 0.5, 1e999;\n}\n")
    assert (error.line, error.column) == (3, 14) and "'1e999' is not a finite number" in str(error)


def test_a_second_network_block_is_an_error():
    error = parse_error("network one {}\nnetwork two {}\n" + HEAD.split("\n")[0] + "\n" + PRIOR_A)
    assert (error.line, error.column) == (2, 1) and "second 'network' block" in str(error)


def test_a_second_type_declaration_is_an_error():
    error = parse_error("variable a {\n  type discrete [ 2 ] { x, y };\n  type discrete [ 2 ] { u, v };\n}\n" + PRIOR_A)
    assert (error.line, error.column) == (3, 3) and "second 'type'" in str(error)


# ---------------------------------------------------------------- item 5: empty inputs


@pytest.mark.parametrize("text", ["", "   \n\n", "// only a comment\n", "network empty {\n}\n", "/* */"])
def test_a_file_without_variables_is_an_error(text):
    assert "declares no variables" in str(parse_error(text))


def test_a_json_network_without_nodes_is_an_error(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"format": "pgm-network", "version": 1, "name": "n", "nodes": {}}))
    with pytest.raises(DataError, match=r"net.json: the network has no nodes"):
        pgm.read(path)


def test_an_empty_network_is_not_written(tmp_path):
    for suffix in ("bif", "json"):
        with pytest.raises(CPDError, match="no nodes"):
            BayesianNetwork().write(tmp_path / f"empty.{suffix}")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- item 7: tables too large to hold


def test_a_huge_table_declared_with_default_is_refused_before_allocating():
    states = ", ".join(f"s{k}" for k in range(100))
    text = "".join(f"variable p{i} {{ type discrete [ 100 ] {{ {states} }}; }}\n" for i in range(8))
    text += "variable c { type discrete [ 2 ] { y, n }; }\n"
    text += "".join(f"probability ( p{i} ) {{ default {', '.join(['0.01'] * 100)}; }}\n" for i in range(8))
    text += "probability ( c | " + ", ".join(f"p{i}" for i in range(8)) + " ) {\n  default 0.5, 0.5;\n}\n"
    with pytest.raises(InferenceTooLarge) as info:
        parse_bif(text, source="huge.bif")
    message = str(info.value)
    assert message.startswith("huge.bif:18:13:") and "20,000,000,000,000,000 entries" in message
    assert "PiB" in message and isinstance(info.value, MemoryError)


# ---------------------------------------------------------------- item 8: bnlearn JSON and names


def bnlearn(**changes):
    spec = {
        "nodes": ["a", "b"],
        "arcs": [["a", "b"]],
        "cpds": {
            "a": {"parents": [], "coefficients": {"(Intercept)": [1.0]}, "variance": [2.0]},
            "b": {"parents": ["a"], "coefficients": {"(Intercept)": [0.5], "a": [3.0]}, "variance": [1.0]},
        },
    }
    spec.update(changes)
    return spec


def read_json_text(tmp_path, data):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(data))
    return pgm.read(path)


def test_bnlearn_json_reads_as_before(tmp_path):
    net = read_json_text(tmp_path, bnlearn())
    assert net.parents("b") == ("a",) and float(net["b"].weights[0]) == 3.0 and net.name == "net"


@pytest.mark.parametrize("change, message", [
    ({"cpds": []}, "'cpds' must be an object"),
    ({"arcs": [["a"]]}, r"an arc must be a \[parent, child\] pair of names, got \['a'\]"),
    ({"arcs": [["a", "b", "c"]]}, "an arc must be a"),
    ({"arcs": "ab"}, "'arcs' must be a list"),
    ({"nodes": "ab"}, "'nodes' must be a list of names"),
    ({"nodes": ["a"]}, "'cpds' has an entry for 'b', which is not in 'nodes'"),
])
def test_malformed_bnlearn_json_is_a_clear_error(tmp_path, change, message):
    with pytest.raises(CPDError, match=message) as info:
        read_json_text(tmp_path, bnlearn(**change))
    assert str(info.value).startswith(str(tmp_path / "net.json"))


def test_bnlearn_node_errors_name_the_node(tmp_path):
    spec = bnlearn()
    del spec["cpds"]["b"]["variance"]
    with pytest.raises(CPDError, match="node 'b' has no 'variance'"):
        read_json_text(tmp_path, spec)
    spec = bnlearn()
    spec["cpds"]["b"]["coefficients"]["a"] = ["three"]
    with pytest.raises(CPDError, match="a of node 'b' must be a finite number, got 'three'"):
        read_json_text(tmp_path, spec)
    spec = bnlearn()
    spec["cpds"]["b"]["parents"] = "a"
    with pytest.raises(CPDError, match="the parents of node 'b' must be a list of names, got 'a'"):
        read_json_text(tmp_path, spec)
    spec = bnlearn()
    spec["cpds"]["b"]["variance"] = [-1.0]
    with pytest.raises(CPDError, match="variance of 'b' is -1.0"):
        read_json_text(tmp_path, spec)


def test_parents_given_as_a_string_are_not_split_into_letters(tmp_path):
    spec = bnlearn(nodes=["a", "b", "ab"], arcs=[])
    spec["cpds"]["ab"] = {"parents": "ab", "coefficients": {"(Intercept)": [0.0]}, "variance": [1.0]}
    with pytest.raises(CPDError, match="must be a list of names"):
        read_json_text(tmp_path, spec)


@pytest.mark.parametrize("name", [None, 5, ["x"], {"a": 1}])
def test_a_network_name_must_be_a_string(tmp_path, name):
    data = pgm.io.network_to_dict(pgm.load("cancer"))
    data["name"] = name
    with pytest.raises(DataError, match="'name' must be a string"):
        read_json_text(tmp_path, data)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_json_parameters_must_be_finite(tmp_path, bad):
    data = pgm.io.network_to_dict(pgm.load("cancer"))
    data["nodes"]["Smoker"]["table"] = [bad, 0.7]
    with pytest.raises(CPDError, match=r"net.json: node 'Smoker': table is (nan|inf), not a finite number"):
        read_json_text(tmp_path, data)


def test_deeply_nested_json_is_a_parse_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ParseError, match="deep.json"):
        pgm.read(path)


# ---------------------------------------------------------------- item 9: encodings


def test_a_utf8_byte_order_mark_is_read_transparently(tmp_path):
    text = pgm.datasets.path("asia").read_text()
    for suffix, content in (("bif", text), ("json", json.dumps(pgm.io.network_to_dict(pgm.load("asia"))))):
        path = tmp_path / f"bom.{suffix}"
        path.write_bytes(b"\xef\xbb\xbf" + content.encode("utf-8"))
        assert pgm.read(path).nodes == pgm.load("asia").nodes


def test_utf16_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "windows.bif"
    path.write_bytes(pgm.datasets.path("cancer").read_text().encode("utf-16"))
    again = pgm.read(path)
    again.name = "cancer"
    assert again == pgm.load("cancer")


@pytest.mark.parametrize("suffix", ["bif", "json"])
def test_binary_junk_names_the_file_line_and_byte(tmp_path, suffix):
    path = tmp_path / f"junk.{suffix}"
    path.write_bytes(b"network x {}\nvariable \x80\xff { }\n")
    with pytest.raises(ParseError) as info:
        pgm.read(path)
    assert str(info.value).startswith(f"{path}:2:10:") and "byte 0x80" in str(info.value)


# ---------------------------------------------------------------- item 10: every BIF error is located


def test_a_variable_that_is_its_own_parent_is_located():
    error = parse_error(HEAD + PRIOR_A + "probability ( b | b ) {\n  (n) 0.5, 0.5;\n  (m) 0.5, 0.5;\n}\n")
    assert (error.line, error.column) == (4, 13) and "'b' is listed as its own parent" in str(error)


def test_a_cycle_across_blocks_keeps_its_class_and_gains_a_location():
    with pytest.raises(CycleError) as info:
        parse_bif(HEAD + "probability ( a | b ) { (n) 0.5, 0.5; (m) 0.5, 0.5; }\n"
                  "probability ( b | a ) { (x) 0.5, 0.5; (y) 0.5, 0.5; }\n", source="net.bif")
    assert str(info.value).startswith("net.bif:4:13: the graph has a directed cycle: b -> a -> b")


@pytest.mark.parametrize("text, where", [
    ('variable "" { type discrete [ 2 ] { x, y }; }', (1, 10)),
    ('variable a { type discrete [ 2 ] { x, "" }; }', (1, 39)),
    ('variable a { type discrete [ 2 ] { x, y }; }\nprobability ( "" ) { table 0.5, 0.5; }', (2, 15)),
])
def test_an_empty_quoted_name_is_located(text, where):
    error = parse_error(text)
    assert (error.line, error.column) == where and "empty quoted name" in str(error)


def test_a_repeated_parent_is_located():
    error = parse_error(HEAD + PRIOR_A + "probability ( b | a, a ) { default 0.5, 0.5; }\n")
    assert error.line == 4 and "lists parent 'a' twice" in str(error)


def test_read_json_prefixes_the_file_for_cycles_too(tmp_path):
    data = {"format": "pgm-network", "version": 1, "name": "loop", "nodes": {
        "a": {"type": "categorical", "states": ["x", "y"], "parents": ["b"], "table": [[0.5, 0.5], [0.5, 0.5]]},
        "b": {"type": "categorical", "states": ["x", "y"], "parents": ["a"], "table": [[0.5, 0.5], [0.5, 0.5]]},
    }}
    with pytest.raises(CycleError) as info:
        read_json_text(tmp_path, data)
    assert str(info.value).startswith(f"{tmp_path / 'net.json'}: the graph has a directed cycle")
    assert info.value.cycle[0] == info.value.cycle[-1]


def test_read_json_prefixes_the_file_for_bad_node_names(tmp_path):
    data = pgm.io.network_to_dict(pgm.load("cancer"))
    data["nodes"][""] = data["nodes"].pop("Smoker")
    with pytest.raises(NodeError, match="net.json: "):
        read_json_text(tmp_path, data)


# ---------------------------------------------------------------- item 15: names the writer cannot write


@pytest.mark.parametrize("name", ["carriage\rreturn", "new\nline", 'quo"te', "nul\x00", "sep\u2028arator", "lone\ud800"])
def test_names_that_cannot_be_read_back_are_refused_by_the_bif_writer(tmp_path, name):
    net = BayesianNetwork({"a": Categorical(["ok", name], table=[0.5, 0.5])})
    with pytest.raises(CPDError, match="cannot be written to BIF"):
        net.write(tmp_path / "net.bif")
    assert os.listdir(tmp_path) == []
    net.write(tmp_path / "net.json")  # JSON escapes everything, so JSON holds the same network
    assert pgm.read(tmp_path / "net.json") == net


def test_names_with_spaces_tabs_and_punctuation_round_trip(tmp_path):
    names = ["a b", "tab\there", " lead", "x|y", "semi;colon", "{brace}", "//slashes", "/*star*/", "ünï", "0.5", "1e3"]
    cpds = {name: Bernoulli(0.25) for name in names}
    net = BayesianNetwork(cpds, name="odd names: \t {} ;")
    net.write(tmp_path / "odd.bif")
    again = pgm.read(tmp_path / "odd.bif")
    assert again == net and again.name == net.name


# ---------------------------------------------------------------- weak test: names really round-trip


@pytest.mark.parametrize("suffix", ["bif", "json"])
@pytest.mark.parametrize("name", ["asia", "alarm", "a network", "ünïcode név", "x/y-z.1"])
def test_the_network_name_round_trips(tmp_path, suffix, name):
    net = pgm.load("asia")
    net.name = name
    net.write(tmp_path / f"net.{suffix}")
    assert pgm.read(tmp_path / f"net.{suffix}").name == name


def test_a_name_that_is_not_a_string_is_not_written(tmp_path):
    net = pgm.load("cancer")
    net.name = None
    for suffix in ("bif", "json"):
        with pytest.raises(CPDError, match="name"):
            net.write(tmp_path / f"net.{suffix}")


def test_a_network_with_nan_parameters_is_never_written(tmp_path, monkeypatch):
    # Fitting at extreme scales could once produce NaN weights (item 3); whatever the source, the
    # writer refuses them rather than write a file that cannot be read back.
    from pgm.io import json_format

    real = json_format.network_to_dict

    def with_a_nan(network):
        data = real(network)
        data["nodes"]["aceB"]["intercept"] = float("nan")
        return data

    monkeypatch.setattr(json_format, "network_to_dict", with_a_nan)
    path = tmp_path / "nan.json"
    with pytest.raises(CPDError, match="node 'aceB' cannot be written: intercept is nan"):
        pgm.load("ecoli70").write(path)
    assert not path.exists()


# ---------------------------------------------------------------- item 17: safe writes


def test_overwriting_keeps_the_files_mode(tmp_path):
    path = tmp_path / "model.bif"
    path.write_text("old")
    os.chmod(path, 0o600)
    pgm.load("cancer").write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pgm.read(path).nodes == pgm.load("cancer").nodes


def test_writing_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real" / "model.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "current.json"
    link.symlink_to(target)
    pgm.load("cancer").write(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert pgm.read(target) == pgm.load("cancer")
    assert sorted(os.listdir(tmp_path)) == ["current.json", "real"] and os.listdir(target.parent) == ["model.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.bif"
    link.symlink_to(tmp_path / "made.bif")
    pgm.load("cancer").write(link)
    assert link.is_symlink() and (tmp_path / "made.bif").read_text().startswith("network cancer")


@pytest.mark.parametrize("make, expected, reason", [
    (lambda p: p.mkdir(), IsADirectoryError, "it is a directory"),
    (lambda p: None, FileNotFoundError, "does not exist"),
])
def test_write_errors_name_the_users_path_not_a_temporary_file(tmp_path, make, expected, reason):
    path = tmp_path / "out.bif" if expected is IsADirectoryError else tmp_path / "missing" / "out.bif"
    make(path)
    with pytest.raises(expected) as info:
        pgm.load("cancer").write(path)
    assert info.value.filename == str(path) and reason in str(info.value) and ".tmp" not in str(info.value)


def test_a_read_only_file_is_not_overwritten(tmp_path, monkeypatch):
    path = tmp_path / "frozen.bif"
    path.write_text("old")
    os.chmod(path, 0o444)
    if os.access(path, os.W_OK):
        # root may write anything: answer access() as an ordinary user would, from the mode bits
        real_access = os.access

        def as_a_user(target, mode, *args, **kwargs):
            if mode & os.W_OK and not os.stat(target).st_mode & stat.S_IWUSR:
                return False
            return real_access(target, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", as_a_user)
    with pytest.raises(PermissionError, match="read-only"):
        pgm.load("cancer").write(path)
    assert path.read_text() == "old"


def test_reading_a_directory_names_it(tmp_path):
    folder = tmp_path / "net.bif"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        pgm.read(folder)
    assert info.value.filename == str(folder) and "it is a directory" in str(info.value)


# ---------------------------------------------------------------- item 18: the fast reader agrees with the file


def test_a_large_written_network_reads_back_exactly(tmp_path):
    rng = np.random.default_rng(5)
    cpds, cards = {}, {}
    for i in range(30):
        k = int(rng.integers(2, 9))
        cards[f"v{i}"] = k
        parents = [f"v{j}" for j in rng.choice(i, size=min(i, 2), replace=False)] if i else []
        shape = tuple(cards[p] for p in parents) + (k,)
        table = rng.dirichlet(np.ones(k), size=int(np.prod(shape[:-1]))).reshape(shape)
        cpds[f"v{i}"] = Categorical([f"s{j}" for j in range(k)], parents=parents, table=table)
    net = BayesianNetwork(cpds, name="big")
    net.write(tmp_path / "big.bif")
    again = pgm.read(tmp_path / "big.bif")
    assert again == net and all(np.array_equal(again[v].table, net[v].table) for v in net.nodes)


def test_comments_and_odd_layout_between_numbers_are_read():
    net = parse_bif(
        "variable a { type discrete [ 3 ] { x, y, z }; }\n"
        "probability ( a ) { table 0.2 /* first */ , 0.3 // second\n , 0.5 ; }\n"
    )
    assert net["a"].table.tolist() == [0.2, 0.3, 0.5]
    net = parse_bif("variable a { type discrete [ 2 ] { x, y }; }\nprobability ( a ) { table 0.5 | 0.5 ; }")
    assert net["a"].table.tolist() == [0.5, 0.5]


def test_absurdly_long_integers_are_clean_errors(tmp_path):
    (tmp_path / "long.json").write_text('{"format": "pgm-network", "version": ' + "9" * 5000 + "}")
    with pytest.raises(ParseError, match="long.json:1:1: not valid JSON"):
        pgm.read(tmp_path / "long.json")
    error = parse_error("variable a { type discrete [ " + "9" * 5000 + " ] { x }; }")
    assert (error.line, error.column) == (1, 30) and "positive number of states" in str(error)
    assert len(str(error)) < 200  # the token is cut short in the message


def test_a_network_can_be_read_from_a_pipe(tmp_path):
    import threading

    fifo = tmp_path / "net.bif"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(pgm.datasets.path("asia").read_bytes()))
    writer.start()
    net = pgm.read(fifo)
    writer.join()
    assert net.nodes == pgm.load("asia").nodes
