"""The ``aigic`` command: encode | decode | inspect | edit | export | bench | fuzz | models |
eval | bench-decode | bench-prompts.

The arguments of each are in cliargs.py; here is what each command does.

Every failure is one line on stderr ("aigic: error: ...") and exit code 2; never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .. import api, edit
from ..errors import AigicError
from ..format.codes import profile_names
from ..imaging.images import load_image
from ..info import StreamInfo, inspect
from . import messages
from .cliargs import box_arg, build_parser, profile_arg, recolor_arg


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
    from .encode_many import is_collection, run

    if is_collection(a):
        return run(a)
    budget = a.budget
    if a.bpp is not None:
        w, h = load_image(a.input)[0].size
        budget = int(a.bpp * w * h / 8)
    result = api.encode_result(
        a.input,
        prompt=a.prompt,
        layers=a.layers.split(",") if a.layers else api.LAYERS,
        structure=a.structure,
        seed=a.seed,
        profile=profile_arg(a.profile),
        caption=None if a.caption == "none" else a.caption,
        preset=a.preset,
        budget=budget,
        factor=a.factor,
        style=a.style,
        full_prompt=a.full_prompt,
        negative="" if a.no_negative else a.negative,
    )
    _write(a.output, result.data)
    info = inspect(result.data)
    cut = messages.prompt_cut_text(result)
    if cut:
        print(f"note: {cut}", file=sys.stderr)
    for line in messages.skipped_text(result):
        print(f"note: {line}", file=sys.stderr)
    if messages.no_prompt(result, info):
        print(f"warning: {messages.NO_PROMPT} (pass --prompt)", file=sys.stderr)
    summary = messages.layer_summary(info, result.style)
    print(f"{a.output}: {info.total_bytes} bytes, {info.bpp:.4f} bpp ({summary})")
    note = messages.left_out_text(result)
    if note:
        print(f"note: {note}", file=sys.stderr)
    if result.structure_why and result.structure == "canny":
        print(f"note: structure canny, not a sketch: {result.structure_why}", file=sys.stderr)
    if messages.negative_text(result):
        print(f"note: {messages.negative_text(result)}", file=sys.stderr)


def cmd_decode(a) -> None:
    from ..backends import get_backend

    data = _read(a.input)
    layers = a.layers.split(",") if a.layers else None
    lay = api.read_layers(data, layers, strict=not a.partial)
    if lay.dropped:
        print(f"warning: damaged layers dropped: {', '.join(lay.dropped)}", file=sys.stderr)
    options = {"offload": True} if a.offload else {}
    if a.device:
        options["device"] = a.device
    if a.dtype != "auto" and a.backend != "preview":
        options["dtype"] = _dtype(a.dtype, a.device or "cpu")
    backend = (
        get_backend(a.backend, **options) if a.backend != "preview" else get_backend("preview")
    )
    profile = profile_arg(a.profile) if a.profile else None
    with _progress_bar(backend.name == "sd15") as progress:
        img = api.decode(
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


def _dtype(name: str, device: str):
    from ..backends.dtypes import dtype_named

    return dtype_named(name, device)


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


def format_inspect(info: StreamInfo) -> str:
    h, lay = info.header, info.layers
    lines = [
        (
            f"aigic stream v{h.version}: {h.width}x{h.height} "
            f"(coding {h.coding_size[0]}x{h.coding_size[1]}), seed {h.seed}, "
            f"profile {h.profile} ({profile_names().get(h.profile, 'unknown')})"
        ),
        f"{'chunk':<10} {'codec':>5} {'bytes':>6} {'share':>7} {'bpp':>9}",
    ]
    pixels = h.width * h.height
    rows = [(r.chunk, r.codec, r.bytes) for r in info.chunks] + [("overhead", None, info.overhead)]
    for name, code, n in rows:
        code = "" if code is None else code
        share, bpp = n / info.total_bytes, n * 8 / pixels
        lines.append(f"{name:<10} {code:>5} {n:>6} {share:>7.1%} {bpp:>9.5f}")
    lines.append(f"{'total':<10} {'':>5} {info.total_bytes:>6} {1:>7.1%} {info.bpp:>9.5f}")
    if lay.prompt is not None:
        n = _tokens(lay.prompt)
        lines.append(f"prompt: {lay.prompt!r}" + (f" ({n} CLIP tokens)" if n is not None else ""))
    if lay.negative:
        lines.append(f"negative prompt: {lay.negative!r}")
    if lay.structure_grid:
        g = lay.structure_grid
        what = f"{lay.people} people" if lay.structure_kind == "pose" else lay.structure_drawn
        what = "edges drawn as 1-px links" if what == "links" else what
        lines.append(f"structure: {lay.structure_kind} ({what}) on a {g[0]}x{g[1]} grid")
    if lay.texture_grid:
        gw, gh = lay.texture_grid
        lines.append(f"texture: {gw}x{gh} colour grid ({gw} columns x {gh} rows)")
    if info.dropped:
        lines.append(f"damaged layers: {', '.join(info.dropped)}")
    return "\n".join(lines)


def _tokens(text: str) -> int | None:
    """The prompt's CLIP token count, or None where tokens cannot be counted here."""
    from ..models import tokens

    return tokens.count(text) if tokens.available() else None


def cmd_inspect(a) -> None:
    info = inspect(_read(a.input))
    if a.json:
        out = info.to_dict()
        out["prompt_tokens"] = _tokens(info.layers.prompt) if info.layers.prompt else 0
        print(json.dumps(out, indent=1))
    else:
        print(format_inspect(info))


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
    changes = ", ".join(f"{k} {v}" for k, v in api.changed_layers(before, data).items())
    print(f"{a.output}: {len(data)} bytes ({changes})")


def cmd_export(a) -> None:
    from .export import export

    for path in export(_read(a.input), Path(a.directory)):
        print(path)


def cmd_fuzz(a) -> None:
    if a.metadata:
        from .fuzz_metadata import run

        report = run(a.count, seed=a.seed, limit_s=a.limit, progress=True)
        print(report.summary("prompts found", "no prompt (junk skipped)"))
    else:
        from .fuzz import run

        report = run(a.count, seed=a.seed, limit_s=a.limit, progress=True)
        print(report.summary())
    for how, what, data in report.failures[:20]:
        print(f"FAIL ({how}): {what}\n  input: {data[:400]}")
    if report.failures:
        raise AigicError(f"{len(report.failures)} fuzz failures")


def _lazy(module: str):
    """A command whose module (tools/<module>.py, its ``run(args)``) loads when it is used."""

    def command(a) -> None:
        from importlib import import_module

        import_module(f".{module}", __package__).run(a)

    return command


COMMANDS = {
    "encode": cmd_encode,
    "decode": cmd_decode,
    "inspect": cmd_inspect,
    "edit": cmd_edit,
    "export": cmd_export,
    "bench": _lazy("bench"),
    "fuzz": cmd_fuzz,
    "models": _lazy("models_cmd"),
    "eval": _lazy("eval"),
    "bench-decode": _lazy("bench_decode"),
    "bench-prompts": _lazy("bench_prompts"),
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
