"""Stable Diffusion 1.5 + T2I-Adapters: the decoder of the paper, progressive by layer.

    Layers --profile (header code)--> models, scheduler, steps, guidance, scales
      text only            --> StableDiffusionPipeline
      + structure | texture --> StableDiffusionAdapterPipeline(T2IAdapter)
      + structure + texture --> StableDiffusionAdapterPipeline(MultiAdapter, scales list)
    --> image at the coding size (the caller resizes it to the original size)

Components (VAE, text encoder, tokenizer, UNet) load once and are shared by every pipeline;
each adapter loads once on first use. The fast profile fuses LCM-LoRA into a copy of the UNet
(the adapter pipeline has no ``load_lora_weights``). CUDA runs in fp16, the CPU in fp32.
Weights load from safetensors only, at the profile's pinned revisions, no remote code.
``sources`` maps hub ids to local folders (offline mirrors, the tests' tiny models).
"""

from __future__ import annotations

import copy
import threading

from ..errors import BackendUnavailable, ModelUnavailable
from ..models import hub
from .profiles import ADAPTERS, BASE, LCM_LORA, REVISIONS, Profile, get_profile

FALLBACK = "decode with --backend preview"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _key(repo: str) -> str:
    return {BASE: "model_index.json", LCM_LORA: "pytorch_lora_weights.safetensors"}.get(
        repo, "config.json"
    )


def _cached(repo: str) -> bool:
    return hub.cached(repo, _key(repo), REVISIONS[repo]) is not None


def weights_status() -> tuple[bool, str]:
    """(available, reason) for the default profile. Checks the local cache only; fetches nothing."""
    missing = [r for r in (BASE, *ADAPTERS.values()) if not _cached(r)]
    if missing:
        return False, (
            f"Stable Diffusion weights are not in the local Hugging Face cache (missing: "
            f"{', '.join(missing)}); get them with `huggingface-cli download {missing[0]}` "
            "on a machine with internet, or decode with --backend preview"
        )
    return True, "Stable Diffusion 1.5 and the T2I-Adapters are in the local Hugging Face cache"


def _missing(repo: str, why: str) -> BackendUnavailable:
    return BackendUnavailable(str(hub.missing(repo, REVISIONS[repo], why, FALLBACK)))


class SD15Backend:
    name = "sd15"

    def __init__(self, *, device=None, dtype=None, offload: bool = False, sources=None):
        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = dtype or (
            torch.float16 if str(self.device).startswith("cuda") else torch.float32
        )
        self.offload = offload
        self.sources = dict(sources or {})
        self.unet_evaluations = 0  # counted during the last decode
        self._parts: dict = {}
        self._unets: dict[int, object] = {}
        self._adapters: dict[str, object] = {}
        self._pipes: dict[tuple, object] = {}
        self._lock = threading.Lock()

    # ---- loading (once) -----------------------------------------------------------------
    def _where(self, repo: str) -> dict:
        """from_pretrained arguments for ``repo``: a local folder, the cache, or the hub."""
        if repo in self.sources:
            return {"pretrained_model_name_or_path": self.sources[repo]}
        try:
            return hub.locate(repo, REVISIONS[repo], _key(repo), FALLBACK)
        except ModelUnavailable as exc:
            raise BackendUnavailable(str(exc)) from None

    def _load(self, cls, repo: str, **kw):
        where = self._where(repo)
        try:
            return cls.from_pretrained(**where, use_safetensors=True, **kw)
        except Exception as exc:  # missing file, no network, bad cache: one clear message
            raise _missing(repo, _first_line(exc)) from exc

    def _model(self, cls, repo: str, **kw):
        module = self._load(cls, repo, torch_dtype=self.dtype, **kw)
        return module if self.offload else module.to(self.device)

    def _base(self) -> dict:
        if not self._parts:
            from diffusers import AutoencoderKL, UNet2DConditionModel
            from transformers import CLIPTextModel, CLIPTokenizer

            parts = {
                "tokenizer": self._load(CLIPTokenizer, BASE, subfolder="tokenizer"),
                "text_encoder": self._model(CLIPTextModel, BASE, subfolder="text_encoder"),
                "vae": self._model(AutoencoderKL, BASE, subfolder="vae"),
                "unet": self._model(UNet2DConditionModel, BASE, subfolder="unet"),
            }
            from diffusers import PNDMScheduler

            parts["scheduler_config"] = self._load(
                PNDMScheduler, BASE, subfolder="scheduler"
            ).config
            self._parts = parts
        return self._parts

    def _unet(self, profile: Profile):
        base = self._base()
        if profile.lora is None:
            return base["unet"]
        if profile.code not in self._unets:
            from diffusers import StableDiffusionPipeline

            unet = copy.deepcopy(base["unet"])
            pipe = StableDiffusionPipeline(**self._components(profile, unet))
            where = self._where(profile.lora)
            try:
                pipe.load_lora_weights(
                    where.pop("pretrained_model_name_or_path"),
                    **where,
                    use_safetensors=True,
                    adapter_name="lcm",
                )
            except Exception as exc:
                raise _missing(profile.lora, _first_line(exc)) from exc
            pipe.fuse_lora(adapter_names=["lcm"])
            pipe.unload_lora_weights()  # keeps the fused weights, drops the LoRA layers
            self._unets[profile.code] = unet
        return self._unets[profile.code]

    def _adapter(self, kind: str):
        if kind not in self._adapters:
            from diffusers import T2IAdapter

            self._adapters[kind] = self._model(T2IAdapter, ADAPTERS[kind])
        return self._adapters[kind]

    def _components(self, profile: Profile, unet) -> dict:
        import diffusers

        base = self._base()
        scheduler_cls = getattr(diffusers, profile.scheduler)
        return {
            "vae": base["vae"],
            "text_encoder": base["text_encoder"],
            "tokenizer": base["tokenizer"],
            "unet": unet,
            "scheduler": scheduler_cls.from_config(
                base["scheduler_config"], **profile.scheduler_options
            ),
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

            parts = self._components(profile, self._unet(profile))
            if not kinds:
                pipe = StableDiffusionPipeline(**parts)
            else:
                adapters = [self._adapter(k) for k in kinds]
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

        profile = get_profile(layers.profile)
        kinds, images, scales = adapter_inputs(layers, profile)
        with self._lock:  # pipelines hold scheduler state: one decode at a time
            pipe = self.pipeline(profile, kinds)
            return self._run(pipe, layers, profile, images, scales, progress)

    def _run(self, pipe, layers, profile: Profile, images, scales, progress):
        import torch

        from .prompts import embed_pair

        w, h = layers.size
        text = layers.semantic.text if layers.semantic else ""
        negative = profile.negative_prompt if profile.cfg_batch == 2 else None
        if profile.prompt_reader == "a1111":  # emphasis, BREAK and long prompts, as A1111 reads
            with torch.inference_mode():
                embeds, negative_embeds = embed_pair(
                    pipe.text_encoder, pipe.tokenizer, text, negative, profile.prompt_chunks
                )
            kw = {"prompt_embeds": embeds, "negative_prompt_embeds": negative_embeds}
        else:  # the plain pipeline: literal text, cut at 77 tokens (profiles 0 and 1)
            kw = {"prompt": text, "negative_prompt": negative}
        kw |= {
            "height": h,
            "width": w,
            "num_inference_steps": profile.steps,
            "guidance_scale": profile.guidance,
            "generator": torch.Generator("cpu").manual_seed(layers.seed),
        }
        if images:
            kw["image"] = images[0] if len(images) == 1 else images
            kw["adapter_conditioning_scale"] = scales[0] if len(scales) == 1 else scales
        steps = profile.steps

        if progress and images:  # the adapter pipeline has the older per-step callback
            kw["callback"] = lambda i, _t, _latents: progress(i + 1, steps)
            kw["callback_steps"] = 1
        elif progress:
            kw["callback_on_step_end"] = lambda _p, i, _t, cb: progress(i + 1, steps) or cb
        counted = [0]

        def count(_module, args, kwargs):
            sample = args[0] if args else kwargs["sample"]
            counted[0] += sample.shape[0]

        hook = pipe.unet.register_forward_pre_hook(count, with_kwargs=True)
        try:
            with torch.inference_mode():
                image = pipe(**kw).images[0]
        finally:
            hook.remove()
        self.unet_evaluations = counted[0]
        return image
