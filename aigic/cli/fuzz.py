"""``aigic fuzz [--metadata]``: the parser and every layer decoder (or the image-metadata
readers) under mutated inputs; any failure is listed with its input and exits 2."""

from __future__ import annotations

import argparse

from ..errors import AigicError

HELP = "fuzz the parser and every layer decoder"


def arguments(f: argparse.ArgumentParser) -> None:
    f.add_argument("--count", type=int, default=100_000)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--limit", type=float, default=1.0, help="seconds allowed per input")
    f.add_argument(
        "--metadata",
        action="store_true",
        help="fuzz the image-metadata readers (A1111, ComfyUI, InvokeAI, EXIF, XMP) instead",
    )


def run(a) -> None:
    if a.metadata:
        from ..testing.fuzz_metadata import run

        report = run(a.count, seed=a.seed, limit_s=a.limit, progress=True)
        print(report.summary("prompts found", "no prompt (junk skipped)"))
    else:
        from ..testing.fuzz import run

        report = run(a.count, seed=a.seed, limit_s=a.limit, progress=True)
        print(report.summary())
    for how, what, data in report.failures[:20]:
        print(f"FAIL ({how}): {what}\n  input: {data[:400]}")
    if report.failures:
        raise AigicError(f"{len(report.failures)} fuzz failures")
