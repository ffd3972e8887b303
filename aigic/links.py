"""A stream in a link: a few hundred bytes fit in a URL, so a result can be shared as one.

    stream bytes --base64url, no padding--> <base>?s=<token>      (to_link)
    a link, or its token alone --check, decode, parse--> the stream bytes   (from_link)

The app opens such a link by loading the stream and decoding it; ``aigic inspect --link``
prints it. The base URL is the page the link opens: ``AIGIC_LINK_BASE``, else the address the
app runs at. Link data is untrusted input: anything that is not a whole aigic stream within
MAX_LINK_BYTES is refused with one line, as a bad upload is.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from urllib.parse import parse_qs, urlsplit

from .errors import AigicError, FormatError

PARAM = "s"  # the query parameter (or fragment key) that holds the stream
DEFAULT_BASE = "http://127.0.0.1:7860/"
MAX_LINK_BYTES = 6144  # a stream this long is an 8 KiB token: what browsers and servers take
_TOKEN = re.compile(r"[A-Za-z0-9_-]*")


def link_base(page: str | None = None) -> str:
    """The page a link opens: ``AIGIC_LINK_BASE`` when set, else ``page`` (the address the app
    was opened at, when known), else the app's local address."""
    return os.environ.get("AIGIC_LINK_BASE") or page or DEFAULT_BASE


def to_link(data: bytes, base: str | None = None) -> str:
    """``base`` (default :func:`link_base`) with the stream in its query."""
    if len(data) > MAX_LINK_BYTES:
        raise AigicError(
            f"a stream of {len(data)} bytes is too long for a link (at most {MAX_LINK_BYTES}): "
            "share the .aigic file instead"
        )
    base = base or link_base()
    token = base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    parts = urlsplit(base)
    query = "&".join(q for q in (parts.query, f"{PARAM}={token}") if q)
    return parts._replace(query=query, fragment="").geturl()


def token_of(text: str) -> str:
    """The stream token of a link (query ``s=`` or fragment ``#s=``) or of a bare token."""
    text = text.strip()
    if "?" not in text and "#" not in text and "=" not in text and "/" not in text:
        return text
    parts = urlsplit(text)
    for field in (parts.query, parts.fragment):
        found = parse_qs(field).get(PARAM)
        if found:
            return found[0]
    raise FormatError(f"link: it holds no stream (no {PARAM}= in its query or fragment)")


def from_link(text: str) -> bytes:
    """The stream bytes a link (or its token) carries, checked to parse as an aigic stream."""
    from .format.container import parse

    if len(text) > 2 * MAX_LINK_BYTES + 2048:
        raise FormatError(f"link: over {2 * MAX_LINK_BYTES + 2048} characters, not an aigic link")
    token = token_of(text)
    if not token:
        raise FormatError("link: the stream data is empty")
    if not _TOKEN.fullmatch(token) or len(token) % 4 == 1:
        raise FormatError("link: the stream data is not base64url (A-Z, a-z, 0-9, - and _)")
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise FormatError("link: the stream data is not base64url") from None
    if len(data) > MAX_LINK_BYTES:
        raise FormatError(f"link: over {MAX_LINK_BYTES} bytes of stream, more than a link carries")
    parse(data)  # a FormatError naming what is wrong
    return data
