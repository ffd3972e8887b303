"""The three layers of a stream, one module each, behind one small interface.

    semantic.py   the prompt                      chunk 1
    structure.py  an edge map on a grid            chunk 2  (edgemap.py: pool / restore)
    pose.py       OpenPose keypoints               chunk 2  (another codec of the same layer)
    texture.py    the 64x colour grid in CIELAB    chunk 3

Every layer is a frozen dataclass with the :class:`Layer` interface, registered by its chunk
type in :data:`REGISTRY` (the negative prompt, chunk 128, too: it travels with the semantic
layer); the API loops over the registry and never names a layer's class.
``Bitstream.with_layer(layer)`` writes one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

from ..format.codes import CHUNK_NEGATIVE, LAYER_CHUNKS
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


@dataclass(frozen=True)
class Registered:
    """A chunk type the readers know: the ``Layers`` field it fills, the reader of its payload
    (structure: an edge map or pose, by codec code), the layer it is selected with, and what
    of the layer the field keeps (the negative prompt: its text)."""

    field: str
    read: Callable[[bytes], Layer]
    part_of: str
    keep: Callable | None = None  # None: the layer itself

    def value(self, payload: bytes):
        layer = self.read(payload)
        return layer if self.keep is None else self.keep(layer)


REGISTRY: dict[int, Registered] = {
    LAYER_CHUNKS["semantic"]: Registered("semantic", SemanticLayer.from_payload, "semantic"),
    LAYER_CHUNKS["structure"]: Registered("structure", structure_from_payload, "structure"),
    LAYER_CHUNKS["texture"]: Registered("texture", TextureLayer.from_payload, "texture"),
    CHUNK_NEGATIVE: Registered(
        "negative", NegativePrompt.from_payload, "semantic", keep=lambda layer: layer.text
    ),
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
    return None if chunk is None else REGISTRY[LAYER_CHUNKS[name]].read(chunk.payload)


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
    "REGISTRY",
    "SUBSETS",
    "Layer",
    "Layers",
    "NegativePrompt",
    "PoseLayer",
    "Registered",
    "SemanticLayer",
    "StructureLayer",
    "TextureLayer",
    "check_layers",
    "read_layer",
    "structure_from_payload",
]
