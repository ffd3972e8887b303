"""``aigic bench-prompts``: the prompt coder on prompts it was not trained on.

    prompts.tsv --every 10th prompt (the slice scripts/train_prompt_model.py holds out)-->
    [+ the prompts of --manifest CSVs (columns file, prompt), e.g. aigi_dev's]
      --SemanticLayer(prompt).to_payload()--> bytes, beside zlib-9 and brotli-11 of the UTF-8
      --> median ratios to zlib-9 / brotli-11: all, >= 400 characters, with emphasis syntax
          (and, of those, with explicit weights or doubled brackets); the largest excess over
          min(zlib-9, brotli-11) + 2 bytes (the issue's bound)

A prompt has emphasis syntax when the decoder reads it with weights: its A1111 parser
(aigic.backends.prompts.parse_attention) gives some text a weight other than 1 -- ``(text)``,
``[text]``, ``(text:1.2)``, nested brackets -- or splits it at ``BREAK``. The narrower group
``EMPHASIS`` (``(text:1.2)``, ``((``, ``[[``, ``BREAK``) is what prompt model v2 left out of its
training, so one more line measures v2 alone (semantic codec 4) on every such prompt of the
file and the manifests; the full coder is not used there, since v1 trained on some of them.
"""

from __future__ import annotations

import argparse
import csv
import re
import zlib
from pathlib import Path

import numpy as np

from ..errors import AigicError
from ..layers import SemanticLayer

HELP = "the prompt coder on held-out prompts"


def arguments(b: argparse.ArgumentParser) -> None:
    b.add_argument(
        "prompts",
        nargs="?",
        default="../shared/data/prompts/prompts.tsv",
        help="a prompts.tsv (id, source, prompt, ...); its every 10th prompt is measured",
    )
    b.add_argument(
        "--manifest",
        action="append",
        default=[],
        help="also measure the prompts of this manifest.csv (columns file, prompt); repeatable",
    )
    b.add_argument("--limit", type=int, help="measure at most N prompts")


LONG = 400  # characters
EMPHASIS = re.compile(r"\([^()]+:\s*-?[\d.]+\s*\)|\(\(|\[\[|\bBREAK\b")


def weighted(prompt: str) -> bool:
    """Whether the decoder reads ``prompt`` with emphasis: a weight other than 1, or BREAK."""
    from ..backends.prompts import parse_attention

    parts = parse_attention(prompt)
    return len(parts) > 1 or any(w != 1.0 for part in parts for _, w in part)


def read_prompts(tsv: Path) -> list[str]:
    """The prompts of a prompts.tsv (a header, then id, source, prompt, ... per line)."""
    lines = tsv.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t")[2] for line in lines if line.count("\t") >= 3]


def held_out(index: int) -> bool:
    """Whether the prompt on line ``index`` of a prompts.tsv is held out of training."""
    return index % 10 == 0


def manifest_prompts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [r["prompt"] for r in csv.DictReader(f) if r.get("prompt")]


def measure(prompt: str) -> tuple[int, int, int]:
    """(ours, zlib-9, brotli-11) bytes of one prompt."""
    import brotli

    raw = prompt.encode("utf-8")
    ours = len(SemanticLayer(prompt).to_payload())
    return ours, len(zlib.compress(raw, 9)), len(brotli.compress(raw, quality=11))


def v2_alone(prompts: list[str]) -> str:
    """The line on every prompt of the EMPHASIS group (which v2 never trained on), coded by
    prompt model v2 alone."""
    from ..models.prompt import load_model_v2

    chosen = [p for p in dict.fromkeys(prompts) if EMPHASIS.search(p)]
    if not chosen:
        return "  (x:w), ((, [[, BREAK, all: none"
    ratios = [
        (1 + len(load_model_v2().encode(p))) / len(zlib.compress(p.encode(), 9)) for p in chosen
    ]
    return (
        f"  (x:w), ((, [[, BREAK, all: {len(chosen):>5} prompts (the whole file and manifests), "
        f"prompt model v2 alone (never trained on them): ratio to zlib-9 {np.median(ratios):.3f}x"
    )


def report(prompts: list[str], rows: np.ndarray) -> list[str]:
    chars = np.array([len(p) for p in prompts])
    emphasis = np.array([weighted(p) for p in prompts])
    explicit = np.array([bool(EMPHASIS.search(p)) for p in prompts])
    lines = []
    for name, sel in (
        ("all     ", np.ones(len(prompts), bool)),
        (f">= {LONG} ch", chars >= LONG),
        ("emphasis", emphasis),
        ("  of which (x:w), ((, [[, BREAK", explicit),
    ):
        if not sel.any():
            lines.append(f"  {name}: none")
            continue
        r = rows[sel]
        lines.append(
            f"  {name}: {sel.sum():>5} prompts, ours {np.median(r[:, 0]):.0f} B; ratio to "
            f"zlib-9 {np.median(r[:, 0] / r[:, 1]):.3f}x, to brotli-11 "
            f"{np.median(r[:, 0] / r[:, 2]):.3f}x"
        )
    excess = rows[:, 0] - (rows[:, 1:].min(1) + 2)
    worst = int(np.argmax(excess))
    lines.append(
        f"  bound   : largest excess over min(zlib-9, brotli-11) + 2 B: {int(excess[worst])} B "
        f"({'met' if excess[worst] <= 0 else 'MISSED'}; {len(prompts[worst])}-character prompt)"
    )
    return lines


def run(args) -> None:
    from tqdm import tqdm

    tsv = Path(args.prompts)
    if not tsv.is_file():
        raise AigicError(f"bench-prompts: {args.prompts!r} is not a prompts.tsv file")
    every = read_prompts(tsv)
    prompts = [p for i, p in enumerate(every) if held_out(i)]
    for m in args.manifest:
        if not Path(m).is_file():
            raise AigicError(f"bench-prompts: manifest {m!r} not found")
        listed = manifest_prompts(Path(m))
        prompts += listed
        every += listed
    prompts = [p for p in prompts if p.strip()][: args.limit]
    if not prompts:
        raise AigicError(f"bench-prompts: no prompts in {args.prompts!r}")
    rows = np.array([measure(p) for p in tqdm(prompts, desc="prompts", unit="prompt")], float)
    print(f"prompt coder on {len(prompts)} prompts not trained on (medians):")
    print("\n".join(report(prompts, rows)))
    print(v2_alone(every))
