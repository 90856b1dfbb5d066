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
from pgm.inference.cache import plan_cache
from pgm.inference.engine import (
    _budget,
    _raise_impossible,
    _targets,
    block_labels,
    discrete_answers,
    discrete_marginals,
    key_labels,
    log_evidence as _log_evidence,
    mixture_moments,
    most_probable_codes,
    prepare,
    relevance_groups,
)
from pgm.inference.evidence import Evidence, as_evidence
from pgm.inference.gaussian import MultivariateNormal
from pgm.inference.gaussian_elimination import dense_posterior
from pgm.inference.results import MPE, DiscreteDistribution, GaussianMixture
from pgm.inference.strategy import choose_rows

__all__ = ["query", "posteriors", "predict", "impute", "mpe", "log_evidence", "inference_plan"]


def _index(evidence: Evidence) -> pd.Index:
    return evidence.index if evidence.index is not None else pd.RangeIndex(evidence.n_rows)


def _is_hybrid(network) -> bool:
    return any(
        not network[n].is_discrete and any(network[p].is_discrete for p in network[n].parents) for n in network.nodes
    )


# ---------------------------------------------------------------------------- query
def query(network, targets, evidence=None, *, method="exact", n_samples=100_000, seed=None, memory_budget=None,
          **options):
    """The posterior of ``targets`` given ``evidence``; see :meth:`pgm.BayesianNetwork.query`."""
    names, single = _targets(network, targets)
    if method in ("loopy_bp", "ijgp", "gibbs", "importance", "auto"):  # approximate engines: pgm.inference.approximate
        from pgm.inference.approximate import dispatch

        return dispatch(network, names, evidence, method=method, n_samples=n_samples, seed=seed,
                        memory_budget=memory_budget, options=options,
                        exact=lambda: _exact_query(network, names, as_evidence(network, evidence), memory_budget))
    if options:
        raise TypeError(f"method={method!r} got the unknown option {next(iter(options))!r}")
    if method == "likelihood_weighting":
        from pgm.inference.likelihood_weighting import likelihood_weighting

        return likelihood_weighting(network, names, evidence, n_samples=n_samples, seed=seed)
    if method == "variable_elimination":
        from pgm.inference.elimination import variable_elimination

        return variable_elimination(network, names, evidence, memory_budget=memory_budget)
    if method != "exact":
        raise ValueError(
            "method must be 'exact', 'variable_elimination', 'likelihood_weighting', 'loopy_bp', 'ijgp', 'gibbs', 'importance' or "
            f"'auto', got {method!r}"
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
    tables, log_ev, _ = discrete_answers(network, ev, [names], targets=names, joint=names if len(names) > 1 else (),
                                         root=names, memory_budget=memory_budget, calibrate=False,
                                         evidence_needed=not ev.batched)
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
    blocks = sorted({problem.gauss.block_of[n] for n in names})
    union = tuple(k for k in problem.keys if any(k in problem.gauss.blocks[b].keys for b in blocks))
    # targets in several Gaussian blocks: their mixture is over the joint posterior of all those blocks' keys
    groups = [union] if len(blocks) > 1 and union and not ev.batched else []
    tables, log_ev, gaussian = discrete_marginals(problem, ev, groups, calibrate=False)
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
    if len(blocks) == 1:
        b = blocks[0]
        weights = gaussian[b]["weights"][:, 0]
        means, covariances, deviations = _single_case_moments(problem.gauss.blocks[b], ev, names, gaussian[b])
        labels = block_labels(problem, b)
    else:
        weights, means, covariances, deviations, labels = _joint_over_blocks(problem, ev, names, blocks, union,
                                                                             tables, gaussian)
    if not _is_hybrid(network):
        return MultivariateNormal(names, means[0], covariances[0])
    return GaussianMixture(names, weights, means, covariances, labels=labels, deviations=deviations)


def _joint_over_blocks(problem, ev: Evidence, names, blocks, union, tables, gaussian):
    """One case's mixture for targets in several Gaussian blocks, independent given the union of their keys."""
    network = problem.network
    cards = [len(network.states(k)) for k in union]
    n_union = int(np.prod(cards, dtype=np.int64)) if union else 1
    weights = tables[union].reshape(-1) if union else np.ones(1)
    codes = dict(zip(union, np.unravel_index(np.arange(n_union), cards))) if union else {}
    means = np.zeros((n_union, len(names)))
    deviations = np.zeros((n_union, len(names)))
    covariances = np.zeros((n_union, len(names), len(names)))
    for b in blocks:
        block = problem.gauss.blocks[b]
        inside = [i for i, n in enumerate(names) if n in block.index]
        block_means, block_covariances, block_deviations = _single_case_moments(
            block, ev, [names[i] for i in inside], gaussian[b])
        if block.keys:
            config = np.ravel_multi_index([codes[k] for k in block.keys], [len(network.states(k)) for k in block.keys])
        else:
            config = np.zeros(n_union, dtype=np.intp)
        means[:, inside] = block_means[config]
        deviations[:, inside] = block_deviations[config] - block_deviations[config[0]]
        covariances[:, np.array(inside)[:, None], np.array(inside)[None, :]] = block_covariances[config]
    fixed = {k: c for k, c in problem.fixed_keys.items()
             if any(k in network[n].discrete_parents for b in blocks for n in problem.gauss.blocks[b].nodes)}
    return weights, means, covariances, deviations, key_labels(problem, union, fixed)


def _single_case_moments(g, ev: Evidence, names, gaussian):
    """Per key configuration of block ``g``: the posterior mean and covariance of its continuous ``names``.

    Also each configuration's mean minus the first's, kept precise far from
    zero (see :class:`~pgm.inference.results.GaussianMixture`).
    """
    positions = [g.index[n] for n in names]
    if len(names) == 1:
        i = positions[0]
        means = gaussian["mean"][i, :, 0][:, None]
        covariances = gaussian["cov"][i, :, 0][:, None, None]
        return means, covariances, gaussian["deviation"][i, :, 0][:, None]
    values = np.full((len(g.nodes), 1), np.nan)
    for i, node in enumerate(g.nodes):
        if node in ev.values:
            values[i] = ev.values[node]
    external = {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in ev.values.items()}
    offsets = g._row_offsets(values, ev.describe_row, external)
    means, covariances, priors, centred = [], [], [], []
    for config in range(g.n_configurations):
        # the square-root form's least squares (dense conditioning cancels for peaked children)
        mean, shift, post_cov = dense_posterior(g, config, values[:, 0], None if offsets is None else offsets[:, config, 0])
        post_mean = np.where(np.isnan(values[:, 0]), mean + shift, values[:, 0])
        means.append(post_mean[positions])
        covariances.append(post_cov[np.ix_(positions, positions)])
        priors.append(np.where(np.isnan(values[:, 0]), mean, 0.0)[positions])
        centred.append(shift[positions])
    priors, centred = np.array(priors), np.array(centred)
    deviations = (priors - priors[:1]) + (centred - centred[:1])
    return np.array(means), np.array(covariances), deviations


# ---------------------------------------------------------------------------- all marginals
def posteriors(network, evidence=None, *, memory_budget=None, method="exact", n_samples=100_000, seed=None,
               **options) -> dict:
    """Every node's posterior marginal, by the trees of relevant parts; see :meth:`pgm.BayesianNetwork.posteriors`."""
    if method in ("loopy_bp", "ijgp", "gibbs", "importance", "auto"):  # approximate engines: pgm.inference.approximate
        from pgm.inference.approximate import dispatch

        return dispatch(network, None, evidence, method=method, n_samples=n_samples, seed=seed,
                        memory_budget=memory_budget, options=options,
                        exact=lambda: posteriors(network, evidence, memory_budget=memory_budget))
    if method != "exact":
        raise ValueError(f"posteriors() takes method='exact', 'loopy_bp', 'ijgp', 'gibbs', 'importance' or 'auto', got {method!r}")
    if options:
        raise TypeError(f"method='exact' got the unknown option {next(iter(options))!r}")
    from pgm.inference.restricted import condition_on_observed_parents

    ev = as_evidence(network, evidence)
    network = condition_on_observed_parents(network, ev) or network  # one case: softmax factors as tables
    if ev.batched:
        wanted = list(network.nodes)
    else:
        hard = ev.hard_assignment(network)
        wanted = [n for n in network.nodes if n not in hard]
    groups = [(n,) for n in wanted if network[n].is_discrete]
    if len(groups) == len(wanted):  # discrete targets: by relevance, and rows by the cheapest plan
        problem, gaussian = None, None
        tables, log_ev, _ = discrete_answers(network, ev, groups, targets=None, memory_budget=memory_budget,
                                             calibrate=True, by_relevance=True)
    else:
        problem = prepare(network, ev, targets=None, memory_budget=memory_budget)
        tables, log_ev, gaussian = discrete_marginals(problem, ev, groups, calibrate=True)
    _raise_impossible(ev, log_ev)
    hybrid = _is_hybrid(network)
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
            b, block = problem.gauss.block(node)
            i = block.index[node]
            means = gaussian[b]["mean"][i, :, 0][:, None]
            covariances = gaussian[b]["cov"][i, :, 0][:, None, None]
            if hybrid:
                out[node] = GaussianMixture((node,), gaussian[b]["weights"][:, 0], means, covariances,
                                            labels=block_labels(problem, b),
                                            deviations=gaussian[b]["deviation"][i, :, 0][:, None])
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
    discrete = [n for n in network.nodes if network[n].is_discrete]
    codes, log_max, log_ev = most_probable_codes(network, ev, memory_budget=memory_budget)
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
    names = None if targets is None else _targets(network, targets)[0]
    joint = names if names is not None and len(names) > 1 else ()

    def plan(sub, plan_only=True, estimate=False, families=None):
        return prepare(network, sub, targets=names, joint=joint, root=names, memory_budget=memory_budget,
                       plan_only=plan_only, estimate=estimate, families=families)

    # a batched query needs p(e) only to flag impossible rows: its rows may go by requisite part
    strategy = choose_rows(network, ev, plan, _budget(memory_budget), targets=names if ev.batched else None)
    parts = [names]
    if names is None and all(network[n].is_discrete for n in network.nodes):
        parts = relevance_groups(network, ev, network.nodes, memory_budget)
    if len(parts) > 1:
        problems = [prepare(network, ev, targets=part, memory_budget=memory_budget, plan_only=True) for part in parts]
    else:
        problems = [plan(ev)]
    largest = max(problems, key=lambda p: p.tree.total_table_entries if p.tree else 0)
    cache = plan_cache(network)
    # restricted CPDs (softmax, noisy-OR) enter exact inference as their equivalent tables: say which
    kept = set().union(*(set(p.variables) | set(p.constant) | set(p.gathered) for p in problems))
    expanded = tuple(n for n in network.nodes if n in kept and getattr(network[n], "expands_to_table", False))
    return dataclasses.replace(
        largest.plan(),
        total_table_entries=sum(p.tree.total_table_entries for p in problems if p.tree),
        trees=len(problems), strategy=strategy.kind, patterns=strategy.n_patterns,
        cache_plans=len(cache), cache_bytes=cache.nbytes, cache_limit_bytes=cache.max_bytes, expanded=expanded,
    )
