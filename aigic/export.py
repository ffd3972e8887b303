"""``aigic export``: each decoded layer as a file people can open."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from .api import read_layers
from .errors import AigicError
from .info import inspect


def export(data: bytes, directory: Path) -> list[Path]:
    """Write prompt.txt, structure.png, texture.png (those present) and header.json."""
    lay = read_layers(data)
    info = inspect(data)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        if lay.semantic is not None:
            (directory / "prompt.txt").write_text(lay.semantic.text, encoding="utf-8")
            written.append(directory / "prompt.txt")
        if lay.structure is not None:
            Image.fromarray(lay.structure.condition(lay.size)).save(directory / "structure.png")
            written.append(directory / "structure.png")
        if lay.texture is not None:
            Image.fromarray(lay.texture.grid()).save(directory / "texture.png")
            written.append(directory / "texture.png")
        keys = ("version", "width", "height", "seed", "profile", "coding_size", "total_bytes")
        header = {k: v for k, v in info.to_dict().items() if k in (*keys, "bpp", "chunks")}
        (directory / "header.json").write_text(json.dumps(header, indent=1), encoding="utf-8")
        written.append(directory / "header.json")
    except OSError as exc:
        raise AigicError(f"cannot write to {str(directory)!r}: {exc.strerror}") from None
    return written
