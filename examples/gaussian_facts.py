"""Facts about the multivariate Gaussian, each checked against Monte Carlo.

    python examples/gaussian_facts.py

A linear Gaussian network is one multivariate normal N(mu, S).  For it:

1. an affine map y = A x + b is Gaussian, N(A mu + b, A S A^T);
2. a marginal is Gaussian: the sub-vector of mu and the sub-block of S;
3. a conditional is Gaussian: mean mu_A + S_AB S_BB^-1 (a - mu_B) and
   covariance S_AA - S_AB S_BB^-1 S_BA (the Schur complement);
4. the squared Mahalanobis distance Delta = (x - mu)^T S^-1 (x - mu) of a
   draw follows a chi-square law with k degrees of freedom (mean k,
   variance 2k), so its square root -- the distance -- has mean below
   sqrt(k);
5. the entropy is log det(2 pi e S) / 2.

Every exact value is printed next to a Monte Carlo estimate from rows
sampled from the network by ancestral sampling (a different code path), with
its standard error and z = (estimate - exact) / SE; |z| stays below 4.
"""

import math

import numpy as np
import scipy.special
import scipy.stats

import pgm
from pgm.information import entropy

N = 1_000_000


def report(label: str, exact: float, draws: np.ndarray) -> None:
    """One line: the exact value, the mean of ``draws`` and its standard error."""
    estimate, se = float(np.mean(draws)), float(np.std(draws, ddof=1) / math.sqrt(len(draws)))
    z = (estimate - exact) / se
    print(f"  {label:<34} exact {exact:9.5f}   Monte Carlo {estimate:9.5f} ± {se:.5f}   z = {z:+.2f}")


def report_moments(names, mvn, rows: np.ndarray) -> None:
    """Means and (co)variances of the columns of ``rows`` against ``mvn``."""
    centred = rows - rows.mean(axis=0)
    for i, name in enumerate(names):
        report(f"mean of {name}", mvn.mean[i], rows[:, i])
    for i in range(len(names)):
        for j in range(i, len(names)):
            what = f"var of {names[i]}" if i == j else f"cov of {names[i]}, {names[j]}"
            # the mean of the products of centred columns estimates the (co)variance
            report(what, mvn.covariance[i, j], centred[:, i] * centred[:, j] * len(rows) / (len(rows) - 1))


net = pgm.BayesianNetwork({
    "x1": pgm.Gaussian(mean=1.0, variance=1.0),
    "x2": pgm.LinearGaussian(parents=["x1"], intercept=0.5, weights={"x1": 0.8}, variance=0.5),
    "x3": pgm.LinearGaussian(parents=["x1"], intercept=-1.0, weights={"x1": -0.6}, variance=0.8),
    "x4": pgm.LinearGaussian(parents=["x2", "x3"], weights={"x2": 0.3, "x3": 1.2}, variance=0.4),
})
joint = net.joint_gaussian()
print(joint, "\n")
rows = net.sample(N, seed=0)[list(joint.names)].to_numpy()
print(f"{N:,} rows drawn from the network\n")

print("1. affine map y = A x + b: mean A mu + b, covariance A S A^T")
A = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, -1.0, 0.0, 0.0]])
b = np.array([0.0, 2.0])
y = joint.affine(A, b, names=["average", "x1 - x2 + 2"])
report_moments(y.names, y, rows @ A.T + b)

print("\n2. marginal of (x2, x4): the sub-vector and sub-block")
marginal = joint.marginal(["x2", "x4"])
report_moments(marginal.names, marginal, rows[:, [1, 3]])

print("\n3. conditional of x1 given x4 = 0 (Schur complement)")
posterior = joint.condition({"x4": 0.0})
x1_given = posterior.marginal("x1")
# Monte Carlo keeps the rows whose x4 falls in a narrow window around 0.  The
# window's width w shifts the mean by about (w^2 / 3) |d log p(x4) / dx4| times the
# regression slope of x1 on x4: here about 5e-5, far below the standard error.
width = 0.02 * float(joint.marginal("x4").std()[0])
kept = rows[np.abs(rows[:, 3]) < width, 0]
print(f"  ({len(kept):,} rows with |x4| < {width:.3f})")
report("E[x1 | x4 = 0]", x1_given.mean[0], kept)
report("Var[x1 | x4 = 0]", x1_given.covariance[0, 0], (kept - kept.mean()) ** 2 * len(kept) / (len(kept) - 1))

print("\n4. Mahalanobis: Delta = (x - mu)^T S^-1 (x - mu) ~ chi-square(k), k = 4")
k = len(joint.names)
delta = joint.mahalanobis_squared(rows)  # Delta, the squared distance
distance = joint.mahalanobis(rows)  # sqrt(Delta), the distance
print(f"  first row: Delta = {delta[0]:.4f}, distance sqrt(Delta) = {distance[0]:.4f}")
report("E[Delta] = k", k, delta)
report("Var[Delta] = 2k", 2 * k, (delta - delta.mean()) ** 2 * N / (N - 1))
quantile = scipy.stats.chi2.ppf(0.95, k)
report(f"P(Delta <= {quantile:.3f}) = 0.95", 0.95, (delta <= quantile).astype(float))
chi_mean = math.sqrt(2) * math.exp(scipy.special.gammaln((k + 1) / 2) - scipy.special.gammaln(k / 2))
report("E[sqrt(Delta)] (chi mean)", chi_mean, distance)
print(f"  (E[sqrt(Delta)] = {chi_mean:.4f} < sqrt(E[Delta]) = {math.sqrt(k):.4f}: the two must not be confused)")

print("\n5. entropy log det(2 pi e S) / 2")
h = entropy(net)
print(f"  network, summed over nodes: {h:.6f} ({h.method}); joint normal: {joint.entropy():.6f}")
report("entropy = E[-log p(x)]", joint.entropy(), -joint.logpdf(rows))
