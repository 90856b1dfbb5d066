"""A latent class model: one hidden discrete cause, several observed symptoms.

    python examples/latent_class.py

Eight yes/no answers depend on a hidden class with three values.  Data are
drawn from a known model with the class column removed; EM recovers the class
proportions and every answer's table, up to the order of the class labels
(`align_to` puts them back in the reference order).
"""

import numpy as np

import pgm

classes = ["a", "b", "c"]
answers = [f"q{k}" for k in range(1, 9)]
rng = np.random.default_rng(0)
yes = rng.choice([0.1, 0.3, 0.7, 0.9], size=(3, len(answers)))   # p(answer = yes | class)
truth = pgm.BayesianNetwork({
    "class": pgm.Categorical(classes, table=[0.5, 0.3, 0.2]),
    **{q: pgm.Bernoulli(yes[:, j], states=["no", "yes"], parents=["class"]) for j, q in enumerate(answers)},
})
data = truth.sample(20_000, seed=1).drop(columns="class")           # the class is never observed

model = pgm.BayesianNetwork({
    "class": pgm.Categorical.latent(classes),
    **{q: pgm.Categorical(["no", "yes"], parents=["class"]) for q in answers},
})
print(model)
fitted = model.fit(data, n_init=3, seed=2, tol=1e-7, max_iter=300)
print(fitted.fit_report_)
fitted = fitted.align_to(truth, "class")

print("\nclass proportions: fitted", fitted["class"].table.round(3), " true", truth["class"].table)
print("p(yes | class), fitted (rows: classes, columns: questions):")
print(np.column_stack([fitted[q].table[:, 1] for q in answers]).round(3))
print("true:")
print(yes.round(3))
error = max(np.abs(fitted[q].table[:, 1] - yes[:, j]).max() for j, q in enumerate(answers))
print(f"largest error {error:.3f} (20,000 rows: a few hundredths is sampling noise)")
print("\nsoft assignments of the first rows, p(class | answers):")
print(fitted.query("class", evidence=data.head(4)).round(3))
print("most probable class:", fitted.predict(data.head(4), "class").tolist())
