"""Dynamic Bayesian networks: sequences of slices, hidden Markov models, Kalman filters.

A :class:`DynamicBayesianNetwork` is declared as two slices (a 2TBN) and
answers questions about many sequences of different lengths at once:
log-likelihoods, filtering, smoothing, Viterbi, prediction, sampling and
fitting (closed form, or Baum-Welch through the statistics seam).
:meth:`DynamicBayesianNetwork.unroll` gives the ordinary network the answers
must agree with.

Examples
--------
>>> import pgm
>>> umbrella = pgm.dynamic.hmm(2, emission="categorical", n_symbols=2, startprob=[0.5, 0.5],
...                            transmat=[[0.7, 0.3], [0.3, 0.7]], emissionprob=[[0.8, 0.2], [0.1, 0.9]])
>>> umbrella.smoothed({"y": [1, 1]}).round(3).loc[(0, 0)].tolist()   # AIMA's 0.883 for rain on day 1
[0.117, 0.883]
"""

from pgm.dynamic.boyen_koller import boyen_koller
from pgm.dynamic.builders import autoregressive_hmm, factorial_hmm, hmm, input_output_hmm, markov_chain
from pgm.dynamic.kalman import kalman_smoother, linear_dynamical_system, state_space
from pgm.dynamic.model import DynamicBayesianNetwork, previous
from pgm.dynamic.particles import particle_filter

__all__ = ["DynamicBayesianNetwork", "previous", "hmm", "markov_chain", "autoregressive_hmm", "factorial_hmm",
           "input_output_hmm", "linear_dynamical_system", "kalman_smoother", "state_space", "particle_filter",
           "boyen_koller"]
