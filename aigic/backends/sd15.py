"""Stable Diffusion 1.x + T2I-Adapters: the decoder of the paper, progressive by layer.

    Layers --profile (header code)--> base model, adapters, scheduler, steps, guidance, scales
      text only            --> StableDiffusionPipeline
      + structure | texture --> StableDiffusionAdapterPipeline(T2IAdapter)
      + structure + texture --> StableDiffusionAdapterPipeline(MultiAdapter, scales list)
    --> image at the profile's decode size (the caller resizes it to the original size)

SD 1.5 runs profiles 0-4, SD 1.4 the ``paper`` profile. Components (VAE, text encoder,
tokenizer, UNet) load once per base model and are shared by every pipeline; each adapter
loads once on first use. The fast profiles switch LCM-LoRA on in the one UNet (loaded once,
unfused; off again for the others); profile 4 decodes latents with TAESD. CUDA runs in
fp16, a CPU with native bf16 in bf16, others in fp32; convolutions channels-last. Loading:
loader.py (local folders only, safetensors only, pinned files verified).
"""

from __future__ import annotations

from .loader import DiffusersBackend, counting, make_scheduler, progress_arguments
from .profiles import BASE, TAESD, Profile, for_family, get_profile


class SD15Backend(DiffusersBackend):
    name = "sd15"

    def __init__(self, **options):
        super().__init__(**options)
        self._parts: dict[str, dict] = {}  # base model -> its components

    # ---- loading (once) -----------------------------------------------------------------
    def _base(self, base: str = BASE) -> dict:
        if base not in self._parts:
            from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
            from transformers import CLIPTextModel, CLIPTokenizer

            m = self.models
            self._parts[base] = {
                "tokenizer": m.load(CLIPTokenizer, base, "tokenizer"),
                "text_encoder": m.model(CLIPTextModel, base, "text_encoder"),
                "vae": m.model(AutoencoderKL, base, "vae"),
                "unet": m.model(UNet2DConditionModel, base, "unet"),
                "scheduler_config": m.load(PNDMScheduler, base, "scheduler").config,
            }
        return self._parts[base]

    def _vae(self, profile: Profile):
        if profile.vae == "base":
            return self._base(profile.base)["vae"]
        from diffusers import AutoencoderTiny

        return self.models.model(AutoencoderTiny, TAESD)

    def _components(self, profile: Profile) -> dict:
        base = self._base(profile.base)
        return {
            "vae": self._vae(profile),
            "text_encoder": base["text_encoder"],
            "tokenizer": base["tokenizer"],
            "unet": base["unet"],
            "scheduler": make_scheduler(profile, base["scheduler_config"]),
            "safety_checker": None,
            "feature_extractor": None,
            "requires_safety_checker": False,
        }

    def pipeline(self, profile: Profile, kinds: tuple[str, ...]):
        """The (cached) pipeline for these adapter kinds; all share the loaded components."""
        key = (profile.code, kinds)
        if key not in self._pipes:
            from diffusers import (
                MultiAdapter,
                StableDiffusionAdapterPipeline,
                StableDiffusionPipeline,
            )

            parts = self._components(profile)
            if not kinds:
                pipe = StableDiffusionPipeline(**parts)
            else:
                adapters = [self.models.adapter(profile.adapters[k]) for k in kinds]
                adapter = adapters[0] if len(adapters) == 1 else MultiAdapter(adapters)
                pipe = StableDiffusionAdapterPipeline(adapter=adapter, **parts)
            if self.offload:
                pipe.enable_model_cpu_offload(device=self.device)
            pipe.set_progress_bar_config(disable=True)
            self._pipes[key] = pipe
        return self._pipes[key]

    # ---- decoding -----------------------------------------------------------------------
    def decode(self, layers, progress=None):
        from .conditions import adapter_inputs

        profile = get_profile(for_family(layers.profile, "sd15"))
        size = self.last_size = self.decode_size(layers, profile)
        kinds, images, scales = adapter_inputs(layers, profile, size)
        with self._lock:  # pipelines hold scheduler state: one decode at a time
            pipe = self.pipeline(profile, kinds)
            self._use_lora(profile)
            return self._run(pipe, layers, profile, size, images, scales, progress)

    def _run(self, pipe, layers, profile: Profile, size, images, scales, progress):
        import torch

        from .prompts import embed_lpw, embed_pair

        w, h = size
        text = layers.semantic.text if layers.semantic else ""
        # the image's own negative prompt where the stream carries one, else the profile's
        own = layers.negative
        negative = (own or profile.negative_prompt) if profile.cfg_batch == 2 else None
        embedders = {"a1111": embed_pair, "lpw": embed_lpw}
        if profile.prompt_reader in embedders:  # emphasis and long prompts, as the UIs read
            with torch.inference_mode():
                embeds, negative_embeds = embedders[profile.prompt_reader](
                    pipe.text_encoder, pipe.tokenizer, text, negative, profile.prompt_chunks
                )
            kw = {"prompt_embeds": embeds, "negative_prompt_embeds": negative_embeds}
        else:  # the plain pipeline: literal text, cut at 77 tokens (profiles 0 and 1)
            kw = {"prompt": text, "negative_prompt": negative}
        steps = self.steps or profile.steps
        kw |= {
            "height": h,
            "width": w,
            "num_inference_steps": steps,
            "guidance_scale": profile.guidance,
            "generator": torch.Generator("cpu").manual_seed(layers.seed),
        }
        if images:
            kw["image"] = images[0] if len(images) == 1 else images
            kw["adapter_conditioning_scale"] = scales[0] if len(scales) == 1 else scales
        kw |= progress_arguments(progress, steps, adapter=bool(images))
        with counting(pipe.unet) as counted, torch.inference_mode():
            image = pipe(**kw).images[0]
        self.unet_evaluations = counted[0]
        return image
