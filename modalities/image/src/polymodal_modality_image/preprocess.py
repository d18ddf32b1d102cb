"""The ``image`` preprocessor: any image value -> a normalised, aspect-preserving array and its transform.

Pipeline (``encode``):

1. decode with :func:`~polymodal_modality_image.io.load_image` (EXIF orientation, RGB, size limits);
2. in training with ``augment`` on: draw a crop, a jittered long side and a flip
   (:mod:`~polymodal_modality_image.augment`); in evaluation: the whole image;
3. resize so the long side is ``size`` pixels **keeping the aspect ratio** (OFASys stretched every image to a
   square), flip, colour-jitter, normalise (``norm``: mean/std 0.5, or ImageNet's);
4. pad on the right and bottom with zeros (the mean colour after normalisation) to a multiple of ``stride``.

``encode`` returns ``{"image": float32 [3, H, W], "valid": bool [H/stride, W/stride], "transform":
ImageTransform}``. Every patch of a single image holds image content, so ``valid`` is all True here; the
adapters' ``collate`` pads the images of a batch to a common size and marks the added patches False. The
transform (original image -> content frame of the array, see :mod:`~polymodal_modality_image.transform`) is
also left in the row under ``row["__image_transform__"][column]``, where a BOX slot of the same row finds it.
"""
from __future__ import annotations

import math
import random
from typing import Any, Mapping

import numpy as np
from PIL import Image

from polymodal.preprocessing import BuildContext, Preprocessor

from polymodal_modality_image.augment import Augment, color_jitter, draw_geometry
from polymodal_modality_image.io import load_image
from polymodal_modality_image.spec import PREPROCESS
from polymodal_modality_image.transform import ImageTransform, record_transform

__all__ = ["NORMS", "ImagePreprocessor", "preprocess_image", "denormalize"]

#: Per-channel (mean, std) of each ``norm`` choice.
NORMS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "half": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}
_DEFAULTS = {a.name: a.default for a in PREPROCESS.attributes}


def preprocess_image(img: Image.Image, *, size: int = 256, stride: int = 16, norm: str = "half",
                     augment: Augment | None = None, rng: random.Random | None = None
                     ) -> tuple[np.ndarray, np.ndarray, ImageTransform]:
    """Resize, augment, normalise and pad one RGB image.

    Args:
        img: an RGB PIL image (see :func:`~polymodal_modality_image.io.load_image`).
        size: the long side after resizing (before scale jitter).
        stride: height and width are padded to a multiple of it.
        norm: a key of :data:`NORMS`.
        augment: what to draw (training), or ``None`` (evaluation: deterministic).
        rng: the random stream for ``augment``.

    Returns:
        ``(image float32 [3, H, W], valid bool [H/stride, W/stride], transform)``.
    """
    width, height = img.size
    geo = draw_geometry(width, height, size, augment, rng or random.Random(0))
    x0, y0, cw, ch = geo.crop
    if (geo.out_w, geo.out_h) != (width, height) or (x0, y0, cw, ch) != (0.0, 0.0, width, height):
        img = img.resize((geo.out_w, geo.out_h), Image.BICUBIC, box=(x0, y0, x0 + cw, y0 + ch))
    pixels = np.asarray(img, dtype=np.float32) / 255.0
    if geo.flipped:
        pixels = pixels[:, ::-1]
    pixels = np.ascontiguousarray(pixels)
    if augment is not None and augment.color_jitter > 0:
        color_jitter(pixels, augment.color_jitter, rng or random.Random(0))
    mean, std = NORMS[norm]
    pixels = (pixels - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    grid_h, grid_w = math.ceil(geo.out_h / stride), math.ceil(geo.out_w / stride)
    out = np.zeros((3, grid_h * stride, grid_w * stride), dtype=np.float32)
    out[:, : geo.out_h, : geo.out_w] = pixels.transpose(2, 0, 1)
    sx, sy = geo.out_w / cw, geo.out_h / ch
    transform = ImageTransform(sx, sy, -x0 * sx, -y0 * sy, geo.flipped, width, height, geo.out_w, geo.out_h)
    return out, np.ones((grid_h, grid_w), dtype=bool), transform


def denormalize(image: np.ndarray, norm: str = "half") -> np.ndarray:
    """Turn a preprocessed ``[3, H, W]`` array back into ``HWC`` uint8 pixels (for looking at it)."""
    mean, std = NORMS[norm]
    pixels = image.transpose(1, 2, 0) * np.asarray(std, np.float32) + np.asarray(mean, np.float32)
    return np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)


class ImagePreprocessor(Preprocessor):
    """The ``image`` preprocessor (encoder side only); see the module docstring.

    Slot attributes: ``size``, ``stride``, ``augment``, ``scale_jitter``, ``crop``, ``flip``, ``color_jitter``,
    ``norm`` (declared in :data:`polymodal_modality_image.spec.PREPROCESS`).
    """

    def __init__(self, slot: Any, ctx: BuildContext) -> None:
        super().__init__(slot, ctx)
        opts = {name: self.attrs.get(name, default) for name, default in _DEFAULTS.items()}
        self.size = int(opts["size"])
        self.stride = int(opts["stride"])
        self.norm = str(opts["norm"])
        self.augment = Augment(float(opts["scale_jitter"]), float(opts["crop"]), float(opts["flip"]),
                               float(opts["color_jitter"])) if opts["augment"] else None

    def encode(self, value: Any, *, train: bool, rng: random.Random, row: Mapping[str, Any]) -> dict[str, Any]:
        img = load_image(value, column=self.slot.column)
        image, valid, transform = preprocess_image(
            img, size=self.size, stride=self.stride, norm=self.norm,
            augment=self.augment if train else None, rng=rng)
        record_transform(row, self.slot.column, transform)
        return {"image": image, "valid": valid, "transform": transform}
