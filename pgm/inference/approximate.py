"""``method=`` for the approximate engines: loopy BP, IJGP and Gibbs answers in the exact engine's result types.

:func:`approximate_query` and :func:`approximate_posteriors` run
:mod:`pgm.inference.loopy_bp`, :mod:`pgm.inference.ijgp`,
:mod:`pgm.inference.gibbs` or :mod:`pgm.inference.importance` and package the
tables as exact inference does -- a :class:`~pgm.inference.DiscreteDistribution`
for one case, a DataFrame with one row per case for many -- flagged as
approximate:

- a ``DiscreteDistribution`` gets ``method`` (``"loopy_bp"``, ``"ijgp"``,
  ``"gibbs"`` or ``"importance"``), ``approximate`` (True), ``report`` (the
  convergence report) and, from the samplers, ``standard_errors``; its ``log_evidence`` is the
  Bethe estimate from loopy BP (exact on polytrees; per row in
  ``report.log_evidence``) and NaN from the others;
- a DataFrame carries the same in ``frame.attrs`` (``"method"``,
  ``"approximate"``, ``"report"``, and ``"standard_errors"``, a DataFrame
  of the same shape, from the samplers).

``method="auto"`` answers exactly when the exact plan fits the memory
budget, otherwise by iterative join-graph propagation (:mod:`pgm.inference.ijgp`),
and by loopy belief propagation if even the join graph's clusters do not
fit; ``choice`` (an attribute, or ``frame.attrs["choice"]``) says which and why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pgm.errors import InferenceTooLarge
from pgm.inference.engine import DEFAULT_MEMORY_BUDGET
from pgm.inference.evidence import Evidence, as_evidence
from pgm.inference.results import DiscreteDistribution

__all__ = ["APPROXIMATE_METHODS", "approximate_query", "approximate_posteriors", "choose_method", "dispatch"]

APPROXIMATE_METHODS = ("loopy_bp", "ijgp", "gibbs", "importance")

_OPTIONS = {"loopy_bp": ("damping", "max_iter", "tol"), "ijgp": ("cluster_entries", "exact_entries", "damping", "max_iter", "tol"),
            "gibbs": ("n_chains", "burn_in", "thin", "blocked", "block_entries"), "importance": ("n_chains", "defensive")}


#: The smallest cluster cap ``method="auto"`` tries before it settles for loopy belief propagation.
_SMALLEST_CAP = 64


def budget_bytes(memory_budget) -> int:
    """The memory budget in bytes: ``DEFAULT_MEMORY_BUDGET`` for None, else a positive integer."""
    if memory_budget is None:
        return DEFAULT_MEMORY_BUDGET
    if isinstance(memory_budget, bool) or not isinstance(memory_budget, (int, np.integer)) or memory_budget <= 0:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")
    return int(memory_budget)


def _check_options(method: str, options: dict) -> None:
    allowed = _OPTIONS.get(method, ())
    unknown = [k for k in options if k not in allowed]
    if unknown:
        takes = f"takes the options {', '.join(allowed)}" if allowed else "takes no further options"
        raise TypeError(f"method={method!r} got the unknown option {unknown[0]!r}; it {takes}")


def _index(ev: Evidence) -> pd.Index:
    return ev.index if ev.index is not None else pd.RangeIndex(ev.n_rows)


def _flag(result, method: str, report=None, choice: str | None = None, errors=None):
    """Mark ``result`` with how it was computed (attributes, or ``attrs`` on a DataFrame)."""
    if isinstance(result, pd.DataFrame):
        result.attrs.update(method=method, approximate=method in APPROXIMATE_METHODS, report=report, choice=choice)
        if errors is not None:
            result.attrs["standard_errors"] = errors
        return result
    try:
        result.method, result.report, result.choice = method, report, choice
    except AttributeError:  # a result type with fixed attributes: the answer is still right, only unflagged
        pass
    return result


def _package(network, names, ev: Evidence, table, errors, method, report):
    """One table (*cards, n_rows) as the exact path returns it: a distribution, or a frame of rows."""
    states = {t: network.states(t) for t in names}
    if not ev.batched:
        log_ev = getattr(report, "log_evidence", None)
        result = DiscreteDistribution(names, states, table[..., 0],
                                      log_evidence=np.nan if log_ev is None else float(log_ev[0]),
                                      standard_errors=None if errors is None else errors[..., 0])
        return _flag(result, method, report)
    if len(names) == 1:
        columns = pd.Index(states[names[0]], name=names[0])
    else:
        columns = pd.MultiIndex.from_product([states[t] for t in names], names=list(names))
    frame = pd.DataFrame(table.reshape(-1, ev.n_rows).T, index=_index(ev), columns=columns)
    se = None if errors is None else pd.DataFrame(errors.reshape(-1, ev.n_rows).T, index=frame.index,
                                                  columns=columns)
    return _flag(frame, method, report, errors=se)


def _propagation(method: str):
    """The message-passing engine of ``method``: loopy BP on the factor graph, or IJGP on a join graph."""
    if method == "loopy_bp":
        from pgm.inference.loopy_bp import loopy_belief_propagation

        return loopy_belief_propagation
    from pgm.inference.ijgp import iterative_join_graph_propagation

    return iterative_join_graph_propagation


def _sampling(method: str):
    """The sampler of ``method``: Gibbs sampling, or importance sampling with a loopy-BP proposal."""
    if method == "gibbs":
        from pgm.inference.gibbs import gibbs_sampling

        return gibbs_sampling
    from pgm.inference.importance import importance_sampling

    return importance_sampling


def approximate_query(network, names, evidence, *, method: str, n_samples: int, seed, memory_budget, options: dict):
    """The posterior of ``names`` by ``method`` (``"loopy_bp"`` or ``"gibbs"``), packaged as exact answers are."""
    _check_options(method, options)
    ev = evidence if isinstance(evidence, Evidence) else as_evidence(network, evidence)
    if method in ("loopy_bp", "ijgp"):
        if len(names) > 1:
            what = "loopy belief propagation" if method == "loopy_bp" else "join-graph propagation"
            raise ValueError(
                f"{what} estimates one node's marginal at a time, not the joint of {list(names)}; "
                "query them one by one, or use method='gibbs' for a joint table"
            )
        marginals, report = _propagation(method)(network, ev, targets=names, memory_budget=memory_budget,
                                                 **options)
        return _package(network, names, ev, marginals[names[0]], None, method, report)
    estimates, errors, report = _sampling(method)(network, ev, [names], n_samples=n_samples, seed=seed,
                                                  memory_budget=memory_budget, **options)
    return _package(network, names, ev, estimates[names], errors[names], method, report)


def approximate_posteriors(network, evidence, *, method: str, n_samples: int, seed, memory_budget, options: dict):
    """Every node's posterior marginal by ``method``; as :func:`pgm.inference.api.posteriors` returns them."""
    _check_options(method, options)
    ev = evidence if isinstance(evidence, Evidence) else as_evidence(network, evidence)
    hard = {} if ev.batched else ev.hard_assignment(network)
    wanted = [n for n in network.nodes if n not in hard]
    if method in ("loopy_bp", "ijgp"):
        tables, report = _propagation(method)(network, ev, memory_budget=memory_budget, **options)
        errors = {}
    else:
        estimates, se, report = _sampling(method)(network, ev, [(n,) for n in wanted], n_samples=n_samples,
                                                  seed=seed, memory_budget=memory_budget, **options)
        tables = {n: estimates[(n,)] for n in wanted}
        errors = {n: se[(n,)] for n in wanted}
    return {n: _package(network, (n,), ev, tables[n], errors.get(n), method, report) for n in wanted}


def dispatch(network, targets, evidence, *, method: str, n_samples: int, seed, memory_budget, options: dict,
             exact):
    """Answer ``query`` (``targets``: a tuple) or ``posteriors`` (``targets`` None) by ``method``.

    ``method`` is ``"loopy_bp"``, ``"ijgp"``, ``"gibbs"`` or ``"auto"``;
    ``exact()`` is the exact path's answer, called when ``"auto"`` chooses it.
    """
    def approximate(name: str, chosen_options=options):
        common = dict(method=name, n_samples=n_samples, seed=seed, memory_budget=memory_budget,
                      options=chosen_options)
        if targets is None:
            return approximate_posteriors(network, evidence, **common)
        return approximate_query(network, targets, evidence, **common)

    if method != "auto":
        return approximate(method)
    _check_options("ijgp", options)
    loopy_options = {k: v for k, v in options.items() if k not in ("cluster_entries", "exact_entries")}

    def join_graph():
        # the default cap, then smaller ones (a quarter each time) until the cluster tables fit the budget
        from pgm.inference.ijgp import DEFAULT_CLUSTER_ENTRIES

        cap = options.get("cluster_entries", DEFAULT_CLUSTER_ENTRIES)
        while True:
            try:
                return approximate("ijgp", {**options, "cluster_entries": cap})
            except InferenceTooLarge:
                if cap <= _SMALLEST_CAP or "cluster_entries" in options:
                    raise
                cap = max(_SMALLEST_CAP, cap // 4)

    return auto(network, targets, evidence, memory_budget, exact, join_graph,
                lambda: approximate("loopy_bp", loopy_options))


def choose_method(network, targets, evidence, memory_budget) -> tuple[str, str]:
    """``("exact" or "ijgp", why)``: exact when its plan's tables and one row's work fit the budget.

    The plan is :meth:`pgm.BayesianNetwork.inference_plan`'s, compiled
    without allocating any table.  Networks with continuous nodes always get
    exact inference, the only engine here that handles them.  Otherwise the
    answer is approximate: join-graph propagation, which :func:`auto` replaces
    by loopy belief propagation if even its clusters do not fit the budget.

    Examples
    --------
    >>> import pgm
    >>> from pgm.inference.approximate import choose_method
    >>> choose_method(pgm.load("alarm"), ["HR"], {"BP": "LOW"}, 5_000)[0]
    'ijgp'
    """
    from pgm.inference.api import inference_plan
    from pgm.inference.junction_tree import format_bytes

    budget = budget_bytes(memory_budget)
    if any(not network[n].is_discrete for n in network.nodes):
        return "exact", "the network has continuous nodes, which only exact inference handles"
    try:
        plan = inference_plan(network, targets, evidence, memory_budget=memory_budget)
    except InferenceTooLarge as error:
        return "ijgp", f"exact inference was refused while planning ({error})"
    need = 8 * plan.total_table_entries + plan.bytes_per_row
    if need <= budget:
        return "exact", (f"the exact plan needs about {format_bytes(need)} (tables and one row), within the "
                         f"memory budget of {format_bytes(budget)}")
    return "ijgp", (f"the exact plan needs about {format_bytes(need)} (tables and one row), above the memory "
                    f"budget of {format_bytes(budget)}")


def auto(network, targets, evidence, memory_budget, exact, join_graph, loopy):
    """Run ``exact()`` when :func:`choose_method` says so (falling back if it is refused), else ``join_graph()``.

    Join-graph propagation is refused when its cluster tables do not fit the
    budget; ``loopy()`` (belief propagation on the CPDs alone) answers then.
    """
    method, why = choose_method(network, targets, evidence, memory_budget)
    if method == "exact":
        try:
            result = exact()
        except InferenceTooLarge as error:
            if any(not network[n].is_discrete for n in network.nodes):
                raise
            why = f"exact inference was refused ({error})"
        else:
            return _flag_all(result, "exact", why)
    try:
        return _flag_all(join_graph(), "ijgp", why)
    except InferenceTooLarge as error:
        return _flag_all(loopy(), "loopy_bp", f"{why}; join-graph propagation was refused too ({error})")


def _flag_all(result, method: str, why: str):
    if isinstance(result, dict):
        for value in result.values():
            _flag(value, method, getattr(value, "report", None) if not isinstance(value, pd.DataFrame)
                  else value.attrs.get("report"), why)
        return result
    report = result.attrs.get("report") if isinstance(result, pd.DataFrame) else getattr(result, "report", None)
    return _flag(result, method, report, why)
