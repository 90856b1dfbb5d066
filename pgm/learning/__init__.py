"""Parameter learning: sufficient statistics, maximum likelihood, priors."""

from pgm.learning.mle import Statistics, fit, from_statistics, statistics
from pgm.learning.priors import BDeu, Dirichlet, InverseGamma, Prior, Ridge

__all__ = ["Statistics", "statistics", "from_statistics", "fit", "Prior", "Dirichlet", "BDeu", "Ridge", "InverseGamma"]
