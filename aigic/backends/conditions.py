"""What the decoder's conditioning models receive: the images of the layers present.

    structure (canny | sketch) --edges at the decode size--> "L" image, white on black
        (a sketch drawn up to a larger decode size: its strokes thinned back, structure_map)
    structure (pose)           --OpenPose skeleton render--> RGB image
    texture                    --grid, nearest upsampling--> RGB image (the colour adapter's input)
    texture (no colour adapter) --grid, bicubic upsampling--> RGB image (img2img's start, sdxl.py)

Adapter inputs are returned in adapter order (structure first, then colour) with the profile's
scales; a profile without a colour adapter (SDXL) gets the texture another way.
"""

from __future__ import annotations

import numpy as np
from PIL import Image


def structure_map(structure, size, coding) -> np.ndarray:
    """The structure layer's map at the decode ``size`` (W, H), the layer coded at ``coding``.

    Canny maps and poses are drawn at ``size`` by the layer's own restoration (1-px lines stay
    1 px). A sketch drawn up to a larger size has strokes as much wider as the size is: PiDiNet
    keeps its strokes' width in pixels as an image grows (on aigi_dev its 1024-px maps hold
    0.7x the ink of its 512-px maps scaled up), so the drawn strokes are eroded by
    round(scale) - 1 pixels (3x3), which brings them back to that width without losing a stroke
    (each is at least scale x 2 px wide when drawn)."""
    import cv2

    edges = structure.edges(size)
    scale = ((size[0] * size[1]) / (coding[0] * coding[1])) ** 0.5
    passes = round(scale) - 1
    if structure.kind != "sketch" or passes < 1:
        return edges
    return cv2.erode(edges.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=passes) > 0


def adapter_inputs(layers, profile, size) -> tuple[tuple[str, ...], list, list[float]]:
    """(kinds, images at ``size`` (W, H), scales) of the adapters the profile runs."""
    kinds, images, scales = [], [], []
    st = layers.structure
    if st is not None:
        if st.kind == "pose":  # the OpenPose render, in colour
            images.append(st.adapter_input(size))
        else:
            edges = structure_map(st, size, layers.size)
            images.append(Image.fromarray(edges.astype(np.uint8) * 255))
        kinds.append(st.kind)
        scales.append(profile.structure_scale)
    if layers.texture is not None and "color" in profile.adapters:
        images.append(Image.fromarray(layers.texture.condition(size)))
        kinds.append("color")
        scales.append(profile.color_scale)
    return tuple(kinds), images, scales


def texture_image(layers, size) -> Image.Image | None:
    """The colour grid drawn smoothly at ``size`` (bicubic: no cell edges for the VAE to keep),
    or None without a texture layer."""
    if layers.texture is None:
        return None
    return Image.fromarray(layers.texture.grid()).resize(size, Image.BICUBIC)
