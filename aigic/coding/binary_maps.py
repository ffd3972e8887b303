"""Binary maps (edge maps) by context mixing: the coder's Python entry points.

    bool map (H, W) [+ a learned predictor's weights] --encode_map--> bytes
    bytes + (H, W) [+ the same predictor]              --decode_map--> the same map

The shape is not stored (the caller stores it). A damaged payload decodes to some map of the
declared size, never to an error: the container's CRCs catch damage. Work: one pass over the
pixels, ~0.1-0.3 us each, plus the predictor's (bounded per map by its work limit). The
compiled kernel is cm_kernel.py.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .cm_kernel import run


class Predictor(NamedTuple):
    """A learned edge predictor as the kernel takes it (see aigic.models.edgenet)."""

    net: tuple  # (dy, dx, w1, b1, w2, b2, w3, b3), integer arrays
    scale: int  # fixed point of weights and hidden activations
    work: int  # weight additions per map before the predictor rests


def _net_args(predictor: Predictor | None) -> tuple:
    """The kernel's last arguments: (net, learned, scale, work limit)."""
    if predictor is not None:
        return predictor.net, True, predictor.scale, predictor.work
    v, m = np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.int64)
    v32, m32 = np.zeros(0, dtype=np.int32), np.zeros((0, 0), dtype=np.int32)
    return (v, v, m32, v32, m, v, v, np.zeros(1, dtype=np.int64)), False, 0, 0


def encode_map(bitmap: np.ndarray, predictor: Predictor | None = None) -> bytes:
    """Code a boolean map, mixing in ``predictor`` when given."""
    bits = np.ascontiguousarray(bitmap, dtype=np.uint8)
    if not bits.size:
        return b""
    none = np.zeros(0, dtype=np.uint8)
    _, data = run(bits, bits.shape[0], bits.shape[1], none, False, *_net_args(predictor))
    return data.tobytes()


def decode_map(
    data: bytes, shape: tuple[int, int], predictor: Predictor | None = None
) -> np.ndarray:
    """The map of ``shape`` (H, W) coded in ``data`` (with the encoder's ``predictor``)."""
    h, w = shape
    if not h * w:
        return np.zeros((h, w), dtype=bool)
    empty = np.zeros((1, 1), dtype=np.uint8)
    coded = np.frombuffer(data, dtype=np.uint8)
    res, _ = run(empty, h, w, coded, True, *_net_args(predictor))
    return res.astype(bool)
