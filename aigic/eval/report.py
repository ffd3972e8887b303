"""The outputs of ``aigic eval``: the merged CSV, the table laid out like the paper's, plots.

rows.rank*.csv --merge--> rows.csv (one row per item x codec x preset x layers)
rows --report--> table.md: one row per codec / preset / layers; columns: images, median
    bpp, mean of every metric (empty where the metric could not run here) + rate_<m>.png
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from statistics import mean, median

HIGHER = {"psnr": True, "ms_ssim": True, "clip_i2i": True, "clip_t2i": True, "lpips": False}
HIGHER |= {"dists": False, "niqe": False, "fid": False, "kid": False}


def merge(out: Path, columns) -> list[dict]:
    """Every rank's rows, deduplicated by (key, codec, preset, layers), into rows.csv."""
    rows: dict[tuple, dict] = {}
    for path in sorted(out.glob("rows.rank*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                rows[(r["key"], r["codec"], r["preset"], r["layers"])] = r
    ordered = [rows[k] for k in sorted(rows)]
    with open(out / "rows.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(ordered)
    return ordered


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _cell(values: list[float]) -> str:
    kept = [v for v in values if not math.isnan(v)]
    return f"{mean(kept):.4f}" if kept else ""


def _given(dim: int):
    """A 'feature extractor' returning its input, so torchmetrics' FID and KID run on the
    feature vectors stored per row."""
    import torch

    class Given(torch.nn.Module):
        num_features = dim

        def forward(self, x):
            return x

    return Given()


def set_level(rows: list[dict], path_of) -> dict:
    """{(codec, preset, layers): {"fid": .., "kid": ..}} from the rows' stored features
    (``path_of(key, codec, preset, layers)``) against the originals'; {} without features."""
    import numpy as np
    import torch
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["codec"], r["preset"], r["layers"])].append(r)
    out = {}
    for group, members in groups.items():
        if group[0] == "original":
            continue  # the reference itself
        paths = [
            (path_of(r["key"], "original", "-", "-"), path_of(r["key"], *group)) for r in members
        ]
        if len(paths) < 2 or not all(a.exists() and b.exists() for a, b in paths):
            continue
        real = torch.from_numpy(np.stack([np.load(a) for a, _ in paths]))
        fake = torch.from_numpy(np.stack([np.load(b) for _, b in paths]))
        fid = FrechetInceptionDistance(feature=_given(real.shape[1]))
        kid = KernelInceptionDistance(feature=_given(real.shape[1]), subset_size=len(paths))
        for metric in (fid, kid):
            metric.update(real, real=True)
            metric.update(fake, real=False)
        out[group] = {"fid": float(fid.compute()), "kid": float(kid.compute()[0])}
    return out


def report(
    rows: list[dict], out: Path, per_item, per_set, missing: dict, decoder: str, sets=None
) -> str:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["codec"], r["preset"], r["layers"])].append(r)
    metrics = [*per_item, *per_set]
    arrows = [f"{m} {'↑' if HIGHER.get(m, True) else '↓'}" for m in metrics]
    lines = [
        f"| codec | preset | layers | images | bpp (median) | {' | '.join(arrows)} |",
        "| --- | --- | --- | --- | --- |" + " --- |" * len(metrics),
    ]
    for (codec, preset, layers), group in sorted(groups.items()):
        bpp = median(_num(r["bpp"]) for r in group)
        found = (sets or {}).get((codec, preset, layers), {})
        cells = [_cell([_num(r.get(m)) for r in group]) for m in per_item]
        cells += [f"{found[m]:.4f}" if m in found else "" for m in per_set]
        name = f"aigic ({decoder})" if codec == "aigic" else codec
        lines.append(
            f"| {name} | {preset} | {layers} | {len(group)} | {bpp:.4f} | {' | '.join(cells)} |"
        )
    notes = [f"- {m}: empty: {why}" for m, why in missing.items()]
    table = "\n".join(lines + ([""] + notes if notes else []))
    (out / "table.md").write_text(table + "\n", encoding="utf-8")
    _plots(groups, out, [m for m in per_item if m not in missing])
    return table


def _plots(groups: dict, out: Path, metrics: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for m in metrics:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for (codec, preset, layers), group in sorted(groups.items()):
            xs = [_num(r["bpp"]) for r in group]
            ys = [_num(r.get(m)) for r in group]
            ax.scatter(xs, ys, s=12, label=f"{codec} {preset} {layers}")
        ax.set_xscale("log")
        ax.set_xlabel("bpp (coding size)")
        ax.set_ylabel(m)
        ax.legend(fontsize=6)
        fig.tight_layout()
        fig.savefig(out / f"rate_{m}.png", dpi=120)
        plt.close(fig)
