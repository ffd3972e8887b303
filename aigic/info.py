"""inspect(): what a stream holds, as typed values (``to_dict()`` for JSON).

bytes --parse--> Bitstream --read_layers(strict=False)--> StreamInfo
    header (version, sizes, seed, profile), one ChunkInfo per chunk (offset, bytes,
    share, bpp), the overhead, and what each layer holds (prompt, grids, kind)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .api import Layers, read_layers
from .format.codes import CHUNK_NAMES
from .format.container import Bitstream, overhead, parse, write


@dataclass(frozen=True)
class ChunkInfo:
    """One chunk: ``offset`` is where its framing (the type byte) starts in the stream."""

    chunk: str
    type: int
    codec: int | None  # the payload's first byte: the layer's codec code
    offset: int
    bytes: int  # payload bytes (framing counts as overhead)
    share: float  # of the whole stream
    bpp: float  # payload bits per pixel of the original size


@dataclass(frozen=True)
class Header:
    version: str
    width: int
    height: int
    seed: int
    profile: int
    coding_size: tuple[int, int]


@dataclass(frozen=True)
class LayerInfo:
    """What the decoded layers hold (None where a layer is absent)."""

    prompt: str | None
    structure_kind: str | None
    structure_grid: tuple[int, int] | None  # (W, H); for pose the keypoint lattice
    people: int | None
    texture_grid: tuple[int, int] | None  # (W, H)
    structure_drawn: str | None = None  # an edge map's restoration (StructureLayer.restore)
    negative: str | None = None  # the image's own negative prompt (chunk 128), if carried
    structure_holds: str | None = None  # what the structure layer holds, in words
    structure_summary: str | None = None  # its kind and grid in a few words


@dataclass(frozen=True)
class StreamInfo:
    header: Header
    chunks: tuple[ChunkInfo, ...]  # in stream order
    overhead: int  # bytes that are not payload: header, framing, CRCs
    total_bytes: int
    bpp: float
    layers: LayerInfo
    dropped: tuple[str, ...]  # damaged layers
    unknown_chunks: tuple[int, ...]  # chunk types this reader does not know

    def to_dict(self) -> dict:
        """The flat JSON form (``aigic inspect --json``): header and layer fields at the top,
        ``chunks`` one dict per chunk plus an "overhead" row."""
        pixels = self.header.width * self.header.height
        over = {"chunk": "overhead", "type": None, "codec": None, "offset": None}
        over |= {"bytes": self.overhead, "share": self.overhead / self.total_bytes}
        over["bpp"] = self.overhead * 8 / pixels
        return {
            **asdict(self.header),
            "total_bytes": self.total_bytes,
            "bpp": self.bpp,
            "chunks": [asdict(c) for c in self.chunks] + [over],
            "dropped": list(self.dropped),
            **asdict(self.layers),
            "unknown_chunks": list(self.unknown_chunks),
        }

    def __getitem__(self, key: str):
        """``info["prompt"]``: a key of :meth:`to_dict` (the dict aigic 0.1 returned)."""
        return self.to_dict()[key]


def _chunk_rows(bs: Bitstream, total: int) -> tuple[ChunkInfo, ...]:
    pixels = bs.width * bs.height
    head = len(write(Bitstream(bs.width, bs.height, bs.seed, bs.profile))) - 2  # no CRC-16
    rows, offset = [], head
    for c in bs.chunks:
        framed = len(write(replace(bs, chunks=(c,)))) - head - 2  # type, length, payload, CRC
        code = c.payload[0] if c.payload else None
        n = len(c.payload)
        rows.append(ChunkInfo(c.name, c.type, code, offset, n, n / total, n * 8 / pixels))
        offset += framed
    return tuple(rows)


def inspect(data: bytes, layers: Layers | None = None) -> StreamInfo:
    """What ``data`` holds. ``layers``: this stream's ``read_layers(data, strict=False)`` when
    the caller has it already (decoding an edge map can take a tenth of a second)."""
    bs = parse(data)
    total, pixels = len(data), bs.width * bs.height
    lay = read_layers(bs, strict=False) if layers is None else layers
    st = lay.structure
    return StreamInfo(
        header=Header(f"1.{bs.minor}", bs.width, bs.height, bs.seed, bs.profile, lay.size),
        chunks=_chunk_rows(bs, total),
        overhead=overhead(bs),
        total_bytes=total,
        bpp=total * 8 / pixels,
        layers=LayerInfo(
            prompt=lay.semantic.text if lay.semantic else None,
            structure_kind=st.kind if st else None,
            structure_grid=st.grid_size if st else None,
            people=st.people if st else None,
            texture_grid=tuple(lay.texture.q.shape[1::-1]) if lay.texture else None,
            structure_drawn=getattr(st, "restore", None),
            structure_holds=st.holds() if st else None,
            structure_summary=st.summary() if st else None,
            negative=lay.negative,
        ),
        dropped=lay.dropped,
        unknown_chunks=tuple(c.type for c in bs.chunks if c.type not in CHUNK_NAMES),
    )
