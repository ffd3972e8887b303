"""aigic's Gradio app: encode, inspect, decode progressively, edit the bitstream, compare.

    upload --encode--> gr.State(bytes) --+--> Inspect (chunk table, header, layer views)
                                         +--> Progressive decode (text / + structure / + texture)
                                         +--> Edit (parse -> change one layer -> write) --> State
                                         +--> Compare (original, decoded, JPEG/WebP at their minimum)

UI only: every handler calls the aigic package. One ``gr.State`` holds the stream bytes; every
view is derived from it. Every event has an ``api_name`` (the app is an HTTP API too). Untrusted
input errors become ``gr.Error`` with one plain line. GPU work sits in ``decode_images`` (wrapped
in ``spaces.GPU`` on a ZeroGPU Space).

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--backend auto|preview|sd15]
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import re
import shutil
import tempfile
import traceback
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from aigic import codec, edit
from aigic.backends import get_backend, sd15_available
from aigic.errors import AigicError
from aigic.images import load_image
from aigic.ratecontrol import PRESETS

ROOT = Path(__file__).parent
EXAMPLES = sorted(str(p) for p in (ROOT / "assets").glob("*.png"))
MAX_UPLOAD = "20mb"
MAX_STREAM = 1 << 20  # an .aigic file is a few hundred bytes; refuse anything over 1 MiB
LAYERS = list(codec.LAYERS)
OUT = Path(tempfile.mkdtemp(prefix="aigic-app-"))

try:  # ZeroGPU Spaces: the decode function gets a GPU while it runs
    import spaces

    gpu = spaces.GPU
except ImportError:

    def gpu(fn):
        return fn


def user_errors(fn):
    """Bad input -> one plain line in the page (gr.Error); the app keeps working."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (AigicError, ValueError, OSError) as exc:
            raise gr.Error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
        except MemoryError:
            raise gr.Error("out of memory: the input is too large") from None
        except Exception as exc:  # noqa: BLE001 (a bug: log it, tell the user in one line)
            traceback.print_exc()
            raise gr.Error(f"internal error ({type(exc).__name__}); please report it") from None

    return wrapper


def need_stream(data) -> bytes:
    if not data:
        raise gr.Error("no stream yet: encode an image or upload an .aigic file first")
    return data


def safe_name(name: str | None, suffix: str) -> str:
    """A file name made of [A-Za-z0-9._-] only, from an untrusted upload name."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(name or "image").stem).strip("_")[:48]
    return (stem or "image") + suffix


def save_stream(data: bytes, name: str) -> str:
    folders = sorted(OUT.iterdir(), key=lambda p: p.stat().st_mtime)
    for old in folders[:-64]:  # keep the temporary folder small (one folder per stream)
        shutil.rmtree(old, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(dir=OUT))
    path = folder / name
    path.write_bytes(data)
    return str(path)


# ---- views derived from the stream ------------------------------------------------------------
def chunk_rows(info: dict) -> list[list]:
    rows = [
        [r["chunk"], r["type"] if r["type"] is not None else "", r["offset"] or "", r["bytes"],
         f"{r['share']:.1%}", f"{r['bpp']:.5f}"]
        for r in info["chunks"]
    ]  # fmt: skip
    rows.append(["total", "", "", info["total_bytes"], "100.0%", f"{info['bpp']:.5f}"])
    return rows


def layer_views(data: bytes):
    lay = codec.read_layers(data, strict=False)
    structure = lay.structure.condition(lay.size) if lay.structure is not None else None
    grid = None
    if lay.texture is not None:
        grid = np.asarray(Image.fromarray(lay.texture.grid()).resize(lay.size, Image.NEAREST))
    prompt = lay.semantic.text if lay.semantic is not None else "(no semantic layer)"
    return prompt, structure, grid


def summary(info: dict) -> str:
    cw, ch = info["coding_size"]
    first = (
        f"**{info['total_bytes']} bytes** = **{info['bpp']:.4f} bpp** for "
        f"{info['width']}×{info['height']} (coding size {cw}×{ch}), seed {info['seed']}, "
        f"profile {info['profile']}"
    )
    lines = [first]
    if info["dropped"]:
        lines.append(f"⚠ damaged layers dropped: {', '.join(info['dropped'])}")
    return "\n\n".join(lines)


# ---- handlers (named after their events) --------------------------------------------------
@user_errors
def read_prompt(image_path):
    """The prompt stored in the uploaded image's generation metadata ('' when none)."""
    if not image_path:
        return ""
    from aigic.metadata import prompt_from_metadata

    return prompt_from_metadata(load_image(image_path)[1])[0]


@user_errors
def encode(image_path, prompt, kind, preset, budget):
    if not image_path:
        raise gr.Error("upload an image first")
    data = codec.encode(
        image_path,
        prompt=prompt if prompt and prompt.strip() else None,
        structure=kind or "canny",
        preset=None if budget else preset,
        budget=int(budget) if budget else None,
    )
    info = codec.inspect(data)
    _, structure, grid = layer_views(data)
    path = save_stream(data, safe_name(os.path.basename(image_path), ".aigic"))
    return data, chunk_rows(info), summary(info), structure, grid, path


@user_errors
def load_stream(file_path):
    if not file_path:
        raise gr.Error("upload an .aigic file")
    if os.path.getsize(file_path) > MAX_STREAM:
        raise gr.Error(f"that file is over {MAX_STREAM} bytes: not an aigic stream")
    data = Path(file_path).read_bytes()
    codec.inspect(data)  # refuse what does not parse, before it reaches the State
    return data


@user_errors
def inspect(data):
    data = need_stream(data)
    info = codec.inspect(data)
    header = {
        k: info[k]
        for k in ("version", "width", "height", "coding_size", "seed", "profile", "total_bytes")
    }
    header |= {"structure": info["structure_kind"], "dropped": info["dropped"]}
    prompt, structure, grid = layer_views(data)
    return chunk_rows(info), header, prompt, structure, grid


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
            codec.decode(
                data, layers=layers, backend=backend, seed=seed, strict=False, progress=step
            )
        )
    return out, backend


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


def make_decode(backend_name: str):
    @user_errors
    def decode(data, chosen, seed, progress=gr.Progress()):  # noqa: B008 (gradio idiom)
        data = need_stream(data)
        plan = progressive_steps(chosen)
        wanted = [p for p in plan if p]
        if not wanted:
            raise gr.Error("choose at least one layer to decode")
        seed = stream_seed(seed)
        report = lambda fraction, text: progress(fraction, desc=text)
        images, backend = decode_images(data, wanted, seed, backend_name, report)
        it = iter(images)
        shown = [next(it) if p else None for p in plan]
        note = f"decoded with **{backend.name}** ({backend.unet_evaluations} UNet evaluations)"
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


def _changes(before: bytes, after: bytes):
    rows = [[k, v] for k, v in codec.changed_layers(before, after).items()]
    info = codec.inspect(after)
    return after, rows, summary(info)


@user_errors
def edit_prompt(data, text):
    data = need_stream(data)
    return _changes(data, edit.set_prompt(data, text or ""))


def parse_colour(value: str) -> tuple[int, int, int]:
    value = (value or "").strip()
    m = re.fullmatch(r"#?([0-9a-fA-F]{6})", value)
    if m:
        return tuple(int(m.group(1)[i : i + 2], 16) for i in (0, 2, 4))
    m = re.fullmatch(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*[\d.]+)?\)", value)
    if m:
        return tuple(min(255, round(float(v))) for v in m.groups())
    raise gr.Error(f"colour {value!r}: expected #RRGGBB")


@user_errors
def edit_recolor(data, row, col, colour):
    data = need_stream(data)
    return _changes(data, edit.recolor(data, [(int(row), int(col))], parse_colour(colour)))


@user_errors
def edit_shift(data, hue, brightness):
    data = need_stream(data)
    return _changes(data, edit.shift_colors(data, float(hue), float(brightness)))


@user_errors
def edit_erase(data, x0, y0, x1, y1, also_texture):
    data = need_stream(data)
    return _changes(data, edit.erase_rect(data, (x0, y0, x1, y1), texture=bool(also_texture)))


@user_errors
def edit_sketch(data, sketch_path):
    data = need_stream(data)
    if not sketch_path:
        raise gr.Error("upload a sketch (white lines on black) first")
    img, _ = load_image(sketch_path)
    lay = codec.read_layers(data, strict=False)
    edges = np.asarray(img.convert("L").resize(lay.size, Image.NEAREST)) > 127
    return _changes(data, edit.replace_structure(data, edges, kind="sketch"))


@user_errors
def download(data):
    data = need_stream(data)
    return save_stream(data, "edited.aigic")


def smallest(img: Image.Image, fmt: str, quality: int) -> tuple[Image.Image, int]:
    buf = io.BytesIO()
    img.save(buf, fmt, quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB"), buf.tell()


def make_compare(backend_name: str):
    @user_errors
    def compare(data, image_path):
        data = need_stream(data)
        if not image_path:
            raise gr.Error("the original image is needed: upload it in the Encode tab")
        original, _ = load_image(image_path)
        images, _ = decode_images(data, [LAYERS], None, backend_name)
        jpeg, jn = smallest(original, "JPEG", 1)
        webp, wn = smallest(original, "WEBP", 0)
        n = len(data)
        table = [
            ["aigic", n, f"{n * 8 / (original.width * original.height):.4f}", "1×"],
            ["JPEG q1", jn, f"{jn * 8 / (original.width * original.height):.4f}", f"{jn / n:.0f}×"],
            ["WebP q0", wn, f"{wn * 8 / (original.width * original.height):.4f}", f"{wn / n:.0f}×"],
        ]  # fmt: skip
        return original, images[0], jpeg, webp, table

    return compare


# ---- layout -------------------------------------------------------------------------------
def decoder_note(backend_name: str) -> str:
    ok, why = sd15_available()
    if backend_name == "preview":
        return "Decoder: **preview** (weight-free), as asked."
    if backend_name == "sd15":
        return f"Decoder: **sd15** (Stable Diffusion 1.5 + T2I-Adapters), as asked. {why}."
    if ok:
        return f"Decoder: **sd15** (Stable Diffusion 1.5 + T2I-Adapters): {why}."
    return (
        f"Decoder: **preview** (weight-free: colour grid + edges + prompt caption), because {why}."
    )


def build_demo(backend_name: str = "auto") -> gr.Blocks:
    with gr.Blocks(title="aigic", delete_cache=(3600, 3600)) as demo:
        stream = gr.State(None)
        gr.Markdown(
            "# aigic: AI-generated images in a few hundred bytes\n"
            "A layered bitstream (prompt, structure, colour grid) that Stable Diffusion decodes "
            "and that can be **edited without decoding**.\n\n" + decoder_note(backend_name)
        )
        with gr.Tab("Encode"), gr.Row():
            with gr.Column():
                image = gr.Image(
                    type="filepath", label="Image", sources=["upload"], elem_id="image"
                )
                gr.Examples(EXAMPLES, inputs=image, label="Examples (assets/)")
                prompt = gr.Textbox(
                    label="Prompt (from the image's metadata; editable)", elem_id="prompt"
                )
                kind = gr.Radio(["canny", "sketch", "pose"], value="canny", label="Structure")
                preset = gr.Dropdown(
                    list(PRESETS),
                    value="default",
                    label="Preset",
                    info="tiny ≤ 0.003 bpp (prompt + colours), default ≤ 0.010, fine ≤ 0.020, "
                    "lossless edges",
                )
                budget = gr.Number(
                    label="Byte budget (overrides the preset; 0 = none)",
                    value=0,
                    precision=0,
                )
                encode_btn = gr.Button("Encode", variant="primary", elem_id="encode")
            with gr.Column():
                enc_summary = gr.Markdown(elem_id="enc-summary")
                enc_table = gr.Dataframe(
                    headers=["chunk", "type", "offset", "bytes", "share", "bpp"],
                    label="Bytes per layer", elem_id="enc-table",
                )  # fmt: skip
                with gr.Row():
                    enc_structure = gr.Image(label="Structure map", interactive=False)
                    enc_grid = gr.Image(label="Colour grid", interactive=False)
                enc_file = gr.File(label="Download .aigic", elem_id="enc-file")
        with gr.Tab("Inspect"):
            with gr.Row():
                upload = gr.File(
                    label="Upload an .aigic (or use the one just encoded)",
                    file_types=[".aigic"],
                    elem_id="upload-stream",
                )
                inspect_btn = gr.Button("Inspect", elem_id="inspect")
            ins_table = gr.Dataframe(
                headers=["chunk", "type", "offset", "bytes", "share", "bpp"],
                label="Chunks",
                elem_id="ins-table",
            )
            ins_header = gr.JSON(label="Header")
            ins_prompt = gr.Textbox(
                label="Semantic layer (prompt)", interactive=False, elem_id="ins-prompt"
            )
            with gr.Row():
                ins_structure = gr.Image(label="Structure layer", interactive=False)
                ins_grid = gr.Image(label="Texture layer (colour grid)", interactive=False)
        with gr.Tab("Progressive decode"):
            with gr.Row():
                chosen = gr.CheckboxGroup(LAYERS, value=LAYERS, label="Layers", elem_id="layers")
                seed = gr.Number(label="Seed (-1 = the stream's)", value=-1, precision=0)
                decode_btn = gr.Button("Decode", variant="primary", elem_id="decode")
            dec_note = gr.Markdown(elem_id="dec-note")
            with gr.Row():
                dec_text = gr.Image(label="text only", interactive=False, elem_id="dec-text")
                dec_struct = gr.Image(
                    label="+ structure", interactive=False, elem_id="dec-structure"
                )
                dec_tex = gr.Image(label="+ texture", interactive=False, elem_id="dec-texture")
        with gr.Tab("Edit"):
            gr.Markdown(
                "Each edit rewrites one layer of the stream; the others stay byte-identical. No image is decoded."
            )
            with gr.Row():
                new_prompt = gr.Textbox(label="New prompt", elem_id="new-prompt")
                prompt_btn = gr.Button("Set prompt", elem_id="set-prompt")
            with gr.Row():
                row = gr.Number(label="Grid row", value=0, precision=0, elem_id="cell-row")
                col = gr.Number(label="Grid column", value=0, precision=0, elem_id="cell-col")
                colour = gr.ColorPicker(value="#ff0000", label="Colour")
                recolor_btn = gr.Button("Recolour cell", elem_id="recolor")
            with gr.Row():
                hue = gr.Slider(-180, 180, value=0, step=1, label="Hue shift (degrees)")
                bright = gr.Slider(-50, 50, value=0, step=1, label="Brightness (L*)")
                shift_btn = gr.Button("Shift colours")
            with gr.Row():
                x0 = gr.Slider(0, 1, value=0.25, label="x0")
                y0 = gr.Slider(0, 1, value=0.25, label="y0")
                x1 = gr.Slider(0, 1, value=0.75, label="x1")
                y1 = gr.Slider(0, 1, value=0.75, label="y1")
                also_tex = gr.Checkbox(label="also texture (erase object)")
                erase_btn = gr.Button("Erase rectangle")
            with gr.Row():
                sketch = gr.Image(
                    type="filepath", label="Replace structure with a sketch", sources=["upload"]
                )
                sketch_btn = gr.Button("Replace structure")
            edit_summary = gr.Markdown(elem_id="edit-summary")
            edit_table = gr.Dataframe(
                headers=["layer", "status"],
                label="What the edit did to each layer",
                elem_id="edit-table",
            )
            with gr.Row():
                regen_btn = gr.Button("Regenerate", variant="primary", elem_id="regenerate")
                save_btn = gr.Button("Download the edited stream")
            edit_file = gr.File(label="Edited .aigic")
            edit_image = gr.Image(
                label="Regenerated (all layers)", interactive=False, elem_id="edit-image"
            )
        with gr.Tab("Compare"):
            compare_btn = gr.Button("Compare", variant="primary", elem_id="compare")
            cmp_table = gr.Dataframe(
                headers=["codec", "bytes", "bpp", "× aigic"], label="Sizes", elem_id="cmp-table"
            )
            with gr.Row():
                cmp_orig = gr.Image(label="original", interactive=False)
                cmp_dec = gr.Image(label="aigic (decoded)", interactive=False)
                cmp_jpeg = gr.Image(label="JPEG, quality 1", interactive=False)
                cmp_webp = gr.Image(label="WebP, quality 0", interactive=False)

        image.change(read_prompt, image, prompt, api_name="read_prompt")
        encode_btn.click(
            encode, [image, prompt, kind, preset, budget],
            [stream, enc_table, enc_summary, enc_structure, enc_grid, enc_file], api_name="encode",
        )  # fmt: skip
        upload.upload(load_stream, upload, stream, api_name="load_stream")
        views = [ins_table, ins_header, ins_prompt, ins_structure, ins_grid]
        inspect_btn.click(inspect, stream, views, api_name="inspect")
        stream.change(inspect, stream, views, api_name="refresh_inspect", show_progress="hidden")
        decode = make_decode(backend_name)
        decode_btn.click(
            decode,
            [stream, chosen, seed],
            [dec_text, dec_struct, dec_tex, dec_note],
            api_name="decode",
        )
        edits = [stream, edit_table, edit_summary]
        prompt_btn.click(edit_prompt, [stream, new_prompt], edits, api_name="edit_prompt")
        recolor_btn.click(edit_recolor, [stream, row, col, colour], edits, api_name="edit_recolor")
        shift_btn.click(edit_shift, [stream, hue, bright], edits, api_name="edit_shift")
        erase_btn.click(
            edit_erase, [stream, x0, y0, x1, y1, also_tex], edits, api_name="edit_erase"
        )
        sketch_btn.click(edit_sketch, [stream, sketch], edits, api_name="edit_sketch")
        save_btn.click(download, stream, edit_file, api_name="download")
        regen_btn.click(
            make_regenerate(backend_name), [stream, seed], edit_image, api_name="regenerate"
        )
        compare_btn.click(
            make_compare(backend_name), [stream, image],
            [cmp_orig, cmp_dec, cmp_jpeg, cmp_webp, cmp_table], api_name="compare",
        )  # fmt: skip
    return demo


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="The aigic app (Gradio).")
    p.add_argument("--host", default=os.environ.get("AIGIC_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("AIGIC_PORT", "7860")))
    p.add_argument("--share", action="store_true", default=bool(os.environ.get("AIGIC_SHARE")))
    p.add_argument(
        "--backend",
        default=os.environ.get("AIGIC_BACKEND", "auto"),
        choices=["auto", "preview", "sd15"],
    )
    a = p.parse_args(argv)
    demo = build_demo(a.backend)
    demo.queue(default_concurrency_limit=4)
    try:
        demo.launch(server_name=a.host, server_port=a.port, share=a.share, max_file_size=MAX_UPLOAD)
    finally:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
