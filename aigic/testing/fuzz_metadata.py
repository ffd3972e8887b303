"""Fuzzing the metadata readers: ``aigic fuzz --metadata --count N``.

    seed metadata (the sample images' own chunks; A1111 text; ComfyUI graphs; InvokeAI JSON;
    EXIF UserComment bytes; XMP) --mutate (bytes, as fuzz.py does) | hostile shapes (deep
    nesting, link cycles, wrong types, huge values, binary junk)--> metadata dict
        --read_prompt--> a prompt that looks like text a person wrote, or ""

A failure is an exception escaping ``read_prompt``, a returned prompt with control bytes or
over the length cap, or an input taking over ``limit_s``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..imaging.metadata import MAX_PROMPT_CHARS, read_prompt
from .fuzz import Report, drive, mutate

KEYS = ("parameters", "prompt", "invokeai_metadata", "Dream", "sd-metadata",
        "exif_user_comment", "exif_image_description", "XML:com.adobe.xmp", "xmp")  # fmt: skip
A1111 = "a castle, (masterpiece:1.2), [blurry]\nNegative prompt: lowres\nSteps: 20, Seed: 1"
XMP = '<x:xmpmeta><dc:description><rdf:Alt><rdf:li xml:lang="x-default">a fox</rdf:li>'


def seeds() -> list[dict]:
    """Real metadata (the sample images') and one of each other kind the readers take."""
    from ..imaging.images import load_image

    assets = Path(__file__).resolve().parents[2] / "assets"
    out = [load_image(p)[1] for p in sorted(assets.glob("*.png"))]
    graph = {"3": {"inputs": {"positive": ["6", 0]}}, "6": {"inputs": {"text": "a fox"}}}
    out += [
        {"parameters": A1111},
        {"prompt": json.dumps(graph)},
        {"invokeai_metadata": json.dumps({"positive_prompt": "a lighthouse"})},
        {"sd-metadata": json.dumps({"image": {"prompt": [{"prompt": "a cat", "weight": 1}]}})},
        {"Dream": '"a dog in the snow" -s 50 -S 42'},
        {"exif_user_comment": b"UNICODE\0" + "a red car".encode("utf-16-be")},
        {"xmp": XMP.encode()},
    ]
    return [m for m in out if m]


def _hostile(rng: np.random.Generator) -> tuple[dict, str]:
    key = KEYS[int(rng.integers(0, len(KEYS)))]
    op = int(rng.integers(0, 5))
    if op == 0:
        n = int(rng.integers(10, 200_000))
        return {key: "[" * n + "]" * n}, "deep nesting"
    if op == 1:  # a ComfyUI graph whose links run in circles
        k = int(rng.integers(2, 400))
        graph = {
            str(i): {
                "inputs": {
                    f: [str(int(rng.integers(0, k))), 0]
                    for f in ("positive", "conditioning", "clip")
                }
            }
            for i in range(k)
        }
        return {"prompt": json.dumps(graph)}, "link cycles"
    if op == 2:
        value = [None, 3, 1.5, [1, [2]], {"image": 7}, {"positive_prompt": ["x"]}][
            int(rng.integers(0, 6))
        ]
        return {key: json.dumps(value)}, "wrong types"
    if op == 3:
        return {key: "a" * int(rng.integers(MAX_PROMPT_CHARS, 3 << 20))}, "huge value"
    return {
        key: rng.integers(0, 256, int(rng.integers(1, 4000))).astype(np.uint8).tobytes()
    }, "binary"


def _mutated(base: dict, rng: np.random.Generator) -> tuple[dict, str]:
    meta = dict(base)
    key = list(meta)[int(rng.integers(0, len(meta)))]
    value = meta[key] if isinstance(meta[key], bytes) else str(meta[key]).encode("utf-8")
    data, how = mutate(value, rng)
    meta[key] = data if rng.random() < 0.3 else data.decode("utf-8", errors="replace")
    return meta, f"{key} {how}"


def check(meta: dict) -> str:
    """``read_prompt(meta)``'s prompt, or an AssertionError saying what is wrong with it."""
    found = read_prompt(meta)
    text = found.text
    assert isinstance(text, str) and len(text) <= MAX_PROMPT_CHARS, "prompt over the cap"
    assert not any(ord(c) < 32 and c not in "\n\t\r" for c in text), "control bytes in a prompt"
    assert (found.source is None) == (text == ""), "a prompt without a source"
    return text


def run(count: int, seed: int = 0, limit_s: float = 1.0, progress: bool = False) -> Report:
    rng = np.random.default_rng(seed)
    base = seeds()

    def make():
        if rng.random() < 0.3:
            return _hostile(rng)
        return _mutated(base[int(rng.integers(0, len(base)))], rng)

    found = lambda meta: bool(check(meta))
    return drive(count, make, found, lambda meta: repr(meta)[:400], limit_s, progress)
