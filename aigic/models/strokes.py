"""Learned restorations of grids: which pixels of a cell a PiDiNet stroke (or a Canny edge) covers.

    grid (gh, gw) + decode size (W, H)
      --per pixel: its cell's 3x3 neighbourhood (9 bits) and where in the cell it lies
        (P x P phases, exact integer arithmetic)--> table lookup --> stroke pixel or not

Table 1 says, for every neighbourhood pattern and phase, whether PiDiNet maps pooled to
such a grid had a stroke pixel there more often than not: trained by
``scripts/train_stroke_table.py`` on PiDiNet maps of natural photographs (no AIGI) pooled by
factors 3.2 .. 10.7; a pattern the training never met falls back to bilinear upsampling.
Table 2 says the same of Canny maps thinned on grids, for pixels that were an edge at least
18% of the time: a band around the likely edges, which the decoder thins to 1-px lines
(aigic.layers.edgemap.learned_lines).
The tables (``assets/stroke_table_v1.npz``, ``assets/line_table_v1.npz``, bit-packed,
pinned by SHA-256) are part of the format: each codec that draws with one names it, and a
table once shipped never changes. Lookups only, so every machine draws the same pixels.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from .pinned import read_npz

P = 8  # phases per cell side
PATTERNS = 1 << 9  # 3x3 neighbourhoods
ASSETS = Path(__file__).parent / "assets"
TABLES = {  # version: (file, SHA-256); 1: PiDiNet strokes, 2: Canny lines (thinned after)
    1: ("stroke_table_v1.npz", "033f72d89547e539a9842817edbe76693a2781ff58d32111dfa74e4c608982ed"),
    2: ("line_table_v1.npz", "dbe2992f2f91d73298210fba7b9ade6319a784475c1c975da05388a882835a27"),
}


def pixel_cells(n: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``n`` pixels over ``cells`` cells: each pixel centre's cell and phase (0 .. P-1),
    in integers: u = floor((2i + 1) * cells * P / (2n))."""
    u = ((2 * np.arange(n, dtype=np.int64) + 1) * cells * P) // (2 * n)
    return u // P, u % P


def features(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Each pixel's table index at ``size`` (W, H): pattern * P * P + phase y * P + phase x.
    Pattern bit k is the cell at offset (k // 3 - 1, k % 3 - 1); outside the grid is empty."""
    w, h = size
    gh, gw = grid.shape
    cy, py = pixel_cells(h, gh)
    cx, px = pixel_cells(w, gw)
    padded = np.pad(np.asarray(grid, dtype=np.int32), 1)
    pattern = np.zeros((gh, gw), dtype=np.int32)  # a pixel's pattern is its cell's
    for k in range(9):
        dy, dx = k // 3 - 1, k % 3 - 1
        pattern |= padded[1 + dy : 1 + dy + gh, 1 + dx : 1 + dx + gw] << k
    phase = (py[:, None] * P + px[None, :]).astype(np.int32)
    return pattern[cy][:, cx] * np.int32(P * P) + phase


def bilinear_entries() -> np.ndarray:
    """The table bilinear upsampling (threshold 1/2) would be, at each phase's centre: the
    fallback for patterns training never met."""
    k = np.arange(PATTERNS)
    bits = ((k[:, None] >> np.arange(9)) & 1).reshape(PATTERNS, 3, 3).astype(np.float64)
    t = (np.arange(P) + 0.5) / P - 0.5  # offset from the cell centre, in cells
    out = np.zeros((PATTERNS, P, P), dtype=bool)
    for i, ty in enumerate(t):
        for j, tx in enumerate(t):
            ny, nx = (2 if ty > 0 else 0), (2 if tx > 0 else 0)
            ay, ax = abs(ty), abs(tx)
            v = (
                bits[:, 1, 1] * (1 - ay) * (1 - ax)
                + bits[:, ny, 1] * ay * (1 - ax)
                + bits[:, 1, nx] * (1 - ay) * ax
                + bits[:, ny, nx] * ay * ax
            )
            out[:, i, j] = v > 0.5
    return out.reshape(-1)


@lru_cache(maxsize=2)
def load(version: int) -> np.ndarray:
    """Table ``version`` as a flat boolean array indexed by :func:`features`."""
    name, sha256 = TABLES[version]
    packed = read_npz(ASSETS / name, sha256, "cell table")["table"]
    return np.unpackbits(packed)[: PATTERNS * P * P].astype(bool)


def draw(grid: np.ndarray, size: tuple[int, int], version: int) -> np.ndarray:
    """What table ``version`` draws for ``grid`` at ``size`` (W, H)."""
    return load(version)[features(grid, size)]
