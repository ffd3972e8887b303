"""The semantic layer: its codecs (raw, prompt models v1 and v2, brotli, deflate), the exact
arithmetic coder of prompt model v2, and the training script that makes the models."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigic.coding.exact import ExactDecoder, ExactEncoder
from aigic.errors import FormatError
from aigic.format.codes import SEM_PROMPT_MODEL_V1, SEM_PROMPT_MODEL_V2
from aigic.layers.semantic import SemanticLayer
from aigic.models.prompt import load_model, load_model_v2


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a cute cat",
        "émoji 🐱 测试 tab\there\nnew",
        "x" * 500,
        "masterpiece, best quality, 1girl, ((fennec ears:1.2))",
    ],
)
def test_semantic_round_trip(text):
    payload = SemanticLayer(text).to_payload()
    assert SemanticLayer.from_payload(payload).text == text


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=600))
def test_a_prompt_never_costs_more_than_zlib_or_brotli_plus_two_bytes(text):
    import zlib

    import brotli

    raw = text.encode("utf-8", errors="ignore").decode("utf-8")
    payload = SemanticLayer(raw).to_payload()
    data = raw.encode("utf-8")
    limit = min(len(zlib.compress(data, 9)), len(brotli.compress(data, quality=11))) + 2
    assert len(payload) <= limit
    assert SemanticLayer.from_payload(payload).text == raw


def test_compressed_prompts_round_trip_and_bombs_and_cuts_are_refused():
    import zlib

    import brotli

    from aigic.format.codes import SEM_BROTLI, SEM_DEFLATE

    text = "日本語のプロンプト、" * 20
    for code, body in (
        (SEM_BROTLI, brotli.compress(text.encode())),
        (SEM_DEFLATE, zlib.compress(text.encode(), 9)[2:-4]),
    ):
        assert SemanticLayer.from_payload(bytes([code]) + body).text == text
        with pytest.raises(FormatError, match="truncated|damaged"):
            SemanticLayer.from_payload(bytes([code]) + body[: len(body) // 2])
    bomb = brotli.compress(b"a" * (1 << 20))
    with pytest.raises(FormatError, match="over 65536 bytes"):
        SemanticLayer.from_payload(bytes([SEM_BROTLI]) + bomb)
    bomb = zlib.compress(b"a" * (1 << 20), 9)[2:-4]
    with pytest.raises(FormatError, match="over 65536 bytes"):
        SemanticLayer.from_payload(bytes([SEM_DEFLATE]) + bomb)


def test_the_exact_coder_round_trips_within_one_byte_of_the_information():
    rng = np.random.default_rng(3)
    for _ in range(200):
        tables = [
            rng.integers(1, 5000, int(rng.integers(1, 40))) for _ in range(rng.integers(0, 50))
        ]
        symbols = [int(rng.integers(0, len(t))) for t in tables]
        enc, info = ExactEncoder(), 0.0
        for s, t in zip(symbols, tables):
            enc.encode(s, t)
            info -= math.log2(t[s] / t.sum())
        data = enc.to_bytes()
        assert len(data) <= math.ceil(info / 8) + 1
        dec = ExactDecoder(data)
        assert [dec.decode(t) for t in tables] == symbols
    assert ExactEncoder().to_bytes() == b""  # nothing to say costs nothing


def test_the_exact_coder_writes_the_fewest_bytes_in_the_interval():
    def fewest(enc: ExactEncoder) -> bytes:  # every length in turn, by definition
        lo, hi, n = enc.low, enc.low + enc.width, 0
        while True:
            value = -(-(lo << (8 * n)) // enc.scale)
            if value * enc.scale < hi << (8 * n):
                return value.to_bytes(n, "big") if n else b""
            n += 1

    rng = np.random.default_rng(8)
    for _ in range(500):
        enc = ExactEncoder()
        for _ in range(int(rng.integers(0, 25))):
            table = rng.integers(1, 10 ** int(rng.integers(1, 7)), int(rng.integers(1, 20)))
            enc.encode(int(rng.integers(0, len(table))), table)
        assert enc.to_bytes() == fewest(enc)


def test_a_prompt_of_more_symbols_than_a_reader_decodes_is_not_model_coded():
    from aigic.format.limits import MAX_PROMPT_TOKENS

    text = "a, " * MAX_PROMPT_TOKENS
    payload = SemanticLayer(text).to_payload()
    assert payload[0] not in (SEM_PROMPT_MODEL_V1, SEM_PROMPT_MODEL_V2)
    assert SemanticLayer.from_payload(payload).text == text


def test_the_exact_coder_refuses_tables_with_a_zero():
    with pytest.raises(ValueError, match=">= 1"):
        ExactEncoder().encode(0, [3, 0, 1])


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=300))
def test_v2_round_trips_any_text(text):
    model = load_model_v2()
    assert model.decode(model.encode(text)) == text


def test_a_word_out_of_the_vocabulary_is_spelled_once():
    model = load_model_v2()
    once = len(model.encode("a qzxvwk fox"))
    thrice = len(model.encode("a qzxvwk fox, qzxvwk, qzxvwk"))
    assert thrice < once + 4  # v1 spells it every time
    v1 = load_model()
    assert len(v1.encode("a qzxvwk fox, qzxvwk, qzxvwk")) > len(v1.encode("a qzxvwk fox")) + 8


def test_v2_codes_emphasis_and_regions_in_fewer_bytes_than_v1():
    emphasis = "(masterpiece:1.2), ((best quality)), a fox in the snow, [blurry], (red scarf:1.1)"
    region = "a knight in silver armour, dramatic light, oil painting"
    regional = " BREAK ".join([region, region.replace("knight", "dragon"), region])
    for text in (emphasis, regional):
        v1, v2 = len(load_model().encode(text)), len(load_model_v2().encode(text))
        assert v2 < v1 * 0.8, (text, v1, v2)
        payload = SemanticLayer(text).to_payload()
        assert payload[0] == SEM_PROMPT_MODEL_V2
        assert SemanticLayer.from_payload(payload).text == text


def test_v1_payloads_still_decode():
    text = "a cute fennec, marble statue"
    payload = bytes([SEM_PROMPT_MODEL_V1]) + load_model().encode(text)
    assert SemanticLayer.from_payload(payload).text == text


def test_damaged_v2_payloads_fail_as_format_errors_or_decode_to_text():
    good = bytes([SEM_PROMPT_MODEL_V2]) + load_model_v2().encode("a fox, ((snow)), zqxvw")
    rng = np.random.default_rng(0)
    for _ in range(200):
        bad = bytearray(good)
        bad[int(rng.integers(1, len(bad)))] ^= int(rng.integers(1, 256))
        try:
            assert isinstance(SemanticLayer.from_payload(bytes(bad)).text, str)
        except FormatError:
            pass
    for junk in (b"", b"\xff" * 40, bytes(range(256))):
        try:
            SemanticLayer.from_payload(bytes([SEM_PROMPT_MODEL_V2]) + junk)
        except FormatError:
            pass


def test_the_training_script_makes_both_prompt_models_byte_for_byte(tmp_path):
    import hashlib
    import subprocess
    import sys

    from aigic.models.prompt import MODEL_SHA256, MODEL_V2_SHA256

    from .conftest import ROOT, SHARED

    tsv, manifest = SHARED / "prompts" / "prompts.tsv", SHARED / "aigi_dev" / "manifest.csv"
    if not tsv.is_file() or not manifest.is_file():
        pytest.skip(f"training prompts not here: {tsv} or {manifest} is missing")
    for flags, pin in (([], MODEL_SHA256), (["--v2"], MODEL_V2_SHA256)):
        out = tmp_path / "model.npz"
        script = ROOT / "scripts" / "train_prompt_model.py"
        args = [sys.executable, str(script), str(tsv), "--exclude", str(manifest), *flags]
        subprocess.run([*args, "-o", str(out)], check=True, capture_output=True)
        assert hashlib.sha256(out.read_bytes()).hexdigest() == pin
