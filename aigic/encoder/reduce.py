"""The lossy step of the structure layer: an edge map made coarse enough to fit a budget.

    edges (H, W) --style "lines": OR-pool to a (W/f x H/f) grid, thin, add back cells for
        edges the thinning left > 3 px from every line, thin again, prune short pieces--> grid
    edges (H, W) --style "cells": the thinned lines plus every cell whose pixels are at least
        5% edges (textured regions stay filled)--> grid. Only when asked for by name: its
        lattice overdraws (it scores lower one to one) and is unverified with Stable Diffusion

    sketch (H, W) --style "strokes": area-pool, a cell set where at least half of it is
        sketch [--mu > 0: refined, the cells flipped whose Dice gain is worth their bits
        (aigic.encoder.rdgrid)]--> grid (decoded as strokes by the learned stroke table,
        aigic.models.strokes)

``factor == 1`` is lossless at the coding size. The decoder does not need the style: a filled
region is restored like any cells, as a lattice of 1-px links a cell apart.
"""

from __future__ import annotations

import numpy as np

from ..layers.edgemap import density, pool, restore
from ..layers.structure import StructureLayer
from .rdgrid import refine

REACH = 3.0  # px: thinning adds back cells for edges farther than this from its lines
STYLES = ("lines", "cells", "strokes")
STROKE_SHARE = 0.5  # style "strokes": a cell is set when at least this share of it is sketch
CELL_DENSITY = 0.05  # style "cells": a cell this much covered by edges is kept, not thinned


def _thin(edges: np.ndarray, size: tuple[int, int], rounds: int = 2) -> np.ndarray:
    """OR-pool to ``size`` (W, H) and thin to 1-cell lines; then, twice, add back the pooled
    cells holding edges that lie over ``REACH`` px from the restored lines, and thin again."""
    import cv2
    from skimage.morphology import skeletonize

    pooled = pool(edges, size)
    thin = skeletonize(pooled)
    grid = thin
    for _ in range(rounds):
        lines = restore(grid, edges.shape[::-1])
        far = cv2.distanceTransform((~lines).astype(np.uint8), cv2.DIST_L2, 5) > REACH
        grid = grid | (pooled & pool(edges & far, size))
    return skeletonize(grid) | thin


def _cells(edges: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Style "cells": the plainly thinned lines, plus every cell at least CELL_DENSITY edges."""
    return _thin(edges, size, 0) | (density(edges, size) >= CELL_DENSITY)


def to_grid(
    edges: np.ndarray,
    size: tuple[int, int],
    repair: bool = True,
    style: str = "lines",
    mu: float = 0.0,
) -> np.ndarray:
    """``edges`` on a grid of ``size`` (W, H, not larger than the map) in ``style`` (see
    :func:`reduce`; ``mu``, Dice per bit, refines a strokes grid); the map itself when it is
    that size already."""
    if style not in STYLES:
        raise ValueError(f"unknown structure style {style!r}: choose from {', '.join(STYLES)}")
    h, w = edges.shape
    gw, gh = size
    if (gw, gh) == (w, h):
        return edges
    if style == "cells":
        return _cells(edges, (gw, gh))
    if style == "strokes":
        grid = density(edges, (gw, gh)) >= STROKE_SHARE
        return refine(grid, edges, mu) if mu > 0 else grid
    return _thin(edges, (gw, gh), 2 if repair else 0)


def grid_size(shape: tuple[int, int], factor: float) -> tuple[int, int]:
    """The grid (W, H) a map of ``shape`` (rows, columns) reduced by ``factor`` has."""
    h, w = shape
    return max(1, round(w / factor)), max(1, round(h / factor))


def reduce(
    edges: np.ndarray,
    factor: float,
    min_length: int = 0,
    repair: bool = True,
    style: str = "lines",
    mu: float = 0.0,
) -> np.ndarray:
    """Lossy step: pool ``edges`` by ``factor`` into thin lines (:func:`_thin`, with its
    repair rounds unless ``repair`` is False) or, ``style`` "cells", into lines and filled
    textured cells (:func:`_cells`), or "strokes" (refined when ``mu`` > 0); then drop
    pieces of fewer than ``min_length`` cells."""
    import cv2

    grid = to_grid(edges, grid_size(edges.shape, factor), repair, style, mu)
    if min_length > 1:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(
            grid.astype(np.uint8), connectivity=8
        )
        keep = np.zeros(n, dtype=bool)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_length
        grid = keep[labels]
    return grid.astype(bool)


def edge_layer(
    edges: np.ndarray,
    factor: float = 1,
    kind: str = "canny",
    *,
    min_length: int = 0,
    repair: bool = True,
    style: str = "lines",
    mu: float = 0.0,
) -> StructureLayer:
    """The structure layer of an extracted edge map reduced by ``factor`` in ``style``: a
    "strokes" grid is drawn back by the learned stroke table, a Canny map's "lines" grid by
    the learned line table (thinned), other grids as links; the whole map (factor 1) is the
    map itself, coded with the predictor of its kind (a sketch's codecs 7 .. 9)."""
    grid = reduce(np.asarray(edges, bool), factor, min_length, repair, style, mu)
    if grid.shape == np.shape(edges):
        return StructureLayer(grid, kind, "learned strokes" if kind == "sketch" else "links")
    if style == "strokes":
        return StructureLayer(grid, kind, "learned strokes")
    lines = style == "lines" and kind == "canny"  # the line table was trained on Canny lines
    return StructureLayer(grid, kind, "learned lines" if lines else "links")
