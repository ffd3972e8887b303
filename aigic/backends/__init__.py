"""Decoder backends: turn decoded layers into an image at the profile's decode size.

    Layers --backend.decode(layers, progress)--> PIL.Image (the caller resizes to the original)

``preview`` needs no weights and is always available. ``sd15`` runs the SD 1.x profiles
(SD 1.5 with T2I-Adapters; SD 1.4 for ``paper``), ``sdxl`` the SDXL ones (diffusers, imported
only when used). ``auto`` chooses per stream, by the profile in its header (``choose``): that
profile's backend when its weights are in the local Hugging Face cache or ``AIGIC_MODEL_DIR``
(``aigic models download`` puts them there), or on a Hugging Face Space whose hub answers;
an SDXL profile without SDXL's weights decodes with its SD 1.5 twin; else ``preview``.

``AIGIC_MODEL_DIR``: a folder holding local copies laid out as ``<dir>/<hub id>/`` (e.g.
``<dir>/stable-diffusion-v1-5/stable-diffusion-v1-5/model_index.json``), used instead of the hub.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from ..errors import BackendUnavailable

NAMES = ("auto", "preview", "sd15", "sdxl")
FAMILY_WORDS = {"sd15": "Stable Diffusion 1.x", "sdxl": "SDXL"}


class Backend(Protocol):
    name: str
    unet_evaluations: int

    def decode(self, layers, progress=None):  # -> PIL.Image
        ...


_CACHE: dict[tuple, Backend] = {}


def local_sources() -> dict[str, str]:
    """{hub id: folder} for the models found under ``AIGIC_MODEL_DIR``."""
    from ..weights.hub import local_dir
    from ..weights.repos import DECODER_REPOS

    found = {r: local_dir(r) for r in DECODER_REPOS}
    return {r: p for r, p in found.items() if p}


def _packages() -> str | None:
    """Why the diffusers backends cannot run here (None: they can)."""
    from importlib.util import find_spec

    missing = [m for m in ("torch", "diffusers", "transformers") if find_spec(m) is None]
    if missing:
        return (
            f"Stable Diffusion decoding needs {', '.join(missing)}, not installed here "
            "(pip install 'aigic[sd]')"
        )
    return None


def profile_available(code: int) -> tuple[bool, str]:
    """Whether the profile ``code`` can decode here without downloading, and why (not): its
    base model and every adapter it has (the LoRA and TAESD too) on this machine."""
    import os

    from ..weights import hub, repos
    from .profiles import PROFILES

    profile = PROFILES[code]
    why = _packages()
    if why:
        return False, why
    words = FAMILY_WORDS[profile.family]
    local = set(local_sources())  # without importing torch (slow)
    need = profile.models(tuple(profile.adapters))
    lacking = [r for r in need if r not in local and repos.folder(r) is None]
    if not lacking:
        return True, f"{words} ({profile.base}) and its adapters are on this machine"
    if os.environ.get("SPACE_ID") and hub.reachable():
        return True, "on a Hugging Face Space: the weights come down from the hub on first use"
    return False, f"{words}'s weights are not on this machine (missing: {', '.join(lacking)})"


def sd15_available() -> tuple[bool, str]:
    """Whether the default SD 1.5 profile can decode here, and why (not)."""
    from ..format.codes import PROFILE_SD15_DPM25_A1111

    return profile_available(PROFILE_SD15_DPM25_A1111)


@dataclass(frozen=True)
class Choice:
    """What ``auto`` decodes a stream with: a backend, the profile it runs, and why."""

    backend: str
    profile: int
    why: str


def choose(code: int) -> Choice:
    """The backend and profile ``auto`` decodes a stream of profile ``code`` with."""
    from ..format.codes import profile_names
    from .profiles import PROFILES, SD15_TWIN

    names = profile_names()
    if code not in PROFILES:
        return Choice("preview", code, f"profile {code} is unknown to this aigic")
    ok, why = profile_available(code)
    if ok:
        return Choice(PROFILES[code].family, code, why)
    twin = SD15_TWIN.get(code)
    if twin is not None and profile_available(twin)[0]:
        return Choice("sd15", twin, f"{why}; decoding with its SD 1.5 twin {names[twin]}")
    return Choice("preview", code, why)


class AutoBackend:
    """``auto``: per stream, the backend ``choose`` names (built once per name)."""

    def __init__(self, **options):
        self.options = options
        self.last: Choice | None = None
        self._inner = None

    @property
    def name(self) -> str:
        """The backend of the last decode (before one: what the default profile would use)."""
        if self.last is None:
            from ..format.codes import PROFILE_SD15_DPM25_A1111

            return choose(PROFILE_SD15_DPM25_A1111).backend
        return self.last.backend

    @property
    def unet_evaluations(self) -> int:
        return getattr(self._inner, "unet_evaluations", 0)

    def decode(self, layers, progress=None):
        self.last = choose(layers.profile)
        options = self.options if self.last.backend != "preview" else {}
        self._inner = get_backend(self.last.backend, **options)
        return self._inner.decode(replace(layers, profile=self.last.profile), progress=progress)


def get_backend(name: str = "auto", **options) -> Backend:
    """A backend by name, built once per option set. ``sd15`` / ``sdxl`` options: device,
    dtype, offload, sources (hub id -> local folder; default from AIGIC_MODEL_DIR), steps and
    pixels (a step count and a decode area other than the profile's: tests and timing only),
    say (a callable for first-use download lines)."""
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}: choose from {', '.join(NAMES)}")
    key = (name, tuple(sorted((k, str(v)) for k, v in options.items())))
    if key not in _CACHE:
        if name == "preview":
            from .preview import PreviewBackend

            _CACHE[key] = PreviewBackend()
        elif name == "auto":
            _CACHE[key] = AutoBackend(**options)
        else:
            try:
                if name == "sd15":
                    from .sd15 import SD15Backend as cls
                else:
                    from .sdxl import SDXLBackend as cls
            except ImportError as exc:
                raise BackendUnavailable(
                    f"the Stable Diffusion backends need torch and diffusers ({exc}); "
                    "install requirements.txt or decode with --backend preview"
                ) from exc
            options.setdefault("sources", local_sources())
            _CACHE[key] = cls(**options)
    return _CACHE[key]
