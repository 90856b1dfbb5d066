"""EM on a real network: alarm with an internal node never observed and 10% of other values missing.

    python examples/alarm_hidden.py

The hidden node's table and its children's are recovered up to a relabelling
of its states; scattered missing values are used, never dropped (every row
counts).
"""

import time

import numpy as np

import pgm

truth = pgm.load("alarm")
hidden = "LVFAILURE"
data = truth.sample(10_000, seed=1).drop(columns=hidden)
rng = np.random.default_rng(2)
data = data.astype(object).mask(rng.random(data.shape) < 0.10)      # 10% missing completely at random
print(f"{int(data.isna().sum().sum()):,} missing values; {int(data.notna().all(axis=1).sum())} complete rows")

cpd = truth[hidden]
model = truth.with_cpd(hidden, pgm.Categorical.latent(cpd.states, parents=cpd.parents))
start = time.perf_counter()
fitted = model.fit(data, prior=pgm.Dirichlet(0.5), seed=3, tol=1e-6, max_iter=200)
print(f"{fitted.fit_report_} ({time.perf_counter() - start:.1f} s)")
fitted = fitted.align_to(truth, hidden)
for node in (hidden, *truth.children(hidden)):
    error = np.abs(fitted[node].table - truth[node].table).max()
    print(f"{node:>16}: largest error of its table {error:.3f}")
held_out = truth.sample(5_000, seed=4).drop(columns=hidden)
print(f"held-out mean log-likelihood: fitted {fitted.score(held_out):.4f}, true network {truth.score(held_out):.4f}")
