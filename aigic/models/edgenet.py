"""A learned predictor of edge pixels: a small integer network, one input of the edge-map coder.

    causal window: the 7 rows above (15 pixels wide, centred) and 7 pixels to the left
      --layer 1: bias + the weight rows of the set pixels --ReLU--> hidden (fixed point 2^10)
      --[layer 2 --ReLU-->] --output--> log-odds of an edge, in the kernel's stretch units
                                        (256 per nat, clipped to +-2047)

All weights are integers (``aigic/models/assets/edge_model_v*.npz``, each pinned by SHA-256) and all
arithmetic is integer, so encoder and decoder compute the same prediction on every machine.
Trained by ``scripts/train_edge_model.py`` on maps of natural photographs (not AIGIs); the
context-mixing coder then adapts to each map, so the predictor only has to be a good start.
Each structure codec names its model: codec 3 model 1 (Canny maps of 14 photos), codec 4
model 2 (the same network, Canny maps of 23 photos), codec 8 model 3 (PiDiNet sketch maps of
the 23, pooled to grids), codec 9 model 4 (the full-size sketch maps), codec 10 model 5
(the Canny maps of the 23 thinned on grids, as the encoder's "lines" style makes them); a
model, once shipped, never changes.
A map's predictions stop after ``WORK`` weight additions (the input is 0 from then on), so a
hostile map of the largest size decodes about as fast as an honest 512 x 512 one.

The network runs inside the compiled binary-map coder (aigic/coding/cm_kernel.py); this module
holds its weights, window and constants, handed to the coder as a ``Predictor``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..coding.binary_maps import Predictor
from .pinned import read_npz

R = 7  # window: R rows above, R columns each side; R pixels to the left in the current row
N_WINDOW = R * (2 * R + 1) + R
SCALE = 10  # fixed point of weights and hidden activations
WORK = 1 << 30  # weight additions per map; past this the predictor rests (bounds decode time)
ASSETS = Path(__file__).parent / "assets"
MODELS = {  # version: (file, SHA-256)
    1: ("edge_model_v1.npz", "d84a4defe79d6b8e8fab9e6408a028085f30480273846e6326e70621b6555e23"),
    2: ("edge_model_v2.npz", "cb9c959c135789de5a669ec463777ed62f548f15a93a82fe29325346d16a1585"),
    3: ("edge_model_v3.npz", "ed7c1de8b6755e2edec8425b432f7b3a0eec47e37912a5ba205155c53da2b22a"),
    4: ("edge_model_v4.npz", "8914ef28f58a8dbe7811e856cf6b53df59f5e43f5e4e7398af5d28d42f97c569"),
    5: ("edge_model_v5.npz", "cd6107eb8cf02b5a3846bf9af1910850a7762aeba149cba54fe1574cc18aafc3"),
}
LATEST = 2


def window_offsets() -> tuple[np.ndarray, np.ndarray]:
    """(dy, dx) of each input, in the order of the weight rows: rows above top to bottom,
    left to right, then the current row's pixels left to right."""
    dy = [y - R for y in range(R) for _ in range(2 * R + 1)] + [0] * R
    dx = [x - R for _ in range(R) for x in range(2 * R + 1)] + [x - R for x in range(R)]
    return np.array(dy, dtype=np.int64), np.array(dx, dtype=np.int64)


@lru_cache(maxsize=2)
def load(version: int = LATEST) -> tuple[np.ndarray, ...]:
    """Model ``version``'s (dy, dx, w1, b1, w2, b2, w3, b3): integer arrays; w2 and b2 are
    empty for a network with one hidden layer."""
    name, sha256 = MODELS[version]
    return read(ASSETS / name, sha256)


def read(path: Path, sha256: str) -> tuple[np.ndarray, ...]:
    """The network in ``path``, refused unless the file's SHA-256 is ``sha256``."""
    z = read_npz(path, sha256, "edge model")
    # layer 1 in int32 (sums of <= 112 weights): twice the SIMD lanes
    w1, b1 = (np.ascontiguousarray(z[k], dtype=np.int32) for k in ("w1", "b1"))
    rest = [z[k].astype(np.int64) for k in ("w2", "b2", "w3", "b3")]
    return (*window_offsets(), w1, b1, *rest)


def predictor(version: int = LATEST) -> Predictor:
    """Model ``version`` as the binary-map coder takes it."""
    return Predictor(load(version), SCALE, WORK)
