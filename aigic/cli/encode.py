"""``aigic encode IMAGE -o OUT.aigic`` (or a folder, glob, CSV or shards ``-o OUT.parquet``).

Its flags are EncodeSettings' own declarations (encoder/settings.py: help, choices, defaults),
one ``--flag`` per setting; the sentences it prints after an encode are notes.encode_notes'.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from .. import api
from .. import notes as messages
from ..encoder.settings import DEFAULTS, OPTIONS, EncodeSettings
from ..info import inspect
from .common import layers_arg, write_bytes

HELP = "compress an image into a .aigic stream"
TYPES = {"int": int, "float": float}  # a setting's type -> how its flag's text is read


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _type(annotation: str):
    """int / float for a setting annotated ``int | None`` or ``float``; else text."""
    return TYPES.get(annotation.split("|")[0].strip(), str)


def add_settings(p: argparse.ArgumentParser) -> None:
    """One flag per declared setting, with its help, choices and default as declared."""
    for f in fields(EncodeSettings):
        opt, default = OPTIONS.get(f.name), DEFAULTS[f.name]
        if opt is None:
            continue
        if f.name == "layers":
            p.add_argument(_flag(f.name), help=opt.help)
        elif isinstance(default, bool):
            p.add_argument(_flag(f.name), action="store_true", help=opt.help)
        elif opt.names or opt.choices:
            choices = list(opt.names.values()) if opt.names else list(opt.choices)
            shown = opt.written(default) if default is not None else None
            p.add_argument(_flag(f.name), choices=choices, default=shown, help=opt.help)
        else:
            p.add_argument(_flag(f.name), type=_type(f.type), default=default, help=opt.help)
        if opt.off:
            flag, text = opt.off
            p.add_argument("--" + flag, action="store_true", help=text)


def settings_from(a: argparse.Namespace) -> EncodeSettings:
    """The EncodeSettings the flags in ``a`` ask for."""
    values = {}
    for f in fields(EncodeSettings):
        opt = OPTIONS.get(f.name)
        if opt is None:
            continue
        value = getattr(a, f.name)
        if f.name == "layers":
            value = layers_arg(value) or DEFAULTS["layers"]
        elif opt.names and value is not None:
            value = opt.read(value)
        if opt.off and getattr(a, opt.off[0].replace("-", "_")):
            value = ""
        values[f.name] = value
    return EncodeSettings(**values)


def arguments(e: argparse.ArgumentParser) -> None:
    e.add_argument("input", help="an image, or a folder / glob / CSV / .tar shards of them")
    e.add_argument("-o", "--output", required=True, help="OUT.aigic (a collection: OUT.parquet)")
    add_settings(e)


def run(a) -> None:
    from .encode_many import is_collection
    from .encode_many import run as run_many

    settings = settings_from(a)
    if is_collection(a):
        return run_many(a, settings)
    result = api.encode_result(a.input, settings)
    write_bytes(a.output, result.data)
    info = inspect(result.data)
    summary = messages.layer_summary(info, result.style)
    print(f"{a.output}: {info.total_bytes} bytes, {info.bpp:.4f} bpp ({summary})")
    for note in messages.encode_notes(result, info):
        print(f"{note.level}: {note.text}{note.cli}", file=sys.stderr)
