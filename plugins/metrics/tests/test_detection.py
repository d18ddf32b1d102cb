"""Tests of detection_map: hand-worked precision-recall curves, matching, ranking and F1."""
from __future__ import annotations

import pytest

from polymodal.errors import DataError, PlanError
from polymodal_plugin_metrics.detection import average_precision, detection_map

A = (0, 0, 10, 10)
B = (20, 20, 30, 30)
FAR = (100, 100, 110, 110)


def test_average_precision_all_point():
    # Ranked T, F, T with 2 positives: (P, R) = (1, .5), (.5, .5), (2/3, 1) -> .5 * 1 + .5 * 2/3.
    assert average_precision([True, False, True], 2) == pytest.approx(0.5 + 1 / 3)
    # The envelope lifts the dip: T, F, F, T -> precision at recall 1 is 1/2.
    assert average_precision([True, False, False, True], 2) == pytest.approx(0.5 + 0.25)
    assert average_precision([], 3) == 0.0
    assert average_precision([True], 4) == pytest.approx(0.25)


def test_detection_map_hand_computed():
    preds = [[(A, "cat", 0.9), (FAR, "cat", 0.8)], [(B, "cat", 0.7)]]
    refs = [[(A, "cat")], [(B, "cat")]]
    result = detection_map(preds, refs)
    assert result["map50"] == pytest.approx(100.0 * (0.5 + 1 / 3))
    # TP = 2, FP = 1, FN = 0 -> F1 = 4 / 5.
    assert result["f1"] == pytest.approx(80.0)


def test_duplicate_detections_are_false_positives():
    preds = [[(A, "cat", 0.9), (A, "cat", 0.8)]]
    result = detection_map(preds, [[(A, "cat")]])
    assert result["map50"] == pytest.approx(100.0)  # the duplicate ranks after full recall
    assert result["f1"] == pytest.approx(100.0 * 2 / 3)


def test_missing_scores_rank_by_position_then_image():
    # Image 0 emits a hit then two misses; image 1 one hit. By position: T(img0) T(img1) F F -> AP 1.
    # Ranking image by image would give T F F T -> AP 0.75.
    preds = [[(A, "cat"), (FAR, "cat"), (FAR, "cat")], [(B, "cat")]]
    refs = [[(A, "cat")], [(B, "cat")]]
    assert detection_map(preds, refs)["map50"] == pytest.approx(100.0)


def test_mean_over_reference_classes_and_f1_counts_foreign_classes():
    preds = [[(A, "Cat ", 0.9), (FAR, "unicorn", 0.95)]]
    refs = [[(A, "cat"), (B, "dog")]]
    result = detection_map(preds, refs)
    # cat AP 1, dog AP 0 (never predicted); "unicorn" is not a reference class, so not in the mean.
    assert result["map50"] == pytest.approx(50.0)
    # TP 1, FP 1 (unicorn), FN 1 (dog) -> 2 / (2 + 1 + 1).
    assert result["f1"] == pytest.approx(50.0)


def test_match_prefers_the_best_unmatched_object():
    near = (0, 0, 10, 12)  # IoU with A = 100/120
    refs = [[(near, "cat"), (A, "cat")]]
    # The first detection takes A (IoU 1), leaving "near" for the second (IoU 100/120 >= .5).
    preds = [[(A, "cat", 0.9), (A, "cat", 0.8)]]
    assert detection_map(preds, refs)["map50"] == pytest.approx(100.0)


def test_iou_threshold_option_and_label_exactness():
    half = (0, 0, 10, 4)  # IoU with A = 0.4
    assert detection_map([[(half, "cat", 1.0)]], [[(A, "cat")]])["map50"] == 0.0
    assert detection_map([[(half, "cat", 1.0)]], [[(A, "cat")]], iou_threshold=0.3)["map50"] == 100.0
    assert detection_map([[(A, "Cat", 1.0)]], [[(A, "cat")]], normalize=False)["map50"] == 0.0


def test_prediction_formats_and_unreadable_items():
    preds = [[{"box": "0,0,10,10", "label": "cat", "score": "0.5"}, "garbage", (A,), (FAR, "cat", "x")],
             None]
    result = detection_map(preds, [[(A, "cat")], []])
    assert result == {"map50": 100.0, "f1": 100.0}


def test_reference_errors():
    with pytest.raises(DataError, match="no objects"):
        detection_map([[]], [[]])
    with pytest.raises(DataError, match="not a"):
        detection_map([[], []], [[(A, "cat")], [(A, "cat", 0.5)]])
    with pytest.raises(DataError, match="list of"):
        detection_map([[]], ["cat at 0,0,10,10"])
    with pytest.raises(DataError, match="no area"):
        detection_map([[]], [[((5, 5, 5, 5), "cat")]])
    with pytest.raises(PlanError, match="iou_threshold"):
        detection_map([[]], [[(A, "cat")]], iou_threshold=1.5)
