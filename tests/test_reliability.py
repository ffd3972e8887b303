"""Reliability: a short fuzz run, property tests (hypothesis), hostile images.

The long fuzz run is `aigic fuzz --count 100000`; the load test is `python scripts/load_test.py`.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import aigic
from aigic import api, edit, encode, parse, write
from aigic.errors import ImageInputError
from aigic.testing.fuzz import check, run
from tests.conftest import png_bytes, synthetic


def test_short_fuzz_run_has_no_failures():
    report = run(600, seed=11, limit_s=1.0)  # the README's promise: each input within 1 s
    assert report.tried == 600
    assert report.slowest[0] < 0.5, report.slowest  # ~0.1 s seen: a loaded machine's margin
    assert 100 < report.kinds.get("truncation", 0) < 250, report.kinds  # a quarter, not most
    assert report.failures == [], report.failures[:3]
    assert report.rejected > 0 and report.tried - report.rejected > 0
    assert check(encode(Image.new("RGB", (64, 64)), prompt="x"))


def _codes(prefix: str) -> set[int]:
    """Every code a reader accepts among format.codes' constants named ``prefix``*."""
    from aigic.format import codes

    refused = {"TEX_LAB_DPCM_V1"}  # pre-release, refused by every reader
    return {v for k, v in vars(codes).items() if k.startswith(prefix) and k not in refused}


def test_fuzz_seeds_cover_every_codec():
    from aigic.format.codes import CHUNK_SEMANTIC, CHUNK_STRUCTURE, CHUNK_TEXTURE
    from aigic.format.container import parse
    from aigic.testing.fuzz import seeds

    seen = {CHUNK_SEMANTIC: set(), CHUNK_STRUCTURE: set(), CHUNK_TEXTURE: set()}
    for data in seeds():
        for chunk in parse(data).chunks:
            seen.get(chunk.type, set()).add(chunk.payload[0])
    from aigic.format.codes import STRUCTURE_CODECS

    assert seen[CHUNK_STRUCTURE] == set(STRUCTURE_CODECS) == _codes("STRUCT_")
    assert seen[CHUNK_SEMANTIC] == _codes("SEM_")
    assert seen[CHUNK_TEXTURE] == _codes("TEX_")


images = st.builds(
    lambda w, h, seed: Image.fromarray(
        np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    ),
    st.integers(1, 96),
    st.integers(1, 96),
    st.integers(0, 2**16),
)
prompts = st.text(max_size=60)
FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(images, prompts)
def test_encode_parse_write_is_byte_identical_and_deterministic(img, prompt):
    data = encode(img, prompt=prompt, preset="tiny")
    assert write(parse(data)) == data
    assert encode(img, prompt=prompt, preset="tiny") == data
    assert aigic.inspect(data)["prompt"] == prompt


@FAST
@given(images, prompts, prompts)
def test_editing_one_layer_never_changes_another(img, prompt, new_prompt):
    data = encode(img, prompt=prompt, factor=8)
    changed = api.changed_layers(data, edit.set_prompt(data, new_prompt))
    assert changed["structure"] == changed["texture"] == "identical"
    changed = api.changed_layers(data, edit.recolor(data, [(0, 0)], (10, 200, 30)))
    assert changed["semantic"] == changed["structure"] == "identical"
    changed = api.changed_layers(data, edit.drop(data, "texture"))
    assert changed == {"semantic": "identical", "structure": "identical", "texture": "removed"}


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


RGB = Image.fromarray(np.random.default_rng(1).integers(0, 256, (80, 120, 3), dtype=np.uint8))
GOOD = {
    "1x1": _save(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"),
    "wide 4000x2": _save(Image.new("RGB", (4000, 2)), "PNG"),
    "tall 3x3000": _save(Image.new("L", (3, 3000)), "PNG"),
    "16-bit": _save(Image.fromarray(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)), "PNG"),
    "cmyk jpeg": _save(RGB.convert("CMYK"), "JPEG"),
    "palette": _save(RGB.convert("P"), "PNG"),
    "alpha": _save(RGB.convert("RGBA"), "PNG"),
    "la": _save(RGB.convert("LA"), "PNG"),
    "1-bit": _save(RGB.convert("1"), "PNG"),
    "animated gif": _save(RGB.convert("P"), "GIF", save_all=True, append_images=[RGB.convert("P")]),
    "webp": _save(RGB, "WEBP"),
}
BAD = {
    "empty file": b"",
    "text with .png name": b"hello, I am not a PNG",
    "truncated png": _save(RGB, "PNG")[:150],
    "truncated jpeg": _save(RGB, "JPEG")[:300],
    "png header only": b"\x89PNG\r\n\x1a\n",
}


@pytest.mark.parametrize("name", list(GOOD))
def test_odd_but_valid_images_encode(name, tmp_path):
    p = tmp_path / "in.png"
    p.write_bytes(GOOD[name])
    data = encode(p, prompt="odd")
    assert parse(data).width >= 1


@pytest.mark.parametrize("name", list(BAD))
def test_broken_images_fail_with_one_clear_line(name, tmp_path):
    p = tmp_path / "in.png"
    p.write_bytes(BAD[name])
    with pytest.raises(ImageInputError) as info:
        encode(p)
    assert "\n" not in str(info.value) and str(info.value)


def test_decompression_bomb_is_refused_before_decoding(tmp_path, monkeypatch):
    p = tmp_path / "bomb.png"
    p.write_bytes(_save(Image.new("L", (5000, 5000)), "PNG", optimize=True))  # 25 Mpx, small file
    from aigic.imaging import images

    with pytest.raises(ImageInputError, match="limit of 1000000 pixels"):
        images.load_image(p, max_pixels=1_000_000)
    monkeypatch.setenv("AIGIC_MAX_PIXELS", "1000")
    import importlib

    importlib.reload(images)
    try:
        assert images.MAX_PIXELS == 1000
    finally:
        monkeypatch.delenv("AIGIC_MAX_PIXELS")
        importlib.reload(images)


def test_short_load_test_through_the_http_api():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "load_test.py"
    spec = importlib.util.spec_from_file_location("load_test", path)
    load_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load_test)
    r = load_test.run(clients=8, requests=24, timeout=240)
    assert r["errors"] == []
    assert r["requests"] >= 24
    assert r["oversize_refused"]
    _, half, end = r["rss_mib"]
    assert end - half < 100, r["rss_mib"]  # flat: the second half of the requests adds little


def test_hostile_metadata_never_fails_an_encode_and_never_becomes_a_prompt():
    import json

    from aigic.imaging.metadata import read_prompt

    deep = "[" * 100_000 + "]" * 100_000
    ring = {str(i): {"inputs": {"positive": [str((i + 1) % 5000), 0]}} for i in range(5000)}
    junk = bytes(range(256)) * 12
    cases = {
        "parameters": junk,
        "prompt": deep,
        "invokeai_metadata": json.dumps([1, 2, 3]),
        "sd-metadata": json.dumps(ring),
        "Dream": '"a dog in the snow" -s 50',
    }
    found = read_prompt(cases)
    assert (found.text, found.source) == ("a dog in the snow", "Dream")  # the next source
    assert [s.split(":")[0] for s in found.skipped] == ["parameters", "prompt", "invokeai_metadata"]
    assert read_prompt({"prompt": json.dumps(ring)}).text == ""  # a cycle, walked once
    assert read_prompt({"parameters": "x" * 20_000}).text == ""  # too long to be a prompt
    png = png_bytes(synthetic(), parameters=junk.decode("latin-1"), Dream='"a red fox" -s 9')
    result = aigic.encode_result(png, structure="canny")
    assert aigic.read_layers(result.data).semantic.text == "a red fox"
    assert any(s.startswith("parameters:") for s in result.metadata_skipped)


def test_metadata_fuzz_short_run_finds_no_failure():
    from aigic.testing.fuzz_metadata import run

    report = run(1500, seed=3)
    assert report.tried == 1500 and not report.failures, report.failures[:3]
    assert 0 < report.rejected < report.tried  # both outcomes are reached
