"""How many parameters does an image need?  Five answers on binarised 8x8 digits.

    python examples/image_parameters.py [output folder]

A full table over 64 binary pixels has 2^64 - 1 free parameters.  The
lecture's three ways around the curse of dimensionality, each fitted on
1,200 of scikit-learn's digits (ink > 7 of 16) and scored on the other 597,
in bits per pixel (lower is better) against free parameters:

- independence: every pixel on its own (64 parameters);
- conditional independence: a Markov chain in raster order, each pixel given
  the one before it;
- a restricted parameterisation: the fully visible sigmoid belief network,
  each pixel *logistic* in all the pixels before it -- a table would need
  2^i rows for pixel i, the logistic needs i + 1 numbers;
- latent variables: a mixture of Bernoullis with K = 10, 20, 50 components;
- a structure learned from the data (pgm.structure): the Chow-Liu tree
  (the best tree by mutual information) and a DAG found by hill climbing
  on BIC.  Pixels that are blank in every training image carry no
  information about structure and are refused by the learners; they stay
  on their own.

Then generative against discriminative on the same 64 binary pixels: naive
Bayes against multinomial logistic regression (a softmax class node whose
parents are the pixels), test error against training-set size -- Ng &
Jordan (2002): naive Bayes approaches its (higher) asymptote sooner.

Samples from each model are drawn as pictures (PNG with matplotlib, when
installed; text otherwise).
"""

import os
import sys
import time
import warnings
from pathlib import Path

# The matrix products here are small; BLAS threads would only contend with each other (and, on a
# busy machine, spin): one thread is faster.  Set before NumPy loads BLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

import pgm

started = time.perf_counter()
digits = load_digits()
rng = np.random.default_rng(0)
order = rng.permutation(len(digits.target))
ink = (digits.data[order] > 7).astype(int)
labels = digits.target[order]
pixels = [f"p{k:02d}" for k in range(64)]
train = pd.DataFrame(ink[:1200], columns=pixels)
test = pd.DataFrame(ink[1200:], columns=pixels)
smooth = pgm.Dirichlet(1.0)  # add-one smoothing, so that a pixel never seen inked is not impossible


def bits_per_pixel(network) -> float:
    return float(-network.log_likelihood(test).mean() / np.log(2) / 64)


def independent():
    return pgm.BayesianNetwork({p: pgm.Categorical([0, 1]) for p in pixels}).fit(train, prior=smooth)


def raster_chain():
    cpds = {pixels[0]: pgm.Categorical([0, 1])}
    cpds.update({p: pgm.Categorical([0, 1], parents=[q]) for q, p in zip(pixels, pixels[1:])})
    return pgm.BayesianNetwork(cpds).fit(train, prior=smooth)


def sigmoid_belief_network():
    # pixel i is logistic in pixels 0..i-1; Gaussian priors (l2 = 1) on weights and intercept keep
    # pixels that are blank in every training image from getting probability zero
    cpds = {pixels[0]: pgm.Categorical([0, 1])}
    cpds.update({p: pgm.Logistic(parents=pixels[:i], states=[0, 1], l2=1.0, intercept_l2=1.0)
                 for i, p in enumerate(pixels) if i})
    return pgm.BayesianNetwork(cpds).fit(train, prior={pixels[0]: smooth})


def mixture(k: int):
    cpds = {"class": pgm.Categorical.latent(list(range(k)))}
    cpds.update({p: pgm.Categorical([0, 1], parents=["class"]) for p in pixels})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning at max_iter is fine for this comparison
        return pgm.BayesianNetwork(cpds).fit(train, prior=smooth, max_iter=40, tol=1e-4, seed=0)


def learned(learn):
    """A structure learned over the pixels that vary in training, fitted with the blank ones on their own."""
    varying = [p for p in pixels if train[p].nunique() > 1]
    parents = {p: [] for p in pixels}
    for parent, child in learn(train[varying]).edges:
        parents[child].append(parent)
    return pgm.BayesianNetwork.from_data(parents, train, states={p: [0, 1] for p in pixels}, prior=smooth)


models = {
    "independent pixels": independent(),
    "raster Markov chain": raster_chain(),
    "sigmoid belief net": sigmoid_belief_network(),
    **{f"mixture, K = {k}": mixture(k) for k in (10, 20, 50)},
    "Chow-Liu tree": learned(pgm.structure.chow_liu),
    "learned DAG (BIC)": learned(lambda data: pgm.structure.hill_climb(data, score="bic")),
}
rows = [(name, net.n_free_parameters, bits_per_pixel(net)) for name, net in models.items()]
# independent pixels by hand: add-one smoothed frequencies, scored on the test images
p_ink = (ink[:1200].sum(axis=0) + 1) / (1200 + 2)
by_hand = -np.mean(ink[1200:] * np.log2(p_ink) + (1 - ink[1200:]) * np.log2(1 - p_ink))
print("held-out bits per pixel (597 test images) against free parameters; a full table needs 2^64 - 1")
print(f"  {'model':<22} {'parameters':>10}  {'bits/pixel':>10}")
for name, parameters, bits in rows:
    print(f"  {name:<22} {parameters:>10,}  {bits:>10.4f}")
varying = sum(train[p].nunique() > 1 for p in pixels)
counts = pd.Series([len(models["learned DAG (BIC)"].parents(p)) for p in pixels]).value_counts().sort_index()
print(f"  pixels that vary in training: {varying}; learned DAG, pixels by number of parents: "
      + ", ".join(f"{k}: {n}" for k, n in counts.items()))
print(f"  independent pixels by hand (numpy):  {by_hand:.4f}")

samples = {name: net.sample(6, seed=1)[pixels].to_numpy().astype(int) for name, net in models.items()}

# ---------------------------------------------------------------------------- generative vs discriminative
classes = list(range(10))
labelled_train = train.assign(digit=labels[:1200])
labelled_test = test.assign(digit=labels[1200:])
bayes = pgm.classifiers.naive_bayes("digit", classes, discrete={p: [0, 1] for p in pixels})
logistic = pgm.BayesianNetwork({**{p: pgm.Categorical([0, 1]) for p in pixels},
                                "digit": pgm.Softmax.unfitted(classes, parents=pixels, l2=1.0)})
test_codes = {p: labelled_test[p].to_numpy() for p in pixels}
sizes = [20, 50, 100, 200, 400, 800, 1200]
curves = {"naive Bayes": [], "logistic regression": []}
for m in sizes:
    errors = {name: [] for name in curves}
    for repeat in range(3 if m < 1200 else 1):
        subset = labelled_train.iloc[np.random.default_rng(repeat).permutation(1200)[:m]]
        nb = bayes.fit(subset, prior=pgm.Dirichlet({p: 1.0 for p in pixels}))
        errors["naive Bayes"].append(np.mean(nb.predict(labelled_test[pixels], "digit").to_numpy() != labels[1200:]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unseen digit in a tiny subset is fine
            lr = logistic.fit(subset, prior=smooth)["digit"]
        guess = np.argmax(lr.probabilities(test_codes), axis=1)
        errors["logistic regression"].append(np.mean(guess != labels[1200:]))
    for name in curves:
        curves[name].append(float(np.mean(errors[name])))
print("\ntest error against training images (naive Bayes | logistic regression), Ng & Jordan 2002")
for m, nb_error, lr_error in zip(sizes, curves["naive Bayes"], curves["logistic regression"]):
    print(f"  m = {m:>5}:  {nb_error:.3f} | {lr_error:.3f}")

# ---------------------------------------------------------------------------- pictures
folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, parameters, bits in rows:
        left.scatter(parameters, bits)
        left.annotate(name, (parameters, bits), fontsize=7, xytext=(4, 3), textcoords="offset points")
    left.set_xscale("log")
    left.set_xlabel("free parameters")
    left.set_ylabel("held-out bits per pixel")
    for name, curve in curves.items():
        right.plot(sizes, curve, marker="o", label=name)
    right.set_xscale("log")
    right.set_xlabel("training images")
    right.set_ylabel("test error")
    right.legend()
    figure.tight_layout()
    figure.savefig(folder / "image_parameters.png", dpi=100)
    grid, axes = plt.subplots(len(samples), 6, figsize=(6, 1.1 * len(samples)))
    for r, (name, images) in enumerate(samples.items()):
        for c in range(6):
            axes[r, c].imshow(images[c].reshape(8, 8), cmap="Greys", vmin=0, vmax=1)
            axes[r, c].set_axis_off()
        axes[r, 0].set_title(name, loc="left", fontsize=8)
    grid.savefig(folder / "image_samples.png", dpi=100, bbox_inches="tight")
    print(f"\nwrote {folder / 'image_parameters.png'} and {folder / 'image_samples.png'}")
except ImportError:
    print("\nsamples (# = ink):")
    for name, images in samples.items():
        print(f"  {name}")
        for row in range(8):
            print("    " + "  ".join("".join("#" if v else "." for v in image.reshape(8, 8)[row]) for image in images))
print(f"({time.perf_counter() - started:.1f} s in all)")
