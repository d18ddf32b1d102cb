"""Reading images from every form a data row may hold them in, safely.

Accepted values: a file path (``str`` or ``os.PathLike``), ``bytes``, a base64 string (optionally a
``data:image/...;base64,`` URI), a PIL image, a numpy array (``HW`` or ``HWC`` with 1, 3 or 4 channels; ``uint8``,
other integers within 0-255, bool, or float in ``[0, 1]``), or a Hugging Face ``datasets`` image dict
(``{"bytes": ..., "path": ...}``).

Safety: the pixel count is checked from the file header *before* decoding (limit :data:`MAX_PIXELS`, 40
megapixels), PIL's decompression-bomb guard is turned into the same error, truncated or unreadable files and
images smaller than :data:`MIN_SIDE` pixels on a side are rejected. Every failure is a
:class:`~polymodal.errors.DataError` naming the column (and the file); URLs are refused (nothing is downloaded
at run time).

Usage::

    from polymodal_modality_image.io import load_image, read_size
    img = load_image("photo.jpg", column="img")     # PIL RGB image, EXIF orientation applied
    w, h = read_size("photo.jpg")                   # displayed size, from the header only
"""
from __future__ import annotations

import base64
import binascii
import io
import os
import re
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from polymodal.errors import DataError

__all__ = ["MAX_PIXELS", "MIN_SIDE", "load_image", "read_size", "to_uint8_array"]

#: Largest accepted image, in pixels (width x height), checked from the header before decoding.
MAX_PIXELS = 40_000_000
#: Smallest accepted side, in pixels.
MIN_SIDE = 4

_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s_-]+$")
# EXIF orientations 5-8 swap width and height when applied.
_SWAPS = {5, 6, 7, 8}
_ORIENTATION = 0x0112


def _fail(reason: str, column: str | None, source: str | None = None) -> DataError:
    return DataError(reason, column=column, source=source)


def _raw(value: Any, column: str | None) -> tuple[Any, str | None]:
    """Return ``(bytes-like or path or PIL image or array, source)`` for ``value``."""
    if isinstance(value, dict) and ("bytes" in value or "path" in value):
        if value.get("bytes"):
            return bytes(value["bytes"]), value.get("path")
        value = value.get("path")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise _fail("the image value is an empty string", column)
        if text.startswith("data:"):
            head, _, data = text.partition(",")
            if ";base64" not in head:
                raise _fail("a data: URI must be base64-encoded", column)
            return _b64(data, column), None
        if re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I):
            raise _fail(f"'{text[:80]}' is a URL; images are never downloaded at run time: fetch the file and give "
                        "its local path", column)
        if os.path.exists(text):
            if not os.path.isfile(text):
                raise _fail("the image path is not a file", column, text)
            return text, text
        if len(text) >= 32 and _BASE64.match(text):
            return _b64(text, column), None
        raise _fail(f"no such image file: '{text[:200]}'", column, text[:200])
    if isinstance(value, Image.Image):
        return value, None
    if isinstance(value, np.ndarray) or hasattr(value, "__array_interface__"):
        return np.asarray(value), None
    raise _fail(f"cannot read an image from a {type(value).__name__} (give a path, bytes, base64 text, a PIL "
                "image or an HWC array)", column)


def _b64(data: str, column: str | None) -> bytes:
    try:
        return base64.b64decode("".join(data.split()), altchars=b"-_" if ("-" in data or "_" in data) else None,
                                validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _fail(f"invalid base64 image data ({exc})", column) from None


def _check_size(w: int, h: int, column: str | None, source: str | None, max_pixels: int, min_side: int) -> None:
    if w * h > max_pixels:
        raise _fail(f"the image is {w}x{h} = {w * h / 1e6:.1f} megapixels, over the limit of "
                    f"{max_pixels / 1e6:g} megapixels (resize it beforehand)", column, source)
    if min(w, h) < min_side:
        raise _fail(f"the image is {w}x{h} pixels; each side needs at least {min_side}", column, source)


def to_uint8_array(array: np.ndarray, column: str | None = None) -> np.ndarray:
    """An ``HWC`` ``uint8`` array (C = 1, 3 or 4) from an accepted array, or a DataError saying why not."""
    a = np.asarray(array)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3, 4):
        raise _fail(f"an image array must be HW or HWC with 1, 3 or 4 channels, got shape {tuple(array.shape)}",
                    column)
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * 255
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise _fail("the image array holds NaN or infinite values", column)
        if a.size and (a.min() < -1e-6 or a.max() > 1.0 + 1e-6):
            raise _fail(f"a float image array must hold values in [0, 1], found [{a.min():g}, {a.max():g}] "
                        "(divide by 255, or cast to uint8)", column)
        return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    if np.issubdtype(a.dtype, np.integer):
        if a.size and (a.min() < 0 or a.max() > 255):
            raise _fail(f"an integer image array must hold values in 0-255, found {a.min()}-{a.max()}", column)
        return a.astype(np.uint8)
    raise _fail(f"unsupported image array dtype {a.dtype}", column)


def _open(raw: Any, column: str | None, source: str | None, max_pixels: int, min_side: int) -> Image.Image:
    """Open lazily (header only), check the size, then decode."""
    fp = io.BytesIO(raw) if isinstance(raw, bytes) else raw
    with warnings.catch_warnings():
        # PIL warns from 89 MP on; our own, lower limit is enforced below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(fp)
        except Image.DecompressionBombError as exc:
            raise _fail(f"the image is too large to decode safely ({exc})", column, source) from None
        except UnidentifiedImageError:
            raise _fail("not a readable image (unknown format, or not an image file)", column, source) from None
        except OSError as exc:
            raise _fail(f"cannot open the image ({exc})", column, source) from None
        _check_size(img.width, img.height, column, source, max_pixels, min_side)
        try:
            img.load()
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
            raise _fail(f"corrupt or truncated image ({exc})", column, source) from None
    return img


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        top = a.max() if a.size and a.max() > 0 else 1.0
        img = Image.fromarray(np.clip(a / top * 255.0, 0, 255).astype(np.uint8), "L")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent pixels keep arbitrary colours; show the image as a viewer would, over white.
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return img.convert("RGB")


def load_image(value: Any, *, column: str | None = None, max_pixels: int = MAX_PIXELS,
               min_side: int = MIN_SIDE) -> Image.Image:
    """Decode ``value`` into an RGB PIL image with its EXIF orientation applied.

    Args:
        value: any accepted form (see the module docstring).
        column: the data column, for error messages.
        max_pixels: the largest accepted width x height.
        min_side: the smallest accepted side.

    Raises:
        DataError: the value is not a readable image, too large, too small, corrupt, or a URL.
    """
    raw, source = _raw(value, column)
    if isinstance(raw, np.ndarray):
        a = to_uint8_array(raw, column)
        _check_size(a.shape[1], a.shape[0], column, source, max_pixels, min_side)
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[a.shape[2]]
        return _to_rgb(Image.fromarray(a[:, :, 0] if mode == "L" else a, mode))
    if isinstance(raw, Image.Image):
        _check_size(raw.width, raw.height, column, source, max_pixels, min_side)
        img = raw
    else:
        img = _open(raw, column, source, max_pixels, min_side)
    try:
        img = ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError):
        pass  # an unreadable EXIF block: show the image as stored
    return _to_rgb(img)


def read_size(value: Any, *, column: str | None = None) -> tuple[int, int]:
    """The displayed ``(width, height)`` of an image (EXIF orientation applied), reading only the header."""
    raw, source = _raw(value, column)
    if isinstance(raw, np.ndarray):
        return int(raw.shape[1]), int(raw.shape[0])
    if isinstance(raw, Image.Image):
        return _displayed_size(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(raw) if isinstance(raw, bytes) else raw) as img:
                return _displayed_size(img)
        except (OSError, Image.DecompressionBombError, UnidentifiedImageError) as exc:
            raise _fail(f"cannot read the image header ({exc})", column, source) from None


def _displayed_size(img: Image.Image) -> tuple[int, int]:
    w, h = img.size
    try:
        orientation = img.getexif().get(_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError):
        orientation = 1
    return (h, w) if orientation in _SWAPS else (w, h)
