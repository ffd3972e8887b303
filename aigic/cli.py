"""The ``aigic`` command: encode | decode | inspect | edit | export | bench | fuzz.

The arguments of each are in cliargs.py; here is what each command does.

Every failure is one line on stderr ("aigic: error: ...") and exit code 2; never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from . import codec, edit
from .cliargs import box_arg, build_parser, profile_arg, recolor_arg
from .errors import AigicError
from .images import load_image
from .ratecontrol import left_out, left_out_text
from .registry import profile_names


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise AigicError(f"cannot read {path!r}: {exc.strerror}") from None


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise AigicError(f"cannot write {path!r}: {exc.strerror}") from None


def cmd_encode(a) -> None:
    budget = a.budget
    if a.bpp is not None:
        w, h = load_image(a.input)[0].size
        budget = int(a.bpp * w * h / 8)
    layers = a.layers.split(",") if a.layers else codec.LAYERS
    report: dict = {}
    data = codec.encode(
        a.input,
        prompt=a.prompt,
        layers=layers,
        structure=a.structure,
        seed=a.seed,
        profile=profile_arg(a.profile),
        caption=None if a.caption == "none" else a.caption,
        preset=a.preset,
        budget=budget,
        factor=a.factor,
        style=a.style,
        report=report,
    )
    _write(a.output, data)
    info = codec.inspect(data)
    if info["prompt"] == "" and a.prompt is None:
        print(
            "warning: no prompt given, none in the image's metadata and no captioner "
            "(BLIP weights not cached); the semantic layer is empty (pass --prompt)",
            file=sys.stderr,
        )
    summary = layer_summary(info, report.get("style"))
    print(f"{a.output}: {len(data)} bytes, {info['bpp']:.4f} bpp ({summary})")
    missing = left_out(info, layers, a.preset)
    if missing:
        print(f"note: {left_out_text(missing, budget)}", file=sys.stderr)


def layer_summary(info: dict, style: str | None = None) -> str:
    """Bytes per layer with its grid (and the edge map's ``style``), for one line of output."""
    parts = []
    for r in info["chunks"][:-1]:
        what = r["chunk"]
        if what == "structure" and info["structure_kind"] == "pose":
            what += f" pose, {info['people']} people"
        elif what == "structure" and info["structure_grid"]:
            what += f" {info['structure_kind']} {'x'.join(map(str, info['structure_grid']))}"
            what += f" {style}" if style else ""
        elif what == "texture" and info["texture_grid"]:
            what += f" {'x'.join(map(str, info['texture_grid']))}"
        parts.append(f"{what}: {r['bytes']} B")
    return ", ".join(parts + [f"overhead: {info['chunks'][-1]['bytes']} B"])


def cmd_decode(a) -> None:
    from .backends import get_backend

    data = _read(a.input)
    layers = a.layers.split(",") if a.layers else None
    lay = codec.read_layers(data, layers, strict=not a.partial)
    if lay.dropped:
        print(f"warning: damaged layers dropped: {', '.join(lay.dropped)}", file=sys.stderr)
    options = {"offload": True} if a.offload else {}
    if a.device:
        options["device"] = a.device
    backend = (
        get_backend(a.backend, **options) if a.backend != "preview" else get_backend("preview")
    )
    profile = profile_arg(a.profile) if a.profile else None
    with _progress_bar(backend.name == "sd15") as progress:
        img = codec.decode(
            data,
            layers=layers,
            backend=backend,
            seed=a.seed,
            profile=profile,
            strict=not a.partial,
            progress=progress,
        )
    try:
        img.save(a.output)
    except (OSError, ValueError) as exc:
        raise AigicError(f"cannot write {a.output!r}: {exc}") from None
    print(
        f"{a.output}: {img.size[0]}x{img.size[1]} decoded with {backend.name} "
        f"({backend.unet_evaluations} UNet evaluations)"
    )


class _progress_bar:
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


def format_inspect(info: dict) -> str:
    lines = [
        (
            f"aigic stream v{info['version']}: {info['width']}x{info['height']} "
            f"(coding {info['coding_size'][0]}x{info['coding_size'][1]}), seed {info['seed']}, "
            f"profile {info['profile']} ({profile_names().get(info['profile'], 'unknown')})"
        ),
        f"{'chunk':<10} {'codec':>5} {'bytes':>6} {'share':>7} {'bpp':>9}",
    ]
    for r in info["chunks"]:
        code = "" if r["codec"] is None else r["codec"]
        lines.append(
            f"{r['chunk']:<10} {code:>5} {r['bytes']:>6} {r['share']:>7.1%} {r['bpp']:>9.5f}"
        )
    lines.append(f"{'total':<10} {'':>5} {info['total_bytes']:>6} {1:>7.1%} {info['bpp']:>9.5f}")
    if info["prompt"] is not None:
        lines.append(f"prompt: {info['prompt']!r}")
    if info["structure_grid"]:
        g = info["structure_grid"]
        what = f"{info['people']} people" if info["structure_kind"] == "pose" else "edges"
        lines.append(f"structure: {info['structure_kind']} ({what}) on a {g[0]}x{g[1]} grid")
    if info["texture_grid"]:
        lines.append(f"texture: {info['texture_grid'][0]}x{info['texture_grid'][1]} colour grid")
    if info["dropped"]:
        lines.append(f"damaged layers: {', '.join(info['dropped'])}")
    return "\n".join(lines)


def cmd_inspect(a) -> None:
    info = codec.inspect(_read(a.input))
    print(json.dumps(info, indent=1) if a.json else format_inspect(info))


def cmd_edit(a) -> None:
    before = data = _read(a.input)
    if a.prompt is not None:
        data = edit.set_prompt(data, a.prompt)
    for spec in a.recolor or []:
        cell, colour = recolor_arg(spec)
        data = edit.recolor(data, [cell], colour)
    if a.sketch:
        drawing = load_image(a.sketch)[0]
        data = edit.draw_structure(data, drawing, keep_grid=not a.sketch_lossless)
    if a.erase:
        data = edit.erase_rect(data, box_arg(a.erase), texture=a.erase_texture)
    for layer in a.drop or []:
        data = edit.drop(data, layer)
    _write(a.output, data)
    changes = ", ".join(f"{k} {v}" for k, v in codec.changed_layers(before, data).items())
    print(f"{a.output}: {len(data)} bytes ({changes})")


def cmd_export(a) -> None:
    from .export import export

    for path in export(_read(a.input), Path(a.directory)):
        print(path)


def cmd_bench(a) -> None:
    from .bench import run

    run(a)


def cmd_fuzz(a) -> None:
    from .fuzz import run

    report = run(a.count, seed=a.seed, limit_s=a.limit, progress=True)
    print(report.summary())
    for how, what, data in report.failures[:20]:
        print(f"FAIL ({how}): {what}\n  input: {data[:400]}")
    if report.failures:
        raise AigicError(f"{len(report.failures)} fuzz failures")


COMMANDS = {
    "encode": cmd_encode,
    "decode": cmd_decode,
    "inspect": cmd_inspect,
    "edit": cmd_edit,
    "export": cmd_export,
    "bench": cmd_bench,
    "fuzz": cmd_fuzz,
}


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (AigicError, ValueError) as exc:
        print(f"aigic: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("aigic: error: out of memory (the input is too large)", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line for the user; AIGIC_DEBUG=1 shows it
        if os.environ.get("AIGIC_DEBUG"):
            raise
        print(
            f"aigic: error: internal error {type(exc).__name__}: {exc} "
            "(set AIGIC_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3
    except KeyboardInterrupt:
        print("aigic: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
