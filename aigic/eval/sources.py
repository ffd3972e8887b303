"""Where ``aigic eval`` (and ``aigic encode`` over many images) read images from.

    SOURCE --items()--> [Item(key, prompt, read() -> image bytes)]
      a folder            every .png/.jpg/.jpeg/.webp in it (sorted); prompts from the images'
                          metadata (or a manifest.csv beside them with file,prompt)
      a glob              "data/*.png"
      a CSV               a path column (path | image | file | name: AGIQA-3K's data.csv) and a
                          prompt column, paths relative to the CSV's folder (or its images/)
      Parquet             an image column (bytes, or {"bytes": ...} as HF datasets write it)
                          and a prompt column (prompt | caption | text)
      WebDataset shards   .tar files: members grouped by key, an image and a .txt / .json
                          (prompt, caption or text)

Keys are stable across runs (a resumed run skips the keys it has). Nothing is decoded here.
"""

from __future__ import annotations

import csv
import glob
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import AigicError

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".webp")
PATH_COLUMNS = ("path", "image", "file", "name", "filename")
PROMPT_COLUMNS = ("prompt", "caption", "text")


@dataclass(frozen=True)
class Item:
    key: str
    prompt: str | None  # None: read the image's own metadata
    read: Callable[[], bytes]


def _file(path: Path, key: str, prompt: str | None = None) -> Item:
    return Item(key, prompt, lambda: path.read_bytes())


def _manifest(folder: Path) -> dict[str, str]:
    path = folder / "manifest.csv"
    if not path.is_file():
        return {}
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    col = next((c for c in PATH_COLUMNS if rows and c in rows[0]), None)
    return {Path(r[col]).name: r.get("prompt") or None for r in rows} if col else {}


def _folder(folder: Path) -> list[Item]:
    prompts = _manifest(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    return [_file(p, p.name, prompts.get(p.name)) for p in files]


def _csv(path: Path) -> list[Item]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return []
    col = next((c for c in PATH_COLUMNS if c in rows[0]), None)
    if col is None:
        raise AigicError(f"{path}: no path column (one of {', '.join(PATH_COLUMNS)})")
    text = next((c for c in PROMPT_COLUMNS if c in rows[0]), None)
    out = []
    for r in rows:
        rel = Path(r[col])
        found = next(
            (p for p in (path.parent / rel, path.parent / "images" / rel) if p.is_file()), None
        )
        if found is None:
            raise AigicError(f"{path}: {rel} is not beside it (nor in images/)")
        out.append(_file(found, rel.as_posix(), (r.get(text) or None) if text else None))
    return out


def _parquet(path: Path) -> list[Item]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    names = table.column_names
    image = next((c for c in ("image", "jpg", "png", "bytes") if c in names), None)
    if image is None:
        raise AigicError(f"{path}: no image column (image, jpg, png or bytes)")
    text = next((c for c in PROMPT_COLUMNS if c in names), None)
    images = table.column(image).to_pylist()
    prompts = table.column(text).to_pylist() if text else [None] * len(images)
    out = []
    for i, (cell, prompt) in enumerate(zip(images, prompts, strict=True)):
        data = cell.get("bytes") if isinstance(cell, dict) else cell
        if not isinstance(data, bytes):
            raise AigicError(f"{path}: row {i} holds no image bytes")
        out.append(Item(f"{path.name}#{i}", prompt, lambda d=data: d))
    return out


def _shard(path: Path) -> list[Item]:
    groups: dict[str, dict[str, bytes]] = {}
    with tarfile.open(path) as tar:
        for m in tar.getmembers():
            if not m.isfile():
                continue
            key, _, ext = m.name.partition(".")
            groups.setdefault(key, {})[ext.lower()] = tar.extractfile(m).read()
    out = []
    for key, parts in sorted(groups.items()):
        data = next((parts[e] for e in ("png", "jpg", "jpeg", "webp") if e in parts), None)
        if data is None:
            continue
        prompt = parts["txt"].decode("utf-8", "replace") if "txt" in parts else None
        if prompt is None and "json" in parts:
            meta = json.loads(parts["json"])
            prompt = next((meta[c] for c in PROMPT_COLUMNS if isinstance(meta.get(c), str)), None)
        out.append(Item(f"{path.name}#{key}", prompt, lambda d=data: d))
    return out


def items(source: str, limit: int | None = None) -> list[Item]:
    """The images of ``source`` (see the module docstring), at most ``limit``."""
    path = Path(source)
    if any(ch in source for ch in "*?["):
        paths = sorted(Path(p) for p in glob.glob(source, recursive=True))
        found = []
        for p in paths:
            found += (
                _by_kind(p)
                if p.suffix.lower() in (".tar", ".parquet")
                else [_file(p, p.as_posix())]
            )
    elif path.is_dir():
        found = _folder(path)
    elif path.is_file():
        found = _by_kind(path)
    else:
        raise AigicError(f"{source!r} is not a folder, file or glob that matches anything")
    if not found:
        raise AigicError(f"{source!r} holds no images")
    return found[:limit] if limit else found


def _by_kind(path: Path) -> list[Item]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path)
    if suffix == ".parquet":
        return _parquet(path)
    if suffix == ".tar":
        return _shard(path)
    if suffix in IMAGE_EXTS:
        return [_file(path, path.name)]
    raise AigicError(f"{path}: not an image, CSV, Parquet file or .tar shard")
