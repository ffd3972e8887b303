"""encode / decode: the public API, looping over the layer registry.

    image --load_image--> RGB + metadata --coding size (format.limits)--> rgb
        --the prompt (user | metadata | captioner)--> SemanticLayer
        --encoder.ratecontrol.choose (structure, texture to fit the rate)--> Bitstream
        --format.write--> .aigic bytes
    bytes --format.parse--> chunks --layers.REGISTRY--> Layers --backend.decode--> image

Editing (aigic.edit) is parse -> change one layer -> write: the other payloads stay
byte-identical. ``inspect`` is in info.py.
"""

from __future__ import annotations

from dataclasses import replace

from .encoder.presets import preset_layers
from .encoder.profile import choose_profile
from .encoder.settings import AUTO_PROFILE, STAGES, EncodeResult, EncodeSettings, LeftOut
from .errors import FormatError
from .format.container import Bitstream, parse, write
from .format.limits import coding_size
from .imaging.images import load_image, to_array
from .imaging.metadata import model_name, read_prompt
from .layers import LAYERS, REGISTRY, Layers, NegativePrompt, SemanticLayer, check_layers

__all__ = [
    "LAYERS",
    "EncodeResult",
    "EncodeSettings",
    "changed_layers",
    "decode",
    "encode",
    "encode_result",
    "read_layers",
]


def encode(image, **options) -> bytes:
    """Compress an image (path, bytes or PIL image) into an aigic stream; ``options`` are the
    fields of :class:`EncodeSettings` (prompt, layers, structure, seed, profile, preset,
    budget, bpp, factor, max_de, caption, style, full_prompt, negative)."""
    return encode_result(image, EncodeSettings(**options)).data


def encode_result(
    image, settings: EncodeSettings | None = None, *, stage=None, **options
) -> EncodeResult:
    """As :func:`encode`, returning the stream with the choices rate control made and the
    layers it left out. Give ``settings`` or the options, not both. ``stage(text)``, when
    given, is told each step as it starts (for a progress line): STAGES, in order."""
    from .encoder.ratecontrol import choose

    say = stage or (lambda _text: None)
    say(STAGES[0])
    if settings is None:
        settings = EncodeSettings(**options)
    elif options:
        raise TypeError("give EncodeSettings or keyword options, not both")
    rgb_image, meta = load_image(image)
    w, h = rgb_image.size
    settings = settings.for_size(w, h)  # bpp -> the byte budget it means for this image
    profile_why = None
    if settings.profile == AUTO_PROFILE:
        code, profile_why = choose_profile((w, h), model_name(meta))
        settings = replace(settings, profile=code)
    rgb = to_array(rgb_image, coding_size(w, h))
    skipped: tuple[str, ...] = ()
    reading = None
    if settings.prompt is None:
        reading = read_prompt(meta)
        sem, skipped = SemanticLayer(reading.text, reading.source), reading.skipped
    else:
        sem = SemanticLayer(settings.prompt, "user")
    wanted = "semantic" in settings.layers
    if not sem.text and settings.prompt is None and settings.caption != "none" and wanted:
        say(STAGES[1])
        sem = _captioned(rgb_image, settings.caption) or sem
    sem, rest = _cut_prompt(sem, settings) if wanted else (sem, "")
    base = Bitstream(w, h, settings.seed, settings.profile)
    if wanted:
        base = base.with_layer(sem)
    kind, why = _structure_kind(settings)
    choice = choose(base, rgb, replace(settings, structure=kind), say)
    say(STAGES[4])
    negative = _negative_text(settings, reading if settings.prompt is None else None)
    stream, sent = (
        _with_negative(choice.stream, negative, settings, rgb.shape)
        if wanted
        else (choice.stream, "")
    )
    data = write(stream)
    kept = {c.name for c in stream.chunks}
    limit = "budget" if settings.budget is not None else "rate"
    missing = [x for x in preset_layers(settings.preset, settings.layers) if x not in kept]
    return EncodeResult(
        data,
        settings,
        choice.style,
        tuple(LeftOut(x, limit) for x in missing),
        sem.source if wanted else None,
        kind if "structure" in settings.layers else None,
        why,
        skipped,
        rest,
        sent,
        negative if negative and not sent else "",
        profile_why,
    )


def _negative_text(settings: EncodeSettings, reading) -> str:
    """The negative prompt to offer: the user's (``''``: none), else the image's own."""
    if settings.negative is not None:
        return settings.negative.strip()
    return reading.negative if reading is not None else ""


def _with_negative(bs, negative: str, settings: EncodeSettings, shape) -> tuple:
    """``bs`` with the negative prompt (cut to the profile's tokens) when it fits the budget
    or the preset's rate (the last thing rate control adds), and the text sent ('' if not)."""
    from .encoder.ratecontrol import byte_limit

    if not negative:
        return bs, ""
    negative = _cut_prompt(SemanticLayer(negative), settings)[0].text
    limit = byte_limit(settings, shape)
    out = bs.with_layer(NegativePrompt(negative))
    return (out, negative) if limit is None or len(write(out)) <= limit else (bs, "")


def _cut_prompt(sem: SemanticLayer, settings: EncodeSettings) -> tuple[SemanticLayer, str]:
    """The prompt cut to the tokens the profile's decoder reads (unless ``full_prompt``):
    (the layer to send, the text cut off). Uncut where tokens cannot be counted here."""
    from .format.codes import PROFILE_PROMPT_TOKENS
    from .weights import tokens

    limit = PROFILE_PROMPT_TOKENS.get(settings.profile)
    if settings.full_prompt or not sem.text or limit is None or not tokens.available():
        return sem, ""
    kept, rest = tokens.cut(sem.text, limit)
    return (SemanticLayer(kept, sem.source), rest) if rest else (sem, "")


def _structure_kind(settings: EncodeSettings) -> tuple[str, str | None]:
    """The structure kind to extract, and for "auto" why: a PiDiNet sketch (what the paper
    sends and the sketch adapter was trained on) when PiDiNet can run, else Canny."""
    if settings.structure != "auto":
        return settings.structure, None
    from .encoder.extractors import available

    ok, why = available("sketch")
    return ("sketch" if ok else "canny"), why


def _captioned(image, name: str) -> SemanticLayer | None:
    from .encoder import caption as captioner

    if name == "auto":
        repo, revision = captioner.MODELS["blip"]
        try:
            from .weights.hub import cached

            if cached(repo, "config.json", revision) is None:
                return None
        except ImportError:
            return None
        name = "blip"
    return SemanticLayer(captioner.caption(image, name), name)


def read_layers(data: bytes | Bitstream, layers=None, *, strict: bool = True) -> Layers:
    """Parse a stream and decode its layers (``layers`` selects a subset). ``strict=False``
    skips a damaged layer and names it in ``dropped`` instead of raising FormatError."""
    bs = data if isinstance(data, Bitstream) else parse(data)
    wanted = LAYERS if layers is None else check_layers(layers)
    found = {r.field: None for r in REGISTRY.values()}
    dropped = []
    for chunk in bs.chunks:
        known = REGISTRY.get(chunk.type)
        if known is None or known.part_of not in wanted:
            continue
        try:
            found[known.field] = known.value(chunk.payload)
        except FormatError:
            if strict:
                raise
            dropped.append(known.field)
    return Layers(
        **found,
        size=coding_size(bs.width, bs.height),
        original=(bs.width, bs.height),
        seed=bs.seed,
        profile=bs.profile,
        dropped=tuple(dropped),
    )


def decode(
    data: bytes,
    *,
    layers=None,
    backend="auto",
    seed: int | None = None,
    profile: int | None = None,
    strict: bool = True,
    progress=None,
):
    """Reconstruct an image (PIL, at the original size) from a stream's selected layers.
    ``backend`` is a name ('auto', 'preview', 'sd15', 'sdxl') or a backend object; ``seed``
    and ``profile`` override the stream's (a profile with a seed of its own, ``paper``, uses
    that one unless ``seed`` is given)."""
    from PIL import Image

    from .backends import get_backend
    from .backends.profiles import PROFILES

    lay = read_layers(data, layers, strict=strict)
    if profile is not None:
        lay = replace(lay, profile=profile)
    fixed = PROFILES[lay.profile].seed if lay.profile in PROFILES else None
    if seed is not None or fixed is not None:  # a profile's own seed (paper: 9999) unless told
        lay = replace(lay, seed=seed if seed is not None else fixed)
    be = get_backend(backend) if isinstance(backend, str) else backend
    out = be.decode(lay, progress=progress)
    return out.resize(lay.original, Image.LANCZOS) if out.size != lay.original else out


def changed_layers(before: bytes, after: bytes) -> dict[str, str]:
    """For each chunk type in either stream: 'identical', 'changed', 'added' or 'removed'."""
    a, b = parse(before), parse(after)
    out = {}
    for t in sorted({c.type for c in a.chunks} | {c.type for c in b.chunks}):
        ca, cb = a.chunk(t), b.chunk(t)
        name = (ca or cb).name
        if ca is None or cb is None:
            out[name] = "added" if ca is None else "removed"
        else:
            out[name] = "identical" if ca.payload == cb.payload else "changed"
    return out
