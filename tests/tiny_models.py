"""Tiny random-weight stand-ins for every model aigic's neural parts load, built from configs.

    build(root) --> root/<hub id>/...   (SD 1.5 layout, adapters, LCM-LoRA), saved as safetensors
    sources(root) --> {hub id: local folder}, what SD15Backend(sources=...) takes

Nothing is fetched: the CLIP tokenizer is the committed tests/assets/tiny_clip_tokenizer.
Shapes follow the real models (VAE scale factor 8, adapters downscale 8, 1-channel sketch/canny
adapters, 3-channel pose/colour, a light colour adapter), only much narrower.
"""

from __future__ import annotations

from pathlib import Path

TOKENIZER = Path(__file__).parent / "assets" / "tiny_clip_tokenizer"
CHANNELS = (32, 32, 64, 64)


def _base(path: Path) -> None:
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
        block_out_channels=CHANNELS,
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


def _adapter(path: Path, in_channels: int, light: bool, seed: int) -> None:
    import torch
    from diffusers import T2IAdapter

    torch.manual_seed(seed)
    kind = "light_adapter" if light else "full_adapter"
    channels = list(CHANNELS[:3] if light else CHANNELS)
    T2IAdapter(in_channels, channels, 1, 8, kind).save_pretrained(path, safe_serialization=True)


def _lora(path: Path, base: Path) -> None:
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    torch.manual_seed(1)
    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    unet.add_adapter(
        LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"])
    )
    for name, p in unet.named_parameters():  # peft zero-inits B: make the LoRA do something
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.02)
    StableDiffusionPipeline.save_lora_weights(
        path, unet_lora_layers=get_peft_model_state_dict(unet), safe_serialization=True
    )


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


def _taesd(path: Path) -> None:
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


def build(root: Path) -> dict[str, str]:
    """Write every tiny model under ``root``; returns {hub id: local folder}."""
    from aigic.backends.profiles import ADAPTERS, BASE, LCM_LORA, TAESD

    root = Path(root)
    _base(root / BASE)
    for i, (kind, repo) in enumerate(sorted(ADAPTERS.items())):
        _adapter(root / repo, 1 if kind in ("sketch", "canny") else 3, kind == "color", 10 + i)
    _lora(root / LCM_LORA, root / BASE)
    _taesd(root / TAESD)
    return sources(root)


def sources(root: Path) -> dict[str, str]:
    from aigic.backends.profiles import ADAPTERS, BASE, LCM_LORA, TAESD

    repos = (BASE, LCM_LORA, TAESD, *ADAPTERS.values())
    return {repo: str(Path(root) / repo) for repo in repos}


def subset(lay, names):
    """``lay`` with only the visual layers in ``names`` (the prompt always)."""
    from dataclasses import replace

    return replace(
        lay,
        semantic=lay.semantic,
        structure=lay.structure if "structure" in names else None,
        texture=lay.texture if "texture" in names else None,
    )
