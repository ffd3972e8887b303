"""The coding-size rule and every size limit of format v1, in one place (docs/FORMAT.md,
"Limits", says why each is what it is).

    original (W, H) --coding_size()--> (W', H'): short side 512, both sides multiples of 64

The coding size is derived from the header's original size, never stored: every layer is
coded at it (the structure grid divides it, the colour grid is it / 64).
"""

from __future__ import annotations

# ---- container ---------------------------------------------------------------------------
MAX_STREAM_BYTES = 16 << 20  # a parser refuses larger inputs before reading them
MAX_CHUNK_BYTES = 4 << 20  # one payload; a lossless 512 x 4096 edge map needs < 300 KB
MAX_CHUNKS = 255  # the chunk count is one byte
MAX_SIDE = 65535  # original width and height: 16 bits are plenty for any generator
MAX_SEED = 2**32 - 1  # decoder seeds are 32-bit, as torch.Generator and diffusers use them

# ---- the coding size ---------------------------------------------------------------------
SHORT_SIDE = 512  # format v1: SD 1.5's native resolution
CODING_STEP = 64  # both sides are multiples of 64: the latent (8x) and the colour grid (64x)
MAX_CODING_SIDE = 4096  # an 8:1 panorama at 512; longer sides are clamped

# ---- layer payloads ------------------------------------------------------------------------
MAX_PROMPT_BYTES = 64 << 10  # the semantic layer's UTF-8 text
MAX_GRID_SIDE = MAX_CODING_SIDE  # a structure grid is never finer than the coding size
MAX_GRID_PIXELS = SHORT_SIDE * MAX_CODING_SIDE  # the largest coding size
MAX_TEXTURE_SIDE = 256  # colour grid cells per side (4096 / 64 = 64, with room to spare)
MAX_PEOPLE = 64  # pose keypoint sets per stream; OpenPose rarely finds more than a crowd's front
POSE_BITS = (4, 12)  # bits per keypoint coordinate: a 16 .. 4096 lattice
MAX_PROMPT_TOKENS = 4096  # prompt-model symbols per payload (CLIP reads 77 per chunk)
MAX_ESC_BYTES = 256  # UTF-8 bytes of one escaped (out-of-vocabulary) prompt token


def coding_size(width: int, height: int, short_side: int = SHORT_SIDE) -> tuple[int, int]:
    """Aspect-preserving size, both sides multiples of 64, the short side ``short_side``."""
    if short_side % CODING_STEP or short_side < CODING_STEP:
        raise ValueError(f"short side {short_side} must be a positive multiple of {CODING_STEP}")
    scale = short_side / min(width, height)
    w = max(CODING_STEP, min(MAX_CODING_SIDE, round(width * scale / CODING_STEP) * CODING_STEP))
    h = max(CODING_STEP, min(MAX_CODING_SIDE, round(height * scale / CODING_STEP) * CODING_STEP))
    return w, h
