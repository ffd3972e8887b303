"""The weight-free decoder: a real image from whatever layers are present, on any CPU.

    colour grid --bilinear (cell centres)--> base colours (1/4 size)
    structure   --restore, max-pool--> barriers
    base + barriers --edge-aware diffusion (Jacobi, no flow across edges)--> colours
        --upsample--> + faint edges --> + the prompt as a caption --> image (coding size)

Edges darken the colours, a lone line by EDGE_DARKEN; where edges are denser than one line
through a 9x9 window (a region the `cells` style keeps filled, restored as a lattice of
links), each edge pixel darkens in proportion less, so the region reads as texture, not a mesh.

Without texture the base is a neutral grey; without structure the diffusion just smooths.
The seed sets a faint grain, so the seed in the stream is honoured here too.
"""

from __future__ import annotations

import textwrap
import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WORK = 4  # diffusion at 1/WORK of the coding size
ITERATIONS = 120
DATA_WEIGHT = 0.04
EDGE_DARKEN = 0.35
LINE_DENSITY = 1 / 9  # edge pixels of one straight line through a 9x9 window


def _diffuse(base: np.ndarray, barrier: np.ndarray) -> np.ndarray:
    open_ = ~barrier
    # conductance to the right / down neighbour: 1 unless either side is an edge
    cx = (open_[:, :-1] & open_[:, 1:]).astype(np.float64)[..., None]
    cy = (open_[:-1, :] & open_[1:, :]).astype(np.float64)[..., None]
    weight = np.full(base.shape[:2] + (1,), DATA_WEIGHT)
    weight[:, :-1] += cx
    weight[:, 1:] += cx
    weight[:-1, :] += cy
    weight[1:, :] += cy
    u = base.copy()
    for _ in range(ITERATIONS):
        acc = DATA_WEIGHT * base
        acc[:, :-1] += cx * u[:, 1:]
        acc[:, 1:] += cx * u[:, :-1]
        acc[:-1, :] += cy * u[1:, :]
        acc[1:, :] += cy * u[:-1, :]
        u = acc / weight
    return u


def darken_edges(img: np.ndarray, edges: np.ndarray) -> np.ndarray:
    import cv2

    e = edges.astype(np.float32)
    density = cv2.blur(e, (9, 9), borderType=cv2.BORDER_REFLECT)
    strength = e * np.minimum(1.0, LINE_DENSITY / np.maximum(density, LINE_DENSITY))
    return img * (1 - EDGE_DARKEN * strength[..., None])


CAPTION_LINES = 3


def caption_lines(text: str, width: int) -> list[str]:
    """The caption as drawn: Unicode compatibility forms folded (a non-breaking space is a
    space), control characters dropped, wrapped to ``width`` characters, at most
    CAPTION_LINES lines, the last ending in "..." when text was cut."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(" " if ch.isspace() else ch for ch in text if ch.isprintable() or ch.isspace())
    lines = textwrap.wrap(text, width=width)
    if len(lines) > CAPTION_LINES:
        last = lines[CAPTION_LINES - 1]
        lines = lines[: CAPTION_LINES - 1] + [last[: max(0, width - 3)].rstrip() + "..."]
    return lines


def _caption(img: Image.Image, text: str) -> Image.Image:
    w, h = img.size
    size = max(12, w // 40)
    font = ImageFont.load_default(size=size)
    lines = caption_lines(text, max(10, int(w / (size * 0.55))))
    band = len(lines) * (size + 4) + 8
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle([0, h - band, w, h], fill=(0, 0, 0, 140))
    for i, line in enumerate(lines):
        draw.text((6, h - band + 4 + i * (size + 4)), line, fill=(255, 255, 255, 235), font=font)
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


class PreviewBackend:
    name = "preview"
    unet_evaluations = 0

    def decode(self, layers, progress=None, caption: bool = True) -> Image.Image:
        import cv2

        w, h = layers.size
        sw, sh = max(1, w // WORK), max(1, h // WORK)
        if layers.texture is not None:
            grid = layers.texture.grid().astype(np.float32)
            base = cv2.resize(grid, (sw, sh), interpolation=cv2.INTER_LINEAR).astype(np.float64)
        else:
            base = np.full((sh, sw, 3), 150.0)
        edges = None
        if layers.structure is not None:
            edges = layers.structure.edges((w, h))
            small = cv2.resize(edges.astype(np.uint8), (sw, sh), interpolation=cv2.INTER_AREA) > 0
            base = _diffuse(base, small)
        if progress:
            progress(1, 1)
        full = cv2.resize(base.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        grain = np.random.default_rng(layers.seed).normal(0, 2.0, (h, w, 1)).astype(np.float32)
        full = full + grain
        if edges is not None:
            full = darken_edges(full, edges)
        img = Image.fromarray(np.clip(full + 0.5, 0, 255).astype(np.uint8))
        if caption and layers.semantic is not None and layers.semantic.text:
            img = _caption(img, layers.semantic.text)
        return img
