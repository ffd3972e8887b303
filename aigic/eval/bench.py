"""``aigic bench DIR``: rate and fidelity per image and setting, beside general-purpose coders.

image --resize (short side --size)--> encode(setting) --> bytes per layer, bpp, matched
edge F1 (Dice for sketches), grid CIEDE2000, times; every payload is decoded and checked bit-exact
same image --> JPEG q1 / WebP q0 / AVIF q0 sizes; prompt --> zlib-9 / brotli-11;
Canny map --> Group-4 TIFF / 1-bit PNG           ==> CSV + rate-fidelity plot + medians
                                                     (written by benchreport.py)
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from ..api import encode_result, read_layers
from ..backends.profiles import get_profile
from ..encoder.extractors import canny, extract
from ..encoder.reduce import edge_layer
from ..errors import AigicError
from ..format.codes import PROFILE_SDXL_DPM25_A1111
from ..format.container import overhead, parse
from ..format.limits import coding_size
from ..imaging.color import srgb_to_lab
from ..imaging.images import load_image, to_array
from ..imaging.metadata import prompt_from_metadata
from ..imaging.metrics import ciede2000, dice, edge_f1, matched_f1
from ..layers import SemanticLayer
from ..layers.texture import grid_of
from .bench_report import plot, summary, write_csv

HELP = "rate and fidelity over a folder of images"


def arguments(b: argparse.ArgumentParser) -> None:
    b.add_argument("directory")
    b.add_argument("--size", type=int, default=512)
    b.add_argument(
        "-o",
        "--output",
        "--out",
        dest="out",
        default="bench-out",
        help="folder for the rows, the summary and the plot",
    )
    b.add_argument(
        "--settings",
        default="tiny,default,fine,lossless,budget:250,budget:400,budget:600,"
        "default/lines,fine/lines",
        help="comma-separated presets or budget:BYTES, each optionally /lines or /cells "
        "(the edge style; default auto)",
    )
    b.add_argument("--limit", type=int)
    b.add_argument(
        "--structure",
        default="canny",
        choices=["canny", "sketch"],
        help="the structure kind encoded and the reference it is judged against: Canny(100, "
        "200) by matched F1, or PiDiNet (weights via AIGIC_MODEL_DIR or the cache) by Dice",
    )
    b.add_argument(
        "--at",
        default="coding",
        choices=["coding", "sdxl"],
        help="where the structure is judged: coding (default: each image resized to the "
        "coding size, encoded and judged there) or sdxl (the original encoded for the SDXL "
        "profile, its map drawn up to SDXL's ~1 MP decode size and judged against the "
        "reference extracted at that size; bpp on the original's pixels)",
    )


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
    from ..encoder.presets import PRESETS, candidates

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
    img: bytes,
    name: str,
    setting: str,
    edges_ref: np.ndarray,
    grid,
    prompt: str | None = None,
    kind: str = "canny",
    pixels: int | None = None,
    profile: int | None = None,
) -> dict:
    """One encode of ``img`` at ``setting``, judged against ``edges_ref`` at its size (the
    decode size, drawn as the decoder draws it); bpp over ``pixels`` (default: that size)."""
    from ..backends.conditions import structure_map

    t0 = time.perf_counter()
    extra = {} if profile is None else {"profile": profile}
    result = encode_result(img, prompt=prompt, structure=kind, **_setting(setting), **extra)
    data = result.data
    t1 = time.perf_counter()
    lay = read_layers(data)
    t2 = time.perf_counter()
    bs = parse(data)
    for c in bs.chunks:  # bit-exact: each decoded layer re-codes to the same payload
        layer = getattr(lay, c.name)
        assert layer.to_payload() == c.payload, f"{name} {setting}: {c.name} not bit-exact"
    sizes = {n: len(c.payload) for c in bs.chunks for n in [c.name]}
    h, w = edges_ref.shape
    nan = float("nan")
    decoded = structure_map(lay.structure, (w, h), lay.size) if lay.structure else None
    f1 = edge_f1(decoded, edges_ref) if decoded is not None else nan
    # one-to-one matching is the measure of line maps; sketch strokes have area: Dice
    lines = decoded is not None and kind != "sketch"
    matched, precision, recall = matched_f1(decoded, edges_ref) if lines else [nan] * 3
    ratio = decoded.sum() / max(1, edges_ref.sum()) if decoded is not None else nan
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
        "bpp": len(data) * 8 / (pixels or edges_ref.size),
        "matched_f1": matched,
        "precision": precision,
        "recall": recall,
        "edge_ratio": float(ratio),
        "tolerant_f1": f1,
        "dice": dice(decoded, edges_ref) if decoded is not None else nan,
        "kind": kind,
        "ciede2000": de,
        "encode_ms": (t1 - t0) * 1e3,
        "decode_ms": (t2 - t1) * 1e3,
        "style": result.style or "",  # the edge map's style, as rate control chose it
    }


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
    sdxl = get_profile(PROFILE_SDXL_DPM25_A1111) if args.at == "sdxl" else None
    for path in tqdm(files, desc="bench", unit="img"):
        src, meta = load_image(path)
        size = coding_size(*src.size, args.size)
        img = Image.fromarray(to_array(src, size))
        img.info.update(meta)
        rgb = np.asarray(img)
        grid = grid_of(rgb)
        if sdxl is None:
            edges_ref = extract_ref(rgb, args.structure)
            png, pixels, code = _with_meta(img, meta), None, None
        else:  # the original, judged at SDXL's decode size
            at = sdxl.decode_size(src.size, size)
            edges_ref = extract_ref(to_array(src, at), args.structure)
            png, pixels, code = _with_meta(src, meta), src.size[0] * src.size[1], sdxl.code
        prompt = prompt_from_metadata(meta)[0] or manifest.get(path.name) or None
        for s in settings:
            rows.append(
                measure(png, path.name, s, edges_ref, grid, prompt, args.structure, pixels, code)
            )
        if sdxl is not None:  # the lossless and reference figures stay at the coding size
            edges_ref = extract_ref(rgb, args.structure)
        lossless = edge_layer(edges_ref, 1, args.structure).to_payload()
        prompt = prompt or ""
        refs.append(
            {
                "file": path.name,
                "structure_lossless": len(lossless),
                # the prompt coder on the whole prompt (the stream may carry it cut)
                "semantic": len(SemanticLayer(prompt).to_payload()) if prompt else 0,
                "prompt_chars": len(prompt),
                **references(img, prompt, edges_ref),
            }
        )
    write_csv(out / "bench.csv", rows)
    plot(rows, settings, out / "rate_fidelity.png")
    where = None if sdxl is None else f"SDXL's decode size (about 1 MP, {sdxl.name})"
    summary(rows, refs, settings, out, where)


def extract_ref(rgb: np.ndarray, kind: str) -> np.ndarray:
    """The reference structure map of ``rgb``: Canny(100, 200) or the PiDiNet sketch."""
    return canny(rgb) if kind == "canny" else extract(rgb, "sketch")


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
