"""The number type a Stable Diffusion decode computes in (a runtime choice: it changes pixels
slightly, never what the stream means).

    device --default_dtype--> fp16 on CUDA | bf16 on a CPU with native bf16 | fp32
    "auto" | "fp32" | "bf16" | "fp16" --dtype_named--> a torch dtype
"""

from __future__ import annotations

from ..errors import AigicError


def default_dtype(device: str):
    """fp16 on CUDA; bf16 on a CPU that computes it natively; fp32 elsewhere."""
    import torch

    if str(device).startswith("cuda"):
        return torch.float16
    return torch.bfloat16 if native_bf16() else torch.float32


def native_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic (x86: AVX512-BF16 or AMX; elsewhere oneDNN's own
    check). oneDNN also reports bf16 as supported on plain AVX-512, where it is emulated: a
    UNet step there takes 2.3x as long as in fp32 (measured on a 2-core AVX-512 Xeon), so
    that does not count."""
    import platform

    import torch

    if platform.machine().lower() in ("x86_64", "amd64", "i386", "i686"):
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()


def dtype_named(name: str, device: str):
    """``auto`` | ``fp32`` | ``bf16`` | ``fp16`` -> a torch dtype (auto: :func:`default_dtype`)."""
    import torch

    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if name != "auto" and name not in table:
        raise AigicError(f"unknown number type {name!r}: choose from auto, {', '.join(table)}")
    return default_dtype(device) if name == "auto" else table[name]
