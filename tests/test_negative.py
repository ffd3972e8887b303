"""The image's own negative prompt: read from its metadata, carried when the budget allows (an
ancillary chunk beside the semantic layer), used by the decoder instead of the fixed one."""

import json

import pytest

import aigic
from aigic.format.codes import CHUNK_NEGATIVE
from aigic.imaging.metadata import read_prompt

from .conftest import png_bytes, synthetic

A1111 = (
    "a red fox in the snow, (masterpiece:1.2)\n"
    "Negative prompt: blurry, lowres, (watermark:1.3)\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"
)


def _comfy() -> str:
    return json.dumps(
        {
            "3": {
                "class_type": "KSampler",
                "inputs": {"positive": ["6", 0], "negative": ["7", 0], "model": ["4", 0]},
            },
            "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle at dawn"}},
            "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, ugly"}},
        }
    )


@pytest.mark.parametrize(
    ("meta", "prompt", "negative"),
    [
        ({"parameters": A1111}, "a red fox in the snow, (masterpiece:1.2)", "blurry, lowres, (watermark:1.3)"),
        ({"parameters": "a cat\nSteps: 20"}, "a cat", ""),
        ({"prompt": _comfy()}, "a castle at dawn", "text, ugly"),
        (
            {"invokeai_metadata": json.dumps({"positive_prompt": "a boat", "negative_prompt": "fog"})},
            "a boat",
            "fog",
        ),
        ({"parameters": "a cat\nNegative prompt: \x00\x01\x02 junk\nSteps: 1"}, "a cat", ""),
    ],
)  # fmt: skip
def test_the_negative_prompt_is_read_with_the_prompt(meta, prompt, negative):
    found = read_prompt(meta)
    assert (found.text, found.negative) == (prompt, negative)


def test_junk_in_the_negative_prompt_is_skipped_with_a_note():
    found = read_prompt({"parameters": "a cat\nNegative prompt: \x00\x01\x02 junk\nSteps: 1"})
    assert found.text == "a cat" and found.negative == ""
    assert any(note.startswith("negative prompt: ") for note in found.skipped)


def _a1111_png(tmp_path):
    path = tmp_path / "fox.png"
    path.write_bytes(png_bytes(synthetic(512, 512), parameters=A1111))
    return path


def test_the_negative_prompt_travels_when_the_budget_allows(tmp_path):
    path = _a1111_png(tmp_path)
    roomy = aigic.encode_result(path, structure="canny", factor=8)  # a fixed grid: no limit
    assert roomy.negative == "blurry, lowres, (watermark:1.3)"
    lay = aigic.read_layers(roomy.data)
    assert lay.negative == roomy.negative
    assert CHUNK_NEGATIVE in [c.type for c in aigic.parse(roomy.data).chunks]
    info = aigic.inspect(roomy.data)
    assert "negative" in [c.chunk for c in info.chunks]
    assert info.layers.negative == roomy.negative
    tight = aigic.encode_result(path, structure="canny", budget=len(roomy.data) - 20)
    assert len(tight.data) <= len(roomy.data) - 20
    assert tight.negative == "" and tight.negative_left_out == roomy.negative  # it did not fit
    assert aigic.read_layers(tight.data).negative is None
    from aigic.notes import negative_text

    said = negative_text(tight)
    assert "did not fit the rate" in said and "profile's fixed negative prompt" in said


def test_no_negative_is_sent_when_asked_not_to(tmp_path):
    result = aigic.encode_result(_a1111_png(tmp_path), structure="canny", factor=8, negative="")
    assert result.negative == "" and aigic.read_layers(result.data).negative is None
    given = aigic.encode_result(synthetic(64, 64), prompt="a", negative="grainy", factor=8)
    assert aigic.read_layers(given.data).negative == "grainy"


def test_dropping_the_chunk_leaves_every_layer_as_it_was(tmp_path):
    """Chunk 128 is ancillary: dropping it leaves every layer as it was."""
    data = aigic.encode_result(_a1111_png(tmp_path), structure="canny", factor=8).data
    bs = aigic.parse(data)
    without = aigic.write(bs.without(CHUNK_NEGATIVE))
    a, b = aigic.read_layers(data), aigic.read_layers(without)
    assert a.semantic == b.semantic and b.negative is None
    assert a.texture.to_payload() == b.texture.to_payload()


def test_dropping_the_semantic_layer_drops_its_negative_prompt(tmp_path):
    data = aigic.encode_result(_a1111_png(tmp_path), structure="canny", factor=8).data
    from aigic import edit

    dropped = aigic.read_layers(edit.drop(data, "semantic"))
    assert dropped.semantic is None and dropped.negative is None
    assert aigic.read_layers(edit.drop(data, "texture")).negative is not None


def test_an_exif_comment_in_utf16_gives_its_negative_prompt_too():
    text = "a cat on a roof\nNegative prompt: blurry\nSteps: 20"
    comment = b"UNICODE\x00" + text.encode("utf-16-be")
    found = read_prompt({"exif_user_comment": comment})
    assert (found.text, found.negative) == ("a cat on a roof", "blurry")


# the last commit before chunk 128 existed: its reader has never heard of the chunk
OLD_READER = "c73f64df2a867da0cd73ab447d2af8c096d94c16"
READ = """
import sys, json, aigic, aigic.format.codes as codes
lay = aigic.read_layers(open(sys.argv[1], "rb").read())
print(json.dumps([aigic.__file__, hasattr(codes, "CHUNK_NEGATIVE")]))
print(json.dumps([lay.semantic.text, lay.texture.to_payload().hex(), lay.structure is None]))
"""


def _old_reader(tmp_path):
    """The package as it was at OLD_READER, unpacked from git into ``tmp_path``."""
    import shutil
    import subprocess

    from tests.conftest import ROOT

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the project's git history (git and .git) for the old reader")
    has = subprocess.run(
        ["git", "cat-file", "-e", f"{OLD_READER}^{{commit}}"], cwd=ROOT, check=False
    )
    if has.returncode != 0:
        pytest.skip(f"commit {OLD_READER[:12]} is not in this clone (shallow?)")
    archive = subprocess.run(
        ["git", "archive", OLD_READER, "aigic"], cwd=ROOT, capture_output=True, check=True
    )
    tmp_path.mkdir()
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True)
    return tmp_path


def test_a_reader_from_before_the_chunk_reads_every_layer_past_it(tmp_path):
    import os
    import subprocess
    import sys

    from aigic.format.container import Chunk

    old = _old_reader(tmp_path / "old")
    # the layers in codecs that reader knows (raw UTF-8 prompt, the colour grid), and chunk 128
    data = aigic.encode_result(_a1111_png(tmp_path), layers=("semantic", "texture")).data
    bs = aigic.parse(data)
    text = aigic.read_layers(data).semantic.text
    data = aigic.write(bs.with_chunk(Chunk(1, b"\x00" + text.encode("utf-8"))))
    assert CHUNK_NEGATIVE in {c.type for c in aigic.parse(data).chunks}
    stream = tmp_path / "with-negative.aigic"
    stream.write_bytes(data)
    env = dict(os.environ, PYTHONPATH=str(old))
    run = subprocess.run(
        [sys.executable, "-c", READ, str(stream)],
        cwd=old,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    (where, knows), seen = map(json.loads, run.stdout.splitlines())
    assert where.startswith(str(old)) and not knows  # the old package, which lacks chunk 128
    lay = aigic.read_layers(data)
    assert seen == [text, lay.texture.to_payload().hex(), True]
    assert lay.negative is not None  # while today's reader reads the chunk
