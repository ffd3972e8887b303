"""A second decoder of edge-map and texture payloads, written from docs/FORMAT.md (sections
6, 6.1, 6.2, 6.3's links drawing, 8 and 10.1) alone: it imports nothing of aigic's coders, so
where it agrees with aigic on the test vectors, the spec says enough to decode them. Plain
Python and NumPy, slow (tens of µs per pixel): for small test vectors only."""

from __future__ import annotations

import numpy as np

SQ = [1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994,
      3348, 3607, 3785, 3901, 3975, 4022, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094]  # fmt: skip
HASH = 2654435761


def squash(d: int) -> int:
    if d > 2047:
        return 4095
    if d < -2047:
        return 1
    i, w = (d >> 7) + 16, d & 127
    return (SQ[i] * (128 - w) + SQ[i + 1] * w + 64) >> 7


def _stretch_table() -> list[int]:
    table = [2047] * 4096
    values = [(d, squash(d)) for d in range(-2047, 2048)]
    for p in range(4096):
        table[p] = next((d for d, s in values if s >= p), 2047)
    return table


STRETCH = _stretch_table()


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


class _Coder:
    """Section 10.1's decoder; probabilities of ``k`` bits (12 for edge maps, 16 for texture)."""

    def __init__(self, body: bytes):
        self.body, self.pos = body, 4
        self.x1, self.x2 = 0, 0xFFFFFFFF
        self.x = int.from_bytes((body[:4] + b"\0\0\0\0")[:4], "big")

    def bit(self, p: int, k: int = 12) -> int:
        r = self.x2 - self.x1
        mid = self.x1 + (r >> k) * p + (((r & ((1 << k) - 1)) * p) >> k)
        bit = 1 if self.x <= mid else 0
        if bit:
            self.x2 = mid
        else:
            self.x1 = mid + 1
        while (self.x1 ^ self.x2) & 0xFF000000 == 0:
            nxt = self.body[self.pos] if self.pos < len(self.body) else 0
            self.x = ((self.x << 8) & 0xFFFFFFFF) | nxt
            self.pos += 1
            self.x1 = (self.x1 << 8) & 0xFFFFFFFF
            self.x2 = ((self.x2 << 8) & 0xFFFFFFFF) | 255
        return bit


def _nearest(row: list[int], w: int) -> list[int]:
    out = []
    for x in range(w):
        left = next((d for d in range(16) if x - d >= 0 and row[x - d]), 16)
        right = next((d for d in range(16) if x + d < w and row[x + d]), 16)
        if min(left, right) >= 16:
            out.append(0)
        else:
            out.append(16 - left if left <= right else 16 + right)
    return out


def _network_input(m, y, x, net, work):
    """Section 6.2: (v, work after it)."""
    w1, b1, w2, b2, w3, b3, empty = net
    h_rows = []
    for dy in range(-7, 0):
        for dx in range(-7, 8):
            h_rows.append(_at(m, y + dy, x + dx))
    h_rows += [_at(m, y, x + dx) for dx in range(-7, 0)]
    on = [i for i, v in enumerate(h_rows) if v]
    if not on:
        return empty, work
    h = b1 + w1[on].sum(axis=0)
    return _head(h, w2, b2, w3, b3), work + (len(on) + 1) * len(b1) + len(b2) * (len(b1) + 1)


def _head(h, w2, b2, w3, b3) -> int:
    h = np.maximum(h, 0)
    if w2.size:
        g = np.maximum(b2 + h @ w2, 0) >> 10
        z = int(b3[0] + g @ w3)
    else:
        z = int(b3[0] + h @ w3)
    return min(max(z >> 12, -2047), 2047)


def _at(m, y, x) -> int:
    return m[y][x] if 0 <= y < len(m) and 0 <= x < len(m[0]) else 0


def decode_edge_map(payload: bytes, model: dict | None) -> np.ndarray:
    """The grid of an edge-map structure payload (codec byte, kind byte, two varints, map).
    ``model``: the predictor's arrays (w1, b1, w2, b2, w3, b3) for codecs that mix one in."""
    gw, pos = _varint(payload, 2)
    gh, pos = _varint(payload, pos)
    coder = _Coder(payload[pos:])
    H, W = gh, gw
    B = 12
    while B < 22 and (1 << (B - 2)) < H * W:
        B += 1
    M = (1 << B) - 1
    sizes = (64, 1024, 65536, 1 << B, 1 << B)
    P = [[32768] * s for s in sizes]
    N = [[0] * s for s in sizes]
    learned = model is not None
    if learned:
        arrays = [
            np.asarray(model[k], dtype=np.int64) for k in ("w1", "b1", "w2", "b2", "w3", "b3")
        ]
        empty = _head(arrays[1].copy(), *arrays[2:])
        net = (*arrays, empty)
        W1 = [[1 << 12] * 5 + [1 << 14, 1 << 16] for _ in range(64)]
        W2 = [[1 << 12] * 5 + [1 << 14, 1 << 16] for _ in range(16)]
        rate = 6
    else:
        W1 = [[1 << 14] * 7 for _ in range(64)]
        rate = 14
    A = [[squash((j - 16) * 128) * 16 for j in range(33)] for _ in range(1024)]
    m = [[0] * W for _ in range(H)]
    work = 0
    n1 = [0] * W
    for y in range(H):
        n2 = n1
        n1 = _nearest(m[y - 1], W) if y >= 1 else [0] * W
        run = 15
        for x in range(W):

            def r(dy, dx, y=y, x=x):
                return _at(m, y - dy, x + dx)

            a = (
                r(0, -1)
                | r(0, -2) << 1
                | r(1, -1) << 2
                | r(1, 0) << 3
                | r(1, 1) << 4
                | r(2, 0) << 5
            )
            b = a | r(1, -2) << 6 | r(1, 2) << 7 | r(2, -1) << 8 | r(2, 1) << 9
            c = b | r(0, -3) << 10 | r(0, -4) << 11 | r(1, -3) << 12 | r(1, 3) << 13
            c |= r(2, -2) << 14 | r(2, 2) << 15
            d = c | r(3, -1) << 16 | r(3, 0) << 17 | r(3, 1) << 18 | r(2, -3) << 19
            d |= r(2, 3) << 20 | r(1, -4) << 21 | r(1, 4) << 22 | r(3, -2) << 23
            d |= r(3, 2) << 24 | r(0, -5) << 25 | r(1, -5) << 26 | r(1, 5) << 27
            e = run | n1[x] << 4 | n2[x] << 9 | r(0, -1) << 14
            idx = [a, b, c, ((d * HASH) >> 7) & M, ((e * HASH + 12345) >> 7) & M]
            ins = [STRETCH[P[k][idx[k]] >> 4] for k in range(5)] + [256, 0]
            s = -1
            if learned:
                if work < 1 << 30:
                    ins[6], work = _network_input(m, y, x, net, work)
                s = min(max(ins[6] + 2048, 0), 4095) >> 8
                weights = [(W1[a][k] + W2[s][k]) >> 1 for k in range(7)]
            else:
                weights = W1[a]
            pm = squash(sum(w * i for w, i in zip(weights, ins)) >> 16)
            t = min(max(STRETCH[pm] + 2048, 0), 4095)
            lo, f = t >> 7, t & 127
            pa = (A[b][lo] * (128 - f) + A[b][lo + 1] * f) >> 11
            p = min(max((pm + pa) >> 1, 1), 4095)
            bit = coder.bit(p)
            m[y][x] = bit
            run = 0 if bit else min(run + 1, 15)
            for k in range(5):
                n = N[k][idx[k]]
                P[k][idx[k]] += ((bit * 65536 - P[k][idx[k]]) * (131072 // (2 * n + 3))) >> 16
                N[k][idx[k]] = min(n + 1, 255)
            err = ((bit << 12) - pm) * rate
            for k in range(7):
                W1[a][k] += (ins[k] * err) >> 16
                if s >= 0:
                    W2[s][k] += (ins[k] * err) >> 16
            A[b][lo] += ((bit * 65535 - A[b][lo]) * (128 - f)) >> 13
            A[b][lo + 1] += ((bit * 65535 - A[b][lo + 1]) * f) >> 13
    return np.array(m, dtype=bool)


# ---- the texture payload (FORMAT.md section 8) ----------------------------------------------
L_STEPS = (1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 10, 12, 16, 24)
C_STEPS = (1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20, 32)
THETAS = (1966, 2470, 3103, 3898, 4898, 6153, 7731, 9713, 12203, 15332, 19262, 24200, 30404,
          38198, 47990, 60293)  # fmt: skip
D65 = (0.95047, 1.0, 1.08883)
SRGB = ((0.4124564, 0.3575761, 0.1804375), (0.2126729, 0.7151522, 0.0721750),
        (0.0193339, 0.1191920, 0.9503041))  # fmt: skip


class _Coder16(_Coder):
    """Section 10.1's decoder with 16-bit probabilities, and section 8's residuals."""

    def bit16(self, p: int) -> int:
        return self.bit(p, 16)

    def residual(self, t: int) -> int:
        theta = t / 65536
        p0 = min(65535, max(1, int(65536 * (1 - theta) / (1 + theta) + 0.5)))
        if self.bit16(p0):
            return 0
        sign = -1 if self.bit16(32768) else 1
        m, ones = 1, 0
        while ones < 255 and self.bit16(t):
            m, ones = m + 1, ones + 1
        return sign * m


def decode_texture(payload: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(q: the quantized cells, rows x columns x 3; the grid in sRGB, uint8)."""
    gw, pos = _varint(payload, 1)
    gh, pos = _varint(payload, pos)
    coder = _Coder16(payload[pos:])
    li, ci, *ratio = (sum(coder.bit16(32768) << i for i in range(4)) for _ in range(5))
    steps = (L_STEPS[li], C_STEPS[ci], C_STEPS[ci])
    mid = [round(m / s) for m, s in zip((50, 128, 128), steps)]
    top = [int(np.ceil(span / s)) for span, s in zip((100, 256, 256), steps)]
    q = [[[0, 0, 0] for _ in range(gw)] for _ in range(gh)]
    for y in range(gh):
        for x in range(gw):
            for c in range(3):
                if x == 0 and y == 0:
                    pred = mid[c]
                elif y == 0:
                    pred = q[y][x - 1][c]
                elif x == 0:
                    pred = q[y - 1][x][c]
                else:
                    a, b, d = q[y][x - 1][c], q[y - 1][x][c], q[y - 1][x - 1][c]
                    pred = (
                        min(a, b) if d >= max(a, b) else max(a, b) if d <= min(a, b) else a + b - d
                    )
                t = THETAS[15] if x == 0 and y == 0 else THETAS[ratio[c]]
                q[y][x][c] = min(max(pred + coder.residual(t), 0), top[c])
    q = np.array(q, dtype=np.int64)
    lab = q * np.array(steps) - np.array([0.0, 128.0, 128.0])
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f > 6 / 29, f**3, 3 * (6 / 29) ** 2 * (f - 4 / 29)) * np.array(D65)
    lin = np.clip(xyz @ np.linalg.inv(np.array(SRGB)).T, 0, 1)
    c = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return q, np.clip(np.floor(c * 255 + 0.5), 0, 255).astype(np.uint8)


def draw_links(grid: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Section 6.3's links drawing of a grid at ``size`` (W, H), for grids coarser than it."""
    w, h = size
    gh, gw = grid.shape
    sx, sy = w / gw, h / gh
    m = int(np.ceil(max(sx, sy)))
    out = np.zeros((h, w), dtype=bool)
    for y, x in zip(*np.nonzero(grid)):
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1), (-1, 1)):
            ny, nx = y + dy, x + dx
            if (dx, dy) != (0, 0) and not (0 <= ny < gh and 0 <= nx < gw and grid[ny, nx]):
                continue
            for j in range(m + 1):
                px = int(np.floor((x + dx * j / m + 0.5) * sx))
                py = int(np.floor((y + dy * j / m + 0.5) * sy))
                out[min(max(py, 0), h - 1), min(max(px, 0), w - 1)] = True
    return out
