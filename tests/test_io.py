"""Reading and writing networks: BIF (bnlearn's files), pgm's JSON, bnlearn's Gaussian JSON."""

import json
import os
import re

import numpy as np
import pytest

import pgm
from pgm.errors import CPDError, ParseError
from pgm.io import format_bif, parse_bif, read_bif, write_bif

BIF_NETWORKS = ["asia", "cancer", "earthquake", "survey", "sachs", "child", "insurance", "alarm"]


def declared_in_file(name):
    """Variables and their states straight from the file text, with a regular expression."""
    text = pgm.datasets.path(name).read_text()
    found = {}
    for match in re.finditer(r"variable (\S+) \{\s*type discrete \[ (\d+) \] \{ ([^}]*) \};", text):
        states = [s.strip() for s in match.group(3).split(",")]
        assert len(states) == int(match.group(2))
        found[match.group(1)] = states
    return found


@pytest.mark.parametrize("name", BIF_NETWORKS)
def test_every_bnlearn_bif_file_reads_with_the_declared_variables_and_states(name):
    net = pgm.load(name)
    declared = declared_in_file(name)
    assert list(net.nodes) == list(declared)
    for node, states in declared.items():
        assert list(net.states(node)) == states


@pytest.mark.parametrize("name", BIF_NETWORKS)
def test_write_then_read_is_exact(name, tmp_path):
    net = pgm.load(name)
    path = tmp_path / f"{name}.bif"
    net.write(path)
    again = pgm.read(path)
    assert again == net and again.name == name  # __eq__ ignores names: check the name on its own
    for node in net.nodes:
        assert np.array_equal(again[node].table, net[node].table)  # bit for bit


def test_tables_match_the_file_text():
    asia = pgm.load("asia")
    # probability ( dysp | bronc, either ) { (no, yes) 0.7, 0.3; ... }
    assert asia["dysp"].table[asia.states("bronc").index("no"), asia.states("either").index("yes")].tolist() == [0.7, 0.3]
    assert asia["asia"].table.tolist() == [0.01, 0.99]


def test_state_names_with_slashes_dashes_dots_and_comparisons():
    assert pgm.load("child").states("ChestXray")[-1] == "Asy/Patch"
    insurance = pgm.load("insurance")
    all_states = {s for n in insurance.nodes for s in insurance.states(n)}
    child = pgm.load("child")
    all_states |= {s for n in child.nodes for s in child.states(n)}
    for special in ["Asy/Patch", "0-3_days", "12+", "<5", ">=7.5", "Transp."]:
        assert special in all_states


def test_names_that_need_quotes_round_trip(tmp_path):
    net = pgm.BayesianNetwork(
        {
            "blood pressure": pgm.Categorical(["low (< 90)", "normal, ok", "high"], table=[0.2, 0.5, 0.3]),
            "x|y": pgm.Bernoulli([0.1, 0.2, 0.3], parents=["blood pressure"]),
        },
        name="quoted names",
    )
    path = tmp_path / "quoted.bif"
    write_bif(net, path)
    assert '"blood pressure"' in path.read_text()
    again = read_bif(path)
    assert again == net and again.name == "quoted names"


JAVABAYES = """
// Bayesian network in the interchange format, JavaBayes style
network "Dog-Problem" {
  property "credal-set constant-density-bounded 1.1" ;
}
variable "light-on" { type discrete[2] { "true" "false" }; property "position = (218, 195)" ; }
variable "family-out" { type discrete[2] { "true" "false" }; }
variable "dog-out" { type discrete[2] { "true" "false" }; }
variable "bowel-problem" { type discrete[2] { "true" "false" }; }
probability ( "light-on" "family-out" ) { table 0.6 0.05 0.4 0.95 ; }
probability ( "bowel-problem" ) { table 0.01 0.99 ; }
/* the child varies slowest in a table: P(dog-out | bowel-problem, family-out) */
probability ( "dog-out" "bowel-problem" "family-out" ) { table 0.99 0.97 0.9 0.3 0.01 0.03 0.1 0.7 ; }
probability ( "family-out" ) { table 0.15 0.85 ; }
"""


def test_javabayes_style_tables_list_the_child_state_slowest():
    net = parse_bif(JAVABAYES)
    assert net.name == "Dog-Problem"
    assert net.parents("dog-out") == ("bowel-problem", "family-out")
    # P(light-on=true | family-out=true) = 0.6, P(light-on=true | family-out=false) = 0.05
    np.testing.assert_array_equal(net["light-on"].table, [[0.6, 0.4], [0.05, 0.95]])
    # P(dog-out=true | bowel=true, family=false) = 0.97 (second value), its complement 0.03 (sixth)
    np.testing.assert_array_equal(net["dog-out"].table[0, 1], [0.97, 0.03])
    np.testing.assert_array_equal(net["dog-out"].table[1, 1], [0.3, 0.7])


def test_default_rows_fill_configurations_not_listed():
    net = parse_bif(
        """network x {}
        variable a { type discrete [ 3 ] { p, q, r }; }
        variable b { type discrete [ 2 ] { n, y }; }
        probability ( a ) { table 0.2, 0.3, 0.5; }
        probability ( b | a ) { default 0.5, 0.5; (q) 0.9, 0.1; }"""
    )
    np.testing.assert_array_equal(net["b"].table, [[0.5, 0.5], [0.9, 0.1], [0.5, 0.5]])


def syntax_error(text):
    with pytest.raises(ParseError) as info:
        parse_bif(text, source="net.bif")
    return info.value


def test_syntax_error_names_line_and_column():
    error = syntax_error("network x {\n}\nvariable a {\n  type discrete [ 2 ] { yes no ;\n}\n")
    assert (error.line, error.column) == (4, 32)
    assert str(error).startswith("net.bif:4:32:")


def test_a_bad_number_is_located():
    error = syntax_error(
        "variable a { type discrete [ 2 ] { yes, no }; }\nprobability ( a ) {\n  table 0.5, 0.5x;\n}\n"
    )
    assert (error.line, error.column) == (3, 14)
    assert "'0.5x' is not a number" in str(error)


def test_wrong_number_of_states_is_located():
    error = syntax_error("variable a {\n  type discrete [ 3 ] { yes, no };\n}")
    assert error.line == 2 and "declares 3 states but lists 2" in str(error)


def test_unknown_parent_state_in_a_row_is_located():
    error = syntax_error(
        "variable a { type discrete [ 2 ] { yes, no }; }\n"
        "variable b { type discrete [ 2 ] { yes, no }; }\n"
        "probability ( a ) { table 0.5, 0.5; }\n"
        "probability ( b | a ) {\n  (yes) 0.5, 0.5;\n  (maybe) 0.5, 0.5;\n}\n"
    )
    assert (error.line, error.column) == (6, 3)
    assert "'maybe' is not a state of 'a'" in str(error)


def test_rows_that_do_not_sum_to_one_are_located_at_their_block():
    error = syntax_error(
        "variable a { type discrete [ 2 ] { yes, no }; }\n\nprobability ( a ) {\n  table 0.5, 0.6;\n}\n"
    )
    assert error.line == 3 and "sums to 1.1" in str(error)


def test_missing_rows_undeclared_variables_and_unclosed_blocks():
    assert "has no row for a=no" in str(syntax_error(
        "variable a { type discrete [ 2 ] { yes, no }; }\nvariable b { type discrete [ 2 ] { yes, no }; }\n"
        "probability ( a ) { table 0.5, 0.5; }\nprobability ( b | a ) { (yes) 0.5, 0.5; }\n"))
    assert "undeclared variable 'c'" in str(syntax_error(
        "variable a { type discrete [ 2 ] { yes, no }; }\nprobability ( a | c ) { table 0.5, 0.5; }\n"))
    assert "not closed" in str(syntax_error("variable a { type discrete [ 2 ] { yes, no }; }\nprobability ( a ) { table 0.5, 0.5;"))
    assert "has no probability block" in str(syntax_error("variable a { type discrete [ 2 ] { yes, no }; }"))
    assert "unterminated /* comment" in str(syntax_error("/* never closed"))


def test_nothing_is_evaluated():
    error = syntax_error("variable a { type discrete [ 2 ] { yes, no }; }\nprobability ( a ) { table __import__('os'), 1; }")
    assert "is not a number" in str(error)


def test_continuous_networks_cannot_be_written_as_bif():
    with pytest.raises(CPDError, match="node 'x' is continuous; BIF holds discrete networks only"):
        format_bif(pgm.BayesianNetwork({"x": pgm.Gaussian(0, 1)}))


def test_writes_are_atomic_and_replace_existing_files(tmp_path):
    path = tmp_path / "net.bif"
    path.write_text("old contents")
    pgm.load("cancer").write(path)
    assert path.read_text().startswith("network cancer {")
    assert os.listdir(tmp_path) == ["net.bif"]  # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "net.bif"
    path.write_text("old contents")
    with pytest.raises(CPDError):
        pgm.BayesianNetwork({"x": pgm.Gaussian(0, 1)}).write(path)
    assert path.read_text() == "old contents"
    assert os.listdir(tmp_path) == ["net.bif"]


def test_unknown_extension_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="unknown network format 'xml'"):
        pgm.load("asia").write(tmp_path / "asia.xml")


# ---------------------------------------------------------------- JSON


def test_json_round_trip_of_a_discrete_network_is_exact(tmp_path):
    net = pgm.load("alarm")
    net.write(tmp_path / "alarm.json")
    again = pgm.read(tmp_path / "alarm.json")
    assert again == net and again.name == "alarm"


def test_json_schema_is_the_documented_one(tmp_path):
    pgm.load("cancer").write(tmp_path / "cancer.json")
    data = json.loads((tmp_path / "cancer.json").read_text())
    assert data["format"] == "pgm-network" and data["version"] == 1 and data["name"] == "cancer"
    smoker = data["nodes"]["Smoker"]
    assert smoker == {"type": "categorical", "states": ["True", "False"], "parents": [], "table": [0.3, 0.7]}


def test_json_with_an_unknown_version_or_type(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"format": "pgm-network", "version": 99, "nodes": {}}))
    with pytest.raises(pgm.errors.DataError, match="unsupported pgm network version 99"):
        pgm.read(path)
    path.write_text(json.dumps({"format": "pgm-network", "version": 1, "nodes": {"a": {"type": "poisson"}}}))
    with pytest.raises(CPDError, match="unknown CPD type 'poisson'"):
        pgm.read(path)


def test_json_syntax_error_is_located(tmp_path):
    path = tmp_path / "net.json"
    path.write_text('{\n  "format": "pgm-network",\n  "version": 1,\n  oops\n}')
    with pytest.raises(ParseError) as info:
        pgm.read(path)
    assert info.value.line == 4


def test_bnlearn_gaussian_json_reads_coefficients_and_variances():
    raw = json.loads(pgm.datasets.path("ecoli70").read_text())
    net = pgm.load("ecoli70")
    assert set(net.edges) == {tuple(arc) for arc in raw["arcs"]}
    for node, spec in raw["cpds"].items():
        cpd = net[node]
        assert float(cpd.intercept) == spec["coefficients"]["(Intercept)"][0]
        assert float(cpd.variance) == spec["variance"][0]
        for parent, weight in zip(cpd.continuous_parents, cpd.weights):
            assert weight == spec["coefficients"][parent][0]


def test_default_fills_only_rows_not_given_whatever_the_order():
    net = parse_bif(
        """variable a { type discrete [ 3 ] { p, q, r }; }
        variable b { type discrete [ 2 ] { n, y }; }
        probability ( a ) { table 0.2, 0.3, 0.5; }
        probability ( b | a ) { (q) 0.9, 0.1; default 0.5, 0.5; (r) 0.3, 0.7; }"""
    )
    np.testing.assert_array_equal(net["b"].table, [[0.5, 0.5], [0.9, 0.1], [0.3, 0.7]])


def test_a_row_given_twice_is_an_error():
    error = syntax_error(
        "variable a { type discrete [ 2 ] { x, y }; }\nvariable b { type discrete [ 2 ] { n, m }; }\n"
        "probability ( a ) { table 0.5, 0.5; }\nprobability ( b | a ) {\n  (x) 0.1, 0.9;\n  (x) 0.2, 0.8;\n  (y) 0.5, 0.5;\n}"
    )
    assert (error.line, error.column) == (6, 3) and "gives the row ('x',) twice" in str(error)


def test_a_variable_with_no_states_is_refused_at_its_declaration():
    error = syntax_error("variable a {\n  type discrete [ 0 ] { };\n}")
    assert error.line == 2 and "positive number of states" in str(error)


def test_malformed_json_names_the_file_and_node(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"format": "pgm-network", "version": 1, "nodes": {"a": [1, 2]}}))
    with pytest.raises(CPDError, match=r"net.json: node 'a': a CPD must be a JSON object"):
        pgm.read(path)


def test_read_json_name_overrides_the_stored_name(tmp_path):
    pgm.load("cancer").write(tmp_path / "c.json")
    assert pgm.io.read_json(tmp_path / "c.json", name="custom").name == "custom"
    assert pgm.io.read_json(tmp_path / "c.json").name == "cancer"


def test_written_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    pgm.load("cancer").write(tmp_path / "c.bif")
    assert (tmp_path / "c.bif").stat().st_mode & 0o777 == 0o666 & ~umask
