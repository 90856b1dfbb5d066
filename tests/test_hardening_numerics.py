"""Issue 9: the joint Gaussian (item 12), huge sizes (item 7), bits per variable (item 14), the empty
cases old SciPy refuses (item 16), and d-separation on deep graphs (item 19)."""

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import DataError, InferenceTooLarge, NodeError
from pgm.inference.gaussian import MultivariateNormal


@pytest.fixture(scope="module")
def joint():
    return pgm.load("ecoli70").joint_gaussian()


# ---------------------------------------------------------------- item 12: the joint Gaussian's errors


def test_logpdf_of_a_frame_without_a_column_names_it(joint):
    frame = pgm.load("ecoli70").sample(5, seed=0).drop(columns=["lacZ"])
    with pytest.raises(DataError, match="the data has no column for variable 'lacZ'"):
        joint.logpdf(frame)


def test_logpdf_of_an_array_of_the_wrong_width_says_what_it_needs(joint):
    with pytest.raises(DataError, match=r"one column per variable \(46: .*\), got an array of shape \(3, 45\)"):
        joint.logpdf(np.zeros((3, 45)))


def test_logpdf_of_a_row_with_nan_names_the_row_and_node(joint):
    rows = pgm.load("ecoli70").sample(4, seed=1)
    rows.loc[2, "asnA"] = np.nan
    with pytest.raises(DataError, match=r"row 2: the value of 'asnA' is nan; .*log_likelihood"):
        joint.logpdf(rows)


@pytest.mark.parametrize("value", [np.nan, np.inf, "high", None])
def test_conditioning_on_a_value_that_is_not_a_finite_number_is_refused(joint, value):
    with pytest.raises(DataError, match="'lacA'"):
        joint.condition({"lacA": value})


def test_conditional_means_refuse_nan_rows(joint):
    with pytest.raises(DataError, match=r"row 1: the value of 'lacA' is nan"):
        joint.conditional_means({"lacA": [1.0, np.nan]})


def test_the_logpdf_still_agrees_with_scipy(joint):
    from scipy.stats import multivariate_normal

    rows = pgm.load("ecoli70").sample(20, seed=2)
    expected = multivariate_normal(joint.mean, joint.covariance).logpdf(rows[list(joint.names)].to_numpy())
    np.testing.assert_allclose(joint.logpdf(rows), expected, rtol=1e-10)
    np.testing.assert_allclose(joint.logpdf({n: rows[n].to_numpy() for n in joint.names}), expected, rtol=1e-10)


# ---------------------------------------------------------------- item 16: empty cases (LAPACK in old SciPy)


def test_conditioning_on_nothing_is_the_distribution_itself(joint):
    same = joint.condition({})
    np.testing.assert_array_equal(same.mean, joint.mean)
    np.testing.assert_array_equal(same.covariance, joint.covariance)


def test_conditioning_on_everything_leaves_nothing(joint):
    rest = joint.condition({name: 0.0 for name in joint.names})
    assert rest.names == () and rest.mean.shape == (0,) and rest.covariance.shape == (0, 0)


def test_the_joint_of_no_variables(joint):
    empty = pgm.BayesianNetwork().joint_gaussian()
    assert empty.names == () and empty.kl_divergence(empty) == 0.0
    np.testing.assert_array_equal(empty.logpdf(np.empty((3, 0))), np.zeros(3))
    assert joint.marginal([]).names == ()


def test_sample_counts_must_be_non_negative_integers(joint):
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="non-negative integer"):
            joint.sample(bad)
    assert joint.sample(0, seed=1).shape == (0, 46)


# ---------------------------------------------------------------- item 7: sizes that cannot fit


def test_sampling_more_rows_than_memory_holds_is_refused_with_the_size():
    with pytest.raises(InferenceTooLarge, match=r"sampling 1,000,000,000,000 rows of 37 nodes needs 33\.\d TiB"):
        pgm.load("alarm").sample(10**12)


def test_inference_too_large_is_a_memory_error_and_a_pgm_error():
    assert issubclass(InferenceTooLarge, MemoryError) and issubclass(InferenceTooLarge, pgm.errors.PGMError)


# ---------------------------------------------------------------- item 14: bits per variable


def test_bits_per_variable_of_a_certain_network_is_plus_zero():
    net = pgm.BayesianNetwork({"a": pgm.Categorical(["only"], table=[1.0])})
    rows = pd.DataFrame({"a": ["only"] * 3})
    assert net.bits_per_variable(rows) == 0.0 and f"{net.bits_per_variable(rows):.6f}" == "0.000000"


# ---------------------------------------------------------------- item 19: d-separation on deep graphs


def deep_dag(n, window, seed):
    rng = np.random.default_rng(seed)
    parents = {}
    for i in range(n):
        count = min(i, int(rng.poisson(2.0)))
        picks = set(rng.integers(max(0, i - window), i, size=count).tolist()) if count else set()
        parents[f"v{i}"] = [f"v{j}" for j in sorted(picks)]
    return pgm.DAG(parents)


def test_a_deep_graph_switches_to_the_compiled_search_and_agrees_with_the_level_search():
    dag = deep_dag(3000, 20, seed=0)
    rng = np.random.default_rng(1)
    answers = []
    for _ in range(25):
        picked = [f"v{i}" for i in rng.choice(3000, size=5, replace=False)]
        x, y, given = picked[0], picked[1], picked[2:]
        answers.append(dag.is_d_separated(x, y, given))
        xs, ys, zs = dag._prepare(x, y, given)
        assert answers[-1] == (dag._reach(xs, zs, targets=ys)[2] < 0)  # no level budget: the reference
        connected = dag.d_connected(x, given)
        assert (y in connected) == (not answers[-1])
    assert dag._deep  # the level-synchronous search gave up on this graph, and the compiled one answered
    assert 0 < sum(answers) < len(answers)


def test_the_compiled_search_and_the_level_synchronous_search_agree_on_every_query():
    rng = np.random.default_rng(7)
    for trial in range(120):
        n = int(rng.integers(2, 12))
        names = [f"v{i}" for i in range(n)]
        edges = [(names[j], names[i]) for i in range(n) for j in range(i) if rng.random() < 0.35]
        dag = pgm.DAG.from_edges(edges, nodes=names)
        graph = dag.to_networkx()
        order = rng.permutation(n)
        x, given = names[order[0]], [names[i] for i in order[1:1 + int(rng.integers(0, n))]]
        xs, _, zs = dag._prepare(x, None, given)
        level = dag._names(dag._reach(xs, zs)[0]) - {x}
        compiled = dag._names(dag._compiled_ball(xs, zs)) - {x}
        reference = {v for v in names if v != x and v not in given
                     and not nx.is_d_separator(graph, {x}, {v}, set(given))}
        assert level == compiled == reference, (edges, x, given)


def test_the_compiled_search_agrees_with_networkx_on_a_deep_graph():
    dag = deep_dag(600, 4, seed=2)
    dag._deep = True  # straight to the compiled search
    graph = dag.to_networkx()
    rng = np.random.default_rng(2)
    for _ in range(15):
        picked = [f"v{i}" for i in rng.choice(600, size=5, replace=False)]
        assert dag.is_d_separated(picked[0], picked[1], picked[2:]) == \
            nx.is_d_separator(graph, {picked[0]}, {picked[1]}, set(picked[2:]))


def test_active_trails_on_a_deep_graph_are_real_active_trails():
    dag = deep_dag(2000, 10, seed=3)
    rng = np.random.default_rng(4)
    for _ in range(10):
        picked = [f"v{i}" for i in rng.choice(2000, size=4, replace=False)]
        trail = dag.active_trail(picked[0], picked[1], given=picked[2:])
        if trail is None:
            assert dag.is_d_separated(picked[0], picked[1], picked[2:])
            continue
        assert trail[0] == picked[0] and trail[-1] == picked[1] and len(set(trail)) == len(trail)
        given = set(picked[2:])
        for a, b, c in zip(trail, trail[1:], trail[2:]):
            collider = a in dag.parents(b) and c in dag.parents(b)
            if collider:
                assert b in given or dag.descendants(b) & given
            else:
                assert b not in given
        assert all(b in dag.parents(a) or a in dag.parents(b) for a, b in zip(trail, trail[1:]))


def test_ancestors_of_a_deep_chain_are_complete():
    n = 5000
    dag = pgm.DAG({f"v{i}": ([f"v{i - 1}"] if i else []) for i in range(n)})
    assert len(dag.ancestors(f"v{n - 1}")) == n - 1
    assert dag.descendants("v0") == {f"v{i}" for i in range(1, n)}
    assert list(itertools.islice(sorted(dag.ancestors("v3")), 3)) == ["v0", "v1", "v2"]
