"""Object detection evaluator: COCO-style AP at one IoU threshold (mAP@0.5) and the matching F1.

Per image, a prediction is a list of detections ``(box, label)`` or ``(box, label, score)`` (or mappings
with keys ``box``, ``label`` and optional ``score``); a reference is a list of objects ``(box, label)``.
Boxes follow :mod:`polymodal_plugin_metrics.boxes` (pixels, ``x0, y0, x1, y1``).

Per class, detections of the whole corpus are ranked by score, highest first. A generated sequence has no
scores, so a detection without one gets score 1 and ties are broken by its position in its image's list
(earlier first), then by image order: all first detections rank above all second ones. Going down the
ranking, as in COCO, a detection matches the not-yet-matched object of its image and class with the
highest IoU, if that IoU reaches the threshold; otherwise it is a false positive. AP is the area under the
all-point interpolated precision-recall curve (the precision envelope, as in PASCAL VOC 2010+), and mAP
is its mean over the classes that occur in the references (a class never predicted has AP 0; detections of
classes absent from the references do not enter mAP but are false positives for F1).

Usage::

    from polymodal_plugin_metrics.detection import detection_map
    detection_map([[((0, 0, 10, 10), "cat", 0.9)]], [[((0, 0, 10, 10), "cat"), ((20, 20, 30, 30), "dog")]])
    # cat AP 1, dog AP 0 -> {"map50": 50.0, "f1": 66.7}
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Sequence

from polymodal.errors import DataError, PlanError

from ._inputs import as_text, check_pair, normalize_text, parse_float
from .boxes import Box, box_iou, parse_box, reference_boxes

__all__ = ["detection_map", "average_precision"]


@dataclass(frozen=True)
class _Detection:
    score: float
    position: int
    image: int
    box: Box | None
    label: str


def _fields(item: Any) -> tuple[Any, Any, Any] | None:
    if isinstance(item, Mapping):
        if "box" not in item or "label" not in item:
            return None
        return item["box"], item["label"], item.get("score")
    if isinstance(item, (list, tuple)) and len(item) in (2, 3):
        return item[0], item[1], item[2] if len(item) == 3 else None
    return None


def _objects(name: str, value: Any, row: int, what: str) -> list[Any]:
    if value is None and what == "prediction":
        return []
    if not isinstance(value, (list, tuple)):
        raise DataError(f"{name}: the {what} of an image must be a list of (box, label"
                        f"{', score' if what == 'prediction' else ''}) items, got {type(value).__name__}",
                        row=row)
    return list(value)


def average_precision(is_tp: Sequence[bool], positives: int) -> float:
    """All-point interpolated AP of a ranked list of detections (``True`` = true positive).

    Args:
        is_tp: the ranked detections, best first.
        positives: number of reference objects of the class (the recall denominator).
    """
    if positives <= 0 or not is_tp:
        return 0.0
    recalls, precisions = [0.0], [0.0]
    tp = 0
    for rank, hit in enumerate(is_tp, start=1):
        tp += hit
        recalls.append(tp / positives)
        precisions.append(tp / rank)
    recalls.append(1.0)
    precisions.append(0.0)
    # The envelope makes precision non-increasing in recall: at each recall level, the best precision
    # achievable at that recall or beyond.
    for i in range(len(precisions) - 2, -1, -1):
        precisions[i] = max(precisions[i], precisions[i + 1])
    return sum((recalls[i + 1] - recalls[i]) * precisions[i + 1] for i in range(len(recalls) - 1)
               if recalls[i + 1] != recalls[i])


def detection_map(predictions: Sequence[Any], references: Sequence[Any], *, iou_threshold: float = 0.5,
                  normalize: bool = True) -> dict[str, float]:
    """Mean average precision at one IoU threshold, and F1 of all detections, both x100.

    Args:
        predictions: per image, a list of ``(box, label[, score])`` (``None`` = no detections). Items that
            cannot be read (wrong shape, unparsable box) are ignored; degenerate boxes match nothing.
        references: per image, a list of ``(box, label)`` objects (possibly empty).
        iou_threshold: IoU needed for a match (0 < t <= 1). The result key stays ``map50``.
        normalize: compare labels as lower-cased, trimmed text.

    Returns:
        ``{"map50": mean AP over reference classes, "f1": F1 of precision and recall over all
        detections}``.

    Raises:
        DataError: empty input, mismatched lengths, a reference that is not a list of (box, label) with
            real boxes, or references without any object.
        PlanError: ``iou_threshold`` outside (0, 1].
    """
    name = "detection_map"
    if not 0.0 < iou_threshold <= 1.0:
        raise PlanError(f"{name}: option iou_threshold must be in (0, 1], got {iou_threshold!r}")
    preds, refs = check_pair(name, predictions, references)
    canon = normalize_text if normalize else as_text

    gold: dict[str, dict[int, list[Box]]] = defaultdict(lambda: defaultdict(list))
    for row, ref in enumerate(refs):
        for obj in _objects(name, ref, row, "reference"):
            fields = _fields(obj)
            if fields is None or fields[2] is not None:
                raise DataError(f"{name}: reference object {obj!r} is not a (box, label) pair", row=row)
            box = reference_boxes(name, fields[0], row)
            if len(box) != 1:
                raise DataError(f"{name}: reference object {obj!r} must have exactly one box", row=row)
            gold[canon(fields[1])][row].append(box[0])
    positives = {label: sum(len(boxes) for boxes in images.values()) for label, images in gold.items()}
    if not positives:
        raise DataError(f"{name}: the references contain no objects, so average precision is undefined")

    detections: dict[str, list[_Detection]] = defaultdict(list)
    for row, pred in enumerate(preds):
        for position, item in enumerate(_objects(name, pred, row, "prediction")):
            fields = _fields(item)
            if fields is None:
                continue
            box_value, label, score_value = fields
            score = 1.0 if score_value is None else parse_float(score_value)
            if score is None:
                continue
            detections[canon(label)].append(_Detection(score, position, row, parse_box(box_value), canon(label)))

    true_positives = false_positives = 0
    aps = []
    for label in sorted(set(positives) | set(detections)):
        ranked = sorted(detections.get(label, []), key=lambda d: (-d.score, d.position, d.image))
        images = gold.get(label, {})
        used = {row: [False] * len(boxes) for row, boxes in images.items()}
        hits = []
        for det in ranked:
            best, best_iou = -1, -1.0
            for index, box in enumerate(images.get(det.image, ())):
                overlap = box_iou(det.box, box)
                if not used[det.image][index] and overlap >= iou_threshold and overlap > best_iou:
                    best, best_iou = index, overlap
            if best >= 0:
                used[det.image][best] = True
            hits.append(best >= 0)
        true_positives += sum(hits)
        false_positives += len(hits) - sum(hits)
        if label in positives:
            aps.append(average_precision(hits, positives[label]))
    false_negatives = sum(positives.values()) - true_positives
    denominator = 2 * true_positives + false_positives + false_negatives
    f1 = 2.0 * true_positives / denominator if denominator else 0.0
    return {"map50": 100.0 * sum(aps) / len(aps), "f1": 100.0 * f1}
