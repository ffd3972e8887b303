"""Decoder backends: turn decoded layers into an image at the coding size.

    Layers --backend.decode(layers, progress)--> PIL.Image (coding size)

``preview`` needs no weights and is always available. ``sd15`` is Stable Diffusion 1.5 with
T2I-Adapters (diffusers, imported only when used). ``auto`` picks ``sd15`` when its weights
are in the local Hugging Face cache, else ``preview``.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import BackendUnavailable

NAMES = ("auto", "preview", "sd15")


class Backend(Protocol):
    name: str

    def decode(self, layers, progress=None):  # -> PIL.Image at layers.size
        ...


_CACHE: dict[str, Backend] = {}


def sd15_available() -> tuple[bool, str]:
    """Whether the SD 1.5 decoder can run here, and why (not)."""
    try:
        from .sd15 import weights_status
    except ImportError as exc:
        return False, f"the Stable Diffusion backend cannot be imported ({exc})"
    return weights_status()


def get_backend(name: str = "auto") -> Backend:
    if name not in NAMES:
        raise ValueError(f"unknown backend {name!r}: choose from {', '.join(NAMES)}")
    if name == "auto":
        name = "sd15" if sd15_available()[0] else "preview"
    if name not in _CACHE:
        if name == "preview":
            from .preview import PreviewBackend

            _CACHE[name] = PreviewBackend()
        else:
            ok, why = sd15_available()
            if not ok:
                raise BackendUnavailable(why)
            from .sd15 import SD15Backend

            _CACHE[name] = SD15Backend()
    return _CACHE[name]
