"""Factor analysis is a network: Gaussian latent roots, linear Gaussian children.

    python examples/factor_analysis.py

Ten observed variables load on three latent factors.  Every row observes the
same columns, so each EM iteration needs only the data's mean and covariance:
its cost does not grow with the number of rows.  Compared with
scikit-learn's FactorAnalysis when it is installed.
"""

import time

import numpy as np
import pandas as pd

import pgm

rng = np.random.default_rng(0)
n, d, k = 10_000, 10, 3
loadings = rng.normal(size=(d, k))
noise = rng.uniform(0.2, 1.0, size=d)
x = rng.normal(size=(n, k)) @ loadings.T + rng.normal(size=(n, d)) * np.sqrt(noise) + rng.normal(size=d)
columns = [f"x{i}" for i in range(d)]
data = pd.DataFrame(x, columns=columns)

model = pgm.BayesianNetwork({
    **{f"f{j}": pgm.LinearGaussian.latent() for j in range(k)},
    **{c: pgm.LinearGaussian.unfitted(parents=[f"f{j}" for j in range(k)]) for c in columns},
})
start = time.perf_counter()
fitted = model.fit(data, tol=1e-9, max_iter=5000, seed=0)
elapsed = time.perf_counter() - start
print(f"pgm: {fitted.fit_report_} ({elapsed:.2f} s)")
# loadings are identified only up to a rotation: compare the implied covariance instead
implied = fitted.joint_gaussian().marginal(columns).covariance
true = loadings @ loadings.T + np.diag(noise)
print(f"largest error of the implied covariance: {np.abs(implied - true).max():.3f} "
      f"(entries up to {np.abs(true).max():.1f})")
print("noise variances, fitted:", np.round([fitted[c].variance for c in columns], 3))
print("noise variances, true:  ", noise.round(3))
try:
    from sklearn.decomposition import FactorAnalysis

    start = time.perf_counter()
    reference = FactorAnalysis(k).fit(x)
    print(f"scikit-learn: mean log-likelihood {reference.score(x):.6f} in {time.perf_counter() - start:.2f} s; "
          f"pgm {fitted.score(data):.6f}")
except ImportError:
    print(f"pgm mean log-likelihood {fitted.score(data):.6f}")
