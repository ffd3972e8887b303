"""Decoder profiles: everything a Stable Diffusion decode depends on, pinned by the header code.

    header.profile (1 byte) --PROFILES[code]--> Profile(models + revisions, scheduler, steps,
                                                guidance, negative prompt, adapter scales)

A released profile never changes: a new model revision, step count or scale is a new code
(append-only, like ``registry``). Imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..format.codes import (
    PROFILE_PROMPT_TOKENS,
    PROFILE_SD15_DPM25,
    PROFILE_SD15_DPM25_A1111,
    PROFILE_SD15_LCM4,
    PROFILE_SD15_LCM4_A1111,
    PROFILE_SD15_LCM4_TAESD_A1111,
    profile_names,
)
from ..weights.repos import ADAPTERS, BASE, LCM_LORA, REVISIONS, TAESD
from ..weights.tokens import PER_CHUNK

NAMES = profile_names()  # the names live beside the codes, in format/codes.py
__all__ = ["ADAPTERS", "BASE", "LCM_LORA", "PROFILES", "REVISIONS", "TAESD", "get_profile"]

# The T2I-Adapter paper's negative prompt. It is not the one Chen et al.'s
# released code decodes with (its own fixed list, starting "extra digit, fewer digits,
# cropped, worst quality, low quality, blurry, pixelated"); a profile of that setting is
# still to come.
NEGATIVE = (
    "ugly, tiling, poorly drawn hands, poorly drawn feet, poorly drawn face, out of frame, "
    "extra limbs, disfigured, deformed, body out of frame, bad anatomy, watermark, signature, "
    "cut off, low contrast, underexposed, overexposed, bad art, beginner, amateur, distorted face"
)


@dataclass(frozen=True)
class Profile:
    code: int
    name: str
    scheduler: str  # a diffusers scheduler class, built from the base model's scheduler config
    scheduler_options: dict = field(default_factory=dict)
    steps: int = 25
    guidance: float = 7.5
    negative_prompt: str = NEGATIVE
    structure_scale: float = 1.0
    color_scale: float = 1.0
    lora: str | None = None
    prompt_reader: str = "plain"  # "a1111": emphasis, BREAK and long prompts (prompts.py)
    vae: str = "sd15"  # "taesd": the tiny VAE decodes the latents (madebyollin/taesd)

    @property
    def prompt_chunks(self) -> int:
        """77-token windows of the prompt the text encoder reads (format.codes says how many
        tokens each profile reads; the encoder cuts prompts to that)."""
        return PROFILE_PROMPT_TOKENS[self.code] // PER_CHUNK

    @property
    def cfg_batch(self) -> int:
        """Classifier-free guidance runs the UNet twice per step when guidance > 1."""
        return 2 if self.guidance > 1 else 1

    @property
    def unet_evaluations(self) -> int:
        """The cost of one decode: steps x CFG batch (the paper's 50 PNDM steps x 2 = 100)."""
        return self.steps * self.cfg_batch

    def models(self, kinds=()) -> list[str]:
        """The hub ids a decode with these adapter kinds (e.g. 'canny', 'color') needs."""
        extra = ([self.lora] if self.lora else []) + ([TAESD] if self.vae == "taesd" else [])
        return [BASE] + [ADAPTERS[k] for k in kinds] + extra


_DPM25 = Profile(
    PROFILE_SD15_DPM25,
    NAMES[PROFILE_SD15_DPM25],
    "DPMSolverMultistepScheduler",
    {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": False},
    steps=25,
    guidance=7.5,
)
# LCM-LoRA: 4 steps without classifier-free guidance (guidance 1.0), so 4 UNet evaluations.
# LCM-LoRA's suggested guidance of 1.5 would double that to 8.
_LCM4 = Profile(
    PROFILE_SD15_LCM4,
    NAMES[PROFILE_SD15_LCM4],
    "LCMScheduler",
    {},
    steps=4,
    guidance=1.0,
    negative_prompt="",
    lora=LCM_LORA,
)
_A1111 = {"prompt_reader": "a1111"}
_LCM4_A1111 = replace(
    _LCM4, code=PROFILE_SD15_LCM4_A1111, name=NAMES[PROFILE_SD15_LCM4_A1111], **_A1111
)
PROFILES = MappingProxyType(
    {
        PROFILE_SD15_DPM25: _DPM25,
        PROFILE_SD15_LCM4: _LCM4,
        PROFILE_SD15_DPM25_A1111: replace(
            _DPM25, code=PROFILE_SD15_DPM25_A1111, name=NAMES[PROFILE_SD15_DPM25_A1111], **_A1111
        ),
        PROFILE_SD15_LCM4_A1111: _LCM4_A1111,
        PROFILE_SD15_LCM4_TAESD_A1111: replace(
            _LCM4_A1111,
            code=PROFILE_SD15_LCM4_TAESD_A1111,
            name=NAMES[PROFILE_SD15_LCM4_TAESD_A1111],
            vae="taesd",
        ),
    }
)


def get_profile(code: int) -> Profile:
    from ..errors import FormatError

    if code not in PROFILES:
        known = ", ".join(f"{c} ({p.name})" for c, p in PROFILES.items())
        raise FormatError(f"unknown decoder profile {code}: this aigic knows {known}")
    return PROFILES[code]
