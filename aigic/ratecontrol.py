"""Presets and rate control: choose each layer's settings to fit a byte budget.

    budget --> texture at its quality bound --> the finest structure grid that still fits
           --> (else) no structure --> coarser texture steps --> no texture --> refuse

A budget counts the whole stream, container included; the result never exceeds it.
"""

from __future__ import annotations

import numpy as np

from .container import Bitstream, Chunk, write
from .errors import AigicError
from .registry import CHUNK_STRUCTURE, CHUNK_TEXTURE
from .structure import StructureLayer, canny
from .texture import MAX_DE, STEPS, TextureLayer, grid_of

# structure grid factors, finest first (1 = lossless at the coding size)
FACTORS = (1, 2, 2.67, 3.2, 4, 4.57, 5.33, 6.4, 8, 10.67, 16)
PRESETS = {
    "tiny": {"layers": ("semantic", "texture"), "factor": None},
    "default": {"factor": 5.33},
    "fine": {"factor": 4},
    "lossless": {"factor": 1},
}


def _structure(rgb, kind: str, edges, factor: float) -> Chunk:
    layer = StructureLayer.from_image(rgb, factor=factor, kind=kind, edges=edges)
    return Chunk(CHUNK_STRUCTURE, layer.to_payload())


def _edges(rgb: np.ndarray, kind: str):
    """Canny or PiDiNet edges (bool map), or OpenPose keypoints for 'pose'."""
    if kind == "canny":
        return canny(rgb)
    from .extractors import extract

    return extract(rgb, kind)


def _pose(people) -> Chunk:
    from .pose import PoseLayer

    return Chunk(CHUNK_STRUCTURE, PoseLayer.from_keypoints(people).to_payload())


def choose(
    base: Bitstream,
    rgb: np.ndarray,
    layers,
    kind: str = "canny",
    preset: str | None = None,
    budget: int | None = None,
    factor: float | None = None,
    max_de: float | None = None,
) -> Bitstream:
    """The stream for ``rgb`` with the preset's or the budget's settings."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: choose from {', '.join(PRESETS)}")
    settings = PRESETS[preset or "default"]
    layers = [x for x in layers if x in settings.get("layers", layers)]
    factor = factor if factor is not None else settings["factor"]
    max_de = MAX_DE if max_de is None else max_de
    bs = base
    tex = TextureLayer.from_image(rgb, max_de=max_de) if "texture" in layers else None
    if tex is not None:
        bs = bs.with_chunk(Chunk(CHUNK_TEXTURE, tex.to_payload()))
    edges = _edges(rgb, kind) if "structure" in layers else None
    if kind == "pose" and edges is not None:  # keypoints: no rate knob; dropped if over budget
        with_pose = bs.with_chunk(_pose(edges))
        bs = with_pose if budget is None or len(write(with_pose)) <= budget else bs
        edges = None
    if budget is None:
        if edges is not None:
            bs = bs.with_chunk(_structure(rgb, kind, edges, factor or 5.33))
        return bs
    return _fit(bs, rgb, kind, edges, tex, budget)


def _fit(bs: Bitstream, rgb, kind, edges, tex, budget: int) -> Bitstream:
    if edges is not None:
        for f in FACTORS:
            trial = bs.with_chunk(_structure(rgb, kind, edges, f))
            if len(write(trial)) <= budget:
                return trial
    if tex is not None:
        grid = grid_of(rgb)
        for step in range(tex.step, len(STEPS)):
            coarser = TextureLayer.from_grid(grid, step=step)
            trial = bs.with_chunk(Chunk(CHUNK_TEXTURE, coarser.to_payload()))
            if len(write(trial)) <= budget:
                return trial
        bs = bs.without(CHUNK_TEXTURE)
    need = len(write(bs))
    if need > budget:
        raise AigicError(
            f"budget of {budget} bytes is too small: the header and prompt alone need {need} "
            "bytes (shorten the prompt, or raise the budget)"
        )
    return bs
