"""The generative classifier: naive Bayes as a Bayesian network, on data that ships with scikit-learn.

    python examples/generative_classifier.py

A generative classifier models the joint p(class, x) = p(class) p(x | class)
and classifies by Bayes' rule, p(class | x) = p(class) p(x | class) / p(x).
Naive Bayes assumes the features independent given the class: the class is
the only parent of every feature.

- Bernoulli naive Bayes on scikit-learn's 8x8 digits, each pixel binarised
  as ink > 7 (of 0..16).  With a Dirichlet(1) prior on the pixel tables
  (Laplace smoothing) and none on the class -- whose probabilities stay the
  class frequencies -- it is exactly scikit-learn's BernoulliNB(alpha=1).
- Gaussian naive Bayes on iris and wine: one Gaussian per feature and class.
  pgm fits the maximum-likelihood variances; GaussianNB adds
  var_smoothing * (largest feature variance) to each, 1e-9 times by default.
  With var_smoothing=0 the two agree, and so do pgm's variances plus the same
  amount and the default GaussianNB.

Every comparison prints the largest absolute difference between the two
libraries' class probabilities over all rows, and 5-fold cross-validated
accuracies through pgm's scikit-learn wrapper.
"""

import sys

import numpy as np
import pandas as pd

try:  # the data sets and the reference classifiers
    from sklearn.datasets import load_digits, load_iris, load_wine
    from sklearn.model_selection import cross_val_score
    from sklearn.naive_bayes import BernoulliNB, GaussianNB
except ImportError:
    sys.exit("generative_classifier.py needs scikit-learn: pip install 'pgm-engine[sklearn]'")

import pgm
from pgm.classifiers import naive_bayes
from pgm.sklearn import BayesianNetworkClassifier

THRESHOLD = 7  # a pixel is ink when its value (0..16) exceeds this


def report(what: str, difference: float) -> None:
    print(f"{what:<62} max |probability difference| {difference:.1e}")


# ---------------------------------------------------------------------------- digits: Bernoulli naive Bayes
digits = load_digits()
ink = (digits.data > THRESHOLD).astype(np.int64)    # 1,797 images x 64 pixels, 0 or 1
pixels = [f"p{k:02d}" for k in range(64)]
classes = [str(d) for d in range(10)]
net = naive_bayes("digit", classes, discrete={p: ["0", "1"] for p in pixels})
laplace = pgm.Dirichlet({p: 1.0 for p in pixels})  # the pixel tables only: p(digit) stays the class frequency
print(f"digits: {len(ink)} images, {net.n_free_parameters} free parameters (9 for the class, 10 per pixel)")

# The network's own verbs: fit on labelled rows, then one posterior per row.
rows = pd.DataFrame(np.where(ink == 1, "1", "0"), columns=pixels)
rows["digit"] = digits.target.astype(str)
fitted = net.fit(rows, prior=laplace)
posterior = fitted.query("digit", evidence=rows[pixels])     # 1,797 x 10, columns "0".."9"

theirs = BernoulliNB(alpha=1.0, binarize=None).fit(ink, digits.target)
report("digits, pgm fit + query vs BernoulliNB(alpha=1)",
       np.abs(posterior.to_numpy() - theirs.predict_proba(ink)).max())

# The same through the scikit-learn wrapper, on the numeric array: 1 matches the state "1".
model = BayesianNetworkClassifier(net, "digit", prior=laplace).fit(ink, digits.target)
report("digits, BayesianNetworkClassifier vs BernoulliNB(alpha=1)",
       np.abs(model.predict_proba(ink) - theirs.predict_proba(ink)).max())
ours_cv = cross_val_score(BayesianNetworkClassifier(net, "digit", prior=laplace), ink, digits.target, cv=5)
theirs_cv = cross_val_score(BernoulliNB(alpha=1.0, binarize=None), ink, digits.target, cv=5)
print(f"digits 5-fold accuracy: pgm {ours_cv.mean():.4f}, BernoulliNB {theirs_cv.mean():.4f}\n")


# ---------------------------------------------------------------------------- iris and wine: Gaussian naive Bayes
def with_smoothing(network, target: str, features, amount: float):
    """``network`` with ``amount`` added to every feature's variance, as GaussianNB's var_smoothing does."""
    for feature in features:
        cpd = network[feature]
        network = network.with_cpd(feature, pgm.LinearGaussian(
            parents=[target], intercept=cpd.intercept, variance=cpd.variance + amount))
    return network


for name, loader in (("iris", load_iris), ("wine", load_wine)):
    data = loader(as_frame=True)
    X = data.data                                             # a DataFrame: columns matched by name
    names = data.target_names.tolist()
    y = np.array(names, dtype=object)[data.target]            # the class names, as strings
    net = naive_bayes("class", names, continuous=list(X.columns))
    model = BayesianNetworkClassifier(net, "class").fit(X, y)
    print(f"{name}: {len(X)} rows, {X.shape[1]} features, classes {list(model.classes_)}")

    exact = GaussianNB(var_smoothing=0.0).fit(X, y)
    report(f"{name}, pgm (maximum likelihood) vs GaussianNB(var_smoothing=0)",
           np.abs(model.predict_proba(X) - exact.predict_proba(X)).max())

    default = GaussianNB().fit(X, y)
    amount = default.var_smoothing * float(np.var(X.to_numpy(), axis=0).max())
    smoothed = with_smoothing(model.network_, "class", X.columns, amount)
    posterior = smoothed.query("class", evidence=X)
    report(f"{name}, pgm + {amount:.2g} on each variance vs GaussianNB()",
           np.abs(posterior.to_numpy() - default.predict_proba(X)).max())

    ours_cv = cross_val_score(BayesianNetworkClassifier(net, "class"), X, y, cv=5)
    theirs_cv = cross_val_score(GaussianNB(), X, y, cv=5)
    print(f"{name} 5-fold accuracy: pgm {ours_cv.mean():.4f}, GaussianNB {theirs_cv.mean():.4f}\n")
