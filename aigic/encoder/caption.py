"""The captioner: a short prompt for images whose metadata has none (encoder side).

    RGB --BLIP (Salesforce/blip-image-captioning-base), greedy, <= MAX_TOKENS--> text
        --drop BLIP's filler words ("arafed", "there is")--> prompt

BLIP-2 (``blip2``) is the paper's captioner: larger and slower, same interface. Prompts stay
short by default because every word costs bits. Weights: safetensors only, pinned revision.
"""

from __future__ import annotations

import re

from ..weights import hub

MODELS = {
    "blip": ("Salesforce/blip-image-captioning-base", "main"),
    "blip2": ("Salesforce/blip2-opt-2.7b", "main"),
}
MAX_TOKENS = 20
_FILLER = re.compile(r"^(?:(?:arafed|araffe|arafe|there is|there are)\s+)+", re.IGNORECASE)
_LOADED: dict[str, tuple] = {}


def load(name: str = "blip", source: str | None = None):
    """(processor, model) for ``name``, loaded once. ``source``: a local folder instead."""
    if name not in MODELS:
        raise ValueError(f"unknown captioner {name!r}: choose from {', '.join(MODELS)}")
    repo, revision = MODELS[name]
    source = source or hub.local_dir(repo)
    key = f"{name}:{source}"
    if key not in _LOADED:
        import transformers

        fallback = "pass --prompt"
        where = (
            {"pretrained_model_name_or_path": source}
            if source
            else hub.locate(repo, revision, "config.json", fallback)
        )
        stem = "Blip" if name == "blip" else "Blip2"
        try:
            processor = getattr(transformers, f"{stem}Processor").from_pretrained(**where)
            model = getattr(transformers, f"{stem}ForConditionalGeneration").from_pretrained(
                **where, use_safetensors=True
            )
        except Exception as exc:
            raise hub.missing(repo, revision, type(exc).__name__, fallback) from exc
        _LOADED[key] = (processor, model.eval())
    return _LOADED[key]


def clean(text: str) -> str:
    return _FILLER.sub("", " ".join(text.split())).strip()


def caption(
    image, name: str = "blip", source: str | None = None, max_tokens: int = MAX_TOKENS
) -> str:
    """A short caption of a PIL image."""
    import torch

    processor, model = load(name, source)
    inputs = processor(images=image.convert("RGB"), return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=max_tokens, do_sample=False)
    return clean(processor.decode(out[0], skip_special_tokens=True))
