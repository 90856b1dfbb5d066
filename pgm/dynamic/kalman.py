"""Linear Gaussian dynamic networks: the Kalman filter and the Rauch-Tung-Striebel smoother.

When every node of a dynamic network is linear Gaussian, the hidden nodes
``x_t`` and the observed ones ``y_t`` of a slice are jointly Gaussian given
``x_{t-1}``.  Solving the slice's linear equations ``v = b + W_prev x_{t-1} +
W v + e`` (``v = [x_t, y_t]``, ``e`` independent noise) gives the state-space
form

    x_t = a + A x_{t-1} + N(0, Q),     y_t = c + C x_t + N(0, R),

for the transition slice and likewise for slice 0, so any chain of linear
Gaussian CPDs -- including full noise covariances written as chains inside
a slice -- is a linear dynamical system.  The filter conditions on each
step's observed coordinates (missing ones are dropped exactly by zeroing
their rows of ``C`` and giving them unit, uncorrelated noise); the smoother
runs Rauch-Tung-Striebel backwards.  Both are batched over sequences: each
step is a handful of ``(n_sequences, d, d)`` operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pgm.cpds import LinearGaussian
from pgm.dynamic.model import DynamicBayesianNetwork, parse_parent, previous
from pgm.dynamic.sequences import to_sequences
from pgm.errors import DataError, StructureError

__all__ = ["StateSpace", "state_space", "kalman_smoother", "KalmanResult", "linear_dynamical_system", "filter_and_smooth"]


@dataclass(frozen=True)
class StateSpace:
    """``x_0 ~ N(m0, P0)``, ``x_t = a + A x_{t-1} + N(0, Q)``, ``y_t = c + C x_t + N(0, R)`` (``C0, c0, R0`` at t=0)."""

    m0: np.ndarray
    P0: np.ndarray
    a: np.ndarray
    A: np.ndarray
    Q: np.ndarray
    c0: np.ndarray
    C0: np.ndarray
    R0: np.ndarray
    c: np.ndarray
    C: np.ndarray
    R: np.ndarray
    #: The state's coordinates: the hidden nodes, then (for a network whose observed nodes have children
    #: in later slices) every observed node, each observed exactly (``C`` selects it, ``R`` is zero).
    state: tuple = ()

    @property
    def augmented(self) -> bool:
        """Whether the observed nodes are part of the state (see :func:`observed_in_state`)."""
        return bool(self.state)


def _slice_moments(network, t: int, hidden, observed):
    """Mean offset, lag-1 loading and covariance of ``[x_t, y_t]`` given ``x_{t-1}``, from the CPDs at slice t."""
    names = list(hidden) + list(observed)
    n, k = len(names), len(hidden)
    b, W, W_prev, D = np.zeros(n), np.zeros((n, n)), np.zeros((n, k)), np.zeros(n)
    for i, node in enumerate(names):
        cpd = network.cpd(node, t)
        if cpd.is_discrete or cpd.discrete_parents or not cpd.is_linear:
            raise StructureError(f"{node!r} is not linear Gaussian without discrete parents; the Kalman filter "
                                 "needs a linear Gaussian network")
        b[i], D[i] = float(cpd.intercept), float(cpd.variance)
        for parent, weight in zip(cpd.continuous_parents, np.asarray(cpd.weights).reshape(-1)):
            base, lag = parse_parent(parent, node)
            if lag == 0:
                W[i, names.index(base)] = weight
            elif lag == 1 and base in hidden:
                W_prev[i, list(hidden).index(base)] = weight
            elif lag == 1:
                raise StructureError(f"{node!r} has parent {parent!r}; in a linear dynamical system only hidden "
                                     "nodes of the previous slice may be parents across slices")
            else:
                raise StructureError(f"{node!r} has parent {parent!r}, {lag} slices back; the Kalman filter "
                                     "carries one slice (parents of the previous slice only)")
    L = np.linalg.inv(np.eye(n) - W)  # W is strictly triangular in topological order, so I - W is invertible
    return L @ b, L @ W_prev, L @ np.diag(D) @ L.T


def observed_in_state(network) -> bool:
    """Whether an observed node is a parent of a node in a later slice (``y[t-1] -> y``, ``y[t-1] -> w``).

    The previous slice's observed values then enter the transition, so a
    missing one has to be carried forward as part of the state: the Kalman
    state becomes every node of the slice, hidden and observed, and the
    observation equation selects the observed coordinates exactly (no noise
    of their own; the noise is in their CPDs, i.e. in ``Q``).
    """
    observed = set(network.observed_nodes)
    return any(parse_parent(parent, node)[1] >= 1 and parse_parent(parent, node)[0] in observed
               for t in range(network.n_initial + 1) for node in network.nodes
               for parent in network.cpd(node, t).parents)


def state_space(network: DynamicBayesianNetwork) -> StateSpace:
    """The state-space matrices of a linear Gaussian dynamic network.

    When observed nodes have children in later slices
    (:func:`observed_in_state`; an autoregressive observation ``y[t-1] -> y``),
    the state is every node of the slice -- hidden nodes first, then the
    observed ones -- and ``C`` selects the observed coordinates with ``R = 0``.

    Examples
    --------
    >>> import numpy as np
    >>> lds = linear_dynamical_system([[0.9]], [[1.0]], [[0.5]], [[2.0]], [0.0], [[1.0]])
    >>> ss = state_space(lds)
    >>> float(ss.A[0, 0]), float(ss.Q[0, 0]), float(ss.R[0, 0])
    (0.9, 0.5, 2.0)
    """
    hidden, observed = network.latent_nodes, network.observed_nodes
    k = len(hidden)
    later = [f"{node!r} at slice {t}" for t, overrides in enumerate(network.initial) if t for node in overrides]
    if later:  # the filter has one set of matrices for slice 0 and one for every later slice
        raise StructureError(f"the Kalman filter takes initial CPDs for slice 0 only; the network gives one for "
                             f"{later[0]}")
    if observed_in_state(network):
        return _augmented_state_space(network, tuple(hidden) + tuple(observed))
    if not hidden:
        raise StructureError("a linear dynamical system needs latent (hidden) continuous nodes")
    out = {}
    for label, t in (("0", 0), ("t", max(1, network.n_initial))):
        mean, load, cov = _slice_moments(network, t, hidden, observed)
        Sxx, Sxy, Syy = cov[:k, :k], cov[:k, k:], cov[k:, k:]
        C = np.linalg.solve(Sxx, Sxy).T
        if np.abs(load[k:] - C @ load[:k]).max(initial=0) > 1e-12 * max(1.0, np.abs(load).max()):
            raise StructureError("observed nodes depend on the previous slice other than through the hidden state")
        out[label] = (mean[:k], load[:k], Sxx, mean[k:] - C @ mean[:k], C, Syy - C @ Sxy)
    (m0, _, P0, c0, C0, R0), (a, A, Q, c, C, R) = out["0"], out["t"]
    return StateSpace(m0, P0, a, A, Q, c0, C0, R0, c, C, R)


def _augmented_state_space(network, names) -> StateSpace:
    """Every node of the slice in the state; observations select the observed coordinates exactly."""
    observed = network.observed_nodes
    select = np.zeros((len(observed), len(names)))
    select[np.arange(len(observed)), [names.index(n) for n in observed]] = 1.0
    no_offset, no_noise = np.zeros(len(observed)), np.zeros((len(observed), len(observed)))
    m0, _, P0 = _slice_moments(network, 0, names, ())
    a, A, Q = _slice_moments(network, max(1, network.n_initial), names, ())
    return StateSpace(m0, P0, a, A, Q, no_offset, select, no_noise, no_offset, select, no_noise, tuple(names))


@dataclass
class KalmanResult:
    """Filtered and smoothed moments of the hidden state.

    ``log_likelihood`` is a Series per sequence; the means are DataFrames
    indexed by (sequence, t) with one column per hidden node (and per
    observed node too when observed nodes have children in later slices:
    they are then part of the state, and a missing one's column holds its
    posterior mean); the covariances are arrays of shape (total steps, d, d)
    in the same row order.
    """

    log_likelihood: pd.Series
    filtered_mean: pd.DataFrame
    filtered_cov: np.ndarray
    smoothed_mean: pd.DataFrame
    smoothed_cov: np.ndarray


def kalman_smoother(network: DynamicBayesianNetwork, data, *, sequence=None, time=None, lengths=None) -> KalmanResult:
    """Kalman filter and RTS smoother for every sequence (see the module docstring).

    Examples
    --------
    >>> lds = linear_dynamical_system([[1.0]], [[1.0]], [[1.0]], [[1.0]], [0.0], [[1.0]])
    >>> result = kalman_smoother(lds, {"y0": [1.0]})
    >>> float(result.filtered_mean.iloc[0, 0]), float(result.filtered_cov[0, 0, 0])   # prior N(0,1), noise 1
    (0.5, 0.5)
    """
    observed = network.observed_nodes
    packed = to_sequences(data, {n: None for n in observed}, sequence=sequence, time=time, lengths=lengths)
    loglik, mean_f, cov_f, mean_s, cov_s, _ = filter_and_smooth(network, packed)
    index = packed.frame_index()
    ids = pd.Index([packed.ids[i] for i in packed.position], name="sequence")
    columns = list(state_space(network).state or network.latent_nodes)
    return KalmanResult(
        pd.Series(packed.in_user_order(loglik), index=ids, name="log_likelihood"),
        pd.DataFrame(packed.to_long(mean_f), index=index, columns=columns), packed.to_long(cov_f),
        pd.DataFrame(packed.to_long(mean_s), index=index, columns=columns), packed.to_long(cov_s))


def filter_and_smooth(network: DynamicBayesianNetwork, packed):
    """Kalman filter and RTS smoother on packed sequences, as arrays.

    Returns ``(log_likelihood (N,), mean_f, cov_f, mean_s, cov_s, cross)``:
    filtered and smoothed means ``(N, T, k)`` and covariances ``(N, T, k, k)``,
    and ``cross[:, t] = Cov(x_{t-1}, x_t | y)`` (the lag-one smoothed
    covariance, ``J_{t-1} P_{t|T}``; zero at t = 0), which EM needs.
    """
    ss = state_space(network)
    observed = network.observed_nodes
    for node in observed:
        if node not in packed.columns:
            raise DataError(f"the data has no column for the observed node {node!r}")
    Y = np.stack([packed.columns[n] for n in observed], axis=-1)  # (N, T, p)
    N, T, p = Y.shape
    k = len(ss.m0)
    mean_f, cov_f = np.zeros((N, T, k)), np.zeros((N, T, k, k))
    mean_p, cov_p = np.zeros((N, T, k)), np.zeros((N, T, k, k))
    loglik = np.zeros(N)
    n_active = packed.n_active
    for t in range(T):
        n = n_active[t]
        if t == 0:
            m, P = np.broadcast_to(ss.m0, (n, k)), np.broadcast_to(ss.P0, (n, k, k))
            c, C, R = ss.c0, ss.C0, ss.R0
        else:
            m = mean_f[:n, t - 1] @ ss.A.T + ss.a
            P = ss.A @ cov_f[:n, t - 1] @ ss.A.T + ss.Q
            c, C, R = ss.c, ss.C, ss.R
        mean_p[:n, t], cov_p[:n, t] = m, P
        y = Y[:n, t]
        seen = ~np.isnan(y)
        # Missing coordinates: zero loading, unit noise uncorrelated with the rest, value equal to its mean.
        Cs = np.where(seen[:, :, None], C, 0.0)
        Rs = np.where(seen[:, :, None] & seen[:, None, :], R, 0.0) + np.eye(p) * (~seen)[:, :, None]
        residual = np.where(seen, y - c - np.einsum("nij,nj->ni", Cs, m), 0.0)
        S = Cs @ P @ Cs.transpose(0, 2, 1) + Rs
        gain = np.linalg.solve(S, Cs @ P).transpose(0, 2, 1)  # P C^T S^-1, S symmetric
        mean_f[:n, t] = m + np.einsum("nij,nj->ni", gain, residual)
        cov_f[:n, t] = P - gain @ Cs @ P
        _, logdet = np.linalg.slogdet(S)
        quad = np.einsum("ni,ni->n", residual, np.linalg.solve(S, residual[..., None])[..., 0])
        observed_count = seen.sum(axis=1)
        loglik[:n] += -0.5 * (quad + logdet + observed_count * np.log(2 * np.pi))
    mean_s, cov_s = mean_f.copy(), cov_f.copy()
    cross = np.zeros((N, T, k, k))
    for t in range(T - 2, -1, -1):
        n = n_active[t + 1]
        J = np.linalg.solve(cov_p[:n, t + 1], ss.A @ cov_f[:n, t]).transpose(0, 2, 1)  # P_t A^T P_pred^-1
        mean_s[:n, t] = mean_f[:n, t] + np.einsum("nij,nj->ni", J, mean_s[:n, t + 1] - mean_p[:n, t + 1])
        cov_s[:n, t] = cov_f[:n, t] + J @ (cov_s[:n, t + 1] - cov_p[:n, t + 1]) @ J.transpose(0, 2, 1)
        cross[:n, t + 1] = J @ cov_s[:n, t + 1]
    return loglik, mean_f, cov_f, mean_s, cov_s, cross


def _chain(names, inputs, load, offset, cov) -> dict:
    """Linear Gaussian CPDs for ``v = offset + load u + N(0, cov)`` as a chain ``v_i | u, v_<i`` (``u`` named ``inputs``)."""
    load = np.atleast_2d(np.asarray(load, dtype=np.float64)) if inputs else None
    offset, cov = np.asarray(offset, dtype=np.float64), np.atleast_2d(np.asarray(cov, dtype=np.float64))
    cpds = {}
    for i, name in enumerate(names):
        slope = np.linalg.solve(cov[:i, :i], cov[i, :i]) if i else np.zeros(0)
        variance = cov[i, i] - slope @ cov[:i, i]
        intercept = offset[i] - slope @ offset[:i]
        weights = []
        if inputs:
            weights += list(load[i] - slope @ load[:i])
        weights += list(slope)
        cpds[name] = LinearGaussian(parents=[*inputs, *names[:i]], intercept=intercept, weights=weights,
                                    variance=variance)
    return cpds


def linear_dynamical_system(A, C, Q, R, mean0, cov0, *, name: str = "linear_dynamical_system"):
    """A linear dynamical system (Kalman filter model) as a linear Gaussian dynamic network.

    ``x_0 ~ N(mean0, cov0)``, ``x_t = A x_{t-1} + N(0, Q)``, ``y_t = C x_t + N(0, R)``; hidden nodes
    ``x0..``, observed ``y0..``.  Full ``Q``, ``R`` and ``cov0`` become chains within a slice.

    Examples
    --------
    >>> lds = linear_dynamical_system([[1, 0.1], [0, 1]], [[1, 0]], [[0.01, 0], [0, 0.01]], [[1.0]],
    ...                               [0, 0], [[1, 0], [0, 1]])
    >>> lds.latent_nodes, lds.observed_nodes
    (('x0', 'x1'), ('y0',))
    """
    A, C = np.atleast_2d(np.asarray(A, float)), np.atleast_2d(np.asarray(C, float))
    k, p = A.shape[0], C.shape[0]
    xs, ys = [f"x{i}" for i in range(k)], [f"y{j}" for j in range(p)]
    transition = _chain(xs, [previous(x) for x in xs], A, np.zeros(k), Q)
    emission = _chain(ys, xs, C, np.zeros(p), R)
    transition.update(emission)
    initial = _chain(xs, [], None, mean0, cov0)
    for cpd in list(transition.values())[:k] + list(initial.values()):
        cpd.latent = True
    return DynamicBayesianNetwork(transition, initial=initial, name=name)
