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

What each cell's flip would change does not depend on mu: a Refinement keeps it and weighs
again only the cells the last flips interact with, and rate control goes on from the grid
it left at another mu rather than refining afresh. Only the encoder refines: the decoder
reads the grid like any strokes grid, so nothing in the format changes. Rate control
(aigic.encoder.ratecontrol) starts mu at the plain grid's own slope, (1 - Dice) / bits,
and keeps whichever of the plain and refined grids that fit the budget draws closer to
the map. The bit estimate leaves out the coder's adaptive contexts; it stays within a
quarter of the real code length (tested). The predictor's hidden sums are integers, kept
as int16.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

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
        # the hidden sums are integers under 2**15 in magnitude whatever the grid (the
        # largest |b1| + sum |w1| is 24,369): kept as int16, half the memory they stream from
        self.w1_int = w1.astype(np.int16)
        assert (self.w1_int == w1).all() and (np.abs(b1) + np.abs(w1).sum(0)).max() < 2**15
        self.w3 = (w3.ravel() / 2.0 ** (2 * edgenet.SCALE)).astype(np.float32)
        self.b3 = float(b3[0]) / 2.0 ** (2 * edgenet.SCALE)  # w3 and b3 in nats

    def sums(self, grid: np.ndarray) -> np.ndarray:
        """(gh, gw, hidden): each cell's hidden-layer input from its causal window, built by
        adding each set cell's tap weights to the windows that hold it (grids are sparse)."""
        out = np.empty((*grid.shape, self.b1.size), dtype=np.int16)
        out[:] = self.b1
        _add_flips(out, np.zeros_like(grid), np.argwhere(grid), self.dy, self.dx, self.w1_int)
        return out

    def bits(self, sums: np.ndarray, value: np.ndarray) -> np.ndarray:
        """Code length of ``value`` under hidden-layer inputs ``sums`` (..., hidden)."""
        flat = np.ascontiguousarray(sums).reshape(-1, self.b1.size)
        z = np.clip(_logits(flat, self.w3, self.b3).reshape(sums.shape[:-1]), -8.0, 8.0)
        return np.logaddexp(0.0, np.where(value, -z, z)) / np.log(2.0)


@njit(cache=True, fastmath=True, nogil=True, inline="always")
def _logit(row, w3, b3):
    """The predictor's log-odds (nats) from one cell's hidden-layer inputs ``row``."""
    acc = np.float32(0.0)
    for j in range(w3.size):
        acc += max(np.float32(row[j]), np.float32(0.0)) * w3[j]
    return acc + b3


@njit(cache=True, fastmath=True, nogil=True)
def _logits(sums, w3, b3):
    """:func:`_logit` of each row of hidden-layer inputs ``sums`` (n, hidden): one pass, no
    float copy of the sums."""
    out = np.empty(sums.shape[0], np.float32)
    for i in range(sums.shape[0]):
        out[i] = _logit(sums[i], w3, b3)
    return out


def _bit_change(net: _Net, grid, sums, cost, cand) -> np.ndarray:
    """For each candidate cell (y, x): the bits its flip adds to the map's code length. The
    candidates are shared among the cores (the kernel releases the GIL)."""
    y0, x0 = cand[:, 0], cand[:, 1]
    own = net.bits(sums[y0, x0], ~grid[y0, x0]) - cost[y0, x0]
    bands = min(threads(), max(1, len(cand) // 256))
    edges = np.linspace(0, len(cand), bands + 1).astype(int)
    band = lambda i: _window_change(
        grid, sums, cost, cand, edges[i], edges[i + 1], net.dy, net.dx, net.w1, net.w3, net.b3
    )
    if bands == 1:
        return own + band(0)
    with ThreadPoolExecutor(bands) as pool:
        return own + np.concatenate(list(pool.map(band, range(bands))))


def threads() -> int:
    """The cores this process may use: its share when OMP_NUM_THREADS sets one (a folder's
    workers split the cores that way, aigic.cli.encode_many), else those it may run on."""
    share = os.environ.get("OMP_NUM_THREADS", "")
    if share.isdigit() and int(share) > 0:
        return int(share)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@njit(cache=True, fastmath=True, nogil=True, inline="always")
def _code_length(logit, value):
    """Bits of ``value`` under the predictor's ``logit`` (nats, clamped to +-8), as
    _Net.bits."""
    z = min(max(logit, -8.0), 8.0)
    if value:
        z = -z
    return (max(z, 0.0) + np.log1p(np.exp(-abs(z)))) / np.log(2.0)


@njit(cache=True, fastmath=True, nogil=True)
def _window_change(grid, sums, cost, cand, lo, hi, dy, dx, w1, w3, b3):
    """For candidates ``lo`` .. ``hi``: the change in code length of the cells whose window
    holds the candidate if it flips (the predictor in floats, as _Net.bits), those cells
    taken in raster order. The work follows the candidates, not the grid: later rounds
    weigh few cells again."""
    gh, gw = grid.shape
    out = np.zeros(hi - lo)
    zero = np.float32(0.0)
    for i in range(lo, hi):
        cy, cx = cand[i, 0], cand[i, 1]
        sign = np.float32(-1.0) if grid[cy, cx] else np.float32(1.0)
        total = 0.0
        for k in range(dy.size - 1, -1, -1):  # taps run (dy, dx) ascending: cells in raster order
            y, x = cy - dy[k], cx - dx[k]
            if y >= gh or x < 0 or x >= gw:
                continue
            row = sums[y, x]
            acc = zero
            for j in range(w3.size):
                acc += max(np.float32(row[j]) + sign * w1[k, j], zero) * w3[j]
            total += _code_length(acc + b3, grid[y, x]) - cost[y, x]
        out[i - lo] = total
    return out


@njit(cache=True)
def _add_flips(sums, grid, flips, dy, dx, w1):
    """Update the hidden-layer input sums for the cells ``flips`` before ``grid`` flips
    them: each window that holds a flipped cell gains or loses that tap's weights."""
    gh, gw = grid.shape
    for i in range(flips.shape[0]):
        y0, x0 = flips[i, 0], flips[i, 1]
        sign = -1 if grid[y0, x0] else 1
        for k in range(dy.size):
            y, x = y0 - dy[k], x0 - dx[k]
            if y >= gh or x < 0 or x >= gw:
                continue
            for j in range(w1.shape[1]):
                sums[y, x, j] += sign * w1[k, j]


@njit(cache=True)
def _at_most_saved(cost, cand, dy, dx):
    """For each candidate, the most bits its flip can save: its own code length and that of
    the cells whose window holds it."""
    gh, gw = cost.shape
    out = np.empty(cand.shape[0])
    for i in range(cand.shape[0]):
        y0, x0 = cand[i, 0], cand[i, 1]
        total = cost[y0, x0]
        for k in range(dy.size):
            y, x = y0 - dy[k], x0 - dx[k]
            if y < gh and 0 <= x < gw:
                total += cost[y, x]
        out[i] = total
    return out


@njit(cache=True, fastmath=True)
def _recost(cost, sums, grid, flips, dy, dx, w3, b3):
    """Code lengths again for the cells whose window or own value the (applied) ``flips``
    changed (the predictor in floats, as _Net.bits)."""
    gh, gw = grid.shape
    for i in range(flips.shape[0]):
        y0, x0 = flips[i, 0], flips[i, 1]
        for k in range(-1, dy.size):
            y, x = (y0, x0) if k < 0 else (y0 - dy[k], x0 - dx[k])
            if y >= gh or x < 0 or x >= gw:
                continue
            cost[y, x] = _code_length(_logit(sums[y, x], w3, b3), grid[y, x])


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


def _dice_gain(d_tp, d_area, tp: float, area: float, total: float):
    """Dice after flips that change the drawn pixels on the sketch by ``d_tp`` and the drawn
    pixels by ``d_area`` (of ``tp`` and ``area`` now; ``total`` sketch pixels), less Dice now."""
    return 2 * (tp + d_tp) / (area + d_area + total) - 2 * tp / (area + total)


@njit(cache=True)
def _flip_counts(cand, ys, y_ok, xs, x_ok, index, drawn, sketch, table, apply):
    """Per candidate: the change in drawn pixels on the sketch and in drawn pixels if it
    flips (integers, so the same on every machine); a flip changes pattern bit k of the
    pixels of the cell at offset -(k's offset) from it. ``apply``: flip them too, each pixel of
    the 3x3 cells around one changing its pattern bit, index and drawn value."""
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
                    new = table[index[py, px] ^ bit]
                    diff = new - drawn[py, px]
                    d_area[i] += diff
                    d_tp[i] += diff * sketch[py, px]
                    if apply:
                        index[py, px] ^= bit
                        drawn[py, px] = new
    return d_tp, d_area


def _interaction(dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """The cells around a flip whose weighed changes it alters, as a centred kernel: those
    whose own cell or windows' cells meet the flip's (the code lengths), or whose 3x3 drawn
    cells meet its 3x3 (the Dice counts)."""
    own = np.concatenate([[(0, 0)], -np.stack([dy, dx], 1)])  # a cell and the cells it codes into
    offsets = (own[:, None] - own[None]).reshape(-1, 2)
    r = int(np.abs(offsets).max())
    kernel = np.zeros((2 * r + 1, 2 * r + 1), np.uint8)
    kernel[offsets[:, 0] + r, offsets[:, 1] + r] = 1
    kernel[r - 2 : r + 3, r - 2 : r + 3] = 1
    return kernel


class Refinement:
    """A strokes grid of ``sketch`` being refined (see the module docstring). What each cell's
    flip would change (its Dice counts, the bits it adds, the most it can save) does not
    depend on mu, so it is kept from round to round and from one :meth:`run` to the next:
    a round weighs again only the cells the last flips interact with, and rate control can
    make bits dearer or cheaper and go on from where the grid stands. A grid of more than
    MAX_CELLS cells stays as it is."""

    def __init__(self, grid: np.ndarray, sketch: np.ndarray) -> None:
        self.grid = np.array(grid, dtype=bool)
        self.large = self.grid.size > MAX_CELLS
        if self.large:
            return
        h, w = sketch.shape
        self.ref = sketch.astype(np.int16)
        self.net, self.cells = _Net(), _Cells((w, h), self.grid.shape)
        self.table = stroke_table.load(1).astype(np.int16)
        self.index = stroke_table.features(self.grid, (w, h))
        self.drawn = self.table[self.index]
        self.tp, self.area = float((self.drawn * self.ref).sum()), float(self.drawn.sum())
        self.total = float(self.ref.sum())
        self.sums = self.net.sums(self.grid)
        self.cost = self.net.bits(self.sums, self.grid).astype(np.float64)
        # per cell, what its flip changes: drawn pixels on the sketch, drawn pixels, the most
        # bits it can save, the bits it adds (valid where weighed); stale: to count again
        self.d_tp, self.d_area, self.saved, self.d_bits = (np.zeros(grid.shape) for _ in range(4))
        self.weighed = np.zeros_like(self.grid)
        self.stale = np.ones_like(self.grid)
        self.interaction = _interaction(self.net.dy, self.net.dx)

    def run(self, mu: float, rounds: int = ROUNDS) -> np.ndarray:
        """Up to ``rounds`` rounds of flips at ``mu`` Dice per bit; the grid (a copy)."""
        if not self.large:
            for _ in range(rounds):
                if not self._round(mu):
                    break
        return self.grid.copy()

    def _round(self, mu: float) -> bool:
        """Flip the cells worth it at ``mu``, best first, none within another's reach;
        whether any was."""
        import cv2

        grid, net, cells = self.grid, self.net, self.cells
        g8 = grid.astype(np.uint8)
        block = np.ones((3, 3), np.uint8)
        cand = np.argwhere(cv2.dilate(g8, block) != cv2.erode(g8, block))
        if not len(cand):
            return False
        redo = cand[self.stale[cand[:, 0], cand[:, 1]]]
        ry, rx = redo.T
        self.weighed[ry, rx] = False
        self.d_tp[ry, rx], self.d_area[ry, rx] = _flip_counts(
            redo, cells.ys, cells.y_ok, cells.xs, cells.x_ok, self.index, self.drawn,
            self.ref, self.table, False,
        )  # fmt: skip
        self.saved[ry, rx] = _at_most_saved(self.cost, redo, net.dy, net.dx)
        self.stale[:] = False
        cy, cx = cand.T
        gain = _dice_gain(self.d_tp[cy, cx], self.d_area[cy, cx], self.tp, self.area, self.total)
        hope = gain + mu * self.saved[cy, cx] > 0
        cand, gain = cand[hope], gain[hope]
        cy, cx = cand.T
        new = cand[~self.weighed[cy, cx]]
        if len(new):
            self.d_bits[new[:, 0], new[:, 1]] = _bit_change(net, grid, self.sums, self.cost, new)
            self.weighed[new[:, 0], new[:, 1]] = True
        gain -= mu * self.d_bits[cy, cx]
        taken = np.zeros_like(grid)
        flips = []
        for i in np.argsort(-gain, kind="stable"):
            if gain[i] <= 0:
                break
            y, x = cand[i]
            if not taken[y, x]:
                flips.append((y, x))
                taken[max(0, y - REACH) : y + REACH + 1, max(0, x - REACH) : x + REACH + 1] = True
        if not flips:
            return False
        flips = np.array(flips)
        _add_flips(self.sums, grid, flips, net.dy, net.dx, net.w1_int)
        fy, fx = flips.T
        grid[fy, fx] = ~grid[fy, fx]
        more_tp, more_area = _flip_counts(
            flips, cells.ys, cells.y_ok, cells.xs, cells.x_ok, self.index, self.drawn,
            self.ref, self.table, True,
        )  # fmt: skip
        self.tp, self.area = self.tp + more_tp.sum(), self.area + more_area.sum()
        _recost(self.cost, self.sums, grid, flips, net.dy, net.dx, net.w3, net.b3)
        points = np.zeros_like(g8)
        points[fy, fx] = 1
        self.stale = cv2.dilate(points, self.interaction) > 0
        return True


def refine(grid: np.ndarray, sketch: np.ndarray, mu: float, rounds: int = ROUNDS) -> np.ndarray:
    """``grid`` (a strokes grid of ``sketch``) refined at ``mu`` Dice per bit: the cells
    flipped whose Dice change less ``mu`` times their bit change is positive (see the module
    docstring); a grid of more than MAX_CELLS cells as it is."""
    return Refinement(grid, sketch).run(mu, rounds)
