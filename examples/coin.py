"""The coin: maximum likelihood, then Bayesian updating of a Beta prior flip by flip.

The lecture's first example.  A coin lands heads with unknown probability
theta.  Maximum likelihood says theta = heads / flips.  The Bayesian view
treats theta as a random variable: a Beta(2, 2) prior ("probably roughly
fair") becomes, after each flip, the Beta posterior whose parameters are the
prior's plus the counts -- and its credible interval shrinks as flips arrive.

Run:  python examples/coin.py [output directory for the plot]
"""

import sys
from pathlib import Path

import numpy as np
import scipy.stats

import pgm

TRUE_HEADS = 0.7
coin = pgm.BayesianNetwork({"flip": pgm.Bernoulli(TRUE_HEADS, states=["tails", "heads"])})
flips = coin.sample(1000, seed=42)
heads = int((flips["flip"] == "heads").sum())

# Maximum likelihood: the fraction of heads.
model = pgm.BayesianNetwork({"flip": pgm.Categorical(["tails", "heads"])})
ml = model.fit(flips)["flip"].table[1]
print(f"maximum likelihood after {len(flips)} flips: theta = {ml:.4f} ({heads} heads)")

# Bayesian updating: Beta(2, 2) prior, one flip at a time.
posterior = model.parameter_posterior(flips[:0], prior=pgm.Dirichlet(2.0))
print("\nflips  heads  posterior             mean    MAP     95% credible interval")
history = []
for n in range(1, len(flips) + 1):
    posterior = posterior.update(flips[n - 1:n])
    if n in (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000):
        a, b = posterior["flip"].concentration[::-1]  # Beta(heads + 2, tails + 2) for theta = p(heads)
        interval = posterior.credible_interval("flip").loc["heads"]
        mode = posterior.map()["flip"].table[1]
        history.append((n, interval["lower"], interval["upper"]))
        print(f"{n:5d}  {int(a - 2):5d}  Beta({a:5.0f}, {b:5.0f})   {interval['mean']:.4f}  {mode:.4f}  "
              f"[{interval['lower']:.4f}, {interval['upper']:.4f}]  width {interval['upper'] - interval['lower']:.4f}")

# The posterior after all flips at once is the same as after one flip at a time.
batch = model.parameter_posterior(flips, prior=pgm.Dirichlet(2.0))
print("\nsequential == batch:", np.array_equal(batch["flip"].concentration, posterior["flip"].concentration))
lower, upper = scipy.stats.beta.ppf([0.025, 0.975], heads + 2, len(flips) - heads + 2)
print(f"scipy.stats.beta interval: [{lower:.4f}, {upper:.4f}]")
print(f"true theta {TRUE_HEADS} inside the final interval: {history[-1][1] < TRUE_HEADS < history[-1][2]}")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("(install matplotlib for the plot)")
else:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    n, lo, hi = map(np.array, zip(*history))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.fill_between(n, lo, hi, alpha=0.3, label="95% credible interval")
    ax.axhline(TRUE_HEADS, color="k", linestyle="--", label="true theta")
    ax.set_xscale("log")
    ax.set_xlabel("flips")
    ax.set_ylabel("p(heads)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "coin.png", dpi=100)
    print(f"plot written to {out / 'coin.png'}")
