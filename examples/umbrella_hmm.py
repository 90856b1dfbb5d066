"""The umbrella world (Russell & Norvig, AIMA ch. 15): filtering, smoothing and Viterbi.

A guard sees, each day, whether the director carries an umbrella; whether it
rains is hidden.  Rain persists (p = 0.7), and an umbrella is seen on 90% of
rainy days and 20% of dry ones.  From the same five days of evidence:

- filtering   p(rain_t | umbrellas up to day t)      -- what the guard believes each evening;
- smoothing   p(rain_t | all five days)               -- hindsight, forward-backward;
- Viterbi     the single most probable rain sequence.

AIMA's figures: filtered 0.818, 0.883 on days 1-2; smoothed 0.883 on day 1
from two days; the most probable path for [umbrella, umbrella, none,
umbrella, umbrella] is rain, rain, dry, rain, rain.

Run:  python examples/umbrella_hmm.py [output directory for the plot]
"""

import sys
from pathlib import Path

import numpy as np

import pgm

# z: 0 = dry, 1 = rain;  y: 0 = no umbrella, 1 = umbrella
umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
                           transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
print("two-slice network:", umbrella)
days = {"y": [1, 1, 0, 1, 1]}

filtered = umbrella.filtered(days)[("z", 1)].to_numpy()
smoothed = umbrella.smoothed(days)[("z", 1)].to_numpy()
best = umbrella.most_probable_path(days)
path = best.path["z"].astype(int).to_numpy()
print("\nday  umbrella  p(rain | days 1..t)  p(rain | days 1..5)  Viterbi")
for t in range(5):
    print(f"{t + 1:3d}  {'yes' if days['y'][t] else 'no ':8s}  {filtered[t]:19.3f}  {smoothed[t]:19.3f}  "
          f"{'rain' if path[t] else 'dry'}")
print(f"log p(path, umbrellas) = {best.log_probability.iloc[0]:.4f}; "
      f"log p(umbrellas) = {umbrella.log_likelihood(days).iloc[0]:.4f}")
print(f"two days only: filtered {umbrella.filtered({'y': [1, 1]})[('z', 1)].round(3).tolist()}, "
      f"smoothed day 1 {umbrella.smoothed({'y': [1, 1]})[('z', 1)].iloc[0]:.3f}")
ahead = umbrella.predict(days, steps=20)[("z", 1)].to_numpy()
print(f"p(rain) 1, 2, 5 and 20 days after the evidence: {ahead[0]:.3f} {ahead[1]:.3f} {ahead[4]:.3f} {ahead[19]:.3f} "
      "(tends to the stationary 0.5)")

# The unrolled five-day network answers the same question with the static engine.
unrolled = umbrella.unroll(5)
static = unrolled.query("z[2]", {f"y[{t}]": days["y"][t] for t in range(5)}).probabilities[1]
print(f"static engine on unroll(5), p(rain on day 3 | all days): {static:.6f} (forward-backward {smoothed[2]:.6f})")

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("(install matplotlib for the plot: pip install 'pgm-engine[plot]')")
else:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    t = np.arange(1, 6)
    ax.plot(t, filtered, "o-", label="filtered")
    ax.plot(t, smoothed, "s-", label="smoothed")
    ax.step(t, path, where="mid", color="k", alpha=0.5, label="Viterbi (1 = rain)")
    ax.set_xlabel("day")
    ax.set_ylabel("p(rain)")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(out / "umbrella.png", dpi=100)
    print(f"plot written to {out / 'umbrella.png'}")
