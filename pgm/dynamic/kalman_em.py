"""EM for linear Gaussian dynamic networks (linear dynamical systems), through the statistics seam.

Shumway & Stoffer (1982) and Ghahramani & Hinton (1996) fit ``A, C, Q, R``
and the initial state by EM: the E-step is the Kalman filter and the
Rauch-Tung-Striebel smoother, giving the posterior mean and covariance of
every ``x_t`` and the lag-one covariance ``Cov(x_{t-1}, x_t | y)``; the
M-step is linear regression on the expected moments.

Here the model is a dynamic network of linear Gaussian CPDs (a chain such as
:func:`~pgm.dynamic.kalman.linear_dynamical_system` builds, or any linear
Gaussian 2TBN that :func:`~pgm.dynamic.kalman.state_space` accepts), and the
M-step is each CPD's own ``from_statistics`` -- priors, restarts, progress
and the fit report come from :func:`pgm.dynamic.learning.fit` unchanged.
The E-step hands each CPD its *expected* statistics: at every step the
variables of a slice and the hidden state before it, ``v = (x_{t-1}, x_t,
y_t)``, are jointly Gaussian given the data (missing coordinates of ``y_t``
included, through their regression on ``x_t`` and the observed ones), and
``2 dim(v)`` sigma points ``mean +- sqrt(dim v) * (columns of a square root
of the covariance)`` of weight ``1 / 2 dim(v)`` carry exactly its first and
second moments into the CPDs' moment statistics.
"""

from __future__ import annotations

import numpy as np

from pgm.dynamic.kalman import filter_and_smooth, state_space
from pgm.dynamic.model import parse_parent
from pgm.learning.mle import Statistics

__all__ = ["is_linear_dynamical", "kalman_expected_statistics", "random_start_statistics"]


def is_linear_dynamical(network, packed=None) -> bool:
    """Whether the network runs through the Kalman filter (and is fitted by Kalman EM).

    It does when it has continuous latent nodes; and, for ``packed`` data,
    when every node is continuous, parents reach one slice back, and an
    observed node with a child in the next slice has a missing value there
    (the value then has to be carried forward as part of a Gaussian state,
    :func:`pgm.dynamic.kalman.observed_in_state`).  Longer lags take the
    blocks of :mod:`pgm.dynamic.gaussian_runs` instead.
    """
    if any(network.domains[n] is None for n in network.latent_nodes):
        return True
    if packed is None or any(network.domains[n] is not None for n in network.nodes):
        return False
    from pgm.dynamic.kalman import observed_in_state

    if not observed_in_state(network) or network.order > 1 or len(network.initial) > 1:
        return False  # the Kalman state holds one slice of the past, matrices for slice 0 and the rest only:
        # blocks over the gaps (pgm.dynamic.gaussian_runs) take longer lags and more initial slices
    return any(np.isnan(packed.columns[n][packed.valid]).any() for n in network.observed_nodes
               if n in packed.columns)


def kalman_expected_statistics(network, packed):
    """The E-step: ``(Statistics keyed by CPD key, total log-likelihood)``."""
    loglik, _, _, mean_s, cov_s, cross = filter_and_smooth(network, packed)
    return _statistics(network, packed, mean_s, cov_s, cross), float(loglik.sum())


def random_start_statistics(network, packed, rng):
    """Statistics of a random hidden trajectory (a random walk with unit steps, posterior variance 1/2 and no
    lag-one covariance): the M-step on them is EM's random start.  Observed nodes carried in the state keep
    their values; a missing one gets its column's mean and variance."""
    N, T = packed.n_sequences, packed.longest
    k = len(network.latent_nodes)
    d = len(state_space(network).state) or k
    mean = np.zeros((N, T, d))
    mean[..., :k] = np.cumsum(rng.normal(size=(N, T, k)), axis=1)
    mean[..., :k] -= mean[..., :k].mean(axis=(0, 1))
    cov = np.zeros((N, T, d, d))
    cov[..., np.arange(k), np.arange(k)] = 0.5
    for j, node in enumerate(network.observed_nodes if d > k else ()):
        values = packed.columns[node]
        seen = values[packed.valid & ~np.isnan(values)]
        centre, spread = (float(seen.mean()), float(seen.var())) if len(seen) else (0.0, 1.0)
        missing = np.isnan(values)
        mean[..., k + j] = np.where(missing, centre, values)
        cov[..., k + j, k + j] = np.where(missing, spread, 0.0)
    return _statistics(network, packed, mean, cov, np.zeros((N, T, d, d)))


def _statistics(network, packed, mean_s, cov_s, cross) -> Statistics:
    ss = state_space(network)
    hidden, observed = list(network.latent_nodes), list(network.observed_nodes)
    if ss.augmented:  # the observed nodes are state coordinates: the state's moments are all there is
        return _state_statistics(network, packed, list(ss.state), mean_s, cov_s, cross)
    Y = np.stack([packed.columns[n] for n in observed], axis=-1)
    valid = packed.valid
    arrays, mergers = {}, {}
    for steps in _segments(network, packed.longest):
        c, C, R = (ss.c0, ss.C0, ss.R0) if steps[0] == 0 else (ss.c, ss.C, ss.R)
        with_previous = steps[0] > 0
        rows, cols = np.nonzero(valid[:, steps[0]:steps[-1] + 1])
        cols = cols + steps[0]
        seen = ~np.isnan(Y[rows, cols])
        patterns, which = np.unique(seen, axis=0, return_inverse=True)
        for index, pattern in enumerate(patterns):
            at = np.flatnonzero(which.reshape(-1) == index)
            r, t = rows[at], cols[at]
            mean, cov = _joint(mean_s, cov_s, cross, Y, r, t, pattern, c, C, R, with_previous)
            points, weights = _sigma_points(mean, cov)
            names = ([f"{h}[t-1]" for h in hidden] if with_previous else []) + hidden + observed
            for node in network.nodes:
                cpd = network.cpd(node, steps[0])
                parents = {}
                for parent in cpd.parents:
                    base, lag = parse_parent(parent, node)
                    parents[parent] = points[:, names.index(f"{base}[t-1]" if lag else base)]
                stats = cpd.statistics(points[:, names.index(node)], parents, weights)
                key = network.cpd_key(node, steps[0])
                arrays[key] = stats if key not in arrays else cpd.merge_statistics(arrays[key], stats)
                mergers[key] = cpd.merge_statistics
    return Statistics(arrays, float(packed.lengths.sum()), mergers)


def _state_statistics(network, packed, names, mean_s, cov_s, cross) -> Statistics:
    """Expected statistics when every node is a state coordinate: sigma points of ``(s_{t-1}, s_t)``."""
    valid = packed.valid
    arrays, mergers = {}, {}
    for steps in _segments(network, packed.longest):
        with_previous = steps[0] > 0
        r, t = np.nonzero(valid[:, steps[0]:steps[-1] + 1])
        t = t + steps[0]
        if with_previous:
            mean = np.concatenate([mean_s[r, t - 1], mean_s[r, t]], axis=1)
            cov = np.block([[cov_s[r, t - 1], cross[r, t]], [np.swapaxes(cross[r, t], -1, -2), cov_s[r, t]]])
        else:
            mean, cov = mean_s[r, t], cov_s[r, t]
        points, weights = _sigma_points(mean, 0.5 * (cov + np.swapaxes(cov, -1, -2)))
        columns = ([f"{n}[t-1]" for n in names] if with_previous else []) + names
        for node in network.nodes:
            cpd = network.cpd(node, steps[0])
            parents = {}
            for parent in cpd.parents:
                base, lag = parse_parent(parent, node)
                parents[parent] = points[:, columns.index(f"{base}[t-1]" if lag else base)]
            stats = cpd.statistics(points[:, columns.index(node)], parents, weights)
            key = network.cpd_key(node, steps[0])
            arrays[key] = stats if key not in arrays else cpd.merge_statistics(arrays[key], stats)
            mergers[key] = cpd.merge_statistics
    return Statistics(arrays, float(packed.lengths.sum()), mergers)


def _segments(network, longest):
    """Steps that share their CPDs: each initial slice alone, then all the rest."""
    first = max(1, network.n_initial)
    out = [[t] for t in range(min(first, longest))]
    if longest > first:
        out.append(list(range(first, longest)))
    return out


def _joint(mean_s, cov_s, cross, Y, r, t, pattern, c, C, R, with_previous):
    """Posterior mean ``(n, D)`` and covariance ``(n, D, D)`` of ``(x_{t-1}, x_t, y_t)`` at positions ``(r, t)``."""
    k, p = mean_s.shape[-1], len(pattern)
    o, m = np.flatnonzero(pattern), np.flatnonzero(~pattern)
    n = len(r)
    xs_mean = [mean_s[r, t - 1], mean_s[r, t]] if with_previous else [mean_s[r, t]]
    x_mean = np.concatenate(xs_mean, axis=1)
    if with_previous:
        x_cov = np.block([[cov_s[r, t - 1], cross[r, t]], [np.swapaxes(cross[r, t], -1, -2), cov_s[r, t]]])
    else:
        x_cov = cov_s[r, t]
    K = x_mean.shape[1]
    # y_m = alpha + B x_t + noise: the missing coordinates' regression on x_t and the observed ones
    gain = np.linalg.solve(R[np.ix_(o, o)], R[np.ix_(o, m)]).T if len(o) else np.zeros((len(m), 0))
    B = C[m] - gain @ C[o]
    alpha = c[m] + (Y[r, t][:, o] - c[o]) @ gain.T
    noise = R[np.ix_(m, m)] - gain @ R[np.ix_(o, m)]
    select = np.zeros((k, K))
    select[:, K - k:] = np.eye(k)  # x_t within (x_{t-1}, x_t)
    load = B @ select  # (|m|, K)
    mean = np.zeros((n, K + p))
    cov = np.zeros((n, K + p, K + p))
    mean[:, :K] = x_mean
    cov[:, :K, :K] = x_cov
    mean[:, K + o] = Y[r, t][:, o]
    if len(m):
        mean[:, K + m] = alpha + x_mean @ load.T
        cross_ym = load @ x_cov  # (n, |m|, K)
        cov[:, K + m[:, None], np.arange(K)[None, :]] = cross_ym
        cov[:, np.arange(K)[:, None], K + m[None, :]] = np.swapaxes(cross_ym, -1, -2)
        cov[:, K + m[:, None], K + m[None, :]] = cross_ym @ load.T + noise
    return mean, cov


def _sigma_points(mean, cov):
    """``2D`` points per position with exactly the given mean and covariance, and their weights."""
    n, D = mean.shape
    eigval, eigvec = np.linalg.eigh(cov)
    root = eigvec * np.sqrt(np.clip(eigval, 0.0, None) * D)[:, None, :]
    points = np.concatenate([mean[:, None, :] + np.swapaxes(root, 1, 2), mean[:, None, :] - np.swapaxes(root, 1, 2)],
                            axis=1)  # (n, 2D, D)
    return points.reshape(n * 2 * D, D), np.full(n * 2 * D, 1.0 / (2 * D))
