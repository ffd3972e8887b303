"""``aigic edit IN.aigic -o OUT.aigic``: change one layer without decoding; the rest stay
byte-identical."""

from __future__ import annotations

import argparse

from .. import api, edit
from ..imaging.images import load_image
from ..layers import LAYERS
from .common import box_arg, read_stream, recolor_arg, write_bytes

HELP = "edit a stream without decoding it"


def arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument("input")
    t.add_argument("-o", "--output", required=True)
    t.add_argument("--prompt")
    t.add_argument("--drop", action="append", choices=list(LAYERS))
    t.add_argument("--recolor", action="append", metavar="ROW,COL=RRGGBB")
    t.add_argument(
        "--sketch",
        metavar="IMAGE",
        help="replace the structure with a drawing (white lines on black), on the grid of the "
        "edge map it replaces",
    )
    t.add_argument(
        "--sketch-lossless",
        action="store_true",
        help="with --sketch: code the drawing whole at the coding size instead",
    )
    t.add_argument(
        "--erase", metavar="X0,Y0,X1,Y1", help="clear structure in a box (0..1 fractions)"
    )
    t.add_argument(
        "--erase-texture", action="store_true", help="with --erase: also refill the colour grid"
    )


def run(a) -> None:
    before = data = read_stream(a.input)
    if a.prompt is not None:
        data = edit.set_prompt(data, a.prompt)
    for spec in a.recolor or []:
        cell, colour = recolor_arg(spec)
        data = edit.recolor(data, [cell], colour)
    if a.sketch:
        drawing = load_image(a.sketch)[0]
        data = edit.draw_structure(data, drawing, keep_grid=not a.sketch_lossless)
    if a.erase:
        data = edit.erase_rect(data, box_arg(a.erase), texture=a.erase_texture)
    for layer in a.drop or []:
        data = edit.drop(data, layer)
    write_bytes(a.output, data)
    changes = ", ".join(f"{k} {v}" for k, v in api.changed_layers(before, data).items())
    print(f"{a.output}: {len(data)} bytes ({changes})")
