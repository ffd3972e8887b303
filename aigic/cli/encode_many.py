"""``aigic encode SOURCE -o streams.parquet``: a collection of images archived as its streams.

    SOURCE (a folder, glob, CSV, Parquet or .tar shards: eval_sources) --a local process pool,
    one encode per image--> streams.parquet, one row per image:
      key | prompt | stream (the .aigic bytes) | bytes | bpp | width | height |
      semantic_bytes | structure_bytes | texture_bytes | negative_bytes | error

An image that cannot be encoded gets a row with its one-line error and no stream, so a
dataset's bad files are listed rather than lost. Read it back with pyarrow or pandas; each
``stream`` decodes with ``aigic.decode``.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from .. import api
from ..encoder.settings import EncodeSettings
from ..errors import AigicError
from ..eval.sources import items

LAYER_COLUMNS = ("semantic", "structure", "texture", "negative")


COLUMNS = ("key", "prompt", "stream", "bytes", "bpp", "width", "height")
COLUMNS += (*(f"{n}_bytes" for n in LAYER_COLUMNS), "error")


def _one(job) -> dict:
    key, data, prompt, settings = job
    row = dict.fromkeys(COLUMNS) | {"key": key, "prompt": prompt}
    if prompt is not None:  # the collection's own prompt for this image wins
        settings = replace(settings, prompt=prompt)
    try:
        stream = api.encode_result(data, settings).data
    except (AigicError, ValueError) as exc:
        return row | {"error": str(exc).splitlines()[0]}
    bs = api.parse(stream)
    sizes = {c.name: len(c.payload) for c in bs.chunks}
    row |= {"stream": stream, "bytes": len(stream), "width": bs.width, "height": bs.height}
    row["bpp"] = len(stream) * 8 / (bs.width * bs.height)
    return row | {f"{n}_bytes": sizes.get(n, 0) for n in LAYER_COLUMNS}


def _share_cores(threads: int) -> None:
    """A worker's thread count, so the pool's workers together use each core once (torch
    reads these when a worker first imports it for PiDiNet)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def encode_many(
    source: str, output: str, settings: EncodeSettings, workers: int | None = None
) -> list:
    """Encode every image of ``source`` with ``settings`` into the Parquet file ``output``."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from tqdm import tqdm

    found = items(source)
    jobs = [(it.key, it.read(), it.prompt, settings) for it in found]
    workers = workers or os.cpu_count() or 1
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, initializer=_share_cores, initargs=(threads,)) as pool:
        rows = list(tqdm(pool.map(_one, jobs), total=len(jobs), desc="encode"))
    try:
        pq.write_table(pa.Table.from_pylist(rows), output)
    except OSError as exc:
        raise AigicError(f"cannot write {output!r}: {exc}") from None
    return rows


def is_collection(a) -> bool:
    """Whether ``encode`` was given a collection (a folder, glob, CSV, Parquet or shards)."""
    source = str(a.input)
    return (
        a.output.endswith(".parquet")
        or os.path.isdir(source)
        or any(ch in source for ch in "*?[")
        or source.lower().endswith((".csv", ".parquet", ".tar"))
    )


def run(a, settings: EncodeSettings) -> None:
    """The ``encode`` command for a collection (cli/encode.py hands it over)."""
    from statistics import median

    if not a.output.endswith(".parquet"):
        raise AigicError(f"a collection is encoded into a .parquet file, not {a.output!r}")
    rows = encode_many(str(a.input), a.output, settings)
    good = [r for r in rows if r["stream"] is not None]
    sizes = [r["bytes"] for r in good]
    print(
        f"{a.output}: {len(good)} streams (median {median(sizes) if sizes else 0:.0f} bytes, "
        f"{sum(sizes)} in all); {len(rows) - len(good)} images could not be encoded"
    )
    for r in rows:
        if r["error"]:
            print(f"note: {r['key']}: {r['error']}", file=sys.stderr)
