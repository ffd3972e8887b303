"""What an encode is asked to do, and what it did: typed, checked once.

EncodeSettings (checked on construction) --api.encode_result--> EncodeResult
    (the stream, the edge style rate control kept, the layers left out and why)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..format.codes import STRUCTURE_KINDS
from ..layers import LAYERS, check_layers
from .presets import MAX_FACTOR, PRESETS, candidates

CAPTIONERS = ("auto", "blip", "blip2")


@dataclass(frozen=True)
class EncodeSettings:
    """Every option of an encode. The prompt is ``prompt``, else the image's metadata, else
    (``caption`` 'blip', 'blip2' or 'auto' = BLIP when its weights are cached) a caption.
    Rate: an explicit ``budget`` (bytes, the whole stream) wins over ``factor`` (the edge grid,
    1 = lossless), which wins over ``preset`` (default: 'default'). ``style``: how a lossy edge
    map is reduced ('auto': strokes for a sketch, else the better of plain and repaired lines
    by matched edge F1; 'lines', 'strokes', or 'cells', a filled lattice, only when asked)."""

    prompt: str | None = None
    layers: tuple[str, ...] = LAYERS
    structure: str = "auto"  # auto: a PiDiNet sketch when its weights are available, else canny
    seed: int = 0
    profile: int = 2  # sd15-dpm25-a1111: the prompt read as the generating UIs read it
    preset: str | None = None
    budget: int | None = None
    factor: float | None = None
    max_de: float | None = None
    caption: str | None = None
    style: str = "auto"
    full_prompt: bool = False  # False: text past the tokens the profile's decoder reads is cut
    negative: str | None = None  # None: the image's own negative prompt, if any; "": none

    def __post_init__(self):
        object.__setattr__(self, "layers", check_layers(self.layers))
        if self.structure != "auto" and self.structure not in STRUCTURE_KINDS:
            kinds = ", ".join(("auto", *STRUCTURE_KINDS))
            raise ValueError(f"unknown structure kind {self.structure!r}: choose from {kinds}")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}: choose from {', '.join(PRESETS)}")
        candidates(self.style)  # raises on an unknown style
        if self.factor is not None and not 1 <= self.factor <= MAX_FACTOR:
            raise ValueError(
                f"structure grid factor {self.factor:g} is out of range: use 1 to {MAX_FACTOR}"
            )
        if self.caption is not None and self.caption not in CAPTIONERS:
            raise ValueError(f"unknown captioner {self.caption!r}: choose from {CAPTIONERS}")


@dataclass(frozen=True)
class LeftOut:
    """An asked-for layer the preset keeps but the stream lacks: it did not fit ``limit``
    ('budget': the explicit byte budget; 'rate': the preset's rate)."""

    layer: str
    limit: str


@dataclass(frozen=True)
class EncodeResult:
    """A stream and the choices made to write it."""

    data: bytes
    settings: EncodeSettings
    style: str | None = None  # the edge map's style: lines, cells or lossless (None: no map)
    left_out: tuple[LeftOut, ...] = field(default_factory=tuple)
    prompt_source: str | None = None  # user, a metadata reader's name, a captioner, or None
    structure: str | None = None  # the structure kind extracted (None: no structure asked for)
    structure_why: str | None = None  # why "auto" chose that kind
    metadata_skipped: tuple[str, ...] = ()  # metadata sources skipped, each "source: why"
    prompt_cut: str = ""  # the prompt's text past the decoder's token window, not sent
    negative: str = ""  # the negative prompt sent (chunk 128); '' when none was or it did not fit
    negative_left_out: str = ""  # the image's negative prompt, when it did not fit the rate
