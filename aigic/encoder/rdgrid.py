"""Rate-distortion refinement of a sketch's stroke grid: keep the cells worth their bits.

    area-pooled grid + the sketch map + mu (Dice per bit)
      --each round, for every cell on a stroke's border:
          Dice change = what the stroke table (aigic.models.strokes) draws in the 3x3 cells
                        around it, flipped or not, against the map
          bit change  = its own code length and that of the cells whose window holds it,
                        under the sketch-grid predictor (edgenet model 3, static, in floats)
        --flip the cells with Dice change - mu * bit change > 0, best first, no two within
          a window's reach (their costs interact)--> until none is left or ROUNDS
      --> grid

Only the encoder refines: the decoder reads the grid like any strokes grid, so nothing in
the format changes. Rate control (aigic.encoder.ratecontrol) sets mu from the plain grid's
own slope, (1 - Dice) / bits, and keeps whichever of the plain and refined grids that fit
the budget draws closer to the map. The bit estimate leaves out the coder's adaptive
contexts; it stays within a quarter of the real code length (tested).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..models import edgenet
from ..models import strokes as stroke_table

MODEL = 3  # the predictor of sketch grids (codec 8)
ROUNDS = 8
MAX_CELLS = 1 << 18  # larger grids stay as pooled (the floats per cell would need > 256 MB)
PHASES2 = stroke_table.P**2  # table entries per pattern
REACH = edgenet.R  # a cell's flip changes the code length of cells this far below / aside


class _Net:
    """The predictor in floats: the hidden layer's input sums per cell, then log-odds."""

    def __init__(self) -> None:
        dy, dx, w1, b1, _, _, w3, b3 = edgenet.load(MODEL)
        self.dy, self.dx = dy, dx
        self.w1, self.b1 = w1.astype(np.float32), b1.astype(np.float32)
        self.w3 = (w3.ravel() / 2.0 ** (2 * edgenet.SCALE)).astype(np.float32)
        self.b3 = float(b3[0]) / 2.0 ** (2 * edgenet.SCALE)  # w3 and b3 in nats

    def sums(self, grid: np.ndarray) -> np.ndarray:
        """(gh, gw, hidden): each cell's hidden-layer input from its causal window."""
        gh, gw = grid.shape
        r = REACH
        padded = np.zeros((gh + r, gw + 2 * r), dtype=np.float32)
        padded[r:, r : r + gw] = grid
        out = np.empty((gh, gw, self.b1.size), dtype=np.float32)
        rows = max(1, (1 << 16) // gw)  # cells per block: a window stack of ~30 MB
        for y in range(0, gh, rows):
            n = min(rows, gh - y)
            window = np.stack(
                [
                    padded[r + y + a : r + y + a + n, r + b : r + b + gw]
                    for a, b in zip(self.dy, self.dx)
                ],
                -1,
            )
            out[y : y + n] = window @ self.w1 + self.b1
        return out

    def bits(self, sums: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Code length of ``value`` under hidden-layer inputs ``sums`` (..., hidden)."""
        z = np.clip(np.maximum(sums, 0) @ self.w3 + self.b3, -8.0, 8.0)
        return np.logaddexp(0.0, np.where(value, -z, z)) / np.log(2.0)


def _bit_change(net: _Net, grid, sums, cost, cand) -> np.ndarray:
    """For each candidate cell (y, x): the bits its flip adds to the map's code length."""
    y0, x0 = cand[:, 0], cand[:, 1]
    own = net.bits(sums[y0, x0], ~grid[y0, x0]) - cost[y0, x0]
    return own + _window_change(grid, sums, cost, cand, net.dy, net.dx, net.w1, net.w3, net.b3)


@njit(cache=True, fastmath=True)
def _window_change(grid, sums, cost, cand, dy, dx, w1, w3, b3):
    """The change in code length of the cells whose window holds each candidate, if it flips
    (the predictor in floats, as _Net.bits)."""
    gh, gw = grid.shape
    out = np.zeros(cand.shape[0])
    for i in range(cand.shape[0]):
        y0, x0 = cand[i, 0], cand[i, 1]
        sign = np.float32(-1.0 if grid[y0, x0] else 1.0)
        for k in range(dy.size):
            y, x = y0 - dy[k], x0 - dx[k]
            if y >= gh or x < 0 or x >= gw:
                continue
            acc = np.float32(0.0)
            for j in range(w3.size):
                acc += max(sums[y, x, j] + sign * w1[k, j], np.float32(0.0)) * w3[j]
            z = min(max(acc + b3, -8.0), 8.0)
            if grid[y, x]:
                z = -z
            out[i] += (max(z, 0.0) + np.log1p(np.exp(-abs(z)))) / np.log(2.0) - cost[y, x]
    return out


@njit(cache=True)
def _add_flips(sums, grid, flips, dy, dx, w1):
    """Update the hidden-layer input sums for the cells ``flips`` before ``grid`` flips
    them: each window that holds a flipped cell gains or loses that tap's weights."""
    gh, gw = grid.shape
    for i in range(flips.shape[0]):
        y0, x0 = flips[i, 0], flips[i, 1]
        sign = np.float32(-1.0 if grid[y0, x0] else 1.0)
        for k in range(dy.size):
            y, x = y0 - dy[k], x0 - dx[k]
            if y >= gh or x < 0 or x >= gw:
                continue
            for j in range(w1.shape[1]):
                sums[y, x, j] += sign * w1[k, j]


def _at_most_saved(cost: np.ndarray) -> np.ndarray:
    """For each cell, the most bits its flip can save: its own code length and that of the
    cells whose window holds it (the 7 rows below, 7 cells each side; 7 to its right)."""
    r = REACH
    gh, gw = cost.shape
    c = np.zeros((gh + r + 1, gw + 2 * r + 1))
    c[1 : gh + 1, r + 1 : r + 1 + gw] = cost
    box = c.cumsum(0).cumsum(1)  # box[y, x]: sum of c[:y, :x]
    y, x = np.mgrid[0:gh, 0:gw]
    below = (
        box[y + r + 1, x + 2 * r + 1]
        - box[y + 1, x + 2 * r + 1]
        - box[y + r + 1, x]
        + box[y + 1, x]
    )
    right = box[y + 1, x + 2 * r + 1] - box[y + 1, x + r] - box[y, x + 2 * r + 1] + box[y, x + r]
    return cost + below + right


class _Cells:
    """Each cell's pixels at the map size (padded to the largest cell, with a mask)."""

    def __init__(self, size: tuple[int, int], shape: tuple[int, int]) -> None:
        (w, h), (gh, gw) = size, shape
        rows = self._spans(h, gh)
        cols = self._spans(w, gw)
        self.ys, self.y_ok = rows
        self.xs, self.x_ok = cols

    @staticmethod
    def _spans(n: int, cells: int):
        cell = stroke_table.pixel_cells(n, cells)[0]
        start = np.searchsorted(cell, np.arange(cells))
        stop = np.searchsorted(cell, np.arange(cells), side="right")
        at = start[:, None] + np.arange(max(1, int((stop - start).max())))[None]
        return at.clip(0, n - 1), at < stop[:, None]


def _dice_change(grid, index, drawn, sketch, cells: _Cells, cand, tp, area, total):
    """For each candidate cell: Dice after its flip minus Dice now. A flip changes pattern
    bit k of the pixels of the cell at offset -(k's offset) from it."""
    table = stroke_table.load(1).astype(np.int16)
    d_tp, d_area = _flip_counts(
        cand, cells.ys, cells.y_ok, cells.xs, cells.x_ok, index, drawn, sketch, table
    )
    return 2 * (tp + d_tp) / (area + d_area + total) - 2 * tp / (area + total)


@njit(cache=True)
def _flip_counts(cand, ys, y_ok, xs, x_ok, index, drawn, sketch, table):
    """Per candidate: the change in drawn pixels and in drawn pixels on the sketch if it
    flips (integers, so the same on every machine)."""
    gh, gw = ys.shape[0], xs.shape[0]
    d_tp = np.zeros(cand.shape[0])
    d_area = np.zeros(cand.shape[0])
    for i in range(cand.shape[0]):
        for k in range(9):
            cy, cx = cand[i, 0] - (k // 3 - 1), cand[i, 1] - (k % 3 - 1)
            if cy < 0 or cy >= gh or cx < 0 or cx >= gw:
                continue
            bit = (1 << k) * PHASES2
            for a in range(ys.shape[1]):
                if not y_ok[cy, a]:
                    continue
                py = ys[cy, a]
                for b in range(xs.shape[1]):
                    if not x_ok[cx, b]:
                        continue
                    px = xs[cx, b]
                    diff = table[index[py, px] ^ bit] - drawn[py, px]
                    d_area[i] += diff
                    d_tp[i] += diff * sketch[py, px]
    return d_tp, d_area


def refine(grid: np.ndarray, sketch: np.ndarray, mu: float, rounds: int = ROUNDS) -> np.ndarray:
    """``grid`` (a strokes grid of ``sketch``) with the cells flipped whose Dice change less
    ``mu`` times their bit change is positive (see the module docstring); a grid of more
    than MAX_CELLS cells as it is."""
    import cv2

    grid = np.array(grid, dtype=bool)
    if grid.size > MAX_CELLS:
        return grid
    h, w = sketch.shape
    ref = sketch.astype(np.int16)
    net, cells = _Net(), _Cells((w, h), grid.shape)
    near = np.ones_like(grid)
    sums = net.sums(grid)  # then kept up to date flip by flip
    block = np.ones((3, 3), np.uint8)
    reach = np.ones((2 * REACH + 1, 2 * REACH + 1), np.uint8)  # a flip's reach on gains
    for _ in range(rounds):
        index = stroke_table.features(grid, (w, h))
        drawn = stroke_table.load(1)[index].astype(np.int16)
        tp, area = float((drawn * ref).sum()), float(drawn.sum())
        g8 = grid.astype(np.uint8)
        cand = np.argwhere((cv2.dilate(g8, block) != cv2.erode(g8, block)) & near)
        if not len(cand):
            break
        cost = net.bits(sums, grid)
        gain = _dice_change(grid, index, drawn, ref, cells, cand, tp, area, float(ref.sum()))
        hope = gain + mu * _at_most_saved(cost)[cand[:, 0], cand[:, 1]] > 0
        cand, gain = cand[hope], gain[hope]
        gain -= mu * _bit_change(net, grid, sums, cost, cand)
        taken = np.zeros_like(grid)
        flips = []
        for i in np.argsort(-gain):
            if gain[i] <= 0:
                break
            y, x = cand[i]
            if not taken[y, x]:
                flips.append((y, x))
                taken[max(0, y - REACH) : y + REACH + 1, max(0, x - REACH) : x + REACH + 1] = True
        if not flips:
            break
        flips = np.array(flips)
        _add_flips(sums, grid, flips, net.dy, net.dx, net.w1)
        ys, xs = flips.T
        grid[ys, xs] = ~grid[ys, xs]
        near = cv2.dilate(taken.astype(np.uint8), reach) > 0
    return grid
