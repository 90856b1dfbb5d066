"""Fitting tables: counts, priors, weights, chunks, unseen configurations."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm import BayesianNetwork, BDeu, Bernoulli, Categorical, Dirichlet
from pgm.errors import DataError, UnseenConfigurationWarning


def small_network():
    return BayesianNetwork(
        {
            "a": Categorical(["x", "y", "z"], table=[0.2, 0.3, 0.5]),
            "b": Categorical(["lo", "hi"], parents=["a"], table=[[0.5, 0.5]] * 3),
        }
    )


SMALL_DATA = pd.DataFrame(
    {
        "a": ["x", "x", "y", "z", "z", "z", "x", "y"],
        "b": ["lo", "hi", "hi", "hi", "hi", "lo", "lo", "hi"],
    }
)


def hand_counts():
    # rows of b's table: a = x, y, z; columns: lo, hi
    return np.array([[2, 1], [0, 2], [1, 2]], dtype=float)


def test_maximum_likelihood_is_normalised_counts():
    fitted = small_network().fit(SMALL_DATA)
    counts = hand_counts()
    np.testing.assert_array_equal(fitted["b"].table, counts / counts.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(fitted["a"].table, [3 / 8, 2 / 8, 3 / 8])


def test_dirichlet_prior_gives_counts_plus_alpha_over_total_plus_k_alpha():
    alpha = 0.7
    fitted = small_network().fit(SMALL_DATA, prior=Dirichlet(alpha))
    counts = hand_counts()
    expected = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + 2 * alpha)
    np.testing.assert_allclose(fitted["b"].table, expected, rtol=1e-15)
    np.testing.assert_allclose(fitted["a"].table, (np.array([3, 2, 3]) + alpha) / (8 + 3 * alpha), rtol=1e-15)


def test_bdeu_spreads_the_equivalent_sample_size_over_each_table():
    ess = 6.0
    fitted = small_network().fit(SMALL_DATA, prior=BDeu(ess))
    counts = hand_counts()
    alpha_b = ess / (3 * 2)  # q = 3 parent configurations, r = 2 states
    expected = (counts + alpha_b) / (counts.sum(axis=1, keepdims=True) + 2 * alpha_b)
    np.testing.assert_allclose(fitted["b"].table, expected, rtol=1e-15)
    alpha_a = ess / 3
    np.testing.assert_allclose(fitted["a"].table, (np.array([3, 2, 3]) + alpha_a) / (8 + ess), rtol=1e-15)


def test_per_node_pseudo_count_arrays():
    pseudo_b = np.array([[1.0, 0.0], [0.0, 3.0], [2.0, 2.0]])
    fitted = small_network().fit(SMALL_DATA, prior=Dirichlet({"b": pseudo_b}))
    counts = hand_counts() + pseudo_b
    np.testing.assert_allclose(fitted["b"].table, counts / counts.sum(axis=1, keepdims=True), rtol=1e-15)
    np.testing.assert_array_equal(fitted["a"].table, [3 / 8, 2 / 8, 3 / 8])  # no prior for a


def test_prior_arrays_of_the_wrong_shape_name_the_node():
    with pytest.raises(pgm.errors.CPDError, match=r"pseudo-counts for 'b' have shape \(4,\)"):
        small_network().fit(SMALL_DATA, prior=Dirichlet({"b": np.ones(4)}))


def test_negative_pseudo_counts_are_refused():
    with pytest.raises(pgm.errors.CPDError, match="finite and non-negative"):
        Dirichlet(-1.0)


def test_weights_equal_repeating_rows():
    weights = np.array([1, 2, 1, 3, 1, 1, 2, 1], dtype=float)
    repeated = SMALL_DATA.loc[SMALL_DATA.index.repeat(weights.astype(int))].reset_index(drop=True)
    np.testing.assert_allclose(
        small_network().fit(SMALL_DATA, weights=weights)["b"].table,
        small_network().fit(repeated)["b"].table,
        rtol=1e-15,
    )


def test_bad_weights_are_refused():
    with pytest.raises(DataError, match="one value per row"):
        small_network().fit(SMALL_DATA, weights=np.ones(3))
    with pytest.raises(DataError, match="weight -1.0 of row 2"):
        small_network().fit(SMALL_DATA, weights=np.array([1, 1, -1, 1, 1, 1, 1, 1.0]))


@pytest.mark.filterwarnings("ignore::pgm.errors.UnseenConfigurationWarning")
def test_statistics_of_chunks_add_up_to_the_statistics_of_the_whole():
    net = pgm.load("insurance")
    data = net.sample(30_000, seed=11)
    whole = net.statistics(data)
    parts = sum(net.statistics(data.iloc[k::3]) for k in range(3))
    assert parts.total_weight == whole.total_weight == 30_000
    for node in net.nodes:
        np.testing.assert_array_equal(parts[node], whole[node])
    assert net.from_statistics(parts) == net.fit(data)


def test_unseen_parent_configurations_become_uniform_with_a_warning_that_lists_them():
    data = SMALL_DATA[SMALL_DATA["a"] != "y"]
    with pytest.warns(UnseenConfigurationWarning, match=r"1 parent configuration\(s\) never occur.*b \| a=y"):
        fitted = small_network().fit(data)
    np.testing.assert_array_equal(fitted["b"].table[1], [0.5, 0.5])


def test_a_prior_silences_the_unseen_configuration_warning():
    data = SMALL_DATA[SMALL_DATA["a"] != "y"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_network().fit(data, prior=Dirichlet(1.0))


def test_unknown_state_in_data_names_column_value_and_row():
    data = SMALL_DATA.copy()
    data.loc[5, "b"] = "medium"
    with pytest.raises(DataError, match=r"column 'b', row 5: 'medium' is not a state of 'b'; its states are \['lo', 'hi'\]"):
        small_network().fit(data)


def test_missing_values_are_used_not_dropped():
    data = SMALL_DATA.copy()
    data.loc[3, "a"] = None
    fitted = small_network().fit(data, seed=0, tol=1e-12, max_iter=1000)
    assert fitted.fit_report_.n_rows == 8  # EM kept the incomplete row
    dropped = small_network().fit(data.dropna())
    # EM maximises the likelihood of everything observed, so it beats the fit that ignored row 3's b
    assert fitted.score(data) > dropped.score(data)
    # at the optimum, p(b=hi) matches the observed frequency of b over all 8 rows (5 of 8)
    p_hi = float(fitted["a"].table @ fitted["b"].table[:, 1])
    assert p_hi == pytest.approx(5 / 8, abs=1e-6)


@pytest.fixture(scope="module")
def alarm_fits():
    alarm = pgm.load("alarm")
    sizes = [5_000, 50_000, 500_000]
    data = alarm.sample(sizes[-1], seed=123)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnseenConfigurationWarning)
        fits = {n: alarm.fit(data.iloc[:n]) for n in sizes}
    return alarm, data, fits


def test_fitting_alarm_recovers_its_tables_with_error_shrinking_as_n_grows(alarm_fits):
    alarm, data, fits = alarm_fits
    errors = []
    for n, fitted in fits.items():
        # weight each row's error by how often its parent configuration occurs in the data,
        # since configurations that never occur cannot be learned
        worst = 0.0
        statistics = alarm.statistics(data.iloc[:n])
        for node in alarm.nodes:
            seen = statistics[node].sum(axis=-1) > 0
            worst = max(worst, float(np.abs(fitted[node].table - alarm[node].table)[seen].max()))
        errors.append(worst)
    assert errors[0] > errors[1] > errors[2]


def test_fitted_alarm_entries_lie_within_five_standard_errors(alarm_fits):
    alarm, data, fits = alarm_fits
    n = max(fits)
    statistics = alarm.statistics(data)
    for node in alarm.nodes:
        counts = statistics[node].reshape(-1, len(alarm.states(node)))
        rows = counts.sum(axis=1)
        truth = alarm[node].table.reshape(counts.shape)
        estimate = fits[n][node].table.reshape(counts.shape)
        enough = rows >= 50
        standard_error = np.sqrt(truth * (1 - truth) / np.maximum(rows, 1)[:, None])
        # a cell with probability 0 or 1 must be estimated exactly
        slack = np.where(standard_error > 0, 5 * standard_error, 0.0)
        assert np.all(np.abs(estimate - truth)[enough] <= slack[enough] + 1e-12), node


def test_fit_keeps_structure_states_and_name():
    net = pgm.load("survey")
    fitted = net.fit(net.sample(2000, seed=1))
    assert fitted.nodes == net.nodes and fitted.edges == net.edges and fitted.name == net.name
    for node in net.nodes:
        assert fitted.states(node) == net.states(node)


def test_fit_from_a_dict_of_arrays():
    data = {"a": np.array(["x", "y", "z", "x"], dtype=object), "b": ["lo", "hi", "hi", "lo"]}
    fitted = small_network().fit(data, prior=Dirichlet(1.0))
    np.testing.assert_allclose(fitted["a"].table, [3 / 7, 2 / 7, 2 / 7])


def test_bernoulli_maximum_likelihood_is_the_sample_mean():
    rng = np.random.default_rng(0)
    flips = rng.random(10_000) < 0.3
    net = BayesianNetwork({"coin": Bernoulli(0.5, states=["tails", "heads"])})
    data = pd.DataFrame({"coin": np.where(flips, "heads", "tails")})
    assert net.fit(data)["coin"].table[1] == pytest.approx(flips.mean(), rel=1e-15)
    assert math.isclose(net.fit(data).score(data), flips.mean() * math.log(flips.mean())
                        + (1 - flips.mean()) * math.log(1 - flips.mean()), rel_tol=1e-12)


def test_the_unseen_configuration_warning_points_at_the_callers_line():
    data = SMALL_DATA[SMALL_DATA["a"] != "y"]
    with pytest.warns(UnseenConfigurationWarning) as record:
        small_network().fit(data)
    assert record[0].filename == __file__


@pytest.mark.parametrize("prior", [Dirichlet({"aa": 1.0}), {"aa": Dirichlet(1.0)}, [BDeu(1.0), {"bb": Dirichlet(2.0)}]])
def test_a_prior_naming_an_unknown_node_is_an_error_not_ignored(prior):
    with pytest.raises(pgm.errors.NodeError, match=r"the prior names '(aa|bb)', which is not a node"):
        small_network().fit(SMALL_DATA, prior=prior)
