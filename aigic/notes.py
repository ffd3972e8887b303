"""Sentences the command line and the app show people about an encode (UI prose lives here,
not in the encoder).

    EncodeResult + StreamInfo --encode_notes()--> [Note(level, text, cli, app)]
        the CLI prints "warning: text cli" / "note: text cli"; the app shows "⚠ text app" /
        "ℹ text app" (each front end's own way to act on it)
"""

from __future__ import annotations

from dataclasses import dataclass

from .backends.profiles import PROFILES
from .encoder.settings import EncodeResult
from .info import StreamInfo

NO_PROMPT = (
    "no prompt given, none in the image's metadata and no captioner (BLIP weights not "
    "cached); the semantic layer is empty"
)
NO_PROMPT_IN_IMAGE = (
    "this image carries no prompt in its metadata: type one, or the semantic layer will be "
    "empty unless a captioner (BLIP) is available"
)


def left_out_text(result: EncodeResult) -> str | None:
    """ "structure did not fit the preset's rate and was left out", or None when nothing was."""
    if not result.left_out:
        return None
    budget = result.settings.budget
    limit = f"the budget of {budget} bytes" if budget is not None else "the preset's rate"
    missing = [x.layer for x in result.left_out]
    verb = "was" if len(missing) == 1 else "were"
    return f"{' and '.join(missing)} did not fit {limit} and {verb} left out"


def prompt_cut_text(result: EncodeResult) -> str | None:
    """What was cut off the prompt (the decoder would not read it), or None."""
    if not result.prompt_cut:
        return None
    from .format.codes import PROFILE_PROMPT_TOKENS, profile_names

    code = result.settings.profile
    rest = result.prompt_cut if len(result.prompt_cut) <= 80 else result.prompt_cut[:77] + "..."
    return (
        f"the prompt was cut to the {PROFILE_PROMPT_TOKENS[code]} tokens the "
        f"{profile_names()[code]} decoder reads; not sent: {rest!r}"
    )


def negative_text(result: EncodeResult) -> str | None:
    """Whether the image's negative prompt travels, when it has one."""
    if result.negative:
        return f"carries the image's negative prompt ({len(result.negative)} characters)"
    if result.negative_left_out:
        return (
            f"the image's negative prompt ({len(result.negative_left_out)} characters) did not "
            "fit the rate, so the decoder will use its profile's fixed negative prompt"
        )
    return None


def skipped_text(result: EncodeResult) -> list[str]:
    """One sentence per image-metadata source that was there but not used."""
    return [f"image metadata {s}: not used" for s in result.metadata_skipped]


def no_prompt(result: EncodeResult, info: StreamInfo) -> bool:
    """Whether the stream's semantic layer is empty though nobody asked for that."""
    return info.layers.prompt == "" and result.settings.prompt is None


def layer_summary(info: StreamInfo, style: str | None = None) -> str:
    """Bytes per layer with its grid (and the edge map's ``style``), for one line of output."""
    parts = []
    lay = info.layers
    for r in info.chunks:
        what = r.chunk
        if what == "structure" and lay.structure_summary:
            what += f" {lay.structure_summary}" + (f" {style}" if style else "")
        elif what == "texture" and lay.texture_grid:
            what += f" {'x'.join(map(str, lay.texture_grid))}"
        parts.append(f"{what}: {r.bytes} B")
    return ", ".join(parts + [f"overhead: {info.overhead} B"])


@dataclass(frozen=True)
class Note:
    """One thing to tell about an encode: ``level`` 'warning' or 'note', the sentence, and how
    to act on it from the command line (``cli``) and from the app (``app``)."""

    level: str
    text: str
    cli: str = ""
    app: str = ""


def encode_notes(result: EncodeResult, info: StreamInfo) -> list[Note]:
    """Everything both front ends say about an encode beyond its sizes, in the order shown."""
    notes = []
    if no_prompt(result, info):
        notes.append(
            Note("warning", NO_PROMPT, " (pass --prompt)", ": type a prompt and encode again")
        )
    if result.structure_why and result.structure == "canny":
        notes.append(Note("note", f"structure canny, not a sketch: {result.structure_why}"))
    left_out = left_out_text(result)
    if left_out:
        notes.append(Note("note", left_out))
    cut = prompt_cut_text(result)
    if cut:
        notes.append(Note("note", cut, " (keep it: --full-prompt)"))
    notes += [Note("note", line) for line in skipped_text(result)]
    negative = negative_text(result)
    if negative:
        notes.append(Note("note", negative))
    if result.profile_why and PROFILES[result.settings.profile].family == "sdxl":
        from .format.codes import profile_names

        name = profile_names()[result.settings.profile]
        notes.append(
            Note("note", f"decoder profile {name}: {result.profile_why}", " (choose: --profile)")
        )
    return notes
