"""A short tour of pgm: load a network, read its factorisation, ask an
independence question, sample, score, fit, write the result, ask for
posteriors given evidence, and fit a latent node by EM.

    python examples/tour.py [OUTPUT_DIR]

Without OUTPUT_DIR the files go to a temporary folder, removed when the script ends.
"""

import atexit
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pgm

if len(sys.argv) > 1:  # the folder the user asked for: the files stay there
    output = Path(sys.argv[1])
else:  # none asked for: a temporary folder, removed when the script ends
    output = Path(tempfile.mkdtemp(prefix="pgm-tour-"))
    atexit.register(shutil.rmtree, output, ignore_errors=True)
output.mkdir(parents=True, exist_ok=True)

# 1. A real network: the "chest clinic" of Lauritzen & Spiegelhalter (1988).
asia = pgm.load("asia")
print(asia)

# 2. The factorisation it encodes, and what conditional independence buys.
factorization = asia.factorization()
print("\n" + str(factorization))
print(factorization.parameter_summary())

# 3. Independence by d-separation, with an active trail as evidence of dependence.
print("\nIs 'asia' independent of 'smoke'?", asia.is_d_separated("asia", "smoke"))
trail = asia.active_trail("asia", "smoke", given="dysp")
print("... and given 'dysp'? No: the trail", " - ".join(trail), "is active")
print("Markov blanket of 'either':", sorted(asia.markov_blanket("either")))

# 4. Ancestral sampling: a DataFrame with categorical columns.
start = time.perf_counter()
rows = asia.sample(100_000, seed=1)
print(f"\nsampled {len(rows):,} rows in {time.perf_counter() - start:.3f} s")
print(rows.head())

# 5. Scoring: per-row log-likelihood in nats.
log_likelihood = asia.log_likelihood(rows)
print(f"\nmean log-likelihood {log_likelihood.mean():.4f} nats per row, "
      f"{asia.bits_per_variable(rows):.4f} bits per variable")

# 6. Fitting: maximum likelihood by counting, and with a Dirichlet prior.
fitted = asia.fit(rows)
smoothed = asia.fit(rows.head(200), prior=pgm.Dirichlet(1.0))
print("\nP(lung | smoke) true:\n", asia["lung"].table,
      "\nfitted from 100,000 rows:\n", fitted["lung"].table.round(4),
      "\nfrom 200 rows with Dirichlet(1) pseudo-counts:\n", smoothed["lung"].table.round(4))

# 7. Files: BIF for discrete networks, JSON for any network (written atomically).
fitted.write(output / "asia-fitted.bif")
fitted.write(output / "asia-fitted.json")
assert pgm.read(output / "asia-fitted.bif") == pgm.read(output / "asia-fitted.json")
kept = "" if len(sys.argv) > 1 else " (a temporary folder, removed at the end: give a folder to keep them)"
print(f"\nwrote {output / 'asia-fitted.bif'} and {output / 'asia-fitted.json'}{kept}")

# 8. Inference: Bayes' rule given evidence, for one case or for every row of a table.
print("\np(lung | xray = yes, smoke = no):", asia.query("lung", evidence={"xray": "yes", "smoke": "no"}).probabilities.round(4))
best = asia.mpe({"xray": "yes", "dysp": "yes"})
print("most probable explanation of xray = yes, dysp = yes:",
      {k: v for k, v in best.assignment.items() if k not in ("xray", "dysp")})
incomplete = rows.drop(columns="bronc").head(10_000)
start = time.perf_counter()
posterior = asia.query("bronc", evidence=incomplete)
print(f"p(bronc | the rest) for {len(incomplete):,} rows in {time.perf_counter() - start:.3f} s:")
print(posterior.head(3).round(4))

# 9. EM: declare a node latent, drop its column, and fit; the trace never goes down.
cpd = asia["either"]
latent = asia.with_cpd("either", pgm.Categorical.latent(cpd.states, parents=cpd.parents))
em = latent.fit(rows.drop(columns="either"), seed=0, prior=pgm.Dirichlet(0.1))
print("\n" + repr(em.fit_report_))
