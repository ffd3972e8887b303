"""Editing a stream without decoding an image: parse -> change one layer -> write.

Each function takes and returns stream bytes; the payloads it does not touch stay identical.
"""

from __future__ import annotations

import colorsys

import numpy as np
from PIL import Image

from .encoder.reduce import to_grid
from .errors import FormatError
from .format.codes import CHUNK_NEGATIVE, LAYER_CHUNKS
from .format.container import Bitstream, parse, write
from .format.limits import coding_size
from .imaging.color import lab_to_srgb, srgb_to_lab
from .layers import SemanticLayer, StructureLayer, TextureLayer, read_layer
from .layers.edgemap import pool


def _need(bs: Bitstream, name: str):
    layer = read_layer(bs, name)
    if layer is None:
        raise ValueError(f"the stream has no {name} layer to edit")
    return layer


def set_prompt(data: bytes, text: str) -> bytes:
    bs = parse(data)
    return write(bs.with_layer(SemanticLayer(text)))


def drop(data: bytes, layer: str) -> bytes:
    if layer not in LAYER_CHUNKS:
        raise ValueError(f"unknown layer {layer!r}: choose from {', '.join(LAYER_CHUNKS)}")
    bs = parse(data).without(LAYER_CHUNKS[layer])
    # the negative prompt is part of the semantic layer (docs/FORMAT.md, 5.1)
    return write(bs.without(CHUNK_NEGATIVE) if layer == "semantic" else bs)


def recolor(data: bytes, cells, rgb) -> bytes:
    """Set grid cells ``[(row, col), ...]`` to the colour ``rgb`` (0..255 triple)."""
    bs = parse(data)
    tex = _need(bs, "texture").recolor(cells, rgb)
    return write(bs.with_layer(tex))


def shift_colors(data: bytes, hue: float = 0.0, brightness: float = 0.0) -> bytes:
    """Rotate every cell's hue by ``hue`` degrees and add ``brightness`` to L* (-100..100)."""
    bs = parse(data)
    tex = _need(bs, "texture")
    rgb = tex.grid().astype(np.float64) / 255
    hls = np.array([colorsys.rgb_to_hls(*px) for px in rgb.reshape(-1, 3)])
    hls[:, 0] = (hls[:, 0] + hue / 360.0) % 1.0
    shifted = np.array([colorsys.hls_to_rgb(*px) for px in hls]).reshape(rgb.shape) * 255
    lab = srgb_to_lab(shifted)
    lab[..., 0] = np.clip(lab[..., 0] + brightness, 0, 100)
    grid = lab_to_srgb(lab)
    cells = [(r, c) for r in range(grid.shape[0]) for c in range(grid.shape[1])]
    tex = tex.recolor(cells, grid.reshape(-1, 3))
    return write(bs.with_layer(tex))


def replace_structure(
    data: bytes, edges: np.ndarray, kind: str = "sketch", *, grid: tuple[int, int] | None = None
) -> bytes:
    """Replace the structure layer by a boolean map (any size). ``grid`` = (width, height):
    code it on that grid, thinned to lines as the encoder's lossy ``lines`` style does;
    None: at the map's own size, losslessly."""
    bs = parse(data)
    edges = np.asarray(edges, dtype=bool)
    layer = StructureLayer(edges if grid is None else to_grid(edges, grid), kind)
    return write(bs.with_layer(layer))


def draw_structure(data: bytes, drawing: Image.Image, *, keep_grid: bool = True) -> bytes:
    """Replace the structure layer by a drawing: white lines on black, any size (stretched
    to the stream's coding size; a line stays a line, it is never lost to resampling).
    ``keep_grid``: code it on the grid of the edge map it replaces, so the rate stays about
    the same; otherwise (or when the stream has no readable edge map, or one on a grid
    finer than the coding size) losslessly at the coding size.
    Kind "sketch": Stable Diffusion reads it with the sketch adapter."""
    bs = parse(data)
    size = coding_size(bs.width, bs.height)
    lines = np.asarray(drawing.convert("L")) > 127
    edges = lines if lines.shape[::-1] == size else pool(lines, size)
    try:
        old = read_layer(bs, "structure")
    except FormatError:  # a damaged edge map is replaced whole
        old = None
    keep = (
        keep_grid
        and isinstance(old, StructureLayer)
        and all(g <= e for g, e in zip(old.grid.shape, edges.shape, strict=True))
    )
    return replace_structure(data, edges, "sketch", grid=old.grid.shape[::-1] if keep else None)


def erase_rect(data: bytes, box, *, texture: bool = False) -> bytes:
    """Clear structure inside ``box`` = (x0, y0, x1, y1) in 0..1 image fractions; with
    ``texture``, also fill the covered grid cells from their neighbours ("erase object")."""
    bs = parse(data)
    x0, y0, x1, y1 = (min(max(float(v), 0.0), 1.0) for v in box)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"empty rectangle {box}: need x0 < x1 and y0 < y1")
    st = read_layer(bs, "structure")
    if st is not None:
        erased = st.erase((x0, y0, x1, y1))
        bs = bs.with_layer(erased)
    tex = read_layer(bs, "texture") if texture else None
    if tex is not None:
        bs = bs.with_layer(_inpaint(tex, (x0, y0, x1, y1)))
    return write(bs)


def _inpaint(tex: TextureLayer, box) -> TextureLayer:
    grid = tex.grid().astype(np.float64)
    gh, gw = grid.shape[:2]
    r0, r1 = int(box[1] * gh), max(int(box[1] * gh) + 1, int(np.ceil(box[3] * gh)))
    c0, c1 = int(box[0] * gw), max(int(box[0] * gw) + 1, int(np.ceil(box[2] * gw)))
    hole = np.zeros((gh, gw), dtype=bool)
    hole[r0:r1, c0:c1] = True
    if hole.all():
        return tex
    fill = grid.copy()
    for _ in range(gh + gw):  # diffuse the surrounding colours into the hole
        pad = np.pad(fill, ((1, 1), (1, 1), (0, 0)), mode="edge")
        avg = (pad[:-2, 1:-1] + pad[2:, 1:-1] + pad[1:-1, :-2] + pad[1:-1, 2:]) / 4
        fill[hole] = avg[hole]
    cells = [(int(r), int(c)) for r, c in zip(*np.nonzero(hole))]
    return tex.recolor(cells, fill[hole].round())
