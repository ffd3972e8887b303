"""The app's stream views and input guards: no layout, no events.

Everything shown in the app is derived from the stream bytes held in one ``gr.State``:
the chunk table, the summary line, the layer previews. Untrusted input is guarded here:
``user_errors`` turns any refusal into one plain ``gr.Error`` line, ``safe_name`` keeps upload
names out of the file system, ``save_stream`` writes downloads into a bounded temporary folder.
"""

from __future__ import annotations

import functools
import io
import re
import shutil
import tempfile
import threading
import traceback
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from aigic import api
from aigic.encoder.settings import DEFAULTS, OPTIONS
from aigic.errors import AigicError
from aigic.info import StreamInfo

MAX_STREAM = 1 << 20  # an .aigic file is a few hundred bytes; refuse anything over 1 MiB
# Events that only keep the page in step (pictures, pickers, history rows): callable by the page,
# left out of the HTTP API's documentation, which lists the named user actions only.
PAGE = "undocumented"
QUIET = {"api_visibility": PAGE, "show_progress": "hidden"}


def setting_control(component, name: str, label: str):
    """A control for the encode setting ``name``, its choices, default and help as
    EncodeSettings declares them (the command line's flags come from the same place)."""
    opt = OPTIONS[name]
    value = opt.written(DEFAULTS[name])
    return component(list(opt.choices), value=value, label=label, info=opt.help)


LAYERS = list(api.LAYERS)
OUT = Path(tempfile.mkdtemp(prefix="aigic-app-"))
_SAVE_LOCK = threading.Lock()


class UserError(gr.Error):
    """A user's mistake: one plain line in the page, and no traceback in the server log."""

    def __init__(self, message: str):
        super().__init__(message, print_exception=False)


def user_errors(fn):
    """Bad input -> one plain line in the page (gr.Error); the app keeps working."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError:
            raise
        except gr.Error as exc:  # raised by gradio itself: the same, without the traceback
            raise UserError(str(exc.message)) from None
        except (AigicError, ValueError, OSError) as exc:
            raise UserError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
        except MemoryError:
            raise UserError("out of memory: the input is too large") from None
        except Exception as exc:  # noqa: BLE001 (a bug: log it, tell the user in one line)
            traceback.print_exc()
            raise UserError(f"internal error ({type(exc).__name__}); please report it") from None

    return wrapper


def need_stream(data) -> bytes:
    if not data:
        raise UserError("no stream yet: encode an image or upload an .aigic file first")
    return data


def safe_name(name: str | None, suffix: str) -> str:
    """A file name made of [A-Za-z0-9._-] only, from an untrusted upload name."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name or "image").stem).strip("_")[:48]
    return (stem or "image") + suffix


def save_stream(data: bytes, name: str) -> str:
    """Write ``data`` as ``name`` in a fresh folder under OUT, keeping the newest 64 folders.
    One lock: concurrent requests never trim a folder another is listing or writing."""
    with _SAVE_LOCK:
        folders = sorted(OUT.iterdir(), key=lambda p: p.stat().st_mtime)
        for old in folders[:-64]:  # keep the temporary folder small (one folder per stream)
            shutil.rmtree(old, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=OUT))
        path = folder / name
        path.write_bytes(data)
    return str(path)


# ---- views derived from the stream ------------------------------------------------------------
def _blank(value) -> object:
    return "" if value is None else value


def inspect_legend() -> str:
    """What the chunk table's columns mean, with the names of the codes in them (from the
    format's own tables)."""
    from aigic.format.codes import CHUNK_NAMES, STRUCTURE_CODECS

    types = ", ".join(f"{code} {name}" for code, name in sorted(CHUNK_NAMES.items()))
    structure = "; ".join(
        f"{code} {codec.redraw}"
        + (f" + edge model v{codec.predictor}" if codec.predictor else "")
        + ("" if codec.written else " (read only)")
        for code, codec in sorted(STRUCTURE_CODECS.items())
    )
    return (
        f"**type**: the chunk type ({types}). **codec**: the first payload byte, how the layer "
        "is coded: semantic 0 UTF-8, 1 prompt model v1, 2 brotli, 3 deflate, 4 prompt model v2; "
        f"structure {structure}; texture 1 CIELAB grid. **offset**: where the chunk starts in "
        "the stream (bytes from its first byte). **bytes**: the payload's length; overhead is "
        "the header, the chunks' framing and the CRCs. The format: docs/FORMAT.md."
    )


def chunk_rows(info: StreamInfo) -> list[list]:
    rows = [
        [r.chunk, r.type, _blank(r.codec), r.offset, r.bytes, f"{r.share:.1%}", f"{r.bpp:.5f}"]
        for r in info.chunks
    ]
    pixels = info.header.width * info.header.height
    n = info.overhead
    rows.append(["overhead", "", "", "", n, f"{n / info.total_bytes:.1%}", f"{n * 8 / pixels:.5f}"])
    rows.append(["total", "", "", "", info.total_bytes, "100.0%", f"{info.bpp:.5f}"])
    return rows


@functools.lru_cache(maxsize=16)
def stream_layers(data: bytes) -> api.Layers:
    """The decoded layers of a stream (``read_layers(strict=False)``), decoded once however
    many views show them: a new stream updates the Inspect, Decode and Edit tabs at once."""
    return api.read_layers(bytes(data), strict=False)


def layer_views(lay: api.Layers):
    """(prompt, structure map, colour grid) images of decoded layers, at the coding size."""
    structure = lay.structure.condition(lay.size) if lay.structure is not None else None
    grid = None
    if lay.texture is not None:
        grid = np.asarray(Image.fromarray(lay.texture.grid()).resize(lay.size, Image.NEAREST))
    prompt = lay.semantic.text if lay.semantic is not None else "(no semantic layer)"
    return prompt, structure, grid


def decoder_text(lay: api.Layers) -> str:
    """What Stable Diffusion is given for these layers, in words (the pictures are beside)."""
    from aigic.backends import choose
    from aigic.backends.profiles import get_profile

    try:
        profile = get_profile(lay.profile)
    except AigicError:
        return f"⚠ unknown decoder profile {lay.profile}: Stable Diffusion cannot decode this"
    prompt = lay.semantic.text if lay.semantic is not None else ""
    negative = lay.negative or profile.negative_prompt
    lines = [
        f"**Prompt** (CLIP text encoder{'s' if profile.family == 'sdxl' else ''}): `{prompt}`"
        if prompt
        else "**Prompt**: none",
        f"**Negative prompt**: `{negative}`"
        if profile.guidance > 1
        else "**Negative prompt**: none (no guidance in this profile)",
    ]
    if lay.structure is not None:
        lines.append(f"**Structure** → `{profile.adapters[lay.structure.kind]}` (left)")
    if lay.texture is not None and "color" in profile.adapters:
        lines.append(f"**Colour grid**, upsampled → `{profile.adapters['color']}` (right)")
    elif lay.texture is not None:
        lines.append(
            "**Colour grid**, upsampled (right) → VAE latents the denoising starts from "
            f"(img2img: the last {profile.strength:.0%} of the schedule)"
        )
    w, h = profile.decode_size(lay.original, lay.size)
    lines.append(
        f"Profile **{profile.name}** ({profile.base}): {profile.steps} steps, guidance "
        f"{profile.guidance:g}, seed {lay.seed if profile.seed is None else profile.seed}, "
        f"generated at {w}×{h}"
    )
    choice = choose(lay.profile)
    lines.append(f"Here **auto** decodes it with **{choice.backend}**: {choice.why}.")
    return "\n\n".join(lines)


def edit_views(before: bytes, after: bytes) -> tuple[bytes, list[list], str]:
    """What the Edit tab shows for a step from ``before`` to ``after`` (an edit or its undo):
    the new stream, each layer's status, the new stream's summary."""
    from aigic.info import inspect

    rows = [[k, v] for k, v in api.changed_layers(before, after).items()]
    return after, rows, summary(inspect(after, stream_layers(after)))


def summary(info: StreamInfo) -> str:
    h = info.header
    cw, ch = h.coding_size
    coded = info.total_bytes * 8 / (cw * ch)
    first = (
        f"**{info.total_bytes} bytes** = **{coded:.4f} bpp** at the coding size {cw}×{ch} "
        f"(what the presets count) = {info.bpp:.4f} bpp of the original {h.width}×{h.height}; "
        f"seed {h.seed}, profile {h.profile}"
    )
    lines = [first]
    if info.dropped:
        lines.append(f"⚠ damaged layers dropped: {', '.join(info.dropped)}")
    return "\n\n".join(lines)


def stream_seed(value) -> int | None:
    """The seed field: empty or negative means the stream's own seed (None)."""
    return None if value in (None, "") or int(value) < 0 else int(value)


def progressive_steps(chosen) -> list[list[str] | None]:
    """Text only, + structure, + texture: each step only when its layer is chosen."""
    chosen = set(chosen or [])
    plan, have = [], []
    for layer in LAYERS:
        if layer in chosen:
            have = have + [layer]
            plan.append(list(have))
        else:
            plan.append(None)
    return plan


def parse_colour(value: str) -> tuple[int, int, int]:
    value = (value or "").strip()
    m = re.fullmatch(r"#?([0-9a-fA-F]{6})", value)
    if m:
        return tuple(int(m.group(1)[i : i + 2], 16) for i in (0, 2, 4))
    m = re.fullmatch(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*[\d.]+)?\)", value)
    if m:
        return tuple(min(255, round(float(v))) for v in m.groups())
    raise UserError(f"colour {value!r}: expected #RRGGBB")


def smallest(img: Image.Image, fmt: str, quality: int) -> tuple[Image.Image, int]:
    buf = io.BytesIO()
    img.save(buf, fmt, quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), buf.tell()
