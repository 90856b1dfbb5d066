"""Hidden (or partly observed) nodes with children two or more slices later, against unroll(T).

A k-th order chain with missing values, or a hidden node with a parent
``z[t-2]``, needs more than one slice of the past in the forward message:
the joint hidden state carries lagged copies of those nodes.  Every answer
is compared with the static junction tree on the unrolled network (and
Viterbi with its MPE); the static engine knows nothing of the copies.
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from pgm import Dirichlet
from pgm.cpds import Categorical
from pgm.dynamic import DynamicBayesianNetwork, markov_chain, previous
from pgm.dynamic.potentials import HiddenSpace
from pgm.errors import InferenceTooLarge
from pgm.learning.em import ConvergenceWarning


def _table(rng, *shape):
    return rng.dirichlet(np.ones(shape[-1]) * 0.8, size=shape[:-1])


def fitted_chain(order, seed=0, states=("a", "b", "c")):
    rng = np.random.default_rng(seed)
    text = pd.DataFrame({"x": rng.choice(list(states), size=300)})
    return markov_chain(list(states), order=order).fit(text, prior=Dirichlet(1))


def holes(frame, column, rate, seed):
    rng = np.random.default_rng(seed)
    values = frame[column].astype(object)
    values[rng.random(len(frame)) < rate] = None
    out = frame.copy()
    out[column] = values
    return out


def evidence_of(rows, observed, upto=None):
    return {f"{n}[{t}]": v for t, row in enumerate(rows[list(observed)].itertuples(index=False))
            if upto is None or t <= upto for n, v in zip(observed, row) if v is not None}


def lag_two_dbn(seed):
    """Hidden z with parents z[t-2], z[t-1]; observed y | z and w | z[t-2], y."""
    rng = np.random.default_rng(seed)
    zs, ys, ws = [0, 1], ["p", "q", "r"], ["u", "v"]
    transition = {
        "z": Categorical(zs, parents=[previous("z", 2), previous("z")], table=_table(rng, 2, 2, 2)),
        "y": Categorical(ys, parents=["z"], table=_table(rng, 2, 3)),
        "w": Categorical(ws, parents=[previous("z", 2), "y"], table=_table(rng, 2, 3, 2)),
    }
    initial = [{"z": Categorical(zs, table=_table(rng, 2)), "w": Categorical(ws, parents=["y"], table=_table(rng, 3, 2))},
               {"z": Categorical(zs, parents=[previous("z")], table=_table(rng, 2, 2)),
                "w": Categorical(ws, parents=["y"], table=_table(rng, 3, 2))}]
    return DynamicBayesianNetwork(transition, initial=initial, latent=["z"])


@pytest.mark.parametrize("order", [2, 3])
def test_a_kth_order_chain_with_missing_values_equals_the_unrolled_network(order):
    chain = fitted_chain(order)
    frame = holes(chain.sample([7, 5, 2, 6], seed=order), "x", 0.35, order).drop(columns="t")
    ours = chain.log_likelihood(frame, sequence="sequence")
    windowed = chain.log_likelihood(frame, sequence="sequence", checkpoint=3)
    for sid, rows in frame.groupby("sequence", sort=False):
        expected = chain.unroll(len(rows)).log_evidence(evidence_of(rows, ["x"]))
        assert ours[sid] == pytest.approx(expected, abs=1e-10)
        assert windowed[sid] == pytest.approx(expected, abs=1e-10)


def test_one_em_step_of_a_second_order_chain_with_holes_equals_em_on_the_unrolled_network():
    chain, T = fitted_chain(2, seed=1), 5
    frame = holes(chain.sample([T] * 30, seed=4), "x", 0.3, 5)
    wide = pd.DataFrame({f"x[{t}]": frame["x"].to_numpy(object).reshape(-1, T)[:, t] for t in range(T)})
    wide = wide.replace({None: np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = chain.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = chain.unroll(T).fit(wide, init="current", max_iter=1)
    for t in range(T):
        assert np.abs(ours.cpd("x", t).table - static[f"x[{t}]"].table).max() < 1e-10, t
    assert ours.fit_report_.log_likelihood[0] * T == pytest.approx(static.fit_report_.log_likelihood[0], abs=1e-10)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_hidden_node_with_a_lag_two_child_equals_the_unrolled_network(seed):
    dbn = lag_two_dbn(seed)
    frame = holes(holes(dbn.sample([6, 3, 1, 5], seed=seed).drop(columns=["z", "t"]), "y", 0.3, seed), "w", 0.2,
                  seed + 1)
    ours = dbn.log_likelihood(frame, sequence="sequence")
    smoothed, filtered = dbn.smoothed(frame, sequence="sequence"), dbn.filtered(frame, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        T = len(rows)
        unrolled, evidence = dbn.unroll(T), evidence_of(rows, ["y", "w"])
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
        for t in range(T):
            whole = unrolled.query(f"z[{t}]", evidence).probabilities
            assert np.abs(smoothed.loc[(sid, t), "z"].to_numpy(float) - whole).max() < 1e-10
            past = dbn.unroll(t + 1).query(f"z[{t}]", evidence_of(rows, ["y", "w"], upto=t)).probabilities
            assert np.abs(filtered.loc[(sid, t), "z"].to_numpy(float) - past).max() < 1e-10


def test_prediction_past_the_end_carries_the_last_two_slices():
    full = lag_two_dbn(4)
    dbn = DynamicBayesianNetwork({n: full.transition[n] for n in ("z", "y")},
                                 initial=[{"z": s["z"]} for s in full.initial], latent=["z"])
    frame = holes(dbn.sample([5, 2, 1], seed=3).drop(columns=["z", "t"]), "y", 0.3, 2)
    ahead = dbn.predict(frame, steps=3, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        T, evidence = len(rows), evidence_of(rows, ["y"])
        for k in (1, 2, 3):
            future = dbn.unroll(T + k).query(f"z[{T - 1 + k}]", evidence).probabilities
            assert np.abs(ahead.loc[(sid, k), "z"].to_numpy(float) - future).max() < 1e-10


def test_viterbi_with_a_lag_two_hidden_parent_is_the_best_path_by_enumeration():
    dbn = lag_two_dbn(2)
    frame = dbn.sample([6, 4], seed=9).drop(columns=["z", "t"])
    best = dbn.most_probable_path(frame, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        T = len(rows)
        unrolled, evidence = dbn.unroll(T), evidence_of(rows, ["y", "w"])
        scores = {}
        for path in itertools.product([0, 1], repeat=T):
            full = {**evidence, **{f"z[{t}]": s for t, s in enumerate(path)}}
            scores[path] = unrolled.log_evidence(full)
        winner = max(scores, key=scores.get)
        assert best.log_probability[sid] == pytest.approx(scores[winner], abs=1e-10)
        assert tuple(best.path.loc[sid, "z"]) == winner


def test_one_em_step_with_a_lag_two_hidden_parent_equals_em_on_the_unrolled_network():
    dbn, T = lag_two_dbn(3), 4
    frame = holes(dbn.sample([T] * 30, seed=5).drop(columns="z"), "y", 0.25, 6)
    wide = pd.DataFrame({f"{n}[{t}]": frame[n].to_numpy(object).reshape(-1, T)[:, t]
                         for n in ("y", "w") for t in range(T)}).replace({None: np.nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = dbn.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = dbn.unroll(T).fit(wide, init="current", max_iter=1)
    for node in dbn.nodes:
        for t in range(T):
            assert np.abs(ours.cpd(node, t).table - static[f"{node}[{t}]"].table).max() < 1e-10, (node, t)


def test_lagged_copies_count_towards_the_state_limit_and_are_named_in_the_refusal():
    chain = markov_chain(list(range(20)), order=3)
    space = HiddenSpace.of(markov_chain(["a", "b"], order=3), promoted=("x",))
    assert space.nodes == ("x", "x[t-1]", "x[t-2]") and space.size == 8
    with pytest.raises(InferenceTooLarge, match=r"lagged copies \['x\[t-1\]', 'x\[t-2\]'\].* 8,000 states"):
        HiddenSpace.of(chain, promoted=("x",))
