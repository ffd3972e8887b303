"""Where a fresh process's Stable Diffusion decode goes: imports, loading, LoRA, warm-up, steps.

    AIGIC_MODEL_DIR=DIR python scripts/profile_decode.py STREAM [--profile sd15-lcm4-a1111]
        [--backend sd15|sdxl] [--pixels N] [--decodes 1|2]

Run it in a fresh process (that is the point): it times, wall clock, the import of torch,
diffusers and aigic's backend, each model's load (pin checks included), the LoRA, the pipeline,
then two decodes of STREAM (the first pays the kernels' warm-up) with the UNet and VAE timed
by hooks, and prints a table. DIR is a folder of models in the AIGIC_MODEL_DIR layout, e.g. the
random-weight ones ``aigic bench-decode --models DIR`` leaves (then set AIGIC_UNPINNED_WEIGHTS=1).
"""

from __future__ import annotations

import argparse
import time

START = time.perf_counter()
ROWS: list[tuple[str, float]] = []


def mark(name: str, since: float) -> float:
    now = time.perf_counter()
    ROWS.append((name, now - since))
    return now


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("stream")
    p.add_argument("--profile", default="sd15-lcm4-a1111")
    p.add_argument("--backend", default="sd15", choices=["sd15", "sdxl"])
    p.add_argument("--pixels", type=int, help="a decode area other than the profile's")
    p.add_argument("--decodes", type=int, default=2, choices=[1, 2], help="2: a second, warm one")
    a = p.parse_args()
    t = time.perf_counter()
    import torch

    t = mark("import torch", t)
    import diffusers  # noqa: F401
    from diffusers import StableDiffusionAdapterPipeline  # noqa: F401 (what a decode imports)

    t = mark("import diffusers (+ its pipelines)", t)
    import aigic
    from aigic.backends import get_backend
    from aigic.backends.conditions import adapter_inputs
    from aigic.backends.profiles import get_profile
    from aigic.needs import profile_codes

    t = mark("import aigic", t)
    from pathlib import Path

    data = Path(a.stream).read_bytes()
    code = profile_codes([a.profile])[0]
    options = {"pixels": a.pixels} if a.pixels else {}
    backend = get_backend(a.backend, **options)
    profile = get_profile(code)
    lay = aigic.read_layers(data)
    from dataclasses import replace

    lay = replace(lay, profile=code)
    kinds = adapter_inputs(lay, profile, lay.size)[0]
    backend._base(profile.base)
    t = mark("load base models (pins checked; prepared weights where kept)", t)
    pipe = backend.pipeline(profile, kinds)
    t = mark("adapters + pipeline", t)
    backend._use_lora(profile)
    t = mark("LoRA (loaded, unfused)" if profile.lora else "UNet (no LoRA)", t)
    spent = {"unet": 0.0, "vae": 0.0}

    def watch(name, module):
        def pre(_m, _a):
            spent[name + "_t"] = time.perf_counter()

        def post(_m, _a, _o):
            spent[name] += time.perf_counter() - spent.pop(name + "_t")

        module.register_forward_pre_hook(pre)
        module.register_forward_hook(post)

    watch("unet", pipe.unet)
    watch("vae", pipe.vae.decoder)
    for label in ("first decode", "second decode")[: a.decodes]:
        spent.update(unet=0.0, vae=0.0)
        with torch.inference_mode():
            aigic.decode(data, backend=backend, profile=code)
        t = mark(f"{label} (UNet {spent['unet']:.1f} s, VAE {spent['vae']:.1f} s)", t)
    total = sum(s for n, s in ROWS if not n.startswith("second"))
    print("| stage | s | share of a one-decode process |\n| --- | --- | --- |")
    for name, s in ROWS:
        share = "" if name.startswith("second") else f"{100 * s / total:.0f} %"
        print(f"| {name} | {s:.2f} | {share} |")
    print(f"| one decode from a fresh process (without the second) | {total:.2f} | |")


if __name__ == "__main__":
    main()
