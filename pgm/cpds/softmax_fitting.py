"""Fitting softmax (multinomial logistic) coefficients: the penalised likelihood, its gradient, L-BFGS.

Given a design ``X`` (one row per data row or parent configuration) and
per-row weighted counts ``C`` of the states, maximise

    sum_ij C_ij log softmax(b + W x_i)_j - l2 |W|^2 / 2 - intercept_l2 |b|^2 / 2,

a concave function: its negative is minimised by scipy's L-BFGS-B with the
analytic gradient ``(P * totals - C)^T [1, X]`` (plus the penalties).  Used by
:class:`pgm.cpds.softmax.Softmax.from_statistics`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["objective", "fit_softmax", "TOLERANCE", "MAX_ITERATIONS"]

#: L-BFGS stops when the largest gradient entry of the mean penalised
#: negative log-likelihood (per unit of weight) falls below this.
TOLERANCE = 1e-9

#: Iterations L-BFGS may take before the fit is reported as not converged.
MAX_ITERATIONS = 2000


def objective(theta: np.ndarray, design: np.ndarray, counts: np.ndarray, l2: float, penalty_scale=None):
    """Penalised negative log-likelihood of softmax parameters and its gradient.

    ``theta`` is ``[b (k), W (k x d) row-major]``; the value is
    ``-sum_ij C_ij log softmax(b + W x_i)_j + l2 / 2 * sum_j |W_j * penalty_scale|^2``
    (``penalty_scale`` defaults to ones).  Returns ``(value, gradient)``.
    """
    n, d = design.shape
    k = counts.shape[1]
    b, w = theta[:k], theta[k:].reshape(k, d)
    logits = design @ w.T
    logits += b
    chosen = float(np.einsum("ij,ij->", counts, logits))
    top = logits.max(axis=1, keepdims=True)
    logits -= top
    np.exp(logits, out=logits)  # now unnormalised probabilities
    norm = logits.sum(axis=1, keepdims=True)
    totals = counts.sum(axis=1)
    # sum_j C_ij log p_ij = sum_j C_ij z_ij - totals_i (top_i + log norm_i), with z the logits
    value = -(chosen - float(totals @ (top[:, 0] + np.log(norm[:, 0]))))
    residual = logits
    residual /= norm
    residual *= totals[:, None]
    residual -= counts  # dL/dz = totals * p - C
    grad_w = residual.T @ design
    grad_b = residual.sum(axis=0)
    if l2:
        scale = np.ones(d) if penalty_scale is None else penalty_scale
        scaled = w * scale
        value += 0.5 * l2 * float(np.sum(scaled * scaled))
        grad_w += l2 * scaled * scale
    return value, np.concatenate([grad_b, grad_w.ravel()])


def fit_softmax(design: np.ndarray, counts: np.ndarray, l2: float = 0.0, *, start=None, tol: float = TOLERANCE,
                intercept_l2: float = 0.0):
    """Fit ``(intercept (k,), weights (k, d), converged)`` to a design and per-row state counts.

    Maximises ``sum C log p - l2 |W|^2 / 2 - intercept_l2 |b|^2 / 2``.
    Columns are standardised for the optimiser (the penalties are carried
    over exactly, so the optimum is unchanged); parameters that no penalty
    identifies -- the first state's weights without ``l2``, its intercept
    without ``intercept_l2`` -- are held at zero, and the result is centred
    over the states.
    """
    n, d = design.shape
    k = counts.shape[1]
    total = float(counts.sum())
    if total <= 0:
        intercept, weights = np.zeros(k), np.zeros((k, d))
        if start is not None:
            intercept, weights = np.array(start[0], dtype=np.float64), np.array(start[1], dtype=np.float64)
        return intercept, weights, True
    mean = np.average(design, axis=0, weights=counts.sum(axis=1)) if d else np.zeros(0)
    spread = np.sqrt(np.average((design - mean) ** 2, axis=0, weights=counts.sum(axis=1))) if d else np.zeros(0)
    spread = np.where(spread > 0, spread, 1.0)
    scaled_design = (design - mean) / spread
    free = np.ones((k, 1 + d), dtype=bool)
    if intercept_l2 == 0:
        free[0, 0] = False  # unpenalised intercepts are identified only up to a common shift
    if l2 == 0:
        free[0, 1:] = False
    shift = mean / spread  # b = b_scaled - W_scaled . shift

    def unpack(x):
        full = np.zeros((k, 1 + d))
        full[free] = x
        return full

    def to_scaled(intercept, weights):
        """Original parameters to the standardised ones, the unidentified ones moved to zero (nothing else changes)."""
        if l2 == 0:
            weights = weights - weights[0]  # a common shift of the weights changes neither likelihood nor penalty
        bs = intercept + weights @ mean
        if intercept_l2 == 0:
            bs = bs - bs[0]  # nor does a common shift of unpenalised intercepts
        return np.column_stack([bs, weights * spread])

    def to_original(full):
        ws = full[:, 1:] / spread
        bs = full[:, 0] - ws @ mean
        return bs, ws

    def fun(x):
        full = unpack(x)
        theta = np.concatenate([full[:, 0], full[:, 1:].ravel()])
        value, grad = objective(theta, scaled_design, counts, l2, penalty_scale=1.0 / spread)
        grad_full = np.column_stack([grad[:k], grad[k:].reshape(k, d)])
        if intercept_l2:
            b = full[:, 0] - full[:, 1:] @ shift  # the intercepts in the original units
            value += 0.5 * intercept_l2 * float(b @ b)
            grad_full[:, 0] += intercept_l2 * b
            grad_full[:, 1:] -= intercept_l2 * np.outer(b, shift)
        return value / total, grad_full[free] / total

    x0 = np.zeros(int(free.sum()))
    if start is not None and np.shape(start[1]) == (k, d):
        x0 = to_scaled(np.asarray(start[0], dtype=np.float64), np.asarray(start[1], dtype=np.float64))[free]
    import scipy.optimize  # lazily: import pgm stays light
    result = scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                     options={"maxiter": MAX_ITERATIONS, "gtol": tol, "ftol": 1e-15, "maxcor": 20})
    x = result.x
    if start is not None and np.shape(start[1]) == (k, d) and fun(x)[0] > fun(x0)[0]:
        x = x0  # never worse than where it started (EM's M-step must not decrease the objective)
    intercept, weights = to_original(unpack(x))
    # centre over states: the penalised optimum is centred already; without a penalty this is the canonical form
    intercept = intercept - intercept.mean()
    weights = weights - weights.mean(axis=0)
    converged = bool(result.success) or float(np.abs(fun(x)[1]).max(initial=0.0)) <= 10 * tol
    return intercept, weights, converged


def _separated(design, counts, intercept, weights, converged) -> bool:
    """Whether an unpenalised fit ran off to infinity: every row fitted with near certainty, or no convergence."""
    logits = design @ weights.T + intercept
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    mean_loss = -float(np.sum(counts * log_p)) / float(counts.sum())
    return mean_loss < 1e-6 or not converged
