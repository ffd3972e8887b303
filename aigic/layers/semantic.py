"""The semantic layer: the prompt text, coded losslessly.

    prompt (user | image metadata | captioner) --SemanticLayer--> payload
    payload = codec code + (UTF-8 text | prompt model v1 or v2 | brotli | deflate): the
    encoder keeps the smallest
    negative prompt (image metadata | user) --NegativePrompt--> the same payload, chunk 128

Payload layout: docs/FORMAT.md, "Semantic".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import FormatError
from ..format.codes import (
    CHUNK_NEGATIVE,
    CHUNK_SEMANTIC,
    SEM_BROTLI,
    SEM_DEFLATE,
    SEM_PROMPT_MODEL_V1,
    SEM_PROMPT_MODEL_V2,
    SEM_RAW_UTF8,
)
from ..format.limits import MAX_PROMPT_BYTES, MAX_PROMPT_TOKENS

_MODELS = (SEM_PROMPT_MODEL_V1, SEM_PROMPT_MODEL_V2)  # the prompt-model codecs


@dataclass(frozen=True)
class SemanticLayer:
    text: str
    source: str | None = None  # where the prompt came from (not stored)
    name: ClassVar[str] = "semantic"
    chunk_type: ClassVar[int] = CHUNK_SEMANTIC

    def to_payload(self) -> bytes:
        try:
            raw = self.text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the prompt is not valid Unicode text (lone surrogates)") from None
        if len(raw) > MAX_PROMPT_BYTES:
            raise ValueError(f"prompt of {len(raw)} bytes exceeds {MAX_PROMPT_BYTES}")
        import zlib

        import brotli

        from ..models.prompt import tokenize

        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        # a text of more symbols than a reader decodes is not model-coded
        models = () if len(tokenize(self.text)) >= MAX_PROMPT_TOKENS else _MODELS
        candidates = [  # the shortest wins, the first on a tie
            bytes([SEM_RAW_UTF8]) + raw,
            *(self._modelled(codec) for codec in models),
            bytes([SEM_BROTLI]) + brotli.compress(raw, quality=11),
            bytes([SEM_DEFLATE]) + deflate.compress(raw) + deflate.flush(),
        ]
        return min((c for c in candidates if c is not None), key=len)

    def _modelled(self, codec: int) -> bytes | None:
        """The text coded by prompt model ``codec``, or None where the model cannot code it."""
        try:
            model = _prompt_model(codec)
            coded = bytes([codec]) + model.encode(self.text)
            return coded if model.decode(coded[1:]) == self.text else None
        except (OSError, FormatError, UnicodeError):
            return None  # the model asset is missing or the text is unusual

    @classmethod
    def from_payload(cls, payload: bytes) -> SemanticLayer:
        if not payload:
            raise FormatError("semantic payload is empty")
        codec, body = payload[0], payload[1:]
        if codec == SEM_RAW_UTF8:
            return cls(_utf8(body))
        if codec in _MODELS:
            return cls(_prompt_model(codec).decode(body))
        if codec in (SEM_BROTLI, SEM_DEFLATE):
            return cls(_utf8(_inflate(codec, body)))
        raise FormatError(f"semantic payload: unknown codec code {codec}")

    def condition(self, size: tuple[int, int] | None = None) -> str:
        """The prompt the decoder's text encoder reads (``size`` is not used)."""
        return self.text

    def preview(self) -> str:
        return self.text


@dataclass(frozen=True)
class NegativePrompt(SemanticLayer):
    """The image's own negative prompt: an ancillary chunk (128) beside the semantic layer,
    coded as it is. A decoder with classifier-free guidance uses it instead of its profile's
    fixed negative prompt; one that does not know the chunk ignores it."""

    name: ClassVar[str] = "negative"
    chunk_type: ClassVar[int] = CHUNK_NEGATIVE


def _prompt_model(codec: int):
    from ..models.prompt import load_model, load_model_v2

    return load_model() if codec == SEM_PROMPT_MODEL_V1 else load_model_v2()


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"semantic payload: text is not UTF-8 ({exc.reason})") from None


def _inflate(codec: int, body: bytes) -> bytes:
    """The text bytes of a brotli or deflate body, never more than MAX_PROMPT_BYTES."""
    import zlib

    import brotli

    try:
        if codec == SEM_BROTLI:
            d = brotli.Decompressor()
            out = d.process(body, output_buffer_limit=MAX_PROMPT_BYTES + 1)
            done = d.is_finished()
        else:
            d = zlib.decompressobj(-15)
            out = d.decompress(body, MAX_PROMPT_BYTES + 1)
            done = d.eof and not d.unconsumed_tail
    except (brotli.error, zlib.error) as exc:
        raise FormatError(f"semantic payload: damaged compressed text ({exc})") from None
    if len(out) > MAX_PROMPT_BYTES:
        raise FormatError(f"semantic payload: text over {MAX_PROMPT_BYTES} bytes")
    if not done:
        raise FormatError("semantic payload: compressed text is truncated")
    return out
