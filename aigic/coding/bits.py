"""A byte-aligned binary arithmetic coder in plain Python integers, for short payloads.

    bits + P(1) as 16-bit integers --BitEncoder--> bytes (no padding words)
    bytes --BitDecoder--> the same bits, given the same probabilities

The coder is the carry-less 32-bit design of :mod:`aigic.coding.cm_kernel` (which compiles
its own copy with a 12-bit probability for speed); here probabilities have 16 bits, so a model's exact
values cost what they should. It ends with the fewest bytes that identify the final interval
and drops trailing zero bytes: the decoder reads zeros past the end. Helpers code integers
under a two-sided geometric distribution (zero flag, sign, unary magnitude), the usual model
of prediction residuals. A decoder never reads past ``MAX_UNARY`` steps of one magnitude.
"""

from __future__ import annotations

import math

import numpy as np

ONE = 1 << 16
MAX_UNARY = 255


def prob16(p: float) -> int:
    """A probability as the coder's 16-bit integer, kept inside 1..65535."""
    return min(ONE - 1, max(1, int(p * ONE + 0.5)))


def geometric(theta16: int) -> tuple[int, int]:
    """16-bit P(zero) and P(one more step) of a two-sided geometric with ratio theta."""
    theta = theta16 / ONE
    return prob16((1 - theta) / (1 + theta)), theta16


class BitEncoder:
    def __init__(self) -> None:
        self.x1, self.x2, self.out = 0, 0xFFFFFFFF, bytearray()

    def bit(self, bit: int, p1: int) -> None:
        """Code ``bit`` with P(1) = p1 / 65536."""
        r = self.x2 - self.x1
        xmid = self.x1 + (r >> 16) * p1 + (((r & 0xFFFF) * p1) >> 16)
        if bit:
            self.x2 = xmid
        else:
            self.x1 = xmid + 1
        while not (self.x1 ^ self.x2) & 0xFF000000:
            self.out.append(self.x2 >> 24)
            self.x1 = (self.x1 << 8) & 0xFFFFFFFF
            self.x2 = ((self.x2 << 8) & 0xFFFFFFFF) | 0xFF

    def residual(self, r: int, p_zero: int, p_more: int) -> None:
        """An integer under a two-sided geometric: zero?, sign, then |r| - 1 in unary."""
        self.bit(r == 0, p_zero)
        if r:
            self.bit(r < 0, ONE // 2)
            for _ in range(min(abs(r) - 1, MAX_UNARY)):
                self.bit(1, p_more)
            if abs(r) - 1 < MAX_UNARY:
                self.bit(0, p_more)

    def to_bytes(self) -> bytes:
        out = self.out + (bytes([(self.x1 >> 24) + 1]) if self.x1 else b"")
        return bytes(out).rstrip(b"\0")


class BitDecoder:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.x1, self.x2, self.x = data, 4, 0, 0xFFFFFFFF, 0
        for i in range(4):
            self.x = (self.x << 8) | (data[i] if i < len(data) else 0)

    def bit(self, p1: int) -> int:
        r = self.x2 - self.x1
        xmid = self.x1 + (r >> 16) * p1 + (((r & 0xFFFF) * p1) >> 16)
        bit = int(self.x <= xmid)
        if bit:
            self.x2 = xmid
        else:
            self.x1 = xmid + 1
        while not (self.x1 ^ self.x2) & 0xFF000000:
            nxt = self.data[self.pos] if self.pos < len(self.data) else 0
            self.x = ((self.x << 8) & 0xFFFFFFFF) | nxt
            self.pos += 1
            self.x1 = (self.x1 << 8) & 0xFFFFFFFF
            self.x2 = ((self.x2 << 8) & 0xFFFFFFFF) | 0xFF
        return bit

    def residual(self, p_zero: int, p_more: int) -> int:
        if self.bit(p_zero):
            return 0
        sign = -1 if self.bit(ONE // 2) else 1
        m = 1
        while m <= MAX_UNARY and self.bit(p_more):
            m += 1
        return sign * m


def residual_bits(r, p_zero: int, p_more: int) -> np.ndarray:
    """Ideal code length in bits of :meth:`BitEncoder.residual` for every element of ``r``
    (magnitudes below MAX_UNARY): what rate-distortion search weighs."""
    m = np.abs(np.asarray(r, dtype=np.float64))
    pz, pm = p_zero / ONE, p_more / ONE
    nonzero = -math.log2(1 - pz) + 1 - (m - 1) * math.log2(pm) - math.log2(1 - pm)
    return np.where(m == 0, -math.log2(pz), nonzero)
