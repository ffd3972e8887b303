"""The prompt an image carries in its own generation metadata.

Sources, tried in order: AUTOMATIC1111 ``parameters``; ComfyUI ``prompt`` (the text of the
text-encode node wired to the sampler's positive input); InvokeAI ``invokeai_metadata``,
``sd-metadata`` and ``Dream``; EXIF UserComment / ImageDescription; XMP ``dc:description``.
Returns ``(prompt, source)`` or ``("", None)``; :func:`read_prompt` also says which sources
were skipped and why.

Every reader is best-effort: metadata is untrusted. A reader that fails on malformed, hostile
or absurd input (deep nesting, link cycles, wrong types, binary or control bytes, undecodable
text, huge values) is skipped with a note and the next source is tried; what a reader finds
becomes the prompt only if it looks like text a person wrote (:func:`_plausible`).
"""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from dataclasses import dataclass

_TEXT_KEYS = ("text", "text_g", "prompt", "positive", "string", "value", "clip_l", "t5xxl")
MAX_VALUE_CHARS = 1 << 20  # a metadata value longer than this is not read at all
MAX_PROMPT_CHARS = 8000  # a "prompt" longer than this is junk, not a prompt (A1111's are < 3000)
MAX_COMFY_NODES = 10_000


def _a1111(text: str) -> str:
    prompt = re.split(r"\n(?:Negative prompt:|Steps: )", text, maxsplit=1)[0]
    return prompt.strip()


def _a1111_negative(text: str) -> str:
    """The ``Negative prompt:`` of A1111 parameters (it may span lines, up to ``Steps:``)."""
    m = re.search(r"\nNegative prompt:(.*?)(?:\nSteps: |\Z)", str(text), re.DOTALL)
    return m.group(1).strip() if m else ""


def _comfy_text(graph: dict, ref, depth: int = 0, seen: set | None = None) -> str | None:
    """Follow a ``[node_id, slot]`` link back to a node that holds text (each node visited
    once, so a graph with cycles or fan-in is walked in linear time)."""
    seen = set() if seen is None else seen
    if depth > 12 or not isinstance(ref, list) or not ref or str(ref[0]) in seen:
        return None
    seen.add(str(ref[0]))
    node = graph.get(str(ref[0]))
    if not isinstance(node, dict):
        return None
    inputs = node.get("inputs", {}) if isinstance(node.get("inputs"), dict) else {}
    for key in _TEXT_KEYS:
        if isinstance(inputs.get(key), str) and inputs[key].strip():
            return inputs[key].strip()
    for key in ("conditioning", "positive", "conditioning_1", "text", "clip", "guider"):
        found = _comfy_text(graph, inputs.get(key), depth + 1, seen)
        if found:
            return found
    return None


def _graph(text: str) -> dict | None:
    """A ComfyUI prompt graph (None when the JSON is not an object; too large: ValueError)."""
    graph = json.loads(text)
    if not isinstance(graph, dict):
        return None
    if len(graph) > MAX_COMFY_NODES:
        raise ValueError(f"a graph of {len(graph)} nodes")
    return graph


def _comfy(text: str) -> str | None:
    graph = _graph(text)
    if graph is None:
        return None
    nodes = [n for n in graph.values() if isinstance(n, dict)]
    seen: set = set()  # shared by every walk: the whole search visits each node once
    for node in nodes:  # the sampler's positive input first
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        if "positive" in inputs or "guider" in inputs:
            found = _comfy_text(graph, inputs.get("positive") or inputs.get("guider"), 0, seen)
            if found:
                return found
    for node in nodes:  # else the first text-encode node with text
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        if "TextEncode" in str(node.get("class_type", "")) and isinstance(inputs.get("text"), str):
            return inputs["text"].strip()
    return None


def _comfy_negative(text: str) -> str:
    """The text wired to a sampler's negative input."""
    graph = _graph(text)
    for node in (graph or {}).values():
        inputs = node.get("inputs") if isinstance(node, dict) else None
        if isinstance(inputs, dict) and "negative" in inputs:
            found = _comfy_text(graph, inputs["negative"])
            if found:
                return found
    return ""


def _invoke_negative(text: str) -> str:
    data = json.loads(text)
    return str(data.get("negative_prompt") or "").strip() if isinstance(data, dict) else ""


def _negative(key: str, value) -> str:
    """The negative prompt beside the prompt found under ``key`` ('' when it has none)."""
    if key == "parameters":
        return _a1111_negative(value)
    if key == "prompt":
        return _comfy_negative(value)
    if key == "invokeai_metadata":
        return _invoke_negative(value)
    if key.startswith("exif_"):
        return _a1111_negative(_exif_text(value))
    return ""


def _invoke(key: str, text: str) -> str | None:
    if key == "Dream":
        parts = shlex.split(text) if text.startswith('"') else [text.split(" -")[0]]
        return parts[0].strip() if parts else None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError(f"{type(data).__name__} where a JSON object belongs")
    if key == "invokeai_metadata":
        return str(data.get("positive_prompt") or "").strip() or None
    image = data.get("image") or {}
    prompt = image.get("prompt") if isinstance(image, dict) else None
    if isinstance(prompt, list):
        prompt = " ".join(str(p.get("prompt", "")) for p in prompt if isinstance(p, dict))
    return str(prompt).strip() if prompt else None


def _exif_text(value) -> str:
    """An EXIF UserComment / ImageDescription as text (its 8-byte charset header honoured)."""
    if isinstance(value, bytes):
        head, body = value[:8], value[8:]
        if head.startswith(b"UNICODE"):
            enc = "utf-16-be" if body[:1] == b"\0" else "utf-16-le"
            value = body.decode(enc, errors="replace")
        else:
            value = (
                body.decode("utf-8", errors="replace")
                if head.startswith(b"ASCII")
                else value.decode("utf-8", errors="replace")
            )
    return str(value).strip("\0 \n")


def _exif_comment(value) -> str | None:
    text = _exif_text(value)
    return _a1111(text) if text else None


def _xmp(text) -> str | None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    m = re.search(r"<dc:description>.*?<rdf:li[^>]*>(.*?)</rdf:li>", text, re.DOTALL)
    return m.group(1).strip() if m else None


@dataclass(frozen=True)
class PromptReading:
    """What the metadata readers found: the prompt ('' when none), the source it came from,
    and one note per source that was there but skipped (``"parameters: binary bytes"``)."""

    text: str
    source: str | None
    skipped: tuple[str, ...] = ()
    negative: str = ""  # the negative prompt beside it, where the source has one


def _plausible(text) -> str:
    """``text`` as a prompt, or a ValueError saying why it is not one."""
    if not isinstance(text, str):
        raise TypeError(f"{type(text).__name__}, not text")
    text = text.strip()
    if len(text) > MAX_PROMPT_CHARS:
        raise ValueError(f"{len(text)} characters, over {MAX_PROMPT_CHARS}")
    if "\ufffd" in text:
        raise ValueError("bytes that are not UTF-8")
    bad = [
        c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\n\t\r"
    ]
    if bad:
        raise ValueError(f"{len(bad)} control or unassigned characters (binary data?)")
    return text


def _attempts():
    return (
        ("parameters", _a1111),
        ("prompt", _comfy),
        ("invokeai_metadata", lambda v: _invoke("invokeai_metadata", v)),
        ("Dream", lambda v: _invoke("Dream", v)),
        ("sd-metadata", lambda v: _invoke("sd-metadata", v)),
        ("exif_user_comment", _exif_comment),
        ("exif_image_description", _exif_comment),
        ("XML:com.adobe.xmp", _xmp),
        ("xmp", _xmp),
    )


def read_prompt(meta: dict) -> PromptReading:
    """The generation prompt found in ``meta`` (from :func:`aigic.imaging.images.load_image`),
    trying each source in order; never raises on what the metadata holds."""
    skipped = []
    for key, parse in _attempts():
        value = meta.get(key) if isinstance(meta, dict) else None
        if value is None:
            continue
        try:
            if not isinstance(value, (str, bytes)):
                raise TypeError(f"{type(value).__name__}, not text")
            if len(value) > MAX_VALUE_CHARS:
                raise ValueError(f"{len(value)} characters, over {MAX_VALUE_CHARS}")
            if isinstance(value, bytes) and key not in ("exif_user_comment", "xmp"):
                value = value.decode("utf-8", errors="replace")
            found = parse(value)
            if found:
                text = _plausible(found)
                negative = _read_negative(key, value, skipped)
                return PromptReading(text, key, tuple(skipped), negative)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            why = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            skipped.append(f"{key}: {why}")
    return PromptReading("", None, tuple(skipped))


def _read_negative(key: str, value, skipped: list) -> str:
    """The plausible negative prompt of source ``key``, or '' with a note in ``skipped``."""
    try:
        found = _negative(key, value)
        return _plausible(found) if found else ""
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        why = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        skipped.append(f"negative prompt: {why}")
        return ""


def prompt_from_metadata(meta: dict) -> tuple[str, str | None]:
    """``(prompt, source)`` of :func:`read_prompt`, or ``("", None)``."""
    found = read_prompt(meta)
    return found.text, found.source


_MODEL_KEYS = ("ckpt_name", "unet_name", "model_name", "model_weights", "model")


def _model_in(value, depth: int = 0) -> str | None:
    """A checkpoint name under one of the model keys of a parsed JSON value (2 levels)."""
    if depth > 2 or not isinstance(value, dict):
        return None
    for key in _MODEL_KEYS:
        found = value.get(key)
        if isinstance(found, str) and 0 < len(found) <= 200:
            return found
    for inner in list(value.values())[:MAX_COMFY_NODES]:
        found = _model_in(
            inner.get("inputs", inner) if isinstance(inner, dict) else None, depth + 1
        )
        if found:
            return found
    return None


def model_name(meta: dict) -> str | None:
    """The generating model's name from the image's metadata (A1111 ``Model:``, a ComfyUI
    checkpoint or UNet loader, InvokeAI's model), or None. Best-effort, like the prompt."""
    text = meta.get("parameters")
    if isinstance(text, str) and len(text) <= MAX_VALUE_CHARS:
        m = re.search(r"(?:^|[,\n]\s*)Model: ([^,\n]{1,200})", text)
        if m:
            return m.group(1).strip()
    for key in ("prompt", "invokeai_metadata", "sd-metadata"):
        value = meta.get(key)
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            continue
        try:
            found = _model_in(json.loads(value))
        except (ValueError, RecursionError):
            continue
        if found:
            return found
    return None
