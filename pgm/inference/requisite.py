"""Which part of the network each row's query needs, for all rows at once.

The posterior of a target given one row's hard evidence needs only the
target's *component*: the unobserved nodes connected to it in the moral
graph of the ancestors of the target and the observed nodes, once the
observed nodes are removed (the nodes d-connected to it given the
evidence).  The CPDs that enter are those of the *families touching* the
component (a node and its parents, one of them in the component); the
observed nodes in these families are the component's *boundary*.  Every
other factor of the joint involves neither the component's nodes nor the
target, so it scales p(target, evidence) by a constant of the row, which
normalising removes:

    p(target | e)  is proportional to  sum over the component of the product of the touching families' CPDs,

the boundary's observed states sliced in.  Rows with the same families and
boundary share one tree over the component and run stacked, each with its
own boundary states -- however different their other evidence.

What is dropped still decides whether p(e) is zero, which a query must
report.  The dropped factors' sum over their unobserved nodes is at least
the product of the smallest entries of the observed nodes' CPDs (the row's
observed states sliced in) times the sum of the unobserved nodes' CPDs,
which is one (each sums to one over its node's states, children first).  So
only an observed node's CPD with a zero among its sliced entries could make
p(e) zero; such a CPD joins the part, with the components of its unobserved
members, until none is left.  The part's sum is then zero exactly when p(e)
is.  Rows that observe a target keep the full single-case plan.

Everything is computed as boolean matrices (nodes x rows) multiplied by the
sparse family matrix, iterating only the rows that still grow: no loop over
rows.  Reference: Shachter, "Bayes-ball" (UAI 1998), for the requisite
observations; here the moral-graph form (Lauritzen et al., 1990).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["Requisite", "requisite_parts"]


@dataclass(frozen=True)
class Requisite:
    """The requisite part of every row's query.

    ``groups`` holds, per distinct (families, boundary) pair, the row
    indices sharing it, with ``families`` (the nodes whose CPDs enter: the
    families touching the component, and those joined for a possible zero,
    named by their child) and ``boundary`` (the observed nodes of those
    families) for each.  ``rest`` holds the row indices that keep the full
    plan (a target observed).
    """

    groups: tuple
    families: tuple
    boundary: tuple
    rest: np.ndarray


def _structure(network):
    """The network's parent and family matrices (CSR, row: child) and each CPD's positivity.

    Kept in the network's plan cache, which edits of the network empty.
    """
    from pgm.inference.cache import plan_cache

    cache = plan_cache(network)
    structure = cache.get(("requisite-structure",))
    if structure is not None:
        return structure
    nodes = list(network.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    rows, cols = [], []
    for n in nodes:
        for p in network[n].parents:
            rows.append(index[n])
            cols.append(index[p])
    n = len(nodes)
    parents = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, n))
    families = (parents + sp.identity(n, dtype=np.float32, format="csr")).tocsr()
    positive = np.array([bool(np.all(np.asarray(network[x].table) > 0)) for x in nodes])
    structure = (parents, families, positive)
    cache.put(("requisite-structure",), structure, 64 * (len(rows) + 2 * n) + 1024)
    return structure


def _grow(step, start: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """The fixed point of ``x | step(x) [& allowed]`` from ``start`` (nodes x rows), only rows still growing."""
    current = start.copy()
    active = np.arange(current.shape[1])
    while active.size:
        block = current[:, active]
        grown = block | (step(block, active) if allowed is None else step(block, active) & allowed[:, active])
        changed = (grown != block).any(axis=0)
        current[:, active] = grown
        active = active[changed]
    return current


def _surely_positive(network, node: str, evidence, rows: np.ndarray) -> np.ndarray:
    """Per row of ``rows``: whether the CPD of ``node``, its observed members sliced in, has no zero entry.

    A sufficient condition for the dropped factor not to make p(e) zero:
    vectorised over the rows sharing each subset of observed family members.
    """
    cpd = network[node]
    scope = list(cpd.parents) + [node]
    table = np.asarray(cpd.table)
    seen = np.stack([evidence.codes[m][rows] >= 0 if m in evidence.codes else np.zeros(rows.size, dtype=bool)
                     for m in scope])
    subset = np.packbits(seen, axis=0, bitorder="little")
    subset = subset.astype(np.int64).T @ (256 ** np.arange(subset.shape[0], dtype=np.int64))
    out = np.empty(rows.size, dtype=bool)
    for key in np.unique(subset):
        here = np.flatnonzero(subset == key)
        kept = [a for a in range(len(scope)) if seen[a, here[0]]]
        hidden = tuple(a for a in range(len(scope)) if a not in kept)
        smallest = table.min(axis=hidden) if hidden else table
        if not kept:
            out[here] = smallest > 0
            continue
        index = tuple(evidence.codes[scope[a]][rows[here]].astype(np.intp) for a in kept)
        out[here] = smallest[index] > 0
    return out


def requisite_parts(network, evidence, targets) -> Requisite:
    """Group the rows of ``evidence`` by the requisite part of their query for ``targets``.

    Parameters
    ----------
    network : BayesianNetwork
        A network of discrete nodes.
    evidence : Evidence
        Hard evidence, batched.
    targets : sequence of str
        The query's target nodes.

    Returns
    -------
    Requisite
        Row groups sharing a component and boundary, and the rows left to the full plan.

    Examples
    --------
    >>> import pandas as pd
    >>> import pgm
    >>> from pgm.inference.evidence import as_evidence
    >>> asia = pgm.load("asia")
    >>> rows = pd.DataFrame({"smoke": ["yes", "no", "yes"], "lung": ["yes", "no", None],
    ...                      "dysp": [None, None, "yes"]})
    >>> parts = requisite_parts(asia, as_evidence(asia, rows), ["bronc"])
    >>> [g.tolist() for g in parts.groups]
    [[0, 1], [2]]
    >>> parts.families[0], parts.boundary[0]
    (('bronc',), ('smoke',))
    >>> parts.families[1], parts.boundary[1]
    (('asia', 'tub', 'lung', 'bronc', 'either', 'dysp'), ('smoke', 'dysp'))
    """
    nodes = list(network.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    n_rows = evidence.n_rows
    parents, families, positive = _structure(network)
    observed = np.zeros((len(nodes), n_rows), dtype=bool)
    for node, codes in evidence.codes.items():
        observed[index[node]] = codes >= 0
    wanted = np.zeros((len(nodes), n_rows), dtype=bool)
    wanted[[index[t] for t in targets]] = True
    parents_t, families_t = parents.T.tocsr(), families.T.tocsr()

    def up(x, _):  # x's parents: (P^T x)[p] > 0 when p is a parent of some node of x
        return (parents_t @ x.astype(np.float32)) > 0

    relevant = _grow(up, wanted | observed)
    hidden = relevant & ~observed

    def touched(x, active):  # families (by child) holding a node of x, among the relevant nodes
        return ((families @ x.astype(np.float32)) > 0) & relevant[:, active]

    def across(x, active):  # every member of a touched family
        return (families_t @ touched(x, active).astype(np.float32)) > 0

    # The part grows from the targets.  A dropped factor that could be zero (p(e) might be zero through
    # it) joins the part, and its hidden members bring their components, until no such factor is left.
    excluded = (wanted & observed).any(axis=0)  # rows observing a target keep the full plan
    extra = np.zeros_like(relevant)             # families (by child) joined for their zeros
    seeds = wanted & hidden
    # Only an observed node's CPD can make p(e) zero (a hidden node's sums to one over its states); whether
    # its sliced table has a zero does not depend on the part, so it is found once for every row.
    suspect = relevant & observed & ~positive[:, None]
    suspect[:, excluded] = False
    for i in np.flatnonzero(suspect.any(axis=1)):
        rows = np.flatnonzero(suspect[i])
        suspect[i, rows] = ~_surely_positive(network, nodes[i], evidence, rows)
    while True:
        component = _grow(across, seeds, hidden)
        enter = touched(component, slice(None)) | extra
        joining = suspect & ~enter
        if not joining.any():
            break
        extra |= joining
        seeds |= ((families_t @ joining.astype(np.float32)) > 0) & hidden
    boundary = ((families_t @ enter.astype(np.float32)) > 0) & observed
    keep = np.flatnonzero(~excluded)
    rest = np.flatnonzero(excluded)
    if keep.size == 0:
        return Requisite((), (), (), rest)
    signature = np.packbits(np.concatenate([enter[:, keep], boundary[:, keep]], axis=0), axis=0).T
    _, first, inverse = np.unique(signature, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    rank = np.empty(len(first), dtype=np.intp)  # groups in order of their first row
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    labels = rank[inverse]
    order = np.argsort(labels, kind="stable")
    split = np.split(keep[order], np.flatnonzero(np.diff(labels[order])) + 1)
    firsts = [g[0] for g in split]
    names = np.array(nodes, dtype=object)
    return Requisite(
        tuple(split),
        tuple(tuple(names[enter[:, r]]) for r in firsts),
        tuple(tuple(names[boundary[:, r]]) for r in firsts),
        rest,
    )
