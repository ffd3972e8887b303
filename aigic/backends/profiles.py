"""Decoder profiles: everything a Stable Diffusion decode depends on, pinned by the header code.

    header.profile (1 byte) --PROFILES[code]--> Profile(family, models, scheduler, steps,
        guidance, negative prompt, adapter scales, prompt reader, decode size, colour strength)

Three families: SD 1.5 (codes 0-4, decoded at the coding size), SDXL base 1.0 with
T2I-Adapter-SDXL (5, 6: at about one megapixel, the colour grid steering by img2img), and
``paper`` (7), the decode of Chen et al.'s released code setting for setting. A released
profile never changes: a new model revision, step count or scale is a new code (append-only,
like ``registry``). Imports no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType

from ..format.codes import (
    PROFILE_PAPER,
    PROFILE_PROMPT_TOKENS,
    PROFILE_SD15_DPM25,
    PROFILE_SD15_DPM25_A1111,
    PROFILE_SD15_LCM4,
    PROFILE_SD15_LCM4_A1111,
    PROFILE_SD15_LCM4_TAESD_A1111,
    PROFILE_SDXL_DPM25_A1111,
    PROFILE_SDXL_LCM4_A1111,
    profile_names,
)
from ..format.limits import CODING_STEP
from ..weights.repos import (
    ADAPTERS,
    BASE,
    LCM_LORA,
    LCM_LORA_SDXL,
    REVISIONS,
    SD14_ADAPTERS,
    SD14_BASE,
    SDXL_ADAPTERS,
    SDXL_BASE,
    TAESD,
)
from ..weights.tokens import PER_CHUNK

NAMES = profile_names()  # the names live beside the codes, in format/codes.py
__all__ = [
    "ADAPTERS",
    "BASE",
    "LCM_LORA",
    "PROFILES",
    "REVISIONS",
    "SD15_TWIN",
    "SDXL_TWIN",
    "TAESD",
    "get_profile",
]

# The T2I-Adapter paper's negative prompt. It is not the one Chen et al.'s released code
# decodes with: that one is PAPER_NEGATIVE, used by the ``paper`` profile.
NEGATIVE = (
    "ugly, tiling, poorly drawn hands, poorly drawn feet, poorly drawn face, out of frame, "
    "extra limbs, disfigured, deformed, body out of frame, bad anatomy, watermark, signature, "
    "cut off, low contrast, underexposed, overexposed, bad art, beginner, amateur, distorted face"
)
# The fixed negative prompt of Chen et al.'s released code (CUC-MIPG/DiffusionCMC_for_AGIs)
PAPER_NEGATIVE = (
    "extra digit, fewer digits, cropped, worst quality, low quality, blurry, pixelated, low "
    "resolution, overexposed, underexposed, too dark, too bright, too blurry, too pixelated, "
    "too low resolution, too low quality, too high quality, too high resolution, too sharp, "
    "too clear, too focused, too contrasty, too saturated"
)
MEGAPIXEL = 1024 * 1024  # SDXL's training area: its sizes are about this many pixels


def _multiple(side: float) -> int:
    """``side`` rounded to a multiple of 64 (at least 64)."""
    return max(CODING_STEP, round(side / CODING_STEP) * CODING_STEP)


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
    prompt_reader: str = "plain"  # "a1111": emphasis, BREAK, long prompts; "lpw": lpw's weighting
    vae: str = "base"  # "taesd": the tiny VAE decodes the latents (madebyollin/taesd)
    family: str = "sd15"  # the backend that runs it: "sd15" or "sdxl"
    base: str = BASE  # the base model's hub id
    # structure kind (and "color") -> adapter hub id
    adapters: MappingProxyType = field(default_factory=lambda: ADAPTERS)
    size: str = "coding"  # "coding": the coding size; "megapixel": ~1 MP; "512": 512 x 512
    strength: float = 1.0  # with a texture layer: the share of the noise schedule run (img2img)
    seed: int | None = None  # a decode seed of the profile's own, used instead of the stream's

    def decode_size(self, original: tuple[int, int], coding: tuple[int, int]) -> tuple[int, int]:
        """(W, H) the model generates at: the coding size (SD 1.5 profiles); about one
        megapixel at the original's aspect ratio, both sides multiples of 64 (SDXL, the sizes
        it was trained on); or 512 x 512 (``paper``, as its code resizes every image)."""
        if self.size == "coding":
            return coding
        if self.size == "512":
            return (512, 512)
        w, h = original
        aspect = min(max(w / h, 1 / 4), 4)
        return _multiple((MEGAPIXEL * aspect) ** 0.5), _multiple((MEGAPIXEL / aspect) ** 0.5)

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
        """The cost of one decode: UNet calls x CFG batch. PNDM (the paper's scheduler) calls
        the UNet once more than its steps: 50 steps are 51 x 2 = 102 evaluations."""
        return (self.steps + (self.scheduler == "PNDMScheduler")) * self.cfg_batch

    def models(self, kinds=()) -> list[str]:
        """The hub ids a decode with these adapter kinds (e.g. 'canny', 'color') needs."""
        extra = ([self.lora] if self.lora else []) + ([TAESD] if self.vae == "taesd" else [])
        return [self.base] + [self.adapters[k] for k in kinds if k in self.adapters] + extra


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
# SDXL: DPM-Solver++ 2M over 25 steps with CFG 7.5 (50 UNet evaluations) from SDXL's own
# scheduler config. The colour grid has no SDXL adapter: with a texture layer the denoising
# starts from the upsampled grid's latents, noised to the schedule's point ``strength`` from
# its end (docs/DECODERS.md says why). Structure scale 0.9: the adapters' model cards' value.
_SDXL = {
    "family": "sdxl",
    "base": SDXL_BASE,
    "adapters": SDXL_ADAPTERS,
    "size": "megapixel",
    "strength": 0.8,
    "structure_scale": 0.9,
    "prompt_reader": "a1111",
}
_SDXL_DPM25 = replace(
    _DPM25, code=PROFILE_SDXL_DPM25_A1111, name=NAMES[PROFILE_SDXL_DPM25_A1111], **_SDXL
)
_SDXL_LCM4 = replace(
    _LCM4,
    code=PROFILE_SDXL_LCM4_A1111,
    name=NAMES[PROFILE_SDXL_LCM4_A1111],
    lora=LCM_LORA_SDXL,
    **_SDXL,
)
# Chen et al.'s released code: SD 1.4, the sd14v1 sketch and colour adapters in a
# MultiAdapter at scales [1, 1], 50 PNDM steps (SD 1.4's scheduler config), CFG 7.5, seed
# 9999, the lpw pipeline's prompt weighting (3 windows), its own negative prompt, 512 x 512.
_PAPER = Profile(
    PROFILE_PAPER,
    NAMES[PROFILE_PAPER],
    "PNDMScheduler",
    {},
    steps=50,
    guidance=7.5,
    negative_prompt=PAPER_NEGATIVE,
    base=SD14_BASE,
    adapters=SD14_ADAPTERS,
    prompt_reader="lpw",
    size="512",
    seed=9999,
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
        PROFILE_SDXL_DPM25_A1111: _SDXL_DPM25,
        PROFILE_SDXL_LCM4_A1111: _SDXL_LCM4,
        PROFILE_PAPER: _PAPER,
    }
)
# the SD 1.5 profile an SDXL stream falls back to where SDXL cannot run, and back
SD15_TWIN = MappingProxyType(
    {
        PROFILE_SDXL_DPM25_A1111: PROFILE_SD15_DPM25_A1111,
        PROFILE_SDXL_LCM4_A1111: PROFILE_SD15_LCM4_A1111,
    }
)
SDXL_TWIN = MappingProxyType({v: k for k, v in SD15_TWIN.items()})


def get_profile(code: int) -> Profile:
    from ..errors import FormatError

    if code not in PROFILES:
        known = ", ".join(f"{c} ({p.name})" for c, p in PROFILES.items())
        raise FormatError(f"unknown decoder profile {code}: this aigic knows {known}")
    return PROFILES[code]


def for_family(code: int, family: str) -> int:
    """``code``, or its twin in ``family`` when a backend of that family is asked to decode a
    profile of the other (an SDXL stream on ``--backend sd15``); AigicError if it has none."""
    from ..errors import AigicError

    profile = get_profile(code)
    if profile.family == family:
        return code
    twin = (SD15_TWIN if family == "sd15" else SDXL_TWIN).get(code)
    if twin is None:
        raise AigicError(
            f"profile {profile.name} runs on the {profile.family} backend, not {family}: "
            f"decode with --backend auto or {profile.family}"
        )
    return twin
