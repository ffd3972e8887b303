"""Train the stroke table of sketch codecs 7 and 8 (aigic/models/strokes.py) and write it.

    natural photos (Kodak x6, scikit-image samples x17; train_edge_model.photos) at short
      sides 384/512/640 --PiDiNet, binarized at 1/2--> sketch maps, x4 by mirror and transpose
      --area-pooled by each factor of FACTORS, a cell set where half of it is sketch
        (aigic.encoder.reduce, style "strokes")--> grids
      --count, per (3x3 pattern, phase), how often the map has a stroke pixel there-->
      entry = more often than not; fewer than MIN_SEEN samples: bilinear's answer
      --bit-packed--> aigic/models/assets/stroke_table_v1.npz

No AIGI is used for training: the benchmark's images stay unseen. PiDiNet's weights come
from AIGIC_MODEL_DIR or the Hugging Face cache, as for encoding:

    AIGIC_MODEL_DIR=DIR python scripts/train_stroke_table.py --kodak ../shared/data/natural_control

About 3 minutes on 2 cores (most of it PiDiNet).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from train_edge_model import SKIMAGE, sketch_maps

from aigic.encoder.reduce import to_grid
from aigic.models.strokes import ASSETS, PATTERNS, TABLES, P, bilinear_entries, features

FACTORS = (3.2, 4, 4.57, 5.33, 6.4, 7.11, 8, 9.14, 10.67)
MIN_SEEN = 4


def table(kodak: Path, count: int) -> np.ndarray:
    """The trained table, flat, indexed like strokes.features."""
    seen = np.zeros(PATTERNS * P * P)
    on = np.zeros(PATTERNS * P * P)
    for m in sketch_maps(kodak, count):
        h, w = m.shape
        for f in FACTORS:
            grid = to_grid(m, (max(1, round(w / f)), max(1, round(h / f))), style="strokes")
            index = features(grid, (w, h)).ravel()
            seen += np.bincount(index, minlength=seen.size)
            on += np.bincount(index, weights=m.ravel().astype(np.float64), minlength=seen.size)
    learned = on * 2 > seen
    print(f"entries seen at least {MIN_SEEN} times: {(seen >= MIN_SEEN).mean():.1%}")
    return np.where(seen >= MIN_SEEN, learned, bilinear_entries())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kodak", type=Path, default=Path("../shared/data/natural_control"))
    p.add_argument("--images", type=int, default=6 + len(SKIMAGE), help="use the first N images")
    p.add_argument("--out", type=Path, default=ASSETS / TABLES[max(TABLES)][0])
    a = p.parse_args()
    np.savez_compressed(a.out, table=np.packbits(table(a.kodak, a.images)))
    print(f"{a.out}: {a.out.stat().st_size} bytes, sha256 "
          f"{hashlib.sha256(a.out.read_bytes()).hexdigest()}")  # fmt: skip


if __name__ == "__main__":
    main()
