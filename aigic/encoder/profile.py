"""Which decoder profile an encode writes when none is asked for (``--profile auto``).

    original size + the image's metadata --choose_profile--> (profile code, why)
        an image of 0.75 MP or more, or one whose metadata names an SDXL-class generator
        (SDXL and its fine-tunes, SD 3, FLUX, HiDream, Pony, Illustrious, ...) --> sdxl-dpm25-a1111
        anything else (SD 1.x-era sizes and models) --> sd15-dpm25-a1111

The stream then says what it was made for; the decoder's ``auto`` backend falls back to the SD
1.5 twin of an SDXL profile where SDXL's weights are missing (aigic.backends.choose).
"""

from __future__ import annotations

import re

from ..format.codes import PROFILE_SD15_DPM25_A1111, PROFILE_SDXL_DPM25_A1111

LARGE_PIXELS = 3 * 1024 * 1024 // 4  # 0.75 MP: above SD 1.5's sizes (768 x 768 is 0.56 MP)
SDXL_CLASS = re.compile(
    r"xl|flux|sd3|sd_3|sd-3|stable[-_ ]?diffusion[-_ ]?3|hidream|pony|illustrious|noob|kolors"
    r"|playground|aura[-_ ]?flow|lumina|qwen[-_ ]?image|cascade|pixart|hunyuan|chroma"
    r"|z[-_ ]?image",
    re.IGNORECASE,
)


def choose_profile(size: tuple[int, int], model: str | None) -> tuple[int, str]:
    """(profile code, why) for an image of ``size`` (W, H) made by ``model`` (a checkpoint
    name from its metadata, or None)."""
    w, h = size
    if model and SDXL_CLASS.search(model):
        return PROFILE_SDXL_DPM25_A1111, f"its metadata names an SDXL-class model ({model})"
    if w * h >= LARGE_PIXELS:
        return PROFILE_SDXL_DPM25_A1111, f"{w}x{h} is an SDXL-class size (0.75 MP or more)"
    what = f"its model ({model})" if model else "no SDXL-class model in its metadata"
    return PROFILE_SD15_DPM25_A1111, f"{w}x{h} is an SD 1.5-class size and {what}"
