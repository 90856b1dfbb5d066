"""A mixture of linear regressions: a latent class chooses the line.

    python examples/mixture_of_regressions.py

y depends on x through one of two lines; which one is hidden.  As a network:
a latent discrete node and x are the parents of a conditional linear Gaussian
y.  EM recovers both lines and their noise.
"""

import numpy as np
import pandas as pd

import pgm

rng = np.random.default_rng(3)
n = 5_000
line = rng.random(n) < 0.4
x = rng.uniform(-3, 3, size=n)
y = np.where(line, 1.0 + 2.0 * x, -1.0 - 0.5 * x) + rng.normal(scale=np.where(line, 0.3, 0.6))
data = pd.DataFrame({"x": x, "y": y})

model = pgm.BayesianNetwork({
    "line": pgm.Categorical.latent(["first", "second"]),
    "x": pgm.LinearGaussian.unfitted(),
    "y": pgm.LinearGaussian.unfitted(parents=["line", "x"]),
})
fitted = model.fit(data, n_init=5, seed=0, tol=1e-9, max_iter=1000)
print(fitted.fit_report_)
order = np.argsort(-fitted["y"].weights[:, 0])                 # the steeper line first
for label, k in zip(["steep", "shallow"], order):
    print(f"{label} line: y = {fitted['y'].intercept[k]:.3f} + {fitted['y'].weights[k, 0]:.3f} x, "
          f"noise sd {np.sqrt(fitted['y'].variance[k]):.3f}, share {fitted['line'].table[k]:.3f}")
print("true: y = 1 + 2 x (sd 0.3, share 0.4) and y = -1 - 0.5 x (sd 0.6, share 0.6)")
