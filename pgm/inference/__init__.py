"""Inference: posteriors given evidence, p(evidence), MPE, and Gaussian algebra.

- :mod:`pgm.inference.engine` -- exact inference for discrete, linear Gaussian
  and conditional linear Gaussian networks, batched over rows;
- :mod:`pgm.inference.junction_tree` -- the discrete junction tree;
- :mod:`pgm.inference.gaussian_elimination` -- linear Gaussian networks with
  per-row missing values;
- :mod:`pgm.inference.likelihood_weighting` -- estimates when exact inference is refused;
- :mod:`pgm.inference.loopy_bp` and :mod:`pgm.inference.gibbs` -- loopy belief
  propagation and Gibbs sampling beyond treewidth, selected by ``method=``
  through :mod:`pgm.inference.approximate`;
- :mod:`pgm.inference.gaussian` -- the joint Gaussian and Gaussian conditioning;
- :mod:`pgm.inference.cache` -- each network's bounded cache of compiled plans;
- :mod:`pgm.inference.triangulation` -- elimination orders (several heuristics, the cheapest kept).
"""

from pgm.inference.cache import DEFAULT_PLAN_CACHE_BYTES, PlanCache, plan_cache
from pgm.inference.engine import DEFAULT_MEMORY_BUDGET, ImpossibleEvidenceError
from pgm.inference.gaussian import MultivariateNormal, joint_gaussian, kl_divergence
from pgm.inference.results import MPE, DiscreteDistribution, GaussianMixture, InferencePlan

__all__ = [
    "MultivariateNormal", "joint_gaussian", "kl_divergence",
    "DiscreteDistribution", "GaussianMixture", "MPE", "InferencePlan",
    "DEFAULT_MEMORY_BUDGET", "ImpossibleEvidenceError",
    "DEFAULT_PLAN_CACHE_BYTES", "PlanCache", "plan_cache",
]
