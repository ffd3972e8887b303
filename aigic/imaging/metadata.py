"""The prompt an image carries in its own generation metadata.

Sources, tried in order: AUTOMATIC1111 ``parameters``; ComfyUI ``prompt`` (the text of the
text-encode node wired to the sampler's positive input); InvokeAI ``invokeai_metadata``,
``sd-metadata`` and ``Dream``; EXIF UserComment / ImageDescription; XMP ``dc:description``.
Returns ``(prompt, source)`` or ``("", None)``.
"""

from __future__ import annotations

import json
import re
import shlex

_TEXT_KEYS = ("text", "text_g", "prompt", "positive", "string", "value", "clip_l", "t5xxl")


def _a1111(text: str) -> str:
    prompt = re.split(r"\n(?:Negative prompt:|Steps: )", text, maxsplit=1)[0]
    return prompt.strip()


def _comfy_text(graph: dict, ref, depth: int = 0) -> str | None:
    """Follow a ``[node_id, slot]`` link back to a node that holds text."""
    if depth > 12 or not isinstance(ref, list) or not ref:
        return None
    node = graph.get(str(ref[0]))
    if not isinstance(node, dict):
        return None
    inputs = node.get("inputs", {}) if isinstance(node.get("inputs"), dict) else {}
    for key in _TEXT_KEYS:
        if isinstance(inputs.get(key), str) and inputs[key].strip():
            return inputs[key].strip()
    for key in ("conditioning", "positive", "conditioning_1", "text", "clip", "guider"):
        found = _comfy_text(graph, inputs.get(key), depth + 1)
        if found:
            return found
    return None


def _comfy(text: str) -> str | None:
    graph = json.loads(text)
    if not isinstance(graph, dict):
        return None
    nodes = [n for n in graph.values() if isinstance(n, dict)]
    for node in nodes:  # the sampler's positive input first
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        if "positive" in inputs or "guider" in inputs:
            found = _comfy_text(graph, inputs.get("positive") or inputs.get("guider"))
            if found:
                return found
    for node in nodes:  # else the first text-encode node with text
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        if "TextEncode" in str(node.get("class_type", "")) and isinstance(inputs.get("text"), str):
            return inputs["text"].strip()
    return None


def _invoke(key: str, text: str) -> str | None:
    if key == "Dream":
        parts = shlex.split(text) if text.startswith('"') else [text.split(" -")[0]]
        return parts[0].strip() if parts else None
    data = json.loads(text)
    if key == "invokeai_metadata":
        return str(data.get("positive_prompt") or "").strip() or None
    prompt = (data.get("image") or {}).get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(str(p.get("prompt", "")) for p in prompt if isinstance(p, dict))
    return str(prompt).strip() if prompt else None


def _exif_comment(value) -> str | None:
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
    value = str(value).strip("\0 \n")
    return _a1111(value) if value else None


def _xmp(text) -> str | None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    m = re.search(r"<dc:description>.*?<rdf:li[^>]*>(.*?)</rdf:li>", text, re.DOTALL)
    return m.group(1).strip() if m else None


def prompt_from_metadata(meta: dict) -> tuple[str, str | None]:
    """The generation prompt found in ``meta`` (from :func:`aigic.imaging.images.load_image`)."""
    attempts = [
        ("parameters", lambda v: _a1111(v)),
        ("prompt", _comfy),
        ("invokeai_metadata", lambda v: _invoke("invokeai_metadata", v)),
        ("Dream", lambda v: _invoke("Dream", v)),
        ("sd-metadata", lambda v: _invoke("sd-metadata", v)),
        ("exif_user_comment", _exif_comment),
        ("exif_image_description", _exif_comment),
        ("XML:com.adobe.xmp", _xmp),
        ("xmp", _xmp),
    ]
    for key, parse in attempts:
        value = meta.get(key)
        if value is None:
            continue
        if isinstance(value, bytes) and key not in ("exif_user_comment", "xmp"):
            value = value.decode("utf-8", errors="replace")
        try:
            found = parse(value)
        except (ValueError, TypeError, AttributeError, KeyError):
            continue
        if found:
            return found, key
    return "", None
