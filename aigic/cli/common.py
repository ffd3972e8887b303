"""What every command shares: reading and writing files as one-line errors, the value syntaxes
of some flags, and the decode progress bar."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import AigicError


def read_stream(arg: str) -> bytes:
    """A stream argument: a file, or a link that carries the stream (``aigic inspect --link``)."""
    if arg.startswith(("http://", "https://")) and not Path(arg).exists():
        from ..links import from_link

        return from_link(arg)
    return read_bytes(arg)


def read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AigicError(f"cannot read {path!r}: {exc.strerror}") from None


def write_bytes(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise AigicError(f"cannot write {path!r}: {exc.strerror}") from None


def layers_arg(text: str | None) -> tuple[str, ...] | None:
    """``--layers semantic,texture`` -> ('semantic', 'texture'); None when not given."""
    return tuple(x.strip() for x in text.split(",")) if text else None


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


class progress_bar:
    """A tqdm bar fed by a backend's progress(step, total) callback (stderr, only if wanted)."""

    def __init__(self, wanted: bool):
        self.wanted, self.bar = wanted, None

    def __enter__(self):
        return self.update if self.wanted else None

    def update(self, step: int, total: int) -> None:
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="decoding", unit="step", file=sys.stderr)
        self.bar.update(step - self.bar.n)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
