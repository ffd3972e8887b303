"""The model repos aigic uses, the files it needs from each, and the hashes that pin them.

    hub id --REPOS--> RepoSpec (configs, weight stems, exact files, pinned SHA-256s)
    hub id --folder()--> the local copy: ``$AIGIC_MODEL_DIR/<id>`` or the Hugging Face cache
    local copy --check()--> every pinned file present is the pinned one (hashed once per file)

Pins come from the models' own histories: SD 1.5's weight files at revision 1d0c4eb of
runwayml/stable-diffusion-v1-5 (read from its Git LFS pointers; stable-diffusion-v1-5/
stable-diffusion-v1-5 re-hosts those files), SDXL base 1.0's at revision bf71498 of
stabilityai/stable-diffusion-xl-base-1.0 (likewise from its LFS pointers), PiDiNet's checkpoint
from hellozhuo/pidinet (commit 36f6506, the file lllyasviel/Annotators serves). SD 1.4, the
adapters, the LCM-LoRAs and TAESD have no known hash yet: the revision actually downloaded is recorded instead (``weights.json``).

``AIGIC_UNPINNED_WEIGHTS=1`` lets files that differ from their pins load (with a warning): for
models built with random weights (the full-size tests, ``aigic bench-decode``), never for a user.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import MappingProxyType

from . import hub
from .files import RepoSpec, WeightMismatch, known_digest, load_state, verify

BASE = "stable-diffusion-v1-5/stable-diffusion-v1-5"
ADAPTERS = MappingProxyType(
    {
        "sketch": "TencentARC/t2iadapter_sketch_sd15v2",
        "canny": "TencentARC/t2iadapter_canny_sd15v2",
        "pose": "TencentARC/t2iadapter_openpose_sd14v1",
        "color": "TencentARC/t2iadapter_color_sd14v1",
    }
)
LCM_LORA = "latent-consistency/lcm-lora-sdv1-5"
TAESD = "madebyollin/taesd"
# SDXL base 1.0 and TencentARC's T2I-Adapter-SDXL models (the sketch adapter was trained on
# PiDiNet sketches, which is what the sketch layer holds; see docs/DECODERS.md)
SDXL_BASE = "stabilityai/stable-diffusion-xl-base-1.0"
SDXL_ADAPTERS = MappingProxyType(
    {
        "sketch": "TencentARC/t2i-adapter-sketch-sdxl-1.0",
        "canny": "TencentARC/t2i-adapter-canny-sdxl-1.0",
        "pose": "TencentARC/t2i-adapter-openpose-sdxl-1.0",
    }
)
LCM_LORA_SDXL = "latent-consistency/lcm-lora-sdxl"
# what Chen et al.'s released code decodes with (CUC-MIPG/DiffusionCMC_for_AGIs)
SD14_BASE = "CompVis/stable-diffusion-v1-4"
SD14_ADAPTERS = MappingProxyType(
    {
        "sketch": "TencentARC/t2iadapter_sketch_sd14v1",
        "canny": "TencentARC/t2iadapter_canny_sd14v1",
        "pose": "TencentARC/t2iadapter_openpose_sd14v1",
        "color": "TencentARC/t2iadapter_color_sd14v1",
    }
)
DECODER_REPOS = (
    BASE,
    LCM_LORA,
    TAESD,
    *ADAPTERS.values(),
    SDXL_BASE,
    LCM_LORA_SDXL,
    *SDXL_ADAPTERS.values(),
    SD14_BASE,
    *SD14_ADAPTERS.values(),
)
ANNOTATORS = "lllyasviel/Annotators"  # PiDiNet and OpenPose, for the encoder
# The hub revision each repo is fetched at. "main" until the commit hashes are recorded; the
# pins below are what makes a file trusted, and a changed file is refused, not loaded.
REVISIONS = MappingProxyType({r: "main" for r in (*DECODER_REPOS, ANNOTATORS)})

SD15_PINS = MappingProxyType(  # runwayml/stable-diffusion-v1-5 @ 1d0c4ebf6ff58a5caecab40fa1406526bca4b5b9
    {
        "text_encoder/model.fp16.safetensors": "77795e2023adcf39bc29a884661950380bd093cf0750a966d473d1718dc9ef4e",
        "text_encoder/model.safetensors": "d008943c017f0092921106440254dbbe00b6a285f7883ec8ba160c3faad88334",
        "unet/diffusion_pytorch_model.fp16.safetensors": "c83908253f9a64d08c25fc90874c9c8aef9a329ce1ca5fb909d73b0c83d1ea21",
        "unet/diffusion_pytorch_model.safetensors": "19da7aaa4b880e59d56843f1fcb4dd9b599c28a1d9d9af7c1143057c8ffae9f1",
        "vae/diffusion_pytorch_model.fp16.safetensors": "4fbcf0ebe55a0984f5a5e00d8c4521d52359af7229bb4d81890039d2aa16dd7c",
        "vae/diffusion_pytorch_model.safetensors": "a2b5134f4dbc140d9c11f11cba3233099e00af40f262f136c691fb7d38d2194c",
    }
)
SDXL_PINS = MappingProxyType(  # stabilityai/stable-diffusion-xl-base-1.0 @ bf714989e22c57ddc1c453bf74dab4521acb81d8
    {
        "text_encoder/model.fp16.safetensors": "660c6f5b1abae9dc498ac2d21e1347d2abdb0cf6c0c0c8576cd796491d9a6cdd",
        "text_encoder/model.safetensors": "5c3d6454dd2d23414b56aa1b5858a72487a656937847b6fea8d0606d7a42cdbc",
        "text_encoder_2/model.fp16.safetensors": "ec310df2af79c318e24d20511b601a591ca8cd4f1fce1d8dff822a356bcdb1f4",
        "text_encoder_2/model.safetensors": "3a6032f63d37ae02bbc74ccd6a27440578cd71701f96532229d0154f55a8d3ff",
        "unet/diffusion_pytorch_model.fp16.safetensors": "83e012a805b84c7ca28e5646747c90a243c65c8ba4f070e2d7ddc9d74661e139",
        "unet/diffusion_pytorch_model.safetensors": "357650fbfb3c7b4d94c1f5fd7664da819ad1ff5a839430484b4ec422d03f710a",
        "vae/diffusion_pytorch_model.fp16.safetensors": "bcb60880a46b63dea58e9bc591abe15f8350bde47b405f9c38f4be70c6161e68",
        "vae/diffusion_pytorch_model.safetensors": "1598f3d24932bcfe6634e8b618ea1e30ab1d57f5aad13a6d2de446d2199f2341",
    }
)
PIDINET = "table5_pidinet.pth"
PIDINET_PIN = "80860ac267258b5f27486e0ef152a211d0b08120f62aeb185a050acc30da486c"

_ADAPTER = RepoSpec(configs=("config.json",), weights=("diffusion_pytorch_model",))
_LORA = RepoSpec(
    files=("pytorch_lora_weights.safetensors",), key="pytorch_lora_weights.safetensors"
)
_TOKENIZER_FILES = ("merges.txt", "special_tokens_map.json", "tokenizer_config.json", "vocab.json")


def _pipeline_repo(encoders: tuple[str, ...], pins) -> RepoSpec:
    """A diffusers Stable Diffusion repo: its configs, a tokenizer and a text encoder per
    suffix in ``encoders`` ("" for SD 1.x; "", "_2" for SDXL's two), the UNet and the VAE."""
    return RepoSpec(
        configs=(
            "model_index.json",
            "scheduler/scheduler_config.json",
            *(f"tokenizer{e}/{n}" for e in encoders for n in _TOKENIZER_FILES),
            *(f"text_encoder{e}/config.json" for e in encoders),
            "unet/config.json",
            "vae/config.json",
        ),
        weights=(
            *(f"text_encoder{e}/model" for e in encoders),
            "unet/diffusion_pytorch_model",
            "vae/diffusion_pytorch_model",
        ),
        pins=dict(pins),
        key="model_index.json",
    )


REPOS = MappingProxyType(
    {
        BASE: _pipeline_repo(("",), SD15_PINS),
        SDXL_BASE: _pipeline_repo(("", "_2"), SDXL_PINS),
        SD14_BASE: _pipeline_repo(("",), {}),
        **{
            repo: _ADAPTER
            for repo in (*ADAPTERS.values(), *SDXL_ADAPTERS.values(), *SD14_ADAPTERS.values())
        },
        LCM_LORA: _LORA,
        LCM_LORA_SDXL: _LORA,
        TAESD: _ADAPTER,
        ANNOTATORS: RepoSpec(files=(PIDINET,), pins={PIDINET: PIDINET_PIN}, key=PIDINET),
    }
)


def folder(repo: str) -> Path | None:
    """The local copy of ``repo``: ``$AIGIC_MODEL_DIR/<repo>``, else its snapshot in the
    Hugging Face cache at the recorded revision, else None."""
    local = hub.local_dir(repo)
    if local is not None:
        return Path(local)
    key = REPOS[repo].key
    hit = hub.cached(repo, key, REVISIONS[repo])
    if hit is None:
        return None
    return Path(hit).parents[key.count("/")]


def unpinned_allowed() -> bool:
    return os.environ.get("AIGIC_UNPINNED_WEIGHTS", "") not in ("", "0")


def check(repo: str, where: Path) -> None:
    """Verify every pinned file of ``repo`` present in ``where`` (WeightMismatch otherwise;
    a warning only where AIGIC_UNPINNED_WEIGHTS is set)."""
    for name, sha in REPOS[repo].pins.items():
        path = where / name
        if not path.is_file():
            continue
        try:
            verify(path, sha, f"{repo}/{name}")
        except WeightMismatch as exc:
            if not unpinned_allowed():
                raise
            warnings.warn(f"{exc} (loaded anyway: AIGIC_UNPINNED_WEIGHTS is set)", stacklevel=2)


def pin_status(repo: str, where: Path, name: str) -> str:
    """'verified', 'differs from its pin', 'pinned, not checked yet', or 'no pin' for one
    local file."""
    sha = REPOS[repo].pins.get(name)
    if sha is None:
        return "no pin"
    known = known_digest(where / name, load_state())
    if known is None:
        return "pinned, not checked yet"
    return "verified" if known == sha else "differs from its pin"
