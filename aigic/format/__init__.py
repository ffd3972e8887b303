"""The container: codes, framing, integers and limits. Bytes in, bytes out; no pixels here.

    codes.py      frozen, append-only integer codes (chunk types, layer codecs, profiles)
    limits.py     the coding-size rule and every size limit
    reader.py     varints and a bounds-checked cursor, shared by every payload parser
    container.py  Bitstream / Chunk, parse() and write(), CRCs

The normative text of the format is docs/FORMAT.md.
"""

from .container import Bitstream, Chunk, overhead, parse, write

__all__ = ["Bitstream", "Chunk", "overhead", "parse", "write"]
