"""The texture layer: the colour grid (the image downsampled 64x per side), coded in CIELAB.

    RGB (W x H) --bicubic /64--> grid (H/64, W/64, 3) --CIELAB--> quantize (steps qL, qC)
        --DPCM: residual = q - MED(left, top, top-left), raster order, channel by channel
        --adaptive two-sided geometric model, integer probabilities--> range coder -> payload

Payload: codec code, grid width, grid height (varints), step index, coded residuals.
The encoder picks the coarsest step whose mean CIEDE2000 to the unquantized grid stays under
``max_de`` (rate control may pass a fixed step). ``condition()`` is the grid upsampled with
nearest-neighbour, what T2I-Adapter's colour adapter expects.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .color import lab_to_srgb, srgb_to_lab
from .container import _Reader, _varint
from .entropy import Decoder, Encoder
from .errors import FormatError
from .registry import TEX_LAB_DPCM_V1

CELL = 64
MAX_DE = 2.9  # default bound on the mean CIEDE2000 to the unquantized grid
# (L step, a/b step), finest first; the payload stores the index (frozen with the codec code)
STEPS = (
    (1, 1),
    (2, 2),
    (2, 3),
    (3, 4),
    (3, 5),
    (4, 6),
    (4, 7),
    (5, 8),
    (5, 9),
    (6, 10),
    (6, 12),
    (7, 14),
    (8, 16),
    (10, 20),
    (12, 24),
    (16, 32),
)
OFFSETS = (0, 128, 128)  # a, b are shifted to be non-negative before quantization
RMAX = 64  # residuals are clipped to +-RMAX (quantized units)
MAX_GRID_SIDE = 256


def grid_of(rgb: np.ndarray) -> np.ndarray:
    """The colour grid of an RGB uint8 array whose sides are multiples of 64 (bicubic)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    size = (max(1, w // CELL), max(1, h // CELL))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC), dtype=np.uint8)


def _quantize(lab: np.ndarray, step: int) -> np.ndarray:
    ql, qc = STEPS[step]
    shifted = lab + np.array(OFFSETS)
    return np.round(shifted / np.array([ql, qc, qc])).astype(np.int64)


def _dequantize(q: np.ndarray, step: int) -> np.ndarray:
    ql, qc = STEPS[step]
    return q * np.array([ql, qc, qc], dtype=np.float64) - np.array(OFFSETS)


def _table(scale: int) -> np.ndarray:
    """Integer two-sided geometric weights for residuals -RMAX..RMAX; ``scale`` in 0..15."""
    num = 16 + 15 * scale  # decay num/(num+16): sharper at low scale
    w = [1 << 24]
    for _ in range(RMAX):
        w.append(w[-1] * num // (num + 16) + 1)
    w = np.array(w, dtype=np.float64)
    return np.concatenate([w[:0:-1], w])


_TABLES = [_table(s) for s in range(16)]


def _med(q: np.ndarray, y: int, x: int, c: int) -> int:
    if y == 0 and x == 0:
        return 0
    if y == 0:
        return int(q[y, x - 1, c])
    if x == 0:
        return int(q[y - 1, x, c])
    a, b, d = int(q[y, x - 1, c]), int(q[y - 1, x, c]), int(q[y - 1, x - 1, c])
    return min(a, b) if d >= max(a, b) else max(a, b) if d <= min(a, b) else a + b - d


_CANDS = np.array([(i, j, k) for i in (0, 1, 2) for j in (0, 1, 2) for k in (0, 1, 2)])


def _bits(table: np.ndarray, r: np.ndarray) -> np.ndarray:
    return -np.log2(table[np.clip(r, -RMAX, RMAX) + RMAX] / table.sum())


def _rdo_pick(target, preds, q0, tables, step, lam) -> np.ndarray:
    """Quantized cell value minimizing bits + lam * CIEDE2000, moving from ``q0`` toward ``preds``."""
    from .metrics import ciede2000

    toward = np.sign(np.asarray(preds) - q0)
    cands = q0 + _CANDS * toward
    cost = sum(_bits(tables[c], cands[:, c] - preds[c]) for c in range(3))
    cost = cost + lam * ciede2000(np.repeat(target[None], len(cands), 0), _dequantize(cands, step))
    return cands[int(np.argmin(cost))]


def _code(q, shape: tuple[int, int], step: int, coder, target=None, lam: float = 0.0):
    """Run the DPCM model over the grid; ``q`` None decodes, else codes ``q`` (RDO if ``target``)."""
    gh, gw = shape
    ql, qc = STEPS[step]
    mid = (round(50 / ql), round(128 / qc), round(128 / qc))
    out = np.zeros((gh, gw, 3), dtype=np.int64)
    acc = [4, 4, 4]  # running mean |residual| * 4 per channel (integer)
    for y in range(gh):
        for x in range(gw):
            preds = [_med(out, y, x, c) if (y or x) else mid[c] for c in range(3)]
            tables = [_TABLES[min(15, acc[c] // 2)] for c in range(3)]
            cell = q[y, x] if q is not None and target is None else None
            if q is not None and target is not None:
                cell = _rdo_pick(target[y, x], preds, q[y, x], tables, step, lam)
            for c in range(3):
                if cell is None:
                    r = coder.categorical(tables[c]) - RMAX
                else:
                    r = int(np.clip(cell[c] - preds[c], -RMAX, RMAX))
                    coder.categorical(r + RMAX, tables[c])
                out[y, x, c] = preds[c] + r
                acc[c] = (3 * acc[c] + 4 * abs(r) + 2) // 4
    return out


@dataclass(frozen=True)
class TextureLayer:
    """Quantized CIELAB grid: ``q`` (gh, gw, 3) integers and the step index."""

    q: np.ndarray
    step: int

    @classmethod
    def from_grid(
        cls, grid_rgb: np.ndarray, *, step: int | None = None, max_de: float = MAX_DE
    ) -> TextureLayer:
        from .metrics import ciede2000

        lab = srgb_to_lab(grid_rgb)
        best, best_bits = None, float("inf")
        for s in [step] if step is not None else SEARCH_STEPS:
            for lam in LAMBDAS:
                q = _code(_quantize(lab, s), lab.shape[:2], s, _Count(), lab, lam)
                layer = cls(_code(q, lab.shape[:2], s, _Null()), s)
                bits = _count_bits(layer)
                ok = ciede2000(lab, layer.lab()).mean() <= max_de
                if (ok or step is not None) and bits < best_bits:
                    best, best_bits = layer, bits
        if best is None:  # not even the finest step reaches max_de: keep the finest
            best = cls(_code(_quantize(lab, 0), lab.shape[:2], 0, _Null()), 0)
        return best

    @classmethod
    def from_image(cls, rgb: np.ndarray, **kw) -> TextureLayer:
        return cls.from_grid(grid_of(rgb), **kw)

    def lab(self) -> np.ndarray:
        return _dequantize(self.q, self.step)

    def grid(self) -> np.ndarray:
        """Decoded grid as RGB uint8 (gh, gw, 3)."""
        return lab_to_srgb(self.lab())

    def to_payload(self) -> bytes:
        gh, gw = self.q.shape[:2]
        enc = Encoder()
        _code(self.q, (gh, gw), self.step, enc)
        return (
            bytes([TEX_LAB_DPCM_V1])
            + _varint(gw)
            + _varint(gh)
            + bytes([self.step])
            + enc.to_bytes()
        )

    @classmethod
    def from_payload(cls, payload: bytes) -> TextureLayer:
        r = _Reader(payload)
        if r.take(1, "texture codec")[0] != TEX_LAB_DPCM_V1:
            raise FormatError(f"texture payload: unknown codec code {payload[0]}")
        gw = r.varint("texture grid width", MAX_GRID_SIDE)
        gh = r.varint("texture grid height", MAX_GRID_SIDE)
        step = r.take(1, "texture step")[0]
        if not gw or not gh or step >= len(STEPS):
            raise FormatError(f"texture payload: bad grid {gw}x{gh} or step {step}")
        return cls(_code(None, (gh, gw), step, Decoder(payload[r.pos :], "texture payload")), step)

    def recolor(self, cells, rgb) -> TextureLayer:
        """A copy with the cells ``[(row, col), ...]`` set to ``rgb``: one 0..255 triple for
        all of them, or one triple per cell."""
        q = self.q.copy()
        colours = np.broadcast_to(np.asarray(rgb, dtype=np.float64), (len(cells), 3))
        for (row, col), value in zip(cells, _quantize(srgb_to_lab(colours), self.step)):
            if not (0 <= row < q.shape[0] and 0 <= col < q.shape[1]):
                raise ValueError(
                    f"cell ({row}, {col}) is outside the {q.shape[0]}x{q.shape[1]} grid"
                )
            q[row, col] = value
        return TextureLayer(_code(q, q.shape[:2], self.step, _Null()), self.step)

    def condition(self, size: tuple[int, int]) -> np.ndarray:
        from PIL import Image

        return np.asarray(Image.fromarray(self.grid()).resize(size, Image.NEAREST))

    def preview(self) -> np.ndarray:
        return self.grid()


LAMBDAS = (2.0, 8.0)
SEARCH_STEPS = range(4, 10)


def _count_bits(layer: TextureLayer) -> float:
    counter = _Count()
    _code(layer.q, layer.q.shape[:2], layer.step, counter)
    return counter.bits


class _Count:
    """A coder that only adds up the ideal code length."""

    def __init__(self) -> None:
        self.bits = 0.0

    def categorical(self, symbol, probs):
        self.bits -= float(np.log2(probs[symbol] / probs.sum()))
        return symbol


class _Null:
    """A coder that codes nothing: runs the model to get what the decoder will reconstruct."""

    def categorical(self, symbol, probs=None):
        return symbol
