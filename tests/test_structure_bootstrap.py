"""Bootstrap edge probabilities, the averaged network and its drawing."""

import re

import numpy as np
import pandas as pd
import pytest

import pgm
from pgm.structure import EdgeConfidence, bootstrap, sufficient_table


def test_a_replicate_is_a_multinomial_resample_of_the_distinct_rows():
    table = sufficient_table(pgm.load("asia").sample(2000, seed=0))
    rng = np.random.default_rng(1)
    draws = np.zeros(table.n_groups)
    replicates = 400
    for _ in range(replicates):
        replicate = table.resampled(rng)
        assert replicate.n_rows == 2000
        # Map the replicate's groups back to the original's by their codes.
        position = {row.tobytes(): k for k, row in enumerate(table.codes)}
        for row, weight in zip(replicate.codes, replicate.weight):
            draws[position[row.tobytes()]] += weight
    mean = draws / replicates
    # Each group's count is Binomial(N, w/N): mean w, variance w (1 - w/N); 5 standard errors of the mean.
    tolerance = 5 * np.sqrt(table.weight * (1 - table.weight / 2000) / replicates) + 1e-9
    assert np.all(np.abs(mean - table.weight) <= tolerance)


def test_strong_edges_are_certain_and_independent_pairs_are_rare():
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.choice(["0", "1"], n)
    b = np.where(rng.random(n) < 0.9, a, np.where(a == "0", "1", "0"))   # a copy of a with 10% noise
    c = rng.choice(["0", "1"], n)                                         # independent of both
    confidence = bootstrap(pd.DataFrame({"a": a, "b": b, "c": c}), replicates=30, seed=2)
    assert confidence.strength("a", "b") == 1.0
    assert confidence.strength("a", "c") <= 0.2 and confidence.strength("b", "c") <= 0.2
    assert confidence.replicates == 30


def test_the_averaged_network_keeps_strong_edges_in_their_majority_direction_without_cycles():
    arrows = {("a", "b"): 0.9, ("b", "a"): 0.1, ("b", "c"): 0.3, ("c", "b"): 0.5, ("c", "a"): 0.7, ("a", "d"): 0.2}
    confidence = EdgeConfidence(("a", "b", "c", "d"), 10, arrows)
    # Strengths: a-b 1.0 (a->b), b-c 0.8 (c->b), c-a 0.7 (c->a), a-d 0.2.
    averaged = confidence.averaged(0.5)
    assert set(averaged.edges) == {("a", "b"), ("c", "b"), ("c", "a")}
    cyclic = EdgeConfidence(("a", "b", "c"), 10, {("a", "b"): 1.0, ("b", "c"): 0.9, ("c", "a"): 0.8})
    assert set(cyclic.averaged(0.5).edges) == {("a", "b"), ("b", "c")}   # the weakest edge would close the cycle
    frame = confidence.to_frame()
    assert frame.iloc[0].tolist() == ["a", "b", 1.0, 0.9]


def test_the_drawing_scales_edge_widths_with_strength():
    confidence = EdgeConfidence(("a", "b", "c"), 4, {("a", "b"): 1.0, ("b", "c"): 0.25})
    source = confidence.draw(max_width=4).source
    widths = dict(re.findall(r'(\w+ -> \w+) \[label="?[\d.]+"? penwidth="?([\d.]+)', source))
    assert widths == {"a -> b": "4.00", "b -> c": "1.00"}
    assert "b -> c" not in confidence.draw(threshold=0.5).source


def test_pc_bootstrap_counts_undirected_edges_half_each_way():
    rows = pgm.load("cancer").sample(3000, seed=0)
    confidence = bootstrap(rows, method="pc", replicates=3, seed=0)
    # Each replicate adds 1 per directed and 1/2 per direction of an undirected edge: multiples of 1/6.
    values = np.array(list(confidence.arrows.values()))
    assert np.allclose(values * 6, np.round(values * 6)) and np.all((values > 0) & (values <= 1))
    strengths = [confidence.strength(*sorted(pair)) for pair in {frozenset(a) for a in confidence.arrows}]
    assert max(strengths) == 1.0


def test_continuous_data_is_resampled_from_its_rows():
    rows = pgm.load("ecoli70").sample(400, seed=0).iloc[:, :5]
    confidence = bootstrap(rows, method="chow-liu", replicates=5, seed=0)
    # A tree on 5 nodes has 4 edges in every replicate.
    assert sum(confidence.arrows.values()) == pytest.approx(4.0)


def test_bad_arguments_are_named():
    rows = pgm.load("asia").sample(200, seed=0)
    with pytest.raises(ValueError, match="replicates must be a positive integer"):
        bootstrap(rows, replicates=0)
    with pytest.raises(ValueError, match="method must be one of"):
        bootstrap(rows, method="magic")
    with pytest.raises(ValueError, match="threshold must be between"):
        EdgeConfidence(("a",), 1, {}).averaged(2)
