"""Pictures the page shows, served race-free.

    handler output (numpy array | PIL image | path) --Picture.postprocess--> a PNG file named
        by its content, written once (temporary name, then rename) --gradio's file cache--> page

gr.Image writes an array output to ``<cache>/<hash of its bytes>/image.webp`` every time, with a
plain overwrite. Several outputs showing the same picture at once (the colour grid in the
Encode, Inspect and Decode tabs) rewrite that file while the first is being served: the browser
gets a broken picture (ERR_CONTENT_LENGTH_MISMATCH) and the server logs h11's "Too much data for
declared Content-Length". A Picture hands gradio a file instead, which it copies into its cache
only when the copy is not there yet, under a temporary name renamed into place; and our own
file, once written, is never rewritten either.
"""

from __future__ import annotations

import atexit
import hashlib
import io
import os
import shutil
import tempfile
import threading
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

FOLDER = Path(tempfile.gettempdir()) / f"aigic-app-pictures-{os.getpid()}"
KEEP = 512  # pictures kept on disk; older ones go (gradio has its own copy by then)
_LOCK = threading.Lock()
atexit.register(shutil.rmtree, FOLDER, True)  # this process's pictures go with it


def picture_file(value) -> str | None:
    """``value`` (an array or a PIL image; a path or None passes through) as a PNG file named
    by its content, written once and atomically."""
    if value is None or isinstance(value, (str, Path)):
        return None if value is None else str(value)
    if not isinstance(value, Image.Image):
        array = np.asarray(value)
        array = array.astype(np.uint8) * 255 if array.dtype == bool else array
        value = Image.fromarray(np.ascontiguousarray(array))
    image = value
    buf = io.BytesIO()
    image.save(buf, "PNG", compress_level=1)
    data = buf.getvalue()
    path = FOLDER / f"{hashlib.sha256(data).hexdigest()[:32]}.png"
    with _LOCK:
        if not path.exists():
            FOLDER.mkdir(parents=True, exist_ok=True)
            _trim()
            fd, tmp = tempfile.mkstemp(dir=FOLDER, suffix=".part")
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        else:
            os.utime(path)  # in use again: trimmed last
    return str(path)


def _trim() -> None:
    files = sorted(FOLDER.glob("*.png"), key=lambda p: p.stat().st_mtime)
    for old in files[: max(0, len(files) - KEEP + 1)]:
        old.unlink(missing_ok=True)


def Picture(**options) -> gr.Image:
    """A gr.Image whose outputs reach the page through :func:`picture_file`. Made by wrapping
    the instance's postprocess: a subclass would be a custom component to gradio (its own
    front end, and a .pyi stub written beside this file)."""
    image = gr.Image(**options)
    plain = image.postprocess
    image.postprocess = lambda value: plain(picture_file(value))
    return image
