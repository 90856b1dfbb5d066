"""The simplest latent variable model for images: a mixture of Bernoullis on handwritten digits.

    python examples/digits_mixture.py [output folder]

Each 8x8 image of scikit-learn's digits is binarised (ink > 7 of 16); a hidden
class with ten values has 64 binary children, one per pixel, each with its own
p(ink | class).  EM learns the classes without labels.  The class means and a
few images sampled from the fitted model are drawn as pictures (PNG with
matplotlib, when installed; text otherwise).
"""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
try:
    from sklearn.datasets import load_digits  # the digits ship with scikit-learn
except ImportError:
    sys.exit("digits_mixture.py needs scikit-learn for its data: pip install 'pgm-engine[sklearn]'")

import pgm

digits = load_digits()
ink = digits.data > 7
pixels = [f"p{k:02d}" for k in range(64)]
data = pd.DataFrame(np.where(ink, "ink", "blank"), columns=pixels)

model = pgm.BayesianNetwork({
    "class": pgm.Categorical.latent([str(k) for k in range(10)]),
    **{p: pgm.Categorical(["blank", "ink"], parents=["class"]) for p in pixels},
})
start = time.perf_counter()
fitted = model.fit(data, prior=pgm.Dirichlet(1.0), max_iter=100, tol=1e-6, seed=0)
print(f"{fitted.fit_report_}  ({time.perf_counter() - start:.2f} s in all)")

means = np.stack([fitted[p].table[:, 1] for p in pixels], axis=1).reshape(10, 8, 8)   # p(ink | class)
clusters = fitted.predict(data, "class").astype(int).to_numpy()
purity = sum(np.bincount(digits.target[clusters == c]).max() for c in np.unique(clusters)) / len(clusters)
print(f"cluster purity against the true digits (never shown to EM): {purity:.2f}")
samples = fitted.sample(10, seed=1)[pixels].to_numpy() == "ink"

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 10, figsize=(10, 2.3))
    for c in range(10):
        axes[0, c].imshow(means[c], cmap="Greys", vmin=0, vmax=1)
        axes[1, c].imshow(samples[c].reshape(8, 8), cmap="Greys", vmin=0, vmax=1)
    for axis in axes.ravel():
        axis.set_axis_off()
    axes[0, 0].set_title("class means", loc="left", fontsize=9)
    axes[1, 0].set_title("sampled images", loc="left", fontsize=9)
    path = folder / "digits_mixture.png"
    figure.savefig(path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")
except ImportError:
    shades = " .:-=+*#%@"
    for c in range(10):
        print(f"class {c}:")
        for row in means[c]:
            print("  " + "".join(shades[min(9, int(v * 10))] * 2 for v in row))
