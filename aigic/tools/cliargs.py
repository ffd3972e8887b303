"""The command line's arguments: one parser per ``aigic`` command (cli.py runs them).

argv --build_parser()--> Namespace(command="encode", input=..., ...) --cli.COMMANDS--> run

Values with a syntax of their own (``--profile``, ``edit --recolor``, ``--erase``) are parsed
by the functions at the end, into an AigicError naming the expected form when malformed.
"""

from __future__ import annotations

import argparse

from ..encoder.presets import PRESETS
from ..encoder.reduce import STYLES
from ..errors import AigicError
from ..format.codes import profile_names
from ..layers import LAYERS
from .cliargs_more import bench_decode_args, bench_prompts_args, eval_args, models_args

LAYERS_HELP = "comma-separated subset of semantic,structure,texture"


def _encode(e: argparse.ArgumentParser) -> None:
    e.add_argument("input")
    e.add_argument("-o", "--output", required=True)
    e.add_argument("--prompt", help="the semantic layer (default: from the image's metadata)")
    e.add_argument("--layers", help=LAYERS_HELP)
    e.add_argument(
        "--structure",
        default="auto",
        choices=["auto", "canny", "sketch", "pose"],
        help="auto (default): a PiDiNet sketch when its weights are available, else canny",
    )
    e.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="rate at the coding size: tiny <= 0.003 bpp (prompt + colours), default <= 0.010, "
        "fine <= 0.020; lossless keeps the whole edge map (default: default)",
    )
    e.add_argument("--budget", type=int, help="maximum stream size in bytes")
    e.add_argument("--bpp", type=float, help="maximum bits per pixel (of the original size)")
    e.add_argument(
        "--factor", type=float, help="structure grid factor (1 = lossless); overrides the preset"
    )
    e.add_argument(
        "--style",
        default="auto",
        choices=["auto", *STYLES],
        help="lossy edge map: auto (default: lines for Canny, strokes for a sketch), lines "
        "(thinned, a line drawing), strokes (smooth strokes, PiDiNet-like) or cells (textured "
        "regions kept filled as a lattice; unverified with Stable Diffusion)",
    )
    e.add_argument("--seed", type=int, default=0)
    e.add_argument(
        "--full-prompt",
        action="store_true",
        help="send the whole prompt (default: cut at the tokens the decoder profile reads)",
    )
    e.add_argument(
        "--negative",
        help="the negative prompt to carry (default: the image's own, from its metadata, when "
        "it fits the rate; the decoder's fixed one otherwise)",
    )
    e.add_argument(
        "--no-negative", action="store_true", help="carry no negative prompt, even the image's"
    )
    e.add_argument(
        "--caption",
        default="auto",
        choices=["auto", "none", "blip", "blip2"],
        help="caption images without a prompt (auto: BLIP when its weights are cached)",
    )
    e.add_argument(
        "--profile",
        default="sd15-dpm25-a1111",
        choices=list(profile_names().values()),
        help="decoder profile stored in the stream (default sd15-dpm25-a1111: 25 steps, the "
        "prompt read as A1111 reads it; sd15-lcm4-a1111: the fast 4-step decode)",
    )


def _decode(d: argparse.ArgumentParser) -> None:
    d.add_argument("input")
    d.add_argument("-o", "--output", required=True)
    d.add_argument("--layers", help=LAYERS_HELP)
    d.add_argument("--backend", default="auto", choices=["auto", "preview", "sd15"])
    d.add_argument("--seed", type=int, help="override the stream's seed")
    d.add_argument(
        "--profile", choices=list(profile_names().values()), help="override the stream's profile"
    )
    d.add_argument("--device", help="sd15: torch device (default: cuda if present, else cpu)")
    d.add_argument("--offload", action="store_true", help="sd15: model CPU offload (low VRAM)")
    d.add_argument(
        "--dtype",
        default="auto",
        choices=["auto", "fp32", "bf16", "fp16"],
        help="sd15: number type (auto: fp16 on CUDA, bf16 on a CPU with native bf16, else fp32)",
    )
    d.add_argument(
        "--partial", action="store_true", help="use the intact layers of a damaged stream"
    )


def _inspect(i: argparse.ArgumentParser) -> None:
    i.add_argument("input")
    i.add_argument("--json", action="store_true")


def _edit(t: argparse.ArgumentParser) -> None:
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


def _export(x: argparse.ArgumentParser) -> None:
    x.add_argument("input")
    x.add_argument("directory")


def _bench(b: argparse.ArgumentParser) -> None:
    b.add_argument("directory")
    b.add_argument("--size", type=int, default=512)
    b.add_argument("--out", default="bench-out")
    b.add_argument(
        "--settings",
        default="tiny,default,fine,lossless,budget:250,budget:400,budget:600,"
        "default/lines,fine/lines",
        help="comma-separated presets or budget:BYTES, each optionally /lines or /cells "
        "(the edge style; default auto)",
    )
    b.add_argument("--limit", type=int)
    b.add_argument(
        "--structure",
        default="canny",
        choices=["canny", "sketch"],
        help="the structure kind encoded and the reference it is judged against: Canny(100, "
        "200) by matched F1, or PiDiNet (weights via AIGIC_MODEL_DIR or the cache) by Dice",
    )


def _fuzz(f: argparse.ArgumentParser) -> None:
    f.add_argument("--count", type=int, default=100_000)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--limit", type=float, default=1.0, help="seconds allowed per input")
    f.add_argument(
        "--metadata",
        action="store_true",
        help="fuzz the image-metadata readers (A1111, ComfyUI, InvokeAI, EXIF, XMP) instead",
    )


COMMANDS = {  # name: (help, arguments)
    "encode": ("compress an image into a .aigic stream", _encode),
    "decode": ("reconstruct an image from a stream", _decode),
    "inspect": ("show the chunks, sizes and layers of a stream", _inspect),
    "edit": ("edit a stream without decoding it", _edit),
    "export": ("write each decoded layer as a file people can open", _export),
    "bench": ("rate and fidelity over a folder of images", _bench),
    "fuzz": ("fuzz the parser and every layer decoder", _fuzz),
    "models": ("list or download the decoder's weights", models_args),
    "eval": ("decoded-image quality over a dataset, beside JPEG/WebP/AVIF", eval_args),
    "bench-decode": (
        "time the Stable Diffusion decode at full size (random weights)",
        bench_decode_args,
    ),
    "bench-prompts": ("the prompt coder on held-out prompts", bench_prompts_args),
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (exit 2), like every other error:
    what is wrong and where the command's help is, without the usage block."""

    def error(self, message: str):
        self.exit(2, f"aigic: error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="aigic", description="Layered ultra-low-bitrate codec for AI-generated images."
    )
    from .. import __version__
    from ..format.codes import FORMAT_MAJOR, FORMAT_MINOR

    p.add_argument(
        "--version",
        action="version",
        version=f"aigic {__version__} (writes stream format {FORMAT_MAJOR}.{FORMAT_MINOR})",
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, (text, arguments) in COMMANDS.items():
        arguments(sub.add_parser(name, help=text))
    return p


def recolor_arg(text: str):
    """``edit --recolor ROW,COL=RRGGBB`` -> ((row, col), (r, g, b))."""
    try:
        cell, colour = text.split("=")
        row, col = (int(v) for v in cell.split(","))
        colour = colour.lstrip("#")
        return (row, col), tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        raise AigicError(f"--recolor {text!r}: expected ROW,COL=RRGGBB, e.g. 0,3=ff8800") from None


def box_arg(text: str) -> list[float]:
    """``edit --erase X0,Y0,X1,Y1`` (fractions of the image) -> the four numbers."""
    try:
        box = [float(v) for v in text.split(",")]
    except ValueError:
        box = []
    if len(box) != 4:
        raise AigicError(f"--erase {text!r}: expected X0,Y0,X1,Y1 as fractions, e.g. 0,0,0.5,0.5")
    return box


def profile_arg(name: str) -> int:
    """A decoder profile's name -> its code in the stream."""
    codes = {v: k for k, v in profile_names().items()}
    if name not in codes:
        raise AigicError(f"unknown profile {name!r}: choose from {', '.join(codes)}")
    return codes[name]
