"""Hill climbing and tabu search: exact on every small DAG, constraints obeyed, never worse than the truth."""

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import NodeError, StructureError
from pgm.structure import Constraints, hill_climb, sufficient_table, tabu_search


# ---------------------------------------------------------------------------- independent references
def all_dags(n):
    """Every DAG on nodes 0..n-1, as tuples of parent bitmasks (brute force over edge subsets)."""
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    dags = []
    for chosen in itertools.product((False, True), repeat=len(pairs)):
        edges = [p for p, c in zip(pairs, chosen) if c]
        graph = nx.DiGraph(edges)
        graph.add_nodes_from(range(n))
        if nx.is_directed_acyclic_graph(graph):
            dags.append(tuple(sum(1 << i for i, j in edges if j == child) for child in range(n)))
    return dags


def sample_from(dag_masks, cards, n_rows, rng):
    """Rows from random tables over the DAG, by ancestral sampling written here with numpy."""
    n = len(cards)
    graph = nx.DiGraph([(i, j) for j in range(n) for i in range(n) if dag_masks[j] >> i & 1])
    graph.add_nodes_from(range(n))
    codes = np.zeros((n_rows, n), dtype=np.int64)
    for j in nx.topological_sort(graph):
        parents = [i for i in range(n) if dag_masks[j] >> i & 1]
        config = np.zeros(n_rows, dtype=np.int64)
        for p in parents:
            config = config * cards[p] + codes[:, p]
        q = int(np.prod([cards[p] for p in parents]))
        table = rng.dirichlet(np.full(cards[j], 0.6), size=q)
        cumulative = np.cumsum(table, axis=1)[config]
        codes[:, j] = np.minimum((rng.random(n_rows)[:, None] > cumulative).sum(axis=1), cards[j] - 1)
    return codes


def bic_table(codes, cards):
    """BIC of every (node, parent bitmask) family, from counts of mixed-radix row codes."""
    n_rows, n = codes.shape
    local = np.full((n, 1 << n), -np.inf)

    def log_likelihood_terms(columns):
        key = np.zeros(n_rows, dtype=np.int64)
        for c in columns:
            key = key * cards[c] + codes[:, c]
        counts = np.bincount(key)
        counts = counts[counts > 0]
        return float(np.sum(counts * np.log(counts)))

    for j in range(n):
        for mask in range(1 << n):
            if mask >> j & 1:
                continue
            parents = [i for i in range(n) if mask >> i & 1]
            log_likelihood = log_likelihood_terms(parents + [j]) - log_likelihood_terms(parents)
            q = int(np.prod([cards[i] for i in parents]))
            local[j, mask] = log_likelihood - 0.5 * np.log(n_rows) * q * (cards[j] - 1)
    return local


def best_score(local, dags):
    masks = np.array(dags)
    return float(local[np.arange(masks.shape[1]), masks].sum(axis=1).max())


def dag_score(local, masks):
    return sum(local[j, m] for j, m in enumerate(masks))


def masks_of(dag, names):
    return tuple(sum(1 << names.index(p) for p in dag.parents(v)) for v in names)


@pytest.mark.parametrize("n", [3, 4])
def test_hill_climbing_with_restarts_finds_the_exhaustive_best_on_every_small_dag(n):
    rng = np.random.default_rng(n)
    dags = all_dags(n)
    assert len(dags) == {3: 25, 4: 543}[n]
    names = [f"v{i}" for i in range(n)]
    worst_gap = 0.0
    for truth in dags:
        cards = rng.integers(2, 4, size=n)
        codes = sample_from(truth, cards, 400, rng)
        frame = pd.DataFrame({name: codes[:, i] for i, name in enumerate(names)})
        states = {name: list(range(cards[i])) for i, name in enumerate(names)}
        if any(len(np.unique(codes[:, i])) < 2 for i in range(n)):
            continue  # a constant column is refused (tested elsewhere); skip the rare degenerate draw
        local = bic_table(codes, cards)
        best = best_score(local, dags)
        learned = hill_climb(frame, states=states, start="empty", restarts={3: 10, 4: 30}[n], perturb=6, seed=1)
        found = dag_score(local, masks_of(learned, names))
        assert found == pytest.approx(learned.search_report_.score, abs=1e-6)
        worst_gap = max(worst_gap, best - found)
    assert worst_gap < 1e-6


def test_learned_bic_is_never_below_the_true_graph():
    from pgm.structure import FamilyStatistics, LocalScores

    for name, rows in [("asia", 5000), ("cancer", 5000), ("earthquake", 5000), ("survey", 5000)]:
        truth = pgm.load(name)
        data = truth.sample(rows, seed=4)
        table = sufficient_table(data, domains=truth.domains)
        stats = FamilyStatistics(table)
        scores = LocalScores(stats, "bic")
        true_score = scores.total({stats.index[v]: [stats.index[p] for p in truth.parents(v)] for v in truth.nodes})
        learned = tabu_search(table, restarts=5, seed=0)
        assert learned.search_report_.score >= true_score - 1e-6, name


def true_and_learned_bic(name, rows, seed, search, **options):
    from pgm.structure import FamilyStatistics, LocalScores

    truth = pgm.load(name)
    stats = FamilyStatistics(sufficient_table(truth.sample(rows, seed=seed), domains=truth.domains))
    true_score = LocalScores(stats, "bic").total({stats.index[v]: [stats.index[p] for p in truth.parents(v)]
                                                  for v in truth.nodes})
    return true_score, search(stats, **options).search_report_.score


@pytest.mark.parametrize("name, seed", [("asia", 0), ("asia", 1), ("child", 0), ("child", 2)])
def test_the_default_search_never_ends_below_the_true_network(name, seed):
    # The true graph's BIC is computed by the same local scores (checked against the engine's fitted
    # log-likelihood in test_structure_scores.py), for the graph we sampled from, not one the search found.
    true_score, greedy = true_and_learned_bic(name, 10_000, seed, hill_climb)
    tolerance = 1e-9 * abs(true_score)
    assert greedy >= true_score - tolerance
    _, tabu = true_and_learned_bic(name, 10_000, seed, tabu_search)
    assert tabu >= true_score - tolerance


def test_the_old_default_a_climb_from_the_empty_graph_alone_ends_below_the_truth():
    # Why the default climbs from PC's graph too: on these same rows the empty start stops short.
    gaps = [learned - true for true, learned in (true_and_learned_bic(name, 10_000, seed, hill_climb, start="empty")
                                                 for name, seed in [("asia", 0), ("child", 0)])]
    assert all(gap < -1.0 for gap in gaps)


def test_the_default_search_reports_both_starts():
    report = hill_climb(pgm.load("asia").sample(2000, seed=0)).search_report_
    assert report.starts == ["empty", "pc"] and report.score == pytest.approx(max(report.restart_scores))
    assert hill_climb(pgm.load("asia").sample(2000, seed=0), start="empty").search_report_.starts == ["empty"]


def test_the_pc_start_obeys_the_constraints():
    from pgm.structure import FamilyStatistics
    from pgm.structure.search import _pc_start

    stats = FamilyStatistics(sufficient_table(pgm.load("child").sample(5000, seed=0)))
    names = stats.names
    constraints = Constraints(max_parents=1, forbidden=[(names[0], names[1]), (names[1], names[0])],
                              required=[(names[2], names[3])])
    allowed, required, max_parents = constraints.resolve(names, stats.is_discrete)
    adjacency = _pc_start(stats, allowed, required, max_parents)
    assert adjacency[2, 3] and not adjacency[0, 1] and not adjacency[1, 0]
    assert adjacency.sum(axis=0).max() <= 1 and not (adjacency & ~allowed).any()
    graph = nx.DiGraph([(names[i], names[j]) for i, j in zip(*np.nonzero(adjacency))])
    assert nx.is_directed_acyclic_graph(graph) and graph.number_of_edges() >= 10


def test_tabu_search_never_ends_below_hill_climbing():
    data = pgm.load("child").sample(3000, seed=0)
    assert tabu_search(data).search_report_.score >= hill_climb(data).search_report_.score - 1e-9


def test_a_small_cache_gives_the_same_graph():
    data = pgm.load("asia").sample(4000, seed=2)
    assert hill_climb(data, cache_size=3).edges == hill_climb(data).edges


def test_the_learned_graph_is_fitted_by_from_data():
    data = pgm.load("cancer").sample(5000, seed=0)
    dag = hill_climb(data)
    net = pgm.BayesianNetwork.from_data(dag, data)
    assert set(net.edges) == set(dag.edges) and net.is_fitted


# ---------------------------------------------------------------------------- constraints
@pytest.fixture(scope="module")
def asia_table():
    truth = pgm.load("asia")
    return sufficient_table(truth.sample(5000, seed=7), domains=truth.domains)


def test_required_and_forbidden_edges_are_obeyed(asia_table):
    free = hill_climb(asia_table)
    forbidden = free.edges[:2]
    required = [("asia", "dysp"), ("xray", "bronc")]
    dag = hill_climb(asia_table, constraints=Constraints(required=required, forbidden=forbidden))
    assert set(required) <= set(dag.edges)
    assert not set(forbidden) & set(dag.edges)


def test_max_parents_and_tiers_are_obeyed(asia_table):
    dag = hill_climb(asia_table, constraints=Constraints(max_parents=1))
    assert max(len(dag.parents(v)) for v in dag.nodes) == 1
    tiers = [["dysp", "xray"], ["either"], ["asia", "smoke", "tub", "lung", "bronc"]]
    dag = hill_climb(asia_table, constraints=Constraints(tiers=tiers))
    tier = {v: t for t, group in enumerate(tiers) for v in group}
    assert dag.edges and all(tier[u] <= tier[v] for u, v in dag.edges)


def test_a_starting_graph_is_climbed_from(asia_table):
    start = [("dysp", "asia"), ("asia", "tub")]
    report = hill_climb(asia_table, start=start).search_report_
    assert report.steps > 0 and report.restart_scores[0] == report.score


@pytest.mark.parametrize("constraints, error, message", [
    (Constraints(required=[("tub", "lung")], forbidden=[("tub", "lung")]), StructureError,
     "'tub' -> 'lung' is both required and forbidden"),
    (Constraints(required=[("tub", "lung"), ("lung", "either"), ("either", "tub")]), StructureError,
     "the required edges form a cycle: "),
    (Constraints(max_parents=8), StructureError, "max_parents=8 asks for more parents than there are other"),
    (Constraints(required=[("smoke", "asia")], tiers=[["asia"], ["smoke"]]), StructureError,
     "'smoke' -> 'asia' is not allowed: it points from a later tier"),
    (Constraints(required=[("asia", "tub"), ("smoke", "tub")], max_parents=1), StructureError,
     "'tub' has 2 required parents, more than max_parents=1"),
    (Constraints(forbidden=[("asia", "nope")]), NodeError, "'nope', which is not a variable"),
])
def test_contradictory_constraints_are_refused_in_one_line(asia_table, constraints, error, message):
    with pytest.raises(error, match=message) as caught:
        hill_climb(asia_table, constraints=constraints)
    assert "\n" not in str(caught.value)


def test_a_starting_graph_against_the_constraints_is_refused(asia_table):
    with pytest.raises(StructureError, match="starting graph has the edge 'asia' -> 'tub', which the constraints"):
        hill_climb(asia_table, start=[("asia", "tub")], constraints=Constraints(forbidden=[("asia", "tub")]))
    with pytest.raises(StructureError, match="form a cycle"):
        hill_climb(asia_table, start=[("tub", "asia")], constraints=Constraints(required=[("asia", "tub")]))


def test_restarts_are_reproducible_with_a_seed(asia_table):
    a = hill_climb(asia_table, restarts=3, seed=5)
    b = hill_climb(asia_table, restarts=3, seed=5)
    assert a.edges == b.edges and len(a.search_report_.restart_scores) == 2 + 3  # two starts, three restarts


def test_mixed_data_learns_a_conditional_linear_gaussian_graph():
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.choice(["lo", "hi"], n)
    b = np.where(rng.random(n) < 0.8, a, np.where(a == "lo", "hi", "lo"))
    u = rng.normal(size=n)
    v = np.where(a == "hi", 2.0, -1.0) + 0.5 * u + rng.normal(scale=0.7, size=n)
    rows = pd.DataFrame({"a": a, "b": b, "u": u, "v": v})
    dag = hill_climb(rows)
    assert dag.skeleton() == {frozenset("ab"), frozenset("av"), frozenset("uv")}
    assert ("v", "a") not in dag.edges  # a discrete node never gets a continuous parent
    net = pgm.BayesianNetwork.from_data(dag, rows)
    assert not net["v"].is_discrete and set(net.parents("v")) == {"a", "u"}


def test_the_pc_start_is_given_up_beyond_its_test_budget(monkeypatch):
    import pgm.structure.search as search

    rows = pgm.load("asia").sample(2000, seed=0)
    with pytest.raises(StructureError, match="max_tests=10"):
        pgm.structure.pc(rows, max_tests=10)
    monkeypatch.setattr(search, "_START_TESTS_PER_PAIR", 1)
    report = hill_climb(rows).search_report_
    assert report.starts == ["empty"] and report.score == hill_climb(rows, start="empty").search_report_.score


def test_a_large_table_starts_pc_from_a_multinomial_subsample(monkeypatch):
    import pgm.structure.search as search
    from pgm.structure import FamilyStatistics

    stats = FamilyStatistics(sufficient_table(pgm.load("child").sample(3000, seed=0)))
    monkeypatch.setattr(search, "_START_DISTINCT_ROWS", 100)
    monkeypatch.setattr(search, "_START_ROWS", 500)
    small = search._start_statistics(stats, seed=None)
    assert small.table.weight.sum() == 500 and small.table.n_groups <= 500
    rows = {tuple(r) for r in stats.table.codes}
    assert all(tuple(r) in rows for r in small.table.codes)  # a subsample of the distinct rows
    again = search._start_statistics(stats, seed=None)
    assert np.array_equal(again.table.weight, small.table.weight)  # deterministic without a seed
    report = hill_climb(stats).search_report_
    assert report.starts == ["empty", "pc"] and report.n_rows == 3000
