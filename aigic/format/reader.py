"""Reading and writing the integers of a stream: LEB128 varints and a bounds-checked cursor.

Shared by the container and every layer payload (docs/FORMAT.md, "Integers"). Every read
names what it was reading, so a :class:`FormatError` says which field of which part is bad.
"""

from __future__ import annotations

from ..errors import FormatError


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


class Reader:
    """Cursor over the stream; every read is bounds-checked and names what it was reading."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int, what: str) -> bytes:
        if n > len(self.data) - self.pos:
            left = len(self.data) - self.pos
            raise FormatError(
                f"truncated stream: {what} at byte {self.pos} needs {n} bytes, {left} left"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def varint(self, what: str, limit: int) -> int:
        start, n, shift = self.pos, 0, 0
        for _ in range(5):
            b = self.take(1, what)[0]
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if n > limit:
                    raise FormatError(f"{what} at byte {start} is {n}, above the limit {limit}")
                return n
        raise FormatError(f"{what} at byte {start} is not a valid varint")
