"""Maximum likelihood for a multivariate Gaussian is a fully connected linear Gaussian network.

Any joint Gaussian over x1..xk factorises by the chain rule as
p(x1) p(x2 | x1) ... p(xk | x1..x{k-1}), each factor linear Gaussian in the
earlier variables.  Fitting that network by least squares and reading off its
joint gives exactly the sample mean and the 1/N sample covariance -- the
multivariate Gaussian's maximum-likelihood estimates.

Run:  python examples/gaussian_mle.py
"""

import numpy as np

import pgm

rng = np.random.default_rng(0)
k, n = 5, 2_000
names = [f"x{i}" for i in range(1, k + 1)]
root = rng.normal(size=(k, k))
true_covariance = root @ root.T + np.eye(k)
true_mean = rng.normal(0, 3, size=k)
samples = rng.multivariate_normal(true_mean, true_covariance, size=n)
data = dict(zip(names, samples.T))

# Fully connected: x_i has every earlier x as a parent.
network = pgm.BayesianNetwork({
    name: pgm.LinearGaussian.unfitted(parents=names[:i]) for i, name in enumerate(names)
})
print(network.factorization())
print(f"free parameters: network {network.n_free_parameters}, "
      f"Gaussian mean + covariance {k + k * (k + 1) // 2}")

joint = network.fit(data).joint_gaussian()
sample_mean = samples.mean(axis=0)
sample_covariance = np.cov(samples, rowvar=False, bias=True)  # the 1/N estimate

print("\nfitted mean  :", np.array2string(joint.mean, precision=4))
print("sample mean  :", np.array2string(sample_mean, precision=4))
print(f"max |mean difference|       : {np.abs(joint.mean - sample_mean).max():.2e}")
print(f"max |covariance difference| : {np.abs(joint.covariance - sample_covariance).max():.2e}")
unbiased = np.cov(samples, rowvar=False)
print(f"... against the 1/(N-1) covariance instead: {np.abs(joint.covariance - unbiased).max():.2e}")
