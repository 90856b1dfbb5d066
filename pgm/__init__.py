"""pgm: Bayesian networks for Python.

Declare a network as a DAG whose nodes carry conditional distributions, then
query its independencies, sample from it, score data under it, and fit it.

Examples
--------
>>> import pgm
>>> asia = pgm.load("asia")
>>> asia.active_trail("asia", "dysp", given="xray")
['asia', 'tub', 'either', 'dysp']
"""

from pgm import datasets
from pgm.cpds import (
    CPD,
    Bernoulli,
    Categorical,
    Feature,
    Function,
    Gaussian,
    LinearGaussian,
    Logistic,
    Monomial,
    NoisyMax,
    NoisyOr,
    RadialBasis,
    Softmax,
    polynomial,
)
from pgm.classifiers import naive_bayes
from pgm.data import read_csv
from pgm.datasets import load
from pgm.graph import DAG, Independence
from pgm.inference import MPE, DiscreteDistribution, GaussianMixture, InferencePlan, MultivariateNormal
from pgm.io import read, write
from pgm.learning import BDeu, Dirichlet, InverseGamma, NormalInverseGamma, ParameterPosterior, Ridge, Statistics
from pgm.information import Nats, cross_entropy, entropy, expected_log_likelihood, kl_divergence
from pgm.models import markov_chain
from pgm.network import BayesianNetwork

__version__ = "0.1.0"

# Submodules that ``import pgm`` does not load (they pull in Graphviz, or optional
# extras such as scikit-learn and Dask) are loaded on first attribute access, so
# ``pgm.render`` works whatever was imported before and never raises AttributeError.
_LAZY_SUBMODULES = {
    "render", "cli", "information", "classifiers", "sklearn", "dask", "sampling", "likelihood",
    "factorization", "from_data", "tying", "errors", "data", "graph", "models", "dynamic", "structure",
}


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        module = importlib.import_module(f"pgm.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'pgm' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _LAZY_SUBMODULES)

__all__ = [
    "BayesianNetwork", "DAG", "Independence",
    "CPD", "Categorical", "Bernoulli", "LinearGaussian", "Gaussian",
    "Softmax", "Logistic", "NoisyOr", "NoisyMax",
    "Feature", "Monomial", "Function", "RadialBasis", "polynomial",
    "Dirichlet", "BDeu", "Ridge", "InverseGamma", "NormalInverseGamma", "Statistics", "ParameterPosterior",
    "DiscreteDistribution", "GaussianMixture", "MultivariateNormal", "MPE", "InferencePlan",
    "load", "read", "write", "read_csv", "datasets", "markov_chain", "naive_bayes",
    "entropy", "kl_divergence", "cross_entropy", "expected_log_likelihood", "Nats",
]
