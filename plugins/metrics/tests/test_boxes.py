"""Tests of box parsing, IoU and iou_accuracy with hand-worked overlaps."""
from __future__ import annotations

import pytest

from polymodal.errors import DataError, PlanError
from polymodal_plugin_metrics.boxes import box_iou, iou_accuracy, parse_box


@pytest.mark.parametrize("value", ["0,0,10,10", "0 0 10 10", "[0, 0, 10, 10]", (0, 0, 10, 10),
                                   [0.0, 0.0, 10.0, 10.0], ("0", "0", "10", "10")])
def test_parse_box_formats(value):
    assert parse_box(value) == (0.0, 0.0, 10.0, 10.0)


@pytest.mark.parametrize("value", [None, "abc", "1,2,3", (1, 2, 3, 4, 5), {"x0": 1}, ("a", 1, 2, 3),
                                   (0, 0, float("nan"), 1)])
def test_parse_box_rejects(value):
    assert parse_box(value) is None


def test_box_iou_hand_computed():
    # Overlap 5 x 10 = 50; union 100 + 100 - 50 = 150.
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    # Touching edges share no area.
    assert box_iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0
    # A reversed box is degenerate, even though |w * h| would coincide with the reference.
    assert box_iou((10, 10, 0, 0), (0, 0, 10, 10)) == 0.0


def test_iou_accuracy_threshold_and_mean_iou():
    preds = [(0, 0, 10, 10), (5, 0, 15, 10), "abc", None]
    refs = [(0, 0, 10, 20), (0, 0, 10, 10), (0, 0, 1, 1), "0,0,1,1"]
    # IoUs: 0.5 (exactly the threshold counts), 1/3, 0, 0.
    result = iou_accuracy(preds, refs)
    assert result["acc_iou"] == pytest.approx(25.0)
    assert result["miou"] == pytest.approx(100.0 * (0.5 + 1 / 3) / 4)
    assert iou_accuracy(preds, refs, threshold=0.3)["acc_iou"] == pytest.approx(50.0)


def test_iou_accuracy_multi_reference_takes_the_best_box():
    refs = [[(100, 100, 110, 110), "5,0,15,10", (0, 0, 10, 10)]]
    assert iou_accuracy([(0, 0, 10, 10)], refs) == {"acc_iou": 100.0, "miou": 100.0}


def test_iou_accuracy_rejects_bad_references():
    with pytest.raises(DataError, match="no area") as info:
        iou_accuracy([(0, 0, 1, 1), (0, 0, 1, 1)], [(0, 0, 1, 1), (5, 5, 5, 9)])
    assert info.value.row == 1
    with pytest.raises(DataError, match="not a box"):
        iou_accuracy([(0, 0, 1, 1)], ["left half"])
    with pytest.raises(DataError, match="empty"):
        iou_accuracy([(0, 0, 1, 1)], [[]])


def test_iou_accuracy_rejects_bad_threshold():
    with pytest.raises(PlanError, match="threshold"):
        iou_accuracy([(0, 0, 1, 1)], [(0, 0, 1, 1)], threshold=0)
