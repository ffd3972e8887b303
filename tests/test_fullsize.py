"""The SD 1.5 decoder at its real size: models built from SD 1.5's real configs (random weights),
saved as a user's download is, a real 512x512 stream decoded through
``aigic.decode(..., backend="sd15")`` with every profile and layer subset.

One denoising step per decode at a 16th of the decode area (128x128: every weight shape is
real, the latent small) keeps it to minutes on a CPU without native bf16. Skipped with the
reason where ../shared (the configs, the tokenizer, PiDiNet) is absent. The timing of this decode comes from ``aigic bench-decode``, never from here.
"""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import aigic
from aigic.backends.profiles import PROFILES
from aigic.format.codes import PROFILE_SD15_LCM4_A1111
from aigic.layers import SUBSETS

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT.parent / "shared" / "models" / "stable-diffusion-v1-5"
PIDINET = ROOT.parent / "shared" / "models" / "pidinet" / "table5_pidinet.pth"
PIXELS = 128 * 128  # a 16th of the 512x512 decode: real weights, a small latent

pytestmark = pytest.mark.skipif(
    not (CONFIGS / "unet" / "config.json").is_file() or not PIDINET.is_file(),
    reason=f"needs SD 1.5's configs and PiDiNet in ../shared ({CONFIGS.parent} is absent)",
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """The full-size models in the AIGIC_MODEL_DIR layout, plus PiDiNet (a link to ../shared)."""
    from aigic.testing.models import full_size

    root = tmp_path_factory.mktemp("fullsize")
    full_size(CONFIGS, root, say=lambda line: None)
    annotators = root / "lllyasviel" / "Annotators"
    annotators.mkdir(parents=True)
    (annotators / PIDINET.name).symlink_to(PIDINET)
    with pytest.MonkeyPatch.context() as env:  # module-scoped, undone after the module
        env.setenv("AIGIC_MODEL_DIR", str(root))
        env.setenv("HF_HUB_OFFLINE", "1")
        yield root


@pytest.fixture(scope="module")
def stream(model_dir):
    """A real AIGI at 512x512 with a PiDiNet sketch (the real weights) and the default preset."""
    img = Image.open(ROOT / "assets" / "astronaut_horse_sd15.png").convert("RGB")
    result = aigic.encode_result(img.resize((512, 512), Image.LANCZOS), structure="sketch")
    assert result.structure == "sketch"
    return result.data


@pytest.fixture(scope="module")
def backend(model_dir):
    import gc
    import shutil

    from aigic import backends
    from aigic.backends import prepared

    yield backends.get_backend("sd15", steps=1, device="cpu", pixels=PIXELS)
    backends._CACHE.clear()  # free the full-size models (GBs) before the next module's
    gc.collect()
    shutil.rmtree(prepared.folder(), ignore_errors=True)  # and their prepared copies


def test_the_models_are_saved_as_a_download_is(model_dir):
    from aigic.backends import local_sources
    from aigic.weights.files import FP16
    from aigic.weights.repos import BASE, LCM_LORA_SDXL, REPOS, SDXL_ADAPTERS, SDXL_BASE

    unet = model_dir / BASE / "unet" / ("diffusion_pytorch_model" + FP16)
    assert unet.stat().st_size > 1.6e9  # 860 M parameters in fp16
    sdxl = {SDXL_BASE, LCM_LORA_SDXL, *SDXL_ADAPTERS.values()}  # test_fullsize_sdxl.py's
    assert set(local_sources()) == set(REPOS) - {"lllyasviel/Annotators"} - sdxl
    assert (model_dir / BASE / "tokenizer" / "vocab.json").read_bytes() == (
        CONFIGS / "tokenizer" / "vocab.json"
    ).read_bytes()


SD1 = [c for c, p in PROFILES.items() if p.family == "sd15"]  # SD 1.5's five and paper (SD 1.4)


@pytest.mark.parametrize("code", SD1)
@pytest.mark.parametrize("subset", list(SUBSETS))
def test_every_profile_and_layer_subset_decodes(backend, stream, code, subset):
    profile = PROFILES[code]
    img = aigic.decode(stream, layers=SUBSETS[subset], backend=backend, profile=code)
    assert img.size == (512, 512) and img.mode == "RGB"  # returned at the original size
    assert backend.last_size == (128, 128)  # this test's 16th of the 512x512 decode
    # one step, CFG or not (PNDM's extra UNet call comes only from its second step on)
    assert backend.unet_evaluations == profile.cfg_batch
    pixels = np.asarray(img)
    assert pixels.std() > 0  # random weights, yet a real picture came out of the VAE


def test_the_adapters_see_the_layers_they_were_trained_on(backend, stream):
    """What the stream's layers become (the pipeline's own preprocessing) runs through each
    adapter into features shaped as the real UNet's down blocks (../shared's config), not as
    the builder's table says."""
    import json

    import torch
    from diffusers.pipelines.t2i_adapter.pipeline_stable_diffusion_adapter import (
        _preprocess_adapter_image,
    )

    from aigic.backends.conditions import adapter_inputs
    from aigic.backends.profiles import get_profile

    unet = json.loads((CONFIGS / "unet" / "config.json").read_text())["block_out_channels"]
    profile = get_profile(PROFILE_SD15_LCM4_A1111)
    lay = aigic.read_layers(stream)
    kinds, images, _ = adapter_inputs(lay, profile, lay.size)
    assert kinds == ("sketch", "color")
    pipe = backend.pipeline(profile, kinds)
    w, h = lay.size
    counts = []
    for adapter, image in zip(pipe.adapter.adapters, images):
        x = _preprocess_adapter_image(image, h, w).to(adapter.dtype)
        with torch.no_grad():
            features = adapter(x)
        assert [f.shape[1] for f in features] == unet[: len(features)]
        assert [tuple(f.shape[-2:]) for f in features] == [
            (h // 8 >> i, w // 8 >> i) for i in range(len(features))
        ]
        counts.append(len(features))
    assert counts == [len(unet)] * 2  # both feed every down block (the light one from 3 widths)


def test_a_fresh_backend_loads_the_prepared_weights_and_decodes_the_same(backend, stream):
    """The first backend's loads wrote the prepared files (a CPU decode); a second backend
    maps them instead of casting the downloads, and decodes the same pixels."""
    from aigic.backends import prepared
    from aigic.backends.sd15 import SD15Backend
    from aigic.format.codes import PROFILE_SD15_LCM4_TAESD_A1111 as code

    want = np.asarray(aigic.decode(stream, backend=backend, profile=code))
    files, size = prepared.kept()
    assert files >= 4 and size > 1.6e9  # the UNet's 860 M parameters among them
    built = []
    build = prepared.build
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(prepared, "build", lambda *a: built.append(a[0].__name__) or build(*a))
        fresh = SD15Backend(steps=1, device="cpu", pixels=PIXELS)
        got = np.asarray(aigic.decode(stream, backend=fresh, profile=code))
    assert {"CLIPTextModel", "UNet2DConditionModel", "AutoencoderTiny"} <= set(built)
    np.testing.assert_array_equal(want, got)


def test_random_weights_are_refused_where_sd15_is_pinned(model_dir, stream, monkeypatch):
    from aigic.backends.sd15 import SD15Backend
    from aigic.weights.files import WeightMismatch

    monkeypatch.delenv("AIGIC_UNPINNED_WEIGHTS")
    with pytest.raises(WeightMismatch) as err:
        aigic.decode(stream, backend=SD15Backend(steps=1, device="cpu"))
    message = str(err.value)
    assert "\n" not in message and "is not the pinned file" in message
    assert "stable-diffusion-v1-5/stable-diffusion-v1-5/" in message
