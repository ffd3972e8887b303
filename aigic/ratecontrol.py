"""Presets and rate control: choose each layer's settings to fit a byte budget.

    budget --> texture at its quality bound --> for each structure style, the finest grid
               that still fits (lines thinned plainly, lines with repair, cells): the one
               whose decoded map has the highest edge F1
           --> (else) no structure --> coarser texture (looser CIEDE2000 bounds)
           --> no texture --> refuse (an explicit budget) or keep the prompt (a preset)

A budget counts the whole stream, container included; the result never exceeds it. The
presets are rate targets in bits per pixel of the coding size (the original size for an image
with a 512-pixel short side): ``tiny`` (prompt and colour
grid), ``default`` and ``fine`` (all layers); ``lossless`` keeps the full edge map.
The structure ``style`` (structure.STYLES, or "auto" for the best F1 of both) limits the
candidates.
"""

from __future__ import annotations

import numpy as np

from .container import Bitstream, Chunk, write
from .errors import AigicError
from .registry import CHUNK_STRUCTURE, CHUNK_TEXTURE
from .structure import STYLES, StructureLayer, canny
from .texture import MAX_DE, TextureLayer, grid_of

# structure grid factors, finest first (1 = lossless at the coding size)
FACTORS = (1, 1.33, 1.6, 2, 2.29, 2.67, 2.91, 3.2, 3.56, 4, 4.57, 5.33, 5.82, 6.4, 7.11, 8,
           9.14, 10.67, 12.8, 16)  # fmt: skip
MAX_FACTOR = 64  # a coarser grid than this keeps (almost) nothing of a 512-pixel side
COARSER_DE = (3.5, 4.0, 5.0, 6.5, 8.0, 10.0, 14.0, 20.0)  # texture bounds tried when over budget
PRESETS = {
    "tiny": {"layers": ("semantic", "texture"), "bpp": 0.003},
    "default": {"bpp": 0.010},
    "fine": {"bpp": 0.020},
    "lossless": {"factor": 1},
}


def candidates(style: str) -> list[tuple[str, bool]]:
    """The (style, repair) pairs rate control tries for ``style`` ("auto": all of them)."""
    if style != "auto" and style not in STYLES:
        raise ValueError(
            f"unknown structure style {style!r}: choose from auto, {', '.join(STYLES)}"
        )
    lines = [("lines", False), ("lines", True)]
    return {"lines": lines, "cells": [("cells", False)]}.get(style, lines + [("cells", False)])


def left_out(info: dict, layers, preset: str | None) -> list[str]:
    """The asked-for layers that the preset keeps but that are not in the stream (``info``
    from :func:`aigic.codec.inspect`): they did not fit the budget or the preset's rate."""
    kept = {r["chunk"] for r in info["chunks"]}
    wanted = PRESETS[preset or "default"].get("layers", layers)
    return [x for x in layers if x in wanted and x not in kept]


def left_out_text(missing: list[str], budget: int | None) -> str:
    limit = f"the budget of {budget} bytes" if budget is not None else "the preset's rate"
    verb = "was" if len(missing) == 1 else "were"
    return f"{' and '.join(missing)} did not fit {limit} and {verb} left out"


def _with_map(bs: Bitstream, rgb, kind: str, edges, factor: float, option) -> Bitstream:
    """``bs`` with the edge map reduced by ``factor`` in ``option`` = (style, repair)."""
    style, repair = option
    layer = StructureLayer.from_image(
        rgb, factor=factor, kind=kind, edges=edges, repair=repair, style=style
    )
    return bs.with_chunk(Chunk(CHUNK_STRUCTURE, layer.to_payload()))


def _style(option: tuple[str, bool], factor: float) -> str:
    """What the report calls the map ``option`` makes at ``factor`` (1: the whole map)."""
    return "lossless" if factor == 1 else option[0]


def _fidelity(bs: Bitstream, edges: np.ndarray) -> float:
    """Edge F1 (3 px) of the stream's decoded structure against the extracted map."""
    from .metrics import edge_f1

    layer = StructureLayer.from_payload(bs.chunk(CHUNK_STRUCTURE).payload)
    return edge_f1(layer.edges(edges.shape[::-1]), edges)


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
    style: str = "auto",
    report: dict | None = None,
) -> Bitstream:
    """The stream for ``rgb`` with the preset's or the budget's settings. An explicit
    ``factor`` wins over a preset; an explicit ``budget`` over both. ``style``: the edge map's
    lossy style, or "auto" for whichever decodes to the highest edge F1; the style kept goes
    into ``report["style"]`` when a dict is given and an edge map is kept."""
    report = {} if report is None else report
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: choose from {', '.join(PRESETS)}")
    options = candidates(style)
    if factor is not None and not 1 <= factor <= MAX_FACTOR:
        raise ValueError(f"structure grid factor {factor:g} is out of range: use 1 to {MAX_FACTOR}")
    settings = PRESETS[preset or "default"]
    layers = [x for x in layers if x in settings.get("layers", layers)]
    strict = budget is not None
    if budget is None and factor is None and "bpp" in settings:
        budget = int(settings["bpp"] * rgb.shape[0] * rgb.shape[1] / 8)
    factor = factor if factor is not None else settings.get("factor")
    bs = base
    tex = None
    if "texture" in layers:
        tex = TextureLayer.from_image(rgb, max_de=MAX_DE if max_de is None else max_de)
        bs = bs.with_chunk(Chunk(CHUNK_TEXTURE, tex.to_payload()))
    edges = _edges(rgb, kind) if "structure" in layers else None
    if kind == "pose" and edges is not None:  # keypoints: no rate knob; dropped if over budget
        with_pose = bs.with_chunk(_pose(edges))
        bs = with_pose if budget is None or len(write(with_pose)) <= budget else bs
        edges = None
    if budget is None and edges is not None:  # a fixed grid (factor 1: every style is lossless)
        options = options if factor != 1 else options[:1]
        trials = [(_style(o, factor), _with_map(bs, rgb, kind, edges, factor, o)) for o in options]
        return _best(trials, edges, report)
    if budget is None:
        return bs
    return _fit(bs, rgb, kind, edges, tex, budget, strict, options, report)


def _best(trials: list[tuple[str, Bitstream]], edges: np.ndarray, report: dict) -> Bitstream:
    """Of (style, stream) pairs, the stream whose structure decodes to the highest edge F1
    (the first on a tie); its style goes into ``report``."""
    if len(trials) == 1:
        style, stream = trials[0]
    else:
        style, stream = max(trials, key=lambda trial: _fidelity(trial[1], edges))
    report["style"] = style
    return stream


def _first_fitting(options, make, budget: int) -> tuple[object, Bitstream] | None:
    """Bisect ``options`` (finest first; bytes fall along it) for the first whose stream
    ``make(option)`` fits the budget: (that option, its stream), or None."""
    lo, hi, best = 0, len(options) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        trial = make(options[mid])
        if len(write(trial)) <= budget:
            best, hi = (options[mid], trial), mid - 1
        else:
            lo = mid + 1
    return best


def _fit(bs: Bitstream, rgb, kind, edges, tex, budget: int, strict: bool, options, report):
    if edges is not None:  # the finest fitting grid of each option: the best F1 of them
        fits = []
        for o in options:
            found = _first_fitting(
                FACTORS, lambda f, o=o: _with_map(bs, rgb, kind, edges, f, o), budget
            )
            if found is not None:
                fits.append((_style(o, found[0]), found[1]))
        if fits:
            return _best(fits, edges, report)
    if tex is not None and len(write(bs)) > budget:
        grid = grid_of(rgb)

        def coarser(de):
            texture = TextureLayer.from_grid(grid, max_de=de)
            return bs.with_chunk(Chunk(CHUNK_TEXTURE, texture.to_payload()))

        found = _first_fitting(COARSER_DE, coarser, budget)
        bs = found[1] if found is not None else bs.without(CHUNK_TEXTURE)
    need = len(write(bs))
    if need > budget and strict:
        raise AigicError(
            f"budget of {budget} bytes is too small: the header and prompt alone need {need} "
            "bytes (shorten the prompt, or raise the budget)"
        )
    return bs
