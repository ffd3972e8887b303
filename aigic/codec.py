"""encode / decode / inspect / edit: the public API, looping over the three layers.

    image --load_image--> RGB + metadata --coding size (short side 512, multiples of 64)
        --SemanticLayer / StructureLayer / TextureLayer .to_payload()--> chunks
        --container.write--> .aigic bytes
    bytes --container.parse--> chunks --from_payload--> layers --backend.decode--> image

Every edit is parse -> change one layer -> write: the other payloads stay byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .container import Bitstream, Chunk, overhead, parse, write
from .errors import FormatError
from .images import coding_size, load_image, to_array
from .pose import PoseLayer
from .registry import CHUNK_NAMES, CHUNK_SEMANTIC, LAYER_CHUNKS
from .semantic import SemanticLayer
from .structure import StructureLayer, structure_from_payload
from .texture import TextureLayer

LAYERS = ("semantic", "structure", "texture")
SHORT_SIDE = 512  # format v1: the coding size has 512 on its short side


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


def _check_layers(layers) -> tuple[str, ...]:
    layers = tuple(layers)
    bad = [x for x in layers if x not in LAYERS]
    if bad:
        raise ValueError(f"unknown layer {bad[0]!r}: choose from {', '.join(LAYERS)}")
    return layers


def encode(
    image,
    *,
    prompt: str | None = None,
    layers=LAYERS,
    structure: str = "canny",
    seed: int = 0,
    profile: int = 0,
    preset: str | None = None,
    budget: int | None = None,
    factor: float | None = None,
    max_de: float | None = None,
    caption: str | None = None,
    style: str = "auto",
    report: dict | None = None,
) -> bytes:
    """Compress an image (path, bytes or PIL image) into an aigic stream. The prompt is
    ``prompt``, else the image's metadata, else (``caption`` 'blip', 'blip2' or 'auto' = BLIP
    when its weights are cached) a caption. ``style``: how a lossy edge map is reduced
    (ratecontrol.candidates: "lines", "cells", or "auto" for the higher edge F1). A ``report``
    dict receives the rate control's choices: ``style`` (lines, cells or lossless) when an edge
    map is kept."""
    from .ratecontrol import choose

    layers = _check_layers(layers)
    rgb_image, meta = load_image(image)
    w, h = rgb_image.size
    rgb = to_array(rgb_image, coding_size(w, h, SHORT_SIDE))
    sem = SemanticLayer.from_image(meta, prompt)
    if not sem.text and prompt is None and caption and "semantic" in layers:
        sem = _captioned(rgb_image, caption) or sem
    base = Bitstream(w, h, seed, profile)
    if "semantic" in layers:
        base = base.with_chunk(Chunk(CHUNK_SEMANTIC, sem.to_payload()))
    stream = choose(base, rgb, layers, structure, preset, budget, factor, max_de, style, report)
    return write(stream)


def _captioned(image, name: str) -> SemanticLayer | None:
    from . import caption as captioner

    if name == "auto":
        repo, revision = captioner.MODELS["blip"]
        try:
            from .hub import cached

            if cached(repo, "config.json", revision) is None:
                return None
        except ImportError:
            return None
        name = "blip"
    return SemanticLayer(captioner.caption(image, name), name)


def _layer(bs: Bitstream, name: str):
    chunk = bs.chunk(LAYER_CHUNKS[name])
    if chunk is None:
        return None
    read = {
        "semantic": SemanticLayer.from_payload,
        "structure": structure_from_payload,
        "texture": TextureLayer.from_payload,
    }[name]
    return read(chunk.payload)


def read_layers(data: bytes | Bitstream, layers=None, *, strict: bool = True) -> Layers:
    """Parse a stream and decode its layers (``layers`` selects a subset)."""
    bs = data if isinstance(data, Bitstream) else parse(data)
    wanted = LAYERS if layers is None else _check_layers(layers)
    found, dropped = {}, []
    for name in LAYERS:
        try:
            found[name] = _layer(bs, name) if name in wanted else None
        except FormatError:
            if strict:
                raise
            found[name] = None
            dropped.append(name)
    size = coding_size(bs.width, bs.height, SHORT_SIDE)
    return Layers(
        **found,
        size=size,
        original=(bs.width, bs.height),
        seed=bs.seed,
        profile=bs.profile,
        dropped=tuple(dropped),
    )


def decode(
    data: bytes,
    *,
    layers=None,
    backend="auto",
    seed: int | None = None,
    profile: int | None = None,
    strict: bool = True,
    progress=None,
):
    """Reconstruct an image (PIL, at the original size) from a stream's selected layers.
    ``backend`` is a name ('auto', 'preview', 'sd15') or a backend object; ``seed`` and
    ``profile`` override the stream's."""
    from PIL import Image

    from .backends import get_backend

    lay = read_layers(data, layers, strict=strict)
    if seed is not None:
        lay = replace(lay, seed=seed)
    if profile is not None:
        lay = replace(lay, profile=profile)
    be = get_backend(backend) if isinstance(backend, str) else backend
    out = be.decode(lay, progress=progress)
    return out.resize(lay.original, Image.LANCZOS) if out.size != lay.original else out


def inspect(data: bytes, layers: Layers | None = None) -> dict:
    """Header fields, one row per chunk (its codec code too; plus the overhead row), prompt and
    grid sizes.
    ``layers``: this stream's ``read_layers(data, strict=False)`` when the caller has it
    already (decoding an edge map can take a tenth of a second)."""
    bs = parse(data)
    total, pixels = len(data), bs.width * bs.height
    rows, offset = [], len(write(Bitstream(bs.width, bs.height, bs.seed, bs.profile))) - 2
    for c in bs.chunks:
        framed = len(write(replace(bs, chunks=(c,)))) - offset - 2
        code = c.payload[0] if c.payload else None  # each layer payload starts with its codec
        rows.append(
            {
                "chunk": c.name,
                "type": c.type,
                "codec": code,
                "offset": offset,
                "bytes": len(c.payload),
            }
        )
        offset += framed
    rows.append(
        {"chunk": "overhead", "type": None, "codec": None, "offset": None, "bytes": overhead(bs)}
    )
    for r in rows:
        r["share"] = r["bytes"] / total
        r["bpp"] = r["bytes"] * 8 / pixels
    lay = read_layers(bs, strict=False) if layers is None else layers
    return {
        "width": bs.width,
        "height": bs.height,
        "seed": bs.seed,
        "profile": bs.profile,
        "version": f"1.{bs.minor}",
        "total_bytes": total,
        "bpp": total * 8 / pixels,
        "coding_size": lay.size,
        "chunks": rows,
        "dropped": list(lay.dropped),
        "prompt": lay.semantic.text if lay.semantic else None,
        "structure_grid": _structure_grid(lay.structure),
        "people": len(lay.structure.points)
        if lay.structure and lay.structure.kind == "pose"
        else None,
        "structure_kind": lay.structure.kind if lay.structure else None,
        "texture_grid": tuple(lay.texture.q.shape[1::-1]) if lay.texture else None,
        "unknown_chunks": [c.type for c in bs.chunks if c.type not in CHUNK_NAMES],
    }


def _structure_grid(st) -> tuple[int, int] | None:
    if st is None:
        return None
    if st.kind == "pose":  # the keypoint lattice
        return (1 << st.bits, 1 << st.bits)
    return tuple(st.grid.shape[::-1])


def changed_layers(before: bytes, after: bytes) -> dict[str, str]:
    """For each chunk type in either stream: 'identical', 'changed', 'added' or 'removed'."""
    a, b = parse(before), parse(after)
    out = {}
    for t in sorted({c.type for c in a.chunks} | {c.type for c in b.chunks}):
        ca, cb = a.chunk(t), b.chunk(t)
        name = (ca or cb).name
        out[name] = (
            "added"
            if ca is None
            else "removed"
            if cb is None
            else "identical"
            if ca.payload == cb.payload
            else "changed"
        )
    return out
