"""aigic: a layered codec for AI-generated images at ultra-low bitrates.

    image --encode--> .aigic = [header | semantic (prompt) | structure (edges) | texture (grid)]
          --decode (Stable Diffusion + T2I-Adapters, or the weight-free preview)--> image

Importing aigic does not import torch, diffusers or gradio. The package reads bottom up
(docs/ARCHITECTURE.md): format -> coding -> models | weights -> imaging -> layers ->
encoder | backends -> api -> info, edit, needs, notes, export -> testing -> eval -> cli.
"""

from .api import LAYERS, EncodeResult, EncodeSettings, decode, encode, encode_result, read_layers
from .errors import AigicError, BackendUnavailable, FormatError, ImageInputError
from .format.container import Bitstream, Chunk, parse, write
from .info import StreamInfo, inspect
from .links import from_link, to_link

__version__ = "0.1.0"
__all__ = [
    "LAYERS",
    "AigicError",
    "BackendUnavailable",
    "Bitstream",
    "Chunk",
    "EncodeResult",
    "EncodeSettings",
    "FormatError",
    "ImageInputError",
    "StreamInfo",
    "decode",
    "encode",
    "encode_result",
    "from_link",
    "inspect",
    "parse",
    "read_layers",
    "to_link",
    "write",
]
