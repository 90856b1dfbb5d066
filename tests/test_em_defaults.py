"""EM's defaults reach the optimum (issue 15): every expected value here is computed in the test, independently of pgm.

- the optimum of a mixture is the best of many scikit-learn GaussianMixture
  starts run to tol 1e-10, of an HMM the likelihood (forward algorithm in
  numpy) maximised directly by L-BFGS, without EM; pgm's fitted parameters
  are scored here with scipy/numpy, not with pgm;
- traces are checked to be monotone, accelerated steps included;
- ties, state orders and permutations are written out by hand with numpy;
- one regression test per defect of the issue, each failing on the code
  before it (a saddle called converged, restarts that do not differ, a failed
  restart that is fatal, ``init=network`` that replaces the model, ``align_to``
  that drops ties, partitioned k-means++ starts from one partition, bare
  errors on degenerate inputs).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from scipy.stats import norm
from threadpoolctl import threadpool_limits

import pgm
from pgm import BayesianNetwork, Categorical, LinearGaussian
from pgm.errors import DataError, SingularDesignError, StructureError
from pgm.learning.alignment import permute_states
from pgm.learning.em import FailedStartWarning


def assert_monotone(trace, rel=1e-12):
    t = np.asarray(trace, dtype=float)
    assert np.all(np.isfinite(t))
    drops = t[:-1] - t[1:]
    assert np.all(drops <= rel * np.abs(t[:-1])), f"objective fell by {drops.max():.3g}"


# ============================================================================ the 1-D two-component mixture
def two_bumps(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(0, 1, n // 2), rng.normal(5, 1, n - n // 2)])


def mixture_1d(k=2):
    return BayesianNetwork({"z": Categorical.latent([f"s{i}" for i in range(k)]),
                            "x": LinearGaussian.unfitted(parents=["z"])})


def mixture_score(fitted, x):
    """Mean log-likelihood per row of a fitted 1-D mixture, with scipy."""
    weights = np.asarray(fitted["z"].table)
    means = np.asarray(fitted["x"].intercept).ravel()
    sds = np.sqrt(np.asarray(fitted["x"].variance).ravel())
    parts = np.log(weights)[None, :] + norm.logpdf(x[:, None], means[None, :], sds[None, :])
    return float(logsumexp(parts, axis=1).mean())


@pytest.fixture(scope="module")
def bumps_optimum():
    """The best of 20 scikit-learn starts run to tol 1e-10 (k-means and random-from-data)."""
    from sklearn.mixture import GaussianMixture

    x = two_bumps()
    best = -np.inf
    with threadpool_limits(1):
        for seed in range(20):
            init = "kmeans" if seed % 2 else "random_from_data"
            gm = GaussianMixture(2, init_params=init, random_state=seed, tol=1e-10, max_iter=5000, reg_covar=0.0)
            best = max(best, gm.fit(x[:, None]).score(x[:, None]))
    return x, best


def test_default_fit_of_two_bumps_reaches_the_optimum(bumps_optimum):
    x, best = bumps_optimum
    model = mixture_1d()
    for seed in range(5):
        fitted = model.fit({"x": x}, seed=seed)
        assert mixture_score(fitted, x) > best - 0.01, seed
    fitted = model.fit({"x": x}, seed=0, n_init=10)
    assert mixture_score(fitted, x) > best - 1e-3
    means = np.sort(np.asarray(fitted["x"].intercept).ravel())
    assert abs(means[0]) < 0.2 and abs(means[1] - 5) < 0.2


def test_starts_break_symmetry_and_differ_between_restarts():
    x = two_bumps()
    starts = [mixture_1d().fit({"x": x}, seed=seed, max_iter=0) for seed in range(6)]
    gaps = [abs(float(np.diff(np.asarray(s["x"].intercept).ravel())[0])) for s in starts]
    # a random completion puts both means within a few standard errors (0.16) of the pooled mean 2.5
    assert np.median(gaps) > 1.0, gaps
    firsts = {round(float(np.asarray(s["x"].intercept).ravel()[0]), 9) for s in starts}
    assert len(firsts) == len(starts)
    fitted = mixture_1d().fit({"x": x}, seed=3, n_init=4, tol=1e-3)
    assert len(set(np.round(fitted.fit_report_.restarts, 12))) >= 1
    assert all(np.isfinite(fitted.fit_report_.restarts))


def test_a_symmetric_start_is_a_saddle_not_convergence(bumps_optimum):
    x, best = bumps_optimum
    pooled = BayesianNetwork({
        "z": Categorical(["s0", "s1"], table=[0.5, 0.5]),
        "x": LinearGaussian(parents=["z"], intercept=[x.mean(), x.mean()], variance=[x.var(), x.var()]),
    })
    fitted = mixture_1d().fit({"x": x}, init=pooled, seed=0)
    report = fitted.fit_report_
    assert report.n_saddles >= 1 and report.saddle == ["z"]
    assert report.converged
    assert mixture_score(fitted, x) > best - 1e-3
    assert_monotone(report.objective)


# ============================================================================ tied HMMs against direct maximisation
def tied_hmm(k, symbols, length, tables=None):
    hidden = [f"h{t}" for t in range(1, length + 1)]
    states = [f"s{i}" for i in range(k)]
    cpds = {}
    for t, node in enumerate(hidden):
        parents = [hidden[t - 1]] if t else []
        cpds[node] = (Categorical.latent(states, parents=parents) if tables is None
                      else Categorical(states, parents=parents, table=tables[1] if t else tables[0]))
        cpds[f"o{t + 1}"] = Categorical(symbols, parents=[node], table=None if tables is None else tables[2])
    return BayesianNetwork(cpds, tied=[hidden[1:], [f"o{t}" for t in range(1, length + 1)]])


HMM_TABLES = ([0.6, 0.4], [[0.85, 0.15], [0.25, 0.75]], [[0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
SYMBOLS = ["u", "v", "w"]
LENGTH = 8


def forward_score(initial, transition, emission, codes):
    """Mean log-likelihood per sequence of a tied HMM: the forward algorithm in numpy."""
    log_alpha = np.log(initial)[None, :] + np.log(emission[:, codes[:, 0]]).T
    for t in range(1, codes.shape[1]):
        log_alpha = logsumexp(log_alpha[:, :, None] + np.log(transition)[None], axis=1) \
            + np.log(emission[:, codes[:, t]]).T
    return float(logsumexp(log_alpha, axis=1).mean())


def hmm_score(fitted, codes):
    return forward_score(np.asarray(fitted["h1"].table), np.asarray(fitted["h2"].table),
                         np.asarray(fitted["o1"].table), codes)


def direct_maximum(codes, starts):
    """The likelihood maximised directly (L-BFGS on softmax coordinates, no EM) from each start; the best value."""
    from scipy.optimize import minimize

    def unpack(theta):
        rows = theta.reshape(-1, 3)  # initial (padded), two transition rows (padded), two emission rows
        soft = np.exp(rows - logsumexp(rows, axis=1, keepdims=True))
        initial = np.exp(rows[0, :2] - logsumexp(rows[0, :2]))
        transition = np.exp(rows[1:3, :2] - logsumexp(rows[1:3, :2], axis=1, keepdims=True))
        return initial, transition, soft[3:5]

    best = -np.inf
    for initial, transition, emission in starts:
        theta = np.log(np.vstack([np.append(initial, 1.0), np.hstack([transition, np.ones((2, 1))]), emission]))
        result = minimize(lambda th: -forward_score(*unpack(th), codes), theta.ravel(), method="L-BFGS-B",
                          options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 500})
        best = max(best, -result.fun)
    return best


@pytest.fixture(scope="module")
def hmm_problem():
    """1,000 sequences from a tied 2-state HMM, and the optimum found by direct maximisation from the truth."""
    truth = tied_hmm(2, SYMBOLS, LENGTH, HMM_TABLES)
    frame = truth.sample(1000, seed=1)[[f"o{t}" for t in range(1, LENGTH + 1)]]
    codes = np.stack([pd.Categorical(frame[c], categories=SYMBOLS).codes for c in frame.columns], axis=1)
    best = direct_maximum(codes, [tuple(np.asarray(t, dtype=float) for t in HMM_TABLES)])
    return frame, codes, best


def test_default_fit_of_a_tied_hmm_reaches_the_optimum(hmm_problem):
    frame, codes, best = hmm_problem
    model = tied_hmm(2, SYMBOLS, LENGTH)
    for seed in (0, 1):  # the failing case was seed 0; some seeds do end at a local optimum (see the panel)
        fitted = model.fit(frame, seed=seed)
        assert fitted.fit_report_.converged
        assert hmm_score(fitted, codes) > best - 0.01, seed
        assert fitted.n_free_parameters == 1 + 2 + 4 and fitted.tied_groups == model.tied_groups
    fitted = model.fit(frame, seed=0, n_init=10)
    assert hmm_score(fitted, codes) > best - 1e-3
    # no better point next to EM's answer either: direct maximisation from it gains nothing
    ours = tuple(np.asarray(fitted[n].table, dtype=float) for n in ("h1", "h2", "o1"))
    assert direct_maximum(codes, [ours]) < hmm_score(fitted, codes) + 1e-4  # what tol=1e-6 leaves


def test_acceleration_keeps_the_objective_monotone_and_halves_the_passes(hmm_problem):
    frame, codes, best = hmm_problem
    model = tied_hmm(2, SYMBOLS, LENGTH)
    start = model.fit(frame, seed=4, max_iter=0)
    plain = model.fit(frame, init=start, tol=1e-8, max_iter=20000, accelerate=False)
    fast = model.fit(frame, init=start, tol=1e-8, max_iter=20000)
    for fitted in (plain, fast):
        assert fitted.fit_report_.converged
        assert_monotone(fitted.fit_report_.objective)
    assert fast.fit_report_.n_extrapolations > 0
    assert fast.fit_report_.n_passes <= 0.5 * plain.fit_report_.n_passes, (
        fast.fit_report_.n_passes, plain.fit_report_.n_passes)
    assert abs(hmm_score(fast, codes) - hmm_score(plain, codes)) < 1e-5


# ============================================================================ a failed restart is skipped
def spike_data():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(0, 1, 300), np.full(40, 5.0)])


def collapsing_first_start(monkeypatch, x):
    """Make EM's first start a component sitting on one data point with a vanishing variance.

    EM then collapses it onto that single row in its first M-step (a real
    SingularDesignError, not a mock); the later starts are drawn as usual.
    Which of the default's own starts collapse depends on rounding in the
    E-step, so the test plants one rather than hunting for a seed.
    """
    import pgm.learning.em as em_module

    original, calls = em_module.screened_start, []

    def first_collapses(network, data, rng, **options):
        start, centres, spent = original(network, data, rng, **options)
        if not calls:
            calls.append(True)
            k = len(network.states("z"))
            # the values EM works on: in memory, centred on a reference location; partitioned, as given
            seen = data.dataset["x"] if hasattr(data, "dataset") else x
            means = np.full(k, float(np.mean(seen)))
            means[0] = seen[0]
            start = start.with_cpd("x", LinearGaussian(parents=["z"], intercept=means,
                                                       variance=[1e-14] + [float(np.var(x))] * (k - 1)))
        return start, centres, spent

    monkeypatch.setattr(em_module, "screened_start", first_collapses)


def test_a_collapsing_restart_is_skipped_and_recorded(monkeypatch):
    x = two_bumps(400, seed=3)
    collapsing_first_start(monkeypatch, x)
    with pytest.warns(FailedStartWarning, match="failed and were skipped"):
        fitted = mixture_1d(2).fit({"x": x}, seed=0, n_init=3, variance_floor=0)  # plain ML: the collapse fails
    report = fitted.fit_report_
    assert [number for number, _ in report.failed] == [0]
    assert "single value" in report.failed[0][1]
    assert np.isnan(report.restarts[0]) and np.isfinite(report.restarts[1:]).all()
    assert report.best_init != 0
    assert np.isfinite(mixture_score(fitted, x))


def test_the_prior_the_error_advises_keeps_every_component_alive():
    x = spike_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", FailedStartWarning)
        fitted = mixture_1d(3).fit({"x": x}, seed=1, n_init=3, prior=[pgm.Dirichlet(1), pgm.InverseGamma(scale=0.1)])
    assert fitted.fit_report_.failed == []
    assert np.asarray(fitted["x"].variance).min() > 1e-3


def test_only_when_every_restart_fails_is_the_fit_an_error():
    x = np.concatenate([np.full(50, 1.0), np.full(50, 2.0)])  # two spikes: every component ends on one
    with pytest.raises(SingularDesignError, match="all 3 EM start"):
        mixture_1d(2).fit({"x": x}, seed=0, n_init=3, variance_floor=0)  # plain ML (no floor) has no answer


# ============================================================================ init=network supplies parameters only
def test_init_network_keeps_the_models_ties():
    truth = pgm.markov_chain(["a", "b", "c"], 6, initial=[0.5, 0.3, 0.2],
                             transition=[[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.3, 0.3, 0.4]])
    rows = truth.sample(500, seed=0)
    rows.loc[::3, "x3"] = np.nan
    untied = pgm.markov_chain(["a", "b", "c"], 6, tied=False).fit(rows.dropna())
    model = pgm.markov_chain(["a", "b", "c"], 6)
    fitted = model.fit(rows, init=untied, seed=0)
    assert fitted.tied_groups == model.tied_groups
    assert fitted.n_free_parameters == 2 + 6
    for node in ("x3", "x4", "x5", "x6"):
        np.testing.assert_array_equal(fitted[node].table, fitted["x2"].table)


@pytest.mark.filterwarnings("ignore::pgm.errors.UnseenConfigurationWarning")
def test_init_network_with_another_structure_is_refused_naming_the_node():
    asia = pgm.load("asia")
    other = asia.with_cpd("dysp", Categorical(asia.states("dysp"), parents=["bronc"]))
    other = other.fit(asia.sample(500, seed=0))
    rows = asia.sample(500, seed=1)
    rows.loc[::4, "either"] = np.nan
    with pytest.raises(StructureError, match="'dysp'.*parents"):
        asia.fit(rows, init=other)


def test_init_network_keeps_latent_flags_and_maps_states_by_name():
    truth = BayesianNetwork({
        "z": Categorical(["a", "b"], table=[0.3, 0.7]),
        "x": Categorical(["lo", "mid", "hi"], parents=["z"], table=[[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]),
        "y": Categorical(["no", "yes"], parents=["z"], table=[[0.8, 0.2], [0.3, 0.7]]),
    })
    model = BayesianNetwork({"z": Categorical.latent(["a", "b"]),
                             "x": Categorical(["lo", "mid", "hi"], parents=["z"]),
                             "y": Categorical(["no", "yes"], parents=["z"])})
    # the same parameters declared with x's states and z's states in another order
    reordered = BayesianNetwork({
        "z": Categorical(["b", "a"], table=[0.7, 0.3]),
        "x": Categorical(["hi", "lo", "mid"], parents=["z"], table=[[0.6, 0.1, 0.3], [0.1, 0.7, 0.2]]),
        "y": Categorical(["no", "yes"], parents=["z"], table=[[0.3, 0.7], [0.8, 0.2]]),
    })
    rows = truth.sample(300, seed=0).drop(columns="z")
    start = model.fit(rows, init=reordered, max_iter=0)
    assert start.latent_nodes == ("z",)
    for node in truth.nodes:
        np.testing.assert_allclose(start[node].table, truth[node].table, atol=1e-15)
    assert model.fit(rows, init=reordered).latent_nodes == ("z",)


# ============================================================================ align_to with ties
def hand_permuted_hmm(tables, order):
    """The tied HMM with hidden states relabelled by ``order``, written out with numpy indexing."""
    initial, transition, emission = (np.asarray(t) for t in tables)
    order = list(order)
    return (initial[order], transition[np.ix_(order, order)], emission[order])


def test_align_to_permutes_every_tied_step_and_keeps_the_ties():
    truth = tied_hmm(2, SYMBOLS, 4, HMM_TABLES)
    for node in truth.nodes:
        truth[node].latent = node.startswith("h")
    swapped_tables = hand_permuted_hmm(HMM_TABLES, [1, 0])
    swapped = tied_hmm(2, SYMBOLS, 4, swapped_tables)
    for node in swapped.nodes:
        swapped[node].latent = node.startswith("h")
    # permute_states written against the hand-made permutation
    ours = permute_states(truth, "h1", [1, 0])
    for node in truth.nodes:
        np.testing.assert_array_equal(ours[node].table, swapped[node].table)
    aligned = swapped.align_to(truth, "h2")
    assert aligned.tied_groups == truth.tied_groups
    assert aligned.n_free_parameters == truth.n_free_parameters == 1 + 2 + 4
    for node in truth.nodes:
        np.testing.assert_allclose(aligned[node].table, truth[node].table, atol=1e-15)


def test_align_to_an_observed_node_is_an_error():
    truth = tied_hmm(2, SYMBOLS, 3, HMM_TABLES)
    with pytest.raises(StructureError, match="observed"):
        truth.align_to(truth, "o1")


# ============================================================================ degenerate inputs
def test_all_zero_weights_are_refused():
    asia = pgm.load("asia")
    rows = asia.sample(200, seed=0)
    with pytest.raises(DataError, match="weight zero"):
        asia.fit(rows, weights=np.zeros(len(rows)))
    holed = rows.copy()
    holed.loc[::5, "lung"] = np.nan
    with pytest.raises(DataError, match="weight zero"):
        asia.fit(holed, weights=np.zeros(len(rows)))


def test_more_latent_states_than_rows_says_so():
    x = np.array([0.0, 1.0, 2.5, 4.0, 7.0])
    with pytest.raises(DataError, match="fewer states than there are rows"):
        mixture_1d(10).fit({"x": x}, seed=0)


# ============================================================================ partitioned data: one driver
def _dask():
    return pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")


@pytest.mark.filterwarnings("ignore::pgm.learning.em.ConvergenceWarning")
def test_kmeans_start_on_partitions_gives_every_state_probability(bumps_optimum):
    dd = _dask()
    asia = pgm.load("asia")
    rows = asia.sample(4000, seed=3).sort_values("asia").reset_index(drop=True)  # 'yes' only in the last partition
    rows["either"] = np.nan
    model = asia.with_cpd("either", Categorical.latent(asia.states("either"), parents=["lung", "tub"]))
    parts = dd.from_pandas(rows.drop(columns="either"), npartitions=4)
    fitted = model.fit(parts, init="kmeans++", seed=0, max_iter=30)
    assert np.isfinite(fitted.log_likelihood(rows.drop(columns="either"))).all()
    # a mixture whose first partition holds one bump only: centres come from every partition
    x, best = bumps_optimum
    frame = dd.from_pandas(pd.DataFrame({"x": np.sort(x)}), npartitions=4)
    fitted = mixture_1d().fit(frame, init="kmeans++", seed=0)
    assert mixture_score(fitted, x) > best - 1e-3


def test_partitioned_fits_skip_failed_restarts_like_in_memory_ones(monkeypatch):
    dd = _dask()
    x = two_bumps(400, seed=3)
    collapsing_first_start(monkeypatch, x)
    frame = dd.from_pandas(pd.DataFrame({"x": x}), npartitions=3)
    with pytest.warns(FailedStartWarning):
        fitted = mixture_1d(2).fit(frame, seed=0, n_init=3, variance_floor=0)
    assert [number for number, _ in fitted.fit_report_.failed] == [0]
    assert np.isfinite(mixture_score(fitted, x))
