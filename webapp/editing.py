"""The Edit tab's pictures and history: edits you can aim, and every step undoable.

stream --grid_picture--> the colour grid, one square per cell, "row,col" in each
                          (a click on it picks that cell: pick_cell)
stream + box --erase_picture--> structure over the colour grid, the box drawn in red
                          (two clicks on it set the box's corners: pick_corner)
history = [stream versions]: record() after each edit, undo() back one step, the table
          says what each step did to each layer
"""

from __future__ import annotations

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from aigic import api

from .views import LAYERS, UserError, edit_views, need_stream, stream_layers, user_errors

MAX_SIDE = 768  # the grid picture's longest side in pixels
ERASE_SIDE = 512


def cell_size(grid_shape: tuple[int, int]) -> int:
    """Pixels per cell of the grid picture for a (rows, columns) grid."""
    return max(16, min(64, MAX_SIDE // max(grid_shape)))


def grid_picture(data) -> np.ndarray | None:
    """The stream's colour grid with each cell's "row,col" written in it."""
    if not data:
        return None
    lay = stream_layers(data)
    if lay.texture is None:
        return None
    grid = lay.texture.grid()
    rows, cols = grid.shape[:2]
    s = cell_size((rows, cols))
    img = Image.fromarray(grid).resize((cols * s, rows * s), Image.NEAREST)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(8, s // 4))
    for r in range(rows):
        for c in range(cols):
            light = grid[r, c].astype(int) @ (299, 587, 114) > 128_000
            ink = (0, 0, 0) if light else (255, 255, 255)
            draw.rectangle([c * s, r * s, (c + 1) * s - 1, (r + 1) * s - 1], outline=(128,) * 3)
            draw.text((c * s + 3, r * s + 2), f"{r},{c}", fill=ink, font=font)
    return np.asarray(img)


@user_errors
def pick_cell(data, evt: gr.SelectData):
    """The (row, column) of the grid picture's cell that was clicked."""
    data = need_stream(data)
    lay = stream_layers(data)
    if lay.texture is None:
        raise UserError("the stream has no texture layer: there is no grid to pick from")
    rows, cols = lay.texture.q.shape[:2]
    s = cell_size((rows, cols))
    x, y = evt.index
    return min(int(y) // s, rows - 1), min(int(x) // s, cols - 1)


def erase_picture(data, x0, y0, x1, y1) -> np.ndarray | None:
    """The structure map over the colour grid (what the edit will change), the erase box in
    red: the box is in 0..1 fractions of the image, as the sliders hold it."""
    if not data:
        return None
    lay = stream_layers(data)
    w, h = lay.size
    scale = ERASE_SIDE / max(w, h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    base = np.full((size[1], size[0], 3), 96, np.uint8)
    if lay.texture is not None:
        base = np.asarray(Image.fromarray(lay.texture.grid()).resize(size, Image.NEAREST))
    img = Image.fromarray((base * 0.6).astype(np.uint8))
    if lay.structure is not None:
        edges = Image.fromarray(lay.structure.condition(lay.size)).convert("L").resize(size)
        img.paste((255, 255, 255), mask=edges)
    box = [min(v, 1.0) for v in (x0, y0, x1, y1)]
    draw = ImageDraw.Draw(img)
    corners = [box[0] * size[0], box[1] * size[1], box[2] * size[0], box[3] * size[1]]
    if corners[2] > corners[0] and corners[3] > corners[1]:
        draw.rectangle(corners, outline=(255, 40, 40), width=3)
    return np.asarray(img)


def pick_corner(data, first_done: bool, x0, y0, x1, y1, evt: gr.SelectData):
    """A click on the erase picture: the first sets the box's top-left corner, the next its
    bottom-right one (the two are sorted, so any two opposite corners work)."""
    if not data:
        return x0, y0, x1, y1, first_done
    lay = stream_layers(data)
    w, h = lay.size
    scale = ERASE_SIDE / max(w, h)
    fx = min(max(evt.index[0] / (w * scale), 0.0), 1.0)
    fy = min(max(evt.index[1] / (h * scale), 0.0), 1.0)
    if not first_done:
        return fx, fy, max(x1, fx), max(y1, fy), True
    return min(x0, fx), min(y0, fy), max(x0, fx), max(y0, fy), False


def current_prompt(data) -> str:
    """The stream's prompt, to start the New prompt box from."""
    if not data:
        return ""
    lay = stream_layers(data)
    return lay.semantic.text if lay.semantic is not None else ""


HISTORY_HEADERS = ["step", "edit", *LAYERS]


def history_table(history) -> list[list]:
    """One row per edit: what it did to each layer (against the version before it)."""
    rows = []
    for i, (label, data) in enumerate(history[1:], start=1):
        changed = api.changed_layers(history[i - 1][1], data)
        rows.append([i, label, *(changed.get(x, "absent") for x in LAYERS)])
    return rows


def start(data):
    """A new stream (encoded or loaded): the history starts from it."""
    history = [("start", data)] if data else []
    return history, history_table(history)


def record(label: str):
    """After an edit named ``label``: the new stream joins the history."""

    def _record(history, data):
        history = list(history or [])
        if data and (not history or history[-1][1] != data):
            history.append((label, data))
        return history, history_table(history)

    return _record


NOTHING_TO_UNDO = "Nothing to undo: no edit since the stream was encoded or loaded."


@user_errors
def undo(history):
    """Back one step: (the stream before the last edit, the history without it, its table,
    what undoing did to each layer, the restored stream's summary). With no edit to undo the
    page is told so (information, not an error) and nothing changes."""
    history = list(history or [])
    if len(history) < 2:
        gr.Info(NOTHING_TO_UNDO)
        return (gr.skip(),) * 5
    label, undone = history.pop()
    data, rows, text = edit_views(undone, history[-1][1])
    return data, history, history_table(history), rows, f"Undid **{label}**.\n\n{text}"
