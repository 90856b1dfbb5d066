"""Structure scores: BGe against the chain rule of Normal-Wishart predictives, and score equivalence."""

import numpy as np
import pytest
import scipy.stats

import pgm
from pgm.errors import StructureError
from pgm.learning.scores import bdeu_score, bge_local_scores, bge_score, k2_score


def gaussian_structure(parents: dict) -> pgm.BayesianNetwork:
    return pgm.BayesianNetwork({n: pgm.LinearGaussian.unfitted(parents=ps) for n, ps in parents.items()})


def random_dag(n, rng, density=0.5):
    order = [f"v{i}" for i in range(n)]
    return {node: [order[j] for j in range(i) if rng.random() < density] for i, node in enumerate(order)}


def random_data(n_vars, n_rows, rng):
    root = rng.normal(size=(n_vars, n_vars))
    return rng.multivariate_normal(rng.normal(size=n_vars), root @ root.T + np.eye(n_vars), size=n_rows)


def chain_rule_evidence(x, nu, iss_mu, iss_w, t):
    """log p(x_1..x_N) as the product of Normal-Wishart posterior predictives (multivariate t), row by row."""
    n = x.shape[1]
    scale = t * np.eye(n)
    nu = np.array(nu, dtype=float)
    total = 0.0
    for row in x:  # the reference is sequential by construction
        dof = iss_w - n + 1
        shape = scale * (iss_mu + 1) / (iss_mu * dof)
        total += scipy.stats.multivariate_t(loc=nu, shape=shape, df=dof).logpdf(row)
        diff = row - nu
        scale = scale + iss_mu / (iss_mu + 1) * np.outer(diff, diff)
        nu = (iss_mu * nu + row) / (iss_mu + 1)
        iss_mu, iss_w = iss_mu + 1, iss_w + 1
    return total


@pytest.mark.parametrize("seed", [0, 1])
def test_complete_dag_equals_the_joint_normal_wishart_evidence(seed):
    rng = np.random.default_rng(seed)
    x = random_data(4, 40, rng)
    names = [f"v{i}" for i in range(4)]
    complete = gaussian_structure({n: names[:i] for i, n in enumerate(names)})
    nu = rng.normal(size=4)
    iss_mu, iss_w = 2.0, 8.0
    t = iss_mu * (iss_w - 4 - 1) / (iss_mu + 1)
    data = dict(zip(names, x.T))
    expected = chain_rule_evidence(x, nu, iss_mu, iss_w, t)
    assert bge_score(complete, data, iss_mu=iss_mu, iss_w=iss_w, nu=nu) == pytest.approx(expected, rel=1e-10)


def test_empty_dag_is_a_product_of_univariate_evidences():
    rng = np.random.default_rng(3)
    x = random_data(3, 30, rng)
    names = ["v0", "v1", "v2"]
    empty = gaussian_structure({n: [] for n in names})
    nu = np.zeros(3)
    iss_mu, iss_w = 1.0, 6.0
    t = iss_mu * (iss_w - 3 - 1) / (iss_mu + 1)
    local = bge_local_scores(empty, dict(zip(names, x.T)), iss_mu=iss_mu, iss_w=iss_w, nu=nu)
    for i, name in enumerate(names):
        # the marginal of one variable is Normal-Wishart with iss_w - n + 1 degrees of freedom
        expected = chain_rule_evidence(x[:, [i]], nu[[i]], iss_mu, iss_w - 3 + 1, t)
        assert local[name] == pytest.approx(expected, rel=1e-10)


def covered_edges(parents):
    """Edges a -> b with parents(b) = parents(a) + {a}: reversing one keeps the Markov equivalence class."""
    return [(a, b) for b, ps in parents.items() for a in ps if set(ps) - {a} == set(parents[a])]


@pytest.mark.parametrize("seed", range(6))
def test_markov_equivalent_dags_score_equally(seed):
    rng = np.random.default_rng(100 + seed)
    parents = random_dag(6, rng)
    while not covered_edges(parents):  # every DAG with an edge has a covered one, but the draw may have none
        parents = random_dag(6, rng)
    edges = covered_edges(parents)
    a, b = edges[int(rng.integers(len(edges)))]
    flipped = {node: list(ps) for node, ps in parents.items()}
    flipped[b].remove(a)
    flipped[a].append(b)
    data = dict(zip(parents, random_data(6, 200, rng).T))
    first, second = gaussian_structure(parents), gaussian_structure(flipped)
    assert first.is_i_equivalent(second)
    assert bge_score(first, data) == pytest.approx(bge_score(second, data), rel=1e-12)


def test_the_true_structure_wins_and_a_v_structure_is_not_equivalent():
    truth = pgm.BayesianNetwork({
        "a": pgm.Gaussian(0, 1), "b": pgm.LinearGaussian(parents=["a"], weights=[0.8], variance=0.5),
        "c": pgm.LinearGaussian(parents=["b"], weights=[-0.7], variance=0.5),
    })
    rows = truth.sample(2000, seed=0)
    chain = gaussian_structure({"a": [], "b": ["a"], "c": ["b"]})
    collider = gaussian_structure({"a": [], "c": [], "b": ["a", "c"]})
    assert bge_score(chain, rows) > bge_score(collider, rows) + 10


def test_discrete_scores_are_the_posterior_evidence():
    asia = pgm.load("asia")
    rows = asia.sample(500, seed=1)
    assert k2_score(asia, rows) == asia.parameter_posterior(rows, prior=pgm.Dirichlet(1)).log_marginal_likelihood()
    assert bdeu_score(asia, rows, equivalent_sample_size=5) == \
        asia.parameter_posterior(rows, prior=pgm.BDeu(5)).log_marginal_likelihood()


def test_bge_refuses_what_it_cannot_score():
    with pytest.raises(StructureError, match="'asia'"):
        bge_score(pgm.load("asia"), pgm.load("asia").sample(10, seed=0))
    net = gaussian_structure({"a": [], "b": ["a"]})
    with pytest.raises(ValueError, match="iss_w"):
        bge_score(net, {"a": [0.0, 1.0], "b": [1.0, 2.0]}, iss_w=0.5)
