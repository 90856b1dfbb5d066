"""Inference plans by relevance, priced before allocation, cached within a bound.

- Rows answered per pattern (or per row) of observed nodes and all posteriors
  answered by relevant parts equal brute-force enumeration of the joint on
  small random networks, and the unpruned shared tree on alarm, child and
  insurance, to 1e-12.
- The memory budget is checked from sizes before any table is built:
  tracemalloc's peak stays under the budget whether the call is refused or
  answered.
- The plan cache holds at most its bound, least recently used out first.
- Triangulation keeps the cheapest of its heuristics, and its cost is the
  tree's.
"""

import itertools
import math
import string
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.inference import engine
from pgm.inference.cache import PlanCache, plan_cache
from pgm.inference.evidence import as_evidence
from pgm.inference.junction_tree import compile_junction_tree
from pgm.inference.strategy import Strategy, evidence_patterns, relevant_cover
from pgm.inference.triangulation import HEURISTICS, greedy_order, heuristics_for, total_entries, triangulate

BUNDLED = ["alarm", "child", "insurance"]


# ---------------------------------------------------------------------------- helpers
def random_network(seed: int) -> pgm.BayesianNetwork:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    cards = [int(c) for c in rng.integers(2, 4, size=n)]
    cpds = {}
    for i in range(n):
        k = int(rng.integers(0, min(3, i) + 1))
        parents = sorted(int(p) for p in rng.choice(i, size=k, replace=False)) if k else []
        table = rng.dirichlet(np.ones(cards[i]), size=math.prod(cards[p] for p in parents))
        cpds[f"x{i}"] = pgm.Categorical([f"s{j}" for j in range(cards[i])], parents=[f"x{p}" for p in parents],
                                        table=table.reshape([cards[p] for p in parents] + [cards[i]]))
    return pgm.BayesianNetwork(cpds)


def joint_table(net) -> np.ndarray:
    """The joint over net.nodes (one axis per node), by one einsum of every CPD."""
    letter = {n: string.ascii_letters[i] for i, n in enumerate(net.nodes)}
    specs = ["".join(letter[v] for v in list(net[n].parents) + [n]) for n in net.nodes]
    return np.einsum(",".join(specs) + "->" + "".join(letter[n] for n in net.nodes),
                     *[np.asarray(net[n].table) for n in net.nodes])


def enumerate_row(net, joint, row: dict):
    """({node: posterior vector}, p(e)) for one row of hard evidence, by slicing the joint."""
    index = tuple(net.states(n).index(row[n]) if n in row else slice(None) for n in net.nodes)
    mask = np.zeros_like(joint)
    mask[index] = 1.0
    restricted = joint * mask
    p = restricted.sum()
    posteriors = {}
    for axis, node in enumerate(net.nodes):
        others = tuple(a for a in range(len(net.nodes)) if a != axis)
        posteriors[node] = restricted.sum(axis=others) / p
    return posteriors, p


def masked_sample(net, n: int, fraction: float, seed: int) -> pd.DataFrame:
    data = net.sample(n, seed=seed)
    rng = np.random.default_rng(seed)
    return data.mask(rng.random(data.shape) < fraction)


def rows_of(frame: pd.DataFrame) -> list[dict]:
    return [{k: v for k, v in record.items() if isinstance(v, str)} for record in frame.to_dict("records")]


@pytest.fixture
def rows_strategy(monkeypatch):
    """Force how rows are answered: force('shared' | 'per-pattern')."""
    def force(kind):
        def choose(network, evidence, plan, budget, targets=None):
            groups = evidence_patterns(evidence)
            if kind == "shared":
                return Strategy("shared", len(groups), 0.0, 0.0)
            return Strategy(kind, len(groups), 0.0, 0.0, tuple(groups))

        monkeypatch.setattr(engine, "choose_rows", choose)
    return force


@pytest.fixture
def cover_always(monkeypatch):
    """Answer all posteriors by relevant parts, whatever the cost model says."""
    monkeypatch.setattr(engine, "target_groups",
                        lambda network, evidence, targets, plan: relevant_cover(network, evidence, targets))


def unpruned(net, frame):
    """Every node's posterior per row from one tree over the whole network, nothing pruned or sliced."""
    ev = as_evidence(net, frame)
    problem = engine.prepare(net, ev, targets=None, prune=False)
    tables, log_ev, _ = engine.discrete_marginals(problem, ev, [(n,) for n in net.nodes], calibrate=True)
    return {n: tables[(n,)] for n in net.nodes}, log_ev


# ---------------------------------------------------------------------------- per-pattern rows vs enumeration
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", ["per-pattern", "shared"])
def test_rows_by_pattern_equal_enumeration(seed, kind, rows_strategy, cover_always):
    rows_strategy(kind)
    net = random_network(seed)
    joint = joint_table(net)
    frame = masked_sample(net, 25, 0.5, seed)
    expected = [enumerate_row(net, joint, row) for row in rows_of(frame)]
    p = np.array([e[1] for e in expected])
    np.testing.assert_allclose(net.log_evidence(frame), np.log(p), rtol=1e-12, atol=1e-12)
    posteriors = net.posteriors(frame)
    for node in net.nodes:
        want = np.array([e[0][node] for e in expected])
        np.testing.assert_allclose(net.query(node, evidence=frame).to_numpy(), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(posteriors[node].to_numpy(), want, rtol=1e-12, atol=1e-12)
    pair = tuple(net.nodes[:2])
    joint_query = net.query(list(pair), evidence=frame).to_numpy()
    for k, row in enumerate(rows_of(frame)):
        single = net.query(list(pair), evidence=row).probabilities
        np.testing.assert_allclose(joint_query[k], np.asarray(single).ravel(), rtol=1e-12, atol=1e-14)


def test_patterns_group_rows_by_their_observed_nodes():
    net = pgm.load("asia")
    frame = pd.DataFrame({"asia": ["yes", None, "no", None], "xray": ["yes", "no", None, "yes"]})
    groups = evidence_patterns(as_evidence(net, frame))
    assert [list(g) for g in groups] == [[0], [1, 3], [2]]


# ---------------------------------------------------------------------------- bundled networks vs the unpruned tree
@pytest.mark.parametrize("name", BUNDLED)
def test_pruned_paths_equal_the_unpruned_tree_on_bundled_networks(name, rows_strategy, cover_always):
    net = pgm.load(name)
    frame = masked_sample(net, 30, 0.6, seed=len(name))
    want, want_log = unpruned(net, frame)
    rows_strategy("per-pattern")
    got = net.posteriors(frame)
    np.testing.assert_allclose(net.log_evidence(frame), want_log, rtol=1e-12, atol=1e-12)
    for node in net.nodes:
        np.testing.assert_allclose(got[node].to_numpy(), want[node].T, rtol=1e-12, atol=1e-12, err_msg=node)
    target = net.nodes[len(net.nodes) // 2]
    np.testing.assert_allclose(net.query(target, evidence=frame).to_numpy(), want[target].T, rtol=1e-12, atol=1e-12)
    # one case: all posteriors by relevant parts
    row = rows_of(frame)[0]
    single = net.posteriors(row)
    for node, distribution in single.items():
        np.testing.assert_allclose(np.asarray(distribution.probabilities), want[node][:, 0], rtol=1e-12, atol=1e-12)
        assert distribution.log_evidence == pytest.approx(want_log[0], rel=1e-12, abs=1e-12)


def test_a_batch_that_no_shared_tree_can_hold_is_answered_per_row():
    # 26 four-state roots whose children tie every 11 consecutive roots together: any tree over all of
    # them has a clique of 4**11 entries (32 MiB).  Rows that hide only a few roots need small trees.
    net = banded_network()
    roots = [n for n in net.nodes if n.startswith("R")]
    frame = net.sample(12, seed=5)
    rng = np.random.default_rng(5)
    hide = np.zeros(frame.shape, dtype=bool)
    for k in range(len(frame)):
        hide[k, [frame.columns.get_loc(r) for r in rng.choice(roots, size=3, replace=False)]] = True
    frame = frame.mask(hide)
    budget = 1 << 22
    plan = net.inference_plan("R12", frame, memory_budget=budget)
    assert plan.strategy == "by-relevance" and plan.patterns <= 12  # a batched query: by requisite part
    assert net.inference_plan(None, frame, memory_budget=budget).strategy == "per-row"
    batched = net.query("R12", evidence=frame, memory_budget=budget)
    for k, row in enumerate(rows_of(frame)):
        single = net.query("R12", evidence=row, memory_budget=budget)
        np.testing.assert_allclose(batched.iloc[k].to_numpy(), np.asarray(single.probabilities), rtol=1e-12)


# ---------------------------------------------------------------------------- all posteriors by relevance
def banded_network():
    """The network of test_inference_discrete.banded_network, smaller tables: a moral clique of 11 roots."""
    rng = np.random.default_rng(99)
    roots = [f"R{i:02d}" for i in range(26)]
    cpds = {r: pgm.Categorical(["a", "b", "c", "d"], table=rng.dirichlet(np.ones(4))) for r in roots}
    for i in range(26):
        for d in (1, 3, 5, 7, 9):
            if i + d >= 26:
                continue
            parents = [roots[i], roots[i + d]] + ([roots[i + d + 1]] if i + d + 1 < 26 else [])
            cpds[f"C{i:02d}_{d}"] = pgm.Categorical(
                ["s0", "s1"], parents=parents,
                table=rng.dirichlet(np.ones(2), size=4 ** len(parents)).reshape([4] * len(parents) + [2]))
    return pgm.BayesianNetwork(cpds, name="banded")


def test_all_posteriors_without_evidence_fit_a_budget_the_whole_tree_does_not():
    net = banded_network()
    budget = 1 << 20
    # one tree over every node (any elimination order has the 11-root clique)
    whole = engine.prepare(net, as_evidence(net, None), targets=None, plan_only=True, estimate=True)
    assert 8 * whole.tree.largest_table_entries > budget
    tracemalloc.start()
    try:
        posteriors = net.posteriors({}, memory_budget=budget)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < budget
    # closed form: the roots are independent, so a child's marginal is a sum over its parents' product
    for node in net.nodes:
        cpd = net[node]
        if not cpd.parents:
            expected = np.asarray(cpd.table)
        else:
            expected = np.asarray(cpd.table)
            for axis, parent in reversed(list(enumerate(cpd.parents))):
                expected = np.tensordot(np.asarray(net[parent].table), expected, axes=([0], [axis]))
        np.testing.assert_allclose(np.asarray(posteriors[node].probabilities), expected, rtol=1e-12, atol=1e-15)
    assert net.inference_plan(memory_budget=budget).trees > 1


# ---------------------------------------------------------------------------- memory priced before allocation
def wide_chain(n: int = 40, k: int = 10) -> pgm.BayesianNetwork:
    """x_i has parents x_{i-1}, x_{i-2}, x_{i-3}: cliques of 4 ten-state nodes (80 KB each), n of them."""
    rng = np.random.default_rng(3)
    cpds = {}
    for i in range(n):
        parents = [f"x{j}" for j in range(max(0, i - 3), i)]
        table = rng.dirichlet(np.ones(k), size=k ** len(parents)).reshape([k] * len(parents) + [k])
        cpds[f"x{i}"] = pgm.Categorical([f"s{j}" for j in range(k)], parents=parents, table=table)
    return pgm.BayesianNetwork(cpds)


def peak_of(call) -> tuple[int, object]:
    tracemalloc.start()
    try:
        try:
            result = call()
        except pgm.errors.InferenceTooLarge as refusal:
            result = refusal
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


def test_a_plan_whose_tables_exceed_the_budget_is_refused_before_they_are_built():
    net = wide_chain()
    budget = 1 << 20  # every clique fits (80 KB), all of them together (3 MB) do not
    plan = net.inference_plan(memory_budget=budget)
    assert plan.largest_table_bytes < budget < plan.static_bytes
    peak, result = peak_of(lambda: net.query("x39", evidence={"x0": "s1"}, memory_budget=budget))
    assert isinstance(result, pgm.errors.InferenceTooLarge), result
    assert "static tables" in str(result) and "1.0 MiB" in str(result)
    assert peak < budget / 4
    # with room for the tables the same query is answered, under its budget
    roomy = 4 * plan.static_bytes
    peak, result = peak_of(lambda: net.query("x39", evidence={"x0": "s1"}, memory_budget=roomy))
    assert isinstance(result, pgm.DiscreteDistribution)
    assert peak < roomy


@pytest.mark.parametrize("budget", [1 << 20, 1 << 22])
def test_batched_rows_stay_under_the_budget(budget):
    net = pgm.load("alarm")
    frame = masked_sample(net, 4000, 0.3, seed=1)
    output = 4000 * 8 * 4  # the answer itself: 4 states per row, and pandas' copy of it
    peak, result = peak_of(lambda: net.query("HYPOVOLEMIA", evidence=frame, memory_budget=budget))
    assert isinstance(result, pd.DataFrame)
    assert peak < budget + 4 * output + (1 << 19)


# ---------------------------------------------------------------------------- the plan cache
def test_plan_cache_evicts_least_recently_used_by_bytes():
    cache = PlanCache(max_bytes=100)
    cache.put("a", 1, 40)
    cache.put("b", 2, 40)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3, 40)      # over 100: b goes
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    assert cache.nbytes == 80 and cache.evictions == 1
    cache.put("huge", 4, 101)  # larger than the whole cache: not kept
    assert cache.get("huge") is None and cache.nbytes == 80
    cache.max_bytes = 50
    assert len(cache) == 1 and cache.nbytes == 40
    with pytest.raises(ValueError, match="max_bytes"):
        cache.max_bytes = -1


def test_varied_queries_keep_the_cache_within_its_bound_and_the_plan_reports_it():
    net = pgm.load("alarm")
    bound = 60_000
    plan_cache(net).max_bytes = bound
    rng = np.random.default_rng(0)
    frame = net.sample(80, seed=2)
    for k in range(80):
        observed = rng.choice(net.nodes, size=8, replace=False)
        net.query("HYPOVOLEMIA", evidence={n: frame[n].iloc[k] for n in observed})
    cache = plan_cache(net)
    assert 0 < cache.nbytes <= bound and cache.evictions > 0
    # the price covers what the trees really hold
    held = sum(sum(a.nbytes for a in tree._fixed_base) for tree in (v for v, _ in cache._items.values())
               if getattr(tree, "_fixed_base", None) is not None)
    assert held <= cache.nbytes
    plan = net.inference_plan()
    assert plan.cache_limit_bytes == bound and plan.cache_plans == len(plan_cache(net))
    assert "plan cache" in str(plan)


def test_the_cache_bound_survives_an_edit_of_the_network():
    net = pgm.load("asia")
    plan_cache(net).max_bytes = 12345
    net.add("extra", pgm.Categorical(["a", "b"], parents=["dysp"], table=[[0.5, 0.5], [0.1, 0.9]]))
    assert len(plan_cache(net)) == 0 and plan_cache(net).max_bytes == 12345


# ---------------------------------------------------------------------------- triangulation
def random_graph(rng, n, density):
    adjacency = {v: set() for v in range(n)}
    for a, b in itertools.combinations(range(n), 2):
        if rng.random() < density:
            adjacency[a].add(b)
            adjacency[b].add(a)
    return adjacency


@pytest.mark.parametrize("seed", range(15))
def test_triangulation_keeps_the_cheapest_heuristic_and_prices_the_tree_it_builds(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(8, 30))
    adjacency = random_graph(rng, n, float(rng.uniform(0.1, 0.35)))
    cards = [int(c) for c in rng.integers(2, 7, size=n)]
    first = total_entries(*greedy_order(adjacency, cards, HEURISTICS[0]), cards)
    tried = heuristics_for(first, n, n_rows=1000)
    assert tried[:4] == HEURISTICS[:4]
    totals = {h: total_entries(*greedy_order(adjacency, cards, h), cards) for h in tried}
    order, cliques, heuristic, total = triangulate(adjacency, cards, n_rows=1000, try_others_above=0)
    assert total == min(totals.values()) == totals[heuristic]
    assert tried.index(heuristic) == min(i for i, h in enumerate(tried) if totals[h] == total)
    # the priced total is the compiled tree's: one static factor per edge forces exactly this graph
    scopes = [(v,) for v in range(n)] + [(a, b) for a in adjacency for b in adjacency[a] if a < b]
    tree = compile_junction_tree(cards, scopes, [])
    best = triangulate(adjacency, cards)
    assert tree.total_table_entries == best[3] and tree.heuristic == best[2]


def test_other_heuristics_beat_weighted_min_fill_somewhere():
    wins = 0
    for seed in range(40):
        rng = np.random.default_rng(1000 + seed)
        n = 25
        adjacency = random_graph(rng, n, 0.2)
        cards = [int(c) for c in rng.choice([2, 3, 8], size=n)]
        first = total_entries(*greedy_order(adjacency, cards, "weighted-min-fill"), cards)
        wins += triangulate(adjacency, cards, n_rows=1000, try_others_above=0)[3] < first
    assert wins > 0


@pytest.mark.parametrize("name", ["asia", "child"])
def test_expected_statistics_per_pattern_equal_the_shared_tree(name, rows_strategy):
    from pgm.inference.expectations import expected_statistics

    net = pgm.load(name)
    frame = masked_sample(net, 40, 0.5, seed=7)
    weights = np.random.default_rng(7).uniform(0.5, 2.0, size=len(frame))
    rows_strategy("shared")
    want, want_log = expected_statistics(net, as_evidence(net, frame), weights)
    rows_strategy("per-pattern")
    got, got_log = expected_statistics(net, as_evidence(net, frame), weights)
    np.testing.assert_allclose(got_log, want_log, rtol=1e-12, atol=1e-12)
    for node in net.nodes:
        np.testing.assert_allclose(got[node], want[node], rtol=1e-12, atol=1e-12, err_msg=node)
    # and the counts are those of enumeration: each row's family posterior, weighted
    if name == "asia":
        joint = joint_table(net)
        family = list(net["either"].parents) + ["either"]
        expected = 0
        for w, row in zip(weights, rows_of(frame)):
            posterior_joint = joint.copy()
            index = tuple(net.states(n).index(row[n]) if n in row else slice(None) for n in net.nodes)
            mask = np.zeros_like(joint)
            mask[index] = 1.0
            posterior_joint = joint * mask / (joint * mask).sum()
            keep = [net.nodes.index(v) for v in family]
            others = tuple(a for a in range(len(net.nodes)) if a not in keep)
            marginal = posterior_joint.sum(axis=others)  # axes in network order
            order = np.argsort(np.argsort(keep))
            expected = expected + w * np.transpose(marginal, order)
        np.testing.assert_allclose(got["either"], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_mpe_per_pattern_is_the_enumerated_maximum(seed, rows_strategy):
    rows_strategy("per-pattern")
    net = random_network(100 + seed)
    joint = joint_table(net)
    frame = masked_sample(net, 20, 0.5, seed)
    result = net.mpe(frame)
    for k, row in enumerate(rows_of(frame)):
        index = tuple(net.states(n).index(row[n]) if n in row else slice(None) for n in net.nodes)
        best = float(np.max(joint[index]))
        assert result.log_probability[k] == pytest.approx(np.log(best), rel=1e-12, abs=1e-12)
        chosen = tuple(net.states(n).index(result.assignment[n].iloc[k]) for n in net.nodes)
        assert joint[chosen] == pytest.approx(best, rel=1e-12)


def test_small_trees_answer_many_rows_shared():
    # asia's tree has 40 entries: one vectorised pass beats planning ~100 patterns one by one
    net = pgm.load("asia")
    frame = masked_sample(net, 1000, 0.3, seed=4).drop(columns=["lung"])
    plan = net.inference_plan("lung", frame)
    assert plan.strategy == "shared" and plan.patterns > 50
