"""Train an edge predictor of the structure codecs (aigic/edgenet.py); write its integer weights.

    natural photos (Kodak x6, scikit-image samples x17) at short sides 384/512/640
      --cv2.Canny(100, 200) (--kind canny, canny-grids) or PiDiNet binarized at 1/2 (sketch,
        sketch-grids)--> maps, x4 by mirror and transpose [--kind sketch-grids: the 512 ones,
        each area-pooled by GRID_FACTORS as the encoder's "strokes" style pools; canny-grids:
        the 512 ones on grids of LINE_FACTORS, thinned as the "lines" style thins them]
      --causal windows (7 rows x 15 + 7 left), every window with an edge + 5% of the empty ones
      --MLP (torch, Adam, BCE)--> float weights --x 2^10, rounded-->
      aigic/models/assets/edge_model_v{2,3,4}.npz

No AIGI is used for training: the benchmark's images stay unseen. PiDiNet's weights come from
AIGIC_MODEL_DIR or the Hugging Face cache, as for encoding.

    python scripts/train_edge_model.py --kodak ../shared/data/natural_control
    AIGIC_MODEL_DIR=DIR python scripts/train_edge_model.py --kind sketch-grids --epochs 4
    AIGIC_MODEL_DIR=DIR python scripts/train_edge_model.py --kind sketch --epochs 4
    python scripts/train_edge_model.py --kind canny-grids --epochs 4

Each model was made with these settings (the 23 images, one hidden layer of 256):
edge_model_v2.npz (codec 4, --kind canny, 8 epochs: about 11 minutes on 2 cores and 9 GB of
memory, 45 M windows); edge_model_v3.npz (codecs 8, sketch-grids, 4 epochs: 3.6 M windows,
about 2 minutes); edge_model_v4.npz (codec 9, sketch, 4 epochs: 23 M windows, about 10
minutes); edge_model_v5.npz (codec 10, canny-grids, 4 epochs: 6.5 M windows, about 6
minutes). edge_model_v1.npz (codec 3) was made as v2 from the first 14 images (``--images 14``).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import skimage.data
import torch
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from aigic.encoder.extractors import canny, extract
from aigic.encoder.reduce import to_grid
from aigic.format.limits import coding_size
from aigic.imaging.images import to_array
from aigic.models.edgenet import ASSETS, MODELS, N_WINDOW, SCALE, R

SKIMAGE = ("astronaut", "coffee", "chelsea", "rocket", "camera", "horse", "coins", "clock",
           "brick", "grass", "gravel", "moon", "hubble_deep_field", "immunohistochemistry",
           "retina", "logo", "colorwheel")  # fmt: skip
SCALES = (384, 512, 640)
GRID_FACTORS = (3.2, 4, 5.33, 6.4, 8, 10.67)  # --kind sketch-grids
LINE_FACTORS = (4, 5.33, 6.4, 8, 10.67, 12.8)  # --kind canny-grids
# what to train on -> the model it makes
KINDS = {"canny": 2, "sketch-grids": 3, "sketch": 4, "canny-grids": 5}


def photos(kodak: Path, count: int):
    """The first ``count`` training images: the Kodak photos, then SKIMAGE in order."""
    kodaks = sorted(kodak.glob("kodim*.png"))
    for path in kodaks[:count]:
        yield np.asarray(Image.open(path).convert("RGB"))
    for name in SKIMAGE[: max(0, count - len(kodaks))]:
        a = getattr(skimage.data, name)()
        a = (a * 255).astype(np.uint8) if a.dtype == bool else a
        yield np.stack([a] * 3, -1) if a.ndim == 2 else a[..., :3]


def maps(kodak: Path, count: int, kind: str = "canny", scales=SCALES):
    """The training maps of ``kind``: each photo at each of ``scales`` (short sides), x4 by
    mirror and transpose."""
    for rgb in photos(kodak, count):
        im = Image.fromarray(rgb)
        for short in scales:
            a = to_array(im, coding_size(*im.size, short))
            m = canny(a) if kind == "canny" else extract(a, "sketch")
            yield from (m, m[:, ::-1], m.T, m.T[:, ::-1])


def sketch_maps(kodak: Path, count: int, scales=SCALES):
    """PiDiNet sketch maps of the first ``count`` photos (as :func:`maps`)."""
    return maps(kodak, count, "sketch", scales)


def windows(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Causal windows in edgenet's input order, and the pixel each one predicts."""
    h, w = m.shape
    padded = np.pad(m.astype(np.uint8), ((R, 0), (R, R)))
    win = sliding_window_view(padded, (R + 1, 2 * R + 1)).reshape(h * w, -1)
    return win[:, :N_WINDOW], m.reshape(-1).astype(np.uint8)


def pooled(source, factors, style: str):
    """(map, grid) for each map of ``source`` on a grid of each of ``factors``, made as the
    encoder's ``style`` makes it ("lines": plain, then repaired)."""
    for m in source:
        h, w = m.shape
        for f in factors:
            size = (max(1, round(w / f)), max(1, round(h / f)))
            for repair in (False, True) if style == "lines" else (True,):
                yield m, to_grid(m, size, repair, style)


def sketch_grids(kodak: Path, count: int):
    """The 512-pixel sketch maps pooled by each of GRID_FACTORS (style "strokes")."""
    return (g for _, g in pooled(sketch_maps(kodak, count, (512,)), GRID_FACTORS, "strokes"))


def canny_grids(kodak: Path, count: int):
    """The 512-pixel Canny maps on grids of each of LINE_FACTORS, thinned to lines as the
    encoder's "lines" style makes them (plain and repaired)."""
    return (g for _, g in pooled(maps(kodak, count, "canny", (512,)), LINE_FACTORS, "lines"))


def dataset(kodak: Path, count: int, rng, kind: str = "canny"):
    """Windows (uint8: a quarter of float32's memory), targets and weights."""
    xs, ys, ws = [], [], []
    grids = {"sketch-grids": sketch_grids, "canny-grids": canny_grids}
    source = grids[kind](kodak, count) if kind in grids else maps(kodak, count, kind)
    for m in source:
        x, y = windows(np.ascontiguousarray(m))
        busy = x.any(1)
        keep = busy | (rng.random(len(y)) < 0.05)
        xs.append(x[keep])
        ys.append(y[keep])
        ws.append(np.where(busy[keep], 1.0, 20.0))  # the sampled empty windows stand for all
    x = torch.from_numpy(np.concatenate(xs))
    return [x] + [torch.tensor(np.concatenate(a), dtype=torch.float32) for a in (ys, ws)]


def train(x, y, wt, hidden: tuple[int, ...], epochs: int) -> torch.nn.Sequential:
    sizes = (N_WINDOW, *hidden)
    layers = []
    for a, b in itertools.pairwise(sizes):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-1], 1))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    start = time.time()
    for epoch in range(epochs):
        order, total = torch.randperm(len(y)), 0.0
        for i in range(0, len(y), 4096):
            j = order[i : i + 4096]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(x[j].float()).squeeze(1), y[j], weight=wt[j]
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(j)
        for group in opt.param_groups:
            group["lr"] *= 0.6
        print(f"epoch {epoch}: loss {total / len(y):.4f} ({time.time() - start:.0f} s)")
    return net


def quantize(net: torch.nn.Sequential) -> dict[str, np.ndarray]:
    """Weights x 2^SCALE and biases at the fixed point of the sums they join (edgenet.py)."""
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    q = {}
    names = ("1", "2", "3") if len(lin) == 3 else ("1", "3")
    for name, layer, bias_scale in zip(names, lin, (SCALE, 2 * SCALE, 2 * SCALE)):
        w = layer.weight.detach().numpy().T
        q["w" + name] = np.round(w * 2**SCALE).astype(np.int32)
        q["b" + name] = np.round(layer.bias.detach().numpy() * 2**bias_scale).astype(np.int64)
    q["w3"] = q["w3"][:, 0]
    q.setdefault("w2", np.zeros((0, 0), dtype=np.int32))
    q.setdefault("b2", np.zeros(0, dtype=np.int64))
    return q


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kodak", type=Path, default=Path("../shared/data/natural_control"))
    p.add_argument("--hidden", default="256", help="hidden layer sizes (one or two)")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--images", type=int, default=6 + len(SKIMAGE), help="use the first N images")
    p.add_argument("--kind", choices=sorted(KINDS), default="canny", help="maps to train on")
    p.add_argument("--out", type=Path, help="default: the asset of the model --kind makes")
    a = p.parse_args()
    out = a.out or ASSETS / MODELS[KINDS[a.kind]][0]
    torch.manual_seed(0)
    torch.set_num_threads(2)
    x, y, wt = dataset(a.kodak, a.images, np.random.default_rng(0), a.kind)
    print(f"{len(y)} windows, {int(y.sum())} edges")
    net = train(x, y, wt, tuple(int(v) for v in a.hidden.split(",")), a.epochs)
    np.savez_compressed(out, **quantize(net))
    print(f"{out}: {out.stat().st_size} bytes, sha256 "
          f"{hashlib.sha256(out.read_bytes()).hexdigest()}")  # fmt: skip


if __name__ == "__main__":
    main()
