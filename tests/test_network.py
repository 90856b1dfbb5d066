"""Declaring networks: the three ways to build one, validation errors, factorisation."""

import networkx as nx
import numpy as np
import pytest

import pgm
from pgm import BayesianNetwork, Bernoulli, Categorical, Gaussian, LinearGaussian
from pgm.errors import CPDError, CycleError, NodeError, StructureError


def sprinkler_cpds():
    return {
        "cloudy": Categorical(["no", "yes"], table=[0.5, 0.5]),
        "rain": Categorical(["no", "yes"], parents=["cloudy"], table=[[0.8, 0.2], [0.2, 0.8]]),
        "sprinkler": Categorical(["off", "on"], parents=["cloudy"], table=[[0.5, 0.5], [0.9, 0.1]]),
        "wet": Categorical(
            ["dry", "wet"],
            parents=["sprinkler", "rain"],
            table=[[[1.0, 0.0], [0.1, 0.9]], [[0.1, 0.9], [0.01, 0.99]]],
        ),
    }


# ---------------------------------------------------------------- three ways to declare


def test_node_by_node_and_from_dict_give_equal_networks():
    cpds = sprinkler_cpds()
    by_node = BayesianNetwork()
    for node, cpd in cpds.items():
        by_node.add(node, cpd)
    assert by_node == BayesianNetwork(cpds)


def test_dict_order_is_free_and_node_order_is_kept():
    cpds = sprinkler_cpds()
    reversed_cpds = dict(reversed(list(cpds.items())))
    net = BayesianNetwork(reversed_cpds)
    assert net.nodes == ("wet", "sprinkler", "rain", "cloudy")
    assert net.topological_order()[0] == "cloudy"


def test_from_edges_takes_parent_order_from_the_edges():
    net = BayesianNetwork.from_edges(
        [("b", "c"), ("a", "c")],
        {
            "a": Bernoulli(0.5),
            "b": Bernoulli(0.5),
            # axes: b first (listed first in the edges), then a
            "c": Categorical(["x", "y"], table=[[[1, 0], [0.5, 0.5]], [[0.2, 0.8], [0, 1]]]),
        },
    )
    assert net.parents("c") == ("b", "a")
    assert net["c"].table[1, 0].tolist() == [0.2, 0.8]  # b=true, a=false


def test_from_edges_rejects_cpd_parents_that_disagree_with_the_edges():
    with pytest.raises(CPDError, match=r"'c' declares parents \['a'\] but the edges give \['b'\]"):
        BayesianNetwork.from_edges(
            [("b", "c")],
            {"a": Bernoulli(0.5), "b": Bernoulli(0.5), "c": Bernoulli([0.1, 0.2], parents=["a"])},
        )


def test_from_edges_needs_a_cpd_for_every_node():
    with pytest.raises(CPDError, match="no CPD was given for node 'b'"):
        BayesianNetwork.from_edges([("a", "b")], {"a": Bernoulli(0.5)})


def test_from_networkx_reads_cpd_attributes():
    graph = nx.DiGraph()
    graph.add_node("a", cpd=Bernoulli(0.3))
    graph.add_node("b", cpd=Bernoulli([0.1, 0.9]))
    graph.add_edge("a", "b")
    net = BayesianNetwork.from_networkx(graph)
    assert net.parents("b") == ("a",)
    assert net["a"].table.tolist() == [0.7, 0.3]


def test_from_networkx_with_a_cpd_mapping_and_round_trip_to_networkx():
    net = pgm.load("asia")
    graph = net.to_networkx()
    rebuilt = BayesianNetwork.from_networkx(graph, {n: net[n] for n in net.nodes})
    assert rebuilt == net
    assert set(graph.edges) == set(net.edges)


def test_dict_tables_read_like_the_textbook():
    net = BayesianNetwork()
    net.add("season", Categorical(["dry", "wet"], table=[0.6, 0.4]))
    net.add("cloudy", Bernoulli(0.5, states=["no", "yes"]))
    net.add(
        "rain",
        Categorical(
            ["no", "yes"],
            parents=["season", "cloudy"],
            table={
                ("dry", "no"): [0.95, 0.05],
                ("dry", "yes"): [0.7, 0.3],
                ("wet", "no"): [0.6, 0.4],
                ("wet", "yes"): [0.1, 0.9],
            },
        ),
    )
    assert net["rain"].table[1, 0].tolist() == [0.6, 0.4]
    assert net["rain"].table.shape == (2, 2, 2)


def test_flat_table_of_configurations_is_accepted():
    flat = [[0.95, 0.05], [0.7, 0.3], [0.6, 0.4], [0.1, 0.9]]
    net = BayesianNetwork(
        {
            "a": Bernoulli(0.5),
            "b": Bernoulli(0.5),
            "c": Categorical(["n", "y"], parents=["a", "b"], table=flat),
        }
    )
    np.testing.assert_array_equal(net["c"].table.reshape(4, 2), flat)


def test_bernoulli_with_parents_gives_the_probability_of_the_second_state():
    net = BayesianNetwork({"a": Bernoulli(0.25), "b": Bernoulli([0.1, 0.6], parents=["a"], states=["lo", "hi"])})
    np.testing.assert_allclose(net["b"].table, [[0.9, 0.1], [0.4, 0.6]])
    assert net.states("b") == ("lo", "hi")


def test_a_thousand_node_network_builds_quickly_node_by_node():
    rng = np.random.default_rng(0)
    net = BayesianNetwork()
    for i in range(1000):
        parents = [f"x{j}" for j in sorted(rng.choice(i, size=min(i, 2), replace=False))] if i else []
        table = rng.dirichlet(np.ones(3), size=3 ** len(parents)).reshape((3,) * len(parents) + (3,))
        net.add(f"x{i}", Categorical(["a", "b", "c"], parents=parents, table=table))
    assert len(net) == 1000
    assert net.n_free_parameters == sum(net[n].table.size // 3 * 2 for n in net.nodes)


# ---------------------------------------------------------------- validation


def test_cycle_names_the_nodes_on_it():
    cpds = {
        "a": Bernoulli([0.1, 0.2], parents=["c"]),
        "b": Bernoulli([0.1, 0.2], parents=["a"]),
        "c": Bernoulli([0.1, 0.2], parents=["b"]),
        "d": Bernoulli(0.5),
    }
    with pytest.raises(CycleError) as info:
        BayesianNetwork(cpds)
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    for parent, child in zip(cycle, cycle[1:]):
        assert parent in cpds[child].parents  # each step is a real edge
    assert " -> ".join(cycle) in str(info.value)


def test_add_requires_parents_first():
    net = BayesianNetwork()
    with pytest.raises(NodeError, match="parent 'cloudy' of 'rain' is not in the network; add it first"):
        net.add("rain", Bernoulli([0.2, 0.8], parents=["cloudy"]))


def test_missing_parent_in_bulk_construction():
    with pytest.raises(NodeError, match="parent 'ghost' of node 'a' is not a node"):
        BayesianNetwork({"a": Bernoulli([0.1, 0.2], parents=["ghost"])})


def test_duplicate_node_is_refused():
    net = BayesianNetwork({"a": Bernoulli(0.5)})
    with pytest.raises(NodeError, match="node 'a' is already in the network"):
        net.add("a", Bernoulli(0.1))


def test_duplicate_state_names_are_refused():
    with pytest.raises(CPDError, match="states contain 'yes' more than once"):
        Categorical(["yes", "no", "yes"], table=[0.2, 0.3, 0.5])


def test_duplicate_parent_names_are_refused():
    with pytest.raises(CPDError, match="parents contain 'a' more than once"):
        Categorical(["x", "y"], parents=["a", "a"], table=[[0.5, 0.5]] * 4)


def test_states_are_strings_integers_or_booleans_of_one_kind():
    for bad in ([0.5, 1.5], ["", "a"], [None, "a"]):
        with pytest.raises(CPDError, match="states must be non-empty strings, integers or booleans"):
            Categorical(bad, table=[0.5, 0.5])
    with pytest.raises(CPDError, match="mix"):
        Categorical([0, "1"], table=[0.5, 0.5])
    with pytest.raises(CPDError, match="mix"):
        Categorical([True, 0], table=[0.5, 0.5])
    with pytest.raises(CPDError, match="more than once"):
        Categorical([1, 1], table=[0.5, 0.5])
    assert Categorical([np.int64(3), 4], table=[0.5, 0.5]).states == (3, 4)
    assert type(Categorical([np.True_, False], table=[0.5, 0.5]).states[0]) is bool


def test_table_shape_mismatch_names_the_node_and_the_expected_shape():
    with pytest.raises(CPDError, match=r"table of 'rain' has shape \(3, 2\).*cloudy \(2 states\).*must have shape \(2, 2\)"):
        BayesianNetwork(
            {
                "cloudy": Bernoulli(0.5),
                "rain": Categorical(["no", "yes"], parents=["cloudy"], table=[[0.5, 0.5]] * 3),
            }
        )


def test_row_that_does_not_sum_to_one_names_the_parent_configuration():
    with pytest.raises(CPDError, match=r"row cloudy=yes, season=wet of the table of 'rain' sums to 1\.1"):
        BayesianNetwork(
            {
                "cloudy": Categorical(["no", "yes"], table=[0.5, 0.5]),
                "season": Categorical(["dry", "wet"], table=[0.5, 0.5]),
                "rain": Categorical(
                    ["no", "yes"],
                    parents=["cloudy", "season"],
                    table=[[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.6, 0.5]]],
                ),
            }
        )


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_negative_or_nan_probabilities_are_named(bad):
    with pytest.raises(CPDError, match=r"table of 'a' has probability .* for state 'x' at \(no parents\)"):
        BayesianNetwork({"a": Categorical(["x", "y"], table=[bad, 1.0 - bad if np.isfinite(bad) else 0.5])})


def test_dict_table_must_cover_every_configuration():
    with pytest.raises(CPDError, match="has no row for parent configuration a=true"):
        BayesianNetwork({"a": Bernoulli(0.5), "b": Categorical(["x", "y"], parents=["a"], table={"false": [0.5, 0.5]})})


def test_dict_table_with_an_unknown_parent_state():
    with pytest.raises(CPDError, match="'maybe' is not a state of parent 'a'"):
        BayesianNetwork({"a": Bernoulli(0.5), "b": Categorical(["x", "y"], parents=["a"], table={"maybe": [0.5, 0.5]})})


def test_discrete_child_of_continuous_parent_is_refused_with_what_is_supported():
    with pytest.raises(StructureError, match="'label' is discrete but its parent 'x' is continuous.*supports"):
        BayesianNetwork({"x": Gaussian(0, 1), "label": Bernoulli([0.5, 0.5], parents=["x"])})


def test_node_names_must_be_non_empty_strings():
    with pytest.raises(NodeError, match="non-empty strings"):
        BayesianNetwork().add("", Bernoulli(0.5))


def test_unknown_node_lookup_suggests_close_names():
    net = pgm.load("asia")
    with pytest.raises(NodeError, match="'smokes' is not a node of the graph; did you mean 'smoke'"):
        net["smokes"]


def test_bound_tables_are_read_only():
    net = pgm.load("cancer")
    with pytest.raises(ValueError):
        net["Cancer"].table[0, 0, 0] = 0.5


# ---------------------------------------------------------------- factorisation


def test_factorization_text_follows_topological_order_and_parent_order():
    net = BayesianNetwork(
        {
            "c": Categorical(["0", "1"], parents=["a", "b"], table=np.full((2, 2, 2), 0.5)),
            "b": Bernoulli([0.3, 0.6], parents=["a"]),
            "a": Bernoulli(0.5),
        }
    )
    assert str(net.factorization()) == "p(a, b, c) = p(a) p(b | a) p(c | a, b)"


def test_factorization_latex_and_jupyter_repr():
    f = pgm.load("cancer").factorization()
    assert f.latex().startswith(r"p(\mathrm{Pollution}, \mathrm{Smoker}")
    assert r"p(\mathrm{Cancer} \mid \mathrm{Pollution}, \mathrm{Smoker})" in f.latex()
    assert f._repr_latex_() == f"${f.latex()}$"


def test_factorization_counts_parameters_against_the_full_joint():
    alarm = pgm.load("alarm")
    f = alarm.factorization()
    cards = [len(alarm.states(n)) for n in alarm.nodes]
    assert f.n_parameters == sum(alarm[n].table.size // len(alarm.states(n)) * (len(alarm.states(n)) - 1) for n in alarm.nodes)
    assert f.n_parameters == 509  # the published count for alarm
    assert f.n_joint_parameters == int(np.prod(cards, dtype=object)) - 1
    assert "509 free parameters" in f.parameter_summary()


def test_factorization_describes_continuous_nodes_as_normals():
    net = BayesianNetwork(
        {"x": Gaussian(1.0, 4.0), "y": LinearGaussian(parents=["x"], intercept=0.5, weights={"x": -2.0}, variance=0.25)}
    )
    text = net.factorization().describe()
    lines = [line.split() for line in text.splitlines()]
    assert ["p(x)", "N(1,", "4)"] in lines
    assert ["p(y", "|", "x)", "N(0.5", "-", "2", "x,", "0.25)"] in lines
    assert r"\mathcal{N}" in net.factorization().describe_latex()
    # full joint of two Gaussians: 2 means + 3 covariance entries
    assert net.factorization().n_joint_parameters == 5


def test_with_cpd_replaces_one_node_and_revalidates():
    net = pgm.load("cancer")
    changed = net.with_cpd("Smoker", Categorical(["True", "False"], table=[0.5, 0.5]))
    assert changed["Smoker"].table.tolist() == [0.5, 0.5]
    assert net["Smoker"].table.tolist() == [0.3, 0.7]
    with pytest.raises(CPDError):
        net.with_cpd("Smoker", Categorical(["True", "False", "Maybe"], table=[0.2, 0.3, 0.5]))


# ---------------------------------------------------------------- review fixes


def test_unbound_categoricals_compare_their_tables():
    assert Categorical(["a", "b"], table=[0.3, 0.7]) == Categorical(["a", "b"], table=[0.3, 0.7])
    assert Categorical(["a", "b"], table=[0.3, 0.7]) != Categorical(["a", "b"], table=[0.9, 0.1])


def test_an_unbound_cpd_says_it_must_be_added_first():
    with pytest.raises(CPDError, match="not attached to a node yet; add it to a BayesianNetwork before calling table"):
        Categorical(["a", "b"], table=[0.3, 0.7]).table
    with pytest.raises(CPDError, match="before calling describe"):
        Categorical(["a", "b"], table=[0.3, 0.7]).describe()


def test_dict_table_giving_a_row_twice_is_refused():
    with pytest.raises(CPDError, match=r"gives the row \('true',\) twice"):
        BayesianNetwork({"a": Bernoulli(0.5), "b": Categorical(
            ["x", "y"], parents=["a"], table={"true": [0.5, 0.5], ("true",): [0.1, 0.9], "false": [1, 0]})})


def test_dict_table_with_nan_names_the_bad_probability_not_a_missing_row():
    with pytest.raises(CPDError, match=r"has probability nan for state 'x' at a=false"):
        BayesianNetwork({"a": Bernoulli(0.5), "b": Categorical(
            ["x", "y"], parents=["a"], table={"false": [float("nan"), 1.0], "true": [0.5, 0.5]})})


def test_a_root_node_with_a_dict_table_is_told_to_use_a_list():
    with pytest.raises(CPDError, match="a node without parents takes its probabilities as a list"):
        BayesianNetwork({"a": Categorical(["x", "y"], table={"x": 0.3, "y": 0.7})})


def test_to_frame_labels_rows_by_parent_states():
    frame = pgm.load("asia")["either"].to_frame()
    assert frame.index.names == ["lung", "tub"] and list(frame.columns) == ["yes", "no"]
    assert frame.loc[("no", "no"), "no"] == 1.0


def test_with_cpd_rebinds_the_children_of_the_replaced_node():
    asia = pgm.load("asia")
    changed = asia.with_cpd("smoke", Categorical(["yes", "no"], table=[0.2, 0.8]))
    assert changed["lung"] == asia["lung"] and changed["smoke"].table.tolist() == [0.2, 0.8]
    with pytest.raises(CPDError, match="table of 'lung' has shape"):
        asia.with_cpd("smoke", Categorical(["yes", "no", "sometimes"], table=[0.2, 0.3, 0.5]))


def test_states_of_a_continuous_node_is_a_structure_error():
    with pytest.raises(StructureError, match="'x' is continuous and has no states"):
        BayesianNetwork({"x": Gaussian(0, 1)}).states("x")


def test_network_exposes_the_skeleton():
    # cancer.bif: Pollution -> Cancer <- Smoker, Cancer -> Xray, Cancer -> Dyspnoea (from the file)
    expected = {frozenset(pair) for pair in [("Pollution", "Cancer"), ("Smoker", "Cancer"),
                                             ("Cancer", "Xray"), ("Cancer", "Dyspnoea")]}
    assert pgm.load("cancer").skeleton() == expected
    assert pgm.load("asia").skeleton() == {frozenset(edge) for edge in pgm.load("asia").edges} != set()


def test_scores_of_no_rows_are_errors_not_nan():
    net = pgm.load("cancer")
    with pytest.raises(pgm.errors.DataError, match="at least one row"):
        net.score(net.sample(0))
    with pytest.raises(pgm.errors.DataError, match="at least one row"):
        net.bits_per_variable(net.sample(0))


def test_an_empty_network_samples_rows_without_columns():
    assert BayesianNetwork().sample(3).shape == (3, 0)


def test_parents_given_as_one_string_are_refused():
    with pytest.raises(NodeError, match="must be a sequence of names, not the string 'ab'"):
        pgm.DAG({"a": [], "b": [], "c": "ab"})


def test_latex_escapes_special_characters_in_node_names():
    from pgm.graph import _latex_name

    assert _latex_name("a_b") == r"\mathrm{a\_b}"
    assert _latex_name("x^2") == r"\mathrm{x\hat{}2}"
    assert _latex_name("a\\b") == r"\mathrm{a\backslash{}b}"
    assert _latex_name("x") == "x"
