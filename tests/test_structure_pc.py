"""PC-stable: exact with a d-separation oracle; its tests equal independent statistics; conflicts are reported."""

from collections import defaultdict

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.stats

import pgm
from pgm.graph import DAG
from pgm.structure import CPDAG, OrientationConflictWarning, FamilyStatistics, pc, structural_hamming_distance
from pgm.structure import sufficient_table
from pgm.structure.independence import IndependenceTest


def random_dag(n, rng, degree=2.0):
    order = rng.permutation(n)
    names = [f"x{k}" for k in range(n)]
    edges = [(names[order[i]], names[order[j]]) for i in range(n) for j in range(i + 1, n)
             if rng.random() < degree / (n - 1)]
    return DAG.from_edges(edges, nodes=names)


def equivalence_class_cpdag(dag, limit=200_000):
    """The CPDAG by enumerating the Markov equivalence class: every DAG reachable by covered-edge reversals
    (Chickering, 1995); an edge is directed when all members agree on its direction."""
    start = frozenset(dag.edges)
    seen, queue = {start}, [start]
    while queue:
        graph = queue.pop()
        parents = defaultdict(set)
        for u, v in graph:
            parents[v].add(u)
        for u, v in graph:
            if parents[v] - {u} == parents[u]:  # u -> v is covered: reversing it keeps the class
                turned = (graph - {(u, v)}) | {(v, u)}
                if turned not in seen:
                    seen.add(turned)
                    queue.append(turned)
        assert len(seen) < limit
    directed = set.intersection(*(set(g) for g in seen))
    undirected = {tuple(sorted(e)) for e in dag.edges if e not in directed}
    return CPDAG(dag.nodes, directed, undirected), len(seen)


def networkx_oracle(dag):
    graph = dag.to_networkx()
    return lambda x, y, given: float(nx.is_d_separator(graph, {x}, {y}, set(given)))


def test_pc_with_a_d_separation_oracle_returns_the_true_cpdag_on_random_dags():
    rng = np.random.default_rng(20)
    sizes = []
    for n in [10, 12, 15, 18, 20, 25, 30, 30]:
        dag = random_dag(n, rng)
        expected, size = equivalence_class_cpdag(dag)
        sizes.append(size)
        learned = pc(test=networkx_oracle(dag), nodes=dag.nodes)
        assert learned == expected, n
        assert learned.conflicts == []
    assert max(sizes) > 10  # the classes are not all trivial


def test_cpdag_from_dag_equals_the_enumerated_equivalence_class():
    rng = np.random.default_rng(7)
    for n in [5, 8, 10, 14, 20]:
        for _ in range(4):
            dag = random_dag(n, rng, degree=2.5)
            assert CPDAG.from_dag(dag) == equivalence_class_cpdag(dag)[0]


def test_a_cpdag_extends_to_a_dag_of_its_class():
    rng = np.random.default_rng(3)
    for n in [6, 12, 20]:
        dag = random_dag(n, rng, degree=2.5)
        cpdag = CPDAG.from_dag(dag)
        extension = cpdag.to_dag()
        assert extension.is_i_equivalent(dag)


def test_structural_hamming_distance_counts_missing_extra_and_reversed():
    truth = DAG.from_edges([("a", "b"), ("b", "c"), ("c", "d")])
    learned = DAG.from_edges([("b", "a"), ("b", "c"), ("a", "d")], nodes=["a", "b", "c", "d"])
    assert structural_hamming_distance(learned, truth) == {"missing": 1, "extra": 1, "reversed": 1, "total": 3}
    # As CPDAGs both are fully undirected chains / trees: only the skeleton differs.
    assert structural_hamming_distance(CPDAG.from_dag(learned), CPDAG.from_dag(truth))["total"] == 2


def test_g_test_and_chi_square_equal_scipy_within_one_stratum():
    rows = pgm.load("asia").sample(3000, seed=1)
    stats = FamilyStatistics(sufficient_table(rows))
    table = pd.crosstab(rows["smoke"], rows["bronc"]).to_numpy()
    g, p_g, dof, _ = scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    chi, p_chi, _, _ = scipy.stats.chi2_contingency(table, correction=False)
    assert IndependenceTest(stats, "g")("smoke", "bronc", ()) == pytest.approx(p_g, rel=1e-9)
    assert IndependenceTest(stats, "chi2")("smoke", "bronc", ()) == pytest.approx(p_chi, rel=1e-9)


def test_conditional_g_test_sums_strata_and_drops_empty_rows_from_the_degrees_of_freedom():
    rng = np.random.default_rng(0)
    n = 400
    z = rng.choice(["u", "v"], n)
    # In stratum z=u the variable x never takes state "c": that row is empty and gives no degree of freedom.
    x = np.where(z == "u", rng.choice(["a", "b"], n), rng.choice(["a", "b", "c"], n))
    y = rng.choice(["p", "q", "r"], n)
    rows = pd.DataFrame({"x": x, "y": y, "z": z})
    statistic, dof = 0.0, 0
    for _, part in rows.groupby("z"):
        table = pd.crosstab(part["x"], part["y"]).to_numpy()
        g, _, d, _ = scipy.stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
        statistic += g
        dof += d
    assert dof == (2 - 1) * (3 - 1) + (3 - 1) * (3 - 1)
    test = IndependenceTest(FamilyStatistics(sufficient_table(rows)), "g")
    assert test("x", "y", ("z",)) == pytest.approx(scipy.stats.chi2.sf(statistic, dof), rel=1e-9)


def test_fisher_z_equals_the_partial_correlation_of_regression_residuals():
    rows = pgm.load("ecoli70").sample(1500, seed=0)
    x, y, given = "aceB", "icdA", ("asnA", "atpD")
    design = np.column_stack([np.ones(len(rows)), rows[list(given)].to_numpy()])

    def residual(column):
        values = rows[column].to_numpy()
        return values - design @ np.linalg.lstsq(design, values, rcond=None)[0]

    r = np.corrcoef(residual(x), residual(y))[0, 1]
    z = np.sqrt(len(rows) - len(given) - 3) * np.arctanh(r)
    expected = 2 * scipy.stats.norm.sf(abs(z))
    test = IndependenceTest(FamilyStatistics(sufficient_table(rows)), "fisher-z")
    assert test(x, y, given) == pytest.approx(expected, rel=1e-7)


def test_orientation_conflicts_are_reported_not_hidden():
    # a - b - c - d - a with a _||_ c and b _||_ d: no DAG is faithful to this, and every v-structure clashes.
    separated = {frozenset("ac"), frozenset("bd")}

    def oracle(x, y, given):
        return float(frozenset((x, y)) in separated)

    with pytest.warns(OrientationConflictWarning, match="4 edge"):
        learned = pc(test=oracle, nodes=list("abcd"))
    assert learned.conflicts == [("a", "b"), ("a", "d"), ("b", "c"), ("c", "d")]
    assert learned.undirected == {frozenset(e) for e in learned.conflicts} and not learned.directed


def test_pc_on_data_recovers_a_small_network_and_is_fitted_by_from_data():
    for name in ("earthquake", "survey"):
        truth = pgm.load(name)
        rows = truth.sample(50_000, seed=0)
        assert pc(rows, alpha=0.01) == CPDAG.from_dag(truth.dag), name
    learned = pc(rows, alpha=0.01)
    assert learned == CPDAG.from_dag(truth.dag)
    net = pgm.BayesianNetwork.from_data(learned, rows)
    assert net.dag.is_i_equivalent(truth.dag)


def test_pc_refuses_a_test_for_the_wrong_kind_and_a_function_without_nodes():
    mixed = pd.DataFrame({"a": ["x", "y"] * 50, "b": np.arange(100) * 0.5})
    with pytest.raises(pgm.errors.StructureError, match="'b' is continuous"):
        pc(mixed, test="g")
    with pytest.raises(pgm.errors.StructureError, match="'a' is discrete"):
        pc(mixed, test="fisher-z")
    with pytest.raises(ValueError, match="nodes="):
        pc(test=lambda x, y, given: 1.0)


def test_a_conflicted_cpdag_still_gives_a_dag_when_not_strict():
    cyclic = CPDAG(list("abcd"), [("a", "b"), ("b", "c"), ("c", "a")], [("c", "d")])
    with pytest.raises(pgm.errors.StructureError, match="no DAG extension"):
        cyclic.to_dag()
    dag = cyclic.to_dag(strict=False)
    assert {frozenset(e) for e in dag.edges} == {frozenset(e) for e in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]}
    assert ("a", "b") in dag.edges and ("b", "c") in dag.edges


@pytest.mark.parametrize("test", ["g", "chi2"])
def test_batched_and_focused_tests_equal_scipy_one_at_a_time(test):
    # p_values_given_each (one pass for all z) and focus (one joint table, axes summed out) must give the
    # p-values scipy gives on each stratum's crosstab, summed over strata.
    frame = pgm.load("child").sample(3000, seed=3)
    stats = FamilyStatistics(sufficient_table(frame))
    independence = IndependenceTest(stats, test)
    x, y, others = "Disease", "LVH", ["Age", "Sick", "DuctFlow", "CardiacMixing"]

    def reference(given):
        statistic = dof = 0.0
        for _, stratum in frame.groupby(list(given), observed=True):
            table = pd.crosstab(stratum[x], stratum[y]).to_numpy()
            table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
            if min(table.shape) < 2:
                continue
            result = scipy.stats.chi2_contingency(table, correction=False,
                                                  lambda_="log-likelihood" if test == "g" else None)
            statistic += result.statistic
            dof += result.dof
        return scipy.stats.chi2.sf(statistic, dof) if dof else 1.0

    expected = [reference((z,)) for z in others]
    np.testing.assert_allclose(independence.p_values_given_each(x, y, others), expected, rtol=1e-8, atol=1e-300)
    independence.focus([x, y] + others)
    assert independence._focus is not None
    for given in [("Age", "Sick"), ("DuctFlow",), ("Sick", "CardiacMixing", "Age")]:
        assert independence(x, y, given) == pytest.approx(reference(given), rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("test", ["g", "chi2"])
def test_batched_tests_with_a_fixed_conditioning_prefix_equal_scipy_also_on_the_projected_rows(test):
    # p_values_given_each(given=...) conditions on given + (z,) for each z in one pass; after focus() it counts
    # from the focused variables' distinct rows only.  Both must equal scipy's per-stratum tests summed.
    frame = pgm.load("child").sample(3000, seed=4)
    stats = FamilyStatistics(sufficient_table(frame))
    x, y, others = "Disease", "LVH", ["Age", "Sick", "DuctFlow", "CardiacMixing"]

    def reference(given):
        statistic = dof = 0.0
        for _, stratum in frame.groupby(list(given), observed=True):
            table = pd.crosstab(stratum[x], stratum[y]).to_numpy()
            table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
            if min(table.shape) < 2:
                continue
            result = scipy.stats.chi2_contingency(table, correction=False,
                                                  lambda_="log-likelihood" if test == "g" else None)
            statistic += result.statistic
            dof += result.dof
        return scipy.stats.chi2.sf(statistic, dof) if dof else 1.0

    for focused in (False, True):
        independence = IndependenceTest(stats, test)
        if focused:
            independence.focus([x, y] + others)
            assert independence._reduced is not None and independence._reduced.table.n_groups < stats.table.n_groups
        for given in [["Age"], ["Age", "Sick"]]:
            tails = [z for z in others if z not in given]
            expected = [reference(tuple(given) + (z,)) for z in tails]
            np.testing.assert_allclose(independence.p_values_given_each(x, y, tails, given=given), expected,
                                       rtol=1e-8, atol=1e-300)


def test_counts_of_a_few_candidates_equal_brute_force_counts():
    # The few-candidates path (only their code rows) against pandas counting each family from the rows.
    frame = pgm.load("alarm").sample(2000, seed=5)
    stats = FamilyStatistics(sufficient_table(frame))
    names = list(stats.names)
    child, parents, candidates = 3, (0, 7), [1, 12, 30]
    joint, starts = stats.joint_counts_adding(child, parents, candidates)
    for x, start in zip(candidates, starts):
        family = [names[p] for p in parents] + [names[child], names[x]]
        counted = frame.groupby(family, observed=False).size()
        shape = [len(frame[n].cat.categories) for n in family]
        states = [stats.table.states[n] for n in family]
        expected = counted.reindex(pd.MultiIndex.from_product(states)).fillna(0).to_numpy().reshape(shape)
        k = int(stats.cardinality[x])
        got = joint[:, :, start:start + k].reshape(shape)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.filterwarnings("ignore::pgm.structure.pc.OrientationConflictWarning")
def test_pc_with_batched_tests_equals_pc_with_one_test_at_a_time():
    # The skeleton's batches (one pass per run of conditioning sets sharing all but their last member) must stop
    # at the same separating set as testing each set in turn: same CPDAG, same separating sets, same test count.
    frame = pgm.load("alarm").sample(3000, seed=6)
    stats = FamilyStatistics(sufficient_table(frame))
    batched = pc(stats, alpha=0.05)
    plain_test = IndependenceTest(stats, "g")
    one_at_a_time = pc(test=lambda x, y, given: plain_test(x, y, given), nodes=list(stats.names), alpha=0.05)
    assert batched == one_at_a_time
    assert batched.pc_report_.separating_sets == one_at_a_time.pc_report_.separating_sets
    assert batched.pc_report_.tests == one_at_a_time.pc_report_.tests
    assert batched.pc_report_.max_conditioning_used >= 2


def mixed_frame(n_rows, seed):
    """d (3 states) -> y <- x1 and y -> z, continuous y, x1, z: a v-structure across kinds, then a chain."""
    rng = np.random.default_rng(seed)
    d = rng.integers(0, 3, n_rows)
    x1 = rng.normal(size=n_rows)
    y = np.array([-1.0, 0.0, 1.5])[d] + 0.8 * x1 + rng.normal(size=n_rows)
    z = 0.7 * y + rng.normal(size=n_rows)
    return pd.DataFrame({"d": [f"s{v}" for v in d], "x1": x1, "y": y, "z": z})


def gaussian_log_likelihood(values):
    """Maximised log-likelihood of rows under one multivariate normal (scipy, ML mean and covariance)."""
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    covariance = np.cov(values, rowvar=False, bias=True).reshape(values.shape[1], values.shape[1])
    return float(scipy.stats.multivariate_normal(values.mean(axis=0), covariance).logpdf(values).sum())


def test_conditional_gaussian_test_equals_the_likelihood_ratio_computed_with_scipy():
    frame = mixed_frame(1500, seed=0)
    independence = IndependenceTest(FamilyStatistics(sufficient_table(frame)), "cg")
    n = len(frame)
    groups = frame.groupby("d")
    # x1 independent of d given y? The four models' log-likelihoods, each by scipy.
    l_xyd = sum(len(g) * np.log(len(g) / n) + gaussian_log_likelihood(g[["x1", "y"]]) for _, g in groups)
    l_xy = gaussian_log_likelihood(frame[["x1", "y"]])
    l_dy = sum(len(g) * np.log(len(g) / n) + gaussian_log_likelihood(g[["y"]]) for _, g in groups)
    l_y = gaussian_log_likelihood(frame[["y"]])
    statistic = 2 * (l_xyd - l_xy - l_dy + l_y)
    dof = (2 + 5 * 3) - 5 - (2 + 2 * 3) + 2  # multinomial + per-state mean and covariance, per model
    assert independence("x1", "d", ("y",)) == pytest.approx(scipy.stats.chi2.sf(statistic, dof), rel=1e-8)


def test_conditional_gaussian_test_reduces_to_the_g_test_and_to_partial_correlation():
    rows = pgm.load("asia").sample(5000, seed=1)[["smoke", "lung", "bronc"]]
    discrete = IndependenceTest(FamilyStatistics(sufficient_table(rows)), "cg")
    g = sum(scipy.stats.chi2_contingency(pd.crosstab(part["lung"], part["bronc"]), correction=False,
                                         lambda_="log-likelihood").statistic for _, part in rows.groupby("smoke"))
    assert (pd.crosstab([rows["smoke"], rows["lung"]], rows["bronc"]).to_numpy() > 0).all()  # df as scipy's
    assert discrete("lung", "bronc", ("smoke",)) == pytest.approx(scipy.stats.chi2.sf(g, 2), rel=1e-8)
    frame = mixed_frame(1500, seed=2)[["x1", "y", "z"]]
    continuous = IndependenceTest(FamilyStatistics(sufficient_table(frame)), "cg")
    residual = lambda a: frame[a] - np.polyval(np.polyfit(frame["y"], frame[a], 1), frame["y"])  # noqa: E731
    r = np.corrcoef(residual("x1"), residual("z"))[0, 1]
    expected = scipy.stats.chi2.sf(-len(frame) * np.log(1 - r ** 2), 1)
    assert continuous("x1", "z", ("y",)) == pytest.approx(expected, rel=1e-6)


def test_pc_on_mixed_data_finds_the_v_structure_across_kinds():
    learned = pc(mixed_frame(5000, seed=3), alpha=0.01)
    assert learned == CPDAG(["d", "x1", "y", "z"], [("d", "y"), ("x1", "y"), ("y", "z")], [])
    assert learned.pc_report_.tests > 0
