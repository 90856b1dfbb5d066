"""EM for linear dynamical systems (pgm.dynamic fit with continuous hidden nodes), against independent answers.

- the static engine's EM on ``unroll(T)`` (joint Gaussian conditioning in the
  unrolled network), one step, with missing coordinates;
- a textbook Shumway-Stoffer EM step written here: Kalman filter, RTS
  smoother with the lag-one covariance, and the closed-form M-step (affine,
  since the network's CPDs have intercepts);
- EM never decreases the log-likelihood, from random starts.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from pgm.dynamic import linear_dynamical_system, state_space
from pgm.learning.em import ConvergenceWarning

A = np.array([[0.9, 0.2], [-0.1, 0.8]])
C = np.array([[1.0, 0.5], [0.0, 1.0], [0.3, -0.2]])
Q = np.array([[0.3, 0.1], [0.1, 0.2]])
R = np.array([[0.5, 0.2, 0.0], [0.2, 0.4, 0.1], [0.0, 0.1, 0.6]])
M0, P0 = np.array([1.0, -1.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
OBSERVED = ["y0", "y1", "y2"]


def system():
    return linear_dynamical_system(A, C, Q, R, M0, P0)


def sequences(T, n, seed, missing=0.0):
    frame = system().sample([T] * n, seed=seed).drop(columns=["x0", "x1"])
    values = frame[OBSERVED].to_numpy(copy=True)
    values[np.random.default_rng(seed).random(values.shape) < missing] = np.nan
    frame[OBSERVED] = values
    return frame


def one_step(model, frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(frame, sequence="sequence", init="current", max_iter=1)


def test_one_em_step_equals_em_on_the_unrolled_network_with_missing_coordinates():
    T = 4
    frame = sequences(T, 30, seed=1, missing=0.2)
    wide = pd.DataFrame({f"{c}[{t}]": frame[c].to_numpy().reshape(-1, T)[:, t] for c in OBSERVED for t in range(T)})
    ours = one_step(system(), frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        static = system().unroll(T).fit(wide, init="current", max_iter=1)
    for node in system().nodes:
        for t in range(T):
            mine, theirs = ours.cpd(node, t), static[f"{node}[{t}]"]
            for part in ("intercept", "weights", "variance"):
                assert np.allclose(np.asarray(getattr(mine, part)), np.asarray(getattr(theirs, part)),
                                   rtol=0, atol=1e-8), (node, t, part)
    assert ours.fit_report_.log_likelihood[0] * T == pytest.approx(static.fit_report_.log_likelihood[0], abs=1e-8)


def textbook_e_step(y):
    """Kalman filter + RTS smoother for one sequence; smoothed means, covariances and Cov(x_{t-1}, x_t)."""
    T, k = len(y), len(M0)
    mf, Pf, mp, Pp = np.zeros((T, k)), np.zeros((T, k, k)), np.zeros((T, k)), np.zeros((T, k, k))
    for t in range(T):
        m, P = (M0, P0) if t == 0 else (A @ mf[t - 1], A @ Pf[t - 1] @ A.T + Q)
        mp[t], Pp[t] = m, P
        S = C @ P @ C.T + R
        K = P @ C.T @ np.linalg.inv(S)
        mf[t], Pf[t] = m + K @ (y[t] - C @ m), P - K @ C @ P
    ms, Ps, lag = mf.copy(), Pf.copy(), np.zeros((T, k, k))
    for t in range(T - 2, -1, -1):
        J = Pf[t] @ A.T @ np.linalg.inv(Pp[t + 1])
        ms[t] = mf[t] + J @ (ms[t + 1] - mp[t + 1])
        Ps[t] = Pf[t] + J @ (Ps[t + 1] - Pp[t + 1]) @ J.T
        lag[t + 1] = J @ Ps[t + 1]  # Cov(x_t, x_{t+1} | y)
    return ms, Ps, lag


def textbook_m_step(ys):
    """Shumway & Stoffer's M-step with intercepts: affine regressions on expected moments."""
    k = len(M0)
    Szz, Sxz, Sxx, n = np.zeros((k + 1, k + 1)), np.zeros((k, k + 1)), np.zeros((k, k)), 0
    Ezz, Eyz, Eyy, m = np.zeros((k + 1, k + 1)), np.zeros((3, k + 1)), np.zeros((3, 3)), 0
    starts, start_covs = [], []
    for y in ys:
        ms, Ps, lag = textbook_e_step(y)
        starts.append(ms[0])
        start_covs.append(Ps[0])
        for t in range(len(y)):
            z = np.r_[1.0, ms[t]]
            second = np.outer(z, z)
            second[1:, 1:] += Ps[t]
            Ezz += second
            Eyz += np.outer(y[t], z)
            Eyy += np.outer(y[t], y[t])
            m += 1
            if t:
                zp = np.r_[1.0, ms[t - 1]]
                prev = np.outer(zp, zp)
                prev[1:, 1:] += Ps[t - 1]
                Szz += prev
                Sxz += np.outer(ms[t], zp)
                Sxz[:, 1:] += lag[t].T  # E[x_t x_{t-1}^T] = m_t m_{t-1}^T + Cov(x_t, x_{t-1})
                Sxx += np.outer(ms[t], ms[t]) + Ps[t]
                n += 1
    transition = Sxz @ np.linalg.inv(Szz)
    emission = Eyz @ np.linalg.inv(Ezz)
    starts = np.array(starts)
    m0 = starts.mean(axis=0)
    p0 = np.mean([P + np.outer(s - m0, s - m0) for s, P in zip(starts, start_covs)], axis=0)
    return {"a": transition[:, 0], "A": transition[:, 1:], "Q": (Sxx - transition @ Sxz.T) / n,
            "c": emission[:, 0], "C": emission[:, 1:], "R": (Eyy - emission @ Eyz.T) / m, "m0": m0, "P0": p0}


def test_one_em_step_equals_a_textbook_shumway_stoffer_step():
    T, n = 6, 40
    frame = sequences(T, n, seed=3)
    fitted = state_space(one_step(system(), frame))
    expected = textbook_m_step(frame[OBSERVED].to_numpy().reshape(n, T, 3))
    for name, value in expected.items():
        assert np.allclose(getattr(fitted, name), value, rtol=0, atol=1e-8), name
    assert np.allclose(fitted.C0, expected["C"], atol=1e-8) and np.allclose(fitted.R0, expected["R"], atol=1e-8)


def test_em_from_random_starts_never_decreases_the_log_likelihood_and_reports_its_restarts():
    frame = sequences(30, 8, seed=5, missing=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fitted = system().fit(frame, sequence="sequence", n_init=2, seed=0, max_iter=25)
    report = fitted.fit_report_
    assert len(report.restarts) == 2 and report.log_likelihood[-1] == max(report.restarts)
    trace = np.array(report.log_likelihood)
    assert (np.diff(trace) > -1e-10).all() and trace[-1] > trace[0]
    # the fitted model explains the data better than the truth's parameters on their own data, as an MLE should
    truth = system().log_likelihood(frame, sequence="sequence").sum() / len(frame)
    assert trace[-1] >= truth - 0.05
