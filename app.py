"""aigic's Gradio app: encode, inspect, decode progressively, edit the bitstream, compare.

    upload --encode--> gr.State(bytes) --+--> Inspect (chunk table, header, layer views)
                                         +--> Progressive decode (text / + structure / + texture)
                                         +--> Edit (parse -> change one layer -> write) --> State
                                         +--> Compare (original, decoded, JPEG/WebP at their minimum)

Layout only (handlers in webapp/handlers.py, views in webapp/views.py): every handler calls
the aigic package. One ``gr.State`` holds the stream bytes; every
view is derived from it. Every event has an ``api_name`` (the app is an HTTP API too). Untrusted
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

from aigic.bitmap import warm_up
from aigic.ratecontrol import PRESETS
from webapp.handlers import (
    download,
    edit_erase,
    edit_prompt,
    edit_recolor,
    edit_shift,
    edit_sketch,
    encode,
    inspect,
    load_stream,
    make_compare,
    make_decode,
    make_regenerate,
    read_prompt,
)
from webapp.views import LAYERS, MAX_STREAM, OUT, decoder_note, progressive_steps, safe_name

ROOT = Path(__file__).parent
EXAMPLES = sorted(str(p) for p in (ROOT / "assets").glob("*.png"))
MAX_UPLOAD = "20mb"
__all__ = ["MAX_STREAM", "OUT", "build_demo", "main", "progressive_steps", "safe_name"]


# ---- layout -------------------------------------------------------------------------------
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
    warm_up()  # compile the edge-map coder before the first request
    demo = build_demo(a.backend)
    demo.queue(default_concurrency_limit=4)
    try:
        demo.launch(server_name=a.host, server_port=a.port, share=a.share, max_file_size=MAX_UPLOAD)
    finally:
        shutil.rmtree(OUT, ignore_errors=True)


if __name__ == "__main__":
    main()
