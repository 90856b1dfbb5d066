"""Tests of ``pgm.graph``: DAG structure queries, d-separation, and error messages.

Every expected value here comes from somewhere other than the code under test:

* small teaching graphs and the "asia" network, with answers derived by hand;
* networkx (``is_d_separator``, ``ancestors``, ``moral_graph``, ...) on random
  DAGs, with the networkx graph built from the edge list, not from pgm;
* an independent checker of active trails and a brute-force enumeration of
  all simple trails on small graphs (the textbook definition of d-separation).
"""

from __future__ import annotations

import itertools
import re

import networkx as nx
import numpy as np
import pytest

import pgm
from pgm import DAG, BayesianNetwork, Categorical, Independence
from pgm.errors import CycleError, NodeError

# ============================================================================ helpers


def nx_digraph(nodes, edges) -> nx.DiGraph:
    """A networkx graph built straight from the edge list (independent of pgm)."""
    g = nx.DiGraph()
    g.add_nodes_from(nodes)
    g.add_edges_from(edges)
    return g


def as_set(nodes) -> set:
    return {nodes} if isinstance(nodes, str) else set(nodes)


def trail_problems(trail, g: nx.DiGraph, x, y, z) -> list[str]:
    """Why ``trail`` is not an active trail from ``x`` to ``y`` given ``z`` in ``g`` (empty if it is).

    Written from the definition, without pgm: consecutive nodes adjacent, no
    repeats, endpoints and non-colliders unobserved, every collider observed or
    with an observed descendant.
    """
    x, y, z = as_set(x), as_set(y), as_set(z)
    problems = []
    if not isinstance(trail, list) or not trail:
        return [f"not a non-empty list: {trail!r}"]
    if trail[0] not in x:
        problems.append(f"starts at {trail[0]!r}, not in x={sorted(x)}")
    if trail[-1] not in y:
        problems.append(f"ends at {trail[-1]!r}, not in y={sorted(y)}")
    if len(set(trail)) != len(trail):
        problems.append("repeats a node")
    for a, b in itertools.pairwise(trail):
        if not (g.has_edge(a, b) or g.has_edge(b, a)):
            problems.append(f"{a!r} and {b!r} are not adjacent")
    if problems:
        return problems
    for end in (trail[0], trail[-1]):
        if end in z:
            problems.append(f"endpoint {end!r} is observed")
    for a, b, c in zip(trail, trail[1:], trail[2:]):
        if g.has_edge(a, b) and g.has_edge(c, b):  # a -> b <- c
            if b not in z and not (nx.descendants(g, b) & z):
                problems.append(f"collider {b!r} is neither observed nor has an observed descendant")
        elif b in z:
            problems.append(f"non-collider {b!r} is observed")
    return problems


def assert_active_trail(trail, g, x, y, z):
    problems = trail_problems(trail, g, x, y, z)
    assert not problems, f"trail {trail} is not active from {x} to {y} given {z}: {problems}"


def brute_force_active_trails(g: nx.DiGraph, x, y, z) -> list[list]:
    """Every simple trail from ``x`` to ``y`` that is active given ``z`` (small graphs only)."""
    undirected = g.to_undirected(as_view=True)
    found = []
    for a in as_set(x):
        for b in as_set(y):
            for path in nx.all_simple_paths(undirected, a, b):
                if not trail_problems(path, g, x, y, z):
                    found.append(path)
    return found


def random_parents(rng: np.random.Generator, n: int, density: float) -> dict[str, list[str]]:
    """A random DAG as ``{node: [parents...]}``.

    The hidden topological order, the declaration order and each parent list's
    order are all independent random permutations, so nothing is handed to pgm
    pre-sorted.
    """
    names = [f"n{k}" for k in range(n)]
    topo = [names[k] for k in rng.permutation(n)]
    parents = {v: [] for v in topo}
    for i, j in itertools.combinations(range(n), 2):
        if rng.random() < density:
            parents[topo[j]].append(topo[i])
    declared = [names[k] for k in rng.permutation(n)]
    return {v: [parents[v][k] for k in rng.permutation(len(parents[v]))] for v in declared}


def edges_of(parents: dict) -> list[tuple[str, str]]:
    return [(p, c) for c, ps in parents.items() for p in ps]


def as_random_collection(rng, nodes: list[str]):
    """The same node set in one of the input forms the API accepts."""
    form = rng.integers(5)
    if form == 0 and len(nodes) == 1:
        return nodes[0]
    return [list, tuple, set, frozenset, list][form](nodes)


def random_query(rng, nodes, max_size=3):
    """Disjoint (X, Y, Z) with |X|, |Y| in 1..3 and |Z| in 0..3 (limited by the graph size)."""
    n = len(nodes)
    order = [nodes[k] for k in rng.permutation(n)]
    kx = min(int(rng.integers(1, max_size + 1)), n - 1)
    ky = min(int(rng.integers(1, max_size + 1)), n - kx)
    kz = min(int(rng.integers(0, max_size + 1)), n - kx - ky)
    return order[:kx], order[kx:kx + ky], order[kx + ky:kx + ky + kz]


DENSITIES = (0.02, 0.05, 0.1, 0.2, 0.35, 0.6)


def random_case(seed: int, min_nodes=2, max_nodes=60):
    rng = np.random.default_rng([20240611, seed])
    n = int(rng.integers(min_nodes, max_nodes + 1))
    density = float(DENSITIES[seed % len(DENSITIES)])
    # scale the density down on bigger graphs now and then, so sparse large graphs appear too
    if rng.random() < 0.3:
        density = min(density, 3.0 / n)
    parents = random_parents(rng, n, density)
    return rng, parents


def first_ready_order(parents: dict) -> list[str]:
    """Reference topological order: repeatedly take the earliest-declared node whose parents are placed."""
    placed, order = set(), []
    nodes = list(parents)
    while len(order) < len(nodes):
        nxt = next(v for v in nodes if v not in placed and all(p in placed for p in parents[v]))
        placed.add(nxt)
        order.append(nxt)
    return order


# ============================================================================ teaching graphs

CHAIN = [("a", "b"), ("b", "c")]  # a -> b -> c
FORK = [("b", "a"), ("b", "c")]  # a <- b -> c
COLLIDER = [("a", "c"), ("b", "c")]  # a -> c <- b
COLLIDER_WITH_CHILD = [("a", "c"), ("b", "c"), ("c", "d")]  # a -> c <- b, c -> d

ASIA_EDGES = [
    ("asia", "tub"), ("smoke", "lung"), ("smoke", "bronc"), ("tub", "either"),
    ("lung", "either"), ("either", "xray"), ("bronc", "dysp"), ("either", "dysp"),
]
ASIA_NODES = ("asia", "tub", "smoke", "lung", "bronc", "either", "xray", "dysp")  # as asia.bif declares them


@pytest.fixture(scope="module")
def asia_net():
    return pgm.load("asia")


@pytest.fixture(scope="module")
def asia(asia_net):
    return asia_net.dag


@pytest.fixture
def chain():
    return DAG.from_edges(CHAIN)


@pytest.fixture
def fork():
    return DAG.from_edges(FORK)


@pytest.fixture
def collider():
    return DAG.from_edges(COLLIDER)


@pytest.fixture
def collider_with_child():
    return DAG.from_edges(COLLIDER_WITH_CHILD)


class TestStructureOfTeachingGraphs:
    def test_chain_parents_children_ancestors_descendants(self, chain):
        assert chain.nodes == ("a", "b", "c")
        assert chain.parents("a") == ()
        assert chain.parents("b") == ("a",)
        assert chain.children("b") == ("c",)
        assert chain.children("c") == ()
        assert chain.ancestors("c") == {"a", "b"}
        assert chain.ancestors("a") == set()
        assert chain.descendants("a") == {"b", "c"}
        assert chain.descendants("c") == set()

    def test_fork_has_one_common_parent(self, fork):
        assert fork.nodes == ("b", "a", "c")
        assert fork.children("b") == ("a", "c")
        assert fork.parents("a") == fork.parents("c") == ("b",)
        assert fork.descendants("b") == {"a", "c"}
        assert fork.ancestors("c") == {"b"}

    def test_collider_child_has_both_parents_in_edge_order(self, collider):
        assert collider.parents("c") == ("a", "b")
        assert DAG.from_edges([("b", "c"), ("a", "c")]).parents("c") == ("b", "a")
        assert collider.ancestors("c") == {"a", "b"}

    def test_parent_order_is_preserved_as_declared_not_sorted(self):
        dag = DAG({"z": [], "a": [], "m": [], "child": ["z", "m", "a"]})
        assert dag.parents("child") == ("z", "m", "a")
        assert dag.edges == [("z", "child"), ("m", "child"), ("a", "child")]

    def test_children_come_in_node_declaration_order(self):
        dag = DAG({"p": [], "y": ["p"], "x": ["p"], "w": ["p"]})
        assert dag.children("p") == ("y", "x", "w")

    def test_ancestors_and_descendants_of_a_set_exclude_the_set_itself(self, collider_with_child):
        assert collider_with_child.ancestors({"a", "d"}) == {"b", "c"}
        assert collider_with_child.descendants(["a", "c"]) == {"d"}
        assert collider_with_child.descendants(("a", "b")) == {"c", "d"}

    def test_isolated_nodes_can_be_declared_with_from_edges(self):
        dag = DAG.from_edges([("a", "b")], nodes=["lonely", "a"])
        assert dag.nodes == ("lonely", "a", "b")
        assert dag.parents("lonely") == dag.children("lonely") == ()
        assert len(dag) == 3 and "lonely" in dag and "nobody" not in dag

    def test_to_networkx_has_exactly_the_declared_nodes_and_edges(self, collider_with_child):
        g = collider_with_child.to_networkx()
        assert list(g.nodes) == ["a", "c", "b", "d"]
        assert set(g.edges) == set(COLLIDER_WITH_CHILD)

    @pytest.mark.parametrize(
        ("edges", "expected"),
        [
            (CHAIN, ("a", "b", "c")),
            (FORK, ("b", "a", "c")),
            # declared a, c, b: c must wait for b, so b overtakes it
            (COLLIDER, ("a", "b", "c")),
        ],
        ids=["chain", "fork", "collider"],
    )
    def test_topological_order_of_teaching_graphs(self, edges, expected):
        assert DAG.from_edges(edges).topological_order() == expected

    def test_from_edges_declares_nodes_in_order_of_first_appearance(self, collider):
        assert collider.nodes == ("a", "c", "b")

    def test_topological_order_keeps_declaration_order_when_already_sorted(self):
        dag = DAG({"q": [], "b": [], "a": ["q"], "z": ["b", "a"], "c": []})
        assert dag.topological_order() == ("q", "b", "a", "z", "c")

    def test_topological_order_breaks_ties_by_declaration_order(self):
        # declared: c (needs a), a, b. Ready first: a, b -> take a (earlier); then c (declared
        # before b) becomes ready and is earlier than b.
        dag = DAG({"c": ["a"], "a": [], "b": []})
        assert dag.topological_order() == ("a", "c", "b")
        dag = DAG({"d": ["c"], "c": ["b"], "b": ["a"], "a": [], "e": []})
        assert dag.topological_order() == ("a", "b", "c", "d", "e")

    def test_markov_blankets(self, chain, collider_with_child):
        assert chain.markov_blanket("b") == {"a", "c"}
        assert chain.markov_blanket("a") == {"b"}
        # a's child c has the other parent b
        assert collider_with_child.markov_blanket("a") == {"b", "c"}
        assert collider_with_child.markov_blanket("c") == {"a", "b", "d"}
        assert collider_with_child.markov_blanket("d") == {"c"}

    def test_moral_graph_marries_the_parents_of_a_collider(self, collider_with_child, chain):
        moral = collider_with_child.moral_graph()
        assert isinstance(moral, nx.Graph) and not moral.is_directed()
        assert set(moral.nodes) == {"a", "b", "c", "d"}
        assert {frozenset(e) for e in moral.edges} == {
            frozenset(e) for e in [("a", "c"), ("b", "c"), ("c", "d"), ("a", "b")]
        }
        assert {frozenset(e) for e in chain.moral_graph().edges} == {frozenset("ab"), frozenset("bc")}

    def test_v_structures(self, chain, fork, collider, collider_with_child):
        assert chain.v_structures() == set()
        assert fork.v_structures() == set()
        assert collider.v_structures() == {("a", "c", "b")}
        assert collider_with_child.v_structures() == {("a", "c", "b")}
        # names are ordered within the triple whatever the parent order
        assert DAG.from_edges([("z", "m"), ("b", "m")]).v_structures() == {("b", "m", "z")}

    def test_a_shielded_collider_is_not_a_v_structure(self):
        shielded = DAG.from_edges([("a", "c"), ("b", "c"), ("a", "b")])
        assert shielded.v_structures() == set()

    def test_skeleton_drops_directions(self, chain):
        assert chain.skeleton() == {frozenset({"a", "b"}), frozenset({"b", "c"})}
        assert DAG.from_edges([("c", "b"), ("b", "a")]).skeleton() == chain.skeleton()


class TestIEquivalence:
    @pytest.mark.parametrize(
        ("left", "right", "expected"),
        [
            (CHAIN, [("c", "b"), ("b", "a")], True),  # a->b->c  vs  a<-b<-c
            (CHAIN, FORK, True),  # a->b->c  vs  a<-b->c
            (CHAIN, [("a", "b"), ("c", "b")], False),  # vs the collider a->b<-c
            (COLLIDER, [("b", "c"), ("a", "c")], True),  # same collider, other parent order
            (CHAIN, [("a", "b"), ("a", "c")], False),  # different skeleton
            # every complete DAG on three nodes encodes no independence at all
            ([("a", "b"), ("a", "c"), ("b", "c")], [("c", "b"), ("c", "a"), ("b", "a")], True),
            ([("a", "b"), ("a", "c"), ("b", "c")], [("b", "a"), ("c", "a"), ("b", "c")], True),
        ],
        ids=["chain-vs-reversed-chain", "chain-vs-fork", "chain-vs-collider", "collider-vs-itself",
             "different-skeleton", "complete-graphs-1", "complete-graphs-2"],
    )
    def test_is_i_equivalent(self, left, right, expected):
        a, b = DAG.from_edges(left), DAG.from_edges(right)
        assert a.is_i_equivalent(b) is expected
        assert b.is_i_equivalent(a) is expected

    def test_graphs_over_different_nodes_are_not_i_equivalent(self):
        assert not DAG.from_edges(CHAIN).is_i_equivalent(DAG.from_edges(CHAIN, nodes=["d"]))

    def test_a_network_is_i_equivalent_to_its_own_dag(self, asia_net, asia):
        assert asia.is_i_equivalent(asia_net)
        assert asia_net.is_i_equivalent(asia)

    @pytest.mark.parametrize("seed", range(12))
    def test_i_equivalence_matches_equal_d_separation_statements(self, seed):
        # On 4 nodes, compare against the definition: same d-separation answer for every
        # (x, y | Z), as judged by networkx.
        rng = np.random.default_rng([7, seed])
        names = [f"n{k}" for k in range(4)]  # the names random_parents uses
        seen = {True: 0, False: 0}
        for _ in range(15):
            base = random_parents(rng, 4, 0.5)
            edges = edges_of(base)
            # reverse a random subset of edges; keep only acyclic results
            flipped = [(c, p) if rng.random() < 0.4 else (p, c) for p, c in edges]
            g1, g2 = nx_digraph(names, edges), nx_digraph(names, flipped)
            if not nx.is_directed_acyclic_graph(g2):
                continue
            same = all(
                nx.is_d_separator(g1, {x}, {y}, set(z)) == nx.is_d_separator(g2, {x}, {y}, set(z))
                for x, y in itertools.combinations(names, 2)
                for k in range(3)
                for z in itertools.combinations([v for v in names if v not in (x, y)], k)
            )
            d1 = DAG.from_edges(edges, nodes=names)
            d2 = DAG.from_edges(flipped, nodes=names)
            assert d1.is_i_equivalent(d2) is same, (edges, flipped)
            seen[same] += 1
        assert seen[True] > 0  # reversing nothing always gives an equivalent graph


class TestLocalIndependencies:
    def test_chain(self, chain):
        assert chain.local_independencies() == [
            Independence(frozenset({"c"}), frozenset({"a"}), frozenset({"b"}))
        ]
        assert [str(s) for s in chain.local_independencies()] == ["c ⊥ a | b"]

    def test_fork(self, fork):
        assert [str(s) for s in fork.local_independencies()] == ["a ⊥ c | b", "c ⊥ a | b"]

    def test_collider_with_child(self, collider_with_child):
        assert [str(s) for s in collider_with_child.local_independencies()] == [
            "a ⊥ b", "b ⊥ a", "d ⊥ a, b | c"
        ]

    def test_asia_statements_in_topological_order(self, asia):
        assert [str(s) for s in asia.local_independencies()] == [
            "asia ⊥ bronc, lung, smoke",
            "tub ⊥ bronc, lung, smoke | asia",
            "smoke ⊥ asia, tub",
            "lung ⊥ asia, bronc, tub | smoke",
            "bronc ⊥ asia, either, lung, tub, xray | smoke",
            "either ⊥ asia, bronc, smoke | lung, tub",
            "xray ⊥ asia, bronc, dysp, lung, smoke, tub | either",
            "dysp ⊥ asia, lung, smoke, tub, xray | bronc, either",
        ]

    def test_asia_statement_fields(self, asia):
        either = next(s for s in asia.local_independencies() if s.left == {"either"})
        assert either == Independence(
            frozenset({"either"}), frozenset({"asia", "bronc", "smoke"}), frozenset({"lung", "tub"})
        )

    def test_independence_str_and_latex(self):
        statement = Independence(frozenset({"a"}), frozenset({"c", "b"}), frozenset({"long_name"}))
        assert str(statement) == "a ⊥ b, c | long_name"
        assert statement.latex() == r"a \perp b, c \mid \mathrm{long\_name}"
        assert str(Independence(frozenset({"x"}), frozenset({"y"}), frozenset())) == "x ⊥ y"

    @pytest.mark.parametrize("seed", range(10))
    def test_random_dags_local_markov_statements(self, seed):
        rng, parents = random_case(seed, max_nodes=25)
        g = nx_digraph(parents, edges_of(parents))
        dag = DAG(parents)
        expected = set()
        for v in parents:
            rest = set(parents) - nx.descendants(g, v) - set(parents[v]) - {v}
            if rest:
                expected.add(Independence(frozenset({v}), frozenset(rest), frozenset(parents[v])))
        statements = dag.local_independencies()
        assert len(statements) == len(expected)
        assert set(statements) == expected
        # listed in topological order, and each one is a true d-separation
        position = {v: k for k, v in enumerate(dag.topological_order())}
        keys = [position[next(iter(s.left))] for s in statements]
        assert keys == sorted(keys)
        for s in statements:
            assert nx.is_d_separator(g, set(s.left), set(s.right), set(s.given))


class TestDSeparationOnTeachingGraphs:
    @pytest.mark.parametrize(
        ("edges", "x", "y", "given", "separated"),
        [
            (CHAIN, "a", "c", (), False),
            (CHAIN, "a", "c", "b", True),
            (FORK, "a", "c", (), False),
            (FORK, "a", "c", "b", True),
            (COLLIDER, "a", "b", (), True),
            (COLLIDER, "a", "b", "c", False),
            (COLLIDER_WITH_CHILD, "a", "b", (), True),
            (COLLIDER_WITH_CHILD, "a", "b", "d", False),  # observed descendant opens the collider
            (COLLIDER_WITH_CHILD, "a", "d", (), False),
            (COLLIDER_WITH_CHILD, "a", "d", "c", True),
            (COLLIDER_WITH_CHILD, "a", "d", "b", False),
        ],
    )
    def test_is_d_separated(self, edges, x, y, given, separated):
        dag = DAG.from_edges(edges)
        assert dag.is_d_separated(x, y, given) is separated
        assert dag.is_d_separated(y, x, given=given) is separated

    @pytest.mark.parametrize(
        ("edges", "x", "y", "given", "trail"),
        [
            (CHAIN, "a", "c", (), ["a", "b", "c"]),
            (CHAIN, "c", "a", (), ["c", "b", "a"]),
            (CHAIN, "a", "c", "b", None),
            (FORK, "a", "c", (), ["a", "b", "c"]),
            (COLLIDER, "a", "b", (), None),
            (COLLIDER, "a", "b", "c", ["a", "c", "b"]),
            (COLLIDER_WITH_CHILD, "a", "b", "d", ["a", "c", "b"]),
            (COLLIDER_WITH_CHILD, "a", "d", (), ["a", "c", "d"]),
        ],
    )
    def test_active_trail(self, edges, x, y, given, trail):
        assert DAG.from_edges(edges).active_trail(x, y, given) == trail

    @pytest.mark.parametrize(
        ("edges", "x", "given", "expected"),
        [
            (CHAIN, "a", (), {"b", "c"}),
            (CHAIN, "a", "b", set()),
            (CHAIN, "b", (), {"a", "c"}),
            (FORK, "a", (), {"b", "c"}),
            (FORK, "a", "b", set()),
            (COLLIDER, "a", (), {"c"}),
            (COLLIDER, "a", "c", {"b"}),
            (COLLIDER_WITH_CHILD, "a", (), {"c", "d"}),
            (COLLIDER_WITH_CHILD, "a", "d", {"b", "c"}),
            (COLLIDER_WITH_CHILD, "a", "c", {"b"}),
            (COLLIDER_WITH_CHILD, ["a", "b"], (), {"c", "d"}),
        ],
    )
    def test_d_connected(self, edges, x, given, expected):
        assert DAG.from_edges(edges).d_connected(x, given) == expected


class TestAsia:
    def test_nodes_and_edges_match_the_published_network(self, asia):
        assert asia.nodes == ASIA_NODES
        assert set(asia.edges) == set(ASIA_EDGES)
        assert len(asia.edges) == len(ASIA_EDGES)

    def test_parents_follow_the_bif_table_axis_order(self, asia):
        # asia.bif: "probability ( either | lung, tub )" and "( dysp | bronc, either )"
        assert asia.parents("either") == ("lung", "tub")
        assert asia.parents("dysp") == ("bronc", "either")
        assert asia.parents("smoke") == ()

    @pytest.mark.parametrize(
        ("node", "children"),
        [("asia", ("tub",)), ("smoke", ("lung", "bronc")), ("either", ("xray", "dysp")), ("dysp", ())],
    )
    def test_children(self, asia, node, children):
        assert asia.children(node) == children

    def test_ancestors_and_descendants(self, asia):
        assert asia.ancestors("dysp") == {"asia", "tub", "smoke", "lung", "bronc", "either"}
        assert asia.ancestors("xray") == {"asia", "tub", "smoke", "lung", "either"}
        assert asia.ancestors("smoke") == set()
        assert asia.descendants("smoke") == {"lung", "bronc", "either", "xray", "dysp"}
        assert asia.descendants("tub") == {"either", "xray", "dysp"}
        assert asia.descendants({"xray", "dysp"}) == set()

    def test_topological_order_is_the_declaration_order(self, asia):
        assert asia.topological_order() == ASIA_NODES

    @pytest.mark.parametrize(
        ("node", "blanket"),
        [
            ("either", {"lung", "tub", "xray", "dysp", "bronc"}),
            ("lung", {"smoke", "either", "tub"}),
            ("bronc", {"smoke", "dysp", "either"}),
            ("asia", {"tub"}),
            ("xray", {"either"}),
        ],
    )
    def test_markov_blanket(self, asia, node, blanket):
        assert asia.markov_blanket(node) == blanket

    def test_moral_graph_marries_lung_tub_and_bronc_either(self, asia):
        moral = {frozenset(e) for e in asia.moral_graph().edges}
        assert moral == {frozenset(e) for e in ASIA_EDGES} | {
            frozenset({"lung", "tub"}), frozenset({"bronc", "either"})
        }

    def test_v_structures(self, asia):
        assert asia.v_structures() == {("lung", "either", "tub"), ("bronc", "dysp", "either")}

    def test_skeleton(self, asia):
        assert asia.skeleton() == {frozenset(e) for e in ASIA_EDGES}

    @pytest.mark.parametrize(
        ("x", "y", "given", "separated"),
        [
            ("asia", "smoke", (), True),  # collider at either blocks
            ("asia", "smoke", "either", False),
            ("asia", "smoke", "xray", False),  # descendant of the collider observed
            ("asia", "smoke", ["dysp"], False),
            ("tub", "smoke", {"either", "lung"}, True),
            ("tub", "bronc", "dysp", False),
            ("xray", "dysp", "either", True),
            ("lung", "bronc", "smoke", True),
            ("lung", "bronc", ["smoke", "dysp"], False),
            ("asia", "dysp", "xray", False),
            # observing either opens the collider tub -> either <- lung: asia..smoke->bronc->dysp
            ("asia", "dysp", "either", False),
            ("asia", "dysp", {"either", "smoke"}, True),
            ({"asia", "tub"}, {"bronc", "dysp"}, {"either"}, False),
            ({"asia", "tub"}, {"bronc", "dysp"}, {"either", "smoke"}, True),
            (("asia", "tub"), ["bronc", "dysp"], ("either", "lung"), True),
        ],
    )
    def test_is_d_separated(self, asia, x, y, given, separated):
        assert asia.is_d_separated(x, y, given) is separated

    @pytest.mark.parametrize(
        ("x", "y", "given", "trail"),
        [
            ("asia", "dysp", "xray", ["asia", "tub", "either", "dysp"]),
            ("tub", "bronc", "dysp", ["tub", "either", "dysp", "bronc"]),
            ("asia", "smoke", "either", ["asia", "tub", "either", "lung", "smoke"]),
            ({"asia", "tub"}, {"bronc", "dysp"}, {"either"}, ["tub", "either", "lung", "smoke", "bronc"]),
            ("asia", "dysp", "either", ["asia", "tub", "either", "lung", "smoke", "bronc", "dysp"]),
            ("asia", "smoke", (), None),
        ],
    )
    def test_active_trail_is_a_shortest_one(self, asia, x, y, given, trail):
        assert asia.active_trail(x, y, given) == trail

    @pytest.mark.parametrize(
        ("x", "given", "expected"),
        [
            ("asia", (), {"tub", "either", "xray", "dysp"}),
            ("asia", "either", {"tub", "lung", "smoke", "bronc", "dysp"}),
            ("xray", "either", set()),
            ("smoke", (), {"lung", "bronc", "either", "xray", "dysp"}),
            ("smoke", "dysp", {"lung", "bronc", "either", "xray", "tub", "asia"}),
        ],
    )
    def test_d_connected_in_one_pass(self, asia, x, given, expected):
        assert asia.d_connected(x, given) == expected


# ============================================================================ random DAGs vs networkx

N_RANDOM_GRAPHS = 200
QUERIES_PER_GRAPH = 4


@pytest.mark.parametrize("seed", range(N_RANDOM_GRAPHS))
def test_d_separation_active_trail_and_d_connected_agree_with_networkx(seed):
    rng, parents = random_case(seed)
    nodes = list(parents)
    g = nx_digraph(nodes, edges_of(parents))
    dag = DAG(parents)
    for _ in range(QUERIES_PER_GRAPH):
        x, y, z = random_query(rng, nodes)
        xa, ya, za = (as_random_collection(rng, s) for s in (x, y, z))
        expected = nx.is_d_separator(g, set(x), set(y), set(z))
        assert dag.is_d_separated(xa, ya, za) is expected, (x, y, z)
        trail = dag.active_trail(xa, ya, given=za)
        if expected:
            assert trail is None, (x, y, z, trail)
        else:
            assert_active_trail(trail, g, x, y, z)
        # d_connected: v is reported iff networkx says {v} is not d-separated from X given Z
        reference = {
            v for v in nodes
            if v not in x and v not in z and not nx.is_d_separator(g, set(x), {v}, set(z))
        }
        assert dag.d_connected(xa, given=za) == reference, (x, z)


def test_random_d_separation_cases_exercise_both_answers_and_observed_colliders():
    """Guard against a vacuous random suite: both outcomes occur, and so do trails through colliders."""
    outcomes = {True: 0, False: 0}
    trails_through_colliders = 0
    sizes = set()
    for seed in range(N_RANDOM_GRAPHS):
        rng, parents = random_case(seed)
        nodes = list(parents)
        sizes.add(len(nodes))
        g = nx_digraph(nodes, edges_of(parents))
        dag = DAG(parents)
        for _ in range(QUERIES_PER_GRAPH):
            x, y, z = random_query(rng, nodes)
            for s in (x, y, z):  # draw exactly what the main test draws, so the queries are the same
                as_random_collection(rng, s)
            separated = nx.is_d_separator(g, set(x), set(y), set(z))
            outcomes[separated] += 1
            if not separated:
                trail = dag.active_trail(x, y, z)
                if any(g.has_edge(a, b) and g.has_edge(c, b) for a, b, c in zip(trail, trail[1:], trail[2:])):
                    trails_through_colliders += 1
    assert min(outcomes.values()) >= 100, outcomes
    assert trails_through_colliders >= 10
    assert max(sizes) >= 55 and min(sizes) <= 5


@pytest.mark.parametrize("seed", range(60))
def test_small_graphs_agree_with_brute_force_trail_enumeration(seed):
    """The textbook definition: d-separated iff no simple trail is active; pgm's trail is a shortest one."""
    rng, parents = random_case(seed, min_nodes=3, max_nodes=7)
    nodes = list(parents)
    g = nx_digraph(nodes, edges_of(parents))
    dag = DAG(parents)
    for _ in range(6):
        x, y, z = random_query(rng, nodes, max_size=2)
        active = brute_force_active_trails(g, x, y, z)
        assert dag.is_d_separated(x, y, z) is (not active)
        trail = dag.active_trail(x, y, z)
        if active:
            assert_active_trail(trail, g, x, y, z)
            assert len(trail) == min(map(len, active)), (trail, active)
        else:
            assert trail is None


@pytest.mark.parametrize("seed", range(25))
def test_structure_queries_agree_with_networkx(seed):
    rng, parents = random_case(seed)
    nodes = list(parents)
    edges = edges_of(parents)
    g = nx_digraph(nodes, edges)
    dag = DAG(parents)

    assert dag.nodes == tuple(nodes)
    assert sorted(dag.edges) == sorted(edges)
    assert set(dag.to_networkx().edges) == set(edges)
    assert dag.skeleton() == {frozenset(e) for e in edges}
    assert {frozenset(e) for e in dag.moral_graph().edges} == {frozenset(e) for e in nx.moral_graph(g).edges}

    order = dag.topological_order()
    assert sorted(order) == sorted(nodes)
    position = {v: k for k, v in enumerate(order)}
    assert all(position[p] < position[c] for p, c in edges)
    assert list(order) == first_ready_order(parents)

    v_structures = {
        (min(a, b), c, max(a, b))
        for c in nodes
        for a, b in itertools.combinations(parents[c], 2)
        if not (g.has_edge(a, b) or g.has_edge(b, a))
    }
    assert dag.v_structures() == v_structures

    for v in nodes:
        assert dag.parents(v) == tuple(parents[v])
        assert set(dag.children(v)) == set(g.successors(v))
        assert list(dag.children(v)) == [c for c in nodes if g.has_edge(v, c)]
        assert dag.ancestors(v) == nx.ancestors(g, v)
        assert dag.descendants(v) == nx.descendants(g, v)
        blanket = set(g.predecessors(v)) | set(g.successors(v))
        for c in g.successors(v):
            blanket |= set(g.predecessors(c))
        blanket.discard(v)
        assert dag.markov_blanket(v) == blanket
        others = set(nodes) - blanket - {v}
        if others:  # the blanket shields a node from everything else
            assert nx.is_d_separator(g, {v}, others, blanket)

    for _ in range(5):
        group = [nodes[k] for k in rng.choice(len(nodes), size=min(3, len(nodes)), replace=False)]
        assert dag.ancestors(group) == set().union(*(nx.ancestors(g, v) for v in group)) - set(group)
        assert dag.descendants(group) == set().union(*(nx.descendants(g, v) for v in group)) - set(group)


def large_random_dag(rng, n=20_000, window=200):
    """Each node draws up to three parents, mostly from recent nodes and sometimes from anywhere earlier."""
    names = [f"v{k}" for k in range(n)]
    parents = {}
    for i in range(n):
        k = min(i, int(rng.integers(0, 4)))
        if k == 0:
            parents[names[i]] = []
            continue
        lo = max(0, i - window) if rng.random() < 0.9 else 0
        picks = rng.choice(np.arange(lo, i), size=min(k, i - lo), replace=False)
        parents[names[i]] = [names[j] for j in picks]
    declared = [names[k] for k in rng.permutation(n)]
    return {v: parents[v] for v in declared}


def test_large_graph_queries_agree_with_networkx():
    rng = np.random.default_rng(424242)
    parents = large_random_dag(rng)
    nodes = list(parents)
    g = nx_digraph(nodes, edges_of(parents))
    dag = DAG(parents)
    assert len(dag) == 20_000

    answers = set()
    for _ in range(4):
        x, y, z = random_query(rng, nodes)
        expected = nx.is_d_separator(g, set(x), set(y), set(z))
        answers.add(expected)
        assert dag.is_d_separated(x, y, z) is expected
        trail = dag.active_trail(x, y, z)
        if expected:
            assert trail is None
        else:
            assert_active_trail(trail, g, x, y, z)

    # a guaranteed separation: a node is d-separated from its non-descendants by its parents
    for _ in range(3):
        v = nodes[int(rng.integers(len(nodes)))]
        if not parents[v]:
            continue
        non_descendants = set(nodes) - nx.descendants(g, v) - set(parents[v]) - {v}
        far = [nodes[k] for k in rng.permutation(len(nodes))[:50] if nodes[k] in non_descendants][:3]
        assert far
        assert dag.is_d_separated(v, far, parents[v]) is True
        assert nx.is_d_separator(g, {v}, set(far), set(parents[v]))
        answers.add(True)

    # d_connected: everything outside the answer is separated (one networkx call) and a
    # sample of the answer is connected
    x, _, z = random_query(rng, nodes)
    connected = dag.d_connected(x, z)
    outside = set(nodes) - connected - set(x) - set(z)
    assert connected and outside
    assert nx.is_d_separator(g, set(x), outside, set(z))
    for v in sorted(connected)[:: max(1, len(connected) // 6)]:
        assert not nx.is_d_separator(g, set(x), {v}, set(z)), v
    assert answers == {True, False}


# ============================================================================ errors


class TestErrors:
    @staticmethod
    def rotations(cycle):
        return {" -> ".join(cycle[k:] + cycle[:k] + [cycle[k]]) for k in range(len(cycle))}

    def test_three_cycle_is_named_in_the_message(self):
        with pytest.raises(CycleError, match="directed cycle") as info:
            DAG.from_edges([("a", "b"), ("b", "c"), ("c", "a")])
        message = str(info.value)
        assert any(r in message for r in self.rotations(["a", "b", "c"])), message
        assert isinstance(info.value, ValueError)

    def test_cycle_error_reports_the_cycle_not_the_nodes_hanging_off_it(self):
        # y is downstream of the cycle and declared first; x feeds into it
        parents = {"y": ["c"], "x": [], "a": ["x", "c"], "b": ["a"], "c": ["b"]}
        with pytest.raises(CycleError) as info:
            DAG(parents)
        assert info.value.cycle in [
            ["a", "b", "c", "a"], ["b", "c", "a", "b"], ["c", "a", "b", "c"]
        ]
        assert " -> ".join(info.value.cycle) in str(info.value)

    def test_self_loop_is_a_cycle(self):
        with pytest.raises(CycleError, match=r"\ba -> a\b"):
            DAG.from_edges([("a", "b"), ("a", "a")])
        with pytest.raises(CycleError, match=r"\bb -> b\b"):
            DAG({"a": [], "b": ["a", "b"]})

    def test_two_cycle(self):
        with pytest.raises(CycleError, match=r"(x -> y -> x|y -> x -> y)"):
            DAG.from_edges([("x", "y"), ("y", "x")])

    @pytest.mark.parametrize("seed", range(30))
    def test_random_cyclic_graphs_report_a_real_cycle(self, seed):
        rng, parents = random_case(seed, min_nodes=3, max_nodes=40)
        g = nx_digraph(parents, edges_of(parents))
        # add a back edge from a descendant to an ancestor (closing a cycle) or a few random edges
        candidates = [(u, v) for v in g for u in nx.descendants(g, v)]
        if not candidates:
            u, v = list(parents)[:2]
            candidates = [(u, v), (v, u)]
            parents[v].append(u)
            parents[u].append(v)
        else:
            u, v = candidates[int(rng.integers(len(candidates)))]
            parents[v].append(u)
        edges = set(edges_of(parents))
        with pytest.raises(CycleError) as info:
            DAG(parents)
        cycle = info.value.cycle
        assert len(cycle) >= 3 and cycle[0] == cycle[-1]
        assert len(set(cycle[:-1])) == len(cycle) - 1, cycle
        assert all(edge in edges for edge in itertools.pairwise(cycle)), cycle
        assert " -> ".join(cycle) in str(info.value)

    def test_parent_that_is_not_a_node(self):
        with pytest.raises(NodeError, match=r"parent 'ghost' of node 'b' is not a node"):
            DAG({"a": [], "b": ["a", "ghost"]})

    def test_duplicate_parent(self):
        with pytest.raises(NodeError, match=r"'b' lists parent 'a' more than once"):
            DAG({"a": [], "b": ["a", "a"]})

    @pytest.mark.parametrize("bad", [1, None, "", ("a",), 2.5])
    def test_non_string_or_empty_node_names_are_rejected(self, bad):
        with pytest.raises(NodeError, match=re.escape(f"non-empty strings, got {bad!r}")):
            DAG({bad: []})
        with pytest.raises(NodeError, match=re.escape(f"got {bad!r}")):
            DAG.from_edges([("a", bad)])

    def test_an_edge_must_be_a_pair(self):
        with pytest.raises(NodeError, match=r"\(parent, child\) pair.*'a', 'b', 'c'"):
            DAG.from_edges([("a", "b", "c")])

    @pytest.mark.parametrize(
        "query",
        [
            lambda d: d.parents("lugn"),
            lambda d: d.children("lugn"),
            lambda d: d.ancestors("lugn"),
            lambda d: d.descendants(["smoke", "lugn"]),
            lambda d: d.markov_blanket("lugn"),
            lambda d: d.is_d_separated("lugn", "smoke"),
            lambda d: d.is_d_separated("asia", "lugn"),
            lambda d: d.is_d_separated("asia", "smoke", given={"lugn"}),
            lambda d: d.active_trail("asia", ["lugn"]),
            lambda d: d.d_connected("asia", given="lugn"),
        ],
        ids=["parents", "children", "ancestors", "descendants", "markov_blanket",
             "d_sep-x", "d_sep-y", "d_sep-given", "active_trail", "d_connected"],
    )
    def test_unknown_node_suggests_a_close_name(self, asia, query):
        with pytest.raises(NodeError, match=r"'lugn' is not a node of the graph; did you mean 'lung'\?"):
            query(asia)

    def test_unknown_node_without_close_name_has_no_suggestion(self, asia):
        with pytest.raises(NodeError, match=r"'zzzzqqq' is not a node of the graph$"):
            asia.parents("zzzzqqq")

    def test_unknown_node_error_is_a_key_error(self, asia):
        with pytest.raises(KeyError):
            asia.children("nope")

    @pytest.mark.parametrize("bad", [3, None, ("asia",)])
    def test_non_string_query_names_the_value(self, asia, bad):
        with pytest.raises(NodeError, match=re.escape(f"{bad!r} is not a node")):
            asia.parents(bad)

    @pytest.mark.parametrize(
        ("x", "y", "given", "pattern"),
        [
            ("asia", "asia", (), r"x and y must be disjoint, but both contain \['asia'\]"),
            ({"asia", "tub"}, {"tub", "dysp"}, (), r"x and y .*\['tub'\]"),
            ("asia", "dysp", {"asia"}, r"x and given must be disjoint, but both contain \['asia'\]"),
            ("asia", ["dysp", "xray"], ["xray"], r"given and y must be disjoint, but both contain \['xray'\]"),
        ],
    )
    def test_overlapping_sets_are_rejected(self, asia, x, y, given, pattern):
        with pytest.raises(NodeError, match=pattern):
            asia.is_d_separated(x, y, given)
        with pytest.raises(NodeError, match=pattern):
            asia.active_trail(x, y, given)

    def test_d_connected_rejects_x_overlapping_given(self, asia):
        with pytest.raises(NodeError, match=r"x and given must be disjoint.*\['lung'\]"):
            asia.d_connected({"lung", "smoke"}, given="lung")

    @pytest.mark.parametrize("empty", [[], (), set()])
    def test_empty_x_is_rejected(self, asia, empty):
        with pytest.raises(NodeError, match="x must contain at least one node"):
            asia.is_d_separated(empty, "dysp")
        with pytest.raises(NodeError, match="x must contain at least one node"):
            asia.d_connected(empty)

    def test_x_that_is_not_a_collection_is_a_type_error(self, asia):
        with pytest.raises(TypeError, match=r"x must be a node name or a collection"):
            asia.is_d_separated(5, "dysp")


# ============================================================================ BayesianNetwork delegation

DELEGATED_QUERIES = [
    ("parents", ("either",)),
    ("children", ("smoke",)),
    ("ancestors", ("dysp",)),
    ("descendants", ({"tub", "smoke"},)),
    ("topological_order", ()),
    ("markov_blanket", ("either",)),
    ("v_structures", ()),
    ("local_independencies", ()),
    ("is_d_separated", ("asia", "smoke", "xray")),
    ("is_d_separated", ({"asia", "tub"}, {"bronc", "dysp"}, {"either", "smoke"})),
    ("active_trail", ("tub", "bronc", "dysp")),
    ("d_connected", ("asia", "either")),
]


@pytest.mark.parametrize(("method", "args"), DELEGATED_QUERIES, ids=[m for m, _ in DELEGATED_QUERIES])
def test_network_answers_graph_queries_like_its_dag(asia_net, asia, method, args):
    assert getattr(asia_net, method)(*args) == getattr(asia, method)(*args)


def test_network_moral_graph_and_networkx_export_match_its_dag(asia_net, asia):
    assert set(map(frozenset, asia_net.moral_graph().edges)) == set(map(frozenset, asia.moral_graph().edges))
    assert set(asia_net.to_networkx().edges) == set(ASIA_EDGES)
    assert asia_net.edges == asia.edges


def test_network_d_separation_matches_its_dag_for_every_pair(asia_net, asia):
    for x, y in itertools.permutations(ASIA_NODES, 2):
        for given in [(), ("either",), ("smoke", "dysp")]:
            if x in given or y in given:
                continue
            assert asia_net.is_d_separated(x, y, given) == asia.is_d_separated(x, y, given)
            assert asia_net.active_trail(x, y, given=given) == asia.active_trail(x, y, given=given)


def test_network_errors_come_from_the_dag(asia_net):
    with pytest.raises(NodeError, match="did you mean 'lung'"):
        asia_net.markov_blanket("lugn")
    with pytest.raises(NodeError, match="disjoint"):
        asia_net.is_d_separated("asia", "asia")


def test_network_graph_queries_see_nodes_added_later():
    two = ["no", "yes"]
    net = BayesianNetwork()
    net.add("a", Categorical(two, table=[0.5, 0.5]))
    net.add("b", Categorical(two, parents=["a"], table=[[0.9, 0.1], [0.2, 0.8]]))
    assert net.children("a") == ("b",)
    assert net.is_d_separated("a", "b") is False
    net.add("c", Categorical(two, parents=["b"], table=[[0.9, 0.1], [0.2, 0.8]]))
    assert net.children("b") == ("c",)
    assert net.descendants("a") == {"b", "c"}
    assert net.is_d_separated("a", "c", given="b") is True
    assert net.active_trail("a", "c") == ["a", "b", "c"]


def test_network_with_cyclic_cpds_raises_cycle_error_naming_the_cycle():
    two = ["no", "yes"]
    table = [[0.9, 0.1], [0.2, 0.8]]
    with pytest.raises(CycleError, match=r"(a -> b -> a|b -> a -> b)"):
        BayesianNetwork({
            "a": Categorical(two, parents=["b"], table=table),
            "b": Categorical(two, parents=["a"], table=table),
        })
