"""Presets and the knobs rate control turns, as tables.

A preset is a rate target in bits per pixel of the coding size (the original size for an
image with a 512-pixel short side): ``tiny`` (prompt and colour grid), ``default`` and
``fine`` (all layers); ``lossless`` keeps the full edge map.
"""

from __future__ import annotations

from types import MappingProxyType

from .reduce import STYLES

# structure grid factors, finest first (1 = lossless at the coding size)
FACTORS = (1, 1.33, 1.6, 2, 2.29, 2.67, 2.91, 3.2, 3.56, 4, 4.57, 5.33, 5.82, 6.4, 7.11, 8,
           9.14, 10.67, 12.8, 16)  # fmt: skip
BETWEEN = 3  # rate control then tries this many factors between the fitting one and the next
MAX_FACTOR = 64  # a coarser grid than this keeps (almost) nothing of a 512-pixel side
COARSER_DE = (3.5, 4.0, 5.0, 6.5, 8.0, 10.0, 14.0, 20.0)  # texture bounds tried when over budget
PRESETS = MappingProxyType(
    {
        "tiny": MappingProxyType({"layers": ("semantic", "texture"), "bpp": 0.003}),
        "default": MappingProxyType({"bpp": 0.010}),
        "fine": MappingProxyType({"bpp": 0.020}),
        "lossless": MappingProxyType({"factor": 1}),
    }
)


def candidates(style: str, kind: str = "canny") -> list[tuple[str, bool]]:
    """The (style, repair) pairs rate control tries for ``style``. "auto" tries, for a Canny
    map, the thin line drawings (plain and repaired: the canny adapter was trained on thin
    lines) and, for a PiDiNet sketch, strokes (what the sketch adapter was trained on). The
    "cells" lattice is tried only when asked for by name (unverified with Stable Diffusion)."""
    if style != "auto" and style not in STYLES:
        raise ValueError(
            f"unknown structure style {style!r}: choose from auto, {', '.join(STYLES)}"
        )
    lines = [("lines", False), ("lines", True)]
    if style == "auto":
        return [("strokes", False)] if kind == "sketch" else lines
    return {"cells": [("cells", False)], "strokes": [("strokes", False)]}.get(style, lines)


def preset_layers(preset: str | None, layers) -> tuple[str, ...]:
    """The layers of ``layers`` that ``preset`` (None: default) keeps."""
    keep = PRESETS[preset or "default"].get("layers", layers)
    return tuple(x for x in layers if x in keep)
