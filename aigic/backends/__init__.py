"""Decoder backends: turn decoded layers into an image at the coding size.

    Layers --backend.decode(layers, progress)--> PIL.Image (coding size)

``preview`` needs no weights and is always available. ``sd15`` is Stable Diffusion 1.5 with
T2I-Adapters (diffusers, imported only when used). ``auto`` picks ``sd15`` when its weights
are in the local Hugging Face cache (or in ``AIGIC_MODEL_DIR``; ``aigic models download`` puts
them there), or on a Hugging Face Space whose hub answers; else ``preview``.

``AIGIC_MODEL_DIR``: a folder holding local copies laid out as ``<dir>/<hub id>/`` (e.g.
``<dir>/stable-diffusion-v1-5/stable-diffusion-v1-5/model_index.json``), used instead of the hub.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import BackendUnavailable

NAMES = ("auto", "preview", "sd15")


class Backend(Protocol):
    name: str
    unet_evaluations: int

    def decode(self, layers, progress=None):  # -> PIL.Image at layers.size
        ...


_CACHE: dict[tuple, Backend] = {}


def local_sources() -> dict[str, str]:
    """{hub id: folder} for the models found under ``AIGIC_MODEL_DIR``."""
    from ..weights.hub import local_dir
    from .profiles import ADAPTERS, BASE, LCM_LORA, TAESD

    found = {r: local_dir(r) for r in (BASE, LCM_LORA, TAESD, *ADAPTERS.values())}
    return {r: p for r, p in found.items() if p}


def sd15_available() -> tuple[bool, str]:
    """Whether the SD 1.5 decoder can run here without downloading, and why (not)."""
    from importlib.util import find_spec

    from .profiles import ADAPTERS, BASE

    missing = [m for m in ("torch", "diffusers", "transformers") if find_spec(m) is None]
    if missing:
        return False, (
            f"the Stable Diffusion backend needs {', '.join(missing)}, not installed here "
            "(pip install 'aigic[sd]')"
        )
    if {BASE, *ADAPTERS.values()} <= set(local_sources()):  # without importing torch (slow)
        return True, "Stable Diffusion 1.5 and the T2I-Adapters found in AIGIC_MODEL_DIR"
    try:
        import diffusers  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        return False, f"the Stable Diffusion backend cannot be imported ({exc})"
    from .sd15 import weights_status

    return weights_status()


def get_backend(name: str = "auto", **options) -> Backend:
    """A backend by name, built once per option set. ``sd15`` options: device, dtype, offload,
    sources (hub id -> local folder; default from AIGIC_MODEL_DIR), steps (tests and timing
    only), say (a callable for first-use download lines)."""
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}: choose from {', '.join(NAMES)}")
    if name == "auto":
        name = "sd15" if sd15_available()[0] else "preview"
    key = (name, tuple(sorted((k, str(v)) for k, v in options.items())))
    if key not in _CACHE:
        if name == "preview":
            from .preview import PreviewBackend

            _CACHE[key] = PreviewBackend()
        else:
            try:
                from .sd15 import SD15Backend
            except ImportError as exc:
                raise BackendUnavailable(
                    f"the Stable Diffusion backend needs torch and diffusers ({exc}); "
                    "install requirements.txt or decode with --backend preview"
                ) from exc
            options.setdefault("sources", local_sources())
            _CACHE[key] = SD15Backend(**options)
    return _CACHE[key]
