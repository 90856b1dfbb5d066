"""Every script in examples/ runs to completion, and prints what it is there to show."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def numbers_after(label: str, text: str) -> list[str]:
    """The numbers printed after ``label`` on its line."""
    line = next(line for line in text.splitlines() if line.startswith(label))
    return re.findall(r"-?\d+\.\d+(?:e[-+]?\d+)?", line[len(label):])


def check_tour(out: str) -> None:
    assert "Is 'asia' independent of 'smoke'? True" in out
    assert "the trail asia - tub - either - lung - smoke is active" in out
    assert "Markov blanket of 'either': ['bronc', 'dysp', 'lung', 'tub', 'xray']" in out


def check_sprinkler(out: str) -> None:
    assert re.search(r"sprinkler and rain independent\?\s+False", out)
    assert re.search(r"\.\.\. given cloudy\?\s+True", out)
    assert "sprinkler - wet_grass - rain (explaining away)" in out


def check_chunked_fit(out: str) -> None:
    assert "fit from chunks == fit at once: True" in out


def check_polynomial_regression(out: str) -> None:
    assert numbers_after("lstsq :", out) == numbers_after("pgm   :", out)  # pgm's fit is least squares


def check_mixture(out: str) -> None:
    assert numbers_after("log p(component, x):", out) == numbers_after("by hand:", out)


def check_gaussian_network(out: str) -> None:
    network, joint = re.search(r"network (-?\d+\.\d+) \| joint Gaussian (-?\d+\.\d+)", out).groups()
    assert network == joint  # the factorised and the joint density agree to the printed digits


def check_ml_as_min_kl(out: str) -> None:
    rows = re.findall(r"^\s*([\d,]+)\s+(\d+\.\d+) ± (\d+\.\d+)\s+(\d+\.\d+)\s+(\d+\.\d+)\s+"
                      r"(-?\d+\.\d+) ± (\d+\.\d+)\s+(\d+\.\d+)$", out, flags=re.MULTILINE)
    assert len(rows) == 5, out
    kls = []
    for _, nll, nll_se, cross, kl, excess, excess_se, _ in rows:
        nll, nll_se, cross, kl, excess, excess_se = map(float, (nll, nll_se, cross, kl, excess, excess_se))
        assert abs(nll - cross) < 4 * nll_se  # held-out NLL estimates H(p) + KL(p||p_hat)
        assert abs(excess - kl) < 4 * excess_se + 1e-6  # paired estimate of KL, printed to 6 decimals
        kls.append(kl)
    assert all(a > b for a, b in zip(kls, kls[1:])) and kls[-1] < 1e-3  # KL -> 0 as N grows


def check_gaussian_facts(out: str) -> None:
    found = re.findall(r"exact\s+(-?\d+\.\d+)\s+Monte Carlo\s+(-?\d+\.\d+) ± (\d+\.\d+)", out)
    assert len(found) >= 15, out
    for exact, estimate, se in found:
        assert abs(float(estimate) - float(exact)) < 4 * float(se) + 1e-5, (exact, estimate, se)
    assert "E[sqrt(Delta)]" in out and "~ chi-square(k)" in out


def check_coin(out: str) -> None:
    assert "sequential == batch: True" in out
    final = re.search(r"^ 1000 .*\[(\d\.\d+), (\d\.\d+)\]", out, flags=re.MULTILINE).groups()
    assert list(final) == numbers_after("scipy.stats.beta interval:", out)  # the Beta posterior's quantiles
    widths = [float(w) for w in re.findall(r"width (\d\.\d+)", out)]
    assert len(widths) == 11 and widths[-1] < widths[0] / 10  # the interval shrinks like 1 / sqrt(n)


def check_gaussian_mle(out: str) -> None:
    assert float(numbers_after("max |mean difference|", out)[0]) < 1e-10
    assert float(numbers_after("max |covariance difference|", out)[0]) < 1e-10  # the 1/N covariance
    assert float(numbers_after("... against the 1/(N-1) covariance", out)[0]) > 1e-6


def check_markov_chain(out: str) -> None:
    for label, count in [("full joint table", "1,048,575"), ("Markov chain  ", "39"), ("chain, tied", "3")]:
        assert re.search(rf"{re.escape(label)}.*:\s+{count}$", out, flags=re.MULTILINE), label
    tied, untied = map(float, re.search(r"max \|error\|: tied (\d\.\d+), one table per step (\d\.\d+)", out).groups())
    assert tied < untied


def check_generative_classifier(out: str) -> None:
    differences = [float(d) for d in re.findall(r"max \|probability difference\| (\S+)", out)]
    assert len(differences) == 6  # digits twice, iris and wine twice each
    assert max(differences) < 1e-10  # pgm's class probabilities are scikit-learn's
    assert len(re.findall(r"5-fold accuracy: pgm \d\.\d+, \w+ \d\.\d+", out)) == 3


def check_dask_alarm(out: str) -> None:
    assert "fit on the cluster == fit by the chunked reader: True" in out
    assert re.search(r"fitted on the cluster in \d+\.\d+ s: [\d,]+ rows/s", out)


def check_umbrella_hmm(out: str) -> None:
    rows = re.findall(r"^\s+(\d)\s+(yes|no)\s+(\d\.\d+)\s+(\d\.\d+)\s+(rain|dry)$", out, flags=re.MULTILINE)
    assert [(f, s, v) for _, _, f, s, v in rows] == [  # Russell & Norvig, figures 15.4 and 15.5
        ("0.818", "0.867", "rain"), ("0.883", "0.820", "rain"), ("0.191", "0.307", "dry"),
        ("0.731", "0.820", "rain"), ("0.867", "0.867", "rain")]
    assert "smoothed day 1 0.883" in out
    static, ours = re.search(r"all days\): (\d\.\d+) \(forward-backward (\d\.\d+)\)", out).groups()
    assert static == ours


def check_language_markov(out: str) -> None:
    bits = {name.strip(): (int(params.replace(",", "")), float(b)) for name, params, b in
            re.findall(r"^(uniform|Markov chain, order \d|HMM, \d+ hidden states)\s+([\d,]+)\s+(\d\.\d+)$", out,
                       flags=re.MULTILINE)}
    assert len(bits) == 5, out
    chains = [bits[f"Markov chain, order {k}"] for k in (1, 2, 3)]
    assert chains[0][1] > chains[1][1] > chains[2][1]  # longer contexts predict held-out text better...
    assert chains[0][0] < chains[1][0] < chains[2][0]  # ...at a price in parameters
    hmm = next(v for k, v in bits.items() if k.startswith("HMM"))
    assert hmm[1] < bits["uniform"][1] and hmm[0] < chains[0][0]
    assert len(re.findall(r"^  (Markov chain|HMM).*'.+'$", out, flags=re.MULTILINE)) == 4


def check_sunspots_regimes(out: str) -> None:
    if "needs statsmodels" in out:
        return
    pgm_ll, sm_ll = re.search(r"Kalman log-likelihood: pgm (-?\d+\.\d+), statsmodels (-?\d+\.\d+)", out).groups()
    assert pgm_ll == sm_ll
    assert float(numbers_after("max |smoothed state - statsmodels' smoother|:", out)[0]) < 1e-6
    assert re.search(r"period 1[01]\.\d years", out)


def check_image_parameters(out: str) -> None:
    found = re.findall(r"^  (\S.*?\S)\s{2,}([\d,]+)\s+(\d\.\d{4})$", out, flags=re.MULTILINE)
    table = {name: (int(count.replace(",", "")), float(bits)) for name, count, bits in found}
    # free parameters by formula: 64 pixels; 1 + 63 x 2; 1 + sum_{i=1}^{63} (i + 1); (K - 1) + 64 K
    expected = {"independent pixels": 64, "raster Markov chain": 127, "sigmoid belief net": 1 + sum(i + 1 for i in range(1, 64)),
                **{f"mixture, K = {k}": k - 1 + 64 * k for k in (10, 20, 50)}}
    varying = int(re.search(r"pixels that vary in training: (\d+);", out).group(1))
    by_parents = dict(re.findall(r"(\d+): (\d+)", out.split("pixels by number of parents:")[1].splitlines()[0]))
    expected["Chow-Liu tree"] = (64 - varying) + 1 + 2 * (varying - 1)  # blank pixels alone, a tree on the rest
    expected["learned DAG (BIC)"] = sum(int(n) * 2 ** int(k) for k, n in by_parents.items())
    assert sum(int(n) for n in by_parents.values()) == 64
    assert {name: count for name, (count, _) in table.items()} == expected
    assert numbers_after("  independent pixels by hand (numpy):", out) == [f"{table['independent pixels'][1]:.4f}"]
    bits = {name: b for name, (_, b) in table.items()}
    assert bits["independent pixels"] > bits["raster Markov chain"] > bits["mixture, K = 10"] > bits["sigmoid belief net"]
    assert bits["independent pixels"] > bits["Chow-Liu tree"] and bits["raster Markov chain"] > bits["learned DAG (BIC)"]
    errors = re.findall(r"m =\s+(\d+):\s+(\d\.\d+) \| (\d\.\d+)", out)
    assert len(errors) >= 5 and float(errors[-1][2]) < float(errors[-1][1])  # logistic regression's lower asymptote


CHECKS = {
    "umbrella_hmm.py": check_umbrella_hmm,
    "language_markov.py": check_language_markov,
    "sunspots_regimes.py": check_sunspots_regimes,
    "tour.py": check_tour,
    "coin.py": check_coin,
    "gaussian_mle.py": check_gaussian_mle,
    "markov_chain.py": check_markov_chain,
    "sprinkler.py": check_sprinkler,
    "chunked_fit.py": check_chunked_fit,
    "polynomial_regression.py": check_polynomial_regression,
    "mixture.py": check_mixture,
    "gaussian_network.py": check_gaussian_network,
    "ml_as_min_kl.py": check_ml_as_min_kl,
    "gaussian_facts.py": check_gaussian_facts,
    "generative_classifier.py": check_generative_classifier,
    "dask_alarm.py": check_dask_alarm,
    "image_parameters.py": check_image_parameters,
}


def test_there_are_examples():
    assert len(EXAMPLES) >= 5
    assert set(CHECKS) <= {p.name for p in EXAMPLES}


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert "Traceback" not in result.stderr
    CHECKS.get(script.name, lambda out: None)(result.stdout)
