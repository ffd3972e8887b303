"""Binary maps on grids: pooling to a coarser grid and restoring a grid at the decode size.

    edges (H, W) --pool(size)--> grid (gh, gw): a cell is set if any pixel it covers is
    grid (gh, gw) --restore(size)--> thin edges (H, W): neighbouring cells joined by 1-px lines
    grid (gh, gw) --strokes(size)--> smooth strokes (H, W): bilinear upsampling, threshold 1/2
    grid (gh, gw) --learned_strokes(size)--> strokes as PiDiNet draws them, by the learned
        stroke table (aigic.models.strokes)
    grid (gh, gw) --learned_lines(size)--> 1-px lines where Canny edges likely are: the
        learned line table's band, thinned (Zhang-Suen)

Both sides of the codec use these: the encoder's lossy styles (aigic.encoder.reduce) and the
edit tools pool; the decoder restores. ``restore`` is part of the format: it is what the
structure adapter sees.
"""

from __future__ import annotations

import numpy as np

from ..models import strokes as stroke_table


def density(edges: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The share of edge pixels under each cell of a ``size`` (W, H) grid (area resampling)."""
    import cv2

    return cv2.resize(edges.astype(np.float32), size, interpolation=cv2.INTER_AREA)


def pool(edges: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """OR-pool (or stretch) a boolean map to ``size`` (W, H): a cell is set if any of the
    pixels it covers is."""
    return density(edges, size) > 0


def _not_finer(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """A grid of ``size`` (W, H) is the map itself, a larger one is OR-pooled down; None for
    a coarser grid (which the caller restores)."""
    (w, h), (gh, gw) = size, grid.shape
    if (gw, gh) == (w, h):
        return grid.copy()
    return pool(grid, (w, h)) if gw >= w and gh >= h else None


def restore(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Grid map -> thin edges at ``size`` (W, H): neighbouring cells joined by 1-px lines.

    Each cell becomes the pixel at its centre; each pair of 8-neighbouring cells becomes the
    straight segment between their centres, sampled densely enough to be 8-connected.
    A grid larger than ``size`` is OR-pooled down instead."""
    done = _not_finer(grid, size)
    if done is not None:
        return done
    w, h = size
    gh, gw = grid.shape
    sx, sy = w / gw, h / gh
    out = np.zeros((h, w), dtype=bool)
    ys, xs = np.nonzero(grid)
    padded = np.pad(grid, 1)
    t = np.linspace(0.0, 1.0, int(np.ceil(max(sx, sy))) + 1)[:, None]
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1), (1, -1)):
        sel = padded[1 + dy + ys, 1 + dx + xs] if (dy, dx) != (0, 0) else np.ones_like(ys, bool)
        x0, y0 = xs[sel], ys[sel]
        px = np.floor((x0 + dx * t + 0.5) * sx).astype(np.int64)
        py = np.floor((y0 + dy * t + 0.5) * sy).astype(np.int64)
        out[py.clip(0, h - 1), px.clip(0, w - 1)] = True
    return out


def strokes(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Grid map -> smooth strokes at ``size`` (W, H), as PiDiNet draws them: the 0/1 grid
    upsampled bilinearly (pixel centres aligned, cv2.INTER_LINEAR on float32), then every pixel
    above 1/2 set. A grid of ``size`` is the map itself."""
    import cv2

    w, h = size
    if grid.shape == (h, w):
        return grid.copy()
    up = cv2.resize(grid.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return up > 0.5


def learned_strokes(grid: np.ndarray, size: tuple[int, int], version: int = 1) -> np.ndarray:
    """Grid map -> strokes at ``size`` (W, H) drawn by stroke table ``version``: each pixel
    set as PiDiNet maps pooled to such grids mostly had it, given its cell's 3x3
    neighbourhood and its place in the cell. A grid of ``size`` is the map itself; a larger
    one is OR-pooled down."""
    done = _not_finer(grid, size)
    return stroke_table.draw(grid, size, version) if done is None else done


def learned_lines(grid: np.ndarray, size: tuple[int, int], version: int = 2) -> np.ndarray:
    """Grid map -> 1-px lines at ``size`` (W, H): the pixels table ``version`` marks as likely
    Canny edges given their cell's 3x3 neighbourhood and place in the cell (a band around the
    lines), thinned to 1-px lines by Zhang-Suen thinning (scikit-image's ``skeletonize``,
    method "zhang"). A grid of ``size`` is the map itself; a larger one is OR-pooled down."""
    from skimage.morphology import skeletonize

    done = _not_finer(grid, size)
    if done is not None:
        return done
    return skeletonize(stroke_table.draw(grid, size, version), method="zhang")
