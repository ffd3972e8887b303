"""The container of format v1: a header, typed length-prefixed chunks, CRCs.

    bytes --parse()--> Bitstream(header fields, [Chunk(type, payload), ...]) --write()--> bytes

The layout, the integrity rules and the limits are specified in docs/FORMAT.md ("Container");
this module implements that text and nothing else. It knows no layer: a Bitstream adds any
object with ``chunk_type`` and ``to_payload()`` (the Layer protocol of aigic.layers).
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field, replace

from ..errors import FormatError
from .codes import CHUNK_NAMES, FORMAT_MAJOR, FORMAT_MINOR, MAGIC
from .limits import MAX_CHUNK_BYTES, MAX_CHUNKS, MAX_SEED, MAX_SIDE, MAX_STREAM_BYTES
from .reader import Reader, varint

_CRC8_TABLE = []
for _byte in range(256):
    _c = _byte
    for _ in range(8):
        _c = ((_c << 1) ^ 0x07) & 0xFF if _c & 0x80 else (_c << 1) & 0xFF
    _CRC8_TABLE.append(_c)


def crc8(data: bytes) -> int:
    """CRC-8 (polynomial 0x07, init 0): detects every burst of up to 8 bits."""
    c = 0
    for b in data:
        c = _CRC8_TABLE[c ^ b]
    return c


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, init 0xFFFF)."""
    return binascii.crc_hqx(data, 0xFFFF)


def chunk_name(ctype: int) -> str:
    return CHUNK_NAMES.get(ctype, f"unknown type {ctype}")


@dataclass(frozen=True)
class Chunk:
    """One typed chunk; ``payload`` starts with the layer's codec code."""

    type: int
    payload: bytes

    @property
    def name(self) -> str:
        return chunk_name(self.type)


@dataclass(frozen=True)
class Bitstream:
    """A parsed stream. Editing is parse -> ``replace`` -> write, never byte patching."""

    width: int
    height: int
    seed: int = 0
    profile: int = 0
    chunks: tuple[Chunk, ...] = field(default_factory=tuple)
    minor: int = FORMAT_MINOR

    def chunk(self, ctype: int) -> Chunk | None:
        return next((c for c in self.chunks if c.type == ctype), None)

    def with_chunk(self, chunk: Chunk) -> Bitstream:
        """A copy with ``chunk`` replacing the chunk of the same type (or added, in type order)."""
        others = [c for c in self.chunks if c.type != chunk.type]
        return replace(self, chunks=tuple(sorted([*others, chunk], key=lambda c: c.type)))

    def with_layer(self, layer) -> Bitstream:
        """A copy carrying ``layer`` (anything with ``chunk_type`` and ``to_payload()``)."""
        return self.with_chunk(Chunk(layer.chunk_type, layer.to_payload()))

    def without(self, ctype: int) -> Bitstream:
        return replace(self, chunks=tuple(c for c in self.chunks if c.type != ctype))


def write(bs: Bitstream) -> bytes:
    """Serialize a :class:`Bitstream`; the inverse of :func:`parse`."""
    if not (1 <= bs.width <= MAX_SIDE and 1 <= bs.height <= MAX_SIDE):
        raise FormatError(f"image size {bs.width}x{bs.height} outside 1..{MAX_SIDE}")
    if not 0 <= bs.seed <= MAX_SEED:
        raise FormatError(f"seed {bs.seed} outside 0..{MAX_SEED}")
    if not 0 <= bs.profile <= 255 or len(bs.chunks) > MAX_CHUNKS:
        raise FormatError(f"profile {bs.profile} or chunk count {len(bs.chunks)} out of range")
    head = bytearray(MAGIC)
    head.append(FORMAT_MAJOR << 4 | bs.minor)
    head += varint(bs.width) + varint(bs.height) + varint(bs.seed)
    head += bytes([bs.profile, len(bs.chunks)])
    head.append(crc8(head))
    for c in bs.chunks:
        if not 0 <= c.type <= 255 or len(c.payload) > MAX_CHUNK_BYTES:
            raise FormatError(f"chunk {c.name}: type or size ({len(c.payload)} B) out of range")
        body = bytes([c.type]) + varint(len(c.payload)) + c.payload
        head += body + bytes([crc8(body)])
    return bytes(head) + crc16(bytes(head)).to_bytes(2, "big")


def _parse_header(r: Reader) -> tuple[int, int, int, int, int, int]:
    if r.take(2, "magic") != MAGIC:
        raise FormatError("not an aigic stream (bad magic bytes)")
    version = r.take(1, "version")[0]
    major, minor = version >> 4, version & 0x0F
    try:
        width = r.varint("width", MAX_SIDE)
        height = r.varint("height", MAX_SIDE)
        seed = r.varint("seed", MAX_SEED)
        profile, count = r.take(2, "header")
        ok = r.take(1, "header CRC")[0] == crc8(r.data[: r.pos - 1])
    except FormatError:
        ok = False
    if major != FORMAT_MAJOR:
        raise FormatError(
            f"unsupported format version {major}.{minor}: this reader reads {FORMAT_MAJOR}.x"
        )
    if not ok:
        raise FormatError(f"header damaged (bytes 0..{r.pos}): CRC mismatch or bad field")
    if width < 1 or height < 1:
        raise FormatError(f"header: image size {width}x{height} is empty")
    return width, height, seed, profile, count, minor


def parse(data: bytes) -> Bitstream:
    """Parse and verify a stream; raises :class:`FormatError` naming the damaged part."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FormatError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_STREAM_BYTES:
        raise FormatError(f"stream of {len(data)} bytes exceeds {MAX_STREAM_BYTES}")
    r = Reader(data)
    width, height, seed, profile, count, minor = _parse_header(r)
    chunks: list[Chunk] = []
    for i in range(count):
        start = r.pos
        ctype = r.take(1, f"chunk {i + 1}/{count} type")[0]
        what = f"chunk {i + 1}/{count} ({chunk_name(ctype)})"
        n = r.varint(f"{what} length", MAX_CHUNK_BYTES)
        payload = r.take(n, f"{what} payload")
        if r.take(1, f"{what} CRC")[0] != crc8(data[start : r.pos - 1]):
            raise FormatError(f"{what} at byte {start} is damaged (CRC mismatch)")
        if any(c.type == ctype for c in chunks):
            raise FormatError(f"{what} at byte {start} repeats a chunk type")
        chunks.append(Chunk(ctype, payload))
    end = r.pos
    trailer = r.take(2, "stream CRC-16")
    if r.pos != len(data):
        raise FormatError(
            f"{len(data) - r.pos} unexpected bytes after the stream end (byte {r.pos})"
        )
    if int.from_bytes(trailer, "big") != crc16(data[:end]):
        raise FormatError(
            f"stream CRC-16 at byte {end} mismatch: a length field or the trailer is damaged"
        )
    return Bitstream(width, height, seed, profile, tuple(chunks), minor)


def overhead(bs: Bitstream) -> int:
    """Bytes of the written stream that are not layer payload."""
    return len(write(bs)) - sum(len(c.payload) for c in bs.chunks)
