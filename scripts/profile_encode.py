"""Where an encode's time goes: PiDiNet, rate control's trials, the grid refinement, the coders.

    python scripts/profile_encode.py IMAGE... [--preset default] [--structure sketch]

Times (wall, this process) each stage of ``aigic.encode_result`` by wrapping the functions that
do the work, for each image after a first warm-up encode (the models and compiled kernels are
then loaded), and prints a table: seconds per image and the share of each stage. Nested stages
(a coder inside a trial) are counted in both, and work on other threads (codecs and edge
styles side by side) at its own length, so the shares may add up to more than the whole.
PiDiNet's weights come from AIGIC_MODEL_DIR.
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import time
from collections import defaultdict

STAGES = {  # stage name: (module, function)
    "extract (PiDiNet / Canny)": ("aigic.encoder.extractors", "extract"),
    "plain-grid trials": ("aigic.encoder.ratecontrol", "_with_map"),
    "refined grids": ("aigic.encoder.ratecontrol", "_refined"),
    "  of which refinement rounds": ("aigic.encoder.rdgrid", "Refinement.run"),
    "map coder (in both)": ("aigic.layers.structure", "encode_map"),
    "fidelity (Dice / F1)": ("aigic.encoder.ratecontrol", "_fidelity"),
    "texture layer": ("aigic.layers.texture", "TextureLayer.from_image"),
}


def _wrap(spent: dict, name: str, owner, attr: str) -> None:
    inner = getattr(owner, attr)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start

    bound = isinstance(owner, type) and inspect.ismethod(inner)  # a classmethod
    setattr(owner, attr, staticmethod(timed) if bound else timed)


def main() -> None:
    from importlib import import_module

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("images", nargs="+")
    p.add_argument("--preset", default="default")
    p.add_argument("--structure", default="sketch")
    a = p.parse_args()
    t0 = time.perf_counter()
    import aigic

    imported = time.perf_counter() - t0
    spent: dict[str, float] = defaultdict(float)
    for name, (module, function) in STAGES.items():
        owner = import_module(module)
        *path, attr = function.split(".")
        for part in path:
            owner = getattr(owner, part)
        _wrap(spent, name, owner, attr)
    t0 = time.perf_counter()
    aigic.encode_result(a.images[0], preset=a.preset, structure=a.structure)
    first = time.perf_counter() - t0
    totals, per_stage = [], defaultdict(list)
    for image in a.images:
        spent.clear()
        t0 = time.perf_counter()
        aigic.encode_result(image, preset=a.preset, structure=a.structure)
        totals.append(time.perf_counter() - t0)
        for name in STAGES:
            per_stage[name].append(spent[name])
    print(
        f"import aigic {imported:.2f} s; first encode (models load, kernels compile) {first:.2f} s"
    )
    median = statistics.median(totals)
    print(
        f"warm encodes of {len(totals)} images, preset {a.preset}, {a.structure}: median {median:.2f} s"
    )
    print(f"{'stage':<28} {'median s':>9} {'share':>6}")
    for name in STAGES:
        m = statistics.median(per_stage[name])
        print(f"{name:<28} {m:>9.3f} {m / median:>6.0%}")


if __name__ == "__main__":
    main()
