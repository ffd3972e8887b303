"""The three layers of a stream, one module each, behind one small interface.

    semantic.py   the prompt                      chunk 1
    structure.py  an edge map on a grid            chunk 2  (edgemap.py: pool / restore)
    pose.py       OpenPose keypoints               chunk 2  (another codec of the same layer)
    texture.py    the 64x colour grid in CIELAB    chunk 3

Every layer is a frozen dataclass with the :class:`Layer` interface; the API loops over
:data:`READERS` and never names a layer's class. ``Bitstream.with_layer(layer)`` writes one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from ..format.codes import LAYER_CHUNKS
from .pose import PoseLayer
from .semantic import NegativePrompt, SemanticLayer
from .structure import StructureLayer, structure_from_payload
from .texture import TextureLayer

LAYERS = tuple(LAYER_CHUNKS)  # ("semantic", "structure", "texture"), in stream order
# The progressive decode's layer subsets, by the names the benches and aigic eval print.
SUBSETS = {
    "text": ("semantic",),
    "text+structure": ("semantic", "structure"),
    "text+texture": ("semantic", "texture"),
    "all": LAYERS,
}


class Layer(Protocol):
    """What every layer is: coded by ``to_payload``, read by ``from_payload``, shown to a
    decoder by ``condition(size)`` (the adapter's input, or the prompt) and to a person by
    ``preview()``."""

    name: ClassVar[str]
    chunk_type: ClassVar[int]

    def to_payload(self) -> bytes: ...

    @classmethod
    def from_payload(cls, payload: bytes) -> Layer: ...

    def condition(self, size: tuple[int, int]): ...

    def preview(self): ...


# layer name -> the reader of its chunk's payload (structure: edge map or pose, by codec code)
READERS: dict[str, Callable[[bytes], Layer]] = {
    "semantic": SemanticLayer.from_payload,
    "structure": structure_from_payload,
    "texture": TextureLayer.from_payload,
}


def check_layers(layers) -> tuple[str, ...]:
    """``layers`` as a tuple of layer names; a ValueError names an unknown one."""
    layers = tuple(layers)
    bad = [x for x in layers if x not in LAYERS]
    if bad:
        raise ValueError(f"unknown layer {bad[0]!r}: choose from {', '.join(LAYERS)}")
    return layers


def read_layer(bs, name: str) -> Layer | None:
    """Layer ``name`` of a parsed stream ``bs``, or None when it has none (FormatError when
    its payload is damaged)."""
    chunk = bs.chunk(LAYER_CHUNKS[name])
    return None if chunk is None else READERS[name](chunk.payload)


@dataclass(frozen=True)
class Layers:
    """The decoded layers of a stream (each None when absent or not selected)."""

    semantic: SemanticLayer | None
    structure: StructureLayer | PoseLayer | None
    texture: TextureLayer | None
    size: tuple[int, int]  # coding size (W, H)
    original: tuple[int, int]
    seed: int
    profile: int
    dropped: tuple[str, ...] = ()  # damaged layers skipped by a non-strict decode
    negative: str | None = None  # the image's own negative prompt (chunk 128), if carried


__all__ = [
    "LAYERS",
    "READERS",
    "SUBSETS",
    "Layer",
    "Layers",
    "NegativePrompt",
    "PoseLayer",
    "SemanticLayer",
    "StructureLayer",
    "TextureLayer",
    "check_layers",
    "read_layer",
    "structure_from_payload",
]
