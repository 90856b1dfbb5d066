"""Parameter learning: sufficient statistics, maximum likelihood, priors, parameter posteriors."""

from pgm.learning.mle import Statistics, fit, from_statistics, statistics
from pgm.learning.posterior import ParameterPosterior, parameter_posterior
from pgm.learning.priors import BDeu, Dirichlet, InverseGamma, NormalInverseGamma, Prior, Ridge
from pgm.learning.scores import bdeu_score, bge_score, k2_score

__all__ = [
    "Statistics", "statistics", "from_statistics", "fit", "Prior", "Dirichlet", "BDeu", "Ridge", "InverseGamma",
    "NormalInverseGamma", "ParameterPosterior", "parameter_posterior", "bdeu_score", "k2_score", "bge_score",
]
