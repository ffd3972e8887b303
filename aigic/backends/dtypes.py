"""The number type a Stable Diffusion decode computes in (a runtime choice: it changes pixels
slightly, never what the stream means).

    device --default_dtype--> fp16 on CUDA | bf16 on a CPU with native bf16 | fp32
    "auto" | "fp32" | "bf16" | "fp16" --dtype_named--> a torch dtype
"""

from __future__ import annotations

from ..errors import AigicError


def default_dtype(device: str):
    """fp16 on CUDA; bf16 on a CPU with native bf16 (AVX512-BF16 / AMX: ~3x faster UNet than
    fp32, measured by ``aigic bench-decode``); fp32 elsewhere."""
    import torch

    if str(device).startswith("cuda"):
        return torch.float16
    if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return torch.float32


def dtype_named(name: str, device: str):
    """``auto`` | ``fp32`` | ``bf16`` | ``fp16`` -> a torch dtype (auto: :func:`default_dtype`)."""
    import torch

    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if name != "auto" and name not in table:
        raise AigicError(f"unknown number type {name!r}: choose from auto, {', '.join(table)}")
    return default_dtype(device) if name == "auto" else table[name]
