"""What each T2I-Adapter receives: the conditioning images of the layers present.

    structure (canny | sketch) --edges at the coding size--> "L" image, white on black
    structure (pose)           --OpenPose skeleton render--> RGB image
    texture                    --grid, nearest upsampling--> RGB image (the colour adapter's input)

Returned in adapter order (structure first, then colour) with the profile's scales.
"""

from __future__ import annotations

from PIL import Image


def adapter_inputs(layers, profile) -> tuple[tuple[str, ...], list, list[float]]:
    kinds, images, scales = [], [], []
    if layers.structure is not None:
        images.append(layers.structure.adapter_input(layers.size))
        kinds.append(layers.structure.kind)
        scales.append(profile.structure_scale)
    if layers.texture is not None:
        images.append(Image.fromarray(layers.texture.condition(layers.size)))
        kinds.append("color")
        scales.append(profile.color_scale)
    return tuple(kinds), images, scales
