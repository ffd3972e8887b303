"""The Edit tab's layout: each edit rewrites one layer; aim it on pictures, undo any step.

colour grid picture --click--> row, column --Recolour cell--> texture changed
erase picture --two clicks (or the sliders)--> box --Erase rectangle--> structure changed
every edit --> history table (step, edit, what it did to each layer) --Undo--> back a step
"""

from __future__ import annotations

import gradio as gr

from .editing import (
    HISTORY_HEADERS,
    current_prompt,
    erase_picture,
    grid_picture,
    pick_cell,
    pick_corner,
    record,
    start,
    undo,
)
from .handlers import (
    download,
    edit_erase,
    edit_prompt,
    edit_recolor,
    edit_shift,
    edit_sketch,
    make_regenerate,
)
from .pictures import Picture
from .views import PAGE, QUIET


def build(stream: gr.State, seed: gr.Number, backend_name: str) -> tuple[gr.State, gr.Dataframe]:
    """The tab's widgets and events; returns the history State and its table, which a new
    stream (encoded or loaded) restarts through :func:`editing.start`."""
    gr.Markdown(
        "Each edit rewrites one layer of the stream; the others stay byte-identical. "
        "No image is decoded. Pictures show the layers as they are now."
    )
    history = gr.State([])
    with gr.Row():
        new_prompt = gr.Textbox(
            label="New prompt (starts as the current one)", elem_id="new-prompt"
        )
        prompt_btn = gr.Button("Set prompt", elem_id="set-prompt")
    with gr.Row():
        grid = Picture(
            label="Colour grid: click a cell to pick it (row,column in each cell)",
            interactive=False,
            format="png",  # exact colours, not a lossy re-encoding
            elem_id="edit-grid",
        )
        with gr.Column():
            row = gr.Number(
                label="Grid row (from the top)", value=0, precision=0, elem_id="cell-row"
            )
            col = gr.Number(
                label="Grid column (from the left)", value=0, precision=0, elem_id="cell-col"
            )
            colour = gr.ColorPicker(value="#ff0000", label="Colour")
            recolor_btn = gr.Button("Recolour cell", elem_id="recolor")
            hue = gr.Slider(-180, 180, value=0, step=1, label="Hue shift (degrees)")
            bright = gr.Slider(-50, 50, value=0, step=1, label="Brightness (L*)")
            shift_btn = gr.Button("Shift colours")
    box, also_tex, erase_btn, erase_view, corner = _erase_controls()
    with gr.Row():
        sketch = gr.File(
            label="Replace structure with a sketch (white lines on black)", elem_id="sketch"
        )
        with gr.Column():
            keep_grid = gr.Checkbox(
                value=True,
                label="On the current edge grid (the rate stays about the same; off: lossless)",
            )
            sketch_btn = gr.Button("Replace structure")
    summary = gr.Markdown(elem_id="edit-summary")
    table = gr.Dataframe(
        headers=["layer", "status"],
        label="What the last edit did to each layer",
        elem_id="edit-table",
    )
    with gr.Row():
        steps = gr.Dataframe(
            headers=HISTORY_HEADERS, label="Edits this session", elem_id="edit-history"
        )
        undo_btn = gr.Button("Undo the last edit", elem_id="undo")
    edits = [stream, table, summary]
    logged = [history, steps]
    for btn, fn, inputs, name, label in (
        (prompt_btn, edit_prompt, [stream, new_prompt], "edit_prompt", "set prompt"),
        (recolor_btn, edit_recolor, [stream, row, col, colour], "edit_recolor", "recolour cell"),
        (shift_btn, edit_shift, [stream, hue, bright], "edit_shift", "shift colours"),
        (erase_btn, edit_erase, [stream, *box, also_tex], "edit_erase", "erase rectangle"),
        (sketch_btn, edit_sketch, [stream, sketch, keep_grid], "edit_sketch", "replace structure"),
    ):
        btn.click(fn, inputs, edits, api_name=name).success(
            record(label), [history, stream], logged, api_visibility=PAGE
        )
    undo_btn.click(undo, history, [stream, *logged, table, summary], api_name="undo")
    grid.select(pick_cell, stream, [row, col], api_visibility=PAGE)
    erase_view.select(pick_corner, [stream, corner, *box], [*box, corner], api_visibility=PAGE)
    for slider in box:
        slider.change(erase_picture, [stream, *box], erase_view, **QUIET)
    stream.change(grid_picture, stream, grid, **QUIET)
    stream.change(erase_picture, [stream, *box], erase_view, **QUIET)
    stream.change(current_prompt, stream, new_prompt, **QUIET)
    _edit_outputs(stream, seed, backend_name)
    return history, steps


def _erase_controls():
    with gr.Row():
        erase_view = Picture(
            label="Structure over the colour grid: click two corners of the box to erase",
            interactive=False,
            elem_id="erase-view",
        )
        with gr.Column():
            corners = {"x0 (left)": 0.25, "y0 (top)": 0.25, "x1 (right)": 0.75, "y1 (bottom)": 0.75}
            box = [gr.Slider(0, 1, value=v, label=name) for name, v in corners.items()]
            also_tex = gr.Checkbox(label="also texture (erase object)")
            erase_btn = gr.Button("Erase rectangle", elem_id="erase")
    corner = gr.State(False)  # whether the next click sets the second corner
    return box, also_tex, erase_btn, erase_view, corner


def _edit_outputs(stream: gr.State, seed: gr.Number, backend_name: str) -> None:
    with gr.Row():
        regen_btn = gr.Button("Regenerate", variant="primary", elem_id="regenerate")
        save_btn = gr.Button("Download the edited stream")
    file = gr.File(label="Edited .aigic")
    image = Picture(label="Regenerated (all layers)", interactive=False, elem_id="edit-image")
    save_btn.click(download, stream, file, api_name="download")
    regen_btn.click(make_regenerate(backend_name), [stream, seed], image, api_name="regenerate")


__all__ = ["build", "start"]
