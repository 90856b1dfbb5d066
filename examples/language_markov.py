"""Language as a sequence: character-level Markov chains of order 1-3 and an HMM, on English text.

The text is the Python documentation's topic pages that ship with every
Python (``pydoc_data.topics``), one sequence per topic, lower-cased to 38
symbols.  Every fifth topic is held out.  For each model the table shows the
free parameters and the held-out cross-entropy in bits per character
(-log2 p(held-out text) / characters): the lecture's trade-off -- a longer
context predicts better, at a cost in parameters that grows like k^order.
The hidden Markov model gets by with a few hundred parameters by
summarising the past in a hidden state learned by Baum-Welch.
Each model then writes some text of its own.

Run:  python examples/language_markov.py
"""

import re
import time
import warnings

import numpy as np
import pandas as pd
from pydoc_data.topics import topics

import pgm
from pgm.learning.em import ConvergenceWarning

ALPHABET = list("abcdefghijklmnopqrstuvwxyz .,;:'\"()-_=") + ["0", "#"]  # 0: any digit, #: anything else


def clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text.lower())
    text = re.sub(r"[0-9]", "0", text)
    return "".join(c if c in ALPHABET else "#" for c in text)


documents = [clean(topics[name]) for name in sorted(topics)]
train = [d for i, d in enumerate(documents) if i % 5]
test = [d for i, d in enumerate(documents) if not i % 5]


def frame(docs):
    return pd.DataFrame({"sequence": np.repeat(np.arange(len(docs)), [len(d) for d in docs]),
                         "x": pd.Categorical(list("".join(docs)), categories=ALPHABET)})


train_frame, test_frame = frame(train), frame(test)
n_test = len(test_frame)
print(f"{len(documents)} topics, {len(train_frame):,} training and {n_test:,} held-out characters, "
      f"{len(ALPHABET)} symbols\n")
print(f"{'model':24s} {'free parameters':>16s} {'held-out bits/char':>19s}")
uniform_bits = np.log2(len(ALPHABET))
print(f"{'uniform':24s} {0:>16,d} {uniform_bits:19.3f}")

models = {}
for order in (1, 2, 3):
    chain = pgm.dynamic.markov_chain(ALPHABET, order=order).fit(train_frame, sequence="sequence",
                                                                 prior=pgm.Dirichlet(0.05))
    bits = -chain.score(test_frame, sequence="sequence") / n_test / np.log(2)
    models[f"Markov chain, order {order}"] = chain
    print(f"{'Markov chain, order ' + str(order):24s} {chain.n_free_parameters:>16,d} {bits:19.3f}")

# The HMM trains on 300-character pieces of the training text (independent sequences, batched).
pieces = [d[i:i + 300] for d in train for i in range(0, len(d) - 299, 300)][::8]
states = 12
hmm = pgm.dynamic.hmm(states, emission="categorical", n_symbols=len(ALPHABET))
codes = pd.DataFrame({"y": np.concatenate([[ALPHABET.index(c) for c in p] for p in pieces])})
started = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed budget of iterations, reported below
    hmm = hmm.fit(codes.to_numpy(), lengths=[len(p) for p in pieces], max_iter=60, tol=1e-4, seed=0,
                  prior=pgm.Dirichlet(1.01))
seconds = time.perf_counter() - started
held_out = np.array([ALPHABET.index(c) for c in "".join(test)])[:, None]
bits = -hmm.score(held_out, lengths=[len(d) for d in test]) / n_test / np.log(2)
models[f"HMM, {states} hidden states"] = hmm
print(f"{'HMM, ' + str(states) + ' hidden states':24s} {hmm.n_free_parameters:>16,d} {bits:19.3f}")
print(f"\n(Baum-Welch: {hmm.fit_report_.n_iter} iterations on {len(codes):,} characters in {seconds:.1f} s; "
      "EM on characters converges slowly, and more iterations or states lower the HMM's figure)")

print("\nsampled text:")
for name, model in models.items():
    drawn = model.sample([90], seed=4)
    column = "x" if "x" in drawn else "y"
    values = drawn[column].astype(int if column == "y" else str).tolist()
    text = "".join(ALPHABET[v] for v in values) if column == "y" else "".join(values)
    print(f"  {name:24s} {text!r}")
