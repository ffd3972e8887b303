"""Stable Diffusion 1.5 + T2I-Adapters: the decoder of the paper, progressive by layer.

    Layers --profile (header code)--> models, scheduler, steps, guidance, scales
      text only            --> StableDiffusionPipeline
      + structure | texture --> StableDiffusionAdapterPipeline(T2IAdapter)
      + structure + texture --> StableDiffusionAdapterPipeline(MultiAdapter, scales list)
    --> image at the coding size (the caller resizes it to the original size)

Components (VAE, text encoder, tokenizer, UNet) load once and are shared by every pipeline;
each adapter loads once on first use. The fast profiles fuse LCM-LoRA into a copy of the UNet
(the adapter pipeline has no ``load_lora_weights``); profile 4 decodes latents with TAESD.
CUDA runs in fp16, a CPU with native bf16 in bf16, others in fp32; convolutions channels-last.
Weights load from local folders only (``sources``, AIGIC_MODEL_DIR, the Hugging Face cache;
fetched first when the hub answers), safetensors only, no remote code, pinned files verified
(models/repos.py); the fp16 variant is read where that is what a download kept.
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path

from ..errors import AigicError, BackendUnavailable
from ..weights import hub, repos
from ..weights.files import variant
from .dtypes import default_dtype
from .profiles import ADAPTERS, BASE, TAESD, Profile, get_profile

FALLBACK = "decode with --backend preview"
GET = "run `aigic models download`"


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def weights_status() -> tuple[bool, str]:
    """(available, reason) for the default profile. Looks for local copies only (the cache or
    AIGIC_MODEL_DIR), fetches nothing; on a Hugging Face Space a reachable hub is enough."""
    import os

    missing = [r for r in (BASE, *ADAPTERS.values()) if repos.folder(r) is None]
    if not missing:
        return True, "Stable Diffusion 1.5 and the T2I-Adapters are on this machine"
    if os.environ.get("SPACE_ID") and hub.reachable():
        return True, "on a Hugging Face Space: the weights come down from the hub on first use"
    return (
        False,
        f"Stable Diffusion's weights are not on this machine (missing: {', '.join(missing)})",
    )


def _missing(repo: str, why: str) -> BackendUnavailable:
    return BackendUnavailable(f"cannot load {repo}: {why}; {GET}, or {FALLBACK}")


class SD15Backend:
    name = "sd15"

    def __init__(
        self,
        *,
        device=None,
        dtype=None,
        offload=False,
        sources=None,
        steps=None,
        say=None,
        channels_last=True,
    ):
        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = dtype or default_dtype(self.device)
        self.offload = offload
        self.sources = {r: Path(p) for r, p in (sources or {}).items()}
        self.steps = steps  # None: the profile's; set only by tests and bench-decode
        self.channels_last = channels_last
        self.say = say or (lambda line: None)  # where first-use download lines go
        self.unet_evaluations = 0  # counted during the last decode
        self._folders: dict[str, Path] = {}
        self._parts: dict = {}
        self._unets: dict[str, object] = {}  # LoRA id -> the UNet with it fused
        self._adapters: dict[str, object] = {}
        self._vaes: dict[str, object] = {}
        self._pipes: dict[tuple, object] = {}
        self._lock = threading.Lock()

    # ---- loading (once) -----------------------------------------------------------------
    def folder(self, repo: str) -> Path:
        """The local copy of ``repo`` (a source given, AIGIC_MODEL_DIR, the cache, or fetched
        now when the hub answers), its pinned files verified."""
        if repo not in self._folders:
            where = self.sources.get(repo) or repos.folder(repo) or self._fetch(repo)
            repos.check(repo, where)
            self._folders[repo] = where
        return self._folders[repo]

    def _fetch(self, repo: str) -> Path:
        from ..weights import download

        source = download.HubSource()
        if not source.reachable():
            raise _missing(repo, "not on this machine and the hub is unreachable")
        try:
            plan = download.make_plan({repo: repos.REPOS[repo]}, source)
            download.run(plan, source, None, say=self.say)
        except AigicError as exc:
            raise _missing(repo, str(exc)) from None
        found = repos.folder(repo)
        if found is None:
            raise _missing(repo, f"the download left no {repos.REPOS[repo].key}")
        return found

    def _load(self, cls, repo: str, subfolder: str | None = None, **kw):
        where = self.folder(repo)
        part = where / subfolder if subfolder else where
        if kw.get("torch_dtype") is not None:
            kw["variant"] = variant(part)
        try:
            return cls.from_pretrained(str(part), use_safetensors=True, **kw)
        except Exception as exc:  # a missing or broken file: one clear message
            raise _missing(repo, f"{subfolder or 'files'}: {_first_line(exc)}") from exc

    def _model(self, cls, repo: str, subfolder: str | None = None):
        import torch

        module = self._load(cls, repo, subfolder, torch_dtype=self.dtype).eval()
        if self.channels_last and any(isinstance(m, torch.nn.Conv2d) for m in module.modules()):
            module = module.to(memory_format=torch.channels_last)
        return module if self.offload else module.to(self.device)

    def _base(self) -> dict:
        if not self._parts:
            from diffusers import AutoencoderKL, PNDMScheduler, UNet2DConditionModel
            from transformers import CLIPTextModel, CLIPTokenizer

            self._parts = {
                "tokenizer": self._load(CLIPTokenizer, BASE, "tokenizer"),
                "text_encoder": self._model(CLIPTextModel, BASE, "text_encoder"),
                "vae": self._model(AutoencoderKL, BASE, "vae"),
                "unet": self._model(UNet2DConditionModel, BASE, "unet"),
                "scheduler_config": self._load(PNDMScheduler, BASE, "scheduler").config,
            }
        return self._parts

    def _vae(self, profile: Profile):
        if profile.vae == "sd15":
            return self._base()["vae"]
        if profile.vae not in self._vaes:
            from diffusers import AutoencoderTiny

            self._vaes[profile.vae] = self._model(AutoencoderTiny, TAESD)
        return self._vaes[profile.vae]

    def _unet(self, profile: Profile):
        base = self._base()
        if profile.lora is None:
            return base["unet"]
        if profile.lora not in self._unets:
            from diffusers import StableDiffusionPipeline

            unet = copy.deepcopy(base["unet"])
            pipe = StableDiffusionPipeline(**self._components(profile, unet))
            where = self.folder(profile.lora)
            try:
                pipe.load_lora_weights(str(where), use_safetensors=True, adapter_name="lcm")
            except Exception as exc:
                raise _missing(profile.lora, _first_line(exc)) from exc
            pipe.fuse_lora(adapter_names=["lcm"])
            pipe.unload_lora_weights()  # keeps the fused weights, drops the LoRA layers
            self._unets[profile.lora] = unet
        return self._unets[profile.lora]

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
            "vae": self._vae(profile),
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
        # the image's own negative prompt where the stream carries one, else the profile's
        own = layers.negative
        negative = (own or profile.negative_prompt) if profile.cfg_batch == 2 else None
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
            "num_inference_steps": self.steps or profile.steps,
            "guidance_scale": profile.guidance,
            "generator": torch.Generator("cpu").manual_seed(layers.seed),
        }
        if images:
            kw["image"] = images[0] if len(images) == 1 else images
            kw["adapter_conditioning_scale"] = scales[0] if len(scales) == 1 else scales
        steps = self.steps or profile.steps

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
