"""The golden corpus: what the encoder writes and the decoder reads, pinned by SHA-256.

    3 committed images x every preset x each edge style --encode (Canny)--> stream hashes
    3 committed PiDiNet maps (tests/golden/sketch/) x presets and budgets (every one for the
        README's fennec) --encode (sketch: rate control, grid refinement, stroke coders)--> hashes
    tests/golden/fennec.aigic --read_layers / preview decode--> hashes of every decoded array
    fixed tiny inputs --each entropy coder--> its exact bytes (hex)

``python -m tests.golden_corpus`` rewrites ``tests/golden/corpus.json``; a commit that changes
a stream on purpose does so in the same commit and says why. ``tests/test_golden.py`` compares.
``python -m tests.golden_corpus --maps`` first redraws the PiDiNet maps with the real checkpoint
from ../shared: the sketch streams are pinned from committed maps because a PiDiNet forward pass
in floats may differ by a pixel between CPUs, while everything after it is exact.
"""

from __future__ import annotations

import hashlib
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ("fennec_bottle_sdxlturbo.png", "banana_sushi_sd15.png", "astronaut_horse_sd15.png")
PRESETS = ("tiny", "default", "fine", "lossless")
STYLES = ("auto", "lines", "cells", "strokes")
KIND = {"structure": "canny"}  # exact on every machine (a PiDiNet map depends on float kernels)
SKETCH_SETTINGS = ("tiny", "default", "fine", "lossless", "budget:250", "budget:400")
SKETCH_CASES = tuple(  # (image, setting); `fine` and budget:400 are the slow ones: fennec only
    (name, setting)
    for name in IMAGES
    for setting in SKETCH_SETTINGS
    if name == IMAGES[0] or setting in ("tiny", "default", "lossless", "budget:250")
)
CORPUS = ROOT / "tests" / "golden" / "corpus.json"
STREAM = ROOT / "tests" / "golden" / "fennec.aigic"
MAPS = ROOT / "tests" / "golden" / "sketch"
PIDINET = ROOT.parent / "shared" / "models" / "pidinet" / "table5_pidinet.pth"


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


def coding_rgb(name: str) -> np.ndarray:
    """The image's pixels at the coding size, as the encoder hands them to an extractor."""
    from aigic.format.limits import coding_size
    from aigic.imaging.images import load_image, to_array

    image = load_image(ROOT / "assets" / name)[0]
    return to_array(image, coding_size(*image.size))


def map_path(name: str) -> Path:
    return MAPS / (Path(name).stem + ".png")


def committed_map(name: str) -> np.ndarray:
    return np.asarray(Image.open(map_path(name))) > 0


@contextmanager
def sketch_from(maps: dict[str, np.ndarray]):
    """Encodes inside see each image's committed sketch map instead of running PiDiNet."""
    from aigic.encoder import extractors

    real = extractors.extract
    by_pixels = {coding_rgb(name).tobytes(): m for name, m in maps.items()}

    def extract(rgb, kind, source=None):
        if kind != "sketch":
            return real(rgb, kind, source)
        return by_pixels[np.ascontiguousarray(rgb).tobytes()].copy()

    with mock.patch.object(extractors, "extract", extract):
        yield


def sketch_options(setting: str) -> dict:
    if setting.startswith("budget:"):
        return {"budget": int(setting.split(":")[1]), "structure": "sketch"}
    return {"preset": setting, "structure": "sketch"}


def sketch_streams() -> dict[str, str]:
    """'image/setting' -> SHA-256 of the sketch stream encoded from the committed map."""
    import aigic

    out = {}
    with sketch_from({name: committed_map(name) for name in IMAGES}):
        for name, setting in SKETCH_CASES:
            data = aigic.encode(ROOT / "assets" / name, **sketch_options(setting))
            out[f"{name}/{setting}"] = sha(data)
    return out


def fixed_map() -> np.ndarray:
    m = np.zeros((6, 9), bool)
    m[2, 1:7] = 1
    m[3:6, 4] = 1
    return m


def coders() -> dict[str, str]:
    """Each entropy coder's exact bytes (hex) for a fixed tiny input."""
    from aigic.coding.binary_maps import encode_map
    from aigic.coding.bits import ONE, BitEncoder, geometric
    from aigic.coding.symbols import Encoder
    from aigic.models.edgenet import predictor

    symbols = Encoder()
    symbols.bits([1, 0, 1], [0.5, 0.2, 0.9])
    symbols.categorical(3, [1, 2, 3, 4])
    symbols.uniform(200, 256)
    binary = BitEncoder()
    for bit, p in ((1, ONE // 2), (0, 1000), (1, 60000), (0, 30000)):
        binary.bit(bit, p)
    for r in (0, 3, -2, 7):
        binary.residual(r, *geometric(20000))
    return {
        "symbols": symbols.to_bytes().hex(),
        "bits": binary.to_bytes().hex(),
        "bitmap": encode_map(fixed_map()).hex(),
        "bitmap+edgenet1": encode_map(fixed_map(), predictor(1)).hex(),
        "bitmap+edgenet2": encode_map(fixed_map(), predictor(2)).hex(),
    }


def pidinet_map(name: str, checkpoint: Path = PIDINET) -> np.ndarray:
    """The sketch map the encoder extracts from ``name`` with the real PiDiNet checkpoint."""
    import tempfile

    from aigic.encoder import extractors

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "lllyasviel" / "Annotators"
        folder.mkdir(parents=True)
        (folder / checkpoint.name).symlink_to(checkpoint.resolve())
        return extractors.extract(coding_rgb(name), "sketch", str(folder))


def write_maps() -> None:
    MAPS.mkdir(parents=True, exist_ok=True)
    for name in IMAGES:
        Image.fromarray(pidinet_map(name)).save(map_path(name), optimize=True)
        print(f"wrote {map_path(name)}")


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
    return {
        "streams": streams(),
        "sketch": sketch_streams(),
        "decoded": decoded(),
        "coders": coders(),
    }


if __name__ == "__main__":
    if "--maps" in sys.argv[1:]:
        write_maps()
    CORPUS.write_text(json.dumps(corpus(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {CORPUS}")
