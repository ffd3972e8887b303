"""Lossless coding of a binary map with a two-level context model and constriction.

    map (H, W) of {0,1} --blocks: 8x8 "any edge?" flags, context = 4 causal block flags
                       --pixels in non-empty blocks, raster order, each with
                         P(1) = blend(big 14-pixel context counts, small 6-pixel context counts)
                       --entropy.Encoder--> bytes

The block flags skip the empty background for free; the blend lets the large template learn
fast from the small one on maps of a few thousand pixels. Encoder and decoder run the same
Python model loop (:func:`_run`), so their probabilities are identical by construction.
"""

from __future__ import annotations

import numpy as np

from .entropy import Decoder, Encoder

BLOCK = 8
PAD = 3
# (dy, dx) offsets of the causal templates
BIG = (
    (0, -1),
    (0, -2),
    (0, -3),
    (0, -4),
    (-1, -2),
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (-1, 2),
    (-1, 3),
    (-2, -1),
    (-2, 0),
    (-2, 1),
    (-1, -3),
)
SMALL = ((0, -1), (0, -2), (-1, -1), (-1, 0), (-1, 1), (-2, 0))
K_BLEND = 2.0


def _blocks(shape: tuple[int, int]) -> tuple[int, int]:
    return -(-shape[0] // BLOCK), -(-shape[1] // BLOCK)


def _p(n1: int, n: int, prior: float, k: float) -> float:
    return (n1 + k * prior) / (n + k)


def _run_flags(flags: np.ndarray | None, shape, coder) -> np.ndarray:
    bh, bw = shape
    out = np.zeros((bh + 1, bw + 2), dtype=np.int8)
    n1, n = np.zeros(16), np.zeros(16)
    ps, syms = [], []
    for y in range(bh):
        for x in range(bw):
            c = out[y, x] | out[y + 1, x] << 1 | out[y, x + 1] << 2 | out[y, x + 2] << 3
            p = _p(n1[c], n[c], 0.3, 0.8)
            bit = coder.bit(p) if flags is None else int(flags[y, x])
            ps.append(p), syms.append(bit)
            out[y + 1, x + 1] = bit
            n1[c] += bit
            n[c] += 1
    if flags is not None:
        coder.bits(syms, ps)
    return out[1:, 1:-1].astype(bool)


def _run_pixels(bits: np.ndarray | None, mask: np.ndarray, coder) -> np.ndarray:
    h, w = mask.shape
    img = np.zeros((h + PAD, w + 2 * PAD), dtype=np.int64)
    big1, big = {}, {}
    small1, small = np.zeros(64), np.zeros(64)
    ps, syms = [], []
    ys, xs = np.nonzero(mask)
    for y, x in zip(ys.tolist(), xs.tolist()):
        yy, xx = y + PAD, x + PAD
        row0, row1, row2 = img[yy], img[yy - 1], img[yy - 2]
        s = row0[xx - 1] | row0[xx - 2] << 1 | row1[xx - 1] << 2 | row1[xx] << 3
        s |= row1[xx + 1] << 4 | row2[xx] << 5
        b = s | row0[xx - 3] << 6 | row0[xx - 4] << 7 | row1[xx - 2] << 8 | row1[xx + 2] << 9
        b |= row1[xx + 3] << 10 | row2[xx - 1] << 11 | row2[xx + 1] << 12 | row1[xx - 3] << 13
        ps_ = _p(small1[s], small[s], 0.05, 0.4)
        p = _p(big1.get(b, 0), big.get(b, 0), ps_, K_BLEND)
        bit = coder.bit(p) if bits is None else int(bits[y, x])
        ps.append(p), syms.append(bit)
        img[yy, xx] = bit
        small1[s] += bit
        small[s] += 1
        big1[b] = big1.get(b, 0) + bit
        big[b] = big.get(b, 0) + 1
    if bits is not None:
        coder.bits(syms, ps)
    return img[PAD:, PAD : PAD + w].astype(bool)


def _block_mask(flags: np.ndarray, shape) -> np.ndarray:
    full = np.kron(flags, np.ones((BLOCK, BLOCK), dtype=bool))
    return full[: shape[0], : shape[1]]


def encode_bitmap(bitmap: np.ndarray) -> bytes:
    """Code a boolean map; its shape is not stored (the caller stores it)."""
    bitmap = np.asarray(bitmap, dtype=bool)
    bh, bw = _blocks(bitmap.shape)
    padded = np.zeros((bh * BLOCK, bw * BLOCK), dtype=bool)
    padded[: bitmap.shape[0], : bitmap.shape[1]] = bitmap
    flags = padded.reshape(bh, BLOCK, bw, BLOCK).any(axis=(1, 3))
    enc = Encoder()
    _run_flags(flags, (bh, bw), enc)
    _run_pixels(bitmap, _block_mask(flags, bitmap.shape), enc)
    return enc.to_bytes()


def decode_bitmap(data: bytes, shape: tuple[int, int]) -> np.ndarray:
    dec = Decoder(data, "structure payload")
    flags = _run_flags(None, _blocks(shape), dec)
    return _run_pixels(None, _block_mask(flags, shape), dec)
