"""The SDXL decoder at its real size: SDXL base 1.0 built from its real configs and tokenizers
(random weights), the three T2I-Adapter-SDXL models as diffusers' ``full_adapter_xl`` and an
LCM-LoRA of rank 64, saved as fp16 safetensors as a download is, and a real 1024x1024 stream
decoded through ``aigic.decode(..., backend=...)`` for every SDXL profile and layer subset.

One denoising step per decode at a 64th of the decode area (128x128 for the stream's
1024x1024: every weight shape is real, the latent small) keeps it to minutes on a CPU. About
8 GB in memory in bf16, 15 GB in fp32 (a CPU without native bf16). Timings come from ``aigic bench-decode``, never from here.
"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aigic
from aigic.backends.profiles import PROFILES
from aigic.layers import SUBSETS

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT.parent / "shared" / "models" / "stable-diffusion-xl-base-1.0"
SDXL = [c for c, p in PROFILES.items() if p.family == "sdxl"]
PIXELS = 128 * 128  # a 64th of the 1024x1024 decode: real weights, a small latent

pytestmark = pytest.mark.skipif(
    not (CONFIGS / "unet" / "config.json").is_file(),
    reason=f"needs SDXL base's configs in ../shared ({CONFIGS} is absent)",
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from aigic.testing.models import full_size_sdxl

    root = tmp_path_factory.mktemp("fullsize-sdxl")
    full_size_sdxl(CONFIGS, root, say=lambda line: None)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIGIC_MODEL_DIR", str(root))
        env.setenv("HF_HUB_OFFLINE", "1")
        env.setenv("AIGIC_PREPARED_WEIGHTS", "0")  # 7 GB more on disk: test_fullsize.py's job
        yield root


@pytest.fixture(scope="module")
def stream(model_dir):
    """A 1024x1024 AIGI (the committed one, scaled up) with Canny structure, made for SDXL."""
    img = Image.open(ROOT / "assets" / "astronaut_horse_sd15.png").convert("RGB")
    big = img.resize((1024, 1024), Image.LANCZOS)
    result = aigic.encode_result(big, structure="canny", prompt="an (astronaut:1.2) on a horse")
    assert result.settings.profile == SDXL[0] and "SDXL-class size" in result.profile_why
    return result.data


@pytest.fixture(scope="module")
def backend(model_dir):
    import gc

    from aigic import backends

    yield backends.get_backend("sdxl", steps=1, device="cpu", pixels=PIXELS)
    backends._CACHE.clear()  # free the full-size models (GBs)
    gc.collect()


def test_sdxl_is_saved_as_a_download_is(model_dir):
    from aigic.backends import choose, local_sources
    from aigic.weights.files import FP16
    from aigic.weights.repos import LCM_LORA_SDXL, SDXL_ADAPTERS, SDXL_BASE

    unet = model_dir / SDXL_BASE / "unet" / ("diffusion_pytorch_model" + FP16)
    assert unet.stat().st_size > 5.0e9  # 2.57 B parameters in fp16
    assert {SDXL_BASE, LCM_LORA_SDXL, *SDXL_ADAPTERS.values()} <= set(local_sources())
    for tok in ("tokenizer", "tokenizer_2"):
        assert (model_dir / SDXL_BASE / tok / "vocab.json").read_bytes() == (
            CONFIGS / tok / "vocab.json"
        ).read_bytes()
    assert choose(SDXL[0]).backend == "sdxl"  # auto decodes SDXL streams with SDXL here


@pytest.mark.parametrize("code", SDXL)
@pytest.mark.parametrize("subset", list(SUBSETS))
def test_every_sdxl_profile_and_layer_subset_decodes(backend, stream, code, subset):
    img = aigic.decode(stream, layers=SUBSETS[subset], backend=backend, profile=code)
    assert img.size == (1024, 1024) and img.mode == "RGB"  # returned at the original size
    assert backend.last_size == (128, 128)  # this test's 64th of the 1024x1024 decode
    assert backend.unet_evaluations == PROFILES[code].cfg_batch  # one step, CFG or not
    assert np.asarray(img).std() > 0


def test_the_xl_adapter_feeds_the_real_unet(backend, stream):
    """The structure adapter's features match SDXL's real down blocks in width and size."""
    import json

    import torch

    from aigic.backends.conditions import adapter_inputs

    lay = aigic.read_layers(stream)
    profile = PROFILES[SDXL[0]]
    kinds, images, _ = adapter_inputs(lay, profile, (256, 256))
    pipe = backend.pipeline(profile, kinds)
    x = torch.from_numpy(np.asarray(images[0].convert("RGB"), dtype=np.float32) / 255)
    with torch.no_grad():
        features = pipe.adapter(x.permute(2, 0, 1)[None].to(pipe.adapter.dtype))
    widths = json.loads((CONFIGS / "unet" / "config.json").read_text())["block_out_channels"]
    assert [f.shape[1] for f in features] == [widths[0], widths[1], widths[2], widths[2]]
    assert tuple(features[0].shape[-2:]) == (16, 16)  # the latent (32) after the first down
