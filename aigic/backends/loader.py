"""Loading diffusers and transformers models for the Stable Diffusion backends, once each.

    hub id --folder()--> a local copy (a source given, AIGIC_MODEL_DIR, the Hugging Face
        cache, or fetched now when the hub answers), its pinned files verified
    (class, hub id, subfolder) --model()--> the module in the backend's number type,
        channels-last, on its device (left on the CPU under model offload); on a CPU mapped
        from its prepared copy where one is kept, else kept after this load (prepared.py)

Weights load from local folders only, safetensors only, no remote code; the fp16 variant is
read where that is what a download kept. A missing or broken file is one BackendUnavailable
line naming the model and what to do. Both backends (sd15.py, sdxl.py) load through this.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager
from pathlib import Path

from ..errors import AigicError, BackendUnavailable
from ..weights import repos
from ..weights.files import variant
from . import prepared

FALLBACK = "decode with --backend preview"
GET = "run `aigic models download`"


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def missing(repo: str, why: str, profile: str | None = None) -> BackendUnavailable:
    get = f"{GET} --profile {profile}" if profile else GET
    return BackendUnavailable(f"cannot load {repo}: {why}; {get}, or {FALLBACK}")


class Loader:
    """The models of one backend: where each is, and each loaded once."""

    def __init__(self, *, device, dtype, offload, sources, say, channels_last):
        self.device, self.dtype, self.offload = device, dtype, offload
        self.sources = {r: Path(p) for r, p in (sources or {}).items()}
        self.say = say or (lambda line: None)  # where first-use download lines go
        self.channels_last = channels_last
        self._folders: dict[str, Path] = {}
        self._modules: dict[tuple, object] = {}

    def folder(self, repo: str) -> Path:
        """The local copy of ``repo``, its pinned files verified."""
        if repo not in self._folders:
            where = self.sources.get(repo) or repos.folder(repo) or self._fetch(repo)
            repos.check(repo, where)
            self._folders[repo] = where
        return self._folders[repo]

    def _fetch(self, repo: str) -> Path:
        from ..weights import download

        source = download.HubSource()
        if not source.reachable():
            raise missing(repo, "not on this machine and the hub is unreachable")
        try:
            plan = download.make_plan({repo: repos.REPOS[repo]}, source)
            download.run(plan, source, None, say=self.say)
        except AigicError as exc:
            raise missing(repo, str(exc)) from None
        found = repos.folder(repo)
        if found is None:
            raise missing(repo, f"the download left no {repos.REPOS[repo].key}")
        return found

    def _part(self, repo: str, subfolder: str | None) -> Path:
        where = self.folder(repo)
        return where / subfolder if subfolder else where

    def load(self, cls, repo: str, subfolder: str | None = None, **kw):
        """``cls.from_pretrained`` of the local copy (a tokenizer, a config, a module)."""
        part = self._part(repo, subfolder)
        if kw.get("torch_dtype") is not None:
            kw["variant"] = variant(part)
        try:
            with quiet():
                return cls.from_pretrained(str(part), use_safetensors=True, **kw)
        except Exception as exc:  # a missing or broken file: one clear message
            raise missing(repo, f"{subfolder or 'files'}: {first_line(exc)}") from exc

    def model(self, cls, repo: str, subfolder: str | None = None, dtype=None):
        """The module, loaded once per (class, repo, subfolder, number type)."""
        import torch

        dtype = dtype or self.dtype
        key = (cls.__name__, repo, subfolder, dtype)
        if key not in self._modules:
            path = self._prepared_path(repo, subfolder, dtype)
            module = self._prepared(cls, repo, subfolder, path) if path else None
            if module is None:
                module = self.load(cls, repo, subfolder, torch_dtype=dtype).eval()
                convs = any(isinstance(m, torch.nn.Conv2d) for m in module.modules())
                if self.channels_last and convs:
                    module = module.to(memory_format=torch.channels_last)
                if path:
                    prepared.save(module, path)
            self._modules[key] = module if self.offload else module.to(self.device)
        return self._modules[key]

    def _prepared_path(self, repo: str, subfolder: str | None, dtype) -> Path | None:
        """Where the module's prepared copy is kept (prepared.py): on a CPU without
        offload, unless AIGIC_PREPARED_WEIGHTS=0; else None."""
        if str(self.device) != "cpu" or self.offload or not prepared.enabled():
            return None
        return prepared.path_for(self._part(repo, subfolder), dtype, self.channels_last)

    def _prepared(self, cls, repo: str, subfolder: str | None, path: Path):
        """The module from its prepared file at ``path``, or None (none kept, or unusable)."""
        tensors = prepared.read(path)
        if tensors is None:
            return None
        try:
            with quiet():
                return prepared.build(cls, self._part(repo, subfolder), tensors)
        except Exception:  # noqa: BLE001 (whatever is wrong, from_pretrained says it clearly)
            return None

    def adapter(self, repo: str):
        from diffusers import T2IAdapter

        return self.model(T2IAdapter, repo)


class DiffusersBackend:
    """What both Stable Diffusion backends hold: the device, the number type, the models'
    loader, the pipelines built so far, and the last decode's UNet evaluations and size. A
    backend gives ``_base(base)`` (its components, "unet" among them) and
    ``pipeline(profile, kinds)``; the LoRA switch here works through both."""

    def __init__(
        self,
        *,
        device=None,
        dtype=None,
        offload=False,
        sources=None,
        steps=None,
        pixels=None,
        say=None,
        channels_last=True,
    ):
        import torch

        from .dtypes import default_dtype

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.dtype = dtype or default_dtype(self.device)
        self.offload = offload
        self.steps = steps  # None: the profile's; set only by tests and bench-decode
        self.pixels = pixels  # None: the profile's decode area; tests and timing set one
        self.models = Loader(
            device=self.device,
            dtype=self.dtype,
            offload=offload,
            sources=sources,
            say=say,
            channels_last=channels_last,
        )
        self.unet_evaluations = 0  # counted during the last decode
        self.last_size = None  # (W, H) the last decode generated at
        self._pipes: dict[tuple, object] = {}
        self._lock = threading.Lock()  # pipelines hold scheduler state: one decode at a time

    def folder(self, repo: str):
        return self.models.folder(repo)

    def decode_size(self, layers, profile) -> tuple[int, int]:
        """(W, H) to generate at: the profile's size rule, or that size scaled to an area of
        ``pixels`` (multiples of 64, the aspect kept)."""
        w, h = profile.decode_size(layers.original, layers.size)
        if self.pixels is None:
            return w, h
        s = math.sqrt(self.pixels / (w * h))
        return max(64, round(w * s / 64) * 64), max(64, round(h * s / 64) * 64)

    def _use_lora(self, profile) -> None:
        """The profile's LoRA on, or every LoRA off, in its base's one UNet. A LoRA loads once
        (through the base's text-only pipeline: the adapter pipelines cannot load one) and
        stays unfused: switching it is exact and instant, and one UNet serves the profiles
        with and without it, where fusing would need a copy of the UNet."""
        unet = self._base(profile.base)["unet"]
        loaded = getattr(unet, "peft_config", None) or {}  # PEFT's own record of what is in
        if profile.lora is None:
            if loaded:
                unet.disable_lora()
            return
        name = adapter_name(profile.lora)
        if name not in loaded:
            where = str(self.folder(profile.lora))
            pipe = self.pipeline(profile, ())
            try:
                with quiet():
                    pipe.load_lora_weights(where, use_safetensors=True, adapter_name=name)
            except Exception as exc:
                raise missing(profile.lora, first_line(exc), profile.name) from exc
        unet.enable_lora()
        unet.set_adapters([name])


def make_scheduler(profile, config):
    """The profile's scheduler from the base model's scheduler config (the keys that only
    another scheduler reads are ignored, quietly)."""
    import diffusers

    with quiet():
        return getattr(diffusers, profile.scheduler).from_config(
            config, **profile.scheduler_options
        )


def adapter_name(lora: str) -> str:
    """The PEFT adapter name of a LoRA hub id (letters, digits and underscores)."""
    return "".join(c if c.isalnum() else "_" for c in lora)


@contextmanager
def quiet():
    """What diffusers and transformers print that is expected here (no LoRA keys for the text
    encoders; an img2img schedule that starts below the top; a scheduler config's keys that
    another scheduler ignores; a progress bar per weight file): errors only while inside."""
    from diffusers.utils import logging
    from transformers.utils import logging as tlogging

    before = logging.get_verbosity()
    bars = not tlogging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    tlogging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(before)
        if not bars:
            tlogging.enable_progress_bar()


def progress_arguments(progress, steps: int, adapter: bool) -> dict:
    """The pipeline arguments that tell ``progress(done, total)`` each step: the adapter
    pipelines have the older per-step callback, the others ``callback_on_step_end``."""
    if progress is None:
        return {}
    if adapter:
        return {"callback": lambda i, _t, _latents: progress(i + 1, steps), "callback_steps": 1}
    return {"callback_on_step_end": lambda _p, i, _t, cb: progress(i + 1, steps) or cb}


@contextmanager
def counting(unet):
    """Count the UNet evaluations (batch rows) made inside the block: ``with counting(u) as n``
    then ``n[0]``."""
    counted = [0]

    def count(_module, args, kwargs):
        sample = args[0] if args else kwargs["sample"]
        counted[0] += sample.shape[0]

    hook = unet.register_forward_pre_hook(count, with_kwargs=True)
    try:
        yield counted
    finally:
        hook.remove()
