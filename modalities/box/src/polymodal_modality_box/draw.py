"""Drawing boxes on an image and writing the result as a PNG (OpenCV).

Usage::

    from polymodal_modality_box import save_box
    save_box("photo.jpg", [[10, 20, 110, 90]], "out.png", labels=["the red circle"])
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from polymodal.errors import DataError
from polymodal_modality_image.io import load_image

from polymodal_modality_box.bins import parse_box

__all__ = ["PALETTE", "draw_boxes", "save_box"]

#: RGB colours given to successive boxes (high contrast on photos and on the toy world's pale backgrounds).
PALETTE: tuple[tuple[int, int, int], ...] = (
    (255, 0, 255), (0, 200, 255), (255, 128, 0), (0, 255, 0), (255, 0, 0), (0, 0, 255), (255, 255, 0),
)


def draw_boxes(image: Any, boxes: Sequence[Any], labels: Sequence[str] | None = None, *,
               thickness: int | None = None) -> np.ndarray:
    """Return an ``HWC`` RGB uint8 copy of ``image`` with ``boxes`` (pixels, ``x0,y0,x1,y1``) drawn on it.

    Args:
        image: anything :func:`polymodal_modality_image.io.load_image` reads (EXIF orientation is applied,
            matching the pixel frame of predicted boxes).
        boxes: boxes in any form :func:`~polymodal_modality_box.bins.parse_box` reads; ``None`` entries (a
            failed prediction) are skipped.
        labels: optional text per box, written above it.
        thickness: line width in pixels (default: about 1/200 of the image's long side, at least 1).
    """
    import cv2

    if isinstance(boxes, str) or (len(boxes) == 4 and all(isinstance(c, (int, float, np.number)) for c in boxes)):
        boxes = [boxes]  # one box given on its own
    pixels = np.array(load_image(image), dtype=np.uint8)  # a writable copy
    height, width = pixels.shape[:2]
    if labels is not None and len(labels) != len(boxes):
        raise DataError(f"{len(labels)} labels for {len(boxes)} boxes")
    line = thickness if thickness is not None else max(1, round(max(width, height) / 200))
    scale = max(0.3, max(width, height) / 800)
    for i, value in enumerate(boxes):
        if value is None:
            continue
        x0, y0, x1, y1 = parse_box(value)
        # Continuous (x0, x1) covers pixels x0 .. x1-1: draw on the box's own border pixels.
        p0 = (int(round(x0)), int(round(y0)))
        p1 = (max(p0[0], int(round(x1)) - 1), max(p0[1], int(round(y1)) - 1))
        colour = PALETTE[i % len(PALETTE)]
        cv2.rectangle(pixels, p0, p1, colour, line)
        if labels is not None and labels[i]:
            (_, text_h), _ = cv2.getTextSize(str(labels[i]), cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            origin = (p0[0], p0[1] - 3 if p0[1] - 3 >= text_h else min(height - 1, p1[1] + text_h + 3))
            cv2.putText(pixels, str(labels[i]), origin, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)
    return pixels


def save_box(image: Any, boxes: Sequence[Any], path: str | os.PathLike, labels: Sequence[str] | None = None,
             *, thickness: int | None = None) -> Path:
    """Draw ``boxes`` on ``image`` (see :func:`draw_boxes`) and write a PNG to ``path``; return the path.

    The file is PNG whatever its suffix. Parent folders are created.
    """
    import cv2

    pixels = draw_boxes(image, boxes, labels, thickness=thickness)
    ok, data = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - OpenCV's PNG encoder does not fail on uint8 RGB
        raise OSError(f"OpenCV could not encode the image for {path}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data.tobytes())
    return out
