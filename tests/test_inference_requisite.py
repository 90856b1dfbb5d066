"""Batched queries answered by the requisite part of each row, and the plan cache's scan.

- Rows grouped by their query's requisite part (the target's component given
  the row's evidence, and its boundary) give the posteriors of brute-force
  enumeration of the joint, on random networks with and without zero CPD
  entries, and the single-case path on alarm, to 1e-12.
- Rows whose dropped factors could make p(e) zero keep the full plan: an
  impossible row is refused batched as it is one case at a time.
- Within a scan the cache keeps a batch's first plans, so a repeated batch
  that overflows the cache finds some of them.
"""

import math

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.errors import ImpossibleEvidenceError
from pgm.inference import strategy
from pgm.inference.cache import PlanCache, plan_cache
from pgm.inference.evidence import as_evidence
from pgm.inference.requisite import requisite_parts
from test_inference_relevance import enumerate_row, joint_table, masked_sample, rows_of


def random_network(seed: int, zeros: bool) -> pgm.BayesianNetwork:
    """3-8 nodes, up to 3 parents; with ``zeros``, about a quarter of the CPT entries are zero."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    cards = [int(c) for c in rng.integers(2, 4, size=n)]
    cpds = {}
    for i in range(n):
        k = int(rng.integers(0, min(3, i) + 1))
        parents = sorted(int(p) for p in rng.choice(i, size=k, replace=False)) if k else []
        table = rng.dirichlet(np.ones(cards[i]), size=math.prod(cards[p] for p in parents))
        if zeros:
            table[rng.random(table.shape) < 0.25] = 0.0
            empty = table.sum(axis=1) == 0
            table[empty, rng.integers(0, cards[i], size=int(empty.sum()))] = 1.0
            table /= table.sum(axis=1, keepdims=True)
        cpds[f"x{i}"] = pgm.Categorical([f"s{j}" for j in range(cards[i])], parents=[f"x{p}" for p in parents],
                                        table=table.reshape([cards[p] for p in parents] + [cards[i]]))
    return pgm.BayesianNetwork(cpds)


@pytest.fixture
def never_shared(monkeypatch):
    """The cost model never picks the shared tree, so batched queries go by requisite part where they can."""
    monkeypatch.setattr(strategy, "_seconds", lambda problem, n_rows: float("inf"))


@pytest.mark.parametrize("zeros", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_rows_by_requisite_part_equal_enumeration(seed, zeros, never_shared):
    net = random_network(seed, zeros)
    joint = joint_table(net)
    frame = masked_sample(net, 40, 0.5, seed)
    for target in net.nodes:
        data = frame.drop(columns=[target]) if seed % 2 else frame  # some rows observe the target
        assert net.inference_plan(target, data).strategy == "by-relevance"
        got = net.query(target, evidence=data).to_numpy()
        want = np.array([enumerate_row(net, joint, row)[0][target] for row in rows_of(data)])
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=target)
    pair = list(net.nodes[-2:])
    got = net.query(pair, evidence=frame).to_numpy()
    for k, row in enumerate(rows_of(frame)):
        single = np.asarray(net.query(pair, evidence=row).probabilities).ravel()
        np.testing.assert_allclose(got[k], single, rtol=1e-12, atol=1e-14)


def test_rows_with_different_evidence_share_a_requisite_part():
    asia = pgm.load("asia")
    rows = pd.DataFrame({"smoke": ["yes", "no", "yes", "no"], "lung": ["yes", "no", None, None],
                         "dysp": [None, None, "yes", None], "asia": [None, "no", None, "yes"]})
    parts = requisite_parts(asia, as_evidence(asia, rows), ["bronc"])
    # bronc given smoke: whatever else rows 0, 1 and 3 observe; row 2's dysp joins bronc to either's side
    assert [g.tolist() for g in parts.groups] == [[0, 1, 3], [2]]
    assert parts.families[0] == ("bronc",) and parts.boundary[0] == ("smoke",)
    assert parts.rest.size == 0


def test_alarm_by_requisite_part_equals_the_single_case_path(never_shared):
    net = pgm.load("alarm")
    target = "LVFAILURE"
    data = masked_sample(net, 60, 0.5, seed=3).drop(columns=[target])
    plan = net.inference_plan(target, data)
    assert plan.strategy == "by-relevance" and plan.patterns < 60
    got = net.query(target, evidence=data).to_numpy()
    want = np.array([np.asarray(net.query(target, evidence=row).probabilities) for row in rows_of(data)])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def copy_network() -> pgm.BayesianNetwork:
    """a -> b with b a copy of a (zeros off the diagonal), and c on its own."""
    return pgm.BayesianNetwork({
        "a": pgm.Categorical(["u", "v"], table=[0.4, 0.6]),
        "b": pgm.Categorical(["u", "v"], parents=["a"], table=[[1.0, 0.0], [0.0, 1.0]]),
        "c": pgm.Categorical(["p", "q"], table=[0.3, 0.7]),
    })


def test_a_factor_outside_the_part_that_could_be_zero_joins_it(never_shared):
    net = copy_network()
    frame = pd.DataFrame({"a": ["u", None, "v"], "b": ["u", "v", "v"], "c": [None, None, None]})
    parts = requisite_parts(net, as_evidence(net, frame), ["c"])
    # rows 0 and 2 observe a and b: their dropped factor p(b | a) is one positive number, so c alone is
    # requisite; row 1 hides a, and p(b = v | a) is zero for a = u: p(b | a), and a with it, join its part
    assert [g.tolist() for g in parts.groups] == [[0, 2], [1]] and parts.rest.size == 0
    assert parts.families == (("c",), ("a", "b", "c"))
    np.testing.assert_allclose(net.query("c", evidence=frame).to_numpy(), [[0.3, 0.7]] * 3, rtol=1e-15)
    impossible = pd.DataFrame({"a": ["u", "u", None], "b": ["u", "v", "v"]})
    with pytest.raises(ImpossibleEvidenceError, match="row 1"):
        net.query("c", evidence=impossible)
    with pytest.raises(ImpossibleEvidenceError):
        net.query("c", evidence={"a": "u", "b": "v"})
    deterministic = copy_network().with_cpd("a", pgm.Categorical(["u", "v"], table=[1.0, 0.0]))
    with pytest.raises(ImpossibleEvidenceError, match="row 2"):  # b = v needs a = v, which cannot be
        deterministic.query("c", evidence=pd.DataFrame({"b": ["u", "u", "v"]}))


def test_a_zero_inside_the_requisite_part_is_refused_from_it(never_shared):
    net = copy_network()
    frame = pd.DataFrame({"b": ["u", "v"], "c": ["p", "q"]})
    parts = requisite_parts(net, as_evidence(net, frame), ["a"])
    assert parts.rest.size == 0 and parts.families == (("a", "b"),)
    np.testing.assert_allclose(net.query("a", evidence=frame).to_numpy(), [[1.0, 0.0], [0.0, 1.0]], atol=1e-15)
    with pytest.raises(ImpossibleEvidenceError, match="row 1"):
        net.query("c", evidence=pd.DataFrame({"a": ["u", "u"], "b": ["u", "v"]}))


# ---------------------------------------------------------------------------- the cache's scan
def test_within_a_scan_a_plan_never_evicts_one_of_the_same_scan():
    cache = PlanCache(100)
    cache.put("old", "plan", 50)
    with cache.scan():
        for k in range(4):
            cache.put(k, "plan", 40)
    assert list(cache._items) == [0, 1] and cache.nbytes == 80  # "old" made room; 2 and 3 were not kept
    cache.put("after", "plan", 40)  # outside a scan: least recently used out, as before
    assert list(cache._items) == [1, "after"]


def test_a_repeated_batch_that_overflows_the_cache_finds_its_first_plans(never_shared):
    net = pgm.load("alarm")
    data = masked_sample(net, 40, 0.6, seed=8).drop(columns=["HR"])
    cache = plan_cache(net)
    net.query("HR", evidence=data)
    everything = cache.nbytes
    cache.clear()
    cache.max_bytes = everything // 3  # a third of the batch's plans fit
    first = net.query("HR", evidence=data)
    hits = cache.hits
    again = net.query("HR", evidence=data)
    # plain LRU, scanning the same plans in the same order, would find none of them
    assert cache.hits - hits >= 5 and cache.nbytes <= cache.max_bytes
    np.testing.assert_allclose(again.to_numpy(), first.to_numpy(), rtol=0, atol=0)


def test_a_batch_repeated_many_times_keeps_finding_the_same_plans(never_shared):
    net = pgm.load("alarm")
    data = masked_sample(net, 40, 0.6, seed=8).drop(columns=["HR"])
    cache = plan_cache(net)
    net.query("HR", evidence=data)
    everything = cache.nbytes
    cache.clear()
    cache.max_bytes = everything // 2
    net.query("HR", evidence=data)
    found = []
    for _ in range(3):  # the plans used in a pass are never evicted for a later plan of the same pass
        hits, evictions = cache.hits, cache.evictions
        net.query("HR", evidence=data)
        found.append(cache.hits - hits)
        assert cache.evictions == evictions
    assert found[0] >= 10 and found[0] == found[1] == found[2]
