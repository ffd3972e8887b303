"""``aigic eval``: decoded-image quality over a dataset, beside JPEG, WebP and AVIF.

    SOURCE --eval_sources.items--> images (+ prompts)
      --encode each at each preset (a local process pool)--> streams
      --this process's share (accelerate: rank r of n takes items r, r+n, ...)-->
        decode (each progressive layer subset when asked) and the baselines at the stream's
        size (or the nearest they can reach) --eval_metrics--> one row per item x codec x
        preset x layers, appended to rows.rank<r>.csv (a rerun skips the rows it has)
      --the main process, once all are done--> rows.csv, table.md (laid out like the paper's
        table: medians of bpp, means of each metric), rate_<metric>.png

The same command runs on one CPU, one GPU or many (``accelerate launch -m aigic eval ...``);
everything is measured at the coding size against the original.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import api
from ..errors import AigicError
from ..layers import SUBSETS
from .metrics import PER_ITEM, PER_SET, Metrics
from .sources import items

HELP = "decoded-image quality over a dataset, beside JPEG/WebP/AVIF"


def arguments(v: argparse.ArgumentParser) -> None:
    v.add_argument(
        "source", help="a folder, a glob, a CSV of paths and prompts, Parquet or .tar shards"
    )
    v.add_argument("--decoder", default="preview", choices=["preview", "sd15"])
    v.add_argument("--presets", default="default", help="comma-separated presets")
    v.add_argument(
        "--layers-progressive", action="store_true", help="also decode each layer subset"
    )
    v.add_argument(
        "--baselines", default="jpeg,webp,avif", help="comma-separated: jpeg, webp, avif ('' none)"
    )
    v.add_argument(
        "-o",
        "--output",
        "--out",
        dest="out",
        default="eval-out",
        help="folder for rows.csv, table.md, plots",
    )
    v.add_argument("--limit", type=int, help="at most this many images")
    v.add_argument("--workers", type=int, help="encoding processes (default: all cores)")


BASELINES = {"jpeg": ("JPEG", 1, 95), "webp": ("WEBP", 0, 100), "avif": ("AVIF", 0, 100)}
LAYER_BPP = ("bpp_semantic", "bpp_structure", "bpp_texture")
COLUMNS = ("key", "codec", "preset", "layers", "bytes", "bpp", *LAYER_BPP, *PER_ITEM)


def _original(data: bytes) -> np.ndarray:
    from ..format.limits import coding_size
    from ..imaging.images import load_image, to_array

    img, _meta = load_image(data)
    return to_array(img, coding_size(*img.size))


def _encode(job) -> tuple[str, str, bytes | str]:
    """One (key, preset, image bytes, prompt) -> (key, preset, stream or an error line)."""
    key, preset, data, prompt = job
    try:
        return key, preset, api.encode(data, prompt=prompt, preset=preset)
    except (AigicError, ValueError) as exc:
        return key, preset, f"{key}: {exc}"


def nearest(rgb: np.ndarray, fmt: str, target: int) -> tuple[int, np.ndarray] | None:
    """``rgb`` in ``fmt`` at the highest quality within ``target`` bytes (else the lowest
    quality, the nearest it can reach): (bytes, decoded RGB), or None where PIL lacks ``fmt``."""
    from PIL import Image

    name, lo, hi = BASELINES[fmt]
    img = Image.fromarray(rgb)

    def coded(q: int) -> bytes:
        buf = io.BytesIO()
        img.save(buf, name, quality=q)
        return buf.getvalue()

    try:
        best = coded(lo)
    except (KeyError, OSError, ValueError):
        return None
    while lo < hi:  # bytes grow with quality: the last quality within the target
        mid = (lo + hi + 1) // 2
        if len(trial := coded(mid)) <= target:
            lo, best = mid, trial
        else:
            hi = mid - 1
    out = np.asarray(Image.open(io.BytesIO(best)).convert("RGB"))
    return len(best), out


def _layer_bpp(stream: bytes, pixels: int) -> dict:
    sizes = {c.name: len(c.payload) for c in api.parse(stream).chunks}
    sizes["semantic"] = sizes.get("semantic", 0) + sizes.get("negative", 0)
    return {f"bpp_{n}": sizes.get(n, 0) * 8 / pixels for n in ("semantic", "structure", "texture")}


def feature_path(out: Path, key: str, codec: str, preset: str, layers: str) -> Path:
    """Where one row's feature vector (for FID / KID over its group) is kept."""
    import hashlib

    digest = hashlib.sha1(f"{key}|{codec}|{preset}|{layers}".encode()).hexdigest()
    return out / "features" / f"{digest}.npy"


def _keep_features(out: Path, metrics, rgb: np.ndarray, *row) -> None:
    path = feature_path(out, *row)
    if metrics.extractor is None or path.exists():
        return
    path.parent.mkdir(exist_ok=True)
    np.save(path, metrics.features(rgb))


def _done(out: Path) -> set[tuple]:
    keys = set()
    for path in out.glob("rows*.csv"):
        with open(path, newline="", encoding="utf-8") as f:
            keys |= {(r["key"], r["codec"], r["preset"], r["layers"]) for r in csv.DictReader(f)}
    return keys


def _prompt(stream: bytes) -> str:
    semantic = api.read_layers(stream, ("semantic",)).semantic
    return semantic.text if semantic else ""


def _original_row(key: str, size: int, original: np.ndarray, text: str, metrics) -> dict:
    """The image's own row: its no-reference metrics, the level its decodes are read against."""
    h, w = original.shape[:2]
    return {
        "key": key, "codec": "original", "preset": "-", "layers": "-", "bytes": size,
        "bpp": size * 8 / (w * h), **metrics.reference(original, text),
    }  # fmt: skip


@dataclass(frozen=True)
class _Run:
    """What every image of one eval run is measured with, and where its rows go."""

    subsets: list
    baselines: list
    backend: object  # a decoder backend (get_backend)
    metrics: Metrics
    done: set  # (key, codec, preset, layers) rows already written by an earlier run
    out: Path


def _rows_for(run: _Run, key: str, original, stream: bytes, preset):
    """The rows of one image at one preset not already done (features kept in ``run.out``)."""
    from PIL import Image

    h, w = original.shape[:2]
    text = _prompt(stream)
    for subset in run.subsets:
        if (key, "aigic", preset, subset) in run.done:
            continue
        img = api.decode(stream, layers=SUBSETS[subset], backend=run.backend)
        decoded = np.asarray(img.convert("RGB").resize((w, h), Image.LANCZOS))
        _keep_features(run.out, run.metrics, decoded, key, "aigic", preset, subset)
        yield {
            "key": key, "codec": "aigic", "preset": preset, "layers": subset,
            "bytes": len(stream), "bpp": len(stream) * 8 / (w * h),
            **_layer_bpp(stream, w * h), **run.metrics.score(original, decoded, text),
        }  # fmt: skip
    for fmt in run.baselines:
        if (key, fmt, preset, "-") in run.done:
            continue
        if (got := nearest(original, fmt, len(stream))) is None:
            continue
        size, decoded = got
        _keep_features(run.out, run.metrics, decoded, key, fmt, preset, "-")
        yield {
            "key": key, "codec": fmt, "preset": preset, "layers": "-", "bytes": size,
            "bpp": size * 8 / (w * h), **run.metrics.score(original, decoded, text),
        }  # fmt: skip


def _encode_all(todo: list, presets, workers: int) -> tuple[dict, list[str]]:
    """{(key, preset): stream} for every item x preset, on a local process pool."""
    from tqdm import tqdm

    jobs = [(it.key, p, data, it.prompt) for it in todo for data in (it.read(),) for p in presets]
    streams, errors = {}, []
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    results = pool.map(_encode, jobs) if pool else map(_encode, jobs)
    for key, preset, out in tqdm(results, total=len(jobs), desc="encode", disable=not jobs):
        if isinstance(out, bytes):
            streams[(key, preset)] = out
        else:
            errors.append(out)
    if pool:
        pool.shutdown()
    return streams, errors


def _backend(name: str, state):
    from ..backends import get_backend

    if name == "sd15":
        return get_backend("sd15", device=str(state.device))
    return get_backend(name)


def run(a, metrics: Metrics | None = None) -> None:
    """The command; ``metrics`` (default: every metric that can run here) for tests."""
    import torch
    from accelerate import PartialState
    from tqdm import tqdm

    from .report import merge, report, set_level

    # without CUDA, processes started by `accelerate launch` / torchrun share the work on CPUs
    state = PartialState(cpu=not torch.cuda.is_available())
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    presets = a.presets.split(",")
    subsets = list(SUBSETS) if a.layers_progressive else ["all"]
    baselines = [b for b in a.baselines.split(",") if b] if a.baselines else []
    bad = [b for b in baselines if b not in BASELINES]
    if bad:
        raise AigicError(f"unknown baseline {bad[0]!r}: choose from {', '.join(BASELINES)}")
    mine = items(a.source, a.limit)[state.process_index :: state.num_processes]
    done = _done(out)
    metrics = metrics or Metrics(device=str(state.device))
    if state.is_main_process:
        for name, why in metrics.missing.items():
            print(f"{name}: not measured here: {why}")
    run = _Run(subsets, baselines, _backend(a.decoder, state), metrics, done, out)
    streams, errors = _encode_all(mine, presets, a.workers or os.cpu_count() or 1)
    part = out / f"rows.rank{state.process_index}.csv"
    new = not part.exists()
    with open(part, "a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()

        def emit(rows) -> None:
            for row in rows:
                writer.writerow(row)
                f.flush()

        bar = tqdm(total=len(streams), desc=f"decode [{state.process_index}]")
        for item in mine:
            coded = [(p, streams[(item.key, p)]) for p in presets if (item.key, p) in streams]
            if not coded:
                continue
            data = item.read()  # once per image, whatever the presets
            original = _original(data)
            _keep_features(out, metrics, original, item.key, "original", "-", "-")
            if (item.key, "original", "-", "-") not in done:
                text = _prompt(coded[0][1])
                emit([_original_row(item.key, len(data), original, text, metrics)])
            for preset, stream in coded:
                emit(_rows_for(run, item.key, original, stream, preset))
                bar.update()
        bar.close()
    for line in errors:
        print(f"skipped {line}")
    state.wait_for_everyone()
    if state.is_main_process:
        rows = merge(out, COLUMNS)
        sets = set_level(rows, lambda *row: feature_path(out, *row))
        print(report(rows, out, PER_ITEM, PER_SET, metrics.missing, a.decoder, sets))
