"""EM's E-step for rows that miss one table node only (pgm.learning.responsibilities), and the engine's
bincount path for families with always-observed members (pgm.inference.expectations).

Both are faster routes to the same numbers, so each is checked against an
independent computation:

- discrete networks: enumeration of every completion of every row;
- Gaussian mixtures: scikit-learn's GaussianMixture from the same start, and
  the general E-step of the inference engine (junction tree and Gaussian
  elimination), which these rows no longer go through.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

import pgm
from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.data import to_dataset
from pgm.errors import ImpossibleEvidenceError
from pgm.inference.evidence import as_evidence
from pgm.inference.expectations import expected_statistics, plan_rows
from pgm.learning.em import e_step
from pgm.learning.responsibilities import missing_one_node


def enumerated_estep(net, frame, weights=None):
    """Expected counts and summed log p(observed row) by enumerating every completion of every row."""
    nodes = list(net.nodes)
    states = {n: net.states(n) for n in nodes}
    tables = {n: np.asarray(net[n].table) for n in nodes}
    counts = {n: np.zeros(tables[n].shape) for n in nodes}
    total_log = 0.0
    for r, record in enumerate(frame.to_dict("records")):
        known = {n: states[n].index(record[n]) for n in nodes if n in record and not pd.isna(record[n])}
        hidden = [n for n in nodes if n not in known]
        completions = []
        for combo in itertools.product(*(range(len(states[n])) for n in hidden)):
            full = {**known, **dict(zip(hidden, combo))}
            p = math.prod(float(tables[n][tuple(full[q] for q in net[n].parents) + (full[n],)]) for n in nodes)
            completions.append((full, p))
        evidence = math.fsum(p for _, p in completions)
        w = 1.0 if weights is None else float(weights[r])
        total_log += w * math.log(evidence)
        for full, p in completions:
            for n in nodes:
                counts[n][tuple(full[q] for q in net[n].parents) + (full[n],)] += w * p / evidence
    return counts, total_log


def random_network(rng, n_nodes):
    names = [f"v{i}" for i in range(n_nodes)]
    cpds = {}
    for i, name in enumerate(names):
        parents = [names[j] for j in range(i) if rng.random() < 0.5][:3]
        k = int(rng.integers(2, 4))
        cpds[name] = Categorical([f"s{s}" for s in range(k)], parents=parents)
    shaped = BayesianNetwork(cpds)
    fitted = {}
    for name in names:
        shape = shaped[name].table_shape
        fitted[name] = Categorical(list(shaped.states(name)), parents=list(shaped[name].parents),
                                   table=rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]))
    return BayesianNetwork(fitted)


def one_missing_per_row(frame, rng, share):
    """About ``share`` of the rows lose one random cell; a few lose two (left to the general path)."""
    out = frame.astype(object)
    n, m = out.shape
    for r in np.flatnonzero(rng.random(n) < share):
        for c in rng.choice(m, size=1 if rng.random() < 0.8 else 2, replace=False):
            out.iat[r, c] = None
    return out


@pytest.mark.parametrize("seed", range(8))
def test_rows_missing_one_node_equal_enumeration(seed):
    rng = np.random.default_rng(300 + seed)
    net = random_network(rng, int(rng.integers(3, 6)))
    frame = one_missing_per_row(net.sample(80, seed=seed), rng, 0.7)
    weights = rng.uniform(0.2, 2.0, len(frame)) if seed % 2 else None
    dataset = to_dataset(frame, net.domains)
    groups, taken = missing_one_node(net, dataset, np.ones(len(frame), dtype=bool), weights)
    assert taken.sum() > 20 and groups  # the fast path is really taken ...
    stats, log_likelihood = e_step(net, dataset, weights)
    want, want_log = enumerated_estep(net, frame, weights)
    for node in net.nodes:  # ... and gives the enumeration's counts
        np.testing.assert_allclose(stats[node], want[node], rtol=0, atol=1e-12, err_msg=node)
    assert math.isclose(log_likelihood, want_log, rel_tol=1e-13)


def test_a_latent_class_without_its_column_equals_enumeration():
    """The latent node has no column at all; the others are observed in every row (a latent class model)."""
    rng = np.random.default_rng(5)
    cpds = {"z": Categorical(["a", "b", "c"], table=[0.2, 0.5, 0.3])}
    for j in range(4):
        cpds[f"y{j}"] = Categorical(["0", "1", "2"], parents=["z"], table=rng.dirichlet(np.ones(3), size=3))
    net = BayesianNetwork(cpds)
    frame = net.sample(200, seed=1).drop(columns="z")
    weights = rng.uniform(0.5, 1.5, len(frame))
    frame_z = frame.assign(z=pd.Series([None] * len(frame), dtype=object))
    stats, log_likelihood = e_step(net, to_dataset(frame_z, net.domains), weights)
    want, want_log = enumerated_estep(net, frame, weights)
    for node in net.nodes:
        np.testing.assert_allclose(stats[node], want[node], rtol=0, atol=1e-12, err_msg=node)
    assert math.isclose(log_likelihood, want_log, rel_tol=1e-13)


# ---------------------------------------------------------------------------- Gaussian mixtures
COLUMNS = ["x1", "x2", "x3"]


def mixture(full: bool, k: int = 3, seed: int = 0):
    """A fitted 3-component mixture (diag: x_j | z; full: x_j | z, x_<j) and 600 rows from it."""
    rng = np.random.default_rng(seed)
    cpds = {"z": Categorical([f"c{c}" for c in range(k)], table=rng.dirichlet(np.ones(k) * 5))}
    for j, column in enumerate(COLUMNS):
        parents = ["z"] + (COLUMNS[:j] if full else [])
        cpds[column] = LinearGaussian(parents=parents, intercept=rng.normal(0, 3, k),
                                      weights=rng.normal(0, 0.5, (k, len(parents) - 1)),
                                      variance=rng.uniform(0.5, 2.0, k))
    net = BayesianNetwork(cpds)
    return net, net.sample(600, seed=seed + 1).drop(columns="z")


def assert_statistics_close(got, want, nodes, rtol=1e-10):
    for node in nodes:
        a, b = np.asarray(got[node]), np.asarray(want[node])
        scale = max(1.0, float(np.max(np.abs(b))))
        np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale, err_msg=node)


@pytest.mark.parametrize("full", [False, True], ids=["diag", "full"])
def test_mixture_estep_equals_the_general_engine(full):
    net, frame = mixture(full)
    weights = np.random.default_rng(2).uniform(0.1, 3.0, len(frame))
    dataset = to_dataset(frame.assign(z=np.nan), net.domains)
    stats, log_likelihood = e_step(net, dataset, weights)
    evidence = as_evidence(net, frame)
    want, log_ev = expected_statistics(net, evidence, weights)
    assert_statistics_close(stats, want, net.nodes)
    assert math.isclose(log_likelihood, float(log_ev @ weights), rel_tol=1e-12)


def test_mixture_with_some_values_missing_splits_rows_between_the_paths():
    """Rows missing only z go by responsibilities, rows that also miss an x by the engine; the sum is the same."""
    net, frame = mixture(True, seed=3)
    holes = frame.copy()
    holes.loc[holes.index % 7 == 0, "x2"] = np.nan
    dataset = to_dataset(holes.assign(z=np.nan), net.domains)
    groups, taken = missing_one_node(net, dataset, np.ones(len(holes), dtype=bool), None)
    assert [g.node for g in groups] == ["z"] and taken.sum() == len(holes) - len(holes.index[::7])
    stats, log_likelihood = e_step(net, dataset)
    want, log_ev = expected_statistics(net, as_evidence(net, holes))
    assert_statistics_close(stats, want, net.nodes)
    assert math.isclose(log_likelihood, float(log_ev.sum()), rel_tol=1e-12)


def test_children_of_every_kind_equal_the_general_engine():
    """z's children: a table and a component regression (z + continuous parent); z has an observed parent;
    a node outside z's family.  A Gaussian child with a second discrete parent sends the rows to the engine."""
    rng = np.random.default_rng(11)
    cpds = {
        "g": Categorical(["u", "v"], table=[0.4, 0.6]),
        "z": Categorical(["a", "b"], parents=["g"], table=[[0.3, 0.7], [0.8, 0.2]]),
        "t": Categorical(["0", "1", "2"], parents=["z"], table=rng.dirichlet(np.ones(3), size=2)),
        "x": LinearGaussian(parents=["z"], intercept=[-1.0, 2.0], variance=[1.0, 0.5]),
        "y": LinearGaussian(parents=["z", "x"], intercept=[0.5, -0.5], weights=[[1.0], [-2.0]], variance=[0.3, 1.2]),
        "w": LinearGaussian(parents=["x"], intercept=1.0, weights={"x": 0.5}, variance=0.7),
    }
    net = BayesianNetwork(cpds)
    frame = net.sample(400, seed=4).drop(columns="z")
    dataset = to_dataset(frame.assign(z=pd.Series([None] * len(frame), dtype=object)), net.domains)
    groups, taken = missing_one_node(net, dataset, np.ones(len(frame), dtype=bool), None)
    assert taken.all()
    stats, log_likelihood = e_step(net, dataset)
    want, log_ev = expected_statistics(net, as_evidence(net, frame))
    assert_statistics_close(stats, want, net.nodes)
    assert math.isclose(log_likelihood, float(log_ev.sum()), rel_tol=1e-12)
    cpds["u"] = LinearGaussian(parents=["g", "z"], intercept=[[0.0, 1.0], [2.0, -1.0]],
                               variance=[[1.0, 2.0], [0.5, 1.5]])
    wider = BayesianNetwork(cpds)
    frame = wider.sample(50, seed=4).drop(columns="z")
    dataset = to_dataset(frame.assign(z=pd.Series([None] * len(frame), dtype=object)), wider.domains)
    assert not missing_one_node(wider, dataset, np.ones(len(frame), dtype=bool), None)[1].any()


@pytest.mark.parametrize("full", [False, True], ids=["diag", "full"])
def test_mixture_em_equals_scikit_learn_iteration_by_iteration(full):
    """Five plain EM iterations from one start: means, covariances and weights as scikit-learn's to 1e-10."""
    from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning
    from sklearn.mixture import GaussianMixture

    truth, frame = mixture(full, seed=7)
    x = frame[COLUMNS].to_numpy()
    k = 3
    means0 = x[[0, 200, 400]]
    cov0 = np.cov(x, rowvar=False, bias=True)
    if not full:
        cov0 = np.diag(np.diag(cov0))
    start_cpds = {"z": Categorical(list(truth.states("z")), table=np.full(k, 1 / k))}
    for j, column in enumerate(COLUMNS):
        if not full or j == 0:
            start_cpds[column] = LinearGaussian(parents=["z"], intercept=means0[:, j], variance=np.full(k, cov0[j, j]))
            continue
        w = np.linalg.solve(cov0[:j, :j], cov0[:j, j])
        start_cpds[column] = LinearGaussian(parents=["z", *COLUMNS[:j]], intercept=means0[:, j] - means0[:, :j] @ w,
                                            weights=np.tile(w, (k, 1)), variance=np.full(k, cov0[j, j] - cov0[:j, j] @ w))
    start = BayesianNetwork(start_cpds)
    model = BayesianNetwork({n: (Categorical.latent(list(truth.states(n))) if n == "z" else
                                 LinearGaussian.unfitted(parents=list(truth[n].parents))) for n in truth.nodes})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = model.fit(frame, init=start, max_iter=5, tol=0, accelerate=False)
        precisions = np.linalg.inv(cov0)
        sk = GaussianMixture(k, covariance_type="full" if full else "diag", weights_init=np.full(k, 1 / k),
                             means_init=means0, reg_covar=0.0, tol=0, max_iter=5,
                             precisions_init=np.tile(precisions, (k, 1, 1)) if full else np.tile(np.diag(precisions), (k, 1)))
        with threadpool_limits(1):
            sk.fit(x)
    assert fitted.fit_report_.n_iter == 5 and sk.n_iter_ == 5
    joint = [fitted.query(COLUMNS, evidence={"z": s}) for s in fitted.states("z")]
    means = np.stack([j.mean for j in joint])
    covariances = np.stack([j.covariance for j in joint])
    sk_cov = sk.covariances_ if full else np.stack([np.diag(c) for c in sk.covariances_])
    np.testing.assert_allclose(fitted["z"].table, sk.weights_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(means, sk.means_, rtol=0, atol=1e-10 * np.abs(sk.means_).max())
    np.testing.assert_allclose(covariances, sk_cov, rtol=0, atol=1e-10 * np.abs(sk_cov).max())
    assert math.isclose(fitted.fit_report_.log_likelihood[-1], sk.score(x), rel_tol=0, abs_tol=1e-10)


def test_a_row_impossible_for_every_state_is_named():
    net = BayesianNetwork({
        "z": Categorical(["a", "b"], table=[0.5, 0.5]),
        "y": Categorical(["0", "1", "2"], parents=["z"], table=[[0.5, 0.5, 0.0], [0.5, 0.5, 0.0]]),
    })
    frame = pd.DataFrame({"z": ["a", None, None, None], "y": ["0", "0", "2", "1"]}, index=[9, 10, 11, 12])
    with pytest.raises(ImpossibleEvidenceError, match=r"row 2 \(index 11\).*'z'"):
        e_step(net, to_dataset(frame, net.domains))


# ---------------------------------------------------------------------------- the engine's bincount path
def test_engine_counts_with_always_observed_and_constant_columns_equal_enumeration():
    """Families whose members every row observes (one a constant column) are counted by bincount."""
    asia = pgm.load("asia")
    frame = asia.sample(300, seed=2).drop(columns="either")
    frame["asia"] = "no"  # a constant column: sliced out of the tables
    frame.loc[frame.index % 5 == 0, "lung"] = None  # a second hidden node in some rows: a tree of two
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(frame))
    counts, log_ev = expected_statistics(asia, as_evidence(asia, frame), weights)
    want, want_log = enumerated_estep(asia, frame, weights)
    for node in asia.nodes:
        np.testing.assert_allclose(counts[node], want[node], rtol=0, atol=1e-11, err_msg=node)
    assert math.isclose(float(log_ev @ weights), want_log, rel_tol=1e-12)


def test_a_row_plan_made_for_other_parameters_gives_the_same_statistics():
    """EM decides the row strategy once: it depends on the structure and the data, not the parameters."""
    alarm = pgm.load("alarm")
    frame = alarm.sample(400, seed=3)
    rng = np.random.default_rng(4)
    frame = frame.mask(rng.random(frame.shape) < 0.15)
    evidence = as_evidence(alarm, frame)
    other = alarm.fit(alarm.sample(2000, seed=9), prior=pgm.Dirichlet(1))  # same structure, other tables
    rows = plan_rows(alarm, evidence)
    got, got_log = expected_statistics(other, evidence, rows=rows)
    want, want_log = expected_statistics(other, evidence)
    for node in alarm.nodes:
        np.testing.assert_allclose(got[node], want[node], rtol=0, atol=1e-10, err_msg=node)
    np.testing.assert_allclose(got_log, want_log, rtol=0, atol=1e-10)


def test_data_far_from_zero_is_left_to_the_engine():
    """Columns near 1e12 with a spread of 1: the engine's centred elimination keeps EM location-exact."""
    net, frame = mixture(False, seed=2)
    far = frame.assign(x1=frame["x1"] + 1e12)
    groups, taken = missing_one_node(net, to_dataset(far.assign(z=np.nan), net.domains), np.ones(len(far), dtype=bool), None)
    assert groups == [] and not taken.any()
    groups, taken = missing_one_node(net, to_dataset(frame.assign(z=np.nan), net.domains), np.ones(len(far), dtype=bool), None)
    assert taken.all()
