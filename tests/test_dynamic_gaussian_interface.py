"""Missing continuous values with children in later slices, in linear Gaussian dynamic networks.

An observed node with an inter-slice child (``y[t-1] -> y``, ``y[t-1] -> w``)
whose value is missing has to be carried to the next slice as part of a
Gaussian state.  The answers are checked against the static engine on
``unroll(T)`` (exact for Gaussian networks) and against a textbook Kalman
filter and Rauch-Tung-Striebel smoother written here, on state-space
matrices derived by hand from the CPDs.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from pgm.cpds import LinearGaussian
from pgm.dynamic import DynamicBayesianNetwork, kalman_smoother
from pgm.learning.em import ConvergenceWarning


def hidden_level_with_autoregression():
    """x_t = 0.1 + 0.9 x_{t-1} + N(0, .5);  y_t = 0.5 + x_t + 0.6 y_{t-1} + N(0, .4);
    w_t = -1 + 0.3 y_{t-1} + 0.7 y_t + N(0, .2)."""
    x0 = LinearGaussian(intercept=0.0, variance=1.0)
    x = LinearGaussian(parents=["x[t-1]"], intercept=0.1, weights=[0.9], variance=0.5)
    x0.latent = x.latent = True
    transition = {"x": x,
                  "y": LinearGaussian(parents=["x", "y[t-1]"], intercept=0.5, weights=[1.0, 0.6], variance=0.4),
                  "w": LinearGaussian(parents=["y[t-1]", "y"], intercept=-1.0, weights=[0.3, 0.7], variance=0.2)}
    initial = {"x": x0, "y": LinearGaussian(parents=["x"], intercept=0.2, weights=[1.0], variance=0.3),
               "w": LinearGaussian(parents=["y"], intercept=-1.0, weights=[0.7], variance=0.2)}
    return DynamicBayesianNetwork(transition, initial=initial)


def observed_ar1():
    return DynamicBayesianNetwork(
        {"y": LinearGaussian(parents=["y[t-1]"], intercept=0.3, weights=[0.8], variance=0.5)},
        initial={"y": LinearGaussian(intercept=1.0, variance=2.0)})


def with_holes(frame, columns, rate, seed):
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for c in columns:
        values = out[c].to_numpy(copy=True)
        values[rng.random(len(values)) < rate] = np.nan
        out[c] = values
    return out


def evidence_of(rows, columns):
    return {f"{c}[{t}]": float(v) for c in columns for t, v in enumerate(rows[c]) if not np.isnan(v)}


CASES = {"hidden level": (hidden_level_with_autoregression, ("y", "w")), "observed AR(1)": (observed_ar1, ("y",))}


@pytest.mark.parametrize("case", sorted(CASES))
def test_likelihood_and_posterior_means_equal_the_unrolled_network(case):
    build, observed = CASES[case]
    dbn = build()
    frame = with_holes(dbn.sample([7, 4, 1, 6], seed=0).drop(columns=["x", "t"], errors="ignore"), observed, 0.35, 1)
    ours = dbn.log_likelihood(frame, sequence="sequence")
    smoothed = kalman_smoother(dbn, frame, sequence="sequence")
    filtered_mean = smoothed.filtered_mean
    for sid, rows in frame.groupby("sequence", sort=False):
        T, evidence = len(rows), evidence_of(rows, observed)
        unrolled = dbn.unroll(T)
        assert ours[sid] == pytest.approx(unrolled.log_evidence(evidence), abs=1e-10)
        for t in range(T):
            for j, node in enumerate(smoothed.smoothed_mean.columns):
                if f"{node}[{t}]" in evidence:
                    continue
                whole = unrolled.query(f"{node}[{t}]", evidence)
                row = smoothed.smoothed_mean.index.get_loc((sid, t))
                assert smoothed.smoothed_mean.iloc[row, j] == pytest.approx(float(whole.mean[0]), abs=1e-10)
                assert smoothed.smoothed_cov[row, j, j] == pytest.approx(float(whole.covariance[0, 0]), abs=1e-10)
                upto = {k: v for k, v in evidence.items() if int(k.split("[")[1][:-1]) <= t}
                past = dbn.unroll(t + 1).query(f"{node}[{t}]", upto)
                assert filtered_mean.iloc[row, j] == pytest.approx(float(past.mean[0]), abs=1e-10)


def textbook_rts(y, a, A, Q, C, m0, P0):
    """Kalman filter and RTS smoother with a transition offset and noise-free observations (NaN: no update)."""
    T, k = len(y), len(m0)
    mf, Pf, mp, Pp = np.zeros((T, k)), np.zeros((T, k, k)), np.zeros((T, k)), np.zeros((T, k, k))
    loglik = 0.0
    for t in range(T):
        m, P = (m0, P0) if t == 0 else (a + A @ mf[t - 1], A @ Pf[t - 1] @ A.T + Q)
        mp[t], Pp[t] = m, P
        seen = ~np.isnan(y[t])
        if seen.any():
            H = C[seen]
            S = H @ P @ H.T
            K = P @ H.T @ np.linalg.inv(S)
            r = y[t][seen] - H @ m
            m, P = m + K @ r, P - K @ H @ P
            loglik += -0.5 * (r @ np.linalg.solve(S, r) + np.linalg.slogdet(S)[1] + seen.sum() * np.log(2 * np.pi))
        mf[t], Pf[t] = m, P
    ms, Ps = mf.copy(), Pf.copy()
    for t in range(T - 2, -1, -1):
        J = Pf[t] @ A.T @ np.linalg.inv(Pp[t + 1])
        ms[t] = mf[t] + J @ (ms[t + 1] - mp[t + 1])
        Ps[t] = Pf[t] + J @ (Ps[t + 1] - Pp[t + 1]) @ J.T
    return loglik, ms, Ps


def test_the_carried_state_equals_a_textbook_smoother_on_matrices_derived_by_hand():
    dbn = hidden_level_with_autoregression()
    # state s = (x, y, w): x = .1 + .9 x' + e_x;  y = .5 + x + .6 y' + e_y;  w = -1 + .3 y' + .7 y + e_w
    a = np.array([0.1, 0.6, -1.0 + 0.7 * 0.6])
    A = np.array([[0.9, 0, 0], [0.9, 0.6, 0], [0.7 * 0.9, 0.3 + 0.7 * 0.6, 0]])
    L = np.array([[1, 0, 0], [1, 1, 0], [0.7, 0.7, 1]])  # noise loadings (e_x, e_y, e_w)
    Q = L @ np.diag([0.5, 0.4, 0.2]) @ L.T
    L0 = np.array([[1, 0, 0], [1, 1, 0], [0.7, 0.7, 1]])
    m0 = np.array([0.0, 0.2, -1.0 + 0.7 * 0.2])
    P0 = L0 @ np.diag([1.0, 0.3, 0.2]) @ L0.T
    C = np.array([[0, 1.0, 0], [0, 0, 1.0]])
    frame = with_holes(dbn.sample([40, 25], seed=5).drop(columns=["x", "t"]), ("y", "w"), 0.3, 6)
    result = kalman_smoother(dbn, frame, sequence="sequence")
    for sid, rows in frame.groupby("sequence", sort=False):
        loglik, ms, Ps = textbook_rts(rows[["y", "w"]].to_numpy(), a, A, Q, C, m0, P0)
        assert result.log_likelihood[sid] == pytest.approx(loglik, abs=1e-8)
        at = result.smoothed_mean.index.get_locs([sid])
        assert np.allclose(result.smoothed_mean.to_numpy()[at], ms, atol=1e-8)
        assert np.allclose(result.smoothed_cov[at], Ps, atol=1e-8)


@pytest.mark.parametrize("case", sorted(CASES))
def test_one_em_step_equals_em_on_the_unrolled_network(case):
    build, observed = CASES[case]
    dbn, T = build(), 4
    frame = with_holes(dbn.sample([T] * 40, seed=3).drop(columns=["x"], errors="ignore"), observed, 0.3, 4)
    wide = pd.DataFrame({f"{c}[{t}]": frame[c].to_numpy().reshape(-1, T)[:, t] for c in observed for t in range(T)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = dbn.fit(frame, sequence="sequence", init="current", max_iter=1)
        static = dbn.unroll(T).fit(wide, init="current", max_iter=1)
    for node in dbn.nodes:
        for t in range(T):
            mine, theirs = ours.cpd(node, t), static[f"{node}[{t}]"]
            for part in ("intercept", "weights", "variance"):
                assert np.allclose(np.asarray(getattr(mine, part)), np.asarray(getattr(theirs, part)),
                                   rtol=0, atol=1e-10), (node, t, part)
    assert ours.fit_report_.log_likelihood[0] * T == pytest.approx(static.fit_report_.log_likelihood[0], abs=1e-9)


def test_em_on_an_autoregression_with_holes_recovers_its_coefficients():
    truth = observed_ar1()
    frame = with_holes(truth.sample([200] * 20, seed=8), ("y",), 0.2, 9)
    fitted = truth.fit(frame, sequence="sequence", max_iter=200, tol=1e-9)
    step = fitted.cpd("y", 5)
    # 4,000 steps, 80 % seen: the slope's sd is about sqrt((1 - .64) / 4000 / .8) ~ 0.011
    assert abs(float(np.asarray(step.weights).ravel()[0]) - 0.8) < 0.05
    assert abs(float(step.variance) - 0.5) < 0.05
    complete = truth.fit(truth.sample([200] * 20, seed=8), sequence="sequence")  # closed form, no holes
    assert abs(float(np.asarray(complete.cpd("y", 5).weights).ravel()[0]) - 0.8) < 0.05


def test_an_own_cpd_at_slice_one_takes_the_blocks_without_hidden_nodes_and_is_refused_by_the_kalman_filter():
    from pgm.errors import StructureError

    ar = DynamicBayesianNetwork(
        {"y": LinearGaussian(parents=["y[t-1]"], intercept=0.3, weights=[0.8], variance=0.5)},
        initial=[{"y": LinearGaussian(intercept=1.0, variance=2.0)},
                 {"y": LinearGaussian(parents=["y[t-1]"], intercept=0.0, weights=[0.1], variance=3.0)}])
    gaps = pd.DataFrame({"y": [1.0, np.nan, 2.0, 0.5, np.nan, np.nan, 0.1]})
    evidence = {f"y[{t}]": v for t, v in enumerate(gaps.y) if not np.isnan(v)}
    assert ar.log_likelihood(gaps).iloc[0] == pytest.approx(ar.unroll(7).log_evidence(evidence), abs=1e-10)
    level = hidden_level_with_autoregression()
    x1 = LinearGaussian(parents=["x[t-1]"], intercept=0.0, weights=[0.5], variance=1.0)
    x1.latent = True
    twice = DynamicBayesianNetwork(level.transition, initial=[level.initial[0], {"x": x1}])
    with pytest.raises(StructureError, match="initial CPDs for slice 0 only; the network gives one for 'x' at slice 1"):
        kalman_smoother(twice, pd.DataFrame({"y": [0.1, 0.2], "w": [0.0, 0.3]}))


def test_an_autoregression_with_gaps_has_statsmodels_sarimax_log_likelihood():
    sm = pytest.importorskip("statsmodels.api")
    c, phi, noise = 0.3, 0.8, 0.5
    stationary = DynamicBayesianNetwork(
        {"y": LinearGaussian(parents=["y[t-1]"], intercept=c, weights=[phi], variance=noise)},
        initial={"y": LinearGaussian(intercept=c / (1 - phi), variance=noise / (1 - phi**2))})
    y = stationary.sample([500], seed=0)["y"].to_numpy(copy=True)
    y[np.random.default_rng(1).random(len(y)) < 0.2] = np.nan
    y[100:110] = np.nan
    reference = sm.tsa.SARIMAX(y, order=(1, 0, 0), trend="c").loglike(np.array([c, phi, noise]))
    assert stationary.log_likelihood({"y": y}).iloc[0] == pytest.approx(reference, abs=1e-8)
