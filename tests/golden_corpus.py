"""The golden corpus: what the encoder writes and the decoder reads, pinned by SHA-256.

    3 committed images x every preset x each edge style --encode--> stream hashes
    tests/golden/fennec.aigic --read_layers / preview decode--> hashes of every decoded array

``python -m tests.golden_corpus`` rewrites ``tests/golden/corpus.json``; a commit that changes
a stream on purpose does so in the same commit and says why. ``tests/test_golden.py`` compares.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ("fennec_bottle_sdxlturbo.png", "banana_sushi_sd15.png", "astronaut_horse_sd15.png")
PRESETS = ("tiny", "default", "fine", "lossless")
STYLES = ("auto", "lines", "cells", "strokes")
KIND = {"structure": "canny"}  # exact on every machine (a PiDiNet map depends on float kernels)
CORPUS = ROOT / "tests" / "golden" / "corpus.json"
STREAM = ROOT / "tests" / "golden" / "fennec.aigic"


def sha(data) -> str:
    if isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data).tobytes() + repr((data.shape, data.dtype.str)).encode()
    elif isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def streams() -> dict[str, str]:
    """'image/preset/style' -> SHA-256 of the stream ``aigic.encode`` writes."""
    import aigic

    out = {}
    for name in IMAGES:
        for preset in PRESETS:
            for style in STYLES:
                data = aigic.encode(ROOT / "assets" / name, preset=preset, style=style, **KIND)
                out[f"{name}/{preset}/{style}"] = sha(data)
    return out


def decoded() -> dict[str, str]:
    """Hashes of every decoded layer array of the golden stream, and of its preview decode."""
    import aigic

    data = STREAM.read_bytes()
    lay = aigic.read_layers(data)
    return {
        "semantic": sha(lay.semantic.text),
        "structure.grid": sha(lay.structure.grid),
        "structure.condition": sha(lay.structure.condition(lay.size)),
        "texture.q": sha(lay.texture.q),
        "texture.grid": sha(lay.texture.grid()),
        "texture.condition": sha(lay.texture.condition(lay.size)),
        "preview": sha(np.asarray(aigic.decode(data, backend="preview"))),
    }


def corpus() -> dict:
    return {"streams": streams(), "decoded": decoded()}


if __name__ == "__main__":
    CORPUS.write_text(json.dumps(corpus(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {CORPUS}")
