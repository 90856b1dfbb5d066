"""Polynomial regression is a two-node linear Gaussian network.

The lecture's linear Gaussian model y ~ N(A theta, sigma^2 I) with rows of A
being (1, x, x^2, x^3): declare y's features as a polynomial of its parent x,
fit by closed-form least squares, and compare with numpy's lstsq.

    python examples/polynomial_regression.py
"""

import numpy as np

from pgm import BayesianNetwork, Gaussian, LinearGaussian, polynomial

truth = BayesianNetwork({
    "x": Gaussian(mean=0.0, variance=1.0),
    "y": LinearGaussian(parents=["x"], features=polynomial("x", 3),
                        intercept=0.5, weights=[1.0, -2.0, 0.3], variance=0.25),
})
print(truth.factorization().describe())

data = truth.sample(50_000, seed=0)
fitted = truth.fit(data)
print("\nfitted:", fitted["y"].describe())

# The same least-squares problem, solved by numpy directly.
x, y = data["x"].to_numpy(), data["y"].to_numpy()
design = np.column_stack([np.ones_like(x), x, x**2, x**3])
theta, residuals, *_ = np.linalg.lstsq(design, y, rcond=None)
print("lstsq :", np.round(theta, 6), "residual variance", round(float(residuals[0] / len(y)), 6))
pgm_theta = np.concatenate([[float(fitted["y"].intercept)], fitted["y"].weights])
print("pgm   :", np.round(pgm_theta, 6), "residual variance", round(float(fitted["y"].variance), 6))
assert np.allclose(pgm_theta, theta, rtol=1e-10, atol=1e-12)

# Held-out log-likelihood of the cubic model against a straight line.
line = BayesianNetwork({"x": Gaussian(0.0, 1.0), "y": LinearGaussian(parents=["x"])}).fit(data)
test = truth.sample(10_000, seed=1)
print(f"\nheld-out mean log-likelihood: cubic {fitted.score(test):.4f}, straight line {line.score(test):.4f} nats")
