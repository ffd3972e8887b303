"""``aigic bench-decode``: the time a Stable Diffusion decode takes, at the models' real sizes.

    SD 1.5's and SDXL's configs --testing.models--> random-weight models (real shapes, compute)
    a real stream (a committed image, encoded per profile: --size for SD 1.x, --sdxl-size for
        SDXL, which decodes at about 1 MP at the image's aspect)
        --SD15Backend | SDXLBackend, per profile x layer subset: a warm-up decode
          (--warm-up-steps) + N timed decodes-->
          median s/decode, UNet evaluations and evaluations/s, the shares of the text encoder,
          the adapters, the UNet and the VAE (forward hooks), peak memory

The pixels are meaningless (random weights); only the time counts. CPU here, CUDA (fp16) on
a GPU. Performance figures come from this command, never from timed unit tests.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from .. import api
from ..errors import AigicError
from ..layers import SUBSETS
from ..needs import profile_codes

HELP = "time the Stable Diffusion decode at full size (random weights)"


def arguments(b: argparse.ArgumentParser) -> None:
    b.add_argument(
        "--profiles",
        default="sd15-lcm4-a1111,sd15-lcm4-taesd-a1111,sd15-dpm25-a1111",
        help="comma-separated decoder profiles",
    )
    b.add_argument(
        "--subsets",
        default="all",
        help="comma-separated layer subsets: text, text+structure, text+texture, all",
    )
    b.add_argument("--size", type=int, default=512, help="the SD 1.x rows' image side")
    b.add_argument(
        "--sdxl-size", type=int, default=1024, help="the SDXL rows' image side (decoded at ~1 MP)"
    )
    b.add_argument("--runs", type=int, default=3, help="decodes timed per row (median)")
    b.add_argument("--steps", type=int, help="override every profile's step count")
    b.add_argument(
        "--warm-up-steps",
        type=int,
        help="steps of the untimed first decode (default: the profile's); 1 loads and runs "
        "every model once, as a full decode would, which saves most of an hour on a "
        "25-step SDXL row on a CPU",
    )
    b.add_argument("--device", help="torch device (default: cuda if present, else cpu)")
    b.add_argument(
        "--dtype",
        default="auto",
        help="comma-separated number types: auto (fp16 on CUDA, bf16 on a CPU with native "
        "bf16, else fp32), fp32, bf16, fp16",
    )
    b.add_argument(
        "--channels-last", default="on", help="comma-separated on/off: channels-last convolutions"
    )
    b.add_argument(
        "--configs",
        help="SD 1.5's config folder (default ../shared/models/stable-diffusion-v1-5 beside "
        "the project); the models are built from it with random weights",
    )
    b.add_argument(
        "--sdxl-configs",
        help="SDXL base's config folder (default ../shared/models/stable-diffusion-xl-base-1.0)",
    )
    b.add_argument("--models", help="a folder to build the models in (kept; default: a tmp dir)")


IMAGE = Path(__file__).resolve().parents[2] / "assets" / "astronaut_horse_sd15.png"
SHARED_MODELS = Path(__file__).resolve().parents[3] / "shared/models"
SHARED_CONFIGS = SHARED_MODELS / "stable-diffusion-v1-5"
SHARED_SDXL_CONFIGS = SHARED_MODELS / "stable-diffusion-xl-base-1.0"
PARTS = ("text", "adapter", "unet", "vae")


class Timer:
    """Seconds spent inside each watched module, by part name (forward pre/post hooks)."""

    def __init__(self, device: str):
        self.cuda = str(device).startswith("cuda")
        self.spent = dict.fromkeys(PARTS, 0.0)
        self._start: dict[str, float] = {}
        self._depth: dict[str, int] = {}
        self._hooked: set[int] = set()

    def _now(self) -> float:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
        return time.perf_counter()

    def watch(self, part: str, module) -> None:
        if module is None or id(module) in self._hooked:
            return
        self._hooked.add(id(module))

        def pre(_m, _args):  # outermost call only: a MultiAdapter runs watched adapters inside
            depth = self._depth.get(part, 0)
            if depth == 0:
                self._start[part] = self._now()
            self._depth[part] = depth + 1

        def post(_m, _args, _out):
            self._depth[part] -= 1
            if self._depth[part] == 0:
                self.spent[part] += self._now() - self._start.pop(part)

        module.register_forward_pre_hook(pre)
        module.register_forward_hook(post)

    def reset(self) -> None:
        self.spent = dict.fromkeys(PARTS, 0.0)


def _peak_mb(device: str) -> float:
    if str(device).startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _stream(size: int, code: int) -> bytes:
    from PIL import Image

    img = Image.open(IMAGE).convert("RGB").resize((size, size), Image.LANCZOS)
    return api.encode(img, structure="canny", profile=code, seed=0)


def _pipe(backend, data: bytes, layers, code: int):
    """The cached pipeline a decode of ``layers`` of ``data`` with profile ``code`` runs."""
    from dataclasses import replace

    from ..backends.conditions import adapter_inputs
    from ..backends.profiles import get_profile

    lay = replace(api.read_layers(data, layers), profile=code)
    profile = get_profile(code)
    return backend.pipeline(profile, adapter_inputs(lay, profile, lay.size)[0])


def _row(backend, timer: Timer, data: bytes, code: int, subset: str, runs: int, warm_up=None):
    """One table row: a warm-up decode (loads, first run; ``warm_up`` steps if given), then
    ``runs`` timed decodes with the profile's steps."""
    layers = SUBSETS[subset]
    steps, backend.steps = backend.steps, warm_up or backend.steps
    t0 = time.perf_counter()
    try:
        api.decode(data, layers=layers, backend=backend, profile=code)
    finally:
        backend.steps = steps
    first = time.perf_counter() - t0
    pipe = _pipe(backend, data, layers, code)
    watched = (pipe.text_encoder, getattr(pipe, "adapter", None), pipe.unet, pipe.vae.decoder)
    for part, module in zip(PARTS, watched, strict=True):
        timer.watch(part, module)
    timer.watch("text", getattr(pipe, "text_encoder_2", None))  # SDXL's second encoder
    times, spent = [], dict.fromkeys(PARTS, 0.0)
    for _ in range(runs):
        timer.reset()
        t0 = time.perf_counter()
        api.decode(data, layers=layers, backend=backend, profile=code)
        times.append(time.perf_counter() - t0)
        spent = {p: spent[p] + timer.spent[p] for p in PARTS}
    evals = backend.unet_evaluations
    return {
        "size": "x".join(map(str, backend.last_size)),
        "first": first,
        "median": statistics.median(times),
        "evals": evals,
        "per_s": evals * runs / spent["unet"] if spent["unet"] else 0.0,
        **{p: 100 * spent[p] / sum(times) for p in PARTS},
    }


HEADER = (
    "| profile | number type | decode size | layers | s/decode (median) | first (loads) "
    "| UNet evals | evals/s | text % | adapters % | UNet % | VAE % | peak MB |"
)


def run(a) -> None:
    import torch

    from ..backends.dtypes import dtype_named
    from ..backends.profiles import PROFILES

    subsets = a.subsets.split(",")
    bad = [s for s in subsets if s not in SUBSETS]
    if bad:
        raise AigicError(f"unknown layer subset {bad[0]!r}: choose from {', '.join(SUBSETS)}")
    codes = profile_codes(a.profiles.split(","))
    families = {f: [c for c in codes if PROFILES[c].family == f] for f in ("sd15", "sdxl")}
    configs = {
        "sd15": Path(a.configs) if a.configs else SHARED_CONFIGS,
        "sdxl": Path(a.sdxl_configs) if a.sdxl_configs else SHARED_SDXL_CONFIGS,
    }
    for family, folder in configs.items():
        if families[family] and not (folder / "unet" / "config.json").is_file():
            flag = "--configs" if family == "sd15" else "--sdxl-configs"
            print(f"bench-decode: {family} rows skipped: no configs at {folder} ({flag} DIR)")
            families[family] = []
    device = a.device or ("cuda" if torch.cuda.is_available() else "cpu")
    variants = [(d, cl) for d in a.dtype.split(",") for cl in a.channels_last.split(",")]
    print("Random weights built from the models' real configs: the pixels are meaningless, only")
    print(
        f"the time counts. {device}, {torch.get_num_threads()} threads, median of {a.runs} "
        "decodes after a warm-up" + (f" of {a.warm_up_steps} step(s)." if a.warm_up_steps else ".")
    )
    root = Path(a.models) if a.models else Path(tempfile.mkdtemp(prefix="aigic-fullsize-"))
    os.environ["AIGIC_UNPINNED_WEIGHTS"] = "1"  # random weights never match the real pins
    os.environ["AIGIC_PREPARED_WEIGHTS"] = "0"  # the decode is timed, not the load: no GBs kept
    _quiet()
    header_done = False
    for family, family_codes in families.items():
        if not family_codes:
            continue
        sources = _build(family, configs[family], root)
        if not header_done:
            print(HEADER)
            print("|" + " --- |" * 13)
            header_done = True
        for dtype_name, cl in variants:
            dtype = dtype_named(dtype_name, device)
            backend = _backend(family, sources, device, dtype, a.steps, cl == "on")
            label = str(dtype).split(".")[-1] + (", channels-last" if cl == "on" else "")
            timer = Timer(device)
            for code in family_codes:
                data = _stream(a.sdxl_size if family == "sdxl" else a.size, code)
                for subset in subsets:
                    r = _row(backend, timer, data, code, subset, a.runs, a.warm_up_steps)
                    print(
                        f"| {PROFILES[code].name} | {label} | {r['size']} | {subset} "
                        f"| {r['median']:.2f} | {r['first']:.1f} | {r['evals']} "
                        f"| {r['per_s']:.2f} | {r['text']:.1f} | {r['adapter']:.1f} "
                        f"| {r['unet']:.1f} | {r['vae']:.1f} | {_peak_mb(device):,.0f} |",
                        flush=True,
                    )
            del backend, timer
            gc.collect()


def _build(family: str, configs: Path, root: Path) -> dict:
    from ..testing.models import full_size, full_size_sdxl

    return (full_size if family == "sd15" else full_size_sdxl)(configs, root, say=print)


def _backend(family: str, sources, device, dtype, steps, channels_last):
    from ..backends.sd15 import SD15Backend
    from ..backends.sdxl import SDXLBackend

    cls = SD15Backend if family == "sd15" else SDXLBackend
    return cls(
        sources=sources, device=device, dtype=dtype, steps=steps, channels_last=channels_last
    )


def _quiet() -> None:
    """Random weights make diffusers and aigic warn (pins, unused LoRA prefixes): not news."""
    import warnings

    from diffusers.utils import logging

    logging.set_verbosity_error()
    warnings.filterwarnings("ignore", message=".*AIGIC_UNPINNED_WEIGHTS")
    warnings.filterwarnings("ignore", category=FutureWarning)
