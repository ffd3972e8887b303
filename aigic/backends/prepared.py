"""Weights prepared for this machine: a model's tensors kept in the number type and memory
layout a CPU decode runs them in, and mapped into memory on later loads.

    weight files (fp16 safetensors, as downloaded)
      --first load: from_pretrained, cast to bf16 / fp32, convolutions channels-last--> module
      --save (atomic)--> $AIGIC_STATE_DIR/prepared/<model>-<files' stamp>-<type>.safetensors
    a later load: the module built empty (meta) --assign--> the tensors mapped from that file
      (copy-on-write: nothing is read, cast or copied until a step touches it)

On a CPU the cast of a downloaded fp16 file and the channels-last copy of every convolution
cost most of a fresh process's loading, every time; a prepared file costs them once. It is
the same numbers in the same layout: the model computes exactly what from_pretrained's would
(tested). 4-D tensors are stored in channels-last order (N, H, W, C) and viewed back as
(N, C, H, W), so no copy is needed. A prepared file is found by the source files' path, size
and modification time: a new download prepares again, and the old file for that model is
deleted. ``AIGIC_PREPARED_WEIGHTS=0`` turns this off; nothing is written where the disk would
be left with less than the file's size again.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import struct
import tempfile
from pathlib import Path

from ..weights.files import state_path

FORMAT = "aigic-prepared-1"  # the file's layout; a change makes old files unused
# safetensors' names of the types a model's state can hold
_DTYPES = {
    "BF16": "bfloat16",
    "F16": "float16",
    "F32": "float32",
    "F64": "float64",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}


def enabled() -> bool:
    return os.environ.get("AIGIC_PREPARED_WEIGHTS", "1") not in ("0", "off", "no", "false")


def folder() -> Path:
    return state_path().parent / "prepared"


def kept() -> tuple[int, int]:
    """(files, bytes) of the prepared weights kept on this machine."""
    files = [p for p in folder().glob("*.safetensors") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def _sources(part: Path) -> list[Path]:
    return sorted(p for p in Path(part).glob("*.safetensors") if p.is_file())


def path_for(part: Path, dtype, channels_last: bool) -> Path | None:
    """Where the prepared copy of the model in folder ``part`` is (or would be) kept; None
    when the folder holds no safetensors."""
    sources = _sources(part)
    if not sources:
        return None
    model = hashlib.sha256(str(Path(part).resolve()).encode()).hexdigest()[:16]
    stamp = hashlib.sha256()
    for p in sources:
        st = p.stat()
        stamp.update(f"{p.name}|{st.st_size}|{st.st_mtime_ns}|".encode())
    kind = str(dtype).split(".")[-1] + ("-cl" if channels_last else "")
    return folder() / f"{model}-{stamp.hexdigest()[:16]}-{kind}.safetensors"


def save(module, path: Path) -> bool:
    """Write ``module``'s parameters and persistent buffers at ``path`` (atomically), 4-D
    channels-last ones in that order; False where it was not written (no room, an error)."""
    import torch
    from safetensors.torch import save_file

    tensors, permuted = {}, []
    for name, t in module.state_dict().items():
        if t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last):
            t = t.permute(0, 2, 3, 1)
            permuted.append(name)
        tensors[name] = t.contiguous()
    size = sum(t.numel() * t.element_size() for t in tensors.values())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(path.parent).free < 2 * size:
            return False
        name = path.name.split("-", 2)  # model, files' stamp, number type and layout
        for old in path.parent.glob(f"{name[0]}-*-{name[-1]}") if len(name) == 3 else ():
            old.unlink(missing_ok=True)  # the same model prepared from older files
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        os.close(fd)
        try:
            meta = {"format": FORMAT, "channels_last": json.dumps(permuted)}
            save_file(tensors, tmp, metadata=meta)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except Exception:  # noqa: BLE001 (a full disk, a read-only home: the decode goes on)
        return False
    return True


def read(path: Path) -> dict | None:
    """{name: tensor} mapped from a prepared file (copy-on-write), 4-D tensors viewed back in
    (N, C, H, W) order; None when the file is missing, damaged or of another format."""
    import torch

    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > size - 8:
                return None
            header = json.loads(f.read(n))
        meta = header.pop("__metadata__", {})
        if meta.get("format") != FORMAT:
            return None
        permuted = set(json.loads(meta["channels_last"]))
        storage = torch.UntypedStorage.from_file(str(path), shared=False, nbytes=size)
        tensors = {}
        for name, spec in header.items():
            dtype = getattr(torch, _DTYPES.get(spec["dtype"], ""), None)
            begin, end = spec["data_offsets"]
            shape = spec["shape"]
            if dtype is None or end > size - 8 - n:
                return None
            item = torch.empty((), dtype=dtype).element_size()
            if (8 + n + begin) % item or (end - begin) != item * math.prod(shape):
                return None
            t = torch.empty(0, dtype=dtype).set_(storage, (8 + n + begin) // item, shape)
            tensors[name] = t.permute(0, 3, 1, 2) if name in permuted else t
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, struct.error):
        return None  # a header that does not describe its own bytes
    return tensors


def build(cls, part: Path, tensors: dict):
    """The model of class ``cls`` (diffusers or transformers) from ``part``'s config, its
    weights the ``tensors`` given (assigned, not copied); None where they do not fit it."""
    from accelerate import init_empty_weights

    if hasattr(cls, "load_config"):  # diffusers
        config = cls.load_config(str(part))
        with init_empty_weights():
            module = cls.from_config(config)
    else:  # transformers
        config = cls.config_class.from_pretrained(str(part))
        with init_empty_weights():
            module = cls(config)
    try:
        module.load_state_dict(tensors, strict=True, assign=True)
    except RuntimeError:  # other names or shapes: prepared from something else
        return None
    return module.eval()
