"""The structure layer: a binary edge map (Canny offline, or a PiDiNet sketch), coded on a grid.

    RGB (coding size W x H) --Canny--> edges (H, W)
        --lossy, style "lines": OR-pool to a (W/f x H/f) grid, thin, add back cells for edges
          the thinning left > 3 px from every line, thin again, prune short pieces--> grid map
        --lossy, style "cells": the thinned lines plus every cell whose pixels are at least
          5% edges (textured regions stay filled)--> grid map
        --bitmap.encode_bitmap (context mixing, with or without the learned predictor:
          whichever is shorter, codec 2 or 4)--> payload
    payload --decode--> grid map --restore: link neighbouring cells with 1-px lines--> edges (H, W)

``factor == 1`` is lossless at the coding size. The decoder does not need the style: a filled
region is restored like any cells, as a lattice of 1-px links a cell apart, which lies within
3 px of every pixel of the region (what the edge F1 of a textured region rewards).
Payload: codec code, kind code, grid width and height (varints), then the arithmetic-coded
map. ``condition()`` gives what a T2I-Adapter takes: white edges on black at the decode size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .bitmap import decode_bitmap, encode_bitmap
from .container import _Reader, _varint
from .errors import FormatError
from .registry import (
    STRUCT_EDGE_CM_V2,
    STRUCT_EDGE_NET_V3,
    STRUCT_EDGE_NET_V4,
    STRUCT_POSE_V1,
    STRUCTURE_KIND_NAMES,
    STRUCTURE_KINDS,
)

MAX_GRID_SIDE = 4096
MAX_GRID_PIXELS = 512 * 4096  # the largest coding size: short side 512, long side 4096
REACH = 3.0  # px: thinning adds back cells for edges farther than this from its lines
STYLES = ("lines", "cells")
# edge codec code -> the edgenet model version it mixes in (0: none)
EDGE_MODELS = {STRUCT_EDGE_CM_V2: 0, STRUCT_EDGE_NET_V3: 1, STRUCT_EDGE_NET_V4: 2}
WRITTEN = (STRUCT_EDGE_CM_V2, STRUCT_EDGE_NET_V4)  # what the encoder writes; 3 is read only
CELL_DENSITY = 0.05  # style "cells": a cell this much covered by edges is kept, not thinned


def canny(rgb: np.ndarray, low: int = 100, high: int = 200) -> np.ndarray:
    """Boolean Canny edges of an RGB uint8 array (``cv2.Canny`` on its grey image)."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    return cv2.Canny(gray, low, high) > 0


def _density(edges: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The share of edge pixels under each cell of a ``size`` (W, H) grid (area resampling)."""
    import cv2

    return cv2.resize(edges.astype(np.float32), size, interpolation=cv2.INTER_AREA)


def pool(edges: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """OR-pool (or stretch) a boolean map to ``size`` (W, H): a cell is set if any of the
    pixels it covers is."""
    return _density(edges, size) > 0


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
    return _thin(edges, size, 0) | (_density(edges, size) >= CELL_DENSITY)


def reduce(
    edges: np.ndarray,
    factor: float,
    min_length: int = 0,
    repair: bool = True,
    style: str = "lines",
) -> np.ndarray:
    """Lossy step: pool ``edges`` by ``factor`` into thin lines (:func:`_thin`, with its
    repair rounds unless ``repair`` is False) or, ``style`` "cells", into lines and filled
    textured cells (:func:`_cells`); then drop pieces of fewer than ``min_length`` cells."""
    import cv2

    h, w = edges.shape
    grid = to_grid(edges, (max(1, round(w / factor)), max(1, round(h / factor))), repair, style)
    if min_length > 1:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(
            grid.astype(np.uint8), connectivity=8
        )
        keep = np.zeros(n, dtype=bool)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_length
        grid = keep[labels]
    return grid.astype(bool)


def to_grid(
    edges: np.ndarray, size: tuple[int, int], repair: bool = True, style: str = "lines"
) -> np.ndarray:
    """``edges`` on a grid of ``size`` (W, H, not larger than the map) in ``style`` (see
    :func:`reduce`); the map itself when it is that size already."""
    if style not in STYLES:
        raise ValueError(f"unknown structure style {style!r}: choose from {', '.join(STYLES)}")
    h, w = edges.shape
    gw, gh = size
    if (gw, gh) == (w, h):
        return edges
    if style == "cells":
        return _cells(edges, (gw, gh))
    return _thin(edges, (gw, gh), 2 if repair else 0)


def restore(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Grid map -> thin edges at ``size`` (W, H): neighbouring cells joined by 1-px lines.

    Each cell becomes the pixel at its centre; each pair of 8-neighbouring cells becomes the
    straight segment between their centres, sampled densely enough to be 8-connected.
    A grid larger than ``size`` is OR-pooled down instead."""
    w, h = size
    gh, gw = grid.shape
    if (gw, gh) == (w, h):
        return grid.copy()
    if gw >= w and gh >= h:
        return pool(grid, (w, h))
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


@dataclass(frozen=True)
class StructureLayer:
    """A binary map on a grid; ``kind`` says which extractor (and adapter) it belongs to."""

    grid: np.ndarray
    kind: str = "canny"

    @classmethod
    def from_image(
        cls,
        rgb: np.ndarray,
        *,
        factor: float = 1,
        min_length: int = 0,
        kind: str = "canny",
        edges: np.ndarray | None = None,
        repair: bool = True,
        style: str = "lines",
    ) -> StructureLayer:
        if kind not in STRUCTURE_KINDS or kind == "pose":
            raise ValueError(f"structure kind {kind!r} is not an edge map: use canny or sketch")
        edges = canny(rgb) if edges is None else edges
        return cls(reduce(edges, factor, min_length, repair, style), kind)

    def to_payload(self, codec: int | None = None) -> bytes:
        """The map coded by edge codec ``codec`` (2, 3 or 4); by default whichever of codecs
        2 and 4 is shorter (codec 2 on a tie)."""
        if codec is None:
            return min((self.to_payload(c) for c in WRITTEN), key=len)
        if codec not in EDGE_MODELS:
            raise ValueError(
                f"no edge codec {codec}: choose from {', '.join(map(str, EDGE_MODELS))}"
            )
        gh, gw = self.grid.shape
        head = bytes([codec, STRUCTURE_KINDS[self.kind]]) + _varint(gw) + _varint(gh)
        return head + encode_bitmap(self.grid, EDGE_MODELS[codec])

    @classmethod
    def from_payload(cls, payload: bytes) -> StructureLayer:
        r = _Reader(payload)
        codec, kind = r.take(2, "structure codec and kind")
        if codec == 0:
            raise FormatError("structure payload: codec 0 is a pre-release edge coder; re-encode")
        if codec not in EDGE_MODELS:
            raise FormatError(f"structure payload: unknown codec code {codec}")
        if kind not in STRUCTURE_KIND_NAMES or STRUCTURE_KIND_NAMES[kind] == "pose":
            raise FormatError(f"structure payload: unknown edge kind {kind}")
        gw = r.varint("structure grid width", MAX_GRID_SIDE)
        gh = r.varint("structure grid height", MAX_GRID_SIDE)
        if not gw or not gh or gw * gh > MAX_GRID_PIXELS:
            raise FormatError(
                f"structure payload: grid {gw}x{gh} is empty or over {MAX_GRID_PIXELS} cells"
            )
        grid = decode_bitmap(payload[r.pos :], (gh, gw), EDGE_MODELS[codec])
        return cls(grid, STRUCTURE_KIND_NAMES[kind])

    def edges(self, size: tuple[int, int]) -> np.ndarray:
        return restore(self.grid, size)

    def condition(self, size: tuple[int, int]) -> np.ndarray:
        """White edges on black, RGB uint8 (H, W, 3), as a T2I-Adapter expects."""
        e = self.edges(size).astype(np.uint8) * 255
        return np.repeat(e[:, :, None], 3, axis=2)

    def preview(self) -> np.ndarray:
        """The decoded grid map, white on black, one pixel per cell."""
        return self.grid.astype(np.uint8) * 255

    def erase(self, box) -> StructureLayer:
        """A copy with the cells inside ``box`` = (x0, y0, x1, y1) in 0..1 fractions cleared."""
        g = self.grid.copy()
        gh, gw = g.shape
        g[
            int(box[1] * gh) : int(np.ceil(box[3] * gh)),
            int(box[0] * gw) : int(np.ceil(box[2] * gw)),
        ] = 0
        return StructureLayer(g, self.kind)


def structure_from_payload(payload: bytes):
    """The structure layer of a payload: an edge map, or pose keypoints (by codec code)."""
    if payload[:1] == bytes([STRUCT_POSE_V1]):
        from .pose import PoseLayer

        return PoseLayer.from_payload(payload)
    return StructureLayer.from_payload(payload)
