"""Exact inference: Bayes' rule on a network, one case or a hundred thousand.

    python examples/inference.py

1. The chest clinic (asia): how an x-ray and a symptom change our belief
   about lung cancer and tuberculosis, and the single most probable story.
2. A generative classifier: alarm's HYPOVOLEMIA predicted from whatever else
   was recorded, rows with 30% of values missing, in one vectorised call.
3. Missing values in a linear Gaussian network (ecoli70) filled with their
   posterior means, against the values that were hidden.
4. A Gaussian mixture declared as a network: p(component | x) per row, the
   soft assignment that EM's E-step needs, against the textbook formula.
"""

import time

import numpy as np
from scipy import stats

import pgm

# 1. -------------------------------------------------------------- one case
asia = pgm.load("asia")
print("p(lung) with no evidence:        ", asia.query("lung").probabilities.round(4))
print("p(lung | xray=yes):              ", asia.query("lung", evidence={"xray": "yes"}).probabilities.round(4))
print("p(lung | xray=yes, smoke=no):    ", asia.query("lung", evidence={"xray": "yes", "smoke": "no"}).probabilities.round(4))
# explaining away: tuberculosis becomes less likely once lung cancer is known
print("p(tub | xray=yes):               ", asia.query("tub", evidence={"xray": "yes"}).probabilities.round(4))
print("p(tub | xray=yes, lung=yes):     ", asia.query("tub", evidence={"xray": "yes", "lung": "yes"}).probabilities.round(4))
best = asia.mpe({"xray": "yes", "dysp": "yes"})
print("most probable explanation of xray=yes, dysp=yes:",
      {k: v for k, v in best.assignment.items() if k not in ("xray", "dysp")},
      f"p = {np.exp(best.log_probability - best.log_evidence):.4f} given the evidence")

# 2. -------------------------------------------------------------- many cases
alarm = pgm.load("alarm")
truth = alarm.sample(100_000, seed=1)
rng = np.random.default_rng(2)
observed = truth.astype(object).mask(rng.random(truth.shape) < 0.3).drop(columns="HYPOVOLEMIA")
start = time.perf_counter()
predicted = alarm.predict(observed, "HYPOVOLEMIA")
elapsed = time.perf_counter() - start
accuracy = float((predicted.astype(str) == truth["HYPOVOLEMIA"].astype(str)).mean())
print(f"\nalarm: HYPOVOLEMIA for {len(observed):,} rows with 30% missing in {elapsed:.2f} s; "
      f"accuracy {accuracy:.3f} (always guessing the prior mode: "
      f"{float((truth['HYPOVOLEMIA'] == alarm.query('HYPOVOLEMIA').mode()).mean()):.3f})")
print("log p(observed part) of the first rows:", alarm.log_likelihood(observed)[:3].round(3))

# 3. -------------------------------------------------------------- Gaussian imputation
ecoli = pgm.load("ecoli70")
full = ecoli.sample(20_000, seed=3)
hidden = rng.random(full.shape) < 0.3
gappy = full.mask(hidden)
filled = ecoli.impute(gappy)
error = (filled - full).to_numpy()[hidden]
prior_error = (ecoli.joint_gaussian().mean[None, :] - full.to_numpy())[hidden]
print(f"\necoli70: {int(hidden.sum()):,} hidden values; RMS error of the posterior mean {np.sqrt(np.mean(error**2)):.3f}, "
      f"of the prior mean {np.sqrt(np.mean(prior_error**2)):.3f}")

# 4. -------------------------------------------------------------- a mixture's soft assignments
weights, means, variances = np.array([0.2, 0.5, 0.3]), np.array([-3.0, 0.0, 4.0]), np.array([0.5, 1.0, 2.0])
mixture = pgm.BayesianNetwork({
    "component": pgm.Categorical(["a", "b", "c"], table=weights),
    "x": pgm.LinearGaussian(parents=["component"], intercept=means, variance=variances),
})
x = mixture.sample(5, seed=4)[["x"]]
responsibilities = mixture.query("component", evidence=x)
density = weights * stats.norm.pdf(x.to_numpy(), means, np.sqrt(variances))
print("\np(component | x) per row:\n", responsibilities.round(4))
print("by the formula w_k N(x; m_k, v_k) / sum_j w_j N(x; m_j, v_j):\n", (density / density.sum(axis=1, keepdims=True)).round(4))
print("log p(x) per row:", mixture.log_likelihood(x).round(4), "by hand:", np.log(density.sum(axis=1)).round(4))
