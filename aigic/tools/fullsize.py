"""SD 1.5, its four T2I-Adapters, an LCM-LoRA and TAESD at their real sizes, with random weights.

    SD 1.5's configs + tokenizer (a folder like ../shared/models/stable-diffusion-v1-5)
        --build(configs, root)--> root/<hub id>/... in the layout ``aigic models download``
          writes (fp16 safetensors variants, as a user's download is), for AIGIC_MODEL_DIR

Every shape, loading path and second of compute is real; the pixels are meaningless. The
adapters' configs are those of diffusers' T2I-Adapter conversion script (sketch and canny:
full adapter, 1 channel; openpose: full, 3 channels; colour: light adapter, 4 res blocks). The
LoRA is random at LCM-LoRA's rank (64) on the attention projections. Used by the full-size test
and ``aigic bench-decode``; a marker file makes a second build of the same folder free.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..models.repos import ADAPTERS, BASE, LCM_LORA, TAESD

ADAPTER_CONFIGS = {  # in_channels, channels, num_res_blocks, downscale_factor, adapter_type
    "sketch": (1, [320, 640, 1280, 1280], 2, 8, "full_adapter"),
    "canny": (1, [320, 640, 1280, 1280], 2, 8, "full_adapter"),
    "pose": (3, [320, 640, 1280, 1280], 2, 8, "full_adapter"),
    "color": (3, [320, 640, 1280], 4, 8, "light_adapter"),
}
MARKER = ".aigic-fullsize-random"
SMALL_FILES = ("model_index.json", "scheduler/scheduler_config.json")


def _config(configs: Path, name: str) -> dict:
    return json.loads((configs / name / "config.json").read_text())


def _save(module, path: Path) -> None:
    import torch

    module.to(torch.float16).save_pretrained(path, variant="fp16", safe_serialization=True)


def _base(configs: Path, out: Path, lora: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    for name in SMALL_FILES:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(configs / name, out / name)
    shutil.copytree(configs / "tokenizer", out / "tokenizer", dirs_exist_ok=True)
    torch.manual_seed(0)
    text = CLIPTextModel(CLIPTextConfig.from_pretrained(configs / "text_encoder"))
    _save(text, out / "text_encoder")
    del text
    _save(AutoencoderKL.from_config(_config(configs, "vae")), out / "vae")
    unet = UNet2DConditionModel.from_config(_config(configs, "unet"))
    _save(unet, out / "unet")
    _lora(unet.to(torch.float32), lora)


def _lora(unet, path: Path) -> None:
    import torch
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    unet.add_adapter(
        LoraConfig(r=64, lora_alpha=64, target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    )
    for name, p in unet.named_parameters():  # peft zero-inits B: make the LoRA do something
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=1e-3)
    StableDiffusionPipeline.save_lora_weights(
        path, unet_lora_layers=get_peft_model_state_dict(unet), safe_serialization=True
    )


def build(configs: Path, root: Path, say=print) -> dict[str, str]:
    """Write every model under ``root`` (once: a marker remembers); {hub id: folder}."""
    import torch
    from diffusers import AutoencoderTiny, T2IAdapter

    configs, root = Path(configs), Path(root)
    folders = {r: str(root / r) for r in (BASE, LCM_LORA, TAESD, *ADAPTERS.values())}
    if (root / MARKER).is_file():
        return folders
    missing = [
        n for n in ("unet", "vae", "text_encoder", "tokenizer") if not (configs / n).is_dir()
    ]
    if missing:
        raise FileNotFoundError(f"{configs} lacks {', '.join(missing)}: not SD 1.5's configs")
    say(f"building SD 1.5, 4 adapters, an LCM-LoRA and TAESD with random weights in {root} …")
    from diffusers.utils import logging

    logging.set_verbosity_error()  # the fp16 casts of random weights warn once per model
    _base(configs, root / BASE, root / LCM_LORA)
    for i, (kind, args) in enumerate(ADAPTER_CONFIGS.items()):
        torch.manual_seed(10 + i)
        _save(T2IAdapter(*args), root / ADAPTERS[kind])
    torch.manual_seed(20)
    _save(AutoencoderTiny(), root / TAESD)  # the default config is TAESD's architecture
    (root / MARKER).write_text("random weights: pixels are meaningless\n")
    return folders
