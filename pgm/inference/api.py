"""The questions users ask a network, answered by exact inference (see :mod:`pgm.inference.engine`).

Each function takes evidence for one case (a dict) or for many (a DataFrame,
one case per row) and answers in kind: one distribution, or one row of
results per case.  :class:`pgm.BayesianNetwork` exposes them as methods.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from pgm.errors import StructureError
from pgm.inference.engine import (
    _raise_impossible,
    _run,
    _targets,
    discrete_marginals,
    key_labels,
    log_evidence as _log_evidence,
    mixture_moments,
    prepare,
)
from pgm.inference.evidence import Evidence, as_evidence
from pgm.inference.gaussian import MultivariateNormal
from pgm.inference.gaussian_elimination import dense_moments
from pgm.inference.results import MPE, DiscreteDistribution, GaussianMixture

__all__ = ["query", "posteriors", "predict", "impute", "mpe", "log_evidence", "inference_plan"]


def _index(evidence: Evidence) -> pd.Index:
    return evidence.index if evidence.index is not None else pd.RangeIndex(evidence.n_rows)


def _is_hybrid(network) -> bool:
    return any(
        not network[n].is_discrete and any(network[p].is_discrete for p in network[n].parents) for n in network.nodes
    )


# ---------------------------------------------------------------------------- query
def query(network, targets, evidence=None, *, method="exact", n_samples=100_000, seed=None, memory_budget=None):
    """The posterior of ``targets`` given ``evidence``; see :meth:`pgm.BayesianNetwork.query`."""
    names, single = _targets(network, targets)
    if method == "likelihood_weighting":
        from pgm.inference.likelihood_weighting import likelihood_weighting

        return likelihood_weighting(network, names, evidence, n_samples=n_samples, seed=seed)
    if method == "variable_elimination":
        from pgm.inference.elimination import variable_elimination

        return variable_elimination(network, names, evidence, memory_budget=memory_budget)
    if method != "exact":
        raise ValueError(
            f"method must be 'exact', 'variable_elimination' or 'likelihood_weighting', got {method!r}"
        )
    return _exact_query(network, names, as_evidence(network, evidence), memory_budget)


def _exact_query(network, names, ev: Evidence, memory_budget):
    from pgm.inference.restricted import condition_on_observed_parents, softmax_given_parents

    # a softmax of continuous parents, all observed: exact from the CPD (the tree cannot hold it)
    answer = softmax_given_parents(network, names, ev, memory_budget, index=ev.index)
    if answer is not None:
        return answer
    network = condition_on_observed_parents(network, ev) or network  # one case: softmax factors as tables
    discrete = [network[t].is_discrete for t in names]
    if all(discrete):
        return _discrete_query(network, names, ev, memory_budget)
    if not any(discrete):
        return _continuous_query(network, names, ev, memory_budget)
    raise ValueError(
        f"the targets {list(names)} mix discrete and continuous nodes; query them separately "
        "(or use posteriors() for every marginal)"
    )


def _discrete_query(network, names, ev: Evidence, memory_budget):
    problem = prepare(network, ev, targets=names, joint=names if len(names) > 1 else (), root=names,
                      memory_budget=memory_budget)
    tables, log_ev, _ = discrete_marginals(problem, ev, [names], calibrate=False)
    _raise_impossible(ev, log_ev)
    table = tables[names]
    states = {t: network.states(t) for t in names}
    if not ev.batched:
        return DiscreteDistribution(names, states, table[..., 0], log_evidence=log_ev[0])
    flat = table.reshape(-1, ev.n_rows).T
    if len(names) == 1:
        columns = pd.Index(states[names[0]], name=names[0])
    else:
        columns = pd.MultiIndex.from_product([states[t] for t in names], names=list(names))
    return pd.DataFrame(flat, index=_index(ev), columns=columns)


def _continuous_query(network, names, ev: Evidence, memory_budget):
    problem = prepare(network, ev, targets=names, root="keys", memory_budget=memory_budget)
    _, log_ev, gaussian = discrete_marginals(problem, ev, [], calibrate=False)
    _raise_impossible(ev, log_ev)
    if ev.batched:
        if len(names) == 1:
            mean, variance = mixture_moments(problem, gaussian, names[0])
            return pd.DataFrame({"mean": mean, "std": np.sqrt(variance)}, index=_index(ev))
        frames = {}
        for name in names:
            mean, variance = mixture_moments(problem, gaussian, name)
            frames[(name, "mean")], frames[(name, "std")] = mean, np.sqrt(variance)
        return pd.DataFrame(frames, index=_index(ev))
    weights = gaussian["weights"][:, 0]
    means, covariances = _single_case_moments(problem, ev, names, gaussian)
    if not _is_hybrid(network):
        return MultivariateNormal(names, means[0], covariances[0])
    return GaussianMixture(names, weights, means, covariances, labels=key_labels(problem))


def _single_case_moments(problem, ev: Evidence, names, gaussian):
    """Per key configuration: the posterior mean and covariance of the continuous ``names`` for one case."""
    g = problem.gauss
    positions = [g.index[n] for n in names]
    if len(names) == 1:
        i = positions[0]
        means = gaussian["mean"][i, :, 0][:, None]
        covariances = gaussian["cov"][i, :, 0][:, None, None]
        return means, covariances
    values = np.full((len(g.nodes), 1), np.nan)
    for i, node in enumerate(g.nodes):
        if node in ev.values:
            values[i] = ev.values[node]
    offsets = g._row_offsets(values, ev.describe_row)
    observed = [i for i in range(len(g.nodes)) if not np.isnan(values[i, 0])]
    hidden = [i for i in range(len(g.nodes)) if np.isnan(values[i, 0])]
    means, covariances = [], []
    for config in range(g.n_configurations):
        mean, cov = dense_moments(g, config, None if offsets is None else offsets[:, config, 0])
        post_mean, post_cov = np.array(values[:, 0]), np.zeros((len(g.nodes), len(g.nodes)))
        if hidden:
            mvn = MultivariateNormal([g.nodes[i] for i in range(len(g.nodes))], mean, (cov + cov.T) / 2)
            conditioned = mvn.condition({g.nodes[i]: values[i, 0] for i in observed}) if observed else mvn
            post_mean[hidden] = conditioned.mean
            post_cov[np.ix_(hidden, hidden)] = conditioned.covariance
        means.append(post_mean[positions])
        covariances.append(post_cov[np.ix_(positions, positions)])
    return np.array(means), np.array(covariances)


# ---------------------------------------------------------------------------- all marginals
def posteriors(network, evidence=None, *, memory_budget=None) -> dict:
    """Every node's posterior marginal from one calibration; see :meth:`pgm.BayesianNetwork.posteriors`."""
    from pgm.inference.restricted import condition_on_observed_parents

    ev = as_evidence(network, evidence)
    network = condition_on_observed_parents(network, ev) or network  # one case: softmax factors as tables
    problem = prepare(network, ev, targets=None, memory_budget=memory_budget)
    if ev.batched:
        wanted = list(network.nodes)
    else:
        hard = ev.hard_assignment(network)
        wanted = [n for n in network.nodes if n not in hard]
    groups = [(n,) for n in wanted if network[n].is_discrete]
    tables, log_ev, gaussian = discrete_marginals(problem, ev, groups, calibrate=True)
    _raise_impossible(ev, log_ev)
    hybrid = _is_hybrid(network)
    labels = key_labels(problem) if problem.gauss is not None else None
    out = {}
    for node in wanted:
        if network[node].is_discrete:
            table = tables[(node,)]
            if ev.batched:
                out[node] = pd.DataFrame(table.T, index=_index(ev), columns=pd.Index(network.states(node), name=node))
            else:
                out[node] = DiscreteDistribution((node,), {node: network.states(node)}, table[:, 0],
                                                 log_evidence=log_ev[0])
        elif ev.batched:
            mean, variance = mixture_moments(problem, gaussian, node)
            out[node] = pd.DataFrame({"mean": mean, "std": np.sqrt(variance)}, index=_index(ev))
        else:
            i = problem.gauss.index[node]
            means = gaussian["mean"][i, :, 0][:, None]
            covariances = gaussian["cov"][i, :, 0][:, None, None]
            if hybrid:
                out[node] = GaussianMixture((node,), gaussian["weights"][:, 0], means, covariances, labels=labels)
            else:
                out[node] = MultivariateNormal((node,), means[0], covariances[0])
    return out


# ---------------------------------------------------------------------------- per-row answers
def predict(network, data, target, *, memory_budget=None):
    """Most probable state (discrete) or posterior mean (continuous) of ``target`` for every row."""
    if not isinstance(target, str):
        return pd.DataFrame({t: predict(network, data, t, memory_budget=memory_budget) for t in target})
    ev = as_evidence(network, data)
    if not ev.batched:
        raise TypeError("predict() takes many cases (a DataFrame or a dict of columns); for one case use query()")
    names, _ = _targets(network, target)
    result = _exact_query(network, names, ev, memory_budget)
    if network[target].is_discrete:
        states = network.states(target)
        codes = np.argmax(result.to_numpy(), axis=1)
        values = pd.Categorical.from_codes(codes, categories=list(states))
        return pd.Series(values, index=result.index, name=target)
    return pd.Series(result["mean"].to_numpy(), index=result.index, name=target)


def impute(network, data, *, memory_budget=None) -> pd.DataFrame:
    """A copy of ``data`` with every missing value filled; see :meth:`pgm.BayesianNetwork.impute`."""
    ev = as_evidence(network, data)
    if not ev.batched:
        raise TypeError("impute() takes many cases (a DataFrame or a dict of columns)")
    frame = data.copy() if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    marginals = posteriors(network, data, memory_budget=memory_budget)
    for node in network.nodes:
        post = marginals[node]
        if network[node].is_discrete:
            states = list(network.states(node))
            codes = ev.codes.get(node)
            best = np.argmax(post.to_numpy(), axis=1)
            filled = best if codes is None else np.where(codes >= 0, codes, best)
            frame[node] = pd.Categorical.from_codes(filled, categories=states)
        else:
            values = ev.values.get(node)
            mean = post["mean"].to_numpy()
            frame[node] = mean if values is None else np.where(np.isnan(values), mean, values)
    return frame


# ---------------------------------------------------------------------------- MPE and p(e)
def mpe(network, evidence=None, *, memory_budget=None) -> MPE:
    """The most probable joint state of the unobserved discrete nodes; see :meth:`pgm.BayesianNetwork.mpe`."""
    if not any(network[n].is_discrete for n in network.nodes):
        raise StructureError(
            "the most probable explanation is over discrete nodes, and this network has none; the posterior "
            "mean from query() is the most probable value of a Gaussian"
        )
    from pgm.inference.restricted import condition_on_observed_parents

    ev = as_evidence(network, evidence)
    network = condition_on_observed_parents(network, ev) or network  # one case: softmax factors as tables
    problem = prepare(network, ev, targets=None, memory_budget=memory_budget)
    n_rows = ev.n_rows
    discrete = [n for n in network.nodes if network[n].is_discrete]
    codes = {n: np.empty(n_rows, dtype=np.int64) for n in discrete}
    log_max = np.empty(n_rows)
    log_ev = np.empty(n_rows)

    def work(rows, inputs):
        n = inputs.log_offset.shape[0]
        total = inputs.log_offset.copy()
        evidence_total = inputs.log_offset.copy()
        tree = problem.tree
        if tree is not None:
            assignment, best = tree.max_product(problem.base, inputs.row_factors, n)
            total += best
            beliefs, _, log_scale = tree.collect(problem.base, inputs.row_factors, n)
            evidence_total += tree.log_partition(beliefs, log_scale, n)
            for node, i in problem.id_of.items():
                codes[node][rows] = assignment[i]
        for node, code in problem.constant.items():
            codes[node][rows] = code
        for node in problem.gathered:
            codes[node][rows] = ev.codes[node][rows]
        log_max[rows] = total
        log_ev[rows] = evidence_total

    _run(problem, ev, work)
    _raise_impossible(ev, log_ev)
    if not ev.batched:
        assignment = {n: network.states(n)[int(codes[n][0])] for n in discrete}
        return MPE(assignment, float(log_max[0]), float(log_ev[0]))
    frame = pd.DataFrame(
        {n: pd.Categorical.from_codes(codes[n], categories=list(network.states(n))) for n in discrete},
        index=_index(ev),
    )
    return MPE(frame, log_max, log_ev)


def log_evidence(network, evidence, *, memory_budget=None):
    """log p(evidence): a float for one case, an array for many."""
    from pgm.inference.restricted import condition_on_observed_parents

    ev = as_evidence(network, evidence)
    network = condition_on_observed_parents(network, ev) or network  # one case: softmax factors as tables
    out = _log_evidence(network, ev, memory_budget=memory_budget)
    return float(out[0]) if not ev.batched else out


def inference_plan(network, targets=None, evidence=None, *, memory_budget=None):
    """The plan exact inference would follow; see :meth:`pgm.BayesianNetwork.inference_plan`."""
    ev = as_evidence(network, evidence)
    if targets is None:
        problem = prepare(network, ev, targets=None, memory_budget=memory_budget, plan_only=True)
    else:
        names, _ = _targets(network, targets)
        problem = prepare(network, ev, targets=names, joint=names if len(names) > 1 else (), root=names,
                          memory_budget=memory_budget, plan_only=True)
    plan = problem.plan()
    # restricted CPDs (softmax, noisy-OR) enter exact inference as their equivalent tables: say which
    kept = set(problem.variables) | set(problem.constant) | set(problem.gathered)
    expanded = tuple(n for n in network.nodes if n in kept and getattr(network[n], "expands_to_table", False))
    return dataclasses.replace(plan, expanded=expanded) if expanded else plan
