"""Stable Diffusion XL base 1.0 + T2I-Adapter-SDXL: the decode at the image's own scale.

    Layers --profile (5, 6)--> size about 1 MP at the original's aspect (multiples of 64)
      structure --edges drawn at that size--> T2I-Adapter-SDXL (sketch | canny | openpose)
      texture   --grid, bicubic, VAE-encoded--> latents noised to the schedule's point
                 ``strength`` from the end: the denoising starts there (img2img)
      text only            --> StableDiffusionXLPipeline
      + structure          --> StableDiffusionXLAdapterPipeline
    --> latents --VAE (fp32 where the compute type is fp16)--> image at the decode size

Colour: SDXL has no colour adapter, so the grid steers the result the way img2img does. A grid
of one colour per 64 px cell is the image's low frequencies, which is what the first steps of
a denoising schedule decide; starting from the grid's latents at 80 % noise keeps its layout
and hues and leaves the rest of the schedule to draw detail, where an adapter would have to be
trained. The grid is encoded at a quarter of the decode size (16 px per cell still) and its
latents upsampled: a sixteenth of the VAE encoder's work for the same colours.

Number types: SDXL's VAE overflows in fp16 (black or NaN images), so where the UNet runs in
fp16 (CUDA) the VAE runs in fp32, as its config's ``force_upcast`` asks; bf16 has fp32's range
and is used as is. LCM-LoRA-SDXL stays a LoRA (not fused): enabled for the fast profile and
disabled for the others, so one 2.6 B-parameter UNet serves both.
"""

from __future__ import annotations

import math

from .loader import DiffusersBackend, counting, make_scheduler, progress_arguments, quiet
from .profiles import Profile, for_family, get_profile

TEXTURE_ENCODE_SCALE = 4  # the grid picture is VAE-encoded at 1/4 of the decode size


def vae_dtype(dtype, force_upcast: bool):
    """The VAE's number type: fp32 where the compute type is fp16 and the VAE overflows in it."""
    import torch

    return torch.float32 if dtype == torch.float16 and force_upcast else dtype


class SDXLBackend(DiffusersBackend):
    name = "sdxl"

    def __init__(self, **options):
        super().__init__(**options)
        self._parts: dict = {}

    # ---- loading (once) -----------------------------------------------------------------
    def _base(self, base: str) -> dict:
        if not self._parts:
            from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
            from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

            m = self.models
            upcast = AutoencoderKL.load_config(str(m.folder(base) / "vae")).get("force_upcast")
            self._parts = {
                "tokenizer": m.load(CLIPTokenizer, base, "tokenizer"),
                "tokenizer_2": m.load(CLIPTokenizer, base, "tokenizer_2"),
                "text_encoder": m.model(CLIPTextModel, base, "text_encoder"),
                "text_encoder_2": m.model(CLIPTextModelWithProjection, base, "text_encoder_2"),
                "unet": m.model(UNet2DConditionModel, base, "unet"),
                "vae": m.model(AutoencoderKL, base, "vae", vae_dtype(self.dtype, bool(upcast))),
                "scheduler_config": m.load(EulerDiscreteScheduler, base, "scheduler").config,
            }
        return self._parts

    def _components(self, profile: Profile) -> dict:
        parts = self._base(profile.base)
        names = ("vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "unet")
        return {n: parts[n] for n in names} | {
            "scheduler": make_scheduler(profile, parts["scheduler_config"]),
        }

    def pipeline(self, profile: Profile, kinds: tuple[str, ...]):
        """The (cached) pipeline for these adapter kinds (none, or one structure adapter)."""
        key = (profile.code, kinds)
        if key not in self._pipes:
            from diffusers import StableDiffusionXLAdapterPipeline, StableDiffusionXLPipeline

            parts = self._components(profile)
            if kinds:
                adapter = self.models.adapter(profile.adapters[kinds[0]])
                pipe = StableDiffusionXLAdapterPipeline(adapter=adapter, **parts)
            else:
                pipe = StableDiffusionXLPipeline(**parts, add_watermarker=False)
            if self.offload:
                pipe.enable_model_cpu_offload(device=self.device)
            pipe.set_progress_bar_config(disable=True)
            self._pipes[key] = pipe
        return self._pipes[key]

    # ---- decoding -----------------------------------------------------------------------
    def decode(self, layers, progress=None):
        from .conditions import adapter_inputs

        profile = get_profile(for_family(layers.profile, "sdxl"))
        size = self.last_size = self.decode_size(layers, profile)
        kinds, images, scales = adapter_inputs(layers, profile, size)
        with self._lock:  # pipelines hold scheduler state: one decode at a time
            pipe = self.pipeline(profile, kinds)
            self._use_lora(profile)
            return self._run(pipe, layers, profile, size, images, scales, progress)

    def _run(self, pipe, layers, profile: Profile, size, images, scales, progress):
        import torch

        from .prompts import embed_sdxl

        w, h = size
        text = layers.semantic.text if layers.semantic else ""
        negative = (layers.negative or profile.negative_prompt) if profile.cfg_batch == 2 else None
        with torch.inference_mode():
            (embeds, pooled), neg = embed_sdxl(
                (pipe.text_encoder, pipe.text_encoder_2),
                (pipe.tokenizer, pipe.tokenizer_2),
                text,
                negative,
                profile.prompt_chunks,
            )
        kw = {"prompt_embeds": embeds, "pooled_prompt_embeds": pooled}
        if neg is not None:
            kw |= {"negative_prompt_embeds": neg[0], "negative_pooled_prompt_embeds": neg[1]}
        steps = self.steps or profile.steps
        generator = torch.Generator("cpu").manual_seed(layers.seed)
        kw |= {
            "height": h,
            "width": w,
            "guidance_scale": profile.guidance,
            "generator": generator,
            "output_type": "latent",
        }
        with torch.inference_mode():
            start = self._start(pipe, layers, profile, size, steps, generator)
        if start is None:
            kw["num_inference_steps"] = steps
        else:
            kw["latents"], kw["timesteps"] = start
        if images:
            adapter_in = pipe.adapter.config.in_channels
            kw["image"] = images[0].convert("RGB" if adapter_in == 3 else "L")
            kw["adapter_conditioning_scale"] = scales[0]
        kw |= progress_arguments(progress, steps, adapter=bool(images))
        with counting(pipe.unet) as counted, torch.inference_mode(), quiet():
            latents = pipe(**kw).images
        self.unet_evaluations = counted[0]
        return self._to_image(pipe, latents)

    def _start(self, pipe, layers, profile: Profile, size, steps: int, generator):
        """(noised latents, timesteps) to start from the colour grid, or None (no texture):
        the tail of a schedule of ceil(steps / strength) steps, ``steps`` long, and the grid's
        latents noised to its first timestep (x_t = sqrt(a) x0 + sqrt(1 - a) noise)."""
        import torch

        from .conditions import texture_image

        if layers.texture is None or profile.strength >= 1.0:
            return None
        w, h = size
        small = (max(8, w // TEXTURE_ENCODE_SCALE), max(8, h // TEXTURE_ENCODE_SCALE))
        x0 = self._encode(pipe, texture_image(layers, small), (h // 8, w // 8))
        schedule = type(pipe.scheduler).from_config(pipe.scheduler.config)
        schedule.set_timesteps(math.ceil(steps / profile.strength))
        tail = [int(t) for t in schedule.timesteps[-steps:]]
        alpha = schedule.alphas_cumprod[tail[0]].to(torch.float32)
        noise = torch.randn(x0.shape, generator=generator, dtype=torch.float32)
        noised = alpha.sqrt() * x0 + (1 - alpha).sqrt() * noise
        dtype = pipe.unet.dtype
        return (noised / schedule.init_noise_sigma).to(self.device, dtype), tail

    def _encode(self, pipe, image, latent_hw):
        """The VAE latents of ``image`` (the mode of its distribution, scaled as the UNet
        sees them), upsampled bilinearly to ``latent_hw``."""
        import numpy as np
        import torch

        vae = pipe.vae
        x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 127.5 - 1.0)
        x = x.permute(2, 0, 1)[None].to(vae.device, vae.dtype)
        z = vae.encode(x).latent_dist.mode().float().cpu() * vae.config.scaling_factor
        return torch.nn.functional.interpolate(
            z, size=latent_hw, mode="bilinear", align_corners=False
        )

    def _to_image(self, pipe, latents):
        """Latents -> PIL image through the VAE in its own number type."""
        import torch

        with torch.inference_mode():
            return self._vae_decode(pipe, latents)

    def _vae_decode(self, pipe, latents):
        vae = pipe.vae
        z = latents.to(vae.device, vae.dtype) / vae.config.scaling_factor
        image = vae.decode(z, return_dict=False)[0]
        return pipe.image_processor.postprocess(image.float(), output_type="pil")[0]
