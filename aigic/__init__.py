"""aigic: a layered codec for AI-generated images at ultra-low bitrates.

    image --encode--> .aigic = [header | semantic (prompt) | structure (edges) | texture (grid)]
          --decode (Stable Diffusion + T2I-Adapters, or the weight-free preview)--> image

Importing aigic does not import torch, diffusers or gradio.
"""

from .codec import LAYERS, decode, encode, inspect, read_layers
from .container import Bitstream, Chunk, parse, write
from .errors import AigicError, BackendUnavailable, FormatError, ImageInputError

__version__ = "0.1.0"
__all__ = [
    "LAYERS",
    "AigicError",
    "BackendUnavailable",
    "Bitstream",
    "Chunk",
    "FormatError",
    "ImageInputError",
    "decode",
    "encode",
    "inspect",
    "parse",
    "read_layers",
    "write",
]
