"""Random-weight stand-ins for every model aigic's neural parts load: tiny ones for fast tests,
and SD 1.5 at its real size (from its configs) for the full-size tests and ``aigic bench-decode``.

    tiny(root) --> root/<hub id>/...  SD 1.5's layout, the four adapters, LCM-LoRA, TAESD: much
        narrower than the real ones, same structure (VAE scale 8, adapters downscale 8, 1-channel
        sketch / canny adapters, 3-channel pose / colour, a light colour adapter); the CLIP
        tokenizer is the committed assets/tiny_clip_tokenizer. Seconds to build.
    full_size(configs, root) --> the same layout at the real sizes: SD 1.5 from its configs and
        tokenizer (a folder like ../shared/models/stable-diffusion-v1-5), the adapters from
        diffusers' T2I-Adapter conversion script's configs, LCM-LoRA's rank (64), TAESD's
        architecture; saved as fp16 safetensors, as a user's download is. Every shape, loading
        path and second of compute is real; the pixels are meaningless. A marker file makes a
        second build of the same folder free.
    blip(path), annotators(path) --> a tiny BLIP captioner; PiDiNet and OpenPose files laid out
        as lllyasviel/Annotators serves them

Nothing is fetched. Imports torch, diffusers and peft when a builder runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..weights.repos import (
    ADAPTERS,
    BASE,
    DECODER_REPOS,
    LCM_LORA,
    LCM_LORA_SDXL,
    SD14_ADAPTERS,
    SD14_BASE,
    SDXL_ADAPTERS,
    SDXL_BASE,
    TAESD,
)

TOKENIZER = Path(__file__).parent / "assets" / "tiny_clip_tokenizer"
TINY_CHANNELS = (32, 32, 64, 64)


def _tiny_base(path: Path) -> None:
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=TINY_CHANNELS,
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 16, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=8,
    )
    tokenizer = CLIPTokenizer.from_pretrained(TOKENIZER)
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=77,
        )
    )
    scheduler = PNDMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        skip_prk_steps=True,
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(path, safe_serialization=True)


def _tiny_adapter(path: Path, in_channels: int, light: bool, seed: int) -> None:
    import torch
    from diffusers import T2IAdapter

    torch.manual_seed(seed)
    kind = "light_adapter" if light else "full_adapter"
    channels = list(TINY_CHANNELS[:3] if light else TINY_CHANNELS)
    T2IAdapter(in_channels, channels, 1, 8, kind).save_pretrained(path, safe_serialization=True)


def _tiny_lora(path: Path, base: Path) -> None:
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(1)
    random_lora(UNet2DConditionModel.from_pretrained(base / "unet"), path, rank=4, std=0.02)


BLIP = "Salesforce/blip-image-captioning-base"
ANNOTATORS = "lllyasviel/Annotators"
BLIP_WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "photo", "of", "cat", "dog"]
BLIP_WORDS += ["arafed", "there", "is", "red", "house"]


def blip(path: Path) -> None:
    """A tiny random BLIP captioner with a 15-word BERT vocabulary."""
    import torch
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    path.mkdir(parents=True, exist_ok=True)
    (path / "vocab.txt").write_text("\n".join(BLIP_WORDS) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(str(path / "vocab.txt"))
    BlipProcessor(BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer).save_pretrained(
        path
    )
    torch.manual_seed(2)
    small = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2}
    text = {"vocab_size": len(BLIP_WORDS), "num_attention_heads": 4, "max_position_embeddings": 64}
    text |= {"bos_token_id": 2, "sep_token_id": 3, "pad_token_id": 0, "eos_token_id": 3}
    vision = {"num_attention_heads": 4, "image_size": 32, "patch_size": 8}
    config = BlipConfig(text_config=small | text, vision_config=small | vision, projection_dim=32)
    BlipForConditionalGeneration(config).save_pretrained(path, safe_serialization=True)


def annotators(path: Path) -> None:
    """Random-weight PiDiNet and OpenPose body model, saved as lllyasviel/Annotators does."""
    import torch
    from controlnet_aux.open_pose.model import bodypose_model
    from controlnet_aux.pidi.model import pidinet

    path.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(3)
    pidi = {f"module.{k}": v for k, v in pidinet().state_dict().items()}
    torch.save({"state_dict": pidi}, path / "table5_pidinet.pth")
    body = bodypose_model().state_dict()  # the file's keys lack the first name component
    torch.save(
        {".".join(k.split(".")[1:]): v for k, v in body.items()}, path / "body_pose_model.pth"
    )


def _tiny_taesd(path: Path) -> None:
    """A tiny AutoencoderTiny (TAESD's architecture, 8x upsampling, 4 latent channels)."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(4)
    AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
    ).save_pretrained(path)


def _tiny_sdxl(path: Path) -> None:
    """A tiny SDXL: two text encoders (the second with a projection: the pooled embedding),
    a UNet with SDXL's added text-time conditioning, SDXL's VAE settings."""
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    torch.manual_seed(5)
    tokenizer = CLIPTokenizer.from_pretrained(TOKENIZER)
    text = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
        "hidden_size": 32,
        "intermediate_size": 37,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "vocab_size": len(tokenizer),
        "max_position_embeddings": 77,
        "hidden_act": "gelu",
        "projection_dim": 32,
    }
    unet = UNet2DConditionModel(
        block_out_channels=SDXL_TINY_CHANNELS,
        layers_per_block=2,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4, 8),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 1, 2),
        projection_class_embeddings_input_dim=80,  # 6 time ids x 8 + the 32-wide pooled text
        cross_attention_dim=64,  # the two encoders' hidden states side by side
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 16, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        norm_num_groups=8,
        scaling_factor=0.13025,
        force_upcast=True,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        steps_offset=1,
        timestep_spacing="leading",
    )
    StableDiffusionXLPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(CLIPTextConfig(**text)),
        text_encoder_2=CLIPTextModelWithProjection(CLIPTextConfig(**text)),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=scheduler,
    ).save_pretrained(path, safe_serialization=True)


SDXL_TINY_CHANNELS = (32, 64, 64)


def _tiny_sdxl_lora(path: Path, base: Path) -> None:
    import torch
    from diffusers import UNet2DConditionModel

    torch.manual_seed(6)
    random_lora(UNet2DConditionModel.from_pretrained(base / "unet"), path, rank=4, std=0.02)


def tiny(root: Path) -> dict[str, str]:
    """Write every tiny model under ``root`` (SD 1.5's family, SD 1.4's for ``paper``, SDXL's);
    returns {hub id: local folder}."""
    from diffusers import T2IAdapter

    root = Path(root)
    _tiny_base(root / BASE)
    shutil.copytree(root / BASE, root / SD14_BASE)  # SD 1.4 has SD 1.5's architecture
    adapters = {*SD14_ADAPTERS.items(), *ADAPTERS.items()}  # pose and colour: the same repos
    for i, (kind, repo) in enumerate(sorted(adapters)):
        light = kind == "color"
        _tiny_adapter(root / repo, 1 if kind in ("sketch", "canny") else 3, light, 10 + i)
    _tiny_lora(root / LCM_LORA, root / BASE)
    _tiny_taesd(root / TAESD)
    _tiny_sdxl(root / SDXL_BASE)
    for i, repo in enumerate(SDXL_ADAPTERS.values()):
        torch_seed(30 + i)
        channels = [*SDXL_TINY_CHANNELS, SDXL_TINY_CHANNELS[-1]]
        T2IAdapter(3, channels, 1, 16, "full_adapter_xl").save_pretrained(
            root / repo, safe_serialization=True
        )
    _tiny_sdxl_lora(root / LCM_LORA_SDXL, root / SDXL_BASE)
    return sources(root)


def torch_seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def sources(root: Path) -> dict[str, str]:
    """{hub id: local folder} of the models a builder wrote under ``root`` (what a backend's
    ``sources=`` takes)."""
    return {repo: str(Path(root) / repo) for repo in DECODER_REPOS}


def random_lora(unet, path: Path, rank: int, std: float) -> None:
    """A LoRA of ``rank`` on ``unet``'s attention projections, saved as LCM-LoRA's file is;
    its B matrices drawn with ``std`` (peft starts them at zero, a LoRA that does nothing)."""
    import torch
    from diffusers import StableDiffusionPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    target = ["to_q", "to_k", "to_v", "to_out.0"]
    unet.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=target))
    for name, p in unet.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=std)
    StableDiffusionPipeline.save_lora_weights(
        path, unet_lora_layers=get_peft_model_state_dict(unet), safe_serialization=True
    )


# ---- full size ----------------------------------------------------------------------------
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
    """fp16 safetensors, as a download keeps them (no progress bar per shard)."""
    import torch

    from ..backends.loader import quiet

    with quiet():
        module.to(torch.float16).save_pretrained(path, variant="fp16", safe_serialization=True)


def _full_base(configs: Path, out: Path, lora: Path) -> None:
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
    random_lora(unet.to(torch.float32), lora, rank=64, std=1e-3)


def full_size(configs: Path, root: Path, say=print) -> dict[str, str]:
    """Write every model under ``root`` (once: a marker remembers); {hub id: folder}."""
    import torch
    from diffusers import AutoencoderTiny, T2IAdapter

    configs, root = Path(configs), Path(root)
    folders = sources(root)
    if (root / MARKER).is_file():
        return folders
    missing = [
        n for n in ("unet", "vae", "text_encoder", "tokenizer") if not (configs / n).is_dir()
    ]
    if missing:
        raise FileNotFoundError(f"{configs} lacks {', '.join(missing)}: not SD 1.5's configs")
    say(f"building SD 1.5, 6 adapters, an LCM-LoRA and TAESD with random weights in {root} …")
    from diffusers.utils import logging

    logging.set_verbosity_error()  # the fp16 casts of random weights warn once per model
    _full_base(configs, root / BASE, root / LCM_LORA)
    for i, (kind, args) in enumerate(ADAPTER_CONFIGS.items()):
        torch.manual_seed(10 + i)
        _save(T2IAdapter(*args), root / ADAPTERS[kind])
    # the paper profile: SD 1.4 has SD 1.5's architecture, its sd14v1 adapters the same shapes
    (root / SD14_BASE).parent.mkdir(parents=True, exist_ok=True)
    if not (root / SD14_BASE).exists():
        (root / SD14_BASE).symlink_to((root / BASE).resolve(), target_is_directory=True)
    for i, kind in enumerate(("sketch", "canny")):
        torch.manual_seed(50 + i)
        _save(T2IAdapter(*ADAPTER_CONFIGS[kind]), root / SD14_ADAPTERS[kind])
    torch.manual_seed(20)
    _save(AutoencoderTiny(), root / TAESD)  # the default config is TAESD's architecture
    (root / MARKER).write_text("random weights: pixels are meaningless\n")
    return folders


# ---- SDXL at full size ----------------------------------------------------------------------
SDXL_ADAPTER = (3, [320, 640, 1280, 1280], 2, 16, "full_adapter_xl")  # TencentARC's XL adapters
SDXL_SMALL_FILES = ("model_index.json", "scheduler/scheduler_config.json")


def full_size_sdxl(configs: Path, root: Path, say=print) -> dict[str, str]:
    """SDXL base 1.0 at its real size from its configs and tokenizers (a folder like
    ../shared/models/stable-diffusion-xl-base-1.0), the three T2I-Adapter-SDXL models (diffusers'
    ``full_adapter_xl``) and an LCM-LoRA of rank 64, random weights, fp16 safetensors, under
    ``root`` (once: a marker remembers); {hub id: folder}. The UNet is built in bf16 (its 2.6 B
    parameters in fp32 would take 10 GB before the cast)."""
    import torch
    from diffusers import AutoencoderKL, T2IAdapter, UNet2DConditionModel
    from diffusers.utils import logging
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    configs, root = Path(configs), Path(root)
    folders = sources(root)
    marker = root / (MARKER + "-sdxl")
    if marker.is_file():
        return folders
    needed = ("unet", "vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2")
    missing = [n for n in needed if not (configs / n).is_dir()]
    if missing:
        raise FileNotFoundError(f"{configs} lacks {', '.join(missing)}: not SDXL's configs")
    say(f"building SDXL base, 3 XL adapters and an LCM-LoRA with random weights in {root} …")
    logging.set_verbosity_error()
    out = root / SDXL_BASE
    for name in SDXL_SMALL_FILES:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(configs / name, out / name)
    for tok in ("tokenizer", "tokenizer_2"):
        shutil.copytree(configs / tok, out / tok, dirs_exist_ok=True)
    torch.manual_seed(0)
    _save(
        CLIPTextModel(CLIPTextConfig.from_pretrained(configs / "text_encoder")),
        out / "text_encoder",
    )
    config_2 = CLIPTextConfig.from_pretrained(configs / "text_encoder_2")
    _save(CLIPTextModelWithProjection(config_2), out / "text_encoder_2")
    _save(AutoencoderKL.from_config(_config(configs, "vae")), out / "vae")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        unet = UNet2DConditionModel.from_config(_config(configs, "unet"))
    finally:
        torch.set_default_dtype(default)
    _save(unet, out / "unet")
    random_lora(unet, root / LCM_LORA_SDXL, rank=64, std=1e-3)
    del unet
    for i, repo in enumerate(SDXL_ADAPTERS.values()):
        torch.manual_seed(40 + i)
        _save(T2IAdapter(*SDXL_ADAPTER), root / repo)
    marker.write_text("random weights: pixels are meaningless\n")
    return folders
