"""Box parsing, intersection-over-union, and the grounding evaluator ``iou_accuracy`` (RefCOCO's Acc@0.5).

Boxes are ``(x0, y0, x1, y1)`` in pixels of the original image, with ``x0 < x1`` and ``y0 < y1``; the
area is ``(x1 - x0) * (y1 - y0)`` (continuous coordinates, no +1). A box may be given as a sequence of four
numbers or as text of four numbers separated by commas and/or spaces (``"10,20,50,80"``). A predicted
box that cannot be parsed, or that is degenerate (zero or negative width or height), has IoU 0 with
everything; a degenerate or unparsable *reference* box is a data error.

Usage::

    from polymodal_plugin_metrics.boxes import iou_accuracy
    iou_accuracy([(0, 0, 10, 10)], [(0, 0, 10, 20)])    # IoU 0.5 -> {"acc_iou": 100.0, "miou": 50.0}
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Sequence

from polymodal.errors import DataError, PlanError

from ._inputs import check_pair, parse_float

__all__ = ["Box", "parse_box", "is_degenerate", "box_iou", "reference_boxes", "iou_accuracy"]

Box = tuple[float, float, float, float]

_SEPARATORS = re.compile(r"[,\s]+")


def parse_box(value: Any) -> Box | None:
    """Read a box from four numbers or from text; ``None`` when it is not four finite numbers."""
    if value is None:
        return None
    if isinstance(value, str):
        parts: list[Any] = [part for part in _SEPARATORS.split(value.strip().strip("()[]")) if part]
    elif isinstance(value, Iterable) and not isinstance(value, dict):
        parts = list(value)
    else:
        return None
    if len(parts) != 4:
        return None
    numbers = [parse_float(part) for part in parts]
    if any(number is None for number in numbers):
        return None
    x0, y0, x1, y1 = numbers  # type: ignore[misc]
    return (x0, y0, x1, y1)


def is_degenerate(box: Box) -> bool:
    """True when the box has no area (``x1 <= x0`` or ``y1 <= y0``)."""
    return box[2] <= box[0] or box[3] <= box[1]


def box_iou(a: Box | None, b: Box | None) -> float:
    """Intersection over union of two boxes; 0 when either is missing or degenerate, or they are disjoint."""
    if a is None or b is None or is_degenerate(a) or is_degenerate(b):
        return 0.0
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    # Only a positive overlap in both directions counts (boxes that merely touch share no area).
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _reference_box(name: str, value: Any, row: int) -> Box:
    box = parse_box(value)
    if box is None:
        raise DataError(f"{name}: reference {value!r} is not a box of four numbers x0,y0,x1,y1", row=row)
    if is_degenerate(box):
        raise DataError(f"{name}: reference box {value!r} has no area (needs x0 < x1 and y0 < y1)", row=row)
    return box


def reference_boxes(name: str, reference: Any, row: int) -> list[Box]:
    """The acceptable reference boxes of one row: a single box, or a list/tuple of boxes.

    Raises:
        DataError: a reference is not a box, is degenerate, or the list is empty.
    """
    if parse_box(reference) is not None:
        return [_reference_box(name, reference, row)]
    if isinstance(reference, (list, tuple)):
        if not reference:
            raise DataError(f"{name}: the list of reference boxes is empty", row=row)
        return [_reference_box(name, alt, row) for alt in reference]
    return [_reference_box(name, reference, row)]


def iou_accuracy(predictions: Sequence[Any], references: Sequence[Any], *, threshold: float = 0.5
                 ) -> dict[str, float]:
    """Acc@IoU>=threshold and mean IoU of one predicted box per row, both x100.

    Args:
        predictions: one box per row (four numbers or text); ``None`` or an unparsable value scores 0.
        references: per row, the reference box or a list/tuple of acceptable boxes (the best IoU counts).
        threshold: the IoU a prediction must reach to be correct (0 < threshold <= 1; RefCOCO uses 0.5).

    Returns:
        ``{"acc_iou": percent of rows with IoU >= threshold, "miou": 100 x mean IoU}``.

    Raises:
        DataError: empty input, mismatched lengths, or a reference that is not a box with an area.
        PlanError: ``threshold`` outside (0, 1].
    """
    name = "iou_accuracy"
    if not 0.0 < threshold <= 1.0:
        raise PlanError(f"{name}: option threshold must be in (0, 1], got {threshold!r}")
    preds, refs = check_pair(name, predictions, references)
    hits = 0
    iou_sum = 0.0
    for row, (pred, ref) in enumerate(zip(preds, refs)):
        box = parse_box(pred)
        best = max(box_iou(box, gold) for gold in reference_boxes(name, ref, row))
        iou_sum += best
        hits += best >= threshold
    return {"acc_iou": 100.0 * hits / len(preds), "miou": 100.0 * iou_sum / len(preds)}
