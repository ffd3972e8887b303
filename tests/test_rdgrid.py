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
    table = stroke_table.load(1).astype(np.int16)
    d_tp, d_area = rdgrid._flip_counts(
        cand, cells.ys, cells.y_ok, cells.xs, cells.x_ok, index, drawn, ref, table, False
    )
    d_dice = rdgrid._dice_gain(d_tp, d_area, tp, area, float(ref.sum()))
    d_bits = rdgrid._bit_change(net, grid, sums, cost, cand)
    bound = rdgrid._at_most_saved(cost, cand, net.dy, net.dx)
    for (y, x), dd, db, most in zip(cand, d_dice, d_bits, bound):
        flipped = grid.copy()
        flipped[y, x] = ~flipped[y, x]
        before = dice(stroke_table.draw(grid, (160, 160), 1), sketch)
        after = dice(stroke_table.draw(flipped, (160, 160), 1), sketch)
        assert dd == pytest.approx(after - before, abs=1e-9)
        total = net.bits(net.sums(flipped), flipped).sum() - cost.sum()
        assert db == pytest.approx(total, abs=1e-3)
        assert -db <= most + 1e-3  # no flip saves more than the bound says


def test_the_sums_kept_flip_by_flip_are_the_sums_of_the_flipped_grid():
    """refine() computes the predictor's hidden-layer sums once and updates them per flip."""
    sketch = _random_sketch(4)
    grid = to_grid(sketch, (40, 40), style="strokes")
    net = rdgrid._Net()
    sums = net.sums(grid)
    flips = np.array([(0, 0), (5, 7), (20, 20), (39, 39), (12, 33), (39, 0)])
    rdgrid._add_flips(sums, grid, flips, net.dy, net.dx, net.w1_int)
    flipped = grid.copy()
    flipped[flips[:, 0], flips[:, 1]] ^= True
    assert (sums == net.sums(flipped)).all()  # integers: exact
    assert not (sums == net.sums(grid)).all()


def test_the_bit_change_is_the_same_shared_among_cores_or_not(monkeypatch):
    sketch = _random_sketch(8, 256)
    grid = to_grid(sketch, (90, 90), style="strokes")
    net = rdgrid._Net()
    sums = net.sums(grid)
    cost = net.bits(sums, grid)
    cand = np.argwhere(np.ones_like(grid))  # thousands of cells: split into bands
    monkeypatch.setattr(rdgrid, "threads", lambda: 2)
    shared = rdgrid._bit_change(net, grid, sums, cost, cand)
    monkeypatch.setattr(rdgrid, "threads", lambda: 1)
    assert np.allclose(shared, rdgrid._bit_change(net, grid, sums, cost, cand), atol=1e-9)


def test_what_a_refinement_keeps_between_rounds_is_what_a_fresh_count_gives():
    """A round weighs again only the cells the last flips interact with: the changes it kept
    for the others must be what counting afresh on the refined grid gives."""
    import cv2

    sketch = _random_sketch(9, 200)
    refinement = rdgrid.Refinement(to_grid(sketch, (50, 50), style="strokes"), sketch)
    refinement.run(1e-4, rounds=3)
    r = refinement
    grid = r.grid
    g8 = grid.astype(np.uint8)
    block = np.ones((3, 3), np.uint8)
    border = cv2.dilate(g8, block) != cv2.erode(g8, block)
    kept = np.argwhere(border & ~r.stale & r.weighed)
    assert len(kept) > 50
    net, cells = rdgrid._Net(), rdgrid._Cells((200, 200), grid.shape)
    index = stroke_table.features(grid, (200, 200))
    assert (index == r.index).all()
    sums = net.sums(grid)
    assert (sums == r.sums).all()
    cost = net.bits(sums, grid)
    assert np.allclose(cost, r.cost, atol=1e-4)
    fresh = rdgrid._bit_change(net, grid, sums, cost, kept)
    assert np.allclose(r.d_bits[kept[:, 0], kept[:, 1]], fresh, atol=1e-3)
    d_tp, d_area = rdgrid._flip_counts(
        kept, cells.ys, cells.y_ok, cells.xs, cells.x_ok, index, r.drawn, r.ref, r.table, False
    )
    assert (r.d_tp[kept[:, 0], kept[:, 1]] == d_tp).all()
    assert (r.d_area[kept[:, 0], kept[:, 1]] == d_area).all()


def test_a_refinement_goes_on_from_its_grid_at_another_mu():
    """Rate control makes bits dearer on the grid a refinement left: the grid gets cheaper,
    and a refinement that goes on ends where its flips stop paying."""
    sketch = _random_sketch(10)
    refinement = rdgrid.Refinement(to_grid(sketch, (40, 40), style="strokes"), sketch)
    size = lambda g: len(StructureLayer(g, "sketch", "learned strokes").to_payload())
    first = refinement.run(2e-5)
    dearer = refinement.run(2e-4)
    assert size(dearer) < size(first)
    assert (refinement.run(2e-4) == dearer).all() or size(refinement.grid) <= size(dearer)


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
    made, runs = [], []

    class Counted(rdgrid.Refinement):
        def __init__(self, *a):
            made.append(1)
            super().__init__(*a)

        def run(self, *a, **k):
            runs.append(1)
            return super().run(*a, **k)

    monkeypatch.setattr(ratecontrol, "Refinement", Counted)
    for budget in (120, 160, 200):
        made.clear(), runs.clear()
        plain = ratecontrol._fitting(make, budget)
        refined = ratecontrol._refined(base, sketch, plain, budget)
        assert refined and all(len(write(s)) <= budget for _, s in refined)
        # one grid refined, gone on with at another mu at most REFINE_TRIES times
        assert len(made) == 1 and 1 <= len(runs) <= ratecontrol.REFINE_TRIES
        score = lambda s: dice(ratecontrol._layer(s).edges((256, 256)), sketch)
        best_plain = max(score(s) for _, s in plain)
        if budget < 200:  # coarse grids: the refined one draws closer
            assert max(score(s) for _, s in refined) > best_plain
        kept = ratecontrol._best([("strokes", s) for _, s in plain] + refined, sketch)
        assert score(kept.stream) >= best_plain


def test_a_grid_too_large_to_refine_is_kept_as_pooled(monkeypatch):
    sketch = _random_sketch(7)
    plain = to_grid(sketch, (40, 40), style="strokes")
    monkeypatch.setattr(rdgrid, "MAX_CELLS", 40 * 40 - 1)
    assert (rdgrid.refine(plain, sketch, 1e-4) == plain).all()
    monkeypatch.setattr(rdgrid, "MAX_CELLS", 40 * 40)
    assert (rdgrid.refine(plain, sketch, 1e-4) != plain).any()


def test_rate_control_keeps_the_plain_grids_when_the_refined_one_is_too_large(monkeypatch):
    from aigic.encoder import ratecontrol
    from aigic.format.container import Bitstream

    sketch = _random_sketch(11)
    base = Bitstream(160, 160)
    make = lambda f: ratecontrol._with_map(base, "sketch", sketch, f, ("strokes", False))
    plain = ratecontrol._fitting(make, 150)
    assert plain and ratecontrol._refined(base, sketch, plain, 150)
    monkeypatch.setattr(rdgrid, "MAX_CELLS", 10)
    assert ratecontrol._refined(base, sketch, plain, 150) == []


def test_a_lossless_map_that_fits_is_kept_whatever_codec_coarser_trials_chose(monkeypatch):
    """Rate control codes its trials with the codec the first trial of their kind and size
    found shortest: a whole map (codec 9's kind) must not be coded by a pooled grid's codec
    and be refused over a budget it fits."""
    from aigic.encoder import ratecontrol
    from aigic.encoder.settings import EncodeSettings
    from aigic.format.container import Bitstream, write

    sketch = _random_sketch(12, 128)
    monkeypatch.setattr("aigic.encoder.extractors.extract", lambda rgb, kind: sketch)
    whole = edge_layer(sketch, 1, "sketch", style="strokes")
    assert len(whole.to_payload(9)) < len(whole.to_payload(8))  # a whole map: codec 9 wins
    base = Bitstream(128, 128)
    budget = len(write(base.with_layer(whole)))
    settings = EncodeSettings(structure="sketch", budget=budget, layers=("structure",))
    choice = ratecontrol.choose(base, np.zeros((128, 128, 3), np.uint8), settings)
    assert choice.style == "lossless" and len(write(choice.stream)) == budget


def test_the_refinement_uses_the_cores_a_folder_worker_was_given(monkeypatch):
    """A folder's workers split the cores through OMP_NUM_THREADS (aigic.cli.encode_many):
    the bit-change threads keep to that share."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert rdgrid.threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert rdgrid.threads() == 3
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert rdgrid.threads() >= 1


def test_the_bit_change_kernel_sums_each_candidates_cells_in_raster_order():
    """The kernel walks a candidate's taps backwards to meet the cells that hold it in
    raster order (the order the sum was made in before it followed the candidates): that
    needs the predictor's taps sorted by (dy, dx)."""
    net = rdgrid._Net()
    order = np.lexsort((net.dx, net.dy))
    assert (order == np.arange(net.dy.size)).all()
