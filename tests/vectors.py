"""Test vectors for a second decoder: per codec, a stream and what decoding it must give.

    tests/vectors/<layer>-<codec>.aigic         a whole stream whose <layer> payload uses <codec>
    tests/vectors/<layer>-<codec>.expected/     what a reader of docs/FORMAT.md must produce:
        semantic:  text.txt (UTF-8)
        structure: grid.png (the decoded grid, 1 bit per cell) and drawn.png (the map drawn at
                   the coding size, what the structure adapter receives, 1 bit per pixel);
                   pose: keypoints.json (per person 18 [x, y] lattice points or null) and
                   drawn.png (the skeleton render, RGB)
        texture:   cells.json (the quantized CIELAB indices, rows x columns x 3, and the step
                   indices) and grid.png (the grid in sRGB, one pixel per cell)

``python -m tests.vectors`` rewrites them (a change on purpose says why in its commit);
``tests/test_vectors.py`` decodes every vector and compares. The streams are the fuzzer's
seeds (aigic/testing/fuzz.py), which cover every codec.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "vectors"
LAYER_OF_CHUNK = {1: "semantic", 2: "structure", 3: "texture"}


def streams() -> dict[str, bytes]:
    """'<layer>-<codec>' -> the first fuzz seed whose <layer> payload has that codec."""
    from aigic import parse
    from aigic.testing.fuzz import seeds

    found: dict[str, bytes] = {}
    for data in seeds():
        for chunk in parse(data).chunks:
            name = LAYER_OF_CHUNK.get(chunk.type)
            if name is not None and chunk.payload:
                found.setdefault(f"{name}-{chunk.payload[0]}", data)
    return dict(sorted(found.items()))


def decoded(name: str, data: bytes) -> dict[str, bytes]:
    """The expected files of vector ``name`` (file name -> bytes)."""
    import aigic

    lay = aigic.read_layers(data)
    layer = name.split("-")[0]
    if layer == "semantic":
        return {"text.txt": lay.semantic.text.encode("utf-8")}
    if layer == "texture":
        tex = lay.texture
        cells = {"steps": [int(tex.li), int(tex.ci)], "q": tex.q.astype(int).tolist()}
        return {"cells.json": _json(cells), "grid.png": _png(tex.grid())}
    st = lay.structure
    if st.kind == "pose":
        points = [
            [[int(x), int(y)] if here else None for (x, y), here in zip(pts, pres)]
            for pts, pres in zip(st.points, st.present)
        ]
        return {"keypoints.json": _json(points), "drawn.png": _png(st.condition(lay.size))}
    return {"grid.png": _png(st.grid), "drawn.png": _png(st.edges(lay.size))}


def _json(value) -> bytes:
    return (json.dumps(value, separators=(",", ":")) + "\n").encode()


def _png(array: np.ndarray) -> bytes:
    import io

    image = Image.fromarray(array) if array.dtype != bool else Image.fromarray(array).convert("1")
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def read_png(data: bytes) -> np.ndarray:
    import io

    image = Image.open(io.BytesIO(data))
    return np.asarray(image) if image.mode != "1" else np.asarray(image).astype(bool)


def write_all() -> None:
    import shutil

    shutil.rmtree(VECTORS, ignore_errors=True)
    VECTORS.mkdir(parents=True)
    for name, data in streams().items():
        (VECTORS / f"{name}.aigic").write_bytes(data)
        folder = VECTORS / f"{name}.expected"
        folder.mkdir()
        for file, content in decoded(name, data).items():
            (folder / file).write_bytes(content)
    print(f"wrote {len(streams())} vectors to {VECTORS}")


if __name__ == "__main__":
    write_all()
