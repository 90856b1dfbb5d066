"""A Gaussian mixture is a network: a latent class and Gaussian children.

    python examples/gaussian_mixture_em.py

Diagonal covariance: the children depend on the class only.  Full covariance:
add edges among the children, so that each is linear Gaussian in the ones
before it given the class -- the same joint as a full covariance per
component.  EM starts from k-means++; the result is compared with
scikit-learn's GaussianMixture when it is installed.
"""

import numpy as np
import pandas as pd

import pgm

rng = np.random.default_rng(0)
weights = np.array([0.3, 0.5, 0.2])
means = np.array([[0.0, 0.0, 0.0], [4.0, 1.0, -2.0], [-3.0, 4.0, 2.0]])
covariances = []
for _ in range(3):
    a = rng.normal(size=(3, 3))
    covariances.append(a @ a.T + 0.5 * np.eye(3))
component = rng.choice(3, size=10_000, p=weights)
x = np.array([rng.multivariate_normal(means[c], covariances[c]) for c in component])
data = pd.DataFrame(x, columns=["x1", "x2", "x3"])

diagonal = pgm.BayesianNetwork({
    "z": pgm.Categorical.latent(["a", "b", "c"]),
    **{c: pgm.LinearGaussian.unfitted(parents=["z"]) for c in ["x1", "x2", "x3"]},
})
full = pgm.BayesianNetwork({
    "z": pgm.Categorical.latent(["a", "b", "c"]),
    "x1": pgm.LinearGaussian.unfitted(parents=["z"]),
    "x2": pgm.LinearGaussian.unfitted(parents=["z", "x1"]),
    "x3": pgm.LinearGaussian.unfitted(parents=["z", "x1", "x2"]),
})
for name, model, kind in [("diagonal", diagonal, "diag"), ("full", full, "full")]:
    fitted = model.fit(data, init="kmeans++", n_init=2, seed=1, tol=1e-8, max_iter=300)
    print(f"{name} covariance: {fitted.fit_report_}")
    print("  weights", np.sort(fitted["z"].table).round(3), " true", np.sort(weights))
    try:
        from sklearn.mixture import GaussianMixture

        reference = GaussianMixture(3, covariance_type=kind, n_init=2, random_state=0, tol=1e-8,
                                    max_iter=300, reg_covar=0.0).fit(x)
        print(f"  mean log-likelihood per row: pgm {fitted.score(data):.6f}, scikit-learn {reference.score(x):.6f}")
    except ImportError:
        print(f"  mean log-likelihood per row: {fitted.score(data):.6f}")

responsibilities = fitted.query("z", evidence=data.head(3))
print("\np(z | x) for the first rows (full model):\n", responsibilities.round(4))
