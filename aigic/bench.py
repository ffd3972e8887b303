"""``aigic bench DIR``: rate and fidelity per image and setting, beside general-purpose coders.

image --resize (short side --size)--> encode(setting) --> bytes per layer, bpp, edge F1,
grid CIEDE2000, times; every payload is decoded and checked bit-exact
same image --> JPEG q1 / WebP q0 / AVIF q0 sizes; prompt --> zlib-9 / brotli-11;
Canny map --> Group-4 TIFF / 1-bit PNG           ==> CSV + rate-fidelity plot + medians
"""

from __future__ import annotations

import csv
import io
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from .codec import encode, read_layers
from .color import srgb_to_lab
from .container import overhead, parse
from .errors import AigicError
from .images import coding_size, load_image, to_array
from .metadata import prompt_from_metadata
from .metrics import ciede2000, edge_f1
from .structure import StructureLayer, canny
from .texture import grid_of

FIELDS = [
    "file",
    "setting",
    "bytes_total",
    "bytes_semantic",
    "bytes_structure",
    "bytes_texture",
    "bytes_overhead",
    "bpp",
    "edge_f1",
    "ciede2000",
    "encode_ms",
    "decode_ms",
]


def _size_of(img: Image.Image, fmt: str, **kw) -> int:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return len(buf.getvalue())


def references(img: Image.Image, prompt: str, edges: np.ndarray) -> dict:
    import brotli

    raw = prompt.encode("utf-8")
    bits = Image.fromarray(edges.astype(np.uint8) * 255).convert("1")
    out = {
        "jpeg_q1": _size_of(img, "JPEG", quality=1),
        "webp_q0": _size_of(img, "WEBP", quality=0),
        "zlib9": len(zlib.compress(raw, 9)) if raw else 0,
        "brotli11": len(brotli.compress(raw, quality=11)) if raw else 0,
        "g4": _size_of(bits, "TIFF", compression="group4"),
        "png1": _size_of(bits, "PNG", optimize=True),
    }
    try:
        out["avif_q0"] = _size_of(img, "AVIF", quality=0)
    except (KeyError, OSError, ValueError):
        out["avif_q0"] = float("nan")
    return out


def _setting(name: str) -> dict:
    """encode()'s arguments for a setting: a preset ("fine") or a byte budget ("budget:300"),
    optionally with an edge style ("default/lines")."""
    from .ratecontrol import PRESETS, candidates

    rate, _, style = name.partition("/")
    if rate.startswith("budget:") and rate[7:].isdigit():
        out = {"budget": int(rate[7:])}
    elif rate in PRESETS:
        out = {"preset": rate}
    else:
        raise AigicError(
            f"bench setting {name!r}: use a preset ({', '.join(PRESETS)}) or budget:BYTES, "
            "optionally followed by /lines, /cells or /auto"
        )
    if style:
        try:
            candidates(style)
        except ValueError as exc:
            raise AigicError(f"bench setting {name!r}: {exc}") from None
        out["style"] = style
    return out


def measure(
    img: bytes, name: str, setting: str, edges_ref: np.ndarray, grid, prompt: str | None = None
) -> dict:
    t0 = time.perf_counter()
    data = encode(img, prompt=prompt, **_setting(setting))
    t1 = time.perf_counter()
    lay = read_layers(data)
    t2 = time.perf_counter()
    bs = parse(data)
    for c in bs.chunks:  # bit-exact: each decoded layer re-codes to the same payload
        layer = {1: lay.semantic, 2: lay.structure, 3: lay.texture}[c.type]
        assert layer.to_payload() == c.payload, f"{name} {setting}: {c.name} not bit-exact"
    sizes = {n: len(c.payload) for c in bs.chunks for n in [c.name]}
    h, w = edges_ref.shape
    f1 = edge_f1(lay.structure.edges((w, h)), edges_ref) if lay.structure else float("nan")
    de = (
        float(ciede2000(srgb_to_lab(grid), lay.texture.lab()).mean())
        if lay.texture
        else float("nan")
    )
    return {
        "file": name,
        "setting": setting,
        "bytes_total": len(data),
        "bytes_semantic": sizes.get("semantic", 0),
        "bytes_structure": sizes.get("structure", 0),
        "bytes_texture": sizes.get("texture", 0),
        "bytes_overhead": overhead(bs),
        "bpp": len(data) * 8 / edges_ref.size,
        "edge_f1": f1,
        "ciede2000": de,
        "encode_ms": (t1 - t0) * 1e3,
        "decode_ms": (t2 - t1) * 1e3,
    }


def _med(rows, key) -> float:
    vals = [r[key] for r in rows if not np.isnan(r[key])]
    return float(np.median(vals)) if vals else float("nan")


def _plot(rows, settings, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for i, s in enumerate(settings):
        sub = [r for r in rows if r["setting"] == s and r["edge_f1"] == r["edge_f1"]]  # not NaN
        if not sub:  # e.g. tiny: no structure layer, no F1
            continue
        colour = plt.get_cmap("tab10")(i % 10)
        ax.scatter([r["bpp"] for r in sub], [r["edge_f1"] for r in sub], s=8, alpha=0.3, c=[colour])
        ax.scatter(
            [_med(sub, "bpp")], [_med(sub, "edge_f1")], s=70, marker="x", c=[colour], label=s
        )
    for bpp in (0.003, 0.01, 0.02):
        ax.axvline(bpp, ls=":", c="grey")
    ax.set_xscale("log")
    ax.set_xlabel("bits per pixel (log scale; dotted: 0.003, 0.010, 0.020)")
    ax.set_ylabel("edge F1 (3 px) vs Canny(100, 200)")
    if ax.get_legend_handles_labels()[1]:  # none when no setting kept a structure layer
        ax.legend(fontsize=7)
    else:
        ax.set_title("no setting kept a structure layer: no edge F1 to plot", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def run(args) -> None:
    from tqdm import tqdm

    if args.limit is not None and args.limit < 1:
        raise AigicError(f"bench: --limit {args.limit}: give at least 1 image")
    folder = Path(args.directory)
    if not folder.is_dir():
        raise AigicError(f"bench: {args.directory!r} is not a directory of images")
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")
    )[: args.limit]
    if not files:
        raise AigicError(f"bench: no .png, .jpg, .jpeg or .webp images in {args.directory!r}")
    settings = [s for s in args.settings.split(",") if s]
    for s in settings:  # a bad setting fails before any work
        _setting(s)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, refs = [], []
    manifest = _manifest_prompts(Path(args.directory))
    for path in tqdm(files, desc="bench", unit="img"):
        src, meta = load_image(path)
        size = coding_size(*src.size, args.size)
        img = Image.fromarray(to_array(src, size))
        img.info.update(meta)
        rgb = np.asarray(img)
        edges_ref, grid = canny(rgb), grid_of(rgb)
        png = _with_meta(img, meta)
        prompt = prompt_from_metadata(meta)[0] or manifest.get(path.name) or None
        for s in settings:
            rows.append(measure(png, path.name, s, edges_ref, grid, prompt))
        lossless = StructureLayer(edges_ref).to_payload()
        prompt = prompt or ""
        refs.append(
            {
                "file": path.name,
                "structure_lossless": len(lossless),
                "semantic": rows[-1]["bytes_semantic"],
                **references(img, prompt, edges_ref),
            }
        )
    _write_csv(out / "bench.csv", rows)
    _plot(rows, settings, out / "rate_fidelity.png")
    _summary(rows, refs, settings, out)


def _manifest_prompts(directory: Path) -> dict[str, str]:
    """Prompts from a ``manifest.csv`` (columns file, prompt) beside the images, if any: used
    for images whose own metadata carries none."""
    path = directory / "manifest.csv"
    if not path.exists():
        return {}
    with path.open(encoding="utf-8") as f:
        return {r["file"]: r.get("prompt", "") for r in csv.DictReader(f) if r.get("file")}


def _with_meta(img: Image.Image, meta: dict) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for k, v in meta.items():
        if isinstance(v, str):
            info.add_text(k, v)
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info, compress_level=1)
    return buf.getvalue()


def _write_csv(path: Path, rows) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)


def _summary(rows, refs, settings, out: Path) -> None:
    print(
        f"{'setting':<14} {'bytes':>6} {'bpp':>8} {'sem':>5} {'str':>5} {'tex':>5} {'ovh':>4} "
        f"{'edgeF1':>7} {'dE00':>6} {'enc ms':>7} {'dec ms':>7}"
    )
    for s in settings:
        sub = [r for r in rows if r["setting"] == s]
        print(
            f"{s:<14} {_med(sub, 'bytes_total'):>6.0f} {_med(sub, 'bpp'):>8.5f} "
            f"{_med(sub, 'bytes_semantic'):>5.0f} {_med(sub, 'bytes_structure'):>5.0f} "
            f"{_med(sub, 'bytes_texture'):>5.0f} {_med(sub, 'bytes_overhead'):>4.0f} "
            f"{_med(sub, 'edge_f1'):>7.3f} {_med(sub, 'ciede2000'):>6.2f} "
            f"{_med(sub, 'encode_ms'):>7.0f} {_med(sub, 'decode_ms'):>7.0f}"
        )
    r = {k: np.array([x[k] for x in refs], dtype=float) for k in refs[0] if k != "file"}
    with_text = r["zlib9"] > 0
    print(f"medians over {len(refs)} images, side by side:")
    if with_text.any():
        print(
            f"  prompt   : ours {np.median(r['semantic']):.0f} B; ratio to zlib-9 "
            f"{np.median(r['semantic'][with_text] / r['zlib9'][with_text]):.3f}x, to brotli-11 "
            f"{np.median(r['semantic'][with_text] / r['brotli11'][with_text]):.3f}x"
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
