"""Decoder profiles without models: the SDXL size rule, the family twins, the paper profile's
settings, and which profile an encode writes (``--profile auto``)."""

from __future__ import annotations

import pytest

from aigic.backends.profiles import PROFILES, for_family, get_profile
from aigic.errors import AigicError
from aigic.format.codes import (
    PROFILE_PAPER,
    PROFILE_SD15_DPM25_A1111,
    PROFILE_SD15_LCM4_A1111,
    PROFILE_SDXL_DPM25_A1111,
    PROFILE_SDXL_LCM4_A1111,
)

SDXL = (PROFILE_SDXL_DPM25_A1111, PROFILE_SDXL_LCM4_A1111)


@pytest.mark.parametrize(
    ("original", "expected"),
    [((1024, 1024), (1024, 1024)), ((512, 512), (1024, 1024)), ((1920, 1080), (1344, 768))],
)
def test_sdxl_decodes_at_about_a_megapixel_at_the_original_aspect(original, expected):
    profile = get_profile(PROFILE_SDXL_DPM25_A1111)
    w, h = profile.decode_size(original, (512, 512))
    assert (w, h) == expected
    assert w % 64 == 0 and h % 64 == 0 and 0.85e6 < w * h < 1.15e6


def test_a_backend_of_the_other_family_uses_the_twin_or_says_why():
    assert for_family(PROFILE_SDXL_DPM25_A1111, "sd15") == PROFILE_SD15_DPM25_A1111
    assert for_family(PROFILE_SD15_LCM4_A1111, "sdxl") == PROFILE_SDXL_LCM4_A1111
    assert for_family(PROFILE_PAPER, "sd15") == PROFILE_PAPER
    with pytest.raises(AigicError, match="runs on the sd15 backend"):
        for_family(PROFILE_PAPER, "sdxl")


def test_the_paper_profile_is_the_released_codes_setting():
    p = PROFILES[PROFILE_PAPER]
    assert p.base == "CompVis/stable-diffusion-v1-4"
    assert p.adapters["sketch"] == "TencentARC/t2iadapter_sketch_sd14v1"
    assert p.adapters["color"] == "TencentARC/t2iadapter_color_sd14v1"
    assert (p.structure_scale, p.color_scale) == (1.0, 1.0)
    assert (p.scheduler, p.steps, p.guidance, p.seed) == ("PNDMScheduler", 50, 7.5, 9999)
    assert p.unet_evaluations == 102 and p.prompt_reader == "lpw"
    assert p.negative_prompt.startswith("extra digit, fewer digits, cropped, worst quality")
    assert p.negative_prompt.endswith("too contrasty, too saturated")
    assert p.decode_size((1024, 768), (640, 512)) == (512, 512)
    assert "Chen et al" not in PROFILES[PROFILE_SD15_DPM25_A1111].negative_prompt


def test_encode_auto_picks_sdxl_for_large_or_sdxl_made_images():
    from aigic.encoder.profile import choose_profile
    from aigic.imaging.metadata import model_name

    assert choose_profile((1024, 1024), None)[0] == PROFILE_SDXL_DPM25_A1111
    assert choose_profile((512, 768), None)[0] == PROFILE_SD15_DPM25_A1111
    assert choose_profile((512, 512), "sd_xl_turbo_1.0_fp16.safetensors")[0] == SDXL[0]
    assert choose_profile((512, 512), "v1-5-pruned-emaonly.ckpt")[0] == PROFILE_SD15_DPM25_A1111
    a1111 = {
        "parameters": "a cat\nNegative prompt: ugly\nSteps: 20, Model: juggernautXL_v9, Seed: 1"
    }
    assert model_name(a1111) == "juggernautXL_v9"
    comfy = {"prompt": '{"4": {"inputs": {"ckpt_name": "flux1-dev.safetensors"}}}'}
    assert model_name(comfy) == "flux1-dev.safetensors"
    assert model_name({"prompt": "{not json"}) is None
    assert model_name({"parameters": "a cat"}) is None
