"""Sunspots, 1700-2008: a Gaussian HMM for regimes and a Kalman smoother for the level.

The yearly sunspot numbers ship with statsmodels (``statsmodels.datasets.sunspots``;
install the extra with ``pip install 'pgm-engine[sequences]'``).  On the
square root of the counts (which steadies the variance):

- a two-state Gaussian HMM (Baum-Welch, 5 random starts) separates quiet
  and active years; Viterbi gives the regime of each year, and the fitted
  transition table the expected length of a spell;
- a random-walk level plus a damped stochastic cycle (Harvey's structural
  model) -- a linear dynamical system, i.e. a linear Gaussian dynamic
  network with a three-dimensional hidden state -- smoothed by
  Rauch-Tung-Striebel; its parameters come from statsmodels' maximum
  likelihood fit, and statsmodels' own state-space smoother, given the same
  parameters, gives the same log-likelihood and smoothed states.

Run:  python examples/sunspots_regimes.py [output directory for the plot]
"""

import sys
import warnings
from pathlib import Path

import numpy as np

import pgm

try:
    import statsmodels.api as sm
except ImportError:
    print("this example needs statsmodels: pip install 'pgm-engine[sequences]'")
    sys.exit(0)

data = sm.datasets.sunspots.load_pandas().data
years = data["YEAR"].to_numpy().astype(int)
y = np.sqrt(data["SUNACTIVITY"].to_numpy())
print(f"{len(y)} years, {years[0]}-{years[-1]}; modelling sqrt(sunspot number)")

# ---- regimes: a two-state Gaussian HMM
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    regimes = pgm.dynamic.hmm(2, emission="gaussian", n_features=1).fit(y[:, None], n_init=5, seed=0,
                                                                        max_iter=200, tol=1e-8)
means = np.array([float(regimes.cpd("y0", 1).intercept[k]) for k in range(2)])
sds = np.sqrt([float(regimes.cpd("y0", 1).variance[k]) for k in range(2)])
order = np.argsort(means)
transition = regimes.cpd("z", 1).table[np.ix_(order, order)]
path = regimes.most_probable_path(y[:, None]).path["z"].astype(int).to_numpy()
active = path == order[1]
print("\nGaussian HMM, 2 regimes (log-likelihood "
      f"{regimes.score(y[:, None]):.2f}, {regimes.fit_report_.n_iter} Baum-Welch iterations):")
for name, k, row in (("quiet", order[0], transition[0]), ("active", order[1], transition[1])):
    stay = row[0] if name == "quiet" else row[1]
    print(f"  {name:6s} mean {means[k]:5.2f} sd {sds[k]:4.2f}; stays with p = {stay:.3f}, "
          f"expected spell {1 / (1 - stay):4.1f} years")
print(f"  Viterbi: {active.mean():.0%} of years active; the active years of the last cycle: "
      f"{', '.join(map(str, years[-12:][active[-12:]]))}")

# ---- level and the 11-year cycle: a linear dynamical system, Kalman-smoothed
# State [level, cycle, cycle*]: the level is a random walk, the cycle a damped rotation by `frequency`
# radians a year (Harvey's stochastic cycle); y = level + cycle + noise.  The variances, frequency and
# damping are statsmodels' maximum-likelihood estimates for this model (pgm has no EM for linear Gaussian
# dynamic networks yet); pgm's filter and smoother then run on the same model as a dynamic network.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model = sm.tsa.UnobservedComponents(y, "llevel", cycle=True, stochastic_cycle=True, damped_cycle=True)
    model.ssm.initialize_known(np.array([y[0], 0.0, 0.0]), np.eye(3) * 1e4)  # the prior pgm's model uses too
    model.loglikelihood_burn = model.ssm.loglikelihood_burn = 0
    fitted = model.fit(disp=False)
noise, level_var, cycle_var, frequency, damping = fitted.params
noise = max(noise, 1e-6)  # the estimate is ~0; a linear Gaussian CPD needs a positive variance
c, s_ = np.cos(frequency), np.sin(frequency)
A = [[1, 0, 0], [0, damping * c, damping * s_], [0, -damping * s_, damping * c]]
system = pgm.dynamic.linear_dynamical_system(A, [[1, 1, 0]], np.diag([level_var, cycle_var, cycle_var]),
                                             [[noise]], [y[0], 0, 0], np.eye(3) * 1e4)
smooth = pgm.dynamic.kalman_smoother(system, y[:, None])
level = smooth.smoothed_mean["x0"].to_numpy()
cycle = smooth.smoothed_mean["x1"].to_numpy()
band = 2 * np.sqrt(smooth.smoothed_cov[:, 0, 0])
reference = model.smooth([noise, level_var, cycle_var, frequency, damping])
print(f"\nlevel + damped cycle: period {2 * np.pi / frequency:.1f} years, damping {damping:.3f} a year")
print(f"Kalman log-likelihood: pgm {smooth.log_likelihood.iloc[0]:.6f}, statsmodels {reference.llf:.6f}")
print(f"max |smoothed state - statsmodels' smoother|: "
      f"{np.abs(smooth.smoothed_mean.to_numpy().T - reference.smoothed_state).max():.2e}")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("(install matplotlib for the plot: pip install 'pgm-engine[plot]')")
else:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(years, y, color="0.6", lw=1, label="sqrt(sunspots)")
    ax.plot(years, level + cycle, color="C0", label="Kalman-smoothed level + cycle")
    ax.plot(years, level, color="C2", label="smoothed level")
    ax.fill_between(years, level - band, level + band, color="C0", alpha=0.2)
    ax.fill_between(years, 0, y.max(), where=active, color="C3", alpha=0.1, step="mid", label="active regime (Viterbi)")
    ax.set_xlabel("year")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "sunspots.png", dpi=100)
    print(f"plot written to {out / 'sunspots.png'}")
