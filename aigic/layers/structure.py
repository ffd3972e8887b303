"""The structure layer: a binary edge map (Canny or a PiDiNet sketch) on a grid.

    grid map (gh, gw) --binary_maps.encode_map (context mixing, with or without a learned
        edge predictor: whichever is shortest)--> payload
    payload --decode--> grid map --restore: Canny maps by edgemap.restore (neighbouring cells
        joined by 1-px lines), sketches by edgemap.learned_strokes (the learned stroke table)
        --> edges at the decode size --condition()--> white on black, what a T2I-Adapter takes

The encoder makes the grid (aigic.encoder.reduce: lossless, or a lossy style); the decoder
does not need to know which style made it. A pose payload shares the chunk type
(:func:`structure_from_payload` dispatches on the codec code). Payload layout: docs/FORMAT.md,
"Structure".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..coding.binary_maps import decode_map, encode_map
from ..errors import FormatError
from ..format.codes import (
    CHUNK_STRUCTURE,
    STRUCTURE_CODECS,
    STRUCTURE_KIND_NAMES,
    STRUCTURE_KINDS,
)
from ..format.limits import MAX_GRID_PIXELS, MAX_GRID_SIDE
from ..format.reader import Reader, varint
from ..models import edgenet
from .edgemap import learned_lines, learned_strokes, restore, strokes

# from format.codes' one table of structure codecs (STRUCTURE_CODECS):
EDGE_MODELS = {  # edge codec code -> the edgenet model version it mixes in (0: none)
    code: codec.predictor for code, codec in STRUCTURE_CODECS.items() if codec.predictor is not None
}
CODEC_RESTORE = {code: STRUCTURE_CODECS[code].redraw for code in EDGE_MODELS}
# how a grid becomes a map at the decode size
RESTORES = {
    "links": restore,
    "learned lines": learned_lines,
    "strokes": strokes,
    "learned strokes": learned_strokes,
}
# the codecs a layer is written with, per restoration (the shortest; the lower code on a tie).
# The encoder makes "learned lines" (lossy Canny), "links" (lossless maps, lattices, drawings)
# and "learned strokes" maps; "strokes" (bilinear) is what older writers made for sketches,
# kept so such a stream's layers re-code to the same bytes
WRITTEN = {
    redraw: tuple(
        c for c in sorted(EDGE_MODELS) if CODEC_RESTORE[c] == redraw and STRUCTURE_CODECS[c].written
    )
    for redraw in RESTORES
}


def _predictor(codec: int):
    version = EDGE_MODELS[codec]
    return edgenet.predictor(version) if version else None


@dataclass(frozen=True)
class StructureLayer:
    """A binary map on a grid; ``kind`` says which extractor (and adapter) it belongs to;
    ``restore`` how the decoder draws it at the decode size: "links" (1-px lines between
    neighbouring cells), "learned lines" (1-px lines where the learned line table puts Canny
    edges, for lossy Canny maps), "learned strokes" (PiDiNet-like strokes from the
    learned stroke table, for sketches) or "strokes" (bilinear strokes, older sketches)."""

    grid: np.ndarray
    kind: str = "canny"
    restore: str = "links"
    name: ClassVar[str] = "structure"
    chunk_type: ClassVar[int] = CHUNK_STRUCTURE

    def to_payload(self, codec: int | None = None) -> bytes:
        """The map coded by edge codec ``codec`` (2 .. 12); by default whichever of the codecs
        written for its restoration is shortest (2, 4 or 10 for links, 11 or 12 for learned
        lines, 7, 8 or 9 for learned strokes, 5 or 6 for strokes; the first on a tie)."""
        if codec is None:
            return min((self.to_payload(c) for c in WRITTEN[self.restore]), key=len)
        if codec not in EDGE_MODELS or CODEC_RESTORE[codec] != self.restore:
            usable = [c for c, r in CODEC_RESTORE.items() if r == self.restore]
            raise ValueError(
                f"no edge codec {codec} for {self.restore} maps: choose from "
                f"{', '.join(map(str, sorted(usable)))}"
            )
        if self.kind not in STRUCTURE_KINDS or self.kind == "pose":
            raise ValueError(
                f"structure kind {self.kind!r} is not an edge map: use canny or sketch"
            )
        gh, gw = self.grid.shape
        head = bytes([codec, STRUCTURE_KINDS[self.kind]]) + varint(gw) + varint(gh)
        return head + encode_map(self.grid, _predictor(codec))

    @classmethod
    def from_payload(cls, payload: bytes) -> StructureLayer:
        r = Reader(payload)
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
        grid = decode_map(payload[r.pos :], (gh, gw), _predictor(codec))
        return cls(grid, STRUCTURE_KIND_NAMES[kind], CODEC_RESTORE[codec])

    def edges(self, size: tuple[int, int]) -> np.ndarray:
        return RESTORES[self.restore](self.grid, size)

    def condition(self, size: tuple[int, int]) -> np.ndarray:
        """White edges on black, RGB uint8 (H, W, 3), as a T2I-Adapter expects."""
        e = self.edges(size).astype(np.uint8) * 255
        return np.repeat(e[:, :, None], 3, axis=2)

    def adapter_input(self, size: tuple[int, int]):
        """What the structure adapter receives: the map at ``size``, an "L" image."""
        from PIL import Image

        return Image.fromarray(self.condition(size)[..., 0])

    @property
    def grid_size(self) -> tuple[int, int]:
        """(W, H) of the grid the map is coded on."""
        return tuple(self.grid.shape[::-1])

    people: ClassVar[None] = None  # an edge map holds no people (PoseLayer counts them)

    def holds(self) -> str:
        """What the layer holds, in words: how its map is drawn."""
        return "edges drawn as 1-px links" if self.restore == "links" else self.restore

    def summary(self) -> str:
        """The layer in a few words for a one-line report: kind and grid."""
        return f"{self.kind} {'x'.join(map(str, self.grid_size))}"

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
        return StructureLayer(g, self.kind, self.restore)


def structure_from_payload(payload: bytes):
    """The structure layer of a payload: an edge map, or pose keypoints (by codec code)."""
    codec = STRUCTURE_CODECS.get(payload[0]) if payload else None
    if codec is not None and codec.redraw == "pose":
        from .pose import PoseLayer

        return PoseLayer.from_payload(payload)
    return StructureLayer.from_payload(payload)


def warm_up() -> None:
    """Compile the edge-map coder now (or load it from numba's cache): about 10 s on a fresh
    install, ~0.6 s after. A server calls this at start-up so its first request does not wait.
    Every model runs the same compiled code: only the one encoders write is loaded here."""
    for restore_mode, codes in WRITTEN.items():
        layer = StructureLayer(np.eye(8, dtype=bool), restore=restore_mode)
        for codec in codes:
            StructureLayer.from_payload(layer.to_payload(codec))
