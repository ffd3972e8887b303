"""aigic's Gradio app: encode, inspect, decode progressively, edit the bitstream, compare.

    upload --encode--> gr.State(bytes) --+--> Inspect (chunk table, header, layer views)
                                         +--> Progressive decode (text / + structure / + texture)
                                         +--> Edit (parse -> change one layer -> write) --> State
                                         +--> Compare (original, decoded, JPEG/WebP at their minimum)

Layout only (handlers in webapp/handlers.py, views in webapp/views.py): every handler calls
the aigic package. One ``gr.State`` holds the stream bytes; every
view is derived from it. Every user action is an event with an ``api_name`` (the app is an
HTTP API too); events that only keep the page in step are left out of the API docs. Untrusted
input errors become ``gr.Error`` with one plain line. GPU work sits in ``decode_images`` (wrapped
in ``spaces.GPU`` on a ZeroGPU Space).

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--backend auto|preview|sd15]
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import gradio as gr

from aigic.encoder.settings import OPTIONS
from aigic.layers.structure import warm_up
from webapp import edit_tab, models_panel
from webapp.handlers import (
    COMPARE,
    decoder_inputs,
    encode,
    inspect,
    load_stream,
    make_compare,
    make_decode,
    make_link_decode,
    make_read_prompt,
    open_link,
    stream_link,
)
from webapp.pictures import Picture
from webapp.views import (
    LAYERS,
    MAX_STREAM,
    OUT,
    PAGE,
    QUIET,
    inspect_legend,
    progressive_steps,
    safe_name,
    setting_control,
)

ROOT = Path(__file__).parent
EXAMPLES = (  # (file in assets/, structure kind, its prompt when its metadata has none)
    ("fennec_bottle_sdxlturbo.png", "auto", None),
    ("banana_sushi_sd15.png", "canny", None),
    ("fennec_bottle_sdxlturbo.png", "sketch", None),
    ("astronaut_horse_sd15.png", "pose", "a high quality photo of an astronaut riding a horse in space"),
)  # fmt: skip
MAX_UPLOAD = "20mb"
QUEUE_SIZE = 16  # requests waiting at most: a public link cannot pile up work
DOCS = os.environ.get("AIGIC_DOCS_URL") or "/gradio_api/file=README.md"
__all__ = ["MAX_STREAM", "OUT", "build_demo", "main", "progressive_steps", "safe_name"]


# ---- layout: one function per tab, each wiring its own events --------------------------------
TABLE = ["chunk", "type", "codec", "offset", "bytes", "share", "bpp (original size)"]


def build_demo(backend_name: str = "auto") -> gr.Blocks:
    with gr.Blocks(title="aigic", delete_cache=(3600, 3600)) as demo:
        stream = gr.State(None)
        origin = gr.State(None)  # SHA-256 of the image the stream was encoded from (None: a file)
        gr.Markdown(
            "# aigic: AI-generated images in a few hundred bytes\n"
            "A layered bitstream (prompt, structure, colour grid) that Stable Diffusion decodes "
            f"and that can be **edited without decoding**. [How it works: the README]({DOCS})",
            elem_id="title",
        )
        models_panel.build(backend_name)
        link_note = gr.Markdown(elem_id="link-note")
        with gr.Tab("Encode"):
            image, encoded = _encode_tab(stream, origin)
        with gr.Tab("Inspect"):
            loaded = _inspect_tab(stream, origin)
        with gr.Tab("Progressive decode"):
            seed, decoded_views = _decode_tab(stream, backend_name)
        with gr.Tab("Edit"):
            history, steps = edit_tab.build(stream, seed, backend_name)
        with gr.Tab("Compare"):
            _compare_tab(stream, origin, image, backend_name)
        link = gr.Textbox(
            label="Link to this stream (opening it loads the stream and decodes it)",
            buttons=["copy"],
            interactive=False,
            elem_id="stream-link",
        )
        stream.change(stream_link, stream, link, **QUIET)
        linked = gr.State(False)
        opened = demo.load(open_link, None, [stream, origin, linked, link_note], **QUIET)
        opened.success(make_link_decode(backend_name), [stream, linked], decoded_views, **QUIET)
        for new_stream in (encoded, loaded, opened):  # a new stream starts a new edit history
            new_stream.success(edit_tab.start, stream, [history, steps], api_visibility=PAGE)
    return demo


def example_rows() -> tuple[list[list[str]], list[str]]:
    """The examples' (file, kind) rows and their labels; an example whose extractor's weights
    are not here says so in its label (its encode would explain it too)."""
    from aigic.encoder.extractors import NAMES, available

    rows, labels = [], []
    for name, kind, _ in EXAMPLES:
        rows.append([str(ROOT / "assets" / name), kind])
        label = f"{name.rsplit('_', 1)[0].replace('_', ' ')}: {kind}"
        if kind in NAMES and not available(kind)[0]:
            label += f" (no {NAMES[kind]} weights here)"
        labels.append(label)
    return rows, labels


def example_prompts() -> dict[str, str]:
    """SHA-256 of each example image whose metadata holds no prompt -> the prompt it was made
    with (assets/README.md), so every example starts with one."""
    import hashlib

    return {
        hashlib.sha256((ROOT / "assets" / name).read_bytes()).hexdigest(): prompt
        for name, _, prompt in EXAMPLES
        if prompt
    }


def busy(button: gr.Button):
    """A click that first disables ``button`` (the work it starts then runs once, however often
    it is clicked); chain the work with ``.then`` and end with :func:`free`."""
    return button.click(
        lambda: gr.update(interactive=False), None, button, api_visibility=PAGE, queue=False
    )


def free():
    return gr.update(interactive=True)


def _encode_tab(stream: gr.State, origin: gr.State):
    with gr.Row():
        with gr.Column():
            image = gr.File(
                label="Image (PNG, JPEG, WebP, ...; up to 20 MB)",
                type="filepath",
                elem_id="image",
            )  # a File, not an Image: a bad upload reaches the handler, which explains it
            shown = Picture(label="Uploaded image", interactive=False, elem_id="image-view")
            image_note = gr.Markdown(elem_id="image-note")
            prompt = gr.Textbox(
                label="Prompt (from the image's metadata; editable)", elem_id="prompt"
            )
            kind = setting_control(gr.Radio, "structure", "Structure")
            rows, labels = example_rows()
            gr.Examples(
                rows,
                inputs=[image, kind],
                label="Examples (assets/): one per structure kind",
                example_labels=labels,
                api_visibility=PAGE,
            )
            preset = setting_control(gr.Dropdown, "preset", "Preset")
            budget = gr.Number(
                label="Byte budget (overrides the preset; 0 = none)",
                value=0,
                precision=0,
                info=OPTIONS["budget"].help,
            )
            style = setting_control(gr.Radio, "style", "Lossy edge style")
            encode_btn = gr.Button("Encode", variant="primary", elem_id="encode")
        with gr.Column():
            summary = gr.Markdown(elem_id="enc-summary")
            table = gr.Dataframe(headers=TABLE, label="Bytes per layer", elem_id="enc-table")
            with gr.Row():
                structure = Picture(label="Structure map", interactive=False)
                grid = Picture(label="Colour grid", interactive=False)
            file = gr.File(label="Download .aigic", elem_id="enc-file")
    read_prompt = make_read_prompt(example_prompts())
    read = image.change(read_prompt, image, [prompt, shown, image_note], api_name="read_prompt")
    # a refused file leaves the box for the next one
    read.failure(lambda: None, None, image, api_visibility=PAGE)
    encoded = busy(encode_btn).then(
        encode, [image, prompt, kind, preset, budget, style],
        [stream, table, summary, structure, grid, file, origin], api_name="encode",
    )  # fmt: skip
    encoded.then(free, None, encode_btn, api_visibility=PAGE, queue=False)
    return image, encoded


def _inspect_tab(stream: gr.State, origin: gr.State):
    with gr.Row():
        upload = gr.File(
            label="Upload an .aigic (or use the one just encoded)",
            file_types=[".aigic"],
            elem_id="upload-stream",
        )
        inspect_btn = gr.Button("Inspect", elem_id="inspect")
    table = gr.Dataframe(headers=TABLE, label="Chunks", elem_id="ins-table")
    gr.Markdown(inspect_legend(), elem_id="ins-legend")
    header = gr.JSON(label="Header")
    prompt = gr.Textbox(label="Semantic layer (prompt)", interactive=False, elem_id="ins-prompt")
    with gr.Row():
        structure = Picture(label="Structure layer", interactive=False)
        grid = Picture(label="Texture layer (colour grid)", interactive=False)
    loaded = upload.upload(load_stream, [upload, stream], [stream, origin], api_name="load_stream")
    # a refused file does not stay in the box
    loaded.failure(lambda: None, None, upload, api_visibility=PAGE)
    views = [table, header, prompt, structure, grid]
    inspect_btn.click(inspect, stream, views, api_name="inspect")
    stream.change(inspect, stream, views, api_name="refresh_inspect", show_progress="hidden")
    return loaded


def _decode_tab(stream: gr.State, backend_name: str) -> tuple[gr.Number, list]:
    with gr.Row():
        chosen = gr.CheckboxGroup(LAYERS, value=LAYERS, label="Layers", elem_id="layers")
        seed = gr.Number(label="Seed (-1 = the stream's)", value=-1, precision=0)
        decode_btn = gr.Button("Decode", variant="primary", elem_id="decode")
    note = gr.Markdown(elem_id="dec-note")
    with gr.Row():
        text = Picture(label="text only", interactive=False, elem_id="dec-text")
        struct = Picture(label="+ structure", interactive=False, elem_id="dec-structure")
        tex = Picture(label="+ texture", interactive=False, elem_id="dec-texture")
    gr.Markdown("### What Stable Diffusion receives (whichever decoder runs)")
    with gr.Row():
        cond_structure = Picture(
            label="structure adapter input", interactive=False, elem_id="cond-structure"
        )
        cond_colour = Picture(
            label="colour adapter input", interactive=False, elem_id="cond-colour"
        )
        cond_text = gr.Markdown(elem_id="cond-text")
    decoded = busy(decode_btn).then(
        make_decode(backend_name), [stream, chosen, seed], [text, struct, tex, note],
        api_name="decode",
    )  # fmt: skip
    decoded.then(free, None, decode_btn, api_visibility=PAGE, queue=False)
    stream.change(
        decoder_inputs, stream, [cond_structure, cond_colour, cond_text],
        api_name="decoder_inputs", show_progress="hidden",
    )  # fmt: skip
    return seed, [text, struct, tex, note]


def _compare_tab(stream: gr.State, origin: gr.State, image: gr.File, backend_name: str) -> None:
    compare_btn = gr.Button("Compare", variant="primary", elem_id="compare")
    table = gr.Dataframe(
        headers=COMPARE,
        label="Sizes and quality against the original (PSNR, MS-SSIM: higher is closer; "
        "NIQE: lower looks more natural)",
        elem_id="cmp-table",
    )
    with gr.Row():
        views = [
            Picture(label=label, interactive=False)
            for label in ("original", "aigic (decoded)", "JPEG, quality 1", "WebP, quality 0")
        ]
    compare_btn.click(
        make_compare(backend_name), [stream, image, origin], [*views, table], api_name="compare"
    )


def preload(backend_name: str) -> None:
    """Load the decoder's models at start-up, before any visitor waits: on a ZeroGPU Space the
    weights are read into memory once, here, and ``spaces.GPU`` moves them to a GPU per call."""
    from aigic.backends import get_backend
    from aigic.backends.profiles import PROFILES
    from aigic.needs import DEFAULT_PROFILE

    backend = get_backend(backend_name)
    if hasattr(backend, "pipeline"):
        profile = next(p for p in PROFILES.values() if p.name == DEFAULT_PROFILE)
        backend.pipeline(profile, ("sketch", "color"))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description="The aigic app (Gradio).")
    p.add_argument("--host", default=os.environ.get("AIGIC_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("AIGIC_PORT", "7860")))
    p.add_argument("--share", action="store_true", default=bool(os.environ.get("AIGIC_SHARE")))
    p.add_argument(
        "--backend",
        default=os.environ.get("AIGIC_BACKEND", "auto"),
        choices=["auto", "preview", "sd15", "sdxl"],
    )
    a = p.parse_args(argv)
    warm_up()  # compile the edge-map coder before the first request
    if os.environ.get("SPACE_ID"):
        preload(a.backend)
    demo = build_demo(a.backend)
    demo.queue(default_concurrency_limit=4, max_size=QUEUE_SIZE)
    try:
        demo.launch(
            server_name=a.host,
            server_port=a.port,
            share=a.share,
            max_file_size=MAX_UPLOAD,
            allowed_paths=[str(ROOT / "README.md")],
        )
    finally:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
