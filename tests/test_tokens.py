"""Prompt tokens as SD 1.5 reads them: the open_clip vocabulary against the real tokenizer, the
token-aware cut, and the rate rule that keeps the colour grid."""

import csv

import pytest

import aigic
from aigic.weights import tokens
from tests.conftest import ROOT, png_bytes, synthetic

SHARED = ROOT.parent / "shared"
REAL = SHARED / "models" / "stable-diffusion-v1-5" / "tokenizer"
MANIFEST = SHARED / "data" / "aigi_dev" / "manifest.csv"
LONG = ", ".join(f"detailed region number {i} with ornate patterns" for i in range(40))


@pytest.fixture(scope="module")
def real():
    if not REAL.exists():
        pytest.skip(f"{REAL} not found: SD 1.5's real tokenizer lives in ../shared")
    return tokens.tokenizer(str(REAL))


def test_the_open_clip_vocabulary_gives_the_real_tokenizers_ids_on_every_dev_prompt(real):
    prompts = [r["prompt"] for r in csv.DictReader(MANIFEST.open(encoding="utf-8"))]
    assert len(prompts) == 33
    for p in prompts:
        assert tokens.ids(p) == real(p, add_special_tokens=False)["input_ids"], p
    counts = [tokens.count(p, str(REAL)) for p in prompts if p]
    assert len(counts) == 32 and sum(n > tokens.PER_CHUNK for n in counts) == 5


def test_the_tokenizer_id_and_the_profiles_windows_match_the_backend():
    from aigic.backends.profiles import BASE, PROFILES
    from aigic.format.codes import PROFILE_PROMPT_TOKENS

    assert tokens.SD15 == BASE
    assert set(PROFILE_PROMPT_TOKENS) == set(PROFILES)
    for code, n in PROFILE_PROMPT_TOKENS.items():  # what each profile's text encoder reads
        assert n == tokens.PER_CHUNK * PROFILES[code].prompt_chunks


def test_cut_ends_at_a_word_within_the_window():
    kept, rest = tokens.cut(LONG, 75)
    assert tokens.count(kept) <= 75 < tokens.count(kept + ", " + rest.split(",")[0])
    assert LONG.startswith(kept) and LONG.endswith(rest) and not kept.endswith(",")
    assert tokens.cut("a red fox", 75) == ("a red fox", "")


def test_a_long_prompt_is_cut_with_a_note_and_never_crowds_out_the_colour_grid(tmp_path, capsys):
    from aigic.cli.main import main

    png = tmp_path / "long.png"
    png.write_bytes(png_bytes(synthetic(512, 512), parameters=LONG + "\nSteps: 20"))
    for profile, window in (("sd15-dpm25", 75), ("sd15-dpm25-a1111", 150)):
        out = tmp_path / f"{profile}.aigic"
        args = ["encode", str(png), "-o", str(out), "--structure", "canny", "--profile", profile]
        assert main(args) == 0
        said = capsys.readouterr()
        assert f"cut to the {window} tokens the {profile} decoder reads" in said.err
        info = aigic.inspect(out.read_bytes())
        assert "texture" in {c.chunk for c in info.chunks}  # never crowded out
        assert window - 10 < tokens.count(info.layers.prompt) <= window
        assert LONG.startswith(info.layers.prompt)
        assert len(out.read_bytes()) <= 0.010 * 512 * 512 / 8
    assert {c.chunk for c in info.chunks} >= {"semantic", "texture"}
    assert main(["inspect", str(out)]) == 0
    assert "CLIP tokens)" in capsys.readouterr().out
    whole = aigic.encode_result(png.read_bytes(), structure="canny", full_prompt=True)
    lay = aigic.read_layers(whole.data)
    assert lay.semantic.text == LONG and whole.prompt_cut == ""
    assert lay.texture is not None  # the preset keeps the colour grid, coarsened if need be
    assert "texture" not in [x.layer for x in whole.left_out]
    rng = __import__("random").Random(4)  # a long prompt that compresses badly
    noisy = " ".join(
        "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(7)) for _ in range(300)
    )
    crowded = aigic.encode_result(
        png_bytes(synthetic(512, 512)), prompt=noisy, full_prompt=True, structure="canny"
    )
    kept = {c.name for c in aigic.parse(crowded.data).chunks}
    assert kept == {"semantic", "texture"} and [x.layer for x in crowded.left_out] == ["structure"]
