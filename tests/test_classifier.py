"""The generative classifier: naive Bayes networks and the scikit-learn wrapper.

The references are independent of pgm's inference: scikit-learn's
BernoulliNB and GaussianNB, posteriors by enumerating the joint distribution
with numpy, and Gaussian densities from scipy.
"""

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import pgm
from pgm.classifiers import naive_bayes
from pgm.errors import CPDError, DataError, NodeError, StructureError

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, load_iris, load_wine  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.naive_bayes import BernoulliNB, GaussianNB  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from pgm.sklearn import BayesianNetworkClassifier  # noqa: E402

PIXELS = [f"p{k:02d}" for k in range(64)]
DIGITS = [str(d) for d in range(10)]


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return (data.data > 7).astype(np.int64), data.target


def bernoulli_network():
    return naive_bayes("digit", DIGITS, discrete={p: ["0", "1"] for p in PIXELS})


LAPLACE = pgm.Dirichlet({p: 1.0 for p in PIXELS})


def binarise(X):
    return (np.asarray(X) > 7).astype(np.int64)


# ---------------------------------------------------------------------------- naive_bayes
def test_naive_bayes_structure():
    net = naive_bayes("c", ["a", "b"], discrete={"x": ["0", "1", "2"]}, continuous=["u", "v"])
    assert net.nodes == ("c", "x", "u", "v")
    assert net.edges == [("c", "x"), ("c", "u"), ("c", "v")]
    assert net.unfitted_nodes == net.nodes
    assert net.n_free_parameters == 1 + 2 * 2 + 2 * 2 * 2  # class, table rows, mean + variance per class


@pytest.mark.parametrize("call, error, words", [
    (lambda: naive_bayes("c", ["a", "b"]), NodeError, "needs at least one feature"),
    (lambda: naive_bayes("c", ["a", "b"], continuous=["c"]), NodeError, "'c' is the class node"),
    (lambda: naive_bayes("c", ["a", "b"], discrete={"x": ["0", "1"]}, continuous=["x"]), NodeError,
     "'x' is named both discrete and continuous"),
    (lambda: naive_bayes("c", ["a", "b"], continuous=["x", "x"]), NodeError, "'x' is named more than once"),
    (lambda: naive_bayes("c", ["a", "a"], continuous=["x"]), CPDError, "'a' more than once"),
    (lambda: naive_bayes("c", ["a", "b"], discrete={"x": "01"}), TypeError, "states of 'x'"),
    (lambda: naive_bayes("c", ["a", "b"], continuous="x"), TypeError, "single string 'x'"),
])
def test_naive_bayes_refuses_bad_declarations(call, error, words):
    with pytest.raises(error, match=re.escape(words)):
        call()


# ---------------------------------------------------------------------------- against scikit-learn's naive Bayes
def test_bernoulli_naive_bayes_equals_bernoulli_nb(digits):
    x, y = digits
    theirs = BernoulliNB(alpha=1.0, binarize=None).fit(x, y)
    model = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(x, y)
    assert model.classes_.tolist() == list(range(10))
    assert np.abs(model.predict_proba(x) - theirs.predict_proba(x)).max() < 1e-10
    assert np.abs(model.predict_log_proba(x) - theirs.predict_log_proba(x)).max() < 1e-8
    assert (model.predict(x) == theirs.predict(x)).all()
    # the parameters themselves: Laplace-smoothed pixel tables, class frequencies without smoothing
    fitted = model.network_
    assert np.allclose(fitted["digit"].table, np.bincount(y) / len(y), rtol=0, atol=1e-15)
    ink = np.stack([fitted[p].table[:, 1] for p in PIXELS], axis=1)
    counts = np.stack([x[y == d].sum(axis=0) for d in range(10)])
    assert np.allclose(ink, (counts + 1) / (np.bincount(y)[:, None] + 2), rtol=0, atol=1e-15)
    assert np.allclose(np.log(ink), theirs.feature_log_prob_, rtol=0, atol=1e-12)


def test_the_network_verbs_give_the_same_posterior(digits):
    x, y = digits
    rows = pd.DataFrame(np.where(x == 1, "1", "0"), columns=PIXELS)
    fitted = bernoulli_network().fit(rows.assign(digit=y.astype(str)), prior=LAPLACE)
    posterior = fitted.query("digit", evidence=rows)
    theirs = BernoulliNB(alpha=1.0, binarize=None).fit(x, y).predict_proba(x)
    assert list(posterior.columns) == DIGITS
    assert np.abs(posterior.to_numpy() - theirs).max() < 1e-10
    assert (fitted.predict(rows, "digit").astype(int).to_numpy() == theirs.argmax(axis=1)).all()


@pytest.mark.parametrize("loader", [load_iris, load_wine], ids=["iris", "wine"])
def test_gaussian_naive_bayes_equals_gaussian_nb(loader):
    data = loader(as_frame=True)
    X, y = data.data, data.target.to_numpy()
    net = naive_bayes("class", [str(c) for c in range(3)], continuous=list(X.columns))
    model = BayesianNetworkClassifier(net, "class").fit(X, y)
    theirs = GaussianNB(var_smoothing=0.0).fit(X, y)
    assert np.abs(model.predict_proba(X) - theirs.predict_proba(X)).max() < 1e-10
    means = np.stack([model.network_[c].intercept for c in X.columns], axis=1)
    variances = np.stack([model.network_[c].variance for c in X.columns], axis=1)
    assert np.allclose(means, theirs.theta_, rtol=1e-13, atol=0)
    assert np.allclose(variances, theirs.var_, rtol=1e-11, atol=0)  # maximum likelihood: 1/N
    # GaussianNB's default adds 1e-9 x the largest feature variance to every variance
    default = GaussianNB().fit(X, y)
    smoothed = model.network_
    for column in X.columns:
        cpd = smoothed[column]
        smoothed = smoothed.with_cpd(column, pgm.LinearGaussian(
            parents=["class"], intercept=cpd.intercept, variance=cpd.variance + default.epsilon_))
    posterior = smoothed.query("class", evidence=X).to_numpy()
    assert np.abs(posterior - default.predict_proba(X)).max() < 1e-10


# ---------------------------------------------------------------------------- any network with a class node
def enumerated_posterior(network, target: str, row: dict) -> np.ndarray:
    """p(target | row) by summing the joint table of a small discrete network (no pgm inference)."""
    nodes = list(network.nodes)
    shape = [len(network.states(n)) for n in nodes]
    joint = np.ones(shape)
    for node in nodes:
        cpd = network[node]
        axes = [nodes.index(p) for p in cpd.parents] + [nodes.index(node)]
        order = np.argsort(axes)
        table = np.transpose(cpd.table, order)
        view = [1] * len(nodes)
        for axis in axes:
            view[axis] = shape[axis]
        joint = joint * table.reshape(view)
    index = tuple(network.states(n).index(row[n]) if n in row else slice(None) for n in nodes)
    kept = joint[index]
    free = [n for n in nodes if n not in row]
    summed = kept.sum(axis=tuple(i for i, n in enumerate(free) if n != target))
    return summed / summed.sum()


@pytest.fixture(scope="module")
def asia_model():
    asia = pgm.load("asia")
    rows = asia.sample(3000, seed=1)
    features = [n for n in asia.nodes if n != "lung"]
    model = BayesianNetworkClassifier(asia, "lung", prior=pgm.Dirichlet(1.0)).fit(rows[features], rows["lung"])
    return model, rows, features


def test_non_naive_network_posteriors_equal_enumeration(asia_model):
    model, rows, features = asia_model
    X = rows[features].iloc[:40].astype(object).copy()
    # some values missing: in the blanket of lung (smoke, either, tub) and outside it (dysp)
    X.iloc[0:10, features.index("dysp")] = np.nan
    X.iloc[10:20, features.index("either")] = np.nan
    X.iloc[20:25, features.index("smoke")] = np.nan
    X.iloc[25:28] = np.nan  # nothing observed: the prior marginal of lung
    ours = model.predict_proba(X)
    assert model.classes_.tolist() == ["yes", "no"]
    for i in range(len(X)):
        observed = {k: v for k, v in X.iloc[i].items() if isinstance(v, str)}
        expected = enumerated_posterior(model.network_, "lung", observed)
        assert np.abs(ours[i] - expected).max() < 1e-12, (i, observed)
    assert (model.predict(X) == model.classes_[ours.argmax(axis=1)]).all()
    query = model.network_.query("lung", evidence=X).to_numpy()
    assert np.abs(ours - query).max() < 1e-12


def test_continuous_and_shared_children_equal_enumeration():
    # class -> u (Gaussian, also depends on a continuous parent w); class, d -> e (a table with two parents)
    net = pgm.BayesianNetwork({
        "c": pgm.Categorical(["a", "b", "c"], table=[0.2, 0.5, 0.3]),
        "d": pgm.Categorical(["0", "1"], table=[0.6, 0.4]),
        "w": pgm.Gaussian(0.0, 1.0),
        "u": pgm.LinearGaussian(parents=["c", "w"], intercept=[0.0, 1.0, -1.0], weights=[[0.5], [2.0], [-1.0]],
                                variance=[1.0, 0.5, 2.0]),
        "e": pgm.Categorical(["0", "1"], parents=["c", "d"],
                             table=[[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.3, 0.7]], [[0.1, 0.9], [0.6, 0.4]]]),
    })
    data = net.sample(4000, seed=3)
    X, y = data[["d", "w", "u", "e"]], data["c"]
    model = BayesianNetworkClassifier(net, "c").fit(X, y)
    fitted = model.network_
    rows = X.iloc[:50]
    d, e = rows["d"].astype(str).to_numpy(), rows["e"].astype(str).to_numpy()
    w, u = rows["w"].to_numpy(), rows["u"].to_numpy()
    joint = np.empty((len(rows), 3))
    for k in range(3):
        cu = fitted["u"]
        mean = cu.intercept[k] + cu.weights[k, 0] * w
        joint[:, k] = (fitted["c"].table[k] * norm.pdf(u, mean, np.sqrt(cu.variance[k]))
                       * fitted["e"].table[k, (d == "1").astype(int), (e == "1").astype(int)])
    expected = joint / joint.sum(axis=1, keepdims=True)
    assert np.abs(model.predict_proba(rows) - expected).max() < 1e-12
    assert np.abs(model.predict_proba(rows) - fitted.query("c", evidence=rows).to_numpy()).max() < 1e-12


# ---------------------------------------------------------------------------- scikit-learn machinery
def test_cross_val_score_and_pipeline_match_bernoulli_nb():
    data = load_digits()
    ours = Pipeline([("binarise", FunctionTransformer(binarise)),
                     ("nb", BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE))])
    theirs = Pipeline([("binarise", FunctionTransformer(binarise)), ("nb", BernoulliNB(alpha=1.0, binarize=None))])
    ours_scores = cross_val_score(ours, data.data, data.target, cv=3)
    assert np.array_equal(ours_scores, cross_val_score(theirs, data.data, data.target, cv=3))
    assert ours_scores.mean() > 0.8
    fitted = ours.fit(data.data, data.target)
    assert fitted.score(data.data, data.target) == pytest.approx(
        theirs.fit(data.data, data.target).score(data.data, data.target), abs=0)


def test_clone_get_params_set_params(digits):
    x, y = digits
    model = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(x, y)
    twin = clone(model)
    assert not hasattr(twin, "network_")
    assert twin.get_params()["target"] == "digit" and twin.network == model.network
    assert twin.set_params(prior=None).prior is None and model.prior is LAPLACE
    assert np.array_equal(twin.fit(x, y).classes_, model.classes_)


def test_pickles_after_inference_with_missing_values(digits):
    x, y = digits
    model = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(x, y)
    holes = x[:20].astype(float)
    holes[:, ::2] = np.nan  # the class's blanket is incomplete: exact inference answers
    before = model.predict_proba(holes)
    again = pickle.loads(pickle.dumps(model))
    assert np.array_equal(again.predict_proba(holes), before)


def test_missing_values_are_marginalised(digits):
    x, y = digits
    model = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(x, y)
    holes = x[:30].astype(float)
    holes[np.arange(30), np.arange(30) % 64] = np.nan
    holes[5, :] = np.nan
    codes = np.where(np.isnan(holes), -1, holes).astype(int)
    evidence = pd.DataFrame({p: pd.Categorical.from_codes(codes[:, i], categories=["0", "1"])
                             for i, p in enumerate(PIXELS)})
    expected = model.network_.query("digit", evidence=evidence).to_numpy()
    assert np.abs(model.predict_proba(holes) - expected).max() < 1e-12
    assert np.allclose(model.predict_proba(holes)[5], model.network_["digit"].table, rtol=0, atol=1e-12)


def test_fit_with_missing_values_runs_em(digits):
    x, y = digits
    holes = x[:300].astype(float)
    holes[::7, 3] = np.nan
    model = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE, fit_options={"seed": 0})
    model.fit(holes, y[:300])
    assert model.network_.fit_report_.converged
    assert model.score(x[:300], y[:300]) > 0.8


def test_sample_weights_are_row_weights(digits):
    x, y = digits
    weights = np.random.default_rng(0).integers(0, 3, len(y))
    ours = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(x, y, sample_weight=weights)
    repeated = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(
        np.repeat(x, weights, axis=0), np.repeat(y, weights))
    assert np.abs(ours.predict_proba(x) - repeated.predict_proba(x)).max() < 1e-12


def test_inputs_by_name_by_position_and_as_strings(digits):
    x, y = digits
    reference = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(x, y).predict_proba(x)
    shuffled = pd.DataFrame(x, columns=PIXELS)[PIXELS[::-1]]  # columns matched by name, in any order
    as_text = pd.DataFrame(np.where(x == 1, "1", "0"), columns=PIXELS)
    as_categories = as_text.astype(pd.CategoricalDtype(["0", "1"]))
    for X, labels in [(shuffled, y), (as_text, y.astype(str)), (as_categories, y.astype(float)),
                      (pd.DataFrame(x), y), (x.astype(np.uint8), list(y))]:
        model = BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(X, labels)
        assert np.abs(model.predict_proba(X) - reference).max() < 1e-12
    assert BayesianNetworkClassifier(bernoulli_network(), "digit", prior=LAPLACE).fit(
        as_text, y.astype(str)).classes_.tolist() == DIGITS


def test_nullable_and_object_columns_with_missing_values():
    net = naive_bayes("y", ["no", "yes"], discrete={"a": ["0", "1"], "b": ["0", "1"]})
    X = pd.DataFrame({"a": [0, 1, 1, 0, 1, 0], "b": ["1", "1", "0", "0", "1", "0"]})
    y = pd.Series(["no", "yes", "yes", "no", "yes", "no"], dtype="category")
    model = BayesianNetworkClassifier(net, "y", prior=pgm.Dirichlet(1.0)).fit(X, y)
    assert model.classes_.tolist() == ["no", "yes"]
    holes = pd.DataFrame({"a": pd.array([1, None, 0], dtype="Int64"), "b": np.array(["0", "1", None], dtype=object)})
    evidence = pd.DataFrame({"a": pd.Categorical(["1", None, "0"], categories=["0", "1"]),
                             "b": pd.Categorical(["0", "1", None], categories=["0", "1"])})
    expected = model.network_.query("y", evidence=evidence).to_numpy()
    assert np.abs(model.predict_proba(holes) - expected).max() < 1e-12


def test_integer_states_are_matched_by_value():
    net = naive_bayes("y", ["-1", "5", "10"], discrete={"a": ["10", "7", "x"]})
    X = np.array([[10], [7], [7.0], [10]])
    model = BayesianNetworkClassifier(net, "y", prior=pgm.Dirichlet(1.0)).fit(X, [-1, 5, 5, 10])
    assert model.classes_.tolist() == [-1, 5, 10]
    counts = model.network_["a"].table * np.array([[4], [5], [4]])  # (count + 1) / (class count + 3)
    assert np.allclose(counts, [[2, 1, 1], [1, 3, 1], [2, 1, 1]])
    assert model.predict([[7]]).tolist() == [5]


# ---------------------------------------------------------------------------- scikit-learn's estimator checks
class GaussianFromData(BayesianNetworkClassifier):
    """The wrapper with its network built from the data: Gaussian naive Bayes over X's columns and y's labels.

    scikit-learn's checks generate data of many shapes with arbitrary labels,
    which a network with fixed nodes and states cannot take; building the
    network from each data set lets every other part of the wrapper (input
    reading, fitted attributes, predictions, pickling, cloning, weights)
    face the checks.
    """

    def _structure(self, X, y):
        if hasattr(X, "toarray"):
            return super()._structure(X, y)
        X, labels = np.asarray(X), np.unique(np.asarray(y))
        if X.ndim != 2 or X.shape[1] == 0 or not len(labels):
            return super()._structure(X, y)
        states = [str(int(v)) if isinstance(v, (int, float, np.number)) and float(v).is_integer() else str(v)
                  for v in labels]
        return naive_bayes("class", states, continuous=[f"x{j}" for j in range(X.shape[1])]), "class"


# Checks that fail only because of the words of an error message: pgm's messages name the culprit
# (the column, the value, the expected feature nodes) in its own words, not in scikit-learn's.
WORDING = "the check looks for scikit-learn's own wording of the error, which pgm words its own way"
EXPECTED_FAILURES = {
    "check_complex_data": WORDING,
    "check_estimators_empty_data_messages": WORDING,
    "check_n_features_in_after_fitting": WORDING,
}
# Before scikit-learn 1.6, one check wants numpy's TypeError for an object that is not a number (a dict in
# X), and one builds the class without arguments, while a classifier needs its network and class node.
EXPECTED_FAILURES_BEFORE_1_6 = {
    **EXPECTED_FAILURES,
    "check_dtype_object": WORDING,
    "check_parameters_default_constructible": "network and target have no default",
}


def test_scikit_learn_estimator_checks():
    estimator = GaussianFromData(naive_bayes("class", ["0", "1"], continuous=["x0"]), "class",
                                 prior=pgm.InverseGamma(scale=1e-3))  # the checks' data has constant columns
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 6):
            results = check_estimator(estimator, expected_failed_checks=EXPECTED_FAILURES, on_skip=None, on_fail=None)
            failed = {r["check_name"]: repr(r["exception"]) for r in results if r["status"] == "failed"}
            assert not failed, failed
            assert sum(r["status"] == "passed" for r in results) > 40
        else:  # before 1.6: no expected_failed_checks, so the checks are run one by one
            ran = 0
            for instance, check in check_estimator(estimator, generate_only=True):
                name = getattr(check, "func", check).__name__
                if name not in EXPECTED_FAILURES_BEFORE_1_6:
                    check(instance)
                    ran += 1
            assert ran > 30


# ---------------------------------------------------------------------------- errors name the culprit
@pytest.fixture(scope="module")
def small():
    net = naive_bayes("y", ["0", "1"], discrete={"a": ["0", "1"], "b": ["0", "1"]}, continuous=["z"])
    X = pd.DataFrame({"a": [0, 1, 1, 0], "b": [1, 1, 0, 0], "z": [0.5, 1.5, 2.0, -1.0]})
    return net, X, np.array([0, 1, 1, 0])


@pytest.mark.parametrize("change, error, words", [
    (lambda X, y: (X.assign(a=[0, 1, 2, 0]), y), DataError, "column 'a', row 2: 2 is not a state of 'a'"),
    (lambda X, y: (X.assign(a=[0, 0.5, 1, 0]), y), DataError, "column 'a', row 1: 0.5 is not a state of 'a'"),
    (lambda X, y: (X.assign(a=[0, np.inf, 1, 0]), y), DataError, "column 'a', row 1: inf is not a state"),
    (lambda X, y: (X.assign(a=[True, False, True, False]), y), DataError, "column 'a' holds booleans"),
    (lambda X, y: (X.assign(a=["0", "yes", "1", "0"]), y), DataError, "'yes' is not a state of 'a'"),
    (lambda X, y: (X.assign(z=[0.0, np.inf, 1.0, 2.0]), y), DataError, "column 'z', row 1: inf is not a finite"),
    (lambda X, y: (X.assign(c=1), y), DataError, "X has a column 'c', which is not a feature node"),
    (lambda X, y: (X.assign(y=1), y), DataError, "X has a column for the target 'y'; pass the labels as y"),
    (lambda X, y: (X.to_numpy()[:, :2], y), ValueError, "X has 2 columns, but the 3 features are ['a', 'b', 'z']"),
    (lambda X, y: (X.to_numpy()[0], y), ValueError, "X must be 2-D"),
    (lambda X, y: (X, [0, 1, 2, 0]), DataError, "y, row 2: 2 is not a state of 'y'"),
    (lambda X, y: (X, [0, 1, 0.5, 0]), DataError, "Unknown label type: continuous; y, row 2: 0.5 is not an integer"),
    (lambda X, y: (X, ["0", "1", "no", "0"]), DataError, "y, row 2: 'no' is not a state of 'y'"),
    (lambda X, y: (X, ["0", "1", None, "0"]), DataError, "y has a missing label at row 2"),
    (lambda X, y: (X, [0, 1]), ValueError, "y has 2 labels but X has 4 rows"),
])
def test_bad_data_is_refused_with_the_culprit(small, change, error, words):
    net, X, y = small
    X, y = change(X, y)
    with pytest.raises(error, match=re.escape(words)):
        BayesianNetworkClassifier(net, "y").fit(X, y)


def test_integers_are_values_of_a_continuous_feature(small):
    net, X, y = small
    as_floats = BayesianNetworkClassifier(net, "y").fit(X.assign(z=[1.0, 2.0, 3.0, 5.0]), y)
    as_integers = BayesianNetworkClassifier(net, "y").fit(X.assign(z=[1, 2, 3, 5]), y)
    assert np.array_equal(as_integers.predict_proba(X.assign(z=[1, 2, 3, 5])),
                          as_floats.predict_proba(X.assign(z=[1.0, 2.0, 3.0, 5.0])))


def test_bad_array_entry_names_the_column_position_and_node(small):
    net, X, y = small
    values = X.to_numpy()
    values[3, 1] = 7
    with pytest.raises(DataError, match=re.escape("X column 1 ('b'), row 3: 7.0 is not a state of 'b'; a number "
                                                  "matches the state written as that integer ('0', '1')")):
        BayesianNetworkClassifier(net, "y").fit(values, y)


def test_bad_configuration_is_refused_when_fitting(small):
    net, X, y = small
    cases = [
        (BayesianNetworkClassifier(net, "Y"), NodeError, "the target 'Y' is not a node of the network; did you mean 'y'?"),
        (BayesianNetworkClassifier(net, "z"), StructureError, "the target 'z' is continuous"),
        (BayesianNetworkClassifier("net", "y"), TypeError, "network must be a pgm.BayesianNetwork, not str"),
        (BayesianNetworkClassifier(net, "y", fit_options={"prior": None}), ValueError, "fit_options must not set 'prior'"),
        (BayesianNetworkClassifier(net.with_cpd("y", pgm.Categorical.latent(["0", "1"])), "y"), StructureError,
         "the target 'y' is latent"),
    ]
    for model, error, words in cases:
        with pytest.raises(error, match=re.escape(words)):
            model.fit(X, y)
    numeric_classes = naive_bayes("y", ["no", "yes"], continuous=["z"])
    with pytest.raises(DataError, match=re.escape("y is numeric, but the state 'no' of 'y' is not written as a decimal")):
        BayesianNetworkClassifier(numeric_classes, "y").fit(X[["z"]], y)
    with pytest.raises(DataError, match="every sample weight is zero"):
        BayesianNetworkClassifier(net, "y").fit(X, y, sample_weight=np.zeros(4))


def test_prediction_needs_a_fit_and_the_same_columns(small):
    net, X, y = small
    with pytest.raises(NotFittedError):
        BayesianNetworkClassifier(net, "y").predict(X)
    model = BayesianNetworkClassifier(net, "y").fit(X, y)
    assert model.feature_names_in_.tolist() == ["a", "b", "z"] and model.n_features_in_ == 3
    with pytest.raises(DataError, match=re.escape("X has no column 'z', which the classifier was fitted with")):
        model.predict(X[["a", "b"]])
    with pytest.raises(TypeError, match="sparse"):
        from scipy import sparse

        model.predict(sparse.csr_matrix(X.to_numpy()))
    assert model.predict(X[["z", "b", "a"]]).tolist() == model.predict(X).tolist()
