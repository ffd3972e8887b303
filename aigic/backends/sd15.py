"""Stable Diffusion 1.5 + T2I-Adapters: model ids and the availability check.

The diffusers decoder itself (issue 4) is not implemented yet; this module already pins the
models a profile uses and tells a user exactly what is missing. It imports no torch.
"""

from __future__ import annotations

BASE = "stable-diffusion-v1-5/stable-diffusion-v1-5"
ADAPTERS = {
    "sketch": "TencentARC/t2iadapter_sketch_sd15v2",
    "canny": "TencentARC/t2iadapter_canny_sd15v2",
    "pose": "TencentARC/t2iadapter_openpose_sd14v1",
    "color": "TencentARC/t2iadapter_color_sd14v1",
}


def _cached(repo: str, filename: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    path = try_to_load_from_cache(repo, filename)
    return isinstance(path, str)


def weights_status() -> tuple[bool, str]:
    """(available, reason). Checks the local Hugging Face cache only; fetches nothing."""
    missing = [
        r
        for r, f in [(BASE, "model_index.json")] + [(a, "config.json") for a in ADAPTERS.values()]
        if not _cached(r, f)
    ]
    if missing:
        return False, (
            f"Stable Diffusion weights are not in the local Hugging Face cache (missing: "
            f"{', '.join(missing)}); get them with `huggingface-cli download {missing[0]}` "
            "on a machine with internet, or decode with --backend preview"
        )
    return False, (
        "the sd15 diffusers decoder is not implemented in this version of aigic yet; "
        "decode with --backend preview"
    )
