"""A Gaussian mixture is a network: a discrete parent selects the component
of a conditional linear Gaussian child.

    python examples/mixture.py
"""

import numpy as np
from scipy import stats

from pgm import BayesianNetwork, Categorical, LinearGaussian

weights, means, variances = np.array([0.2, 0.5, 0.3]), np.array([-3.0, 0.0, 4.0]), np.array([0.5, 1.0, 2.0])
mixture = BayesianNetwork({
    "component": Categorical(["a", "b", "c"], table=weights),
    "x": LinearGaussian(parents=["component"], intercept=means, variance=variances),
})
print(mixture.factorization().describe())

rows = mixture.sample(100_000, seed=3)
mean = weights @ means
variance = weights @ (variances + means**2) - mean**2  # law of total variance
print(f"\nsample mean {rows['x'].mean():.4f} (mixture mean {mean:.4f}); "
      f"sample variance {rows['x'].var():.4f} (mixture variance {variance:.4f})")

# The joint density of (component, x) is p(component) N(x; mean, variance).
head = rows.head(5)
by_hand = np.log(weights[head["component"].cat.codes]) + stats.norm.logpdf(
    head["x"], means[head["component"].cat.codes], np.sqrt(variances[head["component"].cat.codes]))
print("log p(component, x):", mixture.log_likelihood(head).round(6), "\nby hand:             ", by_hand.round(6))

fitted = mixture.fit(rows)
print("\nfitted component weights", fitted["component"].table.round(3),
      "means", fitted["x"].intercept.round(3), "variances", fitted["x"].variance.round(3))
