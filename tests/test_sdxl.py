"""The SDXL decoder and the ``paper`` profile on tiny random-weight models (CPU, offline)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from aigic import decode, encode, read_layers
from aigic.backends.profiles import get_profile
from aigic.format.codes import (
    PROFILE_PAPER,
    PROFILE_SD15_DPM25_A1111,
    PROFILE_SD15_LCM4_A1111,
    PROFILE_SDXL_DPM25_A1111,
    PROFILE_SDXL_LCM4_A1111,
)

from .conftest import subset, synthetic

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

SUBSETS = [(), ("structure",), ("texture",), ("structure", "texture")]
SDXL = (PROFILE_SDXL_DPM25_A1111, PROFILE_SDXL_LCM4_A1111)
PIXELS = 192 * 128  # the tiny tests' decode area (the profiles' own is about 1 MP)


@pytest.fixture(scope="module")
def xl(tiny_dir):
    from aigic.backends.sdxl import SDXLBackend
    from aigic.testing.models import sources

    return SDXLBackend(sources=sources(tiny_dir), device="cpu", pixels=PIXELS, steps=2)


@pytest.fixture(scope="module")
def xl_layers():
    data = encode(
        synthetic(96, 64),
        prompt="a (red:1.3) square BREAK on a field",
        negative="blurry",
        profile=PROFILE_SDXL_DPM25_A1111,
        structure="canny",
        seed=3,
    )
    return read_layers(data)


@pytest.mark.parametrize("code", SDXL)
def test_every_sdxl_profile_and_layer_subset_decodes(xl, xl_layers, code):
    from diffusers import StableDiffusionXLAdapterPipeline, StableDiffusionXLPipeline

    images = {}
    for names in SUBSETS:
        img = xl.decode(subset(replace(xl_layers, profile=code), names))
        assert img.size == xl.decode_size(xl_layers, get_profile(code))
        assert img.size[0] > img.size[1]  # the original's aspect (3:2), not a square
        cfg = 2 if code == PROFILE_SDXL_DPM25_A1111 else 1
        assert xl.unet_evaluations == 2 * cfg  # the steps (2 here) x the CFG batch
        images[names] = np.asarray(img, dtype=np.int16)
    profile = get_profile(code)
    assert type(xl.pipeline(profile, ())) is StableDiffusionXLPipeline
    adapter_pipe = xl.pipeline(profile, ("canny",))
    assert isinstance(adapter_pipe, StableDiffusionXLAdapterPipeline)
    assert adapter_pipe.unet is xl.pipeline(profile, ()).unet  # one UNet for every pipeline
    keys = list(images)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            assert np.abs(images[a] - images[b]).max() > 0, (a, b)


def test_the_colour_grid_changes_what_the_unet_receives(xl, xl_layers):
    """SDXL has no colour adapter: with a texture layer the denoising starts from the grid's
    latents, part-way down the schedule; without it, from pure noise at the top."""
    seen = {}
    for names in (("structure",), ("structure", "texture")):
        calls = []

        def grab(_m, args, kwargs, out=calls):
            sample = args[0] if args else kwargs["sample"]
            timestep = args[1] if len(args) > 1 else kwargs["timestep"]
            out.append((sample.detach().float().cpu(), float(timestep)))

        unet = xl.pipeline(get_profile(PROFILE_SDXL_DPM25_A1111), ("canny",)).unet
        handle = unet.register_forward_pre_hook(grab, with_kwargs=True)
        try:
            xl.decode(subset(xl_layers, names))
        finally:
            handle.remove()
        seen[names] = calls[0]
    (noise, t_noise), (start, t_start) = seen[("structure",)], seen[("structure", "texture")]
    assert t_start < t_noise  # img2img: the schedule starts lower
    assert not torch.allclose(noise, start)
    assert start.std() < noise.std()  # part signal, part noise


def test_the_fast_profile_switches_its_lora_on_and_off(xl, xl_layers):
    plain = replace(xl_layers, profile=PROFILE_SDXL_DPM25_A1111)
    before = np.asarray(xl.decode(plain))
    fast = np.asarray(xl.decode(replace(xl_layers, profile=PROFILE_SDXL_LCM4_A1111)))
    after = np.asarray(xl.decode(plain))
    assert np.array_equal(before, after)  # the LoRA is off again for the DPM profile
    assert not np.array_equal(before, fast)


def test_sdxl_structure_adapters_get_rgb_at_the_decode_size(xl, xl_layers):
    from aigic.backends.conditions import adapter_inputs

    profile = get_profile(PROFILE_SDXL_DPM25_A1111)
    size = xl.decode_size(xl_layers, profile)
    kinds, images, scales = adapter_inputs(xl_layers, profile, size)
    assert kinds == ("canny",)  # the colour grid is not an adapter input on SDXL
    assert images[0].size == size and scales == [0.9]
    assert xl.pipeline(profile, kinds).adapter.config.in_channels == 3


def test_the_vae_runs_in_fp32_where_fp16_would_overflow(xl, xl_layers):
    from aigic.backends.sdxl import vae_dtype

    assert vae_dtype(torch.float16, True) is torch.float32
    assert vae_dtype(torch.bfloat16, True) is torch.bfloat16  # fp32's range already
    assert vae_dtype(torch.float16, False) is torch.float16
    pipe = xl.pipeline(get_profile(PROFILE_SDXL_DPM25_A1111), ())
    latents = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(0)) * 30
    image = np.asarray(xl._to_image(pipe, latents))  # in the VAE's own number type
    assert np.isfinite(image).all() and image.std() > 0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (fp16 on a GPU)")
def test_the_sdxl_vae_output_is_finite_on_cuda(tiny_dir, xl_layers):
    from aigic.backends.sdxl import SDXLBackend
    from aigic.testing.models import sources

    be = SDXLBackend(sources=sources(tiny_dir), device="cuda", pixels=PIXELS, steps=2)
    assert be.dtype is torch.float16
    image = np.asarray(be.decode(xl_layers), dtype=np.float32)
    assert np.isfinite(image).all() and image.max() > 0


def test_sdxl_prompts_fill_both_encoders_with_a_pooled_embedding(xl):
    from aigic.backends.prompts import embed_sdxl, plain_text

    pipe = xl.pipeline(get_profile(PROFILE_SDXL_DPM25_A1111), ())
    encoders, tokenizers = (
        (pipe.text_encoder, pipe.text_encoder_2),
        (pipe.tokenizer, pipe.tokenizer_2),
    )
    with torch.inference_mode():
        (pos, pooled), (neg, neg_pooled) = embed_sdxl(
            encoders, tokenizers, "a cat BREAK a dog", "blurry", 2
        )
        (plain, _), none = embed_sdxl(encoders, tokenizers, "a cat", None, 2)
        (heavy, _), _ = embed_sdxl(encoders, tokenizers, "a (cat:1.5)", None, 2)
    width = encoders[0].config.hidden_size + encoders[1].config.hidden_size
    assert pos.shape == (1, 154, width) == neg.shape  # BREAK starts a second window
    assert plain.shape == (1, 77, width) and none is None
    assert pooled.shape == neg_pooled.shape == (1, encoders[1].config.projection_dim)
    assert not torch.allclose(plain, heavy)  # the emphasis weights reach the embeddings
    assert plain_text("a (cat:1.5) BREAK [dog]") == "a cat dog"


def test_auto_decodes_an_sdxl_stream_with_sdxl_or_its_sd15_twin(tiny_dir, monkeypatch):
    from aigic import backends
    from aigic.testing.models import sources

    everything = sources(tiny_dir)
    monkeypatch.setattr(backends, "local_sources", lambda: everything)
    choice = backends.choose(PROFILE_SDXL_DPM25_A1111)
    assert (choice.backend, choice.profile) == ("sdxl", PROFILE_SDXL_DPM25_A1111)
    sd15_only = {r: p for r, p in everything.items() if "xl" not in r}
    monkeypatch.setattr(backends, "local_sources", lambda: sd15_only)
    choice = backends.choose(PROFILE_SDXL_LCM4_A1111)
    assert (choice.backend, choice.profile) == ("sd15", PROFILE_SD15_LCM4_A1111)
    assert "SDXL's weights are not on this machine" in choice.why and "twin" in choice.why
    monkeypatch.setattr(backends, "local_sources", dict)
    choice = backends.choose(PROFILE_SDXL_DPM25_A1111)
    assert choice.backend == "preview"


def test_the_paper_profile_decodes_with_sd14_at_512_and_seed_9999(tiny_dir):
    from aigic.backends.sd15 import SD15Backend
    from aigic.testing.models import sources

    be = SD15Backend(sources=sources(tiny_dir), device="cpu", steps=2)
    data = encode(
        synthetic(64, 96), prompt="a (red:1.2) square", structure="canny", profile=PROFILE_PAPER
    )
    img = decode(data, backend=be)
    assert img.size == (64, 96)  # generated at 512 x 512, returned at the original size
    assert be.unet_evaluations == 6  # 2 PNDM steps here (3 UNet calls) x CFG
    assert "CompVis/stable-diffusion-v1-4" in be.models._folders
    assert "TencentARC/t2iadapter_canny_sd14v1" in be.models._folders
    same = decode(data, backend=be, seed=9999)  # the profile's own seed is 9999
    assert np.array_equal(np.asarray(img), np.asarray(same))
    other = decode(data, backend=be, seed=5)
    assert not np.array_equal(np.asarray(img), np.asarray(other))


def test_lpw_weighting_keeps_the_mean_and_reads_three_windows(backend):
    from aigic.backends.prompts import embed_lpw

    pipe = backend.pipeline(get_profile(PROFILE_SD15_DPM25_A1111), ())
    enc, tok = pipe.text_encoder, pipe.tokenizer
    with torch.inference_mode():
        plain, neg = embed_lpw(enc, tok, "a red cat", "blurry", 3)
        heavy, _ = embed_lpw(enc, tok, "a (red:1.5) cat", None, 3)
        long, long_neg = embed_lpw(enc, tok, " ".join(["cat"] * 160), "blurry", 3)
        longest, _ = embed_lpw(enc, tok, " ".join(["cat"] * 400), None, 3)
    assert plain.shape == neg.shape == (1, 77, enc.config.hidden_size)
    assert long.shape[1] == long_neg.shape[1] == 3 * 77  # 160 tokens: three windows
    assert longest.shape[1] == 3 * 77  # cut at 225 tokens
    assert not torch.allclose(plain, heavy)
    # the same tokens: the weighted embeddings are rescaled to the unweighted ones' mean
    scale = plain.float().abs().mean()
    assert torch.isclose(plain.float().mean(), heavy.float().mean(), atol=1e-5 * scale)
