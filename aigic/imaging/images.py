"""Reading untrusted images.

    path | bytes | PIL.Image --load_image()--> (RGB PIL.Image, metadata dict)
                             --to_array(size)--> RGB uint8 (H, W, 3) at the coding size

Any mode is accepted (RGBA and LA are composited on white, palette, greyscale, 16-bit, CMYK);
animated images give their first frame. A decompression bomb is refused from the header,
before any pixel is decoded (``max_pixels``, default :data:`MAX_PIXELS`).
"""

from __future__ import annotations

import io
import os
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ImageInputError

MAX_PIXELS = int(os.environ.get("AIGIC_MAX_PIXELS", "64000000"))
MAX_FILE_BYTES = int(os.environ.get("AIGIC_MAX_FILE_BYTES", str(64 << 20)))


def _open(src, max_pixels: int) -> Image.Image:
    if isinstance(src, Image.Image):
        return src
    if isinstance(src, (bytes, bytearray)):
        if len(src) > MAX_FILE_BYTES:
            raise ImageInputError(f"image file of {len(src)} bytes exceeds {MAX_FILE_BYTES}")
        fp = io.BytesIO(bytes(src))
    else:
        path = os.fspath(src)
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise ImageInputError(f"cannot read {path!r}: {exc.strerror}") from None
        if size > MAX_FILE_BYTES:
            raise ImageInputError(f"image file {path!r} of {size} bytes exceeds {MAX_FILE_BYTES}")
        fp = path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = max_pixels
            try:
                im = Image.open(fp)
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except UnidentifiedImageError:
        raise ImageInputError("not a readable image (unknown or damaged format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInputError(
            f"image refused: more than the limit of {max_pixels} pixels (AIGIC_MAX_PIXELS)"
        ) from None
    except (FileNotFoundError, PermissionError) as exc:
        raise ImageInputError(f"cannot read the image: {exc.strerror}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageInputError(f"the image data is damaged or truncated ({exc})") from None
    return im


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "I;16N"):
        a = np.asarray(im, dtype=np.float64)
        hi = 65535.0 if a.max() > 255 else 255.0
        im = Image.fromarray(np.clip(a / hi * 255 + 0.5, 0, 255).astype(np.uint8), "L")
    elif im.mode == "F":
        a = np.nan_to_num(np.asarray(im, dtype=np.float64))
        im = Image.fromarray(np.clip(a * (255 if a.max() <= 1 else 1), 0, 255).astype(np.uint8))
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, im)
    return im.convert("RGB")


def _metadata(im: Image.Image) -> dict:
    """The text chunks of an opened image's ``info``, and its EXIF comment and description."""
    meta = {k: v for k, v in im.info.items() if isinstance(v, (str, bytes))}
    try:
        exif = im.getexif()
        user_comment = exif.get_ifd(0x8769).get(0x9286)
        if user_comment is not None:
            meta["exif_user_comment"] = user_comment
        if exif.get(0x010E):
            meta["exif_image_description"] = exif.get(0x010E)
    except Exception:  # noqa: BLE001, S110 (EXIF is optional, often malformed)
        pass
    return meta


def read_metadata(src, *, max_pixels: int = MAX_PIXELS) -> dict:
    """The metadata :func:`load_image` returns, without decoding the pixels."""
    return _metadata(_open(src, max_pixels))


def load_image(src, *, max_pixels: int = MAX_PIXELS) -> tuple[Image.Image, dict]:
    """Open ``src`` safely; returns the RGB image and its metadata (``info`` and EXIF/XMP)."""
    im = _open(src, max_pixels)
    w, h = im.size
    if w < 1 or h < 1:
        raise ImageInputError(f"image is empty ({w}x{h})")
    if w * h > max_pixels:
        raise ImageInputError(f"image of {w}x{h} pixels exceeds the limit of {max_pixels} pixels")
    meta = _metadata(im)
    try:
        if getattr(im, "n_frames", 1) > 1:
            im.seek(0)
        im.load()
        rgb = _to_rgb(im)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageInputError(f"the image data is damaged or truncated ({exc})") from None
    return rgb, meta


def to_array(im: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """RGB uint8 array (H, W, 3) at ``size`` (Lanczos)."""
    if im.size != size:
        im = im.resize(size, Image.LANCZOS)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)
