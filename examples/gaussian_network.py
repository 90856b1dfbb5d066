"""A real linear Gaussian network (ecoli70, 46 genes): its joint Gaussian,
conditioning on observed genes, sampling and refitting.

    python examples/gaussian_network.py
"""

import time

import numpy as np

import pgm

ecoli = pgm.load("ecoli70")
print(ecoli)

joint = ecoli.joint_gaussian()  # mean = (I - B)^-1 b, covariance = (I - B)^-1 D (I - B)^-T
print("marginal of lacA and lacZ:\n  mean", joint.marginal(["lacA", "lacZ"]).mean.round(3),
      "\n  covariance\n", joint.marginal(["lacA", "lacZ"]).covariance.round(3))

# Observing a parent gene changes what we expect of its descendants (Schur complement).
posterior = joint.condition({"asnA": 2.0})
print(f"\nE[lacZ] = {joint.marginal('lacZ').mean[0]:.3f}; "
      f"E[lacZ | asnA = 2] = {posterior.marginal('lacZ').mean[0]:.3f}")

start = time.perf_counter()
rows = ecoli.sample(200_000, seed=0)
print(f"\nsampled {len(rows):,} rows in {time.perf_counter() - start:.3f} s")
print("mean log-likelihood per row: network", round(ecoli.score(rows), 4),
      "| joint Gaussian", round(float(joint.logpdf(rows).mean()), 4))

refit = ecoli.fit(rows)
print("KL(true || refitted) =", f"{pgm.inference.kl_divergence(ecoli, refit):.2e} nats")
worst = max(np.max(np.abs(refit[n].weights - ecoli[n].weights), initial=0.0) for n in ecoli.nodes)
print(f"largest coefficient error after refitting on 200,000 rows: {worst:.4f}")
