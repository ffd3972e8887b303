"""Frozen, append-only integer codes that appear in bitstreams.

A code, once released, never changes meaning: new behaviour gets a new code. Anything that
changes decoded pixels (model ids, revisions, steps, scales) is pinned here by a code that the
stream stores, so a stream decodes the same way next year.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

# ---- container ----------------------------------------------------------------------------
MAGIC = b"\xa1G"  # 2 bytes: a non-ASCII byte (so text tools do not take it for text) + "G"
FORMAT_MAJOR = 1
FORMAT_MINOR = 0

# Chunk types (one byte). Layers are ordered semantic < structure < texture in a stream.
# 0..127 critical: a reader that does not know the type keeps it but cannot use it.
# 128..255 ancillary, safe to copy: an editor that does not know the type copies it unchanged,
# a decoder that does not know it ignores it (docs/FORMAT.md, "Chunk types").
CHUNK_SEMANTIC = 1
CHUNK_STRUCTURE = 2
CHUNK_TEXTURE = 3
CHUNK_NEGATIVE = 128  # the image's own negative prompt, coded like the semantic layer (defined after 1.0 shipped)
LAYER_CHUNKS = MappingProxyType(
    {"semantic": CHUNK_SEMANTIC, "structure": CHUNK_STRUCTURE, "texture": CHUNK_TEXTURE}
)
CHUNK_NAMES = MappingProxyType(
    {**{v: k for k, v in LAYER_CHUNKS.items()}, CHUNK_NEGATIVE: "negative"}
)
ANCILLARY_FIRST = 128  # chunk types from here up are ancillary and safe to copy


def is_ancillary(ctype: int) -> bool:
    """Whether chunk type ``ctype`` is in the reserved ancillary, safe-to-copy range."""
    return ctype >= ANCILLARY_FIRST


# ---- layer codecs (first byte of each layer payload) -----------------------------------------
SEM_RAW_UTF8 = 0  # the prompt as plain UTF-8
SEM_PROMPT_MODEL_V1 = 1  # word bigram model + byte escape, models/assets/prompt_model_v1.npz
SEM_BROTLI = 2  # brotli (quality 11) of the UTF-8 text: text the prompt model codes badly
SEM_DEFLATE = 3  # raw deflate (zlib level 9, no zlib header or checksum) of the UTF-8 text
SEM_PROMPT_MODEL_V2 = 4  # v2: trigram + prompt cache, exact coder, prompt_model_v2.npz

# 0 was a pre-release edge-map coder (two-level context counts, range coded); refused, never reused
STRUCT_POSE_V1 = 1
STRUCT_EDGE_CM_V2 = 2
STRUCT_EDGE_NET_V3 = 3
STRUCT_EDGE_NET_V4 = 4
STRUCT_SKETCH_CM_V5 = 5
STRUCT_SKETCH_NET_V6 = 6
STRUCT_SKETCH_CM_V7 = 7
STRUCT_SKETCH_NET_V8 = 8
STRUCT_SKETCH_NET_V9 = 9
STRUCT_EDGE_NET_V10 = 10
STRUCT_LINES_CM_V11 = 11
STRUCT_LINES_NET_V12 = 12


@dataclass(frozen=True)
class StructureCodec:
    """What a structure codec code means: three independent choices packed into one byte.

    ``predictor``: the learned edge predictor (models/assets/edge_model_v<n>.npz) mixed into
    the map's context-mixing coder, 0 for none (None: not an edge map). ``redraw``: how the
    decoded grid is drawn at the decode size (layers/edgemap.py). ``written``: whether a writer
    may write it (False: read only, kept so old streams decode)."""

    predictor: int | None
    redraw: str
    written: bool = True


# The one table of structure codecs: layers/structure.py, the fuzz seeds and docs/FORMAT.md's
# table (checked by tests/test_spec.py) all come from it.
STRUCTURE_CODECS = MappingProxyType(
    {
        STRUCT_POSE_V1: StructureCodec(None, "pose"),  # OpenPose keypoints, quantized
        STRUCT_EDGE_CM_V2: StructureCodec(0, "links"),
        STRUCT_EDGE_NET_V3: StructureCodec(1, "links", written=False),
        STRUCT_EDGE_NET_V4: StructureCodec(2, "links"),
        STRUCT_SKETCH_CM_V5: StructureCodec(0, "strokes"),  # older sketches (before 7 .. 9)
        STRUCT_SKETCH_NET_V6: StructureCodec(2, "strokes"),
        STRUCT_SKETCH_CM_V7: StructureCodec(0, "learned strokes"),
        STRUCT_SKETCH_NET_V8: StructureCodec(3, "learned strokes"),  # v3: pooled sketch grids
        STRUCT_SKETCH_NET_V9: StructureCodec(4, "learned strokes"),  # v4: full sketch maps
        STRUCT_EDGE_NET_V10: StructureCodec(5, "links"),  # v5: thinned Canny grids
        STRUCT_LINES_CM_V11: StructureCodec(0, "learned lines"),
        STRUCT_LINES_NET_V12: StructureCodec(5, "learned lines"),
    }
)

TEX_LAB_DPCM_V1 = 0  # pre-release CIELAB DPCM coder (constriction); refused, never reused
TEX_LAB_GEO_V2 = 1  # CIELAB grid, L/chroma steps, MED DPCM, per-channel geometric, coding/bits.py

# ---- structure kinds (what the encoder extracted; tells the decoder which adapter) -----------
STRUCTURE_KINDS = MappingProxyType({"canny": 0, "sketch": 1, "pose": 2})
STRUCTURE_KIND_NAMES = MappingProxyType({v: k for k, v in STRUCTURE_KINDS.items()})

# ---- decoder profiles (header byte) ------------------------------------------------------------
# A profile pins everything a Stable Diffusion decode depends on. The weight-free preview
# decoder ignores the profile's models but honours the seed.
PROFILE_SD15_DPM25 = 0  # the prompt read as plain text, cut at 77 tokens
PROFILE_SD15_LCM4 = 1
PROFILE_SD15_DPM25_A1111 = 2  # as 0, the prompt read as A1111 does: emphasis, BREAK, 2 chunks
PROFILE_SD15_LCM4_A1111 = 3  # as 1, likewise
PROFILE_SD15_LCM4_TAESD_A1111 = 4  # as 3, the latents decoded by the tiny VAE (TAESD)
PROFILE_SDXL_DPM25_A1111 = 5  # SDXL base + T2I-Adapter-SDXL at ~1 MP, colour by img2img, A1111
PROFILE_SDXL_LCM4_A1111 = 6  # as 5 with LCM-LoRA-SDXL: 4 steps, no CFG
PROFILE_PAPER = 7  # Chen et al.'s released decoder: SD 1.4, sd14v1 adapters, 50 PNDM, lpw


# prompt tokens each profile's text encoder reads (CLIP: 77 = BOS + 75 + EOS, one window)
PROFILE_PROMPT_TOKENS = MappingProxyType(
    {
        PROFILE_SD15_DPM25: 75,
        PROFILE_SD15_LCM4: 75,
        PROFILE_SD15_DPM25_A1111: 150,
        PROFILE_SD15_LCM4_A1111: 150,
        PROFILE_SD15_LCM4_TAESD_A1111: 150,
        PROFILE_SDXL_DPM25_A1111: 150,
        PROFILE_SDXL_LCM4_A1111: 150,
        PROFILE_PAPER: 225,  # lpw_stable_diffusion's default: 3 windows of 75 tokens
    }
)


def profile_names() -> dict[int, str]:
    """Human names of the decoder profiles, by code."""
    return {
        PROFILE_SD15_DPM25: "sd15-dpm25",
        PROFILE_SD15_LCM4: "sd15-lcm4",
        PROFILE_SD15_DPM25_A1111: "sd15-dpm25-a1111",
        PROFILE_SD15_LCM4_A1111: "sd15-lcm4-a1111",
        PROFILE_SD15_LCM4_TAESD_A1111: "sd15-lcm4-taesd-a1111",
        PROFILE_SDXL_DPM25_A1111: "sdxl-dpm25-a1111",
        PROFILE_SDXL_LCM4_A1111: "sdxl-lcm4-a1111",
        PROFILE_PAPER: "paper",
    }
