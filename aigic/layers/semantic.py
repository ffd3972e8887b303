"""The semantic layer: the prompt text, coded losslessly.

    prompt (user | image metadata | captioner) --SemanticLayer--> payload
    payload = codec code + (UTF-8 text | prompt-model code): the encoder keeps the smaller

Payload layout: docs/FORMAT.md, "Semantic".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import FormatError
from ..format.codes import CHUNK_SEMANTIC, SEM_PROMPT_MODEL_V1, SEM_RAW_UTF8
from ..format.limits import MAX_PROMPT_BYTES
from ..imaging.metadata import prompt_from_metadata


@dataclass(frozen=True)
class SemanticLayer:
    text: str
    source: str | None = None  # where the prompt came from (not stored)
    name: ClassVar[str] = "semantic"
    chunk_type: ClassVar[int] = CHUNK_SEMANTIC

    @classmethod
    def from_image(cls, meta: dict, prompt: str | None = None) -> SemanticLayer:
        if prompt is not None:
            return cls(prompt, "user")
        text, source = prompt_from_metadata(meta)
        return cls(text, source)

    def to_payload(self) -> bytes:
        try:
            raw = self.text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("the prompt is not valid Unicode text (lone surrogates)") from None
        if len(raw) > MAX_PROMPT_BYTES:
            raise ValueError(f"prompt of {len(raw)} bytes exceeds {MAX_PROMPT_BYTES}")
        best = bytes([SEM_RAW_UTF8]) + raw
        try:
            from ..models.prompt import load_model

            coded = bytes([SEM_PROMPT_MODEL_V1]) + load_model().encode(self.text)
            if len(coded) < len(best) and load_model().decode(coded[1:]) == self.text:
                best = coded
        except (OSError, FormatError, UnicodeError):
            pass  # the model asset is missing or the text is unusual: raw UTF-8 is always valid
        return best

    @classmethod
    def from_payload(cls, payload: bytes) -> SemanticLayer:
        if not payload:
            raise FormatError("semantic payload is empty")
        codec, body = payload[0], payload[1:]
        if codec == SEM_RAW_UTF8:
            try:
                return cls(body.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise FormatError(f"semantic payload: text is not UTF-8 ({exc.reason})") from None
        if codec == SEM_PROMPT_MODEL_V1:
            from ..models.prompt import load_model

            return cls(load_model().decode(body))
        raise FormatError(f"semantic payload: unknown codec code {codec}")

    def condition(self, size: tuple[int, int] | None = None) -> str:
        """The prompt the decoder's text encoder reads (``size`` is not used)."""
        return self.text

    def preview(self) -> str:
        return self.text
