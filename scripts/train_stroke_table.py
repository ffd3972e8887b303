"""Train a cell table of the structure codecs (aigic/models/strokes.py) and write it.

    --kind strokes (table 1, sketch codecs 7 .. 9):
    natural photos (Kodak x6, scikit-image samples x17; train_edge_model.photos) at short
      sides 384/512/640 --PiDiNet, binarized at 1/2--> sketch maps, x4 by mirror and transpose
      --area-pooled by each factor of FACTORS, a cell set where half of it is sketch
        (aigic.encoder.reduce, style "strokes")--> grids
      --count, per (3x3 pattern, phase), how often the map has a stroke pixel there-->
      entry = more often than not; fewer than MIN_SEEN samples: bilinear's answer
      --bit-packed--> aigic/models/assets/stroke_table_v1.npz

    --kind lines (table 2, Canny codecs 11, 12): the same photos' cv2.Canny(100, 200) maps at
      a 512-pixel short side, x4, on grids of LINE_FACTORS thinned to lines as the "lines"
      style makes them (plain and repaired) --count as above--> entry = an edge pixel there at
      least LINE_SHARE of the time (chosen on 6 held-out training photos; the decoder thins
      what the table draws to 1-px lines); unseen: 0 --> assets/line_table_v1.npz

No AIGI is used for training: the benchmark's images stay unseen. PiDiNet's weights come
from AIGIC_MODEL_DIR or the Hugging Face cache, as for encoding:

    AIGIC_MODEL_DIR=DIR python scripts/train_stroke_table.py --kodak ../shared/data/natural_control
    python scripts/train_stroke_table.py --kind lines

About 3 minutes (strokes, most of it PiDiNet) and 1 minute (lines) on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from train_edge_model import SKIMAGE, maps, pooled, sketch_maps

from aigic.models.strokes import ASSETS, PATTERNS, TABLES, P, bilinear_entries, features

FACTORS = (3.2, 4, 4.57, 5.33, 6.4, 7.11, 8, 9.14, 10.67)
LINE_FACTORS = (4, 5.33, 6.4, 8, 10.67)
LINE_SHARE = 0.18
MIN_SEEN = 4
TABLE_OF = {"strokes": 1, "lines": 2}


def grids(kodak: Path, count: int, kind: str):
    """(map, grid) pairs to count over."""
    if kind == "strokes":
        return pooled(sketch_maps(kodak, count), FACTORS, "strokes")
    return pooled(maps(kodak, count, "canny", (512,)), LINE_FACTORS, "lines")


def table(kodak: Path, count: int, kind: str = "strokes") -> np.ndarray:
    """The trained table, flat, indexed like strokes.features."""
    seen = np.zeros(PATTERNS * P * P)
    on = np.zeros(PATTERNS * P * P)
    for m, grid in grids(kodak, count, kind):
        index = features(grid, m.shape[::-1]).ravel()
        seen += np.bincount(index, minlength=seen.size)
        on += np.bincount(index, weights=m.ravel().astype(np.float64), minlength=seen.size)
    print(f"entries seen at least {MIN_SEEN} times: {(seen >= MIN_SEEN).mean():.1%}")
    if kind == "lines":
        return (seen >= MIN_SEEN) & (on >= LINE_SHARE * seen)
    return np.where(seen >= MIN_SEEN, on * 2 > seen, bilinear_entries())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kodak", type=Path, default=Path("../shared/data/natural_control"))
    p.add_argument("--images", type=int, default=6 + len(SKIMAGE), help="use the first N images")
    p.add_argument("--kind", choices=sorted(TABLE_OF), default="strokes")
    p.add_argument("--out", type=Path, help="default: the asset of the table --kind makes")
    a = p.parse_args()
    out = a.out or ASSETS / TABLES[TABLE_OF[a.kind]][0]
    np.savez_compressed(out, table=np.packbits(table(a.kodak, a.images, a.kind)))
    print(f"{out}: {out.stat().st_size} bytes, sha256 "
          f"{hashlib.sha256(out.read_bytes()).hexdigest()}")  # fmt: skip


if __name__ == "__main__":
    main()
