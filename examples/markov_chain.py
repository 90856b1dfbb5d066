"""Markov chains: what the chain assumption and parameter tying buy.

For binary x1..x20 a full joint table has 2^20 - 1 free parameters.  The
first-order chain p(x1) prod_t p(x_t | x_{t-1}) needs 1 + 19 * 2; if every
step shares one transition table (a homogeneous chain, "tied" CPDs), 1 + 2.
The tied chain is then fitted from the transitions of every step pooled.

Run:  python examples/markov_chain.py
"""

import numpy as np

import pgm

length = 20
print(f"free parameters for binary x1..x{length}:")
print(f"  full joint table       : {2 ** length - 1:>9,}")
print(f"  Markov chain           : {pgm.markov_chain(['0', '1'], length, tied=False).n_free_parameters:>9,}")
print(f"  chain, tied transitions: {pgm.markov_chain(['0', '1'], length).n_free_parameters:>9,}")

weather = pgm.markov_chain(["sun", "cloud", "rain"], 30, initial=[0.6, 0.3, 0.1],
                           transition=[[0.7, 0.2, 0.1], [0.3, 0.4, 0.3], [0.2, 0.4, 0.4]], prefix="day")
terms = str(weather.factorization()).split(" = ")[1].split(" p(")
print(f"\np(day1, ..., day30) = {terms[0]} p({terms[1]} ... p({terms[-1]}   ({len(terms)} factors)")
days = weather.sample(2_000, seed=3)

# The same structure, tables unknown: fitted from 2,000 sequences of 30 days.
fitted = pgm.markov_chain(["sun", "cloud", "rain"], 30, prefix="day").fit(days)
print("\ntrue transition table:\n" + np.array2string(weather["day2"].table, precision=3))
print("fitted from the pooled transitions (58,000 of them):\n" + np.array2string(fitted["day2"].table, precision=3))
print(f"max |error|: tied {np.abs(fitted['day2'].table - weather['day2'].table).max():.4f}", end="")
untied = pgm.markov_chain(["sun", "cloud", "rain"], 30, prefix="day", tied=False).fit(days)
print(f", one table per step {np.abs(untied['day2'].table - weather['day2'].table).max():.4f}")

held_out = weather.sample(2_000, seed=4)
print(f"held-out log-likelihood per sequence: tied {fitted.log_likelihood(held_out).mean():.3f}, "
      f"untied {untied.log_likelihood(held_out).mean():.3f}, truth {weather.log_likelihood(held_out).mean():.3f}")

# The stationary distribution: the left eigenvector of the transition matrix for eigenvalue 1.
values, vectors = np.linalg.eig(weather["day2"].table.T)
stationary = np.real(vectors[:, np.argmax(np.real(values))])
stationary /= stationary.sum()
late = days["day30"].value_counts(normalize=True).reindex(["sun", "cloud", "rain"]).to_numpy()
print("stationary distribution:", np.array2string(stationary, precision=3), " day 30 in the samples:",
      np.array2string(late, precision=3))
