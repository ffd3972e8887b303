"""``aigic decode IN.aigic -o OUT.png``: Stable Diffusion (sd15, sdxl) or the weight-free preview."""

from __future__ import annotations

import argparse
import sys

from .. import api
from ..backends import NAMES
from ..encoder.settings import OPTIONS
from ..errors import AigicError
from ..format.codes import profile_names
from ..needs import profile_codes
from .common import layers_arg, progress_bar, read_stream

HELP = "reconstruct an image from a stream"


def arguments(d: argparse.ArgumentParser) -> None:
    d.add_argument("input")
    d.add_argument("-o", "--output", required=True)
    d.add_argument("--layers", help=OPTIONS["layers"].help)
    d.add_argument(
        "--backend",
        default="auto",
        choices=list(NAMES),
        help="auto (default): the stream's profile's backend where its weights are here (an "
        "SDXL stream without SDXL's weights: its SD 1.5 twin), else preview",
    )
    d.add_argument("--seed", type=int, help="override the stream's seed")
    d.add_argument(
        "--profile", choices=list(profile_names().values()), help="override the stream's profile"
    )
    d.add_argument("--device", help="sd15: torch device (default: cuda if present, else cpu)")
    d.add_argument("--offload", action="store_true", help="sd15: model CPU offload (low VRAM)")
    d.add_argument(
        "--dtype",
        default="auto",
        choices=["auto", "fp32", "bf16", "fp16"],
        help="sd15: number type (auto: fp16 on CUDA, bf16 on a CPU with native bf16, else fp32)",
    )
    d.add_argument(
        "--partial", action="store_true", help="use the intact layers of a damaged stream"
    )


def run(a) -> None:
    from ..backends import get_backend

    data = read_stream(a.input)
    layers = layers_arg(a.layers)
    lay = api.read_layers(data, layers, strict=not a.partial)
    if lay.dropped:
        print(f"warning: damaged layers dropped: {', '.join(lay.dropped)}", file=sys.stderr)
    options = {"offload": True} if a.offload else {}
    if a.device:
        options["device"] = a.device
    if a.dtype != "auto" and a.backend != "preview":
        from ..backends.dtypes import dtype_named

        options["dtype"] = dtype_named(a.dtype, a.device or "cpu")
    backend = (
        get_backend(a.backend, **options) if a.backend != "preview" else get_backend("preview")
    )
    profile = profile_codes([a.profile])[0] if a.profile else None
    with progress_bar(a.backend != "preview") as progress:
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
    used = getattr(backend, "last", None)  # auto: the backend and profile it chose, and why
    code = used.profile if used else (profile if profile is not None else lay.profile)
    print(
        f"{a.output}: {img.size[0]}x{img.size[1]} decoded with {backend.name}, profile "
        f"{profile_names().get(code, code)} ({backend.unet_evaluations} UNet evaluations)"
    )
    if used is not None:
        print(f"  auto chose {used.backend}: {used.why}")
