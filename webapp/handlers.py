"""The app's event handlers: each one takes widget values, calls the aigic package, returns
widget values. Handlers are named after their events (and their ``api_name``).

GPU work sits in ``decode_images`` (wrapped in ``spaces.GPU`` on a ZeroGPU Space).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import gradio as gr

from aigic import api, edit
from aigic import notes as messages
from aigic.backends import get_backend
from aigic.errors import AigicError, ModelUnavailable
from aigic.format.codes import profile_names
from aigic.imaging.images import load_image, read_metadata
from aigic.info import inspect as inspect_stream

from .views import (
    LAYERS,
    MAX_STREAM,
    UserError,
    chunk_rows,
    decoder_text,
    edit_views,
    layer_views,
    need_stream,
    parse_colour,
    progressive_steps,
    safe_name,
    save_stream,
    smallest,
    stream_layers,
    stream_seed,
    summary,
    user_errors,
)


def gpu_seconds(data: bytes, steps: list[list[str]], *args, **kwargs) -> int:
    """The GPU time a ZeroGPU Space asks for ``decode_images``: per decode, the stream's
    profile's UNet evaluations at about 0.1 s each (SD 1.5; 0.3 s for SDXL at ~1 MP) on a
    shared A100-class GPU, plus a few
    seconds for the VAE and moving the models; with a margin, within 20 .. 120 s (asking for
    less gets a visitor a sooner place in the queue)."""
    from aigic.backends.profiles import PROFILES
    from aigic.format.container import parse

    try:
        profile = PROFILES.get(parse(data).profile)
    except Exception:  # noqa: BLE001 (the decode itself reports a bad stream)
        profile = None
    evaluations = profile.unet_evaluations if profile is not None else 50
    # an SDXL evaluation at ~1 MP is about 3x the parameters on 4x the latent of SD 1.5's
    each = 0.3 if profile is not None and profile.family == "sdxl" else 0.1
    need = 10 + len(steps) * (each * evaluations + 3)
    return int(min(120, max(20, 1.5 * need)))


try:  # ZeroGPU Spaces: the decode function gets a GPU while it runs, as long as it asks for
    import spaces

    gpu = spaces.GPU(duration=gpu_seconds)
except ImportError:

    def gpu(fn):
        return fn


def make_read_prompt(known: dict[str, str] | None = None):
    """The handler of an upload; ``known`` maps the SHA-256 of an image whose metadata has no
    prompt (the examples) to the prompt it was made with."""
    known = known or {}

    @user_errors
    def read_prompt(image_path):
        """An image was uploaded: (the prompt of its generation metadata, else the one known
        for it, '' when none; the image to show; a warning when it has no prompt). A file that
        is not a readable image is one line in the page: the upload box takes any file, so
        Gradio never rejects it unexplained."""
        if not image_path:
            return "", None, ""
        from aigic.imaging.metadata import prompt_from_metadata

        rgb, meta = load_image(image_path)
        prompt = prompt_from_metadata(meta)[0] or known.get(image_digest(image_path), "")
        note = "" if prompt else f"⚠ {messages.NO_PROMPT_IN_IMAGE}"
        return prompt, rgb, note

    return read_prompt


read_prompt = make_read_prompt()


def _edited(image_path, prompt) -> str | None:
    """The prompt box as the encoder's prompt: None when it is empty or still the image's own
    prompt, so the encoder reads the metadata itself, negative prompt included, as the CLI
    does; the text when the user typed or changed it."""
    from aigic.imaging.metadata import prompt_from_metadata

    if not prompt or not prompt.strip():
        return None
    return None if prompt == prompt_from_metadata(read_metadata(image_path))[0] else prompt


def missing_extractor(kind: str) -> str:
    """A missing extractor's weights, in the page's words."""
    from aigic.encoder.extractors import NAMES

    net = NAMES.get(kind, "the extractor")
    return (
        f"{net}'s weights are not on this server, so it cannot extract the {kind} structure "
        "here: choose Structure: canny (it needs no weights)."
    )


def no_structure_text(result) -> str:
    """Why an encoded stream has no structure layer, in one sentence."""
    if "structure" not in result.settings.layers:
        return "No structure layer: it was not asked for."
    if any(x.layer == "structure" for x in result.left_out):
        return "No structure layer: it did not fit (see below)."
    preset = result.settings.preset or "default"
    return f"No structure layer: the {preset} preset keeps the prompt and the colour grid only."


@user_errors
def encode(image_path, prompt, kind, preset, budget, style="auto", progress=gr.Progress()):  # noqa: B008
    """The Encode button; ``progress`` (the page's gr.Progress) hears each stage by name."""
    from aigic.encoder.settings import STAGES

    if not image_path:
        raise UserError("upload an image first")

    def stage(text: str) -> None:
        if progress is not None:
            progress(STAGES.index(text) / len(STAGES), desc=text)

    budget = int(budget) if budget else None  # 0 or empty: none, the preset rules
    preset = None if budget else preset
    try:
        result = api.encode_result(
            image_path,
            prompt=_edited(image_path, prompt),
            structure=kind or "auto",
            preset=preset,
            budget=budget,
            style=style or "auto",
            stage=stage,
        )
    except ModelUnavailable:  # its text speaks CLI (--structure canny): say it here
        raise UserError(missing_extractor(kind)) from None
    data = result.data
    lay = stream_layers(data)
    info = inspect_stream(data, lay)
    _, structure, grid = layer_views(lay)
    path = save_stream(data, safe_name(os.path.basename(image_path), ".aigic"))
    text = summary(info)
    if lay.structure is not None:
        text += f"\n\nStructure: **{result.structure}**"
        text += f", drawn as **{result.style}**" if result.style else ""
    else:
        text += f"\n\n{no_structure_text(result)}"
    for note in messages.encode_notes(result, info):
        mark = "⚠" if note.level == "warning" else "ℹ"
        text += f"\n\n{mark} {note.text}{note.app}"
    return data, chunk_rows(info), text, structure, grid, path, image_digest(image_path)


def load_stream(file_path, current=None):
    """(the uploaded stream, None: no image it was encoded from). A refused file says that the
    stream loaded before, if any, is still the current one."""
    try:
        return _load_stream(file_path)
    except UserError as exc:
        kept = f" The stream before ({len(current)} bytes) is still loaded." if current else ""
        message = str(exc.message)
        raise UserError(f"{message.rstrip('.')}.{kept}" if kept else message) from None


@user_errors
def _load_stream(file_path):
    if not file_path:
        raise UserError("upload an .aigic file")
    if os.path.getsize(file_path) > MAX_STREAM:
        raise UserError(f"that file is over {MAX_STREAM} bytes: not an aigic stream")
    data = Path(file_path).read_bytes()
    inspect_stream(data, stream_layers(data))  # refuse what does not parse, before the State
    return data, None  # a stream from a file: no image here it was encoded from


@user_errors
def inspect(data):
    data = need_stream(data)
    lay = stream_layers(data)
    info = inspect_stream(data, lay)
    header = {k: getattr(info.header, k) for k in ("version", "width", "height", "coding_size")}
    header |= {"seed": info.header.seed, "profile": info.header.profile}
    header |= {"total_bytes": info.total_bytes, "structure": info.layers.structure_kind}
    header["dropped"] = list(info.dropped)
    prompt, structure, grid = layer_views(lay)
    return chunk_rows(info), header, prompt, structure, grid


@user_errors
def decoder_inputs(data):
    """What the decoder receives from ``data``: the structure map at the decode size, the colour
    grid upsampled, and the prompt and profile in words (nothing when there is no stream)."""
    if not data:
        return None, None, ""
    lay = stream_layers(data)
    _, structure, grid = layer_views(lay)
    return structure, grid, decoder_text(lay)


@gpu
def decode_images(data: bytes, steps: list[list[str]], seed, backend_name: str, report=None):
    """Decode ``data`` once per layer list in ``steps``; ``report(fraction, text)`` on the way."""
    backend = get_backend(backend_name)
    out = []
    for i, layers in enumerate(steps):
        text = f"decoding {' + '.join(layers)}"

        def step(done, total, i=i, text=text):
            if report is not None:
                report((i + done / total) / len(steps), text)

        step(0, 1)
        out.append(
            api.decode(data, layers=layers, backend=backend, seed=seed, strict=False, progress=step)
        )
    return out, backend


def make_decode(backend_name: str):
    @user_errors
    def decode(data, chosen, seed, progress=gr.Progress()):  # noqa: B008 (gradio idiom)
        data = need_stream(data)
        plan = progressive_steps(chosen)
        wanted = [p for p in plan if p]
        if not wanted:
            raise UserError("choose at least one layer to decode")
        seed = stream_seed(seed)
        report = lambda fraction, text: progress(fraction, desc=text)
        images, backend = decode_images(data, wanted, seed, backend_name, report)
        it = iter(images)
        shown = [next(it) if p else None for p in plan]
        note = f"decoded with **{backend.name}** ({backend.unet_evaluations} UNet evaluations)"
        chose = getattr(backend, "last", None)  # auto: which profile it ran, and why
        if chose is not None:
            note += f", profile {profile_names()[chose.profile]}: {chose.why}"
        return *shown, note

    return decode


def make_regenerate(backend_name: str):
    @user_errors
    def regenerate(data, seed):
        data = need_stream(data)
        seed = stream_seed(seed)
        images, _ = decode_images(data, [LAYERS], seed, backend_name)
        return images[0]

    return regenerate


@user_errors
def edit_prompt(data, text):
    data = need_stream(data)
    return edit_views(data, edit.set_prompt(data, text or ""))


@user_errors
def edit_recolor(data, row, col, colour):
    data = need_stream(data)
    return edit_views(data, edit.recolor(data, [(int(row), int(col))], parse_colour(colour)))


@user_errors
def edit_shift(data, hue, brightness):
    data = need_stream(data)
    return edit_views(data, edit.shift_colors(data, float(hue), float(brightness)))


@user_errors
def edit_erase(data, x0, y0, x1, y1, also_texture):
    data = need_stream(data)
    return edit_views(data, edit.erase_rect(data, (x0, y0, x1, y1), texture=bool(also_texture)))


def stream_and_image(data, image_path, missing: str):
    """The stream bytes and the uploaded image, or one plain error naming what is missing."""
    data = need_stream(data)
    if not image_path:
        raise UserError(missing)
    return data, load_image(image_path)[0]


@user_errors
def edit_sketch(data, sketch_path, keep_grid=True):
    data, img = stream_and_image(data, sketch_path, "upload a sketch (white lines on black) first")
    return edit_views(data, edit.draw_structure(data, img, keep_grid=bool(keep_grid)))


@user_errors
def download(data):
    data = need_stream(data)
    return save_stream(data, "edited.aigic")


def image_digest(image_path) -> str | None:
    """SHA-256 of an uploaded file: which image a stream was encoded from."""
    if not image_path:
        return None
    return hashlib.sha256(Path(image_path).read_bytes()).hexdigest()


def check_pair(image_path, origin: str | None) -> None:
    """Compare only a stream with the image it was encoded from (one plain line otherwise)."""
    if origin is None:
        raise UserError(
            "this stream was not encoded here from the image in the Encode tab (it was "
            "loaded from a file): encode that image first to compare"
        )
    if image_digest(image_path) != origin:
        raise UserError(
            "the image in the Encode tab is not the one this stream was encoded from: "
            "press Encode again to compare them"
        )


COMPARE = ["codec", "bytes", "bpp (original size)", "× aigic", "PSNR (dB)", "MS-SSIM", "NIQE"]


@functools.lru_cache(maxsize=1)
def _metrics():
    """The weight-free metrics ``aigic eval`` computes (PSNR, MS-SSIM, NIQE), loaded once."""
    from aigic.eval.metrics import Metrics

    return Metrics(wanted=("psnr", "ms_ssim", "niqe"))


def quality(original, image) -> list[str]:
    """PSNR, MS-SSIM and NIQE of ``image`` against ``original`` (PIL images of one size), as
    the table shows them; "n/a" where one cannot run (NIQE's toolbox missing, MS-SSIM on an
    image under 160 pixels a side)."""
    import math

    import numpy as np

    ref = np.asarray(original.convert("RGB"))
    got = np.asarray(image.convert("RGB").resize(original.size))
    try:
        s = _metrics().score(ref, got, "")
    except (ValueError, RuntimeError):
        s = {"psnr": math.nan, "ms_ssim": math.nan, "niqe": math.nan}
    shown = [(s["psnr"], "{:.2f}"), (s["ms_ssim"], "{:.3f}"), (s["niqe"], "{:.2f}")]
    return ["n/a" if math.isnan(v) else f.format(v) for v, f in shown]


def make_compare(backend_name: str):
    @user_errors
    def compare(data, image_path, origin=None):
        missing = "the original image is needed: upload it in the Encode tab"
        data, original = stream_and_image(data, image_path, missing)
        check_pair(image_path, origin)
        images, _ = decode_images(data, [LAYERS], None, backend_name)
        jpeg, jn = smallest(original, "JPEG", 1)
        webp, wn = smallest(original, "WEBP", 0)
        n, pixels = len(data), original.width * original.height
        table = [
            [name, size, f"{size * 8 / pixels:.4f}", f"{size / n:.0f}×", *quality(original, im)]
            for name, size, im in (
                ("aigic", n, images[0]), ("JPEG q1", jn, jpeg), ("WebP q0", wn, webp),
            )
        ]  # fmt: skip
        table[0][3] = "1×"
        return original, images[0], jpeg, webp, table

    return compare


# ---- links: a stream in a URL ------------------------------------------------------------------
def page_address(request: gr.Request | None) -> str | None:
    """The address the page was opened at (its Referer, query and fragment dropped), or None."""
    from urllib.parse import urlsplit

    referer = request.headers.get("referer") if request is not None else None
    if not referer:
        return None
    return urlsplit(referer)._replace(query="", fragment="").geturl()


def stream_link(data, request: gr.Request = None):
    """The link that opens the current stream (empty without a stream, a note when too long)."""
    from aigic.links import link_base, to_link

    if not data:
        return ""
    try:
        return to_link(data, link_base(page_address(request)))
    except AigicError as exc:
        return str(exc)


@user_errors
def open_link(request: gr.Request = None):
    """The page was opened: with a stream in its link (``?s=``), that stream, and True so the
    decode that follows runs; otherwise nothing changes. Bad link data is one plain line."""
    from aigic.links import PARAM, from_link

    token = request.query_params.get(PARAM) if request is not None else None
    if token is None:
        return gr.skip(), gr.skip(), False, gr.skip()
    data = from_link(token)
    note = f"Opened the stream in the link ({len(data)} bytes): decoding it below."
    return data, None, True, note


def make_link_decode(backend_name: str):
    """The decode that follows opening a link: every layer, the stream's seed."""
    decode = make_decode(backend_name)

    def link_decode(data, linked, progress=gr.Progress()):  # noqa: B008 (gradio idiom)
        if not linked or not data:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        return decode(data, LAYERS, -1, progress)

    return link_decode
