"""The rate-distortion refinement of sketch grids (aigic.encoder.rdgrid) and its place in rate
control: its Dice and bit changes are what flipping a cell really does, it buys Dice for bits
as asked, and a sketch under a budget never decodes worse than the plain grid."""

from __future__ import annotations

import numpy as np
import pytest

from aigic.encoder import rdgrid
from aigic.encoder.reduce import edge_layer, to_grid
from aigic.imaging.metrics import dice
from aigic.layers.structure import StructureLayer
from aigic.models import strokes as stroke_table
from tests.test_sketch import _strokes


def _random_sketch(seed: int, size: int = 160) -> np.ndarray:
    """Smooth strokes of several widths at random places."""
    import cv2

    rng = np.random.default_rng(seed)
    m = np.zeros((size, size), np.uint8)
    for _ in range(12):
        a, b = rng.integers(0, size, 2), rng.integers(0, size, 2)
        cv2.line(m, tuple(map(int, a)), tuple(map(int, b)), 1, int(rng.integers(2, 8)))
    return m.astype(bool)


def _objective(grid, sketch, mu):
    """Dice after the stroke table draws ``grid``, less mu times its bits under the estimate."""
    net = rdgrid._Net()
    bits = net.bits(net.sums(grid), grid).sum()
    return dice(stroke_table.draw(grid, sketch.shape[::-1], 1), sketch) - mu * bits


def test_the_changes_it_weighs_are_what_a_flip_does():
    sketch = _random_sketch(1)
    grid = to_grid(sketch, (40, 40), style="strokes")
    net, cells = rdgrid._Net(), rdgrid._Cells((160, 160), grid.shape)
    index = stroke_table.features(grid, (160, 160))
    drawn = stroke_table.load(1)[index].astype(np.int16)
    ref = sketch.astype(np.int16)
    tp, area = float((drawn * ref).sum()), float(drawn.sum())
    sums = net.sums(grid)
    cost = net.bits(sums, grid)
    cand = np.array([(0, 0), (5, 7), (20, 20), (39, 39), (12, 33), (30, 2)])
    d_dice = rdgrid._dice_change(grid, index, drawn, ref, cells, cand, tp, area, float(ref.sum()))
    d_bits = rdgrid._bit_change(net, grid, sums, cost, cand)
    bound = rdgrid._at_most_saved(cost)
    for (y, x), dd, db in zip(cand, d_dice, d_bits):
        flipped = grid.copy()
        flipped[y, x] = ~flipped[y, x]
        before = dice(stroke_table.draw(grid, (160, 160), 1), sketch)
        after = dice(stroke_table.draw(flipped, (160, 160), 1), sketch)
        assert dd == pytest.approx(after - before, abs=1e-9)
        total = net.bits(net.sums(flipped), flipped).sum() - cost.sum()
        assert db == pytest.approx(total, abs=1e-3)
        assert -db <= bound[y, x] + 1e-3  # no flip saves more than the bound says


def test_the_sums_kept_flip_by_flip_are_the_sums_of_the_flipped_grid():
    """refine() computes the predictor's hidden-layer sums once and updates them per flip."""
    sketch = _random_sketch(4)
    grid = to_grid(sketch, (40, 40), style="strokes")
    net = rdgrid._Net()
    sums = net.sums(grid)
    flips = np.array([(0, 0), (5, 7), (20, 20), (39, 39), (12, 33), (39, 0)])
    rdgrid._add_flips(sums, grid, flips, net.dy, net.dx, net.w1)
    flipped = grid.copy()
    flipped[flips[:, 0], flips[:, 1]] ^= True
    assert np.allclose(sums, net.sums(flipped), atol=1e-4)
    assert not np.allclose(sums, net.sums(grid), atol=1e-4)


@pytest.mark.parametrize("seed", [2, 3])
def test_refining_buys_dice_for_bits_at_the_asked_rate(seed):
    sketch = _random_sketch(seed)
    plain = to_grid(sketch, (40, 40), style="strokes")
    for mu in (2e-5, 1e-4):
        refined = rdgrid.refine(plain, sketch, mu)
        assert _objective(refined, sketch, mu) > _objective(plain, sketch, mu)
    cheap = rdgrid.refine(plain, sketch, 1e-3)  # a dear bit: the grid gets cheaper
    size = lambda g: len(StructureLayer(g, "sketch", "learned strokes").to_payload())
    assert size(cheap) < size(plain)
    layer = edge_layer(sketch, 4, "sketch", style="strokes", mu=1e-3)
    assert (layer.grid == cheap).all() and layer.restore == "learned strokes"


def test_the_bit_estimate_follows_the_real_coder():
    for seed in (4, 5):
        sketch = _random_sketch(seed, 256)
        for cells in (48, 64):
            grid = to_grid(sketch, (cells, cells), style="strokes")
            net = rdgrid._Net()
            estimate = net.bits(net.sums(grid), grid).sum()
            real = 8 * len(StructureLayer(grid, "sketch", "learned strokes").to_payload(8))
            assert 0.75 * real < estimate < 1.25 * real


def test_a_sketch_under_a_budget_decodes_no_worse_than_the_plain_grid(monkeypatch):
    from aigic.encoder import ratecontrol
    from aigic.format.container import Bitstream, write

    sketch = _strokes(256, 256) | _random_sketch(6, 256)
    base = Bitstream(256, 256)
    option = ("strokes", True)
    make = lambda f: ratecontrol._with_map(base, "sketch", sketch, f, option)
    calls = []
    refine = rdgrid.refine
    monkeypatch.setattr(
        "aigic.encoder.reduce.refine", lambda *a, **k: calls.append(1) or refine(*a, **k)
    )
    for budget in (120, 200):
        calls.clear()
        plain = ratecontrol._fitting(make, budget)
        refined = ratecontrol._refined(base, sketch, plain, option, budget)
        assert refined and all(len(write(s)) <= budget for _, s in refined)
        assert 1 <= len(calls) <= ratecontrol.REFINE_TRIES  # a guess, not a search
        score = lambda s: dice(ratecontrol._layer(s).edges((256, 256)), sketch)
        assert max(score(s) for _, s in refined) > max(score(s) for _, s in plain)
        kept = ratecontrol._best([("strokes", s) for _, s in plain] + refined, sketch)
        assert any(kept.stream is s for _, s in refined)


def test_a_grid_too_large_to_refine_is_kept_as_pooled(monkeypatch):
    sketch = _random_sketch(7)
    plain = to_grid(sketch, (40, 40), style="strokes")
    monkeypatch.setattr(rdgrid, "MAX_CELLS", 40 * 40 - 1)
    assert (rdgrid.refine(plain, sketch, 1e-4) == plain).all()
    monkeypatch.setattr(rdgrid, "MAX_CELLS", 40 * 40)
    assert (rdgrid.refine(plain, sketch, 1e-4) != plain).any()
