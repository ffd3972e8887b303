"""An exact arithmetic coder over integer frequency tables, in Python integers.

    symbols + integer frequencies --ExactEncoder--> the shortest byte string whose value
    lies in the final interval; bytes --ExactDecoder--> the same symbols, given the same tables

The coder keeps the interval [low, low + width) / scale without rounding: each symbol s of a
table f (every entry >= 1, total T, cumulative c_s) maps it to
low·T + width·c_s, width·f_s over scale·T. The output is the fewest bytes b (big-endian) with
low/scale <= int(b)/256^len(b) < (low + width)/scale, so a message costs at most one byte over
its information content and nothing is rounded on any machine. For short messages (prompts of
a few dozen symbols); time grows with the square of the message length.
"""

from __future__ import annotations

import numpy as np

from ..errors import FormatError


def _table(freqs) -> np.ndarray:
    f = np.asarray(freqs, dtype=np.int64)
    if f.ndim != 1 or not f.size or int(f.min()) < 1:
        raise ValueError("frequency tables need at least one entry, all >= 1")
    return f


class ExactEncoder:
    def __init__(self) -> None:
        self.low, self.width, self.scale = 0, 1, 1

    def encode(self, symbol: int, freqs) -> None:
        f = _table(freqs)
        total, cum = int(f.sum()), int(f[:symbol].sum())
        self.low = self.low * total + self.width * cum
        self.width *= int(f[symbol])
        self.scale *= total

    def to_bytes(self) -> bytes:
        """The fewest bytes whose value lies in [low, low + width) / scale. One division at a
        precision (``top`` bytes) where the interval surely holds a value; shorter candidates
        are that precision's bounds cut short (ceil of the lower, compared to the upper)."""
        lo, hi, scale = self.low, self.low + self.width, self.scale
        top = (scale.bit_length() - self.width.bit_length()) // 8 + 2
        q_lo, rest = divmod(lo << (8 * top), scale)  # lo·256^top / scale = q_lo + rest/scale
        q_hi = -(-(hi << (8 * top)) // scale) - 1  # the largest top-byte value below hi
        for n in range(top + 1):
            k = 8 * (top - n)
            value = q_lo >> k
            if rest or value << k != q_lo:  # round up: the smallest n-byte value >= lo
                value += 1
            if value << k <= q_hi:
                return value.to_bytes(n, "big") if n else b""
        raise AssertionError("unreachable: the interval holds a value at top bytes")


class ExactDecoder:
    """Reads the symbols of an :class:`ExactEncoder`'s bytes, table by table."""

    def __init__(self, data: bytes, what: str = "payload") -> None:
        self.what = what
        # residual = value·scale − low·256^n and width·256^n, both growing with each symbol
        self.residual = int.from_bytes(data, "big")
        self.width = 1 << (8 * len(data))

    def decode(self, freqs) -> int:
        f = _table(freqs)
        cum = np.cumsum(f)
        total = int(cum[-1])
        target = self.residual * total // self.width
        symbol = int(np.searchsorted(cum, target, side="right"))
        if symbol >= f.size:  # only bytes no encoder wrote get here
            raise FormatError(f"{self.what}: coded data is damaged (value past the interval)")
        start = int(cum[symbol] - f[symbol])
        self.residual = self.residual * total - self.width * start
        self.width *= int(f[symbol])
        return symbol
