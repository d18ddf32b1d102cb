"""The geometric transform from an original image to its preprocessed array, and where a row keeps it.

Coordinates are continuous pixel coordinates: pixel ``(i, j)`` covers ``[j, j+1) x [i, i+1)``, so a box
``(x0, y0, x1, y1)`` with ``x1 = width`` spans the whole width. The *original* image is the decoded image after
its EXIF orientation was applied (what a person sees). The *output* frame is the image content in the
preprocessed array: ``out_w x out_h`` pixels at the top left, before padding to the stride.

A point maps as ``u = x * scale_x + offset_x``, ``v = y * scale_y + offset_y``, then ``u = out_w - u`` when the
image was flipped horizontally. Cropping shows as a negative offset. ``scale_x`` and ``scale_y`` differ only by
the rounding of the output size to whole pixels (the aspect ratio is kept).

The preprocessor records each image's transform in the row it was given, under :data:`TRANSFORM_KEY`, keyed by
the image's column: ``row["__image_transform__"]["img"]``. The engine hands every slot preprocessor of a row the
same per-row working copy, encoder slots first and in instruction order, so a BOX slot after the IMAGE slot
finds the exact transform (augmentation included) there. Pure Python: no numpy needed to use it.
"""
from __future__ import annotations

from typing import Any, Mapping, MutableMapping, NamedTuple

__all__ = ["TRANSFORM_KEY", "ImageTransform", "record_transform", "recorded_transforms"]

#: Private row key under which image preprocessors leave ``{column: ImageTransform}``.
TRANSFORM_KEY = "__image_transform__"

Box = tuple[float, float, float, float]


class ImageTransform(NamedTuple):
    """Original image -> preprocessed content frame (see the module docstring).

    The first seven fields are ``(scale_x, scale_y, offset_x, offset_y, flipped, orig_w, orig_h)``; ``out_w`` and
    ``out_h`` give the size of the content in the output (needed to flip, clip and normalise).
    """

    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float
    flipped: bool
    orig_w: int
    orig_h: int
    out_w: int
    out_h: int

    @classmethod
    def resize(cls, orig_w: int, orig_h: int, out_w: int, out_h: int) -> "ImageTransform":
        """The plain resize of the whole image (the evaluation-time transform)."""
        return cls(out_w / orig_w, out_h / orig_h, 0.0, 0.0, False, orig_w, orig_h, out_w, out_h)

    def apply(self, x: float, y: float) -> tuple[float, float]:
        """Map an original-image point into the output frame."""
        u = x * self.scale_x + self.offset_x
        v = y * self.scale_y + self.offset_y
        return (self.out_w - u if self.flipped else u), v

    def invert(self, u: float, v: float) -> tuple[float, float]:
        """Map an output-frame point back to the original image."""
        if self.flipped:
            u = self.out_w - u
        return (u - self.offset_x) / self.scale_x, (v - self.offset_y) / self.scale_y

    def apply_box(self, box: Box, clip: bool = True) -> Box:
        """Map a box into the output frame (corners re-ordered after a flip), clipped to the content."""
        ax, ay = self.apply(box[0], box[1])
        bx, by = self.apply(box[2], box[3])
        x0, x1 = min(ax, bx), max(ax, bx)
        y0, y1 = min(ay, by), max(ay, by)
        if clip:
            x0, x1 = _clip(x0, self.out_w), _clip(x1, self.out_w)
            y0, y1 = _clip(y0, self.out_h), _clip(y1, self.out_h)
        return x0, y0, x1, y1

    def invert_box(self, box: Box, clip: bool = True) -> Box:
        """Map an output-frame box back to the original image, clipped to it."""
        ax, ay = self.invert(box[0], box[1])
        bx, by = self.invert(box[2], box[3])
        x0, x1 = min(ax, bx), max(ax, bx)
        y0, y1 = min(ay, by), max(ay, by)
        if clip:
            x0, x1 = _clip(x0, self.orig_w), _clip(x1, self.orig_w)
            y0, y1 = _clip(y0, self.orig_h), _clip(y1, self.orig_h)
        return x0, y0, x1, y1


def _clip(value: float, limit: float) -> float:
    return min(max(value, 0.0), float(limit))


def record_transform(row: Any, column: str | None, transform: ImageTransform) -> bool:
    """Leave ``transform`` in ``row`` for the later slots of the same row; False if the row is read-only."""
    if not isinstance(row, MutableMapping):
        return False
    # A fresh dict each time: a shallow row copy must never write into the caller's notes.
    notes = dict(row.get(TRANSFORM_KEY) or {})
    notes[column if column is not None else ""] = transform
    row[TRANSFORM_KEY] = notes
    return True


def recorded_transforms(row: Mapping[str, Any] | None) -> dict[str, ImageTransform]:
    """The transforms recorded in ``row`` so far, by image column (empty when none)."""
    if not isinstance(row, Mapping):
        return {}
    notes = row.get(TRANSFORM_KEY)
    if not isinstance(notes, Mapping):
        return {}
    return {str(k): ImageTransform(*v) for k, v in notes.items()}
