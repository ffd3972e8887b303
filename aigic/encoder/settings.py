"""What an encode is asked to do, and what it did: typed, checked once, declared once.

EncodeSettings (checked on construction) --api.encode_result--> EncodeResult
    (the stream, the edge style rate control kept, the layers left out and why)

Each setting people can choose carries an :class:`Option` (its help, its choices, how a value
is written as text): the command line's ``aigic encode`` flags and the app's controls are built
from these declarations, so a choice, a default or a help text lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from types import MappingProxyType

from ..format.codes import STRUCTURE_KINDS, profile_names
from ..layers import LAYERS, check_layers
from ..layers.texture import MAX_DE
from .presets import MAX_FACTOR, PRESETS, candidates
from .reduce import STYLES

CAPTIONERS = ("auto", "none", "blip", "blip2")
AUTO_PROFILE = -1  # never written: an encode turns it into a code (encoder/profile.py)


@dataclass(frozen=True)
class Option:
    """How one setting is offered: ``help``, the ``choices`` (as written), ``names`` (value ->
    how it is written, where the two differ: the profile codes), and ``off``: the flag that
    clears a text setting (``--no-negative``)."""

    help: str
    choices: tuple = ()
    names: MappingProxyType | None = None
    off: tuple[str, str] | None = None  # (flag, help)

    def written(self, value) -> str:
        """``value`` as people write it (a profile's name, not its code)."""
        return self.names.get(value, str(value)) if self.names else str(value)

    def read(self, text: str):
        """The value people wrote as ``text``, or ValueError naming the choices."""
        if self.names:
            back = {v: k for k, v in self.names.items()}
            if text not in back:
                raise ValueError(f"unknown {text!r}: choose from {', '.join(back)}")
            return back[text]
        if self.choices and text not in self.choices:
            raise ValueError(f"unknown {text!r}: choose from {', '.join(self.choices)}")
        return text


def option(default, help: str, **declared):
    """A settings field with its :class:`Option`."""
    return field(default=default, metadata={"option": Option(help, **declared)})


@dataclass(frozen=True)
class EncodeSettings:
    """Every option of an encode. The prompt is ``prompt``, else the image's metadata, else a
    caption (``caption``). Rate: an explicit ``budget`` (bytes, the whole stream) wins over
    ``bpp`` (bits per pixel of the original size), which wins over ``factor`` (the edge grid,
    1 = lossless), which wins over ``preset`` (None: the same as 'default')."""

    prompt: str | None = option(None, "the semantic layer (default: from the image's metadata)")
    layers: tuple[str, ...] = option(LAYERS, "comma-separated subset of " + ",".join(LAYERS))
    structure: str = option(
        "auto",
        "auto (default): a PiDiNet sketch when its weights are available, else canny",
        choices=("auto", *STRUCTURE_KINDS),
    )
    seed: int = option(0, "the seed the decoder starts from")
    profile: int = option(
        AUTO_PROFILE,
        "decoder profile stored in the stream (auto, the default: sdxl-dpm25-a1111 for images "
        "of 0.75 MP or more or made by an SDXL-class model, else sd15-dpm25-a1111; the lcm4 "
        "profiles: fast 4-step decodes; paper: Chen et al.'s decoder)",
        names=MappingProxyType({AUTO_PROFILE: "auto", **profile_names()}),
    )
    preset: str | None = option(
        "default",
        "rate at the coding size: tiny <= 0.003 bpp (prompt + colours), default <= 0.010, "
        "fine <= 0.020; lossless keeps the whole edge map (default: default)",
        choices=tuple(PRESETS),
    )
    budget: int | None = option(None, "maximum stream size in bytes")
    bpp: float | None = option(None, "maximum bits per pixel (of the original size)")
    factor: float | None = option(
        None, "structure grid factor (1 = lossless); overrides the preset"
    )
    max_de: float | None = option(
        None, f"largest mean colour error (CIEDE2000) the colour grid may make (default {MAX_DE:g})"
    )
    caption: str = option(
        "auto",
        "caption images without a prompt (auto: BLIP when its weights are cached; none: never)",
        choices=CAPTIONERS,
    )
    style: str = option(
        "auto",
        "lossy edge map: auto (default: lines for Canny, strokes for a sketch), lines (thinned, "
        "a line drawing), strokes (smooth strokes, PiDiNet-like) or cells (textured regions "
        "kept filled as a lattice; unverified with Stable Diffusion)",
        choices=("auto", *STYLES),
    )
    full_prompt: bool = option(
        False, "send the whole prompt (default: cut at the tokens the decoder profile reads)"
    )
    negative: str | None = option(
        None,
        "the negative prompt to carry (default: the image's own, from its metadata, when it "
        "fits the rate; the decoder's fixed one otherwise)",
        off=("no-negative", "carry no negative prompt, even the image's"),
    )

    def __post_init__(self):
        object.__setattr__(self, "layers", check_layers(self.layers))
        if self.caption is None:  # the API's spelling of "none"
            object.__setattr__(self, "caption", "none")
        for name in ("structure", "preset", "caption"):
            value, declared = getattr(self, name), OPTIONS[name]
            if value is not None and value not in declared.choices:
                choices = ", ".join(declared.choices)
                raise ValueError(f"unknown {name} {value!r}: choose from {choices}")
        if self.profile not in OPTIONS["profile"].names:
            raise ValueError(f"unknown decoder profile code {self.profile}")
        candidates(self.style)  # raises on an unknown style
        if self.factor is not None and not 1 <= self.factor <= MAX_FACTOR:
            raise ValueError(
                f"structure grid factor {self.factor:g} is out of range: use 1 to {MAX_FACTOR}"
            )
        if self.bpp is not None and not self.bpp > 0:
            raise ValueError(f"bits per pixel {self.bpp:g} must be more than 0")
        if self.budget is not None and self.budget < 1:
            raise ValueError(f"byte budget {self.budget} must be at least 1")

    def for_size(self, width: int, height: int) -> EncodeSettings:
        """These settings for an image of ``width`` x ``height``: ``bpp`` (bits per pixel of
        the original) turned into the byte budget it means there, unless a budget is given."""
        from dataclasses import replace

        if self.bpp is None or self.budget is not None:
            return self
        return replace(self, budget=max(1, int(self.bpp * width * height / 8)))


OPTIONS = MappingProxyType(
    {f.name: f.metadata["option"] for f in fields(EncodeSettings) if "option" in f.metadata}
)
DEFAULTS = MappingProxyType({f.name: f.default for f in fields(EncodeSettings)})


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
    profile_why: str | None = None  # why "auto" chose the decoder profile


STAGES = (  # the steps of an encode, in order, as encode_result's ``stage`` hears them
    "reading the image and its metadata",
    "captioning the image",
    "extracting the structure",
    "fitting the rate",
    "writing the stream",
)
