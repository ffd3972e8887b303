"""What ``aigic bench`` writes: the CSV (one row per image and setting), the rate-fidelity plot
and the summary of medians with the side-by-side ratios (bench.py measures, this module reports).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

FIELDS = [  # the CSV's columns, one row per image and setting
    "file",
    "setting",
    "bytes_total",
    "bytes_semantic",
    "bytes_structure",
    "bytes_texture",
    "bytes_overhead",
    "bpp",
    "matched_f1",
    "precision",
    "recall",
    "edge_ratio",
    "tolerant_f1",
    "dice",
    "kind",
    "ciede2000",
    "encode_ms",
    "decode_ms",
    "style",
]


LONG_PROMPT = 400  # characters: a "long" prompt in the prompt coder's ratios


def med(rows, key) -> float:
    """The median of ``key`` over ``rows``, NaN (no structure layer, no F1) left out."""
    vals = [r[key] for r in rows if not np.isnan(r[key])]
    return float(np.median(vals)) if vals else float("nan")


def plot(rows, settings, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, s in enumerate(settings):
        sub = [r for r in rows if r["setting"] == s and r["matched_f1"] == r["matched_f1"]]
        if not sub:  # e.g. tiny: no structure layer, no F1
            continue
        colour = plt.get_cmap("tab10")(i % 10)
        f1 = [r["matched_f1"] for r in sub]
        ax.scatter([r["bpp"] for r in sub], f1, s=8, alpha=0.3, c=[colour])
        ax.scatter(
            [med(sub, "bpp")], [med(sub, "matched_f1")], s=70, marker="x", c=[colour], label=s
        )
    for bpp in (0.003, 0.01, 0.02):
        ax.axvline(bpp, ls=":", c="grey")
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel (log scale; dotted: 0.003, 0.010, 0.020)")
    ax.set_ylabel("matched edge F1 (3 px, one to one) vs Canny(100, 200)")
    if ax.get_legend_handles_labels()[1]:  # none when no setting kept a structure layer
        ax.legend(fontsize=7)
    else:
        ax.set_title("no setting kept a structure layer: no edge F1 to plot", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_csv(path: Path, rows) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)


def summary(rows, refs, settings, out: Path, where: str | None = None) -> None:
    kind = rows[0]["kind"] if rows else "canny"
    ref = "PiDiNet map (binarized at 0.5)" if kind == "sketch" else "cv2.Canny(grey, 100, 200) map"
    at = where or "the coding size"
    print(f"structure kind {kind}, judged against the full {ref} at {at}")
    if where:
        print("(bpp counted on each original's pixels)")
    print(
        f"{'setting':<14} {'bytes':>6} {'bpp':>8} {'sem':>5} {'str':>5} {'tex':>5} {'ovh':>4} "
        f"{'mF1':>6} {'P':>5} {'R':>5} {'ratio':>5} {'tolF1':>6} {'Dice':>5} {'dE00':>5} "
        f"{'enc ms':>6} "
        f"{'dec ms':>6}"
    )
    for s in settings:
        sub = [r for r in rows if r["setting"] == s]
        print(
            f"{s:<14} {med(sub, 'bytes_total'):>6.0f} {med(sub, 'bpp'):>8.5f} "
            f"{med(sub, 'bytes_semantic'):>5.0f} {med(sub, 'bytes_structure'):>5.0f} "
            f"{med(sub, 'bytes_texture'):>5.0f} {med(sub, 'bytes_overhead'):>4.0f} "
            f"{med(sub, 'matched_f1'):>6.3f} {med(sub, 'precision'):>5.2f} "
            f"{med(sub, 'recall'):>5.2f} {med(sub, 'edge_ratio'):>5.2f} "
            f"{med(sub, 'tolerant_f1'):>6.3f} {med(sub, 'dice'):>5.3f} "
            f"{med(sub, 'ciede2000'):>5.2f} "
            f"{med(sub, 'encode_ms'):>6.0f} {med(sub, 'decode_ms'):>6.0f}"
        )
    r = {k: np.array([x[k] for x in refs], dtype=float) for k in refs[0] if k != "file"}
    with_text = r["zlib9"] > 0
    print(f"medians over {len(refs)} images, side by side:")
    if with_text.any():
        long = with_text & (r["prompt_chars"] >= LONG_PROMPT)
        for name, sel in (
            ("prompt   ", with_text),
            ("  short  ", with_text & ~long),
            ("  long   ", long),
        ):
            if not sel.any():
                continue
            print(
                f"  {name}: ours {np.median(r['semantic'][sel]):.0f} B over {sel.sum()} prompts; "
                f"ratio to zlib-9 {np.median(r['semantic'][sel] / r['zlib9'][sel]):.3f}x, to "
                f"brotli-11 {np.median(r['semantic'][sel] / r['brotli11'][sel]):.3f}x"
            )
    else:
        print("  prompt   : no image has a prompt (metadata or manifest.csv): nothing to compare")
    print(
        f"  structure: lossless {np.median(r['structure_lossless']):.0f} B; ratio to Group-4 "
        f"{np.median(r['structure_lossless'] / r['g4']):.3f}x, to 1-bit PNG "
        f"{np.median(r['structure_lossless'] / r['png1']):.3f}x"
    )
    default = np.array([x["bytes_total"] for x in rows if x["setting"] == settings[0]], float)
    for k in ("jpeg_q1", "webp_q0", "avif_q0"):
        print(
            f"  {k:<9}: {np.nanmedian(r[k]):.0f} B, {np.nanmedian(r[k] / default):.1f}x "
            f"the '{settings[0]}' stream"
        )
    print(f"wrote {out / 'bench.csv'} and {out / 'rate_fidelity.png'}")
