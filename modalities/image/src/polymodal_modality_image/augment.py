"""Training-time image augmentation whose geometry is returned, so boxes can follow it.

Geometry is drawn as numbers first (:func:`draw_geometry`: a crop rectangle, an output size and a flip) and
applied by the preprocessor in one resize, so the exact :class:`~polymodal_modality_image.transform.ImageTransform`
is known. Colour jitter (:func:`color_jitter`) changes brightness, contrast and saturation but never hue: toy
captions name colours, and a hue shift would make "red" false.

All randomness comes from the ``random.Random`` the engine passes to the preprocessor, so a row's augmentation
is reproducible and never touches global random state.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

__all__ = ["Augment", "Geometry", "draw_geometry", "color_jitter"]


@dataclass(frozen=True)
class Augment:
    """What to draw in training (the ``image`` slot attributes of the same names).

    Attributes:
        scale_jitter: the long side is drawn uniformly from ``[size * (1 - scale_jitter), size]``.
        crop: minimum fraction of the area a random crop keeps (1 = no cropping).
        flip: probability of a horizontal flip.
        color_jitter: strength of brightness/contrast/saturation jitter.
    """

    scale_jitter: float = 0.25
    crop: float = 1.0
    flip: float = 0.0
    color_jitter: float = 0.2


@dataclass(frozen=True)
class Geometry:
    """A crop ``(x0, y0, w, h)`` of the original image (continuous pixels), the output size and a flip."""

    crop: tuple[float, float, float, float]
    out_w: int
    out_h: int
    flipped: bool


def draw_geometry(width: int, height: int, size: int, aug: Augment | None, rng: random.Random) -> Geometry:
    """Choose the crop, output size and flip for one image.

    Without ``aug`` (evaluation) the whole image is resized so its long side is ``size``. The crop keeps the
    image's aspect ratio within a factor of 4/3 and is then resized *keeping its own aspect ratio*, so nothing
    is ever stretched.
    """
    x0, y0, cw, ch = 0.0, 0.0, float(width), float(height)
    long_side = float(size)
    flipped = False
    if aug is not None:
        if aug.crop < 1.0:
            area = rng.uniform(aug.crop, 1.0) * width * height
            ratio = (width / height) * math.exp(rng.uniform(math.log(3 / 4), math.log(4 / 3)))
            cw = min(float(width), math.sqrt(area * ratio))
            ch = min(float(height), math.sqrt(area / ratio))
            x0 = rng.uniform(0.0, width - cw)
            y0 = rng.uniform(0.0, height - ch)
        if aug.scale_jitter > 0:
            long_side = size * (1.0 - rng.uniform(0.0, aug.scale_jitter))
        flipped = aug.flip > 0 and rng.random() < aug.flip
    scale = long_side / max(cw, ch)
    out_w = max(1, int(round(cw * scale)))
    out_h = max(1, int(round(ch * scale)))
    return Geometry((x0, y0, cw, ch), out_w, out_h, flipped)


def color_jitter(pixels: np.ndarray, strength: float, rng: random.Random) -> np.ndarray:
    """Jitter brightness, contrast and saturation of ``HWC`` float pixels in [0, 1] (in place; returned).

    Each factor is drawn from ``[1 - strength, 1 + strength]``; the result is clipped to [0, 1].
    """
    if strength <= 0:
        return pixels
    brightness = rng.uniform(1 - strength, 1 + strength)
    contrast = rng.uniform(1 - strength, 1 + strength)
    saturation = rng.uniform(1 - strength, 1 + strength)
    pixels *= brightness
    gray = pixels @ np.asarray([0.299, 0.587, 0.114], dtype=pixels.dtype)
    mean = float(gray.mean())
    pixels -= mean
    pixels *= contrast
    pixels += mean
    gray = pixels @ np.asarray([0.299, 0.587, 0.114], dtype=pixels.dtype)
    pixels -= gray[..., None]
    pixels *= saturation
    pixels += gray[..., None]
    np.clip(pixels, 0.0, 1.0, out=pixels)
    return pixels
