"""The texture layer: the colour grid (the image downsampled 64x per side), coded in CIELAB.

    RGB (W x H) --bicubic /64--> grid (H/64, W/64, 3) --CIELAB--> quantize (steps qL, qC)
        --DPCM: residual = q - MED(left, top, top-left), raster order, channel by channel
        --two-sided geometric per channel (ratio sent once)--> binary arithmetic coder

Payload layout (codec code, grid size, steps, ratios, residuals): docs/FORMAT.md, "Texture".

The encoder searches step pairs and, for each, moves cells toward their prediction where the
bits saved outweigh the colour error (rate-distortion optimisation); it keeps the smallest
payload whose mean CIEDE2000 to the unquantized grid is at most ``max_de``.
``condition()`` is the grid upsampled with nearest-neighbour, what T2I-Adapter's colour
adapter expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..coding.bits import ONE, BitDecoder, BitEncoder, geometric, residual_bits
from ..errors import FormatError
from ..format.codes import CHUNK_TEXTURE, TEX_LAB_DPCM_V1, TEX_LAB_GEO_V2
from ..format.limits import MAX_TEXTURE_SIDE
from ..format.reader import Reader, varint
from ..imaging.color import lab_to_srgb, srgb_to_lab
from .texture_kernel import med, rdo_walk

CELL = 64
MAX_DE = 3.0  # default bound on the mean CIEDE2000 to the unquantized grid
L_STEPS = (1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 10, 12, 16, 24)
C_STEPS = (1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20, 32)
# geometric ratios x 65536: 0.03 .. 0.92, equal steps on a log scale (spelled out, not computed,
# so no platform's exp/log can change a format constant)
THETAS = (1966, 2470, 3103, 3898, 4898, 6153, 7731, 9713, 12203, 15332, 19262, 24200, 30404,
          38198, 47990, 60293)  # fmt: skip
FIRST = THETAS[15]  # ratio for the first cell, coded against mid-grey
OFFSETS = (0.0, 128.0, 128.0)  # a, b are shifted to be non-negative before quantization
SPANS = (100.0, 256.0, 256.0)  # quantized values stay in 0..ceil(span / step)


def grid_of(rgb: np.ndarray) -> np.ndarray:
    """The colour grid of an RGB uint8 array whose sides are multiples of 64 (bicubic)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    size = (max(1, w // CELL), max(1, h // CELL))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.BICUBIC), dtype=np.uint8)


def _steps(li: int, ci: int) -> np.ndarray:
    return np.array([L_STEPS[li], C_STEPS[ci], C_STEPS[ci]])


def _quantize(lab: np.ndarray, li: int, ci: int) -> np.ndarray:
    return np.round((lab + np.array(OFFSETS)) / _steps(li, ci)).astype(np.int64)


def _dequantize(q: np.ndarray, li: int, ci: int) -> np.ndarray:
    return q * _steps(li, ci) - np.array(OFFSETS)


@dataclass(frozen=True)
class _Model:
    """What the decoder knows before the cells: steps and per-channel geometric ratios."""

    li: int
    ci: int
    thetas: tuple[int, int, int]  # indices into THETAS

    def mid(self) -> list[int]:
        s = _steps(self.li, self.ci)
        return [round((50.0, 128.0, 128.0)[c] / s[c]) for c in range(3)]

    def top(self) -> list[int]:
        s = _steps(self.li, self.ci)
        return [int(np.ceil(SPANS[c] / s[c])) for c in range(3)]

    def params(self, c: int, first: bool) -> tuple[int, int]:
        return geometric(FIRST if first else THETAS[self.thetas[c]])


def _walk(model: _Model, shape, visit) -> np.ndarray:
    """Raster DPCM over the grid; ``visit(y, x, c, pred, params)`` returns the cell value."""
    gh, gw = shape
    q = np.zeros((gh, gw, 3), dtype=np.int64)
    mid, top = model.mid(), model.top()
    for y in range(gh):
        for x in range(gw):
            for c in range(3):
                pred = med(q, y, x, c, mid[c])
                v = visit(y, x, c, pred, model.params(c, not (x or y)))
                q[y, x, c] = min(max(v, 0), top[c])
    return q


def _fit_thetas(q: np.ndarray, li: int, ci: int) -> tuple[int, int, int]:
    """Per channel, the ratio index that codes the residuals of ``q`` in the fewest bits."""
    res = (q - _predictions(q, _Model(li, ci, (0, 0, 0)).mid())).reshape(-1, 3)[1:]
    best = []
    for c in range(3):
        costs = [residual_bits(res[:, c], *geometric(t)).sum() for t in THETAS]
        best.append(int(np.argmin(costs)))
    return tuple(best)


def _predictions(q: np.ndarray, mid: list[int]) -> np.ndarray:
    """Every cell's prediction from ``q`` itself, as :func:`_walk` makes it (MED inside the
    grid, the left or upper neighbour on the first row or column, ``mid`` at the origin)."""
    pred = np.empty_like(q)
    pred[0, 0] = mid
    pred[0, 1:], pred[1:, 0] = q[0, :-1], q[:-1, 0]
    a, b, d = q[1:, :-1], q[:-1, 1:], q[:-1, :-1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pred[1:, 1:] = np.where(d >= hi, lo, np.where(d <= lo, hi, a + b - d))
    return pred


_CANDS = np.array([(i, j, k) for i in (0, 1, 2) for j in (0, 1, 2) for k in (0, 1, 2)])


_OFFSETS = np.array([(i, j, k) for i in range(-2, 3) for j in range(-2, 3) for k in range(-2, 3)])


def _rdo(lab: np.ndarray, model: _Model, lam: float) -> np.ndarray:
    """Quantized grid choosing, per cell, bits + lam * CIEDE2000 over values moved toward the
    prediction by up to two steps per channel."""
    from ..imaging.metrics import ciede2000

    q0 = _quantize(lab, model.li, model.ci)
    # colour error of every value within two steps of q0, for every cell, in one call
    near = q0[:, :, None, :] + _OFFSETS
    target = np.broadcast_to(lab[:, :, None, :], near.shape)
    de = ciede2000(target, _dequantize(near, model.li, model.ci))
    mid, top = model.mid(), model.top()
    # residual bits by magnitude, per channel, for the first cell and the others: the
    # candidates' residuals stay within the grid's span, so one table lookup replaces a call
    span = int(max(top)) + 1
    bits = np.array(
        [[residual_bits(np.arange(span), *model.params(c, first)) for c in range(3)]
         for first in (False, True)]
    )  # fmt: skip
    return rdo_walk(q0, de, float(lam), bits, np.array(mid), np.array(top), _CANDS)


@dataclass(frozen=True)
class TextureLayer:
    """Quantized CIELAB grid ``q`` (gh, gw, 3), its step indices and channel ratios."""

    q: np.ndarray
    li: int
    ci: int
    thetas: tuple[int, int, int]
    name: ClassVar[str] = "texture"
    chunk_type: ClassVar[int] = CHUNK_TEXTURE

    @classmethod
    def from_grid(cls, grid_rgb: np.ndarray, *, max_de: float = MAX_DE) -> TextureLayer:
        from ..imaging.metrics import ciede2000

        lab = srgb_to_lab(grid_rgb)
        best, best_len = None, None
        for li, ci in _candidate_steps(lab, max_de):
            model = _Model(li, ci, _fit_thetas(_quantize(lab, li, ci), li, ci))
            for lam in LAMBDAS:
                q = _rdo(lab, model, lam)
                layer = cls(q, li, ci, _fit_thetas(q, li, ci))
                if ciede2000(lab, layer.lab()).mean() > max_de:
                    continue
                size = len(layer.to_payload())
                if best_len is None or size < best_len:
                    best, best_len = layer, size
        if best is None:  # even the finest steps miss max_de: keep them
            q = _quantize(lab, 0, 0)
            best = cls(q, 0, 0, _fit_thetas(q, 0, 0))
        return best

    @classmethod
    def from_image(cls, rgb: np.ndarray, **kw) -> TextureLayer:
        return cls.from_grid(grid_of(rgb), **kw)

    def lab(self) -> np.ndarray:
        return _dequantize(self.q, self.li, self.ci)

    def grid(self) -> np.ndarray:
        """Decoded grid as RGB uint8 (gh, gw, 3)."""
        return lab_to_srgb(self.lab())

    def to_payload(self) -> bytes:
        gh, gw = self.q.shape[:2]
        enc = BitEncoder()
        for value in (self.li, self.ci, *self.thetas):
            for i in range(4):
                enc.bit((value >> i) & 1, ONE // 2)
        model = _Model(self.li, self.ci, self.thetas)
        q = self.q

        def visit(y, x, c, pred, params):
            enc.residual(int(q[y, x, c]) - pred, *params)
            return int(q[y, x, c])

        _walk(model, (gh, gw), visit)
        return bytes([TEX_LAB_GEO_V2]) + varint(gw) + varint(gh) + enc.to_bytes()

    @classmethod
    def from_payload(cls, payload: bytes) -> TextureLayer:
        r = Reader(payload)
        codec = r.take(1, "texture codec")[0]
        if codec == TEX_LAB_DPCM_V1:
            raise FormatError("texture payload: codec 0 is a pre-release colour coder; re-encode")
        if codec != TEX_LAB_GEO_V2:
            raise FormatError(f"texture payload: unknown codec code {codec}")
        gw = r.varint("texture grid width", MAX_TEXTURE_SIDE)
        gh = r.varint("texture grid height", MAX_TEXTURE_SIDE)
        if not gw or not gh:
            raise FormatError(f"texture payload: empty grid {gw}x{gh}")
        dec = BitDecoder(payload[r.pos :])
        li, ci, *thetas = (sum(dec.bit(ONE // 2) << i for i in range(4)) for _ in range(5))
        model = _Model(li, ci, tuple(thetas))
        q = _walk(model, (gh, gw), lambda y, x, c, pred, params: pred + dec.residual(*params))
        return cls(q, li, ci, tuple(thetas))

    def recolor(self, cells, rgb) -> TextureLayer:
        """A copy with the cells ``[(row, col), ...]`` set to ``rgb``: one 0..255 triple for
        all of them, or one triple per cell."""
        q = self.q.copy()
        colours = np.broadcast_to(np.asarray(rgb, dtype=np.float64), (len(cells), 3))
        for (row, col), value in zip(cells, _quantize(srgb_to_lab(colours), self.li, self.ci)):
            if not (0 <= row < q.shape[0] and 0 <= col < q.shape[1]):
                raise ValueError(
                    f"cell (row {row}, column {col}) is outside the {q.shape[1]}x{q.shape[0]} "
                    f"grid ({q.shape[1]} columns x {q.shape[0]} rows: rows 0..{q.shape[0] - 1}, "
                    f"columns 0..{q.shape[1] - 1})"
                )
            q[row, col] = value
        return TextureLayer(q, self.li, self.ci, _fit_thetas(q, self.li, self.ci))

    def condition(self, size: tuple[int, int]) -> np.ndarray:
        from PIL import Image

        return np.asarray(Image.fromarray(self.grid()).resize(size, Image.NEAREST))

    def preview(self) -> np.ndarray:
        return self.grid()


LAMBDAS = (1.5, 4.0)
N_CANDIDATES = 6  # step pairs tried with rate-distortion optimisation


def _candidate_steps(lab: np.ndarray, max_de: float) -> list[tuple[int, int]]:
    """Step pairs whose plain quantization stays near ``max_de``, coarsest (cheapest) first."""
    from ..imaging.metrics import ciede2000

    pairs = [(li, ci) for li in range(len(L_STEPS)) for ci in range(len(C_STEPS))]
    # every step pair's plain quantization, judged in one call
    each = np.stack([_dequantize(_quantize(lab, li, ci), li, ci) for li, ci in pairs])
    des = ciede2000(np.broadcast_to(lab, each.shape), each).reshape(len(pairs), -1).mean(1)
    scored = [(-(li + ci), li, ci) for (li, ci), de in zip(pairs, des) if de <= max_de]
    scored.sort()
    return [(li, ci) for _, li, ci in scored[:N_CANDIDATES]] or [(0, 0)]
