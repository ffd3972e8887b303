"""The diffusers decoder reads prompts as A1111 does: emphasis, BREAK, prompts over one
77-token window, the stream's own negative prompt (tiny random-weight models, CPU, offline)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aigic.backends.profiles import get_profile
from aigic.format.codes import PROFILE_SD15_DPM25_A1111

from .conftest import subset

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")


def test_a1111_emphasis_syntax_is_parsed_into_weighted_runs():
    from aigic.backends.prompts import parse_attention

    assert parse_attention("a (red:1.3) fox, ((snow)) BREAK [blurry] sky") == [
        [("a ", 1.0), ("red", 1.3), (" fox, ", 1.0), ("snow", 1.21)],
        [("blurry", 0.909091), (" sky", 1.0)],
    ]
    assert parse_attention(r"a \(literal\) (open") == [[("a (literal) ", 1.0), ("open", 1.1)]]
    assert parse_attention("time: 5 [[x]] (y:0.5)") == [
        [("time: 5 ", 1.0), ("x", 0.826446), (" ", 1.0), ("y", 0.5)]
    ]
    assert parse_attention("plain") == [[("plain", 1.0)]]


def _text_states(backend, layers, text: str, profile: int = 2):
    """The encoder hidden states the UNet receives when decoding ``layers`` with ``text``."""
    from aigic.layers import SemanticLayer

    seen = []
    lay = replace(subset(layers, ()), semantic=SemanticLayer(text), profile=profile)
    pipe = backend.pipeline(get_profile(lay.profile), ())
    hook = pipe.unet.register_forward_pre_hook(
        lambda _m, args, kwargs: seen.append(kwargs["encoder_hidden_states"].clone()),
        with_kwargs=True,
    )
    try:
        backend.decode(lay)
    finally:
        hook.remove()
    return seen[0]


def test_emphasis_changes_the_embeddings_and_long_prompts_reach_the_unet_in_chunks(backend, layers):
    assert layers.profile == 2  # what encoders write: sd15-dpm25-a1111
    plain = _text_states(backend, layers, "a red square on a field")
    assert plain.shape[1] % 77 == 0  # (the tiny vocabulary makes the negative prompt long)
    weighted = _text_states(backend, layers, "a (red:1.6) square on a field")
    assert weighted.shape == plain.shape and not torch.allclose(weighted, plain)
    assert torch.allclose(_text_states(backend, layers, "a (red:1.0) square on a field"), plain)
    tokenizer = backend.pipeline(get_profile(0), ()).tokenizer
    n_tokens = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
    long = "a red square on a field"
    while n_tokens(long) <= 75:  # a prompt of 76..150 tokens (the tiny vocabulary is small)
        long += ", a red square"
    assert 75 < n_tokens(long) <= 150
    assert _text_states(backend, layers, long, profile=3).shape[1] == 154  # two 77-token chunks
    assert _text_states(backend, layers, "a red square BREAK on a field", profile=3).shape[1] == 154
    assert _text_states(backend, layers, long * 3, profile=3).shape[1] == 154  # the reach: 2
    assert _text_states(backend, layers, long, profile=1).shape[1] == 77  # plain: cut at 77


def test_a_prompt_within_two_windows_is_read_whole_whatever_its_sentences(backend):
    """132 tokens in sentences of 29, 65 and 38: packed by sentence they would need three
    windows and the third would be cut; split at 75 tokens they fit the profile's two."""
    from aigic.backends import prompts

    pipe = backend.pipeline(get_profile(2), ())
    n_tokens = lambda text: len(pipe.tokenizer(text, add_special_tokens=False)["input_ids"])

    def sentence(k):
        text = "a"
        while n_tokens(text + " red.") <= k:
            text += " red"
        return text + "."

    text = " ".join(sentence(k) for k in (30, 66, 40))
    assert 75 < n_tokens(text) <= 150
    with torch.inference_mode():
        pos, _ = prompts.embed_pair(pipe.text_encoder, pipe.tokenizer, text, None, chunks=2)
        whole = prompts.embed(prompts.make_compel(pipe.text_encoder, pipe.tokenizer), text)
    assert pos.shape[1] == whole.shape[1] == 154 and torch.equal(pos, whole)  # nothing cut


def test_the_streams_own_negative_prompt_replaces_the_profiles(backend, layers, monkeypatch):
    from aigic.backends import prompts

    seen = []
    real = prompts.embed_pair

    def spy(encoder, tokenizer, prompt, negative, chunks=2):
        seen.append(negative)
        return real(encoder, tokenizer, prompt, negative, chunks)

    monkeypatch.setattr(prompts, "embed_pair", spy)
    a1111 = replace(layers, profile=PROFILE_SD15_DPM25_A1111)
    backend.decode(a1111)
    backend.decode(replace(a1111, negative="blurry, text"))
    assert seen == [get_profile(PROFILE_SD15_DPM25_A1111).negative_prompt, "blurry, text"]
