"""``aigic export IN.aigic DIR``: each decoded layer as a file people can open."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import read_stream

HELP = "write each decoded layer as a file people can open"


def arguments(x: argparse.ArgumentParser) -> None:
    x.add_argument("input")
    x.add_argument("directory")


def run(a) -> None:
    from ..export import export

    for path in export(read_stream(a.input), Path(a.directory)):
        print(path)
