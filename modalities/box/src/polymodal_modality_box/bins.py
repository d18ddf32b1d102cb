"""Boxes as numbers and as location bins (pure Python).

A box is ``(x0, y0, x1, y1)`` in continuous pixel coordinates with ``x0 < x1`` and ``y0 < y1`` (a box over the
whole of a ``W x H`` image is ``(0, 0, W, H)``). A coordinate becomes a bin by its fraction of the preprocessed
image's content width (or height): ``bin = round(u / out_w * (n - 1))``, and back ``u = bin / (n - 1) * out_w``.
Both ends of the range are exact, and the round trip is off by at most half a bin. Normalising by the content
size, not by a fixed canvas, means a bin always names the same place *in the picture*, whatever its size or
aspect ratio; at evaluation time (no augmentation) it is simply the coordinate's fraction of the original image.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from polymodal.errors import DataError

__all__ = ["Box", "parse_box", "LocationBins"]

Box = tuple[float, float, float, float]

_SEPARATORS = re.compile(r"[,\s;]+")


def parse_box(value: Any, column: str | None = None) -> Box:
    """Read a box from text (``"x0,y0,x1,y1"``, commas and/or spaces), 4 numbers (list, tuple, array) or a dict
    with keys ``x0, y0, x1, y1``.

    Raises:
        DataError: not four finite numbers, or no area (``x1 <= x0`` or ``y1 <= y0``).
    """
    if isinstance(value, dict):
        try:
            value = [value[k] for k in ("x0", "y0", "x1", "y1")]
        except KeyError:
            raise DataError(f"a box dict needs keys x0, y0, x1, y1; got {', '.join(map(str, value))}",
                            column=column) from None
    if isinstance(value, str):
        parts: list[Any] = [p for p in _SEPARATORS.split(value.strip().strip("()[]")) if p]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, bytearray)):
        parts = list(value.tolist() if hasattr(value, "tolist") else value)
    else:
        raise DataError(f"expected a box x0,y0,x1,y1, got a {type(value).__name__}", column=column)
    if len(parts) != 4:
        raise DataError(f"a box has 4 numbers x0,y0,x1,y1; got {len(parts)}: {value!r}", column=column)
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise DataError(f"a box has 4 numbers x0,y0,x1,y1; got {value!r}", column=column) from None
    if not all(math.isfinite(n) for n in numbers):
        raise DataError(f"the box {value!r} holds NaN or infinite numbers", column=column)
    x0, y0, x1, y1 = numbers
    if x1 <= x0 or y1 <= y0:
        raise DataError(f"the box {value!r} has no area (it needs x0 < x1 and y0 < y1; is it x,y,w,h?)",
                        column=column)
    return x0, y0, x1, y1


@dataclass(frozen=True)
class LocationBins:
    """The quantisation of coordinates into ``num_bins`` location bins (the ``box.loc`` token space).

    Attributes:
        num_bins: number of bins used.
    """

    num_bins: int = 1000

    def to_bins(self, box: Sequence[float], width: float, height: float) -> list[int]:
        """Bins of a box given in a ``width x height`` frame (coordinates are clipped to the frame)."""
        top = self.num_bins - 1
        sizes = (width, height, width, height)
        return [min(top, max(0, int(round(c / s * top)))) for c, s in zip(box, sizes)]

    def from_bins(self, bins: Sequence[int], width: float, height: float) -> Box:
        """The box (in a ``width x height`` frame) that bins stand for; bins are clipped to the range."""
        top = self.num_bins - 1
        sizes = (width, height, width, height)
        x0, y0, x1, y1 = (min(top, max(0, int(b))) / top * s for b, s in zip(bins, sizes))
        return x0, y0, x1, y1
